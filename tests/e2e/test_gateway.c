/*
 * test_gateway.c: the gateway's own promises over real HTTP (API.md
 * "Conventions"): the bootstrap admin key, authentication and roles, the error
 * format and X-Request-Id, body limits, Idempotency-Key replay, reuse and
 * concurrent duplicates, rate limits with Retry-After, /healthz and /metrics.
 * Routes that need no service (keys) carry the effects; the services are not
 * started here, which also shows what a caller sees when they are down.
 */
#include "e2e.h"
#include "lc_time.h"

#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <cmocka.h>

static int setup(void **state)
{
    e2e_t *e = calloc(1, sizeof *e);
    const char *env[] = {"COAL_GATEWAY_RATE_PER_S=1", "COAL_GATEWAY_RATE_BURST=100", NULL};
    e2e_start(e, false, env, NULL);
    *state = e;
    return 0;
}

static int teardown(void **state)
{
    e2e_t *e = *state;
    if (e)
        e2e_stop(e);
    free(e);
    return 0;
}

static void s_expect_error(const e2e_resp_t *r, long status, const char *code)
{
    if (r->status != status || strcmp(e2e_code(r), code))
        fail_msg("expected %ld %s, got %ld %s", status, code, r->status, r->raw ? r->raw : "");
    /* The documented error shape, with the request id of the response. */
    json_t *err = json_object_get(r->body, "error");
    assert_non_null(json_string_value(json_object_get(err, "message")));
    assert_string_equal(json_string_value(json_object_get(err, "request_id")), r->request_id);
}

/* Creates an app key with the admin key; returns its text (static). */
static const char *s_app_key(e2e_t *e, const char *name)
{
    static char key[128];
    char body[256];
    snprintf(body, sizeof body, "{\"role\":\"app\",\"name\":\"%s\"}", name);
    e2e_resp_t r;
    e2e_http(e, "POST", "/v1/keys", e->admin_key, e2e_idem(), body, NULL, &r);
    assert_int_equal(r.status, 201);
    snprintf(key, sizeof key, "%s", e2e_str(&r, "api_key"));
    e2e_resp_clear(&r);
    return key;
}

static void gateway_bootstrap_key_is_private_and_written_once(void **state)
{
    e2e_t *e = *state;
    char path[300];
    snprintf(path, sizeof path, "%s/admin.key", e->secrets);
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    assert_int_equal(th_sql_i64(e->db, "SELECT count(*) FROM gateway.api_keys WHERE role = "
                                       "'admin'"),
                     1);
    /* The key is stored only as a hash: its secret appears nowhere in the table. */
    char sql[400];
    snprintf(sql, sizeof sql,
             "SELECT count(*) FROM gateway.api_keys WHERE encode(secret_hash, 'hex') = '%s' "
             "OR name LIKE '%%%s%%'",
             e->admin_key + 36, e->admin_key + 36);
    assert_int_equal(th_sql_i64(e->db, sql), 0);
    char before[128];
    snprintf(before, sizeof before, "%s", e->admin_key);
    e2e_restart_gateway(e);
    FILE *f = fopen(path, "r");
    char after[128] = "";
    assert_non_null(fgets(after, sizeof after, f));
    fclose(f);
    after[strcspn(after, "\n")] = '\0';
    assert_string_equal(before, after);
    assert_int_equal(th_sql_i64(e->db, "SELECT count(*) FROM gateway.api_keys"), 1);
    s_app_key(e, "after-restart"); /* and it still works */
}

static void gateway_authenticates_and_checks_roles(void **state)
{
    e2e_t *e = *state;
    e2e_resp_t r;
    e2e_http(e, "GET", "/v1/partners", NULL, NULL, NULL, NULL, &r);
    s_expect_error(&r, 401, "unauthenticated");
    e2e_resp_clear(&r);
    e2e_http(e, "GET", "/v1/partners", "not-a-key", NULL, NULL, NULL, &r);
    s_expect_error(&r, 401, "unauthenticated");
    e2e_resp_clear(&r);
    /* Right shape, right id, wrong secret. */
    char forged[128];
    snprintf(forged, sizeof forged, "%s", e->admin_key);
    forged[40] = forged[40] == 'a' ? 'b' : 'a';
    e2e_http(e, "GET", "/v1/partners", forged, NULL, NULL, NULL, &r);
    s_expect_error(&r, 401, "unauthenticated");
    e2e_resp_clear(&r);
    /* An app key may not create keys or read partners. */
    const char *app = s_app_key(e, "app-roles");
    e2e_http(e, "POST", "/v1/keys", app, e2e_idem(), "{\"role\":\"admin\",\"name\":\"x\"}", NULL,
             &r);
    s_expect_error(&r, 403, "forbidden");
    e2e_resp_clear(&r);
    e2e_http(e, "GET", "/v1/partners", app, NULL, NULL, NULL, &r);
    s_expect_error(&r, 403, "forbidden");
    e2e_resp_clear(&r);
    /* An admin may not act as a partner. */
    e2e_http(e, "POST", "/v1/earn", e->admin_key, e2e_idem(), "{}", NULL, &r);
    s_expect_error(&r, 403, "forbidden");
    e2e_resp_clear(&r);
    /* Partner keys are made with partners, not here. */
    e2e_http(e, "POST", "/v1/keys", e->admin_key, e2e_idem(),
             "{\"role\":\"partner\",\"name\":\"x\"}", NULL, &r);
    s_expect_error(&r, 400, "invalid_request");
    e2e_resp_clear(&r);
}

static void gateway_refuses_bad_requests_with_documented_codes(void **state)
{
    e2e_t *e = *state;
    const char *k = e->admin_key;
    int64_t keys = th_sql_i64(e->db, "SELECT count(*) FROM gateway.api_keys");
    e2e_resp_t r;
    e2e_http(e, "GET", "/v1/nothing-here", k, NULL, NULL, NULL, &r);
    s_expect_error(&r, 404, "not_found");
    e2e_resp_clear(&r);
    e2e_http(e, "POST", "/v1/keys", k, NULL, "{\"role\":\"app\",\"name\":\"x\"}", NULL, &r);
    s_expect_error(&r, 400, "idempotency_key_required");
    e2e_resp_clear(&r);
    const char *bodies[] = {
        "{\"role\":\"app\"",                          /* malformed JSON */
        "[1,2]",                                      /* not an object */
        "{\"role\":\"app\",\"name\":\"x\",\"x\":1}",  /* unknown field */
        "{\"role\":\"app\",\"name\":7}",              /* wrong type */
        "{\"role\":\"app\"}",                         /* missing field */
        "{\"role\":\"root\",\"name\":\"x\"}",         /* not an allowed value */
        "{\"role\":\"app\",\"name\":\"x\",\"name\":\"y\"}", /* duplicate member */
    };
    for (size_t i = 0; i < sizeof bodies / sizeof bodies[0]; i++) {
        e2e_http(e, "POST", "/v1/keys", k, e2e_idem(), bodies[i], NULL, &r);
        if (r.status != 400 || strcmp(e2e_code(&r), "invalid_request"))
            fail_msg("body %s: got %ld %s", bodies[i], r.status, r.raw);
        e2e_resp_clear(&r);
    }
    char longkey[300];
    memset(longkey, 'k', 256);
    longkey[256] = '\0';
    e2e_http(e, "POST", "/v1/keys", k, longkey, "{\"role\":\"app\",\"name\":\"x\"}", NULL, &r);
    s_expect_error(&r, 400, "invalid_request");
    e2e_resp_clear(&r);
    /* Over 64 KiB: refused before it is read. */
    size_t big = 70 * 1024;
    char *body = malloc(big + 64);
    snprintf(body, 64, "{\"role\":\"app\",\"name\":\"");
    size_t n = strlen(body);
    memset(body + n, 'x', big);
    strcpy(body + n + big, "\"}");
    e2e_http(e, "POST", "/v1/keys", k, e2e_idem(), body, NULL, &r);
    s_expect_error(&r, 413, "payload_too_large");
    e2e_resp_clear(&r);
    free(body);
    /* Nothing above wrote anything. */
    assert_int_equal(th_sql_i64(e->db, "SELECT count(*) FROM gateway.api_keys"), keys);
    /* A usable client request id is echoed; every response carries one. */
    const char *hdr[] = {"X-Request-Id: pos-17-abc", NULL};
    e2e_http(e, "GET", "/v1/nothing-here", k, NULL, NULL, hdr, &r);
    assert_string_equal(r.request_id, "pos-17-abc");
    e2e_resp_clear(&r);
}

static void gateway_replays_and_refuses_reused_idempotency_keys(void **state)
{
    e2e_t *e = *state;
    const char *k = e->admin_key;
    const char *idem = e2e_idem();
    e2e_resp_t a, b, c;
    e2e_http(e, "POST", "/v1/keys", k, idem, "{\"role\":\"auditor\",\"name\":\"replay\"}", NULL,
             &a);
    assert_int_equal(a.status, 201);
    assert_false(a.replayed);
    e2e_http(e, "POST", "/v1/keys", k, idem, "{\"role\":\"auditor\",\"name\":\"replay\"}", NULL,
             &b);
    assert_int_equal(b.status, 201);
    assert_true(b.replayed);
    assert_string_equal(a.raw, b.raw); /* the same key, not a second one */
    assert_int_equal(th_sql_i64(e->db, "SELECT count(*) FROM gateway.api_keys WHERE name = "
                                       "'replay'"),
                     1);
    e2e_http(e, "POST", "/v1/keys", k, idem, "{\"role\":\"auditor\",\"name\":\"other\"}", NULL,
             &c);
    s_expect_error(&c, 409, "idempotency_key_reused");
    e2e_resp_clear(&c);
    /* Keys are scoped to their owner: another admin key may use the same text. */
    char body[200];
    snprintf(body, sizeof body, "{\"role\":\"admin\",\"name\":\"second-admin\"}");
    e2e_http(e, "POST", "/v1/keys", k, e2e_idem(), body, NULL, &c);
    assert_int_equal(c.status, 201);
    char admin2[128];
    snprintf(admin2, sizeof admin2, "%s", e2e_str(&c, "api_key"));
    e2e_resp_clear(&c);
    e2e_http(e, "POST", "/v1/keys", admin2, idem, "{\"role\":\"auditor\",\"name\":\"replay\"}",
             NULL, &c);
    assert_int_equal(c.status, 201);
    assert_false(c.replayed);
    assert_string_not_equal(e2e_str(&c, "api_key"), e2e_str(&a, "api_key"));
    e2e_resp_clear(&a);
    e2e_resp_clear(&b);
    e2e_resp_clear(&c);
    /* Errors are replayed too: the outcome of a key never changes. */
    const char *bad = e2e_idem();
    e2e_http(e, "POST", "/v1/keys", k, bad, "{\"role\":\"app\"}", NULL, &a);
    e2e_http(e, "POST", "/v1/keys", k, bad, "{\"role\":\"app\"}", NULL, &b);
    assert_int_equal(a.status, 400);
    assert_int_equal(b.status, 400);
    assert_true(b.replayed);
    e2e_resp_clear(&a);
    e2e_resp_clear(&b);
}

typedef struct dup {
    e2e_t *e;
    const char *idem;
    e2e_resp_t r;
} dup_t;

static void *s_dup(void *arg)
{
    dup_t *d = arg;
    e2e_http(d->e, "POST", "/v1/keys", d->e->admin_key, d->idem,
             "{\"role\":\"app\",\"name\":\"concurrent\"}", NULL, &d->r);
    return NULL;
}

static void gateway_concurrent_duplicates_have_one_effect(void **state)
{
    e2e_t *e = *state;
    enum { N = 8 };
    dup_t d[N];
    pthread_t t[N];
    char idem[48];
    snprintf(idem, sizeof idem, "%s", e2e_idem());
    for (int i = 0; i < N; i++) {
        d[i] = (dup_t){.e = e, .idem = idem};
        assert_int_equal(pthread_create(&t[i], NULL, s_dup, &d[i]), 0);
    }
    int fresh = 0;
    for (int i = 0; i < N; i++) {
        pthread_join(t[i], NULL);
        assert_int_equal(d[i].r.status, 201);
        fresh += !d[i].r.replayed;
        assert_string_equal(d[i].r.raw, d[0].r.raw);
    }
    assert_int_equal(fresh, 1);
    assert_int_equal(th_sql_i64(e->db, "SELECT count(*) FROM gateway.api_keys WHERE name = "
                                       "'concurrent'"),
                     1);
    for (int i = 0; i < N; i++)
        e2e_resp_clear(&d[i].r);
}

static void gateway_rate_limits_per_key_with_retry_after(void **state)
{
    e2e_t *e = *state;
    /* This gateway runs with 1 request/s and a burst of 100: a fresh key gets
     * 100 at once, then 429 with Retry-After. Another key is not affected. The
     * requests are ones the gateway answers itself (400, no Idempotency-Key). */
    e2e_resp_t r;
    e2e_http(e, "POST", "/v1/keys", e->admin_key, e2e_idem(),
             "{\"role\":\"admin\",\"name\":\"limited\"}", NULL, &r);
    assert_int_equal(r.status, 201);
    char key[128];
    snprintf(key, sizeof key, "%s", e2e_str(&r, "api_key"));
    e2e_resp_clear(&r);
    int limited = 0;
    int64_t t0 = lc_mono_ms();
    for (int i = 0; i < 150 && !limited; i++) {
        e2e_http(e, "POST", "/v1/keys", key, NULL, "{}", NULL, &r);
        if (r.status != 429)
            assert_int_equal(r.status, 400);
        if (r.status == 429) {
            limited = i + 1;
            s_expect_error(&r, 429, "rate_limited");
            assert_true(atoi(r.retry_after) >= 1);
        }
        e2e_resp_clear(&r);
    }
    /* The burst, plus the one token a second refilled while the requests were sent
     * (a loaded machine may take more than a second for them). */
    int64_t refilled = (lc_mono_ms() - t0) / 1000;
    if (limited < 101 || limited > 101 + refilled)
        fail_msg("limited after %d requests; expected 101 + at most %lld refilled", limited,
                 (long long)refilled);
    e2e_http(e, "GET", "/v1/partners", e->admin_key, NULL, NULL, NULL, &r);
    assert_int_not_equal(r.status, 429);
    e2e_resp_clear(&r);
}

static void gateway_health_metrics_and_services_down(void **state)
{
    e2e_t *e = *state;
    e2e_resp_t r;
    e2e_http(e, "GET", "/healthz", NULL, NULL, NULL, NULL, &r);
    assert_int_equal(r.status, 503); /* the services are not running in this test */
    assert_string_equal(json_string_value(json_object_get(json_object_get(r.body, "checks"),
                                                          "database")),
                        "ok");
    assert_string_equal(json_string_value(json_object_get(json_object_get(r.body, "checks"),
                                                          "settlement")),
                        "unavailable");
    e2e_resp_clear(&r);
    /* A forwarded request whose service is down: 503, and the key is not spent. */
    const char *idem = e2e_idem();
    const char *body = "{\"name\":\"Down\",\"earn_rate\":{\"points\":1,\"per_amount\":100}}";
    e2e_http(e, "POST", "/v1/partners", e->admin_key, idem, body, NULL, &r);
    s_expect_error(&r, 503, "unavailable");
    e2e_resp_clear(&r);
    char sql[200];
    snprintf(sql, sizeof sql, "SELECT count(*) FROM gateway.idempotency WHERE key = '%s'", idem);
    assert_int_equal(th_sql_i64(e->db, sql), 0);
    e2e_http(e, "GET", "/metrics", NULL, NULL, NULL, NULL, &r);
    assert_int_equal(r.status, 200);
    assert_non_null(strstr(r.content_type, "text/plain"));
    assert_non_null(strstr(r.raw, "coal_http_requests_total{route=\"POST /v1/partners\","
                                  "status=\"503\"} 1"));
    assert_non_null(strstr(r.raw, "coal_bus_errors_total{service=\"settlement\"}"));
    e2e_resp_clear(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(gateway_bootstrap_key_is_private_and_written_once),
        cmocka_unit_test(gateway_authenticates_and_checks_roles),
        cmocka_unit_test(gateway_refuses_bad_requests_with_documented_codes),
        cmocka_unit_test(gateway_replays_and_refuses_reused_idempotency_keys),
        cmocka_unit_test(gateway_concurrent_duplicates_have_one_effect),
        cmocka_unit_test(gateway_rate_limits_per_key_with_retry_after),
        cmocka_unit_test(gateway_health_metrics_and_services_down),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
