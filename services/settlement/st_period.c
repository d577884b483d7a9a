/*
 * st_period.c: closing a month (POST /v1/settlement/periods/{period}/close,
 * settlement.close_period) and the helpers for {period} paths.
 *
 * A close makes the month's statements final: it records the month in
 * settlement.periods and each party's figures in settlement.statements, in one
 * transaction that holds the statements' cursor row, so the journal consumer
 * (st_statement_feed.c) cannot bill a line in the month meanwhile; afterwards it
 * bills anything late for the month in the next open one. Before that the close waits
 * (up to ST_STMT_CLOSE_WAIT_MS) for the consumer to reach the journal's head as the
 * ledger reported it, so that entries already in the journal are not needlessly late.
 *
 *   - a month that has not ended (by st_period_now): conflict, nothing written;
 *   - a month closed before: the first close's answer again (a no-op);
 *   - the consumer still behind after the wait: unavailable (retry).
 */
#include "lc_err.h"
#include "lc_log.h"
#include "lc_period.h"
#include "lc_time.h"
#include "st_ledger.h"
#include "st_server.h"
#include "st_statement.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#define CATCH_UP_POLL_MS 50 /* how often a close looks at the consumer's cursor */

const char *st_period_param(st_call_t *c, const char **text)
{
    lc_period_t p;
    *text = lc_api_param(&c->api, "period");
    if (!*text || lc_period_parse(*text, &p) != LC_OK)
        return st_fail(c, LC_API_INVALID_REQUEST, "period: expected YYYY-MM");
    return NULL;
}

int64_t st_period_now(const st_server_t *s)
{
    return lc_now_us() + s->cfg.period_offset_s * LC_USEC_PER_SEC;
}

/* Waits until the consumer's cursor reaches the journal's head. */
static const char *s_catch_up(st_call_t *c)
{
    ld_empty_t none = {0};
    ld_ping_rep_t ping;
    memset(&ping, 0, sizeof ping);
    if (st_ledger_call(c->srv, c->rid, LD_TYPE_PING, &ld_empty_desc, &none, &ld_ping_rep_desc,
                       &ping) != LC_OK)
        return st_fail(c, LC_API_UNAVAILABLE, "the ledger is unavailable");
    int64_t head = ping.journal_seq;
    lc_codec_clear(&ld_ping_rep_desc, &ping);
    int64_t deadline = lc_mono_ms() + ST_STMT_CLOSE_WAIT_MS, cursor = 0;
    for (;;) {
        if (st_sstore_cursor_read(c->srv->db, &cursor) != LC_OK)
            return st_db_fail(c, "read the statements' cursor");
        if (cursor >= head)
            return NULL;
        if (lc_mono_ms() >= deadline)
            return st_fail(c, LC_API_UNAVAILABLE,
                           "the statements are behind the journal (entry %lld of %lld): retry",
                           (long long)cursor, (long long)head);
        struct timespec ts = {.tv_nsec = CATCH_UP_POLL_MS * 1000000L};
        nanosleep(&ts, NULL);
    }
}

/* The close itself: one transaction holding the cursor row. *p is the stored close
 * (a concurrent one's, when it came first). */
static int s_close(st_call_t *c, const char *period, st_stmt_period_t *p)
{
    lc_db_t *db = c->srv->db;
    st_statement_t *s = NULL;
    size_t n = 0;
    int rc = lc_db_begin(db);
    if (rc == LC_OK)
        rc = st_sstore_cursor_lock(db, &p->last_seq);
    if (rc == LC_OK) {
        rc = st_sstore_period_get(db, period, p);
        if (rc == LC_OK) { /* closed meanwhile: that close stands */
            lc_db_rollback(db);
            return LC_OK;
        }
        if (rc == LC_ERR_NOT_FOUND)
            rc = LC_OK;
    }
    if (rc == LC_OK)
        rc = st_stmt_build(db, period, ST_STATEMENT_OPEN, 0, NULL, &s, &n);
    p->closed_at = lc_now_us();
    p->statements = (int64_t)n;
    if (rc == LC_OK)
        rc = st_sstore_period_insert(db, period, p, &c->api.caller.key_id);
    for (size_t i = 0; rc == LC_OK && i < n; i++)
        rc = st_sstore_final_insert(db, period, &s[i]);
    st_stmt_free(s, n);
    if (rc == LC_OK)
        rc = lc_db_commit(db);
    if (rc != LC_OK)
        lc_db_rollback(db);
    return rc;
}

const char *st_h_close_period(st_call_t *c, json_t **reply)
{
    const char *period;
    st_empty_t in;
    const char *e = st_need_role(c, LC_ROLE_ADMIN);
    if (!e)
        e = st_period_param(c, &period);
    if (!e)
        e = st_decode(c, &st_empty_desc, &in);
    if (e)
        return e;
    st_stmt_period_t p;
    int rc = st_sstore_period_get(c->srv->db, period, &p);
    if (rc == LC_ERR_NOT_FOUND) {
        lc_period_t m;
        int64_t last = 0;
        lc_period_parse(period, &m); /* checked by st_period_param */
        lc_period_last_us(&m, &last);
        if (st_period_now(c->srv) <= last)
            return st_fail(c, LC_API_CONFLICT, "%s has not ended: it cannot be closed yet",
                           period);
        if ((e = s_catch_up(c)))
            return e;
        rc = s_close(c, period, &p);
        if (rc == LC_OK) {
            char seq[24], n[24];
            snprintf(seq, sizeof seq, "%lld", (long long)p.last_seq);
            snprintf(n, sizeof n, "%lld", (long long)p.statements);
            lc_log_kv(LC_LOG_INFO, c->rid, "period closed", "period", period, "journal_seq",
                      seq, "statements", n, NULL);
        }
    }
    if (rc != LC_OK)
        return st_db_fail(c, "close the period");
    st_close_rep_t rep = {.period = (char *)period,
                          .status = ST_STATEMENT_FINAL,
                          .closed_at = p.closed_at,
                          .journal_seq = p.last_seq,
                          .statements = p.statements};
    return st_reply(c, &st_close_rep_desc, &rep, reply);
}
