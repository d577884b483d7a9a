/*
 * lc_tiers.c: parsing and lookup of the configured member tiers (lc_tiers.h).
 */
#include "lc_tiers.h"
#include "lc_err.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Splits list at commas into at most LC_TIERS_MAX items of at most cap - 1 bytes
 * (surrounding blanks trimmed). Returns the count, or -1 with a message. */
static int s_split(const char *key, const char *list, char items[][LC_TIER_NAME_MAX + 1],
                   char *err, size_t errlen)
{
    int n = 0;
    const char *p = list;
    for (;;) {
        const char *end = strchr(p, ',');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        while (len && (*p == ' ' || *p == '\t'))
            p++, len--;
        while (len && (p[len - 1] == ' ' || p[len - 1] == '\t'))
            len--;
        if (len == 0 || len > LC_TIER_NAME_MAX) {
            snprintf(err, errlen, "%s: item %d is %s", key, n + 1,
                     len ? "too long" : "empty");
            return -1;
        }
        if (n == LC_TIERS_MAX) {
            snprintf(err, errlen, "%s: at most %d tiers", key, LC_TIERS_MAX);
            return -1;
        }
        memcpy(items[n], p, len);
        items[n][len] = '\0';
        n++;
        if (!end)
            return n;
        p = end + 1;
    }
}

/* Parses a decimal integer in [min, max]; 0 or -1. */
static int s_int(const char *text, int64_t min, int64_t max, int64_t *out)
{
    if (!text[0] || text[0] == '+' || text[0] == '-')
        return -1;
    errno = 0;
    char *end;
    long long v = strtoll(text, &end, 10);
    if (errno || *end || v < min || v > max)
        return -1;
    *out = v;
    return 0;
}

int lc_tiers_parse(const char *names, const char *thresholds, const char *multipliers,
                   lc_tiers_t *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    char th[LC_TIERS_MAX][LC_TIER_NAME_MAX + 1], mu[LC_TIERS_MAX][LC_TIER_NAME_MAX + 1];
    int n = s_split("tiers.names", names, out->names, err, errlen);
    if (n < 0)
        return LC_ERR_INVALID;
    int nt = s_split("tiers.thresholds", thresholds, th, err, errlen);
    if (nt < 0)
        return LC_ERR_INVALID;
    int nm = s_split("tiers.multipliers_bps", multipliers, mu, err, errlen);
    if (nm < 0)
        return LC_ERR_INVALID;
    if (nt != n || nm != n) {
        snprintf(err, errlen, "tiers.names has %d tiers, tiers.thresholds %d and "
                              "tiers.multipliers_bps %d: they must match", n, nt, nm);
        return LC_ERR_INVALID;
    }
    for (int i = 0; i < n; i++) {
        for (const char *c = out->names[i]; *c; c++)
            if (!((*c >= 'a' && *c <= 'z') || (*c >= '0' && *c <= '9') || *c == '_' ||
                  *c == '-')) {
                snprintf(err, errlen, "tiers.names: \"%s\" may hold only a-z, 0-9, _ and -",
                         out->names[i]);
                return LC_ERR_INVALID;
            }
        for (int k = 0; k < i; k++)
            if (!strcmp(out->names[k], out->names[i])) {
                snprintf(err, errlen, "tiers.names: \"%s\" appears twice", out->names[i]);
                return LC_ERR_INVALID;
            }
        if (s_int(th[i], 0, INT64_C(9007199254740991), &out->thresholds[i]) != 0) {
            snprintf(err, errlen, "tiers.thresholds: \"%s\" is not a number of points", th[i]);
            return LC_ERR_INVALID;
        }
        if (i == 0 && out->thresholds[0] != 0) {
            snprintf(err, errlen, "tiers.thresholds: the lowest tier's threshold must be 0");
            return LC_ERR_INVALID;
        }
        if (i > 0 && out->thresholds[i] <= out->thresholds[i - 1]) {
            snprintf(err, errlen, "tiers.thresholds: must be ascending (%lld after %lld)",
                     (long long)out->thresholds[i], (long long)out->thresholds[i - 1]);
            return LC_ERR_INVALID;
        }
        if (s_int(mu[i], LC_TIER_BPS_ONE, LC_TIER_BPS_MAX, &out->multipliers_bps[i]) != 0) {
            snprintf(err, errlen, "tiers.multipliers_bps: \"%s\" is not between %d (1x) and %d",
                     mu[i], LC_TIER_BPS_ONE, LC_TIER_BPS_MAX);
            return LC_ERR_INVALID;
        }
        if (i > 0 && out->multipliers_bps[i] < out->multipliers_bps[i - 1]) {
            snprintf(err, errlen, "tiers.multipliers_bps: a tier may not earn less than the "
                                  "tier below (%lld after %lld)",
                     (long long)out->multipliers_bps[i], (long long)out->multipliers_bps[i - 1]);
            return LC_ERR_INVALID;
        }
    }
    out->n = (size_t)n;
    return LC_OK;
}

int lc_tiers_load(const lc_config_t *cfg, lc_tiers_t *out, char *err, size_t errlen)
{
    return lc_tiers_parse(lc_config_get(cfg, "tiers.names", LC_TIERS_DEFAULT_NAMES),
                          lc_config_get(cfg, "tiers.thresholds", LC_TIERS_DEFAULT_THRESHOLDS),
                          lc_config_get(cfg, "tiers.multipliers_bps", LC_TIERS_DEFAULT_MULTIPLIERS),
                          out, err, errlen);
}

int lc_tiers_for_points(const lc_tiers_t *t, int64_t points)
{
    int i = 0;
    while ((size_t)(i + 1) < t->n && points >= t->thresholds[i + 1])
        i++;
    return i;
}

const char *lc_tiers_name(const lc_tiers_t *t, int i)
{
    if (t->n == 0)
        return "";
    if (i < 0)
        i = 0;
    if ((size_t)i >= t->n)
        i = (int)t->n - 1;
    return t->names[i];
}
