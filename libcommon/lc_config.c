/*
 * lc_config.c: configuration from a file plus the environment (see lc_config.h).
 *
 * File format, one setting a line:
 *
 *     # a comment line; blank lines are skipped too
 *     ledger.bind   = tcp://127.0.0.1:7001     # '#' starts a comment anywhere
 *     db.conninfo   = "host=db password=a#b "  # quotes keep '#' and edge spaces
 *
 * Key and value are trimmed of surrounding whitespace. Keys use only [a-z0-9._-].
 * A value in double quotes is taken literally except for the escapes \" and \\;
 * after the closing quote only whitespace or a comment may follow. A later line
 * for the same key overrides an earlier one. Anything else is an error naming the
 * file and line, because a silently ignored setting is worse than a refusal to
 * start. The environment wins over the file: "ledger.bind" is read from
 * COAL_LEDGER_BIND. The environment is consulted at each lookup, not at load time.
 */
#include "lc_config.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "lc_err.h"

/* strtoll's result is stored in an int64_t without a range check. */
_Static_assert(sizeof(long long) == sizeof(int64_t), "long long must be 64 bits");

/* Prefix of the environment variable that overrides a key. */
#define CFG_ENV_PREFIX "COAL_"

/* Environment names up to this size are built on the stack; longer on the heap. */
#define CFG_ENV_NAME_STACK 128

/* One setting read from the file. */
typedef struct cfg_entry {
    char *key;   /* validated key, owned */
    char *value; /* unquoted value, owned */
} cfg_entry_t;

struct lc_config {
    cfg_entry_t *entries; /* settings in first-seen order, keys unique */
    size_t count;         /* entries in use */
    size_t cap;           /* entries allocated */
};

/* Sets *err (when err is not NULL) to a malloc'd message; leaves it NULL when
 * even that allocation fails. */
__attribute__((format(printf, 2, 3))) static void s_set_err(char **err, const char *fmt, ...)
{
    if (err == NULL)
        return;
    va_list ap;
    va_start(ap, fmt);
    if (vasprintf(err, fmt, ap) < 0)
        *err = NULL;
    va_end(ap);
}

/* Returns true when c may appear in a key. */
static bool s_key_char_ok(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-';
}

/* Returns the entry for key, or NULL. */
static cfg_entry_t *s_find(const lc_config_t *cfg, const char *key)
{
    for (size_t i = 0; i < cfg->count; i++) {
        if (strcmp(cfg->entries[i].key, key) == 0)
            return &cfg->entries[i];
    }
    return NULL;
}

/* Stores key = value (both copied), replacing an earlier value for key.
 * Returns LC_OK or LC_ERR_NOMEM. */
static int s_put(lc_config_t *cfg, const char *key, size_t key_len, const char *value)
{
    char *k = strndup(key, key_len);
    char *v = strdup(value);
    if (k == NULL || v == NULL) {
        free(k);
        free(v);
        return LC_ERR_NOMEM;
    }

    cfg_entry_t *e = s_find(cfg, k);
    if (e != NULL) {
        free(k);
        free(e->value);
        e->value = v;
        return LC_OK;
    }

    if (cfg->count == cfg->cap) {
        size_t ncap = cfg->cap ? cfg->cap * 2 : 16;
        cfg_entry_t *ne = realloc(cfg->entries, ncap * sizeof *ne);
        if (ne == NULL) {
            free(k);
            free(v);
            return LC_ERR_NOMEM;
        }
        cfg->entries = ne;
        cfg->cap = ncap;
    }
    cfg->entries[cfg->count].key = k;
    cfg->entries[cfg->count].value = v;
    cfg->count++;
    return LC_OK;
}

/* Returns s advanced past whitespace. */
static char *s_skip_space(char *s)
{
    while (*s != '\0' && isspace((unsigned char)*s))
        s++;
    return s;
}

/* Cuts trailing whitespace from s[0..len) in place; returns the new length. */
static size_t s_rtrim(char *s, size_t len)
{
    while (len > 0 && isspace((unsigned char)s[len - 1]))
        len--;
    s[len] = '\0';
    return len;
}

/* Unquotes the value that starts at the opening quote *s, in place. Returns NULL
 * on success (the value is then at s + 1), or a static reason for the error. */
static const char *s_unquote(char *s)
{
    char *r = s + 1; /* reads past the opening quote */
    char *w = s + 1; /* writes the unescaped value over it */

    for (;;) {
        if (*r == '\0')
            return "unterminated quoted value";
        if (*r == '"')
            break;
        if (*r == '\\') {
            r++;
            if (*r != '"' && *r != '\\')
                return "unknown escape in quoted value (only \\\" and \\\\)";
        }
        *w++ = *r++;
    }
    *w = '\0';

    r = s_skip_space(r + 1);
    if (*r != '\0' && *r != '#')
        return "unexpected text after quoted value";
    return NULL;
}

/* Parses one line (modified in place) into cfg. Returns LC_OK, LC_ERR_NOMEM, or
 * LC_ERR_INVALID with *why set to a static reason. */
static int s_parse_line(lc_config_t *cfg, char *line, const char **why)
{
    char *p = s_skip_space(line);
    if (*p == '\0' || *p == '#')
        return LC_OK;

    char *eq = strchr(p, '=');
    if (eq == NULL) {
        *why = "expected key = value";
        return LC_ERR_INVALID;
    }
    size_t key_len = s_rtrim(p, (size_t)(eq - p));
    if (key_len == 0) {
        *why = "expected key = value";
        return LC_ERR_INVALID;
    }
    for (size_t i = 0; i < key_len; i++) {
        if (!s_key_char_ok(p[i])) {
            *why = "invalid key (allowed characters: a-z 0-9 . _ -)";
            return LC_ERR_INVALID;
        }
    }

    char *value = s_skip_space(eq + 1);
    if (*value == '"') {
        *why = s_unquote(value);
        if (*why != NULL)
            return LC_ERR_INVALID;
        value++;
    } else {
        char *hash = strchr(value, '#');
        s_rtrim(value, hash != NULL ? (size_t)(hash - value) : strlen(value));
    }
    return s_put(cfg, p, key_len, value);
}

/* Reads every line of f (named path in messages) into cfg. Returns LC_OK or an
 * LC_ERR_* with *err set. */
static int s_read_file(lc_config_t *cfg, FILE *f, const char *path, char **err)
{
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    unsigned long lineno = 0;
    int rc = LC_OK;

    errno = 0;
    while ((n = getline(&line, &cap, f)) >= 0) {
        lineno++;
        if (memchr(line, '\0', (size_t)n) != NULL) {
            s_set_err(err, "%s:%lu: NUL byte in line", path, lineno);
            rc = LC_ERR_INVALID;
            break;
        }
        const char *why = NULL;
        rc = s_parse_line(cfg, line, &why);
        if (rc == LC_ERR_INVALID) {
            s_set_err(err, "%s:%lu: %s", path, lineno, why);
            break;
        }
        if (rc != LC_OK) {
            s_set_err(err, "%s:%lu: %s", path, lineno, lc_strerror(rc));
            break;
        }
    }
    if (rc == LC_OK && ferror(f)) {
        s_set_err(err, "%s: read error: %s", path, strerror(errno ? errno : EIO));
        rc = LC_ERR_IO;
    }
    free(line);
    return rc;
}

lc_config_t *lc_config_load(const char *path, char **err)
{
    if (err != NULL)
        *err = NULL;

    lc_config_t *cfg = calloc(1, sizeof *cfg);
    if (cfg == NULL) {
        s_set_err(err, "%s: %s", path != NULL ? path : "config", lc_strerror(LC_ERR_NOMEM));
        return NULL;
    }
    if (path == NULL)
        return cfg;

    FILE *f = fopen(path, "r");
    if (f == NULL) {
        s_set_err(err, "%s: %s", path, strerror(errno));
        lc_config_destroy(&cfg);
        return NULL;
    }
    int rc = s_read_file(cfg, f, path, err);
    fclose(f);
    if (rc != LC_OK)
        lc_config_destroy(&cfg);
    return cfg;
}

void lc_config_destroy(lc_config_t **cfg_p)
{
    if (cfg_p == NULL || *cfg_p == NULL)
        return;
    lc_config_t *cfg = *cfg_p;
    for (size_t i = 0; i < cfg->count; i++) {
        free(cfg->entries[i].key);
        free(cfg->entries[i].value);
    }
    free(cfg->entries);
    free(cfg);
    *cfg_p = NULL;
}

/* Returns the environment override for key (COAL_ + key uppercased, '.' and '-'
 * as '_'), or NULL when unset. Borrowed from the environment. */
static const char *s_env_value(const char *key)
{
    size_t plen = sizeof CFG_ENV_PREFIX - 1;
    size_t klen = strlen(key);
    char stackbuf[CFG_ENV_NAME_STACK];
    char *name = stackbuf;

    if (plen + klen + 1 > sizeof stackbuf) {
        name = malloc(plen + klen + 1);
        if (name == NULL)
            return NULL;
    }
    memcpy(name, CFG_ENV_PREFIX, plen);
    for (size_t i = 0; i < klen; i++) {
        char c = key[i];
        name[plen + i] = (c == '.' || c == '-') ? '_' : (char)toupper((unsigned char)c);
    }
    name[plen + klen] = '\0';

    const char *v = getenv(name);
    if (name != stackbuf)
        free(name);
    return v;
}

const char *lc_config_get(const lc_config_t *cfg, const char *key, const char *def)
{
    if (key == NULL)
        return def;
    const char *v = s_env_value(key);
    if (v != NULL)
        return v;
    if (cfg != NULL) {
        const cfg_entry_t *e = s_find(cfg, key);
        if (e != NULL)
            return e->value;
    }
    return def;
}

int lc_config_get_i64(const lc_config_t *cfg, const char *key, int64_t def, int64_t min,
                      int64_t max, int64_t *out)
{
    if (out == NULL)
        return LC_ERR_INVALID;
    const char *v = lc_config_get(cfg, key, NULL);
    if (v == NULL) {
        *out = def;
        return LC_OK;
    }

    /* Only an optional sign and digits: strtoll alone would accept leading spaces. */
    const char *d = (v[0] == '-' || v[0] == '+') ? v + 1 : v;
    if (!isdigit((unsigned char)d[0]))
        return LC_ERR_INVALID;

    char *end;
    errno = 0;
    long long n = strtoll(v, &end, 10);
    if (errno != 0 || *end != '\0')
        return LC_ERR_INVALID;
    if (n < min || n > max)
        return LC_ERR_INVALID;
    *out = (int64_t)n;
    return LC_OK;
}

int lc_config_get_bool(const lc_config_t *cfg, const char *key, int def, int *out)
{
    static const char *const truthy[] = {"true", "yes", "on", "1"};
    static const char *const falsy[] = {"false", "no", "off", "0"};

    if (out == NULL)
        return LC_ERR_INVALID;
    const char *v = lc_config_get(cfg, key, NULL);
    if (v == NULL) {
        *out = def ? 1 : 0;
        return LC_OK;
    }
    for (size_t i = 0; i < sizeof truthy / sizeof truthy[0]; i++) {
        if (strcasecmp(v, truthy[i]) == 0) {
            *out = 1;
            return LC_OK;
        }
        if (strcasecmp(v, falsy[i]) == 0) {
            *out = 0;
            return LC_OK;
        }
    }
    return LC_ERR_INVALID;
}
