/*
 * st_arith.c: earn rounding, eligibility, return proportion, value (st_arith.h).
 */
#include "st_arith.h"
#include "lc_err.h"
#include "lc_time.h"

#include <string.h>

int st_earn_points(int64_t eligible, int64_t rate_points, int64_t per_amount, int64_t *out)
{
    if (eligible < 0 || rate_points < 0 || per_amount <= 0)
        return LC_ERR_INVALID;
    unsigned __int128 p = (unsigned __int128)(uint64_t)eligible * (uint64_t)rate_points;
    p /= (uint64_t)per_amount; /* rounds down */
    if (p > (unsigned __int128)LC_API_POINTS_MAX)
        return LC_ERR_OVERFLOW;
    *out = (int64_t)p;
    return LC_OK;
}

static int s_excluded(const char *category, char *const *excluded, size_t nexcluded)
{
    for (size_t i = 0; category && i < nexcluded; i++)
        if (excluded[i] && strcmp(excluded[i], category) == 0)
            return 1;
    return 0;
}

int st_eligible_amount(int64_t amount, const st_earn_item_t *items, size_t nitems,
                       char *const *excluded, size_t nexcluded, int64_t *out)
{
    if (amount < 0)
        return LC_ERR_INVALID;
    int64_t total = 0, excl = 0;
    for (size_t i = 0; i < nitems; i++) {
        if (items[i].amount < 0)
            return LC_ERR_INVALID;
        if (__builtin_add_overflow(total, items[i].amount, &total))
            return LC_ERR_OVERFLOW;
        if (s_excluded(items[i].category, excluded, nexcluded) &&
            __builtin_add_overflow(excl, items[i].amount, &excl))
            return LC_ERR_OVERFLOW;
    }
    if (total > amount)
        return LC_ERR_INVALID;
    *out = amount - excl;
    return LC_OK;
}

int st_return_points(int64_t returned, int64_t earn_amount, int64_t earn_points,
                     int64_t returned_before, int64_t reversed_before, int64_t *out)
{
    if (returned < 1 || earn_amount < 0 || earn_points < 0 || returned_before < 0 ||
        reversed_before < 0 || reversed_before > earn_points)
        return LC_ERR_INVALID;
    int64_t after;
    if (__builtin_add_overflow(returned_before, returned, &after) || after > earn_amount)
        return LC_ERR_CONFLICT;
    /* earn_amount >= returned >= 1 here, so the division is defined. */
    unsigned __int128 num = (unsigned __int128)(uint64_t)returned * (uint64_t)earn_points;
    unsigned __int128 q = (num + (uint64_t)earn_amount - 1) / (uint64_t)earn_amount; /* ceil */
    uint64_t left = (uint64_t)(earn_points - reversed_before);
    *out = (int64_t)(q > left ? left : (uint64_t)q);
    return LC_OK;
}

int st_points_value(int64_t points, int64_t cents_per_point, int64_t *out)
{
    int64_t v;
    if (points < 0 || cents_per_point < 0 || __builtin_mul_overflow(points, cents_per_point, &v) ||
        v > LC_API_POINTS_MAX)
        return LC_ERR_OVERFLOW;
    *out = v;
    return LC_OK;
}

static int s_leap(int64_t y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static unsigned s_month_days(int64_t y, unsigned m)
{
    static const unsigned days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    return m == 2 && s_leap(y) ? 29 : days[m - 1];
}

/* Civil date of a day count since 1970-01-01 (Howard Hinnant's algorithm). */
static void s_civil(int64_t z, int64_t *y, unsigned *m, unsigned *d)
{
    z += 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    *d = (unsigned)(doy - (153 * mp + 2) / 5 + 1);
    *m = (unsigned)(mp < 10 ? mp + 3 : mp - 9);
    *y = yoe + era * 400 + (*m <= 2);
}

int64_t st_add_months(int64_t t, int months)
{
    const int64_t day_us = 86400 * LC_USEC_PER_SEC;
    int64_t days = t / day_us, rest = t % day_us;
    if (rest < 0) {
        rest += day_us;
        days--;
    }
    int64_t y;
    unsigned m, d;
    s_civil(days, &y, &m, &d);
    int64_t mi = y * 12 + (m - 1) + months;
    y = mi / 12;
    m = (unsigned)(mi % 12) + 1;
    if (d > s_month_days(y, m))
        d = s_month_days(y, m);
    return lc_days_from_civil(y, m, d) * day_us + rest;
}

int st_expiry_cutoff_parse(const char *text, int *month, int *day)
{
    if (!text || strlen(text) != 5 || text[2] != '-')
        return LC_ERR_INVALID;
    for (int i = 0; i < 5; i++)
        if (i != 2 && (text[i] < '0' || text[i] > '9'))
            return LC_ERR_INVALID;
    int m = (text[0] - '0') * 10 + (text[1] - '0');
    int d = (text[3] - '0') * 10 + (text[4] - '0');
    /* s_month_days of a common year: a day that exists in every year. */
    if (m < 1 || m > 12 || d < 1 || (unsigned)d > s_month_days(1, (unsigned)m))
        return LC_ERR_INVALID;
    *month = m;
    *day = d;
    return LC_OK;
}

int st_expiry_rule_check(const st_expiry_rule_t *r)
{
    if (r->validity_months < ST_VALIDITY_MONTHS_MIN || r->validity_months > ST_VALIDITY_MONTHS_MAX)
        return LC_ERR_INVALID;
    if (r->cutoff_month == 0 && r->cutoff_day == 0)
        return LC_OK;
    /* Under 12 months the cut-off day of the due year could precede the earn. */
    if (r->validity_months < 12)
        return LC_ERR_INVALID;
    if (r->cutoff_month < 1 || r->cutoff_month > 12 || r->cutoff_day < 1 ||
        (unsigned)r->cutoff_day > s_month_days(1, (unsigned)r->cutoff_month))
        return LC_ERR_INVALID;
    return LC_OK;
}

int64_t st_expiry_at(const st_expiry_rule_t *r, int64_t t)
{
    int64_t at = st_add_months(t, r->validity_months);
    if (r->cutoff_month == 0)
        return at;
    const int64_t day_us = 86400 * LC_USEC_PER_SEC;
    int64_t days = at / day_us;
    if (at % day_us < 0)
        days--;
    int64_t y;
    unsigned m, d;
    s_civil(days, &y, &m, &d);
    /* The end of the cut-off day: the first microsecond of the next day, minus one. */
    int64_t next = lc_days_from_civil(y, (unsigned)r->cutoff_month, (unsigned)r->cutoff_day) + 1;
    return next * day_us - 1;
}

int st_coupon_check(const st_coupon_t *c, const lc_id_t *partner, bool activated, int64_t uses,
                    int64_t at)
{
    if (!lc_id_is_zero(&c->partner_id) && !lc_id_eq(&c->partner_id, partner))
        return ST_COUPON_WRONG_PARTNER;
    if (at < c->valid_from || at > c->valid_until)
        return ST_COUPON_OUTSIDE_WINDOW;
    if (!activated)
        return ST_COUPON_NOT_ACTIVATED;
    if (uses >= c->max_per_member)
        return ST_COUPON_USED_UP;
    return 0;
}

int st_coupon_bonus(const st_coupon_t *c, int64_t base, int64_t *out)
{
    if (base < 0)
        return LC_ERR_INVALID;
    if (c->kind == ST_COUPON_BONUS) {
        if (c->bonus_points < 1 || c->bonus_points > LC_API_POINTS_MAX)
            return LC_ERR_OVERFLOW;
        *out = c->bonus_points;
        return LC_OK;
    }
    if (c->multiplier < 2)
        return LC_ERR_INVALID;
    unsigned __int128 p = (unsigned __int128)(uint64_t)base * (uint64_t)(c->multiplier - 1);
    if (p > (unsigned __int128)LC_API_POINTS_MAX)
        return LC_ERR_OVERFLOW;
    *out = (int64_t)p;
    return LC_OK;
}
