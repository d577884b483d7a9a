/*
 * lc_api.h: how an HTTP request reaches a service, and what a service answers.
 *
 * The gateway is the only HTTP surface (API.md). It authenticates the caller,
 * enforces idempotency keys and limits, then forwards each route as one bus
 * request to the service that owns it. The bus body of such a request is an
 * "API call" (proto/README.md, "API calls"):
 *
 *   {"caller": {"role": "partner", "key_id": "...", "partner_id": "...",
 *               "owner": "partner:..."},
 *    "idempotency_key": "k-123",          (only on routes that require one)
 *    "params": {"id": "..."},             (path parameters, strings)
 *    "query": {"limit": "10"},            (query parameters, strings)
 *    "request": {...}}                    (the HTTP body; {} when none)
 *
 * The service decodes "request" with its own codec descriptor (lc_api_decode),
 * so unknown fields, wrong types and missing fields are refused in one place,
 * and answers either ok with the HTTP response body, or an error whose code is
 * one of API.md's error codes (invalid_request, not_found, insufficient_points,
 * ...). The gateway picks the success status from its route table and the error
 * status from lc_api_http_status(). The caller block comes only from the
 * gateway, never from the HTTP body, so no client can claim another partner.
 */
#ifndef LC_API_H
#define LC_API_H

#include "lc_codec.h"
#include "lc_id.h"

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

/* API.md's error codes. */
#define LC_API_INVALID_REQUEST "invalid_request"
#define LC_API_IDEMPOTENCY_KEY_REQUIRED "idempotency_key_required"
#define LC_API_UNAUTHENTICATED "unauthenticated"
#define LC_API_FORBIDDEN "forbidden"
#define LC_API_FOUR_EYES_REQUIRED "four_eyes_required"
#define LC_API_NOT_FOUND "not_found"
#define LC_API_IDEMPOTENCY_KEY_REUSED "idempotency_key_reused"
#define LC_API_CONFLICT "conflict"
#define LC_API_PAYLOAD_TOO_LARGE "payload_too_large"
#define LC_API_INSUFFICIENT_POINTS "insufficient_points"
#define LC_API_BELOW_THRESHOLD "below_redemption_threshold"
#define LC_API_INVALID_MEMBER_CODE "invalid_member_code"
#define LC_API_COUPON_NOT_APPLICABLE "coupon_not_applicable"
#define LC_API_BUDGET_EXHAUSTED "partner_budget_exhausted"
#define LC_API_MEMBER_FROZEN "member_frozen"
/* Fraud limits (issue 8, item 6; docs/DESIGN.md "Fraud limits"). */
#define LC_API_DAILY_LIMIT "daily_limit_exceeded"     /* 422: the member's daily cap */
#define LC_API_MEMBER_CODE_LOCKED "member_code_locked" /* 423: too many wrong codes */
#define LC_API_COOLING_OFF "cooling_off"               /* 423: large redemption too soon
                                                          after a card was added */
#define LC_API_RATE_LIMITED "rate_limited"
#define LC_API_UNAVAILABLE "unavailable"
#define LC_API_INTERNAL "internal" /* 500: a bug or a broken dependency, logged */

/* The HTTP status of an API error code; 500 for a code API.md does not know. */
int lc_api_http_status(const char *code);

/* Points on the API: 1 .. 2^53 - 1 (API.md "Money"). */
#define LC_API_POINTS_MAX INT64_C(9007199254740991)
#define LC_API_LIST_MAX 1000 /* largest "limit" of a list */

typedef enum lc_role {
    LC_ROLE_NONE = 0,
    LC_ROLE_ADMIN = 1,
    LC_ROLE_AUDITOR = 2,
    LC_ROLE_PARTNER = 3,
    LC_ROLE_APP = 4,
} lc_role_t;
extern const lc_name_t lc_role_names[];

typedef struct lc_api_caller {
    int role;           /* lc_role_t */
    lc_id_t key_id;     /* the API key the request came with */
    lc_id_t partner_id; /* role partner: the partner the key belongs to; else zero */
    char *owner;        /* idempotency scope: "partner:<id>" or "key:<id>" (owned) */
} lc_api_caller_t;

typedef struct lc_api_req {
    lc_api_caller_t caller;
    char *idempotency_key; /* owned; NULL when the route takes none */
    json_t *params;        /* owned reference: object of strings */
    json_t *query;         /* owned reference: object of strings */
    json_t *request;       /* owned reference: the HTTP body, an object */
} lc_api_req_t;

/* Money on the API: {"amount": 1999, "currency": "EUR"}, minor units. */
typedef struct lc_money {
    int64_t amount;
    char *currency; /* owned; three uppercase letters */
} lc_money_t;
extern const lc_msgdesc_t lc_money_desc;

/* ---- gateway side ------------------------------------------------------------------ */

/* Builds an API call body (new reference; NULL on NOMEM). params, query and
 * request are borrowed (NULL: empty object); idempotency_key may be NULL. */
json_t *lc_api_req_build(const lc_api_caller_t *caller, const char *idempotency_key,
                         const json_t *params, const json_t *query, const json_t *request);

/* ---- service side ------------------------------------------------------------------ */

/* Parses an API call body into *out. Returns 0, or LC_ERR_INVALID with a message
 * in msg (the gateway sent something malformed: answer invalid_request).
 * Always lc_api_req_clear(out) afterwards. */
int lc_api_req_parse(const json_t *body, lc_api_req_t *out, char *msg, size_t msglen);
void lc_api_req_clear(lc_api_req_t *req);

/* A path or query parameter as a string; NULL when absent. Borrowed. */
const char *lc_api_param(const lc_api_req_t *req, const char *name);
const char *lc_api_query(const lc_api_req_t *req, const char *name);

/* Parses path parameter name as a UUID. Returns 0, or LC_ERR_NOT_FOUND when it
 * is absent or not a UUID (a malformed id names no object: answer not_found). */
int lc_api_param_id(const lc_api_req_t *req, const char *name, lc_id_t *out);

/* Reads query parameter name as an integer in [min, max] (def when absent).
 * Returns 0, or LC_ERR_INVALID with msg filled. */
int lc_api_query_i64(const lc_api_req_t *req, const char *name, int64_t def, int64_t min,
                     int64_t max, int64_t *out, char *msg, size_t msglen);

/* Decodes the HTTP body into out with desc (lc_codec rules: strict). Returns 0,
 * or LC_ERR_INVALID with msg naming the field ("amount.currency: ..."), or
 * LC_ERR_NOMEM. Clear out with lc_codec_clear(desc, out). */
int lc_api_decode(const lc_api_req_t *req, const lc_msgdesc_t *desc, void *out, char *msg,
                  size_t msglen);

/* The id of the effect labelled label of this request: deterministic in (caller
 * owner, idempotency key, label), so a retry of the same HTTP request derives
 * the same ledger transfer ids at every hop. Returns LC_ERR_INVALID when the
 * request has no idempotency key. */
int lc_api_derive(const lc_api_req_t *req, const char *label, lc_id_t *out);

#endif
