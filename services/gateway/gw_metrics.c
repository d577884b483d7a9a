/*
 * gw_metrics.c: Prometheus counters (gw_metrics.h).
 */
#include "gw_metrics.h"

#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const int s_statuses[] = {200, 201, 204, 400, 401, 403, 404, 409,
                                 413, 422, 423, 429, 500, 503, 0 /* other */};
#define NSTATUS (int)(sizeof s_statuses / sizeof s_statuses[0])
static const int64_t s_bounds_us[] = {1000,   2500,   5000,   10000,   25000,  50000,
                                      100000, 250000, 500000, 1000000, 2500000};
#define NBOUNDS (int)(sizeof s_bounds_us / sizeof s_bounds_us[0])
#define MAX_SERVICES 8

typedef struct route_stats {
    atomic_llong by_status[NSTATUS];
    atomic_llong buckets[NBOUNDS + 1]; /* last: +Inf */
    atomic_llong sum_us;
} route_stats_t;

struct gw_metrics {
    const char *const *labels;
    int nlabels;
    route_stats_t *routes; /* nlabels + 1 ("other") */
    atomic_llong replays;
    atomic_llong bus_errors[MAX_SERVICES];
};

gw_metrics_t *gw_metrics_new(const char *const *labels, int nlabels)
{
    gw_metrics_t *m = calloc(1, sizeof *m);
    if (!m)
        return NULL;
    m->routes = calloc((size_t)nlabels + 1, sizeof *m->routes);
    if (!m->routes) {
        free(m);
        return NULL;
    }
    m->labels = labels;
    m->nlabels = nlabels;
    return m;
}

void gw_metrics_destroy(gw_metrics_t **m_p)
{
    if (!*m_p)
        return;
    free((*m_p)->routes);
    free(*m_p);
    *m_p = NULL;
}

void gw_metrics_request(gw_metrics_t *m, int label, int status, int64_t duration_us)
{
    route_stats_t *r = &m->routes[label >= 0 && label < m->nlabels ? label : m->nlabels];
    int s = 0;
    while (s < NSTATUS - 1 && s_statuses[s] != status)
        s++;
    atomic_fetch_add_explicit(&r->by_status[s], 1, memory_order_relaxed);
    int b = 0;
    while (b < NBOUNDS && duration_us > s_bounds_us[b])
        b++;
    atomic_fetch_add_explicit(&r->buckets[b], 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&r->sum_us, duration_us, memory_order_relaxed);
}

void gw_metrics_replay(gw_metrics_t *m)
{
    atomic_fetch_add_explicit(&m->replays, 1, memory_order_relaxed);
}

void gw_metrics_bus_error(gw_metrics_t *m, int service)
{
    if (service >= 0 && service < MAX_SERVICES)
        atomic_fetch_add_explicit(&m->bus_errors[service], 1, memory_order_relaxed);
}

/* A growing text buffer; failures are sticky. */
typedef struct buf {
    char *p;
    size_t len, cap;
    int failed;
} buf_t;

__attribute__((format(printf, 2, 3))) static void s_put(buf_t *b, const char *fmt, ...)
{
    if (b->failed)
        return;
    for (;;) {
        va_list ap;
        va_start(ap, fmt);
        int n = vsnprintf(b->p + b->len, b->cap - b->len, fmt, ap);
        va_end(ap);
        if (n < 0) {
            b->failed = 1;
            return;
        }
        if ((size_t)n < b->cap - b->len) {
            b->len += (size_t)n;
            return;
        }
        size_t cap = (b->cap + (size_t)n + 1) * 2;
        char *p = realloc(b->p, cap);
        if (!p) {
            b->failed = 1;
            return;
        }
        b->p = p;
        b->cap = cap;
    }
}

char *gw_metrics_render(gw_metrics_t *m, const char *const *service_names, int nservices)
{
    buf_t b = {.p = malloc(4096), .cap = 4096};
    if (!b.p)
        return NULL;
    b.p[0] = '\0';
    s_put(&b, "# HELP coal_http_requests_total HTTP requests answered, by route and status.\n"
              "# TYPE coal_http_requests_total counter\n");
    for (int i = 0; i <= m->nlabels; i++) {
        const char *label = i < m->nlabels ? m->labels[i] : "other";
        for (int s = 0; s < NSTATUS; s++) {
            long long n = atomic_load_explicit(&m->routes[i].by_status[s], memory_order_relaxed);
            if (!n)
                continue;
            if (s_statuses[s])
                s_put(&b, "coal_http_requests_total{route=\"%s\",status=\"%d\"} %lld\n", label,
                      s_statuses[s], n);
            else
                s_put(&b, "coal_http_requests_total{route=\"%s\",status=\"other\"} %lld\n",
                      label, n);
        }
    }
    s_put(&b, "# HELP coal_http_request_duration_seconds Time from request to response.\n"
              "# TYPE coal_http_request_duration_seconds histogram\n");
    for (int i = 0; i <= m->nlabels; i++) {
        const char *label = i < m->nlabels ? m->labels[i] : "other";
        route_stats_t *r = &m->routes[i];
        long long cum = 0;
        for (int k = 0; k <= NBOUNDS; k++)
            cum += atomic_load_explicit(&r->buckets[k], memory_order_relaxed);
        if (!cum)
            continue;
        cum = 0;
        for (int k = 0; k < NBOUNDS; k++) {
            cum += atomic_load_explicit(&r->buckets[k], memory_order_relaxed);
            s_put(&b, "coal_http_request_duration_seconds_bucket{route=\"%s\",le=\"%g\"} %lld\n",
                  label, (double)s_bounds_us[k] / 1e6, cum);
        }
        cum += atomic_load_explicit(&r->buckets[NBOUNDS], memory_order_relaxed);
        s_put(&b, "coal_http_request_duration_seconds_bucket{route=\"%s\",le=\"+Inf\"} %lld\n",
              label, cum);
        s_put(&b, "coal_http_request_duration_seconds_sum{route=\"%s\"} %.6f\n", label,
              (double)atomic_load_explicit(&r->sum_us, memory_order_relaxed) / 1e6);
        s_put(&b, "coal_http_request_duration_seconds_count{route=\"%s\"} %lld\n", label, cum);
    }
    s_put(&b, "# HELP coal_http_replays_total Responses replayed for a repeated Idempotency-Key.\n"
              "# TYPE coal_http_replays_total counter\ncoal_http_replays_total %lld\n",
          (long long)atomic_load_explicit(&m->replays, memory_order_relaxed));
    s_put(&b, "# HELP coal_bus_errors_total Service calls without a usable reply.\n"
              "# TYPE coal_bus_errors_total counter\n");
    for (int i = 0; i < nservices && i < MAX_SERVICES; i++)
        s_put(&b, "coal_bus_errors_total{service=\"%s\"} %lld\n", service_names[i],
              (long long)atomic_load_explicit(&m->bus_errors[i], memory_order_relaxed));
    if (b.failed) {
        free(b.p);
        return NULL;
    }
    return b.p;
}
