/*
 * lc_api.c: the API call body between the gateway and the services (lc_api.h).
 */
#include "lc_api.h"
#include "lc_err.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const lc_name_t lc_role_names[] = {
    {"admin", LC_ROLE_ADMIN},
    {"auditor", LC_ROLE_AUDITOR},
    {"partner", LC_ROLE_PARTNER},
    {"app", LC_ROLE_APP},
    {NULL, 0},
};

static const lc_field_t s_money_fields[] = {
    {LC_F(lc_money_t, amount, "amount", LC_FT_I64, LC_FF_REQUIRED), .min = 0,
     .max = LC_API_POINTS_MAX, .doc = "minor units (cents)"},
    {LC_F(lc_money_t, currency, "currency", LC_FT_STR, LC_FF_REQUIRED), .min = 3, .max = 3,
     .doc = "ISO 4217 code, e.g. EUR"},
};
const lc_msgdesc_t lc_money_desc = {"money", sizeof(lc_money_t), s_money_fields, 2};

static const struct {
    const char *code;
    int status;
} s_statuses[] = {
    {LC_API_INVALID_REQUEST, 400},
    {LC_API_IDEMPOTENCY_KEY_REQUIRED, 400},
    {LC_API_UNAUTHENTICATED, 401},
    {LC_API_FORBIDDEN, 403},
    {LC_API_FOUR_EYES_REQUIRED, 403},
    {LC_API_NOT_FOUND, 404},
    {LC_API_IDEMPOTENCY_KEY_REUSED, 409},
    {LC_API_CONFLICT, 409},
    {LC_API_PAYLOAD_TOO_LARGE, 413},
    {LC_API_INSUFFICIENT_POINTS, 422},
    {LC_API_BELOW_THRESHOLD, 422},
    {LC_API_INVALID_MEMBER_CODE, 422},
    {LC_API_COUPON_NOT_APPLICABLE, 422},
    {LC_API_BUDGET_EXHAUSTED, 422},
    {LC_API_DAILY_LIMIT, 422},
    {LC_API_MEMBER_FROZEN, 423},
    {LC_API_MEMBER_CODE_LOCKED, 423},
    {LC_API_COOLING_OFF, 423},
    {LC_API_RATE_LIMITED, 429},
    {LC_API_UNAVAILABLE, 503},
    {LC_API_INTERNAL, 500},
};

int lc_api_http_status(const char *code)
{
    for (size_t i = 0; code && i < sizeof s_statuses / sizeof s_statuses[0]; i++)
        if (!strcmp(s_statuses[i].code, code))
            return s_statuses[i].status;
    return 500;
}

/* ---- gateway side ------------------------------------------------------------------ */

static json_t *s_copy_or_empty(const json_t *obj)
{
    return obj ? json_deep_copy(obj) : json_object();
}

json_t *lc_api_req_build(const lc_api_caller_t *caller, const char *idempotency_key,
                         const json_t *params, const json_t *query, const json_t *request)
{
    char key_id[LC_ID_STRLEN + 1], partner_id[LC_ID_STRLEN + 1];
    lc_id_format(&caller->key_id, key_id);
    json_t *c = json_pack("{s:s?, s:s, s:s?}", "role", lc_name_of(lc_role_names,
                                                                   (uint32_t)caller->role),
                          "key_id", key_id, "owner", caller->owner);
    if (!c)
        return NULL;
    if (!lc_id_is_zero(&caller->partner_id)) {
        lc_id_format(&caller->partner_id, partner_id);
        json_object_set_new(c, "partner_id", json_string(partner_id));
    }
    json_t *body = json_pack("{s:o, s:o, s:o, s:o}", "caller", c, "params",
                             s_copy_or_empty(params), "query", s_copy_or_empty(query), "request",
                             s_copy_or_empty(request));
    if (body && idempotency_key)
        json_object_set_new(body, "idempotency_key", json_string(idempotency_key));
    return body;
}

/* ---- service side ------------------------------------------------------------------ */

static int s_fail(char *msg, size_t msglen, const char *what)
{
    snprintf(msg, msglen, "malformed API call: %s", what);
    return LC_ERR_INVALID;
}

static json_t *s_string_object(const json_t *body, const char *name)
{
    json_t *obj = json_object_get(body, name);
    if (!obj)
        return json_object();
    if (!json_is_object(obj))
        return NULL;
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)obj, k, v)
        if (!json_is_string(v))
            return NULL;
    return json_incref(obj);
}

int lc_api_req_parse(const json_t *body, lc_api_req_t *out, char *msg, size_t msglen)
{
    memset(out, 0, sizeof *out);
    if (!json_is_object(body))
        return s_fail(msg, msglen, "not an object");
    const json_t *c = json_object_get(body, "caller");
    const char *role = json_string_value(json_object_get(c, "role"));
    const char *key_id = json_string_value(json_object_get(c, "key_id"));
    const char *partner_id = json_string_value(json_object_get(c, "partner_id"));
    const char *owner = json_string_value(json_object_get(c, "owner"));
    uint32_t r = 0;
    if (!role || lc_value_of(lc_role_names, role, &r) != LC_OK)
        return s_fail(msg, msglen, "caller.role");
    out->caller.role = (int)r;
    if (!key_id || lc_id_parse(key_id, &out->caller.key_id) != LC_OK)
        return s_fail(msg, msglen, "caller.key_id");
    if (partner_id && lc_id_parse(partner_id, &out->caller.partner_id) != LC_OK)
        return s_fail(msg, msglen, "caller.partner_id");
    if ((r == LC_ROLE_PARTNER) != (partner_id != NULL))
        return s_fail(msg, msglen, "caller.partner_id goes with role partner only");
    const json_t *idem = json_object_get(body, "idempotency_key");
    if (idem && !json_is_string(idem))
        return s_fail(msg, msglen, "idempotency_key");
    out->params = s_string_object(body, "params");
    out->query = s_string_object(body, "query");
    out->request = json_object_get(body, "request");
    if (out->request)
        json_incref(out->request);
    else
        out->request = json_object();
    out->caller.owner = owner ? strdup(owner) : NULL;
    out->idempotency_key = idem ? strdup(json_string_value(idem)) : NULL;
    if (!out->params || !out->query) {
        lc_api_req_clear(out);
        return s_fail(msg, msglen, "params and query must be objects of strings");
    }
    if (!json_is_object(out->request)) {
        lc_api_req_clear(out);
        snprintf(msg, msglen, "the request body must be a JSON object");
        return LC_ERR_INVALID;
    }
    if ((owner && !out->caller.owner) || (idem && !out->idempotency_key)) {
        lc_api_req_clear(out);
        return LC_ERR_NOMEM;
    }
    return LC_OK;
}

void lc_api_req_clear(lc_api_req_t *req)
{
    free(req->caller.owner);
    free(req->idempotency_key);
    json_decref(req->params);
    json_decref(req->query);
    json_decref(req->request);
    memset(req, 0, sizeof *req);
}

const char *lc_api_param(const lc_api_req_t *req, const char *name)
{
    return json_string_value(json_object_get(req->params, name));
}

const char *lc_api_query(const lc_api_req_t *req, const char *name)
{
    return json_string_value(json_object_get(req->query, name));
}

int lc_api_param_id(const lc_api_req_t *req, const char *name, lc_id_t *out)
{
    const char *s = lc_api_param(req, name);
    if (!s || strlen(s) != LC_ID_STRLEN || lc_id_parse(s, out) != LC_OK)
        return LC_ERR_NOT_FOUND;
    return LC_OK;
}

int lc_api_query_i64(const lc_api_req_t *req, const char *name, int64_t def, int64_t min,
                     int64_t max, int64_t *out, char *msg, size_t msglen)
{
    const char *s = lc_api_query(req, name);
    if (!s) {
        *out = def;
        return LC_OK;
    }
    char *end = NULL;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (!*s || *end || errno || v < min || v > max) {
        snprintf(msg, msglen, "query parameter %s must be an integer from %lld to %lld", name,
                 (long long)min, (long long)max);
        return LC_ERR_INVALID;
    }
    *out = v;
    return LC_OK;
}

int lc_api_decode(const lc_api_req_t *req, const lc_msgdesc_t *desc, void *out, char *msg,
                  size_t msglen)
{
    lc_codec_err_t err;
    int rc = lc_codec_decode(desc, req->request, out, &err);
    if (rc == LC_ERR_INVALID) /* the message names the field's path already */
        snprintf(msg, msglen, "%s", err.message);
    return rc;
}

int lc_api_derive(const lc_api_req_t *req, const char *label, lc_id_t *out)
{
    if (!req->idempotency_key || !req->caller.owner)
        return LC_ERR_INVALID;
    /* owner NUL key: no two (owner, key) pairs share a byte string. */
    size_t lo = strlen(req->caller.owner), lk = strlen(req->idempotency_key);
    char *buf = malloc(lo + 1 + lk);
    if (!buf)
        return LC_ERR_NOMEM;
    memcpy(buf, req->caller.owner, lo);
    buf[lo] = '\0';
    memcpy(buf + lo + 1, req->idempotency_key, lk);
    lc_id_derive_bytes(buf, lo + 1 + lk, label, out);
    free(buf);
    return LC_OK;
}
