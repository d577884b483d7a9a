/*
 * test_members_proto.c: the members service's protocol contract.
 *   - proto/members.json equals the catalogue built from mb_msgtypes and the
 *     descriptors of libcommon/lc_members_msg.c (the format of proto/ledger.json,
 *     proto/README.md section 10, plus "api": whether the body is an API call);
 *     on a mismatch the expected JSON is printed to stderr;
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

#include "lc_err.h"
#include "lc_members_msg.h"

#define MAX_DESCS 64

#define CHECK(cond, ...)                                                                           \
    do {                                                                                           \
        if (!(cond))                                                                               \
            fail_msg(__VA_ARGS__);                                                                 \
    } while (0)

static const struct {
    const lc_name_t *table;
    const char *name;
} s_enums[] = {
    {mb_status_names, "status"},
    {mb_tier_names, "tier"},
};
#define N_ENUMS (sizeof s_enums / sizeof s_enums[0])

static const char *s_ftypes[] = {
    [LC_FT_BOOL] = "bool",   [LC_FT_I64] = "i64",   [LC_FT_U32] = "u32",     [LC_FT_STR] = "str",
    [LC_FT_ID] = "id",       [LC_FT_TIME] = "time", [LC_FT_HASH] = "hash",   [LC_FT_ENUM] = "enum",
    [LC_FT_FLAGS] = "flags", [LC_FT_OBJ] = "obj",   [LC_FT_ARRAY] = "array", [LC_FT_IDS] = "ids",
};

static const char *enum_name(const lc_name_t *table)
{
    for (size_t i = 0; i < N_ENUMS; i++)
        if (s_enums[i].table == table)
            return s_enums[i].name;
    return NULL;
}

typedef struct desc_set {
    const lc_msgdesc_t *d[MAX_DESCS];
    size_t n;
} desc_set_t;

static json_t *describe_field(const lc_field_t *f, const char *owner)
{
    CHECK((size_t)f->type < sizeof s_ftypes / sizeof s_ftypes[0] && s_ftypes[f->type],
          "%s.%s: unknown field type", owner, f->name);
    json_t *o = json_object();
    json_object_set_new(o, "name", json_string(f->name));
    json_object_set_new(o, "type", json_string(s_ftypes[f->type]));
    json_object_set_new(o, "required", json_boolean(f->flags & LC_FF_REQUIRED));
    json_object_set_new(o, "always", json_boolean(f->flags & LC_FF_ALWAYS));
    if (f->type == LC_FT_I64 || f->type == LC_FT_U32 || f->type == LC_FT_ARRAY ||
        f->type == LC_FT_IDS)
        json_object_set_new(o, "min", json_integer(f->min));
    if (f->type == LC_FT_I64 || f->type == LC_FT_U32 || f->type == LC_FT_STR ||
        f->type == LC_FT_ARRAY || f->type == LC_FT_IDS)
        json_object_set_new(o, "max", json_integer(f->max));
    if (f->type == LC_FT_ENUM || f->type == LC_FT_FLAGS) {
        const char *en = enum_name(f->names);
        CHECK(en != NULL, "%s.%s: its names table is not one of the catalogue's enums", owner,
              f->name);
        json_object_set_new(o, "names", json_string(en));
    } else {
        json_object_set_new(o, "names", json_null());
    }
    if (f->type == LC_FT_OBJ || f->type == LC_FT_ARRAY)
        json_object_set_new(o, "element", json_string(f->sub->name));
    else
        json_object_set_new(o, "element", json_null());
    json_object_set_new(o, "doc", f->doc ? json_string(f->doc) : json_null());
    return o;
}

static void describe_desc(const lc_msgdesc_t *desc, json_t *messages, desc_set_t *seen)
{
    for (size_t i = 0; i < seen->n; i++)
        if (seen->d[i] == desc)
            return;
    CHECK(json_object_get(messages, desc->name) == NULL, "two descriptors are named %s",
          desc->name);
    CHECK(seen->n < MAX_DESCS, "more than %d descriptors", MAX_DESCS);
    seen->d[seen->n++] = desc;
    json_t *fields = json_array();
    for (size_t i = 0; i < desc->nfields; i++)
        json_array_append_new(fields, describe_field(&desc->fields[i], desc->name));
    json_object_set_new(messages, desc->name, json_pack("{s:o}", "fields", fields));
    for (size_t i = 0; i < desc->nfields; i++)
        if (desc->fields[i].sub)
            describe_desc(desc->fields[i].sub, messages, seen);
}

static json_t *catalogue_from_tables(void)
{
    json_t *types = json_array();
    json_t *messages = json_object();
    desc_set_t seen = {.n = 0};
    for (const mb_msgtype_t *t = mb_msgtypes; t->type; t++) {
        json_array_append_new(types, json_pack("{s:s, s:s, s:b, s:s, s:s}", "type", t->type, "doc",
                                               t->doc, "api", t->api, "request", t->request->name,
                                               "reply", t->reply->name));
        describe_desc(t->request, messages, &seen);
        describe_desc(t->reply, messages, &seen);
    }
    json_t *enums = json_object();
    for (size_t i = 0; i < N_ENUMS; i++) {
        json_t *a = json_array();
        for (const lc_name_t *n = s_enums[i].table; n->name; n++)
            json_array_append_new(a, json_string(n->name));
        json_object_set_new(enums, s_enums[i].name, a);
    }
    return json_pack("{s:i, s:o, s:o, s:o}", "version", 1, "types", types, "messages", messages,
                     "enums", enums);
}

static json_t *load_members_json(void)
{
    const char *d = getenv("COAL_PROTO_DIR");
    char path[1024];
    snprintf(path, sizeof path, "%s/members.json", d && d[0] ? d : "proto");
    json_error_t jerr;
    json_t *j = json_load_file(path, JSON_REJECT_DUPLICATES, &jerr);
    CHECK(j != NULL, "%s: %s (line %d)", path, jerr.text, jerr.line);
    return j;
}

static void members_proto_catalogue_matches_tables(void **state)
{
    (void)state;
    json_t *want = catalogue_from_tables();
    json_t *have = load_members_json();
    bool same = json_equal(want, have);
    if (!same) {
        char *s = json_dumps(want, JSON_INDENT(2) | JSON_SORT_KEYS);
        fprintf(stderr,
                "proto/members.json differs from libcommon/lc_members_msg.c; expected:\n%s\n",
                s ? s : "?");
        free(s);
    }
    json_decref(want);
    json_decref(have);
    CHECK(same, "proto/members.json is out of date (expected JSON on stderr)");
}

static void members_proto_documents_every_type_and_field(void **state)
{
    (void)state;
    json_t *cat = catalogue_from_tables();
    size_t i, k;
    json_t *t, *f, *m;
    const char *name;
    json_array_foreach(json_object_get(cat, "types"), i, t)
    {
        const char *doc = json_string_value(json_object_get(t, "doc"));
        CHECK(doc && doc[0], "type %s has no doc", json_string_value(json_object_get(t, "type")));
    }
    json_object_foreach(json_object_get(cat, "messages"), name, m)
    {
        json_array_foreach(json_object_get(m, "fields"), k, f)
        {
            const char *doc = json_string_value(json_object_get(f, "doc"));
            CHECK(doc && doc[0], "%s.%s has no doc", name,
                  json_string_value(json_object_get(f, "name")));
        }
    }
    json_decref(cat);
}

static void members_proto_types_are_found(void **state)
{
    (void)state;
    const char *api[] = {MB_TYPE_ENROLL,     MB_TYPE_ADD_CARD, MB_TYPE_CARD_BALANCE, MB_TYPE_GET,
                         MB_TYPE_ISSUE_CODE, MB_TYPE_FREEZE,   MB_TYPE_UNFREEZE};
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
    mb_member_rep_t in = {.status = MB_STATUS_FROZEN,
                          .available = -3,
                          .pending = 7,
                          .tier = MB_TIER_BRONZE,
                          .expiring = exp,
                          .nexpiring = 2};
    in.id.b[15] = 9;
    json_t *j = lc_codec_encode(&mb_member_rep_desc, &in);
    assert_non_null(j);
    assert_string_equal(json_string_value(json_object_get(j, "status")), "frozen");
    assert_string_equal(json_string_value(json_object_get(j, "tier")), "bronze");
    assert_string_equal(json_string_value(json_object_get(
                            json_array_get(json_object_get(j, "expiring"), 0), "expires_at")),
                        "2026-03-31T23:59:59Z");
    mb_member_rep_t out;
    lc_codec_err_t err;
    assert_int_equal(lc_codec_decode(&mb_member_rep_desc, j, &out, &err), LC_OK);
    assert_true(lc_id_eq(&in.id, &out.id));
    assert_int_equal(out.available, -3);
    assert_int_equal(out.pending, 7);
    assert_int_equal(out.nexpiring, 2);
    assert_int_equal(out.expiring[1].points, 5);
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
