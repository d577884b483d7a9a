/*
 * st_earn.c: earning points for a purchase.
 *
 * Order of work (nothing is written for bad input, and a crash at any point is
 * repaired by the retry):
 *   1. decode strictly, check currency, items and arithmetic (st_arith.c);
 *   2. a row for this request's earn id: answer from it (a replay);
 *   3. resolve the card (members), refuse a frozen member;
 *   4. the coupon codes (st_coupon.c): each applies or is rejected with a reason, never
 *      failing the earn;
 *   5. the ledger transfer issuance -> member, id derived from the earn id, a lot
 *      expiring as expiry.* says (st_expiry_of); with pending_days > 0 it is a hold
 *      without timeout (credits_pending: not spendable) that st_mature.c posts when due.
 *      Each coupon bonus is a transfer funder -> member with the same lot expiry, id
 *      derived from the earn id ("bonus/<position>"), linked with the base in one chain:
 *      all are posted or none (a prepaid funder out of budget refuses the whole earn
 *      with partner_budget_exhausted);
 *      The member's tier (st_tier.c) adds a coalition-funded bonus, one more linked
 *      transfer promotion -> member ("tier"); a pending earn gets it when it matures
 *      (st_mature.c), on the points a return has left;
 *      A retry of an attempt that posted its chain and died before step 6 may
 *      compute another chain (the tier or a coupon changed in between): the ledger
 *      has the earn's base, and the earn is taken from the ledger (s_adopt);
 *   6. the earn row and its coupon rows in one transaction (status, available_at =
 *      ledger timestamp + pending_days), so a coupon's uses count each earn once;
 *   7. the member's tier is evaluated again: reaching a threshold upgrades at once,
 *      for the next earn.
 * An earn worth 0 points (everything excluded, or too small) is recorded without a
 * ledger transfer.
 */
#include "lc_err.h"
#include "lc_log.h"
#include "lc_time.h"
#include "st_arith.h"
#include "st_coupon.h"
#include "st_ledger.h"
#include "st_members.h"
#include "st_server.h"
#include "st_store.h"
#include "st_tier.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Answers an earn row with its coupon rows. */
static const char *s_reply(st_call_t *c, const st_earn_row_t *row,
                           const st_earn_coupon_row_t *coupons, size_t n, json_t **reply)
{
    st_earn_rep_t rep = {.id = row->id,
                         .points = row->points,
                         .bonus_points = row->bonus_points + row->tier_bonus_points,
                         .status = row->status,
                         .available_at = row->available_at};
    const char *e = st_coupons_reply(c, coupons, n, &rep);
    if (!e)
        e = st_reply(c, &st_earn_rep_desc, &rep, reply);
    free(rep.coupons_applied);
    free(rep.coupons_rejected);
    return e;
}

/* Answers a stored earn (a replay) with the coupon rows stored with it. */
static const char *s_replay(st_call_t *c, const st_earn_row_t *row, json_t **reply)
{
    st_earn_coupon_row_t *rows = NULL;
    size_t n = 0;
    if (st_store_earn_coupons(c->srv, &row->id, &rows, &n) != LC_OK)
        return st_db_fail(c, "load earn coupons");
    const char *e = s_reply(c, row, rows, n, reply);
    free(rows);
    return e;
}

/* Checks the request and computes eligible cents and points. */
static const char *s_compute(st_call_t *c, const st_partner_t *p, const st_earn_req_t *req,
                             int64_t *eligible, int64_t *points)
{
    if (!req->card_number[0])
        return st_fail(c, LC_API_INVALID_REQUEST, "card_number: must not be empty");
    if (!req->receipt_id[0])
        return st_fail(c, LC_API_INVALID_REQUEST, "receipt_id: must not be empty");
    if (strcmp(req->amount.currency, c->srv->cfg.currency) != 0)
        return st_fail(c, LC_API_INVALID_REQUEST, "amount.currency: must be %s",
                       c->srv->cfg.currency);
    int rc = st_eligible_amount(req->amount.amount, req->items, req->nitems,
                                p->excluded_categories, p->nexcluded_categories, eligible);
    if (rc != LC_OK)
        return st_fail(c, LC_API_INVALID_REQUEST, "items: their amounts add up to more than "
                                                  "amount");
    rc = st_earn_points(*eligible, p->earn_rate.points, p->earn_rate.per_amount, points);
    if (rc != LC_OK)
        return st_fail(c, LC_API_INVALID_REQUEST, "amount: the points would exceed %lld",
                       (long long)LC_API_POINTS_MAX);
    return NULL;
}

/* Whether tier's multiplier gives exactly bonus on points (st_tier_bonus_transfer's
 * arithmetic). */
static bool s_tier_gives(st_server_t *s, int tier, int64_t points, int64_t bonus)
{
    int64_t bps = st_tier_multiplier(s, tier), b = 0;
    if (bps > LC_TIER_BPS_ONE &&
        st_earn_points(points, bps - LC_TIER_BPS_ONE, LC_TIER_BPS_ONE, &b) != LC_OK)
        return false;
    return b == bonus;
}

/* The tier whose multiplier gives bonus on points: the current one if it does,
 * else the first that does; the current one when none does (the tiers changed). */
static int s_tier_of_bonus(st_server_t *s, int64_t points, int64_t bonus, int current)
{
    if (s_tier_gives(s, current, points, bonus))
        return current;
    for (size_t i = 0; i < s->cfg.tiers.n; i++)
        if (s_tier_gives(s, (int)i, points, bonus))
            return (int)i;
    return current;
}

/* Why coupon row r, which applies now, had no bonus in an earlier attempt at time
 * at: the partner or the window if they stopped it then, else the member had not
 * activated it yet (uses only grow, so they cannot have stopped it). */
static int s_coupon_reason_then(st_call_t *c, const st_partner_t *p,
                                const st_earn_coupon_row_t *r, int64_t at)
{
    st_coupon_t cp;
    lc_id_t funder;
    if (st_store_coupon_get(c->srv, NULL, r->code, &cp, &funder) != LC_OK)
        return ST_COUPON_NOT_ACTIVATED;
    int reason = st_coupon_check(&cp, &p->id, true, 0, at);
    lc_codec_clear(&st_coupon_desc, &cp);
    return reason ? reason : ST_COUPON_NOT_ACTIVATED;
}

/* An earlier attempt of this earn posted its chain and died before writing the row
 * (st_issue_chain's *before). The earn is what that attempt booked, which may differ
 * from what this one computed: the member's tier may have changed in between, or
 * a coupon's window or activation. Reads back every transfer the earn can have
 * (base, "bonus/<i>", "tier"), checks that the base is this request's (same
 * partner and member: otherwise the key was reused for another earn), and sets the
 * row and the coupon rows from the ledger. */
static const char *s_adopt(st_call_t *c, const st_partner_t *p, st_earn_row_t *row,
                           st_earn_coupon_row_t *crows, size_t n)
{
    lc_id_t *ids = calloc(n + 2, sizeof *ids);
    if (!ids)
        return st_fail(c, LC_API_INTERNAL, "out of memory");
    lc_id_derive(&row->id, "transfer", &ids[0]);
    lc_id_derive(&row->id, "tier", &ids[1]);
    for (size_t i = 0; i < n; i++) {
        char label[32];
        snprintf(label, sizeof label, "bonus/%zu", i);
        lc_id_derive(&row->id, label, &ids[i + 2]);
    }
    ld_entries_rep_t rep;
    memset(&rep, 0, sizeof rep);
    const char *e = NULL;
    if (st_ledger_transfer_entries(c->srv, c->rid, ids, n + 2, &rep) != LC_OK) {
        free(ids);
        return st_fail(c, LC_API_UNAVAILABLE, "the ledger is unavailable");
    }
    const ld_entry_t *found[ST_COUPONS_MAX + 2] = {0};
    for (size_t k = 0; k < rep.nentries; k++)
        for (size_t i = 0; i < n + 2; i++)
            if (lc_id_eq(&rep.entries[k].id, &ids[i]))
                found[i] = &rep.entries[k];
    /* Every transfer credits this member, the base comes from the partner: else
     * the key was used for another earn (after the gateway lost its record). */
    const ld_entry_t *base = found[0], *anchor = NULL;
    lc_id_t issuance;
    st_partner_accounts(&p->id, &issuance, NULL, NULL);
    bool ours = !base || (lc_id_eq(&base->debit_account_id, &issuance) &&
                          base->code == ST_CODE_EARN);
    for (size_t i = 0; i < n + 2; i++) {
        if (!found[i])
            continue;
        if (!anchor)
            anchor = found[i];
        if (!lc_id_eq(&found[i]->credit_account_id, &row->member_id))
            ours = false;
    }
    if (!anchor || !ours || (!base && row->points > 0)) {
        char idt[LC_ID_STRLEN + 1];
        lc_id_format(&row->id, idt);
        lc_log_kv(LC_LOG_ERROR, c->rid, "an earlier earn with this key booked other transfers",
                  "partner_id", c->partner, "earn_id", idt, NULL);
        e = st_fail(c, LC_API_CONFLICT, "this Idempotency-Key was used for another earn");
        goto done;
    }
    int64_t points = base ? base->amount : 0;
    if (points != row->points) { /* the partner's earn rate changed in between */
        char idt[LC_ID_STRLEN + 1], was[24], now[24];
        lc_id_format(&row->id, idt);
        snprintf(was, sizeof was, "%lld", (long long)points);
        snprintf(now, sizeof now, "%lld", (long long)row->points);
        lc_log_kv(LC_LOG_WARN, c->rid, "earn points taken from an earlier attempt", "partner_id",
                  c->partner, "earn_id", idt, "points", was, "computed_now", now, NULL);
        row->points = points;
    }
    row->created_at = anchor->timestamp;
    row->expires_at = anchor->expires_at;
    row->status = ST_EARN_POSTED;
    memset(&row->transfer_id, 0, sizeof row->transfer_id);
    memset(&row->hold_id, 0, sizeof row->hold_id);
    memset(&row->credit_id, 0, sizeof row->credit_id);
    if (base) {
        row->transfer_id = base->id;
        if (base->flags & LD_TF_PENDING) {
            row->status = ST_EARN_PENDING;
            row->hold_id = base->id;
        } else {
            row->credit_id = base->id;
        }
    }
    row->tier_bonus_points = found[1] ? found[1]->amount : 0;
    memset(&row->tier_transfer_id, 0, sizeof row->tier_transfer_id);
    row->tier_basis_amount = 0;
    if (found[1]) {
        row->tier_transfer_id = found[1]->id;
        row->tier_basis_amount = row->amount;
    }
    if (row->status == ST_EARN_POSTED) { /* a pending earn's bonus comes at maturity */
        row->tier = s_tier_of_bonus(c->srv, row->points, row->tier_bonus_points, row->tier);
        row->tier_bps = st_tier_multiplier(c->srv, row->tier);
    }
    row->bonus_points = 0;
    for (size_t i = 0; i < n; i++) {
        st_earn_coupon_row_t *r = &crows[i];
        const ld_entry_t *b = found[i + 2];
        if (b) { /* applied then, with this bonus */
            r->reason = 0;
            r->bonus_points = b->amount;
            r->transfer_id = b->id;
            r->funder_account = b->debit_account_id;
            row->bonus_points += b->amount;
        } else if (!r->reason && r->bonus_points > 0) { /* applies now, did not then */
            r->reason = s_coupon_reason_then(c, p, r, anchor->timestamp);
            r->bonus_points = 0;
            memset(&r->transfer_id, 0, sizeof r->transfer_id);
            memset(&r->funder_account, 0, sizeof r->funder_account);
        }
    }
done:
    lc_codec_clear(&ld_entries_rep_desc, &rep);
    free(ids);
    return e;
}

const char *st_h_earn(st_call_t *c, json_t **reply)
{
    st_partner_t p;
    const char *e = st_caller_partner(c, &p);
    if (e)
        return e;
    st_earn_req_t req;
    memset(&req, 0, sizeof req);
    st_earn_coupon_row_t *crows = NULL;
    ld_transfer_t *chain = NULL;
    st_earn_row_t row;
    memset(&row, 0, sizeof row);
    bool locked = false, before_adopted = false;
    if ((e = st_decode(c, &st_earn_req_desc, &req)))
        goto done;
    int64_t eligible = 0, points = 0;
    if ((e = s_compute(c, &p, &req, &eligible, &points)))
        goto done;
    if ((e = st_derive(c, "earn", &row.id)))
        goto done;
    int rc = st_store_earn_get(c->srv, &row.id, &p.id, &row);
    if (rc == LC_OK) {
        /* A crash may have come between the row and the tier evaluation. */
        st_tier_evaluate(c->srv, c->rid, &row.member_id, lc_now_us(), NULL, NULL);
        e = s_replay(c, &row, reply);
        goto done;
    }
    if (rc != LC_ERR_NOT_FOUND) {
        e = st_db_fail(c, "load earn");
        goto done;
    }
    if ((e = st_members_active(c, req.card_number, &row.member_id)))
        goto done;
    /* From counting the member's coupon uses to writing this earn's (st_server.h). */
    st_member_lock(c->srv, &row.member_id);
    locked = true;
    row.partner_id = p.id;
    row.amount = req.amount.amount;
    row.eligible = eligible;
    row.points = points;
    row.status = ST_EARN_POSTED;
    row.created_at = lc_now_us();
    if (st_tier_current(c->srv, c->rid, &row.member_id, row.created_at, &row.tier) != LC_OK) {
        e = st_db_fail(c, "load tier");
        goto done;
    }
    row.tier_bps = st_tier_multiplier(c->srv, row.tier);
    size_t n = req.ncoupon_codes, nchain = 0, nbonus = 0;
    crows = n ? calloc(n, sizeof *crows) : NULL;
    chain = calloc(n + 2, sizeof *chain); /* base, coupon bonuses, tier bonus */
    if ((n && !crows) || !chain) {
        e = st_fail(c, LC_API_INTERNAL, "out of memory");
        goto done;
    }
    if (points > 0) {
        ld_transfer_t *t = &chain[nchain++];
        t->amount = points;
        t->code = ST_CODE_EARN;
        t->user_data = row.id;
        t->credit_account_id = row.member_id;
        lc_id_derive(&row.id, "transfer", &t->id);
        st_partner_accounts(&p.id, &t->debit_account_id, NULL, NULL);
        if (p.pending_days > 0)
            t->flags = LD_TF_PENDING; /* timeout 0: only st_mature.c resolves it */
    }
    if (n && (e = st_coupons_apply(c, &p, &row.member_id, &row.id, points, req.coupon_codes, n,
                                   row.created_at, crows, chain + nchain, &nbonus,
                                   &row.bonus_points)))
        goto done;
    if (row.bonus_points > LC_API_POINTS_MAX - points) {
        e = st_fail(c, LC_API_INVALID_REQUEST, "amount: the points would exceed %lld",
                    (long long)LC_API_POINTS_MAX);
        goto done;
    }
    nchain += nbonus;
    if (p.pending_days == 0) { /* pending: the tier bonus comes with maturity */
        if ((e = st_tier_bonus(c, &row.id, &row.member_id, points, row.tier_bps, &chain[nchain],
                               &row.tier_bonus_points)))
            goto done;
        if (row.tier_bonus_points > LC_API_POINTS_MAX - points - row.bonus_points) {
            e = st_fail(c, LC_API_INVALID_REQUEST, "amount: the points would exceed %lld",
                        (long long)LC_API_POINTS_MAX);
            goto done;
        }
        if (row.tier_bonus_points > 0) {
            row.tier_transfer_id = chain[nchain].id;
            row.tier_basis_amount = row.amount;
            nchain++;
        }
    }
    if (nchain > 0) {
        int64_t expires_at = st_expiry_of(c->srv, lc_now_us());
        for (size_t i = 0; i < nchain; i++) {
            chain[i].expires_at = expires_at;
            if (i + 1 < nchain)
                chain[i].flags |= LD_TF_LINKED;
        }
        bool before = false;
        if ((e = st_issue_chain(c, chain, nchain, &row.created_at, &before)))
            goto done;
        row.expires_at = chain[0].expires_at;
        if (before) {
            if ((e = s_adopt(c, &p, &row, crows, n)))
                goto done;
            before_adopted = true;
        }
    }
    if (points > 0 && !before_adopted) {
        row.transfer_id = chain[0].id;
        if (p.pending_days > 0) {
            row.status = ST_EARN_PENDING;
            row.hold_id = chain[0].id;
        } else {
            row.credit_id = chain[0].id;
        }
    }
    row.available_at = row.created_at;
    if (row.status == ST_EARN_PENDING)
        row.available_at += p.pending_days * ST_DAY_US;
    if (st_store_earn_insert(c->srv, &row, req.receipt_id, crows, n) != LC_OK) {
        e = st_db_fail(c, "insert earn");
        goto done;
    }
    char idt[LC_ID_STRLEN + 1], bonus[24], tbonus[24];
    lc_id_format(&row.id, idt);
    snprintf(bonus, sizeof bonus, "%lld", (long long)row.bonus_points);
    snprintf(tbonus, sizeof tbonus, "%lld", (long long)row.tier_bonus_points);
    lc_log_kv(LC_LOG_INFO, c->rid, "earn recorded", "partner_id", c->partner, "earn_id", idt,
              "status", lc_name_of(st_earn_status_names, (uint32_t)row.status), "bonus_points",
              bonus, "tier", lc_tiers_name(&c->srv->cfg.tiers, row.tier), "tier_bonus_points",
              tbonus, NULL);
    /* After the row, so its points count: an upgrade applies from the next earn. */
    st_tier_evaluate(c->srv, c->rid, &row.member_id, row.created_at, NULL, NULL);
    e = s_reply(c, &row, crows, n, reply);
done:
    if (locked)
        st_member_unlock(c->srv, &row.member_id);
    free(crows);
    free(chain);
    lc_codec_clear(&st_earn_req_desc, &req);
    lc_codec_clear(&st_partner_desc, &p);
    return e;
}
