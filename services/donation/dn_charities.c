/*
 * dn_charities.c: charities and campaigns (create, list).
 *
 * A charity's ledger account is derived from its id (lc_id_derive(id, "charity"),
 * kind charity, no overdraft), so it needs no lookup. A campaign's matching partner
 * must have an issuance account in the ledger (settlement made it).
 */
#include "dn_ledger.h"
#include "dn_server.h"
#include "dn_store.h"
#include "lc_err.h"
#include "lc_log.h"
#include "lc_time.h"

#include <stdlib.h>
#include <string.h>

#define READERS (DN_ROLE(LC_ROLE_APP) | DN_ROLE(LC_ROLE_ADMIN) | DN_ROLE(LC_ROLE_AUDITOR))

int dn_campaign_status_at(const dn_campaign_t *cp, int64_t now)
{
    if (now < cp->starts_at)
        return DN_CAMPAIGN_SCHEDULED;
    return now < cp->ends_at ? DN_CAMPAIGN_OPEN : DN_CAMPAIGN_CLOSED;
}

const char *dn_h_create_charity(dn_call_t *c, json_t **reply)
{
    const char *e = dn_need_roles(c, DN_ROLE(LC_ROLE_ADMIN));
    if (e)
        return e;
    dn_charity_req_t req;
    if ((e = dn_decode(c, &dn_charity_req_desc, &req)))
        return e;
    dn_charity_t ch;
    memset(&ch, 0, sizeof ch);
    lc_id_t id;
    /* API.md: verified defaults to true (the codec reads absent as false). */
    const json_t *v = json_object_get(c->api.request, "verified");
    bool verified = !v || json_is_null(v) ? true : req.verified;
    if (!req.name[0] || !req.registration_no[0]) {
        e = dn_fail(c, LC_API_INVALID_REQUEST, "name and registration_no must not be empty");
        goto done;
    }
    if ((e = dn_derive(c, "charity", &id)))
        goto done;
    int rc = dn_store_charity_get(c->srv, &id, &ch);
    if (rc == LC_OK) { /* a retry of a request that succeeded: answer it again */
        e = dn_reply(c, &dn_charity_desc, &ch, reply);
        goto done;
    }
    if (rc != LC_ERR_NOT_FOUND) {
        e = dn_db_fail(c, "load charity");
        goto done;
    }
    rc = dn_ledger_charity_account(c->srv, c->rid, &id);
    if (rc != LC_OK) {
        e = dn_fail(c, rc == LC_ERR_UNAVAILABLE ? LC_API_UNAVAILABLE : LC_API_INTERNAL,
                    "the charity's ledger account cannot be created");
        goto done;
    }
    ch.id = id;
    ch.name = req.name;
    ch.registration_no = req.registration_no;
    ch.payout_account = req.payout_account;
    req.name = req.registration_no = req.payout_account = NULL;
    ch.verified = verified;
    dn_charity_account(&id, &ch.account_id);
    ch.created_at = lc_now_us();
    rc = dn_store_charity_insert(c->srv, &ch, &c->api.caller.key_id);
    if (rc == LC_ERR_CONFLICT) {
        e = dn_fail(c, LC_API_CONFLICT, "a charity with registration_no %s exists",
                    ch.registration_no);
        goto done;
    }
    if (rc != LC_OK) {
        e = dn_db_fail(c, "insert charity");
        goto done;
    }
    char idt[LC_ID_STRLEN + 1];
    lc_id_format(&id, idt);
    lc_log_kv(LC_LOG_INFO, c->rid, "charity registered", "charity_id", idt, "verified",
              verified ? "true" : "false", NULL);
    e = dn_reply(c, &dn_charity_desc, &ch, reply);
done:
    lc_codec_clear(&dn_charity_desc, &ch);
    lc_codec_clear(&dn_charity_req_desc, &req);
    return e;
}

const char *dn_h_list_charities(dn_call_t *c, json_t **reply)
{
    const char *e = dn_need_roles(c, READERS);
    if (e)
        return e;
    dn_empty_t none;
    if ((e = dn_decode(c, &dn_empty_desc, &none)))
        return e;
    int64_t limit;
    lc_id_t after;
    bool has_after;
    if ((e = dn_list_query(c, &limit, &after, &has_after)))
        return e;
    dn_charity_list_t list = {0};
    if (dn_store_charity_list(c->srv, has_after ? &after : NULL, limit + 1, &list.data,
                              &list.ndata) != LC_OK) {
        e = dn_db_fail(c, "list charities");
    } else {
        if ((int64_t)list.ndata > limit) {
            list.has_more = true;
            lc_codec_clear(&dn_charity_desc, &list.data[limit]);
            list.ndata = (size_t)limit;
        }
        e = dn_reply(c, &dn_charity_list_desc, &list, reply);
    }
    for (size_t i = 0; i < list.ndata; i++)
        lc_codec_clear(&dn_charity_desc, &list.data[i]);
    free(list.data);
    return e;
}

/* not_found unless partner has an issuance account in the ledger. */
static const char *s_check_partner(dn_call_t *c, const lc_id_t *partner)
{
    lc_id_t iss;
    dn_partner_issuance(partner, &iss);
    ld_account_view_t a;
    int rc = dn_ledger_account(c->srv, c->rid, &iss, &a);
    if (rc == LC_ERR_NOT_FOUND)
        return dn_fail(c, LC_API_NOT_FOUND, "match.partner_id: no such partner");
    if (rc != LC_OK)
        return dn_fail(c, LC_API_UNAVAILABLE, "the ledger is unavailable");
    return NULL;
}

const char *dn_h_create_campaign(dn_call_t *c, json_t **reply)
{
    const char *e = dn_need_roles(c, DN_ROLE(LC_ROLE_ADMIN));
    if (e)
        return e;
    dn_campaign_req_t req;
    if ((e = dn_decode(c, &dn_campaign_req_desc, &req)))
        return e;
    dn_campaign_t cp;
    memset(&cp, 0, sizeof cp);
    dn_charity_t ch;
    memset(&ch, 0, sizeof ch);
    lc_id_t id;
    if (!req.name[0]) {
        e = dn_fail(c, LC_API_INVALID_REQUEST, "name: must not be empty");
        goto done;
    }
    if (req.ends_at <= req.starts_at) {
        e = dn_fail(c, LC_API_INVALID_REQUEST, "ends_at must be after starts_at");
        goto done;
    }
    if ((e = dn_derive(c, "campaign", &id)))
        goto done;
    int rc = dn_store_campaign_get(c->srv, &id, &cp);
    if (rc == LC_OK) {
        cp.status = dn_campaign_status_at(&cp, lc_now_us());
        e = dn_reply(c, &dn_campaign_desc, &cp, reply);
        goto done;
    }
    if (rc != LC_ERR_NOT_FOUND) {
        e = dn_db_fail(c, "load campaign");
        goto done;
    }
    rc = dn_store_charity_get(c->srv, &req.charity_id, &ch);
    if (rc == LC_ERR_NOT_FOUND) {
        e = dn_fail(c, LC_API_NOT_FOUND, "charity_id: no such charity");
        goto done;
    }
    if (rc != LC_OK) {
        e = dn_db_fail(c, "load charity");
        goto done;
    }
    if (!lc_id_is_zero(&req.match.partner_id) && (e = s_check_partner(c, &req.match.partner_id)))
        goto done;
    cp.id = id;
    cp.charity_id = req.charity_id;
    cp.name = req.name;
    req.name = NULL;
    cp.goal_points = req.goal_points;
    cp.starts_at = req.starts_at;
    cp.ends_at = req.ends_at;
    cp.match = req.match;
    cp.created_at = lc_now_us();
    if (dn_store_campaign_insert(c->srv, &cp) != LC_OK) {
        e = dn_db_fail(c, "insert campaign");
        goto done;
    }
    char idt[LC_ID_STRLEN + 1];
    lc_id_format(&id, idt);
    lc_log_kv(LC_LOG_INFO, c->rid, "campaign created", "campaign_id", idt, NULL);
    cp.status = dn_campaign_status_at(&cp, lc_now_us());
    e = dn_reply(c, &dn_campaign_desc, &cp, reply);
done:
    lc_codec_clear(&dn_charity_desc, &ch);
    lc_codec_clear(&dn_campaign_desc, &cp);
    lc_codec_clear(&dn_campaign_req_desc, &req);
    return e;
}

const char *dn_h_list_campaigns(dn_call_t *c, json_t **reply)
{
    const char *e = dn_need_roles(c, READERS);
    if (e)
        return e;
    dn_empty_t none;
    if ((e = dn_decode(c, &dn_empty_desc, &none)))
        return e;
    int64_t limit;
    lc_id_t after, charity;
    bool has_after;
    if ((e = dn_list_query(c, &limit, &after, &has_after)))
        return e;
    const char *cq = lc_api_query(&c->api, "charity_id");
    if (cq && (strlen(cq) != LC_ID_STRLEN || lc_id_parse(cq, &charity) != LC_OK))
        return dn_fail(c, LC_API_INVALID_REQUEST, "charity_id: expected a charity id");
    dn_campaign_list_t list = {0};
    if (dn_store_campaign_list(c->srv, has_after ? &after : NULL, limit + 1, cq ? &charity : NULL,
                               &list.data, &list.ndata) != LC_OK) {
        e = dn_db_fail(c, "list campaigns");
    } else {
        if ((int64_t)list.ndata > limit) {
            list.has_more = true;
            lc_codec_clear(&dn_campaign_desc, &list.data[limit]);
            list.ndata = (size_t)limit;
        }
        int64_t now = lc_now_us();
        for (size_t i = 0; i < list.ndata; i++)
            list.data[i].status = dn_campaign_status_at(&list.data[i], now);
        e = dn_reply(c, &dn_campaign_list_desc, &list, reply);
    }
    for (size_t i = 0; i < list.ndata; i++)
        lc_codec_clear(&dn_campaign_desc, &list.data[i]);
    free(list.data);
    return e;
}
