/*
 * lc_db.c: libpq behind a small interface (see lc_db.h).
 */
#include "lc_db.h"
#include "lc_crypto.h"
#include "lc_err.h"

#include <libpq-fe.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A statement prepared on this connection, found again by its text. */
typedef struct prepared {
    uint64_t hash;      /* FNV-1a of sql */
    int nparams;
    char *sql;          /* owned copy */
} prepared_t;

struct lc_db {
    PGconn *conn;       /* owned */
    char sqlstate[6];   /* of the last failure, "" when none */
    char error[512];    /* message of the last failure */
    prepared_t prepared[LC_DB_PREPARED_MAX]; /* statement "lc<i>" is prepared[i] */
    int nprepared;
};

struct lc_dbres {
    PGresult *res; /* owned */
};

lc_db_t *lc_db_connect(const char *conninfo, char **err)
{
    PGconn *conn = PQconnectdb(conninfo);
    if (!conn || PQstatus(conn) != CONNECTION_OK) {
        if (err)
            *err = strdup(conn ? PQerrorMessage(conn) : "out of memory");
        PQfinish(conn);
        return NULL;
    }
    lc_db_t *db = calloc(1, sizeof *db);
    if (!db) {
        PQfinish(conn);
        if (err)
            *err = strdup("out of memory");
        return NULL;
    }
    db->conn = conn;
    return db;
}

void lc_db_destroy(lc_db_t **db_p)
{
    if (!db_p || !*db_p)
        return;
    for (int i = 0; i < (*db_p)->nprepared; i++)
        free((*db_p)->prepared[i].sql);
    PQfinish((*db_p)->conn);
    free(*db_p);
    *db_p = NULL;
}

/* Records why a statement failed; strips libpq's trailing newline. */
static void s_record_error(lc_db_t *db, const PGresult *res)
{
    const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
    snprintf(db->sqlstate, sizeof db->sqlstate, "%s", state ? state : "");
    const char *msg = res ? PQresultErrorMessage(res) : "";
    if (!msg || !*msg)
        msg = PQerrorMessage(db->conn);
    snprintf(db->error, sizeof db->error, "%s", msg);
    size_t n = strlen(db->error);
    while (n > 0 && (db->error[n - 1] == '\n' || db->error[n - 1] == ' '))
        db->error[--n] = '\0';
}

/* Fails a statement: records why; LC_ERR_DB, or LC_ERR_UNAVAILABLE when the
 * connection is gone. Clears res. */
static int s_fail(lc_db_t *db, PGresult *res)
{
    s_record_error(db, res);
    PQclear(res);
    return PQstatus(db->conn) == CONNECTION_OK ? LC_ERR_DB : LC_ERR_UNAVAILABLE;
}

/* The index of sql's prepared statement on this connection, preparing it on first
 * use: -1 when the table is full (the caller runs it unprepared), -2 when the
 * server refused to prepare it (the error is recorded: running it would fail the
 * same way, e.g. a syntax error or an aborted transaction). */
static int s_prepared(lc_db_t *db, const char *sql, int nparams)
{
    uint64_t h = UINT64_C(14695981039346656037);
    for (const unsigned char *c = (const unsigned char *)sql; *c; c++)
        h = (h ^ *c) * UINT64_C(1099511628211);
    for (int i = 0; i < db->nprepared; i++) {
        const prepared_t *p = &db->prepared[i];
        if (p->hash == h && p->nparams == nparams && strcmp(p->sql, sql) == 0)
            return i;
    }
    if (db->nprepared == LC_DB_PREPARED_MAX)
        return -1;
    char *copy = strdup(sql);
    if (!copy)
        return -1;
    char name[16];
    snprintf(name, sizeof name, "lc%d", db->nprepared);
    PGresult *res = PQprepare(db->conn, name, sql, nparams, NULL);
    if (!res || PQresultStatus(res) != PGRES_COMMAND_OK) {
        free(copy);
        s_fail(db, res);
        return -2;
    }
    PQclear(res);
    db->prepared[db->nprepared] = (prepared_t){.hash = h, .nparams = nparams, .sql = copy};
    return db->nprepared++;
}

int lc_db_exec(lc_db_t *db, const char *sql, int nparams, const char *const *params,
               lc_dbres_t **out)
{
    if (out)
        *out = NULL;
    int i = s_prepared(db, sql, nparams);
    if (i == -2)
        return PQstatus(db->conn) == CONNECTION_OK ? LC_ERR_DB : LC_ERR_UNAVAILABLE;
    PGresult *res;
    if (i >= 0) {
        char name[16];
        snprintf(name, sizeof name, "lc%d", i);
        res = PQexecPrepared(db->conn, name, nparams, params, NULL, NULL, 0);
    } else {
        res = PQexecParams(db->conn, sql, nparams, NULL, params, NULL, NULL, 0);
    }
    ExecStatusType st = res ? PQresultStatus(res) : PGRES_FATAL_ERROR;
    if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK)
        return s_fail(db, res);
    db->sqlstate[0] = '\0';
    db->error[0] = '\0';
    if (!out) {
        PQclear(res);
        return LC_OK;
    }
    lc_dbres_t *r = malloc(sizeof *r);
    if (!r) {
        PQclear(res);
        return LC_ERR_NOMEM;
    }
    r->res = res;
    *out = r;
    return LC_OK;
}

int lc_db_begin(lc_db_t *db)
{
    return lc_db_exec(db, "BEGIN", 0, NULL, NULL);
}

int lc_db_commit(lc_db_t *db)
{
    return lc_db_exec(db, "COMMIT", 0, NULL, NULL);
}

int lc_db_rollback(lc_db_t *db)
{
    if (PQtransactionStatus(db->conn) == PQTRANS_IDLE)
        return LC_OK;
    return lc_db_exec(db, "ROLLBACK", 0, NULL, NULL);
}

int lc_db_end(lc_db_t *db, int rc)
{
    if (rc == LC_OK)
        return lc_db_commit(db);
    lc_db_rollback(db);
    return rc;
}

const char *lc_db_sqlstate(const lc_db_t *db)
{
    return db->sqlstate;
}

const char *lc_db_error(const lc_db_t *db)
{
    return db->error;
}

bool lc_db_alive(const lc_db_t *db)
{
    return db && PQstatus(db->conn) == CONNECTION_OK;
}

int lc_db_check_durability(lc_db_t *db, const char **why)
{
    lc_dbres_t *res;
    int rc = lc_db_exec(db,
                        "SELECT current_setting('fsync'), current_setting('synchronous_commit'),"
                        " current_setting('full_page_writes')",
                        0, NULL, &res);
    if (rc != LC_OK) {
        *why = "cannot read the server's durability settings";
        return rc;
    }
    const char *fsync = lc_dbres_get(res, 0, 0);
    const char *sync = lc_dbres_get(res, 0, 1);
    const char *fpw = lc_dbres_get(res, 0, 2);
    rc = LC_OK;
    if (!fsync || strcmp(fsync, "on") != 0) {
        *why = "PostgreSQL runs with fsync=off: acknowledged points could be lost";
        rc = LC_ERR_CONFLICT;
    } else if (!sync || strcmp(sync, "off") == 0) {
        *why = "PostgreSQL runs with synchronous_commit=off: a reply could precede durability";
        rc = LC_ERR_CONFLICT;
    } else if (!fpw || strcmp(fpw, "on") != 0) {
        *why = "PostgreSQL runs with full_page_writes=off: a crash could tear pages";
        rc = LC_ERR_CONFLICT;
    }
    lc_dbres_free(&res);
    return rc;
}

int lc_db_try_advisory_lock(lc_db_t *db, int64_t key, bool *got)
{
    char keytext[24];
    snprintf(keytext, sizeof keytext, "%" PRId64, key);
    const char *params[] = {keytext};
    lc_dbres_t *res;
    int rc = lc_db_exec(db, "SELECT pg_try_advisory_lock($1::bigint)", 1, params, &res);
    if (rc != LC_OK)
        return rc;
    const char *v = lc_dbres_get(res, 0, 0);
    *got = v && v[0] == 't';
    lc_dbres_free(&res);
    return LC_OK;
}

int lc_dbres_rows(const lc_dbres_t *res)
{
    return res ? PQntuples(res->res) : 0;
}

const char *lc_dbres_get(const lc_dbres_t *res, int row, int col)
{
    if (!res || row < 0 || row >= PQntuples(res->res) || col < 0 || col >= PQnfields(res->res))
        return NULL;
    if (PQgetisnull(res->res, row, col))
        return NULL;
    return PQgetvalue(res->res, row, col);
}

int lc_dbres_i64(const lc_dbres_t *res, int row, int col, int64_t *out)
{
    const char *v = lc_dbres_get(res, row, col);
    if (!v)
        return LC_ERR_INVALID;
    char *end;
    long long x = strtoll(v, &end, 10);
    if (*v == '\0' || *end != '\0')
        return LC_ERR_INVALID;
    *out = x;
    return LC_OK;
}

int lc_dbres_id(const lc_dbres_t *res, int row, int col, lc_id_t *out)
{
    const char *v = lc_dbres_get(res, row, col);
    if (!v) {
        memset(out, 0, sizeof *out);
        return LC_OK;
    }
    return lc_id_parse(v, out);
}

int lc_dbres_bytea(const lc_dbres_t *res, int row, int col, uint8_t *out, size_t len)
{
    const char *v = lc_dbres_get(res, row, col);
    /* bytea's text output is "\x" followed by hex (bytea_output = hex, the default). */
    if (!v || v[0] != '\\' || v[1] != 'x' || strlen(v + 2) != 2 * len)
        return LC_ERR_INVALID;
    return lc_hex_decode(v + 2, out, len);
}

void lc_dbres_free(lc_dbres_t **res_p)
{
    if (!res_p || !*res_p)
        return;
    PQclear((*res_p)->res);
    free(*res_p);
    *res_p = NULL;
}

/* ---- array literals ------------------------------------------------------------- */

void lc_dbarr_init(lc_dbarr_t *a)
{
    memset(a, 0, sizeof *a);
}

static void s_append(lc_dbarr_t *a, const char *s, size_t n)
{
    if (a->failed)
        return;
    if (a->len + n + 3 > a->cap) {
        size_t cap = a->cap ? a->cap * 2 : 256;
        while (cap < a->len + n + 3)
            cap *= 2;
        char *buf = realloc(a->buf, cap);
        if (!buf) {
            a->failed = true;
            return;
        }
        a->buf = buf;
        a->cap = cap;
    }
    if (a->len == 0)
        a->buf[a->len++] = '{';
    memcpy(a->buf + a->len, s, n);
    a->len += n;
}

static void s_element(lc_dbarr_t *a, const char *s, size_t n)
{
    if (a->count++ > 0)
        s_append(a, ",", 1);
    s_append(a, s, n);
}

void lc_dbarr_i64(lc_dbarr_t *a, int64_t v)
{
    char text[24];
    int n = snprintf(text, sizeof text, "%" PRId64, v);
    s_element(a, text, (size_t)n);
}

void lc_dbarr_id(lc_dbarr_t *a, const lc_id_t *id)
{
    if (lc_id_is_zero(id)) {
        lc_dbarr_null(a);
        return;
    }
    char text[LC_ID_STRLEN + 1];
    lc_id_format(id, text);
    s_element(a, text, LC_ID_STRLEN);
}

void lc_dbarr_bytea(lc_dbarr_t *a, const uint8_t *data, size_t len)
{
    /* Inside an array literal the bytea's backslash must itself be escaped and the
     * element quoted: "\\x0102". */
    size_t n = 5 + 2 * len;
    char *text = malloc(n + 1);
    if (!text) {
        a->failed = true;
        return;
    }
    memcpy(text, "\"\\\\x", 4);
    lc_hex_encode(data, len, text + 4);
    text[n - 1] = '"';
    text[n] = '\0';
    s_element(a, text, n);
    free(text);
}

void lc_dbarr_null(lc_dbarr_t *a)
{
    s_element(a, "NULL", 4);
}

const char *lc_dbarr_finish(lc_dbarr_t *a)
{
    if (a->len == 0)
        s_append(a, "", 0);
    s_append(a, "}", 1);
    if (a->failed)
        return NULL;
    a->buf[a->len] = '\0';
    return a->buf;
}

void lc_dbarr_free(lc_dbarr_t *a)
{
    free(a->buf);
    memset(a, 0, sizeof *a);
}
