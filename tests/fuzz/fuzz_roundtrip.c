/*
 * fuzz_roundtrip.c: the codec contract checked on fuzzed JSON (fuzz_roundtrip.h).
 */
#include "fuzz_roundtrip.h"
#include "fuzz.h"
#include "lc_err.h"

#include <stdbool.h>
#include <string.h>

static bool s_all_zero(const void *p, size_t n)
{
    const unsigned char *b = p;
    for (size_t i = 0; i < n; i++)
        if (b[i])
            return false;
    return true;
}

void fuzz_codec_check_cleared(const lc_msgdesc_t *desc, const void *obj)
{
    const char *base = obj;
    for (size_t i = 0; i < desc->nfields; i++) {
        const lc_field_t *f = &desc->fields[i];
        const char *p = base + f->offset;
        switch (f->type) {
        case LC_FT_STR:
            FUZZ_CHECK(*(char *const *)p == NULL, "cleared string");
            break;
        case LC_FT_OBJ:
            fuzz_codec_check_cleared(f->sub, p);
            break;
        case LC_FT_ARRAY:
        case LC_FT_IDS:
        case LC_FT_STRS:
            FUZZ_CHECK(*(void *const *)p == NULL, "cleared array");
            FUZZ_CHECK(*(const size_t *)(base + f->count_offset) == 0, "cleared count");
            break;
        default:
            break;
        }
    }
}

static void s_dump(const char *label, const json_t *j)
{
    char *s = j ? json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
    fprintf(stderr, "%s: %s\n", label, s ? s : "(null)");
    free(s);
}

int fuzz_codec_round_trip(const lc_msgdesc_t *desc, const json_t *obj)
{
    void *x = malloc(desc->size);
    FUZZ_CHECK(x, "malloc");
    memset(x, 0xa5, desc->size); /* garbage: decode must not rely on a zeroed struct */
    lc_codec_err_t err;
    memset(&err, 0, sizeof err);
    int rc = lc_codec_decode(desc, obj, x, &err);
    if (rc != LC_OK) {
        FUZZ_CHECK(rc == LC_ERR_INVALID || rc == LC_ERR_NOMEM, "decode fails with a known value");
        FUZZ_CHECK(s_all_zero(x, desc->size), "a refused message leaves the struct all zero");
        if (rc == LC_ERR_INVALID) {
            FUZZ_CHECK(err.code != NULL, "a refusal has a code");
            FUZZ_CHECK(!strcmp(err.code, "missing_field") || !strcmp(err.code, "invalid_field") ||
                           !strcmp(err.code, "unknown_field") ||
                           !strcmp(err.code, "invalid_message"),
                       "the code is one of proto/errors.json's");
            FUZZ_CHECK(memchr(err.message, '\0', sizeof err.message) != NULL,
                       "the message is a C string");
        }
        free(x);
        return rc;
    }
    json_t *e1 = lc_codec_encode(desc, x);
    if (!e1) {
        fprintf(stderr, "descriptor %s\n", desc->name);
        s_dump("input", obj);
    }
    FUZZ_CHECK(e1 != NULL, "an accepted message encodes");

    void *y = malloc(desc->size);
    FUZZ_CHECK(y, "malloc");
    rc = lc_codec_decode(desc, e1, y, &err);
    if (rc != LC_OK) {
        fprintf(stderr, "descriptor %s: %s\n", desc->name, err.message);
        s_dump("input", obj);
        s_dump("encoded", e1);
    }
    FUZZ_CHECK(rc == LC_OK, "the encoding of an accepted message decodes");
    json_t *e2 = lc_codec_encode(desc, y);
    if (!e2 || !json_equal(e1, e2)) {
        fprintf(stderr, "descriptor %s\n", desc->name);
        s_dump("input", obj);
        s_dump("encoded", e1);
        s_dump("re-encoded", e2);
    }
    FUZZ_CHECK(e2 && json_equal(e1, e2), "decode(encode(x)) == x");

    lc_codec_clear(desc, x);
    lc_codec_clear(desc, y);
    fuzz_codec_check_cleared(desc, x);
    fuzz_codec_check_cleared(desc, y);
    json_decref(e1);
    json_decref(e2);
    free(x);
    free(y);
    return LC_OK;
}
