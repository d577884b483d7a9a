/*
 * lc_log.h: structured logging, one JSON object per line.
 *
 *   {"ts":"2026-11-23T12:00:00.123456Z","level":"info","service":"ledger",
 *    "request_id":"...","msg":"batch committed","transfers":412}
 *
 * Every line carries the service name given to lc_log_init and, when known, the
 * request id of the work it describes (pgbouncer's slog_* style: context first).
 * Lines are written with one write(2) so concurrent processes sharing a file do
 * not interleave. Messages below the configured level are dropped cheaply.
 */
#ifndef LC_LOG_H
#define LC_LOG_H

#include <stdarg.h>

typedef enum lc_log_level {
    LC_LOG_DEBUG = 0,
    LC_LOG_INFO = 1,
    LC_LOG_WARN = 2,
    LC_LOG_ERROR = 3,
} lc_log_level_t;

/* Sets the service name (copied), the minimum level and the output fd
 * (2 = stderr by default). May be called again to change them. */
void lc_log_init(const char *service, lc_log_level_t level, int fd);

/* Parses "debug", "info", "warn", "error"; returns -1 when unknown. */
int lc_log_level_parse(const char *name);

/* Logs msg (printf format) with an optional request id (NULL: none). */
void lc_log(lc_log_level_t level, const char *request_id, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Logs msg with extra fields: a NULL-terminated list of (const char *key,
 * const char *value) pairs, e.g. lc_log_kv(LC_LOG_INFO, rid, "posted",
 * "transfer_id", id, "amount", "120", NULL). Values are written as JSON strings. */
void lc_log_kv(lc_log_level_t level, const char *request_id, const char *msg, ...);

#define lc_debug(rid, ...) lc_log(LC_LOG_DEBUG, (rid), __VA_ARGS__)
#define lc_info(rid, ...) lc_log(LC_LOG_INFO, (rid), __VA_ARGS__)
#define lc_warn(rid, ...) lc_log(LC_LOG_WARN, (rid), __VA_ARGS__)
#define lc_error(rid, ...) lc_log(LC_LOG_ERROR, (rid), __VA_ARGS__)

#endif
