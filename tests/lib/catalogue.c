/*
 * catalogue.c: the catalogue JSON of proto/<service>.json from codec descriptor
 * tables (see catalogue.h). Failures here fail the calling test through cmocka.
 */
#include "catalogue.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <cmocka.h>

/* Fails the current test with a formatted message when cond is false. */
#define CHECK(cond, ...)                                                                           \
    do {                                                                                           \
        if (!(cond))                                                                               \
            fail_msg(__VA_ARGS__);                                                                 \
    } while (0)

/* The catalogue's name of a field type; NULL for one the format does not know, so
 * that a type added to lc_codec.h without a name here fails the tests. */
static const char *s_ftype_name(lc_ftype_t t)
{
    switch (t) {
    case LC_FT_BOOL:
        return "bool";
    case LC_FT_I64:
        return "i64";
    case LC_FT_U32:
        return "u32";
    case LC_FT_STR:
        return "str";
    case LC_FT_ID:
        return "id";
    case LC_FT_TIME:
        return "time";
    case LC_FT_HASH:
        return "hash";
    case LC_FT_ENUM:
        return "enum";
    case LC_FT_FLAGS:
        return "flags";
    case LC_FT_OBJ:
        return "obj";
    case LC_FT_ARRAY:
        return "array";
    case LC_FT_IDS:
        return "ids";
    case LC_FT_STRS:
        return "strs";
    }
    return NULL;
}

static const char *s_enum_name(const tc_catalogue_t *c, const lc_name_t *table)
{
    for (size_t i = 0; i < c->nenums; i++)
        if (c->enums[i].table == table)
            return c->enums[i].name;
    return NULL;
}

/* Which of min / max / elem_max the format lists for a type: only those the codec
 * checks for it. */
static bool s_has_min(lc_ftype_t t)
{
    return t == LC_FT_I64 || t == LC_FT_U32 || t == LC_FT_ARRAY || t == LC_FT_IDS ||
           t == LC_FT_STRS;
}

static bool s_has_max(lc_ftype_t t)
{
    return s_has_min(t) || t == LC_FT_STR;
}

static json_t *s_field(const tc_catalogue_t *c, const lc_field_t *f, const char *owner)
{
    const char *type = s_ftype_name(f->type);
    CHECK(type != NULL, "%s.%s: unknown field type %d", owner, f->name, (int)f->type);
    json_t *o = json_object();
    json_object_set_new(o, "name", json_string(f->name));
    json_object_set_new(o, "type", json_string(type));
    json_object_set_new(o, "required", json_boolean(f->flags & LC_FF_REQUIRED));
    json_object_set_new(o, "always", json_boolean(f->flags & LC_FF_ALWAYS));
    if (s_has_min(f->type))
        json_object_set_new(o, "min", json_integer(f->min));
    if (s_has_max(f->type))
        json_object_set_new(o, "max", json_integer(f->max));
    if (f->type == LC_FT_STRS)
        json_object_set_new(o, "elem_max", json_integer(f->elem_max));
    if (f->type == LC_FT_ENUM || f->type == LC_FT_FLAGS) {
        const char *en = s_enum_name(c, f->names);
        CHECK(en != NULL, "%s.%s: its names table is not one of the catalogue's enums", owner,
              f->name);
        json_object_set_new(o, "names", json_string(en));
    } else {
        json_object_set_new(o, "names", json_null());
    }
    if (f->type == LC_FT_OBJ || f->type == LC_FT_ARRAY) {
        CHECK(f->sub != NULL, "%s.%s: no sub-descriptor", owner, f->name);
        json_object_set_new(o, "element", json_string(f->sub->name));
    } else {
        json_object_set_new(o, "element", json_null());
    }
    json_object_set_new(o, "doc", f->doc ? json_string(f->doc) : json_null());
    return o;
}

/* Adds desc and every descriptor under it to c->messages, each once. */
static void s_desc(tc_catalogue_t *c, const lc_msgdesc_t *desc)
{
    for (size_t i = 0; i < c->nseen; i++)
        if (c->seen[i] == desc)
            return;
    CHECK(json_object_get(c->messages, desc->name) == NULL,
          "two different descriptors are named %s", desc->name);
    CHECK(c->nseen < TC_MAX_DESCS, "more than %d descriptors", TC_MAX_DESCS);
    c->seen[c->nseen++] = desc;
    json_t *fields = json_array();
    for (size_t i = 0; i < desc->nfields; i++)
        json_array_append_new(fields, s_field(c, &desc->fields[i], desc->name));
    json_object_set_new(c->messages, desc->name, json_pack("{s:o}", "fields", fields));
    for (size_t i = 0; i < desc->nfields; i++)
        if (desc->fields[i].sub)
            s_desc(c, desc->fields[i].sub);
}

void tc_catalogue_init(tc_catalogue_t *c, const tc_enum_t *enums, size_t nenums)
{
    c->enums = enums;
    c->nenums = nenums;
    c->messages = json_object();
    c->nseen = 0;
    assert_non_null(c->messages);
}

json_t *tc_catalogue_type(tc_catalogue_t *c, const char *type, const char *doc,
                          const lc_msgdesc_t *request, const lc_msgdesc_t *reply)
{
    CHECK(doc != NULL, "type %s has no doc", type);
    json_t *row = json_pack("{s:s, s:s, s:s, s:s}", "type", type, "doc", doc, "request",
                            request->name, "reply", reply->name);
    assert_non_null(row);
    s_desc(c, request);
    s_desc(c, reply);
    return row;
}

json_t *tc_catalogue_json(tc_catalogue_t *c, json_t *types, json_t *calls)
{
    json_t *enums = json_object();
    for (size_t i = 0; i < c->nenums; i++) {
        json_t *a = json_array();
        for (const lc_name_t *n = c->enums[i].table; n->name; n++)
            json_array_append_new(a, json_string(n->name));
        json_object_set_new(enums, c->enums[i].name, a);
    }
    /* Members in the order the proto/ files list them, so that the expected JSON
     * printed on a mismatch reads like the file. */
    json_t *cat = json_pack("{s:i, s:o}", "version", 1, "types", types);
    if (calls)
        json_object_set_new(cat, "calls", calls);
    json_object_set_new(cat, "enums", enums);
    json_object_set_new(cat, "messages", c->messages);
    c->messages = NULL;
    return cat;
}

static void s_check_types_documented(const json_t *types)
{
    size_t i;
    json_t *t;
    json_array_foreach(types, i, t)
    {
        const char *doc = json_string_value(json_object_get(t, "doc"));
        CHECK(doc && doc[0], "type %s has no doc", json_string_value(json_object_get(t, "type")));
    }
}

void tc_catalogue_check_documented(const json_t *cat)
{
    s_check_types_documented(json_object_get(cat, "types"));
    s_check_types_documented(json_object_get(cat, "calls"));
    const char *name;
    json_t *m;
    json_object_foreach((json_t *)json_object_get(cat, "messages"), name, m)
    {
        size_t k;
        json_t *f;
        json_array_foreach(json_object_get(m, "fields"), k, f)
        {
            const char *doc = json_string_value(json_object_get(f, "doc"));
            CHECK(doc && doc[0], "%s.%s has no doc", name,
                  json_string_value(json_object_get(f, "name")));
        }
    }
}

void tc_catalogue_check_file(const json_t *want, const char *file, const char *source)
{
    json_t *have = tc_proto_load(file);
    bool same = json_equal((json_t *)want, have);
    if (!same) {
        char *s = json_dumps(want, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
        fprintf(stderr, "proto/%s differs from the codec tables in %s; expected:\n%s\n", file,
                source, s ? s : "?");
        free(s);
    }
    json_decref(have);
    CHECK(same, "proto/%s is out of date (expected JSON on stderr)", file);
}

const char *tc_proto_dir(void)
{
    const char *d = getenv("COAL_PROTO_DIR");
    return d && d[0] ? d : "proto";
}

json_t *tc_proto_load(const char *rel)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", tc_proto_dir(), rel);
    json_error_t jerr;
    json_t *j = json_load_file(path, JSON_REJECT_DUPLICATES, &jerr);
    CHECK(j != NULL, "%s: %s (line %d)", path, jerr.text, jerr.line);
    return j;
}
