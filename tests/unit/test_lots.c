/*
 * test_lots.c: unit tests for lot-tracked points (ld_lots, through ld_state):
 * consumption in expiry order, holds reserving specific lots and a partial post
 * giving the unused points back to the latest-consumed lots, refunds landing in
 * the very lots (and expiries) they came from, expiry to the breakage account
 * (boundary inclusive, idempotent, limited), and debt repaid from new lots.
 * Invariant I3 (sum of lot remaining + points reserved by holds = balance + debt)
 * and I1 are checked after every batch, as is the batch's journal.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "lc_err.h"
#include "lc_ledger_msg.h"
#include "ld_chain.h"
#include "ld_lots.h"
#include "ld_state.h"

#define T0 INT64_C(1700000000000000) /* Unix microseconds */
#define SEC INT64_C(1000000)
#define DAY (86400 * SEC)
#define T1 (T0 + 10 * DAY) /* lot expiries, in order */
#define T2 (T0 + 20 * DAY)
#define T3 (T0 + 30 * DAY)

enum {
    M1 = 1,       /* member: no overdraft, lots */
    M2 = 2,       /* member: no overdraft, lots */
    ISSUE = 100,  /* partner issuance */
    REDEEM = 200, /* partner redemption */
    BREAK = 400,  /* coalition breakage */
};

#define MEMBER_FLAGS (LD_AF_DEBITS_MUST_NOT_EXCEED_CREDITS | LD_AF_LOTS)

/* ---- helpers (the journal and book checks match test_ledger_state.c) ------------------- */

/* An id whose last eight bytes hold n (big-endian), the rest zero. */
static lc_id_t id(uint64_t n)
{
    lc_id_t x;
    memset(&x, 0, sizeof x);
    for (int i = 0; i < 8; i++)
        x.b[15 - i] = (uint8_t)(n >> (8 * i));
    return x;
}

static int64_t g_seq0;
static uint8_t g_head0[32];

static void begin(ld_state_t *s)
{
    ld_state_begin_batch(s);
    g_seq0 = s->next_seq;
    memcpy(g_head0, s->head, sizeof g_head0);
}

static void check_journal(const ld_state_t *s)
{
    const ld_batch_t *b = &s->batch;
    const uint8_t *prev = g_head0;
    for (size_t i = 0; i < b->nentries; i++) {
        const ld_entry_t *e = &b->entries[i];
        assert_int_equal(e->seq, g_seq0 + (int64_t)i);
        assert_int_equal(ld_chain_check(e, prev), LC_OK);
        prev = e->hash;
    }
    assert_int_equal(s->next_seq, g_seq0 + (int64_t)b->nentries);
    assert_memory_equal(s->head, prev, 32);
}

static int64_t reserved(const ld_state_t *s, const ld_account_t *a)
{
    int64_t sum = 0;
    for (size_t i = 0; i < s->xfers.cap; i++) {
        const ld_xfer_t *x = s->xfers.slots[i].value;
        if (x && x->pstate == LD_PS_PENDING && lc_id_eq(&x->t.debit_account_id, &a->id))
            sum += x->t.amount;
    }
    return sum;
}

/* I3 for one account, and its list is in consumption order. */
static void check_lots(const ld_state_t *s, const ld_account_t *a)
{
    int64_t rem = 0;
    const ld_lot_t *prev = NULL;
    for (const ld_lot_t *lot = a->lots; lot; lot = lot->next) {
        assert_true(lc_id_eq(&lot->account_id, &a->id));
        assert_ptr_equal(ld_table_get(&s->lots, &lot->id), lot);
        assert_true(lot->remaining >= 0 && lot->remaining <= lot->amount);
        if (prev) {
            int64_t ep = prev->expires_at ? prev->expires_at : INT64_MAX;
            int64_t el = lot->expires_at ? lot->expires_at : INT64_MAX;
            assert_true(ep < el || (ep == el && prev->created_seq < lot->created_seq));
        }
        rem += lot->remaining;
        prev = lot;
    }
    assert_true(a->debt >= 0);
    assert_true(a->debt == 0 || rem == 0);
    assert_int_equal(rem + reserved(s, a), a->credits_posted - a->debits_posted + a->debt);
}

static void check_books(const ld_state_t *s)
{
    int64_t net = 0, dpend = 0, cpend = 0;
    size_t nlots = 0;
    for (size_t i = 0; i < s->accounts.cap; i++) {
        const ld_account_t *a = s->accounts.slots[i].value;
        if (!a)
            continue;
        net += a->credits_posted - a->debits_posted;
        dpend += a->debits_pending;
        cpend += a->credits_pending;
        if (a->flags & LD_AF_LOTS)
            check_lots(s, a);
        for (const ld_lot_t *lot = a->lots; lot; lot = lot->next)
            nlots++;
    }
    assert_int_equal(net, 0);
    assert_int_equal(dpend, cpend);
    assert_int_equal(nlots, s->lots.count);
}

static void finish(ld_state_t *s)
{
    check_journal(s);
    check_books(s);
    ld_state_commit_batch(s);
}

static void done(ld_state_t **s_p)
{
    check_books(*s_p);
    ld_state_destroy(s_p);
    assert_null(*s_p);
}

static ld_account_new_t acct(uint64_t n, int kind, uint32_t flags)
{
    ld_account_new_t a;
    memset(&a, 0, sizeof a);
    a.id = id(n);
    a.kind = kind;
    a.flags = flags;
    return a;
}

static ld_state_t *fresh(void)
{
    ld_state_t *s = ld_state_new();
    assert_non_null(s);
    ld_account_new_t a[] = {
        acct(M1, LD_KIND_MEMBER, MEMBER_FLAGS),     acct(M2, LD_KIND_MEMBER, MEMBER_FLAGS),
        acct(ISSUE, LD_KIND_PARTNER_ISSUANCE, 0),   acct(REDEEM, LD_KIND_PARTNER_REDEMPTION, 0),
        acct(BREAK, LD_KIND_COALITION_BREAKAGE, 0),
    };
    ld_result_item_t r[5];
    begin(s);
    assert_int_equal(ld_state_create_accounts(s, a, 5, T0, r), LC_OK);
    for (int i = 0; i < 5; i++)
        assert_int_equal(r[i].result, LD_OK);
    finish(s);
    return s;
}

static ld_transfer_t xf(uint64_t tid, uint64_t dr, uint64_t cr, int64_t amount)
{
    ld_transfer_t t;
    memset(&t, 0, sizeof t);
    t.id = id(tid);
    if (dr)
        t.debit_account_id = id(dr);
    if (cr)
        t.credit_account_id = id(cr);
    t.amount = amount;
    return t;
}

static int submit1(ld_state_t *s, ld_transfer_t t, int64_t now)
{
    ld_result_item_t r;
    begin(s);
    assert_int_equal(ld_state_create_transfers(s, &t, 1, now, &r), LC_OK);
    finish(s);
    return r.result;
}

/* Credits a member a lot of amount expiring at expires_at (0 = never). */
static void earn(ld_state_t *s, uint64_t tid, uint64_t member, int64_t amount, int64_t expires_at,
                 int64_t now)
{
    ld_transfer_t t = xf(tid, ISSUE, member, amount);
    t.expires_at = expires_at;
    assert_int_equal(submit1(s, t, now), LD_OK);
}

static void spend(ld_state_t *s, uint64_t tid, uint64_t member, int64_t amount, int64_t now)
{
    assert_int_equal(submit1(s, xf(tid, member, REDEEM, amount), now), LD_OK);
}

static int hold(ld_state_t *s, uint64_t tid, uint64_t member, int64_t amount, uint32_t timeout,
                int64_t now)
{
    ld_transfer_t t = xf(tid, member, REDEEM, amount);
    t.flags = LD_TF_PENDING;
    t.timeout = timeout;
    return submit1(s, t, now);
}

static int resolve(ld_state_t *s, uint64_t tid, uint64_t pending, uint32_t flag, int64_t amount,
                   int64_t now)
{
    ld_transfer_t t = xf(tid, 0, 0, amount);
    t.flags = flag;
    t.pending_id = id(pending);
    return submit1(s, t, now);
}

static int reverse(ld_state_t *s, uint64_t tid, uint64_t dr, uint64_t cr, int64_t amount,
                   uint64_t reverses, int64_t now)
{
    ld_transfer_t t = xf(tid, dr, cr, amount);
    t.reverses = id(reverses);
    return submit1(s, t, now);
}

static ld_lot_t *lot_of(const ld_state_t *s, uint64_t n)
{
    lc_id_t k = id(n);
    return ld_table_get(&s->lots, &k);
}

/* Remaining points of the lot created by transfer n. */
static int64_t rem(const ld_state_t *s, uint64_t n)
{
    const ld_lot_t *lot = lot_of(s, n);
    assert_non_null(lot);
    return lot->remaining;
}

static ld_account_t *account(const ld_state_t *s, uint64_t n)
{
    lc_id_t k = id(n);
    ld_account_t *a = ld_state_account(s, &k);
    assert_non_null(a);
    return a;
}

static int64_t balance(const ld_state_t *s, uint64_t n)
{
    const ld_account_t *a = account(s, n);
    return a->credits_posted - a->debits_posted;
}

static ld_xfer_t *xfer(const ld_state_t *s, uint64_t n)
{
    lc_id_t k = id(n);
    return ld_state_xfer(s, &k);
}

/* Runs one expiry call as its own batch. */
static int expire(ld_state_t *s, int64_t as_of, int64_t limit, int64_t now, ld_expire_rep_t *rep)
{
    ld_expire_req_t req = {
        .as_of = as_of, .breakage_account_id = id(BREAK), .code = 9, .limit = limit};
    begin(s);
    int rc = ld_state_expire_lots(s, &req, now, rep);
    finish(s);
    return rc;
}

/* ---- consumption order ------------------------------------------------------------------- */

static void lots_fifo_by_expiry(void **state)
{
    (void)state;
    ld_state_t *s = fresh();
    earn(s, 13, M1, 10, T3, T0 + 1 * SEC);
    earn(s, 11, M1, 10, T1, T0 + 2 * SEC);
    earn(s, 10, M1, 10, 0, T0 + 3 * SEC);
    earn(s, 12, M1, 10, T2, T0 + 4 * SEC);
    const ld_account_t *a = account(s, M1);
    assert_ptr_equal(a->lots, lot_of(s, 11));
    assert_ptr_equal(a->lots->next, lot_of(s, 12));
    assert_ptr_equal(a->lots->next->next, lot_of(s, 13));
    assert_ptr_equal(a->lots->next->next->next, lot_of(s, 10));
    assert_int_equal(lot_of(s, 13)->expires_at, T3);

    spend(s, 20, M1, 5, T0 + 5 * SEC);
    assert_int_equal(rem(s, 11), 5);
    assert_int_equal(rem(s, 12), 10);

    /* One debit across two lots: two allocation rows, owned by the debit. */
    begin(s);
    ld_transfer_t t = xf(21, M1, REDEEM, 10);
    ld_result_item_t r;
    assert_int_equal(ld_state_create_transfers(s, &t, 1, T0 + 6 * SEC, &r), LC_OK);
    assert_int_equal(r.result, LD_OK);
    assert_int_equal(s->batch.nallocs, 2);
    lc_id_t l11 = id(11), l12 = id(12);
    assert_true(lc_id_eq(&s->batch.allocs[0].lot_id, &l11));
    assert_int_equal(s->batch.allocs[0].amount, 5);
    assert_true(lc_id_eq(&s->batch.allocs[1].lot_id, &l12));
    assert_int_equal(s->batch.allocs[1].amount, 5);
    for (int i = 0; i < 2; i++) {
        assert_true(lc_id_eq(&s->batch.allocs[i].origin_id, &t.id));
        assert_true(lc_id_eq(&s->batch.allocs[i].transfer_id, &t.id));
        assert_int_equal(s->batch.allocs[i].seq, r.seq);
    }
    assert_int_equal(s->batch.nlots, 2);
    finish(s);
    assert_int_equal(xfer(s, 21)->nallocs, 2);
    assert_int_equal(rem(s, 11), 0);
    assert_int_equal(rem(s, 12), 5);

    spend(s, 22, M1, 12, T0 + 7 * SEC);
    assert_int_equal(rem(s, 12), 0);
    assert_int_equal(rem(s, 13), 3);
    assert_int_equal(rem(s, 10), 10);
    spend(s, 23, M1, 8, T0 + 8 * SEC);
    assert_int_equal(rem(s, 13), 0);
    assert_int_equal(rem(s, 10), 5);
    assert_int_equal(submit1(s, xf(24, M1, REDEEM, 6), T0 + 9 * SEC), LD_EXCEEDS_CREDITS);
    spend(s, 25, M1, 5, T0 + 10 * SEC);
    assert_int_equal(ld_lots_remaining(a), 0);
    assert_int_equal(balance(s, M1), 0);
    done(&s);
}

/* Equal expiries (and never-expiring lots) are consumed oldest first. */
static void lots_ties_by_age(void **state)
{
    (void)state;
    ld_state_t *s = fresh();
    earn(s, 30, M1, 10, 0, T0 + 1 * SEC);
    earn(s, 31, M1, 10, T1, T0 + 2 * SEC);
    earn(s, 32, M1, 10, 0, T0 + 3 * SEC);
    earn(s, 33, M1, 10, T1, T0 + 4 * SEC);
    spend(s, 40, M1, 15, T0 + 5 * SEC);
    assert_int_equal(rem(s, 31), 0);
    assert_int_equal(rem(s, 33), 5);
    assert_int_equal(rem(s, 30), 10);
    spend(s, 41, M1, 10, T0 + 6 * SEC);
    assert_int_equal(rem(s, 33), 0);
    assert_int_equal(rem(s, 30), 5);
    assert_int_equal(rem(s, 32), 10);
    done(&s);
}

/* A member-to-member transfer consumes the sender's lots and makes a lot for the
 * receiver with the expiry the transfer names. */
static void lots_member_to_member(void **state)
{
    (void)state;
    ld_state_t *s = fresh();
    earn(s, 10, M1, 20, T1, T0 + SEC);
    ld_transfer_t t = xf(11, M1, M2, 15);
    t.expires_at = T2;
    assert_int_equal(submit1(s, t, T0 + 2 * SEC), LD_OK);
    assert_int_equal(rem(s, 10), 5);
    assert_int_equal(rem(s, 11), 15);
    assert_int_equal(lot_of(s, 11)->expires_at, T2);
    lc_id_t m2 = id(M2);
    assert_true(lc_id_eq(&lot_of(s, 11)->account_id, &m2));
    /* An expiry needs a lots account on the credit side. */
    ld_transfer_t bad = xf(12, M1, REDEEM, 1);
    bad.expires_at = T2;
    assert_int_equal(submit1(s, bad, T0 + 3 * SEC), LD_EXPIRES_AT_REQUIRES_LOTS_CREDIT);
    done(&s);
}

/* ---- holds ------------------------------------------------------------------------------ */

static void lots_hold_reserves_and_partial_post_releases_latest(void **state)
{
    (void)state;
    ld_state_t *s = fresh();
    earn(s, 11, M1, 10, T1, T0 + 1 * SEC);
    earn(s, 12, M1, 10, T2, T0 + 2 * SEC);
    earn(s, 13, M1, 10, T3, T0 + 3 * SEC);

    assert_int_equal(hold(s, 50, M1, 25, 0, T0 + 4 * SEC), LD_OK);
    assert_int_equal(rem(s, 11), 0);
    assert_int_equal(rem(s, 12), 0);
    assert_int_equal(rem(s, 13), 5);
    ld_xfer_t *h = xfer(s, 50);
    assert_int_equal(h->nallocs, 3);
    assert_ptr_equal(h->allocs[0].lot, lot_of(s, 11));
    assert_int_equal(h->allocs[0].amount, 10);
    assert_ptr_equal(h->allocs[2].lot, lot_of(s, 13));
    assert_int_equal(h->allocs[2].amount, 5);
    assert_int_equal(balance(s, M1), 30);

    /* Post 12: the 13 unused go back to the latest-consumed lots first. */
    assert_int_equal(resolve(s, 51, 50, LD_TF_POST_PENDING, 12, T0 + 5 * SEC), LD_OK);
    assert_int_equal(rem(s, 13), 10);
    assert_int_equal(rem(s, 12), 8);
    assert_int_equal(rem(s, 11), 0);
    assert_int_equal(balance(s, M1), 18);
    assert_int_equal(account(s, M1)->debits_pending, 0);
    /* The give-backs are recorded against the hold (negative movements). */
    assert_int_equal(h->nallocs, 5);
    assert_int_equal(h->allocs[3].amount + h->allocs[4].amount, -13);
    done(&s);
}

static void lots_void_releases_all(void **state)
{
    (void)state;
    ld_state_t *s = fresh();
    earn(s, 11, M1, 10, T1, T0 + 1 * SEC);
    earn(s, 12, M1, 10, T2, T0 + 2 * SEC);
    assert_int_equal(hold(s, 50, M1, 15, 0, T0 + 3 * SEC), LD_OK);
    assert_int_equal(submit1(s, xf(52, M1, REDEEM, 6), T0 + 4 * SEC), LD_EXCEEDS_CREDITS);
    assert_int_equal(resolve(s, 51, 50, LD_TF_VOID_PENDING, 0, T0 + 5 * SEC), LD_OK);
    assert_int_equal(rem(s, 11), 10);
    assert_int_equal(rem(s, 12), 10);
    assert_int_equal(lot_of(s, 11)->expires_at, T1);
    assert_int_equal(balance(s, M1), 20);
    done(&s);
}

static void lots_timeout_releases_all(void **state)
{
    (void)state;
    ld_state_t *s = fresh();
    earn(s, 11, M1, 10, T1, T0 + 1 * SEC);
    assert_int_equal(hold(s, 50, M1, 7, 60, T0 + 2 * SEC), LD_OK);
    assert_int_equal(rem(s, 11), 3);
    begin(s);
    assert_int_equal(ld_state_expire_holds(s, T0 + 62 * SEC), 1);
    finish(s);
    assert_int_equal(rem(s, 11), 10);
    assert_int_equal(xfer(s, 50)->pstate, LD_PS_EXPIRED);
    done(&s);
}

/* A hold crediting a lots account makes the lot only when posted, with the hold's
 * expiry, for the posted amount. */
static void lots_post_credits_lot(void **state)
{
    (void)state;
    ld_state_t *s = fresh();
    ld_transfer_t t = xf(50, ISSUE, M1, 50);
    t.flags = LD_TF_PENDING;
    t.expires_at = T1;
    assert_int_equal(submit1(s, t, T0 + SEC), LD_OK);
    assert_null(account(s, M1)->lots);
    assert_int_equal(resolve(s, 51, 50, LD_TF_POST_PENDING, 30, T0 + 2 * SEC), LD_OK);
    assert_null(lot_of(s, 50));
    assert_int_equal(rem(s, 51), 30);
    assert_int_equal(lot_of(s, 51)->expires_at, T1);
    assert_int_equal(balance(s, M1), 30);

    t.id = id(52);
    assert_int_equal(submit1(s, t, T0 + 3 * SEC), LD_OK);
    assert_int_equal(resolve(s, 53, 52, LD_TF_VOID_PENDING, 0, T0 + 4 * SEC), LD_OK);
    assert_int_equal(s->lots.count, 1);
    done(&s);
}

/* ---- refunds ------------------------------------------------------------------------------ */

static void lots_refund_of_debit_recredits_original_lots(void **state)
{
    (void)state;
    ld_state_t *s = fresh();
    earn(s, 11, M1, 10, T1, T0 + 1 * SEC);
    earn(s, 12, M1, 10, T2, T0 + 2 * SEC);
    spend(s, 20, M1, 15, T0 + 3 * SEC);
    assert_int_equal(rem(s, 11), 0);
    assert_int_equal(rem(s, 12), 5);
    size_t nlots = s->lots.count;

    /* Latest-consumed lot first. */
    assert_int_equal(reverse(s, 21, REDEEM, M1, 6, 20, T0 + 4 * SEC), LD_OK);
    assert_int_equal(rem(s, 12), 10);
    assert_int_equal(rem(s, 11), 1);
    assert_int_equal(lot_of(s, 11)->expires_at, T1);
    assert_int_equal(lot_of(s, 12)->expires_at, T2);
    assert_int_equal(s->lots.count, nlots); /* no new lot */

    assert_int_equal(reverse(s, 22, REDEEM, M1, 9, 20, T0 + 5 * SEC), LD_OK);
    assert_int_equal(rem(s, 11), 10);
    assert_int_equal(rem(s, 12), 10);
    assert_int_equal(reverse(s, 23, REDEEM, M1, 1, 20, T0 + 6 * SEC), LD_EXCEEDS_REVERSIBLE_AMOUNT);
    assert_int_equal(s->lots.count, nlots);
    assert_int_equal(balance(s, M1), 20);
    done(&s);
}

static void lots_refund_of_post_recredits_original_lots(void **state)
{
    (void)state;
    ld_state_t *s = fresh();
    earn(s, 11, M1, 10, T1, T0 + 1 * SEC);
    earn(s, 12, M1, 10, T2, T0 + 2 * SEC);
    assert_int_equal(hold(s, 50, M1, 15, 0, T0 + 3 * SEC), LD_OK);
    assert_int_equal(resolve(s, 51, 50, LD_TF_POST_PENDING, 12, T0 + 4 * SEC), LD_OK);
    assert_int_equal(rem(s, 11), 0);
    assert_int_equal(rem(s, 12), 8);
    size_t nlots = s->lots.count;

    assert_int_equal(reverse(s, 52, REDEEM, M1, 12, 51, T0 + 5 * SEC), LD_OK);
    assert_int_equal(rem(s, 11), 10);
    assert_int_equal(rem(s, 12), 10);
    assert_int_equal(lot_of(s, 11)->expires_at, T1);
    assert_int_equal(s->lots.count, nlots);
    assert_int_equal(balance(s, M1), 20);
    done(&s);
}

/* A reversal of a credit takes the points from the lot that credit created. */
static void lots_reversal_of_credit_takes_its_own_lot(void **state)
{
    (void)state;
    ld_state_t *s = fresh();
    earn(s, 11, M1, 10, T1, T0 + 1 * SEC);
    earn(s, 12, M1, 10, T2, T0 + 2 * SEC);
    earn(s, 13, M1, 10, T3, T0 + 3 * SEC);
    assert_int_equal(reverse(s, 20, M1, ISSUE, 4, 12, T0 + 4 * SEC), LD_OK);
    assert_int_equal(rem(s, 11), 10);
    assert_int_equal(rem(s, 12), 6);
    assert_int_equal(rem(s, 13), 10);
    /* More than is left in that lot: the rest comes in consumption order. */
    spend(s, 21, M1, 13, T0 + 5 * SEC);
    assert_int_equal(rem(s, 11), 0);
    assert_int_equal(rem(s, 12), 3);
    assert_int_equal(reverse(s, 22, M1, ISSUE, 6, 12, T0 + 6 * SEC), LD_OK);
    assert_int_equal(rem(s, 12), 0);
    assert_int_equal(rem(s, 13), 7);
    assert_int_equal(account(s, M1)->debt, 0);
    assert_int_equal(balance(s, M1), 7);
    done(&s);
}

/* ---- expiry -------------------------------------------------------------------------------- */

static void lots_expire_moves_due_lots_to_breakage(void **state)
{
    (void)state;
    ld_state_t *s = fresh();
    earn(s, 11, M1, 10, T1, T0 + 1 * SEC);
    earn(s, 12, M1, 10, T2, T0 + 2 * SEC);
    earn(s, 13, M1, 10, T3, T0 + 3 * SEC);
    earn(s, 10, M1, 10, 0, T0 + 4 * SEC);
    earn(s, 21, M2, 7, T2, T0 + 5 * SEC);
    spend(s, 30, M1, 4, T0 + 6 * SEC);

    ld_expire_rep_t rep;
    assert_int_equal(expire(s, T1 - 1, 0, T0 + 7 * SEC, &rep), LC_OK);
    assert_int_equal(rep.nresults, 0);
    assert_int_equal(rep.points, 0);
    lc_codec_clear(&ld_expire_rep_desc, &rep);

    begin(s);
    ld_expire_req_t req = {.as_of = T2, .breakage_account_id = id(BREAK), .code = 9};
    assert_int_equal(ld_state_expire_lots(s, &req, T2 + SEC, &rep), LC_OK);
    assert_int_equal(rep.nresults, 3); /* 11, 12 and M2's 21; T2 itself is due */
    assert_int_equal(rep.points, 6 + 10 + 7);
    assert_false(rep.more);
    assert_int_equal(s->batch.nentries, 3);
    for (size_t i = 0; i < rep.nresults; i++) {
        const ld_entry_t *e = &s->batch.entries[i];
        assert_int_equal(rep.results[i].result, LD_OK);
        assert_int_equal(rep.results[i].seq, e->seq);
        assert_true(lc_id_eq(&rep.results[i].id, &e->id));
        assert_int_equal(e->flags, LD_TF_EXPIRY);
        assert_int_equal(e->code, 9);
        lc_id_t brk = id(BREAK), want;
        assert_true(lc_id_eq(&e->credit_account_id, &brk));
        /* The id is derived from the lot it expired, named in user_data. */
        lc_id_derive(&e->user_data, "expiry:0", &want);
        assert_true(lc_id_eq(&e->id, &want));
        const ld_lot_t *lot = ld_table_get(&s->lots, &e->user_data);
        assert_non_null(lot);
        assert_true(lc_id_eq(&e->debit_account_id, &lot->account_id));
        assert_non_null(ld_state_xfer(s, &e->id));
    }
    finish(s);
    lc_codec_clear(&ld_expire_rep_desc, &rep);

    assert_int_equal(rem(s, 11), 0);
    assert_int_equal(rem(s, 12), 0);
    assert_int_equal(rem(s, 21), 0);
    assert_int_equal(rem(s, 13), 10);
    assert_int_equal(rem(s, 10), 10);
    assert_int_equal(balance(s, M1), 20);
    assert_int_equal(balance(s, M2), 0);
    assert_int_equal(balance(s, BREAK), 23);

    /* Idempotent: the same call again expires nothing. */
    assert_int_equal(expire(s, T2, 0, T2 + 2 * SEC, &rep), LC_OK);
    assert_int_equal(rep.nresults, 0);
    assert_int_equal(rep.points, 0);
    lc_codec_clear(&ld_expire_rep_desc, &rep);
    assert_int_equal(balance(s, BREAK), 23);

    /* Never-expiring lots never expire. */
    assert_int_equal(expire(s, INT64_MAX, 0, T3 + SEC, &rep), LC_OK);
    assert_int_equal(rep.nresults, 1);
    assert_int_equal(rep.points, 10);
    lc_codec_clear(&ld_expire_rep_desc, &rep);
    assert_int_equal(rem(s, 10), 10);
    assert_int_equal(balance(s, M1), 10);
    done(&s);
}

static void lots_expire_limit_reports_more(void **state)
{
    (void)state;
    ld_state_t *s = fresh();
    for (uint64_t i = 0; i < 5; i++)
        earn(s, 10 + i, M1, 1 + (int64_t)i, T1 + (int64_t)i, T0 + (int64_t)(i + 1) * SEC);
    ld_expire_rep_t rep;
    int64_t total = 0;
    size_t calls = 0, want_n[] = {2, 2, 1, 0};
    bool want_more[] = {true, true, false, false};
    for (calls = 0; calls < 4; calls++) {
        assert_int_equal(expire(s, T3, 2, T3 + (int64_t)calls, &rep), LC_OK);
        assert_int_equal(rep.nresults, want_n[calls]);
        assert_int_equal(rep.more, want_more[calls]);
        total += rep.points;
        lc_codec_clear(&ld_expire_rep_desc, &rep);
    }
    assert_int_equal(total, 1 + 2 + 3 + 4 + 5);
    assert_int_equal(balance(s, M1), 0);
    assert_int_equal(balance(s, BREAK), 15);
    done(&s);
}

static void lots_expire_refuses_bad_breakage_account(void **state)
{
    (void)state;
    ld_state_t *s = fresh();
    earn(s, 10, M1, 5, T1, T0 + SEC);
    ld_expire_rep_t rep;
    ld_expire_req_t req = {.as_of = T2, .breakage_account_id = id(999)};
    begin(s);
    assert_int_equal(ld_state_expire_lots(s, &req, T2, &rep), LC_ERR_NOT_FOUND);
    lc_codec_clear(&ld_expire_rep_desc, &rep);
    req.breakage_account_id = id(M2);
    assert_int_equal(ld_state_expire_lots(s, &req, T2, &rep), LC_ERR_INVALID);
    lc_codec_clear(&ld_expire_rep_desc, &rep);
    assert_int_equal(s->batch.nentries, 0);
    finish(s);
    assert_int_equal(rem(s, 10), 5);
    done(&s);
}

/* Points a hold reserves do not expire; released into an expired lot later, they
 * expire on the next run under a new id. */
static void lots_expire_skips_reserved_points(void **state)
{
    (void)state;
    ld_state_t *s = fresh();
    earn(s, 10, M1, 10, T1, T0 + SEC);
    assert_int_equal(hold(s, 50, M1, 4, 0, T0 + 2 * SEC), LD_OK);
    ld_expire_rep_t rep;
    assert_int_equal(expire(s, T1, 0, T1, &rep), LC_OK);
    assert_int_equal(rep.nresults, 1);
    assert_int_equal(rep.points, 6);
    lc_id_t first = rep.results[0].id;
    lc_codec_clear(&ld_expire_rep_desc, &rep);
    assert_int_equal(rem(s, 10), 0);
    assert_int_equal(balance(s, M1), 4);

    assert_int_equal(resolve(s, 51, 50, LD_TF_VOID_PENDING, 0, T1 + SEC), LD_OK);
    assert_int_equal(rem(s, 10), 4);
    assert_int_equal(expire(s, T1, 0, T1 + 2 * SEC, &rep), LC_OK);
    assert_int_equal(rep.nresults, 1);
    assert_int_equal(rep.points, 4);
    lc_id_t lot = id(10), want;
    lc_id_derive(&lot, "expiry:1", &want);
    assert_true(lc_id_eq(&rep.results[0].id, &want));
    assert_false(lc_id_eq(&rep.results[0].id, &first));
    lc_codec_clear(&ld_expire_rep_desc, &rep);
    assert_int_equal(balance(s, M1), 0);
    assert_int_equal(balance(s, BREAK), 10);
    done(&s);
}

/* ---- debt -------------------------------------------------------------------------------- */

static void lots_debt_repaid_from_new_lots(void **state)
{
    (void)state;
    ld_state_t *s = fresh();
    earn(s, 10, M1, 100, 0, T0 + 1 * SEC);
    spend(s, 11, M1, 80, T0 + 2 * SEC);
    assert_int_equal(reverse(s, 12, M1, ISSUE, 100, 10, T0 + 3 * SEC), LD_OK);
    const ld_account_t *a = account(s, M1);
    assert_int_equal(a->debt, 80);
    assert_int_equal(ld_lots_remaining(a), 0);
    assert_int_equal(balance(s, M1), -80);

    /* A new lot pays the debt first; the repayment is an unowned movement. */
    begin(s);
    ld_transfer_t t = xf(13, ISSUE, M1, 50);
    t.expires_at = T1;
    ld_result_item_t r;
    assert_int_equal(ld_state_create_transfers(s, &t, 1, T0 + 4 * SEC, &r), LC_OK);
    assert_int_equal(r.result, LD_OK);
    assert_int_equal(s->batch.nallocs, 1);
    static const lc_id_t zero;
    assert_true(lc_id_eq(&s->batch.allocs[0].origin_id, &zero));
    assert_int_equal(s->batch.allocs[0].amount, 50);
    finish(s);
    assert_int_equal(a->debt, 30);
    assert_int_equal(rem(s, 13), 0);
    assert_int_equal(lot_of(s, 13)->amount, 50);

    earn(s, 14, M1, 40, T2, T0 + 5 * SEC);
    assert_int_equal(a->debt, 0);
    assert_int_equal(rem(s, 14), 10);
    assert_int_equal(balance(s, M1), 10);
    spend(s, 15, M1, 10, T0 + 6 * SEC);
    assert_int_equal(submit1(s, xf(16, M1, REDEEM, 1), T0 + 7 * SEC), LD_EXCEEDS_CREDITS);
    done(&s);
}

/* A refund that lands while the member is in debt repays the debt from it. */
static void lots_refund_repays_debt(void **state)
{
    (void)state;
    ld_state_t *s = fresh();
    earn(s, 10, M1, 100, T1, T0 + 1 * SEC);
    spend(s, 11, M1, 80, T0 + 2 * SEC);
    assert_int_equal(reverse(s, 12, M1, ISSUE, 100, 10, T0 + 3 * SEC), LD_OK);
    assert_int_equal(account(s, M1)->debt, 80);
    assert_int_equal(reverse(s, 13, REDEEM, M1, 50, 11, T0 + 4 * SEC), LD_OK);
    assert_int_equal(account(s, M1)->debt, 30);
    assert_int_equal(balance(s, M1), -30);
    assert_int_equal(ld_lots_remaining(account(s, M1)), 0);
    assert_int_equal(reverse(s, 14, REDEEM, M1, 30, 11, T0 + 5 * SEC), LD_OK);
    assert_int_equal(account(s, M1)->debt, 0);
    assert_int_equal(balance(s, M1), 0);
    done(&s);
}

/* ---- rollback ---------------------------------------------------------------------------- */

/* A failed chain gives every lot movement back and leaks nothing (ASan). */
static void lots_chain_rollback_restores_lots(void **state)
{
    (void)state;
    ld_state_t *s = fresh();
    earn(s, 10, M1, 10, T1, T0 + 1 * SEC);
    earn(s, 11, M1, 10, T2, T0 + 2 * SEC);
    size_t nlots = s->lots.count;
    ld_transfer_t in[4] = {xf(20, M1, REDEEM, 15), xf(21, ISSUE, M1, 5), xf(22, M1, M2, 3),
                           xf(23, M2, REDEEM, 100)};
    in[0].flags = in[1].flags = in[2].flags = LD_TF_LINKED;
    in[1].expires_at = T3;
    ld_transfer_t h = xf(24, M1, REDEEM, 1);
    h.flags = LD_TF_PENDING | LD_TF_LINKED;
    ld_transfer_t all[5] = {h, in[0], in[1], in[2], in[3]};
    ld_result_item_t r[5];
    begin(s);
    assert_int_equal(ld_state_create_transfers(s, all, 5, T0 + 3 * SEC, r), LC_OK);
    assert_int_equal(r[4].result, LD_EXCEEDS_CREDITS);
    for (int i = 0; i < 4; i++)
        assert_int_equal(r[i].result, LD_LINKED_EVENT_FAILED);
    assert_int_equal(s->batch.nentries, 0);
    assert_int_equal(s->batch.nallocs, 0);
    assert_int_equal(s->batch.nlots, 0);
    assert_int_equal(s->batch.npendings, 0);
    finish(s);
    assert_int_equal(rem(s, 10), 10);
    assert_int_equal(rem(s, 11), 10);
    assert_int_equal(s->lots.count, nlots);
    assert_null(lot_of(s, 21));
    assert_null(account(s, M2)->lots);
    assert_int_equal(s->nholds, 0);
    done(&s);
}

/* An aborted batch leaves every lot, list and reservation as it was. */
static void lots_abort_restores_lots(void **state)
{
    (void)state;
    ld_state_t *s = fresh();
    earn(s, 10, M1, 10, T1, T0 + 1 * SEC);
    earn(s, 11, M1, 10, T3, T0 + 2 * SEC);
    assert_int_equal(hold(s, 50, M1, 5, 0, T0 + 3 * SEC), LD_OK);
    spend(s, 12, M1, 2, T0 + 4 * SEC);
    ld_lot_t l10 = *lot_of(s, 10), l11 = *lot_of(s, 11);
    ld_account_t a = *account(s, M1);
    uint32_t hold_nallocs = xfer(s, 50)->nallocs;
    size_t nlots = s->lots.count;

    begin(s);
    ld_transfer_t in[5] = {xf(20, ISSUE, M1, 7), xf(21, M1, REDEEM, 9), xf(22, 0, 0, 0),
                           xf(23, REDEEM, M1, 2), xf(24, M1, ISSUE, 3)};
    in[0].expires_at = T2; /* lands between the two lots */
    in[2].flags = LD_TF_POST_PENDING;
    in[2].pending_id = id(50);
    in[2].amount = 1;
    in[3].reverses = id(12);
    in[4].reverses = id(10);
    ld_result_item_t r[5];
    assert_int_equal(ld_state_create_transfers(s, in, 5, T0 + 5 * SEC, r), LC_OK);
    for (int i = 0; i < 5; i++)
        assert_int_equal(r[i].result, LD_OK);
    ld_expire_req_t req = {.as_of = T3, .breakage_account_id = id(BREAK)};
    ld_expire_rep_t rep;
    assert_int_equal(ld_state_expire_lots(s, &req, T3, &rep), LC_OK);
    assert_true(rep.nresults >= 2);
    lc_codec_clear(&ld_expire_rep_desc, &rep);
    check_books(s);
    ld_state_abort_batch(s);

    assert_memory_equal(lot_of(s, 10), &l10, sizeof l10);
    assert_memory_equal(lot_of(s, 11), &l11, sizeof l11);
    assert_memory_equal(account(s, M1), &a, sizeof a);
    assert_int_equal(xfer(s, 50)->nallocs, hold_nallocs);
    assert_int_equal(xfer(s, 50)->pstate, LD_PS_PENDING);
    assert_int_equal(s->lots.count, nlots);
    assert_null(lot_of(s, 20));
    assert_null(xfer(s, 21));
    check_books(s);
    done(&s);
}

/* The lot a hold reserved is hit by a reversal of its credit: the reversal takes
 * what else there is (then debt); the void later gives the points back and they
 * repay the debt first. */
static void lots_reversal_while_held(void **state)
{
    (void)state;
    ld_state_t *s = fresh();
    earn(s, 10, M1, 10, T1, T0 + 1 * SEC);
    earn(s, 11, M1, 5, T2, T0 + 2 * SEC);
    assert_int_equal(hold(s, 50, M1, 10, 0, T0 + 3 * SEC), LD_OK);
    assert_int_equal(rem(s, 10), 0);
    assert_int_equal(reverse(s, 12, M1, ISSUE, 10, 10, T0 + 4 * SEC), LD_OK);
    assert_int_equal(rem(s, 11), 0);
    assert_int_equal(account(s, M1)->debt, 5);
    assert_int_equal(balance(s, M1), 5);
    assert_int_equal(resolve(s, 51, 50, LD_TF_VOID_PENDING, 0, T0 + 5 * SEC), LD_OK);
    assert_int_equal(account(s, M1)->debt, 0);
    assert_int_equal(rem(s, 10), 5);
    assert_int_equal(balance(s, M1), 5);
    spend(s, 52, M1, 5, T0 + 6 * SEC);
    assert_int_equal(balance(s, M1), 0);
    done(&s);
}

/* Two holds on one lot resolve independently. */
static void lots_two_holds_share_a_lot(void **state)
{
    (void)state;
    ld_state_t *s = fresh();
    earn(s, 10, M1, 10, T1, T0 + 1 * SEC);
    earn(s, 11, M1, 10, T2, T0 + 2 * SEC);
    assert_int_equal(hold(s, 50, M1, 6, 0, T0 + 3 * SEC), LD_OK);
    assert_int_equal(hold(s, 51, M1, 6, 0, T0 + 4 * SEC), LD_OK);
    assert_int_equal(rem(s, 10), 0);
    assert_int_equal(rem(s, 11), 8);
    assert_int_equal(resolve(s, 52, 51, LD_TF_POST_PENDING, 1, T0 + 5 * SEC), LD_OK);
    /* 51 took 4 from lot 10 and 2 from lot 11: the 5 unused go to 11 first. */
    assert_int_equal(rem(s, 11), 10);
    assert_int_equal(rem(s, 10), 3);
    assert_int_equal(resolve(s, 53, 50, LD_TF_VOID_PENDING, 0, T0 + 6 * SEC), LD_OK);
    assert_int_equal(rem(s, 10), 9);
    assert_int_equal(balance(s, M1), 19);
    done(&s);
}

/* A hold from one member to another: the post makes a lot for the receiver; its
 * full reversal takes that lot back and refills the sender's lots. */
static void lots_member_to_member_post_reversed(void **state)
{
    (void)state;
    ld_state_t *s = fresh();
    earn(s, 10, M1, 10, T1, T0 + 1 * SEC);
    ld_transfer_t h = xf(50, M1, M2, 8);
    h.flags = LD_TF_PENDING;
    h.expires_at = T3;
    assert_int_equal(submit1(s, h, T0 + 2 * SEC), LD_OK);
    assert_int_equal(resolve(s, 51, 50, LD_TF_POST_PENDING, 0, T0 + 3 * SEC), LD_OK);
    assert_int_equal(rem(s, 10), 2);
    assert_int_equal(rem(s, 51), 8);
    assert_int_equal(lot_of(s, 51)->expires_at, T3);
    assert_int_equal(reverse(s, 52, M2, M1, 8, 51, T0 + 4 * SEC), LD_OK);
    assert_int_equal(rem(s, 51), 0);
    assert_int_equal(rem(s, 10), 10);
    assert_int_equal(balance(s, M1), 10);
    assert_int_equal(balance(s, M2), 0);
    done(&s);
}

/* A failed chain that posted an older hold leaves the hold and its lots as they
 * were; a chain that holds and posts within itself leaves nothing. */
static void lots_chain_rollback_of_post(void **state)
{
    (void)state;
    ld_state_t *s = fresh();
    earn(s, 10, M1, 10, T1, T0 + 1 * SEC);
    earn(s, 11, M1, 10, T2, T0 + 2 * SEC);
    assert_int_equal(hold(s, 50, M1, 15, 0, T0 + 3 * SEC), LD_OK);
    uint32_t nallocs = xfer(s, 50)->nallocs;

    ld_transfer_t in[4] = {xf(51, 0, 0, 3), xf(52, M1, REDEEM, 1), xf(53, 0, 0, 0),
                           xf(54, M2, REDEEM, 1)};
    in[0].flags = LD_TF_POST_PENDING | LD_TF_LINKED;
    in[0].pending_id = id(50);
    in[1].flags = LD_TF_PENDING | LD_TF_LINKED;
    in[2].flags = LD_TF_POST_PENDING | LD_TF_LINKED;
    in[2].pending_id = id(52);
    ld_result_item_t r[4];
    begin(s);
    assert_int_equal(ld_state_create_transfers(s, in, 4, T0 + 4 * SEC, r), LC_OK);
    assert_int_equal(r[3].result, LD_EXCEEDS_CREDITS);
    assert_int_equal(r[0].result, LD_LINKED_EVENT_FAILED);
    finish(s);
    assert_int_equal(xfer(s, 50)->pstate, LD_PS_PENDING);
    assert_int_equal(xfer(s, 50)->nallocs, nallocs);
    assert_null(xfer(s, 52));
    assert_int_equal(rem(s, 10), 0);
    assert_int_equal(rem(s, 11), 5);
    assert_int_equal(account(s, M1)->debits_pending, 15);
    assert_int_equal(s->nholds, 1);
    assert_int_equal(resolve(s, 55, 50, LD_TF_POST_PENDING, 3, T0 + 5 * SEC), LD_OK);
    assert_int_equal(rem(s, 11), 10);
    assert_int_equal(rem(s, 10), 7);
    done(&s);
}

/* Thousands of lots in one batch grow the lot table; an abort shrinks nothing
 * but removes every one of them again. */
static void lots_many_lots_abort_and_commit(void **state)
{
    (void)state;
    ld_state_t *s = fresh();
    enum { N = 5000 };
    size_t cap0 = s->lots.cap;
    for (int round = 0; round < 2; round++) {
        begin(s);
        for (uint64_t i = 0; i < N; i++) {
            ld_transfer_t t = xf(1000 + i, ISSUE, (i % 2) ? M1 : M2, 1);
            t.expires_at = T1 + (int64_t)(i % 13) * DAY;
            ld_result_item_t r;
            assert_int_equal(ld_state_create_transfers(s, &t, 1, T0 + SEC, &r), LC_OK);
            assert_int_equal(r.result, LD_OK);
        }
        ld_transfer_t sp = xf(99, M1, REDEEM, N / 2);
        ld_result_item_t r;
        assert_int_equal(ld_state_create_transfers(s, &sp, 1, T0 + SEC, &r), LC_OK);
        assert_int_equal(r.result, LD_OK);
        assert_true(s->lots.cap > cap0);
        check_journal(s);
        check_books(s);
        if (round == 0) {
            ld_state_abort_batch(s);
            assert_int_equal(s->lots.count, 0);
            assert_null(account(s, M1)->lots);
            assert_null(lot_of(s, 1000));
            assert_null(xfer(s, 99));
            check_books(s);
        } else {
            ld_state_commit_batch(s);
        }
    }
    assert_int_equal(s->lots.count, N);
    assert_int_equal(ld_lots_remaining(account(s, M1)), 0);
    assert_int_equal(ld_lots_remaining(account(s, M2)), N / 2);
    for (uint64_t i = 0; i < N; i++)
        assert_non_null(lot_of(s, 1000 + i));
    done(&s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(lots_fifo_by_expiry),
        cmocka_unit_test(lots_ties_by_age),
        cmocka_unit_test(lots_member_to_member),
        cmocka_unit_test(lots_hold_reserves_and_partial_post_releases_latest),
        cmocka_unit_test(lots_void_releases_all),
        cmocka_unit_test(lots_timeout_releases_all),
        cmocka_unit_test(lots_post_credits_lot),
        cmocka_unit_test(lots_refund_of_debit_recredits_original_lots),
        cmocka_unit_test(lots_refund_of_post_recredits_original_lots),
        cmocka_unit_test(lots_reversal_of_credit_takes_its_own_lot),
        cmocka_unit_test(lots_expire_moves_due_lots_to_breakage),
        cmocka_unit_test(lots_expire_limit_reports_more),
        cmocka_unit_test(lots_expire_refuses_bad_breakage_account),
        cmocka_unit_test(lots_expire_skips_reserved_points),
        cmocka_unit_test(lots_debt_repaid_from_new_lots),
        cmocka_unit_test(lots_refund_repays_debt),
        cmocka_unit_test(lots_chain_rollback_restores_lots),
        cmocka_unit_test(lots_abort_restores_lots),
        cmocka_unit_test(lots_reversal_while_held),
        cmocka_unit_test(lots_two_holds_share_a_lot),
        cmocka_unit_test(lots_member_to_member_post_reversed),
        cmocka_unit_test(lots_chain_rollback_of_post),
        cmocka_unit_test(lots_many_lots_abort_and_commit),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
