/*
 * faultload.c: the fault suites' load and after-checks (faultload.h).
 */
#include "faultload.h"
#include "lc_api.h"
#include "lc_donation_msg.h"
#include "lc_err.h"
#include "lc_id.h"
#include "lc_period.h"
#include "lc_settlement_msg.h"
#include "lc_time.h"

#include <inttypes.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

/* Months a run may touch: it lasts minutes, so at most two. */
#define FL_PERIODS_MAX 3
/* How often a check's GET answered 503 (a whole-journal read past the suites' short
 * gateway deadline) is asked again. */
#define FL_GET_TRIES 20

/* ---- setup ---------------------------------------------------------------------- */

/* POST as key with a fresh idempotency key; fails the test unless it answers 201. The
 * body is printf-formatted; *r is the caller's to clear. */
__attribute__((format(printf, 5, 6))) static void
s_create(fl_load_t *l, const char *path, const char *key, e2e_resp_t *r, const char *fmt, ...)
{
    char body[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(body, sizeof body, fmt, ap);
    va_end(ap);
    e2e_http(l->e, "POST", path, key, e2e_idem(), body, NULL, r);
    if (r->status != 201)
        fail_msg("POST %s %s: %ld %s", path, body, r->status, r->raw ? r->raw : "");
}

/* Copies string field f of r into out (len bytes); fails the test when it is absent. */
static void s_field(const e2e_resp_t *r, const char *f, char *out, size_t len)
{
    const char *v = e2e_str(r, f);
    if (!v)
        fail_msg("no %s in %s", f, r->raw ? r->raw : "");
    snprintf(out, len, "%s", v);
}

/* The charity and its campaign, open from an hour ago for a day, matched by the
 * load's partner. */
static void s_setup_donations(fl_load_t *l)
{
    e2e_resp_t r;
    s_create(l, "/v1/charities", l->e->admin_key, &r,
             "{\"name\":\"%s charity\",\"registration_no\":\"%s-REG\",\"verified\":true}", l->tag,
             l->tag);
    s_field(&r, "id", l->charity_id, sizeof l->charity_id);
    e2e_resp_clear(&r);
    char from[LC_RFC3339_MAX], until[LC_RFC3339_MAX];
    int64_t now = lc_now_us();
    assert_int_equal(lc_time_format(now - 3600 * LC_USEC_PER_SEC, from), LC_OK);
    assert_int_equal(lc_time_format(now + 86400 * LC_USEC_PER_SEC, until), LC_OK);
    s_create(l, "/v1/campaigns", l->e->admin_key, &r,
             "{\"charity_id\":\"%s\",\"name\":\"%s campaign\",\"goal_points\":100000,"
             "\"starts_at\":\"%s\",\"ends_at\":\"%s\",\"match\":{\"partner_id\":\"%s\","
             "\"ratio_bps\":%d,\"cap_points\":%d}}",
             l->charity_id, l->tag, from, until, l->partner_id, FL_MATCH_RATIO_BPS, FL_MATCH_CAP);
    s_field(&r, "id", l->campaign_id, sizeof l->campaign_id);
    e2e_resp_clear(&r);
}

void fl_setup(fl_load_t *l, e2e_t *e, const char *tag, int nmembers, long max_cents)
{
    assert_true(nmembers >= 1 && nmembers <= FL_MEMBERS_MAX);
    memset(l, 0, sizeof *l);
    l->e = e;
    l->nmembers = nmembers;
    l->max_cents = max_cents;
    snprintf(l->tag, sizeof l->tag, "%s", tag);
    e2e_resp_t r;
    s_create(l, "/v1/partners", e->admin_key, &r,
             "{\"name\":\"%s\",\"earn_rate\":{\"points\":1,\"per_amount\":100},"
             "\"tariff\":{\"issue_price_micros\":1,\"redeem_credit_micros\":1,\"fee_bps\":0},"
             "\"funding\":\"postpaid\"}",
             tag);
    s_field(&r, "api_key", l->partner_key, sizeof l->partner_key);
    s_field(&r, "id", l->partner_id, sizeof l->partner_id);
    e2e_resp_clear(&r);
    for (int i = 0; i < nmembers; i++) {
        s_create(l, "/v1/members", l->partner_key, &r, "{}");
        s_field(&r, "card_number", l->cards[i], sizeof l->cards[i]);
        s_field(&r, "id", l->members[i], sizeof l->members[i]);
        e2e_resp_clear(&r);
    }
    /* The member app donates; its key's id scopes its idempotency keys, from which
     * the donation service derives each donation's id (services/donation/README.md). */
    char key_id[40];
    s_create(l, "/v1/keys", e->admin_key, &r, "{\"role\":\"app\",\"name\":\"%s app\"}", tag);
    s_field(&r, "api_key", l->app_key, sizeof l->app_key);
    s_field(&r, "id", key_id, sizeof key_id);
    snprintf(l->app_owner, sizeof l->app_owner, "key:%s", key_id);
    e2e_resp_clear(&r);
    s_create(l, "/v1/keys", e->admin_key, &r, "{\"role\":\"auditor\",\"name\":\"%s finance\"}",
             tag);
    s_field(&r, "api_key", l->auditor_key, sizeof l->auditor_key);
    e2e_resp_clear(&r);
    s_setup_donations(l);
}

/* ---- the clients ----------------------------------------------------------------- */

/* Sends one POST until a definitive answer: retried with the same idempotency key
 * after a 5xx, a 429 or a lost connection. Returns its status (0: gave up, *out
 * empty) with the answer in *out, the caller's to clear. */
static long s_send(fl_client_t *c, const char *path, const char *key, const char *idem,
                   const char *body, e2e_resp_t *out)
{
    fl_load_t *l = c->load;
    int64_t deadline = lc_mono_ms() + FL_GIVE_UP_MS;
    for (int attempt = 0; lc_mono_ms() < deadline; attempt++) {
        bool got = e2e_http_try(l->e, "POST", path, key, idem, body, NULL, out);
        if (!got)
            c->lost_connections++;
        if (got && out->status < 500 && out->status != 429) {
            c->retries += attempt;
            return out->status;
        }
        e2e_resp_clear(out);
        usleep(got ? 50 * 1000 : 200 * 1000);
    }
    return 0;
}

/* One earn for member m. */
static void s_earn(fl_client_t *c, int m, const char *idem)
{
    fl_load_t *l = c->load;
    long cents = 100 + (long)(nrand48(c->rng) % (unsigned long)(l->max_cents - 99));
    char body[256];
    snprintf(body, sizeof body,
             "{\"card_number\":\"%s\",\"receipt_id\":\"%s\",\"amount\":{\"amount\":%ld,"
             "\"currency\":\"EUR\"}}",
             l->cards[m], idem, cents);
    e2e_resp_t r;
    long status = s_send(c, "/v1/earn", l->partner_key, idem, body, &r);
    e2e_resp_clear(&r);
    if (status == 201) {
        c->acked++;
        c->acked_points[m] += cents / 100; /* 1 point per 1.00 EUR, rounded down */
        return;
    }
    if (c->refused < FL_REFUSED_KEPT)
        snprintf(c->refused_keys[c->refused], sizeof c->refused_keys[0], "%s", idem);
    c->refused++;
    if (!c->err[0])
        snprintf(c->err, sizeof c->err, "earn %s answered %ld", idem, status);
}

/* Points member m has by this client's own account: what it was told it earned for
 * the member, less what it was told the member donated. Other clients spend only
 * from their own share, so the member has at least this many available. */
static int64_t s_spendable(const fl_client_t *c, int m)
{
    return c->acked_points[m] - c->donated_points[m];
}

/* A member with at least FL_DONATION_MIN spendable points, starting the search at
 * first; -1 when there is none yet. */
static int s_donor(const fl_client_t *c, int first)
{
    int n = c->load->nmembers;
    for (int k = 0; k < n; k++)
        if (s_spendable(c, (first + k) % n) >= FL_DONATION_MIN)
            return (first + k) % n;
    return -1;
}

/* Whether a refused donation was refused for a reason of the moment that the load
 * can meet (the member's points or its daily cap), not for a fault. */
static bool s_business_refusal(long status, const e2e_resp_t *r)
{
    const char *code = e2e_code(r);
    return status == 422 &&
           (!strcmp(code, "insufficient_points") || !strcmp(code, "daily_limit_exceeded"));
}

/* One donation of member m, to the campaign (matched) or straight to the charity. */
static void s_donate(fl_client_t *c, int m, bool campaign, const char *idem)
{
    fl_load_t *l = c->load;
    int64_t spendable = s_spendable(c, m);
    int64_t points = FL_DONATION_MIN + (int64_t)(nrand48(c->rng) % 100u);
    if (points > spendable)
        points = spendable;
    char body[256];
    snprintf(body, sizeof body, "{\"member_id\":\"%s\",\"%s\":\"%s\",\"points\":%" PRId64 "}",
             l->members[m], campaign ? "campaign_id" : "charity_id",
             campaign ? l->campaign_id : l->charity_id, points);
    e2e_resp_t r;
    long status = s_send(c, "/v1/donations", l->app_key, idem, body, &r);
    if (status == 201) {
        json_t *value = json_object_get(r.body, "value");
        int64_t matched = e2e_int(&r, "matched_points");
        /* The answer states what was booked: the points asked, a match of at most
         * the ratio (less once the cap is reached), the gift's value. */
        if (e2e_int(&r, "points") != points || matched < 0 ||
            matched > (campaign ? points * FL_MATCH_RATIO_BPS / 10000 : 0) ||
            json_integer_value(json_object_get(value, "amount")) != points * FL_POINT_VALUE_CENTS) {
            c->don_unexpected++;
            if (!c->don_err[0])
                snprintf(c->don_err, sizeof c->don_err,
                         "donation %s of %" PRId64 " points answered %s", idem, points,
                         r.raw ? r.raw : "");
        }
        if (c->don_acked == 0) {
            snprintf(c->don_first_key, sizeof c->don_first_key, "%s", idem);
            snprintf(c->don_first_id, sizeof c->don_first_id, "%s",
                     e2e_str(&r, "id") ? e2e_str(&r, "id") : "");
        }
        c->don_acked++;
        c->don_matched += matched;
        c->donated_points[m] += points;
        e2e_resp_clear(&r);
        return;
    }
    if (status != 0) {
        if (c->don_refused < FL_REFUSED_KEPT)
            snprintf(c->don_refused_keys[c->don_refused], sizeof c->don_refused_keys[0], "%s",
                     idem);
        c->don_refused++;
    }
    if (status == 0 || !s_business_refusal(status, &r)) {
        c->don_unexpected++;
        if (!c->don_err[0])
            snprintf(c->don_err, sizeof c->don_err, "donation %s answered %ld %s", idem, status,
                     r.raw ? r.raw : "");
    }
    e2e_resp_clear(&r);
}

static void *s_client(void *arg)
{
    fl_client_t *c = arg;
    fl_load_t *l = c->load;
    for (int n = 0; !atomic_load(&l->stop); n++) {
        int m = (int)(nrand48(c->rng) % (unsigned)l->nmembers);
        char idem[64];
        snprintf(idem, sizeof idem, "%s-%d-%d", l->tag, c->index, n);
        int donor = n % FL_DONATE_EVERY == FL_DONATE_EVERY - 1 ? s_donor(c, m) : -1;
        if (donor >= 0)
            s_donate(c, donor, (n / FL_DONATE_EVERY) % 2 == 0, idem);
        else
            s_earn(c, m, idem);
    }
    return NULL;
}

void fl_start(fl_load_t *l, long seed)
{
    fprintf(stderr, "%s: load seed %ld\n", l->tag, seed);
    atomic_store(&l->stop, 0);
    for (int i = 0; i < FL_CLIENTS; i++) {
        fl_client_t *c = &l->clients[i];
        c->load = l;
        c->index = i;
        c->rng[0] = (unsigned short)(seed + i);
        c->rng[1] = (unsigned short)(seed >> 16);
        c->rng[2] = (unsigned short)i;
        assert_int_equal(pthread_create(&l->threads[i], NULL, s_client, c), 0);
    }
}

void fl_stop(fl_load_t *l, fl_totals_t *t)
{
    atomic_store(&l->stop, 1);
    for (int i = 0; i < FL_CLIENTS; i++)
        pthread_join(l->threads[i], NULL);
    memset(t, 0, sizeof *t);
    for (int i = 0; i < FL_CLIENTS; i++) {
        const fl_client_t *c = &l->clients[i];
        if (c->refused)
            fprintf(stderr, "%s: client %d: %lld earns refused (%s)\n", l->tag, i,
                    (long long)c->refused, c->err);
        if (c->don_refused || c->don_unexpected)
            fprintf(stderr, "%s: client %d: %lld donations refused, %lld unexpected (%s)\n", l->tag,
                    i, (long long)c->don_refused, (long long)c->don_unexpected,
                    c->don_err[0] ? c->don_err : "none unexpected");
        t->acked += c->acked;
        t->refused += c->refused;
        t->retries += c->retries;
        t->lost_connections += c->lost_connections;
        t->don_acked += c->don_acked;
        t->don_refused += c->don_refused;
        t->don_unexpected += c->don_unexpected;
        t->don_matched += c->don_matched;
        for (int m = 0; m < l->nmembers; m++) {
            t->member_points[m] += c->acked_points[m];
            t->points += c->acked_points[m];
            t->member_donated[m] += c->donated_points[m];
            t->don_points += c->donated_points[m];
        }
    }
}

/* ---- checks --------------------------------------------------------------------- */

/* Runs sql (one integer: a count or a sum) in the suite's database with the nparams
 * parameters params, as the superuser. */
static int64_t s_sqlv(const fl_load_t *l, const char *sql, int nparams, const char *const *params)
{
    lc_db_t *db = th_db_connect("coal_admin", l->e->db);
    lc_dbres_t *res = NULL;
    int64_t n = -1;
    if (lc_db_exec(db, sql, nparams, nparams ? params : NULL, &res) != LC_OK)
        fail_msg("%s: %s", sql, lc_db_error(db));
    lc_dbres_i64(res, 0, 0, &n);
    lc_dbres_free(&res);
    lc_db_destroy(&db);
    return n;
}

/* The same with $1 = param (NULL: no parameter). */
static int64_t s_sql(const fl_load_t *l, const char *sql, const char *param)
{
    const char *params[] = {param};
    return s_sqlv(l, sql, param ? 1 : 0, params);
}

/* The base earn transfers: the partner's issuance account -> a member, code earn.
 * Bonuses (tiers, coupons) come from other accounts; a donation's match leaves the
 * issuance account with its own code. */
#define SQL_BASE_EARNS                                                                             \
    "FROM ledger.journal j JOIN settlement.partners p ON j.debit_account_id = "                    \
    "p.issuance_account WHERE j.entry_type = 2 AND j.code = 1"
_Static_assert(ST_CODE_EARN == 1, "SQL_BASE_EARNS names the earn code");

/* members.history against the journal: every transfer entry that touches a member
 * account, as (seq, transfer, member, signed points), in one and not the other. */
static const char *const SQL_HISTORY_DIFF =
    "WITH j AS (SELECT j.seq, j.id AS transfer_id, a.id AS member_id,"
    "  CASE WHEN j.credit_account_id = a.id THEN j.amount ELSE -j.amount END AS points"
    "  FROM ledger.journal j JOIN ledger.accounts a"
    "  ON a.kind = 1 AND a.id IN (j.debit_account_id, j.credit_account_id)"
    "  WHERE j.entry_type = 2),"
    " h AS (SELECT seq, transfer_id, member_id, points FROM members.history)"
    " SELECT count(*) FROM ((SELECT * FROM j EXCEPT ALL SELECT * FROM h)"
    "  UNION ALL (SELECT * FROM h EXCEPT ALL SELECT * FROM j)) d";

void fl_check_books(fl_load_t *l, const fl_totals_t *t)
{
    /* No refused earn was applied. */
    for (int i = 0; i < FL_CLIENTS; i++)
        for (int k = 0; k < l->clients[i].refused && k < FL_REFUSED_KEPT; k++)
            assert_int_equal(s_sql(l,
                                   "SELECT count(*) FROM settlement.earns WHERE receipt_id "
                                   "= $1",
                                   l->clients[i].refused_keys[k]),
                             0);
    /* Settlement holds exactly the acknowledged earns, each with its transfer. */
    assert_int_equal(s_sql(l, "SELECT count(*) FROM settlement.earns", NULL), t->acked);
    assert_int_equal(s_sql(l,
                           "SELECT count(*) FROM settlement.earns e WHERE NOT EXISTS "
                           "(SELECT 1 FROM ledger.journal j WHERE j.id = e.transfer_id)",
                           NULL),
                     0);
    assert_int_equal(s_sql(l,
                           "SELECT count(*) FROM (SELECT id FROM ledger.journal GROUP BY id "
                           "HAVING count(*) > 1) d",
                           NULL),
                     0);
    /* One base transfer per acknowledged earn: a retry that booked a second one
     * would show here; each member got exactly its acknowledged points. */
    assert_int_equal(s_sql(l, "SELECT count(*) " SQL_BASE_EARNS, NULL), t->acked);
    for (int m = 0; m < l->nmembers; m++) {
        int64_t base = s_sql(
            l, "SELECT coalesce(sum(j.amount), 0) " SQL_BASE_EARNS " AND j.credit_account_id = $1",
            l->members[m]);
        if (base != t->member_points[m])
            fail_msg("member %d: %lld points booked, %lld acknowledged", m, (long long)base,
                     (long long)t->member_points[m]);
        int64_t journal = s_sql(l,
                                "SELECT coalesce(sum(CASE WHEN credit_account_id = $1 THEN "
                                "amount ELSE -amount END), 0) FROM ledger.journal WHERE "
                                "entry_type = 2 AND $1 IN (debit_account_id, credit_account_id)",
                                l->members[m]);
        char path[128];
        snprintf(path, sizeof path, "/v1/cards/%s/balance", l->cards[m]);
        e2e_resp_t r;
        e2e_http(l->e, "GET", path, l->partner_key, NULL, NULL, NULL, &r);
        assert_int_equal(r.status, 200);
        if (e2e_int(&r, "available") != journal)
            fail_msg("member %d: balance %lld, journal %lld", m, e2e_int(&r, "available"),
                     (long long)journal);
        e2e_resp_clear(&r);
    }
    assert_int_equal(s_sql(l,
                           "SELECT coalesce(sum(credits_posted - debits_posted), 0) FROM "
                           "ledger.accounts",
                           NULL),
                     0);
    /* The ledger recomputes the chain and every stored balance from the journal. */
    th_client_t c;
    th_client_open(&c, &l->e->ledger);
    json_t *v = th_call(&c, LD_TYPE_VERIFY, json_object(), NULL, 0);
    assert_true(json_is_true(json_object_get(v, "ok")));
    json_decref(v);
    th_client_close(&c);
    /* members' history catches up with the journal, then equals it. */
    int64_t deadline = lc_mono_ms() + FL_HISTORY_WAIT_MS, diff;
    while ((diff = s_sql(l, SQL_HISTORY_DIFF, NULL)) != 0 && lc_mono_ms() < deadline)
        usleep(100 * 1000);
    if (diff != 0)
        fail_msg("members.history differs from the journal in %lld rows", (long long)diff);
    /* each earn and each donation is one member entry at least */
    assert_true(s_sql(l, "SELECT count(*) FROM members.history", NULL) >= t->acked + t->don_acked);
}

/* ---- figures: donations ------------------------------------------------------------- */

/* The donation transfers: the member's gift (to a charity) and the partner's match. */
_Static_assert(DN_CODE_DONATION == 101 && DN_CODE_MATCH == 102,
               "the SQL below names the donation codes");

/* The id the donation service gives the member app's donation with idempotency key
 * key: derived from the caller's owner and the key (services/donation/README.md,
 * "Ids"), so a refused request's would-be donation can be looked for. */
static void s_donation_id(fl_load_t *l, const char *key, char out[LC_ID_STRLEN + 1])
{
    lc_api_req_t req = {.caller = {.owner = l->app_owner}, .idempotency_key = (char *)key};
    lc_id_t id;
    assert_int_equal(lc_api_derive(&req, "donation", &id), LC_OK);
    lc_id_format(&id, out);
}

/* Donations exactly once: the donation service stores exactly the acknowledged
 * donations, posted, each with its transfers, and the journal no other; each member
 * gave exactly its acknowledged points; no refused one was applied; the campaign's
 * matches stayed within the cap and equal its counter. */
static void s_check_donations(fl_load_t *l, const fl_totals_t *t)
{
    for (int i = 0; i < FL_CLIENTS; i++) {
        const fl_client_t *c = &l->clients[i];
        for (int k = 0; k < c->don_refused && k < FL_REFUSED_KEPT; k++) {
            char ids[LC_ID_STRLEN + 1];
            s_donation_id(l, c->don_refused_keys[k], ids);
            if (s_sql(l, "SELECT count(*) FROM donation.donations WHERE id = $1 AND status <> 3",
                      ids) != 0 ||
                s_sql(l,
                      "SELECT count(*) FROM ledger.journal WHERE entry_type = 2 AND "
                      "user_data = $1",
                      ids) != 0)
                fail_msg("refused donation %s (id %s) was applied", c->don_refused_keys[k], ids);
        }
    }
    /* The derivation above is the service's: it gives an acknowledged donation's id
     * (else the checks above could not fail). */
    for (int i = 0; i < FL_CLIENTS; i++) {
        const fl_client_t *c = &l->clients[i];
        if (!c->don_acked)
            continue;
        char ids[LC_ID_STRLEN + 1];
        s_donation_id(l, c->don_first_key, ids);
        assert_string_equal(ids, c->don_first_id);
    }
    assert_int_equal(s_sql(l, "SELECT count(*) FROM donation.donations WHERE status = 1", NULL), 0);
    int64_t rows = s_sql(l, "SELECT count(*) FROM donation.donations WHERE status = 2", NULL);
    int64_t points = s_sql(l,
                           "SELECT coalesce(sum(points), 0) FROM donation.donations WHERE "
                           "status = 2",
                           NULL);
    int64_t matched = s_sql(l,
                            "SELECT coalesce(sum(matched_points), 0) FROM donation.donations "
                            "WHERE status = 2",
                            NULL);
    if (rows != t->don_acked || points != t->don_points || matched != t->don_matched)
        fail_msg("donations stored: %lld (%lld points, %lld matched); acknowledged: %lld (%lld, "
                 "%lld)",
                 (long long)rows, (long long)points, (long long)matched, (long long)t->don_acked,
                 (long long)t->don_points, (long long)t->don_matched);
    /* each posted donation with its transfers, of its points */
    assert_int_equal(s_sql(l,
                           "SELECT count(*) FROM donation.donations d WHERE d.status = 2 AND "
                           "NOT EXISTS (SELECT 1 FROM ledger.journal j WHERE j.entry_type = 2 "
                           "AND j.id = d.member_transfer AND j.code = 101 AND j.amount = "
                           "d.points AND j.debit_account_id = d.member_id)",
                           NULL),
                     0);
    assert_int_equal(s_sql(l,
                           "SELECT count(*) FROM donation.donations d WHERE d.status = 2 AND "
                           "d.matched_points > 0 AND NOT EXISTS (SELECT 1 FROM ledger.journal "
                           "j WHERE j.entry_type = 2 AND j.id = d.match_transfer AND j.code = "
                           "102 AND j.amount = d.matched_points)",
                           NULL),
                     0);
    /* and the journal holds no other: one gift per acknowledged donation */
    assert_int_equal(s_sql(l,
                           "SELECT count(*) FROM ledger.journal WHERE entry_type = 2 AND "
                           "code = 101",
                           NULL),
                     t->don_acked);
    assert_int_equal(s_sql(l,
                           "SELECT coalesce(sum(amount), 0) FROM ledger.journal WHERE "
                           "entry_type = 2 AND code = 101",
                           NULL),
                     t->don_points);
    assert_int_equal(s_sql(l,
                           "SELECT coalesce(sum(amount), 0) FROM ledger.journal WHERE "
                           "entry_type = 2 AND code = 102",
                           NULL),
                     t->don_matched);
    for (int m = 0; m < l->nmembers; m++) {
        int64_t gave = s_sql(l,
                             "SELECT coalesce(sum(amount), 0) FROM ledger.journal WHERE "
                             "entry_type = 2 AND code = 101 AND debit_account_id = $1",
                             l->members[m]);
        if (gave != t->member_donated[m])
            fail_msg("member %d: %lld points donated in the journal, %lld acknowledged", m,
                     (long long)gave, (long long)t->member_donated[m]);
    }
    /* the cap held; the campaign's counters are the journal's */
    const char *cp[] = {l->campaign_id};
    int64_t camp_matched = s_sqlv(l,
                                  "SELECT coalesce(sum(j.amount), 0) FROM ledger.journal j "
                                  "JOIN donation.donations d ON d.id = j.user_data WHERE "
                                  "j.entry_type = 2 AND j.code = 102 AND d.campaign_id = $1",
                                  1, cp);
    assert_true(camp_matched <= FL_MATCH_CAP);
    assert_int_equal(
        s_sqlv(l, "SELECT matched_points FROM donation.campaigns WHERE id = $1", 1, cp),
        camp_matched);
    assert_int_equal(s_sqlv(l, "SELECT raised_points FROM donation.campaigns WHERE id = $1", 1, cp),
                     s_sqlv(l,
                            "SELECT coalesce(sum(j.amount), 0) FROM ledger.journal j JOIN "
                            "donation.donations d ON d.id = j.user_data WHERE j.entry_type = "
                            "2 AND j.code = 101 AND d.campaign_id = $1",
                            1, cp));
}

/* ---- figures: the months of the run ------------------------------------------------ */

/* A month the run booked in: its name and its first and last microsecond. */
typedef struct fl_period {
    char name[LC_PERIOD_STRLEN + 1];
    char first[24], last[24]; /* as SQL parameters */
} fl_period_t;

/* The months between the journal's first and last transfer (a run that crosses the
 * turn of a month books in two); returns how many. */
static int s_periods(const fl_load_t *l, fl_period_t out[FL_PERIODS_MAX])
{
    int64_t lo = s_sql(l, "SELECT min(ts) FROM ledger.journal WHERE entry_type = 2", NULL);
    int64_t hi = s_sql(l, "SELECT max(ts) FROM ledger.journal WHERE entry_type = 2", NULL);
    lc_period_t p;
    assert_int_equal(lc_period_of(lo, &p), LC_OK);
    int n = 0;
    for (;;) {
        int64_t first, last;
        assert_true(n < FL_PERIODS_MAX);
        assert_int_equal(lc_period_first_us(&p, &first), LC_OK);
        assert_int_equal(lc_period_last_us(&p, &last), LC_OK);
        assert_int_equal(lc_period_format(&p, out[n].name), LC_OK);
        snprintf(out[n].first, sizeof out[n].first, "%" PRId64, first);
        snprintf(out[n].last, sizeof out[n].last, "%" PRId64, last);
        n++;
        if (last >= hi)
            return n;
        assert_int_equal(lc_period_of(last + 1, &p), LC_OK);
    }
}

/* GET path as key, asked again while it answers 503 or 429 (the fault suites run
 * the gateway with a short bus deadline that a whole-journal read may pass); fails
 * the test unless it ends with 200. *r is the caller's to clear. */
static void s_get(fl_load_t *l, const char *key, const char *path, e2e_resp_t *r)
{
    for (int attempt = 0;; attempt++) {
        e2e_http(l->e, "GET", path, key, NULL, NULL, NULL, r);
        if (r->status == 200)
            return;
        if ((r->status != 503 && r->status != 429) || attempt + 1 >= FL_GET_TRIES)
            fail_msg("GET %s: %ld %s", path, r->status, r->raw ? r->raw : "");
        e2e_resp_clear(r);
        usleep(500 * 1000);
    }
}

/* The entry of array list in r whose field key is id; fails the test when none. */
static const json_t *s_line(const e2e_resp_t *r, const char *list, const char *key, const char *id)
{
    size_t i;
    json_t *x;
    json_array_foreach(json_object_get(r->body, list), i, x)
    {
        const char *v = json_string_value(json_object_get(x, key));
        if (v && !strcmp(v, id))
            return x;
    }
    fail_msg("%s %s not in %s", key, id, r->raw ? r->raw : "");
    return NULL;
}

static int64_t s_int(const json_t *o, const char *f)
{
    return json_integer_value(json_object_get(o, f));
}

/* Journal sum of the transfers of code (101 or 102) booked in month p: of those
 * into charity (its id) when by is "charity", of the donations to campaign when
 * "campaign", of all when NULL. */
static int64_t s_journal_donated(const fl_load_t *l, const fl_period_t *p, int code, const char *by,
                                 const char *id)
{
    char codes[8];
    snprintf(codes, sizeof codes, "%d", code);
    const char *params[] = {codes, p->first, p->last, id};
    if (!by)
        return s_sqlv(l,
                      "SELECT coalesce(sum(amount), 0) FROM ledger.journal WHERE entry_type "
                      "= 2 AND code = $1::int AND ts BETWEEN $2::bigint AND $3::bigint",
                      3, params);
    if (!strcmp(by, "charity"))
        return s_sqlv(l,
                      "SELECT coalesce(sum(j.amount), 0) FROM ledger.journal j JOIN "
                      "donation.charities c ON c.account_id = j.credit_account_id WHERE "
                      "j.entry_type = 2 AND j.code = $1::int AND j.ts BETWEEN $2::bigint AND "
                      "$3::bigint AND c.id = $4::uuid",
                      4, params);
    return s_sqlv(l,
                  "SELECT coalesce(sum(j.amount), 0) FROM ledger.journal j JOIN "
                  "donation.donations d ON d.id = j.user_data WHERE j.entry_type = 2 AND "
                  "j.code = $1::int AND j.ts BETWEEN $2::bigint AND $3::bigint AND "
                  "d.campaign_id = $4::uuid",
                  4, params);
}

/* A report line (a charity's or a campaign's) against the journal of month p. */
static void s_check_report_line(fl_load_t *l, const fl_period_t *p, const json_t *line,
                                const char *by, const char *id)
{
    int64_t donated = s_journal_donated(l, p, DN_CODE_DONATION, by, id);
    int64_t matched = s_journal_donated(l, p, DN_CODE_MATCH, by, id);
    const json_t *value = json_object_get(line, "value");
    if (s_int(line, "donated_points") != donated || s_int(line, "matched_points") != matched ||
        s_int(line, "pooled_points") != 0 || s_int(line, "points") != donated + matched ||
        s_int(value, "amount") != (donated + matched) * FL_POINT_VALUE_CENTS)
        fail_msg("%s: report %s %s: donated %lld matched %lld points %lld value %lld; journal: "
                 "donated %lld matched %lld",
                 p->name, by, id, (long long)s_int(line, "donated_points"),
                 (long long)s_int(line, "matched_points"), (long long)s_int(line, "points"),
                 (long long)s_int(value, "amount"), (long long)donated, (long long)matched);
    assert_string_equal(json_string_value(json_object_get(value, "currency")), "EUR");
}

/* The month's donation report equals the journal, per charity and campaign and in
 * total; returns its total points. */
static int64_t s_check_report(fl_load_t *l, const fl_period_t *p)
{
    char path[100];
    snprintf(path, sizeof path, "/v1/donations/report/%s", p->name);
    e2e_resp_t r;
    s_get(l, l->auditor_key, path, &r);
    int64_t total = s_journal_donated(l, p, DN_CODE_DONATION, NULL, NULL) +
                    s_journal_donated(l, p, DN_CODE_MATCH, NULL, NULL);
    if (total > 0) {
        s_check_report_line(l, p, s_line(&r, "charities", "charity_id", l->charity_id), "charity",
                            l->charity_id);
        s_check_report_line(l, p, s_line(&r, "campaigns", "campaign_id", l->campaign_id),
                            "campaign", l->campaign_id);
    }
    /* the load's charity is the only one: the total is the journal's */
    assert_int_equal(e2e_int(&r, "total_points"), total);
    assert_int_equal(s_int(json_object_get(r.body, "total_value"), "amount"),
                     total * FL_POINT_VALUE_CENTS);
    assert_int_equal(e2e_int(&r, "pool_donated_points"), 0);
    e2e_resp_clear(&r);
    return total;
}

/* ---- figures: statements -------------------------------------------------------------- */

/* Waits (bounded) until settlement's statement consumer has consumed the journal up
 * to its head: reconciliation compares only what it consumed. */
static void s_wait_statements(fl_load_t *l)
{
    int64_t head = s_sql(l, "SELECT coalesce(max(seq), 0) FROM ledger.journal", NULL);
    int64_t deadline = lc_mono_ms() + FL_STATEMENTS_WAIT_MS, cursor;
    while ((cursor = s_sql(l, "SELECT last_seq FROM settlement.statement_cursor", NULL)) < head &&
           lc_mono_ms() < deadline)
        usleep(100 * 1000);
    if (cursor < head)
        fail_msg("the statements consumed the journal to %lld of %lld", (long long)cursor,
                 (long long)head);
}

/* Reconciliation of month p finds no difference; the partner's statement of p:
 * its issued and matched points (added to *issued, *match). */
static void s_check_statements(fl_load_t *l, const fl_period_t *p, int64_t *issued, int64_t *match)
{
    char path[100];
    snprintf(path, sizeof path, "/v1/audit/reconcile/%s", p->name);
    e2e_resp_t r;
    s_get(l, l->auditor_key, path, &r);
    if (!json_is_true(json_object_get(r.body, "ok")) ||
        json_array_size(json_object_get(r.body, "differences")) != 0)
        fail_msg("reconciliation of %s: %s", p->name, r.raw);
    assert_int_equal(e2e_int(&r, "trial_balance_sum"), 0);
    assert_true(e2e_int(&r, "statements_seq") >=
                s_sql(l, "SELECT coalesce(max(seq), 0) FROM ledger.journal", NULL));
    assert_true(e2e_int(&r, "entries_checked") > 0);
    e2e_resp_clear(&r);
    snprintf(path, sizeof path, "/v1/statements/%s", p->name);
    s_get(l, l->partner_key, path, &r);
    assert_string_equal(e2e_str(&r, "partner_id"), l->partner_id);
    *issued += e2e_int(&r, "issued_points");
    *match += e2e_int(&r, "match_points");
    e2e_resp_clear(&r);
}

void fl_check_figures(fl_load_t *l, const fl_totals_t *t)
{
    s_check_donations(l, t);
    fl_period_t p[FL_PERIODS_MAX];
    int n = s_periods(l, p);
    int64_t reported = 0, issued = 0, match = 0;
    for (int i = 0; i < n; i++)
        reported += s_check_report(l, &p[i]);
    assert_int_equal(reported, t->don_points + t->don_matched);
    s_wait_statements(l);
    for (int i = 0; i < n; i++)
        s_check_statements(l, &p[i], &issued, &match);
    if (issued != t->points || match != t->don_matched)
        fail_msg("statements: %lld points issued, %lld matched; acknowledged: %lld earned, %lld "
                 "matched",
                 (long long)issued, (long long)match, (long long)t->points,
                 (long long)t->don_matched);
}
