/*
 * st_server.h: the settlement service's state, its request loop and what every
 * handler shares.
 *
 * Settlement is the partners' side of the coalition: the partner registry and the
 * flows earn, redeem (authorize, capture, void, refund), return and grant, which it
 * turns into ledger transfers. A router thread hands each request from the ROUTER
 * socket to one of settlement.workers threads, each with its own database connection
 * and its own ledger and members clients (a copy of st_server_t), so requests that
 * wait on the ledger, members or PostgreSQL overlap; a sweeper thread posts pending
 * earns whose waiting time is over (st_mature_sweep), expires due lots
 * (st_expire_tick) and reviews tiers (st_tier_tick). See st_threads.c.
 *
 * What runs at the same time: earns and reads run in parallel. Every other request
 * and every sweep holds the process's serial lock, so among themselves they run one
 * at a time exactly as in a single-threaded process, and an earn (which only adds a
 * new row, keyed by its own id) cannot disturb what they read and then write. Earns
 * of one member take that member's lock (st_member_lock): coupon uses are counted
 * and then written, and must not be counted twice.
 *
 * Crash safety: every ledger id a request causes is derived from the API call's
 * idempotency key (lc_api_derive) or from an id derived so, the ledger is written
 * first and settlement's own row last. A crash between the two leaves a ledger entry
 * without a row; the retry (same key, same ids) gets `exists` from the ledger and
 * writes the row. A request whose row exists answers from the row (a replay).
 */
#ifndef ST_SERVER_H
#define ST_SERVER_H

#include "lc_api.h"
#include "lc_bus.h"
#include "lc_db.h"
#include "lc_ledger_msg.h"
#include "lc_settlement_msg.h"
#include "lc_tiers.h"
#include "st_arith.h"
#include "st_statement.h"

#include <jansson.h>
#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define ST_EXPIRY_MONTHS 36          /* default of expiry.validity_months */
#define ST_EXPIRE_INTERVAL_MS 60000  /* default of expiry.sweep_interval_ms */
#define ST_EXPIRE_BATCH 1000         /* default of expiry.batch (ledger.expire_lots limit) */
#define ST_EXPIRE_ROUNDS 10          /* expire_lots calls per timer tick before serving
                                        requests again (the rest follows at once) */
#define ST_LIST_DEFAULT 100          /* default "limit" of lists */
#define ST_SWEEP_BATCH 100           /* pending earns posted per sweep round */
#define ST_POLL_MS 200               /* longest wait for a request before checking stop */
#define ST_WORKERS 8                 /* default of settlement.workers */
#define ST_WORKERS_MAX 64
#define ST_MEMBER_STRIPES 64         /* member locks (st_member_lock), hashed by id */
#define ST_DAY_US (INT64_C(86400) * 1000000)

typedef struct st_config {
    const char *bind;            /* ROUTER endpoint (settlement.bind) */
    const char *conninfo;        /* libpq conninfo of role coal_settlement (settlement.db) */
    const char *ledger_connect;  /* the ledger's ROUTER (ledger.connect) */
    const char *members_connect; /* the members service's ROUTER (members.connect) */
    const char *ledger_publish;  /* the ledger's journal PUB (ledger.publish): statements */
    int64_t period_offset_s;     /* added to the clock that decides whether a month has
                                    ended (settlement.period_offset_s: drills, tests) */
    const char *currency;        /* the coalition's currency, e.g. EUR (settlement.currency) */
    int64_t min_redemption;      /* smallest redemption, points (settlement.min_redemption) */
    int64_t point_value_cents;   /* value of one point (settlement.point_value_cents) */
    int64_t hold_seconds;        /* redemption hold (settlement.hold_minutes x 60, or
                                    settlement.hold_seconds when set) */
    int64_t mature_interval_ms;  /* how often pending earns are checked */
    st_expiry_rule_t expiry;     /* lot expiry of earns and grants (expiry.validity_months,
                                    expiry.cutoff) */
    int64_t expire_interval_ms;  /* how often due lots are expired (expiry.sweep_interval_ms) */
    int64_t expire_batch;        /* lots per ledger.expire_lots call (expiry.batch) */
    lc_tiers_t tiers;            /* tiers.names, tiers.thresholds, tiers.multipliers_bps */
    int64_t tier_interval_ms;    /* how often the tier sweep runs (tiers.review_interval_ms) */
    int64_t daily_redemption_cap; /* points per member per UTC day, 0 = none
                                     (settlement.daily_redemption_cap) */
    int64_t workers;             /* request threads (settlement.workers) */
} st_config_t;

/* What the threads of one settlement process share (st_threads.c owns it). */
typedef struct st_locks {
    pthread_mutex_t serial;                     /* see the top of this file */
    pthread_mutex_t member[ST_MEMBER_STRIPES];  /* st_member_lock */
} st_locks_t;

typedef struct st_threads st_threads_t;

#define ST_KNOWN_MEMBERS 4096 /* slots of st_server_t.known_members (64 KB a copy) */

/* The process (what main.c opens) and, as copies, each thread's context: a worker's
 * or the sweeper's copy owns its own db, ledger and members and borrows the rest. */
typedef struct st_server {
    st_config_t cfg;             /* borrowed strings: they live in the caller's config */
    void *zctx;                  /* the process's ZeroMQ context (owned by the process) */
    lc_bus_server_t *bus;        /* where requests arrive (the process's; router only) */
    st_threads_t *threads;       /* workers and sweeper (the process's) */
    st_locks_t *locks;           /* shared by every copy (owned by threads) */
    lc_bus_client_t *ledger;     /* Lazy Pirate client of the ledger (the copy's own) */
    lc_bus_client_t *members;    /* Lazy Pirate client of members (the copy's own) */
    lc_db_t *db;                 /* settlement schema, role coal_settlement (the copy's) */
    int64_t next_sweep_ms;       /* monotonic time of the next maturation sweep */
    int64_t next_expire_ms;      /* monotonic time of the next expiry sweep round */
    int64_t next_tier_ms;        /* monotonic time of the next tier sweep (st_tier_tick) */
    bool breakage_ready;         /* the breakage account is known to exist in the ledger */
    bool promotion_ready;        /* so is the promotion account (tier bonuses) */
    /* Member accounts known to exist in the ledger (st_ledger_ensure_member), a
     * direct-mapped cache by st_member_hash: a miss or a collision only asks the
     * ledger again, and ledger accounts are never removed. */
    lc_id_t known_members[ST_KNOWN_MEMBERS];
    uint64_t requests;           /* requests served (by this copy; the process: all) */
    st_stmt_feed_t statements;   /* the journal consumer writing statement lines */
} st_server_t;

/* One request being served: what every handler gets. Owned by the loop. */
typedef struct st_call {
    st_server_t *srv;
    const char *rid;      /* the bus request id, for logs */
    lc_api_req_t api;     /* the parsed API call (empty for internal types) */
    char partner[LC_ID_STRLEN + 1]; /* the calling partner, text ("" when none) */
    char *msg;            /* error message buffer of the reply */
    size_t msglen;
} st_call_t;

/* A handler: fills *reply (new reference) and returns NULL, or returns an API error
 * code with c->msg filled. */
typedef const char *(*st_handler_fn)(st_call_t *c, json_t **reply);

/* Binds, connects every thread's context and starts nothing yet (st_threads.c). */
int st_server_open(st_server_t *s, const st_config_t *cfg);
/* Starts the threads and routes requests until *stop becomes non-zero. */
int st_server_run(st_server_t *s, volatile int *stop);
void st_server_close(st_server_t *s);

/* Serves one request frame on a thread's context: parses the envelope, refuses an
 * expired deadline, dispatches (taking the serial lock unless the type runs in
 * parallel). Returns the reply frame (malloc'd, *outlen) or NULL (out of memory). */
char *st_serve(st_server_t *s, const char *data, size_t len, size_t *outlen);
/* FNV-1a of a member id: the lock stripe and the known_members slot. */
uint32_t st_member_hash(const lc_id_t *member);

/* Holds / releases the lock of one member's earns. */
void st_member_lock(st_server_t *s, const lc_id_t *member);
void st_member_unlock(st_server_t *s, const lc_id_t *member);

/* ---- helpers for handlers (st_server.c) -------------------------------------------- */

/* Writes a message and returns code (so handlers can `return st_fail(...)`). */
const char *st_fail(st_call_t *c, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* forbidden unless the caller has role. */
const char *st_need_role(st_call_t *c, int role);
/* Decodes the API request body strictly with desc (invalid_request on failure). */
const char *st_decode(st_call_t *c, const lc_msgdesc_t *desc, void *out);
/* Derives the id of this request's effect label (invalid_request without a key). */
const char *st_derive(st_call_t *c, const char *label, lc_id_t *out);
/* Encodes in with desc into *reply; "internal" on NOMEM. */
const char *st_reply(st_call_t *c, const lc_msgdesc_t *desc, const void *in, json_t **reply);
/* The "unavailable" answer for a database failure, logged. */
const char *st_db_fail(st_call_t *c, const char *what);

/* ---- handlers ---------------------------------------------------------------------- */

const char *st_h_create_partner(st_call_t *c, json_t **reply);
const char *st_h_list_partners(st_call_t *c, json_t **reply);
const char *st_h_get_partner(st_call_t *c, json_t **reply);
const char *st_h_prepay(st_call_t *c, json_t **reply);
const char *st_h_earn(st_call_t *c, json_t **reply);
const char *st_h_authorize(st_call_t *c, json_t **reply);
const char *st_h_capture(st_call_t *c, json_t **reply);
const char *st_h_void(st_call_t *c, json_t **reply);
const char *st_h_refund(st_call_t *c, json_t **reply);
const char *st_h_return(st_call_t *c, json_t **reply);
const char *st_h_grant(st_call_t *c, json_t **reply);
const char *st_h_create_coupon(st_call_t *c, json_t **reply);
const char *st_h_activate_coupon(st_call_t *c, json_t **reply);
/* finance (st_audit.c) and four-eyes adjustments (st_adjust.c) */
const char *st_h_audit_trial_balance(st_call_t *c, json_t **reply);
const char *st_h_audit_journal(st_call_t *c, json_t **reply);
const char *st_h_audit_verify(st_call_t *c, json_t **reply);
const char *st_h_audit_liability(st_call_t *c, json_t **reply);
const char *st_h_propose_adjustment(st_call_t *c, json_t **reply);
const char *st_h_approve_adjustment(st_call_t *c, json_t **reply);
const char *st_h_get_adjustment(st_call_t *c, json_t **reply);
const char *st_h_statement(st_call_t *c, json_t **reply);
const char *st_h_close_period(st_call_t *c, json_t **reply);
const char *st_h_reconcile(st_call_t *c, json_t **reply);

/* The {period} path parameter: *text ("YYYY-MM", borrowed) or invalid_request. */
const char *st_period_param(st_call_t *c, const char **text);
/* The time against which months are judged: now + cfg.period_offset_s. */
int64_t st_period_now(const st_server_t *s);

/* Loads the calling partner (role partner) into *p; forbidden for other roles or an
 * unknown partner. Clear *p with lc_codec_clear(&st_partner_desc, p). */
const char *st_caller_partner(st_call_t *c, st_partner_t *p);
/* Like st_caller_partner for handlers that need only the partner's id. */
const char *st_caller_partner_id(st_call_t *c, lc_id_t *id);

/* Posts pending earns whose available_at has passed (st_mature.c). */
void st_mature_sweep(st_server_t *s);

/* ---- expiry (st_expire.c) ---------------------------------------------------------- */

/* When points issued now (Unix microseconds) expire, under the configured rule. */
int64_t st_expiry_of(const st_server_t *s, int64_t now);
/* One timer tick of the expiry sweep (as_of = now): at most ST_EXPIRE_ROUNDS ledger
 * calls; sets s->next_expire_ms (at once when lots are left, else the interval). */
void st_expire_tick(st_server_t *s);
/* Serves settlement.expire_now (internal, plain body): NULL with *reply, or an
 * envelope error code with msg filled. */
/* Internal types with a plain body (not an API call): decode strictly (envelope
 * codes missing_field, invalid_field, unknown_field with msg) and encode the reply
 * (internal on NOMEM). */
const char *st_plain_decode(const lc_msgdesc_t *desc, const json_t *body, void *out, char *msg,
                            size_t msglen);
const char *st_plain_reply(const lc_msgdesc_t *desc, const void *in, json_t **reply, char *msg,
                           size_t msglen);
const char *st_expire_now(st_server_t *s, const char *rid, const json_t *body, json_t **reply,
                          char *msg, size_t msglen);

#endif
