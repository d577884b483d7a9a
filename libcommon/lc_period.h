/*
 * lc_period.h: calendar months as accounting periods ("2026-11").
 *
 * Statements, payouts and invoices are per calendar month in UTC. On the wire a
 * period is exactly "YYYY-MM" (seven characters, years 1970 to 9999, the range
 * lc_time can write); nothing else is accepted (no "2026-1", no "2026-11-01", no
 * spaces, no sign). Inside, a period covers [first_us, last_us], both inclusive,
 * Unix microseconds: the first and the last microsecond of the month in UTC.
 */
#ifndef LC_PERIOD_H
#define LC_PERIOD_H

#include <stdint.h>

#define LC_PERIOD_STRLEN 7 /* "YYYY-MM", without the terminating NUL */
#define LC_PERIOD_YEAR_MIN 1970
#define LC_PERIOD_YEAR_MAX 9999

typedef struct lc_period {
    int year;  /* LC_PERIOD_YEAR_MIN .. LC_PERIOD_YEAR_MAX */
    int month; /* 1 .. 12 */
} lc_period_t;

/* Parses exactly "YYYY-MM" into *out. Returns 0, or LC_ERR_INVALID for anything
 * else (a NULL text included); *out is written only on success. */
int lc_period_parse(const char *text, lc_period_t *out);

/* Writes "YYYY-MM" and a NUL to out. Returns 0, or LC_ERR_INVALID when *p is not
 * a valid period (out is then the empty string). */
int lc_period_format(const lc_period_t *p, char out[LC_PERIOD_STRLEN + 1]);

/* True when year and month are within the ranges above. */
int lc_period_valid(const lc_period_t *p);

/* The first and the last microsecond of the period (UTC). Return 0, or
 * LC_ERR_INVALID for an invalid period. */
int lc_period_first_us(const lc_period_t *p, int64_t *out);
int lc_period_last_us(const lc_period_t *p, int64_t *out);

/* The period that contains t (Unix microseconds). Returns 0, or LC_ERR_INVALID
 * when t is before 1970 or after 9999. */
int lc_period_of(int64_t t, lc_period_t *out);

#endif
