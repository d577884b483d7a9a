/*
 * test_period.c: unit tests for lc_period ("YYYY-MM" accounting periods): strict
 * parsing, formatting back, the first and last microsecond of a month in UTC
 * (leap years, December, the ends of the range) and the period of a time.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "lc_err.h"
#include "lc_period.h"
#include "lc_time.h"

static lc_period_t s_parse_ok(const char *text)
{
    lc_period_t p = {0, 0};
    assert_int_equal(lc_period_parse(text, &p), LC_OK);
    return p;
}

/* The time t as RFC 3339, for readable comparisons. */
static void s_assert_time(int64_t t, const char *want)
{
    char text[LC_RFC3339_MAX];
    assert_int_equal(lc_time_format(t, text), LC_OK);
    assert_string_equal(text, want);
}

static void period_parse_accepts_year_and_month(void **state)
{
    (void)state;
    lc_period_t p = s_parse_ok("2026-11");
    assert_int_equal(p.year, 2026);
    assert_int_equal(p.month, 11);
    p = s_parse_ok("1970-01");
    assert_int_equal(p.year, 1970);
    assert_int_equal(p.month, 1);
    p = s_parse_ok("9999-12");
    assert_int_equal(p.year, 9999);
    assert_int_equal(p.month, 12);
}

static void period_parse_refuses_anything_else(void **state)
{
    (void)state;
    static const char *bad[] = {
        "",         "2026",     "2026-",    "2026-1",   "2026-1x",    "2026-00",
        "2026-13",  "2026-99",  "1969-12",  "0000-01",  "2026-11-01", "2026-11 ",
        " 2026-11", "2026/11",  "202611",   "+2026-11", "-2026-11",   "2026-+1",
        "20261-11", "2026-011", "２026-11", "2026-1\n", "abcd-ef",    "2026-11Z",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        lc_period_t p = {42, 42};
        if (lc_period_parse(bad[i], &p) != LC_ERR_INVALID)
            fail_msg("accepted \"%s\"", bad[i]);
        assert_int_equal(p.year, 42); /* untouched on failure */
        assert_int_equal(p.month, 42);
    }
    lc_period_t p;
    assert_int_equal(lc_period_parse(NULL, &p), LC_ERR_INVALID);
    /* A NUL inside: the C string ends at it, and so does the period. */
    static const char with_nul[] = {'2', '0', '2', '6', '-', '1', '\0', '1', '\0'};
    assert_int_equal(lc_period_parse(with_nul, &p), LC_ERR_INVALID);
}

static void period_format_round_trips(void **state)
{
    (void)state;
    char out[LC_PERIOD_STRLEN + 1];
    lc_period_t p = {2026, 3};
    assert_int_equal(lc_period_format(&p, out), LC_OK);
    assert_string_equal(out, "2026-03");
    static const char *good[] = {"1970-01", "2000-02", "2024-12", "9999-12"};
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        p = s_parse_ok(good[i]);
        assert_int_equal(lc_period_format(&p, out), LC_OK);
        assert_string_equal(out, good[i]);
    }
}

static void period_format_refuses_invalid(void **state)
{
    (void)state;
    char out[LC_PERIOD_STRLEN + 1] = "junk";
    const lc_period_t bad[] = {{1969, 12}, {10000, 1}, {2026, 0}, {2026, 13}, {-1, -1}};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        assert_int_equal(lc_period_format(&bad[i], out), LC_ERR_INVALID);
        assert_string_equal(out, "");
    }
}

static void period_bounds_are_first_and_last_microsecond(void **state)
{
    (void)state;
    int64_t first, last;
    lc_period_t p = s_parse_ok("2026-11");
    assert_int_equal(lc_period_first_us(&p, &first), LC_OK);
    assert_int_equal(lc_period_last_us(&p, &last), LC_OK);
    s_assert_time(first, "2026-11-01T00:00:00Z");
    s_assert_time(last, "2026-11-30T23:59:59.999999Z");

    p = s_parse_ok("1970-01");
    assert_int_equal(lc_period_first_us(&p, &first), LC_OK);
    assert_int_equal(first, 0);
}

static void period_bounds_know_leap_years_and_december(void **state)
{
    (void)state;
    static const struct {
        const char *period, *last;
    } cases[] = {
        {"2024-02", "2024-02-29T23:59:59.999999Z"}, /* divisible by 4 */
        {"2023-02", "2023-02-28T23:59:59.999999Z"},
        {"2100-02", "2100-02-28T23:59:59.999999Z"}, /* by 100, not 400 */
        {"2000-02", "2000-02-29T23:59:59.999999Z"}, /* by 400 */
        {"2026-12", "2026-12-31T23:59:59.999999Z"},
        {"9999-12", "9999-12-31T23:59:59.999999Z"}, /* lc_time's last microsecond */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        lc_period_t p = s_parse_ok(cases[i].period);
        int64_t last, first;
        assert_int_equal(lc_period_last_us(&p, &last), LC_OK);
        s_assert_time(last, cases[i].last);
        /* The next microsecond starts the next period. */
        lc_period_t next;
        assert_int_equal(lc_period_of(last, &next), LC_OK);
        assert_memory_equal(&next, &p, sizeof p);
        if (p.year < LC_PERIOD_YEAR_MAX || p.month < 12) {
            assert_int_equal(lc_period_of(last + 1, &next), LC_OK);
            assert_int_equal(lc_period_first_us(&next, &first), LC_OK);
            assert_int_equal(first, last + 1);
        }
    }
}

static void period_bounds_refuse_invalid(void **state)
{
    (void)state;
    int64_t t = 7;
    lc_period_t p = {2026, 13};
    assert_int_equal(lc_period_first_us(&p, &t), LC_ERR_INVALID);
    assert_int_equal(lc_period_last_us(&p, &t), LC_ERR_INVALID);
    assert_int_equal(t, 7);
}

static void period_of_time(void **state)
{
    (void)state;
    int64_t t;
    lc_period_t p;
    assert_int_equal(lc_time_parse("2026-11-23T12:00:00.5Z", &t), LC_OK);
    assert_int_equal(lc_period_of(t, &p), LC_OK);
    assert_int_equal(p.year, 2026);
    assert_int_equal(p.month, 11);
    /* Local midnight of 1 December east of UTC is still November in UTC. */
    assert_int_equal(lc_time_parse("2026-12-01T00:30:00+01:00", &t), LC_OK);
    assert_int_equal(lc_period_of(t, &p), LC_OK);
    assert_int_equal(p.month, 11);
    assert_int_equal(lc_period_of(-1, &p), LC_ERR_INVALID);
    assert_int_equal(lc_period_of(INT64_MAX, &p), LC_ERR_INVALID);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(period_parse_accepts_year_and_month),
        cmocka_unit_test(period_parse_refuses_anything_else),
        cmocka_unit_test(period_format_round_trips),
        cmocka_unit_test(period_format_refuses_invalid),
        cmocka_unit_test(period_bounds_are_first_and_last_microsecond),
        cmocka_unit_test(period_bounds_know_leap_years_and_december),
        cmocka_unit_test(period_bounds_refuse_invalid),
        cmocka_unit_test(period_of_time),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
