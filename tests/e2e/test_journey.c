/*
 * test_journey.c: the partner journey of API.md end to end, through the real
 * gateway, members, settlement and ledger processes: partners and keys,
 * enrollment, earn (rounding, excluded categories, pending points), member
 * codes, redemption (threshold, hold, capture, void, refund, expiry, concurrent
 * redemptions), returns (proportional, bounded, into debt), grants, prepaid
 * budgets, freezing, another partner's objects, roles, and idempotency. Each
 * refusal is also checked to have written nothing: the ledger's journal does
 * not move.
 */
#include "e2e.h"

#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#define HOLD_SECONDS 4 /* settlement's redemption hold in this test */

static e2e_t s_e;

static int setup(void **state)
{
    (void)state;
    const char *svc[] = {"COAL_SETTLEMENT_HOLD_SECONDS=4", NULL};
    e2e_start(&s_e, true, NULL, svc);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    e2e_stop(&s_e);
    return 0;
}

/* ---- helpers ------------------------------------------------------------------------ */

typedef struct partner {
    char id[40];
    char key[128];
} partner_t;

typedef struct member {
    char id[40];
    char card[40];
} member_t;

static void s_expect(const e2e_resp_t *r, long status, const char *code)
{
    if (r->status != status || (code && strcmp(e2e_code(r), code)))
        fail_msg("expected %ld %s, got %ld %s", status, code ? code : "", r->status,
                 r->raw ? r->raw : "");
}

/* POST with a fresh Idempotency-Key; the body is printf-formatted. */
__attribute__((format(printf, 5, 6))) static void s_post(e2e_resp_t *r, const char *key,
                                                         const char *path, long want,
                                                         const char *fmt, ...)
{
    char body[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(body, sizeof body, fmt, ap);
    va_end(ap);
    e2e_http(&s_e, "POST", path, key, e2e_idem(), body, NULL, r);
    if (want && r->status != want)
        fail_msg("POST %s %s: expected %ld, got %ld %s", path, body, want, r->status,
                 r->raw ? r->raw : "");
}

static int64_t s_journal(void)
{
    return th_sql_i64(s_e.db, "SELECT count(*) FROM ledger.journal");
}

/* Journal entries that move the member's points (not the whole journal: a hold left
 * by an earlier test may time out meanwhile). */
static int64_t s_member_journal(const char *member)
{
    char sql[256];
    snprintf(sql, sizeof sql,
             "SELECT count(*) FROM ledger.journal WHERE entry_type = 2 AND "
             "('%s' IN (debit_account_id, credit_account_id))",
             member);
    return th_sql_i64(s_e.db, sql);
}

static void s_partner(partner_t *p, const char *name, const char *funding, int pending_days,
                      const char *excluded_json)
{
    e2e_resp_t r;
    s_post(&r, s_e.admin_key, "/v1/partners", 201,
           "{\"name\":\"%s\",\"earn_rate\":{\"points\":1,\"per_amount\":200},"
           "\"pending_days\":%d,\"tariff\":{\"issue_price_micros\":10000,"
           "\"redeem_credit_micros\":9000,\"fee_bps\":150},\"funding\":\"%s\","
           "\"excluded_categories\":%s}",
           name, pending_days, funding, excluded_json);
    snprintf(p->id, sizeof p->id, "%s", e2e_str(&r, "id"));
    snprintf(p->key, sizeof p->key, "%s", e2e_str(&r, "api_key"));
    assert_int_equal(strlen(p->key), 100);
    e2e_resp_clear(&r);
}

static const char *s_app_key(void)
{
    static char key[128];
    if (!key[0]) {
        e2e_resp_t r;
        s_post(&r, s_e.admin_key, "/v1/keys", 201, "{\"role\":\"app\",\"name\":\"member app\"}");
        snprintf(key, sizeof key, "%s", e2e_str(&r, "api_key"));
        e2e_resp_clear(&r);
    }
    return key;
}

static void s_enroll(member_t *m, const partner_t *p)
{
    e2e_resp_t r;
    s_post(&r, p->key, "/v1/members", 201, "{\"email\":\"m@example.org\"}");
    snprintf(m->id, sizeof m->id, "%s", e2e_str(&r, "id"));
    snprintf(m->card, sizeof m->card, "%s", e2e_str(&r, "card_number"));
    assert_int_equal(strlen(m->card), 16);
    e2e_resp_clear(&r);
}

/* Earns for cents at p (1 point per 2.00 EUR); returns the earn id (static). */
static const char *s_earn(const partner_t *p, const member_t *m, long cents, long want_points)
{
    static char id[40];
    e2e_resp_t r;
    s_post(&r, p->key, "/v1/earn", 201,
           "{\"card_number\":\"%s\",\"receipt_id\":\"r-%ld\",\"amount\":{\"amount\":%ld,"
           "\"currency\":\"EUR\"}}",
           m->card, cents, cents);
    assert_int_equal(e2e_int(&r, "points"), want_points);
    snprintf(id, sizeof id, "%s", e2e_str(&r, "id"));
    e2e_resp_clear(&r);
    return id;
}

static long long s_balance(const partner_t *p, const member_t *m, const char *field)
{
    char path[128];
    snprintf(path, sizeof path, "/v1/cards/%s/balance", m->card);
    e2e_resp_t r;
    e2e_http(&s_e, "GET", path, p->key, NULL, NULL, NULL, &r);
    s_expect(&r, 200, NULL);
    long long v = e2e_int(&r, field);
    e2e_resp_clear(&r);
    return v;
}

static const char *s_code(const member_t *m)
{
    static char code[32];
    char path[128];
    snprintf(path, sizeof path, "/v1/members/%s/codes", m->id);
    e2e_resp_t r;
    s_post(&r, s_app_key(), path, 201, "{}");
    snprintf(code, sizeof code, "%s", e2e_str(&r, "code"));
    assert_non_null(e2e_str(&r, "expires_at"));
    e2e_resp_clear(&r);
    return code;
}

/* Authorizes points with a fresh code; returns the response (caller clears). */
static void s_authorize(e2e_resp_t *r, const partner_t *p, const member_t *m, long points,
                        const char *code)
{
    s_post(r, p->key, "/v1/redemptions", 0,
           "{\"card_number\":\"%s\",\"points\":%ld,\"member_code\":\"%s\","
           "\"receipt_id\":\"pos-1\"}",
           m->card, points, code ? code : s_code(m));
}

static void s_redemption_op(e2e_resp_t *r, const partner_t *p, const char *id, const char *op,
                            const char *body)
{
    char path[160];
    snprintf(path, sizeof path, "/v1/redemptions/%s/%s", id, op);
    e2e_http(&s_e, "POST", path, p->key, e2e_idem(), body, NULL, r);
}

/* ---- tests -------------------------------------------------------------------------- */

static void journey_partner_keys_issue_rotate_and_revoke(void **state)
{
    (void)state;
    partner_t p;
    s_partner(&p, "Keys GmbH", "postpaid", 0, "[]");
    e2e_resp_t r;
    char path[200];
    snprintf(path, sizeof path, "/v1/partners/%s", p.id);
    e2e_http(&s_e, "GET", path, s_e.admin_key, NULL, NULL, NULL, &r);
    s_expect(&r, 200, NULL);
    assert_string_equal(e2e_str(&r, "name"), "Keys GmbH");
    assert_null(strstr(r.raw, "api_key")); /* never shown again */
    assert_null(strstr(r.raw, p.key + 36));
    e2e_resp_clear(&r);
    e2e_http(&s_e, "GET", "/v1/partners", s_e.admin_key, NULL, NULL, NULL, &r);
    s_expect(&r, 200, NULL);
    assert_non_null(strstr(r.raw, p.id));
    e2e_resp_clear(&r);
    /* A second key; both work until one is revoked. */
    snprintf(path, sizeof path, "/v1/partners/%s/keys", p.id);
    s_post(&r, s_e.admin_key, path, 201, "{}");
    char key2[128], key2_id[40];
    snprintf(key2, sizeof key2, "%s", e2e_str(&r, "api_key"));
    snprintf(key2_id, sizeof key2_id, "%s", e2e_str(&r, "id"));
    e2e_resp_clear(&r);
    member_t m;
    s_enroll(&m, &p);
    partner_t p2 = p;
    snprintf(p2.key, sizeof p2.key, "%s", key2);
    assert_int_equal(s_balance(&p2, &m, "available"), 0);
    snprintf(path, sizeof path, "/v1/partners/%s/keys/%s", p.id, key2_id);
    e2e_http(&s_e, "DELETE", path, s_e.admin_key, NULL, NULL, NULL, &r);
    s_expect(&r, 204, NULL);
    e2e_resp_clear(&r);
    snprintf(path, sizeof path, "/v1/cards/%s/balance", m.card);
    e2e_http(&s_e, "GET", path, key2, NULL, NULL, NULL, &r);
    s_expect(&r, 401, "unauthenticated");
    e2e_resp_clear(&r);
    assert_int_equal(s_balance(&p, &m, "available"), 0); /* the first key still works */
    /* Revoking it again, or under another partner: 404. */
    snprintf(path, sizeof path, "/v1/partners/%s/keys/%s", p.id, key2_id);
    e2e_http(&s_e, "DELETE", path, s_e.admin_key, NULL, NULL, NULL, &r);
    s_expect(&r, 404, "not_found");
    e2e_resp_clear(&r);
    e2e_http(&s_e, "GET", "/v1/partners/00000000-0000-7000-8000-000000000001", s_e.admin_key,
             NULL, NULL, NULL, &r);
    s_expect(&r, 404, "not_found");
    e2e_resp_clear(&r);
}

static void journey_earn_rounds_down_and_skips_excluded_categories(void **state)
{
    (void)state;
    partner_t p;
    s_partner(&p, "Rounding AG", "postpaid", 0, "[\"tobacco\",\"gift_cards\"]");
    member_t m;
    s_enroll(&m, &p);
    s_earn(&p, &m, 1999, 9); /* 19.99 EUR at 1 point per 2.00 EUR: 9.995 -> 9 */
    e2e_resp_t r;
    s_post(&r, p.key, "/v1/earn", 201,
           "{\"card_number\":\"%s\",\"receipt_id\":\"r-items\",\"amount\":{\"amount\":5000,"
           "\"currency\":\"EUR\"},\"items\":[{\"sku\":\"cig\",\"category\":\"tobacco\","
           "\"amount\":3000},{\"sku\":\"milk\",\"category\":\"dairy\",\"amount\":2000}]}",
           m.card);
    assert_int_equal(e2e_int(&r, "points"), 10); /* only the 20.00 EUR of dairy */
    assert_int_equal(e2e_int(&r, "bonus_points"), 0);
    assert_string_equal(e2e_str(&r, "status"), "posted");
    e2e_resp_clear(&r);
    assert_int_equal(s_balance(&p, &m, "available"), 19);
}

static void journey_earn_bad_input_writes_nothing(void **state)
{
    (void)state;
    partner_t p;
    s_partner(&p, "Strict KG", "postpaid", 0, "[]");
    member_t m;
    s_enroll(&m, &p);
    int64_t journal = s_journal();
    struct {
        const char *body;
        long status;
        const char *code;
    } cases[] = {
        /* a field that would set the points itself */
        {"{\"card_number\":\"CARD\",\"receipt_id\":\"x\",\"amount\":{\"amount\":1000,"
         "\"currency\":\"EUR\"},\"points\":1000000}", 400, "invalid_request"},
        {"{\"card_number\":\"CARD\",\"receipt_id\":\"x\",\"amount\":{\"amount\":1000,"
         "\"currency\":\"USD\"}}", 400, "invalid_request"},
        {"{\"card_number\":\"CARD\",\"receipt_id\":\"x\",\"amount\":{\"amount\":-5,"
         "\"currency\":\"EUR\"}}", 400, "invalid_request"},
        {"{\"card_number\":\"CARD\",\"receipt_id\":\"x\",\"amount\":{\"amount\":"
         "99999999999999999999,\"currency\":\"EUR\"}}", 400, "invalid_request"},
        {"{\"card_number\":\"CARD\",\"receipt_id\":\"x\",\"amount\":\"10.00\"}", 400,
         "invalid_request"},
        {"{\"card_number\":\"CARD\",\"amount\":{\"amount\":1000,\"currency\":\"EUR\"}}", 400,
         "invalid_request"},
        {"{\"card_number\":\"CARD\",\"receipt_id\":\"x\",\"amount\":{\"amount\":1000,"
         "\"currency\":\"EUR\"},\"items\":[{\"sku\":\"a\",\"category\":\"b\",\"amount\":2000}]}",
         400, "invalid_request"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char body[600];
        const char *at = strstr(cases[i].body, "CARD");
        snprintf(body, sizeof body, "%.*s%s%s", (int)(at - cases[i].body), cases[i].body, m.card,
                 at + 4);
        e2e_resp_t r;
        s_post(&r, p.key, "/v1/earn", 0, "%s", body);
        s_expect(&r, cases[i].status, cases[i].code);
        e2e_resp_clear(&r);
    }
    e2e_resp_t r;
    s_post(&r, p.key, "/v1/earn", 0,
           "{\"card_number\":\"7001999999999990\",\"receipt_id\":\"x\",\"amount\":{\"amount\":"
           "1000,\"currency\":\"EUR\"}}");
    s_expect(&r, 404, "not_found");
    e2e_resp_clear(&r);
    assert_int_equal(s_journal(), journal);
    assert_int_equal(s_balance(&p, &m, "available"), 0);
}

static void journey_pending_points_are_not_spendable_until_mature(void **state)
{
    (void)state;
    partner_t p;
    s_partner(&p, "Travel Ltd", "postpaid", 14, "[]");
    member_t m;
    s_enroll(&m, &p);
    e2e_resp_t r;
    s_post(&r, p.key, "/v1/earn", 201,
           "{\"card_number\":\"%s\",\"receipt_id\":\"trip\",\"amount\":{\"amount\":100000,"
           "\"currency\":\"EUR\"}}",
           m.card);
    assert_string_equal(e2e_str(&r, "status"), "pending");
    assert_int_equal(e2e_int(&r, "points"), 500);
    assert_non_null(e2e_str(&r, "available_at"));
    char earn[40];
    snprintf(earn, sizeof earn, "%s", e2e_str(&r, "id"));
    e2e_resp_clear(&r);
    assert_int_equal(s_balance(&p, &m, "pending"), 500);
    assert_int_equal(s_balance(&p, &m, "available"), 0);
    s_authorize(&r, &p, &m, 300, NULL);
    s_expect(&r, 422, "insufficient_points");
    e2e_resp_clear(&r);
    /* Fourteen days pass (for this earn): the maturation sweep posts it. */
    char sql[200];
    snprintf(sql, sizeof sql,
             "WITH u AS (UPDATE settlement.earns SET available_at = 0 WHERE id = '%s' "
             "RETURNING 1) SELECT count(*) FROM u",
             earn);
    assert_int_equal(th_sql_i64(s_e.db, sql), 1);
    long long avail = 0;
    for (int i = 0; i < 100 && avail != 500; i++) {
        usleep(100 * 1000);
        avail = s_balance(&p, &m, "available");
    }
    assert_int_equal(avail, 500);
    assert_int_equal(s_balance(&p, &m, "pending"), 0);
    s_authorize(&r, &p, &m, 300, NULL);
    s_expect(&r, 201, NULL);
    e2e_resp_clear(&r);
}

static void journey_redeem_capture_refund_and_refusals(void **state)
{
    (void)state;
    partner_t shop, other;
    s_partner(&shop, "Redeem Markt", "postpaid", 0, "[]");
    s_partner(&other, "Other Markt", "postpaid", 0, "[]");
    member_t m;
    s_enroll(&m, &shop);
    s_earn(&shop, &m, 200000, 1000);
    e2e_resp_t r;
    /* Below the coalition minimum of 200 points. */
    s_authorize(&r, &shop, &m, 199, NULL);
    s_expect(&r, 422, "below_redemption_threshold");
    e2e_resp_clear(&r);
    /* A wrong code, then a used code. */
    s_authorize(&r, &shop, &m, 300, "00000000");
    s_expect(&r, 422, "invalid_member_code");
    e2e_resp_clear(&r);
    char code[32];
    snprintf(code, sizeof code, "%s", s_code(&m));
    s_authorize(&r, &shop, &m, 400, code);
    s_expect(&r, 201, NULL);
    assert_string_equal(e2e_str(&r, "status"), "authorized");
    assert_int_equal(e2e_int(&r, "points"), 400);
    assert_int_equal(json_integer_value(json_object_get(json_object_get(r.body, "value"),
                                                        "amount")),
                     400);
    char id[40];
    snprintf(id, sizeof id, "%s", e2e_str(&r, "id"));
    e2e_resp_clear(&r);
    assert_int_equal(s_balance(&shop, &m, "available"), 600); /* held */
    s_authorize(&r, &shop, &m, 300, code);
    s_expect(&r, 422, "invalid_member_code");
    e2e_resp_clear(&r);
    /* Another partner cannot see it. */
    s_redemption_op(&r, &other, id, "capture", "{}");
    s_expect(&r, 404, "not_found");
    e2e_resp_clear(&r);
    /* Above the hold: refused, the hold stays. */
    s_redemption_op(&r, &shop, id, "capture", "{\"points\":401}");
    assert_true(r.status == 400 || r.status == 409);
    e2e_resp_clear(&r);
    s_redemption_op(&r, &shop, id, "capture", "{\"points\":250}");
    s_expect(&r, 200, NULL);
    assert_string_equal(e2e_str(&r, "status"), "captured");
    assert_int_equal(e2e_int(&r, "points"), 250);
    e2e_resp_clear(&r);
    assert_int_equal(s_balance(&shop, &m, "available"), 750); /* the rest released */
    s_redemption_op(&r, &shop, id, "capture", "{}");
    s_expect(&r, 409, "conflict");
    e2e_resp_clear(&r);
    s_redemption_op(&r, &shop, id, "void", "{}");
    s_expect(&r, 409, "conflict");
    e2e_resp_clear(&r);
    s_redemption_op(&r, &shop, id, "refund", "{\"points\":100}");
    s_expect(&r, 200, NULL);
    assert_int_equal(e2e_int(&r, "refunded_points"), 100);
    e2e_resp_clear(&r);
    s_redemption_op(&r, &shop, id, "refund", "{\"points\":151}");
    assert_true(r.status == 400 || r.status == 409);
    e2e_resp_clear(&r);
    assert_int_equal(s_balance(&shop, &m, "available"), 850);
    /* A void releases everything. */
    s_authorize(&r, &shop, &m, 500, NULL);
    s_expect(&r, 201, NULL);
    snprintf(id, sizeof id, "%s", e2e_str(&r, "id"));
    e2e_resp_clear(&r);
    assert_int_equal(s_balance(&shop, &m, "available"), 350);
    s_redemption_op(&r, &shop, id, "void", "{}");
    s_expect(&r, 200, NULL);
    assert_string_equal(e2e_str(&r, "status"), "voided");
    e2e_resp_clear(&r);
    assert_int_equal(s_balance(&shop, &m, "available"), 850);
}

static void journey_expired_hold_releases_points(void **state)
{
    (void)state;
    partner_t p;
    s_partner(&p, "Slow Kasse", "postpaid", 0, "[]");
    member_t m;
    s_enroll(&m, &p);
    s_earn(&p, &m, 100000, 500);
    e2e_resp_t r;
    s_authorize(&r, &p, &m, 300, NULL);
    s_expect(&r, 201, NULL);
    char id[40];
    snprintf(id, sizeof id, "%s", e2e_str(&r, "id"));
    e2e_resp_clear(&r);
    assert_int_equal(s_balance(&p, &m, "available"), 200);
    long long avail = 200;
    for (int i = 0; i < 100 && avail != 500; i++) {
        usleep(100 * 1000);
        avail = s_balance(&p, &m, "available");
    }
    assert_int_equal(avail, 500);
    s_redemption_op(&r, &p, id, "capture", "{}");
    s_expect(&r, 409, "conflict");
    e2e_resp_clear(&r);
    assert_int_equal(s_balance(&p, &m, "available"), 500);
}

typedef struct racer {
    const partner_t *p;
    const member_t *m;
    char code[32];
    e2e_resp_t r;
} racer_t;

static void *s_race(void *arg)
{
    racer_t *x = arg;
    s_authorize(&x->r, x->p, x->m, 300, x->code);
    return NULL;
}

static void journey_concurrent_redemptions_cannot_overspend(void **state)
{
    (void)state;
    partner_t p;
    s_partner(&p, "Race Shop", "postpaid", 0, "[]");
    member_t m;
    s_enroll(&m, &p);
    s_earn(&p, &m, 100000, 500);
    racer_t x[2] = {{.p = &p, .m = &m}, {.p = &p, .m = &m}};
    /* Two codes first (a new code does not void an unused one). */
    snprintf(x[0].code, sizeof x[0].code, "%s", s_code(&m));
    snprintf(x[1].code, sizeof x[1].code, "%s", s_code(&m));
    pthread_t t[2];
    for (int i = 0; i < 2; i++)
        assert_int_equal(pthread_create(&t[i], NULL, s_race, &x[i]), 0);
    for (int i = 0; i < 2; i++)
        pthread_join(t[i], NULL);
    int ok = 0, short_ = 0;
    for (int i = 0; i < 2; i++) {
        ok += x[i].r.status == 201;
        short_ += x[i].r.status == 422 && !strcmp(e2e_code(&x[i].r), "insufficient_points");
        e2e_resp_clear(&x[i].r);
    }
    assert_int_equal(ok, 1);
    assert_int_equal(short_, 1);
    assert_int_equal(s_balance(&p, &m, "available"), 200);
}

static void journey_returns_are_proportional_bounded_and_may_leave_debt(void **state)
{
    (void)state;
    partner_t p, other;
    s_partner(&p, "Return Mode", "postpaid", 0, "[]");
    s_partner(&other, "Not Yours", "postpaid", 0, "[]");
    member_t m;
    s_enroll(&m, &p);
    char earn[40];
    snprintf(earn, sizeof earn, "%s", s_earn(&p, &m, 100000, 500));
    e2e_resp_t r;
    /* 333.33 EUR of 1000 returned: 166.665 points, rounded up. */
    s_post(&r, p.key, "/v1/returns", 201,
           "{\"earn_id\":\"%s\",\"amount\":{\"amount\":33333,\"currency\":\"EUR\"}}", earn);
    assert_int_equal(e2e_int(&r, "points_reversed"), 167);
    e2e_resp_clear(&r);
    assert_int_equal(s_balance(&p, &m, "available"), 333);
    /* More than what remains of the purchase. */
    int64_t journal = s_journal();
    s_post(&r, p.key, "/v1/returns", 0,
           "{\"earn_id\":\"%s\",\"amount\":{\"amount\":66668,\"currency\":\"EUR\"}}", earn);
    s_expect(&r, 409, "conflict");
    e2e_resp_clear(&r);
    /* Another partner's earn. */
    s_post(&r, other.key, "/v1/returns", 0,
           "{\"earn_id\":\"%s\",\"amount\":{\"amount\":100,\"currency\":\"EUR\"}}", earn);
    s_expect(&r, 404, "not_found");
    e2e_resp_clear(&r);
    assert_int_equal(s_journal(), journal);
    /* Spend 300, then return the rest of the purchase: the balance goes below
     * zero, and the next earn pays that debt first. */
    s_authorize(&r, &p, &m, 300, NULL);
    s_expect(&r, 201, NULL);
    char red[40];
    snprintf(red, sizeof red, "%s", e2e_str(&r, "id"));
    e2e_resp_clear(&r);
    s_redemption_op(&r, &p, red, "capture", "{}");
    s_expect(&r, 200, NULL);
    e2e_resp_clear(&r);
    s_post(&r, p.key, "/v1/returns", 201,
           "{\"earn_id\":\"%s\",\"amount\":{\"amount\":66667,\"currency\":\"EUR\"}}", earn);
    assert_int_equal(e2e_int(&r, "points_reversed"), 333); /* capped at what was issued */
    e2e_resp_clear(&r);
    assert_int_equal(s_balance(&p, &m, "available"), -300);
    s_earn(&p, &m, 80000, 400);
    assert_int_equal(s_balance(&p, &m, "available"), 100);
    assert_int_equal(th_sql_i64(s_e.db, "SELECT sum(credits_posted - debits_posted) FROM "
                                        "ledger.accounts"),
                     0);
}

static void journey_prepaid_partner_stops_earning_when_budget_is_used(void **state)
{
    (void)state;
    partner_t p;
    s_partner(&p, "Prepaid Kiosk", "prepaid", 0, "[]");
    member_t m;
    s_enroll(&m, &p);
    e2e_resp_t r;
    char path[200];
    snprintf(path, sizeof path, "/v1/partners/%s/prepayments", p.id);
    s_post(&r, s_e.admin_key, path, 201, "{\"points\":100}");
    e2e_resp_clear(&r);
    s_earn(&p, &m, 12000, 60);
    int64_t journal = s_journal();
    s_post(&r, p.key, "/v1/earn", 0,
           "{\"card_number\":\"%s\",\"receipt_id\":\"over\",\"amount\":{\"amount\":12000,"
           "\"currency\":\"EUR\"}}",
           m.card);
    s_expect(&r, 422, "partner_budget_exhausted");
    e2e_resp_clear(&r);
    assert_int_equal(s_journal(), journal);
    assert_int_equal(s_balance(&p, &m, "available"), 60);
}

static void journey_grants_and_frozen_members(void **state)
{
    (void)state;
    partner_t p;
    s_partner(&p, "Survey Co", "postpaid", 0, "[]");
    member_t m;
    s_enroll(&m, &p);
    e2e_resp_t r;
    s_post(&r, p.key, "/v1/grants", 201,
           "{\"card_number\":\"%s\",\"points\":250,\"reason\":\"survey\"}", m.card);
    assert_int_equal(e2e_int(&r, "points"), 250);
    e2e_resp_clear(&r);
    s_post(&r, p.key, "/v1/grants", 0,
           "{\"card_number\":\"%s\",\"points\":250,\"reason\":\"because\"}", m.card);
    s_expect(&r, 400, "invalid_request");
    e2e_resp_clear(&r);
    s_post(&r, p.key, "/v1/grants", 0,
           "{\"card_number\":\"%s\",\"points\":0,\"reason\":\"goodwill\"}", m.card);
    s_expect(&r, 400, "invalid_request");
    e2e_resp_clear(&r);
    assert_int_equal(s_balance(&p, &m, "available"), 250);
    char path[200];
    snprintf(path, sizeof path, "/v1/members/%s/freeze", m.id);
    s_post(&r, s_e.admin_key, path, 200, "{\"reason\":\"fraud check\"}");
    e2e_resp_clear(&r);
    s_post(&r, p.key, "/v1/earn", 0,
           "{\"card_number\":\"%s\",\"receipt_id\":\"f\",\"amount\":{\"amount\":1000,"
           "\"currency\":\"EUR\"}}",
           m.card);
    s_expect(&r, 423, "member_frozen");
    e2e_resp_clear(&r);
    snprintf(path, sizeof path, "/v1/members/%s/codes", m.id);
    s_post(&r, s_app_key(), path, 0, "{}");
    s_expect(&r, 423, "member_frozen");
    e2e_resp_clear(&r);
    snprintf(path, sizeof path, "/v1/members/%s/unfreeze", m.id);
    s_post(&r, s_e.admin_key, path, 200, "{\"reason\":\"cleared\"}");
    e2e_resp_clear(&r);
    s_authorize(&r, &p, &m, 200, NULL);
    s_expect(&r, 201, NULL);
    e2e_resp_clear(&r);
}

static void journey_roles_are_enforced(void **state)
{
    (void)state;
    partner_t p;
    s_partner(&p, "Role Play", "postpaid", 0, "[]");
    e2e_resp_t r;
    s_post(&r, p.key, "/v1/partners", 0, "{\"name\":\"x\"}");
    s_expect(&r, 403, "forbidden");
    e2e_resp_clear(&r);
    s_post(&r, s_app_key(), "/v1/earn", 0, "{}");
    s_expect(&r, 403, "forbidden");
    e2e_resp_clear(&r);
    s_post(&r, s_e.admin_key, "/v1/members", 0, "{}");
    s_expect(&r, 403, "forbidden");
    e2e_resp_clear(&r);
    e2e_http(&s_e, "GET", "/v1/members/00000000-0000-7000-8000-000000000000", p.key, NULL, NULL,
             NULL, &r);
    s_expect(&r, 403, "forbidden");
    e2e_resp_clear(&r);
}

static void journey_idempotent_earn_posts_once(void **state)
{
    (void)state;
    partner_t p;
    s_partner(&p, "Retry Shop", "postpaid", 0, "[]");
    member_t m;
    s_enroll(&m, &p);
    char body[300];
    snprintf(body, sizeof body,
             "{\"card_number\":\"%s\",\"receipt_id\":\"once\",\"amount\":{\"amount\":2000,"
             "\"currency\":\"EUR\"}}",
             m.card);
    const char *idem = "pos-7-receipt-once";
    int64_t journal = s_member_journal(m.id);
    e2e_resp_t a, b, c;
    e2e_http(&s_e, "POST", "/v1/earn", p.key, idem, body, NULL, &a);
    s_expect(&a, 201, NULL);
    e2e_http(&s_e, "POST", "/v1/earn", p.key, idem, body, NULL, &b);
    s_expect(&b, 201, NULL);
    assert_true(b.replayed);
    assert_string_equal(a.raw, b.raw);
    /* After a gateway restart the record is still there (it is in PostgreSQL). */
    e2e_restart_gateway(&s_e);
    e2e_http(&s_e, "POST", "/v1/earn", p.key, idem, body, NULL, &c);
    assert_true(c.replayed);
    assert_string_equal(a.raw, c.raw);
    e2e_resp_clear(&c);
    assert_int_equal(s_member_journal(m.id), journal + 1);
    assert_int_equal(s_balance(&p, &m, "available"), 10);
    /* The same key with another body. */
    snprintf(body, sizeof body,
             "{\"card_number\":\"%s\",\"receipt_id\":\"once\",\"amount\":{\"amount\":2001,"
             "\"currency\":\"EUR\"}}",
             m.card);
    e2e_http(&s_e, "POST", "/v1/earn", p.key, idem, body, NULL, &c);
    s_expect(&c, 409, "idempotency_key_reused");
    e2e_resp_clear(&c);
    /* Without a key. */
    e2e_http(&s_e, "POST", "/v1/earn", p.key, NULL, body, NULL, &c);
    s_expect(&c, 400, "idempotency_key_required");
    e2e_resp_clear(&c);
    assert_int_equal(s_member_journal(m.id), journal + 1);
    e2e_resp_clear(&a);
    e2e_resp_clear(&b);
}

static void journey_household_cards_share_one_balance(void **state)
{
    (void)state;
    partner_t p;
    s_partner(&p, "Family Store", "postpaid", 0, "[]");
    member_t m, second;
    s_enroll(&m, &p);
    e2e_resp_t r;
    char path[200];
    snprintf(path, sizeof path, "/v1/members/%s/cards", m.id);
    s_post(&r, p.key, path, 201, "{}");
    second = m;
    snprintf(second.card, sizeof second.card, "%s", e2e_str(&r, "card_number"));
    assert_string_not_equal(second.card, m.card);
    e2e_resp_clear(&r);
    /* A given card number must carry a valid check digit and be free. */
    s_post(&r, p.key, path, 0, "{\"card_number\":\"7001000000000013\"}");
    s_expect(&r, 400, "invalid_request");
    e2e_resp_clear(&r);
    s_post(&r, p.key, path, 0, "{\"card_number\":\"%s\"}", m.card);
    s_expect(&r, 409, "conflict");
    e2e_resp_clear(&r);
    s_earn(&p, &m, 1000, 5);
    s_earn(&p, &second, 2000, 10);
    assert_int_equal(s_balance(&p, &m, "available"), 15);
    assert_int_equal(s_balance(&p, &second, "available"), 15);
    /* The member app's view: both cards, the balance, what expires next. */
    snprintf(path, sizeof path, "/v1/members/%s", m.id);
    e2e_http(&s_e, "GET", path, s_app_key(), NULL, NULL, NULL, &r);
    s_expect(&r, 200, NULL);
    assert_string_equal(e2e_str(&r, "id"), m.id);
    assert_int_equal(e2e_int(&r, "available"), 15);
    json_t *cards = json_object_get(r.body, "card_numbers");
    assert_int_equal(json_array_size(cards), 2);
    assert_string_equal(json_string_value(json_array_get(cards, 0)), m.card);
    json_t *expiring = json_object_get(r.body, "expiring");
    assert_true(json_array_size(expiring) >= 1);
    e2e_resp_clear(&r);
    e2e_http(&s_e, "GET", "/v1/members/00000000-0000-7000-8000-00000000abcd", s_app_key(), NULL,
             NULL, NULL, &r);
    s_expect(&r, 404, "not_found");
    e2e_resp_clear(&r);    /* The history, newest first, fills from the journal stream within moments. */
    snprintf(path, sizeof path, "/v1/members/%s/history?limit=10", m.id);
    size_t n = 0;
    for (int i = 0; i < 100 && n < 2; i++) {
        e2e_http(&s_e, "GET", path, s_app_key(), NULL, NULL, NULL, &r);
        s_expect(&r, 200, NULL);
        n = json_array_size(json_object_get(r.body, "data"));
        if (n < 2) {
            e2e_resp_clear(&r);
            usleep(100 * 1000);
        }
    }
    assert_int_equal(n, 2);
    json_t *first = json_array_get(json_object_get(r.body, "data"), 0);
    assert_string_equal(json_string_value(json_object_get(first, "type")), "earn");
    assert_int_equal(json_integer_value(json_object_get(first, "points")), 10); /* newest */
    assert_string_equal(json_string_value(json_object_get(first, "partner_id")), p.id);
    e2e_resp_clear(&r);
}

typedef struct twin {
    e2e_t *gw;
    const char *key, *idem, *body;
    e2e_resp_t r;
} twin_t;

static void *s_twin(void *arg)
{
    twin_t *t = arg;
    e2e_http(t->gw, "POST", "/v1/earn", t->key, t->idem, t->body, NULL, &t->r);
    return NULL;
}

static void journey_two_gateways_share_keys_and_idempotency(void **state)
{
    (void)state;
    partner_t p;
    s_partner(&p, "Two Doors", "postpaid", 0, "[]");
    member_t m;
    s_enroll(&m, &p);
    e2e_t second;
    e2e_add_gateway(&s_e, &second);
    assert_int_not_equal(second.port, s_e.port);
    char body[300];
    snprintf(body, sizeof body,
             "{\"card_number\":\"%s\",\"receipt_id\":\"twin\",\"amount\":{\"amount\":4000,"
             "\"currency\":\"EUR\"}}",
             m.card);
    int64_t journal = s_journal();
    enum { N = 6 };
    twin_t t[N];
    pthread_t th[N];
    for (int i = 0; i < N; i++) {
        t[i] = (twin_t){.gw = i % 2 ? &second : &s_e, .key = p.key, .idem = "twin-1",
                        .body = body};
        assert_int_equal(pthread_create(&th[i], NULL, s_twin, &t[i]), 0);
    }
    int fresh = 0;
    for (int i = 0; i < N; i++) {
        pthread_join(th[i], NULL);
        s_expect(&t[i].r, 201, NULL);
        fresh += !t[i].r.replayed;
        assert_string_equal(t[i].r.raw, t[0].r.raw);
    }
    assert_int_equal(fresh, 1);
    assert_int_equal(s_journal(), journal + 1);
    assert_int_equal(s_balance(&p, &m, "available"), 20);
    for (int i = 0; i < N; i++)
        e2e_resp_clear(&t[i].r);
    e2e_stop_gateway(&second);
}

static void journey_health_reports_every_service(void **state)
{
    (void)state;
    e2e_resp_t r;
    e2e_http(&s_e, "GET", "/healthz", NULL, NULL, NULL, NULL, &r);
    s_expect(&r, 200, NULL);
    assert_string_equal(e2e_str(&r, "status"), "ok");
    e2e_resp_clear(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(journey_health_reports_every_service),
        cmocka_unit_test(journey_partner_keys_issue_rotate_and_revoke),
        cmocka_unit_test(journey_earn_rounds_down_and_skips_excluded_categories),
        cmocka_unit_test(journey_earn_bad_input_writes_nothing),
        cmocka_unit_test(journey_pending_points_are_not_spendable_until_mature),
        cmocka_unit_test(journey_redeem_capture_refund_and_refusals),
        cmocka_unit_test(journey_expired_hold_releases_points),
        cmocka_unit_test(journey_concurrent_redemptions_cannot_overspend),
        cmocka_unit_test(journey_returns_are_proportional_bounded_and_may_leave_debt),
        cmocka_unit_test(journey_prepaid_partner_stops_earning_when_budget_is_used),
        cmocka_unit_test(journey_grants_and_frozen_members),
        cmocka_unit_test(journey_roles_are_enforced),
        cmocka_unit_test(journey_idempotent_earn_posts_once),
        cmocka_unit_test(journey_two_gateways_share_keys_and_idempotency),
        cmocka_unit_test(journey_household_cards_share_one_balance),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
