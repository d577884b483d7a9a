/*
 * ld_state.h: the ledger's state machine. Pure: no sockets, no database, no clock
 * (the caller passes "now"), so it is unit-tested directly.
 *
 * THE INVARIANTS (each one is checked by tests/integration/test_ledger_random.c)
 *
 *  I1  Double entry. Every transfer debits one account and credits another by the
 *      same positive amount, so for every account a,
 *          balance(a) = credits_posted(a) - debits_posted(a)
 *      and the sum of balance(a) over all accounts is 0; likewise the sums of
 *      debits_pending and credits_pending are equal.
 *  I2  No overdraft. An account flagged debits_must_not_exceed_credits satisfies
 *          debits_posted + debits_pending <= credits_posted
 *      after every transfer except a reversal debiting a lots account (a return of
 *      points already spent may take a member below zero; the shortfall is recorded
 *      as debt, and later credits repay debt before they become spendable lots).
 *  I3  Lots. For an account flagged lots (which implies I2's flag),
 *          sum(lot.remaining) + sum(points its holds reserve) = balance + debt
 *      and debt > 0 only while sum(lot.remaining) = 0. Debits take points from the
 *      lots that expire first (never-expiring lots last, ties by age), holds
 *      reserve specific lots, and every lot movement is an allocation row.
 *  I4  Holds resolve once. A pending transfer is posted (fully or in part), voided
 *      or timed out exactly once; its reservation is released in full then.
 *  I5  Reversals are new entries and reverse at most the original amount in total.
 *  I6  Idempotency. An id identifies one outcome forever: a transfer that exists
 *      answers exists (or exists_with_different_<field>), one that failed for a
 *      state-dependent reason answers id_already_failed.
 *  I7  Linked chains are atomic: all of a chain's transfers apply, or none do.
 *  I8  The journal is gap-free (seq 1, 2, 3, ...) and hash-chained (ld_chain.h).
 *
 * Which transfers are in memory. Accounts, lots and failed ids are all resident;
 * transfers are not: xfers holds the holds still pending, the transfers that own
 * lot allocations (a refund gives points back to the lots its original took), and
 * the most recent transfers created or read (at most recent_max of them that are
 * neither; older ones are dropped after a batch commits, ld_state_commit_batch).
 * The rest of the journal stays on disk, so memory and start-up grow with accounts
 * and open work, not with history or uptime.
 * Before a batch is applied, the server loads every journaled transfer the batch
 * names (id, pending_id, reverses) that is not resident (ld_store_fetch_xfers), so
 * the operations below never see a difference: I4-I6 hold as if every transfer
 * were in memory.
 *
 * How a batch flows: ld_state_begin_batch; any number of operations, each writing
 * journal entries and changed rows into the batch (ld_batch_t) and its old values
 * into the undo log; the server persists the batch in one transaction; then
 * ld_state_commit_batch (success) or ld_state_abort_batch (memory is rolled back
 * to the state the database still holds).
 */
#ifndef LD_STATE_H
#define LD_STATE_H

#include "lc_ledger_msg.h"
#include "ld_table.h"
#include "ld_undo.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct ld_lot {
    lc_id_t id;             /* the credit transfer that created it */
    lc_id_t account_id;
    int64_t amount;         /* points credited into the lot */
    int64_t remaining;      /* not yet consumed nor reserved */
    int64_t expires_at;     /* Unix microseconds; 0 = never */
    int64_t created_seq;
    int32_t expiries;       /* how many expiry transfers it has had (for their ids) */
    uint32_t epoch;         /* batch in which it was last queued for writing */
    struct ld_lot *next;    /* the account's lots in consumption order */
} ld_lot_t;

typedef struct ld_account {
    lc_id_t id;
    int kind;               /* ld_kind_t */
    uint32_t flags;         /* LD_AF_* */
    uint32_t code;
    lc_id_t user_data;
    int64_t debits_pending, debits_posted, credits_pending, credits_posted;
    int64_t debt;           /* see I2 */
    int64_t created_seq;
    int64_t created_at;
    uint32_t epoch;         /* batch in which it was last queued for writing */
    ld_lot_t *lots;         /* consumption order (I3) */
} ld_account_t;

/* One lot movement owned by a consuming transfer: amount > 0 took points from the
 * lot, amount < 0 gave them back. */
typedef struct ld_alloc {
    ld_lot_t *lot;
    int64_t amount;
} ld_alloc_t;

enum { LD_PS_NONE = 0, LD_PS_PENDING = 1, LD_PS_POSTED = 2, LD_PS_VOIDED = 3, LD_PS_EXPIRED = 4 };

/* A transfer in the journal, as the state machine needs it. */
typedef struct ld_xfer {
    ld_transfer_t t;        /* as journaled: accounts resolved, amount = points moved */
    int64_t seq;
    int64_t timestamp;
    int64_t reversed;       /* points reversed so far (I5) */
    uint8_t pstate;         /* LD_PS_*: pending transfers only */
    uint32_t epoch;         /* batch in which its pending row was last queued */
    int64_t deadline;       /* pending: Unix microseconds when it times out; 0 = never */
    lc_id_t resolved_by;    /* pending: the post/void that resolved it */
    ld_alloc_t *allocs;     /* lot movements it owns (holds and direct debits) */
    uint32_t nallocs, capallocs;
} ld_xfer_t;

typedef struct ld_alloc_row {
    int64_t seq;
    lc_id_t transfer_id, origin_id, lot_id;
    int64_t amount;
} ld_alloc_row_t;

typedef struct ld_failed_row {
    lc_id_t id;
    int result;
    int64_t timestamp;
} ld_failed_row_t;

/* What a batch changed, to be written in one transaction by ld_store. */
typedef struct ld_batch {
    ld_entry_t *entries;        size_t nentries, capentries;
    ld_account_t **accounts;    size_t naccounts, capaccounts;   /* insert or update */
    ld_lot_t **lots;            size_t nlots, caplots;           /* insert or update */
    ld_alloc_row_t *allocs;     size_t nallocs, capallocs;
    ld_xfer_t **pendings;       size_t npendings, cappendings;   /* pending rows */
    ld_failed_row_t *failed;    size_t nfailed, capfailed;
} ld_batch_t;

typedef struct ld_state {
    ld_table_t accounts;        /* id -> ld_account_t* */
    ld_table_t xfers;           /* id -> ld_xfer_t* (the resident transfers, above) */
    ld_table_t lots;            /* id -> ld_lot_t* */
    ld_table_t failed;          /* id -> (void *)(uintptr_t)(result + 1) */
    ld_xfer_t **holds;          /* transfers that may still be pending (timeouts) */
    size_t nholds, capholds;
    int64_t next_seq;           /* seq of the next journal entry */
    uint8_t head[32];           /* hash of the last journal entry (zeros: none) */
    uint32_t epoch;             /* current batch number */
    ld_batch_t batch;           /* changes of the current batch */
    ld_undo_t undo;             /* old values of the current batch */
    int64_t last_ts;            /* timestamps are strictly increasing */
    lc_id_t *recent;            /* ids put into xfers since start-up, oldest first */
    size_t nrecent, caprecent;
    size_t recent_max;          /* see "Which transfers are in memory" */
} ld_state_t;

/* How many recent transfers stay resident by default: at about 250 bytes each, 25
 * MB, minutes of traffic, so a client's retry usually finds its transfer at hand. */
#define LD_RECENT_MAX 100000

ld_state_t *ld_state_new(void);
void ld_state_destroy(ld_state_t **s_p);

void ld_state_begin_batch(ld_state_t *s);
/* After COMMIT: forget the undo log, drop resolved holds from the timeout list. */
void ld_state_commit_batch(ld_state_t *s);
/* After a failed COMMIT (or NOMEM): roll memory back to the batch start. */
void ld_state_abort_batch(ld_state_t *s);
/* True when the batch has something to write. */
bool ld_state_batch_dirty(const ld_state_t *s);

/* Operations. Each writes one result per input (results[i] for in[i]) and returns
 * LC_OK, or LC_ERR_NOMEM after which the batch must be aborted. */
int ld_state_create_accounts(ld_state_t *s, const ld_account_new_t *in, size_t n, int64_t now,
                             ld_result_item_t *results);
int ld_state_create_transfers(ld_state_t *s, const ld_transfer_t *in, size_t n, int64_t now,
                              ld_result_item_t *results);
int ld_state_set_flags(ld_state_t *s, const ld_set_flags_req_t *req, int64_t now,
                       ld_result_item_t *result);
/* Expires up to req->limit lots due at req->as_of. rep->results is allocated here
 * (caller clears rep with lc_codec_clear). Returns LC_ERR_NOT_FOUND when the
 * breakage account does not exist, LC_ERR_INVALID when it tracks lots. */
int ld_state_expire_lots(ld_state_t *s, const ld_expire_req_t *req, int64_t now,
                         ld_expire_rep_t *rep);
/* Voids holds whose timeout passed at now; returns how many (or LC_ERR_NOMEM). */
int ld_state_expire_holds(ld_state_t *s, int64_t now);

/* Lookups (borrowed pointers, valid until the next abort). */
ld_account_t *ld_state_account(const ld_state_t *s, const lc_id_t *id);
ld_xfer_t *ld_state_xfer(const ld_state_t *s, const lc_id_t *id);
void ld_account_view(const ld_account_t *a, ld_account_view_t *out);

/* Loading at start-up (ld_store): objects are handed over, owned by the state. */
int ld_state_load_account(ld_state_t *s, ld_account_t *a);
int ld_state_load_lot(ld_state_t *s, ld_lot_t *lot); /* account must be loaded */
int ld_state_load_xfer(ld_state_t *s, ld_xfer_t *x);
int ld_state_load_alloc(ld_state_t *s, const lc_id_t *origin, const lc_id_t *lot, int64_t amount);
int ld_state_load_failed(ld_state_t *s, const lc_id_t *id, int result);

#endif
