/*
 * lc_config.h: configuration from a file plus the environment.
 *
 * A config file holds "key = value" lines; '#' starts a comment; keys are dotted
 * lowercase names such as "ledger.bind" or "db.conninfo". The environment
 * overrides the file: key "ledger.bind" is read from COAL_LEDGER_BIND (prefix
 * COAL_, dots and dashes become underscores, uppercase). Defaults are given at
 * each lookup, so every setting has one obvious default where it is used.
 */
#ifndef LC_CONFIG_H
#define LC_CONFIG_H

#include <stdint.h>

typedef struct lc_config lc_config_t;

/* Loads path (NULL: environment only). On a missing or malformed file returns
 * NULL and, when err is not NULL, writes a message (malloc'd, caller frees)
 * naming the file and line. */
lc_config_t *lc_config_load(const char *path, char **err);
void lc_config_destroy(lc_config_t **cfg_p);

/* Returns the value of key (environment first, then file), or def. Borrowed:
 * valid until lc_config_destroy. */
const char *lc_config_get(const lc_config_t *cfg, const char *key, const char *def);

/* Reads an integer setting in [min, max]. Returns 0 and sets *out (def when
 * unset), or LC_ERR_INVALID when the value is not an integer in range. */
int lc_config_get_i64(const lc_config_t *cfg, const char *key, int64_t def, int64_t min,
                      int64_t max, int64_t *out);

/* Reads a boolean setting: true/false, yes/no, on/off, 1/0. */
int lc_config_get_bool(const lc_config_t *cfg, const char *key, int def, int *out);

#endif
