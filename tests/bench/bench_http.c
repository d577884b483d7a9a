/*
 * bench_http.c: `POST /v1/earn` through the gateway and every service (scenario
 * `http_earn` of `make bench`). Setup, as a coalition would do it over the API:
 * the admin creates a postpaid partner (points available at once), the partner
 * enrolls --members members. Then --clients closed-loop clients, each on its own
 * keep-alive connection (one libcurl handle per client), send earns for random
 * members with unique receipt ids and idempotency keys for --seconds. Anything
 * but 201 counts as an error.
 *
 *   bench_http --url=http://127.0.0.1:PORT --admin-key-file=F [--clients=64]
 *              [--warmup=5] [--seconds=30] [--members=200]
 */
#include "bench_common.h"
#include "lc_err.h"
#include "lc_time.h"

#include <curl/curl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef struct http_bench {
    const char *url;
    char partner_key[256];
    char (*cards)[64];
    int members;
} http_bench_t;

typedef struct http_buf {
    char *data;
    size_t len;
} http_buf_t;

static size_t s_collect(char *p, size_t size, size_t n, void *arg)
{
    http_buf_t *b = arg;
    char *d = realloc(b->data, b->len + size * n + 1);
    if (!d)
        return 0;
    memcpy(d + b->len, p, size * n);
    b->len += size * n;
    d[b->len] = '\0';
    b->data = d;
    return size * n;
}

/* POSTs body to path with key and a fresh idempotency key on handle h (kept
 * alive between calls). Returns the HTTP status (0 when no answer); the answer's
 * body is left in out (caller frees out->data). */
static long s_post(CURL *h, const char *url, const char *path, const char *key, const char *idem,
                   const char *body, http_buf_t *out)
{
    char full[512], auth[300], idh[128];
    snprintf(full, sizeof full, "%s%s", url, path);
    snprintf(auth, sizeof auth, "Authorization: Bearer %s", key);
    snprintf(idh, sizeof idh, "Idempotency-Key: %s", idem);
    struct curl_slist *hdr = curl_slist_append(NULL, auth);
    hdr = curl_slist_append(hdr, idh);
    hdr = curl_slist_append(hdr, "Content-Type: application/json");
    out->data = NULL;
    out->len = 0;
    curl_easy_setopt(h, CURLOPT_URL, full);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdr);
    curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, s_collect);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, out);
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, 30000L);
    long status = 0;
    if (curl_easy_perform(h) == CURLE_OK)
        curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
    curl_slist_free_all(hdr);
    return status;
}

/* A string field of a 201 answer into out; false otherwise. */
static bool s_created(long status, const http_buf_t *b, const char *field, char *out, size_t len)
{
    json_t *j = status == 201 && b->data ? json_loads(b->data, 0, NULL) : NULL;
    const char *v = json_string_value(json_object_get(j, field));
    if (v)
        snprintf(out, len, "%s", v);
    json_decref(j);
    return v != NULL;
}

static int s_setup(http_bench_t *b, const char *admin_key)
{
    CURL *h = curl_easy_init();
    if (!h)
        return LC_ERR_NOMEM;
    http_buf_t buf;
    char idem[64];
    snprintf(idem, sizeof idem, "bench-partner-%lld", (long long)lc_now_us());
    static const char partner[] =
        "{\"name\":\"Bench Stores\",\"earn_rate\":{\"points\":1,\"per_amount\":100},"
        "\"pending_days\":0,\"tariff\":{\"issue_price_micros\":10000,"
        "\"redeem_credit_micros\":9000,\"fee_bps\":150},\"funding\":\"postpaid\","
        "\"excluded_categories\":[]}";
    /* The services may still be connecting: retry while nothing or a 503 answers
     * (the same idempotency key, so one partner at most). */
    long st = 0;
    for (int i = 0; i < 100; i++) {
        st = s_post(h, b->url, "/v1/partners", admin_key, idem, partner, &buf);
        if (st != 0 && st != 503)
            break;
        free(buf.data);
        usleep(100000);
    }
    bool ok = s_created(st, &buf, "api_key", b->partner_key, sizeof b->partner_key);
    if (!ok)
        fprintf(stderr, "bench_http: creating the partner answered %ld %s\n", st,
                buf.data ? buf.data : "");
    free(buf.data);
    for (int i = 0; ok && i < b->members; i++) {
        snprintf(idem, sizeof idem, "bench-member-%lld-%d", (long long)lc_now_us(), i);
        st = s_post(h, b->url, "/v1/members", b->partner_key, idem, "{}", &buf);
        ok = s_created(st, &buf, "card_number", b->cards[i], sizeof b->cards[i]);
        if (!ok)
            fprintf(stderr, "bench_http: enrolling answered %ld %s\n", st,
                    buf.data ? buf.data : "");
        free(buf.data);
    }
    curl_easy_cleanup(h);
    return ok ? LC_OK : LC_ERR_PROTO;
}

static void *s_work(void *arg)
{
    bench_worker_t *w = arg;
    const http_bench_t *b = w->ctx;
    CURL *h = curl_easy_init();
    int64_t tag = lc_now_us();
    for (long n = 0; h && !*w->stop; n++) {
        char body[256], idem[64];
        snprintf(idem, sizeof idem, "be-%lld-%d-%ld", (long long)tag, w->index, n);
        snprintf(body, sizeof body,
                 "{\"card_number\":\"%s\",\"receipt_id\":\"%s\","
                 "\"amount\":{\"amount\":%d,\"currency\":\"EUR\"}}",
                 b->cards[rand_r(&w->seed) % b->members], idem, 100 + rand_r(&w->seed) % 10000);
        http_buf_t buf;
        int64_t t0 = lc_now_us();
        long st = s_post(h, b->url, "/v1/earn", b->partner_key, idem, body, &buf);
        int64_t dt = lc_now_us() - t0;
        if (bench_done(w, st == 201, dt) && w->errors <= 3)
            fprintf(stderr, "bench_http: earn answered %ld %s\n", st, buf.data ? buf.data : "");
        free(buf.data);
    }
    curl_easy_cleanup(h);
    return NULL;
}

/* Reads the first line of path into out. */
static bool s_read_key(const char *path, char *out, size_t len)
{
    FILE *f = path ? fopen(path, "r") : NULL;
    bool ok = f && fgets(out, (int)len, f);
    if (f)
        fclose(f);
    if (ok)
        out[strcspn(out, "\r\n")] = '\0';
    return ok && out[0];
}

int main(int argc, char **argv)
{
    http_bench_t b = {
        .url = bench_opt_str(argc, argv, "url", NULL),
        .members = (int)bench_opt(argc, argv, "members", 200),
    };
    int clients = (int)bench_opt(argc, argv, "clients", 64);
    int seconds = (int)bench_opt(argc, argv, "seconds", 30);
    int warmup = (int)bench_opt(argc, argv, "warmup", 5);
    char admin[256];
    if (!b.url || b.members < 1 || clients < 1 || seconds < 1 ||
        !s_read_key(bench_opt_str(argc, argv, "admin-key-file", NULL), admin, sizeof admin)) {
        fprintf(stderr, "usage: bench_http --url=U --admin-key-file=F [--clients=64]"
                        " [--warmup=5] [--seconds=30] [--members=200]\n");
        return 2;
    }
    curl_global_init(CURL_GLOBAL_DEFAULT);
    b.cards = calloc((size_t)b.members, sizeof *b.cards);
    int64_t t0 = lc_mono_ms();
    int status = 1;
    if (b.cards && s_setup(&b, admin) == LC_OK) {
        fprintf(stderr, "bench_http: partner and %d members set up in %lld ms\n", b.members,
                (long long)(lc_mono_ms() - t0));
        status = bench_run("http_earn", clients, warmup, seconds, 1, s_work, &b);
    }
    free(b.cards);
    curl_global_cleanup();
    return status;
}
