/*
 * faultload.h: the load the fault suites run while they inject faults, and the checks
 * they make afterwards (tests/e2e/test_faults.c, test_faults_pg.c).
 *
 * The load: FL_CLIENTS threads earn points over HTTP for a partner's members (1 point
 * per 1.00 EUR, rounded down), each request with its own Idempotency-Key (also its
 * receipt id), retried with the same key after a 5xx, a 429 or a lost connection until
 * a definitive answer or FL_GIVE_UP_MS. Every FL_DONATE_EVERY-th request of a client
 * is instead a donation (POST /v1/donations, as the member app) of at least
 * FL_DONATION_MIN points, alternately to a verified charity and to its campaign, which
 * the load's partner matches at FL_MATCH_RATIO_BPS up to FL_MATCH_CAP points; it is
 * retried exactly like an earn. A client donates a member's points only out of the
 * points that client itself was told it earned for the member and has not donated
 * yet, so the member always has them, whatever the other clients do. What each client
 * was told is kept.
 *
 * The checks (fl_check_books): every acknowledged earn is in the books exactly once:
 * settlement holds exactly the acknowledged earns, each with its journal transfer; the
 * ledger holds one base earn transfer (the partner's issuance account -> the member)
 * per acknowledged earn and no transfer id twice; each member received exactly its
 * acknowledged points from them; no refused earn was applied; the balance the API
 * shows is the member's journal sum (earns, any tier bonus, minus donations); the
 * trial balance is 0; the ledger's verify recomputes the hash chain and every stored
 * balance from the journal; members' history, once caught up, holds exactly the
 * journal's member entries. A check that fails fails the test (cmocka).
 *
 * The figures (fl_check_figures): every acknowledged donation is stored once, posted,
 * with its journal transfers (the member's points, the match), and nothing else is;
 * each member gave exactly its acknowledged donations; no refused donation was
 * applied; the campaign's match stayed within its cap; for every month of the run,
 * GET /v1/donations/report/{month} equals the journal's donation transfers summed per
 * charity and per campaign, valued at the point value; once settlement's statement
 * consumer has reached the journal's head, GET /v1/audit/reconcile/{month} finds no
 * difference and the partner's statements issue exactly the acknowledged earn points
 * and match exactly the acknowledged matches.
 */
#ifndef FL_FAULTLOAD_H
#define FL_FAULTLOAD_H

#include "e2e.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

#define FL_CLIENTS 4
#define FL_MEMBERS_MAX 8
#define FL_GIVE_UP_MS 90000         /* one request without a definitive answer this long */
#define FL_REFUSED_KEPT 8           /* refused receipts kept per client, checked unapplied */
#define FL_HISTORY_WAIT_MS 30000    /* how long members' history may take to catch up */
#define FL_STATEMENTS_WAIT_MS 30000 /* how long the statement consumer may take to catch up */
#define FL_DONATE_EVERY 4           /* every 4th request of a client is a donation */
#define FL_DONATION_MIN 200         /* donation.min_points, the coalition's default minimum */
#define FL_MATCH_RATIO_BPS 5000     /* the campaign's match: half the donated points */
#define FL_MATCH_CAP 3000           /* its cap: reached in a run, so later ones go unmatched */
#define FL_POINT_VALUE_CENTS 1      /* donation.point_value_cents, left at its default */

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
    char err[256]; /* the first refusal */
    /* donations */
    int64_t donated_points[FL_MEMBERS_MAX]; /* acknowledged, per member */
    int64_t don_acked, don_matched;         /* acknowledged donations, their matches */
    int64_t don_refused;                    /* definitive refusals (checked unapplied) */
    int64_t don_unexpected; /* of those, not a business refusal of the moment; or no answer */
    char don_refused_keys[FL_REFUSED_KEPT][64];
    char don_first_key[64], don_first_id[40]; /* the first acknowledged: key and id */
    char don_err[256];                        /* the first unexpected answer */
} fl_client_t;

typedef struct fl_load {
    e2e_t *e;       /* the system under load (borrowed) */
    char tag[32];   /* prefix of receipts and keys */
    long max_cents; /* each earn is 1.00 EUR to this */
    int nmembers;
    char partner_key[128];
    char partner_id[40];
    char cards[FL_MEMBERS_MAX][40];
    char members[FL_MEMBERS_MAX][40]; /* member ids = their ledger account ids */
    char app_key[128];                /* the member app's key: donations */
    char app_owner[64];               /* its idempotency scope, "key:<key id>" */
    char auditor_key[128];            /* finance: report, reconcile, statements */
    char charity_id[40];              /* a verified charity */
    char campaign_id[40];             /* its campaign, matched by the partner */
    fl_client_t clients[FL_CLIENTS];
    pthread_t threads[FL_CLIENTS];
    atomic_int stop;
} fl_load_t;

/* Sums over the clients. */
typedef struct fl_totals {
    int64_t acked, refused, retries, lost_connections, points;
    int64_t member_points[FL_MEMBERS_MAX];
    int64_t don_acked, don_refused, don_unexpected, don_points, don_matched;
    int64_t member_donated[FL_MEMBERS_MAX];
} fl_totals_t;

/* Creates a postpaid partner and nmembers (<= FL_MEMBERS_MAX) members on e, an app
 * and an auditor key, a verified charity and a campaign of it matched by the
 * partner. */
void fl_setup(fl_load_t *l, e2e_t *e, const char *tag, int nmembers, long max_cents);
/* Starts the clients (seeded, the seed printed for a rerun). */
void fl_start(fl_load_t *l, long seed);
/* Stops the clients after their current request and sums what they were told. */
void fl_stop(fl_load_t *l, fl_totals_t *out);
/* The books checks above; fails the test on the first that does not hold. */
void fl_check_books(fl_load_t *l, const fl_totals_t *t);
/* The donation and statement figures above; fails the test on the first that does
 * not hold. */
void fl_check_figures(fl_load_t *l, const fl_totals_t *t);

#endif
