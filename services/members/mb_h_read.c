/*
 * mb_h_read.c: members.card_balance, members.get and members.resolve_card.
 * Balances are never stored here: they come from the ledger on every read.
 */
#include "lc_err.h"
#include "lc_log.h"
#include "lc_members_msg.h"
#include "mb_card.h"
#include "mb_handlers.h"
#include "mb_ledger.h"
#include "mb_store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The member's ledger account; an enrolled member always has one, so its absence
 * is an internal error. */
static const char *s_account(mb_call_t *c, const lc_id_t *member, ld_account_view_t *acct,
                             char *msg, size_t msglen)
{
    int rc = mb_ledger_account(c->srv->ledger, member, acct, c->rid);
    if (rc == LC_ERR_NOT_FOUND)
        rc = LC_ERR_PROTO; /* logged by mb_fail as an internal error */
    return rc == LC_OK ? NULL : mb_fail(c, rc, "reading the member's ledger account", msg, msglen);
}

const char *mb_h_card_balance(mb_call_t *c, json_t **reply, char *msg, size_t msglen)
{
    mb_empty_t in;
    const char *code = mb_api_decode(c, &mb_empty_desc, &in, msg, msglen);
    if (code)
        return code;
    const char *card = lc_api_param(&c->api, "card_number");
    lc_id_t member;
    int status = 0;
    int rc = mb_card_valid(card) ? mb_store_card_owner(c->srv->db, card, &member, &status)
                                 : LC_ERR_NOT_FOUND;
    if (rc == LC_ERR_NOT_FOUND) {
        snprintf(msg, msglen, "no such card");
        return LC_API_NOT_FOUND;
    }
    if (rc != LC_OK)
        return mb_fail(c, rc, "looking up the card", msg, msglen);
    ld_account_view_t acct;
    if ((code = s_account(c, &member, &acct, msg, msglen)))
        return code;
    mb_balance_rep_t out = {
        .member_id = member,
        .available = acct.available,
        .pending = acct.credits_pending,
        .tier = MB_TIER_BRONZE,
    };
    return mb_encode(&mb_balance_rep_desc, &out, reply, msg, msglen);
}

/* Fills out->expiring with up to MB_EXPIRING_MAX lots that have an expiry and
 * points left, soonest first. out->expiring must hold MB_EXPIRING_MAX items. */
static void s_expiring(const ld_lots_rep_t *lots, mb_member_rep_t *out)
{
    out->nexpiring = 0;
    for (size_t i = 0; i < lots->nlots; i++) {
        const ld_lot_view_t *l = &lots->lots[i];
        if (l->expires_at == 0 || l->remaining <= 0)
            continue;
        /* Insertion into a short sorted list (the ledger already sends soonest first). */
        size_t k = out->nexpiring;
        if (k == MB_EXPIRING_MAX) {
            if (l->expires_at >= out->expiring[k - 1].expires_at)
                continue;
            k--;
        } else {
            out->nexpiring++;
        }
        while (k > 0 && out->expiring[k - 1].expires_at > l->expires_at) {
            out->expiring[k] = out->expiring[k - 1];
            k--;
        }
        out->expiring[k] = (mb_expiring_t){.points = l->remaining, .expires_at = l->expires_at};
    }
}

const char *mb_h_get(mb_call_t *c, json_t **reply, char *msg, size_t msglen)
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
    int status = 0;
    int rc = mb_store_member_status(c->srv->db, &member, &status);
    if (rc == LC_ERR_NOT_FOUND) {
        snprintf(msg, msglen, "no such member");
        return LC_API_NOT_FOUND;
    }
    char cards[MB_CARDS_MAX][MB_CARD_DIGITS + 1];
    size_t ncards = 0;
    if (rc == LC_OK)
        rc = mb_store_member_cards(c->srv->db, &member, cards, MB_CARDS_MAX, &ncards);
    if (rc != LC_OK)
        return mb_fail(c, rc, "reading the member", msg, msglen);
    ld_account_view_t acct;
    if ((code = s_account(c, &member, &acct, msg, msglen)))
        return code;
    ld_lots_rep_t lots;
    rc = mb_ledger_lots(c->srv->ledger, &member, &lots, c->rid);
    if (rc != LC_OK) {
        lc_codec_clear(&ld_lots_rep_desc, &lots);
        return mb_fail(c, rc, "reading the member's lots", msg, msglen);
    }
    mb_expiring_t expiring[MB_EXPIRING_MAX];
    char *card_numbers[MB_CARDS_MAX]; /* borrowed from cards: out is encoded, never cleared */
    for (size_t i = 0; i < ncards; i++)
        card_numbers[i] = cards[i];
    mb_member_rep_t out = {
        .id = member,
        .status = status,
        .available = acct.available,
        .pending = acct.credits_pending,
        .tier = MB_TIER_BRONZE,
        .expiring = expiring,
        .card_numbers = card_numbers,
        .ncard_numbers = ncards,
    };
    s_expiring(&lots, &out);
    lc_codec_clear(&ld_lots_rep_desc, &lots);
    return mb_encode(&mb_member_rep_desc, &out, reply, msg, msglen);
}

const char *mb_h_resolve_card(mb_call_t *c, json_t **reply, char *msg, size_t msglen)
{
    mb_resolve_card_req_t in;
    const char *code = mb_body_decode(c, &mb_resolve_card_req_desc, &in, msg, msglen);
    if (code)
        return code;
    mb_resolve_card_rep_t out = {0};
    int rc = mb_card_valid(in.card_number)
                 ? mb_store_card_owner(c->srv->db, in.card_number, &out.member_id, &out.status)
                 : LC_ERR_NOT_FOUND;
    lc_codec_clear(&mb_resolve_card_req_desc, &in);
    if (rc == LC_ERR_NOT_FOUND) {
        snprintf(msg, msglen, "no such card");
        return LC_E_NOT_FOUND;
    }
    if (rc != LC_OK)
        return mb_fail(c, rc, "looking up the card", msg, msglen);
    return mb_encode(&mb_resolve_card_rep_desc, &out, reply, msg, msglen);
}
