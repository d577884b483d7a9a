/*
 * test_members_privacy.c: data protection through the real gateway, members,
 * settlement and ledger processes (issue 4, item 6): the three routes
 * DELETE /v1/members/{id}/personal-data (admin), POST /v1/members/{id}/consents
 * and GET /v1/members/{id}/export (app) with their roles; consents that never
 * change earning or redeeming; an erasure that leaves the journal and the
 * balance as they were, answers the same when repeated, and leaves a member who
 * still collects and spends points but whose personal data no one can read.
 */
#include "e2e.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

static e2e_t s_e;
static char s_app[128], s_auditor[128];

typedef struct partner {
    char id[40];
    char key[128];
} partner_t;

typedef struct member {
    char id[40];
    char card[40];
} member_t;

static partner_t s_shop;

static void s_expect(const e2e_resp_t *r, long status, const char *code)
{
    if (r->status != status || (code && strcmp(e2e_code(r), code)))
        fail_msg("expected %ld %s, got %ld %s", status, code ? code : "", r->status,
                 r->raw ? r->raw : "");
}

/* POST with a fresh Idempotency-Key; the body is printf-formatted. */
__attribute__((format(printf, 5, 6))) static void
s_post(e2e_resp_t *r, const char *key, const char *path, long want, const char *fmt, ...)
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

/* method on /v1/members/{id}<suffix> with key (no body unless given). */
static void s_member_call(e2e_resp_t *r, const char *method, const member_t *m, const char *suffix,
                          const char *key, const char *body)
{
    char path[160];
    snprintf(path, sizeof path, "/v1/members/%s%s", m->id, suffix);
    e2e_http(&s_e, method, path, key, body ? e2e_idem() : NULL, body, NULL, r);
}

static int64_t s_journal(void)
{
    return th_sql_i64(s_e.db, "SELECT count(*) FROM ledger.journal");
}

static void s_key(const char *role, char *out)
{
    e2e_resp_t r;
    s_post(&r, s_e.admin_key, "/v1/keys", 201, "{\"role\":\"%s\",\"name\":\"%s\"}", role, role);
    snprintf(out, 128, "%s", e2e_str(&r, "api_key"));
    e2e_resp_clear(&r);
}

static int setup(void **state)
{
    (void)state;
    e2e_start(&s_e, true, NULL, NULL);
    s_key("app", s_app);
    s_key("auditor", s_auditor);
    e2e_resp_t r;
    s_post(&r, s_e.admin_key, "/v1/partners", 201,
           "{\"name\":\"Privacy Shop\",\"earn_rate\":{\"points\":1,\"per_amount\":200},"
           "\"pending_days\":0,\"tariff\":{\"issue_price_micros\":10000,"
           "\"redeem_credit_micros\":9000,\"fee_bps\":150},\"funding\":\"postpaid\","
           "\"excluded_categories\":[]}");
    snprintf(s_shop.id, sizeof s_shop.id, "%s", e2e_str(&r, "id"));
    snprintf(s_shop.key, sizeof s_shop.key, "%s", e2e_str(&r, "api_key"));
    e2e_resp_clear(&r);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    e2e_stop(&s_e);
    return 0;
}

static void s_enroll(member_t *m, const char *email, const char *name)
{
    e2e_resp_t r;
    s_post(&r, s_shop.key, "/v1/members", 201,
           "{\"email\":\"%s\",\"name\":\"%s\",\"consents\":{\"marketing\":false,"
           "\"profiling\":false}}",
           email, name);
    snprintf(m->id, sizeof m->id, "%s", e2e_str(&r, "id"));
    snprintf(m->card, sizeof m->card, "%s", e2e_str(&r, "card_number"));
    e2e_resp_clear(&r);
}

static void s_earn(const member_t *m, const char *receipt, long cents, long want_points)
{
    e2e_resp_t r;
    s_post(&r, s_shop.key, "/v1/earn", 201,
           "{\"card_number\":\"%s\",\"receipt_id\":\"%s\",\"amount\":{\"amount\":%ld,"
           "\"currency\":\"EUR\"}}",
           m->card, receipt, cents);
    assert_int_equal(e2e_int(&r, "points"), want_points);
    e2e_resp_clear(&r);
}

/* A one-time code from the member app, then a redemption of points with it,
 * captured in full. */
static void s_redeem(const member_t *m, const char *receipt, long points)
{
    e2e_resp_t r;
    s_member_call(&r, "POST", m, "/codes", s_app, "{}");
    s_expect(&r, 201, NULL);
    char code[32], id[64];
    snprintf(code, sizeof code, "%s", e2e_str(&r, "code"));
    e2e_resp_clear(&r);
    s_post(&r, s_shop.key, "/v1/redemptions", 201,
           "{\"card_number\":\"%s\",\"points\":%ld,\"member_code\":\"%s\",\"receipt_id\":\"%s\"}",
           m->card, points, code, receipt);
    snprintf(id, sizeof id, "%s", e2e_str(&r, "id"));
    e2e_resp_clear(&r);
    char path[160];
    snprintf(path, sizeof path, "/v1/redemptions/%s/capture", id);
    s_post(&r, s_shop.key, path, 200, "{}");
    assert_string_equal(e2e_str(&r, "status"), "captured");
    e2e_resp_clear(&r);
}

static long long s_available(const member_t *m)
{
    e2e_resp_t r;
    s_member_call(&r, "GET", m, "", s_app, NULL);
    s_expect(&r, 200, NULL);
    long long v = e2e_int(&r, "available");
    e2e_resp_clear(&r);
    return v;
}

/* ---- tests -------------------------------------------------------------------------- */

static void privacy_routes_answer_only_their_roles(void **state)
{
    (void)state;
    member_t m;
    s_enroll(&m, "role@example.org", "Rolf Role");
    int64_t keys = th_sql_i64(s_e.db, "SELECT count(*) FROM members.member_keys");
    const char *not_admin[] = {s_app, s_auditor, s_shop.key};
    const char *not_app[] = {s_e.admin_key, s_auditor, s_shop.key};
    e2e_resp_t r;
    for (size_t i = 0; i < 3; i++) {
        s_member_call(&r, "DELETE", &m, "/personal-data", not_admin[i], NULL);
        s_expect(&r, 403, "forbidden");
        e2e_resp_clear(&r);
        s_member_call(&r, "POST", &m, "/consents", not_app[i], "{\"marketing\":true}");
        s_expect(&r, 403, "forbidden");
        e2e_resp_clear(&r);
        s_member_call(&r, "GET", &m, "/export", not_app[i], NULL);
        s_expect(&r, 403, "forbidden");
        e2e_resp_clear(&r);
    }
    s_member_call(&r, "DELETE", &m, "/personal-data", NULL, NULL);
    s_expect(&r, 401, "unauthenticated");
    e2e_resp_clear(&r);
    s_member_call(&r, "GET", &m, "/export", "not-a-key", NULL);
    s_expect(&r, 401, "unauthenticated");
    e2e_resp_clear(&r);
    /* Unknown members and bad bodies. */
    member_t nobody = {.id = "0190f0a0-0000-7000-8000-00000000dead"};
    s_member_call(&r, "DELETE", &nobody, "/personal-data", s_e.admin_key, NULL);
    s_expect(&r, 404, "not_found");
    e2e_resp_clear(&r);
    s_member_call(&r, "GET", &nobody, "/export", s_app, NULL);
    s_expect(&r, 404, "not_found");
    e2e_resp_clear(&r);
    s_member_call(&r, "POST", &nobody, "/consents", s_app, "{\"marketing\":true}");
    s_expect(&r, 404, "not_found");
    e2e_resp_clear(&r);
    s_member_call(&r, "POST", &m, "/consents", s_app, "{}");
    s_expect(&r, 400, "invalid_request");
    e2e_resp_clear(&r);
    s_member_call(&r, "POST", &m, "/consents", s_app, "{\"marketing\":\"yes\"}");
    s_expect(&r, 400, "invalid_request");
    e2e_resp_clear(&r);
    /* Nothing was erased. */
    assert_int_equal(th_sql_i64(s_e.db, "SELECT count(*) FROM members.member_keys"), keys);
    s_member_call(&r, "GET", &m, "/export", s_app, NULL);
    s_expect(&r, 200, NULL);
    assert_non_null(strstr(r.raw, "role@example.org"));
    e2e_resp_clear(&r);
}

static void privacy_consents_export_and_erasure_keep_the_books(void **state)
{
    (void)state;
    member_t m, other;
    s_enroll(&m, "erin@example.org", "Erin Erased");
    s_enroll(&other, "otto@example.org", "Otto Other");
    /* No consent at all: points are earned and redeemed as for anyone. */
    s_earn(&m, "priv-1", 100000, 500);
    s_redeem(&m, "priv-pos-1", 200);
    assert_int_equal(s_available(&m), 300);

    /* Consents: one at a time, shown back, and on the member. */
    e2e_resp_t r;
    int64_t journal = s_journal();
    s_member_call(&r, "POST", &m, "/consents", s_app, "{\"marketing\":true}");
    s_expect(&r, 200, NULL);
    assert_string_equal(e2e_str(&r, "id"), m.id);
    assert_true(json_is_true(json_object_get(json_object_get(r.body, "consents"), "marketing")));
    assert_true(json_is_false(json_object_get(json_object_get(r.body, "consents"), "profiling")));
    assert_non_null(e2e_str(&r, "updated_at"));
    e2e_resp_clear(&r);
    assert_int_equal(s_journal(), journal);
    s_member_call(&r, "GET", &m, "", s_app, NULL);
    s_expect(&r, 200, NULL);
    assert_true(json_is_true(json_object_get(json_object_get(r.body, "consents"), "marketing")));
    assert_true(json_is_false(json_object_get(r.body, "erased")));
    e2e_resp_clear(&r);

    /* The export: this member's data, nobody else's. */
    s_member_call(&r, "GET", &m, "/export", s_app, NULL);
    s_expect(&r, 200, NULL);
    json_t *pd = json_object_get(r.body, "personal_data");
    assert_string_equal(json_string_value(json_object_get(pd, "email")), "erin@example.org");
    assert_string_equal(json_string_value(json_object_get(pd, "name")), "Erin Erased");
    assert_int_equal(json_array_size(json_object_get(r.body, "consent_history")), 2);
    assert_int_equal(json_array_size(json_object_get(r.body, "codes")), 1);
    assert_int_equal(
        json_integer_value(json_object_get(json_object_get(r.body, "balance"), "available")), 300);
    assert_null(strstr(r.raw, "otto@example.org"));
    assert_null(strstr(r.raw, other.id));
    assert_null(strstr(r.raw, other.card));
    e2e_resp_clear(&r);

    /* Erasure: 200 {id, erased_at}; the journal and the balance do not move. */
    int64_t sum = th_sql_i64(s_e.db, "SELECT coalesce(sum(credits_posted - debits_posted), 0) "
                                     "FROM ledger.accounts");
    journal = s_journal();
    s_member_call(&r, "DELETE", &m, "/personal-data", s_e.admin_key, NULL);
    s_expect(&r, 200, NULL);
    assert_string_equal(e2e_str(&r, "id"), m.id);
    char erased_at[64];
    snprintf(erased_at, sizeof erased_at, "%s", e2e_str(&r, "erased_at"));
    e2e_resp_clear(&r);
    assert_int_equal(s_journal(), journal);
    assert_int_equal(th_sql_i64(s_e.db, "SELECT coalesce(sum(credits_posted - debits_posted), 0) "
                                        "FROM ledger.accounts"),
                     sum);
    /* Again: the same answer. */
    s_member_call(&r, "DELETE", &m, "/personal-data", s_e.admin_key, NULL);
    s_expect(&r, 200, NULL);
    assert_string_equal(e2e_str(&r, "erased_at"), erased_at);
    e2e_resp_clear(&r);

    /* The member still has its points and shows that it was erased. */
    s_member_call(&r, "GET", &m, "", s_app, NULL);
    s_expect(&r, 200, NULL);
    assert_int_equal(e2e_int(&r, "available"), 300);
    assert_true(json_is_true(json_object_get(r.body, "erased")));
    assert_string_equal(e2e_str(&r, "erased_at"), erased_at);
    assert_true(json_is_false(json_object_get(json_object_get(r.body, "consents"), "marketing")));
    e2e_resp_clear(&r);
    s_member_call(&r, "GET", &m, "/export", s_app, NULL);
    s_expect(&r, 200, NULL);
    assert_true(json_is_true(json_object_get(r.body, "erased")));
    assert_int_equal(json_object_size(json_object_get(r.body, "personal_data")), 0);
    assert_null(strstr(r.raw, "erin@"));
    assert_null(strstr(r.raw, "Erin Erased"));
    e2e_resp_clear(&r);

    /* ... and keeps collecting and spending. */
    s_earn(&m, "priv-2", 20000, 100);
    s_redeem(&m, "priv-pos-2", 250);
    assert_int_equal(s_available(&m), 150);

    /* The other member is untouched. */
    s_member_call(&r, "GET", &other, "/export", s_app, NULL);
    s_expect(&r, 200, NULL);
    assert_string_equal(
        json_string_value(json_object_get(json_object_get(r.body, "personal_data"), "email")),
        "otto@example.org");
    e2e_resp_clear(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(privacy_routes_answer_only_their_roles),
        cmocka_unit_test(privacy_consents_export_and_erasure_keep_the_books),
    };
    return cmocka_run_group_tests_name("members_privacy", tests, setup, teardown);
}
