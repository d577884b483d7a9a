/*
 * dn_payout.c: a month's figures (GET /v1/donations/report/{period}) and its payout
 * (POST /v1/donations/payouts/{period}).
 *
 * A month's figures come from the posted donations booked in it (booked_at = the
 * ledger's timestamp of the member's transfer, so they are the journal's figures):
 * per charity and per campaign the members' points and the matches; the pool's
 * donations of the month are shared among the campaigns that raised points in it, in
 * proportion to those points (largest remainder, ties to the lower campaign id);
 * with no such campaign they stay in the pool (pool_unallocated_points).
 *
 * The payout books, with ids derived from the period so that a repeat posts nothing
 * twice, first each campaign's pool share (pool -> charity, code 104, id
 * lc_id_derive(campaign, "pool_share:YYYY-MM")), then per charity all its points of the
 * month (charity -> payout clearing, code 105, id lc_id_derive(charity,
 * "payout:YYYY-MM")); user_data of both is the period's id,
 * lc_id_derive_bytes("YYYY-MM", "donation.period"). Then it records the payout. A
 * month's figures do not change once it has ended, so a retry after a crash computes
 * the same transfers and the ledger answers `exists`.
 */
#include "dn_arith.h"
#include "dn_ledger.h"
#include "dn_server.h"
#include "dn_store.h"
#include "lc_err.h"
#include "lc_log.h"
#include "lc_time.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int s_cmp_campaign(const void *a, const void *b)
{
    return lc_id_cmp(&((const dn_campaign_line_t *)a)->campaign_id,
                     &((const dn_campaign_line_t *)b)->campaign_id);
}

/* Shares the pool among the campaigns in proportion to what they raised. */
static const char *s_share_pool(dn_call_t *c, dn_report_t *r)
{
    int64_t raised = 0;
    for (size_t i = 0; i < r->ncampaigns; i++)
        raised += r->campaigns[i].donated_points;
    if (r->pool_donated_points == 0 || raised == 0) {
        r->pool_unallocated_points = r->pool_donated_points;
        return NULL;
    }
    int64_t *w = calloc(r->ncampaigns, sizeof *w), *share = calloc(r->ncampaigns, sizeof *share);
    int rc = w && share ? LC_OK : LC_ERR_NOMEM;
    for (size_t i = 0; rc == LC_OK && i < r->ncampaigns; i++)
        w[i] = r->campaigns[i].donated_points;
    if (rc == LC_OK)
        rc = dn_split(r->pool_donated_points, w, r->ncampaigns, share);
    for (size_t i = 0; rc == LC_OK && i < r->ncampaigns; i++)
        r->campaigns[i].pooled_points = share[i];
    free(w);
    free(share);
    if (rc != LC_OK)
        return dn_fail(c, LC_API_INTERNAL, "cannot share the pool: %s", lc_strerror(rc));
    r->pool_allocated_points = r->pool_donated_points;
    return NULL;
}

/* Fills the totals and values of every line of r. */
static const char *s_totals(dn_call_t *c, dn_report_t *r)
{
    const char *e = NULL;
    for (size_t i = 0; !e && i < r->ncampaigns; i++) {
        dn_campaign_line_t *l = &r->campaigns[i];
        l->points = l->donated_points + l->matched_points + l->pooled_points;
        e = dn_money(c, l->points, &l->value);
        for (size_t k = 0; k < r->ncharities; k++)
            if (lc_id_eq(&r->charities[k].charity_id, &l->charity_id))
                r->charities[k].pooled_points += l->pooled_points;
    }
    for (size_t i = 0; !e && i < r->ncharities; i++) {
        dn_charity_line_t *l = &r->charities[i];
        l->points = l->donated_points + l->matched_points + l->pooled_points;
        r->total_points += l->points;
        e = dn_money(c, l->points, &l->value);
    }
    return e ? e : dn_money(c, r->total_points, &r->total_value);
}

/* Computes the figures of period [start, end) into *r (clear with dn_report_desc). */
static const char *s_compute(dn_call_t *c, const char *period, int64_t start, int64_t end,
                             dn_report_t *r)
{
    memset(r, 0, sizeof *r);
    dn_period_row_t *rows;
    size_t n;
    if (dn_store_period_sums(c->srv, start, end, &rows, &n) != LC_OK)
        return dn_db_fail(c, "sum the period");
    r->period = strdup(period);
    r->charities = calloc(n ? n : 1, sizeof *r->charities);
    r->campaigns = calloc(n ? n : 1, sizeof *r->campaigns);
    const char *e = NULL;
    if (!r->period || !r->charities || !r->campaigns)
        e = dn_fail(c, LC_API_INTERNAL, "out of memory");
    for (size_t i = 0; !e && i < n; i++) {
        const dn_period_row_t *x = &rows[i];
        if (lc_id_is_zero(&x->charity_id)) {
            r->pool_donated_points += x->points;
            continue;
        }
        /* rows come in charity order: a charity's rows are consecutive */
        if (r->ncharities == 0 ||
            !lc_id_eq(&r->charities[r->ncharities - 1].charity_id, &x->charity_id))
            r->charities[r->ncharities++].charity_id = x->charity_id;
        dn_charity_line_t *cl = &r->charities[r->ncharities - 1];
        cl->donated_points += x->points;
        cl->matched_points += x->matched_points;
        if (!lc_id_is_zero(&x->campaign_id)) {
            dn_campaign_line_t *l = &r->campaigns[r->ncampaigns++];
            l->campaign_id = x->campaign_id;
            l->charity_id = x->charity_id;
            l->donated_points = x->points;
            l->matched_points = x->matched_points;
        }
    }
    free(rows);
    qsort(r->campaigns, r->ncampaigns, sizeof *r->campaigns, s_cmp_campaign);
    if (!e)
        e = s_share_pool(c, r);
    if (!e)
        e = s_totals(c, r);
    bool paid = false;
    if (!e && dn_store_payout_exists(c->srv, period, &paid) != LC_OK)
        e = dn_db_fail(c, "load payout");
    if (e) {
        lc_codec_clear(&dn_report_desc, r);
        return e;
    }
    r->status = paid ? DN_PERIOD_PAID_OUT : dn_period_now(c->srv) < end ? DN_PERIOD_OPEN : DN_PERIOD_ENDED;
    return NULL;
}

const char *dn_h_report(dn_call_t *c, json_t **reply)
{
    const char *e =
        dn_need_roles(c, DN_ROLE(LC_ROLE_AUDITOR) | DN_ROLE(LC_ROLE_ADMIN));
    if (e)
        return e;
    dn_empty_t none;
    if ((e = dn_decode(c, &dn_empty_desc, &none)))
        return e;
    const char *period;
    int64_t start, end;
    if ((e = dn_period_param(c, &period, &start, &end)))
        return e;
    dn_report_t r;
    if ((e = s_compute(c, period, start, end, &r)))
        return e;
    e = dn_reply(c, &dn_report_desc, &r, reply);
    lc_codec_clear(&dn_report_desc, &r);
    return e;
}

/* Sends t[0..n) in ledger-sized requests; every transfer must end applied. */
static const char *s_book(dn_call_t *c, const ld_transfer_t *t, size_t n)
{
    for (size_t off = 0; off < n; off += LD_BATCH_MAX) {
        size_t k = n - off < LD_BATCH_MAX ? n - off : LD_BATCH_MAX;
        ld_results_rep_t res;
        if (dn_ledger_transfers(c->srv, c->rid, t + off, k, &res) != LC_OK)
            return dn_fail(c, LC_API_UNAVAILABLE, "the ledger is unavailable; run it again");
        const char *e = NULL;
        for (size_t i = 0; i < k && !e; i++) {
            int r = res.results[i].result;
            if (dn_ledger_applied(r))
                continue;
            char idt[LC_ID_STRLEN + 1];
            lc_id_format(&t[off + i].id, idt);
            lc_log_kv(LC_LOG_ERROR, c->rid, "ledger refused a payout transfer", "transfer_id",
                      idt, "result", dn_ledger_result_name(r), NULL);
            e = dn_fail(c, LC_API_INTERNAL, "the ledger refused a payout transfer: %s",
                        dn_ledger_result_name(r));
        }
        lc_codec_clear(&ld_results_rep_desc, &res);
        if (e)
            return e;
    }
    return NULL;
}

/* Books r's pool shares and payouts; fills the transfer ids of each line. */
static const char *s_payout(dn_call_t *c, const dn_report_t *r, lc_id_t *lines, lc_id_t *shares)
{
    ld_transfer_t *t = calloc(r->ncampaigns + r->ncharities + 1, sizeof *t);
    if (!t)
        return dn_fail(c, LC_API_INTERNAL, "out of memory");
    lc_id_t period_id, pool, clearing;
    lc_id_derive_bytes(r->period, strlen(r->period), "donation.period", &period_id);
    dn_pool_account(&pool);
    dn_clearing_account(&clearing);
    char label[32];
    size_t n = 0;
    snprintf(label, sizeof label, "pool_share:%s", r->period);
    for (size_t i = 0; i < r->ncampaigns; i++) {
        if (r->campaigns[i].pooled_points == 0)
            continue;
        ld_transfer_t *x = &t[n++];
        lc_id_derive(&r->campaigns[i].campaign_id, label, &x->id);
        shares[i] = x->id;
        x->debit_account_id = pool;
        dn_charity_account(&r->campaigns[i].charity_id, &x->credit_account_id);
        x->amount = r->campaigns[i].pooled_points;
        x->code = DN_CODE_POOL_SHARE;
        x->user_data = period_id;
    }
    snprintf(label, sizeof label, "payout:%s", r->period);
    for (size_t i = 0; i < r->ncharities; i++) {
        if (r->charities[i].points == 0)
            continue;
        ld_transfer_t *x = &t[n++];
        lc_id_derive(&r->charities[i].charity_id, label, &x->id);
        lines[i] = x->id;
        dn_charity_account(&r->charities[i].charity_id, &x->debit_account_id);
        x->credit_account_id = clearing;
        x->amount = r->charities[i].points;
        x->code = DN_CODE_PAYOUT;
        x->user_data = period_id;
    }
    const char *e = n ? s_book(c, t, n) : NULL;
    free(t);
    return e;
}

const char *dn_h_payout(dn_call_t *c, json_t **reply)
{
    const char *e = dn_need_roles(c, DN_ROLE(LC_ROLE_ADMIN));
    if (e)
        return e;
    dn_empty_t none;
    if ((e = dn_decode(c, &dn_empty_desc, &none)))
        return e;
    const char *period;
    int64_t start, end;
    if ((e = dn_period_param(c, &period, &start, &end)))
        return e;
    if (dn_period_now(c->srv) < end)
        return dn_fail(c, LC_API_CONFLICT, "%s has not ended: it cannot be paid out yet", period);
    if (dn_ledger_ensure_accounts(c->srv, c->rid) != LC_OK)
        return dn_fail(c, LC_API_UNAVAILABLE, "the ledger is unavailable");
    dn_donate_sweep(c->srv); /* donations left pending are booked (in a later month) first */
    dn_report_t r;
    if ((e = s_compute(c, period, start, end, &r)))
        return e;
    if (r.status != DN_PERIOD_PAID_OUT) {
        lc_id_t *lines = calloc(r.ncharities + 1, sizeof *lines);
        lc_id_t *shares = calloc(r.ncampaigns + 1, sizeof *shares);
        if (!lines || !shares)
            e = dn_fail(c, LC_API_INTERNAL, "out of memory");
        if (!e)
            e = s_payout(c, &r, lines, shares);
        int rc = e ? LC_OK
                   : dn_store_payout_insert(c->srv, &r, lines, shares, &c->api.caller.key_id,
                                            lc_now_us());
        if (rc != LC_OK && rc != LC_ERR_CONFLICT)
            e = dn_db_fail(c, "record payout");
        free(lines);
        free(shares);
        if (!e) {
            r.status = DN_PERIOD_PAID_OUT;
            char pts[24];
            snprintf(pts, sizeof pts, "%lld", (long long)r.total_points);
            lc_log_kv(LC_LOG_INFO, c->rid, "payout booked", "period", period, "points", pts,
                      NULL);
        }
    }
    if (!e)
        e = dn_reply(c, &dn_report_desc, &r, reply);
    lc_codec_clear(&dn_report_desc, &r);
    return e;
}
