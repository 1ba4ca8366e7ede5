/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * align.c -- RFC 7489 3.1 identifier alignment and 3.2 organizational
 * domains, with libpsl's Public Suffix List and libidn2.
 *
 * No PSL logic lives here: libpsl finds registrable domains and public
 * suffixes; this file only normalizes names and compares them.
 */
#include <ctype.h>
#include <idn2.h>
#include <libpsl.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "align.h"
#include "util.h"

/* The checker: the list and the configured boundaries, read-only. */
struct align {
	psl_ctx_t *psl;
	char **boundaries; /* strv, normalized */
};

/* align_free: releases al. */
void
align_free(struct align *al)
{
	if (al == NULL)
		return;
	psl_free(al->psl);
	strv_free(al->boundaries);
	free(al);
}

/* align_normalize: lowercase A-labels, no trailing dot, or NULL. */
const char *
align_normalize(const char *domain, char *buf, size_t len)
{
	char *ace = NULL;
	const char *d = domain;
	size_t n, i, label = 0;
	bool ascii = true;

	if (d == NULL || *d == '\0' || len == 0)
		return NULL;
	for (i = 0; d[i] != '\0'; i++)
		if ((unsigned char)d[i] >= 0x80)
			ascii = false;
	if (!ascii) {
		/* IDNA2008 with the UTS #46 mapping: case folding, NFC. */
		if (idn2_lookup_u8((const uint8_t *)d, (uint8_t **)&ace,
		                   IDN2_NFC_INPUT | IDN2_NONTRANSITIONAL) != IDN2_OK)
			return NULL;
		d = ace;
	}
	n = strlen(d);
	if (n > 0 && d[n - 1] == '.')
		n--;
	if (n == 0 || n > ALIGN_DOMAIN_MAX - 1 || n >= len) {
		idn2_free(ace);
		return NULL;
	}
	/* RFC 1035 2.3.4: labels of 1 to 63 octets; letters, digits, '-', '_'. */
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)tolower((unsigned char)d[i]);

		if (c == '.') {
			if (label == 0)
				break;
			label = 0;
		} else if (!isalnum(c) && c != '-' && c != '_')
			break;
		else if (++label > 63)
			break;
		buf[i] = (char)c;
	}
	idn2_free(ace);
	if (i < n || label == 0)
		return NULL;
	buf[n] = '\0';
	return buf;
}

/* at_or_below: true if d is b or a name below b. */
static bool
at_or_below(const char *d, const char *b)
{
	size_t dl = strlen(d), bl = strlen(b);

	if (dl == bl)
		return strcmp(d, b) == 0;
	return dl > bl && d[dl - bl - 1] == '.' && strcmp(d + dl - bl, b) == 0;
}

/* align_new: loads the list and checks the boundaries. */
struct align *
align_new(const char *psl_file, char *const *boundaries, char *err, size_t errlen)
{
	struct align *al;
	char b[ALIGN_DOMAIN_MAX];
	size_t i;

	if ((al = calloc(1, sizeof(*al))) == NULL) {
		util_seterr(err, errlen, "out of memory");
		return NULL;
	}
	al->psl = psl_file != NULL ? psl_load_file(psl_file) : psl_latest(NULL);
	if (al->psl == NULL) {
		util_seterr(err, errlen, "cannot load the public suffix list %s",
		            psl_file != NULL ? psl_file : "(built-in or /usr/share/publicsuffix)");
		goto fail;
	}
	for (i = 0; boundaries != NULL && boundaries[i] != NULL; i++) {
		if (align_normalize(boundaries[i], b, sizeof(b)) == NULL) {
			util_seterr(err, errlen, "organizational domain \"%s\": not a domain name",
			            boundaries[i]);
			goto fail;
		}
		if (strchr(b, '.') == NULL) {
			util_seterr(err, errlen,
			            "organizational domain \"%s\": a single label would join every "
			            "domain below it",
			            boundaries[i]);
			goto fail;
		}
		/*
		 * An ICANN public suffix (edu, ac.uk) would make every
		 * institution below it one organization.  Private-section
		 * suffixes (git-pages.rit.edu) are what boundaries are for.
		 */
		if (psl_is_public_suffix2(al->psl, b, PSL_TYPE_ICANN | PSL_TYPE_NO_STAR_RULE)) {
			util_seterr(
			    err, errlen,
			    "organizational domain \"%s\": a public suffix (ICANN section of the "
			    "list)",
			    boundaries[i]);
			goto fail;
		}
		if (strv_push(&al->boundaries, b) == -1) {
			util_seterr(err, errlen, "out of memory");
			goto fail;
		}
	}
	return al;
fail:
	align_free(al);
	return NULL;
}

/* align_org_domain: RFC 7489 3.2 organizational domain. */
const char *
align_org_domain(const struct align *al, const char *domain, char *buf, size_t len)
{
	char d[ALIGN_DOMAIN_MAX];
	const char *org = NULL;
	size_t i;

	if (align_normalize(domain, d, sizeof(d)) == NULL)
		return NULL;
	for (i = 0; al->boundaries != NULL && al->boundaries[i] != NULL; i++)
		if (at_or_below(d, al->boundaries[i]) &&
		    (org == NULL || strlen(al->boundaries[i]) > strlen(org)))
			org = al->boundaries[i];
	/* RFC 7489 3.2 steps 3-4; a public suffix is its own (see align.h). */
	if (org == NULL && (org = psl_registrable_domain(al->psl, d)) == NULL)
		org = d;
	if (util_strlcpy(buf, org, len) >= len)
		return NULL;
	return buf;
}

/* align_check: RFC 7489 3.1 identifier alignment. */
enum align_result
align_check(const struct align *al, enum align_mode mode, const char *from_domain,
            const char *env_domain)
{
	char f[ALIGN_DOMAIN_MAX], e[ALIGN_DOMAIN_MAX];

	if (align_normalize(env_domain, e, sizeof(e)) == NULL)
		return ALIGN_NONE;
	if (align_normalize(from_domain, f, sizeof(f)) == NULL)
		return ALIGN_FAIL;
	if (strcmp(f, e) == 0)
		return ALIGN_PASS;
	if (mode == ALIGN_STRICT)
		return ALIGN_FAIL;
	/* RFC 7489 3.1.2: relaxed means the same organizational domain. */
	if (align_org_domain(al, f, f, sizeof(f)) == NULL ||
	    align_org_domain(al, e, e, sizeof(e)) == NULL)
		return ALIGN_FAIL;
	return strcmp(f, e) == 0 ? ALIGN_PASS : ALIGN_FAIL;
}

/* align_result_name: "pass", "fail", "none". */
const char *
align_result_name(enum align_result r)
{
	switch (r) {
	case ALIGN_PASS:
		return "pass";
	case ALIGN_FAIL:
		return "fail";
	case ALIGN_NONE:
	default:
		return "none";
	}
}

/* align_mode_name: "relaxed", "strict". */
const char *
align_mode_name(enum align_mode mode)
{
	return mode == ALIGN_STRICT ? "strict" : "relaxed";
}
