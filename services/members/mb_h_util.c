/*
 * mb_h_util.c: what every handler shares (mb_handlers.h).
 */
#include "lc_err.h"
#include "lc_log.h"
#include "mb_handlers.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *mb_api_decode(mb_call_t *c, const lc_msgdesc_t *desc, void *out, char *msg,
                          size_t msglen)
{
    int rc = lc_api_decode(&c->api, desc, out, msg, msglen);
    if (rc == LC_OK)
        return NULL;
    return rc == LC_ERR_INVALID ? LC_API_INVALID_REQUEST : LC_API_INTERNAL;
}

const char *mb_body_decode(mb_call_t *c, const lc_msgdesc_t *desc, void *out, char *msg,
                           size_t msglen)
{
    lc_codec_err_t err;
    int rc = lc_codec_decode(desc, c->req->body, out, &err);
    if (rc == LC_OK)
        return NULL;
    if (rc != LC_ERR_INVALID)
        return LC_E_INTERNAL;
    snprintf(msg, msglen, "%s%s%s", err.path, err.path[0] ? ": " : "", err.message);
    return err.code;
}

const char *mb_encode(const lc_msgdesc_t *desc, const void *in, json_t **reply, char *msg,
                      size_t msglen)
{
    *reply = lc_codec_encode(desc, in);
    if (*reply)
        return NULL;
    snprintf(msg, msglen, "cannot encode the reply");
    return LC_E_INTERNAL; /* same spelling as LC_API_INTERNAL */
}

const char *mb_fail(mb_call_t *c, int rc, const char *what, char *msg, size_t msglen)
{
    mb_server_t *s = c->srv;
    if (rc == LC_ERR_DB || (rc == LC_ERR_UNAVAILABLE && s->db && !lc_db_alive(s->db)))
        lc_error(c->rid, "%s: database: %s %s", what, s->db ? lc_db_sqlstate(s->db) : "",
                 s->db ? lc_db_error(s->db) : "");
    else
        lc_error(c->rid, "%s: %s", what, lc_strerror(rc));
    if (rc == LC_ERR_UNAVAILABLE) {
        snprintf(msg, msglen, "%s: a dependency is unavailable, retry", what);
        return LC_API_UNAVAILABLE; /* same spelling as LC_E_UNAVAILABLE */
    }
    snprintf(msg, msglen, "%s failed", what);
    return LC_API_INTERNAL;
}

#define S_LABEL_MAX 32               /* bytes of a label in the associated data */
#define S_AAD_MAX (16 + S_LABEL_MAX) /* member id bytes || label */

/* The associated data of a sealed field: member id bytes || label. */
static size_t s_aad(const lc_id_t *member, const char *label, uint8_t out[S_AAD_MAX])
{
    size_t n = strlen(label);
    if (n > S_LABEL_MAX)
        n = S_LABEL_MAX;
    memcpy(out, member->b, sizeof member->b);
    memcpy(out + sizeof member->b, label, n);
    return sizeof member->b + n;
}

int mb_seal(const uint8_t key[LC_AEAD_KEY_LEN], const lc_id_t *member, const char *label,
            const char *pt, mb_sealed_t *out)
{
    out->data = NULL;
    out->len = 0;
    if (!pt)
        return LC_OK;
    uint8_t aad[S_AAD_MAX];
    size_t aad_len = s_aad(member, label, aad);
    return lc_aead_seal(key, aad, aad_len, pt, strlen(pt), &out->data, &out->len);
}

int mb_open(const uint8_t key[LC_AEAD_KEY_LEN], const lc_id_t *member, const char *label,
            const mb_sealed_t *in, char **out)
{
    *out = NULL;
    if (!in->data)
        return LC_OK;
    uint8_t aad[S_AAD_MAX];
    size_t aad_len = s_aad(member, label, aad);
    uint8_t *pt = NULL;
    size_t len = 0;
    int rc = lc_aead_open(key, aad, aad_len, in->data, in->len, &pt, &len);
    if (rc != LC_OK)
        return rc;
    *out = malloc(len + 1);
    if (*out) {
        memcpy(*out, pt, len);
        (*out)[len] = '\0';
    }
    lc_secure_zero(pt, len);
    free(pt);
    return *out ? LC_OK : LC_ERR_NOMEM;
}
