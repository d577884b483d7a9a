/*
 * bench_sql.c: the two SQL designs `make bench` compares the ledger with, on a
 * database preloaded by preload.sql with the ledger's own schema and the same
 * accounts (members funded with 10^9 points, partners, the operator):
 *
 *   baseline_row_lock  the common SQL ledger design: one transaction per transfer
 *                      that locks both accounts FOR UPDATE in id order, checks
 *                      the debit account's balance, updates both, inserts the
 *                      journal row and commits; --clients connections.
 *   sql_batch_ceiling  PostgreSQL's own ceiling for this work: one connection
 *                      writing batches of --batch transfers per transaction (one
 *                      multi-row insert of journal rows, one UPDATE that touches
 *                      every account of the batch once with its summed delta), no
 *                      checks, no ZeroMQ. Its latency is that of a whole batch.
 *
 * Transfers are drawn as in bench_ledger.c (1 in 10 credits a hot partner). The
 * journal rows carry empty hashes: neither design computes the hash chain.
 *
 *   bench_sql --scenario=baseline_row_lock|sql_batch_ceiling --conninfo=C
 *             [--clients=64] [--warmup=5] [--seconds=30] [--members=100000] [--partners=100]
 *             [--batch=1000]
 */
#include "bench_common.h"
#include "lc_db.h"
#include "lc_err.h"
#include "lc_log.h"
#include "lc_time.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct sql_bench {
    const char *conninfo;
    int members, partners, batch;
    int64_t next_seq; /* sql_batch_ceiling: its single writer numbers the rows */
} sql_bench_t;

/* Draws one transfer as bench_ledger does. */
static void s_draw(const sql_bench_t *b, unsigned *seed, lc_id_t *dr, lc_id_t *cr, int64_t *amount)
{
    int d = rand_r(seed) % b->members, c = rand_r(seed) % b->members;
    *dr = bench_account(BENCH_MEMBER, d);
    *cr = bench_account(BENCH_MEMBER, c == d ? (c + 1) % b->members : c);
    if (rand_r(seed) % 10 == 0)
        *cr = bench_account(BENCH_PARTNER, rand_r(seed) % b->partners);
    *amount = 1 + rand_r(seed) % 100;
}

static const char SQL_LOCK[] =
    "SELECT id, flags, credits_posted - debits_posted FROM ledger.accounts"
    " WHERE id IN ($1::uuid, $2::uuid) ORDER BY id FOR UPDATE";
static const char SQL_DEBIT[] =
    "UPDATE ledger.accounts SET debits_posted = debits_posted + $2::bigint WHERE id = $1::uuid";
static const char SQL_CREDIT[] =
    "UPDATE ledger.accounts SET credits_posted = credits_posted + $2::bigint WHERE id = $1::uuid";
static const char SQL_INSERT[] =
    "INSERT INTO ledger.journal (seq, entry_type, id, debit_account_id, credit_account_id,"
    " amount, ts, prev_hash, hash) VALUES (nextval('bench_seq'), 2, $1::uuid, $2::uuid,"
    " $3::uuid, $4::bigint, $5::bigint, '\\x', '\\x')";

/* One row-lock transfer: LC_OK, LC_ERR_CONFLICT when the balance is short, or a
 * database error (the transaction is then rolled back). */
static int s_row_lock_transfer(lc_db_t *db, const lc_id_t *dr, const lc_id_t *cr, int64_t amount)
{
    char d[LC_ID_STRLEN + 1], c[LC_ID_STRLEN + 1], t[LC_ID_STRLEN + 1], amt[24], ts[24];
    lc_id_t tid;
    lc_id_new(&tid);
    lc_id_format(dr, d);
    lc_id_format(cr, c);
    lc_id_format(&tid, t);
    snprintf(amt, sizeof amt, "%" PRId64, amount);
    snprintf(ts, sizeof ts, "%" PRId64, lc_now_us());
    lc_dbres_t *res = NULL;
    int rc = lc_db_begin(db);
    if (rc == LC_OK)
        rc = lc_db_exec(db, SQL_LOCK, 2, (const char *[]){d, c}, &res);
    if (rc == LC_OK) {
        /* The debit account's row: flags bit 0 is debits_must_not_exceed_credits. */
        int row = lc_dbres_rows(res) == 2 && !strcmp(lc_dbres_get(res, 0, 0), d) ? 0 : 1;
        int64_t flags = 0, balance = 0;
        if (lc_dbres_rows(res) != 2 || lc_dbres_i64(res, row, 1, &flags) ||
            lc_dbres_i64(res, row, 2, &balance))
            rc = LC_ERR_NOT_FOUND;
        else if ((flags & 1) && balance < amount)
            rc = LC_ERR_CONFLICT;
    }
    lc_dbres_free(&res);
    if (rc == LC_OK)
        rc = lc_db_exec(db, SQL_DEBIT, 2, (const char *[]){d, amt}, NULL);
    if (rc == LC_OK)
        rc = lc_db_exec(db, SQL_CREDIT, 2, (const char *[]){c, amt}, NULL);
    if (rc == LC_OK)
        rc = lc_db_exec(db, SQL_INSERT, 5, (const char *[]){t, d, c, amt, ts}, NULL);
    if (rc == LC_OK)
        rc = lc_db_commit(db);
    else
        lc_db_rollback(db);
    return rc;
}

static void *s_row_lock(void *arg)
{
    bench_worker_t *w = arg;
    const sql_bench_t *b = w->ctx;
    char *err = NULL;
    lc_db_t *db = lc_db_connect(b->conninfo, &err);
    if (!db) {
        fprintf(stderr, "bench_sql: %s\n", err ? err : "cannot connect");
        free(err);
        w->errors++;
        return NULL;
    }
    while (!*w->stop) {
        lc_id_t dr, cr;
        int64_t amount;
        s_draw(b, &w->seed, &dr, &cr, &amount);
        int64_t t0 = lc_now_us();
        int rc = s_row_lock_transfer(db, &dr, &cr, amount);
        bench_done(w, rc == LC_OK, lc_now_us() - t0);
    }
    lc_db_destroy(&db);
    return NULL;
}

/* ---- sql_batch_ceiling -------------------------------------------------------- */

typedef struct delta {
    lc_id_t id;
    int64_t debits, credits;
} delta_t;

static int s_delta_cmp(const void *a, const void *b)
{
    return memcmp(&((const delta_t *)a)->id, &((const delta_t *)b)->id, sizeof(lc_id_t));
}

static const char SQL_BATCH_JOURNAL[] =
    "INSERT INTO ledger.journal (seq, entry_type, id, debit_account_id, credit_account_id,"
    " amount, ts, prev_hash, hash)"
    " SELECT s, 2, i, d, c, a, t, '\\x', '\\x' FROM unnest($1::bigint[], $2::uuid[],"
    " $3::uuid[], $4::uuid[], $5::bigint[], $6::bigint[]) AS u(s, i, d, c, a, t)";
static const char SQL_BATCH_ACCOUNTS[] =
    "UPDATE ledger.accounts AS a SET debits_posted = a.debits_posted + u.dp,"
    " credits_posted = a.credits_posted + u.cp"
    " FROM unnest($1::uuid[], $2::bigint[], $3::bigint[]) AS u(id, dp, cp) WHERE a.id = u.id";

/* Writes one batch of b->batch transfers in one transaction. */
static int s_write_batch(sql_bench_t *b, lc_db_t *db, unsigned *seed, delta_t *deltas)
{
    lc_dbarr_t j[6], a[3];
    for (int i = 0; i < 6; i++)
        lc_dbarr_init(&j[i]);
    for (int i = 0; i < 3; i++)
        lc_dbarr_init(&a[i]);
    int64_t now = lc_now_us();
    size_t nd = 0;
    for (int i = 0; i < b->batch; i++) {
        lc_id_t dr, cr, tid;
        int64_t amount;
        s_draw(b, seed, &dr, &cr, &amount);
        lc_id_new(&tid);
        lc_dbarr_i64(&j[0], b->next_seq++);
        lc_dbarr_id(&j[1], &tid);
        lc_dbarr_id(&j[2], &dr);
        lc_dbarr_id(&j[3], &cr);
        lc_dbarr_i64(&j[4], amount);
        lc_dbarr_i64(&j[5], now);
        deltas[nd++] = (delta_t){dr, amount, 0};
        deltas[nd++] = (delta_t){cr, 0, amount};
    }
    /* One row per touched account with its summed delta. */
    qsort(deltas, nd, sizeof *deltas, s_delta_cmp);
    for (size_t i = 0; i < nd;) {
        delta_t sum = deltas[i++];
        for (; i < nd && !memcmp(&deltas[i].id, &sum.id, sizeof sum.id); i++) {
            sum.debits += deltas[i].debits;
            sum.credits += deltas[i].credits;
        }
        lc_dbarr_id(&a[0], &sum.id);
        lc_dbarr_i64(&a[1], sum.debits);
        lc_dbarr_i64(&a[2], sum.credits);
    }
    const char *jp[6], *ap[3];
    int rc = LC_OK;
    for (int i = 0; i < 6; i++)
        if (!(jp[i] = lc_dbarr_finish(&j[i])))
            rc = LC_ERR_NOMEM;
    for (int i = 0; i < 3; i++)
        if (!(ap[i] = lc_dbarr_finish(&a[i])))
            rc = LC_ERR_NOMEM;
    if (rc == LC_OK)
        rc = lc_db_begin(db);
    if (rc == LC_OK)
        rc = lc_db_exec(db, SQL_BATCH_JOURNAL, 6, jp, NULL);
    if (rc == LC_OK)
        rc = lc_db_exec(db, SQL_BATCH_ACCOUNTS, 3, ap, NULL);
    if (rc == LC_OK)
        rc = lc_db_commit(db);
    else
        lc_db_rollback(db);
    for (int i = 0; i < 6; i++)
        lc_dbarr_free(&j[i]);
    for (int i = 0; i < 3; i++)
        lc_dbarr_free(&a[i]);
    return rc;
}

static void *s_batch(void *arg)
{
    bench_worker_t *w = arg;
    sql_bench_t *b = w->ctx;
    char *err = NULL;
    lc_db_t *db = lc_db_connect(b->conninfo, &err);
    delta_t *deltas = calloc(2 * (size_t)b->batch, sizeof *deltas);
    if (!db || !deltas) {
        fprintf(stderr, "bench_sql: %s\n", err ? err : "cannot connect");
        free(err);
        free(deltas);
        lc_db_destroy(&db);
        w->errors++;
        return NULL;
    }
    while (!*w->stop) {
        int64_t t0 = lc_now_us();
        int rc = s_write_batch(b, db, &w->seed, deltas);
        bench_done(w, rc == LC_OK, lc_now_us() - t0);
    }
    free(deltas);
    lc_db_destroy(&db);
    return NULL;
}

/* Creates the sequence the row-lock design numbers its rows with, and finds the
 * first free seq for the batch writer. */
static int s_prepare(sql_bench_t *b)
{
    char *err = NULL;
    lc_db_t *db = lc_db_connect(b->conninfo, &err);
    if (!db) {
        fprintf(stderr, "bench_sql: %s\n", err ? err : "cannot connect");
        free(err);
        return LC_ERR_UNAVAILABLE;
    }
    lc_dbres_t *res = NULL;
    int rc = lc_db_exec(db, "CREATE SEQUENCE IF NOT EXISTS bench_seq START 1000000000", 0, NULL,
                        NULL);
    if (rc == LC_OK)
        rc = lc_db_exec(db, "SELECT coalesce(max(seq), 0) + 1 FROM ledger.journal", 0, NULL,
                        &res);
    if (rc == LC_OK)
        rc = lc_dbres_i64(res, 0, 0, &b->next_seq);
    if (rc != LC_OK)
        fprintf(stderr, "bench_sql: preparing failed: %s\n", lc_db_error(db));
    lc_dbres_free(&res);
    lc_db_destroy(&db);
    return rc;
}

int main(int argc, char **argv)
{
    sql_bench_t b = {
        .conninfo = bench_opt_str(argc, argv, "conninfo", NULL),
        .members = (int)bench_opt(argc, argv, "members", 100000),
        .partners = (int)bench_opt(argc, argv, "partners", 100),
        .batch = (int)bench_opt(argc, argv, "batch", 1000),
    };
    const char *scenario = bench_opt_str(argc, argv, "scenario", "");
    int clients = (int)bench_opt(argc, argv, "clients", 64);
    int seconds = (int)bench_opt(argc, argv, "seconds", 30);
    int warmup = (int)bench_opt(argc, argv, "warmup", 5);
    bool row_lock = !strcmp(scenario, "baseline_row_lock");
    if (!b.conninfo || (!row_lock && strcmp(scenario, "sql_batch_ceiling")) || b.members < 2 ||
        b.partners < 1 || b.batch < 1 || clients < 1 || seconds < 1) {
        fprintf(stderr, "usage: bench_sql --scenario=baseline_row_lock|sql_batch_ceiling"
                        " --conninfo=C [--clients=64] [--warmup=5] [--seconds=30] [--members=100000]"
                        " [--partners=100] [--batch=1000]\n");
        return 2;
    }
    lc_log_init("bench", LC_LOG_ERROR, 2);
    if (s_prepare(&b) != LC_OK)
        return 1;
    if (row_lock)
        return bench_run(scenario, clients, warmup, seconds, 1, s_row_lock, &b);
    return bench_run(scenario, 1, warmup, seconds, b.batch, s_batch, &b);
}
