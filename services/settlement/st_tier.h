/*
 * st_tier.h: member tiers (issue 4, item 2; rules in services/settlement/README.md
 * "Tiers" and deploy/migrations/settlement/003_tiers.sql).
 */
#ifndef ST_TIER_H
#define ST_TIER_H

#include "st_server.h"

/* The tier in force for an earn by member at now: its stored tier, after the
 * monthly review when this is the member's first evaluation in now's month.
 * Lowest tier when there is nothing stored. LC_OK or LC_ERR_UNAVAILABLE. */
int st_tier_current(st_server_t *s, const char *rid, const lc_id_t *member, int64_t now,
                    int *tier);

/* The earn multiplier of tier (basis points; a stored tier beyond the configured
 * ones counts as the highest). */
int64_t st_tier_multiplier(const st_server_t *s, int tier);

/* Re-evaluates member at as_of (upgrade at once; downgrade only in the month's first
 * review) and reports a change to members. Sets *tier and *qualifying when not NULL.
 * LC_OK or LC_ERR_UNAVAILABLE (database). A members outage is not an error: the
 * sweep reports the change later. */
int st_tier_evaluate(st_server_t *s, const char *rid, const lc_id_t *member, int64_t as_of,
                     int *tier, int64_t *qualifying);

/* The tier bonus of an earn: a transfer promotion -> member of floor(base x (bps -
 * 10000) / 10000) points, id derived from the earn ("tier"), code ST_CODE_TIER_BONUS,
 * user_data = the earn. *bonus = 0 (and *t untouched) when there is none. Makes sure
 * the promotion account exists. NULL, or an API error code (c's message set). */
const char *st_tier_bonus(st_call_t *c, const lc_id_t *earn_id, const lc_id_t *member,
                          int64_t base, int64_t bps, ld_transfer_t *t, int64_t *bonus);
/* The same for the maturation sweep (no call): LC_OK, LC_ERR_OVERFLOW or
 * LC_ERR_UNAVAILABLE (the promotion account could not be made). */
int st_tier_bonus_transfer(st_server_t *s, const char *rid, const lc_id_t *earn_id,
                           const lc_id_t *member, int64_t base, int64_t bps, ld_transfer_t *t,
                           int64_t *bonus);

/* Timer work: monthly reviews that are due and reports members has not acknowledged,
 * a batch at a time. Sets s->next_tier_ms. */
void st_tier_tick(st_server_t *s);

/* settlement.tier_review (internal, plain body): st_tier_evaluate at as_of. */
const char *st_tier_review(st_server_t *s, const char *rid, const json_t *body, json_t **reply,
                           char *msg, size_t msglen);

#endif
