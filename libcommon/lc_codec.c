/*
 * lc_codec.c: the table-driven JSON codec (see lc_codec.h for the contract).
 *
 * Decoding walks the JSON object's members (so an unknown member is caught) and
 * then the table (so a missing required field is caught). On any failure the
 * partly filled struct is cleared before returning, so callers never see half a
 * message.
 */
#include "lc_codec.h"
#include "lc_crypto.h"
#include "lc_err.h"
#include "lc_id.h"
#include "lc_time.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *lc_name_of(const lc_name_t *names, uint32_t value)
{
    for (const lc_name_t *n = names; n && n->name; n++)
        if (n->value == value)
            return n->name;
    return NULL;
}

int lc_value_of(const lc_name_t *names, const char *name, uint32_t *value)
{
    for (const lc_name_t *n = names; n && n->name; n++)
        if (strcmp(n->name, name) == 0) {
            *value = n->value;
            return LC_OK;
        }
    return LC_ERR_NOT_FOUND;
}

static int s_fail(lc_codec_err_t *err, const char *code, const char *path, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int s_fail(lc_codec_err_t *err, const char *code, const char *path, const char *fmt, ...)
{
    if (err) {
        err->code = code;
        snprintf(err->path, sizeof err->path, "%s", path);
        va_list ap;
        va_start(ap, fmt);
        char msg[200];
        vsnprintf(msg, sizeof msg, fmt, ap);
        va_end(ap);
        snprintf(err->message, sizeof err->message, "%s: %s", path, msg);
    }
    return LC_ERR_INVALID;
}

/* The text of a JSON string that holds no NUL (a C string would silently end at
 * it, so "red\u0000junk" would read as "red"); NULL for anything else. */
static const char *s_text(const json_t *v)
{
    if (!json_is_string(v))
        return NULL;
    const char *s = json_string_value(v);
    return memchr(s, '\0', json_string_length(v)) ? NULL : s;
}

static const lc_field_t *s_find_field(const lc_msgdesc_t *desc, const char *name)
{
    for (size_t i = 0; i < desc->nfields; i++)
        if (strcmp(desc->fields[i].name, name) == 0)
            return &desc->fields[i];
    return NULL;
}

static void s_join(char *out, size_t outlen, const char *prefix, const char *name)
{
    if (prefix[0])
        snprintf(out, outlen, "%s.%s", prefix, name);
    else
        snprintf(out, outlen, "%s", name);
}

static int s_decode_obj(const lc_msgdesc_t *desc, const json_t *obj, void *out,
                        lc_codec_err_t *err, const char *path);

static int s_decode_int(const lc_field_t *f, const json_t *v, int64_t *out, lc_codec_err_t *err,
                        const char *path)
{
    if (!json_is_integer(v))
        return s_fail(err, "invalid_field", path, "expected an integer");
    json_int_t x = json_integer_value(v);
    if (x < f->min || x > f->max)
        return s_fail(err, "invalid_field", path, "must be between %lld and %lld",
                      (long long)f->min, (long long)f->max);
    *out = x;
    return LC_OK;
}

static int s_decode_field(const lc_field_t *f, const json_t *v, char *base, lc_codec_err_t *err,
                          const char *path)
{
    void *p = base + f->offset;
    switch (f->type) {
    case LC_FT_BOOL:
        if (!json_is_boolean(v))
            return s_fail(err, "invalid_field", path, "expected true or false");
        *(bool *)p = json_is_true(v);
        return LC_OK;
    case LC_FT_I64: {
        int64_t x;
        int rc = s_decode_int(f, v, &x, err, path);
        if (rc == LC_OK)
            *(int64_t *)p = x;
        return rc;
    }
    case LC_FT_U32: {
        int64_t x;
        int rc = s_decode_int(f, v, &x, err, path);
        if (rc == LC_OK)
            *(uint32_t *)p = (uint32_t)x;
        return rc;
    }
    case LC_FT_STR: {
        if (!json_is_string(v))
            return s_fail(err, "invalid_field", path, "expected a string");
        size_t len = json_string_length(v);
        const char *s = json_string_value(v);
        if ((int64_t)len > f->max)
            return s_fail(err, "invalid_field", path, "longer than %lld bytes", (long long)f->max);
        if ((int64_t)len < f->min)
            return s_fail(err, "invalid_field", path, "shorter than %lld bytes", (long long)f->min);
        if (memchr(s, '\0', len))
            return s_fail(err, "invalid_field", path, "contains a NUL character");
        char *copy = strndup(s, len);
        if (!copy)
            return LC_ERR_NOMEM;
        *(char **)p = copy;
        return LC_OK;
    }
    case LC_FT_ID:
        if (!s_text(v) || lc_id_parse(s_text(v), (lc_id_t *)p) != LC_OK)
            return s_fail(err, "invalid_field", path, "expected a UUID");
        return LC_OK;
    case LC_FT_TIME:
        if (!s_text(v) || lc_time_parse(s_text(v), (int64_t *)p) != LC_OK)
            return s_fail(err, "invalid_field", path, "expected an RFC 3339 time");
        return LC_OK;
    case LC_FT_HASH:
        if (!json_is_string(v) || json_string_length(v) != 2 * LC_SHA256_LEN ||
            lc_hex_decode(json_string_value(v), (uint8_t *)p, LC_SHA256_LEN) != LC_OK)
            return s_fail(err, "invalid_field", path, "expected 64 hex digits");
        return LC_OK;
    case LC_FT_ENUM: {
        uint32_t x;
        if (!s_text(v) || lc_value_of(f->names, s_text(v), &x) != LC_OK)
            return s_fail(err, "invalid_field", path, "unknown value");
        *(int *)p = (int)x;
        return LC_OK;
    }
    case LC_FT_FLAGS: {
        if (!json_is_array(v))
            return s_fail(err, "invalid_field", path, "expected an array of flag names");
        uint32_t set = 0, bit;
        size_t i;
        json_t *e;
        json_array_foreach(v, i, e) {
            if (!s_text(e) || lc_value_of(f->names, s_text(e), &bit) != LC_OK)
                return s_fail(err, "invalid_field", path, "unknown flag at index %zu", i);
            if (set & bit)
                return s_fail(err, "invalid_field", path, "flag repeated at index %zu", i);
            set |= bit;
        }
        *(uint32_t *)p = set;
        return LC_OK;
    }
    case LC_FT_OBJ:
        return s_decode_obj(f->sub, v, p, err, path);
    case LC_FT_IDS: {
        if (!json_is_array(v))
            return s_fail(err, "invalid_field", path, "expected an array of UUIDs");
        size_t n = json_array_size(v);
        if ((int64_t)n > f->max || (int64_t)n < f->min)
            return s_fail(err, "invalid_field", path, "must have %lld to %lld elements",
                          (long long)f->min, (long long)f->max);
        lc_id_t *ids = n ? calloc(n, sizeof *ids) : NULL;
        if (n && !ids)
            return LC_ERR_NOMEM;
        *(lc_id_t **)p = ids;
        *(size_t *)(base + f->count_offset) = n;
        for (size_t i = 0; i < n; i++) {
            json_t *e = json_array_get(v, i);
            if (!s_text(e) || lc_id_parse(s_text(e), &ids[i]) != LC_OK)
                return s_fail(err, "invalid_field", path, "element %zu is not a UUID", i);
        }
        return LC_OK;
    }
    case LC_FT_STRS: {
        if (!json_is_array(v))
            return s_fail(err, "invalid_field", path, "expected an array of strings");
        size_t n = json_array_size(v);
        if ((int64_t)n > f->max || (int64_t)n < f->min)
            return s_fail(err, "invalid_field", path, "must have %lld to %lld elements",
                          (long long)f->min, (long long)f->max);
        char **strs = n ? calloc(n, sizeof *strs) : NULL;
        if (n && !strs)
            return LC_ERR_NOMEM;
        *(char ***)p = strs;
        *(size_t *)(base + f->count_offset) = n;
        for (size_t i = 0; i < n; i++) {
            json_t *e = json_array_get(v, i);
            if (!json_is_string(e))
                return s_fail(err, "invalid_field", path, "element %zu is not a string", i);
            size_t len = json_string_length(e);
            if (len == 0 || (int64_t)len > f->elem_max)
                return s_fail(err, "invalid_field", path, "element %zu must have 1 to %lld bytes",
                              i, (long long)f->elem_max);
            if (memchr(json_string_value(e), '\0', len))
                return s_fail(err, "invalid_field", path, "element %zu contains a NUL character",
                              i);
            if (!(strs[i] = strndup(json_string_value(e), len)))
                return LC_ERR_NOMEM;
        }
        return LC_OK;
    }
    case LC_FT_ARRAY: {
        if (!json_is_array(v))
            return s_fail(err, "invalid_field", path, "expected an array");
        size_t n = json_array_size(v);
        if ((int64_t)n > f->max || (int64_t)n < f->min)
            return s_fail(err, "invalid_field", path, "must have %lld to %lld elements",
                          (long long)f->min, (long long)f->max);
        char *items = NULL;
        if (n > 0) {
            items = calloc(n, f->sub->size);
            if (!items)
                return LC_ERR_NOMEM;
        }
        /* Publish the array first so that lc_codec_clear frees it on failure. */
        *(void **)p = items;
        *(size_t *)(base + f->count_offset) = n;
        for (size_t i = 0; i < n; i++) {
            char ipath[128];
            snprintf(ipath, sizeof ipath, "%s[%zu]", path, i);
            int rc = s_decode_obj(f->sub, json_array_get(v, i), items + i * f->sub->size, err,
                                  ipath);
            if (rc != LC_OK)
                return rc;
        }
        return LC_OK;
    }
    }
    return s_fail(err, "invalid_field", path, "unsupported field type");
}

static int s_decode_obj(const lc_msgdesc_t *desc, const json_t *obj, void *out,
                        lc_codec_err_t *err, const char *path)
{
    if (!json_is_object(obj))
        return s_fail(err, "invalid_field", path[0] ? path : desc->name, "expected an object");
    const char *key;
    json_t *v;
    char fpath[128];
    json_object_foreach((json_t *)obj, key, v) {
        const lc_field_t *f = s_find_field(desc, key);
        s_join(fpath, sizeof fpath, path, key);
        if (!f)
            return s_fail(err, "unknown_field", fpath, "unknown field");
        if (json_is_null(v)) {
            if (f->flags & LC_FF_REQUIRED)
                return s_fail(err, "missing_field", fpath, "required, may not be null");
            continue; /* null = absent for optional fields */
        }
        int rc = s_decode_field(f, v, out, err, fpath);
        if (rc != LC_OK)
            return rc;
    }
    for (size_t i = 0; i < desc->nfields; i++) {
        const lc_field_t *f = &desc->fields[i];
        if ((f->flags & LC_FF_REQUIRED) && !json_object_get(obj, f->name)) {
            s_join(fpath, sizeof fpath, path, f->name);
            return s_fail(err, "missing_field", fpath, "required");
        }
    }
    return LC_OK;
}

int lc_codec_decode(const lc_msgdesc_t *desc, const json_t *obj, void *out, lc_codec_err_t *err)
{
    memset(out, 0, desc->size);
    int rc = s_decode_obj(desc, obj, out, err, "");
    if (rc != LC_OK) {
        lc_codec_clear(desc, out);
        memset(out, 0, desc->size); /* scalars decoded before the failure, too */
    }
    return rc;
}

void lc_codec_clear(const lc_msgdesc_t *desc, void *obj)
{
    char *base = obj;
    for (size_t i = 0; i < desc->nfields; i++) {
        const lc_field_t *f = &desc->fields[i];
        void *p = base + f->offset;
        if (f->type == LC_FT_STR) {
            free(*(char **)p);
            *(char **)p = NULL;
        } else if (f->type == LC_FT_OBJ) {
            lc_codec_clear(f->sub, p);
        } else if (f->type == LC_FT_IDS) {
            free(*(lc_id_t **)p);
            *(lc_id_t **)p = NULL;
            *(size_t *)(base + f->count_offset) = 0;
        } else if (f->type == LC_FT_STRS) {
            char **strs = *(char ***)p;
            size_t n = *(size_t *)(base + f->count_offset);
            for (size_t k = 0; strs && k < n; k++)
                free(strs[k]);
            free(strs);
            *(char ***)p = NULL;
            *(size_t *)(base + f->count_offset) = 0;
        } else if (f->type == LC_FT_ARRAY) {
            char *items = *(char **)p;
            size_t n = *(size_t *)(base + f->count_offset);
            for (size_t k = 0; items && k < n; k++)
                lc_codec_clear(f->sub, items + k * f->sub->size);
            free(items);
            *(void **)p = NULL;
            *(size_t *)(base + f->count_offset) = 0;
        }
    }
}

/* True when a field holds its zero value (so an optional field is left out). */
static bool s_is_zero(const lc_field_t *f, const char *base)
{
    const void *p = base + f->offset;
    switch (f->type) {
    case LC_FT_BOOL: return !*(const bool *)p;
    case LC_FT_I64:
    case LC_FT_TIME: return *(const int64_t *)p == 0;
    case LC_FT_U32:
    case LC_FT_FLAGS: return *(const uint32_t *)p == 0;
    case LC_FT_STR: return *(char *const *)p == NULL;
    case LC_FT_ID: return lc_id_is_zero(p);
    case LC_FT_HASH: {
        static const uint8_t zero[LC_SHA256_LEN];
        return memcmp(p, zero, LC_SHA256_LEN) == 0;
    }
    case LC_FT_ENUM: return *(const int *)p == 0;
    case LC_FT_OBJ: return false;
    case LC_FT_ARRAY:
    case LC_FT_STRS:
    case LC_FT_IDS: return *(const size_t *)(base + f->count_offset) == 0;
    }
    return false;
}

static json_t *s_encode_field(const lc_field_t *f, const char *base)
{
    const void *p = base + f->offset;
    switch (f->type) {
    case LC_FT_BOOL: return json_boolean(*(const bool *)p);
    case LC_FT_I64: return json_integer(*(const int64_t *)p);
    case LC_FT_U32: return json_integer(*(const uint32_t *)p);
    case LC_FT_STR: {
        const char *s = *(char *const *)p;
        return json_string(s ? s : "");
    }
    case LC_FT_ID: {
        char text[LC_ID_STRLEN + 1];
        lc_id_format(p, text);
        return json_string(text);
    }
    case LC_FT_TIME: {
        char text[LC_RFC3339_MAX];
        if (lc_time_format(*(const int64_t *)p, text) != LC_OK)
            return NULL;
        return json_string(text);
    }
    case LC_FT_HASH: {
        char hex[2 * LC_SHA256_LEN + 1];
        lc_hex_encode(p, LC_SHA256_LEN, hex);
        return json_string(hex);
    }
    case LC_FT_ENUM: {
        const char *name = lc_name_of(f->names, (uint32_t) * (const int *)p);
        return name ? json_string(name) : NULL;
    }
    case LC_FT_FLAGS: {
        uint32_t set = *(const uint32_t *)p, named = 0;
        json_t *arr = json_array();
        for (const lc_name_t *n = f->names; arr && n->name; n++) {
            named |= n->value;
            if ((set & n->value) && json_array_append_new(arr, json_string(n->name)) != 0) {
                json_decref(arr);
                return NULL;
            }
        }
        if (set & ~named) { /* a bit without a name cannot be represented */
            json_decref(arr);
            return NULL;
        }
        return arr;
    }
    case LC_FT_OBJ: return lc_codec_encode(f->sub, p);
    case LC_FT_IDS: {
        const lc_id_t *ids = *(lc_id_t *const *)p;
        size_t n = *(const size_t *)(base + f->count_offset);
        json_t *arr = json_array();
        char text[LC_ID_STRLEN + 1];
        for (size_t i = 0; arr && i < n; i++) {
            lc_id_format(&ids[i], text);
            if (json_array_append_new(arr, json_string(text)) != 0) {
                json_decref(arr);
                return NULL;
            }
        }
        return arr;
    }
    case LC_FT_STRS: {
        char *const *strs = *(char **const *)p;
        size_t n = *(const size_t *)(base + f->count_offset);
        json_t *arr = json_array();
        for (size_t i = 0; arr && i < n; i++)
            if (json_array_append_new(arr, json_string(strs[i] ? strs[i] : "")) != 0) {
                json_decref(arr);
                return NULL;
            }
        return arr;
    }
    case LC_FT_ARRAY: {
        const char *items = *(char *const *)p;
        size_t n = *(const size_t *)(base + f->count_offset);
        json_t *arr = json_array();
        for (size_t i = 0; arr && i < n; i++) {
            json_t *e = lc_codec_encode(f->sub, items + i * f->sub->size);
            if (!e || json_array_append_new(arr, e) != 0) {
                json_decref(arr);
                return NULL;
            }
        }
        return arr;
    }
    }
    return NULL;
}

json_t *lc_codec_encode(const lc_msgdesc_t *desc, const void *in)
{
    const char *base = in;
    json_t *obj = json_object();
    if (!obj)
        return NULL;
    for (size_t i = 0; i < desc->nfields; i++) {
        const lc_field_t *f = &desc->fields[i];
        if (!(f->flags & (LC_FF_REQUIRED | LC_FF_ALWAYS)) && s_is_zero(f, base))
            continue;
        json_t *v = s_encode_field(f, base);
        if (!v || json_object_set_new(obj, f->name, v) != 0) {
            json_decref(obj);
            return NULL;
        }
    }
    return obj;
}
