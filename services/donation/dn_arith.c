/*
 * dn_arith.c: matching, periods, the pool split and values (dn_arith.h).
 */
#include "dn_arith.h"
#include "lc_err.h"
#include "lc_time.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int dn_match_points(int64_t points, int64_t ratio_bps, int64_t cap, int64_t already,
                    int64_t *out)
{
    *out = 0;
    if (points < 0 || ratio_bps < 0 || cap < 0 || already < 0)
        return LC_ERR_INVALID;
    __int128 m = (__int128)points * ratio_bps / DN_BPS; /* rounds down: all non-negative */
    int64_t left = already >= cap ? 0 : cap - already;
    *out = m > left ? left : (int64_t)m;
    return LC_OK;
}

static int s_digits(const char *s, size_t n, int *out)
{
    int v = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return LC_ERR_INVALID;
        v = v * 10 + (s[i] - '0');
    }
    *out = v;
    return LC_OK;
}

int dn_period_parse(const char *text, int64_t *start_us, int64_t *end_us)
{
    int y, m;
    if (!text || strlen(text) != 7 || text[4] != '-' || s_digits(text, 4, &y) != LC_OK ||
        s_digits(text + 5, 2, &m) != LC_OK || y < 1970 || m < 1 || m > 12)
        return LC_ERR_INVALID;
    int ny = m == 12 ? y + 1 : y, nm = m == 12 ? 1 : m + 1;
    const int64_t day = INT64_C(86400) * LC_USEC_PER_SEC;
    *start_us = lc_days_from_civil(y, (unsigned)m, 1) * day;
    *end_us = lc_days_from_civil(ny, (unsigned)nm, 1) * day;
    return LC_OK;
}

void dn_period_of(int64_t t_us, char out[DN_PERIOD_TEXT])
{
    char text[LC_RFC3339_MAX];
    if (lc_time_format(t_us < 0 ? 0 : t_us, text) != LC_OK)
        snprintf(text, sizeof text, "1970-01");
    snprintf(out, DN_PERIOD_TEXT, "%.7s", text);
}

int dn_split(int64_t total, const int64_t *weights, size_t n, int64_t *out)
{
    __int128 sum = 0;
    for (size_t i = 0; i < n; i++) {
        if (weights[i] < 0)
            return LC_ERR_INVALID;
        sum += weights[i];
        out[i] = 0;
    }
    if (total < 0 || sum <= 0)
        return LC_ERR_INVALID;
    if (sum > INT64_MAX)
        return LC_ERR_OVERFLOW;
    int64_t *rem = calloc(n, sizeof *rem);
    if (!rem)
        return LC_ERR_NOMEM;
    int64_t given = 0;
    for (size_t i = 0; i < n; i++) {
        __int128 p = (__int128)total * weights[i];
        out[i] = (int64_t)(p / sum);
        rem[i] = (int64_t)(p % sum);
        given += out[i];
    }
    /* total - given < n: hand the rest out one by one, largest remainder first. */
    for (int64_t left = total - given; left > 0; left--) {
        size_t best = n;
        for (size_t i = 0; i < n; i++)
            if (rem[i] >= 0 && weights[i] > 0 && (best == n || rem[i] > rem[best]))
                best = i;
        if (best == n)
            break;
        out[best]++;
        rem[best] = -1; /* at most one extra point each */
    }
    free(rem);
    return LC_OK;
}

int dn_value_cents(int64_t points, int64_t cents_per_point, int64_t *out)
{
    __int128 v = (__int128)points * cents_per_point;
    if (points < 0 || cents_per_point < 0 || v > INT64_MAX)
        return LC_ERR_OVERFLOW;
    *out = (int64_t)v;
    return LC_OK;
}
