/*
 * cc_http.h: coalctl's HTTP client (libcurl): one request to the gateway with
 * the API key, an Idempotency-Key for POSTs, and the Accept type asked for.
 *
 * The key never travels on the command line (it would be visible in ps and in
 * shell history): it comes from COAL_API_KEY, or from the file named by
 * --key-file or COAL_API_KEY_FILE (first line, surrounding whitespace trimmed).
 */
#ifndef CC_HTTP_H
#define CC_HTTP_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#define CC_URL_DEFAULT "http://127.0.0.1:8080"
#define CC_TIMEOUT_MS 120000L /* the liability report and verify read the whole journal */

typedef struct cc_client {
    const char *url;      /* base URL, no trailing slash needed */
    const char *key_file; /* --key-file, or NULL (COAL_API_KEY_FILE) */
    char *key;            /* the API key once read (owned, wiped on close) */
    const char *idem; /* Idempotency-Key of this invocation's POSTs */
    bool verbose;     /* print the request line and status to stderr */
} cc_client_t;

typedef struct cc_resp {
    long status;        /* 0: no HTTP response */
    char *body;         /* owned, NUL-terminated ("" when empty) */
    size_t len;
    char request_id[80];
} cc_resp_t;

/* Reads the key from COAL_API_KEY, else from c->key_file or COAL_API_KEY_FILE.
 * Returns 0, or -1 with a message on stderr. */
int cc_client_key(cc_client_t *c);
void cc_client_close(cc_client_t *c);

/* Sends one request. body may be NULL; accept NULL means application/json.
 * Returns 0 when an HTTP response came (any status), -1 (message on stderr)
 * when none did. Clear out with cc_resp_clear. */
int cc_request(const cc_client_t *c, const char *method, const char *path, const char *body,
               const char *accept, cc_resp_t *out);
void cc_resp_clear(cc_resp_t *r);

/* True for a 2xx status. Otherwise prints the API error (code, message, request
 * id) or the status to stderr and returns false. */
bool cc_resp_ok(const cc_resp_t *r, const char *method, const char *path);

/* The body parsed as JSON (new reference), or NULL with a message on stderr. */
json_t *cc_resp_json(const cc_resp_t *r);

#endif
