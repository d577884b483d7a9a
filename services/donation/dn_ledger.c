/*
 * dn_ledger.c: calls to the ledger (dn_ledger.h).
 */
#include "dn_ledger.h"
#include "lc_err.h"
#include "lc_log.h"

#include <string.h>

/* Sends type with *req and decodes the ok reply into *rep. */
static int s_call(dn_server_t *s, const char *rid, const char *type, const lc_msgdesc_t *req_desc,
                  const void *req, const lc_msgdesc_t *rep_desc, void *rep)
{
    json_t *body = lc_codec_encode(req_desc, req);
    if (!body)
        return LC_ERR_NOMEM;
    lc_reply_t r;
    int rc = lc_bus_call_default(s->ledger, type, body, &r);
    json_decref(body);
    if (rc != LC_OK) {
        lc_log_kv(LC_LOG_ERROR, rid, "ledger did not answer", "type", type, "error",
                  lc_strerror(rc), NULL);
        return LC_ERR_UNAVAILABLE;
    }
    if (!r.ok) {
        lc_log_kv(LC_LOG_ERROR, rid, "ledger refused the request", "type", type, "code", r.code,
                  "message", r.message ? r.message : "", NULL);
        rc = strcmp(r.code, LC_E_NOT_FOUND) == 0 ? LC_ERR_NOT_FOUND : LC_ERR_UNAVAILABLE;
        lc_reply_clear(&r);
        return rc;
    }
    lc_codec_err_t err;
    rc = lc_codec_decode(rep_desc, r.body, rep, &err);
    if (rc != LC_OK) {
        lc_log_kv(LC_LOG_ERROR, rid, "ledger reply does not decode", "type", type, "message",
                  rc == LC_ERR_INVALID ? err.message : lc_strerror(rc), NULL);
        rc = LC_ERR_UNAVAILABLE;
    }
    lc_reply_clear(&r);
    return rc;
}

int dn_ledger_transfers(dn_server_t *s, const char *rid, const ld_transfer_t *t, size_t n,
                        ld_results_rep_t *out)
{
    ld_create_transfers_req_t req = {.transfers = (ld_transfer_t *)t, .ntransfers = n};
    int rc = s_call(s, rid, LD_TYPE_CREATE_TRANSFERS, &ld_create_transfers_req_desc, &req,
                    &ld_results_rep_desc, out);
    if (rc == LC_OK && out->nresults != n) {
        lc_codec_clear(&ld_results_rep_desc, out);
        lc_error(rid, "ledger answered %zu results for %zu transfers", out->nresults, n);
        return LC_ERR_UNAVAILABLE;
    }
    return rc;
}

static int s_accounts(dn_server_t *s, const char *rid, const ld_account_new_t *a, size_t n)
{
    ld_create_accounts_req_t req = {.accounts = (ld_account_new_t *)a, .naccounts = n};
    ld_results_rep_t rep;
    int rc = s_call(s, rid, LD_TYPE_CREATE_ACCOUNTS, &ld_create_accounts_req_desc, &req,
                    &ld_results_rep_desc, &rep);
    if (rc != LC_OK)
        return rc;
    for (size_t i = 0; i < n && rc == LC_OK; i++) {
        int r = i < rep.nresults ? rep.results[i].result : LD_ID_MUST_NOT_BE_ZERO;
        if (!dn_ledger_applied(r)) {
            char idt[LC_ID_STRLEN + 1];
            lc_id_format(&a[i].id, idt);
            lc_log_kv(LC_LOG_ERROR, rid, "ledger refused an account", "account_id", idt,
                      "result", dn_ledger_result_name(r), NULL);
            rc = LC_ERR_CONFLICT;
        }
    }
    lc_codec_clear(&ld_results_rep_desc, &rep);
    return rc;
}

int dn_ledger_lookup(dn_server_t *s, const char *rid, const lc_id_t *ids, size_t n,
                     ld_accounts_rep_t *out)
{
    ld_lookup_req_t req = {.ids = (lc_id_t *)ids, .nids = n};
    return s_call(s, rid, LD_TYPE_LOOKUP_ACCOUNTS, &ld_lookup_req_desc, &req,
                  &ld_accounts_rep_desc, out);
}

int dn_ledger_account(dn_server_t *s, const char *rid, const lc_id_t *id, ld_account_view_t *out)
{
    ld_accounts_rep_t rep;
    int rc = dn_ledger_lookup(s, rid, id, 1, &rep);
    if (rc != LC_OK)
        return rc;
    rc = rep.naccounts ? LC_OK : LC_ERR_NOT_FOUND;
    if (rep.naccounts)
        *out = rep.accounts[0]; /* owns nothing */
    lc_codec_clear(&ld_accounts_rep_desc, &rep);
    return rc;
}

int dn_ledger_ensure_accounts(dn_server_t *s, const char *rid)
{
    if (s->accounts_ready)
        return LC_OK;
    ld_account_new_t a[2];
    memset(a, 0, sizeof a);
    dn_pool_account(&a[0].id);
    a[0].kind = LD_KIND_CHARITY_POOL;
    a[0].flags = LD_AF_DEBITS_MUST_NOT_EXCEED_CREDITS;
    a[0].code = DN_ACCOUNT_POOL;
    dn_clearing_account(&a[1].id);
    a[1].kind = LD_KIND_PAYOUT_CLEARING;
    a[1].code = DN_ACCOUNT_CLEARING;
    int rc = s_accounts(s, rid, a, 2);
    if (rc == LC_OK)
        s->accounts_ready = true;
    return rc;
}

int dn_ledger_charity_account(dn_server_t *s, const char *rid, const lc_id_t *charity)
{
    ld_account_new_t a = {.kind = LD_KIND_CHARITY,
                          .flags = LD_AF_DEBITS_MUST_NOT_EXCEED_CREDITS,
                          .code = DN_ACCOUNT_CHARITY,
                          .user_data = *charity};
    dn_charity_account(charity, &a.id);
    return s_accounts(s, rid, &a, 1);
}

bool dn_ledger_applied(int result)
{
    return result == LD_OK || result == LD_EXISTS;
}

const char *dn_ledger_result_name(int result)
{
    const char *n = lc_name_of(ld_result_names, (uint32_t)result);
    return n ? n : "unknown";
}

void dn_partner_issuance(const lc_id_t *partner, lc_id_t *out)
{
    lc_id_derive(partner, "issuance", out);
}
