/*
 * st_expire.c: expiry of earned and granted points.
 *
 * Earns and grants give their ledger credit a lot expiry (st_expiry_of: the
 * configured validity, optionally moved to the cut-off day of the due year,
 * st_arith.h). Every expiry.sweep_interval_ms the sweep calls ledger.expire_lots
 * (as_of = now, limit = expiry.batch) until the ledger answers more = false: the
 * ledger moves the remaining points of every due lot to the coalition's breakage
 * account (st_breakage_account, created here at start) in transfers with code
 * ST_CODE_EXPIRY.
 *
 * Safety comes from the ledger, not from settlement state: each expiry transfer's id
 * is derived from the lot and how often it expired before, and an expired lot has
 * nothing left, so a sweep that runs twice, runs in two settlement processes at once
 * (the ledger serializes them), or dies after some batches expires every point once.
 * Settlement keeps no row per sweep; the journal is the record.
 *
 * A timer tick makes at most ST_EXPIRE_ROUNDS calls and comes back at once when lots
 * are left, so a large backlog never keeps partners' requests waiting for long.
 * settlement.expire_now (internal) runs a whole sweep at a chosen as_of.
 */
#include "lc_err.h"
#include "lc_log.h"
#include "lc_time.h"
#include "st_arith.h"
#include "st_ledger.h"
#include "st_server.h"

#include <stdio.h>
#include <string.h>

int64_t st_expiry_of(const st_server_t *s, int64_t now)
{
    return st_expiry_at(&s->cfg.expiry, now);
}

/* Creates the breakage account unless it is known to exist. LC_OK when it exists. */
static int s_ensure_breakage(st_server_t *s, const char *rid)
{
    if (s->breakage_ready)
        return LC_OK;
    ld_account_new_t a = {.kind = LD_KIND_COALITION_BREAKAGE, .code = ST_ACCOUNT_BREAKAGE};
    st_breakage_account(&a.id);
    /* Made otherwise by someone else, expire_lots still works unless it tracks lots
     * (then the ledger refuses every call, which is logged). */
    int rc = st_ledger_ensure_account(s, rid, &a);
    if (rc == LC_OK)
        s->breakage_ready = true;
    return rc; /* logged; the next tick tries again */
}

/* Expires lots due at as_of: at most max_rounds ledger calls (0 = until none is due).
 * Adds to *lots and *points; *more says lots are still due. LC_OK or LC_ERR_*. */
static int s_sweep(st_server_t *s, const char *rid, int64_t as_of, int max_rounds, int64_t *lots,
                   int64_t *points, bool *more)
{
    *more = false;
    int rc = s_ensure_breakage(s, rid);
    if (rc != LC_OK)
        return rc;
    ld_expire_req_t req = {.as_of = as_of, .code = ST_CODE_EXPIRY, .limit = s->cfg.expire_batch};
    st_breakage_account(&req.breakage_account_id);
    for (int round = 0; max_rounds == 0 || round < max_rounds; round++) {
        ld_expire_rep_t rep;
        rc = st_ledger_expire(s, rid, &req, &rep);
        if (rc == LC_ERR_NOT_FOUND)
            s->breakage_ready = false; /* the ledger lost it (a fresh ledger): recreate */
        if (rc != LC_OK)
            return rc;
        *lots += (int64_t)rep.nresults;
        *points += rep.points;
        *more = rep.more;
        lc_codec_clear(&ld_expire_rep_desc, &rep);
        if (!*more)
            break;
    }
    return LC_OK;
}

/* Logs a sweep's totals at info (or nothing for an idle timer tick). */
static void s_log(const char *rid, const char *what, int64_t as_of, int64_t lots, int64_t points,
                  bool more)
{
    char t[LC_RFC3339_MAX], l[24], p[24];
    lc_time_format(as_of, t);
    snprintf(l, sizeof l, "%lld", (long long)lots);
    snprintf(p, sizeof p, "%lld", (long long)points);
    lc_log_kv(LC_LOG_INFO, rid, what, "as_of", t, "lots", l, "points", p, "more",
              more ? "true" : "false", NULL);
}

void st_expire_tick(st_server_t *s)
{
    int64_t lots = 0, points = 0;
    bool more = false;
    int64_t as_of = lc_now_us();
    int rc = s_sweep(s, NULL, as_of, ST_EXPIRE_ROUNDS, &lots, &points, &more);
    if (lots > 0)
        s_log(NULL, "expiry sweep", as_of, lots, points, more);
    if (rc != LC_OK)
        lc_log_kv(LC_LOG_ERROR, NULL, "expiry sweep interrupted", "error", lc_strerror(rc), NULL);
    /* Lots left: continue after the next request (or poll); otherwise wait. */
    s->next_expire_ms = lc_mono_ms() + (rc == LC_OK && more ? 0 : s->cfg.expire_interval_ms);
}

const char *st_expire_now(st_server_t *s, const char *rid, const json_t *body, json_t **reply,
                          char *msg, size_t msglen)
{
    st_expire_now_req_t req;
    const char *code = st_plain_decode(&st_expire_now_req_desc, body, &req, msg, msglen);
    if (code)
        return code;
    int64_t as_of = req.as_of ? req.as_of : lc_now_us();
    lc_codec_clear(&st_expire_now_req_desc, &req);
    st_expire_now_rep_t rep = {0};
    bool more = false;
    int rc = s_sweep(s, rid, as_of, 0, &rep.lots, &rep.points, &more);
    s_log(rid, rc == LC_OK ? "expiry sweep on request" : "expiry sweep on request interrupted",
          as_of, rep.lots, rep.points, more);
    if (rc != LC_OK) {
        snprintf(msg, msglen, "the ledger is unavailable (%s); %lld lots expired before",
                 lc_strerror(rc), (long long)rep.lots);
        return LC_E_UNAVAILABLE;
    }
    return st_plain_reply(&st_expire_now_rep_desc, &rep, reply, msg, msglen);
}
