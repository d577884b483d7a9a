/*
 * test_donation_privileges.c: the donation service's role coal_donation reaches only
 * its own schema and, within it, only what the service needs: donation records,
 * receipts, payouts and pledge runs cannot be rewritten or deleted, and only the
 * columns that move forward (status, counters, cancelled_at) can be updated.
 * PostgreSQL itself refuses.
 */
#include "harness.h"
#include "lc_err.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
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
    if (strcmp(lc_db_sqlstate(db), INSUFFICIENT_PRIVILEGE))
        fail_msg("%s: %s refused with %s (%s), not for privilege", role, sql, lc_db_sqlstate(db),
                 lc_db_error(db));
    lc_db_destroy(&db);
}

static void s_allowed(const char *role, const char *sql)
{
    lc_db_t *db = th_db_connect(role, s_db);
    if (lc_db_exec(db, sql, 0, NULL, NULL) != LC_OK)
        fail_msg("%s could not run %s: %s", role, sql, lc_db_error(db));
    lc_db_destroy(&db);
}

static void donation_privileges_own_schema_only(void **state)
{
    (void)state;
    s_allowed("coal_donation", "SELECT count(*) FROM donation.donations");
    s_refused("coal_donation", "SELECT count(*) FROM ledger.journal");
    s_refused("coal_donation", "SELECT count(*) FROM settlement.earns");
    s_refused("coal_donation", "SELECT count(*) FROM members.members");
    s_refused("coal_settlement", "SELECT count(*) FROM donation.donations");
    s_refused("coal_members", "SELECT count(*) FROM donation.charities");
    s_refused("coal_gateway", "SELECT count(*) FROM donation.receipts");
    s_refused("coal_donation", "DROP TABLE donation.donations");
    s_refused("coal_donation", "CREATE TABLE donation.extra (x int)");
}

static void donation_privileges_records_are_append_only(void **state)
{
    (void)state;
    s_refused("coal_donation", "DELETE FROM donation.donations");
    s_refused("coal_donation", "DELETE FROM donation.receipts");
    s_refused("coal_donation", "TRUNCATE donation.charities");
    s_refused("coal_donation", "UPDATE donation.donations SET points = 1");
    s_refused("coal_donation", "UPDATE donation.donations SET matched_points = 0");
    s_refused("coal_donation", "UPDATE donation.receipts SET payload = ''");
    s_refused("coal_donation", "UPDATE donation.campaigns SET cap_points = 0");
    s_refused("coal_donation", "UPDATE donation.charities SET verified = true");
    s_refused("coal_donation", "UPDATE donation.payouts SET total_points = 0");
    s_refused("coal_donation", "UPDATE donation.payout_lines SET points = 0");
    s_refused("coal_donation", "UPDATE donation.pledge_runs SET status = 1");
    s_refused("coal_donation", "DELETE FROM donation.pledge_runs");
    /* what moves forward */
    s_allowed("coal_donation", "UPDATE donation.donations SET status = status WHERE false");
    s_allowed("coal_donation",
              "UPDATE donation.campaigns SET matched_points = matched_points WHERE false");
    s_allowed("coal_donation", "UPDATE donation.pledges SET cancelled_at = 1 WHERE false");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(donation_privileges_own_schema_only),
        cmocka_unit_test(donation_privileges_records_are_append_only),
    };
    return cmocka_run_group_tests(tests, setup_group, NULL);
}
