/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * pipeline.c -- one connection and its message, event by event: the
 * facts, gathered once; the decision, made once; the edits.  The envelope
 * stage (relay trust, MAIL FROM, SPF) is envelope.c; the message state
 * both share is pipeline_msg.h.
 *
 * Headers are held only for trusted mail, because the keys (and so the
 * signer) depend on the From field, which may come anywhere.  The first
 * From value is kept apart from the held block, so it is there to parse
 * whatever became of the block; Authentication-Results fields are counted
 * and tested for our AuthservID on every field, before any limit.
 *
 * The decision: untrusted mail is decided at the end of headers (nothing
 * in the body can change it); trusted mail at the end of the message,
 * when the body's line lengths are known.  The signer is started at the
 * end of headers only when signing is possible at all (a single From in a
 * keyed domain, the whole block held, no long line yet); the decision at
 * the end says whether its signatures are used.
 */
#include <arpa/inet.h>
#include <limits.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <strings.h>

#include "authres.h"
#include "cidr.h"
#include "keytable.h"
#include "pipeline.h"
#include "seal.h"
#include "spf.h"
#include "util.h"

#include "pipeline_msg.h"


/* drop_headers: the held block is no longer needed, or no longer whole. */
static void
drop_headers(struct msg *m)
{
	size_t i;

	for (i = 0; i < m->nhdrs; i++) {
		free(m->hdrs[i].name);
		free(m->hdrs[i].value);
	}
	free(m->hdrs);
	m->hdrs = NULL;
	m->nhdrs = m->hdrcap = 0;
}

/* pl_msg_clear: frees what the message holds and forgets every fact of it. */
void
pl_msg_clear(struct msg *m)
{
	signer_free(m->signer);
	drop_headers(m);
	free(m->from_value);
	free(m->forged);
	free(m->edits);
	free(m->msgid);
	while (m->ncand > 0)
		free(m->cand[--m->ncand].value);
	memset(m, 0, sizeof(*m));
}

/* pl_mono_now: the monotonic clock, seconds. */
double
pl_mono_now(void)
{
	struct timespec ts;

	(void)clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* pl_dns_timed: records that kind's check, begun at start, is done. */
void
pl_dns_timed(struct msg *m, enum pipeline_dns kind, double start)
{
	m->dns_done[kind] = true;
	m->dns_seconds[kind] = pl_mono_now() - start;
}

/* pipeline_new: a pipeline for one connection. */
struct pipeline *
pipeline_new(const struct seal *seal)
{
	struct pipeline *p = calloc(1, sizeof(*p));

	if (p != NULL) {
		p->seal = seal;
		util_strlcpy(p->client, "unknown", sizeof(p->client));
	}
	return p;
}

/* pipeline_free: ends the connection. */
void
pipeline_free(struct pipeline *p)
{
	if (p == NULL)
		return;
	pl_msg_clear(&p->m);
	free(p);
}

/* pipeline_connect: a new client; nothing of the previous one is kept. */
void
pipeline_connect(struct pipeline *p, const struct sockaddr *sa)
{
	pl_msg_clear(&p->m);
	p->have_report = false;
	p->helo[0] = '\0';
	p->have_addr = false;
	memset(&p->addr, 0, sizeof(p->addr));
	util_strlcpy(p->client, "unknown", sizeof(p->client));
	if (sa != NULL && sa->sa_family == AF_INET) {
		const struct sockaddr_in *in = (const struct sockaddr_in *)(const void *)sa;

		memcpy(&p->addr, in, sizeof(*in));
		inet_ntop(AF_INET, &in->sin_addr, p->client, sizeof(p->client));
		p->have_addr = true;
	} else if (sa != NULL && sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)(const void *)sa;

		memcpy(&p->addr, in6, sizeof(*in6));
		inet_ntop(AF_INET6, &in6->sin6_addr, p->client, sizeof(p->client));
		p->have_addr = true;
	}
}

/* pipeline_helo: the last HELO wins, as in SMTP. */
void
pipeline_helo(struct pipeline *p, const char *helo)
{
	util_strlcpy(p->helo, helo != NULL ? helo : "", sizeof(p->helo));
}

/* long_header: a physical line of "name:value" over 998 octets (folds are LF or CRLF). */
static bool
long_header(const char *name, const char *value)
{
	size_t col = strlen(name) + 1;
	const char *s;

	for (s = value; *s != '\0'; s++) {
		if (*s == '\n')
			col = 0;
		else if (*s != '\r' && ++col > LINE_MAX_OCTETS)
			return true;
	}
	return false;
}

/* keep_header: holds one field for the signer; -1 past a limit or out of memory. */
static int
keep_header(struct msg *m, const char *name, const char *value)
{
	size_t nlen = strlen(name), vlen = strlen(value);
	struct hdr *h;

	if (m->nhdrs >= PIPELINE_MAX_HEADERS ||
	    m->hdrbytes + nlen + vlen > PIPELINE_MAX_HEADER_BYTES)
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

/* note_forged: one more Authentication-Results field claiming our id. */
static void
note_forged(struct msg *m)
{
	int *f;

	/* libmilter numbers fields with an int. */
	if (m->nforged >= PIPELINE_MAX_FORGED || m->nar > INT_MAX) {
		m->forged_overflow = true;
		return;
	}
	if ((f = realloc(m->forged, (m->nforged + 1) * sizeof(*f))) == NULL) {
		m->forged_overflow = true;	/* cannot remove it: tempfail */
		return;
	}
	m->forged = f;
	m->forged[m->nforged++] = (int)m->nar;
}

/*
 * note_candidate: keeps a copy of a field in our name that may be our own
 * sealed one (checked at the end of headers, when From and Message-ID are
 * known).  Past SEAL_CANDIDATES it is only removed, like any forgery.
 */
static void
note_candidate(struct msg *m, const char *value)
{
	if (m->ncand >= SEAL_CANDIDATES || m->nar > INT_MAX ||
	    strlen(value) > AUTHRES_MAX || strstr(value, "policy.seal=") == NULL)
		return;
	if ((m->cand[m->ncand].value = strdup(value)) == NULL)
		return;	/* not recognised: removed, the safe mistake */
	m->cand[m->ncand++].index = (int)m->nar;
}

/*
 * find_own: our own sealed field, if one of the candidates is, is kept:
 * taken off the list of fields to remove.  At most one is kept.
 */
static void
find_own(const struct pipeline *p, struct msg *m)
{
	size_t i, j;

	m->ours_seen = m->nforged > 0;
	if (p->seal == NULL || m->msgid == NULL || m->from_value == NULL || m->nfrom != 1)
		return;
	for (i = 0; i < m->ncand && m->kept == 0; i++)
		if (seal_check(p->seal, m->cand[i].value, m->from_value, m->msgid))
			m->kept = m->cand[i].index;
	if (m->kept == 0)
		return;
	for (i = j = 0; i < m->nforged; i++)
		if (m->forged[i] != m->kept)
			m->forged[j++] = m->forged[i];
	m->nforged = j;
}

/* pipeline_header: counts, remembers, holds; every check before any limit. */
enum pipeline_status
pipeline_header(struct pipeline *p, const char *name, const char *value)
{
	struct msg *m = &p->m;

	if (!m->open || name == NULL || value == NULL)
		return PIPELINE_CONTINUE;
	if (m->eoh_done) {
		m->out_of_order = true;
		return PIPELINE_CONTINUE;
	}
	if (strcasecmp(name, AR_NAME) == 0) {
		m->nar++;
		if (authres_is_ours(value, strlen(value), m->conf->authserv_id)) {
			note_forged(m);
			note_candidate(m, value);
		}
	}
	if (strcasecmp(name, "Message-ID") == 0 && m->nmsgid++ == 0 &&
	    strlen(value) <= MSGID_VALUE_MAX)
		m->msgid = strdup(value);	/* NULL: not sealed, nor recognised */
	if (strcasecmp(name, "From") == 0 && m->nfrom++ == 0) {
		if (strlen(value) >= FROM_VALUE_MAX)
			m->from_too_long = true;
		else if ((m->from_value = strdup(value)) == NULL)
			m->from_too_long = true;	/* not parsed: never signed */
	}
	if (m->trust == POLICY_TRUST_NONE)
		return PIPELINE_CONTINUE;	/* nothing to sign: hold nothing */
	if (long_header(name, value))
		m->long_line = true;
	if (m->headers_ok && keep_header(m, name, value) != 0) {
		m->headers_ok = false;
		drop_headers(m);
	}
	return PIPELINE_CONTINUE;
}

/* policy_view: the facts as lib/policy.c reads them, made from the one store. */
static struct policy_facts
policy_view(const struct msg *m)
{
	struct policy_facts f;

	memset(&f, 0, sizeof(f));
	f.trust = m->trust;
	f.from = m->from_status;
	f.headers_ok = m->headers_ok;
	f.key_found = m->nkeys > 0;
	f.spf = m->spf;
	f.require_spf = m->conf->require_spf;
	f.on_bad_from = m->conf->on_bad_from;
	f.long_line = m->long_line;
	f.trust_temperror = m->trust_temperror;
	f.ours_seen = m->ours_seen;
	f.handled = m->kept != 0;
	f.not_bound = m->not_bound;
	return f;
}

/* fill_report: the log line's facts, once the message is decided. */
static void
fill_report(struct pipeline *p)
{
	struct pipeline_report *r = &p->report;
	const struct msg *m = &p->m;

	memset(r, 0, sizeof(*r));
	r->client = p->client;
	r->client_mismatch = m->client_mismatch;
	r->client_macro = m->client_mismatch ? m->client_macro : NULL;
	r->trust = m->trust;
	r->relay_name = m->trust == POLICY_TRUST_AUTH  ? m->auth_user
	                : m->trust == POLICY_TRUST_SPF ? m->relay_spf_name
	                                               : NULL;
	r->bindings = m->conf != NULL && m->conf->rt.bindings != NULL && m->trust != POLICY_TRUST_NONE;
	r->binding = m->binding != NULL ? binding_ident(m->binding) : NULL;
	r->env = m->env;
	r->mailfrom_domain = m->env == PIPELINE_ENV_OK ? m->env_domain : NULL;
	r->spf = m->spf;
	r->spf_why = m->spf_why;
	r->from_status = m->from_status;
	r->from_domain = m->from_status == FROM_OK ? m->from.domain : NULL;
	r->align_checked = m->align_checked;
	r->aligned = m->aligned;
	r->dmarc_checked = m->dmarc_checked;
	r->dmarc = m->dmarc;
	r->decision = m->decision;
	r->nforged = m->nforged;
	r->signer = m->decision.action == POLICY_SIGN ? m->signer : NULL;
	r->error = m->error;
	r->return_path = m->return_path;
	r->mailfrom_was = m->return_path != NULL ? m->env_addr : NULL;
	memcpy(r->dns_done, m->dns_done, sizeof(r->dns_done));
	memcpy(r->dns_seconds, m->dns_seconds, sizeof(r->dns_seconds));
	p->have_report = true;
}

/*
 * fail: the pipeline's own trouble, or a limit: tempfail (never bounce a
 * notice for our fault), with why for the log and reply for the client.
 */
static enum pipeline_status
fail_reply(struct pipeline *p, const char *why, const char *reply)
{
	struct msg *m = &p->m;

	m->error = why;
	m->reply = reply;
	m->decided = true;
	m->decision.action = POLICY_TEMPFAIL;
	fill_report(p);
	signer_free(m->signer);
	m->signer = NULL;
	m->open = false;
	return PIPELINE_TEMPFAIL;
}

/* fail: our own trouble while signing. */
static enum pipeline_status
fail(struct pipeline *p, const char *why)
{
	return fail_reply(p, why, "relaysign: signing failed, try again later");
}

/* end: the message is decided: report it, and close it. */
static enum pipeline_status
end(struct pipeline *p, enum pipeline_status st)
{
	fill_report(p);
	p->m.open = false;
	return st;
}

/* start_signer: a signer fed with the held block; -1 with m->error set. */
static int
start_signer(struct msg *m, const char *jobid)
{
	char err[256];
	size_t i;

	m->signer = signer_new(m->conf->rt.sign_lib, m->keys, m->nkeys, jobid != NULL ? jobid : "",
	                       err, sizeof(err));
	if (m->signer == NULL)
		return -1;
	for (i = 0; i < m->nhdrs; i++)
		if (signer_header(m->signer, m->hdrs[i].name, m->hdrs[i].value, err, sizeof(err)) !=
		    0)
			return -1;
	return signer_eoh(m->signer, err, sizeof(err));
}

/* headers_end: From, keys, alignment, DMARC; the untrusted decision; the signer. */
static enum pipeline_status
headers_end(struct pipeline *p, const char *jobid)
{
	struct msg *m = &p->m;
	struct policy_facts f;

	m->eoh_done = true;
	if (m->forged_overflow)
		return fail_reply(p, "too many Authentication-Results fields claim our "
		                     "AuthservID to remove them all",
		                  "relaysign: too many Authentication-Results fields");
	if (m->nfrom == 0)
		m->from_status = FROM_EMPTY;
	else if (m->nfrom > 1)
		m->from_status = FROM_MULTIPLE;	/* RFC 7489 6.6.1: no single author */
	else if (m->from_too_long || m->from_value == NULL)
		m->from_status = FROM_TOO_LONG;
	else
		m->from_status = from_parse(m->from_value, strlen(m->from_value), &m->from, NULL, 0);
	if (m->from_status == FROM_OK)
		m->nkeys = keytable_lookup(m->conf->rt.keys, m->from.domain, m->keys,
		                           KEYTABLE_MAX_PER_DOMAIN);
	find_own(p, m);

	if (m->trust == POLICY_TRUST_NONE) {
		/* Nothing in the body changes the verdict on untrusted mail. */
		f = policy_view(m);
		m->decision = policy_decide(&f);
		m->decided = true;
		if (m->decision.action == POLICY_TEMPFAIL)
			return end(p, PIPELINE_TEMPFAIL);
		if (m->nforged == 0 && m->decision.action == POLICY_ACCEPT)
			return end(p, PIPELINE_ACCEPT);
		return PIPELINE_SKIP;	/* the edits come at the end */
	}

	if (m->from_status == FROM_OK) {
		/* RFC 7489 3.1: the identity SPF checked; HELO for the null sender. */
		const char *env = m->env == PIPELINE_ENV_OK     ? m->env_domain
		                  : m->env == PIPELINE_ENV_NULL ? p->helo
		                                                : "";

		m->aligned = align_check(m->conf->rt.align, m->conf->alignment, m->from.domain, env);
		m->align_checked = true;
		if (m->conf->dmarc_lookup) {
			struct dmarc_record rec;
			double t0 = pl_mono_now();

			m->dmarc = dmarc_lookup(m->conf->rt.dns, m->conf->rt.align, m->from.domain, &rec);
			pl_dns_timed(m, PIPELINE_DNS_DMARC, t0);
			m->dmarc_checked = true;
		}
	}
	if (m->from_status == FROM_OK && m->nkeys > 0 && m->conf->rt.bindings != NULL) {
		/* A consortium: only what is bound to the identity that trusted it. */
		m->binding = bindings_find(m->conf->rt.bindings, m->trust, m->auth_user,
		                           m->relay_spf_name, p->have_addr ?
		                           (const struct sockaddr *)&p->addr : NULL);
		m->not_bound = !binding_allows(m->binding, m->from.domain);
	}
	if (m->ours_seen || m->not_bound) {
		/* Passed us before, or not this relay's domain: never signed, whatever the body. */
		f = policy_view(m);
		m->decision = policy_decide(&f);
		m->decided = true;
	}
	/* Only what a signature needs at all; whether it is used is decided at the end. */
	if (!m->decided && m->from_status == FROM_OK && m->nkeys > 0 && m->headers_ok &&
	    !m->long_line) {
		if (start_signer(m, jobid) != 0)
			return fail(p, "signing could not start");
	}
	drop_headers(m);	/* the signer has them, or nothing needs them */
	return m->signer != NULL ? PIPELINE_CONTINUE : PIPELINE_SKIP;
}

/* pipeline_eoh: the end of the header block. */
enum pipeline_status
pipeline_eoh(struct pipeline *p, const char *jobid)
{
	if (!p->m.open)
		return PIPELINE_CONTINUE;
	if (p->m.eoh_done) {
		p->m.out_of_order = true;
		return PIPELINE_CONTINUE;
	}
	return headers_end(p, jobid);
}

/* pipeline_body: RFC 5322 2.1.1 line lengths across chunks; the signer. */
enum pipeline_status
pipeline_body(struct pipeline *p, const unsigned char *buf, size_t len)
{
	struct msg *m = &p->m;
	char err[256];
	size_t i;

	if (!m->open)
		return PIPELINE_SKIP;
	if (!m->eoh_done) {
		m->out_of_order = true;
		return PIPELINE_SKIP;
	}
	if (m->signer == NULL)
		return PIPELINE_SKIP;
	for (i = 0; i < len && !m->long_line; i++) {
		if (buf[i] == '\n')
			m->body_col = 0;
		else if (buf[i] != '\r' && ++m->body_col > LINE_MAX_OCTETS)
			m->long_line = true;
	}
	if (m->long_line) {
		/* Unsignable now: stop hashing; the decision at the end says so. */
		signer_free(m->signer);
		m->signer = NULL;
		return PIPELINE_SKIP;
	}
	if (signer_body(m->signer, buf, len, err, sizeof(err)) != 0)
		return fail(p, "signing failed in the body");
	return PIPELINE_CONTINUE;
}

/* add_edit: appends one edit (the array is sized for the message at the end). */
static void
add_edit(struct msg *m, enum pipeline_edit_kind kind, const char *name, const char *value,
         int index)
{
	struct pipeline_edit *e = &m->edits[m->nedits++];

	e->kind = kind;
	e->name = name;
	e->value = value;
	e->index = index;
}

/* format_authres: our Authentication-Results value; -1 when it does not fit. */
static int
format_authres(struct pipeline *p)
{
	struct msg *m = &p->m;
	struct authres_sig sigs[SIGN_MAX_KEYS];
	struct authres_facts ar;
	size_t i, n = m->decision.action == POLICY_SIGN ? signer_count(m->signer) : 0;

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
	ar.spf_mailfrom = m->env == PIPELINE_ENV_OK ? m->env_domain : NULL;
	ar.spf_helo = m->env == PIPELINE_ENV_NULL ? p->helo : NULL;
	ar.from_domain = m->from_status == FROM_OK ? m->from.domain : NULL;
	ar.align_checked = m->align_checked;
	ar.aligned = m->aligned;
	ar.align_mode = m->conf->alignment;
	ar.dmarc_policy = m->dmarc_checked ? dmarc_policy_name(m->dmarc) : NULL;
	ar.binding = m->binding != NULL ? binding_ident(m->binding) : NULL;
	ar.return_path = m->return_path;
	ar.decision = m->decision;
	ar.sigs = sigs;
	ar.nsigs = n;
	return authres_format(&ar, m->authres, sizeof(m->authres) - SEAL_TAIL_MAX);
}

/* pipeline_eom: the one decision for trusted mail, and the edits. */
enum pipeline_status
pipeline_eom(struct pipeline *p, const struct pipeline_edit **edits_r, size_t *nedits_r)
{
	struct msg *m = &p->m;
	struct policy_facts f;
	char err[256];
	size_t i, nsig = 0;
	enum pipeline_status st;

	*edits_r = NULL;
	*nedits_r = 0;
	if (!m->open)
		return PIPELINE_CONTINUE;
	if (!m->eoh_done && (st = headers_end(p, "")) != PIPELINE_CONTINUE &&
	    st != PIPELINE_SKIP)
		return st;
	if (m->out_of_order)
		return fail(p, "milter events out of order");
	if (!m->decided) {
		f = policy_view(m);
		m->decision = policy_decide(&f);
		m->decided = true;
	}
	switch (m->decision.action) {
	case POLICY_TEMPFAIL:
		return end(p, PIPELINE_TEMPFAIL);
	case POLICY_REJECT:
		return end(p, PIPELINE_REJECT);
	case POLICY_SIGN:
		if (m->signer == NULL)	/* the checks in headers_end and policy.c disagree */
			return fail(p, "no signer for a message to sign");
		if (signer_eom(m->signer, err, sizeof(err)) != 0)
			return fail(p, "signing failed");
		nsig = signer_count(m->signer);
		/*
		 * ReturnPath: the library's own envelope sender, only on what we
		 * sign, never for the null sender (a bounce stays a bounce), nor
		 * for an envelope we could not parse.
		 */
		if (m->env == PIPELINE_ENV_OK && m->from_status == FROM_OK &&
		    (m->return_path = returnpath_for(m->conf->rt.return_paths, m->from.domain)) != NULL &&
		    strcasecmp(m->return_path, m->env_addr) == 0)
			m->return_path = NULL;	/* already the library's own */
		if (m->env != PIPELINE_ENV_OK)
			m->return_path = NULL;
		break;
	case POLICY_ACCEPT:
	case POLICY_TAG:
		break;
	}
	if ((m->edits = calloc(m->nforged + 2 + nsig, sizeof(*m->edits))) == NULL)
		return fail(p, "out of memory");
	/* The sender first: a daemon that cannot change it refuses before any other edit. */
	if (m->return_path != NULL) {
		snprintf(m->return_arg, sizeof(m->return_arg), "<%s>", m->return_path);
		add_edit(m, PIPELINE_EDIT_CHGFROM, NULL, m->return_arg, 0);
		m->edits[m->nedits - 1].args = m->esmtp;
	}
	/* RFC 8601 5: remove every field claiming our id, last first (indexes stay put). */
	for (i = m->nforged; i > 0; i--)
		add_edit(m, PIPELINE_EDIT_DELETE, AR_NAME, NULL, m->forged[i - 1]);
	if (m->decision.action != POLICY_ACCEPT) {
		if (format_authres(p) != 0)
			return fail(p, "Authentication-Results does not fit");
		/* Unsealed (no Message-ID, no seal) is still right: only a later pass loses it. */
		if (m->msgid != NULL && m->from_value != NULL)
			(void)seal_append(p->seal, m->authres, sizeof(m->authres), m->from_value,
			                  m->msgid);
		add_edit(m, PIPELINE_EDIT_INSERT, AR_NAME, m->authres, 0);
		/* Signatures above everything, the last key's on top. */
		for (i = 0; i < nsig; i++)
			add_edit(m, PIPELINE_EDIT_INSERT, SIG_NAME, signer_value(m->signer, i), 0);
	}
	*edits_r = m->edits;
	*nedits_r = m->nedits;
	return end(p, PIPELINE_CONTINUE);
}

/* pipeline_abort: forget the message. */
void
pipeline_abort(struct pipeline *p)
{
	pl_msg_clear(&p->m);
	p->have_report = false;
}

/* pipeline_report: the decided message's facts, or NULL. */
const struct pipeline_report *
pipeline_report(const struct pipeline *p)
{
	return p->have_report ? &p->report : NULL;
}

/* pipeline_reply: the SMTP text for the last TEMPFAIL or REJECT. */
const char *
pipeline_reply(const struct pipeline *p)
{
	const struct msg *m = &p->m;

	if (m->reply != NULL)
		return m->reply;
	if (m->decision.action == POLICY_REJECT)
		return "relaysign: From header must name exactly one author";
	if (m->decision.reason == POLICY_REASON_RELAY_TEMPERROR ||
	    m->decision.reason == POLICY_REASON_SPF_TEMPERROR)
		return "relaysign: cannot authenticate the sender now, try again later";
	return "relaysign: signing failed, try again later";
}

/* pipeline_conf: the open message's configuration. */
const struct conf *
pipeline_conf(const struct pipeline *p)
{
	return p->m.open ? p->m.conf : NULL;
}

/* pipeline_env_name: the log keyword for env. */
const char *
pipeline_env_name(enum pipeline_env env)
{
	switch (env) {
	case PIPELINE_ENV_NONE:
		return "none";
	case PIPELINE_ENV_OK:
		return "ok";
	case PIPELINE_ENV_NULL:
		return "null";
	case PIPELINE_ENV_BAD:
		return "malformed";
	}
	return "unknown";
}
