/*
 * lc_envelope.c: parse and build the bus envelope (see lc_envelope.h).
 *
 * The envelope is small and fixed, so it is read member by member here; bodies,
 * which vary by message type, always go through lc_codec.
 */
#include "lc_envelope.h"
#include "lc_err.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

bool lc_printable_ascii(const char *s, size_t max)
{
    size_t n = 0;
    for (; s[n]; n++)
        if (n + 1 >= max || s[n] < 0x20 || s[n] > 0x7e)
            return false;
    return n > 0;
}

static int s_fail(lc_codec_err_t *err, const char *code, const char *message)
{
    if (err) {
        err->code = code;
        snprintf(err->path, sizeof err->path, "%s", "");
        snprintf(err->message, sizeof err->message, "%s", message);
    }
    return LC_ERR_INVALID;
}

/* Copies a short printable string member into dst when present and valid. */
static bool s_copy_str(json_t *root, const char *key, char *dst, size_t cap)
{
    json_t *v = json_object_get(root, key);
    if (!json_is_string(v) || !lc_printable_ascii(json_string_value(v), cap))
        return false;
    snprintf(dst, cap, "%s", json_string_value(v));
    return true;
}

int lc_request_parse(const void *data, size_t len, lc_request_t *out, lc_codec_err_t *err)
{
    memset(out, 0, sizeof *out);
    if (len > LC_MESSAGE_MAX_BYTES)
        return s_fail(err, LC_E_TOO_LARGE, "message larger than 1 MiB");
    json_error_t jerr;
    json_t *root = json_loadb(data, len, JSON_REJECT_DUPLICATES, &jerr);
    if (!root)
        return s_fail(err, LC_E_INVALID_MESSAGE, "not valid JSON");
    int rc = LC_ERR_INVALID;
    bool has_type = s_copy_str(root, "type", out->type, sizeof out->type);
    bool has_rid = s_copy_str(root, "request_id", out->request_id, sizeof out->request_id);
    const char *key;
    json_t *v;
    if (!json_is_object(root)) {
        s_fail(err, LC_E_INVALID_MESSAGE, "envelope must be a JSON object");
        goto done;
    }
    /* The version first: a later version may add envelope members. */
    v = json_object_get(root, "v");
    if (!json_is_integer(v)) {
        s_fail(err, LC_E_INVALID_MESSAGE, "missing protocol version \"v\"");
        goto done;
    }
    if (json_integer_value(v) != LC_PROTO_VERSION) {
        s_fail(err, LC_E_UNSUPPORTED_VERSION, "this peer speaks protocol version 1");
        goto done;
    }
    json_object_foreach(root, key, v) {
        if (strcmp(key, "v") && strcmp(key, "type") && strcmp(key, "request_id") &&
            strcmp(key, "deadline_ms") && strcmp(key, "body")) {
            s_fail(err, LC_E_UNKNOWN_FIELD, "unknown envelope member");
            goto done;
        }
    }
    if (!has_type) {
        s_fail(err, LC_E_INVALID_MESSAGE, "missing or invalid \"type\"");
        goto done;
    }
    if (!has_rid) {
        s_fail(err, LC_E_INVALID_MESSAGE, "missing or invalid \"request_id\" (1-64 printable)");
        goto done;
    }
    v = json_object_get(root, "deadline_ms");
    if (v && (!json_is_integer(v) || json_integer_value(v) < 0)) {
        s_fail(err, LC_E_INVALID_MESSAGE, "\"deadline_ms\" must be a non-negative integer");
        goto done;
    }
    out->deadline_ms = v ? json_integer_value(v) : 0;
    v = json_object_get(root, "body");
    if (v && !json_is_object(v)) {
        s_fail(err, LC_E_INVALID_MESSAGE, "\"body\" must be an object");
        goto done;
    }
    out->body = v ? json_incref(v) : json_object();
    rc = out->body ? LC_OK : LC_ERR_NOMEM;
done:
    json_decref(root);
    return rc;
}

static char *s_dump(json_t *root, size_t *len)
{
    char *s = root ? json_dumps(root, JSON_COMPACT) : NULL;
    json_decref(root);
    if (s && len)
        *len = strlen(s);
    return s;
}

char *lc_request_serialize(const char *type, const char *request_id, int64_t deadline_ms,
                           const json_t *body, size_t *len)
{
    json_t *b = body ? json_incref((json_t *)body) : json_object();
    json_t *root = json_pack("{s:i, s:s, s:s, s:I, s:o}", "v", LC_PROTO_VERSION, "type", type,
                             "request_id", request_id, "deadline_ms", (json_int_t)deadline_ms,
                             "body", b);
    return s_dump(root, len);
}

char *lc_reply_serialize_ok(const char *type, const char *request_id, const json_t *body,
                            size_t *len)
{
    json_t *b = body ? json_incref((json_t *)body) : json_object();
    json_t *root = json_pack("{s:i, s:s, s:s, s:b, s:o}", "v", LC_PROTO_VERSION, "type", type,
                             "request_id", request_id, "ok", 1, "body", b);
    return s_dump(root, len);
}

char *lc_reply_serialize_error(const char *type, const char *request_id, const char *code,
                               const char *message, size_t *len)
{
    json_t *root = json_pack("{s:i, s:s, s:s, s:b, s:{s:s, s:s}}", "v", LC_PROTO_VERSION,
                             "type", type ? type : "", "request_id",
                             request_id ? request_id : "", "ok", 0, "error", "code", code,
                             "message", message ? message : "");
    return s_dump(root, len);
}

int lc_reply_parse(const void *data, size_t len, lc_reply_t *out)
{
    memset(out, 0, sizeof *out);
    json_t *root = json_loadb(data, len, 0, NULL);
    if (!root)
        return LC_ERR_PROTO;
    int rc = LC_ERR_PROTO;
    json_t *v = json_object_get(root, "v");
    json_t *ok = json_object_get(root, "ok");
    if (!json_is_integer(v) || json_integer_value(v) != LC_PROTO_VERSION || !json_is_boolean(ok))
        goto done;
    s_copy_str(root, "type", out->type, sizeof out->type);
    if (!s_copy_str(root, "request_id", out->request_id, sizeof out->request_id))
        goto done;
    out->ok = json_is_true(ok);
    if (out->ok) {
        json_t *body = json_object_get(root, "body");
        if (body && !json_is_object(body))
            goto done; /* a body that is not an object is not an empty one */
        out->body = body ? json_incref(body) : json_object();
    } else {
        json_t *e = json_object_get(root, "error");
        json_t *msg = json_object_get(e, "message");
        /* A code is an identifier (proto/errors.json, API.md): printable ASCII that
         * fits, or the reply is malformed. Truncating it instead could cut a UTF-8
         * sequence in two, and the reply could not be serialized again. */
        if (!json_is_object(e) || !s_copy_str(e, "code", out->code, sizeof out->code))
            goto done;
        out->message = strdup(json_is_string(msg) ? json_string_value(msg) : "");
    }
    rc = LC_OK;
done:
    json_decref(root);
    return rc;
}

void lc_request_clear(lc_request_t *req)
{
    json_decref(req->body);
    req->body = NULL;
}

void lc_reply_clear(lc_reply_t *rep)
{
    json_decref(rep->body);
    rep->body = NULL;
    free(rep->message);
    rep->message = NULL;
}
