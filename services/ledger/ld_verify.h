/*
 * ld_verify.h: the auditor's check. Re-reads the whole journal from PostgreSQL in
 * sequence order and confirms (1) the sequence is gap-free from 1, (2) every
 * entry's prev_hash and hash recompute (ld_chain.h), and (3) replaying the entries
 * (creations, transfers, holds and their resolutions) gives exactly the four
 * totals stored for every account, and no stored account is missing from the
 * journal. It names the first entry that does not match.
 */
#ifndef LD_VERIFY_H
#define LD_VERIFY_H

#include "lc_db.h"
#include "lc_ledger_msg.h"

/* Fills rep (caller clears it with lc_codec_clear). Returns LC_OK when the check
 * ran (rep->ok says whether it passed), or an error when it could not run. */
int ld_verify(lc_db_t *db, ld_verify_rep_t *rep);

#endif
