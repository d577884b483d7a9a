/*
 * ld_state.c: the ledger state machine's core (see ld_state.h for the invariants):
 * its lifecycle, batches, the journal and chain head, accounts, the helpers the
 * other parts share (ld_state_int.h), and loading at start-up. Transfers live in
 * ld_transfer.c, lot expiry in ld_expire.c.
 *
 * Each operation first validates without touching anything, then applies with
 * every change recorded in the undo log, then seals a journal entry.
 */
#include "ld_state.h"
#include "ld_state_int.h"
#include "ld_chain.h"
#include "ld_lots.h"
#include "lc_err.h"

#include <stdlib.h>
#include <string.h>

/* Frees a transfer and the allocation array it owns (ld_undo_alloc_fn's free_fn). */
static void s_xfer_free(void *p)
{
    ld_xfer_t *x = p;
    free(x->allocs);
    free(x);
}

ld_state_t *ld_state_new(void)
{
    ld_state_t *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    if (ld_table_init(&s->accounts, 1024) || ld_table_init(&s->xfers, 4096) ||
        ld_table_init(&s->lots, 4096) || ld_table_init(&s->failed, 256)) {
        ld_state_destroy(&s);
        return NULL;
    }
    s->next_seq = 1;
    s->recent_max = LD_RECENT_MAX;
    return s;
}

void ld_state_destroy(ld_state_t **s_p)
{
    if (!s_p || !*s_p)
        return;
    ld_state_t *s = *s_p;
    for (size_t i = 0; s->xfers.slots && i < s->xfers.cap; i++)
        if (s->xfers.slots[i].value)
            s_xfer_free(s->xfers.slots[i].value);
    for (size_t i = 0; s->lots.slots && i < s->lots.cap; i++)
        free(s->lots.slots[i].value);
    for (size_t i = 0; s->accounts.slots && i < s->accounts.cap; i++)
        free(s->accounts.slots[i].value);
    ld_table_free(&s->accounts);
    ld_table_free(&s->xfers);
    ld_table_free(&s->lots);
    ld_table_free(&s->failed);
    free(s->holds);
    free(s->recent);
    ld_batch_t *b = &s->batch;
    free(b->entries);
    free(b->accounts);
    free(b->lots);
    free(b->allocs);
    free(b->pendings);
    free(b->failed);
    ld_undo_free(&s->undo);
    free(s);
    *s_p = NULL;
}

/* ---- batches ------------------------------------------------------------------- */

void ld_state_begin_batch(ld_state_t *s)
{
    s->epoch++;
    ld_batch_t *b = &s->batch;
    b->nentries = b->naccounts = b->nlots = b->nallocs = b->npendings = b->nfailed = 0;
    ld_undo_clear(&s->undo);
}

/* Remembers that id went into xfers, for s_trim_recent. Out of memory, it is not
 * remembered: the transfer then stays resident, which costs memory, not truth. */
static void s_note_recent(ld_state_t *s, const lc_id_t *id)
{
    if (s->nrecent == s->caprecent) {
        size_t cap = s->caprecent ? 2 * s->caprecent : 1024;
        lc_id_t *r = realloc(s->recent, cap * sizeof *r);
        if (!r)
            return;
        s->recent = r;
        s->caprecent = cap;
    }
    s->recent[s->nrecent++] = *id;
}

/* Past recent_max recent transfers, drops the oldest ones down to half of it from
 * memory, except holds still pending and transfers that own lot allocations: what
 * stays is what start-up would load (ld_store.c, s_load_xfers), and the server
 * reads any other transfer a batch names from the journal first (s_fault_in). Runs
 * between batches only, when the undo log holds no pointer to a transfer. */
static void s_trim_recent(ld_state_t *s)
{
    if (s->nrecent <= s->recent_max)
        return;
    size_t drop = s->nrecent - s->recent_max / 2;
    for (size_t i = 0; i < drop; i++) {
        ld_xfer_t *x = ld_table_get(&s->xfers, &s->recent[i]);
        if (!x || x->pstate == LD_PS_PENDING || x->nallocs > 0)
            continue;
        ld_table_del(&s->xfers, &x->t.id);
        s_xfer_free(x);
    }
    memmove(s->recent, s->recent + drop, (s->nrecent - drop) * sizeof *s->recent);
    s->nrecent -= drop;
}

void ld_state_commit_batch(ld_state_t *s)
{
    ld_undo_clear(&s->undo);
    /* Holds that resolved in this batch no longer need watching. */
    size_t j = 0;
    for (size_t i = 0; i < s->nholds; i++)
        if (s->holds[i]->pstate == LD_PS_PENDING)
            s->holds[j++] = s->holds[i];
    s->nholds = j;
    s_trim_recent(s);
}

void ld_state_abort_batch(ld_state_t *s)
{
    ld_undo_to(&s->undo, 0);
    ld_undo_clear(&s->undo);
    ld_batch_t *b = &s->batch;
    b->nentries = b->naccounts = b->nlots = b->nallocs = b->npendings = b->nfailed = 0;
}

bool ld_state_batch_dirty(const ld_state_t *s)
{
    const ld_batch_t *b = &s->batch;
    return b->nentries || b->nfailed;
}

int ld_st_queue_account(ld_state_t *s, ld_account_t *a)
{
    if (a->epoch == s->epoch)
        return LC_OK;
    ld_batch_t *b = &s->batch;
    LD_GROW(b->accounts, b->naccounts, b->capaccounts, 256);
    LD_SET(&s->undo, a->epoch, s->epoch);
    LD_SET(&s->undo, b->naccounts, b->naccounts + 1);
    b->accounts[b->naccounts - 1] = a;
    return LC_OK;
}

int ld_st_queue_pending(ld_state_t *s, ld_xfer_t *x)
{
    if (x->epoch == s->epoch)
        return LC_OK;
    ld_batch_t *b = &s->batch;
    LD_GROW(b->pendings, b->npendings, b->cappendings, 64);
    LD_SET(&s->undo, x->epoch, s->epoch);
    LD_SET(&s->undo, b->npendings, b->npendings + 1);
    b->pendings[b->npendings - 1] = x;
    return LC_OK;
}

/* Appends a journal entry with the next seq and a strictly increasing timestamp,
 * and seals it into the chain. *out points into the batch (valid until the next
 * append). */
int ld_st_journal(ld_state_t *s, int64_t now, ld_entry_t **out)
{
    ld_batch_t *b = &s->batch;
    LD_GROW(b->entries, b->nentries, b->capentries, 256);
    int64_t ts = now > s->last_ts ? now : s->last_ts + 1;
    LD_SET(&s->undo, b->nentries, b->nentries + 1);
    ld_undo_bytes(&s->undo, &s->next_seq, sizeof s->next_seq);
    ld_undo_bytes(&s->undo, &s->last_ts, sizeof s->last_ts);
    ld_entry_t *e = &b->entries[b->nentries - 1];
    memset(e, 0, sizeof *e);
    e->seq = s->next_seq++;
    e->timestamp = ts;
    s->last_ts = ts;
    *out = e;
    return LC_OK;
}

/* Seals the entry last appended: links it to the chain head. */
int ld_st_seal(ld_state_t *s, ld_entry_t *e)
{
    ld_undo_bytes(&s->undo, s->head, sizeof s->head);
    int rc = ld_chain_seal(e, s->head);
    if (rc == LC_OK)
        memcpy(s->head, e->hash, sizeof s->head);
    return rc;
}

int ld_st_record_failed(ld_state_t *s, const lc_id_t *id, int result, int64_t now)
{
    if (!ld_result_is_transient(result) || lc_id_is_zero(id) || ld_table_get(&s->failed, id) ||
        ld_table_get(&s->xfers, id))
        return LC_OK; /* a zero id (refused in a failed chain) names nothing to burn */
    ld_batch_t *b = &s->batch;
    LD_GROW(b->failed, b->nfailed, b->capfailed, 64);
    if (ld_table_put(&s->failed, id, (void *)(uintptr_t)(result + 1)) != LC_OK)
        return LC_ERR_NOMEM;
    ld_undo_table_put(&s->undo, &s->failed, id);
    LD_SET(&s->undo, b->nfailed, b->nfailed + 1);
    ld_failed_row_t *f = &b->failed[b->nfailed - 1];
    f->id = *id;
    f->result = result;
    f->timestamp = now;
    return LC_OK;
}

/* ---- accounts ------------------------------------------------------------------- */

ld_account_t *ld_state_account(const ld_state_t *s, const lc_id_t *id)
{
    return ld_table_get(&s->accounts, id);
}

ld_xfer_t *ld_state_xfer(const ld_state_t *s, const lc_id_t *id)
{
    return ld_table_get(&s->xfers, id);
}

void ld_account_view(const ld_account_t *a, ld_account_view_t *out)
{
    memset(out, 0, sizeof *out);
    out->id = a->id;
    out->kind = a->kind;
    out->flags = a->flags;
    out->code = a->code;
    out->user_data = a->user_data;
    out->debits_pending = a->debits_pending;
    out->debits_posted = a->debits_posted;
    out->credits_pending = a->credits_pending;
    out->credits_posted = a->credits_posted;
    out->debt = a->debt;
    out->balance = a->credits_posted - a->debits_posted;
    out->available = out->balance - a->debits_pending;
    out->created_at = a->created_at;
}

static ld_result_t s_check_account(const ld_state_t *s, const ld_account_new_t *in)
{
    if (lc_id_is_zero(&in->id))
        return LD_ID_MUST_NOT_BE_ZERO;
    if (!lc_name_of(ld_kind_names, (uint32_t)in->kind))
        return LD_KIND_INVALID;
    uint32_t known = LD_AF_DEBITS_MUST_NOT_EXCEED_CREDITS | LD_AF_CREDITS_MUST_NOT_EXCEED_DEBITS |
                     LD_AF_LOTS | LD_AF_FROZEN | LD_AF_CLOSED;
    if (in->flags & ~known)
        return LD_FLAGS_RESERVED;
    if ((in->flags & LD_AF_DEBITS_MUST_NOT_EXCEED_CREDITS) &&
        (in->flags & LD_AF_CREDITS_MUST_NOT_EXCEED_DEBITS))
        return LD_FLAGS_ARE_MUTUALLY_EXCLUSIVE;
    /* Lots cannot go below zero except through reversals (I2, I3). */
    if ((in->flags & LD_AF_LOTS) && !(in->flags & LD_AF_DEBITS_MUST_NOT_EXCEED_CREDITS))
        return LD_ACCOUNT_FLAGS_INVALID;
    const ld_account_t *a = ld_table_get(&s->accounts, &in->id);
    if (a) {
        if (a->kind != in->kind)
            return LD_EXISTS_WITH_DIFFERENT_KIND;
        if ((a->flags & ~LD_AF_SETTABLE) != (in->flags & ~LD_AF_SETTABLE))
            return LD_EXISTS_WITH_DIFFERENT_FLAGS;
        if (a->code != in->code)
            return LD_EXISTS_WITH_DIFFERENT_CODE;
        if (!lc_id_eq(&a->user_data, &in->user_data))
            return LD_EXISTS_WITH_DIFFERENT_USER_DATA;
        return LD_EXISTS;
    }
    return LD_OK;
}

int ld_state_create_accounts(ld_state_t *s, const ld_account_new_t *in, size_t n, int64_t now,
                             ld_result_item_t *results)
{
    for (size_t i = 0; i < n; i++) {
        ld_result_item_t *r = &results[i];
        memset(r, 0, sizeof *r);
        r->id = in[i].id;
        r->result = s_check_account(s, &in[i]);
        if (r->result == LD_EXISTS) {
            const ld_account_t *a = ld_table_get(&s->accounts, &in[i].id);
            r->seq = a->created_seq;
            r->timestamp = a->created_at;
        }
        if (r->result != LD_OK)
            continue;
        ld_account_t *a = calloc(1, sizeof *a);
        if (!a)
            return LC_ERR_NOMEM;
        ld_undo_alloc(&s->undo, a);
        ld_entry_t *e;
        int rc = ld_st_journal(s, now, &e);
        if (rc != LC_OK)
            return rc;
        a->id = in[i].id;
        a->kind = in[i].kind;
        a->flags = in[i].flags;
        a->code = in[i].code;
        a->user_data = in[i].user_data;
        a->created_seq = e->seq;
        a->created_at = e->timestamp;
        if (ld_table_put(&s->accounts, &a->id, a) != LC_OK)
            return LC_ERR_NOMEM;
        ld_undo_table_put(&s->undo, &s->accounts, &a->id);
        if ((rc = ld_st_queue_account(s, a)) != LC_OK)
            return rc;
        e->type = LD_ENTRY_ACCOUNT;
        e->id = a->id;
        e->flags = a->flags;
        e->code = a->code;
        e->kind = a->kind;
        e->user_data = a->user_data;
        if ((rc = ld_st_seal(s, e)) != LC_OK)
            return rc;
        r->seq = e->seq;
        r->timestamp = e->timestamp;
    }
    return LC_OK;
}

int ld_state_set_flags(ld_state_t *s, const ld_set_flags_req_t *req, int64_t now,
                       ld_result_item_t *r)
{
    memset(r, 0, sizeof *r);
    r->id = req->id;
    ld_account_t *a = ld_table_get(&s->accounts, &req->id);
    if ((req->set | req->clear) & ~LD_AF_SETTABLE || (req->set & req->clear)) {
        r->result = LD_ACCOUNT_FLAGS_INVALID;
        return LC_OK;
    }
    if (!a) {
        r->result = LD_ACCOUNT_NOT_FOUND;
        return LC_OK;
    }
    if ((req->clear & LD_AF_CLOSED) && (a->flags & LD_AF_CLOSED)) {
        r->result = LD_ACCOUNT_CLOSED_FOR_GOOD;
        return LC_OK;
    }
    uint32_t flags = (a->flags | req->set) & ~req->clear;
    if (flags == a->flags) {
        r->result = LD_OK; /* nothing changes, nothing is journaled */
        return LC_OK;
    }
    ld_entry_t *e;
    int rc = ld_st_journal(s, now, &e);
    if (rc == LC_OK)
        rc = ld_st_queue_account(s, a);
    if (rc != LC_OK)
        return rc;
    LD_SET(&s->undo, a->flags, flags);
    e->type = LD_ENTRY_ACCOUNT_FLAGS;
    e->id = a->id;
    e->flags = flags;
    e->kind = a->kind;
    if ((rc = ld_st_seal(s, e)) != LC_OK)
        return rc;
    r->seq = e->seq;
    r->timestamp = e->timestamp;
    return LC_OK;
}

/* ---- shared with ld_transfer.c and ld_expire.c ------------------------------ */

/* Creates the in-memory transfer for a new journal entry. */
int ld_st_new_xfer(ld_state_t *s, const ld_entry_t *e, ld_xfer_t **out)
{
    ld_xfer_t *x = calloc(1, sizeof *x);
    if (!x)
        return LC_ERR_NOMEM;
    /* Undone, x goes with the allocs array that ld_lots may grow for it later. */
    ld_undo_alloc_fn(&s->undo, x, s_xfer_free);
    x->t.id = e->id;
    x->t.debit_account_id = e->debit_account_id;
    x->t.credit_account_id = e->credit_account_id;
    x->t.amount = e->amount;
    x->t.pending_id = e->pending_id;
    x->t.reverses = e->reverses;
    x->t.flags = e->flags;
    x->t.code = e->code;
    x->t.user_data = e->user_data;
    x->t.timeout = e->timeout;
    x->t.expires_at = e->expires_at;
    x->seq = e->seq;
    x->timestamp = e->timestamp;
    if (ld_table_put(&s->xfers, &x->t.id, x) != LC_OK)
        return LC_ERR_NOMEM;
    ld_undo_table_put(&s->undo, &s->xfers, &x->t.id);
    s_note_recent(s, &x->t.id); /* undone, the id is simply not found when trimmed */
    *out = x;
    return LC_OK;
}

void ld_st_move_posted(ld_state_t *s, ld_account_t *dr, ld_account_t *cr, int64_t amount)
{
    LD_SET(&s->undo, dr->debits_posted, dr->debits_posted + amount);
    LD_SET(&s->undo, cr->credits_posted, cr->credits_posted + amount);
}

void ld_st_move_pending(ld_state_t *s, ld_account_t *dr, ld_account_t *cr, int64_t amount)
{
    LD_SET(&s->undo, dr->debits_pending, dr->debits_pending + amount);
    LD_SET(&s->undo, cr->credits_pending, cr->credits_pending + amount);
}

/* ---- loading ---------------------------------------------------------------------- */

int ld_state_load_account(ld_state_t *s, ld_account_t *a)
{
    if (a->created_at > s->last_ts)
        s->last_ts = a->created_at;
    return ld_table_put(&s->accounts, &a->id, a);
}

int ld_state_load_lot(ld_state_t *s, ld_lot_t *lot)
{
    ld_account_t *a = ld_table_get(&s->accounts, &lot->account_id);
    if (!a)
        return LC_ERR_NOT_FOUND;
    int rc = ld_table_put(&s->lots, &lot->id, lot);
    if (rc == LC_OK)
        ld_lots_link(s, a, lot, false);
    return rc;
}

int ld_state_load_xfer(ld_state_t *s, ld_xfer_t *x)
{
    int rc = ld_table_put(&s->xfers, &x->t.id, x);
    if (rc != LC_OK)
        return rc;
    s_note_recent(s, &x->t.id);
    if (x->timestamp > s->last_ts)
        s->last_ts = x->timestamp;
    if (x->pstate == LD_PS_PENDING) {
        LD_GROW(s->holds, s->nholds, s->capholds, 64);
        s->holds[s->nholds++] = x;
    }
    return LC_OK;
}

int ld_state_load_alloc(ld_state_t *s, const lc_id_t *origin, const lc_id_t *lot_id, int64_t amount)
{
    ld_xfer_t *x = ld_table_get(&s->xfers, origin);
    ld_lot_t *lot = ld_table_get(&s->lots, lot_id);
    if (!x || !lot)
        return LC_ERR_NOT_FOUND;
    LD_GROW(x->allocs, x->nallocs, x->capallocs, 4);
    x->allocs[x->nallocs].lot = lot;
    x->allocs[x->nallocs].amount = amount;
    x->nallocs++;
    return LC_OK;
}

int ld_state_load_failed(ld_state_t *s, const lc_id_t *id, int result)
{
    return ld_table_put(&s->failed, id, (void *)(uintptr_t)(result + 1));
}
