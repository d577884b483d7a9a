/*
 * mb_h_enroll.c: members.enroll and members.add_card.
 *
 * Both are idempotent by the API call's idempotency key: the member id and the
 * card's row id are derived from it (lc_api_derive), so a retry finds what the
 * first attempt created and answers the same.
 */
#include "lc_crypto.h"
#include "lc_err.h"
#include "lc_log.h"
#include "lc_members_msg.h"
#include "lc_time.h"
#include "mb_card.h"
#include "mb_handlers.h"
#include "mb_ledger.h"
#include "mb_store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MB_CARD_TRIES 5 /* generated numbers tried before giving up (collisions are rare) */

/* True for a plausible address: one '@' with text on both sides, no spaces or
 * control characters. (Deliverability is the mailer's business.) */
static bool s_email_ok(const char *e)
{
    const char *at = strchr(e, '@');
    if (!at || at == e || !at[1] || strchr(at + 1, '@'))
        return false;
    for (const unsigned char *p = (const unsigned char *)e; *p; p++)
        if (*p <= ' ' || *p == 0x7f)
            return false;
    return true;
}

/* The reply for an enrolled member: its first card and current status. */
static const char *s_enroll_reply(mb_call_t *c, const lc_id_t *id, json_t **reply, char *msg,
                                  size_t msglen)
{
    char cards[1][MB_CARD_DIGITS + 1];
    size_t n = 0;
    int status = 0;
    int rc = mb_store_member_status(c->srv->db, id, &status);
    if (rc == LC_OK)
        rc = mb_store_member_cards(c->srv->db, id, cards, 1, &n);
    if (rc == LC_OK && n == 0)
        rc = LC_ERR_NOT_FOUND;
    if (rc != LC_OK)
        return mb_fail(c, rc, "reading the enrolled member", msg, msglen);
    mb_enroll_rep_t out = {.id = *id, .card_number = cards[0], .status = status};
    return mb_encode(&mb_enroll_rep_desc, &out, reply, msg, msglen);
}

/* True for a name worth keeping: not empty, no control characters. */
static bool s_name_ok(const char *n)
{
    if (!n[0])
        return false;
    for (const unsigned char *p = (const unsigned char *)n; *p; p++)
        if (*p < ' ' || *p == 0x7f)
            return false;
    return true;
}

static const char *s_enroll(mb_call_t *c, const mb_enroll_req_t *in, json_t **reply, char *msg,
                            size_t msglen)
{
    mb_server_t *s = c->srv;
    lc_id_t id;
    if (lc_api_derive(&c->api, "member", &id) != LC_OK) {
        snprintf(msg, msglen, "enrolling needs an idempotency key");
        return LC_API_IDEMPOTENCY_KEY_REQUIRED;
    }
    if (in->card_number && !mb_card_valid(in->card_number)) {
        snprintf(msg, msglen, "card_number: must be %d digits ending in a Luhn check digit",
                 MB_CARD_DIGITS);
        return LC_API_INVALID_REQUEST;
    }
    if (in->email && !s_email_ok(in->email)) {
        snprintf(msg, msglen, "email: not an email address");
        return LC_API_INVALID_REQUEST;
    }
    if (in->name && !s_name_ok(in->name)) {
        snprintf(msg, msglen, "name: must not be empty or hold control characters");
        return LC_API_INVALID_REQUEST;
    }
    /* A retry: answer what the first attempt created. */
    int status = 0;
    int rc = mb_store_member_status(s->db, &id, &status);
    if (rc == LC_OK)
        return s_enroll_reply(c, &id, reply, msg, msglen);
    if (rc != LC_ERR_NOT_FOUND)
        return mb_fail(c, rc, "looking up the member", msg, msglen);
    if (in->card_number) {
        lc_id_t owner;
        rc = mb_store_card_owner(s->db, in->card_number, &owner, &status);
        if (rc == LC_OK) {
            snprintf(msg, msglen, "card_number: the card belongs to another member");
            return LC_API_CONFLICT;
        }
        if (rc != LC_ERR_NOT_FOUND)
            return mb_fail(c, rc, "looking up the card", msg, msglen);
    }
    /* The ledger account first: a stored member always has one (mb_server.h). */
    rc = mb_ledger_open_account(s->ledger, &id, c->rid);
    if (rc != LC_OK)
        return mb_fail(c, rc == LC_ERR_UNAVAILABLE ? rc : LC_ERR_PROTO,
                       "opening the member's ledger account", msg, msglen);

    /* Personal data is sealed under a fresh key of the member's own (mb_store.h). */
    uint8_t key[LC_AEAD_KEY_LEN];
    mb_sealed_t email = {0}, name = {0};
    rc = lc_random_bytes(key, sizeof key);
    if (rc == LC_OK)
        rc = mb_seal(key, &id, MB_AAD_EMAIL, in->email, &email);
    if (rc == LC_OK)
        rc = mb_seal(key, &id, MB_AAD_NAME, in->name, &name);
    if (rc != LC_OK) {
        lc_secure_zero(key, sizeof key);
        mb_sealed_clear(&email);
        return mb_fail(c, rc, "sealing personal data", msg, msglen);
    }
    char card[MB_CARD_DIGITS + 1];
    mb_new_member_t m = {
        .id = id,
        .card = card,
        .partner_id = c->api.caller.partner_id,
        .marketing = in->consents.marketing,
        .profiling = in->consents.profiling,
        .key = key,
        .email_enc = email.data,
        .email_enc_len = email.len,
        .name_enc = name.data,
        .name_enc_len = name.len,
        .key_id = c->api.caller.key_id,
        .now = lc_now_us(),
    };
    lc_id_derive(&id, "card", &m.card_id);
    bool existed = false;
    for (int attempt = 0; attempt < MB_CARD_TRIES; attempt++) {
        if (in->card_number)
            snprintf(card, sizeof card, "%s", in->card_number);
        else if ((rc = mb_card_generate(s->cfg.card_prefix, card)) != LC_OK)
            break;
        rc = mb_store_enroll(s->db, &m, &existed);
        if (rc != LC_ERR_CONFLICT || in->card_number)
            break;
    }
    lc_secure_zero(key, sizeof key);
    mb_sealed_clear(&email);
    mb_sealed_clear(&name);
    if (rc == LC_ERR_CONFLICT && in->card_number) {
        snprintf(msg, msglen, "card_number: the card belongs to another member");
        return LC_API_CONFLICT;
    }
    if (rc != LC_OK)
        return mb_fail(c, rc, "storing the member", msg, msglen);
    if (!existed) {
        char ids[LC_ID_STRLEN + 1], partner[LC_ID_STRLEN + 1];
        lc_id_format(&id, ids);
        lc_id_format(&c->api.caller.partner_id, partner);
        lc_log_kv(LC_LOG_INFO, c->rid, "member enrolled", "member_id", ids, "partner_id", partner,
                  NULL);
    }
    return s_enroll_reply(c, &id, reply, msg, msglen);
}

const char *mb_h_enroll(mb_call_t *c, json_t **reply, char *msg, size_t msglen)
{
    mb_enroll_req_t in;
    const char *code = mb_api_decode(c, &mb_enroll_req_desc, &in, msg, msglen);
    if (code)
        return code;
    code = s_enroll(c, &in, reply, msg, msglen);
    lc_codec_clear(&mb_enroll_req_desc, &in);
    return code;
}

static const char *s_add_card(mb_call_t *c, const lc_id_t *member, const mb_add_card_req_t *in,
                              json_t **reply, char *msg, size_t msglen)
{
    mb_server_t *s = c->srv;
    lc_id_t card_id, owner;
    if (lc_api_derive(&c->api, "card", &card_id) != LC_OK) {
        snprintf(msg, msglen, "adding a card needs an idempotency key");
        return LC_API_IDEMPOTENCY_KEY_REQUIRED;
    }
    if (in->card_number && !mb_card_valid(in->card_number)) {
        snprintf(msg, msglen, "card_number: must be %d digits ending in a Luhn check digit",
                 MB_CARD_DIGITS);
        return LC_API_INVALID_REQUEST;
    }
    int status = 0;
    int rc = mb_store_member_status(s->db, member, &status);
    if (rc == LC_ERR_NOT_FOUND) {
        snprintf(msg, msglen, "no such member");
        return LC_API_NOT_FOUND;
    }
    if (rc != LC_OK)
        return mb_fail(c, rc, "looking up the member", msg, msglen);
    char card[MB_CARD_DIGITS + 1];
    /* A retry: answer the card the first attempt added. */
    rc = mb_store_card_by_id(s->db, &card_id, card, &owner);
    if (rc == LC_OK && !lc_id_eq(&owner, member)) {
        snprintf(msg, msglen, "this idempotency key added a card to another member");
        return LC_API_CONFLICT;
    }
    if (rc == LC_ERR_NOT_FOUND) {
        if (status == MB_STATUS_FROZEN) {
            snprintf(msg, msglen, "the member is frozen");
            return LC_API_MEMBER_FROZEN;
        }
        size_t ncards = 0;
        char cards[MB_CARDS_MAX][MB_CARD_DIGITS + 1];
        rc = mb_store_member_cards(s->db, member, cards, MB_CARDS_MAX, &ncards);
        if (rc == LC_OK && ncards >= MB_CARDS_MAX) {
            snprintf(msg, msglen, "the member has %d cards already", MB_CARDS_MAX);
            return LC_API_CONFLICT;
        }
        for (int attempt = 0; rc == LC_OK && attempt < MB_CARD_TRIES; attempt++) {
            if (in->card_number)
                snprintf(card, sizeof card, "%s", in->card_number);
            else if ((rc = mb_card_generate(s->cfg.card_prefix, card)) != LC_OK)
                break;
            rc = mb_store_add_card(s->db, &card_id, member, card, &c->api.caller.partner_id,
                                   lc_now_us());
            if (rc != LC_ERR_CONFLICT || in->card_number)
                break;
            rc = LC_OK;
        }
        if (rc == LC_ERR_CONFLICT && in->card_number) {
            snprintf(msg, msglen, "card_number: the card is taken");
            return LC_API_CONFLICT;
        }
        if (rc == LC_OK) {
            char ids[LC_ID_STRLEN + 1];
            lc_id_format(member, ids);
            lc_log_kv(LC_LOG_INFO, c->rid, "card added", "member_id", ids, NULL);
        }
    }
    if (rc != LC_OK)
        return mb_fail(c, rc, "adding the card", msg, msglen);
    mb_card_rep_t out = {.card_number = card, .member_id = *member};
    return mb_encode(&mb_card_rep_desc, &out, reply, msg, msglen);
}

const char *mb_h_add_card(mb_call_t *c, json_t **reply, char *msg, size_t msglen)
{
    lc_id_t member;
    if (lc_api_param_id(&c->api, "id", &member) != LC_OK) {
        snprintf(msg, msglen, "no such member");
        return LC_API_NOT_FOUND;
    }
    mb_add_card_req_t in;
    const char *code = mb_api_decode(c, &mb_add_card_req_desc, &in, msg, msglen);
    if (code)
        return code;
    code = s_add_card(c, &member, &in, reply, msg, msglen);
    lc_codec_clear(&mb_add_card_req_desc, &in);
    return code;
}
