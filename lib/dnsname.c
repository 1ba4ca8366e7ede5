/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * dnsname.c -- the one rule for signing domains and selectors (dnsname.h).
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
