/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * callbacks.h -- the xxfi_* callbacks: forward each milter event to
 * lib/pipeline.c and apply what it returns.  Nothing here decides policy.
 */
#ifndef RELAYSIGN_CALLBACKS_H
#define RELAYSIGN_CALLBACKS_H

#include <libmilter/mfapi.h>

/* callbacks_desc: the smfiDesc to register. */
struct smfiDesc *callbacks_desc(void);

#endif
