/*
 * lc_period.c: "YYYY-MM" accounting periods (lc_period.h).
 */
#include "lc_period.h"
#include "lc_err.h"
#include "lc_time.h"

#include <stdio.h>

#define DAY_US (INT64_C(86400) * LC_USEC_PER_SEC)

int lc_period_valid(const lc_period_t *p)
{
    return p && p->year >= LC_PERIOD_YEAR_MIN && p->year <= LC_PERIOD_YEAR_MAX && p->month >= 1 &&
           p->month <= 12;
}

/* Reads n decimal digits of s; -1 when one is not a digit (or the text ends). */
static int s_digits(const char *s, int n)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        v = v * 10 + (s[i] - '0');
    }
    return v;
}

int lc_period_parse(const char *text, lc_period_t *out)
{
    if (!text)
        return LC_ERR_INVALID;
    /* Each check stops at the first byte that is wrong, so a shorter text (its
     * NUL is not a digit nor '-') is never read past its end. */
    lc_period_t p;
    p.year = s_digits(text, 4);
    if (p.year < 0 || text[4] != '-')
        return LC_ERR_INVALID;
    p.month = s_digits(text + 5, 2);
    if (p.month < 0 || text[7] != '\0' || !lc_period_valid(&p))
        return LC_ERR_INVALID;
    *out = p;
    return LC_OK;
}

int lc_period_format(const lc_period_t *p, char out[LC_PERIOD_STRLEN + 1])
{
    out[0] = '\0';
    if (!lc_period_valid(p))
        return LC_ERR_INVALID;
    snprintf(out, LC_PERIOD_STRLEN + 1, "%04d-%02d", p->year, p->month);
    return LC_OK;
}

int lc_period_first_us(const lc_period_t *p, int64_t *out)
{
    if (!lc_period_valid(p))
        return LC_ERR_INVALID;
    *out = lc_days_from_civil(p->year, (unsigned)p->month, 1) * DAY_US;
    return LC_OK;
}

int lc_period_last_us(const lc_period_t *p, int64_t *out)
{
    if (!lc_period_valid(p))
        return LC_ERR_INVALID;
    /* The first day of the next month, which for 9999-12 is 10000-01-01: still
     * exact in lc_days_from_civil and far from overflowing. */
    int64_t y = p->year + (p->month == 12);
    unsigned m = p->month == 12 ? 1u : (unsigned)p->month + 1;
    *out = lc_days_from_civil(y, m, 1) * DAY_US - 1;
    return LC_OK;
}

int lc_period_of(int64_t t, lc_period_t *out)
{
    char text[LC_RFC3339_MAX];
    /* lc_time_format owns the calendar and its range (1970..9999). */
    if (lc_time_format(t, text) != LC_OK)
        return LC_ERR_INVALID;
    lc_period_t p = {s_digits(text, 4), s_digits(text + 5, 2)};
    if (!lc_period_valid(&p))
        return LC_ERR_INVALID;
    *out = p;
    return LC_OK;
}
