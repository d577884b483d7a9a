/*
 * lc_dbparams.c: typed values into and out of lc_db statements (see lc_dbparams.h).
 */
#include "lc_dbparams.h"
#include "lc_err.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Claims the next slot; -1 (and the sticky mark) when the list is full. */
static int s_slot(lc_dbp_t *p)
{
    if (p->n >= LC_DBP_MAX) {
        p->overflow = true;
        return -1;
    }
    return p->n++;
}

int lc_dbp_id(lc_dbp_t *p, const lc_id_t *id)
{
    if (!id || lc_id_is_zero(id))
        return lc_dbp_str(p, NULL);
    int i = s_slot(p);
    if (i < 0)
        return LC_ERR_OVERFLOW;
    lc_id_format(id, p->text[i]);
    p->v[i] = p->text[i];
    return LC_OK;
}

int lc_dbp_i64(lc_dbp_t *p, int64_t x)
{
    int i = s_slot(p);
    if (i < 0)
        return LC_ERR_OVERFLOW;
    snprintf(p->text[i], sizeof p->text[i], "%" PRId64, x);
    p->v[i] = p->text[i];
    return LC_OK;
}

int lc_dbp_bool(lc_dbp_t *p, bool b)
{
    return lc_dbp_str(p, b ? "true" : "false");
}

int lc_dbp_str(lc_dbp_t *p, const char *s)
{
    int i = s_slot(p);
    if (i < 0)
        return LC_ERR_OVERFLOW;
    p->v[i] = s;
    return LC_OK;
}

int lc_dbp_exec(lc_db_t *db, const char *sql, const lc_dbp_t *p, lc_dbres_t **out)
{
    if (p && p->overflow) {
        if (out)
            *out = NULL;
        return LC_ERR_OVERFLOW;
    }
    return lc_db_exec(db, sql, p ? p->n : 0, p ? p->v : NULL, out);
}

/* ---- cells ------------------------------------------------------------------------- */

int64_t lc_dbcell_i64(const lc_dbres_t *res, int row, int col)
{
    int64_t x;
    return lc_dbres_i64(res, row, col, &x) == LC_OK ? x : 0;
}

lc_id_t lc_dbcell_id(const lc_dbres_t *res, int row, int col)
{
    lc_id_t id;
    if (lc_dbres_id(res, row, col, &id) != LC_OK)
        memset(&id, 0, sizeof id);
    return id;
}

bool lc_dbcell_bool(const lc_dbres_t *res, int row, int col)
{
    const char *v = lc_dbres_get(res, row, col);
    return v && v[0] == 't';
}

char *lc_dbcell_dup(const lc_dbres_t *res, int row, int col, bool *nomem)
{
    const char *v = lc_dbres_get(res, row, col);
    if (!v)
        return NULL;
    char *d = strdup(v);
    if (!d)
        *nomem = true;
    return d;
}

int lc_dbres_one(int rc, lc_dbres_t **res)
{
    if (rc == LC_OK && lc_dbres_rows(*res) == 0) {
        lc_dbres_free(res);
        return LC_ERR_NOT_FOUND;
    }
    return rc;
}
