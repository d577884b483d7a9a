/*
 * test_members_card.c: unit tests for mb_card, the members service's card
 * numbers: the Luhn check digit against published examples, validation of
 * malformed input, detection of every single-digit error and adjacent
 * transposition, prefixes, and generated numbers.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "lc_err.h"
#include "mb_card.h"

static void card_luhn_known_check_digits(void **state)
{
    (void)state;
    /* The textbook example 7992739871-3, and the well-known test card numbers. */
    assert_int_equal(mb_luhn_check_digit("7992739871", 10), '3');
    assert_int_equal(mb_luhn_check_digit("411111111111111", 15), '1');
    assert_int_equal(mb_luhn_check_digit("555555555555444", 15), '4');
    assert_int_equal(mb_luhn_check_digit("000000000000000", 15), '0');
    assert_int_equal(mb_luhn_check_digit("700100000000001", 15), '2');
}

static void card_luhn_refuses_non_digits(void **state)
{
    (void)state;
    assert_int_equal(mb_luhn_check_digit("41111a", 6), -1);
    assert_int_equal(mb_luhn_check_digit("4111 1", 6), -1);
}

static void card_valid_accepts_good_numbers(void **state)
{
    (void)state;
    assert_true(mb_card_valid("4111111111111111"));
    assert_true(mb_card_valid("5555555555554444"));
    assert_true(mb_card_valid("7001000000000012"));
    assert_false(mb_card_valid("7001000000000019"));
}

static void card_valid_refuses_malformed(void **state)
{
    (void)state;
    assert_false(mb_card_valid(NULL));
    assert_false(mb_card_valid(""));
    assert_false(mb_card_valid("4111111111111112"));  /* wrong check digit */
    assert_false(mb_card_valid("411111111111111"));   /* 15 digits */
    assert_false(mb_card_valid("41111111111111111")); /* 17 digits */
    assert_false(mb_card_valid("4111-11111111111"));
    assert_false(mb_card_valid("411111111111111a"));
    assert_false(mb_card_valid(" 4111111111111111"));
    assert_false(mb_card_valid("4111111111111111 "));
    assert_false(mb_card_valid("\xef\xbc\x94"
                               "111111111111111")); /* fullwidth 4 */
}

static void card_valid_detects_every_single_digit_error(void **state)
{
    (void)state;
    const char *good = "7001123456789012";
    char buf[17];
    /* Make it valid first. */
    memcpy(buf, good, 17);
    buf[15] = (char)mb_luhn_check_digit(buf, 15);
    assert_true(mb_card_valid(buf));
    for (int pos = 0; pos < 16; pos++) {
        for (char d = '0'; d <= '9'; d++) {
            char copy[17];
            memcpy(copy, buf, 17);
            if (copy[pos] == d)
                continue;
            copy[pos] = d;
            assert_false(mb_card_valid(copy));
        }
    }
}

static void card_valid_detects_adjacent_transpositions(void **state)
{
    (void)state;
    char buf[17] = "7001123456780012";
    buf[15] = (char)mb_luhn_check_digit(buf, 15);
    assert_true(mb_card_valid(buf));
    for (int pos = 0; pos < 15; pos++) {
        char a = buf[pos], b = buf[pos + 1];
        /* Luhn misses 09 <-> 90 only; identical digits do not change the number. */
        if (a == b || (a == '0' && b == '9') || (a == '9' && b == '0'))
            continue;
        char copy[17];
        memcpy(copy, buf, 17);
        copy[pos] = b;
        copy[pos + 1] = a;
        assert_false(mb_card_valid(copy));
    }
}

static void card_prefix_rules(void **state)
{
    (void)state;
    assert_true(mb_card_prefix_valid("7001"));
    assert_true(mb_card_prefix_valid("7"));
    assert_true(mb_card_prefix_valid("70010000"));
    assert_false(mb_card_prefix_valid(NULL));
    assert_false(mb_card_prefix_valid(""));
    assert_false(mb_card_prefix_valid("700100001"));
    assert_false(mb_card_prefix_valid("70a1"));
}

static void card_generate_makes_valid_numbers_with_prefix(void **state)
{
    (void)state;
    char a[MB_CARD_DIGITS + 1], b[MB_CARD_DIGITS + 1];
    assert_int_equal(mb_card_generate("7001", a), LC_OK);
    assert_int_equal(strlen(a), 16);
    assert_memory_equal(a, "7001", 4);
    assert_true(mb_card_valid(a));
    assert_int_equal(mb_card_generate("12345678", b), LC_OK);
    assert_memory_equal(b, "12345678", 8);
    assert_true(mb_card_valid(b));
    /* 11 random digits: two draws colliding would mean the randomness is broken. */
    assert_int_equal(mb_card_generate("7001", b), LC_OK);
    assert_string_not_equal(a, b);
}

static void card_generate_refuses_bad_prefix(void **state)
{
    (void)state;
    char a[MB_CARD_DIGITS + 1];
    assert_int_equal(mb_card_generate("", a), LC_ERR_INVALID);
    assert_int_equal(mb_card_generate("7x", a), LC_ERR_INVALID);
    assert_int_equal(mb_card_generate("123456789", a), LC_ERR_INVALID);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(card_luhn_known_check_digits),
        cmocka_unit_test(card_luhn_refuses_non_digits),
        cmocka_unit_test(card_valid_accepts_good_numbers),
        cmocka_unit_test(card_valid_refuses_malformed),
        cmocka_unit_test(card_valid_detects_every_single_digit_error),
        cmocka_unit_test(card_valid_detects_adjacent_transpositions),
        cmocka_unit_test(card_prefix_rules),
        cmocka_unit_test(card_generate_makes_valid_numbers_with_prefix),
        cmocka_unit_test(card_generate_refuses_bad_prefix),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
