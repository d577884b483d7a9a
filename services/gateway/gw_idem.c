/*
 * gw_idem.c: Idempotency-Key records (gw_idem.h).
 */
#include "gw_idem.h"
#include "lc_err.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void gw_idem_hash(const char *method, const char *path, const char *body, size_t len,
                  uint8_t out[LC_SHA256_LEN])
{
    lc_sha256_ctx_t *ctx = lc_sha256_new();
    if (!ctx) {
        memset(out, 0, LC_SHA256_LEN);
        return;
    }
    /* NUL separators: no two (method, path, body) triples give one byte string. */
    lc_sha256_update(ctx, method, strlen(method) + 1);
    lc_sha256_update(ctx, path, strlen(path) + 1);
    lc_sha256_update(ctx, body ? body : "", body ? len : 0);
    lc_sha256_final(&ctx, out);
}

int gw_idem_begin(lc_db_t *db, const char *owner, const char *key,
                  const uint8_t hash[LC_SHA256_LEN], gw_idem_state_t *state, int *status,
                  char **body)
{
    *body = NULL;
    char hashtext[2 * LC_SHA256_LEN + 3] = "\\x";
    lc_hex_encode(hash, LC_SHA256_LEN, hashtext + 2);
    const char *params[] = {owner, key, hashtext};
    int rc = lc_db_begin(db);
    /* One statement claims the key or locks the row that has it, and reads it. The
     * no-op update on a conflict is what locks: it waits while another transaction
     * holds an uncommitted claim on the key, then sees that claim's outcome (its
     * answer, or no row and a claim of our own if it rolled back). */
    lc_dbres_t *res = NULL;
    if (rc == LC_OK)
        rc = lc_db_exec(db,
                        "INSERT INTO gateway.idempotency AS i (owner, key, request_hash) "
                        "VALUES ($1, $2, $3) ON CONFLICT (owner, key) DO UPDATE SET owner = "
                        "i.owner RETURNING i.request_hash = $3, i.status, i.body",
                        3, params, &res);
    if (rc != LC_OK) {
        lc_dbres_free(&res);
        lc_db_rollback(db);
        return rc;
    }
    if (lc_dbres_rows(res) != 1) {
        lc_dbres_free(&res);
        lc_db_rollback(db);
        return LC_ERR_DB;
    }
    const char *same = lc_dbres_get(res, 0, 0);
    int64_t st = 0;
    int out = LC_OK;
    if (!same || strcmp(same, "t")) {
        *state = GW_IDEM_REUSED;
    } else if (lc_dbres_i64(res, 0, 1, &st) == LC_OK) {
        *state = GW_IDEM_REPLAY;
        *status = (int)st;
        const char *b = lc_dbres_get(res, 0, 2);
        *body = b ? strdup(b) : NULL;
        if (b && !*body)
            out = LC_ERR_NOMEM;
    } else {
        *state = GW_IDEM_NEW; /* our own fresh claim: keep the transaction open */
        lc_dbres_free(&res);
        return LC_OK;
    }
    lc_dbres_free(&res);
    lc_db_rollback(db);
    return out;
}

int gw_idem_finish(lc_db_t *db, const char *owner, const char *key, int status,
                   const char *body)
{
    char st[16];
    snprintf(st, sizeof st, "%d", status);
    const char *params[] = {owner, key, st, body};
    int rc = lc_db_exec(db,
                        "UPDATE gateway.idempotency SET status = $3, body = $4 "
                        "WHERE owner = $1 AND key = $2",
                        4, params, NULL);
    if (rc == LC_OK)
        rc = lc_db_commit(db);
    if (rc != LC_OK)
        lc_db_rollback(db);
    return rc;
}

void gw_idem_abandon(lc_db_t *db)
{
    lc_db_rollback(db);
}

int64_t gw_idem_purge(lc_db_t *db, int64_t days)
{
    char d[32];
    snprintf(d, sizeof d, "%lld", (long long)days);
    const char *params[] = {d};
    lc_dbres_t *res = NULL;
    int rc = lc_db_exec(db,
                        "WITH gone AS (DELETE FROM gateway.idempotency WHERE status IS NOT NULL "
                        "AND created_at < now() - make_interval(days => $1::int) RETURNING 1) "
                        "SELECT count(*) FROM gone",
                        1, params, &res);
    int64_t n = 0;
    if (rc == LC_OK)
        lc_dbres_i64(res, 0, 0, &n);
    lc_dbres_free(&res);
    return rc == LC_OK ? n : rc;
}
