/*
 * test_settlement_msg.c: the settlement protocol's tables (libcommon/
 * lc_settlement_msg.c) against their published catalogue, proto/settlement.json,
 * string lists (LC_FT_STRS) and the tolerant reader for members' replies. On a catalogue mismatch the expected JSON is printed to stderr.
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

#include "lc_api.h"
#include "lc_err.h"
#include "lc_settlement_msg.h"

#define CHECK(cond, ...)                                                                           \
    do {                                                                                           \
        if (!(cond))                                                                               \
            fail_msg(__VA_ARGS__);                                                                 \
    } while (0)

static const struct {
    const lc_name_t *table;
    const char *name;
} s_enums[] = {
    {st_funding_names, "funding"},
    {st_earn_status_names, "earn_status"},
    {st_redemption_status_names, "redemption_status"},
    {st_grant_reason_names, "grant_reason"},
    {st_coupon_reason_names, "coupon_reason"},
    {st_member_status_names, "member_status"},
};
#define N_ENUMS (sizeof s_enums / sizeof s_enums[0])

static const char *s_ftype(lc_ftype_t t)
{
    static const char *const names[] = {"bool", "i64",  "u32",   "str", "id",    "time", "hash",
                                        "enum", "flags", "obj", "array", "ids", "strs"};
    return (size_t)t < sizeof names / sizeof names[0] ? names[t] : NULL;
}

static const char *s_enum_name(const lc_name_t *table)
{
    for (size_t i = 0; i < N_ENUMS; i++)
        if (s_enums[i].table == table)
            return s_enums[i].name;
    return NULL;
}

static json_t *s_field(const lc_field_t *f, const char *owner)
{
    const char *type = s_ftype(f->type);
    CHECK(type, "%s.%s: unknown type", owner, f->name);
    CHECK(f->doc && f->doc[0], "%s.%s: no doc", owner, f->name);
    json_t *o = json_object();
    json_object_set_new(o, "name", json_string(f->name));
    json_object_set_new(o, "type", json_string(type));
    json_object_set_new(o, "required", json_boolean(f->flags & LC_FF_REQUIRED));
    json_object_set_new(o, "always", json_boolean(f->flags & LC_FF_ALWAYS));
    if (f->type == LC_FT_I64 || f->type == LC_FT_U32 || f->type == LC_FT_ARRAY ||
        f->type == LC_FT_IDS || f->type == LC_FT_STRS)
        json_object_set_new(o, "min", json_integer(f->min));
    if (f->type == LC_FT_I64 || f->type == LC_FT_U32 || f->type == LC_FT_STR ||
        f->type == LC_FT_ARRAY || f->type == LC_FT_IDS || f->type == LC_FT_STRS)
        json_object_set_new(o, "max", json_integer(f->max));
    if (f->type == LC_FT_STRS)
        json_object_set_new(o, "elem_max", json_integer(f->elem_max));
    if (f->type == LC_FT_ENUM || f->type == LC_FT_FLAGS) {
        const char *en = s_enum_name(f->names);
        CHECK(en, "%s.%s: enum not in the catalogue", owner, f->name);
        json_object_set_new(o, "names", json_string(en));
    } else {
        json_object_set_new(o, "names", json_null());
    }
    json_object_set_new(o, "element", f->sub ? json_string(f->sub->name) : json_null());
    json_object_set_new(o, "doc", json_string(f->doc));
    return o;
}

static void s_desc(const lc_msgdesc_t *d, json_t *messages)
{
    json_t *have = json_object_get(messages, d->name);
    if (have)
        return;
    json_t *fields = json_array();
    for (size_t i = 0; i < d->nfields; i++)
        json_array_append_new(fields, s_field(&d->fields[i], d->name));
    json_object_set_new(messages, d->name, json_pack("{s:o}", "fields", fields));
    for (size_t i = 0; i < d->nfields; i++)
        if (d->fields[i].sub)
            s_desc(d->fields[i].sub, messages);
}

static json_t *s_types(const st_msgtype_t *types, json_t *messages)
{
    json_t *a = json_array();
    for (const st_msgtype_t *t = types; t->type; t++) {
        json_array_append_new(a, json_pack("{s:s, s:s, s:s, s:s}", "type", t->type, "doc", t->doc,
                                           "request", t->request->name, "reply",
                                           t->reply->name));
        s_desc(t->request, messages);
        s_desc(t->reply, messages);
    }
    return a;
}

static json_t *s_catalogue(void)
{
    json_t *messages = json_object();
    json_t *types = s_types(st_msgtypes, messages);
    json_t *calls = s_types(st_members_calls, messages);
    json_t *enums = json_object();
    for (size_t i = 0; i < N_ENUMS; i++) {
        json_t *a = json_array();
        for (const lc_name_t *n = s_enums[i].table; n->name; n++)
            json_array_append_new(a, json_string(n->name));
        json_object_set_new(enums, s_enums[i].name, a);
    }
    return json_pack("{s:i, s:o, s:o, s:o, s:o}", "version", 1, "types", types, "calls", calls,
                     "enums", enums, "messages", messages);
}

static void settlement_catalogue_matches_codec_tables(void **state)
{
    (void)state;
    json_t *want = s_catalogue();
    const char *dir = getenv("COAL_PROTO_DIR");
    char path[1024];
    snprintf(path, sizeof path, "%s/settlement.json", dir && dir[0] ? dir : "proto");
    json_error_t jerr;
    json_t *have = json_load_file(path, JSON_REJECT_DUPLICATES, &jerr);
    int same = have && json_equal(want, have);
    if (!same) {
        char *text = json_dumps(want, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
        fprintf(stderr, "proto/settlement.json should be:\n%s\n", text);
        free(text);
    }
    json_decref(want);
    json_decref(have);
    CHECK(same, "proto/settlement.json is out of date (expected JSON on stderr)");
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
        cmocka_unit_test(settlement_msgtypes_are_found_by_name),
        cmocka_unit_test(settlement_string_lists_decode_from_plain_strings),
        cmocka_unit_test(settlement_string_lists_refuse_other_elements),
        cmocka_unit_test(settlement_earn_refuses_points_field),
        cmocka_unit_test(settlement_tolerant_reader_ignores_new_fields),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
