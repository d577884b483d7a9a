/*
 * st_store.h: settlement's rows in PostgreSQL (schema settlement, see
 * deploy/migrations/settlement/001_init.sql for the tables and their rules). Every
 * statement is parameterized and goes through lc_db. Functions return LC_OK,
 * LC_ERR_NOT_FOUND (no such row) or the lc_db error (LC_ERR_DB, LC_ERR_UNAVAILABLE).
 */
#ifndef ST_STORE_H
#define ST_STORE_H

#include "st_server.h"

#include <stdbool.h>

typedef struct st_earn_row {
    lc_id_t id, partner_id, member_id;
    int64_t amount, eligible, points;
    int status;            /* st_earn_status_t */
    lc_id_t transfer_id;   /* the earn transfer; zero for a 0-point earn */
    lc_id_t hold_id;       /* the hold carrying a pending earn's points; zero otherwise */
    lc_id_t credit_id;     /* what a return reverses; zero while pending or 0 points */
    int64_t expires_at, available_at, created_at;
    int64_t returned_amount, reversed_points;
    int64_t bonus_points;  /* the sum of its coupon bonuses (earn_coupons) */
    int tier;              /* the member's tier when it was earned (lc_tiers.h index) */
    int64_t tier_bps;      /* that tier's multiplier (10000: no tier bonus) */
    int64_t tier_bonus_points;    /* the tier bonus credited (a pending earn: at maturity) */
    lc_id_t tier_transfer_id;     /* its transfer promotion -> member; zero when none */
    int64_t tier_basis_amount;    /* cents of the earn the tier bonus was computed on */
    int64_t tier_reversed_points; /* of the tier bonus, reversed by returns so far */
} st_earn_row_t;

/* A member's tier state (settlement.member_tiers, deploy/migrations/settlement/
 * 003_tiers.sql). */
typedef struct st_tier_row {
    lc_id_t member_id;
    int tier;
    int64_t qualifying_points; /* at the last evaluation */
    int64_t changed_at;
    int reviewed_period;       /* YYYYMM of the last monthly review */
    int64_t version, pushed_version;
} st_tier_row_t;

/* One coupon code an earn presented (settlement.earn_coupons). */
typedef struct st_earn_coupon_row {
    int position;                     /* in coupon_codes */
    char code[ST_CATEGORY_MAX + 1];
    lc_id_t coupon_id;                /* zero for an unknown code */
    int reason;                       /* 0 applied, else st_coupon_reason_t */
    int64_t bonus_points;             /* applied: the bonus (may be 0) */
    lc_id_t transfer_id;              /* the bonus transfer; zero for 0 points */
    lc_id_t funder_account;           /* the account the bonus was debited from */
    int64_t reversed_points;          /* reversed by returns so far */
} st_earn_coupon_row_t;

typedef struct st_redemption_row {
    lc_id_t id, partner_id, member_id;
    int64_t points, value_cents;
    int status;            /* st_redemption_status_t */
    lc_id_t hold_id, capture_id, void_id;
    int64_t captured_points, refunded_points;
    int64_t expires_at, created_at;
} st_redemption_row_t;

typedef struct st_return_row {
    lc_id_t id, earn_id, partner_id;
    int64_t amount, points_reversed;
    int64_t bonus_points_reversed; /* coupon and tier bonuses reversed */
    int64_t tier_points_reversed;  /* of those, the tier bonus */
    lc_id_t transfer_id, void_id;
    int64_t created_at;
} st_return_row_t;

/* Connects (again) when the connection is gone. */
int st_store_ensure(st_server_t *s);

/* ---- partners ---------------------------------------------------------------------- */

/* Inserts p (and its categories) in one transaction. */
int st_store_partner_insert(st_server_t *s, const st_partner_t *p, const lc_id_t *created_by);
/* Loads partner id into *p (budget_points left 0). Clear with st_partner_desc. */
int st_store_partner_get(st_server_t *s, const lc_id_t *id, st_partner_t *p);
/* Loads up to limit partners with id > after (NULL: from the start), in id order.
 * *out is an array of *n partners; free with st_store_partners_free. */
int st_store_partner_list(st_server_t *s, const lc_id_t *after, int64_t limit,
                          st_partner_t **out, size_t *n);
void st_store_partners_free(st_partner_t *p, size_t n);

/* ---- prepayments, grants, refusals ------------------------------------------------- */

int st_store_prepay_insert(st_server_t *s, const lc_id_t *id, const lc_id_t *partner,
                           int64_t points, int64_t at);
/* *points of prepayment id of partner; LC_ERR_NOT_FOUND when none. */
int st_store_prepay_get(st_server_t *s, const lc_id_t *id, const lc_id_t *partner,
                        int64_t *points);

int st_store_grant_insert(st_server_t *s, const lc_id_t *id, const lc_id_t *partner,
                          const lc_id_t *member, int64_t points, int reason,
                          const lc_id_t *transfer, int64_t at);
int st_store_grant_get(st_server_t *s, const lc_id_t *id, const lc_id_t *partner,
                       int64_t *points);

/* Remembers (or recalls) the API code a refused transfer id was answered with. */
int st_store_refusal_put(st_server_t *s, const lc_id_t *transfer, const char *code);
/* Copies the code into code (LC_ERR_NOT_FOUND when none). */
int st_store_refusal_get(st_server_t *s, const lc_id_t *transfer, char *code, size_t len);

/* ---- earns and returns ------------------------------------------------------------- */

/* Inserts the earn row and its coupon rows (n of them) in one transaction. */
int st_store_earn_insert(st_server_t *s, const st_earn_row_t *e, const char *receipt_id,
                         const st_earn_coupon_row_t *coupons, size_t n);
/* The coupon rows of an earn in position order: *out (malloc'd, free it) of *n. */
int st_store_earn_coupons(st_server_t *s, const lc_id_t *earn, st_earn_coupon_row_t **out,
                          size_t *n);
/* partner NULL: any partner's earn. */
int st_store_earn_get(st_server_t *s, const lc_id_t *id, const lc_id_t *partner,
                      st_earn_row_t *e);
/* Marks a pending earn posted by post (the post transfer), with the tier bonus
 * credited with it (e->tier_bonus_points, tier_transfer_id, tier_basis_amount). */
int st_store_earn_posted(st_server_t *s, const st_earn_row_t *e, const lc_id_t *post);
/* Up to max pending earns whose available_at <= now, soonest first. */
int st_store_earns_due(st_server_t *s, int64_t now, int max, st_earn_row_t *out, size_t *n);

/* Records return r and updates its earn (returned amount, reversed points, and for a
 * pending earn its new hold) in one transaction. new_hold: zero when unchanged.
 * settle: a pending earn has nothing left to hold (status posted, no hold). */
int st_store_return_insert(st_server_t *s, const st_return_row_t *r, const lc_id_t *new_hold,
                           bool settle);
/* Same, also adding rev[i] to the reversed points of coupon row bonus[i] (n rows). */
int st_store_return_insert_bonus(st_server_t *s, const st_return_row_t *r,
                                 const st_earn_coupon_row_t *bonus, const int64_t *rev, size_t n);

/* Points of the member's redemptions authorized at or after since that still count:
 * held (authorized) or captured. */
int st_store_redeemed_since(st_server_t *s, const lc_id_t *member, int64_t since,
                            int64_t *points);

/* ---- member tiers (st_tier.c) ------------------------------------------------------ */

/* The member's tier row; LC_ERR_NOT_FOUND when the member never rose above the lowest. */
int st_store_tier_get(st_server_t *s, const lc_id_t *member, st_tier_row_t *t);
/* The member's base points earned in (after, until]: points - reversed_points of its
 * earns created in that span. */
int st_store_tier_points(st_server_t *s, const lc_id_t *member, int64_t after, int64_t until,
                         int64_t *points);
/* Writes t if the stored row still has version old_version (0: there is no row yet).
 * LC_ERR_CONFLICT when another writer got there first (read again and retry). */
int st_store_tier_put(st_server_t *s, const st_tier_row_t *t, int64_t old_version);
/* Records that members acknowledged version of the member's tier. */
int st_store_tier_pushed(st_server_t *s, const lc_id_t *member, int64_t version);
/* Up to max rows that need work: a review (tier above the lowest, reviewed before
 * period) or a push (pushed_version < version). */
int st_store_tiers_due(st_server_t *s, int period, int max, st_tier_row_t *out, size_t *n);

/* ---- coupons ----------------------------------------------------------------------- */

/* Inserts coupon c debiting funder_account; LC_ERR_CONFLICT when its code is taken. */
int st_store_coupon_insert(st_server_t *s, const st_coupon_t *c, const lc_id_t *funder_account);
/* Loads coupon id (code NULL) or the coupon with code (id NULL) into *c (clear with
 * st_coupon_desc) and its funder account into *funder_account (may be NULL). */
int st_store_coupon_get(st_server_t *s, const lc_id_t *id, const char *code, st_coupon_t *c,
                        lc_id_t *funder_account);
/* How many earns of member applied coupon. */
int st_store_coupon_uses(st_server_t *s, const lc_id_t *coupon, const lc_id_t *member,
                         int64_t *uses);
/* Activates coupon for member at now unless done before; *activated_at is the first
 * activation's time. */
int st_store_coupon_activate(st_server_t *s, const lc_id_t *coupon, const lc_id_t *member,
                             int64_t now, int64_t *activated_at);
/* LC_OK when member activated coupon, LC_ERR_NOT_FOUND when not. */
int st_store_coupon_activated(st_server_t *s, const lc_id_t *coupon, const lc_id_t *member);
int st_store_return_get(st_server_t *s, const lc_id_t *id, const lc_id_t *partner,
                        st_return_row_t *r);

/* ---- redemptions and refunds ------------------------------------------------------- */

int st_store_redemption_insert(st_server_t *s, const st_redemption_row_t *r,
                               const char *receipt_id);
int st_store_redemption_get(st_server_t *s, const lc_id_t *id, const lc_id_t *partner,
                            st_redemption_row_t *r);
/* Moves an authorized redemption to status with the given ledger ids and points. */
int st_store_redemption_update(st_server_t *s, const st_redemption_row_t *r);
/* Records refund id of points and adds them to the redemption, in one transaction. */
int st_store_refund_insert(st_server_t *s, const lc_id_t *id, const lc_id_t *redemption,
                           int64_t points, int64_t at);
/* The points of refund id of redemption; LC_ERR_NOT_FOUND when none. */
int st_store_refund_get(st_server_t *s, const lc_id_t *id, const lc_id_t *redemption,
                        int64_t *points);

#endif
