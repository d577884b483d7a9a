/*
 * mb_store.h: the members schema in PostgreSQL (deploy/migrations/members/).
 * Every statement is parameterized and goes through lc_db. Functions return 0,
 * LC_ERR_NOT_FOUND, LC_ERR_CONFLICT where documented, or the lc_db error
 * (LC_ERR_DB, LC_ERR_UNAVAILABLE). Functions that write several rows run their
 * own transaction; the code functions run inside the caller's (mb_h_code.c).
 */
#ifndef MB_STORE_H
#define MB_STORE_H

#include "lc_crypto.h"
#include "lc_db.h"
#include "lc_id.h"
#include "lc_members_msg.h"
#include "mb_code.h"

#include <stdbool.h>
#include <stdint.h>

#define MB_SQLSTATE_UNIQUE "23505"

/* A member to enroll. */
typedef struct mb_new_member {
    lc_id_t id;
    lc_id_t card_id;    /* the enrollment card's row id */
    const char *card;   /* 16 digits */
    lc_id_t partner_id; /* who enrolled the member */
    bool marketing, profiling;
    const uint8_t *key;       /* LC_AEAD_KEY_LEN bytes: the member's data key */
    const uint8_t *email_enc; /* NULL when no email */
    size_t email_enc_len;
    int64_t now;
} mb_new_member_t;

/* Inserts the member, its key and its first card in one transaction. Returns 0;
 * LC_ERR_CONFLICT when the card number is taken (nothing written); or *existed =
 * true (and 0) when a member with that id exists already (nothing written). */
int mb_store_enroll(lc_db_t *db, const mb_new_member_t *m, bool *existed);

/* The member's status (LC_ERR_NOT_FOUND when there is no such member). */
int mb_store_member_status(lc_db_t *db, const lc_id_t *id, int *status);
/* The same, locking the member's row for the rest of the caller's transaction. */
int mb_store_member_lock(lc_db_t *db, const lc_id_t *id, int *status);

/* The member's card numbers, oldest first: up to max into cards. */
int mb_store_member_cards(lc_db_t *db, const lc_id_t *id, char (*cards)[MB_CARD_DIGITS + 1],
                          size_t max, size_t *n);

/* The member a card belongs to and its status; LC_ERR_NOT_FOUND for an unknown card. */
int mb_store_card_owner(lc_db_t *db, const char *card, lc_id_t *member, int *status);

/* The card added with row id card_id, if any: LC_ERR_NOT_FOUND otherwise. */
int mb_store_card_by_id(lc_db_t *db, const lc_id_t *card_id, char card[MB_CARD_DIGITS + 1],
                        lc_id_t *member);

/* Adds a card to a member. LC_ERR_CONFLICT when the number is taken. */
int mb_store_add_card(lc_db_t *db, const lc_id_t *card_id, const lc_id_t *member, const char *card,
                      const lc_id_t *partner, int64_t now);

/* Sets the member's status and records who and why, in one transaction. */
int mb_store_set_status(lc_db_t *db, const lc_id_t *member, int status, const char *reason,
                        const lc_id_t *key_id, int64_t now);

/* Stores (or, for a retry of the same issue, replaces) code id's hash and expiry.
 * LC_ERR_CONFLICT when that code id was used already or belongs to another member. */
int mb_store_code_put(lc_db_t *db, const lc_id_t *id, const lc_id_t *member,
                      const uint8_t hash[LC_SHA256_LEN], int64_t now, int64_t expires_at);

/* A stored code as consume_code needs it. */
typedef struct mb_code_row {
    lc_id_t id;
    lc_id_t member_id;
    uint8_t hash[LC_SHA256_LEN];
    mb_code_state_t st;
} mb_code_row_t;

#define MB_CODES_OUTSTANDING_MAX 64 /* newest codes looked at per attempt */

/* The code a use consumed (LC_ERR_NOT_FOUND when none). */
int mb_store_code_by_use(lc_db_t *db, const lc_id_t *use_id, mb_code_row_t *out);
/* The member's unused, not invalidated codes, newest first (expired ones too). */
int mb_store_codes_open(lc_db_t *db, const lc_id_t *member, mb_code_row_t *out, size_t max,
                        size_t *n);
/* Marks code id used by use_id at now. */
int mb_store_code_use(lc_db_t *db, const lc_id_t *id, const lc_id_t *use_id, int64_t now);
/* Records a wrong attempt of use_id; *first is false when that use failed before. */
int mb_store_code_failure(lc_db_t *db, const lc_id_t *use_id, const lc_id_t *member, int64_t now,
                          bool *first);
/* Writes a code's failures and invalidated flag. */
int mb_store_code_update(lc_db_t *db, const mb_code_row_t *row);

#endif
