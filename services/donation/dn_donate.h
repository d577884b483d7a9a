/*
 * dn_donate.h: one donation, from checks to the signed receipt, shared by the API
 * (dn_h_donate) and the monthly pledge run (dn_pledges.c).
 */
#ifndef DN_DONATE_H
#define DN_DONATE_H

#include "dn_server.h"
#include "dn_store.h"

/* What to donate. */
typedef struct dn_gift {
    lc_id_t id;          /* the donation id: derived, so a retry finds the same */
    lc_id_t member_id;
    lc_id_t charity_id;  /* exactly one of charity_id, campaign_id, pool */
    lc_id_t campaign_id;
    bool pool;
    int64_t points;      /* at least the minimum (checked by the caller) */
    int source;          /* dn_source_t */
    lc_id_t pledge_id;   /* source pledge */
} dn_gift_t;

/* Donates g: the target (unknown: not_found; unverified charity, campaign not open:
 * conflict), the member (unknown: not_found; frozen: member_frozen; short:
 * insufficient_points), the match within the cap, the reservation, the ledger chain,
 * the receipt. Returns NULL with *row the posted donation, or an API error code with
 * c->msg. A donation already recorded under g->id answers from its row (posted:
 * the same donation; failed: the same refusal; pending: finished now). */
const char *dn_donate(dn_call_t *c, const dn_gift_t *g, dn_donation_row_t *row);

/* The API answer of posted donation d (with its stored receipt). Clear out with
 * dn_donation_desc. */
const char *dn_donation_view(dn_call_t *c, const dn_donation_row_t *d, dn_donation_t *out);

#endif
