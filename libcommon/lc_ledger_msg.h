/*
 * lc_ledger_msg.h: the ledger's messages (proto/ledger.json), as C structs with
 * codec descriptors. The ledger service decodes requests and encodes replies with
 * these; every service that moves points (settlement, donation, members) uses the
 * same structs as a client. Field meanings are documented in proto/ledger.json.
 */
#ifndef LC_LEDGER_MSG_H
#define LC_LEDGER_MSG_H

#include "lc_codec.h"
#include "lc_crypto.h"
#include "lc_id.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Largest amount: JSON-safe (2^53 - 1), as API.md allows for points. */
#define LD_AMOUNT_MAX INT64_C(9007199254740991)
#define LD_BATCH_MAX 1000    /* accounts or transfers per request */
#define LD_LOOKUP_MAX 1000   /* ids per lookup */
#define LD_TIMEOUT_MAX (30u * 86400u) /* longest hold: 30 days, in seconds */

/* ---- accounts ------------------------------------------------------------------ */

typedef enum ld_kind {
    LD_KIND_MEMBER = 1,
    LD_KIND_PARTNER_ISSUANCE = 2,
    LD_KIND_PARTNER_REDEMPTION = 3,
    LD_KIND_PARTNER_PREPAYMENT = 4,
    LD_KIND_SUPPLIER_FUNDING = 5,
    LD_KIND_COALITION_PROMOTION = 6,
    LD_KIND_COALITION_BREAKAGE = 7,
    LD_KIND_CHARITY = 8,
    LD_KIND_CHARITY_POOL = 9,
    LD_KIND_PAYOUT_CLEARING = 10,
    LD_KIND_OPERATOR = 11,
} ld_kind_t;
extern const lc_name_t ld_kind_names[];

enum {
    LD_AF_DEBITS_MUST_NOT_EXCEED_CREDITS = 1u << 0, /* no overdraft (members, prepaid) */
    LD_AF_CREDITS_MUST_NOT_EXCEED_DEBITS = 1u << 1,
    LD_AF_LOTS = 1u << 2,   /* credits become lots, debits consume them oldest-first */
    LD_AF_FROZEN = 1u << 3, /* no new transfers touch it (voids of holds excepted) */
    LD_AF_CLOSED = 1u << 4, /* frozen for good: cannot be unset */
};
#define LD_AF_SETTABLE (LD_AF_FROZEN | LD_AF_CLOSED) /* what set_account_flags may change */
extern const lc_name_t ld_account_flag_names[];

typedef struct ld_account_new {
    lc_id_t id;
    int kind;          /* ld_kind_t */
    uint32_t flags;    /* LD_AF_*, except FROZEN/CLOSED at creation is allowed */
    uint32_t code;     /* free for the owning service (e.g. a chart-of-accounts code) */
    lc_id_t user_data; /* free for the owning service (e.g. the partner's id) */
} ld_account_new_t;

typedef struct ld_account_view {
    lc_id_t id;
    int kind;
    uint32_t flags;
    uint32_t code;
    lc_id_t user_data;
    int64_t debits_pending, debits_posted, credits_pending, credits_posted;
    int64_t debt;      /* points a reversal took below zero, repaid by later credits */
    int64_t balance;   /* credits_posted - debits_posted */
    int64_t available; /* balance - debits_pending */
    int64_t created_at;
} ld_account_view_t;

/* ---- transfers ----------------------------------------------------------------- */

enum {
    LD_TF_LINKED = 1u << 0,       /* commits or fails together with the next transfer */
    LD_TF_PENDING = 1u << 1,      /* two-phase: reserve now, post or void later */
    LD_TF_POST_PENDING = 1u << 2, /* post (all or part of) pending_id */
    LD_TF_VOID_PENDING = 1u << 3, /* release pending_id */
    LD_TF_TIMEOUT = 1u << 4,      /* set by the ledger on the void of an expired hold */
    LD_TF_EXPIRY = 1u << 5,       /* set by the ledger on a lot expiry (user_data = lot) */
};
#define LD_TF_CLIENT (LD_TF_LINKED | LD_TF_PENDING | LD_TF_POST_PENDING | LD_TF_VOID_PENDING)
extern const lc_name_t ld_transfer_flag_names[];

typedef struct ld_transfer {
    lc_id_t id;
    lc_id_t debit_account_id;
    lc_id_t credit_account_id;
    int64_t amount;        /* > 0; for post_pending 0 = the full pending amount */
    lc_id_t pending_id;    /* post_pending / void_pending: the hold */
    lc_id_t reverses;      /* a reversal names the transfer it reverses */
    uint32_t flags;        /* LD_TF_* */
    uint32_t code;         /* the owning service's entry type (earn, bonus, ...) */
    lc_id_t user_data;     /* the owning service's reference (earn id, ...) */
    uint32_t timeout;      /* pending: seconds until it voids itself; 0 = never */
    int64_t expires_at;    /* credit to a lots account: when the lot expires; 0 = never */
} ld_transfer_t;

/* Results, one per account or transfer (TigerBeetle's semantics, see proto/).
 * The values are stored (ledger.failed.result): append new ones, never renumber. */
typedef enum ld_result {
    LD_OK = 0,
    LD_EXISTS,
    LD_EXISTS_WITH_DIFFERENT_DEBIT_ACCOUNT_ID,
    LD_EXISTS_WITH_DIFFERENT_CREDIT_ACCOUNT_ID,
    LD_EXISTS_WITH_DIFFERENT_AMOUNT,
    LD_EXISTS_WITH_DIFFERENT_PENDING_ID,
    LD_EXISTS_WITH_DIFFERENT_REVERSES,
    LD_EXISTS_WITH_DIFFERENT_FLAGS,
    LD_EXISTS_WITH_DIFFERENT_CODE,
    LD_EXISTS_WITH_DIFFERENT_USER_DATA,
    LD_EXISTS_WITH_DIFFERENT_TIMEOUT,
    LD_EXISTS_WITH_DIFFERENT_EXPIRES_AT,
    LD_EXISTS_WITH_DIFFERENT_KIND,
    LD_ID_ALREADY_FAILED,
    LD_LINKED_EVENT_FAILED,
    LD_LINKED_EVENT_CHAIN_OPEN,
    LD_ID_MUST_NOT_BE_ZERO,
    LD_FLAGS_ARE_MUTUALLY_EXCLUSIVE,
    LD_FLAGS_RESERVED,
    LD_ACCOUNTS_MUST_BE_DIFFERENT,
    LD_AMOUNT_MUST_BE_POSITIVE,
    LD_DEBIT_ACCOUNT_NOT_FOUND,
    LD_CREDIT_ACCOUNT_NOT_FOUND,
    LD_DEBIT_ACCOUNT_FROZEN,
    LD_CREDIT_ACCOUNT_FROZEN,
    LD_DEBIT_ACCOUNT_CLOSED,
    LD_CREDIT_ACCOUNT_CLOSED,
    LD_EXCEEDS_CREDITS,
    LD_EXCEEDS_DEBITS,
    LD_OVERFLOWS,
    LD_PENDING_ID_REQUIRED,
    LD_PENDING_ID_MUST_BE_ZERO,
    LD_PENDING_ID_MUST_BE_DIFFERENT,
    LD_PENDING_TRANSFER_NOT_FOUND,
    LD_PENDING_TRANSFER_NOT_PENDING,
    LD_PENDING_TRANSFER_ALREADY_POSTED,
    LD_PENDING_TRANSFER_ALREADY_VOIDED,
    LD_PENDING_TRANSFER_EXPIRED,
    LD_PENDING_TRANSFER_HAS_DIFFERENT_ACCOUNTS,
    LD_EXCEEDS_PENDING_TRANSFER_AMOUNT,
    LD_TIMEOUT_RESERVED_FOR_PENDING,
    LD_TIMEOUT_TOO_LONG,
    LD_EXPIRES_AT_REQUIRES_LOTS_CREDIT,
    LD_REVERSAL_TARGET_NOT_FOUND,
    LD_REVERSAL_ACCOUNTS_MUST_BE_SWAPPED,
    LD_REVERSAL_OF_PENDING_NOT_ALLOWED,
    LD_EXCEEDS_REVERSIBLE_AMOUNT,
    LD_KIND_INVALID,
    LD_ACCOUNT_FLAGS_INVALID,
    LD_ACCOUNT_NOT_FOUND,
    LD_ACCOUNT_CLOSED_FOR_GOOD,
    LD_DEBIT_ACCOUNT_ID_MUST_NOT_BE_ZERO,
    LD_CREDIT_ACCOUNT_ID_MUST_NOT_BE_ZERO,
    LD_REVERSES_MUST_BE_ZERO,
    LD_EXPIRES_AT_MUST_BE_ZERO,
    LD_RESULT_COUNT
} ld_result_t;
extern const lc_name_t ld_result_names[];

/* True for results that depend on ledger state: the id is then burned and a retry
 * answers id_already_failed. Validation results (malformed input) are not. */
bool ld_result_is_transient(ld_result_t r);

typedef struct ld_result_item {
    lc_id_t id;
    int result;      /* ld_result_t */
    int64_t seq;     /* journal sequence of the entry, when ok or exists */
    int64_t timestamp;
} ld_result_item_t;

/* ---- journal ---------------------------------------------------------------------- */

typedef enum ld_entry_type {
    LD_ENTRY_ACCOUNT = 1,
    LD_ENTRY_TRANSFER = 2,
    LD_ENTRY_ACCOUNT_FLAGS = 3,
} ld_entry_type_t;
extern const lc_name_t ld_entry_type_names[];

/* One journal entry, as stored, published and hashed (see proto/README.md). */
typedef struct ld_entry {
    int64_t seq;
    int type;                 /* ld_entry_type_t */
    lc_id_t id;               /* the account or transfer */
    lc_id_t debit_account_id; /* transfers */
    lc_id_t credit_account_id;
    int64_t amount;           /* transfers: the amount that moved (or was released) */
    lc_id_t pending_id;
    lc_id_t reverses;
    uint32_t flags;           /* transfer flags, or the account's flags after the entry */
    uint32_t code;
    int kind;                 /* accounts: ld_kind_t */
    lc_id_t user_data;
    uint32_t timeout;
    int64_t expires_at;
    int64_t timestamp;        /* when the ledger applied it, Unix microseconds */
    uint8_t prev_hash[LC_SHA256_LEN];
    uint8_t hash[LC_SHA256_LEN];
} ld_entry_t;

/* ---- request and reply bodies ---------------------------------------------------- */

typedef struct ld_create_accounts_req {
    ld_account_new_t *accounts;
    size_t naccounts;
} ld_create_accounts_req_t;

typedef struct ld_create_transfers_req {
    ld_transfer_t *transfers;
    size_t ntransfers;
} ld_create_transfers_req_t;

typedef struct ld_results_rep {
    ld_result_item_t *results;
    size_t nresults;
} ld_results_rep_t;

typedef struct ld_lookup_req {
    lc_id_t *ids;
    size_t nids;
} ld_lookup_req_t;

typedef struct ld_accounts_rep {
    ld_account_view_t *accounts;
    size_t naccounts;
} ld_accounts_rep_t;

typedef struct ld_entries_rep {
    ld_entry_t *entries;
    size_t nentries;
    int64_t head_seq; /* the journal's last sequence number */
} ld_entries_rep_t;

typedef struct ld_set_flags_req {
    lc_id_t id;
    uint32_t set;   /* LD_AF_SETTABLE bits to set */
    uint32_t clear; /* LD_AF_SETTABLE bits to clear (CLOSED cannot be cleared) */
} ld_set_flags_req_t;

typedef struct ld_lot_view {
    lc_id_t id;
    int64_t amount;
    int64_t remaining;
    int64_t expires_at;
} ld_lot_view_t;

typedef struct ld_lots_req {
    lc_id_t account_id;
} ld_lots_req_t;

typedef struct ld_lots_rep {
    ld_lot_view_t *lots;
    size_t nlots;
} ld_lots_rep_t;

typedef struct ld_expire_req {
    int64_t as_of;               /* lots with expires_at <= as_of expire */
    lc_id_t breakage_account_id; /* where expired points go */
    uint32_t code;               /* entry code for the expiry transfers */
    int64_t limit;               /* at most this many lots per call */
} ld_expire_req_t;

typedef struct ld_expire_rep {
    ld_result_item_t *results;
    size_t nresults;
    int64_t points;  /* total points expired by this call */
    bool more;       /* more lots are due: call again */
} ld_expire_rep_t;

typedef struct ld_journal_req {
    int64_t after_seq;
    int64_t limit;
} ld_journal_req_t;

typedef struct ld_kind_total {
    int kind;
    int64_t accounts;
    int64_t balance; /* sum of credits_posted - debits_posted */
} ld_kind_total_t;

typedef struct ld_trial_balance_rep {
    int64_t sum;      /* always 0: the double-entry invariant */
    int64_t accounts;
    ld_kind_total_t *by_kind;
    size_t nby_kind;
    int64_t journal_seq;
    uint8_t chain_head[LC_SHA256_LEN];
} ld_trial_balance_rep_t;

typedef struct ld_verify_rep {
    bool ok;
    int64_t entries_checked;
    uint8_t head[LC_SHA256_LEN];
    int64_t first_bad_seq; /* 0 when ok */
    char *reason;          /* what did not match, when not ok */
} ld_verify_rep_t;

typedef struct ld_ping_rep {
    int64_t journal_seq;
    char *shard;
} ld_ping_rep_t;

typedef struct ld_empty {
    int unused;
} ld_empty_t;

/* Descriptors. */
extern const lc_msgdesc_t ld_account_new_desc, ld_account_view_desc, ld_transfer_desc,
    ld_result_item_desc, ld_entry_desc, ld_create_accounts_req_desc,
    ld_create_transfers_req_desc, ld_results_rep_desc, ld_lookup_req_desc, ld_accounts_rep_desc,
    ld_entries_rep_desc, ld_set_flags_req_desc, ld_lots_req_desc, ld_lots_rep_desc,
    ld_expire_req_desc, ld_expire_rep_desc, ld_journal_req_desc, ld_trial_balance_rep_desc,
    ld_verify_rep_desc, ld_ping_rep_desc, ld_empty_desc;

/* The message types the ledger serves: type name, request body, reply body. */
typedef struct ld_msgtype {
    const char *type;
    const lc_msgdesc_t *request;
    const lc_msgdesc_t *reply;
    const char *doc;
} ld_msgtype_t;
extern const ld_msgtype_t ld_msgtypes[];
const ld_msgtype_t *ld_msgtype_find(const char *type);

#define LD_TYPE_CREATE_ACCOUNTS "ledger.create_accounts"
#define LD_TYPE_CREATE_TRANSFERS "ledger.create_transfers"
#define LD_TYPE_LOOKUP_ACCOUNTS "ledger.lookup_accounts"
#define LD_TYPE_LOOKUP_TRANSFERS "ledger.lookup_transfers"
#define LD_TYPE_SET_ACCOUNT_FLAGS "ledger.set_account_flags"
#define LD_TYPE_ACCOUNT_LOTS "ledger.account_lots"
#define LD_TYPE_EXPIRE_LOTS "ledger.expire_lots"
#define LD_TYPE_JOURNAL_READ "ledger.journal_read"
#define LD_TYPE_TRIAL_BALANCE "ledger.trial_balance"
#define LD_TYPE_VERIFY "ledger.verify"
#define LD_TYPE_PING "ledger.ping"

/* The topic of journal entries on the ledger's PUB socket. */
#define LD_JOURNAL_TOPIC "journal"

#endif
