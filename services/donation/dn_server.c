/*
 * dn_server.c: the request loop, dispatch and the helpers handlers share
 * (dn_server.h).
 */
#include "dn_server.h"
#include "dn_arith.h"
#include "dn_store.h"
#include "lc_err.h"
#include "lc_log.h"
#include "lc_time.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

/* ---- helpers ----------------------------------------------------------------------- */

const char *dn_fail(dn_call_t *c, const char *code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(c->msg, c->msglen, fmt, ap);
    va_end(ap);
    return code;
}

const char *dn_need_roles(dn_call_t *c, unsigned roles)
{
    if (roles & DN_ROLE(c->api.caller.role))
        return NULL;
    return dn_fail(c, LC_API_FORBIDDEN, "role %s may not make this call",
                   lc_name_of(lc_role_names, (uint32_t)c->api.caller.role)
                       ? lc_name_of(lc_role_names, (uint32_t)c->api.caller.role)
                       : "none");
}

const char *dn_decode(dn_call_t *c, const lc_msgdesc_t *desc, void *out)
{
    int rc = lc_api_decode(&c->api, desc, out, c->msg, c->msglen);
    if (rc == LC_ERR_INVALID)
        return LC_API_INVALID_REQUEST;
    if (rc != LC_OK)
        return dn_fail(c, LC_API_INTERNAL, "cannot decode the request: %s", lc_strerror(rc));
    return NULL;
}

const char *dn_derive(dn_call_t *c, const char *label, lc_id_t *out)
{
    int rc = lc_api_derive(&c->api, label, out);
    if (rc == LC_ERR_INVALID)
        return dn_fail(c, LC_API_INVALID_REQUEST, "this call needs an idempotency key");
    if (rc != LC_OK)
        return dn_fail(c, LC_API_INTERNAL, "%s", lc_strerror(rc));
    return NULL;
}

const char *dn_reply(dn_call_t *c, const lc_msgdesc_t *desc, const void *in, json_t **reply)
{
    *reply = lc_codec_encode(desc, in);
    if (!*reply)
        return dn_fail(c, LC_API_INTERNAL, "cannot encode the reply");
    return NULL;
}

const char *dn_db_fail(dn_call_t *c, const char *what)
{
    lc_log_kv(LC_LOG_ERROR, c->rid, "database failure", "what", what, NULL);
    return dn_fail(c, LC_API_UNAVAILABLE, "donation database unavailable (%s)", what);
}

const char *dn_list_query(dn_call_t *c, int64_t *limit, lc_id_t *after, bool *has_after)
{
    if (lc_api_query_i64(&c->api, "limit", DN_LIST_DEFAULT, 1, LC_API_LIST_MAX, limit, c->msg,
                         c->msglen) != LC_OK)
        return LC_API_INVALID_REQUEST;
    const char *sa = lc_api_query(&c->api, "starting_after");
    *has_after = sa != NULL;
    if (sa && (strlen(sa) != LC_ID_STRLEN || lc_id_parse(sa, after) != LC_OK))
        return dn_fail(c, LC_API_INVALID_REQUEST, "starting_after: expected an id");
    return NULL;
}

const char *dn_period_param(dn_call_t *c, const char **text, int64_t *start, int64_t *end)
{
    *text = lc_api_param(&c->api, "period");
    if (!*text || dn_period_parse(*text, start, end) != LC_OK)
        return dn_fail(c, LC_API_INVALID_REQUEST, "period: expected YYYY-MM");
    return NULL;
}

const char *dn_money(dn_call_t *c, int64_t points, lc_money_t *out)
{
    memset(out, 0, sizeof *out);
    if (dn_value_cents(points, c->srv->cfg.point_value_cents, &out->amount) != LC_OK)
        return dn_fail(c, LC_API_INVALID_REQUEST, "the value of %lld points overflows",
                       (long long)points);
    out->currency = strdup(c->srv->cfg.currency);
    if (!out->currency)
        return dn_fail(c, LC_API_INTERNAL, "out of memory");
    return NULL;
}

int64_t dn_period_now(const dn_server_t *s)
{
    return lc_now_us() + s->cfg.period_offset_s * LC_USEC_PER_SEC;
}

/* ---- dispatch ---------------------------------------------------------------------- */

static const struct {
    const char *type;
    dn_handler_fn fn;
    bool public;      /* no caller: the body is not an API call and is not read */
} s_routes[] = {
    {DN_TYPE_RECEIPT_KEYS, dn_h_receipt_keys, true},
    {DN_TYPE_CREATE_CHARITY, dn_h_create_charity, false},
    {DN_TYPE_LIST_CHARITIES, dn_h_list_charities, false},
    {DN_TYPE_CREATE_CAMPAIGN, dn_h_create_campaign, false},
    {DN_TYPE_LIST_CAMPAIGNS, dn_h_list_campaigns, false},
    {DN_TYPE_DONATE, dn_h_donate, false},
    {DN_TYPE_GET_RECEIPT, dn_h_get_receipt, false},
    {DN_TYPE_CREATE_PLEDGE, dn_h_create_pledge, false},
    {DN_TYPE_CANCEL_PLEDGE, dn_h_cancel_pledge, false},
    {DN_TYPE_RUN_PLEDGES, dn_h_run_pledges, false},
    {DN_TYPE_PAYOUT, dn_h_payout, false},
    {DN_TYPE_REPORT, dn_h_report, false},
};

/* Serves one parsed request; returns NULL with *reply, or an error code. */
static const char *s_handle(dn_server_t *s, const lc_request_t *req, json_t **reply, char *msg,
                            size_t msglen)
{
    if (strcmp(req->type, DN_TYPE_PING) == 0) {
        if (json_object_size(req->body) != 0) {
            snprintf(msg, msglen, "donation.ping takes an empty body");
            return LC_E_UNKNOWN_FIELD;
        }
        *reply = json_object();
        return NULL;
    }
    size_t i = 0, n = sizeof s_routes / sizeof s_routes[0];
    while (i < n && strcmp(s_routes[i].type, req->type))
        i++;
    if (i == n) {
        snprintf(msg, msglen, "donation does not serve %s", req->type);
        return LC_E_UNKNOWN_TYPE;
    }
    dn_call_t c = {.srv = s, .rid = req->request_id, .msg = msg, .msglen = msglen};
    if (!s_routes[i].public && lc_api_req_parse(req->body, &c.api, msg, msglen) != LC_OK)
        return LC_API_INVALID_REQUEST;
    const char *code;
    if (!s_routes[i].public && dn_store_ensure(s) != LC_OK)
        code = dn_fail(&c, LC_API_UNAVAILABLE, "donation database unavailable");
    else
        code = s_routes[i].fn(&c, reply);
    if (code) {
        lc_log_kv(strcmp(code, LC_API_INTERNAL) && strcmp(code, LC_API_UNAVAILABLE) ? LC_LOG_INFO
                                                                                    : LC_LOG_ERROR,
                  c.rid, "refused", "type", req->type, "code", code, "message", msg, NULL);
        json_decref(*reply);
        *reply = NULL;
    }
    lc_api_req_clear(&c.api);
    return code;
}

/* Receives, serves and answers one request if one arrives within timeout_ms. */
static void s_serve_one(dn_server_t *s, int timeout_ms)
{
    lc_bus_peer_t peer;
    char *data;
    size_t len;
    if (lc_bus_server_recv(s->bus, &peer, &data, &len, timeout_ms) != LC_OK)
        return;
    lc_request_t req;
    lc_codec_err_t cerr;
    char *out = NULL;
    size_t outlen = 0;
    if (lc_request_parse(data, len, &req, &cerr) != LC_OK) {
        out = lc_reply_serialize_error(req.type, req.request_id, cerr.code, cerr.message, &outlen);
    } else if (req.deadline_ms && req.deadline_ms < lc_now_ms()) {
        out = lc_reply_serialize_error(req.type, req.request_id, LC_E_DEADLINE,
                                       "deadline passed before the request was served", &outlen);
    } else {
        json_t *body = NULL;
        char msg[512] = "";
        const char *code = s_handle(s, &req, &body, msg, sizeof msg);
        if (code)
            out = lc_reply_serialize_error(req.type, req.request_id, code, msg, &outlen);
        else
            out = lc_reply_serialize_ok(req.type, req.request_id, body, &outlen);
        json_decref(body);
        s->requests++;
    }
    if (out)
        lc_bus_server_send(s->bus, &peer, out, outlen);
    free(out);
    lc_request_clear(&req);
    free(data);
}

/* ---- lifecycle --------------------------------------------------------------------- */

int dn_server_open(dn_server_t *s, const dn_config_t *cfg)
{
    memset(s, 0, sizeof *s);
    s->cfg = *cfg;
    int rc = dn_keyring_open(&s->keys, cfg->secrets_dir);
    if (rc != LC_OK)
        return rc;
    s->zctx = zmq_ctx_new();
    if (!s->zctx)
        return LC_ERR_IO;
    char *err = NULL;
    s->db = lc_db_connect(cfg->conninfo, &err);
    if (!s->db) {
        lc_error(NULL, "cannot connect to the donation database: %s", err ? err : "?");
        free(err);
        return LC_ERR_UNAVAILABLE;
    }
    s->bus = lc_bus_server_new(s->zctx, cfg->bind, &err);
    if (!s->bus) {
        lc_error(NULL, "%s", err ? err : "cannot bind");
        free(err);
        return LC_ERR_IO;
    }
    s->ledger = lc_bus_client_new(s->zctx, cfg->ledger_connect);
    if (!s->ledger) {
        lc_error(NULL, "cannot open a client for %s", cfg->ledger_connect);
        return LC_ERR_IO;
    }
    s->next_sweep_ms = lc_mono_ms();
    return LC_OK;
}

int dn_server_run(dn_server_t *s, volatile int *stop)
{
    while (!*stop) {
        int64_t now = lc_mono_ms();
        if (now >= s->next_sweep_ms) {
            if (dn_store_ensure(s) == LC_OK)
                dn_donate_sweep(s);
            s->next_sweep_ms = lc_mono_ms() + s->cfg.sweep_interval_ms;
            now = lc_mono_ms();
        }
        int64_t wait = s->next_sweep_ms - now;
        if (wait > DN_POLL_MS)
            wait = DN_POLL_MS;
        if (wait < 1)
            wait = 1;
        s_serve_one(s, (int)wait);
    }
    return LC_OK;
}

void dn_server_close(dn_server_t *s)
{
    lc_bus_client_destroy(&s->ledger);
    lc_bus_server_destroy(&s->bus);
    lc_db_destroy(&s->db);
    dn_keyring_close(&s->keys);
    if (s->zctx)
        zmq_ctx_term(s->zctx);
    s->zctx = NULL;
}
