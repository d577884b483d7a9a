/*
 * st_arith.h: the pure arithmetic of settlement, kept apart so that unit tests can
 * check every rounding rule without a database or a bus.
 *
 * Rules (API.md "Earn", ARCHITECTURE.md "Money and numbers"):
 *   - earn: points = floor(eligible x rate.points / rate.per_amount), computed in 128
 *     bits; a result above 2^53 - 1 (the API's largest point count) is refused;
 *   - eligible = amount - sum(items whose category is excluded); the items together
 *     may not exceed the amount;
 *   - return: points_reversed = ceil(returned x earn.points / earn.amount), capped at
 *     the points not yet reversed; the returned cents of all returns of one earn add
 *     up to at most its amount;
 *   - redemption value = points x point value (cents), overflow-checked.
 * No floating point anywhere. Every function returns LC_OK or an LC_ERR_* value and
 * writes *out only on success.
 */
#ifndef ST_ARITH_H
#define ST_ARITH_H

#include "lc_settlement_msg.h"

#include <stddef.h>
#include <stdint.h>

/* floor(eligible * rate_points / per_amount). LC_ERR_INVALID for a negative amount or
 * a rate that is not positive; LC_ERR_OVERFLOW when the points would pass 2^53 - 1. */
int st_earn_points(int64_t eligible, int64_t rate_points, int64_t per_amount, int64_t *out);

/* The eligible cents of a receipt: amount minus the items in excluded categories
 * (exact, case-sensitive match). LC_ERR_INVALID when an amount is negative or the
 * items add up to more than amount; LC_ERR_OVERFLOW when their sum overflows. */
int st_eligible_amount(int64_t amount, const st_earn_item_t *items, size_t nitems,
                       char *const *excluded, size_t nexcluded, int64_t *out);

/* Points a return of returned cents reverses of an earn of earn_amount cents and
 * earn_points points, of which returned_before cents and reversed_before points were
 * returned already. LC_ERR_INVALID when returned < 1; LC_ERR_CONFLICT when the
 * returned cents would exceed the earn's amount (each cent comes back at most once). */
int st_return_points(int64_t returned, int64_t earn_amount, int64_t earn_points,
                     int64_t returned_before, int64_t reversed_before, int64_t *out);

/* points * cents_per_point; LC_ERR_OVERFLOW when it does not fit in 2^53 - 1. */
int st_points_value(int64_t points, int64_t cents_per_point, int64_t *out);

/* t (Unix microseconds) plus months calendar months in UTC, with the day clamped to
 * the end of a shorter month (2024-02-29 + 12 months = 2025-02-28). */
int64_t st_add_months(int64_t t, int months);

#endif
