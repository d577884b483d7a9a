/*
 * test_db.c: lc_db's prepared statements against the real PostgreSQL (lc_db.h):
 * a text is prepared once and runs again with other parameters; texts beyond
 * LC_DB_PREPARED_MAX still run (unprepared); a statement the server refuses to
 * prepare fails exactly as it would have run, is not remembered, and leaves the
 * connection usable; a statement first met inside an aborted transaction works
 * once the transaction is rolled back.
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

static char s_db[64];

static int setup(void **state)
{
    (void)state;
    return th_db_create(s_db, sizeof s_db) == 0 ? 0 : -1;
}

/* Runs sql with one parameter and returns the integer it selects. */
static int64_t s_one(lc_db_t *db, const char *sql, const char *param)
{
    lc_dbres_t *res = NULL;
    const char *params[] = {param};
    int rc = lc_db_exec(db, sql, 1, params, &res);
    if (rc != LC_OK)
        fail_msg("%s: %s", sql, lc_db_error(db));
    int64_t v = -1;
    assert_int_equal(lc_dbres_i64(res, 0, 0, &v), LC_OK);
    lc_dbres_free(&res);
    return v;
}

static void a_text_runs_again_with_other_parameters(void **state)
{
    (void)state;
    lc_db_t *db = th_db_connect("coal_admin", s_db);
    const char *sql = "SELECT $1::bigint * 2";
    assert_int_equal(s_one(db, sql, "21"), 42);
    assert_int_equal(s_one(db, sql, "-5"), -10);
    assert_int_equal(s_one(db, sql, "0"), 0);
    /* the server knows it by one name: prepared once */
    assert_int_equal(s_one(db, "SELECT count(*) FROM pg_prepared_statements WHERE statement = $1",
                           sql),
                     1);
    lc_db_destroy(&db);
}

static void texts_beyond_the_table_still_run(void **state)
{
    (void)state;
    lc_db_t *db = th_db_connect("coal_admin", s_db);
    char sql[64];
    for (int i = 0; i < LC_DB_PREPARED_MAX + 40; i++) {
        snprintf(sql, sizeof sql, "SELECT $1::integer + %d", i);
        assert_int_equal(s_one(db, sql, "1"), i + 1);
    }
    for (int i = LC_DB_PREPARED_MAX + 39; i >= 0; i -= 37) { /* and again, both kinds */
        snprintf(sql, sizeof sql, "SELECT $1::integer + %d", i);
        assert_int_equal(s_one(db, sql, "2"), i + 2);
    }
    assert_int_equal(s_one(db, "SELECT count(*) FROM pg_prepared_statements WHERE $1 = $1", "x"),
                     LC_DB_PREPARED_MAX);
    lc_db_destroy(&db);
}

static void a_refused_statement_fails_as_it_would_have_run(void **state)
{
    (void)state;
    lc_db_t *db = th_db_connect("coal_admin", s_db);
    for (int i = 0; i < 2; i++) { /* not remembered: the second attempt asks again */
        assert_int_equal(lc_db_exec(db, "SELEC 1", 0, NULL, NULL), LC_ERR_DB);
        assert_string_equal(lc_db_sqlstate(db), "42601");
        assert_non_null(strstr(lc_db_error(db), "syntax error"));
    }
    assert_int_equal(s_one(db, "SELECT $1::integer", "7"), 7);
    assert_string_equal(lc_db_sqlstate(db), "");
    lc_db_destroy(&db);
}

static void a_text_first_met_in_an_aborted_transaction_works_after_rollback(void **state)
{
    (void)state;
    lc_db_t *db = th_db_connect("coal_admin", s_db);
    assert_int_equal(lc_db_begin(db), LC_OK);
    assert_int_equal(lc_db_exec(db, "SELECT 1 / 0", 0, NULL, NULL), LC_ERR_DB);
    assert_string_equal(lc_db_sqlstate(db), "22012");
    const char *sql = "SELECT $1::integer + 100";
    lc_dbres_t *res = NULL;
    const char *params[] = {"1"};
    assert_int_equal(lc_db_exec(db, sql, 1, params, &res), LC_ERR_DB);
    assert_null(res);
    assert_string_equal(lc_db_sqlstate(db), "25P02"); /* in_failed_sql_transaction */
    assert_int_equal(lc_db_rollback(db), LC_OK);
    assert_int_equal(s_one(db, sql, "1"), 101);
    lc_db_destroy(&db);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(a_text_runs_again_with_other_parameters),
        cmocka_unit_test(texts_beyond_the_table_still_run),
        cmocka_unit_test(a_refused_statement_fails_as_it_would_have_run),
        cmocka_unit_test(a_text_first_met_in_an_aborted_transaction_works_after_rollback),
    };
    return cmocka_run_group_tests(tests, setup, NULL);
}
