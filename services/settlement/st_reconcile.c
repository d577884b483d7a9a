/*
 * st_reconcile.c: GET /v1/audit/reconcile/{period} (settlement.reconcile, auditor and
 * admin): do the month's statements equal the journal?
 *
 * The journal side is computed without the consumer's tables: settlement reads the
 * ledger's journal itself (ledger.journal_read, from the first entry up to the last
 * one the statements have consumed; settlement's database role cannot read the
 * ledger's schema), learns the accounts from the journal's own account entries, and
 * applies the statement rules (st_stmt_classify, st_stmt_price) to every entry of the
 * month. The statements side is the sum of the stored lines of entries of the month,
 * wherever they were billed (a late entry is billed in a later month, but it happened
 * in this one). Named differences:
 *   totals         party, category and figure (points, amount_micros, fee_micros)
 *                  where the two sides differ;
 *   unknown_code   each entry of the month on a party's account whose code the
 *                  statements do not know (billed as `other`, never dropped);
 *   final          a closed month's stored final statement against the sums of the
 *                  lines billed in it;
 *   trial_balance  the ledger's balances do not sum to zero (ledger.trial_balance).
 * Reading the whole journal makes this O(journal); fine for a monthly check, and a
 * replica could serve it (ARCHITECTURE.md "Read traffic").
 */
#include "lc_err.h"
#include "lc_journal.h"
#include "lc_log.h"
#include "lc_period.h"
#include "st_ledger.h"
#include "st_server.h"
#include "st_statement.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DIFFS_MAX LC_API_LIST_MAX /* differences named in one answer */

/* ---- an id table (open addressing), for the accounts and the bonus transfers ----- */

typedef struct slot {
    bool used;
    lc_id_t id;
    st_stmt_account_t a;
} slot_t;

typedef struct idmap {
    slot_t *s;
    size_t cap, n; /* cap: a power of two */
} idmap_t;

static slot_t *s_slot(const idmap_t *m, const lc_id_t *id)
{
    size_t i = (size_t)lc_id_hash(id) & (m->cap - 1);
    while (m->s[i].used && !lc_id_eq(&m->s[i].id, id))
        i = (i + 1) & (m->cap - 1);
    return &m->s[i];
}

static const st_stmt_account_t *s_get(const idmap_t *m, const lc_id_t *id)
{
    if (!m->cap)
        return NULL;
    slot_t *x = s_slot(m, id);
    return x->used ? &x->a : NULL;
}

static int s_put(idmap_t *m, const lc_id_t *id, const st_stmt_account_t *a)
{
    if (2 * (m->n + 1) > m->cap) { /* keep it at most half full */
        idmap_t g = {.cap = m->cap ? m->cap * 2 : 256};
        if (!(g.s = calloc(g.cap, sizeof *g.s)))
            return LC_ERR_NOMEM;
        for (size_t i = 0; i < m->cap; i++)
            if (m->s[i].used)
                *s_slot(&g, &m->s[i].id) = m->s[i];
        g.n = m->n;
        free(m->s);
        *m = g;
    }
    slot_t *x = s_slot(m, id);
    if (!x->used)
        m->n++;
    *x = (slot_t){.used = true, .id = *id, .a = *a};
    return LC_OK;
}

/* ---- the reconciliation ------------------------------------------------------------ */

typedef struct tariff_cache {
    lc_id_t partner;
    int found; /* LC_OK or LC_ERR_NOT_FOUND */
    st_stmt_tariff_t t;
} tariff_cache_t;

typedef struct recon {
    st_call_t *c;
    const char *period;
    idmap_t accounts, bonuses;
    st_stmt_sum_t *journal; /* the journal's sums of the month */
    size_t njournal, capjournal;
    tariff_cache_t *tariffs; /* the partners met so far */
    size_t ntariffs, captariffs;
    st_reconcile_rep_t rep;
    size_t capdiff;
} recon_t;

/* Adds a difference with its message. */
static int s_diff(recon_t *r, int kind, const st_stmt_class_t *k, const char *figure,
                  int64_t statement, int64_t journal, const char *fmt, ...)
    __attribute__((format(printf, 7, 8)));

static int s_diff(recon_t *r, int kind, const st_stmt_class_t *k, const char *figure,
                  int64_t statement, int64_t journal, const char *fmt, ...)
{
    if (r->rep.ndifferences >= DIFFS_MAX)
        return LC_OK; /* ok is false already; the first DIFFS_MAX are named */
    st_difference_t *grown =
        st_stmt_grow(r->rep.differences, &r->capdiff, r->rep.ndifferences, sizeof *grown);
    if (!grown)
        return LC_ERR_NOMEM;
    r->rep.differences = grown;
    st_difference_t *d = &r->rep.differences[r->rep.ndifferences];
    memset(d, 0, sizeof *d);
    d->kind = kind;
    if (k) {
        d->party = k->party;
        d->party_id = k->party_id;
        d->category = k->category;
    }
    d->statement = statement;
    d->journal = journal;
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    d->figure = strdup(figure);
    d->message = strdup(msg);
    r->rep.ndifferences++; /* counted even without its strings: cleared below */
    return d->figure && d->message ? LC_OK : LC_ERR_NOMEM;
}

/* "partner 0190...", "supplier ...", "coalition" */
static void s_party_text(const st_stmt_class_t *k, char *out, size_t len)
{
    const char *name = lc_name_of(st_party_names, (uint32_t)k->party);
    if (k->party == ST_PARTY_COALITION) {
        snprintf(out, len, "%s", name);
        return;
    }
    char id[LC_ID_STRLEN + 1];
    lc_id_format(&k->party_id, id);
    snprintf(out, len, "%s %s", name ? name : "?", id);
}

static const st_stmt_tariff_t *s_tariff(recon_t *r, const lc_id_t *partner, int *rc)
{
    *rc = LC_OK;
    for (size_t i = 0; i < r->ntariffs; i++)
        if (lc_id_eq(&r->tariffs[i].partner, partner))
            return r->tariffs[i].found == LC_OK ? &r->tariffs[i].t : NULL;
    tariff_cache_t *t = st_stmt_grow(r->tariffs, &r->captariffs, r->ntariffs, sizeof *t);
    if (!t) {
        *rc = LC_ERR_NOMEM;
        return NULL;
    }
    r->tariffs = t;
    tariff_cache_t *x = &t[r->ntariffs];
    memset(x, 0, sizeof *x);
    x->partner = *partner;
    x->found = st_sstore_tariff(r->c->srv->db, partner, &x->t);
    if (x->found != LC_OK && x->found != LC_ERR_NOT_FOUND) {
        *rc = x->found;
        return NULL;
    }
    r->ntariffs++;
    return x->found == LC_OK ? &x->t : NULL;
}

static bool s_same_key(const st_stmt_class_t *a, const st_stmt_class_t *b)
{
    return a->party == b->party && a->category == b->category && a->side == b->side &&
           lc_id_eq(&a->party_id, &b->party_id);
}

/* Adds one line of the month to the journal's sums, priced as the consumer would. */
static int s_count(recon_t *r, const ld_entry_t *e, st_stmt_class_t k)
{
    int64_t amount = 0, fee = 0;
    int rc = LC_OK;
    const st_stmt_tariff_t *t = NULL;
    if (k.party == ST_PARTY_PARTNER && !(t = s_tariff(r, &k.party_id, &rc))) {
        if (rc != LC_OK)
            return rc;
        k.category = ST_LINE_OTHER; /* no such partner: the consumer bills it as other */
    }
    if (k.category != ST_LINE_OTHER &&
        st_stmt_price(&k, e->amount, t, r->c->srv->cfg.point_value_cents * 10000, &amount,
                      &fee) != LC_OK) {
        k.category = ST_LINE_OTHER;
        amount = fee = 0;
    }
    if (k.category == ST_LINE_OTHER) {
        char who[80];
        s_party_text(&k, who, sizeof who);
        rc = s_diff(r, ST_DIFF_UNKNOWN_CODE, &k, "points", 0, e->amount,
                    "entry %lld (code %u, %lld points) on %s's account is not a statement line "
                    "settlement knows: billed as other",
                    (long long)e->seq, e->code, (long long)e->amount, who);
        if (rc != LC_OK)
            return rc;
        r->rep.differences[r->rep.ndifferences - 1].seq = e->seq;
        r->rep.differences[r->rep.ndifferences - 1].code = e->code;
    }
    for (size_t i = 0; i < r->njournal; i++)
        if (s_same_key(&r->journal[i].k, &k)) {
            r->journal[i].points += e->amount;
            r->journal[i].amount += amount;
            r->journal[i].fee += fee;
            r->journal[i].count++;
            return LC_OK;
        }
    st_stmt_sum_t *grown = st_stmt_grow(r->journal, &r->capjournal, r->njournal, sizeof *grown);
    if (!grown)
        return LC_ERR_NOMEM;
    r->journal = grown;
    r->journal[r->njournal++] = (st_stmt_sum_t){.k = k, .points = e->amount, .amount = amount,
                                                 .fee = fee, .count = 1};
    return LC_OK;
}

/* One journal entry: learn accounts and bonuses from every entry, count the month's. */
static int s_entry(recon_t *r, const ld_entry_t *e)
{
    if (e->type == LD_ENTRY_ACCOUNT) {
        if (e->kind == LD_KIND_MEMBER)
            return LC_OK;
        st_stmt_account_t a = {.known = true, .kind = e->kind, .owner = e->user_data};
        return s_put(&r->accounts, &e->id, &a);
    }
    if (e->type != LD_ENTRY_TRANSFER)
        return LC_OK;
    st_stmt_account_t none = {0};
    const st_stmt_account_t *dr = s_get(&r->accounts, &e->debit_account_id);
    const st_stmt_account_t *cr = s_get(&r->accounts, &e->credit_account_id);
    bool reverses_bonus = e->code == ST_CODE_RETURN && s_get(&r->bonuses, &e->reverses);
    st_stmt_class_t k[2];
    int n = st_stmt_classify(e, dr ? dr : &none, cr ? cr : &none, reverses_bonus, k);
    lc_period_t m;
    char month[ST_PERIOD_LEN + 1] = "";
    if (n > 0 && (lc_period_of(e->timestamp, &m) != LC_OK || lc_period_format(&m, month) != LC_OK))
        return LC_ERR_PROTO;
    bool ours = n > 0 && strcmp(month, r->period) == 0;
    r->rep.entries_checked += ours;
    for (int i = 0; i < n; i++) {
        int rc = LC_OK;
        if (k[i].category == ST_LINE_BONUS_FUNDED)
            rc = s_put(&r->bonuses, &e->id, &none);
        if (rc == LC_OK && ours)
            rc = s_count(r, e, k[i]);
        if (rc != LC_OK)
            return rc;
    }
    return LC_OK;
}

/* Reads the journal up to the statements' cursor, entry by entry into s_entry. */
static const char *s_read_journal(recon_t *r)
{
    int64_t after = 0;
    while (after < r->rep.statements_seq) {
        ld_journal_req_t q = {.after_seq = after, .limit = LC_JOURNAL_PAGE};
        ld_entries_rep_t page;
        memset(&page, 0, sizeof page);
        if (st_ledger_call(r->c->srv, r->c->rid, LD_TYPE_JOURNAL_READ, &ld_journal_req_desc, &q,
                           &ld_entries_rep_desc, &page) != LC_OK)
            return st_fail(r->c, LC_API_UNAVAILABLE, "the ledger is unavailable");
        int rc = page.nentries ? LC_OK : LC_ERR_PROTO;
        for (size_t i = 0; rc == LC_OK && i < page.nentries; i++) {
            const ld_entry_t *e = &page.entries[i];
            if (e->seq != after + 1)
                rc = LC_ERR_PROTO;
            else if (e->seq <= r->rep.statements_seq)
                rc = s_entry(r, e);
            after = e->seq;
        }
        lc_codec_clear(&ld_entries_rep_desc, &page);
        if (rc == LC_ERR_NOMEM)
            return st_fail(r->c, LC_API_INTERNAL, "out of memory");
        if (rc != LC_OK)
            return st_fail(r->c, LC_API_UNAVAILABLE,
                           "the ledger's journal did not read back in sequence after %lld",
                           (long long)after);
    }
    return NULL;
}

/* Compares one figure of one key; names it when the two differ. */
static int s_compare(recon_t *r, int kind, const st_stmt_class_t *k, const char *figure,
                     int64_t statement, int64_t journal)
{
    if (statement == journal)
        return LC_OK;
    char who[80];
    s_party_text(k, who, sizeof who);
    const char *cat = k->category ? lc_name_of(st_line_category_names, (uint32_t)k->category)
                                  : NULL;
    return s_diff(r, kind, k, figure, statement, journal, "%s%s%s %s: statements %lld, %s %lld",
                  who, cat ? " " : "", cat ? cat : "", figure, (long long)statement,
                  kind == ST_DIFF_FINAL ? "lines" : "journal", (long long)journal);
}

/* The stored lines of the month's entries against the journal's sums. */
static const char *s_totals(recon_t *r)
{
    st_stmt_sum_t *lines;
    size_t n;
    if (st_sstore_sums(r->c->srv->db, r->period, true, NULL, 0, NULL, &lines, &n) != LC_OK)
        return st_db_fail(r->c, "sum the lines");
    int rc = LC_OK;
    /* every stored key against the journal's (zero when absent) ... */
    for (size_t i = 0; rc == LC_OK && i < n; i++) {
        st_stmt_sum_t j = {0};
        for (size_t x = 0; x < r->njournal; x++)
            if (s_same_key(&r->journal[x].k, &lines[i].k))
                j = r->journal[x];
        rc = s_compare(r, ST_DIFF_TOTALS, &lines[i].k, "points", lines[i].points, j.points);
        if (rc == LC_OK)
            rc = s_compare(r, ST_DIFF_TOTALS, &lines[i].k, "amount_micros", lines[i].amount,
                           j.amount);
        if (rc == LC_OK)
            rc = s_compare(r, ST_DIFF_TOTALS, &lines[i].k, "fee_micros", lines[i].fee, j.fee);
    }
    /* ... and every journal key the lines do not have */
    for (size_t x = 0; rc == LC_OK && x < r->njournal; x++) {
        bool found = false;
        for (size_t i = 0; i < n && !found; i++)
            found = s_same_key(&r->journal[x].k, &lines[i].k);
        if (!found)
            rc = s_compare(r, ST_DIFF_TOTALS, &r->journal[x].k, "points", 0,
                           r->journal[x].points);
    }
    free(lines);
    return rc == LC_OK ? NULL : st_fail(r->c, LC_API_INTERNAL, "out of memory");
}

static const st_statement_t s_zero;

/* The statement of key's party in s[0..n), or a zero one. */
static const st_statement_t *s_match(const st_statement_t *s, size_t n,
                                     const st_statement_t *key)
{
    for (size_t i = 0; i < n; i++)
        if (s[i].party == key->party && lc_id_eq(&s[i].partner_id, &key->partner_id) &&
            lc_id_eq(&s[i].supplier_id, &key->supplier_id))
            return &s[i];
    return &s_zero;
}

/* Every figure of final statement f against the lines' l (one party). */
static int s_compare_statement(recon_t *r, const st_statement_t *key, const st_statement_t *f,
                               const st_statement_t *l)
{
    st_stmt_class_t k = {.party = key->party,
                         .party_id = key->party == ST_PARTY_PARTNER ? key->partner_id
                                                                     : key->supplier_id};
    const struct {
        const char *name;
        int64_t f, l;
    } fig[] = {
        {"issued_points", f->issued_points, l->issued_points},
        {"reversed_points", f->reversed_points, l->reversed_points},
        {"redeemed_points", f->redeemed_points, l->redeemed_points},
        {"refunded_points", f->refunded_points, l->refunded_points},
        {"bonus_points_funded", f->bonus_points_funded, l->bonus_points_funded},
        {"bonus_points_reversed", f->bonus_points_reversed, l->bonus_points_reversed},
        {"match_points", f->match_points, l->match_points},
        {"prepaid_points", f->prepaid_points, l->prepaid_points},
        {"expired_points", f->expired_points, l->expired_points},
        {"adjustment_points", f->adjustment_points, l->adjustment_points},
        {"other_points", f->other_points, l->other_points},
        {"issue_charge_micros", f->issue_charge_micros, l->issue_charge_micros},
        {"redeem_credit_micros", f->redeem_credit_micros, l->redeem_credit_micros},
        {"fee_micros", f->fee_micros, l->fee_micros},
        {"net_micros", f->net_micros, l->net_micros},
        {"line_count", f->line_count, l->line_count},
    };
    int rc = LC_OK;
    for (size_t x = 0; rc == LC_OK && x < sizeof fig / sizeof fig[0]; x++)
        rc = s_compare(r, ST_DIFF_FINAL, &k, fig[x].name, fig[x].f, fig[x].l);
    return rc;
}

/* A closed month: its stored final statements against the lines billed in it. */
static const char *s_finals(recon_t *r)
{
    st_stmt_period_t pp;
    int rc = st_sstore_period_get(r->c->srv->db, r->period, &pp);
    if (rc == LC_ERR_NOT_FOUND)
        return NULL;
    st_statement_t *fin = NULL, *lin = NULL;
    size_t nf = 0, nl = 0;
    if (rc == LC_OK)
        rc = st_stmt_build(r->c->srv->db, r->period, ST_STATEMENT_FINAL, 0, NULL, &fin, &nf);
    if (rc == LC_OK)
        rc = st_stmt_build(r->c->srv->db, r->period, ST_STATEMENT_OPEN, 0, NULL, &lin, &nl);
    if (rc != LC_OK) {
        st_stmt_free(fin, nf);
        st_stmt_free(lin, nl);
        return st_db_fail(r->c, "read the final statements");
    }
    for (size_t i = 0; rc == LC_OK && i < nf; i++)
        rc = s_compare_statement(r, &fin[i], &fin[i], s_match(lin, nl, &fin[i]));
    for (size_t i = 0; rc == LC_OK && i < nl; i++)
        if (s_match(fin, nf, &lin[i]) == &s_zero) /* lines of a party without a final */
            rc = s_compare_statement(r, &lin[i], &s_zero, &lin[i]);
    st_stmt_free(fin, nf);
    st_stmt_free(lin, nl);
    return rc == LC_OK ? NULL : st_fail(r->c, LC_API_INTERNAL, "out of memory");
}

/* The ledger's trial balance: its sum and the journal's head. */
static const char *s_trial_balance(recon_t *r)
{
    ld_empty_t none = {0};
    ld_trial_balance_rep_t tb;
    memset(&tb, 0, sizeof tb);
    if (st_ledger_call(r->c->srv, r->c->rid, LD_TYPE_TRIAL_BALANCE, &ld_empty_desc, &none,
                       &ld_trial_balance_rep_desc, &tb) != LC_OK)
        return st_fail(r->c, LC_API_UNAVAILABLE, "the ledger is unavailable");
    r->rep.trial_balance_sum = tb.sum;
    r->rep.journal_seq = tb.journal_seq;
    lc_codec_clear(&ld_trial_balance_rep_desc, &tb);
    if (r->rep.trial_balance_sum != 0 &&
        s_diff(r, ST_DIFF_TRIAL_BALANCE, NULL, "sum", 0, r->rep.trial_balance_sum,
               "the ledger's balances sum to %lld, not 0", (long long)r->rep.trial_balance_sum))
        return st_fail(r->c, LC_API_INTERNAL, "out of memory");
    return NULL;
}

const char *st_h_reconcile(st_call_t *c, json_t **reply)
{
    recon_t r = {.c = c};
    st_empty_t in;
    const char *e = NULL;
    if (c->api.caller.role != LC_ROLE_AUDITOR && c->api.caller.role != LC_ROLE_ADMIN)
        e = st_fail(c, LC_API_FORBIDDEN, "reconciliation is for auditors and admins");
    if (!e)
        e = st_period_param(c, &r.period);
    if (!e)
        e = st_decode(c, &st_empty_desc, &in);
    if (!e && st_sstore_cursor_read(c->srv->db, &r.rep.statements_seq) != LC_OK)
        e = st_db_fail(c, "read the statements' cursor");
    if (!e)
        e = s_trial_balance(&r);
    if (!e)
        e = s_read_journal(&r);
    if (!e)
        e = s_totals(&r);
    if (!e)
        e = s_finals(&r);
    if (!e) {
        r.rep.period = (char *)r.period;
        r.rep.ok = r.rep.ndifferences == 0;
        e = st_reply(c, &st_reconcile_rep_desc, &r.rep, reply);
        r.rep.period = NULL; /* borrowed from the request */
        if (!r.rep.ok) {
            char n[24];
            snprintf(n, sizeof n, "%zu", r.rep.ndifferences);
            lc_log_kv(LC_LOG_WARN, c->rid, "reconciliation found differences", "period",
                      r.period, "differences", n, NULL);
        }
    }
    lc_codec_clear(&st_reconcile_rep_desc, &r.rep);
    free(r.accounts.s);
    free(r.bonuses.s);
    free(r.journal);
    free(r.tariffs);
    return e;
}
