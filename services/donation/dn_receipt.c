/*
 * dn_receipt.c: receipt keys, payloads, signatures (dn_receipt.h).
 */
#include "dn_receipt.h"
#include "lc_err.h"
#include "lc_log.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define CURRENT_FILE "receipt-current"
#define KEY_PREFIX "receipt-rk-"
#define KEY_SUFFIX ".pem"

/* key_id of a public key PEM: "rk-" + 16 hex digits of its SHA-256. */
static int s_key_id(const char *pem, char out[DN_KEY_ID_MAX + 1])
{
    uint8_t h[LC_SHA256_LEN];
    if (lc_sha256(pem, strlen(pem), h) != LC_OK)
        return LC_ERR_CRYPTO;
    char hex[2 * LC_SHA256_LEN + 1];
    lc_hex_encode(h, LC_SHA256_LEN, hex);
    snprintf(out, DN_KEY_ID_MAX + 1, "rk-%.16s", hex);
    return LC_OK;
}

static int s_read_current(const char *dir, char out[DN_KEY_ID_MAX + 1])
{
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", dir, CURRENT_FILE);
    FILE *f = fopen(path, "r");
    if (!f)
        return LC_ERR_NOT_FOUND;
    char line[DN_KEY_ID_MAX + 8] = "";
    int ok = fgets(line, sizeof line, f) != NULL;
    fclose(f);
    line[strcspn(line, "\r\n")] = '\0';
    if (!ok || !line[0])
        return LC_ERR_INVALID;
    snprintf(out, DN_KEY_ID_MAX + 1, "%s", line);
    return LC_OK;
}

/* Points receipt-current at key_id: written aside, then renamed (atomic). */
static int s_write_current(const char *dir, const char *key_id)
{
    char tmp[1024], path[1024];
    snprintf(tmp, sizeof tmp, "%s/%s.%d", dir, CURRENT_FILE, (int)getpid());
    snprintf(path, sizeof path, "%s/%s", dir, CURRENT_FILE);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (fd < 0)
        return LC_ERR_IO;
    char line[DN_KEY_ID_MAX + 2];
    int n = snprintf(line, sizeof line, "%s\n", key_id);
    int ok = write(fd, line, (size_t)n) == n && fsync(fd) == 0;
    ok &= close(fd) == 0;
    if (!ok || rename(tmp, path) != 0) {
        unlink(tmp);
        return LC_ERR_IO;
    }
    return LC_OK;
}

/* Generates and saves a key; writes its id. */
static int s_generate(const char *dir, char key_id[DN_KEY_ID_MAX + 1])
{
    lc_ed25519_t *k = lc_ed25519_generate();
    char *pem = k ? lc_ed25519_public_pem(k) : NULL;
    int rc = pem ? s_key_id(pem, key_id) : LC_ERR_CRYPTO;
    if (rc == LC_OK) {
        char path[1024];
        snprintf(path, sizeof path, "%s/receipt-%s%s", dir, key_id, KEY_SUFFIX);
        rc = lc_ed25519_save_private(k, path);
    }
    free(pem);
    lc_ed25519_destroy(&k);
    return rc;
}

int dn_keyring_rotate(const char *dir, char new_id[DN_KEY_ID_MAX + 1])
{
    if (mkdir(dir, 0700) != 0 && errno != EEXIST)
        return LC_ERR_IO;
    int rc = s_generate(dir, new_id);
    if (rc == LC_OK)
        rc = s_write_current(dir, new_id);
    return rc;
}

static int s_load(dn_keyring_t *kr, const char *dir, const char *file)
{
    if (kr->n >= DN_KEYS_LOADED_MAX)
        return LC_ERR_OVERFLOW;
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", dir, file);
    dn_key_t *k = &kr->keys[kr->n];
    k->key = lc_ed25519_load_private(path);
    k->pem = k->key ? lc_ed25519_public_pem(k->key) : NULL;
    if (!k->pem || s_key_id(k->pem, k->key_id) != LC_OK) {
        lc_error(NULL, "cannot load the receipt key %s", path);
        lc_ed25519_destroy(&k->key);
        free(k->pem);
        k->pem = NULL;
        return LC_ERR_CRYPTO;
    }
    kr->n++;
    return LC_OK;
}

static int s_cmp(const void *a, const void *b)
{
    return strcmp(((const dn_key_t *)a)->key_id, ((const dn_key_t *)b)->key_id);
}

int dn_keyring_open(dn_keyring_t *kr, const char *dir)
{
    memset(kr, 0, sizeof *kr);
    if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
        lc_error(NULL, "cannot create the secrets directory %s", dir);
        return LC_ERR_IO;
    }
    char current[DN_KEY_ID_MAX + 1];
    int rc = s_read_current(dir, current);
    if (rc == LC_ERR_NOT_FOUND) {
        rc = dn_keyring_rotate(dir, current);
        if (rc == LC_OK)
            lc_info(NULL, "generated the receipt signing key %s in %s", current, dir);
    }
    if (rc != LC_OK) {
        lc_error(NULL, "no receipt signing key in %s: %s", dir, lc_strerror(rc));
        return rc;
    }
    DIR *d = opendir(dir);
    if (!d)
        return LC_ERR_IO;
    struct dirent *de;
    size_t pl = strlen(KEY_PREFIX), sl = strlen(KEY_SUFFIX);
    while (rc == LC_OK && (de = readdir(d))) {
        size_t len = strlen(de->d_name);
        if (len > pl + sl && !strncmp(de->d_name, KEY_PREFIX, pl) &&
            !strcmp(de->d_name + len - sl, KEY_SUFFIX))
            rc = s_load(kr, dir, de->d_name);
    }
    closedir(d);
    if (rc != LC_OK) {
        dn_keyring_close(kr);
        return rc;
    }
    /* Current first, the others in key_id order. */
    qsort(kr->keys, kr->n, sizeof kr->keys[0], s_cmp);
    size_t cur = kr->n;
    for (size_t i = 0; i < kr->n; i++)
        if (!strcmp(kr->keys[i].key_id, current))
            cur = i;
    if (cur == kr->n) {
        lc_error(NULL, "%s/%s names %s, which is not there", dir, CURRENT_FILE, current);
        dn_keyring_close(kr);
        return LC_ERR_NOT_FOUND;
    }
    dn_key_t c = kr->keys[cur];
    memmove(&kr->keys[1], &kr->keys[0], cur * sizeof kr->keys[0]);
    kr->keys[0] = c;
    return LC_OK;
}

void dn_keyring_close(dn_keyring_t *kr)
{
    for (size_t i = 0; i < kr->n; i++) {
        lc_ed25519_destroy(&kr->keys[i].key);
        free(kr->keys[i].pem);
    }
    memset(kr, 0, sizeof *kr);
}

int dn_receipt_bytes(const dn_receipt_payload_t *p, char **out, size_t *len)
{
    json_t *j = lc_codec_encode(&dn_receipt_payload_desc, p);
    *out = j ? json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
    json_decref(j);
    if (!*out)
        return LC_ERR_NOMEM;
    *len = strlen(*out);
    return LC_OK;
}

int dn_receipt_sign(const dn_keyring_t *kr, const dn_receipt_payload_t *p, dn_receipt_t *r)
{
    memset(r, 0, sizeof *r);
    if (kr->n == 0)
        return LC_ERR_NOT_FOUND;
    char *bytes;
    size_t len;
    int rc = dn_receipt_bytes(p, &bytes, &len);
    if (rc != LC_OK)
        return rc;
    uint8_t sig[LC_ED25519_SIG_LEN];
    rc = lc_ed25519_sign(kr->keys[0].key, bytes, len, sig);
    if (rc == LC_OK) {
        r->donation_id = p->donation_id;
        r->key_id = strdup(kr->keys[0].key_id);
        r->payload = lc_base64_encode(bytes, len);
        r->signature = lc_base64_encode(sig, sizeof sig);
        if (!r->key_id || !r->payload || !r->signature) {
            lc_codec_clear(&dn_receipt_desc, r);
            rc = LC_ERR_NOMEM;
        }
    }
    free(bytes);
    return rc;
}

int dn_receipt_verify(const char *public_pem, const dn_receipt_t *r)
{
    uint8_t *payload = NULL, *sig = NULL;
    size_t plen = 0, slen = 0;
    int rc = lc_base64_decode(r->payload, &payload, &plen);
    if (rc == LC_OK)
        rc = lc_base64_decode(r->signature, &sig, &slen);
    if (rc == LC_OK && slen != LC_ED25519_SIG_LEN)
        rc = LC_ERR_INVALID;
    if (rc == LC_OK)
        rc = lc_ed25519_verify(public_pem, payload, plen, sig);
    else if (rc != LC_ERR_NOMEM)
        rc = LC_ERR_INVALID;
    free(payload);
    free(sig);
    return rc;
}

int dn_keyring_describe(const dn_keyring_t *kr, dn_receipt_keys_t *out)
{
    memset(out, 0, sizeof *out);
    if (kr->n == 0)
        return LC_ERR_NOT_FOUND;
    out->keys = calloc(kr->n, sizeof *out->keys);
    out->key_id = strdup(kr->keys[0].key_id);
    out->public_key_pem = strdup(kr->keys[0].pem);
    int rc = out->keys && out->key_id && out->public_key_pem ? LC_OK : LC_ERR_NOMEM;
    for (size_t i = 0; rc == LC_OK && i < kr->n; i++) {
        out->keys[i].key_id = strdup(kr->keys[i].key_id);
        out->keys[i].public_key_pem = strdup(kr->keys[i].pem);
        out->nkeys = i + 1;
        if (!out->keys[i].key_id || !out->keys[i].public_key_pem)
            rc = LC_ERR_NOMEM;
    }
    if (rc != LC_OK)
        lc_codec_clear(&dn_receipt_keys_desc, out);
    return rc;
}
