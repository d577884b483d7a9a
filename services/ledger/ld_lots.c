/*
 * ld_lots.c: lot bookkeeping (see ld_lots.h). Lists are short per member, so
 * linear walks are fine; what matters is that every movement is recorded.
 */
#include "ld_lots.h"
#include "lc_err.h"

#include <stdlib.h>
#include <string.h>

/* Consumption order: soonest expiry first, never-expiring last, then oldest. */
static bool s_before(const ld_lot_t *x, const ld_lot_t *y)
{
    int64_t ex = x->expires_at ? x->expires_at : INT64_MAX;
    int64_t ey = y->expires_at ? y->expires_at : INT64_MAX;
    if (ex != ey)
        return ex < ey;
    return x->created_seq < y->created_seq;
}

void ld_lots_link(ld_state_t *s, ld_account_t *a, ld_lot_t *lot, bool record_undo)
{
    ld_lot_t **pp = &a->lots;
    while (*pp && !s_before(lot, *pp))
        pp = &(*pp)->next;
    lot->next = *pp;
    if (record_undo)
        ld_undo_bytes(&s->undo, pp, sizeof *pp);
    *pp = lot;
}

int ld_lots_queue(ld_state_t *s, ld_lot_t *lot)
{
    if (lot->epoch == s->epoch)
        return LC_OK;
    ld_batch_t *b = &s->batch;
    if (b->nlots == b->caplots) {
        size_t cap = b->caplots ? b->caplots * 2 : 256;
        ld_lot_t **p = realloc(b->lots, cap * sizeof *p);
        if (!p)
            return LC_ERR_NOMEM;
        b->lots = p;
        b->caplots = cap;
    }
    LD_SET(&s->undo, lot->epoch, s->epoch);
    LD_SET(&s->undo, b->nlots, b->nlots + 1);
    b->lots[b->nlots - 1] = lot;
    return LC_OK;
}

static int s_alloc_row(ld_state_t *s, const ld_lot_op_t *op, const lc_id_t *origin,
                       const ld_lot_t *lot, int64_t amount)
{
    ld_batch_t *b = &s->batch;
    if (b->nallocs == b->capallocs) {
        size_t cap = b->capallocs ? b->capallocs * 2 : 256;
        ld_alloc_row_t *p = realloc(b->allocs, cap * sizeof *p);
        if (!p)
            return LC_ERR_NOMEM;
        b->allocs = p;
        b->capallocs = cap;
    }
    LD_SET(&s->undo, b->nallocs, b->nallocs + 1);
    ld_alloc_row_t *r = &b->allocs[b->nallocs - 1];
    r->seq = op->seq;
    r->transfer_id = *op->transfer_id;
    r->origin_id = *origin;
    r->lot_id = lot->id;
    r->amount = amount;
    return LC_OK;
}

static int s_owner_add(ld_state_t *s, ld_xfer_t *x, ld_lot_t *lot, int64_t amount)
{
    if (x->nallocs == x->capallocs) {
        /* realloc keeps the old elements, so undo only needs to restore nallocs. */
        uint32_t cap = x->capallocs ? x->capallocs * 2 : 4;
        ld_alloc_t *p = realloc(x->allocs, cap * sizeof *p);
        if (!p)
            return LC_ERR_NOMEM;
        x->allocs = p;
        x->capallocs = cap;
    }
    LD_SET(&s->undo, x->nallocs, x->nallocs + 1);
    x->allocs[x->nallocs - 1].lot = lot;
    x->allocs[x->nallocs - 1].amount = amount;
    return LC_OK;
}

/* Moves amount out of (amount > 0) or back into (amount < 0) one lot. */
static int s_move(ld_state_t *s, const ld_lot_op_t *op, ld_xfer_t *owner, ld_lot_t *lot,
                  int64_t amount)
{
    static const lc_id_t none; /* stored as NULL: no transfer owns this movement */
    const lc_id_t *origin = owner ? &owner->t.id : &none;
    int rc = ld_lots_queue(s, lot);
    if (rc == LC_OK)
        rc = s_alloc_row(s, op, origin, lot, amount);
    if (rc == LC_OK && owner)
        rc = s_owner_add(s, owner, lot, amount);
    if (rc == LC_OK)
        LD_SET(&s->undo, lot->remaining, lot->remaining - amount);
    return rc;
}

static int s_repay_debt(ld_state_t *s, ld_account_t *a, const ld_lot_op_t *op, ld_lot_t *lot)
{
    int64_t d = a->debt < lot->remaining ? a->debt : lot->remaining;
    if (d <= 0)
        return LC_OK;
    int rc = s_move(s, op, NULL, lot, d);
    if (rc == LC_OK)
        LD_SET(&s->undo, a->debt, a->debt - d);
    return rc;
}

int ld_lots_credit(ld_state_t *s, ld_account_t *a, const ld_lot_op_t *op, const lc_id_t *lot_id,
                   int64_t amount, int64_t expires_at)
{
    ld_lot_t *lot = calloc(1, sizeof *lot);
    if (!lot)
        return LC_ERR_NOMEM;
    ld_undo_alloc(&s->undo, lot);
    lot->id = *lot_id;
    lot->account_id = a->id;
    lot->amount = amount;
    lot->remaining = amount;
    lot->expires_at = expires_at;
    lot->created_seq = op->seq;
    if (ld_table_put(&s->lots, lot_id, lot) != LC_OK)
        return LC_ERR_NOMEM;
    ld_undo_table_put(&s->undo, &s->lots, lot_id);
    ld_lots_link(s, a, lot, true);
    int rc = ld_lots_queue(s, lot);
    return rc == LC_OK ? s_repay_debt(s, a, op, lot) : rc;
}

int ld_lots_consume(ld_state_t *s, ld_account_t *a, const ld_lot_op_t *op, ld_xfer_t *origin,
                    ld_lot_t *first, int64_t amount)
{
    int rc;
    if (first && first->remaining > 0) {
        int64_t take = first->remaining < amount ? first->remaining : amount;
        if ((rc = s_move(s, op, origin, first, take)) != LC_OK)
            return rc;
        amount -= take;
    }
    for (ld_lot_t *lot = a->lots; lot && amount > 0; lot = lot->next) {
        if (lot->remaining == 0)
            continue;
        int64_t take = lot->remaining < amount ? lot->remaining : amount;
        if ((rc = s_move(s, op, origin, lot, take)) != LC_OK)
            return rc;
        amount -= take;
    }
    if (amount > 0)
        LD_SET(&s->undo, a->debt, a->debt + amount);
    return LC_OK;
}

/* Net points origin still holds from lot (its takes minus its give-backs). */
static int64_t s_net(const ld_xfer_t *origin, const ld_lot_t *lot)
{
    int64_t net = 0;
    for (uint32_t i = 0; i < origin->nallocs; i++)
        if (origin->allocs[i].lot == lot)
            net += origin->allocs[i].amount;
    return net;
}

int ld_lots_release(ld_state_t *s, ld_account_t *a, const ld_lot_op_t *op, ld_xfer_t *origin,
                    int64_t amount)
{
    int rc;
    /* Walk the consumption backwards so the latest-consumed lot is refilled first;
     * the net per lot bounds what may go back to it. */
    for (uint32_t i = origin->nallocs; i-- > 0 && amount > 0;) {
        ld_lot_t *lot = origin->allocs[i].lot;
        if (origin->allocs[i].amount <= 0)
            continue;
        int64_t net = s_net(origin, lot);
        int64_t back = net < amount ? net : amount;
        if (back <= 0)
            continue;
        if ((rc = s_move(s, op, origin, lot, -back)) != LC_OK)
            return rc;
        if ((rc = s_repay_debt(s, a, op, lot)) != LC_OK)
            return rc;
        amount -= back;
    }
    if (amount > 0) {
        lc_id_t lot_id;
        lc_id_derive(op->transfer_id, "release", &lot_id);
        return ld_lots_credit(s, a, op, &lot_id, amount, 0);
    }
    return LC_OK;
}

int ld_lots_take_all(ld_state_t *s, ld_account_t *a, const ld_lot_op_t *op, ld_lot_t *lot)
{
    (void)a;
    return lot->remaining > 0 ? s_move(s, op, NULL, lot, lot->remaining) : LC_OK;
}

int64_t ld_lots_remaining(const ld_account_t *a)
{
    int64_t sum = 0;
    for (const ld_lot_t *lot = a->lots; lot; lot = lot->next)
        sum += lot->remaining;
    return sum;
}
