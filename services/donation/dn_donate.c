/*
 * dn_donate.c: donations (POST /v1/donations), their receipts, and the sweep that
 * finishes donations left pending (dn_donate.h, README.md "Rules").
 *
 * The ledger chain of a donation, ids derived from the donation id:
 *   member transfer  lc_id_derive(id, "member")  member -> charity (101) or pool (103)
 *                                               flags linked when a match follows
 *   match transfer   lc_id_derive(id, "match")   partner issuance -> charity (102)
 * user_data of both is the donation id. Both or neither are applied.
 */
#include "dn_donate.h"
#include "dn_arith.h"
#include "dn_ledger.h"
#include "lc_err.h"
#include "lc_log.h"
#include "lc_time.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The static code of a stored refusal (codes stored are API.md's). */
static const char *s_known_code(const char *stored)
{
    static const char *const known[] = {
        LC_API_INSUFFICIENT_POINTS, LC_API_MEMBER_FROZEN, LC_API_NOT_FOUND,
        LC_API_BUDGET_EXHAUSTED,    LC_API_CONFLICT,      LC_API_INTERNAL,
    };
    for (size_t i = 0; i < sizeof known / sizeof known[0]; i++)
        if (!strcmp(stored, known[i]))
            return known[i];
    return LC_API_CONFLICT;
}

/* The API code of a ledger refusal r of leg (0 member, 1 match). */
static const char *s_refusal(int leg, int r, const char **why)
{
    switch (r) {
    case LD_EXCEEDS_CREDITS:
        *why = leg == 0 ? "not enough points" : "the matching partner's prepaid budget is used up";
        return leg == 0 ? LC_API_INSUFFICIENT_POINTS : LC_API_BUDGET_EXHAUSTED;
    case LD_DEBIT_ACCOUNT_FROZEN:
    case LD_DEBIT_ACCOUNT_CLOSED:
        *why = leg == 0 ? "the member's account is frozen" : "the partner's account is frozen";
        return leg == 0 ? LC_API_MEMBER_FROZEN : LC_API_CONFLICT;
    case LD_DEBIT_ACCOUNT_NOT_FOUND:
        *why = leg == 0 ? "no such member" : "no such partner";
        return LC_API_NOT_FOUND;
    case LD_CREDIT_ACCOUNT_FROZEN:
    case LD_CREDIT_ACCOUNT_CLOSED:
        *why = "the charity's account is frozen";
        return LC_API_CONFLICT;
    case LD_ID_ALREADY_FAILED:
        *why = "this donation failed before and cannot be retried";
        return LC_API_CONFLICT;
    default:
        *why = "the ledger refused the donation";
        return LC_API_INTERNAL;
    }
}

/* Signs the receipt of d booked at ts and records d as posted. */
static const char *s_post(dn_call_t *c, dn_donation_row_t *d, int64_t ts)
{
    dn_receipt_payload_t p = {.donation_id = d->id,
                              .member_id = d->member_id,
                              .charity_id = d->charity_id,
                              .campaign_id = d->campaign_id,
                              .pool = d->pool,
                              .points = d->points,
                              .matched_points = d->matched_points,
                              .value = {.amount = d->value_cents,
                                        .currency = (char *)c->srv->cfg.currency},
                              .time = ts};
    dn_receipt_t r;
    int rc = dn_receipt_sign(&c->srv->keys, &p, &r);
    if (rc != LC_OK)
        return dn_fail(c, LC_API_INTERNAL, "cannot sign the receipt: %s", lc_strerror(rc));
    rc = dn_store_donation_posted(c->srv, &d->id, ts, &r);
    lc_codec_clear(&dn_receipt_desc, &r);
    if (rc != LC_OK)
        return dn_db_fail(c, "record the donation");
    d->status = DN_DONATION_POSTED;
    d->booked_at = ts;
    return NULL;
}

/* Sends d's ledger chain (the same ids every time) and records the outcome. */
static const char *s_finish(dn_call_t *c, dn_donation_row_t *d)
{
    ld_transfer_t t[2];
    memset(t, 0, sizeof t);
    size_t n = d->matched_points > 0 ? 2 : 1;
    t[0].id = d->member_transfer;
    t[0].debit_account_id = d->member_id;
    if (d->pool)
        dn_pool_account(&t[0].credit_account_id);
    else
        dn_charity_account(&d->charity_id, &t[0].credit_account_id);
    t[0].amount = d->points;
    t[0].code = d->pool ? DN_CODE_POOL : DN_CODE_DONATION;
    t[0].user_data = d->id;
    if (n == 2) {
        t[0].flags = LD_TF_LINKED;
        t[1].id = d->match_transfer;
        dn_partner_issuance(&d->match_partner_id, &t[1].debit_account_id);
        t[1].credit_account_id = t[0].credit_account_id;
        t[1].amount = d->matched_points;
        t[1].code = DN_CODE_MATCH;
        t[1].user_data = d->id;
    }
    ld_results_rep_t res;
    if (dn_ledger_transfers(c->srv, c->rid, t, n, &res) != LC_OK)
        return dn_fail(c, LC_API_UNAVAILABLE, "the ledger is unavailable; retry with the same key");
    int64_t ts = res.results[0].timestamp;
    int leg = -1, r = LD_OK;
    for (size_t i = 0; i < n && leg < 0; i++) {
        int ri = res.results[i].result;
        if (!dn_ledger_applied(ri) && ri != LD_LINKED_EVENT_FAILED) {
            leg = (int)i;
            r = ri;
        }
    }
    lc_codec_clear(&ld_results_rep_desc, &res);
    char idt[LC_ID_STRLEN + 1];
    lc_id_format(&d->id, idt);
    if (leg < 0) {
        const char *e = s_post(c, d, ts);
        if (!e) {
            char pts[24], m[24];
            snprintf(pts, sizeof pts, "%lld", (long long)d->points);
            snprintf(m, sizeof m, "%lld", (long long)d->matched_points);
            lc_log_kv(LC_LOG_INFO, c->rid, "donation booked", "donation_id", idt, "points", pts,
                      "matched_points", m, NULL);
        }
        return e;
    }
    const char *why;
    const char *code = s_refusal(leg, r, &why);
    lc_log_kv(!strcmp(code, LC_API_INTERNAL) ? LC_LOG_ERROR : LC_LOG_INFO, c->rid,
              "ledger refused a donation", "donation_id", idt, "result",
              dn_ledger_result_name(r), NULL);
    if (dn_store_donation_failed(c->srv, d, code) != LC_OK)
        return dn_db_fail(c, "record the refusal");
    d->status = DN_DONATION_FAILED;
    snprintf(d->refusal, sizeof d->refusal, "%s", code);
    return dn_fail(c, code, "%s (ledger: %s)", why, dn_ledger_result_name(r));
}

/* Answers from an existing row. */
static const char *s_existing(dn_call_t *c, dn_donation_row_t *d)
{
    if (d->status == DN_DONATION_POSTED)
        return NULL;
    if (d->status == DN_DONATION_FAILED)
        return dn_fail(c, s_known_code(d->refusal), "this donation was refused before (%s)",
                       d->refusal);
    return s_finish(c, d);
}

/* Resolves the target of g into d (charity, campaign, match partner, match). */
static const char *s_target(dn_call_t *c, const dn_gift_t *g, dn_donation_row_t *d,
                            dn_campaign_t *cp)
{
    if (g->pool) {
        d->pool = true;
        return NULL;
    }
    d->charity_id = g->charity_id;
    if (!lc_id_is_zero(&g->campaign_id)) {
        int rc = dn_store_campaign_get(c->srv, &g->campaign_id, cp);
        if (rc == LC_ERR_NOT_FOUND)
            return dn_fail(c, LC_API_NOT_FOUND, "campaign_id: no such campaign");
        if (rc != LC_OK)
            return dn_db_fail(c, "load campaign");
        int st = dn_campaign_status_at(cp, lc_now_us());
        if (st != DN_CAMPAIGN_OPEN)
            return dn_fail(c, LC_API_CONFLICT, "the campaign is %s: it takes no donations",
                           st == DN_CAMPAIGN_SCHEDULED ? "not open yet" : "closed");
        d->campaign_id = cp->id;
        d->charity_id = cp->charity_id;
    }
    dn_charity_t ch;
    int rc = dn_store_charity_get(c->srv, &d->charity_id, &ch);
    if (rc == LC_ERR_NOT_FOUND)
        return dn_fail(c, LC_API_NOT_FOUND, "charity_id: no such charity");
    if (rc != LC_OK)
        return dn_db_fail(c, "load charity");
    bool verified = ch.verified;
    lc_codec_clear(&dn_charity_desc, &ch);
    if (!verified)
        return dn_fail(c, LC_API_CONFLICT, "the charity is not verified: it takes no donations");
    return NULL;
}

/* The member's daily cap on donations made through the API (donation.daily_cap; 0:
 * none): points of its donations created since 00:00 UTC today that were not
 * refused, plus these, may not exceed it. Pledges are the member's standing
 * instructions and are not capped. */
static const char *s_daily_cap(dn_call_t *c, const lc_id_t *member, int64_t points)
{
    int64_t cap = c->srv->cfg.daily_cap;
    if (cap == 0)
        return NULL;
    int64_t now = lc_now_us(), today = now - now % (86400 * LC_USEC_PER_SEC), used = 0;
    if (dn_store_donated_since(c->srv, member, today, &used) != LC_OK)
        return dn_db_fail(c, "sum today's donations");
    if (used + points <= cap)
        return NULL;
    char mid[LC_ID_STRLEN + 1], u[24];
    lc_id_format(member, mid);
    snprintf(u, sizeof u, "%lld", (long long)used);
    lc_log_kv(LC_LOG_WARN, c->rid, "daily donation cap reached", "member_id", mid,
              "donated_today", u, NULL);
    return dn_fail(c, LC_API_DAILY_LIMIT,
                   "a member may donate at most %lld points a day (UTC); %lld are left today",
                   (long long)cap, (long long)(cap > used ? cap - used : 0));
}

/* Checks the member's account: exists, not frozen, enough points available. */
static const char *s_member(dn_call_t *c, const lc_id_t *member, int64_t points)
{
    ld_account_view_t a;
    int rc = dn_ledger_account(c->srv, c->rid, member, &a);
    if (rc == LC_ERR_NOT_FOUND || (rc == LC_OK && a.kind != LD_KIND_MEMBER))
        return dn_fail(c, LC_API_NOT_FOUND, "member_id: no such member");
    if (rc != LC_OK)
        return dn_fail(c, LC_API_UNAVAILABLE, "the ledger is unavailable");
    if (a.flags & (LD_AF_FROZEN | LD_AF_CLOSED))
        return dn_fail(c, LC_API_MEMBER_FROZEN, "the member's account is frozen");
    if (a.available < points)
        return dn_fail(c, LC_API_INSUFFICIENT_POINTS, "%lld points available, %lld asked",
                       (long long)a.available, (long long)points);
    return NULL;
}

/* The match of d on campaign cp: ratio and cap, and a prepaid partner's budget. */
static const char *s_match(dn_call_t *c, const dn_campaign_t *cp, dn_donation_row_t *d)
{
    if (lc_id_is_zero(&cp->match.partner_id))
        return NULL;
    int64_t m;
    if (dn_match_points(d->points, cp->match.ratio_bps, cp->match.cap_points, cp->matched_points,
                        &m) != LC_OK)
        return dn_fail(c, LC_API_INTERNAL, "the campaign's matching is inconsistent");
    if (m > 0) {
        lc_id_t iss;
        dn_partner_issuance(&cp->match.partner_id, &iss);
        ld_account_view_t a;
        int rc = dn_ledger_account(c->srv, c->rid, &iss, &a);
        if (rc == LC_ERR_NOT_FOUND)
            return dn_fail(c, LC_API_NOT_FOUND, "the campaign's matching partner is gone");
        if (rc != LC_OK)
            return dn_fail(c, LC_API_UNAVAILABLE, "the ledger is unavailable");
        if ((a.flags & LD_AF_DEBITS_MUST_NOT_EXCEED_CREDITS) && a.available < m)
            m = a.available > 0 ? a.available : 0; /* a prepaid partner matches what it can */
    }
    d->matched_points = m;
    if (m > 0) {
        d->match_partner_id = cp->match.partner_id;
        lc_id_derive(&d->id, "match", &d->match_transfer);
    }
    return NULL;
}

const char *dn_donate(dn_call_t *c, const dn_gift_t *g, dn_donation_row_t *d)
{
    memset(d, 0, sizeof *d);
    if (dn_ledger_ensure_accounts(c->srv, c->rid) != LC_OK)
        return dn_fail(c, LC_API_UNAVAILABLE, "the ledger is unavailable");
    int rc = dn_store_donation_get(c->srv, &g->id, d);
    if (rc == LC_OK)
        return s_existing(c, d);
    if (rc != LC_ERR_NOT_FOUND)
        return dn_db_fail(c, "load donation");
    memset(d, 0, sizeof *d);
    dn_campaign_t cp;
    memset(&cp, 0, sizeof cp);
    d->id = g->id;
    d->member_id = g->member_id;
    d->points = g->points;
    d->source = g->source;
    d->pledge_id = g->pledge_id;
    lc_id_derive(&d->id, "member", &d->member_transfer);
    const char *e = s_target(c, g, d, &cp);
    if (!e && g->source == DN_SOURCE_API)
        e = s_daily_cap(c, &g->member_id, g->points);
    if (!e)
        e = s_member(c, &g->member_id, g->points);
    if (!e)
        e = s_match(c, &cp, d);
    lc_codec_clear(&dn_campaign_desc, &cp);
    if (e)
        return e;
    if (dn_value_cents(d->points, c->srv->cfg.point_value_cents, &d->value_cents) != LC_OK)
        return dn_fail(c, LC_API_INVALID_REQUEST, "points: the value overflows");
    d->status = DN_DONATION_PENDING;
    d->created_at = lc_now_us();
    rc = dn_store_donation_reserve(c->srv, d);
    if (rc == LC_ERR_CONFLICT)
        return dn_fail(c, LC_API_CONFLICT, "the campaign's cap changed; try again");
    if (rc != LC_OK)
        return dn_db_fail(c, "reserve the donation");
    return s_finish(c, d);
}

const char *dn_donation_view(dn_call_t *c, const dn_donation_row_t *d, dn_donation_t *out)
{
    memset(out, 0, sizeof *out);
    out->id = d->id;
    out->member_id = d->member_id;
    out->charity_id = d->charity_id;
    out->campaign_id = d->campaign_id;
    out->pool = d->pool;
    out->points = d->points;
    out->matched_points = d->matched_points;
    out->created_at = d->booked_at;
    const char *e = dn_money(c, d->points, &out->value);
    if (e)
        return e;
    int rc = dn_store_receipt_get(c->srv, &d->id, &out->receipt);
    if (rc != LC_OK) {
        lc_codec_clear(&dn_donation_desc, out);
        return rc == LC_ERR_NOT_FOUND ? dn_fail(c, LC_API_INTERNAL, "the receipt is missing")
                                      : dn_db_fail(c, "load receipt");
    }
    return NULL;
}

/* ---- handlers ---------------------------------------------------------------------- */

const char *dn_h_donate(dn_call_t *c, json_t **reply)
{
    const char *e = dn_need_roles(c, DN_ROLE(LC_ROLE_APP));
    if (e)
        return e;
    dn_donate_req_t req;
    if ((e = dn_decode(c, &dn_donate_req_desc, &req)))
        return e;
    int targets = !lc_id_is_zero(&req.charity_id) + !lc_id_is_zero(&req.campaign_id) + req.pool;
    if (targets != 1)
        return dn_fail(c, LC_API_INVALID_REQUEST,
                       "give exactly one of charity_id, campaign_id and pool: true");
    if (req.points < c->srv->cfg.min_points)
        return dn_fail(c, LC_API_BELOW_THRESHOLD, "donations start at %lld points",
                       (long long)c->srv->cfg.min_points);
    dn_gift_t g = {.member_id = req.member_id,
                   .charity_id = req.charity_id,
                   .campaign_id = req.campaign_id,
                   .pool = req.pool,
                   .points = req.points,
                   .source = DN_SOURCE_API};
    if ((e = dn_derive(c, "donation", &g.id)))
        return e;
    dn_donation_row_t d;
    if ((e = dn_donate(c, &g, &d)))
        return e;
    dn_donation_t out;
    if ((e = dn_donation_view(c, &d, &out)))
        return e;
    e = dn_reply(c, &dn_donation_desc, &out, reply);
    lc_codec_clear(&dn_donation_desc, &out);
    return e;
}

const char *dn_h_get_receipt(dn_call_t *c, json_t **reply)
{
    const char *e = dn_need_roles(c, DN_ROLE(LC_ROLE_APP));
    if (e)
        return e;
    dn_empty_t none;
    if ((e = dn_decode(c, &dn_empty_desc, &none)))
        return e;
    lc_id_t id;
    if (lc_api_param_id(&c->api, "id", &id) != LC_OK)
        return dn_fail(c, LC_API_NOT_FOUND, "no such donation");
    dn_receipt_t r;
    int rc = dn_store_receipt_get(c->srv, &id, &r);
    if (rc == LC_ERR_NOT_FOUND)
        return dn_fail(c, LC_API_NOT_FOUND, "no such donation (or it was not booked)");
    if (rc != LC_OK)
        return dn_db_fail(c, "load receipt");
    e = dn_reply(c, &dn_receipt_desc, &r, reply);
    lc_codec_clear(&dn_receipt_desc, &r);
    return e;
}

const char *dn_h_receipt_keys(dn_call_t *c, json_t **reply)
{
    dn_receipt_keys_t k;
    int rc = dn_keyring_describe(&c->srv->keys, &k);
    if (rc != LC_OK)
        return dn_fail(c, LC_API_INTERNAL, "no receipt keys: %s", lc_strerror(rc));
    const char *e = dn_reply(c, &dn_receipt_keys_desc, &k, reply);
    lc_codec_clear(&dn_receipt_keys_desc, &k);
    return e;
}

void dn_donate_sweep(dn_server_t *s)
{
    dn_donation_row_t rows[DN_SWEEP_BATCH];
    size_t n = 0;
    if (dn_store_donations_pending(s, DN_SWEEP_BATCH, rows, &n) != LC_OK || n == 0)
        return;
    if (dn_ledger_ensure_accounts(s, "sweep") != LC_OK)
        return;
    for (size_t i = 0; i < n; i++) {
        char msg[512] = "";
        dn_call_t c = {.srv = s, .rid = "sweep", .msg = msg, .msglen = sizeof msg};
        const char *e = s_finish(&c, &rows[i]);
        char idt[LC_ID_STRLEN + 1];
        lc_id_format(&rows[i].id, idt);
        lc_log_kv(LC_LOG_INFO, "sweep", "pending donation finished", "donation_id", idt, "outcome",
                  e ? e : "posted", NULL);
        if (e && !strcmp(e, LC_API_UNAVAILABLE))
            break; /* try again at the next sweep */
    }
}
