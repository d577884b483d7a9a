/*
 * test_envelope.c: unit tests for lc_envelope, the versioned JSON envelope every
 * bus request and reply travels in: what lc_request_parse accepts and the error
 * code it gives for everything else (keeping the type and request id it could
 * read, so the error reply can name them), the serializers, and lc_reply_parse.
 * A ledger body is carried through the envelope and decoded with lc_codec, as the
 * services do. Leaks are left to the ASan build.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lc_codec.h"
#include "lc_envelope.h"
#include "lc_err.h"
#include "lc_id.h"
#include "lc_ledger_msg.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

#define ID_A "01234567-89ab-7cde-8f01-23456789abcd"
#define ID_B "11111111-2222-7333-8444-555555555555"
#define TYPE "ledger.create_transfers"
#define RID "req-0001"

/* ---- helpers ------------------------------------------------------------------ */

/* Copies text with ' turned into " (readability) into a malloc'd buffer. */
static char *dq(const char *text)
{
    char *buf = strdup(text);
    assert_non_null(buf);
    for (char *p = buf; *p; p++)
        if (*p == '\'')
            *p = '"';
    return buf;
}

/* Parses a request written with ' for "; returns lc_request_parse's result. */
static int parse_req(const char *text, lc_request_t *req, lc_codec_err_t *err)
{
    char *buf = dq(text);
    memset(err, 0, sizeof *err);
    int rc = lc_request_parse(buf, strlen(buf), req, err);
    free(buf);
    return rc;
}

/* Asserts that text is refused with code, and that the type and request id kept
 * in the struct are want_type and want_rid ("" when unreadable). */
static void expect_req_fail(const char *text, const char *code, const char *want_type,
                            const char *want_rid)
{
    lc_request_t req;
    lc_codec_err_t err;

    memset(&req, 0x5A, sizeof req);
    if (parse_req(text, &req, &err) != LC_ERR_INVALID)
        fail_msg("accepted: %s", text);
    assert_non_null(err.code);
    if (strcmp(err.code, code) != 0)
        fail_msg("%s: code %s, want %s", text, err.code, code);
    assert_true(err.message[0] != '\0');
    assert_string_equal(req.type, want_type);
    assert_string_equal(req.request_id, want_rid);
    assert_null(req.body);
    lc_request_clear(&req);
}

static int parse_rep(const char *text, lc_reply_t *rep)
{
    char *buf = dq(text);
    int rc = lc_reply_parse(buf, strlen(buf), rep);
    free(buf);
    return rc;
}

/* A string of n copies of c. */
static char *repeat(char c, size_t n)
{
    char *s = malloc(n + 1);
    assert_non_null(s);
    memset(s, c, n);
    s[n] = '\0';
    return s;
}

/* ---- lc_request_parse: accepted --------------------------------------------------- */

static void envelope_parse_valid_request(void **state)
{
    lc_request_t req;
    lc_codec_err_t err;
    (void)state;

    assert_int_equal(parse_req("{'v':1,'type':'" TYPE "','request_id':'" RID "',"
                               "'deadline_ms':1763900000000,"
                               "'body':{'transfers':[{'id':'" ID_A "','amount':5}]}}",
                               &req, &err),
                     LC_OK);
    assert_string_equal(req.type, TYPE);
    assert_string_equal(req.request_id, RID);
    assert_int_equal(req.deadline_ms, INT64_C(1763900000000));
    assert_true(json_is_object(req.body));

    /* The body goes on to the codec. */
    ld_create_transfers_req_t body;
    assert_int_equal(lc_codec_decode(&ld_create_transfers_req_desc, req.body, &body, &err),
                     LC_OK);
    assert_int_equal(body.ntransfers, 1);
    assert_int_equal(body.transfers[0].amount, 5);
    lc_codec_clear(&ld_create_transfers_req_desc, &body);
    lc_request_clear(&req);
    assert_null(req.body);
}

static void envelope_parse_defaults_body_and_deadline(void **state)
{
    lc_request_t req;
    lc_codec_err_t err;
    (void)state;

    assert_int_equal(parse_req("{'request_id':'" RID "','type':'ledger.ping','v':1}", &req, &err),
                     LC_OK);
    assert_string_equal(req.type, "ledger.ping");
    assert_int_equal(req.deadline_ms, 0);
    assert_non_null(req.body);
    assert_true(json_is_object(req.body));
    assert_int_equal(json_object_size(req.body), 0);
    lc_request_clear(&req);

    /* Not NUL-terminated: only len bytes are read. */
    const char frame[] = "{\"v\":1,\"type\":\"t\",\"request_id\":\"r\"}GARBAGE";
    memset(&err, 0, sizeof err);
    assert_int_equal(lc_request_parse(frame, strlen(frame) - 7, &req, &err), LC_OK);
    assert_string_equal(req.request_id, "r");
    lc_request_clear(&req);
}

static void envelope_printable_limits(void **state)
{
    lc_request_t req;
    lc_codec_err_t err;
    char text[512];
    (void)state;

    /* request_id: 64 printable bytes at most; type: 63. */
    char *rid64 = repeat('r', 64), *rid65 = repeat('r', 65);
    char *type63 = repeat('t', 63), *type64 = repeat('t', 64);

    snprintf(text, sizeof text, "{'v':1,'type':'%s','request_id':'%s'}", type63, rid64);
    assert_int_equal(parse_req(text, &req, &err), LC_OK);
    assert_string_equal(req.request_id, rid64);
    assert_string_equal(req.type, type63);
    lc_request_clear(&req);

    snprintf(text, sizeof text, "{'v':1,'type':'t','request_id':'%s'}", rid65);
    expect_req_fail(text, LC_E_INVALID_MESSAGE, "t", "");
    snprintf(text, sizeof text, "{'v':1,'type':'%s','request_id':'r'}", type64);
    expect_req_fail(text, LC_E_INVALID_MESSAGE, "", "r");

    /* Every printable ASCII character is allowed, space and quote included. */
    assert_int_equal(
        parse_req("{'v':1,'type':'t','request_id':' !\\'#~\\\\'}", &req, &err), LC_OK);
    assert_string_equal(req.request_id, " !\"#~\\");
    lc_request_clear(&req);
    free(rid64);
    free(rid65);
    free(type63);
    free(type64);
}

/* ---- lc_request_parse: refused ---------------------------------------------------- */

static void envelope_rejects_non_json(void **state)
{
    static const char *bad[] = {"not json", "{", "{'v':1,}", "{'v':1}x", "{v:1}", "\x01",
                                "{'v':1,'type':'t','request_id':'r'",
                                "{'v':1,'type':'t\xff','request_id':'r'}"};
    lc_request_t req;
    lc_codec_err_t err;
    (void)state;

    for (size_t i = 0; i < N(bad); i++)
        expect_req_fail(bad[i], LC_E_INVALID_MESSAGE, "", "");
    memset(&err, 0, sizeof err);
    assert_int_equal(lc_request_parse("", 0, &req, &err), LC_ERR_INVALID);
    assert_string_equal(err.code, LC_E_INVALID_MESSAGE);
    lc_request_clear(&req);
    /* A NUL byte inside the frame. */
    const char frame[] = "{\"v\":1,\"type\":\"t\",\0\"request_id\":\"r\"}";
    assert_int_equal(lc_request_parse(frame, sizeof frame - 1, &req, &err), LC_ERR_INVALID);
    assert_string_equal(err.code, LC_E_INVALID_MESSAGE);
    lc_request_clear(&req);
    /* err may be NULL. */
    assert_int_equal(lc_request_parse("x", 1, &req, NULL), LC_ERR_INVALID);
    lc_request_clear(&req);
}

static void envelope_rejects_non_object(void **state)
{
    static const char *bad[] = {"[1,2]", "[{'v':1,'type':'t','request_id':'r'}]", "42", "'x'",
                                "null", "true"};
    (void)state;

    for (size_t i = 0; i < N(bad); i++)
        expect_req_fail(bad[i], LC_E_INVALID_MESSAGE, "", "");
}

static void envelope_rejects_missing_or_bad_version(void **state)
{
    (void)state;
    expect_req_fail("{'type':'t','request_id':'r'}", LC_E_INVALID_MESSAGE, "t", "r");
    expect_req_fail("{'v':'1','type':'t','request_id':'r'}", LC_E_INVALID_MESSAGE, "t", "r");
    expect_req_fail("{'v':1.0,'type':'t','request_id':'r'}", LC_E_INVALID_MESSAGE, "t", "r");
    expect_req_fail("{'v':null,'type':'t','request_id':'r'}", LC_E_INVALID_MESSAGE, "t", "r");
}

static void envelope_rejects_version_2_unsupported(void **state)
{
    (void)state;
    expect_req_fail("{'v':2,'type':'t','request_id':'r'}", LC_E_UNSUPPORTED_VERSION, "t", "r");
    expect_req_fail("{'v':0,'type':'" TYPE "','request_id':'" RID "'}", LC_E_UNSUPPORTED_VERSION,
                    TYPE, RID);
    expect_req_fail("{'v':-1,'type':'t','request_id':'r'}", LC_E_UNSUPPORTED_VERSION, "t", "r");
}

static void envelope_rejects_missing_type(void **state)
{
    (void)state;
    expect_req_fail("{'v':1,'request_id':'" RID "'}", LC_E_INVALID_MESSAGE, "", RID);
    expect_req_fail("{'v':1,'type':'','request_id':'" RID "'}", LC_E_INVALID_MESSAGE, "", RID);
    expect_req_fail("{'v':1,'type':7,'request_id':'" RID "'}", LC_E_INVALID_MESSAGE, "", RID);
    expect_req_fail("{'v':1,'type':'a\\nb','request_id':'" RID "'}", LC_E_INVALID_MESSAGE, "",
                    RID);
}

static void envelope_rejects_bad_request_id(void **state)
{
    static const char *bad[] = {
        "{'v':1,'type':'t'}",
        "{'v':1,'type':'t','request_id':''}",
        "{'v':1,'type':'t','request_id':42}",
        "{'v':1,'type':'t','request_id':null}",
        "{'v':1,'type':'t','request_id':'a\\u0001b'}",
        "{'v':1,'type':'t','request_id':'a\\tb'}",
        "{'v':1,'type':'t','request_id':'a\\nb'}",
        "{'v':1,'type':'t','request_id':'\\u007f'}",
        "{'v':1,'type':'t','request_id':'caf\xc3\xa9'}",
        "{'v':1,'type':'t','request_id':'\\u00e9'}",
    };
    (void)state;

    for (size_t i = 0; i < N(bad); i++)
        expect_req_fail(bad[i], LC_E_INVALID_MESSAGE, "t", "");
}

static void envelope_rejects_embedded_nul_in_ids(void **state)
{
    /* A C string would end at the NUL and read "ab": it must be refused, not
     * truncated. (Today jansson refuses \u0000 for the envelope, which loads
     * without JSON_ALLOW_NUL; this pins the outcome whatever the mechanism.) */
    lc_request_t req;
    lc_codec_err_t err;
    json_t *root = json_pack("{s:i, s:s, s:s#}", "v", 1, "type", "t", "request_id", "ab\0cd",
                             (size_t)5);
    (void)state;

    assert_non_null(root);
    char *frame = json_dumps(root, JSON_COMPACT);
    assert_non_null(frame);
    assert_non_null(strstr(frame, "\\u0000"));
    assert_int_equal(lc_request_parse(frame, strlen(frame), &req, &err), LC_ERR_INVALID);
    assert_string_equal(err.code, LC_E_INVALID_MESSAGE);
    assert_string_equal(req.request_id, "");
    lc_request_clear(&req);
    free(frame);
    json_decref(root);
}

static void envelope_rejects_unknown_member(void **state)
{
    (void)state;
    expect_req_fail("{'v':1,'type':'" TYPE "','request_id':'" RID "','extra':1}",
                    LC_E_UNKNOWN_FIELD, TYPE, RID);
    expect_req_fail("{'v':1,'type':'" TYPE "','request_id':'" RID "','ok':true}",
                    LC_E_UNKNOWN_FIELD, TYPE, RID);
    expect_req_fail("{'v':1,'type':'t','request_id':'r','Body':{}}", LC_E_UNKNOWN_FIELD, "t",
                    "r");
    /* The version is judged first: a later version may add envelope members. */
    expect_req_fail("{'v':2,'type':'t','request_id':'r','x':null}", LC_E_UNSUPPORTED_VERSION, "t",
                    "r");
    expect_req_fail("{'type':'t','request_id':'r','x':null}", LC_E_INVALID_MESSAGE, "t", "r");
}

static void envelope_rejects_body_not_object(void **state)
{
    static const char *bodies[] = {"[]", "'x'", "1", "null", "true", "[{}]"};
    char text[256];
    (void)state;

    for (size_t i = 0; i < N(bodies); i++) {
        snprintf(text, sizeof text, "{'v':1,'type':'t','request_id':'r','body':%s}", bodies[i]);
        expect_req_fail(text, LC_E_INVALID_MESSAGE, "t", "r");
    }
}

static void envelope_rejects_bad_deadline(void **state)
{
    static const char *bad[] = {"-1", "1.5", "'1763900000000'", "true", "null", "{}"};
    char text[256];
    lc_request_t req;
    lc_codec_err_t err;
    (void)state;

    for (size_t i = 0; i < N(bad); i++) {
        snprintf(text, sizeof text, "{'v':1,'type':'t','request_id':'r','deadline_ms':%s}",
                 bad[i]);
        expect_req_fail(text, LC_E_INVALID_MESSAGE, "t", "r");
    }
    assert_int_equal(parse_req("{'v':1,'type':'t','request_id':'r','deadline_ms':0}", &req, &err),
                     LC_OK);
    assert_int_equal(req.deadline_ms, 0);
    lc_request_clear(&req);
}

static void envelope_rejects_duplicate_member(void **state)
{
    (void)state;
    expect_req_fail("{'v':1,'type':'t','request_id':'r','request_id':'s'}",
                    LC_E_INVALID_MESSAGE, "", "");
    expect_req_fail("{'v':1,'v':2,'type':'t','request_id':'r'}", LC_E_INVALID_MESSAGE, "", "");
}

/* Builds a valid request frame of exactly len bytes (padding a body string). */
static char *frame_of_length(size_t len)
{
    static const char head[] = "{\"v\":1,\"type\":\"t\",\"request_id\":\"r\",\"body\":{\"p\":\"";
    static const char tail[] = "\"}}";
    size_t fixed = strlen(head) + strlen(tail);
    assert_true(len > fixed);
    char *f = malloc(len + 1);
    assert_non_null(f);
    memcpy(f, head, strlen(head));
    memset(f + strlen(head), 'x', len - fixed);
    memcpy(f + len - strlen(tail), tail, strlen(tail) + 1);
    return f;
}

static void envelope_rejects_too_large(void **state)
{
    lc_request_t req;
    lc_codec_err_t err;
    (void)state;

    char *f = frame_of_length(LC_MESSAGE_MAX_BYTES);
    assert_int_equal(lc_request_parse(f, LC_MESSAGE_MAX_BYTES, &req, &err), LC_OK);
    assert_int_equal(strlen(f), LC_MESSAGE_MAX_BYTES);
    assert_true(json_string_length(json_object_get(req.body, "p")) > LC_MESSAGE_MAX_BYTES - 64);
    lc_request_clear(&req);
    free(f);

    f = frame_of_length(LC_MESSAGE_MAX_BYTES + 1);
    memset(&req, 0x5A, sizeof req);
    assert_int_equal(lc_request_parse(f, LC_MESSAGE_MAX_BYTES + 1, &req, &err), LC_ERR_INVALID);
    assert_string_equal(err.code, LC_E_TOO_LARGE);
    assert_null(req.body);
    assert_string_equal(req.type, "");
    lc_request_clear(&req);
    free(f);
}

/* ---- serializers and lc_reply_parse ------------------------------------------------ */

static void envelope_request_serialize_round_trip(void **state)
{
    ld_create_transfers_req_t body, back;
    lc_request_t req;
    lc_codec_err_t err;
    size_t len = 0;
    (void)state;

    memset(&body, 0, sizeof body);
    body.ntransfers = 2;
    body.transfers = calloc(2, sizeof *body.transfers);
    assert_non_null(body.transfers);
    assert_int_equal(lc_id_parse(ID_A, &body.transfers[0].id), LC_OK);
    body.transfers[0].amount = LD_AMOUNT_MAX;
    body.transfers[0].flags = LD_TF_LINKED;
    assert_int_equal(lc_id_parse(ID_B, &body.transfers[1].id), LC_OK);
    body.transfers[1].amount = 1;
    json_t *jbody = lc_codec_encode(&ld_create_transfers_req_desc, &body);
    assert_non_null(jbody);

    char *frame = lc_request_serialize(TYPE, RID, INT64_C(1763900000123), jbody, &len);
    assert_non_null(frame);
    assert_int_equal(len, strlen(frame));
    assert_int_equal(jbody->refcount, 1); /* borrowed, not kept */

    assert_int_equal(lc_request_parse(frame, len, &req, &err), LC_OK);
    assert_string_equal(req.type, TYPE);
    assert_string_equal(req.request_id, RID);
    assert_int_equal(req.deadline_ms, INT64_C(1763900000123));
    assert_true(json_equal(req.body, jbody));
    assert_int_equal(lc_codec_decode(&ld_create_transfers_req_desc, req.body, &back, &err),
                     LC_OK);
    assert_int_equal(back.ntransfers, 2);
    assert_true(back.transfers[0].amount == LD_AMOUNT_MAX);
    assert_int_equal(back.transfers[0].flags, LD_TF_LINKED);
    assert_true(lc_id_eq(&back.transfers[1].id, &body.transfers[1].id));

    lc_codec_clear(&ld_create_transfers_req_desc, &back);
    lc_codec_clear(&ld_create_transfers_req_desc, &body);
    lc_request_clear(&req);
    json_decref(jbody);
    free(frame);
}

static void envelope_request_serialize_without_body(void **state)
{
    lc_request_t req;
    lc_codec_err_t err;
    size_t len = 0;
    (void)state;

    char *frame = lc_request_serialize("ledger.ping", "p-1", 0, NULL, &len);
    assert_non_null(frame);
    assert_int_equal(lc_request_parse(frame, len, &req, &err), LC_OK);
    assert_string_equal(req.type, "ledger.ping");
    assert_int_equal(req.deadline_ms, 0);
    assert_int_equal(json_object_size(req.body), 0);
    lc_request_clear(&req);
    free(frame);

    /* Strings in the body are escaped and come back intact. */
    json_t *body = json_pack("{s:s}", "memo", "q\"b\\s/\n\xc3\xa9");
    frame = lc_request_serialize("t", "r", 5, body, &len);
    assert_non_null(frame);
    assert_int_equal(lc_request_parse(frame, len, &req, &err), LC_OK);
    assert_string_equal(json_string_value(json_object_get(req.body, "memo")), "q\"b\\s/\n\xc3\xa9");
    lc_request_clear(&req);
    free(frame);
    json_decref(body);
}

static void envelope_reply_ok_round_trip(void **state)
{
    lc_reply_t rep;
    size_t len = 0;
    (void)state;

    json_t *body = json_pack("{s:I, s:s}", "journal_seq", (json_int_t)42, "shard", "a");
    char *frame = lc_reply_serialize_ok("ledger.ping", RID, body, &len);
    assert_non_null(frame);
    assert_int_equal(len, strlen(frame));
    assert_int_equal(lc_reply_parse(frame, len, &rep), LC_OK);
    assert_true(rep.ok);
    assert_string_equal(rep.type, "ledger.ping");
    assert_string_equal(rep.request_id, RID);
    assert_true(json_equal(rep.body, body));
    assert_null(rep.message);
    assert_string_equal(rep.code, "");

    ld_ping_rep_t ping;
    lc_codec_err_t err;
    assert_int_equal(lc_codec_decode(&ld_ping_rep_desc, rep.body, &ping, &err), LC_OK);
    assert_int_equal(ping.journal_seq, 42);
    assert_string_equal(ping.shard, "a");
    lc_codec_clear(&ld_ping_rep_desc, &ping);
    lc_reply_clear(&rep);
    free(frame);
    json_decref(body);

    frame = lc_reply_serialize_ok("t", "r", NULL, &len);
    assert_non_null(frame);
    assert_int_equal(lc_reply_parse(frame, len, &rep), LC_OK);
    assert_true(rep.ok);
    assert_true(json_is_object(rep.body));
    assert_int_equal(json_object_size(rep.body), 0);
    lc_reply_clear(&rep);
    free(frame);
}

static void envelope_reply_error_round_trip(void **state)
{
    lc_reply_t rep;
    size_t len = 0;
    (void)state;

    char *frame = lc_reply_serialize_error(TYPE, RID, LC_E_INVALID_FIELD,
                                           "transfers[0].amount: must be between 0 and 9", &len);
    assert_non_null(frame);
    assert_int_equal(len, strlen(frame));
    assert_int_equal(lc_reply_parse(frame, len, &rep), LC_OK);
    assert_false(rep.ok);
    assert_string_equal(rep.type, TYPE);
    assert_string_equal(rep.request_id, RID);
    assert_string_equal(rep.code, LC_E_INVALID_FIELD);
    assert_string_equal(rep.message, "transfers[0].amount: must be between 0 and 9");
    assert_null(rep.body);
    lc_reply_clear(&rep);
    free(frame);

    /* A NULL message is written as "". */
    frame = lc_reply_serialize_error("t", "r", LC_E_INTERNAL, NULL, &len);
    assert_non_null(frame);
    assert_int_equal(lc_reply_parse(frame, len, &rep), LC_OK);
    assert_string_equal(rep.code, LC_E_INTERNAL);
    assert_string_equal(rep.message, "");
    lc_reply_clear(&rep);
    free(frame);

    /* Unreadable type and request id (answering garbage) are written as "". */
    frame = lc_reply_serialize_error(NULL, NULL, LC_E_INVALID_MESSAGE, "not valid JSON", &len);
    assert_non_null(frame);
    json_t *root = json_loadb(frame, len, 0, NULL);
    assert_non_null(root);
    assert_string_equal(json_string_value(json_object_get(root, "type")), "");
    assert_string_equal(json_string_value(json_object_get(root, "request_id")), "");
    assert_true(json_is_false(json_object_get(root, "ok")));
    assert_int_equal(json_integer_value(json_object_get(root, "v")), LC_PROTO_VERSION);
    assert_string_equal(json_string_value(json_object_get(json_object_get(root, "error"), "code")),
                        LC_E_INVALID_MESSAGE);
    json_decref(root);
    free(frame);
}

static void envelope_reply_parse_rejects_garbage(void **state)
{
    static const char *bad[] = {
        "",
        "garbage",
        "[1]",
        "{}",
        "{'v':1,'request_id':'r','ok':true,",
        "{'request_id':'r','ok':true,'body':{}}",
        "{'v':2,'request_id':'r','ok':true,'body':{}}",
        "{'v':'1','request_id':'r','ok':true,'body':{}}",
        "{'v':1,'request_id':'r','body':{}}",
        "{'v':1,'request_id':'r','ok':1,'body':{}}",
        "{'v':1,'ok':true,'body':{}}",
        "{'v':1,'request_id':'','ok':true,'body':{}}",
        "{'v':1,'request_id':'a\\u0001','ok':true,'body':{}}",
        "{'v':1,'request_id':'r','ok':false}",
        "{'v':1,'request_id':'r','ok':false,'error':'boom'}",
        "{'v':1,'request_id':'r','ok':false,'error':{'message':'m'}}",
        "{'v':1,'request_id':'r','ok':false,'error':{'code':5}}",
        "{'v':1,'request_id':'r','ok':true,'body':[]}",
        "{'v':1,'request_id':'r','ok':true,'body':'x'}",
    };
    lc_reply_t rep;
    (void)state;

    for (size_t i = 0; i < N(bad); i++) {
        memset(&rep, 0x5A, sizeof rep);
        if (parse_rep(bad[i], &rep) != LC_ERR_PROTO)
            fail_msg("lc_reply_parse accepted %s", bad[i]);
        assert_null(rep.body);
        assert_null(rep.message);
        lc_reply_clear(&rep);
    }
    /* Only len bytes are read. */
    const char frame[] = "{\"v\":1,\"request_id\":\"r\",\"ok\":true}";
    assert_int_equal(lc_reply_parse(frame, sizeof frame - 2, &rep), LC_ERR_PROTO);
    lc_reply_clear(&rep);
}

static void envelope_reply_parse_lenient_where_documented(void **state)
{
    lc_reply_t rep;
    (void)state;

    /* Error without message: message "". Success without body: empty object. */
    assert_int_equal(parse_rep("{'v':1,'request_id':'r','ok':false,'error':{'code':'internal'}}",
                               &rep),
                     LC_OK);
    assert_false(rep.ok);
    assert_string_equal(rep.code, "internal");
    assert_non_null(rep.message);
    assert_string_equal(rep.message, "");
    assert_string_equal(rep.type, "");
    lc_reply_clear(&rep);
    assert_int_equal(parse_rep("{'v':1,'type':'t','request_id':'r','ok':true}", &rep), LC_OK);
    assert_true(rep.ok);
    assert_int_equal(json_object_size(rep.body), 0);
    lc_reply_clear(&rep);
}

static void envelope_clear_idempotent(void **state)
{
    lc_request_t req;
    lc_reply_t rep;
    lc_codec_err_t err;
    (void)state;

    assert_int_equal(parse_req("{'v':1,'type':'t','request_id':'r','body':{'a':1}}", &req, &err),
                     LC_OK);
    lc_request_clear(&req);
    assert_null(req.body);
    lc_request_clear(&req);
    assert_null(req.body);

    assert_int_equal(parse_rep("{'v':1,'request_id':'r','ok':false,'error':{'code':'x',"
                               "'message':'m'}}",
                               &rep),
                     LC_OK);
    lc_reply_clear(&rep);
    assert_null(rep.message);
    assert_null(rep.body);
    lc_reply_clear(&rep);
    assert_null(rep.message);
}

static void envelope_printable_ascii(void **state)
{
    (void)state;
    assert_true(lc_printable_ascii("a", 2));
    assert_false(lc_printable_ascii("ab", 2)); /* length must be < max */
    assert_true(lc_printable_ascii("ab", 3));
    assert_false(lc_printable_ascii("", 10));
    assert_true(lc_printable_ascii(" ~", 10));
    assert_false(lc_printable_ascii("a\x1f", 10));
    assert_false(lc_printable_ascii("a\x7f", 10));
    assert_false(lc_printable_ascii("\xc3\xa9", 10));
    assert_false(lc_printable_ascii("\x80", 10));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(envelope_parse_valid_request),
        cmocka_unit_test(envelope_parse_defaults_body_and_deadline),
        cmocka_unit_test(envelope_printable_limits),
        cmocka_unit_test(envelope_rejects_non_json),
        cmocka_unit_test(envelope_rejects_non_object),
        cmocka_unit_test(envelope_rejects_missing_or_bad_version),
        cmocka_unit_test(envelope_rejects_version_2_unsupported),
        cmocka_unit_test(envelope_rejects_missing_type),
        cmocka_unit_test(envelope_rejects_bad_request_id),
        cmocka_unit_test(envelope_rejects_embedded_nul_in_ids),
        cmocka_unit_test(envelope_rejects_unknown_member),
        cmocka_unit_test(envelope_rejects_body_not_object),
        cmocka_unit_test(envelope_rejects_bad_deadline),
        cmocka_unit_test(envelope_rejects_duplicate_member),
        cmocka_unit_test(envelope_rejects_too_large),
        cmocka_unit_test(envelope_request_serialize_round_trip),
        cmocka_unit_test(envelope_request_serialize_without_body),
        cmocka_unit_test(envelope_reply_ok_round_trip),
        cmocka_unit_test(envelope_reply_error_round_trip),
        cmocka_unit_test(envelope_reply_parse_rejects_garbage),
        cmocka_unit_test(envelope_reply_parse_lenient_where_documented),
        cmocka_unit_test(envelope_clear_idempotent),
        cmocka_unit_test(envelope_printable_ascii),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
