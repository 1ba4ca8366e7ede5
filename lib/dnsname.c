/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * dnsname.c -- the rules for domain names (dnsname.h).
 */
#include <ctype.h>
#include <string.h>

#include "dnsname.h"

/* dnsname_ok: RFC 5321 4.1.2 sub-domain *("." sub-domain); why_r says what is wrong. */
bool
dnsname_ok(const char *s, size_t min_labels, const char **why_r)
{
	size_t labels = 0, len = strlen(s);
	const char *p = s;

	if (len == 0 || len > 253) {
		*why_r = "is not 1 to 253 characters long";
		return false;
	}
	for (;;) {
		size_t n = strcspn(p, ".");
		size_t i;

		if (n == 0 || n > 63) {
			*why_r = "has a label that is empty or longer than 63 characters";
			return false;
		}
		for (i = 0; i < n; i++) {
			unsigned char c = (unsigned char)p[i];

			if (c == '*') {
				*why_r = "has a wildcard";
				return false;
			}
			if (c >= 0x80) {
				*why_r = "is not ASCII: write the A-label (xn--) form";
				return false;
			}
			if (!isalnum(c) && c != '-') {
				*why_r = "has a character other than letters, digits, '-' and '.'";
				return false;
			}
		}
		if (p[0] == '-' || p[n - 1] == '-') {
			*why_r = "has a label that starts or ends with '-'";
			return false;
		}
		labels++;
		if (p[n] == '\0')
			break;
		p += n + 1;
	}
	if (labels < min_labels) {
		*why_r = "is not a fully qualified domain (RFC 6376 3.5 d=)";
		return false;
	}
	return true;
}

/*
 * dnsname_query_ok: true for a name DNS can hold: 1 to 253 octets without
 * the trailing dot, labels of 1 to 63 octets, no control characters or
 * space.
 */
bool
dnsname_query_ok(const char *name)
{
	size_t len = strlen(name), label = 0, i;

	if (len > 0 && name[len - 1] == '.')
		len--;
	if (len == 0 || len > DNSNAME_MAX)
		return false;
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)name[i];

		if (c == '.') {
			if (label == 0)
				return false;
			label = 0;
		} else if (c <= ' ' || c == 0x7f || ++label > 63)
			return false;
	}
	return label > 0;
}
