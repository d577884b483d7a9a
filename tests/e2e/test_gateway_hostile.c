/*
 * test_gateway_hostile.c: the gateway under clients that misbehave (issue 8,
 * "hostile input"): a client that sends its headers slowly is cut off after the
 * connection timeout, oversized headers and chunked bodies over the limit are
 * refused, and hundreds of idle connections neither crash the gateway nor keep
 * others from being served. Raw sockets, because a well-behaved HTTP library
 * would not misbehave on purpose.
 */
#include "e2e.h"
#include "lc_time.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <cmocka.h>

#define CONN_TIMEOUT_S 2

static e2e_t s_e;

static int setup(void **state)
{
    (void)state;
    const char *env[] = {"COAL_GATEWAY_CONN_TIMEOUT_S=2", NULL};
    e2e_start(&s_e, false, env, NULL);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    e2e_stop(&s_e);
    return 0;
}

static int s_connect(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(fd >= 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)s_e.port)};
    inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
    assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof sa), 0);
    return fd;
}

static void s_send_all(int fd, const char *data, size_t len)
{
    while (len) {
        ssize_t n = send(fd, data, len, MSG_NOSIGNAL);
        if (n <= 0)
            return; /* the server may close early: that is what some tests expect */
        data += n;
        len -= (size_t)n;
    }
}

/* Reads until the server closes or ms pass; returns the bytes read (malloc'd). */
static char *s_read_until_close(int fd, int ms, bool *closed)
{
    size_t cap = 65536, len = 0;
    char *buf = calloc(1, cap + 1);
    int64_t deadline = lc_mono_ms() + ms;
    *closed = false;
    while (lc_mono_ms() < deadline) {
        struct pollfd p = {.fd = fd, .events = POLLIN};
        int left = (int)(deadline - lc_mono_ms());
        if (poll(&p, 1, left > 0 ? left : 0) <= 0)
            break;
        ssize_t n = recv(fd, buf + len, cap - len, 0);
        if (n <= 0) {
            *closed = true;
            break;
        }
        len += (size_t)n;
        if (len == cap)
            break;
    }
    buf[len] = '\0';
    return buf;
}

static void s_healthy(void)
{
    e2e_resp_t r;
    e2e_http(&s_e, "POST", "/v1/keys", s_e.admin_key, NULL, "{}", NULL, &r);
    assert_int_equal(r.status, 400); /* answered (no Idempotency-Key), so it is serving */
    e2e_resp_clear(&r);
}

static void hostile_slow_headers_are_cut_off_after_the_timeout(void **state)
{
    (void)state;
    int fd = s_connect();
    s_send_all(fd, "POST /v1/keys HTTP/1.1\r\nHost: x\r\n", 34);
    /* Meanwhile another client is served at once. */
    s_healthy();
    bool closed = false;
    int64_t t0 = lc_mono_ms();
    char *got = s_read_until_close(fd, (CONN_TIMEOUT_S + 5) * 1000, &closed);
    int64_t waited = lc_mono_ms() - t0;
    assert_true(closed);
    assert_true(waited < (CONN_TIMEOUT_S + 5) * 1000);
    free(got);
    close(fd);
}

static void hostile_oversized_headers_are_refused(void **state)
{
    (void)state;
    int fd = s_connect();
    size_t n = 200 * 1024;
    char *req = malloc(n + 256);
    int k = snprintf(req, 256, "GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: ");
    memset(req + k, 'a', n);
    memcpy(req + k + n, "\r\n\r\n", 5);
    s_send_all(fd, req, strlen(req));
    bool closed = false;
    char *got = s_read_until_close(fd, 5000, &closed);
    /* libmicrohttpd answers 431 (or 413 on older versions) and closes. */
    assert_true(strstr(got, " 431 ") || strstr(got, " 413 ") || (closed && !*got));
    assert_null(strstr(got, " 200 "));
    free(got);
    free(req);
    close(fd);
    s_healthy();
}

static void hostile_chunked_body_over_the_limit_is_refused(void **state)
{
    (void)state;
    int fd = s_connect();
    char head[512];
    snprintf(head, sizeof head,
             "POST /v1/keys HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\n"
             "Idempotency-Key: chunky\r\nTransfer-Encoding: chunked\r\n\r\n",
             s_e.admin_key);
    s_send_all(fd, head, strlen(head));
    char chunk[8200];
    int k = snprintf(chunk, 16, "2000\r\n");
    memset(chunk + k, 'x', 0x2000);
    memcpy(chunk + k + 0x2000, "\r\n", 2);
    for (int i = 0; i < 10; i++) /* 80 KiB, no Content-Length to refuse it early */
        s_send_all(fd, chunk, (size_t)k + 0x2000 + 2);
    s_send_all(fd, "0\r\n\r\n", 5);
    bool closed = false;
    char *got = s_read_until_close(fd, 5000, &closed);
    assert_non_null(strstr(got, " 413 "));
    assert_non_null(strstr(got, "payload_too_large"));
    free(got);
    close(fd);
    assert_int_equal(th_sql_i64(s_e.db, "SELECT count(*) FROM gateway.idempotency WHERE key = "
                                        "'chunky'"),
                     0);
}

static void hostile_many_idle_connections_do_not_starve_others(void **state)
{
    (void)state;
    enum { N = 300 };
    int fds[N];
    for (int i = 0; i < N; i++) {
        fds[i] = s_connect();
        s_send_all(fds[i], "GET /healthz HTTP/1.1\r\n", 23); /* and never finish */
    }
    int64_t t0 = lc_mono_ms();
    for (int i = 0; i < 20; i++)
        s_healthy();
    /* 20 requests beside 300 stalled connections: served, not queued behind them. */
    assert_true(lc_mono_ms() - t0 < 10000);
    for (int i = 0; i < N; i++)
        close(fds[i]);
    s_healthy();
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(hostile_slow_headers_are_cut_off_after_the_timeout),
        cmocka_unit_test(hostile_oversized_headers_are_refused),
        cmocka_unit_test(hostile_chunked_body_over_the_limit_is_refused),
        cmocka_unit_test(hostile_many_idle_connections_do_not_starve_others),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
