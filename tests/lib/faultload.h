/*
 * faultload.h: the load the fault suites run while they inject faults, and the checks
 * they make afterwards (tests/e2e/test_faults.c, test_faults_pg.c).
 *
 * The load: FL_CLIENTS threads earn points over HTTP for a partner's members (1 point
 * per 1.00 EUR, rounded down), each request with its own Idempotency-Key (also its
 * receipt id), retried with the same key after a 5xx, a 429 or a lost connection until
 * a definitive answer or FL_GIVE_UP_MS. What each client was told is kept.
 *
 * The checks (fl_check_books): every acknowledged earn is in the books exactly once:
 * settlement holds exactly the acknowledged earns, each with its journal transfer; the
 * ledger holds one base earn transfer (the partner's issuance account -> the member)
 * per acknowledged earn and no transfer id twice; each member received exactly its
 * acknowledged points from them; no refused earn was applied; the balance the API
 * shows is the member's journal sum (base earns plus any tier bonus); the trial
 * balance is 0; the ledger's verify recomputes the hash chain and every stored balance
 * from the journal; members' history, once caught up, holds exactly the journal's
 * member entries. A check that fails fails the test (cmocka).
 */
#ifndef FL_FAULTLOAD_H
#define FL_FAULTLOAD_H

#include "e2e.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

#define FL_CLIENTS 4
#define FL_MEMBERS_MAX 8
#define FL_GIVE_UP_MS 90000      /* one request without a definitive answer this long */
#define FL_REFUSED_KEPT 8        /* refused receipts kept per client, checked unapplied */
#define FL_HISTORY_WAIT_MS 30000 /* how long members' history may take to catch up */

/* What one client was told. */
typedef struct fl_client {
    struct fl_load *load;
    int index;
    unsigned short rng[3];
    int64_t acked_points[FL_MEMBERS_MAX];
    int64_t acked, refused;
    int64_t retries;          /* attempts beyond the first, over all its requests */
    int64_t lost_connections; /* attempts that got no HTTP response */
    char refused_keys[FL_REFUSED_KEPT][64];
    char err[256];            /* the first refusal */
} fl_client_t;

typedef struct fl_load {
    e2e_t *e;                                 /* the system under load (borrowed) */
    char tag[32];                             /* prefix of receipts and keys */
    long max_cents;                           /* each earn is 1.00 EUR to this */
    int nmembers;
    char partner_key[128];
    char cards[FL_MEMBERS_MAX][40];
    char members[FL_MEMBERS_MAX][40];         /* member ids = their ledger account ids */
    fl_client_t clients[FL_CLIENTS];
    pthread_t threads[FL_CLIENTS];
    atomic_int stop;
} fl_load_t;

/* Sums over the clients. */
typedef struct fl_totals {
    int64_t acked, refused, retries, lost_connections, points;
    int64_t member_points[FL_MEMBERS_MAX];
} fl_totals_t;

/* Creates a postpaid partner and nmembers (<= FL_MEMBERS_MAX) members on e. */
void fl_setup(fl_load_t *l, e2e_t *e, const char *tag, int nmembers, long max_cents);
/* Starts the clients (seeded, the seed printed for a rerun). */
void fl_start(fl_load_t *l, long seed);
/* Stops the clients after their current request and sums what they were told. */
void fl_stop(fl_load_t *l, fl_totals_t *out);
/* The checks above; fails the test on the first that does not hold. */
void fl_check_books(fl_load_t *l, const fl_totals_t *t);

#endif
