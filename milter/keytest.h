/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * keytest.h -- relaysign -t: does DNS publish every configured key?
 */
#ifndef RELAYSIGN_KEYTEST_H
#define RELAYSIGN_KEYTEST_H

#include <stdio.h>

#include "keycheck.h"
#include "conf.h"
#include "keytable.h"

/*
 * keytest_run: keycheck_check for every distinct key of kt, then for
 * the nnext keys of next (keys not configured yet: the next selector of
 * a rotation), with lookup(arg, ...), one line each on out, then a
 * summary that keeps keys that do not match apart from keys DNS did not
 * answer for.  Returns 0 when every key matches, 1 when one does not (or
 * there are no keys), 2 when none mismatches but some could not be
 * checked.
 */
int keytest_run(const struct keytable *kt, struct key *const *next, size_t nnext,
    keycheck_lookup *lookup, void *arg, FILE *out);

/*
 * keytest_return_paths: SPF of every ReturnPath for every
 * OutboundAddresses entry of conf, one line each on out.  Returns 0 when
 * all pass (or there is nothing to check), 1 when one does not, 2 when
 * none fails but DNS did not answer for some.
 */
int keytest_return_paths(const struct conf *conf, FILE *out);

#endif
