/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * callbacks.c -- per-connection and per-message contexts and the milter
 * callbacks.
 *
 * Ownership: a struct conn lives from xxfi_connect to xxfi_close; a struct
 * msg from xxfi_envfrom to xxfi_eom or xxfi_abort, and holds a reference to
 * the configuration it started with (state_acquire/state_release).
 *
 * Headers are held until the end of the header block because the keys (and
 * so the signer) depend on the From field, which may come anywhere; they are
 * bounded by CB_MAX_HEADERS and CB_MAX_HEADER_BYTES.  The body is never held:
 * it streams into the signer.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#include "align.h"
#include "authres.h"
#include "callbacks.h"
#include "conf.h"
#include "dmarc.h"
#include "from.h"
#include "keytable.h"
#include "log.h"
#include "policy.h"
#include "sign.h"
#include "spf.h"
#include "state.h"
#include "util.h"

#define CB_AR_NAME "Authentication-Results"
#define CB_SIG_NAME "DKIM-Signature"
#define CB_TEXT_MAX 256

struct hdr {
	char *name;
	char *value;
};

struct msg {
	const struct conf *conf;	/* referenced; released in msg_free */
	enum policy_trust trust;
	char auth_user[CB_TEXT_MAX];
	const char *spf_name;		/* the RelaySPFNames entry that trusted the client */
	char mailfrom_domain[FROM_DOMAIN_MAX];	/* "" for the null sender */
	bool null_sender;
	enum policy_spf spf;		/* SPF of MAIL FROM (or HELO for <>) */
	char spf_why[256];		/* libspf2's reason, logged with the queue id */
	enum align_result aligned;	/* header.from vs that identity */
	bool align_checked;
	enum dmarc_policy dmarc;	/* From domain's published policy */
	bool dmarc_checked;
	bool trust_temperror;		/* RelaySPFNames could not be read now */
	bool long_line;			/* a line over 998 octets (RFC 5322 2.1.1) */
	size_t body_col;		/* octets since the body's last LF */

	struct hdr *hdrs;
	size_t nhdrs, hdrcap, hdrbytes;
	bool headers_ok;
	size_t nfrom;			/* From fields seen */
	size_t from_index;		/* index into hdrs of the first From */
	size_t nar;			/* Authentication-Results fields seen */
	int *ar_ours;			/* 1-based indexes among them that claim our id */
	size_t nar_ours;

	enum from_status from_status;
	struct from_addr from;
	const struct key *keys[KEYTABLE_MAX_PER_DOMAIN];
	size_t nkeys;
	struct policy_facts facts;	/* as decided at end of headers */
	struct policy_decision decision;
	struct signer *signer;
};

struct conn {
	struct sockaddr_storage addr;
	bool have_addr;
	char addrtext[INET6_ADDRSTRLEN];
	char helo[CB_TEXT_MAX];
	bool can_skip;			/* the MTA understands SMFIS_SKIP */
	unsigned long proto;		/* SMFIP_* flags agreed in negotiation */
	struct msg *msg;
};

/* msg_free: ends a message's life and drops its configuration reference. */
static void
msg_free(struct msg *m)
{
	size_t i;

	if (m == NULL)
		return;
	signer_free(m->signer);
	for (i = 0; i < m->nhdrs; i++) {
		free(m->hdrs[i].name);
		free(m->hdrs[i].value);
	}
	free(m->hdrs);
	free(m->ar_ours);
	state_release(m->conf);
	free(m);
}

/* conn_get: the connection context, or NULL. */
static struct conn *
conn_get(SMFICTX *ctx)
{
	return smfi_getpriv(ctx);
}

/* qid: the MTA's queue id for log lines, or "NOQUEUE". */
static const char *
qid(SMFICTX *ctx)
{
	const char *id = smfi_getsymval(ctx, "i");

	return id != NULL ? id : "NOQUEUE";
}

/* tempfail: a 451 for our own trouble; never bounce a notice for our fault. */
static sfsistat
tempfail(SMFICTX *ctx, const char *why)
{
	(void)smfi_setreply(ctx, "451", "4.7.1", (char *)why);
	return SMFIS_TEMPFAIL;
}

/* cb_negotiate: ask only for the stages and actions we use. */
static sfsistat
cb_negotiate(SMFICTX *ctx, unsigned long f0, unsigned long f1, unsigned long f2,
    unsigned long f3, unsigned long *pf0, unsigned long *pf1, unsigned long *pf2,
    unsigned long *pf3)
{
	unsigned long want_actions = SMFIF_ADDHDRS | SMFIF_CHGHDRS;
	/*
	 * Not SMFIP_NODATA: Postfix sends the DATA stage's macros even when
	 * told to skip the stage, unanswered; over TCP our delayed ACK of that
	 * lone packet then holds Postfix's next write in Nagle for ~40 ms a
	 * message (bench/README.md).  Answering DATA (cb_data) costs one round
	 * trip of ~0.1 ms and asks nothing of the user's kernel.
	 */
	unsigned long skip = SMFIP_NORCPT | SMFIP_NOUNKNOWN;
	unsigned long want = SMFIP_HDR_LEADSPC | SMFIP_SKIP | SMFIP_NR_CONN |
	    SMFIP_NR_HELO | SMFIP_NR_HDR;
	struct conn *c;

	(void)f2;
	(void)f3;
	if ((f0 & want_actions) != want_actions) {
		log_err("MTA does not offer header changes (actions 0x%lx); "
		    "relaysign cannot work with it", f0);
		return SMFIS_REJECT;
	}
	/*
	 * SMFIP_HDR_LEADSPC: header values exactly as received, so simple
	 * canonicalization hashes what the verifier will see.
	 */
	if ((f1 & SMFIP_HDR_LEADSPC) == 0) {
		log_err("MTA does not pass headers with their leading space "
		    "(milter protocol 6 needed; Postfix: milter_protocol = 6)");
		return SMFIS_REJECT;
	}
	*pf0 = want_actions;
	*pf1 = (f1 & skip) | (f1 & want);
	*pf2 = 0;
	*pf3 = 0;

	if ((c = calloc(1, sizeof(*c))) == NULL)
		return SMFIS_TEMPFAIL;
	c->can_skip = (*pf1 & SMFIP_SKIP) != 0;
	c->proto = *pf1;
	if (smfi_setpriv(ctx, c) != MI_SUCCESS) {
		free(c);
		return SMFIS_TEMPFAIL;
	}
	return SMFIS_CONTINUE;
}

/*
 * noreply: SMFIS_NOREPLY for a stage we agreed not to answer (one round
 * trip less per header), else SMFIS_CONTINUE.
 */
static sfsistat
noreply(SMFICTX *ctx, unsigned long flag)
{
	struct conn *c = conn_get(ctx);

	return c != NULL && (c->proto & flag) != 0 ? SMFIS_NOREPLY : SMFIS_CONTINUE;
}

/* cb_connect: note the client address. */
static sfsistat
cb_connect(SMFICTX *ctx, char *hostname, _SOCK_ADDR *sa)
{
	struct conn *c = conn_get(ctx);

	(void)hostname;
	if (c == NULL) {
		/* An MTA that skipped negotiation: make the context now. */
		if ((c = calloc(1, sizeof(*c))) == NULL)
			return SMFIS_TEMPFAIL;
		if (smfi_setpriv(ctx, c) != MI_SUCCESS) {
			free(c);
			return SMFIS_TEMPFAIL;
		}
	}
	c->have_addr = false;
	util_strlcpy(c->addrtext, "unknown", sizeof(c->addrtext));
	if (sa != NULL && sa->sa_family == AF_INET) {
		memcpy(&c->addr, sa, sizeof(struct sockaddr_in));
		c->have_addr = true;
		inet_ntop(AF_INET, &((struct sockaddr_in *)(void *)sa)->sin_addr, c->addrtext,
		    sizeof(c->addrtext));
	} else if (sa != NULL && sa->sa_family == AF_INET6) {
		memcpy(&c->addr, sa, sizeof(struct sockaddr_in6));
		c->have_addr = true;
		inet_ntop(AF_INET6, &((struct sockaddr_in6 *)(void *)sa)->sin6_addr, c->addrtext,
		    sizeof(c->addrtext));
	}
	return noreply(ctx, SMFIP_NR_CONN);
}

/* cb_helo: note the HELO name (the SPF identity for the null sender). */
static sfsistat
cb_helo(SMFICTX *ctx, char *helo)
{
	struct conn *c = conn_get(ctx);

	if (c != NULL && helo != NULL)
		util_strlcpy(c->helo, helo, sizeof(c->helo));
	return noreply(ctx, SMFIP_NR_HELO);
}

/* envelope_domain: the lowercase domain of a MAIL FROM argument, "" for <>. */
static void
envelope_domain(const char *arg, char *domain_r, size_t len, bool *null_r)
{
	const char *at, *end;
	size_t n;

	domain_r[0] = '\0';
	*null_r = false;
	if (arg == NULL)
		return;
	if (strcmp(arg, "<>") == 0 || arg[0] == '\0') {
		*null_r = true;
		return;
	}
	if ((at = strrchr(arg, '@')) == NULL)
		return;
	at++;
	end = at + strcspn(at, ">");
	n = (size_t)(end - at);
	if (n >= len)
		return;
	for (size_t i = 0; i < n; i++)
		domain_r[i] = (char)(at[i] >= 'A' && at[i] <= 'Z' ? at[i] + 32 : at[i]);
	domain_r[n] = '\0';
	if (n > 0 && domain_r[n - 1] == '.')
		domain_r[n - 1] = '\0';
}

/*
 * relay_trust: is this client the vendor's relay, and by which rule?  The
 * cheap rules first; the vendor's SPF record (cached) only when they fail.
 */
static enum policy_trust
relay_trust(const struct conf *conf, const struct conn *c, const char *auth,
    const char **spf_name_r, bool *temperror_r)
{
	const struct sockaddr *sa = (const struct sockaddr *)&c->addr;
	enum policy_spf r;

	*spf_name_r = NULL;
	*temperror_r = false;
	if (c->have_addr && cidr_set_match(conf->relay_networks, sa))
		return POLICY_TRUST_NETWORK;
	if (auth != NULL && auth[0] != '\0' && strv_contains(conf->relay_auth_users, auth))
		return POLICY_TRUST_AUTH;
	if (c->have_addr && conf->relay_spf_names != NULL) {
		r = spf_vendor_check(conf->spf, sa, conf->relay_spf_names, spf_name_r);
		if (r == POLICY_SPF_PASS)
			return POLICY_TRUST_SPF;
		*temperror_r = r == POLICY_SPF_TEMPERROR;
	}
	return POLICY_TRUST_NONE;
}

/*
 * envelope_spf: RFC 7208 check_host for MAIL FROM, or HELO for the null
 * sender; the reason goes to why (logged at the end: Postfix has no queue
 * id yet at MAIL FROM).
 */
static enum policy_spf
envelope_spf(const struct conf *conf, const struct conn *c, const char *arg, char *why,
    size_t whylen)
{
	char addr[FROM_ADDR_MAX];
	size_t n;
	enum policy_spf r;

	why[0] = '\0';
	if (!c->have_addr) {
		util_strlcpy(why, "no client address", whylen);
		return POLICY_SPF_NONE;
	}
	/* The address without its angle brackets; "" is the null sender. */
	n = 0;
	if (arg != NULL) {
		const char *p = arg + (arg[0] == '<');

		n = strcspn(p, ">");
		if (n >= sizeof(addr))
			n = 0;
		memcpy(addr, p, n);
	}
	addr[n] = '\0';
	r = spf_check_host(conf->spf, (const struct sockaddr *)&c->addr, c->helo, addr, why,
	    whylen);
	return r;
}

/*
 * cb_envfrom: decide the relay trust.  Untrusted mail is never signed or
 * tagged; its headers are only looked at for Authentication-Results that
 * claim our authserv-id (RFC 8601 5: removed, whoever sent them), and, if
 * the vendor's SPF record could not be read, for a From we would sign.
 */
static sfsistat
cb_envfrom(SMFICTX *ctx, char **argv)
{
	struct conn *c = conn_get(ctx);
	const char *auth = smfi_getsymval(ctx, "{auth_authen}");
	struct msg *m;

	if (c == NULL)
		return tempfail(ctx, "relaysign: no connection context");
	msg_free(c->msg);
	c->msg = NULL;

	if ((m = calloc(1, sizeof(*m))) == NULL)
		return tempfail(ctx, "relaysign: out of memory");
	if ((m->conf = state_acquire()) == NULL) {
		free(m);
		return tempfail(ctx, "relaysign: shutting down");
	}
	m->trust = relay_trust(m->conf, c, auth, &m->spf_name, &m->trust_temperror);
	m->headers_ok = true;
	if (m->trust == POLICY_TRUST_NONE) {
		char a[CB_TEXT_MAX];

		/* With a temperror the verdict waits for From (cb_eoh logs it). */
		log_debug("%s: relay=none client=[%s] auth=%s %s", qid(ctx), c->addrtext,
		    log_clean(a, sizeof(a), auth != NULL ? auth : "-"),
		    m->trust_temperror ? "relay-spf=temperror" : "action=accept");
		c->msg = m;
		return SMFIS_CONTINUE;
	}
	if (m->trust == POLICY_TRUST_AUTH)
		util_strlcpy(m->auth_user, auth, sizeof(m->auth_user));
	envelope_domain(argv != NULL ? argv[0] : NULL, m->mailfrom_domain,
	    sizeof(m->mailfrom_domain), &m->null_sender);
	m->spf = envelope_spf(m->conf, c, argv != NULL ? argv[0] : NULL, m->spf_why,
	    sizeof(m->spf_why));
	c->msg = m;
	return SMFIS_CONTINUE;
}

/* keep_header: stores one header field for the end of the header block. */
static int
keep_header(struct msg *m, const char *name, const char *value)
{
	size_t nlen = strlen(name), vlen = strlen(value);
	struct hdr *h;

	if (m->nhdrs >= CB_MAX_HEADERS ||
	    m->hdrbytes + nlen + vlen > CB_MAX_HEADER_BYTES)
		return -1;
	if (m->nhdrs == m->hdrcap) {
		size_t cap = m->hdrcap ? m->hdrcap * 2 : 32;

		if ((h = realloc(m->hdrs, cap * sizeof(*h))) == NULL)
			return -1;
		m->hdrs = h;
		m->hdrcap = cap;
	}
	h = &m->hdrs[m->nhdrs];
	if ((h->name = strdup(name)) == NULL)
		return -1;
	if ((h->value = strdup(value)) == NULL) {
		free(h->name);
		return -1;
	}
	m->nhdrs++;
	m->hdrbytes += nlen + vlen;
	return 0;
}

/*
 * long_header: true if a physical line of "name:value" passes 998 octets
 * (RFC 5322 2.1.1; folds are LF or CRLF in the value).
 */
static bool
long_header(const char *name, const char *value)
{
	size_t col = strlen(name) + 1;
	const char *p;

	for (p = value; *p != '\0'; p++) {
		if (*p == '\n')
			col = 0;
		else if (*p != '\r' && ++col > 998)
			return true;
	}
	return col > 998;
}

/* cb_header: count From and our Authentication-Results; keep the field. */
static sfsistat
cb_header(SMFICTX *ctx, char *name, char *value)
{
	struct conn *c = conn_get(ctx);
	struct msg *m = c != NULL ? c->msg : NULL;

	if (m == NULL || !m->headers_ok)
		return noreply(ctx, SMFIP_NR_HDR);
	if (strcasecmp(name, CB_AR_NAME) == 0) {
		m->nar++;
		if (authres_is_ours(value, strlen(value), m->conf->authserv_id)) {
			int *p = realloc(m->ar_ours, (m->nar_ours + 1) * sizeof(*p));

			if (p == NULL) {
				m->headers_ok = false;
				return noreply(ctx, SMFIP_NR_HDR);
			}
			m->ar_ours = p;
			m->ar_ours[m->nar_ours++] = (int)m->nar;
		}
	}
	if (strcasecmp(name, "From") == 0 && m->nfrom++ == 0)
		m->from_index = m->nhdrs;
	else if (m->trust == POLICY_TRUST_NONE)
		return noreply(ctx, SMFIP_NR_HDR);	/* nothing to sign: keep From only */
	if (long_header(name, value))
		m->long_line = true;
	if (keep_header(m, name, value) != 0)
		m->headers_ok = false;
	return noreply(ctx, SMFIP_NR_HDR);
}

/* log_decision: the one line per trusted message (DESIGN.md 8). */
static void
log_decision(SMFICTX *ctx, const struct conn *c, const struct msg *m)
{
	char user[CB_TEXT_MAX], relay[CB_TEXT_MAX + 8], mf[FROM_DOMAIN_MAX],
	    from[FROM_DOMAIN_MAX], sigs[512] = "", why[64] = "";
	size_t i, n = m->signer != NULL ? signer_count(m->signer) : 0;

	if (m->trust == POLICY_TRUST_AUTH)
		snprintf(relay, sizeof(relay), "auth:%s",
		    log_clean(user, sizeof(user), m->auth_user));
	else if (m->trust == POLICY_TRUST_SPF && m->spf_name != NULL)
		snprintf(relay, sizeof(relay), "spf:%s",
		    log_clean(user, sizeof(user), m->spf_name));
	else
		util_strlcpy(relay, policy_trust_name(m->trust), sizeof(relay));
	if (m->decision.reason != POLICY_REASON_NONE)
		snprintf(why, sizeof(why), " reason=%s", policy_reason_name(m->decision.reason));
	if (m->decision.action == POLICY_SIGN && n > 0) {
		size_t off;
		const struct key *k0 = signer_key(m->signer, 0);

		off = (size_t)snprintf(sigs, sizeof(sigs), " d=%s s=", k0->domain);
		for (i = 0; i < n && off < sizeof(sigs); i++)
			off += (size_t)snprintf(sigs + off, sizeof(sigs) - off, "%s%s",
			    i ? "," : "", signer_key(m->signer, i)->selector);
		for (i = 0; i < n && off < sizeof(sigs); i++)
			off += (size_t)snprintf(sigs + off, sizeof(sigs) - off, "%s%s",
			    i ? "," : " a=", key_alg_name(signer_key(m->signer, i)->alg));
	}
	log_debug("%s: spf=%s: %s", qid(ctx), policy_spf_name(m->spf), m->spf_why);
	log_info("%s: relay=%s client=[%s] mailfrom=%s spf=%s from=%s aligned=%s%s%s "
	    "action=%s%s%s", qid(ctx),
	    relay, c->addrtext,
	    m->null_sender ? "<>" : log_clean(mf, sizeof(mf), m->mailfrom_domain[0] ?
	    m->mailfrom_domain : "-"),
	    policy_spf_name(m->spf),
	    m->from_status == FROM_OK ? log_clean(from, sizeof(from), m->from.domain) :
	    from_status_name(m->from_status),
	    !m->align_checked ? "none" : m->aligned == ALIGN_PASS ? "yes" :
	    m->aligned == ALIGN_FAIL ? "no" : "none",
	    m->dmarc_checked ? " dmarc=" : "", m->dmarc_checked ? dmarc_policy_name(m->dmarc) : "",
	    policy_action_name(m->decision.action), why, sigs);
}

/* start_signer: make the signer and feed it the held header block. */
static int
start_signer(SMFICTX *ctx, struct msg *m, char *err, size_t errlen)
{
	size_t i;

	m->signer = signer_new(m->conf->sign_lib, m->keys, m->nkeys, qid(ctx), err, errlen);
	if (m->signer == NULL)
		return -1;
	for (i = 0; i < m->nhdrs; i++)
		if (signer_header(m->signer, m->hdrs[i].name, m->hdrs[i].value, err,
		    errlen) != 0)
			return -1;
	return signer_eoh(m->signer, err, errlen);
}

/* cb_data: answered on purpose, see cb_negotiate. */
static sfsistat
cb_data(SMFICTX *ctx)
{
	(void)ctx;
	return SMFIS_CONTINUE;
}

/* cb_eoh: parse From, look up keys, decide; start signing if we will sign. */
static sfsistat
cb_eoh(SMFICTX *ctx)
{
	struct conn *c = conn_get(ctx);
	struct msg *m = c != NULL ? c->msg : NULL;
	struct policy_facts facts;
	char why[128], err[512];

	if (m == NULL)
		return SMFIS_CONTINUE;

	if (m->nfrom == 0) {
		m->from_status = FROM_EMPTY;
	} else if (m->nfrom > 1) {
		/* RFC 7489 6.6.1: several From fields have no single author. */
		m->from_status = FROM_MULTIPLE;
	} else {
		const char *v = m->hdrs[m->from_index].value;

		m->from_status = from_parse(v, strlen(v), &m->from, why, sizeof(why));
	}
	if (m->from_status == FROM_OK) {
		m->nkeys = keytable_lookup(m->conf->keys, m->from.domain, m->keys,
		    KEYTABLE_MAX_PER_DOMAIN);
	}
	if (m->from_status == FROM_OK && m->trust != POLICY_TRUST_NONE) {
		const char *env = m->null_sender ? c->helo : m->mailfrom_domain;

		/* RFC 7489 3.1: the identity SPF checked; HELO for the null sender. */
		m->aligned = align_check(m->conf->align, m->conf->alignment, m->from.domain, env);
		m->align_checked = true;
		if (m->conf->dmarc_lookup) {
			struct dmarc_record rec;

			m->dmarc = dmarc_lookup(m->conf->spf, m->conf->align, m->from.domain, &rec);
			m->dmarc_checked = true;
		}
	}

	memset(&facts, 0, sizeof(facts));
	facts.trust = m->trust;
	facts.from = m->from_status;
	facts.headers_ok = m->headers_ok;
	facts.key_found = m->nkeys > 0;
	facts.spf = m->spf;
	facts.require_spf = m->conf->require_spf;
	facts.on_bad_from = m->conf->on_bad_from;
	facts.long_line = m->long_line;
	facts.trust_temperror = m->trust_temperror;
	m->facts = facts;
	m->decision = policy_decide(&facts);

	switch (m->decision.action) {
	case POLICY_ACCEPT:
		/* Untrusted: done, unless it carries results forged in our name. */
		if (m->nar_ours == 0) {
			msg_free(m);
			c->msg = NULL;
			return SMFIS_ACCEPT;
		}
		return SMFIS_CONTINUE;
	case POLICY_SIGN:
		if (start_signer(ctx, m, err, sizeof(err)) != 0) {
			log_err("%s: signing could not start: %s", qid(ctx), err);
			m->decision.action = POLICY_TEMPFAIL;
			log_decision(ctx, c, m);
			msg_free(m);
			c->msg = NULL;
			return tempfail(ctx, "relaysign: signing failed, try again later");
		}
		return SMFIS_CONTINUE;
	case POLICY_REJECT:
		log_decision(ctx, c, m);
		msg_free(m);
		c->msg = NULL;
		(void)smfi_setreply(ctx, "550", "5.7.1",
		    "relaysign: From header must name exactly one author");
		return SMFIS_REJECT;
	case POLICY_TEMPFAIL:
		log_decision(ctx, c, m);
		msg_free(m);
		c->msg = NULL;
		return tempfail(ctx, "relaysign: cannot authenticate the sender now, try "
		    "again later");
	default:
		return SMFIS_CONTINUE;
	}
}

/* cb_body: stream a chunk into the signer; skip the body when not signing. */
static sfsistat
cb_body(SMFICTX *ctx, unsigned char *buf, size_t len)
{
	struct conn *c = conn_get(ctx);
	struct msg *m = c != NULL ? c->msg : NULL;
	char err[512];

	if (m == NULL || m->signer == NULL)
		return c != NULL && c->can_skip ? SMFIS_SKIP : SMFIS_CONTINUE;
	/* RFC 5322 2.1.1: a line over 998 octets (CR not counted), across chunks. */
	for (size_t i = 0; i < len && !m->long_line; i++) {
		if (buf[i] == '\n')
			m->body_col = 0;
		else if (buf[i] != '\r' && ++m->body_col > 998)
			m->long_line = true;
	}
	if (m->long_line) {
		/* Unsignable now: stop hashing, let the end of message tag it. */
		signer_free(m->signer);
		m->signer = NULL;
		return c->can_skip ? SMFIS_SKIP : SMFIS_CONTINUE;
	}
	if (signer_body(m->signer, buf, len, err, sizeof(err)) != 0) {
		log_err("%s: signing failed in the body: %s", qid(ctx), err);
		msg_free(m);
		c->msg = NULL;
		return tempfail(ctx, "relaysign: signing failed, try again later");
	}
	return SMFIS_CONTINUE;
}

/* add_header: insert at the top, with the leading space LEADSPC asks of us. */
static int
add_header(SMFICTX *ctx, const char *name, const char *value)
{
	size_t len = strlen(value) + 2;
	char *v = malloc(len);
	int rc;

	if (v == NULL)
		return -1;
	snprintf(v, len, " %s", value);
	rc = smfi_insheader(ctx, 0, (char *)name, v) == MI_SUCCESS ? 0 : -1;
	free(v);
	return rc;
}

/* remove_forged: RFC 8601 5: every field claiming our authserv-id, last first. */
static int
remove_forged(SMFICTX *ctx, const struct msg *m)
{
	size_t i;

	for (i = m->nar_ours; i > 0; i--)
		if (smfi_chgheader(ctx, CB_AR_NAME, m->ar_ours[i - 1], NULL) != MI_SUCCESS) {
			log_err("%s: could not remove a forged %s", qid(ctx), CB_AR_NAME);
			return -1;
		}
	return 0;
}

/* cb_eom: finish signing, remove forged results, tag, sign, log. */
static sfsistat
cb_eom(SMFICTX *ctx)
{
	struct conn *c = conn_get(ctx);
	struct msg *m = c != NULL ? c->msg : NULL;
	struct authres_sig sigs[SIGN_MAX_KEYS];
	struct authres_facts ar;
	char value[AUTHRES_MAX], err[512];
	size_t i, n = 0;

	if (m == NULL)
		return SMFIS_CONTINUE;

	if (m->decision.action == POLICY_ACCEPT) {
		/* Untrusted, with results forged in our name (RFC 8601 5). */
		if (remove_forged(ctx, m) != 0)
			goto fail;
		log_info("%s: relay=none client=[%s] removed %zu forged %s claiming %s",
		    qid(ctx), c->addrtext, m->nar_ours, CB_AR_NAME, m->conf->authserv_id);
		msg_free(m);
		c->msg = NULL;
		return SMFIS_CONTINUE;
	}
	/* A body line over 998 octets turned up: tag, do not sign (policy.c). */
	if (m->long_line && m->decision.action == POLICY_SIGN) {
		m->facts.long_line = true;
		m->decision = policy_decide(&m->facts);
		signer_free(m->signer);
		m->signer = NULL;
	}

	if (m->signer != NULL && signer_eom(m->signer, err, sizeof(err)) != 0) {
		log_err("%s: signing failed: %s", qid(ctx), err);
		m->decision.action = POLICY_TEMPFAIL;
		log_decision(ctx, c, m);
		goto fail;
	}
	if (m->signer != NULL)
		n = signer_count(m->signer);
	for (i = 0; i < n; i++) {
		const struct key *k = signer_key(m->signer, i);

		sigs[i].domain = k->domain;
		sigs[i].selector = k->selector;
		sigs[i].alg = k->alg;
	}

	memset(&ar, 0, sizeof(ar));
	ar.authserv_id = m->conf->authserv_id;
	ar.trust = m->trust;
	ar.auth_user = m->trust == POLICY_TRUST_AUTH ? m->auth_user : NULL;
	ar.spf = m->spf;
	ar.spf_mailfrom = m->null_sender ? NULL : m->mailfrom_domain;
	ar.spf_helo = m->null_sender ? c->helo : NULL;
	ar.from_domain = m->from_status == FROM_OK ? m->from.domain : NULL;
	ar.align_checked = m->align_checked;
	ar.aligned = m->aligned;
	ar.align_mode = m->conf->alignment;
	ar.dmarc_policy = m->dmarc_checked ? dmarc_policy_name(m->dmarc) : NULL;
	ar.decision = m->decision;
	ar.sigs = sigs;
	ar.nsigs = n;
	if (authres_format(&ar, value, sizeof(value)) != 0) {
		log_err("%s: Authentication-Results does not fit in %zu bytes", qid(ctx),
		    sizeof(value));
		goto fail;
	}

	if (remove_forged(ctx, m) != 0)
		goto fail;
	if (add_header(ctx, CB_AR_NAME, value) != 0) {
		log_err("%s: could not add %s", qid(ctx), CB_AR_NAME);
		goto fail;
	}
	/* Signatures above everything, the last key's on top. */
	for (i = 0; i < n; i++)
		if (add_header(ctx, CB_SIG_NAME, signer_value(m->signer, i)) != 0) {
			log_err("%s: could not add %s", qid(ctx), CB_SIG_NAME);
			goto fail;
		}
	log_decision(ctx, c, m);
	msg_free(m);
	c->msg = NULL;
	return SMFIS_CONTINUE;

fail:
	msg_free(m);
	c->msg = NULL;
	return tempfail(ctx, "relaysign: signing failed, try again later");
}

/* cb_abort: the MTA gave up on the message. */
static sfsistat
cb_abort(SMFICTX *ctx)
{
	struct conn *c = conn_get(ctx);

	if (c != NULL) {
		msg_free(c->msg);
		c->msg = NULL;
	}
	return SMFIS_CONTINUE;
}

/* cb_close: the connection is gone. */
static sfsistat
cb_close(SMFICTX *ctx)
{
	struct conn *c = conn_get(ctx);

	if (c != NULL) {
		msg_free(c->msg);
		free(c);
		(void)smfi_setpriv(ctx, NULL);
	}
	return SMFIS_CONTINUE;
}

static struct smfiDesc desc = {
	.xxfi_name = "relaysign",
	.xxfi_version = SMFI_VERSION,
	.xxfi_flags = SMFIF_ADDHDRS | SMFIF_CHGHDRS,
	.xxfi_connect = cb_connect,
	.xxfi_helo = cb_helo,
	.xxfi_envfrom = cb_envfrom,
	.xxfi_envrcpt = NULL,
	.xxfi_header = cb_header,
	.xxfi_eoh = cb_eoh,
	.xxfi_body = cb_body,
	.xxfi_eom = cb_eom,
	.xxfi_abort = cb_abort,
	.xxfi_close = cb_close,
	.xxfi_unknown = NULL,
	.xxfi_data = cb_data,
	.xxfi_negotiate = cb_negotiate,
};

/* callbacks_desc: the smfiDesc to register. */
struct smfiDesc *
callbacks_desc(void)
{
	return &desc;
}
