/*
 * lc_id.h: 128-bit identifiers.
 *
 * Every account, transfer, member, partner and request id is 128 bits, written as
 * a UUID in canonical text form (8-4-4-4-12 lowercase hex). New ids are UUIDv7
 * (RFC 9562): a 48-bit Unix millisecond timestamp, then random bits, so ids sort
 * roughly by creation time, which keeps B-tree inserts local. Ids generated in one
 * process within the same millisecond are strictly increasing (monotonic counter).
 *
 * Derived ids (lc_id_derive) are deterministic: the same parent and label always
 * give the same id. Services use them to turn one client idempotency key into the
 * ids of every ledger transfer it causes, so a retry at any hop cannot post twice.
 * They are UUIDv8 (version nibble 8) built from SHA-256(parent || label).
 */
#ifndef LC_ID_H
#define LC_ID_H

#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>

#define LC_ID_STRLEN 36 /* without the terminating NUL */

typedef struct lc_id {
    uint8_t b[16]; /* big-endian, as in the UUID text form */
} lc_id_t;

/* Writes a new UUIDv7 to *out. Returns 0 or LC_ERR_CRYPTO if no randomness. */
int lc_id_new(lc_id_t *out);

/* Writes the canonical text form (36 chars + NUL) to out. */
void lc_id_format(const lc_id_t *id, char out[LC_ID_STRLEN + 1]);

/* Parses a canonical UUID (either case) into *out. Returns 0 or LC_ERR_INVALID
 * (wrong length, misplaced dashes, non-hex digits). Does not read past text[36]. */
int lc_id_parse(const char *text, lc_id_t *out);

/* Writes the deterministic id of (parent, label) to *out (see above). */
void lc_id_derive(const lc_id_t *parent, const char *label, lc_id_t *out);

/* Same as lc_id_derive with an arbitrary byte string as parent (e.g. an
 * idempotency key scoped by its owner). */
void lc_id_derive_bytes(const void *parent, size_t len, const char *label, lc_id_t *out);

bool lc_id_is_zero(const lc_id_t *id);
bool lc_id_eq(const lc_id_t *a, const lc_id_t *b);
int lc_id_cmp(const lc_id_t *a, const lc_id_t *b); /* memcmp order */
uint64_t lc_id_hash(const lc_id_t *id);            /* well-mixed, for hash tables */

/* Milliseconds since the Unix epoch stored in a UUIDv7 (0 for other versions). */
int64_t lc_id_v7_unix_ms(const lc_id_t *id);

#endif
