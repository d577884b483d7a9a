/*
 * gw_limit.h: per-key rate limits (token buckets).
 *
 * Each API key has a bucket of `burst` tokens refilled at `rate` tokens a
 * second; a request takes one. An empty bucket answers 429 rate_limited with
 * Retry-After: the whole seconds until a token is back. Buckets live in this
 * process only: with n gateways behind a balancer a key gets up to n times the
 * rate, which is the usual trade for stateless gateways (write it in the docs
 * of a deployment that needs a global limit).
 */
#ifndef GW_LIMIT_H
#define GW_LIMIT_H

#include "lc_id.h"

#include <stdbool.h>
#include <stdint.h>

typedef struct gw_limit gw_limit_t;

gw_limit_t *gw_limit_new(int64_t rate_per_s, int64_t burst);
void gw_limit_destroy(gw_limit_t **lim_p);

/* Takes a token for key at now_us (monotonic). True when allowed; otherwise
 * *retry_after_s is the wait in whole seconds (at least 1). */
bool gw_limit_take(gw_limit_t *lim, const lc_id_t *key, int64_t now_us, int64_t *retry_after_s);

#endif
