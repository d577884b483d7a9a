/*
 * st_coupon.c: coupons and promotions (issue 4, item 1): POST /v1/coupons (admin),
 * POST /v1/members/{id}/coupons/{code}/activate (app), and what an earn does with
 * the codes it is given (st_coupons_apply).
 *
 * Funders (services/settlement/README.md "Coupons"):
 *   - partner: its issuance account (a prepaid partner's budget pays for it);
 *   - coalition: the promotion account (st_promotion_account, kind
 *     coalition_promotion), created by the first coupon the coalition funds;
 *   - supplier: st_supplier_account(supplier id) (kind supplier_funding, user_data
 *     = supplier id), created by the first coupon that supplier funds.
 * Funding accounts of the coalition and suppliers have no overdraft limit: their
 * debit balance is what the funder owes.
 */
#include "lc_err.h"
#include "lc_log.h"
#include "lc_time.h"
#include "st_arith.h"
#include "st_coupon.h"
#include "st_ledger.h"
#include "st_members.h"
#include "st_server.h"
#include "st_store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A code travels in a URL path segment: printable ASCII, no space, / ? # or %. */
static bool s_code_ok(const char *code)
{
    if (!code[0])
        return false;
    for (const char *p = code; *p; p++)
        if (*p <= 0x20 || *p >= 0x7f || strchr("/?#%", *p))
            return false;
    return true;
}

/* Creates the funding account acct (kind, code, user_data) unless it exists. */
static const char *s_ensure_funder(st_call_t *c, const lc_id_t *acct, int kind, uint32_t code,
                                   const lc_id_t *user_data)
{
    ld_account_new_t a = {.id = *acct, .kind = kind, .code = code};
    if (user_data)
        a.user_data = *user_data;
    ld_results_rep_t rep;
    if (st_ledger_accounts(c->srv, c->rid, &a, 1, &rep) != LC_OK)
        return st_fail(c, LC_API_UNAVAILABLE, "the ledger is unavailable");
    int r = rep.results[0].result;
    lc_codec_clear(&ld_results_rep_desc, &rep);
    if (st_ledger_applied(r))
        return NULL;
    return st_fail(c, LC_API_CONFLICT, "the funding account cannot be created (ledger: %s)",
                   st_ledger_result_name(r));
}

/* Checks the funder of q and finds (creating when needed) the account it pays from. */
static const char *s_funder(st_call_t *c, const st_create_coupon_req_t *q, lc_id_t *acct)
{
    const st_funded_by_t *f = &q->funded_by;
    bool has_id = !lc_id_is_zero(&f->id);
    if (f->type == ST_FUNDER_COALITION) {
        if (has_id)
            return st_fail(c, LC_API_INVALID_REQUEST, "funded_by.id: not for the coalition");
        st_promotion_account(acct);
        return s_ensure_funder(c, acct, LD_KIND_COALITION_PROMOTION, ST_ACCOUNT_PROMOTION, NULL);
    }
    if (!has_id)
        return st_fail(c, LC_API_INVALID_REQUEST, "funded_by.id: required for a %s",
                       lc_name_of(st_funder_names, (uint32_t)f->type));
    if (f->type == ST_FUNDER_SUPPLIER) {
        st_supplier_account(&f->id, acct);
        return s_ensure_funder(c, acct, LD_KIND_SUPPLIER_FUNDING, ST_ACCOUNT_SUPPLIER, &f->id);
    }
    st_partner_t p;
    int rc = st_store_partner_get(c->srv, &f->id, &p);
    lc_codec_clear(&st_partner_desc, &p);
    if (rc == LC_ERR_NOT_FOUND)
        return st_fail(c, LC_API_NOT_FOUND, "funded_by.id: no such partner");
    if (rc != LC_OK)
        return st_db_fail(c, "load partner");
    st_partner_accounts(&f->id, acct, NULL, NULL);
    return NULL;
}

/* Checks the request beyond what the codec checks. */
static const char *s_check(st_call_t *c, const st_create_coupon_req_t *q)
{
    if (!s_code_ok(q->code))
        return st_fail(c, LC_API_INVALID_REQUEST,
                       "code: 1 to %d printable ASCII characters "
                       "without space, /, ?, # or %%",
                       ST_CATEGORY_MAX);
    if (q->kind == ST_COUPON_MULTIPLIER && (q->multiplier == 0 || q->bonus_points != 0))
        return st_fail(c, LC_API_INVALID_REQUEST,
                       "a multiplier coupon needs multiplier (>= 2) and no bonus_points");
    if (q->kind == ST_COUPON_BONUS && (q->bonus_points == 0 || q->multiplier != 0))
        return st_fail(c, LC_API_INVALID_REQUEST,
                       "a bonus coupon needs bonus_points (>= 1) and no multiplier");
    if (q->valid_until < q->valid_from)
        return st_fail(c, LC_API_INVALID_REQUEST, "valid_until: before valid_from");
    return NULL;
}

const char *st_h_create_coupon(st_call_t *c, json_t **reply)
{
    const char *e = st_need_role(c, LC_ROLE_ADMIN);
    if (e)
        return e;
    st_create_coupon_req_t q;
    memset(&q, 0, sizeof q);
    if ((e = st_decode(c, &st_create_coupon_req_desc, &q)))
        return e;
    st_coupon_t cp;
    memset(&cp, 0, sizeof cp);
    lc_id_t acct, id;
    if ((e = s_check(c, &q)) || (e = st_derive(c, "coupon", &id)))
        goto done;
    int rc = st_store_coupon_get(c->srv, &id, NULL, &cp, NULL); /* zeroes cp first */
    if (rc == LC_OK) {                                          /* a replay */
        e = st_reply(c, &st_coupon_desc, &cp, reply);
        goto done;
    }
    if (rc != LC_ERR_NOT_FOUND) {
        e = st_db_fail(c, "load coupon");
        goto done;
    }
    if (!lc_id_is_zero(&q.partner_id)) {
        st_partner_t p;
        rc = st_store_partner_get(c->srv, &q.partner_id, &p);
        lc_codec_clear(&st_partner_desc, &p);
        if (rc == LC_ERR_NOT_FOUND) {
            e = st_fail(c, LC_API_NOT_FOUND, "partner_id: no such partner");
            goto done;
        }
        if (rc != LC_OK) {
            e = st_db_fail(c, "load partner");
            goto done;
        }
    }
    if ((e = s_funder(c, &q, &acct)))
        goto done;
    cp.id = id;
    cp.code = q.code; /* borrowed until done */
    cp.partner_id = q.partner_id;
    cp.kind = q.kind;
    cp.multiplier = q.multiplier;
    cp.bonus_points = q.bonus_points;
    cp.funded_by = q.funded_by;
    cp.valid_from = q.valid_from;
    cp.valid_until = q.valid_until;
    cp.max_per_member = q.max_per_member;
    cp.created_at = lc_now_us();
    rc = st_store_coupon_insert(c->srv, &cp, &acct);
    if (rc == LC_ERR_CONFLICT)
        e = st_fail(c, LC_API_CONFLICT, "coupon code %s exists already", q.code);
    else if (rc != LC_OK)
        e = st_db_fail(c, "insert coupon");
    if (!e) {
        char idt[LC_ID_STRLEN + 1];
        lc_id_format(&cp.id, idt);
        lc_log_kv(LC_LOG_INFO, c->rid, "coupon created", "coupon_id", idt, "code", q.code, "funder",
                  lc_name_of(st_funder_names, (uint32_t)q.funded_by.type), NULL);
        e = st_reply(c, &st_coupon_desc, &cp, reply);
    }
    cp.code = NULL;
done:
    lc_codec_clear(&st_coupon_desc, &cp);
    lc_codec_clear(&st_create_coupon_req_desc, &q);
    return e;
}

const char *st_h_activate_coupon(st_call_t *c, json_t **reply)
{
    const char *e = st_need_role(c, LC_ROLE_APP);
    if (e)
        return e;
    st_activate_rep_t rep = {.code = NULL};
    const char *code = lc_api_param(&c->api, "code");
    if (lc_api_param_id(&c->api, "id", &rep.member_id) != LC_OK)
        return st_fail(c, LC_API_NOT_FOUND, "no such member");
    if (!code || !s_code_ok(code) || strlen(code) > ST_CATEGORY_MAX)
        return st_fail(c, LC_API_COUPON_NOT_APPLICABLE, "no such coupon");
    st_coupon_t cp;
    int rc = st_store_coupon_get(c->srv, NULL, code, &cp, NULL);
    if (rc == LC_ERR_NOT_FOUND)
        return st_fail(c, LC_API_COUPON_NOT_APPLICABLE, "no such coupon");
    if (rc != LC_OK)
        return st_db_fail(c, "load coupon");
    /* Refusals first, so a used-up or expired coupon answers 422 even to a member who
     * activated it before; otherwise the first activation's time, however often. */
    int64_t now = lc_now_us(), uses = 0, at = 0;
    if (now < cp.valid_from || now > cp.valid_until)
        e = st_fail(c, LC_API_COUPON_NOT_APPLICABLE, "the coupon is valid from %lld to %lld only",
                    (long long)cp.valid_from, (long long)cp.valid_until);
    else if ((rc = st_store_coupon_uses(c->srv, &cp.id, &rep.member_id, &uses)) == LC_OK &&
             uses >= cp.max_per_member)
        e = st_fail(c, LC_API_COUPON_NOT_APPLICABLE, "the member used this coupon up");
    else if (rc == LC_OK)
        rc = st_store_coupon_activate(c->srv, &cp.id, &rep.member_id, now, &at);
    if (!e && rc != LC_OK)
        e = st_db_fail(c, "activate coupon");
    if (!e) {
        rep.code = cp.code;
        rep.activated_at = at;
        e = st_reply(c, &st_activate_rep_desc, &rep, reply);
    }
    lc_codec_clear(&st_coupon_desc, &cp);
    return e;
}

/* ---- earns ------------------------------------------------------------------------- */

const char *st_coupons_apply(st_call_t *c, const st_partner_t *p, const lc_id_t *member,
                             const lc_id_t *earn_id, int64_t base, char *const *codes, size_t n,
                             int64_t at, st_earn_coupon_row_t *rows, ld_transfer_t *bonus,
                             size_t *nbonus, int64_t *total)
{
    *nbonus = 0;
    *total = 0;
    for (size_t i = 0; i < n; i++) {
        st_earn_coupon_row_t *r = &rows[i];
        memset(r, 0, sizeof *r);
        r->position = (int)i;
        snprintf(r->code, sizeof r->code, "%s", codes[i]);
        for (size_t j = 0; j < i && !r->reason; j++)
            if (strcmp(codes[j], codes[i]) == 0)
                r->reason = ST_COUPON_DUPLICATE;
        if (r->reason)
            continue;
        st_coupon_t cp;
        int rc = st_store_coupon_get(c->srv, NULL, codes[i], &cp, &r->funder_account);
        if (rc == LC_ERR_NOT_FOUND) {
            r->reason = ST_COUPON_UNKNOWN;
            continue;
        }
        if (rc != LC_OK)
            return st_db_fail(c, "load coupon");
        r->coupon_id = cp.id;
        int64_t uses = 0;
        bool activated = false;
        rc = st_store_coupon_activated(c->srv, &cp.id, member);
        if (rc == LC_OK || rc == LC_ERR_NOT_FOUND) {
            activated = rc == LC_OK;
            rc = st_store_coupon_uses(c->srv, &cp.id, member, &uses);
        }
        if (rc != LC_OK) {
            lc_codec_clear(&st_coupon_desc, &cp);
            return st_db_fail(c, "load coupon uses");
        }
        r->reason = st_coupon_check(&cp, &p->id, activated, uses, at);
        if (!r->reason && p->pending_days > 0)
            r->reason = ST_COUPON_PENDING_EARN;
        int64_t b = 0;
        if (!r->reason && st_coupon_bonus(&cp, base, &b) != LC_OK) {
            lc_codec_clear(&st_coupon_desc, &cp);
            return st_fail(c, LC_API_INVALID_REQUEST, "coupon %s: the points would exceed %lld",
                           codes[i], (long long)LC_API_POINTS_MAX);
        }
        lc_codec_clear(&st_coupon_desc, &cp);
        if (r->reason) {
            memset(&r->funder_account, 0, sizeof r->funder_account);
            continue;
        }
        r->bonus_points = b;
        if (*total > LC_API_POINTS_MAX - b)
            return st_fail(c, LC_API_INVALID_REQUEST, "coupons: the points would exceed %lld",
                           (long long)LC_API_POINTS_MAX);
        *total += b;
        if (b == 0)
            continue;
        char label[32];
        snprintf(label, sizeof label, "bonus/%zu", i);
        ld_transfer_t *t = &bonus[(*nbonus)++];
        memset(t, 0, sizeof *t);
        lc_id_derive(earn_id, label, &t->id);
        t->debit_account_id = r->funder_account;
        t->credit_account_id = *member;
        t->amount = b;
        t->code = ST_CODE_EARN;
        t->user_data = *earn_id;
        r->transfer_id = t->id;
    }
    return NULL;
}

const char *st_coupons_reply(st_call_t *c, const st_earn_coupon_row_t *rows, size_t n,
                             st_earn_rep_t *rep)
{
    rep->coupons_applied = n ? calloc(n, sizeof(char *)) : NULL;
    rep->coupons_rejected = n ? calloc(n, sizeof *rep->coupons_rejected) : NULL;
    if (n && (!rep->coupons_applied || !rep->coupons_rejected))
        return st_fail(c, LC_API_INTERNAL, "out of memory");
    for (size_t i = 0; i < n; i++) {
        if (!rows[i].reason) {
            rep->coupons_applied[rep->ncoupons_applied++] = (char *)rows[i].code; /* borrowed */
            continue;
        }
        st_coupon_rejected_t *x = &rep->coupons_rejected[rep->ncoupons_rejected++];
        x->code = (char *)rows[i].code;
        x->reason = rows[i].reason;
    }
    return NULL;
}
