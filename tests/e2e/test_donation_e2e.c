/*
 * test_donation_e2e.c: donations through the gateway, every process real (issue 5,
 * "Tests that must exist"): matching at the cap boundary, two concurrent donations
 * against a nearly used cap, a receipt verified by `openssl pkeyutl` and a tampered
 * one rejected, bad input refused with nothing written, the pool split, a pledge run
 * repeated, a payout run repeated, and the month's report equal to the journal.
 *
 * The donation service runs with donation.period_offset_s = 40 days, so the current
 * month counts as ended and can be paid out (bookings carry the ledger's real time).
 */
#include "e2e.h"
#include "lc_donation_msg.h"
#include "lc_crypto.h"
#include "lc_err.h"
#include "lc_time.h"

#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

static e2e_t s_e;
static char s_app[128], s_auditor[128];

typedef struct partner {
    char id[40];
    char key[128];
} partner_t;

static void s_expect(const e2e_resp_t *r, long status, const char *code)
{
    if (r->status != status || (code && strcmp(e2e_code(r), code)))
        fail_msg("expected %ld %s, got %ld %s", status, code ? code : "", r->status,
                 r->raw ? r->raw : "");
}

/* POST with idem (NULL: a fresh key); the body is printf-formatted. */
__attribute__((format(printf, 6, 7))) static void s_post(e2e_resp_t *r, const char *key,
                                                         const char *idem, const char *path,
                                                         long want, const char *fmt, ...)
{
    char body[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(body, sizeof body, fmt, ap);
    va_end(ap);
    e2e_http(&s_e, "POST", path, key, idem ? idem : e2e_idem(), body, NULL, r);
    if (want && r->status != want)
        fail_msg("POST %s %s: expected %ld, got %ld %s", path, body, want, r->status,
                 r->raw ? r->raw : "");
}

static int64_t s_journal(void)
{
    return th_sql_i64(s_e.db, "SELECT count(*) FROM ledger.journal");
}

static int64_t s_donation_rows(void)
{
    return th_sql_i64(s_e.db, "SELECT count(*) FROM donation.donations");
}

static void s_key(const char *role, char *out)
{
    e2e_resp_t r;
    s_post(&r, s_e.admin_key, NULL, "/v1/keys", 201, "{\"role\":\"%s\",\"name\":\"%s\"}", role,
           role);
    snprintf(out, 128, "%s", e2e_str(&r, "api_key"));
    e2e_resp_clear(&r);
}

static int setup(void **state)
{
    (void)state;
    const char *svc[] = {"COAL_DONATION_PERIOD_OFFSET_S=3456000", NULL};
    e2e_start(&s_e, true, NULL, svc);
    s_key("app", s_app);
    s_key("auditor", s_auditor);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    /* the books balance and the journal verifies, whatever happened */
    assert_int_equal(th_sql_i64(s_e.db, "SELECT coalesce(sum(credits_posted - debits_posted), 0) "
                                        "FROM ledger.accounts"),
                     0);
    e2e_stop(&s_e);
    return 0;
}

/* A partner earning 1 point per cent, postpaid. */
static void s_partner(partner_t *p)
{
    e2e_resp_t r;
    s_post(&r, s_e.admin_key, NULL, "/v1/partners", 201,
           "{\"name\":\"Matcher\",\"earn_rate\":{\"points\":1,\"per_amount\":1},"
           "\"pending_days\":0,\"tariff\":{\"issue_price_micros\":10000,"
           "\"redeem_credit_micros\":9000,\"fee_bps\":150},\"funding\":\"postpaid\"}");
    snprintf(p->id, sizeof p->id, "%s", e2e_str(&r, "id"));
    snprintf(p->key, sizeof p->key, "%s", e2e_str(&r, "api_key"));
    e2e_resp_clear(&r);
}

/* A member of partner p with points points (0: none). */
static void s_member(const partner_t *p, int64_t points, char id[40])
{
    e2e_resp_t r;
    s_post(&r, p->key, NULL, "/v1/members", 201, "{}");
    snprintf(id, 40, "%s", e2e_str(&r, "id"));
    char card[40];
    snprintf(card, sizeof card, "%s", e2e_str(&r, "card_number"));
    e2e_resp_clear(&r);
    if (points > 0) {
        s_post(&r, p->key, NULL, "/v1/earn", 201,
               "{\"card_number\":\"%s\",\"receipt_id\":\"r-%s\",\"amount\":{\"amount\":%lld,"
               "\"currency\":\"EUR\"}}",
               card, e2e_idem(), (long long)points);
        assert_int_equal(e2e_int(&r, "points"), points);
        e2e_resp_clear(&r);
    }
}

static void s_charity(const char *regno, bool verified, char id[40])
{
    e2e_resp_t r;
    s_post(&r, s_e.admin_key, NULL, "/v1/charities", 201,
           "{\"name\":\"Charity %s\",\"registration_no\":\"%s\"%s,\"payout_account\":"
           "\"DE02120300000000202051\"}",
           regno, regno, verified ? "" : ",\"verified\":false");
    snprintf(id, 40, "%s", e2e_str(&r, "id"));
    assert_true(json_is_boolean(json_object_get(r.body, "verified")));
    assert_int_equal(json_is_true(json_object_get(r.body, "verified")), verified);
    e2e_resp_clear(&r);
}

/* A campaign of charity open from now + from_s to now + to_s; match_json "" or
 * ",\"match\":{...}". */
static void s_campaign(const char *charity, int64_t from_s, int64_t to_s, const char *match_json,
                       char id[40])
{
    char a[LC_RFC3339_MAX], b[LC_RFC3339_MAX];
    lc_time_format(lc_now_us() + from_s * LC_USEC_PER_SEC, a);
    lc_time_format(lc_now_us() + to_s * LC_USEC_PER_SEC, b);
    e2e_resp_t r;
    s_post(&r, s_e.admin_key, NULL, "/v1/campaigns", 201,
           "{\"charity_id\":\"%s\",\"name\":\"Campaign\",\"goal_points\":100000,"
           "\"starts_at\":\"%s\",\"ends_at\":\"%s\"%s}",
           charity, a, b, match_json);
    snprintf(id, 40, "%s", e2e_str(&r, "id"));
    e2e_resp_clear(&r);
}

/* POST /v1/donations; returns matched_points (or -1 when want != 201). */
static long long s_donate(const char *target_json, const char *member, int64_t points, long want,
                          const char *code, e2e_resp_t *keep)
{
    e2e_resp_t r;
    s_post(&r, s_app, NULL, "/v1/donations", 0, "{\"member_id\":\"%s\",%s,\"points\":%lld}",
           member, target_json, (long long)points);
    s_expect(&r, want, code);
    long long m = want == 201 ? e2e_int(&r, "matched_points") : -1;
    if (want == 201)
        assert_int_equal(e2e_int(&r, "points"), points);
    if (keep)
        *keep = r;
    else
        e2e_resp_clear(&r);
    return m;
}

static const char *s_target(const char *field, const char *id)
{
    static char buf[4][120];
    static int n;
    char *b = buf[n++ % 4];
    snprintf(b, 120, "\"%s\":\"%s\"", field, id);
    return b;
}

/* ---- receipts ------------------------------------------------------------------------ */

static void s_file(const char *path, const void *data, size_t len)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(data, 1, len, f), len);
    fclose(f);
}

/* Runs openssl pkeyutl -verify over the receipt's payload (tamper: flip one byte). */
static int s_openssl(const json_t *receipt, const char *pem, bool tamper)
{
    uint8_t *payload, *sig;
    size_t plen, slen;
    assert_int_equal(lc_base64_decode(json_string_value(json_object_get(receipt, "payload")),
                                      &payload, &plen),
                     LC_OK);
    assert_int_equal(lc_base64_decode(json_string_value(json_object_get(receipt, "signature")),
                                      &sig, &slen),
                     LC_OK);
    if (tamper) {
        char *p = strstr((char *)payload, "\"points\":");
        assert_non_null(p);
        p[9] = p[9] == '9' ? '8' : (char)(p[9] + 1); /* another number of points */
    }
    char dir[300], path[400], cmd[1400];
    snprintf(dir, sizeof dir, "%s/%s.receipt", getenv("COAL_VAR") ? getenv("COAL_VAR") : "/tmp",
             s_e.db);
    snprintf(cmd, sizeof cmd, "mkdir -p %s", dir);
    assert_int_equal(system(cmd), 0);
    snprintf(path, sizeof path, "%s/key.pem", dir);
    s_file(path, pem, strlen(pem));
    snprintf(path, sizeof path, "%s/payload.bin", dir);
    s_file(path, payload, plen);
    snprintf(path, sizeof path, "%s/sig.bin", dir);
    s_file(path, sig, slen);
    free(payload);
    free(sig);
    snprintf(cmd, sizeof cmd,
             "openssl pkeyutl -verify -pubin -inkey %s/key.pem -rawin -in %s/payload.bin "
             "-sigfile %s/sig.bin >/dev/null 2>&1",
             dir, dir, dir);
    return system(cmd);
}

/* ---- tests ------------------------------------------------------------------------- */

static void donation_matches_up_to_the_cap_with_verifiable_receipts(void **state)
{
    (void)state;
    partner_t p;
    s_partner(&p);
    char m[40], ch[40], k[40], match[200];
    s_member(&p, 5000, m);
    s_charity("CAP-1", true, ch);
    snprintf(match, sizeof match,
             ",\"match\":{\"partner_id\":\"%s\",\"ratio_bps\":10000,\"cap_points\":500}", p.id);
    s_campaign(ch, -3600, 3600, match, k);

    e2e_resp_t first;
    assert_int_equal(s_donate(s_target("campaign_id", k), m, 300, 201, NULL, &first), 300);
    assert_int_equal(s_donate(s_target("campaign_id", k), m, 300, 201, NULL, NULL), 200);
    assert_int_equal(s_donate(s_target("campaign_id", k), m, 300, 201, NULL, NULL), 0);
    assert_string_equal(e2e_str(&first, "charity_id"), ch);
    assert_int_equal(json_integer_value(json_object_get(json_object_get(first.body, "value"),
                                                        "amount")),
                     300);

    /* the campaign shows what it raised and matched */
    e2e_resp_t r;
    char path[200];
    snprintf(path, sizeof path, "/v1/campaigns?charity_id=%s", ch);
    e2e_http(&s_e, "GET", path, s_app, NULL, NULL, NULL, &r);
    s_expect(&r, 200, NULL);
    json_t *cp = json_array_get(json_object_get(r.body, "data"), 0);
    assert_int_equal(json_integer_value(json_object_get(cp, "raised_points")), 900);
    assert_int_equal(json_integer_value(json_object_get(cp, "matched_points")), 500);
    assert_string_equal(json_string_value(json_object_get(cp, "status")), "open");
    e2e_resp_clear(&r);

    /* the receipt: served again by id, verified offline, a tampered one refused */
    json_t *receipt = json_object_get(first.body, "receipt");
    snprintf(path, sizeof path, "/v1/donations/%s/receipt", e2e_str(&first, "id"));
    e2e_http(&s_e, "GET", path, s_app, NULL, NULL, NULL, &r);
    s_expect(&r, 200, NULL);
    assert_string_equal(e2e_str(&r, "payload"),
                        json_string_value(json_object_get(receipt, "payload")));
    e2e_resp_clear(&r);
    e2e_http(&s_e, "GET", "/v1/keys/receipts", NULL, NULL, NULL, NULL, &r); /* no key */
    s_expect(&r, 200, NULL);
    assert_string_equal(e2e_str(&r, "key_id"),
                        json_string_value(json_object_get(receipt, "key_id")));
    char pem[1100];
    snprintf(pem, sizeof pem, "%s", e2e_str(&r, "public_key_pem"));
    e2e_resp_clear(&r);
    assert_int_equal(s_openssl(receipt, pem, false), 0);
    assert_int_not_equal(s_openssl(receipt, pem, true), 0);

    /* the payload names the donation */
    uint8_t *payload;
    size_t plen;
    assert_int_equal(lc_base64_decode(json_string_value(json_object_get(receipt, "payload")),
                                      &payload, &plen),
                     LC_OK);
    json_t *doc = json_loadb((const char *)payload, plen, 0, NULL);
    free(payload);
    assert_non_null(doc);
    assert_string_equal(json_string_value(json_object_get(doc, "donation_id")),
                        e2e_str(&first, "id"));
    assert_string_equal(json_string_value(json_object_get(doc, "member_id")), m);
    assert_string_equal(json_string_value(json_object_get(doc, "campaign_id")), k);
    assert_int_equal(json_integer_value(json_object_get(doc, "matched_points")), 300);
    json_decref(doc);
    e2e_resp_clear(&first);

    /* a receipt needs the app role; an unknown donation has none */
    e2e_http(&s_e, "GET", "/v1/donations/00000000-0000-4000-8000-000000000000/receipt", s_app,
             NULL, NULL, NULL, &r);
    s_expect(&r, 404, "not_found");
    e2e_resp_clear(&r);
}

typedef struct racer {
    const char *target;
    const char *member;
    long long matched;
    long status;
} racer_t;

static void *s_race(void *arg)
{
    racer_t *x = arg;
    char body[300];
    snprintf(body, sizeof body, "{\"member_id\":\"%s\",%s,\"points\":200}", x->member,
             x->target);
    e2e_resp_t r;
    e2e_http(&s_e, "POST", "/v1/donations", s_app, e2e_idem(), body, NULL, &r);
    x->status = r.status;
    x->matched = e2e_int(&r, "matched_points");
    e2e_resp_clear(&r);
    return NULL;
}

static void donation_concurrent_donations_never_pass_the_cap(void **state)
{
    (void)state;
    partner_t p;
    s_partner(&p);
    char m1[40], m2[40], ch[40], k[40], match[200];
    s_member(&p, 1000, m1);
    s_member(&p, 1000, m2);
    s_charity("RACE-1", true, ch);
    snprintf(match, sizeof match,
             ",\"match\":{\"partner_id\":\"%s\",\"ratio_bps\":10000,\"cap_points\":250}", p.id);
    s_campaign(ch, -3600, 3600, match, k);
    assert_int_equal(s_donate(s_target("campaign_id", k), m1, 200, 201, NULL, NULL), 200);
    /* 50 left: two donations at once */
    const char *t = s_target("campaign_id", k);
    racer_t a = {t, m1, 0, 0}, b = {t, m2, 0, 0};
    pthread_t ta, tb;
    assert_int_equal(pthread_create(&ta, NULL, s_race, &a), 0);
    assert_int_equal(pthread_create(&tb, NULL, s_race, &b), 0);
    pthread_join(ta, NULL);
    pthread_join(tb, NULL);
    assert_int_equal(a.status, 201);
    assert_int_equal(b.status, 201);
    assert_int_equal(a.matched + b.matched, 50);
    char sql[300];
    snprintf(sql, sizeof sql,
             "SELECT matched_points FROM donation.campaigns WHERE id = '%s'", k);
    assert_int_equal(th_sql_i64(s_e.db, sql), 250);
    lc_id_t pid, iss;
    lc_id_parse(p.id, &pid);
    lc_id_derive(&pid, "issuance", &iss);
    char ids[LC_ID_STRLEN + 1];
    lc_id_format(&iss, ids);
    snprintf(sql, sizeof sql,
             "SELECT sum(amount) FROM ledger.journal WHERE code = %d AND debit_account_id = '%s'",
             DN_CODE_MATCH, ids);
    assert_int_equal(th_sql_i64(s_e.db, sql), 250); /* the ledger agrees */
}

static void donation_bad_input_is_refused_and_writes_nothing(void **state)
{
    (void)state;
    partner_t p;
    s_partner(&p);
    char m[40], poor[40], frozen[40], ch[40], unverified[40], closed[40], later[40];
    s_member(&p, 1000, m);
    s_member(&p, 100, poor);
    s_member(&p, 1000, frozen);
    s_charity("BAD-1", true, ch);
    s_charity("BAD-2", false, unverified);
    s_campaign(ch, -7200, -3600, "", closed);
    s_campaign(ch, 3600, 7200, "", later);
    e2e_resp_t r;
    s_post(&r, s_e.admin_key, NULL, "/v1/charities", 409,
           "{\"name\":\"Twin\",\"registration_no\":\"BAD-1\"}");
    e2e_resp_clear(&r);
    char path[200];
    snprintf(path, sizeof path, "/v1/members/%s/freeze", frozen);
    s_post(&r, s_e.admin_key, NULL, path, 200, "{\"reason\":\"fraud check\"}");
    e2e_resp_clear(&r);

    int64_t journal = s_journal(), rows = s_donation_rows();
    const char *nobody = "00000000-0000-4000-8000-0000000000ff";
    s_donate(s_target("charity_id", nobody), m, 300, 404, "not_found", NULL);
    s_donate(s_target("campaign_id", nobody), m, 300, 404, "not_found", NULL);
    s_donate(s_target("charity_id", unverified), m, 300, 409, "conflict", NULL);
    s_donate(s_target("campaign_id", closed), m, 300, 409, "conflict", NULL);
    s_donate(s_target("campaign_id", later), m, 300, 409, "conflict", NULL);
    char both[200];
    snprintf(both, sizeof both, "\"charity_id\":\"%s\",\"campaign_id\":\"%s\"", ch, later);
    s_donate(both, m, 300, 400, "invalid_request", NULL);
    s_donate("\"pool\":false", m, 300, 400, "invalid_request", NULL);
    s_donate(s_target("charity_id", ch), m, 199, 422, "below_redemption_threshold", NULL);
    s_donate(s_target("charity_id", ch), poor, 200, 422, "insufficient_points", NULL);
    s_donate(s_target("charity_id", ch), m, 1001, 422, "insufficient_points", NULL);
    s_donate(s_target("charity_id", ch), frozen, 300, 423, "member_frozen", NULL);
    s_donate(s_target("charity_id", ch), nobody, 300, 404, "not_found", NULL);
    s_donate("\"charity_id\":\"x\"", m, 300, 400, "invalid_request", NULL);
    s_post(&r, s_e.admin_key, NULL, "/v1/donations/payouts/2099-01", 409, "%s", "{}");
    s_expect(&r, 409, "conflict");
    e2e_resp_clear(&r);
    s_post(&r, s_e.admin_key, NULL, "/v1/donations/payouts/2026-13", 400, "%s", "{}");
    e2e_resp_clear(&r);
    /* a campaign window backwards, an unknown matching partner */
    s_post(&r, s_e.admin_key, NULL, "/v1/campaigns", 400,
           "{\"charity_id\":\"%s\",\"name\":\"x\",\"goal_points\":1,"
           "\"starts_at\":\"2026-02-01T00:00:00Z\",\"ends_at\":\"2026-01-01T00:00:00Z\"}",
           ch);
    e2e_resp_clear(&r);
    s_post(&r, s_e.admin_key, NULL, "/v1/campaigns", 404,
           "{\"charity_id\":\"%s\",\"name\":\"x\",\"goal_points\":1,"
           "\"starts_at\":\"2026-01-01T00:00:00Z\",\"ends_at\":\"2026-02-01T00:00:00Z\","
           "\"match\":{\"partner_id\":\"%s\",\"ratio_bps\":100,\"cap_points\":10}}",
           ch, nobody);
    e2e_resp_clear(&r);
    /* roles */
    s_post(&r, s_e.admin_key, NULL, "/v1/donations", 403, "{}");
    e2e_resp_clear(&r);
    e2e_http(&s_e, "GET", "/v1/donations/report/2026-01", s_app, NULL, NULL, NULL, &r);
    s_expect(&r, 403, "forbidden");
    e2e_resp_clear(&r);
    e2e_http(&s_e, "POST", "/v1/donations", s_app, NULL, "{}", NULL, &r);
    s_expect(&r, 400, "idempotency_key_required");
    e2e_resp_clear(&r);

    assert_int_equal(s_journal(), journal);
    assert_int_equal(s_donation_rows(), rows);
}

/* Sum of the journal's transfers of code into (credit) or out of (debit) account. */
static int64_t s_sum(int code, const char *side, const char *charity)
{
    lc_id_t cid, acct;
    char ids[LC_ID_STRLEN + 1], sql[400];
    if (charity) {
        lc_id_parse(charity, &cid);
        dn_charity_account(&cid, &acct);
    } else {
        dn_pool_account(&acct);
    }
    lc_id_format(&acct, ids);
    snprintf(sql, sizeof sql,
             "SELECT coalesce(sum(amount), 0) FROM ledger.journal WHERE entry_type = 2 AND "
             "code = %d AND %s_account_id = '%s'",
             code, side, ids);
    return th_sql_i64(s_e.db, sql);
}

static json_t *s_line(const e2e_resp_t *r, const char *list, const char *key, const char *id)
{
    json_t *a = json_object_get(r->body, list), *x;
    size_t i;
    json_array_foreach(a, i, x) if (!strcmp(json_string_value(json_object_get(x, key)), id)) return x;
    fail_msg("%s %s not in %s", key, id, r->raw);
    return NULL;
}

static long long s_int(const json_t *o, const char *f)
{
    return json_integer_value(json_object_get(o, f));
}

static void donation_pool_pledges_payout_and_report_reconcile(void **state)
{
    (void)state;
    /* a database of its own, so the month holds only this test's donations */
    e2e_stop(&s_e);
    setup(state);
    partner_t p;
    s_partner(&p);
    char m[40], poor[40], a[40], b[40], ka[40], kb[40], match[200];
    s_member(&p, 5000, m);
    s_member(&p, 50, poor);
    s_charity("POOL-A", true, a);
    s_charity("POOL-B", true, b);
    snprintf(match, sizeof match,
             ",\"match\":{\"partner_id\":\"%s\",\"ratio_bps\":5000,\"cap_points\":10000}", p.id);
    s_campaign(a, -3600, 3600, "", ka);
    s_campaign(b, -3600, 3600, match, kb);
    assert_int_equal(s_donate(s_target("campaign_id", ka), m, 600, 201, NULL, NULL), 0);
    assert_int_equal(s_donate(s_target("campaign_id", kb), m, 300, 201, NULL, NULL), 150);
    e2e_resp_t r;
    s_post(&r, s_app, NULL, "/v1/donations", 201,
           "{\"member_id\":\"%s\",\"pool\":true,\"points\":301}", m);
    assert_true(json_is_true(json_object_get(r.body, "pool")));
    assert_null(e2e_str(&r, "charity_id"));
    e2e_resp_clear(&r);

    /* pledges: one donates, one is skipped (points short); a repeated run books nothing */
    char pl[40];
    s_post(&r, s_app, NULL, "/v1/pledges", 201,
           "{\"member_id\":\"%s\",\"charity_id\":\"%s\",\"points\":200}", m, a);
    snprintf(pl, sizeof pl, "%s", e2e_str(&r, "id"));
    assert_string_equal(e2e_str(&r, "status"), "active");
    e2e_resp_clear(&r);
    s_post(&r, s_app, NULL, "/v1/pledges", 201,
           "{\"member_id\":\"%s\",\"charity_id\":\"%s\",\"points\":200}", poor, a);
    e2e_resp_clear(&r);
    s_post(&r, s_app, NULL, "/v1/pledges", 422,
           "{\"member_id\":\"%s\",\"charity_id\":\"%s\",\"points\":199}", m, a);
    e2e_resp_clear(&r);
    char period[8], path[200], now[LC_RFC3339_MAX];
    lc_time_format(lc_now_us(), now);
    snprintf(period, sizeof period, "%.7s", now);
    snprintf(path, sizeof path, "/v1/donations/pledges/run/%s", period);
    s_post(&r, s_e.admin_key, NULL, path, 200, "%s", "{}");
    assert_int_equal(e2e_int(&r, "donated"), 1);
    assert_int_equal(e2e_int(&r, "skipped"), 1);
    json_t *runs = json_incref(json_object_get(r.body, "runs"));
    e2e_resp_clear(&r);
    int64_t journal = s_journal();
    s_post(&r, s_e.admin_key, NULL, path, 200, "%s", "{}"); /* again, another key */
    assert_true(json_equal(json_object_get(r.body, "runs"), runs));
    assert_int_equal(s_journal(), journal);
    bool skipped_reason = false;
    size_t i;
    json_t *x;
    json_array_foreach(runs, i, x) if (!strcmp(json_string_value(json_object_get(x, "status")),
                                               "skipped"))
        skipped_reason = !strcmp(json_string_value(json_object_get(x, "reason")),
                                 "insufficient_points");
    assert_true(skipped_reason);
    json_decref(runs);
    e2e_resp_clear(&r);
    /* a cancelled pledge stays cancelled */
    snprintf(path, sizeof path, "/v1/pledges/%s", pl);
    e2e_http(&s_e, "DELETE", path, s_app, NULL, NULL, NULL, &r);
    s_expect(&r, 200, NULL);
    assert_string_equal(e2e_str(&r, "status"), "cancelled");
    e2e_resp_clear(&r);
    e2e_http(&s_e, "DELETE", path, s_app, NULL, NULL, NULL, &r);
    s_expect(&r, 200, NULL);
    e2e_resp_clear(&r);

    /* the report: the pool (301) split 600:300 by largest remainder = 201 + 100 */
    snprintf(path, sizeof path, "/v1/donations/report/%s", period);
    e2e_http(&s_e, "GET", path, s_auditor, NULL, NULL, NULL, &r);
    s_expect(&r, 200, NULL);
    assert_string_equal(e2e_str(&r, "status"), "ended");
    assert_int_equal(e2e_int(&r, "pool_donated_points"), 301);
    assert_int_equal(e2e_int(&r, "pool_allocated_points"), 301);
    assert_int_equal(s_int(s_line(&r, "campaigns", "campaign_id", ka), "pooled_points"), 201);
    assert_int_equal(s_int(s_line(&r, "campaigns", "campaign_id", kb), "pooled_points"), 100);
    json_t *la = s_line(&r, "charities", "charity_id", a);
    json_t *lb = s_line(&r, "charities", "charity_id", b);
    assert_int_equal(s_int(la, "donated_points"), 800); /* 600 + the pledge's 200 */
    assert_int_equal(s_int(la, "points"), 1001);
    assert_int_equal(s_int(lb, "matched_points"), 150);
    assert_int_equal(s_int(lb, "points"), 550);
    assert_int_equal(e2e_int(&r, "total_points"), 1551);
    json_t *report = json_incref(r.body);
    e2e_resp_clear(&r);

    /* the payout, twice: booked once */
    snprintf(path, sizeof path, "/v1/donations/payouts/%s", period);
    s_post(&r, s_e.admin_key, NULL, path, 200, "%s", "{}");
    assert_string_equal(e2e_str(&r, "status"), "paid_out");
    json_t *paid = json_incref(json_object_get(r.body, "charities"));
    assert_true(json_equal(paid, json_object_get(report, "charities")));
    e2e_resp_clear(&r);
    journal = s_journal();
    s_post(&r, s_e.admin_key, NULL, path, 200, "%s", "{}");
    assert_true(json_equal(json_object_get(r.body, "charities"), paid));
    assert_int_equal(s_journal(), journal);
    e2e_resp_clear(&r);
    json_decref(paid);

    /* the report equals the journal, line by line */
    const char *chs[] = {a, b};
    json_t *lines[] = {la, lb};
    for (int k = 0; k < 2; k++) {
        assert_int_equal(s_sum(DN_CODE_DONATION, "credit", chs[k]), s_int(lines[k], "donated_points"));
        assert_int_equal(s_sum(DN_CODE_MATCH, "credit", chs[k]), s_int(lines[k], "matched_points"));
        assert_int_equal(s_sum(DN_CODE_POOL_SHARE, "credit", chs[k]),
                         s_int(lines[k], "pooled_points"));
        assert_int_equal(s_sum(DN_CODE_PAYOUT, "debit", chs[k]), s_int(lines[k], "points"));
    }
    assert_int_equal(s_sum(DN_CODE_POOL, "credit", NULL), 301);
    assert_int_equal(s_sum(DN_CODE_POOL_SHARE, "debit", NULL), 301);
    json_decref(report);
    /* paid out: the charities' accounts are empty again */
    lc_id_t cid, acct;
    char sql[300], ids[LC_ID_STRLEN + 1];
    lc_id_parse(a, &cid);
    dn_charity_account(&cid, &acct);
    lc_id_format(&acct, ids);
    snprintf(sql, sizeof sql,
             "SELECT credits_posted - debits_posted FROM ledger.accounts WHERE id = '%s'", ids);
    assert_int_equal(th_sql_i64(s_e.db, sql), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(donation_matches_up_to_the_cap_with_verifiable_receipts),
        cmocka_unit_test(donation_concurrent_donations_never_pass_the_cap),
        cmocka_unit_test(donation_bad_input_is_refused_and_writes_nothing),
        cmocka_unit_test(donation_pool_pledges_payout_and_report_reconcile),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
