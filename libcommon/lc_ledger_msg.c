/*
 * lc_ledger_msg.c: codec tables for the ledger's messages. proto/ledger.json is
 * the published form of these tables; tests/unit/test_proto_contract.c fails when
 * the two disagree.
 */
#include "lc_ledger_msg.h"
#include "lc_codec_macros.h"

#include <string.h>

const lc_name_t ld_kind_names[] = {
    {"member", LD_KIND_MEMBER},
    {"partner_issuance", LD_KIND_PARTNER_ISSUANCE},
    {"partner_redemption", LD_KIND_PARTNER_REDEMPTION},
    {"partner_prepayment", LD_KIND_PARTNER_PREPAYMENT},
    {"supplier_funding", LD_KIND_SUPPLIER_FUNDING},
    {"coalition_promotion", LD_KIND_COALITION_PROMOTION},
    {"coalition_breakage", LD_KIND_COALITION_BREAKAGE},
    {"charity", LD_KIND_CHARITY},
    {"charity_pool", LD_KIND_CHARITY_POOL},
    {"payout_clearing", LD_KIND_PAYOUT_CLEARING},
    {"operator", LD_KIND_OPERATOR},
    {NULL, 0},
};

const lc_name_t ld_account_flag_names[] = {
    {"debits_must_not_exceed_credits", LD_AF_DEBITS_MUST_NOT_EXCEED_CREDITS},
    {"credits_must_not_exceed_debits", LD_AF_CREDITS_MUST_NOT_EXCEED_DEBITS},
    {"lots", LD_AF_LOTS},
    {"frozen", LD_AF_FROZEN},
    {"closed", LD_AF_CLOSED},
    {NULL, 0},
};

const lc_name_t ld_transfer_flag_names[] = {
    {"linked", LD_TF_LINKED},
    {"pending", LD_TF_PENDING},
    {"post_pending", LD_TF_POST_PENDING},
    {"void_pending", LD_TF_VOID_PENDING},
    {"timeout", LD_TF_TIMEOUT},
    {"expiry", LD_TF_EXPIRY},
    {NULL, 0},
};

const lc_name_t ld_entry_type_names[] = {
    {"account", LD_ENTRY_ACCOUNT},
    {"transfer", LD_ENTRY_TRANSFER},
    {"account_flags", LD_ENTRY_ACCOUNT_FLAGS},
    {NULL, 0},
};

const lc_name_t ld_result_names[] = {
    {"ok", LD_OK},
    {"exists", LD_EXISTS},
    {"exists_with_different_debit_account_id", LD_EXISTS_WITH_DIFFERENT_DEBIT_ACCOUNT_ID},
    {"exists_with_different_credit_account_id", LD_EXISTS_WITH_DIFFERENT_CREDIT_ACCOUNT_ID},
    {"exists_with_different_amount", LD_EXISTS_WITH_DIFFERENT_AMOUNT},
    {"exists_with_different_pending_id", LD_EXISTS_WITH_DIFFERENT_PENDING_ID},
    {"exists_with_different_reverses", LD_EXISTS_WITH_DIFFERENT_REVERSES},
    {"exists_with_different_flags", LD_EXISTS_WITH_DIFFERENT_FLAGS},
    {"exists_with_different_code", LD_EXISTS_WITH_DIFFERENT_CODE},
    {"exists_with_different_user_data", LD_EXISTS_WITH_DIFFERENT_USER_DATA},
    {"exists_with_different_timeout", LD_EXISTS_WITH_DIFFERENT_TIMEOUT},
    {"exists_with_different_expires_at", LD_EXISTS_WITH_DIFFERENT_EXPIRES_AT},
    {"exists_with_different_kind", LD_EXISTS_WITH_DIFFERENT_KIND},
    {"id_already_failed", LD_ID_ALREADY_FAILED},
    {"linked_event_failed", LD_LINKED_EVENT_FAILED},
    {"linked_event_chain_open", LD_LINKED_EVENT_CHAIN_OPEN},
    {"id_must_not_be_zero", LD_ID_MUST_NOT_BE_ZERO},
    {"flags_are_mutually_exclusive", LD_FLAGS_ARE_MUTUALLY_EXCLUSIVE},
    {"flags_reserved", LD_FLAGS_RESERVED},
    {"accounts_must_be_different", LD_ACCOUNTS_MUST_BE_DIFFERENT},
    {"amount_must_be_positive", LD_AMOUNT_MUST_BE_POSITIVE},
    {"debit_account_not_found", LD_DEBIT_ACCOUNT_NOT_FOUND},
    {"credit_account_not_found", LD_CREDIT_ACCOUNT_NOT_FOUND},
    {"debit_account_frozen", LD_DEBIT_ACCOUNT_FROZEN},
    {"credit_account_frozen", LD_CREDIT_ACCOUNT_FROZEN},
    {"debit_account_closed", LD_DEBIT_ACCOUNT_CLOSED},
    {"credit_account_closed", LD_CREDIT_ACCOUNT_CLOSED},
    {"exceeds_credits", LD_EXCEEDS_CREDITS},
    {"exceeds_debits", LD_EXCEEDS_DEBITS},
    {"overflows", LD_OVERFLOWS},
    {"pending_id_required", LD_PENDING_ID_REQUIRED},
    {"pending_id_must_be_zero", LD_PENDING_ID_MUST_BE_ZERO},
    {"pending_id_must_be_different", LD_PENDING_ID_MUST_BE_DIFFERENT},
    {"pending_transfer_not_found", LD_PENDING_TRANSFER_NOT_FOUND},
    {"pending_transfer_not_pending", LD_PENDING_TRANSFER_NOT_PENDING},
    {"pending_transfer_already_posted", LD_PENDING_TRANSFER_ALREADY_POSTED},
    {"pending_transfer_already_voided", LD_PENDING_TRANSFER_ALREADY_VOIDED},
    {"pending_transfer_expired", LD_PENDING_TRANSFER_EXPIRED},
    {"pending_transfer_has_different_accounts", LD_PENDING_TRANSFER_HAS_DIFFERENT_ACCOUNTS},
    {"exceeds_pending_transfer_amount", LD_EXCEEDS_PENDING_TRANSFER_AMOUNT},
    {"timeout_reserved_for_pending", LD_TIMEOUT_RESERVED_FOR_PENDING},
    {"timeout_too_long", LD_TIMEOUT_TOO_LONG},
    {"expires_at_requires_lots_credit", LD_EXPIRES_AT_REQUIRES_LOTS_CREDIT},
    {"reversal_target_not_found", LD_REVERSAL_TARGET_NOT_FOUND},
    {"reversal_accounts_must_be_swapped", LD_REVERSAL_ACCOUNTS_MUST_BE_SWAPPED},
    {"reversal_of_pending_not_allowed", LD_REVERSAL_OF_PENDING_NOT_ALLOWED},
    {"exceeds_reversible_amount", LD_EXCEEDS_REVERSIBLE_AMOUNT},
    {"kind_invalid", LD_KIND_INVALID},
    {"account_flags_invalid", LD_ACCOUNT_FLAGS_INVALID},
    {"account_not_found", LD_ACCOUNT_NOT_FOUND},
    {"account_closed_for_good", LD_ACCOUNT_CLOSED_FOR_GOOD},
    {"debit_account_id_must_not_be_zero", LD_DEBIT_ACCOUNT_ID_MUST_NOT_BE_ZERO},
    {"credit_account_id_must_not_be_zero", LD_CREDIT_ACCOUNT_ID_MUST_NOT_BE_ZERO},
    {"reverses_must_be_zero", LD_REVERSES_MUST_BE_ZERO},
    {"expires_at_must_be_zero", LD_EXPIRES_AT_MUST_BE_ZERO},
    {NULL, 0},
};

bool ld_result_is_transient(ld_result_t r)
{
    switch (r) {
    case LD_DEBIT_ACCOUNT_NOT_FOUND:
    case LD_CREDIT_ACCOUNT_NOT_FOUND:
    case LD_DEBIT_ACCOUNT_FROZEN:
    case LD_CREDIT_ACCOUNT_FROZEN:
    case LD_DEBIT_ACCOUNT_CLOSED:
    case LD_CREDIT_ACCOUNT_CLOSED:
    case LD_EXCEEDS_CREDITS:
    case LD_EXCEEDS_DEBITS:
    case LD_OVERFLOWS:
    case LD_PENDING_TRANSFER_NOT_FOUND:
    case LD_PENDING_TRANSFER_NOT_PENDING:
    case LD_PENDING_TRANSFER_ALREADY_POSTED:
    case LD_PENDING_TRANSFER_ALREADY_VOIDED:
    case LD_PENDING_TRANSFER_EXPIRED:
    case LD_PENDING_TRANSFER_HAS_DIFFERENT_ACCOUNTS:
    case LD_EXCEEDS_PENDING_TRANSFER_AMOUNT:
    case LD_EXPIRES_AT_REQUIRES_LOTS_CREDIT:
    case LD_REVERSAL_TARGET_NOT_FOUND:
    case LD_REVERSAL_ACCOUNTS_MUST_BE_SWAPPED:
    case LD_REVERSAL_OF_PENDING_NOT_ALLOWED:
    case LD_EXCEEDS_REVERSIBLE_AMOUNT:
    case LD_LINKED_EVENT_FAILED:
        return true;
    default:
        return false;
    }
}

static const lc_field_t account_new_fields[] = {
    ID_F(ld_account_new_t, id, "id", REQ, "client-chosen 128-bit id, not zero"),
    ENUM_F(ld_account_new_t, kind, "kind", REQ, ld_kind_names, "what the account is for"),
    FLAGS_F(ld_account_new_t, flags, "flags", 0, ld_account_flag_names, "rules it enforces"),
    U32_F(ld_account_new_t, code, "code", 0, 0, UINT16_MAX, "owner's chart-of-accounts code"),
    ID_F(ld_account_new_t, user_data, "user_data", 0, "owner's reference, e.g. partner id"),
};
DESC(ld_account_new_desc, ld_account_new_t, account_new_fields);

static const lc_field_t account_view_fields[] = {
    ID_F(ld_account_view_t, id, "id", REQ, "account id"),
    ENUM_F(ld_account_view_t, kind, "kind", REQ, ld_kind_names, "account kind"),
    FLAGS_F(ld_account_view_t, flags, "flags", ALW, ld_account_flag_names, "current flags"),
    U32_F(ld_account_view_t, code, "code", 0, 0, UINT16_MAX, "owner's code"),
    ID_F(ld_account_view_t, user_data, "user_data", 0, "owner's reference"),
    I64_F(ld_account_view_t, debits_pending, "debits_pending", ALW, 0, INT64_MAX, "held debits"),
    I64_F(ld_account_view_t, debits_posted, "debits_posted", ALW, 0, INT64_MAX, "posted debits"),
    I64_F(ld_account_view_t, credits_pending, "credits_pending", ALW, 0, INT64_MAX,
          "pending credits (not spendable)"),
    I64_F(ld_account_view_t, credits_posted, "credits_posted", ALW, 0, INT64_MAX, "posted credits"),
    I64_F(ld_account_view_t, debt, "debt", ALW, 0, INT64_MAX,
          "points a reversal took below zero; later credits repay it first"),
    I64_F(ld_account_view_t, balance, "balance", ALW, INT64_MIN, INT64_MAX,
          "credits_posted - debits_posted"),
    I64_F(ld_account_view_t, available, "available", ALW, INT64_MIN, INT64_MAX,
          "balance - debits_pending"),
    TIME_F(ld_account_view_t, created_at, "created_at", REQ, "when it was created"),
};
DESC(ld_account_view_desc, ld_account_view_t, account_view_fields);

static const lc_field_t transfer_fields[] = {
    ID_F(ld_transfer_t, id, "id", REQ, "client-chosen 128-bit id: the idempotency key"),
    ID_F(ld_transfer_t, debit_account_id, "debit_account_id", 0,
         "account debited (required unless post_pending/void_pending)"),
    ID_F(ld_transfer_t, credit_account_id, "credit_account_id", 0,
         "account credited (required unless post_pending/void_pending)"),
    I64_F(ld_transfer_t, amount, "amount", 0, 0, LD_AMOUNT_MAX,
          "points, > 0; post_pending: 0 or absent posts the full hold"),
    ID_F(ld_transfer_t, pending_id, "pending_id", 0, "post_pending/void_pending: the hold"),
    ID_F(ld_transfer_t, reverses, "reverses", 0, "the transfer this one reverses"),
    FLAGS_F(ld_transfer_t, flags, "flags", 0, ld_transfer_flag_names, "linked, pending, ..."),
    U32_F(ld_transfer_t, code, "code", 0, 0, UINT16_MAX, "owner's entry type"),
    ID_F(ld_transfer_t, user_data, "user_data", 0, "owner's reference"),
    U32_F(ld_transfer_t, timeout, "timeout", 0, 0, LD_TIMEOUT_MAX,
          "pending: seconds until the hold voids itself; 0 = never"),
    TIME_F(ld_transfer_t, expires_at, "expires_at", 0, "credit to a lots account: lot expiry"),
};
DESC(ld_transfer_desc, ld_transfer_t, transfer_fields);

static const lc_field_t result_item_fields[] = {
    ID_F(ld_result_item_t, id, "id", REQ, "the account or transfer id"),
    ENUM_F(ld_result_item_t, result, "result", ALW, ld_result_names, "outcome"),
    I64_F(ld_result_item_t, seq, "seq", 0, 0, INT64_MAX, "journal sequence when applied"),
    TIME_F(ld_result_item_t, timestamp, "timestamp", 0, "when it was applied"),
};
DESC(ld_result_item_desc, ld_result_item_t, result_item_fields);

static const lc_field_t entry_fields[] = {
    I64_F(ld_entry_t, seq, "seq", REQ, 1, INT64_MAX, "gap-free journal sequence"),
    ENUM_F(ld_entry_t, type, "type", REQ, ld_entry_type_names, "account, transfer, ..."),
    ID_F(ld_entry_t, id, "id", REQ, "account or transfer id"),
    ID_F(ld_entry_t, debit_account_id, "debit_account_id", 0, "transfer: debited"),
    ID_F(ld_entry_t, credit_account_id, "credit_account_id", 0, "transfer: credited"),
    I64_F(ld_entry_t, amount, "amount", ALW, 0, LD_AMOUNT_MAX, "transfer: points moved"),
    ID_F(ld_entry_t, pending_id, "pending_id", 0, "the hold posted or voided"),
    ID_F(ld_entry_t, reverses, "reverses", 0, "the transfer reversed"),
    U32_F(ld_entry_t, flags, "flags", ALW, 0, UINT32_MAX,
          "bit set: transfer flags (type transfer) or account flags (account types)"),
    U32_F(ld_entry_t, code, "code", 0, 0, UINT16_MAX, "owner's code"),
    ENUM_F(ld_entry_t, kind, "kind", 0, ld_kind_names, "account: kind"),
    ID_F(ld_entry_t, user_data, "user_data", 0, "owner's reference"),
    U32_F(ld_entry_t, timeout, "timeout", 0, 0, LD_TIMEOUT_MAX, "pending: seconds"),
    TIME_F(ld_entry_t, expires_at, "expires_at", 0, "lot expiry"),
    TIME_F(ld_entry_t, timestamp, "timestamp", REQ, "when applied"),
    HASH_F(ld_entry_t, prev_hash, "prev_hash", REQ, "chain hash of the entry before"),
    HASH_F(ld_entry_t, hash, "hash", REQ, "SHA-256(prev_hash || canonical entry)"),
};
/* An entry's flags are transfer flags or account flags depending on its type, and
 * they are hashed as an integer, so entries carry them as the integer bit set. */
DESC(ld_entry_desc, ld_entry_t, entry_fields);

static const lc_field_t create_accounts_fields[] = {
    ARR_F(ld_create_accounts_req_t, accounts, naccounts, "accounts", REQ, ld_account_new_desc, 1,
          LD_BATCH_MAX, "1 to 1000 accounts"),
};
DESC(ld_create_accounts_req_desc, ld_create_accounts_req_t, create_accounts_fields);

static const lc_field_t create_transfers_fields[] = {
    ARR_F(ld_create_transfers_req_t, transfers, ntransfers, "transfers", REQ, ld_transfer_desc, 1,
          LD_BATCH_MAX, "1 to 1000 transfers; linked ones commit together"),
};
DESC(ld_create_transfers_req_desc, ld_create_transfers_req_t, create_transfers_fields);

static const lc_field_t results_fields[] = {
    ARR_F(ld_results_rep_t, results, nresults, "results", ALW, ld_result_item_desc, 0, LD_BATCH_MAX,
          "one per account or transfer, in request order"),
};
DESC(ld_results_rep_desc, ld_results_rep_t, results_fields);

static const lc_field_t lookup_fields[] = {
    IDS_F(ld_lookup_req_t, ids, nids, "ids", REQ, 1, LD_LOOKUP_MAX,
          "1 to 1000 ids; unknown ones are left out of the reply"),
};
DESC(ld_lookup_req_desc, ld_lookup_req_t, lookup_fields);

static const lc_field_t accounts_rep_fields[] = {
    ARR_F(ld_accounts_rep_t, accounts, naccounts, "accounts", ALW, ld_account_view_desc, 0,
          LD_LOOKUP_MAX, "found accounts, in request order"),
};
DESC(ld_accounts_rep_desc, ld_accounts_rep_t, accounts_rep_fields);

static const lc_field_t entries_rep_fields[] = {
    ARR_F(ld_entries_rep_t, entries, nentries, "entries", ALW, ld_entry_desc, 0, 10000,
          "journal entries in sequence order"),
    I64_F(ld_entries_rep_t, head_seq, "head_seq", ALW, 0, INT64_MAX, "last journal sequence"),
};
DESC(ld_entries_rep_desc, ld_entries_rep_t, entries_rep_fields);

static const lc_field_t set_flags_fields[] = {
    ID_F(ld_set_flags_req_t, id, "id", REQ, "the account"),
    FLAGS_F(ld_set_flags_req_t, set, "set", 0, ld_account_flag_names, "frozen and/or closed"),
    FLAGS_F(ld_set_flags_req_t, clear, "clear", 0, ld_account_flag_names, "frozen"),
};
DESC(ld_set_flags_req_desc, ld_set_flags_req_t, set_flags_fields);

static const lc_field_t lot_view_fields[] = {
    ID_F(ld_lot_view_t, id, "id", REQ, "lot id = the credit that created it"),
    I64_F(ld_lot_view_t, amount, "amount", ALW, 0, INT64_MAX, "points credited"),
    I64_F(ld_lot_view_t, remaining, "remaining", ALW, 0, INT64_MAX, "points not yet consumed"),
    TIME_F(ld_lot_view_t, expires_at, "expires_at", 0, "absent: never expires"),
};
DESC(ld_lot_view_desc, ld_lot_view_t, lot_view_fields);

static const lc_field_t lots_req_fields[] = {
    ID_F(ld_lots_req_t, account_id, "account_id", REQ, "a lots account"),
};
DESC(ld_lots_req_desc, ld_lots_req_t, lots_req_fields);

static const lc_field_t lots_rep_fields[] = {
    ARR_F(ld_lots_rep_t, lots, nlots, "lots", ALW, ld_lot_view_desc, 0, 100000,
          "lots with points remaining, soonest expiry first"),
};
DESC(ld_lots_rep_desc, ld_lots_rep_t, lots_rep_fields);

static const lc_field_t expire_req_fields[] = {
    TIME_F(ld_expire_req_t, as_of, "as_of", REQ, "lots with expires_at <= as_of expire"),
    ID_F(ld_expire_req_t, breakage_account_id, "breakage_account_id", REQ, "receives them"),
    U32_F(ld_expire_req_t, code, "code", 0, 0, UINT16_MAX, "entry code of expiry transfers"),
    I64_F(ld_expire_req_t, limit, "limit", 0, 0, LD_BATCH_MAX, "lots per call (default 1000)"),
};
DESC(ld_expire_req_desc, ld_expire_req_t, expire_req_fields);

static const lc_field_t expire_rep_fields[] = {
    ARR_F(ld_expire_rep_t, results, nresults, "results", ALW, ld_result_item_desc, 0, LD_BATCH_MAX,
          "one per expiry transfer posted"),
    I64_F(ld_expire_rep_t, points, "points", ALW, 0, INT64_MAX, "points expired"),
    BOOL_F(ld_expire_rep_t, more, "more", ALW, "more lots are due"),
};
DESC(ld_expire_rep_desc, ld_expire_rep_t, expire_rep_fields);

static const lc_field_t journal_req_fields[] = {
    I64_F(ld_journal_req_t, after_seq, "after_seq", 0, 0, INT64_MAX, "entries after this seq"),
    I64_F(ld_journal_req_t, limit, "limit", 0, 0, 10000, "at most (default 1000)"),
};
DESC(ld_journal_req_desc, ld_journal_req_t, journal_req_fields);

static const lc_field_t kind_total_fields[] = {
    ENUM_F(ld_kind_total_t, kind, "kind", REQ, ld_kind_names, "account kind"),
    I64_F(ld_kind_total_t, accounts, "accounts", ALW, 0, INT64_MAX, "how many"),
    I64_F(ld_kind_total_t, balance, "balance", ALW, INT64_MIN, INT64_MAX, "sum of balances"),
};
DESC(ld_kind_total_desc, ld_kind_total_t, kind_total_fields);

static const lc_field_t trial_balance_fields[] = {
    I64_F(ld_trial_balance_rep_t, sum, "sum", ALW, INT64_MIN, INT64_MAX, "always 0"),
    I64_F(ld_trial_balance_rep_t, accounts, "accounts", ALW, 0, INT64_MAX, "how many"),
    ARR_F(ld_trial_balance_rep_t, by_kind, nby_kind, "by_kind", ALW, ld_kind_total_desc, 0, 64,
          "per kind"),
    I64_F(ld_trial_balance_rep_t, journal_seq, "journal_seq", ALW, 0, INT64_MAX, "last seq"),
    HASH_F(ld_trial_balance_rep_t, chain_head, "chain_head", ALW, "hash of the last entry"),
};
DESC(ld_trial_balance_rep_desc, ld_trial_balance_rep_t, trial_balance_fields);

static const lc_field_t verify_fields[] = {
    BOOL_F(ld_verify_rep_t, ok, "ok", ALW, "chain and balances match"),
    I64_F(ld_verify_rep_t, entries_checked, "entries_checked", ALW, 0, INT64_MAX, "entries"),
    HASH_F(ld_verify_rep_t, head, "head", ALW, "recomputed chain head"),
    I64_F(ld_verify_rep_t, first_bad_seq, "first_bad_seq", 0, 0, INT64_MAX,
          "first entry that does not match"),
    STR_F(ld_verify_rep_t, reason, "reason", 0, 512, "what differs"),
};
DESC(ld_verify_rep_desc, ld_verify_rep_t, verify_fields);

static const lc_field_t ping_fields[] = {
    I64_F(ld_ping_rep_t, journal_seq, "journal_seq", ALW, 0, INT64_MAX, "last seq"),
    STR_F(ld_ping_rep_t, shard, "shard", ALW, 64, "shard name"),
};
DESC(ld_ping_rep_desc, ld_ping_rep_t, ping_fields);

const lc_msgdesc_t ld_empty_desc = {"ld_empty_t", sizeof(ld_empty_t), NULL, 0};

const ld_msgtype_t ld_msgtypes[] = {
    {LD_TYPE_CREATE_ACCOUNTS, &ld_create_accounts_req_desc, &ld_results_rep_desc,
     "create accounts; one result each"},
    {LD_TYPE_CREATE_TRANSFERS, &ld_create_transfers_req_desc, &ld_results_rep_desc,
     "create transfers; one result each; linked chains are atomic"},
    {LD_TYPE_LOOKUP_ACCOUNTS, &ld_lookup_req_desc, &ld_accounts_rep_desc, "accounts with balances"},
    {LD_TYPE_LOOKUP_TRANSFERS, &ld_lookup_req_desc, &ld_entries_rep_desc,
     "transfers as journal entries"},
    {LD_TYPE_SET_ACCOUNT_FLAGS, &ld_set_flags_req_desc, &ld_results_rep_desc,
     "freeze, unfreeze or close an account (journaled)"},
    {LD_TYPE_ACCOUNT_LOTS, &ld_lots_req_desc, &ld_lots_rep_desc, "an account's open lots"},
    {LD_TYPE_EXPIRE_LOTS, &ld_expire_req_desc, &ld_expire_rep_desc,
     "move the remaining points of expired lots to a breakage account"},
    {LD_TYPE_JOURNAL_READ, &ld_journal_req_desc, &ld_entries_rep_desc,
     "replay journal entries after a sequence number"},
    {LD_TYPE_TRIAL_BALANCE, &ld_empty_desc, &ld_trial_balance_rep_desc,
     "sum of all balances (0), per kind, chain head"},
    {LD_TYPE_VERIFY, &ld_empty_desc, &ld_verify_rep_desc,
     "recompute the hash chain and every balance from the journal"},
    {LD_TYPE_PING, &ld_empty_desc, &ld_ping_rep_desc, "liveness and journal head"},
    {NULL, NULL, NULL, NULL},
};

const ld_msgtype_t *ld_msgtype_find(const char *type)
{
    for (const ld_msgtype_t *t = ld_msgtypes; t->type; t++)
        if (strcmp(t->type, type) == 0)
            return t;
    return NULL;
}
