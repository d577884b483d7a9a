/*
 * lc_db.h: the only door to PostgreSQL (pg_auto_failover's pgsql.c, in spirit).
 *
 * Only lc_db.c includes libpq. Statements are parameterized: values always travel
 * as parameters ($1, $2, ...) in text form, never inside the SQL text; a batch of
 * rows travels as array parameters ("{...}" literals built by lc_dbarr) expanded
 * with unnest() on the server. Every result is checked in one place, which keeps
 * the SQLSTATE of the last error for callers to branch on, and every PGresult is
 * cleared on every path: lc_dbres_t owns it until lc_dbres_free.
 *
 * Every statement is prepared on its connection the first time its text is run
 * (PQprepare, named "lc<n>") and executed as prepared after that: a service runs
 * the same few dozen statements all its life, and parsing and planning them again
 * each time was most of PostgreSQL's CPU per request (docs/PERFORMANCE.md). Up to
 * LC_DB_PREPARED_MAX texts per connection; beyond that a text runs unprepared.
 * Protocol-level prepared statements live in the server session, so a pooler in
 * front of PostgreSQL must keep sessions (pgbouncer: session pooling, or
 * max_prepared_statements from 1.21 on).
 */
#ifndef LC_DB_H
#define LC_DB_H

#include "lc_id.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define LC_DB_PREPARED_MAX 256

typedef struct lc_db lc_db_t;
typedef struct lc_dbres lc_dbres_t;

/* Connects with a libpq conninfo string. NULL on failure, with a message in *err
 * (malloc'd, caller frees) when err is not NULL. */
lc_db_t *lc_db_connect(const char *conninfo, char **err);
void lc_db_destroy(lc_db_t **db_p);

/* Runs one parameterized statement. params[i] is the text form of $i+1, or NULL for
 * SQL NULL. When out is not NULL the result rows are returned there (caller frees
 * with lc_dbres_free); otherwise the result is cleared here. Returns LC_OK,
 * LC_ERR_DB (statement failed; see lc_db_sqlstate / lc_db_error) or
 * LC_ERR_UNAVAILABLE (the connection is gone). */
int lc_db_exec(lc_db_t *db, const char *sql, int nparams, const char *const *params,
               lc_dbres_t **out);

int lc_db_begin(lc_db_t *db);
int lc_db_commit(lc_db_t *db);
/* Rolls back; safe to call when no transaction is open. */
int lc_db_rollback(lc_db_t *db);
/* Ends a transaction by the outcome of its work: commits when rc is LC_OK and
 * returns the commit's result, else rolls back and returns rc unchanged. */
int lc_db_end(lc_db_t *db, int rc);

/* SQLSTATE of the last failed statement ("" when none) and its message. */
const char *lc_db_sqlstate(const lc_db_t *db);
const char *lc_db_error(const lc_db_t *db);
/* True while the connection is usable. */
bool lc_db_alive(const lc_db_t *db);

/* Checks that the server runs with fsync=on and synchronous_commit=on (or
 * remote_apply/remote_write/local: anything that waits for the local flush).
 * Returns LC_OK, or LC_ERR_CONFLICT with a reason in *why (static string). */
int lc_db_check_durability(lc_db_t *db, const char **why);

/* Takes a session-level advisory lock without waiting; *got says whether we
 * hold it. The lock lives as long as the connection. */
int lc_db_try_advisory_lock(lc_db_t *db, int64_t key, bool *got);

/* ---- results ------------------------------------------------------------------- */

int lc_dbres_rows(const lc_dbres_t *res);
/* Text of a cell; NULL for SQL NULL. Borrowed until lc_dbres_free. */
const char *lc_dbres_get(const lc_dbres_t *res, int row, int col);
/* Typed readers: LC_ERR_INVALID when the cell is NULL or not of that form. */
int lc_dbres_i64(const lc_dbres_t *res, int row, int col, int64_t *out);
int lc_dbres_id(const lc_dbres_t *res, int row, int col, lc_id_t *out); /* NULL -> zero id */
int lc_dbres_bytea(const lc_dbres_t *res, int row, int col, uint8_t *out, size_t len);
void lc_dbres_free(lc_dbres_t **res_p);

/* ---- array parameters --------------------------------------------------------- */

/* An array literal under construction, e.g. {1,2,NULL}, for $n::bigint[] etc.
 * Errors (NOMEM) are sticky and reported by lc_dbarr_finish. */
typedef struct lc_dbarr {
    char *buf;
    size_t len, cap;
    size_t count;
    bool failed;
} lc_dbarr_t;

void lc_dbarr_init(lc_dbarr_t *a);
void lc_dbarr_i64(lc_dbarr_t *a, int64_t v);
void lc_dbarr_id(lc_dbarr_t *a, const lc_id_t *id); /* zero id -> NULL */
void lc_dbarr_bytea(lc_dbarr_t *a, const uint8_t *data, size_t len);
void lc_dbarr_null(lc_dbarr_t *a);
/* Closes the literal; returns the text (owned by a) or NULL on NOMEM. */
const char *lc_dbarr_finish(lc_dbarr_t *a);
void lc_dbarr_free(lc_dbarr_t *a);

#endif
