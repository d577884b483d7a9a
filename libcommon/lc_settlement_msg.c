/*
 * lc_settlement_msg.c: codec tables for the settlement service's messages and for
 * the members calls it makes. proto/settlement.json is the published form of these
 * tables; tests/unit/test_settlement_msg.c fails when the two disagree.
 */
#include "lc_settlement_msg.h"
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
};
DESC(st_mb_consume_code_req_desc, st_mb_consume_code_req_t, mb_consume_req_fields);

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
    {NULL, NULL, NULL, NULL},
};

const st_msgtype_t st_members_calls[] = {
    {ST_MB_RESOLVE_CARD, &st_mb_resolve_card_req_desc, &st_mb_resolve_card_rep_desc,
     "card -> member; error not_found for an unknown card"},
    {ST_MB_CONSUME_CODE, &st_mb_consume_code_req_desc, &st_empty_desc,
     "use a one-time code; error invalid_member_code when it cannot be used"},
    {ST_MB_PING, &st_empty_desc, &st_empty_desc, "liveness"},
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
