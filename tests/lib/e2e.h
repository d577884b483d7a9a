/*
 * e2e.h: end-to-end tests drive the real processes over HTTP: PostgreSQL (from
 * tests/run.sh), the ledger, members, settlement and the gateway, each a child
 * process on private endpoints (donation too) and a database of its own (th_db_create). The
 * HTTP client is libcurl; nothing is mocked.
 */
#ifndef E2E_H
#define E2E_H

#include "harness.h"

#include <jansson.h>
#include <stdbool.h>
#include <sys/types.h>

typedef struct e2e {
    char db[64];
    th_ledger_t ledger;
    th_svc_t members, settlement, donation;
    bool services;          /* ledger, members, settlement and donation were started */
    pid_t gw_pid;
    int port;
    char gw_log[256];
    char secrets[256];      /* the gateway's secrets dir */
    char admin_key[128];    /* the bootstrap admin key */
    char *gw_env[16];       /* extra gateway environment, for restarts */
    char tls_ca[256];       /* set: speak https, trusting this certificate */
} e2e_t;

/* Starts everything (services = false: the gateway alone, whose services then
 * do not answer). gw_env: extra "KEY=VALUE" strings for the gateway; svc_env:
 * for members and settlement (both NULL-terminated, may be NULL). Fails the
 * test when something does not come up. */
void e2e_start(e2e_t *e, bool services, const char *const *gw_env, const char *const *svc_env);
/* Stops everything (SIGTERM) and fails the test when a process did not exit 0. */
void e2e_stop(e2e_t *e);
/* Kills the gateway and starts it again on the same database. */
void e2e_restart_gateway(e2e_t *e);
/* Starts another gateway beside e's, on the same database and services: *other
 * becomes a view of e whose requests go to the new gateway. Stop it with
 * e2e_stop_gateway(other) before e2e_stop(e). */
void e2e_add_gateway(const e2e_t *e, e2e_t *other);
void e2e_stop_gateway(e2e_t *other);

typedef struct e2e_resp {
    long status;
    json_t *body;            /* parsed JSON body (NULL when empty or not JSON) */
    char *raw;               /* the body as received */
    char request_id[80];     /* X-Request-Id */
    char retry_after[16];    /* Retry-After, "" when absent */
    bool replayed;           /* Idempotent-Replayed: true */
    char content_type[80];
} e2e_resp_t;

/* Sends one request. key and idem may be NULL (no header); body may be NULL.
 * Extra headers: NULL-terminated "Name: value" strings, may be NULL. Fails the
 * test when no HTTP response comes. */
void e2e_http(e2e_t *e, const char *method, const char *path, const char *key, const char *idem,
              const char *body, const char *const *headers, e2e_resp_t *out);
/* Same, but returns false (and *out empty) when no HTTP response came: the
 * connection was refused or cut, e.g. while a fault test restarts the gateway. */
bool e2e_http_try(e2e_t *e, const char *method, const char *path, const char *key,
                  const char *idem, const char *body, const char *const *headers, e2e_resp_t *out);
void e2e_resp_clear(e2e_resp_t *r);

/* Field of the response body as string / integer (NULL / 0 when absent). */
const char *e2e_str(const e2e_resp_t *r, const char *field);
long long e2e_int(const e2e_resp_t *r, const char *field);
/* The error code of an error response, or "". */
const char *e2e_code(const e2e_resp_t *r);

/* A fresh idempotency key ("t-<n>"). */
const char *e2e_idem(void);

#endif
