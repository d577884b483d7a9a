/*
 * bench_ledger.c: load for the ledger over ZeroMQ (scenarios `ledger` and
 * `scale` of `make bench`). Creates the member and partner accounts and funds
 * the members (unless --setup=0: `scale` preloads them with preload.sql), then
 * runs single-transfer requests from --clients closed-loop clients, each with its
 * own DEALER socket and waiting for its reply, for --seconds. 1 in 10 transfers
 * credits one of the hot partner accounts; the rest move points between two
 * random members.
 *
 *   bench_ledger --endpoint=E [--name=ledger] [--clients=64] [--warmup=5] [--seconds=30]
 *                [--members=100000] [--partners=100] [--setup=1] [--op=transfer|ping]
 */
#include "bench_common.h"
#include "lc_bus.h"
#include "lc_err.h"
#include "lc_ledger_msg.h"
#include "lc_log.h"
#include "lc_time.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

typedef struct ledger_bench {
    void *zctx;
    const char *endpoint;
    int members, partners;
} ledger_bench_t;

static json_t *s_idj(const lc_id_t *id)
{
    char t[LC_ID_STRLEN + 1];
    lc_id_format(id, t);
    return json_string(t);
}

/* One call that must succeed (setup); takes body. */
static int s_call(lc_bus_client_t *cli, const char *type, json_t *body)
{
    lc_reply_t rep;
    int rc = lc_bus_call(cli, type, body, NULL, 30000, 2, &rep);
    json_decref(body);
    if (rc == LC_OK && !rep.ok)
        rc = LC_ERR_PROTO;
    lc_reply_clear(&rep);
    return rc;
}

/* Creates the operator, the partners and the members, and funds every member
 * with 10^9 points, 1000 accounts per request. */
static int s_setup(const ledger_bench_t *b)
{
    lc_bus_client_t *cli = lc_bus_client_new(b->zctx, b->endpoint);
    if (!cli)
        return LC_ERR_NOMEM;
    lc_id_t src = bench_account(BENCH_OPERATOR, 0);
    json_t *arr = json_array();
    json_array_append_new(arr, json_pack("{s:o, s:s}", "id", s_idj(&src), "kind", "operator"));
    for (int p = 0; p < b->partners; p++) {
        lc_id_t id = bench_account(BENCH_PARTNER, p);
        json_array_append_new(arr, json_pack("{s:o, s:s}", "id", s_idj(&id), "kind",
                                             "partner_redemption"));
    }
    int rc = s_call(cli, LD_TYPE_CREATE_ACCOUNTS, json_pack("{s:o}", "accounts", arr));
    for (int m = 0; rc == LC_OK && m < b->members; m += 1000) {
        json_t *acc = json_array(), *fund = json_array();
        for (int k = m; k < m + 1000 && k < b->members; k++) {
            lc_id_t id = bench_account(BENCH_MEMBER, k), tid;
            json_array_append_new(acc, json_pack("{s:o, s:s, s:[s]}", "id", s_idj(&id), "kind",
                                                 "member", "flags",
                                                 "debits_must_not_exceed_credits"));
            lc_id_derive(&id, "fund", &tid);
            json_array_append_new(fund, json_pack("{s:o, s:o, s:o, s:I}", "id", s_idj(&tid),
                                                  "debit_account_id", s_idj(&src),
                                                  "credit_account_id", s_idj(&id), "amount",
                                                  (json_int_t)1000000000));
        }
        rc = s_call(cli, LD_TYPE_CREATE_ACCOUNTS, json_pack("{s:o}", "accounts", acc));
        if (rc == LC_OK)
            rc = s_call(cli, LD_TYPE_CREATE_TRANSFERS, json_pack("{s:o}", "transfers", fund));
        else
            json_decref(fund);
    }
    lc_bus_client_destroy(&cli);
    return rc;
}

/* --op=ping: the same clients sending ledger.ping, which touches neither the
 * books nor PostgreSQL: the ceiling of the transport and the envelope codec
 * alone (docs/PERFORMANCE.md). */
static void *s_ping(void *arg)
{
    bench_worker_t *w = arg;
    const ledger_bench_t *b = w->ctx;
    lc_bus_client_t *cli = lc_bus_client_new(b->zctx, b->endpoint);
    json_t *body = json_object();
    while (cli && body && !*w->stop) {
        lc_reply_t rep;
        int64_t t0 = lc_now_us();
        int rc = lc_bus_call(cli, LD_TYPE_PING, body, NULL, 30000, 0, &rep);
        bench_done(w, rc == LC_OK && rep.ok, lc_now_us() - t0);
        lc_reply_clear(&rep);
    }
    json_decref(body);
    lc_bus_client_destroy(&cli);
    return NULL;
}

static void *s_work(void *arg)
{
    bench_worker_t *w = arg;
    const ledger_bench_t *b = w->ctx;
    lc_bus_client_t *cli = lc_bus_client_new(b->zctx, b->endpoint);
    while (cli && !*w->stop) {
        int d = rand_r(&w->seed) % b->members, c = rand_r(&w->seed) % b->members;
        lc_id_t dr = bench_account(BENCH_MEMBER, d), tid;
        lc_id_t cr = bench_account(BENCH_MEMBER, c == d ? (c + 1) % b->members : c);
        if (rand_r(&w->seed) % 10 == 0)
            cr = bench_account(BENCH_PARTNER, rand_r(&w->seed) % b->partners);
        lc_id_new(&tid);
        json_t *body = json_pack("{s:[{s:o, s:o, s:o, s:i}]}", "transfers", "id", s_idj(&tid),
                                 "debit_account_id", s_idj(&dr), "credit_account_id",
                                 s_idj(&cr), "amount", 1 + rand_r(&w->seed) % 100);
        lc_reply_t rep;
        int64_t t0 = lc_now_us();
        int rc = lc_bus_call(cli, LD_TYPE_CREATE_TRANSFERS, body, NULL, 30000, 0, &rep);
        int64_t dt = lc_now_us() - t0;
        /* An answer for the one transfer that is not "ok" is a failure too. */
        json_t *res = rc == LC_OK && rep.ok ? json_object_get(rep.body, "results") : NULL;
        const char *r = json_string_value(json_object_get(json_array_get(res, 0), "result"));
        bench_done(w, r && !strcmp(r, "ok"), dt);
        json_decref(body);
        lc_reply_clear(&rep);
    }
    lc_bus_client_destroy(&cli);
    return NULL;
}

int main(int argc, char **argv)
{
    ledger_bench_t b = {
        .endpoint = bench_opt_str(argc, argv, "endpoint", NULL),
        .members = (int)bench_opt(argc, argv, "members", 100000),
        .partners = (int)bench_opt(argc, argv, "partners", 100),
    };
    const char *name = bench_opt_str(argc, argv, "name", "ledger");
    int clients = (int)bench_opt(argc, argv, "clients", 64);
    int seconds = (int)bench_opt(argc, argv, "seconds", 30);
    int warmup = (int)bench_opt(argc, argv, "warmup", 5);
    if (!b.endpoint || b.members < 2 || b.partners < 1 || clients < 1 || seconds < 1) {
        fprintf(stderr, "usage: bench_ledger --endpoint=E [--name=ledger] [--clients=64]"
                        " [--warmup=5] [--seconds=30] [--members=100000] [--partners=100] [--setup=1]"
                        " [--op=transfer|ping]\n");
        return 2;
    }
    lc_log_init("bench", LC_LOG_ERROR, 2);
    b.zctx = zmq_ctx_new();
    int rc = LC_OK;
    if (bench_opt(argc, argv, "setup", 1)) {
        int64_t t0 = lc_mono_ms();
        rc = s_setup(&b);
        fprintf(stderr, "bench_ledger: %d members created and funded in %lld ms\n", b.members,
                (long long)(lc_mono_ms() - t0));
    }
    if (rc != LC_OK) {
        fprintf(stderr, "bench_ledger: setup failed: %s\n", lc_strerror(rc));
        zmq_ctx_term(b.zctx);
        return 1;
    }
    bool ping = !strcmp(bench_opt_str(argc, argv, "op", "transfer"), "ping");
    int status = bench_run(name, clients, warmup, seconds, 1, ping ? s_ping : s_work, &b);
    zmq_ctx_term(b.zctx);
    return status;
}
