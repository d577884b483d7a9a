/*
 * lc_settlement_msg.c: codec tables for the settlement service's messages and for
 * the members calls it makes. proto/settlement.json is the published form of these
 * tables; tests/unit/test_settlement_msg.c fails when the two disagree.
 */
#include "lc_settlement_msg.h"
#include "lc_tiers.h"
#include "lc_codec_macros.h"
#include "lc_err.h"

#include <string.h>

const lc_name_t st_funding_names[] = {
    {"postpaid", ST_FUNDING_POSTPAID},
    {"prepaid", ST_FUNDING_PREPAID},
    {NULL, 0},
};

const lc_name_t st_earn_status_names[] = {
    {"posted", ST_EARN_POSTED},
    {"pending", ST_EARN_PENDING},
    {NULL, 0},
};

const lc_name_t st_redemption_status_names[] = {
    {"authorized", ST_RED_AUTHORIZED},
    {"captured", ST_RED_CAPTURED},
    {"voided", ST_RED_VOIDED},
    {"expired", ST_RED_EXPIRED},
    {NULL, 0},
};

const lc_name_t st_grant_reason_names[] = {
    {"survey", ST_GRANT_SURVEY},
    {"referral", ST_GRANT_REFERRAL},
    {"goodwill", ST_GRANT_GOODWILL},
    {NULL, 0},
};

const lc_name_t st_coupon_reason_names[] = {
    {"unknown_coupon", ST_COUPON_UNKNOWN},
    {"not_activated", ST_COUPON_NOT_ACTIVATED},
    {"outside_window", ST_COUPON_OUTSIDE_WINDOW},
    {"wrong_partner", ST_COUPON_WRONG_PARTNER},
    {"used_up", ST_COUPON_USED_UP},
    {"pending_earn", ST_COUPON_PENDING_EARN},
    {"duplicate", ST_COUPON_DUPLICATE},
    {NULL, 0},
};

const lc_name_t st_coupon_kind_names[] = {
    {"multiplier", ST_COUPON_MULTIPLIER},
    {"bonus", ST_COUPON_BONUS},
    {NULL, 0},
};

const lc_name_t st_funder_names[] = {
    {"partner", ST_FUNDER_PARTNER},
    {"coalition", ST_FUNDER_COALITION},
    {"supplier", ST_FUNDER_SUPPLIER},
    {NULL, 0},
};

const lc_name_t st_member_status_names[] = {
    {"active", ST_MEMBER_ACTIVE},
    {"frozen", ST_MEMBER_FROZEN},
    {NULL, 0},
};

#define PTS LC_API_POINTS_MAX

static const lc_field_t earn_rate_fields[] = {
    I64_F(st_earn_rate_t, points, "points", REQ, 1, 1000000, "points per per_amount cents"),
    I64_F(st_earn_rate_t, per_amount, "per_amount", REQ, 1, PTS,
          "cents; {1, 200} = 1 point per 2.00 EUR"),
};
DESC(st_earn_rate_desc, st_earn_rate_t, earn_rate_fields);

static const lc_field_t tariff_fields[] = {
    I64_F(st_tariff_t, issue_price_micros, "issue_price_micros", ALW, 0, 1000000000,
          "micro-euros the partner pays per point issued"),
    I64_F(st_tariff_t, redeem_credit_micros, "redeem_credit_micros", ALW, 0, 1000000000,
          "micro-euros credited to the partner per point redeemed"),
    I64_F(st_tariff_t, fee_bps, "fee_bps", ALW, 0, ST_FEE_BPS_MAX, "coalition fee, basis points"),
};
DESC(st_tariff_desc, st_tariff_t, tariff_fields);

static const lc_field_t create_partner_fields[] = {
    STR_F(st_create_partner_req_t, name, "name", REQ, ST_NAME_MAX, "display name, 1 to 200 bytes"),
    OBJ_F(st_create_partner_req_t, earn_rate, "earn_rate", REQ, st_earn_rate_desc,
          "base earn rule"),
    I64_F(st_create_partner_req_t, pending_days, "pending_days", 0, 0, ST_PENDING_DAYS_MAX,
          "days until earned points can be spent; 0 = at once"),
    OBJ_F(st_create_partner_req_t, tariff, "tariff", REQ, st_tariff_desc, "prices"),
    ENUM_F(st_create_partner_req_t, funding, "funding", REQ, st_funding_names,
           "postpaid or prepaid"),
    STRS_F(st_create_partner_req_t, excluded_categories, nexcluded_categories,
           "excluded_categories", 0, 0, ST_CATEGORIES_MAX, ST_CATEGORY_MAX,
           "item categories that earn nothing"),
};
DESC(st_create_partner_req_desc, st_create_partner_req_t, create_partner_fields);

static const lc_field_t partner_fields[] = {
    ID_F(st_partner_t, id, "id", REQ, "partner id"),
    STR_F(st_partner_t, name, "name", REQ, ST_NAME_MAX, "display name"),
    OBJ_F(st_partner_t, earn_rate, "earn_rate", REQ, st_earn_rate_desc, "base earn rule"),
    I64_F(st_partner_t, pending_days, "pending_days", ALW, 0, ST_PENDING_DAYS_MAX,
          "days until earned points can be spent"),
    OBJ_F(st_partner_t, tariff, "tariff", REQ, st_tariff_desc, "prices"),
    ENUM_F(st_partner_t, funding, "funding", REQ, st_funding_names, "postpaid or prepaid"),
    STRS_F(st_partner_t, excluded_categories, nexcluded_categories, "excluded_categories", ALW, 0,
           ST_CATEGORIES_MAX, ST_CATEGORY_MAX, "item categories that earn nothing"),
    I64_F(st_partner_t, budget_points, "budget_points", ALW, INT64_MIN, INT64_MAX,
          "prepaid: points it may still issue (0 for postpaid partners)"),
    TIME_F(st_partner_t, created_at, "created_at", REQ, "when it was created"),
};
DESC(st_partner_desc, st_partner_t, partner_fields);

static const lc_field_t partner_list_fields[] = {
    ARR_F(st_partner_list_t, data, ndata, "data", ALW, st_partner_desc, 0, LC_API_LIST_MAX,
          "partners in id order"),
    BOOL_F(st_partner_list_t, has_more, "has_more", ALW,
           "more after the last one: pass its id as starting_after"),
};
DESC(st_partner_list_desc, st_partner_list_t, partner_list_fields);

static const lc_field_t prepay_req_fields[] = {
    I64_F(st_prepay_req_t, points, "points", REQ, 1, PTS, "points bought"),
};
DESC(st_prepay_req_desc, st_prepay_req_t, prepay_req_fields);

static const lc_field_t prepay_rep_fields[] = {
    ID_F(st_prepay_rep_t, partner_id, "partner_id", REQ, "the partner"),
    I64_F(st_prepay_rep_t, points, "points", ALW, 0, PTS, "points bought"),
    I64_F(st_prepay_rep_t, budget_points, "budget_points", ALW, INT64_MIN, INT64_MAX,
          "points it may issue now"),
};
DESC(st_prepay_rep_desc, st_prepay_rep_t, prepay_rep_fields);

static const lc_field_t earn_item_fields[] = {
    STR_F(st_earn_item_t, sku, "sku", 0, ST_CATEGORY_MAX, "article number"),
    STR_F(st_earn_item_t, category, "category", REQ, ST_CATEGORY_MAX, "matched against "
                                                                       "excluded_categories"),
    I64_F(st_earn_item_t, amount, "amount", REQ, 0, PTS, "cents, part of the receipt amount"),
};
DESC(st_earn_item_desc, st_earn_item_t, earn_item_fields);

static const lc_field_t earn_req_fields[] = {
    STR_F(st_earn_req_t, card_number, "card_number", REQ, ST_CARD_MAX, "the member's card"),
    STR_F(st_earn_req_t, receipt_id, "receipt_id", REQ, ST_RECEIPT_MAX, "the partner's receipt"),
    OBJ_F(st_earn_req_t, amount, "amount", REQ, lc_money_desc, "receipt total"),
    ARR_F(st_earn_req_t, items, nitems, "items", 0, st_earn_item_desc, 0, ST_ITEMS_MAX,
          "line items; their sum must not exceed amount"),
    STRS_F(st_earn_req_t, coupon_codes, ncoupon_codes, "coupon_codes", 0, 0, ST_COUPONS_MAX,
           ST_CATEGORY_MAX, "coupons presented"),
};
DESC(st_earn_req_desc, st_earn_req_t, earn_req_fields);

static const lc_field_t coupon_rejected_fields[] = {
    STR_F(st_coupon_rejected_t, code, "code", REQ, ST_CATEGORY_MAX, "the coupon code"),
    ENUM_F(st_coupon_rejected_t, reason, "reason", REQ, st_coupon_reason_names, "why"),
};
DESC(st_coupon_rejected_desc, st_coupon_rejected_t, coupon_rejected_fields);

static const lc_field_t earn_rep_fields[] = {
    ID_F(st_earn_rep_t, id, "id", REQ, "earn id (use it for returns)"),
    I64_F(st_earn_rep_t, points, "points", ALW, 0, PTS, "base points, rounded down"),
    I64_F(st_earn_rep_t, bonus_points, "bonus_points", ALW, 0, PTS, "coupon and tier bonuses"),
    ENUM_F(st_earn_rep_t, status, "status", REQ, st_earn_status_names, "posted or pending"),
    TIME_F(st_earn_rep_t, available_at, "available_at", ALW, "when the points can be spent"),
    STRS_F(st_earn_rep_t, coupons_applied, ncoupons_applied, "coupons_applied", ALW, 0,
           ST_COUPONS_MAX, ST_CATEGORY_MAX, "coupon codes applied"),
    ARR_F(st_earn_rep_t, coupons_rejected, ncoupons_rejected, "coupons_rejected", ALW,
          st_coupon_rejected_desc, 0, ST_COUPONS_MAX, "coupons not applied, with the reason"),
};
DESC(st_earn_rep_desc, st_earn_rep_t, earn_rep_fields);

static const lc_field_t authorize_req_fields[] = {
    STR_F(st_authorize_req_t, card_number, "card_number", REQ, ST_CARD_MAX, "the member's card"),
    I64_F(st_authorize_req_t, points, "points", REQ, 1, PTS, "points to hold"),
    STR_F(st_authorize_req_t, member_code, "member_code", REQ, ST_MEMBER_CODE_MAX,
          "one-time code from the member app"),
    STR_F(st_authorize_req_t, receipt_id, "receipt_id", REQ, ST_RECEIPT_MAX,
          "the partner's receipt"),
};
DESC(st_authorize_req_desc, st_authorize_req_t, authorize_req_fields);

static const lc_field_t authorize_rep_fields[] = {
    ID_F(st_authorize_rep_t, id, "id", REQ, "redemption id"),
    ENUM_F(st_authorize_rep_t, status, "status", REQ, st_redemption_status_names, "authorized"),
    I64_F(st_authorize_rep_t, points, "points", ALW, 0, PTS, "points held"),
    OBJ_F(st_authorize_rep_t, value, "value", REQ, lc_money_desc, "points x point value"),
    TIME_F(st_authorize_rep_t, expires_at, "expires_at", ALW, "when the hold lapses"),
};
DESC(st_authorize_rep_desc, st_authorize_rep_t, authorize_rep_fields);

static const lc_field_t capture_req_fields[] = {
    I64_F(st_capture_req_t, points, "points", 0, 1, PTS,
          "at most the authorized points; absent = all of them"),
};
DESC(st_capture_req_desc, st_capture_req_t, capture_req_fields);

static const lc_field_t capture_rep_fields[] = {
    ID_F(st_capture_rep_t, id, "id", REQ, "redemption id"),
    ENUM_F(st_capture_rep_t, status, "status", REQ, st_redemption_status_names, "captured"),
    I64_F(st_capture_rep_t, points, "points", ALW, 0, PTS, "points spent"),
};
DESC(st_capture_rep_desc, st_capture_rep_t, capture_rep_fields);

static const lc_field_t void_rep_fields[] = {
    ID_F(st_void_rep_t, id, "id", REQ, "redemption id"),
    ENUM_F(st_void_rep_t, status, "status", REQ, st_redemption_status_names, "voided"),
};
DESC(st_void_rep_desc, st_void_rep_t, void_rep_fields);

static const lc_field_t refund_req_fields[] = {
    I64_F(st_refund_req_t, points, "points", REQ, 1, PTS,
          "points to give back; all refunds together at most the captured points"),
};
DESC(st_refund_req_desc, st_refund_req_t, refund_req_fields);

static const lc_field_t refund_rep_fields[] = {
    ID_F(st_refund_rep_t, id, "id", REQ, "redemption id"),
    I64_F(st_refund_rep_t, refunded_points, "refunded_points", ALW, 0, PTS,
          "all refunds of this redemption so far"),
    I64_F(st_refund_rep_t, points, "points", ALW, 0, PTS, "this refund"),
};
DESC(st_refund_rep_desc, st_refund_rep_t, refund_rep_fields);

static const lc_field_t return_req_fields[] = {
    ID_F(st_return_req_t, earn_id, "earn_id", REQ, "the earn whose goods came back"),
    OBJ_F(st_return_req_t, amount, "amount", REQ, lc_money_desc, "money returned"),
};
DESC(st_return_req_desc, st_return_req_t, return_req_fields);

static const lc_field_t return_rep_fields[] = {
    ID_F(st_return_rep_t, id, "id", REQ, "return id"),
    ID_F(st_return_rep_t, earn_id, "earn_id", REQ, "the earn"),
    I64_F(st_return_rep_t, points_reversed, "points_reversed", ALW, 0, PTS,
          "ceil(returned x earn points / earn amount), capped at what is left"),
    I64_F(st_return_rep_t, bonus_points_reversed, "bonus_points_reversed", ALW, 0, PTS,
          "coupon bonus points reversed: each bonus by its own share, rounded up, capped"),
};
DESC(st_return_rep_desc, st_return_rep_t, return_rep_fields);

static const lc_field_t grant_req_fields[] = {
    STR_F(st_grant_req_t, card_number, "card_number", REQ, ST_CARD_MAX, "the member's card"),
    I64_F(st_grant_req_t, points, "points", REQ, 1, PTS, "points granted"),
    ENUM_F(st_grant_req_t, reason, "reason", REQ, st_grant_reason_names, "why"),
};
DESC(st_grant_req_desc, st_grant_req_t, grant_req_fields);

static const lc_field_t grant_rep_fields[] = {
    ID_F(st_grant_rep_t, id, "id", REQ, "grant id"),
    I64_F(st_grant_rep_t, points, "points", ALW, 0, PTS, "points granted"),
};
DESC(st_grant_rep_desc, st_grant_rep_t, grant_rep_fields);

static const lc_field_t funded_by_fields[] = {
    ENUM_F(st_funded_by_t, type, "type", REQ, st_funder_names, "partner, coalition or supplier"),
    ID_F(st_funded_by_t, id, "id", 0, "the partner or supplier; absent for the coalition"),
};
DESC(st_funded_by_desc, st_funded_by_t, funded_by_fields);

static const lc_field_t create_coupon_fields[] = {
    STR_F(st_create_coupon_req_t, code, "code", REQ, ST_CATEGORY_MAX,
          "unique code, 1 to 64 printable ASCII characters without space, /, ?, # or %"),
    ID_F(st_create_coupon_req_t, partner_id, "partner_id", 0,
         "the partner it is valid at; null or absent: every partner"),
    ENUM_F(st_create_coupon_req_t, kind, "kind", REQ, st_coupon_kind_names, "multiplier or bonus"),
    I64_F(st_create_coupon_req_t, multiplier, "multiplier", 0, 2, ST_MULTIPLIER_MAX,
          "kind multiplier: adds base x (multiplier - 1)"),
    I64_F(st_create_coupon_req_t, bonus_points, "bonus_points", 0, 1, PTS,
          "kind bonus: adds these points"),
    OBJ_F(st_create_coupon_req_t, funded_by, "funded_by", REQ, st_funded_by_desc,
          "who pays the bonus points"),
    TIME_F(st_create_coupon_req_t, valid_from, "valid_from", REQ, "first valid instant"),
    TIME_F(st_create_coupon_req_t, valid_until, "valid_until", REQ,
           "last valid instant (inclusive)"),
    I64_F(st_create_coupon_req_t, max_per_member, "max_per_member", REQ, 1, ST_MAX_PER_MEMBER_MAX,
          "earns one member may use it for"),
};
DESC(st_create_coupon_req_desc, st_create_coupon_req_t, create_coupon_fields);

static const lc_field_t coupon_fields[] = {
    ID_F(st_coupon_t, id, "id", REQ, "coupon id"),
    STR_F(st_coupon_t, code, "code", REQ, ST_CATEGORY_MAX, "the code"),
    ID_F(st_coupon_t, partner_id, "partner_id", 0,
         "the partner it is valid at; absent: every partner"),
    ENUM_F(st_coupon_t, kind, "kind", REQ, st_coupon_kind_names, "multiplier or bonus"),
    I64_F(st_coupon_t, multiplier, "multiplier", 0, 2, ST_MULTIPLIER_MAX, "kind multiplier"),
    I64_F(st_coupon_t, bonus_points, "bonus_points", 0, 1, PTS, "kind bonus"),
    OBJ_F(st_coupon_t, funded_by, "funded_by", REQ, st_funded_by_desc, "who pays the bonus"),
    TIME_F(st_coupon_t, valid_from, "valid_from", REQ, "first valid instant"),
    TIME_F(st_coupon_t, valid_until, "valid_until", REQ, "last valid instant (inclusive)"),
    I64_F(st_coupon_t, max_per_member, "max_per_member", REQ, 1, ST_MAX_PER_MEMBER_MAX,
          "earns one member may use it for"),
    TIME_F(st_coupon_t, created_at, "created_at", REQ, "when it was created"),
};
DESC(st_coupon_desc, st_coupon_t, coupon_fields);

static const lc_field_t activate_rep_fields[] = {
    ID_F(st_activate_rep_t, member_id, "member_id", REQ, "the member"),
    STR_F(st_activate_rep_t, code, "code", REQ, ST_CATEGORY_MAX, "the coupon code"),
    TIME_F(st_activate_rep_t, activated_at, "activated_at", REQ,
           "when the member first activated it"),
};
DESC(st_activate_rep_desc, st_activate_rep_t, activate_rep_fields);

const lc_msgdesc_t st_empty_desc = {"st_empty_t", sizeof(st_empty_t), NULL, 0};

static const lc_field_t expire_now_req_fields[] = {
    TIME_F(st_expire_now_req_t, as_of, "as_of", 0,
           "lots with expires_at <= as_of expire; absent = now"),
};
DESC(st_expire_now_req_desc, st_expire_now_req_t, expire_now_req_fields);

static const lc_field_t expire_now_rep_fields[] = {
    I64_F(st_expire_now_rep_t, lots, "lots", ALW, 0, INT64_MAX, "lots expired by this sweep"),
    I64_F(st_expire_now_rep_t, points, "points", ALW, 0, INT64_MAX,
          "points moved to the breakage account"),
};
DESC(st_expire_now_rep_desc, st_expire_now_rep_t, expire_now_rep_fields);

static const lc_field_t tier_review_req_fields[] = {
    ID_F(st_tier_review_req_t, member_id, "member_id", REQ, "the member"),
    TIME_F(st_tier_review_req_t, as_of, "as_of", 0,
           "review as of this time (its month is the review's month); absent = now"),
};
DESC(st_tier_review_req_desc, st_tier_review_req_t, tier_review_req_fields);

static const lc_field_t tier_review_rep_fields[] = {
    I64_F(st_tier_review_rep_t, tier, "tier", ALW, 0, LC_TIERS_MAX - 1,
          "the member's tier afterwards: index into tiers.names, 0 = lowest"),
    I64_F(st_tier_review_rep_t, qualifying_points, "qualifying_points", ALW, INT64_MIN, INT64_MAX,
          "base points earned in the 12 months up to as_of, net of returns"),
};
DESC(st_tier_review_rep_desc, st_tier_review_rep_t, tier_review_rep_fields);

static const lc_field_t mb_set_tier_fields[] = {
    ID_F(st_mb_set_tier_t, member_id, "member_id", REQ, "the member"),
    I64_F(st_mb_set_tier_t, tier, "tier", ALW, 0, LC_TIERS_MAX - 1,
          "index into tiers.names, 0 = lowest"),
    I64_F(st_mb_set_tier_t, version, "version", REQ, 1, INT64_MAX,
          "settlement's change counter; members keeps the report with the highest"),
};
DESC(st_mb_set_tier_desc, st_mb_set_tier_t, mb_set_tier_fields);

/* ---- statements, period close, reconciliation ---------------------------------- */

const lc_name_t st_party_names[] = {
    {"partner", ST_PARTY_PARTNER},
    {"supplier", ST_PARTY_SUPPLIER},
    {"coalition", ST_PARTY_COALITION},
    {NULL, 0},
};

const lc_name_t st_line_category_names[] = {
    {"issued", ST_LINE_ISSUED},
    {"reversed", ST_LINE_REVERSED},
    {"redeemed", ST_LINE_REDEEMED},
    {"refunded", ST_LINE_REFUNDED},
    {"bonus_funded", ST_LINE_BONUS_FUNDED},
    {"bonus_reversed", ST_LINE_BONUS_REVERSED},
    {"match", ST_LINE_MATCH},
    {"prepaid", ST_LINE_PREPAID},
    {"expired", ST_LINE_EXPIRED},
    {"adjustment", ST_LINE_ADJUSTMENT},
    {"other", ST_LINE_OTHER},
    {NULL, 0},
};

const lc_name_t st_line_side_names[] = {
    {"debit", ST_SIDE_DEBIT},
    {"credit", ST_SIDE_CREDIT},
    {NULL, 0},
};

const lc_name_t st_statement_status_names[] = {
    {"open", ST_STATEMENT_OPEN},
    {"final", ST_STATEMENT_FINAL},
    {NULL, 0},
};

const lc_name_t st_diff_kind_names[] = {
    {"totals", ST_DIFF_TOTALS},
    {"final", ST_DIFF_FINAL},
    {"unknown_code", ST_DIFF_UNKNOWN_CODE},
    {"trial_balance", ST_DIFF_TRIAL_BALANCE},
    {NULL, 0},
};

#define MIC_MIN INT64_MIN
#define MIC_MAX INT64_MAX

static const lc_field_t statement_line_fields[] = {
    I64_F(st_statement_line_t, seq, "seq", REQ, 1, INT64_MAX, "the journal entry's sequence"),
    ID_F(st_statement_line_t, transfer_id, "transfer_id", REQ, "the ledger transfer"),
    I64_F(st_statement_line_t, code, "code", ALW, 0, UINT32_MAX, "the transfer's code"),
    ENUM_F(st_statement_line_t, category, "category", REQ, st_line_category_names,
           "what the entry is for this party"),
    ENUM_F(st_statement_line_t, party, "party", REQ, st_party_names,
           "partner, supplier or coalition"),
    ID_F(st_statement_line_t, party_id, "party_id", 0,
         "the partner or supplier; absent for the coalition"),
    ENUM_F(st_statement_line_t, side, "side", REQ, st_line_side_names,
           "the party's account was debited or credited"),
    I64_F(st_statement_line_t, points, "points", ALW, 0, INT64_MAX, "the entry's amount"),
    I64_F(st_statement_line_t, amount_micros, "amount_micros", ALW, MIC_MIN, MIC_MAX,
          "micro-euros; positive: the coalition owes the party"),
    I64_F(st_statement_line_t, fee_micros, "fee_micros", ALW, MIC_MIN, MIC_MAX,
          "the coalition's fee on this line, rounded half to even"),
    TIME_F(st_statement_line_t, at, "at", REQ, "the entry's timestamp"),
    STR_F(st_statement_line_t, entry_period, "entry_period", REQ, ST_PERIOD_LEN,
          "the month of the entry's timestamp"),
    BOOL_F(st_statement_line_t, correction, "correction", ALW,
           "billed in a later month: entry_period was closed when it arrived"),
};
DESC(st_statement_line_desc, st_statement_line_t, statement_line_fields);

/* The statement's figures; the two descriptors below add the lines or not. */
#define STATEMENT_FIELDS                                                                           \
    ENUM_F(st_statement_t, party, "party", REQ, st_party_names, "partner, supplier or coalition"),  \
        ID_F(st_statement_t, partner_id, "partner_id", 0, "party partner: the partner"),           \
        ID_F(st_statement_t, supplier_id, "supplier_id", 0, "party supplier: the supplier"),       \
        STR_F(st_statement_t, period, "period", REQ, ST_PERIOD_LEN, "YYYY-MM"),                   \
        ENUM_F(st_statement_t, status, "status", REQ, st_statement_status_names,                   \
               "open, or final once the month is closed"),                                         \
        ENUM_F(st_statement_t, funding, "funding", 0, st_funding_names,                            \
               "party partner: postpaid or prepaid"),                                              \
        I64_F(st_statement_t, issued_points, "issued_points", ALW, 0, INT64_MAX,                  \
              "earned (when posted or matured) and granted"),                                      \
        I64_F(st_statement_t, reversed_points, "reversed_points", ALW, 0, INT64_MAX,              \
              "issued points reversed by returns"),                                                \
        I64_F(st_statement_t, redeemed_points, "redeemed_points", ALW, 0, INT64_MAX,              \
              "captured redemptions"),                                                             \
        I64_F(st_statement_t, refunded_points, "refunded_points", ALW, 0, INT64_MAX,              \
              "refunds of captured redemptions"),                                                  \
        I64_F(st_statement_t, bonus_points_funded, "bonus_points_funded", ALW, 0, INT64_MAX,      \
              "coupon and tier bonuses this party paid for"),                                      \
        I64_F(st_statement_t, bonus_points_reversed, "bonus_points_reversed", ALW, 0, INT64_MAX,  \
              "of those, reversed by returns"),                                                    \
        I64_F(st_statement_t, match_points, "match_points", ALW, 0, INT64_MAX,                    \
              "donation matches this partner paid for"),                                           \
        I64_F(st_statement_t, prepaid_points, "prepaid_points", ALW, 0, INT64_MAX,                \
              "points a prepaid partner bought"),                                                  \
        I64_F(st_statement_t, expired_points, "expired_points", ALW, 0, INT64_MAX,                \
              "coalition: points expired to breakage"),                                            \
        I64_F(st_statement_t, adjustment_points, "adjustment_points", ALW, MIC_MIN, MIC_MAX,      \
              "coalition: member adjustments, net (positive: credited to members)"),               \
        I64_F(st_statement_t, other_points, "other_points", ALW, 0, INT64_MAX,                    \
              "points of entries with codes statements do not know (reconcile names them)"),       \
        I64_F(st_statement_t, issue_charge_micros, "issue_charge_micros", ALW, MIC_MIN, MIC_MAX,  \
              "what the party pays for points issued or bought, net of reversals"),                \
        I64_F(st_statement_t, redeem_credit_micros, "redeem_credit_micros", ALW, MIC_MIN,         \
              MIC_MAX, "what the party is credited for points redeemed, net of refunds"),          \
        I64_F(st_statement_t, fee_micros, "fee_micros", ALW, MIC_MIN, MIC_MAX,                    \
              "the coalition's fees, the sum of the lines' (each rounded half to even)"),          \
        I64_F(st_statement_t, net_micros, "net_micros", ALW, MIC_MIN, MIC_MAX,                    \
              "redeem_credit - issue_charge - fee; positive: the coalition owes the party"),       \
        I64_F(st_statement_t, budget_opening_points, "budget_opening_points", ALW, MIC_MIN,       \
              MIC_MAX, "prepaid partners: budget before the month (0 for others)"),                \
        I64_F(st_statement_t, budget_closing_points, "budget_closing_points", ALW, MIC_MIN,       \
              MIC_MAX, "prepaid partners: budget after the month's lines (0 for others)"),         \
        I64_F(st_statement_t, line_count, "line_count", ALW, 0, INT64_MAX, "lines in the month")

/* The figures without the lines (the auditor's list): a name of its own, as the
 * catalogue names each descriptor once. */
static const lc_field_t statement_summary_fields[] = {STATEMENT_FIELDS};
const lc_msgdesc_t st_statement_summary_desc = {"st_statement_summary_t", sizeof(st_statement_t),
                                                statement_summary_fields,
                                                N(statement_summary_fields)};

static const lc_field_t statement_fields[] = {
    STATEMENT_FIELDS,
    ARR_F(st_statement_t, lines, nlines, "lines", ALW, st_statement_line_desc, 0, LC_API_LIST_MAX,
          "a page of its lines in seq order"),
    BOOL_F(st_statement_t, has_more, "has_more", ALW,
           "more lines: pass the last seq as starting_after"),
};
DESC(st_statement_desc, st_statement_t, statement_fields);

static const lc_field_t statements_rep_fields[] = {
    STR_F(st_statements_rep_t, period, "period", REQ, ST_PERIOD_LEN, "YYYY-MM"),
    ENUM_F(st_statements_rep_t, status, "status", REQ, st_statement_status_names,
           "open or final"),
    ARR_F(st_statements_rep_t, statements, nstatements, "statements", ALW,
          st_statement_summary_desc, 0, INT64_MAX,
          "every partner's statement, then the suppliers' and the coalition's"),
    ARR_F(st_statements_rep_t, lines, nlines, "lines", ALW, st_statement_line_desc, 0,
          LC_API_LIST_MAX, "a page of every party's lines in seq order"),
    BOOL_F(st_statements_rep_t, has_more, "has_more", ALW,
           "more lines: pass the last seq as starting_after"),
};
DESC(st_statements_rep_desc, st_statements_rep_t, statements_rep_fields);

static const lc_field_t close_rep_fields[] = {
    STR_F(st_close_rep_t, period, "period", REQ, ST_PERIOD_LEN, "YYYY-MM"),
    ENUM_F(st_close_rep_t, status, "status", REQ, st_statement_status_names, "final"),
    TIME_F(st_close_rep_t, closed_at, "closed_at", REQ, "when it was closed (the first time)"),
    I64_F(st_close_rep_t, journal_seq, "journal_seq", ALW, 0, INT64_MAX,
          "the last journal entry the statements had consumed at the close"),
    I64_F(st_close_rep_t, statements, "statements", ALW, 0, INT64_MAX,
          "final statements written"),
};
DESC(st_close_rep_desc, st_close_rep_t, close_rep_fields);

static const lc_field_t difference_fields[] = {
    ENUM_F(st_difference_t, kind, "kind", REQ, st_diff_kind_names,
           "totals, final, unknown_code or trial_balance"),
    ENUM_F(st_difference_t, party, "party", 0, st_party_names, "the party it concerns"),
    ID_F(st_difference_t, party_id, "party_id", 0, "the partner or supplier"),
    ENUM_F(st_difference_t, category, "category", 0, st_line_category_names,
           "the line category it concerns"),
    STR_F(st_difference_t, figure, "figure", REQ, 64,
          "points, amount_micros, fee_micros, a statement field, or sum (trial balance)"),
    I64_F(st_difference_t, statement, "statement", ALW, MIC_MIN, MIC_MAX,
          "the statements' figure"),
    I64_F(st_difference_t, journal, "journal", ALW, MIC_MIN, MIC_MAX,
          "the journal's figure (kind final: the lines')"),
    I64_F(st_difference_t, seq, "seq", 0, 0, INT64_MAX, "unknown_code: the entry"),
    I64_F(st_difference_t, code, "code", 0, 0, UINT32_MAX, "unknown_code: its code"),
    STR_F(st_difference_t, message, "message", REQ, 512, "the difference in words"),
};
DESC(st_difference_desc, st_difference_t, difference_fields);

static const lc_field_t reconcile_rep_fields[] = {
    STR_F(st_reconcile_rep_t, period, "period", REQ, ST_PERIOD_LEN, "YYYY-MM"),
    BOOL_F(st_reconcile_rep_t, ok, "ok", ALW, "true when nothing differs"),
    I64_F(st_reconcile_rep_t, journal_seq, "journal_seq", ALW, 0, INT64_MAX,
          "the journal's head when it was read"),
    I64_F(st_reconcile_rep_t, statements_seq, "statements_seq", ALW, 0, INT64_MAX,
          "the last entry the statements had consumed"),
    I64_F(st_reconcile_rep_t, entries_checked, "entries_checked", ALW, 0, INT64_MAX,
          "journal entries of the month that touch a party"),
    I64_F(st_reconcile_rep_t, trial_balance_sum, "trial_balance_sum", ALW, MIC_MIN, MIC_MAX,
          "the ledger's sum of all balances (0)"),
    ARR_F(st_reconcile_rep_t, differences, ndifferences, "differences", ALW, st_difference_desc,
          0, INT64_MAX, "each difference found"),
};
DESC(st_reconcile_rep_desc, st_reconcile_rep_t, reconcile_rep_fields);

static const lc_field_t mb_resolve_req_fields[] = {
    STR_F(st_mb_resolve_card_req_t, card_number, "card_number", REQ, ST_CARD_MAX, "a card"),
};
DESC(st_mb_resolve_card_req_desc, st_mb_resolve_card_req_t, mb_resolve_req_fields);

static const lc_field_t mb_resolve_rep_fields[] = {
    ID_F(st_mb_resolve_card_rep_t, member_id, "member_id", REQ,
         "the member (= its ledger account id)"),
    ENUM_F(st_mb_resolve_card_rep_t, status, "status", REQ, st_member_status_names,
           "active or frozen"),
};
DESC(st_mb_resolve_card_rep_desc, st_mb_resolve_card_rep_t, mb_resolve_rep_fields);

static const lc_field_t mb_consume_req_fields[] = {
    ID_F(st_mb_consume_code_req_t, member_id, "member_id", REQ, "the member"),
    STR_F(st_mb_consume_code_req_t, code, "code", REQ, ST_MEMBER_CODE_MAX, "one-time code"),
    ID_F(st_mb_consume_code_req_t, use_id, "use_id", REQ,
         "who uses it; a retry with the same use_id answers ok again"),
    I64_F(st_mb_consume_code_req_t, points, "points", 0, 0, LC_API_POINTS_MAX,
          "the points of the redemption (members holds large ones after a new card)"),
};
DESC(st_mb_consume_code_req_desc, st_mb_consume_code_req_t, mb_consume_req_fields);

/* ---- audit (finance) and four-eyes adjustments ----------------------------------- */

static const lc_field_t kind_total_fields[] = {
    I64_F(st_kind_total_t, accounts, "accounts", ALW, 0, INT64_MAX, "accounts of this kind"),
    I64_F(st_kind_total_t, balance, "balance", ALW, INT64_MIN, INT64_MAX,
          "sum of their balances (credits - debits, posted)"),
};
DESC(st_kind_total_desc, st_kind_total_t, kind_total_fields);

#define KIND_F(m, n) OBJ_F(st_by_kind_t, m, n, REQ, st_kind_total_desc, "accounts of kind " n)
static const lc_field_t by_kind_fields[] = {
    KIND_F(member, "member"),
    KIND_F(partner_issuance, "partner_issuance"),
    KIND_F(partner_redemption, "partner_redemption"),
    KIND_F(partner_prepayment, "partner_prepayment"),
    KIND_F(supplier_funding, "supplier_funding"),
    KIND_F(coalition_promotion, "coalition_promotion"),
    KIND_F(coalition_breakage, "coalition_breakage"),
    KIND_F(charity, "charity"),
    KIND_F(charity_pool, "charity_pool"),
    KIND_F(payout_clearing, "payout_clearing"),
    KIND_F(operator_, "operator"),
};
#undef KIND_F
DESC(st_by_kind_desc, st_by_kind_t, by_kind_fields);

st_kind_total_t *st_by_kind_slot(st_by_kind_t *b, int kind)
{
    /* by_kind_fields lists the kinds in ld_kind_t order, from 1. */
    if (kind < LD_KIND_MEMBER || kind > LD_KIND_OPERATOR)
        return NULL;
    return (st_kind_total_t *)((char *)b + by_kind_fields[kind - 1].offset);
}

static const lc_field_t trial_balance_fields[] = {
    I64_F(st_trial_balance_t, sum, "sum", ALW, INT64_MIN, INT64_MAX,
          "sum of all balances: 0, the double-entry invariant"),
    I64_F(st_trial_balance_t, accounts, "accounts", ALW, 0, INT64_MAX, "number of accounts"),
    OBJ_F(st_trial_balance_t, by_kind, "by_kind", REQ, st_by_kind_desc,
          "accounts and balance per ledger kind"),
    I64_F(st_trial_balance_t, journal_seq, "journal_seq", ALW, 0, INT64_MAX,
          "the journal's last sequence number"),
    HASH_F(st_trial_balance_t, chain_head, "chain_head", ALW,
           "hash of the last journal entry (zeros for an empty journal)"),
};
DESC(st_trial_balance_desc, st_trial_balance_t, trial_balance_fields);

static const lc_field_t journal_page_fields[] = {
    ARR_F(st_journal_page_t, entries, nentries, "entries", ALW, ld_entry_desc, 0, LC_API_LIST_MAX,
          "journal entries in sequence order (proto/README.md 8.1)"),
    I64_F(st_journal_page_t, head_seq, "head_seq", ALW, 0, INT64_MAX,
          "the journal's last sequence number"),
    BOOL_F(st_journal_page_t, has_more, "has_more", ALW,
           "more entries follow: ask again with after_seq = the last entry's seq"),
};
DESC(st_journal_page_desc, st_journal_page_t, journal_page_fields);

/* The figures' fields, inlined in each issuer's line (flat, for CSV and readers). */
#define LIABILITY_FIGURES(st)                                                                  \
    I64_F(st, f.outstanding_points, "outstanding_points", ALW, 0, INT64_MAX,                  \
          "points it funded that members still hold in lots"),                                 \
        I64_F(st, f.pending_points, "pending_points", ALW, 0, INT64_MAX,                       \
              "points it funded that are still pending"),                                      \
        OBJ_F(st, f.value, "value", REQ, lc_money_desc,                                        \
              "(outstanding + pending) x the point value"),                                    \
        I64_F(st, f.breakage_estimate_points, "breakage_estimate_points", ALW, 0, INT64_MAX,   \
              "(outstanding + pending) x the breakage rate, rounded down")

static const lc_field_t liability_partner_fields[] = {
    ID_F(st_liability_partner_t, partner_id, "partner_id", REQ, "the issuing partner"),
    LIABILITY_FIGURES(st_liability_partner_t),
};
DESC(st_liability_partner_desc, st_liability_partner_t, liability_partner_fields);

static const lc_field_t liability_other_fields[] = {
    ID_F(st_liability_other_t, account_id, "account_id", REQ,
         "the funding account (promotion, supplier, adjustment, ...)"),
    ENUM_F(st_liability_other_t, kind, "kind", REQ, ld_kind_names, "its ledger kind"),
    LIABILITY_FIGURES(st_liability_other_t),
};
#undef LIABILITY_FIGURES
DESC(st_liability_other_desc, st_liability_other_t, liability_other_fields);

static const lc_field_t breakage_fields[] = {
    I64_F(st_breakage_t, expired_points, "expired_points", ALW, 0, INT64_MAX,
          "points that expired, over the whole journal"),
    I64_F(st_breakage_t, used_points, "used_points", ALW, 0, INT64_MAX,
          "points members spent for good (captured redemptions net of refunds, donations)"),
    I64_F(st_breakage_t, rate_ppm, "rate_ppm", ALW, 0, 1000000,
          "expired / (expired + used) in parts per million, rounded down; 0 without history"),
    I64_F(st_breakage_t, estimate_points, "estimate_points", ALW, 0, INT64_MAX,
          "(outstanding + pending) x rate_ppm / 10^6, rounded down"),
    OBJ_F(st_breakage_t, estimate_value, "estimate_value", REQ, lc_money_desc,
          "estimate_points x the point value"),
};
DESC(st_breakage_desc, st_breakage_t, breakage_fields);

static const lc_field_t liability_fields[] = {
    I64_F(st_liability_t, outstanding_points, "outstanding_points", ALW, 0, INT64_MAX,
          "points members hold, posted: in lots or reserved by redemptions"),
    I64_F(st_liability_t, reserved_points, "reserved_points", ALW, 0, INT64_MAX,
          "the part of outstanding_points held by redemptions not yet captured"),
    I64_F(st_liability_t, pending_points, "pending_points", ALW, 0, INT64_MAX,
          "points earned, not spendable yet"),
    I64_F(st_liability_t, untraced_points, "untraced_points", ALW, 0, INT64_MAX,
          "points in lots whose issuing credit is not known (refunds the ledger could not "
          "trace back to a lot)"),
    I64_F(st_liability_t, debt_points, "debt_points", ALW, 0, INT64_MAX,
          "members' debt from returns of spent points (owed to the coalition)"),
    OBJ_F(st_liability_t, value, "value", REQ, lc_money_desc,
          "(outstanding + pending) x the point value"),
    ARR_F(st_liability_t, by_partner, nby_partner, "by_partner", ALW, st_liability_partner_desc,
          0, 100000, "per issuing partner, by partner id"),
    ARR_F(st_liability_t, by_other_issuer, nby_other_issuer, "by_other_issuer", ALW,
          st_liability_other_desc, 0, 100000,
          "per other funding account (coalition promotion, suppliers, adjustments)"),
    OBJ_F(st_liability_t, breakage, "breakage", REQ, st_breakage_desc,
          "the breakage estimate from the expiry history"),
    I64_F(st_liability_t, journal_seq, "journal_seq", ALW, 0, INT64_MAX,
          "the figures are as of this journal entry"),
};
DESC(st_liability_desc, st_liability_t, liability_fields);

const lc_name_t st_adjustment_status_names[] = {
    {"pending_approval", ST_ADJ_PENDING},
    {"posted", ST_ADJ_POSTED},
    {"refused", ST_ADJ_REFUSED},
    {NULL, 0},
};

static const lc_field_t adjustment_req_fields[] = {
    ID_F(st_adjustment_req_t, member_id, "member_id", REQ, "the member"),
    I64_F(st_adjustment_req_t, points, "points", REQ, -LC_API_POINTS_MAX, LC_API_POINTS_MAX,
          "signed, not 0: positive credits the member, negative debits"),
    STR_F(st_adjustment_req_t, reason, "reason", REQ, ST_REASON_MAX, "why, 1 to 500 bytes"),
};
DESC(st_adjustment_req_desc, st_adjustment_req_t, adjustment_req_fields);

static const lc_field_t adjustment_fields[] = {
    ID_F(st_adjustment_t, id, "id", REQ, "the adjustment"),
    ID_F(st_adjustment_t, member_id, "member_id", REQ, "the member"),
    I64_F(st_adjustment_t, points, "points", REQ, -LC_API_POINTS_MAX, LC_API_POINTS_MAX,
          "signed points"),
    STR_F(st_adjustment_t, reason, "reason", REQ, ST_REASON_MAX, "why"),
    ENUM_F(st_adjustment_t, status, "status", REQ, st_adjustment_status_names,
           "pending_approval, posted or refused"),
    ID_F(st_adjustment_t, proposed_by, "proposed_by", REQ, "the API key that proposed it"),
    TIME_F(st_adjustment_t, proposed_at, "proposed_at", REQ, "when"),
    ID_F(st_adjustment_t, approved_by, "approved_by", 0, "the API key that approved it"),
    TIME_F(st_adjustment_t, approved_at, "approved_at", 0, "when"),
    ID_F(st_adjustment_t, transfer_id, "transfer_id", 0, "the ledger transfer, once approved"),
    STR_F(st_adjustment_t, refusal, "refusal", 0, 64,
          "status refused: the error code the approval got"),
};
DESC(st_adjustment_desc, st_adjustment_t, adjustment_fields);

const st_msgtype_t st_msgtypes[] = {
    {ST_TYPE_PING, &st_empty_desc, &st_empty_desc, "liveness (internal, plain body)"},
    {ST_TYPE_CREATE_PARTNER, &st_create_partner_req_desc, &st_partner_desc,
     "API POST /v1/partners (admin): a partner and its ledger accounts"},
    {ST_TYPE_LIST_PARTNERS, &st_empty_desc, &st_partner_list_desc,
     "API GET /v1/partners (admin); query limit (1..1000, default 100), starting_after"},
    {ST_TYPE_GET_PARTNER, &st_empty_desc, &st_partner_desc,
     "API GET /v1/partners/{id} (admin)"},
    {ST_TYPE_PREPAY, &st_prepay_req_desc, &st_prepay_rep_desc,
     "API POST /v1/partners/{id}/prepayments (admin): adds to a prepaid partner's budget"},
    {ST_TYPE_EARN, &st_earn_req_desc, &st_earn_rep_desc,
     "API POST /v1/earn (partner): points for a purchase"},
    {ST_TYPE_AUTHORIZE, &st_authorize_req_desc, &st_authorize_rep_desc,
     "API POST /v1/redemptions (partner): hold points against a one-time member code"},
    {ST_TYPE_CAPTURE, &st_capture_req_desc, &st_capture_rep_desc,
     "API POST /v1/redemptions/{id}/capture (partner): spend held points"},
    {ST_TYPE_VOID, &st_empty_desc, &st_void_rep_desc,
     "API POST /v1/redemptions/{id}/void (partner): release held points"},
    {ST_TYPE_REFUND, &st_refund_req_desc, &st_refund_rep_desc,
     "API POST /v1/redemptions/{id}/refund (partner): give captured points back"},
    {ST_TYPE_RETURN, &st_return_req_desc, &st_return_rep_desc,
     "API POST /v1/returns (partner): reverse an earn in proportion to the money returned"},
    {ST_TYPE_GRANT, &st_grant_req_desc, &st_grant_rep_desc,
     "API POST /v1/grants (partner): points for a survey, referral or goodwill"},
    {ST_TYPE_CREATE_COUPON, &st_create_coupon_req_desc, &st_coupon_desc,
     "API POST /v1/coupons (admin): a multiplier or bonus coupon, its funder and window. "
     "Errors: invalid_request, not_found (funding partner), conflict (code taken)"},
    {ST_TYPE_ACTIVATE_COUPON, &st_empty_desc, &st_activate_rep_desc,
     "API POST /v1/members/{id}/coupons/{code}/activate (app): the member activates a coupon; "
     "again answers the first activated_at. Errors: coupon_not_applicable (unknown, outside "
     "its window, used up)"},
    {ST_TYPE_EXPIRE_NOW, &st_expire_now_req_desc, &st_expire_now_rep_desc,
     "internal (operators, tests; plain body): run an expiry sweep as of as_of (default now) "
     "until no due lot is left; idempotent. Errors: invalid_field, unavailable"},
    {ST_TYPE_TIER_REVIEW, &st_tier_review_req_desc, &st_tier_review_rep_desc,
     "internal (operators, tests; plain body): the member's tier review as of as_of (default "
     "now): upgrades at once, downgrades only in the first review of a month; reports the "
     "change to members. Errors: invalid_field, unavailable"},
    {ST_TYPE_STATEMENT, &st_empty_desc, &st_statements_rep_desc,
     "API GET /v1/statements/{period} (partner: its own statement, reply st_statement_t with "
     "its lines; auditor, admin: every statement and every line, st_statements_rep_t); query "
     "limit (lines, 1..1000, default 1000), starting_after (a seq), partner_id. Errors: "
     "invalid_request (period not YYYY-MM), forbidden, not_found (another or an unknown "
     "partner), unavailable"},
    {ST_TYPE_CLOSE_PERIOD, &st_empty_desc, &st_close_rep_desc,
     "API POST /v1/settlement/periods/{period}/close (admin): the month's statements become "
     "final; again answers the first close. Errors: invalid_request, conflict (the month has "
     "not ended), unavailable (the statements are behind the journal: retry)"},
    {ST_TYPE_RECONCILE, &st_empty_desc, &st_reconcile_rep_desc,
     "API GET /v1/audit/reconcile/{period} (auditor, admin): the statements against the "
     "journal and the trial balance; names each difference. Errors: invalid_request, "
     "unavailable"},
    {ST_TYPE_AUDIT_TRIAL_BALANCE, &st_empty_desc, &st_trial_balance_desc,
     "API GET /v1/audit/trial-balance (auditor, admin): the ledger's trial balance. Errors: "
     "unavailable"},
    {ST_TYPE_AUDIT_JOURNAL, &st_empty_desc, &st_journal_page_desc,
     "API GET /v1/audit/journal (auditor, admin); query after_seq (>= 0, default 0), limit "
     "(1..1000, default 100); Accept: text/csv gives the entries as CSV. Errors: "
     "invalid_request, unavailable"},
    {ST_TYPE_AUDIT_VERIFY, &st_empty_desc, &ld_verify_rep_desc,
     "API GET /v1/audit/verify (auditor, admin): the ledger recomputes its hash chain and "
     "balances from the journal; names the first bad seq. Errors: unavailable"},
    {ST_TYPE_AUDIT_LIABILITY, &st_empty_desc, &st_liability_desc,
     "API GET /v1/audit/liability (auditor, admin): outstanding and pending points, their "
     "value, per issuer, and the breakage estimate (services/settlement/README.md). Errors: "
     "unavailable"},
    {ST_TYPE_PROPOSE_ADJUSTMENT, &st_adjustment_req_desc, &st_adjustment_desc,
     "API POST /v1/adjustments (admin): proposes a member adjustment, pending approval. "
     "Errors: invalid_request, not_found (member), insufficient_points (a debit above the "
     "member's available points)"},
    {ST_TYPE_APPROVE_ADJUSTMENT, &st_empty_desc, &st_adjustment_desc,
     "API POST /v1/adjustments/{id}/approve (admin, another key than the proposer's): books "
     "it. Errors: not_found, four_eyes_required, conflict (already decided), "
     "insufficient_points, member_frozen (the adjustment is then refused for good)"},
    {ST_TYPE_GET_ADJUSTMENT, &st_empty_desc, &st_adjustment_desc,
     "API GET /v1/adjustments/{id} (admin, auditor). Errors: not_found"},
    {NULL, NULL, NULL, NULL},
};

const st_msgtype_t st_members_calls[] = {
    {ST_MB_RESOLVE_CARD, &st_mb_resolve_card_req_desc, &st_mb_resolve_card_rep_desc,
     "card -> member; error not_found for an unknown card"},
    {ST_MB_CONSUME_CODE, &st_mb_consume_code_req_desc, &st_empty_desc,
     "use a one-time code; errors invalid_member_code when it cannot be used, "
     "member_code_locked after too many wrong codes, cooling_off for a large redemption "
     "soon after a card was added, member_frozen"},
    {ST_MB_PING, &st_empty_desc, &st_empty_desc, "liveness"},
    {ST_MB_SET_TIER, &st_mb_set_tier_desc, &st_mb_set_tier_desc,
     "the member's tier changed; members keeps the highest version and answers what it holds"},
    {NULL, NULL, NULL, NULL},
};

const st_msgtype_t *st_msgtype_find(const char *type)
{
    for (const st_msgtype_t *t = st_msgtypes; t->type; t++)
        if (strcmp(t->type, type) == 0)
            return t;
    return NULL;
}

static const char s_namespace[] = "coalition/settlement";

void st_breakage_account(lc_id_t *out)
{
    lc_id_derive_bytes(s_namespace, sizeof s_namespace - 1, "breakage", out);
}

void st_promotion_account(lc_id_t *out)
{
    lc_id_derive_bytes(s_namespace, sizeof s_namespace - 1, "promotion", out);
}

void st_supplier_account(const lc_id_t *supplier, lc_id_t *out)
{
    lc_id_derive(supplier, "supplier_funding", out);
}

void st_adjustment_account(lc_id_t *out)
{
    lc_id_derive_bytes(s_namespace, sizeof s_namespace - 1, "adjustment", out);
}

/* ---- tolerant reading ------------------------------------------------------------ */

int st_msg_decode_known(const lc_msgdesc_t *desc, const json_t *obj, void *out,
                        lc_codec_err_t *err)
{
    if (!json_is_object(obj))
        return lc_codec_decode(desc, obj, out, err);
    json_t *known = json_object();
    if (!known)
        return LC_ERR_NOMEM;
    for (size_t i = 0; i < desc->nfields; i++) {
        json_t *v = json_object_get(obj, desc->fields[i].name);
        if (v && json_object_set(known, desc->fields[i].name, v) != 0) {
            json_decref(known);
            return LC_ERR_NOMEM;
        }
    }
    int rc = lc_codec_decode(desc, known, out, err);
    json_decref(known);
    return rc;
}
