/*
 * test_gateway_csv.c: the gateway's CSV layer (gw_csv.h): Accept negotiation,
 * RFC 4180 quoting, the stable header, flattening of nested objects, refusal of
 * arrays, and that every route offering CSV names a member. The CSV of a real
 * answer parsed back and compared with its JSON: tests/e2e/test_audit.c.
 */
#include "gw_csv.h"
#include "gw_routes.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

static char *s_render(const char *json, const char *member, int expect_rc)
{
    json_t *reply = json_loads(json, 0, NULL);
    assert_non_null(reply);
    char *out = NULL, msg[256] = "";
    int rc = gw_csv_render(reply, member, &out, msg, sizeof msg);
    json_decref(reply);
    if (rc != expect_rc)
        fail_msg("render %s: rc %d (%s)", json, rc, msg);
    if (rc != 0)
        assert_true(msg[0] != '\0');
    return out;
}

static void gateway_csv_accept_negotiation(void **state)
{
    (void)state;
    assert_true(gw_csv_wanted("text/csv"));
    assert_true(gw_csv_wanted("TEXT/CSV; charset=utf-8"));
    assert_true(gw_csv_wanted("application/json;q=0.5, text/csv"));
    assert_true(gw_csv_wanted("text/csv, */*;q=0.1"));
    assert_false(gw_csv_wanted(NULL));
    assert_false(gw_csv_wanted(""));
    assert_false(gw_csv_wanted("*/*"));
    assert_false(gw_csv_wanted("application/json"));
    assert_false(gw_csv_wanted("text/csv;q=0"));
    assert_false(gw_csv_wanted("text/csv;q=abc"));
    assert_false(gw_csv_wanted("text/csv;q=2"));
    /* A tie goes to JSON, the default. */
    assert_false(gw_csv_wanted("application/json, text/csv"));
    assert_false(gw_csv_wanted("text/csv;q=0.5, application/*;q=0.5"));
}

static void gateway_csv_quotes_as_rfc4180_says(void **state)
{
    (void)state;
    char *csv = s_render("{\"rows\":[{\"a\":\"plain\",\"b\":\"x,y\",\"c\":\"say \\\"hi\\\"\","
                         "\"d\":\"two\\nlines\",\"e\":\"cr\\r\",\"f\":-12,\"g\":true,\"h\":null,"
                         "\"i\":\"\\u00e9t\\u00e9\"}]}",
                         "rows", 0);
    assert_string_equal(csv, "a,b,c,d,e,f,g,h,i\r\n"
                             "plain,\"x,y\",\"say \"\"hi\"\"\",\"two\nlines\",\"cr\r\",-12,true,,"
                             "\xc3\xa9t\xc3\xa9\r\n");
    free(csv);
}

static void gateway_csv_header_is_stable_and_cells_align(void **state)
{
    (void)state;
    /* b appears only in the second row: it goes after a (its predecessor there),
     * not at the end; the first row gets an empty cell. */
    char *csv = s_render("{\"head_seq\":9,\"rows\":[{\"a\":1,\"c\":3},{\"a\":4,\"b\":5,\"c\":6},"
                         "{\"c\":7,\"d\":8}]}",
                         "rows", 0);
    assert_string_equal(csv, "a,b,c,d\r\n1,,3,\r\n4,5,6,\r\n,,7,8\r\n");
    free(csv);
    /* The same rows in another page order give the same columns. */
    csv = s_render("{\"rows\":[{\"a\":4,\"b\":5,\"c\":6},{\"c\":7,\"d\":8},{\"a\":1,\"c\":3}]}",
                   "rows", 0);
    assert_string_equal(csv, "a,b,c,d\r\n4,5,6,\r\n,,7,8\r\n1,,3,\r\n");
    free(csv);
}

static void gateway_csv_flattens_objects_and_refuses_arrays(void **state)
{
    (void)state;
    char *csv = s_render("{\"rows\":[{\"id\":\"p1\",\"value\":{\"amount\":150,\"currency\":"
                         "\"EUR\"}}]}",
                         "rows", 0);
    assert_string_equal(csv, "id,value.amount,value.currency\r\np1,150,EUR\r\n");
    free(csv);
    assert_null(s_render("{\"rows\":[{\"id\":\"p1\",\"tags\":[\"a\"]}]}", "rows", -1));
    assert_null(s_render("{\"rows\":[1,2]}", "rows", -1));
    assert_null(s_render("{\"rows\":{\"a\":1}}", "rows", -1));
    assert_null(s_render("{\"other\":[]}", "rows", -1));
    assert_null(s_render("{\"rows\":[{\"a.b\":1,\"a\":{\"b\":2}}]}", "rows", -1));
}

static void gateway_csv_empty_list_is_an_empty_document(void **state)
{
    (void)state;
    char *csv = s_render("{\"rows\":[]}", "rows", 0);
    assert_string_equal(csv, "");
    free(csv);
}

static void gateway_csv_routes_offer_it_only_on_gets(void **state)
{
    (void)state;
    int offered = 0;
    for (int i = 0; i < gw_nroutes; i++) {
        if (!gw_routes[i].csv)
            continue;
        offered++;
        if (strcmp(gw_routes[i].method, "GET") || !*gw_routes[i].csv)
            fail_msg("%s %s offers CSV", gw_routes[i].method, gw_routes[i].pattern);
    }
    assert_true(offered >= 1); /* at least GET /v1/audit/journal */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(gateway_csv_accept_negotiation),
        cmocka_unit_test(gateway_csv_quotes_as_rfc4180_says),
        cmocka_unit_test(gateway_csv_header_is_stable_and_cells_align),
        cmocka_unit_test(gateway_csv_flattens_objects_and_refuses_arrays),
        cmocka_unit_test(gateway_csv_empty_list_is_an_empty_document),
        cmocka_unit_test(gateway_csv_routes_offer_it_only_on_gets),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
