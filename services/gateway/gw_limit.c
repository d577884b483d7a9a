/*
 * gw_limit.c: per-key token buckets (gw_limit.h).
 *
 * Tokens are kept in millionths so that refill is exact integer arithmetic:
 * elapsed_us * rate gives millionths of a token directly.
 */
#include "gw_limit.h"

#include <pthread.h>
#include <stdlib.h>

#define SLOTS 1024        /* hash chains; keys are few (one per integration) */
#define UNIT INT64_C(1000000)

typedef struct bucket {
    lc_id_t key;
    int64_t tokens;  /* millionths of a token */
    int64_t last_us; /* when tokens was last brought up to date */
    struct bucket *next;
} bucket_t;

struct gw_limit {
    pthread_mutex_t lock;
    int64_t rate;    /* tokens per second */
    int64_t burst;   /* tokens */
    bucket_t *slots[SLOTS];
};

gw_limit_t *gw_limit_new(int64_t rate_per_s, int64_t burst)
{
    gw_limit_t *lim = calloc(1, sizeof *lim);
    if (!lim)
        return NULL;
    pthread_mutex_init(&lim->lock, NULL);
    lim->rate = rate_per_s;
    lim->burst = burst;
    return lim;
}

void gw_limit_destroy(gw_limit_t **lim_p)
{
    gw_limit_t *lim = *lim_p;
    if (!lim)
        return;
    for (int i = 0; i < SLOTS; i++)
        for (bucket_t *b = lim->slots[i], *next; b; b = next) {
            next = b->next;
            free(b);
        }
    pthread_mutex_destroy(&lim->lock);
    free(lim);
    *lim_p = NULL;
}

bool gw_limit_take(gw_limit_t *lim, const lc_id_t *key, int64_t now_us, int64_t *retry_after_s)
{
    size_t slot = lc_id_hash(key) % SLOTS;
    bool ok = true;
    pthread_mutex_lock(&lim->lock);
    bucket_t *b = lim->slots[slot];
    while (b && !lc_id_eq(&b->key, key))
        b = b->next;
    if (!b) {
        b = calloc(1, sizeof *b);
        if (!b) { /* no memory for a bucket: do not refuse the request for it */
            pthread_mutex_unlock(&lim->lock);
            return true;
        }
        b->key = *key;
        b->tokens = lim->burst * UNIT;
        b->last_us = now_us;
        b->next = lim->slots[slot];
        lim->slots[slot] = b;
    }
    int64_t elapsed = now_us - b->last_us;
    if (elapsed > 0) {
        int64_t cap = lim->burst * UNIT;
        /* Cap elapsed first so elapsed * rate cannot overflow. */
        int64_t full = lim->rate > 0 ? cap / lim->rate + 1 : 0;
        int64_t add = (elapsed > full ? full : elapsed) * lim->rate;
        b->tokens = b->tokens + add > cap ? cap : b->tokens + add;
        b->last_us = now_us;
    }
    if (b->tokens >= UNIT) {
        b->tokens -= UNIT;
    } else {
        ok = false;
        int64_t missing = UNIT - b->tokens; /* millionths */
        int64_t wait_us = lim->rate > 0 ? (missing + lim->rate - 1) / lim->rate : UNIT;
        *retry_after_s = (wait_us + UNIT - 1) / UNIT;
        if (*retry_after_s < 1)
            *retry_after_s = 1;
    }
    pthread_mutex_unlock(&lim->lock);
    return ok;
}
