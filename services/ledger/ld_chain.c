/* ld_chain.c: canonical entry encoding and chain hashes (see ld_chain.h). */
#include "ld_chain.h"
#include "lc_crypto.h"
#include "lc_err.h"

#include <string.h>

static uint8_t *s_u64(uint8_t *p, uint64_t v)
{
    for (int i = 7; i >= 0; i--)
        *p++ = (uint8_t)(v >> (i * 8));
    return p;
}

static uint8_t *s_u32(uint8_t *p, uint32_t v)
{
    for (int i = 3; i >= 0; i--)
        *p++ = (uint8_t)(v >> (i * 8));
    return p;
}

static uint8_t *s_id(uint8_t *p, const lc_id_t *id)
{
    memcpy(p, id->b, 16);
    return p + 16;
}

void ld_chain_encode(const ld_entry_t *e, uint8_t out[LD_CANONICAL_LEN])
{
    uint8_t *p = out;
    p = s_u64(p, (uint64_t)e->seq);
    *p++ = (uint8_t)e->type;
    p = s_id(p, &e->id);
    p = s_id(p, &e->debit_account_id);
    p = s_id(p, &e->credit_account_id);
    p = s_u64(p, (uint64_t)e->amount);
    p = s_id(p, &e->pending_id);
    p = s_id(p, &e->reverses);
    p = s_u32(p, e->flags);
    p = s_u32(p, e->code);
    *p++ = (uint8_t)((unsigned)e->kind >> 8);
    *p++ = (uint8_t)e->kind;
    p = s_id(p, &e->user_data);
    p = s_u32(p, e->timeout);
    p = s_u64(p, (uint64_t)e->expires_at);
    s_u64(p, (uint64_t)e->timestamp);
}

static int s_hash(const ld_entry_t *e, const uint8_t prev[32], uint8_t out[32])
{
    uint8_t buf[32 + LD_CANONICAL_LEN];
    memcpy(buf, prev, 32);
    ld_chain_encode(e, buf + 32);
    return lc_sha256(buf, sizeof buf, out);
}

int ld_chain_seal(ld_entry_t *e, const uint8_t prev[32])
{
    memcpy(e->prev_hash, prev, 32);
    return s_hash(e, prev, e->hash);
}

int ld_chain_check(const ld_entry_t *e, const uint8_t prev[32])
{
    uint8_t h[32];
    int rc = s_hash(e, prev, h);
    if (rc != LC_OK)
        return rc;
    if (memcmp(e->prev_hash, prev, 32) != 0 || memcmp(e->hash, h, 32) != 0)
        return LC_ERR_CONFLICT;
    return LC_OK;
}
