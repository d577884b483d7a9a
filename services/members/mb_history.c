/*
 * mb_history.c: the journal consumer that writes members.history, and the
 * members.history handler (mb_history.h).
 */
#include "mb_history.h"
#include "lc_api.h"
#include "lc_db.h"
#include "lc_donation_msg.h"
#include "lc_err.h"
#include "lc_journal.h"
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
#include <time.h>

#define POLL_MS 200    /* one lc_journal_poll, then the stop flag is looked at */
#define RETRY_MS 500   /* after a failure */
#define WARN_EVERY 20  /* log every this many consecutive failures */

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

typedef struct consumer {
    mb_history_t *h;
    lc_db_t *db;
    int64_t saved; /* members.journal_cursor.last_seq as last written or read */
} consumer_t;

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

/* Moves the cursor to seq (never back), inside the caller's transaction. */
static int s_cursor_move(consumer_t *c, int64_t seq)
{
    char s[24];
    snprintf(s, sizeof s, "%" PRId64, seq);
    const char *p[] = {s};
    return lc_db_exec(c->db,
                      "UPDATE members.journal_cursor SET last_seq = $1 "
                      "WHERE id = 1 AND last_seq < $1",
                      1, p, NULL);
}

typedef struct side {
    bool known;
    int kind;
    lc_id_t owner;
} side_t;

/* The kinds and owners of the entry's two accounts, from journal_accounts. */
static int s_sides(consumer_t *c, const ld_entry_t *e, side_t *dr, side_t *cr)
{
    char d[LC_ID_STRLEN + 1], k[LC_ID_STRLEN + 1];
    lc_id_format(&e->debit_account_id, d);
    lc_id_format(&e->credit_account_id, k);
    const char *p[] = {d, k};
    lc_dbres_t *res = NULL;
    int rc = lc_db_exec(c->db,
                        "SELECT id, kind, owner FROM members.journal_accounts "
                        "WHERE id IN ($1::uuid, $2::uuid)",
                        2, p, &res);
    memset(dr, 0, sizeof *dr);
    memset(cr, 0, sizeof *cr);
    for (int i = 0; rc == LC_OK && i < lc_dbres_rows(res); i++) {
        lc_id_t id;
        int64_t kind = 0;
        side_t sd = {.known = true};
        rc = lc_dbres_id(res, i, 0, &id);
        if (rc == LC_OK)
            rc = lc_dbres_i64(res, i, 1, &kind);
        if (rc == LC_OK)
            rc = lc_dbres_id(res, i, 2, &sd.owner);
        sd.kind = (int)kind;
        if (rc == LC_OK && lc_id_eq(&id, &e->debit_account_id))
            *dr = sd;
        if (rc == LC_OK && lc_id_eq(&id, &e->credit_account_id))
            *cr = sd;
    }
    lc_dbres_free(&res);
    return rc;
}

static int s_insert_row(consumer_t *c, const ld_entry_t *e, const lc_id_t *member, int type,
                        int sign, const side_t *cp)
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
    return lc_db_exec(c->db,
                      "INSERT INTO members.history (member_id, seq, transfer_id, type, points, "
                      "partner_id, charity_id, at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) "
                      "ON CONFLICT (member_id, seq) DO NOTHING",
                      8, p, NULL);
}

/* Applies one entry (lc_journal_fn). */
static int s_apply(void *ctx, const ld_entry_t *e)
{
    consumer_t *c = ctx;
    int rc = LC_OK;
    if (e->type == LD_ENTRY_ACCOUNT) {
        if (!s_kind_kept(e->kind))
            return 0;
        char id[LC_ID_STRLEN + 1], owner[LC_ID_STRLEN + 1], kind[8], seq[24];
        lc_id_format(&e->id, id);
        lc_id_format(&e->user_data, owner);
        snprintf(kind, sizeof kind, "%d", e->kind);
        snprintf(seq, sizeof seq, "%" PRId64, e->seq);
        const char *p[] = {id, kind, lc_id_is_zero(&e->user_data) ? NULL : owner, seq};
        rc = lc_db_begin(c->db);
        if (rc == LC_OK)
            rc = lc_db_exec(c->db,
                            "INSERT INTO members.journal_accounts (id, kind, owner, seq) "
                            "VALUES ($1, $2, $3, $4) ON CONFLICT (id) DO NOTHING",
                            4, p, NULL);
    } else if (e->type == LD_ENTRY_TRANSFER) {
        side_t dr, cr;
        rc = s_sides(c, e, &dr, &cr);
        if (rc != LC_OK)
            return rc;
        bool dm = dr.known && dr.kind == LD_KIND_MEMBER;
        bool cm = cr.known && cr.kind == LD_KIND_MEMBER;
        int dtype = 0, dsign = 0, ctype = 0, csign = 0;
        dm = dm && mb_history_classify(e, false, cr.kind, &dtype, &dsign);
        cm = cm && mb_history_classify(e, true, dr.kind, &ctype, &csign);
        if (!dm && !cm)
            return 0;
        rc = lc_db_begin(c->db);
        if (rc == LC_OK && dm)
            rc = s_insert_row(c, e, &e->debit_account_id, dtype, dsign, &cr);
        if (rc == LC_OK && cm)
            rc = s_insert_row(c, e, &e->credit_account_id, ctype, csign, &dr);
    } else {
        return 0;
    }
    if (rc == LC_OK)
        rc = s_cursor_move(c, e->seq);
    if (rc == LC_OK)
        rc = lc_db_commit(c->db);
    if (rc != LC_OK) {
        lc_warn(NULL, "history: applying journal entry %" PRId64 " failed: %s %s", e->seq,
                lc_db_sqlstate(c->db), lc_db_error(c->db));
        lc_db_rollback(c->db);
        return rc;
    }
    c->saved = e->seq;
    return 0;
}

static void s_sleep_ms(int ms)
{
    struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

static void *s_run(void *arg)
{
    mb_history_t *h = arg;
    consumer_t c = {.h = h};
    lc_journal_t *j = NULL;
    unsigned failures = 0;
    while (!*h->stop) {
        int rc = LC_OK;
        if (!c.db || !lc_db_alive(c.db)) {
            lc_journal_destroy(&j); /* start again after the stored cursor */
            lc_db_destroy(&c.db);
            char *err = NULL;
            c.db = lc_db_connect(h->conninfo, &err);
            if (!c.db) {
                if (failures++ % WARN_EVERY == 0)
                    lc_warn(NULL, "history: database connection failed: %s", err ? err : "?");
                free(err);
                s_sleep_ms(RETRY_MS);
                continue;
            }
        }
        if (!j) {
            int64_t cursor = 0;
            rc = s_cursor_read(c.db, &cursor);
            if (rc == LC_OK) {
                j = lc_journal_new(h->zctx, h->publish, h->ledger, cursor);
                if (!j)
                    rc = LC_ERR_IO;
                c.saved = cursor;
            }
        }
        if (rc == LC_OK)
            rc = lc_journal_poll(j, POLL_MS, s_apply, &c);
        /* Quiet or caught up: let the cursor pass entries that derived nothing. */
        if (rc == LC_OK && lc_journal_last_seq(j) > c.saved) {
            int64_t last = lc_journal_last_seq(j);
            rc = s_cursor_move(&c, last);
            if (rc == LC_OK)
                c.saved = last;
        }
        if (rc != LC_OK) {
            if (failures++ % WARN_EVERY == 0)
                lc_warn(NULL, "history: journal consumer: %s (retrying)", lc_strerror(rc));
            lc_journal_destroy(&j); /* start again after the stored cursor */
            s_sleep_ms(RETRY_MS);
        } else {
            failures = 0;
        }
    }
    lc_journal_destroy(&j);
    lc_db_destroy(&c.db);
    return NULL;
}

int mb_history_start(mb_history_t *h)
{
    if (pthread_create(&h->thread, NULL, s_run, h) != 0)
        return LC_ERR_IO;
    h->started = true;
    return LC_OK;
}

void mb_history_join(mb_history_t *h)
{
    if (h->started)
        pthread_join(h->thread, NULL);
    h->started = false;
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
