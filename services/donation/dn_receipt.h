/*
 * dn_receipt.h: signed donation receipts (API.md "Member app").
 *
 * A receipt is {key_id, payload, signature}: payload is the base64 of the exact
 * signed bytes, the compact JSON encoding of dn_receipt_payload_t by the codec
 * (field order fixed by its table), and signature the base64 Ed25519 signature of
 * those bytes. Anyone verifies it offline with the public key of GET
 * /v1/keys/receipts:
 *   openssl pkeyutl -verify -pubin -inkey key.pem -rawin -in payload.bin -sigfile sig.bin
 * The signed bytes are stored with the donation and served as stored, never
 * re-encoded, so a receipt stays valid whatever the code later does.
 *
 * The keys live in the secrets directory (donation.secrets_dir): receipt-<key_id>.pem
 * (PKCS#8, mode 0600, created exclusively) per key, and receipt-current naming the
 * signing key. The first start generates one; a rotation (donation
 * --rotate-receipt-key) adds a key and points receipt-current at it, keeping the old
 * ones so every receipt ever issued stays verifiable. key_id = "rk-" + the first 16
 * hex digits of SHA-256 of the public key PEM.
 */
#ifndef DN_RECEIPT_H
#define DN_RECEIPT_H

#include "lc_crypto.h"
#include "lc_donation_msg.h"

#include <stddef.h>

#define DN_KEYS_LOADED_MAX DN_KEYS_MAX

typedef struct dn_key {
    char key_id[DN_KEY_ID_MAX + 1];
    lc_ed25519_t *key; /* owned */
    char *pem;         /* public key PEM, owned */
} dn_key_t;

typedef struct dn_keyring {
    dn_key_t keys[DN_KEYS_LOADED_MAX]; /* [0] is the signing key */
    size_t n;
} dn_keyring_t;

/* Loads every receipt key of dir, creating dir (0700) and a first key when there is
 * none. Returns 0, or an LC_ERR_* value (logged). */
int dn_keyring_open(dn_keyring_t *kr, const char *dir);
void dn_keyring_close(dn_keyring_t *kr);
/* Generates a new key in dir and makes it the signing key; writes its id to new_id. */
int dn_keyring_rotate(const char *dir, char new_id[DN_KEY_ID_MAX + 1]);

/* The exact bytes signed for p (malloc'd, NUL-terminated; *len without the NUL). */
int dn_receipt_bytes(const dn_receipt_payload_t *p, char **out, size_t *len);
/* Signs p with the ring's signing key: fills r->key_id, payload and signature
 * (malloc'd; r->donation_id = p->donation_id). Clear with dn_receipt_desc. */
int dn_receipt_sign(const dn_keyring_t *kr, const dn_receipt_payload_t *p, dn_receipt_t *r);
/* 0 when r's signature verifies under public_pem; LC_ERR_CRYPTO when not,
 * LC_ERR_INVALID when it does not decode. */
int dn_receipt_verify(const char *public_pem, const dn_receipt_t *r);

/* Fills *out (the GET /v1/keys/receipts answer) from the ring; clear with
 * dn_receipt_keys_desc. */
int dn_keyring_describe(const dn_keyring_t *kr, dn_receipt_keys_t *out);

#endif
