/*
 * test_settlement_coupons.c: coupons and promotions (issue 4, item 1) with the real
 * ledger, members, settlement, ZeroMQ and PostgreSQL: creation and activation, every
 * rejection reason of an earn, funders billed exactly (partner, coalition, supplier:
 * their ledger accounts), max_per_member, a retry counting one use, a prepaid funder
 * out of budget refusing the whole earn, and returns reversing base and bonus in
 * proportion. The exact window boundaries (to the microsecond) are checked on the
 * pure rule, st_coupon_check, in tests/unit/test_settlement_arith.c, since an earn's
 * time is the server's clock.
 */
#include "apicall.h"
#include "lc_api.h"
#include "lc_err.h"
#include "lc_settlement_msg.h"
#include "lc_time.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

static ta_cluster_t s_cl;

/* Settlement as every test here runs it: pending earns mature within 100 ms. */
static const char *const s_settlement_env[] = {"COAL_SETTLEMENT_MATURE_INTERVAL_MS=100", NULL};

/* ---- coupons helpers ---------------------------------------------------------------- */

#define HOUR_US (INT64_C(3600) * 1000000)

/* RFC 3339 text of now + delta microseconds (rotating buffers). */
static const char *s_at(int64_t delta)
{
    static char buf[8][LC_RFC3339_MAX];
    static unsigned n;
    char *b = buf[n++ % 8];
    assert_int_equal(lc_time_format(lc_now_us() + delta, b), LC_OK);
    return b;
}

/* Creates a coupon (request JSON text) as admin; returns the reply or NULL + code. */
static json_t *s_coupon(const char *json, char *code)
{
    json_t *req = json_loads(json, 0, NULL);
    assert_non_null(req);
    return ta_call(&s_cl.sc, ST_TYPE_CREATE_COUPON, &s_cl.admin, ta_key(), NULL, req, code);
}

/* A coupon valid for the next hour, expected to be created. */
static void s_coupon_ok(const char *fmt_code, const char *kind_fields, const char *funder,
                        const char *partner, int max)
{
    char json[1024], code[TA_CODE_LEN];
    snprintf(json, sizeof json,
             "{\"code\": \"%s\", %s, \"funded_by\": %s, \"partner_id\": %s%s%s, "
             "\"valid_from\": \"%s\", \"valid_until\": \"%s\", \"max_per_member\": %d}",
             fmt_code, kind_fields, funder, partner ? "\"" : "", partner ? partner : "null",
             partner ? "\"" : "", s_at(-HOUR_US), s_at(HOUR_US), max);
    json_t *rep = s_coupon(json, code);
    ta_ok(rep, code);
    assert_string_equal(ta_str(rep, "code"), fmt_code);
    json_decref(rep);
}

static json_t *s_activate(const ta_member_t *m, const char *coupon, char *code)
{
    return ta_call(&s_cl.sc, ST_TYPE_ACTIVATE_COUPON, &s_cl.app, NULL,
                   json_pack("{s:s, s:s}", "id", m->ids, "code", coupon), json_object(), code);
}

static void s_activate_ok(const ta_member_t *m, const char *coupon)
{
    char code[TA_CODE_LEN];
    json_t *rep = s_activate(m, coupon, code);
    ta_ok(rep, code);
    json_decref(rep);
}

/* The reason coupon was rejected with in an earn reply, or "" when it was applied. */
static const char *s_reason(const json_t *rep, const char *coupon)
{
    json_t *x;
    size_t i;
    json_array_foreach(json_object_get(rep, "coupons_rejected"), i,
                       x) if (strcmp(ta_str(x, "code"), coupon) == 0) return ta_str(x, "reason");
    json_array_foreach(json_object_get(rep, "coupons_applied"), i,
                       x) if (strcmp(json_string_value(x), coupon) == 0) return "";
    fail_msg("coupon %s is in neither list", coupon);
    return NULL;
}

static const char *s_partner_issuance(const ta_partner_t *p)
{
    static char buf[LC_ID_STRLEN + 1];
    lc_id_t iss;
    lc_id_derive(&p->id, "issuance", &iss);
    lc_id_format(&iss, buf);
    return buf;
}

static const char *s_promotion(void)
{
    static char buf[LC_ID_STRLEN + 1];
    lc_id_t a;
    st_promotion_account(&a);
    lc_id_format(&a, buf);
    return buf;
}

/* Net points a funder account paid out (debits - credits, posted). */
static int64_t s_paid(const char *account)
{
    return ta_acct(&s_cl, account, "debits_posted") - ta_acct(&s_cl, account, "credits_posted");
}

/* ---- tests ------------------------------------------------------------------------- */

static void coupons_create_validates_replays_and_refuses_duplicates(void **state)
{
    (void)state;
    char code[TA_CODE_LEN], json[1024];
    const char *win = "\"valid_from\": \"2030-01-01T00:00:00Z\", \"valid_until\": "
                      "\"2030-02-01T00:00:00Z\", \"max_per_member\": 1";
    const char *bad[] = {
        "{\"code\": \"B1\", \"kind\": \"multiplier\", \"multiplier\": 1, "
        "\"funded_by\": {\"type\": \"coalition\"}, ",
        "{\"code\": \"B2\", \"kind\": \"bonus\", \"multiplier\": 3, "
        "\"funded_by\": {\"type\": \"coalition\"}, ",
        "{\"code\": \"B3\", \"kind\": \"bonus\", \"bonus_points\": 5, "
        "\"funded_by\": {\"type\": \"supplier\"}, ",
        "{\"code\": \"B 4\", \"kind\": \"bonus\", \"bonus_points\": 5, "
        "\"funded_by\": {\"type\": \"coalition\"}, ",
        "{\"code\": \"B5\", \"kind\": \"bonus\", \"bonus_points\": 5, "
        "\"funded_by\": {\"type\": \"coalition\", \"id\": "
        "\"00000000-0000-4000-8000-000000000001\"}, ",
        "{\"code\": \"B6\", \"kind\": \"bonus\", \"bonus_points\": 5, \"funded_by\": {\"type\": "
        "\"coalition\"}, \"valid_from\": \"2030-02-01T00:00:00Z\", \"valid_until\": "
        "\"2030-01-01T00:00:00Z\", \"max_per_member\": 1",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        snprintf(json, sizeof json, "%s%s}", bad[i], i == 5 ? "" : win);
        ta_refused(s_coupon(json, code), code, LC_API_INVALID_REQUEST);
    }
    assert_int_equal(ta_settlement_rows(&s_cl, "coupons"), 0);
    /* an unknown funding partner */
    snprintf(json, sizeof json,
             "{\"code\": \"NF\", \"kind\": \"bonus\", \"bonus_points\": 5, \"funded_by\": "
             "{\"type\": \"partner\", \"id\": \"%s\"}, %s}",
             th_ids(&(lc_id_t){{9, 9}}), win);
    ta_refused(s_coupon(json, code), code, LC_API_NOT_FOUND);

    snprintf(json, sizeof json,
             "{\"code\": \"DUP\", \"kind\": \"bonus\", \"bonus_points\": 5, \"funded_by\": "
             "{\"type\": \"coalition\"}, %s}",
             win);
    json_t *req = json_loads(json, 0, NULL);
    json_t *a = ta_call(&s_cl.sc, ST_TYPE_CREATE_COUPON, &s_cl.admin, "coupon-dup", NULL,
                        json_incref(req), code);
    ta_ok(a, code);
    json_t *b =
        ta_call(&s_cl.sc, ST_TYPE_CREATE_COUPON, &s_cl.admin, "coupon-dup", NULL, req, code);
    ta_ok(b, code);
    assert_string_equal(ta_str(a, "id"), ta_str(b, "id")); /* a replay */
    assert_string_equal(ta_str(a, "kind"), "bonus");
    assert_int_equal(ta_int(a, "bonus_points"), 5);
    assert_null(json_object_get(a, "multiplier"));
    assert_null(json_object_get(a, "partner_id"));
    json_decref(a);
    json_decref(b);
    ta_refused(s_coupon(json, code), code, LC_API_CONFLICT); /* same code, another key */
    assert_int_equal(ta_settlement_rows(&s_cl, "coupons"), 1);
    /* only admins */
    ta_partner_t p;
    ta_partner(&s_cl, &p, 1, 100, 0, "postpaid", NULL);
    ta_refused(ta_call(&s_cl.sc, ST_TYPE_CREATE_COUPON, &p.who, ta_key(), NULL,
                       json_loads(json, 0, NULL), code),
               code, LC_API_FORBIDDEN);
}

static void coupons_activation_errors_and_idempotence(void **state)
{
    (void)state;
    ta_partner_t p;
    ta_member_t m, m2;
    char code[TA_CODE_LEN], json[1024];
    ta_partner(&s_cl, &p, 1, 100, 0, "postpaid", NULL);
    ta_member(&s_cl, &m, &p);
    ta_member(&s_cl, &m2, &p);
    ta_refused(s_activate(&m, "NO-SUCH", code), code, LC_API_COUPON_NOT_APPLICABLE);
    /* expired one microsecond ago (as far as the clock goes: well before now) */
    snprintf(json, sizeof json,
             "{\"code\": \"OLD\", \"kind\": \"bonus\", \"bonus_points\": 5, \"funded_by\": "
             "{\"type\": \"coalition\"}, \"valid_from\": \"%s\", \"valid_until\": \"%s\", "
             "\"max_per_member\": 1}",
             s_at(-2 * HOUR_US), s_at(-1));
    json_t *rep = s_coupon(json, code);
    ta_ok(rep, code);
    json_decref(rep);
    ta_refused(s_activate(&m, "OLD", code), code, LC_API_COUPON_NOT_APPLICABLE);

    s_coupon_ok("ACT1", "\"kind\": \"bonus\", \"bonus_points\": 3", "{\"type\": \"coalition\"}",
                NULL, 1);
    json_t *a = s_activate(&m, "ACT1", code);
    ta_ok(a, code);
    json_t *b = s_activate(&m, "ACT1", code);
    ta_ok(b, code);
    assert_string_equal(ta_str(a, "activated_at"), ta_str(b, "activated_at"));
    assert_string_equal(ta_str(a, "member_id"), m.ids);
    assert_string_equal(ta_str(a, "code"), "ACT1");
    json_decref(a);
    json_decref(b);
    assert_int_equal(ta_settlement_rows(&s_cl, "coupon_activations"), 1);
    /* used up (max 1): activating again is refused */
    rep = ta_earn(&s_cl, &p, &m, ta_key(), 100, "EUR", "{\"coupon_codes\": [\"ACT1\"]}", code);
    ta_ok(rep, code);
    assert_string_equal(s_reason(rep, "ACT1"), "");
    json_decref(rep);
    ta_refused(s_activate(&m, "ACT1", code), code, LC_API_COUPON_NOT_APPLICABLE);
    s_activate_ok(&m2, "ACT1"); /* another member still may */
    /* only the app */
    ta_refused(ta_call(&s_cl.sc, ST_TYPE_ACTIVATE_COUPON, &p.who, NULL,
                       json_pack("{s:s, s:s}", "id", m.ids, "code", "ACT1"), json_object(), code),
               code, LC_API_FORBIDDEN);
}

static void coupons_funders_are_billed_exactly(void **state)
{
    (void)state;
    ta_partner_t p, sponsor;
    ta_member_t m;
    char code[TA_CODE_LEN], fund[256];
    ta_partner(&s_cl, &p, 1, 100, 0, "postpaid", NULL); /* 1 point per 1.00 EUR */
    ta_partner(&s_cl, &sponsor, 1, 100, 0, "postpaid", NULL);
    ta_member(&s_cl, &m, &p);
    snprintf(fund, sizeof fund, "{\"type\": \"partner\", \"id\": \"%s\"}", sponsor.ids);
    s_coupon_ok("X3", "\"kind\": \"multiplier\", \"multiplier\": 3", fund, p.ids, 5);
    s_coupon_ok("COAL50", "\"kind\": \"bonus\", \"bonus_points\": 50", "{\"type\": \"coalition\"}",
                NULL, 5);
    snprintf(fund, sizeof fund, "{\"type\": \"supplier\", \"id\": \"%s\"}",
             th_ids(&(lc_id_t){{7, 7}}));
    s_coupon_ok("SUP7", "\"kind\": \"bonus\", \"bonus_points\": 7", fund, NULL, 5);
    s_activate_ok(&m, "X3");
    s_activate_ok(&m, "COAL50");
    s_activate_ok(&m, "SUP7");
    char sup_acct[LC_ID_STRLEN + 1];
    {
        lc_id_t a, sid = {{7, 7}};
        st_supplier_account(&sid, &a);
        lc_id_format(&a, sup_acct);
    }
    int64_t coal0 = s_paid(s_promotion());
    json_t *rep = ta_earn(&s_cl, &p, &m, ta_key(), 1099, "EUR",
                          "{\"coupon_codes\": [\"X3\", \"COAL50\", \"SUP7\"]}", code);
    ta_ok(rep, code);
    assert_int_equal(ta_int(rep, "points"), 10);
    assert_int_equal(ta_int(rep, "bonus_points"), 20 + 50 + 7);
    assert_int_equal(json_array_size(json_object_get(rep, "coupons_applied")), 3);
    assert_int_equal(json_array_size(json_object_get(rep, "coupons_rejected")), 0);
    json_decref(rep);
    assert_int_equal(ta_acct(&s_cl, m.ids, "balance"), 87);
    assert_int_equal(s_paid(s_partner_issuance(&p)), 10);
    assert_int_equal(s_paid(s_partner_issuance(&sponsor)), 20);
    assert_int_equal(s_paid(s_promotion()) - coal0, 50);
    assert_int_equal(s_paid(sup_acct), 7);
    char sql[256];
    snprintf(sql, sizeof sql,
             "SELECT count(*) FROM settlement.earn_coupons WHERE member_id = '%s' AND reason IS "
             "NULL",
             m.ids);
    assert_int_equal(th_sql_i64(s_cl.db, sql), 3);
}

static void coupons_rejections_never_fail_the_earn(void **state)
{
    (void)state;
    ta_partner_t p, other, pend;
    ta_member_t m;
    char code[TA_CODE_LEN], json[1024];
    ta_partner(&s_cl, &p, 1, 100, 0, "postpaid", NULL);
    ta_partner(&s_cl, &other, 1, 100, 0, "postpaid", NULL);
    ta_partner(&s_cl, &pend, 1, 100, 3, "postpaid", NULL);
    ta_member(&s_cl, &m, &p);
    s_coupon_ok("NOTACT", "\"kind\": \"bonus\", \"bonus_points\": 5", "{\"type\": \"coalition\"}",
                NULL, 5);
    s_coupon_ok("OTHERP", "\"kind\": \"bonus\", \"bonus_points\": 5", "{\"type\": \"coalition\"}",
                other.ids, 5);
    s_coupon_ok("ONCE", "\"kind\": \"bonus\", \"bonus_points\": 5", "{\"type\": \"coalition\"}",
                NULL, 1);
    s_coupon_ok("PEND", "\"kind\": \"bonus\", \"bonus_points\": 5", "{\"type\": \"coalition\"}",
                NULL, 5);
    /* a window that ended one microsecond before the coupon was created, and one that
     * starts in an hour */
    snprintf(json, sizeof json,
             "{\"code\": \"PAST\", \"kind\": \"bonus\", \"bonus_points\": 5, \"funded_by\": "
             "{\"type\": \"coalition\"}, \"valid_from\": \"%s\", \"valid_until\": \"%s\", "
             "\"max_per_member\": 1}",
             s_at(-HOUR_US), s_at(-1));
    json_t *rep = s_coupon(json, code);
    ta_ok(rep, code);
    json_decref(rep);
    snprintf(json, sizeof json,
             "{\"code\": \"FUTURE\", \"kind\": \"bonus\", \"bonus_points\": 5, \"funded_by\": "
             "{\"type\": \"coalition\"}, \"valid_from\": \"%s\", \"valid_until\": \"%s\", "
             "\"max_per_member\": 1}",
             s_at(HOUR_US), s_at(2 * HOUR_US));
    rep = s_coupon(json, code);
    ta_ok(rep, code);
    json_decref(rep);
    s_activate_ok(&m, "OTHERP");
    s_activate_ok(&m, "ONCE");
    s_activate_ok(&m, "PEND");
    /* PAST and FUTURE cannot be activated: make the activation rows directly, so the
     * earn is what refuses them */
    snprintf(json, sizeof json,
             "WITH i AS (INSERT INTO settlement.coupon_activations SELECT id, '%s', 0 FROM "
             "settlement.coupons WHERE code IN ('PAST', 'FUTURE') RETURNING 1) SELECT count(*) "
             "FROM i",
             m.ids);
    assert_int_equal(th_sql_i64(s_cl.db, json), 2);

    rep = ta_earn(&s_cl, &p, &m, ta_key(), 500, "EUR",
                  "{\"coupon_codes\": [\"NOPE\", \"NOTACT\", \"OTHERP\", \"ONCE\", \"PAST\", "
                  "\"FUTURE\", \"ONCE\"]}",
                  code);
    ta_ok(rep, code);
    assert_int_equal(ta_int(rep, "points"), 5);
    assert_int_equal(ta_int(rep, "bonus_points"), 5);
    assert_string_equal(s_reason(rep, "NOPE"), "unknown_coupon");
    assert_string_equal(s_reason(rep, "NOTACT"), "not_activated");
    assert_string_equal(s_reason(rep, "OTHERP"), "wrong_partner");
    assert_string_equal(s_reason(rep, "PAST"), "outside_window");
    assert_string_equal(s_reason(rep, "FUTURE"), "outside_window");
    json_t *rej = json_object_get(rep, "coupons_rejected");
    assert_int_equal(json_array_size(rej), 6);
    assert_string_equal(ta_str(json_array_get(rej, 5), "reason"), "duplicate");
    json_decref(rep);
    rep = ta_earn(&s_cl, &p, &m, ta_key(), 500, "EUR", "{\"coupon_codes\": [\"ONCE\"]}", code);
    ta_ok(rep, code);
    assert_string_equal(s_reason(rep, "ONCE"), "used_up");
    assert_int_equal(ta_int(rep, "bonus_points"), 0);
    json_decref(rep);
    /* a partner with pending points: not applied (documented limitation) */
    rep = ta_earn(&s_cl, &pend, &m, ta_key(), 500, "EUR", "{\"coupon_codes\": [\"PEND\"]}", code);
    ta_ok(rep, code);
    assert_string_equal(s_reason(rep, "PEND"), "pending_earn");
    json_decref(rep);
    assert_int_equal(ta_acct(&s_cl, m.ids, "balance"), 5 + 5 + 5);
    assert_int_equal(ta_acct(&s_cl, m.ids, "credits_pending"), 5);
}

static void coupons_retry_counts_one_use(void **state)
{
    (void)state;
    ta_partner_t p;
    ta_member_t m;
    char code[TA_CODE_LEN];
    ta_partner(&s_cl, &p, 1, 100, 0, "postpaid", NULL);
    ta_member(&s_cl, &m, &p);
    s_coupon_ok("TWICE", "\"kind\": \"multiplier\", \"multiplier\": 2", "{\"type\": \"coalition\"}",
                NULL, 2);
    s_activate_ok(&m, "TWICE");
    const char *key = "coupon-retry";
    for (int i = 0; i < 3; i++) {
        json_t *rep =
            ta_earn(&s_cl, &p, &m, key, 300, "EUR", "{\"coupon_codes\": [\"TWICE\"]}", code);
        ta_ok(rep, code);
        assert_int_equal(ta_int(rep, "bonus_points"), 3);
        assert_string_equal(s_reason(rep, "TWICE"), "");
        json_decref(rep);
    }
    assert_int_equal(ta_acct(&s_cl, m.ids, "balance"), 6);
    json_t *rep =
        ta_earn(&s_cl, &p, &m, ta_key(), 300, "EUR", "{\"coupon_codes\": [\"TWICE\"]}", code);
    ta_ok(rep, code);
    assert_string_equal(s_reason(rep, "TWICE"), ""); /* the second use */
    json_decref(rep);
    rep = ta_earn(&s_cl, &p, &m, ta_key(), 300, "EUR", "{\"coupon_codes\": [\"TWICE\"]}", code);
    ta_ok(rep, code);
    assert_string_equal(s_reason(rep, "TWICE"), "used_up");
    json_decref(rep);
    assert_int_equal(ta_acct(&s_cl, m.ids, "balance"), 6 + 6 + 3);
}

static void coupons_prepaid_funder_out_of_budget_refuses_the_earn(void **state)
{
    (void)state;
    ta_partner_t p, sponsor;
    ta_member_t m;
    char code[TA_CODE_LEN], fund[256];
    ta_partner(&s_cl, &p, 1, 100, 0, "postpaid", NULL);
    ta_partner(&s_cl, &sponsor, 1, 100, 0, "prepaid", NULL); /* budget 0 */
    ta_member(&s_cl, &m, &p);
    snprintf(fund, sizeof fund, "{\"type\": \"partner\", \"id\": \"%s\"}", sponsor.ids);
    s_coupon_ok("BROKE", "\"kind\": \"bonus\", \"bonus_points\": 10", fund, NULL, 5);
    s_activate_ok(&m, "BROKE");
    int64_t earns = ta_settlement_rows(&s_cl, "earns");
    for (int i = 0; i < 2; i++) { /* the retry answers the same */
        json_t *rep = ta_earn(&s_cl, &p, &m, "coupon-broke", 500, "EUR",
                              "{\"coupon_codes\": [\"BROKE\"]}", code);
        ta_refused(rep, code, LC_API_BUDGET_EXHAUSTED);
    }
    assert_int_equal(ta_acct(&s_cl, m.ids, "balance"), 0); /* not even the base */
    assert_int_equal(ta_settlement_rows(&s_cl, "earns"), earns);
}

static void coupons_return_reverses_base_and_bonus_in_proportion(void **state)
{
    (void)state;
    ta_partner_t p;
    ta_member_t m;
    char code[TA_CODE_LEN];
    ta_partner(&s_cl, &p, 1, 100, 0, "postpaid", NULL);
    ta_member(&s_cl, &m, &p);
    s_coupon_ok("R3", "\"kind\": \"multiplier\", \"multiplier\": 3", "{\"type\": \"coalition\"}",
                NULL, 5);
    char fund[256];
    snprintf(fund, sizeof fund, "{\"type\": \"supplier\", \"id\": \"%s\"}",
             th_ids(&(lc_id_t){{8, 8}}));
    s_coupon_ok("R7", "\"kind\": \"bonus\", \"bonus_points\": 7", fund, NULL, 5);
    s_activate_ok(&m, "R3");
    s_activate_ok(&m, "R7");
    char sup[LC_ID_STRLEN + 1];
    {
        lc_id_t a, sid = {{8, 8}};
        st_supplier_account(&sid, &a);
        lc_id_format(&a, sup);
    }
    int64_t coal0 = s_paid(s_promotion());
    json_t *rep =
        ta_earn(&s_cl, &p, &m, ta_key(), 1000, "EUR", "{\"coupon_codes\": [\"R3\", \"R7\"]}", code);
    ta_ok(rep, code);
    assert_int_equal(ta_int(rep, "points"), 10);
    assert_int_equal(ta_int(rep, "bonus_points"), 27);
    char earn_id[LC_ID_STRLEN + 1];
    snprintf(earn_id, sizeof earn_id, "%s", ta_str(rep, "id"));
    json_decref(rep);
    /* 333 of 1000 cents: base ceil(3.33) = 4, R3 ceil(6.66) = 7, R7 ceil(2.331) = 3 */
    rep = ta_return(&s_cl, &p, "coupon-return-1", earn_id, 333, code);
    ta_ok(rep, code);
    assert_int_equal(ta_int(rep, "points_reversed"), 4);
    assert_int_equal(ta_int(rep, "bonus_points_reversed"), 10);
    json_decref(rep);
    rep = ta_return(&s_cl, &p, "coupon-return-1", earn_id, 333, code); /* a replay */
    ta_ok(rep, code);
    assert_int_equal(ta_int(rep, "bonus_points_reversed"), 10);
    json_decref(rep);
    assert_int_equal(ta_acct(&s_cl, m.ids, "balance"), 37 - 14);
    assert_int_equal(s_paid(s_promotion()) - coal0, 20 - 7);
    assert_int_equal(s_paid(sup), 7 - 3);
    /* the rest: capped at what is left of each */
    rep = ta_return(&s_cl, &p, ta_key(), earn_id, 667, code);
    ta_ok(rep, code);
    assert_int_equal(ta_int(rep, "points_reversed"), 6);
    assert_int_equal(ta_int(rep, "bonus_points_reversed"), 13 + 4);
    json_decref(rep);
    assert_int_equal(ta_acct(&s_cl, m.ids, "balance"), 0);
    assert_int_equal(s_paid(s_promotion()) - coal0, 0);
    assert_int_equal(s_paid(sup), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(coupons_create_validates_replays_and_refuses_duplicates),
        cmocka_unit_test(coupons_activation_errors_and_idempotence),
        cmocka_unit_test(coupons_funders_are_billed_exactly),
        cmocka_unit_test(coupons_rejections_never_fail_the_earn),
        cmocka_unit_test(coupons_retry_counts_one_use),
        cmocka_unit_test(coupons_prepaid_funder_out_of_budget_refuses_the_earn),
        cmocka_unit_test(coupons_return_reverses_base_and_bonus_in_proportion),
    };
    return ta_run_tests(tests, &s_cl, s_settlement_env);
}
