/*
 * test_chain.c: unit tests for ld_chain, the journal's hash chain: the 143-byte
 * canonical encoding (big-endian fields at the offsets ld_chain.h documents, which
 * other languages re-implement), the hash as SHA-256(prev || encoding) computed
 * independently, and ld_chain_check failing on any changed field or prev hash.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "lc_crypto.h"
#include "lc_err.h"
#include "lc_ledger_msg.h"
#include "ld_chain.h"

/* Offsets of the canonical layout (ld_chain.h). */
enum {
    OFF_SEQ = 0,
    OFF_TYPE = 8,
    OFF_ID = 9,
    OFF_DEBIT = 25,
    OFF_CREDIT = 41,
    OFF_AMOUNT = 57,
    OFF_PENDING = 65,
    OFF_REVERSES = 81,
    OFF_FLAGS = 97,
    OFF_CODE = 101,
    OFF_KIND = 105,
    OFF_USER_DATA = 107,
    OFF_TIMEOUT = 123,
    OFF_EXPIRES_AT = 127,
    OFF_TIMESTAMP = 135,
};

/* An id whose last eight bytes hold n (big-endian), the rest zero. */
static lc_id_t id(uint64_t n)
{
    lc_id_t x;
    memset(&x, 0, sizeof x);
    for (int i = 0; i < 8; i++)
        x.b[15 - i] = (uint8_t)(n >> (8 * i));
    return x;
}

/* Reads n bytes big-endian from p. */
static uint64_t be(const uint8_t *p, int n)
{
    uint64_t v = 0;
    for (int i = 0; i < n; i++)
        v = (v << 8) | p[i];
    return v;
}

/* A transfer entry with every field set to a distinct value. */
static ld_entry_t sample(void)
{
    ld_entry_t e;
    memset(&e, 0, sizeof e);
    e.seq = INT64_C(0x0102030405060708);
    e.type = LD_ENTRY_TRANSFER;
    e.id = id(0x1111);
    e.debit_account_id = id(0x2222);
    e.credit_account_id = id(0x3333);
    e.amount = INT64_C(0x00000A0B0C0D0E0F);
    e.pending_id = id(0x4444);
    e.reverses = id(0x5555);
    e.flags = LD_TF_LINKED | LD_TF_PENDING;
    e.code = 0xC0DE1234u;
    e.kind = 0x0102;
    e.user_data = id(0x6666);
    e.timeout = 0x00015180u;
    e.expires_at = INT64_C(1735689600000000);
    e.timestamp = INT64_C(1700000000123456);
    return e;
}

static void chain_encode_is_143_bytes_big_endian(void **state)
{
    (void)state;
    ld_entry_t e = sample();
    uint8_t buf[LD_CANONICAL_LEN + 8];
    memset(buf, 0xAA, sizeof buf);

    ld_chain_encode(&e, buf);

    assert_int_equal(LD_CANONICAL_LEN, 143);
    /* Nothing written past the 143 bytes. */
    for (size_t i = LD_CANONICAL_LEN; i < sizeof buf; i++)
        assert_int_equal(buf[i], 0xAA);
    const uint8_t seq_be[8] = {1, 2, 3, 4, 5, 6, 7, 8};
    assert_memory_equal(buf + OFF_SEQ, seq_be, 8);
    assert_int_equal(buf[OFF_TYPE], LD_ENTRY_TRANSFER);
    assert_memory_equal(buf + OFF_ID, e.id.b, 16);
    assert_memory_equal(buf + OFF_DEBIT, e.debit_account_id.b, 16);
    assert_memory_equal(buf + OFF_CREDIT, e.credit_account_id.b, 16);
    const uint8_t amount_be[8] = {0, 0, 0x0A, 0x0B, 0x0C, 0x0D, 0x0E, 0x0F};
    assert_memory_equal(buf + OFF_AMOUNT, amount_be, 8);
    assert_memory_equal(buf + OFF_PENDING, e.pending_id.b, 16);
    assert_memory_equal(buf + OFF_REVERSES, e.reverses.b, 16);
    assert_int_equal(be(buf + OFF_FLAGS, 4), LD_TF_LINKED | LD_TF_PENDING);
    assert_int_equal(be(buf + OFF_CODE, 4), 0xC0DE1234u);
    assert_int_equal(buf[OFF_KIND], 0x01);
    assert_int_equal(buf[OFF_KIND + 1], 0x02);
    assert_memory_equal(buf + OFF_USER_DATA, e.user_data.b, 16);
    assert_int_equal(be(buf + OFF_TIMEOUT, 4), 0x00015180u);
    assert_int_equal(be(buf + OFF_EXPIRES_AT, 8), (uint64_t)e.expires_at);
    assert_int_equal(be(buf + OFF_TIMESTAMP, 8), (uint64_t)e.timestamp);
}

static void chain_encode_absent_ids_are_zero(void **state)
{
    (void)state;
    ld_entry_t e;
    memset(&e, 0, sizeof e);
    e.seq = 7;
    e.type = LD_ENTRY_ACCOUNT;
    e.id = id(42);
    e.kind = LD_KIND_MEMBER;
    uint8_t buf[LD_CANONICAL_LEN];

    ld_chain_encode(&e, buf);

    static const uint8_t zero[16];
    assert_int_equal(be(buf + OFF_SEQ, 8), 7);
    assert_memory_equal(buf + OFF_DEBIT, zero, 16);
    assert_memory_equal(buf + OFF_PENDING, zero, 16);
    assert_int_equal(be(buf + OFF_KIND, 2), LD_KIND_MEMBER);
    assert_int_equal(buf[OFF_ID + 15], 42);
}

static void chain_encode_negative_values_twos_complement(void **state)
{
    (void)state;
    ld_entry_t e = sample();
    e.amount = -1;
    e.expires_at = -2;
    uint8_t buf[LD_CANONICAL_LEN];

    ld_chain_encode(&e, buf);

    assert_int_equal(be(buf + OFF_AMOUNT, 8), UINT64_MAX);
    assert_int_equal(be(buf + OFF_EXPIRES_AT, 8), UINT64_MAX - 1);
}

static void chain_hash_is_sha256_of_prev_and_encoding(void **state)
{
    (void)state;
    ld_entry_t e = sample();
    uint8_t prev[32];
    for (int i = 0; i < 32; i++)
        prev[i] = (uint8_t)(0x80 + i);

    assert_int_equal(ld_chain_seal(&e, prev), LC_OK);

    uint8_t buf[32 + LD_CANONICAL_LEN], want[32];
    memcpy(buf, prev, 32);
    ld_chain_encode(&e, buf + 32);
    assert_int_equal(lc_sha256(buf, sizeof buf, want), LC_OK);
    assert_memory_equal(e.hash, want, 32);
    assert_memory_equal(e.prev_hash, prev, 32);
    assert_int_equal(ld_chain_check(&e, prev), LC_OK);
}

/* The first entry chains from 32 zero bytes; hashing is deterministic. */
static void chain_first_entry_from_zero_prev(void **state)
{
    (void)state;
    static const uint8_t zero[32];
    ld_entry_t a = sample(), b = sample();

    assert_int_equal(ld_chain_seal(&a, zero), LC_OK);
    assert_int_equal(ld_chain_seal(&b, zero), LC_OK);

    assert_memory_equal(a.hash, b.hash, 32);
    assert_memory_equal(a.prev_hash, zero, 32);
    assert_memory_not_equal(a.hash, zero, 32);
}

static void chain_check_fails_on_changed_field(void **state)
{
    (void)state;
    static const uint8_t zero[32];
    ld_entry_t sealed = sample();
    assert_int_equal(ld_chain_seal(&sealed, zero), LC_OK);
    assert_int_equal(ld_chain_check(&sealed, zero), LC_OK);

    ld_entry_t e;
    e = sealed, e.amount += 1;
    assert_int_not_equal(ld_chain_check(&e, zero), LC_OK);
    e = sealed, e.flags ^= LD_TF_LINKED;
    assert_int_not_equal(ld_chain_check(&e, zero), LC_OK);
    e = sealed, e.id.b[3] ^= 0x01;
    assert_int_not_equal(ld_chain_check(&e, zero), LC_OK);
    e = sealed, e.timestamp += 1;
    assert_int_not_equal(ld_chain_check(&e, zero), LC_OK);
    e = sealed, e.seq += 1;
    assert_int_not_equal(ld_chain_check(&e, zero), LC_OK);
    e = sealed, e.credit_account_id.b[15] ^= 0x80;
    assert_int_not_equal(ld_chain_check(&e, zero), LC_OK);
    e = sealed, e.user_data.b[0] ^= 0x01;
    assert_int_not_equal(ld_chain_check(&e, zero), LC_OK);
    e = sealed, e.kind += 1;
    assert_int_not_equal(ld_chain_check(&e, zero), LC_OK);
    e = sealed, e.expires_at -= 1;
    assert_int_not_equal(ld_chain_check(&e, zero), LC_OK);
    e = sealed, e.hash[31] ^= 0x01;
    assert_int_not_equal(ld_chain_check(&e, zero), LC_OK);
    /* Untouched copy still passes. */
    e = sealed;
    assert_int_equal(ld_chain_check(&e, zero), LC_OK);
}

static void chain_check_fails_on_other_prev(void **state)
{
    (void)state;
    static const uint8_t zero[32];
    uint8_t other[32];
    memset(other, 0, sizeof other);
    other[0] = 1;
    ld_entry_t e = sample();
    assert_int_equal(ld_chain_seal(&e, zero), LC_OK);

    /* Checked against a different prev. */
    assert_int_not_equal(ld_chain_check(&e, other), LC_OK);
    /* Stored prev_hash altered while the hash still matches the real prev. */
    ld_entry_t f = e;
    f.prev_hash[5] ^= 0x10;
    assert_int_not_equal(ld_chain_check(&f, zero), LC_OK);
    assert_int_equal(ld_chain_check(&e, zero), LC_OK);
}

static void chain_different_prev_different_hash(void **state)
{
    (void)state;
    uint8_t p1[32], p2[32];
    memset(p1, 0x11, sizeof p1);
    memcpy(p2, p1, sizeof p2);
    p2[31] = 0x12;
    ld_entry_t a = sample(), b = sample();

    assert_int_equal(ld_chain_seal(&a, p1), LC_OK);
    assert_int_equal(ld_chain_seal(&b, p2), LC_OK);

    assert_memory_not_equal(a.hash, b.hash, 32);
}

/* A chain of three: each entry checks against its predecessor's hash, and a change
 * to the middle one breaks its own check. */
static void chain_three_entries_link(void **state)
{
    (void)state;
    static const uint8_t zero[32];
    ld_entry_t e[3];
    const uint8_t *prev = zero;
    for (int i = 0; i < 3; i++) {
        e[i] = sample();
        e[i].seq = i + 1;
        assert_int_equal(ld_chain_seal(&e[i], prev), LC_OK);
        prev = e[i].hash;
    }
    assert_int_equal(ld_chain_check(&e[0], zero), LC_OK);
    assert_int_equal(ld_chain_check(&e[1], e[0].hash), LC_OK);
    assert_int_equal(ld_chain_check(&e[2], e[1].hash), LC_OK);
    assert_int_not_equal(ld_chain_check(&e[2], e[0].hash), LC_OK);

    e[1].amount = 1;
    assert_int_not_equal(ld_chain_check(&e[1], e[0].hash), LC_OK);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(chain_encode_is_143_bytes_big_endian),
        cmocka_unit_test(chain_encode_absent_ids_are_zero),
        cmocka_unit_test(chain_encode_negative_values_twos_complement),
        cmocka_unit_test(chain_hash_is_sha256_of_prev_and_encoding),
        cmocka_unit_test(chain_first_entry_from_zero_prev),
        cmocka_unit_test(chain_check_fails_on_changed_field),
        cmocka_unit_test(chain_check_fails_on_other_prev),
        cmocka_unit_test(chain_different_prev_different_hash),
        cmocka_unit_test(chain_three_entries_link),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
