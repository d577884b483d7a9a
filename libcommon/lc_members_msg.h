/*
 * lc_members_msg.h: the members service's messages (proto/members.json), as C
 * structs with codec descriptors. The members service decodes requests and
 * encodes replies with these; the gateway and settlement use the same structs as
 * clients.
 *
 * Two kinds of message types:
 *   - API calls (lc_api.h): the bus body is an lc_api_req_t whose "request" is
 *     decoded with the type's request descriptor, and whose reply body is the HTTP
 *     response body of API.md. Errors are API.md error codes.
 *   - Internal calls (members.ping, members.resolve_card, members.consume_code):
 *     the bus body itself is decoded with the request descriptor; body errors are
 *     envelope codes (missing_field, invalid_field, unknown_field).
 */
#ifndef LC_MEMBERS_MSG_H
#define LC_MEMBERS_MSG_H

#include "lc_codec.h"
#include "lc_id.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define MB_CARD_DIGITS 16         /* a card number: 16 digits, the last a Luhn check digit */
#define MB_CARD_MAX 64            /* longest card_number string the codec accepts */
#define MB_EMAIL_MAX 254          /* RFC 5321 path limit */
#define MB_REASON_MAX 500         /* freeze / unfreeze reason */
#define MB_CODE_MAX 64            /* longest member_code string the codec accepts */
#define MB_EXPIRING_MAX 5         /* members.get lists at most this many expiring lots */
#define MB_CARDS_MAX 100          /* cards on one member account */
#define MB_NAME_MAX 200           /* the member's name (personal data) */
#define MB_EXPORT_ROWS_MAX 100000 /* rows of one kind in an export (codes, events) */

/* Member status (stored as these values). */
typedef enum mb_status {
    MB_STATUS_ACTIVE = 1,
    MB_STATUS_FROZEN = 2,
} mb_status_t;
extern const lc_name_t mb_status_names[];

/* Tiers are computed by settlement (services/settlement/st_tier.c) and reported with
 * members.set_tier; their names are the setting tiers.names (libcommon/lc_tiers.h),
 * so a tier travels to clients as its configured name. */

typedef struct mb_empty {
    int unused;
} mb_empty_t;

typedef struct mb_consents {
    bool marketing;
    bool profiling;
} mb_consents_t;

/* Where a consent change came from (members.consent_events.source). */
typedef enum mb_consent_source {
    MB_CONSENT_ENROLL = 1,    /* the consents given at enrollment */
    MB_CONSENT_APP = 2,       /* members.set_consents */
    MB_CONSENT_ERASURE = 3,   /* withdrawn by members.erase */
    MB_CONSENT_MIGRATION = 4, /* the state found when schema v2 was applied */
} mb_consent_source_t;
extern const lc_name_t mb_consent_source_names[];

/* members.enroll request (POST /v1/members). */
typedef struct mb_enroll_req {
    char *card_number; /* NULL: generate one */
    char *email;       /* personal data: stored encrypted under the member's key */
    char *name;        /* personal data: stored encrypted under the member's key */
    mb_consents_t consents;
} mb_enroll_req_t;

/* members.enroll reply. */
typedef struct mb_enroll_rep {
    lc_id_t id;
    char *card_number; /* the card enrolled with */
    int status;        /* mb_status_t */
} mb_enroll_rep_t;

/* members.add_card request (POST /v1/members/{id}/cards). */
typedef struct mb_add_card_req {
    char *card_number; /* NULL: generate one */
} mb_add_card_req_t;

/* members.add_card reply. */
typedef struct mb_card_rep {
    char *card_number;
    lc_id_t member_id;
} mb_card_rep_t;

/* members.card_balance reply (GET /v1/cards/{card_number}/balance). */
typedef struct mb_balance_rep {
    lc_id_t member_id;
    int64_t available; /* the ledger's available: spendable now */
    int64_t pending;   /* the ledger's credits_pending: earned, not yet matured */
    char *tier;        /* the tier's name (borrowed when encoding) */
} mb_balance_rep_t;

typedef struct mb_expiring {
    int64_t points;
    int64_t expires_at; /* Unix microseconds */
} mb_expiring_t;

/* members.get reply (GET /v1/members/{id}). */
typedef struct mb_member_rep {
    lc_id_t id;
    int status; /* mb_status_t */
    int64_t available;
    int64_t pending;
    char *tier; /* the tier's name (borrowed when encoding) */
    mb_expiring_t *expiring;
    size_t nexpiring;
    char **card_numbers; /* the member's cards, oldest first (LC_FT_STRS) */
    size_t ncard_numbers;
    mb_consents_t consents; /* current consents */
    bool erased;            /* personal data erased (members.erase) */
    int64_t erased_at;      /* when (0: not erased) */
} mb_member_rep_t;

/* members.issue_code reply (POST /v1/members/{id}/codes). */
typedef struct mb_code_rep {
    char *code;
    int64_t expires_at;
} mb_code_rep_t;

/* members.freeze / members.unfreeze request and reply. */
typedef struct mb_status_req {
    char *reason;
} mb_status_req_t;

typedef struct mb_status_rep {
    lc_id_t id;
    int status;
} mb_status_rep_t;

/* members.set_consents reply (POST /v1/members/{id}/consents); the request is
 * an mb_consents_t whose absent fields stay as they are. */
typedef struct mb_consents_rep {
    lc_id_t id;
    mb_consents_t consents;
    int64_t updated_at; /* the last change (enrollment's time when none since) */
} mb_consents_rep_t;

/* members.erase reply (DELETE /v1/members/{id}/personal-data). */
typedef struct mb_erase_rep {
    lc_id_t id;
    int64_t erased_at; /* the first erasure's time: a repeat answers the same */
} mb_erase_rep_t;

/* members.export reply (GET /v1/members/{id}/export): everything stored about
 * one member. Strings and arrays are owned (lc_codec_clear frees them). */
typedef struct mb_personal {
    char *email; /* NULL: none given, or erased */
    char *name;
} mb_personal_t;

typedef struct mb_export_card {
    char *card_number;
    lc_id_t added_by; /* the partner that added it */
    int64_t created_at;
} mb_export_card_t;

typedef struct mb_consent_event {
    bool marketing;
    bool profiling;
    int source; /* mb_consent_source_t */
    int64_t at;
} mb_consent_event_t;

typedef struct mb_status_event {
    int status;   /* mb_status_t */
    char *reason; /* NULL once erased */
    int64_t at;
} mb_status_event_t;

typedef struct mb_export_code {
    int64_t created_at;
    int64_t expires_at;
    int64_t used_at; /* 0: not used */
    int64_t failures;
    bool invalidated;
} mb_export_code_t;

typedef struct mb_code_failure {
    int64_t at;
} mb_code_failure_t;

typedef struct mb_export_balance {
    int64_t available; /* the ledger's available */
    int64_t pending;   /* credits_pending */
    int64_t held;      /* debits_pending: authorized redemptions */
    int64_t balance;   /* credits_posted - debits_posted */
    int64_t debt;      /* points a return took below zero */
} mb_export_balance_t;

typedef struct mb_export_rep {
    lc_id_t id;
    int status; /* mb_status_t */
    lc_id_t enrolled_by;
    int64_t created_at;
    bool erased;
    int64_t erased_at;
    mb_personal_t personal_data;
    mb_consents_t consents;
    mb_export_card_t *cards;
    size_t ncards;
    mb_consent_event_t *consent_history;
    size_t nconsent_history;
    mb_status_event_t *status_events;
    size_t nstatus_events;
    mb_export_code_t *codes;
    size_t ncodes;
    mb_code_failure_t *code_failures;
    size_t ncode_failures;
    mb_export_balance_t balance;
    char *tier; /* the tier's name (owned: cleared with the reply) */
} mb_export_rep_t;

/* members.history (GET /v1/members/{id}/history): the member's journal entries,
 * newest first. Derived from the ledger's journal by services/members/mb_history.c. */
typedef enum mb_history_type {
    MB_HISTORY_EARN = 1,       /* points earned at a partner (posted at once) */
    MB_HISTORY_BONUS = 2,      /* a bonus funded by a supplier or the coalition */
    MB_HISTORY_PENDING = 3,    /* an earn held until it matures (not yet spendable) */
    MB_HISTORY_MATURED = 4,    /* a pending earn became spendable */
    MB_HISTORY_REDEMPTION = 5, /* a captured redemption (authorizations are not shown) */
    MB_HISTORY_REFUND = 6,     /* a refund of a captured redemption */
    MB_HISTORY_RETURN = 7,     /* goods returned: earned points taken back */
    MB_HISTORY_GRANT = 8,      /* survey, referral, goodwill points from a partner */
    MB_HISTORY_DONATION = 9,   /* points given to a charity or the shared pool */
    MB_HISTORY_EXPIRY = 10,    /* points of an expired lot */
    MB_HISTORY_ADJUSTMENT = 11,/* anything else that moved the member's points */
} mb_history_type_t;
extern const lc_name_t mb_history_type_names[];
#define MB_HISTORY_TYPE_MAX 16 /* longest type name */
#define MB_HISTORY_DEFAULT 50  /* default "limit" */

typedef struct mb_history_item {
    lc_id_t id;         /* the ledger transfer */
    char *type;         /* a name of mb_history_type_names */
    int64_t points;     /* + credited to the member, - debited */
    lc_id_t partner_id; /* the partner (earn, redemption, ...), when any */
    lc_id_t charity_id; /* the charity (donation), when any */
    int64_t at;         /* the ledger's timestamp */
    int64_t seq;        /* the journal sequence */
} mb_history_item_t;

typedef struct mb_history_rep {
    mb_history_item_t *data;
    size_t ndata;
    bool has_more;
} mb_history_rep_t;

/* members.resolve_card (internal). */
typedef struct mb_resolve_card_req {
    char *card_number;
} mb_resolve_card_req_t;

typedef struct mb_resolve_card_rep {
    lc_id_t member_id;
    int status;
} mb_resolve_card_rep_t;

/* members.set_tier (internal, from settlement): request, and reply (what members
 * holds afterwards). */
typedef struct mb_set_tier {
    lc_id_t member_id;
    int64_t tier;    /* index into tiers.names, 0 = lowest */
    int64_t version; /* settlement's change counter: the highest wins */
} mb_set_tier_t;

/* members.consume_code (internal). */
typedef struct mb_consume_code_req {
    lc_id_t member_id;
    char *code;
    lc_id_t use_id; /* chosen by the caller, derived from the redemption: the retry key */
    int64_t points; /* the redemption's points (0: not said), for the cooling-off rule */
} mb_consume_code_req_t;

extern const lc_msgdesc_t mb_empty_desc, mb_consents_desc, mb_enroll_req_desc, mb_enroll_rep_desc,
    mb_add_card_req_desc, mb_card_rep_desc, mb_balance_rep_desc, mb_expiring_desc,
    mb_member_rep_desc, mb_code_rep_desc, mb_status_req_desc, mb_status_rep_desc,
    mb_resolve_card_req_desc, mb_resolve_card_rep_desc, mb_consume_code_req_desc,
    mb_consents_rep_desc, mb_erase_rep_desc, mb_personal_desc, mb_export_card_desc,
    mb_consent_event_desc, mb_status_event_desc, mb_export_code_desc, mb_code_failure_desc,
    mb_export_balance_desc, mb_export_rep_desc, mb_history_item_desc, mb_history_rep_desc,
    mb_set_tier_desc;

#define MB_TYPE_PING "members.ping"
#define MB_TYPE_ENROLL "members.enroll"
#define MB_TYPE_ADD_CARD "members.add_card"
#define MB_TYPE_CARD_BALANCE "members.card_balance"
#define MB_TYPE_GET "members.get"
#define MB_TYPE_ISSUE_CODE "members.issue_code"
#define MB_TYPE_FREEZE "members.freeze"
#define MB_TYPE_UNFREEZE "members.unfreeze"
#define MB_TYPE_RESOLVE_CARD "members.resolve_card"
#define MB_TYPE_CONSUME_CODE "members.consume_code"
#define MB_TYPE_SET_CONSENTS "members.set_consents"
#define MB_TYPE_ERASE "members.erase"
#define MB_TYPE_EXPORT "members.export"
#define MB_TYPE_HISTORY "members.history"
#define MB_TYPE_SET_TIER "members.set_tier"

/* The message types the members service serves. api: the body is an API call
 * (lc_api_req_t) whose "request" the request descriptor decodes; otherwise the
 * body itself is decoded. */
typedef struct mb_msgtype {
    const char *type;
    bool api;
    const lc_msgdesc_t *request;
    const lc_msgdesc_t *reply;
    const char *doc;
} mb_msgtype_t;
extern const mb_msgtype_t mb_msgtypes[];
const mb_msgtype_t *mb_msgtype_find(const char *type);

#endif
