/*
 * mb_h_read.c: members.card_balance, members.get, members.resolve_card and
 * members.export. Balances are never stored here: they come from the ledger on
 * every read. The export is the one place personal data is decrypted (for the
 * member app, role app); nothing it holds is logged.
 */
#include "lc_crypto.h"
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
    int status = 0, tier = 0;
    int rc = mb_card_valid(card) ? mb_store_card_owner_tier(c->srv->db, card, &member, &status,
                                                            &tier)
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
        .tier = (char *)lc_tiers_name(&c->srv->cfg.tiers, tier), /* borrowed */
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
    mb_member_row_t row;
    int rc = mb_store_member_row(c->srv->db, &member, &row);
    if (rc == LC_ERR_NOT_FOUND) {
        snprintf(msg, msglen, "no such member");
        return LC_API_NOT_FOUND;
    }
    mb_member_row_clear(&row); /* the sealed values are not shown here; tier stays */
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
        .status = row.status,
        .consents = row.consents,
        .erased = row.erased_at != 0,
        .erased_at = row.erased_at,
        .available = acct.available,
        .pending = acct.credits_pending,
        .tier = (char *)lc_tiers_name(&c->srv->cfg.tiers, row.tier), /* borrowed */
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

/* Opens the member's sealed fields into out: personal data and status reasons
 * (sealed[i] for out->status_events[i]). Without a key (erased) nothing opens and
 * nothing is shown; a value that does not open under the key is an internal
 * error (tampering or a bug), never shown half. */
static int s_open_all(mb_call_t *c, const lc_id_t *member, const mb_member_row_t *row,
                      const mb_sealed_t *sealed, mb_export_rep_t *out)
{
    uint8_t key[LC_AEAD_KEY_LEN];
    int rc = row->erased_at ? LC_ERR_NOT_FOUND : mb_store_member_key(c->srv->db, member, key);
    if (rc == LC_ERR_NOT_FOUND)
        return LC_OK;
    if (rc == LC_OK)
        rc = mb_open(key, member, MB_AAD_EMAIL, &row->email, &out->personal_data.email);
    if (rc == LC_OK)
        rc = mb_open(key, member, MB_AAD_NAME, &row->name, &out->personal_data.name);
    for (size_t i = 0; rc == LC_OK && i < out->nstatus_events; i++)
        if (sealed[i].data)
            rc = mb_open(key, member, MB_AAD_STATUS_REASON, &sealed[i],
                         &out->status_events[i].reason);
    lc_secure_zero(key, sizeof key);
    return rc;
}

const char *mb_h_export(mb_call_t *c, json_t **reply, char *msg, size_t msglen)
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
    lc_db_t *db = c->srv->db;
    mb_member_row_t row;
    int rc = mb_store_member_row(db, &member, &row);
    if (rc == LC_ERR_NOT_FOUND) {
        snprintf(msg, msglen, "no such member");
        return LC_API_NOT_FOUND;
    }
    if (rc != LC_OK)
        return mb_fail(c, rc, "reading the member", msg, msglen);
    mb_export_rep_t out = {
        .id = member,
        .status = row.status,
        .enrolled_by = row.enrolled_by,
        .created_at = row.created_at,
        .erased = row.erased_at != 0,
        .erased_at = row.erased_at,
        .consents = row.consents,
        .tier = strdup(lc_tiers_name(&c->srv->cfg.tiers, row.tier)),
    };
    mb_sealed_t *sealed = NULL;
    rc = out.tier ? mb_store_export_cards(db, &member, &out.cards, &out.ncards) : LC_ERR_NOMEM;
    if (rc == LC_OK)
        rc = mb_store_consent_events(db, &member, &out.consent_history, &out.nconsent_history);
    if (rc == LC_OK)
        rc = mb_store_status_events(db, &member, &out.status_events, &sealed, &out.nstatus_events);
    if (rc == LC_OK)
        rc = mb_store_export_codes(db, &member, &out.codes, &out.ncodes);
    if (rc == LC_OK)
        rc = mb_store_code_failures(db, &member, &out.code_failures, &out.ncode_failures);
    if (rc == LC_OK)
        rc = s_open_all(c, &member, &row, sealed, &out);
    for (size_t i = 0; sealed && i < out.nstatus_events; i++)
        mb_sealed_clear(&sealed[i]);
    free(sealed);
    mb_member_row_clear(&row);
    if (rc == LC_OK) {
        ld_account_view_t acct;
        if (!(code = s_account(c, &member, &acct, msg, msglen))) {
            out.balance = (mb_export_balance_t){
                .available = acct.available,
                .pending = acct.credits_pending,
                .held = acct.debits_pending,
                .balance = acct.balance,
                .debt = acct.debt,
            };
            code = mb_encode(&mb_export_rep_desc, &out, reply, msg, msglen);
        }
    } else {
        code = mb_fail(c, rc, "exporting the member", msg, msglen);
    }
    /* The reply holds the plaintext too (the caller sends it and frees it). */
    if (out.personal_data.email)
        lc_secure_zero(out.personal_data.email, strlen(out.personal_data.email));
    if (out.personal_data.name)
        lc_secure_zero(out.personal_data.name, strlen(out.personal_data.name));
    lc_codec_clear(&mb_export_rep_desc, &out);
    return code;
}
