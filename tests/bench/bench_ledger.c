/*
 * bench_ledger.c: load for the ledger over ZeroMQ. Creates members and partner
 * accounts, funds the members, then runs single-transfer requests from N client
 * threads, each waiting for its reply (closed loop), for S seconds. 1 in 10
 * transfers touches one of the hot partner accounts. Prints one JSON line:
 * {"name":"ledger","ops_per_s":...,"p50_ms":...,"p99_ms":...,"errors":...}
 *
 *   bench_ledger ENDPOINT [clients=64] [seconds=30] [members=100000] [partners=100]
 */
#include "lc_bus.h"
#include "lc_err.h"
#include "lc_id.h"
#include "lc_ledger_msg.h"
#include "lc_log.h"
#include "lc_time.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zmq.h>

static const char *s_endpoint;
static int s_members = 100000, s_partners = 100, s_seconds = 30;
static volatile int s_stop;

static lc_id_t s_account(int kind, int n)
{
    lc_id_t id = {{0}};
    id.b[0] = 0xbe;
    id.b[1] = (uint8_t)kind;
    id.b[6] = 0x70;
    id.b[8] = 0x80;
    for (int i = 0; i < 4; i++)
        id.b[15 - i] = (uint8_t)(n >> (8 * i));
    return id;
}

static json_t *s_idj(const lc_id_t *id)
{
    char t[LC_ID_STRLEN + 1];
    lc_id_format(id, t);
    return json_string(t);
}

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

static void s_setup(void *zctx)
{
    lc_bus_client_t *cli = lc_bus_client_new(zctx, s_endpoint);
    json_t *arr = json_array();
    json_array_append_new(arr, json_pack("{s:o, s:s}", "id", s_idj(&(lc_id_t){{0}}), "kind",
                                         "operator"));
    json_array_clear(arr);
    lc_id_t src = s_account(9, 0);
    json_array_append_new(arr, json_pack("{s:o, s:s}", "id", s_idj(&src), "kind", "operator"));
    for (int p = 0; p < s_partners; p++) {
        lc_id_t id = s_account(2, p);
        json_array_append_new(arr, json_pack("{s:o, s:s}", "id", s_idj(&id), "kind",
                                             "partner_redemption"));
    }
    s_call(cli, LD_TYPE_CREATE_ACCOUNTS, json_pack("{s:o}", "accounts", arr));
    for (int m = 0; m < s_members; m += 1000) {
        json_t *acc = json_array(), *fund = json_array();
        for (int k = m; k < m + 1000 && k < s_members; k++) {
            lc_id_t id = s_account(1, k), tid;
            json_array_append_new(acc, json_pack("{s:o, s:s, s:[s]}", "id", s_idj(&id), "kind",
                                                 "member", "flags",
                                                 "debits_must_not_exceed_credits"));
            lc_id_derive(&id, "fund", &tid);
            json_array_append_new(fund, json_pack("{s:o, s:o, s:o, s:I}", "id", s_idj(&tid),
                                                  "debit_account_id", s_idj(&src),
                                                  "credit_account_id", s_idj(&id), "amount",
                                                  (json_int_t)1000000000));
        }
        s_call(cli, LD_TYPE_CREATE_ACCOUNTS, json_pack("{s:o}", "accounts", acc));
        s_call(cli, LD_TYPE_CREATE_TRANSFERS, json_pack("{s:o}", "transfers", fund));
    }
    lc_bus_client_destroy(&cli);
}

typedef struct worker {
    pthread_t thread;
    void *zctx;
    unsigned seed;
    int64_t *lat_us;
    size_t n, cap;
    long errors;
} worker_t;

static void *s_work(void *arg)
{
    worker_t *w = arg;
    lc_bus_client_t *cli = lc_bus_client_new(w->zctx, s_endpoint);
    while (!s_stop) {
        int a = rand_r(&w->seed) % s_members, b = rand_r(&w->seed) % s_members;
        lc_id_t dr = s_account(1, a), cr = s_account(1, b == a ? (b + 1) % s_members : b), tid;
        if (rand_r(&w->seed) % 10 == 0)
            cr = s_account(2, rand_r(&w->seed) % s_partners);
        lc_id_new(&tid);
        json_t *body = json_pack("{s:[{s:o, s:o, s:o, s:i}]}", "transfers", "id", s_idj(&tid),
                                 "debit_account_id", s_idj(&dr), "credit_account_id",
                                 s_idj(&cr), "amount", 1 + rand_r(&w->seed) % 100);
        int64_t t0 = lc_now_us();
        int rc = s_call(cli, LD_TYPE_CREATE_TRANSFERS, body);
        int64_t dt = lc_now_us() - t0;
        if (rc != LC_OK) {
            w->errors++;
            continue;
        }
        if (w->n == w->cap) {
            w->cap = w->cap ? w->cap * 2 : 65536;
            w->lat_us = realloc(w->lat_us, w->cap * sizeof *w->lat_us);
        }
        w->lat_us[w->n++] = dt;
    }
    lc_bus_client_destroy(&cli);
    return NULL;
}

static int s_cmp(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: bench_ledger ENDPOINT [clients] [seconds] [members] [partners]\n");
        return 2;
    }
    s_endpoint = argv[1];
    int clients = argc > 2 ? atoi(argv[2]) : 64;
    s_seconds = argc > 3 ? atoi(argv[3]) : 30;
    s_members = argc > 4 ? atoi(argv[4]) : 100000;
    s_partners = argc > 5 ? atoi(argv[5]) : 100;
    lc_log_init("bench", LC_LOG_ERROR, 2);
    void *zctx = zmq_ctx_new();
    int64_t t0 = lc_mono_ms();
    s_setup(zctx);
    fprintf(stderr, "bench: %d members funded in %lld ms\n", s_members,
            (long long)(lc_mono_ms() - t0));
    worker_t *w = calloc((size_t)clients, sizeof *w);
    for (int i = 0; i < clients; i++) {
        w[i].zctx = zctx;
        w[i].seed = (unsigned)(i * 7919 + 1);
        pthread_create(&w[i].thread, NULL, s_work, &w[i]);
    }
    int64_t start = lc_mono_ms();
    while (lc_mono_ms() - start < s_seconds * 1000LL)
        usleep(100000);
    s_stop = 1;
    int64_t elapsed = lc_mono_ms() - start;
    size_t total = 0;
    long errors = 0;
    for (int i = 0; i < clients; i++) {
        pthread_join(w[i].thread, NULL);
        total += w[i].n;
        errors += w[i].errors;
    }
    int64_t *all = malloc((total ? total : 1) * sizeof *all);
    size_t k = 0;
    for (int i = 0; i < clients; i++) {
        memcpy(all + k, w[i].lat_us, w[i].n * sizeof *all);
        k += w[i].n;
        free(w[i].lat_us);
    }
    qsort(all, total, sizeof *all, s_cmp);
    double p50 = total ? all[total / 2] / 1000.0 : 0, p99 = total ? all[total * 99 / 100] / 1000.0 : 0;
    printf("{\"name\":\"ledger\",\"ops_per_s\":%.0f,\"p50_ms\":%.2f,\"p99_ms\":%.2f,"
           "\"errors\":%ld}\n",
           total * 1000.0 / (double)elapsed, p50, p99, errors);
    free(all);
    free(w);
    zmq_ctx_term(zctx);
    return 0;
}
