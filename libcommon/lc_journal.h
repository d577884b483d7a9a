/*
 * lc_journal.h: a consumer of the ledger's journal stream (proto/README.md 8.4,
 * the Clone pattern of the ZeroMQ Guide, ch. 5), for every service that derives
 * figures from the journal (members' history, settlement's statements, ...).
 *
 * It subscribes to the ledger's PUB socket (topic "journal"; each message is two
 * frames: the topic and the compact JSON of one ld_entry_t) and keeps a DEALER
 * (lc_bus_client, Lazy Pirate) to the ledger's ROUTER for ledger.journal_read.
 * lc_journal_poll hands the consumer's callback every entry exactly once and in
 * sequence order (seq = last + 1, always):
 *   - at start, and after any failure, it first replays with journal_read from the
 *     last delivered seq up to the journal's head (the SUB socket is connected
 *     before, so nothing published meanwhile is lost: the slow-joiner problem);
 *   - a stream entry with seq <= last is a duplicate and is dropped; seq == last + 1
 *     is delivered; seq > last + 1 is a gap, filled by a replay before going on;
 *   - when nothing arrived for quiet_ms (default LC_JOURNAL_QUIET_MS), it asks
 *     journal_read for anything after the last seq: a lost tail of the stream (or a
 *     silent PUB) is caught up within quiet_ms.
 *
 * THE CONSUMER'S RULE (exactly once across restarts): the callback must store the
 * entry's seq as its cursor in the SAME database transaction as whatever it derives
 * from the entry, and the consumer must start with lc_journal_new(start_after_seq =
 * the stored cursor). Then a crash before the commit re-delivers the entry after the
 * restart, and a crash after it does not. (A callback that derives nothing from an
 * entry may skip the write and move the cursor later, with the next transaction,
 * as long as re-applying the skipped entries is a no-op.)
 *
 * A callback that returns non-zero stops the poll; the entry was not consumed and is
 * delivered again by the next poll (after a replay from the ledger). One lc_journal_t
 * belongs to one thread (ZeroMQ sockets are not thread-safe); the context is shared.
 */
#ifndef LC_JOURNAL_H
#define LC_JOURNAL_H

#include "lc_ledger_msg.h"

#include <stdint.h>

#define LC_JOURNAL_QUIET_MS 1000  /* ask journal_read after this long without a message */
#define LC_JOURNAL_PAGE 1000      /* entries per journal_read */
#define LC_JOURNAL_CALL_MS 1000   /* wait for one journal_read attempt */
#define LC_JOURNAL_CALL_RETRIES 2 /* resends of one journal_read */

typedef struct lc_journal lc_journal_t;

/* Receives one entry (seq == the previous entry's seq + 1). Returns 0 when the entry
 * is consumed (and its seq stored, see above), anything else to stop: the same
 * entry comes again with the next poll, and lc_journal_poll returns that value. */
typedef int (*lc_journal_fn)(void *ctx, const ld_entry_t *e);

/* Connects a SUB socket to pub_endpoint (subscribed to "journal") and a ledger
 * client to ledger_endpoint. Entries after start_after_seq (>= 0) will be
 * delivered. NULL on failure (bad endpoint, out of memory). */
lc_journal_t *lc_journal_new(void *zctx, const char *pub_endpoint, const char *ledger_endpoint,
                             int64_t start_after_seq);
void lc_journal_destroy(lc_journal_t **j_p);

/* Delivers every entry available now; when there was none, waits up to timeout_ms
 * (0: not at all) for the stream and delivers what arrives, returning as soon as
 * the entries that arrived together are delivered (a consumer that commits per
 * poll then commits what it has at once, and batches what queued meanwhile). Returns 0 (also when nothing came), the
 * callback's non-zero value, LC_ERR_UNAVAILABLE when the ledger did not answer a
 * replay, or LC_ERR_PROTO when it answered something unusable (a sequence that
 * does not follow). After any error the next poll starts with a replay. */
int lc_journal_poll(lc_journal_t *j, int timeout_ms, lc_journal_fn fn, void *ctx);

/* The seq of the last entry the callback consumed (start_after_seq at first). */
int64_t lc_journal_last_seq(const lc_journal_t *j);
/* The journal's head as last reported by journal_read (0 before the first). */
int64_t lc_journal_head_seq(const lc_journal_t *j);
/* Sets the quiet interval (ms, >= 1) after which journal_read is asked. */
void lc_journal_set_quiet_ms(lc_journal_t *j, int quiet_ms);

/* Counters, for tests and logs. */
typedef struct lc_journal_stats {
    uint64_t delivered;  /* entries the callback consumed */
    uint64_t from_stream;/* of those, received on the SUB socket */
    uint64_t replayed;   /* of those, read with journal_read */
    uint64_t duplicates; /* stream entries dropped as already delivered */
    uint64_t gaps;       /* stream entries that showed a gap */
    uint64_t reads;      /* journal_read calls */
} lc_journal_stats_t;
void lc_journal_stats(const lc_journal_t *j, lc_journal_stats_t *out);

#endif
