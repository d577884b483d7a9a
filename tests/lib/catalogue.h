/*
 * catalogue.h: the catalogue JSON of proto/<service>.json, built from the codec
 * descriptor tables, for the unit tests that check a catalogue against its tables
 * (test_proto_contract, test_members_proto, test_settlement_msg). One generator, so
 * that the three catalogues follow one format (proto/README.md section 10) and a
 * rule of that format is written once.
 *
 * Failures (an unknown field type, an enum the catalogue does not name, two
 * descriptors with one name) fail the calling test through cmocka.
 */
#ifndef TC_CATALOGUE_H
#define TC_CATALOGUE_H

#include "lc_codec.h"

#include <jansson.h>
#include <stddef.h>

#define TC_MAX_DESCS 64 /* descriptors one catalogue may hold */

/* The catalogue's name of one enum / flag names table. */
typedef struct tc_enum {
    const lc_name_t *table;
    const char *name;
} tc_enum_t;

/* A catalogue being built: the descriptors described so far and their JSON. */
typedef struct tc_catalogue {
    const tc_enum_t *enums; /* borrowed; the catalogue's "enums" */
    size_t nenums;
    json_t *messages;                       /* descriptor name -> {"fields": [...]} */
    const lc_msgdesc_t *seen[TC_MAX_DESCS]; /* described once each, by address */
    size_t nseen;
} tc_catalogue_t;

/* Starts an empty catalogue naming enums (borrowed until tc_catalogue_json). */
void tc_catalogue_init(tc_catalogue_t *c, const tc_enum_t *enums, size_t nenums);

/* Describes request and reply (and every descriptor under them) and returns the
 * type's row {"type","doc","request","reply"} (a new reference). */
json_t *tc_catalogue_type(tc_catalogue_t *c, const char *type, const char *doc,
                          const lc_msgdesc_t *request, const lc_msgdesc_t *reply);

/* Finishes the catalogue: {"version":1,"types",["calls",]"enums","messages"}.
 * Steals types, calls (NULL: no "calls" member) and the messages of c. */
json_t *tc_catalogue_json(tc_catalogue_t *c, json_t *types, json_t *calls);

/* Fails the test unless every type (of "types" and "calls") and every field of
 * the catalogue cat has a non-empty doc. */
void tc_catalogue_check_documented(const json_t *cat);

/* Fails the test unless proto/<file> equals want; on a mismatch the expected JSON
 * goes to stderr, ready to paste, with source (the tables' file) named. */
void tc_catalogue_check_file(const json_t *want, const char *file, const char *source);

/* proto/ is $COAL_PROTO_DIR, or "proto" relative to the working directory. */
const char *tc_proto_dir(void);

/* Loads proto/<rel> (duplicate keys refused); fails the test when it cannot. */
json_t *tc_proto_load(const char *rel);

#endif
