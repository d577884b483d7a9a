/*
 * lc_time.h: time as integers.
 *
 * Inside the system a point in time is an int64 count of Unix microseconds (UTC);
 * on the wire it is RFC 3339 in UTC ("2026-11-23T12:00:00Z", with up to six
 * fractional digits when not whole seconds). Integers keep hashing and comparison
 * exact; no floating point is used for time.
 */
#ifndef LC_TIME_H
#define LC_TIME_H

#include <stdint.h>

#define LC_USEC_PER_SEC INT64_C(1000000)
#define LC_RFC3339_MAX 48 /* "YYYY-MM-DDTHH:MM:SS.ffffffZ" + NUL, with room */

/* Current wall-clock time in Unix microseconds. */
int64_t lc_now_us(void);
/* Current monotonic time in milliseconds (for deadlines and intervals). */
int64_t lc_mono_ms(void);
/* Current monotonic time in microseconds (for durations and rate limits). */
int64_t lc_mono_us(void);
/* Current wall-clock time in Unix milliseconds (for wire deadlines). */
int64_t lc_now_ms(void);

/* Formats t (Unix microseconds, years 1970..9999) as RFC 3339 UTC into out.
 * Returns 0 or LC_ERR_INVALID when t is out of range. */
int lc_time_format(int64_t t, char out[LC_RFC3339_MAX]);

/* Parses RFC 3339 ("YYYY-MM-DDTHH:MM:SS[.f{1,6}](Z|+HH:MM|-HH:MM)") into Unix
 * microseconds. Returns 0 or LC_ERR_INVALID (bad form, impossible date). */
int lc_time_parse(const char *text, int64_t *out);

/* Days since 1970-01-01 of a civil date (proleptic Gregorian), for periods. */
int64_t lc_days_from_civil(int64_t y, unsigned m, unsigned d);

#endif
