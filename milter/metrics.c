/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * metrics.c -- the counters of metrics.h and their HTTP listener.
 *
 * The HTTP side is libmicrohttpd's: one internal thread polling at most
 * METRICS_CONNECTIONS connections, each closed after METRICS_TIMEOUT
 * seconds idle, a small memory limit per connection, GET and HEAD of
 * /metrics only.  Nothing it does touches a message: a slow or hostile
 * scraper costs that thread, never the milter's.
 *
 * Names follow Prometheus' conventions (prefix relaysign_, _total for
 * counters, _seconds for durations, base units); every label value comes
 * from a closed set (actions, reasons, trust kinds, SPF results, the
 * configured signing domains, at most METRICS_DOMAINS of them).
 */
#include "config.h"

#include <errno.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <microhttpd.h>
#include <opendkim/dkim.h>
#include <openssl/crypto.h>

#include "key.h"
#include "metrics.h"
#include "sign.h"
#include "spf.h"
#include "confswap.h"

#define METRICS_CONNECTIONS 8		/* scrapers at once */
#define METRICS_TIMEOUT 5		/* seconds a connection may idle */
#define METRICS_CONN_MEMORY 16384	/* bytes a request may take */
#define METRICS_DOMAINS 1024		/* signing domains counted by name */
#define METRICS_ACTIONS 5		/* enum policy_action */
#define METRICS_REASONS 12		/* enum policy_reason */
#define METRICS_TRUSTS 4		/* enum policy_trust */
#define METRICS_SPF 8			/* enum policy_spf */
#define METRICS_ALGS 2			/* enum key_alg */

/* DNS check durations, seconds: a loopback resolver to a timed-out one. */
static const double buckets[] = {
	0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10
};
#define NBUCKETS (sizeof(buckets) / sizeof(buckets[0]))
static const char *const dns_kind[PIPELINE_DNS_KINDS] = { "spf", "vendor_spf", "dmarc" };

struct histogram {
	atomic_ulong le[NBUCKETS];	/* observations <= buckets[i], not cumulated */
	atomic_ulong count;
	atomic_ullong sum_us;		/* microseconds */
};

static struct {
	atomic_ulong messages[METRICS_ACTIONS][METRICS_REASONS];
	atomic_ulong trust[METRICS_TRUSTS];
	atomic_ulong spf[METRICS_SPF];
	struct histogram dns[PIPELINE_DNS_KINDS];
	atomic_ulong forged;
	atomic_ulong reloads_ok, reloads_failed, key_load_failures;
	atomic_llong last_reload_ok;	/* Unix time, 0 before the first */
	atomic_ulong retired_timeouts;	/* DNS timeouts of freed configurations */
	time_t started;
	char libopendkim[32];
} m;

/* Signatures by domain and algorithm: names copied, under sig_lock. */
static pthread_mutex_t sig_lock = PTHREAD_MUTEX_INITIALIZER;
static struct {
	char domain[256];
	unsigned long n[METRICS_ALGS];
} sigs[METRICS_DOMAINS + 1];	/* the last one: "other" */
static size_t nsigs;

static struct MHD_Daemon *daemon_h;
static int listen_fd = -1;
static char unix_path[sizeof(((struct sockaddr_un *)0)->sun_path)];

/* metrics_init: the process's start and the library versions for build_info. */
void
metrics_init(void)
{
	uint32_t v = dkim_libversion();

	m.started = time(NULL);
	snprintf(m.libopendkim, sizeof(m.libopendkim), "%u.%u.%u", v >> 24, (v >> 16) & 0xff,
	    (v >> 8) & 0xff);
}

/* observe: one duration into a histogram. */
static void
observe(struct histogram *h, double seconds)
{
	size_t i;

	for (i = 0; i < NBUCKETS && seconds > buckets[i]; i++)
		;
	if (i < NBUCKETS)
		atomic_fetch_add_explicit(&h->le[i], 1, memory_order_relaxed);
	atomic_fetch_add_explicit(&h->count, 1, memory_order_relaxed);
	atomic_fetch_add_explicit(&h->sum_us, (unsigned long long)(seconds * 1e6),
	    memory_order_relaxed);
}

/* count_signature: one signature with key. */
static void
count_signature(const struct key *key)
{
	size_t i;
	unsigned a = key->alg == KEY_ALG_ED25519_SHA256 ? 1 : 0;

	pthread_mutex_lock(&sig_lock);
	for (i = 0; i < nsigs; i++)
		if (strcmp(sigs[i].domain, key->domain) == 0)
			break;
	if (i == nsigs) {
		if (nsigs < METRICS_DOMAINS) {
			snprintf(sigs[i].domain, sizeof(sigs[i].domain), "%s", key->domain);
			nsigs++;
		} else {
			i = METRICS_DOMAINS;	/* past the bound: "other" */
			snprintf(sigs[i].domain, sizeof(sigs[i].domain), "other");
		}
	}
	sigs[i].n[a]++;
	pthread_mutex_unlock(&sig_lock);
}

/* metrics_message: see metrics.h. */
void
metrics_message(const struct pipeline_report *r)
{
	size_t i, n;

	if ((unsigned)r->decision.action < METRICS_ACTIONS &&
	    (unsigned)r->decision.reason < METRICS_REASONS)
		atomic_fetch_add_explicit(&m.messages[r->decision.action][r->decision.reason], 1,
		    memory_order_relaxed);
	if ((unsigned)r->trust < METRICS_TRUSTS)
		atomic_fetch_add_explicit(&m.trust[r->trust], 1, memory_order_relaxed);
	if (r->spf != POLICY_SPF_UNCHECKED && (unsigned)r->spf < METRICS_SPF)
		atomic_fetch_add_explicit(&m.spf[r->spf], 1, memory_order_relaxed);
	for (i = 0; i < PIPELINE_DNS_KINDS; i++)
		if (r->dns_done[i])
			observe(&m.dns[i], r->dns_seconds[i]);
	atomic_fetch_add_explicit(&m.forged, r->nforged, memory_order_relaxed);
	n = r->signer != NULL ? signer_count(r->signer) : 0;
	for (i = 0; i < n; i++)
		count_signature(signer_key(r->signer, i));
}

/* metrics_reload: see metrics.h. */
void
metrics_reload(bool ok, bool keys_failed)
{
	if (ok) {
		atomic_fetch_add(&m.reloads_ok, 1);
		atomic_store(&m.last_reload_ok, (long long)time(NULL));
	} else
		atomic_fetch_add(&m.reloads_failed, 1);
	if (keys_failed)
		atomic_fetch_add(&m.key_load_failures, 1);
}

/* metrics_conf_freed: see metrics.h. */
void
metrics_conf_freed(const struct conf *conf)
{
	struct spf_stats st;

	if (conf->rt.spf == NULL)
		return;
	spf_stats(conf->rt.spf, &st);
	atomic_fetch_add(&m.retired_timeouts, st.timeouts);
}

/* help: the # HELP and # TYPE lines of one metric. */
static void
help(FILE *f, const char *name, const char *type, const char *text)
{
	fprintf(f, "# HELP %s %s\n# TYPE %s %s\n", name, text, name, type);
}

/* render: the whole exposition, into an allocated buffer. */
static char *
render(size_t *len_r)
{
	static const char *const trust_kind[METRICS_TRUSTS] = { "none", "network", "auth", "spf" };
	static const char *const alg[METRICS_ALGS] = { "rsa-sha256", "ed25519-sha256" };
	const struct conf *conf;
	struct spf_stats st = { 0 };
	unsigned long timeouts;
	char *buf = NULL;
	size_t i, j;
	FILE *f = open_memstream(&buf, len_r);

	if (f == NULL)
		return NULL;
	help(f, "relaysign_messages_total", "counter",
	    "Messages decided, by action and reason (relaysign(8) LOGGING).");
	for (i = 0; i < METRICS_ACTIONS; i++)
		for (j = 0; j < METRICS_REASONS; j++) {
			unsigned long v = atomic_load_explicit(&m.messages[i][j],
			    memory_order_relaxed);

			if (v > 0)
				fprintf(f, "relaysign_messages_total{action=\"%s\",reason=\"%s\"} %lu\n",
				    policy_action_name((enum policy_action)i),
				    j == 0 ? "none" : policy_reason_name((enum policy_reason)j), v);
		}
	help(f, "relaysign_signatures_total", "counter",
	    "DKIM signatures made, by algorithm and signing domain.");
	pthread_mutex_lock(&sig_lock);
	for (i = 0; i <= METRICS_DOMAINS; i++) {
		if (i == nsigs && i < METRICS_DOMAINS)
			i = METRICS_DOMAINS;
		for (j = 0; j < METRICS_ALGS; j++)
			if (sigs[i].n[j] > 0)
				fprintf(f, "relaysign_signatures_total{algorithm=\"%s\",domain=\"%s\"} "
				    "%lu\n", alg[j], sigs[i].domain, sigs[i].n[j]);
	}
	pthread_mutex_unlock(&sig_lock);
	help(f, "relaysign_relay_trust_total", "counter",
	    "Messages by the kind of relay identity that trusted the client.");
	for (i = 0; i < METRICS_TRUSTS; i++)
		fprintf(f, "relaysign_relay_trust_total{kind=\"%s\"} %lu\n", trust_kind[i],
		    atomic_load(&m.trust[i]));
	help(f, "relaysign_spf_results_total", "counter",
	    "SPF results of trusted messages' envelope senders (RFC 7208 2.6).");
	for (i = POLICY_SPF_NONE; i < METRICS_SPF; i++)
		fprintf(f, "relaysign_spf_results_total{result=\"%s\"} %lu\n",
		    policy_spf_name((enum policy_spf)i), atomic_load(&m.spf[i]));
	help(f, "relaysign_dns_lookup_duration_seconds", "histogram",
	    "Time of each DNS check: envelope SPF, the vendor's SPF names, DMARC.");
	for (i = 0; i < PIPELINE_DNS_KINDS; i++) {
		unsigned long cum = 0;

		for (j = 0; j < NBUCKETS; j++) {
			cum += atomic_load(&m.dns[i].le[j]);
			fprintf(f, "relaysign_dns_lookup_duration_seconds_bucket{kind=\"%s\",le=\"%g\"} "
			    "%lu\n", dns_kind[i], buckets[j], cum);
		}
		fprintf(f, "relaysign_dns_lookup_duration_seconds_bucket{kind=\"%s\",le=\"+Inf\"} "
		    "%lu\n", dns_kind[i], atomic_load(&m.dns[i].count));
		fprintf(f, "relaysign_dns_lookup_duration_seconds_sum{kind=\"%s\"} %.6f\n",
		    dns_kind[i], (double)atomic_load(&m.dns[i].sum_us) / 1e6);
		fprintf(f, "relaysign_dns_lookup_duration_seconds_count{kind=\"%s\"} %lu\n",
		    dns_kind[i], atomic_load(&m.dns[i].count));
	}
	/* The configuration in force counts its own; freed ones were kept. */
	if ((conf = confswap_acquire()) != NULL) {
		if (conf->rt.spf != NULL)
			spf_stats(conf->rt.spf, &st);
		confswap_release(conf);
	}
	timeouts = atomic_load(&m.retired_timeouts) + st.timeouts;
	help(f, "relaysign_dns_timeouts_total", "counter",
	    "SPF checks that ran out of DNSTimeout.");
	fprintf(f, "relaysign_dns_timeouts_total %lu\n", timeouts);
	help(f, "relaysign_forged_results_removed_total", "counter",
	    "Authentication-Results fields claiming our AuthservID, removed.");
	fprintf(f, "relaysign_forged_results_removed_total %lu\n", atomic_load(&m.forged));
	help(f, "relaysign_key_load_failures_total", "counter",
	    "Reloads that failed because a key could not be loaded.");
	fprintf(f, "relaysign_key_load_failures_total %lu\n", atomic_load(&m.key_load_failures));
	help(f, "relaysign_config_reloads_total", "counter", "Configuration reloads (SIGHUP).");
	fprintf(f, "relaysign_config_reloads_total{outcome=\"success\"} %lu\n",
	    atomic_load(&m.reloads_ok));
	fprintf(f, "relaysign_config_reloads_total{outcome=\"failure\"} %lu\n",
	    atomic_load(&m.reloads_failed));
	help(f, "relaysign_config_last_reload_success_timestamp_seconds", "gauge",
	    "When the configuration was last reloaded successfully (0: never).");
	fprintf(f, "relaysign_config_last_reload_success_timestamp_seconds %lld\n",
	    atomic_load(&m.last_reload_ok));
	help(f, "relaysign_messages_in_flight", "gauge", "Messages between MAIL and their end.");
	fprintf(f, "relaysign_messages_in_flight %zu\n", confswap_inflight());
	help(f, "relaysign_build_info", "gauge", "The version of relaysign and its libraries.");
	fprintf(f, "relaysign_build_info{version=\"%s\",libopendkim=\"%s\",openssl=\"%s\"} 1\n",
	    PACKAGE_VERSION, m.libopendkim, OpenSSL_version(OPENSSL_VERSION_STRING));
	help(f, "relaysign_process_start_time_seconds", "gauge",
	    "Start time of the process since the Unix epoch.");
	fprintf(f, "relaysign_process_start_time_seconds %lld\n", (long long)m.started);
	if (fclose(f) != 0) {
		free(buf);
		return NULL;
	}
	return buf;
}

/* reply: a short text answer. */
static enum MHD_Result
reply(struct MHD_Connection *conn, unsigned status, const char *text)
{
	struct MHD_Response *resp = MHD_create_response_from_buffer(strlen(text),
	    (void *)text, MHD_RESPMEM_PERSISTENT);
	enum MHD_Result r;

	if (resp == NULL)
		return MHD_NO;
	(void)MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, "text/plain");
	if (status == MHD_HTTP_METHOD_NOT_ALLOWED)
		(void)MHD_add_response_header(resp, MHD_HTTP_HEADER_ALLOW, "GET, HEAD");
	r = MHD_queue_response(conn, status, resp);
	MHD_destroy_response(resp);
	return r;
}

/* handle: GET or HEAD /metrics; anything else is refused. */
static enum MHD_Result
handle(void *cls, struct MHD_Connection *conn, const char *url, const char *method,
    const char *version, const char *upload_data, size_t *upload_data_size, void **con_cls)
{
	struct MHD_Response *resp;
	enum MHD_Result r;
	size_t len;
	char *body;

	(void)cls;
	(void)version;
	(void)upload_data;
	(void)con_cls;
	if (strcmp(method, MHD_HTTP_METHOD_GET) != 0 && strcmp(method, MHD_HTTP_METHOD_HEAD) != 0)
		return reply(conn, MHD_HTTP_METHOD_NOT_ALLOWED, "only GET and HEAD\n");
	if (*upload_data_size != 0)
		return reply(conn, MHD_HTTP_BAD_REQUEST, "no request body, please\n");
	if (strcmp(url, "/metrics") != 0)
		return reply(conn, MHD_HTTP_NOT_FOUND, "relaysign: the metrics are at /metrics\n");
	if ((body = render(&len)) == NULL)
		return reply(conn, MHD_HTTP_INTERNAL_SERVER_ERROR, "out of memory\n");
	resp = MHD_create_response_from_buffer(len, body, MHD_RESPMEM_MUST_FREE);
	if (resp == NULL) {
		free(body);
		return MHD_NO;
	}
	(void)MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE,
	    "text/plain; version=0.0.4; charset=utf-8");
	r = MHD_queue_response(conn, MHD_HTTP_OK, resp);
	MHD_destroy_response(resp);
	return r;
}

/* metrics_listen: see metrics.h. */
int
metrics_listen(const char *spec, char *err, size_t errlen)
{
	struct sockaddr_storage ss;
	socklen_t sslen;
	const char *p, *at;
	char host[INET6_ADDRSTRLEN + 2];
	int fd, one = 1, af;

	memset(&ss, 0, sizeof(ss));
	if (strncmp(spec, "unix:", 5) == 0 || strncmp(spec, "local:", 6) == 0) {
		struct sockaddr_un *sun = (struct sockaddr_un *)&ss;
		struct stat st;

		p = strchr(spec, ':') + 1;
		sun->sun_family = AF_UNIX;
		snprintf(sun->sun_path, sizeof(sun->sun_path), "%s", p);
		sslen = sizeof(*sun);
		/* A socket left by a relaysign that died: one nobody answers on. */
		if (lstat(p, &st) == 0 && S_ISSOCK(st.st_mode)) {
			int probe = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

			if (probe != -1 && connect(probe, (struct sockaddr *)sun, sslen) == 0) {
				close(probe);
				snprintf(err, errlen, "MetricsSocket %s: another process listens on it",
				    spec);
				return -1;
			}
			if (probe != -1)
				close(probe);
			(void)unlink(p);
		}
		snprintf(unix_path, sizeof(unix_path), "%s", p);
	} else {
		in_port_t port;

		af = strncmp(spec, "inet6:", 6) == 0 ? AF_INET6 : AF_INET;
		p = strchr(spec, ':') + 1;
		at = strchr(p, '@');
		port = (in_port_t)atoi(p);
		snprintf(host, sizeof(host), "%s", at + 1);
		if (host[0] == '[' && host[strlen(host) - 1] == ']') {
			memmove(host, host + 1, strlen(host));
			host[strlen(host) - 1] = '\0';
		}
		if (af == AF_INET) {
			struct sockaddr_in *sin = (struct sockaddr_in *)&ss;

			sin->sin_family = AF_INET;
			sin->sin_port = htons(port);
			sslen = sizeof(*sin);
			if (inet_pton(AF_INET, host, &sin->sin_addr) != 1) {
				snprintf(err, errlen, "MetricsSocket %s: %s is not an IPv4 address",
				    spec, host);
				return -1;
			}
		} else {
			struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;

			sin6->sin6_family = AF_INET6;
			sin6->sin6_port = htons(port);
			sslen = sizeof(*sin6);
			if (inet_pton(AF_INET6, host, &sin6->sin6_addr) != 1) {
				snprintf(err, errlen, "MetricsSocket %s: %s is not an IPv6 address",
				    spec, host);
				return -1;
			}
		}
	}
	if ((fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1) {
		snprintf(err, errlen, "MetricsSocket %s: %s", spec, strerror(errno));
		return -1;
	}
	if (ss.ss_family != AF_UNIX)
		(void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&ss, sslen) == -1 || listen(fd, 16) == -1) {
		snprintf(err, errlen, "MetricsSocket %s: cannot listen: %s", spec,
		    strerror(errno));
		close(fd);
		unix_path[0] = '\0';
		return -1;
	}
	listen_fd = fd;
	return 0;
}

/* metrics_serve: see metrics.h. */
int
metrics_serve(char *err, size_t errlen)
{
	if (listen_fd == -1)
		return 0;
	daemon_h = MHD_start_daemon(MHD_USE_POLL_INTERNAL_THREAD, 0, NULL, NULL, handle, NULL,
	    MHD_OPTION_LISTEN_SOCKET, listen_fd,
	    MHD_OPTION_CONNECTION_LIMIT, (unsigned)METRICS_CONNECTIONS,
	    MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)METRICS_TIMEOUT,
	    MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)METRICS_CONN_MEMORY,
	    MHD_OPTION_END);
	if (daemon_h == NULL) {
		snprintf(err, errlen, "MetricsSocket: libmicrohttpd would not start");
		return -1;
	}
	return 0;
}

/* metrics_stop: see metrics.h. */
void
metrics_stop(void)
{
	if (daemon_h != NULL) {
		MHD_stop_daemon(daemon_h);	/* it closes the listening socket */
		daemon_h = NULL;
		listen_fd = -1;
	} else if (listen_fd != -1) {
		close(listen_fd);
		listen_fd = -1;
	}
	if (unix_path[0] != '\0')
		(void)unlink(unix_path);
	unix_path[0] = '\0';
}
