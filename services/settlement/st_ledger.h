/*
 * st_ledger.h: settlement as a client of the ledger. Requests and replies are the
 * ledger's own structs (lc_ledger_msg.h) encoded by the codec; calls use the Lazy
 * Pirate client, so a lost reply is resent with the same ids (always safe: every
 * transfer id settlement sends is derived, never fresh).
 */
#ifndef ST_LEDGER_H
#define ST_LEDGER_H

#include "st_server.h"

#include <stdbool.h>

/* Any ledger message: encodes *req with req_desc, decodes the ok reply into *rep
 * (clear it with rep_desc). LC_ERR_NOT_FOUND for a not_found error reply,
 * LC_ERR_UNAVAILABLE when the ledger did not answer or refused (logged). */
int st_ledger_call(st_server_t *s, const char *rid, const char *type,
                   const lc_msgdesc_t *req_desc, const void *req, const lc_msgdesc_t *rep_desc,
                   void *rep);

/* Creates transfers (n >= 1). On LC_OK out->nresults == n, one result per transfer.
 * LC_ERR_UNAVAILABLE when the ledger did not answer or refused the request as a
 * whole (logged). Clear out with lc_codec_clear(&ld_results_rep_desc, out). */
int st_ledger_transfers(st_server_t *s, const char *rid, const ld_transfer_t *t, size_t n,
                        ld_results_rep_t *out);

/* A handler's single transfer: NULL with *result (and *ts, when not NULL: the
 * ledger's timestamp) set, or the API error unavailable when the ledger did not
 * answer. The result may still be a refusal (st_ledger_applied). */
const char *st_ledger_transfer_one(st_call_t *c, const ld_transfer_t *t, int *result, int64_t *ts);

/* Creates accounts; like st_ledger_transfers. */
int st_ledger_accounts(st_server_t *s, const char *rid, const ld_account_new_t *a, size_t n,
                       ld_results_rep_t *out);

/* Looks accounts up; unknown ones are left out. Clear with ld_accounts_rep_desc. */
int st_ledger_lookup(st_server_t *s, const char *rid, const lc_id_t *ids, size_t n,
                     ld_accounts_rep_t *out);

/* Looks transfers up as their journal entries; unknown ones are left out, the
 * others come in no promised order. Clear with ld_entries_rep_desc. */
int st_ledger_transfer_entries(st_server_t *s, const char *rid, const lc_id_t *ids, size_t n,
                               ld_entries_rep_t *out);

/* Looks one transfer up as its journal entry; *found false when unknown. */
int st_ledger_transfer_entry(st_server_t *s, const char *rid, const lc_id_t *id, ld_entry_t *out,
                             bool *found);

/* Creates account a unless an account with its id exists (with these or other
 * fields: logged). LC_OK, LC_ERR_UNAVAILABLE, or LC_ERR_CONFLICT (the ledger
 * refused it). */
int st_ledger_ensure_account(st_server_t *s, const char *rid, const ld_account_new_t *a);

/* Makes sure the member's ledger account (id = member id) exists, creating it as
 * settlement would (member, no overdraft, lots) when the members service has not.
 * A member this copy has seen before is answered from s->known_members. LC_OK,
 * LC_ERR_UNAVAILABLE, or LC_ERR_CONFLICT (the ledger refused it). */
int st_ledger_ensure_member(st_server_t *s, const char *rid, const lc_id_t *member_id);

/* One ledger.expire_lots call. Clear out with lc_codec_clear(&ld_expire_rep_desc, out).
 * LC_ERR_UNAVAILABLE when the ledger did not answer or refused the request. */
int st_ledger_expire(st_server_t *s, const char *rid, const ld_expire_req_t *req,
                     ld_expire_rep_t *out);

/* The "available" of a prepaid partner's issuance account: its remaining budget. */
int st_ledger_available(st_server_t *s, const char *rid, const lc_id_t *account, int64_t *out);

/* True for ok and exists: the transfer is (now) applied. */
bool st_ledger_applied(int result);
/* True for the exists_with_different_* results. */
bool st_ledger_exists_different(int result);
/* The name of a result, for logs and messages. */
const char *st_ledger_result_name(int result);

/* The ledger account ids of a partner, derived from its id. */
void st_partner_accounts(const lc_id_t *partner, lc_id_t *issuance, lc_id_t *redemption,
                         lc_id_t *prepayment);

/* The API error for a transfer tid of request c that the ledger did not apply
 * (result r). member_debit: the member's account is the transfer's debit side (a
 * redemption), otherwise its credit side (earn, grant). A state-dependent refusal is
 * remembered (settlement.refusals), because the ledger burns the id: the retry of
 * the same request answers id_already_failed, and gets the first answer again. */
const char *st_outcome(st_call_t *c, int r, const lc_id_t *tid, bool member_debit);

/* Issues points: transfer *t (issuance -> member, plain or pending, with a lot
 * expiry) after making sure the member's account exists. A retry computes a new
 * expiry, so `exists_with_different_expires_at` (every other field matched) counts
 * as exists, and the original's expiry is read back. On success (NULL) *ts is the
 * ledger's timestamp of the transfer and t->expires_at the lot's expiry. */
const char *st_issue(st_call_t *c, ld_transfer_t *t, int64_t *ts);

/* Posts a linked chain t[0..n) (n >= 1) of credits to one member (t[0]'s credit
 * account), all or nothing: the caller sets LD_TF_LINKED on all but the last.
 * *before is set when the ledger has t[0] from an earlier attempt of the same
 * request (a crash between the ledger's commit and the caller's row): the chain
 * that attempt posted may differ from this one (another tier, expiry or coupon
 * outcome), so the caller takes the request's outcome from the ledger
 * (st_ledger_transfer_entries) rather than from t; *ts is then t[0]'s timestamp.
 * Otherwise the first refusal that is not linked_event_failed becomes the answer
 * (st_outcome, credit side: a prepaid funder out of budget is
 * partner_budget_exhausted). */
const char *st_issue_chain(st_call_t *c, const ld_transfer_t *t, size_t n, int64_t *ts,
                           bool *before);

#endif
