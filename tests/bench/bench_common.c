/*
 * bench_common.c: the closed-loop runner and the report line (see bench_common.h).
 */
#include "bench_common.h"
#include "lc_err.h"
#include "lc_time.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

lc_id_t bench_account(int kind, int n)
{
    lc_id_t id = {{0}};
    id.b[0] = 0xbe;
    id.b[1] = (uint8_t)kind;
    id.b[6] = 0x70;
    id.b[8] = 0x80;
    for (int i = 0; i < 4; i++)
        id.b[15 - i] = (uint8_t)((uint32_t)n >> (8 * i));
    return id;
}

static int s_lat_add(bench_lat_t *l, int64_t us)
{
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 65536;
        int64_t *p = realloc(l->us, cap * sizeof *p);
        if (!p)
            return LC_ERR_NOMEM;
        l->us = p;
        l->cap = cap;
    }
    l->us[l->n++] = us;
    return LC_OK;
}

bool bench_done(bench_worker_t *w, bool ok, int64_t us)
{
    if (!*w->measuring)
        return false;
    if (ok && s_lat_add(&w->lat, us) == LC_OK)
        return false;
    w->errors++;
    return true;
}

static int s_cmp(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

int bench_run(const char *name, int nworkers, int warmup, int seconds, int ops_per_op,
              bench_worker_fn fn, void *ctx)
{
    volatile int stop = 0, measuring = 0;
    bench_worker_t *w = calloc((size_t)nworkers, sizeof *w);
    pthread_t *th = calloc((size_t)nworkers, sizeof *th);
    if (!w || !th) {
        free(w);
        free(th);
        return 1;
    }
    int started = 0;
    for (; started < nworkers; started++) {
        w[started].index = started;
        w[started].ctx = ctx;
        w[started].stop = &stop;
        w[started].measuring = &measuring;
        w[started].seed = (unsigned)(started * 7919 + 1);
        if (pthread_create(&th[started], NULL, fn, &w[started]) != 0)
            break;
    }
    int64_t start = lc_mono_ms();
    while (started == nworkers && lc_mono_ms() - start < warmup * 1000LL)
        usleep(50000);
    measuring = 1;
    start = lc_mono_ms();
    while (started == nworkers && lc_mono_ms() - start < seconds * 1000LL)
        usleep(50000);
    stop = 1;
    int64_t elapsed = lc_mono_ms() - start;
    size_t total = 0;
    long errors = 0;
    for (int i = 0; i < started; i++) {
        pthread_join(th[i], NULL);
        total += w[i].lat.n;
        errors += w[i].errors;
    }
    int64_t *all = malloc((total ? total : 1) * sizeof *all);
    size_t k = 0;
    for (int i = 0; i < started; i++) {
        if (all)
            memcpy(all + k, w[i].lat.us, w[i].lat.n * sizeof *all);
        k += w[i].lat.n;
        free(w[i].lat.us);
    }
    if (all)
        qsort(all, total, sizeof *all, s_cmp);
    double p50 = all && total ? all[total / 2] / 1000.0 : 0;
    double p99 = all && total ? all[total * 99 / 100] / 1000.0 : 0;
    printf("{\"name\":\"%s\",\"ops_per_s\":%.0f,\"p50_ms\":%.2f,\"p99_ms\":%.2f,\"errors\":%ld}\n",
           name, elapsed > 0 ? (double)total * ops_per_op * 1000.0 / (double)elapsed : 0, p50,
           p99, errors);
    fflush(stdout);
    free(all);
    free(w);
    free(th);
    return started == nworkers && total > 0 ? 0 : 1;
}

static const char *s_find(int argc, char **argv, const char *name)
{
    size_t n = strlen(name);
    for (int i = 1; i < argc; i++)
        if (!strncmp(argv[i], "--", 2) && !strncmp(argv[i] + 2, name, n) && argv[i][2 + n] == '=')
            return argv[i] + 3 + n;
    return NULL;
}

long bench_opt(int argc, char **argv, const char *name, long def)
{
    const char *v = s_find(argc, argv, name);
    return v ? strtol(v, NULL, 10) : def;
}

const char *bench_opt_str(int argc, char **argv, const char *name, const char *def)
{
    const char *v = s_find(argc, argv, name);
    return v ? v : def;
}
