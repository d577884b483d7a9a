/*
 * test_members_history.c: the member history (members.history), derived by the
 * members service from the ledger's journal, against the real ledger, members and
 * settlement: types and signed points after an earn, a captured redemption, a
 * refund and a return; newest first; stable pagination; a SIGKILLed members
 * neither loses nor duplicates rows; another member's entries never appear.
 * (Calls through tests/lib/apicall.h.)
 */
#include "apicall.h"
#include "lc_api.h"
#include "lc_err.h"
#include "lc_settlement_msg.h"
#include "lc_time.h"

#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

static ta_cluster_t s_cl;

/* Settlement as every test here runs it: pending earns mature within 100 ms. */
static const char *const s_settlement_env[] = {"COAL_SETTLEMENT_MATURE_INTERVAL_MS=100", NULL};

/* ---- history ---------------------------------------------------------------------- */

/* GET /v1/members/{id}/history as the app, with query (JSON text, may be NULL). */
static json_t *s_history(const ta_member_t *m, const char *query, char *code)
{
    json_t *q = NULL;
    if (query) {
        q = json_loads(query, 0, NULL);
        assert_non_null(q);
    }
    return ta_call_query(&s_cl.mc, "members.history", &s_cl.app, NULL,
                         json_pack("{s:s}", "id", m->ids), q, json_object(), code);
}

/* Waits (10 s at most) until members has applied the journal up to the ledger's head. */
static void s_wait_applied(void)
{
    int64_t head = ta_journal_seq(&s_cl);
    int64_t t0 = lc_mono_ms();
    while (th_sql_i64(s_cl.db, "SELECT last_seq FROM members.journal_cursor") < head) {
        if (lc_mono_ms() - t0 > 10000)
            fail_msg("members' journal cursor stuck below %lld", (long long)head);
        usleep(20 * 1000);
    }
}

static ta_member_t s_m, s_other;
static ta_partner_t s_p;

static void history_lists_movements_newest_first(void **state)
{
    (void)state;
    ta_partner(&s_cl, &s_p, 1, 100, 0, "postpaid", NULL);
    ta_member(&s_cl, &s_m, &s_p);
    ta_member(&s_cl, &s_other, &s_p);
    char code[TA_CODE_LEN];
    /* earn 1000 points (10 EUR at 1 point per cent) */
    json_t *e = ta_earn(&s_cl, &s_p, &s_m, ta_key(), 100000, "EUR", NULL, code);
    ta_ok(e, code);
    char earn_id[LC_ID_STRLEN + 1];
    snprintf(earn_id, sizeof earn_id, "%s", ta_str(e, "id"));
    int64_t earned = ta_int(e, "points");
    json_decref(e);
    ta_earn_ok(&s_cl, &s_p, &s_other, 5000);
    /* a redemption of 300, captured 200 (the authorization shows no row) */
    char rid[LC_ID_STRLEN + 1];
    ta_authorize_ok(&s_cl, &s_p, &s_m, 300, rid);
    json_t *c1 = ta_redemption_op(&s_cl, ST_TYPE_CAPTURE, &s_p, ta_key(), rid,
                                  json_pack("{s:i}", "points", 200), code);
    ta_ok(c1, code);
    json_decref(c1);
    /* refund 50 */
    json_t *f = ta_redemption_op(&s_cl, ST_TYPE_REFUND, &s_p, ta_key(), rid,
                                 json_pack("{s:i}", "points", 50), code);
    ta_ok(f, code);
    json_decref(f);
    /* return 1 EUR of the earn */
    json_t *r = ta_return(&s_cl, &s_p, ta_key(), earn_id, 100, code);
    ta_ok(r, code);
    int64_t returned = earned * 100 / 100000; /* proportional to the earn */
    json_decref(r);
    s_wait_applied();

    json_t *h = s_history(&s_m, NULL, code);
    ta_ok(h, code);
    json_t *data = json_object_get(h, "data");
    assert_int_equal(json_array_size(data), 4);
    assert_false(json_is_true(json_object_get(h, "has_more")));
    const char *types[] = {"return", "refund", "redemption", "earn"};
    int64_t points[] = {-returned, 50, -200, earned};
    int64_t prev = INT64_MAX;
    for (size_t i = 0; i < 4; i++) {
        json_t *it = json_array_get(data, i);
        assert_string_equal(ta_str(it, "type"), types[i]);
        assert_int_equal(ta_int(it, "points"), points[i]);
        assert_string_equal(ta_str(it, "partner_id"), s_p.ids);
        assert_true(ta_int(it, "seq") < prev);
        prev = ta_int(it, "seq");
        assert_non_null(json_object_get(it, "at"));
        assert_null(json_object_get(it, "charity_id"));
    }
    json_decref(h);
    /* the other member sees only its own earn */
    h = s_history(&s_other, NULL, code);
    ta_ok(h, code);
    assert_int_equal(json_array_size(json_object_get(h, "data")), 1);
    assert_string_equal(ta_str(json_array_get(json_object_get(h, "data"), 0), "type"), "earn");
    json_decref(h);
    assert_int_equal(th_sql_i64(s_cl.db,
                                "SELECT count(*) FROM members.history h WHERE NOT EXISTS "
                                "(SELECT 1 FROM members.members m WHERE m.id = h.member_id)"),
                     0);
}

static void history_paginates_stably(void **state)
{
    (void)state;
    char code[TA_CODE_LEN];
    json_t *all = s_history(&s_m, NULL, code);
    ta_ok(all, code);
    json_t *data = json_object_get(all, "data");
    size_t n = json_array_size(data);
    assert_true(n >= 4);
    /* pages of 1, by id, then by seq: the same entries in the same order */
    const char *after = NULL;
    char buf[64];
    for (size_t i = 0; i < n; i++) {
        char q[128];
        if (after)
            snprintf(q, sizeof q, "{\"limit\":\"1\",\"starting_after\":\"%s\"}", after);
        else
            snprintf(q, sizeof q, "{\"limit\":\"1\"}");
        json_t *pg = s_history(&s_m, q, code);
        ta_ok(pg, code);
        json_t *it = json_array_get(json_object_get(pg, "data"), 0);
        assert_non_null(it);
        assert_int_equal(ta_int(it, "seq"), ta_int(json_array_get(data, i), "seq"));
        assert_int_equal(json_is_true(json_object_get(pg, "has_more")), i + 1 < n);
        if (i % 2)
            snprintf(buf, sizeof buf, "%s", ta_str(it, "id"));
        else
            snprintf(buf, sizeof buf, "%lld", (long long)ta_int(it, "seq"));
        after = buf;
        json_decref(pg);
    }
    json_decref(all);
    /* bad queries */
    ta_refused(s_history(&s_m, "{\"limit\":\"0\"}", code), code, "invalid_request");
    assert_null(s_history(&s_m, "{\"limit\":\"1001\"}", code));
    assert_string_equal(code, "invalid_request");
    assert_null(s_history(&s_m, "{\"starting_after\":\"nope\"}", code));
    assert_string_equal(code, "invalid_request");
    ta_member_t ghost = {.ids = "00000000-0000-7000-8000-0000000000ff"};
    assert_null(s_history(&ghost, NULL, code));
    assert_string_equal(code, "not_found");
}

static void history_survives_members_kill_exactly_once(void **state)
{
    (void)state;
    for (int round = 0; round < 3; round++) {
        ta_earn_ok(&s_cl, &s_p, &s_m, 1000 + round);
        th_svc_kill(&s_cl.members, SIGKILL);
        th_svc_restart(&s_cl.members);
        th_client_close(&s_cl.mc);
        th_client_open_at(&s_cl.mc, s_cl.members.endpoint);
        ta_earn_ok(&s_cl, &s_p, &s_m, 2000 + round);
    }
    s_wait_applied();
    /* one row per (member, seq), and every member-touching transfer has its row */
    assert_int_equal(th_sql_i64(s_cl.db, "SELECT count(*) FROM (SELECT member_id, seq FROM "
                                         "members.history GROUP BY 1, 2 HAVING count(*) > 1) d"),
                     0);
    assert_int_equal(th_sql_i64(s_cl.db, "SELECT count(*) FROM members.history WHERE member_id = '"
                                         "00000000-0000-0000-0000-000000000000'"),
                     0);
    char code[TA_CODE_LEN];
    json_t *h = s_history(&s_m, NULL, code);
    ta_ok(h, code);
    int earns = 0;
    json_t *it;
    size_t i;
    json_array_foreach(json_object_get(h, "data"), i, it)
    {
        if (!strcmp(ta_str(it, "type"), "earn"))
            earns++;
    }
    assert_int_equal(earns, 1 + 6);
    json_decref(h);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(history_lists_movements_newest_first),
        cmocka_unit_test(history_paginates_stably),
        cmocka_unit_test(history_survives_members_kill_exactly_once),
    };
    return ta_run_tests(tests, &s_cl, s_settlement_env);
}
