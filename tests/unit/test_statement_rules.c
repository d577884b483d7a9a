/*
 * test_statement_rules.c: the pure statement rules (services/settlement/
 * st_statement_rules.c): which journal entry is which line for which party, what a
 * line costs with its fee rounded half to even, and how lines add up.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "lc_donation_msg.h"
#include "lc_err.h"
#include "st_statement.h"

static const lc_id_t s_partner = {{1}}, s_other = {{2}}, s_supplier = {{3}}, s_earn = {{4}};

static st_stmt_account_t s_acct(int kind, const lc_id_t *owner)
{
    st_stmt_account_t a = {.known = true, .kind = kind};
    if (owner)
        a.owner = *owner;
    return a;
}

static const st_stmt_account_t s_member = {.known = true, .kind = LD_KIND_MEMBER};

static ld_entry_t s_transfer(uint32_t code, uint32_t flags, int64_t amount)
{
    ld_entry_t e;
    memset(&e, 0, sizeof e);
    e.type = LD_ENTRY_TRANSFER;
    e.code = code;
    e.flags = flags;
    e.amount = amount;
    e.user_data = s_earn;
    e.id = (lc_id_t){{9, 9}};
    return e;
}

/* The one line of e between dr and cr; fails unless there is exactly one. */
static st_stmt_class_t s_one(const ld_entry_t *e, st_stmt_account_t dr, st_stmt_account_t cr,
                             bool reverses_bonus)
{
    st_stmt_class_t k[2];
    assert_int_equal(st_stmt_classify(e, &dr, &cr, reverses_bonus, k), 1);
    return k[0];
}

static void statement_rules_earns_bonuses_and_returns(void **state)
{
    (void)state;
    st_stmt_account_t iss = s_acct(LD_KIND_PARTNER_ISSUANCE, &s_partner);
    ld_entry_t e = s_transfer(ST_CODE_EARN, 0, 100);
    /* the base transfer's id is derived from the earn: issued */
    lc_id_derive(&s_earn, "transfer", &e.id);
    st_stmt_class_t k = s_one(&e, iss, s_member, false);
    assert_int_equal(k.category, ST_LINE_ISSUED);
    assert_int_equal(k.party, ST_PARTY_PARTNER);
    assert_true(lc_id_eq(&k.party_id, &s_partner));
    assert_int_equal(k.side, ST_SIDE_DEBIT);
    /* any other id of the earn is a bonus the partner funds */
    lc_id_derive(&s_earn, "bonus/0", &e.id);
    assert_int_equal(s_one(&e, iss, s_member, false).category, ST_LINE_BONUS_FUNDED);
    /* tier bonus from the promotion account: the coalition's */
    e = s_transfer(ST_CODE_TIER_BONUS, 0, 5);
    k = s_one(&e, s_acct(LD_KIND_COALITION_PROMOTION, NULL), s_member, false);
    assert_int_equal(k.party, ST_PARTY_COALITION);
    assert_true(lc_id_is_zero(&k.party_id));
    assert_int_equal(k.category, ST_LINE_BONUS_FUNDED);
    /* a supplier's bonus and its reversal */
    e = s_transfer(ST_CODE_EARN, 0, 5);
    k = s_one(&e, s_acct(LD_KIND_SUPPLIER_FUNDING, &s_supplier), s_member, false);
    assert_int_equal(k.party, ST_PARTY_SUPPLIER);
    assert_int_equal(k.category, ST_LINE_BONUS_FUNDED);
    e = s_transfer(ST_CODE_RETURN, 0, 5);
    k = s_one(&e, s_member, s_acct(LD_KIND_SUPPLIER_FUNDING, &s_supplier), false);
    assert_int_equal(k.category, ST_LINE_BONUS_REVERSED);
    assert_int_equal(k.side, ST_SIDE_CREDIT);
    /* a return to a partner's issuance: of the base, or of a bonus it funded */
    assert_int_equal(s_one(&e, s_member, iss, false).category, ST_LINE_REVERSED);
    assert_int_equal(s_one(&e, s_member, iss, true).category, ST_LINE_BONUS_REVERSED);
    /* a matured pending earn, a grant, a donation match: issued by the partner */
    e = s_transfer(ST_CODE_EARN_MATURE, LD_TF_POST_PENDING, 5);
    assert_int_equal(s_one(&e, iss, s_member, false).category, ST_LINE_ISSUED);
    e = s_transfer(ST_CODE_GRANT, 0, 5);
    assert_int_equal(s_one(&e, iss, s_member, false).category, ST_LINE_ISSUED);
    e = s_transfer(DN_CODE_MATCH, 0, 5);
    assert_int_equal(
        s_one(&e, iss, s_acct(LD_KIND_CHARITY, &s_other), false).category, ST_LINE_MATCH);
}

static void statement_rules_holds_are_billed_when_posted(void **state)
{
    (void)state;
    st_stmt_account_t iss = s_acct(LD_KIND_PARTNER_ISSUANCE, &s_partner);
    st_stmt_account_t red = s_acct(LD_KIND_PARTNER_REDEMPTION, &s_partner);
    st_stmt_class_t k[2];
    /* a pending earn, its void (a return), a redemption's hold, its void or timeout */
    ld_entry_t e = s_transfer(ST_CODE_EARN, LD_TF_PENDING, 100);
    assert_int_equal(st_stmt_classify(&e, &iss, &s_member, false, k), 0);
    e = s_transfer(ST_CODE_RETURN, LD_TF_VOID_PENDING, 100);
    assert_int_equal(st_stmt_classify(&e, &iss, &s_member, false, k), 0);
    e = s_transfer(ST_CODE_REDEEM, LD_TF_PENDING, 100);
    assert_int_equal(st_stmt_classify(&e, &s_member, &red, false, k), 0);
    e = s_transfer(ST_CODE_REDEEM, LD_TF_VOID_PENDING | LD_TF_TIMEOUT, 100);
    assert_int_equal(st_stmt_classify(&e, &s_member, &red, false, k), 0);
    /* the capture and a refund */
    e = s_transfer(ST_CODE_REDEEM, LD_TF_POST_PENDING, 80);
    assert_int_equal(s_one(&e, s_member, red, false).category, ST_LINE_REDEEMED);
    e = s_transfer(ST_CODE_REFUND, 0, 10);
    assert_int_equal(s_one(&e, red, s_member, false).category, ST_LINE_REFUNDED);
    /* an account entry is no line */
    e.type = LD_ENTRY_ACCOUNT;
    assert_int_equal(st_stmt_classify(&e, &red, &s_member, false, k), 0);
}

static void statement_rules_parties_and_unknown_codes(void **state)
{
    (void)state;
    st_stmt_class_t k[2];
    /* a prepayment: two accounts of one partner, one line (prepaid) */
    ld_entry_t e = s_transfer(ST_CODE_PREPAY, 0, 1000);
    st_stmt_account_t pre = s_acct(LD_KIND_PARTNER_PREPAYMENT, &s_partner);
    st_stmt_account_t iss = s_acct(LD_KIND_PARTNER_ISSUANCE, &s_partner);
    assert_int_equal(st_stmt_classify(&e, &pre, &iss, false, k), 1);
    assert_int_equal(k[0].category, ST_LINE_PREPAID);
    assert_int_equal(k[0].side, ST_SIDE_CREDIT);
    /* an unknown code between two partners: a line (other) for each */
    e = s_transfer(77, 0, 5);
    st_stmt_account_t iss2 = s_acct(LD_KIND_PARTNER_ISSUANCE, &s_other);
    assert_int_equal(st_stmt_classify(&e, &iss, &iss2, false, k), 2);
    assert_int_equal(k[0].category, ST_LINE_OTHER);
    assert_int_equal(k[1].category, ST_LINE_OTHER);
    assert_true(lc_id_eq(&k[1].party_id, &s_other));
    /* members and charities are nobody's statement; unknown accounts neither */
    st_stmt_account_t unknown = {0};
    assert_int_equal(st_stmt_classify(&e, &s_member, &unknown, false, k), 0);
    assert_int_equal(st_stmt_classify(&e, &s_member, &(st_stmt_account_t){.known = true,
                                                                           .kind = LD_KIND_CHARITY},
                                      false, k),
                     0);
    /* expiry to breakage, adjustments against the operator account: the coalition */
    e = s_transfer(ST_CODE_EXPIRY, LD_TF_EXPIRY, 5);
    st_stmt_class_t one = s_one(&e, s_member, s_acct(LD_KIND_COALITION_BREAKAGE, NULL), false);
    assert_int_equal(one.category, ST_LINE_EXPIRED);
    e = s_transfer(ST_CODE_ADJUSTMENT, 0, 5);
    one = s_one(&e, s_acct(LD_KIND_OPERATOR, NULL), s_member, false);
    assert_int_equal(one.category, ST_LINE_ADJUSTMENT);
    assert_int_equal(one.side, ST_SIDE_DEBIT);
    /* an adjustment account of a kind statements do not know is still the coalition's */
    one = s_one(&e, s_member, s_acct(42, NULL), false);
    assert_int_equal(one.party, ST_PARTY_COALITION);
    assert_int_equal(one.category, ST_LINE_ADJUSTMENT);
}

static void statement_rules_half_to_even(void **state)
{
    (void)state;
    int64_t q = 0;
    const struct {
        int64_t n, d, want;
    } c[] = {{5, 10, 0},   {15, 10, 2},  {25, 10, 2},  {35, 10, 4},  {14, 10, 1},
             {16, 10, 2},  {-5, 10, 0},  {-15, 10, -2}, {-25, 10, -2}, {-16, 10, -2},
             {0, 7, 0},    {31375, 10, 3138}, {38905, 10, 3890}};
    for (size_t i = 0; i < sizeof c / sizeof c[0]; i++) {
        assert_int_equal(st_stmt_div_half_even(c[i].n, c[i].d, &q), LC_OK);
        if (q != c[i].want)
            fail_msg("%lld / %lld = %lld, want %lld", (long long)c[i].n, (long long)c[i].d,
                     (long long)q, (long long)c[i].want);
    }
    assert_int_equal(st_stmt_div_half_even((__int128)INT64_MAX * 4, 2, &q), LC_ERR_OVERFLOW);
    assert_int_equal(st_stmt_div_half_even(1, 0, &q), LC_ERR_INVALID);
}

static void statement_rules_prices_and_fees(void **state)
{
    (void)state;
    st_stmt_tariff_t post = {.funding = ST_FUNDING_POSTPAID, .issue_price_micros = 10040,
                             .redeem_credit_micros = 9000, .fee_bps = 125};
    st_stmt_tariff_t pre = post;
    pre.funding = ST_FUNDING_PREPAID;
    int64_t amount = 0, fee = 0;
    st_stmt_class_t k = {.party = ST_PARTY_PARTNER, .side = ST_SIDE_DEBIT,
                         .category = ST_LINE_ISSUED};
    /* 31 x 10040 = 311 240; fee 3 890.5 -> 3 890 */
    assert_int_equal(st_stmt_price(&k, 31, &post, 10000, &amount, &fee), LC_OK);
    assert_int_equal(amount, -311240);
    assert_int_equal(fee, 3890);
    /* prepaid: issuing costs nothing more; buying does */
    assert_int_equal(st_stmt_price(&k, 31, &pre, 10000, &amount, &fee), LC_OK);
    assert_int_equal(amount, 0);
    assert_int_equal(fee, 0);
    k.category = ST_LINE_PREPAID;
    assert_int_equal(st_stmt_price(&k, 1000, &pre, 10000, &amount, &fee), LC_OK);
    assert_int_equal(amount, -10040000);
    assert_int_equal(fee, 125500);
    /* a reversal gives the fee back: 25 x 10040 = 251 000, fee 3 137.5 -> 3 138 */
    k.category = ST_LINE_BONUS_REVERSED;
    assert_int_equal(st_stmt_price(&k, 25, &post, 10000, &amount, &fee), LC_OK);
    assert_int_equal(amount, 251000);
    assert_int_equal(fee, -3138);
    k.category = ST_LINE_REFUNDED;
    assert_int_equal(st_stmt_price(&k, 40, &post, 10000, &amount, &fee), LC_OK);
    assert_int_equal(amount, -360000);
    assert_int_equal(fee, -4500);
    /* suppliers and the coalition at the point value, no fee */
    k = (st_stmt_class_t){.party = ST_PARTY_SUPPLIER, .category = ST_LINE_BONUS_FUNDED};
    assert_int_equal(st_stmt_price(&k, 100, NULL, 10000, &amount, &fee), LC_OK);
    assert_int_equal(amount, -1000000);
    assert_int_equal(fee, 0);
    k = (st_stmt_class_t){.party = ST_PARTY_COALITION, .category = ST_LINE_ADJUSTMENT,
                          .side = ST_SIDE_CREDIT};
    assert_int_equal(st_stmt_price(&k, 7, NULL, 10000, &amount, &fee), LC_OK);
    assert_int_equal(amount, 70000);
    k.category = ST_LINE_EXPIRED;
    assert_int_equal(st_stmt_price(&k, 7, NULL, 10000, &amount, &fee), LC_OK);
    assert_int_equal(amount, 0);
    /* overflow is refused, not wrapped */
    k = (st_stmt_class_t){.party = ST_PARTY_PARTNER, .category = ST_LINE_ISSUED};
    post.issue_price_micros = 1000000000;
    assert_int_equal(st_stmt_price(&k, INT64_C(9007199254740991), &post, 10000, &amount, &fee),
                     LC_ERR_OVERFLOW);
}

static void statement_rules_lines_add_up(void **state)
{
    (void)state;
    st_statement_t s;
    memset(&s, 0, sizeof s);
    st_stmt_add(&s, ST_LINE_ISSUED, ST_SIDE_DEBIT, 431, -4327240, 54190, 3);
    st_stmt_add(&s, ST_LINE_REVERSED, ST_SIDE_CREDIT, 50, 502000, -6275, 1);
    st_stmt_add(&s, ST_LINE_REDEEMED, ST_SIDE_CREDIT, 200, 1800000, 22500, 1);
    st_stmt_add(&s, ST_LINE_REFUNDED, ST_SIDE_DEBIT, 40, -360000, -4500, 1);
    st_stmt_add(&s, ST_LINE_ADJUSTMENT, ST_SIDE_CREDIT, 9, 0, 0, 1);
    st_stmt_add(&s, ST_LINE_OTHER, ST_SIDE_DEBIT, 11, 0, 0, 1);
    assert_int_equal(s.issued_points, 431);
    assert_int_equal(s.reversed_points, 50);
    assert_int_equal(s.adjustment_points, -9);
    assert_int_equal(s.other_points, 11);
    assert_int_equal(s.issue_charge_micros, 4327240 - 502000);
    assert_int_equal(s.redeem_credit_micros, 1440000);
    assert_int_equal(s.fee_micros, 54190 - 6275 + 22500 - 4500);
    assert_int_equal(s.net_micros, s.redeem_credit_micros - s.issue_charge_micros - s.fee_micros);
    assert_int_equal(s.line_count, 8);
    assert_int_equal(st_stmt_budget_sign(ST_LINE_PREPAID), 1);
    assert_int_equal(st_stmt_budget_sign(ST_LINE_ISSUED), -1);
    assert_int_equal(st_stmt_budget_sign(ST_LINE_REDEEMED), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(statement_rules_earns_bonuses_and_returns),
        cmocka_unit_test(statement_rules_holds_are_billed_when_posted),
        cmocka_unit_test(statement_rules_parties_and_unknown_codes),
        cmocka_unit_test(statement_rules_half_to_even),
        cmocka_unit_test(statement_rules_prices_and_fees),
        cmocka_unit_test(statement_rules_lines_add_up),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
