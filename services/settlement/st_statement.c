/*
 * st_statement.c: a month's statements from the stored lines (st_stmt_build, shared
 * with the close and reconciliation) and GET /v1/statements/{period}
 * (settlement.statement).
 *
 * A partner gets its own statement with a page of its lines; auditors and admins get
 * every statement (every registered partner's, zero when it had nothing that month,
 * then the suppliers' and the coalition's) and a page of every line, or one
 * partner's statement with ?partner_id=. Another partner's statement is not_found,
 * as is an unknown partner. Lines are paged by seq (limit, starting_after); the
 * figures always cover the whole month.
 */
#include "lc_err.h"
#include "st_server.h"
#include "st_statement.h"

#include <stdlib.h>
#include <string.h>

typedef struct builder {
    st_statement_t *s;
    size_t n, cap;
} builder_t;

/* The statement of party/id in b, added (zero) when absent; NULL on NOMEM. Linear:
 * a month has one statement per partner, supplier and the coalition. */
static st_statement_t *s_find(builder_t *b, int party, const lc_id_t *id)
{
    for (size_t i = b->n; i-- > 0;) {
        st_statement_t *s = &b->s[i];
        const lc_id_t *sid = party == ST_PARTY_PARTNER ? &s->partner_id : &s->supplier_id;
        if (s->party == party && lc_id_eq(sid, id))
            return s;
    }
    st_statement_t *grown = st_stmt_grow(b->s, &b->cap, b->n, sizeof *b->s);
    if (!grown)
        return NULL;
    b->s = grown;
    st_statement_t *s = &b->s[b->n++];
    memset(s, 0, sizeof *s);
    s->party = party;
    if (party == ST_PARTY_PARTNER)
        s->partner_id = *id;
    else if (party == ST_PARTY_SUPPLIER)
        s->supplier_id = *id;
    return s;
}

/* Adds the lines billed in period (status open) or the stored final figures. */
static int s_figures(lc_db_t *db, builder_t *b, const char *period, int status, int party,
                     const lc_id_t *party_id)
{
    if (status == ST_STATEMENT_FINAL) {
        st_statement_t *f;
        size_t n;
        int rc = st_sstore_finals(db, period, party, party_id, &f, &n);
        for (size_t i = 0; rc == LC_OK && i < n; i++) {
            const lc_id_t *id = f[i].party == ST_PARTY_PARTNER ? &f[i].partner_id
                                                                : &f[i].supplier_id;
            st_statement_t *s = s_find(b, f[i].party, id);
            if (!s) {
                rc = LC_ERR_NOMEM;
                break;
            }
            int funding = s->funding;
            *s = f[i];
            s->funding = funding;
        }
        free(f);
        return rc;
    }
    st_stmt_sum_t *sums;
    size_t n;
    int rc = st_sstore_sums(db, period, false, NULL, party, party_id, &sums, &n);
    for (size_t i = 0; rc == LC_OK && i < n; i++) {
        st_statement_t *s = s_find(b, sums[i].k.party, &sums[i].k.party_id);
        if (!s) {
            rc = LC_ERR_NOMEM;
            break;
        }
        st_stmt_add(s, sums[i].k.category, sums[i].k.side, sums[i].points, sums[i].amount,
                    sums[i].fee, sums[i].count);
    }
    free(sums);
    return rc;
}

/* Adds the budget movements of the lines billed before month `before` to the
 * prepaid partners' opening (closing false) or closing budgets. */
static int s_budget(lc_db_t *db, builder_t *b, const char *before, bool closing)
{
    st_stmt_sum_t *sums;
    size_t n;
    int rc = st_sstore_sums(db, before, false, before, 0, NULL, &sums, &n);
    for (size_t i = 0; rc == LC_OK && i < n; i++) {
        if (sums[i].k.party != ST_PARTY_PARTNER)
            continue;
        for (size_t j = 0; j < b->n; j++) {
            st_statement_t *s = &b->s[j];
            if (s->party != ST_PARTY_PARTNER || s->funding != ST_FUNDING_PREPAID ||
                !lc_id_eq(&s->partner_id, &sums[i].k.party_id))
                continue;
            int64_t moved = st_stmt_budget_sign(sums[i].k.category) * sums[i].points;
            if (closing)
                s->budget_closing_points += moved;
            else
                s->budget_opening_points += moved;
        }
    }
    free(sums);
    return rc;
}

int st_stmt_build(lc_db_t *db, const char *period, int status, int party,
                  const lc_id_t *party_id, st_statement_t **out, size_t *n)
{
    *out = NULL;
    *n = 0;
    builder_t b = {0};
    lc_id_t *ids = NULL;
    int *funding = NULL;
    size_t np = 0;
    int rc = LC_OK;
    bool prepaid = false;
    if (party == 0 || party == ST_PARTY_PARTNER)
        rc = st_sstore_partners(db, party ? party_id : NULL, &ids, &funding, &np);
    for (size_t i = 0; rc == LC_OK && i < np; i++) {
        st_statement_t *s = s_find(&b, ST_PARTY_PARTNER, &ids[i]);
        if (!s)
            rc = LC_ERR_NOMEM;
        else
            s->funding = funding[i];
        prepaid = prepaid || funding[i] == ST_FUNDING_PREPAID;
    }
    free(ids);
    free(funding);
    if (rc == LC_OK)
        rc = s_figures(db, &b, period, status, party, party_id);
    char next[ST_PERIOD_LEN + 1];
    if (rc == LC_OK && prepaid)
        rc = st_stmt_next_period(period, next);
    if (rc == LC_OK && prepaid)
        rc = s_budget(db, &b, period, false);
    if (rc == LC_OK && prepaid)
        rc = s_budget(db, &b, next, true);
    for (size_t i = 0; rc == LC_OK && i < b.n; i++) {
        b.s[i].status = status;
        if (!(b.s[i].period = strdup(period)))
            rc = LC_ERR_NOMEM;
    }
    if (rc != LC_OK) {
        st_stmt_free(b.s, b.n);
        return rc;
    }
    *out = b.s;
    *n = b.n;
    return LC_OK;
}

void *st_stmt_grow(void *p, size_t *cap, size_t n, size_t size)
{
    if (n < *cap)
        return p;
    size_t want = *cap ? *cap * 2 : 16;
    void *q = realloc(p, want * size);
    if (q)
        *cap = want;
    return q;
}

void st_stmt_free(st_statement_t *s, size_t n)
{
    for (size_t i = 0; s && i < n; i++)
        lc_codec_clear(&st_statement_desc, &s[i]);
    free(s);
}

/* ---- GET /v1/statements/{period} ---------------------------------------------------- */

/* Whose statement the caller asks for: party 0 (every one) or one partner. */
static const char *s_whose(st_call_t *c, int *party, lc_id_t *partner)
{
    *party = 0;
    memset(partner, 0, sizeof *partner);
    const char *q = lc_api_query(&c->api, "partner_id");
    lc_id_t asked;
    if (q && (strlen(q) != LC_ID_STRLEN || lc_id_parse(q, &asked) != LC_OK))
        return st_fail(c, LC_API_NOT_FOUND, "no such partner");
    int role = c->api.caller.role;
    if (role == LC_ROLE_PARTNER) {
        const char *e = st_caller_partner_id(c, partner);
        if (e)
            return e;
        if (q && !lc_id_eq(&asked, partner)) /* no existence leak: as if unknown */
            return st_fail(c, LC_API_NOT_FOUND, "no such partner");
        *party = ST_PARTY_PARTNER;
        return NULL;
    }
    if (role != LC_ROLE_AUDITOR && role != LC_ROLE_ADMIN)
        return st_fail(c, LC_API_FORBIDDEN, "statements are for partners, auditors and admins");
    if (q) {
        *party = ST_PARTY_PARTNER;
        *partner = asked;
    }
    return NULL;
}

const char *st_h_statement(st_call_t *c, json_t **reply)
{
    const char *period;
    st_empty_t in;
    int party;
    lc_id_t partner;
    int64_t limit = 0, after = 0;
    const char *e = st_period_param(c, &period);
    if (!e)
        e = s_whose(c, &party, &partner);
    if (!e)
        e = st_decode(c, &st_empty_desc, &in);
    if (e)
        return e;
    if (lc_api_query_i64(&c->api, "limit", ST_STMT_LINES_DEFAULT, 1, LC_API_LIST_MAX, &limit,
                         c->msg, c->msglen) != LC_OK ||
        lc_api_query_i64(&c->api, "starting_after", 0, 0, INT64_MAX, &after, c->msg,
                         c->msglen) != LC_OK)
        return LC_API_INVALID_REQUEST;
    st_stmt_period_t pp;
    int rc = st_sstore_period_get(c->srv->db, period, &pp);
    if (rc != LC_OK && rc != LC_ERR_NOT_FOUND)
        return st_db_fail(c, "read the period");
    int status = rc == LC_OK ? ST_STATEMENT_FINAL : ST_STATEMENT_OPEN;
    st_statement_t *s = NULL;
    size_t n = 0;
    if (st_stmt_build(c->srv->db, period, status, party, &partner, &s, &n) != LC_OK)
        return st_db_fail(c, "build the statements");
    if (party && n == 0) {
        st_stmt_free(s, n);
        return st_fail(c, LC_API_NOT_FOUND, "no such partner");
    }
    st_statement_line_t *lines = NULL;
    size_t nl = 0;
    if (st_sstore_lines(c->srv->db, period, party, &partner, after, limit + 1, &lines, &nl) !=
        LC_OK) {
        st_stmt_free(s, n);
        return st_db_fail(c, "read the lines");
    }
    bool more = nl > (size_t)limit;
    if (more) /* the extra line only said that there are more */
        lc_codec_clear(&st_statement_line_desc, &lines[--nl]);
    if (party) {
        s[0].lines = lines;
        s[0].nlines = nl;
        s[0].has_more = more;
        e = st_reply(c, &st_statement_desc, &s[0], reply);
        st_stmt_free(s, n);
        return e;
    }
    st_statements_rep_t rep = {.period = (char *)period, .status = status, .statements = s,
                               .nstatements = n, .lines = lines, .nlines = nl, .has_more = more};
    e = st_reply(c, &st_statements_rep_desc, &rep, reply);
    rep.period = NULL; /* borrowed from the request */
    lc_codec_clear(&st_statements_rep_desc, &rep);
    return e;
}
