/*
 * test_settlement_arith.c: settlement's money arithmetic (services/settlement/
 * st_arith.c): earn rounding, excluded categories, the return proportion with its
 * ceiling and caps, overflow refusal, and the lot expiry date.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "lc_err.h"
#include "lc_time.h"
#include "st_arith.h"

static int64_t s_points(int64_t eligible, int64_t rp, int64_t per)
{
    int64_t out = -1;
    assert_int_equal(st_earn_points(eligible, rp, per, &out), LC_OK);
    return out;
}

static void arith_earn_rounds_down(void **state)
{
    (void)state;
    assert_int_equal(s_points(1999, 1, 200), 9); /* 9.995 -> 9 */
    assert_int_equal(s_points(200, 1, 200), 1);
    assert_int_equal(s_points(199, 1, 200), 0);
    assert_int_equal(s_points(0, 1, 200), 0);
    assert_int_equal(s_points(1999, 3, 100), 59); /* 59.97 -> 59 */
    assert_int_equal(s_points(1999, 1, 1), 1999);
}

static void arith_earn_uses_wide_products(void **state)
{
    (void)state;
    /* eligible x points passes 2^63 here; the quotient does not. */
    assert_int_equal(s_points(LC_API_POINTS_MAX, 1000000, 1000000), LC_API_POINTS_MAX);
    assert_int_equal(s_points(INT64_MAX, 3, INT64_MAX), 3);
}

static void arith_earn_refuses_overflow(void **state)
{
    (void)state;
    int64_t out = 42;
    assert_int_equal(st_earn_points(LC_API_POINTS_MAX, 2, 1, &out), LC_ERR_OVERFLOW);
    assert_int_equal(st_earn_points(INT64_MAX, 1000000, 1, &out), LC_ERR_OVERFLOW);
    assert_int_equal(out, 42); /* untouched on failure */
    assert_int_equal(st_earn_points(100, 1, 0, &out), LC_ERR_INVALID);
    assert_int_equal(st_earn_points(-1, 1, 1, &out), LC_ERR_INVALID);
}

static void arith_excluded_categories_are_not_eligible(void **state)
{
    (void)state;
    st_earn_item_t items[] = {
        {.sku = "1", .category = "tobacco", .amount = 1000},
        {.sku = "2", .category = "food", .amount = 2000},
        {.sku = "3", .category = "Tobacco", .amount = 500}, /* exact match only */
        {.sku = "4", .category = "gift_cards", .amount = 300},
    };
    char *excl[] = {"tobacco", "gift_cards"};
    int64_t out = -1;
    assert_int_equal(st_eligible_amount(5000, items, 4, excl, 2, &out), LC_OK);
    assert_int_equal(out, 5000 - 1000 - 300);
    /* No exclusions: everything counts, including the part not itemized. */
    assert_int_equal(st_eligible_amount(5000, items, 4, NULL, 0, &out), LC_OK);
    assert_int_equal(out, 5000);
    /* No items. */
    assert_int_equal(st_eligible_amount(777, NULL, 0, excl, 2, &out), LC_OK);
    assert_int_equal(out, 777);
    /* Everything excluded: 0 eligible, 0 points. */
    assert_int_equal(st_eligible_amount(1000, items, 1, excl, 2, &out), LC_OK);
    assert_int_equal(out, 0);
}

static void arith_items_above_amount_are_refused(void **state)
{
    (void)state;
    st_earn_item_t items[] = {
        {.category = "food", .amount = 600},
        {.category = "food", .amount = 500},
    };
    int64_t out = 42;
    assert_int_equal(st_eligible_amount(1000, items, 2, NULL, 0, &out), LC_ERR_INVALID);
    assert_int_equal(out, 42);
    assert_int_equal(st_eligible_amount(1100, items, 2, NULL, 0, &out), LC_OK);
    st_earn_item_t huge[] = {
        {.category = "a", .amount = INT64_MAX / 2 + 1},
        {.category = "b", .amount = INT64_MAX / 2 + 1},
    };
    assert_int_equal(st_eligible_amount(INT64_MAX, huge, 2, NULL, 0, &out), LC_ERR_OVERFLOW);
}

static void arith_return_is_proportional_rounded_up(void **state)
{
    (void)state;
    int64_t out = -1;
    /* 9 points for 19.99: returning 10.00 reverses ceil(4.502) = 5. */
    assert_int_equal(st_return_points(1000, 1999, 9, 0, 0, &out), LC_OK);
    assert_int_equal(out, 5);
    /* One cent of a big earn still costs a point (rounded up). */
    assert_int_equal(st_return_points(1, 10000, 50, 0, 0, &out), LC_OK);
    assert_int_equal(out, 1);
    /* Exact proportion. */
    assert_int_equal(st_return_points(500, 1000, 10, 0, 0, &out), LC_OK);
    assert_int_equal(out, 5);
    /* An earn of 0 points reverses nothing. */
    assert_int_equal(st_return_points(500, 1000, 0, 0, 0, &out), LC_OK);
    assert_int_equal(out, 0);
}

static void arith_return_is_capped_by_what_is_left(void **state)
{
    (void)state;
    int64_t out = -1;
    /* After 10.00 of 19.99 came back (5 points), the remaining 9.99 reverse
     * ceil(4.497) = 5, capped at the 4 points left: all returns reverse exactly 9. */
    assert_int_equal(st_return_points(999, 1999, 9, 1000, 5, &out), LC_OK);
    assert_int_equal(out, 4);
    /* Many one-cent returns never reverse more than the earn's points. */
    int64_t reversed = 0;
    for (int64_t cent = 0; cent < 100; cent++) {
        assert_int_equal(st_return_points(1, 100, 7, cent, reversed, &out), LC_OK);
        reversed += out;
    }
    assert_int_equal(reversed, 7);
}

static void arith_return_refuses_cents_returned_twice(void **state)
{
    (void)state;
    int64_t out = 42;
    assert_int_equal(st_return_points(1000, 1999, 9, 1000, 5, &out), LC_ERR_CONFLICT);
    assert_int_equal(st_return_points(2000, 1999, 9, 0, 0, &out), LC_ERR_CONFLICT);
    assert_int_equal(st_return_points(1, INT64_MAX, 9, INT64_MAX, 0, &out), LC_ERR_CONFLICT);
    assert_int_equal(st_return_points(0, 1999, 9, 0, 0, &out), LC_ERR_INVALID);
    assert_int_equal(out, 42);
    /* The wide product: amount and points near the top of their ranges. */
    assert_int_equal(st_return_points(LC_API_POINTS_MAX, LC_API_POINTS_MAX, LC_API_POINTS_MAX, 0,
                                      0, &out),
                     LC_OK);
    assert_int_equal(out, LC_API_POINTS_MAX);
}

static void arith_value_refuses_overflow(void **state)
{
    (void)state;
    int64_t out = -1;
    assert_int_equal(st_points_value(250, 1, &out), LC_OK);
    assert_int_equal(out, 250);
    assert_int_equal(st_points_value(250, 5, &out), LC_OK);
    assert_int_equal(out, 1250);
    assert_int_equal(st_points_value(LC_API_POINTS_MAX, 2, &out), LC_ERR_OVERFLOW);
    assert_int_equal(st_points_value(INT64_MAX, INT64_MAX, &out), LC_ERR_OVERFLOW);
}

static int64_t s_t(const char *text)
{
    int64_t t = 0;
    assert_int_equal(lc_time_parse(text, &t), LC_OK);
    return t;
}

static void arith_expiry_adds_calendar_months(void **state)
{
    (void)state;
    assert_int_equal(st_add_months(s_t("2023-03-15T10:00:00.25Z"), 36),
                     s_t("2026-03-15T10:00:00.25Z"));
    assert_int_equal(st_add_months(s_t("2024-02-29T23:59:59Z"), 12), s_t("2025-02-28T23:59:59Z"));
    assert_int_equal(st_add_months(s_t("2026-01-31T00:00:00Z"), 1), s_t("2026-02-28T00:00:00Z"));
    assert_int_equal(st_add_months(s_t("2025-12-31T12:00:00Z"), 2), s_t("2026-02-28T12:00:00Z"));
    assert_int_equal(st_add_months(s_t("2027-11-30T00:00:00Z"), 3), s_t("2028-02-29T00:00:00Z"));
}

static void arith_expiry_parses_only_days_of_every_year(void **state)
{
    (void)state;
    int m = 0, d = 0;
    assert_int_equal(st_expiry_cutoff_parse("12-31", &m, &d), LC_OK);
    assert_int_equal(m, 12);
    assert_int_equal(d, 31);
    assert_int_equal(st_expiry_cutoff_parse("02-28", &m, &d), LC_OK);
    assert_int_equal(m, 2);
    assert_int_equal(d, 28);
    assert_int_equal(st_expiry_cutoff_parse("01-01", &m, &d), LC_OK);
    const char *bad[] = {"02-29", "02-30", "04-31", "13-01", "00-10", "12-00", "12-32",
                         "1-31",  "12/31", "12-3a", "",      "12-311", "-1-31"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        m = d = -7;
        assert_int_equal(st_expiry_cutoff_parse(bad[i], &m, &d), LC_ERR_INVALID);
        assert_int_equal(m, -7); /* untouched on failure */
    }
    assert_int_equal(st_expiry_cutoff_parse(NULL, &m, &d), LC_ERR_INVALID);
}

static void arith_expiry_refuses_rules_that_make_no_sense(void **state)
{
    (void)state;
    st_expiry_rule_t r = {.validity_months = 36};
    assert_int_equal(st_expiry_rule_check(&r), LC_OK);
    r.validity_months = 1;
    assert_int_equal(st_expiry_rule_check(&r), LC_OK);
    r.validity_months = 240;
    assert_int_equal(st_expiry_rule_check(&r), LC_OK);
    int bad_validity[] = {0, -1, -36, 241, 100000};
    for (size_t i = 0; i < sizeof bad_validity / sizeof bad_validity[0]; i++) {
        r.validity_months = bad_validity[i];
        assert_int_equal(st_expiry_rule_check(&r), LC_ERR_INVALID);
    }
    r = (st_expiry_rule_t){.validity_months = 36, .cutoff_month = 12, .cutoff_day = 31};
    assert_int_equal(st_expiry_rule_check(&r), LC_OK);
    r.cutoff_day = 32;
    assert_int_equal(st_expiry_rule_check(&r), LC_ERR_INVALID);
    r = (st_expiry_rule_t){.validity_months = 36, .cutoff_month = 2, .cutoff_day = 29};
    assert_int_equal(st_expiry_rule_check(&r), LC_ERR_INVALID);
    r = (st_expiry_rule_t){.validity_months = 11, .cutoff_month = 12, .cutoff_day = 31};
    assert_int_equal(st_expiry_rule_check(&r), LC_ERR_INVALID);
    r.validity_months = 12;
    assert_int_equal(st_expiry_rule_check(&r), LC_OK);
}

static void arith_expiry_without_cutoff_is_validity_months_later(void **state)
{
    (void)state;
    st_expiry_rule_t r = {.validity_months = 36};
    assert_int_equal(st_expiry_at(&r, s_t("2026-11-23T14:00:00.123456Z")),
                     s_t("2029-11-23T14:00:00.123456Z"));
    /* Month ends clamp: Jan 31 + 1 month is the last day of February. */
    r.validity_months = 1;
    assert_int_equal(st_expiry_at(&r, s_t("2027-01-31T08:00:00Z")), s_t("2027-02-28T08:00:00Z"));
    assert_int_equal(st_expiry_at(&r, s_t("2028-01-31T08:00:00Z")), s_t("2028-02-29T08:00:00Z"));
    /* Leap days: Feb 29 + 36 months lands on Feb 28, + 48 months on Feb 29 again. */
    r.validity_months = 36;
    assert_int_equal(st_expiry_at(&r, s_t("2028-02-29T00:00:00Z")), s_t("2031-02-28T00:00:00Z"));
    r.validity_months = 48;
    assert_int_equal(st_expiry_at(&r, s_t("2028-02-29T00:00:00Z")), s_t("2032-02-29T00:00:00Z"));
    /* Exact boundary: one microsecond later earned, one microsecond later due. */
    r.validity_months = 36;
    int64_t t = s_t("2026-03-31T23:59:59.999999Z");
    assert_int_equal(st_expiry_at(&r, t), s_t("2029-03-31T23:59:59.999999Z"));
    assert_int_equal(st_expiry_at(&r, t + 1), s_t("2029-04-01T00:00:00Z"));
    assert_int_equal(st_expiry_at(&r, t + 1) - st_expiry_at(&r, t), 1);
}

static void arith_expiry_cutoff_puts_a_year_on_one_day(void **state)
{
    (void)state;
    const int64_t end_2029 = s_t("2029-12-31T23:59:59.999999Z");
    st_expiry_rule_t r = {.validity_months = 36, .cutoff_month = 12, .cutoff_day = 31};
    /* Everything whose anniversary falls in 2029 expires at the end of 2029-12-31. */
    assert_int_equal(st_expiry_at(&r, s_t("2026-01-01T00:00:00Z")), end_2029);
    assert_int_equal(st_expiry_at(&r, s_t("2026-06-15T12:00:00Z")), end_2029);
    assert_int_equal(st_expiry_at(&r, s_t("2026-12-31T23:59:59.999999Z")), end_2029);
    /* One microsecond into 2027: the next year's day. */
    assert_int_equal(st_expiry_at(&r, s_t("2027-01-01T00:00:00Z")),
                     s_t("2030-12-31T23:59:59.999999Z"));
    /* Cut-off after the anniversary: the lot lives longer than the validity. */
    r = (st_expiry_rule_t){.validity_months = 36, .cutoff_month = 3, .cutoff_day = 31};
    assert_int_equal(st_expiry_at(&r, s_t("2026-02-10T09:00:00Z")),
                     s_t("2029-03-31T23:59:59.999999Z"));
    /* Cut-off before the anniversary: the same year's day, so earlier than t + 36 m. */
    assert_int_equal(st_expiry_at(&r, s_t("2026-05-10T09:00:00Z")),
                     s_t("2029-03-31T23:59:59.999999Z"));
    /* Cut-off on the anniversary's own day: the end of that day. */
    assert_int_equal(st_expiry_at(&r, s_t("2026-03-31T00:00:00Z")),
                     s_t("2029-03-31T23:59:59.999999Z"));
    /* The year is the anniversary's after month-end clamping and leap days. */
    r = (st_expiry_rule_t){.validity_months = 12, .cutoff_month = 2, .cutoff_day = 28};
    assert_int_equal(st_expiry_at(&r, s_t("2028-02-29T10:00:00Z")),
                     s_t("2029-02-28T23:59:59.999999Z"));
    r = (st_expiry_rule_t){.validity_months = 13, .cutoff_month = 1, .cutoff_day = 1};
    assert_int_equal(st_expiry_at(&r, s_t("2026-12-31T23:00:00Z")),
                     s_t("2028-01-01T23:59:59.999999Z"));
    assert_int_equal(st_expiry_at(&r, s_t("2026-11-30T23:00:00Z")),
                     s_t("2027-01-01T23:59:59.999999Z"));
}

/* ---- coupons ---------------------------------------------------------------------- */

static void arith_coupon_window_is_inclusive_to_the_microsecond(void **state)
{
    (void)state;
    lc_id_t partner = {{1}}, other = {{2}};
    st_coupon_t c = {.kind = ST_COUPON_BONUS,
                     .bonus_points = 5,
                     .valid_from = 1000000,
                     .valid_until = 2000000,
                     .max_per_member = 2};
    assert_int_equal(st_coupon_check(&c, &partner, true, 0, 1000000), 0); /* from, exactly */
    assert_int_equal(st_coupon_check(&c, &partner, true, 0, 2000000), 0); /* until, exactly */
    assert_int_equal(st_coupon_check(&c, &partner, true, 0, 999999), ST_COUPON_OUTSIDE_WINDOW);
    assert_int_equal(st_coupon_check(&c, &partner, true, 0, 2000001), ST_COUPON_OUTSIDE_WINDOW);
    /* every partner (zero partner_id), then one partner */
    assert_int_equal(st_coupon_check(&c, &other, true, 0, 1500000), 0);
    c.partner_id = partner;
    assert_int_equal(st_coupon_check(&c, &other, true, 0, 1500000), ST_COUPON_WRONG_PARTNER);
    assert_int_equal(st_coupon_check(&c, &partner, false, 0, 1500000), ST_COUPON_NOT_ACTIVATED);
    assert_int_equal(st_coupon_check(&c, &partner, true, 1, 1500000), 0);
    assert_int_equal(st_coupon_check(&c, &partner, true, 2, 1500000), ST_COUPON_USED_UP);
}

static void arith_coupon_bonus_multiplier_and_overflow(void **state)
{
    (void)state;
    int64_t out = -1;
    st_coupon_t m = {.kind = ST_COUPON_MULTIPLIER, .multiplier = 10};
    assert_int_equal(st_coupon_bonus(&m, 7, &out), LC_OK);
    assert_int_equal(out, 63); /* 10x: base + 9 x base */
    assert_int_equal(st_coupon_bonus(&m, 0, &out), LC_OK);
    assert_int_equal(out, 0);
    assert_int_equal(st_coupon_bonus(&m, LC_API_POINTS_MAX / 9 + 1, &out), LC_ERR_OVERFLOW);
    st_coupon_t b = {.kind = ST_COUPON_BONUS, .bonus_points = 250};
    assert_int_equal(st_coupon_bonus(&b, 0, &out), LC_OK);
    assert_int_equal(out, 250);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(arith_earn_rounds_down),
        cmocka_unit_test(arith_earn_uses_wide_products),
        cmocka_unit_test(arith_earn_refuses_overflow),
        cmocka_unit_test(arith_excluded_categories_are_not_eligible),
        cmocka_unit_test(arith_items_above_amount_are_refused),
        cmocka_unit_test(arith_return_is_proportional_rounded_up),
        cmocka_unit_test(arith_return_is_capped_by_what_is_left),
        cmocka_unit_test(arith_return_refuses_cents_returned_twice),
        cmocka_unit_test(arith_value_refuses_overflow),
        cmocka_unit_test(arith_expiry_adds_calendar_months),
        cmocka_unit_test(arith_expiry_parses_only_days_of_every_year),
        cmocka_unit_test(arith_expiry_refuses_rules_that_make_no_sense),
        cmocka_unit_test(arith_expiry_without_cutoff_is_validity_months_later),
        cmocka_unit_test(arith_expiry_cutoff_puts_a_year_on_one_day),
        cmocka_unit_test(arith_coupon_window_is_inclusive_to_the_microsecond),
        cmocka_unit_test(arith_coupon_bonus_multiplier_and_overflow),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
