/*
 * st_mature.h: posting pending earns when they are due (st_mature.c). The periodic
 * sweep is st_mature_sweep (st_server.h).
 */
#ifndef ST_MATURE_H
#define ST_MATURE_H

#include "st_store.h"

/* Posts earn *e now if it is pending and due, updating *e and its row. LC_OK when it
 * is (now) posted or not yet due; LC_ERR_CONFLICT / LC_ERR_UNAVAILABLE otherwise. */
int st_mature_one(st_server_t *s, const char *rid, st_earn_row_t *e);

#endif
