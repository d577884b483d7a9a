/*
 * test_statements.c: partner statements, period close and reconciliation over HTTP
 * (issue 6, items 1 to 3), through the gateway to settlement, the ledger and members:
 * GET /v1/statements/{period} as the partner (its own, JSON and CSV), as another
 * partner (404) and as an auditor (every statement); POST
 * /v1/settlement/periods/{period}/close (not ended: 409; twice: the same answer); a
 * late earn billed in the next month as a correction; GET
 * /v1/audit/reconcile/{period}. Settlement runs with its month clock a month ahead
 * (settlement.period_offset_s), so the month the test runs in has ended for it. Every
 * exchange is also checked against proto/openapi.yaml by tests/run.sh.
 */
#include "e2e.h"
#include "lc_err.h"
#include "lc_period.h"
#include "lc_time.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#define WAIT_MS 20000 /* longest wait for the statements to show an entry */

static e2e_t s_e;
static char s_month[LC_PERIOD_STRLEN + 1], s_next[LC_PERIOD_STRLEN + 1];
static char s_offset[64];
static char s_auditor[128];

typedef struct partner {
    char id[40];
    char key[128];
} partner_t;

static partner_t s_a, s_b;
static char s_card[40];

static void s_expect(const e2e_resp_t *r, long status, const char *code)
{
    if (r->status != status || (code && strcmp(e2e_code(r), code)))
        fail_msg("expected %ld %s, got %ld %s", status, code ? code : "", r->status,
                 r->raw ? r->raw : "");
}

static void s_post(e2e_resp_t *r, const char *key, const char *path, long want, const char *body)
{
    e2e_http(&s_e, "POST", path, key, e2e_idem(), body, NULL, r);
    s_expect(r, want, NULL);
}

static void s_partner(partner_t *p)
{
    e2e_resp_t r;
    s_post(&r, s_e.admin_key, "/v1/partners", 201,
           "{\"name\":\"Statement Shop\",\"earn_rate\":{\"points\":1,\"per_amount\":100},"
           "\"tariff\":{\"issue_price_micros\":10040,\"redeem_credit_micros\":9000,"
           "\"fee_bps\":125},\"funding\":\"postpaid\"}");
    snprintf(p->id, sizeof p->id, "%s", e2e_str(&r, "id"));
    snprintf(p->key, sizeof p->key, "%s", e2e_str(&r, "api_key"));
    e2e_resp_clear(&r);
}

static void s_earn(const char *receipt, int cents)
{
    char body[300];
    snprintf(body, sizeof body,
             "{\"card_number\":\"%s\",\"receipt_id\":\"%s\",\"amount\":{\"amount\":%d,"
             "\"currency\":\"EUR\"}}",
             s_card, receipt, cents);
    e2e_resp_t r;
    s_post(&r, s_a.key, "/v1/earn", 201, body);
    e2e_resp_clear(&r);
}

/* GET path as key into r (headers may be NULL). */
static void s_get(e2e_resp_t *r, const char *key, const char *path, const char *const *headers)
{
    e2e_http(&s_e, "GET", path, key, NULL, NULL, headers, r);
}

/* Partner A's statement of period once it has `lines` lines (the consumer is
 * asynchronous). */
static void s_statement_with(e2e_resp_t *r, const char *period, long long lines)
{
    char path[100];
    snprintf(path, sizeof path, "/v1/statements/%s", period);
    for (int waited = 0;; waited += 50) {
        s_get(r, s_a.key, path, NULL);
        s_expect(r, 200, NULL);
        if (e2e_int(r, "line_count") == lines)
            return;
        if (waited > WAIT_MS)
            fail_msg("the statement has %lld lines, not %lld: %s", e2e_int(r, "line_count"),
                     lines, r->raw);
        e2e_resp_clear(r);
        usleep(50000);
    }
}

static int setup(void **state)
{
    (void)state;
    lc_period_t m;
    int64_t last = 0;
    lc_period_of(lc_now_us(), &m);
    lc_period_format(&m, s_month);
    lc_period_last_us(&m, &last);
    lc_period_of(last + 1, &m);
    lc_period_format(&m, s_next);
    snprintf(s_offset, sizeof s_offset, "COAL_SETTLEMENT_PERIOD_OFFSET_S=%lld",
             (long long)((last + 1 - lc_now_us()) / 1000000 + 3600));
    const char *env[] = {s_offset, NULL};
    e2e_start(&s_e, true, NULL, env);
    e2e_resp_t r;
    s_post(&r, s_e.admin_key, "/v1/keys", 201, "{\"role\":\"auditor\",\"name\":\"finance\"}");
    snprintf(s_auditor, sizeof s_auditor, "%s", e2e_str(&r, "api_key"));
    e2e_resp_clear(&r);
    s_partner(&s_a);
    s_partner(&s_b);
    s_post(&r, s_a.key, "/v1/members", 201, "{}");
    snprintf(s_card, sizeof s_card, "%s", e2e_str(&r, "card_number"));
    e2e_resp_clear(&r);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    e2e_stop(&s_e);
    return 0;
}

static void statements_over_http_json_and_csv(void **state)
{
    (void)state;
    s_earn("r-1", 10000); /* 100 points: 1 004 000 micros, fee 12 550 */
    s_earn("r-2", 300);   /* 3 points: 30 120 micros, fee 376.5 -> 376 */
    e2e_resp_t r;
    s_statement_with(&r, s_month, 2);
    assert_string_equal(e2e_str(&r, "status"), "open");
    assert_string_equal(e2e_str(&r, "partner_id"), s_a.id);
    assert_int_equal(e2e_int(&r, "issued_points"), 103);
    assert_int_equal(e2e_int(&r, "issue_charge_micros"), 1034120);
    assert_int_equal(e2e_int(&r, "fee_micros"), 12926);
    assert_int_equal(e2e_int(&r, "net_micros"), -1047046);
    e2e_resp_clear(&r);

    /* CSV: a header row, one row per line */
    char path[100];
    snprintf(path, sizeof path, "/v1/statements/%s", s_month);
    const char *csv[] = {"Accept: text/csv", NULL};
    s_get(&r, s_a.key, path, csv);
    s_expect(&r, 200, NULL);
    assert_non_null(strstr(r.content_type, "text/csv"));
    assert_true(!strncmp(r.raw, "seq,transfer_id,code,category,party,party_id,side,points,", 57));
    int rows = 0;
    for (const char *p = r.raw; (p = strstr(p, "\r\n")); p += 2)
        rows++;
    assert_int_equal(rows, 3);
    assert_non_null(strstr(r.raw, ",issued,partner,"));
    assert_non_null(strstr(r.raw, ",-30120,376,"));
    e2e_resp_clear(&r);

    /* another partner's statement is 404; a malformed month 400; the app 403 */
    snprintf(path, sizeof path, "/v1/statements/%s?partner_id=%s", s_month, s_a.id);
    s_get(&r, s_b.key, path, NULL);
    s_expect(&r, 404, "not_found");
    e2e_resp_clear(&r);
    s_get(&r, s_a.key, "/v1/statements/2026-13", NULL);
    s_expect(&r, 400, "invalid_request");
    e2e_resp_clear(&r);

    /* the auditor sees every partner (B with zeros) */
    snprintf(path, sizeof path, "/v1/statements/%s", s_month);
    s_get(&r, s_auditor, path, NULL);
    s_expect(&r, 200, NULL);
    json_t *list = json_object_get(r.body, "statements");
    int found = 0;
    size_t i;
    json_t *s;
    json_array_foreach(list, i, s)
    {
        const char *id = json_string_value(json_object_get(s, "partner_id"));
        if (id && !strcmp(id, s_a.id))
            found += json_integer_value(json_object_get(s, "issued_points")) == 103;
        if (id && !strcmp(id, s_b.id))
            found += json_integer_value(json_object_get(s, "issued_points")) == 0;
    }
    assert_int_equal(found, 2);
    e2e_resp_clear(&r);
}

static void statements_close_and_reconcile_over_http(void **state)
{
    (void)state;
    e2e_resp_t r;
    char path[100], first[512];
    snprintf(path, sizeof path, "/v1/settlement/periods/%s/close", s_next);
    s_post(&r, s_e.admin_key, path, 409, NULL);
    s_expect(&r, 409, "conflict");
    e2e_resp_clear(&r);
    snprintf(path, sizeof path, "/v1/settlement/periods/%s/close", s_month);
    e2e_http(&s_e, "POST", path, s_a.key, e2e_idem(), NULL, NULL, &r);
    s_expect(&r, 403, "forbidden");
    e2e_resp_clear(&r);
    s_post(&r, s_e.admin_key, path, 200, NULL);
    assert_string_equal(e2e_str(&r, "status"), "final");
    snprintf(first, sizeof first, "%s", r.raw);
    e2e_resp_clear(&r);
    s_post(&r, s_e.admin_key, path, 200, NULL); /* another key: a no-op, the same answer */
    assert_string_equal(r.raw, first);
    e2e_resp_clear(&r);

    /* a late earn: billed next month, dated in this one */
    s_earn("r-late", 500);
    s_statement_with(&r, s_next, 1);
    assert_int_equal(e2e_int(&r, "issued_points"), 5);
    json_t *line = json_array_get(json_object_get(r.body, "lines"), 0);
    assert_true(json_is_true(json_object_get(line, "correction")));
    assert_string_equal(json_string_value(json_object_get(line, "entry_period")), s_month);
    e2e_resp_clear(&r);
    s_statement_with(&r, s_month, 2);
    assert_string_equal(e2e_str(&r, "status"), "final");
    assert_int_equal(e2e_int(&r, "issued_points"), 103);
    e2e_resp_clear(&r);

    snprintf(path, sizeof path, "/v1/audit/reconcile/%s", s_month);
    s_get(&r, s_auditor, path, NULL);
    s_expect(&r, 200, NULL);
    if (!json_is_true(json_object_get(r.body, "ok")))
        fail_msg("reconciliation: %s", r.raw);
    assert_int_equal(e2e_int(&r, "trial_balance_sum"), 0);
    assert_true(e2e_int(&r, "entries_checked") >= 3);
    e2e_resp_clear(&r);
    s_get(&r, s_a.key, path, NULL);
    s_expect(&r, 403, "forbidden");
    e2e_resp_clear(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(statements_over_http_json_and_csv),
        cmocka_unit_test(statements_close_and_reconcile_over_http),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
