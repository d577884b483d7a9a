/*
 * gw_pool.h: backends lent to requests.
 *
 * A backend is what one request needs to do its work: a PostgreSQL connection
 * (keys, idempotency records) and a DEALER socket to each service. Neither is
 * thread-safe, so a backend serves one request at a time; HTTP threads borrow
 * one for the request and give it back (the pool's mutex is the memory barrier
 * ZeroMQ asks for when a socket changes threads). The pool size bounds the
 * work in flight; further requests wait for a free backend.
 */
#ifndef GW_POOL_H
#define GW_POOL_H

#include "gw.h"
#include "lc_bus.h"
#include "lc_db.h"

typedef enum gw_service {
    GW_SVC_NONE = -1,
    GW_SVC_MEMBERS = 0,
    GW_SVC_SETTLEMENT,
    GW_SVC_DONATION,
    GW_SVC_LEDGER,
    GW_SVC_COUNT
} gw_service_t;
extern const char *const gw_service_names[GW_SVC_COUNT];

typedef struct gw_backend {
    lc_db_t *db;                        /* NULL until first use or after a failure */
    lc_bus_client_t *bus[GW_SVC_COUNT]; /* one DEALER per service */
} gw_backend_t;

/* Creates n backends (no connection is opened yet). NULL on NOMEM. */
gw_pool_t *gw_pool_new(gw_t *gw, int n);
void gw_pool_destroy(gw_pool_t **pool_p);

/* Borrows a backend, waiting for one to be free. Its database connection is
 * (re)opened when needed: on failure b->db stays NULL and the caller answers
 * 503. Always gw_pool_put() it back. */
gw_backend_t *gw_pool_get(gw_pool_t *pool);
void gw_pool_put(gw_pool_t *pool, gw_backend_t *b);

#endif
