/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * t_returnpath.c -- ReturnPath (lib/returnpath.c): which addresses -n
 * takes, which one a From domain gets, and, through lib/pipeline.c, that
 * the envelope sender changes on signed mail only: never on the null
 * sender, untrusted, tagged, tempfailed or rejected mail, and with the
 * ESMTP parameters that matter kept.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../pipeline_fixture.h"
#include "pipeline.h"
#include "returnpath.h"
#include "util.h"
#include "../tap.h"

#define CONF_TEXT                                             \
	"AuthservID mail.example.edu\n"                       \
	"RelayNetworks 192.0.2.0/24\n"                        \
	"RelayAuthUsers alma\n"                               \
	"Domain library.example.edu law.example.edu ufl.edu\n" \
	"Selector ed2026\n"                                   \
	"KeyFile %s\n"                                        \
	"SignatureAlgorithm ed25519-sha256\n"                 \
	"%s"

static struct fixture fx;

/* load: CONF_TEXT with extra lines; NULL with err. */
static struct conf *
load(const char *extra, char *err, size_t errlen)
{
	char text[2048];

	snprintf(text, sizeof(text), CONF_TEXT, fx.keys[0], extra);
	return fx_conf_text_err(&fx, text, err, errlen);
}

/* test_refused: -n refuses what would not align, or is no address. */
static void
test_refused(void)
{
	static const struct {
		const char *line, *want;
	} rows[] = {
	    {"ReturnPath bounces@exlibrisgroup.com\n", "t.conf:8: ReturnPath bounces@exlibrisgroup.com: "
	                                              "exlibrisgroup.com is not in the organizational"},
	    {"ReturnPath bounces@edu\n", "bounces@edu\": domain is not a fully qualified"},
	    {"ReturnPath bounces@example.org\n", "is not in the organizational domain"},
	    {"ReturnPath bounces\n", "expected local@domain"},
	    {"ReturnPath @library.example.edu\n", "expected local@domain"},
	    {"ReturnPath a..b@library.example.edu\n", "expected local@domain"},
	    {"ReturnPath .a@library.example.edu\n", "expected local@domain"},
	    {"ReturnPath \"a b\"@library.example.edu\n", "expected local@domain"},
	    {"ReturnPath a@lib_rary.example.edu\n", "domain"},
	    {"ReturnPath a@library.example.edu b@LIBRARY.example.edu\n", "one address a domain"},
	    {"OutboundAddresses 192.0.2.0/24\n", "t.conf:8: OutboundAddresses \"192.0.2.0/24\": not an"},
	    {"OutboundAddresses mail.example.edu\n", "not an IPv4 or IPv6 address"},
	};
	char err[1024];
	size_t i;

	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		struct conf *c = load(rows[i].line, err, sizeof(err));

		ok(c == NULL && strstr(err, rows[i].want) != NULL, "refused: %.*s: %s",
		   (int)strlen(rows[i].line) - 1, rows[i].line, c == NULL ? err : "accepted");
		conf_free(c);
	}
}

/* test_choice: the same domain, else the nearest parent, else none. */
static void
test_choice(void)
{
	static const struct {
		const char *from, *want;
	} rows[] = {
	    {"library.example.edu", "bounces@library.example.edu"},
	    {"LIBRARY.example.edu", "bounces@library.example.edu"},
	    {"law.example.edu", "postmaster@example.edu"},
	    {"a.law.example.edu", "postmaster@example.edu"},
	    {"example.edu", "postmaster@example.edu"},
	    {"xexample.edu", NULL},
	    {"ufl.edu", "Circ.Desk@ufl.edu"},
	    {"fsu.edu", NULL},
	    {"edu", NULL},
	};
	char err[1024];
	struct conf *c = load("ReturnPath bounces@LIBRARY.example.edu, postmaster@example.edu "
	                      "Circ.Desk@ufl.edu\nOutboundAddresses 192.0.2.25 2001:db8::25\n",
	                      err, sizeof(err));
	size_t i;

	if (!ok(c != NULL, "three addresses load: %s", c == NULL ? err : "ok"))
		return;
	ok(returnpath_count(c->rt.return_paths) == 3 &&
	   strcmp(returnpath_at(c->rt.return_paths, 0), "bounces@library.example.edu") == 0 &&
	   strcmp(returnpath_domain(c->rt.return_paths, 2), "ufl.edu") == 0,
	   "as configured, the domain lowercased, the local part kept");
	ok(strv_len(c->outbound_addresses) == 2, "two outbound addresses");
	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		const char *got = returnpath_for(c->rt.return_paths, rows[i].from);

		ok(rows[i].want == NULL ? got == NULL : got != NULL && strcmp(got, rows[i].want) == 0,
		   "From %s: %s (got %s)", rows[i].from, rows[i].want ? rows[i].want : "none",
		   got ? got : "none");
	}
	conf_free(c);
}

struct outcome {
	enum policy_action action;
	size_t nchg;
	char value[300], args[600];
};

/* play: one message; what became of its envelope sender. */
static struct outcome
play(const struct conf *c, const char *client, const char *auth, const char *mailfrom,
     char *const *params, const char *from)
{
	struct pipeline *p = pipeline_new(NULL);
	struct sockaddr_storage ss;
	const struct pipeline_edit *e = NULL;
	const struct pipeline_report *r;
	struct outcome o;
	size_t n = 0, i;
	enum pipeline_status st;

	memset(&o, 0, sizeof(o));
	o.action = POLICY_TEMPFAIL;
	pipeline_connect(p, fx_sockaddr(client, &ss));
	pipeline_helo(p, "vendor.test");
	st = pipeline_mail(p, c, mailfrom, auth, NULL);
	pipeline_mail_params(p, params);
	if (st == PIPELINE_CONTINUE) {
		pipeline_header(p, "From", from);
		st = pipeline_eoh(p, "R1");
	}
	if (st == PIPELINE_CONTINUE || st == PIPELINE_SKIP)
		st = pipeline_body(p, (const unsigned char *)"Due.\r\n", 6);
	if (st == PIPELINE_CONTINUE || st == PIPELINE_SKIP)
		(void)pipeline_eom(p, &e, &n);
	if ((r = pipeline_report(p)) != NULL)
		o.action = r->decision.action;
	for (i = 0; i < n; i++)
		if (e[i].kind == PIPELINE_EDIT_CHGFROM) {
			o.nchg++;
			snprintf(o.value, sizeof(o.value), "%s", e[i].value);
			snprintf(o.args, sizeof(o.args), "%s", e[i].args);
			if (i != 0)
				o.nchg += 100;	/* the sender must come first */
			if (r == NULL || r->return_path == NULL || r->mailfrom_was == NULL)
				o.nchg += 1000;	/* and be reported */
		}
	pipeline_free(p);
	return o;
}

/* test_rewrite: signed mail only, the null sender never, parameters kept. */
static void
test_rewrite(void)
{
	char *params[] = {"SIZE=2048", "BODY=8BITMIME", "SMTPUTF8", "RET=HDRS", "ENVID=a+2Bb",
	                  "AUTH=<>", "X-EVIL=1", "NOTIFY=NEVER", "BODY=", NULL};
	char *noparams[] = {NULL};
	char err[1024];
	struct conf *c = load("ReturnPath bounces@library.example.edu\n", err, sizeof(err));
	struct outcome o;

	if (!ok(c != NULL, "rewrite: loads: %s", c == NULL ? err : "ok"))
		return;
	o = play(c, "192.0.2.10", NULL, "<alma@exlibrisgroup.com>", params,
	         " Library <library@library.example.edu>");
	ok(o.action == POLICY_SIGN && o.nchg == 1 &&
	   strcmp(o.value, "<bounces@library.example.edu>") == 0,
	   "signed: the sender becomes <bounces@library.example.edu> (%s, %zu)", o.value, o.nchg);
	ok(strcmp(o.args, "SIZE=2048 BODY=8BITMIME SMTPUTF8 RET=HDRS ENVID=a+2Bb") == 0,
	   "SIZE, BODY, SMTPUTF8, RET, ENVID kept, nothing else: \"%s\"", o.args);
	o = play(c, "192.0.2.10", NULL, "<alma@exlibrisgroup.com>", noparams,
	         " library@library.example.edu");
	ok(o.nchg == 1 && o.args[0] == '\0', "no parameters: none given");
	o = play(c, "192.0.2.10", NULL, "<>", params, " library@library.example.edu");
	ok(o.action == POLICY_SIGN && o.nchg == 0, "the null sender is signed, never rewritten");
	o = play(c, "192.0.2.10", NULL, "<alma>", params, " library@library.example.edu");
	ok(o.action == POLICY_SIGN && o.nchg == 0, "a malformed envelope: signed, not rewritten");
	o = play(c, "192.0.2.10", NULL, "<Bounces@library.example.edu>", params,
	         " library@library.example.edu");
	ok(o.action == POLICY_SIGN && o.nchg == 0, "already the library's own: left as it is");
	o = play(c, "203.0.113.7", NULL, "<alma@exlibrisgroup.com>", params,
	         " library@library.example.edu");
	ok(o.action == POLICY_TAG && o.nchg == 0, "untrusted: never rewritten");
	o = play(c, "192.0.2.10", NULL, "<alma@exlibrisgroup.com>", params,
	         " a@library.example.edu, b@library.example.edu");
	ok(o.action == POLICY_TAG && o.nchg == 0, "tagged (bad-from): never rewritten");
	o = play(c, "192.0.2.10", NULL, "<alma@exlibrisgroup.com>", params, " x@ufl.edu");
	ok(o.action == POLICY_SIGN && o.nchg == 0, "signed, no ReturnPath for ufl.edu: left alone");
	conf_free(c);
	c = load("ReturnPath bounces@library.example.edu\nOnBadFrom reject\n", err, sizeof(err));
	if (c != NULL) {
		o = play(c, "192.0.2.10", NULL, "<alma@exlibrisgroup.com>", params, " a@b.c, d@e.f");
		ok(o.action == POLICY_REJECT && o.nchg == 0, "rejected: never rewritten");
	}
	conf_free(c);
}

int
main(void)
{
	fixture_start(&fx, false);
	test_refused();
	test_choice();
	test_rewrite();
	fixture_teardown(&fx);
	return tap_done();
}
