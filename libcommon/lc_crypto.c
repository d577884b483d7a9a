/*
 * lc_crypto.c: hashing, MACs, randomness, Ed25519 signatures, AES-256-GCM and the
 * base64/hex encodings, over OpenSSL 3. This is the only file that includes OpenSSL
 * headers, so the rest of the codebase sees one small API with LC_ERR_* results and
 * no OpenSSL types, and a change of crypto library touches one file. Every failure
 * path clears OpenSSL's thread-local error queue (nothing here logs it, and a stale
 * entry would confuse the next caller that inspects it) and frees what it allocated;
 * secrets in buffers we own are cleansed before they are freed.
 */
#include "lc_crypto.h"
#include "lc_err.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/bio.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/params.h>
#include <openssl/pem.h>
#include <openssl/rand.h>

/* Largest piece handed to an OpenSSL call whose length parameter is an int. A
 * multiple of 3 and of 4 so base64 chunks need no padding between them. */
#define CHUNK_MAX ((size_t)3 * 4 * (1u << 26))

/* Stands in for a NULL data pointer when the length is 0. */
static const uint8_t s_empty[1] = {0};

struct lc_sha256_ctx {
    EVP_MD_CTX *md; /* owned; freed by final or destroy */
};

struct lc_ed25519 {
    EVP_PKEY *pkey; /* owned; an EVP_PKEY_ED25519 key that has its private half */
};

/* Clears OpenSSL's error queue and returns LC_ERR_CRYPTO, for failure paths. */
static int s_crypto_fail(void)
{
    ERR_clear_error();
    return LC_ERR_CRYPTO;
}

/* ---- hashing ---------------------------------------------------------- */

/* Writes SHA-256(data[0..len)) to out. data may be NULL only when len is 0. */
int lc_sha256(const void *data, size_t len, uint8_t out[LC_SHA256_LEN])
{
    unsigned int out_len = 0;

    if ((data == NULL && len > 0) || out == NULL)
        return LC_ERR_INVALID;
    if (data == NULL)
        data = s_empty;
    if (EVP_Digest(data, len, out, &out_len, EVP_sha256(), NULL) != 1 || out_len != LC_SHA256_LEN)
        return s_crypto_fail();
    return LC_OK;
}

/* Starts an incremental SHA-256. NULL when out of memory or OpenSSL refuses. */
lc_sha256_ctx_t *lc_sha256_new(void)
{
    lc_sha256_ctx_t *ctx = calloc(1, sizeof(*ctx));

    if (ctx == NULL)
        return NULL;
    ctx->md = EVP_MD_CTX_new();
    if (ctx->md == NULL || EVP_DigestInit_ex(ctx->md, EVP_sha256(), NULL) != 1) {
        lc_sha256_destroy(&ctx);
        ERR_clear_error();
        return NULL;
    }
    return ctx;
}

/* Feeds len more bytes into ctx. data may be NULL only when len is 0. */
int lc_sha256_update(lc_sha256_ctx_t *ctx, const void *data, size_t len)
{
    if (ctx == NULL || (data == NULL && len > 0))
        return LC_ERR_INVALID;
    if (len == 0)
        return LC_OK;
    if (EVP_DigestUpdate(ctx->md, data, len) != 1)
        return s_crypto_fail();
    return LC_OK;
}

/* Writes the digest to out and frees *ctx_p (setting it to NULL) on every path,
 * so a caller never has to remember whether final succeeded before cleaning up. */
int lc_sha256_final(lc_sha256_ctx_t **ctx_p, uint8_t out[LC_SHA256_LEN])
{
    unsigned int out_len = 0;
    int rc = LC_OK;

    if (ctx_p == NULL || *ctx_p == NULL)
        return LC_ERR_INVALID;
    if (out == NULL)
        rc = LC_ERR_INVALID;
    else if (EVP_DigestFinal_ex((*ctx_p)->md, out, &out_len) != 1 || out_len != LC_SHA256_LEN)
        rc = s_crypto_fail();
    lc_sha256_destroy(ctx_p);
    return rc;
}

/* Frees an abandoned context and sets *ctx_p to NULL; safe to call twice. */
void lc_sha256_destroy(lc_sha256_ctx_t **ctx_p)
{
    if (ctx_p == NULL || *ctx_p == NULL)
        return;
    EVP_MD_CTX_free((*ctx_p)->md);
    free(*ctx_p);
    *ctx_p = NULL;
}

/* Writes HMAC-SHA256(key, data) to out (EVP_MAC, the OpenSSL 3 interface).
 * key may be NULL when key_len is 0, data when len is 0. */
int lc_hmac_sha256(const void *key, size_t key_len, const void *data, size_t len,
                   uint8_t out[LC_SHA256_LEN])
{
    EVP_MAC *mac = NULL;
    EVP_MAC_CTX *ctx = NULL;
    OSSL_PARAM params[2];
    char digest[] = "SHA256";
    size_t out_len = 0;
    int rc = LC_ERR_CRYPTO;

    if ((key == NULL && key_len > 0) || (data == NULL && len > 0) || out == NULL)
        return LC_ERR_INVALID;
    if (key == NULL)
        key = s_empty;
    if (data == NULL)
        data = s_empty;

    params[0] = OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest, 0);
    params[1] = OSSL_PARAM_construct_end();
    mac = EVP_MAC_fetch(NULL, "HMAC", NULL);
    if (mac == NULL)
        goto done;
    ctx = EVP_MAC_CTX_new(mac);
    if (ctx == NULL)
        goto done;
    if (EVP_MAC_init(ctx, key, key_len, params) != 1 || EVP_MAC_update(ctx, data, len) != 1 ||
        EVP_MAC_final(ctx, out, &out_len, LC_SHA256_LEN) != 1 || out_len != LC_SHA256_LEN)
        goto done;
    rc = LC_OK;
done:
    if (rc != LC_OK)
        ERR_clear_error();
    EVP_MAC_CTX_free(ctx);
    EVP_MAC_free(mac);
    return rc;
}

/* True when the len bytes at a and b are equal, in time that depends only on len
 * (for comparing MACs and tokens). NULL with a non-zero len compares unequal. */
void lc_secure_zero(void *buf, size_t len)
{
    OPENSSL_cleanse(buf, len);
}

bool lc_ct_equal(const void *a, const void *b, size_t len)
{
    if (len == 0)
        return true;
    if (a == NULL || b == NULL)
        return false;
    return CRYPTO_memcmp(a, b, len) == 0;
}

/* Fills buf with len bytes from OpenSSL's CSPRNG; LC_ERR_CRYPTO if it is not seeded. */
int lc_random_bytes(void *buf, size_t len)
{
    uint8_t *p = buf;

    if (buf == NULL && len > 0)
        return LC_ERR_INVALID;
    while (len > 0) {
        size_t n = len < CHUNK_MAX ? len : CHUNK_MAX;

        if (RAND_bytes(p, (int)n) != 1)
            return s_crypto_fail();
        p += n;
        len -= n;
    }
    return LC_OK;
}

/* ---- Ed25519 ------------------------------------------------------------ */

/* Wraps pkey (taking ownership) in a new lc_ed25519_t; frees pkey on failure. */
static lc_ed25519_t *s_ed25519_wrap(EVP_PKEY *pkey)
{
    lc_ed25519_t *key;

    if (pkey == NULL)
        return NULL;
    key = calloc(1, sizeof(*key));
    if (key == NULL) {
        EVP_PKEY_free(pkey);
        return NULL;
    }
    key->pkey = pkey;
    return key;
}

/* Generates a fresh Ed25519 key pair. NULL on failure. */
lc_ed25519_t *lc_ed25519_generate(void)
{
    EVP_PKEY_CTX *pctx = EVP_PKEY_CTX_new_id(EVP_PKEY_ED25519, NULL);
    EVP_PKEY *pkey = NULL;

    if (pctx == NULL || EVP_PKEY_keygen_init(pctx) != 1 || EVP_PKEY_keygen(pctx, &pkey) != 1) {
        EVP_PKEY_free(pkey);
        pkey = NULL;
        ERR_clear_error();
    }
    EVP_PKEY_CTX_free(pctx);
    return s_ed25519_wrap(pkey);
}

/* Passphrase callback that refuses: a service must never block on a terminal
 * prompt (OpenSSL's default callback) because a key file happens to be encrypted. */
static int s_no_passphrase(char *buf, int size, int rwflag, void *u)
{
    (void)buf;
    (void)size;
    (void)rwflag;
    (void)u;
    return -1;
}

/* Loads an unencrypted PKCS#8 PEM Ed25519 private key from path. NULL when the
 * file is missing, unreadable, encrypted, not PEM or holds another key type. */
lc_ed25519_t *lc_ed25519_load_private(const char *path)
{
    FILE *fp;
    EVP_PKEY *pkey;

    if (path == NULL)
        return NULL;
    fp = fopen(path, "re");
    if (fp == NULL)
        return NULL;
    pkey = PEM_read_PrivateKey(fp, NULL, s_no_passphrase, NULL);
    fclose(fp);
    if (pkey == NULL || EVP_PKEY_get_id(pkey) != EVP_PKEY_ED25519) {
        EVP_PKEY_free(pkey);
        ERR_clear_error();
        return NULL;
    }
    return s_ed25519_wrap(pkey);
}

/* fsyncs the directory that holds path, so a newly created file's directory entry
 * survives a crash as well as its contents. */
static int s_fsync_parent_dir(const char *path)
{
    const char *slash = strrchr(path, '/');
    char *dir;
    int fd, rc = LC_OK;

    if (slash == NULL)
        dir = strdup(".");
    else if (slash == path)
        dir = strdup("/");
    else
        dir = strndup(path, (size_t)(slash - path));
    if (dir == NULL)
        return LC_ERR_NOMEM;
    fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    free(dir);
    if (fd < 0)
        return LC_ERR_IO;
    if (fsync(fd) != 0)
        rc = LC_ERR_IO;
    close(fd);
    return rc;
}

/* Writes the private key as PKCS#8 PEM to a new file at path with mode 0600 and
 * makes it durable. LC_ERR_CONFLICT if path exists (never overwrites a key),
 * LC_ERR_IO on file errors, LC_ERR_CRYPTO if OpenSSL cannot encode the key. A
 * file this call created is removed again when a later step fails. */
int lc_ed25519_save_private(const lc_ed25519_t *key, const char *path)
{
    FILE *fp;
    int fd, rc = LC_OK;

    if (key == NULL || key->pkey == NULL || path == NULL || path[0] == '\0')
        return LC_ERR_INVALID;
    fd = open(path, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0600);
    if (fd < 0)
        return errno == EEXIST ? LC_ERR_CONFLICT : LC_ERR_IO;
    /* The umask can only clear bits, but make the mode exact whatever it is. */
    if (fchmod(fd, 0600) != 0) {
        close(fd);
        unlink(path);
        return LC_ERR_IO;
    }
    fp = fdopen(fd, "w");
    if (fp == NULL) {
        close(fd);
        unlink(path);
        return LC_ERR_IO;
    }
    if (PEM_write_PrivateKey(fp, key->pkey, NULL, NULL, 0, NULL, NULL) != 1)
        rc = s_crypto_fail();
    else if (fflush(fp) != 0 || fsync(fd) != 0)
        rc = LC_ERR_IO;
    if (fclose(fp) != 0 && rc == LC_OK)
        rc = LC_ERR_IO;
    if (rc == LC_OK)
        rc = s_fsync_parent_dir(path);
    if (rc != LC_OK)
        unlink(path);
    return rc;
}

/* Returns the public key as a NUL-terminated SubjectPublicKeyInfo PEM string
 * ("-----BEGIN PUBLIC KEY-----"), which the caller frees. NULL on failure. */
char *lc_ed25519_public_pem(const lc_ed25519_t *key)
{
    BIO *bio;
    char *data = NULL, *pem = NULL;
    long len;

    if (key == NULL || key->pkey == NULL)
        return NULL;
    bio = BIO_new(BIO_s_mem());
    if (bio == NULL) {
        ERR_clear_error();
        return NULL;
    }
    if (PEM_write_bio_PUBKEY(bio, key->pkey) == 1) {
        len = BIO_get_mem_data(bio, &data);
        if (len > 0 && data != NULL) {
            pem = malloc((size_t)len + 1);
            if (pem != NULL) {
                memcpy(pem, data, (size_t)len);
                pem[len] = '\0';
            }
        }
    }
    if (pem == NULL)
        ERR_clear_error();
    BIO_free(bio);
    return pem;
}

/* Writes the 64-byte Ed25519 signature of msg[0..len) (pure Ed25519, no pre-hash)
 * to sig. msg may be NULL only when len is 0. */
int lc_ed25519_sign(const lc_ed25519_t *key, const void *msg, size_t len,
                    uint8_t sig[LC_ED25519_SIG_LEN])
{
    EVP_MD_CTX *md;
    size_t sig_len = LC_ED25519_SIG_LEN;
    int rc = LC_OK;

    if (key == NULL || key->pkey == NULL || (msg == NULL && len > 0) || sig == NULL)
        return LC_ERR_INVALID;
    if (msg == NULL)
        msg = s_empty;
    md = EVP_MD_CTX_new();
    if (md == NULL)
        return s_crypto_fail();
    if (EVP_DigestSignInit(md, NULL, NULL, NULL, key->pkey) != 1 ||
        EVP_DigestSign(md, sig, &sig_len, msg, len) != 1 || sig_len != LC_ED25519_SIG_LEN)
        rc = s_crypto_fail();
    EVP_MD_CTX_free(md);
    return rc;
}

/* Parses a SubjectPublicKeyInfo PEM holding an Ed25519 key. NULL when it does not
 * parse or holds another key type. */
static EVP_PKEY *s_parse_public_pem(const char *public_pem)
{
    BIO *bio = BIO_new_mem_buf(public_pem, -1);
    EVP_PKEY *pkey = NULL;

    if (bio != NULL)
        pkey = PEM_read_bio_PUBKEY(bio, NULL, s_no_passphrase, NULL);
    BIO_free(bio);
    if (pkey != NULL && EVP_PKEY_get_id(pkey) != EVP_PKEY_ED25519) {
        EVP_PKEY_free(pkey);
        pkey = NULL;
    }
    if (pkey == NULL)
        ERR_clear_error();
    return pkey;
}

/* 0 when sig is a valid signature of msg[0..len) under public_pem, LC_ERR_CRYPTO
 * when it is not, LC_ERR_INVALID when the PEM does not hold an Ed25519 public key. */
int lc_ed25519_verify(const char *public_pem, const void *msg, size_t len,
                      const uint8_t sig[LC_ED25519_SIG_LEN])
{
    EVP_PKEY *pkey;
    EVP_MD_CTX *md;
    int rc = LC_ERR_CRYPTO;

    if (public_pem == NULL || (msg == NULL && len > 0) || sig == NULL)
        return LC_ERR_INVALID;
    if (msg == NULL)
        msg = s_empty;
    pkey = s_parse_public_pem(public_pem);
    if (pkey == NULL)
        return LC_ERR_INVALID;
    md = EVP_MD_CTX_new();
    if (md != NULL && EVP_DigestVerifyInit(md, NULL, NULL, NULL, pkey) == 1 &&
        EVP_DigestVerify(md, sig, LC_ED25519_SIG_LEN, msg, len) == 1)
        rc = LC_OK;
    if (rc != LC_OK)
        ERR_clear_error();
    EVP_MD_CTX_free(md);
    EVP_PKEY_free(pkey);
    return rc;
}

/* Frees the key (OpenSSL cleanses the private half) and sets *key_p to NULL;
 * safe to call twice. */
void lc_ed25519_destroy(lc_ed25519_t **key_p)
{
    if (key_p == NULL || *key_p == NULL)
        return;
    EVP_PKEY_free((*key_p)->pkey);
    free(*key_p);
    *key_p = NULL;
}

/* ---- AES-256-GCM ---------------------------------------------------------- */

/* Feeds aad to a GCM context in int-sized pieces (AAD may come in several calls
 * as long as it all precedes the data). */
static int s_gcm_aad(EVP_CIPHER_CTX *ctx, int enc, const uint8_t *aad, size_t aad_len)
{
    int n;

    while (aad_len > 0) {
        size_t piece = aad_len < CHUNK_MAX ? aad_len : CHUNK_MAX;
        int ok = enc ? EVP_EncryptUpdate(ctx, NULL, &n, aad, (int)piece)
                     : EVP_DecryptUpdate(ctx, NULL, &n, aad, (int)piece);

        if (ok != 1)
            return LC_ERR_CRYPTO;
        aad += piece;
        aad_len -= piece;
    }
    return LC_OK;
}

/* Runs len bytes of in through a GCM context into out, in int-sized pieces. GCM is
 * a stream mode, so each call outputs exactly as many bytes as it takes. */
static int s_gcm_data(EVP_CIPHER_CTX *ctx, int enc, const uint8_t *in, size_t len, uint8_t *out)
{
    int n;

    while (len > 0) {
        size_t piece = len < CHUNK_MAX ? len : CHUNK_MAX;
        int ok = enc ? EVP_EncryptUpdate(ctx, out, &n, in, (int)piece)
                     : EVP_DecryptUpdate(ctx, out, &n, in, (int)piece);

        if (ok != 1 || (size_t)n != piece)
            return LC_ERR_CRYPTO;
        in += piece;
        out += piece;
        len -= piece;
    }
    return LC_OK;
}

/* Encrypts pt under key with a fresh random 96-bit nonce and authenticates aad;
 * *out (caller frees) = nonce || ciphertext || tag. A fresh random nonce per
 * message is what makes reusing one key safe (up to about 2^32 messages). */
int lc_aead_seal(const uint8_t key[LC_AEAD_KEY_LEN], const void *aad, size_t aad_len,
                 const void *pt, size_t pt_len, uint8_t **out, size_t *out_len)
{
    EVP_CIPHER_CTX *ctx = NULL;
    uint8_t *buf, *nonce, *ct, *tag;
    size_t total;
    int n, rc = LC_ERR_CRYPTO;

    if (out == NULL || out_len == NULL)
        return LC_ERR_INVALID;
    *out = NULL;
    *out_len = 0;
    if (key == NULL || (aad == NULL && aad_len > 0) || (pt == NULL && pt_len > 0))
        return LC_ERR_INVALID;
    if (pt_len > SIZE_MAX - LC_AEAD_OVERHEAD)
        return LC_ERR_OVERFLOW;
    total = pt_len + LC_AEAD_OVERHEAD;
    buf = malloc(total);
    if (buf == NULL)
        return LC_ERR_NOMEM;
    nonce = buf;
    ct = buf + LC_AEAD_NONCE_LEN;
    tag = ct + pt_len;

    if (lc_random_bytes(nonce, LC_AEAD_NONCE_LEN) != LC_OK)
        goto done;
    ctx = EVP_CIPHER_CTX_new();
    if (ctx == NULL)
        goto done;
    /* 12 bytes is GCM's default IV length, so no EVP_CTRL_GCM_SET_IVLEN. */
    if (EVP_EncryptInit_ex(ctx, EVP_aes_256_gcm(), NULL, key, nonce) != 1)
        goto done;
    if (s_gcm_aad(ctx, 1, aad, aad_len) != LC_OK || s_gcm_data(ctx, 1, pt, pt_len, ct) != LC_OK)
        goto done;
    if (EVP_EncryptFinal_ex(ctx, ct + pt_len, &n) != 1 || n != 0)
        goto done;
    if (EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, LC_AEAD_TAG_LEN, tag) != 1)
        goto done;
    rc = LC_OK;
done:
    EVP_CIPHER_CTX_free(ctx);
    if (rc != LC_OK) {
        ERR_clear_error();
        OPENSSL_cleanse(buf, total);
        free(buf);
        return rc;
    }
    *out = buf;
    *out_len = total;
    return LC_OK;
}

/* Decrypts and authenticates what lc_aead_seal produced. LC_ERR_CRYPTO when the
 * input is too short or key, aad, nonce, ciphertext or tag do not match; the
 * unauthenticated plaintext is then wiped and *out stays NULL. */
int lc_aead_open(const uint8_t key[LC_AEAD_KEY_LEN], const void *aad, size_t aad_len,
                 const uint8_t *in, size_t in_len, uint8_t **out, size_t *out_len)
{
    EVP_CIPHER_CTX *ctx = NULL;
    uint8_t tag[LC_AEAD_TAG_LEN];
    uint8_t *pt;
    const uint8_t *ct;
    size_t ct_len;
    int n, rc = LC_ERR_CRYPTO;

    if (out == NULL || out_len == NULL)
        return LC_ERR_INVALID;
    *out = NULL;
    *out_len = 0;
    if (key == NULL || (aad == NULL && aad_len > 0) || in == NULL)
        return LC_ERR_INVALID;
    if (in_len < LC_AEAD_OVERHEAD)
        return LC_ERR_CRYPTO;
    ct = in + LC_AEAD_NONCE_LEN;
    ct_len = in_len - LC_AEAD_OVERHEAD;
    memcpy(tag, ct + ct_len, LC_AEAD_TAG_LEN);
    pt = malloc(ct_len > 0 ? ct_len : 1);
    if (pt == NULL)
        return LC_ERR_NOMEM;

    ctx = EVP_CIPHER_CTX_new();
    if (ctx == NULL)
        goto done;
    if (EVP_DecryptInit_ex(ctx, EVP_aes_256_gcm(), NULL, key, in) != 1)
        goto done;
    if (s_gcm_aad(ctx, 0, aad, aad_len) != LC_OK || s_gcm_data(ctx, 0, ct, ct_len, pt) != LC_OK)
        goto done;
    if (EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, LC_AEAD_TAG_LEN, tag) != 1)
        goto done;
    if (EVP_DecryptFinal_ex(ctx, pt + ct_len, &n) != 1 || n != 0)
        goto done;
    rc = LC_OK;
done:
    EVP_CIPHER_CTX_free(ctx);
    if (rc != LC_OK) {
        ERR_clear_error();
        OPENSSL_cleanse(pt, ct_len);
        free(pt);
        return rc;
    }
    *out = pt;
    *out_len = ct_len;
    return LC_OK;
}

/* ---- encodings -------------------------------------------------------------- */

/* Standard base64 (RFC 4648 section 4) with padding; NUL-terminated, caller frees.
 * NULL when out of memory or data is NULL with a non-zero len. */
char *lc_base64_encode(const void *data, size_t len)
{
    const uint8_t *in = data;
    char *text;
    size_t groups, pos = 0;

    if (data == NULL && len > 0)
        return NULL;
    groups = len / 3 + (len % 3 != 0);
    if (groups > (SIZE_MAX - 1) / 4)
        return NULL;
    text = malloc(groups * 4 + 1);
    if (text == NULL)
        return NULL;
    text[0] = '\0';
    while (len > 0) {
        size_t piece = len < CHUNK_MAX ? len : CHUNK_MAX; /* multiple of 3 unless last */
        int n = EVP_EncodeBlock((unsigned char *)text + pos, in, (int)piece);

        pos += (size_t)n;
        in += piece;
        len -= piece;
    }
    text[pos] = '\0';
    return text;
}

/* True for the 64 characters of the standard base64 alphabet. */
static bool s_is_b64(char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' ||
           c == '/';
}

/* Value of a base64 alphabet character (the caller has checked s_is_b64). */
static unsigned s_b64_value(char c)
{
    if (c >= 'A' && c <= 'Z')
        return (unsigned)(c - 'A');
    if (c >= 'a' && c <= 'z')
        return (unsigned)(c - 'a') + 26;
    if (c >= '0' && c <= '9')
        return (unsigned)(c - '0') + 52;
    return c == '+' ? 62 : 63;
}

/* Checks that text[0..len) is canonical padded base64 and returns the number of
 * '=' (0..2) in *pad. Strict on purpose: no whitespace, '=' only at the end, and
 * the unused low bits before the padding must be zero, so every byte string has
 * exactly one accepted encoding (no malleable tokens or signatures). */
static int s_b64_check(const char *text, size_t len, size_t *pad)
{
    size_t i;

    *pad = 0;
    if (len % 4 != 0)
        return LC_ERR_INVALID;
    if (len == 0)
        return LC_OK;
    if (text[len - 1] == '=')
        *pad = text[len - 2] == '=' ? 2 : 1;
    for (i = 0; i < len - *pad; i++)
        if (!s_is_b64(text[i]))
            return LC_ERR_INVALID;
    /* The last data character carries 4 (pad 2) or 2 (pad 1) unused bits. */
    if (*pad == 2 && (s_b64_value(text[len - 3]) & 0x0F) != 0)
        return LC_ERR_INVALID;
    if (*pad == 1 && (s_b64_value(text[len - 2]) & 0x03) != 0)
        return LC_ERR_INVALID;
    return LC_OK;
}

/* Decodes strict standard base64 (see s_b64_check) into *out (caller frees; a
 * 1-byte allocation for empty input) and *out_len. LC_ERR_INVALID on bad input. */
int lc_base64_decode(const char *text, uint8_t **out, size_t *out_len)
{
    size_t len, pad, pos = 0, done = 0;
    uint8_t *buf;

    if (out == NULL || out_len == NULL)
        return LC_ERR_INVALID;
    *out = NULL;
    *out_len = 0;
    if (text == NULL)
        return LC_ERR_INVALID;
    len = strlen(text);
    if (s_b64_check(text, len, &pad) != LC_OK)
        return LC_ERR_INVALID;
    /* EVP_DecodeBlock writes 3 bytes per group, counting padding as zero bytes. */
    buf = malloc(len / 4 * 3 + 1);
    if (buf == NULL)
        return LC_ERR_NOMEM;
    while (done < len) {
        size_t piece = len - done < CHUNK_MAX ? len - done : CHUNK_MAX; /* multiple of 4 */
        int n = EVP_DecodeBlock(buf + pos, (const unsigned char *)text + done, (int)piece);

        if (n < 0 || (size_t)n != piece / 4 * 3) {
            ERR_clear_error();
            free(buf);
            return LC_ERR_INVALID;
        }
        pos += (size_t)n;
        done += piece;
    }
    *out = buf;
    *out_len = pos - pad;
    return LC_OK;
}

/* Writes the lowercase hex of data[0..len) and a NUL to out (2*len + 1 bytes). */
void lc_hex_encode(const void *data, size_t len, char *out)
{
    static const char digits[] = "0123456789abcdef";
    const uint8_t *in = data;
    size_t i;

    if (out == NULL)
        return;
    if (in == NULL)
        len = 0;
    for (i = 0; i < len; i++) {
        out[2 * i] = digits[in[i] >> 4];
        out[2 * i + 1] = digits[in[i] & 0x0F];
    }
    out[2 * len] = '\0';
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

/* Parses text, which must be exactly 2*len hex digits (either case) and then its
 * NUL, into out[0..len). LC_ERR_INVALID otherwise, with out zeroed. Reads at most
 * 2*len + 1 bytes of text. */
int lc_hex_decode(const char *text, uint8_t *out, size_t len)
{
    size_t i;

    if (text == NULL || (out == NULL && len > 0) || len > (SIZE_MAX - 1) / 2)
        return LC_ERR_INVALID;
    if (strnlen(text, 2 * len + 1) != 2 * len)
        goto bad;
    for (i = 0; i < len; i++) {
        int hi = s_hex_value(text[2 * i]);
        int lo = s_hex_value(text[2 * i + 1]);

        if (hi < 0 || lo < 0)
            goto bad;
        out[i] = (uint8_t)(hi << 4 | lo);
    }
    return LC_OK;
bad:
    if (out != NULL)
        memset(out, 0, len);
    return LC_ERR_INVALID;
}
