/*
 * st_audit.c: the finance routes of API.md (role auditor; admins may read them
 * too): trial balance, journal export, chain verification and the liability
 * report. The first three are the ledger's own answers (ledger.trial_balance,
 * ledger.journal_read, ledger.verify) in the API's shape; the liability is
 * computed here from the journal and the members' lots.
 *
 * Liability (services/settlement/README.md "Audit"): one pass over the whole
 * journal learns every account's kind and owner, which credit to a member
 * created which lot (lot id = crediting transfer id, proto/README.md 5.7), the
 * open pending earns (holds crediting a member that were neither posted nor
 * voided) and the history of expiries and uses. Then each member's lots
 * (ledger.account_lots) are attributed to the account that issued them: a
 * partner's issuance account counts for that partner, any other funding account
 * (coalition promotion, a supplier, the adjustment account) is listed as is. The
 * report reads the whole journal, like ledger.verify: a finance query to run on
 * demand (or against a replica), not on a hot path.
 */
#include "lc_err.h"
#include "lc_log.h"
#include "st_ledger.h"
#include "st_server.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define JOURNAL_DEFAULT 100 /* default limit of GET /v1/audit/journal */
#define WALK_PAGE 10000     /* entries per ledger.journal_read of the liability walk */

/* Finance reads: auditors, and admins. */
static const char *s_need_finance(st_call_t *c)
{
    int role = c->api.caller.role;
    if (role == LC_ROLE_AUDITOR || role == LC_ROLE_ADMIN)
        return NULL;
    return st_fail(c, LC_API_FORBIDDEN, "this call needs role auditor or admin");
}

static const char *s_ledger(st_call_t *c, const char *type, const lc_msgdesc_t *req_desc,
                            const void *req, const lc_msgdesc_t *rep_desc, void *rep)
{
    if (st_ledger_call(c->srv, c->rid, type, req_desc, req, rep_desc, rep) != LC_OK)
        return st_fail(c, LC_API_UNAVAILABLE, "the ledger is unavailable");
    return NULL;
}

/* ---- trial balance, journal, verify ------------------------------------------------ */

const char *st_h_audit_trial_balance(st_call_t *c, json_t **reply)
{
    const char *e = s_need_finance(c);
    if (e)
        return e;
    ld_empty_t empty = {0};
    ld_trial_balance_rep_t tb;
    if ((e = s_ledger(c, LD_TYPE_TRIAL_BALANCE, &ld_empty_desc, &empty,
                      &ld_trial_balance_rep_desc, &tb)))
        return e;
    st_trial_balance_t rep = {.sum = tb.sum, .accounts = tb.accounts,
                              .journal_seq = tb.journal_seq};
    memcpy(rep.chain_head, tb.chain_head, LC_SHA256_LEN);
    for (size_t i = 0; i < tb.nby_kind; i++) {
        st_kind_total_t *slot = st_by_kind_slot(&rep.by_kind, tb.by_kind[i].kind);
        if (!slot) {
            lc_codec_clear(&ld_trial_balance_rep_desc, &tb);
            return st_fail(c, LC_API_INTERNAL, "the ledger answered an unknown account kind");
        }
        slot->accounts = tb.by_kind[i].accounts;
        slot->balance = tb.by_kind[i].balance;
    }
    lc_codec_clear(&ld_trial_balance_rep_desc, &tb);
    return st_reply(c, &st_trial_balance_desc, &rep, reply);
}

const char *st_h_audit_journal(st_call_t *c, json_t **reply)
{
    const char *e = s_need_finance(c);
    if (e)
        return e;
    ld_journal_req_t req;
    if (lc_api_query_i64(&c->api, "after_seq", 0, 0, INT64_MAX, &req.after_seq, c->msg,
                         c->msglen) != LC_OK ||
        lc_api_query_i64(&c->api, "limit", JOURNAL_DEFAULT, 1, LC_API_LIST_MAX, &req.limit,
                         c->msg, c->msglen) != LC_OK)
        return LC_API_INVALID_REQUEST;
    ld_entries_rep_t rep;
    if ((e = s_ledger(c, LD_TYPE_JOURNAL_READ, &ld_journal_req_desc, &req, &ld_entries_rep_desc,
                      &rep)))
        return e;
    int64_t last = rep.nentries ? rep.entries[rep.nentries - 1].seq : req.after_seq;
    st_journal_page_t page = {.entries = rep.entries, .nentries = rep.nentries,
                              .head_seq = rep.head_seq, .has_more = last < rep.head_seq};
    e = st_reply(c, &st_journal_page_desc, &page, reply); /* page borrows rep's entries */
    lc_codec_clear(&ld_entries_rep_desc, &rep);
    return e;
}

const char *st_h_audit_verify(st_call_t *c, json_t **reply)
{
    const char *e = s_need_finance(c);
    if (e)
        return e;
    ld_empty_t empty = {0};
    ld_verify_rep_t v;
    if ((e = s_ledger(c, LD_TYPE_VERIFY, &ld_empty_desc, &empty, &ld_verify_rep_desc, &v)))
        return e;
    if (!v.ok) {
        char seq[24];
        snprintf(seq, sizeof seq, "%lld", (long long)v.first_bad_seq);
        lc_log_kv(LC_LOG_ERROR, c->rid, "journal verification failed", "first_bad_seq", seq,
                  "reason", v.reason ? v.reason : "", NULL);
    }
    e = st_reply(c, &ld_verify_rep_desc, &v, reply);
    lc_codec_clear(&ld_verify_rep_desc, &v);
    return e;
}

/* ---- an id -> index map (open addressing) for the liability walk -------------------- */

typedef struct idmap {
    lc_id_t *keys;
    size_t *vals; /* index + 1; 0 = empty slot */
    size_t cap;   /* a power of two */
    size_t n;
} idmap_t;

static size_t s_slot(const idmap_t *m, const lc_id_t *id)
{
    uint64_t h = 0;
    for (int i = 0; i < 16; i++)
        h = (h ^ id->b[i]) * UINT64_C(1099511628211); /* FNV-1a */
    size_t i = (size_t)h & (m->cap - 1);
    while (m->vals[i] && memcmp(&m->keys[i], id, sizeof *id))
        i = (i + 1) & (m->cap - 1);
    return i;
}

/* The index stored for id, or -1. */
static long s_map_get(const idmap_t *m, const lc_id_t *id)
{
    if (!m->cap)
        return -1;
    size_t i = s_slot(m, id);
    return m->vals[i] ? (long)m->vals[i] - 1 : -1;
}

static int s_map_put(idmap_t *m, const lc_id_t *id, size_t val)
{
    if (2 * (m->n + 1) > m->cap) {
        idmap_t g = {.cap = m->cap ? 2 * m->cap : 1024};
        g.keys = calloc(g.cap, sizeof *g.keys);
        g.vals = calloc(g.cap, sizeof *g.vals);
        if (!g.keys || !g.vals) {
            free(g.keys);
            free(g.vals);
            return LC_ERR_NOMEM;
        }
        for (size_t i = 0; i < m->cap; i++)
            if (m->vals[i]) {
                size_t j = s_slot(&g, &m->keys[i]);
                g.keys[j] = m->keys[i];
                g.vals[j] = m->vals[i];
            }
        g.n = m->n;
        free(m->keys);
        free(m->vals);
        *m = g;
    }
    size_t i = s_slot(m, id);
    if (!m->vals[i])
        m->n++;
    m->keys[i] = *id;
    m->vals[i] = val + 1;
    return LC_OK;
}

static void s_map_free(idmap_t *m)
{
    free(m->keys);
    free(m->vals);
    memset(m, 0, sizeof *m);
}

/* ---- the liability walk ------------------------------------------------------------ */

typedef struct acct {
    lc_id_t id;
    int kind;
    lc_id_t user_data; /* partner accounts: the partner */
} acct_t;

typedef struct hold {
    lc_id_t issuer;
    int64_t amount;
    bool open;
} hold_t;

/* One issuer's line being summed. */
typedef struct issuer {
    lc_id_t account;
    int64_t outstanding, pending;
} issuer_t;

typedef struct walk {
    idmap_t acct_ix;    /* account id -> accts[] */
    acct_t *accts;
    size_t naccts, capaccts;
    idmap_t lot_ix;     /* crediting transfer (lot) id -> lot_issuer[] */
    lc_id_t *lot_issuer;
    size_t nlots, caplots;
    idmap_t hold_ix;    /* pending credit to a member -> holds[] */
    hold_t *holds;
    size_t nholds, capholds;
    idmap_t issuer_ix;  /* issuing account -> issuers[] */
    issuer_t *issuers;
    size_t nissuers, capissuers;
    int64_t expired, used; /* history, for the breakage rate */
    int64_t seq;           /* last entry applied */
} walk_t;

/* Grows *arr (of elem bytes) to hold one more; LC_ERR_NOMEM on failure. */
static int s_grow(void **arr, size_t *cap, size_t n, size_t elem)
{
    if (n < *cap)
        return LC_OK;
    size_t c = *cap ? 2 * *cap : 256;
    void *p = realloc(*arr, c * elem);
    if (!p)
        return LC_ERR_NOMEM;
    *arr = p;
    *cap = c;
    return LC_OK;
}

static int s_kind(const walk_t *w, const lc_id_t *id)
{
    long i = s_map_get(&w->acct_ix, id);
    return i < 0 ? 0 : w->accts[i].kind;
}

static int s_apply(walk_t *w, const ld_entry_t *e)
{
    w->seq = e->seq;
    if (e->type == LD_ENTRY_ACCOUNT) {
        if (s_grow((void **)&w->accts, &w->capaccts, w->naccts, sizeof *w->accts) != LC_OK)
            return LC_ERR_NOMEM;
        w->accts[w->naccts] = (acct_t){e->id, e->kind, e->user_data};
        return s_map_put(&w->acct_ix, &e->id, w->naccts++);
    }
    if (e->type != LD_ENTRY_TRANSFER)
        return LC_OK;
    if (s_kind(w, &e->credit_account_id) == LD_KIND_MEMBER) {
        if (e->flags & LD_TF_PENDING) {
            if (s_grow((void **)&w->holds, &w->capholds, w->nholds, sizeof *w->holds) != LC_OK)
                return LC_ERR_NOMEM;
            w->holds[w->nholds] = (hold_t){e->debit_account_id, e->amount, true};
            return s_map_put(&w->hold_ix, &e->id, w->nholds++);
        }
        if (e->flags & (LD_TF_POST_PENDING | LD_TF_VOID_PENDING)) {
            long h = s_map_get(&w->hold_ix, &e->pending_id);
            if (h >= 0)
                w->holds[h].open = false;
            if (e->flags & LD_TF_VOID_PENDING)
                return LC_OK;
        }
        if (!lc_id_is_zero(&e->reverses)) /* a refund: a use undone */
            w->used -= e->amount;
        /* Every credit to a lots account is a lot with the transfer's id. */
        if (s_grow((void **)&w->lot_issuer, &w->caplots, w->nlots, sizeof *w->lot_issuer) != LC_OK)
            return LC_ERR_NOMEM;
        w->lot_issuer[w->nlots] = e->debit_account_id;
        return s_map_put(&w->lot_ix, &e->id, w->nlots++);
    }
    if (s_kind(w, &e->debit_account_id) == LD_KIND_MEMBER) {
        if (e->flags & LD_TF_EXPIRY)
            w->expired += e->amount;
        else if (!(e->flags & (LD_TF_PENDING | LD_TF_VOID_PENDING)) && lc_id_is_zero(&e->reverses))
            w->used += e->amount; /* a captured redemption, a donation, ...; not a return */
    }
    return LC_OK;
}

/* Reads the journal from w->seq to its head into w. */
static const char *s_walk(st_call_t *c, walk_t *w)
{
    for (;;) {
        ld_journal_req_t req = {.after_seq = w->seq, .limit = WALK_PAGE};
        ld_entries_rep_t rep;
        const char *e = s_ledger(c, LD_TYPE_JOURNAL_READ, &ld_journal_req_desc, &req,
                                 &ld_entries_rep_desc, &rep);
        if (e)
            return e;
        int rc = LC_OK;
        for (size_t i = 0; rc == LC_OK && i < rep.nentries; i++)
            rc = s_apply(w, &rep.entries[i]);
        bool done = rep.nentries == 0 || w->seq >= rep.head_seq;
        lc_codec_clear(&ld_entries_rep_desc, &rep);
        if (rc != LC_OK)
            return st_fail(c, LC_API_INTERNAL, "out of memory reading the journal");
        if (done)
            return NULL;
    }
}

static issuer_t *s_issuer(walk_t *w, const lc_id_t *account)
{
    long i = s_map_get(&w->issuer_ix, account);
    if (i >= 0)
        return &w->issuers[i];
    if (s_grow((void **)&w->issuers, &w->capissuers, w->nissuers, sizeof *w->issuers) != LC_OK)
        return NULL;
    w->issuers[w->nissuers] = (issuer_t){.account = *account};
    if (s_map_put(&w->issuer_ix, account, w->nissuers) != LC_OK)
        return NULL;
    return &w->issuers[w->nissuers++];
}

static void s_walk_free(walk_t *w)
{
    s_map_free(&w->acct_ix);
    s_map_free(&w->lot_ix);
    s_map_free(&w->hold_ix);
    s_map_free(&w->issuer_ix);
    free(w->accts);
    free(w->lot_issuer);
    free(w->holds);
    free(w->issuers);
}

/* points x the point value as money; LC_ERR_INVALID when it overflows. */
static int s_value(const st_server_t *s, int64_t points, lc_money_t *out)
{
    __int128 v = (__int128)points * s->cfg.point_value_cents;
    if (v > INT64_MAX || v < INT64_MIN)
        return LC_ERR_INVALID;
    out->amount = (int64_t)v;
    out->currency = (char *)s->cfg.currency; /* borrowed: the reply is encoded, not cleared */
    return LC_OK;
}

/* floor(points x expired / (expired + used)): the breakage estimate of points. */
static int64_t s_breakage(const walk_t *w, int64_t points)
{
    int64_t base = w->expired + w->used;
    if (base <= 0 || points <= 0)
        return 0;
    return (int64_t)((__int128)points * w->expired / base);
}

/* Adds the member accounts' totals (balance + debt, reserved, pending, debt) to *l,
 * LD_LOOKUP_MAX accounts per ledger call. */
static const char *s_member_totals(st_call_t *c, const walk_t *w, st_liability_t *l)
{
    lc_id_t *ids = malloc(LD_LOOKUP_MAX * sizeof *ids);
    if (!ids)
        return st_fail(c, LC_API_INTERNAL, "out of memory");
    const char *e = NULL;
    size_t i = 0;
    while (!e && i < w->naccts) {
        ld_lookup_req_t req = {.ids = ids};
        for (; i < w->naccts && req.nids < LD_LOOKUP_MAX; i++)
            if (w->accts[i].kind == LD_KIND_MEMBER)
                ids[req.nids++] = w->accts[i].id;
        if (!req.nids)
            break;
        ld_accounts_rep_t acc;
        if ((e = s_ledger(c, LD_TYPE_LOOKUP_ACCOUNTS, &ld_lookup_req_desc, &req,
                          &ld_accounts_rep_desc, &acc)))
            break;
        for (size_t k = 0; k < acc.naccounts; k++) {
            const ld_account_view_t *v = &acc.accounts[k];
            l->outstanding_points += v->balance + v->debt;
            l->reserved_points += v->debits_pending;
            l->pending_points += v->credits_pending;
            l->debt_points += v->debt;
        }
        lc_codec_clear(&ld_accounts_rep_desc, &acc);
    }
    free(ids);
    return e;
}

/* Attributes every member's lots to the account whose credit created them, and the
 * open pending credits to theirs. A lot of a credit the walk has not seen (written
 * since) makes it read the journal's new tail, once. */
static const char *s_attribute(st_call_t *c, walk_t *w, st_liability_t *l)
{
    const char *e = NULL;
    bool caught_up = false;
    for (size_t i = 0; !e && i < w->naccts; i++) {
        if (w->accts[i].kind != LD_KIND_MEMBER)
            continue;
        ld_lots_req_t req = {.account_id = w->accts[i].id}; /* s_walk may move accts */
        ld_lots_rep_t lots;
        if ((e = s_ledger(c, LD_TYPE_ACCOUNT_LOTS, &ld_lots_req_desc, &req, &ld_lots_rep_desc,
                          &lots)))
            break;
        for (size_t k = 0; !e && k < lots.nlots; k++) {
            long ix = s_map_get(&w->lot_ix, &lots.lots[k].id);
            if (ix < 0 && !caught_up) {
                caught_up = true;
                e = s_walk(c, w);
                ix = e ? -1 : s_map_get(&w->lot_ix, &lots.lots[k].id);
            }
            if (e)
                break;
            if (ix < 0) {
                l->untraced_points += lots.lots[k].remaining;
                continue;
            }
            issuer_t *is = s_issuer(w, &w->lot_issuer[ix]);
            if (!is)
                e = st_fail(c, LC_API_INTERNAL, "out of memory");
            else
                is->outstanding += lots.lots[k].remaining;
        }
        lc_codec_clear(&ld_lots_rep_desc, &lots);
    }
    for (size_t h = 0; !e && h < w->nholds; h++) {
        if (!w->holds[h].open)
            continue;
        issuer_t *is = s_issuer(w, &w->holds[h].issuer);
        if (!is)
            e = st_fail(c, LC_API_INTERNAL, "out of memory");
        else
            is->pending += w->holds[h].amount;
    }
    return e;
}

static int s_by_partner(const void *a, const void *b)
{
    const st_liability_partner_t *x = a, *y = b;
    return memcmp(&x->partner_id, &y->partner_id, sizeof x->partner_id);
}

static int s_by_account(const void *a, const void *b)
{
    const st_liability_other_t *x = a, *y = b;
    return memcmp(&x->account_id, &y->account_id, sizeof x->account_id);
}

/* Splits the issuers into partners (their issuance accounts) and other funders. */
static const char *s_lines(st_call_t *c, walk_t *w, st_liability_t *l)
{
    size_t n = w->nissuers ? w->nissuers : 1;
    l->by_partner = calloc(n, sizeof *l->by_partner);
    l->by_other_issuer = calloc(n, sizeof *l->by_other_issuer);
    if (!l->by_partner || !l->by_other_issuer)
        return st_fail(c, LC_API_INTERNAL, "out of memory");
    for (size_t i = 0; i < w->nissuers; i++) {
        const issuer_t *is = &w->issuers[i];
        if (!is->outstanding && !is->pending)
            continue;
        long ax = s_map_get(&w->acct_ix, &is->account);
        int kind = ax >= 0 ? w->accts[ax].kind : 0;
        st_liability_figures_t *f;
        if (kind == LD_KIND_PARTNER_ISSUANCE) {
            st_liability_partner_t *p = &l->by_partner[l->nby_partner++];
            p->partner_id = w->accts[ax].user_data;
            f = &p->f;
        } else {
            st_liability_other_t *o = &l->by_other_issuer[l->nby_other_issuer++];
            o->account_id = is->account;
            o->kind = kind ? kind : LD_KIND_OPERATOR;
            f = &o->f;
        }
        f->outstanding_points = is->outstanding;
        f->pending_points = is->pending;
        f->breakage_estimate_points = s_breakage(w, is->outstanding + is->pending);
        if (s_value(c->srv, is->outstanding + is->pending, &f->value) != LC_OK)
            return st_fail(c, LC_API_INTERNAL, "the value overflows");
    }
    qsort(l->by_partner, l->nby_partner, sizeof *l->by_partner, s_by_partner);
    qsort(l->by_other_issuer, l->nby_other_issuer, sizeof *l->by_other_issuer, s_by_account);
    return NULL;
}

const char *st_h_audit_liability(st_call_t *c, json_t **reply)
{
    const char *e = s_need_finance(c);
    if (e)
        return e;
    walk_t w = {0};
    st_liability_t l = {0};
    if (!(e = s_walk(c, &w)) && !(e = s_member_totals(c, &w, &l)) &&
        !(e = s_attribute(c, &w, &l))) {
        if (w.used < 0) /* more refunded than used: cannot happen, but never a negative rate */
            w.used = 0;
        e = s_lines(c, &w, &l);
    }
    if (!e) {
        int64_t points = l.outstanding_points + l.pending_points;
        l.journal_seq = w.seq;
        l.breakage.expired_points = w.expired;
        l.breakage.used_points = w.used;
        int64_t base = w.expired + w.used;
        l.breakage.rate_ppm = base > 0 ? (int64_t)((__int128)w.expired * 1000000 / base) : 0;
        l.breakage.estimate_points = s_breakage(&w, points);
        if (s_value(c->srv, points, &l.value) != LC_OK ||
            s_value(c->srv, l.breakage.estimate_points, &l.breakage.estimate_value) != LC_OK)
            e = st_fail(c, LC_API_INTERNAL, "the value overflows");
        else
            e = st_reply(c, &st_liability_desc, &l, reply);
    }
    free(l.by_partner); /* their strings are borrowed (the currency) */
    free(l.by_other_issuer);
    s_walk_free(&w);
    return e;
}
