/*
 * gw_admin_log.h: the admin log: every action taken with an admin key, in an
 * append-only, hash-chained table (gateway.admin_log,
 * deploy/migrations/gateway/002_admin_log.sql), readable by auditors.
 *
 * What is logged: every request with an admin key whose method is not GET and
 * that the gateway handed to its handler or answered from its idempotency record
 * (an action, whatever its outcome: 201, 403 four_eyes_required, 409, a replay),
 * or refused for the key's role (403 forbidden), once the response is known: who
 * (key id, the key's name, role), what (method, route pattern, the concrete path,
 * which names the ids), the request id, the Idempotency-Key, the resulting status,
 * whether it was a replay, and when. Not logged: reads (GET), requests without a
 * valid key (401), and requests refused before any handler for their form (429
 * rate_limited, 400 for a missing or malformed Idempotency-Key or body): they
 * attempted nothing, and a flood of them must not cost a database write each.
 *
 * The chain: row n's hash = SHA-256(hash of row n-1 || canonical bytes of row
 * n), row 1's previous hash being 32 zero bytes. Canonical bytes, in order:
 * seq (8 bytes, big-endian), at (8 bytes BE, Unix microseconds), key_id (16
 * bytes), then key_name, role, method, route, path, request_id and
 * idempotency_key each as a 4-byte BE length and its UTF-8 bytes (an absent
 * idempotency key: length 0xFFFFFFFF, no bytes), status (4 bytes BE), replayed
 * (1 byte, 0 or 1). Rows get seq = previous + 1 under a transaction-level
 * advisory lock, so gateways side by side append one chain; the gateway's role
 * may INSERT and SELECT the table but never UPDATE or DELETE it.
 *
 * Verification recomputes the chain from row 1 and names the first row that
 * does not match: a changed row (its own hash no longer matches), a deleted row
 * (the seq after the gap), a row whose stored hash was rewritten to match (the
 * next row's prev_hash no longer matches). Cutting rows off the end leaves a
 * valid shorter chain: an auditor keeps the last verified head (seq and hash)
 * and checks a later verification still contains it.
 */
#ifndef GW_ADMIN_LOG_H
#define GW_ADMIN_LOG_H

#include "gw_routes.h"
#include "lc_api.h"
#include "lc_db.h"

#include <stdbool.h>

typedef struct gw_admin_action {
    const lc_api_caller_t *caller; /* an authenticated admin */
    const char *method;
    const char *route;           /* the route's pattern */
    const char *path;            /* the path requested */
    const char *request_id;
    const char *idempotency_key; /* NULL when none */
    int status;                  /* the status answered */
    bool replayed;               /* answered from the idempotency record */
} gw_admin_action_t;

/* True when a request of this caller and method is an admin action to log. */
bool gw_admin_log_wanted(const lc_api_caller_t *caller, const char *method);

/* Appends one row in a transaction of its own (db must have none open).
 * Returns 0, or LC_ERR_DB / LC_ERR_UNAVAILABLE / LC_ERR_NOMEM. */
int gw_admin_log_append(lc_db_t *db, const gw_admin_action_t *a);

/* GET /v1/audit/admin-log: rows in seq order, query after_seq (default 0) and
 * limit (1..1000, default 100): {entries, has_more}. */
void gw_admin_log_list(gw_t *gw, gw_backend_t *b, const lc_api_req_t *call,
                       const char *request_id, gw_resp_t *out);

/* GET /v1/audit/admin-log/verify: {ok, rows_checked, head_seq, head,
 * first_bad_seq and reason when not ok}. */
void gw_admin_log_verify(gw_t *gw, gw_backend_t *b, const lc_api_req_t *call,
                         const char *request_id, gw_resp_t *out);

#endif
