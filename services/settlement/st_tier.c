/*
 * st_tier.c: member tiers (st_tier.h).
 *
 * Settlement is the source of truth: it sees every earn and return. A member's
 * qualifying points are the base points of its earns (net of returns) created in the
 * 12 calendar months up to the evaluation (st_store_tier_points); the tier is the
 * highest whose threshold they reach (lc_tiers_for_points). Evaluations:
 *   - after every earn: an upgrade takes effect at once;
 *   - the first evaluation of a member in a calendar month (UTC) is its monthly
 *     review: only then may the tier go down, so a member is downgraded at most once
 *     a month; an upgrade also counts as that month's review;
 *   - the sweep (tiers.review_interval_ms) reviews members above the lowest tier that
 *     have not been reviewed this month, so a member who stops earning still drops.
 * A change bumps the row's version and is reported to members (members.set_tier),
 * which shows the tier; members keeps the highest version, and the sweep resends
 * until members acknowledged it. Members never calls settlement, so the two cannot
 * wait on each other.
 *
 * Concurrency: the row is written with a compare-and-set on its version, so two
 * settlement processes evaluating one member at once apply one change; the loser
 * reads again.
 */
#include "st_tier.h"
#include "lc_err.h"
#include "lc_log.h"
#include "lc_period.h"
#include "lc_time.h"
#include "st_arith.h"
#include "st_ledger.h"
#include "st_members.h"
#include "st_store.h"

#include <stdio.h>
#include <string.h>

#define TIER_CAS_TRIES 3  /* reads again after losing a compare-and-set */
#define TIER_SWEEP_BATCH 100

/* YYYYMM of t (UTC). */
static int s_period(int64_t t)
{
    lc_period_t p;
    if (lc_period_of(t, &p) != LC_OK)
        return 197001;
    return p.year * 100 + p.month;
}

/* Reports the member's tier row to members; records the acknowledgement. */
static void s_push(st_server_t *s, const char *rid, const st_tier_row_t *t)
{
    int64_t held = 0;
    if (st_members_set_tier(s, rid, &t->member_id, t->tier, t->version, &held) == LC_OK)
        st_store_tier_pushed(s, &t->member_id, held); /* on failure: resent by the sweep */
}

static void s_log_change(const st_server_t *s, const char *rid, const st_tier_row_t *t, int from,
                         int64_t as_of)
{
    char mid[LC_ID_STRLEN + 1], pts[24], at[LC_RFC3339_MAX];
    lc_id_format(&t->member_id, mid);
    snprintf(pts, sizeof pts, "%lld", (long long)t->qualifying_points);
    if (lc_time_format(as_of, at) != LC_OK)
        at[0] = '\0';
    lc_log_kv(LC_LOG_INFO, rid, t->tier > from ? "tier upgraded" : "tier downgraded", "member_id",
              mid, "from", lc_tiers_name(&s->cfg.tiers, from), "to",
              lc_tiers_name(&s->cfg.tiers, t->tier), "qualifying_points", pts, "as_of", at, NULL);
}

int st_tier_evaluate(st_server_t *s, const char *rid, const lc_id_t *member, int64_t as_of,
                     int *tier, int64_t *qualifying)
{
    const lc_tiers_t *cfg = &s->cfg.tiers;
    int period = s_period(as_of);
    for (int attempt = 0; attempt < TIER_CAS_TRIES; attempt++) {
        st_tier_row_t old;
        memset(&old, 0, sizeof old);
        int rc = st_store_tier_get(s, member, &old);
        bool found = rc == LC_OK;
        if (rc != LC_OK && rc != LC_ERR_NOT_FOUND)
            return LC_ERR_UNAVAILABLE;
        int64_t pts = 0;
        if (st_store_tier_points(s, member, st_add_months(as_of, -12), as_of, &pts) != LC_OK)
            return LC_ERR_UNAVAILABLE;
        int cur = found ? old.tier : 0;
        int computed = lc_tiers_for_points(cfg, pts);
        bool review = !found || old.reviewed_period < period;
        int next = computed > cur || review ? computed : cur;
        if (tier)
            *tier = next;
        if (qualifying)
            *qualifying = pts;
        if (!found && next == 0)
            return LC_OK; /* the lowest tier needs no row */
        if (found && next == old.tier && !review)
            return LC_OK; /* nothing changes before next month's review */
        st_tier_row_t row = found ? old : (st_tier_row_t){.member_id = *member};
        row.tier = next;
        row.qualifying_points = pts;
        if (next != cur || !found) {
            row.changed_at = as_of;
            row.version = old.version + 1;
        }
        if (review || next > cur)
            row.reviewed_period = period > old.reviewed_period ? period : old.reviewed_period;
        rc = st_store_tier_put(s, &row, found ? old.version : 0);
        if (rc == LC_ERR_CONFLICT)
            continue; /* someone else changed it: read again */
        if (rc != LC_OK)
            return LC_ERR_UNAVAILABLE;
        if (next != cur) {
            s_log_change(s, rid, &row, cur, as_of);
            s_push(s, rid, &row);
        }
        return LC_OK;
    }
    return LC_ERR_UNAVAILABLE; /* lost the race every time: the next call sees the result */
}

int64_t st_tier_multiplier(const st_server_t *s, int tier)
{
    const lc_tiers_t *t = &s->cfg.tiers;
    if (tier < 0 || t->n == 0)
        return LC_TIER_BPS_ONE;
    return t->multipliers_bps[(size_t)tier < t->n ? (size_t)tier : t->n - 1];
}

int st_tier_current(st_server_t *s, const char *rid, const lc_id_t *member, int64_t now,
                    int *tier)
{
    st_tier_row_t row;
    int rc = st_store_tier_get(s, member, &row);
    if (rc == LC_ERR_NOT_FOUND) {
        *tier = 0;
        return LC_OK;
    }
    if (rc != LC_OK)
        return LC_ERR_UNAVAILABLE;
    if (row.reviewed_period >= s_period(now)) {
        *tier = row.tier;
        return LC_OK;
    }
    return st_tier_evaluate(s, rid, member, now, tier, NULL);
}

/* Creates the coalition's promotion account unless it is known to exist. */
static int s_ensure_promotion(st_server_t *s, const char *rid)
{
    if (s->promotion_ready)
        return LC_OK;
    ld_account_new_t a = {.kind = LD_KIND_COALITION_PROMOTION, .code = ST_ACCOUNT_PROMOTION};
    st_promotion_account(&a.id);
    int rc = st_ledger_ensure_account(s, rid, &a);
    if (rc == LC_OK)
        s->promotion_ready = true;
    return rc;
}

int st_tier_bonus_transfer(st_server_t *s, const char *rid, const lc_id_t *earn_id,
                           const lc_id_t *member, int64_t base, int64_t bps, ld_transfer_t *t,
                           int64_t *bonus)
{
    *bonus = 0;
    if (bps <= LC_TIER_BPS_ONE || base <= 0)
        return LC_OK;
    int64_t b = 0;
    if (st_earn_points(base, bps - LC_TIER_BPS_ONE, LC_TIER_BPS_ONE, &b) != LC_OK)
        return LC_ERR_OVERFLOW;
    if (b == 0)
        return LC_OK;
    if (s_ensure_promotion(s, rid) != LC_OK)
        return LC_ERR_UNAVAILABLE;
    memset(t, 0, sizeof *t);
    lc_id_derive(earn_id, "tier", &t->id);
    st_promotion_account(&t->debit_account_id);
    t->credit_account_id = *member;
    t->amount = b;
    t->code = ST_CODE_TIER_BONUS;
    t->user_data = *earn_id;
    *bonus = b;
    return LC_OK;
}

const char *st_tier_bonus(st_call_t *c, const lc_id_t *earn_id, const lc_id_t *member,
                          int64_t base, int64_t bps, ld_transfer_t *t, int64_t *bonus)
{
    int rc = st_tier_bonus_transfer(c->srv, c->rid, earn_id, member, base, bps, t, bonus);
    if (rc == LC_ERR_OVERFLOW)
        return st_fail(c, LC_API_INVALID_REQUEST, "amount: the points would exceed %lld",
                       (long long)LC_API_POINTS_MAX);
    if (rc != LC_OK)
        return st_fail(c, LC_API_UNAVAILABLE, "the ledger is unavailable");
    return NULL;
}

void st_tier_tick(st_server_t *s)
{
    s->next_tier_ms = lc_mono_ms() + s->cfg.tier_interval_ms;
    if (s->cfg.tiers.n < 2 || st_store_ensure(s) != LC_OK)
        return;
    int64_t now = lc_now_us();
    int period = s_period(now);
    st_tier_row_t due[TIER_SWEEP_BATCH];
    size_t n = 0;
    if (st_store_tiers_due(s, period, TIER_SWEEP_BATCH, due, &n) != LC_OK)
        return;
    for (size_t i = 0; i < n; i++) {
        if (due[i].tier > 0 && due[i].reviewed_period < period) {
            if (st_tier_evaluate(s, NULL, &due[i].member_id, now, NULL, NULL) != LC_OK)
                return; /* the database is gone: next tick */
            if (st_store_tier_get(s, &due[i].member_id, &due[i]) != LC_OK)
                continue;
        }
        if (due[i].pushed_version < due[i].version)
            s_push(s, NULL, &due[i]);
    }
    if (n == TIER_SWEEP_BATCH)
        s->next_tier_ms = lc_mono_ms(); /* more to do: come back at once */
}

const char *st_tier_review(st_server_t *s, const char *rid, const json_t *body, json_t **reply,
                           char *msg, size_t msglen)
{
    st_tier_review_req_t req;
    const char *code = st_plain_decode(&st_tier_review_req_desc, body, &req, msg, msglen);
    if (code)
        return code;
    int64_t as_of = req.as_of ? req.as_of : lc_now_us();
    int tier = 0;
    st_tier_review_rep_t rep = {0};
    if (st_store_ensure(s) != LC_OK ||
        st_tier_evaluate(s, rid, &req.member_id, as_of, &tier, &rep.qualifying_points) != LC_OK) {
        lc_codec_clear(&st_tier_review_req_desc, &req);
        snprintf(msg, msglen, "settlement database unavailable");
        return LC_E_UNAVAILABLE;
    }
    lc_codec_clear(&st_tier_review_req_desc, &req);
    rep.tier = tier;
    return st_plain_reply(&st_tier_review_rep_desc, &rep, reply, msg, msglen);
}
