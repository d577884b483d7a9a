/*
 * mb_store.c: the members schema (mb_store.h). Values travel only as parameters.
 */
#include "mb_store.h"
#include "lc_err.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef char s_idtext_t[LC_ID_STRLEN + 1];
typedef char s_numtext_t[24];

static const char *s_id(const lc_id_t *id, s_idtext_t out)
{
    if (lc_id_is_zero(id))
        return NULL; /* SQL NULL */
    lc_id_format(id, out);
    return out;
}

static const char *s_num(int64_t v, s_numtext_t out)
{
    snprintf(out, sizeof(s_numtext_t), "%" PRId64, v);
    return out;
}

/* "\x" + hex: bytea's text input form; caller frees. */
static char *s_bytea(const uint8_t *data, size_t len)
{
    char *out = malloc(2 * len + 3);
    if (!out)
        return NULL;
    out[0] = '\\';
    out[1] = 'x';
    lc_hex_encode(data, len, out + 2);
    return out;
}

/* Runs sql and reports whether it returned at least one row. */
static int s_exec_any(lc_db_t *db, const char *sql, int n, const char *const *p, bool *any)
{
    lc_dbres_t *res = NULL;
    int rc = lc_db_exec(db, sql, n, p, &res);
    if (rc == LC_OK)
        *any = lc_dbres_rows(res) > 0;
    lc_dbres_free(&res);
    return rc;
}

int mb_store_enroll(lc_db_t *db, const mb_new_member_t *m, bool *existed)
{
    *existed = false;
    s_idtext_t id, card_id, partner;
    s_numtext_t now;
    char *key = s_bytea(m->key, LC_AEAD_KEY_LEN);
    char *email = m->email_enc ? s_bytea(m->email_enc, m->email_enc_len) : NULL;
    if (!key || (m->email_enc && !email)) {
        free(key);
        free(email);
        return LC_ERR_NOMEM;
    }
    const char *p[] = {s_id(&m->id, id),
                       s_id(&m->partner_id, partner),
                       m->marketing ? "true" : "false",
                       m->profiling ? "true" : "false",
                       email,
                       s_num(m->now, now)};
    bool inserted = false;
    int rc = lc_db_begin(db);
    if (rc == LC_OK)
        rc = s_exec_any(db,
                        "INSERT INTO members.members (id, enrolled_by, consent_marketing, "
                        "consent_profiling, email_enc, created_at) "
                        "VALUES ($1, $2, $3, $4, $5::bytea, $6) "
                        "ON CONFLICT (id) DO NOTHING RETURNING id",
                        6, p, &inserted);
    if (rc == LC_OK && !inserted) {
        *existed = true;
        lc_db_rollback(db);
        free(key);
        free(email);
        return LC_OK;
    }
    if (rc == LC_OK) {
        const char *pk[] = {p[0], key};
        rc = lc_db_exec(db, "INSERT INTO members.member_keys (member_id, key) VALUES ($1, $2)", 2,
                        pk, NULL);
    }
    if (rc == LC_OK) {
        const char *pc[] = {m->card, s_id(&m->card_id, card_id), p[0], p[1], now};
        rc = s_exec_any(db,
                        "INSERT INTO members.cards (card_number, id, member_id, added_by, "
                        "created_at) VALUES ($1, $2, $3, $4, $5) "
                        "ON CONFLICT (card_number) DO NOTHING RETURNING id",
                        5, pc, &inserted);
        if (rc == LC_OK && !inserted)
            rc = LC_ERR_CONFLICT;
    }
    if (rc == LC_OK)
        rc = lc_db_commit(db);
    else
        lc_db_rollback(db);
    free(key);
    free(email);
    return rc;
}

static int s_member_status(lc_db_t *db, const char *sql, const lc_id_t *id, int *status)
{
    s_idtext_t t;
    const char *p[] = {s_id(id, t)};
    lc_dbres_t *res = NULL;
    int rc = lc_db_exec(db, sql, 1, p, &res);
    int64_t v = 0;
    if (rc == LC_OK && lc_dbres_rows(res) == 0)
        rc = LC_ERR_NOT_FOUND;
    else if (rc == LC_OK)
        rc = lc_dbres_i64(res, 0, 0, &v);
    lc_dbres_free(&res);
    *status = (int)v;
    return rc;
}

int mb_store_member_status(lc_db_t *db, const lc_id_t *id, int *status)
{
    return s_member_status(db, "SELECT status FROM members.members WHERE id = $1", id, status);
}

int mb_store_member_lock(lc_db_t *db, const lc_id_t *id, int *status)
{
    return s_member_status(db, "SELECT status FROM members.members WHERE id = $1 FOR UPDATE", id,
                           status);
}

int mb_store_member_cards(lc_db_t *db, const lc_id_t *id, char (*cards)[MB_CARD_DIGITS + 1],
                          size_t max, size_t *n)
{
    s_idtext_t t;
    s_numtext_t lim;
    const char *p[] = {s_id(id, t), s_num((int64_t)max, lim)};
    lc_dbres_t *res = NULL;
    *n = 0;
    int rc = lc_db_exec(db,
                        "SELECT card_number FROM members.cards WHERE member_id = $1 "
                        "ORDER BY created_at, card_number LIMIT $2",
                        2, p, &res);
    for (int r = 0; rc == LC_OK && r < lc_dbres_rows(res) && *n < max; r++) {
        const char *v = lc_dbres_get(res, r, 0);
        snprintf(cards[(*n)++], MB_CARD_DIGITS + 1, "%s", v ? v : "");
    }
    lc_dbres_free(&res);
    return rc;
}

int mb_store_card_owner(lc_db_t *db, const char *card, lc_id_t *member, int *status)
{
    const char *p[] = {card};
    lc_dbres_t *res = NULL;
    int64_t v = 0;
    int rc = lc_db_exec(db,
                        "SELECT c.member_id, m.status FROM members.cards c "
                        "JOIN members.members m ON m.id = c.member_id WHERE c.card_number = $1",
                        1, p, &res);
    if (rc == LC_OK && lc_dbres_rows(res) == 0)
        rc = LC_ERR_NOT_FOUND;
    if (rc == LC_OK)
        rc = lc_dbres_id(res, 0, 0, member);
    if (rc == LC_OK)
        rc = lc_dbres_i64(res, 0, 1, &v);
    lc_dbres_free(&res);
    *status = (int)v;
    return rc;
}

int mb_store_card_by_id(lc_db_t *db, const lc_id_t *card_id, char card[MB_CARD_DIGITS + 1],
                        lc_id_t *member)
{
    s_idtext_t t;
    const char *p[] = {s_id(card_id, t)};
    lc_dbres_t *res = NULL;
    int rc = lc_db_exec(db, "SELECT card_number, member_id FROM members.cards WHERE id = $1", 1, p,
                        &res);
    if (rc == LC_OK && lc_dbres_rows(res) == 0)
        rc = LC_ERR_NOT_FOUND;
    if (rc == LC_OK) {
        const char *v = lc_dbres_get(res, 0, 0);
        snprintf(card, MB_CARD_DIGITS + 1, "%s", v ? v : "");
        rc = lc_dbres_id(res, 0, 1, member);
    }
    lc_dbres_free(&res);
    return rc;
}

int mb_store_add_card(lc_db_t *db, const lc_id_t *card_id, const lc_id_t *member, const char *card,
                      const lc_id_t *partner, int64_t now)
{
    s_idtext_t cid, mid, pid;
    s_numtext_t t;
    const char *p[] = {card, s_id(card_id, cid), s_id(member, mid), s_id(partner, pid),
                       s_num(now, t)};
    bool inserted = false;
    int rc = s_exec_any(db,
                        "INSERT INTO members.cards (card_number, id, member_id, added_by, "
                        "created_at) VALUES ($1, $2, $3, $4, $5) "
                        "ON CONFLICT DO NOTHING RETURNING id",
                        5, p, &inserted);
    if (rc == LC_OK && !inserted)
        rc = LC_ERR_CONFLICT;
    return rc;
}

int mb_store_set_status(lc_db_t *db, const lc_id_t *member, int status, const char *reason,
                        const lc_id_t *key_id, int64_t now)
{
    s_idtext_t mid, kid;
    s_numtext_t st, t;
    const char *p[] = {s_id(member, mid), s_num(status, st), reason, s_id(key_id, kid),
                       s_num(now, t)};
    bool found = false;
    int rc = lc_db_begin(db);
    if (rc == LC_OK)
        rc = s_exec_any(db, "UPDATE members.members SET status = $2 WHERE id = $1 RETURNING id", 2,
                        p, &found);
    if (rc == LC_OK && !found)
        rc = LC_ERR_NOT_FOUND;
    if (rc == LC_OK)
        rc = lc_db_exec(db,
                        "INSERT INTO members.status_events (member_id, status, reason, key_id, "
                        "at) VALUES ($1, $2, $3, $4, $5)",
                        5, p, NULL);
    if (rc == LC_OK)
        rc = lc_db_commit(db);
    else
        lc_db_rollback(db);
    return rc;
}

int mb_store_code_put(lc_db_t *db, const lc_id_t *id, const lc_id_t *member,
                      const uint8_t hash[LC_SHA256_LEN], int64_t now, int64_t expires_at)
{
    s_idtext_t cid, mid;
    s_numtext_t t, e;
    char *h = s_bytea(hash, LC_SHA256_LEN);
    if (!h)
        return LC_ERR_NOMEM;
    const char *p[] = {s_id(id, cid), s_id(member, mid), h, s_num(now, t), s_num(expires_at, e)};
    bool stored = false;
    int rc = s_exec_any(db,
                        "INSERT INTO members.codes (id, member_id, hash, created_at, expires_at) "
                        "VALUES ($1, $2, $3, $4, $5) ON CONFLICT (id) DO UPDATE SET "
                        "hash = EXCLUDED.hash, created_at = EXCLUDED.created_at, "
                        "expires_at = EXCLUDED.expires_at, failures = 0, invalidated = false "
                        "WHERE members.codes.used_at = 0 "
                        "AND members.codes.member_id = EXCLUDED.member_id RETURNING id",
                        5, p, &stored);
    free(h);
    if (rc == LC_OK && !stored)
        rc = LC_ERR_CONFLICT;
    return rc;
}

#define CODE_COLS "id, member_id, hash, expires_at, used_at, failures, invalidated"

static int s_code_row(const lc_dbres_t *res, int r, mb_code_row_t *out)
{
    int64_t failures = 0;
    memset(out, 0, sizeof *out);
    int rc = lc_dbres_id(res, r, 0, &out->id);
    if (rc == LC_OK)
        rc = lc_dbres_id(res, r, 1, &out->member_id);
    if (rc == LC_OK)
        rc = lc_dbres_bytea(res, r, 2, out->hash, LC_SHA256_LEN);
    if (rc == LC_OK)
        rc = lc_dbres_i64(res, r, 3, &out->st.expires_at);
    if (rc == LC_OK)
        rc = lc_dbres_i64(res, r, 4, &out->st.used_at);
    if (rc == LC_OK)
        rc = lc_dbres_i64(res, r, 5, &failures);
    const char *inv = lc_dbres_get(res, r, 6);
    out->st.failures = (int)failures;
    out->st.invalidated = inv && inv[0] == 't';
    return rc;
}

int mb_store_code_by_use(lc_db_t *db, const lc_id_t *use_id, mb_code_row_t *out)
{
    s_idtext_t u;
    const char *p[] = {s_id(use_id, u)};
    lc_dbres_t *res = NULL;
    int rc =
        lc_db_exec(db, "SELECT " CODE_COLS " FROM members.codes WHERE use_id = $1", 1, p, &res);
    if (rc == LC_OK && lc_dbres_rows(res) == 0)
        rc = LC_ERR_NOT_FOUND;
    if (rc == LC_OK)
        rc = s_code_row(res, 0, out);
    lc_dbres_free(&res);
    return rc;
}

int mb_store_codes_open(lc_db_t *db, const lc_id_t *member, mb_code_row_t *out, size_t max,
                        size_t *n)
{
    s_idtext_t m;
    s_numtext_t lim;
    const char *p[] = {s_id(member, m), s_num((int64_t)max, lim)};
    lc_dbres_t *res = NULL;
    *n = 0;
    int rc = lc_db_exec(db,
                        "SELECT " CODE_COLS " FROM members.codes WHERE member_id = $1 "
                        "AND used_at = 0 AND NOT invalidated "
                        "ORDER BY created_at DESC, id LIMIT $2",
                        2, p, &res);
    for (int r = 0; rc == LC_OK && r < lc_dbres_rows(res) && *n < max; r++) {
        rc = s_code_row(res, r, &out[*n]);
        if (rc == LC_OK)
            (*n)++;
    }
    lc_dbres_free(&res);
    return rc;
}

int mb_store_code_use(lc_db_t *db, const lc_id_t *id, const lc_id_t *use_id, int64_t now)
{
    s_idtext_t c, u;
    s_numtext_t t;
    const char *p[] = {s_id(id, c), s_id(use_id, u), s_num(now, t)};
    bool done = false;
    int rc = s_exec_any(db,
                        "UPDATE members.codes SET used_at = $3, use_id = $2 "
                        "WHERE id = $1 AND used_at = 0 RETURNING id",
                        3, p, &done);
    if (rc == LC_OK && !done)
        rc = LC_ERR_CONFLICT;
    return rc;
}

int mb_store_code_failure(lc_db_t *db, const lc_id_t *use_id, const lc_id_t *member, int64_t now,
                          bool *first)
{
    s_idtext_t u, m;
    s_numtext_t t;
    const char *p[] = {s_id(use_id, u), s_id(member, m), s_num(now, t)};
    return s_exec_any(db,
                      "INSERT INTO members.code_failures (use_id, member_id, at) "
                      "VALUES ($1, $2, $3) ON CONFLICT (use_id) DO NOTHING RETURNING use_id",
                      3, p, first);
}

int mb_store_code_update(lc_db_t *db, const mb_code_row_t *row)
{
    s_idtext_t c;
    s_numtext_t f;
    const char *p[] = {s_id(&row->id, c), s_num(row->st.failures, f),
                       row->st.invalidated ? "true" : "false"};
    return lc_db_exec(db, "UPDATE members.codes SET failures = $2, invalidated = $3 WHERE id = $1",
                      3, p, NULL);
}
