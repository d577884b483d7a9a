/*
 * test_members_seal.c: sealing personal data under a member's key
 * (services/members/mb_h_util.c mb_seal / mb_open): a sealed value opens only
 * under the same key, for the same member and as the same field; the
 * ciphertext does not hold the plaintext; a tampered byte is refused.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "lc_crypto.h"
#include "lc_err.h"
#include "mb_handlers.h"

static void s_key(uint8_t key[LC_AEAD_KEY_LEN], uint8_t fill)
{
    memset(key, fill, LC_AEAD_KEY_LEN);
}

static void members_seal_round_trips_and_hides_the_text(void **state)
{
    (void)state;
    uint8_t key[LC_AEAD_KEY_LEN];
    s_key(key, 7);
    lc_id_t m = {{1, 2, 3}};
    mb_sealed_t s = {0};
    const char *email = "ada@example.org";
    assert_int_equal(mb_seal(key, &m, MB_AAD_EMAIL, email, &s), LC_OK);
    assert_non_null(s.data);
    assert_int_equal(s.len, strlen(email) + LC_AEAD_OVERHEAD);
    assert_null(memmem(s.data, s.len, email, strlen(email)));
    char *out = NULL;
    assert_int_equal(mb_open(key, &m, MB_AAD_EMAIL, &s, &out), LC_OK);
    assert_string_equal(out, email);
    free(out);
    /* Two seals of one text differ (fresh nonce). */
    mb_sealed_t t = {0};
    assert_int_equal(mb_seal(key, &m, MB_AAD_EMAIL, email, &t), LC_OK);
    assert_memory_not_equal(s.data, t.data, s.len);
    mb_sealed_clear(&s);
    mb_sealed_clear(&t);
    assert_null(s.data);
}

static void members_seal_opens_only_for_its_key_member_and_field(void **state)
{
    (void)state;
    uint8_t key[LC_AEAD_KEY_LEN], other[LC_AEAD_KEY_LEN];
    s_key(key, 7);
    s_key(other, 8);
    lc_id_t m = {{1, 2, 3}}, n = {{1, 2, 4}};
    mb_sealed_t s = {0};
    assert_int_equal(mb_seal(key, &m, MB_AAD_NAME, "Ada Lovelace", &s), LC_OK);
    char *out = NULL;
    assert_int_equal(mb_open(other, &m, MB_AAD_NAME, &s, &out), LC_ERR_CRYPTO);
    assert_null(out);
    assert_int_equal(mb_open(key, &n, MB_AAD_NAME, &s, &out), LC_ERR_CRYPTO);
    assert_int_equal(mb_open(key, &m, MB_AAD_EMAIL, &s, &out), LC_ERR_CRYPTO);
    assert_int_equal(mb_open(key, &m, MB_AAD_STATUS_REASON, &s, &out), LC_ERR_CRYPTO);
    s.data[s.len / 2] ^= 1;
    assert_int_equal(mb_open(key, &m, MB_AAD_NAME, &s, &out), LC_ERR_CRYPTO);
    s.data[s.len / 2] ^= 1;
    assert_int_equal(mb_open(key, &m, MB_AAD_NAME, &s, &out), LC_OK);
    assert_string_equal(out, "Ada Lovelace");
    free(out);
    mb_sealed_clear(&s);
}

static void members_seal_of_nothing_is_nothing(void **state)
{
    (void)state;
    uint8_t key[LC_AEAD_KEY_LEN];
    s_key(key, 7);
    lc_id_t m = {{9}};
    mb_sealed_t s = {0};
    assert_int_equal(mb_seal(key, &m, MB_AAD_EMAIL, NULL, &s), LC_OK);
    assert_null(s.data);
    char *out = (char *)"x";
    assert_int_equal(mb_open(key, &m, MB_AAD_EMAIL, &s, &out), LC_OK);
    assert_null(out);
    /* An empty text seals to nonce and tag only, and opens to "". */
    assert_int_equal(mb_seal(key, &m, MB_AAD_STATUS_REASON, "", &s), LC_OK);
    assert_int_equal(s.len, LC_AEAD_OVERHEAD);
    assert_int_equal(mb_open(key, &m, MB_AAD_STATUS_REASON, &s, &out), LC_OK);
    assert_string_equal(out, "");
    free(out);
    mb_sealed_clear(&s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(members_seal_round_trips_and_hides_the_text),
        cmocka_unit_test(members_seal_opens_only_for_its_key_member_and_field),
        cmocka_unit_test(members_seal_of_nothing_is_nothing),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
