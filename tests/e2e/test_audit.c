/*
 * test_audit.c: finance over HTTP (issue 6, items 4 and 5): the liability report
 * against a hand computation on a scripted history, the trial balance, the
 * journal export whose CSV parsed back equals its JSON, the four-eyes rule on
 * adjustments, the admin log and its verification, and tampering found: an
 * admin log row and a journal row changed in the database as superuser are
 * named by the verifications. The tests run in order on one system; the last
 * one breaks the journal. Every exchange is also checked against
 * proto/openapi.yaml by tests/run.sh.
 */
#include "e2e.h"
#include "lc_err.h"
#include "lc_time.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#define MONTH_US (INT64_C(31) * 86400 * 1000000)

static e2e_t s_e;
static char s_auditor[128], s_admin2[128], s_app[128];
static char s_admin2_id[40];

typedef struct party {
    char id[40];
    char key[128];
} party_t;

static party_t s_shop_a, s_shop_b;
static char s_member1[40], s_card1[40], s_member2[40], s_card2[40];

/* POST with a fresh Idempotency-Key (or idem); the body is printf-formatted.
 * Fails the test unless the status is want (0: any). */
__attribute__((format(printf, 6, 7))) static void s_post(e2e_resp_t *r, const char *key,
                                                         const char *idem, const char *path,
                                                         long want, const char *fmt, ...)
{
    char body[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(body, sizeof body, fmt, ap);
    va_end(ap);
    e2e_http(&s_e, "POST", path, key, idem ? idem : e2e_idem(), body, NULL, r);
    if (want && r->status != want)
        fail_msg("POST %s %s: expected %ld, got %ld %s", path, body, want, r->status,
                 r->raw ? r->raw : "");
}

static void s_get(e2e_resp_t *r, const char *key, const char *path, long want)
{
    e2e_http(&s_e, "GET", path, key, NULL, NULL, NULL, r);
    if (want && r->status != want)
        fail_msg("GET %s: expected %ld, got %ld %s", path, want, r->status, r->raw ? r->raw : "");
}

static void s_key(const char *role, char *out, size_t len, char *id, size_t idlen)
{
    e2e_resp_t r;
    s_post(&r, s_e.admin_key, NULL, "/v1/keys", 201, "{\"role\":\"%s\",\"name\":\"%s of test\"}",
           role, role);
    snprintf(out, len, "%s", e2e_str(&r, "api_key"));
    if (id)
        snprintf(id, idlen, "%s", e2e_str(&r, "id"));
    e2e_resp_clear(&r);
}

static void s_partner(party_t *p, const char *name, int pending_days)
{
    e2e_resp_t r;
    s_post(&r, s_e.admin_key, NULL, "/v1/partners", 201,
           "{\"name\":\"%s\",\"earn_rate\":{\"points\":1,\"per_amount\":100},\"pending_days\":%d,"
           "\"tariff\":{\"issue_price_micros\":10000,\"redeem_credit_micros\":9000,"
           "\"fee_bps\":150},\"funding\":\"postpaid\"}",
           name, pending_days);
    snprintf(p->id, sizeof p->id, "%s", e2e_str(&r, "id"));
    snprintf(p->key, sizeof p->key, "%s", e2e_str(&r, "api_key"));
    e2e_resp_clear(&r);
}

static void s_enroll(const party_t *p, char *id, char *card)
{
    e2e_resp_t r;
    s_post(&r, p->key, NULL, "/v1/members", 201, "{}");
    snprintf(id, 40, "%s", e2e_str(&r, "id"));
    snprintf(card, 40, "%s", e2e_str(&r, "card_number"));
    e2e_resp_clear(&r);
}

/* An earn of cents at 1 point per 1.00 EUR: cents / 100 points. */
static void s_earn(const party_t *p, const char *card, long cents)
{
    e2e_resp_t r;
    s_post(&r, p->key, NULL, "/v1/earn", 201,
           "{\"card_number\":\"%s\",\"receipt_id\":\"%s\",\"amount\":{\"amount\":%ld,"
           "\"currency\":\"EUR\"}}",
           card, e2e_idem(), cents);
    e2e_resp_clear(&r);
}

/* Authorizes and captures points of member at partner p. */
static void s_redeem(const party_t *p, const char *member, const char *card, long points)
{
    e2e_resp_t r;
    char path[200];
    snprintf(path, sizeof path, "/v1/members/%s/codes", member);
    s_post(&r, s_app, NULL, path, 201, "{}");
    char code[64];
    snprintf(code, sizeof code, "%s", e2e_str(&r, "code"));
    e2e_resp_clear(&r);
    s_post(&r, p->key, NULL, "/v1/redemptions", 201,
           "{\"card_number\":\"%s\",\"points\":%ld,\"member_code\":\"%s\",\"receipt_id\":\"%s\"}",
           card, points, code, e2e_idem());
    snprintf(path, sizeof path, "/v1/redemptions/%s/capture", e2e_str(&r, "id"));
    e2e_resp_clear(&r);
    s_post(&r, p->key, NULL, path, 200, "{}");
    e2e_resp_clear(&r);
}

/* Runs settlement's expiry sweep as of now + delta_us (the internal call). */
static void s_expire(int64_t delta_us)
{
    char as_of[LC_RFC3339_MAX], code[64];
    assert_int_equal(lc_time_format(lc_now_us() + delta_us, as_of), LC_OK);
    th_client_t c;
    th_client_open_at(&c, s_e.settlement.endpoint);
    json_t *rep = th_call(&c, "settlement.expire_now", json_pack("{s:s}", "as_of", as_of), code,
                          sizeof code);
    if (!rep)
        fail_msg("settlement.expire_now: %s", code);
    json_decref(rep);
    th_client_close(&c);
}

static long long s_i(const json_t *o, const char *path)
{
    const json_t *v = o;
    char buf[128];
    snprintf(buf, sizeof buf, "%s", path);
    for (char *tok = strtok(buf, "."); tok && v; tok = strtok(NULL, "."))
        v = json_object_get(v, tok);
    if (!json_is_integer(v))
        fail_msg("%s is not an integer in %s", path, json_dumps(o, JSON_COMPACT));
    return json_integer_value(v);
}

static const json_t *s_line(const json_t *arr, const char *field, const char *id)
{
    for (size_t i = 0; i < json_array_size(arr); i++) {
        const json_t *l = json_array_get(arr, i);
        const char *v = json_string_value(json_object_get(l, field));
        if (v && !strcmp(v, id))
            return l;
    }
    fail_msg("no line with %s %s", field, id);
    return NULL;
}

static int setup(void **state)
{
    (void)state;
    e2e_start(&s_e, true, NULL, NULL);
    s_key("auditor", s_auditor, sizeof s_auditor, NULL, 0);
    s_key("admin", s_admin2, sizeof s_admin2, s_admin2_id, sizeof s_admin2_id);
    s_key("app", s_app, sizeof s_app, NULL, 0);
    s_partner(&s_shop_a, "Shop A", 0);
    s_partner(&s_shop_b, "Shop B", 7);
    s_enroll(&s_shop_a, s_member1, s_card1);
    s_enroll(&s_shop_b, s_member2, s_card2);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    e2e_stop(&s_e);
    return 0;
}

/* The scripted history and its hand computation:
 *   member 1 earns 400 at A; every lot then expires (a sweep 40 months ahead):
 *     expired 400;
 *   member 1 earns 1000 at A and redeems 200 (captured): used 200;
 *   member 2 earns 500 at B, which has pending_days 7: pending 500.
 * Outstanding 800 (all A's), pending 500 (all B's), value (800 + 500) x 1 cent;
 * breakage rate 400 / (400 + 200) = 666666 ppm; estimate floor(1300 x 2 / 3) = 866;
 * per partner floor(800 x 2 / 3) = 533 and floor(500 x 2 / 3) = 333. */
static void audit_liability_equals_hand_computation(void **state)
{
    (void)state;
    s_earn(&s_shop_a, s_card1, 40000);
    s_expire(40 * MONTH_US);
    s_earn(&s_shop_a, s_card1, 100000);
    s_redeem(&s_shop_a, s_member1, s_card1, 200);
    s_earn(&s_shop_b, s_card2, 50000);
    e2e_resp_t r;
    s_get(&r, s_auditor, "/v1/audit/liability", 200);
    assert_int_equal(s_i(r.body, "outstanding_points"), 800);
    assert_int_equal(s_i(r.body, "reserved_points"), 0);
    assert_int_equal(s_i(r.body, "pending_points"), 500);
    assert_int_equal(s_i(r.body, "untraced_points"), 0);
    assert_int_equal(s_i(r.body, "value.amount"), 1300);
    assert_string_equal(json_string_value(json_object_get(json_object_get(r.body, "value"),
                                                          "currency")),
                        "EUR");
    assert_int_equal(s_i(r.body, "breakage.expired_points"), 400);
    assert_int_equal(s_i(r.body, "breakage.used_points"), 200);
    assert_int_equal(s_i(r.body, "breakage.rate_ppm"), 666666);
    assert_int_equal(s_i(r.body, "breakage.estimate_points"), 866);
    assert_int_equal(s_i(r.body, "breakage.estimate_value.amount"), 866);
    const json_t *by = json_object_get(r.body, "by_partner");
    assert_int_equal(json_array_size(by), 2);
    const json_t *a = s_line(by, "partner_id", s_shop_a.id);
    assert_int_equal(s_i(a, "outstanding_points"), 800);
    assert_int_equal(s_i(a, "pending_points"), 0);
    assert_int_equal(s_i(a, "value.amount"), 800);
    assert_int_equal(s_i(a, "breakage_estimate_points"), 533);
    const json_t *b = s_line(by, "partner_id", s_shop_b.id);
    assert_int_equal(s_i(b, "outstanding_points"), 0);
    assert_int_equal(s_i(b, "pending_points"), 500);
    assert_int_equal(s_i(b, "breakage_estimate_points"), 333);
    assert_int_equal(json_array_size(json_object_get(r.body, "by_other_issuer")), 0);
    e2e_resp_clear(&r);
    /* Partners and the app are not finance. */
    s_get(&r, s_shop_a.key, "/v1/audit/liability", 403);
    e2e_resp_clear(&r);
}

static void audit_trial_balance_sums_to_zero_and_verify_passes(void **state)
{
    (void)state;
    e2e_resp_t r;
    s_get(&r, s_auditor, "/v1/audit/trial-balance", 200);
    assert_int_equal(s_i(r.body, "sum"), 0);
    assert_true(s_i(r.body, "journal_seq") > 5);
    assert_int_equal(s_i(r.body, "by_kind.member.accounts"), 2);
    assert_int_equal(s_i(r.body, "by_kind.member.balance"), 800);
    assert_int_equal(s_i(r.body, "by_kind.coalition_breakage.balance"), 400);
    long long seq = s_i(r.body, "journal_seq");
    e2e_resp_clear(&r);
    s_get(&r, s_e.admin_key, "/v1/audit/verify", 200);
    assert_true(json_is_true(json_object_get(r.body, "ok")));
    assert_int_equal(s_i(r.body, "entries_checked"), seq);
    assert_null(json_object_get(r.body, "first_bad_seq"));
    e2e_resp_clear(&r);
}

/* Splits one CSV record (RFC 4180) at *p into cells; returns their count. */
static size_t s_csv_record(const char **p, char cells[][128], size_t max)
{
    size_t n = 0, len = 0;
    bool quoted = false;
    const char *s = *p;
    for (;; s++) {
        if (quoted) {
            if (*s == '"' && s[1] == '"') {
                cells[n][len++] = '"';
                s++;
            } else if (*s == '"') {
                quoted = false;
            } else {
                assert_true(*s != '\0');
                cells[n][len++] = *s;
            }
            continue;
        }
        if (*s == '"') {
            quoted = true;
        } else if (*s == ',' || *s == '\r' || *s == '\0') {
            cells[n][len] = '\0';
            n++, len = 0;
            assert_true(n <= max);
            if (*s == '\r') {
                assert_int_equal(s[1], '\n');
                *p = s + 2;
                return n;
            }
            if (*s == '\0') {
                *p = s;
                return n;
            }
        } else {
            cells[n][len++] = *s;
        }
        assert_true(len < 127);
    }
}

static void audit_journal_csv_parses_back_to_the_json(void **state)
{
    (void)state;
    e2e_resp_t j, c;
    s_get(&j, s_auditor, "/v1/audit/journal?after_seq=0&limit=50", 200);
    const json_t *entries = json_object_get(j.body, "entries");
    assert_true(json_array_size(entries) > 5);
    assert_int_equal(s_i(json_array_get(entries, 0), "seq"), 1);
    const char *accept[] = {"Accept: text/csv", NULL};
    e2e_http(&s_e, "GET", "/v1/audit/journal?after_seq=0&limit=50", s_auditor, NULL, NULL, accept,
             &c);
    assert_int_equal(c.status, 200);
    assert_true(!strncmp(c.content_type, "text/csv", 8));
    static char header[32][128], cells[32][128];
    const char *p = c.raw;
    size_t ncol = s_csv_record(&p, header, 32);
    assert_true(ncol >= 10);
    size_t rows = 0;
    while (*p) {
        size_t n = s_csv_record(&p, cells, 32);
        assert_int_equal(n, ncol);
        const json_t *e = json_array_get(entries, rows++);
        assert_non_null(e);
        for (size_t k = 0; k < ncol; k++) {
            const json_t *v = json_object_get(e, header[k]);
            char want[128] = "";
            if (json_is_string(v))
                snprintf(want, sizeof want, "%s", json_string_value(v));
            else if (json_is_integer(v))
                snprintf(want, sizeof want, "%lld", (long long)json_integer_value(v));
            else
                assert_null(v); /* only strings and integers in a journal entry */
            if (strcmp(want, cells[k]))
                fail_msg("row %zu column %s: CSV %s, JSON %s", rows, header[k], cells[k], want);
        }
        /* Every key of the JSON entry has its column. */
        const char *key;
        json_t *v;
        json_object_foreach((json_t *)e, key, v) {
            bool found = false;
            for (size_t k = 0; k < ncol; k++)
                found |= !strcmp(header[k], key);
            if (!found)
                fail_msg("the CSV has no column %s", key);
        }
    }
    assert_int_equal(rows, json_array_size(entries));
    e2e_resp_clear(&c);
    e2e_resp_clear(&j);
    /* Paging: after the last seq of a short page, has_more tells the rest. */
    s_get(&j, s_auditor, "/v1/audit/journal?after_seq=2&limit=2", 200);
    assert_int_equal(json_array_size(json_object_get(j.body, "entries")), 2);
    assert_int_equal(s_i(json_array_get(json_object_get(j.body, "entries"), 0), "seq"), 3);
    assert_true(json_is_true(json_object_get(j.body, "has_more")));
    e2e_resp_clear(&j);
    s_get(&j, s_auditor, "/v1/audit/journal?limit=0", 400);
    e2e_resp_clear(&j);
    /* An error stays JSON whatever the Accept header says. */
    e2e_http(&s_e, "GET", "/v1/audit/journal?after_seq=-1", s_auditor, NULL, NULL, accept, &c);
    assert_int_equal(c.status, 400);
    assert_string_equal(e2e_code(&c), "invalid_request");
    e2e_resp_clear(&c);
}

static void audit_adjustments_need_four_eyes(void **state)
{
    (void)state;
    e2e_resp_t r;
    /* A debit above the member's 800 points is refused at once. */
    s_post(&r, s_e.admin_key, NULL, "/v1/adjustments", 422,
           "{\"member_id\":\"%s\",\"points\":-801,\"reason\":\"too much\"}", s_member1);
    assert_string_equal(e2e_code(&r), "insufficient_points");
    e2e_resp_clear(&r);
    s_post(&r, s_e.admin_key, NULL, "/v1/adjustments", 400,
           "{\"member_id\":\"%s\",\"points\":0,\"reason\":\"nothing\"}", s_member1);
    e2e_resp_clear(&r);
    s_post(&r, s_e.admin_key, NULL, "/v1/adjustments", 404,
           "{\"member_id\":\"00000000-0000-7000-8000-0000000000ff\",\"points\":5,"
           "\"reason\":\"nobody\"}");
    e2e_resp_clear(&r);
    s_post(&r, s_e.admin_key, NULL, "/v1/adjustments", 201,
           "{\"member_id\":\"%s\",\"points\":150,\"reason\":\"goodwill after complaint 17\"}",
           s_member1);
    assert_string_equal(e2e_str(&r, "status"), "pending_approval");
    char id[40], path[200];
    snprintf(id, sizeof id, "%s", e2e_str(&r, "id"));
    e2e_resp_clear(&r);
    snprintf(path, sizeof path, "/v1/adjustments/%s/approve", id);
    /* The proposer cannot approve; nothing is booked. */
    s_post(&r, s_e.admin_key, NULL, path, 403, "{}");
    assert_string_equal(e2e_code(&r), "four_eyes_required");
    e2e_resp_clear(&r);
    char mpath[200];
    snprintf(mpath, sizeof mpath, "/v1/members/%s", s_member1);
    s_get(&r, s_app, mpath, 200);
    assert_int_equal(e2e_int(&r, "available"), 800);
    e2e_resp_clear(&r);
    /* Another admin key can, once; the retry of that approval answers the same. */
    s_post(&r, s_admin2, "approve-1", path, 200, "{}");
    assert_string_equal(e2e_str(&r, "status"), "posted");
    assert_string_equal(e2e_str(&r, "approved_by"), s_admin2_id);
    e2e_resp_clear(&r);
    s_post(&r, s_admin2, "approve-1", path, 200, "{}");
    assert_true(r.replayed);
    e2e_resp_clear(&r);
    s_post(&r, s_admin2, NULL, path, 409, "{}");
    assert_string_equal(e2e_code(&r), "conflict");
    e2e_resp_clear(&r);
    s_get(&r, s_app, mpath, 200);
    assert_int_equal(e2e_int(&r, "available"), 950);
    e2e_resp_clear(&r);
    s_post(&r, s_admin2, NULL, "/v1/adjustments/00000000-0000-7000-8000-0000000000ff/approve",
           404, "{}");
    e2e_resp_clear(&r);
    /* A debit approved when the member no longer has the points is refused for good. */
    s_post(&r, s_e.admin_key, NULL, "/v1/adjustments", 201,
           "{\"member_id\":\"%s\",\"points\":-900,\"reason\":\"duplicate booking\"}", s_member1);
    snprintf(path, sizeof path, "/v1/adjustments/%s/approve", e2e_str(&r, "id"));
    e2e_resp_clear(&r);
    s_redeem(&s_shop_a, s_member1, s_card1, 200);
    s_post(&r, s_admin2, NULL, path, 422, "{}");
    assert_string_equal(e2e_code(&r), "insufficient_points");
    e2e_resp_clear(&r);
    s_post(&r, s_admin2, NULL, path, 409, "{}");
    e2e_resp_clear(&r);
    /* The adjustment account now funds 150 points of member 1's lots. */
    s_get(&r, s_auditor, "/v1/audit/liability", 200);
    const json_t *other = json_object_get(r.body, "by_other_issuer");
    assert_int_equal(json_array_size(other), 1);
    assert_string_equal(json_string_value(json_object_get(json_array_get(other, 0), "kind")),
                        "operator");
    assert_int_equal(s_i(r.body, "outstanding_points"), 750);
    e2e_resp_clear(&r);
}

static void audit_admin_log_names_every_action_and_a_changed_row(void **state)
{
    (void)state;
    e2e_resp_t r;
    s_get(&r, s_auditor, "/v1/audit/admin-log?limit=1000", 200);
    const json_t *rows = json_object_get(r.body, "entries");
    /* 3 keys, 2 partners, 5 proposals (3 refused), 7 approvals. */
    size_t n = json_array_size(rows), four_eyes = 0, approvals = 0;
    assert_true(n >= 16);
    for (size_t i = 0; i < n; i++) {
        const json_t *row = json_array_get(rows, i);
        assert_int_equal(s_i(row, "seq"), (long long)i + 1);
        assert_string_equal(json_string_value(json_object_get(row, "role")), "admin");
        if (!strcmp(json_string_value(json_object_get(row, "route")),
                    "/v1/adjustments/{id}/approve")) {
            approvals++;
            four_eyes += s_i(row, "status") == 403;
        }
    }
    assert_int_equal(four_eyes, 1);
    assert_int_equal(approvals, 7);
    /* The bootstrap key's name is logged with its first action. */
    assert_string_equal(json_string_value(json_object_get(json_array_get(rows, 0), "key_name")),
                        "bootstrap");
    e2e_resp_clear(&r);
    s_get(&r, s_auditor, "/v1/audit/admin-log/verify", 200);
    assert_true(json_is_true(json_object_get(r.body, "ok")));
    assert_int_equal(s_i(r.body, "rows_checked"), (long long)n);
    e2e_resp_clear(&r);
    /* A superuser rewrites row 5's status: verification names row 5. */
    assert_int_equal(th_sql_i64(s_e.db, "WITH u AS (UPDATE gateway.admin_log SET status = 200 "
                                        "WHERE seq = 5 RETURNING 1) SELECT count(*) FROM u"),
                     1);
    s_get(&r, s_auditor, "/v1/audit/admin-log/verify", 200);
    assert_false(json_is_true(json_object_get(r.body, "ok")));
    assert_int_equal(s_i(r.body, "first_bad_seq"), 5);
    assert_int_equal(s_i(r.body, "rows_checked"), 4);
    e2e_resp_clear(&r);
    /* A deleted row is named too (the first one missing). */
    assert_int_equal(th_sql_i64(s_e.db, "WITH d AS (DELETE FROM gateway.admin_log WHERE seq "
                                        "IN (2, 5) RETURNING 1) SELECT count(*) FROM d"),
                     2);
    s_get(&r, s_auditor, "/v1/audit/admin-log/verify", 200);
    assert_int_equal(s_i(r.body, "first_bad_seq"), 2);
    e2e_resp_clear(&r);
    s_get(&r, s_app, "/v1/audit/admin-log", 403);
    e2e_resp_clear(&r);
}

/* Last: it breaks the journal for good. */
static void audit_verify_names_a_changed_journal_row(void **state)
{
    (void)state;
    assert_int_equal(th_sql_i64(s_e.db, "WITH u AS (UPDATE ledger.journal SET amount = amount "
                                        "+ 1 WHERE seq = 7 RETURNING 1) SELECT count(*) FROM u"),
                     1);
    e2e_resp_t r;
    s_get(&r, s_auditor, "/v1/audit/verify", 200);
    assert_false(json_is_true(json_object_get(r.body, "ok")));
    assert_int_equal(s_i(r.body, "first_bad_seq"), 7);
    assert_non_null(e2e_str(&r, "reason"));
    e2e_resp_clear(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(audit_liability_equals_hand_computation),
        cmocka_unit_test(audit_trial_balance_sums_to_zero_and_verify_passes),
        cmocka_unit_test(audit_journal_csv_parses_back_to_the_json),
        cmocka_unit_test(audit_adjustments_need_four_eyes),
        cmocka_unit_test(audit_admin_log_names_every_action_and_a_changed_row),
        cmocka_unit_test(audit_verify_names_a_changed_journal_row),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
