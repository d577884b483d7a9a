/*
 * mb_h_status.c: changes to a member's state: members.freeze and
 * members.unfreeze (admin), members.set_consents (app), members.erase (admin).
 *
 * The ledger account's frozen flag is what stops points from moving; the
 * member's status is what this service (and settlement, via resolve_card)
 * checks. The ledger is changed first, then the status and its history row (who:
 * the admin's API key id; why: the reason). Both steps converge, so a retry after
 * a failure between them completes the change. The reason is free text an admin
 * types (it may name the person), so it is sealed under the member's key and never
 * logged; an erased member's reason is not kept at all.
 *
 * Consents and erasure touch only this service's schema: the ledger account, and
 * so earning and redeeming, never depends on them.
 */
#include "lc_err.h"
#include "lc_log.h"
#include "lc_members_msg.h"
#include "lc_crypto.h"
#include "lc_time.h"
#include "mb_handlers.h"
#include "mb_ledger.h"
#include "mb_store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *s_set_status(mb_call_t *c, int status, json_t **reply, char *msg, size_t msglen)
{
    mb_server_t *s = c->srv;
    lc_id_t member;
    if (lc_api_param_id(&c->api, "id", &member) != LC_OK) {
        snprintf(msg, msglen, "no such member");
        return LC_API_NOT_FOUND;
    }
    mb_status_req_t in;
    const char *code = mb_api_decode(c, &mb_status_req_desc, &in, msg, msglen);
    if (code)
        return code;
    if (!in.reason[0]) {
        lc_codec_clear(&mb_status_req_desc, &in);
        snprintf(msg, msglen, "reason: must not be empty");
        return LC_API_INVALID_REQUEST;
    }
    int old = 0;
    uint8_t key[LC_AEAD_KEY_LEN];
    mb_sealed_t reason = {0};
    int rc = mb_store_member_status(s->db, &member, &old);
    if (rc == LC_OK) {
        rc = mb_store_member_key(s->db, &member, key);
        if (rc == LC_OK)
            rc = mb_seal(key, &member, MB_AAD_STATUS_REASON, in.reason, &reason);
        else if (rc == LC_ERR_NOT_FOUND) /* erased: the reason is not kept */
            rc = LC_OK;
        lc_secure_zero(key, sizeof key);
    }
    lc_codec_clear(&mb_status_req_desc, &in);
    if (rc == LC_OK)
        rc = mb_ledger_set_frozen(s->ledger, &member, status == MB_STATUS_FROZEN, c->rid);
    if (rc == LC_OK)
        rc = mb_store_set_status(s->db, &member, status, &reason, &c->api.caller.key_id,
                                 lc_now_us());
    if (rc == LC_OK) {
        char mid[LC_ID_STRLEN + 1], kid[LC_ID_STRLEN + 1];
        lc_id_format(&member, mid);
        lc_id_format(&c->api.caller.key_id, kid);
        lc_log_kv(LC_LOG_INFO, c->rid,
                  status == MB_STATUS_FROZEN ? "member frozen" : "member unfrozen", "member_id",
                  mid, "key_id", kid, "reason_kept", reason.data ? "sealed" : "no (erased)", "was",
                  lc_name_of(mb_status_names, (uint32_t)old), NULL);
    }
    mb_sealed_clear(&reason);
    if (rc == LC_ERR_NOT_FOUND && old == 0) {
        snprintf(msg, msglen, "no such member");
        return LC_API_NOT_FOUND;
    }
    if (rc == LC_ERR_NOT_FOUND)
        rc = LC_ERR_PROTO; /* an enrolled member without a ledger account */
    if (rc != LC_OK)
        return mb_fail(c, rc, status == MB_STATUS_FROZEN ? "freezing" : "unfreezing", msg, msglen);
    mb_status_rep_t out = {.id = member, .status = status};
    return mb_encode(&mb_status_rep_desc, &out, reply, msg, msglen);
}

const char *mb_h_freeze(mb_call_t *c, json_t **reply, char *msg, size_t msglen)
{
    return s_set_status(c, MB_STATUS_FROZEN, reply, msg, msglen);
}

const char *mb_h_unfreeze(mb_call_t *c, json_t **reply, char *msg, size_t msglen)
{
    return s_set_status(c, MB_STATUS_ACTIVE, reply, msg, msglen);
}

/* The member id of the call's path, or NULL and not_found. */
static const char *s_member(mb_call_t *c, lc_id_t *member, char *msg, size_t msglen)
{
    if (lc_api_param_id(&c->api, "id", member) == LC_OK)
        return NULL;
    snprintf(msg, msglen, "no such member");
    return LC_API_NOT_FOUND;
}

const char *mb_h_set_consents(mb_call_t *c, json_t **reply, char *msg, size_t msglen)
{
    lc_id_t member;
    const char *code = s_member(c, &member, msg, msglen);
    if (code)
        return code;
    mb_consents_t in;
    if ((code = mb_api_decode(c, &mb_consents_desc, &in, msg, msglen)))
        return code;
    /* The codec leaves an absent bool false; an absent consent must stay as it is,
     * so presence is read from the (already validated) request object. */
    bool has_marketing = json_object_get(c->api.request, "marketing") != NULL;
    bool has_profiling = json_object_get(c->api.request, "profiling") != NULL;
    if (!has_marketing && !has_profiling) {
        snprintf(msg, msglen, "give marketing, profiling or both");
        return LC_API_INVALID_REQUEST;
    }
    mb_consents_rep_t out = {.id = member};
    int rc = mb_store_set_consents(c->srv->db, &member, has_marketing ? &in.marketing : NULL,
                                   has_profiling ? &in.profiling : NULL, &c->api.caller.key_id,
                                   lc_now_us(), &out.consents, &out.updated_at);
    if (rc == LC_ERR_NOT_FOUND) {
        snprintf(msg, msglen, "no such member");
        return LC_API_NOT_FOUND;
    }
    if (rc != LC_OK)
        return mb_fail(c, rc, "setting consents", msg, msglen);
    char mid[LC_ID_STRLEN + 1];
    lc_id_format(&member, mid);
    lc_log_kv(LC_LOG_INFO, c->rid, "consents set", "member_id", mid, "marketing",
              out.consents.marketing ? "true" : "false", "profiling",
              out.consents.profiling ? "true" : "false", NULL);
    return mb_encode(&mb_consents_rep_desc, &out, reply, msg, msglen);
}

const char *mb_h_erase(mb_call_t *c, json_t **reply, char *msg, size_t msglen)
{
    lc_id_t member;
    const char *code = s_member(c, &member, msg, msglen);
    if (code)
        return code;
    mb_empty_t in;
    if ((code = mb_api_decode(c, &mb_empty_desc, &in, msg, msglen)))
        return code;
    int64_t now = lc_now_us();
    mb_erase_rep_t out = {.id = member};
    int rc = mb_store_erase(c->srv->db, &member, &c->api.caller.key_id, now, &out.erased_at);
    if (rc == LC_ERR_NOT_FOUND) {
        snprintf(msg, msglen, "no such member");
        return LC_API_NOT_FOUND;
    }
    if (rc != LC_OK)
        return mb_fail(c, rc, "erasing personal data", msg, msglen);
    char mid[LC_ID_STRLEN + 1], kid[LC_ID_STRLEN + 1];
    lc_id_format(&member, mid);
    lc_id_format(&c->api.caller.key_id, kid);
    lc_log_kv(LC_LOG_INFO, c->rid,
              out.erased_at == now ? "personal data erased" : "personal data erased already",
              "member_id", mid, "key_id", kid, NULL);
    return mb_encode(&mb_erase_rep_desc, &out, reply, msg, msglen);
}

const char *mb_h_set_tier(mb_call_t *c, json_t **reply, char *msg, size_t msglen)
{
    mb_set_tier_t in;
    const char *code = mb_body_decode(c, &mb_set_tier_desc, &in, msg, msglen);
    if (code)
        return code;
    int tier = 0;
    mb_set_tier_t out = {.member_id = in.member_id};
    int rc = mb_store_set_tier(c->srv->db, &in.member_id, (int)in.tier, in.version, &tier,
                               &out.version);
    if (rc == LC_ERR_NOT_FOUND) {
        snprintf(msg, msglen, "no such member");
        return LC_E_NOT_FOUND;
    }
    if (rc != LC_OK)
        return mb_fail(c, rc, "storing the tier", msg, msglen);
    out.tier = tier;
    if (out.version == in.version && tier == (int)in.tier) {
        char mid[LC_ID_STRLEN + 1], v[24];
        lc_id_format(&in.member_id, mid);
        snprintf(v, sizeof v, "%lld", (long long)in.version);
        lc_log_kv(LC_LOG_INFO, c->rid, "tier set", "member_id", mid, "tier",
                  lc_tiers_name(&c->srv->cfg.tiers, tier), "version", v, NULL);
    }
    return mb_encode(&mb_set_tier_desc, &out, reply, msg, msglen);
}
