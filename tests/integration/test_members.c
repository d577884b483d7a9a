/*
 * test_members.c: the members service against the real ledger, real ZeroMQ
 * sockets and a real PostgreSQL database. Requests are API calls built with
 * lc_api_req_build (as the gateway sends them) and the internal calls settlement
 * makes. Every refusal is checked to have written nothing, in the members schema
 * and in the ledger.
 */
#include "harness.h"
#include "lc_api.h"
#include "lc_err.h"
#include "lc_members_msg.h"
#include "lc_time.h"
#include "mb_card.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#define ATTEMPTS 5 /* members.code_attempts default */

static char s_db[64];
static th_ledger_t s_ledger;
static th_svc_t s_members;
static th_client_t s_mc; /* to the members service */
static th_client_t s_lc; /* to the ledger */

enum { PARTNER_KEY = 0x1001, PARTNER_ID = 0x2001, APP_KEY = 0x1002, ADMIN_KEY = 0x1003 };

static int setup_group(void **state)
{
    (void)state;
    th_db_create(s_db, sizeof s_db);
    th_ledger_start(&s_ledger, s_db);
    char env0[256];
    snprintf(env0, sizeof env0, "COAL_LEDGER_CONNECT=%s", s_ledger.endpoint);
    const char *env[] = {env0, NULL};
    th_svc_start(&s_members, "members", s_db, env);
    th_client_open_at(&s_mc, s_members.endpoint);
    th_client_open(&s_lc, &s_ledger);
    return 0;
}

static int teardown_group(void **state)
{
    (void)state;
    th_client_close(&s_mc);
    th_client_close(&s_lc);
    th_svc_stop(&s_members);
    th_ledger_stop(&s_ledger);
    return 0;
}

/* ---- helpers ----------------------------------------------------------------------- */

static int64_t s_sql(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int64_t s_sql(const char *fmt, ...)
{
    char sql[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(sql, sizeof sql, fmt, ap);
    va_end(ap);
    return th_sql_i64(s_db, sql);
}

/* Rows written so far by the members service and the ledger. */
static int64_t s_rows(void)
{
    return s_sql("SELECT (SELECT count(*) FROM members.members) + (SELECT count(*) FROM "
                 "members.cards) + (SELECT count(*) FROM members.codes) + (SELECT count(*) FROM "
                 "members.status_events) + (SELECT count(*) FROM ledger.journal)");
}

/* Sends an API call as role with idempotency key idem (NULL: none); params and
 * request are stolen (NULL: empty). Returns the reply body, or NULL with code. */
static json_t *s_api(const char *type, int role, const char *idem, json_t *params, json_t *request,
                     char *code, size_t codelen)
{
    lc_api_caller_t caller = {.role = role};
    char owner[64], idtext[LC_ID_STRLEN + 1];
    switch (role) {
    case LC_ROLE_PARTNER:
        caller.key_id = th_id(PARTNER_KEY);
        caller.partner_id = th_id(PARTNER_ID);
        th_id_text(PARTNER_ID, idtext);
        snprintf(owner, sizeof owner, "partner:%s", idtext);
        break;
    case LC_ROLE_APP:
        caller.key_id = th_id(APP_KEY);
        th_id_text(APP_KEY, idtext);
        snprintf(owner, sizeof owner, "key:%s", idtext);
        break;
    default:
        caller.key_id = th_id(ADMIN_KEY);
        th_id_text(ADMIN_KEY, idtext);
        snprintf(owner, sizeof owner, "key:%s", idtext);
        break;
    }
    caller.owner = owner;
    json_t *body = lc_api_req_build(&caller, idem, params, NULL, request);
    json_decref(params);
    json_decref(request);
    assert_non_null(body);
    return th_call(&s_mc, type, body, code, codelen);
}

static json_t *s_id_param(const char *id)
{
    return json_pack("{s:s}", "id", id);
}

/* Enrolls a member with idempotency key idem and an optional card; returns the
 * reply (new reference); fails the test on an error. */
static json_t *s_enroll(const char *idem, const char *card)
{
    char code[64];
    json_t *req = card ? json_pack("{s:s}", "card_number", card) : json_object();
    json_t *rep = s_api(MB_TYPE_ENROLL, LC_ROLE_PARTNER, idem, NULL, req, code, sizeof code);
    if (!rep)
        fail_msg("enroll %s failed: %s", idem, code);
    return rep;
}

static const char *s_str(const json_t *obj, const char *key)
{
    const char *v = json_string_value(json_object_get(obj, key));
    if (!v)
        fail_msg("reply has no string %s", key);
    return v;
}

/* A fresh valid card number. */
static void s_card(char out[MB_CARD_DIGITS + 1])
{
    assert_int_equal(mb_card_generate("7001", out), LC_OK);
}

/* The ledger's view of account id (new reference) or NULL. */
static json_t *s_ledger_account(const char *id)
{
    json_t *rep = th_call(&s_lc, LD_TYPE_LOOKUP_ACCOUNTS, json_pack("{s:[s]}", "ids", id), NULL, 0);
    assert_non_null(rep);
    json_t *a = json_incref(json_array_get(json_object_get(rep, "accounts"), 0));
    json_decref(rep);
    return a;
}

static bool s_has_flag(const json_t *account, const char *flag)
{
    size_t i;
    json_t *f;
    json_array_foreach(json_object_get(account, "flags"), i,
                       f) if (!strcmp(json_string_value(f), flag)) return true;
    return false;
}

/* Issues a code for member (app role); returns the code text in out. */
static void s_issue(const char *member, const char *idem, char out[16])
{
    char code[64];
    json_t *rep =
        s_api(MB_TYPE_ISSUE_CODE, LC_ROLE_APP, idem, s_id_param(member), NULL, code, sizeof code);
    if (!rep)
        fail_msg("issue_code failed: %s", code);
    snprintf(out, 16, "%s", s_str(rep, "code"));
    json_decref(rep);
}

/* consume_code; returns "ok" or the error code (static buffer). */
static const char *s_consume(const char *member, const char *text, uint64_t use)
{
    static char code[64];
    char use_id[LC_ID_STRLEN + 1];
    th_id_text(use, use_id);
    json_t *rep =
        th_call(&s_mc, MB_TYPE_CONSUME_CODE,
                json_pack("{s:s, s:s, s:s}", "member_id", member, "code", text, "use_id", use_id),
                code, sizeof code);
    if (rep) {
        json_decref(rep);
        snprintf(code, sizeof code, "ok");
    }
    return code;
}

/* ---- tests --------------------------------------------------------------------------- */

static void members_ping_answers(void **state)
{
    (void)state;
    char code[64];
    json_t *rep = th_call(&s_mc, MB_TYPE_PING, json_object(), code, sizeof code);
    assert_non_null(rep);
    assert_int_equal(json_object_size(rep), 0);
    json_decref(rep);
    rep = th_call(&s_mc, "members.nope", json_object(), code, sizeof code);
    assert_null(rep);
    assert_string_equal(code, "unknown_type");
}

static void members_enroll_creates_member_and_ledger_account(void **state)
{
    (void)state;
    char code[64];
    json_t *req = json_pack("{s:s, s:{s:b, s:b}}", "email", "ada@example.org", "consents",
                            "marketing", 1, "profiling", 0);
    json_t *rep =
        s_api(MB_TYPE_ENROLL, LC_ROLE_PARTNER, "enroll-create", NULL, req, code, sizeof code);
    if (!rep)
        fail_msg("enroll failed: %s", code);
    const char *id = s_str(rep, "id");
    const char *card = s_str(rep, "card_number");
    assert_true(mb_card_valid(card));
    assert_memory_equal(card, "7001", 4);
    assert_string_equal(s_str(rep, "status"), "active");

    char partner[LC_ID_STRLEN + 1];
    th_id_text(PARTNER_ID, partner);
    assert_int_equal(s_sql("SELECT count(*) FROM members.members WHERE id = '%s' AND "
                           "enrolled_by = '%s' AND consent_marketing AND NOT consent_profiling",
                           id, partner),
                     1);
    assert_int_equal(s_sql("SELECT count(*) FROM members.cards WHERE member_id = '%s' AND "
                           "card_number = '%s'",
                           id, card),
                     1);
    /* The email is stored, but only encrypted. */
    assert_int_equal(s_sql("SELECT count(*) FROM members.members WHERE id = '%s' AND email_enc "
                           "IS NOT NULL AND position(convert_to('ada@example.org', 'UTF8') in "
                           "email_enc) = 0",
                           id),
                     1);
    json_t *acct = s_ledger_account(id);
    assert_non_null(acct);
    assert_string_equal(s_str(acct, "kind"), "member");
    assert_true(s_has_flag(acct, "debits_must_not_exceed_credits"));
    assert_true(s_has_flag(acct, "lots"));
    assert_false(s_has_flag(acct, "frozen"));
    json_decref(acct);
    json_decref(rep);
}

static void members_enroll_retry_returns_same_member_once(void **state)
{
    (void)state;
    json_t *a = s_enroll("enroll-retry", NULL);
    int64_t rows = s_rows();
    json_t *b = s_enroll("enroll-retry", NULL);
    assert_true(json_equal(a, b));
    assert_int_equal(s_rows(), rows);
    assert_int_equal(s_sql("SELECT count(*) FROM ledger.journal WHERE id = '%s'", s_str(a, "id")),
                     1);
    /* Another key is another member. */
    json_t *c = s_enroll("enroll-retry-2", NULL);
    assert_string_not_equal(s_str(a, "id"), s_str(c, "id"));
    assert_string_not_equal(s_str(a, "card_number"), s_str(c, "card_number"));
    json_decref(a);
    json_decref(b);
    json_decref(c);
}

static void members_enroll_refuses_bad_cards_writing_nothing(void **state)
{
    (void)state;
    const char *bad[] = {"7001000000000019", "700100000000001",  "70010000000000123",
                         "7001-00000000001", "abcdefghijklmnop", ""};
    int64_t rows = s_rows();
    char code[64];
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char idem[32];
        snprintf(idem, sizeof idem, "enroll-bad-%zu", i);
        json_t *rep = s_api(MB_TYPE_ENROLL, LC_ROLE_PARTNER, idem, NULL,
                            json_pack("{s:s}", "card_number", bad[i]), code, sizeof code);
        assert_null(rep);
        assert_string_equal(code, "invalid_request");
    }
    json_t *rep = s_api(MB_TYPE_ENROLL, LC_ROLE_PARTNER, "enroll-bad-type", NULL,
                        json_pack("{s:i}", "card_number", 7001), code, sizeof code);
    assert_null(rep);
    assert_string_equal(code, "invalid_request");
    rep = s_api(MB_TYPE_ENROLL, LC_ROLE_PARTNER, "enroll-bad-email", NULL,
                json_pack("{s:s}", "email", "not an address"), code, sizeof code);
    assert_null(rep);
    assert_string_equal(code, "invalid_request");
    rep = s_api(MB_TYPE_ENROLL, LC_ROLE_PARTNER, NULL, NULL, NULL, code, sizeof code);
    assert_null(rep);
    assert_string_equal(code, "idempotency_key_required");
    rep = s_api(MB_TYPE_ENROLL, LC_ROLE_APP, "enroll-bad-role", NULL, NULL, code, sizeof code);
    assert_null(rep);
    assert_string_equal(code, "forbidden");
    assert_int_equal(s_rows(), rows);
}

static void members_enroll_refuses_unknown_fields(void **state)
{
    (void)state;
    int64_t rows = s_rows();
    char code[64];
    json_t *rep = s_api(MB_TYPE_ENROLL, LC_ROLE_PARTNER, "enroll-unknown", NULL,
                        json_pack("{s:i}", "points", 5), code, sizeof code);
    assert_null(rep);
    assert_string_equal(code, "invalid_request");
    rep = s_api(MB_TYPE_ENROLL, LC_ROLE_PARTNER, "enroll-unknown-2", NULL,
                json_pack("{s:{s:b}}", "consents", "spam", 1), code, sizeof code);
    assert_null(rep);
    assert_string_equal(code, "invalid_request");
    /* A body that is not an API call at all. */
    rep = th_call(&s_mc, MB_TYPE_ENROLL, json_pack("{s:s}", "card_number", "x"), code, sizeof code);
    assert_null(rep);
    assert_string_equal(code, "invalid_request");
    assert_int_equal(s_rows(), rows);
}

static void members_enroll_duplicate_card_conflicts(void **state)
{
    (void)state;
    char card[MB_CARD_DIGITS + 1], code[64];
    s_card(card);
    json_t *a = s_enroll("enroll-dup-a", card);
    assert_string_equal(s_str(a, "card_number"), card);
    int64_t rows = s_rows();
    json_t *rep = s_api(MB_TYPE_ENROLL, LC_ROLE_PARTNER, "enroll-dup-b", NULL,
                        json_pack("{s:s}", "card_number", card), code, sizeof code);
    assert_null(rep);
    assert_string_equal(code, "conflict");
    assert_int_equal(s_rows(), rows); /* no member, no ledger account */
    json_decref(a);
}

static void members_add_card_adds_household_cards(void **state)
{
    (void)state;
    char card[MB_CARD_DIGITS + 1], code[64];
    json_t *m = s_enroll("addcard-member", NULL);
    const char *id = s_str(m, "id");
    s_card(card);
    json_t *rep = s_api(MB_TYPE_ADD_CARD, LC_ROLE_PARTNER, "addcard-1", s_id_param(id),
                        json_pack("{s:s}", "card_number", card), code, sizeof code);
    if (!rep)
        fail_msg("add_card failed: %s", code);
    assert_string_equal(s_str(rep, "card_number"), card);
    assert_string_equal(s_str(rep, "member_id"), id);
    /* A retry answers the same and adds nothing. */
    int64_t rows = s_rows();
    json_t *again = s_api(MB_TYPE_ADD_CARD, LC_ROLE_PARTNER, "addcard-1", s_id_param(id),
                          json_pack("{s:s}", "card_number", card), code, sizeof code);
    assert_non_null(again);
    assert_true(json_equal(rep, again));
    assert_int_equal(s_rows(), rows);
    /* Generated. */
    json_t *gen = s_api(MB_TYPE_ADD_CARD, LC_ROLE_PARTNER, "addcard-2", s_id_param(id), NULL, code,
                        sizeof code);
    assert_non_null(gen);
    assert_true(mb_card_valid(s_str(gen, "card_number")));
    assert_int_equal(s_sql("SELECT count(*) FROM members.cards WHERE member_id = '%s'", id), 3);
    /* The new cards lead to the same member. */
    json_t *res = th_call(&s_mc, MB_TYPE_RESOLVE_CARD, json_pack("{s:s}", "card_number", card),
                          code, sizeof code);
    assert_non_null(res);
    assert_string_equal(s_str(res, "member_id"), id);
    assert_string_equal(s_str(res, "status"), "active");
    /* Refusals write nothing. */
    rows = s_rows();
    assert_null(s_api(MB_TYPE_ADD_CARD, LC_ROLE_PARTNER, "addcard-3", s_id_param(id),
                      json_pack("{s:s}", "card_number", s_str(m, "card_number")), code,
                      sizeof code));
    assert_string_equal(code, "conflict");
    assert_null(s_api(MB_TYPE_ADD_CARD, LC_ROLE_PARTNER, "addcard-4", s_id_param(id),
                      json_pack("{s:s}", "card_number", "1234"), code, sizeof code));
    assert_string_equal(code, "invalid_request");
    char nobody[LC_ID_STRLEN + 1];
    th_id_text(0xdead, nobody);
    assert_null(s_api(MB_TYPE_ADD_CARD, LC_ROLE_PARTNER, "addcard-5", s_id_param(nobody), NULL,
                      code, sizeof code));
    assert_string_equal(code, "not_found");
    assert_null(s_api(MB_TYPE_ADD_CARD, LC_ROLE_PARTNER, "addcard-6", s_id_param("not-a-uuid"),
                      NULL, code, sizeof code));
    assert_string_equal(code, "not_found");
    assert_int_equal(s_rows(), rows);
    json_decref(m);
    json_decref(rep);
    json_decref(again);
    json_decref(gen);
    json_decref(res);
}

static void members_card_balance_and_get_read_the_ledger(void **state)
{
    (void)state;
    char code[64], partner[LC_ID_STRLEN + 1], t1[LC_ID_STRLEN + 1], t2[LC_ID_STRLEN + 1],
        t3[LC_ID_STRLEN + 1];
    json_t *m = s_enroll("balance-member", NULL);
    const char *id = s_str(m, "id");
    const char *card = s_str(m, "card_number");
    json_t *bal = s_api(MB_TYPE_CARD_BALANCE, LC_ROLE_PARTNER, NULL,
                        json_pack("{s:s}", "card_number", card), NULL, code, sizeof code);
    if (!bal)
        fail_msg("card_balance failed: %s", code);
    assert_string_equal(s_str(bal, "member_id"), id);
    assert_int_equal(json_integer_value(json_object_get(bal, "available")), 0);
    assert_int_equal(json_integer_value(json_object_get(bal, "pending")), 0);
    assert_string_equal(s_str(bal, "tier"), "bronze");
    json_decref(bal);

    /* 500 points expiring in 2029, 70 that never expire, and a pending 30. */
    th_id_text(0x9001, partner);
    assert_string_equal(
        th_create_one(&s_lc, LD_TYPE_CREATE_ACCOUNTS, th_account(0x9001, "partner_issuance", NULL)),
        "ok");
    th_id_text(0x9101, t1);
    th_id_text(0x9102, t2);
    th_id_text(0x9103, t3);
    assert_string_equal(
        th_create_one(&s_lc, LD_TYPE_CREATE_TRANSFERS,
                      json_pack("{s:s, s:s, s:s, s:i, s:s}", "id", t1, "debit_account_id", partner,
                                "credit_account_id", id, "amount", 500, "expires_at",
                                "2029-12-31T23:59:59Z")),
        "ok");
    assert_string_equal(
        th_create_one(&s_lc, LD_TYPE_CREATE_TRANSFERS,
                      json_pack("{s:s, s:s, s:s, s:i}", "id", t2, "debit_account_id", partner,
                                "credit_account_id", id, "amount", 70)),
        "ok");
    assert_string_equal(th_create_one(&s_lc, LD_TYPE_CREATE_TRANSFERS,
                                      json_pack("{s:s, s:s, s:s, s:i, s:[s]}", "id", t3,
                                                "debit_account_id", partner, "credit_account_id",
                                                id, "amount", 30, "flags", "pending")),
                        "ok");
    bal = s_api(MB_TYPE_CARD_BALANCE, LC_ROLE_PARTNER, NULL,
                json_pack("{s:s}", "card_number", card), NULL, code, sizeof code);
    assert_non_null(bal);
    assert_int_equal(json_integer_value(json_object_get(bal, "available")), 570);
    assert_int_equal(json_integer_value(json_object_get(bal, "pending")), 30);
    json_decref(bal);

    json_t *get = s_api(MB_TYPE_GET, LC_ROLE_APP, NULL, s_id_param(id), NULL, code, sizeof code);
    if (!get)
        fail_msg("get failed: %s", code);
    assert_string_equal(s_str(get, "id"), id);
    assert_int_equal(json_integer_value(json_object_get(get, "available")), 570);
    assert_int_equal(json_integer_value(json_object_get(get, "pending")), 30);
    assert_string_equal(s_str(get, "tier"), "bronze");
    json_t *cards = json_object_get(get, "card_numbers");
    assert_int_equal(json_array_size(cards), 1);
    assert_string_equal(json_string_value(json_array_get(cards, 0)), card);
    json_t *exp = json_object_get(get, "expiring");
    assert_int_equal(json_array_size(exp), 1);
    assert_int_equal(json_integer_value(json_object_get(json_array_get(exp, 0), "points")), 500);
    assert_string_equal(s_str(json_array_get(exp, 0), "expires_at"), "2029-12-31T23:59:59Z");
    json_decref(get);

    /* Unknown and malformed cards, unknown members. */
    char unknown[MB_CARD_DIGITS + 1];
    s_card(unknown);
    assert_null(s_api(MB_TYPE_CARD_BALANCE, LC_ROLE_PARTNER, NULL,
                      json_pack("{s:s}", "card_number", unknown), NULL, code, sizeof code));
    assert_string_equal(code, "not_found");
    assert_null(s_api(MB_TYPE_CARD_BALANCE, LC_ROLE_PARTNER, NULL,
                      json_pack("{s:s}", "card_number", "12"), NULL, code, sizeof code));
    assert_string_equal(code, "not_found");
    char nobody[LC_ID_STRLEN + 1];
    th_id_text(0xdead, nobody);
    assert_null(s_api(MB_TYPE_GET, LC_ROLE_APP, NULL, s_id_param(nobody), NULL, code, sizeof code));
    assert_string_equal(code, "not_found");
    assert_null(th_call(&s_mc, MB_TYPE_RESOLVE_CARD, json_pack("{s:s}", "card_number", unknown),
                        code, sizeof code));
    assert_string_equal(code, "not_found");
    assert_null(th_call(&s_mc, MB_TYPE_RESOLVE_CARD, json_object(), code, sizeof code));
    assert_string_equal(code, "missing_field");
    json_decref(m);
}

static void members_codes_are_single_use_and_hashed(void **state)
{
    (void)state;
    json_t *m = s_enroll("code-member", NULL);
    const char *id = s_str(m, "id");
    char text[16], code[64];
    int64_t before = lc_now_us();
    json_t *rep =
        s_api(MB_TYPE_ISSUE_CODE, LC_ROLE_APP, "code-1", s_id_param(id), NULL, code, sizeof code);
    if (!rep)
        fail_msg("issue_code failed: %s", code);
    snprintf(text, sizeof text, "%s", s_str(rep, "code"));
    assert_int_equal(strlen(text), 8);
    int64_t expires = 0;
    assert_int_equal(lc_time_parse(s_str(rep, "expires_at"), &expires), LC_OK);
    assert_true(expires > before && expires <= lc_now_us() + 600 * LC_USEC_PER_SEC);
    json_decref(rep);
    /* Only the hash is stored. */
    assert_int_equal(s_sql("SELECT count(*) FROM members.codes WHERE member_id = '%s' AND hash = "
                           "sha256(uuid_send(id) || uuid_send(member_id) || "
                           "convert_to('%s', 'UTF8'))",
                           id, text),
                     1);
    assert_string_equal(s_consume(id, text, 0x5001), "ok");
    assert_string_equal(s_consume(id, text, 0x5002), "invalid_member_code");
    /* The same use again (settlement's retry) is ok again. */
    assert_string_equal(s_consume(id, text, 0x5001), "ok");
    assert_int_equal(s_sql("SELECT count(*) FROM members.codes WHERE member_id = '%s' AND "
                           "used_at > 0",
                           id),
                     1);
    /* Another member cannot use a code. */
    json_t *other = s_enroll("code-member-other", NULL);
    s_issue(id, "code-2", text);
    assert_string_equal(s_consume(s_str(other, "id"), text, 0x5003), "invalid_member_code");
    assert_string_equal(s_consume(id, text, 0x5004), "ok");
    json_decref(other);
    json_decref(m);
}

static void members_expired_and_wrong_codes_are_refused(void **state)
{
    (void)state;
    json_t *m = s_enroll("expire-member", NULL);
    const char *id = s_str(m, "id");
    char text[16];
    s_issue(id, "expire-1", text);
    assert_int_equal(s_sql("WITH u AS (UPDATE members.codes SET expires_at = %lld WHERE "
                           "member_id = '%s' RETURNING 1) SELECT count(*) FROM u",
                           (long long)(lc_now_us() - 1), id),
                     1);
    assert_string_equal(s_consume(id, text, 0x6001), "invalid_member_code");
    s_issue(id, "expire-2", text);
    char wrong[16];
    snprintf(wrong, sizeof wrong, "%s", text);
    wrong[0] = wrong[0] == '9' ? '0' : (char)(wrong[0] + 1);
    assert_string_equal(s_consume(id, wrong, 0x6002), "invalid_member_code");
    assert_string_equal(s_consume(id, "abc", 0x6003), "invalid_member_code");
    assert_string_equal(s_consume(id, text, 0x6004), "ok");
    /* Bad bodies are envelope errors. */
    char code[64];
    assert_null(th_call(&s_mc, MB_TYPE_CONSUME_CODE,
                        json_pack("{s:s, s:s}", "member_id", id, "code", text), code, sizeof code));
    assert_string_equal(code, "missing_field");
    json_decref(m);
}

static void members_attempts_limit_invalidates_codes_and_locks(void **state)
{
    (void)state;
    json_t *m = s_enroll("attempts-member", NULL);
    const char *id = s_str(m, "id");
    char a[16], b[16];
    s_issue(id, "attempts-1", a);
    s_issue(id, "attempts-2", b);
    const char *wrong = strcmp(a, "00000000") && strcmp(b, "00000000") ? "00000000" : "11111111";
    for (int i = 0; i < ATTEMPTS - 1; i++)
        assert_string_equal(s_consume(id, wrong, 0x7000 + (uint64_t)i), "invalid_member_code");
    /* A resent wrong attempt counts once. */
    assert_string_equal(s_consume(id, wrong, 0x7000), "invalid_member_code");
    assert_int_equal(s_sql("SELECT count(*) FROM members.codes WHERE member_id = '%s' AND "
                           "failures = %d AND NOT invalidated",
                           id, ATTEMPTS - 1),
                     2);
    assert_string_equal(s_consume(id, wrong, 0x7100), "invalid_member_code");
    assert_int_equal(s_sql("SELECT count(*) FROM members.codes WHERE member_id = '%s' AND "
                           "invalidated",
                           id),
                     2);
    /* Locked for members.code_lock_minutes: the right codes no longer work, no new
     * code is issued, and attempts meanwhile are not counted. */
    assert_string_equal(s_consume(id, a, 0x7101), "member_code_locked");
    assert_string_equal(s_consume(id, b, 0x7102), "member_code_locked");
    char code[64];
    assert_null(s_api(MB_TYPE_ISSUE_CODE, LC_ROLE_APP, "attempts-3", s_id_param(id), NULL, code,
                      sizeof code));
    assert_string_equal(code, "member_code_locked");
    assert_int_equal(s_sql("SELECT count(*) FROM members.code_failures WHERE member_id = '%s'",
                           id),
                     ATTEMPTS);
    /* Once the wrong attempts are older than the window: the invalidated codes stay
     * dead, a newly issued code works. */
    assert_int_equal(s_sql("WITH u AS (UPDATE members.code_failures SET at = at - "
                           "(31::bigint * 60 * 1000000) WHERE member_id = '%s' RETURNING 1) "
                           "SELECT count(*) FROM u",
                           id),
                     ATTEMPTS);
    assert_string_equal(s_consume(id, b, 0x7103), "invalid_member_code");
    s_issue(id, "attempts-4", a);
    assert_string_equal(s_consume(id, a, 0x7104), "ok");
    json_decref(m);
}

static void members_freeze_blocks_codes_and_freezes_ledger_account(void **state)
{
    (void)state;
    char code[64], text[16];
    json_t *m = s_enroll("freeze-member", NULL);
    const char *id = s_str(m, "id");
    s_issue(id, "freeze-code-0", text);
    int64_t rows = s_rows();
    /* Refusals first: nothing written. */
    assert_null(
        s_api(MB_TYPE_FREEZE, LC_ROLE_ADMIN, NULL, s_id_param(id), NULL, code, sizeof code));
    assert_string_equal(code, "invalid_request");
    assert_null(s_api(MB_TYPE_FREEZE, LC_ROLE_ADMIN, NULL, s_id_param(id),
                      json_pack("{s:s, s:i}", "reason", "x", "extra", 1), code, sizeof code));
    assert_string_equal(code, "invalid_request");
    assert_null(s_api(MB_TYPE_FREEZE, LC_ROLE_PARTNER, NULL, s_id_param(id),
                      json_pack("{s:s}", "reason", "x"), code, sizeof code));
    assert_string_equal(code, "forbidden");
    char nobody[LC_ID_STRLEN + 1];
    th_id_text(0xdead, nobody);
    assert_null(s_api(MB_TYPE_FREEZE, LC_ROLE_ADMIN, NULL, s_id_param(nobody),
                      json_pack("{s:s}", "reason", "x"), code, sizeof code));
    assert_string_equal(code, "not_found");
    assert_int_equal(s_rows(), rows);

    json_t *rep = s_api(MB_TYPE_FREEZE, LC_ROLE_ADMIN, NULL, s_id_param(id),
                        json_pack("{s:s}", "reason", "card reported stolen"), code, sizeof code);
    if (!rep)
        fail_msg("freeze failed: %s", code);
    assert_string_equal(s_str(rep, "id"), id);
    assert_string_equal(s_str(rep, "status"), "frozen");
    json_decref(rep);
    json_t *acct = s_ledger_account(id);
    assert_true(s_has_flag(acct, "frozen"));
    json_decref(acct);
    char admin[LC_ID_STRLEN + 1];
    th_id_text(ADMIN_KEY, admin);
    assert_int_equal(s_sql("SELECT count(*) FROM members.status_events WHERE member_id = '%s' AND "
                           "status = 2 AND key_id = '%s' AND reason IS NULL AND "
                           "reason_enc IS NOT NULL AND position(convert_to('stolen', 'UTF8') "
                           "in reason_enc) = 0",
                           id, admin),
                     1);
    assert_null(s_api(MB_TYPE_ISSUE_CODE, LC_ROLE_APP, "freeze-code-1", s_id_param(id), NULL, code,
                      sizeof code));
    assert_string_equal(code, "member_frozen");
    assert_string_equal(s_consume(id, text, 0x8001), "member_frozen");
    json_t *res =
        th_call(&s_mc, MB_TYPE_RESOLVE_CARD,
                json_pack("{s:s}", "card_number", s_str(m, "card_number")), code, sizeof code);
    assert_non_null(res);
    assert_string_equal(s_str(res, "status"), "frozen");
    json_decref(res);

    rep = s_api(MB_TYPE_UNFREEZE, LC_ROLE_ADMIN, NULL, s_id_param(id),
                json_pack("{s:s}", "reason", "card found"), code, sizeof code);
    if (!rep)
        fail_msg("unfreeze failed: %s", code);
    assert_string_equal(s_str(rep, "status"), "active");
    json_decref(rep);
    acct = s_ledger_account(id);
    assert_false(s_has_flag(acct, "frozen"));
    json_decref(acct);
    assert_string_equal(s_consume(id, text, 0x8002), "ok");
    s_issue(id, "freeze-code-2", text);
    assert_string_equal(s_consume(id, text, 0x8003), "ok");
    json_decref(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(members_ping_answers),
        cmocka_unit_test(members_enroll_creates_member_and_ledger_account),
        cmocka_unit_test(members_enroll_retry_returns_same_member_once),
        cmocka_unit_test(members_enroll_refuses_bad_cards_writing_nothing),
        cmocka_unit_test(members_enroll_refuses_unknown_fields),
        cmocka_unit_test(members_enroll_duplicate_card_conflicts),
        cmocka_unit_test(members_add_card_adds_household_cards),
        cmocka_unit_test(members_card_balance_and_get_read_the_ledger),
        cmocka_unit_test(members_codes_are_single_use_and_hashed),
        cmocka_unit_test(members_expired_and_wrong_codes_are_refused),
        cmocka_unit_test(members_attempts_limit_invalidates_codes_and_locks),
        cmocka_unit_test(members_freeze_blocks_codes_and_freezes_ledger_account),
    };
    return cmocka_run_group_tests_name("members", tests, setup_group, teardown_group);
}
