/*
 * settlement: the partners' side of the coalition (partners, earn, redeem, return,
 * grant). Wiring only: configuration, logging, signals, then the loop in
 * st_server.c.
 */
#include "lc_config.h"
#include "lc_err.h"
#include "lc_log.h"
#include "lc_service.h"
#include "lc_ledger_msg.h"
#include "st_server.h"

#include <stdio.h>
#include <string.h>

static volatile int s_stop; /* set by SIGINT / SIGTERM (lc_service_stop_on_signals) */

static void s_usage(FILE *out)
{
    fprintf(out,
            "usage: settlement [--config FILE]\n"
            "\n"
            "The partners' side of the coalition: partner registry, earn, redemptions\n"
            "(authorize, capture, void, refund), returns and grants, turned into ledger\n"
            "transfers. Served over ZeroMQ (protocol: proto/settlement.json).\n"
            "\n"
            "Settings (file key = environment variable, default):\n"
            "  settlement.bind               COAL_SETTLEMENT_BIND               tcp://127.0.0.1:7121\n"
            "  settlement.db                 COAL_SETTLEMENT_DB                 (required) libpq conninfo\n"
            "  ledger.connect                COAL_LEDGER_CONNECT                tcp://127.0.0.1:7101\n"
            "  members.connect               COAL_MEMBERS_CONNECT               tcp://127.0.0.1:7111\n"
            "  ledger.publish                COAL_LEDGER_PUBLISH                tcp://127.0.0.1:7102 (the\n"
            "                                                                   journal: statements)\n"
            "  settlement.workers            COAL_SETTLEMENT_WORKERS            8 (requests served at\n"
            "                                                                   once, 1..64; each has\n"
            "                                                                   its own connection)\n"
            "  settlement.currency           COAL_SETTLEMENT_CURRENCY           EUR\n"
            "  settlement.min_redemption     COAL_SETTLEMENT_MIN_REDEMPTION     200 (points)\n"
            "  settlement.point_value_cents  COAL_SETTLEMENT_POINT_VALUE_CENTS  1\n"
            "  settlement.hold_minutes       COAL_SETTLEMENT_HOLD_MINUTES       15 (redemption hold)\n"
            "  settlement.hold_seconds       COAL_SETTLEMENT_HOLD_SECONDS       (unset) overrides\n"
            "                                                                   hold_minutes\n"
            "  settlement.mature_interval_ms COAL_SETTLEMENT_MATURE_INTERVAL_MS 1000 (pending earns)\n"
            "  settlement.daily_redemption_cap COAL_SETTLEMENT_DAILY_REDEMPTION_CAP 100000 (points a\n"
            "                                                                   member may redeem a\n"
            "                                                                   UTC day; 0 = no cap)\n"
            "  expiry.validity_months        COAL_EXPIRY_VALIDITY_MONTHS        36 (1..240): earned and\n"
            "                                                                   granted points expire\n"
            "                                                                   this many months later\n"
            "  expiry.cutoff                 COAL_EXPIRY_CUTOFF                 (unset) MM-DD: lots due in\n"
            "                                                                   a year all expire at the\n"
            "                                                                   end of this day (UTC);\n"
            "                                                                   needs validity >= 12\n"
            "  expiry.sweep_interval_ms      COAL_EXPIRY_SWEEP_INTERVAL_MS      60000 (due lots expired)\n"
            "  expiry.batch                  COAL_EXPIRY_BATCH                  1000 (1..1000 lots per\n"
            "                                                                   ledger call)\n"
            "  tiers.names                   COAL_TIERS_NAMES                   bronze,silver,gold\n"
            "  tiers.thresholds              COAL_TIERS_THRESHOLDS              0,2000,5000 (base points\n"
            "                                                                   earned in 12 months;\n"
            "                                                                   0 first, ascending)\n"
            "  tiers.multipliers_bps         COAL_TIERS_MULTIPLIERS_BPS         10000,12500,15000 (earn\n"
            "                                                                   multiplier per tier,\n"
            "                                                                   10000 = 1x)\n"
            "  tiers.review_interval_ms      COAL_TIERS_REVIEW_INTERVAL_MS      60000 (monthly reviews\n"
            "                                                                   and reports to members)\n"
            "  settlement.period_offset_s    COAL_SETTLEMENT_PERIOD_OFFSET_S    0 (seconds added to the\n"
            "                                                                   clock that decides\n"
            "                                                                   whether a month has\n"
            "                                                                   ended: drills, tests)\n"
            "  log.level                     COAL_LOG_LEVEL                     info\n");
}

int main(int argc, char **argv)
{
    int exit_code = 0;
    lc_config_t *cfg = lc_service_start("settlement", argc, argv, s_usage, &exit_code);
    if (!cfg)
        return exit_code;

    st_config_t sc = {
        .bind = lc_config_get(cfg, "settlement.bind", "tcp://127.0.0.1:7121"),
        .conninfo = lc_config_get(cfg, "settlement.db", NULL),
        .ledger_connect = lc_config_get(cfg, "ledger.connect", "tcp://127.0.0.1:7101"),
        .members_connect = lc_config_get(cfg, "members.connect", "tcp://127.0.0.1:7111"),
        .ledger_publish = lc_config_get(cfg, "ledger.publish", "tcp://127.0.0.1:7102"),
        .currency = lc_config_get(cfg, "settlement.currency", "EUR"),
    };
    int64_t hold_minutes = 0, validity = 0;
    int bad =
        lc_service_int(cfg, "settlement.min_redemption", 200, 1, LD_AMOUNT_MAX,
                       &sc.min_redemption) |
        lc_service_int(cfg, "settlement.point_value_cents", 1, 1, 1000000, &sc.point_value_cents) |
        lc_service_int(cfg, "settlement.hold_minutes", 15, 1, LD_TIMEOUT_MAX / 60, &hold_minutes) |
        lc_service_int(cfg, "settlement.hold_seconds", hold_minutes * 60, 1, LD_TIMEOUT_MAX,
                       &sc.hold_seconds) |
        lc_service_int(cfg, "settlement.mature_interval_ms", 1000, 10, 3600000,
                       &sc.mature_interval_ms) |
        lc_service_int(cfg, "expiry.validity_months", ST_EXPIRY_MONTHS, ST_VALIDITY_MONTHS_MIN,
                       ST_VALIDITY_MONTHS_MAX, &validity) |
        lc_service_int(cfg, "expiry.sweep_interval_ms", ST_EXPIRE_INTERVAL_MS, 10, 86400000,
                       &sc.expire_interval_ms) |
        lc_service_int(cfg, "expiry.batch", ST_EXPIRE_BATCH, 1, LD_BATCH_MAX, &sc.expire_batch) |
        lc_service_int(cfg, "settlement.period_offset_s", 0, 0, INT64_C(3650) * 86400,
                       &sc.period_offset_s);
    sc.expiry.validity_months = (int)validity;
    const char *cutoff = lc_config_get(cfg, "expiry.cutoff", NULL);
    if (cutoff && cutoff[0] &&
        st_expiry_cutoff_parse(cutoff, &sc.expiry.cutoff_month, &sc.expiry.cutoff_day) != LC_OK) {
        lc_error(NULL, "expiry.cutoff must be a day MM-DD that exists in every year (e.g. "
                       "12-31), not \"%s\"", cutoff);
        bad = 1;
    } else if (!bad && st_expiry_rule_check(&sc.expiry) != LC_OK) {
        lc_error(NULL, "expiry.cutoff needs expiry.validity_months of at least 12 (got %d): "
                       "otherwise the cut-off day could come before the earn",
                 sc.expiry.validity_months);
        bad = 1;
    }
    char terr[200];
    if (lc_service_int(cfg, "settlement.daily_redemption_cap", 100000, 0, LC_API_POINTS_MAX,
                       &sc.daily_redemption_cap) != 0)
        bad = 1;
    if (lc_service_int(cfg, "settlement.workers", ST_WORKERS, 1, ST_WORKERS_MAX, &sc.workers) != 0)
        bad = 1;
    if (lc_service_int(cfg, "tiers.review_interval_ms", 60000, 10, 86400000,
                       &sc.tier_interval_ms) != 0)
        bad = 1;
    if (lc_tiers_load(cfg, &sc.tiers, terr, sizeof terr) != LC_OK) {
        lc_error(NULL, "%s", terr);
        bad = 1;
    }
    if (strlen(sc.currency) != 3) {
        lc_error(NULL, "settlement.currency must be a three-letter code");
        bad = 1;
    }
    if (!sc.conninfo) {
        lc_error(NULL, "settlement.db (COAL_SETTLEMENT_DB) is not set: no database to write to");
        bad = 1;
    }
    if (bad) {
        lc_config_destroy(&cfg);
        return LC_SERVICE_EXIT_USAGE;
    }
    lc_service_stop_on_signals(&s_stop);

    st_server_t srv;
    int rc = st_server_open(&srv, &sc);
    if (rc == LC_OK) {
        lc_info(NULL, "settlement serving on %s with %lld workers (ledger %s, members %s; points "
                      "expire after %d months%s%s; %zu tiers from %s to %s)",
                sc.bind, (long long)sc.workers, sc.ledger_connect, sc.members_connect, sc.expiry.validity_months,
                sc.expiry.cutoff_month ? ", at the end of cut-off day " : "",
                sc.expiry.cutoff_month ? cutoff : "", sc.tiers.n, lc_tiers_name(&sc.tiers, 0),
                lc_tiers_name(&sc.tiers, (int)sc.tiers.n - 1));
        rc = st_server_run(&srv, &s_stop);
        lc_info(NULL, "settlement stopping after %llu requests",
                (unsigned long long)srv.requests);
    }
    st_server_close(&srv);
    lc_config_destroy(&cfg);
    return rc == LC_OK ? 0 : 1;
}
