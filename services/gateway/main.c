/*
 * gateway: the only HTTP surface (API.md). Wiring only: configuration,
 * logging, signals, the bootstrap admin key, the backend pool, then the HTTP
 * server (gw_http.c) whose requests gw_dispatch.c handles.
 */
#include "gw.h"
#include "gw_http.h"
#include "gw_idem.h"
#include "gw_keys.h"
#include "gw_limit.h"
#include "gw_metrics.h"
#include "gw_pool.h"
#include "gw_routes.h"
#include "lc_config.h"
#include "lc_err.h"
#include "lc_log.h"
#include "lc_service.h"
#include "lc_time.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include <zmq.h>

#define PURGE_INTERVAL_MS (3600 * 1000) /* idempotency records: hourly */

static volatile int s_stop; /* set by SIGINT / SIGTERM (lc_service_stop_on_signals) */

static void s_usage(FILE *out)
{
    fprintf(out,
            "usage: gateway [--config FILE]\n"
            "\n"
            "The coalition's HTTP API (API.md): authenticates keys, enforces idempotency\n"
            "keys and rate limits, and forwards each route to its service over ZeroMQ.\n"
            "\n"
            "Settings (file key = environment variable, default):\n"
            "  gateway.host             COAL_GATEWAY_HOST             127.0.0.1\n"
            "  gateway.port             COAL_GATEWAY_PORT             8080 (0: any free port)\n"
            "  gateway.port_file        COAL_GATEWAY_PORT_FILE        (none) write the bound port\n"
            "  gateway.db               COAL_GATEWAY_DB               (required) libpq conninfo\n"
            "  members.connect          COAL_MEMBERS_CONNECT          tcp://127.0.0.1:7111\n"
            "  settlement.connect       COAL_SETTLEMENT_CONNECT       tcp://127.0.0.1:7121\n"
            "  donation.connect         COAL_DONATION_CONNECT         tcp://127.0.0.1:7131\n"
            "  ledger.connect           COAL_LEDGER_CONNECT           tcp://127.0.0.1:7101\n"
            "  gateway.secrets_dir      COAL_GATEWAY_SECRETS_DIR      $COAL_VAR/secrets or "
            "var/secrets\n"
            "  gateway.tls_cert         COAL_GATEWAY_TLS_CERT         (none) PEM; TLS when set\n"
            "  gateway.tls_key          COAL_GATEWAY_TLS_KEY          (none) PEM\n"
            "  gateway.body_max         COAL_GATEWAY_BODY_MAX         65536 bytes\n"
            "  gateway.rate_per_s       COAL_GATEWAY_RATE_PER_S       1000 requests/s per key\n"
            "  gateway.rate_burst       COAL_GATEWAY_RATE_BURST       2000\n"
            "  gateway.backends         COAL_GATEWAY_BACKENDS         32 requests in flight\n"
            "  gateway.bus_timeout_ms   COAL_GATEWAY_BUS_TIMEOUT_MS   2500 per attempt\n"
            "  gateway.bus_retries      COAL_GATEWAY_BUS_RETRIES      2\n"
            "  gateway.idempotency_days COAL_GATEWAY_IDEMPOTENCY_DAYS 35 (at least)\n"
            "  gateway.max_connections  COAL_GATEWAY_MAX_CONNECTIONS  1024\n"
            "  gateway.conn_timeout_s   COAL_GATEWAY_CONN_TIMEOUT_S   30\n"
            "  log.level                COAL_LOG_LEVEL                info\n"
            "\n"
            "On its first start against an empty database it writes an admin key to\n"
            "<secrets_dir>/admin.key (mode 0600) and never shows it again.\n");
}

/* An integer setting: its key, default, range and where it goes. */
typedef struct setting {
    const char *key;
    int64_t def, min, max;
    int64_t *out;
} setting_t;

static int s_configure(const lc_config_t *cfg, gw_config_t *c, char *secrets, size_t len)
{
    const char *var = getenv("COAL_VAR");
    snprintf(secrets, len, "%s/secrets", var && *var ? var : "var");
    c->host = lc_config_get(cfg, "gateway.host", "127.0.0.1");
    c->port_file = lc_config_get(cfg, "gateway.port_file", NULL);
    c->db = lc_config_get(cfg, "gateway.db", NULL);
    c->members = lc_config_get(cfg, "members.connect", "tcp://127.0.0.1:7111");
    c->settlement = lc_config_get(cfg, "settlement.connect", "tcp://127.0.0.1:7121");
    c->donation = lc_config_get(cfg, "donation.connect", "tcp://127.0.0.1:7131");
    c->ledger = lc_config_get(cfg, "ledger.connect", "tcp://127.0.0.1:7101");
    c->secrets_dir = lc_config_get(cfg, "gateway.secrets_dir", secrets);
    c->tls_cert = lc_config_get(cfg, "gateway.tls_cert", NULL);
    c->tls_key = lc_config_get(cfg, "gateway.tls_key", NULL);
    const setting_t ints[] = {
        {"gateway.port", 8080, 0, 65535, &c->port},
        {"gateway.body_max", 65536, 1024, 16 * 1024 * 1024, &c->body_max},
        {"gateway.rate_per_s", 1000, 1, 1000000, &c->rate_per_s},
        {"gateway.rate_burst", 2000, 1, 10000000, &c->rate_burst},
        {"gateway.backends", 32, 1, 1024, &c->backends},
        {"gateway.bus_timeout_ms", 2500, 10, 600000, &c->bus_timeout_ms},
        {"gateway.bus_retries", 2, 0, 10, &c->bus_retries},
        {"gateway.idempotency_days", 35, 35, 3650, &c->idempotency_days},
        {"gateway.max_connections", 1024, 1, 100000, &c->max_connections},
        {"gateway.conn_timeout_s", 30, 1, 3600, &c->conn_timeout_s},
    };
    for (size_t i = 0; i < sizeof ints / sizeof ints[0]; i++)
        if (lc_service_int(cfg, ints[i].key, ints[i].def, ints[i].min, ints[i].max, ints[i].out) !=
            LC_OK)
            return LC_ERR_INVALID;
    if (!c->db) {
        lc_error(NULL, "gateway.db (COAL_GATEWAY_DB) is required");
        return LC_ERR_INVALID;
    }
    return LC_OK;
}

/* Connects, makes sure durability is on, and writes the bootstrap key. */
static int s_prepare_db(const gw_config_t *c)
{
    char *err = NULL;
    lc_db_t *db = lc_db_connect(c->db, &err);
    if (!db) {
        lc_error(NULL, "cannot connect to the database: %s", err ? err : "?");
        free(err);
        return LC_ERR_UNAVAILABLE;
    }
    const char *why = NULL;
    int rc = lc_db_check_durability(db, &why);
    if (rc != LC_OK)
        lc_error(NULL, "refusing to run: %s", why ? why : lc_db_error(db));
    if (rc == LC_OK && (rc = gw_keys_bootstrap(db, c->secrets_dir)) != LC_OK)
        lc_error(NULL, "cannot create the bootstrap admin key: %s", lc_db_error(db));
    lc_db_destroy(&db);
    return rc;
}

static void s_purge(const gw_config_t *c)
{
    lc_db_t *db = lc_db_connect(c->db, NULL);
    if (!db)
        return;
    int64_t n = gw_idem_purge(db, c->idempotency_days);
    if (n > 0)
        lc_info(NULL, "purged %lld idempotency records older than %lld days", (long long)n,
                (long long)c->idempotency_days);
    lc_db_destroy(&db);
}

int main(int argc, char **argv)
{
    int exit_code = 0;
    lc_config_t *cfg = lc_service_start("gateway", argc, argv, s_usage, &exit_code);
    if (!cfg)
        return exit_code;

    gw_t gw = {0};
    char secrets[512];
    int rc = s_configure(cfg, &gw.cfg, secrets, sizeof secrets);
    if (rc == LC_OK)
        rc = s_prepare_db(&gw.cfg);
    if (rc != LC_OK) {
        lc_config_destroy(&cfg);
        return rc == LC_ERR_INVALID ? LC_SERVICE_EXIT_USAGE : 1;
    }
    signal(SIGPIPE, SIG_IGN); /* a client gone mid-reply is an error value, not a death */
    lc_service_stop_on_signals(&s_stop);

    gw.zctx = zmq_ctx_new();
    gw.pool = gw.zctx ? gw_pool_new(&gw, (int)gw.cfg.backends) : NULL;
    gw.limit = gw_limit_new(gw.cfg.rate_per_s, gw.cfg.rate_burst);
    gw.metrics = gw_metrics_new(gw_route_labels, gw_nroutes);
    rc = gw.pool && gw.limit && gw.metrics ? gw_http_start(&gw) : LC_ERR_NOMEM;
    if (rc == LC_OK && gw.cfg.port_file) {
        FILE *f = fopen(gw.cfg.port_file, "w");
        if (!f || fprintf(f, "%d\n", gw.port) < 0 || fclose(f) != 0) {
            lc_error(NULL, "cannot write the port to %s", gw.cfg.port_file);
            rc = LC_ERR_IO;
        }
    }
    s_purge(&gw.cfg);
    int64_t last_purge = lc_mono_ms();
    while (rc == LC_OK && !s_stop) {
        usleep(100 * 1000);
        if (lc_mono_ms() - last_purge > PURGE_INTERVAL_MS) {
            s_purge(&gw.cfg);
            last_purge = lc_mono_ms();
        }
    }
    if (rc == LC_OK)
        lc_info(NULL, "stopping");
    gw_http_stop(&gw);
    gw_pool_destroy(&gw.pool);
    gw_limit_destroy(&gw.limit);
    gw_metrics_destroy(&gw.metrics);
    if (gw.zctx)
        zmq_ctx_term(gw.zctx);
    lc_config_destroy(&cfg);
    return rc == LC_OK ? 0 : 1;
}
