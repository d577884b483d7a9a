/*
 * gw_admin_log.c: the hash-chained admin log (gw_admin_log.h).
 */
#include "gw_admin_log.h"
#include "lc_codec_macros.h"
#include "lc_crypto.h"
#include "lc_err.h"
#include "lc_log.h"
#include "lc_time.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define LIST_DEFAULT 100
#define VERIFY_PAGE 1000
#define TEXT_MAX 512 /* bytes of a logged string (paths are limited by the HTTP layer) */

/* One row, as stored and as GET /v1/audit/admin-log shows it. Strings are borrowed
 * from a result while hashing, owned after decoding. */
typedef struct admin_row {
    int64_t seq;
    int64_t at;
    lc_id_t key_id;
    char *key_name;
    char *role;
    char *method;
    char *route;
    char *path;
    char *request_id;
    char *idempotency_key; /* NULL: none */
    int64_t status;
    bool replayed;
    uint8_t prev_hash[LC_SHA256_LEN];
    uint8_t hash[LC_SHA256_LEN];
} admin_row_t;

typedef struct admin_page {
    admin_row_t *entries;
    size_t nentries;
    bool has_more;
} admin_page_t;

typedef struct admin_verify {
    bool ok;
    int64_t rows_checked;
    int64_t head_seq;
    uint8_t head[LC_SHA256_LEN];
    int64_t first_bad_seq;
    char *reason;
} admin_verify_t;

static const lc_field_t s_row_fields[] = {
    I64_F(admin_row_t, seq, "seq", REQ, 1, INT64_MAX, "position in the chain, from 1, gap-free"),
    TIME_F(admin_row_t, at, "at", REQ, "when the action was answered"),
    ID_F(admin_row_t, key_id, "key_id", REQ, "the admin key"),
    STR_F(admin_row_t, key_name, "key_name", ALW, TEXT_MAX, "the key's name at the time"),
    STR_F(admin_row_t, role, "role", REQ, 16, "the key's role"),
    STR_F(admin_row_t, method, "method", REQ, 16, "HTTP method"),
    STR_F(admin_row_t, route, "route", REQ, TEXT_MAX, "the route's pattern"),
    STR_F(admin_row_t, path, "path", REQ, TEXT_MAX, "the path requested (names the ids)"),
    STR_F(admin_row_t, request_id, "request_id", REQ, TEXT_MAX, "X-Request-Id"),
    STR_F(admin_row_t, idempotency_key, "idempotency_key", 0, 255, "Idempotency-Key, if any"),
    I64_F(admin_row_t, status, "status", REQ, 100, 599, "the HTTP status answered"),
    BOOL_F(admin_row_t, replayed, "replayed", ALW, "answered from the idempotency record"),
    HASH_F(admin_row_t, prev_hash, "prev_hash", ALW, "the previous row's hash"),
    HASH_F(admin_row_t, hash, "hash", ALW, "SHA-256(prev_hash || canonical bytes of this row)"),
};
static const lc_msgdesc_t s_row_desc = {"admin_row", sizeof(admin_row_t), s_row_fields,
                                        N(s_row_fields)};

static const lc_field_t s_page_fields[] = {
    ARR_F(admin_page_t, entries, nentries, "entries", ALW, s_row_desc, 0, LC_API_LIST_MAX,
          "rows in seq order"),
    BOOL_F(admin_page_t, has_more, "has_more", ALW,
           "more rows follow: ask again with after_seq = the last seq"),
};
static const lc_msgdesc_t s_page_desc = {"admin_page", sizeof(admin_page_t), s_page_fields,
                                         N(s_page_fields)};

static const lc_field_t s_verify_fields[] = {
    BOOL_F(admin_verify_t, ok, "ok", ALW, "every row matches its chain"),
    I64_F(admin_verify_t, rows_checked, "rows_checked", ALW, 0, INT64_MAX, "rows read"),
    I64_F(admin_verify_t, head_seq, "head_seq", ALW, 0, INT64_MAX, "the last row's seq"),
    HASH_F(admin_verify_t, head, "head", ALW, "the recomputed hash of the last row"),
    I64_F(admin_verify_t, first_bad_seq, "first_bad_seq", 0, 0, INT64_MAX,
          "the first row that does not match; absent when ok"),
    STR_F(admin_verify_t, reason, "reason", 0, TEXT_MAX, "what did not match"),
};
static const lc_msgdesc_t s_verify_desc = {"admin_verify", sizeof(admin_verify_t),
                                           s_verify_fields, N(s_verify_fields)};

/* ---- the chain --------------------------------------------------------------------- */

static void s_be(uint8_t *p, uint64_t v, int n)
{
    for (int i = n - 1; i >= 0; i--, v >>= 8)
        p[i] = (uint8_t)v;
}

static int s_put_str(lc_sha256_ctx_t *ctx, const char *s)
{
    uint8_t len[4];
    s_be(len, s ? (uint32_t)strlen(s) : UINT32_MAX, 4);
    int rc = lc_sha256_update(ctx, len, sizeof len);
    if (rc == LC_OK && s)
        rc = lc_sha256_update(ctx, s, strlen(s));
    return rc;
}

/* hash = SHA-256(prev || canonical(row)), the rule of gw_admin_log.h. */
static int s_hash(const uint8_t prev[LC_SHA256_LEN], const admin_row_t *r,
                  uint8_t out[LC_SHA256_LEN])
{
    lc_sha256_ctx_t *ctx = lc_sha256_new();
    if (!ctx)
        return LC_ERR_NOMEM;
    uint8_t head[8 + 8 + 16], tail[5];
    s_be(head, (uint64_t)r->seq, 8);
    s_be(head + 8, (uint64_t)r->at, 8);
    memcpy(head + 16, r->key_id.b, 16);
    s_be(tail, (uint64_t)r->status, 4);
    tail[4] = r->replayed ? 1 : 0;
    int rc = lc_sha256_update(ctx, prev, LC_SHA256_LEN);
    if (rc == LC_OK)
        rc = lc_sha256_update(ctx, head, sizeof head);
    const char *texts[] = {r->key_name ? r->key_name : "", r->role, r->method, r->route,
                           r->path, r->request_id};
    for (size_t i = 0; rc == LC_OK && i < sizeof texts / sizeof texts[0]; i++)
        rc = s_put_str(ctx, texts[i]);
    if (rc == LC_OK)
        rc = s_put_str(ctx, r->idempotency_key);
    if (rc == LC_OK)
        rc = lc_sha256_update(ctx, tail, sizeof tail);
    if (rc != LC_OK) {
        lc_sha256_destroy(&ctx);
        return rc;
    }
    return lc_sha256_final(&ctx, out);
}

static void s_hash_text(const uint8_t *hash, char out[2 * LC_SHA256_LEN + 3])
{
    memcpy(out, "\\x", 2);
    lc_hex_encode(hash, LC_SHA256_LEN, out + 2);
}

/* ---- append ------------------------------------------------------------------------ */

bool gw_admin_log_wanted(const lc_api_caller_t *caller, const char *method)
{
    return caller->role == LC_ROLE_ADMIN && strcmp(method, "GET") != 0;
}

/* Reads the key's name, then the chain's head (seq, hash), under the log's lock. */
static int s_head(lc_db_t *db, const char *key_id, char **name, int64_t *seq,
                  uint8_t hash[LC_SHA256_LEN])
{
    const char *params[] = {key_id};
    lc_dbres_t *res = NULL;
    int rc = lc_db_exec(db, "SELECT pg_advisory_xact_lock(hashtext('gateway.admin_log'))", 0,
                        NULL, NULL);
    if (rc == LC_OK)
        rc = lc_db_exec(db, "SELECT name FROM gateway.api_keys WHERE id = $1", 1, params, &res);
    if (rc != LC_OK)
        return rc;
    const char *n = lc_dbres_rows(res) == 1 ? lc_dbres_get(res, 0, 0) : "";
    *name = strdup(n ? n : "");
    lc_dbres_free(&res);
    if (!*name)
        return LC_ERR_NOMEM;
    rc = lc_db_exec(db, "SELECT seq, hash FROM gateway.admin_log ORDER BY seq DESC LIMIT 1", 0,
                    NULL, &res);
    if (rc != LC_OK)
        return rc;
    *seq = 0;
    memset(hash, 0, LC_SHA256_LEN);
    if (lc_dbres_rows(res) == 1 && (lc_dbres_i64(res, 0, 0, seq) != LC_OK ||
                                    lc_dbres_bytea(res, 0, 1, hash, LC_SHA256_LEN) != LC_OK))
        rc = LC_ERR_DB;
    lc_dbres_free(&res);
    return rc;
}

int gw_admin_log_append(lc_db_t *db, const gw_admin_action_t *a)
{
    char kid[LC_ID_STRLEN + 1];
    lc_id_format(&a->caller->key_id, kid);
    admin_row_t r = {
        .at = lc_now_us(),
        .key_id = a->caller->key_id,
        .role = (char *)lc_name_of(lc_role_names, (uint32_t)a->caller->role),
        .method = (char *)a->method,
        .route = (char *)a->route,
        .path = (char *)a->path,
        .request_id = (char *)a->request_id,
        .idempotency_key = (char *)a->idempotency_key,
        .status = a->status,
        .replayed = a->replayed,
    };
    if (!r.role)
        return LC_ERR_INVALID;
    int rc = lc_db_begin(db);
    if (rc == LC_OK)
        rc = s_head(db, kid, &r.key_name, &r.seq, r.prev_hash);
    if (rc == LC_OK) {
        r.seq++;
        rc = s_hash(r.prev_hash, &r, r.hash);
    }
    if (rc == LC_OK) {
        char seq[24], at[24], status[8], prev[2 * LC_SHA256_LEN + 3], hash[2 * LC_SHA256_LEN + 3];
        snprintf(seq, sizeof seq, "%lld", (long long)r.seq);
        snprintf(at, sizeof at, "%lld", (long long)r.at);
        snprintf(status, sizeof status, "%lld", (long long)r.status);
        s_hash_text(r.prev_hash, prev);
        s_hash_text(r.hash, hash);
        const char *params[] = {seq,    at,           kid,          r.key_name, r.role,
                                r.method, r.route,    r.path,       r.request_id,
                                r.idempotency_key, status, r.replayed ? "true" : "false",
                                prev,   hash};
        rc = lc_db_exec(db,
                        "INSERT INTO gateway.admin_log (seq, at, key_id, key_name, role, method, "
                        "route, path, request_id, idempotency_key, status, replayed, prev_hash, "
                        "hash) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)",
                        14, params, NULL);
    }
    rc = rc == LC_OK ? lc_db_commit(db) : rc;
    if (rc != LC_OK)
        lc_db_rollback(db);
    free(r.key_name);
    return rc;
}

/* ---- reading ----------------------------------------------------------------------- */

#define ROW_COLUMNS                                                                            \
    "seq, at, key_id, key_name, role, method, route, path, request_id, idempotency_key, "      \
    "status, replayed, prev_hash, hash"

/* Rows with seq > after, at most limit, into *rows (owned strings). */
static int s_read(lc_db_t *db, int64_t after, int64_t limit, admin_row_t **rows, size_t *n)
{
    char a[24], l[24];
    snprintf(a, sizeof a, "%lld", (long long)after);
    snprintf(l, sizeof l, "%lld", (long long)limit);
    const char *params[] = {a, l};
    lc_dbres_t *res = NULL;
    *rows = NULL;
    *n = 0;
    int rc = lc_db_exec(db,
                        "SELECT " ROW_COLUMNS " FROM gateway.admin_log WHERE seq > $1 "
                        "ORDER BY seq LIMIT $2",
                        2, params, &res);
    if (rc != LC_OK)
        return rc;
    int count = lc_dbres_rows(res);
    *rows = calloc(count ? (size_t)count : 1, sizeof **rows);
    if (!*rows) {
        lc_dbres_free(&res);
        return LC_ERR_NOMEM;
    }
    for (int i = 0; i < count && rc == LC_OK; i++) {
        admin_row_t *r = &(*rows)[i];
        *n = (size_t)i + 1; /* counted at once, so a clear frees a half-read row too */
        int64_t status = 0;
        if (lc_dbres_i64(res, i, 0, &r->seq) != LC_OK || lc_dbres_i64(res, i, 1, &r->at) != LC_OK ||
            lc_dbres_id(res, i, 2, &r->key_id) != LC_OK ||
            lc_dbres_i64(res, i, 10, &status) != LC_OK ||
            lc_dbres_bytea(res, i, 12, r->prev_hash, LC_SHA256_LEN) != LC_OK ||
            lc_dbres_bytea(res, i, 13, r->hash, LC_SHA256_LEN) != LC_OK) {
            rc = LC_ERR_DB;
            break;
        }
        r->status = status;
        const char *replayed = lc_dbres_get(res, i, 11);
        r->replayed = replayed && replayed[0] == 't';
        char **texts[] = {&r->key_name, &r->role,       &r->method,
                          &r->route,    &r->path,       &r->request_id};
        for (size_t k = 0; k < sizeof texts / sizeof texts[0]; k++) {
            const char *v = lc_dbres_get(res, i, 3 + (int)k);
            *texts[k] = strdup(v ? v : "");
            if (!*texts[k])
                rc = LC_ERR_NOMEM;
        }
        const char *idem = lc_dbres_get(res, i, 9);
        if (idem && !(r->idempotency_key = strdup(idem)))
            rc = LC_ERR_NOMEM;
    }
    lc_dbres_free(&res);
    return rc;
}

static void s_rows_free(admin_row_t *rows, size_t n)
{
    admin_page_t page = {.entries = rows, .nentries = n};
    lc_codec_clear(&s_page_desc, &page);
}

void gw_admin_log_list(gw_t *gw, gw_backend_t *b, const lc_api_req_t *call,
                       const char *request_id, gw_resp_t *out)
{
    (void)gw;
    int64_t after, limit;
    char msg[256];
    if (lc_api_query_i64(call, "after_seq", 0, 0, INT64_MAX, &after, msg, sizeof msg) != LC_OK ||
        lc_api_query_i64(call, "limit", LIST_DEFAULT, 1, LC_API_LIST_MAX, &limit, msg,
                         sizeof msg) != LC_OK) {
        gw_resp_error(out, LC_API_INVALID_REQUEST, request_id, "%s", msg);
        return;
    }
    admin_page_t page = {0};
    /* One row more than asked tells whether more follow. */
    int rc = s_read(b->db, after, limit + 1, &page.entries, &page.nentries);
    if (rc != LC_OK) {
        s_rows_free(page.entries, page.nentries);
        lc_error(request_id, "cannot read the admin log: %s (%s)", lc_strerror(rc),
                 lc_db_error(b->db));
        gw_resp_error(out, LC_API_UNAVAILABLE, request_id, "cannot read the admin log; try again");
        return;
    }
    if (page.nentries > (size_t)limit) {
        page.has_more = true;
        admin_row_t extra = page.entries[limit];
        admin_page_t one = {.entries = &extra, .nentries = 1};
        page.nentries = (size_t)limit;
        lc_codec_clear(&s_page_desc, &one); /* frees the extra row's strings only */
    }
    json_t *j = lc_codec_encode(&s_page_desc, &page);
    s_rows_free(page.entries, page.nentries);
    if (!j)
        gw_resp_error(out, LC_API_INTERNAL, request_id, "cannot encode the admin log");
    else
        gw_resp_json(out, 200, j);
}

void gw_admin_log_verify(gw_t *gw, gw_backend_t *b, const lc_api_req_t *call,
                         const char *request_id, gw_resp_t *out)
{
    (void)gw;
    (void)call;
    admin_verify_t v = {.ok = true};
    char reason[TEXT_MAX] = "";
    int64_t after = 0;
    int rc = LC_OK;
    /* One snapshot for the whole walk, so rows appended meanwhile do not count. */
    rc = lc_db_exec(b->db, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", 0, NULL, NULL);
    while (rc == LC_OK && v.ok) {
        admin_row_t *rows = NULL;
        size_t n = 0;
        rc = s_read(b->db, after, VERIFY_PAGE, &rows, &n);
        for (size_t i = 0; rc == LC_OK && v.ok && i < n; i++) {
            const admin_row_t *r = &rows[i];
            uint8_t want[LC_SHA256_LEN];
            if (r->seq != v.head_seq + 1) {
                v.ok = false;
                v.first_bad_seq = v.head_seq + 1;
                snprintf(reason, sizeof reason, "row %lld is missing (the next row is %lld)",
                         (long long)(v.head_seq + 1), (long long)r->seq);
            } else if (memcmp(r->prev_hash, v.head, LC_SHA256_LEN) != 0) {
                v.ok = false;
                v.first_bad_seq = r->seq;
                snprintf(reason, sizeof reason,
                         "row %lld: prev_hash is not the hash of row %lld",
                         (long long)r->seq, (long long)v.head_seq);
            } else if ((rc = s_hash(v.head, r, want)) == LC_OK &&
                       memcmp(want, r->hash, LC_SHA256_LEN) != 0) {
                v.ok = false;
                v.first_bad_seq = r->seq;
                snprintf(reason, sizeof reason,
                         "row %lld: its content does not match its hash (changed after it "
                         "was written)",
                         (long long)r->seq);
            } else if (rc == LC_OK) {
                v.rows_checked++;
                v.head_seq = r->seq;
                memcpy(v.head, want, LC_SHA256_LEN);
            }
        }
        s_rows_free(rows, n);
        if (n < VERIFY_PAGE)
            break;
        after = v.head_seq;
    }
    lc_db_rollback(b->db);
    if (rc != LC_OK) {
        lc_error(request_id, "cannot verify the admin log: %s (%s)", lc_strerror(rc),
                 lc_db_error(b->db));
        gw_resp_error(out, LC_API_UNAVAILABLE, request_id, "cannot read the admin log; try again");
        return;
    }
    if (!v.ok) {
        v.reason = reason;
        lc_warn(request_id, "admin log verification failed: %s", reason);
    }
    json_t *j = lc_codec_encode(&s_verify_desc, &v);
    if (!j)
        gw_resp_error(out, LC_API_INTERNAL, request_id, "cannot encode the verification");
    else
        gw_resp_json(out, 200, j);
}
