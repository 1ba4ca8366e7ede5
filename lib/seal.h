/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * seal.h -- a mark that lets relaysign recognise its own
 * Authentication-Results field when a message passes through it twice
 * (an after-queue content filter that reinjects through a service that
 * still runs the milter).
 *
 * RFC 8601 5 says to remove every field claiming our AuthservID, and
 * nothing in the field itself tells our own from a forgery: so the field
 * we add ends in a property
 *     policy.seal=<32 hex digits>
 * an HMAC-SHA256 (truncated to 128 bits) under a secret made at start
 * and never written anywhere, over the field's text before the seal and
 * the message's first From and Message-ID field bodies (all with white
 * space removed, so refolding by an MTA does not matter).  A field copied
 * from one notice into another message does not match that message's
 * Message-ID; a field of a previous process (a restart between the two
 * passes) does not match the new secret, and is removed as forged.
 */
#ifndef RELAYSIGN_SEAL_H
#define RELAYSIGN_SEAL_H

#include <stdbool.h>
#include <stddef.h>

/* The most seal_append adds: LF TAB "policy.seal=" and 32 hex digits. */
#define SEAL_TAIL_MAX 48

struct seal;

/* seal_new: a seal with a fresh random secret, or NULL (no entropy, no memory). */
struct seal *seal_new(void);
/* seal_free: seal_free(NULL) is a no-op. */
void seal_free(struct seal *s);

/*
 * seal_append: appends the seal for the field body ar (NUL-terminated, in
 * a buffer of size len) of a message whose first From and Message-ID
 * bodies are from and msgid.  Returns 0, or -1 with ar unchanged when it
 * does not fit or the MAC cannot be made.
 */
int seal_append(const struct seal *s, char *ar, size_t len, const char *from,
                const char *msgid);

/*
 * seal_check: true when the field body value ends in a seal that
 * seal_append of this s made for the same text, from and msgid.
 */
bool seal_check(const struct seal *s, const char *value, const char *from, const char *msgid);

#endif
