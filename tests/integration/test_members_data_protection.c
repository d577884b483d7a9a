/*
 * test_members_data_protection.c: personal data in the members service, against
 * the real ledger, real ZeroMQ sockets and a real PostgreSQL database (issue 4,
 * item 6):
 *   - email, name and freeze reasons are stored only sealed, each bound to its
 *     member and field;
 *   - erasure deletes the key: checked in the database itself as the superuser
 *     (the ciphertexts remain and open under no key that is left), in a pg_dump
 *     taken afterwards and in the service's log; the ledger (trial balance,
 *     journal, the member's account) does not move; erasing again is a no-op;
 *   - the export holds every stored personal datum of its member and nothing of
 *     another member;
 *   - consents are recorded with their history and never touch the ledger or
 *     stop codes from being issued and used.
 */
#include "harness.h"
#include "lc_api.h"
#include "lc_crypto.h"
#include "lc_err.h"
#include "lc_members_msg.h"
#include "lc_time.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

static char s_db[64];
static th_ledger_t s_ledger;
static th_svc_t s_members;
static th_client_t s_mc; /* to the members service */
static th_client_t s_lc; /* to the ledger */

enum { PARTNER_KEY = 0x1001, PARTNER_ID = 0x2001, APP_KEY = 0x1002, ADMIN_KEY = 0x1003 };
enum { ISSUER = 0x9001 }; /* a partner issuance account in the ledger */

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
    assert_string_equal(
        th_create_one(&s_lc, LD_TYPE_CREATE_ACCOUNTS, th_account(ISSUER, "partner_issuance", NULL)),
        "ok");
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

/* Sends an API call as role with idempotency key idem (NULL: none); params and
 * request are stolen (NULL: empty). Returns the reply body, or NULL with code. */
static json_t *s_api(const char *type, int role, const char *idem, json_t *params, json_t *request,
                     char *code, size_t codelen)
{
    lc_api_caller_t caller = {.role = role};
    char owner[64], idtext[LC_ID_STRLEN + 1];
    uint64_t key = role == LC_ROLE_PARTNER ? PARTNER_KEY
                   : role == LC_ROLE_APP   ? APP_KEY
                                           : ADMIN_KEY;
    caller.key_id = th_id(key);
    if (role == LC_ROLE_PARTNER) {
        caller.partner_id = th_id(PARTNER_ID);
        th_id_text(PARTNER_ID, idtext);
        snprintf(owner, sizeof owner, "partner:%s", idtext);
    } else {
        th_id_text(key, idtext);
        snprintf(owner, sizeof owner, "key:%s", idtext);
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

/* Calls type on member as role and fails the test unless it succeeds. */
static json_t *s_ok(const char *type, int role, const char *idem, const char *member,
                    json_t *request)
{
    char code[64];
    json_t *rep = s_api(type, role, idem, s_id_param(member), request, code, sizeof code);
    if (!rep)
        fail_msg("%s failed: %s", type, code);
    return rep;
}

/* Calls type on member as role and returns the error code (static) or "ok". */
static const char *s_err(const char *type, int role, const char *member, json_t *request)
{
    static char code[64];
    json_t *rep = s_api(type, role, NULL, s_id_param(member), request, code, sizeof code);
    if (rep) {
        json_decref(rep);
        return "ok";
    }
    return code;
}

static const char *s_str(const json_t *obj, const char *key)
{
    const char *v = json_string_value(json_object_get(obj, key));
    if (!v)
        fail_msg("reply has no string %s", key);
    return v;
}

typedef struct member {
    char id[LC_ID_STRLEN + 1];
    char card[MB_CARD_DIGITS + 1];
} member_t;

/* Enrolls a member with the given email and name (NULL: none) and consents. */
static void s_enroll(member_t *m, const char *idem, const char *email, const char *name,
                     bool marketing, bool profiling)
{
    char code[64];
    json_t *req =
        json_pack("{s:{s:b, s:b}}", "consents", "marketing", marketing, "profiling", profiling);
    if (email)
        json_object_set_new(req, "email", json_string(email));
    if (name)
        json_object_set_new(req, "name", json_string(name));
    json_t *rep = s_api(MB_TYPE_ENROLL, LC_ROLE_PARTNER, idem, NULL, req, code, sizeof code);
    if (!rep)
        fail_msg("enroll %s failed: %s", idem, code);
    snprintf(m->id, sizeof m->id, "%s", s_str(rep, "id"));
    snprintf(m->card, sizeof m->card, "%s", s_str(rep, "card_number"));
    json_decref(rep);
}

/* Credits points to the member from the issuance account (transfer id tid). */
static void s_credit(const member_t *m, uint64_t tid, int64_t points)
{
    char t[LC_ID_STRLEN + 1], issuer[LC_ID_STRLEN + 1];
    th_id_text(tid, t);
    th_id_text(ISSUER, issuer);
    assert_string_equal(
        th_create_one(&s_lc, LD_TYPE_CREATE_TRANSFERS,
                      json_pack("{s:s, s:s, s:s, s:I}", "id", t, "debit_account_id", issuer,
                                "credit_account_id", m->id, "amount", (json_int_t)points)),
        "ok");
}

/* The ledger's view of the member's account (new reference). */
static json_t *s_ledger_account(const char *id)
{
    json_t *rep = th_call(&s_lc, LD_TYPE_LOOKUP_ACCOUNTS, json_pack("{s:[s]}", "ids", id), NULL, 0);
    assert_non_null(rep);
    json_t *a = json_incref(json_array_get(json_object_get(rep, "accounts"), 0));
    json_decref(rep);
    assert_non_null(a);
    return a;
}

static json_t *s_trial_balance(void)
{
    json_t *tb = th_call(&s_lc, LD_TYPE_TRIAL_BALANCE, json_object(), NULL, 0);
    assert_non_null(tb);
    return tb;
}

/* Issues a code (app) and returns its text in out. */
static void s_issue(const member_t *m, const char *idem, char out[16])
{
    json_t *rep = s_ok(MB_TYPE_ISSUE_CODE, LC_ROLE_APP, idem, m->id, NULL);
    snprintf(out, 16, "%s", s_str(rep, "code"));
    json_decref(rep);
}

static const char *s_consume(const member_t *m, const char *text, uint64_t use)
{
    static char code[64];
    char use_id[LC_ID_STRLEN + 1];
    th_id_text(use, use_id);
    json_t *rep =
        th_call(&s_mc, MB_TYPE_CONSUME_CODE,
                json_pack("{s:s, s:s, s:s}", "member_id", m->id, "code", text, "use_id", use_id),
                code, sizeof code);
    if (rep) {
        json_decref(rep);
        snprintf(code, sizeof code, "ok");
    }
    return code;
}

/* The export as text (caller frees) and as JSON (*out, new reference). */
static char *s_export(const member_t *m, json_t **out)
{
    json_t *rep = s_ok(MB_TYPE_EXPORT, LC_ROLE_APP, NULL, m->id, NULL);
    char *text = json_dumps(rep, JSON_COMPACT | JSON_SORT_KEYS);
    assert_non_null(text);
    *out = rep;
    return text;
}

/* Reads a bytea column as the superuser: SELECT encode(<expr>, 'hex') ... */
static size_t s_bytes(const char *sql, uint8_t *out, size_t max)
{
    lc_db_t *db = th_db_connect("coal_admin", s_db);
    lc_dbres_t *res = NULL;
    if (lc_db_exec(db, sql, 0, NULL, &res) != LC_OK)
        fail_msg("%s: %s", sql, lc_db_error(db));
    size_t n = 0;
    const char *hex = lc_dbres_rows(res) > 0 ? lc_dbres_get(res, 0, 0) : NULL;
    if (hex) {
        n = strlen(hex) / 2;
        assert_true(n <= max);
        assert_int_equal(lc_hex_decode(hex, out, n), LC_OK);
    }
    lc_dbres_free(&res);
    lc_db_destroy(&db);
    return n;
}

/* Tries to open a sealed value of member id (field label) under key. */
static bool s_opens(const uint8_t key[LC_AEAD_KEY_LEN], const char *id, const char *label,
                    const uint8_t *sealed, size_t len, const char *want)
{
    lc_id_t m;
    assert_int_equal(lc_id_parse(id, &m), LC_OK);
    uint8_t aad[64];
    memcpy(aad, m.b, sizeof m.b);
    memcpy(aad + sizeof m.b, label, strlen(label));
    uint8_t *pt = NULL;
    size_t ptlen = 0;
    if (lc_aead_open(key, aad, sizeof m.b + strlen(label), sealed, len, &pt, &ptlen) != LC_OK)
        return false;
    bool same = want && ptlen == strlen(want) && !memcmp(pt, want, ptlen);
    free(pt);
    return same;
}

/* Every key left in member_keys, each tried on the sealed value: none opens it. */
static void s_no_key_opens(const char *id, const char *label, const uint8_t *sealed, size_t len)
{
    lc_db_t *db = th_db_connect("coal_admin", s_db);
    lc_dbres_t *res = NULL;
    assert_int_equal(
        lc_db_exec(db, "SELECT encode(key, 'hex') FROM members.member_keys", 0, NULL, &res), LC_OK);
    int rows = lc_dbres_rows(res);
    assert_true(rows > 0);
    for (int r = 0; r < rows; r++) {
        uint8_t key[LC_AEAD_KEY_LEN];
        assert_int_equal(lc_hex_decode(lc_dbres_get(res, r, 0), key, sizeof key), LC_OK);
        lc_id_t m;
        assert_int_equal(lc_id_parse(id, &m), LC_OK);
        uint8_t aad[64], *pt = NULL;
        size_t ptlen = 0;
        memcpy(aad, m.b, sizeof m.b);
        memcpy(aad + sizeof m.b, label, strlen(label));
        if (lc_aead_open(key, aad, sizeof m.b + strlen(label), sealed, len, &pt, &ptlen) == LC_OK)
            fail_msg("a remaining key (row %d) opens an erased member's data", r);
        assert_null(pt);
    }
    lc_dbres_free(&res);
    lc_db_destroy(&db);
}

/* The whole of a file (caller frees); "" when it cannot be read. */
static char *s_slurp(const char *path)
{
    FILE *f = fopen(path, "rb");
    size_t cap = 1 << 16, n = 0;
    char *buf = malloc(cap);
    assert_non_null(buf);
    while (f && !feof(f)) {
        if (cap - n < 4096) {
            cap *= 2;
            buf = realloc(buf, cap);
            assert_non_null(buf);
        }
        n += fread(buf + n, 1, cap - n - 1, f);
        if (ferror(f))
            break;
    }
    if (f)
        fclose(f);
    buf[n] = '\0';
    return buf;
}

/* A logical backup of the members schema taken now (pg_dump as the superuser;
 * caller frees), or NULL when pg_dump did not run. */
static char *s_pg_dump(void)
{
    const char *bins[] = {"pg_dump", "/usr/lib/postgresql/15/bin/pg_dump",
                          "/usr/lib/postgresql/16/bin/pg_dump"};
    char ci[512], cmd[1024], out[256];
    th_conninfo("coal_admin", s_db, ci, sizeof ci);
    snprintf(out, sizeof out, "%s.dump.sql", s_members.log);
    for (size_t i = 0; i < sizeof bins / sizeof bins[0]; i++) {
        snprintf(cmd, sizeof cmd, "%s --schema=members --dbname='%s' --file='%s' 2>/dev/null",
                 bins[i], ci, out);
        if (system(cmd) == 0) {
            char *text = s_slurp(out);
            remove(out);
            return text;
        }
    }
    return NULL;
}

/* ---- tests --------------------------------------------------------------------------- */

static void members_dp_personal_data_is_sealed_per_member_and_field(void **state)
{
    (void)state;
    member_t a;
    s_enroll(&a, "dp-seal-a", "grace@example.org", "Grace Hopper", false, false);
    /* Neither plaintext is in the row. */
    assert_int_equal(s_sql("SELECT count(*) FROM members.members WHERE id = '%s' AND "
                           "position(convert_to('grace@example.org', 'UTF8') in email_enc) = 0 "
                           "AND position(convert_to('Grace Hopper', 'UTF8') in name_enc) = 0",
                           a.id),
                     1);
    uint8_t key[LC_AEAD_KEY_LEN], email[512], name[512];
    char sql[256];
    snprintf(sql, sizeof sql,
             "SELECT encode(key, 'hex') FROM members.member_keys WHERE member_id = '%s'", a.id);
    assert_int_equal(s_bytes(sql, key, sizeof key), LC_AEAD_KEY_LEN);
    snprintf(sql, sizeof sql,
             "SELECT encode(email_enc, 'hex') FROM members.members WHERE id = '%s'", a.id);
    size_t elen = s_bytes(sql, email, sizeof email);
    snprintf(sql, sizeof sql, "SELECT encode(name_enc, 'hex') FROM members.members WHERE id = '%s'",
             a.id);
    size_t nlen = s_bytes(sql, name, sizeof name);
    /* They open under the member's key, as their own field of their own member only. */
    assert_true(s_opens(key, a.id, "", email, elen, "grace@example.org"));
    assert_true(s_opens(key, a.id, "name", name, nlen, "Grace Hopper"));
    assert_false(s_opens(key, a.id, "name", email, elen, "grace@example.org"));
    assert_false(s_opens(key, a.id, "", name, nlen, "Grace Hopper"));
    char other[LC_ID_STRLEN + 1];
    th_id_text(0xbeef, other);
    assert_false(s_opens(key, other, "", email, elen, "grace@example.org"));

    /* A name that is empty or holds control characters is refused. */
    char code[64];
    assert_null(s_api(MB_TYPE_ENROLL, LC_ROLE_PARTNER, "dp-seal-bad", NULL,
                      json_pack("{s:s}", "name", ""), code, sizeof code));
    assert_string_equal(code, "invalid_request");
    assert_null(s_api(MB_TYPE_ENROLL, LC_ROLE_PARTNER, "dp-seal-bad2", NULL,
                      json_pack("{s:s}", "name", "a\nb"), code, sizeof code));
    assert_string_equal(code, "invalid_request");

    /* A freeze reason is free text: sealed too, never in clear. */
    json_decref(s_ok(MB_TYPE_FREEZE, LC_ROLE_ADMIN, NULL, a.id,
                     json_pack("{s:s}", "reason", "Grace Hopper phoned: card lost")));
    json_decref(s_ok(MB_TYPE_UNFREEZE, LC_ROLE_ADMIN, NULL, a.id,
                     json_pack("{s:s}", "reason", "found it")));
    assert_int_equal(s_sql("SELECT count(*) FROM members.status_events WHERE member_id = '%s' "
                           "AND reason IS NULL AND reason_enc IS NOT NULL AND "
                           "position(convert_to('Grace', 'UTF8') in reason_enc) = 0",
                           a.id),
                     2);
    uint8_t reason[1024];
    snprintf(sql, sizeof sql,
             "SELECT encode(reason_enc, 'hex') FROM members.status_events WHERE member_id = '%s' "
             "AND status = 2",
             a.id);
    size_t rlen = s_bytes(sql, reason, sizeof reason);
    assert_true(
        s_opens(key, a.id, "status_reason", reason, rlen, "Grace Hopper phoned: card lost"));
}

static void members_dp_erasure_destroys_the_key_and_keeps_the_books(void **state)
{
    (void)state;
    member_t a, b;
    s_enroll(&a, "dp-erase-a", "ada@example.org", "Ada Lovelace", true, true);
    s_enroll(&b, "dp-erase-b", "bob@example.org", "Bob Builder", false, false);
    s_credit(&a, 0xe001, 500);
    s_credit(&b, 0xe002, 40);
    json_decref(s_ok(MB_TYPE_FREEZE, LC_ROLE_ADMIN, NULL, a.id,
                     json_pack("{s:s}", "reason", "Ada Lovelace reported fraud")));
    json_decref(
        s_ok(MB_TYPE_UNFREEZE, LC_ROLE_ADMIN, NULL, a.id, json_pack("{s:s}", "reason", "cleared")));
    char text[16];
    s_issue(&a, "dp-erase-code-1", text);

    /* What an attacker with the database would have had before. */
    uint8_t key[LC_AEAD_KEY_LEN], email[512], name[512], reason[1024];
    char sql[256], keyhex[2 * LC_AEAD_KEY_LEN + 1];
    snprintf(sql, sizeof sql,
             "SELECT encode(key, 'hex') FROM members.member_keys WHERE member_id = '%s'", a.id);
    assert_int_equal(s_bytes(sql, key, sizeof key), LC_AEAD_KEY_LEN);
    lc_hex_encode(key, sizeof key, keyhex);
    uint8_t bkey[LC_AEAD_KEY_LEN];
    char bkeyhex[2 * LC_AEAD_KEY_LEN + 1];
    snprintf(sql, sizeof sql,
             "SELECT encode(key, 'hex') FROM members.member_keys WHERE member_id = '%s'", b.id);
    assert_int_equal(s_bytes(sql, bkey, sizeof bkey), LC_AEAD_KEY_LEN);
    lc_hex_encode(bkey, sizeof bkey, bkeyhex);

    json_t *tb = s_trial_balance();
    json_t *acct = s_ledger_account(a.id);
    int64_t journal = s_sql("SELECT count(*) FROM ledger.journal");

    /* Erase: 200 {id, erased_at}. */
    int64_t before = lc_now_us();
    json_t *rep = s_ok(MB_TYPE_ERASE, LC_ROLE_ADMIN, NULL, a.id, NULL);
    assert_string_equal(s_str(rep, "id"), a.id);
    int64_t erased_at = 0;
    assert_int_equal(lc_time_parse(s_str(rep, "erased_at"), &erased_at), LC_OK);
    assert_true(erased_at >= before - 1000000 && erased_at <= lc_now_us());
    char first[64];
    snprintf(first, sizeof first, "%s", s_str(rep, "erased_at"));
    json_decref(rep);

    /* In the database: the key row is gone, the ciphertexts remain, and no key
     * that is left opens them. */
    assert_int_equal(s_sql("SELECT count(*) FROM members.member_keys WHERE member_id = '%s'", a.id),
                     0);
    assert_int_equal(s_sql("SELECT count(*) FROM members.member_keys WHERE member_id = '%s'", b.id),
                     1);
    snprintf(sql, sizeof sql,
             "SELECT encode(email_enc, 'hex') FROM members.members WHERE id = '%s'", a.id);
    size_t elen = s_bytes(sql, email, sizeof email);
    snprintf(sql, sizeof sql, "SELECT encode(name_enc, 'hex') FROM members.members WHERE id = '%s'",
             a.id);
    size_t nlen = s_bytes(sql, name, sizeof name);
    snprintf(sql, sizeof sql,
             "SELECT encode(reason_enc, 'hex') FROM members.status_events WHERE member_id = '%s' "
             "AND status = 2",
             a.id);
    size_t rlen = s_bytes(sql, reason, sizeof reason);
    assert_true(elen > LC_AEAD_OVERHEAD && nlen > LC_AEAD_OVERHEAD && rlen > LC_AEAD_OVERHEAD);
    s_no_key_opens(a.id, "", email, elen);
    s_no_key_opens(a.id, "name", name, nlen);
    s_no_key_opens(a.id, "status_reason", reason, rlen);
    /* (Only the destroyed key would have opened them.) */
    assert_true(s_opens(key, a.id, "", email, elen, "ada@example.org"));
    assert_int_equal(s_sql("SELECT count(*) FROM members.members WHERE id = '%s' AND erased_at = "
                           "%lld AND NOT consent_marketing AND NOT consent_profiling",
                           a.id, (long long)erased_at),
                     1);
    assert_int_equal(s_sql("SELECT count(*) FROM members.consent_events WHERE member_id = '%s' "
                           "AND source = 'erasure' AND NOT marketing AND NOT profiling",
                           a.id),
                     1);

    /* The books: trial balance, journal and the member's account unchanged. */
    json_t *tb2 = s_trial_balance();
    assert_true(json_equal(tb, tb2));
    assert_int_equal(json_integer_value(json_object_get(tb2, "sum")), 0);
    json_t *acct2 = s_ledger_account(a.id);
    assert_true(json_equal(acct, acct2));
    assert_int_equal(json_integer_value(json_object_get(acct2, "balance")), 500);
    assert_int_equal(s_sql("SELECT count(*) FROM ledger.journal"), journal);

    /* A backup taken afterwards holds none of it, nor the key. */
    char *dump = s_pg_dump();
    if (!dump)
        fail_msg("pg_dump did not run (it comes with the PostgreSQL packages)");
    assert_non_null(strstr(dump, "member_keys"));
    assert_non_null(strstr(dump, bkeyhex)); /* the dump is real: it holds b's key */
    assert_null(strstr(dump, "ada@example.org"));
    assert_null(strstr(dump, "Ada Lovelace"));
    assert_null(strstr(dump, "fraud"));
    assert_null(strstr(dump, keyhex));
    free(dump);
    /* Nor does the service's log (reasons and emails are never logged). */
    char *log = s_slurp(s_members.log);
    assert_non_null(strstr(log, "personal data erased"));
    assert_null(strstr(log, "ada@example.org"));
    assert_null(strstr(log, "Lovelace"));
    assert_null(strstr(log, "fraud"));
    free(log);

    /* Erasing again: the same answer, nothing written. */
    int64_t rows =
        s_sql("SELECT (SELECT count(*) FROM members.consent_events) + (SELECT count(*) "
              "FROM members.member_keys) + (SELECT sum(erased_at) FROM members.members)");
    rep = s_ok(MB_TYPE_ERASE, LC_ROLE_ADMIN, NULL, a.id, NULL);
    assert_string_equal(s_str(rep, "erased_at"), first);
    json_decref(rep);
    assert_int_equal(s_sql("SELECT (SELECT count(*) FROM members.consent_events) + (SELECT "
                           "count(*) FROM members.member_keys) + (SELECT sum(erased_at) FROM "
                           "members.members)"),
                     rows);

    /* The member still works: balance, codes, export without personal data. */
    json_t *get = s_ok(MB_TYPE_GET, LC_ROLE_APP, NULL, a.id, NULL);
    assert_int_equal(json_integer_value(json_object_get(get, "available")), 500);
    assert_true(json_is_true(json_object_get(get, "erased")));
    assert_string_equal(s_str(get, "erased_at"), first);
    assert_true(json_is_false(json_object_get(json_object_get(get, "consents"), "marketing")));
    json_decref(get);
    assert_string_equal(s_consume(&a, text, 0xe101), "ok");
    s_issue(&a, "dp-erase-code-2", text);
    assert_string_equal(s_consume(&a, text, 0xe102), "ok");
    /* A freeze after erasure works; its reason is not kept. */
    json_decref(s_ok(MB_TYPE_FREEZE, LC_ROLE_ADMIN, NULL, a.id,
                     json_pack("{s:s}", "reason", "Ada Lovelace again")));
    json_decref(
        s_ok(MB_TYPE_UNFREEZE, LC_ROLE_ADMIN, NULL, a.id, json_pack("{s:s}", "reason", "ok")));
    assert_int_equal(s_sql("SELECT count(*) FROM members.status_events WHERE member_id = '%s' "
                           "AND reason IS NULL AND reason_enc IS NULL",
                           a.id),
                     2);
    json_t *ex = NULL;
    char *etext = s_export(&a, &ex);
    assert_true(json_is_true(json_object_get(ex, "erased")));
    assert_int_equal(json_object_size(json_object_get(ex, "personal_data")), 0);
    assert_null(strstr(etext, "ada@"));
    assert_null(strstr(etext, "Lovelace"));
    assert_null(strstr(etext, "fraud"));
    json_t *events = json_object_get(ex, "status_events");
    assert_int_equal(json_array_size(events), 4);
    for (size_t i = 0; i < json_array_size(events); i++)
        assert_null(json_object_get(json_array_get(events, i), "reason"));
    assert_int_equal(json_array_size(json_object_get(ex, "codes")), 2);
    assert_int_equal(json_integer_value(json_object_get(json_object_get(ex, "balance"), "balance")),
                     500);
    free(etext);
    json_decref(ex);

    /* The other member is untouched. */
    json_t *bx = NULL;
    char *btext = s_export(&b, &bx);
    assert_string_equal(s_str(json_object_get(bx, "personal_data"), "email"), "bob@example.org");
    free(btext);
    json_decref(bx);

    /* Refusals. */
    char nobody[LC_ID_STRLEN + 1];
    th_id_text(0xdead, nobody);
    assert_string_equal(s_err(MB_TYPE_ERASE, LC_ROLE_ADMIN, nobody, NULL), "not_found");
    assert_string_equal(s_err(MB_TYPE_ERASE, LC_ROLE_ADMIN, "not-a-uuid", NULL), "not_found");
    assert_string_equal(s_err(MB_TYPE_ERASE, LC_ROLE_APP, b.id, NULL), "forbidden");
    assert_string_equal(s_err(MB_TYPE_ERASE, LC_ROLE_PARTNER, b.id, NULL), "forbidden");
    assert_string_equal(s_err(MB_TYPE_ERASE, LC_ROLE_ADMIN, b.id, json_pack("{s:i}", "x", 1)),
                        "invalid_request");
    assert_int_equal(s_sql("SELECT count(*) FROM members.member_keys WHERE member_id = '%s'", b.id),
                     1);
    json_decref(tb);
    json_decref(tb2);
    json_decref(acct);
    json_decref(acct2);
}

static void members_dp_erasure_clears_reasons_stored_in_clear_before_v2(void **state)
{
    (void)state;
    member_t a;
    s_enroll(&a, "dp-legacy-a", "old@example.org", NULL, false, false);
    /* A row as schema v1 wrote it (the check is NOT VALID: old rows keep theirs). */
    lc_db_t *db = th_db_connect("coal_admin", s_db);
    const char *p[] = {a.id};
    assert_int_equal(lc_db_exec(db,
                                "ALTER TABLE members.status_events DROP CONSTRAINT "
                                "status_events_reason_sealed",
                                0, NULL, NULL),
                     LC_OK);
    assert_int_equal(lc_db_exec(db,
                                "INSERT INTO members.status_events (member_id, status, reason, at) "
                                "VALUES ($1, 2, 'Olga Old said so', 1)",
                                1, p, NULL),
                     LC_OK);
    assert_int_equal(lc_db_exec(db,
                                "ALTER TABLE members.status_events ADD CONSTRAINT "
                                "status_events_reason_sealed CHECK (reason IS NULL) NOT VALID",
                                0, NULL, NULL),
                     LC_OK);
    lc_db_destroy(&db);
    /* The export shows it as it is. */
    json_t *ex = NULL;
    char *text = s_export(&a, &ex);
    assert_non_null(strstr(text, "Olga Old said so"));
    free(text);
    json_decref(ex);
    /* The service's role can clear a reason, never write one or change anything else. */
    db = th_db_connect("coal_members", s_db);
    assert_int_equal(
        lc_db_exec(db, "UPDATE members.status_events SET reason = 'x' WHERE false", 0, NULL, NULL),
        LC_OK); /* (no row: the check is not reached) */
    assert_int_equal(lc_db_exec(db,
                                "UPDATE members.status_events SET reason = 'other' "
                                "WHERE member_id = $1",
                                1, p, NULL),
                     LC_ERR_DB);
    assert_string_equal(lc_db_sqlstate(db), "23514"); /* check_violation */
    assert_int_equal(lc_db_exec(db, "UPDATE members.status_events SET status = 1", 0, NULL, NULL),
                     LC_ERR_DB);
    assert_string_equal(lc_db_sqlstate(db), "42501");
    assert_int_equal(lc_db_exec(db,
                                "INSERT INTO members.status_events (member_id, status, reason, at) "
                                "VALUES ($1, 1, 'plain', 2)",
                                1, p, NULL),
                     LC_ERR_DB);
    assert_string_equal(lc_db_sqlstate(db), "23514");
    assert_int_equal(lc_db_exec(db, "DELETE FROM members.consent_events", 0, NULL, NULL),
                     LC_ERR_DB);
    assert_string_equal(lc_db_sqlstate(db), "42501");
    lc_db_destroy(&db);

    json_decref(s_ok(MB_TYPE_ERASE, LC_ROLE_ADMIN, NULL, a.id, NULL));
    assert_int_equal(s_sql("SELECT count(*) FROM members.status_events WHERE member_id = '%s' "
                           "AND reason IS NULL",
                           a.id),
                     1);
    assert_int_equal(s_sql("SELECT count(*) FROM members.status_events WHERE reason LIKE "
                           "'%%Olga%%'"),
                     0);
}

static void members_dp_export_holds_all_of_this_member_and_nothing_of_another(void **state)
{
    (void)state;
    member_t a, b;
    s_enroll(&a, "dp-export-a", "alice@example.org", "Alice Liddell", true, false);
    s_enroll(&b, "dp-export-b", "bruno@example.org", "Bruno Other", true, true);
    /* Household cards on both, codes, a wrong attempt, freezes, consent changes. */
    char code[64];
    json_t *ca = s_api(MB_TYPE_ADD_CARD, LC_ROLE_PARTNER, "dp-export-card-a", s_id_param(a.id),
                       NULL, code, sizeof code);
    json_t *cb = s_api(MB_TYPE_ADD_CARD, LC_ROLE_PARTNER, "dp-export-card-b", s_id_param(b.id),
                       NULL, code, sizeof code);
    assert_non_null(ca);
    assert_non_null(cb);
    char text[16];
    s_issue(&a, "dp-export-code-a1", text);
    assert_string_equal(s_consume(&a, text, 0xf001), "ok");
    s_issue(&a, "dp-export-code-a2", text);
    s_issue(&b, "dp-export-code-b1", text);
    assert_string_equal(s_consume(&a, strcmp(text, "00000000") ? "00000000" : "11111111", 0xf002),
                        "invalid_member_code");
    json_decref(s_ok(MB_TYPE_FREEZE, LC_ROLE_ADMIN, NULL, a.id,
                     json_pack("{s:s}", "reason", "alice-reason-1")));
    json_decref(s_ok(MB_TYPE_UNFREEZE, LC_ROLE_ADMIN, NULL, a.id,
                     json_pack("{s:s}", "reason", "alice-reason-2")));
    json_decref(s_ok(MB_TYPE_FREEZE, LC_ROLE_ADMIN, NULL, b.id,
                     json_pack("{s:s}", "reason", "bruno-reason")));
    json_decref(
        s_ok(MB_TYPE_SET_CONSENTS, LC_ROLE_APP, NULL, a.id, json_pack("{s:b}", "profiling", 1)));
    json_decref(
        s_ok(MB_TYPE_SET_CONSENTS, LC_ROLE_APP, NULL, b.id, json_pack("{s:b}", "marketing", 0)));
    s_credit(&a, 0xf101, 77);

    json_t *ex = NULL;
    char *t = s_export(&a, &ex);
    /* Everything of a's ... */
    assert_string_equal(s_str(ex, "id"), a.id);
    assert_string_equal(s_str(ex, "status"), "active");
    assert_true(json_is_false(json_object_get(ex, "erased")));
    json_t *pd = json_object_get(ex, "personal_data");
    assert_string_equal(s_str(pd, "email"), "alice@example.org");
    assert_string_equal(s_str(pd, "name"), "Alice Liddell");
    json_t *cards = json_object_get(ex, "cards");
    assert_int_equal(json_array_size(cards), 2);
    assert_string_equal(s_str(json_array_get(cards, 0), "card_number"), a.card);
    assert_string_equal(s_str(json_array_get(cards, 1), "card_number"), s_str(ca, "card_number"));
    assert_non_null(strstr(t, "alice-reason-1"));
    assert_non_null(strstr(t, "alice-reason-2"));
    json_t *consents = json_object_get(ex, "consents");
    assert_true(json_is_true(json_object_get(consents, "marketing")));
    assert_true(json_is_true(json_object_get(consents, "profiling")));
    json_t *hist = json_object_get(ex, "consent_history");
    assert_int_equal(json_array_size(hist), 2);
    assert_string_equal(s_str(json_array_get(hist, 0), "source"), "enroll");
    assert_string_equal(s_str(json_array_get(hist, 1), "source"), "app");
    json_t *codes = json_object_get(ex, "codes");
    assert_int_equal(json_array_size(codes), 2);
    assert_non_null(json_object_get(json_array_get(codes, 0), "used_at"));
    assert_null(json_object_get(json_array_get(codes, 1), "used_at"));
    assert_int_equal(json_array_size(json_object_get(ex, "code_failures")), 1);
    assert_int_equal(
        json_integer_value(json_object_get(json_object_get(ex, "balance"), "available")), 77);
    /* ... every personal datum the database holds for a, compared row by row. */
    assert_int_equal(s_sql("SELECT count(*) FROM members.cards WHERE member_id = '%s'", a.id),
                     (int64_t)json_array_size(cards));
    assert_int_equal(
        s_sql("SELECT count(*) FROM members.status_events WHERE member_id = '%s'", a.id),
        (int64_t)json_array_size(json_object_get(ex, "status_events")));
    assert_int_equal(s_sql("SELECT count(*) FROM members.codes WHERE member_id = '%s'", a.id),
                     (int64_t)json_array_size(codes));
    assert_int_equal(
        s_sql("SELECT count(*) FROM members.consent_events WHERE member_id = '%s'", a.id),
        (int64_t)json_array_size(hist));
    /* ... never a code's hash ... */
    assert_null(strstr(t, "hash"));
    /* ... and nothing of b's. */
    assert_null(strstr(t, b.id));
    assert_null(strstr(t, "bruno"));
    assert_null(strstr(t, "Bruno"));
    assert_null(strstr(t, b.card));
    assert_null(strstr(t, s_str(cb, "card_number")));
    free(t);
    json_decref(ex);
    json_decref(ca);
    json_decref(cb);

    /* Roles and unknown members. */
    char nobody[LC_ID_STRLEN + 1];
    th_id_text(0xdead, nobody);
    assert_string_equal(s_err(MB_TYPE_EXPORT, LC_ROLE_APP, nobody, NULL), "not_found");
    assert_string_equal(s_err(MB_TYPE_EXPORT, LC_ROLE_PARTNER, a.id, NULL), "forbidden");
    assert_string_equal(s_err(MB_TYPE_EXPORT, LC_ROLE_ADMIN, a.id, NULL), "forbidden");
    assert_string_equal(s_err(MB_TYPE_EXPORT, LC_ROLE_AUDITOR, a.id, NULL), "forbidden");
}

static void members_dp_consents_are_recorded_and_independent_of_earning(void **state)
{
    (void)state;
    member_t a;
    s_enroll(&a, "dp-consent-a", "carol@example.org", NULL, false, false);
    s_credit(&a, 0xc001, 300);
    json_t *acct = s_ledger_account(a.id);
    int64_t journal = s_sql("SELECT count(*) FROM ledger.journal");

    /* All consents false: codes are issued and used as for anyone. */
    char text[16];
    s_issue(&a, "dp-consent-code-1", text);
    assert_string_equal(s_consume(&a, text, 0xc101), "ok");

    /* Each field on its own; an absent one stays. */
    json_t *rep =
        s_ok(MB_TYPE_SET_CONSENTS, LC_ROLE_APP, NULL, a.id, json_pack("{s:b}", "marketing", 1));
    assert_string_equal(s_str(rep, "id"), a.id);
    assert_true(json_is_true(json_object_get(json_object_get(rep, "consents"), "marketing")));
    assert_true(json_is_false(json_object_get(json_object_get(rep, "consents"), "profiling")));
    char updated[64];
    snprintf(updated, sizeof updated, "%s", s_str(rep, "updated_at"));
    json_decref(rep);
    rep = s_ok(MB_TYPE_SET_CONSENTS, LC_ROLE_APP, NULL, a.id, json_pack("{s:b}", "profiling", 1));
    assert_true(json_is_true(json_object_get(json_object_get(rep, "consents"), "marketing")));
    assert_true(json_is_true(json_object_get(json_object_get(rep, "consents"), "profiling")));
    json_decref(rep);
    /* The same again changes nothing and records nothing. */
    int64_t events =
        s_sql("SELECT count(*) FROM members.consent_events WHERE member_id = '%s'", a.id);
    assert_int_equal(events, 3); /* enroll, marketing, profiling */
    rep = s_ok(MB_TYPE_SET_CONSENTS, LC_ROLE_APP, NULL, a.id,
               json_pack("{s:b, s:b}", "marketing", 1, "profiling", 1));
    json_decref(rep);
    assert_int_equal(
        s_sql("SELECT count(*) FROM members.consent_events WHERE member_id = '%s'", a.id), events);
    rep = s_ok(MB_TYPE_SET_CONSENTS, LC_ROLE_APP, NULL, a.id,
               json_pack("{s:b, s:b}", "marketing", 0, "profiling", 0));
    json_decref(rep);
    assert_int_equal(s_sql("SELECT count(*) FROM members.consent_events WHERE member_id = '%s' "
                           "AND source = 'app' AND key_id IS NOT NULL",
                           a.id),
                     3);
    assert_int_equal(s_sql("SELECT count(*) FROM members.consent_events WHERE member_id = '%s' "
                           "AND at >= (SELECT created_at FROM members.members WHERE id = '%s')",
                           a.id, a.id),
                     4);
    (void)updated;
    json_t *get = s_ok(MB_TYPE_GET, LC_ROLE_APP, NULL, a.id, NULL);
    assert_true(json_is_false(json_object_get(json_object_get(get, "consents"), "marketing")));
    assert_true(json_is_false(json_object_get(get, "erased")));
    assert_null(json_object_get(get, "erased_at"));
    json_decref(get);

    /* Consents never touched the ledger. */
    json_t *acct2 = s_ledger_account(a.id);
    assert_true(json_equal(acct, acct2));
    assert_int_equal(s_sql("SELECT count(*) FROM ledger.journal"), journal);
    s_issue(&a, "dp-consent-code-2", text);
    assert_string_equal(s_consume(&a, text, 0xc102), "ok");

    /* Refusals write nothing. */
    int64_t all = s_sql("SELECT count(*) FROM members.consent_events");
    char nobody[LC_ID_STRLEN + 1];
    th_id_text(0xdead, nobody);
    assert_string_equal(s_err(MB_TYPE_SET_CONSENTS, LC_ROLE_APP, a.id, NULL), "invalid_request");
    assert_string_equal(
        s_err(MB_TYPE_SET_CONSENTS, LC_ROLE_APP, a.id, json_pack("{s:b}", "spam", 1)),
        "invalid_request");
    assert_string_equal(
        s_err(MB_TYPE_SET_CONSENTS, LC_ROLE_APP, a.id, json_pack("{s:s}", "marketing", "yes")),
        "invalid_request");
    assert_string_equal(
        s_err(MB_TYPE_SET_CONSENTS, LC_ROLE_APP, nobody, json_pack("{s:b}", "marketing", 1)),
        "not_found");
    assert_string_equal(
        s_err(MB_TYPE_SET_CONSENTS, LC_ROLE_PARTNER, a.id, json_pack("{s:b}", "marketing", 1)),
        "forbidden");
    assert_string_equal(
        s_err(MB_TYPE_SET_CONSENTS, LC_ROLE_ADMIN, a.id, json_pack("{s:b}", "marketing", 1)),
        "forbidden");
    assert_int_equal(s_sql("SELECT count(*) FROM members.consent_events"), all);
    json_decref(acct);
    json_decref(acct2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(members_dp_personal_data_is_sealed_per_member_and_field),
        cmocka_unit_test(members_dp_erasure_destroys_the_key_and_keeps_the_books),
        cmocka_unit_test(members_dp_erasure_clears_reasons_stored_in_clear_before_v2),
        cmocka_unit_test(members_dp_export_holds_all_of_this_member_and_nothing_of_another),
        cmocka_unit_test(members_dp_consents_are_recorded_and_independent_of_earning),
    };
    return cmocka_run_group_tests_name("members_data_protection", tests, setup_group,
                                       teardown_group);
}
