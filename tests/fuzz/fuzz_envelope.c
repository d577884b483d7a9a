/*
 * fuzz_envelope.c: bus frames from a hostile or broken peer.
 *
 * The input is one ZeroMQ frame. It is parsed as a request (lc_request_parse) and
 * as a reply (lc_reply_parse). A request that parses is served as far as the
 * codec goes: its body is parsed as an API call (lc_api_req_parse, with the
 * accessors handlers use: path ids, query integers, derived ids), and decoded
 * with the descriptor of its type when a service knows the type (ledger,
 * settlement, members). Whatever parses is serialized and parsed again and must
 * come back the same. No crash, no leak, no UB.
 */
#include "fuzz.h"
#include "fuzz_roundtrip.h"

#include "lc_api.h"
#include "lc_envelope.h"
#include "lc_err.h"
#include "lc_ledger_msg.h"
#include "lc_members_msg.h"
#include "lc_settlement_msg.h"

#include <stdbool.h>
#include <string.h>

/* True when obj's member key is absent, not a string, or a string without a NUL
 * (one with a NUL would read as a shorter C string than the peer sent). */
static bool s_no_nul(const json_t *obj, const char *key)
{
    const json_t *v = json_object_get(obj, key);
    return !json_is_string(v) || strlen(json_string_value(v)) == json_string_length(v);
}

/* The body of a request of a known type, decoded as its service would. */
static void s_decode_known(const lc_request_t *req)
{
    const ld_msgtype_t *lt = ld_msgtype_find(req->type);
    if (lt)
        fuzz_codec_round_trip(lt->request, req->body);
    const mb_msgtype_t *mt = mb_msgtype_find(req->type);
    if (mt && !mt->api)
        fuzz_codec_round_trip(mt->request, req->body);
    const st_msgtype_t *st = st_msgtype_find(req->type);
    if (st && !strcmp(st->type, ST_TYPE_PING))
        fuzz_codec_round_trip(st->request, req->body);
}

/* A parsed API call: the accessors handlers use, then the request body. */
static void s_api_call(const lc_request_t *req)
{
    lc_api_req_t call;
    char msg[256];
    int rc = lc_api_req_parse(req->body, &call, msg, sizeof msg);
    FUZZ_CHECK(rc == LC_OK || rc == LC_ERR_INVALID || rc == LC_ERR_NOMEM, "known value");
    if (rc != LC_OK) {
        FUZZ_CHECK(call.params == NULL && call.query == NULL && call.request == NULL &&
                       call.caller.owner == NULL && call.idempotency_key == NULL,
                   "a refused call owns nothing");
        return;
    }
    FUZZ_CHECK(json_is_object(call.params) && json_is_object(call.query) &&
                   json_is_object(call.request),
               "a parsed call has its three objects");
    const json_t *caller = json_object_get(req->body, "caller");
    FUZZ_CHECK(s_no_nul(req->body, "idempotency_key") && s_no_nul(caller, "role") &&
                   s_no_nul(caller, "key_id") && s_no_nul(caller, "partner_id") &&
                   s_no_nul(caller, "owner"),
               "the call's strings are read whole (no NUL cuts them short)");
    lc_id_t id;
    (void)lc_api_param_id(&call, "id", &id);
    (void)lc_api_param(&call, "card_number");
    int64_t v;
    rc = lc_api_query_i64(&call, "limit", 100, 1, LC_API_LIST_MAX, &v, msg, sizeof msg);
    FUZZ_CHECK(rc != LC_OK || (v >= 1 && v <= LC_API_LIST_MAX), "query within bounds");
    rc = lc_api_derive(&call, "earn", &id);
    FUZZ_CHECK(rc == LC_OK || rc == LC_ERR_INVALID, "derive");

    /* Rebuilt by the gateway side, the call parses to the same call. */
    json_t *again =
        lc_api_req_build(&call.caller, call.idempotency_key, call.params, call.query, call.request);
    FUZZ_CHECK(again != NULL, "lc_api_req_build of a parsed call");
    lc_api_req_t call2;
    rc = lc_api_req_parse(again, &call2, msg, sizeof msg);
    if (rc != LC_OK)
        fprintf(stderr, "rebuilt call refused: %s\n", msg);
    FUZZ_CHECK(rc == LC_OK, "a rebuilt call parses");
    FUZZ_CHECK(call2.caller.role == call.caller.role &&
                   lc_id_eq(&call2.caller.key_id, &call.caller.key_id) &&
                   lc_id_eq(&call2.caller.partner_id, &call.caller.partner_id) &&
                   json_equal(call2.params, call.params) && json_equal(call2.query, call.query) &&
                   json_equal(call2.request, call.request) &&
                   !call2.idempotency_key == !call.idempotency_key &&
                   (!call.idempotency_key || !strcmp(call2.idempotency_key, call.idempotency_key)),
               "a rebuilt call is the same call");
    lc_api_req_clear(&call2);
    json_decref(again);

    /* The request body against the descriptor of its type. */
    const st_msgtype_t *st = st_msgtype_find(req->type);
    const mb_msgtype_t *mt = mb_msgtype_find(req->type);
    const lc_msgdesc_t *desc = st ? st->request : (mt && mt->api) ? mt->request : NULL;
    if (desc) {
        void *out = malloc(desc->size);
        FUZZ_CHECK(out, "malloc");
        rc = lc_api_decode(&call, desc, out, msg, sizeof msg);
        FUZZ_CHECK(rc == LC_OK || rc == LC_ERR_INVALID || rc == LC_ERR_NOMEM, "known value");
        lc_codec_clear(desc, out);
        fuzz_codec_check_cleared(desc, out);
        free(out);
    }
    lc_api_req_clear(&call);
    FUZZ_CHECK(call.params == NULL && call.caller.owner == NULL, "lc_api_req_clear");
}

static void s_request(const uint8_t *data, size_t size)
{
    lc_request_t req;
    lc_codec_err_t err;
    memset(&err, 0, sizeof err);
    int rc = lc_request_parse(data, size, &req, &err);
    FUZZ_CHECK(memchr(req.type, '\0', sizeof req.type) &&
                   memchr(req.request_id, '\0', sizeof req.request_id),
               "type and request_id are C strings even on failure");
    if (rc != LC_OK) {
        FUZZ_CHECK(rc == LC_ERR_INVALID || rc == LC_ERR_NOMEM, "known value");
        FUZZ_CHECK(req.body == NULL, "a refused request owns no body");
        if (rc == LC_ERR_INVALID)
            FUZZ_CHECK(err.code != NULL, "a refusal has a code");
        /* The error reply names what could be read; it must serialize. */
        size_t len;
        char *reply = lc_reply_serialize_error(
            req.type, req.request_id, err.code ? err.code : LC_E_INTERNAL, err.message, &len);
        FUZZ_CHECK(reply != NULL, "an error reply to a refused request serializes");
        free(reply);
        lc_request_clear(&req);
        return;
    }
    FUZZ_CHECK(json_is_object(req.body), "a parsed request has an object body");
    json_t *root = json_loadb((const char *)data, size, 0, NULL);
    FUZZ_CHECK(root && s_no_nul(root, "type") && s_no_nul(root, "request_id"),
               "type and request_id are read whole (no NUL cuts them short)");
    json_decref(root);
    FUZZ_CHECK(req.deadline_ms >= 0, "deadline is not negative");

    /* Serialized again, it parses to the same request. */
    size_t len;
    char *frame = lc_request_serialize(req.type, req.request_id, req.deadline_ms, req.body, &len);
    FUZZ_CHECK(frame != NULL, "a parsed request serializes");
    lc_request_t again;
    rc = lc_request_parse(frame, len, &again, &err);
    FUZZ_CHECK(rc == LC_OK || (rc == LC_ERR_INVALID && len > LC_MESSAGE_MAX_BYTES),
               "a re-serialized request parses");
    if (rc == LC_OK)
        FUZZ_CHECK(!strcmp(again.type, req.type) && !strcmp(again.request_id, req.request_id) &&
                       again.deadline_ms == req.deadline_ms && json_equal(again.body, req.body),
                   "request round trip");
    lc_request_clear(&again);
    free(frame);

    s_decode_known(&req);
    s_api_call(&req);
    lc_request_clear(&req);
    FUZZ_CHECK(req.body == NULL, "lc_request_clear");
}

static void s_reply(const uint8_t *data, size_t size)
{
    lc_reply_t rep;
    int rc = lc_reply_parse(data, size, &rep);
    FUZZ_CHECK(memchr(rep.type, '\0', sizeof rep.type) &&
                   memchr(rep.request_id, '\0', sizeof rep.request_id) &&
                   memchr(rep.code, '\0', sizeof rep.code),
               "reply strings are C strings");
    if (rc != LC_OK) {
        FUZZ_CHECK(rc == LC_ERR_PROTO, "known value");
        lc_reply_clear(&rep);
        return;
    }
    size_t len;
    char *frame =
        rep.ok ? lc_reply_serialize_ok(rep.type, rep.request_id, rep.body, &len)
               : lc_reply_serialize_error(rep.type, rep.request_id, rep.code, rep.message, &len);
    FUZZ_CHECK(frame != NULL, "a parsed reply serializes");
    lc_reply_t again;
    rc = lc_reply_parse(frame, len, &again);
    FUZZ_CHECK(rc == LC_OK, "a re-serialized reply parses");
    FUZZ_CHECK(again.ok == rep.ok && !strcmp(again.type, rep.type) &&
                   !strcmp(again.request_id, rep.request_id),
               "reply round trip: envelope");
    if (rep.ok)
        FUZZ_CHECK(json_equal(again.body, rep.body), "reply round trip: body");
    else
        FUZZ_CHECK(!strcmp(again.code, rep.code) && again.message && rep.message &&
                       !strcmp(again.message, rep.message),
                   "reply round trip: error");
    lc_reply_clear(&again);
    free(frame);
    lc_reply_clear(&rep);
    FUZZ_CHECK(rep.body == NULL && rep.message == NULL, "lc_reply_clear");
}

int fuzz_envelope_one(const uint8_t *data, size_t size)
{
    s_request(data, size);
    s_reply(data, size);
    return 0;
}

FUZZ_ENTRY(fuzz_envelope_one)
