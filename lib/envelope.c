/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * envelope.c -- the envelope stage of the pipeline (pipeline.h): at MAIL,
 * who the client is to us (relay trust: network, SMTP AUTH login, the
 * vendor's SPF record), the envelope sender taken apart, its SPF result,
 * and the MAIL parameters a new envelope sender must carry on.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "bindings.h"
#include "cidr.h"
#include "conf.h"
#include "from.h"
#include "pipeline_msg.h"
#include "spf.h"
#include "util.h"

/*
 * same_client: false when text (a {client_addr} macro, Sendmail's
 * "IPv6:" prefix allowed) is an address other than the connect address.
 * Text that is no address says nothing either way.
 */
static bool
same_client(const struct pipeline *p, const char *text)
{
	unsigned char a[sizeof(struct in6_addr)];
	const unsigned char *mine;

	if (strncasecmp(text, "IPv6:", 5) == 0)
		text += 5;
	if (inet_pton(AF_INET, text, a) == 1) {
		if (p->addr.ss_family == AF_INET) {
			mine = (const unsigned char *)&((const struct sockaddr_in *)(const void *)&p->addr)
			           ->sin_addr;
			return memcmp(a, mine, 4) == 0;
		}
		mine = (const unsigned char *)&((const struct sockaddr_in6 *)(const void *)&p->addr)
		           ->sin6_addr;
		/* An IPv4-mapped connect address is the same client (RFC 4291 2.5.5.2). */
		return memcmp(mine, "\0\0\0\0\0\0\0\0\0\0\xff\xff", 12) == 0 &&
		       memcmp(a, mine + 12, 4) == 0;
	}
	if (inet_pton(AF_INET6, text, a) == 1) {
		if (p->addr.ss_family != AF_INET6)
			return false;
		mine = (const unsigned char *)&((const struct sockaddr_in6 *)(const void *)&p->addr)
		           ->sin6_addr;
		return memcmp(a, mine, 16) == 0;
	}
	return true;
}

/*
 * parse_env: the one parser of the MAIL FROM argument.  RFC 5321 4.1.2:
 * "<>" is the null sender; an optional source route ("@a,@b:") is
 * dropped (4.1.1.2 says to ignore it); the address must be local@domain
 * within 320 octets (4.5.3.1).  The domain is the text after the last
 * '@' (a quoted local part may hold '@'), lowercased without a trailing
 * dot.  Anything else is ENV_BAD: SPF permerror, never another identity.
 */
static enum pipeline_env
parse_env(const char *arg, char *addr_r, size_t addrlen, char *domain_r, size_t domainlen)
{
	const char *p, *end, *at;
	size_t n, i;

	addr_r[0] = domain_r[0] = '\0';
	if (arg == NULL)
		return PIPELINE_ENV_BAD;
	p = arg;
	end = arg + strlen(arg);
	if (*p == '<') {
		if (end == p + 1 || end[-1] != '>')
			return PIPELINE_ENV_BAD;
		p++;
		end--;
	}
	if (p == end)
		return PIPELINE_ENV_NULL;
	if (*p == '@') {
		const char *colon = memchr(p, ':', (size_t)(end - p));

		if (colon == NULL)
			return PIPELINE_ENV_BAD;
		p = colon + 1;
	}
	n = (size_t)(end - p);
	if (n == 0 || n >= addrlen || memchr(p, '<', n) != NULL || memchr(p, '>', n) != NULL)
		return PIPELINE_ENV_BAD;
	for (at = NULL, i = 0; i < n; i++)
		if (p[i] == '@')
			at = p + i;
	if (at == NULL || at == p || at + 1 == end)
		return PIPELINE_ENV_BAD;
	memcpy(addr_r, p, n);
	addr_r[n] = '\0';
	n = (size_t)(end - (at + 1));
	if (n > 0 && at[n] == '.')
		n--;
	if (n == 0 || n >= domainlen)
		return PIPELINE_ENV_BAD;
	for (i = 0; i < n; i++) {
		char c = at[1 + i];

		domain_r[i] = (char)(c >= 'A' && c <= 'Z' ? c + 32 : c);
	}
	domain_r[n] = '\0';
	return PIPELINE_ENV_OK;
}

/*
 * relay_trust: is this client the vendor's relay, and by which rule?  The
 * cheap rules first; the vendor's SPF record (cached) only when they fail.
 */
static enum policy_trust
relay_trust(struct pipeline *p, bool have_addr, const char *auth)
{
	const struct conf *conf = p->m.conf;
	const struct sockaddr *sa = (const struct sockaddr *)&p->addr;
	enum policy_spf r;

	/*
	 * The login first: it names one institution of a consortium, where an
	 * address may be the whole consortium's (bindings.h).  A login longer
	 * than we keep could only match after being cut: never.
	 */
	if (auth != NULL && auth[0] != '\0' && strlen(auth) < sizeof(p->m.auth_user) &&
	    (strv_contains(conf->relay_auth_users, auth) ||
	     bindings_has_login(conf->rt.bindings, auth))) {
		util_strlcpy(p->m.auth_user, auth, sizeof(p->m.auth_user));
		return POLICY_TRUST_AUTH;
	}
	if (have_addr && cidr_set_match(conf->relay_networks, sa))
		return POLICY_TRUST_NETWORK;
	if (have_addr && conf->relay_spf_names != NULL) {
		double t0 = pl_mono_now();

		r = spf_vendor_check(conf->rt.spf, sa, conf->relay_spf_names, &p->m.relay_spf_name);
		pl_dns_timed(&p->m, PIPELINE_DNS_VENDOR, t0);
		if (r == POLICY_SPF_PASS)
			return POLICY_TRUST_SPF;
		p->m.relay_spf_name = NULL;
		p->m.trust_temperror = r == POLICY_SPF_TEMPERROR;
	}
	return POLICY_TRUST_NONE;
}

/* pipeline_mail: a new message: trust, envelope, SPF. */
enum pipeline_status
pipeline_mail(struct pipeline *p, const struct conf *conf, const char *arg, const char *auth,
              const char *client_addr)
{
	struct msg *m = &p->m;
	bool have_addr = p->have_addr;

	pl_msg_clear(m);
	p->have_report = false;
	m->open = true;
	m->conf = conf;
	m->headers_ok = true;
	if (have_addr && client_addr != NULL && !same_client(p, client_addr)) {
		/* The MTA's own word says this is another client than we were told. */
		m->client_mismatch = true;
		util_strlcpy(m->client_macro, client_addr, sizeof(m->client_macro));
		have_addr = false;
	}
	m->trust = relay_trust(p, have_addr, auth);
	m->env = parse_env(arg, m->env_addr, sizeof(m->env_addr), m->env_domain,
	                   sizeof(m->env_domain));
	if (m->trust == POLICY_TRUST_NONE)
		return PIPELINE_CONTINUE;

	/* RFC 7208 2.4: MAIL FROM, or HELO for the null sender. */
	if (m->env == PIPELINE_ENV_BAD) {
		m->spf = POLICY_SPF_PERMERROR;
		util_strlcpy(m->spf_why, "MAIL FROM is not an address (RFC 5321 4.1.2)",
		             sizeof(m->spf_why));
	} else if (!have_addr) {
		m->spf = POLICY_SPF_NONE;
		util_strlcpy(m->spf_why, "no client address", sizeof(m->spf_why));
	} else {
		double t0 = pl_mono_now();

		m->spf = spf_check_host(conf->rt.spf, (const struct sockaddr *)&p->addr, p->helo,
		                        m->env == PIPELINE_ENV_OK ? m->env_addr : "", m->spf_why,
		                        sizeof(m->spf_why));
		pl_dns_timed(m, PIPELINE_DNS_SPF, t0);
	}
	return PIPELINE_CONTINUE;
}

/* esmtp_kept: a MAIL parameter a new envelope sender must carry on. */
static bool
esmtp_kept(const char *p)
{
	static const char *const keep[] = {"SIZE=", "BODY=", "RET=", "ENVID=", NULL};
	size_t i;

	if (strcasecmp(p, "SMTPUTF8") == 0)
		return true;
	for (i = 0; keep[i] != NULL; i++)
		if (strncasecmp(p, keep[i], strlen(keep[i])) == 0 && p[strlen(keep[i])] != '\0')
			return true;
	return false;
}

/* pipeline_mail_params: the kept parameters, space-separated, printable ASCII only. */
void
pipeline_mail_params(struct pipeline *p, char *const *params)
{
	struct msg *m = &p->m;
	size_t i, off = 0, len;

	m->esmtp[0] = '\0';
	for (i = 0; m->open && params != NULL && params[i] != NULL; i++) {
		const char *q = params[i];

		if (!esmtp_kept(q))
			continue;
		for (len = 0; q[len] != '\0'; len++)
			if (q[len] <= ' ' || q[len] > '~')
				break;
		if (q[len] != '\0' || off + len + 2 > sizeof(m->esmtp))
			continue;
		if (off > 0)
			m->esmtp[off++] = ' ';
		memcpy(m->esmtp + off, q, len);
		off += len;
		m->esmtp[off] = '\0';
	}
}
