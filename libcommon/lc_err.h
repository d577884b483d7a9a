/*
 * lc_err.h: error values shared by every module.
 *
 * Functions in libcommon and the services return 0 (LC_OK) on success or one of
 * the negative codes below; lc_strerror() names it. These are internal error
 * values. The codes that travel on the wire in replies (proto/errors.json) are
 * strings and live in lc_envelope.h.
 */
#ifndef LC_ERR_H
#define LC_ERR_H

enum {
    LC_OK = 0,
    LC_ERR_NOMEM = -1,       /* allocation failed */
    LC_ERR_INVALID = -2,     /* bad argument or malformed input */
    LC_ERR_IO = -3,          /* file or socket error (see errno / log) */
    LC_ERR_DB = -4,          /* database error (see lc_db_sqlstate) */
    LC_ERR_TIMEOUT = -5,     /* a deadline passed */
    LC_ERR_NOT_FOUND = -6,   /* the thing asked for does not exist */
    LC_ERR_PROTO = -7,       /* a peer sent something the protocol forbids */
    LC_ERR_CRYPTO = -8,      /* OpenSSL refused (bad key, failed verification) */
    LC_ERR_CONFLICT = -9,    /* the operation clashes with existing state */
    LC_ERR_UNAVAILABLE = -10,/* a dependency (peer, database) cannot be reached */
    LC_ERR_OVERFLOW = -11,   /* an integer result would not fit */
};

/* Returns a static, human-readable name for an LC_ERR_* value. */
const char *lc_strerror(int err);

#endif
