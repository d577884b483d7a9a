/*
 * gw_csv.c: CSV answers for list routes (gw_csv.h).
 */
#include "gw_csv.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* ---- Accept ------------------------------------------------------------------------ */

/* The quality of one media range "type/sub; a=b; q=0.5" (1 when no q; 0 when q is
 * not a number in [0, 1]); *type gets the trimmed media type. */
static double s_range(const char *range, size_t len, char *type, size_t typelen)
{
    while (len && isspace((unsigned char)*range))
        range++, len--;
    size_t tlen = 0;
    while (tlen < len && range[tlen] != ';')
        tlen++;
    size_t end = tlen;
    while (end && isspace((unsigned char)range[end - 1]))
        end--;
    snprintf(type, typelen, "%.*s", (int)end, range);
    double q = 1;
    for (size_t i = tlen; i < len; i++) {
        if (range[i] != ';')
            continue;
        size_t j = i + 1;
        while (j < len && isspace((unsigned char)range[j]))
            j++;
        if (j + 2 <= len && (range[j] == 'q' || range[j] == 'Q') && range[j + 1] == '=') {
            char num[16];
            size_t n = 0;
            for (j += 2; j < len && n + 1 < sizeof num && range[j] != ';'; j++)
                num[n++] = range[j];
            num[n] = '\0';
            char *rest;
            q = strtod(num, &rest);
            while (*rest && isspace((unsigned char)*rest))
                rest++;
            if (rest == num || *rest || q < 0 || q > 1)
                q = 0;
        }
    }
    return q;
}

bool gw_csv_wanted(const char *accept)
{
    if (!accept)
        return false;
    double csv = 0, json = 0;
    const char *p = accept;
    while (*p) {
        size_t len = strcspn(p, ",");
        char type[64];
        double q = s_range(p, len, type, sizeof type);
        if (!strcasecmp(type, "text/csv")) {
            if (q > csv)
                csv = q;
        } else if (!strcasecmp(type, "application/json") || !strcasecmp(type, "application/*") ||
                   !strcmp(type, "*/*")) {
            if (q > json)
                json = q;
        }
        p += len;
        if (*p == ',')
            p++;
    }
    return csv > 0 && csv > json;
}

/* ---- rendering --------------------------------------------------------------------- */

/* Flattens obj into flat ("parent.child" keys, scalar values, in obj's order).
 * Returns 0, or -1 with msg filled. */
static int s_flatten(const json_t *obj, const char *prefix, json_t *flat, char *msg,
                     size_t msglen)
{
    const char *key;
    json_t *value;
    json_object_foreach((json_t *)obj, key, value) {
        char name[256];
        int n = snprintf(name, sizeof name, "%s%s%s", prefix, *prefix ? "." : "", key);
        if (n < 0 || (size_t)n >= sizeof name) {
            snprintf(msg, msglen, "the column name %s.%s is too long", prefix, key);
            return -1;
        }
        if (json_is_object(value)) {
            if (s_flatten(value, name, flat, msg, msglen) != 0)
                return -1;
            continue;
        }
        if (json_is_array(value)) {
            snprintf(msg, msglen, "%s is an array: CSV cannot hold it in one cell", name);
            return -1;
        }
        if (json_object_get(flat, name)) {
            snprintf(msg, msglen, "two fields flatten to the column %s", name);
            return -1;
        }
        if (json_object_set(flat, name, value) != 0) {
            snprintf(msg, msglen, "out of memory");
            return -1;
        }
    }
    return 0;
}

static ssize_t s_index(const json_t *columns, const char *name)
{
    for (size_t i = 0; i < json_array_size(columns); i++)
        if (!strcmp(json_string_value(json_array_get(columns, i)), name))
            return (ssize_t)i;
    return -1;
}

/* Adds the keys of flat that columns lacks, each right after the key before it in
 * flat (at the front when it is flat's first key). */
static int s_merge(json_t *columns, const json_t *flat)
{
    ssize_t prev = -1;
    const char *key;
    json_t *value;
    json_object_foreach((json_t *)flat, key, value) {
        ssize_t at = s_index(columns, key);
        if (at < 0) {
            at = prev + 1;
            if (json_array_insert_new(columns, (size_t)at, json_string(key)) != 0)
                return -1;
        }
        prev = at;
    }
    return 0;
}

/* Writes one cell, quoted when RFC 4180 requires it. */
static void s_cell(FILE *f, const char *s)
{
    if (!strpbrk(s, ",\"\r\n")) {
        fputs(s, f);
        return;
    }
    fputc('"', f);
    for (; *s; s++) {
        if (*s == '"')
            fputc('"', f);
        fputc(*s, f);
    }
    fputc('"', f);
}

static void s_value(FILE *f, const json_t *v)
{
    char num[32];
    switch (json_typeof(v)) {
    case JSON_STRING:
        s_cell(f, json_string_value(v));
        break;
    case JSON_INTEGER:
        snprintf(num, sizeof num, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
        fputs(num, f);
        break;
    case JSON_REAL:
        snprintf(num, sizeof num, "%.17g", json_real_value(v));
        fputs(num, f);
        break;
    case JSON_TRUE:
        fputs("true", f);
        break;
    case JSON_FALSE:
        fputs("false", f);
        break;
    default: /* null: an empty cell (objects and arrays never get here) */
        break;
    }
}

int gw_csv_render(const json_t *reply, const char *member, char **out, char *msg, size_t msglen)
{
    *out = NULL;
    const json_t *rows = json_object_get(reply, member);
    if (!json_is_array(rows)) {
        snprintf(msg, msglen, "the reply has no array %s", member);
        return -1;
    }
    size_t n = json_array_size(rows);
    json_t *flats = json_array(), *columns = json_array();
    int rc = flats && columns ? 0 : -1;
    if (rc != 0)
        snprintf(msg, msglen, "out of memory");
    for (size_t i = 0; rc == 0 && i < n; i++) {
        const json_t *row = json_array_get(rows, i);
        json_t *flat = json_object();
        if (!json_is_object(row)) {
            snprintf(msg, msglen, "%s[%zu] is not an object", member, i);
            rc = -1;
        } else if (!flat || s_flatten(row, "", flat, msg, msglen) != 0) {
            if (!flat)
                snprintf(msg, msglen, "out of memory");
            rc = -1;
        } else if (s_merge(columns, flat) != 0 || json_array_append(flats, flat) != 0) {
            snprintf(msg, msglen, "out of memory");
            rc = -1;
        }
        json_decref(flat);
    }
    char *buf = NULL;
    size_t len = 0;
    FILE *f = rc == 0 ? open_memstream(&buf, &len) : NULL;
    if (rc == 0 && !f) {
        snprintf(msg, msglen, "out of memory");
        rc = -1;
    }
    if (f) {
        size_t ncol = json_array_size(columns);
        for (size_t c = 0; c < ncol; c++) {
            if (c)
                fputc(',', f);
            s_cell(f, json_string_value(json_array_get(columns, c)));
        }
        if (ncol)
            fputs("\r\n", f);
        for (size_t i = 0; i < n; i++) {
            const json_t *flat = json_array_get(flats, i);
            for (size_t c = 0; c < ncol; c++) {
                if (c)
                    fputc(',', f);
                const json_t *v =
                    json_object_get(flat, json_string_value(json_array_get(columns, c)));
                if (v)
                    s_value(f, v);
            }
            fputs("\r\n", f);
        }
        if (fclose(f) != 0 || !buf) {
            free(buf);
            buf = NULL;
            snprintf(msg, msglen, "out of memory");
            rc = -1;
        }
    }
    json_decref(flats);
    json_decref(columns);
    *out = buf;
    return rc;
}
