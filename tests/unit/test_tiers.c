/*
 * test_tiers.c: unit tests for lc_tiers (the tiers.* settings): the defaults, every
 * kind of nonsense refused with a message naming the setting, the tier a number of
 * points reaches (exactly at each threshold), and names of out-of-range indexes.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "lc_err.h"
#include "lc_tiers.h"

static void tiers_defaults_parse(void **state)
{
    (void)state;
    lc_tiers_t t;
    char err[200] = "";
    assert_int_equal(lc_tiers_parse(LC_TIERS_DEFAULT_NAMES, LC_TIERS_DEFAULT_THRESHOLDS,
                                    LC_TIERS_DEFAULT_MULTIPLIERS, &t, err, sizeof err),
                     LC_OK);
    assert_int_equal(t.n, 3);
    assert_string_equal(t.names[0], "bronze");
    assert_string_equal(t.names[2], "gold");
    assert_int_equal(t.thresholds[1], 2000);
    assert_int_equal(t.multipliers_bps[2], 15000);
    /* Blanks around items are trimmed; one tier alone is a valid programme. */
    assert_int_equal(lc_tiers_parse(" blue , red ", "0, 10", "10000 ,10000", &t, err, sizeof err),
                     LC_OK);
    assert_string_equal(t.names[1], "red");
    assert_int_equal(lc_tiers_parse("member", "0", "10000", &t, err, sizeof err), LC_OK);
    assert_int_equal(t.n, 1);
}

static void tiers_refuse_nonsense(void **state)
{
    (void)state;
    static const struct {
        const char *names, *thresholds, *multipliers, *says;
    } bad[] = {
        {"a,b", "0,100", "10000", "must match"},
        {"a,b", "0", "10000,10000", "must match"},
        {"a,,b", "0,1,2", "10000,10000,10000", "tiers.names"},
        {"", "0", "10000", "tiers.names"},
        {"a,a", "0,1", "10000,10000", "twice"},
        {"Gold", "0", "10000", "a-z"},
        {"a b", "0", "10000", "a-z"},
        {"a,b", "10,100", "10000,10000", "must be 0"},
        {"a,b,c", "0,100,100", "10000,10000,10000", "ascending"},
        {"a,b,c", "0,200,100", "10000,10000,10000", "ascending"},
        {"a,b", "0,-5", "10000,10000", "tiers.thresholds"},
        {"a,b", "0,1x", "10000,10000", "tiers.thresholds"},
        {"a,b", "0,100", "10000,9999", "tiers.multipliers_bps"},
        {"a,b", "0,100", "10000,100001", "tiers.multipliers_bps"},
        {"a,b", "0,100", "12000,11000", "less than the tier below"},
        {"a,b,c,d,e,f,g,h,i", "0,1,2,3,4,5,6,7,8",
         "10000,10000,10000,10000,10000,10000,10000,10000,10000", "at most"},
        {"abcdefghijklmnopqrstuvwxyz0123456", "0", "10000", "too long"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        lc_tiers_t t;
        char err[200] = "";
        if (lc_tiers_parse(bad[i].names, bad[i].thresholds, bad[i].multipliers, &t, err,
                           sizeof err) != LC_ERR_INVALID)
            fail_msg("accepted names=\"%s\" thresholds=\"%s\" multipliers=\"%s\"", bad[i].names,
                     bad[i].thresholds, bad[i].multipliers);
        if (!strstr(err, bad[i].says))
            fail_msg("case %zu: message \"%s\" does not say \"%s\"", i, err, bad[i].says);
    }
}

static void tiers_for_points_at_each_threshold(void **state)
{
    (void)state;
    lc_tiers_t t;
    char err[200];
    assert_int_equal(lc_tiers_parse("bronze,silver,gold", "0,2000,5000", "10000,12500,15000", &t,
                                    err, sizeof err),
                     LC_OK);
    assert_int_equal(lc_tiers_for_points(&t, -3), 0); /* net returns: still the lowest */
    assert_int_equal(lc_tiers_for_points(&t, 0), 0);
    assert_int_equal(lc_tiers_for_points(&t, 1999), 0);
    assert_int_equal(lc_tiers_for_points(&t, 2000), 1);
    assert_int_equal(lc_tiers_for_points(&t, 4999), 1);
    assert_int_equal(lc_tiers_for_points(&t, 5000), 2);
    assert_int_equal(lc_tiers_for_points(&t, INT64_MAX), 2);
    assert_string_equal(lc_tiers_name(&t, 1), "silver");
    assert_string_equal(lc_tiers_name(&t, 7), "gold"); /* stored under a larger config */
    assert_string_equal(lc_tiers_name(&t, -1), "bronze");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(tiers_defaults_parse),
        cmocka_unit_test(tiers_refuse_nonsense),
        cmocka_unit_test(tiers_for_points_at_each_threshold),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
