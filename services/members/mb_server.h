/*
 * mb_server.h: the members service's state and its request loop.
 *
 * One thread serves requests one at a time (lc_bus_serve) from a ROUTER socket,
 * with one PostgreSQL connection (role coal_members, schema members) and one
 * Lazy Pirate client to the ledger. Each request is dispatched by type to a
 * handler (mb_handlers.h); API calls (lc_api.h) are parsed and their caller's
 * role checked here, once, before the handler runs.
 *
 * Ordering rules that keep the members schema and the ledger consistent without a
 * distributed transaction (every step is idempotent, so a retry converges):
 *   - enroll creates the ledger account first (id = member id, "exists" counts as
 *     success) and then the member row, so a stored member always has an account;
 *   - freeze / unfreeze change the ledger flag first and then the member's status;
 *   - consents and erasure never reach the ledger: erasure deletes the member's
 *     data key (personal data: mb_store.h) in one transaction of this schema.
 */
#ifndef MB_SERVER_H
#define MB_SERVER_H

#include "lc_api.h"
#include "lc_bus.h"
#include "lc_db.h"
#include "lc_tiers.h"
#include "mb_history.h"

#include <stdint.h>

typedef struct mb_server_config {
    const char *bind;        /* ROUTER endpoint */
    const char *conninfo;    /* libpq conninfo of role coal_members */
    const char *ledger;      /* the ledger's ROUTER endpoint */
    const char *publish;     /* the ledger's PUB endpoint (journal stream, mb_history.h) */
    const char *card_prefix; /* first digits of generated card numbers */
    int64_t code_ttl_s;      /* lifetime of a one-time code, 1..600 s */
    int code_attempts;       /* wrong attempts before outstanding codes die */
    int64_t code_lock_us;    /* that many wrong attempts within this long lock codes */
    int64_t cooling_off_us;  /* after a card is added, large redemptions are held this long */
    int64_t cooling_off_points; /* what a large redemption is */
    lc_tiers_t tiers;        /* tiers.* (lc_tiers.h): the names members shows */
} mb_server_config_t;

typedef struct mb_server {
    mb_server_config_t cfg;  /* strings borrowed from the caller's configuration */
    void *zctx;              /* the process's ZeroMQ context (owned) */
    lc_bus_server_t *bus;    /* ROUTER for requests (owned) */
    lc_bus_client_t *ledger; /* DEALER to the ledger (owned) */
    lc_db_t *db;             /* the one database connection (owned); reopened if lost */
    uint64_t requests;       /* requests handled so far */
    mb_history_t history;    /* the journal consumer thread (mb_history.h) */
} mb_server_t;

/* Opens sockets and the database connection. Returns 0 or an LC_ERR_* (logged);
 * mb_server_close is safe either way. */
int mb_server_open(mb_server_t *s, const mb_server_config_t *cfg);
/* Starts the journal consumer thread (mb_history.h), serves until *stop becomes
 * true, then waits for the thread. */
int mb_server_run(mb_server_t *s, volatile int *stop);
void mb_server_close(mb_server_t *s);

/* What one request's handler gets. */
typedef struct mb_call {
    mb_server_t *srv;
    const lc_request_t *req; /* the envelope (type, request id, body) */
    lc_api_req_t api;        /* API calls: the parsed body (else zeroed) */
    const char *rid;         /* request id, for logs */
} mb_call_t;

/* A handler: fills *reply (new reference) and returns NULL, or returns an error
 * code (API.md's for API calls, proto/errors.json's for internal calls) with a
 * message in msg. */
typedef const char *(*mb_handler_fn)(mb_call_t *c, json_t **reply, char *msg, size_t msglen);

#endif
