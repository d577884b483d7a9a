/*
 * gw_http.h: the HTTP server (libmicrohttpd). Thread per connection: a request
 * blocks its own thread while a backend works on it, and slow or idle clients
 * are cut off after cfg.conn_timeout_s. Bodies are collected up to
 * cfg.body_max; a larger announced Content-Length is refused before the body
 * is read. Headers larger than libmicrohttpd's connection memory limit are
 * refused by libmicrohttpd itself (431).
 */
#ifndef GW_HTTP_H
#define GW_HTTP_H

#include "gw.h"

/* Starts listening; sets gw->mhd and gw->port. Returns 0, or LC_ERR_IO with a
 * logged reason (port in use, unreadable certificate, ...). */
int gw_http_start(gw_t *gw);
/* Stops accepting, finishes the requests in flight, and frees the daemon. */
void gw_http_stop(gw_t *gw);

#endif
