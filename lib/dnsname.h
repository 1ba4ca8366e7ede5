/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * dnsname.h -- the rules for domain names, in one place: the one for the
 * names relaysign puts into DKIM tags and DNS look-ups it builds (signing
 * domains, d=, and selectors, s=, in the configuration, the KeyTable, key
 * loading and relaysign-keygen), and the looser one for names others
 * hand it to look up (an SPF record's targets, a From domain's _dmarc).
 */
#ifndef RELAYSIGN_DNSNAME_H
#define RELAYSIGN_DNSNAME_H

#include <stdbool.h>
#include <stddef.h>

/*
 * dnsname_ok: true if s is RFC 5321 4.1.2 sub-domain *("." sub-domain),
 * which RFC 6376 3.1 and 3.5 ask of selectors and d=: ASCII letters,
 * digits and '-', no label empty, longer than 63 or starting or ending
 * with '-', at most 253 characters, at least min_labels labels (2 for a
 * signing domain).  No '_', no '*', no U-labels (write the xn-- form).
 * Otherwise false with a phrase for "Selector \"x\" <why>" in *why_r.
 */
bool dnsname_ok(const char *s, size_t min_labels, const char **why_r);

/* Longest domain name without the trailing dot (RFC 1035 2.3.4, 3.1). */
#define DNSNAME_MAX 253

/*
 * dnsname_query_ok: true for a name a DNS query can carry (RFC 2181 11:
 * any octets): 1 to 253 octets without the trailing dot, labels of 1 to
 * 63 octets, no control characters or space (RFC 7208 4.8: a name that
 * cannot be queried matches nothing).
 */
bool dnsname_query_ok(const char *name);

#endif
