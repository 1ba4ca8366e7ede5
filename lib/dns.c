/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * dns.c -- relaysign's one DNS layer (dns.h says what it adds and why):
 * the bounded resolver and the cache of answers that SPF checks and DMARC
 * discovery go through, the one TXT RDATA reader, and TXT records through
 * the system's resolver for the command line.
 *
 * DNS messages are taken apart by libresolv (ns_initparse, ns_parserr,
 * ns_name_uncompress); only the character-strings inside a TXT RDATA are
 * walked here (dns_txt_join), with bounds checks.
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
#include <limits.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "dns.h"
#include "dnsname.h"
#include "util.h"

/* One cached DNS answer. */
struct dns_entry {
	char name[DNS_NAME_MAX + 1]; /* lowercase; "" for a free slot */
	ns_type type;
	SPF_dns_rr_t *rr; /* a copy, owned */
	time_t expires;   /* dns->clock seconds */
};

/* One run's resolver state, behind a libspf2 DNS layer (dns.h). */
struct dns_ctx {
	struct dns_ctx *next; /* idle list of dns_txt_lookup's pool */
	struct dns *dns;
	SPF_dns_server_t layer; /* hook points back here */
	struct __res_state res;
	bool res_open;
	struct timespec deadline; /* per run, set by dns_ctx_begin */
	struct dns_facts f;       /* per run, reset by dns_ctx_begin */
	unsigned char answer[NS_MAXMSG];
};

/* The layer: its options, the cache of answers, the pool, the counters. */
struct dns {
	unsigned timeout;
	bool have_ns;
	struct sockaddr_in ns;
	SPF_dns_server_t *zone;
	time_t (*clock)(void);

	pthread_mutex_t lock; /* guards the members below, and res_ninit */
	struct dns_ctx *idle;
	struct dns_entry *entries; /* NULL when the cache is off */
	size_t size;
	unsigned max_ttl;
	struct dns_stats stats;
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

/* ms_left: milliseconds until the context's deadline (negative when past). */
static long
ms_left(const struct dns_ctx *ctx)
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
resolv_lookup(struct dns_ctx *ctx, const char *domain, ns_type type, long left_ms)
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


/* dns_slot: the cache slot of (name, type): FNV-1a of the lowercase name. */
static size_t
dns_slot(const struct dns *dns, const char *name, ns_type type)
{
	uint32_t h = 2166136261u ^ (uint32_t)type;

	for (; *name != '\0'; name++) {
		h ^= (unsigned char)tolower((unsigned char)*name);
		h *= 16777619u;
	}
	return h % dns->size;
}

/*
 * dns_get: a copy of the cached answer for (name, type), its TTL set to
 * what is left of it, or NULL.
 */
static SPF_dns_rr_t *
dns_get(struct dns *dns, const char *name, ns_type type)
{
	struct dns_entry *e;
	SPF_dns_rr_t *copy = NULL;
	time_t now = dns->clock();

	if (dns->entries == NULL)
		return NULL;
	pthread_mutex_lock(&dns->lock);
	e = &dns->entries[dns_slot(dns, name, type)];
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
	pthread_mutex_unlock(&dns->lock);
	return copy;
}

/* dns_put: keeps a copy of an answer for its TTL, at most max_ttl. */
static void
dns_put(struct dns *dns, const char *name, ns_type type, SPF_dns_rr_t *rr)
{
	struct dns_entry *e;
	SPF_dns_rr_t *copy = NULL;
	time_t ttl = rr->ttl;
	size_t len = strlen(name), i;

	if (dns->entries == NULL || ttl <= 0 || len > DNS_NAME_MAX ||
	    (rr->herrno != NETDB_SUCCESS && rr->herrno != HOST_NOT_FOUND && rr->herrno != NO_DATA))
		return;
	if (ttl > (time_t)dns->max_ttl)
		ttl = (time_t)dns->max_ttl;
	if (SPF_dns_rr_dup(&copy, rr) != SPF_E_SUCCESS)
		return;
	pthread_mutex_lock(&dns->lock);
	e = &dns->entries[dns_slot(dns, name, type)];
	if (e->rr != NULL)
		SPF_dns_rr_free(e->rr);
	e->rr = copy;
	e->type = type;
	e->expires = dns->clock() + ttl;
	for (i = 0; i <= len; i++)
		e->name[i] = (char)tolower((unsigned char)name[i]);
	pthread_mutex_unlock(&dns->lock);
}

/*
 * layer_lookup: libspf2's lookup hook.  Every DNS question of a run (an
 * SPF check, a DMARC discovery) comes here; see dns.h for what it adds.
 * It never returns NULL except out of memory (libspf2 then aborts).
 */
static SPF_dns_rr_t *
layer_lookup(SPF_dns_server_t *layer, const char *domain, ns_type type, int should_cache)
{
	struct dns_ctx *ctx = layer->hook;
	struct dns_facts *f = &ctx->f;
	SPF_dns_rr_t *rr;
	long left;

	/* RFC 7208 3.1, 4.4: the SPF RR type is gone; only TXT is asked. */
	if (type == ns_t_spf)
		return rr_new(layer, domain, type, NO_DATA);
	/* The verdict is permerror already (spf.c, check); spare the DNS. */
	if (f->voids > DNS_VOID_MAX || f->too_many)
		return rr_new(layer, domain, type, HOST_NOT_FOUND);
	if (f->queries >= DNS_QUERY_MAX) {
		f->too_many = true;
		return rr_new(layer, domain, type, HOST_NOT_FOUND);
	}
	/* RFC 7208 4.8: a name that cannot be queried matches nothing. */
	if (domain == NULL || !dnsname_query_ok(domain))
		return rr_new(layer, domain, type, HOST_NOT_FOUND);
	if ((left = ms_left(ctx)) <= 0) {
		f->timed_out = true;
		return rr_new(layer, domain, type, TRY_AGAIN);
	}
	f->queries++;
	if ((rr = dns_get(ctx->dns, domain, type)) != NULL)
		f->cached++;
	else {
		f->sent++;
		if (ctx->dns->zone != NULL)
			rr = SPF_dns_lookup(ctx->dns->zone, domain, type, should_cache);
		else
			rr = resolv_lookup(ctx, domain, type, left);
		if (rr == NULL)
			return NULL;
		if (rr->herrno == NETDB_SUCCESS && rr->num_rr == 0)
			rr->herrno = NO_DATA;
		dns_put(ctx->dns, domain, type, rr);
	}
	/*
	 * RFC 7208 4.4, 5: an RCODE other than 0 or 3, or no answer, is a
	 * temporary error: NO_RECOVERY and NETDB_INTERNAL become TRY_AGAIN.
	 */
	if (rr->herrno != NETDB_SUCCESS && rr->herrno != HOST_NOT_FOUND && rr->herrno != NO_DATA)
		rr->herrno = TRY_AGAIN;
	if (rr->herrno == TRY_AGAIN && ms_left(ctx) <= 0)
		f->timed_out = true;
	/* 1.2.10 reads "success, no records" as neither answer nor error. */
	if (rr->herrno == NETDB_SUCCESS && rr->num_rr == 0)
		rr->herrno = NO_DATA;
	if (rr->herrno == NETDB_SUCCESS && rr->ttl > 0 && rr->ttl < f->min_ttl)
		f->min_ttl = rr->ttl;
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
		f->voids++;
	return rr;
}

/* dns_ctx_new: a context with its own resolver state, behind a libspf2 layer. */
struct dns_ctx *
dns_ctx_new(struct dns *dns, char *err, size_t errlen)
{
	struct dns_ctx *ctx;

	if ((ctx = calloc(1, sizeof(*ctx))) == NULL) {
		util_seterr(err, errlen, "out of memory");
		return NULL;
	}
	ctx->dns = dns;
	ctx->layer.destroy = NULL; /* ours, freed with the context */
	ctx->layer.lookup = layer_lookup;
	ctx->layer.name = "relaysign";
	ctx->layer.hook = ctx;
	if (dns->zone == NULL) {
		int rc;

		/*
		 * res_ninit reads resolv.conf; retrans and retry are set per
		 * query.  Serialised: glibc's resolv.conf cache, filled by the
		 * first callers, showed up under ThreadSanitizer when two
		 * sessions made their first context at once.  It runs once per
		 * pooled context, so the lock costs nothing in steady state.
		 */
		pthread_mutex_lock(&dns->lock);
		rc = res_ninit(&ctx->res);
		pthread_mutex_unlock(&dns->lock);
		if (rc != 0) {
			util_seterr(err, errlen, "res_ninit failed");
			free(ctx);
			return NULL;
		}
		ctx->res_open = true;
		if (dns->have_ns) {
			ctx->res.nsaddr_list[0] = dns->ns;
			ctx->res.nscount = 1;
		}
	}
	return ctx;
}

/* dns_new: the layer for opt. */
struct dns *
dns_new(const struct dns_options *opt, char *err, size_t errlen)
{
	struct dns *dns;

	if (opt->timeout > DNS_TIMEOUT_MAX) {
		util_seterr(err, errlen, "DNS timeout %u s: at most %u s", opt->timeout,
		            DNS_TIMEOUT_MAX);
		return NULL;
	}
	if (opt->cache_size > DNS_CACHE_MAX) {
		util_seterr(err, errlen, "DNS cache of %zu entries: at most %d", opt->cache_size,
		            DNS_CACHE_MAX);
		return NULL;
	}
	if ((dns = calloc(1, sizeof(*dns))) == NULL) {
		util_seterr(err, errlen, "out of memory");
		return NULL;
	}
	dns->timeout = opt->timeout != 0 ? opt->timeout : DNS_TIMEOUT_DEFAULT;
	dns->zone = opt->test_dns;
	dns->clock = opt->test_clock != NULL ? opt->test_clock : mono_now;
	dns->size = opt->cache_size;
	dns->max_ttl = opt->cache_max_ttl != 0 ? opt->cache_max_ttl : DNS_CACHE_TTL_DEFAULT;
	if (opt->nameserver != NULL) {
		if (parse_nameserver(opt->nameserver, &dns->ns, err, errlen) == -1) {
			free(dns);
			return NULL;
		}
		dns->have_ns = true;
	}
	if (dns->size > 0 && (dns->entries = calloc(dns->size, sizeof(*dns->entries))) == NULL) {
		free(dns);
		util_seterr(err, errlen, "out of memory");
		return NULL;
	}
	if (pthread_mutex_init(&dns->lock, NULL) != 0) {
		free(dns->entries);
		free(dns);
		util_seterr(err, errlen, "pthread_mutex_init failed");
		return NULL;
	}
	return dns;
}

/* dns_free: the layer, its pool and its cache. */
void
dns_free(struct dns *dns)
{
	struct dns_ctx *ctx, *next;

	if (dns == NULL)
		return;
	for (ctx = dns->idle; ctx != NULL; ctx = next) {
		next = ctx->next;
		dns_ctx_free(ctx);
	}
	pthread_mutex_destroy(&dns->lock);
	for (size_t i = 0; i < dns->size; i++)
		if (dns->entries[i].rr != NULL)
			SPF_dns_rr_free(dns->entries[i].rr);
	free(dns->entries);
	free(dns);
}

/* dns_timeout: the time one run may use, seconds. */
unsigned
dns_timeout(const struct dns *dns)
{
	return dns->timeout;
}

/* dns_stats: copies the counters. */
void
dns_stats(struct dns *dns, struct dns_stats *st)
{
	pthread_mutex_lock(&dns->lock);
	*st = dns->stats;
	pthread_mutex_unlock(&dns->lock);
}

/* dns_ctx_free: one context. */
void
dns_ctx_free(struct dns_ctx *ctx)
{
	if (ctx == NULL)
		return;
	if (ctx->res_open)
		res_nclose(&ctx->res);
	free(ctx);
}

/* dns_ctx_layer: the libspf2 layer of ctx. */
SPF_dns_server_t *
dns_ctx_layer(struct dns_ctx *ctx)
{
	return &ctx->layer;
}

/* dns_ctx_begin: a new run: the deadline starts now, the facts are reset. */
void
dns_ctx_begin(struct dns_ctx *ctx)
{
	(void)clock_gettime(CLOCK_MONOTONIC, &ctx->deadline);
	ctx->deadline.tv_sec += ctx->dns->timeout;
	memset(&ctx->f, 0, sizeof(ctx->f));
	ctx->f.min_ttl = LONG_MAX;
}

/* dns_ctx_facts: what the run has done so far. */
const struct dns_facts *
dns_ctx_facts(const struct dns_ctx *ctx)
{
	return &ctx->f;
}

/* dns_ctx_end: the run's counters into the layer's. */
void
dns_ctx_end(struct dns_ctx *ctx)
{
	struct dns *dns = ctx->dns;

	pthread_mutex_lock(&dns->lock);
	dns->stats.queries += ctx->f.sent;
	dns->stats.cached += ctx->f.cached;
	if (ctx->f.timed_out)
		dns->stats.timeouts++;
	pthread_mutex_unlock(&dns->lock);
}

/* pool_get: an idle context of dns_txt_lookup's pool, or a new one; begun. */
static struct dns_ctx *
pool_get(struct dns *dns, char *err, size_t errlen)
{
	struct dns_ctx *ctx;

	pthread_mutex_lock(&dns->lock);
	if ((ctx = dns->idle) != NULL)
		dns->idle = ctx->next;
	pthread_mutex_unlock(&dns->lock);
	if (ctx == NULL && (ctx = dns_ctx_new(dns, err, errlen)) == NULL)
		return NULL;
	dns_ctx_begin(ctx);
	return ctx;
}

/* pool_put: a context back to the pool, its counters into the layer's. */
static void
pool_put(struct dns *dns, struct dns_ctx *ctx)
{
	dns_ctx_end(ctx);
	pthread_mutex_lock(&dns->lock);
	ctx->next = dns->idle;
	dns->idle = ctx;
	pthread_mutex_unlock(&dns->lock);
}

/* dns_txt_lookup: TXT records at name, with a context of the pool. */
enum dns_txt
dns_txt_lookup(struct dns *dns, const char *name, char ***txt_r, char *err, size_t errlen)
{
	struct dns_ctx *ctx;
	SPF_dns_rr_t *rr;
	enum dns_txt status;
	char **v = NULL;
	int i;

	*txt_r = NULL;
	if (name == NULL || !dnsname_query_ok(name))
		return DNS_TXT_NONE;
	if ((ctx = pool_get(dns, err, errlen)) == NULL)
		return DNS_TXT_TEMPERROR;
	rr = SPF_dns_lookup(&ctx->layer, name, ns_t_txt, 1);
	switch (rr->herrno) {
	case NETDB_SUCCESS:
		status = DNS_TXT_FOUND;
		for (i = 0; i < rr->num_rr; i++)
			if (strv_push(&v, rr->rr[i]->txt) == -1) {
				strv_free(v);
				v = NULL;
				util_seterr(err, errlen, "out of memory");
				status = DNS_TXT_TEMPERROR;
				break;
			}
		break;
	case HOST_NOT_FOUND:
	case NO_DATA:
		status = DNS_TXT_NONE;
		break;
	default:
		if (ctx->f.timed_out)
			util_seterr(err, errlen, "DNS time limit of %u s reached", dns->timeout);
		else
			util_seterr(err, errlen, "temporary DNS failure");
		status = DNS_TXT_TEMPERROR;
		break;
	}
	SPF_dns_rr_free(rr);
	pool_put(dns, ctx);
	*txt_r = v;
	return status;
}

/* dns_txt_join: one TXT RDATA's strings joined (dns.h). */
long
dns_txt_join(const unsigned char *rdata, size_t rdlen, char *buf)
{
	size_t i = 0, out = 0, n;

	while (i < rdlen) {
		n = rdata[i++];
		if (n > rdlen - i || memchr(rdata + i, '\0', n) != NULL)
			return -1;
		memcpy(buf + out, rdata + i, n);
		out += n;
		i += n;
	}
	return (long)out;
}

/* res_error: the reason for a failed res_nquery, or NULL for "no record". */
static const char *
res_error(int h_errno_value, char *buf, size_t len)
{
	switch (h_errno_value) {
	case HOST_NOT_FOUND:	/* NXDOMAIN */
	case NO_DATA:		/* the name exists, no TXT */
		return NULL;
	case TRY_AGAIN:
		return "no answer (server failure or timeout)";
	case NO_RECOVERY:
		return "the server refused or could not answer";
	default:
		(void)util_seterr(buf, len, "lookup failed (resolver error %d)", h_errno_value);
		return buf;
	}
}

/* dns_res_txt: TXT records through the system's resolver (dns.h). */
int
dns_res_txt(const char *name, size_t max_records, size_t max_len, char ***txts_r,
    char *err, size_t errlen)
{
	struct __res_state rs;
	unsigned char *ans;
	char **txts = NULL, *txt, why[64];
	const char *e;
	ns_msg msg;
	ns_rr rr;
	int len, i, count, rc = 0;
	long n;

	*txts_r = NULL;
	memset(&rs, 0, sizeof(rs));
	if (res_ninit(&rs) != 0)
		return util_seterr(err, errlen, "cannot read the resolver configuration");
	/*
	 * EDNS0 (RFC 6891): glibc then offers a 1200-byte UDP answer, which a
	 * 4096-bit key record fits in, instead of 512 and a retry over TCP;
	 * glibc retries without EDNS0 when a server chokes on it.
	 */
	rs.options |= RES_USE_EDNS0;
	if ((ans = malloc(NS_MAXMSG)) == NULL) {
		res_nclose(&rs);
		return util_seterr(err, errlen, "out of memory");
	}
	len = res_nquery(&rs, name, ns_c_in, ns_t_txt, ans, NS_MAXMSG);
	if (len < 0) {
		if ((e = res_error(rs.res_h_errno, why, sizeof(why))) != NULL)
			rc = util_seterr(err, errlen, "%s", e);
		goto out;
	}
	if (len > NS_MAXMSG || ns_initparse(ans, len, &msg) < 0) {
		rc = util_seterr(err, errlen, "malformed answer");
		goto out;
	}
	count = ns_msg_count(msg, ns_s_an);
	for (i = 0; i < count && strv_len(txts) < max_records; i++) {
		if (ns_parserr(&msg, ns_s_an, i, &rr) < 0) {
			rc = util_seterr(err, errlen, "malformed answer");
			goto out;
		}
		/* CNAMEs on the way are followed by the server; skip them. */
		if (ns_rr_type(rr) != ns_t_txt || ns_rr_class(rr) != ns_c_in)
			continue;
		/* The joined text is shorter than the rdata: one length byte a string. */
		if (ns_rr_rdlen(rr) > max_len) {
			rc = util_seterr(err, errlen, "a TXT record of %u bytes, more than the "
			    "%zu expected", (unsigned)ns_rr_rdlen(rr), max_len);
			goto out;
		}
		if ((txt = malloc((size_t)ns_rr_rdlen(rr) + 1)) == NULL) {
			rc = util_seterr(err, errlen, "out of memory");
			goto out;
		}
		if ((n = dns_txt_join(ns_rr_rdata(rr), ns_rr_rdlen(rr), txt)) < 0) {
			free(txt);
			rc = util_seterr(err, errlen, "malformed TXT record in the answer");
			goto out;
		}
		txt[n] = '\0';
		rc = strv_push(&txts, txt);
		free(txt);
		if (rc != 0) {
			rc = util_seterr(err, errlen, "out of memory");
			goto out;
		}
	}
out:
	free(ans);
	res_nclose(&rs);
	if (rc != 0) {
		strv_free(txts);
		return -1;
	}
	*txts_r = txts;
	return 0;
}
