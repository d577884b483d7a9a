/*
 * gw_dispatch.h: one HTTP request, from route to response (see gw.h for the
 * order of the checks). Knows nothing of libmicrohttpd: gw_http.c hands it the
 * request's parts and sends back what it answers, so the whole policy can be
 * read (and tested) here.
 */
#ifndef GW_DISPATCH_H
#define GW_DISPATCH_H

#include "gw.h"
#include "gw_routes.h"

#include <stdbool.h>
#include <stddef.h>

typedef struct gw_http_req {
    const char *method;
    const char *path;            /* without the query string */
    const json_t *query;         /* object of strings (borrowed) */
    const char *authorization;   /* header value or NULL */
    const char *idempotency_key; /* header value or NULL */
    const char *accept;          /* header value or NULL (text/csv: gw_csv.h) */
    const char *request_id;      /* the X-Request-Id of this request */
    const char *body;            /* bytes (not NUL-terminated) */
    size_t body_len;
    bool too_large;              /* the body went over cfg.body_max */
} gw_http_req_t;

void gw_dispatch(gw_t *gw, const gw_http_req_t *in, gw_resp_t *out);

#endif
