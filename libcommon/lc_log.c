/*
 * lc_log.c: structured logging, one JSON object per line (see lc_log.h).
 *
 * Each line is built with jansson so that quoting is always right, whatever the
 * message holds: quotes, backslashes, newlines and other control characters are
 * escaped, and bytes that are not valid UTF-8 are replaced by '?' first (jansson
 * refuses invalid UTF-8, and a log line must never be lost because of one bad
 * byte). The finished line and its '\n' go out in a single write(2), so lines
 * from several threads or processes sharing the fd do not interleave.
 *
 * The configuration (service, minimum level, fd) is process-global state. It is
 * meant to be set once at start-up by lc_log_init, before other threads log;
 * changing it while other threads are logging is not supported. Logging itself
 * is safe from any number of threads: formatting uses only the caller's stack and
 * heap buffers private to the call, and each line is one write.
 */
#include "lc_log.h"

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

/* Longest service name kept; longer names are truncated. A fixed buffer means
 * re-initialising never frees memory another thread could still be reading. */
#define LOG_SERVICE_MAX 64

/* Messages up to this size are formatted on the stack; longer ones on the heap. */
#define LOG_MSG_STACK 1024

/* The process-global configuration; defaults apply until lc_log_init. */
static char s_service[LOG_SERVICE_MAX] = "unknown"; /* "service" field of every line */
static lc_log_level_t s_level = LC_LOG_INFO;        /* lines below this are dropped */
static int s_fd = 2;                                /* where lines are written */

/* Written when a line cannot be built (out of memory), so the event is not silent. */
static const char s_fallback_line[] =
    "{\"level\":\"error\",\"msg\":\"lc_log: out of memory while formatting a log line\"}\n";

/* Maps a level to its name; out-of-range values are clamped to the nearest level. */
static const char *s_level_name(lc_log_level_t level)
{
    if (level <= LC_LOG_DEBUG)
        return "debug";
    switch (level) {
    case LC_LOG_INFO:
        return "info";
    case LC_LOG_WARN:
        return "warn";
    default:
        return "error";
    }
}

void lc_log_init(const char *service, lc_log_level_t level, int fd)
{
    if (service == NULL || service[0] == '\0')
        service = "unknown";
    snprintf(s_service, sizeof s_service, "%s", service);
    s_level = level;
    s_fd = fd < 0 ? 2 : fd;
}

int lc_log_level_parse(const char *name)
{
    if (name == NULL)
        return -1;
    if (strcasecmp(name, "debug") == 0)
        return LC_LOG_DEBUG;
    if (strcasecmp(name, "info") == 0)
        return LC_LOG_INFO;
    if (strcasecmp(name, "warn") == 0 || strcasecmp(name, "warning") == 0)
        return LC_LOG_WARN;
    if (strcasecmp(name, "error") == 0)
        return LC_LOG_ERROR;
    return -1;
}

/* Returns the length of the valid UTF-8 sequence starting at s (at most n bytes
 * available), or 0 when the bytes there do not form one. Rejects overlong forms,
 * surrogates and code points above U+10FFFF, as jansson does. */
static size_t s_utf8_seq_len(const unsigned char *s, size_t n)
{
    unsigned char c = s[0];
    size_t len;
    unsigned char lo = 0x80, hi = 0xBF; /* allowed range of the second byte */

    if (c < 0x80)
        return 1;
    if (c >= 0xC2 && c <= 0xDF) {
        len = 2;
    } else if (c >= 0xE0 && c <= 0xEF) {
        len = 3;
        if (c == 0xE0)
            lo = 0xA0; /* overlong */
        else if (c == 0xED)
            hi = 0x9F; /* surrogates */
    } else if (c >= 0xF0 && c <= 0xF4) {
        len = 4;
        if (c == 0xF0)
            lo = 0x90; /* overlong */
        else if (c == 0xF4)
            hi = 0x8F; /* above U+10FFFF */
    } else {
        return 0;
    }
    if (n < len || s[1] < lo || s[1] > hi)
        return 0;
    for (size_t i = 2; i < len; i++) {
        if (s[i] < 0x80 || s[i] > 0xBF)
            return 0;
    }
    return len;
}

/* Returns a new JSON string holding s with every byte that is not part of valid
 * UTF-8 replaced by '?', or NULL when out of memory. s may be NULL (JSON null). */
static json_t *s_json_text(const char *s)
{
    if (s == NULL)
        return json_null();

    size_t n = strlen(s);
    char stackbuf[LOG_MSG_STACK];
    char *buf = n < sizeof stackbuf ? stackbuf : malloc(n + 1);
    if (buf == NULL)
        return NULL;

    const unsigned char *u = (const unsigned char *)s;
    size_t i = 0;
    while (i < n) {
        size_t len = s_utf8_seq_len(u + i, n - i);
        if (len == 0) {
            buf[i++] = '?';
        } else {
            memcpy(buf + i, s + i, len);
            i += len;
        }
    }
    buf[n] = '\0';

    json_t *j = json_stringn(buf, n);
    if (buf != stackbuf)
        free(buf);
    return j;
}

/* Adds key (sanitised) = value to obj unless key is already there, so extra
 * fields can never overwrite ts, level, service, request_id or msg. value is
 * stolen. Returns 0, or -1 when out of memory. */
static int s_set_new(json_t *obj, const char *key, json_t *value)
{
    if (value == NULL)
        return -1;
    json_t *k = s_json_text(key);
    if (k == NULL) {
        json_decref(value);
        return -1;
    }
    const char *ks = json_string_value(k);
    int rc = 0;
    if (json_object_get(obj, ks) == NULL)
        rc = json_object_set_new(obj, ks, value) == 0 ? 0 : -1;
    else
        json_decref(value);
    json_decref(k);
    return rc;
}

/* Writes the RFC 3339 UTC time with microseconds (2026-11-23T12:00:00.123456Z)
 * into buf. */
static void s_timestamp(char *buf, size_t size)
{
    struct timespec ts;
    struct tm tm;

    if (clock_gettime(CLOCK_REALTIME, &ts) != 0 || gmtime_r(&ts.tv_sec, &tm) == NULL) {
        snprintf(buf, size, "1970-01-01T00:00:00.000000Z");
        return;
    }
    size_t n = strftime(buf, size, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(buf + n, size - n, ".%06ldZ", (long)(ts.tv_nsec / 1000));
}

/* Writes all of buf to fd, retrying on EINTR and partial writes. Gives up
 * silently on any other error: there is nowhere left to report it. */
static void s_write_all(int fd, const char *buf, size_t len)
{
    while (len > 0) {
        ssize_t w = write(fd, buf, len);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            return;
        }
        buf += w;
        len -= (size_t)w;
    }
}

/* Builds the line for msg and the extra (key, value) pairs in *kv (when kv is
 * not NULL) and writes it to the configured fd. */
static void s_emit(lc_log_level_t level, const char *request_id, const char *msg, va_list *kv)
{
    char ts[64];
    int saved_errno = errno; /* logging must not disturb the caller's errno */

    s_timestamp(ts, sizeof ts);

    json_t *obj = json_object();
    bool ok = obj != NULL;
    ok = ok && s_set_new(obj, "ts", json_string(ts)) == 0;
    ok = ok && s_set_new(obj, "level", json_string(s_level_name(level))) == 0;
    ok = ok && s_set_new(obj, "service", s_json_text(s_service)) == 0;
    if (request_id != NULL)
        ok = ok && s_set_new(obj, "request_id", s_json_text(request_id)) == 0;
    ok = ok && s_set_new(obj, "msg", s_json_text(msg != NULL ? msg : "")) == 0;
    if (kv != NULL) {
        const char *key;
        while ((key = va_arg(*kv, const char *)) != NULL) {
            const char *value = va_arg(*kv, const char *);
            ok = ok && s_set_new(obj, key, s_json_text(value)) == 0;
        }
    }

    char *line = ok ? json_dumps(obj, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
    json_decref(obj);
    if (line == NULL) {
        s_write_all(s_fd, s_fallback_line, sizeof s_fallback_line - 1);
        errno = saved_errno;
        return;
    }

    /* json_dumps leaves no room for the newline; add it so the line is one write. */
    size_t len = strlen(line);
    char *out = realloc(line, len + 2);
    if (out == NULL) {
        free(line);
        s_write_all(s_fd, s_fallback_line, sizeof s_fallback_line - 1);
        errno = saved_errno;
        return;
    }
    out[len] = '\n';
    out[len + 1] = '\0';
    s_write_all(s_fd, out, len + 1);
    free(out);
    errno = saved_errno;
}

/* Formats fmt with ap and logs it; the format attribute lets the compiler check
 * that fmt came from a checked printf-style caller. */
__attribute__((format(printf, 3, 0))) static void
s_vlog(lc_log_level_t level, const char *request_id, const char *fmt, va_list ap)
{
    char stackbuf[LOG_MSG_STACK];
    char *msg = stackbuf;
    va_list ap2;

    va_copy(ap2, ap);
    int n = vsnprintf(stackbuf, sizeof stackbuf, fmt, ap);
    if (n < 0) {
        snprintf(stackbuf, sizeof stackbuf, "lc_log: invalid format");
    } else if ((size_t)n >= sizeof stackbuf) {
        msg = malloc((size_t)n + 1);
        if (msg == NULL)
            msg = stackbuf; /* keep the truncated text rather than nothing */
        else
            vsnprintf(msg, (size_t)n + 1, fmt, ap2);
    }
    va_end(ap2);

    s_emit(level, request_id, msg, NULL);
    if (msg != stackbuf)
        free(msg);
}

void lc_log(lc_log_level_t level, const char *request_id, const char *fmt, ...)
{
    if (level < s_level)
        return;
    if (fmt == NULL)
        fmt = "";

    va_list ap;
    va_start(ap, fmt);
    s_vlog(level, request_id, fmt, ap);
    va_end(ap);
}

void lc_log_kv(lc_log_level_t level, const char *request_id, const char *msg, ...)
{
    if (level < s_level)
        return;

    va_list ap;
    va_start(ap, msg);
    s_emit(level, request_id, msg, &ap);
    va_end(ap);
}
