/*
 * test_donation_arith.c: the donation service's pure arithmetic
 * (services/donation/dn_arith.c): matching rounds down and stops at the cap, periods
 * parse strictly, the pool split adds up exactly, values overflow-checked.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "dn_arith.h"
#include "lc_err.h"

static void donation_match_rounds_down(void **state)
{
    (void)state;
    int64_t m;
    assert_int_equal(dn_match_points(333, 5000, 1000000, 0, &m), LC_OK);
    assert_int_equal(m, 166); /* 166.5 */
    assert_int_equal(dn_match_points(1, 9999, 1000000, 0, &m), LC_OK);
    assert_int_equal(m, 0);
    assert_int_equal(dn_match_points(200, 10000, 1000000, 0, &m), LC_OK);
    assert_int_equal(m, 200);
    assert_int_equal(dn_match_points(201, 15000, 1000000, 0, &m), LC_OK);
    assert_int_equal(m, 301); /* 301.5 */
}

static void donation_match_stops_at_the_cap(void **state)
{
    (void)state;
    int64_t m;
    /* the last donation before the cap is partly matched */
    assert_int_equal(dn_match_points(300, 10000, 1000, 900, &m), LC_OK);
    assert_int_equal(m, 100);
    /* exactly at the boundary: fully matched */
    assert_int_equal(dn_match_points(100, 10000, 1000, 900, &m), LC_OK);
    assert_int_equal(m, 100);
    /* after it: nothing */
    assert_int_equal(dn_match_points(300, 10000, 1000, 1000, &m), LC_OK);
    assert_int_equal(m, 0);
    /* huge inputs do not overflow */
    assert_int_equal(dn_match_points(INT64_C(9007199254740991), 1000000, INT64_MAX, 0, &m), LC_OK);
    assert_int_equal(m, INT64_C(9007199254740991) * 100);
    assert_int_equal(dn_match_points(-1, 10000, 1000, 0, &m), LC_ERR_INVALID);
}

static void donation_period_parses_strictly(void **state)
{
    (void)state;
    int64_t a, b;
    assert_int_equal(dn_period_parse("2026-02", &a, &b), LC_OK);
    assert_int_equal(a, INT64_C(1769904000) * 1000000); /* 2026-02-01T00:00:00Z */
    assert_int_equal(b - a, INT64_C(28) * 86400 * 1000000);
    assert_int_equal(dn_period_parse("2024-02", &a, &b), LC_OK);
    assert_int_equal(b - a, INT64_C(29) * 86400 * 1000000);
    assert_int_equal(dn_period_parse("2025-12", &a, &b), LC_OK);
    int64_t a2, b2;
    assert_int_equal(dn_period_parse("2026-01", &a2, &b2), LC_OK);
    assert_int_equal(b, a2); /* December ends where January begins */
    const char *bad[] = {"2026-13", "2026-00", "2026-1", "26-01", "2026-01x", "2026/01", "1969-12",
                         " 2026-01", "2026-+1", ""};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_int_equal(dn_period_parse(bad[i], &a, &b), LC_ERR_INVALID);
    assert_int_equal(dn_period_parse(NULL, &a, &b), LC_ERR_INVALID);
    char p[DN_PERIOD_TEXT];
    dn_period_of(a2 + 5, p);
    assert_string_equal(p, "2026-01");
    dn_period_of(b2 - 1, p);
    assert_string_equal(p, "2026-01");
}

static void donation_split_adds_up_by_largest_remainder(void **state)
{
    (void)state;
    int64_t out[4];
    const int64_t w3[] = {1, 1, 1};
    assert_int_equal(dn_split(10, w3, 3, out), LC_OK);
    assert_int_equal(out[0], 4); /* ties to the lower index */
    assert_int_equal(out[1], 3);
    assert_int_equal(out[2], 3);
    const int64_t w[] = {600, 300, 0, 100};
    assert_int_equal(dn_split(1001, w, 4, out), LC_OK);
    assert_int_equal(out[0], 601); /* 600.6 -> remainder .6 is the largest */
    assert_int_equal(out[1], 300); /* 300.3 */
    assert_int_equal(out[2], 0);
    assert_int_equal(out[3], 100); /* 100.1 */
    assert_int_equal(out[0] + out[1] + out[2] + out[3], 1001);
    const int64_t zero[] = {0, 0};
    assert_int_equal(dn_split(5, zero, 2, out), LC_ERR_INVALID);
    const int64_t big[] = {INT64_MAX, INT64_MAX};
    assert_int_equal(dn_split(5, big, 2, out), LC_ERR_OVERFLOW);
}

static void donation_value_is_checked(void **state)
{
    (void)state;
    int64_t v;
    assert_int_equal(dn_value_cents(250, 1, &v), LC_OK);
    assert_int_equal(v, 250);
    assert_int_equal(dn_value_cents(INT64_MAX / 2, 3, &v), LC_ERR_OVERFLOW);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(donation_match_rounds_down),
        cmocka_unit_test(donation_match_stops_at_the_cap),
        cmocka_unit_test(donation_period_parses_strictly),
        cmocka_unit_test(donation_split_adds_up_by_largest_remainder),
        cmocka_unit_test(donation_value_is_checked),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
