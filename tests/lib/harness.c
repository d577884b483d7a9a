/*
 * harness.c: databases, ledger processes and clients for integration tests
 * (see harness.h). Failures here fail the calling test through cmocka.
 */
#include "harness.h"
#include "lc_err.h"
#include "lc_time.h"

#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <zmq.h>
#include <cmocka.h>

static int s_counter;

static const char *s_env(const char *name, const char *def)
{
    const char *v = getenv(name);
    return v && *v ? v : def;
}

int th_db_create(char *db, size_t len)
{
    snprintf(db, len, "t_%d_%d", (int)getpid(), s_counter++);
    char cmd[512];
    snprintf(cmd, sizeof cmd, "deploy/pg.sh migrate %s >/dev/null", db);
    int rc = system(cmd);
    assert_int_equal(rc, 0);
    return LC_OK;
}

void th_conninfo(const char *role, const char *db, char *out, size_t len)
{
    snprintf(out, len, "host=%s/pg/run port=%s dbname=%s user=%s", s_env("COAL_VAR", "var"),
             s_env("COAL_PG_PORT", "55432"), db, role);
}

lc_db_t *th_db_connect(const char *role, const char *db)
{
    char ci[512], *err = NULL;
    th_conninfo(role, db, ci, sizeof ci);
    lc_db_t *conn = lc_db_connect(ci, &err);
    if (!conn)
        fail_msg("cannot connect as %s to %s: %s", role, db, err ? err : "?");
    return conn;
}

int64_t th_sql_i64(const char *db, const char *sql)
{
    lc_db_t *conn = th_db_connect("coal_admin", db);
    lc_dbres_t *res = NULL;
    int rc = lc_db_exec(conn, sql, 0, NULL, &res);
    if (rc != LC_OK)
        fail_msg("%s: %s", sql, lc_db_error(conn));
    int64_t v = 0;
    if (lc_dbres_rows(res) > 0 && lc_dbres_get(res, 0, 0))
        lc_dbres_i64(res, 0, 0, &v);
    lc_dbres_free(&res);
    lc_db_destroy(&conn);
    return v;
}

static pid_t s_spawn(th_ledger_t *l)
{
    char ci[512], bin[512];
    th_conninfo("coal_ledger", l->db, ci, sizeof ci);
    snprintf(bin, sizeof bin, "%s/ledger", s_env("COAL_BIN_DIR", "build/release/bin"));
    pid_t pid = fork();
    if (pid == 0) {
        setenv("COAL_LEDGER_DB", ci, 1);
        setenv("COAL_LEDGER_BIND", l->endpoint, 1);
        setenv("COAL_LEDGER_PUBLISH", l->publish, 1);
        FILE *f = freopen(l->log, "a", stderr);
        (void)f;
        execl(bin, "ledger", (char *)NULL);
        _exit(127);
    }
    return pid;
}

static void s_endpoints(th_ledger_t *l, const char *db)
{
    if (l->endpoint[0])
        return;
    const char *var = s_env("COAL_VAR", "/tmp");
    snprintf(l->db, sizeof l->db, "%s", db);
    snprintf(l->endpoint, sizeof l->endpoint, "ipc://%s/%s.sock", var, db);
    snprintf(l->publish, sizeof l->publish, "ipc://%s/%s.pub", var, db);
    snprintf(l->log, sizeof l->log, "%s/%s.ledger.log", var, db);
    /* A test process with bus keys (lc_bus_set_curve) expects the ledger's key there. */
    lc_bus_add_peer(l->endpoint, "ledger");
    lc_bus_add_peer(l->publish, "ledger");
}

int th_ledger_start(th_ledger_t *l, const char *db)
{
    s_endpoints(l, db);
    l->pid = s_spawn(l);
    assert_true(l->pid > 0);
    th_client_t c;
    th_client_open(&c, l);
    int64_t deadline = lc_mono_ms() + 20000;
    int rc = LC_ERR_TIMEOUT;
    while (lc_mono_ms() < deadline) {
        json_t *rep = NULL;
        char code[64];
        rc = th_try_call(&c, LD_TYPE_PING, json_object(), 200, 0, &rep, code, sizeof code);
        json_decref(rep);
        if (rc == LC_OK)
            break;
        int status;
        if (waitpid(l->pid, &status, WNOHANG) == l->pid) {
            l->pid = 0;
            break;
        }
    }
    th_client_close(&c);
    if (rc != LC_OK)
        fail_msg("ledger did not come up (log: %s)", l->log);
    return rc;
}

int th_ledger_start_expect_exit(th_ledger_t *l, const char *db, int ms)
{
    s_endpoints(l, db);
    l->pid = s_spawn(l);
    int64_t deadline = lc_mono_ms() + ms;
    while (lc_mono_ms() < deadline) {
        int status;
        if (waitpid(l->pid, &status, WNOHANG) == l->pid) {
            l->pid = 0;
            return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
        }
        usleep(20000);
    }
    th_ledger_kill(l, SIGKILL);
    return -1;
}

void th_ledger_kill(th_ledger_t *l, int sig)
{
    if (l->pid <= 0)
        return;
    kill(l->pid, sig);
    int status;
    waitpid(l->pid, &status, 0);
    l->pid = 0;
}

void th_ledger_stop(th_ledger_t *l)
{
    if (l->pid <= 0)
        return;
    kill(l->pid, SIGTERM);
    int status = 0;
    waitpid(l->pid, &status, 0);
    l->pid = 0;
    /* A clean stop exits 0; under ASan a leak or error at exit does not. */
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
        fail_msg("ledger did not stop cleanly (status %d, log: %s)", status, l->log);
}

void th_ledger_wait_session_gone(const th_ledger_t *l)
{
    int64_t deadline = lc_mono_ms() + 10000;
    while (th_sql_i64(l->db, "SELECT count(*) FROM pg_stat_activity WHERE datname = "
                             "current_database() AND usename = 'coal_ledger'") > 0) {
        if (lc_mono_ms() > deadline)
            fail_msg("the killed ledger's database session did not end (db %s)", l->db);
        usleep(20 * 1000);
    }
}

void th_client_open(th_client_t *c, const th_ledger_t *l)
{
    th_client_open_at(c, l->endpoint);
}

void th_client_open_at(th_client_t *c, const char *endpoint)
{
    c->zctx = zmq_ctx_new();
    c->bus = lc_bus_client_new(c->zctx, endpoint);
    assert_non_null(c->bus);
}

/* ---- other bus services ------------------------------------------------------------ */

static void s_svc_spawn(th_svc_t *s)
{
    char ci[512], bin[512], var[64], upper[32];
    size_t i;
    for (i = 0; s->name[i] && i + 1 < sizeof upper; i++)
        upper[i] = (char)(s->name[i] >= 'a' && s->name[i] <= 'z' ? s->name[i] - 32 : s->name[i]);
    upper[i] = '\0';
    char role[48];
    snprintf(role, sizeof role, "coal_%s", s->name);
    th_conninfo(role, s->db, ci, sizeof ci);
    snprintf(bin, sizeof bin, "%s/%s", s_env("COAL_BIN_DIR", "build/release/bin"), s->name);
    s->pid = fork();
    if (s->pid == 0) {
        snprintf(var, sizeof var, "COAL_%s_DB", upper);
        setenv(var, ci, 1);
        snprintf(var, sizeof var, "COAL_%s_BIND", upper);
        setenv(var, s->endpoint, 1);
        for (i = 0; i < sizeof s->env / sizeof s->env[0] && s->env[i]; i++)
            putenv(s->env[i]);
        FILE *f = freopen(s->log, "a", stderr);
        (void)f;
        execl(bin, s->name, (char *)NULL);
        _exit(127);
    }
    assert_true(s->pid > 0);
}

static void s_svc_wait(th_svc_t *s)
{
    char type[64];
    snprintf(type, sizeof type, "%s.ping", s->name);
    th_client_t c;
    th_client_open_at(&c, s->endpoint);
    int64_t deadline = lc_mono_ms() + 20000;
    int rc = LC_ERR_TIMEOUT;
    while (lc_mono_ms() < deadline) {
        json_t *rep = NULL;
        char code[64];
        rc = th_try_call(&c, type, json_object(), 200, 0, &rep, code, sizeof code);
        json_decref(rep);
        if (rc == LC_OK)
            break;
        int status;
        if (waitpid(s->pid, &status, WNOHANG) == s->pid) {
            s->pid = 0;
            break;
        }
    }
    th_client_close(&c);
    if (rc != LC_OK)
        fail_msg("%s did not come up (log: %s)", s->name, s->log);
}

void th_svc_start(th_svc_t *s, const char *name, const char *db, const char *const *env)
{
    memset(s, 0, sizeof *s);
    snprintf(s->name, sizeof s->name, "%s", name);
    snprintf(s->db, sizeof s->db, "%s", db);
    const char *var = s_env("COAL_VAR", "/tmp");
    snprintf(s->endpoint, sizeof s->endpoint, "ipc://%s/%s.%s.sock", var, db, name);
    snprintf(s->log, sizeof s->log, "%s/%s.%s.log", var, db, name);
    lc_bus_add_peer(s->endpoint, name); /* for a test process with bus keys */
    for (size_t i = 0; env && env[i] && i + 1 < sizeof s->env / sizeof s->env[0]; i++)
        s->env[i] = strdup(env[i]);
    s_svc_spawn(s);
    s_svc_wait(s);
}

void th_svc_restart(th_svc_t *s)
{
    s_svc_spawn(s);
    s_svc_wait(s);
}

void th_svc_kill(th_svc_t *s, int sig)
{
    if (s->pid <= 0)
        return;
    kill(s->pid, sig);
    int status;
    waitpid(s->pid, &status, 0);
    s->pid = 0;
}

void th_svc_stop(th_svc_t *s)
{
    int status = 0;
    pid_t pid = s->pid;
    if (pid > 0) {
        kill(pid, SIGTERM);
        waitpid(pid, &status, 0);
        s->pid = 0;
    }
    for (size_t i = 0; i < sizeof s->env / sizeof s->env[0]; i++) {
        free(s->env[i]);
        s->env[i] = NULL;
    }
    if (pid > 0 && (!WIFEXITED(status) || WEXITSTATUS(status) != 0))
        fail_msg("%s did not stop cleanly (status %d, log: %s)", s->name, status, s->log);
}

void th_client_close(th_client_t *c)
{
    lc_bus_client_destroy(&c->bus);
    if (c->zctx)
        zmq_ctx_term(c->zctx);
    c->zctx = NULL;
}

int th_try_call(th_client_t *c, const char *type, json_t *body, int timeout_ms, int retries,
                json_t **reply, char *code, size_t codelen)
{
    lc_reply_t rep;
    *reply = NULL;
    code[0] = '\0';
    int rc = lc_bus_call(c->bus, type, body, NULL, timeout_ms, retries, &rep);
    json_decref(body);
    if (rc != LC_OK)
        return rc;
    if (rep.ok)
        *reply = json_incref(rep.body);
    else
        snprintf(code, codelen, "%s", rep.code);
    lc_reply_clear(&rep);
    return LC_OK;
}

json_t *th_call(th_client_t *c, const char *type, json_t *body, char *code, size_t codelen)
{
    json_t *reply = NULL;
    char local[64];
    if (!code) {
        code = local;
        codelen = sizeof local;
    }
    int rc = th_try_call(c, type, body, 5000, 2, &reply, code, codelen);
    if (rc != LC_OK)
        fail_msg("no reply to %s", type);
    return reply;
}

lc_id_t th_id(uint64_t n)
{
    lc_id_t id = {{0}};
    id.b[6] = 0x70; /* looks like a UUIDv7 */
    id.b[8] = 0x80;
    for (int i = 0; i < 7; i++)
        id.b[15 - i] = (uint8_t)(n >> (8 * i));
    return id;
}

const char *th_ids(const lc_id_t *id)
{
    static char buf[8][LC_ID_STRLEN + 1];
    static int next;
    char *out = buf[next++ % 8];
    lc_id_format(id, out);
    return out;
}

void th_id_text(uint64_t n, char out[LC_ID_STRLEN + 1])
{
    lc_id_t id = th_id(n);
    lc_id_format(&id, out);
}

json_t *th_account(uint64_t n, const char *kind, const char *flags_csv)
{
    lc_id_t id = th_id(n);
    json_t *flags = json_array();
    if (flags_csv) {
        char copy[256];
        snprintf(copy, sizeof copy, "%s", flags_csv);
        for (char *save, *f = strtok_r(copy, ",", &save); f; f = strtok_r(NULL, ",", &save))
            json_array_append_new(flags, json_string(f));
    }
    return json_pack("{s:s, s:s, s:o}", "id", th_ids(&id), "kind", kind, "flags", flags);
}

json_t *th_transfer(uint64_t id, uint64_t debit, uint64_t credit, int64_t amount)
{
    lc_id_t i = th_id(id), d = th_id(debit), c = th_id(credit);
    return json_pack("{s:s, s:s, s:s, s:I}", "id", th_ids(&i), "debit_account_id", th_ids(&d),
                     "credit_account_id", th_ids(&c), "amount", (json_int_t)amount);
}

const char *th_create_one(th_client_t *c, const char *type, json_t *item)
{
    static char results[8][64];
    static int next;
    char *out = results[next++ % 8];
    const char *key = strcmp(type, LD_TYPE_CREATE_ACCOUNTS) == 0 ? "accounts" : "transfers";
    char code[64];
    json_t *rep = th_call(c, type, json_pack("{s:[o]}", key, item), code, sizeof code);
    if (!rep) {
        snprintf(out, 64, "error:%s", code);
        return out;
    }
    json_t *r = json_object_get(json_array_get(json_object_get(rep, "results"), 0), "result");
    snprintf(out, 64, "%s", json_is_string(r) ? json_string_value(r) : "?");
    json_decref(rep);
    return out;
}

json_t *th_lookup(th_client_t *c, uint64_t account)
{
    lc_id_t id = th_id(account);
    json_t *rep = th_call(c, LD_TYPE_LOOKUP_ACCOUNTS, json_pack("{s:[s]}", "ids", th_ids(&id)),
                          NULL, 0);
    json_t *a = rep ? json_incref(json_array_get(json_object_get(rep, "accounts"), 0)) : NULL;
    json_decref(rep);
    return a;
}

int64_t th_balance(th_client_t *c, uint64_t account, const char *field)
{
    json_t *a = th_lookup(c, account);
    if (!a)
        fail_msg("account %llu not found", (unsigned long long)account);
    int64_t v = json_integer_value(json_object_get(a, field));
    json_decref(a);
    return v;
}
