/*
 * cc_cmds.c: coalctl's commands (cc_cmds.h).
 */
#include "cc_cmds.h"
#include "gw_csv.h"
#include "lc_codec_macros.h"
#include "lc_settlement_msg.h"

#include <curl/curl.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define OPTS_MAX 8
#define ARGS_MAX 4
#define PAGE_MAX 1000 /* the API's largest limit */
#define BODY_MAX (64 * 1024)

typedef enum body_kind {
    BODY_NONE,   /* GET, DELETE */
    BODY_EMPTY,  /* a POST without fields */
    BODY_FILE,   /* the last argument names a JSON file ("-": standard input) */
    BODY_FIELDS, /* built from --options by the command's encoder */
} body_kind_t;

/* The parsed command line after the command's words. */
typedef struct cc_line {
    const char *args[ARGS_MAX];
    int nargs;
    const char *names[OPTS_MAX], *values[OPTS_MAX];
    int nopts;
    bool csv, all, help;
} cc_line_t;

typedef struct cc_cmd cc_cmd_t;
/* Builds a BODY_FIELDS body (malloc'd JSON text), or NULL with a message on stderr. */
typedef char *(*cc_encode_fn)(const cc_line_t *l);

struct cc_cmd {
    const char *name;    /* the words that select it */
    const char *args;    /* positional arguments, for the usage line */
    const char *options; /* options, for the usage line */
    const char *help;    /* what it does */
    const char *method;
    const char *path;    /* {1}, {2}: positional arguments, URL-escaped */
    int nargs;           /* positional arguments required (a BODY_FILE's file counts) */
    const char *query;   /* "option=query_name,...": options passed as query parameters */
    body_kind_t body;
    cc_encode_fn encode; /* BODY_FIELDS */
    bool csv;            /* --csv asks for text/csv */
    bool pages;          /* --all follows has_more (after_seq = the last entry's seq) */
    bool check_ok;       /* exit 1 when the answer's "ok" is false */
};

static const char *s_opt(const cc_line_t *l, const char *name)
{
    for (int i = 0; i < l->nopts; i++)
        if (!strcmp(l->names[i], name))
            return l->values[i];
    return NULL;
}

/* ---- bodies built from options, through the codec --------------------------------- */

static char *s_dump(const lc_msgdesc_t *desc, const void *v)
{
    json_t *j = lc_codec_encode(desc, v);
    char *text = j ? json_dumps(j, JSON_COMPACT) : NULL;
    json_decref(j);
    if (!text)
        fprintf(stderr, "coalctl: cannot encode the request\n");
    return text;
}

static bool s_need(const cc_line_t *l, const char *name, const char **out)
{
    *out = s_opt(l, name);
    if (!*out)
        fprintf(stderr, "coalctl: --%s is required\n", name);
    return *out != NULL;
}

static char *s_encode_adjustment(const cc_line_t *l)
{
    const char *member, *points, *reason;
    if (!s_need(l, "member", &member) || !s_need(l, "points", &points) ||
        !s_need(l, "reason", &reason))
        return NULL;
    st_adjustment_req_t req = {.reason = (char *)reason};
    char *end;
    errno = 0;
    req.points = strtoll(points, &end, 10);
    if (errno || *end || end == points || lc_id_parse(member, &req.member_id) != 0) {
        fprintf(stderr, "coalctl: --points must be an integer and --member a member id\n");
        return NULL;
    }
    return s_dump(&st_adjustment_req_desc, &req);
}

/* POST /v1/keys: {role, name} (the gateway's own request; described here as sent). */
typedef struct key_req {
    char *role;
    char *name;
} key_req_t;
static const lc_field_t s_key_fields[] = {
    STR_F(key_req_t, role, "role", REQ, 16, "admin, auditor or app"),
    STR_F(key_req_t, name, "name", REQ, 200, "who or what the key is for"),
};
static const lc_msgdesc_t s_key_desc = {"key_req", sizeof(key_req_t), s_key_fields,
                                        N(s_key_fields)};

static char *s_encode_key(const cc_line_t *l)
{
    const char *role, *name;
    if (!s_need(l, "role", &role) || !s_need(l, "name", &name))
        return NULL;
    key_req_t req = {(char *)role, (char *)name};
    return s_dump(&s_key_desc, &req);
}

/* ---- the table -------------------------------------------------------------------- */

static const cc_cmd_t s_cmds[] = {
    {.name = "partners list", .args = "", .options = "[--limit N] [--starting-after ID]",
     .help = "list the partners", .method = "GET", .path = "/v1/partners",
     .query = "limit=limit,starting-after=starting_after"},
    {.name = "partners get", .args = "PARTNER_ID", .options = "", .help = "one partner",
     .method = "GET", .path = "/v1/partners/{1}", .nargs = 1},
    {.name = "partners create", .args = "FILE", .options = "",
     .help = "create a partner from a JSON file (API.md POST /v1/partners; '-' reads stdin); "
             "the answer holds its first API key, shown once",
     .method = "POST", .path = "/v1/partners", .nargs = 1, .body = BODY_FILE},
    {.name = "partners add-key", .args = "PARTNER_ID", .options = "",
     .help = "a new API key for the partner, shown once", .method = "POST",
     .path = "/v1/partners/{1}/keys", .nargs = 1, .body = BODY_EMPTY},
    {.name = "partners revoke-key", .args = "PARTNER_ID KEY_ID", .options = "",
     .help = "revoke one of the partner's keys", .method = "DELETE",
     .path = "/v1/partners/{1}/keys/{2}", .nargs = 2},
    {.name = "keys create", .args = "", .options = "--role admin|auditor|app --name NAME",
     .help = "a new admin, auditor or app key, shown once", .method = "POST",
     .path = "/v1/keys", .body = BODY_FIELDS, .encode = s_encode_key},
    {.name = "charities list", .args = "", .options = "", .help = "list the charities",
     .method = "GET", .path = "/v1/charities"},
    {.name = "charities create", .args = "FILE", .options = "",
     .help = "register a charity from a JSON file (POST /v1/charities)", .method = "POST",
     .path = "/v1/charities", .nargs = 1, .body = BODY_FILE},
    {.name = "campaigns list", .args = "", .options = "", .help = "list the donation campaigns",
     .method = "GET", .path = "/v1/campaigns"},
    {.name = "campaigns create", .args = "FILE", .options = "",
     .help = "create a campaign from a JSON file (POST /v1/campaigns)", .method = "POST",
     .path = "/v1/campaigns", .nargs = 1, .body = BODY_FILE},
    {.name = "period close", .args = "YYYY-MM", .options = "",
     .help = "close a month: its statements become final", .method = "POST",
     .path = "/v1/settlement/periods/{1}/close", .nargs = 1, .body = BODY_EMPTY},
    {.name = "statements get", .args = "YYYY-MM",
     .options = "[--csv] [--limit N] [--starting-after SEQ]",
     .help = "the month's statements (every partner's for finance keys), JSON or CSV",
     .method = "GET", .path = "/v1/statements/{1}", .nargs = 1,
     .query = "limit=limit,starting-after=starting_after", .csv = true},
    {.name = "reconcile", .args = "YYYY-MM", .options = "",
     .help = "check the month's statements against the journal; exits 1 when anything "
             "differs",
     .method = "GET", .path = "/v1/audit/reconcile/{1}", .nargs = 1, .check_ok = true},
    {.name = "trial-balance", .args = "", .options = "", .help = "the ledger's trial balance",
     .method = "GET", .path = "/v1/audit/trial-balance"},
    {.name = "verify", .args = "", .options = "",
     .help = "recompute the journal's hash chain and balances; exits 1 and names the first "
             "bad entry when they do not match",
     .method = "GET", .path = "/v1/audit/verify", .check_ok = true},
    {.name = "liability", .args = "", .options = "",
     .help = "outstanding and pending points, their value, the breakage estimate",
     .method = "GET", .path = "/v1/audit/liability"},
    {.name = "journal export", .args = "", .options = "[--after-seq N] [--limit N] [--all] [--csv]",
     .help = "journal entries in sequence order; --all follows every page (held in memory, "
             "then printed: one CSV header for all)",
     .method = "GET", .path = "/v1/audit/journal", .query = "after-seq=after_seq,limit=limit",
     .csv = true, .pages = true},
    {.name = "adjustments propose", .args = "", .options = "--member ID --points N --reason TEXT",
     .help = "propose a member adjustment (signed points); another admin key must approve it",
     .method = "POST", .path = "/v1/adjustments", .body = BODY_FIELDS,
     .encode = s_encode_adjustment},
    {.name = "adjustments approve", .args = "ADJUSTMENT_ID", .options = "",
     .help = "approve and book an adjustment (not with the proposing key)", .method = "POST",
     .path = "/v1/adjustments/{1}/approve", .nargs = 1, .body = BODY_EMPTY},
    {.name = "adjustments get", .args = "ADJUSTMENT_ID", .options = "",
     .help = "one adjustment and its state", .method = "GET", .path = "/v1/adjustments/{1}",
     .nargs = 1},
    {.name = "admin-log list", .args = "", .options = "[--after-seq N] [--limit N] [--all] [--csv]",
     .help = "every action taken with an admin key", .method = "GET",
     .path = "/v1/audit/admin-log", .query = "after-seq=after_seq,limit=limit", .csv = true,
     .pages = true},
    {.name = "admin-log verify", .args = "", .options = "",
     .help = "recompute the admin log's hash chain; exits 1 and names the first bad row when "
             "it does not match",
     .method = "GET", .path = "/v1/audit/admin-log/verify", .check_ok = true},
};
#define NCMDS (sizeof s_cmds / sizeof s_cmds[0])

static void s_usage(FILE *out, const cc_cmd_t *cmd)
{
    fprintf(out, "coalctl %s%s%s%s%s\n", cmd->name, *cmd->args ? " " : "", cmd->args,
            *cmd->options ? " " : "", cmd->options);
}

void cc_list(FILE *out)
{
    for (size_t i = 0; i < NCMDS; i++) {
        fputs("  ", out);
        s_usage(out, &s_cmds[i]);
    }
}

/* How many of argv's first words the command's name is (0: not this command). */
static int s_words(const cc_cmd_t *cmd, int argc, char **argv)
{
    const char *p = cmd->name;
    int n = 0;
    while (*p) {
        size_t len = strcspn(p, " ");
        if (n >= argc || strlen(argv[n]) != len || strncmp(argv[n], p, len))
            return 0;
        n++;
        p += len;
        p += *p == ' ';
    }
    return n;
}

static int s_parse(const cc_cmd_t *cmd, int argc, char **argv, cc_line_t *l)
{
    memset(l, 0, sizeof *l);
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            l->help = true;
        } else if (!strcmp(a, "--csv") && cmd->csv) {
            l->csv = true;
        } else if (!strcmp(a, "--all") && cmd->pages) {
            l->all = true;
        } else if (!strncmp(a, "--", 2) && a[2] && strcmp(a, "--")) {
            if (i + 1 >= argc || l->nopts == OPTS_MAX) {
                fprintf(stderr, "coalctl: %s needs a value\n", a);
                return -1;
            }
            l->names[l->nopts] = a + 2;
            l->values[l->nopts++] = argv[++i];
        } else if (l->nargs < ARGS_MAX) {
            l->args[l->nargs++] = a;
        } else {
            fprintf(stderr, "coalctl: too many arguments\n");
            return -1;
        }
    }
    if (l->help)
        return 0;
    if (l->nargs != cmd->nargs) {
        fprintf(stderr, "coalctl: %s takes %d argument%s\n", cmd->name, cmd->nargs,
                cmd->nargs == 1 ? "" : "s");
        return -1;
    }
    /* Every option must be one the command knows. */
    for (int i = 0; i < l->nopts; i++) {
        char want[64];
        snprintf(want, sizeof want, "--%s", l->names[i]);
        if (!strstr(cmd->options, want)) {
            fprintf(stderr, "coalctl: %s does not take %s\n", cmd->name, want);
            return -1;
        }
    }
    return 0;
}

/* The path with {n} replaced by the URL-escaped positional arguments and the
 * query options appended (malloc'd). */
static char *s_path(const cc_cmd_t *cmd, const cc_line_t *l, const char *after_seq)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    if (!f)
        return NULL;
    for (const char *p = cmd->path; *p; p++) {
        if (p[0] == '{' && p[1] >= '1' && p[1] <= '9' && p[2] == '}') {
            char *e = curl_easy_escape(NULL, l->args[p[1] - '1'], 0);
            fputs(e ? e : "", f);
            curl_free(e);
            p += 2;
        } else {
            fputc(*p, f);
        }
    }
    char sep = '?';
    for (const char *q = cmd->query; q && *q;) {
        size_t n = strcspn(q, ",");
        const char *eq = memchr(q, '=', n);
        char opt[64], name[64];
        snprintf(opt, sizeof opt, "%.*s", (int)(eq - q), q);
        snprintf(name, sizeof name, "%.*s", (int)(q + n - eq - 1), eq + 1);
        const char *v = !strcmp(name, "after_seq") && after_seq ? after_seq : s_opt(l, opt);
        if (!strcmp(name, "limit") && l->all)
            v = "1000";
        if (v) {
            char *e = curl_easy_escape(NULL, v, 0);
            fprintf(f, "%c%s=%s", sep, name, e ? e : "");
            curl_free(e);
            sep = '&';
        }
        q += n + (q[n] == ',');
    }
    fclose(f);
    return buf;
}

static char *s_read_file(const char *path)
{
    FILE *f = strcmp(path, "-") ? fopen(path, "rb") : stdin;
    if (!f) {
        fprintf(stderr, "coalctl: cannot open %s: %s\n", path, strerror(errno));
        return NULL;
    }
    char *buf = malloc(BODY_MAX + 1);
    size_t n = buf ? fread(buf, 1, BODY_MAX + 1, f) : 0;
    if (f != stdin)
        fclose(f);
    if (!buf || n > BODY_MAX) {
        fprintf(stderr, "coalctl: %s is larger than %d bytes\n", path, BODY_MAX);
        free(buf);
        return NULL;
    }
    buf[n] = '\0';
    return buf;
}

/* Prints a successful answer; with check_ok, judges its "ok". */
static int s_print(const cc_cmd_t *cmd, const cc_resp_t *r)
{
    fwrite(r->body, 1, r->len, stdout);
    if (r->len && r->body[r->len - 1] != '\n')
        fputc('\n', stdout);
    if (!cmd->check_ok)
        return CC_EXIT_OK;
    json_t *j = cc_resp_json(r);
    json_t *ok = json_object_get(j, "ok");
    int rc = json_is_true(ok) ? CC_EXIT_OK : CC_EXIT_FAILED;
    if (rc != CC_EXIT_OK) {
        const char *reason = json_string_value(json_object_get(j, "reason"));
        json_t *bad = json_object_get(j, "first_bad_seq");
        fprintf(stderr, "coalctl: %s: NOT OK", cmd->name);
        if (json_is_integer(bad))
            fprintf(stderr, ": first bad seq %lld", (long long)json_integer_value(bad));
        fprintf(stderr, "%s%s\n", reason ? ": " : "", reason ? reason : "");
    }
    json_decref(j);
    return rc;
}

/* --all: every page as JSON, then one document (one CSV header for all). */
static int s_all_pages(const cc_client_t *c, const cc_cmd_t *cmd, const cc_line_t *l)
{
    json_t *all = json_array();
    char after[24];
    snprintf(after, sizeof after, "%s", s_opt(l, "after-seq") ? s_opt(l, "after-seq") : "0");
    int rc = CC_EXIT_OK;
    for (bool more = true; more && rc == CC_EXIT_OK;) {
        char *path = s_path(cmd, l, after);
        cc_resp_t r;
        if (!path || cc_request(c, cmd->method, path, NULL, NULL, &r) != 0) {
            free(path);
            rc = CC_EXIT_FAILED;
            break;
        }
        json_t *j = cc_resp_ok(&r, cmd->method, path) ? cc_resp_json(&r) : NULL;
        json_t *entries = json_object_get(j, "entries");
        if (!json_is_array(entries)) {
            rc = CC_EXIT_FAILED;
        } else {
            json_array_extend(all, entries);
            more = json_is_true(json_object_get(j, "has_more")) && json_array_size(entries);
            json_t *last = json_array_get(entries, json_array_size(entries) - 1);
            snprintf(after, sizeof after, "%lld",
                     (long long)json_integer_value(json_object_get(last, "seq")));
        }
        json_decref(j);
        cc_resp_clear(&r);
        free(path);
    }
    if (rc == CC_EXIT_OK) {
        json_t *doc = json_pack("{s:O}", "entries", all);
        char *text = NULL, msg[256] = "out of memory";
        if (l->csv) {
            if (!doc || gw_csv_render(doc, "entries", &text, msg, sizeof msg) != 0)
                fprintf(stderr, "coalctl: cannot render CSV: %s\n", msg);
        } else {
            text = doc ? json_dumps(doc, JSON_COMPACT) : NULL;
        }
        if (text)
            printf("%s%s", text, l->csv ? "" : "\n");
        else
            rc = CC_EXIT_FAILED;
        free(text);
        json_decref(doc);
    }
    json_decref(all);
    return rc;
}

static int s_exec(const cc_client_t *c, const cc_cmd_t *cmd, const cc_line_t *l)
{
    if (l->all)
        return s_all_pages(c, cmd, l);
    char *body = NULL;
    if (cmd->body == BODY_FILE && !(body = s_read_file(l->args[cmd->nargs - 1])))
        return CC_EXIT_USAGE;
    if (cmd->body == BODY_FIELDS && !(body = cmd->encode(l)))
        return CC_EXIT_USAGE;
    if (cmd->body == BODY_EMPTY)
        body = strdup("{}");
    char *path = s_path(cmd, l, NULL);
    cc_resp_t r;
    int rc = CC_EXIT_FAILED;
    if (path && cc_request(c, cmd->method, path, body, l->csv ? "text/csv" : NULL, &r) == 0) {
        rc = cc_resp_ok(&r, cmd->method, path) ? s_print(cmd, &r) : CC_EXIT_FAILED;
        cc_resp_clear(&r);
    } else if (!strcmp(cmd->method, "POST")) {
        fprintf(stderr, "coalctl: retry with --idempotency-key %s to get this request's "
                        "outcome without doing it twice\n",
                c->idem);
    }
    free(path);
    free(body);
    return rc;
}

int cc_run(cc_client_t *c, int argc, char **argv)
{
    const cc_cmd_t *cmd = NULL;
    int words = 0;
    for (size_t i = 0; i < NCMDS; i++) {
        int n = s_words(&s_cmds[i], argc, argv);
        if (n > words) {
            words = n;
            cmd = &s_cmds[i];
        }
    }
    if (!cmd) {
        fprintf(stderr, "coalctl: unknown command%s%s; the commands:\n", argc ? " " : "",
                argc ? argv[0] : "");
        cc_list(stderr);
        return CC_EXIT_USAGE;
    }
    cc_line_t l;
    if (s_parse(cmd, argc - words, argv + words, &l) != 0) {
        fputs("usage: ", stderr);
        s_usage(stderr, cmd);
        return CC_EXIT_USAGE;
    }
    if (l.help) {
        fputs("usage: ", stdout);
        s_usage(stdout, cmd);
        printf("\n%s.\n\n%s %s%s\n", cmd->help, cmd->method, cmd->path,
               cmd->csv ? " (--csv: Accept: text/csv)" : "");
        return CC_EXIT_OK;
    }
    if (cc_client_key(c) != 0) /* read only now: --help needs none */
        return CC_EXIT_USAGE;
    return s_exec(c, cmd, &l);
}
