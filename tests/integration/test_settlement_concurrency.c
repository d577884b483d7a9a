/*
 * test_settlement_concurrency.c: settlement serving several requests at once
 * (st_threads.c), with the real ledger, members, settlement, ZeroMQ and PostgreSQL.
 *
 * What the worker threads must not change: a coupon a member may use once is used
 * once however many of the member's earns arrive together (the member lock); one
 * idempotency key sent by several clients at the same moment earns once and every
 * client gets the same answer. What they are for: a request stuck waiting (here on a
 * stopped members service) holds up neither reads nor the requests that take the
 * serial lock.
 */
#include "apicall.h"
#include "lc_api.h"
#include "lc_err.h"
#include "lc_settlement_msg.h"
#include "lc_time.h"

#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#define CLIENTS 8

static ta_cluster_t s_cl;

/* One client thread's earn: its own bus client, its own answer. No cmocka checks in
 * threads (they would longjmp across threads): main checks what they wrote. */
typedef struct earn_job {
    const ta_partner_t *p;
    const ta_member_t *m;
    char key[48];
    const char *extra;    /* merged into the body (JSON object text), may be NULL */
    int timeout_ms;
    pthread_barrier_t *start;
    int rc;               /* th_try_call's */
    char code[TA_CODE_LEN];
    json_t *reply;
    atomic_int done;
} earn_job_t;

static void *s_earn_thread(void *arg)
{
    earn_job_t *j = arg;
    th_client_t c;
    th_client_open_at(&c, s_cl.settle.endpoint);
    json_t *req = json_pack("{s:s, s:s, s:{s:i, s:s}}", "card_number", j->m->card, "receipt_id",
                            j->key, "amount", "amount", 1000, "currency", "EUR");
    if (req && j->extra) {
        json_t *x = json_loads(j->extra, 0, NULL);
        json_object_update(req, x);
        json_decref(x);
    }
    json_t *body = req ? lc_api_req_build(&j->p->who.c, j->key, NULL, NULL, req) : NULL;
    json_decref(req);
    if (j->start)
        pthread_barrier_wait(j->start);
    j->rc = body ? th_try_call(&c, ST_TYPE_EARN, body, j->timeout_ms, 0, &j->reply, j->code,
                               sizeof j->code)
                 : LC_ERR_NOMEM;
    th_client_close(&c);
    atomic_store(&j->done, 1);
    return NULL;
}

/* Runs n earn jobs released at the same instant and waits for all of them. */
static void s_run_together(earn_job_t *jobs, int n)
{
    pthread_t t[CLIENTS];
    pthread_barrier_t start;
    assert_true(n <= CLIENTS);
    assert_int_equal(pthread_barrier_init(&start, NULL, (unsigned)n), 0);
    for (int i = 0; i < n; i++) {
        jobs[i].start = &start;
        jobs[i].timeout_ms = 30000;
        assert_int_equal(pthread_create(&t[i], NULL, s_earn_thread, &jobs[i]), 0);
    }
    for (int i = 0; i < n; i++)
        pthread_join(t[i], NULL);
    pthread_barrier_destroy(&start);
    for (int i = 0; i < n; i++) {
        assert_int_equal(jobs[i].rc, LC_OK);
        ta_ok(jobs[i].reply, jobs[i].code);
    }
}

static void s_clear(earn_job_t *jobs, int n)
{
    for (int i = 0; i < n; i++)
        json_decref(jobs[i].reply);
}

static void concurrent_earns_use_a_once_per_member_coupon_once(void **state)
{
    (void)state;
    ta_partner_t p;
    ta_member_t m;
    ta_partner(&s_cl, &p, 1, 100, 0, "postpaid", NULL);
    ta_member(&s_cl, &m, &p);
    char json[512], from[LC_RFC3339_MAX], until[LC_RFC3339_MAX], code[TA_CODE_LEN];
    int64_t hour = INT64_C(3600) * 1000000;
    assert_int_equal(lc_time_format(lc_now_us() - hour, from), LC_OK);
    assert_int_equal(lc_time_format(lc_now_us() + hour, until), LC_OK);
    snprintf(json, sizeof json,
             "{\"code\": \"RACE1\", \"kind\": \"bonus\", \"bonus_points\": 7, \"funded_by\": "
             "{\"type\": \"coalition\"}, \"partner_id\": null, \"valid_from\": \"%s\", "
             "\"valid_until\": \"%s\", \"max_per_member\": 1}",
             from, until);
    json_t *rep = ta_call(&s_cl.sc, ST_TYPE_CREATE_COUPON, &s_cl.admin, ta_key(), NULL,
                          json_loads(json, 0, NULL), code);
    ta_ok(rep, code);
    json_decref(rep);
    rep = ta_call(&s_cl.sc, ST_TYPE_ACTIVATE_COUPON, &s_cl.app, NULL,
                  json_pack("{s:s, s:s}", "id", m.ids, "code", "RACE1"), json_object(), code);
    ta_ok(rep, code);
    json_decref(rep);

    earn_job_t jobs[CLIENTS];
    memset(jobs, 0, sizeof jobs);
    for (int i = 0; i < CLIENTS; i++) {
        jobs[i].p = &p;
        jobs[i].m = &m;
        jobs[i].extra = "{\"coupon_codes\": [\"RACE1\"]}";
        snprintf(jobs[i].key, sizeof jobs[i].key, "race-%d", i);
    }
    s_run_together(jobs, CLIENTS);
    int applied = 0;
    for (int i = 0; i < CLIENTS; i++) {
        assert_int_equal(ta_int(jobs[i].reply, "points"), 10);
        if (json_array_size(json_object_get(jobs[i].reply, "coupons_applied")) == 1) {
            applied++;
            assert_int_equal(ta_int(jobs[i].reply, "bonus_points"), 7);
        } else {
            assert_int_equal(ta_int(jobs[i].reply, "bonus_points"), 0);
            json_t *rej = json_array_get(json_object_get(jobs[i].reply, "coupons_rejected"), 0);
            assert_string_equal(ta_str(rej, "reason"), "used_up");
        }
    }
    s_clear(jobs, CLIENTS);
    assert_int_equal(applied, 1);
    assert_int_equal(ta_acct(&s_cl, m.ids, "balance"), CLIENTS * 10 + 7);
    snprintf(json, sizeof json,
             "SELECT count(*) FROM settlement.earn_coupons WHERE member_id = '%s' AND reason "
             "IS NULL",
             m.ids);
    assert_int_equal(th_sql_i64(s_cl.db, json), 1);
}

static void one_key_sent_by_many_clients_at_once_earns_once(void **state)
{
    (void)state;
    ta_partner_t p;
    ta_member_t m;
    ta_partner(&s_cl, &p, 1, 100, 0, "postpaid", NULL);
    ta_member(&s_cl, &m, &p);
    int64_t rows = ta_settlement_rows(&s_cl, "earns");
    earn_job_t jobs[CLIENTS];
    memset(jobs, 0, sizeof jobs);
    for (int i = 0; i < CLIENTS; i++) {
        jobs[i].p = &p;
        jobs[i].m = &m;
        snprintf(jobs[i].key, sizeof jobs[i].key, "same-receipt");
    }
    s_run_together(jobs, CLIENTS);
    for (int i = 1; i < CLIENTS; i++) {
        assert_string_equal(ta_str(jobs[i].reply, "id"), ta_str(jobs[0].reply, "id"));
        assert_int_equal(ta_int(jobs[i].reply, "points"), 10);
        assert_string_equal(ta_str(jobs[i].reply, "status"), ta_str(jobs[0].reply, "status"));
    }
    s_clear(jobs, CLIENTS);
    assert_int_equal(ta_settlement_rows(&s_cl, "earns"), rows + 1);
    assert_int_equal(ta_acct(&s_cl, m.ids, "balance"), 10);
}

static void a_request_waiting_on_members_holds_up_no_other(void **state)
{
    (void)state;
    ta_partner_t p;
    ta_member_t m;
    ta_partner(&s_cl, &p, 1, 100, 0, "postpaid", NULL);
    ta_member(&s_cl, &m, &p);
    /* members stops answering: the earn waits in settlement for its card */
    assert_int_equal(kill(s_cl.members.pid, SIGSTOP), 0);
    earn_job_t stuck = {.p = &p, .m = &m, .key = "stuck-earn", .timeout_ms = 60000};
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, s_earn_thread, &stuck), 0);
    usleep(300 * 1000); /* it reaches a worker */
    char code[TA_CODE_LEN];
    /* a read, and a request that takes the serial lock, are answered meanwhile */
    json_t *rep = ta_call(&s_cl.sc, ST_TYPE_GET_PARTNER, &s_cl.admin, NULL,
                          json_pack("{s:s}", "id", p.ids), json_object(), code);
    ta_ok(rep, code);
    assert_string_equal(ta_str(rep, "id"), p.ids);
    json_decref(rep);
    ta_partner_t q;
    ta_partner(&s_cl, &q, 1, 100, 0, "prepaid", NULL);
    bool waiting = !atomic_load(&stuck.done);
    assert_int_equal(kill(s_cl.members.pid, SIGCONT), 0);
    pthread_join(t, NULL);
    assert_true(waiting);
    /* and the stuck earn still ends with a definitive answer: the card resolves once
     * members is back, or the earn is refused as unavailable and changed nothing */
    assert_int_equal(stuck.rc, LC_OK);
    if (stuck.reply) {
        assert_int_equal(ta_int(stuck.reply, "points"), 10);
        assert_int_equal(ta_acct(&s_cl, m.ids, "balance"), 10);
    } else {
        assert_string_equal(stuck.code, LC_API_UNAVAILABLE);
        assert_int_equal(ta_acct(&s_cl, m.ids, "balance"), 0);
    }
    json_decref(stuck.reply);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(concurrent_earns_use_a_once_per_member_coupon_once),
        cmocka_unit_test(one_key_sent_by_many_clients_at_once_earns_once),
        cmocka_unit_test(a_request_waiting_on_members_holds_up_no_other),
    };
    return ta_run_tests(tests, &s_cl, NULL);
}
