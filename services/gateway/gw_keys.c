/*
 * gw_keys.c: API keys (gw_keys.h).
 */
#include "gw_keys.h"
#include "lc_crypto.h"
#include "lc_err.h"
#include "lc_log.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define KEY_PREFIX "ck_"
#define SECRET_LEN 32

/* Splits key text into id and secret; LC_ERR_INVALID when it is not of the form. */
static int s_parse(const char *text, lc_id_t *id, uint8_t secret[SECRET_LEN])
{
    if (strlen(text) != GW_KEY_TEXT_LEN || strncmp(text, KEY_PREFIX, 3) || text[35] != '_')
        return LC_ERR_INVALID;
    char idhex[33];
    memcpy(idhex, text + 3, 32);
    idhex[32] = '\0';
    if (lc_hex_decode(idhex, id->b, 16) != LC_OK ||
        lc_hex_decode(text + 36, secret, SECRET_LEN) != LC_OK)
        return LC_ERR_INVALID;
    return LC_OK;
}

static void s_hash_text(const uint8_t *hash, char out[2 * LC_SHA256_LEN + 3])
{
    memcpy(out, "\\x", 2);
    lc_hex_encode(hash, LC_SHA256_LEN, out + 2);
}

int gw_keys_authenticate(lc_db_t *db, const char *authorization, lc_api_caller_t *caller)
{
    memset(caller, 0, sizeof *caller);
    if (!authorization || strncasecmp(authorization, "Bearer ", 7))
        return LC_ERR_NOT_FOUND;
    const char *text = authorization + 7;
    while (*text == ' ')
        text++;
    lc_id_t id;
    uint8_t secret[SECRET_LEN], hash[LC_SHA256_LEN], stored[LC_SHA256_LEN];
    if (s_parse(text, &id, secret) != LC_OK)
        return LC_ERR_NOT_FOUND;
    lc_sha256(secret, sizeof secret, hash);
    char idtext[LC_ID_STRLEN + 1];
    lc_id_format(&id, idtext);
    const char *params[] = {idtext};
    lc_dbres_t *res = NULL;
    int rc = lc_db_exec(db,
                        "SELECT secret_hash, role, partner_id FROM gateway.api_keys "
                        "WHERE id = $1 AND revoked_at IS NULL",
                        1, params, &res);
    if (rc != LC_OK)
        return rc;
    /* Compare against something even when the id is unknown: same work either way. */
    memset(stored, 0xff, sizeof stored);
    bool found = lc_dbres_rows(res) == 1 &&
                 lc_dbres_bytea(res, 0, 0, stored, sizeof stored) == LC_OK;
    bool match = lc_ct_equal(stored, hash, sizeof hash) && found;
    uint32_t role = 0;
    if (match && lc_value_of(lc_role_names, lc_dbres_get(res, 0, 1), &role) == LC_OK) {
        caller->role = (int)role;
        caller->key_id = id;
        lc_dbres_id(res, 0, 2, &caller->partner_id);
    } else {
        match = false;
    }
    lc_dbres_free(&res);
    if (!match)
        return LC_ERR_NOT_FOUND;
    char owner[64];
    if (caller->role == LC_ROLE_PARTNER) {
        char pid[LC_ID_STRLEN + 1];
        lc_id_format(&caller->partner_id, pid);
        snprintf(owner, sizeof owner, "partner:%s", pid);
    } else {
        snprintf(owner, sizeof owner, "key:%s", idtext);
    }
    caller->owner = strdup(owner);
    return caller->owner ? LC_OK : LC_ERR_NOMEM;
}

int gw_keys_create(lc_db_t *db, const lc_id_t *id, int role, const lc_id_t *partner_id,
                   const char *name, const lc_id_t *created_by, char text[GW_KEY_TEXT_LEN + 1])
{
    uint8_t secret[SECRET_LEN], hash[LC_SHA256_LEN];
    if (lc_random_bytes(secret, sizeof secret) != LC_OK)
        return LC_ERR_CRYPTO;
    lc_sha256(secret, sizeof secret, hash);
    char idtext[LC_ID_STRLEN + 1], pid[LC_ID_STRLEN + 1], by[LC_ID_STRLEN + 1];
    char hashtext[2 * LC_SHA256_LEN + 3];
    lc_id_format(id, idtext);
    s_hash_text(hash, hashtext);
    bool partner = role == LC_ROLE_PARTNER;
    if (partner)
        lc_id_format(partner_id, pid);
    if (created_by)
        lc_id_format(created_by, by);
    const char *params[] = {idtext, hashtext, lc_name_of(lc_role_names, (uint32_t)role),
                            partner ? pid : NULL, name ? name : "", created_by ? by : NULL};
    int rc = lc_db_exec(db,
                        "INSERT INTO gateway.api_keys (id, secret_hash, role, partner_id, name, "
                        "created_by) VALUES ($1, $2, $3, $4, $5, $6)",
                        6, params, NULL);
    if (rc != LC_OK)
        return rc;
    memcpy(text, KEY_PREFIX, 3);
    lc_hex_encode(id->b, 16, text + 3);
    text[35] = '_';
    lc_hex_encode(secret, SECRET_LEN, text + 36);
    text[GW_KEY_TEXT_LEN] = '\0';
    lc_secure_zero(secret, sizeof secret);
    return LC_OK;
}

int gw_keys_revoke(lc_db_t *db, const lc_id_t *partner_id, const lc_id_t *key_id)
{
    char pid[LC_ID_STRLEN + 1], kid[LC_ID_STRLEN + 1];
    lc_id_format(partner_id, pid);
    lc_id_format(key_id, kid);
    const char *params[] = {kid, pid};
    lc_dbres_t *res = NULL;
    int rc = lc_db_exec(db,
                        "UPDATE gateway.api_keys SET revoked_at = now() WHERE id = $1 AND "
                        "partner_id = $2 AND revoked_at IS NULL RETURNING id",
                        2, params, &res);
    if (rc != LC_OK)
        return rc;
    rc = lc_dbres_rows(res) == 1 ? LC_OK : LC_ERR_NOT_FOUND;
    lc_dbres_free(&res);
    return rc;
}

int gw_keys_bootstrap(lc_db_t *db, const char *dir)
{
    /* Serialize gateways that start together; the lock ends with the transaction. */
    int rc = lc_db_begin(db);
    if (rc == LC_OK)
        rc = lc_db_exec(db, "SELECT pg_advisory_xact_lock(hashtext('gateway.bootstrap'))", 0,
                        NULL, NULL);
    lc_dbres_t *res = NULL;
    if (rc == LC_OK)
        rc = lc_db_exec(db,
                        "SELECT count(*) FROM gateway.api_keys WHERE role = 'admin' AND "
                        "revoked_at IS NULL",
                        0, NULL, &res);
    int64_t admins = 0;
    if (rc == LC_OK)
        lc_dbres_i64(res, 0, 0, &admins);
    lc_dbres_free(&res);
    if (rc != LC_OK || admins > 0) {
        lc_db_rollback(db);
        return rc;
    }
    lc_id_t id;
    char text[GW_KEY_TEXT_LEN + 1], path[512], tmp[520];
    snprintf(path, sizeof path, "%s/admin.key", dir);
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    rc = lc_id_new(&id);
    if (rc == LC_OK)
        rc = gw_keys_create(db, &id, LC_ROLE_ADMIN, NULL, "bootstrap", NULL, text);
    if (rc != LC_OK) {
        lc_db_rollback(db);
        return rc;
    }
    /* The file first, then the commit: a key nobody can read is never stored. */
    mkdir(dir, 0700);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    bool ok = fd >= 0 && write(fd, text, GW_KEY_TEXT_LEN) == GW_KEY_TEXT_LEN &&
              write(fd, "\n", 1) == 1 && fsync(fd) == 0;
    if (fd >= 0)
        close(fd);
    lc_secure_zero(text, sizeof text);
    if (!ok || rename(tmp, path) != 0) {
        lc_error(NULL, "cannot write the bootstrap admin key to %s: %s", path, strerror(errno));
        unlink(tmp);
        lc_db_rollback(db);
        return LC_ERR_IO;
    }
    rc = lc_db_commit(db);
    if (rc == LC_OK)
        lc_info(NULL, "bootstrap admin key written to %s (mode 0600); it is not shown again",
                path);
    return rc;
}
