/*
 * ld_transfer.c: creating transfers - validation in TigerBeetle's order (shape,
 * then idempotency, then state), plain and pending transfers, posts and voids of
 * holds, reversals, linked chains rolled back through the undo log, and the
 * ledger's own voids of holds whose timeout passed. Invariants: ld_state.h.
 */
#include "ld_lots.h"
#include "ld_state.h"
#include "ld_state_int.h"
#include "lc_err.h"

#include <stdlib.h>
#include <string.h>

/* Compares a retried transfer with the stored one (TigerBeetle's exists_with_*). */
static ld_result_t s_compare(const ld_xfer_t *x, const ld_transfer_t *in)
{
    const ld_transfer_t *t = &x->t;
    bool two_phase = in->flags & (LD_TF_POST_PENDING | LD_TF_VOID_PENDING);
    if ((t->flags & LD_TF_CLIENT) != in->flags)
        return LD_EXISTS_WITH_DIFFERENT_FLAGS;
    /* A post or void may leave accounts (and a full post the amount) unset: they
     * were resolved from the hold. Compare only what the client said. */
    if ((!two_phase || !lc_id_is_zero(&in->debit_account_id)) &&
        !lc_id_eq(&t->debit_account_id, &in->debit_account_id))
        return LD_EXISTS_WITH_DIFFERENT_DEBIT_ACCOUNT_ID;
    if ((!two_phase || !lc_id_is_zero(&in->credit_account_id)) &&
        !lc_id_eq(&t->credit_account_id, &in->credit_account_id))
        return LD_EXISTS_WITH_DIFFERENT_CREDIT_ACCOUNT_ID;
    if ((!two_phase || in->amount != 0) && t->amount != in->amount)
        return LD_EXISTS_WITH_DIFFERENT_AMOUNT;
    if (!lc_id_eq(&t->pending_id, &in->pending_id))
        return LD_EXISTS_WITH_DIFFERENT_PENDING_ID;
    if (!lc_id_eq(&t->reverses, &in->reverses))
        return LD_EXISTS_WITH_DIFFERENT_REVERSES;
    if (t->code != in->code)
        return LD_EXISTS_WITH_DIFFERENT_CODE;
    if (!lc_id_eq(&t->user_data, &in->user_data))
        return LD_EXISTS_WITH_DIFFERENT_USER_DATA;
    if (t->timeout != in->timeout)
        return LD_EXISTS_WITH_DIFFERENT_TIMEOUT;
    if (t->expires_at != in->expires_at)
        return LD_EXISTS_WITH_DIFFERENT_EXPIRES_AT;
    return LD_EXISTS;
}

/* The accounts' frozen / closed state refuses a movement. */
static ld_result_t s_check_open(const ld_account_t *dr, const ld_account_t *cr)
{
    if (dr->flags & LD_AF_CLOSED)
        return LD_DEBIT_ACCOUNT_CLOSED;
    if (cr->flags & LD_AF_CLOSED)
        return LD_CREDIT_ACCOUNT_CLOSED;
    if (dr->flags & LD_AF_FROZEN)
        return LD_DEBIT_ACCOUNT_FROZEN;
    if (cr->flags & LD_AF_FROZEN)
        return LD_CREDIT_ACCOUNT_FROZEN;
    return LD_OK;
}

/* Post or void a hold (also the ledger's own timeout voids). */
static ld_result_t s_check_resolve(const ld_state_t *s, const ld_transfer_t *in, int64_t now,
                                   ld_xfer_t **pending_out)
{
    if (lc_id_is_zero(&in->pending_id))
        return LD_PENDING_ID_REQUIRED;
    if (lc_id_eq(&in->pending_id, &in->id))
        return LD_PENDING_ID_MUST_BE_DIFFERENT;
    if (!lc_id_is_zero(&in->reverses))
        return LD_REVERSES_MUST_BE_ZERO;
    if (in->timeout)
        return LD_TIMEOUT_RESERVED_FOR_PENDING;
    if (in->expires_at)
        return LD_EXPIRES_AT_MUST_BE_ZERO; /* a posted credit keeps the hold's expiry */
    if (in->amount < 0) /* 0 = the full hold; a negative post would credit the debit side */
        return LD_AMOUNT_MUST_BE_POSITIVE;
    ld_xfer_t *p = ld_table_get(&s->xfers, &in->pending_id);
    if (!p)
        return LD_PENDING_TRANSFER_NOT_FOUND;
    if (!(p->t.flags & LD_TF_PENDING))
        return LD_PENDING_TRANSFER_NOT_PENDING;
    if ((!lc_id_is_zero(&in->debit_account_id) &&
         !lc_id_eq(&in->debit_account_id, &p->t.debit_account_id)) ||
        (!lc_id_is_zero(&in->credit_account_id) &&
         !lc_id_eq(&in->credit_account_id, &p->t.credit_account_id)))
        return LD_PENDING_TRANSFER_HAS_DIFFERENT_ACCOUNTS;
    switch (p->pstate) {
    case LD_PS_POSTED:
        return LD_PENDING_TRANSFER_ALREADY_POSTED;
    case LD_PS_VOIDED:
        return LD_PENDING_TRANSFER_ALREADY_VOIDED;
    case LD_PS_EXPIRED:
        return LD_PENDING_TRANSFER_EXPIRED;
    default:
        break;
    }
    if (p->deadline && p->deadline <= now && !(in->flags & LD_TF_TIMEOUT))
        return LD_PENDING_TRANSFER_EXPIRED;
    if (in->amount > p->t.amount)
        return LD_EXCEEDS_PENDING_TRANSFER_AMOUNT;
    if ((in->flags & LD_TF_VOID_PENDING) && in->amount != 0 && in->amount != p->t.amount)
        return LD_EXCEEDS_PENDING_TRANSFER_AMOUNT;
    if (in->flags & LD_TF_POST_PENDING) {
        const ld_account_t *dr = ld_table_get(&s->accounts, &p->t.debit_account_id);
        const ld_account_t *cr = ld_table_get(&s->accounts, &p->t.credit_account_id);
        ld_result_t r = s_check_open(dr, cr);
        if (r != LD_OK)
            return r;
    }
    *pending_out = p;
    return LD_OK;
}

static int s_apply_resolve(ld_state_t *s, const ld_transfer_t *in, ld_xfer_t *p, int64_t now,
                           ld_result_item_t *r)
{
    ld_account_t *dr = ld_table_get(&s->accounts, &p->t.debit_account_id);
    ld_account_t *cr = ld_table_get(&s->accounts, &p->t.credit_account_id);
    bool post = in->flags & LD_TF_POST_PENDING;
    int64_t held = p->t.amount;
    int64_t amount = post ? (in->amount ? in->amount : held) : held;
    ld_entry_t *e;
    int rc = ld_st_journal(s, now, &e);
    if (rc == LC_OK)
        rc = ld_st_queue_account(s, dr);
    if (rc == LC_OK)
        rc = ld_st_queue_account(s, cr);
    if (rc == LC_OK)
        rc = ld_st_queue_pending(s, p);
    if (rc != LC_OK)
        return rc;
    e->type = LD_ENTRY_TRANSFER;
    e->id = in->id;
    e->debit_account_id = dr->id;
    e->credit_account_id = cr->id;
    e->amount = amount;
    e->pending_id = p->t.id;
    e->flags = in->flags;
    e->code = in->code;
    e->user_data = in->user_data;
    ld_lot_op_t op = {&e->id, e->seq};

    ld_st_move_pending(s, dr, cr, -held);
    if (post)
        ld_st_move_posted(s, dr, cr, amount);
    int64_t unused = post ? held - amount : held;
    if ((dr->flags & LD_AF_LOTS) && unused > 0 &&
        (rc = ld_lots_release(s, dr, &op, p, unused)) != LC_OK)
        return rc;
    if (post && (cr->flags & LD_AF_LOTS) &&
        (rc = ld_lots_credit(s, cr, &op, &e->id, amount, p->t.expires_at)) != LC_OK)
        return rc;
    uint8_t state = post                          ? LD_PS_POSTED
                    : (in->flags & LD_TF_TIMEOUT) ? LD_PS_EXPIRED
                                                  : LD_PS_VOIDED;
    LD_SET(&s->undo, p->pstate, state);
    LD_SET(&s->undo, p->resolved_by, in->id);
    ld_xfer_t *x;
    if ((rc = ld_st_seal(s, e)) != LC_OK || (rc = ld_st_new_xfer(s, e, &x)) != LC_OK)
        return rc;
    r->seq = e->seq;
    r->timestamp = e->timestamp;
    return LC_OK;
}

/* A plain or pending transfer, possibly a reversal. */
static ld_result_t s_check_move(const ld_state_t *s, const ld_transfer_t *in, ld_account_t **dr_out,
                                ld_account_t **cr_out, ld_xfer_t **reversed_out)
{
    bool pending = in->flags & LD_TF_PENDING;
    if (!lc_id_is_zero(&in->pending_id))
        return LD_PENDING_ID_MUST_BE_ZERO;
    if (in->amount <= 0)
        return LD_AMOUNT_MUST_BE_POSITIVE;
    if (lc_id_is_zero(&in->debit_account_id))
        return LD_DEBIT_ACCOUNT_ID_MUST_NOT_BE_ZERO;
    if (lc_id_is_zero(&in->credit_account_id))
        return LD_CREDIT_ACCOUNT_ID_MUST_NOT_BE_ZERO;
    if (lc_id_eq(&in->debit_account_id, &in->credit_account_id))
        return LD_ACCOUNTS_MUST_BE_DIFFERENT;
    if (in->timeout && !pending)
        return LD_TIMEOUT_RESERVED_FOR_PENDING;
    if (in->timeout > LD_TIMEOUT_MAX) /* the codec refuses it first; kept for direct callers */
        return LD_TIMEOUT_TOO_LONG;
    if (!lc_id_is_zero(&in->reverses) && pending)
        return LD_REVERSES_MUST_BE_ZERO; /* a hold cannot be a reversal */
    if (!lc_id_is_zero(&in->reverses) && in->expires_at)
        return LD_EXPIRES_AT_MUST_BE_ZERO; /* points return to the lots they came from */
    ld_account_t *dr = ld_table_get(&s->accounts, &in->debit_account_id);
    ld_account_t *cr = ld_table_get(&s->accounts, &in->credit_account_id);
    if (!dr)
        return LD_DEBIT_ACCOUNT_NOT_FOUND;
    if (!cr)
        return LD_CREDIT_ACCOUNT_NOT_FOUND;
    ld_xfer_t *o = NULL;
    if (!lc_id_is_zero(&in->reverses)) {
        o = ld_table_get(&s->xfers, &in->reverses);
        if (!o)
            return LD_REVERSAL_TARGET_NOT_FOUND;
        /* Only movements of posted points can be reversed: not a hold itself, not
         * a void (which moved nothing posted). */
        if (o->t.flags & (LD_TF_PENDING | LD_TF_VOID_PENDING))
            return LD_REVERSAL_OF_PENDING_NOT_ALLOWED;
        if (!lc_id_eq(&in->debit_account_id, &o->t.credit_account_id) ||
            !lc_id_eq(&in->credit_account_id, &o->t.debit_account_id))
            return LD_REVERSAL_ACCOUNTS_MUST_BE_SWAPPED;
        if (in->amount > o->t.amount - o->reversed)
            return LD_EXCEEDS_REVERSIBLE_AMOUNT;
    }
    if (in->expires_at && !(cr->flags & LD_AF_LOTS))
        return LD_EXPIRES_AT_REQUIRES_LOTS_CREDIT;
    ld_result_t r = s_check_open(dr, cr);
    if (r != LD_OK)
        return r;
    if (ld_st_add_overflows(dr->debits_posted, dr->debits_pending) ||
        ld_st_add_overflows(dr->debits_posted + dr->debits_pending, in->amount) ||
        ld_st_add_overflows(cr->credits_posted, cr->credits_pending) ||
        ld_st_add_overflows(cr->credits_posted + cr->credits_pending, in->amount) ||
        ld_st_add_overflows(dr->debt, in->amount))
        return LD_OVERFLOWS;
    /* A reversal may take a lots account below zero: the shortfall becomes debt
     * that later credits repay (I2). Every other account keeps its limits. */
    bool may_go_below = o && (dr->flags & LD_AF_LOTS);
    if (!may_go_below && (dr->flags & LD_AF_DEBITS_MUST_NOT_EXCEED_CREDITS) &&
        dr->debits_posted + dr->debits_pending + in->amount > dr->credits_posted)
        return LD_EXCEEDS_CREDITS;
    if ((cr->flags & LD_AF_CREDITS_MUST_NOT_EXCEED_DEBITS) &&
        cr->credits_posted + cr->credits_pending + in->amount > cr->debits_posted)
        return LD_EXCEEDS_DEBITS;
    *dr_out = dr;
    *cr_out = cr;
    *reversed_out = o;
    return LD_OK;
}

static int s_apply_move(ld_state_t *s, const ld_transfer_t *in, ld_account_t *dr, ld_account_t *cr,
                        ld_xfer_t *o, int64_t now, ld_result_item_t *r)
{
    bool pending = in->flags & LD_TF_PENDING;
    ld_entry_t *e;
    int rc = ld_st_journal(s, now, &e);
    if (rc == LC_OK)
        rc = ld_st_queue_account(s, dr);
    if (rc == LC_OK)
        rc = ld_st_queue_account(s, cr);
    if (rc != LC_OK)
        return rc;
    e->type = LD_ENTRY_TRANSFER;
    e->id = in->id;
    e->debit_account_id = dr->id;
    e->credit_account_id = cr->id;
    e->amount = in->amount;
    e->reverses = in->reverses;
    e->flags = in->flags;
    e->code = in->code;
    e->user_data = in->user_data;
    e->timeout = in->timeout;
    e->expires_at = in->expires_at;
    ld_xfer_t *x;
    if ((rc = ld_st_seal(s, e)) != LC_OK || (rc = ld_st_new_xfer(s, e, &x)) != LC_OK)
        return rc;
    ld_lot_op_t op = {&x->t.id, x->seq};

    if (pending) {
        ld_st_move_pending(s, dr, cr, in->amount);
        x->pstate = LD_PS_PENDING;
        x->deadline = in->timeout ? x->timestamp + (int64_t)in->timeout * 1000000 : 0;
        LD_GROW(s->holds, s->nholds, s->capholds, 64);
        LD_SET(&s->undo, s->nholds, s->nholds + 1);
        s->holds[s->nholds - 1] = x;
        if ((rc = ld_st_queue_pending(s, x)) != LC_OK)
            return rc;
    } else {
        ld_st_move_posted(s, dr, cr, in->amount);
    }
    if (o)
        LD_SET(&s->undo, o->reversed, o->reversed + in->amount);

    /* Lots. Holds reserve (consume for the hold, released on post/void); a
     * reversal's debit starts with the lot the reversed credit created; a
     * reversal's credit goes back to the lots the reversed debit used. */
    if (dr->flags & LD_AF_LOTS) {
        ld_lot_t *first = o ? ld_table_get(&s->lots, &o->t.id) : NULL;
        if (first && !lc_id_eq(&first->account_id, &dr->id))
            first = NULL;
        if ((rc = ld_lots_consume(s, dr, &op, o ? NULL : x, first, in->amount)) != LC_OK)
            return rc;
    }
    if ((cr->flags & LD_AF_LOTS) && !pending) {
        if (o) {
            /* The consumption is owned by the hold for a post, else the debit. */
            ld_xfer_t *origin = o;
            if ((o->t.flags & LD_TF_POST_PENDING) && ld_table_get(&s->xfers, &o->t.pending_id))
                origin = ld_table_get(&s->xfers, &o->t.pending_id);
            rc = ld_lots_release(s, cr, &op, origin, in->amount);
        } else {
            rc = ld_lots_credit(s, cr, &op, &x->t.id, in->amount, in->expires_at);
        }
        if (rc != LC_OK)
            return rc;
    }
    r->seq = e->seq;
    r->timestamp = e->timestamp;
    return LC_OK;
}

/* Validates and applies one transfer; returns the result, or -1 on NOMEM. */
static int s_transfer(ld_state_t *s, const ld_transfer_t *in, int64_t now, ld_result_item_t *r,
                      uint32_t ledger_flags)
{
    memset(r, 0, sizeof *r);
    r->id = in->id;
    if (lc_id_is_zero(&in->id))
        return LD_ID_MUST_NOT_BE_ZERO;
    if ((in->flags & ~LD_TF_CLIENT) & ~ledger_flags)
        return LD_FLAGS_RESERVED;
    int phases = !!(in->flags & LD_TF_PENDING) + !!(in->flags & LD_TF_POST_PENDING) +
                 !!(in->flags & LD_TF_VOID_PENDING);
    if (phases > 1)
        return LD_FLAGS_ARE_MUTUALLY_EXCLUSIVE;
    ld_xfer_t *existing = ld_table_get(&s->xfers, &in->id);
    if (existing) {
        ld_result_t res = s_compare(existing, in);
        if (res == LD_EXISTS) {
            r->seq = existing->seq;
            r->timestamp = existing->timestamp;
        }
        return res;
    }
    if (ld_table_get(&s->failed, &in->id))
        return LD_ID_ALREADY_FAILED;
    int rc;
    if (in->flags & (LD_TF_POST_PENDING | LD_TF_VOID_PENDING)) {
        ld_xfer_t *p = NULL;
        ld_result_t res = s_check_resolve(s, in, now, &p);
        if (res != LD_OK)
            return res;
        rc = s_apply_resolve(s, in, p, now, r);
    } else {
        ld_account_t *dr = NULL, *cr = NULL;
        ld_xfer_t *o = NULL;
        ld_result_t res = s_check_move(s, in, &dr, &cr, &o);
        if (res != LD_OK)
            return res;
        rc = s_apply_move(s, in, dr, cr, o, now, r);
    }
    return rc == LC_OK ? LD_OK : -1;
}

int ld_state_create_transfers(ld_state_t *s, const ld_transfer_t *in, size_t n, int64_t now,
                              ld_result_item_t *results)
{
    size_t i = 0;
    while (i < n) {
        /* A chain is a maximal run of linked transfers plus the one that ends it. */
        size_t end = i;
        while (end < n && (in[end].flags & LD_TF_LINKED))
            end++;
        if (end == n) { /* the last transfer is linked: the chain never closes */
            for (size_t k = i; k < n; k++) {
                memset(&results[k], 0, sizeof results[k]);
                results[k].id = in[k].id;
                results[k].result = LD_LINKED_EVENT_CHAIN_OPEN;
            }
            return LC_OK;
        }
        size_t mark = s->undo.n;
        size_t failed_at = SIZE_MAX;
        int failure = LD_OK;
        for (size_t k = i; k <= end; k++) {
            int res = s_transfer(s, &in[k], now, &results[k], 0);
            if (res < 0 || s->undo.failed)
                return LC_ERR_NOMEM;
            results[k].result = res;
            if (res != LD_OK && res != LD_EXISTS && end > i) {
                failed_at = k;
                failure = res;
                break;
            }
        }
        if (failed_at != SIZE_MAX) {
            ld_undo_to(&s->undo, mark);
            for (size_t k = i; k <= end; k++) {
                if (k != failed_at) {
                    memset(&results[k], 0, sizeof results[k]);
                    results[k].id = in[k].id;
                    results[k].result = LD_LINKED_EVENT_FAILED;
                }
            }
            /* Burn the chain's ids only for a state-dependent failure: a retry of the
             * same chain must not succeed later (I6). */
            if (ld_result_is_transient(failure))
                for (size_t k = i; k <= end; k++)
                    if (ld_st_record_failed(s, &in[k].id, results[k].result, now) != LC_OK)
                        return LC_ERR_NOMEM;
        } else {
            for (size_t k = i; k <= end; k++)
                if (ld_st_record_failed(s, &in[k].id, results[k].result, now) != LC_OK)
                    return LC_ERR_NOMEM;
        }
        i = end + 1;
    }
    return s->undo.failed ? LC_ERR_NOMEM : LC_OK;
}

int ld_state_expire_holds(ld_state_t *s, int64_t now)
{
    int count = 0;
    for (size_t i = 0; i < s->nholds; i++) {
        ld_xfer_t *p = s->holds[i];
        if (p->pstate != LD_PS_PENDING || !p->deadline || p->deadline > now)
            continue;
        ld_transfer_t t = {0};
        lc_id_derive(&p->t.id, "timeout", &t.id);
        t.pending_id = p->t.id;
        t.flags = LD_TF_VOID_PENDING | LD_TF_TIMEOUT;
        t.code = p->t.code;
        ld_result_item_t r;
        int res = s_transfer(s, &t, now, &r, LD_TF_TIMEOUT);
        if (res < 0 || s->undo.failed)
            return LC_ERR_NOMEM;
        if (res == LD_OK)
            count++;
    }
    return count;
}
