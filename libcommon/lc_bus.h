/*
 * lc_bus.h: request/reply over ZeroMQ between services.
 *
 * Servers bind a ROUTER socket; clients connect a DEALER. Each request and reply is
 * one frame holding an lc_envelope. ZeroMQ does not promise delivery across
 * reconnects and a ROUTER drops replies to vanished peers, so reliability is the
 * application's: the client follows the Lazy Pirate pattern (ZeroMQ Guide ch. 4):
 * wait for the reply up to a deadline, then close the socket, open a fresh one and
 * resend the same request (same request id, same payload, so the same entity ids)
 * a bounded number of times. That is safe only because every request that changes
 * state is idempotent by the ids it carries.
 *
 * Every bus socket of every service is made here, so the bus's security is decided
 * in one place (lc_curve.h): a socket whose endpoint leaves the machine, or every
 * socket under bus.curve = all, speaks CURVE with the service's own key pair, and
 * a server admits only the coalition's service keys. Without keys
 * (lc_bus_set_curve never called: tools, tests) only loopback endpoints open.
 */
#ifndef LC_BUS_H
#define LC_BUS_H

#include "lc_curve.h"
#include "lc_envelope.h"

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define LC_BUS_TIMEOUT_MS 2500   /* default wait for one attempt's reply */
#define LC_BUS_RETRIES 3         /* default resends after the first attempt */
#define LC_BUS_MAX_FRAME (8 * 1024 * 1024) /* ZMQ_MAXMSGSIZE: larger peers are cut off */
#define LC_BUS_IDENTITY_MAX 256

/* ---- security ------------------------------------------------------------------ */

/* Sets the keys and policy of every socket made from now on (NULL: none); a
 * client keeps the keys it was made with across its Lazy Pirate reconnects. Call
 * it once at start, before any socket exists (lc_service_start does); curve is
 * borrowed and must outlive every ZeroMQ context of the process. */
void lc_bus_set_curve(lc_curve_t *curve);
/* Tells the bus that service serves endpoint (lc_curve_add_peer), so a CURVE client
 * connecting there knows the server key to expect. A no-op without keys. */
int lc_bus_add_peer(const char *endpoint, const char *service);

/* ---- server -------------------------------------------------------------------- */

typedef struct lc_bus_server lc_bus_server_t;

/* The ROUTER identity of the peer a request came from; copy it to reply later. */
typedef struct lc_bus_peer {
    uint8_t id[LC_BUS_IDENTITY_MAX];
    size_t len;
} lc_bus_peer_t;

/* Binds a ROUTER socket on endpoint (e.g. "tcp://127.0.0.1:7101" or "ipc://...").
 * zctx is a zmq context shared by the process. NULL on failure (*err malloc'd). */
lc_bus_server_t *lc_bus_server_new(void *zctx, const char *endpoint, char **err);
void lc_bus_server_destroy(lc_bus_server_t **srv_p);
/* The raw socket, for zmq_poll alongside other sockets. */
void *lc_bus_server_socket(lc_bus_server_t *srv);

/* Receives one request frame, waiting at most timeout_ms (0: do not wait, -1:
 * forever). Returns LC_OK with *data (malloc'd, caller frees) and *len, or
 * LC_ERR_TIMEOUT when nothing arrived, or LC_ERR_PROTO for a message with the
 * wrong frame count (dropped). */
int lc_bus_server_recv(lc_bus_server_t *srv, lc_bus_peer_t *peer, char **data, size_t *len,
                       int timeout_ms);
/* Sends a reply frame to peer. Unroutable peers are dropped by ZeroMQ. */
int lc_bus_server_send(lc_bus_server_t *srv, const lc_bus_peer_t *peer, const char *data,
                       size_t len);

/* A handler for lc_bus_serve: fills *reply_body (a new reference) and returns NULL,
 * or returns an error code (LC_E_*) with a message in msg. */
typedef const char *(*lc_bus_handler_fn)(void *ctx, const lc_request_t *req, json_t **reply_body,
                                         char *msg, size_t msglen);

/* Serves requests one at a time until *stop becomes true: parses the envelope,
 * refuses expired deadlines, calls handler, replies. */
int lc_bus_serve(lc_bus_server_t *srv, lc_bus_handler_fn handler, void *ctx,
                 volatile int *stop);

/* ---- journal stream (PUB/SUB) ------------------------------------------------- */

/* Binds a PUB socket on endpoint with send high-water mark sndhwm. Returns the
 * socket (the caller zmq_close()s it) or NULL with *err (malloc'd). */
void *lc_bus_pub_new(void *zctx, const char *endpoint, int sndhwm, char **err);
/* Connects a SUB socket to endpoint, subscribed to topic. Returns the socket (the
 * caller zmq_close()s it) or NULL with *err (malloc'd). */
void *lc_bus_sub_new(void *zctx, const char *endpoint, const char *topic, char **err);

/* ---- client -------------------------------------------------------------------- */

typedef struct lc_bus_client lc_bus_client_t;

lc_bus_client_t *lc_bus_client_new(void *zctx, const char *endpoint);
void lc_bus_client_destroy(lc_bus_client_t **cli_p);

/* Sends a request and waits for its reply (Lazy Pirate: timeout_ms per attempt,
 * then up to retries resends with the same request id). request_id NULL: a new
 * UUIDv7. Returns LC_OK with *out filled (out->ok may be false: an error reply),
 * LC_ERR_TIMEOUT when no attempt got a reply, or LC_ERR_NOMEM / LC_ERR_IO.
 * Always lc_reply_clear(out) afterwards. */
int lc_bus_call(lc_bus_client_t *cli, const char *type, const json_t *body,
                const char *request_id, int timeout_ms, int retries, lc_reply_t *out);

/* lc_bus_call with LC_BUS_TIMEOUT_MS and LC_BUS_RETRIES. */
int lc_bus_call_default(lc_bus_client_t *cli, const char *type, const json_t *body,
                        lc_reply_t *out);

#endif
