/*
 * gw_pool.c: backends lent to requests (gw_pool.h).
 */
#include "gw_pool.h"
#include "lc_err.h"
#include "lc_log.h"

#include <pthread.h>
#include <stdlib.h>

const char *const gw_service_names[GW_SVC_COUNT] = {"members", "settlement", "donation",
                                                            "ledger"};

struct gw_pool {
    gw_t *gw;
    pthread_mutex_t lock;
    pthread_cond_t freed;
    gw_backend_t *all;   /* n backends */
    gw_backend_t **idle; /* a stack of the free ones */
    int n, nidle;
};

gw_pool_t *gw_pool_new(gw_t *gw, int n)
{
    gw_pool_t *p = calloc(1, sizeof *p);
    if (!p)
        return NULL;
    p->gw = gw;
    p->n = n;
    p->all = calloc((size_t)n, sizeof *p->all);
    p->idle = calloc((size_t)n, sizeof *p->idle);
    if (!p->all || !p->idle) {
        free(p->all);
        free(p->idle);
        free(p);
        return NULL;
    }
    pthread_mutex_init(&p->lock, NULL);
    pthread_cond_init(&p->freed, NULL);
    const char *endpoints[GW_SVC_COUNT] = {gw->cfg.members, gw->cfg.settlement,
                                             gw->cfg.donation, gw->cfg.ledger};
    for (int i = 0; i < n; i++) {
        for (int s = 0; s < GW_SVC_COUNT; s++) {
            p->all[i].bus[s] = lc_bus_client_new(gw->zctx, endpoints[s]);
            if (!p->all[i].bus[s]) {
                p->n = i + 1;
                gw_pool_destroy(&p);
                return NULL;
            }
        }
        p->idle[p->nidle++] = &p->all[i];
    }
    return p;
}

void gw_pool_destroy(gw_pool_t **pool_p)
{
    gw_pool_t *p = *pool_p;
    if (!p)
        return;
    for (int i = 0; i < p->n; i++) {
        lc_db_destroy(&p->all[i].db);
        for (int s = 0; s < GW_SVC_COUNT; s++)
            lc_bus_client_destroy(&p->all[i].bus[s]);
    }
    pthread_mutex_destroy(&p->lock);
    pthread_cond_destroy(&p->freed);
    free(p->all);
    free(p->idle);
    free(p);
    *pool_p = NULL;
}

gw_backend_t *gw_pool_get(gw_pool_t *p)
{
    pthread_mutex_lock(&p->lock);
    while (p->nidle == 0)
        pthread_cond_wait(&p->freed, &p->lock);
    gw_backend_t *b = p->idle[--p->nidle];
    pthread_mutex_unlock(&p->lock);
    if (b->db && !lc_db_alive(b->db))
        lc_db_destroy(&b->db);
    if (!b->db) {
        char *err = NULL;
        b->db = lc_db_connect(p->gw->cfg.db, &err);
        if (!b->db)
            lc_warn(NULL, "database unavailable: %s", err ? err : "?");
        free(err);
    }
    return b;
}

void gw_pool_put(gw_pool_t *p, gw_backend_t *b)
{
    if (b->db)
        lc_db_rollback(b->db); /* nothing a request left open survives it */
    pthread_mutex_lock(&p->lock);
    p->idle[p->nidle++] = b;
    pthread_cond_signal(&p->freed);
    pthread_mutex_unlock(&p->lock);
}
