/*
 * test_crypto.c: unit tests for lc_crypto (hashing, HMAC, randomness, Ed25519,
 * AES-256-GCM, base64, hex). Hash, MAC, signature and base64 results are checked
 * against published vectors (FIPS 180-2, RFC 4231, RFC 8032, RFC 4648) rather than
 * against our own output, and the Ed25519 public PEM is checked against the
 * openssl command line tool, which is what partners will verify with.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lc_crypto.h"
#include "lc_err.h"

/* ---- helpers ------------------------------------------------------------ */

/* Decodes a hex literal from a test vector; fails the test on bad hex. */
static void unhex(const char *text, uint8_t *out, size_t len)
{
    assert_int_equal(lc_hex_decode(text, out, len), LC_OK);
}

/* Asserts that digest equals the hex vector want. */
static void assert_digest(const uint8_t digest[LC_SHA256_LEN], const char *want)
{
    char got[2 * LC_SHA256_LEN + 1];

    lc_hex_encode(digest, LC_SHA256_LEN, got);
    assert_string_equal(got, want);
}

/* Writes len bytes to path (truncating); fails the test on error. */
static void write_file(const char *path, const void *data, size_t len)
{
    FILE *fp = fopen(path, "wb");

    assert_non_null(fp);
    assert_int_equal(fwrite(data, 1, len, fp), len);
    assert_int_equal(fclose(fp), 0);
}

/* Joins dir and name into out (PATH_MAX-sized buffers in the tests). */
static void join(char *out, size_t size, const char *dir, const char *name)
{
    int n = snprintf(out, size, "%s/%s", dir, name);

    assert_true(n > 0 && (size_t)n < size);
}

/* Setup: creates a fresh private temp directory; *state is its path. */
static int tmpdir_setup(void **state)
{
    char *dir = strdup("/tmp/lc_test_crypto_XXXXXX");

    if (dir == NULL || mkdtemp(dir) == NULL) {
        free(dir);
        return -1;
    }
    *state = dir;
    return 0;
}

/* Teardown: removes the temp directory and the plain files in it. */
static int tmpdir_teardown(void **state)
{
    char *dir = *state;
    DIR *d = opendir(dir);
    struct dirent *e;
    char path[4096];

    if (d != NULL) {
        while ((e = readdir(d)) != NULL) {
            if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
                continue;
            if (snprintf(path, sizeof(path), "%s/%s", dir, e->d_name) < (int)sizeof(path))
                unlink(path);
        }
        closedir(d);
    }
    rmdir(dir);
    free(dir);
    return 0;
}

/* RFC 8032 section 7.1, TEST 1: the private key as PKCS#8 PEM, its public key as
 * SubjectPublicKeyInfo PEM and the signature of the empty message. */
static const char rfc8032_t1_private_pem[] =
    "-----BEGIN PRIVATE KEY-----\n"
    "MC4CAQAwBQYDK2VwBCIEIJ1hsZ3v/VpguoRK9JLsLMREScVpezJpGXA7rAMcrn9g\n"
    "-----END PRIVATE KEY-----\n";
static const char rfc8032_t1_public_pem[] =
    "-----BEGIN PUBLIC KEY-----\n"
    "MCowBQYDK2VwAyEA11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=\n"
    "-----END PUBLIC KEY-----\n";
static const char rfc8032_t1_sig[] =
    "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e06522490155"
    "5fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b";

/* ---- SHA-256 ------------------------------------------------------------- */

static void crypto_sha256_known_vector(void **state)
{
    uint8_t d[LC_SHA256_LEN];
    (void)state;

    assert_int_equal(lc_sha256("abc", 3, d), LC_OK);
    assert_digest(d, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    assert_int_equal(lc_sha256("", 0, d), LC_OK);
    assert_digest(d, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    assert_int_equal(lc_sha256(NULL, 0, d), LC_OK);
    assert_digest(d, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    const char *m = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
    assert_int_equal(lc_sha256(m, strlen(m), d), LC_OK);
    assert_digest(d, "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
}

static void crypto_sha256_rejects_null(void **state)
{
    uint8_t d[LC_SHA256_LEN];
    (void)state;

    assert_int_equal(lc_sha256(NULL, 1, d), LC_ERR_INVALID);
    assert_int_equal(lc_sha256("abc", 3, NULL), LC_ERR_INVALID);
}

static void crypto_sha256_incremental_matches_oneshot(void **state)
{
    static const char msg[] = "The quick brown fox jumps over the lazy dog";
    size_t len = strlen(msg), split;
    uint8_t one[LC_SHA256_LEN], inc[LC_SHA256_LEN];
    (void)state;

    assert_int_equal(lc_sha256(msg, len, one), LC_OK);
    assert_digest(one, "d7a8fbb307d7809469ca9abcb0082e4f8d5651e46d3cdb762d02d0bf37c9e592");
    for (split = 0; split <= len; split++) {
        lc_sha256_ctx_t *ctx = lc_sha256_new();

        assert_non_null(ctx);
        assert_int_equal(lc_sha256_update(ctx, msg, split), LC_OK);
        assert_int_equal(lc_sha256_update(ctx, NULL, 0), LC_OK);
        assert_int_equal(lc_sha256_update(ctx, msg + split, len - split), LC_OK);
        assert_int_equal(lc_sha256_final(&ctx, inc), LC_OK);
        assert_null(ctx);
        assert_memory_equal(one, inc, LC_SHA256_LEN);
    }
}

static void crypto_sha256_million_a(void **state)
{
    char block[1000];
    uint8_t d[LC_SHA256_LEN];
    lc_sha256_ctx_t *ctx = lc_sha256_new();
    int i;
    (void)state;

    memset(block, 'a', sizeof(block));
    assert_non_null(ctx);
    for (i = 0; i < 1000; i++)
        assert_int_equal(lc_sha256_update(ctx, block, sizeof(block)), LC_OK);
    assert_int_equal(lc_sha256_final(&ctx, d), LC_OK);
    assert_digest(d, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

static void crypto_sha256_destroy_is_idempotent(void **state)
{
    lc_sha256_ctx_t *ctx = lc_sha256_new();
    uint8_t d[LC_SHA256_LEN];
    (void)state;

    assert_non_null(ctx);
    assert_int_equal(lc_sha256_update(ctx, "x", 1), LC_OK);
    lc_sha256_destroy(&ctx);
    assert_null(ctx);
    lc_sha256_destroy(&ctx);
    assert_null(ctx);
    lc_sha256_destroy(NULL);
    assert_int_equal(lc_sha256_final(&ctx, d), LC_ERR_INVALID);
    assert_int_equal(lc_sha256_final(NULL, d), LC_ERR_INVALID);
    assert_int_equal(lc_sha256_update(NULL, "x", 1), LC_ERR_INVALID);
}

/* ---- HMAC-SHA256 ----------------------------------------------------------- */

static void crypto_hmac_rfc4231_vectors(void **state)
{
    uint8_t key[131], d[LC_SHA256_LEN];
    const char *data;
    (void)state;

    /* Test case 1 */
    memset(key, 0x0b, 20);
    assert_int_equal(lc_hmac_sha256(key, 20, "Hi There", 8, d), LC_OK);
    assert_digest(d, "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7");
    /* Test case 2 */
    data = "what do ya want for nothing?";
    assert_int_equal(lc_hmac_sha256("Jefe", 4, data, strlen(data), d), LC_OK);
    assert_digest(d, "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
    /* Test case 6: a key longer than the block size is hashed first. */
    memset(key, 0xaa, sizeof(key));
    data = "Test Using Larger Than Block-Size Key - Hash Key First";
    assert_int_equal(lc_hmac_sha256(key, sizeof(key), data, strlen(data), d), LC_OK);
    assert_digest(d, "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54");
}

static void crypto_hmac_empty_key_and_message(void **state)
{
    uint8_t d[LC_SHA256_LEN];
    (void)state;

    assert_int_equal(lc_hmac_sha256(NULL, 0, NULL, 0, d), LC_OK);
    assert_digest(d, "b613679a0814d9ec772f95d778c35fc5ff1697c493715653c6c712144292c5ad");
    assert_int_equal(lc_hmac_sha256(NULL, 1, "x", 1, d), LC_ERR_INVALID);
    assert_int_equal(lc_hmac_sha256("k", 1, NULL, 1, d), LC_ERR_INVALID);
}

/* ---- constant-time compare and randomness ------------------------------------- */

static void crypto_ct_equal(void **state)
{
    uint8_t a[32], b[32];
    (void)state;

    memset(a, 0x5a, sizeof(a));
    memcpy(b, a, sizeof(b));
    assert_true(lc_ct_equal(a, b, sizeof(a)));
    b[31] ^= 0x01;
    assert_false(lc_ct_equal(a, b, sizeof(a)));
    assert_true(lc_ct_equal(a, b, 31));
    b[31] = a[31];
    b[0] ^= 0x80;
    assert_false(lc_ct_equal(a, b, sizeof(a)));
    assert_true(lc_ct_equal(a, b, 0));
    assert_false(lc_ct_equal(a, NULL, 1));
}

static void crypto_random_not_zero_and_differs(void **state)
{
    uint8_t a[32], b[32], zero[32] = {0};
    (void)state;

    memset(a, 0, sizeof(a));
    memset(b, 0, sizeof(b));
    assert_int_equal(lc_random_bytes(a, sizeof(a)), LC_OK);
    assert_int_equal(lc_random_bytes(b, sizeof(b)), LC_OK);
    /* 2^-256 chance of a false failure. */
    assert_memory_not_equal(a, zero, sizeof(a));
    assert_memory_not_equal(a, b, sizeof(a));
    assert_int_equal(lc_random_bytes(NULL, 0), LC_OK);
    assert_int_equal(lc_random_bytes(NULL, 1), LC_ERR_INVALID);
}

/* ---- Ed25519 ------------------------------------------------------------------ */

static void crypto_ed25519_sign_verify_round_trip(void **state)
{
    static const char msg[] = "transfer 120 points from A to B";
    uint8_t sig[LC_ED25519_SIG_LEN], sig2[LC_ED25519_SIG_LEN];
    lc_ed25519_t *key = lc_ed25519_generate();
    char *pem;
    (void)state;

    assert_non_null(key);
    pem = lc_ed25519_public_pem(key);
    assert_non_null(pem);
    assert_non_null(strstr(pem, "-----BEGIN PUBLIC KEY-----\n"));
    assert_int_equal(lc_ed25519_sign(key, msg, sizeof(msg) - 1, sig), LC_OK);
    assert_int_equal(lc_ed25519_verify(pem, msg, sizeof(msg) - 1, sig), LC_OK);
    /* Ed25519 is deterministic. */
    assert_int_equal(lc_ed25519_sign(key, msg, sizeof(msg) - 1, sig2), LC_OK);
    assert_memory_equal(sig, sig2, sizeof(sig));
    /* The empty message signs and verifies too. */
    assert_int_equal(lc_ed25519_sign(key, NULL, 0, sig2), LC_OK);
    assert_int_equal(lc_ed25519_verify(pem, "", 0, sig2), LC_OK);
    assert_int_equal(lc_ed25519_verify(pem, msg, sizeof(msg) - 1, sig2), LC_ERR_CRYPTO);
    free(pem);
    lc_ed25519_destroy(&key);
    assert_null(key);
    lc_ed25519_destroy(&key);
}

static void crypto_ed25519_flipped_bit_fails(void **state)
{
    uint8_t msg[] = "redeem 500 points";
    size_t len = sizeof(msg) - 1, i;
    uint8_t sig[LC_ED25519_SIG_LEN];
    lc_ed25519_t *key = lc_ed25519_generate();
    char *pem;
    (void)state;

    assert_non_null(key);
    pem = lc_ed25519_public_pem(key);
    assert_non_null(pem);
    assert_int_equal(lc_ed25519_sign(key, msg, len, sig), LC_OK);
    for (i = 0; i < len; i++) {
        msg[i] ^= 0x01;
        assert_int_equal(lc_ed25519_verify(pem, msg, len, sig), LC_ERR_CRYPTO);
        msg[i] ^= 0x01;
    }
    for (i = 0; i < sizeof(sig); i++) {
        sig[i] ^= 0x20;
        assert_int_equal(lc_ed25519_verify(pem, msg, len, sig), LC_ERR_CRYPTO);
        sig[i] ^= 0x20;
    }
    assert_int_equal(lc_ed25519_verify(pem, msg, len, sig), LC_OK);
    /* A different key does not verify it. */
    {
        lc_ed25519_t *other = lc_ed25519_generate();
        char *other_pem;

        assert_non_null(other);
        other_pem = lc_ed25519_public_pem(other);
        assert_non_null(other_pem);
        assert_int_equal(lc_ed25519_verify(other_pem, msg, len, sig), LC_ERR_CRYPTO);
        free(other_pem);
        lc_ed25519_destroy(&other);
    }
    free(pem);
    lc_ed25519_destroy(&key);
}

static void crypto_ed25519_rfc8032_vector(void **state)
{
    char *dir = *state, path[4096], *pem;
    uint8_t want[LC_ED25519_SIG_LEN], sig[LC_ED25519_SIG_LEN];
    lc_ed25519_t *key;

    unhex(rfc8032_t1_sig, want, sizeof(want));
    join(path, sizeof(path), dir, "rfc8032.pem");
    write_file(path, rfc8032_t1_private_pem, strlen(rfc8032_t1_private_pem));
    key = lc_ed25519_load_private(path);
    assert_non_null(key);
    pem = lc_ed25519_public_pem(key);
    assert_non_null(pem);
    assert_string_equal(pem, rfc8032_t1_public_pem);
    assert_int_equal(lc_ed25519_sign(key, "", 0, sig), LC_OK);
    assert_memory_equal(sig, want, sizeof(sig));
    assert_int_equal(lc_ed25519_verify(rfc8032_t1_public_pem, "", 0, want), LC_OK);
    free(pem);
    lc_ed25519_destroy(&key);
}

static void crypto_ed25519_verify_rejects_bad_pem(void **state)
{
    /* A P-256 public key: a valid PEM, but not Ed25519. */
    static const char p256_pem[] =
        "-----BEGIN PUBLIC KEY-----\n"
        "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEo+zukq9e9KH7285JlzX5OANdNc78\n"
        "8ZzBJoWLxpN7wVFTG1IGDWSrXmYdNg6JyylTPFB7hOjVHwbMLwIq7+w0lg==\n"
        "-----END PUBLIC KEY-----\n";
    uint8_t sig[LC_ED25519_SIG_LEN] = {0};
    (void)state;

    assert_int_equal(lc_ed25519_verify("not a pem", "m", 1, sig), LC_ERR_INVALID);
    assert_int_equal(lc_ed25519_verify("", "m", 1, sig), LC_ERR_INVALID);
    assert_int_equal(lc_ed25519_verify(p256_pem, "m", 1, sig), LC_ERR_INVALID);
    assert_int_equal(lc_ed25519_verify(NULL, "m", 1, sig), LC_ERR_INVALID);
    assert_int_equal(lc_ed25519_verify(rfc8032_t1_public_pem, "m", 1, sig), LC_ERR_CRYPTO);
}

static void crypto_ed25519_save_load_round_trip(void **state)
{
    char *dir = *state, path[4096], *pem1, *pem2;
    uint8_t sig[LC_ED25519_SIG_LEN];
    lc_ed25519_t *key = lc_ed25519_generate(), *loaded;
    struct stat st;

    assert_non_null(key);
    join(path, sizeof(path), dir, "signing.pem");
    assert_int_equal(lc_ed25519_save_private(key, path), LC_OK);
    assert_int_equal(stat(path, &st), 0);
    assert_true(S_ISREG(st.st_mode));
    assert_int_equal(st.st_mode & 07777, 0600);

    loaded = lc_ed25519_load_private(path);
    assert_non_null(loaded);
    pem1 = lc_ed25519_public_pem(key);
    pem2 = lc_ed25519_public_pem(loaded);
    assert_non_null(pem1);
    assert_non_null(pem2);
    assert_string_equal(pem1, pem2);
    assert_int_equal(lc_ed25519_sign(loaded, "hello", 5, sig), LC_OK);
    assert_int_equal(lc_ed25519_verify(pem1, "hello", 5, sig), LC_OK);
    free(pem1);
    free(pem2);
    lc_ed25519_destroy(&loaded);
    lc_ed25519_destroy(&key);
}

static void crypto_ed25519_save_refuses_existing_file(void **state)
{
    char *dir = *state, path[4096], *pem_before, *pem_after;
    lc_ed25519_t *first = lc_ed25519_generate(), *second = lc_ed25519_generate(), *loaded;

    assert_non_null(first);
    assert_non_null(second);
    join(path, sizeof(path), dir, "signing.pem");
    assert_int_equal(lc_ed25519_save_private(first, path), LC_OK);
    assert_int_equal(lc_ed25519_save_private(second, path), LC_ERR_CONFLICT);
    /* The first key is still the one on disk. */
    loaded = lc_ed25519_load_private(path);
    assert_non_null(loaded);
    pem_before = lc_ed25519_public_pem(first);
    pem_after = lc_ed25519_public_pem(loaded);
    assert_non_null(pem_before);
    assert_non_null(pem_after);
    assert_string_equal(pem_before, pem_after);
    free(pem_before);
    free(pem_after);
    lc_ed25519_destroy(&loaded);
    lc_ed25519_destroy(&first);
    lc_ed25519_destroy(&second);
}

static void crypto_ed25519_save_into_missing_dir_fails(void **state)
{
    char *dir = *state, path[4096];
    lc_ed25519_t *key = lc_ed25519_generate();

    assert_non_null(key);
    join(path, sizeof(path), dir, "no/such/dir/key.pem");
    assert_int_equal(lc_ed25519_save_private(key, path), LC_ERR_IO);
    assert_int_equal(lc_ed25519_save_private(NULL, path), LC_ERR_INVALID);
    assert_int_equal(lc_ed25519_save_private(key, NULL), LC_ERR_INVALID);
    lc_ed25519_destroy(&key);
}

static void crypto_ed25519_load_rejects_bad_files(void **state)
{
    char *dir = *state, path[4096];

    join(path, sizeof(path), dir, "missing.pem");
    assert_null(lc_ed25519_load_private(path));
    join(path, sizeof(path), dir, "garbage.pem");
    write_file(path, "not a key\n", 10);
    assert_null(lc_ed25519_load_private(path));
    /* A public key is not a private key. */
    join(path, sizeof(path), dir, "public.pem");
    write_file(path, rfc8032_t1_public_pem, strlen(rfc8032_t1_public_pem));
    assert_null(lc_ed25519_load_private(path));
    assert_null(lc_ed25519_load_private(NULL));
}

/* Runs cmd through the shell and returns its exit status (-1 if it did not exit). */
static int run(const char *cmd)
{
    int status = system(cmd);

    if (status == -1 || !WIFEXITED(status))
        return -1;
    return WEXITSTATUS(status);
}

static void crypto_ed25519_openssl_cli_verifies(void **state)
{
    static const char payload[] = "{\"partner\":\"acme\",\"points\":120}";
    char *dir = *state, pub[4096], pay[4096], sigp[4096], cmd[16384], *pem;
    uint8_t sig[LC_ED25519_SIG_LEN];
    lc_ed25519_t *key;
    int n;

    if (run("command -v openssl >/dev/null 2>&1") != 0)
        skip();
    key = lc_ed25519_generate();
    assert_non_null(key);
    pem = lc_ed25519_public_pem(key);
    assert_non_null(pem);
    assert_int_equal(lc_ed25519_sign(key, payload, strlen(payload), sig), LC_OK);
    join(pub, sizeof(pub), dir, "pub.pem");
    join(pay, sizeof(pay), dir, "payload.bin");
    join(sigp, sizeof(sigp), dir, "sig.bin");
    write_file(pub, pem, strlen(pem));
    write_file(pay, payload, strlen(payload));
    write_file(sigp, sig, sizeof(sig));
    n = snprintf(cmd, sizeof(cmd),
                 "openssl pkeyutl -verify -pubin -inkey '%s' -rawin -in '%s' -sigfile '%s'"
                 " >/dev/null 2>&1",
                 pub, pay, sigp);
    assert_true(n > 0 && (size_t)n < sizeof(cmd));
    assert_int_equal(run(cmd), 0);

    /* Tampered payload: the CLI must refuse it. */
    write_file(pay, "{\"partner\":\"acme\",\"points\":920}", strlen(payload));
    assert_int_not_equal(run(cmd), 0);

    free(pem);
    lc_ed25519_destroy(&key);
}

/* ---- AES-256-GCM ------------------------------------------------------------------ */

static void crypto_aead_round_trip(void **state)
{
    static const char pt[] = "member 42 email a@example.org";
    static const char aad[] = "members/42";
    uint8_t key[LC_AEAD_KEY_LEN], *sealed = NULL, *sealed2 = NULL, *opened = NULL;
    size_t sealed_len = 0, sealed2_len = 0, opened_len = 0;
    (void)state;

    assert_int_equal(lc_random_bytes(key, sizeof(key)), LC_OK);
    assert_int_equal(lc_aead_seal(key, aad, strlen(aad), pt, strlen(pt), &sealed, &sealed_len),
                     LC_OK);
    assert_non_null(sealed);
    assert_int_equal(sealed_len, strlen(pt) + LC_AEAD_OVERHEAD);
    /* The plaintext does not appear in the output. */
    assert_null(memmem(sealed, sealed_len, "example", 7));
    assert_int_equal(lc_aead_open(key, aad, strlen(aad), sealed, sealed_len, &opened, &opened_len),
                     LC_OK);
    assert_non_null(opened);
    assert_int_equal(opened_len, strlen(pt));
    assert_memory_equal(opened, pt, opened_len);
    /* A fresh nonce each time: same input, different output. */
    assert_int_equal(lc_aead_seal(key, aad, strlen(aad), pt, strlen(pt), &sealed2, &sealed2_len),
                     LC_OK);
    assert_int_equal(sealed2_len, sealed_len);
    assert_memory_not_equal(sealed, sealed2, LC_AEAD_NONCE_LEN);
    assert_memory_not_equal(sealed + LC_AEAD_NONCE_LEN, sealed2 + LC_AEAD_NONCE_LEN,
                            sealed_len - LC_AEAD_NONCE_LEN);
    free(sealed);
    free(sealed2);
    free(opened);
}

/* Asserts that opening in[0..len) under key/aad fails with LC_ERR_CRYPTO and
 * leaves the output NULL. */
static void assert_open_fails(const uint8_t *key, const char *aad, const uint8_t *in, size_t len)
{
    uint8_t *out = (uint8_t *)"sentinel";
    size_t out_len = 99;

    assert_int_equal(lc_aead_open(key, aad, aad ? strlen(aad) : 0, in, len, &out, &out_len),
                     LC_ERR_CRYPTO);
    assert_null(out);
    assert_int_equal(out_len, 0);
}

static void crypto_aead_tamper_rejected(void **state)
{
    static const char pt[] = "points balance 1200";
    static const char aad[] = "accounts/7";
    uint8_t key[LC_AEAD_KEY_LEN], other[LC_AEAD_KEY_LEN], *sealed = NULL;
    size_t sealed_len = 0, i;
    (void)state;

    assert_int_equal(lc_random_bytes(key, sizeof(key)), LC_OK);
    assert_int_equal(lc_aead_seal(key, aad, strlen(aad), pt, strlen(pt), &sealed, &sealed_len),
                     LC_OK);
    /* Every single-byte change (nonce, ciphertext, tag) is detected. */
    for (i = 0; i < sealed_len; i++) {
        sealed[i] ^= 0x01;
        assert_open_fails(key, aad, sealed, sealed_len);
        sealed[i] ^= 0x01;
    }
    assert_open_fails(key, "accounts/8", sealed, sealed_len);
    assert_open_fails(key, NULL, sealed, sealed_len);
    memcpy(other, key, sizeof(key));
    other[0] ^= 0x80;
    assert_open_fails(other, aad, sealed, sealed_len);
    /* Truncated inputs. */
    assert_open_fails(key, aad, sealed, sealed_len - 1);
    assert_open_fails(key, aad, sealed, LC_AEAD_OVERHEAD - 1);
    assert_open_fails(key, aad, sealed, 0);
    free(sealed);
}

static void crypto_aead_empty_plaintext(void **state)
{
    uint8_t key[LC_AEAD_KEY_LEN], *sealed = NULL, *opened = NULL;
    size_t sealed_len = 0, opened_len = 99;
    (void)state;

    assert_int_equal(lc_random_bytes(key, sizeof(key)), LC_OK);
    assert_int_equal(lc_aead_seal(key, NULL, 0, NULL, 0, &sealed, &sealed_len), LC_OK);
    assert_non_null(sealed);
    assert_int_equal(sealed_len, LC_AEAD_OVERHEAD);
    assert_int_equal(lc_aead_open(key, NULL, 0, sealed, sealed_len, &opened, &opened_len), LC_OK);
    assert_non_null(opened);
    assert_int_equal(opened_len, 0);
    free(opened);
    /* Even with no plaintext, the tag authenticates the aad. */
    assert_open_fails(key, "x", sealed, sealed_len);
    sealed[sealed_len - 1] ^= 0x01;
    assert_open_fails(key, NULL, sealed, sealed_len);
    free(sealed);
}

static void crypto_aead_rejects_bad_arguments(void **state)
{
    uint8_t key[LC_AEAD_KEY_LEN] = {0}, *out = NULL;
    size_t out_len = 0;
    (void)state;

    assert_int_equal(lc_aead_seal(NULL, NULL, 0, "x", 1, &out, &out_len), LC_ERR_INVALID);
    assert_int_equal(lc_aead_seal(key, NULL, 3, "x", 1, &out, &out_len), LC_ERR_INVALID);
    assert_int_equal(lc_aead_seal(key, NULL, 0, NULL, 1, &out, &out_len), LC_ERR_INVALID);
    assert_int_equal(lc_aead_seal(key, NULL, 0, "x", 1, NULL, &out_len), LC_ERR_INVALID);
    assert_int_equal(lc_aead_open(key, NULL, 0, NULL, 40, &out, &out_len), LC_ERR_INVALID);
    assert_null(out);
}

/* ---- base64 and hex ------------------------------------------------------------------ */

static const struct {
    const char *plain, *b64;
} rfc4648[] = {
    {"", ""},
    {"f", "Zg=="},
    {"fo", "Zm8="},
    {"foo", "Zm9v"},
    {"foob", "Zm9vYg=="},
    {"fooba", "Zm9vYmE="},
    {"foobar", "Zm9vYmFy"},
};

static void crypto_base64_rfc4648_vectors(void **state)
{
    size_t i;
    (void)state;

    for (i = 0; i < sizeof(rfc4648) / sizeof(rfc4648[0]); i++) {
        char *enc = lc_base64_encode(rfc4648[i].plain, strlen(rfc4648[i].plain));
        uint8_t *dec = NULL;
        size_t dec_len = 99;

        assert_non_null(enc);
        assert_string_equal(enc, rfc4648[i].b64);
        assert_int_equal(lc_base64_decode(rfc4648[i].b64, &dec, &dec_len), LC_OK);
        assert_non_null(dec);
        assert_int_equal(dec_len, strlen(rfc4648[i].plain));
        assert_memory_equal(dec, rfc4648[i].plain, dec_len);
        free(enc);
        free(dec);
    }
}

static void crypto_base64_binary_round_trip(void **state)
{
    uint8_t data[256];
    size_t len, i;
    (void)state;

    for (i = 0; i < sizeof(data); i++)
        data[i] = (uint8_t)(255 - i);
    for (len = 0; len <= sizeof(data); len++) {
        char *enc = lc_base64_encode(data, len);
        uint8_t *dec = NULL;
        size_t dec_len = 0;

        assert_non_null(enc);
        assert_int_equal(strlen(enc), (len + 2) / 3 * 4);
        assert_int_equal(lc_base64_decode(enc, &dec, &dec_len), LC_OK);
        assert_int_equal(dec_len, len);
        assert_memory_equal(dec, data, len);
        free(enc);
        free(dec);
    }
}

static void crypto_base64_rejects_invalid(void **state)
{
    static const char *bad[] = {
        "Zg",           /* missing padding */
        "Zg=",          /* short padding */
        "Zm9",          /* length not a multiple of 4 */
        "Z===",         /* too much padding */
        "====",         /* only padding */
        "=Zg=",         /* padding first */
        "Zg==Zg==",     /* padding in the middle */
        "Zm=v",         /* padding inside a group */
        "Zm9v\n",       /* trailing newline */
        " Zm9",         /* leading space */
        "Zm9vYmFy\r\n", /* trailing CRLF */
        "Zm 9",         /* inner space */
        "Zm9-",         /* base64url alphabet */
        "Zm9_",         /* base64url alphabet */
        "Zm9\x80",      /* non-ASCII */
        "Zh==",         /* non-zero bits under the padding */
        "Zm9=",         /* non-zero bits under the padding */
    };
    size_t i;
    (void)state;

    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        uint8_t *out = (uint8_t *)"sentinel";
        size_t out_len = 99;

        assert_int_equal(lc_base64_decode(bad[i], &out, &out_len), LC_ERR_INVALID);
        assert_null(out);
        assert_int_equal(out_len, 0);
    }
    {
        uint8_t *out = NULL;
        size_t out_len = 0;

        assert_int_equal(lc_base64_decode(NULL, &out, &out_len), LC_ERR_INVALID);
        assert_int_equal(lc_base64_decode("Zg==", NULL, &out_len), LC_ERR_INVALID);
        assert_null(lc_base64_encode(NULL, 1));
    }
}

static void crypto_hex_round_trip(void **state)
{
    static const uint8_t data[] = {0x00, 0x01, 0x7f, 0x80, 0xab, 0xcd, 0xef, 0xff};
    char text[2 * sizeof(data) + 1];
    uint8_t back[sizeof(data)];
    (void)state;

    lc_hex_encode(data, sizeof(data), text);
    assert_string_equal(text, "00017f80abcdefff");
    assert_int_equal(lc_hex_decode(text, back, sizeof(back)), LC_OK);
    assert_memory_equal(back, data, sizeof(data));
    assert_int_equal(lc_hex_decode("00017F80ABCDEFFF", back, sizeof(back)), LC_OK);
    assert_memory_equal(back, data, sizeof(data));
    lc_hex_encode(data, 0, text);
    assert_string_equal(text, "");
    assert_int_equal(lc_hex_decode("", back, 0), LC_OK);
}

static void crypto_hex_rejects_bad_input(void **state)
{
    uint8_t out[4];
    (void)state;

    assert_int_equal(lc_hex_decode("0011223g", out, 4), LC_ERR_INVALID); /* non-hex */
    assert_int_equal(lc_hex_decode("zz112233", out, 4), LC_ERR_INVALID);
    assert_int_equal(lc_hex_decode("0011 233", out, 4), LC_ERR_INVALID);
    assert_int_equal(lc_hex_decode("0011223", out, 4), LC_ERR_INVALID); /* short */
    assert_int_equal(lc_hex_decode("001122", out, 4), LC_ERR_INVALID);
    assert_int_equal(lc_hex_decode("0011223344", out, 4), LC_ERR_INVALID); /* long */
    assert_int_equal(lc_hex_decode("00112233\n", out, 4), LC_ERR_INVALID);
    assert_int_equal(lc_hex_decode("0x112233", out, 4), LC_ERR_INVALID);
    assert_int_equal(lc_hex_decode(NULL, out, 4), LC_ERR_INVALID);
    assert_int_equal(lc_hex_decode("x", out, 0), LC_ERR_INVALID);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(crypto_sha256_known_vector),
        cmocka_unit_test(crypto_sha256_rejects_null),
        cmocka_unit_test(crypto_sha256_incremental_matches_oneshot),
        cmocka_unit_test(crypto_sha256_million_a),
        cmocka_unit_test(crypto_sha256_destroy_is_idempotent),
        cmocka_unit_test(crypto_hmac_rfc4231_vectors),
        cmocka_unit_test(crypto_hmac_empty_key_and_message),
        cmocka_unit_test(crypto_ct_equal),
        cmocka_unit_test(crypto_random_not_zero_and_differs),
        cmocka_unit_test(crypto_ed25519_sign_verify_round_trip),
        cmocka_unit_test(crypto_ed25519_flipped_bit_fails),
        cmocka_unit_test_setup_teardown(crypto_ed25519_rfc8032_vector, tmpdir_setup,
                                        tmpdir_teardown),
        cmocka_unit_test(crypto_ed25519_verify_rejects_bad_pem),
        cmocka_unit_test_setup_teardown(crypto_ed25519_save_load_round_trip, tmpdir_setup,
                                        tmpdir_teardown),
        cmocka_unit_test_setup_teardown(crypto_ed25519_save_refuses_existing_file, tmpdir_setup,
                                        tmpdir_teardown),
        cmocka_unit_test_setup_teardown(crypto_ed25519_save_into_missing_dir_fails, tmpdir_setup,
                                        tmpdir_teardown),
        cmocka_unit_test_setup_teardown(crypto_ed25519_load_rejects_bad_files, tmpdir_setup,
                                        tmpdir_teardown),
        cmocka_unit_test_setup_teardown(crypto_ed25519_openssl_cli_verifies, tmpdir_setup,
                                        tmpdir_teardown),
        cmocka_unit_test(crypto_aead_round_trip),
        cmocka_unit_test(crypto_aead_tamper_rejected),
        cmocka_unit_test(crypto_aead_empty_plaintext),
        cmocka_unit_test(crypto_aead_rejects_bad_arguments),
        cmocka_unit_test(crypto_base64_rfc4648_vectors),
        cmocka_unit_test(crypto_base64_binary_round_trip),
        cmocka_unit_test(crypto_base64_rejects_invalid),
        cmocka_unit_test(crypto_hex_round_trip),
        cmocka_unit_test(crypto_hex_rejects_bad_input),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
