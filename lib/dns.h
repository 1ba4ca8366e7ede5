/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * dns.h -- relaysign's one DNS layer.
 *
 * SPF checks (spf.c, through libspf2, Debian 12 ships 1.2.10) and DMARC
 * discovery (dmarc.c) get their DNS answers from this layer: an
 * SPF_dns_server_t whose lookup hook is dns.c's layer_lookup, because
 * libspf2's own resolver layer cannot give what relaysign needs:
 *
 *   - A time bound.  libspf2's resolver keeps its res_state in a private
 *     thread key, initialised once from resolv.conf (glibc's defaults:
 *     5 s a try, 2 tries, every nameserver), per query, for as many
 *     queries as the records ask for.  Nothing in its API can change
 *     that.  Our layer owns its res_state and gives each run (an SPF
 *     check, a DMARC discovery) a deadline of timeout seconds: before
 *     each query it sets the resolver's retrans to the time left
 *     divided among the nameservers (glibc waits about retrans seconds
 *     on each one, never less than one second) and retry to 1; once the
 *     deadline has passed, a lookup fails at once with TRY_AGAIN, which
 *     libspf2 turns into temperror.
 *   - TTLs.  libspf2's resolver drops them (SPF_dns_rr_new_init with
 *     ttl 0); ours keeps the smallest TTL of the answers a check used,
 *     which bounds how long spf_vendor_check may cache the result.
 *   - RFC 7208 3.1 and 4.4: only TXT records are SPF records.  1.2.10
 *     asks for type SPF (99) first and, if that lookup fails, never asks
 *     for TXT; our layer answers type SPF with "no data" without a query.
 *   - RFC 7208 4.6.4: more than two void lookups is permerror.  libspf2
 *     does not count them; our layer does (struct dns_facts; spf.c decides).
 *   - RFC 7208 4.4 and 5: an RCODE other than 0 and 3 is temperror, but
 *     libspf2's mechanisms only treat TRY_AGAIN as temporary, so the
 *     layer reports NO_RECOVERY (REFUSED, FORMERR, unparseable answers)
 *     as TRY_AGAIN.
 *
 * A cache of DNS answers (DNSCacheSize, DNSCacheMaxTTL), shared by every
 * context and thread of one struct dns, sits in the layer: the vendor's
 * relays send thousands of notices a day with the same envelope domain,
 * and the answers do not change until their TTL runs out.  libspf2's own
 * cache layer (SPF_dns_cache_new) does not fit: it belongs to one
 * SPF_server_t, so each pooled context would have a cache of its own, it
 * keeps negative answers for a fixed time instead of the SOA minimum, and
 * it has no lock.  Ours is direct-mapped (a name and type hash to one slot;
 * a newer answer replaces an older one there): bounded, O(1), under the
 * struct's mutex.  Answers are kept for their TTL, negative ones
 * (NXDOMAIN, no data) for the SOA minimum of the authority section (RFC
 * 2308 5), at most DNSCacheMaxTTL; SERVFAIL, timeouts and answers without
 * an SOA are not kept.  A cached answer counts as a lookup for the limits
 * of RFC 7208 4.6.4 as a fresh one does, so the result is the same with or
 * without the cache.  A reload makes a new struct dns, and so a new, empty
 * cache: a postmaster who reloads after fixing DNS sees the fix at once.
 *
 * Threads.  A struct dns serves every thread: the cache and the
 * counters are under its mutex.  A run of lookups needs a struct dns_ctx
 * of its own (the res_state, the deadline, the answer buffer): spf.c keeps
 * one with each pooled libspf2 server, dns_txt_lookup takes one from the
 * layer's own pool.
 *
 * Also here: the one reader of TXT RDATA, and a plain TXT query through
 * the system's resolver for the command line (-t, the key check).
 */
#ifndef RELAYSIGN_DNS_H
#define RELAYSIGN_DNS_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "dnsname.h"

/* libspf2's DNS layer type, so tests can hand in a zone without spf2/spf.h. */
struct SPF_dns_server_struct;

/* Longest domain name without the trailing dot (RFC 1035 2.3.4, 3.1). */
#define DNS_NAME_MAX DNSNAME_MAX
/* Default and largest DNSTimeout, seconds. */
#define DNS_TIMEOUT_DEFAULT 10
#define DNS_TIMEOUT_MAX 120
/* DNSCacheSize and DNSCacheMaxTTL: defaults and bounds. */
#define DNS_CACHE_SIZE_DEFAULT 4096
#define DNS_CACHE_MAX 1048576
#define DNS_CACHE_TTL_DEFAULT 3600
/*
 * Most DNS queries one run may send.  RFC 7208 4.6.4 allows 10 terms
 * that query DNS; the costliest, mx and ptr, send 1 query plus at most 10
 * address lookups each: 110.  Add the record itself (1), an exp= TXT (1)
 * and two %{p} validations (1 PTR + 10 A each, 22): 134.  A check that
 * needs more broke the RFC's limits, so it is permerror.  libspf2 checks
 * the 10-term limit for each record on its own, not across include:
 * (XXX: a chain of includes of 10 terms each passes its count), so this
 * cap is what bounds the work an attacker's records can cause.
 */
#define DNS_QUERY_MAX 134
/* RFC 7208 4.6.4: more than this many void lookups is permerror. */
#define DNS_VOID_MAX 2

struct dns_options {
	/*
	 * DNS time one run may use, seconds (1..DNS_TIMEOUT_MAX; 0 means
	 * DNS_TIMEOUT_DEFAULT).  A run ends within about max(timeout,
	 * number of nameservers) seconds plus one: glibc waits at least a
	 * whole second for each nameserver it tries.
	 */
	unsigned timeout;
	/*
	 * "192.0.2.53" or "192.0.2.53:5353": ask this IPv4 nameserver instead
	 * of those in resolv.conf.  NULL: resolv.conf.
	 */
	const char *nameserver;
	/* Answers kept: entries (0: no cache; DNS_CACHE_MAX at most) and the
	   longest an answer is kept whatever its TTL (0: DNS_CACHE_TTL_DEFAULT). */
	size_t cache_size;
	unsigned cache_max_ttl;
	/*
	 * Tests: an SPF_dns_zone_new() zone answers instead of DNS.  Not
	 * owned; it must outlive the struct dns and not change meanwhile.
	 */
	struct SPF_dns_server_struct *test_dns;
	/* Tests: the clock for cache expiry, seconds; NULL: CLOCK_MONOTONIC. */
	time_t (*test_clock)(void);
};

/* Counters since dns_new. */
struct dns_stats {
	unsigned long queries;	/* lookups sent to DNS (or the test zone) */
	unsigned long cached;	/* lookups answered from the cache */
	unsigned long timeouts;	/* runs that ran out of DNS time */
};

/* What one run has done (dns_ctx_facts). */
struct dns_facts {
	unsigned queries;	/* lookups made, from the cache or not (the limits) */
	unsigned sent;		/* lookups sent to DNS (or the test zone) */
	unsigned cached;	/* lookups answered from the cache */
	unsigned voids;		/* RFC 7208 4.6.4 void lookups (A, AAAA, MX, PTR) */
	bool timed_out;		/* a lookup was refused for want of time */
	bool too_many;		/* DNS_QUERY_MAX reached: the rest answered "no such name" */
	long min_ttl;		/* smallest TTL of the answers used; LONG_MAX for none */
};

struct dns;
struct dns_ctx;

/* dns_new: the layer for opt, or NULL with the reason in err.  Nothing is resolved yet. */
struct dns *dns_new(const struct dns_options *opt, char *err, size_t errlen);
/* dns_free: no run may be going on; dns_free(NULL) is a no-op. */
void dns_free(struct dns *dns);
/* dns_timeout: the time one run may use, seconds. */
unsigned dns_timeout(const struct dns *dns);
/* dns_stats: the counters. */
void dns_stats(struct dns *dns, struct dns_stats *st);

/*
 * A run's context: dns_ctx_new makes one (NULL with the reason in err),
 * dns_ctx_layer is the libspf2 layer to build an SPF_server_t on, every
 * run goes dns_ctx_begin (the deadline starts), lookups through the layer,
 * dns_ctx_facts, dns_ctx_end (its counters into the layer's).  One thread
 * at a time.
 */
struct dns_ctx *dns_ctx_new(struct dns *dns, char *err, size_t errlen);
void dns_ctx_free(struct dns_ctx *ctx);
struct SPF_dns_server_struct *dns_ctx_layer(struct dns_ctx *ctx);
void dns_ctx_begin(struct dns_ctx *ctx);
const struct dns_facts *dns_ctx_facts(const struct dns_ctx *ctx);
void dns_ctx_end(struct dns_ctx *ctx);

/* Outcome of dns_txt_lookup. */
enum dns_txt {
	DNS_TXT_FOUND,		/* records in *txt_r */
	DNS_TXT_NONE,		/* NXDOMAIN or no TXT record */
	DNS_TXT_TEMPERROR	/* no answer in time, SERVFAIL, out of memory */
};

/*
 * dns_txt_lookup: the TXT records at name, one run of its own (its own
 * deadline), through the cache.  With DNS_TXT_FOUND, *txt_r is a strv
 * (util.h) the caller frees with strv_free(); otherwise NULL.  err gets
 * the reason of a DNS_TXT_TEMPERROR.
 */
enum dns_txt dns_txt_lookup(struct dns *dns, const char *name, char ***txt_r, char *err,
    size_t errlen);

/*
 * dns_txt_join: the character-strings of one TXT RDATA rdata[0..rdlen)
 * (RFC 1035 3.3.14) joined with no separator into buf, which must hold
 * rdlen bytes (RFC 7208 3.3, RFC 6376 3.6.2.2: the strings of one record
 * are concatenated before use).  Not NUL-terminated.  Returns the length,
 * or -1 when a length byte runs past the RDATA or a string holds a NUL (no
 * SPF record or DKIM tag-list may: a NUL would make a shorter record).
 */
long dns_txt_join(const unsigned char *rdata, size_t rdlen, char *buf);

/*
 * dns_res_txt: the TXT records at name through the resolver of
 * /etc/resolv.conf (res_nquery(3), EDNS0, TCP when truncated), each joined
 * with dns_txt_join, at most max_records of them, none longer than
 * max_len bytes.  Blocking, with glibc's timeouts: for the command line,
 * never for a message.  The records go into *txts_r as a strv (util.h);
 * no record (NXDOMAIN, no TXT at the name) is 0 with *txts_r NULL.
 * Returns 0, or -1 with the reason in err (SERVFAIL, timeout, refused, a
 * malformed answer, a record longer than max_len, out of memory).
 */
int dns_res_txt(const char *name, size_t max_records, size_t max_len, char ***txts_r,
    char *err, size_t errlen);

#endif
