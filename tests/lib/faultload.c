/*
 * faultload.c: the fault suites' load and after-checks (faultload.h).
 */
#include "faultload.h"
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

void fl_setup(fl_load_t *l, e2e_t *e, const char *tag, int nmembers, long max_cents)
{
    assert_true(nmembers >= 1 && nmembers <= FL_MEMBERS_MAX);
    memset(l, 0, sizeof *l);
    l->e = e;
    l->nmembers = nmembers;
    l->max_cents = max_cents;
    snprintf(l->tag, sizeof l->tag, "%s", tag);
    e2e_resp_t r;
    char body[300];
    snprintf(body, sizeof body,
             "{\"name\":\"%s\",\"earn_rate\":{\"points\":1,\"per_amount\":100},"
             "\"tariff\":{\"issue_price_micros\":1,\"redeem_credit_micros\":1,\"fee_bps\":0},"
             "\"funding\":\"postpaid\"}",
             tag);
    e2e_http(e, "POST", "/v1/partners", e->admin_key, e2e_idem(), body, NULL, &r);
    assert_int_equal(r.status, 201);
    snprintf(l->partner_key, sizeof l->partner_key, "%s", e2e_str(&r, "api_key"));
    e2e_resp_clear(&r);
    for (int i = 0; i < nmembers; i++) {
        e2e_http(e, "POST", "/v1/members", l->partner_key, e2e_idem(), "{}", NULL, &r);
        assert_int_equal(r.status, 201);
        snprintf(l->cards[i], sizeof l->cards[i], "%s", e2e_str(&r, "card_number"));
        snprintf(l->members[i], sizeof l->members[i], "%s", e2e_str(&r, "id"));
        e2e_resp_clear(&r);
    }
}

/* Sends one earn until a definitive answer; returns its status (0: gave up). */
static long s_earn(fl_client_t *c, const char *idem, const char *body)
{
    fl_load_t *l = c->load;
    int64_t deadline = lc_mono_ms() + FL_GIVE_UP_MS;
    for (int attempt = 0; lc_mono_ms() < deadline; attempt++) {
        e2e_resp_t r;
        bool got = e2e_http_try(l->e, "POST", "/v1/earn", l->partner_key, idem, body, NULL, &r);
        long status = got ? r.status : 0;
        e2e_resp_clear(&r);
        if (!got)
            c->lost_connections++;
        if (got && status < 500 && status != 429) {
            c->retries += attempt;
            return status;
        }
        usleep(got ? 50 * 1000 : 200 * 1000);
    }
    return 0;
}

static void *s_client(void *arg)
{
    fl_client_t *c = arg;
    fl_load_t *l = c->load;
    for (int n = 0; !atomic_load(&l->stop); n++) {
        int m = (int)(nrand48(c->rng) % (unsigned)l->nmembers);
        long cents = 100 + (long)(nrand48(c->rng) % (unsigned long)(l->max_cents - 99));
        char idem[64], body[256];
        snprintf(idem, sizeof idem, "%s-%d-%d", l->tag, c->index, n);
        snprintf(body, sizeof body,
                 "{\"card_number\":\"%s\",\"receipt_id\":\"%s\",\"amount\":{\"amount\":%ld,"
                 "\"currency\":\"EUR\"}}",
                 l->cards[m], idem, cents);
        long status = s_earn(c, idem, body);
        if (status == 201) {
            c->acked++;
            c->acked_points[m] += cents / 100; /* 1 point per 1.00 EUR, rounded down */
            continue;
        }
        if (c->refused < FL_REFUSED_KEPT)
            snprintf(c->refused_keys[c->refused], sizeof c->refused_keys[0], "%s", idem);
        c->refused++;
        if (!c->err[0])
            snprintf(c->err, sizeof c->err, "earn %s answered %ld", idem, status);
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
        t->acked += c->acked;
        t->refused += c->refused;
        t->retries += c->retries;
        t->lost_connections += c->lost_connections;
        for (int m = 0; m < l->nmembers; m++) {
            t->member_points[m] += c->acked_points[m];
            t->points += c->acked_points[m];
        }
    }
}

/* ---- checks --------------------------------------------------------------------- */

/* Runs sql (one integer: a count or a sum) in the suite's database with $1 = param
 * (NULL: no parameter), as the superuser. */
static int64_t s_sql(const fl_load_t *l, const char *sql, const char *param)
{
    lc_db_t *db = th_db_connect("coal_admin", l->e->db);
    lc_dbres_t *res = NULL;
    const char *params[] = {param};
    int64_t n = -1;
    if (lc_db_exec(db, sql, param ? 1 : 0, param ? params : NULL, &res) != LC_OK)
        fail_msg("%s: %s", sql, lc_db_error(db));
    lc_dbres_i64(res, 0, 0, &n);
    lc_dbres_free(&res);
    lc_db_destroy(&db);
    return n;
}

/* The base earn transfers: the partner's issuance account -> a member. Bonuses
 * (tiers, coupons) come from other accounts. */
#define SQL_BASE_EARNS                                                                       \
    "FROM ledger.journal j JOIN settlement.partners p ON j.debit_account_id = "              \
    "p.issuance_account WHERE j.entry_type = 2"

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
            assert_int_equal(s_sql(l, "SELECT count(*) FROM settlement.earns WHERE receipt_id "
                                      "= $1",
                                   l->clients[i].refused_keys[k]),
                             0);
    /* Settlement holds exactly the acknowledged earns, each with its transfer. */
    assert_int_equal(s_sql(l, "SELECT count(*) FROM settlement.earns", NULL), t->acked);
    assert_int_equal(s_sql(l, "SELECT count(*) FROM settlement.earns e WHERE NOT EXISTS "
                              "(SELECT 1 FROM ledger.journal j WHERE j.id = e.transfer_id)",
                           NULL),
                     0);
    assert_int_equal(s_sql(l, "SELECT count(*) FROM (SELECT id FROM ledger.journal GROUP BY id "
                              "HAVING count(*) > 1) d",
                           NULL),
                     0);
    /* One base transfer per acknowledged earn: a retry that booked a second one
     * would show here; each member got exactly its acknowledged points. */
    assert_int_equal(s_sql(l, "SELECT count(*) " SQL_BASE_EARNS, NULL), t->acked);
    for (int m = 0; m < l->nmembers; m++) {
        int64_t base = s_sql(l, "SELECT coalesce(sum(j.amount), 0) " SQL_BASE_EARNS
                                " AND j.credit_account_id = $1",
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
    assert_int_equal(s_sql(l, "SELECT coalesce(sum(credits_posted - debits_posted), 0) FROM "
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
    assert_true(s_sql(l, "SELECT count(*) FROM members.history", NULL) >= t->acked);
}
