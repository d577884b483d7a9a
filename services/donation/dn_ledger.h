/*
 * dn_ledger.h: the donation service as a client of the ledger. Requests and replies
 * are the ledger's own structs (lc_ledger_msg.h) encoded by the codec; calls use the
 * Lazy Pirate client, so a lost reply is resent with the same ids (always safe:
 * every id the donation service sends is derived, never fresh).
 */
#ifndef DN_LEDGER_H
#define DN_LEDGER_H

#include "dn_server.h"

#include <stdbool.h>

/* Creates transfers (n >= 1). On LC_OK out->nresults == n. LC_ERR_UNAVAILABLE when
 * the ledger did not answer or refused the request as a whole (logged). Clear out
 * with lc_codec_clear(&ld_results_rep_desc, out). */
int dn_ledger_transfers(dn_server_t *s, const char *rid, const ld_transfer_t *t, size_t n,
                        ld_results_rep_t *out);

/* Looks accounts up; unknown ones are left out. Clear with ld_accounts_rep_desc. */
int dn_ledger_lookup(dn_server_t *s, const char *rid, const lc_id_t *ids, size_t n,
                     ld_accounts_rep_t *out);

/* Looks one account up: LC_OK with *out, LC_ERR_NOT_FOUND, LC_ERR_UNAVAILABLE. */
int dn_ledger_account(dn_server_t *s, const char *rid, const lc_id_t *id,
                      ld_account_view_t *out);

/* Creates the pool and payout clearing accounts once per process (idempotent). */
int dn_ledger_ensure_accounts(dn_server_t *s, const char *rid);
/* Creates a charity's account (kind charity, no overdraft, user_data = charity). */
int dn_ledger_charity_account(dn_server_t *s, const char *rid, const lc_id_t *charity);

/* True for ok and exists: the transfer is (now) applied. */
bool dn_ledger_applied(int result);
/* The name of a result, for logs and messages. */
const char *dn_ledger_result_name(int result);

/* A partner's issuance account (settlement's convention: lc_id_derive(partner,
 * "issuance")): the match is debited there. */
void dn_partner_issuance(const lc_id_t *partner, lc_id_t *out);

#endif
