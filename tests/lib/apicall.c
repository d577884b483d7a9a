/*
 * apicall.c: API calls to settlement and members for integration tests (see
 * apicall.h). Failures here fail the calling test through cmocka.
 */
#include "apicall.h"
#include "lc_err.h"
#include "lc_ledger_msg.h"
#include "lc_settlement_msg.h"
#include "lc_time.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

/* The first key id ta_who_init hands out: deterministic test ids (th_id), distinct
 * within a process. */
#define TA_FIRST_KEY_ID 0x5000
/* Room for settlement's connect settings plus the extras a test gives it. */
#define TA_ENV_MAX 12

static uint64_t s_next_key_id = TA_FIRST_KEY_ID;

/* ---- the cluster ------------------------------------------------------------------ */

/* Starts settlement connected to the cluster's ledger and members, with the extra
 * settings of settlement_env (NULL-terminated, may be NULL). */
static void s_settlement_start(ta_cluster_t *k, const char *const *settlement_env)
{
    char ledger[256], journal[256], members[256];
    snprintf(ledger, sizeof ledger, "COAL_LEDGER_CONNECT=%s", k->ledger.endpoint);
    snprintf(journal, sizeof journal, "COAL_LEDGER_PUBLISH=%s", k->ledger.publish);
    snprintf(members, sizeof members, "COAL_MEMBERS_CONNECT=%s", k->members.endpoint);
    const char *env[TA_ENV_MAX] = {ledger, journal, members};
    size_t n = 3;
    for (size_t i = 0; settlement_env && settlement_env[i]; i++) {
        assert_true(n + 1 < TA_ENV_MAX);
        env[n++] = settlement_env[i];
    }
    env[n] = NULL;
    th_svc_start(&k->settle, "settlement", k->db, env);
}

void ta_cluster_start(ta_cluster_t *k, const char *const *settlement_env)
{
    memset(k, 0, sizeof *k);
    th_db_create(k->db, sizeof k->db);
    th_ledger_start(&k->ledger, k->db);
    char ledger[256], journal[256];
    snprintf(ledger, sizeof ledger, "COAL_LEDGER_CONNECT=%s", k->ledger.endpoint);
    snprintf(journal, sizeof journal, "COAL_LEDGER_PUBLISH=%s", k->ledger.publish);
    const char *const members_env[] = {ledger, journal, NULL};
    th_svc_start(&k->members, "members", k->db, members_env);
    s_settlement_start(k, settlement_env);
    th_client_open_at(&k->sc, k->settle.endpoint);
    th_client_open_at(&k->mc, k->members.endpoint);
    th_client_open(&k->lc, &k->ledger);
    ta_who_init(&k->admin, LC_ROLE_ADMIN, NULL);
    ta_who_init(&k->app, LC_ROLE_APP, NULL);
}

void ta_settlement_restart(ta_cluster_t *k, const char *const *settlement_env)
{
    th_svc_stop(&k->settle);
    s_settlement_start(k, settlement_env);
}

void ta_cluster_stop(ta_cluster_t *k)
{
    /* Whatever happened, the books balance and the journal verifies. */
    char code[TA_CODE_LEN];
    json_t *tb = th_call(&k->lc, LD_TYPE_TRIAL_BALANCE, json_object(), code, sizeof code);
    assert_non_null(tb);
    assert_int_equal(ta_int(tb, "sum"), 0);
    json_decref(tb);
    json_t *v = th_call(&k->lc, LD_TYPE_VERIFY, json_object(), code, sizeof code);
    assert_non_null(v);
    assert_true(json_is_true(json_object_get(v, "ok")));
    json_decref(v);
    th_client_close(&k->sc);
    th_client_close(&k->mc);
    th_client_close(&k->lc);
    th_svc_stop(&k->settle);
    th_svc_stop(&k->members);
    th_ledger_stop(&k->ledger);
}

/* The group ta_run_group is running: its fixtures take no arguments but state. */
static ta_cluster_t *s_group;
static const char *const *s_group_env;

static int s_group_setup(void **state)
{
    (void)state;
    ta_cluster_start(s_group, s_group_env);
    return 0;
}

static int s_group_teardown(void **state)
{
    (void)state;
    ta_cluster_stop(s_group);
    return 0;
}

int ta_run_group(const char *name, const struct CMUnitTest *tests, size_t count, ta_cluster_t *k,
                 const char *const *settlement_env)
{
    s_group = k;
    s_group_env = settlement_env;
    int failed = _cmocka_run_group_tests(name, tests, count, s_group_setup, s_group_teardown);
    s_group = NULL;
    s_group_env = NULL;
    return failed;
}

/* ---- calls ------------------------------------------------------------------------ */

void ta_who_init(ta_who_t *w, int role, const lc_id_t *partner)
{
    memset(w, 0, sizeof *w);
    w->c.role = role;
    w->c.key_id = th_id(s_next_key_id++);
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

const char *ta_key(void)
{
    static char buf[8][32];
    static unsigned n;
    char *b = buf[n++ % 8];
    snprintf(b, sizeof buf[0], "key-%u", n);
    return b;
}

json_t *ta_call_query(th_client_t *c, const char *type, const ta_who_t *w, const char *key,
                      json_t *params, json_t *query, json_t *request, char *code)
{
    json_t *body = lc_api_req_build(&w->c, key, params, query, request);
    json_decref(params);
    json_decref(query);
    json_decref(request);
    assert_non_null(body);
    return th_call(c, type, body, code, TA_CODE_LEN);
}

json_t *ta_call(th_client_t *c, const char *type, const ta_who_t *w, const char *key,
                json_t *params, json_t *request, char *code)
{
    return ta_call_query(c, type, w, key, params, NULL, request, code);
}

/* ---- replies ---------------------------------------------------------------------- */

void ta_ok(const json_t *reply, const char *code)
{
    if (!reply)
        fail_msg("expected ok, got %s", code);
}

void ta_refused(const json_t *reply, const char *code, const char *want)
{
    if (reply) {
        char *t = json_dumps(reply, 0);
        fail_msg("expected %s, got ok: %s", want, t ? t : "?");
    }
    assert_string_equal(code, want);
}

int64_t ta_int(const json_t *o, const char *k)
{
    return json_integer_value(json_object_get(o, k));
}

const char *ta_str(const json_t *o, const char *k)
{
    const char *s = json_string_value(json_object_get(o, k));
    if (!s)
        fail_msg("no string field %s", k);
    return s;
}

int64_t ta_time(const json_t *o, const char *k)
{
    int64_t t = 0;
    assert_int_equal(lc_time_parse(ta_str(o, k), &t), LC_OK);
    return t;
}

/* ---- partners and members ----------------------------------------------------------- */

void ta_partner(ta_cluster_t *k, ta_partner_t *p, int64_t rp, int64_t per, int pending_days,
                const char *funding, const char *excluded)
{
    json_t *req = json_pack("{s:s, s:{s:I, s:I}, s:I, s:{s:I, s:I, s:I}, s:s}", "name", "Shop",
                            "earn_rate", "points", (json_int_t)rp, "per_amount", (json_int_t)per,
                            "pending_days", (json_int_t)pending_days, "tariff",
                            "issue_price_micros", (json_int_t)10000, "redeem_credit_micros",
                            (json_int_t)9000, "fee_bps", (json_int_t)150, "funding", funding);
    assert_non_null(req);
    if (excluded) {
        json_t *x = json_loads(excluded, 0, NULL);
        assert_non_null(x);
        json_object_set_new(req, "excluded_categories", x);
    }
    char code[TA_CODE_LEN];
    json_t *rep = ta_call(&k->sc, ST_TYPE_CREATE_PARTNER, &k->admin, ta_key(), NULL, req, code);
    ta_ok(rep, code);
    snprintf(p->ids, sizeof p->ids, "%s", ta_str(rep, "id"));
    assert_int_equal(lc_id_parse(p->ids, &p->id), LC_OK);
    ta_who_init(&p->who, LC_ROLE_PARTNER, &p->id);
    json_decref(rep);
}

void ta_member(ta_cluster_t *k, ta_member_t *m, const ta_partner_t *p)
{
    char code[TA_CODE_LEN];
    json_t *rep = ta_call(&k->mc, "members.enroll", &p->who, ta_key(), NULL, json_object(), code);
    ta_ok(rep, code);
    snprintf(m->ids, sizeof m->ids, "%s", ta_str(rep, "id"));
    snprintf(m->card, sizeof m->card, "%s", ta_str(rep, "card_number"));
    json_decref(rep);
}

void ta_member_code(ta_cluster_t *k, const ta_member_t *m, char *out, size_t len)
{
    char code[TA_CODE_LEN];
    json_t *rep = ta_call(&k->mc, "members.issue_code", &k->app, ta_key(),
                          json_pack("{s:s}", "id", m->ids), json_object(), code);
    ta_ok(rep, code);
    snprintf(out, len, "%s", ta_str(rep, "code"));
    json_decref(rep);
}

/* ---- settlement --------------------------------------------------------------------- */

json_t *ta_earn_at(th_client_t *sc, const ta_partner_t *p, const ta_member_t *m, const char *key,
                   int64_t amount, const char *currency, const char *extra, char *code)
{
    json_t *req = json_pack("{s:s, s:s, s:{s:I, s:s}}", "card_number", m->card, "receipt_id", key,
                            "amount", "amount", (json_int_t)amount, "currency", currency);
    assert_non_null(req);
    if (extra) {
        json_t *x = json_loads(extra, 0, NULL);
        assert_non_null(x);
        json_object_update(req, x);
        json_decref(x);
    }
    return ta_call(sc, ST_TYPE_EARN, &p->who, key, NULL, req, code);
}

json_t *ta_earn(ta_cluster_t *k, const ta_partner_t *p, const ta_member_t *m, const char *key,
                int64_t amount, const char *currency, const char *extra, char *code)
{
    return ta_earn_at(&k->sc, p, m, key, amount, currency, extra, code);
}

int64_t ta_earn_ok(ta_cluster_t *k, const ta_partner_t *p, const ta_member_t *m, int64_t amount)
{
    char code[TA_CODE_LEN];
    json_t *rep = ta_earn(k, p, m, ta_key(), amount, "EUR", NULL, code);
    ta_ok(rep, code);
    int64_t points = ta_int(rep, "points");
    json_decref(rep);
    return points;
}

json_t *ta_authorize(ta_cluster_t *k, const ta_partner_t *p, const ta_member_t *m, const char *key,
                     int64_t points, const char *member_code, char *code)
{
    return ta_call(&k->sc, ST_TYPE_AUTHORIZE, &p->who, key, NULL,
                   json_pack("{s:s, s:I, s:s, s:s}", "card_number", m->card, "points",
                             (json_int_t)points, "member_code", member_code, "receipt_id", key),
                   code);
}

void ta_authorize_ok(ta_cluster_t *k, const ta_partner_t *p, const ta_member_t *m, int64_t points,
                     char id[LC_ID_STRLEN + 1])
{
    char mc[64], code[TA_CODE_LEN];
    ta_member_code(k, m, mc, sizeof mc);
    json_t *rep = ta_authorize(k, p, m, ta_key(), points, mc, code);
    ta_ok(rep, code);
    snprintf(id, LC_ID_STRLEN + 1, "%s", ta_str(rep, "id"));
    json_decref(rep);
}

json_t *ta_redemption_op(ta_cluster_t *k, const char *type, const ta_partner_t *p, const char *key,
                         const char *id, json_t *request, char *code)
{
    return ta_call(&k->sc, type, &p->who, key, json_pack("{s:s}", "id", id),
                   request ? request : json_object(), code);
}

json_t *ta_return(ta_cluster_t *k, const ta_partner_t *p, const char *key, const char *earn_id,
                  int64_t cents, char *code)
{
    return ta_call(&k->sc, ST_TYPE_RETURN, &p->who, key, NULL,
                   json_pack("{s:s, s:{s:I, s:s}}", "earn_id", earn_id, "amount", "amount",
                             (json_int_t)cents, "currency", "EUR"),
                   code);
}

int64_t ta_settlement_rows(ta_cluster_t *k, const char *table)
{
    char sql[128];
    snprintf(sql, sizeof sql, "SELECT count(*) FROM settlement.%s", table);
    return th_sql_i64(k->db, sql);
}

/* ---- ledger -------------------------------------------------------------------------- */

int64_t ta_acct(ta_cluster_t *k, const char *id, const char *field)
{
    char code[TA_CODE_LEN];
    json_t *rep = th_call(&k->lc, LD_TYPE_LOOKUP_ACCOUNTS, json_pack("{s:[s]}", "ids", id), code,
                          sizeof code);
    if (!rep)
        fail_msg("lookup_accounts %s: %s", id, code);
    json_t *a = json_array_get(json_object_get(rep, "accounts"), 0);
    int64_t v = a ? ta_int(a, field) : 0;
    json_decref(rep);
    return v;
}

int64_t ta_journal_seq(ta_cluster_t *k)
{
    char code[TA_CODE_LEN];
    json_t *rep = th_call(&k->lc, LD_TYPE_TRIAL_BALANCE, json_object(), code, sizeof code);
    if (!rep)
        fail_msg("trial_balance: %s", code);
    int64_t v = ta_int(rep, "journal_seq");
    json_decref(rep);
    return v;
}
