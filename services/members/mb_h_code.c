/*
 * mb_h_code.c: members.issue_code and members.consume_code, the one-time
 * redemption codes (rules in mb_code.h, storage in mb_store.h).
 *
 * consume_code runs in one transaction that first locks the member's row, so two
 * attempts on one member are serialized: a code is consumed at most once, and
 * wrong attempts are counted exactly.
 *
 * Fraud limits (docs/DESIGN.md "Fraud limits"):
 *   - lock: members.code_attempts wrong attempts within members.code_lock_minutes
 *     lock the member's codes: no new code, no use (member_code_locked) until the
 *     window no longer holds that many; attempts while locked are not counted;
 *   - cooling-off: a redemption of members.cooling_off_points or more within
 *     members.cooling_off_hours of a card being added to the member's account is held
 *     (cooling_off); the code stays usable for a smaller one.
 */
#include "lc_err.h"
#include "lc_log.h"
#include "lc_members_msg.h"
#include "lc_time.h"
#include "mb_code.h"
#include "mb_handlers.h"
#include "mb_store.h"

#include <stdio.h>
#include <string.h>

/* Whether the member's codes are locked at now; *until: when the oldest counted
 * failure leaves the window. */
static int s_locked(const mb_server_t *s, const lc_id_t *member, int64_t now, bool *locked,
                    int64_t *until)
{
    int64_t n = 0, oldest = 0;
    int rc = mb_store_code_failures_since(s->db, member, now - s->cfg.code_lock_us, &n, &oldest);
    *locked = rc == LC_OK && n >= s->cfg.code_attempts;
    *until = oldest + s->cfg.code_lock_us;
    return rc;
}

/* The refusal of a locked member's code operation, logged with the request id. */
static const char *s_refuse_locked(mb_call_t *c, const lc_id_t *member, int64_t until, char *msg,
                                   size_t msglen)
{
    char mid[LC_ID_STRLEN + 1], at[LC_RFC3339_MAX];
    lc_id_format(member, mid);
    if (lc_time_format(until, at) != LC_OK)
        snprintf(at, sizeof at, "later");
    lc_log_kv(LC_LOG_WARN, c->rid, "member codes locked", "member_id", mid, "until", at, NULL);
    snprintf(msg, msglen, "too many wrong member codes: codes are locked until %s", at);
    return LC_API_MEMBER_CODE_LOCKED;
}

const char *mb_h_issue_code(mb_call_t *c, json_t **reply, char *msg, size_t msglen)
{
    mb_server_t *s = c->srv;
    lc_id_t member, code_id;
    if (lc_api_param_id(&c->api, "id", &member) != LC_OK) {
        snprintf(msg, msglen, "no such member");
        return LC_API_NOT_FOUND;
    }
    mb_empty_t in;
    const char *code = mb_api_decode(c, &mb_empty_desc, &in, msg, msglen);
    if (code)
        return code;
    if (lc_api_derive(&c->api, "code", &code_id) != LC_OK) {
        snprintf(msg, msglen, "issuing a code needs an idempotency key");
        return LC_API_IDEMPOTENCY_KEY_REQUIRED;
    }
    int status = 0;
    int rc = mb_store_member_status(s->db, &member, &status);
    if (rc == LC_ERR_NOT_FOUND) {
        snprintf(msg, msglen, "no such member");
        return LC_API_NOT_FOUND;
    }
    if (rc != LC_OK)
        return mb_fail(c, rc, "looking up the member", msg, msglen);
    if (status == MB_STATUS_FROZEN) {
        snprintf(msg, msglen, "the member is frozen");
        return LC_API_MEMBER_FROZEN;
    }
    int64_t now = lc_now_us(), until = 0;
    bool locked = false;
    if ((rc = s_locked(s, &member, now, &locked, &until)) != LC_OK)
        return mb_fail(c, rc, "counting wrong codes", msg, msglen);
    if (locked)
        return s_refuse_locked(c, &member, until, msg, msglen);
    char text[MB_CODE_LEN + 1];
    uint8_t hash[LC_SHA256_LEN];
    mb_code_rep_t out = {.code = text, .expires_at = mb_code_expires_at(now, s->cfg.code_ttl_s)};
    rc = mb_code_generate(text);
    if (rc == LC_OK)
        rc = mb_code_hash(&code_id, &member, text, hash);
    if (rc == LC_OK)
        rc = mb_store_code_put(s->db, &code_id, &member, hash, now, out.expires_at);
    if (rc == LC_ERR_CONFLICT) {
        snprintf(msg, msglen, "the code issued with this idempotency key was used already");
        return LC_API_CONFLICT;
    }
    if (rc != LC_OK)
        return mb_fail(c, rc, "issuing the code", msg, msglen);
    char mid[LC_ID_STRLEN + 1], cid[LC_ID_STRLEN + 1];
    lc_id_format(&member, mid);
    lc_id_format(&code_id, cid);
    lc_log_kv(LC_LOG_INFO, c->rid, "code issued", "member_id", mid, "code_id", cid, NULL);
    code = mb_encode(&mb_code_rep_desc, &out, reply, msg, msglen);
    explicit_bzero(text, sizeof text);
    return code;
}

/* True when code is the one row was issued for. */
static bool s_matches(const mb_code_row_t *row, const lc_id_t *member, const char *code)
{
    uint8_t h[LC_SHA256_LEN];
    return mb_code_hash(&row->id, member, code, h) == LC_OK &&
           lc_ct_equal(h, row->hash, LC_SHA256_LEN);
}

/* The outcome of one consume attempt, decided inside the transaction. */
typedef enum s_outcome {
    S_OK,
    S_WRONG,  /* not a usable code of this member: counts as a wrong attempt */
    S_REFUSE, /* refused without counting (unknown member, use_id of another code) */
    S_FROZEN,
    S_LOCKED,  /* too many wrong attempts lately: not even checked */
    S_COOLING, /* the right code, but a large redemption too soon after a new card */
} s_outcome_t;

/* Whether a redemption of points by member falls in the cooling-off period. */
static int s_cooling(const mb_server_t *s, const lc_id_t *member, int64_t points, int64_t now,
                     bool *cooling)
{
    *cooling = false;
    if (s->cfg.cooling_off_us == 0 || points < s->cfg.cooling_off_points)
        return LC_OK;
    int64_t added = 0;
    int rc = mb_store_card_added_at(s->db, member, &added);
    *cooling = rc == LC_OK && added != 0 && now < added + s->cfg.cooling_off_us;
    return rc;
}

static int s_consume(mb_call_t *c, const mb_consume_code_req_t *in, s_outcome_t *outcome,
                     int *invalidated, int64_t *until)
{
    lc_db_t *db = c->srv->db;
    int64_t now = lc_now_us();
    int status = 0;
    *invalidated = 0;
    int rc = mb_store_member_lock(db, &in->member_id, &status);
    if (rc == LC_ERR_NOT_FOUND) {
        *outcome = S_REFUSE;
        return LC_OK;
    }
    if (rc != LC_OK)
        return rc;
    if (status == MB_STATUS_FROZEN) {
        *outcome = S_FROZEN;
        return LC_OK;
    }
    /* A retry of a use that succeeded: the same answer again. */
    mb_code_row_t used;
    rc = mb_store_code_by_use(db, &in->use_id, &used);
    if (rc == LC_OK) {
        bool same =
            lc_id_eq(&used.member_id, &in->member_id) && s_matches(&used, &in->member_id, in->code);
        *outcome = same ? S_OK : S_REFUSE;
        return LC_OK;
    }
    if (rc != LC_ERR_NOT_FOUND)
        return rc;
    bool locked = false;
    if ((rc = s_locked(c->srv, &in->member_id, now, &locked, until)) != LC_OK)
        return rc;
    if (locked) {
        *outcome = S_LOCKED;
        return LC_OK;
    }
    mb_code_row_t open[MB_CODES_OUTSTANDING_MAX];
    size_t n = 0;
    rc = mb_store_codes_open(db, &in->member_id, open, MB_CODES_OUTSTANDING_MAX, &n);
    if (rc != LC_OK)
        return rc;
    for (size_t i = 0; i < n; i++) {
        if (mb_code_usable(&open[i].st, now) && s_matches(&open[i], &in->member_id, in->code)) {
            bool cooling = false;
            if ((rc = s_cooling(c->srv, &in->member_id, in->points, now, &cooling)) != LC_OK)
                return rc;
            *outcome = cooling ? S_COOLING : S_OK;
            return cooling ? LC_OK : mb_store_code_use(db, &open[i].id, &in->use_id, now);
        }
    }
    *outcome = S_WRONG;
    bool first = false;
    rc = mb_store_code_failure(db, &in->use_id, &in->member_id, now, &first);
    for (size_t i = 0; rc == LC_OK && first && i < n; i++) {
        mb_code_fail(&open[i].st, c->srv->cfg.code_attempts);
        *invalidated += open[i].st.invalidated;
        rc = mb_store_code_update(db, &open[i]);
    }
    return rc;
}

const char *mb_h_consume_code(mb_call_t *c, json_t **reply, char *msg, size_t msglen)
{
    mb_consume_code_req_t in;
    const char *code = mb_body_decode(c, &mb_consume_code_req_desc, &in, msg, msglen);
    if (code)
        return code;
    s_outcome_t outcome = S_REFUSE;
    int invalidated = 0;
    int64_t until = 0;
    lc_id_t member = in.member_id;
    int rc = lc_db_begin(c->srv->db);
    if (rc == LC_OK)
        rc = s_consume(c, &in, &outcome, &invalidated, &until);
    if (rc == LC_OK)
        rc = lc_db_commit(c->srv->db);
    else
        lc_db_rollback(c->srv->db);
    char mid[LC_ID_STRLEN + 1], uid[LC_ID_STRLEN + 1];
    lc_id_format(&in.member_id, mid);
    lc_id_format(&in.use_id, uid);
    lc_codec_clear(&mb_consume_code_req_desc, &in);
    if (rc != LC_OK)
        return mb_fail(c, rc, "consuming the code", msg, msglen);
    switch (outcome) {
    case S_OK:
        lc_log_kv(LC_LOG_INFO, c->rid, "code consumed", "member_id", mid, "use_id", uid, NULL);
        return mb_encode(&mb_empty_desc, &(mb_empty_t){0}, reply, msg, msglen);
    case S_FROZEN:
        snprintf(msg, msglen, "the member is frozen");
        return LC_API_MEMBER_FROZEN;
    case S_LOCKED:
        return s_refuse_locked(c, &member, until, msg, msglen);
    case S_COOLING:
        lc_log_kv(LC_LOG_WARN, c->rid, "large redemption held: cooling-off after a new card",
                  "member_id", mid, "use_id", uid, NULL);
        snprintf(msg, msglen, "a card was added to this account recently: redemptions of %lld "
                              "points or more are held for %lld hours after it",
                 (long long)c->srv->cfg.cooling_off_points,
                 (long long)(c->srv->cfg.cooling_off_us / (3600 * LC_USEC_PER_SEC)));
        return LC_API_COOLING_OFF;
    case S_WRONG:
        lc_log_kv(LC_LOG_WARN, c->rid,
                  invalidated ? "wrong member code; outstanding codes invalidated"
                              : "wrong member code",
                  "member_id", mid, "use_id", uid, NULL);
        break;
    case S_REFUSE:
        break;
    }
    snprintf(msg, msglen, "not a valid code of this member");
    return LC_API_INVALID_MEMBER_CODE;
}
