/*
 * lc_bus.c: ROUTER server and Lazy Pirate DEALER client (see lc_bus.h).
 */
#include "lc_bus.h"
#include "lc_err.h"
#include "lc_id.h"
#include "lc_log.h"
#include "lc_time.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

struct lc_bus_server {
    void *sock; /* ROUTER, owned */
};

struct lc_bus_client {
    void *zctx;     /* borrowed */
    char *endpoint; /* owned */
    void *sock;     /* DEALER, owned; replaced after a timed-out attempt */
    lc_curve_t *curve; /* the keys at creation (borrowed): every socket it makes uses them */
};

/* The process's bus keys and policy (lc_bus_set_curve); NULL: loopback only. Set
 * once before any socket exists, read-only afterwards. */
static lc_curve_t *s_curve;

void lc_bus_set_curve(lc_curve_t *curve)
{
    s_curve = curve;
}

int lc_bus_add_peer(const char *endpoint, const char *service)
{
    return s_curve ? lc_curve_add_peer(s_curve, endpoint, service) : LC_OK;
}

static void s_set_common(void *sock)
{
    int linger = 0;
    zmq_setsockopt(sock, ZMQ_LINGER, &linger, sizeof linger);
    int64_t maxmsg = LC_BUS_MAX_FRAME;
    zmq_setsockopt(sock, ZMQ_MAXMSGSIZE, &maxmsg, sizeof maxmsg);
}

/* Applies the security policy to a new socket about to bind (server) or connect
 * to endpoint. Returns 0, or an LC_ERR_* with *err (malloc'd, when err is set). */
static int s_secure(lc_curve_t *curve, void *zctx, void *sock, const char *endpoint, bool server,
                    char **err)
{
    if (!curve) {
        if (lc_curve_endpoint_is_loopback(endpoint))
            return LC_OK;
        if (err) {
            char buf[300];
            snprintf(buf, sizeof buf, "%s is not a loopback endpoint and this process has no "
                     "bus keys: refusing an unauthenticated socket", endpoint);
            *err = strdup(buf);
        }
        return LC_ERR_INVALID;
    }
    if (!lc_curve_wanted(curve, endpoint))
        return LC_OK;
    return server ? lc_curve_server_setup(curve, zctx, sock, err)
                  : lc_curve_client_setup(curve, sock, endpoint, err);
}

/* Options that must be set before a socket binds or connects. */
typedef struct open_opts {
    int sndhwm, rcvhwm;    /* high-water marks; 0: ZeroMQ's default */
    const char *subscribe; /* SUB: the topic */
} open_opts_t;

/* Makes a socket of type, sets the common options, o and the security of
 * endpoint under curve (NULL: none), and binds (server) or connects it. NULL
 * with *err on failure. */
static void *s_open(lc_curve_t *curve, void *zctx, int type, const char *endpoint, bool server,
                    const open_opts_t *o, char **err)
{
    void *sock = zmq_socket(zctx, type);
    if (!sock) {
        if (err)
            *err = strdup(zmq_strerror(errno));
        return NULL;
    }
    s_set_common(sock);
    if (o->sndhwm)
        zmq_setsockopt(sock, ZMQ_SNDHWM, &o->sndhwm, sizeof o->sndhwm);
    if (o->rcvhwm)
        zmq_setsockopt(sock, ZMQ_RCVHWM, &o->rcvhwm, sizeof o->rcvhwm);
    if (o->subscribe)
        zmq_setsockopt(sock, ZMQ_SUBSCRIBE, o->subscribe, strlen(o->subscribe));
    if (s_secure(curve, zctx, sock, endpoint, server, err) != LC_OK) {
        zmq_close(sock);
        return NULL;
    }
    if ((server ? zmq_bind(sock, endpoint) : zmq_connect(sock, endpoint)) != 0) {
        if (err) {
            char buf[300];
            snprintf(buf, sizeof buf, "cannot %s %s: %s", server ? "bind" : "connect to",
                     endpoint, zmq_strerror(errno));
            *err = strdup(buf);
        }
        zmq_close(sock);
        return NULL;
    }
    return sock;
}

lc_bus_server_t *lc_bus_server_new(void *zctx, const char *endpoint, char **err)
{
    const open_opts_t o = {.sndhwm = 100000, .rcvhwm = 100000}; /* queue bursts, not drop */
    void *sock = s_open(s_curve, zctx, ZMQ_ROUTER, endpoint, true, &o, err);
    if (!sock)
        return NULL;
    lc_bus_server_t *srv = calloc(1, sizeof *srv);
    if (!srv) {
        zmq_close(sock);
        return NULL;
    }
    srv->sock = sock;
    return srv;
}

void lc_bus_server_destroy(lc_bus_server_t **srv_p)
{
    if (!srv_p || !*srv_p)
        return;
    zmq_close((*srv_p)->sock);
    free(*srv_p);
    *srv_p = NULL;
}

void *lc_bus_server_socket(lc_bus_server_t *srv)
{
    return srv->sock;
}

/* Reads and discards the rest of a multipart message. */
static void s_drain(void *sock)
{
    int more = 1;
    size_t sz = sizeof more;
    while (zmq_getsockopt(sock, ZMQ_RCVMORE, &more, &sz) == 0 && more) {
        zmq_msg_t m;
        zmq_msg_init(&m);
        zmq_msg_recv(&m, sock, 0);
        zmq_msg_close(&m);
    }
}

static bool s_more(void *sock)
{
    int more = 0;
    size_t sz = sizeof more;
    return zmq_getsockopt(sock, ZMQ_RCVMORE, &more, &sz) == 0 && more;
}

int lc_bus_server_recv(lc_bus_server_t *srv, lc_bus_peer_t *peer, char **data, size_t *len,
                       int timeout_ms)
{
    *data = NULL;
    *len = 0;
    if (timeout_ms != 0) {
        zmq_pollitem_t item = {srv->sock, 0, ZMQ_POLLIN, 0};
        int n = zmq_poll(&item, 1, timeout_ms);
        if (n <= 0)
            return LC_ERR_TIMEOUT;
    }
    zmq_msg_t id;
    zmq_msg_init(&id);
    if (zmq_msg_recv(&id, srv->sock, ZMQ_DONTWAIT) < 0) {
        zmq_msg_close(&id);
        return LC_ERR_TIMEOUT;
    }
    if (!s_more(srv->sock) || zmq_msg_size(&id) > LC_BUS_IDENTITY_MAX) {
        zmq_msg_close(&id);
        s_drain(srv->sock);
        return LC_ERR_PROTO;
    }
    peer->len = zmq_msg_size(&id);
    memcpy(peer->id, zmq_msg_data(&id), peer->len);
    zmq_msg_close(&id);

    zmq_msg_t body;
    zmq_msg_init(&body);
    if (zmq_msg_recv(&body, srv->sock, 0) < 0) {
        zmq_msg_close(&body);
        return LC_ERR_PROTO;
    }
    if (s_more(srv->sock)) { /* exactly one payload frame is allowed */
        zmq_msg_close(&body);
        s_drain(srv->sock);
        return LC_ERR_PROTO;
    }
    size_t n = zmq_msg_size(&body);
    char *copy = malloc(n + 1);
    if (!copy) {
        zmq_msg_close(&body);
        return LC_ERR_NOMEM;
    }
    memcpy(copy, zmq_msg_data(&body), n);
    copy[n] = '\0';
    zmq_msg_close(&body);
    *data = copy;
    *len = n;
    return LC_OK;
}

int lc_bus_server_send(lc_bus_server_t *srv, const lc_bus_peer_t *peer, const char *data,
                       size_t len)
{
    if (zmq_send(srv->sock, peer->id, peer->len, ZMQ_SNDMORE | ZMQ_DONTWAIT) < 0)
        return LC_ERR_IO;
    if (zmq_send(srv->sock, data, len, ZMQ_DONTWAIT) < 0)
        return LC_ERR_IO;
    return LC_OK;
}

int lc_bus_serve(lc_bus_server_t *srv, lc_bus_handler_fn handler, void *ctx,
                 volatile int *stop)
{
    while (!*stop) {
        lc_bus_peer_t peer;
        char *data;
        size_t len;
        int rc = lc_bus_server_recv(srv, &peer, &data, &len, 200);
        if (rc == LC_ERR_TIMEOUT || rc == LC_ERR_PROTO)
            continue;
        if (rc != LC_OK)
            return rc;
        lc_request_t req;
        lc_codec_err_t cerr;
        char *out = NULL;
        size_t outlen = 0;
        if (lc_request_parse(data, len, &req, &cerr) != LC_OK) {
            out = lc_reply_serialize_error(req.type, req.request_id, cerr.code, cerr.message,
                                           &outlen);
        } else if (req.deadline_ms && req.deadline_ms < lc_now_ms()) {
            out = lc_reply_serialize_error(req.type, req.request_id, LC_E_DEADLINE,
                                           "deadline passed before the request was served",
                                           &outlen);
        } else {
            json_t *body = NULL;
            char msg[256] = "";
            const char *code = handler(ctx, &req, &body, msg, sizeof msg);
            if (code)
                out = lc_reply_serialize_error(req.type, req.request_id, code, msg, &outlen);
            else
                out = lc_reply_serialize_ok(req.type, req.request_id, body, &outlen);
            json_decref(body);
        }
        if (out)
            lc_bus_server_send(srv, &peer, out, outlen);
        free(out);
        lc_request_clear(&req);
        free(data);
    }
    return LC_OK;
}

/* ---- journal stream (PUB/SUB) ------------------------------------------------- */

void *lc_bus_pub_new(void *zctx, const char *endpoint, int sndhwm, char **err)
{
    const open_opts_t o = {.sndhwm = sndhwm};
    return s_open(s_curve, zctx, ZMQ_PUB, endpoint, true, &o, err);
}

void *lc_bus_sub_new(void *zctx, const char *endpoint, const char *topic, char **err)
{
    const open_opts_t o = {.subscribe = topic};
    return s_open(s_curve, zctx, ZMQ_SUB, endpoint, false, &o, err);
}

/* ---- client -------------------------------------------------------------------- */

static int s_client_connect(lc_bus_client_t *cli)
{
    char *err = NULL;
    const open_opts_t o = {0};
    cli->sock = s_open(cli->curve, cli->zctx, ZMQ_DEALER, cli->endpoint, false, &o, &err);
    if (!cli->sock) {
        lc_error(NULL, "bus: %s", err ? err : "cannot open a client socket");
        free(err);
        return LC_ERR_IO;
    }
    return LC_OK;
}

lc_bus_client_t *lc_bus_client_new(void *zctx, const char *endpoint)
{
    lc_bus_client_t *cli = calloc(1, sizeof *cli);
    if (!cli)
        return NULL;
    cli->zctx = zctx;
    cli->curve = s_curve;
    cli->endpoint = strdup(endpoint);
    if (!cli->endpoint || s_client_connect(cli) != LC_OK) {
        free(cli->endpoint);
        free(cli);
        return NULL;
    }
    return cli;
}

void lc_bus_client_destroy(lc_bus_client_t **cli_p)
{
    if (!cli_p || !*cli_p)
        return;
    if ((*cli_p)->sock)
        zmq_close((*cli_p)->sock);
    free((*cli_p)->endpoint);
    free(*cli_p);
    *cli_p = NULL;
}

/* Waits until deadline (monotonic ms) for the reply to request_id; stale replies
 * from earlier attempts or calls are discarded. */
static int s_await(lc_bus_client_t *cli, const char *request_id, int64_t deadline,
                   lc_reply_t *out)
{
    for (;;) {
        int64_t left = deadline - lc_mono_ms();
        if (left <= 0)
            return LC_ERR_TIMEOUT;
        zmq_pollitem_t item = {cli->sock, 0, ZMQ_POLLIN, 0};
        if (zmq_poll(&item, 1, (long)left) <= 0)
            continue;
        zmq_msg_t m;
        zmq_msg_init(&m);
        if (zmq_msg_recv(&m, cli->sock, ZMQ_DONTWAIT) < 0) {
            zmq_msg_close(&m);
            continue;
        }
        bool extra = s_more(cli->sock);
        int rc = extra ? LC_ERR_PROTO : lc_reply_parse(zmq_msg_data(&m), zmq_msg_size(&m), out);
        zmq_msg_close(&m);
        if (extra)
            s_drain(cli->sock);
        if (rc != LC_OK)
            continue;
        if (strcmp(out->request_id, request_id) == 0)
            return LC_OK;
        lc_reply_clear(out); /* a late reply to an earlier request */
    }
}

/* Sends one frame, waiting until deadline (monotonic ms) for the socket to take
 * it. A DEALER takes nothing while it has no usable connection, e.g. after its
 * peer refused the handshake (a CURVE server that does not know its key): a
 * blocking send would then wait forever instead of letting the Lazy Pirate
 * retry on a fresh socket. */
static int s_send_until(void *sock, const char *frame, size_t len, int64_t deadline)
{
    for (;;) {
        if (zmq_send(sock, frame, len, ZMQ_DONTWAIT) >= 0)
            return LC_OK;
        if (errno != EAGAIN && errno != EINTR)
            return LC_ERR_IO;
        int64_t left = deadline - lc_mono_ms();
        if (left <= 0)
            return LC_ERR_TIMEOUT;
        zmq_pollitem_t item = {sock, 0, ZMQ_POLLOUT, 0};
        zmq_poll(&item, 1, (long)left);
    }
}

int lc_bus_call(lc_bus_client_t *cli, const char *type, const json_t *body,
                const char *request_id, int timeout_ms, int retries, lc_reply_t *out)
{
    memset(out, 0, sizeof *out);
    char rid[LC_ID_STRLEN + 1];
    if (!request_id) {
        lc_id_t id;
        if (lc_id_new(&id) != LC_OK)
            return LC_ERR_CRYPTO;
        lc_id_format(&id, rid);
        request_id = rid;
    }
    for (int attempt = 0; attempt <= retries; attempt++) {
        if (!cli->sock && s_client_connect(cli) != LC_OK)
            return LC_ERR_IO;
        size_t len;
        char *frame = lc_request_serialize(type, request_id, lc_now_ms() + timeout_ms, body,
                                           &len);
        if (!frame)
            return LC_ERR_NOMEM;
        int64_t deadline = lc_mono_ms() + timeout_ms;
        int rc = s_send_until(cli->sock, frame, len, deadline);
        free(frame);
        if (rc == LC_OK)
            rc = s_await(cli, request_id, deadline, out);
        if (rc == LC_OK)
            return LC_OK;
        /* Lazy Pirate: abandon the socket (and whatever it queued), start afresh. */
        lc_warn(request_id, "no reply to %s from %s within %d ms (attempt %d of %d)", type,
                cli->endpoint, timeout_ms, attempt + 1, retries + 1);
        zmq_close(cli->sock);
        cli->sock = NULL;
    }
    return LC_ERR_TIMEOUT;
}

int lc_bus_call_default(lc_bus_client_t *cli, const char *type, const json_t *body,
                        lc_reply_t *out)
{
    return lc_bus_call(cli, type, body, NULL, LC_BUS_TIMEOUT_MS, LC_BUS_RETRIES, out);
}
