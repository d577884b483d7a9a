/*
 * test_settlement_msg.c: the settlement protocol's tables (libcommon/
 * lc_settlement_msg.c) against their published catalogue, proto/settlement.json
 * (built by tests/lib/catalogue.c; on a mismatch the expected JSON is printed to
 * stderr), every type and field documented, string lists (LC_FT_STRS) and the
 * tolerant reader for members' replies.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "catalogue.h"
#include "lc_api.h"
#include "lc_err.h"
#include "lc_settlement_msg.h"

static const tc_enum_t s_enums[] = {
    {st_funding_names, "funding"},
    {st_earn_status_names, "earn_status"},
    {st_redemption_status_names, "redemption_status"},
    {st_grant_reason_names, "grant_reason"},
    {st_coupon_reason_names, "coupon_reason"},
    {st_coupon_kind_names, "coupon_kind"},
    {st_funder_names, "funder"},
    {st_member_status_names, "member_status"},
    {st_adjustment_status_names, "adjustment_status"},
    {st_party_names, "party"},
    {st_line_category_names, "line_category"},
    {st_line_side_names, "line_side"},
    {st_statement_status_names, "statement_status"},
    {st_diff_kind_names, "difference_kind"},
    {ld_kind_names, "kind"},             /* the ledger's, in audit replies */
    {ld_entry_type_names, "entry_type"}, /* the ledger's journal entries (audit journal) */
};
#define N_ENUMS (sizeof s_enums / sizeof s_enums[0])

/* The rows of one msgtype table, describing their messages into c. */
static json_t *s_types(tc_catalogue_t *c, const st_msgtype_t *types)
{
    json_t *a = json_array();
    for (const st_msgtype_t *t = types; t->type; t++)
        json_array_append_new(a, tc_catalogue_type(c, t->type, t->doc, t->request, t->reply));
    return a;
}

/* proto/settlement.json as the tables define it: the common format plus "calls",
 * the members types settlement relies on. */
static json_t *s_catalogue(void)
{
    tc_catalogue_t c;
    tc_catalogue_init(&c, s_enums, N_ENUMS);
    json_t *types = s_types(&c, st_msgtypes);
    json_t *calls = s_types(&c, st_members_calls);
    return tc_catalogue_json(&c, types, calls);
}

static void settlement_catalogue_matches_codec_tables(void **state)
{
    (void)state;
    json_t *want = s_catalogue();
    tc_catalogue_check_file(want, "settlement.json", "libcommon/lc_settlement_msg.c");
    json_decref(want);
}

static void settlement_catalogue_documents_every_type_and_field(void **state)
{
    (void)state;
    json_t *cat = s_catalogue();
    tc_catalogue_check_documented(cat);
    json_decref(cat);
}

static void settlement_msgtypes_are_found_by_name(void **state)
{
    (void)state;
    for (const st_msgtype_t *t = st_msgtypes; t->type; t++)
        assert_ptr_equal(st_msgtype_find(t->type), t);
    assert_null(st_msgtype_find("settlement.nothing"));
}

static void settlement_string_lists_decode_from_plain_strings(void **state)
{
    (void)state;
    json_t *in = json_loads("{\"name\":\"Shop\",\"earn_rate\":{\"points\":1,\"per_amount\":200},"
                            "\"tariff\":{\"issue_price_micros\":10000,\"redeem_credit_micros\":"
                            "9000,\"fee_bps\":150},\"funding\":\"prepaid\","
                            "\"excluded_categories\":[\"tobacco\",\"gift_cards\"]}",
                            0, NULL);
    assert_non_null(in);
    st_create_partner_req_t req;
    lc_codec_err_t err;
    assert_int_equal(lc_codec_decode(&st_create_partner_req_desc, in, &req, &err), LC_OK);
    assert_int_equal(req.nexcluded_categories, 2);
    assert_string_equal(req.excluded_categories[0], "tobacco");
    assert_string_equal(req.excluded_categories[1], "gift_cards");
    assert_int_equal(req.funding, ST_FUNDING_PREPAID);
    assert_int_equal(req.earn_rate.per_amount, 200);

    st_partner_t p = {.name = req.name, .earn_rate = req.earn_rate, .tariff = req.tariff,
                      .funding = req.funding, .excluded_categories = req.excluded_categories,
                      .nexcluded_categories = req.nexcluded_categories, .created_at = 1};
    json_t *out = lc_codec_encode(&st_partner_desc, &p);
    assert_non_null(out);
    json_t *cats = json_object_get(out, "excluded_categories");
    assert_int_equal(json_array_size(cats), 2);
    assert_string_equal(json_string_value(json_array_get(cats, 1)), "gift_cards");
    assert_string_equal(json_string_value(json_object_get(out, "funding")), "prepaid");
    json_decref(out);
    lc_codec_clear(&st_create_partner_req_desc, &req);
    json_decref(in);
}

static void settlement_string_lists_refuse_other_elements(void **state)
{
    (void)state;
    json_t *in = json_loads("{\"card_number\":\"1\",\"receipt_id\":\"r\",\"amount\":{\"amount\":1,"
                            "\"currency\":\"EUR\"},\"coupon_codes\":[\"A\",{\"value\":\"B\"}]}",
                            0, NULL);
    st_earn_req_t req;
    lc_codec_err_t err;
    assert_int_equal(lc_codec_decode(&st_earn_req_desc, in, &req, &err), LC_ERR_INVALID);
    assert_string_equal(err.code, "invalid_field");
    assert_string_equal(err.path, "coupon_codes");
    assert_null(req.card_number); /* nothing half-decoded */
    json_decref(in);
}

static void settlement_earn_refuses_points_field(void **state)
{
    (void)state;
    json_t *in = json_loads("{\"card_number\":\"1\",\"receipt_id\":\"r\",\"amount\":{\"amount\":1,"
                            "\"currency\":\"EUR\"},\"points\":1000}",
                            0, NULL);
    st_earn_req_t req;
    lc_codec_err_t err;
    assert_int_equal(lc_codec_decode(&st_earn_req_desc, in, &req, &err), LC_ERR_INVALID);
    assert_string_equal(err.code, "unknown_field");
    assert_string_equal(err.path, "points");
    json_decref(in);
}

static void settlement_tolerant_reader_ignores_new_fields(void **state)
{
    (void)state;
    json_t *in = json_loads("{\"member_id\":\"0190f0a0-0000-7000-8000-000000000001\","
                            "\"status\":\"frozen\",\"tier\":\"gold\"}",
                            0, NULL);
    st_mb_resolve_card_rep_t rep;
    lc_codec_err_t err;
    assert_int_equal(lc_codec_decode(&st_mb_resolve_card_rep_desc, in, &rep, &err), LC_ERR_INVALID);
    assert_int_equal(st_msg_decode_known(&st_mb_resolve_card_rep_desc, in, &rep, &err), LC_OK);
    assert_int_equal(rep.status, ST_MEMBER_FROZEN);
    json_decref(in);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(settlement_catalogue_matches_codec_tables),
        cmocka_unit_test(settlement_catalogue_documents_every_type_and_field),
        cmocka_unit_test(settlement_msgtypes_are_found_by_name),
        cmocka_unit_test(settlement_string_lists_decode_from_plain_strings),
        cmocka_unit_test(settlement_string_lists_refuse_other_elements),
        cmocka_unit_test(settlement_earn_refuses_points_field),
        cmocka_unit_test(settlement_tolerant_reader_ignores_new_fields),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
