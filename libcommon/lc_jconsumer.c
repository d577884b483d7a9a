/*
 * lc_jconsumer.c: the journal consumer's thread (lc_jconsumer.h).
 */
#include "lc_jconsumer.h"
#include "lc_err.h"
#include "lc_journal.h"
#include "lc_log.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef struct run {
    lc_jconsumer_t *c;
    lc_db_t *db;
    int64_t saved; /* the stored cursor as last written or read */
    bool open;     /* a batch transaction is open */
    int64_t last;  /* the last entry applied in it */
    int n;         /* entries applied in it */
} run_t;

/* Ends the open batch: moves the cursor to seq (at least the last entry applied)
 * and commits; or, with nothing open, moves the cursor alone when seq passed it. */
static int s_flush(run_t *r, int64_t seq)
{
    if (seq < r->last)
        seq = r->last;
    int rc = LC_OK;
    if (r->open) {
        rc = r->c->ops->cursor_move(r->db, seq);
        if (rc == LC_OK)
            rc = lc_db_commit(r->db);
        r->open = false;
        r->n = 0;
        if (rc != LC_OK) {
            lc_warn(NULL, "%s: committing journal entries up to %lld failed: %s %s",
                    r->c->ops->name, (long long)seq, lc_db_sqlstate(r->db), lc_db_error(r->db));
            lc_db_rollback(r->db);
            return rc;
        }
        r->saved = seq;
    } else if (seq > r->saved) {
        rc = r->c->ops->cursor_move(r->db, seq);
        if (rc == LC_OK)
            r->saved = seq;
    }
    return rc;
}

/* Drops the open batch (after a failure): nothing of it was committed. */
static void s_abandon(run_t *r)
{
    if (r->open)
        lc_db_rollback(r->db);
    r->open = false;
    r->n = 0;
    r->last = r->saved;
}

/* lc_journal_fn: one entry through ops->apply, in the open batch. */
static int s_apply(void *arg, const ld_entry_t *e)
{
    run_t *r = arg;
    int rc = LC_OK;
    if (!r->open) {
        if ((rc = lc_db_begin(r->db)) != LC_OK)
            return rc;
        r->open = true;
    }
    rc = r->c->ops->apply(r->c->ctx, r->db, e);
    if (rc != LC_OK) {
        lc_warn(NULL, "%s: applying journal entry %lld failed: %s %s", r->c->ops->name,
                (long long)e->seq, lc_db_sqlstate(r->db), lc_db_error(r->db));
        s_abandon(r);
        return rc;
    }
    r->last = e->seq;
    if (++r->n >= LC_JCONSUMER_BATCH)
        rc = s_flush(r, e->seq);
    return rc;
}

static void s_sleep_ms(int ms)
{
    struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* Connects when there is no usable connection (the journal then starts again after
 * the stored cursor); false, after a pause, when it cannot. */
static bool s_connect(run_t *r, lc_journal_t **j, unsigned *failures)
{
    if (r->db && lc_db_alive(r->db))
        return true;
    lc_journal_destroy(j);
    lc_db_destroy(&r->db);
    char *err = NULL;
    r->db = lc_db_connect(r->c->conninfo, &err);
    if (r->db)
        return true;
    if ((*failures)++ % LC_JCONSUMER_WARN_EVERY == 0)
        lc_warn(NULL, "%s: database connection failed: %s", r->c->ops->name, err ? err : "?");
    free(err);
    s_sleep_ms(LC_JCONSUMER_RETRY_MS);
    return false;
}

/* One round: open the journal after the stored cursor if needed, apply what one
 * poll delivers as one batch, and let the cursor pass entries that derived nothing. */
static int s_round(run_t *r, lc_journal_t **j)
{
    const lc_jconsumer_t *c = r->c;
    int rc = LC_OK;
    if (!*j) {
        int64_t cursor = 0;
        rc = c->ops->cursor_read(r->db, &cursor);
        if (rc != LC_OK)
            return rc;
        if (!(*j = lc_journal_new(c->zctx, c->publish, c->ledger, cursor)))
            return LC_ERR_IO;
        r->saved = r->last = cursor;
    }
    rc = lc_journal_poll(*j, LC_JCONSUMER_POLL_MS, s_apply, r);
    /* The batch ends with the poll; the cursor also passes entries that derived
     * nothing. */
    if (rc == LC_OK)
        rc = s_flush(r, lc_journal_last_seq(*j));
    if (rc != LC_OK)
        s_abandon(r);
    return rc;
}

static void *s_run(void *arg)
{
    run_t r = {.c = arg};
    lc_journal_t *j = NULL;
    unsigned failures = 0;
    while (!*r.c->stop) {
        if (!s_connect(&r, &j, &failures))
            continue;
        int rc = s_round(&r, &j);
        if (rc != LC_OK) {
            if (failures++ % LC_JCONSUMER_WARN_EVERY == 0)
                lc_warn(NULL, "%s: journal consumer: %s (retrying)", r.c->ops->name,
                        lc_strerror(rc));
            lc_journal_destroy(&j); /* start again after the stored cursor */
            s_sleep_ms(LC_JCONSUMER_RETRY_MS);
        } else {
            failures = 0;
        }
    }
    lc_journal_destroy(&j);
    lc_db_destroy(&r.db);
    return NULL;
}

int lc_jconsumer_start(lc_jconsumer_t *c)
{
    if (pthread_create(&c->thread, NULL, s_run, c) != 0)
        return LC_ERR_IO;
    c->started = true;
    return LC_OK;
}

void lc_jconsumer_join(lc_jconsumer_t *c)
{
    if (c->started)
        pthread_join(c->thread, NULL);
    c->started = false;
}

int lc_jconsumer_accounts(lc_db_t *db, const char *select_sql, const ld_entry_t *e,
                          lc_jaccount_t *dr, lc_jaccount_t *cr)
{
    char d[LC_ID_STRLEN + 1], k[LC_ID_STRLEN + 1];
    lc_id_format(&e->debit_account_id, d);
    lc_id_format(&e->credit_account_id, k);
    const char *p[] = {d, k};
    lc_dbres_t *res = NULL;
    int rc = lc_db_exec(db, select_sql, 2, p, &res);
    memset(dr, 0, sizeof *dr);
    memset(cr, 0, sizeof *cr);
    for (int i = 0; rc == LC_OK && i < lc_dbres_rows(res); i++) {
        lc_id_t id;
        int64_t kind = 0;
        lc_jaccount_t a = {.known = true};
        rc = lc_dbres_id(res, i, 0, &id);
        if (rc == LC_OK)
            rc = lc_dbres_i64(res, i, 1, &kind);
        if (rc == LC_OK)
            rc = lc_dbres_id(res, i, 2, &a.owner);
        a.kind = (int)kind;
        if (rc == LC_OK && lc_id_eq(&id, &e->debit_account_id))
            *dr = a;
        if (rc == LC_OK && lc_id_eq(&id, &e->credit_account_id))
            *cr = a;
    }
    lc_dbres_free(&res);
    return rc;
}
