/*
 * st_coupon.h: coupons as an earn uses them (st_coupon.c). The handlers are in
 * st_server.h with the others.
 */
#ifndef ST_COUPON_H
#define ST_COUPON_H

#include "st_server.h"
#include "st_store.h"

/* Decides every code of an earn (codes[0..n)) by member at partner p at time at,
 * with base points: rows[i] (n of them) says applied or why not, and for each
 * applied bonus above 0 a transfer funder -> member is appended to bonus (room for
 * n; *nbonus of them; id lc_id_derive(earn_id, "bonus/<position>"), code earn,
 * user_data the earn, no expiry or flags yet). *total is the sum of the bonuses.
 * NULL, or an API error (database; points overflow). */
const char *st_coupons_apply(st_call_t *c, const st_partner_t *p, const lc_id_t *member,
                             const lc_id_t *earn_id, int64_t base, char *const *codes, size_t n,
                             int64_t at, st_earn_coupon_row_t *rows, ld_transfer_t *bonus,
                             size_t *nbonus, int64_t *total);

/* Fills rep's coupons_applied and coupons_rejected from rows (strings borrowed from
 * rows; the two arrays are the caller's to free). */
const char *st_coupons_reply(st_call_t *c, const st_earn_coupon_row_t *rows, size_t n,
                             st_earn_rep_t *rep);

#endif
