/*
 * test_faults_pg.c: faults under load that test_faults cannot inject (issue 8,
 * item 1): SIGKILL of the PostgreSQL postmaster, then a restart of the cluster,
 * twice (a short and a long outage), and the journal subscriber (members' history
 * consumer) blocked with SIGSTOP and severed with SIGKILL and a restart, all while
 * four clients earn and donate over HTTP and retry each request with its
 * Idempotency-Key until a definitive answer.
 *
 * The suite runs on a PostgreSQL cluster of its own (deploy/pg.sh under a private
 * COAL_VAR and port), never on the run's shared one. A service whose database
 * vanished either reconnects on its next request (members, settlement, donation,
 * the gateway) or exits so that it reloads (the ledger: its memory may be ahead of
 * an unknown commit outcome); like `make run`'s supervisor, the test restarts what
 * exited, and checks that only the ledger needed it.
 *
 * Afterwards the checks of tests/lib/faultload.h, as in test_faults: every
 * acknowledged earn and donation is in the books exactly once, nothing refused was
 * applied, the trial balance is zero, the ledger's verify recomputes the chain and
 * the stored balances from the journal, members' history holds exactly the
 * journal's member entries, the donation report equals the journal and the
 * statements reconcile with it; and no earn was refused, no donation refused but
 * for want of points.
 */
#include "faultload.h"
#include "lc_time.h"

#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#define PG_RESTART_MS 60000 /* the cluster must be back within this */

static e2e_t s_e;
static fl_load_t s_load;
static char s_var[256]; /* the private COAL_VAR: cluster, endpoints, logs */
static int s_restarts_ledger, s_restarts_other;

/* ---- the private cluster -------------------------------------------------------- */

/* Runs deploy/pg.sh with args against the private cluster; returns its status. */
static int s_pg(const char *args)
{
    char cmd[600];
    snprintf(cmd, sizeof cmd, "deploy/pg.sh %s >>%s/pg.sh.log 2>&1", args, s_var);
    return system(cmd);
}

/* Starts the private cluster on a free port (tries a few, like tests/run.sh). */
static void s_pg_first_start(void)
{
    for (int attempt = 0; attempt < 4; attempt++) {
        char port[16];
        snprintf(port, sizeof port, "%d", 20000 + (int)(lc_mono_ms() * 7919 % 9973));
        setenv("COAL_PG_PORT", port, 1);
        if (s_pg("start") == 0)
            return;
        s_pg("stop");
        char conf[400];
        snprintf(conf, sizeof conf, "rm -rf %s/pg", s_var); /* the port is in its config */
        assert_int_equal(system(conf), 0);
    }
    fail_msg("the private PostgreSQL cluster did not start (%s/pg.sh.log)", s_var);
}

static pid_t s_postmaster_pid(void)
{
    char path[400];
    snprintf(path, sizeof path, "%s/pg/data/postmaster.pid", s_var);
    FILE *f = fopen(path, "r");
    long pid = 0;
    if (f) {
        if (fscanf(f, "%ld", &pid) != 1)
            pid = 0;
        fclose(f);
    }
    return (pid_t)pid;
}

/* SIGKILL of the postmaster: no shutdown checkpoint, backends left to notice. */
static void s_pg_kill(void)
{
    pid_t pm = s_postmaster_pid();
    assert_true(pm > 0);
    assert_int_equal(kill(pm, SIGKILL), 0);
    while (kill(pm, 0) == 0) /* not our child: wait until it is gone */
        usleep(10 * 1000);
}

/* Starts the cluster again: crash recovery replays the WAL. The orphaned backends
 * of the killed postmaster must exit first (they hold its shared memory), so
 * pg_ctl start is retried until it succeeds. */
static void s_pg_restart(void)
{
    int64_t deadline = lc_mono_ms() + PG_RESTART_MS;
    while (s_pg("start") != 0) {
        if (lc_mono_ms() > deadline)
            fail_msg("PostgreSQL did not come back (%s/pg.sh.log, %s/pg/server.log)", s_var, s_var);
        usleep(200 * 1000);
    }
}

/* ---- supervision, as deploy/run.sh does it ---------------------------------------- */

static bool s_exited(pid_t *pid)
{
    int status;
    if (*pid > 0 && waitpid(*pid, &status, WNOHANG) == *pid) {
        *pid = 0;
        return true;
    }
    return false;
}

/* Restarts every service that exited. Only while the database is up: a service
 * started without one exits again at once. */
static void s_supervise(void)
{
    if (s_exited(&s_e.ledger.pid)) {
        s_restarts_ledger++;
        th_ledger_wait_session_gone(&s_e.ledger);
        th_ledger_start(&s_e.ledger, s_e.db);
    }
    th_svc_t *svcs[] = {&s_e.members, &s_e.settlement, &s_e.donation};
    for (size_t i = 0; i < sizeof svcs / sizeof svcs[0]; i++) {
        if (s_exited(&svcs[i]->pid)) {
            fprintf(stderr, "test_faults_pg: %s exited; restarting it\n", svcs[i]->name);
            s_restarts_other++;
            th_svc_restart(svcs[i]);
        }
    }
    if (s_exited(&s_e.gw_pid)) {
        fprintf(stderr, "test_faults_pg: the gateway exited; restarting it\n");
        s_restarts_other++;
        e2e_restart_gateway(&s_e);
    }
}

/* Waits ms, restarting what exits meanwhile. */
static void s_pause_supervised(int ms)
{
    int64_t until = lc_mono_ms() + ms;
    while (lc_mono_ms() < until) {
        s_supervise();
        usleep(50 * 1000);
    }
}

/* ---- the load ------------------------------------------------------------------- */

static int setup(void **state)
{
    (void)state;
    const char *var = getenv("COAL_VAR");
    snprintf(s_var, sizeof s_var, "%s/pgfault.XXXXXX", var && *var ? var : "/tmp");
    assert_non_null(mkdtemp(s_var));
    /* Everything below (deploy/pg.sh, the harness's conninfo, endpoints and logs,
     * the services it starts) now uses the private cluster. */
    setenv("COAL_VAR", s_var, 1);
    s_pg_first_start();
    const char *gw[] = {"COAL_GATEWAY_BUS_TIMEOUT_MS=1000", "COAL_GATEWAY_BUS_RETRIES=1", NULL};
    e2e_start(&s_e, true, gw, NULL);
    fl_setup(&s_load, &s_e, "test_faults_pg", 6, 30000);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    e2e_stop(&s_e);
    s_pg("stop");
    return 0;
}

static void faults_pg_postmaster_kill_and_subscriber_cut_lose_nothing(void **state)
{
    (void)state;
    fprintf(stderr, "test_faults_pg: cluster %s\n", s_var);
    fl_start(&s_load, (long)time(NULL));
    pid_t members_pid = s_e.members.pid, settlement_pid = s_e.settlement.pid;
    pid_t donation_pid = s_e.donation.pid, gateway_pid = s_e.gw_pid;
    int faults = 0;
    s_pause_supervised(1500);

    /* 1. The postmaster dies; back after a short outage. */
    s_pg_kill();
    faults++;
    usleep(1000 * 1000);
    s_pg_restart();
    s_pause_supervised(4000);

    /* 2. The journal subscriber is blocked (members stopped past every deadline),
     * then resumes: the stream it missed comes by replay. */
    kill(s_e.members.pid, SIGSTOP);
    faults++;
    usleep(3000 * 1000);
    kill(s_e.members.pid, SIGCONT);
    s_pause_supervised(1500);

    /* 3. The postmaster dies again; a long outage, past the gateway's deadline
     * and every client's patience for one attempt. */
    s_pg_kill();
    faults++;
    usleep(4000 * 1000);
    s_pg_restart();
    s_pause_supervised(4000);

    /* Nothing but the ledger needed a restart for the database outages. */
    assert_int_equal(s_e.members.pid, members_pid);
    assert_int_equal(s_e.settlement.pid, settlement_pid);
    assert_int_equal(s_e.donation.pid, donation_pid);
    assert_int_equal(s_e.gw_pid, gateway_pid);
    assert_int_equal(s_restarts_other, 0);

    /* 4. The journal subscriber is severed: members dies and comes back, resuming
     * from its stored cursor. */
    th_svc_kill(&s_e.members, SIGKILL);
    faults++;
    usleep(1000 * 1000);
    th_svc_restart(&s_e.members);
    s_pause_supervised(2000);

    fl_totals_t t;
    fl_stop(&s_load, &t);
    s_supervise();
    fl_check_books(&s_load, &t);
    fl_check_figures(&s_load, &t);
    fprintf(stderr,
            "test_faults_pg: %d faults (2 postmaster kills, subscriber blocked and severed); "
            "%lld earns acknowledged (%lld points), %lld refused; %lld donations acknowledged "
            "(%lld points, %lld matched), %lld refused; %lld retries, %lld lost connections; "
            "ledger restarted %d times, other services 0; 0 lost, 0 doubled; history = "
            "journal, donation report = journal, statements reconciled\n",
            faults, (long long)t.acked, (long long)t.points, (long long)t.refused,
            (long long)t.don_acked, (long long)t.don_points, (long long)t.don_matched,
            (long long)t.don_refused, (long long)t.retries, (long long)t.lost_connections,
            s_restarts_ledger);
    /* Nothing the clients were told failed, and the faults hit requests in flight. */
    assert_int_equal(t.refused, 0);
    assert_int_equal(t.don_unexpected, 0);
    assert_true(t.acked > 20);
    assert_true(t.don_acked > 0);
    assert_true(t.retries > 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(faults_pg_postmaster_kill_and_subscriber_cut_lose_nothing),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
