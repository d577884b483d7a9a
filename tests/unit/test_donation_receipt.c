/*
 * test_donation_receipt.c: receipts (services/donation/dn_receipt.c): the exact
 * payload bytes, sign and verify, a tampered payload or signature refused (by our
 * verifier and by `openssl pkeyutl`), the key file's mode, rotation keeping old
 * receipts verifiable.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "dn_receipt.h"
#include "lc_err.h"

static char s_dir[256];

static int setup(void **state)
{
    (void)state;
    snprintf(s_dir, sizeof s_dir, "/tmp/dn-receipt-%d", (int)getpid());
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf %s", s_dir);
    return system(cmd) == 0 ? 0 : -1;
}

static dn_receipt_payload_t s_payload(void)
{
    dn_receipt_payload_t p;
    memset(&p, 0, sizeof p);
    lc_id_parse("0190f0a0-0000-7000-8000-0000000000d1", &p.donation_id);
    lc_id_parse("0190f0a0-0000-7000-8000-000000000001", &p.member_id);
    lc_id_parse("0190f0a0-0000-7000-8000-0000000000c1", &p.charity_id);
    p.points = 250;
    p.matched_points = 125;
    p.value.amount = 250;
    p.value.currency = "EUR";
    p.time = INT64_C(1772446530) * 1000000;
    return p;
}

static void donation_receipt_payload_is_exact(void **state)
{
    (void)state;
    dn_receipt_payload_t p = s_payload();
    char *bytes;
    size_t len;
    assert_int_equal(dn_receipt_bytes(&p, &bytes, &len), LC_OK);
    assert_string_equal(bytes,
                        "{\"donation_id\":\"0190f0a0-0000-7000-8000-0000000000d1\","
                        "\"member_id\":\"0190f0a0-0000-7000-8000-000000000001\","
                        "\"charity_id\":\"0190f0a0-0000-7000-8000-0000000000c1\","
                        "\"pool\":false,\"points\":250,\"matched_points\":125,"
                        "\"value\":{\"amount\":250,\"currency\":\"EUR\"},"
                        "\"time\":\"2026-03-02T10:15:30Z\"}");
    assert_int_equal(len, strlen(bytes));
    free(bytes);
}

/* Writes text to path. */
static void s_write(const char *path, const void *data, size_t len)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(data, 1, len, f), len);
    fclose(f);
}

/* Runs openssl pkeyutl -verify on r with pem; returns its exit status. */
static int s_openssl_verify(const char *pem, const dn_receipt_t *r)
{
    char path[400], cmd[1600];
    uint8_t *payload, *sig;
    size_t plen, slen;
    assert_int_equal(lc_base64_decode(r->payload, &payload, &plen), LC_OK);
    assert_int_equal(lc_base64_decode(r->signature, &sig, &slen), LC_OK);
    snprintf(path, sizeof path, "%s/key.pem", s_dir);
    s_write(path, pem, strlen(pem));
    snprintf(path, sizeof path, "%s/payload.bin", s_dir);
    s_write(path, payload, plen);
    snprintf(path, sizeof path, "%s/sig.bin", s_dir);
    s_write(path, sig, slen);
    free(payload);
    free(sig);
    snprintf(cmd, sizeof cmd,
             "openssl pkeyutl -verify -pubin -inkey %s/key.pem -rawin -in %s/payload.bin "
             "-sigfile %s/sig.bin >/dev/null 2>&1",
             s_dir, s_dir, s_dir);
    return system(cmd);
}

static void donation_receipt_signs_and_verifies(void **state)
{
    (void)state;
    dn_keyring_t kr;
    assert_int_equal(dn_keyring_open(&kr, s_dir), LC_OK);
    assert_int_equal(kr.n, 1);
    /* the private key is the owner's alone */
    char path[400];
    snprintf(path, sizeof path, "%s/receipt-%s.pem", s_dir, kr.keys[0].key_id);
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);

    dn_receipt_payload_t p = s_payload();
    dn_receipt_t r;
    assert_int_equal(dn_receipt_sign(&kr, &p, &r), LC_OK);
    assert_string_equal(r.key_id, kr.keys[0].key_id);
    assert_int_equal(dn_receipt_verify(kr.keys[0].pem, &r), LC_OK);
    assert_int_equal(s_openssl_verify(kr.keys[0].pem, &r), 0);

    /* a tampered payload (one more point) fails both verifiers */
    dn_receipt_payload_t q = p;
    q.points = 251;
    dn_receipt_t t;
    assert_int_equal(dn_receipt_sign(&kr, &q, &t), LC_OK);
    free(t.signature);
    t.signature = strdup(r.signature);
    assert_int_equal(dn_receipt_verify(kr.keys[0].pem, &t), LC_ERR_CRYPTO);
    assert_int_not_equal(s_openssl_verify(kr.keys[0].pem, &t), 0);
    lc_codec_clear(&dn_receipt_desc, &t);
    /* a broken signature does not decode */
    free(r.signature);
    r.signature = strdup("not base64!");
    assert_int_equal(dn_receipt_verify(kr.keys[0].pem, &r), LC_ERR_INVALID);
    lc_codec_clear(&dn_receipt_desc, &r);
    dn_keyring_close(&kr);
}

static void donation_receipt_rotation_keeps_old_keys(void **state)
{
    (void)state;
    dn_keyring_t kr;
    assert_int_equal(dn_keyring_open(&kr, s_dir), LC_OK);
    dn_receipt_payload_t p = s_payload();
    dn_receipt_t old;
    assert_int_equal(dn_receipt_sign(&kr, &p, &old), LC_OK);
    char old_id[DN_KEY_ID_MAX + 1];
    snprintf(old_id, sizeof old_id, "%s", kr.keys[0].key_id);
    dn_keyring_close(&kr);

    char new_id[DN_KEY_ID_MAX + 1];
    assert_int_equal(dn_keyring_rotate(s_dir, new_id), LC_OK);
    assert_string_not_equal(new_id, old_id);
    assert_int_equal(dn_keyring_open(&kr, s_dir), LC_OK);
    assert_true(kr.n >= 2);
    assert_string_equal(kr.keys[0].key_id, new_id); /* signs with the new key */
    dn_receipt_keys_t keys;
    assert_int_equal(dn_keyring_describe(&kr, &keys), LC_OK);
    assert_string_equal(keys.key_id, new_id);
    bool found = false;
    for (size_t i = 0; i < keys.nkeys; i++)
        if (!strcmp(keys.keys[i].key_id, old_id)) {
            found = true;
            assert_int_equal(dn_receipt_verify(keys.keys[i].public_key_pem, &old), LC_OK);
        }
    assert_true(found);
    /* the old receipt does not verify under the new key */
    assert_int_equal(dn_receipt_verify(keys.public_key_pem, &old), LC_ERR_CRYPTO);
    lc_codec_clear(&dn_receipt_keys_desc, &keys);
    lc_codec_clear(&dn_receipt_desc, &old);
    dn_keyring_close(&kr);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(donation_receipt_payload_is_exact),
        cmocka_unit_test(donation_receipt_signs_and_verifies),
        cmocka_unit_test(donation_receipt_rotation_keeps_old_keys),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
