/*
 * test_bus.c: the bus over real ZeroMQ sockets (ipc:// in a temp dir): a ROUTER
 * server loop and the Lazy Pirate client, including a server that is down, one
 * that answers too late, and malformed requests.
 */
#include "lc_bus.h"
#include "lc_err.h"
#include "lc_log.h"
#include "lc_time.h"

#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zmq.h>
#include <cmocka.h>

typedef struct server_ctx {
    void *zctx;
    char endpoint[128];
    volatile int stop;
    int delay_ms;       /* answer this late */
    int calls;          /* requests the handler saw */
    pthread_t thread;
    int ready;
} server_ctx_t;

/* Echoes the body back, after an optional delay; "fail" answers an error. */
static const char *s_handler(void *ctx, const lc_request_t *req, json_t **reply_body, char *msg,
                             size_t msglen)
{
    server_ctx_t *sc = ctx;
    sc->calls++;
    if (sc->delay_ms)
        usleep((useconds_t)sc->delay_ms * 1000);
    if (!strcmp(req->type, "test.fail")) {
        snprintf(msg, msglen, "asked to fail");
        return LC_E_INVALID_FIELD;
    }
    *reply_body = json_incref(req->body);
    return NULL;
}

static void *s_serve(void *arg)
{
    server_ctx_t *sc = arg;
    char *err = NULL;
    lc_bus_server_t *srv = lc_bus_server_new(sc->zctx, sc->endpoint, &err);
    free(err);
    sc->ready = srv ? 1 : -1;
    if (srv)
        lc_bus_serve(srv, s_handler, sc, &sc->stop);
    lc_bus_server_destroy(&srv);
    return NULL;
}

static void s_start(server_ctx_t *sc, void *zctx, const char *endpoint, int delay_ms)
{
    memset(sc, 0, sizeof *sc);
    sc->zctx = zctx;
    sc->delay_ms = delay_ms;
    snprintf(sc->endpoint, sizeof sc->endpoint, "%s", endpoint);
    pthread_create(&sc->thread, NULL, s_serve, sc);
    while (!sc->ready)
        usleep(1000);
    assert_int_equal(sc->ready, 1);
}

static void s_stop(server_ctx_t *sc)
{
    sc->stop = 1;
    pthread_join(sc->thread, NULL);
}

static char s_dir[64];

static void s_endpoint(char *out, size_t len, const char *name)
{
    snprintf(out, len, "ipc://%s/%s", s_dir, name);
}

static void bus_call_round_trips_body(void **state)
{
    (void)state;
    void *zctx = zmq_ctx_new();
    char ep[128];
    s_endpoint(ep, sizeof ep, "echo");
    server_ctx_t sc;
    s_start(&sc, zctx, ep, 0);
    lc_bus_client_t *cli = lc_bus_client_new(zctx, ep);
    json_t *body = json_pack("{s:i, s:s}", "n", 42, "s", "x\"y");
    lc_reply_t rep;
    assert_int_equal(lc_bus_call(cli, "test.echo", body, "rid-1", 2000, 0, &rep), LC_OK);
    assert_true(rep.ok);
    assert_string_equal(rep.request_id, "rid-1");
    assert_true(json_equal(rep.body, body));
    lc_reply_clear(&rep);
    assert_int_equal(lc_bus_call(cli, "test.fail", body, NULL, 2000, 0, &rep), LC_OK);
    assert_false(rep.ok);
    assert_string_equal(rep.code, "invalid_field");
    assert_string_equal(rep.message, "asked to fail");
    lc_reply_clear(&rep);
    json_decref(body);
    lc_bus_client_destroy(&cli);
    s_stop(&sc);
    zmq_ctx_term(zctx);
}

static void bus_call_gives_up_after_bounded_retries(void **state)
{
    (void)state;
    void *zctx = zmq_ctx_new();
    char ep[128];
    s_endpoint(ep, sizeof ep, "nobody");
    lc_bus_client_t *cli = lc_bus_client_new(zctx, ep);
    /* Each abandoned attempt is logged; capture the log to count them. */
    int fds[2];
    assert_int_equal(pipe(fds), 0);
    lc_log_init("test_bus", LC_LOG_WARN, fds[1]);
    lc_reply_t rep;
    assert_int_equal(lc_bus_call(cli, "test.echo", NULL, "same", 50, 2, &rep), LC_ERR_TIMEOUT);
    lc_log_init("test_bus", LC_LOG_ERROR, 2);
    close(fds[1]);
    char buf[8192];
    ssize_t n = read(fds[0], buf, sizeof buf - 1);
    close(fds[0]);
    assert_true(n > 0);
    buf[n] = '\0';
    int attempts = 0;
    for (char *p = buf; (p = strstr(p, "no reply to test.echo")); p++)
        attempts++;
    assert_int_equal(attempts, 3); /* the first try and exactly two retries */
    assert_non_null(strstr(buf, "\"request_id\":\"same\""));
    lc_bus_client_destroy(&cli);
    zmq_ctx_term(zctx);
}

static void bus_retry_reaches_a_server_that_starts_late(void **state)
{
    (void)state;
    void *zctx = zmq_ctx_new();
    char ep[128];
    s_endpoint(ep, sizeof ep, "late");
    lc_bus_client_t *cli = lc_bus_client_new(zctx, ep);
    lc_reply_t rep;
    /* First attempt finds no server; the server comes up before a retry. */
    assert_int_equal(lc_bus_call(cli, "test.echo", NULL, NULL, 100, 0, &rep), LC_ERR_TIMEOUT);
    server_ctx_t sc;
    s_start(&sc, zctx, ep, 0);
    json_t *body = json_pack("{s:i}", "k", 7);
    assert_int_equal(lc_bus_call(cli, "test.echo", body, NULL, 500, 5, &rep), LC_OK);
    assert_true(rep.ok);
    assert_true(json_equal(rep.body, body));
    lc_reply_clear(&rep);
    json_decref(body);
    lc_bus_client_destroy(&cli);
    s_stop(&sc);
    zmq_ctx_term(zctx);
}

static void bus_late_reply_is_not_taken_for_the_next_call(void **state)
{
    (void)state;
    void *zctx = zmq_ctx_new();
    char ep[128];
    s_endpoint(ep, sizeof ep, "slow");
    server_ctx_t sc;
    s_start(&sc, zctx, ep, 300);
    lc_bus_client_t *cli = lc_bus_client_new(zctx, ep);
    lc_reply_t rep;
    json_t *first = json_pack("{s:i}", "call", 1);
    json_t *second = json_pack("{s:i}", "call", 2);
    /* The first call gives up before the server answers... */
    assert_int_equal(lc_bus_call(cli, "test.echo", first, "first", 100, 0, &rep), LC_ERR_TIMEOUT);
    /* ...and the second call must get its own reply, not the first one's. */
    assert_int_equal(lc_bus_call(cli, "test.echo", second, "second", 2000, 0, &rep), LC_OK);
    assert_string_equal(rep.request_id, "second");
    assert_true(json_equal(rep.body, second));
    lc_reply_clear(&rep);
    json_decref(first);
    json_decref(second);
    lc_bus_client_destroy(&cli);
    s_stop(&sc);
    zmq_ctx_term(zctx);
}

static void bus_server_answers_malformed_and_expired_requests(void **state)
{
    (void)state;
    void *zctx = zmq_ctx_new();
    char ep[128];
    s_endpoint(ep, sizeof ep, "strict");
    server_ctx_t sc;
    s_start(&sc, zctx, ep, 0);
    void *s = zmq_socket(zctx, ZMQ_DEALER);
    int linger = 0, timeout = 2000;
    zmq_setsockopt(s, ZMQ_LINGER, &linger, sizeof linger);
    zmq_setsockopt(s, ZMQ_RCVTIMEO, &timeout, sizeof timeout);
    assert_int_equal(zmq_connect(s, ep), 0);
    char expired[256];
    snprintf(expired, sizeof expired,
             "{\"v\":1,\"type\":\"test.echo\",\"request_id\":\"old\",\"deadline_ms\":%lld}",
             (long long)(lc_now_ms() - 1000));
    const char *frames[] = {"{oops", expired, "{\"v\":1,\"type\":\"test.echo\"}"};
    const char *codes[] = {"invalid_message", "deadline_exceeded", "invalid_message"};
    for (int i = 0; i < 3; i++) {
        zmq_send(s, frames[i], strlen(frames[i]), 0);
        char buf[1024];
        int n = zmq_recv(s, buf, sizeof buf - 1, 0);
        assert_true(n > 0);
        buf[n] = '\0';
        /* Every reply names the problem; only the expired request had a request id
         * to echo, so only that reply is one a client could match. */
        assert_non_null(strstr(buf, codes[i]));
        if (i == 1) {
            lc_reply_t rep;
            assert_int_equal(lc_reply_parse(buf, (size_t)n, &rep), LC_OK);
            assert_false(rep.ok);
            assert_string_equal(rep.request_id, "old");
            assert_string_equal(rep.code, codes[i]);
            lc_reply_clear(&rep);
        }
    }
    /* The expired request never reached the handler. */
    assert_int_equal(sc.calls, 0);
    zmq_close(s);
    s_stop(&sc);
    zmq_ctx_term(zctx);
}

static int setup(void **state)
{
    (void)state;
    snprintf(s_dir, sizeof s_dir, "/tmp/coal-bus.XXXXXX");
    assert_non_null(mkdtemp(s_dir));
    lc_log_init("test_bus", LC_LOG_ERROR, 2);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", s_dir);
    return system(cmd) == 0 ? 0 : -1;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(bus_call_round_trips_body),
        cmocka_unit_test(bus_call_gives_up_after_bounded_retries),
        cmocka_unit_test(bus_retry_reaches_a_server_that_starts_late),
        cmocka_unit_test(bus_late_reply_is_not_taken_for_the_next_call),
        cmocka_unit_test(bus_server_answers_malformed_and_expired_requests),
    };
    return cmocka_run_group_tests_name("bus", tests, setup, teardown);
}
