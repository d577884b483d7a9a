/*
 * gw_routes.h: the route table: every HTTP route of API.md the gateway serves,
 * who may call it, whether it takes an Idempotency-Key, and which service
 * message (or local handler) does the work. To find the code behind an
 * endpoint, find its row in gw_routes.c, then the service's handler for the
 * message type.
 */
#ifndef GW_ROUTES_H
#define GW_ROUTES_H

#include "gw.h"
#include "gw_pool.h"
#include "lc_api.h"

#include <jansson.h>
#include <stdbool.h>

/* What a request answers: status, JSON text (NULL: no body, e.g. 204). */
typedef struct gw_resp {
    int status;
    char *body;           /* owned */
    int64_t retry_after;  /* seconds, for 429; 0: no header */
    bool replayed;        /* Idempotent-Replayed: true */
    bool text_plain;      /* /metrics: text/plain; version=0.0.4 */
    bool text_csv;        /* body is CSV (gw_csv.h), not JSON */
} gw_resp_t;

/* Sets an error response {"error": {code, message, request_id}} with the code's
 * status. */
void gw_resp_error(gw_resp_t *out, const char *code, const char *request_id, const char *fmt,
                   ...) __attribute__((format(printf, 4, 5)));
/* Sets a JSON response; body is stolen (NULL: no body). */
void gw_resp_json(gw_resp_t *out, int status, json_t *body);
void gw_resp_clear(gw_resp_t *out);

/* A route handled in the gateway itself (keys; partner creation, which adds the
 * partner's first key to settlement's answer). Runs inside the request's
 * idempotency transaction on b->db. */
typedef void (*gw_local_fn)(gw_t *gw, gw_backend_t *b, const lc_api_req_t *call,
                            const char *request_id, gw_resp_t *out);

enum { GW_IDEM_NONE = 0, GW_IDEM_OPTIONAL, GW_IDEM_REQUIRED };
#define GW_ROLE(r) (1u << (r))

typedef struct gw_route {
    const char *method;
    const char *pattern; /* "/v1/redemptions/{id}/capture": {name} captures a segment */
    unsigned roles;      /* GW_ROLE(LC_ROLE_*) bits */
    int idem;            /* GW_IDEM_* */
    int service;         /* gw_service_t the call goes to; GW_SVC_NONE: local only */
    const char *type;    /* the service's message type */
    int status;          /* success status */
    gw_local_fn local;   /* NULL: forward the call as is */
    bool public;         /* no API key: authentication, roles and per-key limits are
                            skipped (roles must be 0); GET only */
    const char *csv;     /* set: the reply's array member that Accept: text/csv gets
                            as CSV (gw_csv.h); NULL: JSON only. Rows set it by name
                            (.csv = "entries"), the others leave it out */
} gw_route_t;

extern const gw_route_t gw_routes[];
extern const int gw_nroutes;
extern const char *const gw_route_labels[]; /* "METHOD pattern", for metrics */

/* Finds the route of method and path. Returns its index and fills params (a
 * new object of the captured segments), or -1 with *path_known telling whether
 * the path exists under another method. */
int gw_route_match(const char *method, const char *path, json_t **params, bool *path_known);

#endif
