/*
 * gw_http.c: libmicrohttpd glue (gw_http.h). Only this file includes
 * microhttpd.h; the policy is in gw_dispatch.c.
 */
#include "gw_http.h"
#include "gw_csv.h"
#include "gw_dispatch.h"
#include "lc_crypto.h"
#include "lc_envelope.h"
#include "lc_err.h"
#include "lc_id.h"
#include "lc_log.h"

#include <arpa/inet.h>
#include <microhttpd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define REQUEST_ID_MAX 64

/* The TLS key and certificate, kept until the daemon stops (libmicrohttpd
 * holds on to the pointers). */
static char *s_tls_cert, *s_tls_key;

/* What one request collects before it is dispatched. */
typedef struct conn_ctx {
    char *body;
    size_t len, cap;
    bool too_large;
} conn_ctx_t;

static enum MHD_Result s_query_arg(void *cls, enum MHD_ValueKind kind, const char *key,
                                   const char *value)
{
    (void)kind;
    json_t *obj = cls;
    json_t *v = json_string(value ? value : "");
    if (v) /* a value that is not UTF-8 is dropped: the service sees it as absent */
        json_object_set_new(obj, key, v);
    return MHD_YES;
}

static enum MHD_Result s_send(struct MHD_Connection *c, const gw_resp_t *r, const char *rid)
{
    size_t len = r->body ? strlen(r->body) : 0;
    struct MHD_Response *resp =
        MHD_create_response_from_buffer(len, r->body ? r->body : (void *)"", MHD_RESPMEM_MUST_COPY);
    if (!resp)
        return MHD_NO;
    if (r->body)
        MHD_add_response_header(resp, "Content-Type",
                                r->text_plain ? "text/plain; version=0.0.4; charset=utf-8"
                                : r->text_csv ? GW_CSV_CONTENT_TYPE
                                              : "application/json");
    MHD_add_response_header(resp, "X-Request-Id", rid);
    if (r->replayed)
        MHD_add_response_header(resp, "Idempotent-Replayed", "true");
    if (r->retry_after > 0) {
        char s[24];
        snprintf(s, sizeof s, "%lld", (long long)r->retry_after);
        MHD_add_response_header(resp, "Retry-After", s);
    }
    enum MHD_Result ok = MHD_queue_response(c, (unsigned)r->status, resp);
    MHD_destroy_response(resp);
    return ok;
}

/* The client's X-Request-Id when it is usable, else a new UUIDv7. */
static void s_request_id(struct MHD_Connection *c, char out[REQUEST_ID_MAX + 1])
{
    const char *given = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "X-Request-Id");
    if (given && lc_printable_ascii(given, REQUEST_ID_MAX + 1)) {
        snprintf(out, REQUEST_ID_MAX + 1, "%s", given);
        return;
    }
    lc_id_t id;
    lc_id_new(&id);
    lc_id_format(&id, out);
}

static enum MHD_Result s_handler(void *cls, struct MHD_Connection *c, const char *url,
                                 const char *method, const char *version,
                                 const char *upload_data, size_t *upload_data_size,
                                 void **con_cls)
{
    (void)version;
    gw_t *gw = cls;
    conn_ctx_t *ctx = *con_cls;
    if (!ctx) {
        ctx = calloc(1, sizeof *ctx);
        if (!ctx)
            return MHD_NO;
        *con_cls = ctx;
        const char *cl = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Content-Length");
        if (cl && strtoull(cl, NULL, 10) > (unsigned long long)gw->cfg.body_max) {
            /* Refuse before reading: libmicrohttpd closes the connection after. */
            char rid[REQUEST_ID_MAX + 1];
            s_request_id(c, rid);
            gw_resp_t r = {0};
            gw_resp_error(&r, LC_API_PAYLOAD_TOO_LARGE, rid, "the body is larger than %lld bytes",
                          (long long)gw->cfg.body_max);
            enum MHD_Result ok = s_send(c, &r, rid);
            gw_resp_clear(&r);
            ctx->too_large = true;
            return ok;
        }
        return MHD_YES;
    }
    if (*upload_data_size) {
        size_t n = *upload_data_size;
        *upload_data_size = 0;
        if (ctx->too_large)
            return MHD_YES;
        if (ctx->len + n > (size_t)gw->cfg.body_max) {
            ctx->too_large = true;
            free(ctx->body);
            ctx->body = NULL;
            ctx->len = ctx->cap = 0;
            return MHD_YES;
        }
        if (ctx->len + n > ctx->cap) {
            size_t cap = (ctx->len + n) * 2;
            char *p = realloc(ctx->body, cap);
            if (!p)
                return MHD_NO;
            ctx->body = p;
            ctx->cap = cap;
        }
        memcpy(ctx->body + ctx->len, upload_data, n);
        ctx->len += n;
        return MHD_YES;
    }
    char rid[REQUEST_ID_MAX + 1];
    s_request_id(c, rid);
    json_t *query = json_object();
    if (!query)
        return MHD_NO;
    MHD_get_connection_values(c, MHD_GET_ARGUMENT_KIND, s_query_arg, query);
    gw_http_req_t in = {
        .method = method,
        .path = url,
        .query = query,
        .authorization = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Authorization"),
        .idempotency_key = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Idempotency-Key"),
        .accept = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Accept"),
        .request_id = rid,
        .body = ctx->body,
        .body_len = ctx->len,
        .too_large = ctx->too_large,
    };
    gw_resp_t r;
    gw_dispatch(gw, &in, &r);
    enum MHD_Result ok = s_send(c, &r, rid);
    gw_resp_clear(&r);
    json_decref(query);
    return ok;
}

static void s_completed(void *cls, struct MHD_Connection *c, void **con_cls,
                        enum MHD_RequestTerminationCode toe)
{
    (void)cls;
    (void)c;
    (void)toe;
    conn_ctx_t *ctx = *con_cls;
    if (ctx) {
        free(ctx->body);
        free(ctx);
    }
    *con_cls = NULL;
}

static void s_mhd_log(void *cls, const char *fmt, va_list ap)
{
    (void)cls;
    char msg[512];
    vsnprintf(msg, sizeof msg, fmt, ap);
    size_t n = strlen(msg);
    while (n && msg[n - 1] == '\n')
        msg[--n] = '\0';
    lc_warn(NULL, "http: %s", msg);
}

static char *s_read_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    char *buf = NULL;
    size_t len = 0;
    FILE *m = open_memstream(&buf, &len);
    char chunk[4096];
    size_t n;
    while (m && (n = fread(chunk, 1, sizeof chunk, f)) > 0)
        fwrite(chunk, 1, n, m);
    fclose(f);
    if (m)
        fclose(m);
    return buf;
}

int gw_http_start(gw_t *gw)
{
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)gw->cfg.port)};
    if (inet_pton(AF_INET, gw->cfg.host, &sa.sin_addr) != 1) {
        lc_error(NULL, "gateway.host must be an IPv4 address, not %s", gw->cfg.host);
        return LC_ERR_IO;
    }
    unsigned flags = MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD |
                     MHD_USE_ERROR_LOG;
    char *cert = NULL, *key = NULL;
    bool tls = gw->cfg.tls_cert && *gw->cfg.tls_cert && gw->cfg.tls_key && *gw->cfg.tls_key;
    if (tls) {
        cert = s_read_file(gw->cfg.tls_cert);
        key = s_read_file(gw->cfg.tls_key);
        if (!cert || !key) {
            lc_error(NULL, "cannot read the TLS certificate %s or key %s", gw->cfg.tls_cert,
                     gw->cfg.tls_key);
            free(cert);
            free(key);
            return LC_ERR_IO;
        }
        flags |= MHD_USE_TLS;
    }
    struct MHD_OptionItem tls_opts[] = {
        {tls ? MHD_OPTION_HTTPS_MEM_CERT : MHD_OPTION_END, 0, cert},
        {MHD_OPTION_HTTPS_MEM_KEY, 0, key},
        {MHD_OPTION_END, 0, NULL},
    };
    gw->mhd = MHD_start_daemon(
        flags, 0, NULL, NULL, s_handler, gw, MHD_OPTION_EXTERNAL_LOGGER, s_mhd_log, gw,
        MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sa,
        MHD_OPTION_CONNECTION_LIMIT, (unsigned)gw->cfg.max_connections,
        MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)gw->cfg.conn_timeout_s,
        MHD_OPTION_NOTIFY_COMPLETED, s_completed, gw, MHD_OPTION_ARRAY, tls_opts, MHD_OPTION_END);
    s_tls_cert = cert;
    s_tls_key = key;
    if (!gw->mhd) {
        lc_error(NULL, "cannot listen on %s:%lld", gw->cfg.host, (long long)gw->cfg.port);
        return LC_ERR_IO;
    }
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(gw->mhd, MHD_DAEMON_INFO_BIND_PORT);
    gw->port = info ? info->port : (int)gw->cfg.port;
    lc_info(NULL, "listening on %s://%s:%d", tls ? "https" : "http", gw->cfg.host, gw->port);
    return LC_OK;
}

void gw_http_stop(gw_t *gw)
{
    if (gw->mhd)
        MHD_stop_daemon(gw->mhd);
    gw->mhd = NULL;
    if (s_tls_key)
        lc_secure_zero(s_tls_key, strlen(s_tls_key));
    free(s_tls_key);
    free(s_tls_cert);
    s_tls_key = s_tls_cert = NULL;
}
