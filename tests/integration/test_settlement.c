/*
 * test_settlement.c: the settlement service with the real ledger, the real members
 * service, real ZeroMQ sockets and a real PostgreSQL database. Requests are API
 * calls built with lc_api_req_build, as the gateway sends them. Refusals are checked
 * to have written nothing (ledger journal and settlement rows); retries with the
 * same idempotency key to have posted once.
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

/* ---- helpers ----------------------------------------------------------------------- */

/* Moves an earn's available_at into the past (time travel for pending_days). */
static void s_make_due(const char *earn_id)
{
    char sql[256];
    snprintf(sql, sizeof sql,
             "WITH u AS (UPDATE settlement.earns SET available_at = 0 WHERE id = '%s' "
             "RETURNING 1) SELECT count(*) FROM u",
             earn_id);
    assert_int_equal(th_sql_i64(s_cl.db, sql), 1);
}

/* Waits (up to 5 s) until the account's field reaches want. */
static void s_wait_acct(const char *id, const char *field, int64_t want)
{
    int64_t deadline = lc_mono_ms() + 5000, v = 0;
    while ((v = ta_acct(&s_cl, id, field)) != want && lc_mono_ms() < deadline)
        usleep(20 * 1000);
    if (v != want)
        fail_msg("%s of %s is %lld, expected %lld", field, id, (long long)v, (long long)want);
}

/* ---- partners ---------------------------------------------------------------------- */

static void settlement_partners_create_get_list_prepay(void **state)
{
    (void)state;
    char code[TA_CODE_LEN];
    json_t *req =
        json_pack("{s:s, s:{s:i, s:i}, s:i, s:{s:i, s:i, s:i}, s:s, s:[s]}", "name", "Drugstore",
                  "earn_rate", "points", 1, "per_amount", 200, "pending_days", 0, "tariff",
                  "issue_price_micros", 10000, "redeem_credit_micros", 9000, "fee_bps", 150,
                  "funding", "postpaid", "excluded_categories", "tobacco");
    int64_t accounts_before = th_sql_i64(s_cl.db, "SELECT count(*) FROM ledger.accounts");
    const char *key = ta_key();
    json_t *a =
        ta_call(&s_cl.sc, ST_TYPE_CREATE_PARTNER, &s_cl.admin, key, NULL, json_incref(req), code);
    ta_ok(a, code);
    assert_string_equal(ta_str(a, "funding"), "postpaid");
    assert_string_equal(ta_str(a, "name"), "Drugstore");
    assert_int_equal(ta_int(json_object_get(a, "earn_rate"), "per_amount"), 200);
    assert_string_equal(
        json_string_value(json_array_get(json_object_get(a, "excluded_categories"), 0)), "tobacco");
    assert_null(json_object_get(a, "api_key"));
    /* Three ledger accounts, created once even when the request is retried. */
    assert_int_equal(th_sql_i64(s_cl.db, "SELECT count(*) FROM ledger.accounts"),
                     accounts_before + 3);
    json_t *b = ta_call(&s_cl.sc, ST_TYPE_CREATE_PARTNER, &s_cl.admin, key, NULL, req, code);
    ta_ok(b, code);
    assert_true(json_equal(a, b));
    assert_int_equal(th_sql_i64(s_cl.db, "SELECT count(*) FROM ledger.accounts"),
                     accounts_before + 3);
    char id[LC_ID_STRLEN + 1];
    snprintf(id, sizeof id, "%s", ta_str(a, "id"));

    json_t *g = ta_call(&s_cl.sc, ST_TYPE_GET_PARTNER, &s_cl.admin, NULL,
                        json_pack("{s:s}", "id", id), NULL, code);
    ta_ok(g, code);
    assert_true(json_equal(a, g));
    json_decref(g);
    ta_refused(ta_call(&s_cl.sc, ST_TYPE_GET_PARTNER, &s_cl.admin, NULL,
                       json_pack("{s:s}", "id", "0190f0a0-0000-7000-8000-00000000dead"), NULL,
                       code),
               code, LC_API_NOT_FOUND);

    /* Prepaid partner: budget 0, then prepayments add to it. */
    ta_partner_t pp;
    ta_partner(&s_cl, &pp, 1, 100, 0, "prepaid", NULL);
    json_t *pre =
        ta_call(&s_cl.sc, ST_TYPE_PREPAY, &s_cl.admin, ta_key(), json_pack("{s:s}", "id", pp.ids),
                json_pack("{s:i}", "points", 500), code);
    ta_ok(pre, code);
    assert_int_equal(ta_int(pre, "budget_points"), 500);
    assert_int_equal(ta_int(pre, "points"), 500);
    json_decref(pre);
    /* Prepaying a postpaid partner: conflict, nothing written. */
    int64_t seq = ta_journal_seq(&s_cl);
    ta_refused(ta_call(&s_cl.sc, ST_TYPE_PREPAY, &s_cl.admin, ta_key(),
                       json_pack("{s:s}", "id", id), json_pack("{s:i}", "points", 500), code),
               code, LC_API_CONFLICT);
    assert_int_equal(ta_journal_seq(&s_cl), seq);

    /* The list holds both, in pages. */
    json_t *l = ta_call(&s_cl.sc, ST_TYPE_LIST_PARTNERS, &s_cl.admin, NULL, NULL, NULL, code);
    ta_ok(l, code);
    json_t *data = json_object_get(l, "data");
    int seen = 0;
    for (size_t i = 0; i < json_array_size(data); i++) {
        const char *pid = ta_str(json_array_get(data, i), "id");
        if (!strcmp(pid, id))
            seen++;
        if (!strcmp(pid, pp.ids)) {
            seen++;
            assert_int_equal(ta_int(json_array_get(data, i), "budget_points"), 500);
        }
    }
    assert_int_equal(seen, 2);
    json_decref(l);
    json_t *page = ta_call_query(&s_cl.sc, ST_TYPE_LIST_PARTNERS, &s_cl.admin, NULL, NULL,
                                 json_pack("{s:s}", "limit", "1"), NULL, code);
    ta_ok(page, code);
    assert_int_equal(json_array_size(json_object_get(page, "data")), 1);
    assert_true(json_is_true(json_object_get(page, "has_more")));
    json_decref(page);

    /* Partners may not create partners. */
    ta_refused(
        ta_call(&s_cl.sc, ST_TYPE_CREATE_PARTNER, &pp.who, ta_key(), NULL, json_object(), code),
        code, LC_API_FORBIDDEN);
    json_decref(a);
    json_decref(b);
}

/* ---- earn -------------------------------------------------------------------------- */

static void settlement_earn_rounds_down_and_excludes_categories(void **state)
{
    (void)state;
    ta_partner_t p;
    ta_member_t m;
    char code[TA_CODE_LEN];
    ta_partner(&s_cl, &p, 1, 200, 0, "postpaid", "[\"tobacco\", \"gift_cards\"]");
    ta_member(&s_cl, &m, &p);
    json_t *r = ta_earn(&s_cl, &p, &m, ta_key(), 1999, "EUR", NULL, code);
    ta_ok(r, code);
    assert_int_equal(ta_int(r, "points"), 9); /* 9.995 rounds down */
    assert_int_equal(ta_int(r, "bonus_points"), 0);
    assert_string_equal(ta_str(r, "status"), "posted");
    json_decref(r);
    assert_int_equal(ta_acct(&s_cl, m.ids, "available"), 9);

    r = ta_earn(&s_cl, &p, &m, ta_key(), 5000, "EUR",
                "{\"items\": [{\"sku\": \"1\", \"category\": \"tobacco\", \"amount\": 1000},"
                " {\"sku\": \"2\", \"category\": \"food\", \"amount\": 3000}]}",
                code);
    ta_ok(r, code);
    assert_int_equal(ta_int(r, "points"), 20); /* 4000 eligible */
    json_decref(r);
    assert_int_equal(ta_acct(&s_cl, m.ids, "available"), 29);

    /* Everything excluded: recorded with 0 points and no ledger transfer. */
    int64_t seq = ta_journal_seq(&s_cl);
    r = ta_earn(&s_cl, &p, &m, ta_key(), 1000, "EUR",
                "{\"items\": [{\"category\": \"gift_cards\", \"amount\": 1000}],"
                " \"coupon_codes\": [\"SUMMER\"]}",
                code);
    ta_ok(r, code);
    assert_int_equal(ta_int(r, "points"), 0);
    json_t *rej = json_array_get(json_object_get(r, "coupons_rejected"), 0);
    assert_string_equal(ta_str(rej, "code"), "SUMMER");
    assert_string_equal(ta_str(rej, "reason"), "unknown_coupon");
    assert_int_equal(json_array_size(json_object_get(r, "coupons_applied")), 0);
    json_decref(r);
    assert_int_equal(ta_journal_seq(&s_cl), seq);
}

static void settlement_earn_bad_input_writes_nothing(void **state)
{
    (void)state;
    ta_partner_t p;
    ta_member_t m;
    char code[TA_CODE_LEN];
    ta_partner_t big;
    ta_partner(&s_cl, &p, 1, 200, 0, "postpaid", NULL);
    ta_partner(&s_cl, &big, 1000000, 1, 0, "postpaid", NULL);
    ta_member(&s_cl, &m, &p);
    int64_t seq = ta_journal_seq(&s_cl), earns = ta_settlement_rows(&s_cl, "earns");
    /* A client may not say how many points it wants. */
    ta_refused(ta_earn(&s_cl, &p, &m, ta_key(), 1999, "EUR", "{\"points\": 100000}", code), code,
               LC_API_INVALID_REQUEST);
    ta_refused(ta_earn(&s_cl, &p, &m, ta_key(), 1999, "USD", NULL, code), code,
               LC_API_INVALID_REQUEST);
    ta_refused(ta_earn(&s_cl, &p, &m, ta_key(), 1000, "EUR",
                       "{\"items\": [{\"category\": \"food\", \"amount\": 1001}]}", code),
               code, LC_API_INVALID_REQUEST);
    ta_refused(ta_earn(&s_cl, &p, &m, ta_key(), 1000, "EUR", "{\"coupon_codes\": [7]}", code), code,
               LC_API_INVALID_REQUEST);
    /* Overflow of the points is refused, not wrapped. */
    ta_refused(ta_earn(&s_cl, &big, &m, ta_key(), LC_API_POINTS_MAX, "EUR", NULL, code), code,
               LC_API_INVALID_REQUEST);
    /* An unknown card. */
    ta_member_t ghost = m;
    snprintf(ghost.card, sizeof ghost.card, "%s", "0000000000000000");
    ta_refused(ta_earn(&s_cl, &p, &ghost, ta_key(), 1000, "EUR", NULL, code), code,
               LC_API_NOT_FOUND);
    /* Admins do not earn. */
    ta_refused(ta_call(&s_cl.sc, ST_TYPE_EARN, &s_cl.admin, ta_key(), NULL, json_object(), code),
               code, LC_API_FORBIDDEN);
    assert_int_equal(ta_journal_seq(&s_cl), seq);
    assert_int_equal(ta_settlement_rows(&s_cl, "earns"), earns);
    assert_int_equal(ta_acct(&s_cl, m.ids, "credits_posted"), 0);
}

static void settlement_earn_retry_posts_once(void **state)
{
    (void)state;
    ta_partner_t p;
    ta_member_t m;
    char code[TA_CODE_LEN];
    ta_partner(&s_cl, &p, 1, 100, 0, "postpaid", NULL);
    ta_member(&s_cl, &m, &p);
    const char *key = ta_key();
    json_t *a = ta_earn(&s_cl, &p, &m, key, 12345, "EUR", NULL, code);
    ta_ok(a, code);
    int64_t seq = ta_journal_seq(&s_cl);
    json_t *b = ta_earn(&s_cl, &p, &m, key, 12345, "EUR", NULL, code);
    ta_ok(b, code);
    assert_true(json_equal(a, b));
    assert_int_equal(ta_journal_seq(&s_cl), seq);
    assert_int_equal(ta_acct(&s_cl, m.ids, "credits_posted"), 123);
    /* The journal holds exactly one transfer for it. */
    char sql[256];
    snprintf(sql, sizeof sql,
             "SELECT count(*) FROM ledger.journal WHERE entry_type = 2 AND credit_account_id = "
             "'%s'",
             m.ids);
    assert_int_equal(th_sql_i64(s_cl.db, sql), 1);
    json_decref(a);
    json_decref(b);
}

static void settlement_pending_points_mature_then_spendable(void **state)
{
    (void)state;
    ta_partner_t p;
    ta_member_t m;
    char code[TA_CODE_LEN], mc[64];
    ta_partner(&s_cl, &p, 1, 10, 14, "postpaid", NULL);
    ta_member(&s_cl, &m, &p);
    json_t *r = ta_earn(&s_cl, &p, &m, ta_key(), 3000, "EUR", NULL, code);
    ta_ok(r, code);
    assert_int_equal(ta_int(r, "points"), 300);
    assert_string_equal(ta_str(r, "status"), "pending");
    int64_t avail_at = 0, now = lc_now_us();
    assert_int_equal(lc_time_parse(ta_str(r, "available_at"), &avail_at), LC_OK);
    assert_true(avail_at > now + 13 * 86400 * LC_USEC_PER_SEC);
    char earn[LC_ID_STRLEN + 1];
    snprintf(earn, sizeof earn, "%s", ta_str(r, "id"));
    json_decref(r);
    assert_int_equal(ta_acct(&s_cl, m.ids, "credits_pending"), 300);
    assert_int_equal(ta_acct(&s_cl, m.ids, "available"), 0);
    /* Not spendable: refused before the code is used. */
    ta_member_code(&s_cl, &m, mc, sizeof mc);
    ta_refused(ta_authorize(&s_cl, &p, &m, ta_key(), 250, mc, code), code,
               LC_API_INSUFFICIENT_POINTS);
    /* The sweep leaves it alone while it is not due. */
    usleep(300 * 1000);
    assert_int_equal(ta_acct(&s_cl, m.ids, "credits_pending"), 300);
    /* Fourteen days later (moved into the past), the sweep posts it. */
    s_make_due(earn);
    s_wait_acct(m.ids, "available", 300);
    assert_int_equal(ta_acct(&s_cl, m.ids, "credits_pending"), 0);
    char sql[160];
    snprintf(sql, sizeof sql, "SELECT status FROM settlement.earns WHERE id = '%s'", earn);
    assert_int_equal(th_sql_i64(s_cl.db, sql), ST_EARN_POSTED);
    /* The same code was not used by the refusal: it works now. */
    r = ta_authorize(&s_cl, &p, &m, ta_key(), 250, mc, code);
    ta_ok(r, code);
    assert_string_equal(ta_str(r, "status"), "authorized");
    json_decref(r);
    assert_int_equal(ta_acct(&s_cl, m.ids, "available"), 50);
}

/* ---- redemptions ------------------------------------------------------------------- */

static void settlement_redemption_threshold_and_member_codes(void **state)
{
    (void)state;
    ta_partner_t p;
    ta_member_t m;
    char code[TA_CODE_LEN], mc[64];
    ta_partner(&s_cl, &p, 1, 1, 0, "postpaid", NULL);
    ta_member(&s_cl, &m, &p);
    assert_int_equal(ta_earn_ok(&s_cl, &p, &m, 1000), 1000);
    int64_t seq = ta_journal_seq(&s_cl);
    ta_member_code(&s_cl, &m, mc, sizeof mc);
    ta_refused(ta_authorize(&s_cl, &p, &m, ta_key(), 199, mc, code), code, LC_API_BELOW_THRESHOLD);
    ta_refused(ta_authorize(&s_cl, &p, &m, ta_key(), 300, "999999", code), code,
               LC_API_INVALID_MEMBER_CODE);
    assert_int_equal(ta_journal_seq(&s_cl), seq);
    assert_int_equal(ta_acct(&s_cl, m.ids, "debits_pending"), 0);
    const char *key = ta_key();
    json_t *a = ta_authorize(&s_cl, &p, &m, key, 300, mc, code);
    ta_ok(a, code);
    assert_string_equal(ta_str(a, "status"), "authorized");
    assert_int_equal(ta_int(a, "points"), 300);
    assert_int_equal(ta_int(json_object_get(a, "value"), "amount"), 300);
    assert_string_equal(ta_str(json_object_get(a, "value"), "currency"), "EUR");
    assert_int_equal(ta_acct(&s_cl, m.ids, "debits_pending"), 300);
    /* The same request again: the same redemption, held once. */
    json_t *b = ta_authorize(&s_cl, &p, &m, key, 300, mc, code);
    ta_ok(b, code);
    assert_true(json_equal(a, b));
    assert_int_equal(ta_acct(&s_cl, m.ids, "debits_pending"), 300);
    /* The code is used up for any other redemption. */
    ta_refused(ta_authorize(&s_cl, &p, &m, ta_key(), 300, mc, code), code,
               LC_API_INVALID_MEMBER_CODE);
    assert_int_equal(ta_acct(&s_cl, m.ids, "debits_pending"), 300);
    /* More than the member has. */
    ta_member_code(&s_cl, &m, mc, sizeof mc);
    ta_refused(ta_authorize(&s_cl, &p, &m, ta_key(), 800, mc, code), code,
               LC_API_INSUFFICIENT_POINTS);
    json_decref(a);
    json_decref(b);
}

static void settlement_capture_void_refund(void **state)
{
    (void)state;
    ta_partner_t p, other;
    ta_member_t m;
    char code[TA_CODE_LEN];
    ta_partner(&s_cl, &p, 1, 1, 0, "postpaid", NULL);
    ta_partner(&s_cl, &other, 1, 1, 0, "postpaid", NULL);
    ta_member(&s_cl, &m, &p);
    assert_int_equal(ta_earn_ok(&s_cl, &p, &m, 1000), 1000);
    char red[LC_ID_STRLEN + 1];
    ta_authorize_ok(&s_cl, &p, &m, 300, red);
    /* Another partner's redemption does not exist for it. */
    ta_refused(ta_redemption_op(&s_cl, ST_TYPE_CAPTURE, &other, ta_key(), red, NULL, code), code,
               LC_API_NOT_FOUND);
    /* Above the hold: invalid_request. */
    ta_refused(ta_redemption_op(&s_cl, ST_TYPE_CAPTURE, &p, ta_key(), red,
                                json_pack("{s:i}", "points", 301), code),
               code, LC_API_INVALID_REQUEST);
    /* Partial capture: 200 of 300; the rest is released. */
    const char *ck = ta_key();
    json_t *c1 = ta_redemption_op(&s_cl, ST_TYPE_CAPTURE, &p, ck, red,
                                  json_pack("{s:i}", "points", 200), code);
    ta_ok(c1, code);
    assert_string_equal(ta_str(c1, "status"), "captured");
    assert_int_equal(ta_int(c1, "points"), 200);
    assert_int_equal(ta_acct(&s_cl, m.ids, "balance"), 800);
    assert_int_equal(ta_acct(&s_cl, m.ids, "debits_pending"), 0);
    /* The same capture again answers the same; another capture is a conflict. */
    json_t *c2 = ta_redemption_op(&s_cl, ST_TYPE_CAPTURE, &p, ck, red,
                                  json_pack("{s:i}", "points", 200), code);
    ta_ok(c2, code);
    assert_true(json_equal(c1, c2));
    int64_t seq = ta_journal_seq(&s_cl);
    ta_refused(ta_redemption_op(&s_cl, ST_TYPE_CAPTURE, &p, ta_key(), red, NULL, code), code,
               LC_API_CONFLICT);
    ta_refused(ta_redemption_op(&s_cl, ST_TYPE_VOID, &p, ta_key(), red, NULL, code), code,
               LC_API_CONFLICT);
    assert_int_equal(ta_journal_seq(&s_cl), seq);
    assert_int_equal(ta_acct(&s_cl, m.ids, "balance"), 800);
    /* Refunds: at most the captured points in total. */
    json_t *f = ta_redemption_op(&s_cl, ST_TYPE_REFUND, &p, ta_key(), red,
                                 json_pack("{s:i}", "points", 50), code);
    ta_ok(f, code);
    assert_int_equal(ta_int(f, "refunded_points"), 50);
    assert_int_equal(ta_int(f, "points"), 50);
    json_decref(f);
    assert_int_equal(ta_acct(&s_cl, m.ids, "balance"), 850);
    ta_refused(ta_redemption_op(&s_cl, ST_TYPE_REFUND, &p, ta_key(), red,
                                json_pack("{s:i}", "points", 151), code),
               code, LC_API_CONFLICT);
    f = ta_redemption_op(&s_cl, ST_TYPE_REFUND, &p, ta_key(), red,
                         json_pack("{s:i}", "points", 150), code);
    ta_ok(f, code);
    assert_int_equal(ta_int(f, "refunded_points"), 200);
    json_decref(f);
    assert_int_equal(ta_acct(&s_cl, m.ids, "balance"), 1000);
    ta_refused(ta_redemption_op(&s_cl, ST_TYPE_REFUND, &p, ta_key(), red,
                                json_pack("{s:i}", "points", 1), code),
               code, LC_API_CONFLICT);
    /* The refunded points went back to the original lot (no new lot). */
    char sql[256];
    snprintf(sql, sizeof sql,
             "SELECT count(*) FROM ledger.lots WHERE account_id = '%s' AND remaining > 0", m.ids);
    assert_int_equal(th_sql_i64(s_cl.db, sql), 1);

    /* Void, then no capture. */
    ta_authorize_ok(&s_cl, &p, &m, 400, red);
    assert_int_equal(ta_acct(&s_cl, m.ids, "available"), 600);
    json_t *v = ta_redemption_op(&s_cl, ST_TYPE_VOID, &p, ta_key(), red, NULL, code);
    ta_ok(v, code);
    assert_string_equal(ta_str(v, "status"), "voided");
    json_decref(v);
    assert_int_equal(ta_acct(&s_cl, m.ids, "available"), 1000);
    ta_refused(ta_redemption_op(&s_cl, ST_TYPE_CAPTURE, &p, ta_key(), red, NULL, code), code,
               LC_API_CONFLICT);
    ta_refused(ta_redemption_op(&s_cl, ST_TYPE_REFUND, &p, ta_key(), red,
                                json_pack("{s:i}", "points", 1), code),
               code, LC_API_CONFLICT);
    json_decref(c1);
    json_decref(c2);
}

static void settlement_expired_hold_releases_points(void **state)
{
    (void)state;
    /* Restart settlement with a one-second hold. */
    const char *const env[] = {"COAL_SETTLEMENT_MATURE_INTERVAL_MS=100",
                               "COAL_SETTLEMENT_HOLD_SECONDS=1", NULL};
    ta_settlement_restart(&s_cl, env);
    ta_partner_t p;
    ta_member_t m;
    char code[TA_CODE_LEN];
    ta_partner(&s_cl, &p, 1, 1, 0, "postpaid", NULL);
    ta_member(&s_cl, &m, &p);
    assert_int_equal(ta_earn_ok(&s_cl, &p, &m, 500), 500);
    char red[LC_ID_STRLEN + 1];
    ta_authorize_ok(&s_cl, &p, &m, 250, red);
    assert_int_equal(ta_acct(&s_cl, m.ids, "available"), 250);
    s_wait_acct(m.ids, "available", 500); /* the ledger voids the hold on its timeout */
    ta_refused(ta_redemption_op(&s_cl, ST_TYPE_CAPTURE, &p, ta_key(), red, NULL, code), code,
               LC_API_CONFLICT);
    ta_refused(ta_redemption_op(&s_cl, ST_TYPE_VOID, &p, ta_key(), red, NULL, code), code,
               LC_API_CONFLICT);
    assert_int_equal(ta_acct(&s_cl, m.ids, "balance"), 500);
    char sql[160];
    snprintf(sql, sizeof sql, "SELECT status FROM settlement.redemptions WHERE id = '%s'", red);
    assert_int_equal(th_sql_i64(s_cl.db, sql), ST_RED_EXPIRED);
    ta_settlement_restart(&s_cl, s_settlement_env);
}

/* ---- returns ----------------------------------------------------------------------- */

static void settlement_return_is_proportional_and_bounded(void **state)
{
    (void)state;
    ta_partner_t p, other;
    ta_member_t m;
    char code[TA_CODE_LEN];
    ta_partner(&s_cl, &p, 1, 200, 0, "postpaid", NULL);
    ta_partner(&s_cl, &other, 1, 200, 0, "postpaid", NULL);
    ta_member(&s_cl, &m, &p);
    json_t *e = ta_earn(&s_cl, &p, &m, ta_key(), 1999, "EUR", NULL, code);
    ta_ok(e, code);
    char earn[LC_ID_STRLEN + 1];
    snprintf(earn, sizeof earn, "%s", ta_str(e, "id"));
    json_decref(e);
    /* Another partner cannot see the earn. */
    ta_refused(ta_return(&s_cl, &other, ta_key(), earn, 100, code), code, LC_API_NOT_FOUND);
    const char *key = ta_key();
    json_t *r = ta_return(&s_cl, &p, key, earn, 1000, code);
    ta_ok(r, code);
    assert_int_equal(ta_int(r, "points_reversed"), 5); /* ceil(1000 * 9 / 1999) */
    assert_string_equal(ta_str(r, "earn_id"), earn);
    json_decref(r);
    assert_int_equal(ta_acct(&s_cl, m.ids, "balance"), 4);
    /* A retry reverses nothing more. */
    r = ta_return(&s_cl, &p, key, earn, 1000, code);
    ta_ok(r, code);
    assert_int_equal(ta_int(r, "points_reversed"), 5);
    json_decref(r);
    assert_int_equal(ta_acct(&s_cl, m.ids, "balance"), 4);
    /* More than what is left of the amount: conflict, nothing written. */
    int64_t seq = ta_journal_seq(&s_cl), rows = ta_settlement_rows(&s_cl, "returns");
    ta_refused(ta_return(&s_cl, &p, ta_key(), earn, 1000, code), code, LC_API_CONFLICT);
    assert_int_equal(ta_journal_seq(&s_cl), seq);
    assert_int_equal(ta_settlement_rows(&s_cl, "returns"), rows);
    /* The rest: capped at what is left (ceil(4.497) = 5, but only 4 remain). */
    r = ta_return(&s_cl, &p, ta_key(), earn, 999, code);
    ta_ok(r, code);
    assert_int_equal(ta_int(r, "points_reversed"), 4);
    json_decref(r);
    assert_int_equal(ta_acct(&s_cl, m.ids, "balance"), 0);
    ta_refused(ta_return(&s_cl, &p, ta_key(), earn, 1, code), code, LC_API_CONFLICT);
}

static void settlement_return_into_debt_then_earn_repays(void **state)
{
    (void)state;
    ta_partner_t p;
    ta_member_t m;
    char code[TA_CODE_LEN];
    ta_partner(&s_cl, &p, 1, 10, 0, "postpaid", NULL);
    ta_member(&s_cl, &m, &p);
    json_t *e = ta_earn(&s_cl, &p, &m, ta_key(), 3000, "EUR", NULL, code); /* 300 points */
    ta_ok(e, code);
    char earn[LC_ID_STRLEN + 1];
    snprintf(earn, sizeof earn, "%s", ta_str(e, "id"));
    json_decref(e);
    char red[LC_ID_STRLEN + 1];
    ta_authorize_ok(&s_cl, &p, &m, 250, red);
    json_t *c = ta_redemption_op(&s_cl, ST_TYPE_CAPTURE, &p, ta_key(), red, NULL, code);
    ta_ok(c, code);
    json_decref(c);
    assert_int_equal(ta_acct(&s_cl, m.ids, "balance"), 50);
    /* Everything comes back: 300 reversed although 250 were spent. */
    json_t *r = ta_return(&s_cl, &p, ta_key(), earn, 3000, code);
    ta_ok(r, code);
    assert_int_equal(ta_int(r, "points_reversed"), 300);
    json_decref(r);
    assert_int_equal(ta_acct(&s_cl, m.ids, "balance"), -250);
    assert_int_equal(ta_acct(&s_cl, m.ids, "debt"), 250);
    /* The next earn pays the debt first. */
    assert_int_equal(ta_earn_ok(&s_cl, &p, &m, 1000), 100);
    assert_int_equal(ta_acct(&s_cl, m.ids, "balance"), -150);
    assert_int_equal(ta_acct(&s_cl, m.ids, "debt"), 150);
    assert_int_equal(ta_acct(&s_cl, m.ids, "available"), -150);
}

static void settlement_return_of_pending_earn_rehold(void **state)
{
    (void)state;
    ta_partner_t p;
    ta_member_t m;
    char code[TA_CODE_LEN];
    ta_partner(&s_cl, &p, 1, 10, 7, "postpaid", NULL);
    ta_member(&s_cl, &m, &p);
    json_t *e = ta_earn(&s_cl, &p, &m, ta_key(), 1000, "EUR", NULL, code); /* 100 pending */
    ta_ok(e, code);
    char earn[LC_ID_STRLEN + 1];
    snprintf(earn, sizeof earn, "%s", ta_str(e, "id"));
    json_decref(e);
    json_t *r = ta_return(&s_cl, &p, ta_key(), earn, 300, code);
    ta_ok(r, code);
    assert_int_equal(ta_int(r, "points_reversed"), 30);
    json_decref(r);
    assert_int_equal(ta_acct(&s_cl, m.ids, "credits_pending"), 70);
    assert_int_equal(ta_acct(&s_cl, m.ids, "available"), 0);
    s_make_due(earn);
    s_wait_acct(m.ids, "available", 70);
    assert_int_equal(ta_acct(&s_cl, m.ids, "credits_pending"), 0);
    /* After maturing, returns reverse the posted points. */
    r = ta_return(&s_cl, &p, ta_key(), earn, 700, code);
    ta_ok(r, code);
    assert_int_equal(ta_int(r, "points_reversed"), 70);
    json_decref(r);
    assert_int_equal(ta_acct(&s_cl, m.ids, "balance"), 0);
}

/* ---- prepaid partners, grants, frozen members --------------------------------------- */

static void settlement_prepaid_budget_is_enforced(void **state)
{
    (void)state;
    ta_partner_t p;
    ta_member_t m;
    char code[TA_CODE_LEN];
    ta_partner(&s_cl, &p, 1, 10, 0, "prepaid", NULL);
    ta_member(&s_cl, &m, &p);
    /* No budget yet. */
    ta_refused(ta_earn(&s_cl, &p, &m, ta_key(), 100, "EUR", NULL, code), code,
               LC_API_BUDGET_EXHAUSTED);
    json_t *pre = ta_call(&s_cl.sc, ST_TYPE_PREPAY, &s_cl.admin, ta_key(),
                          json_pack("{s:s}", "id", p.ids), json_pack("{s:i}", "points", 100), code);
    ta_ok(pre, code);
    json_decref(pre);
    assert_int_equal(ta_earn_ok(&s_cl, &p, &m, 1000), 100);
    const char *key = ta_key();
    ta_refused(ta_earn(&s_cl, &p, &m, key, 10, "EUR", NULL, code), code, LC_API_BUDGET_EXHAUSTED);
    /* The same request retried gets the same answer. */
    ta_refused(ta_earn(&s_cl, &p, &m, key, 10, "EUR", NULL, code), code, LC_API_BUDGET_EXHAUSTED);
    ta_refused(ta_call(&s_cl.sc, ST_TYPE_GRANT, &p.who, ta_key(), NULL,
                       json_pack("{s:s, s:i, s:s}", "card_number", m.card, "points", 1, "reason",
                                 "goodwill"),
                       code),
               code, LC_API_BUDGET_EXHAUSTED);
    assert_int_equal(ta_acct(&s_cl, m.ids, "balance"), 100);
    /* More budget: earning works again with a new request. */
    pre = ta_call(&s_cl.sc, ST_TYPE_PREPAY, &s_cl.admin, ta_key(), json_pack("{s:s}", "id", p.ids),
                  json_pack("{s:i}", "points", 50), code);
    ta_ok(pre, code);
    assert_int_equal(ta_int(pre, "budget_points"), 50);
    json_decref(pre);
    assert_int_equal(ta_earn_ok(&s_cl, &p, &m, 100), 10);
}

static void settlement_grant_and_frozen_member(void **state)
{
    (void)state;
    ta_partner_t p;
    ta_member_t m;
    char code[TA_CODE_LEN];
    ta_partner(&s_cl, &p, 1, 10, 0, "postpaid", NULL);
    ta_member(&s_cl, &m, &p);
    const char *key = ta_key();
    json_t *grant =
        json_pack("{s:s, s:i, s:s}", "card_number", m.card, "points", 75, "reason", "survey");
    json_t *g = ta_call(&s_cl.sc, ST_TYPE_GRANT, &p.who, key, NULL, json_incref(grant), code);
    ta_ok(g, code);
    assert_int_equal(ta_int(g, "points"), 75);
    json_t *g2 = ta_call(&s_cl.sc, ST_TYPE_GRANT, &p.who, key, NULL, grant, code);
    ta_ok(g2, code);
    assert_true(json_equal(g, g2));
    json_decref(g);
    json_decref(g2);
    assert_int_equal(ta_acct(&s_cl, m.ids, "balance"), 75);
    ta_refused(ta_call(&s_cl.sc, ST_TYPE_GRANT, &p.who, ta_key(), NULL,
                       json_pack("{s:s, s:i, s:s}", "card_number", m.card, "points", 75, "reason",
                                 "lottery"),
                       code),
               code, LC_API_INVALID_REQUEST);
    /* A frozen member neither earns nor gets grants. */
    json_t *f =
        ta_call(&s_cl.mc, "members.freeze", &s_cl.admin, ta_key(), json_pack("{s:s}", "id", m.ids),
                json_pack("{s:s}", "reason", "fraud check"), code);
    ta_ok(f, code);
    json_decref(f);
    int64_t seq = ta_journal_seq(&s_cl);
    ta_refused(ta_earn(&s_cl, &p, &m, ta_key(), 1000, "EUR", NULL, code), code,
               LC_API_MEMBER_FROZEN);
    ta_refused(ta_call(&s_cl.sc, ST_TYPE_GRANT, &p.who, ta_key(), NULL,
                       json_pack("{s:s, s:i, s:s}", "card_number", m.card, "points", 5, "reason",
                                 "goodwill"),
                       code),
               code, LC_API_MEMBER_FROZEN);
    assert_int_equal(ta_journal_seq(&s_cl), seq);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(settlement_partners_create_get_list_prepay),
        cmocka_unit_test(settlement_earn_rounds_down_and_excludes_categories),
        cmocka_unit_test(settlement_earn_bad_input_writes_nothing),
        cmocka_unit_test(settlement_earn_retry_posts_once),
        cmocka_unit_test(settlement_pending_points_mature_then_spendable),
        cmocka_unit_test(settlement_redemption_threshold_and_member_codes),
        cmocka_unit_test(settlement_capture_void_refund),
        cmocka_unit_test(settlement_expired_hold_releases_points),
        cmocka_unit_test(settlement_return_is_proportional_and_bounded),
        cmocka_unit_test(settlement_return_into_debt_then_earn_repays),
        cmocka_unit_test(settlement_return_of_pending_earn_rehold),
        cmocka_unit_test(settlement_prepaid_budget_is_enforced),
        cmocka_unit_test(settlement_grant_and_frozen_member),
    };
    return ta_run_tests(tests, &s_cl, s_settlement_env);
}
