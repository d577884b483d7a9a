/*
 * lc_codec.h: the one codec between JSON and C structs.
 *
 * Every message body in proto/ has a descriptor here: a table of fields, each with
 * its JSON name, its type, where it lives in the struct, and its rules (required,
 * range, length, allowed names). One generic decoder and one generic encoder walk
 * these tables, so no handler ever touches JSON itself (CZMQ's generated codecs,
 * done with tables instead of code generation). tests/unit/test_proto_contract.c
 * checks that the tables and the proto/ catalogues describe the same messages.
 *
 * Decoding is strict: unknown fields, wrong types, out-of-range numbers, over-long
 * strings and missing required fields are refused with a machine-readable code and
 * the path of the offending field, and the output struct is left empty.
 *
 * Ownership: a decoded struct owns its strings and arrays; lc_codec_clear() frees
 * them (and only them: the struct itself belongs to the caller).
 */
#ifndef LC_CODEC_H
#define LC_CODEC_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>

typedef enum lc_ftype {
    LC_FT_BOOL,  /* bool; JSON true/false */
    LC_FT_I64,   /* int64_t; JSON integer within [min, max] */
    LC_FT_U32,   /* uint32_t; JSON integer within [min, max] (max <= UINT32_MAX) */
    LC_FT_STR,   /* char * (owned); JSON string of min to max bytes, valid UTF-8 */
    LC_FT_ID,    /* lc_id_t; JSON string, canonical UUID */
    LC_FT_TIME,  /* int64_t Unix microseconds; JSON RFC 3339 string */
    LC_FT_HASH,  /* uint8_t[32]; JSON 64-char lowercase hex string */
    LC_FT_ENUM,  /* int; JSON string, one of names[] */
    LC_FT_FLAGS, /* uint32_t bit set; JSON array of distinct names from names[] */
    LC_FT_OBJ,   /* nested struct at offset, described by sub */
    LC_FT_ARRAY, /* pointer to sub structs at offset, size_t count at count_offset;
                    min to max elements */
    LC_FT_IDS,   /* lc_id_t * (owned) at offset, size_t count at count_offset; JSON
                    array of min to max UUID strings */
    LC_FT_STRS,  /* char ** (owned, each owned) at offset, size_t count at count_offset;
                    JSON array of min to max strings, each 1 to elem_max bytes */
} lc_ftype_t;

/* A name for an enum value or a flag bit. Tables end with {NULL, 0}. */
typedef struct lc_name {
    const char *name;
    uint32_t value;
} lc_name_t;

enum {
    LC_FF_REQUIRED = 1, /* decoding fails without it; always encoded */
    LC_FF_ALWAYS = 2,   /* always encoded, even when zero / empty */
};

typedef struct lc_msgdesc lc_msgdesc_t;

typedef struct lc_field {
    const char *name;         /* JSON member name */
    lc_ftype_t type;
    size_t offset;            /* offsetof(struct, member) */
    unsigned flags;           /* LC_FF_* */
    int64_t min, max;         /* I64/U32: value range; STR: bytes; ARRAY/IDS/STRS: count */
    int64_t elem_max;         /* STRS: max bytes of each string */
    const lc_name_t *names;   /* ENUM / FLAGS */
    const lc_msgdesc_t *sub;  /* OBJ / ARRAY element */
    size_t count_offset;      /* ARRAY/IDS/STRS: offsetof the size_t count */
    const char *doc;          /* one line for proto/ and error messages */
} lc_field_t;

struct lc_msgdesc {
    const char *name;         /* e.g. "transfer" */
    size_t size;              /* sizeof the struct (array elements) */
    const lc_field_t *fields;
    size_t nfields;
};

/* Why decoding failed: code is one of proto/errors.json's codes (missing_field,
 * invalid_field, unknown_field, invalid_message), path names the field
 * ("transfers[3].amount"), message is for humans. */
typedef struct lc_codec_err {
    const char *code;
    char path[128];
    char message[256];
} lc_codec_err_t;

/* Decodes JSON object obj into out (a zeroed struct of desc->size bytes is written
 * first). Returns 0, or LC_ERR_INVALID with *err filled and out left cleared.
 * LC_ERR_NOMEM on allocation failure. */
int lc_codec_decode(const lc_msgdesc_t *desc, const json_t *obj, void *out, lc_codec_err_t *err);

/* Encodes in as a new JSON object (caller owns the reference); NULL on NOMEM or
 * when a value cannot be represented (e.g. an enum value without a name). */
json_t *lc_codec_encode(const lc_msgdesc_t *desc, const void *in);

/* Frees the strings and arrays a decoded or filled struct owns and zeroes them. */
void lc_codec_clear(const lc_msgdesc_t *desc, void *obj);

/* Looks up the name of value in a names table; NULL when none. */
const char *lc_name_of(const lc_name_t *names, uint32_t value);
/* Looks up name; returns 0 and sets *value, or LC_ERR_NOT_FOUND. */
int lc_value_of(const lc_name_t *names, const char *name, uint32_t *value);

/* Field-table helpers. */
#define LC_F(st, member, jname, ftype, fflags)                                                     \
    .name = (jname), .type = (ftype), .offset = offsetof(st, member), .flags = (fflags)

#endif
