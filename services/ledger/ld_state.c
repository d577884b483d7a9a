/*
 * ld_state.c: the ledger state machine (see ld_state.h for the invariants).
 *
 * Each operation first validates without touching anything, then applies with
 * every change recorded in the undo log, then seals a journal entry. The checks
 * follow TigerBeetle's order: shape of the request, then idempotency (exists /
 * id_already_failed), then the state-dependent rules.
 */
#include "ld_state.h"
#include "ld_chain.h"
#include "ld_lots.h"
#include "lc_err.h"

#include <stdlib.h>
#include <string.h>

#define GROW(arr, n, cap, init)                                                                    \
    do {                                                                                           \
        if ((n) == (cap)) {                                                                        \
            size_t ncap_ = (cap) ? (cap) * 2 : (init);                                             \
            void *p_ = realloc((arr), ncap_ * sizeof *(arr));                                      \
            if (!p_)                                                                               \
                return LC_ERR_NOMEM;                                                               \
            (arr) = p_;                                                                            \
            (cap) = ncap_;                                                                         \
        }                                                                                          \
    } while (0)

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

void ld_state_commit_batch(ld_state_t *s)
{
    ld_undo_clear(&s->undo);
    /* Holds that resolved in this batch no longer need watching. */
    size_t j = 0;
    for (size_t i = 0; i < s->nholds; i++)
        if (s->holds[i]->pstate == LD_PS_PENDING)
            s->holds[j++] = s->holds[i];
    s->nholds = j;
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

static int s_queue_account(ld_state_t *s, ld_account_t *a)
{
    if (a->epoch == s->epoch)
        return LC_OK;
    ld_batch_t *b = &s->batch;
    GROW(b->accounts, b->naccounts, b->capaccounts, 256);
    LD_SET(&s->undo, a->epoch, s->epoch);
    LD_SET(&s->undo, b->naccounts, b->naccounts + 1);
    b->accounts[b->naccounts - 1] = a;
    return LC_OK;
}

static int s_queue_pending(ld_state_t *s, ld_xfer_t *x)
{
    if (x->epoch == s->epoch)
        return LC_OK;
    ld_batch_t *b = &s->batch;
    GROW(b->pendings, b->npendings, b->cappendings, 64);
    LD_SET(&s->undo, x->epoch, s->epoch);
    LD_SET(&s->undo, b->npendings, b->npendings + 1);
    b->pendings[b->npendings - 1] = x;
    return LC_OK;
}

/* Appends a journal entry with the next seq and a strictly increasing timestamp,
 * and seals it into the chain. *out points into the batch (valid until the next
 * append). */
static int s_journal(ld_state_t *s, int64_t now, ld_entry_t **out)
{
    ld_batch_t *b = &s->batch;
    GROW(b->entries, b->nentries, b->capentries, 256);
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
static int s_seal(ld_state_t *s, ld_entry_t *e)
{
    ld_undo_bytes(&s->undo, s->head, sizeof s->head);
    int rc = ld_chain_seal(e, s->head);
    if (rc == LC_OK)
        memcpy(s->head, e->hash, sizeof s->head);
    return rc;
}

static int s_record_failed(ld_state_t *s, const lc_id_t *id, int result, int64_t now)
{
    if (!ld_result_is_transient(result) || lc_id_is_zero(id) || ld_table_get(&s->failed, id) ||
        ld_table_get(&s->xfers, id))
        return LC_OK; /* a zero id (refused in a failed chain) names nothing to burn */
    ld_batch_t *b = &s->batch;
    GROW(b->failed, b->nfailed, b->capfailed, 64);
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
        int rc = s_journal(s, now, &e);
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
        if ((rc = s_queue_account(s, a)) != LC_OK)
            return rc;
        e->type = LD_ENTRY_ACCOUNT;
        e->id = a->id;
        e->flags = a->flags;
        e->code = a->code;
        e->kind = a->kind;
        e->user_data = a->user_data;
        if ((rc = s_seal(s, e)) != LC_OK)
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
    int rc = s_journal(s, now, &e);
    if (rc == LC_OK)
        rc = s_queue_account(s, a);
    if (rc != LC_OK)
        return rc;
    LD_SET(&s->undo, a->flags, flags);
    e->type = LD_ENTRY_ACCOUNT_FLAGS;
    e->id = a->id;
    e->flags = flags;
    e->kind = a->kind;
    if ((rc = s_seal(s, e)) != LC_OK)
        return rc;
    r->seq = e->seq;
    r->timestamp = e->timestamp;
    return LC_OK;
}

/* ---- transfers ------------------------------------------------------------------ */

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

static bool s_add_overflows(int64_t a, int64_t b)
{
    return a > INT64_MAX - b;
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

/* Creates the in-memory transfer for a new journal entry. */
static int s_new_xfer(ld_state_t *s, const ld_entry_t *e, ld_xfer_t **out)
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
    *out = x;
    return LC_OK;
}

static void s_move_posted(ld_state_t *s, ld_account_t *dr, ld_account_t *cr, int64_t amount)
{
    LD_SET(&s->undo, dr->debits_posted, dr->debits_posted + amount);
    LD_SET(&s->undo, cr->credits_posted, cr->credits_posted + amount);
}

static void s_move_pending(ld_state_t *s, ld_account_t *dr, ld_account_t *cr, int64_t amount)
{
    LD_SET(&s->undo, dr->debits_pending, dr->debits_pending + amount);
    LD_SET(&s->undo, cr->credits_pending, cr->credits_pending + amount);
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
    case LD_PS_POSTED: return LD_PENDING_TRANSFER_ALREADY_POSTED;
    case LD_PS_VOIDED: return LD_PENDING_TRANSFER_ALREADY_VOIDED;
    case LD_PS_EXPIRED: return LD_PENDING_TRANSFER_EXPIRED;
    default: break;
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
    int rc = s_journal(s, now, &e);
    if (rc == LC_OK)
        rc = s_queue_account(s, dr);
    if (rc == LC_OK)
        rc = s_queue_account(s, cr);
    if (rc == LC_OK)
        rc = s_queue_pending(s, p);
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

    s_move_pending(s, dr, cr, -held);
    if (post)
        s_move_posted(s, dr, cr, amount);
    int64_t unused = post ? held - amount : held;
    if ((dr->flags & LD_AF_LOTS) && unused > 0 &&
        (rc = ld_lots_release(s, dr, &op, p, unused)) != LC_OK)
        return rc;
    if (post && (cr->flags & LD_AF_LOTS) &&
        (rc = ld_lots_credit(s, cr, &op, &e->id, amount, p->t.expires_at)) != LC_OK)
        return rc;
    uint8_t state = post ? LD_PS_POSTED : (in->flags & LD_TF_TIMEOUT) ? LD_PS_EXPIRED
                                                                        : LD_PS_VOIDED;
    LD_SET(&s->undo, p->pstate, state);
    LD_SET(&s->undo, p->resolved_by, in->id);
    ld_xfer_t *x;
    if ((rc = s_seal(s, e)) != LC_OK || (rc = s_new_xfer(s, e, &x)) != LC_OK)
        return rc;
    r->seq = e->seq;
    r->timestamp = e->timestamp;
    return LC_OK;
}

/* A plain or pending transfer, possibly a reversal. */
static ld_result_t s_check_move(const ld_state_t *s, const ld_transfer_t *in,
                                ld_account_t **dr_out, ld_account_t **cr_out,
                                ld_xfer_t **reversed_out)
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
    if (s_add_overflows(dr->debits_posted, dr->debits_pending) ||
        s_add_overflows(dr->debits_posted + dr->debits_pending, in->amount) ||
        s_add_overflows(cr->credits_posted, cr->credits_pending) ||
        s_add_overflows(cr->credits_posted + cr->credits_pending, in->amount) ||
        s_add_overflows(dr->debt, in->amount))
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

static int s_apply_move(ld_state_t *s, const ld_transfer_t *in, ld_account_t *dr,
                        ld_account_t *cr, ld_xfer_t *o, int64_t now, ld_result_item_t *r)
{
    bool pending = in->flags & LD_TF_PENDING;
    ld_entry_t *e;
    int rc = s_journal(s, now, &e);
    if (rc == LC_OK)
        rc = s_queue_account(s, dr);
    if (rc == LC_OK)
        rc = s_queue_account(s, cr);
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
    if ((rc = s_seal(s, e)) != LC_OK || (rc = s_new_xfer(s, e, &x)) != LC_OK)
        return rc;
    ld_lot_op_t op = {&x->t.id, x->seq};

    if (pending) {
        s_move_pending(s, dr, cr, in->amount);
        x->pstate = LD_PS_PENDING;
        x->deadline = in->timeout ? x->timestamp + (int64_t)in->timeout * 1000000 : 0;
        GROW(s->holds, s->nholds, s->capholds, 64);
        LD_SET(&s->undo, s->nholds, s->nholds + 1);
        s->holds[s->nholds - 1] = x;
        if ((rc = s_queue_pending(s, x)) != LC_OK)
            return rc;
    } else {
        s_move_posted(s, dr, cr, in->amount);
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
                    if (s_record_failed(s, &in[k].id, results[k].result, now) != LC_OK)
                        return LC_ERR_NOMEM;
        } else {
            for (size_t k = i; k <= end; k++)
                if (s_record_failed(s, &in[k].id, results[k].result, now) != LC_OK)
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
    qsort(due, ndue, sizeof *due, s_lot_cmp);
    size_t take = ndue < (size_t)limit ? ndue : (size_t)limit;
    rep->more = ndue > take;
    int64_t total = 0;
    for (size_t i = 0; i < take; i++)
        total += due[i]->remaining; /* lots of one ledger: their sum fits (I1) */
    if (s_add_overflows(brk->credits_posted, total)) {
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
        rc = s_journal(s, now, &e);
        if (rc == LC_OK)
            rc = s_queue_account(s, a);
        if (rc == LC_OK)
            rc = s_queue_account(s, brk);
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
        s_move_posted(s, a, brk, lot->remaining);
        rep->points += lot->remaining;
        LD_SET(&s->undo, lot->expiries, lot->expiries + 1);
        ld_xfer_t *x;
        if ((rc = ld_lots_take_all(s, a, &op, lot)) != LC_OK || (rc = s_seal(s, e)) != LC_OK ||
            (rc = s_new_xfer(s, e, &x)) != LC_OK)
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
    if (x->timestamp > s->last_ts)
        s->last_ts = x->timestamp;
    if (x->pstate == LD_PS_PENDING) {
        GROW(s->holds, s->nholds, s->capholds, 64);
        s->holds[s->nholds++] = x;
    }
    return LC_OK;
}

int ld_state_load_alloc(ld_state_t *s, const lc_id_t *origin, const lc_id_t *lot_id,
                        int64_t amount)
{
    ld_xfer_t *x = ld_table_get(&s->xfers, origin);
    ld_lot_t *lot = ld_table_get(&s->lots, lot_id);
    if (!x || !lot)
        return LC_ERR_NOT_FOUND;
    GROW(x->allocs, x->nallocs, x->capallocs, 4);
    x->allocs[x->nallocs].lot = lot;
    x->allocs[x->nallocs].amount = amount;
    x->nallocs++;
    return LC_OK;
}

int ld_state_load_failed(ld_state_t *s, const lc_id_t *id, int result)
{
    return ld_table_put(&s->failed, id, (void *)(uintptr_t)(result + 1));
}
