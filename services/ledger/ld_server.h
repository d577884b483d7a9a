/*
 * ld_server.h: the ledger's single writer loop.
 *
 * One thread owns the state, the database connection and the sockets. Each turn
 * it drains up to batch_max requests from the ROUTER socket (decoding each once),
 * reads back from the journal the transfers they name that are not in memory
 * (one query; ld_state.h, "Which transfers are in memory"), applies them in
 * arrival order to the in-memory state, writes everything they changed in one
 * PostgreSQL statement (one round trip, its own transaction), and only after the
 * commit sends the replies and publishes the new journal entries on the PUB
 * socket. If the COMMIT fails the state is
 * rolled back (ld_state_abort_batch) and every writer in the batch is answered
 * "unavailable": it retries with the same ids, which is safe.
 */
#ifndef LD_SERVER_H
#define LD_SERVER_H

#include "lc_bus.h"
#include "lc_db.h"
#include "ld_state.h"

#include <stdint.h>

#define LD_BATCH_REQUESTS_MAX 2048 /* requests applied per transaction at most */
#define LD_TICK_MS 50              /* longest wait between hold-timeout checks */
#define LD_ADVISORY_LOCK_BASE INT64_C(0x4c454447) /* "LEDG" + shard number */

typedef struct ld_server_config {
    const char *bind;      /* ROUTER endpoint for requests */
    const char *publish;   /* PUB endpoint for journal entries */
    const char *conninfo;  /* libpq conninfo of the ledger role */
    const char *shard;     /* shard name (a number), for the advisory lock and logs */
    int batch_max;         /* requests per batch */
    size_t resident_transfers; /* ld_state_t.recent_max (ld_state.h) */
} ld_server_config_t;

typedef struct ld_server {
    ld_server_config_t cfg;
    void *zctx;            /* owned ZeroMQ context */
    lc_bus_server_t *rpc;  /* ROUTER */
    void *pub;             /* PUB socket for the journal stream */
    lc_db_t *db;           /* the writer's connection; holds the advisory lock */
    ld_state_t *state;     /* the books in memory */
    uint64_t batches;      /* committed batches (for logs) */
    uint64_t requests;     /* requests served */
} ld_server_t;

/* Connects, checks durability settings, takes the shard's advisory lock, loads
 * the state and binds the sockets. On failure returns an error and logs why. */
int ld_server_open(ld_server_t *srv, const ld_server_config_t *cfg);

/* Serves until *stop becomes non-zero. */
int ld_server_run(ld_server_t *srv, volatile int *stop);

void ld_server_close(ld_server_t *srv);

#endif
