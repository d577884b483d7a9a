/*
 * st_threads.c: settlement's threads (st_server.h says what may run at once).
 *
 *   router    the main thread: owns the ROUTER socket clients talk to and hands each
 *             request to an idle worker over that worker's inproc PAIR; takes the
 *             worker's reply back and sends it to the peer. While every worker is
 *             busy it stops reading the ROUTER, so requests wait in ZeroMQ's queue
 *             (and their deadline still applies when a worker picks them up).
 *   workers   settlement.workers threads, each serving one request at a time on its
 *             own context (st_server_t copy: database connection, ledger and members
 *             clients), with st_serve.
 *   sweeper   maturation (st_mature_sweep), expiry (st_expire_tick) and tier reviews
 *             (st_tier_tick) on a context of its own, each under the serial lock.
 *   statements  the journal consumer (st_statement_feed.c), started here.
 *
 * Why threads in one process rather than several processes: one earn spends most of
 * its time waiting (members' answer, the ledger's group commit, settlement's own
 * commit); overlapping those waits is what lets the ledger batch earns together.
 * Threads share the serial lock, which keeps everything but earns and reads as
 * ordered as before; several processes would need that lock in the database.
 *
 * Ownership: st_server_open makes every context and socket; st_server_run starts and
 * joins the threads; st_server_close frees what open made, in any state.
 */
#include "lc_err.h"
#include "lc_log.h"
#include "lc_time.h"
#include "st_mature.h"
#include "st_server.h"
#include "st_store.h"
#include "st_tier.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zmq.h>

typedef struct st_worker {
    st_server_t ctx;     /* this thread's context (owns db, ledger, members) */
    void *router_end;    /* PAIR the router talks on (router thread only) */
    void *worker_end;    /* PAIR the worker talks on (worker thread only once started) */
    pthread_t thread;
    bool started;
    volatile int *stop;
} st_worker_t;

struct st_threads {
    st_locks_t locks;
    int n;                   /* workers */
    st_worker_t *workers;    /* [n] */
    int *idle;               /* stack of idle worker indexes (router thread only) */
    int nidle;
    st_server_t sweeper;     /* the sweeper's context */
    pthread_t sweeper_thread;
    bool sweeper_started;
    volatile int *stop;
};

/* ---- contexts ---------------------------------------------------------------------- */

/* Makes a thread's context: the process's settings and locks, its own connections. */
static int s_ctx_open(st_server_t *ctx, const st_server_t *proc)
{
    memset(ctx, 0, sizeof *ctx);
    ctx->cfg = proc->cfg;
    ctx->zctx = proc->zctx;
    ctx->locks = proc->locks;
    char *err = NULL;
    ctx->db = lc_db_connect(proc->cfg.conninfo, &err);
    if (!ctx->db) {
        lc_error(NULL, "cannot connect to the settlement database: %s", err ? err : "?");
        free(err);
        return LC_ERR_UNAVAILABLE;
    }
    ctx->ledger = lc_bus_client_new(proc->zctx, proc->cfg.ledger_connect);
    ctx->members = lc_bus_client_new(proc->zctx, proc->cfg.members_connect);
    if (!ctx->ledger || !ctx->members) {
        lc_error(NULL, "cannot open clients for %s and %s", proc->cfg.ledger_connect,
                 proc->cfg.members_connect);
        return LC_ERR_IO;
    }
    int64_t now = lc_mono_ms();
    ctx->next_sweep_ms = now;
    ctx->next_expire_ms = now; /* the first tick creates the breakage account */
    ctx->next_tier_ms = now;
    return LC_OK;
}

static void s_ctx_close(st_server_t *ctx)
{
    lc_bus_client_destroy(&ctx->ledger);
    lc_bus_client_destroy(&ctx->members);
    lc_db_destroy(&ctx->db);
}

/* Makes worker i's context and its PAIR of inproc sockets. */
static int s_worker_open(st_server_t *proc, st_worker_t *w, int i)
{
    int rc = s_ctx_open(&w->ctx, proc);
    if (rc != LC_OK)
        return rc;
    char endpoint[96];
    snprintf(endpoint, sizeof endpoint, "inproc://settlement-worker-%p-%d", (void *)proc, i);
    int linger = 0;
    w->router_end = zmq_socket(proc->zctx, ZMQ_PAIR);
    w->worker_end = zmq_socket(proc->zctx, ZMQ_PAIR);
    if (!w->router_end || !w->worker_end ||
        zmq_setsockopt(w->router_end, ZMQ_LINGER, &linger, sizeof linger) != 0 ||
        zmq_setsockopt(w->worker_end, ZMQ_LINGER, &linger, sizeof linger) != 0 ||
        zmq_bind(w->router_end, endpoint) != 0 || zmq_connect(w->worker_end, endpoint) != 0) {
        lc_error(NULL, "cannot open the worker socket %s: %s", endpoint, zmq_strerror(zmq_errno()));
        return LC_ERR_IO;
    }
    return LC_OK;
}

/* ---- workers ----------------------------------------------------------------------- */

/* Receives one whole frame into msg; false on error (the stop check follows). */
static bool s_recv(void *sock, zmq_msg_t *msg)
{
    zmq_msg_init(msg);
    if (zmq_msg_recv(msg, sock, 0) >= 0)
        return true;
    zmq_msg_close(msg);
    return false;
}

/* A request comes as [peer][envelope]; the reply goes back as [peer][envelope], or
 * [peer][] when no reply could be made (out of memory: the client's retry follows).
 * The router counts an answered worker as idle either way. */
static void *s_worker_main(void *arg)
{
    st_worker_t *w = arg;
    zmq_pollitem_t item = {.socket = w->worker_end, .events = ZMQ_POLLIN};
    while (!*w->stop) {
        if (zmq_poll(&item, 1, ST_POLL_MS) <= 0)
            continue;
        zmq_msg_t peer, req;
        if (!s_recv(w->worker_end, &peer))
            continue;
        if (!zmq_msg_more(&peer) || !s_recv(w->worker_end, &req)) {
            zmq_msg_close(&peer); /* cannot happen on inproc: the router sends both */
            continue;
        }
        size_t outlen = 0;
        char *out = st_serve(&w->ctx, zmq_msg_data(&req), zmq_msg_size(&req), &outlen);
        zmq_msg_send(&peer, w->worker_end, ZMQ_SNDMORE);
        zmq_send(w->worker_end, out ? out : "", out ? outlen : 0, 0);
        free(out);
        zmq_msg_close(&req);
        zmq_msg_close(&peer);
    }
    return NULL;
}

/* ---- sweeper ----------------------------------------------------------------------- */

/* Runs whichever sweeps are due, each under the serial lock; returns how long the
 * next one is away (ms, at most ST_POLL_MS). */
static int64_t s_sweep_due(st_threads_t *t)
{
    st_server_t *s = &t->sweeper;
    if (lc_mono_ms() >= s->next_sweep_ms) {
        pthread_mutex_lock(&t->locks.serial);
        if (st_store_ensure(s) == LC_OK)
            st_mature_sweep(s);
        pthread_mutex_unlock(&t->locks.serial);
        s->next_sweep_ms = lc_mono_ms() + s->cfg.mature_interval_ms;
    }
    if (lc_mono_ms() >= s->next_expire_ms) {
        pthread_mutex_lock(&t->locks.serial);
        st_expire_tick(s); /* sets next_expire_ms */
        pthread_mutex_unlock(&t->locks.serial);
    }
    if (lc_mono_ms() >= s->next_tier_ms) {
        pthread_mutex_lock(&t->locks.serial);
        st_tier_tick(s); /* sets next_tier_ms */
        pthread_mutex_unlock(&t->locks.serial);
    }
    int64_t next = s->next_sweep_ms < s->next_expire_ms ? s->next_sweep_ms : s->next_expire_ms;
    if (s->next_tier_ms < next)
        next = s->next_tier_ms;
    int64_t wait = next - lc_mono_ms();
    return wait > ST_POLL_MS ? ST_POLL_MS : wait;
}

static void *s_sweeper_main(void *arg)
{
    st_threads_t *t = arg;
    while (!*t->stop) {
        int64_t wait = s_sweep_due(t);
        if (wait > 0)
            usleep((useconds_t)wait * 1000);
    }
    return NULL;
}

/* ---- router ------------------------------------------------------------------------ */

/* Moves one worker's reply to its peer; the worker is idle again. */
static void s_route_reply(st_server_t *s, int i)
{
    st_threads_t *t = s->threads;
    zmq_msg_t peer, rep;
    if (!s_recv(t->workers[i].router_end, &peer))
        return;
    if (zmq_msg_more(&peer) && s_recv(t->workers[i].router_end, &rep)) {
        lc_bus_peer_t to = {.len = zmq_msg_size(&peer)};
        if (to.len <= sizeof to.id && zmq_msg_size(&rep) > 0) {
            memcpy(to.id, zmq_msg_data(&peer), to.len);
            lc_bus_server_send(s->bus, &to, zmq_msg_data(&rep), zmq_msg_size(&rep));
        }
        zmq_msg_close(&rep);
    }
    zmq_msg_close(&peer);
    t->idle[t->nidle++] = i;
}

/* Hands waiting requests to idle workers until either runs out. */
static void s_route_requests(st_server_t *s)
{
    st_threads_t *t = s->threads;
    while (t->nidle > 0) {
        lc_bus_peer_t peer;
        char *data;
        size_t len;
        int rc = lc_bus_server_recv(s->bus, &peer, &data, &len, 0);
        if (rc == LC_ERR_PROTO)
            continue; /* dropped by lc_bus */
        if (rc != LC_OK)
            return;
        int i = t->idle[--t->nidle];
        zmq_send(t->workers[i].router_end, peer.id, peer.len, ZMQ_SNDMORE);
        zmq_send(t->workers[i].router_end, data, len, 0);
        free(data);
    }
}

/* ---- lifecycle --------------------------------------------------------------------- */

int st_server_open(st_server_t *s, const st_config_t *cfg)
{
    memset(s, 0, sizeof *s);
    s->cfg = *cfg;
    s->zctx = zmq_ctx_new();
    st_threads_t *t = s->zctx ? calloc(1, sizeof *t) : NULL;
    if (!t)
        return LC_ERR_NOMEM;
    int n = cfg->workers < 1 ? 1 : (int)cfg->workers;
    s->threads = t;
    pthread_mutex_init(&t->locks.serial, NULL);
    for (int i = 0; i < ST_MEMBER_STRIPES; i++)
        pthread_mutex_init(&t->locks.member[i], NULL);
    s->locks = &t->locks;
    t->workers = calloc((size_t)n, sizeof *t->workers);
    t->idle = calloc((size_t)n, sizeof *t->idle);
    if (!t->workers || !t->idle)
        return LC_ERR_NOMEM;
    char *err = NULL;
    s->bus = lc_bus_server_new(s->zctx, cfg->bind, &err);
    if (!s->bus) {
        lc_error(NULL, "%s", err ? err : "cannot bind");
        free(err);
        return LC_ERR_IO;
    }
    for (; t->n < n; t->n++) {
        int rc = s_worker_open(s, &t->workers[t->n], t->n);
        if (rc != LC_OK) {
            t->n++; /* close what it opened too */
            return rc;
        }
    }
    return s_ctx_open(&t->sweeper, s);
}

int st_server_run(st_server_t *s, volatile int *stop)
{
    st_threads_t *t = s->threads;
    t->stop = stop;
    s->statements = (st_stmt_feed_t){.run = {.zctx = s->zctx,
                                             .conninfo = s->cfg.conninfo,
                                             .publish = s->cfg.ledger_publish,
                                             .ledger = s->cfg.ledger_connect,
                                             .stop = stop},
                                     .point_value_micros = s->cfg.point_value_cents * 10000};
    if (st_stmt_feed_start(&s->statements) != LC_OK) {
        lc_error(NULL, "cannot start the statements' journal consumer");
        return LC_ERR_IO;
    }
    /* The first round before the first request, as a single-threaded settlement did:
     * the accounts it makes (breakage, promotion) exist before anything is served. */
    s_sweep_due(t);
    int rc = LC_OK;
    if (pthread_create(&t->sweeper_thread, NULL, s_sweeper_main, t) == 0)
        t->sweeper_started = true;
    else
        rc = LC_ERR_NOMEM;
    for (int i = 0; i < t->n && rc == LC_OK; i++) {
        st_worker_t *w = &t->workers[i];
        w->stop = stop;
        if (pthread_create(&w->thread, NULL, s_worker_main, w) != 0) {
            rc = LC_ERR_NOMEM;
            break;
        }
        w->started = true;
        t->idle[t->nidle++] = i;
    }
    if (rc != LC_OK) {
        lc_error(NULL, "cannot start settlement's threads");
        *stop = 1;
    }
    zmq_pollitem_t *items = calloc((size_t)t->n + 1, sizeof *items);
    if (!items)
        *stop = 1, rc = LC_ERR_NOMEM;
    while (!*stop) {
        items[0] = (zmq_pollitem_t){.socket = lc_bus_server_socket(s->bus),
                                    .events = t->nidle > 0 ? ZMQ_POLLIN : 0};
        for (int i = 0; i < t->n; i++)
            items[i + 1] = (zmq_pollitem_t){.socket = t->workers[i].router_end,
                                            .events = ZMQ_POLLIN};
        if (zmq_poll(items, t->n + 1, ST_POLL_MS) <= 0)
            continue;
        for (int i = 0; i < t->n; i++)
            if (items[i + 1].revents & ZMQ_POLLIN)
                s_route_reply(s, i);
        if (items[0].revents & ZMQ_POLLIN)
            s_route_requests(s);
    }
    free(items);
    for (int i = 0; i < t->n; i++)
        if (t->workers[i].started) {
            pthread_join(t->workers[i].thread, NULL);
            t->workers[i].started = false;
            s->requests += t->workers[i].ctx.requests;
        }
    if (t->sweeper_started)
        pthread_join(t->sweeper_thread, NULL);
    t->sweeper_started = false;
    st_stmt_feed_join(&s->statements);
    return rc;
}

void st_server_close(st_server_t *s)
{
    st_threads_t *t = s->threads;
    if (t) {
        for (int i = 0; i < t->n; i++) {
            st_worker_t *w = &t->workers[i];
            s_ctx_close(&w->ctx);
            if (w->router_end)
                zmq_close(w->router_end);
            if (w->worker_end)
                zmq_close(w->worker_end);
        }
        s_ctx_close(&t->sweeper);
        pthread_mutex_destroy(&t->locks.serial);
        for (int i = 0; i < ST_MEMBER_STRIPES; i++)
            pthread_mutex_destroy(&t->locks.member[i]);
        free(t->workers);
        free(t->idle);
        free(t);
        s->threads = NULL;
        s->locks = NULL;
    }
    lc_bus_server_destroy(&s->bus);
    if (s->zctx)
        zmq_ctx_term(s->zctx);
    s->zctx = NULL;
}
