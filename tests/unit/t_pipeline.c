/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * t_pipeline.c -- lib/pipeline.c as a table: each row plays one whole
 * message (connect, helo, mail, headers, end of headers, body, end of
 * message) and checks the status, the decision, the edits and the log
 * facts.  The rows are the README's "What it does with each message"
 * table and the limit cases that once crashed the daemon.  Keys come from
 * OpenSSL, DNS from an in-memory zone (tests/pipeline_fixture.h).
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../pipeline_fixture.h"
#include "authres.h"
#include "pipeline.h"
#include "seal.h"
#include "../tap.h"

#define NOTICE "From: Library <library@library.example.edu>\nTo: patron@example.net\n" \
               "Subject: Overdue\n"
#define VENDOR_NOTICE "From: Ex Libris <notices@exlibrisgroup.com>\nTo: patron@example.net\n" \
                      "Subject: Overdue\n"
#define BODY "Dear patron,\r\nplease return the book.\r\n"

struct row {
	const char *name;
	enum fixture_conf conf;
	const char *client;		/* connect address, NULL for none */
	const char *mailfrom;		/* MAIL FROM argument */
	const char *auth;		/* {auth_authen} of this MAIL */
	const char *client_macro;	/* {client_addr}, or NULL */
	size_t bulk;			/* "X-H" fields before the headers ... */
	size_t bulk_len;		/* ... of this many octets each (1 if 0) */
	const char *headers;		/* "Name: value" lines, LF between */
	const char *body;		/* NULL: BODY */
	/* expected */
	enum pipeline_status st;	/* of the event that ended the message */
	enum policy_action action;
	enum policy_reason reason;
	size_t deleted;			/* Authentication-Results removed */
	enum policy_trust trust;
	enum policy_spf spf;		/* POLICY_SPF_UNCHECKED: not checked */
	enum pipeline_env env;
};

static char long_mailfrom[400];
static char long_body[1200];

static const struct row rows[] = {
	/* The README's table. */
	{"untrusted, keyed From: marked", FX_PLAIN, "203.0.113.7", "<alma@vendor.test>", NULL,
	 NULL, 0, 0, NOTICE, NULL, PIPELINE_CONTINUE, POLICY_TAG, POLICY_REASON_UNTRUSTED, 0,
	 POLICY_TRUST_NONE, POLICY_SPF_UNCHECKED, PIPELINE_ENV_OK},
	{"untrusted, unkeyed From: left alone", FX_PLAIN, "203.0.113.7", "<alma@vendor.test>",
	 NULL, NULL, 0, 0, VENDOR_NOTICE, NULL, PIPELINE_ACCEPT, POLICY_ACCEPT,
	 POLICY_REASON_UNTRUSTED, 0, POLICY_TRUST_NONE, POLICY_SPF_UNCHECKED, PIPELINE_ENV_OK},
	{"untrusted login", FX_PLAIN, "203.0.113.7", "<alma@vendor.test>", "mallory", NULL, 0, 0,
	 NOTICE, NULL, PIPELINE_CONTINUE, POLICY_TAG, POLICY_REASON_UNTRUSTED, 0,
	 POLICY_TRUST_NONE, POLICY_SPF_UNCHECKED, PIPELINE_ENV_OK},
	{"untrusted, forged result removed", FX_PLAIN, "203.0.113.7", "<a@vendor.test>", NULL, NULL,
	 0, 0, "Authentication-Results: mail.example.edu; dkim=pass\n" NOTICE, NULL,
	 PIPELINE_CONTINUE, POLICY_TAG, POLICY_REASON_UNTRUSTED, 1, POLICY_TRUST_NONE,
	 POLICY_SPF_UNCHECKED, PIPELINE_ENV_OK},
	{"untrusted, unkeyed, forged result removed", FX_PLAIN, "203.0.113.7", "<a@vendor.test>",
	 NULL, NULL, 0, 0, "Authentication-Results: mail.example.edu; dkim=pass\n" VENDOR_NOTICE,
	 NULL, PIPELINE_CONTINUE, POLICY_ACCEPT, POLICY_REASON_UNTRUSTED, 1, POLICY_TRUST_NONE,
	 POLICY_SPF_UNCHECKED, PIPELINE_ENV_OK},
	{"vendor SPF record temperror, keyed From", FX_STRICT, "198.51.100.20", "<a@vendor.test>",
	 NULL, NULL, 0, 0, NOTICE, NULL, PIPELINE_TEMPFAIL, POLICY_TEMPFAIL,
	 POLICY_REASON_RELAY_TEMPERROR, 0, POLICY_TRUST_NONE, POLICY_SPF_UNCHECKED,
	 PIPELINE_ENV_OK},
	{"vendor SPF record temperror, unkeyed From", FX_STRICT, "198.51.100.20", "<a@vendor.test>",
	 NULL, NULL, 0, 0, "From: x@vendor.test\n", NULL, PIPELINE_ACCEPT, POLICY_ACCEPT,
	 POLICY_REASON_UNTRUSTED, 0, POLICY_TRUST_NONE, POLICY_SPF_UNCHECKED, PIPELINE_ENV_OK},
	{"no From", FX_PLAIN, "192.0.2.10", "<alma@exlibrisgroup.com>", NULL, NULL, 0, 0,
	 "To: p@example.net\n", NULL, PIPELINE_CONTINUE, POLICY_TAG, POLICY_REASON_BAD_FROM, 0,
	 POLICY_TRUST_NETWORK, POLICY_SPF_PASS, PIPELINE_ENV_OK},
	{"two From fields", FX_PLAIN, "192.0.2.10", "<alma@exlibrisgroup.com>", NULL, NULL, 0, 0,
	 NOTICE "From: other@library.example.edu\n", NULL, PIPELINE_CONTINUE, POLICY_TAG,
	 POLICY_REASON_BAD_FROM, 0, POLICY_TRUST_NETWORK, POLICY_SPF_PASS, PIPELINE_ENV_OK},
	{"two mailboxes", FX_PLAIN, "192.0.2.10", "<alma@exlibrisgroup.com>", NULL, NULL, 0, 0,
	 "From: library@library.example.edu, x@evil.test\n", NULL, PIPELINE_CONTINUE, POLICY_TAG,
	 POLICY_REASON_BAD_FROM, 0, POLICY_TRUST_NETWORK, POLICY_SPF_PASS, PIPELINE_ENV_OK},
	{"group syntax", FX_PLAIN, "192.0.2.10", "<alma@exlibrisgroup.com>", NULL, NULL, 0, 0,
	 "From: undisclosed:;\n", NULL, PIPELINE_CONTINUE, POLICY_TAG, POLICY_REASON_BAD_FROM, 0,
	 POLICY_TRUST_NETWORK, POLICY_SPF_PASS, PIPELINE_ENV_OK},
	{"bad From rejected (OnBadFrom reject)", FX_STRICT, "192.0.2.10",
	 "<alma@exlibrisgroup.com>", NULL, NULL, 0, 0, "From: a@b.test, c@d.test\n", NULL,
	 PIPELINE_REJECT, POLICY_REJECT, POLICY_REASON_BAD_FROM, 0, POLICY_TRUST_NETWORK,
	 POLICY_SPF_PASS, PIPELINE_ENV_OK},
	{"no key (the vendor's own domain)", FX_PLAIN, "192.0.2.10", "<alma@exlibrisgroup.com>",
	 NULL, NULL, 0, 0, "From: Alma <notices@exlibrisgroup.com>\n", NULL, PIPELINE_CONTINUE,
	 POLICY_TAG, POLICY_REASON_NO_KEY, 0, POLICY_TRUST_NETWORK, POLICY_SPF_PASS,
	 PIPELINE_ENV_OK},
	{"RequireSPF, SPF temperror", FX_STRICT, "192.0.2.10", "<a@tempfail.test>", NULL, NULL, 0,
	 0, NOTICE, NULL, PIPELINE_TEMPFAIL, POLICY_TEMPFAIL, POLICY_REASON_SPF_TEMPERROR, 0,
	 POLICY_TRUST_NETWORK, POLICY_SPF_TEMPERROR, PIPELINE_ENV_OK},
	{"RequireSPF, SPF fail", FX_STRICT, "203.0.113.7", "<a@vendor.test>", "alma", NULL, 0, 0,
	 NOTICE, NULL, PIPELINE_CONTINUE, POLICY_TAG, POLICY_REASON_SPF_FAIL, 0, POLICY_TRUST_AUTH,
	 POLICY_SPF_FAIL, PIPELINE_ENV_OK},
	{"RequireSPF, SPF pass", FX_STRICT, "192.0.2.10", "<a@vendor.test>", NULL, NULL, 0, 0,
	 NOTICE, NULL, PIPELINE_CONTINUE, POLICY_SIGN, POLICY_REASON_NONE, 0, POLICY_TRUST_NETWORK,
	 POLICY_SPF_PASS, PIPELINE_ENV_OK},
	{"network relay signs", FX_PLAIN, "192.0.2.10", "<alma@exlibrisgroup.com>", NULL, NULL, 0,
	 0, NOTICE, NULL, PIPELINE_CONTINUE, POLICY_SIGN, POLICY_REASON_NONE, 0,
	 POLICY_TRUST_NETWORK, POLICY_SPF_PASS, PIPELINE_ENV_OK},
	{"login signs", FX_PLAIN, "203.0.113.7", "<alma@exlibrisgroup.com>", "alma", NULL, 0, 0,
	 NOTICE, NULL, PIPELINE_CONTINUE, POLICY_SIGN, POLICY_REASON_NONE, 0, POLICY_TRUST_AUTH,
	 POLICY_SPF_FAIL, PIPELINE_ENV_OK},
	{"vendor SPF record signs", FX_PLAIN, "198.51.100.20", "<alma@exlibrisgroup.com>", NULL,
	 NULL, 0, 0, NOTICE, NULL, PIPELINE_CONTINUE, POLICY_SIGN, POLICY_REASON_NONE, 0,
	 POLICY_TRUST_SPF, POLICY_SPF_FAIL, PIPELINE_ENV_OK},
	{"IPv6 relay signs", FX_PLAIN, "2001:db8::25", "<alma@exlibrisgroup.com>", NULL, NULL, 0, 0,
	 NOTICE, NULL, PIPELINE_CONTINUE, POLICY_SIGN, POLICY_REASON_NONE, 0, POLICY_TRUST_NETWORK,
	 POLICY_SPF_PASS, PIPELINE_ENV_OK},
	{"null sender signs, HELO checked", FX_PLAIN, "192.0.2.10", "<>", NULL, NULL, 0, 0, NOTICE,
	 NULL, PIPELINE_CONTINUE, POLICY_SIGN, POLICY_REASON_NONE, 0, POLICY_TRUST_NETWORK,
	 POLICY_SPF_PASS, PIPELINE_ENV_NULL},
	{"trusted, results in our name removed, never signed", FX_PLAIN, "192.0.2.10",
	 "<alma@exlibrisgroup.com>", NULL, NULL, 0, 0,
	 "Authentication-Results: mail.example.edu; dkim=pass\n"
	 "Authentication-Results: other.test; spf=pass\n" NOTICE
	 "Authentication-Results: (c) MAIL.EXAMPLE.EDU 1; spf=pass\n",
	 NULL, PIPELINE_CONTINUE, POLICY_TAG, POLICY_REASON_ALREADY_HANDLED, 2,
	 POLICY_TRUST_NETWORK, POLICY_SPF_PASS, PIPELINE_ENV_OK},
	{"trusted, another's result kept, signed", FX_PLAIN, "192.0.2.10",
	 "<alma@exlibrisgroup.com>", NULL, NULL, 0, 0,
	 "Authentication-Results: other.test; spf=pass\n" NOTICE, NULL, PIPELINE_CONTINUE,
	 POLICY_SIGN, POLICY_REASON_NONE, 0, POLICY_TRUST_NETWORK, POLICY_SPF_PASS,
	 PIPELINE_ENV_OK},
	{"long header line", FX_PLAIN, "192.0.2.10", "<alma@exlibrisgroup.com>", NULL, NULL, 1,
	 1000, NOTICE, NULL, PIPELINE_CONTINUE, POLICY_TAG, POLICY_REASON_LONG_LINE, 0,
	 POLICY_TRUST_NETWORK, POLICY_SPF_PASS, PIPELINE_ENV_OK},
	{"long body line", FX_PLAIN, "192.0.2.10", "<alma@exlibrisgroup.com>", NULL, NULL, 0, 0,
	 NOTICE, long_body, PIPELINE_CONTINUE, POLICY_TAG, POLICY_REASON_LONG_LINE, 0,
	 POLICY_TRUST_NETWORK, POLICY_SPF_PASS, PIPELINE_ENV_OK},
	{"empty body signs", FX_PLAIN, "192.0.2.10", "<alma@exlibrisgroup.com>", NULL, NULL, 0, 0,
	 NOTICE, "", PIPELINE_CONTINUE, POLICY_SIGN, POLICY_REASON_NONE, 0, POLICY_TRUST_NETWORK,
	 POLICY_SPF_PASS, PIPELINE_ENV_OK},

	/* One parser of MAIL FROM: a defined result, never another identity. */
	{"MAIL FROM of 321+ octets", FX_PLAIN, "192.0.2.10", long_mailfrom, NULL, NULL, 0, 0,
	 NOTICE, NULL, PIPELINE_CONTINUE, POLICY_SIGN, POLICY_REASON_NONE, 0, POLICY_TRUST_NETWORK,
	 POLICY_SPF_PERMERROR, PIPELINE_ENV_BAD},
	{"MAIL FROM without a domain", FX_PLAIN, "192.0.2.10", "<alma>", NULL, NULL, 0, 0, NOTICE,
	 NULL, PIPELINE_CONTINUE, POLICY_SIGN, POLICY_REASON_NONE, 0, POLICY_TRUST_NETWORK,
	 POLICY_SPF_PERMERROR, PIPELINE_ENV_BAD},
	{"MAIL FROM with an unclosed bracket", FX_STRICT, "192.0.2.10", "<a@vendor.test", NULL,
	 NULL, 0, 0, NOTICE, NULL, PIPELINE_CONTINUE, POLICY_TAG, POLICY_REASON_SPF_FAIL, 0,
	 POLICY_TRUST_NETWORK, POLICY_SPF_PERMERROR, PIPELINE_ENV_BAD},
	{"MAIL FROM with a source route", FX_PLAIN, "192.0.2.10", "<@r.test:a@vendor.test>", NULL,
	 NULL, 0, 0, NOTICE, NULL, PIPELINE_CONTINUE, POLICY_SIGN, POLICY_REASON_NONE, 0,
	 POLICY_TRUST_NETWORK, POLICY_SPF_PASS, PIPELINE_ENV_OK},

	/* Limits are never holes (the two crash inputs, and after them). */
	{"20,000 headers, then From", FX_PLAIN, "192.0.2.10", "<alma@exlibrisgroup.com>", NULL,
	 NULL, 20000, 0, NOTICE, NULL, PIPELINE_CONTINUE, POLICY_TAG, POLICY_REASON_BAD_HEADERS, 0,
	 POLICY_TRUST_NETWORK, POLICY_SPF_PASS, PIPELINE_ENV_OK},
	{"66 headers of 64 KB, then From with a long display name", FX_PLAIN, "192.0.2.10",
	 "<alma@exlibrisgroup.com>", NULL, NULL, 66, 64000,
	 "From: \"A display name of some length, a display name of some length, a display name "
	 "of some length, a display name of some length, a display name of some\" "
	 "<library@library.example.edu>\n",
	 NULL, PIPELINE_CONTINUE, POLICY_TAG, POLICY_REASON_BAD_HEADERS, 0, POLICY_TRUST_NETWORK,
	 POLICY_SPF_PASS, PIPELINE_ENV_OK},
	{"forged result after the limits", FX_PLAIN, "192.0.2.10", "<alma@exlibrisgroup.com>",
	 NULL, NULL, 20001, 0, NOTICE "Authentication-Results: mail.example.edu; dkim=pass\n", NULL,
	 PIPELINE_CONTINUE, POLICY_TAG, POLICY_REASON_ALREADY_HANDLED, 1, POLICY_TRUST_NETWORK,
	 POLICY_SPF_PASS, PIPELINE_ENV_OK},
	{"second From after the limits", FX_PLAIN, "192.0.2.10", "<alma@exlibrisgroup.com>", NULL,
	 NULL, 20001, 0, NOTICE "From: evil@library.example.edu\n", NULL, PIPELINE_CONTINUE,
	 POLICY_TAG, POLICY_REASON_BAD_FROM, 0, POLICY_TRUST_NETWORK, POLICY_SPF_PASS,
	 PIPELINE_ENV_OK},
	{"untrusted, forged result after 20,001 headers", FX_PLAIN, "203.0.113.7",
	 "<alma@exlibrisgroup.com>", NULL, NULL, 20001, 0,
	 NOTICE "Authentication-Results: mail.example.edu; dkim=pass\n", NULL, PIPELINE_CONTINUE,
	 POLICY_TAG, POLICY_REASON_UNTRUSTED, 1, POLICY_TRUST_NONE, POLICY_SPF_UNCHECKED,
	 PIPELINE_ENV_OK},

	/* Facts belong to the message and the connection they came from. */
	{"{client_addr} names another client", FX_PLAIN, "192.0.2.10", "<alma@exlibrisgroup.com>",
	 NULL, "203.0.113.7", 0, 0, NOTICE, NULL, PIPELINE_CONTINUE, POLICY_TAG,
	 POLICY_REASON_UNTRUSTED, 0, POLICY_TRUST_NONE, POLICY_SPF_UNCHECKED, PIPELINE_ENV_OK},
	{"{client_addr} agrees", FX_PLAIN, "192.0.2.10", "<alma@exlibrisgroup.com>", NULL,
	 "192.0.2.10", 0, 0, NOTICE, NULL, PIPELINE_CONTINUE, POLICY_SIGN, POLICY_REASON_NONE, 0,
	 POLICY_TRUST_NETWORK, POLICY_SPF_PASS, PIPELINE_ENV_OK},
	{"no connect address, login trusted", FX_PLAIN, NULL, "<alma@exlibrisgroup.com>", "alma",
	 NULL, 0, 0, NOTICE, NULL, PIPELINE_CONTINUE, POLICY_SIGN, POLICY_REASON_NONE, 0,
	 POLICY_TRUST_AUTH, POLICY_SPF_NONE, PIPELINE_ENV_OK},
};

/* count_edits: deletions and insertions of each name in e[0..n). */
static void
count_edits(const struct pipeline_edit *e, size_t n, size_t *del_r, size_t *ar_r, size_t *sig_r)
{
	size_t i;

	*del_r = *ar_r = *sig_r = 0;
	for (i = 0; i < n; i++) {
		if (e[i].kind == PIPELINE_EDIT_CHGFROM)
			continue;	/* test_rows checks it */
		if (e[i].kind == PIPELINE_EDIT_DELETE)
			(*del_r)++;
		else if (strcmp(e[i].name, "Authentication-Results") == 0)
			(*ar_r)++;
		else if (strcmp(e[i].name, "DKIM-Signature") == 0)
			(*sig_r)++;
	}
}

/* play: one row's message, to the event that ended it. */
static enum pipeline_status
play(struct pipeline *p, const struct conf *conf, const struct row *r,
     const struct pipeline_edit **e, size_t *n)
{
	struct sockaddr_storage ss;
	enum pipeline_status st;
	char *bulk, *hs, *line, *save;
	size_t i, blen = r->bulk_len ? r->bulk_len : 1;

	*e = NULL;
	*n = 0;
	pipeline_connect(p, fx_sockaddr(r->client, &ss));
	pipeline_helo(p, "vendor.test");
	if ((st = pipeline_mail(p, conf, r->mailfrom, r->auth, r->client_macro)) !=
	    PIPELINE_CONTINUE)
		return st;
	if ((bulk = malloc(blen + 2)) == NULL)
		abort();
	bulk[0] = ' ';
	memset(bulk + 1, 'v', blen);
	bulk[blen + 1] = '\0';
	for (i = 0; i < r->bulk; i++)
		(void)pipeline_header(p, "X-H", bulk);
	free(bulk);
	if ((hs = strdup(r->headers)) == NULL)
		abort();
	for (line = strtok_r(hs, "\n", &save); line != NULL; line = strtok_r(NULL, "\n", &save)) {
		char *colon = strchr(line, ':');

		*colon = '\0';
		(void)pipeline_header(p, line, colon + 1);
	}
	free(hs);
	st = pipeline_eoh(p, "T1");
	if (st != PIPELINE_CONTINUE && st != PIPELINE_SKIP)
		return st;
	const char *body = r->body != NULL ? r->body : BODY;

	st = pipeline_body(p, (const unsigned char *)body, strlen(body));
	if (st != PIPELINE_CONTINUE && st != PIPELINE_SKIP)
		return st;
	return pipeline_eom(p, e, n);
}

/* test_rows: the table. */
static void
test_rows(const struct fixture *fx)
{
	struct pipeline *p = pipeline_new(NULL);
	size_t i;

	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		const struct row *r = &rows[i];
		const struct conf *conf = fx->conf[r->conf];
		const struct pipeline_edit *e;
		const struct pipeline_report *rep;
		size_t n, del, ar, sig;
		enum pipeline_status st = play(p, conf, r, &e, &n);

		rep = pipeline_report(p);
		ok(st == r->st, "row %zu %s: status %d (want %d)", i, r->name, st, r->st);
		if (!ok(rep != NULL, "row %zu %s: a report", i, r->name))
			continue;
		ok(rep->decision.action == r->action && rep->decision.reason == r->reason,
		   "row %zu %s: %s %s (want %s %s)", i, r->name,
		   policy_action_name(rep->decision.action), policy_reason_name(rep->decision.reason),
		   policy_action_name(r->action), policy_reason_name(r->reason));
		ok(rep->trust == r->trust, "row %zu %s: relay %s", i, r->name,
		   policy_trust_name(rep->trust));
		ok(rep->spf == r->spf, "row %zu %s: spf %s (want %s)", i, r->name,
		   policy_spf_name(rep->spf), policy_spf_name(r->spf));
		ok(rep->env == r->env, "row %zu %s: envelope %s", i, r->name,
		   pipeline_env_name(rep->env));
		count_edits(e, n, &del, &ar, &sig);
		ok(del == r->deleted && rep->nforged == r->deleted,
		   "row %zu %s: %zu forged results removed (want %zu)", i, r->name, del, r->deleted);
		if (st != PIPELINE_CONTINUE) {
			ok(n == 0, "row %zu %s: no edits when the message is refused", i, r->name);
			continue;
		}
		ok(ar == (r->action == POLICY_ACCEPT ? 0u : 1u),
		   "row %zu %s: %zu results of ours added", i, r->name, ar);
		ok(sig == (r->action == POLICY_SIGN ? 2u : 0u) &&
		   (rep->signer != NULL) == (r->action == POLICY_SIGN),
		   "row %zu %s: %zu signatures (RSA and Ed25519 when signed)", i, r->name, sig);
		/* ReturnPath (FX_STRICT): a new sender, first, on signed mail with an envelope only. */
		{
			size_t nchg = 0;
			bool want = conf->rt.return_paths != NULL && r->action == POLICY_SIGN &&
			            r->env == PIPELINE_ENV_OK;

			for (size_t k = 0; k < n; k++)
				nchg += e[k].kind == PIPELINE_EDIT_CHGFROM;
			ok(nchg == (want ? 1u : 0u) && (nchg == 0 || (e[0].kind == PIPELINE_EDIT_CHGFROM &&
			   strcmp(e[0].value, "<bounces@library.example.edu>") == 0)),
			   "row %zu %s: %s envelope sender", i, r->name, want ? "a new" : "the same");
			if (nchg == 1) {
				e++;	/* the rest of the checks read the header edits */
				n--;
			}
		}
		/* Deletions come first, last index first; then our field on top. */
		for (size_t k = 1; k < del; k++)
			ok(e[k].index < e[k - 1].index, "row %zu %s: deletion %zu after a higher one",
			   i, r->name, k);
		if (ar == 1) {
			const struct pipeline_edit *a = &e[del];

			ok(authres_is_ours(a->value, strlen(a->value), conf->authserv_id) &&
			   strstr(a->value, policy_action_name(r->action)) != NULL,
			   "row %zu %s: our result says %s", i, r->name, policy_action_name(r->action));
			if (r->env == PIPELINE_ENV_BAD)
				ok(strstr(a->value, "spf=permerror") != NULL &&
				   strstr(a->value, "smtp.mailfrom") == NULL &&
				   strstr(a->value, "smtp.helo") == NULL,
				   "row %zu %s: spf=permerror, no identity claimed", i, r->name);
			if (r->env == PIPELINE_ENV_NULL)
				ok(strstr(a->value, "smtp.helo=vendor.test") != NULL,
				   "row %zu %s: smtp.helo", i, r->name);
		}
		for (size_t k = 0; k < n; k++)
			if (e[k].kind == PIPELINE_EDIT_INSERT &&
			    strcmp(e[k].name, "DKIM-Signature") == 0)
				ok(strstr(e[k].value, "d=library.example.edu") != NULL,
				   "row %zu %s: signature %zu has d=library.example.edu", i, r->name, k);
	}
	pipeline_free(p);
}

/*
 * untrusted_end: ends a message whose From is keyed: untrusted, it is
 * decided at the end of headers, marked at the end, and never signed.
 */
static bool
untrusted_end(struct pipeline *p, const char *jobid)
{
	const struct pipeline_edit *e;
	const struct pipeline_report *r;
	size_t n;

	if (pipeline_eoh(p, jobid) != PIPELINE_SKIP ||
	    pipeline_eom(p, &e, &n) != PIPELINE_CONTINUE || (r = pipeline_report(p)) == NULL)
		return false;
	return r->trust == POLICY_TRUST_NONE && r->signer == NULL &&
	       r->decision.action == POLICY_TAG && r->decision.reason == POLICY_REASON_UNTRUSTED;
}

/* A pass: who sends, and the header fields (name, value pairs, NULL-ended). */
struct pass_out {
	enum pipeline_status st;
	struct policy_decision d;
	size_t del, ar, sig;
	bool signed_;
	char ar_value[AUTHRES_MAX];	/* the result we added, or "" */
	char sig_value[2][4096];	/* the signatures we added */
};

/* one_pass: a whole message through p from client (login auth), fields as given. */
static void
one_pass(struct pipeline *p, const struct conf *conf, const char *client, const char *auth,
         const char *const *fields, struct pass_out *o)
{
	struct sockaddr_storage ss;
	const struct pipeline_edit *e = NULL;
	const struct pipeline_report *r;
	size_t i, n = 0, nsig = 0;

	memset(o, 0, sizeof(*o));
	pipeline_connect(p, fx_sockaddr(client, &ss));
	pipeline_helo(p, "vendor.test");
	o->st = pipeline_mail(p, conf, "<alma@exlibrisgroup.com>", auth, NULL);
	for (i = 0; o->st == PIPELINE_CONTINUE && fields[i] != NULL; i += 2)
		(void)pipeline_header(p, fields[i], fields[i + 1]);
	if (o->st == PIPELINE_CONTINUE)
		o->st = pipeline_eoh(p, "P1");
	if (o->st == PIPELINE_CONTINUE || o->st == PIPELINE_SKIP)
		o->st = pipeline_body(p, (const unsigned char *)BODY, strlen(BODY));
	if (o->st == PIPELINE_CONTINUE || o->st == PIPELINE_SKIP)
		o->st = pipeline_eom(p, &e, &n);
	if ((r = pipeline_report(p)) == NULL)
		return;
	o->d = r->decision;
	o->signed_ = r->signer != NULL;
	count_edits(e, n, &o->del, &o->ar, &o->sig);
	for (i = 0; i < n; i++) {
		if (e[i].kind != PIPELINE_EDIT_INSERT)
			continue;
		if (strcmp(e[i].name, "Authentication-Results") == 0)
			snprintf(o->ar_value, sizeof(o->ar_value), "%s", e[i].value);
		else if (nsig < 2)
			snprintf(o->sig_value[nsig++], sizeof(o->sig_value[0]), "%s", e[i].value);
	}
}

/* refold: value with its folding changed as an MTA might (CRLF SP, a leading space). */
static void
refold(const char *value, char *out, size_t len)
{
	size_t i, j = 0;

	out[j++] = ' ';
	for (i = 0; value[i] != '\0' && j + 3 < len; i++) {
		if (value[i] == '\n') {
			out[j++] = '\r';
			out[j++] = '\n';
		} else if (value[i] == '\t') {
			out[j++] = ' ';
		} else {
			out[j++] = value[i];
		}
	}
	out[j] = '\0';
}

/*
 * test_passes: a content filter sends the message through relaysign a
 * second time.  Our own sealed result is recognised and kept, nothing is
 * signed twice, a stranger's marked forgery stays unsigned even from a
 * trusted address; a result in our name that is not our seal for this
 * message (copied, altered, of a previous process, unsealable) is removed
 * and never lets the message be signed.
 */
static void
test_passes(const struct fixture *fx)
{
	const struct conf *conf = fx->conf[FX_PLAIN];
	struct seal *seal = seal_new(), *other = seal_new();
	struct pipeline *p = pipeline_new(seal), *q = pipeline_new(other);
	static struct pass_out first, second;
	static char folded[AUTHRES_MAX + 64], altered[AUTHRES_MAX + 64];
	const char *from = " Library <library@library.example.edu>";
	const char *msgid = " <n1@alma.exlibrisgroup.com>";
	const char *plain[] = {"From", from, "Message-ID", msgid, "Subject", " Overdue", NULL};
	char *at;

	if (!ok(seal != NULL && other != NULL && p != NULL && q != NULL, "passes: set up"))
		goto out;

	/* Signed on the first pass; its result is sealed. */
	one_pass(p, conf, "192.0.2.10", NULL, plain, &first);
	ok(first.d.action == POLICY_SIGN && first.sig == 2 && first.ar == 1 &&
	   strstr(first.ar_value, "policy.seal=") != NULL,
	   "passes: first pass signs, and seals its result");
	{
		const char *again[] = {"DKIM-Signature", first.sig_value[0], "DKIM-Signature",
		                       first.sig_value[1], "Authentication-Results", first.ar_value,
		                       "From", from, "Message-ID", msgid, "Subject", " Overdue",
		                       NULL};

		one_pass(p, conf, "127.0.0.1", "alma", again, &second);
		ok(second.st == PIPELINE_CONTINUE && second.d.action == POLICY_ACCEPT &&
		   second.d.reason == POLICY_REASON_ALREADY_HANDLED && !second.signed_ &&
		   second.del == 0 && second.ar == 0 && second.sig == 0,
		   "passes: trusted second pass: not signed again, our result kept, nothing added");
		one_pass(p, conf, "127.0.0.1", NULL, again, &second);
		ok(second.d.action == POLICY_ACCEPT && second.del == 0 && second.ar == 0,
		   "passes: untrusted second pass: our result kept, not removed as forged");
		one_pass(q, conf, "127.0.0.1", "alma", again, &second);
		ok(second.d.action == POLICY_TAG &&
		   second.d.reason == POLICY_REASON_ALREADY_HANDLED && !second.signed_ &&
		   second.del == 1 && second.ar == 1,
		   "passes: after a restart (another secret): removed, tagged, never signed");
	}
	{
		/* Refolded by the MTA (CRLF, spaces, a leading space): still ours. */
		const char *again[] = {"Authentication-Results", folded, "From", from,
		                       "Message-ID", msgid, NULL};

		refold(first.ar_value, folded, sizeof(folded));
		one_pass(p, conf, "192.0.2.10", NULL, again, &second);
		ok(second.d.action == POLICY_ACCEPT && second.del == 0,
		   "passes: refolded, our result is still recognised");
	}
	{
		/* Copied into another message (another Message-ID): a forgery. */
		const char *copy[] = {"Authentication-Results", first.ar_value, "From", from,
		                      "Message-ID", " <other@evil.test>", NULL};

		one_pass(p, conf, "192.0.2.10", NULL, copy, &second);
		ok(second.d.action == POLICY_TAG &&
		   second.d.reason == POLICY_REASON_ALREADY_HANDLED && !second.signed_ &&
		   second.del == 1 && second.ar == 1,
		   "passes: a sealed result copied into another message: removed, not signed");
		one_pass(p, conf, "203.0.113.7", NULL, copy, &second);
		ok(second.d.action == POLICY_TAG && second.d.reason == POLICY_REASON_UNTRUSTED &&
		   second.del == 1 && second.ar == 1,
		   "passes: the same from a stranger: removed, marked untrusted");
	}
	{
		/* Altered (signed -> tagged), or a second seal appended: not ours. */
		const char *alt[] = {"Authentication-Results", altered, "From", from,
		                     "Message-ID", msgid, NULL};

		snprintf(altered, sizeof(altered), "%s", first.ar_value);
		if ((at = strstr(altered, "x-relaysign=signed")) != NULL)
			memcpy(at, "x-relaysign=tagged", 18);
		one_pass(p, conf, "203.0.113.7", NULL, alt, &second);
		ok(at != NULL && second.del == 1 && second.d.reason == POLICY_REASON_UNTRUSTED,
		   "passes: an altered result is removed");
		snprintf(altered, sizeof(altered), "%s policy.seal=00000000000000000000000000000000",
		         first.ar_value);
		one_pass(p, conf, "203.0.113.7", NULL, alt, &second);
		ok(second.del == 1, "passes: a second seal appended: removed");
		snprintf(altered, sizeof(altered), "%s", first.ar_value);
		altered[strlen(altered) - 1] = altered[strlen(altered) - 1] == 'A' ? 'B' : 'A';
		one_pass(p, conf, "203.0.113.7", NULL, alt, &second);
		ok(second.del == 1, "passes: one hex digit changed: removed");
	}
	{
		/* A stranger's forgery: marked on the first pass, never signed on the second. */
		const char *forgery[] = {"From", from, "Message-ID", msgid, NULL};

		one_pass(p, conf, "203.0.113.7", NULL, forgery, &first);
		ok(first.d.action == POLICY_TAG && first.d.reason == POLICY_REASON_UNTRUSTED &&
		   first.ar == 1 && strstr(first.ar_value, "x-relaysign=tagged") != NULL &&
		   strstr(first.ar_value, "policy.seal=") != NULL,
		   "passes: a stranger's mail in our domain is marked, sealed");
		const char *again[] = {"Authentication-Results", first.ar_value, "From", from,
		                       "Message-ID", msgid, NULL};

		one_pass(p, conf, "192.0.2.10", NULL, again, &second);
		ok(second.d.action == POLICY_ACCEPT && !second.signed_ && second.del == 0 &&
		   second.ar == 0,
		   "passes: ... and a trusted second pass does not sign it");
	}
	{
		/* No Message-ID: nothing to bind a seal to; a second pass never signs. */
		const char *bare[] = {"From", from, NULL};

		one_pass(p, conf, "192.0.2.10", NULL, bare, &first);
		ok(first.d.action == POLICY_SIGN && strstr(first.ar_value, "policy.seal=") == NULL,
		   "passes: without a Message-ID the result is not sealed");
		const char *again[] = {"Authentication-Results", first.ar_value, "From", from, NULL};

		one_pass(p, conf, "192.0.2.10", NULL, again, &second);
		ok(second.d.action == POLICY_TAG &&
		   second.d.reason == POLICY_REASON_ALREADY_HANDLED && !second.signed_ &&
		   second.del == 1,
		   "passes: ... so a second pass removes it and does not sign");
	}
out:
	pipeline_free(p);
	pipeline_free(q);
	seal_free(seal);
	seal_free(other);
}

/* test_sequences: facts do not outlive their message or connection. */
static void
test_sequences(const struct fixture *fx)
{
	const struct conf *conf = fx->conf[FX_PLAIN];
	struct pipeline *p = pipeline_new(NULL);
	const struct pipeline_edit *e;
	struct sockaddr_storage ss;
	size_t n;

	/* A login on message 1 is not a login on message 2. */
	pipeline_connect(p, fx_sockaddr("203.0.113.7", &ss));
	pipeline_mail(p, conf, "<a@vendor.test>", "alma", NULL);
	pipeline_header(p, "From", " library@library.example.edu");
	ok(pipeline_eoh(p, "S1") == PIPELINE_CONTINUE, "seq: message 1 with the login is signed");
	ok(pipeline_eom(p, &e, &n) == PIPELINE_CONTINUE && pipeline_report(p)->signer != NULL,
	   "seq: message 1 signed");
	pipeline_mail(p, conf, "<a@vendor.test>", NULL, NULL);
	pipeline_header(p, "From", " library@library.example.edu");
	ok(untrusted_end(p, "S2"), "seq: message 2 without a login is untrusted, not signed");

	/* An abort forgets the message: its From does not count twice. */
	pipeline_connect(p, fx_sockaddr("192.0.2.10", &ss));
	pipeline_mail(p, conf, "<a@vendor.test>", NULL, NULL);
	pipeline_header(p, "From", " library@library.example.edu");
	pipeline_abort(p);
	pipeline_mail(p, conf, "<a@vendor.test>", NULL, NULL);
	pipeline_header(p, "From", " library@library.example.edu");
	pipeline_eoh(p, "S3");
	ok(pipeline_eom(p, &e, &n) == PIPELINE_CONTINUE &&
	   pipeline_report(p)->decision.action == POLICY_SIGN,
	   "seq: after an abort, one From, signed");

	/* A new connection forgets the old client. */
	pipeline_connect(p, fx_sockaddr("192.0.2.10", &ss));
	pipeline_connect(p, NULL);
	pipeline_mail(p, conf, "<a@vendor.test>", NULL, NULL);
	pipeline_header(p, "From", " library@library.example.edu");
	ok(untrusted_end(p, "S4"), "seq: a connect without address is untrusted, not signed");

	/* Events out of order never sign. */
	pipeline_connect(p, fx_sockaddr("192.0.2.10", &ss));
	pipeline_mail(p, conf, "<a@vendor.test>", NULL, NULL);
	pipeline_header(p, "From", " library@library.example.edu");
	pipeline_eoh(p, "S5");
	pipeline_header(p, "From", " evil@library.example.edu");
	ok(pipeline_eom(p, &e, &n) == PIPELINE_TEMPFAIL && n == 0,
	   "seq: a header after the end of headers: tempfail");

	/* End of message without end of headers: decided all the same. */
	pipeline_mail(p, conf, "<a@vendor.test>", NULL, NULL);
	pipeline_header(p, "From", " library@library.example.edu");
	ok(pipeline_eom(p, &e, &n) == PIPELINE_CONTINUE &&
	   pipeline_report(p)->decision.action == POLICY_SIGN,
	   "seq: end of message without end of headers: signed (empty body)");

	/* Events without a message do nothing. */
	pipeline_header(p, "From", " x@library.example.edu");
	ok(pipeline_eom(p, &e, &n) == PIPELINE_CONTINUE && n == 0,
	   "seq: end of message with none open: nothing");

	/* More forged results than we remove: tempfail, not passed on. */
	pipeline_connect(p, fx_sockaddr("203.0.113.7", &ss));
	pipeline_mail(p, conf, "<a@vendor.test>", NULL, NULL);
	for (size_t i = 0; i <= PIPELINE_MAX_FORGED; i++)
		pipeline_header(p, "Authentication-Results", " mail.example.edu; none");
	ok(pipeline_eoh(p, "S6") == PIPELINE_TEMPFAIL && pipeline_report(p)->error != NULL,
	   "seq: %d forged results: tempfail", PIPELINE_MAX_FORGED + 1);
	pipeline_free(p);
}

int
main(void)
{
	struct fixture fx;

	memset(long_mailfrom, 'a', sizeof(long_mailfrom) - 1);
	long_mailfrom[0] = '<';
	memcpy(long_mailfrom + sizeof(long_mailfrom) - 20, "@exlibrisgroup.com>", 20);
	memset(long_body, 'b', sizeof(long_body) - 3);
	memcpy(long_body + sizeof(long_body) - 3, "\r\n", 3);
	fixture_start(&fx, true);
	test_rows(&fx);
	test_sequences(&fx);
	test_passes(&fx);
	fixture_teardown(&fx);
	return tap_done();
}
