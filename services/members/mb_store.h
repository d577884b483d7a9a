/*
 * mb_store.h: the members schema in PostgreSQL (deploy/migrations/members/).
 * Every statement is parameterized and goes through lc_db. Functions return 0,
 * LC_ERR_NOT_FOUND, LC_ERR_CONFLICT where documented, or the lc_db error
 * (LC_ERR_DB, LC_ERR_UNAVAILABLE). Functions that write several rows run their
 * own transaction; the code functions run inside the caller's (mb_h_code.c).
 *
 * Personal data (002_privacy.sql). The columns that hold something about the
 * person, and how:
 *   members.email_enc, members.name_enc, status_events.reason_enc: sealed with
 *     AES-256-GCM under the member's own key (member_keys.key), associated data =
 *     member id bytes || field label (MB_AAD_*: mb_handlers.h mb_seal / mb_open);
 *     this module stores and returns them sealed, it never sees the plaintext;
 *   cards.card_number: pseudonymous numbers, in clear (cards are looked up by
 *     number); consents and their history, code metadata, status and times: no
 *     free text, kept as they are.
 * Erasure deletes the key row (the ciphertexts stay, unreadable), clears any
 * status reason stored in clear before v2, and withdraws the consents. Nothing
 * personal is ever written in clear: not to these tables and not to the log.
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
    const uint8_t *name_enc; /* NULL when no name */
    size_t name_enc_len;
    lc_id_t key_id; /* the API key that enrolled (recorded with the consents) */
    int64_t now;
} mb_new_member_t;

/* A sealed value as stored: nonce || ciphertext || tag (data owned; NULL: none). */
typedef struct mb_sealed {
    uint8_t *data;
    size_t len;
} mb_sealed_t;
void mb_sealed_clear(mb_sealed_t *s);

/* A member's row. */
typedef struct mb_member_row {
    int status;             /* mb_status_t */
    mb_consents_t consents; /* current */
    lc_id_t enrolled_by;
    int64_t created_at;
    int64_t erased_at; /* 0: not erased */
    int tier;          /* as settlement last reported it (lc_tiers.h index) */
    mb_sealed_t email, name;
} mb_member_row_t;
void mb_member_row_clear(mb_member_row_t *row);

/* Inserts the member, its key, its first card and its first consent event in one
 * transaction. Returns 0;
 * LC_ERR_CONFLICT when the card number is taken (nothing written); or *existed =
 * true (and 0) when a member with that id exists already (nothing written). */
int mb_store_enroll(lc_db_t *db, const mb_new_member_t *m, bool *existed);

/* The member's status (LC_ERR_NOT_FOUND when there is no such member). */
int mb_store_member_status(lc_db_t *db, const lc_id_t *id, int *status);
/* The same, locking the member's row for the rest of the caller's transaction. */
int mb_store_member_lock(lc_db_t *db, const lc_id_t *id, int *status);

/* The member's row (LC_ERR_NOT_FOUND when there is no such member); clear out
 * with mb_member_row_clear. */
int mb_store_member_row(lc_db_t *db, const lc_id_t *id, mb_member_row_t *out);

/* The member's data key; LC_ERR_NOT_FOUND once erased (or no such member). */
int mb_store_member_key(lc_db_t *db, const lc_id_t *id, uint8_t key[LC_AEAD_KEY_LEN]);

/* Sets the consents given (NULL: unchanged) and records the change, in one
 * transaction; a call that changes nothing records nothing. *now_out gets the
 * consents after the call, *updated_at the time of the last recorded change.
 * LC_ERR_NOT_FOUND when there is no such member. */
int mb_store_set_consents(lc_db_t *db, const lc_id_t *member, const bool *marketing,
                          const bool *profiling, const lc_id_t *key_id, int64_t now,
                          mb_consents_t *now_out, int64_t *updated_at);

/* Erases the member's personal data in one transaction: deletes its key, clears
 * status reasons stored in clear, withdraws its consents (recorded as source
 * erasure when they were given) and sets erased_at = now. An erased member is
 * left as it is. *erased_at gets the (first) erasure's time. LC_ERR_NOT_FOUND when
 * there is no such member. */
int mb_store_erase(lc_db_t *db, const lc_id_t *member, const lc_id_t *key_id, int64_t now,
                   int64_t *erased_at);

/* The member's card numbers, oldest first: up to max into cards. */
int mb_store_member_cards(lc_db_t *db, const lc_id_t *id, char (*cards)[MB_CARD_DIGITS + 1],
                          size_t max, size_t *n);

/* The member a card belongs to and its status; LC_ERR_NOT_FOUND for an unknown card. */
int mb_store_card_owner(lc_db_t *db, const char *card, lc_id_t *member, int *status);
/* The same with the member's tier (lc_tiers.h index). */
int mb_store_card_owner_tier(lc_db_t *db, const char *card, lc_id_t *member, int *status,
                             int *tier);

/* Wrong code attempts of the member at or after since. */
int mb_store_code_failures_since(lc_db_t *db, const lc_id_t *member, int64_t since, int64_t *n,
                                 int64_t *oldest);
/* When the member's latest card other than its first was added (0: only one card). */
int mb_store_card_added_at(lc_db_t *db, const lc_id_t *member, int64_t *at);

/* Stores settlement's report of the member's tier unless a higher version is held;
 * *held_tier and *held_version get what is held afterwards. LC_ERR_NOT_FOUND when
 * there is no such member. */
int mb_store_set_tier(lc_db_t *db, const lc_id_t *member, int tier, int64_t version,
                      int *held_tier, int64_t *held_version);

/* The card added with row id card_id, if any: LC_ERR_NOT_FOUND otherwise. */
int mb_store_card_by_id(lc_db_t *db, const lc_id_t *card_id, char card[MB_CARD_DIGITS + 1],
                        lc_id_t *member);

/* Adds a card to a member. LC_ERR_CONFLICT when the number is taken. */
int mb_store_add_card(lc_db_t *db, const lc_id_t *card_id, const lc_id_t *member, const char *card,
                      const lc_id_t *partner, int64_t now);

/* Sets the member's status and records who and why (reason sealed under the
 * member's key; reason->data NULL: not kept, the member is erased), in one
 * transaction. */
int mb_store_set_status(lc_db_t *db, const lc_id_t *member, int status, const mb_sealed_t *reason,
                        const lc_id_t *key_id, int64_t now);

/* ---- export: each fills a new array (caller frees; lc_codec_clear of the reply
 * that holds it does), oldest first, at most MB_EXPORT_ROWS_MAX rows ---------- */

int mb_store_export_cards(lc_db_t *db, const lc_id_t *member, mb_export_card_t **out, size_t *n);
int mb_store_consent_events(lc_db_t *db, const lc_id_t *member, mb_consent_event_t **out,
                            size_t *n);
/* (*sealed)[i] is event i's sealed reason (caller frees each and the array with
 * mb_sealed_clear / free); a reason stored in clear before v2 is in reason. */
int mb_store_status_events(lc_db_t *db, const lc_id_t *member, mb_status_event_t **out,
                           mb_sealed_t **sealed, size_t *n);
int mb_store_export_codes(lc_db_t *db, const lc_id_t *member, mb_export_code_t **out, size_t *n);
int mb_store_code_failures(lc_db_t *db, const lc_id_t *member, mb_code_failure_t **out, size_t *n);

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
