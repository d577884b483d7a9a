/*
 * lc_members_msg.c: codec tables for the members service's messages.
 * proto/members.json is the published form of these tables;
 * tests/unit/test_members_proto.c fails when the two disagree.
 */
#include "lc_members_msg.h"
#include "lc_codec_macros.h"

#include <string.h>

const lc_name_t mb_status_names[] = {
    {"active", MB_STATUS_ACTIVE},
    {"frozen", MB_STATUS_FROZEN},
    {NULL, 0},
};

const lc_name_t mb_tier_names[] = {
    {"bronze", MB_TIER_BRONZE},
    {"silver", MB_TIER_SILVER},
    {"gold", MB_TIER_GOLD},
    {NULL, 0},
};

const lc_msgdesc_t mb_empty_desc = {"mb_empty_t", sizeof(mb_empty_t), NULL, 0};

static const lc_field_t consents_fields[] = {
    BOOL_F(mb_consents_t, marketing, "marketing", ALW, "may be contacted for marketing"),
    BOOL_F(mb_consents_t, profiling, "profiling", ALW, "may be profiled (personal offers)"),
};
DESC(mb_consents_desc, mb_consents_t, consents_fields);

static const lc_field_t enroll_req_fields[] = {
    STR_F(mb_enroll_req_t, card_number, "card_number", 0, MB_CARD_MAX,
          "16 digits with a Luhn check digit; absent: one is generated"),
    STR_F(mb_enroll_req_t, email, "email", 0, MB_EMAIL_MAX,
          "personal data, stored encrypted under the member's own key"),
    OBJ_F(mb_enroll_req_t, consents, "consents", 0, mb_consents_desc, "absent: no consent given"),
};
DESC(mb_enroll_req_desc, mb_enroll_req_t, enroll_req_fields);

static const lc_field_t enroll_rep_fields[] = {
    ID_F(mb_enroll_rep_t, id, "id", REQ, "member id = the member's ledger account id"),
    STR_F(mb_enroll_rep_t, card_number, "card_number", REQ, MB_CARD_MAX,
          "the card the member was enrolled with"),
    ENUM_F(mb_enroll_rep_t, status, "status", REQ, mb_status_names, "active or frozen"),
};
DESC(mb_enroll_rep_desc, mb_enroll_rep_t, enroll_rep_fields);

static const lc_field_t add_card_req_fields[] = {
    STR_F(mb_add_card_req_t, card_number, "card_number", 0, MB_CARD_MAX,
          "16 digits with a Luhn check digit; absent: one is generated"),
};
DESC(mb_add_card_req_desc, mb_add_card_req_t, add_card_req_fields);

static const lc_field_t card_rep_fields[] = {
    STR_F(mb_card_rep_t, card_number, "card_number", REQ, MB_CARD_MAX, "the new card"),
    ID_F(mb_card_rep_t, member_id, "member_id", REQ, "the member it belongs to"),
};
DESC(mb_card_rep_desc, mb_card_rep_t, card_rep_fields);

static const lc_field_t balance_rep_fields[] = {
    ID_F(mb_balance_rep_t, member_id, "member_id", REQ, "the card's member"),
    I64_F(mb_balance_rep_t, available, "available", ALW, INT64_MIN, INT64_MAX,
          "points spendable now (the ledger's available)"),
    I64_F(mb_balance_rep_t, pending, "pending", ALW, 0, INT64_MAX,
          "points earned but not yet available (the ledger's credits_pending)"),
    ENUM_F(mb_balance_rep_t, tier, "tier", REQ, mb_tier_names, "bronze, silver or gold"),
};
DESC(mb_balance_rep_desc, mb_balance_rep_t, balance_rep_fields);

static const lc_field_t expiring_fields[] = {
    I64_F(mb_expiring_t, points, "points", ALW, 0, INT64_MAX, "points left in the lot"),
    TIME_F(mb_expiring_t, expires_at, "expires_at", REQ, "when they expire"),
};
DESC(mb_expiring_desc, mb_expiring_t, expiring_fields);

static const lc_field_t member_rep_fields[] = {
    ID_F(mb_member_rep_t, id, "id", REQ, "member id"),
    ENUM_F(mb_member_rep_t, status, "status", REQ, mb_status_names, "active or frozen"),
    I64_F(mb_member_rep_t, available, "available", ALW, INT64_MIN, INT64_MAX,
          "points spendable now"),
    I64_F(mb_member_rep_t, pending, "pending", ALW, 0, INT64_MAX, "points not yet available"),
    ENUM_F(mb_member_rep_t, tier, "tier", REQ, mb_tier_names, "bronze, silver or gold"),
    ARR_F(mb_member_rep_t, expiring, nexpiring, "expiring", ALW, mb_expiring_desc, 0,
          MB_EXPIRING_MAX, "lots with an expiry, soonest first, at most 5"),
    STRS_F(mb_member_rep_t, card_numbers, ncard_numbers, "card_numbers", ALW, 0, MB_CARDS_MAX,
           MB_CARD_MAX, "the member's cards, oldest first"),
};
DESC(mb_member_rep_desc, mb_member_rep_t, member_rep_fields);

static const lc_field_t code_rep_fields[] = {
    STR_F(mb_code_rep_t, code, "code", REQ, MB_CODE_MAX, "one-time code, 8 digits"),
    TIME_F(mb_code_rep_t, expires_at, "expires_at", REQ, "valid until (at most 10 minutes)"),
};
DESC(mb_code_rep_desc, mb_code_rep_t, code_rep_fields);

static const lc_field_t status_req_fields[] = {
    STR_F(mb_status_req_t, reason, "reason", REQ, MB_REASON_MAX, "why (kept with who did it)"),
};
DESC(mb_status_req_desc, mb_status_req_t, status_req_fields);

static const lc_field_t status_rep_fields[] = {
    ID_F(mb_status_rep_t, id, "id", REQ, "member id"),
    ENUM_F(mb_status_rep_t, status, "status", REQ, mb_status_names, "active or frozen"),
};
DESC(mb_status_rep_desc, mb_status_rep_t, status_rep_fields);

static const lc_field_t resolve_req_fields[] = {
    STR_F(mb_resolve_card_req_t, card_number, "card_number", REQ, MB_CARD_MAX,
          "the card presented"),
};
DESC(mb_resolve_card_req_desc, mb_resolve_card_req_t, resolve_req_fields);

static const lc_field_t resolve_rep_fields[] = {
    ID_F(mb_resolve_card_rep_t, member_id, "member_id", REQ,
         "the member (= the member's ledger account id)"),
    ENUM_F(mb_resolve_card_rep_t, status, "status", REQ, mb_status_names, "active or frozen"),
};
DESC(mb_resolve_card_rep_desc, mb_resolve_card_rep_t, resolve_rep_fields);

static const lc_field_t consume_req_fields[] = {
    ID_F(mb_consume_code_req_t, member_id, "member_id", REQ, "the member the code must belong to"),
    STR_F(mb_consume_code_req_t, code, "code", REQ, MB_CODE_MAX, "the code the member presented"),
    ID_F(mb_consume_code_req_t, use_id, "use_id", REQ,
         "the caller's id for this use (e.g. derived from the redemption); a retry with the "
         "same use_id and code answers ok again"),
};
DESC(mb_consume_code_req_desc, mb_consume_code_req_t, consume_req_fields);

const mb_msgtype_t mb_msgtypes[] = {
    {MB_TYPE_PING, false, &mb_empty_desc, &mb_empty_desc, "liveness (the gateway's /healthz)"},
    {MB_TYPE_ENROLL, true, &mb_enroll_req_desc, &mb_enroll_rep_desc,
     "API POST /v1/members (partner; idempotency key required): enroll a member, create its "
     "ledger account; a retry returns the same member. Errors: invalid_request, conflict "
     "(card taken), idempotency_key_required, unavailable"},
    {MB_TYPE_ADD_CARD, true, &mb_add_card_req_desc, &mb_card_rep_desc,
     "API POST /v1/members/{id}/cards (partner; idempotency key required): another card on "
     "the account. Errors: not_found, invalid_request, conflict, member_frozen"},
    {MB_TYPE_CARD_BALANCE, true, &mb_empty_desc, &mb_balance_rep_desc,
     "API GET /v1/cards/{card_number}/balance (partner). Errors: not_found"},
    {MB_TYPE_GET, true, &mb_empty_desc, &mb_member_rep_desc,
     "API GET /v1/members/{id} (app): the member, its balance, expiring lots and cards. "
     "Errors: not_found"},
    {MB_TYPE_ISSUE_CODE, true, &mb_empty_desc, &mb_code_rep_desc,
     "API POST /v1/members/{id}/codes (app; idempotency key required): a one-time redemption "
     "code; only its hash is stored; a retry with the same key replaces the code. Errors: "
     "not_found, member_frozen"},
    {MB_TYPE_FREEZE, true, &mb_status_req_desc, &mb_status_rep_desc,
     "API POST /v1/members/{id}/freeze (admin): freeze the member and its ledger account. "
     "Errors: not_found, invalid_request"},
    {MB_TYPE_UNFREEZE, true, &mb_status_req_desc, &mb_status_rep_desc,
     "API POST /v1/members/{id}/unfreeze (admin): undo a freeze. Errors: not_found, "
     "invalid_request"},
    {MB_TYPE_RESOLVE_CARD, false, &mb_resolve_card_req_desc, &mb_resolve_card_rep_desc,
     "internal (settlement): the member of a card. Errors: not_found"},
    {MB_TYPE_CONSUME_CODE, false, &mb_consume_code_req_desc, &mb_empty_desc,
     "internal (settlement): use a member's one-time code (unexpired, unused, that member's); "
     "a wrong code counts against the member's outstanding codes, which are invalidated after "
     "members.code_attempts wrong attempts. Errors: invalid_member_code, member_frozen"},
    {NULL, false, NULL, NULL, NULL},
};

const mb_msgtype_t *mb_msgtype_find(const char *type)
{
    for (const mb_msgtype_t *t = mb_msgtypes; t->type; t++)
        if (strcmp(t->type, type) == 0)
            return t;
    return NULL;
}
