/*
 * donation: charities, campaigns with partner matching, donations with signed
 * receipts, the shared pool, pledges, payouts and reports. Wiring only:
 * configuration, logging, signals, then the loop in dn_server.c.
 */
#include "dn_receipt.h"
#include "dn_server.h"
#include "lc_config.h"
#include "lc_err.h"
#include "lc_ledger_msg.h"
#include "lc_log.h"
#include "lc_service.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static volatile int s_stop;

static void s_usage(FILE *out)
{
    fprintf(out,
            "usage: donation [--config FILE] [--rotate-receipt-key]\n"
            "\n"
            "Charities, campaigns with partner matching, member donations with Ed25519-signed\n"
            "receipts, the shared pool, monthly pledges, charity payouts and reports, turned\n"
            "into ledger transfers. Served over ZeroMQ (protocol: proto/donation.json).\n"
            "\n"
            "--rotate-receipt-key  adds a new receipt signing key under secrets_dir, makes it\n"
            "                      the current one (old keys stay, so old receipts verify) and\n"
            "                      exits; restart the service to sign with it.\n"
            "\n"
            "Settings (file key = environment variable, default):\n"
            "  donation.bind              COAL_DONATION_BIND              tcp://127.0.0.1:7131\n"
            "  donation.db                COAL_DONATION_DB                (required) libpq conninfo\n"
            "  ledger.connect             COAL_LEDGER_CONNECT             tcp://127.0.0.1:7101\n"
            "  donation.secrets_dir       COAL_DONATION_SECRETS_DIR       $COAL_VAR/secrets or\n"
            "                                                             var/secrets (receipt keys)\n"
            "  donation.currency          COAL_DONATION_CURRENCY          EUR\n"
            "  donation.min_points        COAL_DONATION_MIN_POINTS        200 (smallest donation)\n"
            "  donation.daily_cap         COAL_DONATION_DAILY_CAP         100000 (points a member may\n"
            "                                                             donate a UTC day; 0 = none)\n"
            "  donation.point_value_cents COAL_DONATION_POINT_VALUE_CENTS 1\n"
            "  donation.sweep_interval_ms COAL_DONATION_SWEEP_INTERVAL_MS 5000 (pending donations)\n"
            "  donation.period_offset_s   COAL_DONATION_PERIOD_OFFSET_S   0 (seconds added to the clock\n"
            "                                                             that decides whether a month\n"
            "                                                             has ended: drills and tests)\n"
            "  log.level                  COAL_LOG_LEVEL                  info\n");
}

int main(int argc, char **argv)
{
    /* --rotate-receipt-key is ours; lc_service_start reads the rest. */
    int rotate = 0, n = 0;
    for (int i = 0; i < argc; i++) {
        if (i > 0 && !strcmp(argv[i], "--rotate-receipt-key"))
            rotate = 1;
        else
            argv[n++] = argv[i];
    }
    int exit_code = 0;
    lc_config_t *cfg = lc_service_start("donation", n, argv, s_usage, &exit_code);
    if (!cfg)
        return exit_code;

    char secrets[1024];
    const char *var = getenv("COAL_VAR");
    snprintf(secrets, sizeof secrets, "%s/secrets", var && *var ? var : "var");
    dn_config_t dc = {
        .bind = lc_config_get(cfg, "donation.bind", "tcp://127.0.0.1:7131"),
        .conninfo = lc_config_get(cfg, "donation.db", NULL),
        .ledger_connect = lc_config_get(cfg, "ledger.connect", "tcp://127.0.0.1:7101"),
        .secrets_dir = lc_config_get(cfg, "donation.secrets_dir", secrets),
        .currency = lc_config_get(cfg, "donation.currency", "EUR"),
    };
    if (rotate) {
        char id[DN_KEY_ID_MAX + 1];
        int rc = dn_keyring_rotate(dc.secrets_dir, id);
        if (rc == LC_OK)
            lc_info(NULL, "receipt signing key is now %s (in %s)", id, dc.secrets_dir);
        else
            lc_error(NULL, "cannot rotate the receipt key in %s: %s", dc.secrets_dir,
                     lc_strerror(rc));
        lc_config_destroy(&cfg);
        return rc == LC_OK ? 0 : 1;
    }
    int bad = lc_service_int(cfg, "donation.min_points", 200, 1, LD_AMOUNT_MAX, &dc.min_points) |
              lc_service_int(cfg, "donation.daily_cap", 100000, 0, LD_AMOUNT_MAX, &dc.daily_cap) |
              lc_service_int(cfg, "donation.point_value_cents", 1, 1, 1000000, &dc.point_value_cents) |
              lc_service_int(cfg, "donation.sweep_interval_ms", 5000, 10, 3600000,
                    &dc.sweep_interval_ms) |
              lc_service_int(cfg, "donation.period_offset_s", 0, 0, INT64_C(3650) * 86400,
                             &dc.period_offset_s);
    if (strlen(dc.currency) != 3) {
        lc_error(NULL, "donation.currency must be a three-letter code");
        bad = 1;
    }
    if (!dc.conninfo) {
        lc_error(NULL, "donation.db (COAL_DONATION_DB) is not set: no database to write to");
        bad = 1;
    }
    if (bad) {
        lc_config_destroy(&cfg);
        return LC_SERVICE_EXIT_USAGE;
    }
    lc_service_stop_on_signals(&s_stop);

    dn_server_t srv;
    int rc = dn_server_open(&srv, &dc);
    if (rc == LC_OK) {
        lc_info(NULL, "donation serving on %s (ledger %s, receipt key %s)", dc.bind,
                dc.ledger_connect, srv.keys.keys[0].key_id);
        rc = dn_server_run(&srv, &s_stop);
        lc_info(NULL, "donation stopping after %llu requests", (unsigned long long)srv.requests);
    }
    dn_server_close(&srv);
    lc_config_destroy(&cfg);
    return rc == LC_OK ? 0 : 1;
}
