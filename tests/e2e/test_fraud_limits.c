/*
 * test_fraud_limits.c: fraud limits over HTTP (issue 8, item 6), through the gateway
 * to settlement, members, donation and the ledger:
 *   - wrong member codes lock the member's codes for a while (423
 *     member_code_locked), then work again;
 *   - a large redemption soon after a card was added is held (423 cooling_off), a
 *     small one is not, and the same large one passes once the period is over;
 *   - daily caps on redemptions and on donations (422 daily_limit_exceeded); voided
 *     redemptions do not count.
 * Every refusal leaves the ledger's journal as it was. "A while ago" is made by moving
 * the stored times back in the database as superuser; the statuses and bodies are
 * checked against proto/openapi.yaml by tests/run.sh.
 */
#include "e2e.h"
#include "harness.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

static e2e_t s_e;

static const char *const s_svc_env[] = {
    "COAL_SETTLEMENT_DAILY_REDEMPTION_CAP=8000",
    "COAL_DONATION_DAILY_CAP=1000",
    "COAL_MEMBERS_CODE_ATTEMPTS=3",
    "COAL_MEMBERS_COOLING_OFF_POINTS=5000",
    NULL,
};

static char s_pkey[128], s_akey[128];

static void s_expect(const e2e_resp_t *r, long status, const char *code, const char *what)
{
    if (r->status != status || (code && strcmp(e2e_code(r), code)))
        fail_msg("%s: expected %ld %s, got %ld %s", what, status, code ? code : "", r->status,
                 r->raw ? r->raw : "");
}

/* POST body (printf) with a fresh idempotency key; *r to clear. */
__attribute__((format(printf, 4, 5))) static void s_post(e2e_resp_t *r, const char *key,
                                                         const char *path, const char *fmt, ...)
{
    char body[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(body, sizeof body, fmt, ap);
    va_end(ap);
    e2e_http(&s_e, "POST", path, key, e2e_idem(), body, NULL, r);
}

static int setup(void **state)
{
    (void)state;
    e2e_start(&s_e, true, NULL, s_svc_env);
    e2e_resp_t r;
    s_post(&r, s_e.admin_key, "/v1/partners",
           "{\"name\":\"Limits Shop\",\"earn_rate\":{\"points\":1,\"per_amount\":1},"
           "\"tariff\":{\"issue_price_micros\":10000,\"redeem_credit_micros\":9000,"
           "\"fee_bps\":150},\"funding\":\"postpaid\"}");
    s_expect(&r, 201, NULL, "partner");
    snprintf(s_pkey, sizeof s_pkey, "%s", e2e_str(&r, "api_key"));
    e2e_resp_clear(&r);
    s_post(&r, s_e.admin_key, "/v1/keys", "{\"role\":\"app\",\"name\":\"member app\"}");
    s_expect(&r, 201, NULL, "app key");
    snprintf(s_akey, sizeof s_akey, "%s", e2e_str(&r, "api_key"));
    e2e_resp_clear(&r);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    e2e_stop(&s_e);
    return 0;
}

typedef struct member {
    char id[40];
    char card[40];
} member_t;

/* Enrolls a member and earns it points. */
static void s_member(member_t *m, long points)
{
    e2e_resp_t r;
    s_post(&r, s_pkey, "/v1/members", "{}");
    s_expect(&r, 201, NULL, "enroll");
    snprintf(m->id, sizeof m->id, "%s", e2e_str(&r, "id"));
    snprintf(m->card, sizeof m->card, "%s", e2e_str(&r, "card_number"));
    e2e_resp_clear(&r);
    s_post(&r, s_pkey, "/v1/earn",
           "{\"card_number\":\"%s\",\"receipt_id\":\"e-%s\",\"amount\":{\"amount\":%ld,"
           "\"currency\":\"EUR\"}}",
           m->card, m->id, points);
    s_expect(&r, 201, NULL, "earn");
    e2e_resp_clear(&r);
}

/* A fresh code for m into code (32 bytes); returns the status (201, or 423 locked). */
static long s_code(const member_t *m, char *code)
{
    char path[128];
    snprintf(path, sizeof path, "/v1/members/%s/codes", m->id);
    e2e_resp_t r;
    s_post(&r, s_akey, path, "{}");
    long st = r.status;
    if (st == 201)
        snprintf(code, 32, "%s", e2e_str(&r, "code"));
    else
        s_expect(&r, 423, "member_code_locked", "issue code");
    e2e_resp_clear(&r);
    return st;
}

/* POST /v1/redemptions of points with code; expects want (and code want_code). The
 * redemption id goes to id when given and created. */
static void s_redeem(const member_t *m, long points, const char *code, long want,
                     const char *want_code, char *id)
{
    e2e_resp_t r;
    s_post(&r, s_pkey, "/v1/redemptions",
           "{\"card_number\":\"%s\",\"points\":%ld,\"member_code\":\"%s\","
           "\"receipt_id\":\"pos\"}",
           m->card, points, code);
    s_expect(&r, want, want_code, "authorize");
    if (id && want == 201)
        snprintf(id, 40, "%s", e2e_str(&r, "id"));
    e2e_resp_clear(&r);
}

static int64_t s_journal_seq(void)
{
    return th_sql_i64(s_e.db, "SELECT COALESCE(max(seq), 0) FROM ledger.journal");
}

static void limits_wrong_codes_lock_then_release(void **state)
{
    (void)state;
    member_t m;
    s_member(&m, 3000);
    char good[32];
    assert_int_equal(s_code(&m, good), 201);
    int64_t seq = s_journal_seq();
    for (int i = 0; i < 3; i++)
        s_redeem(&m, 300, "00000000", 422, "invalid_member_code", NULL);
    /* Locked: no new code, and no use of any (not counted either). */
    char code[32];
    assert_int_equal(s_code(&m, code), 423);
    s_redeem(&m, 300, good, 423, "member_code_locked", NULL);
    assert_int_equal(s_journal_seq(), seq);
    /* Half an hour later (the failures moved back): codes work again. */
    char sql[256];
    snprintf(sql, sizeof sql,
             "WITH u AS (UPDATE members.code_failures SET at = at - 1860000000 WHERE "
             "member_id = '%s' RETURNING 1) SELECT count(*) FROM u",
             m.id);
    assert_int_equal(th_sql_i64(s_e.db, sql), 3);
    assert_int_equal(s_code(&m, code), 201);
    s_redeem(&m, 300, code, 201, NULL, NULL);
}

static void limits_cooling_off_after_a_new_card(void **state)
{
    (void)state;
    member_t m;
    s_member(&m, 7000);
    char path[128];
    snprintf(path, sizeof path, "/v1/members/%s/cards", m.id);
    e2e_resp_t r;
    s_post(&r, s_pkey, path, "{}");
    s_expect(&r, 201, NULL, "add card");
    e2e_resp_clear(&r);
    char code[32];
    assert_int_equal(s_code(&m, code), 201);
    int64_t seq = s_journal_seq();
    s_redeem(&m, 5000, code, 423, "cooling_off", NULL);
    assert_int_equal(s_journal_seq(), seq);
    s_redeem(&m, 300, code, 201, NULL, NULL); /* below the limit; the code still works */
    /* Three days later the large one passes. */
    char sql[256];
    snprintf(sql, sizeof sql,
             "WITH u AS (UPDATE members.cards SET created_at = created_at - 260000000000 "
             "WHERE member_id = '%s' RETURNING 1) SELECT count(*) FROM u",
             m.id);
    assert_int_equal(th_sql_i64(s_e.db, sql), 2);
    assert_int_equal(s_code(&m, code), 201);
    s_redeem(&m, 5000, code, 201, NULL, NULL);
}

static void limits_daily_redemption_cap(void **state)
{
    (void)state;
    member_t m;
    s_member(&m, 20000);
    char code[32], first[40];
    assert_int_equal(s_code(&m, code), 201);
    s_redeem(&m, 4000, code, 201, NULL, first);
    assert_int_equal(s_code(&m, code), 201);
    s_redeem(&m, 3000, code, 201, NULL, NULL);
    int64_t seq = s_journal_seq();
    assert_int_equal(s_code(&m, code), 201);
    s_redeem(&m, 1001, code, 422, "daily_limit_exceeded", NULL); /* 8001 > 8000 */
    assert_int_equal(s_journal_seq(), seq);
    /* A voided redemption no longer counts; the code was not used by the refusal. */
    char path[160];
    snprintf(path, sizeof path, "/v1/redemptions/%s/void", first);
    e2e_resp_t r;
    s_post(&r, s_pkey, path, "{}");
    s_expect(&r, 200, NULL, "void");
    e2e_resp_clear(&r);
    s_redeem(&m, 1001, code, 201, NULL, NULL);
}

static void limits_daily_donation_cap(void **state)
{
    (void)state;
    member_t m;
    s_member(&m, 5000);
    e2e_resp_t r;
    s_post(&r, s_e.admin_key, "/v1/charities",
           "{\"name\":\"Limits Charity\",\"registration_no\":\"LIM-1\",\"payout_account\":"
           "\"DE02120300000000202051\"}");
    s_expect(&r, 201, NULL, "charity");
    char charity[40];
    snprintf(charity, sizeof charity, "%s", e2e_str(&r, "id"));
    e2e_resp_clear(&r);
    s_post(&r, s_akey, "/v1/donations", "{\"member_id\":\"%s\",\"charity_id\":\"%s\",\"points\":600}",
           m.id, charity);
    s_expect(&r, 201, NULL, "donation 1");
    e2e_resp_clear(&r);
    int64_t seq = s_journal_seq();
    s_post(&r, s_akey, "/v1/donations", "{\"member_id\":\"%s\",\"charity_id\":\"%s\",\"points\":401}",
           m.id, charity);
    s_expect(&r, 422, "daily_limit_exceeded", "donation 2");
    e2e_resp_clear(&r);
    assert_int_equal(s_journal_seq(), seq);
    s_post(&r, s_akey, "/v1/donations", "{\"member_id\":\"%s\",\"charity_id\":\"%s\",\"points\":400}",
           m.id, charity);
    s_expect(&r, 201, NULL, "donation 3");
    e2e_resp_clear(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(limits_wrong_codes_lock_then_release),
        cmocka_unit_test(limits_cooling_off_after_a_new_card),
        cmocka_unit_test(limits_daily_redemption_cap),
        cmocka_unit_test(limits_daily_donation_cap),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
