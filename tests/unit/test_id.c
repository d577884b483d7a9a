/*
 * test_id.c: unit tests for lc_id: UUIDv7 layout and monotonicity (also across
 * threads), the strict canonical text form, derived UUIDv8 ids (checked against
 * the documented SHA-256 construction, since other hosts must derive the same
 * ids), and the spread of lc_id_hash.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lc_crypto.h"
#include "lc_err.h"
#include "lc_id.h"

#define N_SEQUENTIAL 10000
#define N_THREADS 4
#define N_PER_THREAD 5000

/* Version nibble and variant bits of an id. */
static int version_of(const lc_id_t *id)
{
    return id->b[6] >> 4;
}

static int variant_of(const lc_id_t *id)
{
    return id->b[8] >> 6;
}

/* Current Unix time in milliseconds. */
static int64_t now_ms(void)
{
    struct timespec ts;

    assert_int_equal(clock_gettime(CLOCK_REALTIME, &ts), 0);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- UUIDv7 ------------------------------------------------------------- */

static void id_new_sets_version_and_variant(void **state)
{
    lc_id_t id;
    int i;
    (void)state;

    for (i = 0; i < 100; i++) {
        memset(&id, 0, sizeof(id));
        assert_int_equal(lc_id_new(&id), LC_OK);
        assert_int_equal(version_of(&id), 7);
        assert_int_equal(variant_of(&id), 2); /* binary 10 */
        assert_false(lc_id_is_zero(&id));
    }
    assert_int_equal(lc_id_new(NULL), LC_ERR_INVALID);
}

static void id_new_strictly_increasing(void **state)
{
    lc_id_t *ids = calloc(N_SEQUENTIAL, sizeof(*ids));
    int i;
    (void)state;

    assert_non_null(ids);
    for (i = 0; i < N_SEQUENTIAL; i++)
        assert_int_equal(lc_id_new(&ids[i]), LC_OK);
    for (i = 1; i < N_SEQUENTIAL; i++) {
        assert_int_equal(lc_id_cmp(&ids[i - 1], &ids[i]), -1);
        assert_int_equal(lc_id_cmp(&ids[i], &ids[i - 1]), 1);
        assert_true(lc_id_v7_unix_ms(&ids[i - 1]) <= lc_id_v7_unix_ms(&ids[i]));
    }
    free(ids);
}

/* Thread body: fills its slice with ids made in a tight loop. */
static void *make_ids(void *arg)
{
    lc_id_t *ids = arg;
    int i;

    for (i = 0; i < N_PER_THREAD; i++)
        if (lc_id_new(&ids[i]) != LC_OK)
            return arg; /* non-NULL: failure */
    return NULL;
}

/* qsort comparator over lc_id_t. */
static int cmp_ids(const void *a, const void *b)
{
    return lc_id_cmp(a, b);
}

static void id_new_unique_and_increasing_across_threads(void **state)
{
    lc_id_t *ids = calloc(N_THREADS * N_PER_THREAD, sizeof(*ids));
    pthread_t threads[N_THREADS];
    int t, i;
    (void)state;

    assert_non_null(ids);
    for (t = 0; t < N_THREADS; t++)
        assert_int_equal(pthread_create(&threads[t], NULL, make_ids, ids + t * N_PER_THREAD), 0);
    for (t = 0; t < N_THREADS; t++) {
        void *ret = ids;

        assert_int_equal(pthread_join(threads[t], &ret), 0);
        assert_null(ret);
    }
    /* Each thread sees its own ids increase... */
    for (t = 0; t < N_THREADS; t++)
        for (i = 1; i < N_PER_THREAD; i++)
            assert_int_equal(lc_id_cmp(&ids[t * N_PER_THREAD + i - 1], &ids[t * N_PER_THREAD + i]),
                             -1);
    /* ...and no id is handed out twice. */
    qsort(ids, N_THREADS * N_PER_THREAD, sizeof(*ids), cmp_ids);
    for (i = 1; i < N_THREADS * N_PER_THREAD; i++)
        assert_int_equal(lc_id_cmp(&ids[i - 1], &ids[i]), -1);
    free(ids);
}

static void id_v7_unix_ms_is_now(void **state)
{
    lc_id_t id;
    int64_t before, after, ms;
    (void)state;

    before = now_ms();
    assert_int_equal(lc_id_new(&id), LC_OK);
    after = now_ms();
    ms = lc_id_v7_unix_ms(&id);
    assert_true(ms >= before - 1000);
    assert_true(ms <= after + 1000);
}

static void id_v7_unix_ms_zero_for_other_versions(void **state)
{
    lc_id_t id;
    (void)state;

    assert_int_equal(lc_id_parse("01890a5d-ac96-774b-bcce-b302099a8057", &id), LC_OK);
    assert_int_equal(lc_id_v7_unix_ms(&id), 0x01890a5dac96);
    /* Same bytes with version 4, then with a wrong variant. */
    assert_int_equal(lc_id_parse("01890a5d-ac96-474b-bcce-b302099a8057", &id), LC_OK);
    assert_int_equal(lc_id_v7_unix_ms(&id), 0);
    assert_int_equal(lc_id_parse("01890a5d-ac96-774b-ccce-b302099a8057", &id), LC_OK);
    assert_int_equal(lc_id_v7_unix_ms(&id), 0);
    lc_id_derive(&id, "x", &id);
    assert_int_equal(lc_id_v7_unix_ms(&id), 0);
    assert_int_equal(lc_id_v7_unix_ms(NULL), 0);
}

/* ---- text form ---------------------------------------------------------------- */

static void id_format_parse_round_trip(void **state)
{
    static const char text[] = "0190163d-8694-739b-aea5-966c26f8ad91";
    static const uint8_t bytes[16] = {0x01, 0x90, 0x16, 0x3d, 0x86, 0x94, 0x73, 0x9b,
                                      0xae, 0xa5, 0x96, 0x6c, 0x26, 0xf8, 0xad, 0x91};
    char out[LC_ID_STRLEN + 1];
    lc_id_t id, back;
    int i;
    (void)state;

    assert_int_equal(lc_id_parse(text, &id), LC_OK);
    assert_memory_equal(id.b, bytes, 16);
    memset(out, 'x', sizeof(out));
    lc_id_format(&id, out);
    assert_string_equal(out, text);

    for (i = 0; i < 100; i++) {
        assert_int_equal(lc_id_new(&id), LC_OK);
        lc_id_format(&id, out);
        assert_int_equal(strlen(out), LC_ID_STRLEN);
        assert_int_equal(lc_id_parse(out, &back), LC_OK);
        assert_true(lc_id_eq(&id, &back));
    }
}

static void id_parse_accepts_uppercase_formats_lowercase(void **state)
{
    char out[LC_ID_STRLEN + 1];
    lc_id_t id;
    (void)state;

    assert_int_equal(lc_id_parse("0190163D-8694-739B-AEA5-966C26F8AD91", &id), LC_OK);
    lc_id_format(&id, out);
    assert_string_equal(out, "0190163d-8694-739b-aea5-966c26f8ad91");
}

/* Asserts that text does not parse and that *out is left as it was. */
static void assert_parse_fails(const char *text)
{
    lc_id_t id, before;

    memset(&id, 0xA5, sizeof(id));
    before = id;
    assert_int_equal(lc_id_parse(text, &id), LC_ERR_INVALID);
    assert_memory_equal(&id, &before, sizeof(id));
}

static void id_parse_rejects_wrong_length(void **state)
{
    (void)state;

    assert_parse_fails("");
    assert_parse_fails("0190163d-8694-739b-aea5-966c26f8ad9");    /* 35 */
    assert_parse_fails("0190163d-8694-739b-aea5-966c26f8ad911");  /* 37 */
    assert_parse_fails("0190163d8694739baea5966c26f8ad91");       /* no dashes */
    assert_parse_fails("{0190163d-8694-739b-aea5-966c26f8ad91}"); /* braces */
    assert_parse_fails(NULL);
    assert_int_equal(lc_id_parse("0190163d-8694-739b-aea5-966c26f8ad91", NULL), LC_ERR_INVALID);
}

static void id_parse_rejects_bad_dash(void **state)
{
    static const char good[] = "0190163d-8694-739b-aea5-966c26f8ad91";
    char text[sizeof(good)];
    int pos;
    (void)state;

    for (pos = 0; pos < LC_ID_STRLEN; pos++) {
        memcpy(text, good, sizeof(good));
        if (good[pos] == '-') {
            text[pos] = '0'; /* a dash missing */
            assert_parse_fails(text);
            text[pos] = '_';
            assert_parse_fails(text);
        } else {
            text[pos] = '-'; /* a dash where a digit belongs */
            assert_parse_fails(text);
        }
    }
    /* Dashes shifted by one place. */
    assert_parse_fails("0190163-d8694-739b-aea5-966c26f8ad91");
}

static void id_parse_rejects_non_hex(void **state)
{
    static const char good[] = "0190163d-8694-739b-aea5-966c26f8ad91";
    static const char bad_chars[] = "gGzZ x+:/@`\x7f\xff";
    char text[sizeof(good)];
    size_t pos, c;
    (void)state;

    for (pos = 0; pos < LC_ID_STRLEN; pos++) {
        if (good[pos] == '-')
            continue;
        for (c = 0; c < sizeof(bad_chars) - 1; c++) {
            memcpy(text, good, sizeof(good));
            text[pos] = bad_chars[c];
            assert_parse_fails(text);
        }
    }
}

static void id_parse_rejects_trailing_characters(void **state)
{
    (void)state;

    assert_parse_fails("0190163d-8694-739b-aea5-966c26f8ad91 ");
    assert_parse_fails("0190163d-8694-739b-aea5-966c26f8ad91\n");
    assert_parse_fails("0190163d-8694-739b-aea5-966c26f8ad91-");
    assert_parse_fails("0190163d-8694-739b-aea5-966c26f8ad91x0190163d");
    assert_parse_fails(" 0190163d-8694-739b-aea5-966c26f8ad91");
}

static void id_parse_reads_at_most_37_bytes(void **state)
{
    static const char good[] = "0190163d-8694-739b-aea5-966c26f8ad91";
    /* Exactly 37 bytes and no NUL: reading text[37] would be a heap overflow,
     * which the ASan build of this test catches. */
    char *text = malloc(LC_ID_STRLEN + 1);
    lc_id_t id;
    (void)state;

    assert_non_null(text);
    memcpy(text, good, LC_ID_STRLEN);
    text[LC_ID_STRLEN] = 'f';
    assert_int_equal(lc_id_parse(text, &id), LC_ERR_INVALID);
    text[LC_ID_STRLEN] = '\0';
    assert_int_equal(lc_id_parse(text, &id), LC_OK);
    free(text);
}

/* ---- derived ids ---------------------------------------------------------------- */

/* The derivation as documented in lc_id.h: SHA-256 of the given bytes, first 16
 * bytes, version 8, variant 10. */
static void expected_v8(const void *data, size_t len, lc_id_t *out)
{
    uint8_t d[LC_SHA256_LEN];

    assert_int_equal(lc_sha256(data, len, d), LC_OK);
    memcpy(out->b, d, 16);
    out->b[6] = (uint8_t)((out->b[6] & 0x0F) | 0x80);
    out->b[8] = (uint8_t)((out->b[8] & 0x3F) | 0x80);
}

static void id_derive_deterministic_version_8(void **state)
{
    lc_id_t parent, a, b, want;
    uint8_t buf[16 + 6];
    (void)state;

    assert_int_equal(lc_id_parse("0190163d-8694-739b-aea5-966c26f8ad91", &parent), LC_OK);
    lc_id_derive(&parent, "debit", &a);
    lc_id_derive(&parent, "debit", &b);
    assert_true(lc_id_eq(&a, &b));
    assert_int_equal(version_of(&a), 8);
    assert_int_equal(variant_of(&a), 2);
    /* It is exactly SHA-256(parent bytes || label), truncated and stamped. */
    memcpy(buf, parent.b, 16);
    memcpy(buf + 16, "debit", 5);
    expected_v8(buf, 16 + 5, &want);
    assert_true(lc_id_eq(&a, &want));
    /* An empty label is allowed and NULL means the same. */
    lc_id_derive(&parent, "", &a);
    lc_id_derive(&parent, NULL, &b);
    assert_true(lc_id_eq(&a, &b));
    expected_v8(parent.b, 16, &want);
    assert_true(lc_id_eq(&a, &want));
}

static void id_derive_label_and_parent_sensitive(void **state)
{
    lc_id_t p1, p2, a, b;
    (void)state;

    assert_int_equal(lc_id_parse("0190163d-8694-739b-aea5-966c26f8ad91", &p1), LC_OK);
    p2 = p1;
    p2.b[15] ^= 0x01;
    lc_id_derive(&p1, "debit", &a);
    lc_id_derive(&p1, "credit", &b);
    assert_false(lc_id_eq(&a, &b));
    lc_id_derive(&p1, "debit2", &b);
    assert_false(lc_id_eq(&a, &b));
    lc_id_derive(&p2, "debit", &b);
    assert_false(lc_id_eq(&a, &b));
    assert_false(lc_id_eq(&a, &p1));
}

static void id_derive_bytes_deterministic_and_unambiguous(void **state)
{
    static const char key[] = "partner-7:idem-key-abc";
    lc_id_t a, b, want;
    uint8_t buf[4 + sizeof(key) - 1 + 6];
    size_t len = sizeof(key) - 1;
    (void)state;

    lc_id_derive_bytes(key, len, "redeem", &a);
    lc_id_derive_bytes(key, len, "redeem", &b);
    assert_true(lc_id_eq(&a, &b));
    assert_int_equal(version_of(&a), 8);
    assert_int_equal(variant_of(&a), 2);
    /* SHA-256(be32(len) || parent || label). */
    buf[0] = 0;
    buf[1] = 0;
    buf[2] = 0;
    buf[3] = (uint8_t)len;
    memcpy(buf + 4, key, len);
    memcpy(buf + 4 + len, "redeem", 6);
    expected_v8(buf, sizeof(buf), &want);
    assert_true(lc_id_eq(&a, &want));
    /* The boundary between parent and label matters. */
    lc_id_derive_bytes("ab", 2, "c", &a);
    lc_id_derive_bytes("a", 1, "bc", &b);
    assert_false(lc_id_eq(&a, &b));
    lc_id_derive_bytes("", 0, "abc", &b);
    assert_false(lc_id_eq(&a, &b));
    lc_id_derive_bytes(NULL, 0, "abc", &a);
    assert_true(lc_id_eq(&a, &b));
    /* Parent and label sensitive. */
    lc_id_derive_bytes(key, len - 1, "redeem", &a);
    lc_id_derive_bytes(key, len, "redeem", &b);
    assert_false(lc_id_eq(&a, &b));
    lc_id_derive_bytes(key, len, "refund", &a);
    assert_false(lc_id_eq(&a, &b));
    /* Not the same as deriving from an lc_id_t with those 16 bytes. */
    {
        lc_id_t parent;

        assert_int_equal(lc_id_parse("0190163d-8694-739b-aea5-966c26f8ad91", &parent), LC_OK);
        lc_id_derive(&parent, "x", &a);
        lc_id_derive_bytes(parent.b, 16, "x", &b);
        assert_false(lc_id_eq(&a, &b));
    }
    /* NULL parent with a length is refused: the nil id. */
    lc_id_derive_bytes(NULL, 3, "x", &a);
    assert_true(lc_id_is_zero(&a));
}

/* ---- comparison and hashing --------------------------------------------------------- */

static void id_is_zero_eq_cmp(void **state)
{
    lc_id_t zero, a, b;
    (void)state;

    memset(&zero, 0, sizeof(zero));
    assert_true(lc_id_is_zero(&zero));
    assert_int_equal(lc_id_parse("00000000-0000-0000-0000-000000000001", &a), LC_OK);
    assert_int_equal(lc_id_parse("01000000-0000-0000-0000-000000000000", &b), LC_OK);
    assert_false(lc_id_is_zero(&a));
    assert_false(lc_id_eq(&a, &b));
    assert_true(lc_id_eq(&a, &a));
    /* Byte order: the first byte dominates. */
    assert_int_equal(lc_id_cmp(&a, &b), -1);
    assert_int_equal(lc_id_cmp(&b, &a), 1);
    assert_int_equal(lc_id_cmp(&a, &a), 0);
    assert_int_equal(lc_id_cmp(&zero, &a), -1);
    assert_int_equal(lc_id_cmp(NULL, &a), -1);
    assert_int_equal(lc_id_cmp(&a, NULL), 1);
    assert_false(lc_id_eq(&a, NULL));
}

static void id_hash_differs_in_last_byte(void **state)
{
    lc_id_t a, b;
    (void)state;

    assert_int_equal(lc_id_new(&a), LC_OK);
    b = a;
    b.b[15] ^= 0x01;
    assert_true(lc_id_hash(&a) != lc_id_hash(&b));
    b = a;
    b.b[0] ^= 0x80;
    assert_true(lc_id_hash(&a) != lc_id_hash(&b));
    b = a;
    assert_true(lc_id_hash(&a) == lc_id_hash(&b));
}

static void id_hash_spreads_shared_prefix(void **state)
{
    /* 1024 ids that share a timestamp prefix and differ only in the last 10 bits
     * (the worst case for a hash of the first half): they must fill all 64 buckets
     * of both the low and the high 6 bits of the hash. Deterministic inputs, so
     * this either always passes or always fails. */
    unsigned low[64] = {0}, high[64] = {0};
    lc_id_t id;
    int i;
    (void)state;

    assert_int_equal(lc_id_parse("0190163d-8694-739b-aea5-966c26f80000", &id), LC_OK);
    for (i = 0; i < 1024; i++) {
        uint64_t h;

        id.b[14] = (uint8_t)(i >> 8);
        id.b[15] = (uint8_t)i;
        h = lc_id_hash(&id);
        low[h & 63]++;
        high[h >> 58]++;
    }
    for (i = 0; i < 64; i++) {
        assert_true(low[i] > 0);
        assert_true(high[i] > 0);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(id_new_sets_version_and_variant),
        cmocka_unit_test(id_new_strictly_increasing),
        cmocka_unit_test(id_new_unique_and_increasing_across_threads),
        cmocka_unit_test(id_v7_unix_ms_is_now),
        cmocka_unit_test(id_v7_unix_ms_zero_for_other_versions),
        cmocka_unit_test(id_format_parse_round_trip),
        cmocka_unit_test(id_parse_accepts_uppercase_formats_lowercase),
        cmocka_unit_test(id_parse_rejects_wrong_length),
        cmocka_unit_test(id_parse_rejects_bad_dash),
        cmocka_unit_test(id_parse_rejects_non_hex),
        cmocka_unit_test(id_parse_rejects_trailing_characters),
        cmocka_unit_test(id_parse_reads_at_most_37_bytes),
        cmocka_unit_test(id_derive_deterministic_version_8),
        cmocka_unit_test(id_derive_label_and_parent_sensitive),
        cmocka_unit_test(id_derive_bytes_deterministic_and_unambiguous),
        cmocka_unit_test(id_is_zero_eq_cmp),
        cmocka_unit_test(id_hash_differs_in_last_byte),
        cmocka_unit_test(id_hash_spreads_shared_prefix),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
