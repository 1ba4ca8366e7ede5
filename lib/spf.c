/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * spf.c -- RFC 7208 SPF checks through libspf2, on relaysign's DNS layer (dns.h).
 *
 * libspf2 (Debian 12 ships 1.2.10) evaluates the records; the DNS
 * answers come from relaysign's DNS layer (dns.h: the time bound, TTLs,
 * TXT only, the void lookups counted, RCODEs as RFC 7208 reads them, the
 * cache of answers).  This file runs check_host on it, turns libspf2's
 * results into RFC 7208 ones with their reasons, and caches the vendor's
 * results (RelaySPFNames) by name and client for SPFCacheTTL.
 *
 * Threads.  libmilter runs each connection in a thread of its own, so
 * checks run concurrently.  libspf2 reaches the DNS layer only through the
 * server (SPF_server_t.resolver; no per-request argument), and the layer's
 * context holds per-check state (struct dns_ctx: deadline, counters, the
 * res_state and its answer buffer), so one server with its layer can run
 * one check at a time.
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

#define SPF_NAME_MAX DNS_NAME_MAX
/* Longest MAIL FROM we evaluate: RFC 5321 4.5.3.1.1 local-part and a domain. */
#define SPF_SENDER_MAX (64 + 1 + SPF_NAME_MAX)
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

/* One libspf2 server on a context of the DNS layer. */
struct spf_ctx {
	struct spf_ctx *next; /* idle list */
	SPF_server_t *server;
	struct dns_ctx *dns;
};

/* The checker: its options, the pool of contexts, the vendor cache. */
struct spf {
	unsigned cache_ttl;
	size_t cache_size;
	time_t (*clock)(void);
	struct dns *dns;

	pthread_mutex_t lock; /* guards the members below */
	struct spf_ctx *idle;
	struct spf_cache_entry *cache;
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

/* spf_new: a checker for opt (NULL: defaults). */
struct spf *
spf_new(const struct spf_options *opt, char *err, size_t errlen)
{
	struct spf *spf;

	if (opt == NULL || opt->dns == NULL) {
		util_seterr(err, errlen, "no DNS layer to check SPF on");
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
	spf->cache_ttl = opt->cache_ttl;
	spf->cache_size = opt->cache_size != 0 ? opt->cache_size : SPF_CACHE_SIZE_DEFAULT;
	spf->clock = opt->test_clock != NULL ? opt->test_clock : mono_now;
	spf->dns = opt->dns;
	if ((spf->cache_ttl > 0 &&
	     (spf->cache = calloc(spf->cache_size, sizeof(*spf->cache))) == NULL) ||
	    pthread_mutex_init(&spf->lock, NULL) != 0) {
		free(spf->cache);
		free(spf);
		util_seterr(err, errlen, "out of memory");
		return NULL;
	}
	return spf;
}

/* spf_dns: the DNS layer the checks use. */
struct dns *
spf_dns(const struct spf *spf)
{
	return spf->dns;
}

/* ctx_free: releases one context. */
static void
ctx_free(struct spf_ctx *ctx)
{
	if (ctx == NULL)
		return;
	if (ctx->server != NULL)
		SPF_server_free(ctx->server);
	dns_ctx_free(ctx->dns);
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
	free(spf);
}

/* ctx_new: a context with its own libspf2 server on a DNS layer context. */
static struct spf_ctx *
ctx_new(struct spf *spf, char *err, size_t errlen)
{
	struct spf_ctx *ctx;

	if ((ctx = calloc(1, sizeof(*ctx))) == NULL) {
		util_seterr(err, errlen, "out of memory");
		return NULL;
	}
	if ((ctx->dns = dns_ctx_new(spf->dns, err, errlen)) == NULL) {
		free(ctx);
		return NULL;
	}
	if ((ctx->server = SPF_server_new_dns(dns_ctx_layer(ctx->dns), 0)) == NULL) {
		util_seterr(err, errlen, "out of memory");
		ctx_free(ctx);
		return NULL;
	}
	return ctx;
}

/* ctx_get: an idle context from the pool, or a new one; its run begun. */
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
	if (ctx != NULL)
		dns_ctx_begin(ctx->dns);
	return ctx;
}

/* ctx_put: returns a context to the pool; its counters go to the stats. */
static void
ctx_put(struct spf *spf, struct spf_ctx *ctx)
{
	dns_ctx_end(ctx->dns);
	pthread_mutex_lock(&spf->lock);
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
	const struct dns_facts *f;
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
	f = dns_ctx_facts(ctx->dns);
	if (f->too_many) {
		result = POLICY_SPF_PERMERROR;
		util_seterr(why, whylen, "more than %d DNS queries (RFC 7208 4.6.4)",
		            DNS_QUERY_MAX);
	} else if (f->voids > SPF_VOID_MAX) {
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
		if (result == POLICY_SPF_TEMPERROR && f->timed_out)
			util_seterr(why, whylen, "DNS time limit of %u s reached",
			            dns_timeout(spf->dns));
		else
			set_why(why, whylen, resp, code);
	}
	if (ttl_r != NULL)
		*ttl_r = f->min_ttl;
out:
	if (resp != NULL)
		SPF_response_free(resp);
	if (req != NULL)
		SPF_request_free(req);
	ctx_put(spf, ctx);
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

/* spf_stats: copies the counters. */
void
spf_stats(struct spf *spf, struct spf_stats *st)
{
	struct dns_stats d;

	dns_stats(spf->dns, &d);
	pthread_mutex_lock(&spf->lock);
	*st = spf->stats;
	pthread_mutex_unlock(&spf->lock);
	st->dns_queries = d.queries;
	st->dns_cached = d.cached;
	st->timeouts = d.timeouts;
}
