/*
 * test_privileges.c: each service's database role reaches only its own schema
 * (ARCHITECTURE.md: "no service reads or writes another service's tables"),
 * and within it only what the service needs: append-only records cannot be
 * rewritten, and API keys can never be deleted (revocation is an update that
 * the admin log can name). PostgreSQL itself refuses; nothing here is a
 * convention. The ledger's own refusals are in test_ledger_privileges.c.
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
    return 0;
}

static void s_refused(const char *role, const char *sql)
{
    lc_db_t *db = th_db_connect(role, s_db);
    int rc = lc_db_exec(db, sql, 0, NULL, NULL);
    if (rc == LC_OK)
        fail_msg("%s was allowed to run: %s", role, sql);
    assert_int_equal(rc, LC_ERR_DB);
    if (strcmp(lc_db_sqlstate(db), INSUFFICIENT_PRIVILEGE))
        fail_msg("%s: %s refused with %s (%s), not for privilege", role, sql,
                 lc_db_sqlstate(db), lc_db_error(db));
    lc_db_destroy(&db);
}

static void s_allowed(const char *role, const char *sql)
{
    lc_db_t *db = th_db_connect(role, s_db);
    if (lc_db_exec(db, sql, 0, NULL, NULL) != LC_OK)
        fail_msg("%s could not run %s: %s", role, sql, lc_db_error(db));
    lc_db_destroy(&db);
}

static const char *const s_roles[] = {"coal_ledger", "coal_members", "coal_settlement",
                                      "coal_gateway"};
/* One table of each service's schema. */
static const char *const s_tables[] = {"ledger.journal", "members.members",
                                       "settlement.earns", "gateway.api_keys"};

static void privileges_no_role_reads_another_service_schema(void **state)
{
    (void)state;
    for (size_t r = 0; r < 4; r++)
        for (size_t t = 0; t < 4; t++) {
            char sql[128];
            snprintf(sql, sizeof sql, "SELECT count(*) FROM %s", s_tables[t]);
            if (r == t)
                s_allowed(s_roles[r], sql);
            else
                s_refused(s_roles[r], sql);
        }
}

static void privileges_no_role_changes_the_schema(void **state)
{
    (void)state;
    s_refused("coal_members", "CREATE TABLE members.sneaky (x int)");
    s_refused("coal_settlement", "DROP TABLE settlement.earns");
    s_refused("coal_gateway", "ALTER TABLE gateway.api_keys ADD COLUMN x int");
    s_refused("coal_gateway", "CREATE TABLE public.sneaky (x int)");
}

static void privileges_members_records_are_append_only(void **state)
{
    (void)state;
    s_refused("coal_members", "DELETE FROM members.members");
    s_refused("coal_members", "DELETE FROM members.cards");
    s_refused("coal_members", "UPDATE members.cards SET member_id = member_id");
    s_refused("coal_members", "DELETE FROM members.status_events");
    s_refused("coal_members", "TRUNCATE members.codes");
}

static void privileges_settlement_records_are_append_only(void **state)
{
    (void)state;
    s_refused("coal_settlement", "DELETE FROM settlement.earns");
    s_refused("coal_settlement", "DELETE FROM settlement.redemptions");
    s_refused("coal_settlement", "UPDATE settlement.returns SET points_reversed = 0");
    s_refused("coal_settlement", "UPDATE settlement.grants SET points = 0");
    s_refused("coal_settlement", "TRUNCATE settlement.partners");
}

static void privileges_gateway_keys_are_never_deleted(void **state)
{
    (void)state;
    s_refused("coal_gateway", "DELETE FROM gateway.api_keys");
    s_refused("coal_gateway", "TRUNCATE gateway.api_keys");
    /* Expired idempotency records are purged: that one is allowed. */
    s_allowed("coal_gateway", "DELETE FROM gateway.idempotency WHERE created_at < now() - "
                              "interval '35 days'");
}

/* The admin log (gw_admin_log.h) is append-only for the gateway: it reads and
 * appends, and whatever else it tries is refused by PostgreSQL. */
static void privileges_gateway_admin_log_is_append_only(void **state)
{
    (void)state;
    s_allowed("coal_gateway", "SELECT count(*) FROM gateway.admin_log");
    s_allowed("coal_gateway",
              "INSERT INTO gateway.admin_log (seq, at, key_id, key_name, role, method, route, "
              "path, request_id, status, replayed, prev_hash, hash) VALUES (1, 0, "
              "'00000000-0000-7000-8000-000000000001', 'k', 'admin', 'POST', '/v1/x', '/v1/x', "
              "'r', 201, false, decode(repeat('00', 32), 'hex'), decode(repeat('11', 32), 'hex'))");
    s_refused("coal_gateway", "UPDATE gateway.admin_log SET status = 200");
    s_refused("coal_gateway", "DELETE FROM gateway.admin_log");
    s_refused("coal_gateway", "TRUNCATE gateway.admin_log");
    /* Decided adjustments are kept: settlement may update a row, never delete one. */
    s_refused("coal_settlement", "DELETE FROM settlement.adjustments");
    s_refused("coal_settlement", "TRUNCATE settlement.adjustments");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(privileges_no_role_reads_another_service_schema),
        cmocka_unit_test(privileges_no_role_changes_the_schema),
        cmocka_unit_test(privileges_members_records_are_append_only),
        cmocka_unit_test(privileges_settlement_records_are_append_only),
        cmocka_unit_test(privileges_gateway_keys_are_never_deleted),
        cmocka_unit_test(privileges_gateway_admin_log_is_append_only),
    };
    return cmocka_run_group_tests(tests, setup_group, NULL);
}
