/*
 * test_settlement.c: the settlement service with the real ledger, the real members
 * service, real ZeroMQ sockets and a real PostgreSQL database. Requests are API
 * calls built with lc_api_req_build, as the gateway sends them. Refusals are checked
 * to have written nothing (ledger journal and settlement rows); retries with the
 * same idempotency key to have posted once.
 */
#include "harness.h"
#include "lc_api.h"
#include "lc_err.h"
#include "lc_settlement_msg.h"
#include "lc_time.h"

#include <setjmp.h>
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
    char e0[256];
    snprintf(e0, sizeof e0, "COAL_LEDGER_CONNECT=%s", s_ledger.endpoint);
    const char *env[] = {e0, NULL};
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

/* A field of the member's (or any) ledger account; 0 when the account is unknown. */
static int64_t s_acct(const char *id, const char *field)
{
    char code[CODE_LEN];
    json_t *rep = th_call(&s_lc, LD_TYPE_LOOKUP_ACCOUNTS, json_pack("{s:[s]}", "ids", id), code,
                          sizeof code);
    assert_non_null(rep);
    json_t *a = json_array_get(json_object_get(rep, "accounts"), 0);
    int64_t v = a ? s_int(a, field) : 0;
    json_decref(rep);
    return v;
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

static int64_t s_rows(const char *table)
{
    char sql[128];
    snprintf(sql, sizeof sql, "SELECT count(*) FROM settlement.%s", table);
    return th_sql_i64(s_db, sql);
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

/* Moves an earn's available_at into the past (time travel for pending_days). */
static void s_make_due(const char *earn_id)
{
    char sql[256];
    snprintf(sql, sizeof sql,
             "WITH u AS (UPDATE settlement.earns SET available_at = 0 WHERE id = '%s' "
             "RETURNING 1) SELECT count(*) FROM u",
             earn_id);
    assert_int_equal(th_sql_i64(s_db, sql), 1);
}

/* Waits (up to 5 s) until the account's field reaches want. */
static void s_wait_acct(const char *id, const char *field, int64_t want)
{
    int64_t deadline = lc_mono_ms() + 5000, v = 0;
    while ((v = s_acct(id, field)) != want && lc_mono_ms() < deadline)
        usleep(20 * 1000);
    if (v != want)
        fail_msg("%s of %s is %lld, expected %lld", field, id, (long long)v, (long long)want);
}

/* ---- partners ---------------------------------------------------------------------- */

static void settlement_partners_create_get_list_prepay(void **state)
{
    (void)state;
    char code[CODE_LEN];
    json_t *req = json_pack("{s:s, s:{s:i, s:i}, s:i, s:{s:i, s:i, s:i}, s:s, s:[s]}", "name",
                            "Drugstore", "earn_rate", "points", 1, "per_amount", 200,
                            "pending_days", 0, "tariff", "issue_price_micros", 10000,
                            "redeem_credit_micros", 9000, "fee_bps", 150, "funding", "postpaid",
                            "excluded_categories", "tobacco");
    int64_t accounts_before = th_sql_i64(s_db, "SELECT count(*) FROM ledger.accounts");
    const char *key = s_key();
    json_t *a = s_api(&s_sc, ST_TYPE_CREATE_PARTNER, &s_admin, key, NULL, json_incref(req), code);
    s_ok(a, code);
    assert_string_equal(s_str(a, "funding"), "postpaid");
    assert_string_equal(s_str(a, "name"), "Drugstore");
    assert_int_equal(s_int(json_object_get(a, "earn_rate"), "per_amount"), 200);
    assert_string_equal(json_string_value(json_array_get(json_object_get(a, "excluded_categories"),
                                                         0)),
                        "tobacco");
    assert_null(json_object_get(a, "api_key"));
    /* Three ledger accounts, created once even when the request is retried. */
    assert_int_equal(th_sql_i64(s_db, "SELECT count(*) FROM ledger.accounts"),
                     accounts_before + 3);
    json_t *b = s_api(&s_sc, ST_TYPE_CREATE_PARTNER, &s_admin, key, NULL, req, code);
    s_ok(b, code);
    assert_true(json_equal(a, b));
    assert_int_equal(th_sql_i64(s_db, "SELECT count(*) FROM ledger.accounts"),
                     accounts_before + 3);
    char id[LC_ID_STRLEN + 1];
    snprintf(id, sizeof id, "%s", s_str(a, "id"));

    json_t *g = s_api(&s_sc, ST_TYPE_GET_PARTNER, &s_admin, NULL, json_pack("{s:s}", "id", id),
                      NULL, code);
    s_ok(g, code);
    assert_true(json_equal(a, g));
    json_decref(g);
    s_refused(s_api(&s_sc, ST_TYPE_GET_PARTNER, &s_admin, NULL,
                    json_pack("{s:s}", "id", "0190f0a0-0000-7000-8000-00000000dead"), NULL, code),
              code, LC_API_NOT_FOUND);

    /* Prepaid partner: budget 0, then prepayments add to it. */
    partner_t pp;
    s_partner(&pp, 1, 100, 0, "prepaid", NULL);
    json_t *pre = s_api(&s_sc, ST_TYPE_PREPAY, &s_admin, s_key(),
                        json_pack("{s:s}", "id", pp.ids), json_pack("{s:i}", "points", 500), code);
    s_ok(pre, code);
    assert_int_equal(s_int(pre, "budget_points"), 500);
    assert_int_equal(s_int(pre, "points"), 500);
    json_decref(pre);
    /* Prepaying a postpaid partner: conflict, nothing written. */
    int64_t seq = s_journal_seq();
    s_refused(s_api(&s_sc, ST_TYPE_PREPAY, &s_admin, s_key(), json_pack("{s:s}", "id", id),
                    json_pack("{s:i}", "points", 500), code),
              code, LC_API_CONFLICT);
    assert_int_equal(s_journal_seq(), seq);

    /* The list holds both, in pages. */
    json_t *l = s_api(&s_sc, ST_TYPE_LIST_PARTNERS, &s_admin, NULL, NULL, NULL, code);
    s_ok(l, code);
    json_t *data = json_object_get(l, "data");
    int seen = 0;
    for (size_t i = 0; i < json_array_size(data); i++) {
        const char *pid = s_str(json_array_get(data, i), "id");
        if (!strcmp(pid, id))
            seen++;
        if (!strcmp(pid, pp.ids)) {
            seen++;
            assert_int_equal(s_int(json_array_get(data, i), "budget_points"), 500);
        }
    }
    assert_int_equal(seen, 2);
    json_decref(l);
    json_t *query = json_pack("{s:s}", "limit", "1");
    json_t *body = lc_api_req_build(&s_admin.c, NULL, NULL, query, NULL);
    json_decref(query);
    json_t *page = th_call(&s_sc, ST_TYPE_LIST_PARTNERS, body, code, sizeof code);
    s_ok(page, code);
    assert_int_equal(json_array_size(json_object_get(page, "data")), 1);
    assert_true(json_is_true(json_object_get(page, "has_more")));
    json_decref(page);

    /* Partners may not create partners. */
    s_refused(s_api(&s_sc, ST_TYPE_CREATE_PARTNER, &pp.who, s_key(), NULL, json_object(), code),
              code, LC_API_FORBIDDEN);
    json_decref(a);
    json_decref(b);
}

/* ---- earn -------------------------------------------------------------------------- */

static void settlement_earn_rounds_down_and_excludes_categories(void **state)
{
    (void)state;
    partner_t p;
    member_t m;
    char code[CODE_LEN];
    s_partner(&p, 1, 200, 0, "postpaid", "[\"tobacco\", \"gift_cards\"]");
    s_member(&m, &p);
    json_t *r = s_earn(&p, &m, s_key(), 1999, "EUR", NULL, code);
    s_ok(r, code);
    assert_int_equal(s_int(r, "points"), 9); /* 9.995 rounds down */
    assert_int_equal(s_int(r, "bonus_points"), 0);
    assert_string_equal(s_str(r, "status"), "posted");
    json_decref(r);
    assert_int_equal(s_acct(m.ids, "available"), 9);

    r = s_earn(&p, &m, s_key(), 5000, "EUR",
               "{\"items\": [{\"sku\": \"1\", \"category\": \"tobacco\", \"amount\": 1000},"
               " {\"sku\": \"2\", \"category\": \"food\", \"amount\": 3000}]}",
               code);
    s_ok(r, code);
    assert_int_equal(s_int(r, "points"), 20); /* 4000 eligible */
    json_decref(r);
    assert_int_equal(s_acct(m.ids, "available"), 29);

    /* Everything excluded: recorded with 0 points and no ledger transfer. */
    int64_t seq = s_journal_seq();
    r = s_earn(&p, &m, s_key(), 1000, "EUR",
               "{\"items\": [{\"category\": \"gift_cards\", \"amount\": 1000}],"
               " \"coupon_codes\": [\"SUMMER\"]}",
               code);
    s_ok(r, code);
    assert_int_equal(s_int(r, "points"), 0);
    json_t *rej = json_array_get(json_object_get(r, "coupons_rejected"), 0);
    assert_string_equal(s_str(rej, "code"), "SUMMER");
    assert_string_equal(s_str(rej, "reason"), "unknown_coupon");
    assert_int_equal(json_array_size(json_object_get(r, "coupons_applied")), 0);
    json_decref(r);
    assert_int_equal(s_journal_seq(), seq);
}

static void settlement_earn_bad_input_writes_nothing(void **state)
{
    (void)state;
    partner_t p;
    member_t m;
    char code[CODE_LEN];
    partner_t big;
    s_partner(&p, 1, 200, 0, "postpaid", NULL);
    s_partner(&big, 1000000, 1, 0, "postpaid", NULL);
    s_member(&m, &p);
    int64_t seq = s_journal_seq(), earns = s_rows("earns");
    /* A client may not say how many points it wants. */
    s_refused(s_earn(&p, &m, s_key(), 1999, "EUR", "{\"points\": 100000}", code), code,
              LC_API_INVALID_REQUEST);
    s_refused(s_earn(&p, &m, s_key(), 1999, "USD", NULL, code), code, LC_API_INVALID_REQUEST);
    s_refused(s_earn(&p, &m, s_key(), 1000, "EUR",
                     "{\"items\": [{\"category\": \"food\", \"amount\": 1001}]}", code),
              code, LC_API_INVALID_REQUEST);
    s_refused(s_earn(&p, &m, s_key(), 1000, "EUR", "{\"coupon_codes\": [7]}", code), code,
              LC_API_INVALID_REQUEST);
    /* Overflow of the points is refused, not wrapped. */
    s_refused(s_earn(&big, &m, s_key(), LC_API_POINTS_MAX, "EUR", NULL, code), code,
              LC_API_INVALID_REQUEST);
    /* An unknown card. */
    member_t ghost = m;
    snprintf(ghost.card, sizeof ghost.card, "%s", "0000000000000000");
    s_refused(s_earn(&p, &ghost, s_key(), 1000, "EUR", NULL, code), code, LC_API_NOT_FOUND);
    /* Admins do not earn. */
    s_refused(s_api(&s_sc, ST_TYPE_EARN, &s_admin, s_key(), NULL, json_object(), code), code,
              LC_API_FORBIDDEN);
    assert_int_equal(s_journal_seq(), seq);
    assert_int_equal(s_rows("earns"), earns);
    assert_int_equal(s_acct(m.ids, "credits_posted"), 0);
}

static void settlement_earn_retry_posts_once(void **state)
{
    (void)state;
    partner_t p;
    member_t m;
    char code[CODE_LEN];
    s_partner(&p, 1, 100, 0, "postpaid", NULL);
    s_member(&m, &p);
    const char *key = s_key();
    json_t *a = s_earn(&p, &m, key, 12345, "EUR", NULL, code);
    s_ok(a, code);
    int64_t seq = s_journal_seq();
    json_t *b = s_earn(&p, &m, key, 12345, "EUR", NULL, code);
    s_ok(b, code);
    assert_true(json_equal(a, b));
    assert_int_equal(s_journal_seq(), seq);
    assert_int_equal(s_acct(m.ids, "credits_posted"), 123);
    /* The journal holds exactly one transfer for it. */
    char sql[256];
    snprintf(sql, sizeof sql,
             "SELECT count(*) FROM ledger.journal WHERE entry_type = 2 AND credit_account_id = "
             "'%s'",
             m.ids);
    assert_int_equal(th_sql_i64(s_db, sql), 1);
    json_decref(a);
    json_decref(b);
}

static void settlement_pending_points_mature_then_spendable(void **state)
{
    (void)state;
    partner_t p;
    member_t m;
    char code[CODE_LEN], mc[64];
    s_partner(&p, 1, 10, 14, "postpaid", NULL);
    s_member(&m, &p);
    json_t *r = s_earn(&p, &m, s_key(), 3000, "EUR", NULL, code);
    s_ok(r, code);
    assert_int_equal(s_int(r, "points"), 300);
    assert_string_equal(s_str(r, "status"), "pending");
    int64_t avail_at = 0, now = lc_now_us();
    assert_int_equal(lc_time_parse(s_str(r, "available_at"), &avail_at), LC_OK);
    assert_true(avail_at > now + 13 * 86400 * LC_USEC_PER_SEC);
    char earn[LC_ID_STRLEN + 1];
    snprintf(earn, sizeof earn, "%s", s_str(r, "id"));
    json_decref(r);
    assert_int_equal(s_acct(m.ids, "credits_pending"), 300);
    assert_int_equal(s_acct(m.ids, "available"), 0);
    /* Not spendable: refused before the code is used. */
    s_code(&m, mc, sizeof mc);
    s_refused(s_authorize(&p, &m, s_key(), 250, mc, code), code, LC_API_INSUFFICIENT_POINTS);
    /* The sweep leaves it alone while it is not due. */
    usleep(300 * 1000);
    assert_int_equal(s_acct(m.ids, "credits_pending"), 300);
    /* Fourteen days later (moved into the past), the sweep posts it. */
    s_make_due(earn);
    s_wait_acct(m.ids, "available", 300);
    assert_int_equal(s_acct(m.ids, "credits_pending"), 0);
    char sql[160];
    snprintf(sql, sizeof sql, "SELECT status FROM settlement.earns WHERE id = '%s'", earn);
    assert_int_equal(th_sql_i64(s_db, sql), ST_EARN_POSTED);
    /* The same code was not used by the refusal: it works now. */
    r = s_authorize(&p, &m, s_key(), 250, mc, code);
    s_ok(r, code);
    assert_string_equal(s_str(r, "status"), "authorized");
    json_decref(r);
    assert_int_equal(s_acct(m.ids, "available"), 50);
}

/* ---- redemptions ------------------------------------------------------------------- */

static void settlement_redemption_threshold_and_member_codes(void **state)
{
    (void)state;
    partner_t p;
    member_t m;
    char code[CODE_LEN], mc[64];
    s_partner(&p, 1, 1, 0, "postpaid", NULL);
    s_member(&m, &p);
    assert_int_equal(s_earn_ok(&p, &m, 1000), 1000);
    int64_t seq = s_journal_seq();
    s_code(&m, mc, sizeof mc);
    s_refused(s_authorize(&p, &m, s_key(), 199, mc, code), code, LC_API_BELOW_THRESHOLD);
    s_refused(s_authorize(&p, &m, s_key(), 300, "999999", code), code,
              LC_API_INVALID_MEMBER_CODE);
    assert_int_equal(s_journal_seq(), seq);
    assert_int_equal(s_acct(m.ids, "debits_pending"), 0);
    const char *key = s_key();
    json_t *a = s_authorize(&p, &m, key, 300, mc, code);
    s_ok(a, code);
    assert_string_equal(s_str(a, "status"), "authorized");
    assert_int_equal(s_int(a, "points"), 300);
    assert_int_equal(s_int(json_object_get(a, "value"), "amount"), 300);
    assert_string_equal(s_str(json_object_get(a, "value"), "currency"), "EUR");
    assert_int_equal(s_acct(m.ids, "debits_pending"), 300);
    /* The same request again: the same redemption, held once. */
    json_t *b = s_authorize(&p, &m, key, 300, mc, code);
    s_ok(b, code);
    assert_true(json_equal(a, b));
    assert_int_equal(s_acct(m.ids, "debits_pending"), 300);
    /* The code is used up for any other redemption. */
    s_refused(s_authorize(&p, &m, s_key(), 300, mc, code), code, LC_API_INVALID_MEMBER_CODE);
    assert_int_equal(s_acct(m.ids, "debits_pending"), 300);
    /* More than the member has. */
    s_code(&m, mc, sizeof mc);
    s_refused(s_authorize(&p, &m, s_key(), 800, mc, code), code, LC_API_INSUFFICIENT_POINTS);
    json_decref(a);
    json_decref(b);
}

static void settlement_capture_void_refund(void **state)
{
    (void)state;
    partner_t p, other;
    member_t m;
    char code[CODE_LEN];
    s_partner(&p, 1, 1, 0, "postpaid", NULL);
    s_partner(&other, 1, 1, 0, "postpaid", NULL);
    s_member(&m, &p);
    assert_int_equal(s_earn_ok(&p, &m, 1000), 1000);
    char red[LC_ID_STRLEN + 1];
    snprintf(red, sizeof red, "%s", s_authorize_ok(&p, &m, 300));
    /* Another partner's redemption does not exist for it. */
    s_refused(s_red_op(ST_TYPE_CAPTURE, &other, s_key(), red, NULL, code), code,
              LC_API_NOT_FOUND);
    /* Above the hold: invalid_request. */
    s_refused(s_red_op(ST_TYPE_CAPTURE, &p, s_key(), red, json_pack("{s:i}", "points", 301), code),
              code, LC_API_INVALID_REQUEST);
    /* Partial capture: 200 of 300; the rest is released. */
    const char *ck = s_key();
    json_t *c1 = s_red_op(ST_TYPE_CAPTURE, &p, ck, red, json_pack("{s:i}", "points", 200), code);
    s_ok(c1, code);
    assert_string_equal(s_str(c1, "status"), "captured");
    assert_int_equal(s_int(c1, "points"), 200);
    assert_int_equal(s_acct(m.ids, "balance"), 800);
    assert_int_equal(s_acct(m.ids, "debits_pending"), 0);
    /* The same capture again answers the same; another capture is a conflict. */
    json_t *c2 = s_red_op(ST_TYPE_CAPTURE, &p, ck, red, json_pack("{s:i}", "points", 200), code);
    s_ok(c2, code);
    assert_true(json_equal(c1, c2));
    int64_t seq = s_journal_seq();
    s_refused(s_red_op(ST_TYPE_CAPTURE, &p, s_key(), red, NULL, code), code, LC_API_CONFLICT);
    s_refused(s_red_op(ST_TYPE_VOID, &p, s_key(), red, NULL, code), code, LC_API_CONFLICT);
    assert_int_equal(s_journal_seq(), seq);
    assert_int_equal(s_acct(m.ids, "balance"), 800);
    /* Refunds: at most the captured points in total. */
    json_t *f = s_red_op(ST_TYPE_REFUND, &p, s_key(), red, json_pack("{s:i}", "points", 50), code);
    s_ok(f, code);
    assert_int_equal(s_int(f, "refunded_points"), 50);
    assert_int_equal(s_int(f, "points"), 50);
    json_decref(f);
    assert_int_equal(s_acct(m.ids, "balance"), 850);
    s_refused(s_red_op(ST_TYPE_REFUND, &p, s_key(), red, json_pack("{s:i}", "points", 151), code),
              code, LC_API_CONFLICT);
    f = s_red_op(ST_TYPE_REFUND, &p, s_key(), red, json_pack("{s:i}", "points", 150), code);
    s_ok(f, code);
    assert_int_equal(s_int(f, "refunded_points"), 200);
    json_decref(f);
    assert_int_equal(s_acct(m.ids, "balance"), 1000);
    s_refused(s_red_op(ST_TYPE_REFUND, &p, s_key(), red, json_pack("{s:i}", "points", 1), code),
              code, LC_API_CONFLICT);
    /* The refunded points went back to the original lot (no new lot). */
    char sql[256];
    snprintf(sql, sizeof sql,
             "SELECT count(*) FROM ledger.lots WHERE account_id = '%s' AND remaining > 0", m.ids);
    assert_int_equal(th_sql_i64(s_db, sql), 1);

    /* Void, then no capture. */
    snprintf(red, sizeof red, "%s", s_authorize_ok(&p, &m, 400));
    assert_int_equal(s_acct(m.ids, "available"), 600);
    json_t *v = s_red_op(ST_TYPE_VOID, &p, s_key(), red, NULL, code);
    s_ok(v, code);
    assert_string_equal(s_str(v, "status"), "voided");
    json_decref(v);
    assert_int_equal(s_acct(m.ids, "available"), 1000);
    s_refused(s_red_op(ST_TYPE_CAPTURE, &p, s_key(), red, NULL, code), code, LC_API_CONFLICT);
    s_refused(s_red_op(ST_TYPE_REFUND, &p, s_key(), red, json_pack("{s:i}", "points", 1), code),
              code, LC_API_CONFLICT);
    json_decref(c1);
    json_decref(c2);
}

static void settlement_expired_hold_releases_points(void **state)
{
    (void)state;
    /* Restart settlement with a one-second hold. */
    th_svc_stop(&s_settle);
    s_start_settlement("COAL_SETTLEMENT_HOLD_SECONDS=1");
    partner_t p;
    member_t m;
    char code[CODE_LEN];
    s_partner(&p, 1, 1, 0, "postpaid", NULL);
    s_member(&m, &p);
    assert_int_equal(s_earn_ok(&p, &m, 500), 500);
    char red[LC_ID_STRLEN + 1];
    snprintf(red, sizeof red, "%s", s_authorize_ok(&p, &m, 250));
    assert_int_equal(s_acct(m.ids, "available"), 250);
    s_wait_acct(m.ids, "available", 500); /* the ledger voids the hold on its timeout */
    s_refused(s_red_op(ST_TYPE_CAPTURE, &p, s_key(), red, NULL, code), code, LC_API_CONFLICT);
    s_refused(s_red_op(ST_TYPE_VOID, &p, s_key(), red, NULL, code), code, LC_API_CONFLICT);
    assert_int_equal(s_acct(m.ids, "balance"), 500);
    char sql[160];
    snprintf(sql, sizeof sql, "SELECT status FROM settlement.redemptions WHERE id = '%s'", red);
    assert_int_equal(th_sql_i64(s_db, sql), ST_RED_EXPIRED);
    th_svc_stop(&s_settle);
    s_start_settlement(NULL);
}

/* ---- returns ----------------------------------------------------------------------- */

static void settlement_return_is_proportional_and_bounded(void **state)
{
    (void)state;
    partner_t p, other;
    member_t m;
    char code[CODE_LEN];
    s_partner(&p, 1, 200, 0, "postpaid", NULL);
    s_partner(&other, 1, 200, 0, "postpaid", NULL);
    s_member(&m, &p);
    json_t *e = s_earn(&p, &m, s_key(), 1999, "EUR", NULL, code);
    s_ok(e, code);
    char earn[LC_ID_STRLEN + 1];
    snprintf(earn, sizeof earn, "%s", s_str(e, "id"));
    json_decref(e);
    /* Another partner cannot see the earn. */
    s_refused(s_return(&other, s_key(), earn, 100, code), code, LC_API_NOT_FOUND);
    const char *key = s_key();
    json_t *r = s_return(&p, key, earn, 1000, code);
    s_ok(r, code);
    assert_int_equal(s_int(r, "points_reversed"), 5); /* ceil(1000 * 9 / 1999) */
    assert_string_equal(s_str(r, "earn_id"), earn);
    json_decref(r);
    assert_int_equal(s_acct(m.ids, "balance"), 4);
    /* A retry reverses nothing more. */
    r = s_return(&p, key, earn, 1000, code);
    s_ok(r, code);
    assert_int_equal(s_int(r, "points_reversed"), 5);
    json_decref(r);
    assert_int_equal(s_acct(m.ids, "balance"), 4);
    /* More than what is left of the amount: conflict, nothing written. */
    int64_t seq = s_journal_seq(), rows = s_rows("returns");
    s_refused(s_return(&p, s_key(), earn, 1000, code), code, LC_API_CONFLICT);
    assert_int_equal(s_journal_seq(), seq);
    assert_int_equal(s_rows("returns"), rows);
    /* The rest: capped at what is left (ceil(4.497) = 5, but only 4 remain). */
    r = s_return(&p, s_key(), earn, 999, code);
    s_ok(r, code);
    assert_int_equal(s_int(r, "points_reversed"), 4);
    json_decref(r);
    assert_int_equal(s_acct(m.ids, "balance"), 0);
    s_refused(s_return(&p, s_key(), earn, 1, code), code, LC_API_CONFLICT);
}

static void settlement_return_into_debt_then_earn_repays(void **state)
{
    (void)state;
    partner_t p;
    member_t m;
    char code[CODE_LEN];
    s_partner(&p, 1, 10, 0, "postpaid", NULL);
    s_member(&m, &p);
    json_t *e = s_earn(&p, &m, s_key(), 3000, "EUR", NULL, code); /* 300 points */
    s_ok(e, code);
    char earn[LC_ID_STRLEN + 1];
    snprintf(earn, sizeof earn, "%s", s_str(e, "id"));
    json_decref(e);
    char red[LC_ID_STRLEN + 1];
    snprintf(red, sizeof red, "%s", s_authorize_ok(&p, &m, 250));
    json_t *c = s_red_op(ST_TYPE_CAPTURE, &p, s_key(), red, NULL, code);
    s_ok(c, code);
    json_decref(c);
    assert_int_equal(s_acct(m.ids, "balance"), 50);
    /* Everything comes back: 300 reversed although 250 were spent. */
    json_t *r = s_return(&p, s_key(), earn, 3000, code);
    s_ok(r, code);
    assert_int_equal(s_int(r, "points_reversed"), 300);
    json_decref(r);
    assert_int_equal(s_acct(m.ids, "balance"), -250);
    assert_int_equal(s_acct(m.ids, "debt"), 250);
    /* The next earn pays the debt first. */
    assert_int_equal(s_earn_ok(&p, &m, 1000), 100);
    assert_int_equal(s_acct(m.ids, "balance"), -150);
    assert_int_equal(s_acct(m.ids, "debt"), 150);
    assert_int_equal(s_acct(m.ids, "available"), -150);
}

static void settlement_return_of_pending_earn_rehold(void **state)
{
    (void)state;
    partner_t p;
    member_t m;
    char code[CODE_LEN];
    s_partner(&p, 1, 10, 7, "postpaid", NULL);
    s_member(&m, &p);
    json_t *e = s_earn(&p, &m, s_key(), 1000, "EUR", NULL, code); /* 100 pending */
    s_ok(e, code);
    char earn[LC_ID_STRLEN + 1];
    snprintf(earn, sizeof earn, "%s", s_str(e, "id"));
    json_decref(e);
    json_t *r = s_return(&p, s_key(), earn, 300, code);
    s_ok(r, code);
    assert_int_equal(s_int(r, "points_reversed"), 30);
    json_decref(r);
    assert_int_equal(s_acct(m.ids, "credits_pending"), 70);
    assert_int_equal(s_acct(m.ids, "available"), 0);
    s_make_due(earn);
    s_wait_acct(m.ids, "available", 70);
    assert_int_equal(s_acct(m.ids, "credits_pending"), 0);
    /* After maturing, returns reverse the posted points. */
    r = s_return(&p, s_key(), earn, 700, code);
    s_ok(r, code);
    assert_int_equal(s_int(r, "points_reversed"), 70);
    json_decref(r);
    assert_int_equal(s_acct(m.ids, "balance"), 0);
}

/* ---- prepaid partners, grants, frozen members --------------------------------------- */

static void settlement_prepaid_budget_is_enforced(void **state)
{
    (void)state;
    partner_t p;
    member_t m;
    char code[CODE_LEN];
    s_partner(&p, 1, 10, 0, "prepaid", NULL);
    s_member(&m, &p);
    /* No budget yet. */
    s_refused(s_earn(&p, &m, s_key(), 100, "EUR", NULL, code), code, LC_API_BUDGET_EXHAUSTED);
    json_t *pre = s_api(&s_sc, ST_TYPE_PREPAY, &s_admin, s_key(),
                        json_pack("{s:s}", "id", p.ids), json_pack("{s:i}", "points", 100), code);
    s_ok(pre, code);
    json_decref(pre);
    assert_int_equal(s_earn_ok(&p, &m, 1000), 100);
    const char *key = s_key();
    s_refused(s_earn(&p, &m, key, 10, "EUR", NULL, code), code, LC_API_BUDGET_EXHAUSTED);
    /* The same request retried gets the same answer. */
    s_refused(s_earn(&p, &m, key, 10, "EUR", NULL, code), code, LC_API_BUDGET_EXHAUSTED);
    s_refused(s_api(&s_sc, ST_TYPE_GRANT, &p.who, s_key(), NULL,
                    json_pack("{s:s, s:i, s:s}", "card_number", m.card, "points", 1, "reason",
                              "goodwill"),
                    code),
              code, LC_API_BUDGET_EXHAUSTED);
    assert_int_equal(s_acct(m.ids, "balance"), 100);
    /* More budget: earning works again with a new request. */
    pre = s_api(&s_sc, ST_TYPE_PREPAY, &s_admin, s_key(), json_pack("{s:s}", "id", p.ids),
                json_pack("{s:i}", "points", 50), code);
    s_ok(pre, code);
    assert_int_equal(s_int(pre, "budget_points"), 50);
    json_decref(pre);
    assert_int_equal(s_earn_ok(&p, &m, 100), 10);
}

static void settlement_grant_and_frozen_member(void **state)
{
    (void)state;
    partner_t p;
    member_t m;
    char code[CODE_LEN];
    s_partner(&p, 1, 10, 0, "postpaid", NULL);
    s_member(&m, &p);
    const char *key = s_key();
    json_t *grant = json_pack("{s:s, s:i, s:s}", "card_number", m.card, "points", 75, "reason",
                              "survey");
    json_t *g = s_api(&s_sc, ST_TYPE_GRANT, &p.who, key, NULL, json_incref(grant), code);
    s_ok(g, code);
    assert_int_equal(s_int(g, "points"), 75);
    json_t *g2 = s_api(&s_sc, ST_TYPE_GRANT, &p.who, key, NULL, grant, code);
    s_ok(g2, code);
    assert_true(json_equal(g, g2));
    json_decref(g);
    json_decref(g2);
    assert_int_equal(s_acct(m.ids, "balance"), 75);
    s_refused(s_api(&s_sc, ST_TYPE_GRANT, &p.who, s_key(), NULL,
                    json_pack("{s:s, s:i, s:s}", "card_number", m.card, "points", 75, "reason",
                              "lottery"),
                    code),
              code, LC_API_INVALID_REQUEST);
    /* A frozen member neither earns nor gets grants. */
    json_t *f = s_api(&s_mc, "members.freeze", &s_admin, s_key(), json_pack("{s:s}", "id", m.ids),
                      json_pack("{s:s}", "reason", "fraud check"), code);
    s_ok(f, code);
    json_decref(f);
    int64_t seq = s_journal_seq();
    s_refused(s_earn(&p, &m, s_key(), 1000, "EUR", NULL, code), code, LC_API_MEMBER_FROZEN);
    s_refused(s_api(&s_sc, ST_TYPE_GRANT, &p.who, s_key(), NULL,
                    json_pack("{s:s, s:i, s:s}", "card_number", m.card, "points", 5, "reason",
                              "goodwill"),
                    code),
              code, LC_API_MEMBER_FROZEN);
    assert_int_equal(s_journal_seq(), seq);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(settlement_partners_create_get_list_prepay),
        cmocka_unit_test(settlement_earn_rounds_down_and_excludes_categories),
        cmocka_unit_test(settlement_earn_bad_input_writes_nothing),
        cmocka_unit_test(settlement_earn_retry_posts_once),
        cmocka_unit_test(settlement_pending_points_mature_then_spendable),
        cmocka_unit_test(settlement_redemption_threshold_and_member_codes),
        cmocka_unit_test(settlement_capture_void_refund),
        cmocka_unit_test(settlement_expired_hold_releases_points),
        cmocka_unit_test(settlement_return_is_proportional_and_bounded),
        cmocka_unit_test(settlement_return_into_debt_then_earn_repays),
        cmocka_unit_test(settlement_return_of_pending_earn_rehold),
        cmocka_unit_test(settlement_prepaid_budget_is_enforced),
        cmocka_unit_test(settlement_grant_and_frozen_member),
    };
    return cmocka_run_group_tests(tests, setup_group, teardown_group);
}
