/*
 * gw.h: the gateway's state and configuration, shared by its modules.
 *
 * The gateway is the only HTTP surface (API.md). It holds nothing another
 * gateway would need: keys and idempotency records are in PostgreSQL (schema
 * gateway), so several gateways can run side by side behind a load balancer.
 * The only per-process state is the rate limiter's buckets and the metrics.
 *
 * Request path (gw_dispatch.c): route (gw_routes.c) -> body size -> API key
 * (gw_keys.c) -> role -> rate limit (gw_limit.c) -> Idempotency-Key
 * (gw_idem.c) -> forward to a service over ZeroMQ as an API call (lc_api.h) or
 * run a local handler (gw_local.c) -> store the response for replay -> append an
 * admin's action to the admin log (gw_admin_log.c) -> CSV instead of JSON when the
 * route offers it and Accept asks for it (gw_csv.c) -> answer.
 */
#ifndef GW_H
#define GW_H

#include <stdint.h>

typedef struct gw_pool gw_pool_t;
typedef struct gw_limit gw_limit_t;
typedef struct gw_metrics gw_metrics_t;

typedef struct gw_config {
    const char *host;         /* listen address (gateway.host, 127.0.0.1) */
    int64_t port;             /* listen port (gateway.port, 8080; 0: any free port) */
    const char *port_file;    /* when set, the bound port is written there */
    const char *db;           /* libpq conninfo of role coal_gateway */
    const char *members;      /* members service endpoint */
    const char *settlement;   /* settlement service endpoint */
    const char *donation;     /* donation service endpoint */
    const char *ledger;       /* ledger endpoint (health) */
    const char *secrets_dir;  /* where the bootstrap admin key is written */
    const char *tls_cert;     /* PEM files; TLS when both are set */
    const char *tls_key;
    int64_t body_max;         /* bytes; larger bodies: 413 */
    int64_t rate_per_s;       /* sustained requests per second per key */
    int64_t rate_burst;       /* bucket size per key */
    int64_t backends;         /* database connections + bus sockets (concurrency) */
    int64_t bus_timeout_ms;   /* per attempt, to a service */
    int64_t bus_retries;      /* resends after the first attempt */
    int64_t idempotency_days; /* records kept at least this long */
    int64_t max_connections;  /* open HTTP connections */
    int64_t conn_timeout_s;   /* idle or slow connections are closed after this */
} gw_config_t;

typedef struct gw {
    gw_config_t cfg;          /* settings, borrowed from lc_config */
    void *zctx;               /* the process's ZeroMQ context */
    gw_pool_t *pool;          /* backends lent to requests, one at a time */
    gw_limit_t *limit;        /* per-key token buckets */
    gw_metrics_t *metrics;    /* counters for /metrics */
    struct MHD_Daemon *mhd;   /* the HTTP server */
    int port;                 /* the port actually bound */
} gw_t;

#endif
