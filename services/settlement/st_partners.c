/*
 * st_partners.c: the partner registry (create, list, get) and prepayments.
 *
 * A partner's ledger accounts are derived from its id, so they need no lookup:
 *   issuance   lc_id_derive(id, "issuance")   partner_issuance; prepaid partners
 *              carry debits_must_not_exceed_credits, so their earns stop when the
 *              prepaid budget (its available balance) is used up;
 *   redemption lc_id_derive(id, "redemption") partner_redemption;
 *   prepayment lc_id_derive(id, "prepayment") partner_prepayment: a prepayment moves
 *              points prepayment -> issuance.
 */
#include "lc_err.h"
#include "lc_log.h"
#include "lc_time.h"
#include "st_ledger.h"
#include "st_server.h"
#include "st_store.h"

#include <stdlib.h>
#include <string.h>

/* Fills budget_points of the prepaid partners among p[0..n) from the ledger. */
static const char *s_fill_budgets(st_call_t *c, st_partner_t *p, size_t n)
{
    lc_id_t *ids = calloc(n ? n : 1, sizeof *ids);
    size_t k = 0;
    if (!ids)
        return st_fail(c, LC_API_INTERNAL, "out of memory");
    for (size_t i = 0; i < n; i++)
        if (p[i].funding == ST_FUNDING_PREPAID)
            st_partner_accounts(&p[i].id, &ids[k++], NULL, NULL);
    if (k == 0) {
        free(ids);
        return NULL;
    }
    ld_accounts_rep_t rep;
    int rc = st_ledger_lookup(c->srv, c->rid, ids, k, &rep);
    free(ids);
    if (rc != LC_OK)
        return st_fail(c, LC_API_UNAVAILABLE, "the ledger is unavailable");
    for (size_t i = 0; i < n; i++) {
        if (p[i].funding != ST_FUNDING_PREPAID)
            continue;
        lc_id_t iss;
        st_partner_accounts(&p[i].id, &iss, NULL, NULL);
        for (size_t a = 0; a < rep.naccounts; a++)
            if (lc_id_eq(&rep.accounts[a].id, &iss))
                p[i].budget_points = rep.accounts[a].available;
    }
    lc_codec_clear(&ld_accounts_rep_desc, &rep);
    return NULL;
}

/* Answers partner p (budget filled in). */
static const char *s_reply_partner(st_call_t *c, st_partner_t *p, json_t **reply)
{
    const char *e = s_fill_budgets(c, p, 1);
    return e ? e : st_reply(c, &st_partner_desc, p, reply);
}

/* Creates the partner's three ledger accounts (idempotent by their derived ids). */
static const char *s_create_accounts(st_call_t *c, const lc_id_t *id, int funding)
{
    ld_account_new_t a[3];
    memset(a, 0, sizeof a);
    st_partner_accounts(id, &a[0].id, &a[1].id, &a[2].id);
    a[0].kind = LD_KIND_PARTNER_ISSUANCE;
    a[0].code = ST_ACCOUNT_ISSUANCE;
    a[0].flags = funding == ST_FUNDING_PREPAID ? LD_AF_DEBITS_MUST_NOT_EXCEED_CREDITS : 0;
    a[1].kind = LD_KIND_PARTNER_REDEMPTION;
    a[1].code = ST_ACCOUNT_REDEMPTION;
    a[2].kind = LD_KIND_PARTNER_PREPAYMENT;
    a[2].code = ST_ACCOUNT_PREPAYMENT;
    for (int i = 0; i < 3; i++)
        a[i].user_data = *id;
    ld_results_rep_t rep;
    if (st_ledger_accounts(c->srv, c->rid, a, 3, &rep) != LC_OK)
        return st_fail(c, LC_API_UNAVAILABLE, "the ledger is unavailable");
    const char *code = NULL;
    for (size_t i = 0; i < 3 && !code; i++) {
        int r = rep.results[i].result;
        if (!st_ledger_applied(r)) {
            char idt[LC_ID_STRLEN + 1];
            lc_id_format(&a[i].id, idt);
            lc_log_kv(LC_LOG_ERROR, c->rid, "partner account refused", "account_id", idt,
                      "result", st_ledger_result_name(r), NULL);
            code = st_fail(c, LC_API_INTERNAL, "the ledger refused a partner account: %s",
                           st_ledger_result_name(r));
        }
    }
    lc_codec_clear(&ld_results_rep_desc, &rep);
    return code;
}

/* The start of every partner-registry call: admins only, body decoded with desc. */
static const char *s_admin_decode(st_call_t *c, const lc_msgdesc_t *desc, void *out)
{
    const char *e = st_need_role(c, LC_ROLE_ADMIN);
    return e ? e : st_decode(c, desc, out);
}

/* Loads the partner named by the path into *p (not_found when there is none); *id
 * is its id. Clear *p with st_partner_desc. */
static const char *s_path_partner(st_call_t *c, lc_id_t *id, st_partner_t *p)
{
    memset(p, 0, sizeof *p);
    if (lc_api_param_id(&c->api, "id", id) != LC_OK)
        return st_fail(c, LC_API_NOT_FOUND, "no such partner");
    int rc = st_store_partner_get(c->srv, id, p);
    if (rc == LC_ERR_NOT_FOUND)
        return st_fail(c, LC_API_NOT_FOUND, "no such partner");
    if (rc != LC_OK)
        return st_db_fail(c, "load partner");
    return NULL;
}

const char *st_h_create_partner(st_call_t *c, json_t **reply)
{
    st_create_partner_req_t req;
    const char *e = s_admin_decode(c, &st_create_partner_req_desc, &req);
    if (e)
        return e;
    st_partner_t p;
    memset(&p, 0, sizeof p);
    lc_id_t id;
    if (!req.name[0]) {
        e = st_fail(c, LC_API_INVALID_REQUEST, "name: must not be empty");
        goto done;
    }
    for (size_t i = 0; i < req.nexcluded_categories; i++)
        if (!req.excluded_categories[i][0]) {
            e = st_fail(c, LC_API_INVALID_REQUEST, "excluded_categories[%zu]: must not be empty",
                        i);
            goto done;
        }
    if ((e = st_derive(c, "partner", &id)))
        goto done;
    int rc = st_store_partner_get(c->srv, &id, &p);
    if (rc == LC_OK) { /* a retry of a request that succeeded: answer it again */
        e = s_reply_partner(c, &p, reply);
        goto done;
    }
    if (rc != LC_ERR_NOT_FOUND) {
        e = st_db_fail(c, "load partner");
        goto done;
    }
    if ((e = s_create_accounts(c, &id, req.funding)))
        goto done;
    p.id = id;
    p.name = req.name;
    req.name = NULL;
    p.earn_rate = req.earn_rate;
    p.pending_days = req.pending_days;
    p.tariff = req.tariff;
    p.funding = req.funding;
    p.excluded_categories = req.excluded_categories;
    p.nexcluded_categories = req.nexcluded_categories;
    req.excluded_categories = NULL;
    req.nexcluded_categories = 0;
    p.created_at = lc_now_us();
    if (st_store_partner_insert(c->srv, &p, &c->api.caller.key_id) != LC_OK) {
        e = st_db_fail(c, "insert partner");
        goto done;
    }
    char idt[LC_ID_STRLEN + 1];
    lc_id_format(&id, idt);
    lc_log_kv(LC_LOG_INFO, c->rid, "partner created", "partner_id", idt, "funding",
              lc_name_of(st_funding_names, (uint32_t)p.funding), NULL);
    e = s_reply_partner(c, &p, reply);
done:
    lc_codec_clear(&st_partner_desc, &p);
    lc_codec_clear(&st_create_partner_req_desc, &req);
    return e;
}

const char *st_h_get_partner(st_call_t *c, json_t **reply)
{
    st_empty_t none;
    const char *e = s_admin_decode(c, &st_empty_desc, &none);
    if (e)
        return e;
    lc_id_t id;
    st_partner_t p;
    if ((e = s_path_partner(c, &id, &p)))
        return e;
    e = s_reply_partner(c, &p, reply);
    lc_codec_clear(&st_partner_desc, &p);
    return e;
}

const char *st_h_list_partners(st_call_t *c, json_t **reply)
{
    st_empty_t none;
    const char *e = s_admin_decode(c, &st_empty_desc, &none);
    if (e)
        return e;
    int64_t limit;
    if (lc_api_query_i64(&c->api, "limit", ST_LIST_DEFAULT, 1, LC_API_LIST_MAX, &limit, c->msg,
                         c->msglen) != LC_OK)
        return LC_API_INVALID_REQUEST;
    lc_id_t after;
    const char *sa = lc_api_query(&c->api, "starting_after");
    if (sa && (strlen(sa) != LC_ID_STRLEN || lc_id_parse(sa, &after) != LC_OK))
        return st_fail(c, LC_API_INVALID_REQUEST, "starting_after: expected a partner id");
    st_partner_list_t list = {0};
    if (st_store_partner_list(c->srv, sa ? &after : NULL, limit + 1, &list.data, &list.ndata) !=
        LC_OK)
        return st_db_fail(c, "list partners");
    if ((int64_t)list.ndata > limit) {
        list.has_more = true;
        lc_codec_clear(&st_partner_desc, &list.data[limit]);
        list.ndata = (size_t)limit;
    }
    e = s_fill_budgets(c, list.data, list.ndata);
    if (!e)
        e = st_reply(c, &st_partner_list_desc, &list, reply);
    st_store_partners_free(list.data, list.ndata);
    return e;
}

const char *st_h_prepay(st_call_t *c, json_t **reply)
{
    st_prepay_req_t req;
    const char *e = s_admin_decode(c, &st_prepay_req_desc, &req);
    if (e)
        return e;
    lc_id_t pid, id;
    st_partner_t p;
    if ((e = s_path_partner(c, &pid, &p)))
        return e;
    int funding = p.funding;
    lc_codec_clear(&st_partner_desc, &p);
    if (funding != ST_FUNDING_PREPAID)
        return st_fail(c, LC_API_CONFLICT, "the partner is postpaid: it has no budget to add to");
    if ((e = st_derive(c, "prepayment", &id)))
        return e;
    st_prepay_rep_t rep = {.partner_id = pid, .points = req.points};
    int64_t stored;
    int rc = st_store_prepay_get(c->srv, &id, &pid, &stored);
    if (rc != LC_OK && rc != LC_ERR_NOT_FOUND)
        return st_db_fail(c, "load prepayment");
    if (rc == LC_ERR_NOT_FOUND) {
        ld_transfer_t t = {.id = id, .amount = req.points, .code = ST_CODE_PREPAY,
                           .user_data = pid};
        st_partner_accounts(&pid, &t.credit_account_id, NULL, &t.debit_account_id);
        int r;
        if ((e = st_ledger_transfer_one(c, &t, &r, NULL)))
            return e;
        char tid[LC_ID_STRLEN + 1];
        lc_id_format(&id, tid);
        if (!st_ledger_applied(r)) {
            lc_log_kv(LC_LOG_ERROR, c->rid, "prepayment refused", "transfer_id", tid, "result",
                      st_ledger_result_name(r), NULL);
            return st_fail(c, st_ledger_exists_different(r) ? LC_API_CONFLICT : LC_API_INTERNAL,
                           "the ledger refused the prepayment: %s", st_ledger_result_name(r));
        }
        if (st_store_prepay_insert(c->srv, &id, &pid, req.points, lc_now_us()) != LC_OK)
            return st_db_fail(c, "insert prepayment");
        lc_log_kv(LC_LOG_INFO, c->rid, "prepayment posted", "partner_id", c->partner,
                  "transfer_id", tid, NULL);
    } else {
        rep.points = stored;
    }
    lc_id_t iss;
    st_partner_accounts(&pid, &iss, NULL, NULL);
    if (st_ledger_available(c->srv, c->rid, &iss, &rep.budget_points) != LC_OK)
        return st_fail(c, LC_API_UNAVAILABLE, "the ledger is unavailable");
    return st_reply(c, &st_prepay_rep_desc, &rep, reply);
}
