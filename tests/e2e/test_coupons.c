/*
 * test_coupons.c: coupons over HTTP (issue 4, item 1), through the gateway to
 * settlement, the ledger and members: POST /v1/coupons (admin) with its refusals,
 * POST /v1/members/{id}/coupons/{code}/activate (app) with its 422 and its
 * idempotence, and earns with coupon_codes (applied, rejected with a reason) and a
 * return reversing base and bonus. Every exchange is also checked against
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

#define HOUR_US (INT64_C(3600) * 1000000)

static e2e_t s_e;

static int setup(void **state)
{
    (void)state;
    e2e_start(&s_e, true, NULL, NULL);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    e2e_stop(&s_e);
    return 0;
}

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

/* POST with idem (NULL: a fresh key); the body is printf-formatted. */
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

static const char *s_at(int64_t delta)
{
    static char buf[4][LC_RFC3339_MAX];
    static unsigned n;
    char *b = buf[n++ % 4];
    assert_int_equal(lc_time_format(lc_now_us() + delta, b), LC_OK);
    return b;
}

static void s_partner(partner_t *p)
{
    e2e_resp_t r;
    s_post(&r, s_e.admin_key, NULL, "/v1/partners", 201,
           "{\"name\":\"Coupon Shop\",\"earn_rate\":{\"points\":1,\"per_amount\":100},"
           "\"tariff\":{\"issue_price_micros\":10000,\"redeem_credit_micros\":9000,"
           "\"fee_bps\":150},\"funding\":\"postpaid\"}");
    snprintf(p->id, sizeof p->id, "%s", e2e_str(&r, "id"));
    snprintf(p->key, sizeof p->key, "%s", e2e_str(&r, "api_key"));
    e2e_resp_clear(&r);
}

static const char *s_app_key(void)
{
    static char key[128];
    if (!key[0]) {
        e2e_resp_t r;
        s_post(&r, s_e.admin_key, NULL, "/v1/keys", 201,
               "{\"role\":\"app\",\"name\":\"member app\"}");
        snprintf(key, sizeof key, "%s", e2e_str(&r, "api_key"));
        e2e_resp_clear(&r);
    }
    return key;
}

static void s_enroll(member_t *m, const partner_t *p)
{
    e2e_resp_t r;
    s_post(&r, p->key, NULL, "/v1/members", 201, "{}");
    snprintf(m->id, sizeof m->id, "%s", e2e_str(&r, "id"));
    snprintf(m->card, sizeof m->card, "%s", e2e_str(&r, "card_number"));
    e2e_resp_clear(&r);
}

static void s_activate(e2e_resp_t *r, const member_t *m, const char *code, const char *idem)
{
    char path[200];
    snprintf(path, sizeof path, "/v1/members/%s/coupons/%s/activate", m->id, code);
    e2e_http(&s_e, "POST", path, s_app_key(), idem, NULL, NULL, r);
}

/* ---- tests -------------------------------------------------------------------------- */

static void coupons_e2e_create_activate_earn_return(void **state)
{
    (void)state;
    partner_t p;
    member_t m;
    s_partner(&p);
    s_enroll(&m, &p);
    e2e_resp_t r;
    /* a multiplier coupon at this partner, paid by it; a bonus paid by a supplier */
    s_post(&r, s_e.admin_key, "coupon-x5", "/v1/coupons", 201,
           "{\"code\":\"X5\",\"partner_id\":\"%s\",\"kind\":\"multiplier\",\"multiplier\":5,"
           "\"funded_by\":{\"type\":\"partner\",\"id\":\"%s\"},\"valid_from\":\"%s\","
           "\"valid_until\":\"%s\",\"max_per_member\":3}",
           p.id, p.id, s_at(-HOUR_US), s_at(HOUR_US));
    assert_string_equal(e2e_str(&r, "kind"), "multiplier");
    assert_int_equal(e2e_int(&r, "multiplier"), 5);
    assert_string_equal(e2e_str(&r, "partner_id"), p.id);
    e2e_resp_clear(&r);
    s_post(&r, s_e.admin_key, NULL, "/v1/coupons", 201,
           "{\"code\":\"BRAND-25\",\"kind\":\"bonus\",\"bonus_points\":25,"
           "\"funded_by\":{\"type\":\"supplier\",\"id\":\"0b1e2f3a-4b5c-4d6e-8f70-8192a3b4c5d6\"},"
           "\"valid_from\":\"%s\",\"valid_until\":\"%s\",\"max_per_member\":1}",
           s_at(-HOUR_US), s_at(HOUR_US));
    e2e_resp_clear(&r);
    /* the same code again: 409; a bad body: 400; no key: 400; not an admin: 403 */
    s_post(&r, s_e.admin_key, NULL, "/v1/coupons", 409,
           "{\"code\":\"X5\",\"kind\":\"bonus\",\"bonus_points\":1,"
           "\"funded_by\":{\"type\":\"coalition\"},\"valid_from\":\"%s\","
           "\"valid_until\":\"%s\",\"max_per_member\":1}",
           s_at(0), s_at(HOUR_US));
    s_expect(&r, 409, "conflict");
    e2e_resp_clear(&r);
    s_post(&r, s_e.admin_key, NULL, "/v1/coupons", 400,
           "{\"code\":\"X6\",\"kind\":\"multiplier\",\"multiplier\":1,"
           "\"funded_by\":{\"type\":\"coalition\"},\"valid_from\":\"%s\","
           "\"valid_until\":\"%s\",\"max_per_member\":1}",
           s_at(0), s_at(HOUR_US));
    s_expect(&r, 400, "invalid_request");
    e2e_resp_clear(&r);
    e2e_http(&s_e, "POST", "/v1/coupons", s_e.admin_key, NULL, "{}", NULL, &r);
    s_expect(&r, 400, "idempotency_key_required");
    e2e_resp_clear(&r);
    s_post(&r, p.key, NULL, "/v1/coupons", 403, "{}");
    e2e_resp_clear(&r);

    /* activation: unknown 422; twice 200 with the same time */
    s_activate(&r, &m, "NOPE", NULL);
    s_expect(&r, 422, "coupon_not_applicable");
    e2e_resp_clear(&r);
    s_activate(&r, &m, "X5", NULL);
    s_expect(&r, 200, NULL);
    char first[LC_RFC3339_MAX];
    snprintf(first, sizeof first, "%s", e2e_str(&r, "activated_at"));
    assert_string_equal(e2e_str(&r, "member_id"), m.id);
    e2e_resp_clear(&r);
    s_activate(&r, &m, "X5", "act-x5");
    s_expect(&r, 200, NULL);
    assert_string_equal(e2e_str(&r, "activated_at"), first);
    e2e_resp_clear(&r);

    /* an earn: X5 applies (10 x 4 = 40), BRAND-25 was not activated, BOGUS unknown */
    s_post(&r, p.key, NULL, "/v1/earn", 201,
           "{\"card_number\":\"%s\",\"receipt_id\":\"c-1\",\"amount\":{\"amount\":1000,"
           "\"currency\":\"EUR\"},\"coupon_codes\":[\"X5\",\"BRAND-25\",\"BOGUS\"]}",
           m.card);
    assert_int_equal(e2e_int(&r, "points"), 10);
    assert_int_equal(e2e_int(&r, "bonus_points"), 40);
    json_t *applied = json_object_get(r.body, "coupons_applied");
    assert_int_equal(json_array_size(applied), 1);
    assert_string_equal(json_string_value(json_array_get(applied, 0)), "X5");
    json_t *rej = json_object_get(r.body, "coupons_rejected");
    assert_int_equal(json_array_size(rej), 2);
    assert_string_equal(json_string_value(json_object_get(json_array_get(rej, 0), "reason")),
                        "not_activated");
    assert_string_equal(json_string_value(json_object_get(json_array_get(rej, 1), "reason")),
                        "unknown_coupon");
    char earn_id[40];
    snprintf(earn_id, sizeof earn_id, "%s", e2e_str(&r, "id"));
    e2e_resp_clear(&r);

    char path[128];
    snprintf(path, sizeof path, "/v1/cards/%s/balance", m.card);
    e2e_http(&s_e, "GET", path, p.key, NULL, NULL, NULL, &r);
    s_expect(&r, 200, NULL);
    assert_int_equal(e2e_int(&r, "available"), 50);
    e2e_resp_clear(&r);

    /* half of it comes back: 5 base and 20 bonus */
    s_post(&r, p.key, NULL, "/v1/returns", 201,
           "{\"earn_id\":\"%s\",\"amount\":{\"amount\":500,\"currency\":\"EUR\"}}", earn_id);
    assert_int_equal(e2e_int(&r, "points_reversed"), 5);
    assert_int_equal(e2e_int(&r, "bonus_points_reversed"), 20);
    e2e_resp_clear(&r);
    e2e_http(&s_e, "GET", path, p.key, NULL, NULL, NULL, &r);
    s_expect(&r, 200, NULL);
    assert_int_equal(e2e_int(&r, "available"), 25);
    e2e_resp_clear(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(coupons_e2e_create_activate_earn_return),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
