/*
 * test_donation_msg.c: the donation protocol's tables (libcommon/lc_donation_msg.c)
 * against their published catalogue, proto/donation.json (built by
 * tests/lib/catalogue.c; on a mismatch the expected JSON is printed to stderr), every
 * type and field documented, and the well-known accounts distinct and stable.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "catalogue.h"
#include "lc_donation_msg.h"

static const tc_enum_t s_enums[] = {
    {dn_campaign_status_names, "campaign_status"},
    {dn_pledge_status_names, "pledge_status"},
    {dn_run_status_names, "run_status"},
    {dn_period_status_names, "period_status"},
};

static json_t *s_catalogue(void)
{
    tc_catalogue_t c;
    tc_catalogue_init(&c, s_enums, sizeof s_enums / sizeof s_enums[0]);
    json_t *types = json_array();
    for (const dn_msgtype_t *t = dn_msgtypes; t->type; t++)
        json_array_append_new(types, tc_catalogue_type(&c, t->type, t->doc, t->request, t->reply));
    return tc_catalogue_json(&c, types, NULL);
}

static void donation_catalogue_matches_codec_tables(void **state)
{
    (void)state;
    json_t *want = s_catalogue();
    tc_catalogue_check_file(want, "donation.json", "libcommon/lc_donation_msg.c");
    json_decref(want);
}

static void donation_catalogue_documents_every_type_and_field(void **state)
{
    (void)state;
    json_t *cat = s_catalogue();
    tc_catalogue_check_documented(cat);
    json_decref(cat);
}

static void donation_msgtypes_are_found_by_name(void **state)
{
    (void)state;
    for (const dn_msgtype_t *t = dn_msgtypes; t->type; t++)
        assert_ptr_equal(dn_msgtype_find(t->type), t);
    assert_null(dn_msgtype_find("donation.nothing"));
}

static void donation_accounts_are_distinct_and_stable(void **state)
{
    (void)state;
    lc_id_t pool, pool2, clearing, charity, c1;
    dn_pool_account(&pool);
    dn_pool_account(&pool2);
    dn_clearing_account(&clearing);
    memset(&c1, 0x11, sizeof c1);
    dn_charity_account(&c1, &charity);
    assert_true(lc_id_eq(&pool, &pool2));
    assert_false(lc_id_eq(&pool, &clearing));
    assert_false(lc_id_eq(&pool, &charity));
    assert_false(lc_id_eq(&charity, &c1));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(donation_catalogue_matches_codec_tables),
        cmocka_unit_test(donation_catalogue_documents_every_type_and_field),
        cmocka_unit_test(donation_msgtypes_are_found_by_name),
        cmocka_unit_test(donation_accounts_are_distinct_and_stable),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
