/*
 * harness.h: what integration tests share. tests/run.sh starts one throwaway
 * PostgreSQL cluster (COAL_VAR, COAL_PG_PORT) for the whole run; each test makes
 * its own database with every migration applied (th_db_create) and runs the real
 * ledger binary (COAL_BIN_DIR) as a child process on private ipc:// endpoints.
 * Nothing is mocked: the bus is ZeroMQ and the store is PostgreSQL.
 */
#ifndef TH_HARNESS_H
#define TH_HARNESS_H

#include "lc_bus.h"
#include "lc_db.h"
#include "lc_ledger_msg.h"

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

typedef struct th_ledger {
    pid_t pid;
    char db[64];          /* database name */
    char endpoint[128];   /* ROUTER endpoint */
    char publish[128];    /* PUB endpoint */
    char log[256];        /* where its stderr goes */
} th_ledger_t;

/* Creates a fresh database with all migrations; writes its name to db. */
int th_db_create(char *db, size_t len);
/* libpq conninfo for role in db (coal_admin is the superuser). */
void th_conninfo(const char *role, const char *db, char *out, size_t len);
/* Connects as role to db; fails the test when it cannot. */
lc_db_t *th_db_connect(const char *role, const char *db);
/* Runs SQL as the superuser in db and returns the first column of the first row
 * as an integer (for counts and sums); fails the test on error. */
int64_t th_sql_i64(const char *db, const char *sql);

/* Starts the ledger on db (fresh endpoints on first start, the same ones on a
 * restart) and waits until it answers ping. */
int th_ledger_start(th_ledger_t *l, const char *db);
/* Starts it and returns its exit status if it exits within ms (for refusals),
 * or -1 when it is still running after ms (then it is killed). */
int th_ledger_start_expect_exit(th_ledger_t *l, const char *db, int ms);
void th_ledger_kill(th_ledger_t *l, int sig); /* signal and reap */
void th_ledger_stop(th_ledger_t *l);          /* SIGTERM, reap, expect exit 0 */
/* Waits (up to 10 s, else fails the test) until PostgreSQL has ended the killed
 * ledger's session on its database and so released its advisory lock: a restart
 * sooner could be refused as a second writer. */
void th_ledger_wait_session_gone(const th_ledger_t *l);

/* Any other bus service (members, settlement, ...), run from COAL_BIN_DIR as a
 * child process with COAL_<NAME>_DB (the conninfo of role coal_<name> on db),
 * COAL_<NAME>_BIND (a private ipc:// endpoint) and the extra "KEY=VALUE" strings
 * of env (NULL-terminated; may be NULL), e.g. "COAL_LEDGER_CONNECT=ipc://...". */
typedef struct th_svc {
    pid_t pid;
    char name[32];
    char db[64];
    char endpoint[128];
    char log[256];
    char *env[16];       /* copies of the extra environment, for restarts */
} th_svc_t;
/* Starts it and waits until it answers "<name>.ping"; fails the test otherwise. */
void th_svc_start(th_svc_t *s, const char *name, const char *db, const char *const *env);
/* Starts it again on the same endpoint and environment (after a kill). */
void th_svc_restart(th_svc_t *s);
void th_svc_kill(th_svc_t *s, int sig); /* signal and reap */
void th_svc_stop(th_svc_t *s);          /* SIGTERM, reap, expect exit 0; frees env */

/* A client for the ledger's endpoint (own zmq context per client). */
typedef struct th_client {
    void *zctx;
    lc_bus_client_t *bus;
} th_client_t;
void th_client_open(th_client_t *c, const th_ledger_t *l);
void th_client_open_at(th_client_t *c, const char *endpoint);
void th_client_close(th_client_t *c);

/* Sends type with body (reference stolen) and returns the reply body (new
 * reference), or NULL with *code set to the error code (static storage). Fails
 * the test when no reply comes. */
json_t *th_call(th_client_t *c, const char *type, json_t *body, char *code, size_t codelen);
/* Same, never failing the test: returns LC_ERR_TIMEOUT when no reply came. */
int th_try_call(th_client_t *c, const char *type, json_t *body, int timeout_ms, int retries,
                json_t **reply, char *code, size_t codelen);

/* Convenience builders. */
lc_id_t th_id(uint64_t n);              /* deterministic test id */
const char *th_ids(const lc_id_t *id);  /* text form in a rotating static buffer */
/* Text form of th_id(n) into out: safe from several threads, unlike th_ids. */
void th_id_text(uint64_t n, char out[LC_ID_STRLEN + 1]);
json_t *th_account(uint64_t n, const char *kind, const char *flags_csv);
json_t *th_transfer(uint64_t id, uint64_t debit, uint64_t credit, int64_t amount);

/* Creates accounts / transfers and returns each item's result name in order
 * (rotating static buffers; fine for a handful of items per call). */
const char *th_create_one(th_client_t *c, const char *type, json_t *item);
/* Looks up one account; returns its JSON (new reference) or NULL. */
json_t *th_lookup(th_client_t *c, uint64_t account);
int64_t th_balance(th_client_t *c, uint64_t account, const char *field);

#endif
