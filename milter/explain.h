/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * explain.h -- relaysign -x: one message through the daemon's own
 * per-message pipeline (lib/pipeline.c), with the client facts given on
 * the command line, and what it decided, for a postmaster.  No mail is
 * sent and nothing is logged.
 */
#ifndef RELAYSIGN_EXPLAIN_H
#define RELAYSIGN_EXPLAIN_H

#include <stdbool.h>
#include <stdio.h>

#include "conf.h"

/* Exit statuses of relaysign -x: the action taken. */
enum explain_exit {
	EXPLAIN_EXIT_SIGN = 0,
	EXPLAIN_EXIT_ERROR = 1,		/* usage, configuration, unreadable message */
	EXPLAIN_EXIT_TAG = 2,
	EXPLAIN_EXIT_ACCEPT = 3,	/* untrusted: passed on untouched */
	EXPLAIN_EXIT_TEMPFAIL = 4,
	EXPLAIN_EXIT_REJECT = 5
};

struct explain_args {
	const char *message;	/* the message file, "-" for standard input */
	const char *client;	/* the client's address; NULL: 127.0.0.1 */
	const char *helo;	/* HELO name; NULL: the client's address literal */
	const char *mailfrom;	/* MAIL FROM address, "" the null sender; NULL: see explain.c */
	const char *login;	/* SMTP AUTH login, or NULL */
	const char *out_path;	/* write the message as relaysign passes it on, or NULL */
	bool json;		/* JSON instead of text */
	const char *zone_path;	/* the zone file that answered DNS, or NULL (live DNS) */
};

/*
 * explain_run: runs the message of a under conf, prints the facts and the
 * decision on out, and returns an enum explain_exit.  Errors go to
 * standard error.
 */
int explain_run(const struct conf *conf, const struct explain_args *a, FILE *out);

#endif
