/*
 * gw_metrics.h: counters served at GET /metrics in Prometheus text format.
 *
 *   coal_http_requests_total{route="POST /v1/earn",status="201"}  counter
 *   coal_http_request_duration_seconds{route=...}                 histogram
 *   coal_http_replays_total, coal_bus_errors_total{service=...}   counters
 *
 * Routes are labelled by their pattern (never by raw path, whose ids would make
 * the label set unbounded). Lock-free: every counter is a relaxed atomic.
 */
#ifndef GW_METRICS_H
#define GW_METRICS_H

#include <stdint.h>

typedef struct gw_metrics gw_metrics_t;

/* nroutes labels (borrowed, static); the metrics add "other" for the rest. */
gw_metrics_t *gw_metrics_new(const char *const *labels, int nlabels);
void gw_metrics_destroy(gw_metrics_t **m_p);

/* Counts one answered request of route label index (-1: other). */
void gw_metrics_request(gw_metrics_t *m, int label, int status, int64_t duration_us);
void gw_metrics_replay(gw_metrics_t *m);
void gw_metrics_bus_error(gw_metrics_t *m, int service);

/* The exposition text (malloc'd, caller frees); NULL on NOMEM. */
char *gw_metrics_render(gw_metrics_t *m, const char *const *service_names, int nservices);

#endif
