/*
 * gw_dispatch.c: one HTTP request, from route to response (gw_dispatch.h).
 */
#include "gw_dispatch.h"
#include "gw_admin_log.h"
#include "gw_csv.h"
#include "gw_idem.h"
#include "gw_keys.h"
#include "gw_limit.h"
#include "gw_local.h"
#include "gw_metrics.h"
#include "gw_pool.h"
#include "lc_err.h"
#include "lc_log.h"
#include "lc_time.h"

#include <stdlib.h>
#include <string.h>

#define IDEM_KEY_MAX 255
#define HEALTH_TIMEOUT_MS 1000

/* GET /healthz: 200 when the database and every service answer. */
static void s_health(gw_t *gw, const char *request_id, gw_resp_t *out)
{
    gw_backend_t *b = gw_pool_get(gw->pool);
    json_t *checks = json_object();
    bool all = true;
    bool db = b->db && lc_db_exec(b->db, "SELECT 1", 0, NULL, NULL) == LC_OK;
    json_object_set_new(checks, "database", json_string(db ? "ok" : "unavailable"));
    all &= db;
    for (int s = 0; s < GW_SVC_COUNT; s++) {
        char type[64];
        snprintf(type, sizeof type, "%s.ping", gw_service_names[s]);
        lc_reply_t rep;
        json_t *empty = json_object();
        int rc = lc_bus_call(b->bus[s], type, empty, request_id, HEALTH_TIMEOUT_MS, 0, &rep);
        json_decref(empty);
        bool ok = rc == LC_OK && rep.ok;
        if (rc == LC_OK)
            lc_reply_clear(&rep);
        json_object_set_new(checks, gw_service_names[s], json_string(ok ? "ok" : "unavailable"));
        all &= ok;
    }
    gw_pool_put(gw->pool, b);
    gw_resp_json(out, all ? 200 : 503,
                 json_pack("{s:s, s:o}", "status", all ? "ok" : "unavailable", "checks", checks));
}

/* Parses the body: empty means {}, anything else must be a JSON object. */
static json_t *s_body(const gw_http_req_t *in, char *msg, size_t msglen)
{
    if (in->body_len == 0)
        return json_object();
    json_error_t jerr;
    json_t *j = json_loadb(in->body, in->body_len, JSON_REJECT_DUPLICATES, &jerr);
    if (!j) {
        snprintf(msg, msglen, "the body is not valid JSON: %s (line %d, column %d)", jerr.text,
                 jerr.line, jerr.column);
        return NULL;
    }
    if (!json_is_object(j)) {
        json_decref(j);
        snprintf(msg, msglen, "the body must be a JSON object");
        return NULL;
    }
    return j;
}

static void s_run(gw_t *gw, gw_backend_t *b, const gw_route_t *r, const lc_api_req_t *call,
                  const char *request_id, gw_resp_t *out)
{
    if (r->local)
        r->local(gw, b, call, request_id, out);
    else
        gw_forward(gw, b, r->service, r->type, call, request_id, r->status, out, NULL);
}

/* Outcomes worth replaying: the request reached a definitive answer. A 5xx or a
 * 429 did not: the client retries with the same key and gets a fresh try. */
static bool s_definitive(int status)
{
    return status < 500 && status != 429;
}

/* Authenticates the caller of a keyed route, checks its role and takes a token of
 * its rate limit. Returns LC_OK, or LC_ERR_INVALID with *out set to the refusal. */
static int s_authorize(gw_t *gw, gw_backend_t *b, const gw_route_t *r, const gw_http_req_t *in,
                       lc_api_caller_t *caller, gw_resp_t *out)
{
    const char *rid = in->request_id;
    int rc = gw_keys_authenticate(b->db, in->authorization, caller);
    if (rc == LC_ERR_NOT_FOUND) {
        gw_resp_error(out, LC_API_UNAUTHENTICATED, rid,
                      "a valid API key is required: Authorization: Bearer <key>");
        return LC_ERR_INVALID;
    } else if (rc != LC_OK) {
        gw_resp_error(out, LC_API_UNAVAILABLE, rid, "cannot check the API key; try again");
        return LC_ERR_INVALID;
    }
    if (!(r->roles & GW_ROLE(caller->role))) {
        gw_resp_error(out, LC_API_FORBIDDEN, rid, "role %s may not call %s %s",
                      lc_name_of(lc_role_names, (uint32_t)caller->role), r->method, r->pattern);
        return LC_ERR_INVALID;
    }
    int64_t retry_after = 0;
    if (!gw_limit_take(gw->limit, &caller->key_id, lc_mono_us(), &retry_after)) {
        gw_resp_error(out, LC_API_RATE_LIMITED, rid, "too many requests with this key");
        out->retry_after = retry_after;
        return LC_ERR_INVALID;
    }
    return LC_OK;
}

/* Writes an admin's action to the admin log once its answer is known. The action
 * has happened by then; a log that cannot be written is an error for operators,
 * not a reason to hide the outcome from the caller. */
static void s_log_admin(gw_backend_t *b, const gw_route_t *r, const gw_http_req_t *in,
                        const gw_resp_t *out, const lc_api_req_t *call)
{
    gw_admin_action_t a = {
        .caller = &call->caller,
        .method = r->method,
        .route = r->pattern,
        .path = in->path,
        .request_id = in->request_id,
        .idempotency_key = call->idempotency_key, /* NULL when the route takes none */
        .status = out->status,
        .replayed = out->replayed,
    };
    int rc = gw_admin_log_append(b->db, &a);
    if (rc != LC_OK)
        lc_error(in->request_id, "cannot write the admin log (%s %s -> %d): %s (%s)", r->method,
                 in->path, out->status, lc_strerror(rc), lc_db_error(b->db));
}

static void s_route(gw_t *gw, const gw_http_req_t *in, int ri, json_t *params, gw_resp_t *out)
{
    const gw_route_t *r = &gw_routes[ri];
    const char *rid = in->request_id;
    if (in->too_large) {
        gw_resp_error(out, LC_API_PAYLOAD_TOO_LARGE, rid, "the body is larger than %lld bytes",
                      (long long)gw->cfg.body_max);
        return;
    }
    gw_backend_t *b = gw_pool_get(gw->pool);
    lc_api_req_t call = {0};
    json_t *body = NULL;
    bool acted = false; /* an admin action for the admin log (gw_admin_log.h) */
    if (!b->db) {
        gw_resp_error(out, LC_API_UNAVAILABLE, rid, "the database is unavailable; try again");
        goto done;
    }
    /* A public route (GET /v1/keys/receipts) has no key: nothing to authenticate,
     * no role, no per-key limit. */
    int rc = r->public ? LC_OK : s_authorize(gw, b, r, in, &call.caller, out);
    if (rc != LC_OK) {
        acted = out->status == 403; /* a role refused is an attempt worth logging */
        goto done;
    }
    const char *key = in->idempotency_key;
    if (key && (r->idem == GW_IDEM_NONE || !*key))
        key = r->idem == GW_IDEM_NONE ? NULL : key;
    if (r->idem == GW_IDEM_REQUIRED && !key) {
        gw_resp_error(out, LC_API_IDEMPOTENCY_KEY_REQUIRED, rid,
                      "%s %s requires an Idempotency-Key header", r->method, r->pattern);
        goto done;
    }
    if (key && !lc_printable_ascii(key, IDEM_KEY_MAX + 1)) {
        gw_resp_error(out, LC_API_INVALID_REQUEST, rid,
                      "Idempotency-Key must be 1 to 255 printable ASCII characters");
        goto done;
    }
    char msg[512];
    body = s_body(in, msg, sizeof msg);
    if (!body) {
        gw_resp_error(out, LC_API_INVALID_REQUEST, rid, "%s", msg);
        goto done;
    }
    call.idempotency_key = key ? strdup(key) : NULL;
    call.params = json_incref(params);
    call.query = json_incref((json_t *)in->query);
    call.request = json_incref(body);
    acted = true;
    if (!key) {
        s_run(gw, b, r, &call, rid, out);
        goto done;
    }
    uint8_t hash[LC_SHA256_LEN];
    gw_idem_hash(in->method, in->path, in->body, in->body_len, hash);
    gw_idem_state_t state;
    int status = 0;
    char *stored = NULL;
    rc = gw_idem_begin(b->db, call.caller.owner, key, hash, &state, &status, &stored);
    if (rc != LC_OK) {
        gw_resp_error(out, LC_API_UNAVAILABLE, rid, "cannot record the Idempotency-Key; try again");
    } else if (state == GW_IDEM_REUSED) {
        gw_resp_error(out, LC_API_IDEMPOTENCY_KEY_REUSED, rid,
                      "this Idempotency-Key was used for a different request");
    } else if (state == GW_IDEM_REPLAY) {
        out->status = status;
        out->body = stored;
        out->replayed = true;
        gw_metrics_replay(gw->metrics);
    } else {
        s_run(gw, b, r, &call, rid, out);
        if (!s_definitive(out->status)) {
            gw_idem_abandon(b->db);
        } else if (gw_idem_finish(b->db, call.caller.owner, key, out->status, out->body) !=
                   LC_OK) {
            /* The effect happened (services are idempotent by derived ids), but
             * the record did not: the client's retry will redo it and get the
             * same outcome. Say so rather than pretend. */
            lc_warn(rid, "cannot store the response for Idempotency-Key %s: %s", key,
                    lc_db_error(b->db));
            gw_resp_clear(out);
            gw_resp_error(out, LC_API_UNAVAILABLE, rid,
                          "the outcome could not be recorded; retry with the same key");
        }
    }
done:
    if (acted && gw_admin_log_wanted(&call.caller, r->method))
        s_log_admin(b, r, in, out, &call);
    json_decref(body);
    lc_api_req_clear(&call);
    gw_pool_put(gw->pool, b);
}

/* Turns a successful JSON answer of a route that offers CSV into CSV when the
 * client asks for it (gw_csv.h). Errors stay JSON. */
static void s_negotiate(const gw_route_t *r, const gw_http_req_t *in, gw_resp_t *out)
{
    if (!r->csv || out->status < 200 || out->status > 299 || !out->body ||
        !gw_csv_wanted(in->accept))
        return;
    json_t *reply = json_loads(out->body, 0, NULL);
    char *csv = NULL, msg[256] = "out of memory";
    if (!reply || gw_csv_render(reply, r->csv, &csv, msg, sizeof msg) != 0) {
        lc_error(in->request_id, "%s %s: cannot render CSV: %s", r->method, r->pattern, msg);
        gw_resp_error(out, LC_API_INTERNAL, in->request_id, "cannot render the answer as CSV");
    } else {
        free(out->body);
        out->body = csv;
        out->text_csv = true;
    }
    json_decref(reply);
}

void gw_dispatch(gw_t *gw, const gw_http_req_t *in, gw_resp_t *out)
{
    int64_t t0 = lc_mono_us();
    memset(out, 0, sizeof *out);
    int ri = -1;
    if (!strcmp(in->path, "/healthz") && !strcmp(in->method, "GET")) {
        s_health(gw, in->request_id, out);
    } else if (!strcmp(in->path, "/metrics") && !strcmp(in->method, "GET")) {
        out->status = 200;
        out->text_plain = true;
        out->body = gw_metrics_render(gw->metrics, gw_service_names, GW_SVC_COUNT);
        if (!out->body)
            gw_resp_error(out, LC_API_INTERNAL, in->request_id, "out of memory");
    } else {
        json_t *params = NULL;
        bool known = false;
        ri = gw_route_match(in->method, in->path, &params, &known);
        if (ri < 0)
            gw_resp_error(out, LC_API_NOT_FOUND, in->request_id,
                          known ? "%s is not allowed on %s" : "no route %s %s",
                          known ? in->method : in->method, in->path);
        else
            s_route(gw, in, ri, params, out);
        if (ri >= 0)
            s_negotiate(&gw_routes[ri], in, out);
        json_decref(params);
    }
    int64_t us = lc_mono_us() - t0;
    gw_metrics_request(gw->metrics, ri, out->status, us);
    lc_info(in->request_id, "%s %s -> %d (%lld us)%s", in->method, in->path, out->status,
            (long long)us, out->replayed ? " replayed" : "");
}
