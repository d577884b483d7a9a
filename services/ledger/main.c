/*
 * ledger: the system of record for points. Wiring only: configuration, logging,
 * signals, then the writer loop in ld_server.c.
 */
#include "lc_config.h"
#include "lc_err.h"
#include "lc_log.h"
#include "lc_service.h"
#include "ld_server.h"

#include <stdio.h>

static volatile int s_stop; /* set by SIGINT / SIGTERM (lc_service_stop_on_signals) */

static void s_usage(FILE *out)
{
    fprintf(out,
            "usage: ledger [--config FILE]\n"
            "\n"
            "The coalition's system of record: accounts, transfers, holds, lots and the\n"
            "hash-chained journal, served over ZeroMQ (protocol: proto/README.md).\n"
            "\n"
            "Settings (file key = environment variable, default):\n"
            "  ledger.bind     COAL_LEDGER_BIND     tcp://127.0.0.1:7101  requests (ROUTER)\n"
            "  ledger.publish  COAL_LEDGER_PUBLISH  tcp://127.0.0.1:7102  journal stream (PUB)\n"
            "  ledger.db       COAL_LEDGER_DB       (required)            libpq conninfo\n"
            "  ledger.shard    COAL_LEDGER_SHARD    0                     shard number\n"
            "  ledger.batch    COAL_LEDGER_BATCH    1024                  requests per commit\n"
            "  ledger.resident_transfers COAL_LEDGER_RESIDENT_TRANSFERS 100000\n"
            "                  recent transfers kept in memory besides open holds (older\n"
            "                  ones are read from the journal when named again)\n"
            "  log.level       COAL_LOG_LEVEL       info                  debug|info|warn|error\n"
            "\n"
            "It refuses to start when PostgreSQL runs with fsync or synchronous_commit off,\n"
            "or when another writer already holds the shard.\n");
}

int main(int argc, char **argv)
{
    int exit_code = 0;
    lc_config_t *cfg = lc_service_start("ledger", argc, argv, s_usage, &exit_code);
    if (!cfg)
        return exit_code;

    int64_t batch = 0, resident = 0;
    if (lc_service_int(cfg, "ledger.batch", 1024, 1, LD_BATCH_REQUESTS_MAX, &batch) != LC_OK ||
        lc_service_int(cfg, "ledger.resident_transfers", LD_RECENT_MAX, 0, INT64_C(1000000000),
                       &resident) != LC_OK) {
        lc_config_destroy(&cfg);
        return LC_SERVICE_EXIT_USAGE;
    }
    ld_server_config_t sc = {
        .bind = lc_config_get(cfg, "ledger.bind", "tcp://127.0.0.1:7101"),
        .publish = lc_config_get(cfg, "ledger.publish", "tcp://127.0.0.1:7102"),
        .conninfo = lc_config_get(cfg, "ledger.db", NULL),
        .shard = lc_config_get(cfg, "ledger.shard", "0"),
        .batch_max = (int)batch,
        .resident_transfers = (size_t)resident,
    };
    if (!sc.conninfo) {
        lc_error(NULL, "ledger.db (COAL_LEDGER_DB) is not set: no database to write to");
        lc_config_destroy(&cfg);
        return LC_SERVICE_EXIT_USAGE;
    }
    lc_service_stop_on_signals(&s_stop);

    ld_server_t srv;
    int rc = ld_server_open(&srv, &sc);
    if (rc == LC_OK) {
        lc_info(NULL, "ledger shard %s serving on %s, journal stream on %s", sc.shard, sc.bind,
                sc.publish);
        rc = ld_server_run(&srv, &s_stop);
        lc_info(NULL, "ledger stopping after %llu requests in %llu committed batches",
                (unsigned long long)srv.requests, (unsigned long long)srv.batches);
    }
    ld_server_close(&srv);
    lc_config_destroy(&cfg);
    return rc == LC_OK ? 0 : 1;
}
