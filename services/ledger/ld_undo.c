/* ld_undo.c: the undo log (see ld_undo.h). */
#include "ld_undo.h"

#include <stdlib.h>
#include <string.h>

static ld_undo_rec_t *s_push(ld_undo_t *u)
{
    if (u->n == u->cap) {
        size_t cap = u->cap ? u->cap * 2 : 1024;
        ld_undo_rec_t *recs = realloc(u->recs, cap * sizeof *recs);
        if (!recs) {
            u->failed = 1;
            return NULL;
        }
        u->recs = recs;
        u->cap = cap;
    }
    return &u->recs[u->n++];
}

void ld_undo_bytes(ld_undo_t *u, void *addr, size_t len)
{
    if (len > LD_UNDO_BYTES_MAX) {
        u->failed = 1;
        return;
    }
    ld_undo_rec_t *r = s_push(u);
    if (!r)
        return;
    r->kind = LD_UNDO_BYTES;
    r->addr = addr;
    r->len = len;
    memcpy(r->old, addr, len);
}

void ld_undo_table_put(ld_undo_t *u, ld_table_t *table, const lc_id_t *key)
{
    ld_undo_rec_t *r = s_push(u);
    if (!r)
        return;
    r->kind = LD_UNDO_TABLE_PUT;
    r->table = table;
    r->key = *key;
}

void ld_undo_alloc(ld_undo_t *u, void *ptr)
{
    ld_undo_rec_t *r = s_push(u);
    if (!r)
        return;
    r->kind = LD_UNDO_ALLOC;
    r->addr = ptr;
}

void ld_undo_alloc_fn(ld_undo_t *u, void *ptr, void (*free_fn)(void *))
{
    ld_undo_rec_t *r = s_push(u);
    if (!r)
        return;
    r->kind = LD_UNDO_ALLOC_FN;
    r->addr = ptr;
    r->free_fn = free_fn;
}

void ld_undo_to(ld_undo_t *u, size_t mark)
{
    while (u->n > mark) {
        ld_undo_rec_t *r = &u->recs[--u->n];
        switch (r->kind) {
        case LD_UNDO_BYTES: memcpy(r->addr, r->old, r->len); break;
        case LD_UNDO_TABLE_PUT: ld_table_del(r->table, &r->key); break;
        case LD_UNDO_ALLOC: free(r->addr); break;
        case LD_UNDO_ALLOC_FN: r->free_fn(r->addr); break;
        }
    }
}

void ld_undo_clear(ld_undo_t *u)
{
    u->n = 0;
    u->failed = 0;
}

void ld_undo_free(ld_undo_t *u)
{
    free(u->recs);
    memset(u, 0, sizeof *u);
}
