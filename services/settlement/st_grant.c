/*
 * st_grant.c: points a partner gives for a survey, a referral or goodwill. A plain
 * transfer issuance -> member (36-month lot), charged to the granting partner like an
 * earn (a prepaid partner's budget limits it: partner_budget_exhausted). Ids: grant =
 * lc_api_derive(req, "grant"), transfer = lc_id_derive(grant, "transfer").
 */
#include "lc_err.h"
#include "lc_log.h"
#include "lc_time.h"
#include "st_arith.h"
#include "st_ledger.h"
#include "st_members.h"
#include "st_server.h"
#include "st_store.h"

#include <string.h>

const char *st_h_grant(st_call_t *c, json_t **reply)
{
    lc_id_t pid;
    const char *e = st_caller_partner_id(c, &pid);
    if (e)
        return e;
    st_grant_req_t req;
    if ((e = st_decode(c, &st_grant_req_desc, &req)))
        return e;
    st_grant_rep_t rep = {.points = req.points};
    lc_id_t member;
    int rc;
    if (!req.card_number[0]) {
        e = st_fail(c, LC_API_INVALID_REQUEST, "card_number: must not be empty");
        goto done;
    }
    if ((e = st_derive(c, "grant", &rep.id)))
        goto done;
    rc = st_store_grant_get(c->srv, &rep.id, &pid, &rep.points);
    if (rc == LC_OK) {
        e = st_reply(c, &st_grant_rep_desc, &rep, reply);
        goto done;
    }
    if (rc != LC_ERR_NOT_FOUND) {
        e = st_db_fail(c, "load grant");
        goto done;
    }
    if ((e = st_members_active(c, req.card_number, &member)))
        goto done;
    ld_transfer_t t = {.credit_account_id = member, .amount = req.points, .code = ST_CODE_GRANT,
                       .user_data = rep.id,
                       .expires_at = st_expiry_of(c->srv, lc_now_us())};
    lc_id_derive(&rep.id, "transfer", &t.id);
    st_partner_accounts(&pid, &t.debit_account_id, NULL, NULL);
    int64_t ts;
    if ((e = st_issue(c, &t, &ts)))
        goto done;
    if (st_store_grant_insert(c->srv, &rep.id, &pid, &member, req.points, req.reason, &t.id,
                              ts) != LC_OK) {
        e = st_db_fail(c, "insert grant");
        goto done;
    }
    e = st_reply(c, &st_grant_rep_desc, &rep, reply);
done:
    lc_codec_clear(&st_grant_req_desc, &req);
    return e;
}
