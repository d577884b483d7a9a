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
                       const lc_id_t *use_id)
{
    st_mb_consume_code_req_t req = {.member_id = *member, .code = (char *)code,
                                    .use_id = *use_id};
    json_t *body;
    char ecode[LC_CODE_MAX];
    int rc = s_call(s, rid, ST_MB_CONSUME_CODE, lc_codec_encode(&st_mb_consume_code_req_desc, &req),
                    &body, ecode, sizeof ecode);
    json_decref(body);
    if (rc == LC_ERR_INVALID) {
        /* Members could not serve it at all: not the code's fault. */
        if (!strcmp(ecode, LC_E_UNAVAILABLE) || !strcmp(ecode, LC_E_DEADLINE) ||
            !strcmp(ecode, LC_E_INTERNAL) || !strcmp(ecode, LC_E_UNKNOWN_TYPE)) {
            lc_log_kv(LC_LOG_ERROR, rid, "members refused consume_code", "code", ecode, NULL);
            return LC_ERR_UNAVAILABLE;
        }
        /* invalid_member_code, or a code members cannot even parse. */
        lc_log_kv(LC_LOG_INFO, rid, "member code refused", "code", ecode, NULL);
        return LC_ERR_CONFLICT;
    }
    return rc;
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
