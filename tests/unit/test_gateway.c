/*
 * test_gateway.c: the gateway's pure parts: the route table and its matcher,
 * the token buckets, the request hash of idempotency records, error responses
 * and the metrics text. The HTTP and database behaviour is tested end to end
 * in tests/e2e/test_gateway.c.
 */
#include "gw_idem.h"
#include "gw_limit.h"
#include "gw_metrics.h"
#include "gw_pool.h"
#include "gw_routes.h"
#include "lc_api.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

static void gateway_routes_match_patterns_and_capture_segments(void **state)
{
    (void)state;
    json_t *params = NULL;
    bool known = false;
    int i = gw_route_match("POST", "/v1/redemptions/abc/capture", &params, &known);
    assert_true(i >= 0);
    assert_string_equal(gw_routes[i].type, "settlement.capture");
    assert_string_equal(json_string_value(json_object_get(params, "id")), "abc");
    json_decref(params);
    i = gw_route_match("DELETE", "/v1/partners/p1/keys/k2", &params, &known);
    assert_true(i >= 0);
    assert_string_equal(json_string_value(json_object_get(params, "id")), "p1");
    assert_string_equal(json_string_value(json_object_get(params, "key_id")), "k2");
    json_decref(params);
    /* A literal segment wins only where it matches exactly. */
    i = gw_route_match("POST", "/v1/members", &params, &known);
    assert_string_equal(gw_routes[i].type, "members.enroll");
    json_decref(params);
    i = gw_route_match("GET", "/v1/members/m1", &params, &known);
    assert_string_equal(gw_routes[i].type, "members.get");
    json_decref(params);
}

static void gateway_routes_refuse_near_misses(void **state)
{
    (void)state;
    const char *paths[] = {"/v1/earn/", "/v1//earn", "/v1/redemptions//capture", "/v1",
                           "/", "", "/v1/redemptions/a/capture/x", "v1/earn", "/V1/earn"};
    for (size_t k = 0; k < sizeof paths / sizeof paths[0]; k++) {
        json_t *params = NULL;
        bool known = true;
        if (gw_route_match("POST", paths[k], &params, &known) >= 0)
            fail_msg("%s matched a route", paths[k]);
        assert_null(params);
    }
    /* The path exists under another method: said so (for the message). */
    json_t *params = NULL;
    bool known = false;
    assert_int_equal(gw_route_match("GET", "/v1/earn", &params, &known), -1);
    assert_true(known);
    /* A segment too long to be an id is no match. */
    char longpath[600] = "/v1/members/";
    memset(longpath + strlen(longpath), 'x', 300);
    assert_int_equal(gw_route_match("GET", longpath, &params, &known), -1);
}

static void gateway_routes_table_is_consistent(void **state)
{
    (void)state;
    for (int i = 0; i < gw_nroutes; i++) {
        const gw_route_t *r = &gw_routes[i];
        /* Every route names who may call it, or is explicitly public (no key, so no
         * role: a public route is a GET that moves and creates nothing). */
        if (r->public) {
            assert_int_equal(r->roles, 0);
            assert_string_equal(r->method, "GET");
        } else {
            assert_true(r->roles != 0);
        }
        assert_true(r->local || (r->service != GW_SVC_NONE && r->type));
        /* A POST that creates something answers 201 and requires a key. */
        if (r->status == 201)
            assert_int_equal(r->idem, GW_IDEM_REQUIRED);
        if (strcmp(r->method, "POST"))
            assert_int_equal(r->idem, GW_IDEM_NONE);
        /* The metrics label is the route itself. */
        char label[128];
        snprintf(label, sizeof label, "%s %s", r->method, r->pattern);
        assert_string_equal(gw_route_labels[i], label);
        /* No two routes claim the same method and pattern. */
        for (int k = 0; k < i; k++)
            assert_false(!strcmp(r->method, gw_routes[k].method) &&
                         !strcmp(r->pattern, gw_routes[k].pattern));
    }
}

static void gateway_limit_allows_a_burst_then_refills_at_the_rate(void **state)
{
    (void)state;
    gw_limit_t *lim = gw_limit_new(2, 3); /* 2 per second, bursts of 3 */
    lc_id_t a = {{1}}, b = {{2}};
    int64_t t = 1000000, wait = 0;
    for (int i = 0; i < 3; i++)
        assert_true(gw_limit_take(lim, &a, t, &wait));
    assert_false(gw_limit_take(lim, &a, t, &wait));
    assert_int_equal(wait, 1); /* half a second to the next token: rounds up */
    assert_true(gw_limit_take(lim, &b, t, &wait)); /* another key has its own bucket */
    assert_false(gw_limit_take(lim, &a, t + 499999, &wait));
    assert_true(gw_limit_take(lim, &a, t + 500000, &wait));
    /* A long pause refills to the burst, not beyond. */
    t += 3600LL * 1000000;
    for (int i = 0; i < 3; i++)
        assert_true(gw_limit_take(lim, &a, t, &wait));
    assert_false(gw_limit_take(lim, &a, t, &wait));
    /* A clock that goes backwards gives nothing and breaks nothing. */
    assert_false(gw_limit_take(lim, &a, t - 10, &wait));
    gw_limit_destroy(&lim);
    assert_null(lim);
    gw_limit_destroy(&lim);
}

static void gateway_idem_hash_binds_method_path_and_body(void **state)
{
    (void)state;
    uint8_t h1[LC_SHA256_LEN], h2[LC_SHA256_LEN];
    gw_idem_hash("POST", "/v1/earn", "{\"a\":1}", 7, h1);
    gw_idem_hash("POST", "/v1/earn", "{\"a\":1}", 7, h2);
    assert_memory_equal(h1, h2, sizeof h1);
    gw_idem_hash("POST", "/v1/earn", "{\"a\":2}", 7, h2);
    assert_memory_not_equal(h1, h2, sizeof h1);
    gw_idem_hash("POST", "/v1/grants", "{\"a\":1}", 7, h2);
    assert_memory_not_equal(h1, h2, sizeof h1);
    /* The separators keep "method|path" boundaries apart. */
    gw_idem_hash("POS", "T/v1/earn", "{\"a\":1}", 7, h2);
    assert_memory_not_equal(h1, h2, sizeof h1);
    gw_idem_hash("POST", "/v1/earn", NULL, 0, h1);
    gw_idem_hash("POST", "/v1/earn", "", 0, h2);
    assert_memory_equal(h1, h2, sizeof h1);
}

static void gateway_errors_have_the_documented_shape_and_status(void **state)
{
    (void)state;
    gw_resp_t r = {0};
    gw_resp_error(&r, LC_API_MEMBER_FROZEN, "rid-1", "member %s is frozen", "m1");
    assert_int_equal(r.status, 423);
    json_t *j = json_loads(r.body, 0, NULL);
    assert_non_null(j);
    json_t *e = json_object_get(j, "error");
    assert_string_equal(json_string_value(json_object_get(e, "code")), "member_frozen");
    assert_string_equal(json_string_value(json_object_get(e, "message")), "member m1 is frozen");
    assert_string_equal(json_string_value(json_object_get(e, "request_id")), "rid-1");
    assert_int_equal(json_object_size(j), 1);
    json_decref(j);
    gw_resp_clear(&r);
    assert_null(r.body);
    /* Every API.md code has its status; anything else is a 500. */
    const struct {
        const char *code;
        int status;
    } codes[] = {{"invalid_request", 400}, {"idempotency_key_required", 400},
                 {"unauthenticated", 401}, {"forbidden", 403}, {"four_eyes_required", 403},
                 {"not_found", 404}, {"idempotency_key_reused", 409}, {"conflict", 409},
                 {"payload_too_large", 413}, {"insufficient_points", 422},
                 {"below_redemption_threshold", 422}, {"invalid_member_code", 422},
                 {"coupon_not_applicable", 422}, {"partner_budget_exhausted", 422},
                 {"member_frozen", 423}, {"rate_limited", 429}, {"unavailable", 503},
                 {"exceeds_credits", 500}, {NULL, 500}};
    for (size_t i = 0; i < sizeof codes / sizeof codes[0]; i++)
        assert_int_equal(lc_api_http_status(codes[i].code), codes[i].status);
}

static void gateway_metrics_render_counts_and_histograms(void **state)
{
    (void)state;
    gw_metrics_t *m = gw_metrics_new(gw_route_labels, gw_nroutes);
    gw_metrics_request(m, 0, 201, 1500);
    gw_metrics_request(m, 0, 201, 30000);
    gw_metrics_request(m, -1, 404, 10);
    gw_metrics_request(m, 0, 418, 10); /* an unlisted status is "other" */
    gw_metrics_replay(m);
    gw_metrics_bus_error(m, GW_SVC_SETTLEMENT);
    char *text = gw_metrics_render(m, gw_service_names, GW_SVC_COUNT);
    assert_non_null(text);
    char want[200];
    snprintf(want, sizeof want, "coal_http_requests_total{route=\"%s\",status=\"201\"} 2\n",
             gw_route_labels[0]);
    assert_non_null(strstr(text, want));
    snprintf(want, sizeof want, "coal_http_requests_total{route=\"%s\",status=\"other\"} 1\n",
             gw_route_labels[0]);
    assert_non_null(strstr(text, want));
    assert_non_null(strstr(text, "coal_http_requests_total{route=\"other\",status=\"404\"} 1\n"));
    snprintf(want, sizeof want,
             "coal_http_request_duration_seconds_bucket{route=\"%s\",le=\"0.0025\"} 2\n",
             gw_route_labels[0]); /* 10 us and 1.5 ms */
    assert_non_null(strstr(text, want));
    snprintf(want, sizeof want,
             "coal_http_request_duration_seconds_bucket{route=\"%s\",le=\"+Inf\"} 3\n",
             gw_route_labels[0]);
    assert_non_null(strstr(text, want));
    assert_non_null(strstr(text, "coal_http_replays_total 1\n"));
    assert_non_null(strstr(text, "coal_bus_errors_total{service=\"settlement\"} 1\n"));
    free(text);
    gw_metrics_destroy(&m);
    assert_null(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(gateway_routes_match_patterns_and_capture_segments),
        cmocka_unit_test(gateway_routes_refuse_near_misses),
        cmocka_unit_test(gateway_routes_table_is_consistent),
        cmocka_unit_test(gateway_limit_allows_a_burst_then_refills_at_the_rate),
        cmocka_unit_test(gateway_idem_hash_binds_method_path_and_body),
        cmocka_unit_test(gateway_errors_have_the_documented_shape_and_status),
        cmocka_unit_test(gateway_metrics_render_counts_and_histograms),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
