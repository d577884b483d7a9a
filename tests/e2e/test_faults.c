/*
 * test_faults.c: faults under load (issue 8, item 1). Four clients earn points
 * over HTTP, each request with its own Idempotency-Key, retrying the same key
 * after a 5xx or a lost connection until a definitive answer, while the test
 * kills the ledger, settlement, members and the gateway with SIGKILL, and
 * pauses settlement with SIGSTOP past the gateway's deadline. Afterwards every
 * acknowledged earn is in the books exactly once (each member's balance is the
 * sum of its acknowledged points, settlement holds exactly the acknowledged
 * earns, the journal holds one earn transfer each), nothing was refused, the
 * trial balance is zero and the hash chain verifies.
 *
 * The PostgreSQL postmaster is shared by the whole test run (tests/run.sh), so
 * killing it is left to a separate suite; see docs/RELIABILITY.md.
 */
#include "e2e.h"
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
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

enum {
    N_MEMBERS = 8,
    N_CLIENTS = 4,
    GIVE_UP_MS = 90000, /* one request without a definitive answer this long: failure */
};

static e2e_t s_e;
static char s_partner_key[128];
static char s_cards[N_MEMBERS][40];
static atomic_int s_stop;

typedef struct client {
    int index;
    unsigned short rng[3];
    int64_t acked_points[N_MEMBERS];
    int64_t acked, retries, refused, lost_connections;
    char err[512];
} client_t;

static int setup(void **state)
{
    (void)state;
    const char *gw[] = {"COAL_GATEWAY_BUS_TIMEOUT_MS=1000", "COAL_GATEWAY_BUS_RETRIES=1", NULL};
    e2e_start(&s_e, true, gw, NULL);
    e2e_resp_t r;
    e2e_http(&s_e, "POST", "/v1/partners", s_e.admin_key, e2e_idem(),
             "{\"name\":\"Faulty\",\"earn_rate\":{\"points\":1,\"per_amount\":100},"
             "\"tariff\":{\"issue_price_micros\":1,\"redeem_credit_micros\":1,\"fee_bps\":0},"
             "\"funding\":\"postpaid\"}",
             NULL, &r);
    assert_int_equal(r.status, 201);
    snprintf(s_partner_key, sizeof s_partner_key, "%s", e2e_str(&r, "api_key"));
    e2e_resp_clear(&r);
    for (int i = 0; i < N_MEMBERS; i++) {
        e2e_http(&s_e, "POST", "/v1/members", s_partner_key, e2e_idem(), "{}", NULL, &r);
        assert_int_equal(r.status, 201);
        snprintf(s_cards[i], sizeof s_cards[i], "%s", e2e_str(&r, "card_number"));
        e2e_resp_clear(&r);
    }
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    e2e_stop(&s_e);
    return 0;
}

/* Sends one earn until a definitive answer; returns its status (0: gave up). */
static long s_earn(client_t *c, const char *idem, const char *body)
{
    int64_t deadline = lc_mono_ms() + GIVE_UP_MS;
    int attempts = 0;
    while (lc_mono_ms() < deadline) {
        e2e_resp_t r;
        attempts++;
        bool got = e2e_http_try(&s_e, "POST", "/v1/earn", s_partner_key, idem, body, NULL, &r);
        long status = got ? r.status : 0;
        e2e_resp_clear(&r);
        if (!got)
            c->lost_connections++;
        if (got && status < 500 && status != 429) {
            c->retries += attempts - 1;
            return status;
        }
        usleep(got ? 50 * 1000 : 200 * 1000);
    }
    return 0;
}

static void *s_client(void *arg)
{
    client_t *c = arg;
    for (int n = 0; !atomic_load(&s_stop); n++) {
        int m = (int)(nrand48(c->rng) % N_MEMBERS);
        long cents = 100 + (long)(nrand48(c->rng) % 20000);
        char idem[64], body[256];
        snprintf(idem, sizeof idem, "fault-%d-%d", c->index, n);
        snprintf(body, sizeof body,
                 "{\"card_number\":\"%s\",\"receipt_id\":\"%s\",\"amount\":{\"amount\":%ld,"
                 "\"currency\":\"EUR\"}}",
                 s_cards[m], idem, cents);
        long status = s_earn(c, idem, body);
        if (status == 201) {
            c->acked++;
            c->acked_points[m] += cents / 100; /* 1 point per 1.00 EUR, rounded down */
        } else {
            c->refused++;
            if (!c->err[0])
                snprintf(c->err, sizeof c->err, "earn %s answered %ld", idem, status);
        }
    }
    return NULL;
}

static void s_pause_ms(int ms)
{
    usleep((useconds_t)ms * 1000);
}

static void faults_every_acknowledged_earn_is_booked_exactly_once(void **state)
{
    (void)state;
    client_t clients[N_CLIENTS];
    pthread_t threads[N_CLIENTS];
    memset(clients, 0, sizeof clients);
    long seed = (long)time(NULL);
    fprintf(stderr, "test_faults: seed %ld\n", seed);
    for (int i = 0; i < N_CLIENTS; i++) {
        clients[i].index = i;
        clients[i].rng[0] = (unsigned short)(seed + i);
        clients[i].rng[1] = (unsigned short)(seed >> 16);
        clients[i].rng[2] = (unsigned short)i;
        assert_int_equal(pthread_create(&threads[i], NULL, s_client, &clients[i]), 0);
    }
    int faults = 0;
    s_pause_ms(800);
    /* settlement dies mid-request and comes back */
    th_svc_kill(&s_e.settlement, SIGKILL);
    faults++;
    s_pause_ms(300);
    th_svc_restart(&s_e.settlement);
    s_pause_ms(800);
    /* the ledger dies; a restart waits for its old session to end */
    th_ledger_kill(&s_e.ledger, SIGKILL);
    faults++;
    th_ledger_wait_session_gone(&s_e.ledger);
    th_ledger_start(&s_e.ledger, s_e.db);
    s_pause_ms(800);
    /* members dies (settlement resolves every card through it) */
    th_svc_kill(&s_e.members, SIGKILL);
    faults++;
    s_pause_ms(300);
    th_svc_restart(&s_e.members);
    s_pause_ms(800);
    /* settlement stops answering beyond the gateway's deadline, then resumes */
    kill(s_e.settlement.pid, SIGSTOP);
    faults++;
    s_pause_ms(3000);
    kill(s_e.settlement.pid, SIGCONT);
    s_pause_ms(800);
    /* the gateway dies: clients lose their connections and retry */
    e2e_restart_gateway(&s_e);
    faults++;
    s_pause_ms(1500);
    atomic_store(&s_stop, 1);
    for (int i = 0; i < N_CLIENTS; i++)
        pthread_join(threads[i], NULL);

    int64_t acked = 0, retries = 0, lost = 0, points[N_MEMBERS] = {0}, total = 0;
    for (int i = 0; i < N_CLIENTS; i++) {
        if (clients[i].refused)
            fail_msg("client %d: %lld earns refused (%s)", i, (long long)clients[i].refused,
                     clients[i].err);
        acked += clients[i].acked;
        retries += clients[i].retries;
        lost += clients[i].lost_connections;
        for (int m = 0; m < N_MEMBERS; m++)
            points[m] += clients[i].acked_points[m];
    }
    /* Settlement holds exactly the acknowledged earns; the ledger one transfer each. */
    assert_int_equal(th_sql_i64(s_e.db, "SELECT count(*) FROM settlement.earns"), acked);
    assert_int_equal(th_sql_i64(s_e.db, "SELECT count(*) FROM settlement.earns e WHERE NOT "
                                        "EXISTS (SELECT 1 FROM ledger.journal j WHERE j.id = "
                                        "e.transfer_id)"),
                     0);
    assert_int_equal(th_sql_i64(s_e.db, "SELECT count(*) FROM (SELECT id FROM ledger.journal "
                                        "GROUP BY id HAVING count(*) > 1) d"),
                     0);
    /* Each member's balance is the sum of its acknowledged points. */
    for (int m = 0; m < N_MEMBERS; m++) {
        char path[128];
        snprintf(path, sizeof path, "/v1/cards/%s/balance", s_cards[m]);
        e2e_resp_t r;
        e2e_http(&s_e, "GET", path, s_partner_key, NULL, NULL, NULL, &r);
        assert_int_equal(r.status, 200);
        if (e2e_int(&r, "available") != points[m])
            fail_msg("member %d: balance %lld, acknowledged %lld", m, e2e_int(&r, "available"),
                     (long long)points[m]);
        total += points[m];
        e2e_resp_clear(&r);
    }
    assert_int_equal(th_sql_i64(s_e.db, "SELECT coalesce(sum(credits_posted - debits_posted), "
                                        "0) FROM ledger.accounts"),
                     0);
    th_client_t c;
    th_client_open(&c, &s_e.ledger);
    json_t *v = th_call(&c, LD_TYPE_VERIFY, json_object(), NULL, 0);
    assert_true(json_is_true(json_object_get(v, "ok")));
    json_decref(v);
    th_client_close(&c);
    fprintf(stderr,
            "test_faults: %d faults; %lld earns acknowledged (%lld points), %lld retries, %lld "
            "lost connections; 0 lost, 0 doubled\n",
            faults, (long long)acked, (long long)total, (long long)retries, (long long)lost);
    /* Worth something only if the faults hit requests in flight. */
    assert_true(acked > 20);
    assert_true(retries > 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(faults_every_acknowledged_earn_is_booked_exactly_once),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
