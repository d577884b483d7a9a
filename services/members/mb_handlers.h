/*
 * mb_handlers.h: one handler per message type (lc_members_msg.h), grouped by
 * concern: mb_h_enroll.c (enroll, add_card), mb_h_read.c (card_balance, get,
 * resolve_card), mb_h_code.c (issue_code, consume_code), mb_h_status.c
 * (freeze, unfreeze). Shared helpers are in mb_h_util.c.
 */
#ifndef MB_HANDLERS_H
#define MB_HANDLERS_H

#include "mb_server.h"

const char *mb_h_enroll(mb_call_t *c, json_t **reply, char *msg, size_t msglen);
const char *mb_h_add_card(mb_call_t *c, json_t **reply, char *msg, size_t msglen);
const char *mb_h_card_balance(mb_call_t *c, json_t **reply, char *msg, size_t msglen);
const char *mb_h_get(mb_call_t *c, json_t **reply, char *msg, size_t msglen);
const char *mb_h_resolve_card(mb_call_t *c, json_t **reply, char *msg, size_t msglen);
const char *mb_h_issue_code(mb_call_t *c, json_t **reply, char *msg, size_t msglen);
const char *mb_h_consume_code(mb_call_t *c, json_t **reply, char *msg, size_t msglen);
const char *mb_h_freeze(mb_call_t *c, json_t **reply, char *msg, size_t msglen);
const char *mb_h_unfreeze(mb_call_t *c, json_t **reply, char *msg, size_t msglen);

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

#endif
