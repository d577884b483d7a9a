/*
 * st_members.h: settlement as a client of the members service, over its internal
 * messages members.resolve_card, members.consume_code and members.set_tier
 * (lc_settlement_msg.h).
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

/* Uses a one-time member code for use_id, redeeming points. LC_OK; LC_ERR_CONFLICT
 * when members refused it, with the API error to answer in refusal (LC_CODE_MAX
 * bytes: invalid_member_code, member_code_locked, cooling_off, member_frozen) and
 * members' message in why; LC_ERR_UNAVAILABLE. */
int st_members_consume(st_server_t *s, const char *rid, const lc_id_t *member, const char *code,
                       const lc_id_t *use_id, int64_t points, char *refusal, char *why,
                       size_t whylen);

/* Reports the member's tier (index, settlement's version) to members. LC_OK with
 * *held = the version members holds now (>= version unless members lost data);
 * LC_ERR_UNAVAILABLE otherwise (logged). */
int st_members_set_tier(st_server_t *s, const char *rid, const lc_id_t *member, int tier,
                        int64_t version, int64_t *held);

#endif
