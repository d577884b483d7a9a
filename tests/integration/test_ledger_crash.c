/*
 * test_ledger_crash.c: acknowledged means durable, and a retry never applies a
 * transfer twice, while the ledger is killed with SIGKILL at random moments.
 *
 * Four clients send one transfer per request, each with a fresh id, and retry it
 * with the same id (Lazy Pirate: a short wait per attempt, then a fresh socket)
 * until the ledger gives a definitive answer: ok, exists (an earlier attempt
 * committed but its reply was lost in a crash), or a business failure
 * (exceeds_credits, or id_already_failed when the failure itself committed before
 * the crash). Meanwhile the test kills and restarts the ledger several times.
 * Afterwards the journal must hold exactly the ids answered ok or exists, each
 * once, ledger.failed exactly the ids answered with a failure, and the books
 * must balance and verify.
 *
 * The seed (COAL_TEST_SEED or the clock) is printed and is part of every failure
 * message; it fixes the kill times and the transfer mix, not the interleaving.
 */
#include "harness.h"
#include "lc_err.h"
#include "lc_log.h"
#include "lc_time.h"

#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
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
    MEMBER0 = 1,        /* members 1..N_MEMBERS: debits_must_not_exceed_credits, lots */
    N_MEMBERS = 20,
    PARTNER = 1000,     /* funds the members; no flags */
    N_THREADS = 4,
    KILLS = 7,
    ATTEMPT_MS = 300,   /* wait for one attempt's reply, then retry */
    GIVE_UP_MS = 60000, /* one transfer without a definitive answer this long: failure */
};

typedef struct rec {
    uint64_t id, dr, cr;
    int64_t amount;
    char result[48];    /* the first definitive answer */
    int attempts;
} rec_t;

typedef struct worker {
    const th_ledger_t *ledger;
    int index;
    unsigned short rng[3];
    atomic_int *stop;
    rec_t *recs;
    size_t nrecs, caprecs;
    int nerr;
    char err[2048];
    int64_t timeouts, unavailable; /* attempts that had to be retried */
} worker_t;

__attribute__((format(printf, 2, 3))) static void s_err(worker_t *w, const char *fmt, ...)
{
    if (w->nerr++ >= 6)
        return;
    size_t used = strlen(w->err);
    int k = snprintf(w->err + used, sizeof w->err - used, "\n  [thread %d] ", w->index);
    if (k < 0 || (size_t)k >= sizeof w->err - used)
        return;
    used += (size_t)k;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(w->err + used, sizeof w->err - used, fmt, ap);
    va_end(ap);
}

static int64_t s_between(unsigned short rng[3], int64_t lo, int64_t hi)
{
    return lo + (int64_t)((uint64_t)nrand48(rng) % (uint64_t)(hi - lo + 1));
}

static json_t *s_transfer_json(const rec_t *r)
{
    char id[LC_ID_STRLEN + 1], dr[LC_ID_STRLEN + 1], cr[LC_ID_STRLEN + 1];
    th_id_text(r->id, id);
    th_id_text(r->dr, dr);
    th_id_text(r->cr, cr);
    return json_pack("{s:[{s:s, s:s, s:s, s:I}]}", "transfers", "id", id, "debit_account_id", dr,
                     "credit_account_id", cr, "amount", (json_int_t)r->amount);
}

static bool s_definitive(const char *result)
{
    return !strcmp(result, "ok") || !strcmp(result, "exists") ||
           !strcmp(result, "exceeds_credits") || !strcmp(result, "id_already_failed");
}

/* Sends r with the same id until a definitive answer comes. */
static void s_settle(worker_t *w, th_client_t *c, rec_t *r)
{
    int64_t start = lc_mono_ms();
    for (;;) {
        r->attempts++;
        json_t *rep = NULL;
        char code[64];
        int rc = th_try_call(c, LD_TYPE_CREATE_TRANSFERS, s_transfer_json(r), ATTEMPT_MS, 0, &rep,
                             code, sizeof code);
        if (rc == LC_OK && rep) {
            json_t *item = json_array_get(json_object_get(rep, "results"), 0);
            const char *res = json_string_value(json_object_get(item, "result"));
            snprintf(r->result, sizeof r->result, "%s", res ? res : "?");
            json_decref(rep);
            if (!s_definitive(r->result))
                s_err(w, "transfer %llu answered %s", (unsigned long long)r->id, r->result);
            return;
        }
        if (rc == LC_OK && strcmp(code, "unavailable") != 0 &&
            strcmp(code, "deadline_exceeded") != 0) {
            snprintf(r->result, sizeof r->result, "error:%s", code);
            s_err(w, "transfer %llu answered error %s", (unsigned long long)r->id, code);
            return;
        }
        if (rc == LC_OK)
            w->unavailable++;
        else
            w->timeouts++;
        if (lc_mono_ms() - start > GIVE_UP_MS) {
            snprintf(r->result, sizeof r->result, "none");
            s_err(w, "transfer %llu: no definitive answer in %d ms (%d attempts)",
                  (unsigned long long)r->id, GIVE_UP_MS, r->attempts);
            return;
        }
    }
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
    uint64_t next = ((uint64_t)(w->index + 1) << 40) + 1;
    while (!atomic_load(w->stop) && w->nerr == 0) {
        if (w->nrecs == w->caprecs) {
            w->caprecs = w->caprecs ? w->caprecs * 2 : 1024;
            w->recs = realloc(w->recs, w->caprecs * sizeof *w->recs);
            if (!w->recs)
                abort();
        }
        rec_t *r = &w->recs[w->nrecs++];
        memset(r, 0, sizeof *r);
        r->id = next++;
        uint64_t m = MEMBER0 + (uint64_t)s_between(w->rng, 0, N_MEMBERS - 1);
        if (s_between(w->rng, 0, 99) < 40) { /* an earn */
            r->dr = PARTNER;
            r->cr = m;
            r->amount = s_between(w->rng, 1, 100);
        } else { /* a gift between members, which may exceed the giver's points */
            r->dr = m;
            r->cr = MEMBER0 + (m - MEMBER0 + (uint64_t)s_between(w->rng, 1, N_MEMBERS - 1)) %
                                  N_MEMBERS;
            r->amount = s_between(w->rng, 0, 9) < 7 ? s_between(w->rng, 1, 150)
                                                     : s_between(w->rng, 100, 3000);
        }
        s_settle(w, &c, r);
    }
    th_client_close(&c);
    return NULL;
}

/* ---- the test --------------------------------------------------------------------- */

typedef struct fixture {
    char db[64];
    th_ledger_t ledger;
    long seed;
    worker_t workers[N_THREADS];
} fixture_t;

__attribute__((format(printf, 2, 3))) static void s_fail(const fixture_t *f, const char *fmt, ...)
{
    char msg[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    fail_msg("seed %ld (rerun with COAL_TEST_SEED=%ld): %s", f->seed, f->seed, msg);
}

static void s_expect_i64(const fixture_t *f, const char *what, int64_t got, int64_t want)
{
    if (got != want)
        s_fail(f, "%s: %lld, expected %lld", what, (long long)got, (long long)want);
}

static int s_cmp_rec(const void *a, const void *b)
{
    const rec_t *x = a, *y = b;
    return x->id < y->id ? -1 : x->id > y->id;
}

/* The number n of th_id(n) in a database row, or 0 when it is not such an id. */
static uint64_t s_row_number(const lc_dbres_t *res, int row, int col)
{
    lc_id_t id;
    if (lc_dbres_id(res, row, col, &id) != LC_OK)
        return 0;
    uint64_t n = 0;
    for (int i = 9; i < 16; i++)
        n = n << 8 | id.b[i];
    lc_id_t back = th_id(n);
    return lc_id_eq(&back, &id) ? n : 0;
}

static bool s_acked(const rec_t *r)
{
    return !strcmp(r->result, "ok") || !strcmp(r->result, "exists");
}

static int setup(void **state)
{
    fixture_t *f = calloc(1, sizeof *f);
    th_db_create(f->db, sizeof f->db);
    th_ledger_start(&f->ledger, f->db);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture_t *f = *state;
    th_ledger_stop(&f->ledger);
    for (int t = 0; t < N_THREADS; t++)
        free(f->workers[t].recs);
    free(f);
    return 0;
}

static void ledger_sigkill_loses_no_acknowledged_transfer_and_applies_none_twice(void **state)
{
    fixture_t *f = *state;
    const char *env = getenv("COAL_TEST_SEED");
    f->seed = env && *env ? strtol(env, NULL, 10) : (long)time(NULL);
    fprintf(stderr, "test_ledger_crash: seed %ld (rerun with COAL_TEST_SEED=%ld)\n", f->seed,
            f->seed);
    srand48(f->seed);
    /* Every timed-out attempt is expected here; keep the client's warnings out. */
    lc_log_init("test_ledger_crash", LC_LOG_ERROR, 2);

    th_client_t c;
    th_client_open(&c, &f->ledger);
    json_t *list = json_array();
    json_array_append_new(list, th_account(PARTNER, "partner_issuance", NULL));
    for (int i = 0; i < N_MEMBERS; i++)
        json_array_append_new(list, th_account(MEMBER0 + (uint64_t)i, "member",
                                               "debits_must_not_exceed_credits,lots"));
    json_t *rep = th_call(&c, LD_TYPE_CREATE_ACCOUNTS, json_pack("{s:o}", "accounts", list), NULL,
                          0);
    json_t *results = json_object_get(rep, "results");
    assert_int_equal(json_array_size(results), N_MEMBERS + 1);
    for (size_t i = 0; i < json_array_size(results); i++)
        assert_string_equal(json_string_value(json_object_get(json_array_get(results, i),
                                                              "result")),
                            "ok");
    json_decref(rep);
    th_client_close(&c);

    /* Clients send while the ledger is killed and restarted. */
    atomic_int stop = 0;
    pthread_t tids[N_THREADS];
    for (int t = 0; t < N_THREADS; t++) {
        worker_t *w = &f->workers[t];
        w->ledger = &f->ledger;
        w->index = t;
        w->stop = &stop;
        for (int k = 0; k < 3; k++)
            w->rng[k] = (unsigned short)lrand48();
        assert_int_equal(pthread_create(&tids[t], NULL, s_worker, w), 0);
    }
    int64_t t0 = lc_mono_ms();
    for (int k = 0; k < KILLS; k++) {
        usleep((useconds_t)(300 + lrand48() % 1500) * 1000);
        th_ledger_kill(&f->ledger, SIGKILL);
        th_ledger_wait_session_gone(&f->ledger);
        th_ledger_start(&f->ledger, f->db);
    }
    usleep(500 * 1000);
    atomic_store(&stop, 1);
    for (int t = 0; t < N_THREADS; t++)
        pthread_join(tids[t], NULL);
    int64_t elapsed = lc_mono_ms() - t0;
    for (int t = 0; t < N_THREADS; t++)
        if (f->workers[t].nerr)
            s_fail(f, "%d problem(s) seen by the clients:%s", f->workers[t].nerr,
                   f->workers[t].err);

    /* Every answer, sorted by id; members' balances as the answers say. */
    size_t n = 0;
    for (int t = 0; t < N_THREADS; t++)
        n += f->workers[t].nrecs;
    rec_t *all = calloc(n ? n : 1, sizeof *all);
    size_t k = 0;
    int64_t acked = 0, refused = 0, lost_replies = 0, retried = 0, timeouts = 0, unavailable = 0;
    int64_t model[N_MEMBERS] = {0};
    for (int t = 0; t < N_THREADS; t++) {
        worker_t *w = &f->workers[t];
        timeouts += w->timeouts;
        unavailable += w->unavailable;
        for (size_t i = 0; i < w->nrecs; i++) {
            rec_t *r = &all[k++];
            *r = w->recs[i];
            retried += r->attempts > 1;
            /* A fresh id cannot exist or have failed before its first attempt. */
            if (r->attempts == 1 &&
                (!strcmp(r->result, "exists") || !strcmp(r->result, "id_already_failed")))
                s_fail(f, "transfer %llu answered %s at its first attempt",
                       (unsigned long long)r->id, r->result);
            lost_replies += !strcmp(r->result, "exists") || !strcmp(r->result,
                                                                    "id_already_failed");
            if (s_acked(r)) {
                acked++;
                if (r->dr != PARTNER)
                    model[r->dr - MEMBER0] -= r->amount;
                model[r->cr - MEMBER0] += r->amount;
            } else {
                refused++;
            }
        }
    }
    qsort(all, n, sizeof *all, s_cmp_rec);

    /* The journal holds each acknowledged id exactly once and nothing else. */
    lc_db_t *db = th_db_connect("coal_admin", f->db);
    lc_dbres_t *res = NULL;
    if (lc_db_exec(db,
                   "SELECT id, count(*) FROM ledger.journal WHERE entry_type = 2 GROUP BY id",
                   0, NULL, &res) != LC_OK)
        s_fail(f, "journal query: %s", lc_db_error(db));
    int64_t rows = lc_dbres_rows(res);
    for (int i = 0; i < lc_dbres_rows(res); i++) {
        int64_t count = 0;
        lc_dbres_i64(res, i, 1, &count);
        rec_t key = {.id = s_row_number(res, i, 0)};
        rec_t *r = bsearch(&key, all, n, sizeof *all, s_cmp_rec);
        if (!r)
            s_fail(f, "journal holds transfer %s, which no client sent", lc_dbres_get(res, i, 0));
        if (count != 1)
            s_fail(f, "transfer %llu is in the journal %lld times", (unsigned long long)r->id,
                   (long long)count);
        if (!s_acked(r))
            s_fail(f, "transfer %llu is in the journal but was answered %s",
                   (unsigned long long)r->id, r->result);
    }
    lc_dbres_free(&res);
    s_expect_i64(f, "journal transfers vs transfers answered ok or exists", rows, acked);

    /* ledger.failed holds exactly the ids answered with a failure: the refusal was
     * durable too, so no retry could have turned it into a success. */
    if (lc_db_exec(db, "SELECT id FROM ledger.failed", 0, NULL, &res) != LC_OK)
        s_fail(f, "failed query: %s", lc_db_error(db));
    rows = lc_dbres_rows(res);
    for (int i = 0; i < lc_dbres_rows(res); i++) {
        rec_t key = {.id = s_row_number(res, i, 0)};
        rec_t *r = bsearch(&key, all, n, sizeof *all, s_cmp_rec);
        if (!r || s_acked(r))
            s_fail(f, "ledger.failed holds %s, answered %s", lc_dbres_get(res, i, 0),
                   r ? r->result : "never sent");
    }
    lc_dbres_free(&res);
    lc_db_destroy(&db);
    s_expect_i64(f, "ledger.failed rows vs transfers answered with a failure", rows, refused);

    /* The books: balanced, verified, stored balances equal to the journal's. */
    th_client_open(&c, &f->ledger);
    json_t *tb = th_call(&c, LD_TYPE_TRIAL_BALANCE, json_object(), NULL, 0);
    s_expect_i64(f, "trial balance sum", json_integer_value(json_object_get(tb, "sum")), 0);
    json_decref(tb);
    json_t *v = th_call(&c, LD_TYPE_VERIFY, json_object(), NULL, 0);
    if (!v || !json_is_true(json_object_get(v, "ok")))
        s_fail(f, "verify: %s", v ? json_string_value(json_object_get(v, "reason")) : "no reply");
    json_decref(v);
    for (int i = 0; i < N_MEMBERS; i++) {
        int64_t bal = th_balance(&c, MEMBER0 + (uint64_t)i, "balance");
        if (bal != model[i])
            s_fail(f, "member %d: balance %lld, acknowledged transfers add up to %lld",
                   MEMBER0 + i, (long long)bal, (long long)model[i]);
    }
    th_client_close(&c);
    s_expect_i64(f, "accounts whose stored balance differs from the journal",
                 th_sql_i64(f->db,
                            "SELECT count(*) FROM ledger.accounts a WHERE a.credits_posted - "
                            "a.debits_posted <> "
                            "(SELECT coalesce(sum(CASE WHEN j.credit_account_id = a.id THEN "
                            "j.amount ELSE -j.amount END), 0) FROM ledger.journal j "
                            "WHERE j.entry_type = 2 AND (j.credit_account_id = a.id OR "
                            "j.debit_account_id = a.id))"),
                 0);
    s_expect_i64(f, "members whose lots do not add up to their balance",
                 th_sql_i64(f->db, "SELECT count(*) FROM ledger.accounts a WHERE a.flags & 4 <> 0 "
                                   "AND a.credits_posted - a.debits_posted + a.debt <> "
                                   "(SELECT coalesce(sum(remaining), 0) FROM ledger.lots l "
                                   "WHERE l.account_id = a.id)"),
                 0);
    s_expect_i64(f, "member debits whose lot allocations differ from their amount",
                 th_sql_i64(f->db, "SELECT count(*) FROM ledger.journal t JOIN ledger.accounts a "
                                   "ON a.id = t.debit_account_id AND a.flags & 4 <> 0 "
                                   "WHERE t.entry_type = 2 AND t.amount <> (SELECT "
                                   "coalesce(sum(x.amount), 0) FROM ledger.allocations x "
                                   "WHERE x.origin_id = t.id)"),
                 0);
    s_expect_i64(f, "journal gap-free",
                 th_sql_i64(f->db, "SELECT (count(*) = max(seq))::int FROM ledger.journal"), 1);
    fprintf(stderr,
            "test_ledger_crash: %d kills in %lld ms; %zu transfers: %lld acknowledged, %lld "
            "refused; %lld needed retries (%lld timeouts, %lld unavailable), %lld answered "
            "from an attempt lost in a crash (exists / id_already_failed)\n",
            KILLS, (long long)elapsed, n, (long long)acked, (long long)refused,
            (long long)retried, (long long)timeouts, (long long)unavailable,
            (long long)lost_replies);
    /* The test is only worth something when crashes hit transfers in flight. */
    assert_true(retried > 0);
    free(all);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(
            ledger_sigkill_loses_no_acknowledged_transfer_and_applies_none_twice, setup,
            teardown),
    };
    return cmocka_run_group_tests_name("ledger_crash", tests, NULL, NULL);
}
