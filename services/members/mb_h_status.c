/*
 * mb_h_status.c: members.freeze and members.unfreeze (admin).
 *
 * The ledger account's frozen flag is what stops points from moving; the
 * member's status is what this service (and settlement, via resolve_card)
 * checks. The ledger is changed first, then the status and its history row (who:
 * the admin's API key id; why: the reason). Both steps converge, so a retry after
 * a failure between them completes the change.
 */
#include "lc_err.h"
#include "lc_log.h"
#include "lc_members_msg.h"
#include "lc_time.h"
#include "mb_handlers.h"
#include "mb_ledger.h"
#include "mb_store.h"

#include <stdio.h>
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
    int rc = mb_store_member_status(s->db, &member, &old);
    if (rc == LC_OK)
        rc = mb_ledger_set_frozen(s->ledger, &member, status == MB_STATUS_FROZEN, c->rid);
    if (rc == LC_OK)
        rc = mb_store_set_status(s->db, &member, status, in.reason, &c->api.caller.key_id,
                                 lc_now_us());
    if (rc == LC_OK) {
        char mid[LC_ID_STRLEN + 1], kid[LC_ID_STRLEN + 1];
        lc_id_format(&member, mid);
        lc_id_format(&c->api.caller.key_id, kid);
        lc_log_kv(LC_LOG_INFO, c->rid,
                  status == MB_STATUS_FROZEN ? "member frozen" : "member unfrozen", "member_id",
                  mid, "key_id", kid, "reason", in.reason, "was",
                  lc_name_of(mb_status_names, (uint32_t)old), NULL);
    }
    lc_codec_clear(&mb_status_req_desc, &in);
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
