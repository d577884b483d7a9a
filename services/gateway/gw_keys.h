/*
 * gw_keys.h: API keys: their text form, storage as hashes, authentication,
 * creation, revocation and the bootstrap admin key.
 *
 * A key's text is "ck_" + 32 hex digits of its id + "_" + 64 hex digits of a
 * 32-byte random secret (100 characters). Only SHA-256(secret) is stored; the
 * text is returned once, at creation. Authentication finds the row by id and
 * compares hashes in constant time, so neither a wrong secret nor an unknown id
 * is distinguishable by timing from the other.
 */
#ifndef GW_KEYS_H
#define GW_KEYS_H

#include "lc_api.h"
#include "lc_db.h"
#include "lc_id.h"

#define GW_KEY_TEXT_LEN 100

/* Authenticates an Authorization header value ("Bearer <key>"). Returns 0 and
 * fills *caller (caller->owner malloc'd: free it), LC_ERR_NOT_FOUND for a
 * missing, malformed, unknown or revoked key, or LC_ERR_DB / LC_ERR_UNAVAILABLE. */
int gw_keys_authenticate(lc_db_t *db, const char *authorization, lc_api_caller_t *caller);

/* Creates a key with the given id, role and partner (zero id unless role
 * partner) in the current transaction; writes its text to text (shown once).
 * created_by may be NULL (bootstrap). */
int gw_keys_create(lc_db_t *db, const lc_id_t *id, int role, const lc_id_t *partner_id,
                   const char *name, const lc_id_t *created_by,
                   char text[GW_KEY_TEXT_LEN + 1]);

/* Revokes key_id of partner_id (now). LC_ERR_NOT_FOUND when no such active key
 * of that partner. */
int gw_keys_revoke(lc_db_t *db, const lc_id_t *partner_id, const lc_id_t *key_id);

/* On the first start (no active admin key in the database), creates an admin
 * key and writes its text to dir/admin.key with mode 0600, and logs where. */
int gw_keys_bootstrap(lc_db_t *db, const char *dir);

#endif
