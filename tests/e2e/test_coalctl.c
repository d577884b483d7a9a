/*
 * test_coalctl.c: the admin and finance CLI (services/coalctl/) run as a
 * process against the real system: every command's --help, partners and keys,
 * the four-eyes rule with two admin keys (one from the environment, one from a
 * key file), verification and the journal's CSV export, the month's close,
 * statements as CSV and reconciliation, and the exit status and the printed
 * API error of a refused request.
 */
#include "e2e.h"
#include "lc_err.h"
#include "lc_time.h"

#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#define OUT_MAX (1 << 20)

static e2e_t s_e;
static char s_dir[256];   /* where outputs and the key file go */
static char s_admin2_file[300];

typedef struct run {
    int status;           /* exit status */
    char out[OUT_MAX];    /* stdout */
    char err[8192];       /* stderr */
} run_t;

static run_t s_r;

static void s_slurp(const char *path, char *buf, size_t len)
{
    FILE *f = fopen(path, "r");
    size_t n = f ? fread(buf, 1, len - 1, f) : 0;
    buf[n] = '\0';
    if (f)
        fclose(f);
}

/* Runs coalctl with argv (NULL-terminated, without the program) and key (NULL:
 * none in the environment) into s_r. */
static void s_coalctl(const char *key, const char *const *args)
{
    char bin[512], out[300], err[300], url[64];
    snprintf(bin, sizeof bin, "%s/coalctl", getenv("COAL_BIN_DIR"));
    snprintf(out, sizeof out, "%s/out", s_dir);
    snprintf(err, sizeof err, "%s/err", s_dir);
    snprintf(url, sizeof url, "http://127.0.0.1:%d", s_e.port);
    const char *argv[32] = {bin};
    size_t n = 1;
    for (size_t i = 0; args[i] && n < 31; i++)
        argv[n++] = args[i];
    argv[n] = NULL;
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        int o = open(out, O_WRONLY | O_CREAT | O_TRUNC, 0600);
        int e = open(err, O_WRONLY | O_CREAT | O_TRUNC, 0600);
        if (o < 0 || e < 0 || dup2(o, 1) < 0 || dup2(e, 2) < 0)
            _exit(127);
        setenv("COAL_URL", url, 1);
        unsetenv("COAL_API_KEY_FILE");
        if (key)
            setenv("COAL_API_KEY", key, 1);
        else
            unsetenv("COAL_API_KEY");
        execv(bin, (char *const *)argv);
        _exit(127);
    }
    int ws = 0;
    assert_int_equal(waitpid(pid, &ws, 0), pid);
    assert_true(WIFEXITED(ws));
    s_r.status = WEXITSTATUS(ws);
    s_slurp(out, s_r.out, sizeof s_r.out);
    s_slurp(err, s_r.err, sizeof s_r.err);
}

/* Runs and fails the test unless the exit status is want. */
static void s_expect(int want, const char *key, const char *const *args)
{
    s_coalctl(key, args);
    if (s_r.status != want)
        fail_msg("coalctl %s %s: exit %d, expected %d\nstdout: %.500s\nstderr: %.500s", args[0],
                 args[1] ? args[1] : "", s_r.status, want, s_r.out, s_r.err);
}

static json_t *s_json(void)
{
    json_t *j = json_loads(s_r.out, 0, NULL);
    if (!j)
        fail_msg("coalctl printed no JSON: %.500s", s_r.out);
    return j;
}

static int setup(void **state)
{
    (void)state;
    e2e_start(&s_e, true, NULL, NULL);
    snprintf(s_dir, sizeof s_dir, "%s", s_e.secrets);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    e2e_stop(&s_e);
    return 0;
}

static void coalctl_every_command_has_help(void **state)
{
    (void)state;
    s_expect(0, NULL, (const char *[]){"--help", NULL});
    /* Each usage line of the list answers --help without a key. */
    static char list[OUT_MAX];
    snprintf(list, sizeof list, "%s", s_r.out);
    int commands = 0;
    for (char *line = strtok(list, "\n"); line; line = strtok(NULL, "\n")) {
        if (strncmp(line, "  coalctl ", 10))
            continue;
        char words[3][64] = {"", "", ""};
        int n = sscanf(line + 10, "%63s %63s", words[0], words[1]);
        const char *args[4] = {words[0], "--help", NULL, NULL};
        if (n == 2 && words[1][0] >= 'a' && words[1][0] <= 'z') {
            args[1] = words[1];
            args[2] = "--help";
        }
        s_expect(0, NULL, args);
        assert_non_null(strstr(s_r.out, "usage: coalctl"));
        commands++;
    }
    assert_true(commands >= 20);
    s_expect(2, NULL, (const char *[]){"no-such-command", NULL});
    /* A key is never taken from the command line. */
    s_expect(2, NULL, (const char *[]){"--key", s_e.admin_key, "verify", NULL});
    s_expect(2, NULL, (const char *[]){"verify", NULL}); /* no key at all */
}

static void coalctl_partners_keys_and_errors(void **state)
{
    (void)state;
    char file[300];
    snprintf(file, sizeof file, "%s/partner.json", s_dir);
    FILE *f = fopen(file, "w");
    assert_non_null(f);
    fputs("{\"name\":\"CLI Shop\",\"earn_rate\":{\"points\":1,\"per_amount\":100},"
          "\"tariff\":{\"issue_price_micros\":10000,\"redeem_credit_micros\":9000,"
          "\"fee_bps\":150},\"funding\":\"postpaid\"}",
          f);
    fclose(f);
    s_expect(0, s_e.admin_key, (const char *[]){"partners", "create", file, NULL});
    json_t *p = s_json();
    char id[40];
    snprintf(id, sizeof id, "%s", json_string_value(json_object_get(p, "id")));
    assert_non_null(json_string_value(json_object_get(p, "api_key")));
    json_decref(p);
    s_expect(0, s_e.admin_key, (const char *[]){"partners", "get", id, NULL});
    assert_non_null(strstr(s_r.out, "CLI Shop"));
    s_expect(0, s_e.admin_key, (const char *[]){"partners", "list", "--limit", "10", NULL});
    assert_non_null(strstr(s_r.out, id));
    /* A refused request: exit 1 and the API's error on stderr. */
    s_expect(1, s_e.admin_key,
             (const char *[]){"partners", "get", "00000000-0000-7000-8000-0000000000ff", NULL});
    assert_non_null(strstr(s_r.err, "404 not_found"));
    s_expect(1, s_e.admin_key,
             (const char *[]){"keys", "create", "--role", "nobody", "--name", "x", NULL});
    assert_non_null(strstr(s_r.err, "invalid_request"));
    s_expect(2, s_e.admin_key, (const char *[]){"partners", "create", "/nonexistent", NULL});
    /* A second admin key, kept in a file (mode 0600) as an operator would. */
    s_expect(0, s_e.admin_key,
             (const char *[]){"keys", "create", "--role", "admin", "--name", "second", NULL});
    json_t *k = s_json();
    snprintf(s_admin2_file, sizeof s_admin2_file, "%s/admin2.key", s_dir);
    int fd = open(s_admin2_file, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    assert_true(fd >= 0);
    const char *text = json_string_value(json_object_get(k, "api_key"));
    assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    close(fd);
    json_decref(k);
}

static void coalctl_four_eyes_adjustment(void **state)
{
    (void)state;
    /* A member with points, through the HTTP API as a partner would. */
    e2e_resp_t r;
    e2e_http(&s_e, "POST", "/v1/partners", s_e.admin_key, e2e_idem(),
             "{\"name\":\"Adj Shop\",\"earn_rate\":{\"points\":1,\"per_amount\":100},"
             "\"tariff\":{\"issue_price_micros\":1,\"redeem_credit_micros\":1,\"fee_bps\":0},"
             "\"funding\":\"postpaid\"}",
             NULL, &r);
    assert_int_equal(r.status, 201);
    char pkey[128], member[40];
    snprintf(pkey, sizeof pkey, "%s", e2e_str(&r, "api_key"));
    e2e_resp_clear(&r);
    e2e_http(&s_e, "POST", "/v1/members", pkey, e2e_idem(), "{}", NULL, &r);
    assert_int_equal(r.status, 201);
    snprintf(member, sizeof member, "%s", e2e_str(&r, "id"));
    e2e_resp_clear(&r);
    s_expect(0, s_e.admin_key,
             (const char *[]){"adjustments", "propose", "--member", member, "--points", "75",
                              "--reason", "goodwill, ticket 42", NULL});
    json_t *a = s_json();
    char id[40];
    snprintf(id, sizeof id, "%s", json_string_value(json_object_get(a, "id")));
    assert_string_equal(json_string_value(json_object_get(a, "status")), "pending_approval");
    json_decref(a);
    s_expect(1, s_e.admin_key, (const char *[]){"adjustments", "approve", id, NULL});
    assert_non_null(strstr(s_r.err, "403 four_eyes_required"));
    s_expect(0, NULL,
             (const char *[]){"--key-file", s_admin2_file, "adjustments", "approve", id, NULL});
    a = s_json();
    assert_string_equal(json_string_value(json_object_get(a, "status")), "posted");
    json_decref(a);
    s_expect(0, NULL, (const char *[]){"--key-file", s_admin2_file, "adjustments", "get", id,
                                       NULL});
    assert_non_null(strstr(s_r.out, "\"posted\""));
    s_expect(0, s_e.admin_key, (const char *[]){"admin-log", "verify", NULL});
    s_expect(0, s_e.admin_key, (const char *[]){"admin-log", "list", "--all", "--csv", NULL});
    assert_int_equal(strncmp(s_r.out, "seq,at,key_id,key_name,", 23), 0);
    assert_non_null(strstr(s_r.out, "/v1/adjustments/{id}/approve,"));
}

/* Counts CSV records (the journal has no quoted line breaks). */
static int s_lines(const char *s)
{
    int n = 0;
    for (; *s; s++)
        n += *s == '\n';
    return n;
}

static void coalctl_verify_and_export_the_journal(void **state)
{
    (void)state;
    s_expect(0, s_e.admin_key, (const char *[]){"trial-balance", NULL});
    json_t *tb = s_json();
    long long seq = (long long)json_integer_value(json_object_get(tb, "journal_seq"));
    assert_int_equal(json_integer_value(json_object_get(tb, "sum")), 0);
    json_decref(tb);
    s_expect(0, s_e.admin_key, (const char *[]){"verify", NULL});
    /* Every entry, in pages of 1000 followed to the end, one header. */
    s_expect(0, s_e.admin_key, (const char *[]){"journal", "export", "--all", "--csv", NULL});
    assert_int_equal(strncmp(s_r.out, "seq,type,id,", 12), 0);
    assert_int_equal(s_lines(s_r.out), seq + 1);
    s_expect(0, s_e.admin_key,
             (const char *[]){"journal", "export", "--after-seq", "2", "--limit", "3", NULL});
    json_t *page = s_json();
    assert_int_equal(json_array_size(json_object_get(page, "entries")), 3);
    json_decref(page);
    s_expect(0, s_e.admin_key, (const char *[]){"liability", NULL});
}

static void coalctl_close_statements_and_reconcile(void **state)
{
    (void)state;
    char period[8], last[8];
    char now[LC_RFC3339_MAX];
    assert_int_equal(lc_time_format(lc_now_us(), now), LC_OK);
    snprintf(period, sizeof period, "%.7s", now);
    int y = atoi(now), m = atoi(now + 5);
    snprintf(last, sizeof last, "%04d-%02d", m == 1 ? y - 1 : y, m == 1 ? 12 : m - 1);
    s_expect(0, s_e.admin_key, (const char *[]){"statements", "get", period, "--csv", NULL});
    assert_non_null(strstr(s_r.out, ","));
    s_expect(0, s_e.admin_key, (const char *[]){"reconcile", period, NULL});
    /* The month has not ended: the close is refused and says why. */
    s_expect(1, s_e.admin_key, (const char *[]){"period", "close", period, NULL});
    assert_non_null(strstr(s_r.err, "409 conflict"));
    s_expect(0, s_e.admin_key, (const char *[]){"period", "close", last, NULL});
    s_expect(1, s_e.admin_key, (const char *[]){"reconcile", "2026-13", NULL});
    assert_non_null(strstr(s_r.err, "invalid_request"));
}

/* Last: it breaks the journal. verify then exits 1 and names the entry. */
static void coalctl_verify_fails_on_a_changed_entry(void **state)
{
    (void)state;
    assert_int_equal(th_sql_i64(s_e.db, "WITH u AS (UPDATE ledger.journal SET amount = amount "
                                        "+ 1 WHERE seq = 3 RETURNING 1) SELECT count(*) FROM u"),
                     1);
    s_expect(1, s_e.admin_key, (const char *[]){"verify", NULL});
    assert_non_null(strstr(s_r.err, "first bad seq 3"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(coalctl_every_command_has_help),
        cmocka_unit_test(coalctl_partners_keys_and_errors),
        cmocka_unit_test(coalctl_four_eyes_adjustment),
        cmocka_unit_test(coalctl_verify_and_export_the_journal),
        cmocka_unit_test(coalctl_close_statements_and_reconcile),
        cmocka_unit_test(coalctl_verify_fails_on_a_changed_entry),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
