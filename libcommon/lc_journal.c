/*
 * lc_journal.c: the journal subscriber (lc_journal.h).
 */
#include "lc_journal.h"
#include "lc_bus.h"
#include "lc_err.h"
#include "lc_log.h"
#include "lc_time.h"

#include <errno.h>
#include <jansson.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

struct lc_journal {
    void *sub;               /* SUB to the ledger's PUB */
    lc_bus_client_t *ledger; /* DEALER for journal_read */
    int64_t last;            /* last seq consumed */
    int64_t head;            /* journal head as journal_read last said */
    bool need_replay;        /* start, or after an error: replay before the stream */
    int quiet_ms;
    int64_t heard_ms;        /* lc_mono_ms of the last message or replay */
    lc_journal_stats_t st;
};

lc_journal_t *lc_journal_new(void *zctx, const char *pub_endpoint, const char *ledger_endpoint,
                             int64_t start_after_seq)
{
    if (!zctx || !pub_endpoint || !ledger_endpoint || start_after_seq < 0)
        return NULL;
    lc_journal_t *j = calloc(1, sizeof *j);
    if (!j)
        return NULL;
    j->last = start_after_seq;
    j->need_replay = true;
    j->quiet_ms = LC_JOURNAL_QUIET_MS;
    /* Subscribe and connect before the first replay: whatever is published while
     * the replay runs is buffered here, and anything older comes from the replay. */
    char *err = NULL;
    j->sub = lc_bus_sub_new(zctx, pub_endpoint, LD_JOURNAL_TOPIC, &err);
    if (!j->sub) {
        lc_error(NULL, "journal: cannot subscribe to %s: %s", pub_endpoint, err ? err : "?");
        free(err);
        goto fail;
    }
    j->ledger = lc_bus_client_new(zctx, ledger_endpoint);
    if (!j->ledger)
        goto fail;
    j->heard_ms = lc_mono_ms();
    return j;
fail:
    lc_journal_destroy(&j);
    return NULL;
}

void lc_journal_destroy(lc_journal_t **j_p)
{
    lc_journal_t *j = j_p ? *j_p : NULL;
    if (!j)
        return;
    if (j->sub)
        zmq_close(j->sub);
    lc_bus_client_destroy(&j->ledger);
    free(j);
    *j_p = NULL;
}

int64_t lc_journal_last_seq(const lc_journal_t *j)
{
    return j->last;
}

int64_t lc_journal_head_seq(const lc_journal_t *j)
{
    return j->head;
}

void lc_journal_set_quiet_ms(lc_journal_t *j, int quiet_ms)
{
    j->quiet_ms = quiet_ms >= 1 ? quiet_ms : 1;
}

void lc_journal_stats(const lc_journal_t *j, lc_journal_stats_t *out)
{
    *out = j->st;
}

/* Hands e (seq == last + 1) to the callback. */
static int s_deliver(lc_journal_t *j, const ld_entry_t *e, bool stream, lc_journal_fn fn,
                     void *ctx)
{
    int rc = fn(ctx, e);
    if (rc != 0) {
        j->need_replay = true; /* the entry comes again, from journal_read */
        return rc;
    }
    j->last = e->seq;
    j->st.delivered++;
    if (stream)
        j->st.from_stream++;
    else
        j->st.replayed++;
    return 0;
}

/* Reads with journal_read after the last seq until the head (as the ledger said
 * in the same reply), delivering every entry. */
static int s_replay(lc_journal_t *j, lc_journal_fn fn, void *ctx)
{
    for (;;) {
        json_t *body = json_pack("{s:I, s:I}", "after_seq", (json_int_t)j->last, "limit",
                                 (json_int_t)LC_JOURNAL_PAGE);
        if (!body)
            return LC_ERR_NOMEM;
        lc_reply_t rep;
        memset(&rep, 0, sizeof rep);
        j->st.reads++;
        int rc = lc_bus_call(j->ledger, LD_TYPE_JOURNAL_READ, body, NULL, LC_JOURNAL_CALL_MS,
                             LC_JOURNAL_CALL_RETRIES, &rep);
        json_decref(body);
        if (rc != LC_OK || !rep.ok) {
            if (rc == LC_OK)
                lc_warn(NULL, "journal: journal_read refused: %s", rep.code);
            lc_reply_clear(&rep);
            j->need_replay = true;
            return LC_ERR_UNAVAILABLE;
        }
        ld_entries_rep_t page;
        lc_codec_err_t cerr;
        rc = lc_codec_decode(&ld_entries_rep_desc, rep.body, &page, &cerr);
        lc_reply_clear(&rep);
        if (rc != LC_OK) {
            lc_warn(NULL, "journal: unusable journal_read reply: %s %s", cerr.path, cerr.message);
            j->need_replay = true;
            return LC_ERR_PROTO;
        }
        j->head = page.head_seq;
        for (size_t i = 0; i < page.nentries && rc == 0; i++) {
            const ld_entry_t *e = &page.entries[i];
            if (e->seq <= j->last)
                continue;
            if (e->seq != j->last + 1) {
                lc_warn(NULL, "journal: journal_read after %lld answered seq %lld",
                        (long long)j->last, (long long)e->seq);
                rc = LC_ERR_PROTO;
                j->need_replay = true;
                break;
            }
            rc = s_deliver(j, e, false, fn, ctx);
        }
        size_t n = page.nentries;
        lc_codec_clear(&ld_entries_rep_desc, &page);
        if (rc != 0)
            return rc;
        if (n == 0 || j->last >= j->head)
            break;
    }
    j->need_replay = false;
    j->heard_ms = lc_mono_ms();
    return 0;
}

/* Receives one stream message without waiting into *e. LC_ERR_TIMEOUT when none,
 * LC_ERR_PROTO for a malformed one (dropped: a gap or the quiet replay covers it). */
static int s_recv(lc_journal_t *j, ld_entry_t *e)
{
    zmq_msg_t part;
    int nparts = 0, rc = LC_ERR_PROTO;
    bool have = false;
    int more = 1;
    while (more) {
        zmq_msg_init(&part);
        if (zmq_msg_recv(&part, j->sub, ZMQ_DONTWAIT) < 0) {
            zmq_msg_close(&part);
            return nparts == 0 ? LC_ERR_TIMEOUT : LC_ERR_PROTO;
        }
        more = zmq_msg_more(&part);
        nparts++;
        if (nparts == 2 && !more) {
            json_error_t jerr;
            json_t *obj = json_loadb(zmq_msg_data(&part), zmq_msg_size(&part), 0, &jerr);
            lc_codec_err_t cerr;
            if (obj && lc_codec_decode(&ld_entry_desc, obj, e, &cerr) == LC_OK) {
                have = true;
                rc = LC_OK;
            }
            json_decref(obj);
        }
        zmq_msg_close(&part);
    }
    if (!have)
        lc_warn(NULL, "journal: dropped a malformed stream message (%d frames)", nparts);
    return rc;
}

int lc_journal_poll(lc_journal_t *j, int timeout_ms, lc_journal_fn fn, void *ctx)
{
    int rc;
    if (j->need_replay && (rc = s_replay(j, fn, ctx)) != 0)
        return rc;
    int64_t until = lc_mono_ms() + (timeout_ms > 0 ? timeout_ms : 0);
    bool delivered = false;
    for (;;) {
        ld_entry_t e;
        memset(&e, 0, sizeof e);
        rc = s_recv(j, &e);
        if (rc == LC_OK) {
            j->heard_ms = lc_mono_ms();
            if (e.seq <= j->last) {
                j->st.duplicates++;
                rc = 0;
            } else if (e.seq == j->last + 1) {
                rc = s_deliver(j, &e, true, fn, ctx);
            } else {
                /* A gap: the replay reads up to the head, which includes e (published
                 * after its commit); e itself is then a duplicate. */
                j->st.gaps++;
                rc = s_replay(j, fn, ctx);
                if (rc == 0 && j->last < e.seq) {
                    lc_warn(NULL, "journal: replay ended at %lld before stream seq %lld",
                            (long long)j->last, (long long)e.seq);
                    j->need_replay = true;
                    rc = LC_ERR_PROTO;
                }
            }
            lc_codec_clear(&ld_entry_desc, &e);
            if (rc != 0)
                return rc;
            delivered = true;
            if (lc_mono_ms() >= until)
                return 0; /* a busy stream: let the caller look up now and then */
            continue;
        }
        if (rc == LC_ERR_PROTO)
            continue;
        if (delivered)
            return 0; /* what had arrived is delivered: the caller may commit it now */
        int64_t now = lc_mono_ms();
        if (now - j->heard_ms >= j->quiet_ms) {
            /* Quiet: a lost tail of the stream shows only here. */
            if ((rc = s_replay(j, fn, ctx)) != 0)
                return rc;
            continue;
        }
        if (now >= until)
            return 0;
        int64_t wait = until - now;
        if (wait > j->heard_ms + j->quiet_ms - now)
            wait = j->heard_ms + j->quiet_ms - now;
        zmq_pollitem_t item = {.socket = j->sub, .events = ZMQ_POLLIN};
        if (zmq_poll(&item, 1, (long)(wait > 0 ? wait : 0)) < 0 && errno != EINTR)
            return LC_ERR_IO;
        if (!(item.revents & ZMQ_POLLIN) && lc_mono_ms() >= until)
            return 0;
    }
}
