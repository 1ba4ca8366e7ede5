/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * t_conf.c -- lib/conf: the parser (a table of texts, every error path),
 * the values it stores, runtime_build with generated keys, and the cross-
 * check of conf_options() against man/relaysign.conf.5.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/pem.h>

#include "conf.h"
#include "../tap.h"
#include "../keyfile.h"
#include "util.h"

#ifndef LOCALSTATEDIR
#define LOCALSTATEDIR "/var"
#endif

#define NAME "t.conf"

struct parse_case {
	const char *text;
	size_t len;
	const char *expect;	/* NULL: parses; else a substring of the error */
};

#define GOOD(s) { s, sizeof(s) - 1, NULL }
#define BAD(s, e) { s, sizeof(s) - 1, e }

static const struct parse_case parse_cases[] = {
	/* Shapes that parse. */
	GOOD(""),
	GOOD("# only a comment\n\n   \n\t# an indented comment\n"),
	GOOD("Socket inet:8891@127.0.0.1\r\nLogLevel debug\r\n"),
	GOOD("Socket inet:8891@127.0.0.1   \t\nLogLevel debug \r\n"),
	GOOD("Socket unix:/run/relaysign/relaysign.sock # a trailing comment\n"),
	GOOD("socket local:/var/run/relaysign.sock\nSYSLOG no\n"),
	GOOD("Socket inet6:8891@::1\n"),
	GOOD("Socket inet:65535@localhost\n"),
	GOOD("Socket inet:1@0.0.0.0"),
	GOOD("RelayNetworks 192.0.2.0/24, 2001:db8::/32,198.51.100.7 [::1]/128\n"),
	GOOD("Domain Library.Example.EDU,example.org\nSelector s1\nKeyFile /k\n"),
	GOOD("LogLevel DEBUG\nBackground No\nSyslog TRUE\n"),
	GOOD("Background 0\nSyslog 1\nLogLevel err\n"),
	GOOD("SignatureAlgorithm rsa-sha256 ed25519-sha256\n"),
	GOOD("SignatureAlgorithm ED25519-SHA256\n"),
	GOOD("Canonicalization simple\n"),
	GOOD("SignatureTTL 315360000\n"),
	GOOD("SignatureTTL 0\n"),
	GOOD("KeyTable refile:/etc/relaysign/keytable\nSigningTable file:/etc/relaysign/st\n"),
	GOOD("KeyTable /etc/relaysign/keytable\nSigningTable /etc/relaysign/signingtable\n"),
	GOOD("UserID relaysign:relaysign\nPidFile /run/relaysign.pid\n"),
	GOOD("UserID _relaysign\n"),
	GOOD("\xef\xbb\xbfSocket inet:1@127.0.0.1\n"),
	GOOD("AuthservID mx.example.edu\n"),
	GOOD("SignHeaders From,Subject, Date To\nOversignHeaders from\n"),
	GOOD("RelayAuthUsers alma alma-eu alma@example.edu\n"),
	GOOD("SyslogFacility local3\nOnBadFrom Reject\n"),
	GOOD("Domain a.example, #b.example\n"),	/* "#" after a space: a comment */

	/* Names. */
	BAD("Sokcet inet:1@h\n", NAME ":1: unknown option \"Sokcet\" (did you mean Socket?)"),
	BAD("\n\nFrobnicate yes\n", NAME ":3: unknown option \"Frobnicate\""),
	BAD("Relaynetwork 127.0.0.1\n",
	    NAME ":1: unknown option \"Relaynetwork\" (did you mean RelayNetworks?)"),
	BAD("Socket=inet:1@h\n", NAME ":1: unknown option \"Socket=inet:1@h\""),
	BAD("Socket inet:1@h\nSocket inet:2@h\n",
	    NAME ":2: duplicate option Socket (first set at line 1)"),
	BAD("LogLevel info\n# x\nloglevel debug\n",
	    NAME ":3: duplicate option LogLevel (first set at line 1)"),

	/* Counts. */
	BAD("Socket\n", NAME ":1: Socket needs a value"),
	BAD("Domain   # only a comment\n", NAME ":1: Domain needs a value"),
	BAD("Domain ,,\n", NAME ":1: Domain needs a value"),
	BAD("Socket inet:1@h inet:2@h\n", NAME ":1: Socket takes one value, not 2"),
	BAD("Syslog yes no\n", NAME ":1: Syslog takes one value, not 2"),
	BAD("PidFile /a /b\n", NAME ":1: PidFile takes one value, not 2"),

	/* Types. */
	BAD("Background maybe\n", NAME ":1: Background: \"maybe\" is not yes or no"),
	BAD("SignatureTTL 12x\n", NAME ":1: SignatureTTL: \"12x\" is not a decimal number"),
	BAD("SignatureTTL -1\n", NAME ":1: SignatureTTL: \"-1\" is not a decimal number"),
	BAD("SignatureTTL 315360001\n",
	    NAME ":1: SignatureTTL: \"315360001\" is out of range (0 to 315360000)"),
	BAD("SignatureTTL 99999999999999999999999\n", NAME ":1: SignatureTTL: \"9999"),
	BAD("Canonicalization fast\n",
	    NAME ":1: Canonicalization: \"fast\" is not one of simple, relaxed, simple/simple"),
	BAD("OnBadFrom bounce\n", NAME ":1: OnBadFrom: \"bounce\" is not one of tag, reject"),
	BAD("SyslogFacility kern\n", NAME ":1: SyslogFacility: \"kern\" is not one of mail"),
	BAD("LogLevel crit\n", NAME ":1: LogLevel: \"crit\" is not one of err, warning"),
	BAD("SignatureAlgorithm rsa-sha1\n",
	    NAME ":1: SignatureAlgorithm: \"rsa-sha1\" is not one of rsa-sha256, ed25519-sha256"),
	BAD("SignatureAlgorithm rsa-sha256,rsa-sha256\n",
	    NAME ":1: SignatureAlgorithm lists \"rsa-sha256\" twice"),

	/* Networks (the reason is lib/cidr's). */
	BAD("RelayNetworks 127.0.0.0/8 192.0.2.1/24\n", NAME ":1: 192.0.2.1/24: host bits set"),
	BAD("RelayNetworks 2001:db8::1/32\n", NAME ":1: 2001:db8::1/32: host bits set"),
	BAD("RelayNetworks spf-na.exlibrisgroup.com\n", NAME ":1: spf-na.exlibrisgroup.com: "),

	/* Socket. */
	BAD("Socket 8891\n", NAME ":1: Socket \"8891\": expected inet:PORT@HOST"),
	BAD("Socket tcp:8891@127.0.0.1\n", NAME ":1: Socket \"tcp:8891@127.0.0.1\": expected"),
	BAD("Socket inet:8891\n", NAME ":1: Socket \"inet:8891\": missing @HOST"),
	BAD("Socket inet:0@127.0.0.1\n", ":1: Socket \"inet:0@127.0.0.1\": the port must be"),
	BAD("Socket inet:65536@127.0.0.1\n", ":1: Socket \"inet:65536@127.0.0.1\": the port"),
	BAD("Socket inet:milter@127.0.0.1\n", ":1: Socket \"inet:milter@127.0.0.1\": the port"),
	BAD("Socket inet:8891@\n", NAME ":1: Socket \"inet:8891@\": HOST is not"),
	BAD("Socket inet:8891@::1\n", NAME ":1: Socket \"inet:8891@::1\": HOST is not an IPv4"),
	BAD("Socket inet6:8891@[::1]\n", ":1: Socket \"inet6:8891@[::1]\": HOST is not an IPv6"),
	BAD("Socket unix:relaysign.sock\n",
	    NAME ":1: Socket \"unix:relaysign.sock\": the socket path must be absolute"),

	/* Paths. */
	BAD("PidFile run/relaysign.pid\n",
	    NAME ":1: PidFile: \"run/relaysign.pid\" is not an absolute path"),
	BAD("KeyTable refile:keytable\n", NAME ":1: KeyTable: \"refile:keytable\" is not an"),
	BAD("SigningTable signingtable\n", NAME ":1: SigningTable: \"signingtable\" is not an"),
	BAD("PidFile file:/run/x.pid\n", NAME ":1: PidFile: \"file:/run/x.pid\" is not an"),
	BAD("KeyFile /a.key relative.key\n",
	    NAME ":1: KeyFile: \"relative.key\" is not an absolute path"),
	BAD("KeyFile /a.key /a.key\n", NAME ":1: KeyFile lists \"/a.key\" twice"),

	/* Bytes. */
	BAD("Socket inet:1@h\nDomain a.example\0.org\n", NAME ":2: NUL byte in line"),
	BAD("Socket\x01 inet:1@h\n", NAME ":1: control character 0x01 in line"),
	BAD("Domain a.example\rb.example\n", NAME ":1: control character 0x0d in line"),
	BAD("Frob\x1b[31m yes\n", NAME ":1: control character 0x1b"),
	BAD("Fr\xc3\xb6" "b yes\n", NAME ":1: unknown option \"Fr\\xc3\\xb6b\""),

	/* Headers. */
	BAD("SignHeaders To Subject\n", NAME ":1: SignHeaders must include From (RFC 6376 5.4)"),
	BAD("SignHeaders From Received\n",
	    NAME ":1: SignHeaders: Received changes in transit and must not be signed"),
	BAD("SignHeaders From dkim-signature\n", NAME ":1: SignHeaders: dkim-signature changes"),
	BAD("SignHeaders From Authentication-Results\n", ":1: SignHeaders: Authentication-Res"),
	BAD("SignHeaders From Return-Path\n", NAME ":1: SignHeaders: Return-Path changes"),
	BAD("SignHeaders From Foo:Bar\n",
	    NAME ":1: SignHeaders: \"Foo:Bar\" is not a header field name (RFC 5322 3.6.8)"),
	BAD("SignHeaders From from\n", NAME ":1: SignHeaders lists \"from\" twice"),
	BAD("SignHeaders From To\nOversignHeaders From Subject\n",
	    NAME ":2: OversignHeaders names subject, which SignHeaders does not"),
	BAD("# comment\nSignHeaders From To Date\n",
	    NAME ":2: OversignHeaders (by default) names subject, which SignHeaders does not"),

	/* Names of things. */
	BAD("Domain example.edu *.example.edu\n",
	    NAME ":1: Domain \"*.example.edu\" has a wildcard"),
	BAD("Domain localhost\n", NAME ":1: Domain \"localhost\" is not a fully qualified domain"),
	BAD("Domain b\xc3\xbc" "cher.example\n",
	    NAME ":1: Domain \"b\\xc3\\xbccher.example\" is not ASCII"),
	BAD("Domain -x.example.edu\n",
	    NAME ":1: Domain \"-x.example.edu\" has a label that starts"),
	BAD("Domain example..edu\n", NAME ":1: Domain \"example..edu\" has a label that is empty"),
	BAD("Domain example.edu.\n", NAME ":1: Domain \"example.edu.\" has a label that is empty"),
	BAD("Domain a.example A.EXAMPLE\n", NAME ":1: Domain lists \"A.EXAMPLE\" twice"),
	BAD("Selector s_1\n", NAME ":1: Selector \"s_1\" has a character other than"),
	BAD("AuthservID mx@example.edu\n",
	    NAME ":1: AuthservID \"mx@example.edu\" is not an RFC 8601 authserv-id"),
	BAD("UserID root:wheel:extra\n",
	    NAME ":1: UserID \"root:wheel:extra\": expected USER or USER:GROUP"),
	BAD("UserID :mail\n", NAME ":1: UserID \":mail\": expected USER or USER:GROUP"),
	BAD("UserID -r\n", NAME ":1: UserID \"-r\": expected"),
};

/* test_parse_table: every row through conf_parse. */
static void
test_parse_table(void)
{
	size_t i;

	for (i = 0; i < sizeof(parse_cases) / sizeof(parse_cases[0]); i++) {
		const struct parse_case *tc = &parse_cases[i];
		struct conf *conf = (struct conf *)1;
		char err[1024] = "";
		int rc = conf_parse(NAME, tc->text, tc->len, &conf, err, sizeof(err));

		if (tc->expect == NULL)
			ok(rc == 0 && conf != NULL, "parse row %zu parses%s%s", i,
			    rc == 0 ? "" : ": ", rc == 0 ? "" : err);
		else
			ok(rc == -1 && conf == NULL && strstr(err, tc->expect) != NULL,
			    "parse row %zu fails with \"%s\" (got %s\"%s\")", i, tc->expect,
			    rc == 0 ? "success, " : "", err);
		conf_free(rc == 0 ? conf : NULL);
	}
}

/* test_limits: the line and file size limits, made at run time. */
static void
test_limits(void)
{
	size_t len = CONF_FILE_MAX + 1;
	char *text = malloc(len + 16);
	struct conf *conf = NULL;
	char err[1024] = "";
	int rc;

	if (text == NULL)
		abort();
	/* A comment line exactly CONF_LINE_MAX bytes long is fine; one more is not. */
	memcpy(text, "Syslog no\n#", 11);
	memset(text + 11, 'x', CONF_LINE_MAX - 1);
	memcpy(text + 10 + CONF_LINE_MAX, "\r\n", 2);
	rc = conf_parse(NAME, text, 12 + CONF_LINE_MAX, &conf, err, sizeof(err));
	ok(rc == 0, "limits: a line of CONF_LINE_MAX bytes (and CR LF) parses: %s", err);
	conf_free(conf);
	text[10 + CONF_LINE_MAX] = 'x';
	rc = conf_parse(NAME, text, 11 + CONF_LINE_MAX, &conf, err, sizeof(err));
	ok(rc == -1 && strstr(err, NAME ":2: line too long (more than 4096 bytes)") != NULL,
	    "limits: a line of CONF_LINE_MAX + 1 bytes fails: %s", err);

	memset(text, '\n', len);
	rc = conf_parse(NAME, text, CONF_FILE_MAX, &conf, err, sizeof(err));
	ok(rc == 0, "limits: a file of CONF_FILE_MAX blank lines parses: %s", err);
	conf_free(conf);
	rc = conf_parse(NAME, text, len, &conf, err, sizeof(err));
	ok(rc == -1 && strstr(err, NAME ": file too large (1048577 bytes") != NULL,
	    "limits: a file of CONF_FILE_MAX + 1 bytes fails: %s", err);

	/* sun_path holds 108 bytes on Linux. */
	memcpy(text, "Socket unix:/", 13);
	memset(text + 13, 's', 200);
	text[213] = '\n';
	rc = conf_parse(NAME, text, 214, &conf, err, sizeof(err));
	ok(rc == -1 && strstr(err, ": the socket path is too long") != NULL,
	    "limits: a 200-byte socket path fails: %s", err);
	free(text);
}

/* strv_is: v holds exactly the space-separated words of want. */
static bool
strv_is(char *const *v, const char *want)
{
	char buf[1024], *w, *save = NULL;
	size_t i = 0;

	util_strlcpy(buf, want, sizeof(buf));
	for (w = strtok_r(buf, " ", &save); w != NULL; w = strtok_r(NULL, " ", &save))
		if (v == NULL || v[i] == NULL || strcmp(v[i++], w) != 0)
			return false;
	return v == NULL ? i == 0 : v[i] == NULL;
}

/* parse_ok: conf_parse that must succeed. */
static struct conf *
parse_ok(const char *what, const char *text)
{
	struct conf *conf = NULL;
	char err[1024] = "";

	if (!ok(conf_parse(NAME, text, strlen(text), &conf, err, sizeof(err)) == 0,
	    "%s: parses: %s", what, err))
		return NULL;
	return conf;
}

/* test_defaults: an empty file is the table's defaults. */
static void
test_defaults(void)
{
	char host[256] = "";
	struct conf *c;
	size_t i, n;

	(void)gethostname(host, sizeof(host) - 1);
	if ((c = parse_ok("defaults", "")) == NULL)
		return;
	ok(strcmp(c->path, NAME) == 0, "defaults: path is the name");
	ok(strcmp(c->socket, "inet:8891@127.0.0.1") == 0, "defaults: Socket");
	ok(strcmp(c->authserv_id, host) == 0, "defaults: AuthservID is the host name \"%s\" (%s)",
	    host, c->authserv_id);
	ok(c->relay_networks != NULL && cidr_set_count(c->relay_networks) == 0,
	    "defaults: RelayNetworks empty but not NULL");
	ok(c->relay_auth_users == NULL, "defaults: RelayAuthUsers none");
	ok(c->domains == NULL && c->selectors == NULL && c->key_files == NULL,
	    "defaults: no Domain, Selector, KeyFile");
	ok(c->keytable_path == NULL && c->signingtable_path == NULL,
	    "defaults: no KeyTable, SigningTable");
	ok(c->sign_algs == KEY_ALG_RSA_SHA256, "defaults: SignatureAlgorithm rsa-sha256");
	ok(c->sign.canon_header == SIGN_CANON_RELAXED && c->sign.canon_body == SIGN_CANON_RELAXED,
	    "defaults: Canonicalization relaxed/relaxed");
	ok(strv_is(c->sign.sign_headers, "from to cc subject date message-id reply-to "
	    "mime-version content-type content-transfer-encoding list-unsubscribe "
	    "list-unsubscribe-post"), "defaults: SignHeaders, lowercase");
	ok(strv_is(c->sign.oversign_headers, "from subject date to"),
	    "defaults: OversignHeaders, lowercase");
	ok(c->sign.expire == 0, "defaults: SignatureTTL 0");
	ok(c->on_bad_from == POLICY_BADFROM_TAG, "defaults: OnBadFrom tag");
	ok(c->user_id == NULL && c->pid_file == NULL, "defaults: no UserID, PidFile");
	ok(c->background && c->syslog, "defaults: Background and Syslog yes");
	ok(c->syslog_facility == LOG_MAIL, "defaults: SyslogFacility mail");
	ok(c->log_level == LOG_INFO, "defaults: LogLevel info");
	ok(c->rt.keys == NULL && c->rt.sign_lib == NULL, "defaults: no keys before runtime_build");
	(void)conf_options(&n);
	for (i = 0; i < n && c->lines[i] == 0; i++)
		continue;
	ok(i == n, "defaults: every line is 0");
	conf_free(c);
}

/* test_values: what a full file stores. */
static void
test_values(void)
{
	struct conf *c;

	c = parse_ok("values",
	    "# relaysign.conf\n"
	    "Socket   unix:/run/relaysign/milter.sock\n"
	    "authservid mx1.Example.EDU\n"
	    "RelayNetworks 192.0.2.0/24,2001:db8::/32\n"
	    "RelayAuthUsers alma, Alma-EU\n"
	    "Domain Library.Example.EDU lib.example.org\n"
	    "Selector alma2026 ed2026\n"
	    "KeyFile /etc/relaysign/rsa.key /etc/relaysign/ed.key\n"
	    "SignatureAlgorithm ed25519-sha256, rsa-sha256\n"
	    "Canonicalization simple/relaxed\n"
	    "SignHeaders FROM To Subject Date\n"
	    "OversignHeaders From SUBJECT\n"
	    "SignatureTTL 604800\n"
	    "OnBadFrom reject\n"
	    "UserID relaysign:mail\n"
	    "PidFile /run/relaysign.pid\n"
	    "Background no\n"
	    "Syslog false\n"
	    "SyslogFacility local5\n"
	    "LogLevel Debug\n");
	if (c == NULL)
		return;
	ok(strcmp(c->socket, "unix:/run/relaysign/milter.sock") == 0, "values: Socket");
	ok(strcmp(c->authserv_id, "mx1.Example.EDU") == 0, "values: AuthservID as written");
	ok(cidr_set_count(c->relay_networks) == 2 &&
	    cidr_set_match_text(c->relay_networks, "192.0.2.77") &&
	    cidr_set_match_text(c->relay_networks, "2001:db8::25") &&
	    !cidr_set_match_text(c->relay_networks, "198.51.100.1"), "values: RelayNetworks");
	ok(strv_is(c->relay_auth_users, "alma Alma-EU"), "values: RelayAuthUsers as written");
	ok(strv_is(c->domains, "library.example.edu lib.example.org"),
	    "values: Domain lowercased");
	ok(strv_is(c->selectors, "alma2026 ed2026"), "values: Selector");
	ok(strv_is(c->key_files, "/etc/relaysign/rsa.key /etc/relaysign/ed.key"),
	    "values: KeyFile");
	ok(c->sign_algs == (KEY_ALG_RSA_SHA256 | KEY_ALG_ED25519_SHA256),
	    "values: SignatureAlgorithm mask");
	ok(c->sign.canon_header == SIGN_CANON_SIMPLE && c->sign.canon_body == SIGN_CANON_RELAXED,
	    "values: Canonicalization simple/relaxed");
	ok(strv_is(c->sign.sign_headers, "from to subject date"), "values: SignHeaders lowercased");
	ok(strv_is(c->sign.oversign_headers, "from subject"), "values: OversignHeaders lowercased");
	ok(c->sign.expire == 604800, "values: SignatureTTL");
	ok(c->on_bad_from == POLICY_BADFROM_REJECT, "values: OnBadFrom reject");
	ok(strcmp(c->user_id, "relaysign:mail") == 0, "values: UserID");
	ok(strcmp(c->pid_file, "/run/relaysign.pid") == 0, "values: PidFile");
	ok(!c->background && !c->syslog, "values: Background, Syslog no");
	ok(c->syslog_facility == LOG_LOCAL5, "values: SyslogFacility local5");
	ok(c->log_level == LOG_DEBUG, "values: LogLevel debug");
	ok(c->lines[0] == 2 && c->lines[1] == 3, "values: lines record where options are set");
	conf_free(c);

	c = parse_ok("values, tables", "KeyTable refile:/etc/kt\nSigningTable /etc/st\n");
	if (c != NULL) {
		ok(strcmp(c->keytable_path, "refile:/etc/kt") == 0 &&
		    strcmp(c->signingtable_path, "/etc/st") == 0,
		    "values, tables: paths passed through with their prefix");
		conf_free(c);
	}
}

/* test_canon: every Canonicalization word, RFC 6376 3.5 c=. */
static void
test_canon(void)
{
	static const struct {
		const char *word;
		enum sign_canon h, b;
	} rows[] = {
		{ "simple", SIGN_CANON_SIMPLE, SIGN_CANON_SIMPLE },
		{ "relaxed", SIGN_CANON_RELAXED, SIGN_CANON_SIMPLE },
		{ "simple/simple", SIGN_CANON_SIMPLE, SIGN_CANON_SIMPLE },
		{ "simple/relaxed", SIGN_CANON_SIMPLE, SIGN_CANON_RELAXED },
		{ "relaxed/simple", SIGN_CANON_RELAXED, SIGN_CANON_SIMPLE },
		{ "Relaxed/Relaxed", SIGN_CANON_RELAXED, SIGN_CANON_RELAXED },
	};
	char text[128], err[512] = "";
	struct conf *c;
	size_t i;

	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		snprintf(text, sizeof(text), "Canonicalization %s\n", rows[i].word);
		if (conf_parse(NAME, text, strlen(text), &c, err, sizeof(err)) == -1) {
			ok(0, "canon row %zu (%s): %s", i, rows[i].word, err);
			continue;
		}
		ok(c->sign.canon_header == rows[i].h && c->sign.canon_body == rows[i].b,
		    "canon row %zu: %s", i, rows[i].word);
		conf_free(c);
	}
}

/* test_table: the option table itself. */
static void
test_table(void)
{
	const struct conf_option *o;
	size_t i, j, n, want;
	bool unique = true, words = true, fields = true;

	o = conf_options(&n);
	ok(n >= 21, "table: %zu options", n);
	for (i = 0; i < n; i++) {
		for (j = 0; j < i; j++)
			if (strcasecmp(o[i].name, o[j].name) == 0)
				unique = false;
		if (o[i].type == CONF_ENUM && o[i].words == NULL)
			words = false;
		/* A row without a setter stores by its type: its field must fit. */
		if (o[i].set != NULL)
			continue;
		switch (o[i].type) {
		case CONF_BOOL: want = sizeof(bool); break;
		case CONF_ENUM: want = o[i].values != NULL ? sizeof(int) : 0; break;
		case CONF_STRING: case CONF_PATH: want = sizeof(char *); break;
		case CONF_LIST: want = sizeof(char **); break;
		default: want = o[i].size == sizeof(unsigned) ? sizeof(unsigned) :
		    sizeof(unsigned long); break;
		}
		if (o[i].size != want || o[i].off + o[i].size > sizeof(struct conf)) {
			diag("%s: field of %zu bytes at %zu, %zu expected", o[i].name, o[i].size,
			    o[i].off, want);
			fields = false;
		}
	}
	ok(unique, "table: names unique regardless of case");
	ok(words, "table: every CONF_ENUM has its words");
	ok(fields, "table: every row without a setter has a field of its type's size");
}

/* test_builtin: the built-in text goes through the same parser. */
static void
test_builtin(void)
{
	const char *text = conf_builtin_text();
	struct conf *c = NULL;
	char err[1024] = "";

	if (!ok(conf_parse("(built-in)", text, strlen(text), &c, err, sizeof(err)) == 0,
	    "builtin: parses: %s", err))
		return;
	ok(strcmp(c->socket, "inet:8891@127.0.0.1") == 0, "builtin: Socket");
	ok(cidr_set_count(c->relay_networks) == 2 &&
	    cidr_set_match_text(c->relay_networks, "127.0.0.1") &&
	    cidr_set_match_text(c->relay_networks, "::1") &&
	    !cidr_set_match_text(c->relay_networks, "192.0.2.1"), "builtin: loopback relays only");
	ok(strv_is(c->domains, "library.example.edu") && strv_is(c->selectors, "demo") &&
	    strv_is(c->key_files, LOCALSTATEDIR "/lib/relaysign/demo.key"),
	    "builtin: demo domain, selector and key");
	conf_free(c);
}

/* Temporary files of the runtime_build tests. */
static char tmpdir[] = "/tmp/t_conf.XXXXXX";
static char paths[16][512];
static size_t npaths;

/* tmp_path: tmpdir/name, remembered for cleanup. */
static const char *
tmp_path(const char *name)
{
	char *p = paths[npaths++];

	snprintf(p, sizeof(paths[0]), "%s/%s", tmpdir, name);
	return p;
}

/* write_file: text into path with mode. */
static void
write_file(const char *path, const char *text, mode_t mode)
{
	FILE *fp = fopen(path, "w");

	if (fp == NULL || fputs(text, fp) == EOF || fclose(fp) != 0 || chmod(path, mode) != 0) {
		fprintf(stderr, "t_conf: %s: %s\n", path, strerror(errno));
		exit(1);
	}
}

/* write_key: a new key of type ("RSA" or "ED25519") at path with mode, or exit. */
static void
write_key(const char *path, const char *type, mode_t mode)
{
	if (keyfile_write(path, type, mode) != 0) {
		fprintf(stderr, "t_conf: cannot make key %s\n", path);
		exit(1);
	}
}

static const char *rsa_key, *ed_key, *open_key;

struct finish_case {
	const char *text;	/* %R: rsa_key, %E: ed_key, %O: open_key, %D: tmpdir */
	const char *expect;	/* NULL: finishes; else a substring of the error */
	const char *lookup;	/* a domain that must then have nkeys keys */
	size_t nkeys;
};

static const struct finish_case finish_cases[] = {
	{ "Domain library.example.edu\nSelector alma2026\nKeyFile %R\n", NULL,
	    "library.example.edu", 1 },
	{ "Domain library.example.edu, example.org\nSelector alma2026 ed2026\n"
	    "KeyFile %R %E\nSignatureAlgorithm rsa-sha256 ed25519-sha256\n", NULL,
	    "example.org", 2 },
	{ "Domain library.example.edu\nSelector ed2026\nKeyFile %E\n"
	    "SignatureAlgorithm ed25519-sha256\n", NULL, "library.example.edu", 1 },
	{ "Domain library.example.edu\nSelector s1 s2\nKeyFile %R %E\n",
	    NAME ":3: %E is an ed25519 key but SignatureAlgorithm does not list ed25519-sha256",
	    NULL, 0 },
	{ "Domain library.example.edu\nSelector s1\nKeyFile %E\n",
	    NAME ":3: %E is an ed25519 key but SignatureAlgorithm does not list ed25519-sha256",
	    NULL, 0 },
	{ "SignatureAlgorithm ed25519-sha256\nDomain library.example.edu\nSelector s1\n"
	    "KeyFile %R\n",
	    NAME ":4: %R is an rsa key but SignatureAlgorithm does not list rsa-sha256", NULL, 0 },
	{ "Domain library.example.edu\nSelector s1\nKeyFile %R\n"
	    "SignatureAlgorithm rsa-sha256 ed25519-sha256\n",
	    NAME ":4: SignatureAlgorithm lists ed25519-sha256 but no KeyFile is an ed25519 key",
	    NULL, 0 },
	{ "Domain library.example.edu\nSelector s1\nKeyFile %O\n",
	    NAME ":3: %O: readable by group or others", NULL, 0 },
	{ "Domain library.example.edu\nSelector s1\nKeyFile %D/missing.key\n",
	    NAME ":3: %D/missing.key: No such file", NULL, 0 },
	{ "Domain library.example.edu\nSelector s1\nKeyFile %R\n"
	    "KeyTable %D/keytable\nSigningTable %D/signingtable\n",
	    NAME ":4: Domain, Selector and KeyFile or KeyTable and SigningTable: set one, not both",
	    NULL, 0 },
	{ "Syslog no\n", NAME ": no signing keys: set Domain, Selector and KeyFile, or KeyTable "
	    "and SigningTable", NULL, 0 },
	{ "Selector s1\nDomain library.example.edu\n",
	    NAME ":1: Domain, Selector and KeyFile go together: KeyFile is not set", NULL, 0 },
	{ "KeyFile %R\n", NAME ":1: Domain, Selector and KeyFile go together: Domain is not set",
	    NULL, 0 },
	{ "Domain library.example.edu\nSelector s1 s2\nKeyFile %R\n",
	    NAME ":3: KeyFile names 1 file but Selector names 2", NULL, 0 },
	{ "Domain library.example.edu\nSelector a b c d e\nKeyFile %R %E /c /d /e\n",
	    NAME ":3: 5 keys, but a domain is signed with at most 4", NULL, 0 },
	{ "KeyTable %D/keytable\n",
	    NAME ":1: KeyTable and SigningTable go together: SigningTable is not set", NULL, 0 },
	{ "SigningTable %D/signingtable\n",
	    NAME ":1: KeyTable and SigningTable go together: KeyTable is not set", NULL, 0 },
	{ "KeyTable refile:%D/keytable\nSigningTable file:%D/signingtable\n"
	    "SignatureAlgorithm rsa-sha256,ed25519-sha256\n", NULL, "library.example.edu", 2 },
	{ "KeyTable %D/keytable\nSigningTable %D/signingtable\n",
	    NAME ":1: %E is an ed25519 key but SignatureAlgorithm does not list ed25519-sha256",
	    NULL, 0 },
	{ "KeyTable %D/keytable-rsa\nSigningTable %D/signingtable-rsa\n"
	    "SignatureAlgorithm ed25519-sha256 rsa-sha256\n",
	    NAME ":3: SignatureAlgorithm lists ed25519-sha256 but library.example.edu has no "
	    "ed25519 key", NULL, 0 },
	{ "KeyTable %D/keytable\nSigningTable %D/nonexistent\n"
	    "SignatureAlgorithm ed25519-sha256 rsa-sha256\n", NAME ":1: %D/nonexistent", NULL, 0 },
};

/* expand: %R %E %O %D in in, into out. */
static void
expand(const char *in, char *out, size_t size)
{
	size_t o = 0;

	for (; *in != '\0' && o + 1 < size; in++) {
		const char *rep = NULL;

		if (in[0] == '%' && in[1] != '\0') {
			rep = in[1] == 'R' ? rsa_key : in[1] == 'E' ? ed_key :
			    in[1] == 'O' ? open_key : in[1] == 'D' ? tmpdir : NULL;
		}
		if (rep != NULL) {
			o += util_strlcpy(out + o, rep, size - o);
			in++;
		} else
			out[o++] = *in;
		if (o >= size)
			o = size - 1;
	}
	out[o] = '\0';
}

/* test_finish: runtime_build with real keys. */
static void
test_finish(void)
{
	char text[2048], expect[2048], buf[2048], err[1024];
	const struct key *keys[KEYTABLE_MAX_PER_DOMAIN];
	const char *cpath;
	struct conf *c;
	size_t i, n;
	int rc;

	if (mkdtemp(tmpdir) == NULL) {
		fprintf(stderr, "t_conf: mkdtemp: %s\n", strerror(errno));
		exit(1);
	}
	rsa_key = tmp_path("rsa.key");
	ed_key = tmp_path("ed25519.key");
	open_key = tmp_path("open.key");
	write_key(rsa_key, "RSA", 0600);
	write_key(ed_key, "ED25519", 0600);
	write_key(open_key, "ED25519", 0644);
	snprintf(buf, sizeof(buf), "alma library.example.edu:alma2026:%s\n"
	    "# Ed25519 beside RSA, RFC 8463\n"
	    "alma-ed library.example.edu:ed2026:%s\n", rsa_key, ed_key);
	write_file(tmp_path("keytable"), buf, 0644);
	write_file(tmp_path("signingtable"),
	    "*@library.example.edu alma\nlibrary.example.edu alma-ed\n", 0644);
	snprintf(buf, sizeof(buf), "alma library.example.edu:alma2026:%s\n", rsa_key);
	write_file(tmp_path("keytable-rsa"), buf, 0644);
	write_file(tmp_path("signingtable-rsa"), "library.example.edu alma\n", 0644);

	for (i = 0; i < sizeof(finish_cases) / sizeof(finish_cases[0]); i++) {
		const struct finish_case *tc = &finish_cases[i];

		expand(tc->text, text, sizeof(text));
		err[0] = '\0';
		if (conf_parse(NAME, text, strlen(text), &c, err, sizeof(err)) == -1) {
			ok(0, "finish row %zu: does not parse: %s", i, err);
			continue;
		}
		rc = runtime_build(c, err, sizeof(err));
		if (tc->expect == NULL) {
			n = rc == 0 ? keytable_lookup(c->rt.keys, tc->lookup, keys,
			    KEYTABLE_MAX_PER_DOMAIN) : 0;
			ok(rc == 0 && c->rt.sign_lib != NULL && n == tc->nkeys,
			    "finish row %zu: finishes, %s has %zu keys (got %zu%s%s)", i,
			    tc->lookup, tc->nkeys, n, rc == 0 ? "" : ": ", rc == 0 ? "" : err);
		} else {
			expand(tc->expect, expect, sizeof(expect));
			ok(rc == -1 && strstr(err, expect) != NULL && c->rt.keys == NULL,
			    "finish row %zu: fails with \"%s\" (got %s\"%s\")", i, expect,
			    rc == 0 ? "success, " : "", err);
		}
		conf_free(c);
	}

	/* conf_load: the same from a file; errors name the file. */
	snprintf(buf, sizeof(buf), "Domain library.example.edu\nSelector s1\nKeyFile %s\n",
	    rsa_key);
	cpath = tmp_path("relaysign.conf");
	write_file(cpath, buf, 0644);
	rc = conf_load(cpath, &c, err, sizeof(err));
	ok(rc == 0 && c != NULL && keytable_nkeys(c->rt.keys) == 1 && strcmp(c->path, cpath) == 0,
	    "conf_load: loads a file%s%s", rc == 0 ? "" : ": ", rc == 0 ? "" : err);
	if (rc == 0)
		conf_free(c);
	snprintf(buf, sizeof(buf), "%s/nonexistent.conf", tmpdir);
	ok(conf_load(buf, &c, err, sizeof(err)) == -1 && c == NULL &&
	    strncmp(err, buf, strlen(buf)) == 0 && strstr(err, ": No such file") != NULL,
	    "conf_load: a missing file is named: %s", err);
	ok(conf_load(tmpdir, &c, err, sizeof(err)) == -1 && strstr(err, "not a regular file"),
	    "conf_load: a directory is refused: %s", err);
	snprintf(buf, sizeof(buf), "Domain library.example.edu\nSelector s1\nKeyFile %s\n"
	    "Bogus 1\n", rsa_key);
	cpath = tmp_path("bad.conf");
	write_file(cpath, buf, 0644);
	snprintf(expect, sizeof(expect), "%s:4: unknown option \"Bogus\"", cpath);
	ok(conf_load(cpath, &c, err, sizeof(err)) == -1 && strcmp(err, expect) == 0,
	    "conf_load: parse errors are path:line: %s", err);

	/* The built-in configuration's key lives under LOCALSTATEDIR. */
	if (access(LOCALSTATEDIR "/lib/relaysign/demo.key", F_OK) != 0)
		ok(conf_load_builtin(&c, err, sizeof(err)) == -1 && c == NULL &&
		    strstr(err, "(built-in):") == err && strstr(err, "demo.key") != NULL,
		    "conf_load_builtin: without the demo key, the error names it: %s", err);
	else {
		int rc = conf_load_builtin(&c, err, sizeof(err));

		ok(rc == 0 || strstr(err, "demo.key") != NULL,
		    "conf_load_builtin: loads, or names the demo key: %s", rc == 0 ? "ok" : err);
		if (rc == 0)
			conf_free(c);
	}
	for (i = 0; i < npaths; i++)
		(void)unlink(paths[i]);
	(void)rmdir(tmpdir);
}

/*
 * The man page cross-check.  In the OPTIONS section, each entry of the
 * outermost list is ".It Cm Name Ar type ..."; its default is written
 * either as the line "Default:" followed by a line ".Ql value" (a
 * trailing " ." or " ," is punctuation), or as a line starting
 * "Default: none" for an option whose table default is "".
 */
struct man_opt {
	char name[64];
	char def[512];
	int ndefs;
};

/* man_unescape: the roff escapes "\&", "\-" and "\e" out of s, in place. */
static void
man_unescape(char *s)
{
	char *o = s;

	for (; *s != '\0'; s++) {
		if (s[0] == '\\' && s[1] == '&') {
			s++;
			continue;
		}
		if (s[0] == '\\' && s[1] == '-')
			s++;
		else if (s[0] == '\\' && s[1] == 'e') {
			*o++ = '\\';
			s++;
			continue;
		}
		*o++ = *s;
	}
	*o = '\0';
}

/* man_append: line and a newline onto buf, if it fits. */
static void
man_append(char *buf, size_t size, const char *line)
{
	if (strlen(buf) + strlen(line) + 2 < size) {
		strcat(buf, line);
		strcat(buf, "\n");
	}
}

/*
 * man_read: the OPTIONS entries of path; returns how many, or -1.  Also
 * the literal display after "The built-in configuration is:" into
 * builtin, and the first literal display of EXAMPLES into example.
 */
static int
man_read(const char *path, struct man_opt *v, size_t max, char *builtin, char *example,
    size_t blen)
{
	char line[4096], *display = NULL;
	bool in_options = false, in_examples = false, want_ql = false, builtin_next = false;
	int depth = 0, n = 0;
	FILE *fp;

	if ((fp = fopen(path, "r")) == NULL)
		return -1;
	builtin[0] = example[0] = '\0';
	while (fgets(line, sizeof(line), fp) != NULL) {
		line[strcspn(line, "\n")] = '\0';
		if (display != NULL) {
			if (strncmp(line, ".Ed", 3) == 0)
				display = NULL;
			else {
				man_unescape(line);
				man_append(display, blen, line);
			}
			continue;
		}
		if (strncmp(line, ".Bd -literal", 12) == 0 && builtin_next) {
			display = builtin;
			builtin_next = false;
			continue;
		}
		if (strncmp(line, ".Bd -literal", 12) == 0 && in_examples && example[0] == '\0') {
			display = example;
			continue;
		}
		if (strcmp(line, "The built-in configuration is:") == 0)
			builtin_next = true;
		if (strncmp(line, ".Sh ", 4) == 0) {
			in_options = strcmp(line, ".Sh OPTIONS") == 0;
			in_examples = strcmp(line, ".Sh EXAMPLES") == 0;
			continue;
		}
		if (!in_options)
			continue;
		if (strncmp(line, ".Bl ", 4) == 0)
			depth++;
		else if (strncmp(line, ".El", 3) == 0)
			depth--;
		else if (depth == 1 && strncmp(line, ".It Cm ", 7) == 0 && (size_t)n < max) {
			memset(&v[n], 0, sizeof(v[n]));
			util_strlcpy(v[n].name, line + 7, sizeof(v[n].name));
			v[n].name[strcspn(v[n].name, " ")] = '\0';
			n++;
		} else if (n > 0 && want_ql) {
			want_ql = false;
			if (strncmp(line, ".Ql ", 4) == 0) {
				size_t l;

				util_strlcpy(v[n - 1].def, line + 4, sizeof(v[n - 1].def));
				l = strlen(v[n - 1].def);
				if (l >= 2 && v[n - 1].def[l - 2] == ' ' &&
				    strchr(".,;:", v[n - 1].def[l - 1]) != NULL)
					v[n - 1].def[l - 2] = '\0';
				man_unescape(v[n - 1].def);
				v[n - 1].ndefs++;
			} else
				v[n - 1].ndefs += 100;	/* "Default:" without .Ql */
		} else if (n > 0 && strcmp(line, "Default:") == 0)
			want_ql = true;
		else if (n > 0 && strncmp(line, "Default: none", 13) == 0) {
			v[n - 1].def[0] = '\0';
			v[n - 1].ndefs++;
		}
	}
	fclose(fp);
	return n;
}

/* test_man: conf_options() and man/relaysign.conf.5 agree, name by name. */
static void
test_man(void)
{
	const char *top = getenv("top_srcdir");
	char path[1024], builtin[4096], example[4096], want[4096], err[1024] = "", *p;
	struct man_opt man[64];
	const struct conf_option *o;
	struct conf *c = NULL;
	size_t i, j, n;
	int nman;

	o = conf_options(&n);
	snprintf(path, sizeof(path), "%s/man/relaysign.conf.5", top != NULL ? top : ".");
	nman = man_read(path, man, sizeof(man) / sizeof(man[0]), builtin, example,
	    sizeof(builtin));
	if (!ok(nman > 0, "man: %s has OPTIONS entries", path))
		return;
	for (j = 0; j < (size_t)nman; j++) {
		for (i = 0; i < n && strcmp(o[i].name, man[j].name) != 0; i++)
			continue;
		ok(i < n, "man: %s (documented) is in conf_options()", man[j].name);
	}
	for (i = 0; i < n; i++) {
		for (j = 0; j < (size_t)nman && strcmp(o[i].name, man[j].name) != 0; j++)
			continue;
		if (!ok(j < (size_t)nman, "man: %s (conf_options) is documented", o[i].name))
			continue;
		ok(man[j].ndefs == 1 && strcmp(man[j].def, o[i].def) == 0,
		    "man: %s default \"%s\" is the table's \"%s\"%s", o[i].name, man[j].def,
		    o[i].def, man[j].ndefs == 1 ? "" : " (want exactly one Default: line)");
	}

	/* The built-in configuration, shown with LOCALSTATEDIR as /var. */
	util_strlcpy(want, "", sizeof(want));
	for (p = (char *)conf_builtin_text(); *p != '\0';) {
		if (strncmp(p, LOCALSTATEDIR, strlen(LOCALSTATEDIR)) == 0) {
			strcat(want, "/var");
			p += strlen(LOCALSTATEDIR);
		} else
			strncat(want, p++, 1);
	}
	ok(strcmp(builtin, want) == 0, "man: the built-in configuration is shown verbatim");

	/* EXAMPLES that work: the first example parses. */
	ok(example[0] != '\0' && conf_parse("EXAMPLES", example, strlen(example), &c, err,
	    sizeof(err)) == 0 && strv_is(c->domains, "library.example.edu") &&
	    c->sign_algs == (KEY_ALG_RSA_SHA256 | KEY_ALG_ED25519_SHA256),
	    "man: the first example parses%s%s", err[0] != '\0' ? ": " : "", err);
	conf_free(c);
}

int
main(void)
{
	test_parse_table();
	test_limits();
	test_defaults();
	test_values();
	test_canon();
	test_table();
	test_builtin();
	test_finish();
	test_man();
	return tap_done();
}
