/*
 * test_log.c: unit tests for lc_log, the one-JSON-object-per-line logger.
 *
 * Each test points the logger at a fresh temporary file, logs, then reads the
 * file back and parses every line with jansson, so the tests check what a log
 * collector would see: valid JSON per line, the right fields in the right order,
 * and messages that round-trip whatever bytes they contain.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "lc_log.h"

#define MAX_LINES 1024

/* Per-test state: the temporary file the logger writes to. */
typedef struct log_fixture {
    int fd;                   /* temporary log file, unlinked, O_APPEND */
    char *text;               /* everything read back, NUL-terminated */
    json_t *lines[MAX_LINES]; /* parsed lines */
    size_t count;             /* lines parsed */
} log_fixture_t;

/* Opens an unlinked temporary file in append mode and returns its fd. */
static int s_temp_fd(void)
{
    const char *dir = getenv("TMPDIR");
    char path[512];
    snprintf(path, sizeof path, "%s/test_log_XXXXXX", dir != NULL && dir[0] ? dir : "/tmp");
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(unlink(path), 0);
    int fl = fcntl(fd, F_GETFL);
    assert_true(fl >= 0);
    assert_int_equal(fcntl(fd, F_SETFL, fl | O_APPEND), 0);
    return fd;
}

static int setup(void **state)
{
    log_fixture_t *fx = calloc(1, sizeof *fx);
    if (fx == NULL)
        return -1;
    fx->fd = s_temp_fd();
    lc_log_init("ledger", LC_LOG_INFO, fx->fd);
    *state = fx;
    return 0;
}

static void s_free_lines(log_fixture_t *fx)
{
    for (size_t i = 0; i < fx->count; i++)
        json_decref(fx->lines[i]);
    fx->count = 0;
    free(fx->text);
    fx->text = NULL;
}

static int teardown(void **state)
{
    log_fixture_t *fx = *state;
    lc_log_init(NULL, LC_LOG_INFO, 2);
    s_free_lines(fx);
    close(fx->fd);
    free(fx);
    return 0;
}

/* Reads back everything written to fd, checks that it is whole lines, and
 * parses each line as one JSON object into fx->lines. */
static void s_read_lines_fd(log_fixture_t *fx, int fd)
{
    s_free_lines(fx);
    off_t size = lseek(fd, 0, SEEK_END);
    assert_true(size >= 0);
    fx->text = malloc((size_t)size + 1);
    assert_non_null(fx->text);
    assert_int_equal(pread(fd, fx->text, (size_t)size, 0), size);
    fx->text[size] = '\0';
    if (size > 0)
        assert_int_equal(fx->text[size - 1], '\n');

    char *p = fx->text;
    while (*p != '\0') {
        char *nl = strchr(p, '\n');
        assert_non_null(nl);
        assert_true(fx->count < MAX_LINES);
        json_error_t jerr;
        json_t *j = json_loadb(p, (size_t)(nl - p), 0, &jerr);
        if (j == NULL)
            fail_msg("line %zu is not JSON: %s: %.*s", fx->count + 1, jerr.text, (int)(nl - p), p);
        assert_true(json_is_object(j));
        fx->lines[fx->count++] = j;
        p = nl + 1;
    }
}

static void s_read_lines(log_fixture_t *fx)
{
    s_read_lines_fd(fx, fx->fd);
}

/* Returns the string field key of obj, failing the test when it is not a string. */
static const char *s_str(json_t *obj, const char *key)
{
    json_t *v = json_object_get(obj, key);
    if (!json_is_string(v))
        fail_msg("field \"%s\" missing or not a string", key);
    return json_string_value(v);
}

/* Must run before any test calls lc_log_init: checks service "unknown", level
 * info and fd 2 by pointing fd 2 at a temporary file. */
static void log_defaults_before_init(void **state)
{
    (void)state;
    log_fixture_t fx = {.fd = s_temp_fd()};
    int saved = dup(2);
    assert_true(saved >= 0);
    assert_int_equal(dup2(fx.fd, 2), 2);

    lc_debug(NULL, "dropped by default");
    lc_info(NULL, "kept by default");

    assert_int_equal(dup2(saved, 2), 2);
    close(saved);
    s_read_lines(&fx);
    assert_int_equal(fx.count, 1);
    assert_string_equal(s_str(fx.lines[0], "service"), "unknown");
    assert_string_equal(s_str(fx.lines[0], "level"), "info");
    assert_string_equal(s_str(fx.lines[0], "msg"), "kept by default");
    s_free_lines(&fx);
    close(fx.fd);
}

static void log_level_names(void **state)
{
    log_fixture_t *fx = *state;
    lc_log_init("ledger", LC_LOG_DEBUG, fx->fd);
    lc_debug(NULL, "d");
    lc_info(NULL, "i");
    lc_warn(NULL, "w");
    lc_error(NULL, "e");
    s_read_lines(fx);
    assert_int_equal(fx->count, 4);
    assert_string_equal(s_str(fx->lines[0], "level"), "debug");
    assert_string_equal(s_str(fx->lines[1], "level"), "info");
    assert_string_equal(s_str(fx->lines[2], "level"), "warn");
    assert_string_equal(s_str(fx->lines[3], "level"), "error");
}

static void log_fields_in_order(void **state)
{
    static const char *const want[] = {"ts", "level", "service", "request_id", "msg"};
    log_fixture_t *fx = *state;
    lc_info("req-42", "batch committed");
    s_read_lines(fx);
    assert_int_equal(fx->count, 1);
    assert_string_equal(s_str(fx->lines[0], "service"), "ledger");
    assert_string_equal(s_str(fx->lines[0], "request_id"), "req-42");
    assert_string_equal(s_str(fx->lines[0], "msg"), "batch committed");
    assert_int_equal(json_object_size(fx->lines[0]), 5);

    /* Order as written in the raw text, not as jansson happens to keep it. */
    const char *prev = fx->text;
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        char quoted[32];
        snprintf(quoted, sizeof quoted, "\"%s\":", want[i]);
        const char *at = strstr(fx->text, quoted);
        assert_non_null(at);
        assert_true(at >= prev);
        prev = at;
    }
    assert_memory_equal(fx->text, "{\"ts\":", 6);
}

static void log_request_id_absent_when_null(void **state)
{
    log_fixture_t *fx = *state;
    lc_info(NULL, "no request");
    s_read_lines(fx);
    assert_int_equal(fx->count, 1);
    assert_null(json_object_get(fx->lines[0], "request_id"));
    assert_string_equal(s_str(fx->lines[0], "msg"), "no request");
}

static void log_escapes_quotes(void **state)
{
    const char *msg = "say \"hi\" \\ back\\slash\nnew line\ttab \x01\x1f /slash";
    log_fixture_t *fx = *state;
    lc_info("rid \"q\"", "%s", msg);
    s_read_lines(fx);
    assert_int_equal(fx->count, 1); /* the embedded newline did not split the line */
    assert_string_equal(s_str(fx->lines[0], "msg"), msg);
    assert_string_equal(s_str(fx->lines[0], "request_id"), "rid \"q\"");
    assert_null(strchr(fx->text, '\t'));
    assert_null(strchr(fx->text, '\x01'));
}

static void log_invalid_utf8_replaced(void **state)
{
    log_fixture_t *fx = *state;
    /* stray continuation, 0xFF, valid é and €, overlong NUL, surrogate, truncated tail */
    lc_info(NULL, "a\x80"
                  "b\xff c\xc3\xa9 \xe2\x82\xac \xc0\x80 \xed\xa0\x80 z\xe2\x82");
    lc_log_kv(LC_LOG_INFO, "r\xfe", "kv", "k\xff", "v\xc3", NULL);
    s_read_lines(fx);
    assert_int_equal(fx->count, 2);
    assert_string_equal(s_str(fx->lines[0], "msg"), "a?b? c\xc3\xa9 \xe2\x82\xac ?? ??? z??");
    assert_string_equal(s_str(fx->lines[1], "request_id"), "r?");
    assert_string_equal(s_str(fx->lines[1], "k?"), "v?");
}

static void log_filters_below_level(void **state)
{
    log_fixture_t *fx = *state;
    lc_debug(NULL, "debug dropped at info");
    lc_info(NULL, "info kept");
    lc_log_kv(LC_LOG_DEBUG, NULL, "kv debug dropped", "k", "v", NULL);
    lc_log_init("ledger", LC_LOG_ERROR, fx->fd);
    lc_warn(NULL, "warn dropped at error");
    lc_error(NULL, "error kept");
    s_read_lines(fx);
    assert_int_equal(fx->count, 2);
    assert_string_equal(s_str(fx->lines[0], "msg"), "info kept");
    assert_string_equal(s_str(fx->lines[1], "msg"), "error kept");
}

static void log_kv_pairs_and_null_value(void **state)
{
    log_fixture_t *fx = *state;
    lc_log_kv(LC_LOG_WARN, "r1", "posted", "transfer_id", "t-1", "amount", "120", "note", NULL,
              NULL);
    s_read_lines(fx);
    assert_int_equal(fx->count, 1);
    json_t *j = fx->lines[0];
    assert_string_equal(s_str(j, "level"), "warn");
    assert_string_equal(s_str(j, "msg"), "posted");
    assert_string_equal(s_str(j, "transfer_id"), "t-1");
    assert_string_equal(s_str(j, "amount"), "120");
    assert_true(json_is_null(json_object_get(j, "note")));
    assert_int_equal(json_object_size(j), 8);

    const char *msg_at = strstr(fx->text, "\"msg\":");
    const char *tid_at = strstr(fx->text, "\"transfer_id\":");
    const char *amt_at = strstr(fx->text, "\"amount\":");
    assert_non_null(msg_at);
    assert_non_null(tid_at);
    assert_non_null(amt_at);
    assert_true(msg_at < tid_at && tid_at < amt_at);
}

static void log_kv_cannot_override_core_fields(void **state)
{
    log_fixture_t *fx = *state;
    lc_log_kv(LC_LOG_INFO, NULL, "real", "msg", "fake", "level", "debug", "service", "x", NULL);
    s_read_lines(fx);
    assert_int_equal(fx->count, 1);
    assert_string_equal(s_str(fx->lines[0], "msg"), "real");
    assert_string_equal(s_str(fx->lines[0], "level"), "info");
    assert_string_equal(s_str(fx->lines[0], "service"), "ledger");
}

static void log_ts_format(void **state)
{
    log_fixture_t *fx = *state;
    lc_info(NULL, "tick");
    s_read_lines(fx);
    assert_int_equal(fx->count, 1);
    const char *ts = s_str(fx->lines[0], "ts");
    assert_int_equal(strlen(ts), 27);
    for (size_t i = 0; i < 27; i++) {
        switch (i) {
        case 4:
        case 7:
            assert_int_equal(ts[i], '-');
            break;
        case 10:
            assert_int_equal(ts[i], 'T');
            break;
        case 13:
        case 16:
            assert_int_equal(ts[i], ':');
            break;
        case 19:
            assert_int_equal(ts[i], '.');
            break;
        case 26:
            assert_int_equal(ts[i], 'Z');
            break;
        default:
            assert_true(ts[i] >= '0' && ts[i] <= '9');
        }
    }
}

static void log_printf_formatting(void **state)
{
    log_fixture_t *fx = *state;
    lc_info(NULL, "batch %d of %s: %05.1f%%", 3, "ledger", 12.5);
    s_read_lines(fx);
    assert_int_equal(fx->count, 1);
    assert_string_equal(s_str(fx->lines[0], "msg"), "batch 3 of ledger: 012.5%");
}

static void log_long_message_round_trips(void **state)
{
    log_fixture_t *fx = *state;
    size_t n = 10000;
    char *big = malloc(n + 1);
    assert_non_null(big);
    for (size_t i = 0; i < n; i++)
        big[i] = (char)('a' + i % 26);
    big[n] = '\0';
    big[5000] = '"'; /* an escape beyond the stack buffer */
    lc_info(NULL, "%s", big);
    lc_log_kv(LC_LOG_INFO, NULL, big, "big", big, NULL);
    s_read_lines(fx);
    assert_int_equal(fx->count, 2);
    assert_string_equal(s_str(fx->lines[0], "msg"), big);
    assert_string_equal(s_str(fx->lines[1], "msg"), big);
    assert_string_equal(s_str(fx->lines[1], "big"), big);
    free(big);
}

static void log_init_null_service_is_unknown(void **state)
{
    log_fixture_t *fx = *state;
    lc_log_init(NULL, LC_LOG_INFO, fx->fd);
    lc_info(NULL, "x");
    lc_log_init("svc\"with quote", LC_LOG_INFO, fx->fd);
    lc_info(NULL, "y");
    s_read_lines(fx);
    assert_int_equal(fx->count, 2);
    assert_string_equal(s_str(fx->lines[0], "service"), "unknown");
    assert_string_equal(s_str(fx->lines[1], "service"), "svc\"with quote");
}

static void log_preserves_errno(void **state)
{
    log_fixture_t *fx = *state;
    errno = ENOENT;
    lc_info(NULL, "x");
    assert_int_equal(errno, ENOENT);
    lc_log_kv(LC_LOG_INFO, NULL, "y", "k", "v", NULL);
    assert_int_equal(errno, ENOENT);
    s_read_lines(fx);
    assert_int_equal(fx->count, 2);
}

static void log_level_parse(void **state)
{
    (void)state;
    assert_int_equal(lc_log_level_parse("debug"), LC_LOG_DEBUG);
    assert_int_equal(lc_log_level_parse("info"), LC_LOG_INFO);
    assert_int_equal(lc_log_level_parse("warn"), LC_LOG_WARN);
    assert_int_equal(lc_log_level_parse("error"), LC_LOG_ERROR);
    assert_int_equal(lc_log_level_parse("ERROR"), LC_LOG_ERROR);
    assert_int_equal(lc_log_level_parse("Warning"), LC_LOG_WARN);
    assert_int_equal(lc_log_level_parse("verbose"), -1);
    assert_int_equal(lc_log_level_parse(""), -1);
    assert_int_equal(lc_log_level_parse("info "), -1);
    assert_int_equal(lc_log_level_parse(NULL), -1);
}

#define THREADS 4
#define LINES_PER_THREAD 250

static void *s_log_thread(void *arg)
{
    int id = (int)(intptr_t)arg;
    char pad[600];
    memset(pad, 'a' + id, sizeof pad - 1);
    pad[sizeof pad - 1] = '\0';
    for (int i = 0; i < LINES_PER_THREAD; i++)
        lc_log_kv(LC_LOG_INFO, NULL, "line", "thread", id == 0 ? "0" : "n", "pad", pad, NULL);
    return NULL;
}

static void log_threads_write_whole_lines(void **state)
{
    log_fixture_t *fx = *state;
    pthread_t th[THREADS];
    for (int i = 0; i < THREADS; i++)
        assert_int_equal(pthread_create(&th[i], NULL, s_log_thread, (void *)(intptr_t)i), 0);
    for (int i = 0; i < THREADS; i++)
        assert_int_equal(pthread_join(th[i], NULL), 0);
    s_read_lines(fx); /* fails on any torn or interleaved line */
    assert_int_equal(fx->count, THREADS * LINES_PER_THREAD);
    size_t zeros = 0;
    for (size_t i = 0; i < fx->count; i++)
        zeros += strcmp(s_str(fx->lines[i], "thread"), "0") == 0;
    assert_int_equal(zeros, LINES_PER_THREAD);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(log_defaults_before_init), /* first: nothing has called init yet */
        cmocka_unit_test_setup_teardown(log_level_names, setup, teardown),
        cmocka_unit_test_setup_teardown(log_fields_in_order, setup, teardown),
        cmocka_unit_test_setup_teardown(log_request_id_absent_when_null, setup, teardown),
        cmocka_unit_test_setup_teardown(log_escapes_quotes, setup, teardown),
        cmocka_unit_test_setup_teardown(log_invalid_utf8_replaced, setup, teardown),
        cmocka_unit_test_setup_teardown(log_filters_below_level, setup, teardown),
        cmocka_unit_test_setup_teardown(log_kv_pairs_and_null_value, setup, teardown),
        cmocka_unit_test_setup_teardown(log_kv_cannot_override_core_fields, setup, teardown),
        cmocka_unit_test_setup_teardown(log_ts_format, setup, teardown),
        cmocka_unit_test_setup_teardown(log_printf_formatting, setup, teardown),
        cmocka_unit_test_setup_teardown(log_long_message_round_trips, setup, teardown),
        cmocka_unit_test_setup_teardown(log_init_null_service_is_unknown, setup, teardown),
        cmocka_unit_test_setup_teardown(log_preserves_errno, setup, teardown),
        cmocka_unit_test(log_level_parse),
        cmocka_unit_test_setup_teardown(log_threads_write_whole_lines, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
