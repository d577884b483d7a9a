/*
 * e2e.c: processes and an HTTP client for end-to-end tests (e2e.h).
 */
#include "e2e.h"
#include "lc_time.h"

#include <curl/curl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

static const char *s_env(const char *name, const char *def)
{
    const char *v = getenv(name);
    return v && *v ? v : def;
}

static void s_gateway_spawn(e2e_t *e)
{
    char port_file[300], ci[512], bin[512];
    snprintf(port_file, sizeof port_file, "%s/%s.gw.port", s_env("COAL_VAR", "/tmp"), e->db);
    unlink(port_file);
    th_conninfo("coal_gateway", e->db, ci, sizeof ci);
    snprintf(bin, sizeof bin, "%s/gateway", s_env("COAL_BIN_DIR", "build/release/bin"));
    e->gw_pid = fork();
    if (e->gw_pid == 0) {
        setenv("COAL_GATEWAY_DB", ci, 1);
        setenv("COAL_GATEWAY_PORT", "0", 1);
        setenv("COAL_GATEWAY_PORT_FILE", port_file, 1);
        setenv("COAL_GATEWAY_SECRETS_DIR", e->secrets, 1);
        setenv("COAL_LEDGER_CONNECT", e->ledger.endpoint[0] ? e->ledger.endpoint : "ipc:///nonexistent", 1);
        setenv("COAL_MEMBERS_CONNECT", e->members.endpoint[0] ? e->members.endpoint : "ipc:///nonexistent", 1);
        setenv("COAL_SETTLEMENT_CONNECT",
               e->settlement.endpoint[0] ? e->settlement.endpoint : "ipc:///nonexistent", 1);
        setenv("COAL_DONATION_CONNECT",
               e->donation.endpoint[0] ? e->donation.endpoint : "ipc:///nonexistent", 1);
        setenv("COAL_GATEWAY_BUS_TIMEOUT_MS", "1000", 0);
        for (size_t i = 0; i < sizeof e->gw_env / sizeof e->gw_env[0] && e->gw_env[i]; i++)
            putenv(e->gw_env[i]);
        FILE *f = freopen(e->gw_log, "a", stderr);
        (void)f;
        execl(bin, "gateway", (char *)NULL);
        _exit(127);
    }
    assert_true(e->gw_pid > 0);
    int64_t deadline = lc_mono_ms() + 20000;
    e->port = 0;
    while (lc_mono_ms() < deadline && !e->port) {
        FILE *f = fopen(port_file, "r");
        if (f) {
            if (fscanf(f, "%d", &e->port) != 1)
                e->port = 0;
            fclose(f);
        }
        int status;
        if (!e->port && waitpid(e->gw_pid, &status, WNOHANG) == e->gw_pid) {
            e->gw_pid = 0;
            break;
        }
        if (!e->port)
            usleep(20 * 1000);
    }
    if (!e->port)
        fail_msg("the gateway did not come up (log: %s)", e->gw_log);
}

void e2e_start(e2e_t *e, bool services, const char *const *gw_env, const char *const *svc_env)
{
    memset(e, 0, sizeof *e);
    th_db_create(e->db, sizeof e->db);
    const char *var = s_env("COAL_VAR", "/tmp");
    snprintf(e->gw_log, sizeof e->gw_log, "%s/%s.gateway.log", var, e->db);
    snprintf(e->secrets, sizeof e->secrets, "%s/%s.secrets", var, e->db);
    for (size_t i = 0; gw_env && gw_env[i] && i + 1 < sizeof e->gw_env / sizeof e->gw_env[0]; i++)
        e->gw_env[i] = strdup(gw_env[i]);
    if (services) {
        e->services = true;
        th_ledger_start(&e->ledger, e->db);
        char ledger[200], members[200], publish[200];
        snprintf(ledger, sizeof ledger, "COAL_LEDGER_CONNECT=%s", e->ledger.endpoint);
        /* members consumes the journal stream (its history) */
        snprintf(publish, sizeof publish, "COAL_LEDGER_PUBLISH=%s", e->ledger.publish);
        const char *env[16] = {ledger, publish};
        size_t n = 2;
        for (size_t i = 0; svc_env && svc_env[i] && n < 12; i++)
            env[n++] = svc_env[i];
        th_svc_start(&e->members, "members", e->db, env);
        snprintf(members, sizeof members, "COAL_MEMBERS_CONNECT=%s", e->members.endpoint);
        env[n++] = members;
        env[n++] = "COAL_SETTLEMENT_MATURE_INTERVAL_MS=100";
        th_svc_start(&e->settlement, "settlement", e->db, env);
        /* donation: the ledger and the svc_env given, its receipt keys beside the
         * gateway's secrets */
        char dsecrets[300];
        snprintf(dsecrets, sizeof dsecrets, "COAL_DONATION_SECRETS_DIR=%s", e->secrets);
        n -= 2; /* not members' endpoint nor settlement's interval */
        env[n++] = dsecrets;
        env[n] = NULL;
        th_svc_start(&e->donation, "donation", e->db, env);
    }
    s_gateway_spawn(e);
    char path[300];
    snprintf(path, sizeof path, "%s/admin.key", e->secrets);
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    assert_non_null(fgets(e->admin_key, sizeof e->admin_key, f));
    fclose(f);
    e->admin_key[strcspn(e->admin_key, "\n")] = '\0';
}

static void s_gateway_stop(e2e_t *e, int sig)
{
    if (e->gw_pid <= 0)
        return;
    kill(e->gw_pid, sig);
    int status = 0;
    waitpid(e->gw_pid, &status, 0);
    e->gw_pid = 0;
    if (sig == SIGTERM && (!WIFEXITED(status) || WEXITSTATUS(status) != 0))
        fail_msg("the gateway did not stop cleanly (status %d, log: %s)", status, e->gw_log);
}

void e2e_add_gateway(const e2e_t *e, e2e_t *other)
{
    *other = *e; /* shares gw_env and the services: stop only its gateway */
    snprintf(other->gw_log, sizeof other->gw_log, "%s.2", e->gw_log);
    s_gateway_spawn(other);
}

void e2e_stop_gateway(e2e_t *other)
{
    s_gateway_stop(other, SIGTERM);
}

void e2e_restart_gateway(e2e_t *e)
{
    s_gateway_stop(e, SIGKILL);
    s_gateway_spawn(e);
}

void e2e_stop(e2e_t *e)
{
    s_gateway_stop(e, SIGTERM);
    for (size_t i = 0; i < sizeof e->gw_env / sizeof e->gw_env[0]; i++) {
        free(e->gw_env[i]);
        e->gw_env[i] = NULL;
    }
    if (e->services) {
        th_svc_stop(&e->donation);
        th_svc_stop(&e->settlement);
        th_svc_stop(&e->members);
        th_ledger_stop(&e->ledger);
        e->services = false;
    }
}

/* ---- HTTP ---------------------------------------------------------------------------- */

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
    s->p = p;
    s->len += add;
    s->p[s->len] = '\0';
    return add;
}

static void s_header_value(const char *line, size_t len, const char *name, char *out, size_t outlen)
{
    size_t nl = strlen(name);
    if (len <= nl + 1 || strncasecmp(line, name, nl) || line[nl] != ':')
        return;
    const char *v = line + nl + 1;
    size_t vl = len - nl - 1;
    while (vl && (*v == ' ' || *v == '\t'))
        v++, vl--;
    while (vl && (v[vl - 1] == '\r' || v[vl - 1] == '\n'))
        vl--;
    snprintf(out, outlen, "%.*s", (int)vl, v);
}

static size_t s_header(char *line, size_t size, size_t n, void *arg)
{
    e2e_resp_t *r = arg;
    size_t len = size * n;
    char replayed[16] = "";
    s_header_value(line, len, "X-Request-Id", r->request_id, sizeof r->request_id);
    s_header_value(line, len, "Retry-After", r->retry_after, sizeof r->retry_after);
    s_header_value(line, len, "Content-Type", r->content_type, sizeof r->content_type);
    s_header_value(line, len, "Idempotent-Replayed", replayed, sizeof replayed);
    if (!strcmp(replayed, "true"))
        r->replayed = true;
    return len;
}

/* With COAL_E2E_RECORD set, every exchange is appended to that file as one JSON
 * line {method, path, status, content_type, body}, for tests/openapi/ to check
 * against proto/openapi.yaml; a body that is not JSON (CSV) goes in "text". */
static void s_record(const char *method, const char *path, const e2e_resp_t *r)
{
    const char *file = getenv("COAL_E2E_RECORD");
    if (!file || !*file)
        return;
    json_t *line = json_pack("{s:s, s:s, s:i, s:s, s:O?}", "method", method, "path", path,
                             "status", (int)r->status, "content_type", r->content_type, "body",
                             r->body);
    if (line && !r->body && r->raw && *r->raw)
        json_object_set_new(line, "text", json_stringn(r->raw, strlen(r->raw)));
    char *text = line ? json_dumps(line, JSON_COMPACT) : NULL;
    FILE *f = text ? fopen(file, "a") : NULL;
    if (f) {
        fprintf(f, "%s\n", text);
        fclose(f);
    }
    free(text);
    json_decref(line);
}

void e2e_http(e2e_t *e, const char *method, const char *path, const char *key, const char *idem,
              const char *body, const char *const *headers, e2e_resp_t *out)
{
    if (!e2e_http_try(e, method, path, key, idem, body, headers, out))
        fail_msg("%s %s: no HTTP response (gateway log: %s)", method, path, e->gw_log);
}

bool e2e_http_try(e2e_t *e, const char *method, const char *path, const char *key,
                  const char *idem, const char *body, const char *const *headers, e2e_resp_t *out)
{
    memset(out, 0, sizeof *out);
    CURL *c = curl_easy_init();
    assert_non_null(c);
    char url[1024], auth[256], idh[600];
    snprintf(url, sizeof url, "%s://127.0.0.1:%d%s", e->tls_ca[0] ? "https" : "http", e->port,
             path);
    struct curl_slist *h = NULL;
    if (key) {
        snprintf(auth, sizeof auth, "Authorization: Bearer %s", key);
        h = curl_slist_append(h, auth);
    }
    if (idem) {
        snprintf(idh, sizeof idh, "Idempotency-Key: %s", idem);
        h = curl_slist_append(h, idh);
    }
    if (body)
        h = curl_slist_append(h, "Content-Type: application/json");
    h = curl_slist_append(h, "Expect:"); /* no 100-continue round trip */
    for (size_t i = 0; headers && headers[i]; i++)
        h = curl_slist_append(h, headers[i]);
    sink_t sink = {0};
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
    if (body) {
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)strlen(body));
    }
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, s_write);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &sink);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, s_header);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, out);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, 30000L);
    if (e->tls_ca[0])
        curl_easy_setopt(c, CURLOPT_CAINFO, e->tls_ca);
    CURLcode rc = curl_easy_perform(c);
    if (rc == CURLE_OK)
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &out->status);
    curl_slist_free_all(h);
    curl_easy_cleanup(c);
    if (rc != CURLE_OK) {
        free(sink.p);
        memset(out, 0, sizeof *out);
        return false;
    }
    out->raw = sink.p;
    if (sink.p && sink.len)
        out->body = json_loadb(sink.p, sink.len, 0, NULL);
    s_record(method, path, out);
    return true;
}

void e2e_resp_clear(e2e_resp_t *r)
{
    json_decref(r->body);
    free(r->raw);
    memset(r, 0, sizeof *r);
}

const char *e2e_str(const e2e_resp_t *r, const char *field)
{
    return json_string_value(json_object_get(r->body, field));
}

long long e2e_int(const e2e_resp_t *r, const char *field)
{
    return json_integer_value(json_object_get(r->body, field));
}

const char *e2e_code(const e2e_resp_t *r)
{
    const char *c = json_string_value(json_object_get(json_object_get(r->body, "error"), "code"));
    return c ? c : "";
}

const char *e2e_idem(void)
{
    static char buf[8][48];
    static int n, turn;
    char *out = buf[turn++ % 8];
    snprintf(out, 48, "t-%d-%d", (int)getpid(), n++);
    return out;
}
