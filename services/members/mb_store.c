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
    s_idtext_t kid;
    char *key = s_bytea(m->key, LC_AEAD_KEY_LEN);
    char *email = m->email_enc ? s_bytea(m->email_enc, m->email_enc_len) : NULL;
    char *name = m->name_enc ? s_bytea(m->name_enc, m->name_enc_len) : NULL;
    if (!key || (m->email_enc && !email) || (m->name_enc && !name)) {
        free(key);
        free(email);
        free(name);
        return LC_ERR_NOMEM;
    }
    const char *p[] = {s_id(&m->id, id),
                       s_id(&m->partner_id, partner),
                       m->marketing ? "true" : "false",
                       m->profiling ? "true" : "false",
                       email,
                       s_num(m->now, now),
                       name};
    bool inserted = false;
    int rc = lc_db_begin(db);
    if (rc == LC_OK)
        rc = s_exec_any(db,
                        "INSERT INTO members.members (id, enrolled_by, consent_marketing, "
                        "consent_profiling, email_enc, created_at, name_enc) "
                        "VALUES ($1, $2, $3, $4, $5::bytea, $6, $7::bytea) "
                        "ON CONFLICT (id) DO NOTHING RETURNING id",
                        7, p, &inserted);
    free(email);
    free(name);
    if (rc == LC_OK && !inserted) {
        *existed = true;
        lc_db_rollback(db);
        free(key);
        return LC_OK;
    }
    if (rc == LC_OK) {
        const char *pe[] = {p[0], p[2], p[3], s_id(&m->key_id, kid), now};
        rc = lc_db_exec(db,
                        "INSERT INTO members.consent_events (member_id, marketing, profiling, "
                        "source, key_id, at) VALUES ($1, $2, $3, 'enroll', $4, $5)",
                        5, pe, NULL);
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

int mb_store_card_owner_tier(lc_db_t *db, const char *card, lc_id_t *member, int *status,
                             int *tier)
{
    const char *p[] = {card};
    lc_dbres_t *res = NULL;
    int64_t v = 0, t = 0;
    int rc = lc_db_exec(db,
                        "SELECT c.member_id, m.status, m.tier FROM members.cards c "
                        "JOIN members.members m ON m.id = c.member_id WHERE c.card_number = $1",
                        1, p, &res);
    if (rc == LC_OK && lc_dbres_rows(res) == 0)
        rc = LC_ERR_NOT_FOUND;
    if (rc == LC_OK)
        rc = lc_dbres_id(res, 0, 0, member);
    if (rc == LC_OK)
        rc = lc_dbres_i64(res, 0, 1, &v);
    if (rc == LC_OK)
        rc = lc_dbres_i64(res, 0, 2, &t);
    lc_dbres_free(&res);
    *status = (int)v;
    *tier = (int)t;
    return rc;
}

int mb_store_card_owner(lc_db_t *db, const char *card, lc_id_t *member, int *status)
{
    int tier;
    return mb_store_card_owner_tier(db, card, member, status, &tier);
}

int mb_store_set_tier(lc_db_t *db, const lc_id_t *member, int tier, int64_t version,
                      int *held_tier, int64_t *held_version)
{
    s_idtext_t t;
    char tt[24], vt[24];
    snprintf(tt, sizeof tt, "%d", tier);
    snprintf(vt, sizeof vt, "%lld", (long long)version);
    const char *p[] = {s_id(member, t), tt, vt};
    lc_dbres_t *res = NULL;
    /* One statement: the version comparison and the write cannot be split by a
     * concurrent report. The CTE's UPDATE result is invisible to the outer SELECT,
     * hence COALESCE over the updated row and the row as it was. */
    int rc = lc_db_exec(db,
                        "WITH u AS (UPDATE members.members SET tier = $2, tier_version = $3 "
                        "WHERE id = $1 AND tier_version < $3 RETURNING tier, tier_version) "
                        "SELECT COALESCE((SELECT tier FROM u), m.tier), "
                        "COALESCE((SELECT tier_version FROM u), m.tier_version) "
                        "FROM members.members m WHERE m.id = $1",
                        3, p, &res);
    int64_t ht = 0, hv = 0;
    if (rc == LC_OK && lc_dbres_rows(res) == 0)
        rc = LC_ERR_NOT_FOUND;
    if (rc == LC_OK)
        rc = lc_dbres_i64(res, 0, 0, &ht);
    if (rc == LC_OK)
        rc = lc_dbres_i64(res, 0, 1, &hv);
    lc_dbres_free(&res);
    *held_tier = (int)ht;
    *held_version = hv;
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

int mb_store_set_status(lc_db_t *db, const lc_id_t *member, int status, const mb_sealed_t *reason,
                        const lc_id_t *key_id, int64_t now)
{
    s_idtext_t mid, kid;
    s_numtext_t st, t;
    char *sealed = reason->data ? s_bytea(reason->data, reason->len) : NULL;
    if (reason->data && !sealed)
        return LC_ERR_NOMEM;
    const char *p[] = {s_id(member, mid), s_num(status, st), sealed, s_id(key_id, kid),
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
                        "INSERT INTO members.status_events (member_id, status, reason_enc, "
                        "key_id, at) VALUES ($1, $2, $3::bytea, $4, $5)",
                        5, p, NULL);
    if (rc == LC_OK)
        rc = lc_db_commit(db);
    else
        lc_db_rollback(db);
    free(sealed);
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

/* Runs sql(params) expecting one row of integers, written to out[0..nout). */
static int s_ints(lc_db_t *db, const char *sql, int n, const char *const *p, int64_t *out,
                  int nout)
{
    lc_dbres_t *res = NULL;
    int rc = lc_db_exec(db, sql, n, p, &res);
    if (rc == LC_OK && lc_dbres_rows(res) != 1)
        rc = LC_ERR_PROTO;
    for (int i = 0; rc == LC_OK && i < nout; i++)
        rc = lc_dbres_i64(res, 0, i, &out[i]);
    lc_dbres_free(&res);
    return rc;
}

int mb_store_code_failures_since(lc_db_t *db, const lc_id_t *member, int64_t since, int64_t *n,
                                 int64_t *oldest)
{
    s_idtext_t m;
    s_numtext_t t;
    const char *p[] = {s_id(member, m), s_num(since, t)};
    int64_t v[2] = {0, 0};
    int rc = s_ints(db,
                    "SELECT count(*), COALESCE(min(at), 0) FROM members.code_failures "
                    "WHERE member_id = $1 AND at >= $2",
                    2, p, v, 2);
    *n = v[0];
    *oldest = v[1];
    return rc;
}

int mb_store_card_added_at(lc_db_t *db, const lc_id_t *member, int64_t *at)
{
    s_idtext_t m;
    const char *p[] = {s_id(member, m)};
    *at = 0;
    return s_ints(db,
                  "SELECT COALESCE(max(created_at), 0) FROM (SELECT created_at FROM "
                  "members.cards WHERE member_id = $1 ORDER BY created_at, id OFFSET 1) c",
                  1, p, at, 1);
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

/* ---- personal data, consents, erasure ------------------------------------------------ */

void mb_sealed_clear(mb_sealed_t *s)
{
    free(s->data);
    s->data = NULL;
    s->len = 0;
}

void mb_member_row_clear(mb_member_row_t *row)
{
    mb_sealed_clear(&row->email);
    mb_sealed_clear(&row->name);
}

/* Column col of row r, selected as encode(x, 'hex'), into out (NULL stays empty). */
static int s_sealed_get(const lc_dbres_t *res, int r, int col, mb_sealed_t *out)
{
    out->data = NULL;
    out->len = 0;
    const char *hex = lc_dbres_get(res, r, col);
    if (!hex)
        return LC_OK;
    size_t len = strlen(hex) / 2;
    out->data = malloc(len ? len : 1);
    if (!out->data)
        return LC_ERR_NOMEM;
    int rc = lc_hex_decode(hex, out->data, len);
    if (rc != LC_OK) {
        mb_sealed_clear(out);
        return LC_ERR_DB;
    }
    out->len = len;
    return LC_OK;
}

static bool s_bool(const lc_dbres_t *res, int r, int col)
{
    const char *v = lc_dbres_get(res, r, col);
    return v && v[0] == 't';
}

int mb_store_member_row(lc_db_t *db, const lc_id_t *id, mb_member_row_t *out)
{
    s_idtext_t t;
    const char *p[] = {s_id(id, t)};
    lc_dbres_t *res = NULL;
    int64_t status = 0;
    memset(out, 0, sizeof *out);
    int rc = lc_db_exec(db,
                        "SELECT status, consent_marketing, consent_profiling, enrolled_by, "
                        "created_at, erased_at, encode(email_enc, 'hex'), encode(name_enc, 'hex'), "
                        "tier FROM members.members WHERE id = $1",
                        1, p, &res);
    if (rc == LC_OK && lc_dbres_rows(res) == 0)
        rc = LC_ERR_NOT_FOUND;
    if (rc == LC_OK)
        rc = lc_dbres_i64(res, 0, 0, &status);
    if (rc == LC_OK) {
        out->status = (int)status;
        out->consents.marketing = s_bool(res, 0, 1);
        out->consents.profiling = s_bool(res, 0, 2);
        rc = lc_dbres_id(res, 0, 3, &out->enrolled_by);
    }
    if (rc == LC_OK)
        rc = lc_dbres_i64(res, 0, 4, &out->created_at);
    if (rc == LC_OK)
        rc = lc_dbres_i64(res, 0, 5, &out->erased_at);
    if (rc == LC_OK)
        rc = s_sealed_get(res, 0, 6, &out->email);
    if (rc == LC_OK)
        rc = s_sealed_get(res, 0, 7, &out->name);
    int64_t tier = 0;
    if (rc == LC_OK)
        rc = lc_dbres_i64(res, 0, 8, &tier);
    out->tier = (int)tier;
    lc_dbres_free(&res);
    if (rc != LC_OK)
        mb_member_row_clear(out);
    return rc;
}

int mb_store_member_key(lc_db_t *db, const lc_id_t *id, uint8_t key[LC_AEAD_KEY_LEN])
{
    s_idtext_t t;
    const char *p[] = {s_id(id, t)};
    lc_dbres_t *res = NULL;
    int rc = lc_db_exec(db, "SELECT key FROM members.member_keys WHERE member_id = $1", 1, p, &res);
    if (rc == LC_OK && lc_dbres_rows(res) == 0)
        rc = LC_ERR_NOT_FOUND;
    if (rc == LC_OK)
        rc = lc_dbres_bytea(res, 0, 0, key, LC_AEAD_KEY_LEN);
    lc_dbres_free(&res);
    return rc;
}

/* The time of the member's last consent change (its enrollment when none). */
static int s_consents_updated(lc_db_t *db, const char *member, int64_t *at)
{
    const char *p[] = {member};
    lc_dbres_t *res = NULL;
    int rc = lc_db_exec(db,
                        "SELECT coalesce((SELECT max(at) FROM members.consent_events "
                        "WHERE member_id = $1), created_at) FROM members.members WHERE id = $1",
                        1, p, &res);
    if (rc == LC_OK && lc_dbres_rows(res) == 0)
        rc = LC_ERR_NOT_FOUND;
    if (rc == LC_OK)
        rc = lc_dbres_i64(res, 0, 0, at);
    lc_dbres_free(&res);
    return rc;
}

int mb_store_set_consents(lc_db_t *db, const lc_id_t *member, const bool *marketing,
                          const bool *profiling, const lc_id_t *key_id, int64_t now,
                          mb_consents_t *now_out, int64_t *updated_at)
{
    s_idtext_t mid, kid;
    s_numtext_t t;
    lc_dbres_t *res = NULL;
    const char *p[] = {s_id(member, mid), NULL, NULL, s_id(key_id, kid), s_num(now, t)};
    int rc = lc_db_begin(db);
    if (rc == LC_OK)
        rc = lc_db_exec(db,
                        "SELECT consent_marketing, consent_profiling FROM members.members "
                        "WHERE id = $1 FOR UPDATE",
                        1, p, &res);
    if (rc == LC_OK && lc_dbres_rows(res) == 0)
        rc = LC_ERR_NOT_FOUND;
    mb_consents_t old = {0}, cur = {0};
    if (rc == LC_OK) {
        old.marketing = s_bool(res, 0, 0);
        old.profiling = s_bool(res, 0, 1);
        cur.marketing = marketing ? *marketing : old.marketing;
        cur.profiling = profiling ? *profiling : old.profiling;
    }
    lc_dbres_free(&res);
    p[1] = cur.marketing ? "true" : "false";
    p[2] = cur.profiling ? "true" : "false";
    if (rc == LC_OK && (cur.marketing != old.marketing || cur.profiling != old.profiling)) {
        rc = lc_db_exec(db,
                        "UPDATE members.members SET consent_marketing = $2, "
                        "consent_profiling = $3 WHERE id = $1",
                        3, p, NULL);
        if (rc == LC_OK)
            rc = lc_db_exec(db,
                            "INSERT INTO members.consent_events (member_id, marketing, "
                            "profiling, source, key_id, at) VALUES ($1, $2, $3, 'app', $4, $5)",
                            5, p, NULL);
    }
    if (rc == LC_OK)
        rc = s_consents_updated(db, p[0], updated_at);
    if (rc == LC_OK)
        rc = lc_db_commit(db);
    else
        lc_db_rollback(db);
    *now_out = cur;
    return rc;
}

int mb_store_erase(lc_db_t *db, const lc_id_t *member, const lc_id_t *key_id, int64_t now,
                   int64_t *erased_at)
{
    s_idtext_t mid, kid;
    s_numtext_t t;
    lc_dbres_t *res = NULL;
    const char *p[] = {s_id(member, mid), s_id(key_id, kid), s_num(now, t)};
    *erased_at = 0;
    bool consented = false;
    int rc = lc_db_begin(db);
    if (rc == LC_OK)
        rc = lc_db_exec(db,
                        "SELECT erased_at, consent_marketing OR consent_profiling "
                        "FROM members.members WHERE id = $1 FOR UPDATE",
                        1, p, &res);
    if (rc == LC_OK && lc_dbres_rows(res) == 0)
        rc = LC_ERR_NOT_FOUND;
    if (rc == LC_OK) {
        rc = lc_dbres_i64(res, 0, 0, erased_at);
        consented = s_bool(res, 0, 1);
    }
    lc_dbres_free(&res);
    if (rc == LC_OK && *erased_at != 0) { /* erased already: nothing to do */
        lc_db_rollback(db);
        return LC_OK;
    }
    if (rc == LC_OK)
        rc = lc_db_exec(db, "DELETE FROM members.member_keys WHERE member_id = $1", 1, p, NULL);
    if (rc == LC_OK)
        rc = lc_db_exec(db,
                        "UPDATE members.status_events SET reason = NULL "
                        "WHERE member_id = $1 AND reason IS NOT NULL",
                        1, p, NULL);
    if (rc == LC_OK && consented)
        rc = lc_db_exec(db,
                        "INSERT INTO members.consent_events (member_id, marketing, profiling, "
                        "source, key_id, at) VALUES ($1, false, false, 'erasure', $2, $3)",
                        3, p, NULL);
    if (rc == LC_OK) {
        const char *pu[] = {p[0], p[2]};
        rc = lc_db_exec(db,
                        "UPDATE members.members SET erased_at = $2, consent_marketing = false, "
                        "consent_profiling = false WHERE id = $1",
                        2, pu, NULL);
    }
    if (rc == LC_OK)
        rc = lc_db_commit(db);
    else
        lc_db_rollback(db);
    *erased_at = rc == LC_OK ? now : 0;
    return rc;
}

/* Runs sql ($1 = member, $2 = the row limit) and allocates one zeroed item of size
 * bytes per row into *items; *res (caller frees) holds the rows. */
static int s_export_rows(lc_db_t *db, const char *sql, const lc_id_t *member, size_t size,
                         void **items, size_t *n, lc_dbres_t **res)
{
    s_idtext_t m;
    s_numtext_t lim;
    const char *p[] = {s_id(member, m), s_num(MB_EXPORT_ROWS_MAX, lim)};
    *items = NULL;
    *n = 0;
    int rc = lc_db_exec(db, sql, 2, p, res);
    if (rc != LC_OK)
        return rc;
    size_t rows = (size_t)lc_dbres_rows(*res);
    *items = calloc(rows ? rows : 1, size);
    if (!*items)
        return LC_ERR_NOMEM;
    *n = rows;
    return LC_OK;
}

int mb_store_export_cards(lc_db_t *db, const lc_id_t *member, mb_export_card_t **out, size_t *n)
{
    lc_dbres_t *res = NULL;
    int rc = s_export_rows(db,
                           "SELECT card_number, added_by, created_at FROM members.cards "
                           "WHERE member_id = $1 ORDER BY created_at, card_number LIMIT $2",
                           member, sizeof **out, (void **)out, n, &res);
    for (size_t r = 0; rc == LC_OK && r < *n; r++) {
        mb_export_card_t *c = &(*out)[r];
        const char *num = lc_dbres_get(res, (int)r, 0);
        c->card_number = strdup(num ? num : "");
        rc = c->card_number ? lc_dbres_id(res, (int)r, 1, &c->added_by) : LC_ERR_NOMEM;
        if (rc == LC_OK)
            rc = lc_dbres_i64(res, (int)r, 2, &c->created_at);
    }
    lc_dbres_free(&res);
    return rc;
}

int mb_store_consent_events(lc_db_t *db, const lc_id_t *member, mb_consent_event_t **out, size_t *n)
{
    lc_dbres_t *res = NULL;
    int rc = s_export_rows(db,
                           "SELECT marketing, profiling, source, at FROM members.consent_events "
                           "WHERE member_id = $1 ORDER BY at LIMIT $2",
                           member, sizeof **out, (void **)out, n, &res);
    for (size_t r = 0; rc == LC_OK && r < *n; r++) {
        mb_consent_event_t *e = &(*out)[r];
        uint32_t source = 0;
        e->marketing = s_bool(res, (int)r, 0);
        e->profiling = s_bool(res, (int)r, 1);
        const char *src = lc_dbres_get(res, (int)r, 2);
        rc = lc_value_of(mb_consent_source_names, src ? src : "", &source) == LC_OK ? LC_OK
                                                                                    : LC_ERR_DB;
        e->source = (int)source;
        if (rc == LC_OK)
            rc = lc_dbres_i64(res, (int)r, 3, &e->at);
    }
    lc_dbres_free(&res);
    return rc;
}

int mb_store_status_events(lc_db_t *db, const lc_id_t *member, mb_status_event_t **out,
                           mb_sealed_t **sealed, size_t *n)
{
    lc_dbres_t *res = NULL;
    *sealed = NULL;
    int rc = s_export_rows(db,
                           "SELECT status, reason, encode(reason_enc, 'hex'), at "
                           "FROM members.status_events WHERE member_id = $1 ORDER BY at LIMIT $2",
                           member, sizeof **out, (void **)out, n, &res);
    if (rc == LC_OK) {
        *sealed = calloc(*n ? *n : 1, sizeof **sealed);
        if (!*sealed)
            rc = LC_ERR_NOMEM;
    }
    for (size_t r = 0; rc == LC_OK && r < *n; r++) {
        mb_status_event_t *e = &(*out)[r];
        int64_t status = 0;
        rc = lc_dbres_i64(res, (int)r, 0, &status);
        e->status = (int)status;
        const char *legacy = lc_dbres_get(res, (int)r, 1);
        if (rc == LC_OK && legacy && !(e->reason = strdup(legacy)))
            rc = LC_ERR_NOMEM;
        if (rc == LC_OK)
            rc = s_sealed_get(res, (int)r, 2, &(*sealed)[r]);
        if (rc == LC_OK)
            rc = lc_dbres_i64(res, (int)r, 3, &e->at);
    }
    lc_dbres_free(&res);
    return rc;
}

int mb_store_export_codes(lc_db_t *db, const lc_id_t *member, mb_export_code_t **out, size_t *n)
{
    lc_dbres_t *res = NULL;
    int rc = s_export_rows(db,
                           "SELECT created_at, expires_at, used_at, failures, invalidated "
                           "FROM members.codes WHERE member_id = $1 ORDER BY created_at, id "
                           "LIMIT $2",
                           member, sizeof **out, (void **)out, n, &res);
    for (size_t r = 0; rc == LC_OK && r < *n; r++) {
        mb_export_code_t *c = &(*out)[r];
        rc = lc_dbres_i64(res, (int)r, 0, &c->created_at);
        if (rc == LC_OK)
            rc = lc_dbres_i64(res, (int)r, 1, &c->expires_at);
        if (rc == LC_OK)
            rc = lc_dbres_i64(res, (int)r, 2, &c->used_at);
        if (rc == LC_OK)
            rc = lc_dbres_i64(res, (int)r, 3, &c->failures);
        c->invalidated = s_bool(res, (int)r, 4);
    }
    lc_dbres_free(&res);
    return rc;
}

int mb_store_code_failures(lc_db_t *db, const lc_id_t *member, mb_code_failure_t **out, size_t *n)
{
    lc_dbres_t *res = NULL;
    int rc = s_export_rows(db,
                           "SELECT at FROM members.code_failures WHERE member_id = $1 "
                           "ORDER BY at LIMIT $2",
                           member, sizeof **out, (void **)out, n, &res);
    for (size_t r = 0; rc == LC_OK && r < *n; r++)
        rc = lc_dbres_i64(res, (int)r, 0, &(*out)[r].at);
    lc_dbres_free(&res);
    return rc;
}
