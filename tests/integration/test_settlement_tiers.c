/*
 * test_settlement_tiers.c: member tiers (issue 4, item 2) with the real ledger,
 * members and settlement over real ZeroMQ and PostgreSQL.
 *
 * Settings: tiers bronze/silver/gold at 0/1000/3000 base points over 12 months,
 * multipliers 1x/1.25x/1.5x; a partner earning 1 point per euro. Time: earns are made
 * now; "a year ago" is made by moving a member's earn rows back 13 months in the
 * database as superuser (the only way to age an earn), and "next month" by asking
 * settlement.tier_review for a time in the next month. What members shows is read
 * through its own API (members.get, members.card_balance).
 */
#include "apicall.h"
#include "lc_err.h"
#include "lc_members_msg.h"
#include "lc_period.h"
#include "lc_tiers.h"
#include "lc_settlement_msg.h"
#include "lc_time.h"
#include "st_arith.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

static ta_cluster_t s_cl;
static ta_partner_t s_p;  /* earns at once */
static ta_partner_t s_pp; /* pending_days = 1 */
static char s_promo[LC_ID_STRLEN + 1];

static const char *const s_env[] = {
    "COAL_TIERS_THRESHOLDS=0,1000,3000",
    "COAL_TIERS_MULTIPLIERS_BPS=10000,12500,15000",
    "COAL_SETTLEMENT_MATURE_INTERVAL_MS=50",
    NULL,
};

static int s_setup(void **state)
{
    (void)state;
    ta_cluster_start(&s_cl, s_env);
    ta_partner(&s_cl, &s_p, 1, 100, 0, "postpaid", NULL);
    ta_partner(&s_cl, &s_pp, 1, 100, 1, "postpaid", NULL);
    lc_id_t promo;
    st_promotion_account(&promo);
    lc_id_format(&promo, s_promo);
    return 0;
}

static int s_teardown(void **state)
{
    (void)state;
    ta_cluster_stop(&s_cl);
    return 0;
}

/* ---- helpers ----------------------------------------------------------------------- */

/* The tier members shows for m, in the member view and in the card balance (which
 * must agree). */
static const char *s_shown_tier(const ta_member_t *m)
{
    static char tier[LC_TIER_NAME_MAX + 1];
    char code[TA_CODE_LEN];
    json_t *v = ta_call(&s_cl.mc, MB_TYPE_GET, &s_cl.app, NULL, json_pack("{s:s}", "id", m->ids),
                        NULL, code);
    ta_ok(v, code);
    snprintf(tier, sizeof tier, "%s", ta_str(v, "tier"));
    json_decref(v);
    json_t *b = ta_call(&s_cl.mc, MB_TYPE_CARD_BALANCE, &s_p.who, NULL,
                        json_pack("{s:s}", "card_number", m->card), NULL, code);
    ta_ok(b, code);
    assert_string_equal(ta_str(b, "tier"), tier);
    json_decref(b);
    return tier;
}

/* An earn of cents at p with a fresh key: the reply (owned). */
static json_t *s_earn(const ta_partner_t *p, const ta_member_t *m, int64_t cents)
{
    char code[TA_CODE_LEN];
    json_t *r = ta_earn(&s_cl, p, m, ta_key(), cents, "EUR", NULL, code);
    ta_ok(r, code);
    return r;
}

/* settlement.tier_review of m as of t: the tier index it answers. */
static int64_t s_review(const ta_member_t *m, int64_t t, int64_t *qualifying)
{
    char at[LC_RFC3339_MAX], code[TA_CODE_LEN];
    assert_int_equal(lc_time_format(t, at), LC_OK);
    json_t *r = th_call(&s_cl.sc, ST_TYPE_TIER_REVIEW,
                        json_pack("{s:s, s:s}", "member_id", m->ids, "as_of", at), code,
                        sizeof code);
    if (!r)
        fail_msg("tier_review: %s", code);
    int64_t tier = ta_int(r, "tier");
    if (qualifying)
        *qualifying = ta_int(r, "qualifying_points");
    json_decref(r);
    return tier;
}

/* Moves every earn of m back by 13 months (as superuser): they leave the window. */
static void s_age_earns(const ta_member_t *m)
{
    char sql[512];
    snprintf(sql, sizeof sql,
             "WITH u AS (UPDATE settlement.earns SET created_at = created_at - "
             "(13::bigint * 31 * 86400 * 1000000) WHERE member_id = '%s' RETURNING 1) "
             "SELECT count(*) FROM u",
             m->ids);
    assert_true(th_sql_i64(s_cl.db, sql) >= 1);
}

/* An earn row's column (an integer) by its id. */
static int64_t s_earn_col(const char *earn_id, const char *col)
{
    char sql[256];
    snprintf(sql, sizeof sql, "SELECT %s FROM settlement.earns WHERE id = '%s'", col, earn_id);
    return th_sql_i64(s_cl.db, sql);
}

/* The first instant of the calendar month after t's. */
static int64_t s_next_month(int64_t t)
{
    lc_period_t p;
    assert_int_equal(lc_period_of(t, &p), LC_OK);
    int64_t first;
    assert_int_equal(lc_period_first_us(&p, &first), LC_OK);
    return st_add_months(first, 1);
}

/* ---- tests ------------------------------------------------------------------------- */

/* Below the threshold: no bonus. The earn that reaches it is booked at the old tier,
 * and the member shows the new tier at once; the next earn gets 1.25x, the extra
 * paid by the coalition's promotion account in a transfer with code 9. */
static void tier_upgrade_at_once_bonus_from_coalition(void **state)
{
    (void)state;
    ta_member_t m;
    ta_member(&s_cl, &m, &s_p);
    assert_string_equal(s_shown_tier(&m), "bronze");
    json_t *r = s_earn(&s_p, &m, 99900); /* 999 points: one short */
    assert_int_equal(ta_int(r, "points"), 999);
    assert_int_equal(ta_int(r, "bonus_points"), 0);
    json_decref(r);
    assert_string_equal(s_shown_tier(&m), "bronze");
    r = s_earn(&s_p, &m, 100); /* reaches 1000 */
    assert_int_equal(ta_int(r, "bonus_points"), 0);
    json_decref(r);
    assert_string_equal(s_shown_tier(&m), "silver");

    int64_t promo_before = ta_acct(&s_cl, s_promo, "debits_posted");
    r = s_earn(&s_p, &m, 10000); /* 100 points, silver: +25 */
    assert_int_equal(ta_int(r, "points"), 100);
    assert_int_equal(ta_int(r, "bonus_points"), 25);
    char earn[LC_ID_STRLEN + 1];
    snprintf(earn, sizeof earn, "%s", ta_str(r, "id"));
    json_decref(r);
    assert_int_equal(ta_acct(&s_cl, s_promo, "debits_posted") - promo_before, 25);
    assert_int_equal(ta_acct(&s_cl, m.ids, "available"), 999 + 1 + 100 + 25);
    assert_int_equal(s_earn_col(earn, "tier"), 1);
    assert_int_equal(s_earn_col(earn, "tier_bonus_points"), 25);
    char sql[256];
    snprintf(sql, sizeof sql,
             "SELECT count(*) FROM ledger.journal WHERE code = %d AND user_data = '%s'",
             ST_CODE_TIER_BONUS, earn);
    assert_int_equal(th_sql_i64(s_cl.db, sql), 1);

    /* Returns reverse the tier bonus in proportion, and all of it in the end. */
    char code[TA_CODE_LEN];
    json_t *ret = ta_return(&s_cl, &s_p, ta_key(), earn, 5000, code);
    ta_ok(ret, code);
    assert_int_equal(ta_int(ret, "points_reversed"), 50);
    assert_int_equal(ta_int(ret, "bonus_points_reversed"), 13); /* ceil(25 / 2) */
    json_decref(ret);
    ret = ta_return(&s_cl, &s_p, ta_key(), earn, 5000, code);
    ta_ok(ret, code);
    assert_int_equal(ta_int(ret, "points_reversed"), 50);
    assert_int_equal(ta_int(ret, "bonus_points_reversed"), 12);
    json_decref(ret);
    assert_int_equal(s_earn_col(earn, "tier_reversed_points"), 25);
    assert_int_equal(ta_acct(&s_cl, s_promo, "debits_posted") - promo_before, 25);
    assert_int_equal(ta_acct(&s_cl, s_promo, "credits_posted") >= 25, 1);
    assert_int_equal(ta_acct(&s_cl, m.ids, "available"), 999 + 1);
}

/* Earns older than 12 months do not count, but the tier goes down only in the
 * member's first review of a later month, and at most once in a month. */
static void tier_downgrade_waits_for_the_monthly_review(void **state)
{
    (void)state;
    ta_member_t m;
    ta_member(&s_cl, &m, &s_p);
    json_decref(s_earn(&s_p, &m, 300000)); /* 3000 points: gold */
    assert_string_equal(s_shown_tier(&m), "gold");
    s_age_earns(&m); /* they were a year ago */
    json_decref(s_earn(&s_p, &m, 150000)); /* 1500 points this year: silver's worth */

    /* Same month: still gold, and the earn got gold's 1.5x. */
    json_t *r = s_earn(&s_p, &m, 10000);
    assert_int_equal(ta_int(r, "bonus_points"), 50);
    json_decref(r);
    int64_t now = lc_now_us(), q = 0;
    assert_int_equal(s_review(&m, now, &q), 2);
    assert_int_equal(q, 1600);
    assert_string_equal(s_shown_tier(&m), "gold");

    /* Next month's review: silver. */
    int64_t next = s_next_month(now);
    assert_int_equal(s_review(&m, next + 1000000, &q), 1);
    assert_int_equal(q, 1600);
    assert_string_equal(s_shown_tier(&m), "silver");

    /* Those earns age too; a second review in the same month changes nothing. */
    s_age_earns(&m);
    assert_int_equal(s_review(&m, next + 2000000, &q), 1);
    assert_int_equal(q, 0);
    assert_string_equal(s_shown_tier(&m), "silver");

    /* The month after: bronze. Reviewing twice is harmless. */
    int64_t after = st_add_months(next, 1);
    assert_int_equal(s_review(&m, after, NULL), 0);
    assert_int_equal(s_review(&m, after + 1, NULL), 0);
    assert_string_equal(s_shown_tier(&m), "bronze");
    char sql[256];
    snprintf(sql, sizeof sql,
             "SELECT version * 10 + pushed_version FROM settlement.member_tiers "
             "WHERE member_id = '%s'",
             m.ids);
    assert_int_equal(th_sql_i64(s_cl.db, sql), 33); /* gold, silver, bronze: all reported */
}

/* An earn whose first attempt reached the ledger but not settlement's table (a
 * crash between the two commits) is retried after the member's tier has changed:
 * the retry books nothing more and records the earn as the ledger has it. key is
 * the earn's Idempotency-Key; between is the cents of another earn that moves the
 * member to another tier after the row is gone. Returns the retry's reply. */
static json_t *s_retry_after_tier_change(const ta_member_t *m, const char *key,
                                         int64_t cents, int64_t between, char *earn,
                                         size_t earnlen)
{
    char code[TA_CODE_LEN], sql[256];
    json_t *r = ta_earn(&s_cl, &s_p, m, key, cents, "EUR", NULL, code);
    ta_ok(r, code);
    snprintf(earn, earnlen, "%s", ta_str(r, "id"));
    json_decref(r);
    snprintf(sql, sizeof sql,
             "WITH d AS (DELETE FROM settlement.earns WHERE id = '%s' RETURNING 1) "
             "SELECT count(*) FROM d",
             earn);
    assert_int_equal(th_sql_i64(s_cl.db, sql), 1);
    json_decref(s_earn(&s_p, m, between));
    r = ta_earn(&s_cl, &s_p, m, key, cents, "EUR", NULL, code);
    ta_ok(r, code);
    assert_string_equal(ta_str(r, "id"), earn);
    /* One base transfer, at most one tier bonus: nothing booked twice. */
    snprintf(sql, sizeof sql,
             "SELECT count(*) FROM ledger.journal WHERE entry_type = 2 AND code = %d AND "
             "user_data = '%s'",
             ST_CODE_EARN, earn);
    assert_int_equal(th_sql_i64(s_cl.db, sql), 1);
    snprintf(sql, sizeof sql,
             "SELECT count(*) FROM ledger.journal WHERE entry_type = 2 AND code = %d AND "
             "user_data = '%s'",
             ST_CODE_TIER_BONUS, earn);
    assert_true(th_sql_i64(s_cl.db, sql) <= 1);
    return r;
}

/* The tier went up in between: the earn keeps the first attempt's silver bonus. */
static void tier_retry_keeps_the_bonus_the_ledger_booked(void **state)
{
    (void)state;
    ta_member_t m;
    ta_member(&s_cl, &m, &s_p);
    json_decref(s_earn(&s_p, &m, 100000)); /* 1000 points: silver */
    char key[64], earn[LC_ID_STRLEN + 1];
    snprintf(key, sizeof key, "%s", ta_key());
    /* 100 points at silver: +25; then 2000 points make gold (1.5x: +50 now). */
    json_t *r = s_retry_after_tier_change(&m, key, 10000, 200000, earn, sizeof earn);
    assert_string_equal(s_shown_tier(&m), "gold");
    assert_int_equal(ta_int(r, "points"), 100);
    assert_int_equal(ta_int(r, "bonus_points"), 25);
    json_decref(r);
    assert_int_equal(s_earn_col(earn, "points"), 100);
    assert_int_equal(s_earn_col(earn, "tier"), 1);
    assert_int_equal(s_earn_col(earn, "tier_bonus_points"), 25);
    assert_int_equal(ta_acct(&s_cl, m.ids, "available"), 1000 + 125 + 2000 + 500);
}

/* The tier went up in between from one without a bonus: the earn keeps none. */
static void tier_retry_keeps_no_bonus_when_the_ledger_booked_none(void **state)
{
    (void)state;
    ta_member_t m;
    ta_member(&s_cl, &m, &s_p);
    char key[64], earn[LC_ID_STRLEN + 1];
    snprintf(key, sizeof key, "%s", ta_key());
    /* 100 points at bronze: no bonus; then 1000 points make silver (+25 now). */
    json_t *r = s_retry_after_tier_change(&m, key, 10000, 100000, earn, sizeof earn);
    assert_string_equal(s_shown_tier(&m), "silver");
    assert_int_equal(ta_int(r, "bonus_points"), 0);
    json_decref(r);
    assert_int_equal(s_earn_col(earn, "tier"), 0);
    assert_int_equal(s_earn_col(earn, "tier_bonus_points"), 0);
    assert_int_equal(ta_acct(&s_cl, m.ids, "available"), 100 + 1000);
}

/* Grants and bonuses do not qualify; neither do redemptions lower the tier. */
static void tier_counts_base_points_only(void **state)
{
    (void)state;
    ta_member_t m;
    ta_member(&s_cl, &m, &s_p);
    char code[TA_CODE_LEN];
    json_t *g = ta_call(&s_cl.sc, ST_TYPE_GRANT, &s_p.who, ta_key(), NULL,
                        json_pack("{s:s, s:I, s:s}", "card_number", m.card, "points",
                                  (json_int_t)5000, "reason", "goodwill"),
                        code);
    ta_ok(g, code);
    json_decref(g);
    assert_string_equal(s_shown_tier(&m), "bronze");
    json_decref(s_earn(&s_p, &m, 100000)); /* 1000 base points */
    assert_string_equal(s_shown_tier(&m), "silver");
    char rid[LC_ID_STRLEN + 1];
    ta_authorize_ok(&s_cl, &s_p, &m, 5500, rid);
    json_t *cap = ta_redemption_op(&s_cl, ST_TYPE_CAPTURE, &s_p, ta_key(), rid, NULL, code);
    ta_ok(cap, code);
    json_decref(cap);
    int64_t q = 0;
    assert_int_equal(s_review(&m, lc_now_us(), &q), 1);
    assert_int_equal(q, 1000);
}

/* A pending earn keeps the multiplier of its tier and gets the bonus when it matures,
 * on what a return has left; a later return takes the rest of the bonus back. */
static void tier_bonus_of_a_pending_earn_comes_at_maturity(void **state)
{
    (void)state;
    ta_member_t m;
    ta_member(&s_cl, &m, &s_p);
    json_decref(s_earn(&s_p, &m, 100000)); /* silver */
    assert_string_equal(s_shown_tier(&m), "silver");
    json_t *r = s_earn(&s_pp, &m, 10000); /* 100 points, pending */
    assert_int_equal(ta_int(r, "bonus_points"), 0);
    assert_string_equal(ta_str(r, "status"), "pending");
    char earn[LC_ID_STRLEN + 1], code[TA_CODE_LEN];
    snprintf(earn, sizeof earn, "%s", ta_str(r, "id"));
    json_decref(r);
    assert_int_equal(s_earn_col(earn, "tier_bps"), 12500);
    json_t *ret = ta_return(&s_cl, &s_pp, ta_key(), earn, 4000, code);
    ta_ok(ret, code);
    assert_int_equal(ta_int(ret, "points_reversed"), 40);
    json_decref(ret);

    /* Due now: the sweep posts the 60 points left with 15 bonus points. */
    char sql[256];
    snprintf(sql, sizeof sql,
             "WITH u AS (UPDATE settlement.earns SET available_at = 0 WHERE id = '%s' "
             "RETURNING 1) SELECT count(*) FROM u",
             earn);
    assert_int_equal(th_sql_i64(s_cl.db, sql), 1);
    int64_t deadline = lc_mono_ms() + 10000;
    while (s_earn_col(earn, "status") != 1 && lc_mono_ms() < deadline)
        usleep(20000);
    assert_int_equal(s_earn_col(earn, "status"), 1);
    assert_int_equal(s_earn_col(earn, "tier_bonus_points"), 15);
    assert_int_equal(s_earn_col(earn, "tier_basis_amount"), 6000);
    assert_int_equal(ta_acct(&s_cl, m.ids, "available"), 1000 + 60 + 15);

    ret = ta_return(&s_cl, &s_pp, ta_key(), earn, 6000, code);
    ta_ok(ret, code);
    assert_int_equal(ta_int(ret, "points_reversed"), 60);
    assert_int_equal(ta_int(ret, "bonus_points_reversed"), 15);
    json_decref(ret);
    assert_int_equal(ta_acct(&s_cl, m.ids, "available"), 1000);
}

/* Settings that make no sense stop settlement and members at start, naming them. */
static void tier_settings_refused_at_start(void **state)
{
    (void)state;
    static const struct {
        const char *svc, *env, *says;
    } bad[] = {
        {"settlement", "COAL_TIERS_THRESHOLDS=0,500,100", "ascending"},
        {"settlement", "COAL_TIERS_THRESHOLDS=5,500,1000", "must be 0"},
        {"settlement", "COAL_TIERS_MULTIPLIERS_BPS=10000,9000,15000", "multipliers_bps"},
        {"members", "COAL_TIERS_NAMES=bronze,silver", "must match"},
    };
    const char *dir = getenv("COAL_BIN_DIR");
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char cmd[1024], log[128];
        snprintf(log, sizeof log, "%s/tiers-refused-%zu.log",
                 getenv("COAL_VAR") ? getenv("COAL_VAR") : "/tmp", i);
        snprintf(cmd, sizeof cmd,
                 "env COAL_SETTLEMENT_DB='dbname=none' COAL_MEMBERS_DB='dbname=none' "
                 "COAL_SETTLEMENT_BIND=tcp://127.0.0.1:1 COAL_MEMBERS_BIND=tcp://127.0.0.1:1 "
                 "%s %s/%s 2>%s",
                 bad[i].env, dir && *dir ? dir : "build/release/bin", bad[i].svc, log);
        int st = system(cmd);
        assert_true(WIFEXITED(st));
        assert_int_equal(WEXITSTATUS(st), 2); /* LC_SERVICE_EXIT_USAGE */
        FILE *f = fopen(log, "r");
        assert_non_null(f);
        char text[4096] = "";
        size_t n = fread(text, 1, sizeof text - 1, f);
        text[n] = '\0';
        fclose(f);
        if (!strstr(text, bad[i].says))
            fail_msg("%s with %s: log does not say \"%s\": %s", bad[i].svc, bad[i].env,
                     bad[i].says, text);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(tier_upgrade_at_once_bonus_from_coalition),
        cmocka_unit_test(tier_downgrade_waits_for_the_monthly_review),
        cmocka_unit_test(tier_counts_base_points_only),
        cmocka_unit_test(tier_retry_keeps_the_bonus_the_ledger_booked),
        cmocka_unit_test(tier_retry_keeps_no_bonus_when_the_ledger_booked_none),
        cmocka_unit_test(tier_bonus_of_a_pending_earn_comes_at_maturity),
        cmocka_unit_test(tier_settings_refused_at_start),
    };
    return cmocka_run_group_tests(tests, s_setup, s_teardown);
}
