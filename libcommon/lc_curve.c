/*
 * lc_curve.c: bus keys, the trusted key set and the ZAP handler (lc_curve.h).
 */
#include "lc_curve.h"
#include "lc_err.h"
#include "lc_log.h"
#include "lc_time.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zmq.h>

#define KEY_BYTES 32
#define KEY_FILE_MAX 256          /* a .key or .pub file is far smaller */
#define ZAP_ENDPOINT "inproc://zeromq.zap.01" /* fixed by RFC 27 */
#define ZAP_FRAMES_MAX 8          /* a CURVE request has 7 */
#define ZAP_LOG_INTERVAL_MS 1000  /* at most one refusal line per interval */

/* A DRAFT option of libzmq 4.3 (zmq.h declares it only with ZMQ_BUILD_DRAFT_API;
 * Debian's libzmq5 accepts it). With it, a CURVE server whose context has no ZAP
 * handler refuses every handshake instead of admitting any key. Set where the
 * library takes it; elsewhere the handler, started before the first server
 * socket and living as long as the context, is the guard. */
#ifndef ZMQ_ZAP_ENFORCE_DOMAIN
#define ZMQ_ZAP_ENFORCE_DOMAIN 93
#endif

/* A trusted public key and the service it belongs to (<name>.pub). */
typedef struct trusted {
    char name[LC_CURVE_NAME_MAX + 1];
    uint8_t key[KEY_BYTES];
} trusted_t;

/* A server endpoint and the service that serves it. */
typedef struct peer {
    char *endpoint;
    char name[LC_CURVE_NAME_MAX + 1];
} peer_t;

/* The ZAP handler of one ZeroMQ context. */
typedef struct zap {
    lc_curve_t *curve;   /* borrowed: outlives the thread */
    void *zctx;          /* the context it serves (borrowed) */
    void *sock;          /* REP on ZAP_ENDPOINT, owned by the thread once started */
    pthread_t thread;
    bool done;           /* the thread ended (context terminated); under curve->lock */
    struct zap *next;
} zap_t;

struct lc_curve {
    char *dir;                             /* the keys directory */
    char self[LC_CURVE_NAME_MAX + 1];      /* this service's name */
    lc_curve_mode_t mode;
    char public_z85[LC_CURVE_Z85_LEN + 1]; /* this service's key pair */
    char secret_z85[LC_CURVE_Z85_LEN + 1];
    pthread_mutex_t lock;                  /* guards every field below */
    trusted_t *trusted;                    /* the *.pub files, as last read */
    size_t ntrusted;
    struct timespec dir_mtime;             /* the directory's mtime at that read */
    peer_t *peers;
    size_t npeers;
    zap_t *zaps;                           /* one per context with a CURVE server */
    lc_curve_stats_t stats;
};

/* Sets *err (when err is not NULL) to a formatted message. */
static void s_fail(char **err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void s_fail(char **err, const char *fmt, ...)
{
    if (!err)
        return;
    char buf[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    *err = strdup(buf);
}

int lc_curve_check_libzmq(char **err)
{
    int major, minor, patch;
    zmq_version(&major, &minor, &patch);
    long have = major * 10000L + minor * 100L + patch;
    long need = LC_CURVE_ZMQ_MIN_MAJOR * 10000L + LC_CURVE_ZMQ_MIN_MINOR * 100L +
                LC_CURVE_ZMQ_MIN_PATCH;
    if (have < need) {
        s_fail(err, "libzmq %d.%d.%d is too old: the bus needs %d.%d.%d or later", major, minor,
               patch, LC_CURVE_ZMQ_MIN_MAJOR, LC_CURVE_ZMQ_MIN_MINOR, LC_CURVE_ZMQ_MIN_PATCH);
        return LC_ERR_UNAVAILABLE;
    }
    if (!zmq_has("curve")) {
        s_fail(err, "libzmq %d.%d.%d was built without CURVE (libsodium)", major, minor, patch);
        return LC_ERR_UNAVAILABLE;
    }
    return LC_OK;
}

int lc_curve_mode_parse(const char *text, lc_curve_mode_t *out)
{
    if (text && !strcmp(text, "auto"))
        *out = LC_CURVE_AUTO;
    else if (text && !strcmp(text, "all"))
        *out = LC_CURVE_ALL;
    else
        return LC_ERR_INVALID;
    return LC_OK;
}

bool lc_curve_endpoint_is_loopback(const char *endpoint)
{
    if (!endpoint)
        return false;
    if (!strncmp(endpoint, "ipc://", 6) || !strncmp(endpoint, "inproc://", 9))
        return true;
    if (strncmp(endpoint, "tcp://", 6))
        return false; /* pgm, udp, ws, ...: never assumed local */
    const char *host = endpoint + 6;
    const char *semi = strchr(host, ';'); /* "source;destination": the destination */
    if (semi)
        host = semi + 1;
    const char *colon = strrchr(host, ':');
    size_t len = colon ? (size_t)(colon - host) : strlen(host);
    if (len >= 2 && host[0] == '[' && host[len - 1] == ']') {
        host++;
        len -= 2;
    }
    if (len == 9 && !strncmp(host, "localhost", 9))
        return true;
    if (len == 3 && !strncmp(host, "::1", 3))
        return true;
    /* 127.0.0.0/8, written as a dotted quad (no interface names, no wildcards) */
    if (len < 4 || strncmp(host, "127.", 4))
        return false;
    for (size_t i = 4; i < len; i++)
        if (host[i] != '.' && (host[i] < '0' || host[i] > '9'))
            return false;
    return true;
}

static bool s_name_valid(const char *name)
{
    size_t n = name ? strlen(name) : 0;
    if (n == 0 || n > LC_CURVE_NAME_MAX)
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = name[i];
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-'))
            return false;
    }
    return true;
}

static bool s_z85_key(const char *text, uint8_t key[KEY_BYTES])
{
    return strlen(text) == LC_CURVE_Z85_LEN && zmq_z85_decode(key, text) != NULL;
}

/* ---- files ---------------------------------------------------------------------- */

/* Creates dir and its missing parents; the last one gets mode 0700. */
static int s_mkdirs(const char *dir, char **err)
{
    char path[1024];
    if (snprintf(path, sizeof path, "%s", dir) >= (int)sizeof path) {
        s_fail(err, "keys directory path too long: %s", dir);
        return LC_ERR_INVALID;
    }
    for (char *p = path + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir(path, 0755) != 0 && errno != EEXIST) {
            s_fail(err, "cannot create %s: %s", path, strerror(errno));
            return LC_ERR_IO;
        }
        *p = '/';
    }
    if (mkdir(path, 0700) != 0 && errno != EEXIST) {
        s_fail(err, "cannot create %s: %s", path, strerror(errno));
        return LC_ERR_IO;
    }
    return LC_OK;
}

/* Reads a small file into buf (NUL-terminated). LC_ERR_NOT_FOUND when absent. */
static int s_read_small(const char *path, char *buf, size_t size, struct stat *st)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return errno == ENOENT ? LC_ERR_NOT_FOUND : LC_ERR_IO;
    if (fstat(fd, st) != 0) {
        close(fd);
        return LC_ERR_IO;
    }
    ssize_t n = read(fd, buf, size - 1);
    close(fd);
    if (n < 0)
        return LC_ERR_IO;
    buf[n] = '\0';
    return LC_OK;
}

/* Writes text to a new file tmp (mode) and fsyncs it. */
static int s_write_new(const char *tmp, const char *text, mode_t mode)
{
    int fd = open(tmp, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, mode);
    if (fd < 0)
        return LC_ERR_IO;
    size_t len = strlen(text);
    int rc = fchmod(fd, mode) == 0 && write(fd, text, len) == (ssize_t)len && fsync(fd) == 0
                 ? LC_OK
                 : LC_ERR_IO;
    close(fd);
    if (rc != LC_OK)
        unlink(tmp);
    return rc;
}

/* Parses a .key file into the curve's key pair and checks that the halves match. */
static int s_parse_pair(lc_curve_t *c, char *text)
{
    char *pub = NULL, *sec = NULL, *save = NULL;
    for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        if (!strncmp(line, "public = ", 9))
            pub = line + 9;
        else if (!strncmp(line, "secret = ", 9))
            sec = line + 9;
    }
    uint8_t k[KEY_BYTES];
    if (!pub || !sec || !s_z85_key(pub, k) || !s_z85_key(sec, k))
        return LC_ERR_INVALID;
    char derived[LC_CURVE_Z85_LEN + 1];
    if (zmq_curve_public(derived, sec) != 0 || strcmp(derived, pub))
        return LC_ERR_INVALID;
    memcpy(c->public_z85, pub, sizeof c->public_z85);
    memcpy(c->secret_z85, sec, sizeof c->secret_z85);
    return LC_OK;
}

/* Loads <dir>/<self>.key, creating it first when missing. Creation writes a
 * temporary file and link()s it into place, which fails when the name exists: of
 * two processes starting at once, one pair wins and both load it. */
static int s_load_pair(lc_curve_t *c, char **err)
{
    char path[1200], text[KEY_FILE_MAX];
    struct stat st;
    snprintf(path, sizeof path, "%s/%s.key", c->dir, c->self);
    int rc = s_read_small(path, text, sizeof text, &st);
    if (rc == LC_ERR_NOT_FOUND) {
        char pub[LC_CURVE_Z85_LEN + 1], sec[LC_CURVE_Z85_LEN + 1], tmp[1300];
        if (zmq_curve_keypair(pub, sec) != 0) {
            s_fail(err, "cannot make a CURVE key pair: %s", zmq_strerror(errno));
            return LC_ERR_CRYPTO;
        }
        snprintf(text, sizeof text, "public = %s\nsecret = %s\n", pub, sec);
        snprintf(tmp, sizeof tmp, "%s.tmp.%ld", path, (long)getpid());
        unlink(tmp);
        rc = s_write_new(tmp, text, 0600);
        if (rc == LC_OK) {
            if (link(tmp, path) == 0)
                lc_info(NULL, "bus key pair written to %s (mode 0600)", path);
            else if (errno != EEXIST)
                rc = LC_ERR_IO;
            unlink(tmp);
        }
        explicit_bzero(sec, sizeof sec);
        explicit_bzero(text, sizeof text);
        if (rc == LC_OK)
            rc = s_read_small(path, text, sizeof text, &st);
    }
    if (rc != LC_OK) {
        s_fail(err, "cannot read or create %s: %s", path, strerror(errno));
        return rc;
    }
    if (st.st_mode & 077) {
        explicit_bzero(text, sizeof text);
        s_fail(err, "%s is readable by others (mode %03o): chmod 600 it", path,
               (unsigned)(st.st_mode & 0777));
        return LC_ERR_INVALID;
    }
    rc = s_parse_pair(c, text);
    explicit_bzero(text, sizeof text);
    if (rc != LC_OK)
        s_fail(err, "%s is not a CURVE key pair (public = <Z85> / secret = <Z85>)", path);
    return rc;
}

/* Makes <dir>/<self>.pub hold this service's public key (written atomically). */
static int s_publish_pub(lc_curve_t *c, char **err)
{
    char path[1200], tmp[1300], want[LC_CURVE_Z85_LEN + 2], have[KEY_FILE_MAX];
    struct stat st;
    snprintf(path, sizeof path, "%s/%s.pub", c->dir, c->self);
    snprintf(want, sizeof want, "%s\n", c->public_z85);
    if (s_read_small(path, have, sizeof have, &st) == LC_OK && !strcmp(have, want))
        return LC_OK;
    snprintf(tmp, sizeof tmp, "%s.tmp.%ld", path, (long)getpid());
    unlink(tmp);
    if (s_write_new(tmp, want, 0644) != LC_OK || rename(tmp, path) != 0) {
        s_fail(err, "cannot write %s: %s", path, strerror(errno));
        unlink(tmp);
        return LC_ERR_IO;
    }
    return LC_OK;
}

/* Reads every <name>.pub of the keys directory into the trusted set. Files that
 * are not a valid key are skipped with a warning. Called with c->lock held. */
static void s_load_trusted(lc_curve_t *c)
{
    struct stat dst;
    if (stat(c->dir, &dst) == 0)
        c->dir_mtime = dst.st_mtim; /* before reading: a change meanwhile reads again */
    c->stats.reloads++;
    DIR *d = opendir(c->dir);
    if (!d) {
        lc_warn(NULL, "bus: cannot read the keys directory %s: %s", c->dir, strerror(errno));
        return;
    }
    trusted_t *set = NULL;
    size_t n = 0, cap = 0;
    struct dirent *de;
    while ((de = readdir(d))) {
        size_t len = strlen(de->d_name);
        if (len <= 4 || strcmp(de->d_name + len - 4, ".pub"))
            continue;
        trusted_t t;
        memset(&t, 0, sizeof t);
        if (len - 4 > LC_CURVE_NAME_MAX)
            continue;
        memcpy(t.name, de->d_name, len - 4);
        if (!s_name_valid(t.name))
            continue;
        char path[1200], text[KEY_FILE_MAX];
        struct stat st;
        snprintf(path, sizeof path, "%s/%s", c->dir, de->d_name);
        if (s_read_small(path, text, sizeof text, &st) != LC_OK)
            continue;
        text[strcspn(text, "\r\n")] = '\0';
        if (!s_z85_key(text, t.key)) {
            lc_warn(NULL, "bus: %s is not a Z85 public key; ignored", path);
            continue;
        }
        if (n == cap) {
            size_t ncap = cap ? cap * 2 : 8;
            trusted_t *grown = realloc(set, ncap * sizeof *grown);
            if (!grown)
                break;
            set = grown;
            cap = ncap;
        }
        set[n++] = t;
    }
    closedir(d);
    free(c->trusted);
    c->trusted = set;
    c->ntrusted = n;
}

/* True when the keys directory changed since it was last read (a file added,
 * replaced or removed changes its mtime): one stat, so a stranger knocking again
 * and again costs no directory read. */
static bool s_dir_changed(const lc_curve_t *c)
{
    struct stat dst;
    if (stat(c->dir, &dst) != 0)
        return false;
    return dst.st_mtim.tv_sec != c->dir_mtime.tv_sec ||
           dst.st_mtim.tv_nsec != c->dir_mtime.tv_nsec;
}

/* The trusted entry whose key (when key is set) or name matches, reading the
 * directory again on a miss when it changed since. Called with c->lock held. */
static const trusted_t *s_find_trusted(lc_curve_t *c, const uint8_t *key, const char *name)
{
    for (int pass = 0; pass < 2; pass++) {
        for (size_t i = 0; i < c->ntrusted; i++) {
            const trusted_t *t = &c->trusted[i];
            if (key ? !memcmp(t->key, key, KEY_BYTES) : !strcmp(t->name, name))
                return t;
        }
        if (pass == 1 || !s_dir_changed(c))
            break;
        s_load_trusted(c);
    }
    return NULL;
}

lc_curve_t *lc_curve_open(const char *dir, const char *self, lc_curve_mode_t mode, char **err)
{
    if (!dir || !*dir || !s_name_valid(self)) {
        s_fail(err, "bad bus keys directory or service name");
        return NULL;
    }
    lc_curve_t *c = calloc(1, sizeof *c);
    if (!c || !(c->dir = strdup(dir))) {
        free(c);
        s_fail(err, "out of memory");
        return NULL;
    }
    snprintf(c->self, sizeof c->self, "%s", self);
    c->mode = mode;
    pthread_mutex_init(&c->lock, NULL);
    if (s_mkdirs(dir, err) != LC_OK || s_load_pair(c, err) != LC_OK ||
        s_publish_pub(c, err) != LC_OK) {
        lc_curve_destroy(&c);
        return NULL;
    }
    pthread_mutex_lock(&c->lock);
    s_load_trusted(c);
    pthread_mutex_unlock(&c->lock);
    return c;
}

void lc_curve_destroy(lc_curve_t **curve_p)
{
    lc_curve_t *c = curve_p ? *curve_p : NULL;
    if (!c)
        return;
    for (zap_t *z = c->zaps, *next; z; z = next) {
        next = z->next;
        pthread_join(z->thread, NULL);
        free(z);
    }
    for (size_t i = 0; i < c->npeers; i++)
        free(c->peers[i].endpoint);
    free(c->peers);
    free(c->trusted);
    free(c->dir);
    explicit_bzero(c->secret_z85, sizeof c->secret_z85);
    pthread_mutex_destroy(&c->lock);
    free(c);
    *curve_p = NULL;
}

lc_curve_mode_t lc_curve_mode(const lc_curve_t *curve)
{
    return curve->mode;
}

const char *lc_curve_public_key(const lc_curve_t *curve)
{
    return curve->public_z85;
}

bool lc_curve_wanted(const lc_curve_t *curve, const char *endpoint)
{
    return curve->mode == LC_CURVE_ALL || !lc_curve_endpoint_is_loopback(endpoint);
}

void lc_curve_stats(lc_curve_t *curve, lc_curve_stats_t *out)
{
    pthread_mutex_lock(&curve->lock);
    *out = curve->stats;
    pthread_mutex_unlock(&curve->lock);
}

int lc_curve_add_peer(lc_curve_t *curve, const char *endpoint, const char *service)
{
    if (!endpoint || !s_name_valid(service))
        return LC_ERR_INVALID;
    int rc = LC_OK;
    pthread_mutex_lock(&curve->lock);
    size_t i = 0;
    while (i < curve->npeers && strcmp(curve->peers[i].endpoint, endpoint))
        i++;
    if (i == curve->npeers) {
        peer_t *grown = realloc(curve->peers, (curve->npeers + 1) * sizeof *grown);
        char *copy = strdup(endpoint);
        if (grown)
            curve->peers = grown;
        if (!grown || !copy) {
            free(copy);
            rc = LC_ERR_NOMEM;
        } else {
            curve->peers[curve->npeers++].endpoint = copy;
        }
    }
    if (rc == LC_OK)
        snprintf(curve->peers[i].name, sizeof curve->peers[i].name, "%s", service);
    pthread_mutex_unlock(&curve->lock);
    return rc;
}

/* ---- the ZAP handler ------------------------------------------------------------ */

/* Sends the six-frame ZAP reply. */
static void s_zap_reply(void *sock, zmq_msg_t *request_id, const char *status, const char *text,
                        const char *user)
{
    zmq_send(sock, "1.0", 3, ZMQ_SNDMORE);
    zmq_send(sock, zmq_msg_data(request_id), zmq_msg_size(request_id), ZMQ_SNDMORE);
    zmq_send(sock, status, strlen(status), ZMQ_SNDMORE);
    zmq_send(sock, text, strlen(text), ZMQ_SNDMORE);
    zmq_send(sock, user, strlen(user), ZMQ_SNDMORE);
    zmq_send(sock, "", 0, 0);
}

/* Copies frame f as a NUL-terminated string into out (cut to fit). */
static void s_frame_text(zmq_msg_t *f, char *out, size_t size)
{
    size_t n = zmq_msg_size(f) < size - 1 ? zmq_msg_size(f) : size - 1;
    memcpy(out, zmq_msg_data(f), n);
    out[n] = '\0';
}

/* Answers one ZAP request (frames: version, request id, domain, address, routing
 * id, mechanism, credentials...). Returns the service name admitted, or NULL. */
static const char *s_zap_decide(zap_t *z, zmq_msg_t *f, int n, char *name, size_t namelen,
                                char *why, size_t whylen)
{
    char version[8], mechanism[16];
    if (n < 6) {
        snprintf(why, whylen, "malformed ZAP request");
        return NULL;
    }
    s_frame_text(&f[0], version, sizeof version);
    s_frame_text(&f[5], mechanism, sizeof mechanism);
    if (strcmp(version, "1.0")) {
        snprintf(why, whylen, "ZAP version %s", version);
        return NULL;
    }
    if (strcmp(mechanism, "CURVE") || n != 7 || zmq_msg_size(&f[6]) != KEY_BYTES) {
        snprintf(why, whylen, "mechanism %s", mechanism);
        return NULL;
    }
    lc_curve_t *c = z->curve;
    pthread_mutex_lock(&c->lock);
    const trusted_t *t = s_find_trusted(c, zmq_msg_data(&f[6]), NULL);
    if (t)
        snprintf(name, namelen, "%s", t->name);
    pthread_mutex_unlock(&c->lock);
    if (!t) {
        char z85[LC_CURVE_Z85_LEN + 1];
        zmq_z85_encode(z85, zmq_msg_data(&f[6]), KEY_BYTES);
        snprintf(why, whylen, "key %s is not a service key", z85);
        return NULL;
    }
    return name;
}

static void *s_zap_main(void *arg)
{
    zap_t *z = arg;
    lc_curve_t *c = z->curve;
    int64_t logged_ms = 0;
    uint64_t unlogged = 0;
    for (;;) {
        zmq_msg_t f[ZAP_FRAMES_MAX];
        int n = 0, more = 1;
        bool term = false;
        while (more) {
            zmq_msg_t part;
            zmq_msg_init(&part);
            if (zmq_msg_recv(&part, z->sock, 0) < 0) {
                zmq_msg_close(&part);
                if (errno == EINTR)
                    continue;
                term = true; /* ETERM: the context is being terminated */
                break;
            }
            more = zmq_msg_more(&part);
            if (n < ZAP_FRAMES_MAX)
                f[n++] = part;
            else
                zmq_msg_close(&part);
        }
        if (term) {
            for (int i = 0; i < n; i++)
                zmq_msg_close(&f[i]);
            break;
        }
        if (n == 0)
            continue; /* EINTR */
        char name[LC_CURVE_NAME_MAX + 1] = "", why[128] = "", address[64] = "";
        const char *who = s_zap_decide(z, f, n, name, sizeof name, why, sizeof why);
        if (n >= 4)
            s_frame_text(&f[3], address, sizeof address);
        zmq_msg_t empty;
        zmq_msg_init(&empty);
        s_zap_reply(z->sock, n >= 2 ? &f[1] : &empty, who ? "200" : "400",
                    who ? "OK" : "not a coalition service key", who ? who : "");
        zmq_msg_close(&empty);
        pthread_mutex_lock(&c->lock);
        if (who)
            c->stats.admitted++;
        else
            c->stats.refused++;
        pthread_mutex_unlock(&c->lock);
        if (!who) {
            /* Rate-limited: a peer reconnecting in a loop must not flood the log. */
            unlogged++;
            if (lc_mono_ms() - logged_ms >= ZAP_LOG_INTERVAL_MS) {
                lc_warn(NULL, "bus: refused a connection from %s: %s (%llu refused since the "
                        "last line)",
                        address[0] ? address : "?", why, (unsigned long long)unlogged);
                logged_ms = lc_mono_ms();
                unlogged = 0;
            }
        }
        for (int i = 0; i < n; i++)
            zmq_msg_close(&f[i]);
    }
    /* Marked done before the close: zmq_ctx_term returns only after it, so a new
     * context at the same address never finds this entry still live. */
    pthread_mutex_lock(&c->lock);
    z->done = true;
    pthread_mutex_unlock(&c->lock);
    zmq_close(z->sock);
    return NULL;
}

/* Starts the ZAP handler of zctx unless it runs. Called with c->lock held. */
static int s_zap_ensure(lc_curve_t *c, void *zctx, char **err)
{
    for (zap_t *z = c->zaps; z; z = z->next)
        if (z->zctx == zctx && !z->done)
            return LC_OK;
    zap_t *z = calloc(1, sizeof *z);
    if (!z) {
        s_fail(err, "out of memory");
        return LC_ERR_NOMEM;
    }
    z->curve = c;
    z->zctx = zctx;
    z->sock = zmq_socket(zctx, ZMQ_REP);
    int linger = 0;
    if (z->sock)
        zmq_setsockopt(z->sock, ZMQ_LINGER, &linger, sizeof linger);
    if (!z->sock || zmq_bind(z->sock, ZAP_ENDPOINT) != 0) {
        s_fail(err, "cannot start the ZAP handler: %s", zmq_strerror(errno));
        if (z->sock)
            zmq_close(z->sock);
        free(z);
        return LC_ERR_IO;
    }
    /* The socket moves to the thread; pthread_create is the memory barrier
     * ZeroMQ asks for when a socket changes threads. */
    if (pthread_create(&z->thread, NULL, s_zap_main, z) != 0) {
        s_fail(err, "cannot start the ZAP thread");
        zmq_close(z->sock);
        free(z);
        return LC_ERR_IO;
    }
    z->next = c->zaps;
    c->zaps = z;
    return LC_OK;
}

int lc_curve_server_setup(lc_curve_t *curve, void *zctx, void *sock, char **err)
{
    pthread_mutex_lock(&curve->lock);
    int rc = s_zap_ensure(curve, zctx, err);
    pthread_mutex_unlock(&curve->lock);
    if (rc != LC_OK)
        return rc;
    int on = 1;
    if (zmq_setsockopt(sock, ZMQ_CURVE_SERVER, &on, sizeof on) != 0 ||
        zmq_setsockopt(sock, ZMQ_CURVE_SECRETKEY, curve->secret_z85, LC_CURVE_Z85_LEN + 1) != 0 ||
        zmq_setsockopt(sock, ZMQ_ZAP_DOMAIN, LC_CURVE_ZAP_DOMAIN,
                       strlen(LC_CURVE_ZAP_DOMAIN)) != 0) {
        s_fail(err, "cannot make a CURVE server socket: %s", zmq_strerror(errno));
        return LC_ERR_IO;
    }
    (void)zmq_setsockopt(sock, ZMQ_ZAP_ENFORCE_DOMAIN, &on, sizeof on); /* best effort */
    return LC_OK;
}

int lc_curve_client_setup(lc_curve_t *curve, void *sock, const char *endpoint, char **err)
{
    char name[LC_CURVE_NAME_MAX + 1] = "";
    uint8_t server[KEY_BYTES];
    bool known = false;
    pthread_mutex_lock(&curve->lock);
    for (size_t i = 0; i < curve->npeers; i++)
        if (!strcmp(curve->peers[i].endpoint, endpoint))
            snprintf(name, sizeof name, "%s", curve->peers[i].name);
    const trusted_t *t = name[0] ? s_find_trusted(curve, NULL, name) : NULL;
    if (t) {
        memcpy(server, t->key, KEY_BYTES);
        known = true;
    }
    pthread_mutex_unlock(&curve->lock);
    if (!name[0]) {
        s_fail(err, "no service is known to serve %s, so its CURVE key is unknown (set "
                    "<service>.connect to it)", endpoint);
        return LC_ERR_NOT_FOUND;
    }
    if (!known) {
        s_fail(err, "no key for %s (the server of %s): %s/%s.pub is missing or invalid", name,
               endpoint, curve->dir, name);
        return LC_ERR_NOT_FOUND;
    }
    if (zmq_setsockopt(sock, ZMQ_CURVE_SERVERKEY, server, KEY_BYTES) != 0 ||
        zmq_setsockopt(sock, ZMQ_CURVE_PUBLICKEY, curve->public_z85, LC_CURVE_Z85_LEN + 1) != 0 ||
        zmq_setsockopt(sock, ZMQ_CURVE_SECRETKEY, curve->secret_z85, LC_CURVE_Z85_LEN + 1) != 0) {
        s_fail(err, "cannot make a CURVE client socket: %s", zmq_strerror(errno));
        return LC_ERR_IO;
    }
    return LC_OK;
}
