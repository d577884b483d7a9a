/*
 * fuzz_api_body.c: the HTTP body path, from the bytes a client sends to the
 * struct a handler sees.
 *
 * The input is an HTTP request body. As the gateway does (gw_dispatch.c), it is
 * loaded with json_loadb (duplicates refused) and must be an object; it is then
 * wrapped in an API call (lc_api_req_build), framed as a bus request
 * (lc_request_serialize), and on the service side parsed back (lc_request_parse,
 * lc_api_req_parse) and decoded with lc_api_decode against every request
 * descriptor settlement and members serve, and the money object. Each decode is
 * also checked for the codec's contract and a stable re-encoding
 * (fuzz_roundtrip.h). The body is also read as each reply settlement and members
 * send (what the gateway relays, what settlement reads of members' answers). No
 * crash, no leak, no UB; decoded structs are cleared.
 */
#include "fuzz.h"
#include "fuzz_roundtrip.h"

#include "lc_api.h"
#include "lc_envelope.h"
#include "lc_err.h"
#include "lc_members_msg.h"
#include "lc_settlement_msg.h"

#include <string.h>

#define PARTNER_ID "0190f0a0-0000-7000-8000-000000000002"
#define KEY_ID "0190f0a0-0000-7000-8000-0000000000aa"

/* Every request descriptor an API body (or an internal call body) is decoded with. */
static size_t s_descs(const lc_msgdesc_t **out, size_t cap)
{
    size_t n = 0;
    for (const st_msgtype_t *t = st_msgtypes; t->type && n < cap; t++)
        out[n++] = t->request;
    for (const st_msgtype_t *t = st_members_calls; t->type && n < cap; t++)
        out[n++] = t->request;
    for (const mb_msgtype_t *t = mb_msgtypes; t->type && n < cap; t++)
        out[n++] = t->request;
    if (n < cap)
        out[n++] = &lc_money_desc;
    return n;
}

/* Every reply descriptor: the HTTP response bodies the gateway relays, and the
 * members replies settlement reads with its tolerant reader. */
static size_t s_reply_descs(const lc_msgdesc_t **out, size_t cap)
{
    size_t n = 0;
    for (const st_msgtype_t *t = st_msgtypes; t->type && n < cap; t++)
        out[n++] = t->reply;
    for (const mb_msgtype_t *t = mb_msgtypes; t->type && n < cap; t++)
        out[n++] = t->reply;
    return n;
}

/* A body as a reply: the codec's contract, and settlement's tolerant reader agrees
 * with the strict codec on every body the strict one accepts. */
static void s_as_reply(const json_t *body)
{
    static const lc_msgdesc_t *descs[64];
    static size_t ndescs;
    if (!ndescs)
        ndescs = s_reply_descs(descs, sizeof descs / sizeof descs[0]);
    for (size_t i = 0; i < ndescs; i++)
        fuzz_codec_round_trip(descs[i], body);
    for (const st_msgtype_t *t = st_members_calls; t->type; t++) {
        int strict = fuzz_codec_round_trip(t->reply, body);
        void *out = malloc(t->reply->size);
        FUZZ_CHECK(out, "malloc");
        lc_codec_err_t err;
        int rc = st_msg_decode_known(t->reply, body, out, &err);
        FUZZ_CHECK(strict != LC_OK || rc == LC_OK,
                   "the tolerant reader accepts what the codec does");
        if (rc == LC_OK)
            lc_codec_clear(t->reply, out);
        fuzz_codec_check_cleared(t->reply, out);
        free(out);
    }
}

/* The service side: the frame the gateway sent, parsed as a service would. */
static void s_service_side(const char *frame, size_t len, const json_t *body,
                           const lc_msgdesc_t **descs, size_t ndescs)
{
    lc_request_t req;
    lc_codec_err_t err;
    int rc = lc_request_parse(frame, len, &req, &err);
    FUZZ_CHECK(rc == LC_OK, "a frame the gateway built parses");
    lc_api_req_t call;
    char msg[256] = ""; /* defined bytes for the C-string check below */
    rc = lc_api_req_parse(req.body, &call, msg, sizeof msg);
    FUZZ_CHECK(rc == LC_OK, "an API call the gateway built parses");
    FUZZ_CHECK(json_equal(call.request, body), "the body arrives unchanged");
    FUZZ_CHECK(call.caller.role == LC_ROLE_PARTNER, "the caller arrives unchanged");

    for (size_t i = 0; i < ndescs; i++) {
        void *out = malloc(descs[i]->size);
        FUZZ_CHECK(out, "malloc");
        rc = lc_api_decode(&call, descs[i], out, msg, sizeof msg);
        FUZZ_CHECK(rc == LC_OK || rc == LC_ERR_INVALID || rc == LC_ERR_NOMEM,
                   "lc_api_decode answers a known value");
        FUZZ_CHECK(rc == LC_OK || memchr(msg, '\0', sizeof msg) != NULL, "msg is a C string");
        /* The same decision as the codec on the raw body, and its contract. */
        int direct = fuzz_codec_round_trip(descs[i], body);
        FUZZ_CHECK(direct == rc, "lc_api_decode decides as lc_codec_decode");
        lc_codec_clear(descs[i], out);
        fuzz_codec_check_cleared(descs[i], out);
        free(out);
    }
    lc_api_req_clear(&call);
    lc_request_clear(&req);
}

int fuzz_api_body_one(const uint8_t *data, size_t size)
{
    static const lc_msgdesc_t *descs[64];
    static size_t ndescs;
    if (!ndescs)
        ndescs = s_descs(descs, sizeof descs / sizeof descs[0]);

    json_error_t jerr;
    json_t *body =
        size ? json_loadb((const char *)data, size, JSON_REJECT_DUPLICATES, &jerr) : json_object();
    if (!body)
        return 0;
    if (!json_is_object(body)) { /* the gateway answers 400 itself */
        json_decref(body);
        return 0;
    }

    lc_api_caller_t caller = {.role = LC_ROLE_PARTNER, .owner = "partner:" PARTNER_ID};
    FUZZ_CHECK(lc_id_parse(KEY_ID, &caller.key_id) == LC_OK, "key id");
    FUZZ_CHECK(lc_id_parse(PARTNER_ID, &caller.partner_id) == LC_OK, "partner id");
    json_t *params = json_pack("{s:s}", "id", PARTNER_ID);
    json_t *call = lc_api_req_build(&caller, "idem-1", params, NULL, body);
    FUZZ_CHECK(call != NULL, "lc_api_req_build");
    size_t len = 0;
    char *frame = lc_request_serialize(ST_TYPE_EARN, "req-1", 0, call, &len);
    FUZZ_CHECK(frame != NULL, "lc_request_serialize");
    /* A body near the gateway's limit may frame larger than the bus allows; that is
     * the gateway's 413, not this path. */
    if (len <= LC_MESSAGE_MAX_BYTES)
        s_service_side(frame, len, body, descs, ndescs);

    s_as_reply(body);

    free(frame);
    json_decref(call);
    json_decref(params);
    json_decref(body);
    return 0;
}

FUZZ_ENTRY(fuzz_api_body_one)
