/*
 * st_ledger.c: calls to the ledger (st_ledger.h).
 */
#include "st_ledger.h"
#include "lc_err.h"
#include "lc_log.h"
#include "st_store.h"

#include <stdio.h>
#include <string.h>

/* Sends type with *req and decodes the ok reply into *rep. */
static int s_call(st_server_t *s, const char *rid, const char *type, const lc_msgdesc_t *req_desc,
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

int st_ledger_call(st_server_t *s, const char *rid, const char *type,
                   const lc_msgdesc_t *req_desc, const void *req, const lc_msgdesc_t *rep_desc,
                   void *rep)
{
    return s_call(s, rid, type, req_desc, req, rep_desc, rep);
}

int st_ledger_transfers(st_server_t *s, const char *rid, const ld_transfer_t *t, size_t n,
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

int st_ledger_accounts(st_server_t *s, const char *rid, const ld_account_new_t *a, size_t n,
                       ld_results_rep_t *out)
{
    ld_create_accounts_req_t req = {.accounts = (ld_account_new_t *)a, .naccounts = n};
    int rc = s_call(s, rid, LD_TYPE_CREATE_ACCOUNTS, &ld_create_accounts_req_desc, &req,
                    &ld_results_rep_desc, out);
    if (rc == LC_OK && out->nresults != n) {
        lc_codec_clear(&ld_results_rep_desc, out);
        return LC_ERR_UNAVAILABLE;
    }
    return rc;
}

int st_ledger_lookup(st_server_t *s, const char *rid, const lc_id_t *ids, size_t n,
                     ld_accounts_rep_t *out)
{
    ld_lookup_req_t req = {.ids = (lc_id_t *)ids, .nids = n};
    return s_call(s, rid, LD_TYPE_LOOKUP_ACCOUNTS, &ld_lookup_req_desc, &req,
                  &ld_accounts_rep_desc, out);
}

int st_ledger_transfer_entries(st_server_t *s, const char *rid, const lc_id_t *ids, size_t n,
                               ld_entries_rep_t *out)
{
    ld_lookup_req_t req = {.ids = (lc_id_t *)ids, .nids = n};
    return s_call(s, rid, LD_TYPE_LOOKUP_TRANSFERS, &ld_lookup_req_desc, &req,
                  &ld_entries_rep_desc, out);
}

int st_ledger_transfer_entry(st_server_t *s, const char *rid, const lc_id_t *id, ld_entry_t *out,
                             bool *found)
{
    ld_entries_rep_t rep;
    int rc = st_ledger_transfer_entries(s, rid, id, 1, &rep);
    if (rc != LC_OK)
        return rc;
    *found = rep.nentries > 0;
    if (*found)
        *out = rep.entries[0]; /* entries own nothing */
    lc_codec_clear(&ld_entries_rep_desc, &rep);
    return LC_OK;
}

int st_ledger_ensure_account(st_server_t *s, const char *rid, const ld_account_new_t *a)
{
    ld_results_rep_t rep;
    int rc = st_ledger_accounts(s, rid, a, 1, &rep);
    if (rc != LC_OK)
        return rc;
    int r = rep.results[0].result;
    lc_codec_clear(&ld_results_rep_desc, &rep);
    char idt[LC_ID_STRLEN + 1];
    lc_id_format(&a->id, idt);
    if (st_ledger_exists_different(r)) {
        /* Made by someone else (a member account by the members service) or by an
         * older settlement: the id is taken by an account that serves the purpose. */
        lc_log_kv(LC_LOG_DEBUG, rid, "account exists with other fields", "account_id", idt,
                  "kind", lc_name_of(ld_kind_names, (uint32_t)a->kind), "result",
                  st_ledger_result_name(r), NULL);
        return LC_OK;
    }
    if (!st_ledger_applied(r)) {
        lc_log_kv(LC_LOG_ERROR, rid, "account refused", "account_id", idt, "kind",
                  lc_name_of(ld_kind_names, (uint32_t)a->kind), "result",
                  st_ledger_result_name(r), NULL);
        return LC_ERR_CONFLICT;
    }
    if (r == LD_OK)
        lc_log_kv(LC_LOG_INFO, rid, "account created", "account_id", idt, "kind",
                  lc_name_of(ld_kind_names, (uint32_t)a->kind), NULL);
    return LC_OK;
}

int st_ledger_ensure_member(st_server_t *s, const char *rid, const lc_id_t *member_id)
{
    /* Every earn, grant and adjustment comes here: a member seen before costs no
     * round trip to the ledger (and no place in its write queue). */
    lc_id_t *known = &s->known_members[st_member_hash(member_id) % ST_KNOWN_MEMBERS];
    if (lc_id_eq(known, member_id) && !lc_id_is_zero(member_id))
        return LC_OK;
    ld_account_new_t a = {.id = *member_id,
                          .kind = LD_KIND_MEMBER,
                          .flags = LD_AF_DEBITS_MUST_NOT_EXCEED_CREDITS | LD_AF_LOTS};
    int rc = st_ledger_ensure_account(s, rid, &a);
    if (rc == LC_OK)
        *known = *member_id;
    return rc;
}

int st_ledger_expire(st_server_t *s, const char *rid, const ld_expire_req_t *req,
                     ld_expire_rep_t *out)
{
    return s_call(s, rid, LD_TYPE_EXPIRE_LOTS, &ld_expire_req_desc, req, &ld_expire_rep_desc, out);
}

int st_ledger_available(st_server_t *s, const char *rid, const lc_id_t *account, int64_t *out)
{
    ld_accounts_rep_t rep;
    int rc = st_ledger_lookup(s, rid, account, 1, &rep);
    if (rc != LC_OK)
        return rc;
    *out = rep.naccounts ? rep.accounts[0].available : 0;
    rc = rep.naccounts ? LC_OK : LC_ERR_NOT_FOUND;
    lc_codec_clear(&ld_accounts_rep_desc, &rep);
    return rc;
}

bool st_ledger_applied(int result)
{
    return result == LD_OK || result == LD_EXISTS;
}

bool st_ledger_exists_different(int result)
{
    return (result >= LD_EXISTS_WITH_DIFFERENT_DEBIT_ACCOUNT_ID &&
            result <= LD_EXISTS_WITH_DIFFERENT_KIND);
}

const char *st_ledger_result_name(int result)
{
    const char *n = lc_name_of(ld_result_names, (uint32_t)result);
    return n ? n : "unknown";
}

void st_partner_accounts(const lc_id_t *partner, lc_id_t *issuance, lc_id_t *redemption,
                         lc_id_t *prepayment)
{
    if (issuance)
        lc_id_derive(partner, "issuance", issuance);
    if (redemption)
        lc_id_derive(partner, "redemption", redemption);
    if (prepayment)
        lc_id_derive(partner, "prepayment", prepayment);
}

const char *st_outcome(st_call_t *c, int r, const lc_id_t *tid, bool member_debit)
{
    char idt[LC_ID_STRLEN + 1];
    lc_id_format(tid, idt);
    lc_log_kv(LC_LOG_INFO, c->rid, "ledger refused a transfer", "partner_id", c->partner,
              "transfer_id", idt, "result", st_ledger_result_name(r), NULL);
    const char *code;
    const char *why = st_ledger_result_name(r);
    switch (r) {
    case LD_ID_ALREADY_FAILED: {
        char stored[LC_CODE_MAX];
        if (st_store_refusal_get(c->srv, tid, stored, sizeof stored) == LC_OK) {
            /* The codes stored are API.md's; return the static constant. */
            static const char *const known[] = {
                LC_API_INSUFFICIENT_POINTS, LC_API_BUDGET_EXHAUSTED, LC_API_MEMBER_FROZEN,
                LC_API_CONFLICT,            LC_API_FORBIDDEN,        LC_API_INTERNAL,
            };
            for (size_t i = 0; i < sizeof known / sizeof known[0]; i++)
                if (strcmp(stored, known[i]) == 0)
                    return st_fail(c, known[i], "this request was refused before (%s)", stored);
        }
        return st_fail(c, LC_API_CONFLICT, "this request failed before and cannot be retried");
    }
    case LD_EXCEEDS_CREDITS:
        code = member_debit ? LC_API_INSUFFICIENT_POINTS : LC_API_BUDGET_EXHAUSTED;
        why = member_debit ? "not enough points" : "the partner's prepaid budget is used up";
        break;
    case LD_DEBIT_ACCOUNT_FROZEN:
    case LD_DEBIT_ACCOUNT_CLOSED:
    case LD_CREDIT_ACCOUNT_FROZEN:
    case LD_CREDIT_ACCOUNT_CLOSED: {
        bool debit = r == LD_DEBIT_ACCOUNT_FROZEN || r == LD_DEBIT_ACCOUNT_CLOSED;
        if (debit == member_debit) {
            code = LC_API_MEMBER_FROZEN;
            why = "the member's account is frozen";
        } else {
            code = LC_API_FORBIDDEN;
            why = "the partner's account is frozen";
        }
        break;
    }
    case LD_PENDING_TRANSFER_EXPIRED:
        code = LC_API_CONFLICT;
        why = "the hold has expired";
        break;
    case LD_PENDING_TRANSFER_ALREADY_POSTED:
        code = LC_API_CONFLICT;
        why = "the hold was captured already";
        break;
    case LD_PENDING_TRANSFER_ALREADY_VOIDED:
        code = LC_API_CONFLICT;
        why = "the hold was voided already";
        break;
    case LD_EXCEEDS_REVERSIBLE_AMOUNT:
        code = LC_API_CONFLICT;
        why = "more than what is left to reverse";
        break;
    default:
        code = st_ledger_exists_different(r) ? LC_API_CONFLICT : LC_API_INTERNAL;
        break;
    }
    if (ld_result_is_transient((ld_result_t)r) && st_store_refusal_put(c->srv, tid, code) != LC_OK)
        lc_log_kv(LC_LOG_ERROR, c->rid, "cannot remember a refusal", "transfer_id", idt, NULL);
    return st_fail(c, code, "%s (ledger: %s)", why, st_ledger_result_name(r));
}

const char *st_ledger_transfer_one(st_call_t *c, const ld_transfer_t *t, int *result, int64_t *ts)
{
    ld_results_rep_t res;
    if (st_ledger_transfers(c->srv, c->rid, t, 1, &res) != LC_OK)
        return st_fail(c, LC_API_UNAVAILABLE, "the ledger is unavailable");
    *result = res.results[0].result;
    if (ts)
        *ts = res.results[0].timestamp;
    lc_codec_clear(&ld_results_rep_desc, &res);
    return NULL;
}

const char *st_issue(st_call_t *c, ld_transfer_t *t, int64_t *ts)
{
    int rc = st_ledger_ensure_member(c->srv, c->rid, &t->credit_account_id);
    if (rc == LC_ERR_UNAVAILABLE)
        return st_fail(c, LC_API_UNAVAILABLE, "the ledger is unavailable");
    if (rc != LC_OK)
        return st_fail(c, LC_API_INTERNAL, "the member's ledger account cannot be created");
    int r;
    const char *e = st_ledger_transfer_one(c, t, &r, ts);
    if (e)
        return e;
    char idt[LC_ID_STRLEN + 1];
    lc_id_format(&t->id, idt);
    if (r == LD_EXISTS_WITH_DIFFERENT_EXPIRES_AT) {
        ld_entry_t entry;
        bool found = false;
        if (st_ledger_transfer_entry(c->srv, c->rid, &t->id, &entry, &found) != LC_OK)
            return st_fail(c, LC_API_UNAVAILABLE, "the ledger is unavailable");
        if (!found)
            return st_fail(c, LC_API_INTERNAL, "transfer %s exists but cannot be read", idt);
        *ts = entry.timestamp;
        t->expires_at = entry.expires_at;
        r = LD_EXISTS;
    }
    if (!st_ledger_applied(r))
        return st_outcome(c, r, &t->id, false);
    char amount[24];
    snprintf(amount, sizeof amount, "%lld", (long long)t->amount);
    lc_log_kv(LC_LOG_INFO, c->rid, r == LD_OK ? "points issued" : "points issued (retry)",
              "partner_id", c->partner, "transfer_id", idt, "points", amount, NULL);
    return NULL;
}

/* The index of the refusal that explains a chain's results: the first that is not
 * applied and not linked_event_failed, else the first not applied; -1 if none. */
static int s_chain_bad(const ld_results_rep_t *res, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!st_ledger_applied(res->results[i].result) &&
            res->results[i].result != LD_LINKED_EVENT_FAILED)
            return (int)i;
    for (size_t i = 0; i < n; i++)
        if (!st_ledger_applied(res->results[i].result))
            return (int)i;
    return -1;
}

const char *st_issue_chain(st_call_t *c, const ld_transfer_t *t, size_t n, int64_t *ts,
                           bool *before)
{
    *before = false;
    int rc = st_ledger_ensure_member(c->srv, c->rid, &t[0].credit_account_id);
    if (rc == LC_ERR_UNAVAILABLE)
        return st_fail(c, LC_API_UNAVAILABLE, "the ledger is unavailable");
    if (rc != LC_OK)
        return st_fail(c, LC_API_INTERNAL, "the member's ledger account cannot be created");
    ld_results_rep_t res;
    if (st_ledger_transfers(c->srv, c->rid, t, n, &res) != LC_OK)
        return st_fail(c, LC_API_UNAVAILABLE, "the ledger is unavailable");
    bool all_new = true;
    for (size_t i = 0; i < n; i++)
        if (res.results[i].result != LD_OK)
            all_new = false;
    int bad = s_chain_bad(&res, n);
    int r = bad >= 0 ? res.results[bad].result : LD_OK;
    *ts = res.results[0].timestamp;
    lc_codec_clear(&ld_results_rep_desc, &res);
    char idt[LC_ID_STRLEN + 1];
    lc_id_format(&t[0].id, idt);
    if (!all_new) {
        /* Whatever the answer (exists, exists with another amount or flags, or a
         * refusal of a transfer an earlier attempt did not have, which hides the
         * others' exists under linked_event_failed), the first transfer tells
         * whether an earlier attempt posted the chain: chains are all or nothing. */
        ld_entry_t first;
        bool found = false;
        if (st_ledger_transfer_entry(c->srv, c->rid, &t[0].id, &first, &found) != LC_OK)
            return st_fail(c, LC_API_UNAVAILABLE, "the ledger is unavailable");
        if (found) {
            *before = true;
            *ts = first.timestamp;
            lc_log_kv(LC_LOG_INFO, c->rid, "points issued by an earlier attempt", "partner_id",
                      c->partner, "transfer_id", idt, NULL);
            return NULL;
        }
    }
    if (bad >= 0) {
        const char *code = st_outcome(c, r, &t[bad].id, false);
        /* The ledger may answer a retry's id_already_failed on another transfer of
         * the chain: every id remembers the answer. */
        for (size_t i = 0; ld_result_is_transient((ld_result_t)r) && i < n; i++)
            if ((int)i != bad && st_store_refusal_put(c->srv, &t[i].id, code) != LC_OK)
                lc_log_kv(LC_LOG_ERROR, c->rid, "cannot remember a refusal", NULL);
        return code;
    }
    char count[24];
    snprintf(count, sizeof count, "%zu", n);
    lc_log_kv(LC_LOG_INFO, c->rid, "points issued (chain)", "partner_id", c->partner,
              "transfer_id", idt, "transfers", count, NULL);
    return NULL;
}
