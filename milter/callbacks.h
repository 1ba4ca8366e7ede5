/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * callbacks.h -- the xxfi_* callbacks: gather facts, call lib/, apply the
 * decision.  Nothing here decides policy (lib/policy.c does).
 */
#ifndef RELAYSIGN_CALLBACKS_H
#define RELAYSIGN_CALLBACKS_H

#include <libmilter/mfapi.h>

/* Limits on what a peer may make us hold for one message. */
#define CB_MAX_HEADERS 20000		/* header fields */
#define CB_MAX_HEADER_BYTES (4 * 1024 * 1024) /* all names and values */

/* callbacks_desc: the smfiDesc to register. */
struct smfiDesc *callbacks_desc(void);

#endif
