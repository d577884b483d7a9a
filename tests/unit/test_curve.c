/*
 * test_curve.c: the bus's CURVE security over real ZeroMQ sockets (lc_curve, and
 * lc_bus with keys). Which endpoints count as loopback; key pairs made once with
 * mode 0600 and refused when others can read them; and, on a CURVE endpoint (mode
 * all, ipc:// in a temp dir): a client with a service key talks, a client with an
 * unknown key is refused by the ZAP handler, a NULL-mechanism client is refused
 * at the greeting, and a key made after the server started is admitted (the keys
 * directory is read again). Without keys, lc_bus refuses non-loopback endpoints.
 */
#include "lc_bus.h"
#include "lc_curve.h"
#include "lc_err.h"
#include "lc_log.h"

#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zmq.h>
#include <cmocka.h>

#define WAIT_MS 10000 /* bound on waiting for a handshake event (not a timing check) */

static char s_tmp[64];

static int s_group_setup(void **state)
{
    (void)state;
    lc_log_init("test_curve", LC_LOG_ERROR, 2);
    snprintf(s_tmp, sizeof s_tmp, "/tmp/test_curve.XXXXXX");
    return mkdtemp(s_tmp) ? 0 : -1;
}

static int s_group_teardown(void **state)
{
    (void)state;
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", s_tmp);
    return system(cmd) == 0 ? 0 : -1;
}

/* A fresh directory under the test's temp dir. */
static void s_dir(char *out, size_t len, const char *name)
{
    snprintf(out, len, "%s/%s", s_tmp, name);
}

static lc_curve_t *s_open(const char *dir, const char *name, lc_curve_mode_t mode)
{
    char *err = NULL;
    lc_curve_t *c = lc_curve_open(dir, name, mode, &err);
    if (!c)
        fail_msg("lc_curve_open(%s, %s): %s", dir, name, err ? err : "?");
    return c;
}

static void curve_loopback_endpoints(void **state)
{
    (void)state;
    const char *local[] = {"ipc:///tmp/x.sock",   "inproc://bus",      "tcp://127.0.0.1:7101",
                           "tcp://127.1.2.3:1",   "tcp://localhost:7101", "tcp://[::1]:7101",
                           "tcp://127.0.0.1:*",   "tcp://10.0.0.1:5;127.0.0.1:7101"};
    const char *remote[] = {"tcp://0.0.0.0:7101",   "tcp://*:7101",       "tcp://10.0.0.5:7101",
                            "tcp://ledger.internal:7101", "tcp://127.example.org:1",
                            "tcp://[::]:7101",      "tcp://eth0:7101",    "pgm://eth0;239.1.1.1:5555",
                            "tcp://127.0.0.1:1;10.0.0.5:7101", "", "udp://127.0.0.1:1"};
    for (size_t i = 0; i < sizeof local / sizeof local[0]; i++)
        if (!lc_curve_endpoint_is_loopback(local[i]))
            fail_msg("%s should count as loopback", local[i]);
    for (size_t i = 0; i < sizeof remote / sizeof remote[0]; i++)
        if (lc_curve_endpoint_is_loopback(remote[i]))
            fail_msg("%s should not count as loopback", remote[i]);
    assert_false(lc_curve_endpoint_is_loopback(NULL));

    lc_curve_mode_t m;
    assert_int_equal(lc_curve_mode_parse("auto", &m), LC_OK);
    assert_int_equal(m, LC_CURVE_AUTO);
    assert_int_equal(lc_curve_mode_parse("all", &m), LC_OK);
    assert_int_equal(m, LC_CURVE_ALL);
    assert_int_equal(lc_curve_mode_parse("on", &m), LC_ERR_INVALID);
    assert_int_equal(lc_curve_mode_parse(NULL, &m), LC_ERR_INVALID);
    assert_int_equal(lc_curve_check_libzmq(NULL), LC_OK);
}

static void curve_key_pair_made_once_with_mode_0600(void **state)
{
    (void)state;
    char dir[128], path[256], pub[64] = "";
    s_dir(dir, sizeof dir, "made/once"); /* parents are made too */
    lc_curve_t *c = s_open(dir, "ledger", LC_CURVE_AUTO);
    char first[LC_CURVE_Z85_LEN + 1];
    snprintf(first, sizeof first, "%s", lc_curve_public_key(c));
    assert_int_equal(strlen(first), LC_CURVE_Z85_LEN);
    assert_true(lc_curve_wanted(c, "tcp://10.0.0.5:7101"));
    assert_false(lc_curve_wanted(c, "ipc:///tmp/x"));
    lc_curve_destroy(&c);
    assert_null(c);

    struct stat st;
    snprintf(path, sizeof path, "%s/ledger.key", dir);
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    assert_int_equal(stat(dir, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0700);
    snprintf(path, sizeof path, "%s/ledger.pub", dir);
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    assert_non_null(fgets(pub, sizeof pub, f));
    fclose(f);
    pub[strcspn(pub, "\n")] = '\0';
    assert_string_equal(pub, first);

    /* Opened again: the same pair, not a new one. */
    c = s_open(dir, "ledger", LC_CURVE_ALL);
    assert_string_equal(lc_curve_public_key(c), first);
    assert_true(lc_curve_wanted(c, "ipc:///tmp/x"));
    lc_curve_destroy(&c);
    lc_curve_destroy(&c); /* idempotent */
}

static void curve_refuses_unsafe_or_malformed_key_files(void **state)
{
    (void)state;
    char dir[128], path[256], *err = NULL;
    s_dir(dir, sizeof dir, "unsafe");
    lc_curve_t *c = s_open(dir, "members", LC_CURVE_AUTO);
    lc_curve_destroy(&c);
    snprintf(path, sizeof path, "%s/members.key", dir);
    assert_int_equal(chmod(path, 0644), 0);
    assert_null(lc_curve_open(dir, "members", LC_CURVE_AUTO, &err));
    assert_non_null(strstr(err, "readable by others"));
    free(err);
    err = NULL;

    /* A pair whose halves do not belong together. */
    char pub[LC_CURVE_Z85_LEN + 1], sec[LC_CURVE_Z85_LEN + 1], other[LC_CURVE_Z85_LEN + 1];
    assert_int_equal(zmq_curve_keypair(pub, sec), 0);
    assert_int_equal(zmq_curve_keypair(other, sec), 0);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fprintf(f, "public = %s\nsecret = %s\n", pub, sec);
    fclose(f);
    assert_int_equal(chmod(path, 0600), 0);
    assert_null(lc_curve_open(dir, "members", LC_CURVE_AUTO, &err));
    assert_non_null(strstr(err, "not a CURVE key pair"));
    free(err);
    err = NULL;

    assert_null(lc_curve_open(dir, "Bad Name", LC_CURVE_AUTO, &err));
    free(err);
}

/* ---- a CURVE server ------------------------------------------------------------ */

typedef struct server {
    void *zctx;
    char endpoint[160];
    volatile int stop;
    int calls;
    int ready;
    pthread_t thread;
} server_t;

static const char *s_echo(void *ctx, const lc_request_t *req, json_t **reply, char *msg,
                          size_t msglen)
{
    (void)msg;
    (void)msglen;
    ((server_t *)ctx)->calls++;
    *reply = json_incref(req->body);
    return NULL;
}

static void *s_serve(void *arg)
{
    server_t *s = arg;
    char *err = NULL;
    lc_bus_server_t *srv = lc_bus_server_new(s->zctx, s->endpoint, &err);
    if (!srv)
        fprintf(stderr, "server: %s\n", err ? err : "?");
    free(err);
    s->ready = srv ? 1 : -1;
    if (srv)
        lc_bus_serve(srv, s_echo, s, &s->stop);
    lc_bus_server_destroy(&srv);
    return NULL;
}

/* Reads the first handshake event from monitor socket mon. */
static int s_next_event(void *mon, uint32_t *value)
{
    zmq_pollitem_t item = {mon, 0, ZMQ_POLLIN, 0};
    if (zmq_poll(&item, 1, WAIT_MS) <= 0)
        return 0;
    uint8_t head[6];
    char addr[256];
    int n = zmq_recv(mon, head, sizeof head, 0);
    (void)zmq_recv(mon, addr, sizeof addr, 0);
    if (n != 6)
        return 0;
    uint16_t ev;
    memcpy(&ev, head, 2);
    memcpy(value, head + 2, 4);
    return ev;
}

/* A raw DEALER on endpoint, CURVE with curve's key when curve is set; monitored
 * (*mon: the PAIR reading its events). Connected after the monitor is in place. */
static void *s_raw_client(void *zctx, lc_curve_t *curve, const char *endpoint, const char *tag,
                          void **mon)
{
    void *sock = zmq_socket(zctx, ZMQ_DEALER);
    int linger = 0;
    zmq_setsockopt(sock, ZMQ_LINGER, &linger, sizeof linger);
    if (curve) {
        char *err = NULL;
        if (lc_curve_client_setup(curve, sock, endpoint, &err) != LC_OK)
            fail_msg("client setup: %s", err ? err : "?");
    }
    char ep[64];
    snprintf(ep, sizeof ep, "inproc://monitor-%s", tag);
    assert_int_equal(zmq_socket_monitor(sock, ep,
                                        ZMQ_EVENT_HANDSHAKE_SUCCEEDED |
                                            ZMQ_EVENT_HANDSHAKE_FAILED_AUTH |
                                            ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL |
                                            ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL),
                     0);
    *mon = zmq_socket(zctx, ZMQ_PAIR);
    zmq_setsockopt(*mon, ZMQ_LINGER, &linger, sizeof linger);
    assert_int_equal(zmq_connect(*mon, ep), 0);
    assert_int_equal(zmq_connect(sock, endpoint), 0);
    return sock;
}

static void s_close_raw(void *sock, void *mon)
{
    zmq_socket_monitor(sock, NULL, 0);
    zmq_close(mon);
    zmq_close(sock);
}

static void bus_curve_admits_service_keys_only(void **state)
{
    (void)state;
    char dir[128], rogue_dir[128], path[256], copy[256];
    s_dir(dir, sizeof dir, "bus");
    s_dir(rogue_dir, sizeof rogue_dir, "rogue");
    lc_curve_t *ledger = s_open(dir, "ledger", LC_CURVE_ALL);
    lc_curve_t *members = s_open(dir, "members", LC_CURVE_ALL);
    /* The intruder has a key of its own and knows the server's public key. */
    lc_curve_t *intruder = s_open(rogue_dir, "members", LC_CURVE_ALL);
    snprintf(path, sizeof path, "%s/ledger.pub", dir);
    snprintf(copy, sizeof copy, "cp %s %s/ledger.pub", path, rogue_dir);
    assert_int_equal(system(copy), 0);

    server_t srv;
    memset(&srv, 0, sizeof srv);
    snprintf(srv.endpoint, sizeof srv.endpoint, "ipc://%s/ledger.sock", s_tmp);
    assert_int_equal(lc_curve_add_peer(members, srv.endpoint, "ledger"), LC_OK);
    assert_int_equal(lc_curve_add_peer(intruder, srv.endpoint, "ledger"), LC_OK);
    srv.zctx = zmq_ctx_new();
    lc_bus_set_curve(ledger);
    pthread_create(&srv.thread, NULL, s_serve, &srv);
    while (!srv.ready)
        usleep(1000);
    assert_int_equal(srv.ready, 1);

    void *zctx = zmq_ctx_new();
    json_t *body = json_pack("{s:s}", "hello", "bus");

    /* 1. A service key talks, through lc_bus as the services use it. */
    lc_bus_set_curve(members);
    lc_bus_client_t *cli = lc_bus_client_new(zctx, srv.endpoint);
    assert_non_null(cli);
    lc_reply_t rep;
    assert_int_equal(lc_bus_call(cli, "test.echo", body, NULL, 5000, 2, &rep), LC_OK);
    assert_true(rep.ok);
    assert_string_equal(json_string_value(json_object_get(rep.body, "hello")), "bus");
    lc_reply_clear(&rep);
    lc_bus_client_destroy(&cli);
    int served = srv.calls;
    assert_int_equal(served, 1);
    uint32_t value = 0;
    void *mon, *raw = s_raw_client(zctx, members, srv.endpoint, "members", &mon);
    assert_int_equal(s_next_event(mon, &value), ZMQ_EVENT_HANDSHAKE_SUCCEEDED);
    s_close_raw(raw, mon);

    /* 2. An unknown key: the ZAP handler answers 400, the client learns it. */
    raw = s_raw_client(zctx, intruder, srv.endpoint, "intruder", &mon);
    assert_int_equal(s_next_event(mon, &value), ZMQ_EVENT_HANDSHAKE_FAILED_AUTH);
    assert_int_equal(value, 400);
    s_close_raw(raw, mon);
    lc_bus_set_curve(intruder);
    cli = lc_bus_client_new(zctx, srv.endpoint);
    assert_non_null(cli);
    assert_int_equal(lc_bus_call(cli, "test.echo", body, NULL, 300, 1, &rep), LC_ERR_TIMEOUT);
    lc_bus_client_destroy(&cli);
    assert_int_equal(srv.calls, served); /* nothing reached the handler */

    /* 3. The NULL mechanism: refused at the greeting, before any ZAP request. */
    lc_curve_stats_t st;
    lc_curve_stats(ledger, &st);
    assert_true(st.admitted >= 2);
    assert_true(st.refused >= 1);
    raw = s_raw_client(zctx, NULL, srv.endpoint, "null", &mon);
    int ev = s_next_event(mon, &value);
    /* The server sees the mechanism mismatch and hangs up; the client is told so
     * (PROTOCOL, MECHANISM_MISMATCH) or just sees the handshake end (NO_DETAIL). */
    if (ev != ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL &&
        !(ev == ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL &&
          value == ZMQ_PROTOCOL_ERROR_ZMTP_MECHANISM_MISMATCH))
        fail_msg("a NULL client on a CURVE endpoint: event 0x%x value 0x%x", ev, value);
    /* A request sent anyway never reaches the handler (the pipe never opened). */
    assert_true(zmq_send(raw, "{}", 2, ZMQ_DONTWAIT) >= 0 || errno == EAGAIN);
    s_close_raw(raw, mon);
    assert_int_equal(srv.calls, served);

    /* 4. A service that makes its key after the server started is admitted: the
     * keys directory changed, so the server reads it again. */
    lc_curve_t *donation = s_open(dir, "donation", LC_CURVE_ALL);
    assert_int_equal(lc_curve_add_peer(donation, srv.endpoint, "ledger"), LC_OK);
    lc_bus_set_curve(donation);
    cli = lc_bus_client_new(zctx, srv.endpoint);
    assert_non_null(cli);
    assert_int_equal(lc_bus_call(cli, "test.echo", body, NULL, 5000, 2, &rep), LC_OK);
    assert_true(rep.ok);
    lc_reply_clear(&rep);
    lc_bus_client_destroy(&cli);
    lc_curve_stats(ledger, &st);
    assert_true(st.reloads >= 2);

    lc_bus_set_curve(NULL);
    json_decref(body);
    zmq_ctx_term(zctx);
    srv.stop = 1;
    pthread_join(srv.thread, NULL);
    zmq_ctx_term(srv.zctx); /* ends the server context's ZAP thread */
    lc_curve_destroy(&donation);
    lc_curve_destroy(&intruder);
    lc_curve_destroy(&members);
    lc_curve_destroy(&ledger);
}

static void bus_without_keys_refuses_non_loopback_endpoints(void **state)
{
    (void)state;
    lc_bus_set_curve(NULL);
    void *zctx = zmq_ctx_new();
    char *err = NULL;
    assert_null(lc_bus_server_new(zctx, "tcp://0.0.0.0:0", &err));
    assert_non_null(strstr(err, "not a loopback endpoint"));
    free(err);
    err = NULL;
    assert_null(lc_bus_pub_new(zctx, "tcp://*:0", 1000, &err));
    free(err);
    err = NULL;
    assert_null(lc_bus_sub_new(zctx, "tcp://10.0.0.5:7102", "journal", &err));
    free(err);
    assert_null(lc_bus_client_new(zctx, "tcp://10.0.0.5:7101"));
    /* A client with keys but no known server for the endpoint refuses too. */
    char dir[128];
    s_dir(dir, sizeof dir, "nopeer");
    lc_curve_t *c = s_open(dir, "gateway", LC_CURVE_AUTO);
    lc_bus_set_curve(c);
    assert_null(lc_bus_client_new(zctx, "tcp://10.0.0.5:7101"));
    lc_bus_set_curve(NULL);
    zmq_ctx_term(zctx);
    lc_curve_destroy(&c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(curve_loopback_endpoints),
        cmocka_unit_test(curve_key_pair_made_once_with_mode_0600),
        cmocka_unit_test(curve_refuses_unsafe_or_malformed_key_files),
        cmocka_unit_test(bus_curve_admits_service_keys_only),
        cmocka_unit_test(bus_without_keys_refuses_non_loopback_endpoints),
    };
    return cmocka_run_group_tests(tests, s_group_setup, s_group_teardown);
}
