/*
 * st_server.c: serving one request (dispatch, the serial lock), the member locks and
 * the helpers handlers share (st_server.h). The threads are in st_threads.c.
 */
#include "st_server.h"
#include "lc_err.h"
#include "lc_log.h"
#include "lc_time.h"
#include "st_store.h"
#include "st_tier.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

/* ---- helpers ----------------------------------------------------------------------- */

const char *st_fail(st_call_t *c, const char *code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(c->msg, c->msglen, fmt, ap);
    va_end(ap);
    return code;
}

const char *st_need_role(st_call_t *c, int role)
{
    if (c->api.caller.role == role)
        return NULL;
    return st_fail(c, LC_API_FORBIDDEN, "this call needs role %s",
                   lc_name_of(lc_role_names, (uint32_t)role));
}

const char *st_decode(st_call_t *c, const lc_msgdesc_t *desc, void *out)
{
    int rc = lc_api_decode(&c->api, desc, out, c->msg, c->msglen);
    if (rc == LC_ERR_INVALID)
        return LC_API_INVALID_REQUEST;
    if (rc != LC_OK)
        return st_fail(c, LC_API_INTERNAL, "cannot decode the request: %s", lc_strerror(rc));
    return NULL;
}

const char *st_derive(st_call_t *c, const char *label, lc_id_t *out)
{
    int rc = lc_api_derive(&c->api, label, out);
    if (rc == LC_ERR_INVALID)
        return st_fail(c, LC_API_INVALID_REQUEST, "this call needs an idempotency key");
    if (rc != LC_OK)
        return st_fail(c, LC_API_INTERNAL, "%s", lc_strerror(rc));
    return NULL;
}

const char *st_reply(st_call_t *c, const lc_msgdesc_t *desc, const void *in, json_t **reply)
{
    *reply = lc_codec_encode(desc, in);
    if (!*reply)
        return st_fail(c, LC_API_INTERNAL, "cannot encode the reply");
    return NULL;
}

const char *st_db_fail(st_call_t *c, const char *what)
{
    lc_log_kv(LC_LOG_ERROR, c->rid, "database failure", "partner_id", c->partner, "what", what,
              NULL);
    return st_fail(c, LC_API_UNAVAILABLE, "settlement database unavailable (%s)", what);
}

const char *st_caller_partner(st_call_t *c, st_partner_t *p)
{
    memset(p, 0, sizeof *p);
    const char *e = st_need_role(c, LC_ROLE_PARTNER);
    if (e)
        return e;
    int rc = st_store_partner_get(c->srv, &c->api.caller.partner_id, p);
    if (rc == LC_ERR_NOT_FOUND)
        return st_fail(c, LC_API_FORBIDDEN, "the calling partner %s is not registered",
                       c->partner);
    if (rc != LC_OK)
        return st_db_fail(c, "load partner");
    return NULL;
}

const char *st_caller_partner_id(st_call_t *c, lc_id_t *id)
{
    st_partner_t p;
    const char *e = st_caller_partner(c, &p);
    *id = p.id; /* zero on failure: st_caller_partner zeroes p first */
    lc_codec_clear(&st_partner_desc, &p);
    return e;
}

const char *st_plain_decode(const lc_msgdesc_t *desc, const json_t *body, void *out, char *msg,
                            size_t msglen)
{
    lc_codec_err_t err;
    int rc = lc_codec_decode(desc, body, out, &err);
    if (rc == LC_ERR_INVALID) {
        snprintf(msg, msglen, "%s", err.message);
        return err.code ? err.code : LC_E_INVALID_FIELD;
    }
    if (rc != LC_OK) {
        snprintf(msg, msglen, "cannot decode the request: %s", lc_strerror(rc));
        return LC_E_INTERNAL;
    }
    return NULL;
}

const char *st_plain_reply(const lc_msgdesc_t *desc, const void *in, json_t **reply, char *msg,
                           size_t msglen)
{
    *reply = lc_codec_encode(desc, in);
    if (*reply)
        return NULL;
    snprintf(msg, msglen, "cannot encode the reply");
    return LC_E_INTERNAL;
}

/* ---- dispatch ---------------------------------------------------------------------- */

/* parallel: the type runs without the serial lock (st_server.h says why that is safe
 * for these: reads, and earns, which add rows keyed by their own id). */
static const struct {
    const char *type;
    st_handler_fn fn;
    bool parallel;
} s_routes[] = {
    {ST_TYPE_CREATE_PARTNER, st_h_create_partner, false},
    {ST_TYPE_LIST_PARTNERS, st_h_list_partners, true},
    {ST_TYPE_GET_PARTNER, st_h_get_partner, true},
    {ST_TYPE_PREPAY, st_h_prepay, false},
    {ST_TYPE_EARN, st_h_earn, true},
    {ST_TYPE_AUTHORIZE, st_h_authorize, false},
    {ST_TYPE_CAPTURE, st_h_capture, false},
    {ST_TYPE_VOID, st_h_void, false},
    {ST_TYPE_REFUND, st_h_refund, false},
    {ST_TYPE_RETURN, st_h_return, false},
    {ST_TYPE_GRANT, st_h_grant, false},
    {ST_TYPE_CREATE_COUPON, st_h_create_coupon, false},
    {ST_TYPE_ACTIVATE_COUPON, st_h_activate_coupon, false},
    {ST_TYPE_AUDIT_TRIAL_BALANCE, st_h_audit_trial_balance, true},
    {ST_TYPE_AUDIT_JOURNAL, st_h_audit_journal, true},
    {ST_TYPE_AUDIT_VERIFY, st_h_audit_verify, true},
    {ST_TYPE_AUDIT_LIABILITY, st_h_audit_liability, true},
    {ST_TYPE_PROPOSE_ADJUSTMENT, st_h_propose_adjustment, false},
    {ST_TYPE_APPROVE_ADJUSTMENT, st_h_approve_adjustment, false},
    {ST_TYPE_GET_ADJUSTMENT, st_h_get_adjustment, true},
    {ST_TYPE_STATEMENT, st_h_statement, true},
    {ST_TYPE_CLOSE_PERIOD, st_h_close_period, false},
    {ST_TYPE_RECONCILE, st_h_reconcile, true},
};

/* Serves an API call with handler fn. */
static const char *s_handle_api(st_server_t *s, const lc_request_t *req, st_handler_fn fn,
                                json_t **reply, char *msg, size_t msglen)
{
    st_call_t c = {.srv = s, .rid = req->request_id, .msg = msg, .msglen = msglen};
    if (lc_api_req_parse(req->body, &c.api, msg, msglen) != LC_OK)
        return LC_API_INVALID_REQUEST;
    if (!lc_id_is_zero(&c.api.caller.partner_id))
        lc_id_format(&c.api.caller.partner_id, c.partner);
    const char *code;
    if (st_store_ensure(s) != LC_OK)
        code = st_fail(&c, LC_API_UNAVAILABLE, "settlement database unavailable");
    else
        code = fn(&c, reply);
    if (code) {
        lc_log_kv(strcmp(code, LC_API_INTERNAL) && strcmp(code, LC_API_UNAVAILABLE) ? LC_LOG_INFO
                                                                                    : LC_LOG_ERROR,
                  c.rid, "refused", "type", req->type, "partner_id", c.partner, "code", code,
                  "message", msg, NULL);
        json_decref(*reply);
        *reply = NULL;
    }
    lc_api_req_clear(&c.api);
    return code;
}

/* Serves one parsed request; returns NULL with *reply, or an error code. */
static const char *s_handle(st_server_t *s, const lc_request_t *req, json_t **reply, char *msg,
                            size_t msglen)
{
    if (strcmp(req->type, ST_TYPE_PING) == 0) {
        if (json_object_size(req->body) != 0) {
            snprintf(msg, msglen, "settlement.ping takes an empty body");
            return LC_E_UNKNOWN_FIELD;
        }
        *reply = json_object();
        return NULL;
    }
    const char *code;
    if (strcmp(req->type, ST_TYPE_EXPIRE_NOW) == 0) { /* ledger only: no database needed */
        pthread_mutex_lock(&s->locks->serial);
        code = st_expire_now(s, req->request_id, req->body, reply, msg, msglen);
        pthread_mutex_unlock(&s->locks->serial);
        return code;
    }
    if (strcmp(req->type, ST_TYPE_TIER_REVIEW) == 0) { /* internal, plain body */
        pthread_mutex_lock(&s->locks->serial);
        code = st_tier_review(s, req->request_id, req->body, reply, msg, msglen);
        pthread_mutex_unlock(&s->locks->serial);
        return code;
    }
    for (size_t i = 0; i < sizeof s_routes / sizeof s_routes[0]; i++) {
        if (strcmp(s_routes[i].type, req->type) != 0)
            continue;
        if (s_routes[i].parallel)
            return s_handle_api(s, req, s_routes[i].fn, reply, msg, msglen);
        pthread_mutex_lock(&s->locks->serial);
        code = s_handle_api(s, req, s_routes[i].fn, reply, msg, msglen);
        pthread_mutex_unlock(&s->locks->serial);
        return code;
    }
    snprintf(msg, msglen, "settlement does not serve %s", req->type);
    return LC_E_UNKNOWN_TYPE;
}

char *st_serve(st_server_t *s, const char *data, size_t len, size_t *outlen)
{
    lc_request_t req;
    lc_codec_err_t cerr;
    char *out;
    *outlen = 0;
    if (lc_request_parse(data, len, &req, &cerr) != LC_OK) {
        out = lc_reply_serialize_error(req.type, req.request_id, cerr.code, cerr.message, outlen);
    } else if (req.deadline_ms && req.deadline_ms < lc_now_ms()) {
        out = lc_reply_serialize_error(req.type, req.request_id, LC_E_DEADLINE,
                                       "deadline passed before the request was served", outlen);
    } else {
        json_t *body = NULL;
        char msg[512] = "";
        const char *code = s_handle(s, &req, &body, msg, sizeof msg);
        if (code)
            out = lc_reply_serialize_error(req.type, req.request_id, code, msg, outlen);
        else
            out = lc_reply_serialize_ok(req.type, req.request_id, body, outlen);
        json_decref(body);
        s->requests++;
    }
    lc_request_clear(&req);
    return out;
}

/* ---- member locks ------------------------------------------------------------------ */

uint32_t st_member_hash(const lc_id_t *member)
{
    uint32_t h = 2166136261u; /* FNV-1a over the id's bytes */
    for (size_t i = 0; i < sizeof member->b; i++)
        h = (h ^ member->b[i]) * 16777619u;
    return h;
}

static pthread_mutex_t *s_member_stripe(st_server_t *s, const lc_id_t *member)
{
    return &s->locks->member[st_member_hash(member) % ST_MEMBER_STRIPES];
}

void st_member_lock(st_server_t *s, const lc_id_t *member)
{
    pthread_mutex_lock(s_member_stripe(s, member));
}

void st_member_unlock(st_server_t *s, const lc_id_t *member)
{
    pthread_mutex_unlock(s_member_stripe(s, member));
}
