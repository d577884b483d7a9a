/*
 * test_settlement_expiry.c: expiry of earned points (issue 4, item 3) with the real
 * ledger, members and settlement over real ZeroMQ and PostgreSQL.
 *
 * Lots are made by earns through settlement (36-month validity), and expired with
 * settlement.expire_now at an as_of in the future, never by editing data; only the
 * timer test credits a lot through the ledger directly, because no setting makes an
 * earn expire within seconds. A second settlement process with a cut-off day runs
 * next to the first, on its own endpoint, sharing ledger and database.
 *
 * Every sweep expires all lots due in the whole ledger, so each test first "drains"
 * what earlier tests left (as_of just before its own first lot) and then measures.
 * The cut-off test's lots expire latest of all, so it runs last.
 */
#include "harness.h"
#include "lc_api.h"
#include "lc_err.h"
#include "lc_settlement_msg.h"
#include "lc_time.h"
#include "st_arith.h"

#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#define CODE_LEN 64
#define CUTOFF "12-31"

static char s_db[64];
static th_ledger_t s_ledger;
static th_svc_t s_members, s_settle;
static th_client_t s_sc;  /* settlement */
static th_client_t s_sc2; /* the second settlement process (cut-off 12-31) */
static th_client_t s_mc;  /* members */
static th_client_t s_lc;  /* ledger */
static pid_t s_settle2;   /* the second settlement process */
static char s_settle2_ep[160];
static char s_breakage[LC_ID_STRLEN + 1];

typedef struct who {
    lc_api_caller_t c;
    char owner[64];
} who_t;

typedef struct partner {
    lc_id_t id;
    char ids[LC_ID_STRLEN + 1];
    who_t who;
} partner_t;

typedef struct member {
    char ids[LC_ID_STRLEN + 1];
    char card[65];
} member_t;

static who_t s_admin, s_app;
static uint64_t s_next_key = 0x7000;

static void s_who(who_t *w, int role, const lc_id_t *partner);

/* ---- processes --------------------------------------------------------------------- */

/* Runs the settlement binary with the extra "KEY=VALUE" settings env (NULL-terminated),
 * bound at endpoint, stderr to log. Returns its pid. */
static pid_t s_spawn_settlement(const char *endpoint, const char *log, const char *const *env)
{
    char ci[512], bin[512], e0[256], e1[256];
    th_conninfo("coal_settlement", s_db, ci, sizeof ci);
    const char *dir = getenv("COAL_BIN_DIR");
    snprintf(bin, sizeof bin, "%s/settlement", dir && *dir ? dir : "build/release/bin");
    snprintf(e0, sizeof e0, "COAL_LEDGER_CONNECT=%s", s_ledger.endpoint);
    snprintf(e1, sizeof e1, "COAL_MEMBERS_CONNECT=%s", s_members.endpoint);
    pid_t pid = fork();
    if (pid == 0) {
        setenv("COAL_SETTLEMENT_DB", ci, 1);
        setenv("COAL_SETTLEMENT_BIND", endpoint, 1);
        putenv(e0);
        putenv(e1);
        for (size_t i = 0; env && env[i]; i++)
            putenv((char *)env[i]);
        FILE *f = freopen(log, "w", stderr);
        (void)f;
        execl(bin, "settlement", (char *)NULL);
        _exit(127);
    }
    assert_true(pid > 0);
    return pid;
}

/* Waits up to 20 s for settlement.ping at c; fails the test otherwise. */
static void s_wait_up(th_client_t *c, pid_t pid)
{
    int64_t deadline = lc_mono_ms() + 20000;
    while (lc_mono_ms() < deadline) {
        json_t *rep = NULL;
        char code[CODE_LEN];
        int rc = th_try_call(c, ST_TYPE_PING, json_object(), 200, 0, &rep, code, sizeof code);
        json_decref(rep);
        if (rc == LC_OK)
            return;
        int status;
        if (waitpid(pid, &status, WNOHANG) == pid)
            fail_msg("the second settlement exited at start");
    }
    fail_msg("the second settlement did not come up");
}

/* SIGTERM, reap, expect a clean exit. */
static void s_stop(pid_t pid)
{
    if (pid <= 0)
        return;
    kill(pid, SIGTERM);
    int status = 0;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
}

static int setup_group(void **state)
{
    (void)state;
    th_db_create(s_db, sizeof s_db);
    th_ledger_start(&s_ledger, s_db);
    char e0[256];
    snprintf(e0, sizeof e0, "COAL_LEDGER_CONNECT=%s", s_ledger.endpoint);
    const char *env[] = {e0, NULL};
    th_svc_start(&s_members, "members", s_db, env);
    char e1[256];
    snprintf(e1, sizeof e1, "COAL_MEMBERS_CONNECT=%s", s_members.endpoint);
    const char *senv[] = {e0, e1, "COAL_EXPIRY_SWEEP_INTERVAL_MS=100", NULL};
    th_svc_start(&s_settle, "settlement", s_db, senv);

    const char *var = getenv("COAL_VAR");
    char log[256];
    snprintf(s_settle2_ep, sizeof s_settle2_ep, "ipc://%s/%s.settlement2.sock",
             var && *var ? var : "/tmp", s_db);
    snprintf(log, sizeof log, "%s/%s.settlement2.log", var && *var ? var : "/tmp", s_db);
    const char *env2[] = {"COAL_EXPIRY_CUTOFF=" CUTOFF, "COAL_EXPIRY_BATCH=2", NULL};
    s_settle2 = s_spawn_settlement(s_settle2_ep, log, env2);
    th_client_open_at(&s_sc2, s_settle2_ep);
    s_wait_up(&s_sc2, s_settle2);

    th_client_open_at(&s_sc, s_settle.endpoint);
    th_client_open_at(&s_mc, s_members.endpoint);
    th_client_open(&s_lc, &s_ledger);
    s_who(&s_admin, LC_ROLE_ADMIN, NULL);
    s_who(&s_app, LC_ROLE_APP, NULL);
    lc_id_t b;
    st_breakage_account(&b);
    lc_id_format(&b, s_breakage);
    return 0;
}

static int teardown_group(void **state)
{
    (void)state;
    char code[CODE_LEN];
    json_t *tb = th_call(&s_lc, LD_TYPE_TRIAL_BALANCE, json_object(), code, sizeof code);
    assert_non_null(tb);
    assert_int_equal(json_integer_value(json_object_get(tb, "sum")), 0);
    json_decref(tb);
    json_t *v = th_call(&s_lc, LD_TYPE_VERIFY, json_object(), code, sizeof code);
    assert_non_null(v);
    assert_true(json_is_true(json_object_get(v, "ok")));
    json_decref(v);
    th_client_close(&s_sc);
    th_client_close(&s_sc2);
    th_client_close(&s_mc);
    th_client_close(&s_lc);
    s_stop(s_settle2);
    th_svc_stop(&s_settle);
    th_svc_stop(&s_members);
    th_ledger_stop(&s_ledger);
    return 0;
}

/* ---- helpers ----------------------------------------------------------------------- */

static void s_who(who_t *w, int role, const lc_id_t *partner)
{
    memset(w, 0, sizeof *w);
    w->c.role = role;
    w->c.key_id = th_id(s_next_key++);
    char t[LC_ID_STRLEN + 1];
    if (partner) {
        w->c.partner_id = *partner;
        lc_id_format(partner, t);
        snprintf(w->owner, sizeof w->owner, "partner:%s", t);
    } else {
        lc_id_format(&w->c.key_id, t);
        snprintf(w->owner, sizeof w->owner, "key:%s", t);
    }
    w->c.owner = w->owner;
}

static const char *s_key(void)
{
    static char buf[8][32];
    static unsigned n;
    char *b = buf[n++ % 8];
    snprintf(b, sizeof buf[0], "xkey-%u", n);
    return b;
}

static json_t *s_api(th_client_t *c, const char *type, const who_t *w, const char *key,
                     json_t *params, json_t *request, char *code)
{
    json_t *body = lc_api_req_build(&w->c, key, params, NULL, request);
    json_decref(params);
    json_decref(request);
    assert_non_null(body);
    return th_call(c, type, body, code, CODE_LEN);
}

static void s_ok(json_t *reply, const char *code)
{
    if (!reply)
        fail_msg("expected ok, got %s", code);
}

static int64_t s_int(const json_t *o, const char *k)
{
    return json_integer_value(json_object_get(o, k));
}

static const char *s_str(const json_t *o, const char *k)
{
    const char *s = json_string_value(json_object_get(o, k));
    assert_non_null(s);
    return s;
}

static int64_t s_time(const json_t *o, const char *k)
{
    int64_t t = 0;
    assert_int_equal(lc_time_parse(s_str(o, k), &t), LC_OK);
    return t;
}

/* A postpaid partner earning 1 point per cent, no waiting. */
static void s_partner(partner_t *p)
{
    json_t *req =
        json_pack("{s:s, s:{s:i, s:i}, s:i, s:{s:i, s:i, s:i}, s:s}", "name", "Shop", "earn_rate",
                  "points", 1, "per_amount", 1, "pending_days", 0, "tariff", "issue_price_micros",
                  10000, "redeem_credit_micros", 9000, "fee_bps", 150, "funding", "postpaid");
    char code[CODE_LEN];
    json_t *rep = s_api(&s_sc, ST_TYPE_CREATE_PARTNER, &s_admin, s_key(), NULL, req, code);
    s_ok(rep, code);
    snprintf(p->ids, sizeof p->ids, "%s", s_str(rep, "id"));
    assert_int_equal(lc_id_parse(p->ids, &p->id), LC_OK);
    s_who(&p->who, LC_ROLE_PARTNER, &p->id);
    json_decref(rep);
}

static void s_member(member_t *m, const partner_t *p)
{
    char code[CODE_LEN];
    json_t *rep = s_api(&s_mc, "members.enroll", &p->who, s_key(), NULL, json_object(), code);
    s_ok(rep, code);
    snprintf(m->ids, sizeof m->ids, "%s", s_str(rep, "id"));
    snprintf(m->card, sizeof m->card, "%s", s_str(rep, "card_number"));
    json_decref(rep);
}

/* Earns points (1 point per cent) at settlement c; *before / *after bracket the call
 * in wall-clock time (either may be NULL). */
static void s_earn(th_client_t *c, const partner_t *p, const member_t *m, int64_t points,
                   int64_t *before, int64_t *after)
{
    const char *key = s_key();
    json_t *req = json_pack("{s:s, s:s, s:{s:I, s:s}}", "card_number", m->card, "receipt_id", key,
                            "amount", "amount", (json_int_t)points, "currency", "EUR");
    char code[CODE_LEN];
    if (before)
        *before = lc_now_us();
    json_t *rep = s_api(c, ST_TYPE_EARN, &p->who, key, NULL, req, code);
    if (after)
        *after = lc_now_us();
    s_ok(rep, code);
    assert_int_equal(s_int(rep, "points"), points);
    json_decref(rep);
    usleep(2000); /* distinct earn times, so distinct expiries */
}

/* The member's lots with points left (ledger.account_lots), soonest expiry first. */
static json_t *s_lots(const char *account)
{
    char code[CODE_LEN];
    json_t *rep = th_call(&s_lc, LD_TYPE_ACCOUNT_LOTS, json_pack("{s:s}", "account_id", account),
                          code, sizeof code);
    if (!rep)
        fail_msg("account_lots: %s", code);
    json_t *lots = json_incref(json_object_get(rep, "lots"));
    json_decref(rep);
    return lots;
}

static int64_t s_acct(const char *id, const char *field)
{
    char code[CODE_LEN];
    json_t *rep =
        th_call(&s_lc, LD_TYPE_LOOKUP_ACCOUNTS, json_pack("{s:[s]}", "ids", id), code, sizeof code);
    assert_non_null(rep);
    json_t *a = json_array_get(json_object_get(rep, "accounts"), 0);
    int64_t v = a ? s_int(a, field) : 0;
    json_decref(rep);
    return v;
}

static int64_t s_broken(void)
{
    return s_acct(s_breakage, "credits_posted");
}

/* settlement.expire_now at c as of as_of; *lots and *points from the reply. */
static void s_expire_at(th_client_t *c, int64_t as_of, int64_t *lots, int64_t *points)
{
    char t[LC_RFC3339_MAX], code[CODE_LEN];
    lc_time_format(as_of, t);
    json_t *rep = th_call(c, ST_TYPE_EXPIRE_NOW, json_pack("{s:s}", "as_of", t), code, sizeof code);
    if (!rep)
        fail_msg("expire_now: %s", code);
    *lots = s_int(rep, "lots");
    *points = s_int(rep, "points");
    json_decref(rep);
}

static void s_expire(int64_t as_of, int64_t *lots, int64_t *points)
{
    s_expire_at(&s_sc, as_of, lots, points);
}

static int64_t s_trial_sum(void)
{
    char code[CODE_LEN];
    json_t *tb = th_call(&s_lc, LD_TYPE_TRIAL_BALANCE, json_object(), code, sizeof code);
    assert_non_null(tb);
    int64_t v = s_int(tb, "sum");
    json_decref(tb);
    return v;
}

/* members.get (the app's member view): the "expiring" list. */
static json_t *s_expiring(const member_t *m)
{
    char code[CODE_LEN];
    json_t *rep =
        s_api(&s_mc, "members.get", &s_app, NULL, json_pack("{s:s}", "id", m->ids), NULL, code);
    s_ok(rep, code);
    json_t *e = json_incref(json_object_get(rep, "expiring"));
    json_decref(rep);
    assert_non_null(e);
    return e;
}

static int64_t s_expected(int64_t t)
{
    st_expiry_rule_t r = {.validity_months = 36};
    return st_expiry_at(&r, t);
}

/* ---- tests ------------------------------------------------------------------------- */

static void expiry_breakage_account_is_created_at_start(void **state)
{
    (void)state;
    char code[CODE_LEN];
    json_t *rep = th_call(&s_lc, LD_TYPE_LOOKUP_ACCOUNTS, json_pack("{s:[s]}", "ids", s_breakage),
                          code, sizeof code);
    assert_non_null(rep);
    json_t *a = json_array_get(json_object_get(rep, "accounts"), 0);
    assert_non_null(a);
    assert_string_equal(s_str(a, "kind"), "coalition_breakage");
    assert_int_equal(s_int(a, "code"), ST_ACCOUNT_BREAKAGE);
    json_decref(rep);
    /* Two processes started: one account (create_accounts answered exists). */
    assert_int_equal(th_sql_i64(s_db, "SELECT count(*) FROM ledger.accounts WHERE kind = 7"), 1);
}

/* The timer: a lot due in a second is expired by the periodic sweep alone. Lots with
 * such a near expiry cannot come from an earn (validity is whole months), so the
 * ledger gets this one directly. */
static void expiry_periodic_sweep_expires_due_lots(void **state)
{
    (void)state;
    char src[LC_ID_STRLEN + 1], acct[LC_ID_STRLEN + 1], tid[LC_ID_STRLEN + 1];
    th_id_text(0xE001, src);
    th_id_text(0xE002, acct);
    th_id_text(0xE003, tid);
    assert_string_equal(th_create_one(&s_lc, LD_TYPE_CREATE_ACCOUNTS,
                                      th_account(0xE001, "coalition_promotion", NULL)),
                        "ok");
    assert_string_equal(
        th_create_one(&s_lc, LD_TYPE_CREATE_ACCOUNTS,
                      th_account(0xE002, "member", "debits_must_not_exceed_credits,lots")),
        "ok");
    char due[LC_RFC3339_MAX];
    lc_time_format(lc_now_us() + 1000000, due);
    int64_t broken = s_broken();
    assert_string_equal(
        th_create_one(&s_lc, LD_TYPE_CREATE_TRANSFERS,
                      json_pack("{s:s, s:s, s:s, s:i, s:s}", "id", tid, "debit_account_id", src,
                                "credit_account_id", acct, "amount", 77, "expires_at", due)),
        "ok");
    int64_t deadline = lc_mono_ms() + 10000;
    while (s_acct(acct, "debits_posted") != 77 && lc_mono_ms() < deadline)
        usleep(50 * 1000);
    assert_int_equal(s_acct(acct, "debits_posted"), 77);
    assert_int_equal(s_broken(), broken + 77);
    json_t *lots = s_lots(acct);
    assert_int_equal(json_array_size(lots), 0);
    json_decref(lots);
    /* The expiry transfer: id derived from the lot and "expiry:0", code 8, to breakage. */
    lc_id_t lot, xid;
    assert_int_equal(lc_id_parse(tid, &lot), LC_OK);
    lc_id_derive(&lot, "expiry:0", &xid);
    char xids[LC_ID_STRLEN + 1], code[CODE_LEN];
    lc_id_format(&xid, xids);
    json_t *rep = th_call(&s_lc, LD_TYPE_LOOKUP_TRANSFERS, json_pack("{s:[s]}", "ids", xids), code,
                          sizeof code);
    assert_non_null(rep);
    json_t *e = json_array_get(json_object_get(rep, "entries"), 0);
    assert_non_null(e);
    assert_int_equal(s_int(e, "code"), ST_CODE_EXPIRY);
    assert_int_equal(s_int(e, "amount"), 77);
    assert_string_equal(s_str(e, "credit_account_id"), s_breakage);
    assert_string_equal(s_str(e, "user_data"), tid);
    json_decref(rep);
}

static void expiry_happens_exactly_at_the_boundary(void **state)
{
    (void)state;
    partner_t p;
    member_t m;
    s_partner(&p);
    s_member(&m, &p);
    int64_t b[3], a[3];
    const int64_t pts[3] = {100, 20, 3};
    for (int i = 0; i < 3; i++)
        s_earn(&s_sc, &p, &m, pts[i], &b[i], &a[i]);
    json_t *lots = s_lots(m.ids);
    assert_int_equal(json_array_size(lots), 3);
    int64_t due[3];
    for (int i = 0; i < 3; i++) {
        json_t *l = json_array_get(lots, (size_t)i);
        due[i] = s_time(l, "expires_at");
        assert_int_equal(s_int(l, "remaining"), pts[i]);
        /* 36 calendar months after the earn. */
        assert_true(due[i] >= s_expected(b[i]) && due[i] <= s_expected(a[i]));
        assert_true(i == 0 || due[i] > due[i - 1]);
    }
    json_decref(lots);
    /* The member view lists them with the same dates, soonest first. */
    json_t *exp = s_expiring(&m);
    assert_int_equal(json_array_size(exp), 3);
    for (int i = 0; i < 3; i++) {
        assert_int_equal(s_time(json_array_get(exp, (size_t)i), "expires_at"), due[i]);
        assert_int_equal(s_int(json_array_get(exp, (size_t)i), "points"), pts[i]);
    }
    json_decref(exp);

    int64_t nl, np;
    s_expire(due[0] - 1, &nl, &np); /* drains what earlier tests left, none of ours */
    s_expire(due[0] - 1, &nl, &np);
    assert_int_equal(nl, 0);
    assert_int_equal(np, 0);
    lots = s_lots(m.ids);
    assert_int_equal(json_array_size(lots), 3);
    json_decref(lots);
    int64_t broken = s_broken();

    /* One microsecond before: nothing; exactly at expires_at: the first lot. */
    s_expire(due[0], &nl, &np);
    assert_int_equal(nl, 1);
    assert_int_equal(np, pts[0]);
    assert_int_equal(s_broken(), broken + pts[0]);
    assert_int_equal(s_acct(m.ids, "credits_posted") - s_acct(m.ids, "debits_posted"),
                     pts[1] + pts[2]);
    /* Twice: nothing more. */
    s_expire(due[0], &nl, &np);
    assert_int_equal(nl, 0);
    assert_int_equal(np, 0);
    assert_int_equal(s_broken(), broken + pts[0]);
    exp = s_expiring(&m);
    assert_int_equal(json_array_size(exp), 2);
    assert_int_equal(s_time(json_array_get(exp, 0), "expires_at"), due[1]);
    json_decref(exp);

    s_expire(due[2] - 1, &nl, &np);
    assert_int_equal(nl, 1);
    assert_int_equal(np, pts[1]);
    s_expire(due[2], &nl, &np);
    assert_int_equal(nl, 1);
    assert_int_equal(np, pts[2]);
    assert_int_equal(s_broken(), broken + pts[0] + pts[1] + pts[2]);
    assert_int_equal(s_acct(m.ids, "credits_posted") - s_acct(m.ids, "debits_posted"), 0);
    lots = s_lots(m.ids);
    assert_int_equal(json_array_size(lots), 0);
    json_decref(lots);
    exp = s_expiring(&m);
    assert_int_equal(json_array_size(exp), 0);
    json_decref(exp);
    assert_int_equal(s_trial_sum(), 0);
}

typedef struct sweep_arg {
    th_client_t *c;
    int64_t as_of, lots, points;
} sweep_arg_t;

static void *s_sweep_thread(void *p)
{
    sweep_arg_t *a = p;
    char t[LC_RFC3339_MAX], code[CODE_LEN];
    lc_time_format(a->as_of, t);
    json_t *rep = NULL;
    int rc = th_try_call(a->c, ST_TYPE_EXPIRE_NOW, json_pack("{s:s}", "as_of", t), 10000, 0, &rep,
                         code, sizeof code);
    if (rc == LC_OK && rep) {
        a->lots = s_int(rep, "lots");
        a->points = s_int(rep, "points");
    } else {
        a->lots = a->points = -1;
    }
    json_decref(rep);
    return NULL;
}

/* A sweep that died after its first batch, then two sweeps at once in two processes:
 * every lot expires exactly once. */
static void expiry_crashed_and_concurrent_sweeps_expire_each_lot_once(void **state)
{
    (void)state;
    partner_t p;
    s_partner(&p);
    enum { MEMBERS = 3, EARNS = 4 };
    member_t m[MEMBERS];
    int64_t total = 0, first = 0, last = 0;
    for (int i = 0; i < MEMBERS; i++) {
        s_member(&m[i], &p);
        for (int k = 0; k < EARNS; k++) {
            int64_t before, after;
            s_earn(&s_sc, &p, &m[i], 10 + i * EARNS + k, &before, &after);
            if (!first)
                first = s_expected(before);
            last = s_expected(after);
            total += 10 + i * EARNS + k;
        }
    }
    int64_t nl, np;
    s_expire(first - 1, &nl, &np); /* drain the earlier tests' lots */
    int64_t broken = s_broken();

    /* The crash: the ledger's own call with limit 1, as a sweep's first batch. */
    char asof[LC_RFC3339_MAX], code[CODE_LEN];
    lc_time_format(last, asof);
    json_t *rep = th_call(&s_lc, LD_TYPE_EXPIRE_LOTS,
                          json_pack("{s:s, s:s, s:i, s:i}", "as_of", asof, "breakage_account_id",
                                    s_breakage, "code", ST_CODE_EXPIRY, "limit", 1),
                          code, sizeof code);
    if (!rep)
        fail_msg("expire_lots: %s", code);
    assert_int_equal(json_array_size(json_object_get(rep, "results")), 1);
    assert_true(json_is_true(json_object_get(rep, "more")));
    int64_t crashed = s_int(rep, "points");
    json_decref(rep);

    /* The rerun, in both processes at once (the second one's batch is 2 lots). */
    sweep_arg_t a1 = {&s_sc, last, 0, 0}, a2 = {&s_sc2, last, 0, 0};
    pthread_t t1, t2;
    assert_int_equal(pthread_create(&t1, NULL, s_sweep_thread, &a1), 0);
    assert_int_equal(pthread_create(&t2, NULL, s_sweep_thread, &a2), 0);
    pthread_join(t1, NULL);
    pthread_join(t2, NULL);
    assert_true(a1.lots >= 0 && a2.lots >= 0);
    assert_int_equal(a1.lots + a2.lots, MEMBERS * EARNS - 1);
    assert_int_equal(crashed + a1.points + a2.points, total);
    assert_int_equal(s_broken(), broken + total);
    for (int i = 0; i < MEMBERS; i++) {
        json_t *lots = s_lots(m[i].ids);
        assert_int_equal(json_array_size(lots), 0);
        json_decref(lots);
        assert_int_equal(s_acct(m[i].ids, "credits_posted") - s_acct(m[i].ids, "debits_posted"), 0);
    }
    /* And again: nothing. */
    s_expire(last, &nl, &np);
    assert_int_equal(nl, 0);
    assert_int_equal(np, 0);
    /* One expiry entry per lot, never two (journal flags: expiry = 32). */
    char sql[512];
    snprintf(sql, sizeof sql,
             "SELECT count(*) - count(DISTINCT user_data) FROM ledger.journal "
             "WHERE flags & 32 <> 0");
    assert_int_equal(th_sql_i64(s_db, sql), 0);
    assert_int_equal(s_trial_sum(), 0);
}

/* A one-time code for the member. */
static void s_code(const member_t *m, char *out, size_t len)
{
    char code[CODE_LEN];
    json_t *rep = s_api(&s_mc, "members.issue_code", &s_app, s_key(),
                        json_pack("{s:s}", "id", m->ids), json_object(), code);
    s_ok(rep, code);
    snprintf(out, len, "%s", s_str(rep, "code"));
    json_decref(rep);
}

/* lots[i]: remaining and expires_at of the lot expiring at due (0 remaining when it
 * is not listed: account_lots lists only lots with points left). */
static int64_t s_remaining_at(const json_t *lots, int64_t due)
{
    for (size_t i = 0; i < json_array_size(lots); i++) {
        json_t *l = json_array_get(lots, i);
        if (s_time(l, "expires_at") == due)
            return s_int(l, "remaining");
    }
    return 0;
}

static void expiry_redemption_takes_oldest_lots_and_refund_restores_them(void **state)
{
    (void)state;
    partner_t p;
    member_t m;
    s_partner(&p);
    s_member(&m, &p);
    for (int i = 0; i < 3; i++)
        s_earn(&s_sc, &p, &m, 200, NULL, NULL);
    json_t *lots = s_lots(m.ids);
    assert_int_equal(json_array_size(lots), 3);
    int64_t due[3];
    for (int i = 0; i < 3; i++)
        due[i] = s_time(json_array_get(lots, (size_t)i), "expires_at");
    json_decref(lots);

    /* Redeem 300: the oldest-expiring lot first (200), then 100 of the next. */
    char mc[64], code[CODE_LEN];
    s_code(&m, mc, sizeof mc);
    const char *key = s_key();
    json_t *rep = s_api(&s_sc, ST_TYPE_AUTHORIZE, &p.who, key, NULL,
                        json_pack("{s:s, s:i, s:s, s:s}", "card_number", m.card, "points", 300,
                                  "member_code", mc, "receipt_id", key),
                        code);
    s_ok(rep, code);
    char rid[LC_ID_STRLEN + 1];
    snprintf(rid, sizeof rid, "%s", s_str(rep, "id"));
    json_decref(rep);
    rep = s_api(&s_sc, ST_TYPE_CAPTURE, &p.who, s_key(), json_pack("{s:s}", "id", rid),
                json_object(), code);
    s_ok(rep, code);
    assert_int_equal(s_int(rep, "points"), 300);
    json_decref(rep);
    lots = s_lots(m.ids);
    assert_int_equal(json_array_size(lots), 2);
    assert_int_equal(s_remaining_at(lots, due[0]), 0);
    assert_int_equal(s_remaining_at(lots, due[1]), 100);
    assert_int_equal(s_remaining_at(lots, due[2]), 200);
    json_decref(lots);

    /* Refund 50: back to the lot consumed last, with its own expiry. */
    rep = s_api(&s_sc, ST_TYPE_REFUND, &p.who, s_key(), json_pack("{s:s}", "id", rid),
                json_pack("{s:i}", "points", 50), code);
    s_ok(rep, code);
    json_decref(rep);
    lots = s_lots(m.ids);
    assert_int_equal(s_remaining_at(lots, due[0]), 0);
    assert_int_equal(s_remaining_at(lots, due[1]), 150);
    json_decref(lots);
    /* Refund the other 250: the second lot is full again, the first gets 200 back
     * with its original expiry. */
    rep = s_api(&s_sc, ST_TYPE_REFUND, &p.who, s_key(), json_pack("{s:s}", "id", rid),
                json_pack("{s:i}", "points", 250), code);
    s_ok(rep, code);
    json_decref(rep);
    lots = s_lots(m.ids);
    assert_int_equal(json_array_size(lots), 3);
    for (int i = 0; i < 3; i++) {
        json_t *l = json_array_get(lots, (size_t)i);
        assert_int_equal(s_time(l, "expires_at"), due[i]);
        assert_int_equal(s_int(l, "remaining"), 200);
        assert_int_equal(s_int(l, "amount"), 200);
    }
    json_decref(lots);

    /* The re-credited lot expires on its original day, and only it. */
    int64_t nl, np;
    s_expire(due[0] - 1, &nl, &np); /* drain */
    int64_t broken = s_broken();
    s_expire(due[0], &nl, &np);
    assert_int_equal(nl, 1);
    assert_int_equal(np, 200);
    assert_int_equal(s_broken(), broken + 200);
    lots = s_lots(m.ids);
    assert_int_equal(json_array_size(lots), 2);
    assert_int_equal(s_time(json_array_get(lots, 0), "expires_at"), due[1]);
    json_decref(lots);
    assert_int_equal(s_trial_sum(), 0);
}

/* Runs settlement with one bad setting; expects exit 2 and a log line naming it. */
static void s_refused_at_start(const char *setting, const char *key)
{
    const char *var = getenv("COAL_VAR");
    char log[256], ep[200];
    snprintf(log, sizeof log, "%s/%s.settlement-bad.log", var && *var ? var : "/tmp", s_db);
    snprintf(ep, sizeof ep, "ipc://%s/%s.settlement-bad.sock", var && *var ? var : "/tmp", s_db);
    const char *env[] = {setting, NULL};
    pid_t pid = s_spawn_settlement(ep, log, env);
    int status = 0;
    int64_t deadline = lc_mono_ms() + 10000;
    pid_t w = 0;
    while ((w = waitpid(pid, &status, WNOHANG)) == 0 && lc_mono_ms() < deadline)
        usleep(10 * 1000);
    if (w != pid) {
        kill(pid, SIGKILL);
        waitpid(pid, &status, 0);
        fail_msg("settlement with %s kept running", setting);
    }
    assert_true(WIFEXITED(status));
    if (WEXITSTATUS(status) != 2)
        fail_msg("settlement with %s exited %d, expected 2", setting, WEXITSTATUS(status));
    FILE *f = fopen(log, "r");
    assert_non_null(f);
    char buf[8192];
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    if (!strstr(buf, key))
        fail_msg("settlement with %s: no log line naming %s: %s", setting, key, buf);
}

static void expiry_settings_that_make_no_sense_are_refused_at_start(void **state)
{
    (void)state;
    s_refused_at_start("COAL_EXPIRY_VALIDITY_MONTHS=-1", "expiry.validity_months");
    s_refused_at_start("COAL_EXPIRY_VALIDITY_MONTHS=0", "expiry.validity_months");
    s_refused_at_start("COAL_EXPIRY_VALIDITY_MONTHS=241", "expiry.validity_months");
    s_refused_at_start("COAL_EXPIRY_VALIDITY_MONTHS=three", "expiry.validity_months");
    s_refused_at_start("COAL_EXPIRY_CUTOFF=02-30", "expiry.cutoff");
    s_refused_at_start("COAL_EXPIRY_CUTOFF=02-29", "expiry.cutoff");
    s_refused_at_start("COAL_EXPIRY_CUTOFF=13-01", "expiry.cutoff");
    s_refused_at_start("COAL_EXPIRY_CUTOFF=31.12.", "expiry.cutoff");
    s_refused_at_start("COAL_EXPIRY_SWEEP_INTERVAL_MS=0", "expiry.sweep_interval_ms");
    s_refused_at_start("COAL_EXPIRY_BATCH=0", "expiry.batch");
    s_refused_at_start("COAL_EXPIRY_BATCH=1001", "expiry.batch");
}

/* The second process (cut-off 12-31): all lots due in one year on its last moment;
 * the member view shows that day. Last: these lots expire after every other test's. */
static void expiry_cutoff_puts_a_years_lots_on_one_day(void **state)
{
    (void)state;
    partner_t p;
    member_t m;
    s_partner(&p);
    s_member(&m, &p);
    int64_t before, after;
    s_earn(&s_sc2, &p, &m, 40, &before, NULL);
    s_earn(&s_sc2, &p, &m, 2, NULL, &after);
    st_expiry_rule_t r = {.validity_months = 36, .cutoff_month = 12, .cutoff_day = 31};
    int64_t want = st_expiry_at(&r, before);
    if (st_expiry_at(&r, after) != want) /* the test ran across New Year: one more try */
        skip();
    char text[LC_RFC3339_MAX];
    lc_time_format(want, text);
    assert_non_null(strstr(text, "-12-31T23:59:59.999999Z"));
    json_t *lots = s_lots(m.ids);
    assert_int_equal(json_array_size(lots), 2);
    for (size_t i = 0; i < 2; i++)
        assert_int_equal(s_time(json_array_get(lots, i), "expires_at"), want);
    json_decref(lots);
    json_t *exp = s_expiring(&m);
    assert_int_equal(json_array_size(exp), 2);
    assert_string_equal(s_str(json_array_get(exp, 0), "expires_at"), text);
    json_decref(exp);

    int64_t nl, np;
    s_expire_at(&s_sc2, want - 1, &nl, &np); /* drain; none of these */
    lots = s_lots(m.ids);
    assert_int_equal(json_array_size(lots), 2);
    json_decref(lots);
    int64_t broken = s_broken();
    s_expire_at(&s_sc2, want, &nl, &np);
    assert_int_equal(nl, 2);
    assert_int_equal(np, 42);
    assert_int_equal(s_broken(), broken + 42);
    assert_int_equal(s_trial_sum(), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(expiry_breakage_account_is_created_at_start),
        cmocka_unit_test(expiry_periodic_sweep_expires_due_lots),
        cmocka_unit_test(expiry_happens_exactly_at_the_boundary),
        cmocka_unit_test(expiry_crashed_and_concurrent_sweeps_expire_each_lot_once),
        cmocka_unit_test(expiry_redemption_takes_oldest_lots_and_refund_restores_them),
        cmocka_unit_test(expiry_settings_that_make_no_sense_are_refused_at_start),
        cmocka_unit_test(expiry_cutoff_puts_a_years_lots_on_one_day),
    };
    return cmocka_run_group_tests(tests, setup_group, teardown_group);
}
