/*
 * mb_code.h: one-time redemption codes, the parts that need no database.
 *
 * A code is MB_CODE_LEN random decimal digits shown once to the member (app) and
 * typed at the till. The service stores only hash = SHA-256(code id || member id
 * || code): the code id salts it, the member id binds it to its owner. A code is
 * usable while it is unused, not invalidated and not expired (expires_at is
 * exclusive). Every wrong attempt adds one failure to each of the member's
 * outstanding codes; a code that reaches the attempt limit is invalidated, so at
 * most `limit` guesses are ever made against one code.
 */
#ifndef MB_CODE_H
#define MB_CODE_H

#include "lc_crypto.h"
#include "lc_id.h"

#include <stdbool.h>
#include <stdint.h>

#define MB_CODE_LEN 8
#define MB_CODE_TTL_MAX_S 600 /* API.md: valid at most 10 minutes */
#define MB_CODE_TTL_DEFAULT_S 600
#define MB_CODE_ATTEMPTS_DEFAULT 5
#define MB_CODE_ATTEMPTS_MAX 100
#define MB_CODE_LOCK_MINUTES_DEFAULT 30   /* members.code_lock_minutes */
#define MB_COOLING_OFF_HOURS_DEFAULT 72   /* members.cooling_off_hours (0: no cooling-off) */
#define MB_COOLING_OFF_POINTS_DEFAULT 5000 /* members.cooling_off_points: "large" */

/* What decides whether a stored code may be used. */
typedef struct mb_code_state {
    int64_t expires_at; /* Unix microseconds */
    int64_t used_at;    /* 0: unused */
    int failures;       /* wrong attempts while it was outstanding */
    bool invalidated;   /* the attempt limit was reached */
} mb_code_state_t;

/* Writes MB_CODE_LEN random digits and a NUL to out. 0 or LC_ERR_CRYPTO. */
int mb_code_generate(char out[MB_CODE_LEN + 1]);

/* True when s is exactly MB_CODE_LEN digits. */
bool mb_code_well_formed(const char *s);

/* hash = SHA-256(code_id || member_id || code). 0, LC_ERR_INVALID when code is
 * not well formed, or LC_ERR_CRYPTO. */
int mb_code_hash(const lc_id_t *code_id, const lc_id_t *member_id, const char *code,
                 uint8_t out[LC_SHA256_LEN]);

/* When a code issued at now_us with a ttl of ttl_s seconds expires. */
int64_t mb_code_expires_at(int64_t now_us, int64_t ttl_s);

/* True when the code may be consumed at now_us. */
bool mb_code_usable(const mb_code_state_t *c, int64_t now_us);

/* Applies one wrong attempt to an outstanding code, with limit attempts allowed. */
void mb_code_fail(mb_code_state_t *c, int limit);

#endif
