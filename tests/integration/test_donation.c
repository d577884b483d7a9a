/*
 * test_donation.c: the donation service with the real ledger, members and settlement
 * (which makes the matching partner), real ZeroMQ and PostgreSQL. Requests are API
 * calls built with lc_api_req_build, as the gateway sends them. Covered here: a crash
 * between the cap reservation and the ledger, or between the ledger and the row, is
 * repaired by the retry (or the sweep) with the same ids, booking once; a receipt key
 * rotation keeps old receipts verifiable.
 */
#include "dn_receipt.h"
#include "harness.h"
#include "lc_api.h"
#include "lc_donation_msg.h"
#include "lc_err.h"
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

static char s_db[64], s_secrets[256];
static th_ledger_t s_ledger;
static th_svc_t s_members, s_settle, s_don;
static th_client_t s_dc, s_sc, s_mc, s_lc;

typedef struct who {
    lc_api_caller_t c;
    char owner[80];
} who_t;

static who_t s_admin, s_app, s_partner;
static char s_partner_id[40], s_member[40], s_charity[40], s_campaign[40];

static void s_who(who_t *w, int role, const lc_id_t *partner, uint64_t n)
{
    memset(w, 0, sizeof *w);
    w->c.role = role;
    w->c.key_id = th_id(n);
    char t[LC_ID_STRLEN + 1];
    lc_id_format(partner ? partner : &w->c.key_id, t);
    snprintf(w->owner, sizeof w->owner, "%s:%s", partner ? "partner" : "key", t);
    if (partner)
        w->c.partner_id = *partner;
    w->c.owner = w->owner;
}

/* Calls type as w with key; params and request are stolen. */
static json_t *s_api(th_client_t *c, const char *type, const who_t *w, const char *key,
                     json_t *params, json_t *request, char *code)
{
    json_t *body = lc_api_req_build(&w->c, key, params, NULL, request);
    json_decref(params);
    json_decref(request);
    return th_call(c, type, body, code, CODE_LEN);
}

static int64_t s_sql(const char *fmt, ...)
{
    char sql[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(sql, sizeof sql, fmt, ap);
    va_end(ap);
    return th_sql_i64(s_db, sql);
}

static void s_start_donation(void)
{
    char e0[256], e1[300];
    snprintf(e0, sizeof e0, "COAL_LEDGER_CONNECT=%s", s_ledger.endpoint);
    snprintf(e1, sizeof e1, "COAL_DONATION_SECRETS_DIR=%s", s_secrets);
    const char *env[] = {e0, e1, "COAL_DONATION_SWEEP_INTERVAL_MS=100", NULL};
    th_svc_start(&s_don, "donation", s_db, env);
}

static int setup_group(void **state)
{
    (void)state;
    th_db_create(s_db, sizeof s_db);
    const char *var = getenv("COAL_VAR");
    snprintf(s_secrets, sizeof s_secrets, "%s/%s.dn-secrets", var ? var : "/tmp", s_db);
    th_ledger_start(&s_ledger, s_db);
    char e0[256], e1[256];
    snprintf(e0, sizeof e0, "COAL_LEDGER_CONNECT=%s", s_ledger.endpoint);
    const char *env[] = {e0, NULL, NULL};
    th_svc_start(&s_members, "members", s_db, env);
    snprintf(e1, sizeof e1, "COAL_MEMBERS_CONNECT=%s", s_members.endpoint);
    env[1] = e1;
    th_svc_start(&s_settle, "settlement", s_db, env);
    s_start_donation();
    th_client_open_at(&s_dc, s_don.endpoint);
    th_client_open_at(&s_sc, s_settle.endpoint);
    th_client_open_at(&s_mc, s_members.endpoint);
    th_client_open(&s_lc, &s_ledger);
    s_who(&s_admin, LC_ROLE_ADMIN, NULL, 0x7001);
    s_who(&s_app, LC_ROLE_APP, NULL, 0x7002);

    /* a partner (settlement), a member with 10000 points, a charity and a campaign
     * matched one for one up to 1000 */
    char code[CODE_LEN];
    json_t *p = s_api(&s_sc, "settlement.create_partner", &s_admin, "p-1", NULL,
                      json_pack("{s:s, s:{s:i, s:i}, s:{s:i, s:i, s:i}, s:s}", "name", "P",
                                "earn_rate", "points", 1, "per_amount", 1, "tariff",
                                "issue_price_micros", 1, "redeem_credit_micros", 1, "fee_bps", 0,
                                "funding", "postpaid"),
                      code);
    assert_non_null(p);
    snprintf(s_partner_id, sizeof s_partner_id, "%s",
             json_string_value(json_object_get(p, "id")));
    lc_id_t pid;
    lc_id_parse(s_partner_id, &pid);
    s_who(&s_partner, LC_ROLE_PARTNER, &pid, 0x7003);
    json_decref(p);
    json_t *m = s_api(&s_mc, "members.enroll", &s_partner, "m-1", NULL, json_object(), code);
    assert_non_null(m);
    snprintf(s_member, sizeof s_member, "%s", json_string_value(json_object_get(m, "id")));
    json_t *earn = s_api(&s_sc, "settlement.earn", &s_partner, "e-1", NULL,
                         json_pack("{s:O, s:s, s:{s:i, s:s}}", "card_number",
                                   json_object_get(m, "card_number"), "receipt_id", "r-1",
                                   "amount", "amount", 10000, "currency", "EUR"),
                         code);
    assert_non_null(earn);
    json_decref(earn);
    json_decref(m);
    json_t *ch = s_api(&s_dc, DN_TYPE_CREATE_CHARITY, &s_admin, "c-1", NULL,
                       json_pack("{s:s, s:s}", "name", "C", "registration_no", "R-1"), code);
    assert_non_null(ch);
    snprintf(s_charity, sizeof s_charity, "%s", json_string_value(json_object_get(ch, "id")));
    json_decref(ch);
    char a[LC_RFC3339_MAX], b[LC_RFC3339_MAX];
    lc_time_format(lc_now_us() - 3600 * LC_USEC_PER_SEC, a);
    lc_time_format(lc_now_us() + 3600 * LC_USEC_PER_SEC, b);
    json_t *k = s_api(&s_dc, DN_TYPE_CREATE_CAMPAIGN, &s_admin, "k-1", NULL,
                      json_pack("{s:s, s:s, s:i, s:s, s:s, s:{s:s, s:i, s:i}}", "charity_id",
                                s_charity, "name", "K", "goal_points", 5000, "starts_at", a,
                                "ends_at", b, "match", "partner_id", s_partner_id, "ratio_bps",
                                10000, "cap_points", 1000),
                      code);
    assert_non_null(k);
    snprintf(s_campaign, sizeof s_campaign, "%s", json_string_value(json_object_get(k, "id")));
    json_decref(k);
    return 0;
}

static int teardown_group(void **state)
{
    (void)state;
    char code[CODE_LEN];
    json_t *v = th_call(&s_lc, LD_TYPE_VERIFY, json_object(), code, sizeof code);
    assert_non_null(v);
    assert_true(json_is_true(json_object_get(v, "ok")));
    json_decref(v);
    th_client_close(&s_dc);
    th_client_close(&s_sc);
    th_client_close(&s_mc);
    th_client_close(&s_lc);
    th_svc_stop(&s_don);
    th_svc_stop(&s_settle);
    th_svc_stop(&s_members);
    th_ledger_stop(&s_ledger);
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf %s", s_secrets);
    assert_int_equal(system(cmd), 0);
    return 0;
}

/* The donation id the service derives for (s_app, key). */
static void s_donation_id(const char *key, lc_id_t *id)
{
    lc_api_req_t req = {.caller = s_app.c, .idempotency_key = (char *)key};
    assert_int_equal(lc_api_derive(&req, "donation", id), LC_OK);
}

/* Writes what a crash right after the reservation leaves: a pending row of points
 * (matched m) on the campaign, its counters moved. */
static void s_pending(const lc_id_t *id, int64_t points, int64_t m)
{
    lc_id_t mt, xt;
    lc_id_derive(id, "member", &mt);
    lc_id_derive(id, "match", &xt);
    char ids[3][LC_ID_STRLEN + 1];
    lc_id_format(id, ids[0]);
    lc_id_format(&mt, ids[1]);
    lc_id_format(&xt, ids[2]);
    assert_int_equal(
        s_sql("WITH i AS (INSERT INTO donation.donations (id, member_id, charity_id, "
              "campaign_id, pool, points, matched_points, match_partner_id, value_cents, source, "
              "member_transfer, match_transfer, status, created_at) VALUES ('%s', '%s', '%s', "
              "'%s', false, %lld, %lld, '%s', %lld, 1, '%s', '%s', 1, 1) RETURNING 1), "
              "u AS (UPDATE donation.campaigns SET raised_points = raised_points + %lld, "
              "matched_points = matched_points + %lld WHERE id = '%s' RETURNING 1) "
              "SELECT (SELECT count(*) FROM i) + (SELECT count(*) FROM u)",
              ids[0], s_member, s_charity, s_campaign, (long long)points, (long long)m,
              s_partner_id, (long long)points, ids[1], ids[2], (long long)points, (long long)m,
              s_campaign),
        2);
}

static json_t *s_donate(const char *key, int64_t points, char *code)
{
    return s_api(&s_dc, DN_TYPE_DONATE, &s_app, key, NULL,
                 json_pack("{s:s, s:s, s:I}", "member_id", s_member, "campaign_id", s_campaign,
                           "points", (json_int_t)points),
                 code);
}

static int64_t s_matched(void)
{
    return s_sql("SELECT matched_points FROM donation.campaigns WHERE id = '%s'", s_campaign);
}

static void donation_retry_finishes_a_reserved_donation_once(void **state)
{
    (void)state;
    char code[CODE_LEN];
    lc_id_t id;
    s_donation_id("crash-1", &id);
    s_pending(&id, 400, 400); /* crashed before the ledger */
    int64_t matched = s_matched();
    json_t *d = s_donate("crash-1", 400, code);
    assert_non_null(d);
    assert_int_equal(json_integer_value(json_object_get(d, "matched_points")), 400);
    json_decref(d);
    assert_int_equal(s_matched(), matched); /* reserved once, not again */
    char ids[LC_ID_STRLEN + 1];
    lc_id_format(&id, ids);
    assert_int_equal(s_sql("SELECT status FROM donation.donations WHERE id = '%s'", ids), 2);
    assert_int_equal(s_sql("SELECT count(*) FROM ledger.journal WHERE user_data = '%s'", ids), 2);
    /* and again: the same answer, nothing more booked */
    d = s_donate("crash-1", 400, code);
    assert_non_null(d);
    json_decref(d);
    assert_int_equal(s_sql("SELECT count(*) FROM ledger.journal WHERE user_data = '%s'", ids), 2);
}

static void donation_retry_after_the_ledger_wrote_converges(void **state)
{
    (void)state;
    char code[CODE_LEN];
    lc_id_t id, mt, xt, charity_id, acct, iss, pid;
    s_donation_id("crash-2", &id);
    s_pending(&id, 300, 300);
    /* the ledger took the chain, then the service died */
    lc_id_derive(&id, "member", &mt);
    lc_id_derive(&id, "match", &xt);
    lc_id_parse(s_charity, &charity_id);
    dn_charity_account(&charity_id, &acct);
    lc_id_parse(s_partner_id, &pid);
    lc_id_derive(&pid, "issuance", &iss);
    char t[5][LC_ID_STRLEN + 1];
    lc_id_format(&mt, t[0]);
    lc_id_format(&acct, t[1]);
    lc_id_format(&id, t[2]);
    lc_id_format(&xt, t[3]);
    lc_id_format(&iss, t[4]);
    json_t *req = json_pack("{s:[{s:s, s:s, s:s, s:i, s:[s], s:i, s:s}, "
                            "{s:s, s:s, s:s, s:i, s:i, s:s}]}",
                            "transfers", "id", t[0], "debit_account_id", s_member,
                            "credit_account_id", t[1], "amount", 300, "flags", "linked", "code",
                            DN_CODE_DONATION, "user_data", t[2], "id", t[3], "debit_account_id",
                            t[4], "credit_account_id", t[1], "amount", 300, "code",
                            DN_CODE_MATCH, "user_data", t[2]);
    json_t *rep = th_call(&s_lc, LD_TYPE_CREATE_TRANSFERS, req, code, sizeof code);
    assert_non_null(rep);
    json_decref(rep);
    json_t *d = s_donate("crash-2", 300, code);
    assert_non_null(d);
    assert_int_equal(json_integer_value(json_object_get(d, "matched_points")), 300);
    json_decref(d);
    assert_int_equal(s_sql("SELECT count(*) FROM ledger.journal WHERE user_data = '%s'", t[2]),
                     2);
}

static void donation_sweep_finishes_abandoned_donations(void **state)
{
    (void)state;
    lc_id_t id;
    s_donation_id("abandoned-1", &id);
    s_pending(&id, 200, 200); /* the matches so far reach the cap of 1000 exactly */
    char ids[LC_ID_STRLEN + 1];
    lc_id_format(&id, ids);
    int64_t deadline = lc_mono_ms() + 10000;
    while (lc_mono_ms() < deadline &&
           s_sql("SELECT status FROM donation.donations WHERE id = '%s'", ids) == 1)
        usleep(50 * 1000);
    assert_int_equal(s_sql("SELECT status FROM donation.donations WHERE id = '%s'", ids), 2);
    assert_int_equal(s_sql("SELECT count(*) FROM donation.receipts WHERE donation_id = '%s'", ids),
                     1);
    assert_int_equal(s_matched(), 900);
    /* the cap is used up: the next donation is not matched */
    char code[CODE_LEN];
    json_t *d = s_donate("after-cap", 500, code);
    assert_non_null(d);
    assert_int_equal(json_integer_value(json_object_get(d, "matched_points")), 100);
    json_decref(d);
    d = s_donate("after-cap-2", 500, code);
    assert_non_null(d);
    assert_int_equal(json_integer_value(json_object_get(d, "matched_points")), 0);
    json_decref(d);
    assert_int_equal(s_matched(), 1000);
}

static void donation_key_rotation_keeps_old_receipts_verifiable(void **state)
{
    (void)state;
    char code[CODE_LEN];
    json_t *old = s_donate("rot-1", 200, code);
    assert_non_null(old);
    /* rotate with the service's own binary, then restart it */
    char cmd[800];
    snprintf(cmd, sizeof cmd,
             "COAL_DONATION_SECRETS_DIR=%s %s/donation --rotate-receipt-key 2>/dev/null",
             s_secrets, getenv("COAL_BIN_DIR") ? getenv("COAL_BIN_DIR") : "build/release/bin");
    assert_int_equal(system(cmd), 0);
    th_svc_stop(&s_don);
    th_client_close(&s_dc);
    s_start_donation();
    th_client_open_at(&s_dc, s_don.endpoint);
    json_t *keys = th_call(&s_dc, DN_TYPE_RECEIPT_KEYS, json_object(), code, sizeof code);
    assert_non_null(keys);
    json_t *ks = json_object_get(keys, "keys");
    assert_int_equal(json_array_size(ks), 2);
    const char *old_kid = json_string_value(json_object_get(json_object_get(old, "receipt"),
                                                            "key_id"));
    assert_string_not_equal(json_string_value(json_object_get(keys, "key_id")), old_kid);
    json_t *fresh = s_donate("rot-2", 200, code);
    assert_non_null(fresh);
    assert_string_equal(json_string_value(json_object_get(json_object_get(fresh, "receipt"),
                                                          "key_id")),
                        json_string_value(json_object_get(keys, "key_id")));
    /* the old receipt verifies under its key from the list */
    dn_receipt_t r = {
        .key_id = (char *)old_kid,
        .payload = (char *)json_string_value(
            json_object_get(json_object_get(old, "receipt"), "payload")),
        .signature = (char *)json_string_value(
            json_object_get(json_object_get(old, "receipt"), "signature"))};
    size_t i;
    json_t *k;
    bool verified = false;
    json_array_foreach(ks, i, k) if (!strcmp(json_string_value(json_object_get(k, "key_id")),
                                             old_kid)) verified =
        dn_receipt_verify(json_string_value(json_object_get(k, "public_key_pem")), &r) == LC_OK;
    assert_true(verified);
    json_decref(fresh);
    json_decref(keys);
    json_decref(old);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(donation_retry_finishes_a_reserved_donation_once),
        cmocka_unit_test(donation_retry_after_the_ledger_wrote_converges),
        cmocka_unit_test(donation_sweep_finishes_abandoned_donations),
        cmocka_unit_test(donation_key_rotation_keeps_old_receipts_verifiable),
    };
    return cmocka_run_group_tests(tests, setup_group, teardown_group);
}
