/*
 * lc_curve.h: who may speak on the bus. ZeroMQ CURVE (ZMTP-CURVE, RFC 26: every
 * connection encrypted, each end proving its long-term key) plus a ZAP handler
 * (RFC 27) that admits only the coalition's own service keys.
 *
 * POLICY. A socket whose endpoint leaves the machine uses CURVE; a loopback endpoint
 * (tcp://127.x.x.x, tcp://localhost, tcp://[::1], ipc://, inproc://) may stay on the
 * NULL mechanism, which costs nothing and is what a one-machine `make run` and the
 * tests use. Mode LC_CURVE_ALL (setting bus.curve = all) puts every endpoint on
 * CURVE, loopback included: that is how one machine exercises the multi-host setup,
 * and what a host should use when a server binds a non-loopback address (tcp://0.0.0.0:p
 * or a host name) that local clients reach over 127.0.0.1. Both ends decide from
 * their own endpoint, so they must agree: when in doubt, all.
 *
 * KEYS. Each service has its own key pair in the keys directory (bus.keys_dir,
 * default $COAL_VAR/secrets/bus, mode 0700), made on its first start when missing:
 *   <name>.key  "public = <Z85>\nsecret = <Z85>\n", mode 0600, created exclusively
 *               (never overwritten; two processes racing get the same pair)
 *   <name>.pub  "<Z85>\n", the public key alone: what another host copies
 * <name> is a service name ([a-z0-9_-], at most LC_CURVE_NAME_MAX characters).
 *
 * TRUST. The *.pub files of the keys directory are the configured service keys.
 * A CURVE server admits a client only when the client's public key is one of them
 * (ZAP status 200, the User-Id being the file's name); any other key gets 400 and the
 * connection is closed. Adding a host means copying its services' .pub files into
 * every other host's keys directory. When an unknown key knocks, the directory is
 * read again if it changed since the last read (its mtime), so a service that made
 * its key after the server started is admitted without a restart, while a stranger
 * knocking in a loop costs one stat each time. A NULL-mechanism peer
 * never reaches the ZAP handler: the CURVE server refuses it at the greeting.
 * A CURVE client must know the server's key before it connects: the server is
 * named by endpoint (lc_curve_add_peer, filled from the configuration at start)
 * and its key is <name>.pub.
 *
 * One ZAP handler serves one ZeroMQ context: lc_curve_server_setup starts it (a
 * thread owning a REP socket on inproc://zeromq.zap.01) before the first CURVE
 * server socket of that context exists, so no connection is ever accepted without
 * it. The thread ends when the context is terminated (zmq_ctx_term).
 *
 * Requires libzmq 4.3.2 or later (earlier versions have known CURVE and ZAP
 * defects, e.g. CVE-2019-6250 and CVE-2019-13132) built with CURVE support.
 */
#ifndef LC_CURVE_H
#define LC_CURVE_H

#include <stdbool.h>
#include <stdint.h>

#define LC_CURVE_NAME_MAX 31      /* longest service name */
#define LC_CURVE_Z85_LEN 40       /* a 32-byte key in Z85 text */
#define LC_CURVE_ZAP_DOMAIN "coalition"
#define LC_CURVE_ZMQ_MIN_MAJOR 4  /* oldest libzmq accepted: 4.3.2 */
#define LC_CURVE_ZMQ_MIN_MINOR 3
#define LC_CURVE_ZMQ_MIN_PATCH 2

typedef enum lc_curve_mode {
    LC_CURVE_AUTO, /* CURVE for non-loopback endpoints only (bus.curve = auto) */
    LC_CURVE_ALL,  /* CURVE for every endpoint (bus.curve = all) */
} lc_curve_mode_t;

typedef struct lc_curve lc_curve_t;

/* Checks that the running libzmq is 4.3.2 or later and has CURVE. Returns 0, or
 * LC_ERR_UNAVAILABLE with a message in *err (malloc'd, caller frees). */
int lc_curve_check_libzmq(char **err);

/* Parses "auto" or "all". Returns 0, or LC_ERR_INVALID. */
int lc_curve_mode_parse(const char *text, lc_curve_mode_t *out);

/* True when endpoint stays on this machine (see POLICY above). */
bool lc_curve_endpoint_is_loopback(const char *endpoint);

/* Opens the keys directory dir (created, mode 0700, when missing) as service self:
 * loads self's key pair, making it first when missing, and reads the trusted keys.
 * NULL on failure with a message in *err (malloc'd, caller frees): a bad name, a
 * key file that is malformed or readable by others, a file system error. */
lc_curve_t *lc_curve_open(const char *dir, const char *self, lc_curve_mode_t mode, char **err);
/* Frees the keys. Every ZeroMQ context whose sockets it set up must be terminated
 * first (that ends their ZAP threads, which are joined here). */
void lc_curve_destroy(lc_curve_t **curve_p);

lc_curve_mode_t lc_curve_mode(const lc_curve_t *curve);
/* This service's public key in Z85 (borrowed). */
const char *lc_curve_public_key(const lc_curve_t *curve);
/* True when a socket on endpoint must use CURVE under curve's mode. */
bool lc_curve_wanted(const lc_curve_t *curve, const char *endpoint);

/* Records that service serves endpoint, so that a client connecting there expects
 * <service>.pub as the server's key. A later call for the same endpoint replaces
 * the name. Returns 0, LC_ERR_INVALID (bad name) or LC_ERR_NOMEM. */
int lc_curve_add_peer(lc_curve_t *curve, const char *endpoint, const char *service);

/* Makes sock (not yet bound) a CURVE server with this service's key, after making
 * sure zctx has its ZAP handler. Returns 0, or an LC_ERR_* with *err. */
int lc_curve_server_setup(lc_curve_t *curve, void *zctx, void *sock, char **err);
/* Makes sock (not yet connected) a CURVE client of the service that serves
 * endpoint. Returns 0, or LC_ERR_NOT_FOUND (no service known for endpoint, or no
 * <service>.pub) or another LC_ERR_* with *err. */
int lc_curve_client_setup(lc_curve_t *curve, void *sock, const char *endpoint, char **err);

/* What the ZAP handlers decided, for tests and logs. */
typedef struct lc_curve_stats {
    uint64_t admitted; /* handshakes with a trusted key */
    uint64_t refused;  /* handshakes refused (unknown key, other mechanism) */
    uint64_t reloads;  /* reads of the keys directory */
} lc_curve_stats_t;
void lc_curve_stats(lc_curve_t *curve, lc_curve_stats_t *out);

#endif
