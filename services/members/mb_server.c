/*
 * mb_server.c: sockets, the database connection and dispatch (mb_server.h).
 */
#include "mb_server.h"
#include "lc_err.h"
#include "lc_log.h"
#include "lc_members_msg.h"
#include "mb_handlers.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

#define ROLE(r) (1u << (r))

/* Who may send each type. API calls name the roles of API.md; internal calls
 * (roles 0) carry no caller and come from other services on the bus. */
static const struct {
    const char *type;
    mb_handler_fn fn;
    unsigned roles;
} s_routes[] = {
    {MB_TYPE_ENROLL, mb_h_enroll, ROLE(LC_ROLE_PARTNER)},
    {MB_TYPE_ADD_CARD, mb_h_add_card, ROLE(LC_ROLE_PARTNER)},
    {MB_TYPE_CARD_BALANCE, mb_h_card_balance, ROLE(LC_ROLE_PARTNER)},
    {MB_TYPE_GET, mb_h_get, ROLE(LC_ROLE_APP) | ROLE(LC_ROLE_ADMIN)},
    {MB_TYPE_ISSUE_CODE, mb_h_issue_code, ROLE(LC_ROLE_APP)},
    {MB_TYPE_FREEZE, mb_h_freeze, ROLE(LC_ROLE_ADMIN)},
    {MB_TYPE_UNFREEZE, mb_h_unfreeze, ROLE(LC_ROLE_ADMIN)},
    {MB_TYPE_RESOLVE_CARD, mb_h_resolve_card, 0},
    {MB_TYPE_CONSUME_CODE, mb_h_consume_code, 0},
    {MB_TYPE_SET_TIER, mb_h_set_tier, 0},
    {MB_TYPE_SET_CONSENTS, mb_h_set_consents, ROLE(LC_ROLE_APP)},
    {MB_TYPE_ERASE, mb_h_erase, ROLE(LC_ROLE_ADMIN)},
    {MB_TYPE_EXPORT, mb_h_export, ROLE(LC_ROLE_APP)},
    {MB_TYPE_HISTORY, mb_h_history, ROLE(LC_ROLE_APP)},
};

int mb_server_open(mb_server_t *s, const mb_server_config_t *cfg)
{
    memset(s, 0, sizeof *s);
    s->cfg = *cfg;
    char *err = NULL;
    s->db = lc_db_connect(cfg->conninfo, &err);
    if (!s->db) {
        lc_error(NULL, "cannot connect to the database: %s", err ? err : "?");
        free(err);
        return LC_ERR_UNAVAILABLE;
    }
    const char *why = NULL;
    if (lc_db_check_durability(s->db, &why) != LC_OK) {
        lc_error(NULL, "refusing to start: %s", why ? why : "durability settings are off");
        return LC_ERR_CONFLICT;
    }
    s->zctx = zmq_ctx_new();
    if (!s->zctx)
        return LC_ERR_IO;
    s->bus = lc_bus_server_new(s->zctx, cfg->bind, &err);
    if (!s->bus) {
        lc_error(NULL, "%s", err ? err : "cannot bind");
        free(err);
        return LC_ERR_IO;
    }
    s->ledger = lc_bus_client_new(s->zctx, cfg->ledger);
    if (!s->ledger) {
        lc_error(NULL, "cannot connect to the ledger at %s", cfg->ledger);
        return LC_ERR_IO;
    }
    return LC_OK;
}

void mb_server_close(mb_server_t *s)
{
    lc_bus_client_destroy(&s->ledger);
    lc_bus_server_destroy(&s->bus);
    if (s->zctx)
        zmq_ctx_term(s->zctx);
    s->zctx = NULL;
    lc_db_destroy(&s->db);
}

/* Reopens the database connection when it was lost (a restarted server). */
static void s_db_ensure(mb_server_t *s, const char *rid)
{
    if (s->db && lc_db_alive(s->db))
        return;
    lc_db_destroy(&s->db);
    char *err = NULL;
    s->db = lc_db_connect(s->cfg.conninfo, &err);
    if (!s->db)
        lc_warn(rid, "database reconnect failed: %s", err ? err : "?");
    free(err);
}

static const char *s_handle(void *ctx, const lc_request_t *req, json_t **reply, char *msg,
                            size_t msglen)
{
    mb_server_t *s = ctx;
    s->requests++;
    const mb_msgtype_t *t = mb_msgtype_find(req->type);
    if (!t) {
        snprintf(msg, msglen, "the members service does not serve %s", req->type);
        return LC_E_UNKNOWN_TYPE;
    }
    if (!strcmp(t->type, MB_TYPE_PING)) {
        lc_codec_err_t cerr;
        mb_empty_t empty;
        if (lc_codec_decode(&mb_empty_desc, req->body, &empty, &cerr) != LC_OK) {
            snprintf(msg, msglen, "%s%s%s", cerr.path, cerr.path[0] ? ": " : "", cerr.message);
            return cerr.code;
        }
        *reply = json_object();
        return *reply ? NULL : LC_E_INTERNAL;
    }
    size_t i = 0;
    while (i < sizeof s_routes / sizeof s_routes[0] && strcmp(s_routes[i].type, t->type))
        i++;
    if (i == sizeof s_routes / sizeof s_routes[0]) {
        snprintf(msg, msglen, "%s has no handler", req->type);
        return LC_E_INTERNAL;
    }
    mb_call_t c = {.srv = s, .req = req, .rid = req->request_id};
    if (t->api) {
        int rc = lc_api_req_parse(req->body, &c.api, msg, msglen);
        if (rc == LC_ERR_NOMEM)
            return LC_API_INTERNAL;
        if (rc != LC_OK)
            return LC_API_INVALID_REQUEST;
        if (!(s_routes[i].roles & ROLE(c.api.caller.role))) {
            lc_api_req_clear(&c.api);
            snprintf(msg, msglen, "this role may not call %s", t->type);
            return LC_API_FORBIDDEN;
        }
    }
    s_db_ensure(s, c.rid);
    const char *code;
    if (!s->db) {
        snprintf(msg, msglen, "the members database is unavailable");
        code = t->api ? LC_API_UNAVAILABLE : LC_E_UNAVAILABLE;
    } else {
        code = s_routes[i].fn(&c, reply, msg, msglen); /* ends every transaction it opens */
    }
    if (code && *reply) {
        json_decref(*reply);
        *reply = NULL;
    }
    lc_api_req_clear(&c.api);
    return code;
}

int mb_server_run(mb_server_t *s, volatile int *stop)
{
    s->history = (mb_history_t){.run = {.zctx = s->zctx,
                                        .conninfo = s->cfg.conninfo,
                                        .publish = s->cfg.publish,
                                        .ledger = s->cfg.ledger,
                                        .stop = stop}};
    int rc = mb_history_start(&s->history);
    if (rc != LC_OK) {
        lc_error(NULL, "cannot start the journal consumer");
        return rc;
    }
    rc = lc_bus_serve(s->bus, s_handle, s, stop);
    *stop = 1; /* lc_bus_serve may also end on an error */
    mb_history_join(&s->history);
    return rc;
}
