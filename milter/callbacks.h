/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * callbacks.h -- the xxfi_* callbacks: forward each milter event to
 * lib/pipeline.c and apply what it returns.  Nothing here decides policy.
 */
#ifndef RELAYSIGN_CALLBACKS_H
#define RELAYSIGN_CALLBACKS_H

#include <libmilter/mfapi.h>

struct seal;

/*
 * callbacks_desc: the smfiDesc to register; seal (lib/seal.h) marks our
 * Authentication-Results on every connection and must outlive them.
 */
struct smfiDesc *callbacks_desc(const struct seal *seal);

#endif
