/*
 * dn_arith.h: the donation service's pure arithmetic: matching, periods, the pool
 * split and values. No I/O, so tests/unit/test_donation_arith.c covers every rule.
 * Integers only; every product is computed in 128 bits and checked.
 */
#ifndef DN_ARITH_H
#define DN_ARITH_H

#include <stddef.h>
#include <stdint.h>

#define DN_BPS 10000 /* ratio_bps of one for one */
#define DN_PERIOD_TEXT 8 /* "YYYY-MM" + NUL */

/* The match of a donation of points under ratio_bps, when the campaign has matched
 * already of cap: floor(points x ratio_bps / 10000), then at most cap - already (the
 * last donation before the cap is partly matched, later ones not at all). Returns 0
 * with *out, or LC_ERR_INVALID for negative inputs. */
int dn_match_points(int64_t points, int64_t ratio_bps, int64_t cap, int64_t already,
                    int64_t *out);

/* Parses a period "YYYY-MM" (years 1970..9999, months 01..12, exactly 7 characters)
 * into the Unix microseconds of its first instant and of the next month's.
 * Returns 0 or LC_ERR_INVALID. */
int dn_period_parse(const char *text, int64_t *start_us, int64_t *end_us);

/* Writes the period ("YYYY-MM", UTC) that contains t_us. */
void dn_period_of(int64_t t_us, char out[DN_PERIOD_TEXT]);

/* Splits total among n shares in proportion to weights (each >= 0, sum > 0) by the
 * largest remainder: each gets floor(total x w / sum), and the points left over go one
 * each to the largest remainders, ties to the lower index. The shares add up to total
 * exactly. Returns 0, LC_ERR_INVALID (no positive weight, negative input) or
 * LC_ERR_OVERFLOW (the weights' sum does not fit). */
int dn_split(int64_t total, const int64_t *weights, size_t n, int64_t *out);

/* points x cents_per_point, checked. Returns 0 or LC_ERR_OVERFLOW. */
int dn_value_cents(int64_t points, int64_t cents_per_point, int64_t *out);

#endif
