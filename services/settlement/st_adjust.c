/*
 * st_adjust.c: four-eyes member adjustments (API.md admin rows; table
 * settlement.adjustments, deploy/migrations/settlement/005_adjustments.sql).
 *
 * One admin key proposes, another approves; the proposing key itself gets 403
 * four_eyes_required. The "holder" of API.md is the key: keys are the only
 * identity the system knows (one admin key per person is the operating rule,
 * and the admin log names the key of every action, so a person approving with
 * a second key of their own is visible to auditors).
 *
 * Approval books one ledger transfer, code ST_CODE_ADJUSTMENT, between the
 * coalition's adjustment account and the member: a credit (points > 0) is a lot
 * that expires like a grant; a debit (points < 0) may not take the member below
 * zero: the ledger refuses it (insufficient_points), there is no debt for
 * adjustments (debt only arises from reversing an earn, whose points were never
 * the member's to spend). A refused approval is final (status refused): the id
 * of its transfer is burned in the ledger, and a smaller adjustment is a new
 * proposal. A debit beyond the member's available points is already refused at
 * the proposal, so the common mistake is caught before a second admin is asked.
 *
 * Ids: adjustment = lc_api_derive(proposal, "adjustment"); its transfer =
 * lc_id_derive(adjustment, "transfer"); the approval = lc_api_derive(approval,
 * "approve"). The ledger is written first, the row last (st_server.h).
 */
#include "lc_err.h"
#include "lc_log.h"
#include "lc_time.h"
#include "st_ledger.h"
#include "st_server.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ROW_COLUMNS                                                                            \
    "id, member_id, points, reason, status, proposed_by, proposed_at, approved_by, "           \
    "approved_at, transfer_id, refusal, approval_id"

/* ---- the table ---------------------------------------------------------------------- */

/* Loads adjustment id into *a (and its approval id into *approval when not NULL).
 * LC_ERR_NOT_FOUND when there is none. Clear *a with st_adjustment_desc. */
static int s_load(st_server_t *s, const lc_id_t *id, st_adjustment_t *a, lc_id_t *approval)
{
    memset(a, 0, sizeof *a);
    char idt[LC_ID_STRLEN + 1];
    lc_id_format(id, idt);
    const char *params[] = {idt};
    lc_dbres_t *r = NULL;
    int rc = lc_db_exec(s->db, "SELECT " ROW_COLUMNS " FROM settlement.adjustments WHERE id = $1",
                        1, params, &r);
    if (rc != LC_OK)
        return rc;
    if (lc_dbres_rows(r) != 1) {
        lc_dbres_free(&r);
        return LC_ERR_NOT_FOUND;
    }
    int64_t status = 0;
    const char *reason = lc_dbres_get(r, 0, 3), *refusal = lc_dbres_get(r, 0, 10);
    if (lc_dbres_id(r, 0, 0, &a->id) != LC_OK || lc_dbres_id(r, 0, 1, &a->member_id) != LC_OK ||
        lc_dbres_i64(r, 0, 2, &a->points) != LC_OK || lc_dbres_i64(r, 0, 4, &status) != LC_OK ||
        lc_dbres_id(r, 0, 5, &a->proposed_by) != LC_OK ||
        lc_dbres_i64(r, 0, 6, &a->proposed_at) != LC_OK ||
        lc_dbres_id(r, 0, 7, &a->approved_by) != LC_OK ||
        lc_dbres_id(r, 0, 9, &a->transfer_id) != LC_OK ||
        (approval && lc_dbres_id(r, 0, 11, approval) != LC_OK))
        rc = LC_ERR_DB;
    a->status = (int)status;
    lc_dbres_i64(r, 0, 8, &a->approved_at); /* NULL while pending: stays 0 */
    a->reason = strdup(reason ? reason : "");
    a->refusal = refusal ? strdup(refusal) : NULL;
    if (!a->reason || (refusal && !a->refusal))
        rc = LC_ERR_NOMEM;
    lc_dbres_free(&r);
    if (rc != LC_OK)
        lc_codec_clear(&st_adjustment_desc, a);
    return rc;
}

static int s_insert(st_server_t *s, const st_adjustment_t *a)
{
    char id[LC_ID_STRLEN + 1], member[LC_ID_STRLEN + 1], by[LC_ID_STRLEN + 1],
        tid[LC_ID_STRLEN + 1], points[24], at[24];
    lc_id_format(&a->id, id);
    lc_id_format(&a->member_id, member);
    lc_id_format(&a->proposed_by, by);
    lc_id_format(&a->transfer_id, tid);
    snprintf(points, sizeof points, "%lld", (long long)a->points);
    snprintf(at, sizeof at, "%lld", (long long)a->proposed_at);
    const char *params[] = {id, member, points, a->reason, by, at, tid};
    return lc_db_exec(s->db,
                      "INSERT INTO settlement.adjustments (id, member_id, points, reason, status, "
                      "proposed_by, proposed_at, transfer_id) VALUES ($1, $2, $3, $4, 1, $5, $6, "
                      "$7) ON CONFLICT (id) DO NOTHING",
                      7, params, NULL);
}

/* Decides a pending adjustment (status posted or refused). *decided is false when
 * another approval decided it first. */
static int s_decide(st_server_t *s, const st_adjustment_t *a, const lc_id_t *approval,
                    bool *decided)
{
    char id[LC_ID_STRLEN + 1], by[LC_ID_STRLEN + 1], ap[LC_ID_STRLEN + 1], status[8], at[24];
    lc_id_format(&a->id, id);
    lc_id_format(&a->approved_by, by);
    lc_id_format(approval, ap);
    snprintf(status, sizeof status, "%d", a->status);
    snprintf(at, sizeof at, "%lld", (long long)a->approved_at);
    const char *params[] = {id, status, by, at, ap, a->refusal};
    lc_dbres_t *r = NULL;
    int rc = lc_db_exec(s->db,
                        "UPDATE settlement.adjustments SET status = $2, approved_by = $3, "
                        "approved_at = $4, approval_id = $5, refusal = $6 "
                        "WHERE id = $1 AND status = 1 RETURNING id",
                        6, params, &r);
    if (rc == LC_OK)
        *decided = lc_dbres_rows(r) == 1;
    lc_dbres_free(&r);
    return rc;
}

/* ---- handlers ----------------------------------------------------------------------- */

const char *st_h_propose_adjustment(st_call_t *c, json_t **reply)
{
    const char *e = st_need_role(c, LC_ROLE_ADMIN);
    if (e)
        return e;
    st_adjustment_req_t req;
    if ((e = st_decode(c, &st_adjustment_req_desc, &req)))
        return e;
    st_adjustment_t a = {0};
    lc_id_t id;
    int rc;
    if (req.points == 0) {
        e = st_fail(c, LC_API_INVALID_REQUEST, "points: must not be 0");
        goto done;
    }
    if (!req.reason[0]) {
        e = st_fail(c, LC_API_INVALID_REQUEST, "reason: must not be empty");
        goto done;
    }
    if ((e = st_derive(c, "adjustment", &id)))
        goto done;
    rc = s_load(c->srv, &id, &a, NULL);
    if (rc == LC_OK) { /* a retry of this proposal */
        e = st_reply(c, &st_adjustment_desc, &a, reply);
        goto done;
    }
    if (rc != LC_ERR_NOT_FOUND) {
        e = st_db_fail(c, "load adjustment");
        goto done;
    }
    ld_accounts_rep_t acc;
    if (st_ledger_lookup(c->srv, c->rid, &req.member_id, 1, &acc) != LC_OK) {
        e = st_fail(c, LC_API_UNAVAILABLE, "the ledger is unavailable");
        goto done;
    }
    bool known = acc.naccounts == 1 && acc.accounts[0].kind == LD_KIND_MEMBER;
    int64_t available = known ? acc.accounts[0].available : 0;
    lc_codec_clear(&ld_accounts_rep_desc, &acc);
    if (!known) {
        e = st_fail(c, LC_API_NOT_FOUND, "no such member");
        goto done;
    }
    if (req.points < 0 && -req.points > available) {
        e = st_fail(c, LC_API_INSUFFICIENT_POINTS,
                    "the member has %lld points available, the adjustment debits %lld",
                    (long long)available, (long long)-req.points);
        goto done;
    }
    a = (st_adjustment_t){.id = id, .member_id = req.member_id, .points = req.points,
                          .reason = req.reason, .status = ST_ADJ_PENDING,
                          .proposed_by = c->api.caller.key_id, .proposed_at = lc_now_us()};
    lc_id_derive(&id, "transfer", &a.transfer_id);
    if (s_insert(c->srv, &a) != LC_OK) {
        memset(&a, 0, sizeof a);
        e = st_db_fail(c, "insert adjustment");
        goto done;
    }
    memset(&a, 0, sizeof a); /* reason was borrowed; answer what is stored */
    if (s_load(c->srv, &id, &a, NULL) != LC_OK) {
        e = st_db_fail(c, "reload adjustment");
        goto done;
    }
    char idt[LC_ID_STRLEN + 1], pts[24];
    lc_id_format(&id, idt);
    snprintf(pts, sizeof pts, "%lld", (long long)a.points);
    lc_log_kv(LC_LOG_INFO, c->rid, "adjustment proposed", "adjustment_id", idt, "points", pts,
              NULL);
    e = st_reply(c, &st_adjustment_desc, &a, reply);
done:
    lc_codec_clear(&st_adjustment_desc, &a);
    lc_codec_clear(&st_adjustment_req_desc, &req);
    return e;
}

/* The adjustment account exists (created on first use; exists is fine). */
static const char *s_ensure_account(st_call_t *c, lc_id_t *account)
{
    st_adjustment_account(account);
    ld_account_new_t acct = {.id = *account, .kind = LD_KIND_OPERATOR,
                             .code = ST_ACCOUNT_ADJUSTMENT};
    ld_results_rep_t res;
    if (st_ledger_accounts(c->srv, c->rid, &acct, 1, &res) != LC_OK)
        return st_fail(c, LC_API_UNAVAILABLE, "the ledger is unavailable");
    int r = res.results[0].result;
    lc_codec_clear(&ld_results_rep_desc, &res);
    if (!st_ledger_applied(r))
        return st_fail(c, LC_API_INTERNAL, "the adjustment account was refused (%s)",
                       st_ledger_result_name(r));
    return NULL;
}

/* Books a's transfer. NULL when posted; else the API code (c->msg filled). */
static const char *s_book(st_call_t *c, const st_adjustment_t *a)
{
    lc_id_t account;
    const char *e = s_ensure_account(c, &account);
    if (e)
        return e;
    ld_transfer_t t = {.id = a->transfer_id, .code = ST_CODE_ADJUSTMENT, .user_data = a->id};
    if (a->points > 0) {
        t.debit_account_id = account;
        t.credit_account_id = a->member_id;
        t.amount = a->points;
        t.expires_at = st_expiry_of(c->srv, lc_now_us());
        int64_t ts;
        return st_issue(c, &t, &ts);
    }
    t.debit_account_id = a->member_id;
    t.credit_account_id = account;
    t.amount = -a->points;
    int r;
    if ((e = st_ledger_transfer_one(c, &t, &r, NULL)))
        return e;
    return st_ledger_applied(r) ? NULL : st_outcome(c, r, &t.id, true);
}

/* The answer to an approval of an adjustment decided already. */
static const char *s_decided(st_call_t *c, const st_adjustment_t *a, const lc_id_t *approval,
                             const lc_id_t *this_approval, json_t **reply)
{
    if (lc_id_eq(approval, this_approval)) { /* this very approval, retried */
        if (a->status == ST_ADJ_POSTED)
            return st_reply(c, &st_adjustment_desc, a, reply);
        static const char *const codes[] = {LC_API_INSUFFICIENT_POINTS, LC_API_MEMBER_FROZEN,
                                            LC_API_CONFLICT, LC_API_FORBIDDEN};
        for (size_t i = 0; i < sizeof codes / sizeof codes[0]; i++)
            if (a->refusal && !strcmp(a->refusal, codes[i]))
                return st_fail(c, codes[i], "this adjustment was refused (%s)", a->refusal);
        return st_fail(c, LC_API_CONFLICT, "this adjustment was refused (%s)",
                       a->refusal ? a->refusal : "?");
    }
    return st_fail(c, LC_API_CONFLICT, "the adjustment was decided already (%s)",
                   lc_name_of(st_adjustment_status_names, (uint32_t)a->status));
}

const char *st_h_approve_adjustment(st_call_t *c, json_t **reply)
{
    const char *e = st_need_role(c, LC_ROLE_ADMIN);
    if (e)
        return e;
    lc_id_t id, approval, stored;
    if (lc_api_param_id(&c->api, "id", &id) != LC_OK)
        return st_fail(c, LC_API_NOT_FOUND, "no such adjustment");
    if ((e = st_derive(c, "approve", &approval)))
        return e;
    st_adjustment_t a;
    int rc = s_load(c->srv, &id, &a, &stored);
    if (rc == LC_ERR_NOT_FOUND)
        return st_fail(c, LC_API_NOT_FOUND, "no such adjustment");
    if (rc != LC_OK)
        return st_db_fail(c, "load adjustment");
    if (a.status != ST_ADJ_PENDING) {
        e = s_decided(c, &a, &stored, &approval, reply);
        goto done;
    }
    if (lc_id_eq(&a.proposed_by, &c->api.caller.key_id)) {
        e = st_fail(c, LC_API_FOUR_EYES_REQUIRED,
                    "the key that proposed an adjustment cannot approve it: another admin must");
        goto done;
    }
    const char *refused = s_book(c, &a);
    if (refused && (!strcmp(refused, LC_API_UNAVAILABLE) || !strcmp(refused, LC_API_INTERNAL))) {
        e = refused; /* not decided: the retry books it */
        goto done;
    }
    a.status = refused ? ST_ADJ_REFUSED : ST_ADJ_POSTED;
    a.approved_by = c->api.caller.key_id;
    a.approved_at = lc_now_us();
    a.refusal = refused ? strdup(refused) : NULL;
    bool decided = false;
    if ((refused && !a.refusal) || s_decide(c->srv, &a, &approval, &decided) != LC_OK) {
        e = st_db_fail(c, "decide adjustment");
        goto done;
    }
    if (!decided) { /* another approval (another settlement process) came first */
        lc_codec_clear(&st_adjustment_desc, &a);
        if (s_load(c->srv, &id, &a, &stored) != LC_OK)
            return st_db_fail(c, "reload adjustment");
        e = s_decided(c, &a, &stored, &approval, reply);
        goto done;
    }
    char idt[LC_ID_STRLEN + 1];
    lc_id_format(&id, idt);
    lc_log_kv(LC_LOG_INFO, c->rid, refused ? "adjustment refused" : "adjustment posted",
              "adjustment_id", idt, "code", refused ? refused : "", NULL);
    e = refused ? refused : st_reply(c, &st_adjustment_desc, &a, reply);
done:
    lc_codec_clear(&st_adjustment_desc, &a);
    return e;
}

const char *st_h_get_adjustment(st_call_t *c, json_t **reply)
{
    int role = c->api.caller.role;
    if (role != LC_ROLE_ADMIN && role != LC_ROLE_AUDITOR)
        return st_fail(c, LC_API_FORBIDDEN, "this call needs role admin or auditor");
    lc_id_t id;
    if (lc_api_param_id(&c->api, "id", &id) != LC_OK)
        return st_fail(c, LC_API_NOT_FOUND, "no such adjustment");
    st_adjustment_t a;
    int rc = s_load(c->srv, &id, &a, NULL);
    if (rc == LC_ERR_NOT_FOUND)
        return st_fail(c, LC_API_NOT_FOUND, "no such adjustment");
    if (rc != LC_OK)
        return st_db_fail(c, "load adjustment");
    const char *e = st_reply(c, &st_adjustment_desc, &a, reply);
    lc_codec_clear(&st_adjustment_desc, &a);
    return e;
}
