/*
 * lc_jconsumer.h: the thread that keeps a journal consumer (lc_journal.h) running
 * against the service's database: its own PostgreSQL connection and its own sockets,
 * the stored cursor, and starting again after any failure. A service says what its
 * cursor is and what an entry derives (lc_jconsumer_ops_t); the loop is the same for
 * every consumer (settlement's statements, members' history can use it too).
 *
 * A thread, not a step of the request loop, so that a long catch-up (a first start on
 * a big journal) never delays requests, and requests never delay the stream (the PUB
 * socket drops what a slow subscriber does not take).
 *
 * Exactly once (lc_journal.h, the consumer's rule): what entries derive is written in
 * the same transaction that moves the cursor past them. The loop batches: it begins
 * a transaction at the first entry a poll delivers, applies every entry of the poll
 * (up to LC_JCONSUMER_BATCH) in it, moves the cursor to the last one and commits
 * once. Under load that is one commit for many entries instead of one each; when
 * the stream is quiet, a poll delivers one entry and it commits alone. Applying an
 * entry again must be a no-op (a failed batch is applied again from the stored
 * cursor). On start, and after any failure (database lost, ledger silent, apply
 * refused, commit failed), the consumer rolls back and starts again after the
 * stored cursor.
 */
#ifndef LC_JCONSUMER_H
#define LC_JCONSUMER_H

#include "lc_db.h"
#include "lc_ledger_msg.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#define LC_JCONSUMER_POLL_MS 200   /* one lc_journal_poll, then the stop flag is looked at */
#define LC_JCONSUMER_RETRY_MS 500  /* pause after a failure */
#define LC_JCONSUMER_WARN_EVERY 20 /* log every this many consecutive failures */
#define LC_JCONSUMER_BATCH 256     /* entries applied in one transaction at most */

typedef struct lc_jconsumer_ops {
    const char *name; /* for log lines: "statements", "history" */
    /* Reads the stored cursor (the last seq applied) into *out. */
    int (*cursor_read)(lc_db_t *db, int64_t *out);
    /* Moves the stored cursor to seq, never back (in the loop's transaction, or
     * alone when nothing is open). */
    int (*cursor_move)(lc_db_t *db, int64_t seq);
    /* Writes what entry e derives, inside the transaction the loop has open (it
     * neither begins nor commits). Returns 0; any other value makes the loop roll
     * back the batch and start again after the stored cursor. */
    int (*apply)(void *ctx, lc_db_t *db, const ld_entry_t *e);
} lc_jconsumer_ops_t;

typedef struct lc_jconsumer {
    void *zctx;                     /* the process's context (borrowed) */
    const char *conninfo;           /* the service's database (borrowed) */
    const char *publish;            /* the ledger's PUB endpoint (borrowed) */
    const char *ledger;             /* the ledger's ROUTER endpoint (borrowed) */
    volatile int *stop;             /* the service's stop flag */
    const lc_jconsumer_ops_t *ops;  /* borrowed */
    void *ctx;                      /* for ops->apply (borrowed) */
    pthread_t thread;
    bool started;
} lc_jconsumer_t;

/* A ledger account as a consumer learnt it from the journal's account entries (a
 * consumer keeps the kinds it needs in a table of its own: id, kind, owner). */
typedef struct lc_jaccount {
    bool known;    /* seen in the journal */
    int kind;      /* ld_kind_t */
    lc_id_t owner; /* the account's user_data: its partner, supplier, charity */
} lc_jaccount_t;

/* The two accounts of transfer entry e, from the consumer's table: select_sql takes
 * the debit and credit account ids as $1 and $2 and answers rows (id, kind, owner).
 * An account without a row is left unknown (known false). */
int lc_jconsumer_accounts(lc_db_t *db, const char *select_sql, const ld_entry_t *e,
                          lc_jaccount_t *dr, lc_jaccount_t *cr);

/* Starts the consumer thread. Returns 0 or LC_ERR_IO. */
int lc_jconsumer_start(lc_jconsumer_t *c);
/* Waits for the thread to end (after *stop became true). */
void lc_jconsumer_join(lc_jconsumer_t *c);

#endif
