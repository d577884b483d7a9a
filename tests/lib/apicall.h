/*
 * apicall.h: API calls to the settlement and members services, as integration tests
 * make them. A test runs a cluster (ta_cluster_start: ledger, members and settlement
 * on a fresh database, a client for each, an admin and an app caller) and sends
 * requests built with lc_api_req_build, exactly as the gateway sends them: a caller
 * (role, key, partner), an idempotency key, path parameters, query and request body.
 *
 * Conventions, the same for every function here:
 * - A call returns the reply body (new reference, the caller's to json_decref), or
 *   NULL with the error code written to code, a buffer of TA_CODE_LEN bytes. It fails
 *   the test only when no reply comes at all: refusals are answers to check.
 * - json_t * arguments (params, query, request) are stolen; NULL means none.
 * - Functions whose name ends in _ok expect success and fail the test otherwise.
 * - const char * results are borrowed: from the reply object they were read from, or
 *   (ta_key) a rotating static buffer that outlives a handful of later calls.
 * Built on harness.h: processes, databases and raw bus calls live there.
 */
#ifndef TA_APICALL_H
#define TA_APICALL_H

#include "harness.h"
#include "lc_api.h"
#include "lc_id.h"

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

struct CMUnitTest; /* cmocka.h */

#define TA_CODE_LEN 64 /* size of every code buffer: the longest error code fits */

/* Who makes a call: the caller the gateway would attach, and the owner string it
 * points to (owner scopes idempotency keys: "key:<key id>" or "partner:<id>"). */
typedef struct ta_who {
    lc_api_caller_t c; /* c.owner points into owner */
    char owner[64];
} ta_who_t;

typedef struct ta_partner {
    lc_id_t id;
    char ids[LC_ID_STRLEN + 1]; /* id as text */
    ta_who_t who;               /* the partner's own API key */
} ta_partner_t;

typedef struct ta_member {
    char ids[LC_ID_STRLEN + 1]; /* member id as text (also its ledger account) */
    char card[65];              /* card number */
} ta_member_t;

/* The ledger, members and settlement on one fresh database, with a client for each
 * and the coalition's admin and member-app callers. */
typedef struct ta_cluster {
    char db[64];
    th_ledger_t ledger;
    th_svc_t members;
    th_svc_t settle;
    th_client_t sc; /* settlement */
    th_client_t mc; /* members */
    th_client_t lc; /* ledger */
    ta_who_t admin;
    ta_who_t app;
} ta_cluster_t;

/* ---- the cluster ------------------------------------------------------------------ */

/* Creates the database and starts the ledger, members (connected to the ledger and
 * following its journal) and settlement (connected to both, with the extra
 * "KEY=VALUE" settings of settlement_env, NULL-terminated, may be NULL), then opens
 * the clients and makes the callers. Fails the test on error. */
void ta_cluster_start(ta_cluster_t *k, const char *const *settlement_env);
/* Stops settlement and starts it again with settlement_env in place of the settings
 * it had (the endpoint, so the open client, stays the same). */
void ta_settlement_restart(ta_cluster_t *k, const char *const *settlement_env);
/* Checks that the books balance (trial balance sum 0) and the journal verifies, then
 * closes the clients and stops the services. */
void ta_cluster_stop(ta_cluster_t *k);

/* Runs tests as one cmocka group on cluster k: ta_cluster_start(k, settlement_env)
 * before the first test, ta_cluster_stop(k) (books checked) after the last; for a
 * file whose cluster needs no other fixture. Returns what cmocka returns (the number
 * of failed tests). Runs one group at a time: it keeps k and settlement_env for its
 * fixtures until it returns. */
int ta_run_group(const char *name, const struct CMUnitTest *tests, size_t count, ta_cluster_t *k,
                 const char *const *settlement_env);
/* ta_run_group with the array's name and length, as cmocka_run_group_tests does. */
#define ta_run_tests(tests, k, settlement_env)                                                     \
    ta_run_group(#tests, tests, sizeof(tests) / sizeof((tests)[0]), k, settlement_env)

/* ---- calls ------------------------------------------------------------------------ */

/* Makes w a caller of role (LC_ROLE_*) with a fresh key id; partner (may be NULL) is
 * the partner it acts for. */
void ta_who_init(ta_who_t *w, int role, const lc_id_t *partner);
/* A fresh idempotency key (rotating static buffers). */
const char *ta_key(void);
/* Sends type to c as w with idempotency key (may be NULL), params and request. */
json_t *ta_call(th_client_t *c, const char *type, const ta_who_t *w, const char *key,
                json_t *params, json_t *request, char *code);
/* The same with a query (string values, as the gateway passes them). */
json_t *ta_call_query(th_client_t *c, const char *type, const ta_who_t *w, const char *key,
                      json_t *params, json_t *query, json_t *request, char *code);

/* ---- replies ---------------------------------------------------------------------- */

/* Expects reply to be a success; code is what the call wrote. Does not free reply. */
void ta_ok(const json_t *reply, const char *code);
/* Expects reply to be the refusal want (reply NULL, code equal to want). */
void ta_refused(const json_t *reply, const char *code, const char *want);
/* Integer field k of o (0 when missing). */
int64_t ta_int(const json_t *o, const char *k);
/* String field k of o; fails the test when it is missing. */
const char *ta_str(const json_t *o, const char *k);
/* RFC 3339 field k of o in microseconds; fails the test when missing or malformed. */
int64_t ta_time(const json_t *o, const char *k);

/* ---- partners and members ----------------------------------------------------------- */

/* Creates a partner as admin earning rp points per per cents, pending_days of
 * waiting, funding "prepaid" or "postpaid", excluded (JSON array text, may be NULL)
 * the excluded categories; fills p, its caller included. */
void ta_partner(ta_cluster_t *k, ta_partner_t *p, int64_t rp, int64_t per, int pending_days,
                const char *funding, const char *excluded);
/* Enrolls a member at partner p; fills m. */
void ta_member(ta_cluster_t *k, ta_member_t *m, const ta_partner_t *p);
/* A one-time redemption code for m from the member app, into out. */
void ta_member_code(ta_cluster_t *k, const ta_member_t *m, char *out, size_t len);

/* ---- settlement --------------------------------------------------------------------- */

/* An earn of amount cents at settlement client sc; extra (JSON object text, may be
 * NULL) is merged into the request body. The receipt id is the idempotency key. */
json_t *ta_earn_at(th_client_t *sc, const ta_partner_t *p, const ta_member_t *m, const char *key,
                   int64_t amount, const char *currency, const char *extra, char *code);
/* The same at the cluster's settlement. */
json_t *ta_earn(ta_cluster_t *k, const ta_partner_t *p, const ta_member_t *m, const char *key,
                int64_t amount, const char *currency, const char *extra, char *code);
/* An earn of amount EUR cents with a fresh key; returns the points earned. */
int64_t ta_earn_ok(ta_cluster_t *k, const ta_partner_t *p, const ta_member_t *m, int64_t amount);
/* Authorizes a redemption of points with member_code (the key is the receipt id). */
json_t *ta_authorize(ta_cluster_t *k, const ta_partner_t *p, const ta_member_t *m, const char *key,
                     int64_t points, const char *member_code, char *code);
/* Authorizes points with a fresh member code and key; writes the redemption id. */
void ta_authorize_ok(ta_cluster_t *k, const ta_partner_t *p, const ta_member_t *m, int64_t points,
                     char id[LC_ID_STRLEN + 1]);
/* ST_TYPE_CAPTURE, _VOID or _REFUND of redemption id; request NULL: an empty body. */
json_t *ta_redemption_op(ta_cluster_t *k, const char *type, const ta_partner_t *p, const char *key,
                         const char *id, json_t *request, char *code);
/* A return of cents EUR of earn earn_id. */
json_t *ta_return(ta_cluster_t *k, const ta_partner_t *p, const char *key, const char *earn_id,
                  int64_t cents, char *code);
/* Rows in settlement.<table> (a table name, never input). */
int64_t ta_settlement_rows(ta_cluster_t *k, const char *table);

/* ---- ledger -------------------------------------------------------------------------- */

/* Field of ledger account id (e.g. "balance", "credits_pending"); 0 when the account
 * does not exist. */
int64_t ta_acct(ta_cluster_t *k, const char *id, const char *field);
/* The ledger's journal head: unchanged across a call means it wrote nothing. */
int64_t ta_journal_seq(ta_cluster_t *k);

#endif
