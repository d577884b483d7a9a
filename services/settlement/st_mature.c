/*
 * st_mature.c: pending earns become spendable.
 *
 * An earn at a partner with pending_days > 0 is a ledger hold (issuance -> member,
 * no timeout): the member sees it as credits_pending and cannot spend it. Every
 * settlement.mature_interval_ms the sweep posts the holds of the earns whose
 * available_at has passed, with post ids derived from the hold (so a post resent
 * after a crash answers `exists`), then marks the earns posted. A return may reach
 * a due earn before the sweep does; it posts it first (st_mature_one). The member's
 * tier bonus of a pending earn (the multiplier of its tier when it was earned) is
 * credited with the post, on the points that are left after returns.
 */
#include "lc_err.h"
#include "lc_log.h"
#include "lc_time.h"
#include "st_ledger.h"
#include "st_mature.h"
#include "st_server.h"
#include "st_store.h"
#include "st_tier.h"

#include <string.h>

/* Posts the holds of earns e[0..n); marks each applied one posted. An earn with a
 * tier multiplier gets its tier bonus (st_tier.c) on the points it still holds, in a
 * transfer linked with the post: both or neither. Returns how many were posted, or a
 * negative LC_ERR_* when the ledger did not answer. */
static int s_post(st_server_t *s, const char *rid, st_earn_row_t *e, size_t n)
{
    ld_transfer_t t[2 * ST_SWEEP_BATCH];
    size_t at[ST_SWEEP_BATCH]; /* index of e[i]'s post in t */
    memset(t, 0, sizeof t);
    size_t nt = 0;
    for (size_t i = 0; i < n; i++) {
        at[i] = nt;
        ld_transfer_t *p = &t[nt++];
        lc_id_derive(&e[i].hold_id, "mature", &p->id);
        p->pending_id = e[i].hold_id;
        p->flags = LD_TF_POST_PENDING;
        p->code = ST_CODE_EARN_MATURE;
        p->user_data = e[i].id;
        int64_t held = e[i].points - e[i].reversed_points;
        e[i].tier_bonus_points = 0;
        int rc = st_tier_bonus_transfer(s, rid, &e[i].id, &e[i].member_id, held, e[i].tier_bps,
                                        &t[nt], &e[i].tier_bonus_points);
        if (rc == LC_ERR_UNAVAILABLE)
            return rc; /* no promotion account yet: the next sweep tries again */
        if (rc == LC_OK && e[i].tier_bonus_points > 0) {
            t[nt].expires_at = e[i].expires_at;
            p->flags |= LD_TF_LINKED;
            e[i].tier_transfer_id = t[nt].id;
            e[i].tier_basis_amount = e[i].amount - e[i].returned_amount;
            nt++;
        }
    }
    ld_results_rep_t res;
    int rc = st_ledger_transfers(s, rid, t, nt, &res);
    if (rc != LC_OK)
        return rc;
    int posted = 0;
    for (size_t i = 0; i < n; i++) {
        char eid[LC_ID_STRLEN + 1], tid[LC_ID_STRLEN + 1];
        const ld_transfer_t *p = &t[at[i]];
        lc_id_format(&e[i].id, eid);
        lc_id_format(&p->id, tid);
        int r = res.results[at[i]].result;
        /* A chain is applied when its last transfer is; it names a failure there too. */
        if ((p->flags & LD_TF_LINKED) && (st_ledger_applied(r) || r == LD_LINKED_EVENT_FAILED))
            r = res.results[at[i] + 1].result;
        if (!st_ledger_applied(r)) {
            lc_log_kv(LC_LOG_ERROR, rid, "pending earn cannot be posted", "earn_id", eid,
                      "transfer_id", tid, "result", st_ledger_result_name(r), NULL);
            continue;
        }
        if (st_store_earn_posted(s, &e[i], &p->id) != LC_OK)
            continue; /* logged; the next sweep resends the post and gets exists */
        e[i].status = ST_EARN_POSTED;
        e[i].credit_id = p->id;
        memset(&e[i].hold_id, 0, sizeof e[i].hold_id);
        lc_log_kv(LC_LOG_INFO, rid, "earn matured", "earn_id", eid, "transfer_id", tid, NULL);
        posted++;
    }
    lc_codec_clear(&ld_results_rep_desc, &res);
    return posted;
}

void st_mature_sweep(st_server_t *s)
{
    st_earn_row_t due[ST_SWEEP_BATCH];
    size_t n = 0;
    if (st_store_earns_due(s, lc_now_us(), ST_SWEEP_BATCH, due, &n) != LC_OK || n == 0)
        return;
    s_post(s, NULL, due, n);
}

int st_mature_one(st_server_t *s, const char *rid, st_earn_row_t *e)
{
    if (e->status != ST_EARN_PENDING || e->available_at > lc_now_us())
        return LC_OK;
    int rc = s_post(s, rid, e, 1);
    if (rc < 0)
        return rc;
    return e->status == ST_EARN_POSTED ? LC_OK : LC_ERR_CONFLICT;
}
