/*
 * mb_h_util.c: what every handler shares (mb_handlers.h).
 */
#include "lc_err.h"
#include "lc_log.h"
#include "mb_handlers.h"

#include <stdio.h>

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
