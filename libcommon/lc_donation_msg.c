/*
 * lc_donation_msg.c: codec tables for the donation service's messages.
 * proto/donation.json is the published form of these tables;
 * tests/unit/test_donation_msg.c fails when the two disagree.
 */
#include "lc_donation_msg.h"

#include <string.h>

#define N(a) (sizeof(a) / sizeof((a)[0]))

const lc_name_t dn_campaign_status_names[] = {
    {"scheduled", DN_CAMPAIGN_SCHEDULED},
    {"open", DN_CAMPAIGN_OPEN},
    {"closed", DN_CAMPAIGN_CLOSED},
    {NULL, 0},
};

const lc_name_t dn_pledge_status_names[] = {
    {"active", DN_PLEDGE_ACTIVE},
    {"cancelled", DN_PLEDGE_CANCELLED},
    {NULL, 0},
};

const lc_name_t dn_run_status_names[] = {
    {"donated", DN_RUN_DONATED},
    {"skipped", DN_RUN_SKIPPED},
    {NULL, 0},
};

const lc_name_t dn_period_status_names[] = {
    {"open", DN_PERIOD_OPEN},
    {"ended", DN_PERIOD_ENDED},
    {"paid_out", DN_PERIOD_PAID_OUT},
    {NULL, 0},
};

#define ID_F(st, m, n, fl, d)                                                                      \
    {                                                                                              \
        LC_F(st, m, n, LC_FT_ID, fl), .doc = d                                                     \
    }
#define I64_F(st, m, n, fl, lo, hi, d)                                                             \
    {                                                                                              \
        LC_F(st, m, n, LC_FT_I64, fl), .min = lo, .max = hi, .doc = d                              \
    }
#define STR_F(st, m, n, fl, mx, d)                                                                 \
    {                                                                                              \
        LC_F(st, m, n, LC_FT_STR, fl), .max = mx, .doc = d                                         \
    }
#define BOOL_F(st, m, n, fl, d)                                                                    \
    {                                                                                              \
        LC_F(st, m, n, LC_FT_BOOL, fl), .doc = d                                                   \
    }
#define TIME_F(st, m, n, fl, d)                                                                    \
    {                                                                                              \
        LC_F(st, m, n, LC_FT_TIME, fl), .doc = d                                                   \
    }
#define ENUM_F(st, m, n, fl, t, d)                                                                 \
    {                                                                                              \
        LC_F(st, m, n, LC_FT_ENUM, fl), .names = t, .doc = d                                       \
    }
#define OBJ_F(st, m, n, fl, sd, d)                                                                 \
    {                                                                                              \
        LC_F(st, m, n, LC_FT_OBJ, fl), .sub = &sd, .doc = d                                        \
    }
#define ARR_F(st, m, cnt, n, fl, sd, mn, mx, d)                                                    \
    {                                                                                              \
        LC_F(st, m, n, LC_FT_ARRAY, fl), .sub = &sd, .count_offset = offsetof(st, cnt), .min = mn, \
                                         .max = mx, .doc = d                                       \
    }
#define DESC(var, st, tbl) const lc_msgdesc_t var = {#st, sizeof(st), tbl, N(tbl)}

#define REQ LC_FF_REQUIRED
#define ALW LC_FF_ALWAYS
#define PTS LC_API_POINTS_MAX

/* ---- charities and campaigns ------------------------------------------------------- */

static const lc_field_t charity_req_fields[] = {
    STR_F(dn_charity_req_t, name, "name", REQ, DN_NAME_MAX, "display name, 1 to 200 bytes"),
    STR_F(dn_charity_req_t, registration_no, "registration_no", REQ, DN_REGNO_MAX,
          "official registration number, unique among charities"),
    BOOL_F(dn_charity_req_t, verified, "verified", 0,
           "checked by the admin; absent = true; an unverified charity receives nothing"),
    STR_F(dn_charity_req_t, payout_account, "payout_account", 0, DN_PAYOUT_ACCOUNT_MAX,
          "where payouts go (e.g. an IBAN)"),
};
DESC(dn_charity_req_desc, dn_charity_req_t, charity_req_fields);

static const lc_field_t charity_fields[] = {
    ID_F(dn_charity_t, id, "id", REQ, "charity id"),
    STR_F(dn_charity_t, name, "name", REQ, DN_NAME_MAX, "display name"),
    STR_F(dn_charity_t, registration_no, "registration_no", REQ, DN_REGNO_MAX,
          "registration number"),
    BOOL_F(dn_charity_t, verified, "verified", ALW, "may receive donations"),
    STR_F(dn_charity_t, payout_account, "payout_account", 0, DN_PAYOUT_ACCOUNT_MAX,
          "where payouts go"),
    ID_F(dn_charity_t, account_id, "account_id", REQ, "its ledger account (kind charity)"),
    TIME_F(dn_charity_t, created_at, "created_at", REQ, "when it was registered"),
};
DESC(dn_charity_desc, dn_charity_t, charity_fields);

static const lc_field_t charity_list_fields[] = {
    ARR_F(dn_charity_list_t, data, ndata, "data", ALW, dn_charity_desc, 0, LC_API_LIST_MAX,
          "charities in id order"),
    BOOL_F(dn_charity_list_t, has_more, "has_more", ALW,
           "more after the last one: pass its id as starting_after"),
};
DESC(dn_charity_list_desc, dn_charity_list_t, charity_list_fields);

static const lc_field_t match_fields[] = {
    ID_F(dn_match_t, partner_id, "partner_id", REQ, "the matching partner"),
    I64_F(dn_match_t, ratio_bps, "ratio_bps", REQ, 1, DN_RATIO_BPS_MAX,
          "match = floor(points x ratio_bps / 10000); 10000 = one for one"),
    I64_F(dn_match_t, cap_points, "cap_points", REQ, 1, PTS,
          "all matches of the campaign together at most this"),
};
DESC(dn_match_desc, dn_match_t, match_fields);

static const lc_field_t match_view_fields[] = {
    ID_F(dn_match_t, partner_id, "partner_id", 0, "the matching partner; absent: no matching"),
    I64_F(dn_match_t, ratio_bps, "ratio_bps", 0, 0, DN_RATIO_BPS_MAX, "basis points"),
    I64_F(dn_match_t, cap_points, "cap_points", 0, 0, PTS, "cap of all matches"),
};
const lc_msgdesc_t dn_match_view_desc = {"dn_match_view_t", sizeof(dn_match_t), match_view_fields,
                                          N(match_view_fields)};

static const lc_field_t campaign_req_fields[] = {
    ID_F(dn_campaign_req_t, charity_id, "charity_id", REQ, "the charity it raises for"),
    STR_F(dn_campaign_req_t, name, "name", REQ, DN_NAME_MAX, "display name, 1 to 200 bytes"),
    I64_F(dn_campaign_req_t, goal_points, "goal_points", REQ, 1, PTS,
          "the goal (informational: reaching it does not close the campaign)"),
    TIME_F(dn_campaign_req_t, starts_at, "starts_at", REQ, "donations accepted from"),
    TIME_F(dn_campaign_req_t, ends_at, "ends_at", REQ, "donations accepted until (exclusive)"),
    OBJ_F(dn_campaign_req_t, match, "match", 0, dn_match_desc,
          "optional partner matching"),
};
DESC(dn_campaign_req_desc, dn_campaign_req_t, campaign_req_fields);

static const lc_field_t campaign_fields[] = {
    ID_F(dn_campaign_t, id, "id", REQ, "campaign id"),
    ID_F(dn_campaign_t, charity_id, "charity_id", REQ, "the charity"),
    STR_F(dn_campaign_t, name, "name", REQ, DN_NAME_MAX, "display name"),
    I64_F(dn_campaign_t, goal_points, "goal_points", ALW, 0, PTS, "the goal"),
    TIME_F(dn_campaign_t, starts_at, "starts_at", REQ, "window start"),
    TIME_F(dn_campaign_t, ends_at, "ends_at", REQ, "window end (exclusive)"),
    OBJ_F(dn_campaign_t, match, "match", ALW, dn_match_view_desc,
          "partner matching ({} when none)"),
    I64_F(dn_campaign_t, raised_points, "raised_points", ALW, 0, INT64_MAX,
          "members' points donated"),
    I64_F(dn_campaign_t, matched_points, "matched_points", ALW, 0, INT64_MAX,
          "points matched so far (never above match.cap_points)"),
    ENUM_F(dn_campaign_t, status, "status", REQ, dn_campaign_status_names,
           "scheduled, open or closed, now"),
    TIME_F(dn_campaign_t, created_at, "created_at", REQ, "when it was created"),
};
DESC(dn_campaign_desc, dn_campaign_t, campaign_fields);

static const lc_field_t campaign_list_fields[] = {
    ARR_F(dn_campaign_list_t, data, ndata, "data", ALW, dn_campaign_desc, 0, LC_API_LIST_MAX,
          "campaigns in id order"),
    BOOL_F(dn_campaign_list_t, has_more, "has_more", ALW,
           "more after the last one: pass its id as starting_after"),
};
DESC(dn_campaign_list_desc, dn_campaign_list_t, campaign_list_fields);

/* ---- donations and receipts -------------------------------------------------------- */

static const lc_field_t donate_req_fields[] = {
    ID_F(dn_donate_req_t, member_id, "member_id", REQ, "the donating member"),
    ID_F(dn_donate_req_t, charity_id, "charity_id", 0,
         "a charity; exactly one of charity_id, campaign_id, pool"),
    ID_F(dn_donate_req_t, campaign_id, "campaign_id", 0, "a campaign (its charity receives)"),
    BOOL_F(dn_donate_req_t, pool, "pool", 0,
           "true: the shared pool, split among the period's campaigns at payout"),
    I64_F(dn_donate_req_t, points, "points", REQ, 1, PTS,
          "points given; at least the coalition minimum"),
};
DESC(dn_donate_req_desc, dn_donate_req_t, donate_req_fields);

static const lc_field_t receipt_fields[] = {
    ID_F(dn_receipt_t, donation_id, "donation_id", REQ, "the donation"),
    STR_F(dn_receipt_t, key_id, "key_id", REQ, DN_KEY_ID_MAX, "the signing key"),
    STR_F(dn_receipt_t, payload, "payload", REQ, DN_RECEIPT_MAX,
          "base64 of the exact signed bytes (a JSON document)"),
    STR_F(dn_receipt_t, signature, "signature", REQ, 128,
          "base64 of the Ed25519 signature of those bytes"),
};
DESC(dn_receipt_desc, dn_receipt_t, receipt_fields);

static const lc_field_t receipt_payload_fields[] = {
    ID_F(dn_receipt_payload_t, donation_id, "donation_id", REQ, "the donation"),
    ID_F(dn_receipt_payload_t, member_id, "member_id", REQ, "the donor"),
    ID_F(dn_receipt_payload_t, charity_id, "charity_id", 0, "the charity; absent for the pool"),
    ID_F(dn_receipt_payload_t, campaign_id, "campaign_id", 0, "the campaign, if any"),
    BOOL_F(dn_receipt_payload_t, pool, "pool", ALW, "given to the shared pool"),
    I64_F(dn_receipt_payload_t, points, "points", ALW, 0, PTS, "the member's points"),
    I64_F(dn_receipt_payload_t, matched_points, "matched_points", ALW, 0, PTS,
          "the partner's match"),
    OBJ_F(dn_receipt_payload_t, value, "value", REQ, lc_money_desc,
          "points x point value"),
    TIME_F(dn_receipt_payload_t, time, "time", REQ, "when the ledger booked it"),
};
DESC(dn_receipt_payload_desc, dn_receipt_payload_t, receipt_payload_fields);

static const lc_field_t donation_fields[] = {
    ID_F(dn_donation_t, id, "id", REQ, "donation id"),
    ID_F(dn_donation_t, member_id, "member_id", REQ, "the donor"),
    ID_F(dn_donation_t, charity_id, "charity_id", 0, "the receiving charity; absent for the pool"),
    ID_F(dn_donation_t, campaign_id, "campaign_id", 0, "the campaign, if any"),
    BOOL_F(dn_donation_t, pool, "pool", ALW, "given to the shared pool"),
    I64_F(dn_donation_t, points, "points", ALW, 0, PTS, "the member's points"),
    I64_F(dn_donation_t, matched_points, "matched_points", ALW, 0, PTS,
          "the partner's match (rounded down, within the cap)"),
    OBJ_F(dn_donation_t, value, "value", REQ, lc_money_desc,
          "points x point value (the member's gift)"),
    OBJ_F(dn_donation_t, receipt, "receipt", REQ, dn_receipt_desc, "the signed receipt"),
    TIME_F(dn_donation_t, created_at, "created_at", REQ, "when the ledger booked it"),
};
DESC(dn_donation_desc, dn_donation_t, donation_fields);

static const lc_field_t receipt_key_fields[] = {
    STR_F(dn_receipt_key_t, key_id, "key_id", REQ, DN_KEY_ID_MAX, "key id"),
    STR_F(dn_receipt_key_t, public_key_pem, "public_key_pem", REQ, DN_PEM_MAX,
          "Ed25519 public key, PEM (SubjectPublicKeyInfo)"),
};
DESC(dn_receipt_key_desc, dn_receipt_key_t, receipt_key_fields);

static const lc_field_t receipt_keys_fields[] = {
    STR_F(dn_receipt_keys_t, key_id, "key_id", REQ, DN_KEY_ID_MAX, "the current signing key"),
    STR_F(dn_receipt_keys_t, public_key_pem, "public_key_pem", REQ, DN_PEM_MAX,
          "its public key, PEM"),
    ARR_F(dn_receipt_keys_t, keys, nkeys, "keys", ALW, dn_receipt_key_desc, 0, DN_KEYS_MAX,
          "every key, current first, so receipts signed before a rotation verify"),
};
DESC(dn_receipt_keys_desc, dn_receipt_keys_t, receipt_keys_fields);

/* ---- pledges ------------------------------------------------------------------------ */

static const lc_field_t pledge_req_fields[] = {
    ID_F(dn_pledge_req_t, member_id, "member_id", REQ, "the member"),
    ID_F(dn_pledge_req_t, charity_id, "charity_id", REQ, "the charity (verified)"),
    I64_F(dn_pledge_req_t, points, "points", REQ, 1, PTS,
          "points a month; at least the coalition minimum"),
};
DESC(dn_pledge_req_desc, dn_pledge_req_t, pledge_req_fields);

static const lc_field_t pledge_fields[] = {
    ID_F(dn_pledge_t, id, "id", REQ, "pledge id"),
    ID_F(dn_pledge_t, member_id, "member_id", REQ, "the member"),
    ID_F(dn_pledge_t, charity_id, "charity_id", REQ, "the charity"),
    I64_F(dn_pledge_t, points, "points", ALW, 0, PTS, "points a month"),
    ENUM_F(dn_pledge_t, status, "status", REQ, dn_pledge_status_names, "active or cancelled"),
    TIME_F(dn_pledge_t, created_at, "created_at", REQ, "when it was made"),
    TIME_F(dn_pledge_t, cancelled_at, "cancelled_at", 0, "when it was cancelled"),
};
DESC(dn_pledge_desc, dn_pledge_t, pledge_fields);

static const lc_field_t pledge_run_fields[] = {
    ID_F(dn_pledge_run_t, pledge_id, "pledge_id", REQ, "the pledge"),
    ENUM_F(dn_pledge_run_t, status, "status", REQ, dn_run_status_names, "donated or skipped"),
    STR_F(dn_pledge_run_t, reason, "reason", 0, DN_REASON_MAX,
          "skipped: why (an API error code, e.g. insufficient_points)"),
    ID_F(dn_pledge_run_t, donation_id, "donation_id", 0, "donated: the donation"),
    I64_F(dn_pledge_run_t, points, "points", ALW, 0, PTS, "points donated (0 when skipped)"),
};
DESC(dn_pledge_run_desc, dn_pledge_run_t, pledge_run_fields);

static const lc_field_t pledge_runs_fields[] = {
    STR_F(dn_pledge_runs_t, period, "period", REQ, DN_PERIOD_MAX, "the month, YYYY-MM"),
    I64_F(dn_pledge_runs_t, donated, "donated", ALW, 0, INT64_MAX, "pledges donated"),
    I64_F(dn_pledge_runs_t, skipped, "skipped", ALW, 0, INT64_MAX, "pledges skipped"),
    ARR_F(dn_pledge_runs_t, runs, nruns, "runs", ALW, dn_pledge_run_desc, 0, DN_LINES_MAX,
          "one per pledge of the month (a repeated run answers the same)"),
};
DESC(dn_pledge_runs_desc, dn_pledge_runs_t, pledge_runs_fields);

/* ---- payouts and reports ------------------------------------------------------------ */

static const lc_field_t charity_line_fields[] = {
    ID_F(dn_charity_line_t, charity_id, "charity_id", REQ, "the charity"),
    I64_F(dn_charity_line_t, donated_points, "donated_points", ALW, 0, INT64_MAX,
          "members' points"),
    I64_F(dn_charity_line_t, matched_points, "matched_points", ALW, 0, INT64_MAX,
          "partners' matches"),
    I64_F(dn_charity_line_t, pooled_points, "pooled_points", ALW, 0, INT64_MAX,
          "its campaigns' shares of the pool"),
    I64_F(dn_charity_line_t, points, "points", ALW, 0, INT64_MAX, "the sum, paid out"),
    OBJ_F(dn_charity_line_t, value, "value", REQ, lc_money_desc, "points x point value"),
};
DESC(dn_charity_line_desc, dn_charity_line_t, charity_line_fields);

static const lc_field_t campaign_line_fields[] = {
    ID_F(dn_campaign_line_t, campaign_id, "campaign_id", REQ, "the campaign"),
    ID_F(dn_campaign_line_t, charity_id, "charity_id", REQ, "its charity"),
    I64_F(dn_campaign_line_t, donated_points, "donated_points", ALW, 0, INT64_MAX,
          "members' points"),
    I64_F(dn_campaign_line_t, matched_points, "matched_points", ALW, 0, INT64_MAX,
          "partner's match"),
    I64_F(dn_campaign_line_t, pooled_points, "pooled_points", ALW, 0, INT64_MAX,
          "its share of the pool"),
    I64_F(dn_campaign_line_t, points, "points", ALW, 0, INT64_MAX, "the sum"),
    OBJ_F(dn_campaign_line_t, value, "value", REQ, lc_money_desc, "points x point value"),
};
DESC(dn_campaign_line_desc, dn_campaign_line_t, campaign_line_fields);

static const lc_field_t report_fields[] = {
    STR_F(dn_report_t, period, "period", REQ, DN_PERIOD_MAX, "the month, YYYY-MM"),
    ENUM_F(dn_report_t, status, "status", REQ, dn_period_status_names,
           "open, ended or paid_out"),
    ARR_F(dn_report_t, charities, ncharities, "charities", ALW, dn_charity_line_desc, 0,
          DN_LINES_MAX, "per charity, in id order"),
    ARR_F(dn_report_t, campaigns, ncampaigns, "campaigns", ALW, dn_campaign_line_desc, 0,
          DN_LINES_MAX, "per campaign, in id order"),
    I64_F(dn_report_t, pool_donated_points, "pool_donated_points", ALW, 0, INT64_MAX,
          "donated to the pool in the period"),
    I64_F(dn_report_t, pool_allocated_points, "pool_allocated_points", ALW, 0, INT64_MAX,
          "shared among the period's campaigns, in proportion to what they raised"),
    I64_F(dn_report_t, pool_unallocated_points, "pool_unallocated_points", ALW, 0, INT64_MAX,
          "no campaign raised anything: these stay in the pool account"),
    I64_F(dn_report_t, total_points, "total_points", ALW, 0, INT64_MAX,
          "sum of the charities' points"),
    OBJ_F(dn_report_t, total_value, "total_value", REQ, lc_money_desc, "their value"),
};
DESC(dn_report_desc, dn_report_t, report_fields);

const lc_msgdesc_t dn_empty_desc = {"dn_empty_t", sizeof(dn_empty_t), NULL, 0};

const dn_msgtype_t dn_msgtypes[] = {
    {DN_TYPE_PING, &dn_empty_desc, &dn_empty_desc, "liveness (internal, plain body)"},
    {DN_TYPE_RECEIPT_KEYS, &dn_empty_desc, &dn_receipt_keys_desc,
     "API GET /v1/keys/receipts (public, no key): the receipt signing keys; the body is not "
     "read"},
    {DN_TYPE_CREATE_CHARITY, &dn_charity_req_desc, &dn_charity_desc,
     "API POST /v1/charities (admin): a charity and its ledger account. Errors: "
     "invalid_request, conflict (registration_no taken)"},
    {DN_TYPE_LIST_CHARITIES, &dn_empty_desc, &dn_charity_list_desc,
     "API GET /v1/charities (app, admin, auditor); query limit (1..1000, default 100), "
     "starting_after"},
    {DN_TYPE_CREATE_CAMPAIGN, &dn_campaign_req_desc, &dn_campaign_desc,
     "API POST /v1/campaigns (admin). Errors: invalid_request (window), not_found (charity, "
     "partner)"},
    {DN_TYPE_LIST_CAMPAIGNS, &dn_empty_desc, &dn_campaign_list_desc,
     "API GET /v1/campaigns (app, admin, auditor); query limit, starting_after, charity_id"},
    {DN_TYPE_DONATE, &dn_donate_req_desc, &dn_donation_desc,
     "API POST /v1/donations (app; idempotency key required): member points and the match in "
     "one linked ledger chain, with a signed receipt. Errors: invalid_request, not_found, "
     "conflict (unverified charity, campaign not open), below_redemption_threshold, "
     "insufficient_points, member_frozen, partner_budget_exhausted"},
    {DN_TYPE_GET_RECEIPT, &dn_empty_desc, &dn_receipt_desc,
     "API GET /v1/donations/{id}/receipt (app): the signed receipt. Errors: not_found"},
    {DN_TYPE_CREATE_PLEDGE, &dn_pledge_req_desc, &dn_pledge_desc,
     "API POST /v1/pledges (app; idempotency key required): N points a month to a charity. "
     "Errors: invalid_request, not_found, conflict (unverified), below_redemption_threshold"},
    {DN_TYPE_CANCEL_PLEDGE, &dn_empty_desc, &dn_pledge_desc,
     "API DELETE /v1/pledges/{id} (app): cancel; cancelling again answers the same. Errors: "
     "not_found"},
    {DN_TYPE_RUN_PLEDGES, &dn_empty_desc, &dn_pledge_runs_desc,
     "API POST /v1/donations/pledges/run/{period} (admin): donate every active pledge once "
     "for the month. Errors: invalid_request (period), conflict (month not begun)"},
    {DN_TYPE_PAYOUT, &dn_empty_desc, &dn_report_desc,
     "API POST /v1/donations/payouts/{period} (admin): book the month's payout per charity; "
     "idempotent per period. Errors: invalid_request (period), conflict (month not ended)"},
    {DN_TYPE_REPORT, &dn_empty_desc, &dn_report_desc,
     "API GET /v1/donations/report/{period} (auditor, admin): per charity and campaign. "
     "Errors: invalid_request (period)"},
    {NULL, NULL, NULL, NULL},
};

const dn_msgtype_t *dn_msgtype_find(const char *type)
{
    for (const dn_msgtype_t *t = dn_msgtypes; t->type; t++)
        if (strcmp(t->type, type) == 0)
            return t;
    return NULL;
}

static const char s_namespace[] = "coalition/donation";

void dn_pool_account(lc_id_t *out)
{
    lc_id_derive_bytes(s_namespace, sizeof s_namespace - 1, "pool", out);
}

void dn_clearing_account(lc_id_t *out)
{
    lc_id_derive_bytes(s_namespace, sizeof s_namespace - 1, "payout_clearing", out);
}

void dn_charity_account(const lc_id_t *charity, lc_id_t *out)
{
    lc_id_derive(charity, "charity", out);
}
