/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * align.h -- RFC 7489 3.1 identifier alignment of the RFC5322.From domain
 * with the envelope domain (the MAIL FROM domain, or the HELO name for
 * the null sender), and RFC 7489 3.2 organizational domains through
 * libpsl and the Public Suffix List.
 *
 * Domains are compared as lowercase A-labels without the trailing dot:
 * U-labels are converted with libidn2 (IDNA2008, UTS #46 non-transitional
 * mapping), so "Bücher.DE." and "xn--bcher-kva.de" are the same domain.
 *
 * A struct align is immutable once made; any number of threads may use
 * one at once (libpsl lookups only read the list).
 */
#ifndef RELAYSIGN_ALIGN_H
#define RELAYSIGN_ALIGN_H

#include <stddef.h>

/* A domain name as text (RFC 1035 2.3.4: 253 octets) plus NUL. */
#define ALIGN_DOMAIN_MAX 254

/* RFC 7489 3.1.1, 3.1.2: adkim= / aspf= "r" and "s". */
enum align_mode {
	ALIGN_RELAXED = 0, /* same organizational domain */
	ALIGN_STRICT       /* the same domain, never the organizational one */
};

enum align_result {
	ALIGN_PASS = 0,
	ALIGN_FAIL, /* not aligned, or the From domain is missing or not a domain */
	ALIGN_NONE  /* no envelope domain: nothing to align with */
};

struct align;

/*
 * align_new: loads the Public Suffix List from psl_file, or, when it is
 * NULL, the newer of libpsl's built-in list and Debian's
 * /usr/share/publicsuffix (psl_latest).  boundaries (a NULL-terminated
 * list, or NULL) are domains that are organizational domains themselves,
 * with everything below them: for a university whose subdomains sit in the
 * PSL's private section (git-pages.rit.edu makes each of its subdomains
 * an organization of its own; "rit.edu" here puts them back under
 * rit.edu), or to keep library.example.edu apart from example.edu.  The
 * deepest boundary that is a domain or one of its parents wins over the
 * PSL.  A boundary that is not a domain, has one label, or is a public
 * suffix of the PSL's ICANN section (edu, co.uk) is an error.  Returns
 * NULL with the reason in err.
 */
struct align *align_new(const char *psl_file, char *const *boundaries, char *err, size_t errlen);
/* align_free: align_free(NULL) is a no-op. */
void align_free(struct align *al);

/*
 * align_normalize: domain as lowercase A-labels without the trailing dot
 * into buf (len octets; ALIGN_DOMAIN_MAX suffices); returns buf, or NULL
 * when domain is NULL, empty, not a domain name (empty or over-long
 * labels, characters other than letters, digits, '-' and '_'), fails
 * IDNA2008, or does not fit.
 */
const char *align_normalize(const char *domain, char *buf, size_t len);

/*
 * align_org_domain: RFC 7489 3.2 organizational domain of domain into buf
 * (normalized as above); returns buf, or NULL as align_normalize does.
 * The deepest configured boundary at or above domain wins; otherwise the
 * PSL's registrable domain (psl_registrable_domain: both sections of the
 * list).  A domain that is itself a public suffix (co.uk, github.io) has
 * no registrable domain, and RFC 7489 3.2 step 4 leaves it undefined;
 * as in RFC 9091 (DMARC for public suffix domains) it is its own
 * organizational domain here, so it aligns only with itself.
 */
const char *align_org_domain(const struct align *al, const char *domain, char *buf, size_t len);

/*
 * align_check: RFC 7489 3.1 alignment of from_domain (the RFC5322.From
 * domain) with env_domain (the MAIL FROM domain, or the HELO name for the
 * null sender).  ALIGN_STRICT: the same domain (RFC 7489 3.1.2 "exact
 * match"), never falling back to organizational domains.  ALIGN_RELAXED:
 * the same organizational domain.  ALIGN_NONE when env_domain is NULL,
 * empty or no domain (an address literal HELO); ALIGN_FAIL when
 * from_domain is.
 */
enum align_result align_check(const struct align *al, enum align_mode mode, const char *from_domain,
                              const char *env_domain);

/* align_result_name: "pass", "fail", "none". */
const char *align_result_name(enum align_result r);
/* align_mode_name: "relaxed", "strict". */
const char *align_mode_name(enum align_mode mode);

#endif
