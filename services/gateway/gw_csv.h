/*
 * gw_csv.h: CSV answers (RFC 4180) for list routes, rendered from the JSON the
 * service answered, so no handler writes CSV of its own.
 *
 * A route that offers CSV names the array member of its reply to render
 * (gw_route_t.csv, e.g. "entries"). When the request's Accept header prefers
 * text/csv (gw_csv_wanted), the gateway turns a successful reply into CSV:
 *
 *   - one row per element of the array; each element must be an object;
 *   - the header row is the union of the rows' keys in a stable order: a key
 *     first seen in a row goes right after the key that precedes it in that
 *     row, so the columns follow the order in which the service's codec writes
 *     the fields (its descriptor), whatever the page holds. A consumer finds a
 *     column by its header name; a row without the key has an empty cell;
 *   - a nested object is flattened into "parent.child" columns (money becomes
 *     "value.amount", "value.currency"); an array inside a row cannot be put
 *     in one cell unambiguously and is refused (a route-table mistake,
 *     answered 500 and logged, never a truncated file);
 *   - strings as they are (UTF-8), integers in decimal, true/false, null as an
 *     empty cell; a cell with a comma, a double quote, CR or LF is quoted and
 *     its quotes doubled; lines end with CRLF;
 *   - members of the reply other than the array (e.g. head_seq) are not in
 *     the CSV: paging uses the last row's own fields (after_seq = last seq).
 *
 * Errors, and every answer of a route without .csv, stay JSON.
 */
#ifndef GW_CSV_H
#define GW_CSV_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#define GW_CSV_CONTENT_TYPE "text/csv; charset=utf-8; header=present"

/* True when an Accept header value prefers text/csv: its quality (q, default 1)
 * is above 0 and above that of application/json, application/(any) and (any)/(any)
 * (JSON is the default on a tie, and when accept is NULL). */
bool gw_csv_wanted(const char *accept);

/* Renders reply[member] as CSV into *out (malloc'd, NUL-terminated). Returns 0,
 * or -1 with msg filled when the member is missing or not an array, a row is
 * not an object, or a cell would be an array (see above). */
int gw_csv_render(const json_t *reply, const char *member, char **out, char *msg, size_t msglen);

#endif
