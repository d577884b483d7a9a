/*
 * lc_donation_msg.h: the donation service's messages (proto/donation.json), as C
 * structs with codec descriptors.
 *
 * Every donation type except donation.ping and donation.receipt_keys is an API call
 * (proto/README.md section 11): its bus body is an lc_api_req_t whose "request"
 * member is decoded with the request descriptor below, and whose reply body is the
 * HTTP response body. donation.receipt_keys serves the public GET /v1/keys/receipts:
 * it needs no caller, so its body is not read.
 *
 * Ledger conventions of the donation service (the journal's `code` and accounts):
 *   charity account   lc_id_derive(charity id, "charity"), kind charity, no overdraft
 *   pool account      DN_POOL_ACCOUNT (dn_pool_account()), kind charity_pool
 *   payout clearing   dn_clearing_account(), kind payout_clearing
 *   member account    the member id (created by the members service)
 *   match             debits the partner's issuance account,
 *                     lc_id_derive(partner id, "issuance") (settlement's convention)
 */
#ifndef LC_DONATION_MSG_H
#define LC_DONATION_MSG_H

#include "lc_api.h"
#include "lc_codec.h"
#include "lc_id.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define DN_NAME_MAX 200           /* bytes of a charity or campaign name */
#define DN_REGNO_MAX 64           /* bytes of a registration number */
#define DN_PAYOUT_ACCOUNT_MAX 64  /* bytes of a payout account (an IBAN) */
#define DN_RATIO_BPS_MAX 1000000  /* matching ratio: at most 100 x the donation */
#define DN_PERIOD_MAX 7           /* "YYYY-MM" */
#define DN_KEY_ID_MAX 64          /* bytes of a receipt key id */
#define DN_PEM_MAX 1024           /* bytes of a public key PEM */
#define DN_RECEIPT_MAX 4096       /* bytes of a receipt's base64 payload */
#define DN_REASON_MAX 64          /* bytes of a skip reason (an API error code) */
#define DN_KEYS_MAX 100           /* receipt keys listed */
#define DN_LINES_MAX 10000        /* charities or campaigns in one report */

/* Ledger transfer codes the donation service writes (settlement's are 1..99). */
enum {
    DN_CODE_DONATION = 101,   /* member -> charity: a donation to a charity or campaign */
    DN_CODE_MATCH = 102,      /* partner issuance -> charity: the match, linked to 101 */
    DN_CODE_POOL = 103,       /* member -> pool: a donation to the shared pool */
    DN_CODE_POOL_SHARE = 104, /* pool -> charity: a campaign's share of a period's pool */
    DN_CODE_PAYOUT = 105,     /* charity -> payout clearing: a period's payout */
};

/* Ledger account codes of the donation service's accounts. */
enum {
    DN_ACCOUNT_CHARITY = 101,
    DN_ACCOUNT_POOL = 102,
    DN_ACCOUNT_CLEARING = 103,
};

/* ---- enums ------------------------------------------------------------------------- */

typedef enum dn_campaign_status {
    DN_CAMPAIGN_SCHEDULED = 1, /* before starts_at: donations refused */
    DN_CAMPAIGN_OPEN = 2,      /* starts_at <= now < ends_at */
    DN_CAMPAIGN_CLOSED = 3,    /* from ends_at on: donations refused */
} dn_campaign_status_t;
extern const lc_name_t dn_campaign_status_names[];

typedef enum dn_pledge_status {
    DN_PLEDGE_ACTIVE = 1,
    DN_PLEDGE_CANCELLED = 2,
} dn_pledge_status_t;
extern const lc_name_t dn_pledge_status_names[];

typedef enum dn_run_status {
    DN_RUN_DONATED = 1, /* the month's donation was booked */
    DN_RUN_SKIPPED = 2, /* not booked; reason says why; final for that month */
} dn_run_status_t;
extern const lc_name_t dn_run_status_names[];

typedef enum dn_period_status {
    DN_PERIOD_OPEN = 1,      /* the month has not ended: figures may still grow */
    DN_PERIOD_ENDED = 2,     /* ended, not paid out yet */
    DN_PERIOD_PAID_OUT = 3,  /* the payout was booked */
} dn_period_status_t;
extern const lc_name_t dn_period_status_names[];

/* ---- charities and campaigns ------------------------------------------------------- */

typedef struct dn_charity_req {
    char *name;
    char *registration_no;
    bool verified;        /* absent: true (API.md); read with dn_msg_has() */
    char *payout_account; /* optional */
} dn_charity_req_t;

typedef struct dn_charity {
    lc_id_t id;
    char *name;
    char *registration_no;
    bool verified;
    char *payout_account;
    lc_id_t account_id; /* its ledger account */
    int64_t created_at;
} dn_charity_t;

typedef struct dn_charity_list {
    dn_charity_t *data;
    size_t ndata;
    bool has_more;
} dn_charity_list_t;

typedef struct dn_match {
    lc_id_t partner_id; /* zero: no matching */
    int64_t ratio_bps;  /* match = floor(points x ratio_bps / 10000) */
    int64_t cap_points; /* all matches of the campaign together at most this */
} dn_match_t;

typedef struct dn_campaign_req {
    lc_id_t charity_id;
    char *name;
    int64_t goal_points;
    int64_t starts_at, ends_at;
    dn_match_t match;
} dn_campaign_req_t;

typedef struct dn_campaign {
    lc_id_t id;
    lc_id_t charity_id;
    char *name;
    int64_t goal_points;
    int64_t starts_at, ends_at;
    dn_match_t match;
    int64_t raised_points;  /* members' points donated */
    int64_t matched_points; /* partner's match so far (<= match.cap_points) */
    int status;             /* dn_campaign_status_t, at the time of the answer */
    int64_t created_at;
} dn_campaign_t;

typedef struct dn_campaign_list {
    dn_campaign_t *data;
    size_t ndata;
    bool has_more;
} dn_campaign_list_t;

/* ---- donations and receipts -------------------------------------------------------- */

typedef struct dn_donate_req {
    lc_id_t member_id;
    lc_id_t charity_id;  /* exactly one of charity_id, campaign_id, pool */
    lc_id_t campaign_id;
    bool pool;
    int64_t points;
} dn_donate_req_t;

typedef struct dn_receipt {
    lc_id_t donation_id;
    char *key_id;
    char *payload;   /* base64 of the signed bytes */
    char *signature; /* base64 of the Ed25519 signature */
} dn_receipt_t;

/* The signed document: its JSON encoding (compact, field order below) is the exact
 * payload. */
typedef struct dn_receipt_payload {
    lc_id_t donation_id;
    lc_id_t member_id;
    lc_id_t charity_id;  /* zero for the pool */
    lc_id_t campaign_id; /* zero when not to a campaign */
    bool pool;
    int64_t points;
    int64_t matched_points;
    lc_money_t value;
    int64_t time; /* the ledger's timestamp of the member's transfer */
} dn_receipt_payload_t;

typedef struct dn_donation {
    lc_id_t id;
    lc_id_t member_id;
    lc_id_t charity_id;
    lc_id_t campaign_id;
    bool pool;
    int64_t points;
    int64_t matched_points;
    lc_money_t value; /* points x point value (the member's gift) */
    dn_receipt_t receipt;
    int64_t created_at;
} dn_donation_t;

typedef struct dn_receipt_key {
    char *key_id;
    char *public_key_pem;
} dn_receipt_key_t;

typedef struct dn_receipt_keys {
    char *key_id;         /* the current signing key */
    char *public_key_pem;
    dn_receipt_key_t *keys; /* every key, current first: old receipts stay verifiable */
    size_t nkeys;
} dn_receipt_keys_t;

/* ---- pledges ------------------------------------------------------------------------ */

typedef struct dn_pledge_req {
    lc_id_t member_id;
    lc_id_t charity_id;
    int64_t points;
} dn_pledge_req_t;

typedef struct dn_pledge {
    lc_id_t id;
    lc_id_t member_id;
    lc_id_t charity_id;
    int64_t points;
    int status; /* dn_pledge_status_t */
    int64_t created_at;
    int64_t cancelled_at;
} dn_pledge_t;

typedef struct dn_pledge_run {
    lc_id_t pledge_id;
    int status;    /* dn_run_status_t */
    char *reason;  /* skipped: the API error code that stopped it */
    lc_id_t donation_id;
    int64_t points;
} dn_pledge_run_t;

typedef struct dn_pledge_runs {
    char *period;
    int64_t donated, skipped;
    dn_pledge_run_t *runs;
    size_t nruns;
} dn_pledge_runs_t;

/* ---- payouts and reports ------------------------------------------------------------ */

typedef struct dn_charity_line {
    lc_id_t charity_id;
    int64_t donated_points; /* members' points (charity and campaign donations) */
    int64_t matched_points; /* partners' matches */
    int64_t pooled_points;  /* shares of the period's pool */
    int64_t points;         /* the sum: what the payout moves */
    lc_money_t value;
} dn_charity_line_t;

typedef struct dn_campaign_line {
    lc_id_t campaign_id;
    lc_id_t charity_id;
    int64_t donated_points;
    int64_t matched_points;
    int64_t pooled_points;
    int64_t points;
    lc_money_t value;
} dn_campaign_line_t;

typedef struct dn_report {
    char *period;
    int status; /* dn_period_status_t */
    dn_charity_line_t *charities;
    size_t ncharities;
    dn_campaign_line_t *campaigns;
    size_t ncampaigns;
    int64_t pool_donated_points;     /* donated to the pool in the period */
    int64_t pool_allocated_points;   /* shared among the period's campaigns */
    int64_t pool_unallocated_points; /* no campaign raised anything: stays in the pool */
    int64_t total_points;            /* sum of the charities' points */
    lc_money_t total_value;
} dn_report_t;

typedef struct dn_empty {
    int unused;
} dn_empty_t;

extern const lc_msgdesc_t dn_charity_req_desc, dn_charity_desc, dn_charity_list_desc,
    dn_match_desc, dn_match_view_desc, dn_campaign_req_desc, dn_campaign_desc,
    dn_campaign_list_desc, dn_donate_req_desc, dn_receipt_desc, dn_receipt_payload_desc,
    dn_donation_desc, dn_receipt_key_desc, dn_receipt_keys_desc, dn_pledge_req_desc,
    dn_pledge_desc, dn_pledge_run_desc, dn_pledge_runs_desc, dn_charity_line_desc,
    dn_campaign_line_desc, dn_report_desc, dn_empty_desc;

/* A message type: name, request body (for API calls: the "request" member), reply. */
typedef struct dn_msgtype {
    const char *type;
    const lc_msgdesc_t *request;
    const lc_msgdesc_t *reply;
    const char *doc;
} dn_msgtype_t;
/* The types the donation service serves, NULL-terminated. */
extern const dn_msgtype_t dn_msgtypes[];
const dn_msgtype_t *dn_msgtype_find(const char *type);

#define DN_TYPE_PING "donation.ping"
#define DN_TYPE_RECEIPT_KEYS "donation.receipt_keys"
#define DN_TYPE_CREATE_CHARITY "donation.create_charity"
#define DN_TYPE_LIST_CHARITIES "donation.list_charities"
#define DN_TYPE_CREATE_CAMPAIGN "donation.create_campaign"
#define DN_TYPE_LIST_CAMPAIGNS "donation.list_campaigns"
#define DN_TYPE_DONATE "donation.donate"
#define DN_TYPE_GET_RECEIPT "donation.get_receipt"
#define DN_TYPE_CREATE_PLEDGE "donation.create_pledge"
#define DN_TYPE_CANCEL_PLEDGE "donation.cancel_pledge"
#define DN_TYPE_RUN_PLEDGES "donation.run_pledges"
#define DN_TYPE_PAYOUT "donation.payout"
#define DN_TYPE_REPORT "donation.report"

/* The well-known ledger accounts of the donation service (derived, constant). */
void dn_pool_account(lc_id_t *out);
void dn_clearing_account(lc_id_t *out);
/* A charity's ledger account. */
void dn_charity_account(const lc_id_t *charity, lc_id_t *out);

#endif
