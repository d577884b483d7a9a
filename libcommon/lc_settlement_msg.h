/*
 * lc_settlement_msg.h: the settlement service's messages (proto/settlement.json), as
 * C structs with codec descriptors, plus the bodies of the members service's
 * internal calls that settlement makes.
 *
 * Most settlement types are API calls (proto/README.md section 11): their bus body
 * is an lc_api_req_t whose "request" member is decoded with the request descriptor
 * below, and whose reply body is the HTTP response body of API.md.
 *
 * String lists (excluded_categories, coupon_codes, coupons_applied) are LC_FT_STRS
 * fields: char ** plus a count, each string 1 to ST_CATEGORY_MAX bytes.
 */
#ifndef LC_SETTLEMENT_MSG_H
#define LC_SETTLEMENT_MSG_H

#include "lc_api.h"
#include "lc_codec.h"
#include "lc_id.h"
#include "lc_ledger_msg.h"

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define ST_NAME_MAX 200         /* bytes of a partner name */
#define ST_CATEGORY_MAX 64      /* bytes of a category, sku or coupon code */
#define ST_CATEGORIES_MAX 100   /* excluded categories of one partner */
#define ST_CARD_MAX 64          /* bytes of a card number */
#define ST_RECEIPT_MAX 128      /* bytes of a receipt id */
#define ST_MEMBER_CODE_MAX 64   /* bytes of a one-time member code */
#define ST_ITEMS_MAX 1000       /* items of one earn */
#define ST_COUPONS_MAX 100      /* coupon codes of one earn */
#define ST_PENDING_DAYS_MAX 365 /* longest wait before earned points mature */
#define ST_FEE_BPS_MAX 10000    /* 100 % */

/* Ledger transfer codes settlement writes (the journal's `code`, for statements). */
enum {
    ST_CODE_EARN = 1,       /* issuance -> member (plain, or pending until mature) */
    ST_CODE_EARN_MATURE = 2, /* post of a pending earn */
    ST_CODE_RETURN = 3,     /* member -> issuance, reverses an earn (or re-holds it) */
    ST_CODE_REDEEM = 4,     /* member -> redemption (hold, its post or void) */
    ST_CODE_REFUND = 5,     /* redemption -> member, reverses a captured redemption */
    ST_CODE_GRANT = 6,      /* issuance -> member: survey, referral, goodwill */
    ST_CODE_PREPAY = 7,     /* prepayment -> issuance: a prepaid partner buys points */
    ST_CODE_EXPIRY = 8,     /* member -> breakage: a lot's remaining points expired
                               (ledger.expire_lots; flags expiry, user_data = the lot) */
    ST_CODE_TIER_BONUS = 9, /* promotion -> member: the member's tier bonus on an earn,
                               linked with its base transfer (user_data = the earn) */
    ST_CODE_ADJUSTMENT = 10, /* adjustment <-> member: a four-eyes correction, credit
                                or debit (user_data = the adjustment) */
};

/* Ledger account codes of a partner's accounts (account `code`, user_data = partner). */
enum {
    ST_ACCOUNT_ISSUANCE = 1,
    ST_ACCOUNT_REDEMPTION = 2,
    ST_ACCOUNT_PREPAYMENT = 3,
    ST_ACCOUNT_BREAKAGE = 4, /* the coalition's breakage account (st_breakage_account) */
    ST_ACCOUNT_PROMOTION = 5, /* the coalition's promotion account (st_promotion_account) */
    ST_ACCOUNT_SUPPLIER = 6,  /* a supplier's funding account (st_supplier_account) */
    ST_ACCOUNT_ADJUSTMENT = 7, /* the coalition's adjustment account (st_adjustment_account) */
};

/* The coalition's breakage account, kind coalition_breakage, which receives expired
 * points: a well-known id, UUIDv8 derived from the bytes "coalition/settlement" with
 * label "breakage" (lc_id_derive_bytes). Settlement creates it at start. */
void st_breakage_account(lc_id_t *out);
/* The coalition's promotion account, kind coalition_promotion, which pays for
 * coalition-funded coupon bonuses: derived like the breakage account, label
 * "promotion". Created by settlement on first use (a coupon funded by the coalition). */
void st_promotion_account(lc_id_t *out);
/* A supplier's funding account, kind supplier_funding: lc_id_derive(supplier,
 * "supplier_funding"), user_data = the supplier id. Created on first use (the first
 * coupon that supplier funds). */
void st_supplier_account(const lc_id_t *supplier, lc_id_t *out);

/* ---- enums ------------------------------------------------------------------------- */

typedef enum st_funding {
    ST_FUNDING_POSTPAID = 1, /* billed for issued points after the period */
    ST_FUNDING_PREPAID = 2,  /* buys points in advance; earns stop when the budget is used */
} st_funding_t;
extern const lc_name_t st_funding_names[];

typedef enum st_earn_status {
    ST_EARN_POSTED = 1,  /* spendable */
    ST_EARN_PENDING = 2, /* held until available_at, not spendable */
} st_earn_status_t;
extern const lc_name_t st_earn_status_names[];

typedef enum st_redemption_status {
    ST_RED_AUTHORIZED = 1, /* points held */
    ST_RED_CAPTURED = 2,   /* points spent (perhaps fewer than held) */
    ST_RED_VOIDED = 3,     /* hold released by the partner */
    ST_RED_EXPIRED = 4,    /* hold released by its timeout */
} st_redemption_status_t;
extern const lc_name_t st_redemption_status_names[];

typedef enum st_grant_reason {
    ST_GRANT_SURVEY = 1,
    ST_GRANT_REFERRAL = 2,
    ST_GRANT_GOODWILL = 3,
} st_grant_reason_t;
extern const lc_name_t st_grant_reason_names[];

typedef enum st_coupon_reason {
    ST_COUPON_UNKNOWN = 1,        /* no such coupon */
    ST_COUPON_NOT_ACTIVATED = 2,  /* the member has not activated it */
    ST_COUPON_OUTSIDE_WINDOW = 3, /* the earn is before valid_from or after valid_until */
    ST_COUPON_WRONG_PARTNER = 4,  /* valid at another partner only */
    ST_COUPON_USED_UP = 5,        /* the member used it max_per_member times */
    ST_COUPON_PENDING_EARN = 6,   /* the partner has pending_days > 0: not supported yet */
    ST_COUPON_DUPLICATE = 7,      /* the same code given twice in one earn */
} st_coupon_reason_t;
extern const lc_name_t st_coupon_reason_names[];

typedef enum st_coupon_kind {
    ST_COUPON_MULTIPLIER = 1, /* adds base x (multiplier - 1) */
    ST_COUPON_BONUS = 2,      /* adds bonus_points */
} st_coupon_kind_t;
extern const lc_name_t st_coupon_kind_names[];

typedef enum st_funder {
    ST_FUNDER_PARTNER = 1,   /* a partner's issuance account */
    ST_FUNDER_COALITION = 2, /* the coalition's promotion account */
    ST_FUNDER_SUPPLIER = 3,  /* a supplier's funding account */
} st_funder_t;
extern const lc_name_t st_funder_names[];

typedef enum st_member_status {
    ST_MEMBER_ACTIVE = 1,
    ST_MEMBER_FROZEN = 2,
} st_member_status_t;
extern const lc_name_t st_member_status_names[];

/* ---- shared pieces ----------------------------------------------------------------- */

typedef struct st_earn_rate {
    int64_t points;     /* points per per_amount cents */
    int64_t per_amount; /* cents; {1, 200} = 1 point per 2.00 EUR */
} st_earn_rate_t;

typedef struct st_tariff {
    int64_t issue_price_micros;   /* what the partner pays per point issued */
    int64_t redeem_credit_micros; /* what the partner is credited per point redeemed */
    int64_t fee_bps;              /* coalition fee, basis points */
} st_tariff_t;

/* ---- partners ---------------------------------------------------------------------- */

typedef struct st_create_partner_req {
    char *name;
    st_earn_rate_t earn_rate;
    int64_t pending_days;
    st_tariff_t tariff;
    int funding; /* st_funding_t */
    char **excluded_categories;
    size_t nexcluded_categories;
} st_create_partner_req_t;

typedef struct st_partner {
    lc_id_t id;
    char *name;
    st_earn_rate_t earn_rate;
    int64_t pending_days;
    st_tariff_t tariff;
    int funding;
    char **excluded_categories;
    size_t nexcluded_categories;
    int64_t budget_points; /* prepaid: points left to issue; postpaid: 0 */
    int64_t created_at;
} st_partner_t;

typedef struct st_partner_list {
    st_partner_t *data;
    size_t ndata;
    bool has_more;
} st_partner_list_t;

typedef struct st_prepay_req {
    int64_t points;
} st_prepay_req_t;

typedef struct st_prepay_rep {
    lc_id_t partner_id;
    int64_t points;
    int64_t budget_points;
} st_prepay_rep_t;

/* ---- earn -------------------------------------------------------------------------- */

typedef struct st_earn_item {
    char *sku;
    char *category;
    int64_t amount; /* cents */
} st_earn_item_t;

typedef struct st_earn_req {
    char *card_number;
    char *receipt_id;
    lc_money_t amount;
    st_earn_item_t *items;
    size_t nitems;
    char **coupon_codes;
    size_t ncoupon_codes;
} st_earn_req_t;

typedef struct st_coupon_rejected {
    char *code;
    int reason; /* st_coupon_reason_t */
} st_coupon_rejected_t;

typedef struct st_earn_rep {
    lc_id_t id;
    int64_t points;       /* base points */
    int64_t bonus_points; /* the sum of the coupon bonuses */
    int status;           /* st_earn_status_t */
    int64_t available_at;
    char **coupons_applied;
    size_t ncoupons_applied;
    st_coupon_rejected_t *coupons_rejected;
    size_t ncoupons_rejected;
} st_earn_rep_t;

/* ---- redemptions ------------------------------------------------------------------- */

typedef struct st_authorize_req {
    char *card_number;
    int64_t points;
    char *member_code;
    char *receipt_id;
} st_authorize_req_t;

typedef struct st_authorize_rep {
    lc_id_t id;
    int status; /* st_redemption_status_t */
    int64_t points;
    lc_money_t value;
    int64_t expires_at;
} st_authorize_rep_t;

typedef struct st_capture_req {
    int64_t points; /* 0 = everything authorized */
} st_capture_req_t;

typedef struct st_capture_rep {
    lc_id_t id;
    int status;
    int64_t points; /* captured */
} st_capture_rep_t;

typedef struct st_void_rep {
    lc_id_t id;
    int status;
} st_void_rep_t;

typedef struct st_refund_req {
    int64_t points;
} st_refund_req_t;

typedef struct st_refund_rep {
    lc_id_t id;
    int64_t refunded_points; /* all refunds of the redemption so far */
    int64_t points;          /* this refund */
} st_refund_rep_t;

/* ---- returns and grants ------------------------------------------------------------ */

typedef struct st_return_req {
    lc_id_t earn_id;
    lc_money_t amount;
} st_return_req_t;

typedef struct st_return_rep {
    lc_id_t id;
    lc_id_t earn_id;
    int64_t points_reversed;       /* base points */
    int64_t bonus_points_reversed; /* coupon bonuses, each in proportion */
} st_return_rep_t;

typedef struct st_grant_req {
    char *card_number;
    int64_t points;
    int reason; /* st_grant_reason_t */
} st_grant_req_t;

typedef struct st_grant_rep {
    lc_id_t id;
    int64_t points;
} st_grant_rep_t;

/* ---- coupons ----------------------------------------------------------------------- */

#define ST_MULTIPLIER_MAX 1000       /* largest multiplier of a coupon */
#define ST_MAX_PER_MEMBER_MAX 1000000 /* largest max_per_member */

typedef struct st_funded_by {
    int type;   /* st_funder_t */
    lc_id_t id; /* the partner or supplier; zero for the coalition */
} st_funded_by_t;

typedef struct st_create_coupon_req {
    char *code;
    lc_id_t partner_id; /* zero: valid at every partner */
    int kind;           /* st_coupon_kind_t */
    int64_t multiplier;   /* kind multiplier: >= 2 */
    int64_t bonus_points; /* kind bonus: >= 1 */
    st_funded_by_t funded_by;
    int64_t valid_from, valid_until; /* inclusive window, Unix microseconds */
    int64_t max_per_member;
} st_create_coupon_req_t;

typedef struct st_coupon {
    lc_id_t id;
    char *code;
    lc_id_t partner_id;
    int kind;
    int64_t multiplier;
    int64_t bonus_points;
    st_funded_by_t funded_by;
    int64_t valid_from, valid_until;
    int64_t max_per_member;
    int64_t created_at;
} st_coupon_t;

typedef struct st_activate_rep {
    lc_id_t member_id;
    char *code;
    int64_t activated_at;
} st_activate_rep_t;

typedef struct st_empty {
    int unused;
} st_empty_t;

/* ---- expiry (internal: operators and tests) ---------------------------------------- */

typedef struct st_expire_now_req {
    int64_t as_of; /* lots with expires_at <= as_of expire; 0 (absent) = now */
} st_expire_now_req_t;

typedef struct st_expire_now_rep {
    int64_t lots;   /* lots expired by this sweep */
    int64_t points; /* points they held, now on the breakage account */
} st_expire_now_rep_t;

/* ---- tiers (internal: operators and tests) ----------------------------------------- */

typedef struct st_tier_review_req {
    lc_id_t member_id;
    int64_t as_of; /* evaluate as of this time; 0 (absent) = now */
} st_tier_review_req_t;

typedef struct st_tier_review_rep {
    int64_t tier;              /* index into tiers.names (lc_tiers.h), 0 = lowest */
    int64_t qualifying_points; /* base points earned in the 12 months up to as_of */
} st_tier_review_rep_t;

/* ---- statements, period close, reconciliation (st_statement*.c, st_period.c,
 * st_reconcile.c; the rules: services/settlement/README.md "Statements") ---------- */

#define ST_PERIOD_LEN 7 /* "YYYY-MM" */

/* Who a statement is for. */
typedef enum st_party {
    ST_PARTY_PARTNER = 1,   /* billed for points issued, credited for points redeemed */
    ST_PARTY_SUPPLIER = 2,  /* a supplier funding coupon bonuses */
    ST_PARTY_COALITION = 3, /* the coalition: promotions, tier bonuses, adjustments,
                               breakage */
} st_party_t;
extern const lc_name_t st_party_names[];

/* What a statement line is: one journal entry seen from one party's account. The
 * values are stored (settlement.statement_lines.category): append, never renumber. */
typedef enum st_line_category {
    ST_LINE_ISSUED = 1,         /* base earn posted, pending earn matured, grant */
    ST_LINE_REVERSED = 2,       /* a return reversing issued points */
    ST_LINE_REDEEMED = 3,       /* a captured redemption */
    ST_LINE_REFUNDED = 4,       /* a refund of a captured redemption */
    ST_LINE_BONUS_FUNDED = 5,   /* a coupon or tier bonus debited from the funder */
    ST_LINE_BONUS_REVERSED = 6, /* a return reversing a bonus */
    ST_LINE_MATCH = 7,          /* a partner's donation match (donation service) */
    ST_LINE_PREPAID = 8,        /* points a prepaid partner bought (its budget) */
    ST_LINE_EXPIRED = 9,        /* a lot's points expired to the breakage account */
    ST_LINE_ADJUSTMENT = 10,    /* a four-eyes member adjustment */
    ST_LINE_OTHER = 11,         /* an entry of a code statements do not know */
} st_line_category_t;
extern const lc_name_t st_line_category_names[];

typedef enum st_line_side {
    ST_SIDE_DEBIT = 1,  /* the party's account was debited (points went out of it) */
    ST_SIDE_CREDIT = 2, /* the party's account was credited */
} st_line_side_t;
extern const lc_name_t st_line_side_names[];

typedef enum st_statement_status {
    ST_STATEMENT_OPEN = 1,  /* the month is not closed: lines may still come */
    ST_STATEMENT_FINAL = 2, /* closed: the figures never change */
} st_statement_status_t;
extern const lc_name_t st_statement_status_names[];

/* One line of a statement: a journal entry as one party sees it. */
typedef struct st_statement_line {
    int64_t seq;            /* the journal entry */
    lc_id_t transfer_id;
    int64_t code;           /* the entry's transfer code */
    int category;           /* st_line_category_t */
    int party;              /* st_party_t */
    lc_id_t party_id;       /* partner or supplier; zero for the coalition */
    int side;               /* st_line_side_t */
    int64_t points;         /* the entry's amount */
    int64_t amount_micros;  /* positive: the coalition owes the party */
    int64_t fee_micros;     /* the coalition's fee on the line, half to even */
    int64_t at;             /* the entry's timestamp */
    char *entry_period;     /* the month of `at` */
    bool correction;        /* billed in a later month: entry_period was closed */
} st_statement_line_t;

/* One party's statement of one month. */
typedef struct st_statement {
    int party;              /* st_party_t */
    lc_id_t partner_id;     /* party partner */
    lc_id_t supplier_id;    /* party supplier */
    char *period;
    int status;             /* st_statement_status_t */
    int funding;            /* partners: st_funding_t */
    int64_t issued_points, reversed_points, redeemed_points, refunded_points;
    int64_t bonus_points_funded, bonus_points_reversed, match_points, prepaid_points;
    int64_t expired_points, adjustment_points, other_points;
    int64_t issue_charge_micros, redeem_credit_micros, fee_micros, net_micros;
    int64_t budget_opening_points, budget_closing_points; /* prepaid partners */
    int64_t line_count;
    st_statement_line_t *lines; /* a page of them, seq order */
    size_t nlines;
    bool has_more;          /* more lines: pass the last seq as starting_after */
} st_statement_t;

/* GET /v1/statements/{period} as auditor or admin: every party's statement (without
 * lines) and a page of every line. */
typedef struct st_statements_rep {
    char *period;
    int status;
    st_statement_t *statements;
    size_t nstatements;
    st_statement_line_t *lines;
    size_t nlines;
    bool has_more;
} st_statements_rep_t;

typedef struct st_close_rep {
    char *period;
    int status;           /* final */
    int64_t closed_at;
    int64_t journal_seq;  /* the statements' cursor at the close */
    int64_t statements;   /* final statements written */
} st_close_rep_t;

/* One difference reconciliation found. */
typedef enum st_diff_kind {
    ST_DIFF_TOTALS = 1,        /* statement lines vs journal, by party and category */
    ST_DIFF_FINAL = 2,         /* a final statement vs its lines */
    ST_DIFF_UNKNOWN_CODE = 3,  /* an entry of a code statements do not know */
    ST_DIFF_TRIAL_BALANCE = 4, /* the ledger's balances do not sum to zero */
} st_diff_kind_t;
extern const lc_name_t st_diff_kind_names[];

typedef struct st_difference {
    int kind;             /* st_diff_kind_t */
    int party;            /* st_party_t, 0 when none */
    lc_id_t party_id;
    int category;         /* st_line_category_t, 0 when none */
    char *figure;         /* which figure: points, amount_micros, fee_micros, a
                             statement field, sum */
    int64_t statement;    /* the statements' figure */
    int64_t journal;      /* the journal's (or the lines', for kind final) */
    int64_t seq;          /* unknown_code: the entry */
    int64_t code;         /* unknown_code: its code */
    char *message;        /* the difference in words */
} st_difference_t;

typedef struct st_reconcile_rep {
    char *period;
    bool ok;                  /* no difference */
    int64_t journal_seq;      /* the journal's head when it was read */
    int64_t statements_seq;   /* the statements' cursor */
    int64_t entries_checked;  /* journal entries of the period */
    int64_t trial_balance_sum;
    st_difference_t *differences;
    size_t ndifferences;
} st_reconcile_rep_t;

extern const lc_msgdesc_t st_statement_line_desc, st_statement_desc, st_statement_summary_desc,
    st_statements_rep_desc, st_close_rep_desc, st_difference_desc, st_reconcile_rep_desc;

/* ---- the members service's internal calls (settlement is the client) --------------- */

typedef struct st_mb_resolve_card_req {
    char *card_number;
} st_mb_resolve_card_req_t;

typedef struct st_mb_resolve_card_rep {
    lc_id_t member_id;
    int status; /* st_member_status_t */
} st_mb_resolve_card_rep_t;

typedef struct st_mb_consume_code_req {
    lc_id_t member_id;
    char *code;
    lc_id_t use_id; /* a retry with the same use_id answers ok again */
    int64_t points; /* the redemption's points (members' cooling-off rule) */
} st_mb_consume_code_req_t;

/* members.set_tier: request and reply (what members holds afterwards). */
typedef struct st_mb_set_tier {
    lc_id_t member_id;
    int64_t tier;    /* index into tiers.names */
    int64_t version; /* settlement's change counter: members keeps the highest */
} st_mb_set_tier_t;

/* Descriptors. */
extern const lc_msgdesc_t st_earn_rate_desc, st_tariff_desc,
    st_create_partner_req_desc, st_partner_desc, st_partner_list_desc, st_prepay_req_desc,
    st_prepay_rep_desc, st_earn_item_desc, st_earn_req_desc, st_coupon_rejected_desc,
    st_earn_rep_desc, st_authorize_req_desc, st_authorize_rep_desc, st_capture_req_desc,
    st_capture_rep_desc, st_void_rep_desc, st_refund_req_desc, st_refund_rep_desc,
    st_return_req_desc, st_return_rep_desc, st_grant_req_desc, st_grant_rep_desc,
    st_empty_desc, st_funded_by_desc, st_create_coupon_req_desc, st_coupon_desc,
    st_activate_rep_desc, st_expire_now_req_desc, st_expire_now_rep_desc,
    st_tier_review_req_desc, st_tier_review_rep_desc, st_mb_resolve_card_req_desc,
    st_mb_resolve_card_rep_desc, st_mb_consume_code_req_desc, st_mb_set_tier_desc;

/* A message type: name, request body (for API calls: the "request" member), reply. */
typedef struct st_msgtype {
    const char *type;
    const lc_msgdesc_t *request;
    const lc_msgdesc_t *reply;
    const char *doc;
} st_msgtype_t;
/* The types settlement serves, NULL-terminated. */
extern const st_msgtype_t st_msgtypes[];
/* The members types settlement calls (their contract as settlement relies on it). */
extern const st_msgtype_t st_members_calls[];
const st_msgtype_t *st_msgtype_find(const char *type);

#define ST_TYPE_PING "settlement.ping"
#define ST_TYPE_CREATE_PARTNER "settlement.create_partner"
#define ST_TYPE_LIST_PARTNERS "settlement.list_partners"
#define ST_TYPE_GET_PARTNER "settlement.get_partner"
#define ST_TYPE_PREPAY "settlement.prepay"
#define ST_TYPE_EARN "settlement.earn"
#define ST_TYPE_AUTHORIZE "settlement.authorize"
#define ST_TYPE_CAPTURE "settlement.capture"
#define ST_TYPE_VOID "settlement.void"
#define ST_TYPE_REFUND "settlement.refund"
#define ST_TYPE_RETURN "settlement.return"
#define ST_TYPE_GRANT "settlement.grant"
#define ST_TYPE_EXPIRE_NOW "settlement.expire_now"
#define ST_TYPE_CREATE_COUPON "settlement.create_coupon"
#define ST_TYPE_ACTIVATE_COUPON "settlement.activate_coupon"
#define ST_TYPE_STATEMENT "settlement.statement"
#define ST_TYPE_CLOSE_PERIOD "settlement.close_period"
#define ST_TYPE_RECONCILE "settlement.reconcile"
#define ST_TYPE_TIER_REVIEW "settlement.tier_review"

#define ST_MB_RESOLVE_CARD "members.resolve_card"
#define ST_MB_CONSUME_CODE "members.consume_code"
#define ST_MB_PING "members.ping"
#define ST_MB_SET_TIER "members.set_tier"

/* ---- audit (finance) and four-eyes adjustments (st_audit.c, st_adjust.c) ---------- */

/* The coalition's adjustment account, kind operator, code ST_ACCOUNT_ADJUSTMENT, no
 * overdraft limit: the other side of every four-eyes adjustment (its balance is
 * the net of all adjustments, negative when members were given points). Derived
 * like the breakage account, label "adjustment"; created on the first approval. */
void st_adjustment_account(lc_id_t *out);

#define ST_REASON_MAX 500 /* bytes of an adjustment's reason */

/* Accounts and balance of one ledger kind (trial balance). */
typedef struct st_kind_total {
    int64_t accounts;
    int64_t balance;
} st_kind_total_t;

/* by_kind of the trial balance: one member per ledger kind (zeros when the kind has
 * no account), in ld_kind_t order, so st_by_kind_slot() finds a kind's total. */
typedef struct st_by_kind {
    st_kind_total_t member, partner_issuance, partner_redemption, partner_prepayment,
        supplier_funding, coalition_promotion, coalition_breakage, charity, charity_pool,
        payout_clearing, operator_;
} st_by_kind_t;
/* The total of kind (ld_kind_t) in b; NULL for an unknown kind. */
st_kind_total_t *st_by_kind_slot(st_by_kind_t *b, int kind);

typedef struct st_trial_balance {
    int64_t sum; /* always 0 */
    int64_t accounts;
    st_by_kind_t by_kind;
    int64_t journal_seq;
    uint8_t chain_head[LC_SHA256_LEN];
} st_trial_balance_t;

/* GET /v1/audit/journal: a page of ledger entries (ld_entry_t, proto/README.md 8.1). */
typedef struct st_journal_page {
    ld_entry_t *entries;
    size_t nentries;
    int64_t head_seq; /* the journal's last seq */
    bool has_more;    /* ask again with after_seq = the last entry's seq */
} st_journal_page_t;

/* What one issuer funded that members still hold. */
typedef struct st_liability_figures {
    int64_t outstanding_points;
    int64_t pending_points;
    lc_money_t value;
    int64_t breakage_estimate_points;
} st_liability_figures_t;

typedef struct st_liability_partner {
    lc_id_t partner_id;
    st_liability_figures_t f;
} st_liability_partner_t;

typedef struct st_liability_other {
    lc_id_t account_id; /* the funding account */
    int kind;           /* its ld_kind_t */
    st_liability_figures_t f;
} st_liability_other_t;

typedef struct st_breakage {
    int64_t expired_points; /* all expiries in the journal */
    int64_t used_points;    /* points members spent for good (redeemed, donated, ...) */
    int64_t rate_ppm;       /* expired / (expired + used), parts per million, rounded down */
    int64_t estimate_points;
    lc_money_t estimate_value;
} st_breakage_t;

typedef struct st_liability {
    int64_t outstanding_points; /* members' posted points: in lots, or held by
                                   redemptions not yet captured */
    int64_t reserved_points;    /* the part of outstanding held by redemptions */
    int64_t pending_points;     /* earned, not yet spendable (pending_days) */
    int64_t untraced_points;    /* in lots no issuing credit can be found for */
    int64_t debt_points;        /* members' debt from returns (not a liability) */
    lc_money_t value;           /* (outstanding + pending) x the point value */
    st_liability_partner_t *by_partner;
    size_t nby_partner;
    st_liability_other_t *by_other_issuer;
    size_t nby_other_issuer;
    st_breakage_t breakage;
    int64_t journal_seq;        /* the figures are as of this entry */
} st_liability_t;

typedef enum st_adjustment_status {
    ST_ADJ_PENDING = 1, /* pending_approval: proposed, not decided */
    ST_ADJ_POSTED = 2,  /* approved and booked */
    ST_ADJ_REFUSED = 3, /* approved, but the ledger refused it (e.g. not enough points) */
} st_adjustment_status_t;
extern const lc_name_t st_adjustment_status_names[];

typedef struct st_adjustment_req {
    lc_id_t member_id;
    int64_t points; /* signed, not 0 */
    char *reason;
} st_adjustment_req_t;

typedef struct st_adjustment {
    lc_id_t id;
    lc_id_t member_id;
    int64_t points;
    char *reason;
    int status;             /* st_adjustment_status_t */
    lc_id_t proposed_by;    /* the API key that proposed it */
    int64_t proposed_at;
    lc_id_t approved_by;    /* the API key that approved it */
    int64_t approved_at;
    lc_id_t transfer_id;    /* the ledger transfer, once approved */
    char *refusal;          /* status refused: the API error code it got */
} st_adjustment_t;

extern const lc_msgdesc_t st_kind_total_desc, st_by_kind_desc, st_trial_balance_desc,
    st_journal_page_desc, st_liability_partner_desc, st_liability_other_desc, st_breakage_desc,
    st_liability_desc, st_adjustment_req_desc, st_adjustment_desc;

#define ST_TYPE_AUDIT_TRIAL_BALANCE "settlement.audit_trial_balance"
#define ST_TYPE_AUDIT_JOURNAL "settlement.audit_journal"
#define ST_TYPE_AUDIT_VERIFY "settlement.audit_verify"
#define ST_TYPE_AUDIT_LIABILITY "settlement.audit_liability"
#define ST_TYPE_PROPOSE_ADJUSTMENT "settlement.propose_adjustment"
#define ST_TYPE_APPROVE_ADJUSTMENT "settlement.approve_adjustment"
#define ST_TYPE_GET_ADJUSTMENT "settlement.get_adjustment"

/* Decodes only the members of obj that desc defines (a tolerant reader for replies
 * of other services, which may grow fields). Otherwise as lc_codec_decode. */
int st_msg_decode_known(const lc_msgdesc_t *desc, const json_t *obj, void *out,
                        lc_codec_err_t *err);

#endif
