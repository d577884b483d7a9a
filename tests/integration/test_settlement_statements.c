/*
 * test_settlement_statements.c: partner statements from the journal, period close and
 * reconciliation (issue 6, items 1 to 3) with the real ledger, members, settlement,
 * ZeroMQ and PostgreSQL.
 *
 * One scripted month, its figures computed by hand in the comments: earns with
 * bonuses from each kind of funder (a partner, the coalition, a supplier), a return,
 * a grant, a redemption captured in part and refunded in part, a voided
 * authorization, a prepaid partner's budget, a pending earn returned before it
 * matured (never billed). Then the month is closed (settlement runs with its
 * period clock a month ahead, settlement.period_offset_s, so the current month has
 * ended for it while the ledger dates entries now): a late entry lands in the next
 * month as a dated correction, the final statement does not move. The consumer is
 * killed in the middle of a catch-up and restarted: figures exact, nothing twice.
 * Reconciliation agrees with the journal, then names a planted difference, a changed
 * final statement and an entry of an unknown code.
 */
#include "apicall.h"
#include "lc_api.h"
#include "lc_err.h"
#include "lc_period.h"
#include "lc_settlement_msg.h"
#include "lc_time.h"

#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#define HOUR_US (INT64_C(3600) * 1000000)
#define CATCH_UP_MS 20000 /* longest wait for the consumer to reach the journal's head */

static ta_cluster_t s_cl;
static char s_env_publish[256], s_env_offset[64];
static const char *s_env[] = {"COAL_SETTLEMENT_MATURE_INTERVAL_MS=100", s_env_publish,
                              s_env_offset, NULL};

static char s_month[LC_PERIOD_STRLEN + 1]; /* the month the test runs in */
static char s_next[LC_PERIOD_STRLEN + 1];  /* the month after */

/* The parties of the scripted month, kept for the later tests. */
static ta_partner_t s_a, s_b, s_c;
static ta_member_t s_ma, s_mb;
static lc_id_t s_supplier;

/* ---- helpers ------------------------------------------------------------------------ */

/* A partner with this tariff (1 point per 1.00 EUR). */
static void s_partner(ta_partner_t *p, int pending_days, const char *funding, int64_t issue,
                      int64_t redeem, int64_t fee_bps)
{
    json_t *req = json_pack("{s:s, s:{s:i, s:i}, s:i, s:{s:I, s:I, s:I}, s:s}", "name", "Shop",
                            "earn_rate", "points", 1, "per_amount", 100, "pending_days",
                            pending_days, "tariff", "issue_price_micros", (json_int_t)issue,
                            "redeem_credit_micros", (json_int_t)redeem, "fee_bps",
                            (json_int_t)fee_bps, "funding", funding);
    char code[TA_CODE_LEN];
    json_t *rep = ta_call(&s_cl.sc, ST_TYPE_CREATE_PARTNER, &s_cl.admin, ta_key(), NULL, req, code);
    ta_ok(rep, code);
    snprintf(p->ids, sizeof p->ids, "%s", ta_str(rep, "id"));
    assert_int_equal(lc_id_parse(p->ids, &p->id), LC_OK);
    ta_who_init(&p->who, LC_ROLE_PARTNER, &p->id);
    json_decref(rep);
}

static void s_ok(json_t *rep, const char *code)
{
    ta_ok(rep, code);
    json_decref(rep);
}

/* A coupon valid for the hour around now, activated by member m. */
static void s_coupon(const char *name, const char *kind_fields, const char *funder,
                     const ta_member_t *m)
{
    char json[1024], from[LC_RFC3339_MAX], until[LC_RFC3339_MAX], code[TA_CODE_LEN];
    lc_time_format(lc_now_us() - HOUR_US, from);
    lc_time_format(lc_now_us() + HOUR_US, until);
    snprintf(json, sizeof json,
             "{\"code\": \"%s\", %s, \"funded_by\": %s, \"valid_from\": \"%s\", "
             "\"valid_until\": \"%s\", \"max_per_member\": 5}",
             name, kind_fields, funder, from, until);
    s_ok(ta_call(&s_cl.sc, ST_TYPE_CREATE_COUPON, &s_cl.admin, ta_key(), NULL,
                 json_loads(json, 0, NULL), code),
         code);
    s_ok(ta_call(&s_cl.sc, ST_TYPE_ACTIVATE_COUPON, &s_cl.app, NULL,
                 json_pack("{s:s, s:s}", "id", m->ids, "code", name), json_object(), code),
         code);
}

/* Waits until the statements have consumed the whole journal. */
static void s_caught_up(void)
{
    int64_t head = ta_journal_seq(&s_cl);
    for (int waited = 0;; waited += 20) {
        int64_t cursor =
            th_sql_i64(s_cl.db, "SELECT last_seq FROM settlement.statement_cursor WHERE id = 1");
        if (cursor >= head)
            return;
        if (waited > CATCH_UP_MS)
            fail_msg("the statements stay at entry %lld of %lld", (long long)cursor,
                     (long long)head);
        usleep(20000);
    }
}

/* settlement.statement of period as w; query: extra query members (stolen, may be
 * NULL). */
static json_t *s_statement(const ta_who_t *w, const char *period, json_t *query, char *code)
{
    s_caught_up();
    return ta_call_query(&s_cl.sc, ST_TYPE_STATEMENT, w, NULL, json_pack("{s:s}", "period", period),
                         query ? query : json_object(), json_object(), code);
}

/* Partner p's statement of period, as the partner sees it. */
static json_t *s_own(const ta_partner_t *p, const char *period)
{
    char code[TA_CODE_LEN];
    json_t *rep = s_statement(&p->who, period, NULL, code);
    ta_ok(rep, code);
    assert_string_equal(ta_str(rep, "partner_id"), p->ids);
    assert_string_equal(ta_str(rep, "period"), period);
    return rep;
}

/* The statement of party/id (id NULL: the coalition) in an auditor's reply. */
static const json_t *s_find(const json_t *rep, const char *party, const char *id)
{
    const json_t *s;
    size_t i;
    json_array_foreach(json_object_get(rep, "statements"), i, s)
    {
        if (strcmp(ta_str(s, "party"), party))
            continue;
        const char *k = !strcmp(party, "partner") ? "partner_id" : "supplier_id";
        if (!id || !strcmp(ta_str(s, k), id))
            return s;
    }
    fail_msg("no statement of %s %s", party, id ? id : "");
    return NULL;
}

/* The figures of a statement, checked in one call. */
typedef struct figures {
    int64_t issued, reversed, redeemed, refunded, bonus, bonus_reversed, prepaid;
    int64_t charge, credit, fee, net, lines;
} figures_t;

static void s_expect(const json_t *s, const figures_t *f)
{
    assert_int_equal(ta_int(s, "issued_points"), f->issued);
    assert_int_equal(ta_int(s, "reversed_points"), f->reversed);
    assert_int_equal(ta_int(s, "redeemed_points"), f->redeemed);
    assert_int_equal(ta_int(s, "refunded_points"), f->refunded);
    assert_int_equal(ta_int(s, "bonus_points_funded"), f->bonus);
    assert_int_equal(ta_int(s, "bonus_points_reversed"), f->bonus_reversed);
    assert_int_equal(ta_int(s, "prepaid_points"), f->prepaid);
    assert_int_equal(ta_int(s, "issue_charge_micros"), f->charge);
    assert_int_equal(ta_int(s, "redeem_credit_micros"), f->credit);
    assert_int_equal(ta_int(s, "fee_micros"), f->fee);
    assert_int_equal(ta_int(s, "net_micros"), f->net);
    assert_int_equal(ta_int(s, "line_count"), f->lines);
    assert_int_equal(ta_int(s, "other_points"), 0);
}

/* The line of s's lines with this category and points (fails when there is none). */
static const json_t *s_line(const json_t *s, const char *category, int64_t points)
{
    const json_t *l;
    size_t i;
    json_array_foreach(json_object_get(s, "lines"), i, l)
    {
        if (!strcmp(ta_str(l, "category"), category) && ta_int(l, "points") == points)
            return l;
    }
    fail_msg("no %s line of %lld points", category, (long long)points);
    return NULL;
}

static json_t *s_reconcile(const char *period)
{
    char code[TA_CODE_LEN];
    ta_who_t auditor;
    ta_who_init(&auditor, LC_ROLE_AUDITOR, NULL);
    s_caught_up();
    json_t *rep = ta_call(&s_cl.sc, ST_TYPE_RECONCILE, &auditor, NULL,
                          json_pack("{s:s}", "period", period), json_object(), code);
    ta_ok(rep, code);
    return rep;
}

/* The difference of rep of this kind and figure (NULL when there is none). */
static const json_t *s_difference(const json_t *rep, const char *kind, const char *figure)
{
    const json_t *d;
    size_t i;
    json_array_foreach(json_object_get(rep, "differences"), i, d)
    {
        if (!strcmp(ta_str(d, "kind"), kind) && !strcmp(ta_str(d, "figure"), figure))
            return d;
    }
    return NULL;
}

/* ---- the scripted month ------------------------------------------------------------- */

static void statements_scripted_month_equals_hand_computed_figures(void **state)
{
    (void)state;
    char code[TA_CODE_LEN], fund[256], red[LC_ID_STRLEN + 1], sup[LC_ID_STRLEN + 1];
    /* A: postpaid, 10040 micros per point issued, 9000 per point redeemed, fee 1.25 %:
     * 125.5 micros of fee per point issued, so an odd number of points is a tie. */
    s_partner(&s_a, 0, "postpaid", 10040, 9000, 125);
    s_partner(&s_b, 0, "prepaid", 10000, 9000, 100);   /* B: prepaid, fee 1 % */
    s_partner(&s_c, 1, "postpaid", 10000, 9000, 150);  /* C: points pending one day */
    ta_member(&s_cl, &s_ma, &s_a);
    ta_member(&s_cl, &s_mb, &s_b);
    s_supplier = th_id(0x5eed);
    lc_id_format(&s_supplier, sup);

    snprintf(fund, sizeof fund, "{\"type\": \"partner\", \"id\": \"%s\"}", s_a.ids);
    s_coupon("A50", "\"kind\": \"bonus\", \"bonus_points\": 50", fund, &s_ma);
    s_coupon("COAL20", "\"kind\": \"bonus\", \"bonus_points\": 20", "{\"type\": \"coalition\"}",
             &s_ma);
    snprintf(fund, sizeof fund, "{\"type\": \"supplier\", \"id\": \"%s\"}", sup);
    s_coupon("SUPX2", "\"kind\": \"multiplier\", \"multiplier\": 2", fund, &s_ma);

    /* Earn 100.00 EUR at A: base 100, bonuses A 50, coalition 20, supplier 100. */
    json_t *rep = ta_earn(&s_cl, &s_a, &s_ma, ta_key(), 10000, "EUR",
                          "{\"coupon_codes\": [\"A50\", \"COAL20\", \"SUPX2\"]}", code);
    ta_ok(rep, code);
    assert_int_equal(ta_int(rep, "points"), 100);
    assert_int_equal(ta_int(rep, "bonus_points"), 170);
    char earn[LC_ID_STRLEN + 1];
    snprintf(earn, sizeof earn, "%s", ta_str(rep, "id"));
    json_decref(rep);
    /* Half of it comes back: base 50, A 25, coalition 10, supplier 50 reversed. */
    rep = ta_return(&s_cl, &s_a, ta_key(), earn, 5000, code);
    ta_ok(rep, code);
    assert_int_equal(ta_int(rep, "points_reversed"), 50);
    assert_int_equal(ta_int(rep, "bonus_points_reversed"), 85);
    json_decref(rep);
    /* A grant of 31 and an earn of 300.00 EUR (300 points). */
    s_ok(ta_call(&s_cl.sc, ST_TYPE_GRANT, &s_a.who, ta_key(), NULL,
                 json_pack("{s:s, s:i, s:s}", "card_number", s_ma.card, "points", 31, "reason",
                           "survey"),
                 code),
         code);
    assert_int_equal(ta_earn_ok(&s_cl, &s_a, &s_ma, 30000), 300);
    /* 250 authorized, 200 captured, 40 refunded; 200 more authorized and voided. */
    ta_authorize_ok(&s_cl, &s_a, &s_ma, 250, red);
    s_ok(ta_redemption_op(&s_cl, ST_TYPE_CAPTURE, &s_a, ta_key(), red,
                          json_pack("{s:i}", "points", 200), code),
         code);
    s_ok(ta_redemption_op(&s_cl, ST_TYPE_REFUND, &s_a, ta_key(), red,
                          json_pack("{s:i}", "points", 40), code),
         code);
    ta_authorize_ok(&s_cl, &s_a, &s_ma, 200, red);
    s_ok(ta_redemption_op(&s_cl, ST_TYPE_VOID, &s_a, ta_key(), red, NULL, code), code);

    /* B buys 1000 points, its member earns 200 of them, 50 come back. */
    s_ok(ta_call(&s_cl.sc, ST_TYPE_PREPAY, &s_cl.admin, ta_key(),
                 json_pack("{s:s}", "id", s_b.ids), json_pack("{s:i}", "points", 1000), code),
         code);
    rep = ta_earn(&s_cl, &s_b, &s_mb, ta_key(), 20000, "EUR", NULL, code);
    ta_ok(rep, code);
    snprintf(earn, sizeof earn, "%s", ta_str(rep, "id"));
    json_decref(rep);
    s_ok(ta_return(&s_cl, &s_b, ta_key(), earn, 5000, code), code);

    /* C's earn is pending, and all of it comes back before it matures: a hold and its
     * void, never billed. */
    rep = ta_earn(&s_cl, &s_c, &s_mb, ta_key(), 10000, "EUR", NULL, code);
    ta_ok(rep, code);
    assert_string_equal(ta_str(rep, "status"), "pending");
    snprintf(earn, sizeof earn, "%s", ta_str(rep, "id"));
    json_decref(rep);
    s_ok(ta_return(&s_cl, &s_c, ta_key(), earn, 10000, code), code);

    /* A, by hand (lines; amount: + the coalition owes A; fee half to even):
     *   earn base        issued 100        -1 004 000   fee 12 550
     *   bonus A50        bonus_funded 50     -502 000   fee  6 275
     *   return base      reversed 50         +502 000   fee -6 275
     *   return A50       bonus_reversed 25   +251 000   fee -3 138  (3 137.5: up to even)
     *   grant            issued 31           -311 240   fee  3 890  (3 890.5: down to even)
     *   earn             issued 300        -3 012 000   fee 37 650
     *   capture          redeemed 200      +1 800 000   fee 22 500
     *   refund           refunded 40         -360 000   fee -4 500
     * issue charge 4 076 240, redeem credit 1 440 000, fee 68 952,
     * net 1 440 000 - 4 076 240 - 68 952 = -2 705 192. */
    json_t *a = s_own(&s_a, s_month);
    assert_string_equal(ta_str(a, "status"), "open");
    assert_string_equal(ta_str(a, "funding"), "postpaid");
    s_expect(a, &(figures_t){.issued = 431, .reversed = 50, .redeemed = 200, .refunded = 40,
                             .bonus = 50, .bonus_reversed = 25, .charge = 4076240,
                             .credit = 1440000, .fee = 68952, .net = -2705192, .lines = 8});
    const json_t *l = s_line(a, "bonus_reversed", 25);
    assert_int_equal(ta_int(l, "amount_micros"), 251000);
    assert_int_equal(ta_int(l, "fee_micros"), -3138);
    assert_string_equal(ta_str(l, "side"), "credit");
    assert_string_equal(ta_str(l, "entry_period"), s_month);
    assert_false(json_is_true(json_object_get(l, "correction")));
    l = s_line(a, "issued", 31);
    assert_int_equal(ta_int(l, "code"), ST_CODE_GRANT);
    assert_int_equal(ta_int(l, "fee_micros"), 3890);
    l = s_line(a, "redeemed", 200);
    assert_int_equal(ta_int(l, "code"), ST_CODE_REDEEM);
    assert_int_equal(ta_int(l, "amount_micros"), 1800000);
    assert_false(json_is_true(json_object_get(a, "has_more")));
    json_decref(a);

    /* B, prepaid: pays when it buys (1000 x 10000 = 10 000 000, fee 1 %), not again
     * when its points are issued; its budget goes 0 -> 1000 - 200 + 50 = 850, the
     * ledger's available on its issuance account. */
    json_t *b = s_own(&s_b, s_month);
    s_expect(b, &(figures_t){.issued = 200, .reversed = 50, .prepaid = 1000, .charge = 10000000,
                             .fee = 100000, .net = -10100000, .lines = 3});
    assert_int_equal(ta_int(b, "budget_opening_points"), 0);
    assert_int_equal(ta_int(b, "budget_closing_points"), 850);
    json_decref(b);
    rep = ta_call(&s_cl.sc, ST_TYPE_GET_PARTNER, &s_cl.admin, NULL,
                  json_pack("{s:s}", "id", s_b.ids), json_object(), code);
    ta_ok(rep, code);
    assert_int_equal(ta_int(rep, "budget_points"), 850);
    json_decref(rep);

    /* C: nothing billed. */
    json_t *c = s_own(&s_c, s_month);
    s_expect(c, &(figures_t){0});
    json_decref(c);

    /* The auditor's view: every partner, the supplier (100 funded, 50 reversed, at the
     * point value of 10 000 micros: 500 000) and the coalition (20 and 10: 100 000). */
    rep = s_statement(&s_cl.admin, s_month, NULL, code);
    ta_ok(rep, code);
    assert_string_equal(ta_str(rep, "status"), "open");
    s_expect(s_find(rep, "supplier", sup),
             &(figures_t){.bonus = 100, .bonus_reversed = 50, .charge = 500000, .net = -500000,
                          .lines = 2});
    s_expect(s_find(rep, "coalition", NULL),
             &(figures_t){.bonus = 20, .bonus_reversed = 10, .charge = 100000, .net = -100000,
                          .lines = 2});
    assert_int_equal(ta_int(s_find(rep, "partner", s_a.ids), "net_micros"), -2705192);
    assert_null(json_object_get(s_find(rep, "partner", s_a.ids), "lines"));
    assert_int_equal(json_array_size(json_object_get(rep, "lines")), 8 + 3 + 2 + 2);
    json_decref(rep);

    /* Lines page by seq. */
    rep = s_statement(&s_a.who, s_month, json_pack("{s:s}", "limit", "3"), code);
    ta_ok(rep, code);
    assert_int_equal(json_array_size(json_object_get(rep, "lines")), 3);
    assert_true(json_is_true(json_object_get(rep, "has_more")));
    int64_t last = ta_int(json_array_get(json_object_get(rep, "lines"), 2), "seq");
    json_decref(rep);
    char after[24];
    snprintf(after, sizeof after, "%lld", (long long)last);
    rep = s_statement(&s_a.who, s_month, json_pack("{s:s}", "starting_after", after), code);
    ta_ok(rep, code);
    assert_int_equal(json_array_size(json_object_get(rep, "lines")), 5);
    assert_true(ta_int(json_array_get(json_object_get(rep, "lines"), 0), "seq") > last);
    json_decref(rep);

    /* The journal agrees. */
    rep = s_reconcile(s_month);
    if (!json_is_true(json_object_get(rep, "ok")))
        fail_msg("reconciliation: %s", json_dumps(rep, JSON_COMPACT));
    assert_true(ta_int(rep, "entries_checked") >= 15);
    assert_int_equal(ta_int(rep, "trial_balance_sum"), 0);
    json_decref(rep);
}

static void statements_refusals(void **state)
{
    (void)state;
    char code[TA_CODE_LEN];
    /* another partner's statement is as unknown as a partner nobody has */
    ta_refused(s_statement(&s_b.who, s_month, json_pack("{s:s}", "partner_id", s_a.ids), code),
               code, LC_API_NOT_FOUND);
    ta_refused(s_statement(&s_cl.admin, s_month,
                           json_pack("{s:s}", "partner_id", th_ids(&(lc_id_t){{9, 9}})), code),
               code, LC_API_NOT_FOUND);
    /* an auditor may ask for one partner */
    json_t *rep = s_statement(&s_cl.admin, s_month, json_pack("{s:s}", "partner_id", s_a.ids), code);
    ta_ok(rep, code);
    assert_int_equal(ta_int(rep, "issued_points"), 431);
    json_decref(rep);
    const char *bad[] = {"2026-13", "2026-1", "26-11", "2026-11-01", "x"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        ta_refused(s_statement(&s_a.who, bad[i], NULL, code), code, LC_API_INVALID_REQUEST);
    ta_refused(s_statement(&s_cl.app, s_month, NULL, code), code, LC_API_FORBIDDEN);
    ta_refused(s_statement(&s_a.who, s_month, json_pack("{s:s}", "limit", "0"), code), code,
               LC_API_INVALID_REQUEST);
    ta_who_t auditor;
    ta_who_init(&auditor, LC_ROLE_AUDITOR, NULL);
    ta_refused(ta_call(&s_cl.sc, ST_TYPE_RECONCILE, &s_a.who, NULL,
                       json_pack("{s:s}", "period", s_month), json_object(), code),
               code, LC_API_FORBIDDEN);
    ta_refused(ta_call(&s_cl.sc, ST_TYPE_RECONCILE, &auditor, NULL,
                       json_pack("{s:s}", "period", "2026-00"), json_object(), code),
               code, LC_API_INVALID_REQUEST);
}

/* ---- close ------------------------------------------------------------------------- */

static json_t *s_close(const ta_who_t *w, const char *period, char *code)
{
    return ta_call(&s_cl.sc, ST_TYPE_CLOSE_PERIOD, w, ta_key(),
                   json_pack("{s:s}", "period", period), json_object(), code);
}

static void statements_close_is_final_and_late_entries_are_corrections(void **state)
{
    (void)state;
    char code[TA_CODE_LEN];
    int64_t lines0 = th_sql_i64(s_cl.db, "SELECT count(*) FROM settlement.statement_lines");
    /* refusals write nothing */
    ta_refused(s_close(&s_a.who, s_month, code), code, LC_API_FORBIDDEN);
    ta_refused(s_close(&s_cl.admin, s_next, code), code, LC_API_CONFLICT); /* not ended */
    ta_refused(s_close(&s_cl.admin, "2999-01", code), code, LC_API_CONFLICT);
    ta_refused(s_close(&s_cl.admin, "2026-13", code), code, LC_API_INVALID_REQUEST);
    assert_int_equal(th_sql_i64(s_cl.db, "SELECT count(*) FROM settlement.periods"), 0);

    s_caught_up();
    json_t *first = s_close(&s_cl.admin, s_month, code);
    ta_ok(first, code);
    assert_string_equal(ta_str(first, "status"), "final");
    assert_int_equal(ta_int(first, "statements"), 5); /* A, B, C, the supplier, the coalition */
    json_t *again = s_close(&s_cl.admin, s_month, code); /* a no-op, the same answer */
    ta_ok(again, code);
    assert_true(json_equal(first, again));
    json_decref(first);
    json_decref(again);
    assert_int_equal(th_sql_i64(s_cl.db, "SELECT count(*) FROM settlement.statements"), 5);

    /* A late entry: the ledger dates it in the closed month; it is billed in the next
     * one, dated, and the final statement stays as it was. */
    assert_int_equal(ta_earn_ok(&s_cl, &s_a, &s_ma, 700), 7);
    json_t *a = s_own(&s_a, s_month);
    assert_string_equal(ta_str(a, "status"), "final");
    assert_int_equal(ta_int(a, "issued_points"), 431);
    assert_int_equal(ta_int(a, "net_micros"), -2705192);
    assert_int_equal(json_array_size(json_object_get(a, "lines")), 8);
    json_decref(a);
    a = s_own(&s_a, s_next);
    assert_string_equal(ta_str(a, "status"), "open");
    /* 7 x 10040 = 70 280, fee 878.5 -> 878 */
    s_expect(a, &(figures_t){.issued = 7, .charge = 70280, .fee = 878, .net = -71158, .lines = 1});
    const json_t *l = s_line(a, "issued", 7);
    assert_true(json_is_true(json_object_get(l, "correction")));
    assert_string_equal(ta_str(l, "entry_period"), s_month);
    json_decref(a);
    assert_int_equal(th_sql_i64(s_cl.db, "SELECT count(*) FROM settlement.statement_lines"),
                     lines0 + 1);

    /* Both months still reconcile: the late entry happened in the closed month. */
    json_t *rep = s_reconcile(s_month);
    if (!json_is_true(json_object_get(rep, "ok")))
        fail_msg("reconciliation: %s", json_dumps(rep, JSON_COMPACT));
    json_decref(rep);
    rep = s_reconcile(s_next);
    assert_true(json_is_true(json_object_get(rep, "ok")));
    assert_int_equal(ta_int(rep, "entries_checked"), 0);
    json_decref(rep);

    /* The service's role cannot rewrite lines nor final statements. */
    lc_db_t *db = th_db_connect("coal_settlement", s_cl.db);
    assert_int_equal(lc_db_exec(db, "UPDATE settlement.statement_lines SET points = 0", 0, NULL,
                                NULL),
                     LC_ERR_DB);
    assert_string_equal(lc_db_sqlstate(db), "42501");
    assert_int_equal(lc_db_exec(db, "DELETE FROM settlement.statements", 0, NULL, NULL),
                     LC_ERR_DB);
    assert_string_equal(lc_db_sqlstate(db), "42501");
    lc_db_destroy(&db);
}

/* ---- the consumer killed mid-stream ------------------------------------------------ */

#define BURST 400 /* entries posted while settlement is down */
#define BURST_POINTS 3

static void statements_consumer_killed_mid_stream_counts_once(void **state)
{
    (void)state;
    char code[TA_CODE_LEN];
    json_t *a = s_own(&s_a, s_next);
    int64_t issued0 = ta_int(a, "issued_points"), lines0 = ta_int(a, "line_count");
    json_decref(a);
    /* Settlement down; the journal grows by BURST earns of A (as st_earn.c makes them:
     * the transfer id derived from the earn's, so each is a base earn). */
    th_svc_kill(&s_cl.settle, SIGKILL);
    lc_id_t iss;
    lc_id_derive(&s_a.id, "issuance", &iss);
    for (int i = 0; i < BURST; i++) {
        lc_id_t earn = th_id(0xe000 + (uint64_t)i), tid;
        lc_id_derive(&earn, "transfer", &tid);
        char t[LC_ID_STRLEN + 1], u[LC_ID_STRLEN + 1], d[LC_ID_STRLEN + 1];
        lc_id_format(&tid, t);
        lc_id_format(&earn, u);
        lc_id_format(&iss, d);
        json_t *body = json_pack("{s:[{s:s, s:s, s:s, s:i, s:i, s:s}]}", "transfers", "id", t,
                                 "debit_account_id", d, "credit_account_id", s_ma.ids, "amount",
                                 BURST_POINTS, "code", ST_CODE_EARN, "user_data", u);
        json_t *rep = th_call(&s_cl.lc, "ledger.create_transfers", body, code, sizeof code);
        assert_non_null(rep);
        assert_string_equal(
            ta_str(json_array_get(json_object_get(rep, "results"), 0), "result"), "ok");
        json_decref(rep);
    }
    /* Up again, and killed again while it catches up. */
    int64_t cursor0 =
        th_sql_i64(s_cl.db, "SELECT last_seq FROM settlement.statement_cursor WHERE id = 1");
    int64_t head = ta_journal_seq(&s_cl);
    th_svc_restart(&s_cl.settle);
    int64_t cursor = cursor0;
    for (int i = 0; i < 2000 && cursor == cursor0; i++) {
        usleep(1000);
        cursor = th_sql_i64(s_cl.db, "SELECT last_seq FROM settlement.statement_cursor WHERE id = 1");
    }
    th_svc_kill(&s_cl.settle, SIGKILL);
    int64_t at_kill =
        th_sql_i64(s_cl.db, "SELECT last_seq FROM settlement.statement_cursor WHERE id = 1");
    print_message("consumer killed at entry %lld (from %lld, head %lld)\n", (long long)at_kill,
                  (long long)cursor0, (long long)head);
    th_svc_restart(&s_cl.settle);
    a = s_own(&s_a, s_next);
    assert_int_equal(ta_int(a, "issued_points"), issued0 + BURST * BURST_POINTS);
    assert_int_equal(ta_int(a, "line_count"), lines0 + BURST);
    json_decref(a);
    char sql[200];
    snprintf(sql, sizeof sql,
             "SELECT count(*) FROM settlement.statement_lines WHERE seq > %lld AND seq <= %lld",
             (long long)cursor0, (long long)head);
    assert_int_equal(th_sql_i64(s_cl.db, sql), BURST);
    json_t *rep = s_reconcile(s_month); /* the burst is dated in the closed month */
    if (!json_is_true(json_object_get(rep, "ok")))
        fail_msg("reconciliation: %s", json_dumps(rep, JSON_COMPACT));
    json_decref(rep);
}

/* ---- reconciliation names differences ---------------------------------------------- */

static void statements_reconciliation_names_planted_differences(void **state)
{
    (void)state;
    char code[TA_CODE_LEN], sql[300];
    /* A line changed behind settlement's back (as the superuser). */
    snprintf(sql, sizeof sql,
             "WITH u AS (UPDATE settlement.statement_lines SET points = points + 7 WHERE seq = "
             "(SELECT max(seq) FROM settlement.statement_lines WHERE party_id = '%s' AND "
             "category = %d AND period = '%s') RETURNING 1) SELECT count(*) FROM u",
             s_a.ids, ST_LINE_ISSUED, s_month);
    assert_int_equal(th_sql_i64(s_cl.db, sql), 1);
    /* A final statement changed the same way. */
    snprintf(sql, sizeof sql,
             "WITH u AS (UPDATE settlement.statements SET fee_micros = fee_micros - 1 WHERE "
             "period = '%s' AND party_id = '%s' RETURNING 1) SELECT count(*) FROM u",
             s_month, s_b.ids);
    assert_int_equal(th_sql_i64(s_cl.db, sql), 1);
    /* An entry of a code statements do not know, on A's issuance account. */
    lc_id_t iss, tid = th_id(0xc0de);
    lc_id_derive(&s_a.id, "issuance", &iss);
    json_t *rep = th_call(&s_cl.lc, "ledger.create_transfers",
                          json_pack("{s:[{s:s, s:s, s:s, s:i, s:i}]}", "transfers", "id",
                                    th_ids(&tid), "debit_account_id", th_ids(&iss),
                                    "credit_account_id", s_ma.ids, "amount", 11, "code", 77),
                          code, sizeof code);
    assert_non_null(rep);
    json_decref(rep);

    rep = s_reconcile(s_month);
    assert_false(json_is_true(json_object_get(rep, "ok")));
    const json_t *d = s_difference(rep, "totals", "points");
    assert_non_null(d);
    assert_string_equal(ta_str(d, "party"), "partner");
    assert_string_equal(ta_str(d, "party_id"), s_a.ids);
    assert_string_equal(ta_str(d, "category"), "issued");
    assert_int_equal(ta_int(d, "statement") - ta_int(d, "journal"), 7);
    assert_non_null(strstr(ta_str(d, "message"), s_a.ids));
    d = s_difference(rep, "final", "fee_micros");
    assert_non_null(d);
    assert_string_equal(ta_str(d, "party_id"), s_b.ids);
    assert_int_equal(ta_int(d, "statement") - ta_int(d, "journal"), -1);
    d = s_difference(rep, "unknown_code", "points");
    assert_non_null(d);
    assert_int_equal(ta_int(d, "code"), 77);
    assert_int_equal(ta_int(d, "journal"), 11);
    assert_int_equal(ta_int(d, "seq"), ta_journal_seq(&s_cl));
    json_decref(rep);
    /* The unknown entry is on A's statement (billed in the next month) as other. */
    json_t *a = s_own(&s_a, s_next);
    assert_int_equal(ta_int(a, "other_points"), 11);
    assert_string_equal(ta_str(s_line(a, "other", 11), "transfer_id"), th_ids(&tid));
    json_decref(a);
}

/* The cluster, then settlement again with the ledger's PUB endpoint (known once the
 * ledger runs) and its month clock ahead. */
static int setup(void **state)
{
    (void)state;
    ta_cluster_start(&s_cl, NULL);
    snprintf(s_env_publish, sizeof s_env_publish, "COAL_LEDGER_PUBLISH=%s", s_cl.ledger.publish);
    ta_settlement_restart(&s_cl, s_env);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    ta_cluster_stop(&s_cl);
    return 0;
}

int main(void)
{
    lc_period_t m;
    assert_int_equal(lc_period_of(lc_now_us(), &m), LC_OK);
    lc_period_format(&m, s_month);
    int64_t next_us = 0;
    lc_period_last_us(&m, &next_us);
    next_us++;
    assert_int_equal(lc_period_of(next_us, &m), LC_OK);
    lc_period_format(&m, s_next);
    /* Settlement's month clock: the next month has begun (by an hour). */
    snprintf(s_env_offset, sizeof s_env_offset, "COAL_SETTLEMENT_PERIOD_OFFSET_S=%lld",
             (long long)((next_us - lc_now_us()) / 1000000 + 3600));
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(statements_scripted_month_equals_hand_computed_figures),
        cmocka_unit_test(statements_refusals),
        cmocka_unit_test(statements_close_is_final_and_late_entries_are_corrections),
        cmocka_unit_test(statements_consumer_killed_mid_stream_counts_once),
        cmocka_unit_test(statements_reconciliation_names_planted_differences),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
