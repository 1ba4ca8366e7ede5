/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * spf.c -- RFC 7208 SPF checks through libspf2, with a DNS layer of our own.
 *
 * libspf2 (Debian 12 ships 1.2.10) evaluates the records; this file feeds
 * it DNS answers through a layer of ours (an SPF_dns_server_t whose lookup
 * hook is layer_lookup), because its own resolver layer cannot give what
 * relaysign needs:
 *
 *   - A time bound.  libspf2's resolver keeps its res_state in a private
 *     thread key, initialised once from resolv.conf (glibc's defaults:
 *     5 s a try, 2 tries, every nameserver), per query, for as many
 *     queries as the records ask for.  Nothing in its API can change
 *     that.  Our layer owns its res_state and gives each check a deadline
 *     of timeout seconds: before each query it sets the resolver's
 *     retrans to the time left divided among the nameservers (glibc
 *     waits about retrans seconds on each one, never less than one
 *     second) and retry to 1; once the deadline has passed, a lookup
 *     fails at once with TRY_AGAIN, which libspf2 turns into temperror.
 *   - TTLs.  libspf2's resolver drops them (SPF_dns_rr_new_init with
 *     ttl 0); ours keeps the smallest TTL of the answers a check used,
 *     which bounds how long spf_vendor_check may cache the result.
 *   - RFC 7208 3.1 and 4.4: only TXT records are SPF records.  1.2.10
 *     asks for type SPF (99) first and, if that lookup fails, never asks
 *     for TXT; our layer answers type SPF with "no data" without a query.
 *   - RFC 7208 4.6.4: more than two void lookups is permerror.  libspf2
 *     does not count them; our layer does (see layer_lookup).
 *   - RFC 7208 4.4 and 5: an RCODE other than 0 and 3 is temperror, but
 *     libspf2's mechanisms only treat TRY_AGAIN as temporary, so the
 *     layer reports NO_RECOVERY (REFUSED, FORMERR, unparseable answers)
 *     as TRY_AGAIN.
 *
 * A cache of DNS answers (DNSCacheSize, DNSCacheMaxTTL), shared by every
 * context and thread of one struct spf, sits in the layer: the vendor's
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
 * without the cache.  A reload makes a new struct spf, and so a new, empty
 * cache: a postmaster who reloads after fixing DNS sees the fix at once.
 *
 * DNS messages are taken apart by libresolv (ns_initparse, ns_parserr,
 * ns_name_uncompress); the character-strings inside a TXT RDATA by
 * dns_txt_join (dns.c), the one TXT reader.
 *
 * Threads.  libmilter runs each connection in a thread of its own, so
 * checks run concurrently.  libspf2 reaches the DNS layer only through the
 * server (SPF_server_t.resolver; no per-request argument), and our layer
 * holds per-check state (deadline, counters, the res_state and its answer
 * buffer), so one server with its layer can run one check at a time.
 * libspf2's SPF_server_t itself is only read during a check, and its own
 * resolver layer would keep a res_state per thread, but neither helps with
 * our per-check state.  So a struct spf keeps a pool of contexts (server +
 * layer + res_state): a check takes an idle one under the mutex, or makes
 * a new one, runs with no lock held, and puts it back.  The pool grows to
 * the number of concurrent checks and is freed whole by spf_free.  A
 * pthread key per thread would also do, but its destructor runs at thread
 * exit, possibly after a reload has freed the struct spf the context
 * points into; the pool has one owner.  The test zone is shared by all
 * contexts: SPF_dns_zone_lookup only reads it (it returns a copy).
 *
 * XXX: libspf2 1.2.10 drops the first octet of a %{dN} expansion that
 * keeps the whole name (%{d2} of "macro-l.test" is "acro-l.test";
 * shevek/libspf2 issue #42).  Macro expansion happens inside libspf2 and
 * cannot be fixed from here; t_spf shows the behaviour.
 *
 * libspf2's SPF_request_query_mailfrom() passes every loopback client
 * (127/8, ::1) without looking at any record; RFC 7208 has no such rule,
 * and for RelaySPFNames it would trust every local process, so check()
 * calls the exported steps of that function (SPF_server_get_record,
 * SPF_record_interpret) without the free pass.
 */
#include <sys/types.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <arpa/nameser.h>
#include <netdb.h>
#include <resolv.h>
#include <spf2/spf.h>

#include <ctype.h>
#include <errno.h>
#include <idn2.h>
#include <limits.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "align.h"
#include "dns.h"
#include "spf.h"
#include "util.h"

/* Longest domain name without the trailing dot (RFC 1035 2.3.4, 3.1). */
#define SPF_NAME_MAX 253
/* Longest MAIL FROM we evaluate: RFC 5321 4.5.3.1.1 local-part and a domain. */
#define SPF_SENDER_MAX (64 + 1 + SPF_NAME_MAX)
/*
 * Most DNS queries one check may send.  RFC 7208 4.6.4 allows 10 terms
 * that query DNS; the costliest, mx and ptr, send 1 query plus at most 10
 * address lookups each: 110.  Add the record itself (1), an exp= TXT (1)
 * and two %{p} validations (1 PTR + 10 A each, 22): 134.  A check that
 * needs more broke the RFC's limits, so it is permerror.  libspf2 checks
 * the 10-term limit for each record on its own, not across include:
 * (XXX: a chain of includes of 10 terms each passes its count), so this
 * cap is what bounds the work an attacker's records can cause.
 */
#define SPF_QUERY_MAX 134
/* Largest vendor cache we accept. */
#define SPF_CACHE_SIZE_MAX 65536

/* One cached spf_vendor_check result, keyed by (name, client). */
struct spf_cache_entry {
	char name[SPF_NAME_MAX + 1]; /* lowercase */
	int family;                  /* AF_INET or AF_INET6; 0 for a free slot */
	unsigned char addr[16];
	enum policy_spf result;
	time_t expires; /* test_clock or CLOCK_MONOTONIC seconds */
};

/* One cached DNS answer. */
struct spf_dns_entry {
	char name[SPF_NAME_MAX + 1]; /* lowercase; "" for a free slot */
	ns_type type;
	SPF_dns_rr_t *rr; /* a copy, owned */
	time_t expires;   /* spf->clock seconds */
};

/* One libspf2 server, our DNS layer under it, and that layer's state. */
struct spf_ctx {
	struct spf_ctx *next; /* idle list */
	struct spf *spf;
	SPF_server_t *server;
	SPF_dns_server_t layer; /* hook points back here */
	struct __res_state res;
	bool res_open;
	/* Per check, reset by ctx_get: */
	struct timespec deadline;
	unsigned queries; /* lookups made, from the cache or not (the limits) */
	unsigned sent;    /* lookups sent to DNS (or the test zone) */
	unsigned cached;  /* lookups answered from the DNS cache */
	unsigned voids;   /* RFC 7208 4.6.4 void lookups */
	bool timed_out;   /* a lookup was refused for want of time */
	bool too_many;    /* SPF_QUERY_MAX reached */
	long min_ttl;     /* smallest TTL of the answers used; LONG_MAX for none */
	unsigned char answer[NS_MAXMSG];
};

/* The checker: its options, the pool of contexts, the vendor cache. */
struct spf {
	unsigned timeout;
	unsigned cache_ttl;
	size_t cache_size;
	bool have_ns;
	struct sockaddr_in ns;
	SPF_dns_server_t *zone;
	time_t (*clock)(void);

	pthread_mutex_t lock; /* guards the members below */
	struct spf_ctx *idle;
	struct spf_cache_entry *cache;
	struct spf_dns_entry *dns; /* DNS answers; NULL when off */
	size_t dns_size;
	unsigned dns_max_ttl;
	struct spf_stats stats;
};

/* Client address as a cache key. */
struct spf_addr {
	int family;
	unsigned char addr[16];
};

/* mono_now: seconds of CLOCK_MONOTONIC. */
static time_t
mono_now(void)
{
	struct timespec ts;

	(void)clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec;
}

/* parse_nameserver: "a.b.c.d" or "a.b.c.d:port" into *sin. */
static int
parse_nameserver(const char *text, struct sockaddr_in *sin, char *err, size_t errlen)
{
	char host[INET_ADDRSTRLEN];
	const char *colon = strchr(text, ':');
	size_t len = colon != NULL ? (size_t)(colon - text) : strlen(text);
	unsigned long port = NAMESERVER_PORT;
	char *end;

	memset(sin, 0, sizeof(*sin));
	if (len == 0 || len >= sizeof(host))
		return util_seterr(err, errlen, "nameserver \"%s\": not an IPv4 address", text);
	memcpy(host, text, len);
	host[len] = '\0';
	if (inet_pton(AF_INET, host, &sin->sin_addr) != 1)
		return util_seterr(err, errlen, "nameserver \"%s\": not an IPv4 address", text);
	if (colon != NULL) {
		errno = 0;
		if (!isdigit((unsigned char)colon[1]))
			return util_seterr(err, errlen, "nameserver \"%s\": bad port", text);
		port = strtoul(colon + 1, &end, 10);
		if (errno != 0 || *end != '\0' || port == 0 || port > 65535)
			return util_seterr(err, errlen, "nameserver \"%s\": bad port", text);
	}
	sin->sin_family = AF_INET;
	sin->sin_port = htons((uint16_t)port);
	return 0;
}

/* spf_new: a checker for opt (NULL: defaults). */
struct spf *
spf_new(const struct spf_options *opt, char *err, size_t errlen)
{
	static const struct spf_options defaults = {.cache_ttl = SPF_CACHE_TTL_DEFAULT};
	struct spf *spf;

	if (opt == NULL)
		opt = &defaults;
	if (opt->timeout > SPF_TIMEOUT_MAX) {
		util_seterr(err, errlen, "DNS timeout %u s: at most %u s", opt->timeout,
		            SPF_TIMEOUT_MAX);
		return NULL;
	}
	if (opt->cache_size > SPF_CACHE_SIZE_MAX) {
		util_seterr(err, errlen, "SPF cache of %zu entries: at most %d", opt->cache_size,
		            SPF_CACHE_SIZE_MAX);
		return NULL;
	}
	if ((spf = calloc(1, sizeof(*spf))) == NULL) {
		util_seterr(err, errlen, "out of memory");
		return NULL;
	}
	spf->timeout = opt->timeout != 0 ? opt->timeout : SPF_TIMEOUT_DEFAULT;
	spf->cache_ttl = opt->cache_ttl;
	spf->cache_size = opt->cache_size != 0 ? opt->cache_size : SPF_CACHE_SIZE_DEFAULT;
	spf->zone = opt->test_dns;
	spf->clock = opt->test_clock != NULL ? opt->test_clock : mono_now;
	if (opt->nameserver != NULL) {
		if (parse_nameserver(opt->nameserver, &spf->ns, err, errlen) == -1) {
			free(spf);
			return NULL;
		}
		spf->have_ns = true;
	}
	if (opt->dns_cache_size > SPF_DNS_CACHE_MAX) {
		free(spf);
		util_seterr(err, errlen, "DNS cache of %zu entries: at most %d",
		            opt->dns_cache_size, SPF_DNS_CACHE_MAX);
		return NULL;
	}
	spf->dns_size = opt->dns_cache_size;
	spf->dns_max_ttl = opt->dns_cache_max_ttl != 0 ? opt->dns_cache_max_ttl
	                                               : SPF_DNS_CACHE_TTL_DEFAULT;
	if ((spf->cache_ttl > 0 &&
	     (spf->cache = calloc(spf->cache_size, sizeof(*spf->cache))) == NULL) ||
	    (spf->dns_size > 0 && (spf->dns = calloc(spf->dns_size, sizeof(*spf->dns))) == NULL)) {
		free(spf->cache);
		free(spf);
		util_seterr(err, errlen, "out of memory");
		return NULL;
	}
	if (pthread_mutex_init(&spf->lock, NULL) != 0) {
		free(spf->cache);
		free(spf->dns);
		free(spf);
		util_seterr(err, errlen, "pthread_mutex_init failed");
		return NULL;
	}
	return spf;
}

/* ctx_free: releases one context. */
static void
ctx_free(struct spf_ctx *ctx)
{
	if (ctx == NULL)
		return;
	if (ctx->server != NULL)
		SPF_server_free(ctx->server);
	if (ctx->res_open)
		res_nclose(&ctx->res);
	free(ctx);
}

/* spf_free: releases the checker and its pool. */
void
spf_free(struct spf *spf)
{
	struct spf_ctx *ctx, *next;

	if (spf == NULL)
		return;
	for (ctx = spf->idle; ctx != NULL; ctx = next) {
		next = ctx->next;
		ctx_free(ctx);
	}
	pthread_mutex_destroy(&spf->lock);
	free(spf->cache);
	for (size_t i = 0; i < spf->dns_size; i++)
		if (spf->dns[i].rr != NULL)
			SPF_dns_rr_free(spf->dns[i].rr);
	free(spf->dns);
	free(spf);
}

/* ms_left: milliseconds until the context's deadline (negative when past). */
static long
ms_left(const struct spf_ctx *ctx)
{
	struct timespec now;

	(void)clock_gettime(CLOCK_MONOTONIC, &now);
	return (long)(ctx->deadline.tv_sec - now.tv_sec) * 1000 +
	       (ctx->deadline.tv_nsec - now.tv_nsec) / 1000000;
}

/* rr_new: an answer with no records; aborts (in libspf2) when out of memory. */
static SPF_dns_rr_t *
rr_new(SPF_dns_server_t *layer, const char *domain, ns_type type, int herrno)
{
	return SPF_dns_rr_new_init(layer, domain, type, 0, herrno);
}

/* rr_add: appends len bytes of data as record n of rr; -1 when out of memory. */
static int
rr_add(SPF_dns_rr_t *rr, int n, const void *data, size_t len, bool string)
{
	if (SPF_dns_rr_buf_realloc(rr, n, len + (string ? 1 : 0)) != SPF_E_SUCCESS)
		return -1;
	memcpy(rr->rr[n], data, len);
	if (string)
		((char *)rr->rr[n])[len] = '\0';
	return 0;
}

/*
 * negative_ttl: how long a negative answer may be kept (RFC 2308 5): the
 * smaller of the authority SOA's TTL and its MINIMUM field; 0 (not kept)
 * without an SOA.
 */
static long
negative_ttl(ns_msg *msg)
{
	int i, count = ns_msg_count(*msg, ns_s_ns);
	ns_rr r;

	for (i = 0; i < count; i++) {
		const unsigned char *rd, *end;
		int skip;
		uint32_t minimum;

		if (ns_parserr(msg, ns_s_ns, i, &r) < 0)
			return 0;
		if (ns_rr_type(r) != ns_t_soa)
			continue;
		rd = ns_rr_rdata(r);
		end = rd + ns_rr_rdlen(r);
		/* MNAME and RNAME, then SERIAL REFRESH RETRY EXPIRE MINIMUM. */
		if ((skip = dn_skipname(rd, end)) < 0)
			return 0;
		rd += skip;
		if ((skip = dn_skipname(rd, end)) < 0)
			return 0;
		rd += skip;
		if (end - rd < 20)
			return 0;
		minimum = ns_get32(rd + 16);
		return (long)(minimum < ns_rr_ttl(r) ? minimum : ns_rr_ttl(r));
	}
	return 0;
}

/*
 * resolv_lookup: one query through the context's res_state, bounded by
 * left_ms, as a libspf2 answer.  Records of other types (the CNAMEs of a
 * chain) are skipped, as libspf2's own resolver does.
 */
static SPF_dns_rr_t *
resolv_lookup(struct spf_ctx *ctx, const char *domain, ns_type type, long left_ms)
{
	SPF_dns_rr_t *rr;
	ns_msg msg;
	ns_rr r;
	char name[NS_MAXDNAME];
	unsigned char query[NS_PACKETSZ];
	int len, qlen, count, i, n = 0, nscount, secs;
	long ttl = LONG_MAX, tlen;
	const unsigned char *rdata;
	size_t rdlen;
	bool bad = false;

	nscount = ctx->res.nscount > 0 ? ctx->res.nscount : 1;
	/*
	 * libresolv counts whole seconds: round up, or a check that has used
	 * 1 ms of a 2 s budget would give its query only 1 s.  The deadline
	 * check before each query keeps the overrun under a second.
	 */
	secs = (int)((left_ms + 999) / 1000);
	secs = (secs + nscount - 1) / nscount;
	ctx->res.retrans = secs >= 1 ? secs : 1;
	ctx->res.retry = 1;
	/*
	 * res_nsend rather than res_nquery: it hands back the answer whatever
	 * its RCODE, so that an NXDOMAIN's SOA (the negative TTL, RFC 2308)
	 * can be read too.  It retries over TCP on a truncated answer as
	 * res_nquery does.
	 */
	qlen = res_nmkquery(&ctx->res, ns_o_query, domain, ns_c_in, type, NULL, 0, NULL, query,
	                    sizeof(query));
	if (qlen < 0)
		return rr_new(&ctx->layer, domain, type, NO_RECOVERY);
	len = res_nsend(&ctx->res, query, qlen, ctx->answer, sizeof(ctx->answer));
	if (len < 0)
		return rr_new(&ctx->layer, domain, type, TRY_AGAIN); /* no answer in time */
	if (len > (int)sizeof(ctx->answer))
		len = sizeof(ctx->answer);
	rr = rr_new(&ctx->layer, domain, type, NETDB_SUCCESS);
	if (rr == NULL)
		return NULL;
	if (ns_initparse(ctx->answer, len, &msg) < 0) {
		rr->herrno = NO_RECOVERY;
		return rr;
	}
	switch (ns_msg_getflag(msg, ns_f_rcode)) {
	case ns_r_noerror:
		break;
	case ns_r_nxdomain:
		rr->herrno = HOST_NOT_FOUND;
		rr->ttl = negative_ttl(&msg);
		return rr;
	case ns_r_servfail:
		rr->herrno = TRY_AGAIN;
		return rr;
	default:
		rr->herrno = NO_RECOVERY; /* REFUSED, FORMERR, NOTIMP ... */
		return rr;
	}
	count = ns_msg_count(msg, ns_s_an);
	for (i = 0; i < count && !bad; i++) {
		if (ns_parserr(&msg, ns_s_an, i, &r) < 0) {
			bad = true;
			break;
		}
		if (ns_rr_type(r) != type || ns_rr_class(r) != ns_c_in)
			continue;
		rdata = ns_rr_rdata(r);
		rdlen = ns_rr_rdlen(r);
		switch (type) {
		case ns_t_a:
			if (rdlen != 4 || rr_add(rr, n, rdata, 4, false) == -1)
				bad = true;
			break;
		case ns_t_aaaa:
			if (rdlen != 16 || rr_add(rr, n, rdata, 16, false) == -1)
				bad = true;
			break;
		case ns_t_mx:
		case ns_t_ptr:
			if (type == ns_t_mx && rdlen < NS_INT16SZ) {
				bad = true;
				break;
			}
			if (ns_name_uncompress(ns_msg_base(msg), ns_msg_end(msg),
			                       rdata + (type == ns_t_mx ? NS_INT16SZ : 0), name,
			                       sizeof(name)) < 0 ||
			    rr_add(rr, n, name, strlen(name), true) == -1)
				bad = true;
			break;
		case ns_t_txt:
			if (SPF_dns_rr_buf_realloc(rr, n, rdlen + 1) != SPF_E_SUCCESS) {
				bad = true;
				break;
			}
			if ((tlen = dns_txt_join(rdata, rdlen, rr->rr[n]->txt)) < 0)
				continue; /* a record no SPF or DMARC text can be */
			rr->rr[n]->txt[tlen] = '\0';
			break;
		default:
			continue;
		}
		if (bad)
			break;
		if ((long)ns_rr_ttl(r) < ttl)
			ttl = (long)ns_rr_ttl(r);
		n++;
	}
	rr->num_rr = n;
	if (bad) {
		rr->num_rr = 0;
		rr->herrno = NO_RECOVERY;
	} else if (n > 0)
		rr->ttl = ttl;
	else
		rr->ttl = negative_ttl(&msg); /* no data: kept like NXDOMAIN */
	return rr;
}

/*
 * name_ok: true for a name DNS can hold: 1 to 253 octets without the
 * trailing dot, labels of 1 to 63 octets, no control characters or space.
 */
static bool
name_ok(const char *name)
{
	size_t len = strlen(name), label = 0, i;

	if (len > 0 && name[len - 1] == '.')
		len--;
	if (len == 0 || len > SPF_NAME_MAX)
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

/* dns_slot: the cache slot of (name, type): FNV-1a of the lowercase name. */
static size_t
dns_slot(const struct spf *spf, const char *name, ns_type type)
{
	uint32_t h = 2166136261u ^ (uint32_t)type;

	for (; *name != '\0'; name++) {
		h ^= (unsigned char)tolower((unsigned char)*name);
		h *= 16777619u;
	}
	return h % spf->dns_size;
}

/*
 * dns_get: a copy of the cached answer for (name, type), its TTL set to
 * what is left of it, or NULL.
 */
static SPF_dns_rr_t *
dns_get(struct spf *spf, const char *name, ns_type type)
{
	struct spf_dns_entry *e;
	SPF_dns_rr_t *copy = NULL;
	time_t now = spf->clock();

	if (spf->dns == NULL)
		return NULL;
	pthread_mutex_lock(&spf->lock);
	e = &spf->dns[dns_slot(spf, name, type)];
	if (e->rr != NULL && e->type == type && strcasecmp(e->name, name) == 0) {
		if (e->expires > now) {
			if (SPF_dns_rr_dup(&copy, e->rr) != SPF_E_SUCCESS)
				copy = NULL;
			else
				copy->ttl = e->expires - now;
		} else {
			SPF_dns_rr_free(e->rr);
			e->rr = NULL;
			e->name[0] = '\0';
		}
	}
	pthread_mutex_unlock(&spf->lock);
	return copy;
}

/* dns_put: keeps a copy of an answer for its TTL, at most dns_max_ttl. */
static void
dns_put(struct spf *spf, const char *name, ns_type type, SPF_dns_rr_t *rr)
{
	struct spf_dns_entry *e;
	SPF_dns_rr_t *copy = NULL;
	time_t ttl = rr->ttl;
	size_t len = strlen(name), i;

	if (spf->dns == NULL || ttl <= 0 || len > SPF_NAME_MAX ||
	    (rr->herrno != NETDB_SUCCESS && rr->herrno != HOST_NOT_FOUND && rr->herrno != NO_DATA))
		return;
	if (ttl > (time_t)spf->dns_max_ttl)
		ttl = (time_t)spf->dns_max_ttl;
	if (SPF_dns_rr_dup(&copy, rr) != SPF_E_SUCCESS)
		return;
	pthread_mutex_lock(&spf->lock);
	e = &spf->dns[dns_slot(spf, name, type)];
	if (e->rr != NULL)
		SPF_dns_rr_free(e->rr);
	e->rr = copy;
	e->type = type;
	e->expires = spf->clock() + ttl;
	for (i = 0; i <= len; i++)
		e->name[i] = (char)tolower((unsigned char)name[i]);
	pthread_mutex_unlock(&spf->lock);
}

/*
 * layer_lookup: libspf2's lookup hook.  Every DNS question of a check
 * comes here; see the top of this file for what it adds.  It never
 * returns NULL except out of memory (libspf2 then aborts).
 */
static SPF_dns_rr_t *
layer_lookup(SPF_dns_server_t *layer, const char *domain, ns_type type, int should_cache)
{
	struct spf_ctx *ctx = layer->hook;
	SPF_dns_rr_t *rr;
	long left;

	/* RFC 7208 3.1, 4.4: the SPF RR type is gone; only TXT is asked. */
	if (type == ns_t_spf)
		return rr_new(layer, domain, type, NO_DATA);
	/* The verdict is permerror already (see check); spare the DNS. */
	if (ctx->voids > SPF_VOID_MAX || ctx->too_many)
		return rr_new(layer, domain, type, HOST_NOT_FOUND);
	if (ctx->queries >= SPF_QUERY_MAX) {
		ctx->too_many = true;
		return rr_new(layer, domain, type, HOST_NOT_FOUND);
	}
	/* RFC 7208 4.8: a name that cannot be queried matches nothing. */
	if (domain == NULL || !name_ok(domain))
		return rr_new(layer, domain, type, HOST_NOT_FOUND);
	if ((left = ms_left(ctx)) <= 0) {
		ctx->timed_out = true;
		return rr_new(layer, domain, type, TRY_AGAIN);
	}
	ctx->queries++;
	if ((rr = dns_get(ctx->spf, domain, type)) != NULL)
		ctx->cached++;
	else {
		ctx->sent++;
		if (ctx->spf->zone != NULL)
			rr = SPF_dns_lookup(ctx->spf->zone, domain, type, should_cache);
		else
			rr = resolv_lookup(ctx, domain, type, left);
		if (rr == NULL)
			return NULL;
		if (rr->herrno == NETDB_SUCCESS && rr->num_rr == 0)
			rr->herrno = NO_DATA;
		dns_put(ctx->spf, domain, type, rr);
	}
	/*
	 * RFC 7208 4.4, 5: an RCODE other than 0 or 3, or no answer, is a
	 * temporary error: NO_RECOVERY and NETDB_INTERNAL become TRY_AGAIN.
	 */
	if (rr->herrno != NETDB_SUCCESS && rr->herrno != HOST_NOT_FOUND && rr->herrno != NO_DATA)
		rr->herrno = TRY_AGAIN;
	if (rr->herrno == TRY_AGAIN && ms_left(ctx) <= 0)
		ctx->timed_out = true;
	/* 1.2.10 reads "success, no records" as neither answer nor error. */
	if (rr->herrno == NETDB_SUCCESS && rr->num_rr == 0)
		rr->herrno = NO_DATA;
	if (rr->herrno == NETDB_SUCCESS && rr->ttl > 0 && rr->ttl < ctx->min_ttl)
		ctx->min_ttl = rr->ttl;
	/*
	 * RFC 7208 4.6.4: a void lookup is NOERROR with no answers, or
	 * NXDOMAIN.  Only address, MX and PTR lookups are counted: a void TXT
	 * lookup is the record itself (result none), an include: or
	 * redirect= target (permerror already), or an exp= text, which
	 * RFC 7208 6.2 keeps out of the evaluation.  XXX: the PTR and
	 * address lookups of a %{p} in exp= are counted, libspf2 gives no
	 * way to tell them apart.
	 */
	if ((rr->herrno == HOST_NOT_FOUND || rr->herrno == NO_DATA) &&
	    (type == ns_t_a || type == ns_t_aaaa || type == ns_t_mx || type == ns_t_ptr))
		ctx->voids++;
	return rr;
}

/* ctx_new: a context with its own libspf2 server and DNS layer. */
static struct spf_ctx *
ctx_new(struct spf *spf, char *err, size_t errlen)
{
	struct spf_ctx *ctx;

	if ((ctx = calloc(1, sizeof(*ctx))) == NULL) {
		util_seterr(err, errlen, "out of memory");
		return NULL;
	}
	ctx->spf = spf;
	ctx->layer.destroy = NULL; /* ours, freed with the context */
	ctx->layer.lookup = layer_lookup;
	ctx->layer.name = "relaysign";
	ctx->layer.hook = ctx;
	if (spf->zone == NULL) {
		int rc;

		/*
		 * res_ninit reads resolv.conf; retrans and retry are set per
		 * query.  Serialised: glibc's resolv.conf cache, filled by the
		 * first callers, showed up under ThreadSanitizer when two
		 * sessions made their first context at once.  It runs once per
		 * pooled context, so the lock costs nothing in steady state.
		 */
		pthread_mutex_lock(&spf->lock);
		rc = res_ninit(&ctx->res);
		pthread_mutex_unlock(&spf->lock);
		if (rc != 0) {
			util_seterr(err, errlen, "res_ninit failed");
			free(ctx);
			return NULL;
		}
		ctx->res_open = true;
		if (spf->have_ns) {
			ctx->res.nsaddr_list[0] = spf->ns;
			ctx->res.nscount = 1;
		}
	}
	if ((ctx->server = SPF_server_new_dns(&ctx->layer, 0)) == NULL) {
		util_seterr(err, errlen, "out of memory");
		ctx_free(ctx);
		return NULL;
	}
	return ctx;
}

/* ctx_get: an idle context from the pool, or a new one. */
static struct spf_ctx *
ctx_get(struct spf *spf, char *err, size_t errlen)
{
	struct spf_ctx *ctx;

	pthread_mutex_lock(&spf->lock);
	if ((ctx = spf->idle) != NULL)
		spf->idle = ctx->next;
	pthread_mutex_unlock(&spf->lock);
	if (ctx == NULL && (ctx = ctx_new(spf, err, errlen)) != NULL) {
		pthread_mutex_lock(&spf->lock);
		spf->stats.contexts++;
		pthread_mutex_unlock(&spf->lock);
	}
	if (ctx != NULL) {
		(void)clock_gettime(CLOCK_MONOTONIC, &ctx->deadline);
		ctx->deadline.tv_sec += spf->timeout;
		ctx->queries = ctx->sent = ctx->cached = ctx->voids = 0;
		ctx->timed_out = ctx->too_many = false;
		ctx->min_ttl = LONG_MAX;
	}
	return ctx;
}

/* ctx_put: returns a context to the pool and adds its counters to the stats. */
static void
ctx_put(struct spf *spf, struct spf_ctx *ctx, bool check)
{
	pthread_mutex_lock(&spf->lock);
	spf->stats.dns_queries += ctx->sent;
	spf->stats.dns_cached += ctx->cached;
	if (ctx->timed_out)
		spf->stats.timeouts++;
	if (check)
		spf->stats.checks++;
	ctx->next = spf->idle;
	spf->idle = ctx;
	pthread_mutex_unlock(&spf->lock);
}

/*
 * map_result: libspf2's result as an RFC 7208 2.6 result.  code is the
 * error libspf2 returned with it.
 */
static enum policy_spf
map_result(SPF_result_t result, SPF_errcode_t code)
{
	switch (result) {
	case SPF_RESULT_PASS:
		return POLICY_SPF_PASS;
	case SPF_RESULT_FAIL:
		return POLICY_SPF_FAIL;
	case SPF_RESULT_SOFTFAIL:
		return POLICY_SPF_SOFTFAIL;
	case SPF_RESULT_NEUTRAL:
		return POLICY_SPF_NEUTRAL;
	case SPF_RESULT_NONE:
		return POLICY_SPF_NONE;
	case SPF_RESULT_TEMPERROR:
		return POLICY_SPF_TEMPERROR;
	case SPF_RESULT_PERMERROR:
		return POLICY_SPF_PERMERROR;
	case SPF_RESULT_INVALID:
	default:
		/*
		 * No result.  1.2.10's SPF_server_get_record sets none when
		 * it fails to fetch the record itself: on TRY_AGAIN (SERVFAIL,
		 * timeout, and NO_RECOVERY, which our layer maps to it) it
		 * returns SPF_E_DNS_ERROR and leaves INVALID.  RFC 7208 4.4:
		 * that is temperror.  Out of memory is ours and passes:
		 * temperror.  Everything else that ends without a result is a
		 * record libspf2 could not compile (SPF_E_NOT_SPF "Failed to
		 * compile", syntax errors): RFC 7208 4.6 makes that permerror.
		 */
		if (code == SPF_E_DNS_ERROR || code == SPF_E_NO_MEMORY)
			return POLICY_SPF_TEMPERROR;
		return POLICY_SPF_PERMERROR;
	}
}

/* set_client: the client address of req; false for a family SPF has no use for. */
static bool
set_client(SPF_request_t *req, const struct sockaddr *client)
{
	const struct sockaddr_in6 *sin6;
	struct in_addr a4;

	if (client == NULL)
		return false;
	if (client->sa_family == AF_INET) {
		SPF_request_set_ipv4(req,
		                     ((const struct sockaddr_in *)(const void *)client)->sin_addr);
		return true;
	}
	if (client->sa_family != AF_INET6)
		return false;
	sin6 = (const struct sockaddr_in6 *)(const void *)client;
	/* RFC 7208 5: an IPv4-mapped IPv6 address is an IPv4 address. */
	if (IN6_IS_ADDR_V4MAPPED(&sin6->sin6_addr)) {
		memcpy(&a4, &sin6->sin6_addr.s6_addr[12], 4);
		SPF_request_set_ipv4(req, a4);
	} else
		SPF_request_set_ipv6(req, sin6->sin6_addr);
	return true;
}

/* set_why: the reason text for the caller's log line. */
static void
set_why(char *why, size_t whylen, SPF_response_t *resp, SPF_errcode_t code)
{
	const char *text, *p;

	if (why == NULL || whylen == 0)
		return;
	if ((text = SPF_response_get_header_comment(resp)) != NULL) {
		/* "receiver: domain of x designates ...": drop "receiver: ". */
		if ((p = strstr(text, ": ")) != NULL)
			text = p + 2;
	} else if (SPF_response_messages(resp) > 0)
		text = SPF_error_message(SPF_response_message(resp, 0));
	else
		text = SPF_strerror(code);
	(void)snprintf(why, whylen, "%s", text != NULL ? text : "");
}

/*
 * check: check_host(client, domain, sender) with one pooled context;
 * *ttl_r (may be NULL) gets the smallest TTL of the answers used, or
 * LONG_MAX when none had one.  domain is the part of sender after '@'.
 */
static enum policy_spf
check(struct spf *spf, const struct sockaddr *client, const char *helo, const char *sender,
      char *why, size_t whylen, long *ttl_r)
{
	struct spf_ctx *ctx;
	SPF_request_t *req = NULL;
	SPF_response_t *resp = NULL;
	SPF_record_t *rec = NULL;
	SPF_errcode_t code;
	enum policy_spf result;
	char err[128];

	if (ttl_r != NULL)
		*ttl_r = LONG_MAX;
	if ((ctx = ctx_get(spf, err, sizeof(err))) == NULL) {
		util_seterr(why, whylen, "%s", err);
		return POLICY_SPF_TEMPERROR;
	}
	if ((req = SPF_request_new(ctx->server)) == NULL ||
	    (resp = SPF_response_new(req)) == NULL) {
		util_seterr(why, whylen, "out of memory");
		result = POLICY_SPF_TEMPERROR;
		goto out;
	}
	if (!set_client(req, client)) {
		util_seterr(why, whylen, "client is not an IP address");
		result = POLICY_SPF_NONE;
		goto out;
	}
	/*
	 * env_from before helo_dom: libspf2 uses the HELO as the sender when
	 * none is set yet.  Without a usable HELO, %{h} expands to
	 * "unknown", as libspf2 does for an unverified %{p}.
	 */
	if (helo == NULL || *helo == '\0' || strlen(helo) > SPF_NAME_MAX + 1)
		helo = "unknown";
	if (SPF_request_set_env_from(req, sender) != 0 ||
	    SPF_request_set_helo_dom(req, helo) != SPF_E_SUCCESS) {
		util_seterr(why, whylen, "out of memory");
		result = POLICY_SPF_TEMPERROR;
		goto out;
	}
	/* SPF_request_query_mailfrom without its loopback free pass. */
	req->use_helo = 0;
	req->cur_dom = req->env_from_dp;
	code = SPF_server_get_record(ctx->server, req, resp, &rec);
	if (code == SPF_E_SUCCESS) {
		resp->spf_record_exp = rec;
		code = SPF_record_interpret(rec, req, resp, 0);
		resp->spf_record_exp = NULL;
		SPF_record_free(rec);
	} else if (rec != NULL)
		SPF_record_free(rec);
	if (ctx->too_many) {
		result = POLICY_SPF_PERMERROR;
		util_seterr(why, whylen, "more than %d DNS queries (RFC 7208 4.6.4)",
		            SPF_QUERY_MAX);
	} else if (ctx->voids > SPF_VOID_MAX) {
		/*
		 * Evaluation stops at the first match, and a void lookup
		 * never matches, so the third void lookup came before any
		 * verdict: RFC 7208 4.6.4 would have stopped right there.
		 */
		result = POLICY_SPF_PERMERROR;
		util_seterr(why, whylen, "more than %d void lookups (RFC 7208 4.6.4)",
		            SPF_VOID_MAX);
	} else {
		result = map_result(SPF_response_result(resp), code);
		if (result == POLICY_SPF_TEMPERROR && ctx->timed_out)
			util_seterr(why, whylen, "DNS time limit of %u s reached", spf->timeout);
		else
			set_why(why, whylen, resp, code);
	}
	if (ttl_r != NULL)
		*ttl_r = ctx->min_ttl;
out:
	if (resp != NULL)
		SPF_response_free(resp);
	if (req != NULL)
		SPF_request_free(req);
	ctx_put(spf, ctx, true);
	return result;
}

/*
 * norm_domain: d as a lowercase A-label name without the trailing dot, in
 * buf; false when it is no multi-label domain name (RFC 7208 4.3: such a
 * domain is "none"; internationalized names are A-labels).
 */
static bool
norm_domain(const char *d, char *buf, size_t len)
{
	const char *top;
	size_t i;

	/* Lowercase A-labels of 1 to 63 letters, digits, '-' or '_', no final dot. */
	if (align_normalize(d, buf, len) == NULL || strlen(buf) > SPF_NAME_MAX ||
	    strchr(buf, '.') == NULL)
		return false;
	/* A top label of digits only is an address, not a domain (RFC 3696 2). */
	top = strrchr(buf, '.') + 1;
	for (i = 0; top[i] != '\0'; i++)
		if (!isdigit((unsigned char)top[i]))
			return true;
	return false;
}

/* spf_check_host: RFC 7208 check_host() for MAIL FROM, or HELO for <>. */
enum policy_spf
spf_check_host(struct spf *spf, const struct sockaddr *client, const char *helo,
               const char *mailfrom, char *why, size_t whylen)
{
	char domain[SPF_NAME_MAX + 1], sender[SPF_SENDER_MAX + 1];
	const char *at, *dom;
	size_t lplen;

	if (why != NULL && whylen > 0)
		*why = '\0';
	if (mailfrom == NULL || *mailfrom == '\0') {
		/* RFC 7208 2.4: the null sender is checked as postmaster@HELO. */
		if (helo == NULL || !norm_domain(helo, domain, sizeof(domain))) {
			util_seterr(why, whylen, "HELO is not a domain name (RFC 7208 2.3)");
			return POLICY_SPF_NONE;
		}
		(void)snprintf(sender, sizeof(sender), "postmaster@%s", domain);
		return check(spf, client, helo, sender, why, whylen, NULL);
	}
	if (strlen(mailfrom) > SPF_SENDER_MAX) {
		util_seterr(why, whylen, "MAIL FROM longer than %d octets", SPF_SENDER_MAX);
		return POLICY_SPF_NONE;
	}
	/* RFC 7208 4.3: no local-part means "postmaster". */
	if ((at = strrchr(mailfrom, '@')) != NULL) {
		dom = at + 1;
		lplen = (size_t)(at - mailfrom);
	} else {
		dom = mailfrom;
		lplen = 0;
	}
	if (!norm_domain(dom, domain, sizeof(domain))) {
		util_seterr(why, whylen, "MAIL FROM domain is not a domain name (RFC 7208 4.3)");
		return POLICY_SPF_NONE;
	}
	if (lplen == 0)
		(void)snprintf(sender, sizeof(sender), "postmaster@%s", domain);
	else if ((size_t)snprintf(sender, sizeof(sender), "%.*s@%s", (int)lplen, mailfrom,
	                          domain) >= sizeof(sender)) {
		util_seterr(why, whylen, "MAIL FROM longer than %d octets", SPF_SENDER_MAX);
		return POLICY_SPF_NONE;
	}
	return check(spf, client, helo, sender, why, whylen, NULL);
}

/* client_key: the client as a cache key; false if it is no IP address. */
static bool
client_key(const struct sockaddr *client, struct spf_addr *k)
{
	const struct sockaddr_in6 *sin6;

	memset(k, 0, sizeof(*k));
	if (client == NULL)
		return false;
	if (client->sa_family == AF_INET) {
		k->family = AF_INET;
		memcpy(k->addr, &((const struct sockaddr_in *)(const void *)client)->sin_addr, 4);
		return true;
	}
	if (client->sa_family != AF_INET6)
		return false;
	sin6 = (const struct sockaddr_in6 *)(const void *)client;
	if (IN6_IS_ADDR_V4MAPPED(&sin6->sin6_addr)) {
		k->family = AF_INET;
		memcpy(k->addr, &sin6->sin6_addr.s6_addr[12], 4);
	} else {
		k->family = AF_INET6;
		memcpy(k->addr, &sin6->sin6_addr, 16);
	}
	return true;
}

/* cache_get: a live cached result for (name, k); false on a miss. */
static bool
cache_get(struct spf *spf, const char *name, const struct spf_addr *k, enum policy_spf *r)
{
	time_t now = spf->clock();
	bool hit = false;
	size_t i;

	pthread_mutex_lock(&spf->lock);
	for (i = 0; spf->cache != NULL && i < spf->cache_size; i++) {
		struct spf_cache_entry *e = &spf->cache[i];

		if (e->family == k->family && e->expires > now &&
		    memcmp(e->addr, k->addr, sizeof(e->addr)) == 0 && strcmp(e->name, name) == 0) {
			*r = e->result;
			hit = true;
			break;
		}
	}
	if (hit)
		spf->stats.cache_hits++;
	else
		spf->stats.cache_misses++;
	pthread_mutex_unlock(&spf->lock);
	return hit;
}

/*
 * cache_put: keeps r for (name, k) for ttl seconds, in the slot of the
 * same key, else a free or expired slot, else the one expiring first.
 */
static void
cache_put(struct spf *spf, const char *name, const struct spf_addr *k, enum policy_spf r, long ttl)
{
	struct spf_cache_entry *e, *same = NULL, *unused = NULL, *oldest = NULL, *slot;
	time_t now = spf->clock();
	size_t i;

	if (spf->cache == NULL || ttl <= 0)
		return;
	pthread_mutex_lock(&spf->lock);
	for (i = 0; i < spf->cache_size && same == NULL; i++) {
		e = &spf->cache[i];
		if (e->family == 0 || e->expires <= now) {
			if (unused == NULL)
				unused = e;
		} else if (e->family == k->family &&
		           memcmp(e->addr, k->addr, sizeof(e->addr)) == 0 &&
		           strcmp(e->name, name) == 0)
			same = e;
		else if (oldest == NULL || e->expires < oldest->expires)
			oldest = e;
	}
	slot = same != NULL ? same : unused != NULL ? unused : oldest;
	util_strlcpy(slot->name, name, sizeof(slot->name));
	slot->family = k->family;
	memcpy(slot->addr, k->addr, sizeof(slot->addr));
	slot->result = r;
	slot->expires = now + ttl;
	pthread_mutex_unlock(&spf->lock);
}

/* severity: the order in which vendor results are reported, best first. */
static int
severity(enum policy_spf r)
{
	switch (r) {
	case POLICY_SPF_PASS:
		return 3;
	case POLICY_SPF_TEMPERROR:
		return 2;
	case POLICY_SPF_PERMERROR:
		return 1;
	default:
		return 0;
	}
}

/* spf_vendor_check: the RelaySPFNames trust, cached per (name, client). */
enum policy_spf
spf_vendor_check(struct spf *spf, const struct sockaddr *client, char *const *names,
                 const char **matched_r)
{
	enum policy_spf r, best = POLICY_SPF_NONE;
	char name[SPF_NAME_MAX + 1], sender[SPF_SENDER_MAX + 1];
	struct spf_addr k;
	long ttl;
	size_t i;

	if (matched_r != NULL)
		*matched_r = NULL;
	if (!client_key(client, &k))
		return POLICY_SPF_NONE;
	for (i = 0; names != NULL && names[i] != NULL; i++) {
		if (!norm_domain(names[i], name, sizeof(name)))
			r = POLICY_SPF_NONE;
		else if (!cache_get(spf, name, &k, &r)) {
			(void)snprintf(sender, sizeof(sender), "postmaster@%s", name);
			r = check(spf, client, NULL, sender, NULL, 0, &ttl);
			/*
			 * A temporary error is not kept: the next message asks
			 * again.  Others live for the smallest TTL seen, at most
			 * cache_ttl; answers without records carry no TTL we can
			 * see (res_nquery hides the SOA of a negative answer),
			 * so then cache_ttl alone applies.
			 */
			if (r != POLICY_SPF_TEMPERROR)
				cache_put(spf, name, &k, r,
				          ttl < (long)spf->cache_ttl ? ttl : (long)spf->cache_ttl);
		}
		if (r == POLICY_SPF_PASS) {
			if (matched_r != NULL)
				*matched_r = names[i];
			return r;
		}
		if (i == 0 || severity(r) > severity(best))
			best = r;
	}
	return best;
}

/* spf_txt_lookup: TXT records at name through the checks' DNS. */
enum spf_txt
spf_txt_lookup(struct spf *spf, const char *name, char ***txt_r, char *err, size_t errlen)
{
	struct spf_ctx *ctx;
	SPF_dns_rr_t *rr;
	enum spf_txt status;
	char **v = NULL;
	int i;

	*txt_r = NULL;
	if (name == NULL || !name_ok(name))
		return SPF_TXT_NONE;
	if ((ctx = ctx_get(spf, err, errlen)) == NULL)
		return SPF_TXT_TEMPERROR;
	rr = SPF_dns_lookup(&ctx->layer, name, ns_t_txt, 1);
	switch (rr->herrno) {
	case NETDB_SUCCESS:
		status = SPF_TXT_FOUND;
		for (i = 0; i < rr->num_rr; i++)
			if (strv_push(&v, rr->rr[i]->txt) == -1) {
				strv_free(v);
				v = NULL;
				util_seterr(err, errlen, "out of memory");
				status = SPF_TXT_TEMPERROR;
				break;
			}
		break;
	case HOST_NOT_FOUND:
	case NO_DATA:
		status = SPF_TXT_NONE;
		break;
	default:
		if (ctx->timed_out)
			util_seterr(err, errlen, "DNS time limit of %u s reached", spf->timeout);
		else
			util_seterr(err, errlen, "temporary DNS failure");
		status = SPF_TXT_TEMPERROR;
		break;
	}
	SPF_dns_rr_free(rr);
	ctx_put(spf, ctx, false);
	*txt_r = v;
	return status;
}

/* spf_stats: copies the counters. */
void
spf_stats(struct spf *spf, struct spf_stats *st)
{
	pthread_mutex_lock(&spf->lock);
	*st = spf->stats;
	pthread_mutex_unlock(&spf->lock);
}
