/*
 * fuzz_routes.c: the gateway's route matching on hostile paths.
 *
 * The input is an HTTP method (the first byte picks GET, POST, DELETE, PUT or the
 * raw text up to the first space) and a URL path, as libmicrohttpd hands them over
 * (already percent-decoded, so any byte but NUL). gw_route_match must not crash or
 * leak; a match must name a route of that method whose pattern the path fits,
 * with every {name} it captured equal to its path segment; the captured params
 * must travel in an API call (lc_api_req_build, lc_api_req_parse) unchanged.
 */
#include "fuzz.h"

#include "gw_routes.h"
#include "lc_api.h"
#include "lc_err.h"

#include <stdbool.h>
#include <string.h>

/* Checks that path fits pattern segment by segment and that params holds each
 * captured segment (none missing: the gateway must not forward a route whose
 * parameter it could not capture). */
static void s_check_match(const char *pattern, const char *path, const json_t *params)
{
    const char *p = pattern, *s = path;
    size_t captured = 0;
    while (*p) {
        FUZZ_CHECK(*p == '/' && *s == '/', "segments start with /");
        p++;
        s++;
        size_t plen = strcspn(p, "/"), slen = strcspn(s, "/");
        FUZZ_CHECK(slen > 0, "no empty segment matches");
        if (p[0] == '{') {
            char name[64];
            snprintf(name, sizeof name, "%.*s", (int)(plen - 2), p + 1);
            const char *v = json_string_value(json_object_get(params, name));
            FUZZ_CHECK(v != NULL, "every {name} of a matched route is captured");
            FUZZ_CHECK(strlen(v) == slen && !strncmp(v, s, slen), "captured = the segment");
            captured++;
        } else {
            FUZZ_CHECK(plen == slen && !strncmp(p, s, plen), "literal segments are equal");
        }
        p += plen;
        s += slen;
    }
    FUZZ_CHECK(*s == '\0', "the whole path matched");
    FUZZ_CHECK(json_object_size(params) == captured, "nothing captured but the {names}");
}

int fuzz_routes_one(const uint8_t *data, size_t size)
{
    static const char *methods[] = {"GET", "POST", "DELETE", "PUT"};
    if (size < 1)
        return 0;
    char *text = malloc(size);
    FUZZ_CHECK(text, "malloc");
    memcpy(text, data + 1, size - 1);
    text[size - 1] = '\0';
    const char *method = text, *path = text;
    if (data[0] < 4) {
        method = methods[data[0]];
    } else { /* "METHOD path" from the input itself */
        char *sp = strchr(text, ' ');
        if (!sp) {
            free(text);
            return 0;
        }
        *sp = '\0';
        path = sp + 1;
    }

    json_t *params = (json_t *)1;
    bool known = true;
    int ri = gw_route_match(method, path, &params, &known);
    if (ri < 0) {
        FUZZ_CHECK(ri == -1 && params == NULL, "no match: no params");
    } else {
        FUZZ_CHECK(ri < gw_nroutes, "a route of the table");
        FUZZ_CHECK(!strcmp(gw_routes[ri].method, method), "of the method asked");
        FUZZ_CHECK(json_is_object(params), "params");
        s_check_match(gw_routes[ri].pattern, path, params);

        lc_api_caller_t caller = {.role = LC_ROLE_ADMIN, .owner = "key:x"};
        json_t *call = lc_api_req_build(&caller, NULL, params, NULL, NULL);
        FUZZ_CHECK(call != NULL, "lc_api_req_build");
        lc_api_req_t req;
        char msg[256];
        FUZZ_CHECK(lc_api_req_parse(call, &req, msg, sizeof msg) == LC_OK, "the call parses");
        FUZZ_CHECK(json_equal(req.params, params), "params travel unchanged");
        lc_id_t id;
        (void)lc_api_param_id(&req, "id", &id);
        lc_api_req_clear(&req);
        json_decref(call);
        json_decref(params);
    }
    free(text);
    return 0;
}

FUZZ_ENTRY(fuzz_routes_one)
