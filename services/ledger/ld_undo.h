/*
 * ld_undo.h: the undo log that keeps memory and database in step.
 *
 * Every mutation the state machine makes during a batch is recorded here first:
 * the old bytes of a field, a key inserted into a table, an object allocated. Two
 * things roll back with it (TigerBeetle's scopes):
 *   - a linked chain whose k-th transfer fails: undo to the chain's mark, so the
 *     chain leaves no trace;
 *   - a batch whose COMMIT fails: undo to the batch's start, so memory again equals
 *     what PostgreSQL holds.
 * After a successful COMMIT the log is simply cleared.
 */
#ifndef LD_UNDO_H
#define LD_UNDO_H

#include "ld_table.h"

#include <stddef.h>
#include <stdint.h>

#define LD_UNDO_BYTES_MAX 48

typedef enum ld_undo_kind {
    LD_UNDO_BYTES,     /* copy old bytes back to addr */
    LD_UNDO_TABLE_PUT, /* remove key from table */
    LD_UNDO_ALLOC,     /* free(ptr) */
    LD_UNDO_ALLOC_FN,  /* free_fn(ptr): an object that owns further allocations */
} ld_undo_kind_t;

typedef struct ld_undo_rec {
    ld_undo_kind_t kind;
    void *addr;      /* BYTES: where; ALLOC, ALLOC_FN: what to free */
    size_t len;      /* BYTES: how many */
    ld_table_t *table;
    lc_id_t key;
    void (*free_fn)(void *); /* ALLOC_FN */
    uint8_t old[LD_UNDO_BYTES_MAX];
} ld_undo_rec_t;

typedef struct ld_undo {
    ld_undo_rec_t *recs;
    size_t n, cap;
    int failed; /* a record could not be stored: the batch must be abandoned */
} ld_undo_t;

/* Records the current len bytes at addr (len <= LD_UNDO_BYTES_MAX). */
void ld_undo_bytes(ld_undo_t *u, void *addr, size_t len);
/* Records that key was just put into table. */
void ld_undo_table_put(ld_undo_t *u, ld_table_t *table, const lc_id_t *key);
/* Records that ptr was just allocated (freed if undone). */
void ld_undo_alloc(ld_undo_t *u, void *ptr);
/* Records that ptr was just allocated; free_fn(ptr) frees it and what it owns (an
 * array it grew later, say) if undone. */
void ld_undo_alloc_fn(ld_undo_t *u, void *ptr, void (*free_fn)(void *));

/* Rolls back every record above mark (a value of u->n taken earlier). */
void ld_undo_to(ld_undo_t *u, size_t mark);
/* Forgets all records (after COMMIT). */
void ld_undo_clear(ld_undo_t *u);
void ld_undo_free(ld_undo_t *u);

/* Set a field with its old value recorded: LD_SET(u, acct->debits_posted, v). */
#define LD_SET(u, field, value)                                                                    \
    do {                                                                                           \
        ld_undo_bytes((u), &(field), sizeof(field));                                               \
        (field) = (value);                                                                         \
    } while (0)

#endif
