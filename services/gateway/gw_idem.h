/*
 * gw_idem.h: Idempotency-Key records (API.md "Idempotency").
 *
 * gw_idem_begin opens a transaction on the backend's connection and claims the
 * record (owner, key): a new record is inserted and its row lock held until
 * gw_idem_finish stores the response and commits (or gw_idem_abandon rolls the
 * claim back). A concurrent request with the same key blocks on that lock and
 * then sees the stored response, so concurrent duplicates produce one effect
 * and both get the same answer. A request whose hash differs from the stored
 * one is refused (409 idempotency_key_reused). Local handlers run inside the
 * same transaction, so what they write commits together with the record.
 */
#ifndef GW_IDEM_H
#define GW_IDEM_H

#include "lc_crypto.h"
#include "lc_db.h"

#include <stddef.h>

typedef enum gw_idem_state {
    GW_IDEM_NEW,     /* claimed: do the work, then finish or abandon */
    GW_IDEM_REPLAY,  /* a stored response: *status and *body (malloc'd) */
    GW_IDEM_REUSED,  /* the key was used for a different request */
} gw_idem_state_t;

/* Hash of the request the key is bound to: method, path and body. */
void gw_idem_hash(const char *method, const char *path, const char *body, size_t len,
                  uint8_t out[LC_SHA256_LEN]);

/* Claims (owner, key). Returns 0 with *state set, or LC_ERR_DB /
 * LC_ERR_UNAVAILABLE (no transaction is left open then). */
int gw_idem_begin(lc_db_t *db, const char *owner, const char *key,
                  const uint8_t hash[LC_SHA256_LEN], gw_idem_state_t *state, int *status,
                  char **body);
/* Stores the response of a claimed record and commits. */
int gw_idem_finish(lc_db_t *db, const char *owner, const char *key, int status,
                   const char *body);
/* Gives a claim up (the request did not reach a definitive outcome). */
void gw_idem_abandon(lc_db_t *db);

/* Deletes records older than days; returns how many, or a negative error. */
int64_t gw_idem_purge(lc_db_t *db, int64_t days);

#endif
