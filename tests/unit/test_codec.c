/*
 * test_codec.c: unit tests for lc_codec (the table-driven JSON <-> struct codec)
 * and lc_time (RFC 3339 <-> int64 Unix microseconds).
 *
 * A small test-only struct (t_all_t) has one field of every lc_ftype_t, so every
 * decoder and encoder branch runs against known JSON; the real ledger descriptors
 * (lc_ledger_msg.h) are decoded and encoded too, since those are the tables the
 * services depend on. Every failing decode is checked through expect_fail(), which
 * also asserts the documented contract that the output struct is left all zero
 * (it is filled with garbage first); leaks are left to the ASan build.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lc_api.h"
#include "lc_codec.h"
#include "lc_crypto.h"
#include "lc_err.h"
#include "lc_id.h"
#include "lc_ledger_msg.h"
#include "lc_time.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

#define ID_A "01234567-89ab-7cde-8f01-23456789abcd"
#define ID_B "11111111-2222-7333-8444-555555555555"
#define ID_C "aaaaaaaa-bbbb-7ccc-8ddd-eeeeeeeeeeee"
#define ID_D "0190c4a2-7b3c-7def-9123-456789abcdef"
#define ID_ZERO "00000000-0000-0000-0000-000000000000"
#define HASH_A "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"
#define HASH_ZERO "0000000000000000000000000000000000000000000000000000000000000000"

/* ---- test-only descriptors: one field of every type --------------------------- */

enum { COLOR_RED = 1, COLOR_GREEN = 2, COLOR_BLUE = 3 };
static const lc_name_t color_names[] = {
    {"red", COLOR_RED}, {"green", COLOR_GREEN}, {"blue", COLOR_BLUE}, {NULL, 0}};

enum { OPT_A = 1u << 0, OPT_B = 1u << 1, OPT_C = 1u << 2 };
static const lc_name_t opt_names[] = {{"a", OPT_A}, {"b", OPT_B}, {"c", OPT_C}, {NULL, 0}};

typedef struct t_inner {
    int64_t n;   /* required, 0..10 */
    char *label; /* optional, at most 4 bytes */
} t_inner_t;

static const lc_field_t inner_fields[] = {
    {LC_F(t_inner_t, n, "n", LC_FT_I64, LC_FF_REQUIRED), .min = 0, .max = 10},
    {LC_F(t_inner_t, label, "label", LC_FT_STR, 0), .max = 4},
};
static const lc_msgdesc_t inner_desc = {"t_inner_t", sizeof(t_inner_t), inner_fields,
                                        N(inner_fields)};

typedef struct t_all {
    bool flag;
    int64_t count; /* required, -1000..1000 */
    uint32_t small;
    char *name; /* at most 8 bytes */
    lc_id_t id; /* required */
    int64_t at;
    uint8_t digest[LC_SHA256_LEN];
    int color;
    uint32_t opts;
    t_inner_t inner;
    t_inner_t *items; /* at most 3 */
    size_t nitems;
    lc_id_t *ids; /* at most 2 */
    size_t nids;
} t_all_t;

/* Every field but the enum; fl is the flags of the optional ones. */
#define ALL_FIELDS(fl, idfl)                                                                  \
    {LC_F(t_all_t, flag, "flag", LC_FT_BOOL, fl)},                                            \
    {LC_F(t_all_t, count, "count", LC_FT_I64, LC_FF_REQUIRED), .min = -1000, .max = 1000},    \
    {LC_F(t_all_t, small, "small", LC_FT_U32, fl), .min = 0, .max = UINT32_MAX},              \
    {LC_F(t_all_t, name, "name", LC_FT_STR, fl), .max = 8},                                   \
    {LC_F(t_all_t, id, "id", LC_FT_ID, idfl)},                                                \
    {LC_F(t_all_t, at, "at", LC_FT_TIME, fl)},                                                \
    {LC_F(t_all_t, digest, "digest", LC_FT_HASH, fl)},                                        \
    {LC_F(t_all_t, opts, "opts", LC_FT_FLAGS, fl), .names = opt_names},                       \
    {LC_F(t_all_t, inner, "inner", LC_FT_OBJ, fl), .sub = &inner_desc},                       \
    {LC_F(t_all_t, items, "items", LC_FT_ARRAY, fl), .sub = &inner_desc, .max = 3,            \
     .count_offset = offsetof(t_all_t, nitems)},                                              \
    {LC_F(t_all_t, ids, "ids", LC_FT_IDS, fl), .max = 2, .count_offset = offsetof(t_all_t, nids)}

static const lc_field_t all_fields[] = {
    ALL_FIELDS(0, LC_FF_REQUIRED),
    {LC_F(t_all_t, color, "color", LC_FT_ENUM, 0), .names = color_names},
};
static const lc_msgdesc_t all_desc = {"t_all_t", sizeof(t_all_t), all_fields, N(all_fields)};

/* The same struct with every field LC_FF_ALWAYS (the enum is left out: its zero
 * value has no name, which the encoder must refuse; see the test for that). */
static const lc_field_t always_fields[] = {ALL_FIELDS(LC_FF_ALWAYS, LC_FF_ALWAYS)};
static const lc_msgdesc_t always_desc = {"t_all_t", sizeof(t_all_t), always_fields,
                                         N(always_fields)};

static const lc_field_t enum_always_fields[] = {
    {LC_F(t_all_t, color, "color", LC_FT_ENUM, LC_FF_ALWAYS), .names = color_names},
};
static const lc_msgdesc_t enum_always_desc = {"t_all_t", sizeof(t_all_t), enum_always_fields,
                                              N(enum_always_fields)};

/* ---- helpers ------------------------------------------------------------------- */

/* Parses JSON written with ' for " (readability); NULs allowed, duplicates not. */
static json_t *jq(const char *text)
{
    char *buf = strdup(text);
    json_error_t jerr;
    json_t *j;

    assert_non_null(buf);
    for (char *p = buf; *p; p++)
        if (*p == '\'')
            *p = '"';
    j = json_loads(buf, JSON_ALLOW_NUL | JSON_REJECT_DUPLICATES, &jerr);
    if (!j)
        fail_msg("bad test JSON %s: %s", buf, jerr.text);
    free(buf);
    return j;
}

static bool all_zero(const void *p, size_t n)
{
    const unsigned char *b = p;
    for (size_t i = 0; i < n; i++)
        if (b[i])
            return false;
    return true;
}

/* Decodes text with desc and asserts it fails with code at path, leaving the
 * output all zero even though it was filled with garbage first. */
static void expect_fail_j(const lc_msgdesc_t *desc, json_t *j, const char *code,
                          const char *path)
{
    void *out = malloc(desc->size);
    lc_codec_err_t err;

    assert_non_null(out);
    memset(out, 0xA5, desc->size);
    memset(&err, 0, sizeof err);
    assert_int_equal(lc_codec_decode(desc, j, out, &err), LC_ERR_INVALID);
    assert_non_null(err.code);
    assert_string_equal(err.code, code);
    assert_string_equal(err.path, path);
    /* The human message leads with the path. */
    assert_int_equal(strncmp(err.message, path, strlen(path)), 0);
    assert_true(all_zero(out, desc->size));
    free(out);
    json_decref(j);
}

static void expect_fail(const lc_msgdesc_t *desc, const char *text, const char *code,
                        const char *path)
{
    expect_fail_j(desc, jq(text), code, path);
}

/* Decodes text with desc into out (desc->size bytes), asserting success. */
static void decode_ok(const lc_msgdesc_t *desc, const char *text, void *out)
{
    json_t *j = jq(text);
    lc_codec_err_t err;

    memset(&err, 0, sizeof err);
    int rc = lc_codec_decode(desc, j, out, &err);
    if (rc != LC_OK)
        fail_msg("decode of %s failed: %s %s", text, err.code, err.message);
    json_decref(j);
}

/* Asserts that json equals the JSON text expected. */
static void assert_json(json_t *json, const char *expected)
{
    json_t *want = jq(expected);

    assert_non_null(json);
    if (!json_equal(json, want)) {
        char *got = json_dumps(json, JSON_SORT_KEYS | JSON_COMPACT);
        char *exp = json_dumps(want, JSON_SORT_KEYS | JSON_COMPACT);
        print_error("got      %s\nexpected %s\n", got, exp);
        free(got);
        free(exp);
        fail();
    }
    json_decref(want);
}

static lc_id_t id_of(const char *text)
{
    lc_id_t id;
    assert_int_equal(lc_id_parse(text, &id), LC_OK);
    return id;
}

/* A minimal valid t_all_t document with one member (text) added. */
static void all_with(const char *member, char *out, size_t cap)
{
    snprintf(out, cap, "{'count':1,'id':'" ID_A "',%s}", member);
}

/* ---- codec: round trips ------------------------------------------------------------ */

static void fill_all(t_all_t *a)
{
    memset(a, 0, sizeof *a);
    a->flag = true;
    a->count = -7;
    a->small = 4000000000u;
    a->name = strdup("h\xc3\xa9llo"); /* 6 bytes of UTF-8 */
    a->id = id_of(ID_A);
    a->at = INT64_C(1795435200123456);
    for (int i = 0; i < LC_SHA256_LEN; i++)
        a->digest[i] = (uint8_t)i;
    a->color = COLOR_BLUE;
    a->opts = OPT_A | OPT_C;
    a->inner.n = 3;
    a->inner.label = strdup("ab");
    a->nitems = 2;
    a->items = calloc(2, sizeof *a->items);
    assert_non_null(a->items);
    a->items[0].n = 10;
    a->items[1].n = 0;
    a->items[1].label = strdup("wxyz");
    a->nids = 2;
    a->ids = calloc(2, sizeof *a->ids);
    assert_non_null(a->ids);
    a->ids[0] = id_of(ID_B);
    a->ids[1] = id_of(ID_C);
    assert_non_null(a->name);
    assert_non_null(a->inner.label);
    assert_non_null(a->items[1].label);
}

static const char ALL_JSON[] =
    "{'flag':true,'count':-7,'small':4000000000,'name':'h\xc3\xa9llo','id':'" ID_A "',"
    "'at':'2026-11-23T12:00:00.123456Z','digest':'" HASH_A "','color':'blue',"
    "'opts':['a','c'],'inner':{'n':3,'label':'ab'},"
    "'items':[{'n':10},{'n':0,'label':'wxyz'}],'ids':['" ID_B "','" ID_C "']}";

static void codec_encode_all_types_exact_json(void **state)
{
    t_all_t a;
    (void)state;

    fill_all(&a);
    json_t *j = lc_codec_encode(&all_desc, &a);
    assert_json(j, ALL_JSON);
    json_decref(j);
    lc_codec_clear(&all_desc, &a);
}

static void codec_round_trip_encode_decode_equal(void **state)
{
    t_all_t a, b;
    lc_codec_err_t err;
    (void)state;

    fill_all(&a);
    json_t *j = lc_codec_encode(&all_desc, &a);
    assert_non_null(j);
    assert_int_equal(lc_codec_decode(&all_desc, j, &b, &err), LC_OK);

    assert_true(b.flag);
    assert_int_equal(b.count, -7);
    assert_int_equal(b.small, 4000000000u);
    assert_string_equal(b.name, a.name);
    assert_true(lc_id_eq(&b.id, &a.id));
    assert_int_equal(b.at, a.at);
    assert_memory_equal(b.digest, a.digest, LC_SHA256_LEN);
    assert_int_equal(b.color, COLOR_BLUE);
    assert_int_equal(b.opts, OPT_A | OPT_C);
    assert_int_equal(b.inner.n, 3);
    assert_string_equal(b.inner.label, "ab");
    assert_int_equal(b.nitems, 2);
    assert_int_equal(b.items[0].n, 10);
    assert_null(b.items[0].label);
    assert_int_equal(b.items[1].n, 0);
    assert_string_equal(b.items[1].label, "wxyz");
    assert_int_equal(b.nids, 2);
    assert_true(lc_id_eq(&b.ids[0], &a.ids[0]));
    assert_true(lc_id_eq(&b.ids[1], &a.ids[1]));

    /* And back again: the second encoding is the same document. */
    json_t *j2 = lc_codec_encode(&all_desc, &b);
    assert_non_null(j2);
    assert_true(json_equal(j, j2));
    json_decref(j);
    json_decref(j2);
    lc_codec_clear(&all_desc, &a);
    lc_codec_clear(&all_desc, &b);
}

static void codec_decode_then_encode_reproduces_document(void **state)
{
    t_all_t a;
    (void)state;

    decode_ok(&all_desc, ALL_JSON, &a);
    json_t *j = lc_codec_encode(&all_desc, &a);
    assert_json(j, ALL_JSON);
    json_decref(j);
    lc_codec_clear(&all_desc, &a);
}

static void codec_uuid_uppercase_accepted_encoded_lowercase(void **state)
{
    t_all_t a;
    (void)state;

    decode_ok(&all_desc, "{'count':0,'id':'0190C4A2-7B3C-7DEF-9123-456789ABCDEF'}", &a);
    json_t *j = lc_codec_encode(&all_desc, &a);
    assert_json(j, "{'count':0,'id':'" ID_D "','inner':{'n':0}}");
    json_decref(j);
    lc_codec_clear(&all_desc, &a);
}

/* ---- codec: missing, unknown, wrong type ------------------------------------------- */

static void codec_missing_required_names_path(void **state)
{
    (void)state;
    expect_fail(&all_desc, "{'count':1}", "missing_field", "id");
    expect_fail(&all_desc, "{'id':'" ID_A "'}", "missing_field", "count");
    expect_fail(&all_desc, "{}", "missing_field", "count");
    expect_fail(&all_desc, "{'count':1,'id':'" ID_A "','inner':{'label':'x'}}", "missing_field",
                "inner.n");
    expect_fail(&all_desc, "{'count':1,'id':'" ID_A "','items':[{'n':1},{'label':'x'}]}",
                "missing_field", "items[1].n");
}

static void codec_missing_required_in_ledger_batch_names_index(void **state)
{
    (void)state;
    expect_fail(&ld_create_transfers_req_desc,
                "{'transfers':[{'id':'" ID_A "','amount':1},{'id':'" ID_B "','amount':2},"
                "{'debit_account_id':'" ID_C "','amount':3}]}",
                "missing_field", "transfers[2].id");
    expect_fail(&ld_create_transfers_req_desc, "{}", "missing_field", "transfers");
    expect_fail(&ld_create_accounts_req_desc, "{'accounts':[{'id':'" ID_A "'}]}",
                "missing_field", "accounts[0].kind");
}

static void codec_unknown_field_rejected(void **state)
{
    (void)state;
    expect_fail(&all_desc, "{'count':1,'id':'" ID_A "','colour':'red'}", "unknown_field",
                "colour");
    expect_fail(&all_desc, "{'count':1,'id':'" ID_A "','inner':{'n':1,'extra':0}}",
                "unknown_field", "inner.extra");
    expect_fail(&all_desc, "{'count':1,'id':'" ID_A "','items':[{'n':1},{'n':2,'N':2}]}",
                "unknown_field", "items[1].N");
    /* Names are case-sensitive. */
    expect_fail(&all_desc, "{'count':1,'ID':'" ID_A "'}", "unknown_field", "ID");
    expect_fail(&ld_create_transfers_req_desc,
                "{'transfers':[{'id':'" ID_A "','amount':1,'memo':'x'}]}", "unknown_field",
                "transfers[0].memo");
    /* Even a null unknown member is refused. */
    expect_fail(&all_desc, "{'count':1,'id':'" ID_A "','nope':null}", "unknown_field", "nope");
}

static void codec_wrong_json_type_invalid_field(void **state)
{
    static const struct {
        const char *member;
        const char *path;
    } cases[] = {
        {"'flag':1", "flag"},
        {"'flag':'true'", "flag"},
        {"'small':'1'", "small"},
        {"'small':1.0", "small"},
        {"'small':true", "small"},
        {"'name':5", "name"},
        {"'name':['x']", "name"},
        {"'at':1795435200", "at"},
        {"'digest':{}", "digest"},
        {"'color':1", "color"},
        {"'opts':'a'", "opts"},
        {"'opts':{'a':true}", "opts"},
        {"'inner':[]", "inner"},
        {"'inner':3", "inner"},
        {"'items':{'n':1}", "items"},
        {"'items':[1]", "items[0]"},
        {"'items':[{'n':1},[]]", "items[1]"},
        {"'ids':'" ID_B "'", "ids"},
        {"'ids':[1]", "ids"},
    };
    char text[512];
    (void)state;

    for (size_t i = 0; i < N(cases); i++) {
        all_with(cases[i].member, text, sizeof text);
        expect_fail(&all_desc, text, "invalid_field", cases[i].path);
    }
    expect_fail(&all_desc, "{'count':'1','id':'" ID_A "'}", "invalid_field", "count");
    expect_fail(&all_desc, "{'count':1,'id':7}", "invalid_field", "id");
}

static void codec_top_level_not_object_rejected(void **state)
{
    lc_codec_err_t err;
    t_all_t a;
    (void)state;

    json_t *j = jq("[1,2]");
    memset(&a, 0x5A, sizeof a);
    assert_int_equal(lc_codec_decode(&all_desc, j, &a, &err), LC_ERR_INVALID);
    assert_string_equal(err.code, "invalid_field");
    assert_true(all_zero(&a, sizeof a));
    json_decref(j);
    /* A NULL err is allowed. */
    j = jq("{}");
    assert_int_equal(lc_codec_decode(&all_desc, j, &a, NULL), LC_ERR_INVALID);
    assert_true(all_zero(&a, sizeof a));
    json_decref(j);
}

/* ---- codec: numbers ------------------------------------------------------------------ */

static void codec_i64_bounds(void **state)
{
    t_all_t a;
    (void)state;

    expect_fail(&all_desc, "{'count':-1001,'id':'" ID_A "'}", "invalid_field", "count");
    decode_ok(&all_desc, "{'count':-1000,'id':'" ID_A "'}", &a);
    assert_int_equal(a.count, -1000);
    lc_codec_clear(&all_desc, &a);
    decode_ok(&all_desc, "{'count':1000,'id':'" ID_A "'}", &a);
    assert_int_equal(a.count, 1000);
    lc_codec_clear(&all_desc, &a);
    expect_fail(&all_desc, "{'count':1001,'id':'" ID_A "'}", "invalid_field", "count");
    expect_fail(&all_desc, "{'count':1,'id':'" ID_A "','inner':{'n':-1}}", "invalid_field",
                "inner.n");
    expect_fail(&all_desc, "{'count':1,'id':'" ID_A "','items':[{'n':11}]}", "invalid_field",
                "items[0].n");
}

static void codec_i64_full_range(void **state)
{
    ld_account_view_t v;
    (void)state;

    decode_ok(&ld_account_view_desc,
              "{'id':'" ID_A "','kind':'member','balance':-9223372036854775808,"
              "'available':9223372036854775807,'created_at':'2026-01-01T00:00:00Z'}",
              &v);
    assert_true(v.balance == INT64_MIN);
    assert_true(v.available == INT64_MAX);
    json_t *j = lc_codec_encode(&ld_account_view_desc, &v);
    assert_non_null(j);
    assert_true(json_integer_value(json_object_get(j, "balance")) == INT64_MIN);
    assert_true(json_integer_value(json_object_get(j, "available")) == INT64_MAX);
    json_decref(j);
    lc_codec_clear(&ld_account_view_desc, &v);
    /* debt is 0..INT64_MAX */
    expect_fail(&ld_account_view_desc,
                "{'id':'" ID_A "','kind':'member','debt':-1,'created_at':'2026-01-01T00:00:00Z'}",
                "invalid_field", "debt");
}

static void codec_u32_bounds(void **state)
{
    t_all_t a;
    (void)state;

    expect_fail(&all_desc, "{'count':1,'id':'" ID_A "','small':-1}", "invalid_field", "small");
    decode_ok(&all_desc, "{'count':1,'id':'" ID_A "','small':0}", &a);
    assert_int_equal(a.small, 0);
    lc_codec_clear(&all_desc, &a);
    decode_ok(&all_desc, "{'count':1,'id':'" ID_A "','small':4294967295}", &a);
    assert_int_equal(a.small, UINT32_MAX);
    lc_codec_clear(&all_desc, &a);
    expect_fail(&all_desc, "{'count':1,'id':'" ID_A "','small':4294967296}", "invalid_field",
                "small");
}

static void codec_ld_amount_bounds(void **state)
{
    ld_create_transfers_req_t r;
    (void)state;

    decode_ok(&ld_create_transfers_req_desc,
              "{'transfers':[{'id':'" ID_A "','amount':9007199254740991}]}", &r);
    assert_int_equal(r.ntransfers, 1);
    assert_true(r.transfers[0].amount == LD_AMOUNT_MAX);
    lc_codec_clear(&ld_create_transfers_req_desc, &r);
    expect_fail(&ld_create_transfers_req_desc,
                "{'transfers':[{'id':'" ID_A "','amount':9007199254740992}]}", "invalid_field",
                "transfers[0].amount");
    decode_ok(&ld_create_transfers_req_desc, "{'transfers':[{'id':'" ID_A "','amount':0}]}", &r);
    assert_int_equal(r.transfers[0].amount, 0);
    lc_codec_clear(&ld_create_transfers_req_desc, &r);
    decode_ok(&ld_create_transfers_req_desc, "{'transfers':[{'id':'" ID_A "','amount':1}]}", &r);
    assert_int_equal(r.transfers[0].amount, 1);
    lc_codec_clear(&ld_create_transfers_req_desc, &r);
}

static void codec_ld_negative_amount_rejected(void **state)
{
    (void)state;
    expect_fail(&ld_transfer_desc, "{'id':'" ID_A "','amount':-1}", "invalid_field", "amount");
    expect_fail(&ld_transfer_desc, "{'id':'" ID_A "','amount':-9007199254740991}",
                "invalid_field", "amount");
    expect_fail(&ld_create_transfers_req_desc,
                "{'transfers':[{'id':'" ID_A "','amount':5},{'id':'" ID_B "','amount':-5}]}",
                "invalid_field", "transfers[1].amount");
    /* A real number is not an amount, even a whole one. */
    expect_fail(&ld_transfer_desc, "{'id':'" ID_A "','amount':5.0}", "invalid_field", "amount");
}

static void codec_ld_code_and_timeout_bounds(void **state)
{
    ld_transfer_t t;
    (void)state;

    decode_ok(&ld_transfer_desc, "{'id':'" ID_A "','code':65535,'timeout':2592000}", &t);
    assert_int_equal(t.code, UINT16_MAX);
    assert_int_equal(t.timeout, LD_TIMEOUT_MAX);
    lc_codec_clear(&ld_transfer_desc, &t);
    expect_fail(&ld_transfer_desc, "{'id':'" ID_A "','code':65536}", "invalid_field", "code");
    expect_fail(&ld_transfer_desc, "{'id':'" ID_A "','timeout':2592001}", "invalid_field",
                "timeout");
    expect_fail(&ld_transfer_desc, "{'id':'" ID_A "','timeout':-1}", "invalid_field", "timeout");
}

/* ---- codec: strings, ids, hashes, times --------------------------------------------- */

static void codec_string_max_length_in_bytes(void **state)
{
    t_all_t a;
    (void)state;

    decode_ok(&all_desc, "{'count':1,'id':'" ID_A "','name':'12345678'}", &a);
    assert_string_equal(a.name, "12345678");
    lc_codec_clear(&all_desc, &a);
    decode_ok(&all_desc, "{'count':1,'id':'" ID_A "','name':''}", &a);
    assert_non_null(a.name);
    assert_string_equal(a.name, "");
    lc_codec_clear(&all_desc, &a);
    expect_fail(&all_desc, "{'count':1,'id':'" ID_A "','name':'123456789'}", "invalid_field",
                "name");
    /* Five 2-byte characters are 10 bytes: too long for 8. */
    expect_fail(&all_desc,
                "{'count':1,'id':'" ID_A "','name':'\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9'}",
                "invalid_field", "name");
    expect_fail(&all_desc, "{'count':1,'id':'" ID_A "','inner':{'n':1,'label':'abcde'}}",
                "invalid_field", "inner.label");
    expect_fail(&all_desc, "{'count':1,'id':'" ID_A "','items':[{'n':1,'label':'abcde'}]}",
                "invalid_field", "items[0].label");
}

static void codec_embedded_nul_rejected(void **state)
{
    static const struct {
        const char *member;
        const char *path;
    } cases[] = {
        {"'name':'ab\\u0000cd'", "name"},
        {"'name':'\\u0000'", "name"},
        {"'at':'2026-01-01T00:00:00Z\\u0000junk'", "at"},
        {"'color':'red\\u0000'", "color"},
        {"'color':'red\\u0000blue'", "color"},
        {"'opts':['a\\u0000b']", "opts"},
        {"'ids':['" ID_B "\\u0000x']", "ids"},
        {"'inner':{'n':1,'label':'a\\u0000'}", "inner.label"},
    };
    char text[512];
    (void)state;

    for (size_t i = 0; i < N(cases); i++) {
        all_with(cases[i].member, text, sizeof text);
        expect_fail(&all_desc, text, "invalid_field", cases[i].path);
    }
    expect_fail(&all_desc, "{'count':1,'id':'" ID_A "\\u0000'}", "invalid_field", "id");
    expect_fail(&all_desc, "{'count':1,'id':'" ID_A "\\u0000ffff'}", "invalid_field", "id");
    expect_fail(&all_desc, "{'count':1,'id':'" ID_A "','digest':'" HASH_A "\\u0000'}",
                "invalid_field", "digest");
}

static void codec_bad_uuid_forms_rejected(void **state)
{
    static const char *bad[] = {
        "",
        "01234567-89ab-7cde-8f01-23456789abc",   /* 35 characters */
        "01234567-89ab-7cde-8f01-23456789abcde", /* 37 */
        "0123456789ab7cde8f0123456789abcd",      /* no dashes */
        "01234567089ab-7cde-8f01-23456789abc",   /* dash moved */
        "01234567-89ab-7cde-8f01_23456789abcd",  /* wrong separator */
        "01234567-89ab-7cde-8f01-23456789abcg",  /* non-hex */
        "{01234567-89ab-7cde-8f01-23456789ab}",  /* braces */
        "urn:uuid:01234567-89ab-7cde-8f01-23456789abcd",
        " 01234567-89ab-7cde-8f01-23456789abc",
        "01234567-89ab-7cde-8f01-23456789abc ",
        "+1234567-89ab-7cde-8f01-23456789abcd",
    };
    char text[512];
    (void)state;

    for (size_t i = 0; i < N(bad); i++) {
        snprintf(text, sizeof text, "{'count':1,'id':'%s'}", bad[i]);
        expect_fail(&all_desc, text, "invalid_field", "id");
        snprintf(text, sizeof text, "{'count':1,'id':'" ID_A "','ids':['" ID_B "','%s']}",
                 bad[i]);
        expect_fail(&all_desc, text, "invalid_field", "ids");
    }
    expect_fail(&ld_create_transfers_req_desc,
                "{'transfers':[{'id':'" ID_A "','debit_account_id':'nope'}]}", "invalid_field",
                "transfers[0].debit_account_id");
}

static void codec_hash_forms(void **state)
{
    t_all_t a;
    char text[512];
    (void)state;

    decode_ok(&all_desc, "{'count':1,'id':'" ID_A "','digest':'" HASH_A "'}", &a);
    for (int i = 0; i < LC_SHA256_LEN; i++)
        assert_int_equal(a.digest[i], i);
    lc_codec_clear(&all_desc, &a);

    static const char *bad[] = {
        "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1",   /* 63 */
        "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f0", /* 65 */
        "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1g",  /* non-hex */
        "",
    };
    for (size_t i = 0; i < N(bad); i++) {
        snprintf(text, sizeof text, "{'count':1,'id':'" ID_A "','digest':'%s'}", bad[i]);
        expect_fail(&all_desc, text, "invalid_field", "digest");
    }
}

static void codec_time_field_parse_and_reject(void **state)
{
    t_all_t a;
    (void)state;

    decode_ok(&all_desc, "{'count':1,'id':'" ID_A "','at':'2026-11-23T13:00:00+01:00'}", &a);
    assert_int_equal(a.at, INT64_C(1795435200) * LC_USEC_PER_SEC);
    json_t *j = lc_codec_encode(&all_desc, &a);
    assert_non_null(j);
    assert_string_equal(json_string_value(json_object_get(j, "at")), "2026-11-23T12:00:00Z");
    json_decref(j);
    lc_codec_clear(&all_desc, &a);
    expect_fail(&all_desc, "{'count':1,'id':'" ID_A "','at':'2026-13-01T00:00:00Z'}",
                "invalid_field", "at");
    expect_fail(&all_desc, "{'count':1,'id':'" ID_A "','at':'1969-12-31T23:59:59Z'}",
                "invalid_field", "at");
    expect_fail(&ld_create_transfers_req_desc,
                "{'transfers':[{'id':'" ID_A "','expires_at':'2026-02-29T00:00:00Z'}]}",
                "invalid_field", "transfers[0].expires_at");
}

static void codec_encode_time_out_of_range_fails(void **state)
{
    t_all_t a;
    (void)state;

    memset(&a, 0, sizeof a);
    a.at = -1;
    assert_null(lc_codec_encode(&all_desc, &a));
    a.at = INT64_C(253402300800000000); /* 10000-01-01 */
    assert_null(lc_codec_encode(&all_desc, &a));
}

/* ---- codec: enums and flags ---------------------------------------------------------- */

static void codec_enum_unknown_value_rejected(void **state)
{
    static const char *bad[] = {"'purple'", "''", "'Red'", "'red '", "2", "['red']", "true"};
    char text[256];
    t_all_t a;
    (void)state;

    decode_ok(&all_desc, "{'count':1,'id':'" ID_A "','color':'green'}", &a);
    assert_int_equal(a.color, COLOR_GREEN);
    lc_codec_clear(&all_desc, &a);
    for (size_t i = 0; i < N(bad); i++) {
        snprintf(text, sizeof text, "{'count':1,'id':'" ID_A "','color':%s}", bad[i]);
        expect_fail(&all_desc, text, "invalid_field", "color");
    }
    expect_fail(&ld_results_rep_desc, "{'results':[{'id':'" ID_A "','result':'nope'}]}",
                "invalid_field", "results[0].result");
    expect_fail(&ld_create_accounts_req_desc,
                "{'accounts':[{'id':'" ID_A "','kind':'member'},{'id':'" ID_B "','kind':'bank'}]}",
                "invalid_field", "accounts[1].kind");
}

static void codec_enum_without_name_not_encoded(void **state)
{
    t_all_t a;
    (void)state;

    memset(&a, 0, sizeof a);
    a.color = 99;
    assert_null(lc_codec_encode(&all_desc, &a));
    a.color = 0; /* optional and zero: left out, no name needed */
    json_t *j = lc_codec_encode(&all_desc, &a);
    assert_non_null(j);
    assert_null(json_object_get(j, "color"));
    json_decref(j);
    /* Always encoded, and 0 has no name. */
    assert_null(lc_codec_encode(&enum_always_desc, &a));
    a.color = COLOR_RED;
    j = lc_codec_encode(&enum_always_desc, &a);
    assert_json(j, "{'color':'red'}");
    json_decref(j);
}

static void codec_flags_repeated_or_unknown_rejected(void **state)
{
    static const char *bad[] = {"['a','a']", "['a','b','a']", "['z']", "['A']",
                                "['']",      "[1]",           "[null]", "[['a']]"};
    char text[256];
    t_all_t a;
    (void)state;

    for (size_t i = 0; i < N(bad); i++) {
        snprintf(text, sizeof text, "{'count':1,'id':'" ID_A "','opts':%s}", bad[i]);
        expect_fail(&all_desc, text, "invalid_field", "opts");
    }
    decode_ok(&all_desc, "{'count':1,'id':'" ID_A "','opts':['c','a']}", &a);
    assert_int_equal(a.opts, OPT_A | OPT_C);
    lc_codec_clear(&all_desc, &a);
    decode_ok(&all_desc, "{'count':1,'id':'" ID_A "','opts':[]}", &a);
    assert_int_equal(a.opts, 0);
    lc_codec_clear(&all_desc, &a);
    expect_fail(&ld_transfer_desc, "{'id':'" ID_A "','flags':['pending','pending']}",
                "invalid_field", "flags");
    expect_fail(&ld_transfer_desc, "{'id':'" ID_A "','flags':['frozen']}", "invalid_field",
                "flags");
}

static void codec_flags_encoded_in_table_order(void **state)
{
    t_all_t a;
    (void)state;

    memset(&a, 0, sizeof a);
    a.opts = OPT_C | OPT_B | OPT_A;
    json_t *j = lc_codec_encode(&all_desc, &a);
    assert_non_null(j);
    json_t *opts = json_object_get(j, "opts");
    assert_int_equal(json_array_size(opts), 3);
    assert_string_equal(json_string_value(json_array_get(opts, 0)), "a");
    assert_string_equal(json_string_value(json_array_get(opts, 1)), "b");
    assert_string_equal(json_string_value(json_array_get(opts, 2)), "c");
    json_decref(j);
}

static void codec_flags_without_name_not_encoded(void **state)
{
    t_all_t a;
    (void)state;

    /* A bit no name stands for cannot be represented: dropping it would change the
     * message, so the encoder refuses, as it does for an unnamed enum value. */
    memset(&a, 0, sizeof a);
    a.opts = OPT_A | (1u << 7);
    assert_null(lc_codec_encode(&all_desc, &a));
}

/* ---- codec: arrays ------------------------------------------------------------------- */

static void codec_array_over_max_count_rejected(void **state)
{
    t_all_t a;
    (void)state;

    decode_ok(&all_desc, "{'count':1,'id':'" ID_A "','items':[{'n':1},{'n':2},{'n':3}]}", &a);
    assert_int_equal(a.nitems, 3);
    assert_int_equal(a.items[2].n, 3);
    lc_codec_clear(&all_desc, &a);
    expect_fail(&all_desc, "{'count':1,'id':'" ID_A "','items':[{'n':1},{'n':2},{'n':3},{'n':4}]}",
                "invalid_field", "items");
    decode_ok(&all_desc, "{'count':1,'id':'" ID_A "','ids':['" ID_B "','" ID_C "']}", &a);
    assert_int_equal(a.nids, 2);
    lc_codec_clear(&all_desc, &a);
    expect_fail(&all_desc, "{'count':1,'id':'" ID_A "','ids':['" ID_B "','" ID_C "','" ID_D "']}",
                "invalid_field", "ids");
    decode_ok(&all_desc, "{'count':1,'id':'" ID_A "','items':[],'ids':[]}", &a);
    assert_int_equal(a.nitems, 0);
    assert_null(a.items);
    assert_int_equal(a.nids, 0);
    assert_null(a.ids);
    lc_codec_clear(&all_desc, &a);
}

/* Builds {"transfers":[n minimal transfers]} with distinct ids. */
static json_t *transfers_doc(size_t n)
{
    json_t *arr = json_array();
    char id[LC_ID_STRLEN + 1];
    lc_id_t x;

    assert_non_null(arr);
    for (size_t i = 0; i < n; i++) {
        lc_id_derive(NULL, "t", &x);
        x.b[15] = (uint8_t)i;
        x.b[14] = (uint8_t)(i >> 8);
        lc_id_format(&x, id);
        assert_int_equal(json_array_append_new(arr, json_pack("{s:s, s:I}", "id", id, "amount",
                                                              (json_int_t)(i + 1))),
                         0);
    }
    return json_pack("{s:o}", "transfers", arr);
}

static void codec_ld_batch_max_enforced(void **state)
{
    ld_create_transfers_req_t r;
    lc_codec_err_t err;
    (void)state;

    json_t *j = transfers_doc(LD_BATCH_MAX);
    assert_int_equal(lc_codec_decode(&ld_create_transfers_req_desc, j, &r, &err), LC_OK);
    assert_int_equal(r.ntransfers, LD_BATCH_MAX);
    assert_int_equal(r.transfers[LD_BATCH_MAX - 1].amount, LD_BATCH_MAX);
    lc_codec_clear(&ld_create_transfers_req_desc, &r);
    json_decref(j);
    expect_fail_j(&ld_create_transfers_req_desc, transfers_doc(LD_BATCH_MAX + 1), "invalid_field",
                  "transfers");

    /* ld_lookup_req: at most LD_LOOKUP_MAX ids. */
    json_t *ids = json_array();
    for (int i = 0; i < LD_LOOKUP_MAX + 1; i++)
        json_array_append_new(ids, json_string(ID_A));
    expect_fail_j(&ld_lookup_req_desc, json_pack("{s:o}", "ids", ids), "invalid_field", "ids");
}

static void codec_failure_deep_in_array_frees_everything(void **state)
{
    (void)state;
    /* Strings and arrays are allocated before the failure; the output must come
     * back zero and ASan must see no leak. */
    expect_fail(&all_desc,
                "{'count':1,'id':'" ID_A "','name':'abc','ids':['" ID_B "'],"
                "'inner':{'n':1,'label':'in'},"
                "'items':[{'n':1,'label':'a'},{'n':2,'label':'b'},{'n':3,'label':'toolong'}]}",
                "invalid_field", "items[2].label");
    expect_fail(&all_desc,
                "{'count':1,'id':'" ID_A "','items':[{'n':1,'label':'a'}],'ids':['" ID_B
                "','bad']}",
                "invalid_field", "ids");
}

/* ---- codec: null, clearing, encoding zero values -------------------------------------- */

static void codec_null_optional_treated_as_absent(void **state)
{
    t_all_t a;
    (void)state;

    decode_ok(&all_desc,
              "{'count':1,'id':'" ID_A "','flag':null,'small':null,'name':null,'at':null,"
              "'digest':null,'color':null,'opts':null,'inner':null,'items':null,'ids':null}",
              &a);
    assert_int_equal(a.count, 1);
    assert_false(a.flag);
    assert_int_equal(a.small, 0);
    assert_null(a.name);
    assert_int_equal(a.at, 0);
    assert_true(all_zero(a.digest, sizeof a.digest));
    assert_int_equal(a.color, 0);
    assert_int_equal(a.opts, 0);
    assert_int_equal(a.inner.n, 0);
    assert_null(a.items);
    assert_null(a.ids);
    lc_codec_clear(&all_desc, &a);
}

static void codec_null_required_rejected(void **state)
{
    (void)state;
    expect_fail(&all_desc, "{'count':null,'id':'" ID_A "'}", "missing_field", "count");
    expect_fail(&all_desc, "{'count':1,'id':null}", "missing_field", "id");
    expect_fail(&all_desc, "{'count':1,'id':'" ID_A "','inner':{'n':null}}", "missing_field",
                "inner.n");
    expect_fail(&ld_create_transfers_req_desc, "{'transfers':null}", "missing_field",
                "transfers");
}

static void codec_failure_leaves_output_cleared(void **state)
{
    (void)state;
    /* Members are decoded in document order, so every earlier scalar has already
     * been written when the last member fails. */
    expect_fail(&all_desc,
                "{'flag':true,'count':5,'small':7,'id':'" ID_A "','at':'2026-01-01T00:00:00Z',"
                "'digest':'" HASH_A "','opts':['b'],'inner':{'n':4},'color':'purple'}",
                "invalid_field", "color");
    expect_fail(&all_desc,
                "{'flag':true,'count':5,'small':7,'name':'x','id':'" ID_A "',"
                "'items':[{'n':1,'label':'y'}],'inner':{'label':'z'}}",
                "missing_field", "inner.n");
    expect_fail(&ld_create_transfers_req_desc,
                "{'transfers':[{'id':'" ID_A "','amount':1,'code':9,'flags':['linked']},"
                "{'id':'" ID_B "','amount':2,'timeout':-3}]}",
                "invalid_field", "transfers[1].timeout");
}

static void codec_encode_omits_zero_optional_fields(void **state)
{
    t_all_t a;
    (void)state;

    memset(&a, 0, sizeof a);
    a.id = id_of(ID_A);
    json_t *j = lc_codec_encode(&all_desc, &a);
    /* count and id are required (always encoded); a nested object has no zero. */
    assert_json(j, "{'count':0,'id':'" ID_A "','inner':{'n':0}}");
    json_decref(j);

    /* An empty but non-NULL string is not zero. */
    a.name = strdup("");
    assert_non_null(a.name);
    j = lc_codec_encode(&all_desc, &a);
    assert_json(j, "{'count':0,'id':'" ID_A "','name':'','inner':{'n':0}}");
    json_decref(j);
    lc_codec_clear(&all_desc, &a);
}

static void codec_encode_always_writes_zero_values(void **state)
{
    t_all_t a;
    (void)state;

    memset(&a, 0, sizeof a);
    json_t *j = lc_codec_encode(&always_desc, &a);
    assert_json(j, "{'flag':false,'count':0,'small':0,'name':'','id':'" ID_ZERO "',"
                   "'at':'1970-01-01T00:00:00Z','digest':'" HASH_ZERO "','opts':[],"
                   "'inner':{'n':0},'items':[],'ids':[]}");
    json_decref(j);
}

static void codec_ld_results_rep_encode_decode(void **state)
{
    ld_results_rep_t r;
    (void)state;

    memset(&r, 0, sizeof r);
    json_t *j = lc_codec_encode(&ld_results_rep_desc, &r);
    assert_json(j, "{'results':[]}");
    json_decref(j);

    r.nresults = 2;
    r.results = calloc(2, sizeof *r.results);
    assert_non_null(r.results);
    r.results[0].id = id_of(ID_A); /* result ok (0) is ALWAYS: still encoded */
    r.results[1].id = id_of(ID_B);
    r.results[1].result = LD_EXCEEDS_CREDITS;
    r.results[1].seq = 42;
    r.results[1].timestamp = INT64_C(1795435200000001);
    j = lc_codec_encode(&ld_results_rep_desc, &r);
    assert_json(j, "{'results':[{'id':'" ID_A "','result':'ok'},"
                   "{'id':'" ID_B "','result':'exceeds_credits','seq':42,"
                   "'timestamp':'2026-11-23T12:00:00.000001Z'}]}");
    lc_codec_clear(&ld_results_rep_desc, &r);
    assert_null(r.results);
    assert_int_equal(r.nresults, 0);

    lc_codec_err_t err;
    assert_int_equal(lc_codec_decode(&ld_results_rep_desc, j, &r, &err), LC_OK);
    assert_int_equal(r.nresults, 2);
    assert_int_equal(r.results[0].result, LD_OK);
    assert_int_equal(r.results[1].result, LD_EXCEEDS_CREDITS);
    assert_int_equal(r.results[1].seq, 42);
    assert_int_equal(r.results[1].timestamp, INT64_C(1795435200000001));
    json_decref(j);
    lc_codec_clear(&ld_results_rep_desc, &r);
}

static void codec_ld_transfer_round_trip(void **state)
{
    static const char doc[] =
        "{'id':'" ID_A "','debit_account_id':'" ID_B "','credit_account_id':'" ID_C "',"
        "'amount':9007199254740991,'pending_id':'" ID_D "','flags':['linked','post_pending'],"
        "'code':7,'user_data':'" ID_B "','timeout':60,'expires_at':'2027-01-01T00:00:00.5Z'}";
    ld_transfer_t t;
    (void)state;

    decode_ok(&ld_transfer_desc, doc, &t);
    lc_id_t b = id_of(ID_B), d = id_of(ID_D);
    assert_true(lc_id_eq(&t.debit_account_id, &b));
    assert_true(lc_id_eq(&t.pending_id, &d));
    assert_true(lc_id_is_zero(&t.reverses));
    assert_true(t.amount == LD_AMOUNT_MAX);
    assert_int_equal(t.flags, LD_TF_LINKED | LD_TF_POST_PENDING);
    assert_int_equal(t.code, 7);
    assert_int_equal(t.timeout, 60);
    assert_int_equal(t.expires_at % LC_USEC_PER_SEC, 500000);
    json_t *j = lc_codec_encode(&ld_transfer_desc, &t);
    /* The time comes back with six fractional digits. */
    assert_json(j, "{'id':'" ID_A "','debit_account_id':'" ID_B "','credit_account_id':'" ID_C
                   "','amount':9007199254740991,'pending_id':'" ID_D "',"
                   "'flags':['linked','post_pending'],'code':7,'user_data':'" ID_B "',"
                   "'timeout':60,'expires_at':'2027-01-01T00:00:00.500000Z'}");
    json_decref(j);
    lc_codec_clear(&ld_transfer_desc, &t);
}

static void codec_clear_idempotent(void **state)
{
    t_all_t a, zero;
    (void)state;

    memset(&zero, 0, sizeof zero);
    decode_ok(&all_desc, ALL_JSON, &a);
    lc_codec_clear(&all_desc, &a);
    assert_null(a.name);
    assert_null(a.inner.label);
    assert_null(a.items);
    assert_int_equal(a.nitems, 0);
    assert_null(a.ids);
    assert_int_equal(a.nids, 0);
    lc_codec_clear(&all_desc, &a); /* a double free would abort under ASan */
    assert_null(a.name);
    assert_null(a.items);
    lc_codec_clear(&all_desc, &zero);
    assert_true(all_zero(&zero, sizeof zero));
}

static void codec_name_lookup(void **state)
{
    uint32_t v = 12345;
    (void)state;

    assert_string_equal(lc_name_of(color_names, COLOR_GREEN), "green");
    assert_null(lc_name_of(color_names, 0));
    assert_null(lc_name_of(NULL, 1));
    assert_int_equal(lc_value_of(color_names, "blue", &v), LC_OK);
    assert_int_equal(v, COLOR_BLUE);
    v = 12345;
    assert_int_equal(lc_value_of(color_names, "Blue", &v), LC_ERR_NOT_FOUND);
    assert_int_equal(v, 12345);
    assert_int_equal(lc_value_of(NULL, "x", &v), LC_ERR_NOT_FOUND);
    assert_string_equal(lc_name_of(ld_result_names, LD_ACCOUNT_CLOSED_FOR_GOOD),
                        "account_closed_for_good");
}

/* ---- arrays of strings ---------------------------------------------------------------- */

typedef struct t_strs {
    char **tags;
    size_t ntags;
} t_strs_t;
static const lc_field_t strs_fields[] = {
    {LC_F(t_strs_t, tags, "tags", LC_FT_STRS, 0), .min = 0, .max = 3, .elem_max = 4,
     .count_offset = offsetof(t_strs_t, ntags)},
};
static const lc_msgdesc_t strs_desc = {"t_strs", sizeof(t_strs_t), strs_fields, 1};

static void codec_strs_round_trip_and_limits(void **state)
{
    (void)state;
    t_strs_t t;
    lc_codec_err_t err;
    json_t *in = json_pack("{s:[s,s]}", "tags", "a", "bcd");
    assert_int_equal(lc_codec_decode(&strs_desc, in, &t, &err), LC_OK);
    assert_int_equal(t.ntags, 2);
    assert_string_equal(t.tags[1], "bcd");
    json_t *out = lc_codec_encode(&strs_desc, &t);
    assert_true(json_equal(in, out));
    json_decref(out);
    json_decref(in);
    lc_codec_clear(&strs_desc, &t);
    assert_null(t.tags);
    assert_int_equal(t.ntags, 0);
    /* Empty arrays are left out when encoding an optional field. */
    out = lc_codec_encode(&strs_desc, &t);
    assert_int_equal(json_object_size(out), 0);
    json_decref(out);
    const char *bad[] = {"{\"tags\":\"a\"}",             /* not an array */
                         "{\"tags\":[1]}",                /* not strings */
                         "{\"tags\":[\"\"]}",             /* empty string */
                         "{\"tags\":[\"abcde\"]}",        /* over elem_max */
                         "{\"tags\":[\"a\",\"b\",\"c\",\"d\"]}", /* over max count */
                         "{\"tags\":[\"a\\u0000\"]}"};       /* NUL inside */
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        json_t *j = json_loads(bad[i], JSON_ALLOW_NUL, NULL);
        assert_non_null(j);
        assert_int_equal(lc_codec_decode(&strs_desc, j, &t, &err), LC_ERR_INVALID);
        assert_string_equal(err.code, "invalid_field");
        assert_null(t.tags); /* nothing half-decoded is left behind */
        json_decref(j);
    }
}

static void codec_str_min_length_enforced(void **state)
{
    (void)state;
    lc_money_t m;
    lc_codec_err_t err;
    const char *bad[] = {"{\"amount\":1,\"currency\":\"\"}", "{\"amount\":1,\"currency\":\"EU\"}",
                         "{\"amount\":1,\"currency\":\"EURO\"}"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        json_t *j = json_loads(bad[i], 0, NULL);
        assert_int_equal(lc_codec_decode(&lc_money_desc, j, &m, &err), LC_ERR_INVALID);
        assert_string_equal(err.path, "currency");
        json_decref(j);
    }
    json_t *j = json_loads("{\"amount\":1,\"currency\":\"EUR\"}", 0, NULL);
    assert_int_equal(lc_codec_decode(&lc_money_desc, j, &m, &err), LC_OK);
    lc_codec_clear(&lc_money_desc, &m);
    json_decref(j);
}

/* ---- time --------------------------------------------------------------------------- */

static int64_t parse_ok(const char *text)
{
    int64_t t = -12345;
    if (lc_time_parse(text, &t) != LC_OK)
        fail_msg("lc_time_parse refused %s", text);
    return t;
}

static void parse_bad(const char *text)
{
    int64_t t = -12345;
    if (lc_time_parse(text, &t) != LC_ERR_INVALID)
        fail_msg("lc_time_parse accepted %s", text);
    assert_int_equal(t, -12345); /* not written on failure */
}

static void time_parse_utc_z(void **state)
{
    (void)state;
    assert_int_equal(parse_ok("1970-01-01T00:00:00Z"), 0);
    assert_int_equal(parse_ok("2026-11-23T12:00:00Z"), INT64_C(1795435200) * LC_USEC_PER_SEC);
    assert_int_equal(parse_ok("2026-11-23t12:00:00z"), INT64_C(1795435200) * LC_USEC_PER_SEC);
    assert_int_equal(parse_ok("9999-12-31T23:59:59Z"), INT64_C(253402300799) * LC_USEC_PER_SEC);
}

static void time_parse_offsets(void **state)
{
    const int64_t noon = INT64_C(1795435200) * LC_USEC_PER_SEC;
    (void)state;

    assert_int_equal(parse_ok("2026-11-23T12:00:00+00:00"), noon);
    assert_int_equal(parse_ok("2026-11-23T12:00:00-00:00"), noon);
    assert_int_equal(parse_ok("2026-11-23T13:30:00+01:30"), noon);
    assert_int_equal(parse_ok("2026-11-23T07:00:00-05:00"), noon);
    assert_int_equal(parse_ok("2026-11-24T11:59:00+23:59"), noon);
    /* The offset crosses a day and a year boundary. */
    assert_int_equal(parse_ok("2025-12-31T23:00:00-01:00"), parse_ok("2026-01-01T00:00:00Z"));
    assert_int_equal(parse_ok("1970-01-01T00:00:00-01:00"), INT64_C(3600) * LC_USEC_PER_SEC);
    parse_bad("2026-11-23T12:00:00+24:00");
    parse_bad("2026-11-23T12:00:00+01:60");
    parse_bad("2026-11-23T12:00:00+0100");
    parse_bad("2026-11-23T12:00:00+01");
    parse_bad("2026-11-23T12:00:00+1:00");
    parse_bad("2026-11-23T12:00:00");
    parse_bad("2026-11-23T12:00:00UTC");
    parse_bad("2026-11-23T12:00:00Z ");
    parse_bad("2026-11-23T12:00:00ZZ");
}

static void time_parse_fractions(void **state)
{
    const int64_t base = INT64_C(1795435200) * LC_USEC_PER_SEC;
    (void)state;

    assert_int_equal(parse_ok("2026-11-23T12:00:00.5Z"), base + 500000);
    assert_int_equal(parse_ok("2026-11-23T12:00:00.05Z"), base + 50000);
    assert_int_equal(parse_ok("2026-11-23T12:00:00.123456Z"), base + 123456);
    assert_int_equal(parse_ok("2026-11-23T12:00:00.000001Z"), base + 1);
    assert_int_equal(parse_ok("2026-11-23T12:00:00.000000Z"), base);
    assert_int_equal(parse_ok("2026-11-23T13:00:00.999999+01:00"), base + 999999);
    parse_bad("2026-11-23T12:00:00.1234567Z");
    parse_bad("2026-11-23T12:00:00.0000000Z");
    parse_bad("2026-11-23T12:00:00.Z");
    parse_bad("2026-11-23T12:00:00,5Z");
    parse_bad("2026-11-23T12:00:00.5");
}

static void time_parse_leap_days(void **state)
{
    (void)state;
    assert_int_equal(parse_ok("2024-02-29T00:00:00Z"), INT64_C(1709164800) * LC_USEC_PER_SEC);
    assert_int_equal(parse_ok("2000-02-29T23:59:59Z"), INT64_C(951868799) * LC_USEC_PER_SEC);
    parse_bad("2023-02-29T00:00:00Z");
    parse_bad("2100-02-29T00:00:00Z");
    parse_bad("2024-02-30T00:00:00Z");
    assert_int_equal(parse_ok("2024-03-01T00:00:00Z") - parse_ok("2024-02-28T00:00:00Z"),
                     2 * INT64_C(86400) * LC_USEC_PER_SEC);
}

static void time_parse_rejects_impossible_fields(void **state)
{
    static const char *bad[] = {
        "2026-13-01T00:00:00Z", "2026-00-01T00:00:00Z", "2026-01-00T00:00:00Z",
        "2026-01-32T00:00:00Z", "2026-04-31T00:00:00Z", "2026-01-01T24:00:00Z",
        "2026-01-01T23:60:00Z", "2026-01-01T23:59:60Z", "2026-1-01T00:00:00Z",
        "26-01-01T00:00:00Z",   "2026-01-01 00:00:00Z", "2026-01-01",
        "2026/01/01T00:00:00Z", "",                     "2026-01-01T00:00Z",
        "+2026-01-01T00:00:00Z", "2026-01-01T0a:00:00Z", "12026-01-01T00:00:00Z",
    };
    (void)state;

    for (size_t i = 0; i < N(bad); i++)
        parse_bad(bad[i]);
    int64_t t = 7;
    assert_int_equal(lc_time_parse(NULL, &t), LC_ERR_INVALID);
    assert_int_equal(t, 7);
}

static void time_parse_before_1970_rejected(void **state)
{
    (void)state;
    parse_bad("1969-12-31T23:59:59Z");
    parse_bad("1969-12-31T23:59:59.999999Z");
    parse_bad("0000-01-01T00:00:00Z");
    /* 1970 by its digits, 1969 in UTC. */
    parse_bad("1970-01-01T00:30:00+01:00");
    parse_bad("1970-01-01T00:00:00.5+00:01");
}

static void time_parse_beyond_9999_rejected(void **state)
{
    char out[LC_RFC3339_MAX];
    (void)state;

    /* Year 9999 by its digits but 10000 in UTC: a time lc_time_format cannot
     * write must not be accepted, or a decoded message could not be re-encoded. */
    parse_bad("9999-12-31T23:59:59-00:01");
    assert_int_equal(lc_time_format(parse_ok("9999-12-31T23:58:59.999999-00:01"), out), LC_OK);
    assert_string_equal(out, "9999-12-31T23:59:59.999999Z");
}

static void time_format_whole_seconds_without_fraction(void **state)
{
    char out[LC_RFC3339_MAX];
    (void)state;

    assert_int_equal(lc_time_format(0, out), LC_OK);
    assert_string_equal(out, "1970-01-01T00:00:00Z");
    assert_int_equal(lc_time_format(INT64_C(1795435200) * LC_USEC_PER_SEC, out), LC_OK);
    assert_string_equal(out, "2026-11-23T12:00:00Z");
    assert_int_equal(lc_time_format(INT64_C(1709164800) * LC_USEC_PER_SEC, out), LC_OK);
    assert_string_equal(out, "2024-02-29T00:00:00Z");
    assert_int_equal(lc_time_format(INT64_C(951868799) * LC_USEC_PER_SEC, out), LC_OK);
    assert_string_equal(out, "2000-02-29T23:59:59Z");
}

static void time_format_microseconds_six_digits(void **state)
{
    char out[LC_RFC3339_MAX];
    (void)state;

    assert_int_equal(lc_time_format(1, out), LC_OK);
    assert_string_equal(out, "1970-01-01T00:00:00.000001Z");
    assert_int_equal(lc_time_format(500000, out), LC_OK);
    assert_string_equal(out, "1970-01-01T00:00:00.500000Z");
    assert_int_equal(lc_time_format(INT64_C(1795435200123456), out), LC_OK);
    assert_string_equal(out, "2026-11-23T12:00:00.123456Z");
    assert_int_equal(lc_time_format(INT64_C(253402300799999999), out), LC_OK);
    assert_string_equal(out, "9999-12-31T23:59:59.999999Z");
}

static void time_format_rejects_out_of_range(void **state)
{
    char out[LC_RFC3339_MAX];
    (void)state;

    assert_int_equal(lc_time_format(-1, out), LC_ERR_INVALID);
    assert_int_equal(lc_time_format(INT64_MIN, out), LC_ERR_INVALID);
    assert_int_equal(lc_time_format(INT64_C(253402300800000000), out), LC_ERR_INVALID);
    assert_int_equal(lc_time_format(INT64_MAX, out), LC_ERR_INVALID);
}

static void time_format_parse_round_trip(void **state)
{
    char out[LC_RFC3339_MAX];
    int64_t t, back;
    (void)state;

    /* Deterministic walk over 1970..9999 with an odd stride (so fractions and
     * every time of day come up), plus each day boundary around leap days. */
    uint64_t x = 0x9E3779B97F4A7C15u;
    for (int i = 0; i < 20000; i++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        t = (int64_t)(x % (uint64_t)INT64_C(253402300800000000));
        if (i % 3 == 0)
            t -= t % LC_USEC_PER_SEC;
        assert_int_equal(lc_time_format(t, out), LC_OK);
        back = -1;
        assert_int_equal(lc_time_parse(out, &back), LC_OK);
        assert_int_equal(back, t);
    }
    for (int64_t day = lc_days_from_civil(2096, 2, 27); day < lc_days_from_civil(2104, 3, 2);
         day++) {
        t = day * 86400 * LC_USEC_PER_SEC;
        assert_int_equal(lc_time_format(t, out), LC_OK);
        assert_int_equal(lc_time_parse(out, &back), LC_OK);
        assert_int_equal(back, t);
    }
}

static void time_days_from_civil_known_values(void **state)
{
    (void)state;
    assert_int_equal(lc_days_from_civil(1970, 1, 1), 0);
    assert_int_equal(lc_days_from_civil(1970, 1, 2), 1);
    assert_int_equal(lc_days_from_civil(1969, 12, 31), -1);
    assert_int_equal(lc_days_from_civil(2000, 3, 1), 11017);
    assert_int_equal(lc_days_from_civil(2026, 11, 23), 1795435200 / 86400);
    assert_int_equal(lc_days_from_civil(2101, 1, 1) - lc_days_from_civil(2100, 1, 1), 365);
    assert_int_equal(lc_days_from_civil(2001, 1, 1) - lc_days_from_civil(2000, 1, 1), 366);
}

static void time_clocks_are_plausible(void **state)
{
    (void)state;
    int64_t us = lc_now_us(), ms = lc_now_ms();
    /* After 2024-01-01 and before 2100. */
    assert_true(us > INT64_C(1704067200) * LC_USEC_PER_SEC);
    assert_true(us < INT64_C(4102444800) * LC_USEC_PER_SEC);
    assert_true(ms >= us / 1000);
    int64_t m1 = lc_mono_ms(), m2 = lc_mono_ms();
    assert_true(m2 >= m1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(codec_encode_all_types_exact_json),
        cmocka_unit_test(codec_round_trip_encode_decode_equal),
        cmocka_unit_test(codec_decode_then_encode_reproduces_document),
        cmocka_unit_test(codec_uuid_uppercase_accepted_encoded_lowercase),
        cmocka_unit_test(codec_missing_required_names_path),
        cmocka_unit_test(codec_missing_required_in_ledger_batch_names_index),
        cmocka_unit_test(codec_unknown_field_rejected),
        cmocka_unit_test(codec_wrong_json_type_invalid_field),
        cmocka_unit_test(codec_top_level_not_object_rejected),
        cmocka_unit_test(codec_i64_bounds),
        cmocka_unit_test(codec_i64_full_range),
        cmocka_unit_test(codec_u32_bounds),
        cmocka_unit_test(codec_ld_amount_bounds),
        cmocka_unit_test(codec_ld_negative_amount_rejected),
        cmocka_unit_test(codec_ld_code_and_timeout_bounds),
        cmocka_unit_test(codec_string_max_length_in_bytes),
        cmocka_unit_test(codec_embedded_nul_rejected),
        cmocka_unit_test(codec_bad_uuid_forms_rejected),
        cmocka_unit_test(codec_hash_forms),
        cmocka_unit_test(codec_time_field_parse_and_reject),
        cmocka_unit_test(codec_encode_time_out_of_range_fails),
        cmocka_unit_test(codec_enum_unknown_value_rejected),
        cmocka_unit_test(codec_enum_without_name_not_encoded),
        cmocka_unit_test(codec_flags_repeated_or_unknown_rejected),
        cmocka_unit_test(codec_flags_encoded_in_table_order),
        cmocka_unit_test(codec_flags_without_name_not_encoded),
        cmocka_unit_test(codec_array_over_max_count_rejected),
        cmocka_unit_test(codec_ld_batch_max_enforced),
        cmocka_unit_test(codec_failure_deep_in_array_frees_everything),
        cmocka_unit_test(codec_null_optional_treated_as_absent),
        cmocka_unit_test(codec_null_required_rejected),
        cmocka_unit_test(codec_failure_leaves_output_cleared),
        cmocka_unit_test(codec_encode_omits_zero_optional_fields),
        cmocka_unit_test(codec_encode_always_writes_zero_values),
        cmocka_unit_test(codec_ld_results_rep_encode_decode),
        cmocka_unit_test(codec_ld_transfer_round_trip),
        cmocka_unit_test(codec_clear_idempotent),
        cmocka_unit_test(codec_name_lookup),
        cmocka_unit_test(codec_strs_round_trip_and_limits),
        cmocka_unit_test(codec_str_min_length_enforced),
        cmocka_unit_test(time_parse_utc_z),
        cmocka_unit_test(time_parse_offsets),
        cmocka_unit_test(time_parse_fractions),
        cmocka_unit_test(time_parse_leap_days),
        cmocka_unit_test(time_parse_rejects_impossible_fields),
        cmocka_unit_test(time_parse_before_1970_rejected),
        cmocka_unit_test(time_parse_beyond_9999_rejected),
        cmocka_unit_test(time_format_whole_seconds_without_fraction),
        cmocka_unit_test(time_format_microseconds_six_digits),
        cmocka_unit_test(time_format_rejects_out_of_range),
        cmocka_unit_test(time_format_parse_round_trip),
        cmocka_unit_test(time_days_from_civil_known_values),
        cmocka_unit_test(time_clocks_are_plausible),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
