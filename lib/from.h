/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * from.h -- the RFC 5322 From: field, reduced to the one domain DMARC uses.
 *
 * RFC 7489 3.1.1: the domain that matters is the one in the RFC5322.From
 * field; a message with several From fields, or a From with several
 * mailboxes, has no single author domain and is never signed.
 */
#ifndef RELAYSIGN_FROM_H
#define RELAYSIGN_FROM_H

#include <stddef.h>

/* Longest domain name (RFC 1035 2.3.4) plus NUL. */
#define FROM_DOMAIN_MAX 256
/* Longest address we keep (RFC 5321 4.5.3.1: 64 + 1 + 255) plus NUL. */
#define FROM_ADDR_MAX 321

enum from_status {
	FROM_OK = 0,     /* exactly one mailbox with a domain */
	FROM_EMPTY,      /* no mailbox at all */
	FROM_MULTIPLE,   /* more than one mailbox */
	FROM_GROUP,      /* group syntax, e.g. "undisclosed:;" */
	FROM_NO_DOMAIN,  /* a local part without @domain */
	FROM_BAD_DOMAIN, /* domain literal, bad label, or not convertible to A-labels */
	FROM_SYNTAX,     /* anything else that is not RFC 5322 */
	FROM_TOO_LONG    /* the field or a part of it exceeds a limit */
};

struct from_addr {
	/* local@domain as written, unfolded, without CFWS (quoted local parts keep their quotes) */
	char addr[FROM_ADDR_MAX];
	/* the domain in lowercase A-labels (IDNA2008 via libidn2), no trailing dot */
	char domain[FROM_DOMAIN_MAX];
};

/*
 * from_parse: parses one From field body (the text after "From:", folding
 * allowed, no NUL inside len).  Accepts display names, quoted strings,
 * comments (nested, with any characters inside), quoted-pairs, angle
 * addresses, obsolete routes and encoded words in display names.
 * Returns FROM_OK and fills *addr_r, or another status with a short
 * human-readable reason in why (e.g. "2 mailboxes").
 *
 * value may be NULL when len is 0; addr_r must not be NULL; why may be
 * NULL, else it is always NUL-terminated, holds "" on FROM_OK and never
 * quotes the input.  On any status but FROM_OK *addr_r is all zeros.
 *
 * The whole field is parsed before a verdict, which is, first match wins:
 * FROM_TOO_LONG for more than 64 KiB; FROM_SYNTAX for a NUL, invalid
 * UTF-8 anywhere (RFC 6532 3.1, including in a domain), control
 * characters, a bare CR or LF, unbalanced < " ( [, comments nested more
 * than 64 deep, "<>", or trailing text; FROM_GROUP for any group;
 * FROM_MULTIPLE for two mailboxes or more; FROM_EMPTY for none; then
 * the one mailbox's problem: FROM_NO_DOMAIN without "@domain" (a bare
 * display name such as "Library" included), FROM_BAD_DOMAIN for a domain
 * literal, an IDNA2008 failure or a name DNS cannot hold (empty or
 * non-LDH labels, a label over 63 or a name over 253 octets, an all-digit
 * top label), FROM_TOO_LONG when the address or domain as written
 * overflows FROM_ADDR_MAX or FROM_DOMAIN_MAX.  "user@" is FROM_NO_DOMAIN.
 *
 * U-labels are converted with libidn2 (UTS #46 nontransitional mapping,
 * so case and width are folded as resolvers do); A-labels are only
 * lowercased.  Stray dots in the local part ("a.@example.jp") are
 * tolerated: only the domain is used.
 */
enum from_status from_parse(const char *value, size_t len, struct from_addr *addr_r, char *why,
                            size_t whylen);

/* from_status_name: a short token for logs and headers ("multiple", "syntax"). */
const char *from_status_name(enum from_status status);

#endif
