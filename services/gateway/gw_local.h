/*
 * gw_local.h: the routes the gateway answers itself, because API keys are the
 * gateway's own data (schema gateway). Each runs inside the request's
 * idempotency transaction, so a key and the record of the response that shows
 * it commit together: a retry replays the same key, never mints a second one.
 */
#ifndef GW_LOCAL_H
#define GW_LOCAL_H

#include "gw_routes.h"

/* POST /v1/partners: settlement.create_partner, then the partner's first key. */
void gw_local_create_partner(gw_t *gw, gw_backend_t *b, const lc_api_req_t *call,
                             const char *request_id, gw_resp_t *out);
/* POST /v1/partners/{id}/keys: another key for an existing partner. */
void gw_local_partner_key(gw_t *gw, gw_backend_t *b, const lc_api_req_t *call,
                          const char *request_id, gw_resp_t *out);
/* DELETE /v1/partners/{id}/keys/{key_id}: revokes one of the partner's keys. */
void gw_local_revoke_key(gw_t *gw, gw_backend_t *b, const lc_api_req_t *call,
                         const char *request_id, gw_resp_t *out);
/* POST /v1/keys: an admin, auditor or app key. */
void gw_local_create_key(gw_t *gw, gw_backend_t *b, const lc_api_req_t *call,
                         const char *request_id, gw_resp_t *out);

/* Sends call to service as message type and turns the reply into *out (the
 * success status given, or the error's). Returns true when the service
 * answered ok. Used by dispatch for forwarded routes, and by local handlers. */
bool gw_forward(gw_t *gw, gw_backend_t *b, int service, const char *type,
                const lc_api_req_t *call, const char *request_id, int status, gw_resp_t *out,
                json_t **reply_body);

#endif
