/*
 * st_statement_feed.c: the journal consumer that writes settlement.statement_lines
 * (st_statement.h).
 *
 * It runs in a thread of its own with its own PostgreSQL connection and sockets
 * (lc_jconsumer.h), so that a long catch-up never delays requests and requests never
 * delay the stream. The request loop only reads what it writes (and closes months:
 * st_period.c).
 *
 * Exactly once (lc_journal.h, the consumer's rule): the loop applies a batch of
 * entries in one transaction that ends by moving settlement.statement_cursor past
 * them (lc_jconsumer.h); on start and after any error the consumer starts again
 * after the stored cursor. Each entry that derives lines first moves the cursor to
 * its seq, which takes the cursor's row lock, which a close takes too: a line is
 * never billed in a month while that month is being closed, and once the close has
 * committed, the month's lines are final. Entries that derive nothing (member-to-
 * member, donations, holds) do not write.
 */
#include "st_statement.h"
#include "lc_err.h"
#include "lc_jconsumer.h"
#include "lc_log.h"
#include "lc_period.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

/* What applying one entry needs. */
typedef struct consumer {
    const st_stmt_feed_t *f;
    lc_db_t *db;
} consumer_t;

/* Builds the line of entry e for class k into *r: its months and its money. */
static int s_line(consumer_t *c, const ld_entry_t *e, const st_stmt_class_t *k,
                  const char *entry_period, const char *period, st_stmt_row_t *r)
{
    memset(r, 0, sizeof *r);
    r->seq = e->seq;
    r->k = *k;
    r->transfer_id = e->id;
    r->code = e->code;
    r->points = e->amount;
    r->at = e->timestamp;
    snprintf(r->entry_period, sizeof r->entry_period, "%s", entry_period);
    snprintf(r->period, sizeof r->period, "%s", period);
    st_stmt_tariff_t t;
    const st_stmt_tariff_t *tp = NULL;
    if (k->party == ST_PARTY_PARTNER) {
        int rc = st_sstore_tariff(c->db, &k->party_id, &t);
        if (rc == LC_ERR_NOT_FOUND) {
            /* An account of a partner settlement does not have: no price to bill it
             * at. Kept as other, so reconciliation names it. */
            char pid[LC_ID_STRLEN + 1];
            lc_id_format(&k->party_id, pid);
            lc_warn(NULL, "statements: entry %" PRId64 " touches unknown partner %s", e->seq,
                    pid);
            r->k.category = ST_LINE_OTHER;
            return LC_OK;
        }
        if (rc != LC_OK)
            return rc;
        tp = &t;
    }
    if (st_stmt_price(&r->k, r->points, tp, c->f->point_value_micros, &r->amount_micros,
                      &r->fee_micros) != LC_OK) {
        lc_error(NULL, "statements: entry %" PRId64 " overflows its price: billed as other",
                 e->seq);
        r->k.category = ST_LINE_OTHER;
        r->amount_micros = r->fee_micros = 0;
    }
    return LC_OK;
}

/* Writes the lines of transfer entry e, if any, after the cursor. */
static int s_apply_transfer(consumer_t *c, const ld_entry_t *e)
{
    st_stmt_account_t dr, cr;
    int rc = st_sstore_accounts(c->db, e, &dr, &cr);
    if (rc != LC_OK)
        return rc;
    bool reverses_bonus = false;
    if (e->code == ST_CODE_RETURN && !lc_id_is_zero(&e->reverses) &&
        (rc = st_sstore_is_bonus(c->db, &e->reverses, &reverses_bonus)) != LC_OK)
        return rc;
    st_stmt_class_t k[2];
    int n = st_stmt_classify(e, &dr, &cr, reverses_bonus, k);
    if (n == 0)
        return LC_OK;
    lc_period_t m;
    char entry_period[ST_PERIOD_LEN + 1], period[ST_PERIOD_LEN + 1];
    if (lc_period_of(e->timestamp, &m) != LC_OK || lc_period_format(&m, entry_period) != LC_OK)
        return LC_ERR_PROTO; /* a ledger timestamp outside 1970..9999 */
    rc = st_sstore_cursor_move(c->db, e->seq); /* first: the lock a close waits on */
    if (rc == LC_OK)
        rc = st_sstore_billing_period(c->db, entry_period, period);
    for (int i = 0; rc == LC_OK && i < n; i++) {
        st_stmt_row_t r;
        rc = s_line(c, e, &k[i], entry_period, period, &r);
        if (rc == LC_OK)
            rc = st_sstore_line_insert(c->db, &r);
    }
    return rc;
}

/* Applies one entry in the loop's transaction (lc_jconsumer_ops_t.apply). */
static int s_apply(void *ctx, lc_db_t *db, const ld_entry_t *e)
{
    consumer_t cs = {.f = ctx, .db = db}, *c = &cs;
    if (e->type == LD_ENTRY_ACCOUNT) {
        if (e->kind == LD_KIND_MEMBER)
            return 0; /* nobody's statement: not worth a row per member */
        int rc = st_sstore_cursor_move(c->db, e->seq);
        return rc == LC_OK ? st_sstore_account_put(c->db, e) : rc;
    }
    if (e->type == LD_ENTRY_TRANSFER)
        return s_apply_transfer(c, e);
    return 0;
}

static const lc_jconsumer_ops_t s_ops = {
    .name = "statements",
    .cursor_read = st_sstore_cursor_read,
    .cursor_move = st_sstore_cursor_move,
    .apply = s_apply,
};

int st_stmt_feed_start(st_stmt_feed_t *f)
{
    f->run.ops = &s_ops;
    f->run.ctx = f;
    return lc_jconsumer_start(&f->run);
}

void st_stmt_feed_join(st_stmt_feed_t *f)
{
    lc_jconsumer_join(&f->run);
}
