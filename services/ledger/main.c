/*
 * ledger: the system of record for points. Wiring only: configuration, logging,
 * signals, then the writer loop in ld_server.c.
 */
#include "lc_config.h"
#include "lc_err.h"
#include "lc_log.h"
#include "ld_server.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static volatile int s_stop;

static void s_on_signal(int sig)
{
    (void)sig;
    s_stop = 1;
}

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
            "  log.level       COAL_LOG_LEVEL       info                  debug|info|warn|error\n"
            "\n"
            "It refuses to start when PostgreSQL runs with fsync or synchronous_commit off,\n"
            "or when another writer already holds the shard.\n");
}

int main(int argc, char **argv)
{
    const char *config_path = NULL;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            s_usage(stdout);
            return 0;
        } else if (!strcmp(argv[i], "--config") && i + 1 < argc) {
            config_path = argv[++i];
        } else {
            fprintf(stderr, "ledger: unknown argument %s\n", argv[i]);
            s_usage(stderr);
            return 2;
        }
    }
    char *err = NULL;
    lc_config_t *cfg = lc_config_load(config_path, &err);
    if (!cfg) {
        fprintf(stderr, "ledger: %s\n", err ? err : "cannot read configuration");
        free(err);
        return 2;
    }
    int level = lc_log_level_parse(lc_config_get(cfg, "log.level", "info"));
    lc_log_init("ledger", level < 0 ? LC_LOG_INFO : (lc_log_level_t)level, 2);

    int64_t batch = 0;
    if (lc_config_get_i64(cfg, "ledger.batch", 1024, 1, LD_BATCH_REQUESTS_MAX, &batch) != LC_OK) {
        lc_error(NULL, "ledger.batch must be an integer from 1 to %d", LD_BATCH_REQUESTS_MAX);
        lc_config_destroy(&cfg);
        return 2;
    }
    ld_server_config_t sc = {
        .bind = lc_config_get(cfg, "ledger.bind", "tcp://127.0.0.1:7101"),
        .publish = lc_config_get(cfg, "ledger.publish", "tcp://127.0.0.1:7102"),
        .conninfo = lc_config_get(cfg, "ledger.db", NULL),
        .shard = lc_config_get(cfg, "ledger.shard", "0"),
        .batch_max = (int)batch,
    };
    if (!sc.conninfo) {
        lc_error(NULL, "ledger.db (COAL_LEDGER_DB) is not set: no database to write to");
        lc_config_destroy(&cfg);
        return 2;
    }
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = s_on_signal;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);

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
