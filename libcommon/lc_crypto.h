/*
 * lc_crypto.h: the cryptography the services need, over OpenSSL 3.
 *
 * Only this module includes OpenSSL headers. All functions return 0 on success or
 * a negative LC_ERR_* value; none aborts on bad input. Key material passed in is
 * borrowed; buffers returned as char * or uint8_t * are the caller's to free().
 */
#ifndef LC_CRYPTO_H
#define LC_CRYPTO_H

#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>

#define LC_SHA256_LEN 32
#define LC_ED25519_SIG_LEN 64
#define LC_AEAD_KEY_LEN 32   /* AES-256 */
#define LC_AEAD_NONCE_LEN 12 /* GCM standard nonce */
#define LC_AEAD_TAG_LEN 16
#define LC_AEAD_OVERHEAD (LC_AEAD_NONCE_LEN + LC_AEAD_TAG_LEN)

/* ---- hashing ---------------------------------------------------------- */

int lc_sha256(const void *data, size_t len, uint8_t out[LC_SHA256_LEN]);

/* Incremental SHA-256: new, update any number of times, final (which also
 * frees). destroy is for abandoning a context without final; idempotent. */
typedef struct lc_sha256_ctx lc_sha256_ctx_t;
lc_sha256_ctx_t *lc_sha256_new(void);
int lc_sha256_update(lc_sha256_ctx_t *ctx, const void *data, size_t len);
int lc_sha256_final(lc_sha256_ctx_t **ctx_p, uint8_t out[LC_SHA256_LEN]);
void lc_sha256_destroy(lc_sha256_ctx_t **ctx_p);

int lc_hmac_sha256(const void *key, size_t key_len, const void *data, size_t len,
                   uint8_t out[LC_SHA256_LEN]);

/* Constant-time comparison: true when the len bytes at a and b are equal. */
bool lc_ct_equal(const void *a, const void *b, size_t len);

/* Fills buf with len cryptographically secure random bytes. */
int lc_random_bytes(void *buf, size_t len);

/* Overwrites len bytes of secret material in a way the compiler keeps. */
void lc_secure_zero(void *buf, size_t len);

/* ---- Ed25519 ------------------------------------------------------------ */

typedef struct lc_ed25519 lc_ed25519_t;

/* Generates a new key pair. NULL on failure. */
lc_ed25519_t *lc_ed25519_generate(void);
/* Loads a private key from a PEM file (PKCS#8). NULL when missing or invalid. */
lc_ed25519_t *lc_ed25519_load_private(const char *path);
/* Writes the private key as PEM to path with mode 0600 (created exclusively:
 * fails with LC_ERR_CONFLICT if the file exists). */
int lc_ed25519_save_private(const lc_ed25519_t *key, const char *path);
/* Returns the public key as a PEM string (SubjectPublicKeyInfo), caller frees. */
char *lc_ed25519_public_pem(const lc_ed25519_t *key);
int lc_ed25519_sign(const lc_ed25519_t *key, const void *msg, size_t len,
                    uint8_t sig[LC_ED25519_SIG_LEN]);
/* 0 when sig is a valid signature of msg under the PEM public key,
 * LC_ERR_CRYPTO when not, LC_ERR_INVALID when the PEM does not parse. */
int lc_ed25519_verify(const char *public_pem, const void *msg, size_t len,
                      const uint8_t sig[LC_ED25519_SIG_LEN]);
void lc_ed25519_destroy(lc_ed25519_t **key_p);

/* ---- AES-256-GCM ---------------------------------------------------------- */

/* Encrypts pt under key with a fresh random nonce. *out (caller frees) holds
 * nonce || ciphertext || tag, *out_len = pt_len + LC_AEAD_OVERHEAD.
 * aad (may be NULL when aad_len is 0) is authenticated, not encrypted. */
int lc_aead_seal(const uint8_t key[LC_AEAD_KEY_LEN], const void *aad, size_t aad_len,
                 const void *pt, size_t pt_len, uint8_t **out, size_t *out_len);
/* Reverses lc_aead_seal. LC_ERR_CRYPTO when the key, aad or data do not match
 * (tampering); *out (caller frees) then stays NULL. */
int lc_aead_open(const uint8_t key[LC_AEAD_KEY_LEN], const void *aad, size_t aad_len,
                 const uint8_t *in, size_t in_len, uint8_t **out, size_t *out_len);

/* ---- encodings -------------------------------------------------------------- */

/* Standard base64 with padding; returns a NUL-terminated string, caller frees. */
char *lc_base64_encode(const void *data, size_t len);
/* Decodes standard base64 (padding required, no whitespace). *out caller frees. */
int lc_base64_decode(const char *text, uint8_t **out, size_t *out_len);
/* Lowercase hex of len bytes into out (2*len + 1 bytes). */
void lc_hex_encode(const void *data, size_t len, char *out);
/* Parses exactly 2*len hex digits into out. */
int lc_hex_decode(const char *text, uint8_t *out, size_t len);

#endif
