/*
 * st_statement.h: partner statements, derived from the ledger's journal.
 *
 * Three parts, one file each:
 *   st_statement_rules.c  the pure rules: which journal entry is which statement
 *                         line for which party (st_stmt_classify), what a line costs
 *                         (st_stmt_price, half-to-even fees) and how lines add up to a
 *                         statement (st_stmt_add); the reconciliation applies the same
 *                         rules to the journal it reads itself;
 *   st_statement_feed.c   the journal consumer: a thread of its own (own PostgreSQL
 *                         connection, own sockets) that writes settlement.
 *                         statement_lines, each entry in one transaction with the
 *                         cursor (exactly once, lc_journal.h);
 *   st_statement_store.c  the SQL of lines, periods and final statements.
 * The handlers: st_statement.c (GET /v1/statements/{period}), st_period.c (close),
 * st_reconcile.c (GET /v1/audit/reconcile/{period}).
 *
 * The rules in words (services/settlement/README.md "Statements" has the table and
 * a worked example):
 *   - a line is one journal transfer entry seen from one party's account: a
 *     partner's issuance, redemption or prepayment account, a supplier's funding
 *     account, the coalition's promotion, breakage or operator account; member and
 *     charity accounts are nobody's statement;
 *   - holds are not billed: a pending transfer (an earn at a partner with
 *     pending_days, a redemption's authorization) makes no line, its void makes no
 *     line; its post does (a matured earn is issued when it matures, a capture is
 *     redeemed). So a voided hold is never billed;
 *   - the line's month is the entry's timestamp's (UTC); a closed month takes no
 *     more lines: a late entry is billed in the next open month as a dated
 *     correction (entry_period says when it happened);
 *   - prices: the partner's tariff for partners (points x issue_price_micros or
 *     redeem_credit_micros; a prepaid partner pays when it buys points, not again when
 *     they are issued), the coalition's point value for suppliers and the coalition;
 *     the fee is fee_bps of each priced partner line, rounded half to even on the line.
 */
#ifndef ST_STATEMENT_H
#define ST_STATEMENT_H

#include "lc_db.h"
#include "lc_jconsumer.h"
#include "lc_ledger_msg.h"
#include "lc_settlement_msg.h"

#include <stdbool.h>
#include <stdint.h>

#define ST_STMT_CLOSE_WAIT_MS 5000 /* a close waits this long for the consumer to reach
                                      the journal's head, then answers unavailable */
#define ST_STMT_LINES_DEFAULT 1000 /* lines per statement page */

/* ---- the rules (st_statement_rules.c) --------------------------------------------- */

/* A ledger account as the statements know it (from the journal's account entries;
 * owner: the partner or supplier). */
typedef lc_jaccount_t st_stmt_account_t;

/* One line an entry makes. */
typedef struct st_stmt_class {
    int party;        /* st_party_t */
    lc_id_t party_id; /* zero for the coalition */
    int side;         /* st_line_side_t */
    int category;     /* st_line_category_t */
} st_stmt_class_t;

/* The lines transfer entry e makes (0, 1 or 2: one per party side), written to out.
 * dr, cr: its debit and credit accounts. reverses_bonus: e->reverses names a
 * bonus_funded line (only asked of returns; the caller knows the earlier lines).
 * Entries of another type, holds and voids make none. */
int st_stmt_classify(const ld_entry_t *e, const st_stmt_account_t *dr,
                     const st_stmt_account_t *cr, bool reverses_bonus, st_stmt_class_t out[2]);

/* What the statements need of a partner. */
typedef struct st_stmt_tariff {
    int funding;                  /* st_funding_t */
    int64_t issue_price_micros;
    int64_t redeem_credit_micros;
    int64_t fee_bps;
} st_stmt_tariff_t;

/* The money of a line of `points` of class k: *amount (positive: the coalition owes
 * the party) and *fee (what the party pays the coalition for the line; half to even).
 * t: the partner's tariff (party partner; may be NULL for the others);
 * point_value_micros: what the coalition values a point at (suppliers, coalition).
 * LC_ERR_OVERFLOW when a product does not fit in 64 bits. */
int st_stmt_price(const st_stmt_class_t *k, int64_t points, const st_stmt_tariff_t *t,
                  int64_t point_value_micros, int64_t *amount, int64_t *fee);

/* n / d rounded half to even (d > 0), as long as the result fits in int64 (else
 * LC_ERR_OVERFLOW). */
int st_stmt_div_half_even(__int128 n, int64_t d, int64_t *out);

/* Adds count lines of category/side with these sums to statement s (its figures;
 * issue_charge, redeem_credit, fee and net follow). */
void st_stmt_add(st_statement_t *s, int category, int side, int64_t points, int64_t amount,
                 int64_t fee, int64_t count);
/* What a line of category does to a prepaid partner's budget, per point (+1, -1, 0). */
int st_stmt_budget_sign(int category);

/* ---- the store (st_statement_store.c): lc_db calls on the given connection ------- */

/* A line as stored (settlement.statement_lines). */
typedef struct st_stmt_row {
    int64_t seq;
    st_stmt_class_t k;
    char period[ST_PERIOD_LEN + 1];       /* billed in */
    char entry_period[ST_PERIOD_LEN + 1]; /* happened in */
    lc_id_t transfer_id;
    int64_t code, points, amount_micros, fee_micros, at;
} st_stmt_row_t;

/* Sums of the lines of one party, category and side. */
typedef struct st_stmt_sum {
    st_stmt_class_t k;
    int64_t points, amount, fee, count;
} st_stmt_sum_t;

/* A closed month (settlement.periods). */
typedef struct st_stmt_period {
    int64_t closed_at, last_seq, statements;
} st_stmt_period_t;

/* The month after p ("YYYY-MM"); LC_ERR_INVALID for a malformed p or past 9999-12. */
int st_stmt_next_period(const char *p, char out[ST_PERIOD_LEN + 1]);

/* The statements' cursor: the last journal entry applied. */
int st_sstore_cursor_read(lc_db_t *db, int64_t *out);
/* Moves the cursor to seq (never back). Inside a transaction it takes the cursor's
 * row lock, which orders the transaction with a close (st_sstore_cursor_lock). */
int st_sstore_cursor_move(lc_db_t *db, int64_t seq);
/* Remembers the account of account entry e (kind, owner); known ones stay. */
int st_sstore_account_put(lc_db_t *db, const ld_entry_t *e);
/* The accounts of transfer e (unknown ones: known false). */
int st_sstore_accounts(lc_db_t *db, const ld_entry_t *e, st_stmt_account_t *dr,
                       st_stmt_account_t *cr);
/* *out: transfer is the transfer of a bonus_funded line. */
int st_sstore_is_bonus(lc_db_t *db, const lc_id_t *transfer, bool *out);
/* The tariff of partner; LC_ERR_NOT_FOUND when settlement has no such partner. */
int st_sstore_tariff(lc_db_t *db, const lc_id_t *partner, st_stmt_tariff_t *out);
/* The month a line of entry_period is billed in: entry_period, or the first month
 * after it that is not closed. */
int st_sstore_billing_period(lc_db_t *db, const char *entry_period, char out[ST_PERIOD_LEN + 1]);
/* Inserts line r (inside the caller's transaction). */
int st_sstore_line_insert(lc_db_t *db, const st_stmt_row_t *r);

/* Closed month period: LC_OK with *p, or LC_ERR_NOT_FOUND. */
int st_sstore_period_get(lc_db_t *db, const char *period, st_stmt_period_t *p);
/* Inside the caller's transaction: locks the cursor row (the consumer waits, so no
 * line is billed in a month while it is being closed) and reads it into *last_seq. */
int st_sstore_cursor_lock(lc_db_t *db, int64_t *last_seq);
/* Inside the caller's transaction: the period row and one final statement. */
int st_sstore_period_insert(lc_db_t *db, const char *period, const st_stmt_period_t *p,
                            const lc_id_t *key);
int st_sstore_final_insert(lc_db_t *db, const char *period, const st_statement_t *s);
/* The sums of the lines billed in period (by_entry false) or that happened in it
 * (by_entry true), optionally of one party (party 0: all), before a month (before
 * non-NULL: billed in months < before instead of in period). *out malloc'd (free). */
int st_sstore_sums(lc_db_t *db, const char *period, bool by_entry, const char *before,
                   int party, const lc_id_t *party_id, st_stmt_sum_t **out, size_t *n);
/* The final statements of period (figures only), party 0 = all. *out: free each
 * with lc_codec_clear(&st_statement_desc) and the array with free. */
int st_sstore_finals(lc_db_t *db, const char *period, int party, const lc_id_t *party_id,
                     st_statement_t **out, size_t *n);
/* Up to limit lines billed in period with seq > after, of one party (party 0: all),
 * into *out (malloc'd; entry_period strings owned: clear with st_statement_line_desc). */
int st_sstore_lines(lc_db_t *db, const char *period, int party, const lc_id_t *party_id,
                    int64_t after, int64_t limit, st_statement_line_t **out, size_t *n);

/* Every registered partner (or only `only`, when not NULL): ids and funding, in id
 * order; *ids and *funding malloc'd (free both). */
int st_sstore_partners(lc_db_t *db, const lc_id_t *only, lc_id_t **ids, int **funding, size_t *n);

/* ---- statements (st_statement.c) -------------------------------------------------- */

/* The statements of period on db: every registered partner's, then every other
 * party's with lines (party 0), or only the one of party/party_id. status final:
 * the figures stored at the close (a partner registered later: zero), open: the sums
 * of the lines billed in the month. Lines are not loaded. *out: free with
 * st_stmt_free. */
int st_stmt_build(lc_db_t *db, const char *period, int status, int party,
                  const lc_id_t *party_id, st_statement_t **out, size_t *n);
void st_stmt_free(st_statement_t *s, size_t n);
/* The growing array p (*cap elements of size bytes, n in use) with room for one
 * more: p itself, or a larger copy (doubling; *cap updated). NULL when out of
 * memory, p then unchanged and still the caller's. */
void *st_stmt_grow(void *p, size_t *cap, size_t n, size_t size);

/* ---- the consumer (st_statement_feed.c) ------------------------------------------- */

typedef struct st_stmt_feed {
    lc_jconsumer_t run;         /* the thread (endpoints, connection, stop flag) */
    int64_t point_value_micros; /* suppliers' and the coalition's price of a point */
} st_stmt_feed_t;

/* Starts the consumer thread. Returns 0 or an LC_ERR_*. */
int st_stmt_feed_start(st_stmt_feed_t *f);
/* Waits for the thread to end (after *stop became true). */
void st_stmt_feed_join(st_stmt_feed_t *f);

#endif
