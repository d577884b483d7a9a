/*
 * st_redeem.c: redemptions at the POS: authorize, capture, void, refund.
 *
 *   authorize  points >= settlement.min_redemption (else below_redemption_threshold);
 *              the member must have the points available (else insufficient_points,
 *              checked before the code is used so a short balance does not burn it);
 *              members.consume_code (use_id derived from the request; else
 *              invalid_member_code); then a ledger hold member -> partner redemption
 *              with timeout = the hold time. Ids: redemption = derive("redemption"),
 *              hold = lc_id_derive(redemption, "hold").
 *   capture    post of the hold, all or `points` of it (id derive("capture")).
 *   void       void of the hold (id derive("void")).
 *   refund     a transfer redemption -> member that `reverses` the capture (the ledger
 *              gives the points back to the lots they came from); all refunds of a
 *              redemption at most its captured points (id derive("refund")).
 * Refusals (documented in proto/settlement.json and the report):
 *   capture above the authorized points                      invalid_request (400)
 *   a second capture, capture after void or expiry           conflict (409)
 *   void after capture, after another void, after expiry     conflict (409)
 *   refund of a redemption that is not captured              conflict (409)
 *   refunds above the captured points                        conflict (409)
 *   another partner's redemption                             not_found (404)
 * The same request retried (same idempotency key) answers as the first time.
 */
#include "lc_err.h"
#include "lc_log.h"
#include "lc_time.h"
#include "st_arith.h"
#include "st_ledger.h"
#include "st_members.h"
#include "st_server.h"
#include "st_store.h"

#include <string.h>

#define HOLD_US(s) ((s)->cfg.hold_seconds * LC_USEC_PER_SEC)

static const char *s_reply_auth(st_call_t *c, const st_redemption_row_t *r, json_t **reply)
{
    st_authorize_rep_t rep = {.id = r->id,
                              .status = r->status,
                              .points = r->points,
                              .value = {.amount = r->value_cents,
                                        .currency = (char *)c->srv->cfg.currency},
                              .expires_at = r->expires_at};
    return st_reply(c, &st_authorize_rep_desc, &rep, reply);
}

static const char *s_log_ok(st_call_t *c, const char *what, const lc_id_t *red,
                            const lc_id_t *tid)
{
    char r[LC_ID_STRLEN + 1], t[LC_ID_STRLEN + 1];
    lc_id_format(red, r);
    lc_id_format(tid, t);
    lc_log_kv(LC_LOG_INFO, c->rid, what, "partner_id", c->partner, "redemption_id", r,
              "transfer_id", t, NULL);
    return NULL;
}

/* Checks the member has points available before its code is used. */
static const char *s_precheck(st_call_t *c, const lc_id_t *member, int64_t points)
{
    int64_t available = 0;
    int rc = st_ledger_available(c->srv, c->rid, member, &available);
    if (rc == LC_ERR_NOT_FOUND)
        available = 0;
    else if (rc != LC_OK)
        return st_fail(c, LC_API_UNAVAILABLE, "the ledger is unavailable");
    if (available < points)
        return st_fail(c, LC_API_INSUFFICIENT_POINTS, "the member has %lld points available",
                       (long long)(available > 0 ? available : 0));
    return NULL;
}

/* The member's daily cap (settlement.daily_redemption_cap; 0: none): points held
 * or captured by redemptions authorized since 00:00 UTC today, plus these, may not
 * exceed it. Checked before the code is used, so a refusal costs the member nothing. */
static const char *s_daily_cap(st_call_t *c, const lc_id_t *member, int64_t points)
{
    int64_t cap = c->srv->cfg.daily_redemption_cap;
    if (cap == 0)
        return NULL;
    int64_t now = lc_now_us(), today = now - now % (86400 * LC_USEC_PER_SEC), used = 0;
    if (st_store_redeemed_since(c->srv, member, today, &used) != LC_OK)
        return st_db_fail(c, "sum today's redemptions");
    if (used + points <= cap)
        return NULL;
    char mid[LC_ID_STRLEN + 1], u[24];
    lc_id_format(member, mid);
    snprintf(u, sizeof u, "%lld", (long long)used);
    lc_log_kv(LC_LOG_WARN, c->rid, "daily redemption cap reached", "partner_id", c->partner,
              "member_id", mid, "redeemed_today", u, NULL);
    return st_fail(c, LC_API_DAILY_LIMIT,
                   "the member may redeem at most %lld points a day (UTC); %lld are left today",
                   (long long)cap, (long long)(cap > used ? cap - used : 0));
}

const char *st_h_authorize(st_call_t *c, json_t **reply)
{
    lc_id_t pid;
    const char *e = st_caller_partner_id(c, &pid);
    if (e)
        return e;
    st_authorize_req_t req;
    if ((e = st_decode(c, &st_authorize_req_desc, &req)))
        return e;
    st_redemption_row_t row;
    memset(&row, 0, sizeof row);
    int rc;
    if (!req.card_number[0] || !req.member_code[0] || !req.receipt_id[0]) {
        e = st_fail(c, LC_API_INVALID_REQUEST,
                    "card_number, member_code and receipt_id must not be empty");
        goto done;
    }
    if (req.points < c->srv->cfg.min_redemption) {
        e = st_fail(c, LC_API_BELOW_THRESHOLD, "a redemption needs at least %lld points",
                    (long long)c->srv->cfg.min_redemption);
        goto done;
    }
    if (st_points_value(req.points, c->srv->cfg.point_value_cents, &row.value_cents) != LC_OK) {
        e = st_fail(c, LC_API_INVALID_REQUEST, "points: too many");
        goto done;
    }
    if ((e = st_derive(c, "redemption", &row.id)))
        goto done;
    rc = st_store_redemption_get(c->srv, &row.id, &pid, &row);
    if (rc == LC_OK) {
        e = s_reply_auth(c, &row, reply);
        goto done;
    }
    if (rc != LC_ERR_NOT_FOUND) {
        e = st_db_fail(c, "load redemption");
        goto done;
    }
    if ((e = st_members_active(c, req.card_number, &row.member_id)))
        goto done;
    if ((e = s_precheck(c, &row.member_id, req.points)))
        goto done;
    if ((e = s_daily_cap(c, &row.member_id, req.points)))
        goto done;
    lc_id_t use_id;
    if ((e = st_derive(c, "member_code", &use_id)))
        goto done;
    char refusal[LC_CODE_MAX], why[256];
    rc = st_members_consume(c->srv, c->rid, &row.member_id, req.member_code, &use_id, req.points,
                            refusal, why, sizeof why);
    if (rc == LC_ERR_CONFLICT) {
        e = st_fail(c, strcmp(refusal, LC_API_MEMBER_CODE_LOCKED) == 0   ? LC_API_MEMBER_CODE_LOCKED
                       : strcmp(refusal, LC_API_COOLING_OFF) == 0        ? LC_API_COOLING_OFF
                       : strcmp(refusal, LC_API_MEMBER_FROZEN) == 0      ? LC_API_MEMBER_FROZEN
                                                                         : LC_API_INVALID_MEMBER_CODE,
                    "%s", why);
        goto done;
    }
    if (rc != LC_OK) {
        e = st_fail(c, LC_API_UNAVAILABLE, "the members service is unavailable");
        goto done;
    }
    ld_transfer_t t = {.flags = LD_TF_PENDING, .debit_account_id = row.member_id,
                       .amount = req.points, .timeout = (uint32_t)c->srv->cfg.hold_seconds,
                       .code = ST_CODE_REDEEM, .user_data = row.id};
    lc_id_derive(&row.id, "hold", &t.id);
    st_partner_accounts(&pid, NULL, &t.credit_account_id, NULL);
    int r;
    if ((e = st_ledger_transfer_one(c, &t, &r, &row.created_at)))
        goto done;
    if (!st_ledger_applied(r)) {
        e = st_outcome(c, r, &t.id, true);
        goto done;
    }
    row.partner_id = pid;
    row.points = req.points;
    row.status = ST_RED_AUTHORIZED;
    row.hold_id = t.id;
    row.expires_at = row.created_at + HOLD_US(c->srv);
    if (st_store_redemption_insert(c->srv, &row, req.receipt_id) != LC_OK) {
        e = st_db_fail(c, "insert redemption");
        goto done;
    }
    s_log_ok(c, "redemption authorized", &row.id, &t.id);
    e = s_reply_auth(c, &row, reply);
done:
    lc_codec_clear(&st_authorize_req_desc, &req);
    return e;
}

/* Loads the caller's redemption named by the path (not_found for others'). */
static const char *s_load(st_call_t *c, st_redemption_row_t *row)
{
    lc_id_t pid;
    const char *e = st_caller_partner_id(c, &pid);
    if (e)
        return e;
    lc_id_t id;
    if (lc_api_param_id(&c->api, "id", &id) != LC_OK)
        return st_fail(c, LC_API_NOT_FOUND, "no such redemption");
    int rc = st_store_redemption_get(c->srv, &id, &pid, row);
    if (rc == LC_ERR_NOT_FOUND)
        return st_fail(c, LC_API_NOT_FOUND, "no such redemption");
    if (rc != LC_OK)
        return st_db_fail(c, "load redemption");
    return NULL;
}

/* The start of capture, void and refund: the caller's redemption (s_load), the
 * body decoded with desc into req, and this operation's id derived from label. */
static const char *s_begin(st_call_t *c, st_redemption_row_t *row, const lc_msgdesc_t *desc,
                           void *req, const char *label, lc_id_t *id)
{
    const char *e = s_load(c, row);
    if (!e)
        e = st_decode(c, desc, req);
    if (!e)
        e = st_derive(c, label, id);
    return e;
}

/* conflict for a redemption that is no longer authorized; a hold whose time is up is
 * recorded as expired (the ledger voids it on its own). */
static const char *s_not_authorized(st_call_t *c, st_redemption_row_t *row)
{
    if (row->status == ST_RED_AUTHORIZED && lc_now_us() >= row->expires_at) {
        row->status = ST_RED_EXPIRED;
        if (st_store_redemption_update(c->srv, row) != LC_OK)
            return st_db_fail(c, "update redemption");
    }
    if (row->status == ST_RED_AUTHORIZED)
        return NULL;
    return st_fail(c, LC_API_CONFLICT, "the redemption is %s",
                   lc_name_of(st_redemption_status_names, (uint32_t)row->status));
}

/* Posts or voids the hold with transfer t; on success moves the row to status. */
static const char *s_resolve(st_call_t *c, st_redemption_row_t *row, ld_transfer_t *t,
                             int status)
{
    int r;
    const char *e = st_ledger_transfer_one(c, t, &r, NULL);
    if (e)
        return e;
    if (!st_ledger_applied(r)) {
        if (r == LD_PENDING_TRANSFER_EXPIRED) {
            row->status = ST_RED_EXPIRED;
            if (st_store_redemption_update(c->srv, row) != LC_OK)
                return st_db_fail(c, "update redemption");
        }
        return st_outcome(c, r, &t->id, true);
    }
    row->status = status;
    if (st_store_redemption_update(c->srv, row) != LC_OK)
        return st_db_fail(c, "update redemption");
    return s_log_ok(c, status == ST_RED_CAPTURED ? "redemption captured" : "redemption voided",
                    &row->id, &t->id);
}

const char *st_h_capture(st_call_t *c, json_t **reply)
{
    st_capture_req_t req;
    st_redemption_row_t row;
    lc_id_t cap;
    const char *e = s_begin(c, &row, &st_capture_req_desc, &req, "capture", &cap);
    if (e)
        return e;
    if (!(row.status == ST_RED_CAPTURED && lc_id_eq(&row.capture_id, &cap))) {
        if ((e = s_not_authorized(c, &row)))
            return e;
        int64_t points = req.points ? req.points : row.points;
        if (points > row.points)
            return st_fail(c, LC_API_INVALID_REQUEST, "points: at most the %lld authorized",
                           (long long)row.points);
        ld_transfer_t t = {.id = cap, .flags = LD_TF_POST_PENDING, .pending_id = row.hold_id,
                           .amount = points, .code = ST_CODE_REDEEM, .user_data = row.id};
        row.capture_id = cap;
        row.captured_points = points;
        if ((e = s_resolve(c, &row, &t, ST_RED_CAPTURED)))
            return e;
    }
    st_capture_rep_t rep = {.id = row.id, .status = ST_RED_CAPTURED,
                            .points = row.captured_points};
    return st_reply(c, &st_capture_rep_desc, &rep, reply);
}

const char *st_h_void(st_call_t *c, json_t **reply)
{
    st_empty_t none;
    st_redemption_row_t row;
    lc_id_t vid;
    const char *e = s_begin(c, &row, &st_empty_desc, &none, "void", &vid);
    if (e)
        return e;
    if (!(row.status == ST_RED_VOIDED && lc_id_eq(&row.void_id, &vid))) {
        if ((e = s_not_authorized(c, &row)))
            return e;
        ld_transfer_t t = {.id = vid, .flags = LD_TF_VOID_PENDING, .pending_id = row.hold_id,
                           .code = ST_CODE_REDEEM, .user_data = row.id};
        row.void_id = vid;
        if ((e = s_resolve(c, &row, &t, ST_RED_VOIDED)))
            return e;
    }
    st_void_rep_t rep = {.id = row.id, .status = ST_RED_VOIDED};
    return st_reply(c, &st_void_rep_desc, &rep, reply);
}

const char *st_h_refund(st_call_t *c, json_t **reply)
{
    st_refund_req_t req;
    st_redemption_row_t row;
    lc_id_t rid;
    const char *e = s_begin(c, &row, &st_refund_req_desc, &req, "refund", &rid);
    if (e)
        return e;
    st_refund_rep_t rep = {.id = row.id, .points = req.points};
    int64_t stored;
    int rc = st_store_refund_get(c->srv, &rid, &row.id, &stored);
    if (rc == LC_OK) {
        rep.points = stored;
        rep.refunded_points = row.refunded_points;
        return st_reply(c, &st_refund_rep_desc, &rep, reply);
    }
    if (rc != LC_ERR_NOT_FOUND)
        return st_db_fail(c, "load refund");
    if (row.status != ST_RED_CAPTURED)
        return st_fail(c, LC_API_CONFLICT, "only a captured redemption can be refunded");
    if (req.points > row.captured_points - row.refunded_points)
        return st_fail(c, LC_API_CONFLICT, "only %lld captured points are left to refund",
                       (long long)(row.captured_points - row.refunded_points));
    ld_transfer_t t = {.id = rid, .credit_account_id = row.member_id, .amount = req.points,
                       .reverses = row.capture_id, .code = ST_CODE_REFUND,
                       .user_data = row.id};
    st_partner_accounts(&row.partner_id, NULL, &t.debit_account_id, NULL);
    int r;
    if ((e = st_ledger_transfer_one(c, &t, &r, NULL)))
        return e;
    if (!st_ledger_applied(r))
        return st_outcome(c, r, &t.id, false);
    if (st_store_refund_insert(c->srv, &rid, &row.id, req.points, lc_now_us()) != LC_OK)
        return st_db_fail(c, "insert refund");
    s_log_ok(c, "redemption refunded", &row.id, &rid);
    rep.refunded_points = row.refunded_points + req.points;
    return st_reply(c, &st_refund_rep_desc, &rep, reply);
}
