/*
 * ld_state_int.h: what the parts of the state machine (ld_state.c, ld_transfer.c,
 * ld_expire.c) share. Not for the server: it talks to ld_state.h only.
 *
 * Every function here records its changes in s->undo first and queues the rows
 * the batch must write in s->batch; they return LC_OK or LC_ERR_NOMEM.
 */
#ifndef LD_STATE_INT_H
#define LD_STATE_INT_H

#include "ld_state.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>

/* Grows a (pointer, count, capacity) array by doubling; returns LC_ERR_NOMEM from
 * the calling function when it cannot. */
#define LD_GROW(arr, n, cap, init)                                                                 \
    do {                                                                                           \
        if ((n) == (cap)) {                                                                        \
            size_t ncap_ = (cap) ? (cap) * 2 : (init);                                             \
            void *p_ = realloc((arr), ncap_ * sizeof *(arr));                                      \
            if (!p_)                                                                               \
                return LC_ERR_NOMEM;                                                               \
            (arr) = p_;                                                                            \
            (cap) = ncap_;                                                                         \
        }                                                                                          \
    } while (0)

static inline bool ld_st_add_overflows(int64_t a, int64_t b)
{
    return a > INT64_MAX - b;
}

/* Queue an account / a hold's pending row for writing (once per batch). */
int ld_st_queue_account(ld_state_t *s, ld_account_t *a);
int ld_st_queue_pending(ld_state_t *s, ld_xfer_t *x);

/* Appends a journal entry with the next seq and a strictly increasing timestamp;
 * *out points into the batch until the next append. Fill it, then ld_st_seal. */
int ld_st_journal(ld_state_t *s, int64_t now, ld_entry_t **out);
/* Links the entry to the chain head (ld_chain.h). */
int ld_st_seal(ld_state_t *s, ld_entry_t *e);

/* Burns id for a state-dependent failure (I6); ignores other results. */
int ld_st_record_failed(ld_state_t *s, const lc_id_t *id, int result, int64_t now);

/* Creates the in-memory transfer of a sealed journal entry. */
int ld_st_new_xfer(ld_state_t *s, const ld_entry_t *e, ld_xfer_t **out);

/* Moves posted / pending totals between two accounts (negative: back). */
void ld_st_move_posted(ld_state_t *s, ld_account_t *dr, ld_account_t *cr, int64_t amount);
void ld_st_move_pending(ld_state_t *s, ld_account_t *dr, ld_account_t *cr, int64_t amount);

#endif
