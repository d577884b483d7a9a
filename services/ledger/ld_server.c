/*
 * ld_server.c: the writer loop (see ld_server.h) and the request handlers.
 *
 * Requests fall in three groups:
 *   - writers (create_accounts, create_transfers, set_account_flags, expire_lots)
 *     change the state; their replies wait for COMMIT;
 *   - memory readers (lookup_accounts, account_lots, trial_balance, ping) read
 *     the state, including earlier writes of the same batch, and are answered
 *     with the batch, after COMMIT, so no one sees uncommitted points;
 *   - database readers (lookup_transfers, journal_read, verify) run after COMMIT
 *     against what PostgreSQL holds.
 */
#include "ld_server.h"
#include "ld_lots.h"
#include "ld_store.h"
#include "ld_verify.h"
#include "lc_err.h"
#include "lc_log.h"
#include "lc_time.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

/* A decoded request body: room for any the ledger serves. */
typedef union ld_request_body {
    ld_create_accounts_req_t accounts;
    ld_create_transfers_req_t transfers;
    ld_lookup_req_t lookup;
    ld_set_flags_req_t flags;
    ld_lots_req_t lots;
    ld_expire_req_t expire;
    ld_journal_req_t journal;
    ld_empty_t empty;
} ld_request_body_t;

/* One request of the current batch. */
typedef struct ld_pending_reply {
    lc_bus_peer_t peer;
    lc_request_t req;
    const ld_msgtype_t *mt;
    bool writer;
    bool db_reader;
    bool decoded;        /* in holds the decoded body (cleared in s_release) */
    ld_request_body_t in;
    json_t *body;        /* the reply body once computed (owned) */
    const char *err;     /* an error code instead of a body */
    char msg[256];
} ld_pending_reply_t;

static bool s_is_writer(const char *type)
{
    return !strcmp(type, LD_TYPE_CREATE_ACCOUNTS) || !strcmp(type, LD_TYPE_CREATE_TRANSFERS) ||
           !strcmp(type, LD_TYPE_SET_ACCOUNT_FLAGS) || !strcmp(type, LD_TYPE_EXPIRE_LOTS);
}

static bool s_is_db_reader(const char *type)
{
    return !strcmp(type, LD_TYPE_LOOKUP_TRANSFERS) || !strcmp(type, LD_TYPE_JOURNAL_READ) ||
           !strcmp(type, LD_TYPE_VERIFY);
}

static void s_set_error(ld_pending_reply_t *p, const char *code, const char *msg)
{
    p->err = code;
    snprintf(p->msg, sizeof p->msg, "%s", msg);
}

/* Encodes a reply struct into p->body and clears the struct. */
static void s_set_body(ld_pending_reply_t *p, const lc_msgdesc_t *desc, void *rep)
{
    p->body = lc_codec_encode(desc, rep);
    if (!p->body)
        s_set_error(p, LC_E_INTERNAL, "could not encode the reply");
    lc_codec_clear(desc, rep);
}

/* ---- handlers -------------------------------------------------------------------- */

/* Allocates n result slots for a writer's reply. */
static int s_results(size_t n, ld_results_rep_t *rep)
{
    memset(rep, 0, sizeof *rep);
    rep->results = calloc(n ? n : 1, sizeof *rep->results);
    if (!rep->results)
        return LC_ERR_NOMEM;
    rep->nresults = n;
    return LC_OK;
}

static int s_create_accounts(ld_server_t *srv, ld_pending_reply_t *p, void *in, int64_t now)
{
    ld_create_accounts_req_t *req = in;
    ld_results_rep_t rep;
    int rc = s_results(req->naccounts, &rep);
    if (rc == LC_OK)
        rc = ld_state_create_accounts(srv->state, req->accounts, req->naccounts, now,
                                      rep.results);
    if (rc == LC_OK)
        s_set_body(p, &ld_results_rep_desc, &rep);
    else
        lc_codec_clear(&ld_results_rep_desc, &rep);
    return rc;
}

static int s_create_transfers(ld_server_t *srv, ld_pending_reply_t *p, void *in, int64_t now)
{
    ld_create_transfers_req_t *req = in;
    ld_results_rep_t rep;
    int rc = s_results(req->ntransfers, &rep);
    if (rc == LC_OK)
        rc = ld_state_create_transfers(srv->state, req->transfers, req->ntransfers, now,
                                       rep.results);
    if (rc == LC_OK)
        s_set_body(p, &ld_results_rep_desc, &rep);
    else
        lc_codec_clear(&ld_results_rep_desc, &rep);
    return rc;
}

static int s_set_flags(ld_server_t *srv, ld_pending_reply_t *p, void *in, int64_t now)
{
    ld_results_rep_t rep;
    int rc = s_results(1, &rep);
    if (rc == LC_OK)
        rc = ld_state_set_flags(srv->state, in, now, rep.results);
    if (rc == LC_OK)
        s_set_body(p, &ld_results_rep_desc, &rep);
    else
        lc_codec_clear(&ld_results_rep_desc, &rep);
    return rc;
}

static int s_expire_lots(ld_server_t *srv, ld_pending_reply_t *p, void *in, int64_t now)
{
    ld_expire_rep_t rep;
    int rc = ld_state_expire_lots(srv->state, in, now, &rep);
    if (rc == LC_ERR_NOT_FOUND || rc == LC_ERR_INVALID) {
        lc_codec_clear(&ld_expire_rep_desc, &rep);
        s_set_error(p, LC_E_INVALID_FIELD,
                    rc == LC_ERR_NOT_FOUND ? "breakage_account_id: no such account"
                                           : "breakage_account_id: must not track lots");
        return LC_OK;
    }
    if (rc == LC_OK)
        s_set_body(p, &ld_expire_rep_desc, &rep);
    else
        lc_codec_clear(&ld_expire_rep_desc, &rep);
    return rc;
}

static int s_lookup_accounts(ld_server_t *srv, ld_pending_reply_t *p, void *in, int64_t now)
{
    (void)now;
    ld_lookup_req_t *req = in;
    ld_accounts_rep_t rep = {0};
    rep.accounts = calloc(req->nids ? req->nids : 1, sizeof *rep.accounts);
    if (!rep.accounts)
        return LC_ERR_NOMEM;
    for (size_t i = 0; i < req->nids; i++) {
        const ld_account_t *a = ld_state_account(srv->state, &req->ids[i]);
        if (a)
            ld_account_view(a, &rep.accounts[rep.naccounts++]);
    }
    s_set_body(p, &ld_accounts_rep_desc, &rep);
    return LC_OK;
}

static int s_account_lots(ld_server_t *srv, ld_pending_reply_t *p, void *in, int64_t now)
{
    (void)now;
    ld_lots_req_t *req = in;
    const ld_account_t *a = ld_state_account(srv->state, &req->account_id);
    if (!a) {
        s_set_error(p, LC_E_NOT_FOUND, "account_id: no such account");
        return LC_OK;
    }
    ld_lots_rep_t rep = {0};
    size_t n = 0;
    for (const ld_lot_t *l = a->lots; l; l = l->next)
        n += l->remaining > 0;
    rep.lots = calloc(n ? n : 1, sizeof *rep.lots);
    if (!rep.lots)
        return LC_ERR_NOMEM;
    for (const ld_lot_t *l = a->lots; l; l = l->next) {
        if (l->remaining == 0)
            continue;
        ld_lot_view_t *v = &rep.lots[rep.nlots++];
        v->id = l->id;
        v->amount = l->amount;
        v->remaining = l->remaining;
        v->expires_at = l->expires_at;
    }
    s_set_body(p, &ld_lots_rep_desc, &rep);
    return LC_OK;
}

static int s_trial_balance(ld_server_t *srv, ld_pending_reply_t *p, void *in, int64_t now)
{
    (void)in;
    (void)now;
    ld_trial_balance_rep_t rep = {0};
    ld_kind_total_t totals[64] = {{0}};
    const ld_table_t *t = &srv->state->accounts;
    for (size_t i = 0; i < t->cap; i++) {
        const ld_account_t *a = t->slots[i].value;
        if (!a)
            continue;
        int64_t bal = a->credits_posted - a->debits_posted;
        rep.sum += bal;
        rep.accounts++;
        if (a->kind > 0 && a->kind < 64) {
            totals[a->kind].kind = a->kind;
            totals[a->kind].accounts++;
            totals[a->kind].balance += bal;
        }
    }
    rep.by_kind = calloc(64, sizeof *rep.by_kind);
    if (!rep.by_kind)
        return LC_ERR_NOMEM;
    for (int k = 1; k < 64; k++)
        if (totals[k].accounts)
            rep.by_kind[rep.nby_kind++] = totals[k];
    rep.journal_seq = srv->state->next_seq - 1;
    memcpy(rep.chain_head, srv->state->head, 32);
    s_set_body(p, &ld_trial_balance_rep_desc, &rep);
    return LC_OK;
}

static int s_ping(ld_server_t *srv, ld_pending_reply_t *p, void *in, int64_t now)
{
    (void)in;
    (void)now;
    ld_ping_rep_t rep = {0};
    rep.journal_seq = srv->state->next_seq - 1;
    rep.shard = strdup(srv->cfg.shard);
    if (!rep.shard)
        return LC_ERR_NOMEM;
    s_set_body(p, &ld_ping_rep_desc, &rep);
    return LC_OK;
}

static int s_db_read(ld_server_t *srv, ld_pending_reply_t *p, void *in, int64_t now)
{
    (void)now;
    int rc;
    if (!strcmp(p->mt->type, LD_TYPE_VERIFY)) {
        ld_verify_rep_t rep;
        rc = ld_verify(srv->db, &rep);
        if (rc == LC_OK)
            s_set_body(p, &ld_verify_rep_desc, &rep);
        else
            lc_codec_clear(&ld_verify_rep_desc, &rep);
    } else {
        ld_entries_rep_t rep;
        if (!strcmp(p->mt->type, LD_TYPE_JOURNAL_READ)) {
            ld_journal_req_t *req = in;
            rc = ld_store_read_journal(srv->db, req->after_seq, req->limit ? req->limit : 1000,
                                       &rep);
        } else {
            ld_lookup_req_t *req = in;
            rc = ld_store_read_transfers(srv->db, req->ids, req->nids, &rep);
        }
        if (rc == LC_OK)
            s_set_body(p, &ld_entries_rep_desc, &rep);
        else
            lc_codec_clear(&ld_entries_rep_desc, &rep);
    }
    if (rc != LC_OK)
        s_set_error(p, LC_E_UNAVAILABLE, "the journal could not be read");
    return LC_OK;
}

typedef int (*ld_handler_fn)(ld_server_t *, ld_pending_reply_t *, void *, int64_t);

static ld_handler_fn s_handler(const char *type)
{
    static const struct {
        const char *type;
        ld_handler_fn fn;
    } table[] = {
        {LD_TYPE_CREATE_ACCOUNTS, s_create_accounts},
        {LD_TYPE_CREATE_TRANSFERS, s_create_transfers},
        {LD_TYPE_SET_ACCOUNT_FLAGS, s_set_flags},
        {LD_TYPE_EXPIRE_LOTS, s_expire_lots},
        {LD_TYPE_LOOKUP_ACCOUNTS, s_lookup_accounts},
        {LD_TYPE_ACCOUNT_LOTS, s_account_lots},
        {LD_TYPE_TRIAL_BALANCE, s_trial_balance},
        {LD_TYPE_PING, s_ping},
        {LD_TYPE_LOOKUP_TRANSFERS, s_db_read},
        {LD_TYPE_JOURNAL_READ, s_db_read},
        {LD_TYPE_VERIFY, s_db_read},
    };
    for (size_t i = 0; i < sizeof table / sizeof table[0]; i++)
        if (!strcmp(table[i].type, type))
            return table[i].fn;
    return NULL;
}

/* Runs the handler of a decoded request. Returns LC_ERR_NOMEM only when the
 * whole batch must be abandoned. */
static int s_dispatch(ld_server_t *srv, ld_pending_reply_t *p, int64_t now)
{
    return s_handler(p->mt->type)(srv, p, &p->in, now);
}

/* Brings into memory every journaled transfer the batch's create_transfers name
 * (as id, pending_id or reverses) that is not resident (ld_state.h, "Which
 * transfers are in memory"), in one query, before anything is applied: the state
 * machine then sees each of them exactly as if it had always been loaded. */
static int s_fault_in(ld_server_t *srv, ld_pending_reply_t *batch, size_t n)
{
    size_t cap = 0;
    for (size_t i = 0; i < n; i++)
        if (batch[i].decoded && !strcmp(batch[i].mt->type, LD_TYPE_CREATE_TRANSFERS))
            cap += 3 * batch[i].in.transfers.ntransfers;
    if (cap == 0)
        return LC_OK;
    lc_id_t *ids = malloc(cap * sizeof *ids);
    if (!ids)
        return LC_ERR_NOMEM;
    size_t nids = 0;
    for (size_t i = 0; i < n; i++) {
        if (!batch[i].decoded || strcmp(batch[i].mt->type, LD_TYPE_CREATE_TRANSFERS))
            continue;
        const ld_create_transfers_req_t *r = &batch[i].in.transfers;
        for (size_t k = 0; k < r->ntransfers; k++) {
            const lc_id_t *named[] = {&r->transfers[k].id, &r->transfers[k].pending_id,
                                      &r->transfers[k].reverses};
            for (size_t j = 0; j < 3; j++)
                if (!lc_id_is_zero(named[j]) && !ld_state_xfer(srv->state, named[j]))
                    ids[nids++] = *named[j];
        }
    }
    int rc = nids ? ld_store_fetch_xfers(srv->db, srv->state, ids, nids) : LC_OK;
    if (rc != LC_OK)
        lc_error(NULL, "could not read transfers from the journal: %s (%s)", lc_strerror(rc),
                 lc_db_error(srv->db));
    free(ids);
    return rc;
}

/* ---- the loop ------------------------------------------------------------------- */

static void s_send(ld_server_t *srv, ld_pending_reply_t *p)
{
    size_t len;
    char *frame = p->err ? lc_reply_serialize_error(p->req.type, p->req.request_id, p->err,
                                                    p->msg, &len)
                         : lc_reply_serialize_ok(p->req.type, p->req.request_id, p->body, &len);
    if (frame)
        lc_bus_server_send(srv->rpc, &p->peer, frame, len);
    free(frame);
}

static void s_publish(ld_server_t *srv)
{
    const ld_batch_t *b = &srv->state->batch;
    for (size_t i = 0; i < b->nentries; i++) {
        json_t *j = lc_codec_encode(&ld_entry_desc, &b->entries[i]);
        char *text = j ? json_dumps(j, JSON_COMPACT) : NULL;
        if (text) {
            zmq_send(srv->pub, LD_JOURNAL_TOPIC, strlen(LD_JOURNAL_TOPIC),
                     ZMQ_SNDMORE | ZMQ_DONTWAIT);
            zmq_send(srv->pub, text, strlen(text), ZMQ_DONTWAIT);
        }
        free(text);
        json_decref(j);
    }
}

/* Receives up to batch_max requests; the first wait is up to wait_ms. */
static size_t s_drain(ld_server_t *srv, ld_pending_reply_t *batch, int wait_ms)
{
    size_t n = 0;
    while (n < (size_t)srv->cfg.batch_max) {
        ld_pending_reply_t *p = &batch[n];
        memset(p, 0, sizeof *p);
        char *data;
        size_t len;
        int rc = lc_bus_server_recv(srv->rpc, &p->peer, &data, &len, n == 0 ? wait_ms : 0);
        if (rc == LC_ERR_TIMEOUT)
            break;
        if (rc != LC_OK)
            continue;
        lc_codec_err_t cerr;
        if (lc_request_parse(data, len, &p->req, &cerr) != LC_OK) {
            s_set_error(p, cerr.code, cerr.message);
        } else if (!(p->mt = ld_msgtype_find(p->req.type))) {
            s_set_error(p, LC_E_UNKNOWN_TYPE, "the ledger does not serve this message type");
        } else if (p->req.deadline_ms && p->req.deadline_ms < lc_now_ms()) {
            s_set_error(p, LC_E_DEADLINE, "deadline passed before the ledger saw the request");
        } else if (lc_codec_decode(p->mt->request, p->req.body, &p->in, &cerr) != LC_OK) {
            s_set_error(p, cerr.code, cerr.message);
        } else {
            p->decoded = true;
            p->writer = s_is_writer(p->req.type);
            p->db_reader = s_is_db_reader(p->req.type);
        }
        free(data);
        n++;
    }
    return n;
}

static void s_release(ld_pending_reply_t *batch, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (batch[i].decoded)
            lc_codec_clear(batch[i].mt->request, &batch[i].in);
        json_decref(batch[i].body);
        lc_request_clear(&batch[i].req);
    }
}

int ld_server_run(ld_server_t *srv, volatile int *stop)
{
    ld_pending_reply_t *batch = calloc((size_t)srv->cfg.batch_max, sizeof *batch);
    if (!batch)
        return LC_ERR_NOMEM;
    int rc = LC_OK;
    while (!*stop) {
        size_t n = s_drain(srv, batch, LD_TICK_MS);
        int64_t now = lc_now_us();
        /* A journal that cannot be read is handled like a refused COMMIT: nothing
         * of the batch applies, every writer is told to retry. */
        bool committed = s_fault_in(srv, batch, n) == LC_OK;
        ld_state_begin_batch(srv->state);
        int arc = ld_state_expire_holds(srv->state, now) < 0 ? LC_ERR_NOMEM : LC_OK;
        for (size_t i = 0; committed && arc == LC_OK && i < n; i++)
            if (batch[i].decoded && !batch[i].err && !batch[i].db_reader)
                arc = s_dispatch(srv, &batch[i], now);
        if (committed && arc == LC_OK && ld_state_batch_dirty(srv->state))
            committed = ld_store_write_batch(srv->db, srv->state) == LC_OK;
        if (arc != LC_OK || !committed) {
            if (arc == LC_OK) /* a refused COMMIT: roll memory back to the database */
                ld_state_abort_batch(srv->state);
            for (size_t i = 0; i < n; i++) {
                if (batch[i].err || !batch[i].mt || batch[i].db_reader)
                    continue;
                json_decref(batch[i].body);
                batch[i].body = NULL;
                s_set_error(&batch[i], LC_E_UNAVAILABLE,
                            "the ledger could not commit; retry with the same ids");
            }
            if (arc != LC_OK) {
                /* Out of memory while applying: the undo log itself may be incomplete,
                 * so memory is not trusted. Crash-only recovery: exit, and the
                 * supervisor restarts the ledger from what PostgreSQL holds. */
                lc_error(NULL, "out of memory while applying a batch; exiting to reload");
                rc = LC_ERR_NOMEM;
            } else if (!lc_db_alive(srv->db)) {
                lc_error(NULL, "database connection lost; exiting so the supervisor "
                               "restarts the ledger from what PostgreSQL holds");
                rc = LC_ERR_UNAVAILABLE;
            }
        } else {
            if (srv->state->batch.nentries)
                srv->batches++;
            s_publish(srv);
            ld_state_commit_batch(srv->state);
        }
        for (size_t i = 0; i < n; i++)
            if (batch[i].db_reader && batch[i].decoded && !batch[i].err && rc == LC_OK)
                s_dispatch(srv, &batch[i], now);
        for (size_t i = 0; i < n; i++)
            s_send(srv, &batch[i]);
        srv->requests += n;
        s_release(batch, n);
        if (rc != LC_OK)
            break;
    }
    free(batch);
    return rc;
}

int ld_server_open(ld_server_t *srv, const ld_server_config_t *cfg)
{
    memset(srv, 0, sizeof *srv);
    srv->cfg = *cfg;
    char *err = NULL;
    srv->db = lc_db_connect(cfg->conninfo, &err);
    if (!srv->db) {
        lc_error(NULL, "cannot connect to PostgreSQL: %s", err ? err : "?");
        free(err);
        return LC_ERR_UNAVAILABLE;
    }
    const char *why;
    if (lc_db_check_durability(srv->db, &why) != LC_OK) {
        lc_error(NULL, "refusing to run: %s", why);
        return LC_ERR_CONFLICT;
    }
    bool got = false;
    int64_t key = LD_ADVISORY_LOCK_BASE * 1000 + strtoll(cfg->shard, NULL, 10);
    if (lc_db_try_advisory_lock(srv->db, key, &got) != LC_OK || !got) {
        lc_error(NULL, "another ledger writer holds shard %s; refusing to start a second one",
                 cfg->shard);
        return LC_ERR_CONFLICT;
    }
    srv->state = ld_state_new();
    if (!srv->state)
        return LC_ERR_NOMEM;
    srv->state->recent_max = cfg->resident_transfers;
    int64_t t0 = lc_mono_ms();
    int rc = ld_store_load(srv->db, srv->state);
    if (rc != LC_OK) {
        lc_error(NULL, "cannot load the ledger state: %s (%s)", lc_strerror(rc),
                 lc_db_error(srv->db));
        return rc;
    }
    lc_info(NULL, "loaded %zu accounts, %zu transfers, %zu lots up to journal seq %lld in %lld ms",
            srv->state->accounts.count, srv->state->xfers.count, srv->state->lots.count,
            (long long)(srv->state->next_seq - 1), (long long)(lc_mono_ms() - t0));
    srv->zctx = zmq_ctx_new();
    if (!srv->zctx)
        return LC_ERR_IO;
    srv->rpc = lc_bus_server_new(srv->zctx, cfg->bind, &err);
    if (!srv->rpc) {
        lc_error(NULL, "%s", err ? err : "cannot bind");
        free(err);
        return LC_ERR_IO;
    }
    srv->pub = lc_bus_pub_new(srv->zctx, cfg->publish, 1000000, &err);
    if (!srv->pub) {
        lc_error(NULL, "journal stream: %s", err ? err : "cannot bind");
        free(err);
        return LC_ERR_IO;
    }
    return LC_OK;
}

void ld_server_close(ld_server_t *srv)
{
    lc_bus_server_destroy(&srv->rpc);
    if (srv->pub)
        zmq_close(srv->pub);
    srv->pub = NULL;
    if (srv->zctx)
        zmq_ctx_term(srv->zctx);
    srv->zctx = NULL;
    ld_state_destroy(&srv->state);
    lc_db_destroy(&srv->db);
}
