/*
 * cc_http.c: coalctl's HTTP client (cc_http.h).
 */
#include "cc_http.h"
#include "lc_crypto.h"

#include <ctype.h>
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define KEY_MAX 512

static char *s_trim_dup(const char *s)
{
    while (isspace((unsigned char)*s))
        s++;
    size_t n = strcspn(s, "\r\n");
    while (n && isspace((unsigned char)s[n - 1]))
        n--;
    return strndup(s, n);
}

int cc_client_key(cc_client_t *c)
{
    const char *key_file = c->key_file;
    const char *env = getenv("COAL_API_KEY");
    if (env && *env) {
        c->key = s_trim_dup(env);
        return c->key && *c->key ? 0 : -1;
    }
    if (!key_file)
        key_file = getenv("COAL_API_KEY_FILE");
    if (!key_file || !*key_file) {
        fprintf(stderr, "coalctl: no API key: set COAL_API_KEY, or COAL_API_KEY_FILE or "
                        "--key-file to a file holding it (e.g. var/secrets/admin.key)\n");
        return -1;
    }
    FILE *f = fopen(key_file, "r");
    char line[KEY_MAX] = "";
    if (!f || !fgets(line, sizeof line, f)) {
        fprintf(stderr, "coalctl: cannot read the API key from %s\n", key_file);
        if (f)
            fclose(f);
        return -1;
    }
    fclose(f);
    c->key = s_trim_dup(line);
    lc_secure_zero(line, sizeof line);
    if (!c->key || !*c->key) {
        fprintf(stderr, "coalctl: %s holds no API key\n", key_file);
        return -1;
    }
    return 0;
}

void cc_client_close(cc_client_t *c)
{
    if (c->key) {
        lc_secure_zero(c->key, strlen(c->key));
        free(c->key);
    }
    c->key = NULL;
}

typedef struct sink {
    char *p;
    size_t len;
} sink_t;

static size_t s_write(char *data, size_t size, size_t n, void *arg)
{
    sink_t *s = arg;
    size_t add = size * n;
    char *p = realloc(s->p, s->len + add + 1);
    if (!p)
        return 0;
    memcpy(p + s->len, data, add);
    s->len += add;
    p[s->len] = '\0';
    s->p = p;
    return add;
}

static size_t s_header(char *line, size_t size, size_t n, void *arg)
{
    cc_resp_t *r = arg;
    size_t len = size * n;
    static const char name[] = "X-Request-Id:";
    if (len > sizeof name && !strncasecmp(line, name, sizeof name - 1)) {
        const char *v = line + sizeof name - 1;
        while (*v == ' ')
            v++;
        snprintf(r->request_id, sizeof r->request_id, "%.*s", (int)strcspn(v, "\r\n"), v);
    }
    return len;
}

int cc_request(const cc_client_t *c, const char *method, const char *path, const char *body,
               const char *accept, cc_resp_t *out)
{
    memset(out, 0, sizeof *out);
    CURL *h = curl_easy_init();
    if (!h) {
        fprintf(stderr, "coalctl: cannot initialise libcurl\n");
        return -1;
    }
    size_t ulen = strlen(c->url);
    char *url = malloc(ulen + strlen(path) + 1), auth[KEY_MAX + 32], idem[320], acc[128];
    if (!url) {
        curl_easy_cleanup(h);
        return -1;
    }
    while (ulen && c->url[ulen - 1] == '/')
        ulen--;
    memcpy(url, c->url, ulen);
    strcpy(url + ulen, path);
    snprintf(auth, sizeof auth, "Authorization: Bearer %s", c->key);
    snprintf(acc, sizeof acc, "Accept: %s", accept ? accept : "application/json");
    struct curl_slist *hdr = curl_slist_append(NULL, auth);
    hdr = curl_slist_append(hdr, acc);
    hdr = curl_slist_append(hdr, "Expect:");
    if (!strcmp(method, "POST") && c->idem) {
        snprintf(idem, sizeof idem, "Idempotency-Key: %s", c->idem);
        hdr = curl_slist_append(hdr, idem);
    }
    if (body)
        hdr = curl_slist_append(hdr, "Content-Type: application/json");
    sink_t sink = {0};
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdr);
    if (body || !strcmp(method, "POST")) { /* a POST without a body sends an empty one */
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, body ? body : "");
        curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE, body ? (long)strlen(body) : 0L);
    }
    curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, s_write);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &sink);
    curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, s_header);
    curl_easy_setopt(h, CURLOPT_HEADERDATA, out);
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, CC_TIMEOUT_MS);
    if (c->verbose)
        fprintf(stderr, "> %s %s\n", method, url);
    CURLcode rc = curl_easy_perform(h);
    if (rc == CURLE_OK)
        curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &out->status);
    lc_secure_zero(auth, sizeof auth);
    curl_slist_free_all(hdr);
    curl_easy_cleanup(h);
    if (rc != CURLE_OK) {
        fprintf(stderr, "coalctl: %s %s: %s\n", method, url, curl_easy_strerror(rc));
        free(url);
        free(sink.p);
        memset(out, 0, sizeof *out);
        return -1;
    }
    if (c->verbose)
        fprintf(stderr, "< %ld (request %s)\n", out->status, out->request_id);
    free(url);
    out->body = sink.p ? sink.p : strdup("");
    out->len = sink.len;
    return out->body ? 0 : -1;
}

void cc_resp_clear(cc_resp_t *r)
{
    free(r->body);
    memset(r, 0, sizeof *r);
}

bool cc_resp_ok(const cc_resp_t *r, const char *method, const char *path)
{
    if (r->status >= 200 && r->status <= 299)
        return true;
    json_t *j = json_loads(r->body ? r->body : "", 0, NULL);
    json_t *err = json_object_get(j, "error");
    const char *code = json_string_value(json_object_get(err, "code"));
    const char *msg = json_string_value(json_object_get(err, "message"));
    if (code)
        fprintf(stderr, "coalctl: %s %s: %ld %s: %s (request %s)\n", method, path, r->status,
                code, msg ? msg : "", r->request_id);
    else
        fprintf(stderr, "coalctl: %s %s: HTTP %ld (request %s)\n", method, path, r->status,
                r->request_id);
    json_decref(j);
    return false;
}

json_t *cc_resp_json(const cc_resp_t *r)
{
    json_error_t e;
    json_t *j = json_loadb(r->body, r->len, 0, &e);
    if (!j)
        fprintf(stderr, "coalctl: the answer is not JSON: %s\n", e.text);
    return j;
}
