/*
 * test_bus_curve.c: every service with the bus on CURVE (issue 8, item 4). The
 * whole system runs with bus.curve = all (CURVE on every endpoint, loopback
 * included, as between hosts) and its own keys directory: each service makes its
 * key pair there at start. Then a partner journey crosses every bus link: the
 * gateway's backends to settlement, members, donation and the ledger, settlement
 * to members and the ledger, donation to the ledger, and members' journal
 * subscriber (SUB to the ledger's PUB) filling the member's history. On the same
 * endpoints a stranger's key and the NULL mechanism get nothing, and the ledger
 * logs the refusal.
 */
#include "e2e.h"
#include "lc_bus.h"
#include "lc_curve.h"
#include "lc_err.h"
#include "lc_time.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zmq.h>
#include <cmocka.h>

static e2e_t s_e;
static char s_keys[300];      /* the keys directory every process uses */
static lc_curve_t *s_curve;   /* this test process's own service key ("e2e") */
static char s_partner_key[128], s_card[40]; /* from the first test */

static int setup(void **state)
{
    (void)state;
    const char *var = getenv("COAL_VAR");
    char base[256];
    snprintf(base, sizeof base, "%s/curve.XXXXXX", var && *var ? var : "/tmp");
    assert_non_null(mkdtemp(base));
    snprintf(s_keys, sizeof s_keys, "%s/bus", base);
    /* Inherited by every service the harness starts. */
    setenv("COAL_BUS_CURVE", "all", 1);
    setenv("COAL_BUS_KEYS_DIR", s_keys, 1);
    /* The test talks to the services over the bus too, so it needs a key they
     * admit: one in their keys directory. */
    char *err = NULL;
    s_curve = lc_curve_open(s_keys, "e2e", LC_CURVE_ALL, &err);
    if (!s_curve)
        fail_msg("bus keys: %s", err ? err : "?");
    lc_bus_set_curve(s_curve);
    /* Provisioned before the start, as on hosts where a client may come up before
     * its server: a CURVE client needs the server's public key to connect. (The
     * services would make missing pairs themselves; the first test checks they
     * use these.) */
    const char *services[] = {"ledger", "members", "settlement", "donation", "gateway"};
    for (size_t i = 0; i < sizeof services / sizeof services[0]; i++) {
        lc_curve_t *k = lc_curve_open(s_keys, services[i], LC_CURVE_ALL, &err);
        if (!k)
            fail_msg("bus keys of %s: %s", services[i], err ? err : "?");
        lc_curve_destroy(&k);
    }
    e2e_start(&s_e, true, NULL, NULL);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    e2e_stop(&s_e);
    lc_bus_set_curve(NULL);
    lc_curve_destroy(&s_curve);
    unsetenv("COAL_BUS_CURVE");
    unsetenv("COAL_BUS_KEYS_DIR");
    return 0;
}

/* POSTs body (printf-style) as key and expects status; the response stays in r. */
static void s_post(e2e_resp_t *r, const char *key, const char *path, long want, const char *fmt,
                   ...) __attribute__((format(printf, 5, 6)));
static void s_post(e2e_resp_t *r, const char *key, const char *path, long want, const char *fmt,
                   ...)
{
    char body[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(body, sizeof body, fmt, ap);
    va_end(ap);
    e2e_http(&s_e, "POST", path, key, e2e_idem(), body, NULL, r);
    if (r->status != want)
        fail_msg("POST %s: %ld, wanted %ld: %s", path, r->status, want, r->raw ? r->raw : "");
}

static void bus_curve_every_service_talks_over_curve(void **state)
{
    (void)state;
    /* Every service made its own key pair, the secret half readable by it alone. */
    const char *services[] = {"ledger", "members", "settlement", "donation", "gateway"};
    for (size_t i = 0; i < sizeof services / sizeof services[0]; i++) {
        char path[400];
        struct stat st;
        snprintf(path, sizeof path, "%s/%s.key", s_keys, services[i]);
        if (stat(path, &st) != 0)
            fail_msg("%s has no key pair (%s)", services[i], path);
        assert_int_equal(st.st_mode & 0777, 0600);
        snprintf(path, sizeof path, "%s/%s.pub", s_keys, services[i]);
        assert_int_equal(stat(path, &st), 0);
    }

    e2e_resp_t r;
    s_post(&r, s_e.admin_key, "/v1/partners", 201,
           "{\"name\":\"Curved\",\"earn_rate\":{\"points\":1,\"per_amount\":100},"
           "\"tariff\":{\"issue_price_micros\":1,\"redeem_credit_micros\":1,\"fee_bps\":0},"
           "\"funding\":\"postpaid\"}");
    char *partner_key = s_partner_key, *card = s_card, app_key[128], member[40], path[200];
    snprintf(partner_key, sizeof s_partner_key, "%s", e2e_str(&r, "api_key"));
    e2e_resp_clear(&r);
    s_post(&r, s_e.admin_key, "/v1/keys", 201, "{\"role\":\"app\",\"name\":\"curve app\"}");
    snprintf(app_key, sizeof app_key, "%s", e2e_str(&r, "api_key"));
    e2e_resp_clear(&r);
    /* gateway -> members */
    s_post(&r, partner_key, "/v1/members", 201, "{}");
    snprintf(member, sizeof member, "%s", e2e_str(&r, "id"));
    snprintf(card, sizeof s_card, "%s", e2e_str(&r, "card_number"));
    e2e_resp_clear(&r);
    /* gateway -> settlement -> members, ledger */
    s_post(&r, partner_key, "/v1/earn", 201,
           "{\"card_number\":\"%s\",\"receipt_id\":\"curve-1\",\"amount\":{\"amount\":50000,"
           "\"currency\":\"EUR\"}}",
           card);
    assert_int_equal(e2e_int(&r, "points"), 500);
    e2e_resp_clear(&r);
    /* gateway -> donation -> ledger */
    s_post(&r, app_key, "/v1/donations", 201, "{\"member_id\":\"%s\",\"pool\":true,\"points\":200}",
           member);
    e2e_resp_clear(&r);
    /* gateway -> members -> ledger */
    snprintf(path, sizeof path, "/v1/cards/%s/balance", card);
    e2e_http(&s_e, "GET", path, partner_key, NULL, NULL, NULL, &r);
    assert_int_equal(r.status, 200);
    assert_int_equal(e2e_int(&r, "available"), 300);
    e2e_resp_clear(&r);
    /* members' journal subscriber (SUB on the ledger's PUB, replay over the
     * ledger's ROUTER) fills the history: the earn and the donation. */
    snprintf(path, sizeof path, "/v1/members/%s/history?limit=10", member);
    size_t n = 0;
    for (int i = 0; i < 100 && n < 2; i++) {
        e2e_http(&s_e, "GET", path, app_key, NULL, NULL, NULL, &r);
        assert_int_equal(r.status, 200);
        n = json_array_size(json_object_get(r.body, "data"));
        e2e_resp_clear(&r);
        if (n < 2)
            usleep(100 * 1000);
    }
    assert_int_equal(n, 2);
    /* and the gateway sees every service healthy */
    e2e_http(&s_e, "GET", "/healthz", NULL, NULL, NULL, NULL, &r);
    assert_int_equal(r.status, 200);
    e2e_resp_clear(&r);
}

/* True when the file at path contains needle. */
static bool s_file_has(const char *path, const char *needle)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return false;
    char line[4096];
    bool found = false;
    while (!found && fgets(line, sizeof line, f))
        found = strstr(line, needle) != NULL;
    fclose(f);
    return found;
}

static void bus_curve_refuses_strangers_and_null(void **state)
{
    (void)state;
    void *zctx = zmq_ctx_new();
    json_t *empty = json_object();
    lc_reply_t rep;

    /* The test's own service key is admitted. */
    lc_bus_client_t *cli = lc_bus_client_new(zctx, s_e.ledger.endpoint);
    assert_non_null(cli);
    assert_int_equal(lc_bus_call(cli, LD_TYPE_PING, empty, NULL, 5000, 2, &rep), LC_OK);
    assert_true(rep.ok);
    lc_reply_clear(&rep);
    lc_bus_client_destroy(&cli);

    /* A stranger: a key of its own, the ledger's public key copied (public keys
     * are no secret), but its key is not in the ledger's keys directory. */
    char rogue[400], cmd[900];
    snprintf(rogue, sizeof rogue, "%s.rogue", s_keys);
    char *err = NULL;
    lc_curve_t *stranger = lc_curve_open(rogue, "gateway", LC_CURVE_ALL, &err);
    if (!stranger)
        fail_msg("rogue keys: %s", err ? err : "?");
    snprintf(cmd, sizeof cmd, "cp %s/ledger.pub %s/", s_keys, rogue);
    assert_int_equal(system(cmd), 0);
    assert_int_equal(lc_curve_add_peer(stranger, s_e.ledger.endpoint, "ledger"), LC_OK);
    lc_bus_set_curve(stranger);
    cli = lc_bus_client_new(zctx, s_e.ledger.endpoint);
    lc_bus_set_curve(s_curve);
    assert_non_null(cli);
    assert_int_equal(lc_bus_call(cli, LD_TYPE_PING, empty, NULL, 1000, 1, &rep), LC_ERR_TIMEOUT);
    lc_bus_client_destroy(&cli);

    /* The NULL mechanism on the ledger's ROUTER: no reply. */
    void *raw = zmq_socket(zctx, ZMQ_DEALER);
    int linger = 0;
    zmq_setsockopt(raw, ZMQ_LINGER, &linger, sizeof linger);
    assert_int_equal(zmq_connect(raw, s_e.ledger.endpoint), 0);
    size_t len;
    char *frame = lc_request_serialize(LD_TYPE_PING, "00000000-0000-7000-8000-0000000000aa",
                                       lc_now_ms() + 5000, empty, &len);
    assert_non_null(frame);
    zmq_send(raw, frame, len, ZMQ_DONTWAIT);
    free(frame);
    zmq_pollitem_t item = {raw, 0, ZMQ_POLLIN, 0};
    assert_int_equal(zmq_poll(&item, 1, 1500), 0);
    zmq_close(raw);

    /* The ledger's PUB: a subscriber with a service key gets the next earn's
     * entry, one on the NULL mechanism gets nothing. */
    void *sub = zmq_socket(zctx, ZMQ_SUB);
    zmq_setsockopt(sub, ZMQ_LINGER, &linger, sizeof linger);
    zmq_setsockopt(sub, ZMQ_SUBSCRIBE, "", 0);
    assert_int_equal(zmq_connect(sub, s_e.ledger.publish), 0);
    void *keyed = lc_bus_sub_new(zctx, s_e.ledger.publish, LD_JOURNAL_TOPIC, &err);
    if (!keyed)
        fail_msg("subscriber: %s", err ? err : "?");
    /* Earn until the keyed subscriber has seen an entry (its subscription takes a
     * moment to reach the publisher); by then the NULL one would have too. */
    zmq_pollitem_t mitem = {keyed, 0, ZMQ_POLLIN, 0};
    int heard = 0;
    for (int i = 0; i < 5 && !heard; i++) {
        e2e_resp_t r;
        s_post(&r, s_partner_key, "/v1/earn", 201,
               "{\"card_number\":\"%s\",\"receipt_id\":\"curve-sub-%d\",\"amount\":"
               "{\"amount\":1000,\"currency\":\"EUR\"}}",
               s_card, i);
        e2e_resp_clear(&r);
        heard = zmq_poll(&mitem, 1, 2000);
    }
    assert_int_equal(heard, 1);
    zmq_pollitem_t sitem = {sub, 0, ZMQ_POLLIN, 0};
    assert_int_equal(zmq_poll(&sitem, 1, 500), 0);
    zmq_close(keyed);
    zmq_close(sub);

    json_decref(empty);
    zmq_ctx_term(zctx);
    lc_curve_destroy(&stranger);
    /* The ledger said whom it refused (rate-limited to a line a second). */
    assert_true(s_file_has(s_e.ledger.log, "refused a connection"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(bus_curve_every_service_talks_over_curve),
        cmocka_unit_test(bus_curve_refuses_strangers_and_null),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
