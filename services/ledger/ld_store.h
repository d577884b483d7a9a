/*
 * ld_store.h: the ledger's persistence in PostgreSQL (schema: deploy/migrations/
 * ledger). Two jobs: load the whole state at start-up (streamed through a
 * cursor), and write one batch of changes in one transaction (a single statement
 * of multi-row inserts over unnest() of array parameters, one upsert per touched
 * account with its final totals), so one round trip and one fsync cover every
 * transfer of the batch.
 */
#ifndef LD_STORE_H
#define LD_STORE_H

#include "lc_db.h"
#include "ld_state.h"

/* Loads accounts, lots, the resident transfers (with hold state and reversed
 * amounts; ld_state.h), allocations, failed ids and the chain head into s (which
 * must be empty). */
int ld_store_load(lc_db_t *db, ld_state_t *s);

/* Loads into s the journaled transfers among ids that are not resident, and the
 * holds those transfers post or void (ids unknown to the journal are new: nothing
 * to load). The writer calls it before applying a batch, with every id, pending_id
 * and reverses the batch names. */
int ld_store_fetch_xfers(lc_db_t *db, ld_state_t *s, const lc_id_t *ids, size_t n);

/* Writes s's current batch as one statement, which PostgreSQL commits on its own
 * (all rows or none) before answering. On any failure nothing was written and an
 * error is returned; the caller then aborts the batch in memory
 * (ld_state_abort_batch). */
int ld_store_write_batch(lc_db_t *db, const ld_state_t *s);

/* Reads journal entries with after_seq < seq, at most limit, in order. Fills
 * rep->entries (allocated; caller clears rep with lc_codec_clear). */
int ld_store_read_journal(lc_db_t *db, int64_t after_seq, int64_t limit, ld_entries_rep_t *rep);

/* Reads the journal entries of the given transfer ids (unknown ids left out). */
int ld_store_read_transfers(lc_db_t *db, const lc_id_t *ids, size_t n, ld_entries_rep_t *rep);

#endif
