/*
 * ld_lots.h: lot-tracked points (invariant I3 in ld_state.h).
 *
 * A credit to an account flagged lots becomes a lot with its own expiry. A debit
 * takes points from the lots that expire first; a hold reserves them; a post
 * releases what it did not use; a void releases everything; a refund gives points
 * back to the very lots they came from (latest-consumed first), so they keep their
 * original expiry; debt (see I2) is repaid from a lot as soon as points land in
 * it. Every movement is one allocation row: (transfer, origin, lot, +/-amount),
 * where origin is the transfer that owns the consumption.
 *
 * All functions record their changes in s->undo and queue rows in s->batch.
 * They return LC_OK or LC_ERR_NOMEM.
 */
#ifndef LD_LOTS_H
#define LD_LOTS_H

#include "ld_state.h"

/* The context of one lot movement: which journal entry causes it. */
typedef struct ld_lot_op {
    const lc_id_t *transfer_id; /* the entry being applied */
    int64_t seq;                /* its journal sequence */
} ld_lot_op_t;

/* Credits amount as a new lot lot_id expiring at expires_at (0 = never), then
 * repays debt from it. */
int ld_lots_credit(ld_state_t *s, ld_account_t *a, const ld_lot_op_t *op, const lc_id_t *lot_id,
                   int64_t amount, int64_t expires_at);

/* Takes amount points from a's lots for origin (NULL: an unowned consumption such
 * as a reversal's debit, recorded with no origin), starting with lot
 * `first` when it is not NULL, then in consumption order. Points the lots do not
 * hold are added to a's debt (only reversals can get there; see I2). */
int ld_lots_consume(ld_state_t *s, ld_account_t *a, const ld_lot_op_t *op, ld_xfer_t *origin,
                    ld_lot_t *first, int64_t amount);

/* Gives amount points back to the lots origin consumed, latest-consumed first,
 * repaying debt from them. Points origin never took from lots (there are none
 * when the books are consistent) become a new never-expiring lot named after the
 * transfer. */
int ld_lots_release(ld_state_t *s, ld_account_t *a, const ld_lot_op_t *op, ld_xfer_t *origin,
                    int64_t amount);

/* Takes the whole remaining of one lot (expiry); the caller moves the points. */
int ld_lots_take_all(ld_state_t *s, ld_account_t *a, const ld_lot_op_t *op, ld_lot_t *lot);

/* Queues a lot for writing in this batch (once per batch). */
int ld_lots_queue(ld_state_t *s, ld_lot_t *lot);

/* Sum of remaining points over a's lots (for checks and tests). */
int64_t ld_lots_remaining(const ld_account_t *a);

/* Inserts lot into a's list at its place in consumption order (start-up loading). */
void ld_lots_link(ld_state_t *s, ld_account_t *a, ld_lot_t *lot, bool record_undo);

#endif
