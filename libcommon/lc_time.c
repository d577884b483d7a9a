/*
 * lc_time.c: clocks and RFC 3339 conversion without the C library's time zone
 * machinery (timegm and friends depend on the environment; these do not).
 */
#include "lc_time.h"
#include "lc_err.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

int64_t lc_now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * LC_USEC_PER_SEC + ts.tv_nsec / 1000;
}

int64_t lc_now_ms(void)
{
    return lc_now_us() / 1000;
}

int64_t lc_mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t lc_mono_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* Howard Hinnant's days_from_civil: exact for the whole proleptic calendar. */
int64_t lc_days_from_civil(int64_t y, unsigned m, unsigned d)
{
    y -= m <= 2;
    const int64_t era = (y >= 0 ? y : y - 399) / 400;
    const unsigned yoe = (unsigned)(y - era * 400);
    const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (int64_t)doe - 719468;
}

static void s_civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d)
{
    z += 719468;
    const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    const unsigned doe = (unsigned)(z - era * 146097);
    const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    const unsigned mp = (5 * doy + 2) / 153;
    *d = doy - (153 * mp + 2) / 5 + 1;
    *m = mp < 10 ? mp + 3 : mp - 9;
    *y = (int64_t)yoe + era * 400 + (*m <= 2);
}

static int s_days_in_month(int64_t y, unsigned m)
{
    static const int dim[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (m == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0))
        return 29;
    return dim[m - 1];
}

/* 9999-12-31T23:59:59.999999Z: the last time lc_time_format can write. */
#define TIME_MAX_US INT64_C(253402300799999999)

int lc_time_format(int64_t t, char out[LC_RFC3339_MAX])
{
    if (t < 0 || t > TIME_MAX_US)
        return LC_ERR_INVALID;
    int64_t secs = t / LC_USEC_PER_SEC;
    int64_t frac = t % LC_USEC_PER_SEC;
    int64_t days = secs / 86400, rem = secs % 86400;
    int64_t y;
    unsigned m, d;
    s_civil_from_days(days, &y, &m, &d);
    int hh = (int)(rem / 3600), mm = (int)(rem % 3600 / 60), ss = (int)(rem % 60);
    if (frac == 0)
        snprintf(out, LC_RFC3339_MAX, "%04d-%02u-%02uT%02d:%02d:%02dZ", (int)y, m, d, hh, mm, ss);
    else
        snprintf(out, LC_RFC3339_MAX, "%04d-%02u-%02uT%02d:%02d:%02d.%06dZ", (int)y, m, d, hh, mm,
                 ss, (int)frac);
    return LC_OK;
}

/* Reads exactly n decimal digits from *p into *out and advances *p. */
static int s_digits(const char **p, int n, int *out)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (!isdigit((unsigned char)(*p)[i]))
            return -1;
        v = v * 10 + ((*p)[i] - '0');
    }
    *p += n;
    *out = v;
    return 0;
}

int lc_time_parse(const char *text, int64_t *out)
{
    const char *p = text;
    int y, mo, d, h, mi, s, frac = 0;
    if (!text || s_digits(&p, 4, &y) || *p++ != '-' || s_digits(&p, 2, &mo) || *p++ != '-' ||
        s_digits(&p, 2, &d) || (*p != 'T' && *p != 't') || !*p++ || s_digits(&p, 2, &h) ||
        *p++ != ':' || s_digits(&p, 2, &mi) || *p++ != ':' || s_digits(&p, 2, &s))
        return LC_ERR_INVALID;
    if (*p == '.') {
        p++;
        int n = 0;
        while (isdigit((unsigned char)*p)) {
            if (n == 6)
                return LC_ERR_INVALID; /* finer than microseconds would be lost */
            frac = frac * 10 + (*p++ - '0');
            n++;
        }
        if (n == 0)
            return LC_ERR_INVALID;
        for (; n < 6; n++)
            frac *= 10;
    }
    int offset_min = 0;
    if (*p == 'Z' || *p == 'z') {
        p++;
    } else if (*p == '+' || *p == '-') {
        int sign = *p++ == '-' ? -1 : 1, oh, om;
        if (s_digits(&p, 2, &oh) || *p++ != ':' || s_digits(&p, 2, &om) || oh > 23 || om > 59)
            return LC_ERR_INVALID;
        offset_min = sign * (oh * 60 + om);
    } else {
        return LC_ERR_INVALID;
    }
    if (*p != '\0')
        return LC_ERR_INVALID;
    if (y < 1970 || mo < 1 || mo > 12 || d < 1 || d > s_days_in_month(y, (unsigned)mo) ||
        h > 23 || mi > 59 || s > 59)
        return LC_ERR_INVALID;
    int64_t secs = lc_days_from_civil(y, (unsigned)mo, (unsigned)d) * 86400 + h * 3600 +
                   mi * 60 + s - (int64_t)offset_min * 60;
    /* Before 1970, or past 9999 once a negative offset is applied ("9999-12-31T23:59:59
     * -00:01"): refused, so every time parsed here can be formatted back. */
    if (secs < 0 || secs * LC_USEC_PER_SEC + frac > TIME_MAX_US)
        return LC_ERR_INVALID;
    *out = secs * LC_USEC_PER_SEC + frac;
    return LC_OK;
}
