/*
 * dn_store.h: the donation service's rows in PostgreSQL (schema donation, see
 * deploy/migrations/donation/001_init.sql for the tables and their rules). Every
 * statement is parameterized and goes through lc_db. Functions return LC_OK,
 * LC_ERR_NOT_FOUND (no such row), LC_ERR_CONFLICT (a uniqueness or cap rule) or the
 * lc_db error (LC_ERR_DB, LC_ERR_UNAVAILABLE).
 */
#ifndef DN_STORE_H
#define DN_STORE_H

#include "dn_server.h"

#include <stdbool.h>

typedef enum dn_donation_status {
    DN_DONATION_PENDING = 1, /* row and cap reservation written; the ledger not yet sure */
    DN_DONATION_POSTED = 2,  /* booked, with its receipt */
    DN_DONATION_FAILED = 3,  /* refused by the ledger; reservation given back */
} dn_donation_status_t;

typedef enum dn_source {
    DN_SOURCE_API = 1,
    DN_SOURCE_PLEDGE = 2,
} dn_source_t;

typedef struct dn_donation_row {
    lc_id_t id, member_id;
    lc_id_t charity_id;       /* zero for the pool */
    lc_id_t campaign_id;      /* zero when not to a campaign */
    bool pool;
    int64_t points, matched_points, value_cents;
    lc_id_t match_partner_id; /* zero when no match */
    int source;               /* dn_source_t */
    lc_id_t pledge_id;
    lc_id_t member_transfer, match_transfer; /* match_transfer zero when no match */
    int status;               /* dn_donation_status_t */
    char refusal[64];         /* failed: the API code answered */
    int64_t booked_at, created_at;
} dn_donation_row_t;

/* One group of a period's posted donations. */
typedef struct dn_period_row {
    lc_id_t charity_id, campaign_id; /* both zero: the pool */
    int64_t points, matched_points;
} dn_period_row_t;

/* Connects (again) when the connection is gone. */
int dn_store_ensure(dn_server_t *s);

/* ---- charities and campaigns ------------------------------------------------------- */

int dn_store_charity_insert(dn_server_t *s, const dn_charity_t *ch, const lc_id_t *created_by);
int dn_store_charity_get(dn_server_t *s, const lc_id_t *id, dn_charity_t *out);
/* Up to limit charities with id > after (NULL: from the start), in id order. */
int dn_store_charity_list(dn_server_t *s, const lc_id_t *after, int64_t limit, dn_charity_t **out,
                          size_t *n);

int dn_store_campaign_insert(dn_server_t *s, const dn_campaign_t *cp);
/* status is left 0: the caller computes it from the time. */
int dn_store_campaign_get(dn_server_t *s, const lc_id_t *id, dn_campaign_t *out);
/* charity: NULL for every charity's campaigns. */
int dn_store_campaign_list(dn_server_t *s, const lc_id_t *after, int64_t limit,
                           const lc_id_t *charity, dn_campaign_t **out, size_t *n);

/* ---- donations and receipts -------------------------------------------------------- */

int dn_store_donation_get(dn_server_t *s, const lc_id_t *id, dn_donation_row_t *out);
/* Points of the member's API donations created at or after since, not refused. */
int dn_store_donated_since(dn_server_t *s, const lc_id_t *member, int64_t since, int64_t *points);
/* Inserts d as pending and reserves its points on its campaign, in one transaction.
 * LC_ERR_CONFLICT when the match would pass the campaign's cap or the id exists. */
int dn_store_donation_reserve(dn_server_t *s, const dn_donation_row_t *d);
/* Moves pending d to posted at booked_at and stores its receipt, in one transaction. */
int dn_store_donation_posted(dn_server_t *s, const lc_id_t *id, int64_t booked_at,
                             const dn_receipt_t *r);
/* Moves pending d to failed with code and gives its reservation back, in one
 * transaction. */
int dn_store_donation_failed(dn_server_t *s, const dn_donation_row_t *d, const char *code);
/* Up to max pending donations, oldest first. */
int dn_store_donations_pending(dn_server_t *s, int max, dn_donation_row_t *out, size_t *n);
int dn_store_receipt_get(dn_server_t *s, const lc_id_t *donation, dn_receipt_t *out);

/* ---- pledges ------------------------------------------------------------------------ */

int dn_store_pledge_insert(dn_server_t *s, const dn_pledge_t *p);
int dn_store_pledge_get(dn_server_t *s, const lc_id_t *id, dn_pledge_t *out);
/* Sets cancelled_at once (a second cancel changes nothing). */
int dn_store_pledge_cancel(dn_server_t *s, const lc_id_t *id, int64_t at);
/* Up to limit active pledges created before end, with id > after, in id order. */
int dn_store_pledges_due(dn_server_t *s, int64_t end, const lc_id_t *after, int64_t limit,
                         dn_pledge_t **out, size_t *n);
/* The run of pledge for period; LC_ERR_NOT_FOUND when none. Clear with
 * dn_pledge_run_desc. */
int dn_store_run_get(dn_server_t *s, const lc_id_t *pledge, const char *period,
                     dn_pledge_run_t *out);
int dn_store_run_insert(dn_server_t *s, const char *period, const dn_pledge_run_t *run);

/* ---- periods and payouts ------------------------------------------------------------- */

/* Posted donations booked in [start, end), grouped by (charity, campaign), charity
 * order (the pool, with zero ids, first). *out is malloc'd. */
int dn_store_period_sums(dn_server_t *s, int64_t start, int64_t end, dn_period_row_t **out,
                         size_t *n);
/* Whether the payout of period was booked. */
int dn_store_payout_exists(dn_server_t *s, const char *period, bool *exists);
/* Records the payout of period: its report, the pool shares (campaign ids, points,
 * transfer ids) and each charity line's transfer id, in one transaction. */
int dn_store_payout_insert(dn_server_t *s, const dn_report_t *r, const lc_id_t *line_transfers,
                           const lc_id_t *share_transfers, const lc_id_t *created_by,
                           int64_t at);

#endif
