/*
 * test_tiers_e2e.c: member tiers over HTTP (issue 4, item 2), through the gateway to
 * settlement, the ledger and members: the tier in GET /v1/cards/{card}/balance and
 * GET /v1/members/{id}, its upgrade at once, and the tier bonus in the earn's
 * bonus_points (and in the member's history as a bonus). Every exchange is also
 * checked against proto/openapi.yaml by tests/run.sh.
 */
#include "e2e.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

static e2e_t s_e;

/* Named tiers other than the defaults, to show the names are configuration. */
static const char *const s_svc_env[] = {
    "COAL_TIERS_NAMES=blue,silver,platinum",
    "COAL_TIERS_THRESHOLDS=0,100,1000",
    "COAL_TIERS_MULTIPLIERS_BPS=10000,11000,20000",
    NULL,
};

static int setup(void **state)
{
    (void)state;
    e2e_start(&s_e, true, NULL, s_svc_env);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    e2e_stop(&s_e);
    return 0;
}

static void s_ok(const e2e_resp_t *r, long want, const char *what)
{
    if (r->status != want)
        fail_msg("%s: expected %ld, got %ld %s", what, want, r->status, r->raw ? r->raw : "");
}

static void tiers_e2e_upgrade_shows_at_once_and_pays_a_bonus(void **state)
{
    (void)state;
    e2e_resp_t r;
    e2e_http(&s_e, "POST", "/v1/partners", s_e.admin_key, e2e_idem(),
             "{\"name\":\"Tier Shop\",\"earn_rate\":{\"points\":1,\"per_amount\":100},"
             "\"tariff\":{\"issue_price_micros\":10000,\"redeem_credit_micros\":9000,"
             "\"fee_bps\":150},\"funding\":\"postpaid\"}",
             NULL, &r);
    s_ok(&r, 201, "create partner");
    char pkey[128];
    snprintf(pkey, sizeof pkey, "%s", e2e_str(&r, "api_key"));
    e2e_resp_clear(&r);
    e2e_http(&s_e, "POST", "/v1/keys", s_e.admin_key, e2e_idem(),
             "{\"role\":\"app\",\"name\":\"member app\"}", NULL, &r);
    s_ok(&r, 201, "app key");
    char akey[128];
    snprintf(akey, sizeof akey, "%s", e2e_str(&r, "api_key"));
    e2e_resp_clear(&r);
    e2e_http(&s_e, "POST", "/v1/members", pkey, e2e_idem(), "{}", NULL, &r);
    s_ok(&r, 201, "enroll");
    char card[40], member[40], path[128], mpath[128], body[256];
    snprintf(card, sizeof card, "%s", e2e_str(&r, "card_number"));
    snprintf(member, sizeof member, "%s", e2e_str(&r, "id"));
    e2e_resp_clear(&r);
    snprintf(path, sizeof path, "/v1/cards/%s/balance", card);
    snprintf(mpath, sizeof mpath, "/v1/members/%s", member);

    e2e_http(&s_e, "GET", path, pkey, NULL, NULL, NULL, &r);
    s_ok(&r, 200, "balance");
    assert_string_equal(e2e_str(&r, "tier"), "blue");
    e2e_resp_clear(&r);

    /* 100 points reach silver: shown at once; this earn had no bonus. */
    snprintf(body, sizeof body,
             "{\"card_number\":\"%s\",\"receipt_id\":\"t-1\",\"amount\":{\"amount\":10000,"
             "\"currency\":\"EUR\"}}",
             card);
    e2e_http(&s_e, "POST", "/v1/earn", pkey, e2e_idem(), body, NULL, &r);
    s_ok(&r, 201, "earn 1");
    assert_int_equal(e2e_int(&r, "bonus_points"), 0);
    e2e_resp_clear(&r);
    e2e_http(&s_e, "GET", path, pkey, NULL, NULL, NULL, &r);
    s_ok(&r, 200, "balance");
    assert_string_equal(e2e_str(&r, "tier"), "silver");
    e2e_resp_clear(&r);

    /* The next earn: 1.1x, the extra 10 points from the coalition. */
    snprintf(body, sizeof body,
             "{\"card_number\":\"%s\",\"receipt_id\":\"t-2\",\"amount\":{\"amount\":10000,"
             "\"currency\":\"EUR\"}}",
             card);
    e2e_http(&s_e, "POST", "/v1/earn", pkey, e2e_idem(), body, NULL, &r);
    s_ok(&r, 201, "earn 2");
    assert_int_equal(e2e_int(&r, "points"), 100);
    assert_int_equal(e2e_int(&r, "bonus_points"), 10);
    e2e_resp_clear(&r);
    e2e_http(&s_e, "GET", mpath, akey, NULL, NULL, NULL, &r);
    s_ok(&r, 200, "member");
    assert_string_equal(e2e_str(&r, "tier"), "silver");
    assert_int_equal(e2e_int(&r, "available"), 210);
    e2e_resp_clear(&r);

    /* The history shows the tier bonus as a bonus (the journal consumer may lag). */
    char hpath[160];
    snprintf(hpath, sizeof hpath, "/v1/members/%s/history", member);
    bool seen = false;
    for (int i = 0; i < 100 && !seen; i++) {
        e2e_http(&s_e, "GET", hpath, akey, NULL, NULL, NULL, &r);
        s_ok(&r, 200, "history");
        seen = r.raw && strstr(r.raw, "\"type\":\"bonus\"") && strstr(r.raw, "\"points\":10");
        e2e_resp_clear(&r);
        if (!seen)
            usleep(50000);
    }
    assert_true(seen);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(tiers_e2e_upgrade_shows_at_once_and_pays_a_bonus),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
