/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * confswap.h -- the configuration in force, swapped whole on SIGHUP.
 *
 * A message takes a reference when it starts (MAIL FROM) and drops it at
 * its end, so in-flight messages keep the keys they started with while new
 * ones see the new set (relaysign.conf(5), SIGHUP).
 */
#ifndef RELAYSIGN_CONFSWAP_H
#define RELAYSIGN_CONFSWAP_H

#include "conf.h"

/* confswap_init: installs the first configuration (taken over); -1 when out of memory. */
int confswap_init(struct conf *conf);

/* confswap_acquire: the configuration in force, with a reference the caller
 * releases; NULL after confswap_shutdown. */
const struct conf *confswap_acquire(void);

/* confswap_release: drops a reference; the last one to an old configuration frees it. */
void confswap_release(const struct conf *conf);

/*
 * confswap_replace: installs conf (taken over) as the configuration in force;
 * the old one is freed when its last message ends.  Returns 0, or -1 when
 * out of memory: then nothing changed and conf is still the caller's.
 */
int confswap_replace(struct conf *conf);

/*
 * confswap_shutdown: drops the configuration in force: from now on
 * confswap_acquire returns NULL (new messages are tempfailed) while messages in
 * flight finish with theirs.  Safe to call twice.
 */
void confswap_shutdown(void);

/*
 * confswap_on_free: fn (or NULL: none) is called with each configuration just
 * before it is freed, under the state lock: it must not call state_*.
 * (The metrics keep what an old configuration's SPF checker counted.)
 */
void confswap_on_free(void (*fn)(const struct conf *));

/* confswap_inflight: how many confswap_acquire references are not yet released. */
size_t confswap_inflight(void);

#endif
