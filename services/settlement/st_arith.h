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

#include <stdbool.h>
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

/* ---- expiry (issue 4, item 3) -------------------------------------------------------
 *
 * A lot earned at t expires at t + validity calendar months (st_add_months: a day
 * missing from the target month clamps to its last day). With a cut-off day MM-DD it
 * expires instead at the end of that day (23:59:59.999999 UTC) in the calendar year
 * in which t + validity falls, so every lot due in one year expires together
 * (PAYBACK-style). A cut-off before the anniversary therefore shortens a lot's life
 * by up to a year; 12-31 never does. A lot is expired by a sweep whose as_of >=
 * its expires_at (ledger.expire_lots). */

#define ST_VALIDITY_MONTHS_MIN 1
#define ST_VALIDITY_MONTHS_MAX 240

typedef struct st_expiry_rule {
    int validity_months; /* ST_VALIDITY_MONTHS_MIN..MAX */
    int cutoff_month;    /* 1..12; 0 = no cut-off day */
    int cutoff_day;      /* 1..28/30/31: a day that exists in every year */
} st_expiry_rule_t;

/* Parses a cut-off day "MM-DD" into *month, *day. LC_ERR_INVALID unless it is exactly
 * two digits, '-', two digits and a day that exists in every year (02-29 and 02-30
 * are refused). */
int st_expiry_cutoff_parse(const char *text, int *month, int *day);

/* Checks a rule: LC_ERR_INVALID for a validity outside 1..240 months, an impossible
 * cut-off day, or a cut-off day with a validity under 12 months (the cut-off day of
 * the due year could then fall before the earn). */
int st_expiry_rule_check(const st_expiry_rule_t *r);

/* When a lot earned at t (Unix microseconds, UTC) expires under rule r (checked). */
int64_t st_expiry_at(const st_expiry_rule_t *r, int64_t t);

/* ---- coupons (issue 4, item 1) ------------------------------------------------------
 *
 * A coupon applies to an earn at time at by a member at a partner when it is valid at
 * that partner (partner_id zero: every partner), at lies in [valid_from, valid_until]
 * (both ends inclusive, to the microsecond), the member activated it, and the member
 * applied it fewer than max_per_member times before. The reasons are checked in that
 * order, so an earn names the first that fails. */

/* 0 when coupon c applies, else the st_coupon_reason_t that stops it. */
int st_coupon_check(const st_coupon_t *c, const lc_id_t *partner, bool activated, int64_t uses,
                    int64_t at);

/* The bonus of applied coupon c on base points: base x (multiplier - 1) or
 * bonus_points. LC_ERR_OVERFLOW above 2^53 - 1. */
int st_coupon_bonus(const st_coupon_t *c, int64_t base, int64_t *out);

#endif
