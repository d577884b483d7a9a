/*
 * test_members_code.c: unit tests for mb_code, the one-time redemption codes:
 * format, the stored hash (recomputed independently, bound to code id and member),
 * expiry (capped at 10 minutes, exclusive), single use and the attempts limit.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "lc_crypto.h"
#include "lc_err.h"
#include "lc_time.h"
#include "mb_code.h"

static lc_id_t id(uint8_t n)
{
    lc_id_t x;
    memset(x.b, 0, sizeof x.b);
    x.b[15] = n;
    return x;
}

static void code_generate_is_eight_digits(void **state)
{
    (void)state;
    char a[MB_CODE_LEN + 1], b[MB_CODE_LEN + 1];
    assert_int_equal(mb_code_generate(a), LC_OK);
    assert_int_equal(strlen(a), MB_CODE_LEN);
    assert_true(mb_code_well_formed(a));
    /* 10^8 possibilities: twenty equal draws in a row would mean no randomness. */
    int same = 0;
    for (int i = 0; i < 20; i++) {
        assert_int_equal(mb_code_generate(b), LC_OK);
        assert_true(mb_code_well_formed(b));
        same += !strcmp(a, b);
    }
    assert_true(same < 20);
}

static void code_well_formed_rules(void **state)
{
    (void)state;
    assert_true(mb_code_well_formed("01234567"));
    assert_false(mb_code_well_formed(NULL));
    assert_false(mb_code_well_formed(""));
    assert_false(mb_code_well_formed("1234567"));
    assert_false(mb_code_well_formed("123456789"));
    assert_false(mb_code_well_formed("1234567a"));
    assert_false(mb_code_well_formed("1234 567"));
}

static void code_hash_is_sha256_of_id_member_code(void **state)
{
    (void)state;
    lc_id_t cid = id(1), mid = id(2);
    uint8_t buf[40], want[LC_SHA256_LEN], got[LC_SHA256_LEN];
    memcpy(buf, cid.b, 16);
    memcpy(buf + 16, mid.b, 16);
    memcpy(buf + 32, "12345678", 8);
    assert_int_equal(lc_sha256(buf, sizeof buf, want), LC_OK);
    assert_int_equal(mb_code_hash(&cid, &mid, "12345678", got), LC_OK);
    assert_memory_equal(got, want, LC_SHA256_LEN);
}

static void code_hash_binds_code_id_and_member(void **state)
{
    (void)state;
    lc_id_t c1 = id(1), c2 = id(3), m1 = id(2), m2 = id(4);
    uint8_t a[LC_SHA256_LEN], b[LC_SHA256_LEN];
    assert_int_equal(mb_code_hash(&c1, &m1, "12345678", a), LC_OK);
    assert_int_equal(mb_code_hash(&c2, &m1, "12345678", b), LC_OK);
    assert_memory_not_equal(a, b, LC_SHA256_LEN);
    assert_int_equal(mb_code_hash(&c1, &m2, "12345678", b), LC_OK);
    assert_memory_not_equal(a, b, LC_SHA256_LEN);
    assert_int_equal(mb_code_hash(&c1, &m1, "12345679", b), LC_OK);
    assert_memory_not_equal(a, b, LC_SHA256_LEN);
}

static void code_hash_refuses_malformed_codes(void **state)
{
    (void)state;
    lc_id_t c = id(1), m = id(2);
    uint8_t h[LC_SHA256_LEN];
    assert_int_equal(mb_code_hash(&c, &m, "1234567", h), LC_ERR_INVALID);
    assert_int_equal(mb_code_hash(&c, &m, "123456789", h), LC_ERR_INVALID);
    assert_int_equal(mb_code_hash(&c, &m, "abcdefgh", h), LC_ERR_INVALID);
}

static void code_expiry_is_ttl_capped_at_ten_minutes(void **state)
{
    (void)state;
    int64_t now = INT64_C(1772446530250000);
    assert_int_equal(mb_code_expires_at(now, 600), now + 600 * LC_USEC_PER_SEC);
    assert_int_equal(mb_code_expires_at(now, 60), now + 60 * LC_USEC_PER_SEC);
    assert_int_equal(mb_code_expires_at(now, 3600), now + 600 * LC_USEC_PER_SEC);
    assert_int_equal(mb_code_expires_at(now, -5), now);
}

static void code_usable_until_expiry_exclusive(void **state)
{
    (void)state;
    mb_code_state_t c = {.expires_at = 1000};
    assert_true(mb_code_usable(&c, 0));
    assert_true(mb_code_usable(&c, 999));
    assert_false(mb_code_usable(&c, 1000));
    assert_false(mb_code_usable(&c, 5000));
}

static void code_used_or_invalidated_is_not_usable(void **state)
{
    (void)state;
    mb_code_state_t used = {.expires_at = 1000, .used_at = 10};
    mb_code_state_t dead = {.expires_at = 1000, .invalidated = true};
    assert_false(mb_code_usable(&used, 500));
    assert_false(mb_code_usable(&dead, 500));
}

static void code_attempts_limit_invalidates(void **state)
{
    (void)state;
    mb_code_state_t c = {.expires_at = 1000};
    for (int i = 1; i < 5; i++) {
        mb_code_fail(&c, 5);
        assert_int_equal(c.failures, i);
        assert_true(mb_code_usable(&c, 0));
    }
    mb_code_fail(&c, 5);
    assert_int_equal(c.failures, 5);
    assert_true(c.invalidated);
    assert_false(mb_code_usable(&c, 0));
    /* Further failures change nothing on a dead code. */
    mb_code_fail(&c, 5);
    assert_int_equal(c.failures, 5);
}

static void code_attempts_limit_one(void **state)
{
    (void)state;
    mb_code_state_t c = {.expires_at = 1000};
    mb_code_fail(&c, 1);
    assert_true(c.invalidated);
}

static void code_failure_leaves_used_code_alone(void **state)
{
    (void)state;
    mb_code_state_t c = {.expires_at = 1000, .used_at = 7};
    mb_code_fail(&c, 1);
    assert_int_equal(c.failures, 0);
    assert_false(c.invalidated);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(code_generate_is_eight_digits),
        cmocka_unit_test(code_well_formed_rules),
        cmocka_unit_test(code_hash_is_sha256_of_id_member_code),
        cmocka_unit_test(code_hash_binds_code_id_and_member),
        cmocka_unit_test(code_hash_refuses_malformed_codes),
        cmocka_unit_test(code_expiry_is_ttl_capped_at_ten_minutes),
        cmocka_unit_test(code_usable_until_expiry_exclusive),
        cmocka_unit_test(code_used_or_invalidated_is_not_usable),
        cmocka_unit_test(code_attempts_limit_invalidates),
        cmocka_unit_test(code_attempts_limit_one),
        cmocka_unit_test(code_failure_leaves_used_code_alone),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
