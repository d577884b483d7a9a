/*
 * dn_store.c: the donation service's rows in PostgreSQL (dn_store.h). SQL lives here
 * only.
 */
#include "dn_store.h"
#include "lc_dbparams.h"
#include "lc_err.h"
#include "lc_log.h"
#include "lc_time.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define UNIQUE_VIOLATION "23505"
#define CHECK_VIOLATION "23514"

/* Runs a statement on the service's connection. A unique or check violation is the
 * caller's conflict (a duplicate or a rule the row breaks); other failures are
 * logged here. */
static int s_exec(dn_server_t *s, const char *sql, const lc_dbp_t *p, lc_dbres_t **out)
{
    int rc = lc_dbp_exec(s->db, sql, p, out);
    if (rc == LC_ERR_DB && (!strcmp(lc_db_sqlstate(s->db), UNIQUE_VIOLATION) ||
                            !strcmp(lc_db_sqlstate(s->db), CHECK_VIOLATION)))
        return LC_ERR_CONFLICT;
    if (rc != LC_OK)
        lc_log_kv(LC_LOG_ERROR, NULL, "donation database statement failed", "sqlstate",
                  lc_db_sqlstate(s->db), "error", lc_db_error(s->db), NULL);
    return rc;
}

/* Runs a query expected to give at most one row; LC_ERR_NOT_FOUND for none. */
static int s_one(dn_server_t *s, const char *sql, const lc_dbp_t *p, lc_dbres_t **out)
{
    return lc_dbres_one(s_exec(s, sql, p, out), out);
}

int dn_store_ensure(dn_server_t *s)
{
    if (s->db && lc_db_alive(s->db))
        return LC_OK;
    lc_db_destroy(&s->db);
    char *err = NULL;
    s->db = lc_db_connect(s->cfg.conninfo, &err);
    if (!s->db) {
        lc_log_kv(LC_LOG_ERROR, NULL, "cannot connect to the donation database", "error",
                  err ? err : "", NULL);
        free(err);
        return LC_ERR_UNAVAILABLE;
    }
    return LC_OK;
}

/* Runs a statement that must touch exactly one row (RETURNING 1). */
static int s_touch_one(dn_server_t *s, const char *sql, const lc_dbp_t *p)
{
    lc_dbres_t *r = NULL;
    int rc = s_exec(s, sql, p, &r);
    if (rc == LC_OK && lc_dbres_rows(r) != 1)
        rc = LC_ERR_CONFLICT;
    lc_dbres_free(&r);
    return rc;
}

/* ---- charities ------------------------------------------------------------------------ */

#define CHARITY_COLS "id, name, registration_no, verified, payout_account, account_id, created_at"

static int s_charity_row(const lc_dbres_t *r, int row, dn_charity_t *c)
{
    memset(c, 0, sizeof *c);
    bool nomem = false;
    c->id = lc_dbcell_id(r, row, 0);
    c->name = lc_dbcell_dup(r, row, 1, &nomem);
    c->registration_no = lc_dbcell_dup(r, row, 2, &nomem);
    c->verified = lc_dbcell_bool(r, row, 3);
    c->payout_account = lc_dbcell_dup(r, row, 4, &nomem);
    c->account_id = lc_dbcell_id(r, row, 5);
    c->created_at = lc_dbcell_i64(r, row, 6);
    return nomem ? LC_ERR_NOMEM : LC_OK;
}

int dn_store_charity_insert(dn_server_t *s, const dn_charity_t *ch, const lc_id_t *created_by)
{
    lc_dbp_t p = {.n = 0};
    lc_dbp_id(&p, &ch->id);
    lc_dbp_str(&p, ch->name);
    lc_dbp_str(&p, ch->registration_no);
    lc_dbp_bool(&p, ch->verified);
    lc_dbp_str(&p, ch->payout_account);
    lc_dbp_id(&p, &ch->account_id);
    lc_dbp_id(&p, created_by);
    lc_dbp_i64(&p, ch->created_at);
    return s_exec(s,
                  "INSERT INTO donation.charities (" CHARITY_COLS ", created_by_key) "
                  "VALUES ($1, $2, $3, $4, $5, $6, $8, $7)",
                  &p, NULL);
}

int dn_store_charity_get(dn_server_t *s, const lc_id_t *id, dn_charity_t *out)
{
    lc_dbp_t p = {.n = 0};
    lc_dbp_id(&p, id);
    lc_dbres_t *r = NULL;
    int rc = s_one(s, "SELECT " CHARITY_COLS " FROM donation.charities WHERE id = $1", &p, &r);
    if (rc == LC_OK) {
        rc = s_charity_row(r, 0, out);
        if (rc != LC_OK)
            lc_codec_clear(&dn_charity_desc, out);
    }
    lc_dbres_free(&r);
    return rc;
}

int dn_store_charity_list(dn_server_t *s, const lc_id_t *after, int64_t limit, dn_charity_t **out,
                          size_t *n)
{
    *out = NULL;
    *n = 0;
    lc_dbp_t p = {.n = 0};
    lc_dbp_id(&p, after);
    lc_dbp_i64(&p, limit);
    lc_dbres_t *r = NULL;
    int rc = s_exec(s,
                    "SELECT " CHARITY_COLS " FROM donation.charities "
                    "WHERE $1::uuid IS NULL OR id > $1 ORDER BY id LIMIT $2",
                    &p, &r);
    if (rc != LC_OK)
        return rc;
    int rows = lc_dbres_rows(r);
    *out = calloc(rows ? (size_t)rows : 1, sizeof **out);
    if (!*out)
        rc = LC_ERR_NOMEM;
    for (int i = 0; rc == LC_OK && i < rows; i++) {
        rc = s_charity_row(r, i, &(*out)[i]);
        *n = (size_t)i + 1;
    }
    lc_dbres_free(&r);
    return rc;
}

/* ---- campaigns ------------------------------------------------------------------------ */

#define CAMPAIGN_COLS                                                                              \
    "id, charity_id, name, goal_points, starts_at, ends_at, match_partner_id, ratio_bps, "         \
    "cap_points, raised_points, matched_points, created_at"

static int s_campaign_row(const lc_dbres_t *r, int row, dn_campaign_t *c)
{
    memset(c, 0, sizeof *c);
    bool nomem = false;
    c->id = lc_dbcell_id(r, row, 0);
    c->charity_id = lc_dbcell_id(r, row, 1);
    c->name = lc_dbcell_dup(r, row, 2, &nomem);
    c->goal_points = lc_dbcell_i64(r, row, 3);
    c->starts_at = lc_dbcell_i64(r, row, 4);
    c->ends_at = lc_dbcell_i64(r, row, 5);
    c->match.partner_id = lc_dbcell_id(r, row, 6);
    c->match.ratio_bps = lc_dbcell_i64(r, row, 7);
    c->match.cap_points = lc_dbcell_i64(r, row, 8);
    c->raised_points = lc_dbcell_i64(r, row, 9);
    c->matched_points = lc_dbcell_i64(r, row, 10);
    c->created_at = lc_dbcell_i64(r, row, 11);
    return nomem ? LC_ERR_NOMEM : LC_OK;
}

int dn_store_campaign_insert(dn_server_t *s, const dn_campaign_t *cp)
{
    lc_dbp_t p = {.n = 0};
    lc_dbp_id(&p, &cp->id);
    lc_dbp_id(&p, &cp->charity_id);
    lc_dbp_str(&p, cp->name);
    lc_dbp_i64(&p, cp->goal_points);
    lc_dbp_i64(&p, cp->starts_at);
    lc_dbp_i64(&p, cp->ends_at);
    lc_dbp_id(&p, &cp->match.partner_id);
    lc_dbp_i64(&p, cp->match.ratio_bps);
    lc_dbp_i64(&p, cp->match.cap_points);
    lc_dbp_i64(&p, cp->created_at);
    return s_exec(s,
                  "INSERT INTO donation.campaigns (id, charity_id, name, goal_points, starts_at, "
                  "ends_at, match_partner_id, ratio_bps, cap_points, created_at) "
                  "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
                  &p, NULL);
}

int dn_store_campaign_get(dn_server_t *s, const lc_id_t *id, dn_campaign_t *out)
{
    lc_dbp_t p = {.n = 0};
    lc_dbp_id(&p, id);
    lc_dbres_t *r = NULL;
    int rc = s_one(s, "SELECT " CAMPAIGN_COLS " FROM donation.campaigns WHERE id = $1", &p, &r);
    if (rc == LC_OK) {
        rc = s_campaign_row(r, 0, out);
        if (rc != LC_OK)
            lc_codec_clear(&dn_campaign_desc, out);
    }
    lc_dbres_free(&r);
    return rc;
}

int dn_store_campaign_list(dn_server_t *s, const lc_id_t *after, int64_t limit,
                           const lc_id_t *charity, dn_campaign_t **out, size_t *n)
{
    *out = NULL;
    *n = 0;
    lc_dbp_t p = {.n = 0};
    lc_dbp_id(&p, after);
    lc_dbp_i64(&p, limit);
    lc_dbp_id(&p, charity);
    lc_dbres_t *r = NULL;
    int rc = s_exec(s,
                    "SELECT " CAMPAIGN_COLS " FROM donation.campaigns "
                    "WHERE ($1::uuid IS NULL OR id > $1) AND ($3::uuid IS NULL OR charity_id = $3) "
                    "ORDER BY id LIMIT $2",
                    &p, &r);
    if (rc != LC_OK)
        return rc;
    int rows = lc_dbres_rows(r);
    *out = calloc(rows ? (size_t)rows : 1, sizeof **out);
    if (!*out)
        rc = LC_ERR_NOMEM;
    for (int i = 0; rc == LC_OK && i < rows; i++) {
        rc = s_campaign_row(r, i, &(*out)[i]);
        *n = (size_t)i + 1;
    }
    lc_dbres_free(&r);
    return rc;
}

/* ---- donations ------------------------------------------------------------------------ */

#define DONATION_COLS                                                                              \
    "id, member_id, charity_id, campaign_id, pool, points, matched_points, match_partner_id, "     \
    "value_cents, source, pledge_id, member_transfer, match_transfer, status, refusal, "           \
    "booked_at, created_at"

static void s_donation_row(const lc_dbres_t *r, int row, dn_donation_row_t *d)
{
    memset(d, 0, sizeof *d);
    d->id = lc_dbcell_id(r, row, 0);
    d->member_id = lc_dbcell_id(r, row, 1);
    d->charity_id = lc_dbcell_id(r, row, 2);
    d->campaign_id = lc_dbcell_id(r, row, 3);
    d->pool = lc_dbcell_bool(r, row, 4);
    d->points = lc_dbcell_i64(r, row, 5);
    d->matched_points = lc_dbcell_i64(r, row, 6);
    d->match_partner_id = lc_dbcell_id(r, row, 7);
    d->value_cents = lc_dbcell_i64(r, row, 8);
    d->source = (int)lc_dbcell_i64(r, row, 9);
    d->pledge_id = lc_dbcell_id(r, row, 10);
    d->member_transfer = lc_dbcell_id(r, row, 11);
    d->match_transfer = lc_dbcell_id(r, row, 12);
    d->status = (int)lc_dbcell_i64(r, row, 13);
    const char *refusal = lc_dbres_get(r, row, 14);
    snprintf(d->refusal, sizeof d->refusal, "%s", refusal ? refusal : "");
    d->booked_at = lc_dbres_get(r, row, 15) ? lc_dbcell_i64(r, row, 15) : 0;
    d->created_at = lc_dbcell_i64(r, row, 16);
}

int dn_store_donated_since(dn_server_t *s, const lc_id_t *member, int64_t since, int64_t *points)
{
    lc_dbp_t p = {.n = 0};
    lc_dbp_id(&p, member);
    lc_dbp_i64(&p, since);
    lc_dbres_t *r = NULL;
    int rc = s_one(s,
                   "SELECT COALESCE(SUM(points), 0) FROM donation.donations WHERE member_id = $1 "
                   "AND created_at >= $2 AND source = 1 AND status <> 3",
                   &p, &r);
    if (rc != LC_OK)
        return rc;
    *points = lc_dbcell_i64(r, 0, 0);
    lc_dbres_free(&r);
    return LC_OK;
}

int dn_store_donation_get(dn_server_t *s, const lc_id_t *id, dn_donation_row_t *out)
{
    lc_dbp_t p = {.n = 0};
    lc_dbp_id(&p, id);
    lc_dbres_t *r = NULL;
    int rc = s_one(s, "SELECT " DONATION_COLS " FROM donation.donations WHERE id = $1", &p, &r);
    if (rc == LC_OK)
        s_donation_row(r, 0, out);
    lc_dbres_free(&r);
    return rc;
}

int dn_store_donation_reserve(dn_server_t *s, const dn_donation_row_t *d)
{
    int rc = lc_db_begin(s->db);
    if (rc != LC_OK)
        return rc;
    lc_dbp_t p = {.n = 0};
    lc_dbp_id(&p, &d->id);
    lc_dbp_id(&p, &d->member_id);
    lc_dbp_id(&p, &d->charity_id);
    lc_dbp_id(&p, &d->campaign_id);
    lc_dbp_bool(&p, d->pool);
    lc_dbp_i64(&p, d->points);
    lc_dbp_i64(&p, d->matched_points);
    lc_dbp_id(&p, &d->match_partner_id);
    lc_dbp_i64(&p, d->value_cents);
    lc_dbp_i64(&p, d->source);
    lc_dbp_id(&p, &d->pledge_id);
    lc_dbp_id(&p, &d->member_transfer);
    lc_dbp_id(&p, &d->match_transfer);
    lc_dbp_i64(&p, d->created_at);
    rc = s_exec(s,
                "INSERT INTO donation.donations (id, member_id, charity_id, campaign_id, pool, "
                "points, matched_points, match_partner_id, value_cents, source, pledge_id, "
                "member_transfer, match_transfer, status, created_at) "
                "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, 1, $14)",
                &p, NULL);
    if (rc == LC_OK && !lc_id_is_zero(&d->campaign_id)) {
        lc_dbp_t q = {.n = 0};
        lc_dbp_id(&q, &d->campaign_id);
        lc_dbp_i64(&q, d->points);
        lc_dbp_i64(&q, d->matched_points);
        /* The cap is checked here, in the row's transaction, and by the table. */
        rc = s_touch_one(s,
                         "UPDATE donation.campaigns SET raised_points = raised_points + $2, "
                         "matched_points = matched_points + $3 "
                         "WHERE id = $1 AND matched_points + $3 <= cap_points RETURNING 1",
                         &q);
    }
    return lc_db_end(s->db, rc);
}

int dn_store_donation_posted(dn_server_t *s, const lc_id_t *id, int64_t booked_at,
                             const dn_receipt_t *r)
{
    int rc = lc_db_begin(s->db);
    if (rc != LC_OK)
        return rc;
    lc_dbp_t p = {.n = 0};
    lc_dbp_id(&p, id);
    lc_dbp_i64(&p, booked_at);
    rc = s_touch_one(s,
                     "UPDATE donation.donations SET status = 2, booked_at = $2 "
                     "WHERE id = $1 AND status = 1 RETURNING 1",
                     &p);
    if (rc == LC_OK) {
        lc_dbp_t q = {.n = 0};
        lc_dbp_id(&q, id);
        lc_dbp_str(&q, r->key_id);
        lc_dbp_str(&q, r->payload);
        lc_dbp_str(&q, r->signature);
        lc_dbp_i64(&q, booked_at);
        rc = s_exec(s,
                    "INSERT INTO donation.receipts (donation_id, key_id, payload, signature, "
                    "created_at) VALUES ($1, $2, $3, $4, $5)",
                    &q, NULL);
    }
    return lc_db_end(s->db, rc);
}

int dn_store_donation_failed(dn_server_t *s, const dn_donation_row_t *d, const char *code)
{
    int rc = lc_db_begin(s->db);
    if (rc != LC_OK)
        return rc;
    lc_dbp_t p = {.n = 0};
    lc_dbp_id(&p, &d->id);
    lc_dbp_str(&p, code);
    rc = s_touch_one(s,
                     "UPDATE donation.donations SET status = 3, refusal = $2 "
                     "WHERE id = $1 AND status = 1 RETURNING 1",
                     &p);
    if (rc == LC_OK && !lc_id_is_zero(&d->campaign_id)) {
        lc_dbp_t q = {.n = 0};
        lc_dbp_id(&q, &d->campaign_id);
        lc_dbp_i64(&q, d->points);
        lc_dbp_i64(&q, d->matched_points);
        rc = s_touch_one(s,
                         "UPDATE donation.campaigns SET raised_points = raised_points - $2, "
                         "matched_points = matched_points - $3 WHERE id = $1 RETURNING 1",
                         &q);
    }
    return lc_db_end(s->db, rc);
}

int dn_store_donations_pending(dn_server_t *s, int max, dn_donation_row_t *out, size_t *n)
{
    *n = 0;
    lc_dbp_t p = {.n = 0};
    lc_dbp_i64(&p, max);
    lc_dbres_t *r = NULL;
    int rc = s_exec(s,
                    "SELECT " DONATION_COLS " FROM donation.donations WHERE status = 1 "
                    "ORDER BY created_at LIMIT $1",
                    &p, &r);
    if (rc != LC_OK)
        return rc;
    for (int i = 0; i < lc_dbres_rows(r) && i < max; i++)
        s_donation_row(r, i, &out[(*n)++]);
    lc_dbres_free(&r);
    return LC_OK;
}

int dn_store_receipt_get(dn_server_t *s, const lc_id_t *donation, dn_receipt_t *out)
{
    memset(out, 0, sizeof *out);
    lc_dbp_t p = {.n = 0};
    lc_dbp_id(&p, donation);
    lc_dbres_t *r = NULL;
    int rc = s_one(s,
                   "SELECT donation_id, key_id, payload, signature FROM donation.receipts "
                   "WHERE donation_id = $1",
                   &p, &r);
    if (rc == LC_OK) {
        bool nomem = false;
        out->donation_id = lc_dbcell_id(r, 0, 0);
        out->key_id = lc_dbcell_dup(r, 0, 1, &nomem);
        out->payload = lc_dbcell_dup(r, 0, 2, &nomem);
        out->signature = lc_dbcell_dup(r, 0, 3, &nomem);
        if (nomem) {
            lc_codec_clear(&dn_receipt_desc, out);
            rc = LC_ERR_NOMEM;
        }
    }
    lc_dbres_free(&r);
    return rc;
}

/* ---- pledges ------------------------------------------------------------------------ */

#define PLEDGE_COLS "id, member_id, charity_id, points, created_at, cancelled_at"

static void s_pledge_row(const lc_dbres_t *r, int row, dn_pledge_t *pl)
{
    memset(pl, 0, sizeof *pl);
    pl->id = lc_dbcell_id(r, row, 0);
    pl->member_id = lc_dbcell_id(r, row, 1);
    pl->charity_id = lc_dbcell_id(r, row, 2);
    pl->points = lc_dbcell_i64(r, row, 3);
    pl->created_at = lc_dbcell_i64(r, row, 4);
    pl->cancelled_at = lc_dbres_get(r, row, 5) ? lc_dbcell_i64(r, row, 5) : 0;
    pl->status = lc_dbres_get(r, row, 5) ? DN_PLEDGE_CANCELLED : DN_PLEDGE_ACTIVE;
}

int dn_store_pledge_insert(dn_server_t *s, const dn_pledge_t *pl)
{
    lc_dbp_t p = {.n = 0};
    lc_dbp_id(&p, &pl->id);
    lc_dbp_id(&p, &pl->member_id);
    lc_dbp_id(&p, &pl->charity_id);
    lc_dbp_i64(&p, pl->points);
    lc_dbp_i64(&p, pl->created_at);
    return s_exec(s,
                  "INSERT INTO donation.pledges (id, member_id, charity_id, points, created_at) "
                  "VALUES ($1, $2, $3, $4, $5)",
                  &p, NULL);
}

int dn_store_pledge_get(dn_server_t *s, const lc_id_t *id, dn_pledge_t *out)
{
    lc_dbp_t p = {.n = 0};
    lc_dbp_id(&p, id);
    lc_dbres_t *r = NULL;
    int rc = s_one(s, "SELECT " PLEDGE_COLS " FROM donation.pledges WHERE id = $1", &p, &r);
    if (rc == LC_OK)
        s_pledge_row(r, 0, out);
    lc_dbres_free(&r);
    return rc;
}

int dn_store_pledge_cancel(dn_server_t *s, const lc_id_t *id, int64_t at)
{
    lc_dbp_t p = {.n = 0};
    lc_dbp_id(&p, id);
    lc_dbp_i64(&p, at);
    return s_exec(s,
                  "UPDATE donation.pledges SET cancelled_at = $2 "
                  "WHERE id = $1 AND cancelled_at IS NULL",
                  &p, NULL);
}

int dn_store_pledges_due(dn_server_t *s, int64_t end, const lc_id_t *after, int64_t limit,
                         dn_pledge_t **out, size_t *n)
{
    *out = NULL;
    *n = 0;
    lc_dbp_t p = {.n = 0};
    lc_dbp_i64(&p, end);
    lc_dbp_id(&p, after);
    lc_dbp_i64(&p, limit);
    lc_dbres_t *r = NULL;
    int rc = s_exec(s,
                    "SELECT " PLEDGE_COLS " FROM donation.pledges WHERE cancelled_at IS NULL "
                    "AND created_at < $1 AND ($2::uuid IS NULL OR id > $2) ORDER BY id LIMIT $3",
                    &p, &r);
    if (rc != LC_OK)
        return rc;
    int rows = lc_dbres_rows(r);
    *out = calloc(rows ? (size_t)rows : 1, sizeof **out);
    if (!*out)
        rc = LC_ERR_NOMEM;
    for (int i = 0; rc == LC_OK && i < rows; i++)
        s_pledge_row(r, i, &(*out)[(*n)++]);
    lc_dbres_free(&r);
    return rc;
}

int dn_store_run_get(dn_server_t *s, const lc_id_t *pledge, const char *period,
                     dn_pledge_run_t *out)
{
    memset(out, 0, sizeof *out);
    lc_dbp_t p = {.n = 0};
    lc_dbp_id(&p, pledge);
    lc_dbp_str(&p, period);
    lc_dbres_t *r = NULL;
    int rc = s_one(s,
                   "SELECT pledge_id, status, reason, donation_id, points FROM donation.pledge_runs "
                   "WHERE pledge_id = $1 AND period = $2",
                   &p, &r);
    if (rc == LC_OK) {
        bool nomem = false;
        out->pledge_id = lc_dbcell_id(r, 0, 0);
        out->status = (int)lc_dbcell_i64(r, 0, 1);
        out->reason = lc_dbcell_dup(r, 0, 2, &nomem);
        out->donation_id = lc_dbcell_id(r, 0, 3);
        out->points = lc_dbcell_i64(r, 0, 4);
        if (nomem) {
            lc_codec_clear(&dn_pledge_run_desc, out);
            rc = LC_ERR_NOMEM;
        }
    }
    lc_dbres_free(&r);
    return rc;
}

int dn_store_run_insert(dn_server_t *s, const char *period, const dn_pledge_run_t *run)
{
    lc_dbp_t p = {.n = 0};
    lc_dbp_id(&p, &run->pledge_id);
    lc_dbp_str(&p, period);
    lc_dbp_i64(&p, run->status);
    lc_dbp_str(&p, run->reason);
    lc_dbp_id(&p, &run->donation_id);
    lc_dbp_i64(&p, run->points);
    lc_dbp_i64(&p, lc_now_us());
    return s_exec(s,
                  "INSERT INTO donation.pledge_runs (pledge_id, period, status, reason, "
                  "donation_id, points, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7)",
                  &p, NULL);
}

/* ---- periods and payouts ------------------------------------------------------------- */

int dn_store_period_sums(dn_server_t *s, int64_t start, int64_t end, dn_period_row_t **out,
                         size_t *n)
{
    *out = NULL;
    *n = 0;
    lc_dbp_t p = {.n = 0};
    lc_dbp_i64(&p, start);
    lc_dbp_i64(&p, end);
    lc_dbres_t *r = NULL;
    int rc = s_exec(s,
                    "SELECT charity_id, campaign_id, sum(points)::bigint, "
                    "sum(matched_points)::bigint FROM donation.donations "
                    "WHERE status = 2 AND booked_at >= $1 AND booked_at < $2 "
                    "GROUP BY charity_id, campaign_id "
                    "ORDER BY charity_id NULLS FIRST, campaign_id NULLS FIRST",
                    &p, &r);
    if (rc != LC_OK)
        return rc;
    int rows = lc_dbres_rows(r);
    *out = calloc(rows ? (size_t)rows : 1, sizeof **out);
    if (!*out)
        rc = LC_ERR_NOMEM;
    for (int i = 0; rc == LC_OK && i < rows; i++) {
        dn_period_row_t *x = &(*out)[(*n)++];
        x->charity_id = lc_dbcell_id(r, i, 0);
        x->campaign_id = lc_dbcell_id(r, i, 1);
        x->points = lc_dbcell_i64(r, i, 2);
        x->matched_points = lc_dbcell_i64(r, i, 3);
    }
    lc_dbres_free(&r);
    return rc;
}

int dn_store_payout_exists(dn_server_t *s, const char *period, bool *exists)
{
    lc_dbp_t p = {.n = 0};
    lc_dbp_str(&p, period);
    lc_dbres_t *r = NULL;
    int rc = s_exec(s, "SELECT 1 FROM donation.payouts WHERE period = $1", &p, &r);
    if (rc == LC_OK)
        *exists = lc_dbres_rows(r) > 0;
    lc_dbres_free(&r);
    return rc;
}

int dn_store_payout_insert(dn_server_t *s, const dn_report_t *rep, const lc_id_t *line_transfers,
                           const lc_id_t *share_transfers, const lc_id_t *created_by, int64_t at)
{
    int rc = lc_db_begin(s->db);
    if (rc != LC_OK)
        return rc;
    lc_dbp_t p = {.n = 0};
    lc_dbp_str(&p, rep->period);
    lc_dbp_i64(&p, rep->total_points);
    lc_dbp_i64(&p, rep->pool_allocated_points);
    lc_dbp_i64(&p, rep->pool_unallocated_points);
    lc_dbp_id(&p, created_by);
    lc_dbp_i64(&p, at);
    rc = s_exec(s,
                "INSERT INTO donation.payouts (period, total_points, pool_allocated_points, "
                "pool_unallocated_points, created_by_key, created_at) "
                "VALUES ($1, $2, $3, $4, $5, $6)",
                &p, NULL);
    for (size_t i = 0; rc == LC_OK && i < rep->ncharities; i++) {
        const dn_charity_line_t *l = &rep->charities[i];
        lc_dbp_t q = {.n = 0};
        lc_dbp_str(&q, rep->period);
        lc_dbp_id(&q, &l->charity_id);
        lc_dbp_i64(&q, l->donated_points);
        lc_dbp_i64(&q, l->matched_points);
        lc_dbp_i64(&q, l->pooled_points);
        lc_dbp_i64(&q, l->points);
        lc_dbp_i64(&q, l->value.amount);
        lc_dbp_id(&q, &line_transfers[i]);
        rc = s_exec(s,
                    "INSERT INTO donation.payout_lines (period, charity_id, donated_points, "
                    "matched_points, pooled_points, points, value_cents, transfer_id) "
                    "VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
                    &q, NULL);
    }
    for (size_t i = 0; rc == LC_OK && i < rep->ncampaigns; i++) {
        if (rep->campaigns[i].pooled_points == 0)
            continue;
        lc_dbp_t q = {.n = 0};
        lc_dbp_str(&q, rep->period);
        lc_dbp_id(&q, &rep->campaigns[i].campaign_id);
        lc_dbp_i64(&q, rep->campaigns[i].pooled_points);
        lc_dbp_id(&q, &share_transfers[i]);
        rc = s_exec(s,
                    "INSERT INTO donation.pool_shares (period, campaign_id, points, transfer_id) "
                    "VALUES ($1, $2, $3, $4)",
                    &q, NULL);
    }
    return lc_db_end(s->db, rc);
}
