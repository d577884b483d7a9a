/*
 * gw_routes.c: the route table (gw_routes.h) and the response helpers.
 */
#include "gw_routes.h"
#include "gw_admin_log.h"
#include "gw_local.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ADMIN GW_ROLE(LC_ROLE_ADMIN)
#define AUDITOR GW_ROLE(LC_ROLE_AUDITOR)
#define PARTNER GW_ROLE(LC_ROLE_PARTNER)
#define APP GW_ROLE(LC_ROLE_APP)
#define MB GW_SVC_MEMBERS
#define ST GW_SVC_SETTLEMENT
#define DN GW_SVC_DONATION
#define READERS (APP | ADMIN | AUDITOR)
#define REQ GW_IDEM_REQUIRED
#define OPT GW_IDEM_OPTIONAL
#define NONE GW_IDEM_NONE

/* Rows list the fields up to .public in order and name the optional trailing
 * ones (.csv) only where they use them; the rest are zero. */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"

/* API.md, in its order. Every POST that creates something or moves points
 * requires an Idempotency-Key; the others accept one. */
const gw_route_t gw_routes[] = {
    /* admin */
    {"POST", "/v1/partners", ADMIN, REQ, ST, "settlement.create_partner", 201,
     gw_local_create_partner, false},
    {"GET", "/v1/partners", ADMIN, NONE, ST, "settlement.list_partners", 200, NULL, false},
    {"GET", "/v1/partners/{id}", ADMIN, NONE, ST, "settlement.get_partner", 200, NULL, false},
    {"POST", "/v1/partners/{id}/keys", ADMIN, REQ, ST, "settlement.get_partner", 201,
     gw_local_partner_key, false},
    {"DELETE", "/v1/partners/{id}/keys/{key_id}", ADMIN, NONE, GW_SVC_NONE, NULL, 204,
     gw_local_revoke_key, false},
    {"POST", "/v1/partners/{id}/prepayments", ADMIN, REQ, ST, "settlement.prepay", 201, NULL, false},
    {"POST", "/v1/keys", ADMIN, REQ, GW_SVC_NONE, NULL, 201, gw_local_create_key, false},
    {"POST", "/v1/coupons", ADMIN, REQ, ST, "settlement.create_coupon", 201, NULL, false},
    {"POST", "/v1/members/{id}/freeze", ADMIN, OPT, MB, "members.freeze", 200, NULL, false},
    {"POST", "/v1/members/{id}/unfreeze", ADMIN, OPT, MB, "members.unfreeze", 200, NULL, false},
    {"DELETE", "/v1/members/{id}/personal-data", ADMIN, NONE, MB, "members.erase", 200, NULL,
     false},
    /* partner */
    {"POST", "/v1/members", PARTNER, REQ, MB, "members.enroll", 201, NULL, false},
    {"POST", "/v1/members/{id}/cards", PARTNER, REQ, MB, "members.add_card", 201, NULL, false},
    {"GET", "/v1/cards/{card_number}/balance", PARTNER, NONE, MB, "members.card_balance", 200,
     NULL, false},
    {"POST", "/v1/earn", PARTNER, REQ, ST, "settlement.earn", 201, NULL, false},
    {"POST", "/v1/redemptions", PARTNER, REQ, ST, "settlement.authorize", 201, NULL, false},
    {"POST", "/v1/redemptions/{id}/capture", PARTNER, REQ, ST, "settlement.capture", 200, NULL, false},
    {"POST", "/v1/redemptions/{id}/void", PARTNER, REQ, ST, "settlement.void", 200, NULL, false},
    {"POST", "/v1/redemptions/{id}/refund", PARTNER, REQ, ST, "settlement.refund", 200, NULL, false},
    {"POST", "/v1/returns", PARTNER, REQ, ST, "settlement.return", 201, NULL, false},
    {"POST", "/v1/grants", PARTNER, REQ, ST, "settlement.grant", 201, NULL, false},
    /* member app */
    {"GET", "/v1/members/{id}", APP, NONE, MB, "members.get", 200, NULL, false},
    {"POST", "/v1/members/{id}/codes", APP, REQ, MB, "members.issue_code", 201, NULL, false},
    {"POST", "/v1/members/{id}/consents", APP, OPT, MB, "members.set_consents", 200, NULL, false},
    {"GET", "/v1/members/{id}/export", APP, NONE, MB, "members.export", 200, NULL, false},
    {"GET", "/v1/members/{id}/history", APP, NONE, MB, "members.history", 200, NULL, false},
    {"POST", "/v1/members/{id}/coupons/{code}/activate", APP, OPT, ST,
     "settlement.activate_coupon", 200, NULL, false},
    /* donations (issue 5) */
    {"POST", "/v1/charities", ADMIN, REQ, DN, "donation.create_charity", 201, NULL, false},
    {"POST", "/v1/campaigns", ADMIN, REQ, DN, "donation.create_campaign", 201, NULL, false},
    {"GET", "/v1/charities", READERS, NONE, DN, "donation.list_charities", 200, NULL, false},
    {"GET", "/v1/campaigns", READERS, NONE, DN, "donation.list_campaigns", 200, NULL, false},
    {"POST", "/v1/donations", APP, REQ, DN, "donation.donate", 201, NULL, false},
    {"GET", "/v1/donations/{id}/receipt", APP, NONE, DN, "donation.get_receipt", 200, NULL, false},
    {"GET", "/v1/keys/receipts", 0, NONE, DN, "donation.receipt_keys", 200, NULL, true},
    {"POST", "/v1/pledges", APP, REQ, DN, "donation.create_pledge", 201, NULL, false},
    {"DELETE", "/v1/pledges/{id}", APP, NONE, DN, "donation.cancel_pledge", 200, NULL, false},
    {"POST", "/v1/donations/pledges/run/{period}", ADMIN, REQ, DN, "donation.run_pledges", 200,
     NULL, false},
    {"POST", "/v1/donations/payouts/{period}", ADMIN, REQ, DN, "donation.payout", 200, NULL, false},
    {"GET", "/v1/donations/report/{period}", AUDITOR | ADMIN, NONE, DN, "donation.report", 200,
     NULL, false},
    /* statements and period close (issue 6) */
    {"POST", "/v1/settlement/periods/{period}/close", ADMIN, REQ, ST, "settlement.close_period",
     200, NULL, false},
    {"GET", "/v1/statements/{period}", PARTNER | AUDITOR | ADMIN, NONE, ST,
     "settlement.statement", 200, NULL, false, .csv = "lines"},
    {"GET", "/v1/audit/reconcile/{period}", AUDITOR | ADMIN, NONE, ST, "settlement.reconcile", 200,
     NULL, false},
    /* finance audit and four-eyes adjustments (issue 6) */
    {"GET", "/v1/audit/trial-balance", AUDITOR | ADMIN, NONE, ST,
     "settlement.audit_trial_balance", 200, NULL, false},
    {"GET", "/v1/audit/journal", AUDITOR | ADMIN, NONE, ST, "settlement.audit_journal", 200, NULL,
     false, .csv = "entries"},
    {"GET", "/v1/audit/verify", AUDITOR | ADMIN, NONE, ST, "settlement.audit_verify", 200, NULL,
     false},
    {"GET", "/v1/audit/liability", AUDITOR | ADMIN, NONE, ST, "settlement.audit_liability", 200,
     NULL, false},
    {"GET", "/v1/audit/admin-log", AUDITOR | ADMIN, NONE, GW_SVC_NONE, NULL, 200,
     gw_admin_log_list, false, .csv = "entries"},
    {"GET", "/v1/audit/admin-log/verify", AUDITOR | ADMIN, NONE, GW_SVC_NONE, NULL, 200,
     gw_admin_log_verify, false},
    {"POST", "/v1/adjustments", ADMIN, REQ, ST, "settlement.propose_adjustment", 201, NULL, false},
    {"POST", "/v1/adjustments/{id}/approve", ADMIN, REQ, ST, "settlement.approve_adjustment", 200,
     NULL, false},
    {"GET", "/v1/adjustments/{id}", AUDITOR | ADMIN, NONE, ST, "settlement.get_adjustment", 200,
     NULL, false},
};
#pragma GCC diagnostic pop
const int gw_nroutes = (int)(sizeof gw_routes / sizeof gw_routes[0]);

const char *const gw_route_labels[] = {
    "POST /v1/partners",
    "GET /v1/partners",
    "GET /v1/partners/{id}",
    "POST /v1/partners/{id}/keys",
    "DELETE /v1/partners/{id}/keys/{key_id}",
    "POST /v1/partners/{id}/prepayments",
    "POST /v1/keys",
    "POST /v1/coupons",
    "POST /v1/members/{id}/freeze",
    "POST /v1/members/{id}/unfreeze",
    "DELETE /v1/members/{id}/personal-data",
    "POST /v1/members",
    "POST /v1/members/{id}/cards",
    "GET /v1/cards/{card_number}/balance",
    "POST /v1/earn",
    "POST /v1/redemptions",
    "POST /v1/redemptions/{id}/capture",
    "POST /v1/redemptions/{id}/void",
    "POST /v1/redemptions/{id}/refund",
    "POST /v1/returns",
    "POST /v1/grants",
    "GET /v1/members/{id}",
    "POST /v1/members/{id}/codes",
    "POST /v1/members/{id}/consents",
    "GET /v1/members/{id}/export",
    "GET /v1/members/{id}/history",
    "POST /v1/members/{id}/coupons/{code}/activate",
    "POST /v1/charities",
    "POST /v1/campaigns",
    "GET /v1/charities",
    "GET /v1/campaigns",
    "POST /v1/donations",
    "GET /v1/donations/{id}/receipt",
    "GET /v1/keys/receipts",
    "POST /v1/pledges",
    "DELETE /v1/pledges/{id}",
    "POST /v1/donations/pledges/run/{period}",
    "POST /v1/donations/payouts/{period}",
    "GET /v1/donations/report/{period}",
    "POST /v1/settlement/periods/{period}/close",
    "GET /v1/statements/{period}",
    "GET /v1/audit/reconcile/{period}",
    "GET /v1/audit/trial-balance",
    "GET /v1/audit/journal",
    "GET /v1/audit/verify",
    "GET /v1/audit/liability",
    "GET /v1/audit/admin-log",
    "GET /v1/audit/admin-log/verify",
    "POST /v1/adjustments",
    "POST /v1/adjustments/{id}/approve",
    "GET /v1/adjustments/{id}",
};
_Static_assert(sizeof gw_route_labels / sizeof gw_route_labels[0] ==
                   sizeof gw_routes / sizeof gw_routes[0],
               "one metrics label per route");

#define SEGMENT_MAX 256

/* Matches path against pattern, capturing {name} segments into params. */
static bool s_match(const char *pattern, const char *path, json_t *params)
{
    const char *p = pattern, *s = path;
    while (*p && *s) {
        if (*p != '/' || *s != '/')
            return false;
        p++;
        s++;
        size_t plen = strcspn(p, "/"), slen = strcspn(s, "/");
        if (slen == 0 || slen >= SEGMENT_MAX)
            return false;
        if (p[0] == '{') {
            char name[64], value[SEGMENT_MAX];
            snprintf(name, sizeof name, "%.*s", (int)(plen - 2), p + 1);
            snprintf(value, sizeof value, "%.*s", (int)slen, s);
            /* A segment that is not UTF-8 names nothing: no match, rather than a
             * match whose parameter is missing. */
            if (json_object_set_new(params, name, json_string(value)) != 0)
                return false;
        } else if (plen != slen || strncmp(p, s, plen)) {
            return false;
        }
        p += plen;
        s += slen;
    }
    return !*p && !*s;
}

int gw_route_match(const char *method, const char *path, json_t **params, bool *path_known)
{
    *path_known = false;
    *params = NULL;
    for (int i = 0; i < gw_nroutes; i++) {
        json_t *captured = json_object();
        if (!captured)
            return -1;
        if (s_match(gw_routes[i].pattern, path, captured)) {
            if (!strcmp(gw_routes[i].method, method)) {
                *params = captured;
                return i;
            }
            *path_known = true;
        }
        json_decref(captured);
    }
    return -1;
}

void gw_resp_json(gw_resp_t *out, int status, json_t *body)
{
    free(out->body);
    out->status = status;
    out->body = body ? json_dumps(body, JSON_COMPACT) : NULL;
    if (body && !out->body) {
        out->status = 500;
        out->body = strdup("{\"error\":{\"code\":\"internal\",\"message\":\"out of memory\"}}");
    }
    json_decref(body);
}

void gw_resp_error(gw_resp_t *out, const char *code, const char *request_id, const char *fmt,
                   ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    gw_resp_json(out, lc_api_http_status(code),
                 json_pack("{s:{s:s, s:s, s:s}}", "error", "code", code, "message", msg,
                           "request_id", request_id ? request_id : ""));
}

void gw_resp_clear(gw_resp_t *out)
{
    free(out->body);
    memset(out, 0, sizeof *out);
}
