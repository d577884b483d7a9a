/*
 * lc_members_msg.c: codec tables for the members service's messages.
 * proto/members.json is the published form of these tables;
 * tests/unit/test_members_proto.c fails when the two disagree.
 */
#include "lc_members_msg.h"
#include "lc_tiers.h"
#include "lc_api.h"
#include "lc_codec_macros.h"

#include <stdint.h>
#include <string.h>

const lc_name_t mb_status_names[] = {
    {"active", MB_STATUS_ACTIVE},
    {"frozen", MB_STATUS_FROZEN},
    {NULL, 0},
};


const lc_name_t mb_consent_source_names[] = {
    {"enroll", MB_CONSENT_ENROLL},
    {"app", MB_CONSENT_APP},
    {"erasure", MB_CONSENT_ERASURE},
    {"migration", MB_CONSENT_MIGRATION},
    {NULL, 0},
};

const lc_name_t mb_history_type_names[] = {
    {"earn", MB_HISTORY_EARN},
    {"bonus", MB_HISTORY_BONUS},
    {"pending", MB_HISTORY_PENDING},
    {"matured", MB_HISTORY_MATURED},
    {"redemption", MB_HISTORY_REDEMPTION},
    {"refund", MB_HISTORY_REFUND},
    {"return", MB_HISTORY_RETURN},
    {"grant", MB_HISTORY_GRANT},
    {"donation", MB_HISTORY_DONATION},
    {"expiry", MB_HISTORY_EXPIRY},
    {"adjustment", MB_HISTORY_ADJUSTMENT},
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
    STR_F(mb_enroll_req_t, name, "name", 0, MB_NAME_MAX,
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
    STR_F(mb_balance_rep_t, tier, "tier", REQ, LC_TIER_NAME_MAX,
          "the member's tier: a name of tiers.names (default bronze, silver, gold)"),
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
    STR_F(mb_member_rep_t, tier, "tier", REQ, LC_TIER_NAME_MAX,
          "the member's tier: a name of tiers.names (default bronze, silver, gold)"),
    ARR_F(mb_member_rep_t, expiring, nexpiring, "expiring", ALW, mb_expiring_desc, 0,
          MB_EXPIRING_MAX, "lots with an expiry, soonest first, at most 5"),
    STRS_F(mb_member_rep_t, card_numbers, ncard_numbers, "card_numbers", ALW, 0, MB_CARDS_MAX,
           MB_CARD_MAX, "the member's cards, oldest first"),
    OBJ_F(mb_member_rep_t, consents, "consents", ALW, mb_consents_desc,
          "current consents (never affect earning or redeeming)"),
    BOOL_F(mb_member_rep_t, erased, "erased", ALW, "personal data erased"),
    TIME_F(mb_member_rep_t, erased_at, "erased_at", 0, "when (absent: not erased)"),
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

static const lc_field_t set_tier_fields[] = {
    ID_F(mb_set_tier_t, member_id, "member_id", REQ, "the member"),
    I64_F(mb_set_tier_t, tier, "tier", ALW, 0, LC_TIERS_MAX - 1,
          "index into tiers.names, 0 = lowest"),
    I64_F(mb_set_tier_t, version, "version", REQ, 1, INT64_MAX,
          "settlement's change counter; members keeps the report with the highest"),
};
DESC(mb_set_tier_desc, mb_set_tier_t, set_tier_fields);

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
    I64_F(mb_consume_code_req_t, points, "points", 0, 0, LC_API_POINTS_MAX,
          "the points the code would redeem (for the cooling-off rule; absent: 0)"),
};
DESC(mb_consume_code_req_desc, mb_consume_code_req_t, consume_req_fields);

static const lc_field_t consents_rep_fields[] = {
    ID_F(mb_consents_rep_t, id, "id", REQ, "member id"),
    OBJ_F(mb_consents_rep_t, consents, "consents", ALW, mb_consents_desc, "the consents now"),
    TIME_F(mb_consents_rep_t, updated_at, "updated_at", REQ, "when they last changed"),
};
DESC(mb_consents_rep_desc, mb_consents_rep_t, consents_rep_fields);

static const lc_field_t erase_rep_fields[] = {
    ID_F(mb_erase_rep_t, id, "id", REQ, "member id"),
    TIME_F(mb_erase_rep_t, erased_at, "erased_at", REQ,
           "when the personal data was erased (the first erasure: a repeat changes nothing)"),
};
DESC(mb_erase_rep_desc, mb_erase_rep_t, erase_rep_fields);

static const lc_field_t personal_fields[] = {
    STR_F(mb_personal_t, email, "email", 0, MB_EMAIL_MAX, "absent: none given, or erased"),
    STR_F(mb_personal_t, name, "name", 0, MB_NAME_MAX, "absent: none given, or erased"),
};
DESC(mb_personal_desc, mb_personal_t, personal_fields);

static const lc_field_t export_card_fields[] = {
    STR_F(mb_export_card_t, card_number, "card_number", REQ, MB_CARD_MAX, "the card"),
    ID_F(mb_export_card_t, added_by, "added_by", 0, "the partner that added it"),
    TIME_F(mb_export_card_t, created_at, "created_at", REQ, "when"),
};
DESC(mb_export_card_desc, mb_export_card_t, export_card_fields);

static const lc_field_t consent_event_fields[] = {
    BOOL_F(mb_consent_event_t, marketing, "marketing", ALW, "marketing consent from then on"),
    BOOL_F(mb_consent_event_t, profiling, "profiling", ALW, "profiling consent from then on"),
    ENUM_F(mb_consent_event_t, source, "source", REQ, mb_consent_source_names,
           "enroll, app, erasure or migration"),
    TIME_F(mb_consent_event_t, at, "at", REQ, "when"),
};
DESC(mb_consent_event_desc, mb_consent_event_t, consent_event_fields);

static const lc_field_t status_event_fields[] = {
    ENUM_F(mb_status_event_t, status, "status", REQ, mb_status_names, "active or frozen"),
    STR_F(mb_status_event_t, reason, "reason", 0, MB_REASON_MAX, "why; absent once erased"),
    TIME_F(mb_status_event_t, at, "at", REQ, "when"),
};
DESC(mb_status_event_desc, mb_status_event_t, status_event_fields);

static const lc_field_t export_code_fields[] = {
    TIME_F(mb_export_code_t, created_at, "created_at", REQ, "issued"),
    TIME_F(mb_export_code_t, expires_at, "expires_at", REQ, "valid until"),
    TIME_F(mb_export_code_t, used_at, "used_at", 0, "used (absent: not used)"),
    I64_F(mb_export_code_t, failures, "failures", ALW, 0, INT64_MAX,
          "wrong attempts while it was outstanding"),
    BOOL_F(mb_export_code_t, invalidated, "invalidated", ALW, "killed by too many wrong attempts"),
};
DESC(mb_export_code_desc, mb_export_code_t, export_code_fields);

static const lc_field_t code_failure_fields[] = {
    TIME_F(mb_code_failure_t, at, "at", REQ, "a wrong code was presented"),
};
DESC(mb_code_failure_desc, mb_code_failure_t, code_failure_fields);

static const lc_field_t export_balance_fields[] = {
    I64_F(mb_export_balance_t, available, "available", ALW, INT64_MIN, INT64_MAX,
          "points spendable now"),
    I64_F(mb_export_balance_t, pending, "pending", ALW, 0, INT64_MAX, "points not yet available"),
    I64_F(mb_export_balance_t, held, "held", ALW, 0, INT64_MAX,
          "points held by authorized redemptions"),
    I64_F(mb_export_balance_t, balance, "balance", ALW, INT64_MIN, INT64_MAX, "posted balance"),
    I64_F(mb_export_balance_t, debt, "debt", ALW, 0, INT64_MAX,
          "points a return took below zero, repaid by later earnings"),
};
DESC(mb_export_balance_desc, mb_export_balance_t, export_balance_fields);

static const lc_field_t export_rep_fields[] = {
    ID_F(mb_export_rep_t, id, "id", REQ, "member id = the member's ledger account id"),
    ENUM_F(mb_export_rep_t, status, "status", REQ, mb_status_names, "active or frozen"),
    ID_F(mb_export_rep_t, enrolled_by, "enrolled_by", 0, "the partner that enrolled the member"),
    TIME_F(mb_export_rep_t, created_at, "created_at", REQ, "enrolled"),
    BOOL_F(mb_export_rep_t, erased, "erased", ALW, "personal data erased"),
    TIME_F(mb_export_rep_t, erased_at, "erased_at", 0, "when (absent: not erased)"),
    OBJ_F(mb_export_rep_t, personal_data, "personal_data", ALW, mb_personal_desc,
          "decrypted personal data ({} once erased)"),
    OBJ_F(mb_export_rep_t, consents, "consents", ALW, mb_consents_desc, "current consents"),
    ARR_F(mb_export_rep_t, cards, ncards, "cards", ALW, mb_export_card_desc, 0, MB_CARDS_MAX,
          "the member's cards, oldest first"),
    ARR_F(mb_export_rep_t, consent_history, nconsent_history, "consent_history", ALW,
          mb_consent_event_desc, 0, MB_EXPORT_ROWS_MAX, "every consent change, oldest first"),
    ARR_F(mb_export_rep_t, status_events, nstatus_events, "status_events", ALW,
          mb_status_event_desc, 0, MB_EXPORT_ROWS_MAX, "freezes and unfreezes, oldest first"),
    ARR_F(mb_export_rep_t, codes, ncodes, "codes", ALW, mb_export_code_desc, 0, MB_EXPORT_ROWS_MAX,
          "one-time codes issued, oldest first (metadata only)"),
    ARR_F(mb_export_rep_t, code_failures, ncode_failures, "code_failures", ALW,
          mb_code_failure_desc, 0, MB_EXPORT_ROWS_MAX, "wrong codes presented, oldest first"),
    OBJ_F(mb_export_rep_t, balance, "balance", ALW, mb_export_balance_desc,
          "the member's ledger account now"),
    STR_F(mb_export_rep_t, tier, "tier", REQ, LC_TIER_NAME_MAX,
          "the member's tier as settlement last reported it"),
};
DESC(mb_export_rep_desc, mb_export_rep_t, export_rep_fields);

static const lc_field_t history_item_fields[] = {
    ID_F(mb_history_item_t, id, "id", REQ, "the ledger transfer (usable as starting_after)"),
    STR_F(mb_history_item_t, type, "type", REQ, MB_HISTORY_TYPE_MAX,
          "earn, bonus, pending, matured, redemption, refund, return, grant, donation, expiry "
          "or adjustment"),
    I64_F(mb_history_item_t, points, "points", ALW, -9007199254740991, 9007199254740991,
          "points, + credited to the member, - debited"),
    ID_F(mb_history_item_t, partner_id, "partner_id", 0, "the partner, when one is involved"),
    ID_F(mb_history_item_t, charity_id, "charity_id", 0, "the charity of a donation"),
    TIME_F(mb_history_item_t, at, "at", REQ, "when the ledger booked it"),
    I64_F(mb_history_item_t, seq, "seq", REQ, 1, INT64_MAX,
          "journal sequence number (usable as starting_after)"),
};
DESC(mb_history_item_desc, mb_history_item_t, history_item_fields);

static const lc_field_t history_rep_fields[] = {
    ARR_F(mb_history_rep_t, data, ndata, "data", ALW, mb_history_item_desc, 0, LC_API_LIST_MAX,
          "entries, newest first"),
    BOOL_F(mb_history_rep_t, has_more, "has_more", ALW, "more entries after the last one"),
};
DESC(mb_history_rep_desc, mb_history_rep_t, history_rep_fields);

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
     "members.code_attempts wrong attempts; that many wrong attempts within "
     "members.code_lock_minutes lock the member's codes until the window has passed; a "
     "redemption of at least members.cooling_off_points within members.cooling_off_hours of a "
     "card being added is held. Errors: invalid_member_code, member_frozen, "
     "member_code_locked, cooling_off"},
    {MB_TYPE_SET_TIER, false, &mb_set_tier_desc, &mb_set_tier_desc,
     "internal (settlement): the member's tier changed; kept unless members holds a higher "
     "version; answers what members holds afterwards. Errors: not_found"},
    {MB_TYPE_SET_CONSENTS, true, &mb_consents_desc, &mb_consents_rep_desc,
     "API POST /v1/members/{id}/consents (app): set the marketing and profiling consents (an "
     "absent field stays as it is); each change is recorded with its time. Consents never "
     "affect earning or redeeming. Errors: not_found, invalid_request"},
    {MB_TYPE_ERASE, true, &mb_empty_desc, &mb_erase_rep_desc,
     "API DELETE /v1/members/{id}/personal-data (admin): destroy the member's data key, so its "
     "personal data no longer decrypts anywhere, and withdraw its consents; balances and the "
     "journal are untouched. Erasing again answers the first erasure's time. Errors: not_found"},
    {MB_TYPE_EXPORT, true, &mb_empty_desc, &mb_export_rep_desc,
     "API GET /v1/members/{id}/export (app): everything stored about the member (record, "
     "decrypted personal data, cards, consents and their history, status events, code "
     "metadata, ledger balance). Errors: not_found"},
    {MB_TYPE_HISTORY, true, &mb_empty_desc, &mb_history_rep_desc,
     "API GET /v1/members/{id}/history (app; query limit 1..1000, default 50, and "
     "starting_after, an entry's id or seq): the member's point movements, newest first, from "
     "the ledger's journal (a few hundred ms behind it). Errors: not_found, invalid_request"},
    {NULL, false, NULL, NULL, NULL},
};

const mb_msgtype_t *mb_msgtype_find(const char *type)
{
    for (const mb_msgtype_t *t = mb_msgtypes; t->type; t++)
        if (strcmp(t->type, type) == 0)
            return t;
    return NULL;
}
