/*
 * mb_handlers.h: one handler per message type (lc_members_msg.h), grouped by
 * concern: mb_h_enroll.c (enroll, add_card), mb_h_read.c (card_balance, get,
 * resolve_card, export), mb_h_code.c (issue_code, consume_code), mb_h_status.c
 * (the member's state: freeze, unfreeze, set_consents, erase, set_tier). Shared helpers,
 * among them the sealing of personal data, are in mb_h_util.c.
 */
#ifndef MB_HANDLERS_H
#define MB_HANDLERS_H

#include "mb_server.h"
#include "mb_store.h"

const char *mb_h_enroll(mb_call_t *c, json_t **reply, char *msg, size_t msglen);
const char *mb_h_add_card(mb_call_t *c, json_t **reply, char *msg, size_t msglen);
const char *mb_h_card_balance(mb_call_t *c, json_t **reply, char *msg, size_t msglen);
const char *mb_h_get(mb_call_t *c, json_t **reply, char *msg, size_t msglen);
const char *mb_h_resolve_card(mb_call_t *c, json_t **reply, char *msg, size_t msglen);
const char *mb_h_issue_code(mb_call_t *c, json_t **reply, char *msg, size_t msglen);
const char *mb_h_consume_code(mb_call_t *c, json_t **reply, char *msg, size_t msglen);
const char *mb_h_freeze(mb_call_t *c, json_t **reply, char *msg, size_t msglen);
const char *mb_h_unfreeze(mb_call_t *c, json_t **reply, char *msg, size_t msglen);
const char *mb_h_set_consents(mb_call_t *c, json_t **reply, char *msg, size_t msglen);
const char *mb_h_erase(mb_call_t *c, json_t **reply, char *msg, size_t msglen);
const char *mb_h_export(mb_call_t *c, json_t **reply, char *msg, size_t msglen);
const char *mb_h_set_tier(mb_call_t *c, json_t **reply, char *msg, size_t msglen);
/* mb_history.c: members.history (the rows its journal consumer writes). */
const char *mb_h_history(mb_call_t *c, json_t **reply, char *msg, size_t msglen);

/* ---- helpers (mb_h_util.c) ---------------------------------------------------------- */

/* Decodes the API call's "request" with desc into out: NULL, or invalid_request
 * with msg naming the field. */
const char *mb_api_decode(mb_call_t *c, const lc_msgdesc_t *desc, void *out, char *msg,
                          size_t msglen);
/* Decodes an internal call's body with desc into out: NULL, or the envelope code
 * (missing_field, invalid_field, unknown_field) with msg naming the field. */
const char *mb_body_decode(mb_call_t *c, const lc_msgdesc_t *desc, void *out, char *msg,
                           size_t msglen);
/* Encodes in with desc into *reply: NULL, or internal. */
const char *mb_encode(const lc_msgdesc_t *desc, const void *in, json_t **reply, char *msg,
                      size_t msglen);
/* The error code for an internal failure rc (database, ledger, memory), logged
 * with what failed: unavailable for a lost dependency, internal otherwise. */
const char *mb_fail(mb_call_t *c, int rc, const char *what, char *msg, size_t msglen);

/* ---- personal data (mb_h_util.c; which columns: mb_store.h) ------------------------ */

/* Labels appended to the member id in the associated data of each sealed field, so
 * a ciphertext opens only as the field of the member it was sealed for. The email
 * has none (schema v1 sealed it under the bare member id). */
#define MB_AAD_EMAIL ""
#define MB_AAD_NAME "name"
#define MB_AAD_STATUS_REASON "status_reason"

/* Seals the text pt (NULL: nothing, out stays empty) under the member's key, bound
 * to member and label. out->data is the caller's (mb_sealed_clear). */
int mb_seal(const uint8_t key[LC_AEAD_KEY_LEN], const lc_id_t *member, const char *label,
            const char *pt, mb_sealed_t *out);
/* Opens what mb_seal sealed into a new NUL-terminated string (*out, caller frees;
 * NULL when in is empty). LC_ERR_CRYPTO when it does not open under this key,
 * member and label. */
int mb_open(const uint8_t key[LC_AEAD_KEY_LEN], const lc_id_t *member, const char *label,
            const mb_sealed_t *in, char **out);

#endif
