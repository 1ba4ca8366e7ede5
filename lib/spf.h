/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * spf.h -- RFC 7208 SPF checks through libspf2, for the envelope and for
 * the RelaySPFNames relay trust, with a bounded DNS time per check.
 *
 * One struct spf serves every thread of the daemon (libmilter runs one
 * thread per connection): it keeps a mutex-protected pool of libspf2
 * contexts, and a check borrows one for its whole run.  spf.c says why.
 *
 * The DNS is libresolv through a DNS layer of our own, or, for tests, a
 * libspf2 in-memory zone (SPF_dns_zone_new): each check gets at most
 * timeout seconds of DNS time, after which its remaining lookups fail as
 * temporary errors and the result is temperror.
 *
 * libspf2 reports out-of-memory by calling abort() (SPF_error); nothing
 * here can change that.  Its warnings go through the process-wide
 * SPF_warning_handler (stderr by default): the daemon, not lib/, sets it.
 */
#ifndef RELAYSIGN_SPF_H
#define RELAYSIGN_SPF_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>
#include <time.h>

#include "dns.h"
#include "policy.h"

/* Default number of (name, client) results the vendor cache holds. */
#define SPF_CACHE_SIZE_DEFAULT 256
/* RFC 7208 4.6.4: more than this many void lookups is permerror. */
#define SPF_VOID_MAX DNS_VOID_MAX

struct spf_options {
	/*
	 * The DNS layer the checks ask (dns_new: its timeout, nameserver,
	 * cache and test zone), not owned: it must outlive the struct spf.
	 * Required.
	 */
	struct dns *dns;
	/* Longest life of a cached vendor result, seconds; 0 disables the cache. */
	unsigned cache_ttl;
	/* Entries in the vendor cache; 0 means SPF_CACHE_SIZE_DEFAULT. */
	size_t cache_size;
	/* Tests: the clock for the vendor cache, seconds; NULL: CLOCK_MONOTONIC. */
	time_t (*test_clock)(void);
};

/* Counters since spf_new, for the log and for tests. */
struct spf_stats {
	unsigned long checks;       /* check_host evaluations run */
	unsigned long dns_queries;  /* lookups sent to DNS (or the test zone) */
	unsigned long dns_cached;   /* lookups answered from the DNS cache */
	unsigned long timeouts;     /* checks that ran out of DNS time */
	unsigned long cache_hits;   /* vendor results answered from the cache */
	unsigned long cache_misses; /* vendor results that needed a check */
	unsigned long contexts;     /* libspf2 contexts created for the pool */
};

struct spf;

/*
 * spf_new: returns a checker on opt->dns, or NULL with the reason in err.
 * Nothing is resolved yet.
 */
struct spf *spf_new(const struct spf_options *opt, char *err, size_t errlen);
/* spf_free: no check may be running; spf_free(NULL) is a no-op. */
void spf_free(struct spf *spf);
/* spf_dns: the DNS layer the checks use (for DMARC, the same cache). */
struct dns *spf_dns(const struct spf *spf);

/*
 * spf_check_host: RFC 7208 4 check_host() for an SMTP client (AF_INET or
 * AF_INET6; an IPv4-mapped IPv6 address counts as IPv4, RFC 7208 5).
 * mailfrom is the MAIL FROM address without angle brackets; NULL or ""
 * is the null sender, checked as the HELO identity "postmaster@helo"
 * (RFC 7208 2.4).  A mailfrom without "@" is "postmaster@mailfrom"
 * (RFC 7208 4.3).  A malformed or single-label domain is "none"
 * (RFC 7208 4.3).  Never POLICY_SPF_UNCHECKED.  why (may be NULL) gets
 * a one-line reason for the log, e.g. "domain of example.org designates
 * 192.0.2.1 as permitted sender" or "Temporary DNS failure for 'x'".
 * Unlike libspf2's own entry points, loopback clients get no free pass.
 */
enum policy_spf spf_check_host(struct spf *spf, const struct sockaddr *client, const char *helo,
                               const char *mailfrom, char *why, size_t whylen);

/*
 * spf_vendor_check: the RelaySPFNames relay trust: client is a vendor
 * relay when check_host(client, name, "postmaster@name") is pass for a
 * name in names (a NULL-terminated list).  Returns POLICY_SPF_PASS with
 * *matched_r (may be NULL) pointing at that entry of names; otherwise
 * *matched_r is NULL and the result is POLICY_SPF_TEMPERROR if any name
 * had a temporary error, else POLICY_SPF_PERMERROR if any had a
 * permanent one, else the first name's result (POLICY_SPF_NONE for an
 * empty list).  Results other than temperror are cached per (name,
 * client) for the smallest TTL of the records seen, at most cache_ttl.
 */
enum policy_spf spf_vendor_check(struct spf *spf, const struct sockaddr *client, char *const *names,
                                 const char **matched_r);

/* spf_stats: copies the counters into *st. */
void spf_stats(struct spf *spf, struct spf_stats *st);

#endif
