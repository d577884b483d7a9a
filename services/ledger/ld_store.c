/*
 * ld_store.c: load the ledger state and write batches (see ld_store.h).
 *
 * Every statement is parameterized; batches travel as array literals built with
 * lc_dbarr and are expanded by unnest() on the server.
 */
#include "ld_store.h"
#include "lc_err.h"
#include "lc_log.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- writing -------------------------------------------------------------------- */

/*
 * A batch is written by ONE statement: each table's rows are a data-modifying CTE
 * over unnest() of array parameters, and the statement runs on its own (no
 * BEGIN/COMMIT around it), so PostgreSQL makes it one implicit transaction: all
 * rows or none, committed (and, with synchronous_commit=on, flushed) before the
 * answer comes back. One round trip per batch instead of BEGIN, a statement per
 * table and COMMIT. Tables with no rows in the batch get empty arrays: unnest()
 * of an empty array yields no row, and the plan stays the same for every batch.
 *
 * Parameters are numbered in column order across the tables: journal $1-$17,
 * accounts $18-$29, lots $30-$36, allocations $37-$41, pending $42-$45,
 * failed $46-$48 (the enums below give each column's offset).
 */
enum { J_SEQ, J_TYPE, J_ID, J_DEBIT, J_CREDIT, J_AMOUNT, J_PENDING, J_REVERSES, J_FLAGS, J_CODE,
       J_KIND, J_USER, J_TIMEOUT, J_EXPIRES, J_TS, J_PREV, J_HASH, J_NCOLS };
enum { A_ID, A_KIND, A_FLAGS, A_CODE, A_USER, A_DP, A_DPO, A_CP, A_CPO, A_DEBT, A_SEQ, A_TS,
       A_NCOLS };
enum { L_ID, L_ACCOUNT, L_AMOUNT, L_REMAINING, L_EXPIRES, L_EXPIRIES, L_SEQ, L_NCOLS };
enum { R_SEQ, R_TRANSFER, R_ORIGIN, R_LOT, R_AMOUNT, R_NCOLS };
enum { P_ID, P_STATE, P_DEADLINE, P_RESOLVED, P_NCOLS };
enum { F_ID, F_RESULT, F_TS, F_NCOLS };

/* Where each table's columns start among the statement's parameters. */
enum {
    COL_J = 0,
    COL_A = COL_J + J_NCOLS,
    COL_L = COL_A + A_NCOLS,
    COL_R = COL_L + L_NCOLS,
    COL_P = COL_R + R_NCOLS,
    COL_F = COL_P + P_NCOLS,
    COL_N = COL_F + F_NCOLS
};

static const char SQL_BATCH[] =
    "WITH j AS (INSERT INTO ledger.journal (seq, entry_type, id, debit_account_id,"
    " credit_account_id, amount, pending_id, reverses, flags, code, kind, user_data, timeout_s,"
    " expires_at, ts, prev_hash, hash)"
    " SELECT * FROM unnest($1::bigint[], $2::smallint[], $3::uuid[], $4::uuid[], $5::uuid[],"
    " $6::bigint[], $7::uuid[], $8::uuid[], $9::integer[], $10::integer[], $11::smallint[],"
    " $12::uuid[], $13::integer[], $14::bigint[], $15::bigint[], $16::bytea[], $17::bytea[])),"
    " a AS (INSERT INTO ledger.accounts AS a (id, kind, flags, code, user_data, debits_pending,"
    " debits_posted, credits_pending, credits_posted, debt, created_seq, ts)"
    " SELECT * FROM unnest($18::uuid[], $19::smallint[], $20::integer[], $21::integer[],"
    " $22::uuid[], $23::bigint[], $24::bigint[], $25::bigint[], $26::bigint[], $27::bigint[],"
    " $28::bigint[], $29::bigint[])"
    " ON CONFLICT (id) DO UPDATE SET flags = EXCLUDED.flags,"
    " debits_pending = EXCLUDED.debits_pending, debits_posted = EXCLUDED.debits_posted,"
    " credits_pending = EXCLUDED.credits_pending, credits_posted = EXCLUDED.credits_posted,"
    " debt = EXCLUDED.debt),"
    " l AS (INSERT INTO ledger.lots (id, account_id, amount, remaining, expires_at, expiries,"
    " created_seq)"
    " SELECT * FROM unnest($30::uuid[], $31::uuid[], $32::bigint[], $33::bigint[],"
    " $34::bigint[], $35::integer[], $36::bigint[])"
    " ON CONFLICT (id) DO UPDATE SET remaining = EXCLUDED.remaining,"
    " expiries = EXCLUDED.expiries),"
    " r AS (INSERT INTO ledger.allocations (seq, transfer_id, origin_id, lot_id, amount)"
    " SELECT * FROM unnest($37::bigint[], $38::uuid[], $39::uuid[], $40::uuid[],"
    " $41::bigint[])),"
    " p AS (INSERT INTO ledger.pending (id, state, deadline, resolved_by)"
    " SELECT * FROM unnest($42::uuid[], $43::smallint[], $44::bigint[], $45::uuid[])"
    " ON CONFLICT (id) DO UPDATE SET state = EXCLUDED.state,"
    " resolved_by = EXCLUDED.resolved_by),"
    " f AS (INSERT INTO ledger.failed (id, result, ts)"
    " SELECT * FROM unnest($46::uuid[], $47::smallint[], $48::bigint[]))"
    " SELECT 1";

static void s_add_journal(lc_dbarr_t *c, const ld_batch_t *b)
{
    for (size_t i = 0; i < b->nentries; i++) {
        const ld_entry_t *e = &b->entries[i];
        lc_dbarr_i64(&c[J_SEQ], e->seq);
        lc_dbarr_i64(&c[J_TYPE], e->type);
        lc_dbarr_id(&c[J_ID], &e->id);
        lc_dbarr_id(&c[J_DEBIT], &e->debit_account_id);
        lc_dbarr_id(&c[J_CREDIT], &e->credit_account_id);
        lc_dbarr_i64(&c[J_AMOUNT], e->amount);
        lc_dbarr_id(&c[J_PENDING], &e->pending_id);
        lc_dbarr_id(&c[J_REVERSES], &e->reverses);
        lc_dbarr_i64(&c[J_FLAGS], (int32_t)e->flags);
        lc_dbarr_i64(&c[J_CODE], (int64_t)e->code);
        lc_dbarr_i64(&c[J_KIND], e->kind);
        lc_dbarr_id(&c[J_USER], &e->user_data);
        lc_dbarr_i64(&c[J_TIMEOUT], (int64_t)e->timeout);
        lc_dbarr_i64(&c[J_EXPIRES], e->expires_at);
        lc_dbarr_i64(&c[J_TS], e->timestamp);
        lc_dbarr_bytea(&c[J_PREV], e->prev_hash, sizeof e->prev_hash);
        lc_dbarr_bytea(&c[J_HASH], e->hash, sizeof e->hash);
    }
}

static void s_add_accounts(lc_dbarr_t *c, const ld_batch_t *b)
{
    for (size_t i = 0; i < b->naccounts; i++) {
        const ld_account_t *a = b->accounts[i];
        lc_dbarr_id(&c[A_ID], &a->id);
        lc_dbarr_i64(&c[A_KIND], a->kind);
        lc_dbarr_i64(&c[A_FLAGS], (int32_t)a->flags);
        lc_dbarr_i64(&c[A_CODE], (int64_t)a->code);
        lc_dbarr_id(&c[A_USER], &a->user_data);
        lc_dbarr_i64(&c[A_DP], a->debits_pending);
        lc_dbarr_i64(&c[A_DPO], a->debits_posted);
        lc_dbarr_i64(&c[A_CP], a->credits_pending);
        lc_dbarr_i64(&c[A_CPO], a->credits_posted);
        lc_dbarr_i64(&c[A_DEBT], a->debt);
        lc_dbarr_i64(&c[A_SEQ], a->created_seq);
        lc_dbarr_i64(&c[A_TS], a->created_at);
    }
}

static void s_add_lots(lc_dbarr_t *c, const ld_batch_t *b)
{
    for (size_t i = 0; i < b->nlots; i++) {
        const ld_lot_t *l = b->lots[i];
        lc_dbarr_id(&c[L_ID], &l->id);
        lc_dbarr_id(&c[L_ACCOUNT], &l->account_id);
        lc_dbarr_i64(&c[L_AMOUNT], l->amount);
        lc_dbarr_i64(&c[L_REMAINING], l->remaining);
        lc_dbarr_i64(&c[L_EXPIRES], l->expires_at);
        lc_dbarr_i64(&c[L_EXPIRIES], l->expiries);
        lc_dbarr_i64(&c[L_SEQ], l->created_seq);
    }
}

static void s_add_allocs(lc_dbarr_t *c, const ld_batch_t *b)
{
    for (size_t i = 0; i < b->nallocs; i++) {
        const ld_alloc_row_t *r = &b->allocs[i];
        lc_dbarr_i64(&c[R_SEQ], r->seq);
        lc_dbarr_id(&c[R_TRANSFER], &r->transfer_id);
        lc_dbarr_id(&c[R_ORIGIN], &r->origin_id);
        lc_dbarr_id(&c[R_LOT], &r->lot_id);
        lc_dbarr_i64(&c[R_AMOUNT], r->amount);
    }
}

static void s_add_pendings(lc_dbarr_t *c, const ld_batch_t *b)
{
    for (size_t i = 0; i < b->npendings; i++) {
        const ld_xfer_t *x = b->pendings[i];
        lc_dbarr_id(&c[P_ID], &x->t.id);
        lc_dbarr_i64(&c[P_STATE], x->pstate);
        lc_dbarr_i64(&c[P_DEADLINE], x->deadline);
        lc_dbarr_id(&c[P_RESOLVED], &x->resolved_by);
    }
}

static void s_add_failed(lc_dbarr_t *c, const ld_batch_t *b)
{
    for (size_t i = 0; i < b->nfailed; i++) {
        lc_dbarr_id(&c[F_ID], &b->failed[i].id);
        lc_dbarr_i64(&c[F_RESULT], b->failed[i].result);
        lc_dbarr_i64(&c[F_TS], b->failed[i].timestamp);
    }
}

int ld_store_write_batch(lc_db_t *db, const ld_state_t *s)
{
    const ld_batch_t *b = &s->batch;
    lc_dbarr_t cols[COL_N];
    const char *params[COL_N];
    for (int i = 0; i < COL_N; i++)
        lc_dbarr_init(&cols[i]);
    s_add_journal(cols + COL_J, b);
    s_add_accounts(cols + COL_A, b);
    s_add_lots(cols + COL_L, b);
    s_add_allocs(cols + COL_R, b);
    s_add_pendings(cols + COL_P, b);
    s_add_failed(cols + COL_F, b);
    int rc = LC_OK;
    for (int i = 0; i < COL_N; i++)
        if (!(params[i] = lc_dbarr_finish(&cols[i])))
            rc = LC_ERR_NOMEM;
    if (rc == LC_OK)
        rc = lc_db_exec(db, SQL_BATCH, COL_N, params, NULL);
    if (rc != LC_OK && rc != LC_ERR_NOMEM)
        lc_error(NULL, "batch write failed: %s (SQLSTATE %s)", lc_db_error(db),
                 lc_db_sqlstate(db));
    for (int i = 0; i < COL_N; i++)
        lc_dbarr_free(&cols[i]);
    return rc;
}

/* ---- loading -------------------------------------------------------------------- */

/* Rows fetched per round trip at start-up: large enough that round trips do not
 * matter, small enough that libpq never holds more than a few MB of text at once
 * (a single SELECT of 10 M journal rows would hold them all, several GB). */
#define LD_LOAD_FETCH "20000"

/* Reads one row of a loading query into the state; LC_OK or an error. */
typedef int (*ld_load_row_fn)(const lc_dbres_t *res, int row, ld_state_t *s);

/* Streams the rows of sql through a cursor, LD_LOAD_FETCH at a time, handing each
 * to fn. Must run inside the loading transaction. */
static int s_load_rows(lc_db_t *db, const char *sql, ld_load_row_fn fn, ld_state_t *s)
{
    char declare[1024];
    if ((size_t)snprintf(declare, sizeof declare, "DECLARE ld_load NO SCROLL CURSOR FOR %s", sql) >=
        sizeof declare)
        return LC_ERR_INVALID;
    int rc = lc_db_exec(db, declare, 0, NULL, NULL);
    for (int rows = 1; rc == LC_OK && rows > 0;) {
        lc_dbres_t *res;
        rc = lc_db_exec(db, "FETCH " LD_LOAD_FETCH " FROM ld_load", 0, NULL, &res);
        if (rc != LC_OK)
            break;
        rows = lc_dbres_rows(res);
        for (int i = 0; rc == LC_OK && i < rows; i++)
            rc = fn(res, i, s);
        lc_dbres_free(&res);
    }
    if (rc == LC_OK)
        rc = lc_db_exec(db, "CLOSE ld_load", 0, NULL, NULL);
    return rc;
}

static int s_account_row(const lc_dbres_t *res, int i, ld_state_t *s)
{
    ld_account_t *a = calloc(1, sizeof *a);
    int64_t kind, flags, code;
    if (!a)
        return LC_ERR_NOMEM;
    if (lc_dbres_id(res, i, 0, &a->id) || lc_dbres_i64(res, i, 1, &kind) ||
        lc_dbres_i64(res, i, 2, &flags) || lc_dbres_i64(res, i, 3, &code) ||
        lc_dbres_id(res, i, 4, &a->user_data) || lc_dbres_i64(res, i, 5, &a->debits_pending) ||
        lc_dbres_i64(res, i, 6, &a->debits_posted) ||
        lc_dbres_i64(res, i, 7, &a->credits_pending) ||
        lc_dbres_i64(res, i, 8, &a->credits_posted) || lc_dbres_i64(res, i, 9, &a->debt) ||
        lc_dbres_i64(res, i, 10, &a->created_seq) || lc_dbres_i64(res, i, 11, &a->created_at)) {
        free(a);
        return LC_ERR_INVALID;
    }
    a->kind = (int)kind;
    a->flags = (uint32_t)flags;
    a->code = (uint32_t)code;
    int rc = ld_state_load_account(s, a);
    if (rc != LC_OK)
        free(a);
    return rc;
}

static int s_lot_row(const lc_dbres_t *res, int i, ld_state_t *s)
{
    ld_lot_t *l = calloc(1, sizeof *l);
    int64_t expiries;
    if (!l)
        return LC_ERR_NOMEM;
    if (lc_dbres_id(res, i, 0, &l->id) || lc_dbres_id(res, i, 1, &l->account_id) ||
        lc_dbres_i64(res, i, 2, &l->amount) || lc_dbres_i64(res, i, 3, &l->remaining) ||
        lc_dbres_i64(res, i, 4, &l->expires_at) || lc_dbres_i64(res, i, 5, &expiries) ||
        lc_dbres_i64(res, i, 6, &l->created_seq)) {
        free(l);
        return LC_ERR_INVALID;
    }
    l->expiries = (int32_t)expiries;
    int rc = ld_state_load_lot(s, l);
    if (rc != LC_OK)
        free(l);
    return rc;
}

static int s_xfer_row(const lc_dbres_t *res, int i, ld_state_t *s)
{
    ld_xfer_t *x = calloc(1, sizeof *x);
    int64_t flags, code, timeout, pstate;
    if (!x)
        return LC_ERR_NOMEM;
    if (lc_dbres_id(res, i, 0, &x->t.id) || lc_dbres_id(res, i, 1, &x->t.debit_account_id) ||
        lc_dbres_id(res, i, 2, &x->t.credit_account_id) || lc_dbres_i64(res, i, 3, &x->t.amount) ||
        lc_dbres_id(res, i, 4, &x->t.pending_id) || lc_dbres_id(res, i, 5, &x->t.reverses) ||
        lc_dbres_i64(res, i, 6, &flags) || lc_dbres_i64(res, i, 7, &code) ||
        lc_dbres_id(res, i, 8, &x->t.user_data) || lc_dbres_i64(res, i, 9, &timeout) ||
        lc_dbres_i64(res, i, 10, &x->t.expires_at) || lc_dbres_i64(res, i, 11, &x->seq) ||
        lc_dbres_i64(res, i, 12, &x->timestamp) || lc_dbres_i64(res, i, 13, &pstate) ||
        lc_dbres_i64(res, i, 14, &x->deadline) || lc_dbres_id(res, i, 15, &x->resolved_by) ||
        lc_dbres_i64(res, i, 16, &x->reversed)) {
        free(x);
        return LC_ERR_INVALID;
    }
    x->t.flags = (uint32_t)flags;
    x->t.code = (uint32_t)code;
    x->t.timeout = (uint32_t)timeout;
    x->pstate = (uint8_t)pstate;
    int rc = ld_state_load_xfer(s, x);
    if (rc != LC_OK)
        free(x);
    return rc;
}

static int s_load_accounts(lc_db_t *db, ld_state_t *s)
{
    return s_load_rows(db,
                       "SELECT id, kind, flags, code, user_data, debits_pending, debits_posted,"
                       " credits_pending, credits_posted, debt, created_seq, ts"
                       " FROM ledger.accounts",
                       s_account_row, s);
}

static int s_load_lots(lc_db_t *db, ld_state_t *s)
{
    return s_load_rows(db,
                       "SELECT id, account_id, amount, remaining, expires_at, expiries,"
                       " created_seq FROM ledger.lots ORDER BY created_seq",
                       s_lot_row, s);
}

/* A transfer row as s_xfer_row reads it: the journal entry, its hold state and
 * the points reversed so far. */
#define XFER_SELECT                                                                                \
    "SELECT j.id, j.debit_account_id, j.credit_account_id, j.amount, j.pending_id,"               \
    " j.reverses, j.flags, j.code, j.user_data, j.timeout_s, j.expires_at, j.seq, j.ts,"           \
    " coalesce(p.state, 0), coalesce(p.deadline, 0), p.resolved_by,"                               \
    " coalesce((SELECT sum(r.amount) FROM ledger.journal r WHERE r.reverses = j.id), 0)"           \
    " FROM ledger.journal j LEFT JOIN ledger.pending p ON p.id = j.id WHERE j.entry_type = 2"

/* The resident transfers (ld_state.h, "Which transfers are in memory"): holds
 * still pending and transfers that own lot allocations. The rest of the journal
 * stays on disk, so start-up time and memory grow with accounts and open work,
 * not with history. */
static int s_load_xfers(lc_db_t *db, ld_state_t *s)
{
    return s_load_rows(db,
                       XFER_SELECT " AND j.id IN (SELECT id FROM ledger.pending WHERE state = 1"
                                   " UNION SELECT origin_id FROM ledger.allocations"
                                   " WHERE origin_id IS NOT NULL) ORDER BY j.seq",
                       s_xfer_row, s);
}

int ld_store_fetch_xfers(lc_db_t *db, ld_state_t *s, const lc_id_t *ids, size_t n)
{
    lc_id_t *next = NULL;
    size_t nnext = 0;
    int rc = LC_OK;
    /* Two rounds: the transfers named, then the holds those post or void (a
     * reversal of a post gives points back to the lots of its hold). */
    for (int round = 0; rc == LC_OK && round < 2 && n > 0; round++) {
        lc_dbarr_t arr;
        lc_dbarr_init(&arr);
        for (size_t i = 0; i < n; i++)
            lc_dbarr_id(&arr, &ids[i]);
        const char *params[] = {lc_dbarr_finish(&arr)};
        lc_dbres_t *res = NULL;
        rc = params[0] ? lc_db_exec(db, XFER_SELECT " AND j.id = ANY($1::uuid[])", 1, params, &res)
                       : LC_ERR_NOMEM;
        lc_dbarr_free(&arr);
        int rows = rc == LC_OK ? lc_dbres_rows(res) : 0;
        free(next);
        next = rows ? calloc((size_t)rows, sizeof *next) : NULL;
        nnext = 0;
        if (rows && !next)
            rc = LC_ERR_NOMEM;
        for (int i = 0; rc == LC_OK && i < rows; i++) {
            lc_id_t id, pending;
            if (lc_dbres_id(res, i, 0, &id) || lc_dbres_id(res, i, 4, &pending)) {
                rc = LC_ERR_INVALID;
                break;
            }
            if (ld_state_xfer(s, &id)) /* named twice in ids */
                continue;
            if ((rc = s_xfer_row(res, i, s)) != LC_OK)
                break;
            if (!lc_id_is_zero(&pending) && !ld_state_xfer(s, &pending))
                next[nnext++] = pending;
        }
        lc_dbres_free(&res);
        ids = next;
        n = nnext;
    }
    free(next);
    return rc;
}

static int s_load_allocs(lc_db_t *db, ld_state_t *s)
{
    lc_dbres_t *res;
    /* Net per (owner, lot), in the order the owner took from the lots: by the entry
     * that first touched each lot, then (within one entry) in consumption order,
     * soonest expiry first. That order is all a later release needs
     * (ld_lots_release gives back to the latest-consumed lot first). */
    int rc = lc_db_exec(db,
                        "SELECT a.origin_id, a.lot_id, sum(a.amount)"
                        " FROM ledger.allocations a JOIN ledger.lots l ON l.id = a.lot_id"
                        " WHERE a.origin_id IS NOT NULL GROUP BY a.origin_id, a.lot_id"
                        " HAVING sum(a.amount) <> 0"
                        " ORDER BY min(a.seq),"
                        " CASE WHEN min(l.expires_at) = 0 THEN 9223372036854775807"
                        " ELSE min(l.expires_at) END, min(l.created_seq)",
                        0, NULL, &res);
    if (rc != LC_OK)
        return rc;
    for (int i = 0; rc == LC_OK && i < lc_dbres_rows(res); i++) {
        lc_id_t origin, lot;
        int64_t amount;
        if (lc_dbres_id(res, i, 0, &origin) || lc_dbres_id(res, i, 1, &lot) ||
            lc_dbres_i64(res, i, 2, &amount))
            rc = LC_ERR_INVALID;
        else
            rc = ld_state_load_alloc(s, &origin, &lot, amount);
    }
    lc_dbres_free(&res);
    return rc;
}

static int s_load_failed_and_head(lc_db_t *db, ld_state_t *s)
{
    lc_dbres_t *res;
    int rc = lc_db_exec(db, "SELECT id, result FROM ledger.failed", 0, NULL, &res);
    if (rc != LC_OK)
        return rc;
    for (int i = 0; rc == LC_OK && i < lc_dbres_rows(res); i++) {
        lc_id_t id;
        int64_t result;
        if (lc_dbres_id(res, i, 0, &id) || lc_dbres_i64(res, i, 1, &result))
            rc = LC_ERR_INVALID;
        else
            rc = ld_state_load_failed(s, &id, (int)result);
    }
    lc_dbres_free(&res);
    if (rc != LC_OK)
        return rc;
    rc = lc_db_exec(db, "SELECT seq, hash, ts FROM ledger.journal ORDER BY seq DESC LIMIT 1", 0,
                    NULL, &res);
    if (rc != LC_OK)
        return rc;
    if (lc_dbres_rows(res) == 1) {
        int64_t seq, ts;
        if (lc_dbres_i64(res, 0, 0, &seq) || lc_dbres_bytea(res, 0, 1, s->head, 32) ||
            lc_dbres_i64(res, 0, 2, &ts))
            rc = LC_ERR_INVALID;
        s->next_seq = seq + 1;
        if (ts > s->last_ts)
            s->last_ts = ts;
    }
    lc_dbres_free(&res);
    return rc;
}

int ld_store_load(lc_db_t *db, ld_state_t *s)
{
    int rc = lc_db_exec(db, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", 0, NULL, NULL);
    if (rc == LC_OK)
        rc = s_load_accounts(db, s);
    if (rc == LC_OK)
        rc = s_load_lots(db, s);
    if (rc == LC_OK)
        rc = s_load_xfers(db, s);
    if (rc == LC_OK)
        rc = s_load_allocs(db, s);
    if (rc == LC_OK)
        rc = s_load_failed_and_head(db, s);
    if (rc == LC_OK)
        rc = lc_db_commit(db);
    else
        lc_db_rollback(db);
    return rc;
}

/* ---- reading the journal ------------------------------------------------------ */

#define ENTRY_COLUMNS                                                                              \
    "seq, entry_type, id, debit_account_id, credit_account_id, amount, pending_id, reverses,"      \
    " flags, code, kind, user_data, timeout_s, expires_at, ts, prev_hash, hash"

static int s_entries_from(lc_dbres_t *res, ld_entries_rep_t *rep)
{
    int n = lc_dbres_rows(res);
    rep->entries = n ? calloc((size_t)n, sizeof *rep->entries) : NULL;
    if (n && !rep->entries)
        return LC_ERR_NOMEM;
    for (int i = 0; i < n; i++) {
        ld_entry_t *e = &rep->entries[i];
        int64_t type, flags, code, kind, timeout;
        if (lc_dbres_i64(res, i, 0, &e->seq) || lc_dbres_i64(res, i, 1, &type) ||
            lc_dbres_id(res, i, 2, &e->id) || lc_dbres_id(res, i, 3, &e->debit_account_id) ||
            lc_dbres_id(res, i, 4, &e->credit_account_id) || lc_dbres_i64(res, i, 5, &e->amount) ||
            lc_dbres_id(res, i, 6, &e->pending_id) || lc_dbres_id(res, i, 7, &e->reverses) ||
            lc_dbres_i64(res, i, 8, &flags) || lc_dbres_i64(res, i, 9, &code) ||
            lc_dbres_i64(res, i, 10, &kind) || lc_dbres_id(res, i, 11, &e->user_data) ||
            lc_dbres_i64(res, i, 12, &timeout) || lc_dbres_i64(res, i, 13, &e->expires_at) ||
            lc_dbres_i64(res, i, 14, &e->timestamp) ||
            lc_dbres_bytea(res, i, 15, e->prev_hash, 32) ||
            lc_dbres_bytea(res, i, 16, e->hash, 32))
            return LC_ERR_INVALID;
        e->type = (int)type;
        e->flags = (uint32_t)flags;
        e->code = (uint32_t)code;
        e->kind = (int)kind;
        e->timeout = (uint32_t)timeout;
        rep->nentries++;
    }
    return LC_OK;
}

static int s_head_seq(lc_db_t *db, int64_t *out)
{
    lc_dbres_t *res;
    int rc = lc_db_exec(db, "SELECT coalesce(max(seq), 0) FROM ledger.journal", 0, NULL, &res);
    if (rc == LC_OK)
        rc = lc_dbres_i64(res, 0, 0, out);
    lc_dbres_free(&res);
    return rc;
}

int ld_store_read_journal(lc_db_t *db, int64_t after_seq, int64_t limit, ld_entries_rep_t *rep)
{
    memset(rep, 0, sizeof *rep);
    char after[24], lim[24];
    snprintf(after, sizeof after, "%" PRId64, after_seq);
    snprintf(lim, sizeof lim, "%" PRId64, limit);
    const char *params[] = {after, lim};
    lc_dbres_t *res;
    int rc = lc_db_exec(db,
                        "SELECT " ENTRY_COLUMNS " FROM ledger.journal WHERE seq > $1::bigint"
                        " ORDER BY seq LIMIT $2::bigint",
                        2, params, &res);
    if (rc == LC_OK)
        rc = s_entries_from(res, rep);
    lc_dbres_free(&res);
    if (rc == LC_OK)
        rc = s_head_seq(db, &rep->head_seq);
    return rc;
}

int ld_store_read_transfers(lc_db_t *db, const lc_id_t *ids, size_t n, ld_entries_rep_t *rep)
{
    memset(rep, 0, sizeof *rep);
    lc_dbarr_t arr;
    lc_dbarr_init(&arr);
    for (size_t i = 0; i < n; i++)
        lc_dbarr_id(&arr, &ids[i]);
    const char *params[] = {lc_dbarr_finish(&arr)};
    int rc = LC_ERR_NOMEM;
    lc_dbres_t *res = NULL;
    if (params[0])
        rc = lc_db_exec(db,
                        "SELECT " ENTRY_COLUMNS " FROM ledger.journal"
                        " WHERE entry_type = 2 AND id = ANY($1::uuid[]) ORDER BY seq",
                        1, params, &res);
    lc_dbarr_free(&arr);
    if (rc == LC_OK)
        rc = s_entries_from(res, rep);
    lc_dbres_free(&res);
    if (rc == LC_OK)
        rc = s_head_seq(db, &rep->head_seq);
    return rc;
}
