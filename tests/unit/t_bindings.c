/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * t_bindings.c -- RelayBindings (lib/bindings.c): the file's errors, each
 * with file:line; the warnings at -n; and, through lib/pipeline.c, that a
 * consortium relay signs exactly what is bound to the identity that
 * trusted the client: the login before the address before the SPF name,
 * the longest prefix, never the union of several identities.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../pipeline_fixture.h"
#include "bindings.h"
#include "pipeline.h"
#include "../tap.h"

#define MAIN_CONF                                              \
	"AuthservID mail.example.edu\n"                        \
	"RelayNetworks 192.0.2.0/24\n"                         \
	"RelayAuthUsers alma-b alma-c\n"                       \
	"RelaySPFNames spf-na.vendor.test\n"                   \
	"Domain a.edu b.edu c.edu sub.a.edu\n"                 \
	"Selector ed2026\n"                                    \
	"KeyFile %s\n"                                         \
	"SignatureAlgorithm ed25519-sha256\n"                  \
	"%s"

#define GOOD_BINDINGS                                          \
	"# the consortium\n"                                   \
	"auth:alma-a   a.edu, *.a.edu   # institution A\n"     \
	"auth:alma-b   b.edu\n"                                \
	"auth:alma-d   c.edu\n"                                \
	"net:192.0.2.0/24  b.edu\n"                            \
	"net:192.0.2.0/25  c.edu\n"                            \
	"spf:SPF-NA.vendor.test  a.edu\n"

static struct fixture fx;

/* write_file: text into dir/name; the path in path. */
static int
write_file(const char *name, const char *text, char *path, size_t len)
{
	FILE *f;

	snprintf(path, len, "%s/%s", fx.dir, name);
	if ((f = fopen(path, "w")) == NULL)
		return -1;
	fputs(text, f);
	return fclose(f);
}

/* load: MAIN_CONF with RelayBindings text (NULL: none); the conf, or NULL with err. */
static struct conf *
load(const char *bindings, char *err, size_t errlen)
{
	char path[512], extra[600], text[4096];

	extra[0] = '\0';
	if (bindings != NULL) {
		if (write_file("bindings", bindings, path, sizeof(path)) != 0)
			return NULL;
		snprintf(extra, sizeof(extra), "RelayBindings %s\n", path);
	}
	snprintf(text, sizeof(text), MAIN_CONF, fx.keys[0], extra);
	return fx_conf_text_err(&fx, text, err, errlen);
}

/* test_errors: every bad line is refused, naming the file and the line. */
static void
test_errors(void)
{
	static const struct {
		const char *text, *want;
	} rows[] = {
	    {"auth:alma-a a.edu\nfoo:bar a.edu\n", ":2: \"foo:bar\": an identity is"},
	    {"alma-a a.edu\n", ":1: \"alma-a\": an identity is"},
	    {"net:198.51.100.0/24 a.edu\n", ":1: net:198.51.100.0/24 is not within RelayNetworks"},
	    {"net:192.0.2.1/24 a.edu\n", ":1: net:192.0.2.1/24:"},
	    {"spf:other.test a.edu\n", ":1: spf:other.test: \"other.test\" is not in RelaySPFNames"},
	    {"auth:alma-a evil.test\n", ":1: auth:alma-a binds evil.test, which has no key"},
	    {"auth:alma-a *\n", ":1: \"*\": a domain or *.domain"},
	    {"auth:alma-a *.edu\n", ":1: domain \"edu\""},
	    {"auth:alma-a *@a.edu\n", ":1: \"*@a.edu\": a domain or *.domain"},
	    {"auth:alma-a a.*.edu\n", ":1: \"a.*.edu\": a domain or *.domain"},
	    {"auth:alma-a\n", ":1: auth:alma-a binds no domain"},
	    {"auth:alma-a a.edu a.edu\n", ":1: auth:alma-a binds a.edu twice"},
	    {"auth:alma-a a.edu\n\n# c\nauth:alma-a b.edu\n", ":4: auth:alma-a already has a line (line 1)"},
	};
	char err[1024];
	size_t i;

	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		struct conf *c = load(rows[i].text, err, sizeof(err));

		ok(c == NULL && strstr(err, "bindings") != NULL && strstr(err, rows[i].want) != NULL,
		   "refused, with file:line: %s (%s)", rows[i].want, c == NULL ? err : "accepted");
		conf_free(c);
	}
	{
		char *big = malloc(BINDINGS_LINE_MAX + 100);
		struct conf *c;

		memset(big, 'a', BINDINGS_LINE_MAX + 10);
		memcpy(big, "auth:alma-a ", 12);
		strcpy(big + BINDINGS_LINE_MAX + 10, "\n");
		c = load(big, err, sizeof(err));
		ok(c == NULL && strstr(err, ":1: line longer than") != NULL, "a line too long: %s",
		   err);
		conf_free(c);
		free(big);
	}
	{
		struct conf *c = NULL;
		char path[512], text[1024];

		snprintf(path, sizeof(path), "%s/missing", fx.dir);
		snprintf(text, sizeof(text), MAIN_CONF, fx.keys[0], "");
		snprintf(text + strlen(text), sizeof(text) - strlen(text), "RelayBindings %s\n", path);
		ok(conf_parse("t.conf", text, strlen(text), &c, err, sizeof(err)) == 0 &&
		   runtime_build(c, err, sizeof(err)) != 0 && strstr(err, "t.conf:9: RelayBindings:") &&
		   strstr(err, "missing"),
		   "a missing file: the configuration line and the path: %s", err);
		conf_free(c);
	}
}

/* has_warning: a warning of c contains text. */
static bool
has_warning(const struct conf *c, const char *text)
{
	for (char **w = c->warnings; w != NULL && *w != NULL; w++)
		if (strstr(*w, text) != NULL)
			return true;
	return false;
}

/* test_warnings: what -n and the start say of the exposure. */
static void
test_warnings(void)
{
	char err[1024];
	struct conf *c;

	c = load(NULL, err, sizeof(err));
	ok(c != NULL && has_warning(c, "keys for several domains and no RelayBindings"),
	   "several domains, no RelayBindings: warned");
	conf_free(c);
	c = load(GOOD_BINDINGS, err, sizeof(err));
	ok(c != NULL, "the good file loads: %s", c == NULL ? err : "ok");
	if (c != NULL) {
		ok(bindings_count(c->rt.bindings) == 6, "six lines");
		ok(has_warning(c, "auth:alma-c has no line in") &&
		   has_warning(c, "never signed (reason=not-bound)") &&
		   !has_warning(c, "auth:alma-a has no line") &&
		   !has_warning(c, "spf:spf-na.vendor.test has no line") &&
		   !has_warning(c, "several domains"),
		   "the login without a line is warned about, and only it");
	}
	conf_free(c);
}

/* play: one message; the decision and, in *ar, our Authentication-Results value. */
static struct policy_decision
play(const struct conf *c, const char *client, const char *auth, const char *from,
     const char **binding, char *ar, size_t arlen)
{
	struct pipeline *p = pipeline_new(NULL);
	struct sockaddr_storage ss;
	const struct pipeline_edit *e = NULL;
	const struct pipeline_report *r;
	struct policy_decision d = {POLICY_TEMPFAIL, POLICY_REASON_NONE};
	char fv[256];
	size_t n = 0, i;
	enum pipeline_status st;

	ar[0] = '\0';
	*binding = NULL;
	snprintf(fv, sizeof(fv), " Notices <notices@%s>", from);
	pipeline_connect(p, fx_sockaddr(client, &ss));
	pipeline_helo(p, "vendor.test");
	st = pipeline_mail(p, c, "<alma@vendor.test>", auth, NULL);
	if (st == PIPELINE_CONTINUE) {
		pipeline_header(p, "From", fv);
		pipeline_header(p, "Message-ID", " <1@vendor.test>");
		st = pipeline_eoh(p, "B1");
	}
	if (st == PIPELINE_CONTINUE || st == PIPELINE_SKIP)
		st = pipeline_body(p, (const unsigned char *)"Due.\r\n", 6);
	if (st == PIPELINE_CONTINUE || st == PIPELINE_SKIP)
		(void)pipeline_eom(p, &e, &n);
	if ((r = pipeline_report(p)) != NULL) {
		d = r->decision;
		if (d.action == POLICY_SIGN && r->signer == NULL)
			d.action = POLICY_TEMPFAIL;	/* cannot be: make it fail loudly */
		*binding = r->binding;
	}
	for (i = 0; i < n; i++)
		if (e[i].kind == PIPELINE_EDIT_INSERT &&
		    strcmp(e[i].name, "Authentication-Results") == 0)
			snprintf(ar, arlen, "%s", e[i].value);
	/* The report's strings live in the conf (binding) or die with p. */
	pipeline_free(p);
	return d;
}

/* test_matrix: exactly the bound cells are signed; the rule of which identity decides. */
static void
test_matrix(void)
{
	static const struct {
		const char *client, *auth, *from;
		bool sign;
		const char *binding; /* logged identity; NULL: none bound */
		const char *why;
	} rows[] = {
	    /* A's login from outside the networks. */
	    {"203.0.113.7", "alma-a", "a.edu", true, "auth:alma-a", "A's login, A's domain"},
	    {"203.0.113.7", "alma-a", "sub.a.edu", true, "auth:alma-a", "A's login, *.a.edu"},
	    {"203.0.113.7", "alma-a", "b.edu", false, "auth:alma-a", "A's login, B's domain"},
	    {"203.0.113.7", "alma-a", "c.edu", false, "auth:alma-a", "A's login, C's domain"},
	    {"203.0.113.7", "alma-b", "b.edu", true, "auth:alma-b", "B's login, B's domain"},
	    {"203.0.113.7", "alma-b", "a.edu", false, "auth:alma-b", "B's login, A's domain"},
	    {"203.0.113.7", "alma-b", "sub.a.edu", false, "auth:alma-b", "B's login, A's subdomain"},
	    /* alma-d is in no RelayAuthUsers: its line alone trusts it. */
	    {"203.0.113.7", "alma-d", "c.edu", true, "auth:alma-d", "login of the file only"},
	    {"203.0.113.7", "alma-d", "a.edu", false, "auth:alma-d", "file-only login, A's"},
	    /* A login with no line binds nothing. */
	    {"203.0.113.7", "alma-c", "a.edu", false, NULL, "unbound login"},
	    /* The login decides, even from a network bound to other domains: no union. */
	    {"192.0.2.10", "alma-a", "c.edu", false, "auth:alma-a", "login wins over /25"},
	    {"192.0.2.10", "alma-a", "a.edu", true, "auth:alma-a", "login wins, its own domain"},
	    {"192.0.2.10", "alma-c", "c.edu", false, NULL, "unbound login, network not used"},
	    /* The address: the longest prefix holding the client. */
	    {"192.0.2.10", NULL, "c.edu", true, "net:192.0.2.0/25", "/25 before /24"},
	    {"192.0.2.10", NULL, "b.edu", false, "net:192.0.2.0/25", "/24's domain, not /25's"},
	    {"192.0.2.200", NULL, "b.edu", true, "net:192.0.2.0/24", "only /24 holds .200"},
	    {"192.0.2.200", NULL, "c.edu", false, "net:192.0.2.0/24", "/25's domain from .200"},
	    /* An unlisted login from a network: the network decides. */
	    {"192.0.2.10", "mallory", "c.edu", true, "net:192.0.2.0/25", "unknown login"},
	    /* The vendor's SPF name. */
	    {"198.51.100.20", NULL, "a.edu", true, "spf:spf-na.vendor.test", "SPF name, bound"},
	    {"198.51.100.20", NULL, "b.edu", false, "spf:spf-na.vendor.test", "SPF name, not"},
	    /* Untrusted: never signed, bindings or not. */
	    {"203.0.113.7", NULL, "a.edu", false, NULL, "untrusted"},
	};
	char err[1024], ar[2048];
	struct conf *c = load(GOOD_BINDINGS, err, sizeof(err));
	size_t i, nsigned = 0;

	if (!ok(c != NULL, "matrix: configuration loads: %s", c == NULL ? err : "ok"))
		return;
	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		const char *b;
		struct policy_decision d = play(c, rows[i].client, rows[i].auth, rows[i].from, &b, ar,
		                                sizeof(ar));
		bool untrusted = d.reason == POLICY_REASON_UNTRUSTED;
		bool want_b = rows[i].binding != NULL;

		nsigned += d.action == POLICY_SIGN;
		ok((d.action == POLICY_SIGN) == rows[i].sign &&
		   (rows[i].sign || untrusted || d.reason == POLICY_REASON_NOT_BOUND) &&
		   (want_b ? b != NULL && strcmp(b, rows[i].binding) == 0 : b == NULL),
		   "%s: %s%s from %s, From %s: %s %s, binding %s", rows[i].why, rows[i].auth ?
		   "login " : "", rows[i].auth ? rows[i].auth : "", rows[i].client, rows[i].from,
		   policy_action_name(d.action), policy_reason_name(d.reason), b ? b : "none");
		if (d.reason == POLICY_REASON_NOT_BOUND)
			ok(strstr(ar, "reason=\"not-bound\"") != NULL &&
			   (!want_b || strstr(ar, "policy.binding=") != NULL),
			   "%s: Authentication-Results says not-bound and the binding", rows[i].why);
	}
	ok(nsigned == 9, "exactly the 9 bound cells signed (%zu)", nsigned);
	conf_free(c);
}

int
main(void)
{
	fixture_start(&fx, false);
	test_errors();
	test_warnings();
	test_matrix();
	{
		char path[512];

		snprintf(path, sizeof(path), "%s/bindings", fx.dir);
		unlink(path);
	}
	fixture_teardown(&fx);
	return tap_done();
}
