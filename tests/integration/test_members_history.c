/*
 * test_members_history.c: the member history (members.history), derived by the
 * members service from the ledger's journal, against the real ledger, members and
 * settlement: types and signed points after an earn, a captured redemption, a
 * refund and a return; newest first; stable pagination; a SIGKILLed members
 * neither loses nor duplicates rows; another member's entries never appear.
 * (Helpers as in test_settlement.c.)
 */
#include "harness.h"
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

#define CODE_LEN 64

static char s_db[64];
static th_ledger_t s_ledger;
static th_svc_t s_members, s_settle;
static th_client_t s_sc; /* settlement */
static th_client_t s_mc; /* members */
static th_client_t s_lc; /* ledger */

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
static uint64_t s_next_key = 0x5000;

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

static void s_start_settlement(const char *extra)
{
    char e0[256], e1[256];
    snprintf(e0, sizeof e0, "COAL_LEDGER_CONNECT=%s", s_ledger.endpoint);
    snprintf(e1, sizeof e1, "COAL_MEMBERS_CONNECT=%s", s_members.endpoint);
    const char *env[] = {e0, e1, "COAL_SETTLEMENT_MATURE_INTERVAL_MS=100", extra, NULL};
    th_svc_start(&s_settle, "settlement", s_db, env);
}

static int setup_group(void **state)
{
    (void)state;
    th_db_create(s_db, sizeof s_db);
    th_ledger_start(&s_ledger, s_db);
    char e0[256], e1[256];
    snprintf(e0, sizeof e0, "COAL_LEDGER_CONNECT=%s", s_ledger.endpoint);
    snprintf(e1, sizeof e1, "COAL_LEDGER_PUBLISH=%s", s_ledger.publish);
    const char *env[] = {e0, e1, NULL};
    th_svc_start(&s_members, "members", s_db, env);
    s_start_settlement(NULL);
    th_client_open_at(&s_sc, s_settle.endpoint);
    th_client_open_at(&s_mc, s_members.endpoint);
    th_client_open(&s_lc, &s_ledger);
    s_who(&s_admin, LC_ROLE_ADMIN, NULL);
    s_who(&s_app, LC_ROLE_APP, NULL);
    return 0;
}

static int teardown_group(void **state)
{
    (void)state;
    /* Whatever happened, the books balance and the journal verifies. */
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
    th_client_close(&s_mc);
    th_client_close(&s_lc);
    th_svc_stop(&s_settle);
    th_svc_stop(&s_members);
    th_ledger_stop(&s_ledger);
    return 0;
}

/* ---- helpers ----------------------------------------------------------------------- */

/* A fresh idempotency key (rotating buffers). */
static const char *s_key(void)
{
    static char buf[8][32];
    static unsigned n;
    char *b = buf[n++ % 8];
    snprintf(b, sizeof buf[0], "key-%u", n);
    return b;
}

/* Calls an API type as w; params, query, request are stolen (NULL: none). Returns
 * the reply body, or NULL with the error code in code. */
static json_t *s_api(th_client_t *c, const char *type, const who_t *w, const char *key,
                     json_t *params, json_t *request, char *code)
{
    json_t *body = lc_api_req_build(&w->c, key, params, NULL, request);
    json_decref(params);
    json_decref(request);
    assert_non_null(body);
    return th_call(c, type, body, code, CODE_LEN);
}

/* Expects an error reply with code want. */
static void s_refused(json_t *reply, const char *code, const char *want)
{
    if (reply) {
        char *t = json_dumps(reply, 0);
        fail_msg("expected %s, got ok: %s", want, t);
    }
    assert_string_equal(code, want);
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

static void s_partner(partner_t *p, int64_t rp, int64_t per, int days, const char *funding,
                      const char *excluded)
{
    json_t *req = json_pack("{s:s, s:{s:I, s:I}, s:I, s:{s:I, s:I, s:I}, s:s}", "name", "Shop",
                            "earn_rate", "points", (json_int_t)rp, "per_amount", (json_int_t)per,
                            "pending_days", (json_int_t)days, "tariff", "issue_price_micros",
                            (json_int_t)10000, "redeem_credit_micros", (json_int_t)9000,
                            "fee_bps", (json_int_t)150, "funding", funding);
    if (excluded)
        json_object_set_new(req, "excluded_categories", json_loads(excluded, 0, NULL));
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

/* A one-time redemption code from the member app. */
static void s_code(const member_t *m, char *out, size_t len)
{
    char code[CODE_LEN];
    json_t *rep = s_api(&s_mc, "members.issue_code", &s_app, s_key(),
                        json_pack("{s:s}", "id", m->ids), json_object(), code);
    s_ok(rep, code);
    snprintf(out, len, "%s", s_str(rep, "code"));
    json_decref(rep);
}


static int64_t s_journal_seq(void)
{
    char code[CODE_LEN];
    json_t *rep = th_call(&s_lc, LD_TYPE_TRIAL_BALANCE, json_object(), code, sizeof code);
    assert_non_null(rep);
    int64_t v = s_int(rep, "journal_seq");
    json_decref(rep);
    return v;
}


/* An earn of amount cents; extra (JSON text, may be NULL) is merged into the body. */
static json_t *s_earn(const partner_t *p, const member_t *m, const char *key, int64_t amount,
                      const char *currency, const char *extra, char *code)
{
    json_t *req = json_pack("{s:s, s:s, s:{s:I, s:s}}", "card_number", m->card, "receipt_id",
                            key, "amount", "amount", (json_int_t)amount, "currency", currency);
    if (extra) {
        json_t *x = json_loads(extra, 0, NULL);
        assert_non_null(x);
        json_object_update(req, x);
        json_decref(x);
    }
    return s_api(&s_sc, ST_TYPE_EARN, &p->who, key, NULL, req, code);
}

static int64_t s_earn_ok(const partner_t *p, const member_t *m, int64_t amount)
{
    char code[CODE_LEN];
    json_t *rep = s_earn(p, m, s_key(), amount, "EUR", NULL, code);
    s_ok(rep, code);
    int64_t pts = s_int(rep, "points");
    json_decref(rep);
    return pts;
}

static json_t *s_authorize(const partner_t *p, const member_t *m, const char *key, int64_t points,
                           const char *member_code, char *code)
{
    return s_api(&s_sc, ST_TYPE_AUTHORIZE, &p->who, key, NULL,
                 json_pack("{s:s, s:I, s:s, s:s}", "card_number", m->card, "points",
                           (json_int_t)points, "member_code", member_code, "receipt_id", key),
                 code);
}

/* Authorizes points with a fresh code; returns the redemption id (static buffer). */
static const char *s_authorize_ok(const partner_t *p, const member_t *m, int64_t points)
{
    static char id[LC_ID_STRLEN + 1];
    char mc[64], code[CODE_LEN];
    s_code(m, mc, sizeof mc);
    json_t *rep = s_authorize(p, m, s_key(), points, mc, code);
    s_ok(rep, code);
    snprintf(id, sizeof id, "%s", s_str(rep, "id"));
    json_decref(rep);
    return id;
}

/* capture / void / refund of redemption id. */
static json_t *s_red_op(const char *type, const partner_t *p, const char *key, const char *id,
                        json_t *request, char *code)
{
    return s_api(&s_sc, type, &p->who, key, json_pack("{s:s}", "id", id),
                 request ? request : json_object(), code);
}

static json_t *s_return(const partner_t *p, const char *key, const char *earn_id, int64_t cents,
                        char *code)
{
    return s_api(&s_sc, ST_TYPE_RETURN, &p->who, key, NULL,
                 json_pack("{s:s, s:{s:I, s:s}}", "earn_id", earn_id, "amount", "amount",
                           (json_int_t)cents, "currency", "EUR"),
                 code);
}

/* ---- history ---------------------------------------------------------------------- */

/* GET /v1/members/{id}/history as the app, with query (JSON text, may be NULL). */
static json_t *s_history(const member_t *m, const char *query, char *code)
{
    json_t *q = query ? json_loads(query, 0, NULL) : NULL;
    json_t *params = json_pack("{s:s}", "id", m->ids), *req = json_object();
    json_t *body = lc_api_req_build(&s_app.c, NULL, params, q, req);
    json_decref(params);
    json_decref(req);
    json_decref(q);
    assert_non_null(body);
    return th_call(&s_mc, "members.history", body, code, CODE_LEN);
}

/* Waits (10 s at most) until members has applied the journal up to the ledger's head. */
static void s_wait_applied(void)
{
    int64_t head = s_journal_seq();
    int64_t t0 = lc_mono_ms();
    while (th_sql_i64(s_db, "SELECT last_seq FROM members.journal_cursor") < head) {
        if (lc_mono_ms() - t0 > 10000)
            fail_msg("members' journal cursor stuck below %lld", (long long)head);
        usleep(20 * 1000);
    }
}

static member_t s_m, s_other;
static partner_t s_p;

static void history_lists_movements_newest_first(void **state)
{
    (void)state;
    s_partner(&s_p, 1, 100, 0, "postpaid", NULL);
    s_member(&s_m, &s_p);
    s_member(&s_other, &s_p);
    char code[CODE_LEN];
    /* earn 1000 points (10 EUR at 1 point per cent) */
    json_t *e = s_earn(&s_p, &s_m, s_key(), 100000, "EUR", NULL, code);
    s_ok(e, code);
    char earn_id[LC_ID_STRLEN + 1];
    snprintf(earn_id, sizeof earn_id, "%s", s_str(e, "id"));
    int64_t earned = s_int(e, "points");
    json_decref(e);
    s_earn_ok(&s_p, &s_other, 5000);
    /* a redemption of 300, captured 200 (the authorization shows no row) */
    const char *red = s_authorize_ok(&s_p, &s_m, 300);
    char rid[LC_ID_STRLEN + 1];
    snprintf(rid, sizeof rid, "%s", red);
    json_t *c1 = s_red_op(ST_TYPE_CAPTURE, &s_p, s_key(), rid, json_pack("{s:i}", "points", 200),
                          code);
    s_ok(c1, code);
    json_decref(c1);
    /* refund 50 */
    json_t *f = s_red_op(ST_TYPE_REFUND, &s_p, s_key(), rid, json_pack("{s:i}", "points", 50), code);
    s_ok(f, code);
    json_decref(f);
    /* return 1 EUR of the earn */
    json_t *r = s_return(&s_p, s_key(), earn_id, 100, code);
    s_ok(r, code);
    int64_t returned = earned * 100 / 100000; /* proportional to the earn */
    json_decref(r);
    s_wait_applied();

    json_t *h = s_history(&s_m, NULL, code);
    s_ok(h, code);
    json_t *data = json_object_get(h, "data");
    assert_int_equal(json_array_size(data), 4);
    assert_false(json_is_true(json_object_get(h, "has_more")));
    const char *types[] = {"return", "refund", "redemption", "earn"};
    int64_t points[] = {-returned, 50, -200, earned};
    int64_t prev = INT64_MAX;
    for (size_t i = 0; i < 4; i++) {
        json_t *it = json_array_get(data, i);
        assert_string_equal(s_str(it, "type"), types[i]);
        assert_int_equal(s_int(it, "points"), points[i]);
        assert_string_equal(s_str(it, "partner_id"), s_p.ids);
        assert_true(s_int(it, "seq") < prev);
        prev = s_int(it, "seq");
        assert_non_null(json_object_get(it, "at"));
        assert_null(json_object_get(it, "charity_id"));
    }
    json_decref(h);
    /* the other member sees only its own earn */
    h = s_history(&s_other, NULL, code);
    s_ok(h, code);
    assert_int_equal(json_array_size(json_object_get(h, "data")), 1);
    assert_string_equal(s_str(json_array_get(json_object_get(h, "data"), 0), "type"), "earn");
    json_decref(h);
    assert_int_equal(th_sql_i64(s_db, "SELECT count(*) FROM members.history h WHERE NOT EXISTS "
                                      "(SELECT 1 FROM members.members m WHERE m.id = h.member_id)"),
                     0);
}

static void history_paginates_stably(void **state)
{
    (void)state;
    char code[CODE_LEN];
    json_t *all = s_history(&s_m, NULL, code);
    s_ok(all, code);
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
        s_ok(pg, code);
        json_t *it = json_array_get(json_object_get(pg, "data"), 0);
        assert_non_null(it);
        assert_int_equal(s_int(it, "seq"), s_int(json_array_get(data, i), "seq"));
        assert_int_equal(json_is_true(json_object_get(pg, "has_more")), i + 1 < n);
        if (i % 2)
            snprintf(buf, sizeof buf, "%s", s_str(it, "id"));
        else
            snprintf(buf, sizeof buf, "%lld", (long long)s_int(it, "seq"));
        after = buf;
        json_decref(pg);
    }
    json_decref(all);
    /* bad queries */
    s_refused(s_history(&s_m, "{\"limit\":\"0\"}", code), code, "invalid_request");
    assert_null(s_history(&s_m, "{\"limit\":\"1001\"}", code));
    assert_string_equal(code, "invalid_request");
    assert_null(s_history(&s_m, "{\"starting_after\":\"nope\"}", code));
    assert_string_equal(code, "invalid_request");
    member_t ghost = {.ids = "00000000-0000-7000-8000-0000000000ff"};
    assert_null(s_history(&ghost, NULL, code));
    assert_string_equal(code, "not_found");
}

static void history_survives_members_kill_exactly_once(void **state)
{
    (void)state;
    for (int round = 0; round < 3; round++) {
        s_earn_ok(&s_p, &s_m, 1000 + round);
        th_svc_kill(&s_members, SIGKILL);
        th_svc_restart(&s_members);
        th_client_close(&s_mc);
        th_client_open_at(&s_mc, s_members.endpoint);
        s_earn_ok(&s_p, &s_m, 2000 + round);
    }
    s_wait_applied();
    /* one row per (member, seq), and every member-touching transfer has its row */
    assert_int_equal(th_sql_i64(s_db, "SELECT count(*) FROM (SELECT member_id, seq FROM "
                                      "members.history GROUP BY 1, 2 HAVING count(*) > 1) d"),
                     0);
    assert_int_equal(th_sql_i64(s_db, "SELECT count(*) FROM members.history WHERE member_id = '"
                                      "00000000-0000-0000-0000-000000000000'"),
                     0);
    char code[CODE_LEN];
    json_t *h = s_history(&s_m, NULL, code);
    s_ok(h, code);
    int earns = 0;
    json_t *it;
    size_t i;
    json_array_foreach(json_object_get(h, "data"), i, it)
    {
        if (!strcmp(s_str(it, "type"), "earn"))
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
    return cmocka_run_group_tests(tests, setup_group, teardown_group);
}
