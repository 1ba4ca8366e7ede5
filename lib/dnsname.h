/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * dnsname.h -- the one rule for the names relaysign puts into DKIM tags
 * and DNS look-ups it builds: signing domains (d=) and selectors (s=),
 * in the configuration, the KeyTable, key loading and relaysign-keygen.
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

#endif
