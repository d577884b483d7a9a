/*
 * dn_server.h: the donation service's state, its request loop and what every
 * handler shares.
 *
 * The donation service owns charities, campaigns (with partner matching), member
 * donations and their signed receipts, the shared pool, pledges, monthly payouts
 * and reports. It serves one request at a time from its ROUTER socket (a
 * handler's calls to the ledger happen inside it), so two donations never race for
 * a campaign's cap; between requests it finishes donations left pending
 * (dn_donate_sweep).
 *
 * Crash safety (README.md "Rules"): every ledger id is derived from the donation id,
 * itself derived from the API call's idempotency key or from (pledge, month). A
 * donation's row and its campaign's cap reservation are written in one transaction
 * before the ledger is asked; the row then moves to posted (with its receipt) or
 * failed (reservation given back). A pending row is finished with the same ids by
 * the retry or the sweep: the ledger answers `exists` or applies it once.
 */
#ifndef DN_SERVER_H
#define DN_SERVER_H

#include "dn_receipt.h"
#include "lc_api.h"
#include "lc_bus.h"
#include "lc_db.h"
#include "lc_donation_msg.h"
#include "lc_ledger_msg.h"

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define DN_LIST_DEFAULT 100  /* default "limit" of lists */
#define DN_POLL_MS 200       /* longest wait for a request before checking stop */
#define DN_SWEEP_BATCH 100   /* pending donations finished per sweep round */

typedef struct dn_config {
    const char *bind;           /* ROUTER endpoint (donation.bind) */
    const char *conninfo;       /* libpq conninfo of role coal_donation (donation.db) */
    const char *ledger_connect; /* the ledger's ROUTER (ledger.connect) */
    const char *secrets_dir;    /* receipt keys (donation.secrets_dir) */
    const char *currency;       /* the coalition's currency (donation.currency) */
    int64_t min_points;         /* smallest donation or pledge (donation.min_points) */
    int64_t daily_cap;          /* API donations per member per UTC day, 0 = none
                                   (donation.daily_cap) */
    int64_t point_value_cents;  /* value of one point (donation.point_value_cents) */
    int64_t sweep_interval_ms;  /* how often pending donations are finished */
    int64_t period_offset_s;    /* shifts the clock that decides whether a period has begun
                                   or ended (donation.period_offset_s; drills and tests) */
} dn_config_t;

typedef struct dn_server {
    dn_config_t cfg;          /* borrowed strings: they live in the caller's config */
    void *zctx;               /* the process's ZeroMQ context (owned) */
    lc_bus_server_t *bus;     /* where requests arrive (owned) */
    lc_bus_client_t *ledger;  /* Lazy Pirate client of the ledger (owned) */
    lc_db_t *db;              /* donation schema, role coal_donation (owned) */
    dn_keyring_t keys;        /* receipt signing keys (owned) */
    bool accounts_ready;      /* the pool and clearing accounts exist in the ledger */
    int64_t next_sweep_ms;    /* monotonic time of the next sweep */
    uint64_t requests;        /* requests served, for the exit log line */
} dn_server_t;

/* One request being served: what every handler gets. Owned by the loop. */
typedef struct dn_call {
    dn_server_t *srv;
    const char *rid;      /* the bus request id, for logs */
    lc_api_req_t api;     /* the parsed API call (empty for internal and public types) */
    char *msg;            /* error message buffer of the reply */
    size_t msglen;
} dn_call_t;

/* A handler: fills *reply (new reference) and returns NULL, or returns an API error
 * code with c->msg filled. */
typedef const char *(*dn_handler_fn)(dn_call_t *c, json_t **reply);

int dn_server_open(dn_server_t *s, const dn_config_t *cfg);
/* Serves until *stop becomes non-zero. */
int dn_server_run(dn_server_t *s, volatile int *stop);
void dn_server_close(dn_server_t *s);

/* ---- helpers for handlers (dn_server.c) -------------------------------------------- */

const char *dn_fail(dn_call_t *c, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* forbidden unless the caller has one of the roles (GW-style bit set of 1u << role). */
const char *dn_need_roles(dn_call_t *c, unsigned roles);
#define DN_ROLE(r) (1u << (r))
/* Decodes the API request body strictly with desc (invalid_request on failure). */
const char *dn_decode(dn_call_t *c, const lc_msgdesc_t *desc, void *out);
/* Derives the id of this request's effect label (invalid_request without a key). */
const char *dn_derive(dn_call_t *c, const char *label, lc_id_t *out);
/* Encodes in with desc into *reply; "internal" on NOMEM. */
const char *dn_reply(dn_call_t *c, const lc_msgdesc_t *desc, const void *in, json_t **reply);
/* The "unavailable" answer for a database failure, logged. */
const char *dn_db_fail(dn_call_t *c, const char *what);
/* Reads query limit and starting_after of a list (invalid_request when malformed). */
const char *dn_list_query(dn_call_t *c, int64_t *limit, lc_id_t *after, bool *has_after);
/* The path parameter period parsed (invalid_request when it is not YYYY-MM). */
const char *dn_period_param(dn_call_t *c, const char **text, int64_t *start, int64_t *end);
/* money {amount: points x point value, currency} (strdup'd currency). */
const char *dn_money(dn_call_t *c, int64_t points, lc_money_t *out);

/* The time against which periods are judged: now + cfg.period_offset_s. */
int64_t dn_period_now(const dn_server_t *s);

/* The status of campaign cp at time now (Unix microseconds). */
int dn_campaign_status_at(const dn_campaign_t *cp, int64_t now);

/* ---- handlers ---------------------------------------------------------------------- */

const char *dn_h_create_charity(dn_call_t *c, json_t **reply);
const char *dn_h_list_charities(dn_call_t *c, json_t **reply);
const char *dn_h_create_campaign(dn_call_t *c, json_t **reply);
const char *dn_h_list_campaigns(dn_call_t *c, json_t **reply);
const char *dn_h_donate(dn_call_t *c, json_t **reply);
const char *dn_h_get_receipt(dn_call_t *c, json_t **reply);
const char *dn_h_receipt_keys(dn_call_t *c, json_t **reply);
const char *dn_h_create_pledge(dn_call_t *c, json_t **reply);
const char *dn_h_cancel_pledge(dn_call_t *c, json_t **reply);
const char *dn_h_run_pledges(dn_call_t *c, json_t **reply);
const char *dn_h_payout(dn_call_t *c, json_t **reply);
const char *dn_h_report(dn_call_t *c, json_t **reply);

/* Finishes donations left pending (dn_donate.c). */
void dn_donate_sweep(dn_server_t *s);

#endif
