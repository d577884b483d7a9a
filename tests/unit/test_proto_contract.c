/*
 * test_proto_contract.c: proto/ and the C codec tables describe the same protocol.
 *
 *   - proto/ledger.json equals the catalogue built from ld_msgtypes and every
 *     descriptor reachable from them (on mismatch the expected JSON goes to stderr,
 *     ready to paste into the file);
 *   - every exchange in proto/examples/ (each <name>.json) is well-formed: its request parses,
 *     names a served type, and its body decodes and re-encodes unchanged; its reply
 *     is what the C serializers would send, with a body that decodes (ok) or a code
 *     from proto/errors.json (error), and an error from the codec really is the
 *     codec's answer to that body;
 *   - proto/errors.json lists exactly the envelope codes of lc_envelope.h and the
 *     result codes of ld_result_names, with ld_result_is_transient's flags;
 *   - the canonical encoding table of proto/README.md reproduces the hashes of the
 *     journal entries in the examples (this file encodes entries independently of
 *     services/ledger/ld_chain.c, as a client in another language would).
 *
 * proto/ is $COAL_PROTO_DIR, or "proto" relative to the working directory (tests
 * run from the repository root).
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "catalogue.h"
#include "lc_codec.h"
#include "lc_crypto.h"
#include "lc_envelope.h"
#include "lc_err.h"
#include "lc_id.h"
#include "lc_ledger_msg.h"
#include "lc_time.h"

#define MAX_EXAMPLES 64
#define CANONICAL_LEN 143 /* proto/README.md, "Canonical encoding" */

/* Fails the current test with a formatted message when cond is false. */
#define CHECK(cond, ...)                                                                           \
    do {                                                                                           \
        if (!(cond))                                                                               \
            fail_msg(__VA_ARGS__);                                                                 \
    } while (0)

/* Every envelope error code lc_envelope.h defines. */
static const char *const s_envelope_codes[] = {
    LC_E_INVALID_MESSAGE, LC_E_UNSUPPORTED_VERSION,
    LC_E_UNKNOWN_TYPE,    LC_E_MISSING_FIELD,
    LC_E_INVALID_FIELD,   LC_E_UNKNOWN_FIELD,
    LC_E_TOO_LARGE,       LC_E_DEADLINE,
    LC_E_UNAVAILABLE,     LC_E_INTERNAL,
    LC_E_NOT_FOUND,
};
#define N_ENVELOPE_CODES (sizeof s_envelope_codes / sizeof s_envelope_codes[0])

/* The catalogue's name of each enum / flag table. */
static const tc_enum_t s_enums[] = {
    {ld_kind_names, "kind"},
    {ld_account_flag_names, "account_flags"},
    {ld_transfer_flag_names, "transfer_flags"},
    {ld_entry_type_names, "entry_type"},
    {ld_result_names, "result"},
};
#define N_ENUMS (sizeof s_enums / sizeof s_enums[0])

/* ---- helpers ------------------------------------------------------------------- */

/* The catalogue as the C tables define it (proto/ledger.json's expected content). */
static json_t *catalogue_from_tables(void)
{
    tc_catalogue_t c;
    tc_catalogue_init(&c, s_enums, N_ENUMS);
    json_t *types = json_array();
    for (const ld_msgtype_t *t = ld_msgtypes; t->type; t++)
        json_array_append_new(types, tc_catalogue_type(&c, t->type, t->doc, t->request, t->reply));
    return tc_catalogue_json(&c, types, NULL);
}

/* One proto/examples file. */
typedef struct example {
    char name[256];
    json_t *root;
} example_t;

static int s_cmp_names(const void *a, const void *b)
{
    return strcmp(((const example_t *)a)->name, ((const example_t *)b)->name);
}

/* Loads every <name>.json of proto/examples, sorted by name; returns how many. */
static size_t load_examples(example_t *out)
{
    char dir[1024];
    snprintf(dir, sizeof dir, "%s/examples", tc_proto_dir());
    DIR *d = opendir(dir);
    CHECK(d != NULL, "cannot open %s", dir);
    size_t n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        size_t len = strlen(e->d_name);
        if (len < 6 || strcmp(e->d_name + len - 5, ".json") != 0)
            continue;
        if (n == MAX_EXAMPLES) {
            closedir(d);
            fail_msg("more than %d examples", MAX_EXAMPLES);
        }
        snprintf(out[n].name, sizeof out[n].name, "%s", e->d_name);
        n++;
    }
    closedir(d);
    qsort(out, n, sizeof *out, s_cmp_names);
    for (size_t i = 0; i < n; i++) {
        char rel[300];
        snprintf(rel, sizeof rel, "examples/%s", out[i].name);
        out[i].root = tc_proto_load(rel);
        CHECK(json_is_object(out[i].root), "%s: not a JSON object", out[i].name);
        CHECK(json_is_string(json_object_get(out[i].root, "description")), "%s: no description",
              out[i].name);
        CHECK(json_is_object(json_object_get(out[i].root, "request")), "%s: no request",
              out[i].name);
        CHECK(json_is_object(json_object_get(out[i].root, "reply")), "%s: no reply", out[i].name);
    }
    return n;
}

static void free_examples(example_t *ex, size_t n)
{
    for (size_t i = 0; i < n; i++)
        json_decref(ex[i].root);
}

/* Parses an example's request with lc_request_parse, as a server would. */
static void parse_request(const example_t *ex, lc_request_t *req)
{
    char *frame = json_dumps(json_object_get(ex->root, "request"), JSON_COMPACT);
    assert_non_null(frame);
    lc_codec_err_t cerr;
    int rc = lc_request_parse(frame, strlen(frame), req, &cerr);
    free(frame);
    if (rc != LC_OK) {
        lc_request_clear(req);
        fail_msg("%s: request does not parse: %s %s", ex->name, cerr.code, cerr.message);
    }
}

/* Decodes body with desc; returns the decoded struct (caller clears and frees) or
 * NULL with *err filled. */
static void *decode(const lc_msgdesc_t *desc, const json_t *body, lc_codec_err_t *err)
{
    void *buf = calloc(1, desc->size);
    assert_non_null(buf);
    if (lc_codec_decode(desc, body, buf, err) != LC_OK) {
        free(buf);
        return NULL;
    }
    return buf;
}

/* Decodes body with desc and checks that encoding gives the same JSON back. */
static void check_round_trip(const char *file, const char *what, const lc_msgdesc_t *desc,
                             const json_t *body)
{
    lc_codec_err_t cerr;
    void *buf = decode(desc, body, &cerr);
    CHECK(buf != NULL, "%s: %s does not decode as %s: %s %s", file, what, desc->name, cerr.code,
          cerr.message);
    json_t *again = lc_codec_encode(desc, buf);
    lc_codec_clear(desc, buf);
    free(buf);
    CHECK(again != NULL, "%s: %s does not encode again", file, what);
    bool same = json_equal((json_t *)body, again);
    if (!same) {
        char *s = json_dumps(again, JSON_INDENT(2));
        fprintf(stderr, "%s: %s re-encodes as\n%s\n", file, what, s ? s : "?");
        free(s);
    }
    json_decref(again);
    CHECK(same, "%s: %s is not in canonical form (see stderr)", file, what);
}

static json_t *errors_array(const char *key)
{
    json_t *errors = tc_proto_load("errors.json");
    json_t *a = json_object_get(errors, key);
    CHECK(json_is_array(a), "errors.json: no \"%s\" array", key);
    json_incref(a);
    json_decref(errors);
    return a;
}

/* The entry of errors.json's array with this code, or NULL. */
static json_t *find_code(json_t *arr, const char *code)
{
    size_t i;
    json_t *e;
    json_array_foreach(arr, i, e)
    {
        const char *c = json_string_value(json_object_get(e, "code"));
        if (c && strcmp(c, code) == 0)
            return e;
    }
    return NULL;
}

/* Checks an errors.json array: objects with a unique code and a one-line doc. */
static void check_error_list(json_t *arr, const char *key)
{
    size_t i, j;
    json_t *e, *f;
    json_array_foreach(arr, i, e)
    {
        const char *c = json_string_value(json_object_get(e, "code"));
        const char *doc = json_string_value(json_object_get(e, "doc"));
        CHECK(c != NULL, "errors.json %s[%zu]: no code", key, i);
        CHECK(doc && doc[0] && !strchr(doc, '\n'), "errors.json %s: %s needs a one-line doc", key,
              c);
        json_array_foreach(arr, j, f)
        {
            if (j != i) {
                const char *c2 = json_string_value(json_object_get(f, "code"));
                CHECK(!c2 || strcmp(c, c2) != 0, "errors.json %s: %s listed twice", key, c);
            }
        }
    }
}

/* ---- canonical encoding (proto/README.md's table, byte offsets) --------------------- */

static void put_be(uint8_t *p, uint64_t v, int bytes)
{
    for (int i = 0; i < bytes; i++)
        p[i] = (uint8_t)(v >> (8 * (bytes - 1 - i)));
}

static void canonical(const ld_entry_t *e, uint8_t out[CANONICAL_LEN])
{
    memset(out, 0, CANONICAL_LEN);
    put_be(out + 0, (uint64_t)e->seq, 8);
    put_be(out + 8, (uint64_t)e->type, 1);
    memcpy(out + 9, e->id.b, 16);
    memcpy(out + 25, e->debit_account_id.b, 16);
    memcpy(out + 41, e->credit_account_id.b, 16);
    put_be(out + 57, (uint64_t)e->amount, 8);
    memcpy(out + 65, e->pending_id.b, 16);
    memcpy(out + 81, e->reverses.b, 16);
    put_be(out + 97, e->flags, 4);
    put_be(out + 101, e->code, 4);
    put_be(out + 105, (uint64_t)e->kind, 2);
    memcpy(out + 107, e->user_data.b, 16);
    put_be(out + 123, e->timeout, 4);
    put_be(out + 127, (uint64_t)e->expires_at, 8);
    put_be(out + 135, (uint64_t)e->timestamp, 8);
}

/* ---- (a) the catalogue ------------------------------------------------------------ */

static void proto_catalogue_matches_codec_tables(void **state)
{
    (void)state;
    json_t *want = catalogue_from_tables();
    tc_catalogue_check_file(want, "ledger.json", "libcommon/lc_ledger_msg.c");
    json_decref(want);
}

static void proto_catalogue_documents_every_type_and_field(void **state)
{
    (void)state;
    json_t *cat = catalogue_from_tables();
    tc_catalogue_check_documented(cat);
    json_decref(cat);
}

/* ---- (b) the examples ------------------------------------------------------------- */

static void proto_examples_requests_decode_and_round_trip(void **state)
{
    (void)state;
    example_t ex[MAX_EXAMPLES];
    size_t n = load_examples(ex);
    CHECK(n > 0, "no examples in %s/examples", tc_proto_dir());
    for (size_t i = 0; i < n; i++) {
        lc_request_t req;
        parse_request(&ex[i], &req);
        const ld_msgtype_t *mt = ld_msgtype_find(req.type);
        if (!mt) {
            lc_request_clear(&req);
            fail_msg("%s: type %s is not in ld_msgtypes", ex[i].name, req.type);
        }
        json_t *body = json_incref(req.body);
        lc_request_clear(&req);
        const char *code = json_string_value(json_object_get(
            json_object_get(json_object_get(ex[i].root, "reply"), "error"), "code"));
        lc_codec_err_t cerr;
        void *buf = decode(mt->request, body, &cerr);
        if (buf) {
            lc_codec_clear(mt->request, buf);
            free(buf);
            check_round_trip(ex[i].name, "request body", mt->request, body);
        } else {
            /* Only an example of a refused body may hold one. */
            CHECK(code != NULL, "%s: request body does not decode (%s) but the reply is ok",
                  ex[i].name, cerr.message);
        }
        json_decref(body);
    }
    free_examples(ex, n);
}

static void proto_examples_envelopes_are_what_the_serializers_send(void **state)
{
    (void)state;
    example_t ex[MAX_EXAMPLES];
    size_t n = load_examples(ex);
    for (size_t i = 0; i < n; i++) {
        json_t *rq = json_object_get(ex[i].root, "request");
        json_t *rp = json_object_get(ex[i].root, "reply");
        lc_request_t req;
        parse_request(&ex[i], &req);
        CHECK(json_is_integer(json_object_get(rq, "deadline_ms")), "%s: request has no deadline_ms",
              ex[i].name);
        size_t len;
        char *frame =
            lc_request_serialize(req.type, req.request_id, req.deadline_ms, req.body, &len);
        json_t *want_rq = frame ? json_loads(frame, 0, NULL) : NULL;
        free(frame);
        json_t *err = json_object_get(rp, "error");
        json_t *body = json_object_get(rp, "body");
        CHECK(json_is_boolean(json_object_get(rp, "ok")), "%s: reply has no ok", ex[i].name);
        bool ok = json_is_true(json_object_get(rp, "ok"));
        if (ok)
            frame = lc_reply_serialize_ok(req.type, req.request_id, body, &len);
        else
            frame = lc_reply_serialize_error(
                req.type, req.request_id, json_string_value(json_object_get(err, "code")),
                json_string_value(json_object_get(err, "message")), &len);
        lc_request_clear(&req);
        CHECK(!ok || json_is_object(body), "%s: ok reply without a body object", ex[i].name);
        CHECK(ok || json_is_string(json_object_get(err, "code")), "%s: error without a code",
              ex[i].name);
        json_t *want_rp = frame ? json_loads(frame, 0, NULL) : NULL;
        free(frame);
        bool same_rq = json_equal(want_rq, rq), same_rp = json_equal(want_rp, rp);
        json_decref(want_rq);
        json_decref(want_rp);
        CHECK(same_rq, "%s: request envelope is not what lc_request_serialize sends", ex[i].name);
        CHECK(same_rp,
              "%s: reply envelope is not what lc_reply_serialize_* sends (type and "
              "request_id must echo the request's)",
              ex[i].name);
    }
    free_examples(ex, n);
}

static void proto_examples_replies_decode_or_name_known_errors(void **state)
{
    (void)state;
    example_t ex[MAX_EXAMPLES];
    size_t n = load_examples(ex);
    json_t *codes = errors_array("envelope");
    for (size_t i = 0; i < n; i++) {
        char *frame = json_dumps(json_object_get(ex[i].root, "reply"), JSON_COMPACT);
        assert_non_null(frame);
        lc_reply_t rep;
        int rc = lc_reply_parse(frame, strlen(frame), &rep);
        free(frame);
        if (rc != LC_OK) {
            lc_reply_clear(&rep);
            fail_msg("%s: reply does not parse with lc_reply_parse", ex[i].name);
        }
        lc_request_t req;
        parse_request(&ex[i], &req);
        const ld_msgtype_t *mt = ld_msgtype_find(req.type);
        bool same_id = strcmp(req.request_id, rep.request_id) == 0;
        lc_codec_err_t cerr;
        void *buf = mt ? decode(mt->request, req.body, &cerr) : NULL;
        if (buf) {
            lc_codec_clear(mt->request, buf);
            free(buf);
        }
        lc_request_clear(&req);
        if (!mt || !same_id) {
            lc_reply_clear(&rep);
            fail_msg("%s: unknown type or reply request_id differs", ex[i].name);
        }
        if (rep.ok) {
            json_t *body = json_incref(rep.body);
            lc_reply_clear(&rep);
            CHECK(buf != NULL, "%s: ok reply to a body the codec refuses", ex[i].name);
            check_round_trip(ex[i].name, "reply body", mt->reply, body);
            json_decref(body);
            continue;
        }
        bool listed = find_code(codes, rep.code) != NULL;
        bool codec_says =
            !buf && strcmp(cerr.code, rep.code) == 0 && strcmp(cerr.message, rep.message) == 0;
        char code[LC_CODE_MAX], message[256];
        snprintf(code, sizeof code, "%s", rep.code);
        snprintf(message, sizeof message, "%s", rep.message ? rep.message : "");
        lc_reply_clear(&rep);
        CHECK(listed, "%s: error code %s is not in proto/errors.json", ex[i].name, code);
        CHECK(buf || codec_says,
              "%s: the codec refuses the body with %s \"%s\", the example says %s \"%s\"",
              ex[i].name, cerr.code, cerr.message, code, message);
    }
    json_decref(codes);
    free_examples(ex, n);
}

static void proto_example_unknown_field_fails_with_that_code(void **state)
{
    (void)state;
    json_t *root = tc_proto_load("examples/error_unknown_field.json");
    json_t *rp = json_object_get(root, "reply");
    json_t *err = json_object_get(rp, "error");
    CHECK(json_is_false(json_object_get(rp, "ok")), "error_unknown_field.json: reply is ok");
    assert_string_equal(json_string_value(json_object_get(err, "code")), LC_E_UNKNOWN_FIELD);
    const char *type = json_string_value(json_object_get(json_object_get(root, "request"), "type"));
    const ld_msgtype_t *mt = type ? ld_msgtype_find(type) : NULL;
    assert_non_null(mt);
    lc_codec_err_t cerr;
    void *buf =
        decode(mt->request, json_object_get(json_object_get(root, "request"), "body"), &cerr);
    assert_null(buf);
    assert_string_equal(cerr.code, LC_E_UNKNOWN_FIELD);
    assert_string_equal(cerr.message, json_string_value(json_object_get(err, "message")));
    json_decref(root);
}

static void proto_every_type_has_an_example(void **state)
{
    (void)state;
    example_t ex[MAX_EXAMPLES];
    size_t n = load_examples(ex);
    for (const ld_msgtype_t *t = ld_msgtypes; t->type; t++) {
        bool found = false;
        for (size_t i = 0; i < n && !found; i++) {
            json_t *rp = json_object_get(ex[i].root, "reply");
            const char *type =
                json_string_value(json_object_get(json_object_get(ex[i].root, "request"), "type"));
            found = type && strcmp(type, t->type) == 0 && json_is_true(json_object_get(rp, "ok"));
        }
        CHECK(found, "no example of a successful %s", t->type);
    }
    const char *required[] = {"create_accounts.json", "create_transfers.json",
                              "two_phase.json",       "lookup_accounts.json",
                              "journal_read.json",    "error_unknown_field.json"};
    for (size_t k = 0; k < sizeof required / sizeof required[0]; k++) {
        bool found = false;
        for (size_t i = 0; i < n && !found; i++)
            found = strcmp(ex[i].name, required[k]) == 0;
        CHECK(found, "proto/examples/%s is missing", required[k]);
    }
    free_examples(ex, n);
}

static void proto_examples_show_linked_pair_and_two_phase(void **state)
{
    (void)state;
    json_t *ct = tc_proto_load("examples/create_transfers.json");
    json_t *tp = tc_proto_load("examples/two_phase.json");
    const lc_msgdesc_t *d = &ld_create_transfers_req_desc;
    lc_codec_err_t cerr;
    ld_create_transfers_req_t *a =
        decode(d, json_object_get(json_object_get(ct, "request"), "body"), &cerr);
    ld_create_transfers_req_t *b =
        decode(d, json_object_get(json_object_get(tp, "request"), "body"), &cerr);
    assert_non_null(a);
    assert_non_null(b);
    /* A linked pair: the first transfer links to the second, which closes the chain. */
    assert_true(a->ntransfers >= 2);
    assert_true(a->transfers[0].flags & LD_TF_LINKED);
    assert_false(a->transfers[a->ntransfers - 1].flags & LD_TF_LINKED);
    /* A hold, then a post of that hold. */
    assert_int_equal(b->ntransfers, 2);
    assert_true(b->transfers[0].flags & LD_TF_PENDING);
    assert_true(b->transfers[1].flags & LD_TF_POST_PENDING);
    assert_true(lc_id_eq(&b->transfers[1].pending_id, &b->transfers[0].id));
    lc_codec_clear(d, a);
    lc_codec_clear(d, b);
    free(a);
    free(b);
    json_decref(ct);
    json_decref(tp);
}

static void proto_journal_examples_follow_the_chain_rule(void **state)
{
    (void)state;
    example_t ex[MAX_EXAMPLES];
    size_t n = load_examples(ex);
    size_t checked = 0;
    for (size_t i = 0; i < n; i++) {
        json_t *rp = json_object_get(ex[i].root, "reply");
        const char *type =
            json_string_value(json_object_get(json_object_get(ex[i].root, "request"), "type"));
        const ld_msgtype_t *mt = type ? ld_msgtype_find(type) : NULL;
        if (!mt || mt->reply != &ld_entries_rep_desc || !json_is_true(json_object_get(rp, "ok")))
            continue;
        lc_codec_err_t cerr;
        ld_entries_rep_t *rep = decode(&ld_entries_rep_desc, json_object_get(rp, "body"), &cerr);
        CHECK(rep != NULL, "%s: entries do not decode: %s", ex[i].name, cerr.message);
        bool replay = strcmp(type, LD_TYPE_JOURNAL_READ) == 0;
        for (size_t k = 0; k < rep->nentries; k++) {
            const ld_entry_t *e = &rep->entries[k];
            uint8_t buf[32 + CANONICAL_LEN], h[LC_SHA256_LEN];
            memcpy(buf, e->prev_hash, 32);
            canonical(e, buf + 32);
            assert_int_equal(lc_sha256(buf, sizeof buf, h), LC_OK);
            CHECK(memcmp(h, e->hash, 32) == 0,
                  "%s: entry seq %lld: hash is not SHA-256("
                  "prev_hash || canonical entry)",
                  ex[i].name, (long long)e->seq);
            CHECK(e->seq <= rep->head_seq, "%s: entry seq %lld beyond head_seq", ex[i].name,
                  (long long)e->seq);
            if (k > 0) {
                CHECK(e->seq > rep->entries[k - 1].seq, "%s: entries out of order", ex[i].name);
                if (replay) {
                    CHECK(e->seq == rep->entries[k - 1].seq + 1, "%s: gap after seq %lld",
                          ex[i].name, (long long)rep->entries[k - 1].seq);
                    CHECK(memcmp(e->prev_hash, rep->entries[k - 1].hash, 32) == 0,
                          "%s: seq %lld does not chain to its predecessor", ex[i].name,
                          (long long)e->seq);
                }
            }
            checked++;
        }
        lc_codec_clear(&ld_entries_rep_desc, rep);
        free(rep);
    }
    free_examples(ex, n);
    CHECK(checked >= 2,
          "the examples hold %zu journal entries; journal_read.json should show "
          "a chained run",
          checked);
}

/* ---- (c) error codes ---------------------------------------------------------------- */

static void proto_errors_results_match_ld_result_names(void **state)
{
    (void)state;
    json_t *results = errors_array("results");
    check_error_list(results, "results");
    size_t count = 0;
    for (const lc_name_t *r = ld_result_names; r->name; r++, count++) {
        json_t *e = find_code(results, r->name);
        CHECK(e != NULL, "errors.json results: %s is missing", r->name);
        json_t *tr = json_object_get(e, "transient");
        CHECK(json_is_boolean(tr), "errors.json results: %s has no transient flag", r->name);
        CHECK(json_is_true(tr) == ld_result_is_transient((ld_result_t)r->value),
              "errors.json results: %s: transient must be %s", r->name,
              ld_result_is_transient((ld_result_t)r->value) ? "true" : "false");
    }
    assert_int_equal(count, LD_RESULT_COUNT);
    CHECK(json_array_size(results) == count,
          "errors.json results: %zu codes, ld_result_names has %zu", json_array_size(results),
          count);
    json_decref(results);
}

static void proto_errors_list_every_envelope_code(void **state)
{
    (void)state;
    json_t *codes = errors_array("envelope");
    check_error_list(codes, "envelope");
    for (size_t i = 0; i < N_ENVELOPE_CODES; i++)
        CHECK(find_code(codes, s_envelope_codes[i]) != NULL, "errors.json envelope: %s missing",
              s_envelope_codes[i]);
    CHECK(json_array_size(codes) == N_ENVELOPE_CODES,
          "errors.json envelope: %zu codes, lc_envelope.h defines %zu", json_array_size(codes),
          N_ENVELOPE_CODES);
    json_decref(codes);
}

/* lc_envelope.h's LC_E_* lines, read from the header itself, so that a code added
 * there without a line in errors.json (and in s_envelope_codes) is caught. */
static void proto_errors_cover_lc_envelope_header(void **state)
{
    (void)state;
    char path[1024];
    snprintf(path, sizeof path, "%s/../libcommon/lc_envelope.h", tc_proto_dir());
    FILE *f = fopen(path, "r");
    CHECK(f != NULL, "cannot read %s", path);
    json_t *codes = errors_array("envelope");
    char line[512];
    size_t seen = 0;
    while (fgets(line, sizeof line, f)) {
        if (strncmp(line, "#define LC_E_", 13) != 0)
            continue;
        char *q1 = strchr(line, '"');
        char *q2 = q1 ? strchr(q1 + 1, '"') : NULL;
        if (!q2) {
            fclose(f);
            fail_msg("%s: cannot read the code of %s", path, line);
        }
        *q2 = '\0';
        if (!find_code(codes, q1 + 1)) {
            fclose(f);
            fail_msg("errors.json envelope: %s (lc_envelope.h) is missing", q1 + 1);
        }
        seen++;
    }
    fclose(f);
    assert_int_equal(seen, N_ENVELOPE_CODES);
    json_decref(codes);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(proto_catalogue_matches_codec_tables),
        cmocka_unit_test(proto_catalogue_documents_every_type_and_field),
        cmocka_unit_test(proto_examples_requests_decode_and_round_trip),
        cmocka_unit_test(proto_examples_envelopes_are_what_the_serializers_send),
        cmocka_unit_test(proto_examples_replies_decode_or_name_known_errors),
        cmocka_unit_test(proto_example_unknown_field_fails_with_that_code),
        cmocka_unit_test(proto_every_type_has_an_example),
        cmocka_unit_test(proto_examples_show_linked_pair_and_two_phase),
        cmocka_unit_test(proto_journal_examples_follow_the_chain_rule),
        cmocka_unit_test(proto_errors_results_match_ld_result_names),
        cmocka_unit_test(proto_errors_list_every_envelope_code),
        cmocka_unit_test(proto_errors_cover_lc_envelope_header),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
