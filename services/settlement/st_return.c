/*
 * st_return.c: goods come back, points go back.
 *
 * points_reversed = ceil(returned cents x earn.points / earn.amount), capped so that
 * all returns of an earn reverse at most its points; the returned cents of all its
 * returns add up to at most its amount (more: conflict). Ledger side:
 *   - posted earn: one transfer member -> issuance that `reverses` the earn's credit
 *     (the plain earn transfer, or the post of a matured hold). Spent points may take
 *     the member below zero: the ledger records it as debt, and later credits repay
 *     the debt first;
 *   - pending earn (not yet due): one linked chain that voids the earn's current hold
 *     and creates a new hold of the points that remain (same accounts and lot expiry,
 *     no timeout), so the points stay unspendable until available_at and the
 *     maturation posts the new hold. Nothing left: just the void, and the earn is
 *     settled. Post-then-reverse was not chosen: it would make the rest spendable
 *     before available_at;
 *   - pending earn already due: posted first (st_mature_one), then as posted.
 * Coupon bonuses (only posted earns have them): each applied bonus transfer is
 * reversed by its own share, ceil(returned x bonus / earn.amount) capped at what is
 * left of it, in a transfer member -> the bonus's funder that `reverses` the bonus
 * transfer, linked with the base reversal in one chain (all or nothing).
 * The tier bonus likewise (member -> promotion, reversing the tier transfer), by its
 * share of the cents it was computed on (tier_basis_amount).
 * Ids: return id = lc_api_derive(req, "return"); its transfers are derived from it
 * ("reversal", "void", "hold", "bonus-reversal/<position>", "tier-reversal"), so a
 * retry answers exists.
 */
#include "lc_err.h"
#include "lc_log.h"
#include "lc_time.h"
#include "st_arith.h"
#include "st_ledger.h"
#include "st_mature.h"
#include "st_server.h"
#include "st_store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *s_reply(st_call_t *c, const st_return_row_t *r, json_t **reply)
{
    st_return_rep_t rep = {.id = r->id, .earn_id = r->earn_id,
                           .points_reversed = r->points_reversed,
                           .bonus_points_reversed = r->bonus_points_reversed};
    return st_reply(c, &st_return_rep_desc, &rep, reply);
}

const char *st_h_return(st_call_t *c, json_t **reply)
{
    lc_id_t pid;
    const char *e = st_caller_partner_id(c, &pid);
    if (e)
        return e;
    st_return_req_t req;
    if ((e = st_decode(c, &st_return_req_desc, &req)))
        return e;
    st_return_row_t row;
    memset(&row, 0, sizeof row);
    int64_t returned = req.amount.amount;
    bool currency_ok = strcmp(req.amount.currency, c->srv->cfg.currency) == 0;
    row.earn_id = req.earn_id;
    lc_codec_clear(&st_return_req_desc, &req);
    if (!currency_ok)
        return st_fail(c, LC_API_INVALID_REQUEST, "amount.currency: must be %s",
                       c->srv->cfg.currency);
    if (returned < 1)
        return st_fail(c, LC_API_INVALID_REQUEST, "amount.amount: must be at least 1");
    if ((e = st_derive(c, "return", &row.id)))
        return e;
    int rc = st_store_return_get(c->srv, &row.id, &pid, &row);
    if (rc == LC_OK)
        return s_reply(c, &row, reply);
    if (rc != LC_ERR_NOT_FOUND)
        return st_db_fail(c, "load return");
    st_earn_row_t earn;
    rc = st_store_earn_get(c->srv, &row.earn_id, &pid, &earn);
    if (rc == LC_ERR_NOT_FOUND)
        return st_fail(c, LC_API_NOT_FOUND, "no such earn");
    if (rc != LC_OK)
        return st_db_fail(c, "load earn");
    int64_t pts;
    rc = st_return_points(returned, earn.amount, earn.points, earn.returned_amount,
                          earn.reversed_points, &pts);
    if (rc == LC_ERR_CONFLICT)
        return st_fail(c, LC_API_CONFLICT,
                       "only %lld cents of this earn are left to return",
                       (long long)(earn.amount - earn.returned_amount));
    if (rc != LC_OK)
        return st_fail(c, LC_API_INVALID_REQUEST, "amount: cannot be returned");
    rc = st_mature_one(c->srv, c->rid, &earn);
    if (rc != LC_OK)
        return st_fail(c, LC_API_UNAVAILABLE, "the earn could not be matured first");

    row.partner_id = pid;
    row.amount = returned;
    row.points_reversed = pts;
    row.created_at = lc_now_us();
    st_earn_coupon_row_t *bonus = NULL;
    size_t nbonus = 0;
    if (earn.bonus_points > 0 && earn.status == ST_EARN_POSTED &&
        st_store_earn_coupons(c->srv, &earn.id, &bonus, &nbonus) != LC_OK)
        return st_db_fail(c, "load earn coupons");
    ld_transfer_t *t = calloc(3 + nbonus, sizeof *t); /* base (2 if pending), bonuses, tier */
    int64_t *brev = calloc(nbonus + 1, sizeof *brev);
    if (!t || !brev) {
        free(t);
        free(brev);
        free(bonus);
        return st_fail(c, LC_API_INTERNAL, "out of memory");
    }
    const char *e2 = NULL;
    size_t nt = 0;
    lc_id_t iss, new_hold;
    memset(&new_hold, 0, sizeof new_hold);
    bool settle = false;
    st_partner_accounts(&pid, &iss, NULL, NULL);
    if (pts > 0 && earn.status == ST_EARN_POSTED) {
        lc_id_derive(&row.id, "reversal", &t[0].id);
        t[0].debit_account_id = earn.member_id;
        t[0].credit_account_id = iss;
        t[0].amount = pts;
        t[0].reverses = earn.credit_id;
        t[0].code = ST_CODE_RETURN;
        t[0].user_data = earn.id;
        row.transfer_id = t[0].id;
        nt = 1;
    } else if (pts > 0) {
        int64_t left = earn.points - earn.reversed_points - pts;
        lc_id_derive(&row.id, "void", &t[0].id);
        t[0].flags = LD_TF_VOID_PENDING | (left > 0 ? LD_TF_LINKED : 0);
        t[0].pending_id = earn.hold_id;
        t[0].code = ST_CODE_RETURN;
        t[0].user_data = earn.id;
        row.void_id = t[0].id;
        nt = 1;
        if (left > 0) {
            lc_id_derive(&row.id, "hold", &t[1].id);
            t[1].flags = LD_TF_PENDING;
            t[1].debit_account_id = iss;
            t[1].credit_account_id = earn.member_id;
            t[1].amount = left;
            t[1].expires_at = earn.expires_at;
            t[1].code = ST_CODE_EARN;
            t[1].user_data = earn.id;
            row.transfer_id = t[1].id;
            new_hold = t[1].id;
            nt = 2;
        } else {
            settle = true;
        }
    }
    /* The bonuses, each by its own share (rows of applied coupons with a transfer). */
    size_t nb = 0;
    for (size_t i = 0; i < nbonus; i++) {
        const st_earn_coupon_row_t *b = &bonus[i];
        int64_t rv = 0;
        if (b->reason || lc_id_is_zero(&b->transfer_id) ||
            st_return_points(returned, earn.amount, b->bonus_points, earn.returned_amount,
                             b->reversed_points, &rv) != LC_OK || rv == 0)
            continue;
        char label[40];
        snprintf(label, sizeof label, "bonus-reversal/%d", b->position);
        ld_transfer_t *x = &t[nt++];
        lc_id_derive(&row.id, label, &x->id);
        x->debit_account_id = earn.member_id;
        x->credit_account_id = b->funder_account;
        x->amount = rv;
        x->reverses = b->transfer_id;
        x->code = ST_CODE_RETURN;
        x->user_data = earn.id;
        bonus[nb] = *b;
        brev[nb++] = rv;
        row.bonus_points_reversed += rv;
        if (lc_id_is_zero(&row.transfer_id))
            row.transfer_id = x->id;
    }
    /* The tier bonus, by its share of the cents it was computed on (the earn's amount,
     * or what was left of it when a pending earn matured). */
    if (earn.status == ST_EARN_POSTED && earn.tier_bonus_points > 0 &&
        !lc_id_is_zero(&earn.tier_transfer_id)) {
        int64_t before = earn.returned_amount - (earn.amount - earn.tier_basis_amount), rv = 0;
        if (before >= 0 &&
            st_return_points(returned, earn.tier_basis_amount, earn.tier_bonus_points, before,
                             earn.tier_reversed_points, &rv) == LC_OK &&
            rv > 0) {
            ld_transfer_t *x = &t[nt++];
            lc_id_derive(&row.id, "tier-reversal", &x->id);
            x->debit_account_id = earn.member_id;
            st_promotion_account(&x->credit_account_id);
            x->amount = rv;
            x->reverses = earn.tier_transfer_id;
            x->code = ST_CODE_RETURN;
            x->user_data = earn.id;
            row.tier_points_reversed = rv;
            row.bonus_points_reversed += rv;
            if (lc_id_is_zero(&row.transfer_id))
                row.transfer_id = x->id;
        }
    }
    for (size_t i = 0; i + 1 < nt; i++)
        t[i].flags |= LD_TF_LINKED;
    if (nt > 0) {
        ld_results_rep_t res;
        if (st_ledger_transfers(c->srv, c->rid, t, nt, &res) != LC_OK) {
            e2 = st_fail(c, LC_API_UNAVAILABLE, "the ledger is unavailable");
            goto out;
        }
        int bad = -1;
        for (size_t i = 0; i < nt && bad < 0; i++)
            if (!st_ledger_applied(res.results[i].result) &&
                res.results[i].result != LD_LINKED_EVENT_FAILED)
                bad = (int)i;
        int r = bad >= 0 ? res.results[bad].result : LD_OK;
        if (bad < 0)
            for (size_t i = 0; i < nt; i++)
                if (!st_ledger_applied(res.results[i].result))
                    r = res.results[i].result, bad = (int)i;
        lc_codec_clear(&ld_results_rep_desc, &res);
        if (bad >= 0) {
            e2 = st_outcome(c, r, &t[bad].id, true);
            goto out;
        }
    }
    rc = nb > 0 || row.tier_points_reversed > 0
             ? st_store_return_insert_bonus(c->srv, &row, bonus, brev, nb)
                : st_store_return_insert(c->srv, &row, &new_hold, settle);
    if (rc != LC_OK) {
        e2 = st_db_fail(c, "insert return");
        goto out;
    }
    char rid[LC_ID_STRLEN + 1], eid[LC_ID_STRLEN + 1], tid[LC_ID_STRLEN + 1];
    lc_id_format(&row.id, rid);
    lc_id_format(&earn.id, eid);
    lc_id_format(&row.transfer_id, tid);
    lc_log_kv(LC_LOG_INFO, c->rid, "return recorded", "partner_id", c->partner, "return_id", rid,
              "earn_id", eid, "transfer_id", tid, NULL);
    e2 = s_reply(c, &row, reply);
out:
    free(t);
    free(brev);
    free(bonus);
    return e2;
}
