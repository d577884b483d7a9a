/*
 * mb_history.h: the member's history, derived from the ledger's journal.
 *
 * A thread of its own (started by mb_server_run, joined before it returns) with its
 * own PostgreSQL connection and its own sockets (lc_journal: SUB to the ledger's PUB,
 * DEALER for journal_read) consumes the journal and writes members.history
 * (deploy/migrations/members/003_history.sql). A thread, not a poll step in the
 * request loop, so that a long catch-up (a first start on a big journal) never
 * delays requests, and requests never delay the stream (the PUB drops what a slow
 * subscriber does not take). The request loop only reads members.history.
 *
 * Exactly once: each entry that derives rows is applied in one transaction that
 * also moves members.journal_cursor to its seq; on start, and after any error
 * (database lost, ledger silent), the consumer starts again after the stored
 * cursor. Entries that derive nothing do not write; the cursor passes them with the
 * next transaction or when the stream goes quiet (applying them again is a no-op).
 *
 * Which entries make rows (one per member account touched; counterpart = the other
 * account, learnt from the journal's account entries; codes of lc_settlement_msg.h
 * and lc_donation_msg.h):
 *   earn (code 1), plain                    earn  +, or bonus + when the debit
 *                                           account is supplier funding or coalition
 *                                           promotion (co-funded bonuses)
 *   earn (code 1), a hold (pending_days)    pending +  (not spendable yet)
 *   earn matured (code 2, post of the hold) matured +
 *   return (code 3), reversal of a posted   return -
 *   return (code 3), void of a pending earn return -   (the whole hold released; a
 *                                           partial return re-holds the rest in the
 *                                           same chain: a pending + row follows)
 *   redemption (code 4): the hold           no row (authorization only)
 *                        its post (capture) redemption -  (the captured points)
 *                        its void / timeout no row (nothing was spent)
 *   refund (code 5)                         refund +
 *   grant (code 6)                          grant +
 *   donation (codes 101, 103)               donation -  (charity_id: the charity;
 *                                           none for the shared pool)
 *   a lot expiry (ledger flag expiry)       expiry -
 *   any other hold or void                  no row
 *   anything else touching a member         adjustment, signed
 * partner_id is the owner (account user_data) of a partner issuance or redemption
 * counterpart, charity_id that of a charity account.
 *
 * Names: members cannot read settlement's or donation's tables, and
 * settlement.get_partner is an admin call; the history shows ids only.
 * TODO(names): resolve partner and charity names over the bus (an internal
 * settlement / donation call) once one exists.
 */
#ifndef MB_HISTORY_H
#define MB_HISTORY_H

#include "lc_jconsumer.h"
#include "lc_ledger_msg.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

typedef struct mb_history {
    lc_jconsumer_t run; /* the thread (endpoints, connection, stop flag) */
} mb_history_t;

/* Starts the consumer thread. Returns 0 or an LC_ERR_*. */
int mb_history_start(mb_history_t *h);
/* Waits for the thread to end (after *stop became true). */
void mb_history_join(mb_history_t *h);

/* What one transfer entry means for the member on one side of it (member_is_credit:
 * the member's account is the credit account; cp_kind: the other account's kind, 0
 * when unknown). Returns false when the entry shows no row, else the type
 * (mb_history_type_t) and the sign of the points (+1 or -1). */
bool mb_history_classify(const ld_entry_t *e, bool member_is_credit, int cp_kind, int *type,
                         int *sign);

#endif
