/*
 * lc_dbparams.h: typed values into and out of lc_db statements.
 *
 * lc_db speaks text: a parameter is the text form of its value, a cell comes back
 * as text. This module holds the one set of conversions every store uses, so that
 * an id, an integer or a boolean has the same text form whichever service sends it:
 *
 *   id       canonical UUID text (lc_id_format); a NULL or zero id is SQL NULL
 *   integer  decimal, with a leading '-' when negative
 *   boolean  "true" / "false"
 *   string   passed through as is (borrowed); NULL is SQL NULL
 *
 * A parameter list lives on the caller's stack and holds the text of the values it
 * formats itself, so a statement's parameters need no allocation and no shared
 * buffer: two threads building lists at once never touch the same memory.
 */
#ifndef LC_DBPARAMS_H
#define LC_DBPARAMS_H

#include "lc_db.h"
#include "lc_id.h"

#include <stdbool.h>
#include <stdint.h>

/* The most parameters one statement takes; the widest today (settlement's earn
 * insert) takes 20. */
#define LC_DBP_MAX 20

/* Room for the text of one formatted value: a UUID (36) or an int64 (at most 20)
 * and the terminating NUL. */
#define LC_DBP_TEXT (LC_ID_STRLEN + 1)

/* The parameters $1..$n of one statement.
 *
 * Invariant: v[i] for i < n is NULL (SQL NULL), points into text[i] (a value
 * formatted here) or is a string the caller keeps alive until the statement ran.
 * Adding past LC_DBP_MAX adds nothing and sets overflow, which is sticky: the list
 * is then refused by lc_dbp_exec, so a statement never runs with a parameter
 * missing. A list starts empty when zeroed: lc_dbp_t p = {.n = 0}; */
typedef struct lc_dbp {
    const char *v[LC_DBP_MAX];          /* the text of $1.. as lc_db_exec takes it */
    char text[LC_DBP_MAX][LC_DBP_TEXT]; /* values formatted by the add functions */
    int n;                              /* parameters added */
    bool overflow;                      /* an add found the list full */
} lc_dbp_t;

/* Each add returns LC_OK, or LC_ERR_OVERFLOW when the list already holds
 * LC_DBP_MAX parameters (the list is then left as it was, marked overflowed). */
int lc_dbp_id(lc_dbp_t *p, const lc_id_t *id); /* NULL or zero id -> SQL NULL */
int lc_dbp_i64(lc_dbp_t *p, int64_t x);
int lc_dbp_bool(lc_dbp_t *p, bool b);
int lc_dbp_str(lc_dbp_t *p, const char *s); /* borrowed; NULL -> SQL NULL */

/* Runs sql with the parameters of p (NULL for none) as lc_db_exec does, and
 * returns what it returns; LC_ERR_OVERFLOW, without running anything, when p
 * overflowed. */
int lc_dbp_exec(lc_db_t *db, const char *sql, const lc_dbp_t *p, lc_dbres_t **out);

/* ---- cells ------------------------------------------------------------------------- */

/* Readers for columns the schema declares NOT NULL or whose NULL has a natural
 * empty value: a NULL or malformed cell reads as 0, the zero id, false. Use the
 * lc_dbres_* readers of lc_db.h where the difference matters. */
int64_t lc_dbcell_i64(const lc_dbres_t *res, int row, int col);
lc_id_t lc_dbcell_id(const lc_dbres_t *res, int row, int col);
bool lc_dbcell_bool(const lc_dbres_t *res, int row, int col); /* true for "t" */

/* A copy of a cell's text (caller frees), NULL for SQL NULL. On allocation failure
 * returns NULL and sets *nomem, which is never cleared here, so a row of several
 * copies is checked once at the end. */
char *lc_dbcell_dup(const lc_dbres_t *res, int row, int col, bool *nomem);

/* Narrows the outcome of a lookup that gives at most one row: when rc is LC_OK and
 * *res holds no rows, frees *res and returns LC_ERR_NOT_FOUND; otherwise returns rc
 * and leaves *res alone. Use as lc_dbres_one(lc_dbp_exec(db, sql, p, &res), &res). */
int lc_dbres_one(int rc, lc_dbres_t **res);

#endif
