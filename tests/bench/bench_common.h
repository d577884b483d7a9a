/*
 * bench_common.h: what the load clients of `make bench` share (tests/bench/).
 *
 * Every client runs N closed-loop workers for a fixed time: each worker sends one
 * operation, waits for its answer and records the latency, then sends the next.
 * bench_run starts the workers, lets them warm up (caches, connections, the
 * first batches) without counting, counts for the measured seconds, stops them
 * and prints one JSON line on stdout that tests/bench/bench.sh collects:
 *   {"name":"...","ops_per_s":N,"p50_ms":N,"p99_ms":N,"errors":N}
 * Timings live here and in bench.sh only, never in a test.
 */
#ifndef BENCH_COMMON_H
#define BENCH_COMMON_H

#include "lc_id.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The account ids every scenario uses, also derived in SQL by preload.sql
 * (be KK 0000-0000-7000-8000-0000 NNNNNNNN): kind 1 members, 2 partners, 9 the
 * operator that funds them. */
enum { BENCH_MEMBER = 1, BENCH_PARTNER = 2, BENCH_OPERATOR = 9 };
lc_id_t bench_account(int kind, int n);

/* One worker's latencies, in microseconds. */
typedef struct bench_lat {
    int64_t *us;
    size_t n, cap;
} bench_lat_t;

/* A worker: its function runs in its own thread and loops until *stop, reporting
 * each operation with bench_done. */
typedef struct bench_worker {
    int index;                   /* 0 .. nworkers-1 */
    void *ctx;                   /* the scenario's */
    volatile int *stop;          /* set when the run is over */
    volatile int *measuring;     /* set once the warm-up is over */
    unsigned seed;               /* for rand_r */
    bench_lat_t lat;             /* latencies of the measured operations */
    long errors;                 /* failed operations while measuring */
} bench_worker_t;
typedef void *(*bench_worker_fn)(void *worker);

/* Reports one operation that took us microseconds (ok: it succeeded). Counted
 * only once the warm-up is over; returns true when the failure was counted (so a
 * client can print the first few). */
bool bench_done(bench_worker_t *w, bool ok, int64_t us);

/* Runs nworkers workers for warmup + seconds, then prints the scenario's JSON
 * line. ops_per_op scales the count (a batch of 1000 transfers is 1000
 * operations, its latency that of the batch). Returns 0, or 1 when a thread
 * could not start or nothing succeeded. */
int bench_run(const char *name, int nworkers, int warmup, int seconds, int ops_per_op,
              bench_worker_fn fn, void *ctx);

/* Integer option "--name=value" from argv, or def. */
long bench_opt(int argc, char **argv, const char *name, long def);
/* String option "--name=value" from argv, or def. */
const char *bench_opt_str(int argc, char **argv, const char *name, const char *def);

#endif
