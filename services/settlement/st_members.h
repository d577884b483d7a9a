/*
 * st_members.h: settlement as a client of the members service, over its internal
 * messages members.resolve_card and members.consume_code (lc_settlement_msg.h).
 */
#ifndef ST_MEMBERS_H
#define ST_MEMBERS_H

#include "st_server.h"

#include <stdbool.h>

/* Resolves a card number. LC_OK with *member and *frozen; LC_ERR_NOT_FOUND for an
 * unknown card; LC_ERR_UNAVAILABLE when members did not answer sensibly (logged). */
int st_members_resolve(st_server_t *s, const char *rid, const char *card, lc_id_t *member,
                       bool *frozen);

/* A handler's card lookup: NULL with *member set for an active member; otherwise
 * the API error (not_found, unavailable, member_frozen) with c's message written.
 * Earn, grant and authorize answer an unusable card alike. */
const char *st_members_active(st_call_t *c, const char *card, lc_id_t *member);

/* Uses a one-time member code for use_id. LC_OK; LC_ERR_CONFLICT when the code
 * cannot be used (invalid_member_code); LC_ERR_UNAVAILABLE. */
int st_members_consume(st_server_t *s, const char *rid, const lc_id_t *member, const char *code,
                       const lc_id_t *use_id);

#endif
