/*
 * mb_history.c: the journal consumer that writes members.history, and the
 * members.history handler (mb_history.h).
 */
#include "mb_history.h"
#include "lc_api.h"
#include "lc_db.h"
#include "lc_donation_msg.h"
#include "lc_err.h"
#include "lc_log.h"
#include "lc_members_msg.h"
#include "lc_settlement_msg.h"
#include "lc_time.h"
#include "mb_handlers.h"

#include <ctype.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>


bool mb_history_classify(const ld_entry_t *e, bool member_is_credit, int cp_kind, int *type,
                         int *sign)
{
    uint32_t f = e->flags;
    *sign = member_is_credit ? 1 : -1;
    if (f & LD_TF_EXPIRY) {
        *type = MB_HISTORY_EXPIRY;
        return true;
    }
    if (f & LD_TF_VOID_PENDING) {
        /* A void has the hold's accounts; it releases, nothing moves. Only a returned
         * pending earn is shown: the member loses points it was told were coming. */
        if (e->code == ST_CODE_RETURN && member_is_credit) {
            *type = MB_HISTORY_RETURN;
            *sign = -1;
            return true;
        }
        return false;
    }
    if (f & LD_TF_PENDING) {
        if (e->code == ST_CODE_EARN && member_is_credit) {
            *type = MB_HISTORY_PENDING;
            return true;
        }
        return false; /* redemption authorizations and other holds */
    }
    switch (e->code) {
    case ST_CODE_EARN:
        if (f & LD_TF_POST_PENDING)
            *type = MB_HISTORY_MATURED;
        else if (cp_kind == LD_KIND_SUPPLIER_FUNDING || cp_kind == LD_KIND_COALITION_PROMOTION)
            *type = MB_HISTORY_BONUS;
        else
            *type = MB_HISTORY_EARN;
        break;
    case ST_CODE_TIER_BONUS: /* the coalition's bonus for the member's tier */
        *type = MB_HISTORY_BONUS;
        break;
    case ST_CODE_EARN_MATURE:
        *type = MB_HISTORY_MATURED;
        break;
    case ST_CODE_RETURN:
        *type = MB_HISTORY_RETURN;
        break;
    case ST_CODE_REDEEM:
        *type = MB_HISTORY_REDEMPTION;
        break;
    case ST_CODE_REFUND:
        *type = MB_HISTORY_REFUND;
        break;
    case ST_CODE_GRANT:
        *type = MB_HISTORY_GRANT;
        break;
    case DN_CODE_DONATION:
    case DN_CODE_POOL:
        *type = MB_HISTORY_DONATION;
        break;
    default:
        *type = MB_HISTORY_ADJUSTMENT;
        break;
    }
    return true;
}

/* ---- the consumer --------------------------------------------------------------------- */

/* Exactly once: lc_jconsumer applies a batch of entries in one transaction that
 * ends by moving members.journal_cursor past them; applying an entry again is a
 * no-op (ON CONFLICT DO NOTHING). */

static bool s_kind_kept(int kind)
{
    switch (kind) {
    case LD_KIND_MEMBER:
    case LD_KIND_PARTNER_ISSUANCE:
    case LD_KIND_PARTNER_REDEMPTION:
    case LD_KIND_SUPPLIER_FUNDING:
    case LD_KIND_COALITION_PROMOTION:
    case LD_KIND_CHARITY:
    case LD_KIND_CHARITY_POOL:
        return true;
    default:
        return false;
    }
}

static int s_cursor_read(lc_db_t *db, int64_t *out)
{
    lc_dbres_t *res = NULL;
    int rc = lc_db_exec(db, "SELECT last_seq FROM members.journal_cursor WHERE id = 1", 0, NULL,
                        &res);
    if (rc == LC_OK && lc_dbres_rows(res) != 1)
        rc = LC_ERR_NOT_FOUND;
    if (rc == LC_OK)
        rc = lc_dbres_i64(res, 0, 0, out);
    lc_dbres_free(&res);
    return rc;
}

/* Moves the cursor to seq, never back. */
static int s_cursor_move(lc_db_t *db, int64_t seq)
{
    char s[24];
    snprintf(s, sizeof s, "%" PRId64, seq);
    const char *p[] = {s};
    return lc_db_exec(db,
                      "UPDATE members.journal_cursor SET last_seq = $1 "
                      "WHERE id = 1 AND last_seq < $1",
                      1, p, NULL);
}

static int s_insert_row(lc_db_t *db, const ld_entry_t *e, const lc_id_t *member, int type,
                        int sign, const lc_jaccount_t *cp)
{
    char m[LC_ID_STRLEN + 1], seq[24], tid[LC_ID_STRLEN + 1], ty[8], pts[24],
        owner[LC_ID_STRLEN + 1], at[24];
    lc_id_format(member, m);
    lc_id_format(&e->id, tid);
    lc_id_format(&cp->owner, owner);
    snprintf(seq, sizeof seq, "%" PRId64, e->seq);
    snprintf(ty, sizeof ty, "%d", type);
    snprintf(pts, sizeof pts, "%" PRId64, sign * e->amount);
    snprintf(at, sizeof at, "%" PRId64, e->timestamp);
    bool has_owner = cp->known && !lc_id_is_zero(&cp->owner);
    bool partner = has_owner && (cp->kind == LD_KIND_PARTNER_ISSUANCE ||
                                 cp->kind == LD_KIND_PARTNER_REDEMPTION);
    bool charity = has_owner && cp->kind == LD_KIND_CHARITY;
    const char *p[] = {m, seq, tid, ty, pts, partner ? owner : NULL, charity ? owner : NULL, at};
    return lc_db_exec(db,
                      "INSERT INTO members.history (member_id, seq, transfer_id, type, points, "
                      "partner_id, charity_id, at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) "
                      "ON CONFLICT (member_id, seq) DO NOTHING",
                      8, p, NULL);
}

/* Writes what one entry derives, in the loop's transaction (lc_jconsumer_ops_t.apply):
 * an account of a kept kind, or a history row for each member side of a transfer. */
static int s_apply(void *ctx, lc_db_t *db, const ld_entry_t *e)
{
    (void)ctx;
    if (e->type == LD_ENTRY_ACCOUNT) {
        if (!s_kind_kept(e->kind))
            return 0;
        char id[LC_ID_STRLEN + 1], owner[LC_ID_STRLEN + 1], kind[8], seq[24];
        lc_id_format(&e->id, id);
        lc_id_format(&e->user_data, owner);
        snprintf(kind, sizeof kind, "%d", e->kind);
        snprintf(seq, sizeof seq, "%" PRId64, e->seq);
        const char *p[] = {id, kind, lc_id_is_zero(&e->user_data) ? NULL : owner, seq};
        return lc_db_exec(db,
                          "INSERT INTO members.journal_accounts (id, kind, owner, seq) "
                          "VALUES ($1, $2, $3, $4) ON CONFLICT (id) DO NOTHING",
                          4, p, NULL);
    }
    if (e->type != LD_ENTRY_TRANSFER)
        return 0;
    lc_jaccount_t dr, cr;
    int rc = lc_jconsumer_accounts(db,
                                   "SELECT id, kind, owner FROM members.journal_accounts "
                                   "WHERE id IN ($1::uuid, $2::uuid)",
                                   e, &dr, &cr);
    if (rc != LC_OK)
        return rc;
    bool dm = dr.known && dr.kind == LD_KIND_MEMBER;
    bool cm = cr.known && cr.kind == LD_KIND_MEMBER;
    int dtype = 0, dsign = 0, ctype = 0, csign = 0;
    dm = dm && mb_history_classify(e, false, cr.kind, &dtype, &dsign);
    cm = cm && mb_history_classify(e, true, dr.kind, &ctype, &csign);
    if (dm)
        rc = s_insert_row(db, e, &e->debit_account_id, dtype, dsign, &cr);
    if (rc == LC_OK && cm)
        rc = s_insert_row(db, e, &e->credit_account_id, ctype, csign, &dr);
    return rc;
}

static const lc_jconsumer_ops_t s_ops = {
    .name = "history",
    .cursor_read = s_cursor_read,
    .cursor_move = s_cursor_move,
    .apply = s_apply,
};

int mb_history_start(mb_history_t *h)
{
    h->run.ops = &s_ops;
    h->run.ctx = h;
    return lc_jconsumer_start(&h->run);
}

void mb_history_join(mb_history_t *h)
{
    lc_jconsumer_join(&h->run);
}

/* ---- members.history ----------------------------------------------------------------- */

static bool s_digits(const char *s)
{
    if (!*s || strlen(s) > 18)
        return false;
    for (; *s; s++)
        if (!isdigit((unsigned char)*s))
            return false;
    return true;
}

const char *mb_h_history(mb_call_t *c, json_t **reply, char *msg, size_t msglen)
{
    lc_id_t member;
    if (lc_api_param_id(&c->api, "id", &member) != LC_OK) {
        snprintf(msg, msglen, "no such member");
        return LC_API_NOT_FOUND;
    }
    mb_empty_t in;
    const char *code = mb_api_decode(c, &mb_empty_desc, &in, msg, msglen);
    if (code)
        return code;
    int64_t limit = 0;
    if (lc_api_query_i64(&c->api, "limit", MB_HISTORY_DEFAULT, 1, LC_API_LIST_MAX, &limit, msg,
                         msglen) != LC_OK)
        return LC_API_INVALID_REQUEST;
    char m[LC_ID_STRLEN + 1];
    lc_id_format(&member, m);
    lc_db_t *db = c->srv->db;
    lc_dbres_t *res = NULL;
    const char *p1[] = {m};
    int rc = lc_db_exec(db, "SELECT 1 FROM members.members WHERE id = $1", 1, p1, &res);
    if (rc == LC_OK && lc_dbres_rows(res) == 0) {
        lc_dbres_free(&res);
        snprintf(msg, msglen, "no such member");
        return LC_API_NOT_FOUND;
    }
    lc_dbres_free(&res);
    if (rc != LC_OK)
        return mb_fail(c, rc, "reading the member", msg, msglen);

    int64_t before = INT64_MAX; /* rows with seq < before */
    const char *sa = lc_api_query(&c->api, "starting_after");
    if (sa && s_digits(sa)) {
        before = strtoll(sa, NULL, 10);
    } else if (sa) {
        lc_id_t after;
        if (strlen(sa) != LC_ID_STRLEN || lc_id_parse(sa, &after) != LC_OK) {
            snprintf(msg, msglen, "starting_after: expected an entry id or seq");
            return LC_API_INVALID_REQUEST;
        }
        const char *p2[] = {m, sa};
        rc = lc_db_exec(db,
                        "SELECT seq FROM members.history WHERE member_id = $1 AND transfer_id = $2",
                        2, p2, &res);
        if (rc == LC_OK && lc_dbres_rows(res) == 0) {
            lc_dbres_free(&res);
            snprintf(msg, msglen, "starting_after: no such entry in this member's history");
            return LC_API_INVALID_REQUEST;
        }
        if (rc == LC_OK)
            rc = lc_dbres_i64(res, 0, 0, &before);
        lc_dbres_free(&res);
        if (rc != LC_OK)
            return mb_fail(c, rc, "reading the history", msg, msglen);
    }
    char b[24], l[24];
    snprintf(b, sizeof b, "%" PRId64, before);
    snprintf(l, sizeof l, "%" PRId64, limit + 1);
    const char *p3[] = {m, b, l};
    rc = lc_db_exec(db,
                    "SELECT transfer_id, type, points, partner_id, charity_id, at, seq "
                    "FROM members.history WHERE member_id = $1 AND seq < $2 "
                    "ORDER BY seq DESC LIMIT $3",
                    3, p3, &res);
    if (rc != LC_OK) {
        lc_dbres_free(&res);
        return mb_fail(c, rc, "reading the history", msg, msglen);
    }
    int rows = lc_dbres_rows(res);
    mb_history_rep_t out = {.has_more = rows > limit};
    size_t n = (size_t)(rows > limit ? limit : rows);
    out.data = n ? calloc(n, sizeof *out.data) : NULL;
    if (n && !out.data) {
        lc_dbres_free(&res);
        return mb_fail(c, LC_ERR_NOMEM, "reading the history", msg, msglen);
    }
    out.ndata = n;
    for (size_t i = 0; rc == LC_OK && i < n; i++) {
        mb_history_item_t *it = &out.data[i];
        int64_t type = 0;
        rc = lc_dbres_id(res, (int)i, 0, &it->id);
        if (rc == LC_OK)
            rc = lc_dbres_i64(res, (int)i, 1, &type);
        if (rc == LC_OK)
            rc = lc_dbres_i64(res, (int)i, 2, &it->points);
        if (rc == LC_OK)
            rc = lc_dbres_id(res, (int)i, 3, &it->partner_id);
        if (rc == LC_OK)
            rc = lc_dbres_id(res, (int)i, 4, &it->charity_id);
        if (rc == LC_OK)
            rc = lc_dbres_i64(res, (int)i, 5, &it->at);
        if (rc == LC_OK)
            rc = lc_dbres_i64(res, (int)i, 6, &it->seq);
        const char *name = lc_name_of(mb_history_type_names, (uint32_t)type);
        it->type = (char *)(name ? name : "adjustment"); /* borrowed: out is never cleared */
    }
    lc_dbres_free(&res);
    if (rc != LC_OK) {
        free(out.data);
        return mb_fail(c, rc, "reading the history", msg, msglen);
    }
    code = mb_encode(&mb_history_rep_desc, &out, reply, msg, msglen);
    free(out.data);
    return code;
}
