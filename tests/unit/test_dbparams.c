/*
 * test_dbparams.c: unit tests for lc_dbparams: the text form of each kind of
 * parameter (the forms every store relies on, see lc_dbparams.h), SQL NULL for
 * missing values, the bounded list refusing its (LC_DBP_MAX + 1)th parameter and
 * lc_dbp_exec refusing an overflowed list before it reaches the database.
 *
 * The cell readers on real rows are exercised by the integration tests of the
 * stores (test_settlement, test_donation), which read every column through them;
 * here only their reading of a missing cell is checked, which needs no server.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "lc_dbparams.h"
#include "lc_err.h"
#include "lc_id.h"

#define SOME_ID "0190a5b2-7c3d-7e4f-8a1b-2c3d4e5f6a7b"

/* ---- text forms ---------------------------------------------------------------- */

static void dbparams_id_is_canonical_uuid_text(void **state)
{
    (void)state;
    lc_id_t id;
    assert_int_equal(lc_id_parse(SOME_ID, &id), LC_OK);
    lc_dbp_t p = {.n = 0};
    assert_int_equal(lc_dbp_id(&p, &id), LC_OK);
    assert_int_equal(p.n, 1);
    assert_non_null(p.v[0]);
    assert_string_equal(p.v[0], SOME_ID);
}

static void dbparams_missing_id_is_sql_null(void **state)
{
    (void)state;
    lc_id_t zero;
    memset(&zero, 0, sizeof zero);
    lc_dbp_t p = {.n = 0};
    assert_int_equal(lc_dbp_id(&p, NULL), LC_OK);
    assert_int_equal(lc_dbp_id(&p, &zero), LC_OK);
    assert_int_equal(p.n, 2);
    assert_null(p.v[0]);
    assert_null(p.v[1]);
}

static void dbparams_i64_is_decimal(void **state)
{
    (void)state;
    static const struct {
        int64_t x;
        const char *text;
    } cases[] = {
        {0, "0"},
        {42, "42"},
        {-7, "-7"},
        {INT64_MAX, "9223372036854775807"},
        {INT64_MIN, "-9223372036854775808"},
    };
    lc_dbp_t p = {.n = 0};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        assert_int_equal(lc_dbp_i64(&p, cases[i].x), LC_OK);
    assert_int_equal(p.n, (int)(sizeof cases / sizeof cases[0]));
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        assert_string_equal(p.v[i], cases[i].text);
}

static void dbparams_bool_is_true_or_false(void **state)
{
    (void)state;
    lc_dbp_t p = {.n = 0};
    assert_int_equal(lc_dbp_bool(&p, true), LC_OK);
    assert_int_equal(lc_dbp_bool(&p, false), LC_OK);
    assert_string_equal(p.v[0], "true");
    assert_string_equal(p.v[1], "false");
}

static void dbparams_str_is_borrowed_and_null_is_sql_null(void **state)
{
    (void)state;
    const char *name = "Café Müller";
    lc_dbp_t p = {.n = 0};
    assert_int_equal(lc_dbp_str(&p, name), LC_OK);
    assert_int_equal(lc_dbp_str(&p, NULL), LC_OK);
    assert_ptr_equal(p.v[0], name); /* not copied: the caller's string travels */
    assert_null(p.v[1]);
}

static void dbparams_keep_the_order_they_were_added_in(void **state)
{
    (void)state;
    lc_id_t id;
    assert_int_equal(lc_id_parse(SOME_ID, &id), LC_OK);
    lc_dbp_t p = {.n = 0};
    lc_dbp_i64(&p, 1);
    lc_dbp_id(&p, &id);
    lc_dbp_str(&p, "x");
    lc_dbp_bool(&p, true);
    lc_dbp_i64(&p, 5);
    assert_int_equal(p.n, 5);
    assert_string_equal(p.v[0], "1");
    assert_string_equal(p.v[1], SOME_ID);
    assert_string_equal(p.v[2], "x");
    assert_string_equal(p.v[3], "true");
    assert_string_equal(p.v[4], "5");
    assert_false(p.overflow);
}

/* ---- the bound --------------------------------------------------------------------- */

static void dbparams_overflow_is_an_error_that_sticks(void **state)
{
    (void)state;
    lc_id_t id;
    assert_int_equal(lc_id_parse(SOME_ID, &id), LC_OK);
    lc_dbp_t p = {.n = 0};
    for (int i = 0; i < LC_DBP_MAX; i++)
        assert_int_equal(lc_dbp_i64(&p, i), LC_OK);
    assert_false(p.overflow);

    /* Every kind of add refuses once the list is full, and changes nothing. */
    assert_int_equal(lc_dbp_i64(&p, 99), LC_ERR_OVERFLOW);
    assert_int_equal(lc_dbp_id(&p, &id), LC_ERR_OVERFLOW);
    assert_int_equal(lc_dbp_id(&p, NULL), LC_ERR_OVERFLOW);
    assert_int_equal(lc_dbp_bool(&p, true), LC_ERR_OVERFLOW);
    assert_int_equal(lc_dbp_str(&p, "late"), LC_ERR_OVERFLOW);
    assert_int_equal(p.n, LC_DBP_MAX);
    assert_true(p.overflow);
    assert_string_equal(p.v[0], "0");
    assert_string_equal(p.v[LC_DBP_MAX - 1], "19");
}

static void dbparams_exec_refuses_an_overflowed_list(void **state)
{
    (void)state;
    lc_dbp_t p = {.n = 0};
    for (int i = 0; i <= LC_DBP_MAX; i++)
        lc_dbp_i64(&p, i);
    assert_true(p.overflow);
    /* No connection: the refusal must come before anything touches the database. */
    lc_dbres_t *res = (lc_dbres_t *)&p; /* any non-NULL value, to see it reset */
    assert_int_equal(lc_dbp_exec(NULL, "SELECT 1", &p, &res), LC_ERR_OVERFLOW);
    assert_null(res);
    assert_int_equal(lc_dbp_exec(NULL, "SELECT 1", &p, NULL), LC_ERR_OVERFLOW);
}

/* ---- results ----------------------------------------------------------------------- */

static void dbcell_missing_cell_reads_as_empty(void **state)
{
    (void)state;
    bool nomem = false;
    lc_id_t id = lc_dbcell_id(NULL, 0, 0);
    assert_true(lc_id_is_zero(&id));
    assert_int_equal(lc_dbcell_i64(NULL, 0, 0), 0);
    assert_false(lc_dbcell_bool(NULL, 0, 0));
    assert_null(lc_dbcell_dup(NULL, 0, 0, &nomem));
    assert_false(nomem);
}

static void dbres_one_passes_failures_through(void **state)
{
    (void)state;
    lc_dbres_t *res = NULL;
    assert_int_equal(lc_dbres_one(LC_ERR_DB, &res), LC_ERR_DB);
    assert_int_equal(lc_dbres_one(LC_ERR_UNAVAILABLE, &res), LC_ERR_UNAVAILABLE);
    assert_null(res);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(dbparams_id_is_canonical_uuid_text),
        cmocka_unit_test(dbparams_missing_id_is_sql_null),
        cmocka_unit_test(dbparams_i64_is_decimal),
        cmocka_unit_test(dbparams_bool_is_true_or_false),
        cmocka_unit_test(dbparams_str_is_borrowed_and_null_is_sql_null),
        cmocka_unit_test(dbparams_keep_the_order_they_were_added_in),
        cmocka_unit_test(dbparams_overflow_is_an_error_that_sticks),
        cmocka_unit_test(dbparams_exec_refuses_an_overflowed_list),
        cmocka_unit_test(dbcell_missing_cell_reads_as_empty),
        cmocka_unit_test(dbres_one_passes_failures_through),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
