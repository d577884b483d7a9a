/* ld_table.c: id -> pointer hash table (see ld_table.h). */
#include "ld_table.h"
#include "lc_err.h"

#include <stdlib.h>
#include <string.h>

int ld_table_init(ld_table_t *t, size_t expected)
{
    size_t cap = 64;
    while (cap < expected * 2)
        cap *= 2;
    t->slots = calloc(cap, sizeof *t->slots);
    if (!t->slots)
        return LC_ERR_NOMEM;
    t->cap = cap;
    t->count = 0;
    return LC_OK;
}

void ld_table_free(ld_table_t *t)
{
    free(t->slots);
    memset(t, 0, sizeof *t);
}

static size_t s_find(const ld_table_t *t, const lc_id_t *key)
{
    size_t mask = t->cap - 1;
    size_t i = (size_t)lc_id_hash(key) & mask;
    while (t->slots[i].value && !lc_id_eq(&t->slots[i].key, key))
        i = (i + 1) & mask;
    return i;
}

void *ld_table_get(const ld_table_t *t, const lc_id_t *key)
{
    return t->slots[s_find(t, key)].value;
}

static int s_grow(ld_table_t *t)
{
    ld_table_t bigger = {0};
    bigger.cap = t->cap * 2;
    bigger.slots = calloc(bigger.cap, sizeof *bigger.slots);
    if (!bigger.slots)
        return LC_ERR_NOMEM;
    for (size_t i = 0; i < t->cap; i++)
        if (t->slots[i].value)
            bigger.slots[s_find(&bigger, &t->slots[i].key)] = t->slots[i];
    bigger.count = t->count;
    free(t->slots);
    *t = bigger;
    return LC_OK;
}

int ld_table_put(ld_table_t *t, const lc_id_t *key, void *value)
{
    if ((t->count + 1) * 2 > t->cap && s_grow(t) != LC_OK)
        return LC_ERR_NOMEM;
    size_t i = s_find(t, key);
    t->slots[i].key = *key;
    t->slots[i].value = value;
    t->count++;
    return LC_OK;
}

void ld_table_del(ld_table_t *t, const lc_id_t *key)
{
    size_t mask = t->cap - 1;
    size_t i = s_find(t, key);
    if (!t->slots[i].value)
        return;
    t->slots[i].value = NULL;
    t->count--;
    /* Backward-shift: move later members of the probe run into the hole. */
    size_t j = i;
    for (;;) {
        j = (j + 1) & mask;
        if (!t->slots[j].value)
            break;
        size_t home = (size_t)lc_id_hash(&t->slots[j].key) & mask;
        /* Move j to i when its home is not cyclically within (i, j]. */
        if ((j > i && (home <= i || home > j)) || (j < i && home <= i && home > j)) {
            t->slots[i] = t->slots[j];
            t->slots[j].value = NULL;
            i = j;
        }
    }
}
