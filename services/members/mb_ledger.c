/*
 * mb_ledger.c: the members service as a ledger client (mb_ledger.h).
 */
#include "mb_ledger.h"
#include "lc_err.h"
#include "lc_log.h"

#include <string.h>

/* Sends type with req (encoded with req_desc) and decodes the reply body into rep
 * with rep_desc. */
static int s_call(lc_bus_client_t *cli, const char *type, const lc_msgdesc_t *req_desc,
                  const void *req, const lc_msgdesc_t *rep_desc, void *rep, const char *rid)
{
    json_t *body = lc_codec_encode(req_desc, req);
    if (!body)
        return LC_ERR_NOMEM;
    lc_reply_t r;
    int rc = lc_bus_call(cli, type, body, NULL, MB_LEDGER_TIMEOUT_MS, MB_LEDGER_RETRIES, &r);
    json_decref(body);
    if (rc != LC_OK) {
        lc_warn(rid, "ledger %s: %s", type, lc_strerror(rc));
        return rc == LC_ERR_TIMEOUT ? LC_ERR_UNAVAILABLE : rc;
    }
    if (!r.ok) {
        lc_warn(rid, "ledger %s refused: %s %s", type, r.code, r.message ? r.message : "");
        rc = !strcmp(r.code, LC_E_UNAVAILABLE) || !strcmp(r.code, LC_E_DEADLINE)
                 ? LC_ERR_UNAVAILABLE
                 : LC_ERR_PROTO;
        lc_reply_clear(&r);
        return rc;
    }
    lc_codec_err_t err;
    rc = lc_codec_decode(rep_desc, r.body, rep, &err);
    if (rc == LC_ERR_INVALID) {
        lc_error(rid, "ledger %s reply does not decode: %s: %s", type, err.path, err.message);
        rc = LC_ERR_PROTO;
    }
    lc_reply_clear(&r);
    return rc;
}

/* The single result of a one-item request. */
static int s_one_result(const ld_results_rep_t *rep, int *result)
{
    if (rep->nresults != 1)
        return LC_ERR_PROTO;
    *result = rep->results[0].result;
    return LC_OK;
}

int mb_ledger_open_account(lc_bus_client_t *cli, const lc_id_t *member, const char *rid)
{
    ld_account_new_t acct = {
        .id = *member,
        .kind = LD_KIND_MEMBER,
        .flags = LD_AF_DEBITS_MUST_NOT_EXCEED_CREDITS | LD_AF_LOTS,
    };
    ld_create_accounts_req_t req = {.accounts = &acct, .naccounts = 1};
    ld_results_rep_t rep = {0};
    int rc = s_call(cli, LD_TYPE_CREATE_ACCOUNTS, &ld_create_accounts_req_desc, &req,
                    &ld_results_rep_desc, &rep, rid);
    int result = 0;
    if (rc == LC_OK)
        rc = s_one_result(&rep, &result);
    if (rc == LC_OK && result != LD_OK && result != LD_EXISTS) {
        lc_error(rid, "ledger refused the member account: %s",
                 lc_name_of(ld_result_names, (uint32_t)result));
        rc = LC_ERR_PROTO;
    }
    lc_codec_clear(&ld_results_rep_desc, &rep);
    return rc;
}

int mb_ledger_account(lc_bus_client_t *cli, const lc_id_t *member, ld_account_view_t *out,
                      const char *rid)
{
    lc_id_t id = *member;
    ld_lookup_req_t req = {.ids = &id, .nids = 1};
    ld_accounts_rep_t rep = {0};
    int rc = s_call(cli, LD_TYPE_LOOKUP_ACCOUNTS, &ld_lookup_req_desc, &req, &ld_accounts_rep_desc,
                    &rep, rid);
    if (rc != LC_OK)
        return rc;
    if (rep.naccounts == 1 && lc_id_eq(&rep.accounts[0].id, member)) {
        *out = rep.accounts[0];
        memset(&rep.accounts[0], 0, sizeof rep.accounts[0]); /* a view owns no memory */
    } else {
        rc = LC_ERR_NOT_FOUND;
    }
    lc_codec_clear(&ld_accounts_rep_desc, &rep);
    return rc;
}

int mb_ledger_lots(lc_bus_client_t *cli, const lc_id_t *member, ld_lots_rep_t *out, const char *rid)
{
    ld_lots_req_t req = {.account_id = *member};
    memset(out, 0, sizeof *out);
    return s_call(cli, LD_TYPE_ACCOUNT_LOTS, &ld_lots_req_desc, &req, &ld_lots_rep_desc, out, rid);
}

int mb_ledger_set_frozen(lc_bus_client_t *cli, const lc_id_t *member, bool frozen, const char *rid)
{
    ld_set_flags_req_t req = {.id = *member};
    if (frozen)
        req.set = LD_AF_FROZEN;
    else
        req.clear = LD_AF_FROZEN;
    ld_results_rep_t rep = {0};
    int rc = s_call(cli, LD_TYPE_SET_ACCOUNT_FLAGS, &ld_set_flags_req_desc, &req,
                    &ld_results_rep_desc, &rep, rid);
    if (rc != LC_OK)
        return rc;
    int result = 0;
    rc = s_one_result(&rep, &result);
    if (rc == LC_OK && result == LD_ACCOUNT_NOT_FOUND)
        rc = LC_ERR_NOT_FOUND;
    else if (rc == LC_OK && result != LD_OK && result != LD_EXISTS) {
        lc_error(rid, "ledger refused to %s the account: %s", frozen ? "freeze" : "unfreeze",
                 lc_name_of(ld_result_names, (uint32_t)result));
        rc = LC_ERR_PROTO;
    }
    lc_codec_clear(&ld_results_rep_desc, &rep);
    return rc;
}
