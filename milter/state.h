/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * state.h -- the configuration in force, swapped whole on SIGHUP.
 *
 * A message takes a reference when it starts (MAIL FROM) and drops it at
 * its end, so in-flight messages keep the keys they started with while new
 * ones see the new set (relaysign.conf(5), SIGHUP).
 */
#ifndef RELAYSIGN_STATE_H
#define RELAYSIGN_STATE_H

#include "conf.h"

/* state_init: installs the first configuration (taken over); -1 when out of memory. */
int state_init(struct conf *conf);

/* state_acquire: the configuration in force, with a reference the caller
 * releases; NULL after state_shutdown. */
const struct conf *state_acquire(void);

/* state_release: drops a reference; the last one to an old configuration frees it. */
void state_release(const struct conf *conf);

/*
 * state_replace: installs conf (taken over) as the configuration in force;
 * the old one is freed when its last message ends.  Returns 0, or -1 when
 * out of memory: then nothing changed and conf is still the caller's.
 */
int state_replace(struct conf *conf);

/*
 * state_shutdown: drops the configuration in force: from now on
 * state_acquire returns NULL (new messages are tempfailed) while messages in
 * flight finish with theirs.  Safe to call twice.
 */
void state_shutdown(void);

/*
 * state_on_free: fn (or NULL: none) is called with each configuration just
 * before it is freed, under the state lock: it must not call state_*.
 * (The metrics keep what an old configuration's SPF checker counted.)
 */
void state_on_free(void (*fn)(const struct conf *));

/* state_inflight: how many state_acquire references are not yet released. */
size_t state_inflight(void);

#endif
