/*
 * lc_envelope.h: the versioned envelope every bus message travels in.
 *
 * A request or reply is one ZeroMQ frame holding one JSON object (proto/README.md):
 *
 *   request  {"v":1,"type":"ledger.create_transfers","request_id":"...",
 *             "deadline_ms":1763900000000,"body":{...}}
 *   reply    {"v":1,"type":"ledger.create_transfers","request_id":"...",
 *             "ok":true,"body":{...}}
 *         or {"v":1,"type":"...","request_id":"...","ok":false,
 *             "error":{"code":"invalid_field","message":"transfers[0].amount: ..."}}
 *
 * deadline_ms is absolute Unix milliseconds: a server that receives a request
 * whose deadline has already passed answers deadline_exceeded without doing the
 * work (the client has given up and will retry with the same ids). Bodies are
 * decoded by lc_codec against the type's descriptor, never by hand.
 */
#ifndef LC_ENVELOPE_H
#define LC_ENVELOPE_H

#include "lc_codec.h"

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define LC_PROTO_VERSION 1
#define LC_TYPE_MAX 64         /* bytes of a message type, with NUL */
#define LC_REQUEST_ID_MAX 65   /* bytes of a request id, with NUL */
#define LC_CODE_MAX 48         /* bytes of an error code, with NUL */
#define LC_MESSAGE_MAX_BYTES (1024 * 1024) /* larger frames: message_too_large */

/* Envelope-level error codes (proto/errors.json). */
#define LC_E_INVALID_MESSAGE "invalid_message"
#define LC_E_UNSUPPORTED_VERSION "unsupported_version"
#define LC_E_UNKNOWN_TYPE "unknown_type"
#define LC_E_MISSING_FIELD "missing_field"
#define LC_E_INVALID_FIELD "invalid_field"
#define LC_E_UNKNOWN_FIELD "unknown_field"
#define LC_E_TOO_LARGE "message_too_large"
#define LC_E_DEADLINE "deadline_exceeded"
#define LC_E_UNAVAILABLE "unavailable"
#define LC_E_INTERNAL "internal"
#define LC_E_NOT_FOUND "not_found"

typedef struct lc_request {
    char type[LC_TYPE_MAX];
    char request_id[LC_REQUEST_ID_MAX];
    int64_t deadline_ms; /* absolute Unix ms; 0 = none */
    json_t *body;        /* owned reference; an empty object when absent */
} lc_request_t;

typedef struct lc_reply {
    char type[LC_TYPE_MAX];
    char request_id[LC_REQUEST_ID_MAX];
    bool ok;
    char code[LC_CODE_MAX]; /* when !ok */
    char *message;          /* when !ok; owned */
    json_t *body;           /* when ok; owned reference */
} lc_reply_t;

/* Parses a request frame. On failure returns LC_ERR_INVALID and fills err (code is
 * an envelope error code); whatever of type and request_id could be read is kept
 * in *out so the error reply can still name them. Always lc_request_clear(out). */
int lc_request_parse(const void *data, size_t len, lc_request_t *out, lc_codec_err_t *err);

/* Serializes a request; body is borrowed. Returns a malloc'd frame (*len bytes),
 * caller frees; NULL on NOMEM. */
char *lc_request_serialize(const char *type, const char *request_id, int64_t deadline_ms,
                           const json_t *body, size_t *len);

/* Serializes a success reply; body is borrowed (NULL: empty object). */
char *lc_reply_serialize_ok(const char *type, const char *request_id, const json_t *body,
                            size_t *len);
/* Serializes an error reply. */
char *lc_reply_serialize_error(const char *type, const char *request_id, const char *code,
                               const char *message, size_t *len);

/* Parses a reply frame; LC_ERR_PROTO when it is not a well-formed reply. */
int lc_reply_parse(const void *data, size_t len, lc_reply_t *out);

void lc_request_clear(lc_request_t *req);
void lc_reply_clear(lc_reply_t *rep);

/* True when every byte of s is printable ASCII and 1 <= length < max. */
bool lc_printable_ascii(const char *s, size_t max);

#endif
