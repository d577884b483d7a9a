/*
 * lc_service.h: what every service's main does before its own wiring: the command
 * line (--help/-h, --config FILE), the configuration, logging under the service's
 * name, integer settings checked against their range, and SIGINT/SIGTERM as a
 * stop request. One place, so that every service answers the same way: --help on
 * stdout and exit status 0; a bad argument or an unreadable configuration on
 * stderr and exit status 2 (the status of a usage error).
 */
#ifndef LC_SERVICE_H
#define LC_SERVICE_H

#include "lc_config.h"

#include <stdint.h>
#include <stdio.h>

/* Exit status of a service refused at start (bad argument, configuration). */
#define LC_SERVICE_EXIT_USAGE 2

/* Writes a service's usage text to out: stdout for --help, stderr after a bad
 * argument. lc_service_start follows it with the settings every service shares
 * (the bus's security). */
typedef void lc_service_usage_fn(FILE *out);

/* Parses argv (--help, --config FILE, --bus-keys), loads the configuration (FILE,
 * else the environment only), starts logging as name at the level of setting log.level (info when
 * unset or unknown) and secures the bus (lc_curve.h): checks that libzmq is
 * 4.3.2 or later with CURVE, loads name's key pair from bus.keys_dir (default
 * $COAL_VAR/secrets/bus; made when missing) and applies bus.curve (auto: CURVE off
 * loopback; all: everywhere) to every socket lc_bus makes. Returns the
 * configuration (the caller destroys it), or NULL with *exit_code set: 0 after
 * --help and after --bus-keys (which makes the key pair, prints its public key on
 * stdout and stops there), LC_SERVICE_EXIT_USAGE after a bad argument, a
 * configuration that cannot be read or a bad bus.curve, 1 when libzmq or the bus
 * keys are unusable. */
lc_config_t *lc_service_start(const char *name, int argc, char **argv, lc_service_usage_fn *usage,
                              int *exit_code);

/* Reads integer setting key in [min, max] (def when unset). Returns 0, or
 * LC_ERR_INVALID after logging "<key> must be an integer from <min> to <max>". */
int lc_service_int(const lc_config_t *cfg, const char *key, int64_t def, int64_t min, int64_t max,
                   int64_t *out);

/* Makes SIGINT and SIGTERM set *stop to 1 (the flag the service's loop polls).
 * stop must outlive the process's use of it (a static in main.c). */
void lc_service_stop_on_signals(volatile int *stop);

#endif
