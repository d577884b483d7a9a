/*
 * test_ledger_privileges.c: least privilege in the database. The ledger's role
 * may append to the journal and read it, and nothing more: PostgreSQL itself
 * refuses UPDATE, DELETE and TRUNCATE of the journal, changes to the schema, and
 * access from roles that are not the ledger's.
 */
#include "harness.h"
#include "lc_err.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#define INSUFFICIENT_PRIVILEGE "42501"

static char s_db[64];

static int setup_group(void **state)
{
    (void)state;
    th_db_create(s_db, sizeof s_db);
    /* One row to aim at. */
    th_ledger_t l = {0};
    th_ledger_start(&l, s_db);
    th_client_t c;
    th_client_open(&c, &l);
    assert_string_equal(th_create_one(&c, LD_TYPE_CREATE_ACCOUNTS, th_account(1, "member", NULL)),
                        "ok");
    th_client_close(&c);
    th_ledger_stop(&l);
    return 0;
}

static void s_refused(const char *role, const char *sql)
{
    lc_db_t *db = th_db_connect(role, s_db);
    int rc = lc_db_exec(db, sql, 0, NULL, NULL);
    if (rc == LC_OK)
        fail_msg("%s was allowed to run: %s", role, sql);
    assert_int_equal(rc, LC_ERR_DB);
    assert_string_equal(lc_db_sqlstate(db), INSUFFICIENT_PRIVILEGE);
    lc_db_destroy(&db);
}

static void privileges_ledger_role_cannot_update_journal(void **state)
{
    (void)state;
    s_refused("coal_ledger", "UPDATE ledger.journal SET amount = amount + 1");
}

static void privileges_ledger_role_cannot_delete_journal(void **state)
{
    (void)state;
    s_refused("coal_ledger", "DELETE FROM ledger.journal");
    s_refused("coal_ledger", "TRUNCATE ledger.journal");
}

static void privileges_ledger_role_cannot_rewrite_history_tables(void **state)
{
    (void)state;
    s_refused("coal_ledger", "DELETE FROM ledger.allocations");
    s_refused("coal_ledger", "UPDATE ledger.allocations SET amount = 1");
    s_refused("coal_ledger", "DELETE FROM ledger.failed");
    s_refused("coal_ledger", "DELETE FROM ledger.accounts");
    s_refused("coal_ledger", "DROP TABLE ledger.journal");
    s_refused("coal_ledger", "CREATE TABLE ledger.sneaky (x int)");
}

static void privileges_ledger_role_can_append_and_read(void **state)
{
    (void)state;
    lc_db_t *db = th_db_connect("coal_ledger", s_db);
    lc_dbres_t *res = NULL;
    assert_int_equal(lc_db_exec(db, "SELECT count(*) FROM ledger.journal", 0, NULL, &res), LC_OK);
    int64_t n = 0;
    assert_int_equal(lc_dbres_i64(res, 0, 0, &n), LC_OK);
    assert_int_equal(n, 1);
    lc_dbres_free(&res);
    lc_db_destroy(&db);
}

static void privileges_other_roles_cannot_reach_the_ledger_schema(void **state)
{
    (void)state;
    /* A role without grants (as a future service's role would be). */
    th_sql_i64(s_db, "SELECT 1 FROM (SELECT 1) x"); /* connectivity */
    lc_db_t *admin = th_db_connect("coal_admin", s_db);
    lc_db_exec(admin,
               "DO $$ BEGIN IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = "
               "'coal_stranger') THEN CREATE ROLE coal_stranger LOGIN; END IF; END $$",
               0, NULL, NULL);
    lc_db_destroy(&admin);
    s_refused("coal_stranger", "SELECT count(*) FROM ledger.journal");
    s_refused("coal_stranger", "SELECT count(*) FROM ledger.accounts");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(privileges_ledger_role_cannot_update_journal),
        cmocka_unit_test(privileges_ledger_role_cannot_delete_journal),
        cmocka_unit_test(privileges_ledger_role_cannot_rewrite_history_tables),
        cmocka_unit_test(privileges_ledger_role_can_append_and_read),
        cmocka_unit_test(privileges_other_roles_cannot_reach_the_ledger_schema),
    };
    return cmocka_run_group_tests_name("ledger_privileges", tests, setup_group, NULL);
}
