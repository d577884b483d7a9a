/*
 * ld_chain.h: the journal's hash chain.
 *
 * Each entry's hash is SHA-256(prev_hash || canonical(entry)), where prev_hash is
 * the previous entry's hash (32 zero bytes before the first entry) and canonical()
 * is the fixed 143-byte big-endian layout below, the same in every language
 * (proto/README.md repeats it):
 *
 *   seq u64 | type u8 | id 16 | debit_account_id 16 | credit_account_id 16 |
 *   amount u64 | pending_id 16 | reverses 16 | flags u32 | code u32 | kind u16 |
 *   user_data 16 | timeout u32 | expires_at i64 | timestamp i64
 *
 * Ids are their 16 UUID bytes (zero when absent). Changing any stored field of
 * any entry changes its hash and, through prev_hash, every later hash.
 */
#ifndef LD_CHAIN_H
#define LD_CHAIN_H

#include "lc_ledger_msg.h"

#include <stdint.h>

#define LD_CANONICAL_LEN 143

/* Writes the canonical encoding of e (hashes excluded) into out. */
void ld_chain_encode(const ld_entry_t *e, uint8_t out[LD_CANONICAL_LEN]);
/* Sets e->prev_hash = prev and e->hash to the entry's chain hash. */
int ld_chain_seal(ld_entry_t *e, const uint8_t prev[32]);
/* Recomputes e's hash from prev; 0 when it equals e->hash and e->prev_hash. */
int ld_chain_check(const ld_entry_t *e, const uint8_t prev[32]);

#endif
