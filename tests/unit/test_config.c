/*
 * test_config.c: unit tests for lc_config, settings from a file plus COAL_*
 * environment overrides.
 *
 * Each test writes its config to a fresh temporary file, loads it, checks what
 * lookups return, and removes the file. Environment variables set by a test use
 * names no real deployment uses (COAL_TEST_*) and are unset before it returns.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lc_config.h"
#include "lc_err.h"

/* Writes content to a new temporary file and returns its path (caller frees
 * and unlinks). n is the byte count, so content may hold NUL bytes. */
static char *s_write_temp_n(const char *content, size_t n)
{
    const char *dir = getenv("TMPDIR");
    char *path = NULL;
    assert_true(asprintf(&path, "%s/test_config_XXXXXX", dir != NULL && dir[0] ? dir : "/tmp") > 0);
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, content, n), (ssize_t)n);
    assert_int_equal(close(fd), 0);
    return path;
}

static char *s_write_temp(const char *content)
{
    return s_write_temp_n(content, strlen(content));
}

static void s_remove(char *path)
{
    unlink(path);
    free(path);
}

/* Loads content, failing the test (with the loader's message) if it is refused. */
static lc_config_t *s_load_ok(const char *content)
{
    char *path = s_write_temp(content);
    char *err = NULL;
    lc_config_t *cfg = lc_config_load(path, &err);
    if (cfg == NULL)
        fail_msg("load failed: %s", err != NULL ? err : "(no message)");
    assert_null(err);
    s_remove(path);
    return cfg;
}

/* Loads content that must be refused; checks that the message names the file
 * and ":<line>:" and contains want. */
static void s_load_fails(const char *content, unsigned line, const char *want)
{
    char *path = s_write_temp(content);
    char *err = NULL;
    lc_config_t *cfg = lc_config_load(path, &err);
    assert_null(cfg);
    assert_non_null(err);
    char where[64];
    snprintf(where, sizeof where, ":%u: ", line);
    if (strncmp(err, path, strlen(path)) != 0 || strstr(err, where) == NULL ||
        strstr(err, want) == NULL)
        fail_msg("unexpected message \"%s\" (want \"%s%s%s\")", err, path, where, want);
    free(err);
    s_remove(path);
}

static void config_reads_key_values(void **state)
{
    (void)state;
    lc_config_t *cfg = s_load_ok("# leading comment\n"
                                 "\n"
                                 "ledger.bind = tcp://127.0.0.1:7001\n"
                                 "   # indented comment\n"
                                 "\t db.pool_size\t=\t8   \n"
                                 "log.level=debug\n"
                                 "x-y_z.0 = a b  c\n");
    assert_non_null(cfg);
    assert_string_equal(lc_config_get(cfg, "ledger.bind", NULL), "tcp://127.0.0.1:7001");
    assert_string_equal(lc_config_get(cfg, "db.pool_size", NULL), "8");
    assert_string_equal(lc_config_get(cfg, "log.level", NULL), "debug");
    assert_string_equal(lc_config_get(cfg, "x-y_z.0", NULL), "a b  c");
    assert_string_equal(lc_config_get(cfg, "missing.key", "fallback"), "fallback");
    assert_null(lc_config_get(cfg, "missing.key", NULL));
    lc_config_destroy(&cfg);
    assert_null(cfg);
}

static void config_inline_comment_stripped(void **state)
{
    (void)state;
    lc_config_t *cfg = s_load_ok("a = 5432 # the port\n"
                                 "b = x#y\n"
                                 "c = # nothing\n");
    assert_string_equal(lc_config_get(cfg, "a", NULL), "5432");
    assert_string_equal(lc_config_get(cfg, "b", NULL), "x");
    assert_string_equal(lc_config_get(cfg, "c", NULL), "");
    lc_config_destroy(&cfg);
}

static void config_quoted_value_keeps_spaces_and_hash(void **state)
{
    (void)state;
    lc_config_t *cfg = s_load_ok("db.conninfo = \"  host=db password=a#b  \"  # comment\n"
                                 "empty = \"\"\n"
                                 "escapes = \"say \\\"hi\\\" c:\\\\tmp\"\n"
                                 "inner = a \"b\" c\n");
    assert_string_equal(lc_config_get(cfg, "db.conninfo", NULL), "  host=db password=a#b  ");
    assert_string_equal(lc_config_get(cfg, "empty", "def"), "");
    assert_string_equal(lc_config_get(cfg, "escapes", NULL), "say \"hi\" c:\\tmp");
    assert_string_equal(lc_config_get(cfg, "inner", NULL), "a \"b\" c");
    lc_config_destroy(&cfg);
}

static void config_quote_errors(void **state)
{
    (void)state;
    s_load_fails("a = 1\nb = \"open\n", 2, "unterminated");
    s_load_fails("b = \"x\" trailing\n", 1, "after quoted value");
    s_load_fails("a = 1\nb = 2\nc = \"bad \\n escape\"\n", 3, "escape");
}

static void config_later_duplicate_overrides(void **state)
{
    (void)state;
    lc_config_t *cfg = s_load_ok("a = first\nb = keep\na = second\n");
    assert_string_equal(lc_config_get(cfg, "a", NULL), "second");
    assert_string_equal(lc_config_get(cfg, "b", NULL), "keep");
    lc_config_destroy(&cfg);
}

static void config_value_may_contain_equals(void **state)
{
    (void)state;
    lc_config_t *cfg = s_load_ok("db.conninfo = host=db port=5432\nempty =\n");
    assert_string_equal(lc_config_get(cfg, "db.conninfo", NULL), "host=db port=5432");
    assert_string_equal(lc_config_get(cfg, "empty", "def"), "");
    lc_config_destroy(&cfg);
}

static void config_crlf_and_no_final_newline(void **state)
{
    (void)state;
    lc_config_t *cfg = s_load_ok("a = 1\r\n# c\r\n\r\nb = two");
    assert_string_equal(lc_config_get(cfg, "a", NULL), "1");
    assert_string_equal(lc_config_get(cfg, "b", NULL), "two");
    lc_config_destroy(&cfg);
}

static void config_missing_equals_reports_line(void **state)
{
    (void)state;
    s_load_fails("a = 1\n\nbogus line\n", 3, "expected key = value");
}

static void config_empty_key_is_error(void **state)
{
    (void)state;
    s_load_fails("# c\n  = value\n", 2, "expected key = value");
}

static void config_bad_key_chars_is_error(void **state)
{
    (void)state;
    s_load_fails("Ledger.Bind = x\n", 1, "invalid key");
    s_load_fails("a = 1\nmy key = x\n", 2, "invalid key");
    s_load_fails("a\"b = x\n", 1, "invalid key");
}

static void config_nul_byte_is_error(void **state)
{
    (void)state;
    static const char content[] = "a = 1\nb = x\0y\n";
    char *path = s_write_temp_n(content, sizeof content - 1);
    char *err = NULL;
    assert_null(lc_config_load(path, &err));
    assert_non_null(err);
    assert_non_null(strstr(err, ":2: "));
    free(err);
    s_remove(path);
}

static void config_missing_file_is_error(void **state)
{
    (void)state;
    const char *path = "/nonexistent-dir-for-test/config.conf";
    char *err = NULL;
    assert_null(lc_config_load(path, &err));
    assert_non_null(err);
    assert_non_null(strstr(err, path));
    assert_non_null(strstr(err, "No such file"));
    free(err);
    assert_null(lc_config_load(path, NULL)); /* err is optional */
}

static void config_directory_is_error(void **state)
{
    (void)state;
    char *err = NULL;
    assert_null(lc_config_load("/", &err));
    assert_non_null(err);
    assert_non_null(strstr(err, "/: "));
    free(err);
}

static void config_env_overrides_file(void **state)
{
    (void)state;
    lc_config_t *cfg = s_load_ok("test.cfg.bind = from-file\ntest.cfg.other = file-only\n");
    assert_string_equal(lc_config_get(cfg, "test.cfg.bind", NULL), "from-file");
    assert_int_equal(setenv("COAL_TEST_CFG_BIND", "from-env", 1), 0);
    assert_string_equal(lc_config_get(cfg, "test.cfg.bind", NULL), "from-env");
    assert_string_equal(lc_config_get(cfg, "test.cfg.other", NULL), "file-only");
    assert_int_equal(setenv("COAL_TEST_CFG_BIND", "", 1), 0); /* set but empty still wins */
    assert_string_equal(lc_config_get(cfg, "test.cfg.bind", NULL), "");
    assert_int_equal(unsetenv("COAL_TEST_CFG_BIND"), 0);
    assert_string_equal(lc_config_get(cfg, "test.cfg.bind", NULL), "from-file");
    lc_config_destroy(&cfg);
}

static void config_env_name_mapping(void **state)
{
    (void)state;
    lc_config_t *cfg = lc_config_load(NULL, NULL);
    assert_non_null(cfg);
    assert_int_equal(setenv("COAL_TEST_BIND_ADDR_V2", "mapped", 1), 0);
    assert_string_equal(lc_config_get(cfg, "test.bind-addr.v2", NULL), "mapped");
    assert_string_equal(lc_config_get(cfg, "test.bind_addr-v2", NULL), "mapped");
    assert_int_equal(unsetenv("COAL_TEST_BIND_ADDR_V2"), 0);
    assert_null(lc_config_get(cfg, "test.bind-addr.v2", NULL));

    /* A key longer than the on-stack name buffer still maps. */
    char key[300], env[310];
    memset(key, 'k', sizeof key - 1);
    key[sizeof key - 1] = '\0';
    key[4] = '.';
    snprintf(env, sizeof env, "COAL_%s", key);
    for (char *p = env + 5; *p; p++)
        *p = *p == '.' ? '_' : 'K';
    assert_int_equal(setenv(env, "long", 1), 0);
    assert_string_equal(lc_config_get(cfg, key, NULL), "long");
    assert_int_equal(unsetenv(env), 0);
    lc_config_destroy(&cfg);
}

static void config_env_only_when_path_null(void **state)
{
    (void)state;
    char *err = (char *)"untouched";
    lc_config_t *cfg = lc_config_load(NULL, &err);
    assert_non_null(cfg);
    assert_null(err);
    assert_string_equal(lc_config_get(cfg, "test.envonly", "def"), "def");
    assert_int_equal(setenv("COAL_TEST_ENVONLY", "yes", 1), 0);
    assert_string_equal(lc_config_get(cfg, "test.envonly", "def"), "yes");
    assert_string_equal(lc_config_get(NULL, "test.envonly", "def"), "yes");
    assert_int_equal(unsetenv("COAL_TEST_ENVONLY"), 0);
    assert_string_equal(lc_config_get(NULL, "test.envonly", "def"), "def");
    lc_config_destroy(&cfg);
}

static void config_destroy_is_idempotent(void **state)
{
    (void)state;
    lc_config_t *cfg = s_load_ok("a = 1\n");
    lc_config_destroy(&cfg);
    assert_null(cfg);
    lc_config_destroy(&cfg);
    assert_null(cfg);
    lc_config_destroy(NULL);
}

static void config_i64_parses(void **state)
{
    (void)state;
    lc_config_t *cfg = s_load_ok("n.pos = 8080\nn.neg = -42\nn.plus = +7\n"
                                 "n.max = 9223372036854775807\nn.min = -9223372036854775808\n");
    int64_t v = 0;
    assert_int_equal(lc_config_get_i64(cfg, "n.pos", 0, 1, 65535, &v), LC_OK);
    assert_int_equal(v, 8080);
    assert_int_equal(lc_config_get_i64(cfg, "n.neg", 0, -100, 100, &v), LC_OK);
    assert_int_equal(v, -42);
    assert_int_equal(lc_config_get_i64(cfg, "n.plus", 0, 0, 10, &v), LC_OK);
    assert_int_equal(v, 7);
    assert_int_equal(lc_config_get_i64(cfg, "n.max", 0, INT64_MIN, INT64_MAX, &v), LC_OK);
    assert_true(v == INT64_MAX);
    assert_int_equal(lc_config_get_i64(cfg, "n.min", 0, INT64_MIN, INT64_MAX, &v), LC_OK);
    assert_true(v == INT64_MIN);
    lc_config_destroy(&cfg);
}

static void config_i64_unset_returns_default(void **state)
{
    (void)state;
    lc_config_t *cfg = s_load_ok("other = 1\n");
    int64_t v = 0;
    assert_int_equal(lc_config_get_i64(cfg, "n.unset", 30, 1, 60, &v), LC_OK);
    assert_int_equal(v, 30);
    /* the default is the caller's choice and is not range checked */
    assert_int_equal(lc_config_get_i64(cfg, "n.unset", -1, 1, 60, &v), LC_OK);
    assert_int_equal(v, -1);
    assert_int_equal(lc_config_get_i64(cfg, "n.unset", 1, 1, 60, NULL), LC_ERR_INVALID);
    lc_config_destroy(&cfg);
}

static void config_i64_range_is_inclusive_and_checked(void **state)
{
    (void)state;
    lc_config_t *cfg = s_load_ok("n.lo = 1\nn.hi = 60\nn.under = 0\nn.over = 61\n");
    int64_t v = 0;
    assert_int_equal(lc_config_get_i64(cfg, "n.lo", 5, 1, 60, &v), LC_OK);
    assert_int_equal(v, 1);
    assert_int_equal(lc_config_get_i64(cfg, "n.hi", 5, 1, 60, &v), LC_OK);
    assert_int_equal(v, 60);
    v = 99;
    assert_int_equal(lc_config_get_i64(cfg, "n.under", 5, 1, 60, &v), LC_ERR_INVALID);
    assert_int_equal(lc_config_get_i64(cfg, "n.over", 5, 1, 60, &v), LC_ERR_INVALID);
    assert_int_equal(v, 99); /* untouched on error */
    lc_config_destroy(&cfg);
}

static void config_i64_rejects_garbage(void **state)
{
    (void)state;
    static const char *const bad[] = {
        "12abc",
        "",
        " 12",
        "12 ",
        "0x10",
        "1.5",
        "--1",
        "+",
        "-",
        "abc",
        "9223372036854775808",
        "-9223372036854775809",
        "99999999999999999999",
    };
    int64_t v = 99;
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        assert_int_equal(setenv("COAL_TEST_N", bad[i], 1), 0);
        if (lc_config_get_i64(NULL, "test.n", 5, INT64_MIN, INT64_MAX, &v) != LC_ERR_INVALID)
            fail_msg("accepted \"%s\"", bad[i]);
    }
    assert_int_equal(v, 99);
    assert_int_equal(setenv("COAL_TEST_N", "0010", 1), 0); /* base 10, not octal */
    assert_int_equal(lc_config_get_i64(NULL, "test.n", 5, INT64_MIN, INT64_MAX, &v), LC_OK);
    assert_int_equal(v, 10);
    assert_int_equal(unsetenv("COAL_TEST_N"), 0);
}

static void config_bool_forms(void **state)
{
    (void)state;
    static const char *const yes[] = {"true", "TRUE", "True", "yes", "Yes", "on", "ON", "1"};
    static const char *const no[] = {"false", "FALSE", "no", "NO", "off", "Off", "0"};
    static const char *const bad[] = {"", "maybe", "2", "y", "n", "t", " true", "truex", "00"};
    int b;
    for (size_t i = 0; i < sizeof yes / sizeof yes[0]; i++) {
        b = -1;
        assert_int_equal(setenv("COAL_TEST_B", yes[i], 1), 0);
        assert_int_equal(lc_config_get_bool(NULL, "test.b", 0, &b), LC_OK);
        assert_int_equal(b, 1);
    }
    for (size_t i = 0; i < sizeof no / sizeof no[0]; i++) {
        b = -1;
        assert_int_equal(setenv("COAL_TEST_B", no[i], 1), 0);
        assert_int_equal(lc_config_get_bool(NULL, "test.b", 1, &b), LC_OK);
        assert_int_equal(b, 0);
    }
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        b = -1;
        assert_int_equal(setenv("COAL_TEST_B", bad[i], 1), 0);
        if (lc_config_get_bool(NULL, "test.b", 1, &b) != LC_ERR_INVALID)
            fail_msg("accepted \"%s\"", bad[i]);
        assert_int_equal(b, -1);
    }
    assert_int_equal(unsetenv("COAL_TEST_B"), 0);
}

static void config_bool_from_file_and_default(void **state)
{
    (void)state;
    lc_config_t *cfg = s_load_ok("feature.x = on\nfeature.y = Off\n");
    int b = -1;
    assert_int_equal(lc_config_get_bool(cfg, "feature.x", 0, &b), LC_OK);
    assert_int_equal(b, 1);
    assert_int_equal(lc_config_get_bool(cfg, "feature.y", 1, &b), LC_OK);
    assert_int_equal(b, 0);
    assert_int_equal(lc_config_get_bool(cfg, "feature.unset", 1, &b), LC_OK);
    assert_int_equal(b, 1);
    assert_int_equal(lc_config_get_bool(cfg, "feature.unset", 0, &b), LC_OK);
    assert_int_equal(b, 0);
    assert_int_equal(lc_config_get_bool(cfg, "feature.x", 0, NULL), LC_ERR_INVALID);
    lc_config_destroy(&cfg);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(config_reads_key_values),
        cmocka_unit_test(config_inline_comment_stripped),
        cmocka_unit_test(config_quoted_value_keeps_spaces_and_hash),
        cmocka_unit_test(config_quote_errors),
        cmocka_unit_test(config_later_duplicate_overrides),
        cmocka_unit_test(config_value_may_contain_equals),
        cmocka_unit_test(config_crlf_and_no_final_newline),
        cmocka_unit_test(config_missing_equals_reports_line),
        cmocka_unit_test(config_empty_key_is_error),
        cmocka_unit_test(config_bad_key_chars_is_error),
        cmocka_unit_test(config_nul_byte_is_error),
        cmocka_unit_test(config_missing_file_is_error),
        cmocka_unit_test(config_directory_is_error),
        cmocka_unit_test(config_env_overrides_file),
        cmocka_unit_test(config_env_name_mapping),
        cmocka_unit_test(config_env_only_when_path_null),
        cmocka_unit_test(config_destroy_is_idempotent),
        cmocka_unit_test(config_i64_parses),
        cmocka_unit_test(config_i64_unset_returns_default),
        cmocka_unit_test(config_i64_range_is_inclusive_and_checked),
        cmocka_unit_test(config_i64_rejects_garbage),
        cmocka_unit_test(config_bool_forms),
        cmocka_unit_test(config_bool_from_file_and_default),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
