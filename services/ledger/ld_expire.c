/*
 * ld_expire.c: expiry of lots. Moves the remaining points of every lot due at
 * as_of to a breakage account, soonest-due first, one journaled transfer per lot
 * with an id derived from the lot and its expiry count, so a sweep that runs
 * twice or dies midway never expires a point twice.
 */
#include "ld_lots.h"
#include "ld_state.h"
#include "ld_state_int.h"
#include "lc_err.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Expiry order: soonest first, then oldest. */
static int s_lot_cmp(const void *x, const void *y)
{
    const ld_lot_t *a = *(ld_lot_t *const *)x, *b = *(ld_lot_t *const *)y;
    if (a->expires_at != b->expires_at)
        return a->expires_at < b->expires_at ? -1 : 1;
    return (a->created_seq > b->created_seq) - (a->created_seq < b->created_seq);
}

int ld_state_expire_lots(ld_state_t *s, const ld_expire_req_t *req, int64_t now,
                         ld_expire_rep_t *rep)
{
    memset(rep, 0, sizeof *rep);
    ld_account_t *brk = ld_table_get(&s->accounts, &req->breakage_account_id);
    if (!brk)
        return LC_ERR_NOT_FOUND;
    if (brk->flags & LD_AF_LOTS)
        return LC_ERR_INVALID;
    int64_t limit = req->limit > 0 ? req->limit : LD_BATCH_MAX;
    /* The due lots, soonest expiry first, so that a limited call takes the oldest
     * debts to the program first and repeated calls make steady progress. */
    size_t ndue = 0;
    ld_lot_t **due = NULL;
    for (size_t i = 0; i < s->lots.cap; i++) {
        ld_lot_t *lot = s->lots.slots[i].value;
        if (!lot || lot->remaining == 0 || !lot->expires_at || lot->expires_at > req->as_of)
            continue;
        if ((ndue & (ndue - 1)) == 0) { /* grow at powers of two */
            ld_lot_t **p = realloc(due, (ndue ? ndue * 2 : 1) * sizeof *p);
            if (!p) {
                free(due);
                return LC_ERR_NOMEM;
            }
            due = p;
        }
        due[ndue++] = lot;
    }
    if (ndue > 1) /* qsort's array must not be NULL, even when empty */
        qsort(due, ndue, sizeof *due, s_lot_cmp);
    size_t take = ndue < (size_t)limit ? ndue : (size_t)limit;
    rep->more = ndue > take;
    int64_t total = 0;
    for (size_t i = 0; i < take; i++)
        total += due[i]->remaining; /* lots of one ledger: their sum fits (I1) */
    if (ld_st_add_overflows(brk->credits_posted, total)) {
        free(due);
        return LC_ERR_OVERFLOW;
    }
    rep->results = calloc(take ? take : 1, sizeof *rep->results);
    if (!rep->results) {
        free(due);
        return LC_ERR_NOMEM;
    }
    int rc = LC_OK;
    for (size_t i = 0; rc == LC_OK && i < take; i++) {
        ld_lot_t *lot = due[i];
        ld_account_t *a = ld_table_get(&s->accounts, &lot->account_id);
        char label[32];
        snprintf(label, sizeof label, "expiry:%d", lot->expiries);
        ld_entry_t *e;
        rc = ld_st_journal(s, now, &e);
        if (rc == LC_OK)
            rc = ld_st_queue_account(s, a);
        if (rc == LC_OK)
            rc = ld_st_queue_account(s, brk);
        if (rc != LC_OK)
            break;
        e->type = LD_ENTRY_TRANSFER;
        lc_id_derive(&lot->id, label, &e->id);
        e->debit_account_id = a->id;
        e->credit_account_id = brk->id;
        e->amount = lot->remaining;
        e->flags = LD_TF_EXPIRY;
        e->code = req->code;
        e->user_data = lot->id;
        ld_lot_op_t op = {&e->id, e->seq};
        ld_st_move_posted(s, a, brk, lot->remaining);
        rep->points += lot->remaining;
        LD_SET(&s->undo, lot->expiries, lot->expiries + 1);
        ld_xfer_t *x;
        if ((rc = ld_lots_take_all(s, a, &op, lot)) != LC_OK || (rc = ld_st_seal(s, e)) != LC_OK ||
            (rc = ld_st_new_xfer(s, e, &x)) != LC_OK)
            break;
        ld_result_item_t *r = &rep->results[rep->nresults++];
        r->id = e->id;
        r->result = LD_OK;
        r->seq = e->seq;
        r->timestamp = e->timestamp;
    }
    free(due);
    if (rc != LC_OK)
        return rc;
    return s->undo.failed ? LC_ERR_NOMEM : LC_OK;
}
