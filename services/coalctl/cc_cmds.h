/*
 * cc_cmds.h: coalctl's commands: a table of what each one sends (method, path,
 * query options, body) and how its answer is judged, so that adding a command
 * is one row. Every command answers --help; every error exits non-zero.
 */
#ifndef CC_CMDS_H
#define CC_CMDS_H

#include "cc_http.h"

#include <stdio.h>

/* Exit statuses. */
enum {
    CC_EXIT_OK = 0,
    CC_EXIT_FAILED = 1, /* the API answered an error, none came, or a check failed */
    CC_EXIT_USAGE = 2,  /* the command line is wrong */
};

/* Finds the command named by argv's first words and runs it with the rest,
 * reading the API key (cc_client_key) only when a request is to be sent.
 * Returns an exit status. */
int cc_run(cc_client_t *c, int argc, char **argv);

/* Prints every command's usage line. */
void cc_list(FILE *out);

#endif
