/*
 * test_journal.c: the journal subscriber (lc_journal.h) against the real ledger:
 * every entry exactly once and in order, a late subscriber replays history, a gap
 * (entries published while the subscriber could not hear them) is filled by a
 * replay, a failing callback gets the same entry again, and a restart from a stored
 * cursor resumes without loss or duplicates.
 */
#include "harness.h"
#include "lc_err.h"
#include "lc_journal.h"
#include "lc_time.h"

#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zmq.h>
#include <cmocka.h>

enum { A = 1, B = 2, MAXSEQ = 4096 };

static char s_db[64];
static th_ledger_t s_ledger;
static th_client_t s_lc;
static void *s_zctx;
static uint64_t s_next_transfer = 1000;

/* What a consumer saw: how often each seq came, and that they came in order. */
typedef struct seen {
    int count[MAXSEQ];
    int64_t last;
    int64_t fail_at; /* the callback refuses this seq once (0: never) */
    bool order_broken;
} seen_t;

static int s_cb(void *ctx, const ld_entry_t *e)
{
    seen_t *s = ctx;
    if (s->fail_at && e->seq == s->fail_at) {
        s->fail_at = 0;
        return LC_ERR_DB; /* as a consumer whose transaction failed */
    }
    if (e->seq != s->last + 1)
        s->order_broken = true;
    if (e->seq > 0 && e->seq < MAXSEQ)
        s->count[e->seq]++;
    s->last = e->seq;
    return 0;
}

static int64_t s_head(void)
{
    char code[64];
    json_t *rep = th_call(&s_lc, LD_TYPE_PING, json_object(), code, sizeof code);
    assert_non_null(rep);
    int64_t seq = json_integer_value(json_object_get(rep, "journal_seq"));
    json_decref(rep);
    return seq;
}

static void s_post(int n)
{
    for (int i = 0; i < n; i++) {
        const char *r = th_create_one(&s_lc, LD_TYPE_CREATE_TRANSFERS,
                                      th_transfer(s_next_transfer++, A, B, 1));
        assert_string_equal(r, "ok");
    }
}

/* Polls until the consumer reached the ledger's head (10 s at most). */
static void s_catch_up(lc_journal_t *j, seen_t *s)
{
    int64_t head = s_head();
    int64_t t0 = lc_mono_ms();
    while (lc_journal_last_seq(j) < head) {
        int rc = lc_journal_poll(j, 50, s_cb, s);
        (void)rc; /* errors are retried by the next poll */
        if (lc_mono_ms() - t0 > 10000)
            fail_msg("consumer stuck at %lld, head %lld", (long long)lc_journal_last_seq(j),
                     (long long)head);
    }
    assert_int_equal(s->last, head);
}

/* Every seq in (from, to] exactly once, in order. */
static void s_exactly_once(const seen_t *s, int64_t from, int64_t to)
{
    assert_false(s->order_broken);
    for (int64_t q = from + 1; q <= to; q++)
        if (s->count[q] != 1)
            fail_msg("seq %lld delivered %d times", (long long)q, s->count[q]);
}

static int setup_group(void **state)
{
    (void)state;
    th_db_create(s_db, sizeof s_db);
    th_ledger_start(&s_ledger, s_db);
    th_client_open(&s_lc, &s_ledger);
    s_zctx = zmq_ctx_new();
    json_t *accounts =
        json_pack("{s:[o,o]}", "accounts", th_account(A, "partner_issuance", NULL),
                  th_account(B, "partner_redemption", NULL));
    json_t *rep = th_call(&s_lc, LD_TYPE_CREATE_ACCOUNTS, accounts, NULL, 0);
    assert_non_null(rep);
    json_decref(rep);
    return 0;
}

static int teardown_group(void **state)
{
    (void)state;
    th_client_close(&s_lc);
    zmq_ctx_term(s_zctx);
    th_ledger_stop(&s_ledger);
    return 0;
}

static void journal_delivers_in_order_exactly_once(void **state)
{
    (void)state;
    seen_t *s = calloc(1, sizeof *s);
    lc_journal_t *j = lc_journal_new(s_zctx, s_ledger.publish, s_ledger.endpoint, 0);
    assert_non_null(j);
    s_catch_up(j, s);
    int64_t before = s->last;
    s_post(40);
    s_catch_up(j, s);
    s_exactly_once(s, 0, s->last);
    assert_int_equal(s->last, before + 40);
    lc_journal_stats_t st;
    lc_journal_stats(j, &st);
    assert_int_equal(st.delivered, (uint64_t)s->last);
    lc_journal_destroy(&j);
    free(s);
}

static void journal_late_subscriber_replays_history(void **state)
{
    (void)state;
    s_post(10);
    seen_t *s = calloc(1, sizeof *s);
    lc_journal_t *j = lc_journal_new(s_zctx, s_ledger.publish, s_ledger.endpoint, 0);
    assert_non_null(j);
    s_catch_up(j, s);
    s_exactly_once(s, 0, s->last);
    lc_journal_stats_t st;
    lc_journal_stats(j, &st);
    assert_true(st.replayed >= 10); /* history comes from journal_read, not the stream */
    lc_journal_destroy(&j);
    free(s);
}

static void journal_gap_is_filled_by_replay(void **state)
{
    (void)state;
    seen_t *s = calloc(1, sizeof *s);
    lc_journal_t *j = lc_journal_new(s_zctx, s_ledger.publish, s_ledger.endpoint, 0);
    assert_non_null(j);
    s_catch_up(j, s);
    /* The ledger restarts; what it publishes before the SUB has reconnected is lost
     * to this subscriber (the slow joiner), so the stream shows a gap or goes quiet
     * before the head: both end in a replay. */
    th_ledger_kill(&s_ledger, SIGKILL);
    th_ledger_wait_session_gone(&s_ledger);
    th_ledger_start(&s_ledger, s_db);
    th_client_close(&s_lc);
    th_client_open(&s_lc, &s_ledger);
    s_post(20);
    lc_journal_poll(j, 0, s_cb, s); /* hears the tail, if any, after the loss */
    s_post(5);
    s_catch_up(j, s);
    s_exactly_once(s, 0, s->last);
    lc_journal_stats_t st;
    lc_journal_stats(j, &st);
    print_message("gap test: delivered %llu, stream %llu, replayed %llu, gaps %llu, dups %llu\n",
                  (unsigned long long)st.delivered, (unsigned long long)st.from_stream,
                  (unsigned long long)st.replayed, (unsigned long long)st.gaps,
                  (unsigned long long)st.duplicates);
    lc_journal_destroy(&j);
    free(s);
}

static void journal_silent_stream_is_caught_up(void **state)
{
    (void)state;
    /* A subscriber that never polls while entries are published and then polls: the
     * SUB buffered them, or the quiet replay finds them; either way exactly once. */
    seen_t *s = calloc(1, sizeof *s);
    lc_journal_t *j = lc_journal_new(s_zctx, "ipc:///nonexistent-pub", s_ledger.endpoint, 0);
    assert_non_null(j);
    lc_journal_set_quiet_ms(j, 100);
    s_catch_up(j, s);
    s_post(7); /* never heard on the stream: only the quiet replay can find them */
    s_catch_up(j, s);
    s_exactly_once(s, 0, s->last);
    lc_journal_stats_t st;
    lc_journal_stats(j, &st);
    assert_int_equal(st.from_stream, 0);
    lc_journal_destroy(&j);
    free(s);
}

static void journal_failed_callback_gets_the_entry_again(void **state)
{
    (void)state;
    seen_t *s = calloc(1, sizeof *s);
    lc_journal_t *j = lc_journal_new(s_zctx, s_ledger.publish, s_ledger.endpoint, 0);
    assert_non_null(j);
    s_catch_up(j, s);
    int64_t head = s->last;
    s->fail_at = head + 3;
    s_post(6);
    s_catch_up(j, s);
    assert_int_equal(s->fail_at, 0); /* it did refuse once */
    s_exactly_once(s, 0, s->last);
    assert_int_equal(s->last, head + 6);
    lc_journal_destroy(&j);
    free(s);
}

static void journal_restart_from_cursor_resumes(void **state)
{
    (void)state;
    seen_t *s = calloc(1, sizeof *s);
    lc_journal_t *j = lc_journal_new(s_zctx, s_ledger.publish, s_ledger.endpoint, 0);
    assert_non_null(j);
    s_catch_up(j, s);
    s_post(5);
    /* Stop in the middle: the consumer's transaction for this entry "fails", as if
     * it crashed before the commit; its stored cursor is the last consumed seq. */
    s->fail_at = s->last + 3;
    while (s->fail_at)
        lc_journal_poll(j, 50, s_cb, s);
    int64_t cursor = lc_journal_last_seq(j);
    assert_int_equal(cursor, s->last);
    lc_journal_destroy(&j);
    s_post(5); /* published while no consumer runs */
    j = lc_journal_new(s_zctx, s_ledger.publish, s_ledger.endpoint, cursor);
    assert_non_null(j);
    s_catch_up(j, s);
    s_exactly_once(s, 0, s->last);
    lc_journal_destroy(&j);
    free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(journal_delivers_in_order_exactly_once),
        cmocka_unit_test(journal_late_subscriber_replays_history),
        cmocka_unit_test(journal_gap_is_filled_by_replay),
        cmocka_unit_test(journal_silent_stream_is_caught_up),
        cmocka_unit_test(journal_failed_callback_gets_the_entry_again),
        cmocka_unit_test(journal_restart_from_cursor_resumes),
    };
    return cmocka_run_group_tests(tests, setup_group, teardown_group);
}
