/* lc_err.c: names for the LC_ERR_* values. */
#include "lc_err.h"

const char *lc_strerror(int err)
{
    switch (err) {
    case LC_OK: return "ok";
    case LC_ERR_NOMEM: return "out of memory";
    case LC_ERR_INVALID: return "invalid argument";
    case LC_ERR_IO: return "i/o error";
    case LC_ERR_DB: return "database error";
    case LC_ERR_TIMEOUT: return "timed out";
    case LC_ERR_NOT_FOUND: return "not found";
    case LC_ERR_PROTO: return "protocol error";
    case LC_ERR_CRYPTO: return "cryptographic failure";
    case LC_ERR_CONFLICT: return "conflict";
    case LC_ERR_UNAVAILABLE: return "unavailable";
    case LC_ERR_OVERFLOW: return "integer overflow";
    }
    return "unknown error";
}
