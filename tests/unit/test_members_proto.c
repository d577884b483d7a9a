/*
 * test_members_proto.c: the members service's protocol contract.
 *   - proto/members.json equals the catalogue built from mb_msgtypes and the
 *     descriptors of libcommon/lc_members_msg.c (the format of proto/ledger.json,
 *     proto/README.md section 10, plus "api": whether the body is an API call;
 *     built by tests/lib/catalogue.c); on a mismatch the expected JSON is
 *     printed to stderr;
 *   - every type and field is documented;
 *   - request bodies decode strictly (unknown, mistyped and missing fields), and
 *     replies survive an encode/decode round trip.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "catalogue.h"
#include "lc_err.h"
#include "lc_members_msg.h"

#define CHECK(cond, ...)                                                                           \
    do {                                                                                           \
        if (!(cond))                                                                               \
            fail_msg(__VA_ARGS__);                                                                 \
    } while (0)

static const tc_enum_t s_enums[] = {
    {mb_status_names, "status"},
    {mb_consent_source_names, "consent_source"},
};
#define N_ENUMS (sizeof s_enums / sizeof s_enums[0])

/* proto/members.json as the tables define it: the common format plus "api",
 * whether the body is an API call. */
static json_t *catalogue_from_tables(void)
{
    tc_catalogue_t c;
    tc_catalogue_init(&c, s_enums, N_ENUMS);
    json_t *types = json_array();
    for (const mb_msgtype_t *t = mb_msgtypes; t->type; t++) {
        json_t *row = tc_catalogue_type(&c, t->type, t->doc, t->request, t->reply);
        json_object_set_new(row, "api", json_boolean(t->api));
        json_array_append_new(types, row);
    }
    return tc_catalogue_json(&c, types, NULL);
}

static void members_proto_catalogue_matches_tables(void **state)
{
    (void)state;
    json_t *want = catalogue_from_tables();
    tc_catalogue_check_file(want, "members.json", "libcommon/lc_members_msg.c");
    json_decref(want);
}

static void members_proto_documents_every_type_and_field(void **state)
{
    (void)state;
    json_t *cat = catalogue_from_tables();
    tc_catalogue_check_documented(cat);
    json_decref(cat);
}

static void members_proto_types_are_found(void **state)
{
    (void)state;
    const char *api[] = {
        MB_TYPE_ENROLL, MB_TYPE_ADD_CARD, MB_TYPE_CARD_BALANCE, MB_TYPE_GET,   MB_TYPE_ISSUE_CODE,
        MB_TYPE_FREEZE, MB_TYPE_UNFREEZE, MB_TYPE_SET_CONSENTS, MB_TYPE_ERASE, MB_TYPE_EXPORT};
    const char *internal[] = {MB_TYPE_PING, MB_TYPE_RESOLVE_CARD, MB_TYPE_CONSUME_CODE};
    for (size_t i = 0; i < sizeof api / sizeof api[0]; i++) {
        const mb_msgtype_t *t = mb_msgtype_find(api[i]);
        CHECK(t && t->api, "%s is not an API call type", api[i]);
    }
    for (size_t i = 0; i < sizeof internal / sizeof internal[0]; i++) {
        const mb_msgtype_t *t = mb_msgtype_find(internal[i]);
        CHECK(t && !t->api, "%s is not an internal type", internal[i]);
    }
    assert_null(mb_msgtype_find("members.nope"));
    assert_null(mb_msgtype_find("ledger.ping"));
}

/* Decodes text with desc; returns the error code or NULL, clearing the output. */
static const char *decode_code(const lc_msgdesc_t *desc, const char *text, char *path,
                               size_t pathlen)
{
    json_t *j = json_loads(text, 0, NULL);
    assert_non_null(j);
    char buf[512];
    assert_true(desc->size <= sizeof buf);
    lc_codec_err_t err;
    int rc = lc_codec_decode(desc, j, buf, &err);
    json_decref(j);
    if (rc == LC_OK) {
        lc_codec_clear(desc, buf);
        return NULL;
    }
    assert_int_equal(rc, LC_ERR_INVALID);
    snprintf(path, pathlen, "%s", err.path);
    return err.code;
}

static void members_proto_enroll_request_decodes_strictly(void **state)
{
    (void)state;
    char path[128];
    assert_null(decode_code(&mb_enroll_req_desc, "{}", path, sizeof path));
    assert_null(decode_code(&mb_enroll_req_desc,
                            "{\"card_number\":\"7001000000000012\",\"email\":\"a@b.c\","
                            "\"consents\":{\"marketing\":true,\"profiling\":false}}",
                            path, sizeof path));
    assert_string_equal(decode_code(&mb_enroll_req_desc, "{\"points\":5}", path, sizeof path),
                        "unknown_field");
    assert_string_equal(path, "points");
    assert_string_equal(
        decode_code(&mb_enroll_req_desc, "{\"consents\":{\"spam\":true}}", path, sizeof path),
        "unknown_field");
    assert_string_equal(path, "consents.spam");
    assert_string_equal(
        decode_code(&mb_enroll_req_desc, "{\"card_number\":7001}", path, sizeof path),
        "invalid_field");
    assert_string_equal(decode_code(&mb_consume_code_req_desc,
                                    "{\"member_id\":\"0190f0a0-0000-7000-8000-000000000001\","
                                    "\"code\":\"12345678\"}",
                                    path, sizeof path),
                        "missing_field");
    assert_string_equal(path, "use_id");
    assert_string_equal(decode_code(&mb_status_req_desc, "{}", path, sizeof path), "missing_field");
    assert_string_equal(decode_code(&mb_empty_desc, "{\"x\":1}", path, sizeof path),
                        "unknown_field");
}

static void members_proto_member_reply_round_trips(void **state)
{
    (void)state;
    mb_expiring_t exp[2] = {{.points = 40, .expires_at = INT64_C(1775001599000000)},
                            {.points = 5, .expires_at = INT64_C(1775001600000000)}};
    char *cards[2] = {"7001000000000012", "7001000000000020"};
    mb_member_rep_t in = {.status = MB_STATUS_FROZEN,
                          .available = -3,
                          .pending = 7,
                          .tier = "silver",
                          .expiring = exp,
                          .nexpiring = 2,
                          .card_numbers = cards,
                          .ncard_numbers = 2};
    in.id.b[15] = 9;
    json_t *j = lc_codec_encode(&mb_member_rep_desc, &in);
    assert_non_null(j);
    assert_string_equal(json_string_value(json_object_get(j, "status")), "frozen");
    assert_string_equal(json_string_value(json_object_get(j, "tier")), "silver");
    assert_string_equal(json_string_value(json_object_get(
                            json_array_get(json_object_get(j, "expiring"), 0), "expires_at")),
                        "2026-03-31T23:59:59Z");
    assert_string_equal(json_string_value(json_array_get(json_object_get(j, "card_numbers"), 0)),
                        "7001000000000012");
    mb_member_rep_t out;
    lc_codec_err_t err;
    assert_int_equal(lc_codec_decode(&mb_member_rep_desc, j, &out, &err), LC_OK);
    assert_true(lc_id_eq(&in.id, &out.id));
    assert_int_equal(out.available, -3);
    assert_int_equal(out.pending, 7);
    assert_int_equal(out.nexpiring, 2);
    assert_int_equal(out.expiring[1].points, 5);
    assert_int_equal(out.ncard_numbers, 2);
    assert_string_equal(out.card_numbers[1], "7001000000000020");
    lc_codec_clear(&mb_member_rep_desc, &out);
    json_decref(j);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(members_proto_catalogue_matches_tables),
        cmocka_unit_test(members_proto_documents_every_type_and_field),
        cmocka_unit_test(members_proto_types_are_found),
        cmocka_unit_test(members_proto_enroll_request_decodes_strictly),
        cmocka_unit_test(members_proto_member_reply_round_trips),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
