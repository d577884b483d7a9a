/*
 * st_statement_rules.c: which journal entry is which statement line, what a line
 * costs, how lines add up (st_statement.h). Pure: no I/O, unit-tested
 * (tests/unit/test_statement_rules.c).
 */
#include "st_statement.h"
#include "lc_donation_msg.h"
#include "lc_err.h"

#include <string.h>

#define BPS 10000

/* The party an account belongs to: 0 for members, charities and anything else. */
static int s_party_of(const st_stmt_account_t *a, uint32_t code, lc_id_t *party_id)
{
    memset(party_id, 0, sizeof *party_id);
    if (!a->known)
        return 0;
    switch (a->kind) {
    case LD_KIND_PARTNER_ISSUANCE:
    case LD_KIND_PARTNER_REDEMPTION:
    case LD_KIND_PARTNER_PREPAYMENT:
        *party_id = a->owner;
        return ST_PARTY_PARTNER;
    case LD_KIND_SUPPLIER_FUNDING:
        *party_id = a->owner;
        return ST_PARTY_SUPPLIER;
    case LD_KIND_COALITION_PROMOTION:
    case LD_KIND_COALITION_BREAKAGE:
    case LD_KIND_OPERATOR:
        return ST_PARTY_COALITION;
    case LD_KIND_MEMBER:
    case LD_KIND_CHARITY:
    case LD_KIND_CHARITY_POOL:
    case LD_KIND_PAYOUT_CLEARING:
        return 0;
    default:
        /* An account kind statements do not know: an adjustment's counterpart is the
         * coalition's whatever its kind, anything else is nobody's. */
        return code == ST_CODE_ADJUSTMENT ? ST_PARTY_COALITION : 0;
    }
}

/* True when e is an earn's base transfer (id derived from the earn, st_earn.c), not
 * one of its bonuses (st_coupon.c: "bonus/<n>"). */
static bool s_is_base_earn(const ld_entry_t *e)
{
    lc_id_t base;
    lc_id_derive(&e->user_data, "transfer", &base);
    return lc_id_eq(&base, &e->id);
}

/* The category of e on account a (side debit or credit). 0: no line (the other
 * side carries it). */
static int s_category(const ld_entry_t *e, const st_stmt_account_t *a, int side,
                      bool reverses_bonus)
{
    bool debit = side == ST_SIDE_DEBIT;
    uint32_t code = e->code;
    if (code == ST_CODE_ADJUSTMENT && a->kind != LD_KIND_PARTNER_ISSUANCE &&
        a->kind != LD_KIND_PARTNER_REDEMPTION && a->kind != LD_KIND_PARTNER_PREPAYMENT &&
        a->kind != LD_KIND_SUPPLIER_FUNDING)
        return ST_LINE_ADJUSTMENT;
    switch (a->kind) {
    case LD_KIND_PARTNER_ISSUANCE:
        if (debit && code == ST_CODE_EARN)
            return s_is_base_earn(e) ? ST_LINE_ISSUED : ST_LINE_BONUS_FUNDED;
        if (debit && (code == ST_CODE_EARN_MATURE || code == ST_CODE_GRANT))
            return ST_LINE_ISSUED;
        if (debit && code == ST_CODE_TIER_BONUS)
            return ST_LINE_BONUS_FUNDED;
        if (debit && code == DN_CODE_MATCH)
            return ST_LINE_MATCH;
        if (!debit && code == ST_CODE_RETURN)
            return reverses_bonus ? ST_LINE_BONUS_REVERSED : ST_LINE_REVERSED;
        if (!debit && code == ST_CODE_PREPAY)
            return ST_LINE_PREPAID;
        return ST_LINE_OTHER;
    case LD_KIND_PARTNER_REDEMPTION:
        if (!debit && code == ST_CODE_REDEEM)
            return ST_LINE_REDEEMED;
        if (debit && code == ST_CODE_REFUND)
            return ST_LINE_REFUNDED;
        return ST_LINE_OTHER;
    case LD_KIND_PARTNER_PREPAYMENT:
        if (debit && code == ST_CODE_PREPAY)
            return 0; /* the issuance account's line (prepaid) carries it */
        return ST_LINE_OTHER;
    case LD_KIND_SUPPLIER_FUNDING:
    case LD_KIND_COALITION_PROMOTION:
        if (debit && (code == ST_CODE_EARN || code == ST_CODE_EARN_MATURE ||
                      code == ST_CODE_TIER_BONUS))
            return ST_LINE_BONUS_FUNDED;
        if (!debit && code == ST_CODE_RETURN)
            return ST_LINE_BONUS_REVERSED;
        return ST_LINE_OTHER;
    case LD_KIND_COALITION_BREAKAGE:
        if (!debit && ((e->flags & LD_TF_EXPIRY) || code == ST_CODE_EXPIRY))
            return ST_LINE_EXPIRED;
        return ST_LINE_OTHER;
    default:
        return ST_LINE_OTHER;
    }
}

int st_stmt_classify(const ld_entry_t *e, const st_stmt_account_t *dr,
                     const st_stmt_account_t *cr, bool reverses_bonus, st_stmt_class_t out[2])
{
    if (e->type != LD_ENTRY_TRANSFER)
        return 0;
    /* Holds are billed when posted, never when made or voided (st_statement.h). */
    if (e->flags & (LD_TF_PENDING | LD_TF_VOID_PENDING))
        return 0;
    int n = 0;
    const st_stmt_account_t *acct[2] = {dr, cr};
    for (int i = 0; i < 2; i++) {
        st_stmt_class_t k;
        memset(&k, 0, sizeof k);
        k.side = i == 0 ? ST_SIDE_DEBIT : ST_SIDE_CREDIT;
        k.party = s_party_of(acct[i], e->code, &k.party_id);
        if (!k.party)
            continue;
        k.category = s_category(e, acct[i], k.side, reverses_bonus);
        if (!k.category)
            continue;
        /* Both sides one party (a prepayment moves points between two accounts of one
         * partner): one line is enough, and the key (seq, party) allows one. */
        if (n == 1 && out[0].party == k.party && lc_id_eq(&out[0].party_id, &k.party_id))
            continue;
        out[n++] = k;
    }
    return n;
}

int st_stmt_div_half_even(__int128 n, int64_t d, int64_t *out)
{
    if (d <= 0)
        return LC_ERR_INVALID;
    bool neg = n < 0;
    __int128 a = neg ? -n : n;
    __int128 q = a / d, r = a % d;
    __int128 twice = 2 * r;
    if (twice > d || (twice == d && (q & 1)))
        q++;
    if (neg)
        q = -q;
    if (q > INT64_MAX || q < INT64_MIN)
        return LC_ERR_OVERFLOW;
    *out = (int64_t)q;
    return LC_OK;
}

/* points x price with the sign, checked. */
static int s_money(int64_t points, int64_t price, int sign, int64_t *out)
{
    __int128 v = (__int128)points * price * sign;
    if (v > INT64_MAX || v < -(__int128)INT64_MAX)
        return LC_ERR_OVERFLOW;
    *out = (int64_t)v;
    return LC_OK;
}

int st_stmt_price(const st_stmt_class_t *k, int64_t points, const st_stmt_tariff_t *t,
                  int64_t point_value_micros, int64_t *amount, int64_t *fee)
{
    *amount = 0;
    *fee = 0;
    if (k->party != ST_PARTY_PARTNER) {
        int sign = 0;
        if (k->category == ST_LINE_BONUS_FUNDED)
            sign = -1;
        else if (k->category == ST_LINE_BONUS_REVERSED)
            sign = 1;
        else if (k->category == ST_LINE_ADJUSTMENT) /* debited: points went to a member */
            sign = k->side == ST_SIDE_DEBIT ? -1 : 1;
        return s_money(points, point_value_micros, sign, amount);
    }
    if (!t)
        return LC_OK;
    bool prepaid = t->funding == ST_FUNDING_PREPAID;
    int sign = 0;             /* of the amount */
    int fee_sign = 0;         /* +1 the party pays a fee, -1 a reversal gives it back */
    int64_t price = t->issue_price_micros;
    switch (k->category) {
    case ST_LINE_ISSUED:
    case ST_LINE_BONUS_FUNDED:
    case ST_LINE_MATCH:
        sign = prepaid ? 0 : -1; /* a prepaid partner paid when it bought the points */
        fee_sign = 1;
        break;
    case ST_LINE_REVERSED:
    case ST_LINE_BONUS_REVERSED:
        sign = prepaid ? 0 : 1;
        fee_sign = -1;
        break;
    case ST_LINE_PREPAID:
        sign = -1;
        fee_sign = 1;
        break;
    case ST_LINE_REDEEMED:
        price = t->redeem_credit_micros;
        sign = 1;
        fee_sign = 1;
        break;
    case ST_LINE_REFUNDED:
        price = t->redeem_credit_micros;
        sign = -1;
        fee_sign = -1;
        break;
    default:
        return LC_OK; /* expired, other: no money */
    }
    int rc = s_money(points, price, sign, amount);
    if (rc != LC_OK)
        return rc;
    int64_t gross = *amount < 0 ? -*amount : *amount;
    rc = st_stmt_div_half_even((__int128)gross * t->fee_bps, BPS, fee);
    if (rc == LC_OK)
        *fee *= fee_sign;
    return rc;
}

int st_stmt_budget_sign(int category)
{
    switch (category) {
    case ST_LINE_PREPAID:
    case ST_LINE_REVERSED:
    case ST_LINE_BONUS_REVERSED:
        return 1;
    case ST_LINE_ISSUED:
    case ST_LINE_BONUS_FUNDED:
    case ST_LINE_MATCH:
        return -1;
    default:
        return 0;
    }
}

void st_stmt_add(st_statement_t *s, int category, int side, int64_t points, int64_t amount,
                 int64_t fee, int64_t count)
{
    switch (category) {
    case ST_LINE_ISSUED:
        s->issued_points += points;
        break;
    case ST_LINE_REVERSED:
        s->reversed_points += points;
        break;
    case ST_LINE_REDEEMED:
        s->redeemed_points += points;
        break;
    case ST_LINE_REFUNDED:
        s->refunded_points += points;
        break;
    case ST_LINE_BONUS_FUNDED:
        s->bonus_points_funded += points;
        break;
    case ST_LINE_BONUS_REVERSED:
        s->bonus_points_reversed += points;
        break;
    case ST_LINE_MATCH:
        s->match_points += points;
        break;
    case ST_LINE_PREPAID:
        s->prepaid_points += points;
        break;
    case ST_LINE_EXPIRED:
        s->expired_points += points;
        break;
    case ST_LINE_ADJUSTMENT:
        s->adjustment_points += side == ST_SIDE_DEBIT ? points : -points;
        break;
    default:
        s->other_points += points;
        break;
    }
    if (category == ST_LINE_REDEEMED || category == ST_LINE_REFUNDED)
        s->redeem_credit_micros += amount;
    else
        s->issue_charge_micros -= amount;
    s->fee_micros += fee;
    s->net_micros = s->redeem_credit_micros - s->issue_charge_micros - s->fee_micros;
    s->line_count += count;
}
