/*
 * test_authz_matrix.c: every route of the gateway's table (gw_routes.c, so a
 * new route is covered the day it is added) called with no key, with a revoked
 * key, and with a key of every role (admin, auditor, partner, app). A caller
 * without a valid key gets 401; a role the route does not admit gets 403; an
 * admitted role gets past the gate (whatever the service then says of the empty
 * request, it is neither 401 nor 403). Public routes answer without a key.
 * Each exchange is also validated against proto/openapi.yaml by tests/run.sh.
 */
#include "e2e.h"
#include "gw_routes.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

static e2e_t s_e;
static char s_keys[LC_ROLE_APP + 1][128]; /* a key per role */
static char s_revoked[128];
static char s_partner_id[40];

static const char *s_make_key(const char *role)
{
    static char key[128];
    char body[128];
    snprintf(body, sizeof body, "{\"role\":\"%s\",\"name\":\"matrix %s\"}", role, role);
    e2e_resp_t r;
    e2e_http(&s_e, "POST", "/v1/keys", s_e.admin_key, e2e_idem(), body, NULL, &r);
    assert_int_equal(r.status, 201);
    snprintf(key, sizeof key, "%s", e2e_str(&r, "api_key"));
    e2e_resp_clear(&r);
    return key;
}

static int setup(void **state)
{
    (void)state;
    e2e_start(&s_e, true, NULL, NULL);
    snprintf(s_keys[LC_ROLE_ADMIN], sizeof s_keys[0], "%s", s_e.admin_key);
    snprintf(s_keys[LC_ROLE_AUDITOR], sizeof s_keys[0], "%s", s_make_key("auditor"));
    snprintf(s_keys[LC_ROLE_APP], sizeof s_keys[0], "%s", s_make_key("app"));
    e2e_resp_t r;
    e2e_http(&s_e, "POST", "/v1/partners", s_e.admin_key, e2e_idem(),
             "{\"name\":\"Matrix\",\"earn_rate\":{\"points\":1,\"per_amount\":100},"
             "\"tariff\":{\"issue_price_micros\":1,\"redeem_credit_micros\":1,\"fee_bps\":0},"
             "\"funding\":\"postpaid\"}",
             NULL, &r);
    assert_int_equal(r.status, 201);
    snprintf(s_keys[LC_ROLE_PARTNER], sizeof s_keys[0], "%s", e2e_str(&r, "api_key"));
    snprintf(s_partner_id, sizeof s_partner_id, "%s", e2e_str(&r, "id"));
    e2e_resp_clear(&r);
    /* A second partner key, revoked at once. */
    char path[200];
    snprintf(path, sizeof path, "/v1/partners/%s/keys", s_partner_id);
    e2e_http(&s_e, "POST", path, s_e.admin_key, e2e_idem(), "{}", NULL, &r);
    assert_int_equal(r.status, 201);
    snprintf(s_revoked, sizeof s_revoked, "%s", e2e_str(&r, "api_key"));
    snprintf(path, sizeof path, "/v1/partners/%s/keys/%s", s_partner_id, e2e_str(&r, "id"));
    e2e_resp_clear(&r);
    e2e_http(&s_e, "DELETE", path, s_e.admin_key, NULL, NULL, NULL, &r);
    assert_int_equal(r.status, 204);
    e2e_resp_clear(&r);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    e2e_stop(&s_e);
    return 0;
}

/* The route's pattern with every {param} replaced by a value of the right form. */
static void s_path(const gw_route_t *route, char *out, size_t len)
{
    const char *p = route->pattern;
    size_t o = 0;
    while (*p && o + 1 < len) {
        if (*p == '{') {
            const char *end = strchr(p, '}');
            const char *value = "00000000-0000-7000-8000-00000000abcd";
            if (!strncmp(p, "{period}", 8))
                value = "2020-01";
            else if (!strncmp(p, "{card_number}", 13))
                value = "7001000000000012";
            else if (!strncmp(p, "{id}", 4) && strstr(route->pattern, "/v1/partners/"))
                value = s_partner_id;
            o += (size_t)snprintf(out + o, len - o, "%s", value);
            p = end + 1;
        } else {
            out[o++] = *p++;
        }
    }
    out[o] = '\0';
}

static void s_call(const gw_route_t *route, const char *key, e2e_resp_t *r)
{
    char path[300];
    s_path(route, path, sizeof path);
    bool post = !strcmp(route->method, "POST");
    e2e_http(&s_e, route->method, path, key, post ? e2e_idem() : NULL, post ? "{}" : NULL, NULL,
             r);
}

static void authz_no_key_and_revoked_key_are_unauthenticated(void **state)
{
    (void)state;
    for (int i = 0; i < gw_nroutes; i++) {
        const gw_route_t *route = &gw_routes[i];
        e2e_resp_t r;
        s_call(route, NULL, &r);
        if (route->public) {
            if (r.status == 401 || r.status == 403)
                fail_msg("public %s %s answered %ld", route->method, route->pattern, r.status);
        } else if (r.status != 401 || strcmp(e2e_code(&r), "unauthenticated")) {
            fail_msg("%s %s without a key: %ld %s", route->method, route->pattern, r.status,
                     r.raw);
        }
        e2e_resp_clear(&r);
        if (route->public)
            continue;
        s_call(route, s_revoked, &r);
        if (r.status != 401)
            fail_msg("%s %s with a revoked key: %ld %s", route->method, route->pattern, r.status,
                     r.raw);
        e2e_resp_clear(&r);
    }
}

static void authz_every_role_on_every_route(void **state)
{
    (void)state;
    int admitted = 0, refused = 0;
    for (int i = 0; i < gw_nroutes; i++) {
        const gw_route_t *route = &gw_routes[i];
        if (route->public)
            continue;
        for (int role = LC_ROLE_ADMIN; role <= LC_ROLE_APP; role++) {
            e2e_resp_t r;
            s_call(route, s_keys[role], &r);
            bool allowed = route->roles & GW_ROLE(role);
            if (allowed && (r.status == 401 || r.status == 403))
                fail_msg("%s %s as %s refused: %ld %s", route->method, route->pattern,
                         lc_name_of(lc_role_names, (uint32_t)role), r.status, r.raw);
            if (!allowed && (r.status != 403 || strcmp(e2e_code(&r), "forbidden")))
                fail_msg("%s %s as %s: expected 403, got %ld %s", route->method, route->pattern,
                         lc_name_of(lc_role_names, (uint32_t)role), r.status, r.raw);
            if (allowed && r.status >= 500)
                fail_msg("%s %s as %s: %ld %s", route->method, route->pattern,
                         lc_name_of(lc_role_names, (uint32_t)role), r.status, r.raw);
            admitted += allowed;
            refused += !allowed;
            e2e_resp_clear(&r);
        }
    }
    /* The matrix is only worth something if both sides were exercised. */
    assert_true(admitted > 10);
    assert_true(refused > 30);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(authz_no_key_and_revoked_key_are_unauthenticated),
        cmocka_unit_test(authz_every_role_on_every_route),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
