/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * returnpath.h -- ReturnPath: the library's own envelope sender for the
 * notices relaysign signs, so bounces reach the circulation desk and SPF
 * aligns with the From domain (RFC 7489 3.1.2, relaxed).
 *
 * Each address serves the From domains at or below its domain: a signed
 * message From library.example.edu takes bounces@library.example.edu, or
 * else bounces@example.edu (the nearest parent wins).  Every address must
 * be in the organizational domain of a signing domain (-n refuses it
 * otherwise), and no two in the same domain.
 */
#ifndef RELAYSIGN_RETURNPATH_H
#define RELAYSIGN_RETURNPATH_H

#include <stddef.h>

#include "align.h"
#include "keytable.h"

/* Longest ReturnPath address (RFC 5321 4.5.3.1.3: a path is at most 256 octets). */
#define RETURNPATH_MAX 254

struct returnpath;

/*
 * returnpath_new: the ReturnPath addresses (a NULL-terminated list)
 * checked: local@domain, a dot-atom local part of at most 64 octets, a
 * domain of letters, digits and hyphens, in the organizational domain
 * (al) of a d= domain of keys; one address a domain.  Returns 0 with the
 * set in *rp_r, or -1 with the reason in err.
 */
int returnpath_new(char *const *addrs, const struct keytable *keys, const struct align *al,
    struct returnpath **rp_r, char *err, size_t errlen);

/* returnpath_free: returnpath_free(NULL) is a no-op. */
void returnpath_free(struct returnpath *rp);

/*
 * returnpath_for: the address for a From domain (lowercase, no trailing
 * dot): the one whose domain is from_domain, else the one in its nearest
 * parent domain; NULL when none is at or above it.
 */
const char *returnpath_for(const struct returnpath *rp, const char *from_domain);

/* returnpath_count, returnpath_at: the addresses, as configured (lowercase domain). */
size_t returnpath_count(const struct returnpath *rp);
const char *returnpath_at(const struct returnpath *rp, size_t i);
/* returnpath_domain: the domain of returnpath_at(rp, i). */
const char *returnpath_domain(const struct returnpath *rp, size_t i);

#endif
