/*
 * ld_verify.c: recompute the chain and the balances from the journal alone.
 * Independent of ld_state on purpose: a bug there must not hide from the check.
 */
#include "ld_verify.h"
#include "ld_chain.h"
#include "ld_store.h"
#include "ld_table.h"
#include "lc_err.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PAGE 5000

typedef struct totals {
    int64_t dp, dpo, cp, cpo;
} totals_t;

typedef struct hold {
    lc_id_t debit, credit;
    int64_t amount;
    int resolved;
} hold_t;

typedef struct verifier {
    ld_table_t accounts; /* id -> totals_t* */
    ld_table_t holds;    /* pending id -> hold_t* */
} verifier_t;

static void s_free_values(ld_table_t *t)
{
    for (size_t i = 0; t->slots && i < t->cap; i++)
        free(t->slots[i].value);
    ld_table_free(t);
}

/* Records the first failure: which entry (0: the stored totals) and why. */
static int s_fail(ld_verify_rep_t *rep, int64_t seq, const char *reason)
{
    rep->ok = false;
    rep->first_bad_seq = seq;
    free(rep->reason);
    rep->reason = strdup(reason);
    return LC_OK;
}

/* Applies one entry to the recomputed totals; returns a reason or NULL. */
static const char *s_apply(verifier_t *v, const ld_entry_t *e)
{
    if (e->type == LD_ENTRY_ACCOUNT) {
        if (ld_table_get(&v->accounts, &e->id))
            return "account created twice";
        totals_t *t = calloc(1, sizeof *t);
        if (!t || ld_table_put(&v->accounts, &e->id, t) != LC_OK) {
            free(t);
            return "out of memory";
        }
        return NULL;
    }
    if (e->type == LD_ENTRY_ACCOUNT_FLAGS)
        return ld_table_get(&v->accounts, &e->id) ? NULL : "flags of an unknown account";
    if (e->type != LD_ENTRY_TRANSFER)
        return "unknown entry type";
    totals_t *dr = ld_table_get(&v->accounts, &e->debit_account_id);
    totals_t *cr = ld_table_get(&v->accounts, &e->credit_account_id);
    if (!dr || !cr)
        return "transfer between unknown accounts";
    if (e->amount < 0)
        return "negative amount";
    if (e->flags & (LD_TF_POST_PENDING | LD_TF_VOID_PENDING)) {
        hold_t *h = ld_table_get(&v->holds, &e->pending_id);
        if (!h || h->resolved)
            return "post or void of an unknown or already resolved hold";
        if (!lc_id_eq(&h->debit, &e->debit_account_id) ||
            !lc_id_eq(&h->credit, &e->credit_account_id) || e->amount > h->amount)
            return "post or void does not match its hold";
        h->resolved = 1;
        dr->dp -= h->amount;
        cr->cp -= h->amount;
        if (e->flags & LD_TF_POST_PENDING) {
            dr->dpo += e->amount;
            cr->cpo += e->amount;
        }
        return NULL;
    }
    if (e->flags & LD_TF_PENDING) {
        hold_t *h = calloc(1, sizeof *h);
        if (!h || ld_table_put(&v->holds, &e->id, h) != LC_OK) {
            free(h);
            return "out of memory";
        }
        h->debit = e->debit_account_id;
        h->credit = e->credit_account_id;
        h->amount = e->amount;
        dr->dp += e->amount;
        cr->cp += e->amount;
        return NULL;
    }
    dr->dpo += e->amount;
    cr->cpo += e->amount;
    return NULL;
}

static int s_compare_accounts(lc_db_t *db, verifier_t *v, ld_verify_rep_t *rep)
{
    lc_dbres_t *res;
    int rc = lc_db_exec(db,
                        "SELECT id, debits_pending, debits_posted, credits_pending,"
                        " credits_posted FROM ledger.accounts ORDER BY created_seq",
                        0, NULL, &res);
    if (rc != LC_OK)
        return rc;
    size_t seen = 0;
    for (int i = 0; i < lc_dbres_rows(res); i++) {
        lc_id_t id;
        totals_t st;
        if (lc_dbres_id(res, i, 0, &id) || lc_dbres_i64(res, i, 1, &st.dp) ||
            lc_dbres_i64(res, i, 2, &st.dpo) || lc_dbres_i64(res, i, 3, &st.cp) ||
            lc_dbres_i64(res, i, 4, &st.cpo)) {
            rc = LC_ERR_INVALID;
            break;
        }
        char text[LC_ID_STRLEN + 1], why[160];
        lc_id_format(&id, text);
        totals_t *t = ld_table_get(&v->accounts, &id);
        if (!t) {
            snprintf(why, sizeof why, "account %s is stored but never created in the journal",
                     text);
            s_fail(rep, 0, why);
            break;
        }
        seen++;
        if (t->dp != st.dp || t->dpo != st.dpo || t->cp != st.cp || t->cpo != st.cpo) {
            snprintf(why, sizeof why, "stored balances of account %s differ from the journal",
                     text);
            s_fail(rep, 0, why);
            break;
        }
    }
    if (rc == LC_OK && rep->ok && seen != v->accounts.count)
        s_fail(rep, 0, "an account created in the journal is missing from storage");
    lc_dbres_free(&res);
    return rc;
}

int ld_verify(lc_db_t *db, ld_verify_rep_t *rep)
{
    memset(rep, 0, sizeof *rep);
    rep->ok = true;
    verifier_t v;
    if (ld_table_init(&v.accounts, 1024) != LC_OK)
        return LC_ERR_NOMEM;
    if (ld_table_init(&v.holds, 256) != LC_OK) {
        ld_table_free(&v.accounts);
        return LC_ERR_NOMEM;
    }
    /* One snapshot for the journal pages and the account totals. */
    int rc = lc_db_exec(db, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", 0, NULL, NULL);
    uint8_t prev[32] = {0};
    int64_t after = 0;
    while (rc == LC_OK && rep->ok) {
        ld_entries_rep_t page;
        rc = ld_store_read_journal(db, after, PAGE, &page);
        if (rc != LC_OK)
            break;
        for (size_t i = 0; i < page.nentries && rep->ok; i++) {
            const ld_entry_t *e = &page.entries[i];
            const char *why = NULL;
            if (e->seq != after + 1)
                why = "sequence gap or reordering";
            else if (ld_chain_check(e, prev) != LC_OK)
                why = "hash does not match the entry's contents or its predecessor";
            else
                why = s_apply(&v, e);
            if (why) {
                s_fail(rep, e->seq, why);
                break;
            }
            memcpy(prev, e->hash, 32);
            after = e->seq;
            rep->entries_checked++;
        }
        size_t n = page.nentries;
        lc_codec_clear(&ld_entries_rep_desc, &page);
        if (n < PAGE)
            break;
    }
    if (rc == LC_OK && rep->ok)
        rc = s_compare_accounts(db, &v, rep);
    memcpy(rep->head, prev, 32);
    if (rc == LC_OK)
        rc = lc_db_commit(db);
    else
        lc_db_rollback(db);
    s_free_values(&v.accounts);
    s_free_values(&v.holds);
    return rc;
}
