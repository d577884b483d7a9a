/*
 * mb_code.c: one-time redemption codes (mb_code.h).
 */
#include "mb_code.h"
#include "lc_err.h"
#include "lc_time.h"

#include <string.h>

int mb_code_generate(char out[MB_CODE_LEN + 1])
{
    size_t n = 0;
    while (n < MB_CODE_LEN) {
        uint8_t buf[16];
        if (lc_random_bytes(buf, sizeof buf) != LC_OK)
            return LC_ERR_CRYPTO;
        for (size_t i = 0; i < sizeof buf && n < MB_CODE_LEN; i++)
            if (buf[i] < 250) /* rejection sampling keeps the digits uniform */
                out[n++] = (char)('0' + buf[i] % 10);
    }
    out[MB_CODE_LEN] = '\0';
    return LC_OK;
}

bool mb_code_well_formed(const char *s)
{
    if (!s || strlen(s) != MB_CODE_LEN)
        return false;
    for (size_t i = 0; i < MB_CODE_LEN; i++)
        if (s[i] < '0' || s[i] > '9')
            return false;
    return true;
}

int mb_code_hash(const lc_id_t *code_id, const lc_id_t *member_id, const char *code,
                 uint8_t out[LC_SHA256_LEN])
{
    if (!mb_code_well_formed(code))
        return LC_ERR_INVALID;
    uint8_t buf[16 + 16 + MB_CODE_LEN];
    memcpy(buf, code_id->b, 16);
    memcpy(buf + 16, member_id->b, 16);
    memcpy(buf + 32, code, MB_CODE_LEN);
    return lc_sha256(buf, sizeof buf, out) == LC_OK ? LC_OK : LC_ERR_CRYPTO;
}

int64_t mb_code_expires_at(int64_t now_us, int64_t ttl_s)
{
    if (ttl_s < 0)
        ttl_s = 0;
    if (ttl_s > MB_CODE_TTL_MAX_S)
        ttl_s = MB_CODE_TTL_MAX_S;
    return now_us + ttl_s * LC_USEC_PER_SEC;
}

bool mb_code_usable(const mb_code_state_t *c, int64_t now_us)
{
    return c->used_at == 0 && !c->invalidated && now_us < c->expires_at;
}

void mb_code_fail(mb_code_state_t *c, int limit)
{
    if (c->used_at != 0 || c->invalidated)
        return;
    c->failures++;
    if (c->failures >= limit)
        c->invalidated = true;
}
