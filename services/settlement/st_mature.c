/*
 * st_mature.c: pending earns become spendable.
 *
 * An earn at a partner with pending_days > 0 is a ledger hold (issuance -> member,
 * no timeout): the member sees it as credits_pending and cannot spend it. Every
 * settlement.mature_interval_ms the sweep posts the holds of the earns whose
 * available_at has passed, with post ids derived from the hold (so a post resent
 * after a crash answers `exists`), then marks the earns posted. A return may reach
 * a due earn before the sweep does; it posts it first (st_mature_one).
 */
#include "lc_err.h"
#include "lc_log.h"
#include "lc_time.h"
#include "st_ledger.h"
#include "st_mature.h"
#include "st_server.h"
#include "st_store.h"

#include <string.h>

/* Posts the holds of earns e[0..n); marks each applied one posted. Returns how many
 * were posted, or a negative LC_ERR_* when the ledger did not answer. */
static int s_post(st_server_t *s, const char *rid, st_earn_row_t *e, size_t n)
{
    ld_transfer_t t[ST_SWEEP_BATCH];
    memset(t, 0, sizeof t);
    for (size_t i = 0; i < n; i++) {
        lc_id_derive(&e[i].hold_id, "mature", &t[i].id);
        t[i].pending_id = e[i].hold_id;
        t[i].flags = LD_TF_POST_PENDING;
        t[i].code = ST_CODE_EARN_MATURE;
        t[i].user_data = e[i].id;
    }
    ld_results_rep_t res;
    int rc = st_ledger_transfers(s, rid, t, n, &res);
    if (rc != LC_OK)
        return rc;
    int posted = 0;
    for (size_t i = 0; i < n; i++) {
        char eid[LC_ID_STRLEN + 1], tid[LC_ID_STRLEN + 1];
        lc_id_format(&e[i].id, eid);
        lc_id_format(&t[i].id, tid);
        int r = res.results[i].result;
        if (!st_ledger_applied(r)) {
            lc_log_kv(LC_LOG_ERROR, rid, "pending earn cannot be posted", "earn_id", eid,
                      "transfer_id", tid, "result", st_ledger_result_name(r), NULL);
            continue;
        }
        if (st_store_earn_posted(s, &e[i].id, &t[i].id) != LC_OK)
            continue; /* logged; the next sweep resends the post and gets exists */
        e[i].status = ST_EARN_POSTED;
        e[i].credit_id = t[i].id;
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
