/*
 * test_faults.c: faults under load (issue 8, item 1). Four clients earn and donate
 * points over HTTP, each request with its own Idempotency-Key, retrying the same
 * key after a 5xx or a lost connection until a definitive answer, while the test
 * kills the ledger, settlement, members and the gateway with SIGKILL, and
 * pauses settlement with SIGSTOP past the gateway's deadline. Afterwards the
 * checks of tests/lib/faultload.h: every acknowledged earn and donation is in the
 * books exactly once, nothing refused was applied, the trial balance is zero, the
 * hash chain and the stored balances verify against the journal, members' history
 * equals the journal, the donation report equals the journal and the statements
 * reconcile with it; and no earn was refused, no donation refused but for want of
 * points.
 *
 * The PostgreSQL postmaster is shared by the whole test run (tests/run.sh), so
 * killing it is left to test_faults_pg.c, which runs a cluster of its own.
 */
#include "faultload.h"

#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

static e2e_t s_e;
static fl_load_t s_load;

static int setup(void **state)
{
    (void)state;
    const char *gw[] = {"COAL_GATEWAY_BUS_TIMEOUT_MS=1000", "COAL_GATEWAY_BUS_RETRIES=1", NULL};
    e2e_start(&s_e, true, gw, NULL);
    fl_setup(&s_load, &s_e, "fault", 8, 20000);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    e2e_stop(&s_e);
    return 0;
}

static void s_pause_ms(int ms)
{
    usleep((useconds_t)ms * 1000);
}

static void faults_every_acknowledged_earn_is_booked_exactly_once(void **state)
{
    (void)state;
    fl_start(&s_load, (long)time(NULL));
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
    fl_totals_t t;
    fl_stop(&s_load, &t);
    fl_check_books(&s_load, &t);
    fl_check_figures(&s_load, &t);
    fprintf(stderr,
            "test_faults: %d faults; %lld earns acknowledged (%lld points), %lld refused; "
            "%lld donations acknowledged (%lld points, %lld matched), %lld refused; %lld "
            "retries, %lld lost connections; 0 lost, 0 doubled; history = journal, donation "
            "report = journal, statements reconciled\n",
            faults, (long long)t.acked, (long long)t.points, (long long)t.refused,
            (long long)t.don_acked, (long long)t.don_points, (long long)t.don_matched,
            (long long)t.don_refused, (long long)t.retries, (long long)t.lost_connections);
    assert_int_equal(t.refused, 0);
    assert_int_equal(t.don_unexpected, 0);
    /* Worth something only if the faults hit requests in flight. */
    assert_true(t.acked > 20);
    assert_true(t.don_acked > 0);
    assert_true(t.retries > 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(faults_every_acknowledged_earn_is_booked_exactly_once),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
