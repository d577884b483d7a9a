/*
 * lc_tiers.h: the coalition's member tiers (issue 4, item 2), as configured.
 *
 * Three settings, read by settlement (which computes tiers and pays their bonus)
 * and by members (which shows a member's tier by name), so both refuse the same
 * nonsense at start:
 *   tiers.names          comma-separated names, lowest first  "bronze,silver,gold"
 *   tiers.thresholds     points earned over a rolling 12 months that reach each
 *                        tier; the first must be 0, then strictly ascending
 *                                                            "0,2000,5000"
 *   tiers.multipliers_bps  the earn multiplier of each tier in basis points (10000 =
 *                        1x: no bonus), at least 10000, never lower than the tier
 *                        below                               "10000,12500,15000"
 * The three lists must have the same length (1 to LC_TIERS_MAX). A tier is stored
 * and sent between services as its index (0 = lowest).
 */
#ifndef LC_TIERS_H
#define LC_TIERS_H

#include "lc_config.h"

#include <stddef.h>
#include <stdint.h>

#define LC_TIERS_MAX 8       /* tiers a coalition may define */
#define LC_TIER_NAME_MAX 32  /* bytes of a tier name: [a-z0-9_-], 1 to 32 */
#define LC_TIER_BPS_ONE 10000
#define LC_TIER_BPS_MAX 100000 /* 10x: a tier multiplier above this is a typo */

typedef struct lc_tiers {
    size_t n;
    char names[LC_TIERS_MAX][LC_TIER_NAME_MAX + 1];
    int64_t thresholds[LC_TIERS_MAX];     /* points over 12 months, [0] = 0 */
    int64_t multipliers_bps[LC_TIERS_MAX];
} lc_tiers_t;

#define LC_TIERS_DEFAULT_NAMES "bronze,silver,gold"
#define LC_TIERS_DEFAULT_THRESHOLDS "0,2000,5000"
#define LC_TIERS_DEFAULT_MULTIPLIERS "10000,12500,15000"

/* Parses the three lists into *out. Returns 0, or LC_ERR_INVALID with a message in
 * err (naming the setting and what is wrong). */
int lc_tiers_parse(const char *names, const char *thresholds, const char *multipliers,
                   lc_tiers_t *out, char *err, size_t errlen);

/* Reads tiers.* from cfg (defaults above) with lc_tiers_parse. */
int lc_tiers_load(const lc_config_t *cfg, lc_tiers_t *out, char *err, size_t errlen);

/* The highest tier whose threshold points reaches. */
int lc_tiers_for_points(const lc_tiers_t *t, int64_t points);

/* The name of tier index i (clamped into range: a stored index from a larger
 * configuration shows as the highest tier defined now). */
const char *lc_tiers_name(const lc_tiers_t *t, int i);

#endif
