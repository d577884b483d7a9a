/*
 * st_store.c: settlement's rows in PostgreSQL (st_store.h). SQL lives here only.
 */
#include "st_store.h"
#include "lc_dbparams.h"
#include "lc_err.h"
#include "lc_log.h"
#include "lc_time.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Runs a statement on this thread's connection; failures are logged here. */
static int s_exec(st_server_t *s, const char *sql, const lc_dbp_t *p, lc_dbres_t **out)
{
    int rc = lc_dbp_exec(s->db, sql, p, out);
    if (rc != LC_OK)
        lc_log_kv(LC_LOG_ERROR, NULL, "settlement database statement failed", "sqlstate",
                  lc_db_sqlstate(s->db), "error", lc_db_error(s->db), NULL);
    return rc;
}

/* Runs a query expected to give at most one row; LC_ERR_NOT_FOUND for none. */
static int s_one(st_server_t *s, const char *sql, const lc_dbp_t *p, lc_dbres_t **out)
{
    return lc_dbres_one(s_exec(s, sql, p, out), out);
}

int st_store_ensure(st_server_t *s)
{
    if (s->db && lc_db_alive(s->db))
        return LC_OK;
    lc_db_destroy(&s->db);
    char *err = NULL;
    s->db = lc_db_connect(s->cfg.conninfo, &err);
    if (!s->db) {
        lc_log_kv(LC_LOG_ERROR, NULL, "cannot connect to the settlement database", "error",
                  err ? err : "", NULL);
        free(err);
        return LC_ERR_UNAVAILABLE;
    }
    return LC_OK;
}

/* Runs sql(id, owner), a lookup of one row by its id and its owner (a partner, a
 * redemption; NULL matches as SQL NULL); LC_ERR_NOT_FOUND for none. */
static int s_one_by_id(st_server_t *s, const char *sql, const lc_id_t *id, const lc_id_t *owner,
                       lc_dbres_t **out)
{
    lc_dbp_t prm = {.n = 0};
    lc_dbp_id(&prm, id);
    lc_dbp_id(&prm, owner);
    return s_one(s, sql, &prm, out);
}

/* Runs a write and its follow-up (a row and the running totals it changes) in one
 * transaction, so that neither is stored without the other. */
static int s_exec_pair(st_server_t *s, const char *sql1, const lc_dbp_t *p1, const char *sql2,
                       const lc_dbp_t *p2)
{
    int rc = lc_db_begin(s->db);
    if (rc != LC_OK)
        return rc;
    rc = s_exec(s, sql1, p1, NULL);
    if (rc == LC_OK)
        rc = s_exec(s, sql2, p2, NULL);
    return lc_db_end(s->db, rc);
}

/* ---- partners ---------------------------------------------------------------------- */

#define PARTNER_COLS                                                                               \
    "id, name, earn_points, earn_per_amount, pending_days, issue_price_micros, "                   \
    "redeem_credit_micros, fee_bps, funding, created_at"

static int s_partner_row(const lc_dbres_t *r, int row, st_partner_t *p)
{
    memset(p, 0, sizeof *p);
    p->id = lc_dbcell_id(r, row, 0);
    p->name = strdup(lc_dbres_get(r, row, 1) ? lc_dbres_get(r, row, 1) : "");
    p->earn_rate.points = lc_dbcell_i64(r, row, 2);
    p->earn_rate.per_amount = lc_dbcell_i64(r, row, 3);
    p->pending_days = lc_dbcell_i64(r, row, 4);
    p->tariff.issue_price_micros = lc_dbcell_i64(r, row, 5);
    p->tariff.redeem_credit_micros = lc_dbcell_i64(r, row, 6);
    p->tariff.fee_bps = lc_dbcell_i64(r, row, 7);
    p->funding = (int)lc_dbcell_i64(r, row, 8);
    p->created_at = lc_dbcell_i64(r, row, 9);
    return p->name ? LC_OK : LC_ERR_NOMEM;
}

/* Loads the excluded categories of partners p[0..n) (sorted by id). */
static int s_load_categories(st_server_t *s, st_partner_t *p, size_t n)
{
    if (n == 0)
        return LC_OK;
    lc_dbarr_t ids;
    lc_dbarr_init(&ids);
    for (size_t i = 0; i < n; i++)
        lc_dbarr_id(&ids, &p[i].id);
    const char *lit = lc_dbarr_finish(&ids);
    if (!lit) {
        lc_dbarr_free(&ids);
        return LC_ERR_NOMEM;
    }
    lc_dbp_t prm = {.n = 0};
    lc_dbp_str(&prm, lit);
    lc_dbres_t *r = NULL;
    int rc = s_exec(s,
                    "SELECT partner_id, category FROM settlement.partner_categories "
                    "WHERE partner_id = ANY($1::uuid[]) ORDER BY partner_id, position",
                    &prm, &r);
    lc_dbarr_free(&ids);
    if (rc != LC_OK)
        return rc;
    int rows = lc_dbres_rows(r);
    size_t *fill = calloc(n, sizeof *fill);
    if (!fill) {
        lc_dbres_free(&r);
        return LC_ERR_NOMEM;
    }
    /* Both lists are in id order (uuid order is byte order): one merge walk counts,
     * a second fills. */
    for (int pass = 0; pass < 2 && rc == LC_OK; pass++) {
        size_t k = 0;
        for (int row = 0; row < rows; row++) {
            lc_id_t pid = lc_dbcell_id(r, row, 0);
            while (k < n && lc_id_cmp(&p[k].id, &pid) < 0)
                k++;
            if (k == n || !lc_id_eq(&p[k].id, &pid))
                continue;
            if (pass == 0) {
                fill[k]++;
                continue;
            }
            char *v = strdup(lc_dbres_get(r, row, 1));
            if (!v) {
                rc = LC_ERR_NOMEM;
                break;
            }
            p[k].excluded_categories[p[k].nexcluded_categories++] = v;
        }
        for (size_t i = 0; pass == 0 && i < n; i++) {
            if (!fill[i])
                continue;
            p[i].excluded_categories = calloc(fill[i], sizeof(char *));
            if (!p[i].excluded_categories) {
                rc = LC_ERR_NOMEM;
                break;
            }
        }
    }
    free(fill);
    lc_dbres_free(&r);
    return rc;
}

int st_store_partner_insert(st_server_t *s, const st_partner_t *p, const lc_id_t *created_by)
{
    lc_id_t iss, red, pre;
    lc_id_derive(&p->id, "issuance", &iss);
    lc_id_derive(&p->id, "redemption", &red);
    lc_id_derive(&p->id, "prepayment", &pre);
    int rc = lc_db_begin(s->db);
    if (rc != LC_OK)
        return rc;
    lc_dbp_t prm = {.n = 0};
    lc_dbp_id(&prm, &p->id);
    lc_dbp_str(&prm, p->name);
    lc_dbp_i64(&prm, p->earn_rate.points);
    lc_dbp_i64(&prm, p->earn_rate.per_amount);
    lc_dbp_i64(&prm, p->pending_days);
    lc_dbp_i64(&prm, p->tariff.issue_price_micros);
    lc_dbp_i64(&prm, p->tariff.redeem_credit_micros);
    lc_dbp_i64(&prm, p->tariff.fee_bps);
    lc_dbp_i64(&prm, p->funding);
    lc_dbp_id(&prm, &iss);
    lc_dbp_id(&prm, &red);
    lc_dbp_id(&prm, &pre);
    lc_dbp_id(&prm, created_by);
    lc_dbp_i64(&prm, p->created_at);
    rc = s_exec(s,
                "INSERT INTO settlement.partners (id, name, earn_points, earn_per_amount, "
                "pending_days, issue_price_micros, redeem_credit_micros, fee_bps, funding, "
                "issuance_account, redemption_account, prepayment_account, created_by_key, "
                "created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)",
                &prm, NULL);
    for (size_t i = 0; rc == LC_OK && i < p->nexcluded_categories; i++) {
        lc_dbp_t c = {.n = 0};
        lc_dbp_id(&c, &p->id);
        lc_dbp_i64(&c, (int64_t)i);
        lc_dbp_str(&c, p->excluded_categories[i]);
        rc = s_exec(s,
                    "INSERT INTO settlement.partner_categories (partner_id, position, category) "
                    "VALUES ($1, $2, $3)",
                    &c, NULL);
    }
    return lc_db_end(s->db, rc);
}

int st_store_partner_get(st_server_t *s, const lc_id_t *id, st_partner_t *p)
{
    memset(p, 0, sizeof *p);
    lc_dbp_t prm = {.n = 0};
    lc_dbp_id(&prm, id);
    lc_dbres_t *r = NULL;
    int rc = s_one(s, "SELECT " PARTNER_COLS " FROM settlement.partners WHERE id = $1", &prm, &r);
    if (rc != LC_OK)
        return rc;
    rc = s_partner_row(r, 0, p);
    lc_dbres_free(&r);
    if (rc == LC_OK)
        rc = s_load_categories(s, p, 1);
    if (rc != LC_OK)
        lc_codec_clear(&st_partner_desc, p);
    return rc;
}

void st_store_partners_free(st_partner_t *p, size_t n)
{
    for (size_t i = 0; p && i < n; i++)
        lc_codec_clear(&st_partner_desc, &p[i]);
    free(p);
}

int st_store_partner_list(st_server_t *s, const lc_id_t *after, int64_t limit,
                          st_partner_t **out, size_t *n)
{
    *out = NULL;
    *n = 0;
    lc_dbp_t prm = {.n = 0};
    lc_dbp_id(&prm, after);
    lc_dbp_i64(&prm, limit);
    lc_dbres_t *r = NULL;
    int rc = s_exec(s,
                    "SELECT " PARTNER_COLS " FROM settlement.partners "
                    "WHERE $1::uuid IS NULL OR id > $1::uuid ORDER BY id LIMIT $2",
                    &prm, &r);
    if (rc != LC_OK)
        return rc;
    int rows = lc_dbres_rows(r);
    st_partner_t *p = rows ? calloc((size_t)rows, sizeof *p) : NULL;
    if (rows && !p) {
        lc_dbres_free(&r);
        return LC_ERR_NOMEM;
    }
    for (int i = 0; i < rows && rc == LC_OK; i++)
        rc = s_partner_row(r, i, &p[i]);
    lc_dbres_free(&r);
    if (rc == LC_OK)
        rc = s_load_categories(s, p, (size_t)rows);
    if (rc != LC_OK) {
        st_store_partners_free(p, (size_t)rows);
        return rc;
    }
    *out = p;
    *n = (size_t)rows;
    return LC_OK;
}

/* ---- prepayments, grants, refusals ------------------------------------------------- */

int st_store_prepay_insert(st_server_t *s, const lc_id_t *id, const lc_id_t *partner,
                           int64_t points, int64_t at)
{
    lc_dbp_t prm = {.n = 0};
    lc_dbp_id(&prm, id);
    lc_dbp_id(&prm, partner);
    lc_dbp_i64(&prm, points);
    lc_dbp_i64(&prm, at);
    return s_exec(s,
                  "INSERT INTO settlement.prepayments (id, partner_id, points, created_at) "
                  "VALUES ($1, $2, $3, $4) ON CONFLICT (id) DO NOTHING",
                  &prm, NULL);
}

/* The first column of the one row of sql(id, owner) as an integer. */
static int s_get_i64(st_server_t *s, const char *sql, const lc_id_t *id, const lc_id_t *owner,
                     int64_t *out)
{
    lc_dbres_t *r = NULL;
    int rc = s_one_by_id(s, sql, id, owner, &r);
    if (rc != LC_OK)
        return rc;
    *out = lc_dbcell_i64(r, 0, 0);
    lc_dbres_free(&r);
    return LC_OK;
}

int st_store_prepay_get(st_server_t *s, const lc_id_t *id, const lc_id_t *partner,
                        int64_t *points)
{
    return s_get_i64(s,
                     "SELECT points FROM settlement.prepayments WHERE id = $1 AND partner_id = $2",
                     id, partner, points);
}

int st_store_grant_insert(st_server_t *s, const lc_id_t *id, const lc_id_t *partner,
                          const lc_id_t *member, int64_t points, int reason,
                          const lc_id_t *transfer, int64_t at)
{
    lc_dbp_t prm = {.n = 0};
    lc_dbp_id(&prm, id);
    lc_dbp_id(&prm, partner);
    lc_dbp_id(&prm, member);
    lc_dbp_i64(&prm, points);
    lc_dbp_i64(&prm, reason);
    lc_dbp_id(&prm, transfer);
    lc_dbp_i64(&prm, at);
    return s_exec(s,
                  "INSERT INTO settlement.grants (id, partner_id, member_id, points, reason, "
                  "transfer_id, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7) "
                  "ON CONFLICT (id) DO NOTHING",
                  &prm, NULL);
}

int st_store_grant_get(st_server_t *s, const lc_id_t *id, const lc_id_t *partner,
                       int64_t *points)
{
    return s_get_i64(s, "SELECT points FROM settlement.grants WHERE id = $1 AND partner_id = $2",
                     id, partner, points);
}

int st_store_refusal_put(st_server_t *s, const lc_id_t *transfer, const char *code)
{
    lc_dbp_t prm = {.n = 0};
    lc_dbp_id(&prm, transfer);
    lc_dbp_str(&prm, code);
    lc_dbp_i64(&prm, lc_now_us());
    return s_exec(s,
                  "INSERT INTO settlement.refusals (id, code, created_at) VALUES ($1, $2, $3) "
                  "ON CONFLICT (id) DO NOTHING",
                  &prm, NULL);
}

int st_store_refusal_get(st_server_t *s, const lc_id_t *transfer, char *code, size_t len)
{
    lc_dbp_t prm = {.n = 0};
    lc_dbp_id(&prm, transfer);
    lc_dbres_t *r = NULL;
    int rc = s_one(s, "SELECT code FROM settlement.refusals WHERE id = $1", &prm, &r);
    if (rc != LC_OK)
        return rc;
    snprintf(code, len, "%s", lc_dbres_get(r, 0, 0));
    lc_dbres_free(&r);
    return LC_OK;
}

/* ---- earns and returns ------------------------------------------------------------- */

#define EARN_COLS                                                                                  \
    "id, partner_id, member_id, amount, eligible, points, status, transfer_id, hold_id, "          \
    "credit_id, expires_at, available_at, created_at, returned_amount, reversed_points, "    \
    "bonus_points, tier, tier_bps, tier_bonus_points, tier_transfer_id, tier_basis_amount, "  \
    "tier_reversed_points"

static void s_earn_row(const lc_dbres_t *r, int row, st_earn_row_t *e)
{
    e->id = lc_dbcell_id(r, row, 0);
    e->partner_id = lc_dbcell_id(r, row, 1);
    e->member_id = lc_dbcell_id(r, row, 2);
    e->amount = lc_dbcell_i64(r, row, 3);
    e->eligible = lc_dbcell_i64(r, row, 4);
    e->points = lc_dbcell_i64(r, row, 5);
    e->status = (int)lc_dbcell_i64(r, row, 6);
    e->transfer_id = lc_dbcell_id(r, row, 7);
    e->hold_id = lc_dbcell_id(r, row, 8);
    e->credit_id = lc_dbcell_id(r, row, 9);
    e->expires_at = lc_dbcell_i64(r, row, 10);
    e->available_at = lc_dbcell_i64(r, row, 11);
    e->created_at = lc_dbcell_i64(r, row, 12);
    e->returned_amount = lc_dbcell_i64(r, row, 13);
    e->reversed_points = lc_dbcell_i64(r, row, 14);
    e->bonus_points = lc_dbcell_i64(r, row, 15);
    e->tier = (int)lc_dbcell_i64(r, row, 16);
    e->tier_bps = lc_dbcell_i64(r, row, 17);
    e->tier_bonus_points = lc_dbcell_i64(r, row, 18);
    e->tier_transfer_id = lc_dbcell_id(r, row, 19);
    e->tier_basis_amount = lc_dbcell_i64(r, row, 20);
    e->tier_reversed_points = lc_dbcell_i64(r, row, 21);
}

int st_store_earn_insert(st_server_t *s, const st_earn_row_t *e, const char *receipt_id,
                         const st_earn_coupon_row_t *coupons, size_t n)
{
    lc_dbp_t prm = {.n = 0};
    lc_dbp_id(&prm, &e->id);
    lc_dbp_id(&prm, &e->partner_id);
    lc_dbp_id(&prm, &e->member_id);
    lc_dbp_str(&prm, receipt_id);
    lc_dbp_i64(&prm, e->amount);
    lc_dbp_i64(&prm, e->eligible);
    lc_dbp_i64(&prm, e->points);
    lc_dbp_i64(&prm, e->status);
    lc_dbp_id(&prm, &e->transfer_id);
    lc_dbp_id(&prm, &e->hold_id);
    lc_dbp_id(&prm, &e->credit_id);
    lc_dbp_i64(&prm, e->expires_at);
    lc_dbp_i64(&prm, e->available_at);
    lc_dbp_i64(&prm, e->created_at);
    lc_dbp_i64(&prm, e->bonus_points);
    lc_dbp_i64(&prm, e->tier);
    lc_dbp_i64(&prm, e->tier_bps);
    lc_dbp_i64(&prm, e->tier_bonus_points);
    lc_dbp_id(&prm, &e->tier_transfer_id);
    lc_dbp_i64(&prm, e->tier_basis_amount);
    /* Without coupon rows the earn row is one statement, atomic alone: no BEGIN and
     * COMMIT round trips (the common earn). */
    bool tx = n > 0;
    int rc = tx ? lc_db_begin(s->db) : LC_OK;
    if (rc != LC_OK)
        return rc;
    lc_dbres_t *r = NULL;
    rc = s_exec(s,
                "INSERT INTO settlement.earns (id, partner_id, member_id, receipt_id, amount, "
                "eligible, points, status, transfer_id, hold_id, credit_id, expires_at, "
                "available_at, created_at, bonus_points, tier, tier_bps, tier_bonus_points, "
                "tier_transfer_id, tier_basis_amount) VALUES ($1, $2, $3, $4, $5, $6, $7, "
                "$8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20) "
                "ON CONFLICT (id) DO NOTHING RETURNING 1",
                &prm, &r);
    /* A row inserted by a concurrent twin: its coupon rows are there too. */
    bool fresh = rc == LC_OK && lc_dbres_rows(r) == 1;
    lc_dbres_free(&r);
    for (size_t i = 0; rc == LC_OK && fresh && i < n; i++) {
        const st_earn_coupon_row_t *c = &coupons[i];
        lc_dbp_t q = {.n = 0};
        lc_dbp_id(&q, &e->id);
        lc_dbp_i64(&q, c->position);
        lc_dbp_str(&q, c->code);
        lc_dbp_id(&q, &c->coupon_id);
        lc_dbp_id(&q, &e->member_id);
        if (c->reason)
            lc_dbp_i64(&q, c->reason);
        else
            lc_dbp_str(&q, NULL);
        lc_dbp_i64(&q, c->bonus_points);
        lc_dbp_id(&q, &c->transfer_id);
        lc_dbp_id(&q, &c->funder_account);
        rc = s_exec(s,
                    "INSERT INTO settlement.earn_coupons (earn_id, position, code, coupon_id, "
                    "member_id, reason, bonus_points, transfer_id, funder_account) VALUES ($1, "
                    "$2, $3, $4, $5, $6, $7, $8, $9)",
                    &q, NULL);
    }
    return tx ? lc_db_end(s->db, rc) : rc;
}

int st_store_earn_coupons(st_server_t *s, const lc_id_t *earn, st_earn_coupon_row_t **out,
                          size_t *n)
{
    *out = NULL;
    *n = 0;
    lc_dbp_t prm = {.n = 0};
    lc_dbp_id(&prm, earn);
    lc_dbres_t *r = NULL;
    int rc = s_exec(s,
                    "SELECT position, code, coupon_id, COALESCE(reason, 0), bonus_points, "
                    "transfer_id, funder_account, reversed_points FROM settlement.earn_coupons "
                    "WHERE earn_id = $1 ORDER BY position",
                    &prm, &r);
    if (rc != LC_OK)
        return rc;
    int rows = lc_dbres_rows(r);
    st_earn_coupon_row_t *c = rows ? calloc((size_t)rows, sizeof *c) : NULL;
    if (rows && !c) {
        lc_dbres_free(&r);
        return LC_ERR_NOMEM;
    }
    for (int i = 0; i < rows; i++) {
        c[i].position = (int)lc_dbcell_i64(r, i, 0);
        snprintf(c[i].code, sizeof c[i].code, "%s", lc_dbres_get(r, i, 1));
        c[i].coupon_id = lc_dbcell_id(r, i, 2);
        c[i].reason = (int)lc_dbcell_i64(r, i, 3);
        c[i].bonus_points = lc_dbcell_i64(r, i, 4);
        c[i].transfer_id = lc_dbcell_id(r, i, 5);
        c[i].funder_account = lc_dbcell_id(r, i, 6);
        c[i].reversed_points = lc_dbcell_i64(r, i, 7);
    }
    lc_dbres_free(&r);
    *out = c;
    *n = (size_t)rows;
    return LC_OK;
}

int st_store_earn_get(st_server_t *s, const lc_id_t *id, const lc_id_t *partner,
                      st_earn_row_t *e)
{
    lc_dbres_t *r = NULL;
    int rc = s_one_by_id(s,
                         "SELECT " EARN_COLS " FROM settlement.earns WHERE id = $1 "
                         "AND ($2::uuid IS NULL OR partner_id = $2::uuid)",
                         id, partner, &r);
    if (rc != LC_OK)
        return rc;
    s_earn_row(r, 0, e);
    lc_dbres_free(&r);
    return LC_OK;
}

int st_store_earn_posted(st_server_t *s, const st_earn_row_t *e, const lc_id_t *post)
{
    lc_dbp_t prm = {.n = 0};
    lc_dbp_id(&prm, &e->id);
    lc_dbp_id(&prm, post);
    lc_dbp_i64(&prm, e->tier_bonus_points);
    lc_dbp_id(&prm, &e->tier_transfer_id);
    lc_dbp_i64(&prm, e->tier_basis_amount);
    return s_exec(s,
                  "UPDATE settlement.earns SET status = 1, credit_id = $2, hold_id = NULL, "
                  "tier_bonus_points = $3, tier_transfer_id = $4, tier_basis_amount = $5 "
                  "WHERE id = $1 AND status = 2",
                  &prm, NULL);
}

int st_store_earns_due(st_server_t *s, int64_t now, int max, st_earn_row_t *out, size_t *n)
{
    *n = 0;
    lc_dbp_t prm = {.n = 0};
    lc_dbp_i64(&prm, now);
    lc_dbp_i64(&prm, max);
    lc_dbres_t *r = NULL;
    int rc = s_exec(s,
                    "SELECT " EARN_COLS " FROM settlement.earns WHERE status = 2 "
                    "AND available_at <= $1 ORDER BY available_at LIMIT $2",
                    &prm, &r);
    if (rc != LC_OK)
        return rc;
    int rows = lc_dbres_rows(r);
    for (int i = 0; i < rows && i < max; i++)
        s_earn_row(r, i, &out[(*n)++]);
    lc_dbres_free(&r);
    return LC_OK;
}

int st_store_return_insert(st_server_t *s, const st_return_row_t *r, const lc_id_t *new_hold,
                           bool settle)
{
    lc_dbp_t prm = {.n = 0};
    lc_dbp_id(&prm, &r->id);
    lc_dbp_id(&prm, &r->earn_id);
    lc_dbp_id(&prm, &r->partner_id);
    lc_dbp_i64(&prm, r->amount);
    lc_dbp_i64(&prm, r->points_reversed);
    lc_dbp_id(&prm, &r->transfer_id);
    lc_dbp_id(&prm, &r->void_id);
    lc_dbp_i64(&prm, r->created_at);
    lc_dbp_t u = {.n = 0};
    lc_dbp_id(&u, &r->earn_id);
    lc_dbp_i64(&u, r->amount);
    lc_dbp_i64(&u, r->points_reversed);
    lc_dbp_id(&u, new_hold);
    lc_dbp_bool(&u, settle);
    return s_exec_pair(
        s,
        "INSERT INTO settlement.returns (id, earn_id, partner_id, amount, points_reversed, "
        "transfer_id, void_id, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        &prm,
        "UPDATE settlement.earns SET returned_amount = returned_amount + $2, "
        "reversed_points = reversed_points + $3, "
        "hold_id = CASE WHEN $5::boolean THEN NULL ELSE COALESCE($4::uuid, hold_id) "
        "END, status = CASE WHEN $5::boolean THEN 1 ELSE status END WHERE id = $1",
        &u);
}

int st_store_return_insert_bonus(st_server_t *s, const st_return_row_t *r,
                                 const st_earn_coupon_row_t *bonus, const int64_t *rev, size_t n)
{
    lc_dbarr_t pos, pts;
    lc_dbarr_init(&pos);
    lc_dbarr_init(&pts);
    for (size_t i = 0; i < n; i++) {
        lc_dbarr_i64(&pos, bonus[i].position);
        lc_dbarr_i64(&pts, rev[i]);
    }
    const char *lpos = lc_dbarr_finish(&pos), *lpts = lc_dbarr_finish(&pts);
    int rc = lpos && lpts ? lc_db_begin(s->db) : LC_ERR_NOMEM;
    if (rc == LC_OK) {
        lc_dbp_t prm = {.n = 0};
        lc_dbp_id(&prm, &r->id);
        lc_dbp_id(&prm, &r->earn_id);
        lc_dbp_id(&prm, &r->partner_id);
        lc_dbp_i64(&prm, r->amount);
        lc_dbp_i64(&prm, r->points_reversed);
        lc_dbp_id(&prm, &r->transfer_id);
        lc_dbp_i64(&prm, r->created_at);
        lc_dbp_i64(&prm, r->bonus_points_reversed);
        lc_dbp_i64(&prm, r->tier_points_reversed);
        rc = s_exec(s,
                    "INSERT INTO settlement.returns (id, earn_id, partner_id, amount, "
                    "points_reversed, transfer_id, created_at, bonus_points_reversed, "
                    "tier_points_reversed) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
                    &prm, NULL);
        lc_dbp_t u = {.n = 0};
        lc_dbp_id(&u, &r->earn_id);
        lc_dbp_i64(&u, r->amount);
        lc_dbp_i64(&u, r->points_reversed);
        lc_dbp_i64(&u, r->tier_points_reversed);
        if (rc == LC_OK)
            rc = s_exec(s,
                        "UPDATE settlement.earns SET returned_amount = returned_amount + $2, "
                        "reversed_points = reversed_points + $3, tier_reversed_points = "
                        "tier_reversed_points + $4 WHERE id = $1",
                        &u, NULL);
        lc_dbp_t b = {.n = 0};
        lc_dbp_id(&b, &r->earn_id);
        lc_dbp_str(&b, lpos);
        lc_dbp_str(&b, lpts);
        if (rc == LC_OK && n > 0)
            rc = s_exec(s,
                        "UPDATE settlement.earn_coupons ec SET reversed_points = "
                        "ec.reversed_points + u.pts FROM unnest($2::integer[], $3::bigint[]) "
                        "AS u(pos, pts) WHERE ec.earn_id = $1 AND ec.position = u.pos",
                        &b, NULL);
        rc = lc_db_end(s->db, rc);
    }
    lc_dbarr_free(&pos);
    lc_dbarr_free(&pts);
    return rc;
}

int st_store_return_get(st_server_t *s, const lc_id_t *id, const lc_id_t *partner,
                        st_return_row_t *r)
{
    lc_dbres_t *res = NULL;
    int rc = s_one_by_id(
        s,
        "SELECT id, earn_id, partner_id, amount, points_reversed, transfer_id, void_id, "
        "created_at, bonus_points_reversed, tier_points_reversed FROM settlement.returns "
        "WHERE id = $1 AND "
        "partner_id = $2",
        id, partner, &res);
    if (rc != LC_OK)
        return rc;
    r->id = lc_dbcell_id(res, 0, 0);
    r->earn_id = lc_dbcell_id(res, 0, 1);
    r->partner_id = lc_dbcell_id(res, 0, 2);
    r->amount = lc_dbcell_i64(res, 0, 3);
    r->points_reversed = lc_dbcell_i64(res, 0, 4);
    r->transfer_id = lc_dbcell_id(res, 0, 5);
    r->void_id = lc_dbcell_id(res, 0, 6);
    r->created_at = lc_dbcell_i64(res, 0, 7);
    r->bonus_points_reversed = lc_dbcell_i64(res, 0, 8);
    r->tier_points_reversed = lc_dbcell_i64(res, 0, 9);
    lc_dbres_free(&res);
    return LC_OK;
}

int st_store_redeemed_since(st_server_t *s, const lc_id_t *member, int64_t since,
                            int64_t *points)
{
    lc_dbp_t prm = {.n = 0};
    lc_dbp_id(&prm, member);
    lc_dbp_i64(&prm, since);
    lc_dbres_t *r = NULL;
    int rc = s_one(s,
                   "SELECT COALESCE(SUM(CASE status WHEN 1 THEN points WHEN 2 THEN "
                   "captured_points ELSE 0 END), 0) FROM settlement.redemptions "
                   "WHERE member_id = $1 AND created_at >= $2",
                   &prm, &r);
    if (rc != LC_OK)
        return rc;
    *points = lc_dbcell_i64(r, 0, 0);
    lc_dbres_free(&r);
    return LC_OK;
}

/* ---- member tiers ------------------------------------------------------------------ */

#define TIER_COLS                                                                                  \
    "member_id, tier, qualifying_points, changed_at, reviewed_period, version, pushed_version"

static void s_tier_row(const lc_dbres_t *r, int row, st_tier_row_t *t)
{
    t->member_id = lc_dbcell_id(r, row, 0);
    t->tier = (int)lc_dbcell_i64(r, row, 1);
    t->qualifying_points = lc_dbcell_i64(r, row, 2);
    t->changed_at = lc_dbcell_i64(r, row, 3);
    t->reviewed_period = (int)lc_dbcell_i64(r, row, 4);
    t->version = lc_dbcell_i64(r, row, 5);
    t->pushed_version = lc_dbcell_i64(r, row, 6);
}

int st_store_tier_get(st_server_t *s, const lc_id_t *member, st_tier_row_t *t)
{
    lc_dbp_t prm = {.n = 0};
    lc_dbp_id(&prm, member);
    lc_dbres_t *r = NULL;
    int rc = s_one(s, "SELECT " TIER_COLS " FROM settlement.member_tiers WHERE member_id = $1",
                   &prm, &r);
    if (rc != LC_OK)
        return rc;
    s_tier_row(r, 0, t);
    lc_dbres_free(&r);
    return LC_OK;
}

int st_store_tier_points(st_server_t *s, const lc_id_t *member, int64_t after, int64_t until,
                         int64_t *points)
{
    lc_dbp_t prm = {.n = 0};
    lc_dbp_id(&prm, member);
    lc_dbp_i64(&prm, after);
    lc_dbp_i64(&prm, until);
    lc_dbres_t *r = NULL;
    int rc = s_one(s,
                   "SELECT COALESCE(SUM(points - reversed_points), 0) FROM settlement.earns "
                   "WHERE member_id = $1 AND created_at > $2 AND created_at <= $3",
                   &prm, &r);
    if (rc != LC_OK)
        return rc;
    *points = lc_dbcell_i64(r, 0, 0);
    lc_dbres_free(&r);
    return LC_OK;
}

int st_store_tier_put(st_server_t *s, const st_tier_row_t *t, int64_t old_version)
{
    lc_dbp_t prm = {.n = 0};
    lc_dbp_id(&prm, &t->member_id);
    lc_dbp_i64(&prm, t->tier);
    lc_dbp_i64(&prm, t->qualifying_points);
    lc_dbp_i64(&prm, t->changed_at);
    lc_dbp_i64(&prm, t->reviewed_period);
    lc_dbp_i64(&prm, t->version);
    lc_dbp_i64(&prm, old_version);
    lc_dbres_t *r = NULL;
    /* Compare-and-set on version: two settlement processes evaluating one member at
     * once cannot both apply a change; the loser reads again. */
    int rc = s_exec(s,
                    old_version == 0
                        ? "INSERT INTO settlement.member_tiers (member_id, tier, "
                          "qualifying_points, changed_at, reviewed_period, version) SELECT "
                          "$1::uuid, $2::smallint, $3::bigint, $4::bigint, $5::integer, "
                          "$6::bigint WHERE $7::bigint = 0 ON CONFLICT (member_id) DO "
                          "NOTHING RETURNING 1"
                        : "UPDATE settlement.member_tiers SET tier = $2, qualifying_points = $3, "
                          "changed_at = $4, reviewed_period = $5, version = $6 WHERE member_id "
                          "= $1 AND version = $7 RETURNING 1",
                    &prm, &r);
    if (rc != LC_OK)
        return rc;
    rc = lc_dbres_rows(r) == 1 ? LC_OK : LC_ERR_CONFLICT;
    lc_dbres_free(&r);
    return rc;
}

int st_store_tier_pushed(st_server_t *s, const lc_id_t *member, int64_t version)
{
    lc_dbp_t prm = {.n = 0};
    lc_dbp_id(&prm, member);
    lc_dbp_i64(&prm, version);
    return s_exec(s,
                  "UPDATE settlement.member_tiers SET pushed_version = GREATEST(pushed_version, "
                  "LEAST($2, version)) WHERE member_id = $1",
                  &prm, NULL);
}

int st_store_tiers_due(st_server_t *s, int period, int max, st_tier_row_t *out, size_t *n)
{
    *n = 0;
    lc_dbp_t prm = {.n = 0};
    lc_dbp_i64(&prm, period);
    lc_dbp_i64(&prm, max);
    lc_dbres_t *r = NULL;
    int rc = s_exec(s,
                    "(SELECT " TIER_COLS " FROM settlement.member_tiers WHERE tier > 0 AND "
                    "reviewed_period < $1 LIMIT $2) UNION (SELECT " TIER_COLS " FROM "
                    "settlement.member_tiers WHERE pushed_version < version LIMIT $2) LIMIT $2",
                    &prm, &r);
    if (rc != LC_OK)
        return rc;
    int rows = lc_dbres_rows(r);
    for (int i = 0; i < rows && i < max; i++)
        s_tier_row(r, i, &out[(*n)++]);
    lc_dbres_free(&r);
    return LC_OK;
}

/* ---- redemptions and refunds ------------------------------------------------------- */

int st_store_redemption_insert(st_server_t *s, const st_redemption_row_t *r,
                               const char *receipt_id)
{
    lc_dbp_t prm = {.n = 0};
    lc_dbp_id(&prm, &r->id);
    lc_dbp_id(&prm, &r->partner_id);
    lc_dbp_id(&prm, &r->member_id);
    lc_dbp_str(&prm, receipt_id);
    lc_dbp_i64(&prm, r->points);
    lc_dbp_i64(&prm, r->value_cents);
    lc_dbp_i64(&prm, r->status);
    lc_dbp_id(&prm, &r->hold_id);
    lc_dbp_i64(&prm, r->expires_at);
    lc_dbp_i64(&prm, r->created_at);
    return s_exec(s,
                  "INSERT INTO settlement.redemptions (id, partner_id, member_id, receipt_id, "
                  "points, value_cents, status, hold_id, expires_at, created_at) VALUES ($1, $2, "
                  "$3, $4, $5, $6, $7, $8, $9, $10) ON CONFLICT (id) DO NOTHING",
                  &prm, NULL);
}

int st_store_redemption_get(st_server_t *s, const lc_id_t *id, const lc_id_t *partner,
                            st_redemption_row_t *r)
{
    lc_dbres_t *res = NULL;
    int rc =
        s_one_by_id(s,
                    "SELECT id, partner_id, member_id, points, value_cents, status, hold_id, "
                    "capture_id, void_id, captured_points, refunded_points, expires_at, created_at "
                    "FROM settlement.redemptions WHERE id = $1 AND partner_id = $2",
                    id, partner, &res);
    if (rc != LC_OK)
        return rc;
    r->id = lc_dbcell_id(res, 0, 0);
    r->partner_id = lc_dbcell_id(res, 0, 1);
    r->member_id = lc_dbcell_id(res, 0, 2);
    r->points = lc_dbcell_i64(res, 0, 3);
    r->value_cents = lc_dbcell_i64(res, 0, 4);
    r->status = (int)lc_dbcell_i64(res, 0, 5);
    r->hold_id = lc_dbcell_id(res, 0, 6);
    r->capture_id = lc_dbcell_id(res, 0, 7);
    r->void_id = lc_dbcell_id(res, 0, 8);
    r->captured_points = lc_dbcell_i64(res, 0, 9);
    r->refunded_points = lc_dbcell_i64(res, 0, 10);
    r->expires_at = lc_dbcell_i64(res, 0, 11);
    r->created_at = lc_dbcell_i64(res, 0, 12);
    lc_dbres_free(&res);
    return LC_OK;
}

int st_store_redemption_update(st_server_t *s, const st_redemption_row_t *r)
{
    lc_dbp_t prm = {.n = 0};
    lc_dbp_id(&prm, &r->id);
    lc_dbp_i64(&prm, r->status);
    lc_dbp_id(&prm, &r->capture_id);
    lc_dbp_id(&prm, &r->void_id);
    lc_dbp_i64(&prm, r->captured_points);
    return s_exec(s,
                  "UPDATE settlement.redemptions SET status = $2, capture_id = $3, void_id = $4, "
                  "captured_points = $5 WHERE id = $1 AND status = 1",
                  &prm, NULL);
}

int st_store_refund_insert(st_server_t *s, const lc_id_t *id, const lc_id_t *redemption,
                           int64_t points, int64_t at)
{
    lc_dbp_t prm = {.n = 0};
    lc_dbp_id(&prm, id);
    lc_dbp_id(&prm, redemption);
    lc_dbp_i64(&prm, points);
    lc_dbp_i64(&prm, at);
    lc_dbp_t u = {.n = 0};
    lc_dbp_id(&u, redemption);
    lc_dbp_i64(&u, points);
    return s_exec_pair(s,
                       "INSERT INTO settlement.refunds (id, redemption_id, points, created_at) "
                       "VALUES ($1, $2, $3, $4)",
                       &prm,
                       "UPDATE settlement.redemptions SET refunded_points = refunded_points + $2 "
                       "WHERE id = $1",
                       &u);
}

int st_store_refund_get(st_server_t *s, const lc_id_t *id, const lc_id_t *redemption,
                        int64_t *points)
{
    return s_get_i64(
        s, "SELECT points FROM settlement.refunds WHERE id = $1 AND redemption_id = $2", id,
        redemption, points);
}

/* ---- coupons ----------------------------------------------------------------------- */

int st_store_coupon_insert(st_server_t *s, const st_coupon_t *c, const lc_id_t *funder_account)
{
    lc_dbp_t prm = {.n = 0};
    lc_dbp_id(&prm, &c->id);
    lc_dbp_str(&prm, c->code);
    lc_dbp_id(&prm, &c->partner_id);
    lc_dbp_i64(&prm, c->kind);
    if (c->kind == ST_COUPON_MULTIPLIER) {
        lc_dbp_i64(&prm, c->multiplier);
        lc_dbp_str(&prm, NULL);
    } else {
        lc_dbp_str(&prm, NULL);
        lc_dbp_i64(&prm, c->bonus_points);
    }
    lc_dbp_i64(&prm, c->funded_by.type);
    lc_dbp_id(&prm, &c->funded_by.id);
    lc_dbp_id(&prm, funder_account);
    lc_dbp_i64(&prm, c->valid_from);
    lc_dbp_i64(&prm, c->valid_until);
    lc_dbp_i64(&prm, c->max_per_member);
    lc_dbp_i64(&prm, c->created_at);
    int rc = s_exec(s,
                    "INSERT INTO settlement.coupons (id, code, partner_id, kind, multiplier, "
                    "bonus_points, funder_type, funder_id, funder_account, valid_from, "
                    "valid_until, max_per_member, created_at) VALUES ($1, $2, $3, $4, $5, $6, "
                    "$7, $8, $9, $10, $11, $12, $13)",
                    &prm, NULL);
    if (rc != LC_OK && strcmp(lc_db_sqlstate(s->db), "23505") == 0)
        return LC_ERR_CONFLICT;
    return rc;
}

int st_store_coupon_get(st_server_t *s, const lc_id_t *id, const char *code, st_coupon_t *c,
                        lc_id_t *funder_account)
{
    memset(c, 0, sizeof *c);
    lc_dbp_t prm = {.n = 0};
    lc_dbp_id(&prm, id);
    lc_dbp_str(&prm, code);
    lc_dbres_t *r = NULL;
    int rc = s_one(s,
                   "SELECT id, code, partner_id, kind, COALESCE(multiplier, 0), "
                   "COALESCE(bonus_points, 0), funder_type, funder_id, funder_account, "
                   "valid_from, valid_until, max_per_member, created_at FROM settlement.coupons "
                   "WHERE id = $1::uuid OR code = $2::text",
                   &prm, &r);
    if (rc != LC_OK)
        return rc;
    c->id = lc_dbcell_id(r, 0, 0);
    c->code = strdup(lc_dbres_get(r, 0, 1));
    c->partner_id = lc_dbcell_id(r, 0, 2);
    c->kind = (int)lc_dbcell_i64(r, 0, 3);
    c->multiplier = lc_dbcell_i64(r, 0, 4);
    c->bonus_points = lc_dbcell_i64(r, 0, 5);
    c->funded_by.type = (int)lc_dbcell_i64(r, 0, 6);
    c->funded_by.id = lc_dbcell_id(r, 0, 7);
    if (funder_account)
        *funder_account = lc_dbcell_id(r, 0, 8);
    c->valid_from = lc_dbcell_i64(r, 0, 9);
    c->valid_until = lc_dbcell_i64(r, 0, 10);
    c->max_per_member = lc_dbcell_i64(r, 0, 11);
    c->created_at = lc_dbcell_i64(r, 0, 12);
    lc_dbres_free(&r);
    return c->code ? LC_OK : LC_ERR_NOMEM;
}

int st_store_coupon_uses(st_server_t *s, const lc_id_t *coupon, const lc_id_t *member,
                         int64_t *uses)
{
    return s_get_i64(s,
                     "SELECT count(*) FROM settlement.earn_coupons WHERE coupon_id = $1 "
                     "AND member_id = $2 AND reason IS NULL",
                     coupon, member, uses);
}

int st_store_coupon_activate(st_server_t *s, const lc_id_t *coupon, const lc_id_t *member,
                             int64_t now, int64_t *activated_at)
{
    lc_dbp_t prm = {.n = 0};
    lc_dbp_id(&prm, coupon);
    lc_dbp_id(&prm, member);
    lc_dbp_i64(&prm, now);
    int rc = s_exec(s,
                    "INSERT INTO settlement.coupon_activations (coupon_id, member_id, "
                    "activated_at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
                    &prm, NULL);
    if (rc != LC_OK)
        return rc;
    return s_get_i64(s,
                     "SELECT activated_at FROM settlement.coupon_activations WHERE coupon_id = "
                     "$1 AND member_id = $2",
                     coupon, member, activated_at);
}

int st_store_coupon_activated(st_server_t *s, const lc_id_t *coupon, const lc_id_t *member)
{
    int64_t at;
    return s_get_i64(s,
                     "SELECT activated_at FROM settlement.coupon_activations WHERE coupon_id = "
                     "$1 AND member_id = $2",
                     coupon, member, &at);
}
