/*
 * dn_pledges.c: monthly pledges (create, cancel) and the monthly run.
 *
 * The run donates every active pledge once per month: the donation id is
 * lc_id_derive(pledge id, "donation:YYYY-MM"), and donation.pledge_runs keeps one
 * row per pledge and month, so a repeated run (or a retry after a crash) books
 * nothing twice. A pledge the ledger refuses (points short, member frozen, ...) is
 * skipped for that month with the reason recorded; the ledger burns the refused ids,
 * so a skip is final for the month. An unavailable ledger stops the run: running it
 * again continues where it stopped.
 */
#include "dn_donate.h"
#include "dn_ledger.h"
#include "dn_server.h"
#include "dn_store.h"
#include "lc_err.h"
#include "lc_log.h"
#include "lc_time.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define RUN_BATCH 100 /* pledges loaded at a time */

const char *dn_h_create_pledge(dn_call_t *c, json_t **reply)
{
    const char *e = dn_need_roles(c, DN_ROLE(LC_ROLE_APP));
    if (e)
        return e;
    dn_pledge_req_t req;
    if ((e = dn_decode(c, &dn_pledge_req_desc, &req)))
        return e;
    if (req.points < c->srv->cfg.min_points)
        return dn_fail(c, LC_API_BELOW_THRESHOLD, "pledges start at %lld points a month",
                       (long long)c->srv->cfg.min_points);
    dn_pledge_t p;
    lc_id_t id;
    if ((e = dn_derive(c, "pledge", &id)))
        return e;
    int rc = dn_store_pledge_get(c->srv, &id, &p);
    if (rc == LC_OK)
        return dn_reply(c, &dn_pledge_desc, &p, reply);
    if (rc != LC_ERR_NOT_FOUND)
        return dn_db_fail(c, "load pledge");
    dn_charity_t ch;
    rc = dn_store_charity_get(c->srv, &req.charity_id, &ch);
    if (rc == LC_ERR_NOT_FOUND)
        return dn_fail(c, LC_API_NOT_FOUND, "charity_id: no such charity");
    if (rc != LC_OK)
        return dn_db_fail(c, "load charity");
    bool verified = ch.verified;
    lc_codec_clear(&dn_charity_desc, &ch);
    if (!verified)
        return dn_fail(c, LC_API_CONFLICT, "the charity is not verified: it takes no pledges");
    ld_account_view_t a;
    rc = dn_ledger_account(c->srv, c->rid, &req.member_id, &a);
    if (rc == LC_ERR_NOT_FOUND || (rc == LC_OK && a.kind != LD_KIND_MEMBER))
        return dn_fail(c, LC_API_NOT_FOUND, "member_id: no such member");
    if (rc != LC_OK)
        return dn_fail(c, LC_API_UNAVAILABLE, "the ledger is unavailable");
    memset(&p, 0, sizeof p);
    p.id = id;
    p.member_id = req.member_id;
    p.charity_id = req.charity_id;
    p.points = req.points;
    p.status = DN_PLEDGE_ACTIVE;
    p.created_at = lc_now_us();
    if (dn_store_pledge_insert(c->srv, &p) != LC_OK)
        return dn_db_fail(c, "insert pledge");
    char idt[LC_ID_STRLEN + 1];
    lc_id_format(&id, idt);
    lc_log_kv(LC_LOG_INFO, c->rid, "pledge made", "pledge_id", idt, NULL);
    return dn_reply(c, &dn_pledge_desc, &p, reply);
}

const char *dn_h_cancel_pledge(dn_call_t *c, json_t **reply)
{
    const char *e = dn_need_roles(c, DN_ROLE(LC_ROLE_APP));
    if (e)
        return e;
    dn_empty_t none;
    if ((e = dn_decode(c, &dn_empty_desc, &none)))
        return e;
    lc_id_t id;
    if (lc_api_param_id(&c->api, "id", &id) != LC_OK)
        return dn_fail(c, LC_API_NOT_FOUND, "no such pledge");
    dn_pledge_t p;
    int rc = dn_store_pledge_get(c->srv, &id, &p);
    if (rc == LC_ERR_NOT_FOUND)
        return dn_fail(c, LC_API_NOT_FOUND, "no such pledge");
    if (rc != LC_OK)
        return dn_db_fail(c, "load pledge");
    if (p.status == DN_PLEDGE_ACTIVE) {
        if (dn_store_pledge_cancel(c->srv, &id, lc_now_us()) != LC_OK ||
            dn_store_pledge_get(c->srv, &id, &p) != LC_OK)
            return dn_db_fail(c, "cancel pledge");
        char idt[LC_ID_STRLEN + 1];
        lc_id_format(&id, idt);
        lc_log_kv(LC_LOG_INFO, c->rid, "pledge cancelled", "pledge_id", idt, NULL);
    }
    return dn_reply(c, &dn_pledge_desc, &p, reply);
}

/* Runs pledge p for period (unless it ran already) into *run. Returns NULL, or the
 * code that stops the whole run (unavailable, internal). */
static const char *s_run_one(dn_call_t *c, const dn_pledge_t *p, const char *period,
                             dn_pledge_run_t *run)
{
    int rc = dn_store_run_get(c->srv, &p->id, period, run);
    if (rc == LC_OK)
        return NULL;
    if (rc != LC_ERR_NOT_FOUND)
        return dn_db_fail(c, "load pledge run");
    char label[32];
    snprintf(label, sizeof label, "donation:%s", period);
    dn_gift_t g = {.member_id = p->member_id,
                   .charity_id = p->charity_id,
                   .points = p->points,
                   .source = DN_SOURCE_PLEDGE,
                   .pledge_id = p->id};
    lc_id_derive(&p->id, label, &g.id);
    dn_donation_row_t d;
    const char *code = dn_donate(c, &g, &d);
    if (code && (!strcmp(code, LC_API_UNAVAILABLE) || !strcmp(code, LC_API_INTERNAL)))
        return code;
    memset(run, 0, sizeof *run);
    run->pledge_id = p->id;
    if (code) {
        run->status = DN_RUN_SKIPPED;
        run->reason = strdup(code);
        if (!run->reason)
            return dn_fail(c, LC_API_INTERNAL, "out of memory");
    } else {
        run->status = DN_RUN_DONATED;
        run->donation_id = d.id;
        run->points = d.points;
    }
    rc = dn_store_run_insert(c->srv, period, run);
    if (rc != LC_OK) {
        lc_codec_clear(&dn_pledge_run_desc, run);
        return dn_db_fail(c, "record pledge run");
    }
    return NULL;
}

const char *dn_h_run_pledges(dn_call_t *c, json_t **reply)
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
    if (dn_period_now(c->srv) < start)
        return dn_fail(c, LC_API_CONFLICT, "%s has not begun", period);
    dn_pledge_runs_t out = {.period = strdup(period)};
    size_t cap = 0;
    lc_id_t after;
    bool has_after = false;
    while (!e && out.period) {
        dn_pledge_t *batch;
        size_t n;
        if (dn_store_pledges_due(c->srv, end, has_after ? &after : NULL, RUN_BATCH, &batch, &n) !=
            LC_OK) {
            e = dn_db_fail(c, "load pledges");
            break;
        }
        for (size_t i = 0; i < n && !e; i++) {
            if (out.nruns == cap) {
                size_t ncap = cap ? 2 * cap : 64;
                dn_pledge_run_t *grown = realloc(out.runs, ncap * sizeof *grown);
                if (!grown) {
                    e = dn_fail(c, LC_API_INTERNAL, "out of memory");
                    break;
                }
                out.runs = grown;
                cap = ncap;
            }
            dn_pledge_run_t *run = &out.runs[out.nruns];
            memset(run, 0, sizeof *run);
            if ((e = s_run_one(c, &batch[i], period, run)))
                break;
            out.nruns++;
            if (run->status == DN_RUN_DONATED)
                out.donated++;
            else
                out.skipped++;
        }
        if (n)
            after = batch[n - 1].id;
        has_after = true;
        free(batch);
        if (n < RUN_BATCH)
            break;
    }
    if (!out.period)
        e = dn_fail(c, LC_API_INTERNAL, "out of memory");
    if (!e) {
        char d[24], s[24];
        snprintf(d, sizeof d, "%lld", (long long)out.donated);
        snprintf(s, sizeof s, "%lld", (long long)out.skipped);
        lc_log_kv(LC_LOG_INFO, c->rid, "pledge run", "period", period, "donated", d, "skipped", s,
                  NULL);
        e = dn_reply(c, &dn_pledge_runs_desc, &out, reply);
    }
    lc_codec_clear(&dn_pledge_runs_desc, &out);
    return e;
}
