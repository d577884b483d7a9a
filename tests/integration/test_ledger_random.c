/*
 * test_ledger_random.c: randomized operations from four concurrent clients, many
 * of them deliberately invalid, against the real ledger process; after every
 * round the invariants of services/ledger/ld_state.h (I1..I8) are checked against
 * the ledger's answers, against PostgreSQL, and against a model the test keeps
 * from the replies alone.
 *
 * The seed comes from COAL_TEST_SEED (or the clock), is printed at the start and
 * is part of every failure message: COAL_TEST_SEED=<seed> replays the same
 * operation mix (the interleaving of the four clients still varies).
 *
 * The model (check e): the test adds up, per account, the points moved by every
 * transfer the ledger answered "ok" - plain transfers and linked chains at the
 * amount sent, reversals at the amount sent, posts at the amount sent (the hold's
 * amount when 0 was sent: the reply does not carry it), expiries at the amounts
 * ledger.lookup_transfers reports for the ids expire_lots returned - and nothing
 * else. Every account's posted balance must equal the model's exactly, so a
 * rejected transfer that moved even one point anywhere fails the test. Pending
 * amounts are bounded by the holds answered "ok" and not yet posted or voided
 * (those with a timeout may or may not have timed out yet); after the last round
 * the test waits for every timeout and then they must match exactly. The
 * journal must hold exactly the transfers answered "ok" (count and sum of plain
 * amounts), and ledger.failed exactly the ids whose failure was state-dependent.
 */
#include "harness.h"
#include "lc_err.h"
#include "lc_time.h"

#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <zmq.h>
#include <cmocka.h>

enum {
    MEMBER0 = 1,     /* members 1..N_MEMBERS: debits_must_not_exceed_credits, lots */
    N_MEMBERS = 30,
    PARTNER0 = 101,  /* partner issuance 101..104, no flags */
    N_PARTNERS = 4,
    PREPAID = 105,   /* a prepaid partner: issuance with debits_must_not_exceed_credits */
    PREPAYMENT = 106, /* what the prepaid partner bought its points with */
    REDEEM0 = 111,   /* partner redemption 111..113 */
    N_REDEEM = 3,
    BREAKAGE = 121,
    PROMO = 131,
    NO_SUCH = 999,   /* never created */
    MAX_ACCOUNTS = 64,
    N_THREADS = 4,
    MAX_ITEMS = 3,   /* transfers per request (linked chains) */
    ROUNDS = 10,
    OPS = 150,       /* per thread and round (about 18 s under ASan) */
    CALL_TIMEOUT_MS = 30000, /* one attempt, no resend: a resend would turn ok into exists */
};

#define NOWHERE_ID (UINT64_C(0xEE) << 40) /* transfer ids that never exist */
#define DAY_US (INT64_C(86400) * LC_USEC_PER_SEC)

/* ---- the model -------------------------------------------------------------------- */

typedef struct acct {
    uint64_t n;          /* th_id(n) */
    const char *kind;
    const char *flags;
    bool no_overdraft;   /* debits_must_not_exceed_credits */
    int64_t posted;      /* credits_posted - debits_posted from ok replies */
} acct_t;

typedef struct hold {
    uint64_t id, dr, cr;
    int64_t amount;
    uint32_t timeout;    /* seconds; 0 = never */
    int64_t due_ms;      /* lc_mono_ms after which the ledger has surely timed it out */
    bool resolved;       /* an ok post or void answered for it */
} hold_t;

/* A transfer that moved posted points (reversal candidates). */
typedef struct move {
    lc_id_t id;          /* expiries have derived ids, not th_id(n) */
    uint64_t dr, cr;
    int64_t amount;
    int64_t reversed;    /* sum of ok reversals of it (I5) */
} move_t;

typedef struct model {
    pthread_mutex_t lock;
    acct_t accts[MAX_ACCOUNTS];
    size_t naccts;
    hold_t *holds;       /* holds answered ok */
    size_t nholds, capholds;
    uint64_t *dead;      /* hold ids whose creation was refused */
    size_t ndead, capdead;
    move_t *moves;
    size_t nmoves, capmoves;
    int64_t ok_transfers; /* client transfers answered ok (journal entries they made) */
    int64_t ok_plain_sum; /* amounts of those without a two-phase flag */
    int64_t burned;       /* ids whose failure was state-dependent (ledger.failed) */
    int64_t expired_points;
} model_t;

#define GROW(arr, n, cap)                                                                          \
    do {                                                                                           \
        if ((n) == (cap)) {                                                                        \
            (cap) = (cap) ? (cap) * 2 : 256;                                                       \
            (arr) = realloc((arr), (cap) * sizeof *(arr));                                         \
            if (!(arr))                                                                            \
                abort();                                                                           \
        }                                                                                          \
    } while (0)

static acct_t *s_acct(model_t *m, uint64_t n)
{
    for (size_t i = 0; i < m->naccts; i++)
        if (m->accts[i].n == n)
            return &m->accts[i];
    return NULL;
}

static hold_t *s_hold(model_t *m, uint64_t id)
{
    for (size_t i = 0; i < m->nholds; i++)
        if (m->holds[i].id == id)
            return &m->holds[i];
    return NULL;
}

static move_t *s_move_rec(model_t *m, const lc_id_t *id)
{
    for (size_t i = 0; i < m->nmoves; i++)
        if (lc_id_eq(&m->moves[i].id, id))
            return &m->moves[i];
    return NULL;
}

/* ---- operations ------------------------------------------------------------------- */

enum { K_MOVE, K_HOLD, K_POST, K_VOID };

typedef struct item {
    int kind;            /* K_* */
    uint64_t id;
    uint64_t dr, cr;     /* K_POST/K_VOID: sent only when not 0 */
    uint64_t hold;       /* K_POST/K_VOID: the hold */
    lc_id_t reverses;    /* K_MOVE: the transfer it reverses (zero: none) */
    int64_t amount;      /* as sent (0 for a full post: then absent) */
    uint32_t timeout;
    int64_t expires_at;  /* Unix microseconds; 0: none */
    bool linked;
    int64_t seq;         /* journal seq once answered ok */
} item_t;

typedef struct op {
    const char *what;    /* for messages */
    item_t items[MAX_ITEMS];
    size_t n;
    json_t *transfers;   /* as sent (owned) */
    const char *expect;  /* every result must be this (NULL: not fixed) */
    bool expect_not_ok;  /* it must not succeed */
    bool ok;             /* answered ok (all items) */
    bool burned;         /* its ids are burned: retries answer id_already_failed */
    char result[MAX_ITEMS][64];
} op_t;

typedef struct worker {
    model_t *m;
    const th_ledger_t *ledger;
    int index;
    int round;
    int nops;            /* operations this round */
    long seed;
    unsigned short rng[3];
    uint64_t next_id;
    op_t *ops;           /* original operations of every round (for retries) */
    size_t nopsdone, capops;
    int nerr;
    char err[4096];
    int64_t sent, oks, retries;
} worker_t;

__attribute__((format(printf, 2, 3))) static void s_err(worker_t *w, const char *fmt, ...)
{
    if (w->nerr++ >= 6)
        return;
    size_t used = strlen(w->err);
    int k = snprintf(w->err + used, sizeof w->err - used, "\n  [thread %d round %d] ",
                     w->index, w->round);
    if (k < 0 || (size_t)k >= sizeof w->err - used)
        return;
    used += (size_t)k;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(w->err + used, sizeof w->err - used, fmt, ap);
    va_end(ap);
}

static uint64_t s_rand(worker_t *w, uint64_t n)
{
    return n ? (uint64_t)nrand48(w->rng) % n : 0;
}

static int64_t s_between(worker_t *w, int64_t lo, int64_t hi)
{
    return lo + (int64_t)s_rand(w, (uint64_t)(hi - lo + 1));
}

static bool s_chance(worker_t *w, int pct)
{
    return (int)s_rand(w, 100) < pct;
}

static uint64_t s_member(worker_t *w)
{
    return MEMBER0 + s_rand(w, N_MEMBERS);
}

static uint64_t s_other_member(worker_t *w, uint64_t not)
{
    uint64_t m = s_member(w);
    return m == not ? MEMBER0 + (m - MEMBER0 + 1) % N_MEMBERS : m;
}

static uint64_t s_partner(worker_t *w)
{
    return PARTNER0 + s_rand(w, N_PARTNERS);
}

static uint64_t s_redeem(worker_t *w)
{
    return REDEEM0 + s_rand(w, N_REDEEM);
}

/* The number n of th_id(n), or 0 when text is not such an id. */
static uint64_t s_id_number(const char *text)
{
    lc_id_t id;
    if (!text || lc_id_parse(text, &id) != LC_OK)
        return 0;
    uint64_t n = 0;
    for (int i = 9; i < 16; i++)
        n = n << 8 | id.b[i];
    lc_id_t back = th_id(n);
    return lc_id_eq(&back, &id) ? n : 0;
}

static void s_set_id(json_t *o, const char *key, uint64_t n)
{
    char text[LC_ID_STRLEN + 1];
    th_id_text(n, text);
    json_object_set_new(o, key, json_string(text));
}

static json_t *s_item_json(const item_t *it)
{
    json_t *o = json_object();
    json_t *flags = json_array();
    s_set_id(o, "id", it->id);
    if (it->linked)
        json_array_append_new(flags, json_string("linked"));
    switch (it->kind) {
    case K_MOVE:
    case K_HOLD:
        s_set_id(o, "debit_account_id", it->dr);
        s_set_id(o, "credit_account_id", it->cr);
        json_object_set_new(o, "amount", json_integer(it->amount));
        if (it->kind == K_HOLD) {
            json_array_append_new(flags, json_string("pending"));
            if (it->timeout)
                json_object_set_new(o, "timeout", json_integer(it->timeout));
        }
        if (!lc_id_is_zero(&it->reverses)) {
            char text[LC_ID_STRLEN + 1];
            lc_id_format(&it->reverses, text);
            json_object_set_new(o, "reverses", json_string(text));
        }
        if (it->expires_at) {
            char text[LC_RFC3339_MAX];
            lc_time_format(it->expires_at, text);
            json_object_set_new(o, "expires_at", json_string(text));
        }
        break;
    default:
        json_array_append_new(flags, json_string(it->kind == K_POST ? "post_pending"
                                                                     : "void_pending"));
        s_set_id(o, "pending_id", it->hold);
        if (it->dr)
            s_set_id(o, "debit_account_id", it->dr);
        if (it->cr)
            s_set_id(o, "credit_account_id", it->cr);
        if (it->amount)
            json_object_set_new(o, "amount", json_integer(it->amount));
        break;
    }
    json_object_set_new(o, "flags", flags);
    return o;
}

static op_t *s_new_op(worker_t *w, const char *what)
{
    GROW(w->ops, w->nopsdone, w->capops);
    op_t *op = &w->ops[w->nopsdone++];
    memset(op, 0, sizeof *op);
    op->what = what;
    return op;
}

static item_t *s_add(worker_t *w, op_t *op, int kind)
{
    item_t *it = &op->items[op->n++];
    memset(it, 0, sizeof *it);
    it->kind = kind;
    it->id = w->next_id++;
    return it;
}

static void s_move_item(worker_t *w, op_t *op, uint64_t dr, uint64_t cr, int64_t amount)
{
    item_t *it = s_add(w, op, K_MOVE);
    it->dr = dr;
    it->cr = cr;
    it->amount = amount;
}

/* Sends transfers (borrowed); returns the results array (new reference) or NULL
 * with an error recorded. */
static json_t *s_send(worker_t *w, th_client_t *c, json_t *transfers)
{
    json_t *reply = NULL;
    char code[64];
    w->sent++;
    int rc = th_try_call(c, LD_TYPE_CREATE_TRANSFERS, json_pack("{s:O}", "transfers", transfers),
                         CALL_TIMEOUT_MS, 0, &reply, code, sizeof code);
    if (rc != LC_OK) {
        s_err(w, "no reply to create_transfers within %d ms", CALL_TIMEOUT_MS);
        return NULL;
    }
    if (!reply) {
        s_err(w, "create_transfers answered error %s", code);
        return NULL;
    }
    json_t *results = json_incref(json_object_get(reply, "results"));
    json_decref(reply);
    if (json_array_size(results) != json_array_size(transfers)) {
        s_err(w, "create_transfers: %zu results for %zu transfers", json_array_size(results),
              json_array_size(transfers));
        json_decref(results);
        return NULL;
    }
    return results;
}

static const char *s_result(json_t *results, size_t i)
{
    const char *r = json_string_value(json_object_get(json_array_get(results, i), "result"));
    return r ? r : "?";
}

static int64_t s_seq(json_t *results, size_t i)
{
    return json_integer_value(json_object_get(json_array_get(results, i), "seq"));
}

static bool s_transient(const char *name)
{
    uint32_t v;
    return lc_value_of(ld_result_names, name, &v) == LC_OK &&
           ld_result_is_transient((ld_result_t)v);
}

/* The result that made a request fail: the one that is not linked_event_failed. */
static const char *s_cause(json_t *results, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(s_result(results, i), "linked_event_failed") != 0)
            return s_result(results, i);
    return "linked_event_failed";
}

/* Applies one item answered ok to the model (lock held). */
static void s_apply_ok(worker_t *w, op_t *op, item_t *it)
{
    model_t *m = w->m;
    m->ok_transfers++;
    if (it->kind == K_MOVE) {
        acct_t *dr = s_acct(m, it->dr), *cr = s_acct(m, it->cr);
        if (!dr || !cr) {
            s_err(w, "%s %llu: ok between unknown accounts %llu -> %llu", op->what,
                  (unsigned long long)it->id, (unsigned long long)it->dr,
                  (unsigned long long)it->cr);
            return;
        }
        dr->posted -= it->amount;
        cr->posted += it->amount;
        m->ok_plain_sum += it->amount;
        if (!lc_id_is_zero(&it->reverses)) {
            char text[LC_ID_STRLEN + 1];
            lc_id_format(&it->reverses, text);
            move_t *o = s_move_rec(m, &it->reverses);
            if (!o) {
                s_err(w, "reversal %llu: ok for %s, which never moved posted points",
                      (unsigned long long)it->id, text);
            } else {
                o->reversed += it->amount;
                if (o->reversed > o->amount)
                    s_err(w, "I5: transfer %s of %lld reversed by %lld in total (last: %llu)",
                          text, (long long)o->amount, (long long)o->reversed,
                          (unsigned long long)it->id);
            }
        }
        GROW(m->moves, m->nmoves, m->capmoves);
        m->moves[m->nmoves++] = (move_t){th_id(it->id), it->dr, it->cr, it->amount, 0};
    } else if (it->kind == K_HOLD) {
        GROW(m->holds, m->nholds, m->capholds);
        m->holds[m->nholds++] =
            (hold_t){it->id, it->dr, it->cr, it->amount, it->timeout,
                     lc_mono_ms() + (int64_t)it->timeout * 1000 + 300, false};
    } else {
        hold_t *h = s_hold(m, it->hold);
        if (!h) {
            s_err(w, "%s %llu: ok for hold %llu, which was never answered ok", op->what,
                  (unsigned long long)it->id, (unsigned long long)it->hold);
            return;
        }
        if (h->resolved)
            s_err(w, "I4: hold %llu resolved a second time by %s %llu",
                  (unsigned long long)h->id, op->what, (unsigned long long)it->id);
        h->resolved = true;
        if (it->kind == K_POST) {
            int64_t amount = it->amount ? it->amount : h->amount;
            if (amount > h->amount)
                s_err(w, "post %llu: ok for %lld of a hold of %lld", (unsigned long long)it->id,
                      (long long)amount, (long long)h->amount);
            s_acct(m, h->dr)->posted -= amount;
            s_acct(m, h->cr)->posted += amount;
            GROW(m->moves, m->nmoves, m->capmoves);
            m->moves[m->nmoves++] = (move_t){th_id(it->id), h->dr, h->cr, amount, 0};
        }
    }
}

/* Checks and records the answer to an operation's first attempt. */
static void s_settle(worker_t *w, op_t *op, json_t *results)
{
    size_t nok = 0;
    for (size_t i = 0; i < op->n; i++) {
        const char *r = s_result(results, i);
        snprintf(op->result[i], sizeof op->result[i], "%s", r);
        nok += strcmp(r, "ok") == 0;
        if (!strncmp(r, "exists", 6) || !strcmp(r, "id_already_failed"))
            s_err(w, "%s %llu: a fresh id answered %s", op->what,
                  (unsigned long long)op->items[i].id, r);
        if (op->expect && strcmp(r, op->expect) != 0)
            s_err(w, "%s %llu: expected %s, got %s", op->what,
                  (unsigned long long)op->items[i].id, op->expect, r);
    }
    if (op->expect_not_ok && nok)
        s_err(w, "%s %llu: must fail, answered ok", op->what, (unsigned long long)op->items[0].id);
    if (nok && nok != op->n)
        s_err(w, "I7: %s: %zu of %zu linked transfers answered ok", op->what, nok, op->n);
    pthread_mutex_lock(&w->m->lock);
    if (nok == op->n) {
        op->ok = true;
        w->oks++;
        for (size_t i = 0; i < op->n; i++) {
            op->items[i].seq = s_seq(results, i);
            s_apply_ok(w, op, &op->items[i]);
        }
    } else {
        if (s_transient(s_cause(results, op->n))) {
            op->burned = true;
            w->m->burned += (int64_t)op->n;
        }
        for (size_t i = 0; i < op->n; i++)
            if (op->items[i].kind == K_HOLD) {
                GROW(w->m->dead, w->m->ndead, w->m->capdead);
                w->m->dead[w->m->ndead++] = op->items[i].id;
            }
    }
    pthread_mutex_unlock(&w->m->lock);
}

static void s_run(worker_t *w, th_client_t *c, op_t *op)
{
    op->transfers = json_array();
    for (size_t i = 0; i < op->n; i++)
        json_array_append_new(op->transfers, s_item_json(&op->items[i]));
    json_t *results = s_send(w, c, op->transfers);
    if (results)
        s_settle(w, op, results);
    json_decref(results);
}

/* Plain transfers: earns, spends, gifts, prepaid earns, and invalid ones. */
static void s_op_plain(worker_t *w, th_client_t *c)
{
    int r = (int)s_rand(w, 100);
    op_t *op = s_new_op(w, "transfer");
    uint64_t mb = s_member(w);
    if (r < 30) {
        s_move_item(w, op, s_partner(w), mb, s_between(w, 1, 500));
    } else if (r < 50) {
        s_move_item(w, op, mb, s_redeem(w), s_between(w, 1, 800));
    } else if (r < 62) {
        s_move_item(w, op, mb, s_other_member(w, mb), s_between(w, 1, 300));
    } else if (r < 70) {
        s_move_item(w, op, PREPAID, mb, s_between(w, 1, 400));
    } else if (r < 75) {
        s_move_item(w, op, PREPAYMENT, PREPAID, s_between(w, 1, 300));
    } else if (r < 79) { /* huge but unchecked accounts: ok (or overflows, eventually) */
        s_move_item(w, op, s_partner(w), s_redeem(w), LD_AMOUNT_MAX / s_between(w, 1, 64));
    } else if (r < 83) { /* members never hold this much */
        s_move_item(w, op, s_chance(w, 80) ? mb : PREPAID, s_redeem(w), LD_AMOUNT_MAX);
        op->expect = "exceeds_credits";
    } else if (r < 87) {
        s_move_item(w, op, s_partner(w), mb, 0);
        op->expect = "amount_must_be_positive";
    } else if (r < 91) {
        s_move_item(w, op, mb, mb, s_between(w, 1, 50));
        op->expect = "accounts_must_be_different";
    } else if (r < 95) {
        s_move_item(w, op, NO_SUCH, mb, s_between(w, 1, 50));
        op->expect = "debit_account_not_found";
    } else {
        s_move_item(w, op, s_partner(w), NO_SUCH, s_between(w, 1, 50));
        op->expect = "credit_account_not_found";
    }
    s_run(w, c, op);
}

/* Linked chains: earn + bonus, earn + spend, a bad link, an open chain. */
static void s_op_chain(worker_t *w, th_client_t *c)
{
    int r = (int)s_rand(w, 100);
    op_t *op = s_new_op(w, "chain");
    uint64_t mb = s_member(w);
    int64_t a = s_between(w, 1, 400);
    s_move_item(w, op, s_partner(w), mb, a);
    if (r < 30) {
        s_move_item(w, op, PROMO, mb, s_between(w, 1, 100));
    } else if (r < 65) { /* spend what was just earned, sometimes more */
        int64_t spend = a + s_between(w, -100, 300);
        s_move_item(w, op, mb, s_redeem(w), spend > 0 ? spend : 1);
        if (s_chance(w, 40))
            s_move_item(w, op, PROMO, s_other_member(w, mb), s_between(w, 1, 50));
    } else if (r < 80) { /* a bad link sinks the chain */
        s_move_item(w, op, PROMO, mb, s_between(w, 1, 100));
        int bad = (int)s_rand(w, 3);
        if (bad == 0) {
            s_move_item(w, op, s_partner(w), mb, 0);
        } else if (bad == 1) {
            s_move_item(w, op, mb, s_redeem(w), LD_AMOUNT_MAX);
        } else {
            s_move_item(w, op, NO_SUCH, mb, 5);
        }
        op->expect_not_ok = true;
    } else if (r < 90) { /* an unknown account in the middle */
        s_move_item(w, op, s_partner(w), NO_SUCH, 10);
        s_move_item(w, op, PROMO, mb, 10);
        op->expect_not_ok = true;
    } else { /* the last transfer is linked too: the chain never closes */
        s_move_item(w, op, PROMO, mb, s_between(w, 1, 100));
        op->expect = "linked_event_chain_open";
        op->items[op->n - 1].linked = true;
    }
    for (size_t i = 0; i + 1 < op->n; i++)
        op->items[i].linked = true;
    s_run(w, c, op);
}

static void s_op_hold(worker_t *w, th_client_t *c)
{
    int r = (int)s_rand(w, 100);
    op_t *op = s_new_op(w, "hold");
    item_t *it = s_add(w, op, K_HOLD);
    uint64_t mb = s_member(w);
    it->dr = mb;
    it->cr = s_redeem(w);
    it->amount = s_between(w, 1, 400);
    if (r < 10) {
        it->cr = s_other_member(w, mb);
    } else if (r < 15) {
        it->dr = PREPAID;
        it->cr = mb;
    } else if (r < 20) {
        it->amount = LD_AMOUNT_MAX;
        op->expect = "exceeds_credits";
    }
    int t = (int)s_rand(w, 4);
    it->timeout = t < 2 ? 0 : (uint32_t)(t - 1);
    s_run(w, c, op);
}

/* Picks a hold: mostly one answered ok, else one that was refused or never sent. */
static bool s_pick_hold(worker_t *w, op_t *op, hold_t *h)
{
    model_t *m = w->m;
    int r = (int)s_rand(w, 100);
    memset(h, 0, sizeof *h);
    pthread_mutex_lock(&m->lock);
    bool known = false;
    if (r < 82 && m->nholds) {
        *h = m->holds[s_rand(w, m->nholds)];
        known = true;
    } else if (r < 92 && m->ndead) {
        h->id = m->dead[s_rand(w, m->ndead)];
        op->expect_not_ok = true;
    } else {
        h->id = NOWHERE_ID + s_rand(w, 1u << 30);
        op->expect = "pending_transfer_not_found";
    }
    pthread_mutex_unlock(&m->lock);
    return known;
}

static void s_op_resolve(worker_t *w, th_client_t *c, bool post)
{
    op_t *op = s_new_op(w, post ? "post" : "void");
    item_t *it = s_add(w, op, post ? K_POST : K_VOID);
    hold_t h;
    bool known = s_pick_hold(w, op, &h);
    it->hold = h.id;
    if (known) {
        int r = (int)s_rand(w, 100);
        if (post) {
            if (r < 35)
                it->amount = 0;
            else if (r < 70)
                it->amount = s_between(w, 1, h.amount);
            else if (r < 80)
                it->amount = h.amount;
            else {
                it->amount = h.amount + s_between(w, 1, 100);
                op->expect_not_ok = true;
            }
        } else if (r < 85) {
            it->amount = r < 75 ? 0 : h.amount;
        } else {
            it->amount = h.amount > 1 ? s_between(w, 1, h.amount - 1) : 2;
            op->expect_not_ok = true;
        }
        r = (int)s_rand(w, 100);
        if (r < 10) {
            it->dr = h.dr;
            it->cr = h.cr;
        } else if (r < 18) {
            it->dr = h.dr;
            it->cr = h.cr == PROMO ? PARTNER0 : PROMO;
            op->expect_not_ok = true;
        }
    } else {
        it->amount = s_chance(w, 50) ? 0 : s_between(w, 1, 100);
    }
    s_run(w, c, op);
}

static void s_op_reversal(worker_t *w, th_client_t *c)
{
    model_t *m = w->m;
    op_t *op = s_new_op(w, "reversal");
    item_t *it = s_add(w, op, K_MOVE);
    int r = (int)s_rand(w, 100);
    pthread_mutex_lock(&m->lock);
    if (r < 6 && m->nholds) { /* a hold is not a movement of posted points */
        hold_t *h = &m->holds[s_rand(w, m->nholds)];
        it->reverses = th_id(h->id);
        it->dr = h->cr;
        it->cr = h->dr;
        it->amount = s_between(w, 1, h->amount);
        op->expect = "reversal_of_pending_not_allowed";
    } else if (r < 12 || !m->nmoves) {
        it->reverses = th_id(NOWHERE_ID + s_rand(w, 1u << 30));
        it->dr = s_member(w);
        it->cr = s_partner(w);
        it->amount = s_between(w, 1, 100);
        op->expect = "reversal_target_not_found";
    } else {
        move_t *o = &m->moves[s_rand(w, m->nmoves)];
        it->reverses = o->id;
        it->dr = o->cr;
        it->cr = o->dr;
        int64_t left = o->amount - o->reversed;
        int a = (int)s_rand(w, 100);
        if (a < 60)
            it->amount = left > 0 ? s_between(w, 1, left < 1000000 ? left : 1000000) : 1;
        else if (a < 85)
            it->amount = o->amount < 1000000 ? s_between(w, 1, o->amount) : o->amount / 2;
        else {
            it->amount = o->amount < LD_AMOUNT_MAX ? o->amount + 1 : o->amount;
            op->expect_not_ok = o->amount < LD_AMOUNT_MAX;
        }
        if (s_chance(w, 10)) {
            it->dr = o->dr;
            it->cr = o->cr;
            op->expect = "reversal_accounts_must_be_swapped";
        }
    }
    pthread_mutex_unlock(&m->lock);
    s_run(w, c, op);
}

/* A credit that becomes a lot with an expiry in the past or the next seconds. */
static void s_op_expiring_credit(worker_t *w, th_client_t *c)
{
    op_t *op = s_new_op(w, "expiring credit");
    int64_t now = lc_now_us();
    uint64_t cr = s_member(w);
    if (s_chance(w, 10)) {
        cr = s_redeem(w);
        op->expect = "expires_at_requires_lots_credit";
    }
    s_move_item(w, op, s_chance(w, 85) ? s_partner(w) : PREPAID, cr, s_between(w, 1, 300));
    op->items[0].expires_at = s_chance(w, 50)
                                  ? now - s_between(w, 1, 30 * 86400) * LC_USEC_PER_SEC
                                  : now + s_between(w, 200, 3000) * 1000;
    op->items[0].expires_at -= op->items[0].expires_at % 1000;
    s_run(w, c, op);
}

/* Resends an earlier operation: the same transfers, or one with another field. */
static void s_op_retry(worker_t *w, th_client_t *c)
{
    if (!w->nopsdone)
        return;
    op_t *op = &w->ops[s_rand(w, w->nopsdone)];
    if (!op->transfers)
        return;
    w->retries++;
    bool differ = op->n == 1 && (op->ok || op->burned) && s_chance(w, 40);
    json_t *t = json_deep_copy(op->transfers);
    if (differ) {
        json_t *o = json_array_get(t, 0);
        int r = (int)s_rand(w, 3);
        if (r == 0 || op->items[0].kind != K_MOVE || op->items[0].amount >= LD_AMOUNT_MAX)
            json_object_set_new(o, "code", json_integer(7));
        else if (r == 1)
            s_set_id(o, "user_data", 424242);
        else
            json_object_set_new(o, "amount", json_integer(op->items[0].amount + 1));
    }
    json_t *results = s_send(w, c, t);
    json_decref(t);
    if (!results)
        return;
    unsigned long long id0 = (unsigned long long)op->items[0].id;
    for (size_t i = 0; i < op->n; i++) {
        const char *r = s_result(results, i);
        if (!strcmp(r, "ok"))
            s_err(w, "I6: retry of %s %llu (first: %s) answered ok", op->what,
                  (unsigned long long)op->items[i].id, op->result[i]);
    }
    const char *r0 = s_result(results, 0);
    if (differ) {
        if (op->ok && strncmp(r0, "exists_with_different_", 22) != 0)
            s_err(w, "I6: changed retry of %s %llu (ok) answered %s", op->what, id0, r0);
        if (!op->ok && strcmp(r0, "id_already_failed") != 0)
            s_err(w, "I6: changed retry of %s %llu (failed: %s) answered %s", op->what, id0,
                  op->result[0], r0);
    } else if (op->ok) {
        for (size_t i = 0; i < op->n; i++)
            if (strcmp(s_result(results, i), "exists") != 0 ||
                s_seq(results, i) != op->items[i].seq)
                s_err(w, "I6: retry of %s %llu (ok at seq %lld) answered %s at seq %lld",
                      op->what, (unsigned long long)op->items[i].id,
                      (long long)op->items[i].seq, s_result(results, i),
                      (long long)s_seq(results, i));
    } else if (op->burned) {
        if (strcmp(r0, "id_already_failed") != 0)
            s_err(w, "I6: retry of %s %llu (failed: %s) answered %s", op->what, id0,
                  op->result[0], r0);
    } else if (op->n == 1) {
        if (strcmp(r0, op->result[0]) != 0)
            s_err(w, "retry of %s %llu: first %s, now %s", op->what, id0, op->result[0], r0);
    } else if (s_transient(s_cause(results, op->n))) {
        /* A chain refused for its shape may now fail earlier for a state reason,
         * which burns its ids. */
        op->burned = true;
        pthread_mutex_lock(&w->m->lock);
        w->m->burned += (int64_t)op->n;
        pthread_mutex_unlock(&w->m->lock);
    }
    json_decref(results);
}

/* ledger.expire_lots; the expiry transfers it made are looked up and modeled. */
static void s_op_expire(worker_t *w, th_client_t *c)
{
    int r = (int)s_rand(w, 100);
    char asof[LC_RFC3339_MAX], brk[LC_ID_STRLEN + 1];
    lc_time_format(lc_now_us(), asof);
    th_id_text(r < 88 ? BREAKAGE : r < 95 ? s_member(w) : NO_SUCH, brk);
    json_t *body = json_pack("{s:s, s:s}", "as_of", asof, "breakage_account_id", brk);
    if (s_chance(w, 50))
        json_object_set_new(body, "limit", json_integer(s_between(w, 1, 5)));
    json_t *rep = NULL;
    char code[64];
    if (th_try_call(c, LD_TYPE_EXPIRE_LOTS, body, CALL_TIMEOUT_MS, 0, &rep, code, sizeof code) !=
        LC_OK) {
        s_err(w, "no reply to expire_lots");
        return;
    }
    if (r >= 88) {
        if (rep || strcmp(code, "invalid_field") != 0)
            s_err(w, "expire_lots to a bad breakage account answered %s", rep ? "ok" : code);
        json_decref(rep);
        return;
    }
    if (!rep) {
        s_err(w, "expire_lots answered %s", code);
        return;
    }
    json_t *results = json_object_get(rep, "results");
    int64_t points = json_integer_value(json_object_get(rep, "points"));
    if (json_array_size(results) == 0) {
        if (points != 0)
            s_err(w, "expire_lots: %lld points and no transfers", (long long)points);
        json_decref(rep);
        return;
    }
    json_t *ids = json_array();
    for (size_t i = 0; i < json_array_size(results); i++) {
        json_array_append(ids, json_object_get(json_array_get(results, i), "id"));
        if (strcmp(s_result(results, i), "ok") != 0)
            s_err(w, "expire_lots result %s", s_result(results, i));
    }
    json_decref(rep);
    size_t nids = json_array_size(ids);
    if (th_try_call(c, LD_TYPE_LOOKUP_TRANSFERS, json_pack("{s:o}", "ids", ids), CALL_TIMEOUT_MS,
                    0, &rep, code, sizeof code) != LC_OK ||
        !rep) {
        s_err(w, "lookup_transfers after expire_lots failed (%s)", code);
        return;
    }
    json_t *entries = json_object_get(rep, "entries");
    if (json_array_size(entries) != nids)
        s_err(w, "expire_lots made %zu transfers, lookup_transfers finds %zu", nids,
              json_array_size(entries));
    int64_t sum = 0;
    pthread_mutex_lock(&w->m->lock);
    for (size_t i = 0; i < json_array_size(entries); i++) {
        json_t *e = json_array_get(entries, i);
        uint64_t dr = s_id_number(json_string_value(json_object_get(e, "debit_account_id")));
        uint64_t cr = s_id_number(json_string_value(json_object_get(e, "credit_account_id")));
        int64_t amount = json_integer_value(json_object_get(e, "amount"));
        int64_t flags = json_integer_value(json_object_get(e, "flags"));
        acct_t *d = s_acct(w->m, dr);
        if (!d || d->n < MEMBER0 || d->n >= MEMBER0 + N_MEMBERS || cr != BREAKAGE ||
            !(flags & LD_TF_EXPIRY) || amount <= 0) {
            s_err(w, "odd expiry transfer %s", json_string_value(json_object_get(e, "id")));
            continue;
        }
        sum += amount;
        d->posted -= amount;
        s_acct(w->m, BREAKAGE)->posted += amount;
        GROW(w->m->moves, w->m->nmoves, w->m->capmoves);
        move_t *mv = &w->m->moves[w->m->nmoves++];
        *mv = (move_t){{{0}}, dr, cr, amount, 0};
        lc_id_parse(json_string_value(json_object_get(e, "id")), &mv->id);
        w->m->expired_points += amount;
    }
    pthread_mutex_unlock(&w->m->lock);
    if (sum != points)
        s_err(w, "expire_lots reported %lld points, its transfers move %lld", (long long)points,
              (long long)sum);
    json_decref(rep);
}

static void *s_worker(void *arg)
{
    worker_t *w = arg;
    th_client_t c;
    c.zctx = zmq_ctx_new();
    c.bus = c.zctx ? lc_bus_client_new(c.zctx, w->ledger->endpoint) : NULL;
    if (!c.bus) {
        s_err(w, "cannot open a client");
        return NULL;
    }
    for (int i = 0; i < w->nops && w->nerr == 0; i++) {
        int r = (int)s_rand(w, 100);
        if (r < 31)
            s_op_plain(w, &c);
        else if (r < 40)
            s_op_chain(w, &c);
        else if (r < 54)
            s_op_hold(w, &c);
        else if (r < 64)
            s_op_resolve(w, &c, true);
        else if (r < 70)
            s_op_resolve(w, &c, false);
        else if (r < 80)
            s_op_reversal(w, &c);
        else if (r < 90)
            s_op_retry(w, &c);
        else if (r < 98)
            s_op_expiring_credit(w, &c);
        else
            s_op_expire(w, &c);
    }
    th_client_close(&c);
    return NULL;
}

/* ---- the checks after each round ------------------------------------------------- */

typedef struct fixture {
    char db[64];
    th_ledger_t ledger;
    th_client_t client;
    long seed;
    int round;
    model_t m;
    worker_t workers[N_THREADS];
} fixture_t;

__attribute__((format(printf, 2, 3))) static void s_fail(const fixture_t *f, const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    fail_msg("seed %ld (rerun with COAL_TEST_SEED=%ld), after round %d: %s", f->seed, f->seed,
             f->round, msg);
}

static void s_expect_i64(const fixture_t *f, const char *what, int64_t got, int64_t want)
{
    if (got != want)
        s_fail(f, "%s: %lld, expected %lld", what, (long long)got, (long long)want);
}

/* Every account as the ledger reports it, in f->m.accts order (new reference). */
static json_t *s_lookup_all(fixture_t *f)
{
    json_t *ids = json_array();
    for (size_t i = 0; i < f->m.naccts; i++) {
        char text[LC_ID_STRLEN + 1];
        th_id_text(f->m.accts[i].n, text);
        json_array_append_new(ids, json_string(text));
    }
    json_t *rep = th_call(&f->client, LD_TYPE_LOOKUP_ACCOUNTS, json_pack("{s:o}", "ids", ids),
                          NULL, 0);
    json_t *accounts = json_incref(json_object_get(rep, "accounts"));
    json_decref(rep);
    if (json_array_size(accounts) != f->m.naccts)
        s_fail(f, "lookup_accounts found %zu of %zu accounts", json_array_size(accounts),
               f->m.naccts);
    for (size_t i = 0; i < f->m.naccts; i++)
        if (s_id_number(json_string_value(json_object_get(json_array_get(accounts, i), "id"))) !=
            f->m.accts[i].n)
            s_fail(f, "lookup_accounts answered out of order");
    return accounts;
}

static int64_t s_field(json_t *accounts, size_t i, const char *field)
{
    return json_integer_value(json_object_get(json_array_get(accounts, i), field));
}

/* The model's pending amounts of account n: min counts holds without a timeout,
 * max also those with one (they may have timed out already). */
static void s_model_pending(const model_t *m, uint64_t n, int64_t dp[2], int64_t cp[2])
{
    dp[0] = dp[1] = cp[0] = cp[1] = 0;
    for (size_t i = 0; i < m->nholds; i++) {
        const hold_t *h = &m->holds[i];
        if (h->resolved)
            continue;
        if (h->dr == n) {
            dp[1] += h->amount;
            dp[0] += h->timeout ? 0 : h->amount;
        }
        if (h->cr == n) {
            cp[1] += h->amount;
            cp[0] += h->timeout ? 0 : h->amount;
        }
    }
}

/* After the last round: waits until every hold with a timeout has surely timed
 * out, so that pending amounts must match the model exactly. */
static void s_wait_for_timeouts(fixture_t *f)
{
    int64_t due = 0;
    for (size_t i = 0; i < f->m.nholds; i++)
        if (!f->m.holds[i].resolved && f->m.holds[i].timeout && f->m.holds[i].due_ms > due)
            due = f->m.holds[i].due_ms;
    int64_t left = due - lc_mono_ms();
    if (left > 0)
        usleep((useconds_t)left * 1000);
    /* The ledger voids due holds on its next tick; give it a few. */
    int64_t deadline = lc_mono_ms() + 3000;
    while (lc_mono_ms() < deadline) {
        json_t *acc = s_lookup_all(f);
        bool settled = true;
        for (size_t i = 0; i < f->m.naccts && settled; i++) {
            int64_t dp[2], cp[2];
            s_model_pending(&f->m, f->m.accts[i].n, dp, cp);
            settled = s_field(acc, i, "debits_pending") == dp[0];
        }
        json_decref(acc);
        if (settled)
            break;
        usleep(50 * 1000);
    }
}

static void s_check_round(fixture_t *f, bool last)
{
    model_t *m = &f->m;
    if (last)
        s_wait_for_timeouts(f);

    /* (a) I1: the sum of all balances is 0; pending debits equal pending credits. */
    json_t *tb = th_call(&f->client, LD_TYPE_TRIAL_BALANCE, json_object(), NULL, 0);
    if (!tb)
        s_fail(f, "no trial balance");
    s_expect_i64(f, "trial balance sum", json_integer_value(json_object_get(tb, "sum")), 0);
    s_expect_i64(f, "trial balance accounts", json_integer_value(json_object_get(tb, "accounts")),
                 (int64_t)m->naccts);
    json_decref(tb);
    json_t *acc = s_lookup_all(f);
    int64_t dp_sum = 0, cp_sum = 0, bal_sum = 0;
    for (size_t i = 0; i < m->naccts; i++) {
        acct_t *a = &m->accts[i];
        int64_t dp = s_field(acc, i, "debits_pending"), cp = s_field(acc, i, "credits_pending");
        int64_t dpo = s_field(acc, i, "debits_posted"), cpo = s_field(acc, i, "credits_posted");
        int64_t bal = s_field(acc, i, "balance"), debt = s_field(acc, i, "debt");
        dp_sum += dp;
        cp_sum += cp;
        bal_sum += bal;
        if (bal != cpo - dpo)
            s_fail(f, "I1: account %llu balance %lld != %lld - %lld", (unsigned long long)a->n,
                   (long long)bal, (long long)cpo, (long long)dpo);
        /* (b) I2/I3: no overdraft beyond what debt from reversals accounts for. */
        if (a->no_overdraft && bal + debt < dp)
            s_fail(f,
                   "I2: account %llu (%s) balance %lld + debt %lld < debits_pending %lld",
                   (unsigned long long)a->n, a->kind, (long long)bal, (long long)debt,
                   (long long)dp);
        /* (e) the model: posted points moved only by transfers answered ok. */
        if (bal != a->posted)
            s_fail(f, "account %llu (%s): balance %lld, the ok replies add up to %lld",
                   (unsigned long long)a->n, a->kind, (long long)bal, (long long)a->posted);
        int64_t mdp[2], mcp[2];
        s_model_pending(m, a->n, mdp, mcp);
        if (last ? (dp != mdp[0] || cp != mcp[0])
                 : (dp < mdp[0] || dp > mdp[1] || cp < mcp[0] || cp > mcp[1]))
            s_fail(f,
                   "account %llu: pending %lld/%lld (debits/credits); ok holds that are "
                   "still open account for %lld..%lld / %lld..%lld",
                   (unsigned long long)a->n, (long long)dp, (long long)cp, (long long)mdp[0],
                   (long long)mdp[1], (long long)mcp[0], (long long)mcp[1]);
    }
    json_decref(acc);
    s_expect_i64(f, "I1: sum of balances", bal_sum, 0);
    s_expect_i64(f, "I1: sum of debits_pending - sum of credits_pending", dp_sum - cp_sum, 0);

    /* (c) I1/I8: stored balances equal a recomputation from the journal, chain intact. */
    json_t *v = th_call(&f->client, LD_TYPE_VERIFY, json_object(), NULL, 0);
    if (!v || !json_is_true(json_object_get(v, "ok")))
        s_fail(f, "verify: %s (first bad seq %lld)",
               v ? json_string_value(json_object_get(v, "reason")) : "no reply",
               v ? (long long)json_integer_value(json_object_get(v, "first_bad_seq")) : 0LL);
    json_decref(v);

    /* (d) I4: no hold is posted, voided or timed out twice. */
    s_expect_i64(f, "I4: holds resolved more than once",
                 th_sql_i64(f->db, "SELECT count(*) FROM (SELECT pending_id FROM ledger.journal "
                                   "WHERE pending_id IS NOT NULL GROUP BY pending_id "
                                   "HAVING count(*) > 1) x"),
                 0);

    /* (e) the journal holds exactly the transfers answered ok, and ledger.failed
     * exactly the ids that failed for a state-dependent reason (I6). */
    s_expect_i64(f, "journal: client transfers vs transfers answered ok",
                 th_sql_i64(f->db, "SELECT count(*) FROM ledger.journal WHERE entry_type = 2 "
                                   "AND flags & 48 = 0"),
                 m->ok_transfers);
    s_expect_i64(f, "journal: sum of plain amounts vs ok plain transfers",
                 th_sql_i64(f->db, "SELECT coalesce(sum(amount), 0)::bigint FROM ledger.journal "
                                   "WHERE entry_type = 2 AND flags & ~1 = 0"),
                 m->ok_plain_sum);
    s_expect_i64(f, "journal: expired points vs expire_lots replies",
                 th_sql_i64(f->db, "SELECT coalesce(sum(amount), 0)::bigint FROM ledger.journal "
                                   "WHERE entry_type = 2 AND flags & 32 <> 0"),
                 m->expired_points);
    s_expect_i64(f, "I6: ledger.failed vs ids refused for a state-dependent reason",
                 th_sql_i64(f->db, "SELECT count(*) FROM ledger.failed"), m->burned);

    /* (f) I8: the journal is gap-free. */
    s_expect_i64(f, "I8: count(*) = max(seq)",
                 th_sql_i64(f->db, "SELECT (count(*) = coalesce(max(seq), 0))::int "
                                   "FROM ledger.journal"),
                 1);

    /* I3: lots plus reserved points equal balance plus debt, debt only without
     * lots, and every lot's remaining is its amount minus its allocations. */
    s_expect_i64(f, "I3: lots accounts whose lots do not add up",
                 th_sql_i64(f->db,
                            "SELECT count(*) FROM ledger.accounts a "
                            "CROSS JOIN LATERAL (SELECT coalesce(sum(remaining), 0) AS r "
                            "FROM ledger.lots l WHERE l.account_id = a.id) l "
                            "WHERE a.flags & 4 <> 0 AND (l.r + a.debits_pending <> "
                            "a.credits_posted - a.debits_posted + a.debt "
                            "OR (a.debt > 0 AND l.r > 0))"),
                 0);
    s_expect_i64(f, "I3: lots whose remaining is not amount minus allocations",
                 th_sql_i64(f->db,
                            "SELECT count(*) FROM ledger.lots l WHERE l.remaining <> l.amount - "
                            "(SELECT coalesce(sum(amount), 0) FROM ledger.allocations x "
                            "WHERE x.lot_id = l.id)"),
                 0);
    /* I3: debits take specific lots and returns give back to those same lots. What
     * a debit or hold of a lots account still owns in allocations is what it took
     * minus what came back: a plain debit's amount less its reversals; an open
     * hold's amount; a posted hold's posted amount less the post's reversals; a
     * voided or timed-out hold nothing. (Lots always cover these debits: with
     * I3 above, debt > 0 leaves no room for a debit or a hold.) */
    s_expect_i64(
        f, "I3: debits and holds whose lot allocations do not match what they still take",
        th_sql_i64(f->db,
                   "WITH owner AS (SELECT t.id, CASE WHEN t.flags & 2 = 0 THEN t.amount - "
                   "coalesce((SELECT sum(v.amount) FROM ledger.journal v WHERE v.entry_type = 2 "
                   "AND v.reverses = t.id), 0) WHEN p.state = 1 THEN t.amount "
                   "WHEN p.state = 2 THEN (SELECT sum(r.amount) FROM ledger.journal r "
                   "WHERE r.entry_type = 2 AND r.pending_id = t.id AND r.flags & 4 <> 0) - "
                   "coalesce((SELECT sum(v.amount) FROM ledger.journal v JOIN ledger.journal r "
                   "ON v.reverses = r.id WHERE v.entry_type = 2 AND r.entry_type = 2 "
                   "AND r.pending_id = t.id), 0) ELSE 0 END AS expect "
                   "FROM ledger.journal t JOIN ledger.accounts a ON a.id = t.debit_account_id "
                   "AND a.flags & 4 <> 0 LEFT JOIN ledger.pending p ON p.id = t.id "
                   "WHERE t.entry_type = 2 AND t.reverses IS NULL "
                   "AND (t.flags & ~1 = 0 OR t.flags & 2 <> 0)) "
                   "SELECT count(*) FROM owner o WHERE o.expect <> (SELECT coalesce(sum(x.amount), "
                   "0) FROM ledger.allocations x WHERE x.origin_id = o.id)"),
        0);
    if (last) {
        /* Holds that got no ok post or void: still pending without a timeout, or
         * timed out. */
        int64_t open = 0, timed = 0;
        for (size_t i = 0; i < m->nholds; i++)
            if (!m->holds[i].resolved)
                *(m->holds[i].timeout ? &timed : &open) += 1;
        s_expect_i64(f, "I4: holds still pending",
                     th_sql_i64(f->db, "SELECT count(*) FROM ledger.pending WHERE state = 1"),
                     open);
        s_expect_i64(f, "I4: holds timed out",
                     th_sql_i64(f->db, "SELECT count(*) FROM ledger.pending WHERE state = 4"),
                     timed);
        s_expect_i64(f, "I4: holds in the journal vs holds answered ok",
                     th_sql_i64(f->db, "SELECT count(*) FROM ledger.pending"),
                     (int64_t)m->nholds);
    }
}

/* ---- the test --------------------------------------------------------------------- */

static void s_add_account(model_t *m, uint64_t n, const char *kind, const char *flags)
{
    acct_t *a = &m->accts[m->naccts++];
    a->n = n;
    a->kind = kind;
    a->flags = flags;
    a->no_overdraft = flags && strstr(flags, "debits_must_not_exceed_credits");
}

static int setup(void **state)
{
    fixture_t *f = calloc(1, sizeof *f);
    pthread_mutex_init(&f->m.lock, NULL);
    th_db_create(f->db, sizeof f->db);
    /* Keep only 32 recent transfers in memory (ld_state.h, "Which transfers are in
     * memory"): every round then names transfers the ledger dropped and must read
     * back from the journal (retries, posts, voids, reversals), under the model. */
    setenv("COAL_LEDGER_RESIDENT_TRANSFERS", "32", 1);
    th_ledger_start(&f->ledger, f->db);
    th_client_open(&f->client, &f->ledger);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture_t *f = *state;
    th_client_close(&f->client);
    th_ledger_stop(&f->ledger);
    for (int t = 0; t < N_THREADS; t++) {
        for (size_t i = 0; i < f->workers[t].nopsdone; i++)
            json_decref(f->workers[t].ops[i].transfers);
        free(f->workers[t].ops);
    }
    free(f->m.holds);
    free(f->m.dead);
    free(f->m.moves);
    pthread_mutex_destroy(&f->m.lock);
    free(f);
    return 0;
}

static void ledger_random_operations_keep_every_invariant(void **state)
{
    fixture_t *f = *state;
    model_t *m = &f->m;
    const char *env = getenv("COAL_TEST_SEED");
    f->seed = env && *env ? strtol(env, NULL, 10) : (long)time(NULL);
    fprintf(stderr, "test_ledger_random: seed %ld (rerun with COAL_TEST_SEED=%ld)\n", f->seed,
            f->seed);
    srand48(f->seed);

    for (int i = 0; i < N_MEMBERS; i++)
        s_add_account(m, MEMBER0 + (uint64_t)i, "member", "debits_must_not_exceed_credits,lots");
    for (int i = 0; i < N_PARTNERS; i++)
        s_add_account(m, PARTNER0 + (uint64_t)i, "partner_issuance", NULL);
    s_add_account(m, PREPAID, "partner_issuance", "debits_must_not_exceed_credits");
    s_add_account(m, PREPAYMENT, "partner_prepayment", NULL);
    for (int i = 0; i < N_REDEEM; i++)
        s_add_account(m, REDEEM0 + (uint64_t)i, "partner_redemption", NULL);
    s_add_account(m, BREAKAGE, "coalition_breakage", NULL);
    s_add_account(m, PROMO, "coalition_promotion", NULL);
    json_t *list = json_array();
    for (size_t i = 0; i < m->naccts; i++)
        json_array_append_new(list, th_account(m->accts[i].n, m->accts[i].kind, m->accts[i].flags));
    json_t *rep = th_call(&f->client, LD_TYPE_CREATE_ACCOUNTS, json_pack("{s:o}", "accounts", list),
                          NULL, 0);
    json_t *results = json_object_get(rep, "results");
    assert_int_equal(json_array_size(results), m->naccts);
    for (size_t i = 0; i < m->naccts; i++)
        assert_string_equal(s_result(results, i), "ok");
    json_decref(rep);
    /* The prepaid partner buys its first points. */
    assert_string_equal(th_create_one(&f->client, LD_TYPE_CREATE_TRANSFERS,
                                      th_transfer(NOWHERE_ID - 1, PREPAYMENT, PREPAID, 3000)),
                        "ok");
    s_acct(m, PREPAYMENT)->posted -= 3000;
    s_acct(m, PREPAID)->posted += 3000;
    m->moves = calloc(256, sizeof *m->moves);
    m->capmoves = 256;
    m->moves[m->nmoves++] = (move_t){th_id(NOWHERE_ID - 1), PREPAYMENT, PREPAID, 3000, 0};
    m->ok_transfers = 1;
    m->ok_plain_sum = 3000;

    for (int t = 0; t < N_THREADS; t++) {
        worker_t *w = &f->workers[t];
        w->m = m;
        w->ledger = &f->ledger;
        w->index = t;
        w->seed = f->seed;
        for (int k = 0; k < 3; k++)
            w->rng[k] = (unsigned short)lrand48();
        w->next_id = ((uint64_t)(t + 1) << 40) + 1;
    }
    int64_t t0 = lc_mono_ms();
    for (int round = 1; round <= ROUNDS; round++) {
        f->round = round;
        pthread_t tids[N_THREADS];
        for (int t = 0; t < N_THREADS; t++) {
            f->workers[t].round = round;
            f->workers[t].nops = OPS;
            assert_int_equal(pthread_create(&tids[t], NULL, s_worker, &f->workers[t]), 0);
        }
        for (int t = 0; t < N_THREADS; t++)
            pthread_join(tids[t], NULL);
        for (int t = 0; t < N_THREADS; t++)
            if (f->workers[t].nerr)
                s_fail(f, "%d problem(s) seen by the clients:%s", f->workers[t].nerr,
                       f->workers[t].err);
        /* Now and then the ledger restarts (cleanly or killed) and must load
         * exactly the state it had: the checks and later rounds see the reload. */
        if (round % 4 == 0) {
            th_client_close(&f->client);
            if (round % 8 == 0) {
                th_ledger_kill(&f->ledger, SIGKILL);
                th_ledger_wait_session_gone(&f->ledger);
            } else {
                th_ledger_stop(&f->ledger);
            }
            th_ledger_start(&f->ledger, f->db);
            th_client_open(&f->client, &f->ledger);
        }
        s_check_round(f, round == ROUNDS);
    }
    int64_t sent = 0, oks = 0, retries = 0;
    for (int t = 0; t < N_THREADS; t++) {
        sent += f->workers[t].sent;
        oks += f->workers[t].oks;
        retries += f->workers[t].retries;
    }
    int64_t resolved = 0;
    for (size_t i = 0; i < m->nholds; i++)
        resolved += m->holds[i].resolved;
    fprintf(stderr,
            "test_ledger_random: %d rounds, %lld requests (%lld ok, %lld retries), %zu holds "
            "(%lld posted or voided), %lld ids burned, %lld points expired, %lld ms\n",
            ROUNDS, (long long)sent, (long long)oks, (long long)retries, m->nholds,
            (long long)resolved, (long long)m->burned, (long long)m->expired_points,
            (long long)(lc_mono_ms() - t0));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(ledger_random_operations_keep_every_invariant, setup,
                                        teardown),
    };
    return cmocka_run_group_tests_name("ledger_random", tests, NULL, NULL);
}
