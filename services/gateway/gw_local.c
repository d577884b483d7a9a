/*
 * gw_local.c: forwarding to services, and the routes about keys (gw_local.h).
 */
#include "gw_local.h"
#include "gw_keys.h"
#include "gw_metrics.h"
#include "lc_crypto.h"
#include "lc_err.h"
#include "lc_log.h"

#include <stdlib.h>
#include <string.h>

/* Envelope-level codes that mean "try again later" rather than "you erred". */
static bool s_transient(const char *code)
{
    return !strcmp(code, LC_E_DEADLINE) || !strcmp(code, LC_E_UNAVAILABLE);
}

/* Codec codes a service should have turned into invalid_request itself. */
static bool s_codec(const char *code)
{
    return !strcmp(code, LC_E_MISSING_FIELD) || !strcmp(code, LC_E_INVALID_FIELD) ||
           !strcmp(code, LC_E_UNKNOWN_FIELD) || !strcmp(code, LC_E_INVALID_MESSAGE);
}

bool gw_forward(gw_t *gw, gw_backend_t *b, int service, const char *type,
                const lc_api_req_t *call, const char *request_id, int status, gw_resp_t *out,
                json_t **reply_body)
{
    json_t *body = lc_api_req_build(&call->caller, call->idempotency_key, call->params,
                                    call->query, call->request);
    if (!body) {
        gw_resp_error(out, LC_API_INTERNAL, request_id, "out of memory");
        return false;
    }
    lc_reply_t rep;
    int rc = lc_bus_call(b->bus[service], type, body, request_id, (int)gw->cfg.bus_timeout_ms,
                         (int)gw->cfg.bus_retries, &rep);
    json_decref(body);
    bool ok = false;
    if (rc != LC_OK) {
        gw_metrics_bus_error(gw->metrics, service);
        lc_warn(request_id, "%s: no reply from the %s service (%s)", type,
                gw_service_names[service], lc_strerror(rc));
        gw_resp_error(out, LC_API_UNAVAILABLE, request_id, "the %s service did not answer",
                      gw_service_names[service]);
    } else if (rep.ok) {
        ok = true;
        if (reply_body)
            *reply_body = json_incref(rep.body);
        else
            gw_resp_json(out, status, json_incref(rep.body));
    } else if (s_transient(rep.code)) {
        gw_metrics_bus_error(gw->metrics, service);
        gw_resp_error(out, LC_API_UNAVAILABLE, request_id, "%s",
                      rep.message ? rep.message : rep.code);
    } else if (s_codec(rep.code)) {
        gw_resp_error(out, LC_API_INVALID_REQUEST, request_id, "%s",
                      rep.message ? rep.message : rep.code);
    } else if (lc_api_http_status(rep.code) != 500 || !strcmp(rep.code, LC_API_INTERNAL)) {
        if (!strcmp(rep.code, LC_API_INTERNAL))
            lc_error(request_id, "%s: internal error in %s: %s", type, gw_service_names[service],
                     rep.message ? rep.message : "");
        gw_resp_error(out, rep.code, request_id, "%s", rep.message ? rep.message : rep.code);
    } else {
        lc_error(request_id, "%s: the %s service answered unknown code %s: %s", type,
                 gw_service_names[service], rep.code, rep.message ? rep.message : "");
        gw_resp_error(out, LC_API_INTERNAL, request_id, "internal error");
    }
    if (rc == LC_OK)
        lc_reply_clear(&rep);
    return ok;
}

/* Mints a key in the request's transaction and answers with it. */
static json_t *s_mint(gw_backend_t *b, const lc_api_req_t *call, const char *label, int role,
                      const lc_id_t *partner_id, const char *name, const char *request_id,
                      gw_resp_t *out)
{
    lc_id_t id;
    char text[GW_KEY_TEXT_LEN + 1], idtext[LC_ID_STRLEN + 1];
    int rc = lc_api_derive(call, label, &id);
    if (rc == LC_OK)
        rc = gw_keys_create(b->db, &id, role, partner_id, name, &call->caller.key_id, text);
    if (rc != LC_OK) {
        lc_error(request_id, "cannot store a new key: %s (%s)", lc_strerror(rc),
                 lc_db_error(b->db));
        gw_resp_error(out, LC_API_UNAVAILABLE, request_id, "cannot store the key; try again");
        return NULL;
    }
    lc_id_format(&id, idtext);
    json_t *j = json_pack("{s:s, s:s, s:s}", "key_id", idtext, "api_key", text, "role",
                          lc_name_of(lc_role_names, (uint32_t)role));
    lc_secure_zero(text, sizeof text);
    lc_info(request_id, "key %s (role %s) created by key %s", idtext,
            lc_name_of(lc_role_names, (uint32_t)role), call->caller.owner);
    return j;
}

void gw_local_create_partner(gw_t *gw, gw_backend_t *b, const lc_api_req_t *call,
                             const char *request_id, gw_resp_t *out)
{
    json_t *partner = NULL;
    if (!gw_forward(gw, b, GW_SVC_SETTLEMENT, "settlement.create_partner", call, request_id, 201,
                    out, &partner))
        return;
    lc_id_t pid;
    const char *id = json_string_value(json_object_get(partner, "id"));
    if (!id || lc_id_parse(id, &pid) != LC_OK) {
        lc_error(request_id, "settlement.create_partner answered without a partner id");
        gw_resp_error(out, LC_API_INTERNAL, request_id, "internal error");
        json_decref(partner);
        return;
    }
    const char *name = json_string_value(json_object_get(partner, "name"));
    json_t *key = s_mint(b, call, "partner_key", LC_ROLE_PARTNER, &pid, name, request_id, out);
    if (!key) {
        json_decref(partner);
        return;
    }
    json_object_set(partner, "api_key", json_object_get(key, "api_key"));
    json_object_set(partner, "key_id", json_object_get(key, "key_id"));
    json_decref(key);
    gw_resp_json(out, 201, partner);
}

void gw_local_partner_key(gw_t *gw, gw_backend_t *b, const lc_api_req_t *call,
                          const char *request_id, gw_resp_t *out)
{
    json_t *partner = NULL;
    if (!gw_forward(gw, b, GW_SVC_SETTLEMENT, "settlement.get_partner", call, request_id, 200,
                    out, &partner))
        return;
    lc_id_t pid;
    const char *id = json_string_value(json_object_get(partner, "id"));
    if (!id || lc_id_parse(id, &pid) != LC_OK) {
        gw_resp_error(out, LC_API_INTERNAL, request_id, "internal error");
        json_decref(partner);
        return;
    }
    const char *name = json_string_value(json_object_get(partner, "name"));
    json_t *key = s_mint(b, call, "key", LC_ROLE_PARTNER, &pid, name, request_id, out);
    if (key) {
        json_object_set_new(key, "id", json_incref(json_object_get(key, "key_id")));
        json_object_set_new(key, "partner_id", json_string(id));
        gw_resp_json(out, 201, key);
    }
    json_decref(partner);
}

void gw_local_revoke_key(gw_t *gw, gw_backend_t *b, const lc_api_req_t *call,
                         const char *request_id, gw_resp_t *out)
{
    (void)gw;
    lc_id_t pid, kid;
    if (lc_api_param_id(call, "id", &pid) != LC_OK || lc_api_param_id(call, "key_id", &kid) != LC_OK) {
        gw_resp_error(out, LC_API_NOT_FOUND, request_id, "no such key");
        return;
    }
    int rc = gw_keys_revoke(b->db, &pid, &kid);
    if (rc == LC_ERR_NOT_FOUND) {
        gw_resp_error(out, LC_API_NOT_FOUND, request_id, "no such active key of this partner");
    } else if (rc != LC_OK) {
        gw_resp_error(out, LC_API_UNAVAILABLE, request_id, "cannot revoke the key; try again");
    } else {
        lc_info(request_id, "key %s of partner %s revoked by %s", lc_api_param(call, "key_id"),
                lc_api_param(call, "id"), call->caller.owner);
        gw_resp_json(out, 204, NULL);
    }
}

typedef struct key_req {
    int role;
    char *name;
} key_req_t;

static const lc_name_t s_key_roles[] = {
    {"admin", LC_ROLE_ADMIN}, {"auditor", LC_ROLE_AUDITOR}, {"app", LC_ROLE_APP}, {NULL, 0}};
static const lc_field_t s_key_req_fields[] = {
    {LC_F(key_req_t, role, "role", LC_FT_ENUM, LC_FF_REQUIRED), .names = s_key_roles,
     .doc = "admin, auditor or app (partner keys: POST /v1/partners/{id}/keys)"},
    {LC_F(key_req_t, name, "name", LC_FT_STR, LC_FF_REQUIRED), .min = 1, .max = 200,
     .doc = "who or what the key is for"},
};
static const lc_msgdesc_t s_key_req_desc = {"key_req", sizeof(key_req_t), s_key_req_fields, 2};

void gw_local_create_key(gw_t *gw, gw_backend_t *b, const lc_api_req_t *call,
                         const char *request_id, gw_resp_t *out)
{
    (void)gw;
    key_req_t req;
    char msg[256];
    if (lc_api_decode(call, &s_key_req_desc, &req, msg, sizeof msg) != LC_OK) {
        gw_resp_error(out, LC_API_INVALID_REQUEST, request_id, "%s", msg);
        return;
    }
    json_t *key = s_mint(b, call, "key", req.role, NULL, req.name, request_id, out);
    if (key) {
        json_object_set_new(key, "id", json_incref(json_object_get(key, "key_id")));
        json_object_set_new(key, "name", json_string(req.name));
        gw_resp_json(out, 201, key);
    }
    lc_codec_clear(&s_key_req_desc, &req);
}
