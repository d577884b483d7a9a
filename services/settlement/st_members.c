/*
 * st_members.c: calls to the members service (st_members.h).
 */
#include "st_members.h"
#include "lc_err.h"
#include "lc_log.h"

#include <string.h>

/* Calls type; LC_OK with *body (new reference) on an ok reply, otherwise the error
 * code is copied to code (empty when there was no reply). */
static int s_call(st_server_t *s, const char *rid, const char *type, json_t *req, json_t **body,
                  char *code, size_t codelen)
{
    *body = NULL;
    code[0] = '\0';
    if (!req)
        return LC_ERR_NOMEM;
    lc_reply_t r;
    int rc = lc_bus_call_default(s->members, type, req, &r);
    json_decref(req);
    if (rc != LC_OK) {
        lc_log_kv(LC_LOG_ERROR, rid, "members did not answer", "type", type, "error",
                  lc_strerror(rc), NULL);
        return LC_ERR_UNAVAILABLE;
    }
    if (r.ok) {
        *body = json_incref(r.body);
    } else {
        snprintf(code, codelen, "%s", r.code);
        rc = LC_ERR_INVALID;
    }
    lc_reply_clear(&r);
    return rc;
}

int st_members_resolve(st_server_t *s, const char *rid, const char *card, lc_id_t *member,
                       bool *frozen)
{
    st_mb_resolve_card_req_t req = {.card_number = (char *)card};
    json_t *body;
    char code[LC_CODE_MAX];
    int rc = s_call(s, rid, ST_MB_RESOLVE_CARD, lc_codec_encode(&st_mb_resolve_card_req_desc, &req),
                    &body, code, sizeof code);
    if (rc == LC_ERR_INVALID) {
        if (strcmp(code, LC_API_NOT_FOUND) == 0)
            return LC_ERR_NOT_FOUND;
        lc_log_kv(LC_LOG_ERROR, rid, "members refused resolve_card", "code", code, NULL);
        return LC_ERR_UNAVAILABLE;
    }
    if (rc != LC_OK)
        return rc;
    st_mb_resolve_card_rep_t rep;
    lc_codec_err_t err;
    rc = st_msg_decode_known(&st_mb_resolve_card_rep_desc, body, &rep, &err);
    json_decref(body);
    if (rc != LC_OK) {
        lc_log_kv(LC_LOG_ERROR, rid, "members.resolve_card reply does not decode", "message",
                  rc == LC_ERR_INVALID ? err.message : lc_strerror(rc), NULL);
        return LC_ERR_UNAVAILABLE;
    }
    *member = rep.member_id;
    *frozen = rep.status != ST_MEMBER_ACTIVE;
    return LC_OK;
}

int st_members_consume(st_server_t *s, const char *rid, const lc_id_t *member, const char *code,
                       const lc_id_t *use_id, int64_t points, char *refusal, char *why,
                       size_t whylen)
{
    st_mb_consume_code_req_t req = {.member_id = *member, .code = (char *)code,
                                    .use_id = *use_id, .points = points};
    lc_reply_t r;
    json_t *body = lc_codec_encode(&st_mb_consume_code_req_desc, &req);
    if (!body)
        return LC_ERR_NOMEM;
    int rc = lc_bus_call_default(s->members, ST_MB_CONSUME_CODE, body, &r);
    json_decref(body);
    if (rc != LC_OK) {
        lc_log_kv(LC_LOG_ERROR, rid, "members did not answer", "type", ST_MB_CONSUME_CODE,
                  "error", lc_strerror(rc), NULL);
        return LC_ERR_UNAVAILABLE;
    }
    if (r.ok) {
        lc_reply_clear(&r);
        return LC_OK;
    }
    /* Members could not serve it at all: not the code's fault. */
    if (!strcmp(r.code, LC_E_UNAVAILABLE) || !strcmp(r.code, LC_E_DEADLINE) ||
        !strcmp(r.code, LC_E_INTERNAL) || !strcmp(r.code, LC_E_UNKNOWN_TYPE)) {
        lc_log_kv(LC_LOG_ERROR, rid, "members refused consume_code", "code", r.code, NULL);
        lc_reply_clear(&r);
        return LC_ERR_UNAVAILABLE;
    }
    /* A refusal of this use: its own code when it is one partners know, else (a code
     * members cannot even parse) invalid_member_code. */
    static const char *const passed[] = {LC_API_MEMBER_CODE_LOCKED, LC_API_COOLING_OFF,
                                         LC_API_MEMBER_FROZEN};
    snprintf(refusal, LC_CODE_MAX, "%s", LC_API_INVALID_MEMBER_CODE);
    snprintf(why, whylen, "the member code is invalid, expired or used");
    for (size_t i = 0; i < sizeof passed / sizeof passed[0]; i++)
        if (!strcmp(r.code, passed[i])) {
            snprintf(refusal, LC_CODE_MAX, "%s", passed[i]);
            snprintf(why, whylen, "%s", r.message ? r.message : passed[i]);
        }
    lc_log_kv(LC_LOG_INFO, rid, "member code refused", "code", r.code, NULL);
    lc_reply_clear(&r);
    return LC_ERR_CONFLICT;
}

const char *st_members_active(st_call_t *c, const char *card, lc_id_t *member)
{
    bool frozen = false;
    int rc = st_members_resolve(c->srv, c->rid, card, member, &frozen);
    if (rc == LC_ERR_NOT_FOUND)
        return st_fail(c, LC_API_NOT_FOUND, "no such card");
    if (rc != LC_OK)
        return st_fail(c, LC_API_UNAVAILABLE, "the members service is unavailable");
    if (frozen)
        return st_fail(c, LC_API_MEMBER_FROZEN, "the member is frozen");
    return NULL;
}

int st_members_set_tier(st_server_t *s, const char *rid, const lc_id_t *member, int tier,
                        int64_t version, int64_t *held)
{
    st_mb_set_tier_t req = {.member_id = *member, .tier = tier, .version = version};
    json_t *body;
    char code[LC_CODE_MAX];
    int rc = s_call(s, rid, ST_MB_SET_TIER, lc_codec_encode(&st_mb_set_tier_desc, &req), &body,
                    code, sizeof code);
    if (rc == LC_ERR_INVALID) {
        lc_log_kv(LC_LOG_ERROR, rid, "members refused set_tier", "code", code, NULL);
        return LC_ERR_UNAVAILABLE;
    }
    if (rc != LC_OK)
        return rc;
    st_mb_set_tier_t rep;
    lc_codec_err_t err;
    rc = st_msg_decode_known(&st_mb_set_tier_desc, body, &rep, &err);
    json_decref(body);
    if (rc != LC_OK) {
        lc_log_kv(LC_LOG_ERROR, rid, "members.set_tier reply does not decode", "message",
                  rc == LC_ERR_INVALID ? err.message : lc_strerror(rc), NULL);
        return LC_ERR_UNAVAILABLE;
    }
    *held = rep.version;
    return LC_OK;
}
