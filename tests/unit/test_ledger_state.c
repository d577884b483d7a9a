/*
 * test_ledger_state.c: unit tests for the ledger state machine (ld_state), run
 * directly on memory: accounts, transfers and their idempotency (I6), linked
 * chains (I7), two-phase holds (I4), reversals (I5), overflow, the batch abort
 * that must return memory to exactly the state the database still holds, and the
 * journal (I8). Every batch goes through finish(), which checks the batch's
 * journal entries (gap-free, hash-chained) and the books: double entry (I1), and
 * for lot accounts I3.
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

/* Account numbers of the standard book (fresh()). */
enum {
    M_LOTS = 1,    /* member: no overdraft, lots */
    M_PLAIN = 2,   /* member: no overdraft, no lots */
    ISSUE = 100,   /* partner issuance, may go negative */
    PREPAID = 101, /* partner issuance of a prepaid partner: no overdraft */
    REDEEM = 200,  /* partner redemption */
    BREAK = 400,   /* coalition breakage */
    OPER = 500,    /* operator account, no flags */
};

#define NO_OVERDRAFT LD_AF_DEBITS_MUST_NOT_EXCEED_CREDITS

/* ---- helpers ----------------------------------------------------------------------- */

/* An id whose last eight bytes hold n (big-endian), the rest zero. */
static lc_id_t id(uint64_t n)
{
    lc_id_t x;
    memset(&x, 0, sizeof x);
    for (int i = 0; i < 8; i++)
        x.b[15 - i] = (uint8_t)(n >> (8 * i));
    return x;
}

/* The journal position at the start of the current batch. */
static int64_t g_seq0;
static uint8_t g_head0[32];

static void begin(ld_state_t *s)
{
    ld_state_begin_batch(s);
    g_seq0 = s->next_seq;
    memcpy(g_head0, s->head, sizeof g_head0);
}

/* The batch's entries have consecutive seqs from the batch start, each chained to
 * the previous one, strictly increasing timestamps, and the head is the last. */
static void check_journal(const ld_state_t *s)
{
    const ld_batch_t *b = &s->batch;
    const uint8_t *prev = g_head0;
    for (size_t i = 0; i < b->nentries; i++) {
        const ld_entry_t *e = &b->entries[i];
        assert_int_equal(e->seq, g_seq0 + (int64_t)i);
        assert_memory_equal(e->prev_hash, prev, 32);
        assert_int_equal(ld_chain_check(e, prev), LC_OK);
        if (i > 0)
            assert_true(e->timestamp > b->entries[i - 1].timestamp);
        prev = e->hash;
    }
    assert_int_equal(s->next_seq, g_seq0 + (int64_t)b->nentries);
    assert_memory_equal(s->head, prev, 32);
}

/* Points a lots account's pending holds reserve (I3). */
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

/* I3 for one lots account, and its lot list is well formed. */
static void check_lots(const ld_state_t *s, const ld_account_t *a)
{
    int64_t rem = 0;
    const ld_lot_t *prev = NULL;
    for (const ld_lot_t *lot = a->lots; lot; lot = lot->next) {
        assert_true(lc_id_eq(&lot->account_id, &a->id));
        assert_ptr_equal(ld_table_get(&s->lots, &lot->id), lot);
        assert_true(lot->remaining >= 0);
        assert_true(lot->remaining <= lot->amount);
        if (prev) { /* consumption order */
            int64_t ep = prev->expires_at ? prev->expires_at : INT64_MAX;
            int64_t el = lot->expires_at ? lot->expires_at : INT64_MAX;
            assert_true(ep < el || (ep == el && prev->created_seq < lot->created_seq));
        }
        rem += lot->remaining;
        prev = lot;
    }
    assert_int_equal(rem, ld_lots_remaining(a));
    assert_true(a->debt >= 0);
    assert_true(a->debt == 0 || rem == 0);
    int64_t balance = a->credits_posted - a->debits_posted;
    assert_int_equal(rem + reserved(s, a), balance + a->debt);
}

/* I1 over all accounts (sums modulo 2^64, exact for the values used here), I3
 * for lots accounts, and every lot in the table hangs in its account's list. */
static void check_books(const ld_state_t *s)
{
    uint64_t net = 0, dpend = 0, cpend = 0;
    size_t nlots = 0;
    for (size_t i = 0; i < s->accounts.cap; i++) {
        const ld_account_t *a = s->accounts.slots[i].value;
        if (!a)
            continue;
        assert_true(a->debits_posted >= 0 && a->credits_posted >= 0);
        assert_true(a->debits_pending >= 0 && a->credits_pending >= 0);
        net += (uint64_t)a->credits_posted - (uint64_t)a->debits_posted;
        dpend += (uint64_t)a->debits_pending;
        cpend += (uint64_t)a->credits_pending;
        if (a->flags & LD_AF_LOTS)
            check_lots(s, a);
        else
            assert_null(a->lots);
        for (const ld_lot_t *lot = a->lots; lot; lot = lot->next)
            nlots++;
    }
    assert_int_equal(net, 0);
    assert_int_equal(dpend, cpend);
    assert_int_equal(nlots, s->lots.count);
}

/* Ends a batch as the server does after a successful COMMIT, checking it first. */
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

static void create_account(ld_state_t *s, uint64_t n, int kind, uint32_t flags, int64_t now)
{
    ld_account_new_t a = acct(n, kind, flags);
    ld_result_item_t r;
    begin(s);
    assert_int_equal(ld_state_create_accounts(s, &a, 1, now, &r), LC_OK);
    assert_int_equal(r.result, LD_OK);
    finish(s);
}

/* A state with the standard book. */
static ld_state_t *fresh(void)
{
    ld_state_t *s = ld_state_new();
    assert_non_null(s);
    ld_account_new_t a[] = {
        acct(M_LOTS, LD_KIND_MEMBER, NO_OVERDRAFT | LD_AF_LOTS),
        acct(M_PLAIN, LD_KIND_MEMBER, NO_OVERDRAFT),
        acct(ISSUE, LD_KIND_PARTNER_ISSUANCE, 0),
        acct(PREPAID, LD_KIND_PARTNER_ISSUANCE, NO_OVERDRAFT),
        acct(REDEEM, LD_KIND_PARTNER_REDEMPTION, 0),
        acct(BREAK, LD_KIND_COALITION_BREAKAGE, 0),
        acct(OPER, LD_KIND_OPERATOR, 0),
    };
    size_t n = sizeof a / sizeof a[0];
    ld_result_item_t r[sizeof a / sizeof a[0]];
    begin(s);
    assert_int_equal(ld_state_create_accounts(s, a, n, T0, r), LC_OK);
    for (size_t i = 0; i < n; i++)
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

static ld_transfer_t hold(uint64_t tid, uint64_t dr, uint64_t cr, int64_t amount, uint32_t timeout)
{
    ld_transfer_t t = xf(tid, dr, cr, amount);
    t.flags = LD_TF_PENDING;
    t.timeout = timeout;
    return t;
}

static ld_transfer_t resolve(uint64_t tid, uint64_t pending, uint32_t flag, int64_t amount)
{
    ld_transfer_t t = xf(tid, 0, 0, amount);
    t.flags = flag;
    t.pending_id = id(pending);
    return t;
}

static ld_transfer_t reversal(uint64_t tid, uint64_t dr, uint64_t cr, int64_t amount,
                              uint64_t reverses)
{
    ld_transfer_t t = xf(tid, dr, cr, amount);
    t.reverses = id(reverses);
    return t;
}

/* Applies transfers as one committed batch. */
static void submit(ld_state_t *s, const ld_transfer_t *t, size_t n, int64_t now,
                   ld_result_item_t *r)
{
    begin(s);
    assert_int_equal(ld_state_create_transfers(s, t, n, now, r), LC_OK);
    for (size_t i = 0; i < n; i++)
        assert_true(lc_id_eq(&r[i].id, &t[i].id));
    finish(s);
}

/* Applies one transfer as its own batch; returns its result (and *r if given). */
static int submit1(ld_state_t *s, ld_transfer_t t, int64_t now, ld_result_item_t *r_out)
{
    ld_result_item_t r;
    submit(s, &t, 1, now, &r);
    if (r_out)
        *r_out = r;
    return r.result;
}

static int set_flags(ld_state_t *s, uint64_t n, uint32_t set, uint32_t clear, int64_t now)
{
    ld_set_flags_req_t req = {.id = id(n), .set = set, .clear = clear};
    ld_result_item_t r;
    begin(s);
    assert_int_equal(ld_state_set_flags(s, &req, now, &r), LC_OK);
    finish(s);
    return r.result;
}

static ld_account_view_t view(const ld_state_t *s, uint64_t n)
{
    lc_id_t k = id(n);
    const ld_account_t *a = ld_state_account(s, &k);
    assert_non_null(a);
    ld_account_view_t v;
    ld_account_view(a, &v);
    return v;
}

static int64_t balance(const ld_state_t *s, uint64_t n)
{
    return view(s, n).balance;
}

static int64_t available(const ld_state_t *s, uint64_t n)
{
    return view(s, n).available;
}

static ld_xfer_t *xfer(const ld_state_t *s, uint64_t n)
{
    lc_id_t k = id(n);
    return ld_state_xfer(s, &k);
}

/* Gives a member points from the issuance account. */
static void fund(ld_state_t *s, uint64_t tid, uint64_t member, int64_t amount, int64_t now)
{
    assert_int_equal(submit1(s, xf(tid, ISSUE, member, amount), now, NULL), LD_OK);
}

/* ---- accounts ----------------------------------------------------------------------- */

static void ledger_state_account_create_ok(void **state)
{
    (void)state;
    ld_state_t *s = ld_state_new();
    assert_non_null(s);
    ld_account_new_t in = acct(7, LD_KIND_MEMBER, NO_OVERDRAFT | LD_AF_LOTS);
    in.code = 42;
    in.user_data = id(99);
    ld_result_item_t r;

    begin(s);
    assert_int_equal(ld_state_create_accounts(s, &in, 1, T0, &r), LC_OK);
    assert_int_equal(r.result, LD_OK);
    assert_int_equal(r.seq, 1);
    assert_int_equal(r.timestamp, T0);
    assert_true(ld_state_batch_dirty(s));
    assert_int_equal(s->batch.nentries, 1);
    assert_int_equal(s->batch.naccounts, 1);
    const ld_entry_t *e = &s->batch.entries[0];
    assert_int_equal(e->type, LD_ENTRY_ACCOUNT);
    assert_true(lc_id_eq(&e->id, &in.id));
    assert_int_equal(e->kind, LD_KIND_MEMBER);
    assert_int_equal(e->flags, NO_OVERDRAFT | LD_AF_LOTS);
    static const uint8_t zero[32];
    assert_memory_equal(e->prev_hash, zero, 32);
    finish(s);

    const ld_account_t *a = ld_state_account(s, &in.id);
    assert_non_null(a);
    assert_int_equal(a->kind, LD_KIND_MEMBER);
    assert_int_equal(a->flags, NO_OVERDRAFT | LD_AF_LOTS);
    assert_int_equal(a->code, 42);
    assert_true(lc_id_eq(&a->user_data, &in.user_data));
    assert_int_equal(a->created_seq, 1);
    assert_int_equal(a->created_at, T0);
    ld_account_view_t v = view(s, 7);
    assert_int_equal(v.balance, 0);
    assert_int_equal(v.available, 0);
    lc_id_t other = id(8);
    assert_null(ld_state_account(s, &other));
    done(&s);
}

static void ledger_state_account_exists(void **state)
{
    (void)state;
    ld_state_t *s = ld_state_new();
    assert_non_null(s);
    create_account(s, 7, LD_KIND_MEMBER, NO_OVERDRAFT, T0);

    /* A retry later answers exists with the original seq and timestamp. */
    ld_account_new_t in = acct(7, LD_KIND_MEMBER, NO_OVERDRAFT);
    ld_result_item_t r;
    begin(s);
    assert_int_equal(ld_state_create_accounts(s, &in, 1, T0 + SEC, &r), LC_OK);
    assert_int_equal(r.result, LD_EXISTS);
    assert_int_equal(r.seq, 1);
    assert_int_equal(r.timestamp, T0);
    assert_int_equal(s->batch.nentries, 0);
    assert_false(ld_state_batch_dirty(s));
    finish(s);

    /* Twice in one request: the second is an exists of the first. */
    ld_account_new_t two[2] = {acct(8, LD_KIND_CHARITY, 0), acct(8, LD_KIND_CHARITY, 0)};
    ld_result_item_t r2[2];
    begin(s);
    assert_int_equal(ld_state_create_accounts(s, two, 2, T0 + 2 * SEC, r2), LC_OK);
    assert_int_equal(r2[0].result, LD_OK);
    assert_int_equal(r2[1].result, LD_EXISTS);
    assert_int_equal(r2[1].seq, r2[0].seq);
    assert_int_equal(r2[0].seq, 2);
    assert_int_equal(s->batch.nentries, 1);
    finish(s);
    assert_int_equal(s->accounts.count, 2);
    done(&s);
}

static void ledger_state_account_exists_with_different_fields(void **state)
{
    (void)state;
    ld_state_t *s = ld_state_new();
    assert_non_null(s);
    ld_account_new_t base = acct(7, LD_KIND_MEMBER, NO_OVERDRAFT);
    base.code = 3;
    base.user_data = id(50);
    ld_result_item_t r0;
    begin(s);
    assert_int_equal(ld_state_create_accounts(s, &base, 1, T0, &r0), LC_OK);
    assert_int_equal(r0.result, LD_OK);
    finish(s);

    ld_account_new_t in[6];
    for (int i = 0; i < 6; i++)
        in[i] = base;
    in[0].kind = LD_KIND_CHARITY;
    in[1].flags = 0;
    in[2].code = 4;
    in[3].user_data = id(51);
    in[4].flags = NO_OVERDRAFT | LD_AF_FROZEN; /* settable flags are not compared */
    in[5].flags = NO_OVERDRAFT | LD_AF_LOTS;
    ld_result_item_t r[6];
    begin(s);
    assert_int_equal(ld_state_create_accounts(s, in, 6, T0 + SEC, r), LC_OK);
    assert_int_equal(r[0].result, LD_EXISTS_WITH_DIFFERENT_KIND);
    assert_int_equal(r[1].result, LD_EXISTS_WITH_DIFFERENT_FLAGS);
    assert_int_equal(r[2].result, LD_EXISTS_WITH_DIFFERENT_CODE);
    assert_int_equal(r[3].result, LD_EXISTS_WITH_DIFFERENT_USER_DATA);
    assert_int_equal(r[4].result, LD_EXISTS);
    assert_int_equal(r[5].result, LD_EXISTS_WITH_DIFFERENT_FLAGS);
    assert_int_equal(s->batch.nentries, 0);
    finish(s);
    assert_int_equal(ld_state_account(s, &base.id)->kind, LD_KIND_MEMBER);
    done(&s);
}

static void ledger_state_account_validation(void **state)
{
    (void)state;
    ld_state_t *s = ld_state_new();
    assert_non_null(s);
    ld_account_new_t in[] = {
        acct(0, LD_KIND_MEMBER, 0),
        acct(1, 0, 0),
        acct(2, LD_KIND_OPERATOR + 1, 0),
        acct(3, -1, 0),
        acct(4, LD_KIND_MEMBER, 1u << 5),
        acct(5, LD_KIND_MEMBER, NO_OVERDRAFT | LD_AF_CREDITS_MUST_NOT_EXCEED_DEBITS),
        acct(6, LD_KIND_MEMBER, LD_AF_LOTS),
        acct(7, LD_KIND_MEMBER, LD_AF_LOTS | LD_AF_CREDITS_MUST_NOT_EXCEED_DEBITS),
        acct(8, LD_KIND_MEMBER, LD_AF_LOTS | NO_OVERDRAFT),
        acct(9, LD_KIND_OPERATOR, LD_AF_CREDITS_MUST_NOT_EXCEED_DEBITS),
    };
    size_t n = sizeof in / sizeof in[0];
    ld_result_item_t r[sizeof in / sizeof in[0]];
    begin(s);
    assert_int_equal(ld_state_create_accounts(s, in, n, T0, r), LC_OK);
    assert_int_equal(r[0].result, LD_ID_MUST_NOT_BE_ZERO);
    assert_int_equal(r[1].result, LD_KIND_INVALID);
    assert_int_equal(r[2].result, LD_KIND_INVALID);
    assert_int_equal(r[3].result, LD_KIND_INVALID);
    assert_int_equal(r[4].result, LD_FLAGS_RESERVED);
    assert_int_equal(r[5].result, LD_FLAGS_ARE_MUTUALLY_EXCLUSIVE);
    assert_int_equal(r[6].result, LD_ACCOUNT_FLAGS_INVALID);
    assert_int_equal(r[7].result, LD_ACCOUNT_FLAGS_INVALID);
    assert_int_equal(r[8].result, LD_OK);
    assert_int_equal(r[9].result, LD_OK);
    assert_int_equal(r[0].seq, 0);
    assert_int_equal(s->batch.nentries, 2);
    assert_int_equal(s->batch.nfailed, 0); /* accounts burn nothing */
    finish(s);
    assert_int_equal(s->accounts.count, 2);
    lc_id_t k = id(6);
    assert_null(ld_state_account(s, &k));
    done(&s);
}

/* ---- transfers ---------------------------------------------------------------------- */

static void ledger_state_transfer_ok(void **state)
{
    (void)state;
    ld_state_t *s = fresh();
    ld_transfer_t t = xf(10, ISSUE, M_PLAIN, 500);
    t.code = 3;
    t.user_data = id(77);
    ld_result_item_t r;

    begin(s);
    assert_int_equal(ld_state_create_transfers(s, &t, 1, T0 + SEC, &r), LC_OK);
    assert_int_equal(r.result, LD_OK);
    assert_int_equal(r.seq, 8); /* after the seven accounts */
    assert_int_equal(r.timestamp, T0 + SEC);
    assert_int_equal(s->batch.nentries, 1);
    assert_int_equal(s->batch.naccounts, 2);
    const ld_entry_t *e = &s->batch.entries[0];
    assert_int_equal(e->type, LD_ENTRY_TRANSFER);
    assert_int_equal(e->amount, 500);
    assert_int_equal(e->code, 3);
    assert_true(lc_id_eq(&e->debit_account_id, &t.debit_account_id));
    assert_true(lc_id_eq(&e->credit_account_id, &t.credit_account_id));
    assert_true(lc_id_eq(&e->user_data, &t.user_data));
    finish(s);

    ld_account_view_t m = view(s, M_PLAIN), p = view(s, ISSUE);
    assert_int_equal(m.credits_posted, 500);
    assert_int_equal(m.balance, 500);
    assert_int_equal(m.available, 500);
    assert_int_equal(p.debits_posted, 500);
    assert_int_equal(p.balance, -500);
    ld_xfer_t *x = xfer(s, 10);
    assert_non_null(x);
    assert_int_equal(x->seq, 8);
    assert_int_equal(x->t.amount, 500);

    /* The same "now" again: the ledger's timestamps still strictly increase. */
    ld_result_item_t r2;
    assert_int_equal(submit1(s, xf(11, ISSUE, M_PLAIN, 1), T0 + SEC, &r2), LD_OK);
    assert_int_equal(r2.seq, 9);
    assert_int_equal(r2.timestamp, T0 + SEC + 1);
    /* A clock step back does not make them go back either. */
    assert_int_equal(submit1(s, xf(12, ISSUE, M_PLAIN, 1), T0, &r2), LD_OK);
    assert_int_equal(r2.timestamp, T0 + SEC + 2);
    done(&s);
}

static void ledger_state_transfer_exists_on_retry(void **state)
{
    (void)state;
    ld_state_t *s = fresh();
    ld_transfer_t t = xf(10, ISSUE, M_PLAIN, 500);
    ld_result_item_t r1, r2;
    assert_int_equal(submit1(s, t, T0 + SEC, &r1), LD_OK);
    assert_int_equal(submit1(s, xf(11, ISSUE, M_PLAIN, 5), T0 + 2 * SEC, NULL), LD_OK);

    begin(s);
    assert_int_equal(ld_state_create_transfers(s, &t, 1, T0 + 9 * SEC, &r2), LC_OK);
    assert_int_equal(r2.result, LD_EXISTS);
    assert_int_equal(r2.seq, r1.seq);
    assert_int_equal(r2.timestamp, r1.timestamp);
    assert_int_equal(s->batch.nentries, 0);
    assert_false(ld_state_batch_dirty(s));
    finish(s);
    assert_int_equal(balance(s, M_PLAIN), 505);
    done(&s);
}

static void ledger_state_transfer_exists_with_different_fields(void **state)
{
    (void)state;
    ld_state_t *s = fresh();
    ld_transfer_t base = xf(10, ISSUE, M_PLAIN, 500);
    base.code = 3;
    base.user_data = id(77);
    assert_int_equal(submit1(s, base, T0 + SEC, NULL), LD_OK);

    ld_transfer_t in[10];
    for (int i = 0; i < 10; i++)
        in[i] = base;
    in[0].debit_account_id = id(OPER);
    in[1].credit_account_id = id(M_LOTS);
    in[2].amount = 501;
    in[3].pending_id = id(5);
    in[4].reverses = id(5);
    in[5].flags = LD_TF_PENDING;
    in[6].code = 4;
    in[7].user_data = id(78);
    in[8].timeout = 5;
    in[9].expires_at = T0 + DAY;
    ld_result_item_t r[10];
    submit(s, in, 10, T0 + 2 * SEC, r);
    assert_int_equal(r[0].result, LD_EXISTS_WITH_DIFFERENT_DEBIT_ACCOUNT_ID);
    assert_int_equal(r[1].result, LD_EXISTS_WITH_DIFFERENT_CREDIT_ACCOUNT_ID);
    assert_int_equal(r[2].result, LD_EXISTS_WITH_DIFFERENT_AMOUNT);
    assert_int_equal(r[3].result, LD_EXISTS_WITH_DIFFERENT_PENDING_ID);
    assert_int_equal(r[4].result, LD_EXISTS_WITH_DIFFERENT_REVERSES);
    assert_int_equal(r[5].result, LD_EXISTS_WITH_DIFFERENT_FLAGS);
    assert_int_equal(r[6].result, LD_EXISTS_WITH_DIFFERENT_CODE);
    assert_int_equal(r[7].result, LD_EXISTS_WITH_DIFFERENT_USER_DATA);
    assert_int_equal(r[8].result, LD_EXISTS_WITH_DIFFERENT_TIMEOUT);
    assert_int_equal(r[9].result, LD_EXISTS_WITH_DIFFERENT_EXPIRES_AT);
    for (int i = 0; i < 10; i++)
        assert_int_equal(r[i].seq, 0);
    assert_int_equal(balance(s, M_PLAIN), 500);
    assert_int_equal(balance(s, M_LOTS), 0);
    /* Nothing burned: the original still answers exists. */
    assert_int_equal(submit1(s, base, T0 + 3 * SEC, NULL), LD_EXISTS);
    done(&s);
}

static void ledger_state_transfer_id_already_failed(void **state)
{
    (void)state;
    ld_state_t *s = fresh();
    ld_transfer_t spend = xf(20, M_PLAIN, REDEEM, 100);

    begin(s);
    ld_result_item_t r;
    assert_int_equal(ld_state_create_transfers(s, &spend, 1, T0 + SEC, &r), LC_OK);
    assert_int_equal(r.result, LD_EXCEEDS_CREDITS);
    assert_int_equal(s->batch.nentries, 0);
    assert_int_equal(s->batch.nfailed, 1);
    assert_true(lc_id_eq(&s->batch.failed[0].id, &spend.id));
    assert_int_equal(s->batch.failed[0].result, LD_EXCEEDS_CREDITS);
    assert_true(ld_state_batch_dirty(s)); /* the burned id must be written */
    finish(s);

    /* Now the balance would suffice, yet the id keeps failing. */
    fund(s, 21, M_PLAIN, 500, T0 + 2 * SEC);
    assert_int_equal(submit1(s, spend, T0 + 3 * SEC, NULL), LD_ID_ALREADY_FAILED);
    ld_transfer_t other = spend;
    other.amount = 50;
    assert_int_equal(submit1(s, other, T0 + 4 * SEC, NULL), LD_ID_ALREADY_FAILED);
    assert_null(xfer(s, 20));
    /* A new id goes through. */
    assert_int_equal(submit1(s, xf(22, M_PLAIN, REDEEM, 100), T0 + 5 * SEC, NULL), LD_OK);
    assert_int_equal(balance(s, M_PLAIN), 400);
    done(&s);
}

/* Malformed input is refused without burning the id (it is not state-dependent). */
static void ledger_state_transfer_validation(void **state)
{
    (void)state;
    ld_state_t *s = fresh();
    fund(s, 1, M_PLAIN, 100, T0 + SEC);

    ld_transfer_t in[12];
    in[0] = xf(30, M_PLAIN, REDEEM, 0);
    in[1] = xf(31, M_PLAIN, REDEEM, -5);
    in[2] = xf(32, M_PLAIN, M_PLAIN, 5);
    in[3] = xf(0, M_PLAIN, REDEEM, 5);
    in[4] = xf(34, M_PLAIN, REDEEM, 5);
    in[4].flags = 1u << 9;
    in[5] = xf(35, M_PLAIN, REDEEM, 5);
    in[5].flags = LD_TF_TIMEOUT; /* the ledger's own flag */
    in[6] = xf(36, M_PLAIN, REDEEM, 5);
    in[6].flags = LD_TF_PENDING | LD_TF_POST_PENDING;
    in[7] = xf(37, M_PLAIN, REDEEM, 5);
    in[7].timeout = 10;
    in[8] = xf(38, M_PLAIN, REDEEM, 5);
    in[8].pending_id = id(1);
    in[9] = xf(39, M_PLAIN, REDEEM, 5);
    in[9].flags = LD_TF_POST_PENDING | LD_TF_VOID_PENDING;
    in[10] = xf(40, M_PLAIN, REDEEM, 5);
    in[10].flags = LD_TF_EXPIRY;
    in[11] = xf(41, 0, 0, 5);
    ld_result_item_t r[12];
    begin(s);
    assert_int_equal(ld_state_create_transfers(s, in, 12, T0 + 2 * SEC, r), LC_OK);
    assert_int_equal(r[0].result, LD_AMOUNT_MUST_BE_POSITIVE);
    assert_int_equal(r[1].result, LD_AMOUNT_MUST_BE_POSITIVE);
    assert_int_equal(r[2].result, LD_ACCOUNTS_MUST_BE_DIFFERENT);
    assert_int_equal(r[3].result, LD_ID_MUST_NOT_BE_ZERO);
    assert_int_equal(r[4].result, LD_FLAGS_RESERVED);
    assert_int_equal(r[5].result, LD_FLAGS_RESERVED);
    assert_int_equal(r[6].result, LD_FLAGS_ARE_MUTUALLY_EXCLUSIVE);
    assert_int_equal(r[7].result, LD_TIMEOUT_RESERVED_FOR_PENDING);
    assert_int_equal(r[8].result, LD_PENDING_ID_MUST_BE_ZERO);
    assert_int_equal(r[9].result, LD_FLAGS_ARE_MUTUALLY_EXCLUSIVE);
    assert_int_equal(r[10].result, LD_FLAGS_RESERVED);
    assert_int_equal(r[11].result, LD_DEBIT_ACCOUNT_ID_MUST_NOT_BE_ZERO);
    assert_int_equal(s->batch.nentries, 0);
    assert_int_equal(s->batch.nfailed, 0); /* malformed input burns no id */
    finish(s);

    /* Fixed retries with the same ids now succeed. */
    assert_int_equal(submit1(s, xf(30, M_PLAIN, REDEEM, 5), T0 + 3 * SEC, NULL), LD_OK);
    assert_int_equal(submit1(s, xf(32, M_PLAIN, REDEEM, 5), T0 + 4 * SEC, NULL), LD_OK);
    assert_int_equal(submit1(s, xf(41, M_PLAIN, REDEEM, 5), T0 + 5 * SEC, NULL), LD_OK);
    assert_int_equal(balance(s, M_PLAIN), 85);
    done(&s);
}

static void ledger_state_transfer_unknown_accounts(void **state)
{
    (void)state;
    ld_state_t *s = fresh();
    ld_transfer_t in[2] = {xf(10, 999, M_PLAIN, 5), xf(11, ISSUE, 998, 5)};
    ld_result_item_t r[2];
    submit(s, in, 2, T0 + SEC, r);
    assert_int_equal(r[0].result, LD_DEBIT_ACCOUNT_NOT_FOUND);
    assert_int_equal(r[1].result, LD_CREDIT_ACCOUNT_NOT_FOUND);

    /* Creating the account later does not revive the ids (I6). */
    create_account(s, 999, LD_KIND_OPERATOR, 0, T0 + 2 * SEC);
    assert_int_equal(submit1(s, in[0], T0 + 3 * SEC, NULL), LD_ID_ALREADY_FAILED);
    assert_int_equal(balance(s, M_PLAIN), 0);
    done(&s);
}

static void ledger_state_transfer_frozen_and_closed(void **state)
{
    (void)state;
    ld_state_t *s = fresh();
    fund(s, 1, M_PLAIN, 500, T0 + SEC);

    begin(s);
    ld_set_flags_req_t req = {.id = id(M_PLAIN), .set = LD_AF_FROZEN};
    ld_result_item_t fr;
    assert_int_equal(ld_state_set_flags(s, &req, T0 + 2 * SEC, &fr), LC_OK);
    assert_int_equal(fr.result, LD_OK);
    assert_int_equal(s->batch.nentries, 1);
    assert_int_equal(s->batch.entries[0].type, LD_ENTRY_ACCOUNT_FLAGS);
    assert_int_equal(s->batch.entries[0].flags, NO_OVERDRAFT | LD_AF_FROZEN);
    assert_int_equal(fr.seq, s->batch.entries[0].seq);
    finish(s);

    assert_int_equal(submit1(s, xf(10, M_PLAIN, REDEEM, 5), T0 + 3 * SEC, NULL),
                     LD_DEBIT_ACCOUNT_FROZEN);
    assert_int_equal(submit1(s, xf(11, ISSUE, M_PLAIN, 5), T0 + 3 * SEC, NULL),
                     LD_CREDIT_ACCOUNT_FROZEN);
    /* Setting it again changes nothing and journals nothing. */
    begin(s);
    assert_int_equal(ld_state_set_flags(s, &req, T0 + 4 * SEC, &fr), LC_OK);
    assert_int_equal(fr.result, LD_OK);
    assert_int_equal(s->batch.nentries, 0);
    finish(s);

    assert_int_equal(set_flags(s, M_PLAIN, 0, LD_AF_FROZEN, T0 + 5 * SEC), LD_OK);
    assert_int_equal(submit1(s, xf(12, M_PLAIN, REDEEM, 5), T0 + 6 * SEC, NULL), LD_OK);

    assert_int_equal(set_flags(s, M_PLAIN, LD_AF_CLOSED, 0, T0 + 7 * SEC), LD_OK);
    assert_int_equal(submit1(s, xf(13, M_PLAIN, REDEEM, 5), T0 + 8 * SEC, NULL),
                     LD_DEBIT_ACCOUNT_CLOSED);
    assert_int_equal(submit1(s, xf(14, ISSUE, M_PLAIN, 5), T0 + 8 * SEC, NULL),
                     LD_CREDIT_ACCOUNT_CLOSED);
    assert_int_equal(set_flags(s, M_PLAIN, 0, LD_AF_CLOSED, T0 + 9 * SEC),
                     LD_ACCOUNT_CLOSED_FOR_GOOD);
    assert_true(view(s, M_PLAIN).flags & LD_AF_CLOSED);
    assert_int_equal(submit1(s, xf(15, M_PLAIN, REDEEM, 5), T0 + 10 * SEC, NULL),
                     LD_DEBIT_ACCOUNT_CLOSED);
    /* Closed beats frozen in the answer. */
    assert_int_equal(set_flags(s, M_PLAIN, LD_AF_FROZEN, 0, T0 + 11 * SEC), LD_OK);
    assert_int_equal(submit1(s, xf(16, M_PLAIN, REDEEM, 5), T0 + 12 * SEC, NULL),
                     LD_DEBIT_ACCOUNT_CLOSED);
    /* Frozen ids are burned (state-dependent). */
    assert_int_equal(submit1(s, xf(10, M_PLAIN, REDEEM, 5), T0 + 13 * SEC, NULL),
                     LD_ID_ALREADY_FAILED);
    assert_int_equal(balance(s, M_PLAIN), 495);
    done(&s);
}

static void ledger_state_set_flags_invalid(void **state)
{
    (void)state;
    ld_state_t *s = fresh();
    assert_int_equal(set_flags(s, M_PLAIN, LD_AF_LOTS, 0, T0 + SEC), LD_ACCOUNT_FLAGS_INVALID);
    assert_int_equal(set_flags(s, M_PLAIN, 0, NO_OVERDRAFT, T0 + SEC), LD_ACCOUNT_FLAGS_INVALID);
    assert_int_equal(set_flags(s, M_PLAIN, LD_AF_FROZEN, LD_AF_FROZEN, T0 + SEC),
                     LD_ACCOUNT_FLAGS_INVALID);
    assert_int_equal(set_flags(s, 12345, LD_AF_FROZEN, 0, T0 + SEC), LD_ACCOUNT_NOT_FOUND);
    assert_int_equal(view(s, M_PLAIN).flags, NO_OVERDRAFT);
    assert_int_equal(s->next_seq, 8);
    done(&s);
}

static void ledger_state_transfer_exceeds_debits(void **state)
{
    (void)state;
    ld_state_t *s = fresh();
    create_account(s, 600, LD_KIND_PAYOUT_CLEARING, LD_AF_CREDITS_MUST_NOT_EXCEED_DEBITS, T0 + SEC);
    assert_int_equal(submit1(s, xf(10, ISSUE, 600, 10), T0 + 2 * SEC, NULL), LD_EXCEEDS_DEBITS);
    assert_int_equal(submit1(s, xf(11, 600, OPER, 50), T0 + 3 * SEC, NULL), LD_OK);
    assert_int_equal(submit1(s, xf(12, ISSUE, 600, 50), T0 + 4 * SEC, NULL), LD_OK);
    assert_int_equal(submit1(s, xf(13, ISSUE, 600, 1), T0 + 5 * SEC, NULL), LD_EXCEEDS_DEBITS);
    assert_int_equal(balance(s, 600), 0);
    done(&s);
}

/* A prepaid partner's issuance account refuses an earn that would overdraw it. */
static void ledger_state_transfer_prepaid_partner(void **state)
{
    (void)state;
    ld_state_t *s = fresh();
    assert_int_equal(submit1(s, xf(10, PREPAID, M_PLAIN, 100), T0 + SEC, NULL), LD_EXCEEDS_CREDITS);
    assert_int_equal(submit1(s, xf(11, OPER, PREPAID, 150), T0 + 2 * SEC, NULL), LD_OK);
    assert_int_equal(submit1(s, xf(12, PREPAID, M_PLAIN, 100), T0 + 3 * SEC, NULL), LD_OK);
    assert_int_equal(submit1(s, xf(13, PREPAID, M_PLAIN, 51), T0 + 4 * SEC, NULL),
                     LD_EXCEEDS_CREDITS);
    assert_int_equal(submit1(s, xf(14, PREPAID, M_PLAIN, 50), T0 + 5 * SEC, NULL), LD_OK);
    assert_int_equal(balance(s, PREPAID), 0);
    assert_int_equal(balance(s, M_PLAIN), 150);
    done(&s);
}

static void ledger_state_transfer_overflows(void **state)
{
    (void)state;
    ld_state_t *s = fresh();
    create_account(s, 700, LD_KIND_OPERATOR, 0, T0 + SEC);
    assert_int_equal(submit1(s, xf(10, OPER, 700, INT64_MAX - 10), T0 + 2 * SEC, NULL), LD_OK);
    assert_int_equal(submit1(s, xf(11, OPER, 700, 11), T0 + 3 * SEC, NULL), LD_OVERFLOWS);
    /* The debit side overflows too. */
    assert_int_equal(submit1(s, xf(12, OPER, ISSUE, 11), T0 + 3 * SEC, NULL), LD_OVERFLOWS);
    assert_int_equal(submit1(s, xf(13, OPER, 700, 10), T0 + 4 * SEC, NULL), LD_OK);
    assert_int_equal(view(s, 700).credits_posted, INT64_MAX);
    /* posted + pending would overflow. */
    assert_int_equal(submit1(s, hold(14, ISSUE, 700, 1, 0), T0 + 5 * SEC, NULL), LD_OVERFLOWS);
    assert_int_equal(submit1(s, xf(15, ISSUE, 700, 1), T0 + 5 * SEC, NULL), LD_OVERFLOWS);
    /* The id is burned. */
    assert_int_equal(submit1(s, xf(11, 700, OPER, 1), T0 + 6 * SEC, NULL), LD_ID_ALREADY_FAILED);
    assert_int_equal(view(s, OPER).debits_posted, INT64_MAX);
    done(&s);
}

/* ---- linked chains ------------------------------------------------------------------- */

static void ledger_state_linked_all_or_nothing(void **state)
{
    (void)state;
    ld_state_t *s = fresh();
    fund(s, 1, M_PLAIN, 100, T0 + SEC);
    int64_t seq = s->next_seq;
    uint8_t head[32];
    memcpy(head, s->head, 32);

    ld_transfer_t in[4] = {
        xf(10, ISSUE, M_PLAIN, 50),   /* would succeed alone */
        xf(11, M_PLAIN, REDEEM, 500), /* exceeds credits even with the 50 */
        xf(12, ISSUE, M_PLAIN, 1),    /* never evaluated */
        xf(13, ISSUE, M_PLAIN, 7),    /* an independent transfer after the chain */
    };
    in[0].flags = LD_TF_LINKED;
    in[1].flags = LD_TF_LINKED;
    ld_result_item_t r[4];
    begin(s);
    assert_int_equal(ld_state_create_transfers(s, in, 4, T0 + 2 * SEC, r), LC_OK);
    assert_int_equal(r[0].result, LD_LINKED_EVENT_FAILED);
    assert_int_equal(r[1].result, LD_EXCEEDS_CREDITS);
    assert_int_equal(r[2].result, LD_LINKED_EVENT_FAILED);
    assert_int_equal(r[3].result, LD_OK);
    assert_int_equal(r[0].seq, 0);
    /* Only the independent transfer is journaled, right after the last entry. */
    assert_int_equal(s->batch.nentries, 1);
    assert_int_equal(s->batch.entries[0].seq, seq);
    assert_memory_equal(s->batch.entries[0].prev_hash, head, 32);
    assert_int_equal(r[3].seq, seq);
    finish(s);

    assert_null(xfer(s, 10));
    assert_null(xfer(s, 11));
    assert_null(xfer(s, 12));
    assert_int_equal(balance(s, M_PLAIN), 107);
    assert_int_equal(balance(s, ISSUE), -107);
    assert_int_equal(balance(s, REDEEM), 0);
    /* The failure was state-dependent: the chain's ids are burned. */
    assert_int_equal(submit1(s, xf(10, ISSUE, M_PLAIN, 50), T0 + 3 * SEC, NULL),
                     LD_ID_ALREADY_FAILED);
    done(&s);
}

/* The members of a failed chain are burned, but a zero id among them is not
 * recorded (it names no transfer). */
static void ledger_state_linked_failure_skips_zero_id(void **state)
{
    (void)state;
    ld_state_t *s = fresh();
    ld_transfer_t in[3] = {xf(10, ISSUE, M_PLAIN, 5), xf(11, M_PLAIN, REDEEM, 500),
                           xf(0, ISSUE, M_PLAIN, 5)};
    in[0].flags = LD_TF_LINKED;
    in[1].flags = LD_TF_LINKED;
    ld_result_item_t r[3];
    begin(s);
    assert_int_equal(ld_state_create_transfers(s, in, 3, T0 + SEC, r), LC_OK);
    assert_int_equal(r[1].result, LD_EXCEEDS_CREDITS);
    assert_int_equal(r[2].result, LD_LINKED_EVENT_FAILED);
    assert_int_equal(s->batch.nfailed, 2);
    for (size_t i = 0; i < s->batch.nfailed; i++)
        assert_false(lc_id_is_zero(&s->batch.failed[i].id));
    finish(s);
    lc_id_t zero = id(0);
    assert_null(ld_table_get(&s->failed, &zero));
    assert_int_equal(s->failed.count, 2);
    done(&s);
}

static void ledger_state_linked_chain_ok(void **state)
{
    (void)state;
    ld_state_t *s = fresh();
    ld_transfer_t in[3] = {
        xf(10, ISSUE, M_PLAIN, 50), xf(11, OPER, M_PLAIN, 25),
        xf(12, M_PLAIN, REDEEM, 75), /* uses both credits of the chain */
    };
    in[0].flags = LD_TF_LINKED;
    in[1].flags = LD_TF_LINKED;
    ld_result_item_t r[3];
    submit(s, in, 3, T0 + SEC, r);
    for (int i = 0; i < 3; i++)
        assert_int_equal(r[i].result, LD_OK);
    assert_int_equal(r[1].seq, r[0].seq + 1);
    assert_int_equal(r[2].seq, r[0].seq + 2);
    assert_int_equal(balance(s, M_PLAIN), 0);
    assert_int_equal(balance(s, REDEEM), 75);
    done(&s);
}

/* A validation failure in a chain undoes it but burns nothing: the fixed chain
 * succeeds. */
static void ledger_state_linked_validation_failure_not_burned(void **state)
{
    (void)state;
    ld_state_t *s = fresh();
    ld_transfer_t in[2] = {xf(10, ISSUE, M_PLAIN, 50), xf(11, ISSUE, M_PLAIN, 0)};
    in[0].flags = LD_TF_LINKED;
    ld_result_item_t r[2];
    submit(s, in, 2, T0 + SEC, r);
    assert_int_equal(r[0].result, LD_LINKED_EVENT_FAILED);
    assert_int_equal(r[1].result, LD_AMOUNT_MUST_BE_POSITIVE);
    assert_int_equal(balance(s, M_PLAIN), 0);

    in[1].amount = 5;
    submit(s, in, 2, T0 + 2 * SEC, r);
    assert_int_equal(r[0].result, LD_OK);
    assert_int_equal(r[1].result, LD_OK);
    assert_int_equal(balance(s, M_PLAIN), 55);
    done(&s);
}

static void ledger_state_linked_chain_open(void **state)
{
    (void)state;
    ld_state_t *s = fresh();
    ld_transfer_t in[3] = {
        xf(10, ISSUE, M_PLAIN, 50), /* a complete single transfer */
        xf(11, ISSUE, M_PLAIN, 5),
        xf(12, ISSUE, M_PLAIN, 6),
    };
    in[1].flags = LD_TF_LINKED;
    in[2].flags = LD_TF_LINKED; /* the request ends inside the chain */
    ld_result_item_t r[3];
    begin(s);
    assert_int_equal(ld_state_create_transfers(s, in, 3, T0 + SEC, r), LC_OK);
    assert_int_equal(r[0].result, LD_OK);
    assert_int_equal(r[1].result, LD_LINKED_EVENT_CHAIN_OPEN);
    assert_int_equal(r[2].result, LD_LINKED_EVENT_CHAIN_OPEN);
    assert_int_equal(s->batch.nentries, 1);
    finish(s);
    assert_null(xfer(s, 11));
    assert_int_equal(balance(s, M_PLAIN), 50);

    /* Not burned: closed properly, the chain goes through. */
    in[2].flags = 0;
    submit(s, in + 1, 2, T0 + 2 * SEC, r);
    assert_int_equal(r[0].result, LD_OK);
    assert_int_equal(r[1].result, LD_OK);
    assert_int_equal(balance(s, M_PLAIN), 61);
    done(&s);
}

static void ledger_state_linked_retry_answers_exists(void **state)
{
    (void)state;
    ld_state_t *s = fresh();
    ld_transfer_t in[3] = {
        xf(10, ISSUE, M_PLAIN, 50),
        xf(11, OPER, M_PLAIN, 25),
        xf(12, M_PLAIN, REDEEM, 60),
    };
    in[0].flags = LD_TF_LINKED;
    in[1].flags = LD_TF_LINKED;
    ld_result_item_t r1[3], r2[3];
    submit(s, in, 3, T0 + SEC, r1);
    for (int i = 0; i < 3; i++)
        assert_int_equal(r1[i].result, LD_OK);

    begin(s);
    assert_int_equal(ld_state_create_transfers(s, in, 3, T0 + 2 * SEC, r2), LC_OK);
    for (int i = 0; i < 3; i++) {
        assert_int_equal(r2[i].result, LD_EXISTS);
        assert_int_equal(r2[i].seq, r1[i].seq);
        assert_int_equal(r2[i].timestamp, r1[i].timestamp);
    }
    assert_int_equal(s->batch.nentries, 0);
    assert_int_equal(s->batch.nfailed, 0);
    finish(s);
    assert_int_equal(balance(s, M_PLAIN), 15);
    done(&s);
}

/* ---- two-phase ----------------------------------------------------------------------- */

static void ledger_state_pending_reserves(void **state)
{
    (void)state;
    ld_state_t *s = fresh();
    fund(s, 1, M_PLAIN, 1000, T0 + SEC);
    ld_result_item_t r;
    begin(s);
    ld_transfer_t h = hold(50, M_PLAIN, REDEEM, 300, 60);
    assert_int_equal(ld_state_create_transfers(s, &h, 1, T0 + 2 * SEC, &r), LC_OK);
    assert_int_equal(r.result, LD_OK);
    assert_int_equal(s->batch.npendings, 1);
    finish(s);

    ld_account_view_t m = view(s, M_PLAIN), p = view(s, REDEEM);
    assert_int_equal(m.debits_pending, 300);
    assert_int_equal(m.balance, 1000);
    assert_int_equal(m.available, 700);
    assert_int_equal(p.credits_pending, 300);
    assert_int_equal(p.credits_posted, 0);
    ld_xfer_t *x = xfer(s, 50);
    assert_non_null(x);
    assert_int_equal(x->pstate, LD_PS_PENDING);
    assert_int_equal(x->deadline, r.timestamp + 60 * SEC);
    assert_int_equal(s->nholds, 1);

    assert_int_equal(submit1(s, xf(51, M_PLAIN, REDEEM, 701), T0 + 3 * SEC, NULL),
                     LD_EXCEEDS_CREDITS);
    assert_int_equal(submit1(s, hold(52, M_PLAIN, REDEEM, 701, 0), T0 + 3 * SEC, NULL),
                     LD_EXCEEDS_CREDITS);
    assert_int_equal(submit1(s, xf(53, M_PLAIN, REDEEM, 700), T0 + 4 * SEC, NULL), LD_OK);
    assert_int_equal(available(s, M_PLAIN), 0);
    done(&s);
}

/* The longest timeout gives a deadline that far out (no 32-bit overflow). */
static void ledger_state_pending_longest_timeout(void **state)
{
    (void)state;
    ld_state_t *s = fresh();
    fund(s, 1, M_PLAIN, 1000, T0 + SEC);
    assert_int_equal(submit1(s, hold(51, M_PLAIN, REDEEM, 10, LD_TIMEOUT_MAX), T0 + 2 * SEC, NULL),
                     LD_OK);
    assert_int_equal(xfer(s, 51)->deadline - xfer(s, 51)->timestamp, (int64_t)LD_TIMEOUT_MAX * SEC);
    done(&s);
}

static void ledger_state_post_full(void **state)
{
    (void)state;
    ld_state_t *s = fresh();
    fund(s, 1, M_PLAIN, 1000, T0 + SEC);
    assert_int_equal(submit1(s, hold(50, M_PLAIN, REDEEM, 300, 60), T0 + 2 * SEC, NULL), LD_OK);

    ld_transfer_t post = resolve(51, 50, LD_TF_POST_PENDING, 0);
    ld_result_item_t r;
    begin(s);
    assert_int_equal(ld_state_create_transfers(s, &post, 1, T0 + 3 * SEC, &r), LC_OK);
    assert_int_equal(r.result, LD_OK);
    const ld_entry_t *e = &s->batch.entries[0];
    assert_int_equal(e->amount, 300);
    assert_true(lc_id_eq(&e->pending_id, &post.pending_id));
    lc_id_t m_id = id(M_PLAIN);
    assert_true(lc_id_eq(&e->debit_account_id, &m_id));
    assert_int_equal(s->batch.npendings, 1);
    finish(s);

    ld_account_view_t m = view(s, M_PLAIN), p = view(s, REDEEM);
    assert_int_equal(m.debits_pending, 0);
    assert_int_equal(m.debits_posted, 300);
    assert_int_equal(m.balance, 700);
    assert_int_equal(m.available, 700);
    assert_int_equal(p.credits_pending, 0);
    assert_int_equal(p.credits_posted, 300);
    ld_xfer_t *h = xfer(s, 50);
    assert_int_equal(h->pstate, LD_PS_POSTED);
    assert_true(lc_id_eq(&h->resolved_by, &post.id));
    ld_xfer_t *x = xfer(s, 51);
    assert_int_equal(x->t.amount, 300);
    assert_true(lc_id_eq(&x->t.debit_account_id, &m_id));
    assert_int_equal(s->nholds, 0); /* resolved holds are dropped at commit */

    /* Retries: as sent (amount 0), or with the resolved amount, answer exists. */
    assert_int_equal(submit1(s, post, T0 + 4 * SEC, NULL), LD_EXISTS);
    post.amount = 300;
    assert_int_equal(submit1(s, post, T0 + 4 * SEC, NULL), LD_EXISTS);
    post.amount = 299;
    assert_int_equal(submit1(s, post, T0 + 4 * SEC, NULL), LD_EXISTS_WITH_DIFFERENT_AMOUNT);
    assert_int_equal(balance(s, M_PLAIN), 700);
    done(&s);
}

static void ledger_state_post_partial_releases_rest(void **state)
{
    (void)state;
    ld_state_t *s = fresh();
    fund(s, 1, M_PLAIN, 1000, T0 + SEC);
    assert_int_equal(submit1(s, hold(50, M_PLAIN, REDEEM, 300, 0), T0 + 2 * SEC, NULL), LD_OK);
    assert_int_equal(available(s, M_PLAIN), 700);
    assert_int_equal(submit1(s, resolve(51, 50, LD_TF_POST_PENDING, 120), T0 + 3 * SEC, NULL),
                     LD_OK);
    ld_account_view_t m = view(s, M_PLAIN);
    assert_int_equal(m.debits_posted, 120);
    assert_int_equal(m.debits_pending, 0);
    assert_int_equal(m.available, 880);
    assert_int_equal(view(s, REDEEM).credits_posted, 120);
    assert_int_equal(view(s, REDEEM).credits_pending, 0);
    assert_int_equal(xfer(s, 51)->t.amount, 120);
    done(&s);
}

static void ledger_state_post_above_hold(void **state)
{
    (void)state;
    ld_state_t *s = fresh();
    fund(s, 1, M_PLAIN, 1000, T0 + SEC);
    assert_int_equal(submit1(s, hold(50, M_PLAIN, REDEEM, 300, 0), T0 + 2 * SEC, NULL), LD_OK);
    assert_int_equal(submit1(s, resolve(51, 50, LD_TF_POST_PENDING, 301), T0 + 3 * SEC, NULL),
                     LD_EXCEEDS_PENDING_TRANSFER_AMOUNT);
    assert_int_equal(xfer(s, 50)->pstate, LD_PS_PENDING);
    assert_int_equal(available(s, M_PLAIN), 700);
    /* A void must name the full amount (or none). */
    assert_int_equal(submit1(s, resolve(52, 50, LD_TF_VOID_PENDING, 100), T0 + 3 * SEC, NULL),
                     LD_EXCEEDS_PENDING_TRANSFER_AMOUNT);
    assert_int_equal(submit1(s, resolve(53, 50, LD_TF_POST_PENDING, 300), T0 + 4 * SEC, NULL),
                     LD_OK);
    assert_int_equal(balance(s, M_PLAIN), 700);
    done(&s);
}

/* A post must not move a negative amount (that would credit the member). */
static void ledger_state_post_negative_amount(void **state)
{
    (void)state;
    ld_state_t *s = fresh();
    fund(s, 1, M_PLAIN, 1000, T0 + SEC);
    assert_int_equal(submit1(s, hold(50, M_PLAIN, REDEEM, 300, 0), T0 + 2 * SEC, NULL), LD_OK);
    assert_int_equal(submit1(s, resolve(51, 50, LD_TF_POST_PENDING, -5), T0 + 3 * SEC, NULL),
                     LD_AMOUNT_MUST_BE_POSITIVE);
    assert_int_equal(submit1(s, resolve(52, 50, LD_TF_VOID_PENDING, -300), T0 + 3 * SEC, NULL),
                     LD_AMOUNT_MUST_BE_POSITIVE);
    assert_int_equal(xfer(s, 50)->pstate, LD_PS_PENDING);
    assert_int_equal(balance(s, M_PLAIN), 1000);
    assert_int_equal(available(s, M_PLAIN), 700);
    /* Not burned: a correct post under the same id works. */
    assert_int_equal(submit1(s, resolve(51, 50, LD_TF_POST_PENDING, 5), T0 + 4 * SEC, NULL), LD_OK);
    assert_int_equal(balance(s, M_PLAIN), 995);
    done(&s);
}

static void ledger_state_hold_resolves_once(void **state)
{
    (void)state;
    ld_state_t *s = fresh();
    fund(s, 1, M_PLAIN, 1000, T0 + SEC);
    assert_int_equal(submit1(s, hold(50, M_PLAIN, REDEEM, 300, 0), T0 + 2 * SEC, NULL), LD_OK);
    assert_int_equal(submit1(s, resolve(51, 50, LD_TF_POST_PENDING, 0), T0 + 3 * SEC, NULL), LD_OK);
    assert_int_equal(submit1(s, resolve(52, 50, LD_TF_POST_PENDING, 0), T0 + 4 * SEC, NULL),
                     LD_PENDING_TRANSFER_ALREADY_POSTED);
    assert_int_equal(submit1(s, resolve(53, 50, LD_TF_VOID_PENDING, 0), T0 + 4 * SEC, NULL),
                     LD_PENDING_TRANSFER_ALREADY_POSTED);
    assert_int_equal(balance(s, M_PLAIN), 700);

    /* A void releases everything, once. */
    assert_int_equal(submit1(s, hold(60, M_PLAIN, REDEEM, 200, 0), T0 + 5 * SEC, NULL), LD_OK);
    assert_int_equal(available(s, M_PLAIN), 500);
    ld_result_item_t r;
    assert_int_equal(submit1(s, resolve(61, 60, LD_TF_VOID_PENDING, 0), T0 + 6 * SEC, &r), LD_OK);
    assert_int_equal(available(s, M_PLAIN), 700);
    assert_int_equal(view(s, REDEEM).credits_pending, 0);
    assert_int_equal(xfer(s, 60)->pstate, LD_PS_VOIDED);
    assert_int_equal(xfer(s, 61)->t.amount, 200);
    assert_int_equal(submit1(s, resolve(62, 60, LD_TF_VOID_PENDING, 0), T0 + 7 * SEC, NULL),
                     LD_PENDING_TRANSFER_ALREADY_VOIDED);
    assert_int_equal(submit1(s, resolve(63, 60, LD_TF_POST_PENDING, 0), T0 + 7 * SEC, NULL),
                     LD_PENDING_TRANSFER_ALREADY_VOIDED);
    /* Within one request too: the second resolution of the same hold fails. */
    assert_int_equal(submit1(s, hold(70, M_PLAIN, REDEEM, 100, 0), T0 + 8 * SEC, NULL), LD_OK);
    ld_transfer_t two[2] = {resolve(71, 70, LD_TF_POST_PENDING, 0),
                            resolve(72, 70, LD_TF_VOID_PENDING, 0)};
    ld_result_item_t r2[2];
    submit(s, two, 2, T0 + 9 * SEC, r2);
    assert_int_equal(r2[0].result, LD_OK);
    assert_int_equal(r2[1].result, LD_PENDING_TRANSFER_ALREADY_POSTED);
    assert_int_equal(balance(s, M_PLAIN), 600);
    done(&s);
}

static void ledger_state_resolve_errors(void **state)
{
    (void)state;
    ld_state_t *s = fresh();
    fund(s, 1, M_PLAIN, 1000, T0 + SEC);
    assert_int_equal(submit1(s, hold(50, M_PLAIN, REDEEM, 300, 0), T0 + 2 * SEC, NULL), LD_OK);

    ld_transfer_t in[8];
    in[0] = resolve(60, 0, LD_TF_POST_PENDING, 0);
    in[0].pending_id = id(0);
    in[1] = resolve(61, 61, LD_TF_POST_PENDING, 0);
    in[2] = resolve(62, 999, LD_TF_POST_PENDING, 0);
    in[3] = resolve(63, 1, LD_TF_POST_PENDING, 0); /* a plain transfer */
    in[4] = resolve(64, 50, LD_TF_POST_PENDING, 0);
    in[4].debit_account_id = id(M_LOTS);
    in[5] = resolve(65, 50, LD_TF_VOID_PENDING, 0);
    in[5].credit_account_id = id(OPER);
    in[6] = resolve(66, 50, LD_TF_POST_PENDING, 0);
    in[6].timeout = 5;
    in[7] = resolve(67, 50, LD_TF_POST_PENDING, 0);
    in[7].reverses = id(1);
    ld_result_item_t r[8];
    submit(s, in, 8, T0 + 3 * SEC, r);
    assert_int_equal(r[0].result, LD_PENDING_ID_REQUIRED);
    assert_int_equal(r[1].result, LD_PENDING_ID_MUST_BE_DIFFERENT);
    assert_int_equal(r[2].result, LD_PENDING_TRANSFER_NOT_FOUND);
    assert_int_equal(r[3].result, LD_PENDING_TRANSFER_NOT_PENDING);
    assert_int_equal(r[4].result, LD_PENDING_TRANSFER_HAS_DIFFERENT_ACCOUNTS);
    assert_int_equal(r[5].result, LD_PENDING_TRANSFER_HAS_DIFFERENT_ACCOUNTS);
    assert_int_equal(r[6].result, LD_TIMEOUT_RESERVED_FOR_PENDING);
    assert_int_equal(r[7].result, LD_REVERSES_MUST_BE_ZERO);
    assert_int_equal(xfer(s, 50)->pstate, LD_PS_PENDING);
    /* Naming the hold's own accounts is fine. */
    ld_transfer_t ok = resolve(68, 50, LD_TF_POST_PENDING, 0);
    ok.debit_account_id = id(M_PLAIN);
    ok.credit_account_id = id(REDEEM);
    assert_int_equal(submit1(s, ok, T0 + 4 * SEC, NULL), LD_OK);
    done(&s);
}

/* Frozen accounts refuse a post but a void still releases the points. */
static void ledger_state_frozen_post_refused_void_allowed(void **state)
{
    (void)state;
    ld_state_t *s = fresh();
    fund(s, 1, M_PLAIN, 1000, T0 + SEC);
    assert_int_equal(submit1(s, hold(50, M_PLAIN, REDEEM, 300, 0), T0 + 2 * SEC, NULL), LD_OK);
    assert_int_equal(set_flags(s, M_PLAIN, LD_AF_FROZEN, 0, T0 + 3 * SEC), LD_OK);
    assert_int_equal(submit1(s, resolve(51, 50, LD_TF_POST_PENDING, 0), T0 + 4 * SEC, NULL),
                     LD_DEBIT_ACCOUNT_FROZEN);
    assert_int_equal(submit1(s, resolve(52, 50, LD_TF_VOID_PENDING, 0), T0 + 5 * SEC, NULL), LD_OK);
    assert_int_equal(available(s, M_PLAIN), 1000);
    done(&s);
}

static void ledger_state_hold_timeout(void **state)
{
    (void)state;
    ld_state_t *s = fresh();
    fund(s, 1, M_PLAIN, 1000, T0 + SEC);
    ld_result_item_t r;
    assert_int_equal(submit1(s, hold(50, M_PLAIN, REDEEM, 300, 60), T0 + 2 * SEC, &r), LD_OK);
    assert_int_equal(submit1(s, hold(55, M_PLAIN, REDEEM, 100, 0), T0 + 2 * SEC, NULL), LD_OK);
    int64_t deadline = r.timestamp + 60 * SEC;

    begin(s);
    assert_int_equal(ld_state_expire_holds(s, deadline - 1), 0);
    assert_int_equal(s->batch.nentries, 0);
    finish(s);
    assert_int_equal(available(s, M_PLAIN), 600);

    begin(s);
    assert_int_equal(ld_state_expire_holds(s, deadline), 1); /* due at the deadline */
    assert_int_equal(s->batch.nentries, 1);
    const ld_entry_t *e = &s->batch.entries[0];
    assert_int_equal(e->flags, LD_TF_VOID_PENDING | LD_TF_TIMEOUT);
    assert_int_equal(e->amount, 300);
    lc_id_t hid = id(50), tid;
    assert_true(lc_id_eq(&e->pending_id, &hid));
    lc_id_derive(&hid, "timeout", &tid);
    assert_true(lc_id_eq(&e->id, &tid));
    finish(s);

    assert_int_equal(xfer(s, 50)->pstate, LD_PS_EXPIRED);
    assert_true(lc_id_eq(&xfer(s, 50)->resolved_by, &tid));
    assert_int_equal(available(s, M_PLAIN), 900);
    assert_int_equal(view(s, M_PLAIN).debits_pending, 100);
    assert_int_equal(view(s, REDEEM).credits_pending, 100);
    assert_int_equal(s->nholds, 1); /* the one without a timeout remains */

    assert_int_equal(submit1(s, resolve(51, 50, LD_TF_POST_PENDING, 0), deadline + SEC, NULL),
                     LD_PENDING_TRANSFER_EXPIRED);
    assert_int_equal(submit1(s, resolve(52, 50, LD_TF_VOID_PENDING, 0), deadline + SEC, NULL),
                     LD_PENDING_TRANSFER_EXPIRED);
    begin(s);
    assert_int_equal(ld_state_expire_holds(s, deadline + DAY), 0);
    assert_int_equal(s->batch.nentries, 0);
    finish(s);
    assert_int_equal(xfer(s, 55)->pstate, LD_PS_PENDING);
    assert_int_equal(balance(s, M_PLAIN), 1000);
    done(&s);
}

/* Past its deadline a hold cannot be posted even before the timeout sweep ran. */
static void ledger_state_hold_post_after_deadline(void **state)
{
    (void)state;
    ld_state_t *s = fresh();
    fund(s, 1, M_PLAIN, 1000, T0 + SEC);
    ld_result_item_t r;
    assert_int_equal(submit1(s, hold(50, M_PLAIN, REDEEM, 300, 10), T0 + 2 * SEC, &r), LD_OK);
    int64_t deadline = r.timestamp + 10 * SEC;
    assert_int_equal(submit1(s, resolve(51, 50, LD_TF_POST_PENDING, 0), deadline, NULL),
                     LD_PENDING_TRANSFER_EXPIRED);
    assert_int_equal(xfer(s, 50)->pstate, LD_PS_PENDING);
    assert_int_equal(available(s, M_PLAIN), 700);
    begin(s);
    assert_int_equal(ld_state_expire_holds(s, deadline), 1);
    finish(s);
    assert_int_equal(available(s, M_PLAIN), 1000);
    assert_int_equal(balance(s, M_PLAIN), 1000);
    done(&s);
}

/* ---- reversals ----------------------------------------------------------------------- */

/* Past recent_max, committed transfers leave memory, except holds still pending and
 * transfers that own lot allocations (what start-up would load); the books and the
 * holds' resolution do not change. The server reads a dropped transfer back from
 * the journal when a batch names it (test_ledger_guarantees.c runs that path). */
static void ledger_state_old_transfers_leave_memory(void **state)
{
    (void)state;
    ld_state_t *s = fresh();
    s->recent_max = 8;
    fund(s, 100, M_LOTS, 1000, T0 + 1);
    assert_int_equal(submit1(s, hold(101, M_LOTS, REDEEM, 10, 0), T0 + 2, NULL), LD_OK);
    assert_int_equal(submit1(s, xf(102, M_LOTS, REDEEM, 5), T0 + 3, NULL), LD_OK);
    for (int i = 0; i < 40; i++)
        fund(s, 200 + (uint64_t)i, M_PLAIN, 1, T0 + 10 + i);
    assert_true(s->xfers.count <= s->recent_max + 2);
    assert_true(s->nrecent <= s->recent_max);
    assert_null(xfer(s, 100));     /* a plain credit, long ago */
    assert_null(xfer(s, 200));
    assert_non_null(xfer(s, 101)); /* a pending hold */
    assert_non_null(xfer(s, 102)); /* owns the allocations a refund gives back to */
    assert_non_null(xfer(s, 239)); /* the latest */
    assert_int_equal(xfer(s, 101)->pstate, LD_PS_PENDING);
    assert_int_equal(submit1(s, resolve(300, 101, LD_TF_POST_PENDING, 0), T0 + 100, NULL), LD_OK);
    assert_int_equal(balance(s, M_LOTS), 1000 - 5 - 10);
    assert_int_equal(balance(s, M_PLAIN), 40);
    done(&s);
}

static void ledger_state_reversal_partial_up_to_amount(void **state)
{
    (void)state;
    ld_state_t *s = fresh();
    fund(s, 40, M_PLAIN, 100, T0 + SEC);
    assert_int_equal(submit1(s, reversal(41, M_PLAIN, ISSUE, 101, 40), T0 + 2 * SEC, NULL),
                     LD_EXCEEDS_REVERSIBLE_AMOUNT);
    ld_result_item_t r;
    assert_int_equal(submit1(s, reversal(42, M_PLAIN, ISSUE, 30, 40), T0 + 3 * SEC, &r), LD_OK);
    lc_id_t orig = id(40);
    assert_true(lc_id_eq(&xfer(s, 42)->t.reverses, &orig));
    assert_int_equal(xfer(s, 40)->reversed, 30);
    assert_int_equal(submit1(s, reversal(43, M_PLAIN, ISSUE, 70, 40), T0 + 4 * SEC, NULL), LD_OK);
    assert_int_equal(xfer(s, 40)->reversed, 100);
    assert_int_equal(submit1(s, reversal(44, M_PLAIN, ISSUE, 1, 40), T0 + 5 * SEC, NULL),
                     LD_EXCEEDS_REVERSIBLE_AMOUNT);
    assert_int_equal(balance(s, M_PLAIN), 0);
    assert_int_equal(balance(s, ISSUE), 0);
    /* The original entry is untouched: reversals are new entries. */
    assert_int_equal(xfer(s, 40)->t.amount, 100);
    done(&s);
}

static void ledger_state_reversal_accounts_must_be_swapped(void **state)
{
    (void)state;
    ld_state_t *s = fresh();
    fund(s, 40, M_PLAIN, 100, T0 + SEC);
    ld_transfer_t in[4] = {
        reversal(41, ISSUE, M_PLAIN, 10, 40), /* same direction */
        reversal(42, M_PLAIN, OPER, 10, 40),  /* other credit account */
        reversal(43, REDEEM, ISSUE, 10, 40),  /* other debit account */
        reversal(44, M_PLAIN, ISSUE, 10, 999),
    };
    ld_result_item_t r[4];
    submit(s, in, 4, T0 + 2 * SEC, r);
    assert_int_equal(r[0].result, LD_REVERSAL_ACCOUNTS_MUST_BE_SWAPPED);
    assert_int_equal(r[1].result, LD_REVERSAL_ACCOUNTS_MUST_BE_SWAPPED);
    assert_int_equal(r[2].result, LD_REVERSAL_ACCOUNTS_MUST_BE_SWAPPED);
    assert_int_equal(r[3].result, LD_REVERSAL_TARGET_NOT_FOUND);
    assert_int_equal(xfer(s, 40)->reversed, 0);
    assert_int_equal(balance(s, M_PLAIN), 100);
    done(&s);
}

static void ledger_state_reversal_of_hold_not_allowed(void **state)
{
    (void)state;
    ld_state_t *s = fresh();
    fund(s, 40, M_PLAIN, 1000, T0 + SEC);
    assert_int_equal(submit1(s, hold(50, M_PLAIN, REDEEM, 300, 0), T0 + 2 * SEC, NULL), LD_OK);
    assert_int_equal(submit1(s, reversal(51, REDEEM, M_PLAIN, 10, 50), T0 + 3 * SEC, NULL),
                     LD_REVERSAL_OF_PENDING_NOT_ALLOWED);
    /* A pending reversal is malformed (a hold cannot reverse anything). */
    ld_transfer_t pr = reversal(52, M_PLAIN, ISSUE, 10, 40);
    pr.flags = LD_TF_PENDING;
    assert_int_equal(submit1(s, pr, T0 + 3 * SEC, NULL), LD_REVERSES_MUST_BE_ZERO);
    /* Nor of a void. */
    assert_int_equal(submit1(s, hold(53, M_PLAIN, REDEEM, 100, 0), T0 + 4 * SEC, NULL), LD_OK);
    assert_int_equal(submit1(s, resolve(54, 53, LD_TF_VOID_PENDING, 0), T0 + 4 * SEC, NULL), LD_OK);
    assert_int_equal(submit1(s, reversal(55, REDEEM, M_PLAIN, 10, 54), T0 + 5 * SEC, NULL),
                     LD_REVERSAL_OF_PENDING_NOT_ALLOWED);
    /* A post moved posted points: that one can be reversed, up to what it moved. */
    assert_int_equal(submit1(s, resolve(56, 50, LD_TF_POST_PENDING, 200), T0 + 6 * SEC, NULL),
                     LD_OK);
    assert_int_equal(submit1(s, reversal(57, REDEEM, M_PLAIN, 201, 56), T0 + 7 * SEC, NULL),
                     LD_EXCEEDS_REVERSIBLE_AMOUNT);
    assert_int_equal(submit1(s, reversal(58, REDEEM, M_PLAIN, 200, 56), T0 + 8 * SEC, NULL), LD_OK);
    assert_int_equal(balance(s, M_PLAIN), 1000);
    assert_int_equal(balance(s, REDEEM), 0);
    done(&s);
}

/* A reversal may take a no-overdraft member below zero; the shortfall is debt, and a
 * later credit repays it before any of it becomes spendable. */
static void ledger_state_reversal_into_debt(void **state)
{
    (void)state;
    ld_state_t *s = fresh();
    fund(s, 60, M_LOTS, 100, T0 + SEC);
    assert_int_equal(submit1(s, xf(61, M_LOTS, REDEEM, 80), T0 + 2 * SEC, NULL), LD_OK);
    assert_int_equal(submit1(s, reversal(62, M_LOTS, ISSUE, 100, 60), T0 + 3 * SEC, NULL), LD_OK);
    ld_account_view_t v = view(s, M_LOTS);
    assert_int_equal(v.balance, -80);
    assert_int_equal(v.available, -80);
    assert_int_equal(v.debt, 80);
    lc_id_t mid = id(M_LOTS);
    assert_int_equal(ld_lots_remaining(ld_state_account(s, &mid)), 0);
    assert_int_equal(submit1(s, xf(63, M_LOTS, REDEEM, 1), T0 + 4 * SEC, NULL), LD_EXCEEDS_CREDITS);

    fund(s, 64, M_LOTS, 50, T0 + 5 * SEC);
    v = view(s, M_LOTS);
    assert_int_equal(v.balance, -30);
    assert_int_equal(v.debt, 30);
    assert_int_equal(submit1(s, xf(65, M_LOTS, REDEEM, 1), T0 + 6 * SEC, NULL), LD_EXCEEDS_CREDITS);

    fund(s, 66, M_LOTS, 100, T0 + 7 * SEC);
    v = view(s, M_LOTS);
    assert_int_equal(v.balance, 70);
    assert_int_equal(v.available, 70);
    assert_int_equal(v.debt, 0);
    assert_int_equal(submit1(s, xf(67, M_LOTS, REDEEM, 71), T0 + 8 * SEC, NULL),
                     LD_EXCEEDS_CREDITS);
    assert_int_equal(submit1(s, xf(68, M_LOTS, REDEEM, 70), T0 + 9 * SEC, NULL), LD_OK);
    assert_int_equal(balance(s, M_LOTS), 0);
    done(&s);
}

/* Only a lots account can go below zero through a reversal (its shortfall is
 * tracked as debt); any other no-overdraft account keeps its limit. */
static void ledger_state_reversal_cannot_overdraw_plain_account(void **state)
{
    (void)state;
    ld_state_t *s = fresh();
    fund(s, 60, M_PLAIN, 100, T0 + SEC);
    assert_int_equal(submit1(s, xf(61, M_PLAIN, REDEEM, 80), T0 + 2 * SEC, NULL), LD_OK);
    assert_int_equal(submit1(s, reversal(62, M_PLAIN, ISSUE, 100, 60), T0 + 3 * SEC, NULL),
                     LD_EXCEEDS_CREDITS);
    assert_int_equal(submit1(s, reversal(63, M_PLAIN, ISSUE, 20, 60), T0 + 4 * SEC, NULL), LD_OK);
    assert_int_equal(balance(s, M_PLAIN), 0);
    assert_int_equal(view(s, M_PLAIN).debt, 0);
    done(&s);
}

/* ---- batches ----------------------------------------------------------------------------- */

#define SNAP_MAX 64

typedef struct snap {
    size_t naccounts, nxfers, nlots, nfailed, nholds;
    int64_t next_seq, last_ts;
    uint8_t head[32];
    ld_account_t accounts[SNAP_MAX];
    size_t nacc;
    ld_lot_t lots[SNAP_MAX];
    size_t nlot;
    ld_xfer_t xfers[SNAP_MAX];
    ld_alloc_t allocs[SNAP_MAX][8];
    size_t nx;
    lc_id_t failed[SNAP_MAX];
    size_t nf;
} snap_t;

static void snap_take(const ld_state_t *s, snap_t *p)
{
    memset(p, 0, sizeof *p);
    p->naccounts = s->accounts.count;
    p->nxfers = s->xfers.count;
    p->nlots = s->lots.count;
    p->nfailed = s->failed.count;
    p->nholds = s->nholds;
    p->next_seq = s->next_seq;
    p->last_ts = s->last_ts;
    memcpy(p->head, s->head, 32);
    for (size_t i = 0; i < s->accounts.cap; i++)
        if (s->accounts.slots[i].value) {
            assert_true(p->nacc < SNAP_MAX);
            p->accounts[p->nacc++] = *(ld_account_t *)s->accounts.slots[i].value;
        }
    for (size_t i = 0; i < s->lots.cap; i++)
        if (s->lots.slots[i].value) {
            assert_true(p->nlot < SNAP_MAX);
            p->lots[p->nlot++] = *(ld_lot_t *)s->lots.slots[i].value;
        }
    for (size_t i = 0; i < s->xfers.cap; i++) {
        const ld_xfer_t *x = s->xfers.slots[i].value;
        if (x) {
            assert_true(p->nx < SNAP_MAX);
            assert_true(x->nallocs <= 8);
            p->xfers[p->nx] = *x;
            if (x->nallocs)
                memcpy(p->allocs[p->nx], x->allocs, x->nallocs * sizeof *x->allocs);
            p->nx++;
        }
    }
    for (size_t i = 0; i < s->failed.cap; i++)
        if (s->failed.slots[i].value) {
            assert_true(p->nf < SNAP_MAX);
            p->failed[p->nf++] = s->failed.slots[i].key;
        }
}

/* The state equals the snapshot: every object, field by field, and no more. */
static void snap_check(const ld_state_t *s, const snap_t *p)
{
    assert_int_equal(s->accounts.count, p->naccounts);
    assert_int_equal(s->xfers.count, p->nxfers);
    assert_int_equal(s->lots.count, p->nlots);
    assert_int_equal(s->failed.count, p->nfailed);
    assert_int_equal(s->nholds, p->nholds);
    assert_int_equal(s->next_seq, p->next_seq);
    assert_int_equal(s->last_ts, p->last_ts);
    assert_memory_equal(s->head, p->head, 32);
    for (size_t i = 0; i < p->nacc; i++) {
        const ld_account_t *a = ld_state_account(s, &p->accounts[i].id);
        assert_non_null(a);
        assert_memory_equal(a, &p->accounts[i], sizeof *a);
    }
    for (size_t i = 0; i < p->nlot; i++) {
        const ld_lot_t *lot = ld_table_get(&s->lots, &p->lots[i].id);
        assert_non_null(lot);
        assert_memory_equal(lot, &p->lots[i], sizeof *lot);
    }
    for (size_t i = 0; i < p->nx; i++) {
        const ld_xfer_t *x = ld_state_xfer(s, &p->xfers[i].t.id);
        const ld_xfer_t *w = &p->xfers[i];
        assert_non_null(x);
        assert_memory_equal(&x->t, &w->t, sizeof x->t);
        assert_int_equal(x->seq, w->seq);
        assert_int_equal(x->timestamp, w->timestamp);
        assert_int_equal(x->reversed, w->reversed);
        assert_int_equal(x->pstate, w->pstate);
        assert_int_equal(x->epoch, w->epoch);
        assert_int_equal(x->deadline, w->deadline);
        assert_true(lc_id_eq(&x->resolved_by, &w->resolved_by));
        assert_int_equal(x->nallocs, w->nallocs);
        if (x->nallocs)
            assert_memory_equal(x->allocs, p->allocs[i], x->nallocs * sizeof *x->allocs);
    }
    for (size_t i = 0; i < p->nf; i++)
        assert_non_null(ld_table_get(&s->failed, &p->failed[i]));
}

/* A batch of every kind of operation (applied to the standard book after
 * setup_history); returns the results of its transfers. */
static void busy_batch(ld_state_t *s, ld_result_item_t r[10], ld_expire_rep_t *rep)
{
    int64_t now = T0 + 10 * DAY;
    ld_account_new_t na = acct(800, LD_KIND_CHARITY, 0);
    ld_result_item_t ar;
    assert_int_equal(ld_state_create_accounts(s, &na, 1, now, &ar), LC_OK);
    assert_int_equal(ar.result, LD_OK);
    ld_transfer_t in[10] = {
        xf(90, ISSUE, M_LOTS, 40),                /* a new lot */
        xf(91, M_LOTS, 800, 30),                  /* consumes lots */
        resolve(92, 50, LD_TF_POST_PENDING, 100), /* partial post of the old hold */
        hold(93, M_LOTS, REDEEM, 20, 5),          /* a new hold on lots */
        reversal(94, REDEEM, M_LOTS, 10, 61),     /* refund into old lots */
        xf(95, M_PLAIN, REDEEM, 1000000),         /* burns its id */
        xf(96, ISSUE, M_PLAIN, 5),                /* linked chain ... */
        xf(97, M_PLAIN, REDEEM, 1000000),         /* ... that fails */
        reversal(98, M_LOTS, ISSUE, 5, 60),       /* a reversal of a credit */
        xf(99, ISSUE, 800, 3),
    };
    in[3].expires_at = 0;
    in[6].flags = LD_TF_LINKED;
    assert_int_equal(ld_state_create_transfers(s, in, 10, now, r), LC_OK);
    ld_set_flags_req_t fr = {.id = id(OPER), .set = LD_AF_FROZEN};
    ld_result_item_t frr;
    assert_int_equal(ld_state_set_flags(s, &fr, now, &frr), LC_OK);
    assert_int_equal(frr.result, LD_OK);
    ld_expire_req_t er = {.as_of = T0 + 3 * DAY, .breakage_account_id = id(BREAK), .limit = 10};
    assert_int_equal(ld_state_expire_lots(s, &er, now, rep), LC_OK);
    assert_int_equal(ld_state_expire_holds(s, now + DAY), 2); /* the old timed hold and 93 */
}

/* Committed history for the batch tests: lots with expiries, a debit, a timed hold
 * and an open hold, a burned id. */
static void setup_history(ld_state_t *s)
{
    ld_transfer_t e1 = xf(60, ISSUE, M_LOTS, 100);
    e1.expires_at = T0 + 2 * DAY;
    assert_int_equal(submit1(s, e1, T0 + SEC, NULL), LD_OK);
    ld_transfer_t e2 = xf(59, ISSUE, M_LOTS, 100);
    e2.expires_at = T0 + 5 * DAY;
    assert_int_equal(submit1(s, e2, T0 + SEC, NULL), LD_OK);
    assert_int_equal(submit1(s, xf(61, M_LOTS, REDEEM, 50), T0 + 2 * SEC, NULL), LD_OK);
    fund(s, 62, M_PLAIN, 500, T0 + 3 * SEC);
    assert_int_equal(submit1(s, hold(50, M_PLAIN, REDEEM, 300, 0), T0 + 4 * SEC, NULL), LD_OK);
    assert_int_equal(submit1(s, hold(51, M_LOTS, REDEEM, 30, 3600), T0 + 5 * SEC, NULL), LD_OK);
    assert_int_equal(submit1(s, xf(63, M_PLAIN, REDEEM, 5000), T0 + 6 * SEC, NULL),
                     LD_EXCEEDS_CREDITS);
}

static void ledger_state_batch_abort_restores_everything(void **state)
{
    (void)state;
    ld_state_t *s = fresh();
    setup_history(s);
    snap_t *before = malloc(sizeof *before);
    assert_non_null(before);
    snap_take(s, before);

    ld_result_item_t r1[10];
    ld_expire_rep_t rep1;
    begin(s);
    busy_batch(s, r1, &rep1);
    assert_int_equal(r1[0].result, LD_OK);
    assert_int_equal(r1[1].result, LD_OK);
    assert_int_equal(r1[2].result, LD_OK);
    assert_int_equal(r1[3].result, LD_OK);
    assert_int_equal(r1[4].result, LD_OK);
    assert_int_equal(r1[5].result, LD_EXCEEDS_CREDITS);
    assert_int_equal(r1[6].result, LD_LINKED_EVENT_FAILED);
    assert_int_equal(r1[7].result, LD_EXCEEDS_CREDITS);
    assert_int_equal(r1[8].result, LD_OK);
    assert_int_equal(r1[9].result, LD_OK);
    assert_int_equal(rep1.nresults, 1);
    assert_true(s->batch.nentries >= 10);
    check_journal(s);
    check_books(s);
    /* The COMMIT failed: memory goes back to what the database holds. */
    ld_state_abort_batch(s);
    assert_false(ld_state_batch_dirty(s));
    snap_check(s, before);
    lc_id_t k = id(800);
    assert_null(ld_state_account(s, &k));
    assert_null(xfer(s, 90));
    assert_null(xfer(s, 93));
    assert_int_equal(xfer(s, 50)->pstate, LD_PS_PENDING);
    assert_int_equal(xfer(s, 51)->pstate, LD_PS_PENDING);
    lc_id_t f95 = id(95);
    assert_null(ld_table_get(&s->failed, &f95));
    check_books(s);

    /* The same batch again gives the same results and journal, and commits. */
    ld_result_item_t r2[10];
    ld_expire_rep_t rep2;
    begin(s);
    busy_batch(s, r2, &rep2);
    for (int i = 0; i < 10; i++) {
        assert_int_equal(r2[i].result, r1[i].result);
        assert_int_equal(r2[i].seq, r1[i].seq);
        assert_int_equal(r2[i].timestamp, r1[i].timestamp);
    }
    assert_int_equal(rep2.points, rep1.points);
    finish(s);
    lc_codec_clear(&ld_expire_rep_desc, &rep1);
    lc_codec_clear(&ld_expire_rep_desc, &rep2);
    assert_non_null(ld_state_account(s, &k));
    assert_non_null(xfer(s, 90));
    assert_int_equal(xfer(s, 50)->pstate, LD_PS_POSTED);
    assert_int_equal(xfer(s, 51)->pstate, LD_PS_EXPIRED);
    assert_true(view(s, OPER).flags & LD_AF_FROZEN);
    assert_int_equal(s->nholds, 0);
    free(before);
    done(&s);
}

static void ledger_state_batch_commit_keeps(void **state)
{
    (void)state;
    ld_state_t *s = fresh();
    setup_history(s);
    ld_result_item_t r[10];
    ld_expire_rep_t rep;
    begin(s);
    busy_batch(s, r, &rep);
    finish(s);
    lc_codec_clear(&ld_expire_rep_desc, &rep);
    snap_t *after = malloc(sizeof *after);
    assert_non_null(after);
    snap_take(s, after);

    /* An empty batch aborted, and one with a failure aborted, change nothing. */
    begin(s);
    ld_state_abort_batch(s);
    snap_check(s, after);
    begin(s);
    ld_transfer_t t = xf(120, ISSUE, M_PLAIN, 1);
    ld_result_item_t tr;
    assert_int_equal(ld_state_create_transfers(s, &t, 1, T0 + 20 * DAY, &tr), LC_OK);
    assert_int_equal(tr.result, LD_OK);
    ld_state_abort_batch(s);
    snap_check(s, after);
    assert_int_equal(xfer(s, 92)->t.amount, 100);
    free(after);
    done(&s);
}

/* Enough accounts in one batch to grow the account table; an abort removes all of
 * them (undo after the table was rehashed), a commit keeps them. */
static void ledger_state_batch_abort_after_table_growth(void **state)
{
    (void)state;
    ld_state_t *s = fresh();
    enum { N = 3000 };
    ld_account_new_t *in = calloc(N, sizeof *in);
    ld_result_item_t *r = calloc(N, sizeof *r);
    assert_non_null(in);
    assert_non_null(r);
    for (uint64_t i = 0; i < N; i++)
        in[i] = acct(10000 + i, LD_KIND_MEMBER, NO_OVERDRAFT);
    size_t cap0 = s->accounts.cap;
    int64_t seq0 = s->next_seq;

    begin(s);
    assert_int_equal(ld_state_create_accounts(s, in, N, T0 + SEC, r), LC_OK);
    assert_true(s->accounts.cap > cap0);
    check_journal(s);
    ld_state_abort_batch(s);
    assert_int_equal(s->accounts.count, 7);
    assert_int_equal(s->next_seq, seq0);
    for (uint64_t i = 0; i < N; i++) {
        lc_id_t k = id(10000 + i);
        assert_null(ld_state_account(s, &k));
    }
    lc_id_t mp = id(M_PLAIN);
    assert_non_null(ld_state_account(s, &mp));

    begin(s);
    assert_int_equal(ld_state_create_accounts(s, in, N, T0 + SEC, r), LC_OK);
    for (size_t i = 0; i < N; i++)
        assert_int_equal(r[i].result, LD_OK);
    finish(s);
    assert_int_equal(s->accounts.count, 7 + N);
    for (uint64_t i = 0; i < N; i++) {
        lc_id_t k = id(10000 + i);
        assert_non_null(ld_state_account(s, &k));
    }
    free(in);
    free(r);
    done(&s);
}

/* ---- journal ------------------------------------------------------------------------- */

static void ledger_state_journal_chained_across_batches(void **state)
{
    (void)state;
    ld_state_t *s = fresh();
    uint8_t head[32];
    memcpy(head, s->head, 32);
    int64_t seq = s->next_seq;
    assert_int_equal(seq, 8);

    ld_transfer_t in[3] = {xf(10, ISSUE, M_PLAIN, 5), xf(11, ISSUE, M_LOTS, 6),
                           hold(12, M_PLAIN, REDEEM, 2, 0)};
    ld_result_item_t r[3];
    begin(s);
    assert_int_equal(ld_state_create_transfers(s, in, 3, T0 + SEC, r), LC_OK);
    assert_int_equal(s->batch.nentries, 3);
    assert_memory_equal(s->batch.entries[0].prev_hash, head, 32);
    for (size_t i = 0; i < 3; i++) {
        const ld_entry_t *e = &s->batch.entries[i];
        assert_int_equal(e->seq, seq + (int64_t)i);
        assert_int_equal(r[i].seq, e->seq);
        assert_int_equal(r[i].timestamp, e->timestamp);
        assert_int_equal(ld_chain_check(e, i ? s->batch.entries[i - 1].hash : head), LC_OK);
    }
    /* A tampered copy does not check. */
    ld_entry_t bad = s->batch.entries[1];
    bad.amount++;
    assert_int_not_equal(ld_chain_check(&bad, s->batch.entries[0].hash), LC_OK);
    memcpy(head, s->batch.entries[2].hash, 32);
    finish(s);
    assert_memory_equal(s->head, head, 32);

    /* The next batch continues the chain. */
    begin(s);
    ld_transfer_t t = resolve(13, 12, LD_TF_POST_PENDING, 0);
    assert_int_equal(ld_state_create_transfers(s, &t, 1, T0 + 2 * SEC, r), LC_OK);
    assert_int_equal(r[0].result, LD_OK);
    assert_int_equal(s->batch.entries[0].seq, seq + 3);
    assert_memory_equal(s->batch.entries[0].prev_hash, head, 32);
    finish(s);
    assert_int_equal(s->next_seq, seq + 4);
    done(&s);
}

/* Many transfers in one batch (growing every batch array and the undo log). */
static void ledger_state_journal_large_batch(void **state)
{
    (void)state;
    ld_state_t *s = fresh();
    enum { N = LD_BATCH_MAX };
    ld_transfer_t *in = calloc(N, sizeof *in);
    ld_result_item_t *r = calloc(N, sizeof *r);
    assert_non_null(in);
    assert_non_null(r);
    for (int i = 0; i < N; i++) {
        in[i] = (i % 2) ? xf(1000 + (uint64_t)i, M_LOTS, REDEEM, 1)
                        : xf(1000 + (uint64_t)i, ISSUE, M_LOTS, 2);
        in[i].expires_at = (i % 2) ? 0 : T0 + (int64_t)(i % 7) * DAY;
    }
    submit(s, in, N, T0 + SEC, r);
    for (int i = 0; i < N; i++)
        assert_int_equal(r[i].result, LD_OK);
    assert_int_equal(balance(s, M_LOTS), N / 2);
    assert_int_equal(s->next_seq, 8 + N);
    free(in);
    free(r);
    done(&s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(ledger_state_account_create_ok),
        cmocka_unit_test(ledger_state_account_exists),
        cmocka_unit_test(ledger_state_account_exists_with_different_fields),
        cmocka_unit_test(ledger_state_account_validation),
        cmocka_unit_test(ledger_state_transfer_ok),
        cmocka_unit_test(ledger_state_transfer_exists_on_retry),
        cmocka_unit_test(ledger_state_transfer_exists_with_different_fields),
        cmocka_unit_test(ledger_state_transfer_id_already_failed),
        cmocka_unit_test(ledger_state_transfer_validation),
        cmocka_unit_test(ledger_state_transfer_unknown_accounts),
        cmocka_unit_test(ledger_state_transfer_frozen_and_closed),
        cmocka_unit_test(ledger_state_set_flags_invalid),
        cmocka_unit_test(ledger_state_transfer_exceeds_debits),
        cmocka_unit_test(ledger_state_transfer_prepaid_partner),
        cmocka_unit_test(ledger_state_transfer_overflows),
        cmocka_unit_test(ledger_state_linked_all_or_nothing),
        cmocka_unit_test(ledger_state_linked_failure_skips_zero_id),
        cmocka_unit_test(ledger_state_linked_chain_ok),
        cmocka_unit_test(ledger_state_linked_validation_failure_not_burned),
        cmocka_unit_test(ledger_state_linked_chain_open),
        cmocka_unit_test(ledger_state_linked_retry_answers_exists),
        cmocka_unit_test(ledger_state_pending_reserves),
        cmocka_unit_test(ledger_state_pending_longest_timeout),
        cmocka_unit_test(ledger_state_post_full),
        cmocka_unit_test(ledger_state_post_partial_releases_rest),
        cmocka_unit_test(ledger_state_post_above_hold),
        cmocka_unit_test(ledger_state_post_negative_amount),
        cmocka_unit_test(ledger_state_hold_resolves_once),
        cmocka_unit_test(ledger_state_resolve_errors),
        cmocka_unit_test(ledger_state_frozen_post_refused_void_allowed),
        cmocka_unit_test(ledger_state_hold_timeout),
        cmocka_unit_test(ledger_state_hold_post_after_deadline),
        cmocka_unit_test(ledger_state_old_transfers_leave_memory),
        cmocka_unit_test(ledger_state_reversal_partial_up_to_amount),
        cmocka_unit_test(ledger_state_reversal_accounts_must_be_swapped),
        cmocka_unit_test(ledger_state_reversal_of_hold_not_allowed),
        cmocka_unit_test(ledger_state_reversal_into_debt),
        cmocka_unit_test(ledger_state_reversal_cannot_overdraw_plain_account),
        cmocka_unit_test(ledger_state_batch_abort_restores_everything),
        cmocka_unit_test(ledger_state_batch_commit_keeps),
        cmocka_unit_test(ledger_state_batch_abort_after_table_growth),
        cmocka_unit_test(ledger_state_journal_chained_across_batches),
        cmocka_unit_test(ledger_state_journal_large_batch),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
