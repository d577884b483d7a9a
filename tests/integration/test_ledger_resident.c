/*
 * test_ledger_resident.c: the ledger keeps only part of the journal's transfers in
 * memory (ld_state.h, "Which transfers are in memory") and reads the others back
 * before a batch names them. These tests restart the ledger between steps, so the
 * transfers they name are on disk only, and check that every guarantee answers
 * exactly as it does for resident transfers: idempotency, reversal bounds, holds
 * resolving once. Real ledger process, ZeroMQ and PostgreSQL (tests/run.sh).
 */
#include "harness.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

enum { MEMBER = 1, LOTS_MEMBER = 2, PARTNER = 10, REDEEM = 11 };

typedef struct fixture {
    char db[64];
    th_ledger_t ledger;
    th_client_t client;
} fixture_t;

static int setup(void **state)
{
    fixture_t *f = calloc(1, sizeof *f);
    th_db_create(f->db, sizeof f->db);
    th_ledger_start(&f->ledger, f->db);
    th_client_open(&f->client, &f->ledger);
    json_t *accounts = json_pack(
        "{s:[o,o,o,o]}", "accounts", th_account(MEMBER, "member", "debits_must_not_exceed_credits"),
        th_account(LOTS_MEMBER, "member", "debits_must_not_exceed_credits,lots"),
        th_account(PARTNER, "partner_issuance", NULL),
        th_account(REDEEM, "partner_redemption", NULL));
    json_decref(th_call(&f->client, LD_TYPE_CREATE_ACCOUNTS, accounts, NULL, 0));
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture_t *f = *state;
    th_client_close(&f->client);
    th_ledger_stop(&f->ledger);
    free(f);
    return 0;
}

/* Restarts the ledger: afterwards only the resident transfers are in memory. */
static void s_restart(fixture_t *f)
{
    th_client_close(&f->client);
    th_ledger_stop(&f->ledger);
    th_ledger_start(&f->ledger, f->db);
    th_client_open(&f->client, &f->ledger);
}

static const char *s_transfer(fixture_t *f, json_t *t)
{
    return th_create_one(&f->client, LD_TYPE_CREATE_TRANSFERS, t);
}

static json_t *s_reversal(uint64_t id, uint64_t debit, uint64_t credit, int64_t amount,
                          uint64_t reverses)
{
    json_t *t = th_transfer(id, debit, credit, amount);
    lc_id_t r = th_id(reverses);
    json_object_set_new(t, "reverses", json_string(th_ids(&r)));
    return t;
}

static json_t *s_phase(uint64_t id, uint64_t pending, const char *flag, int64_t amount)
{
    lc_id_t i = th_id(id), p = th_id(pending);
    json_t *t = json_pack("{s:s, s:s, s:[s]}", "id", th_ids(&i), "pending_id", th_ids(&p),
                          "flags", flag);
    if (amount)
        json_object_set_new(t, "amount", json_integer(amount));
    return t;
}

/* Sum of all balances is 0 and the journal verifies. */
static void s_books_hold(fixture_t *f)
{
    json_t *tb = th_call(&f->client, LD_TYPE_TRIAL_BALANCE, json_object(), NULL, 0);
    assert_int_equal(json_integer_value(json_object_get(tb, "sum")), 0);
    json_decref(tb);
    json_t *v = th_call(&f->client, LD_TYPE_VERIFY, json_object(), NULL, 0);
    if (!json_is_true(json_object_get(v, "ok")))
        fail_msg("verify: %s", json_string_value(json_object_get(v, "reason")));
    json_decref(v);
}

/* How many transfers the ledger's last start loaded, from its log line. */
static long s_loaded_transfers(const fixture_t *f)
{
    FILE *log = fopen(f->ledger.log, "r");
    assert_non_null(log);
    char line[1024];
    long last = -1;
    while (fgets(line, sizeof line, log)) {
        const char *p = strstr(line, "loaded ");
        long accounts, transfers;
        if (p && sscanf(p, "loaded %ld accounts, %ld transfers", &accounts, &transfers) == 2)
            last = transfers;
    }
    fclose(log);
    return last;
}

static void ledger_resident_history_stays_on_disk_and_ids_answer_as_before(void **state)
{
    fixture_t *f = *state;
    assert_string_equal(s_transfer(f, th_transfer(100, PARTNER, MEMBER, 500)), "ok");
    assert_string_equal(s_transfer(f, th_transfer(101, MEMBER, REDEEM, 200)), "ok");
    s_restart(f);
    /* Finished plain transfers are not loaded at start-up... */
    assert_int_equal(s_loaded_transfers(f), 0);
    /* ...yet a retry still finds them. */
    assert_string_equal(s_transfer(f, th_transfer(100, PARTNER, MEMBER, 500)), "exists");
    assert_string_equal(s_transfer(f, th_transfer(101, MEMBER, REDEEM, 201)),
                        "exists_with_different_amount");
    s_restart(f);
    assert_string_equal(s_transfer(f, th_transfer(101, MEMBER, PARTNER, 200)),
                        "exists_with_different_credit_account_id");
    assert_int_equal(th_balance(&f->client, MEMBER, "balance"), 300);
    assert_int_equal(th_sql_i64(f->db, "SELECT count(*) FROM ledger.journal WHERE entry_type = 2"),
                     2);
    s_books_hold(f);
}

static void ledger_resident_reversal_bound_holds_across_restarts(void **state)
{
    fixture_t *f = *state;
    assert_string_equal(s_transfer(f, th_transfer(200, PARTNER, MEMBER, 100)), "ok");
    s_restart(f);
    assert_string_equal(s_transfer(f, s_reversal(201, MEMBER, PARTNER, 60, 200)), "ok");
    s_restart(f);
    assert_string_equal(s_transfer(f, s_reversal(202, MEMBER, PARTNER, 50, 200)),
                        "exceeds_reversible_amount");
    assert_string_equal(s_transfer(f, s_reversal(203, MEMBER, PARTNER, 40, 200)), "ok");
    /* The original and its first reversal in one batch, both from disk. */
    s_restart(f);
    assert_string_equal(s_transfer(f, s_reversal(201, MEMBER, PARTNER, 60, 200)), "exists");
    assert_string_equal(s_transfer(f, s_reversal(204, MEMBER, PARTNER, 1, 200)),
                        "exceeds_reversible_amount");
    assert_int_equal(th_balance(&f->client, MEMBER, "balance"), 0);
    s_books_hold(f);
}

static void ledger_resident_resolved_hold_stays_resolved_after_restart(void **state)
{
    fixture_t *f = *state;
    assert_string_equal(s_transfer(f, th_transfer(300, PARTNER, MEMBER, 1000)), "ok");
    json_t *hold = th_transfer(301, MEMBER, REDEEM, 600);
    json_object_set_new(hold, "flags", json_pack("[s]", "pending"));
    assert_string_equal(s_transfer(f, hold), "ok");
    s_restart(f);
    /* A pending hold is resident: it can still time out or be resolved. */
    assert_int_equal(s_loaded_transfers(f), 1);
    assert_string_equal(s_transfer(f, s_phase(302, 301, "post_pending", 250)), "ok");
    s_restart(f);
    assert_int_equal(s_loaded_transfers(f), 0);
    assert_string_equal(s_transfer(f, s_phase(302, 301, "post_pending", 250)), "exists");
    assert_string_equal(s_transfer(f, s_phase(303, 301, "void_pending", 0)),
                        "pending_transfer_already_posted");
    assert_int_equal(th_balance(&f->client, MEMBER, "balance"), 750);
    assert_int_equal(th_balance(&f->client, MEMBER, "debits_pending"), 0);
    s_books_hold(f);
}

static void ledger_resident_refund_gives_points_back_to_lots_after_restart(void **state)
{
    fixture_t *f = *state;
    json_t *earn = th_transfer(400, PARTNER, LOTS_MEMBER, 100);
    json_object_set_new(earn, "expires_at", json_string("2099-12-31T23:59:59Z"));
    assert_string_equal(s_transfer(f, earn), "ok");
    assert_string_equal(s_transfer(f, th_transfer(401, LOTS_MEMBER, REDEEM, 80)), "ok");
    s_restart(f);
    /* The debit owns lot allocations, so it stays resident. */
    assert_int_equal(s_loaded_transfers(f), 1);
    assert_string_equal(s_transfer(f, s_reversal(402, REDEEM, LOTS_MEMBER, 80, 401)), "ok");
    /* The refund went back into the lot it came from. */
    lc_id_t member = th_id(LOTS_MEMBER);
    json_t *lots = th_call(&f->client, LD_TYPE_ACCOUNT_LOTS,
                           json_pack("{s:s}", "account_id", th_ids(&member)), NULL, 0);
    json_t *list = json_object_get(lots, "lots");
    assert_int_equal(json_array_size(list), 1);
    assert_int_equal(json_integer_value(json_object_get(json_array_get(list, 0), "remaining")),
                     100);
    json_decref(lots);
    assert_int_equal(th_balance(&f->client, LOTS_MEMBER, "balance"), 100);
    s_books_hold(f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(
            ledger_resident_history_stays_on_disk_and_ids_answer_as_before, setup, teardown),
        cmocka_unit_test_setup_teardown(ledger_resident_reversal_bound_holds_across_restarts,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(ledger_resident_resolved_hold_stays_resolved_after_restart,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(
            ledger_resident_refund_gives_points_back_to_lots_after_restart, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
