/*
 * lc_service.c: the start of every service's main (see lc_service.h).
 */
#include "lc_service.h"
#include "lc_err.h"
#include "lc_log.h"

#include <signal.h>
#include <stdlib.h>
#include <string.h>

/* The flag the installed handler sets; a signal handler takes no argument. */
static volatile int *s_stop;

static void s_on_signal(int sig)
{
    (void)sig;
    if (s_stop)
        *s_stop = 1;
}

lc_config_t *lc_service_start(const char *name, int argc, char **argv, lc_service_usage_fn *usage,
                              int *exit_code)
{
    const char *config_path = NULL;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            usage(stdout);
            *exit_code = 0;
            return NULL;
        } else if (!strcmp(argv[i], "--config") && i + 1 < argc) {
            config_path = argv[++i];
        } else {
            fprintf(stderr, "%s: unknown argument %s\n", name, argv[i]);
            usage(stderr);
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
    *exit_code = 0;
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
