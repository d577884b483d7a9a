/*
 * lc_id.c: 128-bit ids, new (UUIDv7) and derived (UUIDv8), and their text form.
 *
 * New ids follow RFC 9562 section 5.7 with the "fixed bit-length dedicated counter"
 * of section 6.2 (method 1): 48 bits of Unix milliseconds, the version nibble 7,
 * a 12-bit counter in rand_a, the variant bits 10 and 62 random bits in rand_b.
 * The counter is reseeded randomly (top bit clear, so at least 2048 increments of
 * headroom) whenever the clock moves forward, and incremented when it does not
 * (same millisecond, or the clock stepped back); when it overflows, the stored
 * timestamp is moved 1 ms ahead of the clock. So ids from one process are strictly
 * increasing in memcmp order, which keeps B-tree inserts at the right edge. A mutex
 * guards that state; ids are made a few at a time, so contention does not matter.
 *
 * Derived ids hash their inputs with SHA-256 (lc_crypto) and keep the first 16
 * bytes with the version nibble 8 and variant 10, so the same (parent, label) gives
 * the same id in every process, on every host, forever: never change the layout.
 */
#include "lc_id.h"
#include "lc_crypto.h"
#include "lc_err.h"

#include <pthread.h>
#include <string.h>
#include <time.h>

#define COUNTER_MAX 0x0FFFu             /* 12 bits of rand_a */
#define COUNTER_SEED 0x07FFu            /* mask for a fresh counter: top bit clear, for headroom */
#define TIMESTAMP_MAX 0xFFFFFFFFFFFFull /* 48 bits */

/* Generator state shared by every thread of the process, guarded by s_lock. */
static pthread_mutex_t s_lock = PTHREAD_MUTEX_INITIALIZER;
static uint64_t s_last_ms; /* timestamp of the last id handed out */
static uint16_t s_counter; /* its rand_a counter, 0..COUNTER_MAX */

/* Current Unix time in milliseconds (0 if the clock is unreadable or before 1970,
 * which the monotonic counter then absorbs). */
static uint64_t s_now_ms(void)
{
    struct timespec ts;

    if (clock_gettime(CLOCK_REALTIME, &ts) != 0 || ts.tv_sec < 0)
        return 0;
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* Writes a new UUIDv7. The randomness is drawn before taking the lock, so a
 * failure leaves the generator state untouched. LC_ERR_CRYPTO without randomness. */
int lc_id_new(lc_id_t *out)
{
    uint8_t rnd[10]; /* 8 bytes for rand_b, 2 for a fresh counter seed */
    uint64_t now, ms;
    uint16_t counter;
    int i;

    if (out == NULL)
        return LC_ERR_INVALID;
    if (lc_random_bytes(rnd, sizeof(rnd)) != LC_OK)
        return LC_ERR_CRYPTO;
    now = s_now_ms() & TIMESTAMP_MAX;

    pthread_mutex_lock(&s_lock);
    if (now > s_last_ms) {
        s_last_ms = now;
        s_counter = (uint16_t)(((unsigned)rnd[8] << 8 | rnd[9]) & COUNTER_SEED);
    } else if (s_counter < COUNTER_MAX) {
        s_counter++;
    } else {
        /* Counter exhausted within this millisecond: borrow the next one. */
        s_last_ms = (s_last_ms + 1) & TIMESTAMP_MAX;
        s_counter = (uint16_t)(((unsigned)rnd[8] << 8 | rnd[9]) & COUNTER_SEED);
    }
    ms = s_last_ms;
    counter = s_counter;
    pthread_mutex_unlock(&s_lock);

    for (i = 0; i < 6; i++)
        out->b[i] = (uint8_t)(ms >> (40 - 8 * i));
    out->b[6] = (uint8_t)(0x70 | (counter >> 8));
    out->b[7] = (uint8_t)(counter & 0xFF);
    out->b[8] = (uint8_t)(0x80 | (rnd[0] & 0x3F));
    memcpy(&out->b[9], &rnd[1], 7);
    return LC_OK;
}

/* Writes the canonical lowercase 8-4-4-4-12 text form and a NUL to out. */
void lc_id_format(const lc_id_t *id, char out[LC_ID_STRLEN + 1])
{
    static const char digits[] = "0123456789abcdef";
    int i, pos = 0;

    if (out == NULL)
        return;
    if (id == NULL) {
        out[0] = '\0';
        return;
    }
    for (i = 0; i < 16; i++) {
        if (i == 4 || i == 6 || i == 8 || i == 10)
            out[pos++] = '-';
        out[pos++] = digits[id->b[i] >> 4];
        out[pos++] = digits[id->b[i] & 0x0F];
    }
    out[pos] = '\0';
}

/* Value of hex digit c (either case), or -1. */
static int s_hex_value(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Parses a canonical UUID of exactly 36 characters into *out, which is written
 * only on success. Reads at most text[0..36]: strnlen stops at 37 bytes. */
int lc_id_parse(const char *text, lc_id_t *out)
{
    lc_id_t id;
    int pos = 0, i;

    if (text == NULL || out == NULL)
        return LC_ERR_INVALID;
    if (strnlen(text, LC_ID_STRLEN + 1) != LC_ID_STRLEN)
        return LC_ERR_INVALID;
    for (i = 0; i < 16; i++) {
        int hi, lo;

        if (pos == 8 || pos == 13 || pos == 18 || pos == 23) {
            if (text[pos] != '-')
                return LC_ERR_INVALID;
            pos++;
        }
        hi = s_hex_value(text[pos]);
        lo = s_hex_value(text[pos + 1]);
        if (hi < 0 || lo < 0)
            return LC_ERR_INVALID;
        id.b[i] = (uint8_t)(hi << 4 | lo);
        pos += 2;
    }
    *out = id;
    return LC_OK;
}

/* Turns the first 16 bytes of a SHA-256 digest into a UUIDv8 in *out. */
static void s_digest_to_v8(const uint8_t digest[LC_SHA256_LEN], lc_id_t *out)
{
    memcpy(out->b, digest, sizeof(out->b));
    out->b[6] = (uint8_t)((out->b[6] & 0x0F) | 0x80);
    out->b[8] = (uint8_t)((out->b[8] & 0x3F) | 0x80);
}

/* Writes the UUIDv8 of SHA-256(parent's 16 bytes || label) to *out. The parent's
 * fixed length makes the concatenation unambiguous. NULL parent reads as the nil
 * id and NULL label as "". If hashing fails (OpenSSL out of memory), *out is the
 * nil id, which lc_id_is_zero detects and no derived id can equal. */
void lc_id_derive(const lc_id_t *parent, const char *label, lc_id_t *out)
{
    static const lc_id_t nil;
    uint8_t digest[LC_SHA256_LEN];
    lc_sha256_ctx_t *ctx;

    if (out == NULL)
        return;
    if (parent == NULL)
        parent = &nil;
    if (label == NULL)
        label = "";
    ctx = lc_sha256_new();
    if (ctx == NULL || lc_sha256_update(ctx, parent->b, sizeof(parent->b)) != LC_OK ||
        lc_sha256_update(ctx, label, strlen(label)) != LC_OK ||
        lc_sha256_final(&ctx, digest) != LC_OK) {
        lc_sha256_destroy(&ctx);
        *out = nil;
        return;
    }
    s_digest_to_v8(digest, out);
}

/* Writes the UUIDv8 of SHA-256(be32(len) || parent || label) to *out. The length
 * prefix keeps ("ab", "c") and ("a", "bc") apart. NULL label reads as "". *out is
 * the nil id when hashing fails or len does not fit in 32 bits. */
void lc_id_derive_bytes(const void *parent, size_t len, const char *label, lc_id_t *out)
{
    static const lc_id_t nil;
    uint8_t digest[LC_SHA256_LEN], prefix[4];
    lc_sha256_ctx_t *ctx;

    if (out == NULL)
        return;
    *out = nil;
    if ((parent == NULL && len > 0) || len > UINT32_MAX)
        return;
    if (label == NULL)
        label = "";
    prefix[0] = (uint8_t)(len >> 24);
    prefix[1] = (uint8_t)(len >> 16);
    prefix[2] = (uint8_t)(len >> 8);
    prefix[3] = (uint8_t)len;
    ctx = lc_sha256_new();
    if (ctx == NULL || lc_sha256_update(ctx, prefix, sizeof(prefix)) != LC_OK ||
        lc_sha256_update(ctx, parent, len) != LC_OK ||
        lc_sha256_update(ctx, label, strlen(label)) != LC_OK ||
        lc_sha256_final(&ctx, digest) != LC_OK) {
        lc_sha256_destroy(&ctx);
        return;
    }
    s_digest_to_v8(digest, out);
}

/* True for the nil id (all zero bits); NULL counts as nil. */
bool lc_id_is_zero(const lc_id_t *id)
{
    static const lc_id_t nil;

    return id == NULL || memcmp(id->b, nil.b, sizeof(nil.b)) == 0;
}

/* True when a and b are the same id (two NULLs are equal, NULL and an id are not). */
bool lc_id_eq(const lc_id_t *a, const lc_id_t *b)
{
    if (a == NULL || b == NULL)
        return a == b;
    return memcmp(a->b, b->b, sizeof(a->b)) == 0;
}

/* -1, 0 or 1 as a sorts before, with or after b in byte order (which for UUIDv7 is
 * creation order). NULL sorts first. */
int lc_id_cmp(const lc_id_t *a, const lc_id_t *b)
{
    int c;

    if (a == NULL || b == NULL)
        return (a != NULL) - (b != NULL);
    c = memcmp(a->b, b->b, sizeof(a->b));
    return (c > 0) - (c < 0);
}

/* The splitmix64 finalizer: a bijection on 64 bits with full avalanche. */
static uint64_t s_mix64(uint64_t x)
{
    x ^= x >> 30;
    x *= 0xBF58476D1CE4E5B9ull;
    x ^= x >> 27;
    x *= 0x94D049BB133111EBull;
    x ^= x >> 31;
    return x;
}

/* Reads 8 bytes as a big-endian 64-bit value. */
static uint64_t s_load_be64(const uint8_t *p)
{
    uint64_t v = 0;
    int i;

    for (i = 0; i < 8; i++)
        v = v << 8 | p[i];
    return v;
}

/* A well-mixed 64-bit hash of the id for hash tables. Both halves go through the
 * mixer, so ids that share their timestamp prefix (UUIDv7 from one millisecond)
 * or differ in one bit anywhere still spread over all buckets. For a fixed first
 * half it is injective in the second half. 0 for NULL. */
uint64_t lc_id_hash(const lc_id_t *id)
{
    uint64_t hi, lo;

    if (id == NULL)
        return 0;
    hi = s_load_be64(&id->b[0]);
    lo = s_load_be64(&id->b[8]);
    return s_mix64(s_mix64(hi) ^ (lo + 0x9E3779B97F4A7C15ull));
}

/* The Unix millisecond timestamp of a UUIDv7 (version 7, variant 10); 0 for any
 * other id. */
int64_t lc_id_v7_unix_ms(const lc_id_t *id)
{
    uint64_t ms = 0;
    int i;

    if (id == NULL || (id->b[6] >> 4) != 7 || (id->b[8] & 0xC0) != 0x80)
        return 0;
    for (i = 0; i < 6; i++)
        ms = ms << 8 | id->b[i];
    return (int64_t)ms;
}
