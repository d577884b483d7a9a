/*
 * ld_table.h: an open-addressing hash table from 128-bit ids to pointers.
 *
 * The ledger keeps accounts, transfers, lots and failed ids in memory keyed by id.
 * Linear probing over a power-of-two array, load factor at most 1/2, no deletion
 * except of the most recent insertions (which is all the undo log needs: it
 * removes keys in reverse insertion order, so backward-shift deletion is exact).
 * Values are borrowed: the table never frees them.
 */
#ifndef LD_TABLE_H
#define LD_TABLE_H

#include "lc_id.h"

#include <stddef.h>

typedef struct ld_table_slot {
    lc_id_t key;
    void *value; /* NULL = empty slot */
} ld_table_slot_t;

typedef struct ld_table {
    ld_table_slot_t *slots;
    size_t cap;   /* power of two */
    size_t count;
} ld_table_t;

int ld_table_init(ld_table_t *t, size_t expected);
void ld_table_free(ld_table_t *t);
/* The value stored for key, or NULL. */
void *ld_table_get(const ld_table_t *t, const lc_id_t *key);
/* Stores value (not NULL) for key, which must not be present. LC_ERR_NOMEM when
 * growing fails (the table is unchanged then). */
int ld_table_put(ld_table_t *t, const lc_id_t *key, void *value);
/* Removes key if present. */
void ld_table_del(ld_table_t *t, const lc_id_t *key);

#endif
