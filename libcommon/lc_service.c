/*
 * lc_service.c: the start of every service's main (see lc_service.h).
 */
#include "lc_service.h"
#include "lc_bus.h"
#include "lc_curve.h"
#include "lc_err.h"
#include "lc_log.h"

#include <signal.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

/* The bus endpoints a service may connect to, each with the service behind it and
 * the default the services use when the setting is unset (their --help lists the
 * same): a CURVE client finds the server's key through this (lc_bus_add_peer). */
static const struct {
    const char *key, *service, *def;
} s_bus_peers[] = {
    {"ledger.connect", "ledger", "tcp://127.0.0.1:7101"},
    {"ledger.publish", "ledger", "tcp://127.0.0.1:7102"},
    {"members.connect", "members", "tcp://127.0.0.1:7111"},
    {"settlement.connect", "settlement", "tcp://127.0.0.1:7121"},
    {"donation.connect", "donation", "tcp://127.0.0.1:7131"},
};

/* The process's bus keys: made at start, alive until exit (lc_bus borrows them). */
static lc_curve_t *s_curve;

/* The flag the installed handler sets; a signal handler takes no argument. */
static volatile int *s_stop;

static void s_on_signal(int sig)
{
    (void)sig;
    if (s_stop)
        *s_stop = 1;
}

/* Writes the service's usage, then the settings every service shares. */
static void s_usage(lc_service_usage_fn *usage, FILE *out)
{
    usage(out);
    fprintf(out,
            "\n"
            "Bus security (every service; docs/DESIGN.md, \"The bus: CURVE\"):\n"
            "  bus.curve     COAL_BUS_CURVE     auto  auto: CURVE on non-loopback endpoints;\n"
            "                                         all: on every endpoint\n"
            "  bus.keys_dir  COAL_BUS_KEYS_DIR  $COAL_VAR/secrets/bus or var/secrets/bus\n"
            "Its key pair is <keys_dir>/<service>.key (mode 0600, made on the first start)\n"
            "and <service>.pub; a CURVE server admits only the keys of the *.pub files\n"
            "there. It refuses to start with libzmq older than 4.3.2 or without CURVE.\n"
            "--bus-keys makes the key pair when missing, prints the public key and exits.\n");
}

/* Checks libzmq, opens this service's bus keys (bus.keys_dir, made when missing)
 * under the policy of bus.curve and hands them to lc_bus with the known server
 * endpoints. Returns 0, or the exit status to stop with (after logging why). */
static int s_bus_start(const char *name, const lc_config_t *cfg)
{
    char *err = NULL;
    if (lc_curve_check_libzmq(&err) != LC_OK) {
        lc_error(NULL, "refusing to start: %s", err ? err : "unusable libzmq");
        free(err);
        return 1;
    }
    lc_curve_mode_t mode;
    if (lc_curve_mode_parse(lc_config_get(cfg, "bus.curve", "auto"), &mode) != LC_OK) {
        lc_error(NULL, "bus.curve must be auto (CURVE off loopback) or all (CURVE everywhere)");
        return LC_SERVICE_EXIT_USAGE;
    }
    char dir[1024];
    const char *var = getenv("COAL_VAR");
    snprintf(dir, sizeof dir, "%s/secrets/bus", var && *var ? var : "var");
    const char *keys = lc_config_get(cfg, "bus.keys_dir", dir);
    s_curve = lc_curve_open(keys, name, mode, &err);
    if (!s_curve) {
        lc_error(NULL, "refusing to start: bus keys: %s", err ? err : "?");
        free(err);
        return 1;
    }
    lc_bus_set_curve(s_curve);
    for (size_t i = 0; i < sizeof s_bus_peers / sizeof s_bus_peers[0]; i++)
        if (lc_bus_add_peer(lc_config_get(cfg, s_bus_peers[i].key, s_bus_peers[i].def),
                            s_bus_peers[i].service) != LC_OK) {
            lc_error(NULL, "refusing to start: out of memory");
            return 1;
        }
    lc_info(NULL, "bus: CURVE on %s endpoints, keys in %s, public key %s",
            mode == LC_CURVE_ALL ? "all" : "non-loopback", keys, lc_curve_public_key(s_curve));
    return 0;
}

lc_config_t *lc_service_start(const char *name, int argc, char **argv, lc_service_usage_fn *usage,
                              int *exit_code)
{
    const char *config_path = NULL;
    bool keys_only = false;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            s_usage(usage, stdout);
            *exit_code = 0;
            return NULL;
        } else if (!strcmp(argv[i], "--bus-keys")) {
            keys_only = true;
        } else if (!strcmp(argv[i], "--config") && i + 1 < argc) {
            config_path = argv[++i];
        } else {
            fprintf(stderr, "%s: unknown argument %s\n", name, argv[i]);
            s_usage(usage, stderr);
            *exit_code = LC_SERVICE_EXIT_USAGE;
            return NULL;
        }
    }
    char *err = NULL;
    lc_config_t *cfg = lc_config_load(config_path, &err);
    if (!cfg) {
        /* Logging is not set up yet: the message goes to stderr as plain text. */
        fprintf(stderr, "%s: %s\n", name, err ? err : "cannot read configuration");
        free(err);
        *exit_code = LC_SERVICE_EXIT_USAGE;
        return NULL;
    }
    int level = lc_log_level_parse(lc_config_get(cfg, "log.level", "info"));
    lc_log_init(name, level < 0 ? LC_LOG_INFO : (lc_log_level_t)level, 2);
    *exit_code = s_bus_start(name, cfg);
    if (*exit_code != 0 || keys_only) {
        if (keys_only && *exit_code == 0)
            printf("%s\n", lc_curve_public_key(s_curve));
        lc_config_destroy(&cfg);
        return NULL;
    }
    return cfg;
}

int lc_service_int(const lc_config_t *cfg, const char *key, int64_t def, int64_t min, int64_t max,
                   int64_t *out)
{
    if (lc_config_get_i64(cfg, key, def, min, max, out) == LC_OK)
        return LC_OK;
    lc_error(NULL, "%s must be an integer from %lld to %lld", key, (long long)min, (long long)max);
    return LC_ERR_INVALID;
}

void lc_service_stop_on_signals(volatile int *stop)
{
    s_stop = stop;
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = s_on_signal;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
}
