/*
 * st_statement_store.c: the SQL of statement lines, closed months and final
 * statements (st_statement.h; tables: deploy/migrations/settlement/004_statements.sql).
 * Every statement is parameterized; each function runs on the connection it is given
 * (the consumer's own, or the request loop's).
 */
#include "st_statement.h"
#include "lc_err.h"
#include "lc_period.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef char num_t[24];

static const char *s_num(num_t out, int64_t v)
{
    snprintf(out, sizeof(num_t), "%" PRId64, v);
    return out;
}

int st_sstore_cursor_read(lc_db_t *db, int64_t *out)
{
    lc_dbres_t *res = NULL;
    int rc = lc_db_exec(db, "SELECT last_seq FROM settlement.statement_cursor WHERE id = 1", 0,
                        NULL, &res);
    if (rc == LC_OK && lc_dbres_rows(res) != 1)
        rc = LC_ERR_NOT_FOUND;
    if (rc == LC_OK)
        rc = lc_dbres_i64(res, 0, 0, out);
    lc_dbres_free(&res);
    return rc;
}

int st_sstore_cursor_move(lc_db_t *db, int64_t seq)
{
    num_t s;
    const char *p[] = {s_num(s, seq)};
    return lc_db_exec(db,
                      "UPDATE settlement.statement_cursor SET last_seq = greatest(last_seq, $1) "
                      "WHERE id = 1",
                      1, p, NULL);
}

int st_sstore_cursor_lock(lc_db_t *db, int64_t *last_seq)
{
    lc_dbres_t *res = NULL;
    int rc = lc_db_exec(db,
                        "SELECT last_seq FROM settlement.statement_cursor WHERE id = 1 FOR UPDATE",
                        0, NULL, &res);
    if (rc == LC_OK && lc_dbres_rows(res) != 1)
        rc = LC_ERR_NOT_FOUND;
    if (rc == LC_OK)
        rc = lc_dbres_i64(res, 0, 0, last_seq);
    lc_dbres_free(&res);
    return rc;
}

int st_sstore_account_put(lc_db_t *db, const ld_entry_t *e)
{
    char id[LC_ID_STRLEN + 1], owner[LC_ID_STRLEN + 1];
    num_t kind, seq;
    lc_id_format(&e->id, id);
    lc_id_format(&e->user_data, owner);
    const char *p[] = {id, s_num(kind, e->kind), lc_id_is_zero(&e->user_data) ? NULL : owner,
                       s_num(seq, e->seq)};
    return lc_db_exec(db,
                      "INSERT INTO settlement.statement_accounts (id, kind, owner, seq) "
                      "VALUES ($1, $2, $3, $4) ON CONFLICT (id) DO NOTHING",
                      4, p, NULL);
}

int st_sstore_accounts(lc_db_t *db, const ld_entry_t *e, st_stmt_account_t *dr,
                       st_stmt_account_t *cr)
{
    return lc_jconsumer_accounts(db,
                                 "SELECT id, kind, owner FROM settlement.statement_accounts "
                                 "WHERE id IN ($1::uuid, $2::uuid)",
                                 e, dr, cr);
}

int st_sstore_is_bonus(lc_db_t *db, const lc_id_t *transfer, bool *out)
{
    char t[LC_ID_STRLEN + 1], cat[8];
    lc_id_format(transfer, t);
    snprintf(cat, sizeof cat, "%d", ST_LINE_BONUS_FUNDED);
    const char *p[] = {t, cat};
    lc_dbres_t *res = NULL;
    int rc = lc_db_exec(db,
                        "SELECT 1 FROM settlement.statement_lines "
                        "WHERE transfer_id = $1 AND category = $2 LIMIT 1",
                        2, p, &res);
    *out = rc == LC_OK && lc_dbres_rows(res) > 0;
    lc_dbres_free(&res);
    return rc;
}

int st_sstore_tariff(lc_db_t *db, const lc_id_t *partner, st_stmt_tariff_t *out)
{
    char id[LC_ID_STRLEN + 1];
    lc_id_format(partner, id);
    const char *p[] = {id};
    lc_dbres_t *res = NULL;
    int rc = lc_db_exec(db,
                        "SELECT funding, issue_price_micros, redeem_credit_micros, fee_bps "
                        "FROM settlement.partners WHERE id = $1",
                        1, p, &res);
    if (rc == LC_OK && lc_dbres_rows(res) == 0)
        rc = LC_ERR_NOT_FOUND;
    int64_t funding = 0;
    if (rc == LC_OK)
        rc = lc_dbres_i64(res, 0, 0, &funding);
    if (rc == LC_OK)
        rc = lc_dbres_i64(res, 0, 1, &out->issue_price_micros);
    if (rc == LC_OK)
        rc = lc_dbres_i64(res, 0, 2, &out->redeem_credit_micros);
    if (rc == LC_OK)
        rc = lc_dbres_i64(res, 0, 3, &out->fee_bps);
    out->funding = (int)funding;
    lc_dbres_free(&res);
    return rc;
}

int st_stmt_next_period(const char *p, char out[ST_PERIOD_LEN + 1])
{
    lc_period_t m;
    if (lc_period_parse(p, &m) != LC_OK)
        return LC_ERR_INVALID;
    if (++m.month > 12) {
        m.month = 1;
        m.year++;
    }
    return lc_period_format(&m, out);
}

int st_sstore_billing_period(lc_db_t *db, const char *entry_period, char out[ST_PERIOD_LEN + 1])
{
    const char *p[] = {entry_period};
    lc_dbres_t *res = NULL;
    int rc = lc_db_exec(db,
                        "SELECT period FROM settlement.periods WHERE period >= $1 ORDER BY period",
                        1, p, &res);
    snprintf(out, ST_PERIOD_LEN + 1, "%s", entry_period);
    /* Closed months from entry_period on, in order: skip each one that is out's. */
    for (int i = 0; rc == LC_OK && i < lc_dbres_rows(res); i++) {
        const char *closed = lc_dbres_get(res, i, 0);
        if (!closed || strcmp(closed, out) != 0)
            break;
        rc = st_stmt_next_period(out, out);
    }
    lc_dbres_free(&res);
    return rc;
}

int st_sstore_line_insert(lc_db_t *db, const st_stmt_row_t *r)
{
    char party_id[LC_ID_STRLEN + 1], tid[LC_ID_STRLEN + 1];
    num_t seq, party, cat, side, code, pts, amt, fee, at;
    lc_id_format(&r->k.party_id, party_id);
    lc_id_format(&r->transfer_id, tid);
    const char *p[] = {s_num(seq, r->seq),
                       s_num(party, r->k.party),
                       party_id,
                       r->period,
                       r->entry_period,
                       s_num(cat, r->k.category),
                       s_num(side, r->k.side),
                       tid,
                       s_num(code, r->code),
                       s_num(pts, r->points),
                       s_num(amt, r->amount_micros),
                       s_num(fee, r->fee_micros),
                       s_num(at, r->at)};
    return lc_db_exec(db,
                      "INSERT INTO settlement.statement_lines (seq, party_type, party_id, period, "
                      "entry_period, category, side, transfer_id, code, points, amount_micros, "
                      "fee_micros, at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, "
                      "$13)",
                      13, p, NULL);
}

int st_sstore_period_get(lc_db_t *db, const char *period, st_stmt_period_t *out)
{
    const char *p[] = {period};
    lc_dbres_t *res = NULL;
    int rc = lc_db_exec(db,
                        "SELECT closed_at, last_seq, statements FROM settlement.periods "
                        "WHERE period = $1",
                        1, p, &res);
    if (rc == LC_OK && lc_dbres_rows(res) == 0)
        rc = LC_ERR_NOT_FOUND;
    if (rc == LC_OK)
        rc = lc_dbres_i64(res, 0, 0, &out->closed_at);
    if (rc == LC_OK)
        rc = lc_dbres_i64(res, 0, 1, &out->last_seq);
    if (rc == LC_OK)
        rc = lc_dbres_i64(res, 0, 2, &out->statements);
    lc_dbres_free(&res);
    return rc;
}

int st_sstore_period_insert(lc_db_t *db, const char *period, const st_stmt_period_t *pp,
                            const lc_id_t *key)
{
    char k[LC_ID_STRLEN + 1];
    num_t at, seq, n;
    lc_id_format(key, k);
    const char *p[] = {period, s_num(at, pp->closed_at), k, s_num(seq, pp->last_seq),
                       s_num(n, pp->statements)};
    return lc_db_exec(db,
                      "INSERT INTO settlement.periods (period, closed_at, closed_by, last_seq, "
                      "statements) VALUES ($1, $2, $3, $4, $5)",
                      5, p, NULL);
}

/* The party id column of statement s: the partner, the supplier or zero. */
static const lc_id_t *s_party_id(const st_statement_t *s)
{
    return s->party == ST_PARTY_PARTNER ? &s->partner_id : &s->supplier_id;
}

#define FIGURES                                                                                    \
    "issued_points, reversed_points, redeemed_points, refunded_points, bonus_points_funded, "     \
    "bonus_points_reversed, match_points, prepaid_points, expired_points, adjustment_points, "    \
    "other_points, issue_charge_micros, redeem_credit_micros, fee_micros, net_micros, lines"
#define NFIGURES 16

/* The figures of s in FIGURES order. */
static void s_figures(const st_statement_t *s, int64_t v[NFIGURES])
{
    const int64_t f[NFIGURES] = {
        s->issued_points,       s->reversed_points,       s->redeemed_points,
        s->refunded_points,     s->bonus_points_funded,   s->bonus_points_reversed,
        s->match_points,        s->prepaid_points,        s->expired_points,
        s->adjustment_points,   s->other_points,          s->issue_charge_micros,
        s->redeem_credit_micros, s->fee_micros,           s->net_micros,
        s->line_count};
    memcpy(v, f, sizeof f);
}

int st_sstore_final_insert(lc_db_t *db, const char *period, const st_statement_t *s)
{
    char pid[LC_ID_STRLEN + 1];
    num_t party, fig[NFIGURES];
    int64_t v[NFIGURES];
    s_figures(s, v);
    lc_id_format(s_party_id(s), pid);
    const char *p[3 + NFIGURES] = {period, s_num(party, s->party), pid};
    for (int i = 0; i < NFIGURES; i++)
        p[3 + i] = s_num(fig[i], v[i]);
    return lc_db_exec(db,
                      "INSERT INTO settlement.statements (period, party_type, party_id, " FIGURES
                      ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, "
                      "$15, $16, $17, $18, $19)",
                      3 + NFIGURES, p, NULL);
}

/* The party filter of a query: "$n" parameters for party_type and party_id (both
 * NULL when party is 0: every party). */
static void s_party_params(int party, const lc_id_t *party_id, num_t pt, char pid[LC_ID_STRLEN + 1],
                           const char **p_type, const char **p_id)
{
    *p_type = *p_id = NULL;
    if (!party)
        return;
    *p_type = s_num(pt, party);
    lc_id_format(party_id, pid);
    *p_id = pid;
}

int st_sstore_sums(lc_db_t *db, const char *period, bool by_entry, const char *before, int party,
                   const lc_id_t *party_id, st_stmt_sum_t **out, size_t *n)
{
    *out = NULL;
    *n = 0;
    num_t pt;
    char pid[LC_ID_STRLEN + 1];
    /* $4 says which lines: billed in $1, happened in $1, or billed before $1. */
    const char *p[4] = {before ? before : period, NULL, NULL,
                        before ? "before" : by_entry ? "entry" : "billed"};
    s_party_params(party, party_id, pt, pid, &p[1], &p[2]);
    const char *sql =
        "SELECT party_type, party_id, category, side, sum(points), sum(amount_micros), "
        "sum(fee_micros), count(*) FROM settlement.statement_lines WHERE "
        "CASE $4 WHEN 'billed' THEN period = $1 WHEN 'entry' THEN entry_period = $1 "
        "ELSE period < $1 END "
        "AND ($2::smallint IS NULL OR (party_type = $2 AND party_id = $3::uuid)) "
        "GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4";
    lc_dbres_t *res = NULL;
    int rc = lc_db_exec(db, sql, 4, p, &res);
    int rows = rc == LC_OK ? lc_dbres_rows(res) : 0;
    if (rows > 0 && !(*out = calloc((size_t)rows, sizeof **out)))
        rc = LC_ERR_NOMEM;
    for (int i = 0; rc == LC_OK && i < rows; i++) {
        st_stmt_sum_t *s = &(*out)[i];
        int64_t v[4] = {0};
        for (int c = 0; rc == LC_OK && c < 4; c++)
            rc = c == 1 ? lc_dbres_id(res, i, 1, &s->k.party_id) : lc_dbres_i64(res, i, c, &v[c]);
        s->k.party = (int)v[0];
        s->k.category = (int)v[2];
        s->k.side = (int)v[3];
        if (rc == LC_OK)
            rc = lc_dbres_i64(res, i, 4, &s->points);
        if (rc == LC_OK)
            rc = lc_dbres_i64(res, i, 5, &s->amount);
        if (rc == LC_OK)
            rc = lc_dbres_i64(res, i, 6, &s->fee);
        if (rc == LC_OK)
            rc = lc_dbres_i64(res, i, 7, &s->count);
    }
    lc_dbres_free(&res);
    if (rc != LC_OK) {
        free(*out);
        *out = NULL;
        return rc;
    }
    *n = (size_t)rows;
    return LC_OK;
}

int st_sstore_finals(lc_db_t *db, const char *period, int party, const lc_id_t *party_id,
                     st_statement_t **out, size_t *n)
{
    *out = NULL;
    *n = 0;
    num_t pt;
    char pid[LC_ID_STRLEN + 1];
    const char *p[3] = {period};
    s_party_params(party, party_id, pt, pid, &p[1], &p[2]);
    lc_dbres_t *res = NULL;
    int rc = lc_db_exec(db,
                        "SELECT party_type, party_id, " FIGURES " FROM settlement.statements "
                        "WHERE period = $1 AND ($2::smallint IS NULL OR (party_type = $2 AND "
                        "party_id = $3::uuid)) ORDER BY party_type, party_id",
                        3, p, &res);
    int rows = rc == LC_OK ? lc_dbres_rows(res) : 0;
    if (rows > 0 && !(*out = calloc((size_t)rows, sizeof **out)))
        rc = LC_ERR_NOMEM;
    for (int i = 0; rc == LC_OK && i < rows; i++) {
        st_statement_t *s = &(*out)[i];
        int64_t party_type = 0, v[NFIGURES];
        lc_id_t id;
        rc = lc_dbres_i64(res, i, 0, &party_type);
        if (rc == LC_OK)
            rc = lc_dbres_id(res, i, 1, &id);
        for (int c = 0; rc == LC_OK && c < NFIGURES; c++)
            rc = lc_dbres_i64(res, i, 2 + c, &v[c]);
        if (rc != LC_OK)
            break;
        s->party = (int)party_type;
        if (s->party == ST_PARTY_PARTNER)
            s->partner_id = id;
        else
            s->supplier_id = id;
        int64_t *f[NFIGURES] = {
            &s->issued_points,       &s->reversed_points,       &s->redeemed_points,
            &s->refunded_points,     &s->bonus_points_funded,   &s->bonus_points_reversed,
            &s->match_points,        &s->prepaid_points,        &s->expired_points,
            &s->adjustment_points,   &s->other_points,          &s->issue_charge_micros,
            &s->redeem_credit_micros, &s->fee_micros,           &s->net_micros,
            &s->line_count};
        for (int c = 0; c < NFIGURES; c++)
            *f[c] = v[c];
    }
    lc_dbres_free(&res);
    if (rc != LC_OK) {
        free(*out);
        *out = NULL;
        return rc;
    }
    *n = (size_t)rows;
    return LC_OK;
}

int st_sstore_lines(lc_db_t *db, const char *period, int party, const lc_id_t *party_id,
                    int64_t after, int64_t limit, st_statement_line_t **out, size_t *n)
{
    *out = NULL;
    *n = 0;
    num_t pt, a, l;
    char pid[LC_ID_STRLEN + 1];
    const char *p[5] = {period, NULL, NULL, s_num(a, after), s_num(l, limit)};
    s_party_params(party, party_id, pt, pid, &p[1], &p[2]);
    lc_dbres_t *res = NULL;
    int rc = lc_db_exec(db,
                        "SELECT seq, transfer_id, code, category, party_type, party_id, side, "
                        "points, amount_micros, fee_micros, at, entry_period "
                        "FROM settlement.statement_lines WHERE period = $1 AND "
                        "($2::smallint IS NULL OR (party_type = $2 AND party_id = $3::uuid)) "
                        "AND seq > $4 ORDER BY seq, party_type, party_id LIMIT $5",
                        5, p, &res);
    int rows = rc == LC_OK ? lc_dbres_rows(res) : 0;
    if (rows > 0 && !(*out = calloc((size_t)rows, sizeof **out)))
        rc = LC_ERR_NOMEM;
    for (int i = 0; rc == LC_OK && i < rows; i++) {
        st_statement_line_t *x = &(*out)[i];
        int64_t cat = 0, party_type = 0, side = 0;
        rc = lc_dbres_i64(res, i, 0, &x->seq);
        if (rc == LC_OK)
            rc = lc_dbres_id(res, i, 1, &x->transfer_id);
        if (rc == LC_OK)
            rc = lc_dbres_i64(res, i, 2, &x->code);
        if (rc == LC_OK)
            rc = lc_dbres_i64(res, i, 3, &cat);
        if (rc == LC_OK)
            rc = lc_dbres_i64(res, i, 4, &party_type);
        if (rc == LC_OK)
            rc = lc_dbres_id(res, i, 5, &x->party_id);
        if (rc == LC_OK)
            rc = lc_dbres_i64(res, i, 6, &side);
        if (rc == LC_OK)
            rc = lc_dbres_i64(res, i, 7, &x->points);
        if (rc == LC_OK)
            rc = lc_dbres_i64(res, i, 8, &x->amount_micros);
        if (rc == LC_OK)
            rc = lc_dbres_i64(res, i, 9, &x->fee_micros);
        if (rc == LC_OK)
            rc = lc_dbres_i64(res, i, 10, &x->at);
        x->category = (int)cat;
        x->party = (int)party_type;
        x->side = (int)side;
        const char *ep = rc == LC_OK ? lc_dbres_get(res, i, 11) : NULL;
        if (rc == LC_OK && !(x->entry_period = strdup(ep ? ep : "")))
            rc = LC_ERR_NOMEM;
        x->correction = rc == LC_OK && strcmp(x->entry_period, period) != 0;
        *n = (size_t)i + 1; /* what to clear on failure */
    }
    lc_dbres_free(&res);
    if (rc != LC_OK) {
        for (size_t i = 0; i < *n; i++)
            free((*out)[i].entry_period);
        free(*out);
        *out = NULL;
        *n = 0;
        return rc;
    }
    *n = (size_t)rows;
    return LC_OK;
}

int st_sstore_partners(lc_db_t *db, const lc_id_t *only, lc_id_t **ids, int **funding, size_t *n)
{
    *ids = NULL;
    *funding = NULL;
    *n = 0;
    char id[LC_ID_STRLEN + 1];
    if (only)
        lc_id_format(only, id);
    const char *p[] = {only ? id : NULL};
    lc_dbres_t *res = NULL;
    int rc = lc_db_exec(db,
                        "SELECT id, funding FROM settlement.partners "
                        "WHERE $1::uuid IS NULL OR id = $1::uuid ORDER BY id",
                        1, p, &res);
    int rows = rc == LC_OK ? lc_dbres_rows(res) : 0;
    if (rows > 0 && (!(*ids = calloc((size_t)rows, sizeof **ids)) ||
                     !(*funding = calloc((size_t)rows, sizeof **funding))))
        rc = LC_ERR_NOMEM;
    for (int i = 0; rc == LC_OK && i < rows; i++) {
        int64_t f = 0;
        rc = lc_dbres_id(res, i, 0, &(*ids)[i]);
        if (rc == LC_OK)
            rc = lc_dbres_i64(res, i, 1, &f);
        (*funding)[i] = (int)f;
    }
    lc_dbres_free(&res);
    if (rc != LC_OK) {
        free(*ids);
        free(*funding);
        *ids = NULL;
        *funding = NULL;
        return rc;
    }
    *n = (size_t)rows;
    return LC_OK;
}
