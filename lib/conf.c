/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * conf.c -- relaysign.conf(5): the option table and the parser it drives.
 *
 * One static table names every option with its type, default and bounds.
 * The parser checks a line's shape against the table (how many words,
 * which type) and then hands the words to one setter per option, which
 * checks what only that option knows.  Defaults are text in the table and
 * go through the same setters, so a default can never be a value the
 * parser would refuse.  Nothing here logs: every error is "file:line:
 * reason" in the caller's buffer.
 */
#include <arpa/inet.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <syslog.h>
#include <unistd.h>

#include "conf.h"
#include "dnsname.h"
#include "file.h"
#include "util.h"

#ifndef LOCALSTATEDIR
#define LOCALSTATEDIR "/var"
#endif

/* Indexes into options[]; the order is the man page's. */
enum conf_opt {
	OPT_SOCKET,
	OPT_AUTHSERV_ID,
	OPT_RELAY_NETWORKS,
	OPT_RELAY_NETWORKS_WIDE,
	OPT_RELAY_AUTH_USERS,
	OPT_RELAY_BINDINGS,
	OPT_DOMAIN,
	OPT_SELECTOR,
	OPT_KEY_FILE,
	OPT_KEY_TABLE,
	OPT_SIGNING_TABLE,
	OPT_SIGNATURE_ALGORITHM,
	OPT_CANONICALIZATION,
	OPT_SIGN_HEADERS,
	OPT_OVERSIGN_HEADERS,
	OPT_SIGNATURE_TTL,
	OPT_ON_BAD_FROM,
	OPT_USER_ID,
	OPT_PID_FILE,
	OPT_UMASK,
	OPT_BACKGROUND,
	OPT_SYSLOG,
	OPT_SYSLOG_FACILITY,
	OPT_LOG_LEVEL,
	OPT_RELAY_SPF_NAMES,
	OPT_REQUIRE_SPF,
	OPT_DNS_TIMEOUT,
	OPT_SPF_CACHE_TTL,
	OPT_DNS_CACHE_SIZE,
	OPT_DNS_CACHE_MAX_TTL,
	OPT_ALIGNMENT,
	OPT_PUBLIC_SUFFIX_LIST,
	OPT_ORGANIZATIONAL_DOMAINS,
	OPT_DMARC_LOOKUP,
	OPT_RETURN_PATH,
	OPT_OUTBOUND_ADDRESSES,
	OPT_METRICS_SOCKET,
	OPT_COUNT
};

static const char *const alg_words[] = { "rsa-sha256", "ed25519-sha256", NULL };
static const unsigned alg_values[] = { KEY_ALG_RSA_SHA256, KEY_ALG_ED25519_SHA256 };

/* RFC 6376 3.5 c=: "header/body"; one word is the header's, body simple. */
static const char *const canon_words[] = {
	"simple", "relaxed", "simple/simple", "simple/relaxed", "relaxed/simple",
	"relaxed/relaxed", NULL
};
static const enum sign_canon canon_values[][2] = {
	{ SIGN_CANON_SIMPLE, SIGN_CANON_SIMPLE },
	{ SIGN_CANON_RELAXED, SIGN_CANON_SIMPLE },
	{ SIGN_CANON_SIMPLE, SIGN_CANON_SIMPLE },
	{ SIGN_CANON_SIMPLE, SIGN_CANON_RELAXED },
	{ SIGN_CANON_RELAXED, SIGN_CANON_SIMPLE },
	{ SIGN_CANON_RELAXED, SIGN_CANON_RELAXED }
};

static const char *const bad_from_words[] = { "tag", "reject", NULL };
static const enum policy_on_bad_from bad_from_values[] = {
	POLICY_BADFROM_TAG, POLICY_BADFROM_REJECT
};

static const char *const facility_words[] = {
	"mail", "daemon", "user", "local0", "local1", "local2", "local3",
	"local4", "local5", "local6", "local7", NULL
};
static const int facility_values[] = {
	LOG_MAIL, LOG_DAEMON, LOG_USER, LOG_LOCAL0, LOG_LOCAL1, LOG_LOCAL2,
	LOG_LOCAL3, LOG_LOCAL4, LOG_LOCAL5, LOG_LOCAL6, LOG_LOCAL7
};

static const char *const level_words[] = {
	"err", "warning", "notice", "info", "debug", NULL
};
static const int level_values[] = {
	LOG_ERR, LOG_WARNING, LOG_NOTICE, LOG_INFO, LOG_DEBUG
};

static const char *const align_words[] = { "relaxed", "strict", NULL };
static const enum align_mode align_values[] = { ALIGN_RELAXED, ALIGN_STRICT };

/*
 * DNSTimeout bounds each SPF check and each DMARC look-up.  A message may
 * need a vendor SPF check, its own SPF check and two DMARC look-ups: at the
 * default of 5 s that stays under Postfix's milter_command_timeout (30 s).
 */
#define CONF_DNS_TIMEOUT_MAX 120UL
#define CONF_SPF_CACHE_MAX 86400UL

/* Ten years: an x= further out than that is a mistake, not a policy. */
#define CONF_TTL_MAX 315360000UL

static const struct conf_option options[OPT_COUNT] = {
	[OPT_SOCKET] = { "Socket", CONF_STRING, "inet:8891@127.0.0.1", 0, 0, NULL },
	[OPT_AUTHSERV_ID] = { "AuthservID", CONF_STRING, "", 0, 0, NULL },
	[OPT_RELAY_NETWORKS] = { "RelayNetworks", CONF_LIST, "", 0, 0, NULL },
	[OPT_RELAY_NETWORKS_WIDE] = { "RelayNetworksWide", CONF_BOOL, "no", 0, 0, NULL },
	[OPT_RELAY_AUTH_USERS] = { "RelayAuthUsers", CONF_LIST, "", 0, 0, NULL },
	[OPT_RELAY_BINDINGS] = { "RelayBindings", CONF_PATH, "", 0, 0, NULL },
	[OPT_DOMAIN] = { "Domain", CONF_LIST, "", 0, 0, NULL },
	[OPT_SELECTOR] = { "Selector", CONF_LIST, "", 0, 0, NULL },
	[OPT_KEY_FILE] = { "KeyFile", CONF_LIST, "", 0, 0, NULL },
	[OPT_KEY_TABLE] = { "KeyTable", CONF_PATH, "", 0, 0, NULL },
	[OPT_SIGNING_TABLE] = { "SigningTable", CONF_PATH, "", 0, 0, NULL },
	[OPT_SIGNATURE_ALGORITHM] = { "SignatureAlgorithm", CONF_LIST, "rsa-sha256", 0, 0,
	    alg_words },
	[OPT_CANONICALIZATION] = { "Canonicalization", CONF_ENUM, "relaxed/relaxed", 0, 0,
	    canon_words },
	[OPT_SIGN_HEADERS] = { "SignHeaders", CONF_LIST,
	    "From To Cc Subject Date Message-ID Reply-To MIME-Version Content-Type "
	    "Content-Transfer-Encoding List-Unsubscribe List-Unsubscribe-Post", 0, 0, NULL },
	[OPT_OVERSIGN_HEADERS] = { "OversignHeaders", CONF_LIST, "From Subject Date To", 0, 0,
	    NULL },
	[OPT_SIGNATURE_TTL] = { "SignatureTTL", CONF_UINT, "0", 0, CONF_TTL_MAX, NULL },
	[OPT_ON_BAD_FROM] = { "OnBadFrom", CONF_ENUM, "tag", 0, 0, bad_from_words },
	[OPT_USER_ID] = { "UserID", CONF_STRING, "", 0, 0, NULL },
	[OPT_PID_FILE] = { "PidFile", CONF_PATH, "", 0, 0, NULL },
	[OPT_UMASK] = { "UMask", CONF_MODE, "007", 0, 0777, NULL },
	[OPT_BACKGROUND] = { "Background", CONF_BOOL, "yes", 0, 0, NULL },
	[OPT_SYSLOG] = { "Syslog", CONF_BOOL, "yes", 0, 0, NULL },
	[OPT_SYSLOG_FACILITY] = { "SyslogFacility", CONF_ENUM, "mail", 0, 0, facility_words },
	[OPT_LOG_LEVEL] = { "LogLevel", CONF_ENUM, "info", 0, 0, level_words },
	[OPT_RELAY_SPF_NAMES] = { "RelaySPFNames", CONF_LIST, "", 0, 0, NULL },
	[OPT_REQUIRE_SPF] = { "RequireSPF", CONF_BOOL, "no", 0, 0, NULL },
	[OPT_DNS_TIMEOUT] = { "DNSTimeout", CONF_UINT, "5", 1, CONF_DNS_TIMEOUT_MAX, NULL },
	[OPT_SPF_CACHE_TTL] = { "SPFCacheTTL", CONF_UINT, "300", 0, CONF_SPF_CACHE_MAX, NULL },
	[OPT_DNS_CACHE_SIZE] = { "DNSCacheSize", CONF_UINT, "4096", 0, SPF_DNS_CACHE_MAX, NULL },
	[OPT_DNS_CACHE_MAX_TTL] = { "DNSCacheMaxTTL", CONF_UINT, "3600", 1, CONF_SPF_CACHE_MAX,
	    NULL },
	[OPT_ALIGNMENT] = { "Alignment", CONF_ENUM, "relaxed", 0, 0, align_words },
	[OPT_PUBLIC_SUFFIX_LIST] = { "PublicSuffixList", CONF_PATH, "", 0, 0, NULL },
	[OPT_ORGANIZATIONAL_DOMAINS] = { "OrganizationalDomains", CONF_LIST, "", 0, 0, NULL },
	[OPT_DMARC_LOOKUP] = { "DMARCLookup", CONF_BOOL, "no", 0, 0, NULL },
	[OPT_RETURN_PATH] = { "ReturnPath", CONF_LIST, "", 0, 0, NULL },
	[OPT_OUTBOUND_ADDRESSES] = { "OutboundAddresses", CONF_LIST, "", 0, 0, NULL },
	[OPT_METRICS_SOCKET] = { "MetricsSocket", CONF_STRING, "", 0, 0, NULL }
};

/*
 * Header fields that change in transit: signing them breaks the signature
 * at the next hop (RFC 6376 5.4.1 lists Received and Return-Path among the
 * fields a signer should not sign).
 */
static const char *const unsignable_headers[] = {
	"dkim-signature", "authentication-results", "received", "return-path", NULL
};

static const char builtin_text[] =
    "# relaysign built-in configuration: used when no -c option is given.\n"
    "Socket inet:8891@127.0.0.1\n"
    "RelayNetworks 127.0.0.0/8 ::1/128\n"
    "Domain library.example.edu\n"
    "Selector demo\n"
    "KeyFile " LOCALSTATEDIR "/lib/relaysign/demo.key\n";

/* Most words one line can hold: one byte and one separator each. */
#define CONF_MAX_WORDS (CONF_LINE_MAX / 2 + 1)
/* Longest AuthservID, UserID, user or group name we take. */
#define CONF_ID_MAX 255
#define CONF_USER_MAX 32
/* Room for an error detail before "file:line: " is added. */
#define CONF_MSG_MAX 512
/* Room for a quoted, escaped word in a message. */
#define CONF_QUOTE_MAX 96

/* State of one conf_parse. */
struct parse {
	const char *name;
	unsigned line;		/* 0 while the defaults are applied */
	struct conf *conf;
	char *err;
	size_t errlen;
};

/* conf_options: the option table. */
const struct conf_option *
conf_options(size_t *n_r)
{
	*n_r = OPT_COUNT;
	return options;
}

/* conf_builtin_text: the built-in configuration. */
const char *
conf_builtin_text(void)
{
	return builtin_text;
}

/* parse_err: "name:line: reason" (or "name: reason" for a default); returns -1. */
static int UTIL_PRINTF(2, 3)
parse_err(const struct parse *p, const char *fmt, ...)
{
	char msg[CONF_MSG_MAX];
	va_list ap;

	va_start(ap, fmt);
	(void)vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (p->line > 0)
		return util_seterr(p->err, p->errlen, "%s:%u: %s", p->name, p->line, msg);
	return util_seterr(p->err, p->errlen, "%s: %s", p->name, msg);
}

/*
 * quote: s in double quotes for a message, bytes outside printable ASCII
 * as \xHH and long words cut short, so a hostile file cannot put control
 * characters into a log line.  Returns buf.
 */
static const char *
quote(char *buf, size_t size, const char *s)
{
	size_t o = 0;

	buf[o++] = '"';
	for (; *s != '\0' && o + 8 < size; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\') {
			buf[o++] = '\\';
			buf[o++] = (char)c;
		} else if (c < 0x20 || c >= 0x7f) {
			o += (size_t)snprintf(buf + o, size - o, "\\x%02x", c);
		} else
			buf[o++] = (char)c;
	}
	if (*s != '\0') {
		memcpy(buf + o, "...", 3);
		o += 3;
	}
	buf[o++] = '"';
	buf[o] = '\0';
	return buf;
}

/* word_index: index of w in words (ASCII case-insensitive), or -1. */
static int
word_index(const char *const *words, const char *w)
{
	int i;

	for (i = 0; words[i] != NULL; i++)
		if (strcasecmp(words[i], w) == 0)
			return i;
	return -1;
}

/* word_list: words joined with ", " into buf, for messages. */
static const char *
word_list(char *buf, size_t size, const char *const *words)
{
	size_t i, o = 0;

	buf[0] = '\0';
	for (i = 0; words[i] != NULL && o < size; i++)
		o += (size_t)snprintf(buf + o, size - o, "%s%s", i > 0 ? ", " : "", words[i]);
	return buf;
}

/* edit_distance: optimal string alignment distance of two short lowercase words. */
static size_t
edit_distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b), i, j;
	size_t d[33][33];

	if (la > 32 || lb > 32)
		return SIZE_MAX;
	for (i = 0; i <= la; i++)
		d[i][0] = i;
	for (j = 0; j <= lb; j++)
		d[0][j] = j;
	for (i = 1; i <= la; i++)
		for (j = 1; j <= lb; j++) {
			size_t cost = tolower((unsigned char)a[i - 1]) !=
			    tolower((unsigned char)b[j - 1]);
			size_t v = d[i - 1][j] + 1;

			if (d[i][j - 1] + 1 < v)
				v = d[i][j - 1] + 1;
			if (d[i - 1][j - 1] + cost < v)
				v = d[i - 1][j - 1] + cost;
			if (i > 1 && j > 1 &&
			    tolower((unsigned char)a[i - 1]) == tolower((unsigned char)b[j - 2]) &&
			    tolower((unsigned char)a[i - 2]) == tolower((unsigned char)b[j - 1]) &&
			    d[i - 2][j - 2] + 1 < v)
				v = d[i - 2][j - 2] + 1;
			d[i][j] = v;
		}
	return d[la][lb];
}

/* suggest: the option name one typo (two for long names) away from w, or NULL. */
static const char *
suggest(const char *w)
{
	const char *best = NULL;
	size_t i, bestd = SIZE_MAX, limit = strlen(w) >= 8 ? 2 : 1;

	for (i = 0; i < OPT_COUNT; i++) {
		size_t d = edit_distance(w, options[i].name);

		if (d <= limit && d < bestd) {
			bestd = d;
			best = options[i].name;
		}
	}
	return best;
}


/* is_token: RFC 2045 5.1 token, the form of an RFC 8601 2.5 authserv-id here. */
static bool
is_token(const char *s)
{
	if (*s == '\0' || strlen(s) > CONF_ID_MAX)
		return false;
	for (; *s != '\0'; s++) {
		unsigned char c = (unsigned char)*s;

		if (c <= 0x20 || c >= 0x7f || strchr("()<>@,;:\\\"/[]?=", c) != NULL)
			return false;
	}
	return true;
}

/* is_field_name: RFC 5322 3.6.8 field-name = 1*ftext (printable ASCII but ':'). */
static bool
is_field_name(const char *s)
{
	if (*s == '\0')
		return false;
	for (; *s != '\0'; s++)
		if ((unsigned char)*s <= 0x20 || (unsigned char)*s >= 0x7f || *s == ':')
			return false;
	return true;
}

/* is_user_name: a portable user or group name (POSIX 3.437), n bytes of s. */
static bool
is_user_name(const char *s, size_t n)
{
	size_t i;

	if (n == 0 || n > CONF_USER_MAX || s[0] == '-')
		return false;
	for (i = 0; i < n; i++)
		if (!isalnum((unsigned char)s[i]) && strchr("._-", s[i]) == NULL)
			return false;
	return true;
}

/* is_host: an address of family af (without brackets) or a host name. */
static bool
is_host(int af, const char *s)
{
	unsigned char addr[sizeof(struct in6_addr)];
	const char *why;

	if (inet_pton(af, s, addr) == 1)
		return true;
	return dnsname_ok(s, 1, &why);
}

/*
 * check_socket: the libmilter smfi_setconn(3) forms we accept: inet:PORT@HOST,
 * inet6:PORT@HOST, unix:/PATH, local:/PATH.  A missing @HOST would listen
 * on every interface: say so explicitly with inet:8891@0.0.0.0.
 */
static bool
check_socket(const char *s, const char **why_r)
{
	struct sockaddr_un sun;
	const char *p, *at;
	unsigned long port = 0;
	int af;

	if (strncmp(s, "unix:", 5) == 0 || strncmp(s, "local:", 6) == 0) {
		p = strchr(s, ':') + 1;
		if (*p != '/') {
			*why_r = "the socket path must be absolute";
			return false;
		}
		if (strlen(p) >= sizeof(sun.sun_path)) {
			*why_r = "the socket path is too long for a UNIX domain socket";
			return false;
		}
		return true;
	}
	if (strncmp(s, "inet:", 5) == 0) {
		af = AF_INET;
		p = s + 5;
	} else if (strncmp(s, "inet6:", 6) == 0) {
		af = AF_INET6;
		p = s + 6;
	} else {
		*why_r = "expected inet:PORT@HOST, inet6:PORT@HOST, unix:/PATH or local:/PATH";
		return false;
	}
	if ((at = strchr(p, '@')) == NULL) {
		*why_r = "missing @HOST (use @0.0.0.0 or @:: to listen on every address)";
		return false;
	}
	if (at == p || at - p > 5 || strspn(p, "0123456789") != (size_t)(at - p)) {
		*why_r = "the port must be a number from 1 to 65535";
		return false;
	}
	for (; p < at; p++)
		port = port * 10 + (unsigned long)(*p - '0');
	if (port < 1 || port > 65535) {
		*why_r = "the port must be a number from 1 to 65535";
		return false;
	}
	if (!is_host(af, at + 1)) {
		*why_r = af == AF_INET ? "HOST is not an IPv4 address or a host name" :
		    "HOST is not an IPv6 address (without brackets) or a host name";
		return false;
	}
	return true;
}

/* table_path: a KeyTable or SigningTable value without its "refile:"/"file:" prefix. */
static const char *
table_path(const char *s)
{
	if (strncmp(s, "refile:", 7) == 0)
		return s + 7;
	if (strncmp(s, "file:", 5) == 0)
		return s + 5;
	return s;
}

/* parse_bool: yes/no, true/false, 1/0, any case. */
static int
parse_bool(const char *w, bool *b_r)
{
	static const char *const yes[] = { "yes", "true", "1", NULL };
	static const char *const no[] = { "no", "false", "0", NULL };

	if (word_index(yes, w) >= 0)
		*b_r = true;
	else if (word_index(no, w) >= 0)
		*b_r = false;
	else
		return -1;
	return 0;
}

/* set_strdup: replaces *dst with a copy of s. */
static int
set_strdup(const struct parse *p, char **dst, const char *s)
{
	char *copy;

	if ((copy = strdup(s)) == NULL)
		return parse_err(p, "out of memory");
	free(*dst);
	*dst = copy;
	return 0;
}

/* push_list: the words w[0..n) as a new strv *dst, lowercased (in w) when asked. */
static int
push_list(const struct parse *p, char ***dst, char **w, size_t n, bool lower)
{
	char **v = NULL;
	size_t i;
	char *s;

	for (i = 0; i < n; i++) {
		for (s = w[i]; lower && *s != '\0'; s++)
			*s = (char)tolower((unsigned char)*s);
		if (strv_push(&v, w[i]) == -1) {
			strv_free(v);
			return parse_err(p, "out of memory");
		}
	}
	strv_free(*dst);
	*dst = v;
	return 0;
}

/* set_headers: SignHeaders or OversignHeaders, checked and lowercased. */
static int
set_headers(const struct parse *p, enum conf_opt opt, char **w, size_t n)
{
	struct conf *c = p->conf;
	char q[CONF_QUOTE_MAX];
	char **v = NULL;
	size_t i;

	for (i = 0; i < n; i++) {
		if (!is_field_name(w[i]))
			return parse_err(p, "%s: %s is not a header field name (RFC 5322 3.6.8)",
			    options[opt].name, quote(q, sizeof(q), w[i]));
		if (opt == OPT_SIGN_HEADERS && word_index(unsignable_headers, w[i]) >= 0)
			return parse_err(p, "%s: %s changes in transit and must not be signed",
			    options[opt].name, w[i]);
	}
	/* RFC 6376 5.4: the From header field MUST be signed. */
	if (opt == OPT_SIGN_HEADERS) {
		for (i = 0; i < n && strcasecmp(w[i], "from") != 0; i++)
			continue;
		if (i == n)
			return parse_err(p, "SignHeaders must include From (RFC 6376 5.4)");
	}
	if (push_list(p, &v, w, n, true) == -1)
		return -1;
	if (opt == OPT_SIGN_HEADERS) {
		strv_free((char **)c->sign.sign_headers);
		c->sign.sign_headers = v;
	} else {
		strv_free((char **)c->sign.oversign_headers);
		c->sign.oversign_headers = v;
	}
	return 0;
}

/* set_option: one option's words, checked against the table, then stored. */
static int
set_option(const struct parse *p, enum conf_opt opt, char **w, size_t n)
{
	const struct conf_option *o = &options[opt];
	struct conf *c = p->conf;
	char q[CONF_QUOTE_MAX], list[CONF_MSG_MAX / 2];
	const char *why = NULL;
	unsigned long u = 0;
	bool b = false;
	int k = -1;
	size_t i, j;

	if (n == 0)
		return parse_err(p, "%s needs a value", o->name);
	if (o->type != CONF_LIST && n > 1)
		return parse_err(p, "%s takes one value, not %zu", o->name, n);

	/* What the type alone decides. */
	switch (o->type) {
	case CONF_BOOL:
		if (parse_bool(w[0], &b) == -1)
			return parse_err(p, "%s: %s is not yes or no (or true/false, 1/0)",
			    o->name, quote(q, sizeof(q), w[0]));
		break;
	case CONF_UINT:
		if (w[0][0] == '\0' || strspn(w[0], "0123456789") != strlen(w[0]))
			return parse_err(p, "%s: %s is not a decimal number", o->name,
			    quote(q, sizeof(q), w[0]));
		for (i = 0; w[0][i] != '\0'; i++) {
			u = u * 10 + (unsigned long)(w[0][i] - '0');
			if (u > o->max)
				break;
		}
		if (u < o->min || u > o->max)
			return parse_err(p, "%s: %s is out of range (%lu to %lu)", o->name,
			    quote(q, sizeof(q), w[0]), o->min, o->max);
		break;
	case CONF_MODE:
		if (w[0][0] == '\0' || strlen(w[0]) > 4 ||
		    strspn(w[0], "01234567") != strlen(w[0]))
			return parse_err(p, "%s: %s is not an octal mode such as 007", o->name,
			    quote(q, sizeof(q), w[0]));
		u = strtoul(w[0], NULL, 8);
		if (u > o->max)
			return parse_err(p, "%s: %s is out of range (0 to 0777)", o->name,
			    quote(q, sizeof(q), w[0]));
		break;
	case CONF_ENUM:
		if ((k = word_index(o->words, w[0])) < 0)
			return parse_err(p, "%s: %s is not one of %s", o->name,
			    quote(q, sizeof(q), w[0]), word_list(list, sizeof(list), o->words));
		break;
	case CONF_PATH:
		if (table_path(w[0])[0] != '/' ||
		    (opt != OPT_KEY_TABLE && opt != OPT_SIGNING_TABLE && w[0][0] != '/'))
			return parse_err(p, "%s: %s is not an absolute path", o->name,
			    quote(q, sizeof(q), w[0]));
		break;
	case CONF_LIST:
		for (i = 0; i < n; i++) {
			if (o->words != NULL && word_index(o->words, w[i]) < 0)
				return parse_err(p, "%s: %s is not one of %s", o->name,
				    quote(q, sizeof(q), w[i]),
				    word_list(list, sizeof(list), o->words));
			/* A word twice is a typo for another word, or a wasted signature. */
			for (j = 0; j < i; j++) {
				bool same = opt == OPT_RELAY_AUTH_USERS || opt == OPT_KEY_FILE ?
				    strcmp(w[i], w[j]) == 0 : strcasecmp(w[i], w[j]) == 0;

				if (same)
					return parse_err(p, "%s lists %s twice", o->name,
					    quote(q, sizeof(q), w[i]));
			}
		}
		break;
	case CONF_STRING:
		break;
	}

	/* What only the option knows. */
	switch (opt) {
	case OPT_SOCKET:
		if (!check_socket(w[0], &why))
			return parse_err(p, "Socket %s: %s", quote(q, sizeof(q), w[0]), why);
		return set_strdup(p, &c->socket, w[0]);
	case OPT_METRICS_SOCKET:
		if (!check_socket(w[0], &why))
			return parse_err(p, "MetricsSocket %s: %s", quote(q, sizeof(q), w[0]), why);
		/* An address, not a name: it is bound before DNS may be asked. */
		if (strncmp(w[0], "inet", 4) == 0) {
			const char *host = strchr(w[0], '@') + 1;
			unsigned char a[sizeof(struct in6_addr)];

			if (inet_pton(w[0][4] == '6' ? AF_INET6 : AF_INET, host, a) != 1)
				return parse_err(p, "MetricsSocket %s: %s is not an IP%s address "
				    "(give the address, e.g. 127.0.0.1, not a name)",
				    quote(q, sizeof(q), w[0]), host, w[0][4] == '6' ? "v6" : "v4");
		}
		return set_strdup(p, &c->metrics_socket, w[0]);
	case OPT_AUTHSERV_ID:
		if (!is_token(w[0]))
			return parse_err(p, "AuthservID %s is not an RFC 8601 authserv-id: one "
			    "token of printable ASCII without ()<>@,;:\\\"/[]?=",
			    quote(q, sizeof(q), w[0]));
		return set_strdup(p, &c->authserv_id, w[0]);
	case OPT_RELAY_NETWORKS:
		for (i = 0; i < n; i++) {
			char why_buf[CONF_MSG_MAX / 2];

			if (cidr_set_add(c->relay_networks, w[i], why_buf, sizeof(why_buf)) == -1)
				return parse_err(p, "%s", why_buf);
		}
		return 0;
	case OPT_RELAY_AUTH_USERS:
		for (i = 0; i < n; i++)
			if (strlen(w[i]) > CONF_ID_MAX)
				return parse_err(p, "RelayAuthUsers: %s is too long",
				    quote(q, sizeof(q), w[i]));
		return push_list(p, &c->relay_auth_users, w, n, false);
	case OPT_DOMAIN:
		for (i = 0; i < n; i++)
			if (!dnsname_ok(w[i], 2, &why))
				return parse_err(p, "Domain %s %s", quote(q, sizeof(q), w[i]), why);
		return push_list(p, &c->domains, w, n, true);
	case OPT_SELECTOR:
		/* RFC 6376 3.1: selector = sub-domain *("." sub-domain). */
		for (i = 0; i < n; i++)
			if (!dnsname_ok(w[i], 1, &why))
				return parse_err(p, "Selector %s %s", quote(q, sizeof(q), w[i]),
				    why);
		return push_list(p, &c->selectors, w, n, false);
	case OPT_KEY_FILE:
		for (i = 0; i < n; i++)
			if (w[i][0] != '/')
				return parse_err(p, "KeyFile: %s is not an absolute path",
				    quote(q, sizeof(q), w[i]));
		return push_list(p, &c->key_files, w, n, false);
	case OPT_KEY_TABLE:
		return set_strdup(p, &c->keytable_path, w[0]);
	case OPT_SIGNING_TABLE:
		return set_strdup(p, &c->signingtable_path, w[0]);
	case OPT_SIGNATURE_ALGORITHM:
		c->sign_algs = 0;
		for (i = 0; i < n; i++)
			c->sign_algs |= alg_values[word_index(alg_words, w[i])];
		return 0;
	case OPT_CANONICALIZATION:
		c->sign.canon_header = canon_values[k][0];
		c->sign.canon_body = canon_values[k][1];
		return 0;
	case OPT_SIGN_HEADERS:
	case OPT_OVERSIGN_HEADERS:
		return set_headers(p, opt, w, n);
	case OPT_SIGNATURE_TTL:
		c->sign.expire = u;
		return 0;
	case OPT_ON_BAD_FROM:
		c->on_bad_from = bad_from_values[k];
		return 0;
	case OPT_USER_ID: {
		const char *colon = strchr(w[0], ':');
		size_t ulen = colon != NULL ? (size_t)(colon - w[0]) : strlen(w[0]);

		if (!is_user_name(w[0], ulen) ||
		    (colon != NULL && !is_user_name(colon + 1, strlen(colon + 1))))
			return parse_err(p, "UserID %s: expected USER or USER:GROUP, names of "
			    "letters, digits, '.', '_' and '-'", quote(q, sizeof(q), w[0]));
		return set_strdup(p, &c->user_id, w[0]);
	}
	case OPT_PID_FILE:
		return set_strdup(p, &c->pid_file, w[0]);
	case OPT_UMASK:
		c->umask = (unsigned)u;
		return 0;
	case OPT_BACKGROUND:
		c->background = b;
		return 0;
	case OPT_SYSLOG:
		c->syslog = b;
		return 0;
	case OPT_SYSLOG_FACILITY:
		c->syslog_facility = facility_values[k];
		return 0;
	case OPT_LOG_LEVEL:
		c->log_level = level_values[k];
		return 0;
	case OPT_RELAY_SPF_NAMES:
	case OPT_ORGANIZATIONAL_DOMAINS:
		for (i = 0; i < n; i++)
			if (!dnsname_ok(w[i], 2, &why))
				return parse_err(p, "%s %s %s", o->name, quote(q, sizeof(q), w[i]),
				    why);
		return push_list(p, opt == OPT_RELAY_SPF_NAMES ? &c->relay_spf_names :
		    &c->org_domains, w, n, true);
	case OPT_REQUIRE_SPF:
		c->require_spf = b;
		return 0;
	case OPT_DNS_TIMEOUT:
		c->dns_timeout = (unsigned)u;
		return 0;
	case OPT_DNS_CACHE_SIZE:
		c->dns_cache_size = (size_t)u;
		return 0;
	case OPT_DNS_CACHE_MAX_TTL:
		c->dns_cache_max_ttl = (unsigned)u;
		return 0;
	case OPT_SPF_CACHE_TTL:
		c->spf_cache_ttl = (unsigned)u;
		return 0;
	case OPT_ALIGNMENT:
		c->alignment = align_values[k];
		return 0;
	case OPT_PUBLIC_SUFFIX_LIST:
		return set_strdup(p, &c->psl_file, w[0]);
	case OPT_RELAY_BINDINGS:
		return set_strdup(p, &c->bindings_path, w[0]);
	case OPT_RETURN_PATH:
		return push_list(p, &c->return_path_list, w, n, false);
	case OPT_OUTBOUND_ADDRESSES:
		for (i = 0; i < n; i++) {
			struct cidr_set *one = cidr_set_new();
			char why_buf[CONF_MSG_MAX / 2];
			int rc = one == NULL ? -1 : cidr_set_add(one, w[i], why_buf, sizeof(why_buf));

			cidr_set_free(one);
			if (rc != 0 || strchr(w[i], '/') != NULL)
				return parse_err(p, "OutboundAddresses %s: not an IPv4 or IPv6 "
				    "address", quote(q, sizeof(q), w[i]));
		}
		return push_list(p, &c->outbound_addresses, w, n, false);
	case OPT_DMARC_LOOKUP:
		c->dmarc_lookup = b;
		return 0;
	case OPT_RELAY_NETWORKS_WIDE:
		c->relay_networks_wide = b;
		return 0;
	case OPT_COUNT:
		break;
	}
	return parse_err(p, "internal error: option %d has no setter", (int)opt);
}

/*
 * split: cuts line into words in place.  Spaces and tabs separate words,
 * and with commas (CONF_LIST values) commas do too.  A "#" that starts
 * the line or follows a space or tab starts a comment.  Returns the
 * number of words, at most max.
 */
static size_t
split(char *line, bool commas, char **w, size_t max)
{
	const char *seps = commas ? " \t," : " \t";
	bool after_space = true;
	size_t n = 0;
	char *s = line;

	while (*s != '\0' && n < max) {
		if (*s == ' ' || *s == '\t' || (commas && *s == ',')) {
			after_space = *s != ',';
			*s++ = '\0';
			continue;
		}
		if (*s == '#' && after_space)
			break;
		w[n++] = s;
		s += strcspn(s, seps);
		after_space = false;
	}
	*s = '\0';
	return n;
}

/* parse_line: one line of the file, NUL-terminated and without its end. */
static int
parse_line(struct parse *p, char *line)
{
	char *w[CONF_MAX_WORDS];
	char q[CONF_QUOTE_MAX];
	const char *hint;
	char *name, *s;
	size_t n, i;
	int opt = -1;

	/* The name: the first word. */
	s = line + strspn(line, " \t");
	if (*s == '\0' || *s == '#')
		return 0;
	name = s;
	s += strcspn(s, " \t");
	if (*s != '\0')
		*s++ = '\0';
	for (i = 0; i < OPT_COUNT; i++)
		if (strcasecmp(name, options[i].name) == 0)
			opt = (int)i;
	if (opt < 0) {
		if ((hint = suggest(name)) != NULL)
			return parse_err(p, "unknown option %s (did you mean %s?)",
			    quote(q, sizeof(q), name), hint);
		return parse_err(p, "unknown option %s", quote(q, sizeof(q), name));
	}
	if (p->conf->lines[opt] != 0)
		return parse_err(p, "duplicate option %s (first set at line %u)",
		    options[opt].name, p->conf->lines[opt]);
	p->conf->lines[opt] = p->line;

	/* The values: the rest of the line, after a space or tab. */
	n = split(s, options[opt].type == CONF_LIST, w, CONF_MAX_WORDS);
	return set_option(p, (enum conf_opt)opt, w, n);
}

/* apply_defaults: every option not in the file gets its default. */
static int
apply_defaults(struct parse *p)
{
	char buf[CONF_LINE_MAX + 1], host[CONF_ID_MAX + 2];
	char *w[CONF_MAX_WORDS];
	char q[CONF_QUOTE_MAX];
	size_t i, n;

	p->line = 0;
	for (i = 0; i < OPT_COUNT; i++) {
		if (p->conf->lines[i] != 0 || options[i].def[0] == '\0')
			continue;
		util_strlcpy(buf, options[i].def, sizeof(buf));
		n = split(buf, options[i].type == CONF_LIST, w, CONF_MAX_WORDS);
		if (set_option(p, (enum conf_opt)i, w, n) == -1)
			return -1;
	}
	/* RFC 8601 2.5: the authserv-id is usually the host's name. */
	if (p->conf->authserv_id == NULL) {
		memset(host, 0, sizeof(host));
		if (gethostname(host, sizeof(host) - 1) == -1)
			return parse_err(p, "AuthservID is not set and gethostname: %s",
			    strerror(errno));
		if (!is_token(host))
			return parse_err(p, "AuthservID is not set and the host name %s is not "
			    "an authserv-id: set AuthservID", quote(q, sizeof(q), host));
		if (set_strdup(p, &p->conf->authserv_id, host) == -1)
			return -1;
	}
	return 0;
}

/* check_oversign: OversignHeaders only names fields SignHeaders signs. */
static int
check_oversign(struct parse *p)
{
	struct conf *c = p->conf;
	size_t i;

	for (i = 0; c->sign.oversign_headers[i] != NULL; i++) {
		if (strv_contains(c->sign.sign_headers, c->sign.oversign_headers[i]))
			continue;
		p->line = c->lines[OPT_OVERSIGN_HEADERS] != 0 ? c->lines[OPT_OVERSIGN_HEADERS] :
		    c->lines[OPT_SIGN_HEADERS];
		return parse_err(p, "OversignHeaders%s names %s, which SignHeaders does not",
		    c->lines[OPT_OVERSIGN_HEADERS] != 0 ? "" : " (by default)",
		    c->sign.oversign_headers[i]);
	}
	return 0;
}

/* conf_new: an empty configuration named name. */
static struct conf *
conf_new(const char *name)
{
	struct conf *c;

	if ((c = calloc(1, sizeof(*c))) == NULL)
		return NULL;
	if ((c->path = strdup(name)) == NULL ||
	    (c->lines = calloc(OPT_COUNT, sizeof(*c->lines))) == NULL ||
	    (c->relay_networks = cidr_set_new()) == NULL) {
		conf_free(c);
		return NULL;
	}
	return c;
}

/* conf_parse: text into a configuration, defaults applied. */
int
conf_parse(const char *name, const char *text, size_t len, struct conf **conf_r,
    char *err, size_t errlen)
{
	struct parse p = { name, 0, NULL, err, errlen };
	char line[CONF_LINE_MAX + 1];
	size_t pos = 0, i;

	*conf_r = NULL;
	if (len > CONF_FILE_MAX)
		return parse_err(&p, "file too large (%zu bytes, at most %d)", len,
		    CONF_FILE_MAX);
	if ((p.conf = conf_new(name)) == NULL)
		return parse_err(&p, "out of memory");
	/* A UTF-8 byte order mark is what some editors put first: skip it. */
	if (len >= 3 && memcmp(text, "\xef\xbb\xbf", 3) == 0)
		pos = 3;
	while (pos < len) {
		const char *s = text + pos;
		const char *nl = memchr(s, '\n', len - pos);
		size_t n = nl != NULL ? (size_t)(nl - s) : len - pos;

		p.line++;
		pos += n + (nl != NULL);
		if (n > 0 && s[n - 1] == '\r')
			n--;
		if (n > CONF_LINE_MAX) {
			parse_err(&p, "line too long (more than %d bytes)", CONF_LINE_MAX);
			goto fail;
		}
		for (i = 0; i < n; i++) {
			unsigned char c = (unsigned char)s[i];

			if (c == '\0') {
				parse_err(&p, "NUL byte in line");
				goto fail;
			}
			if ((c < 0x20 && c != '\t') || c == 0x7f) {
				parse_err(&p, "control character 0x%02x in line", c);
				goto fail;
			}
		}
		memcpy(line, s, n);
		line[n] = '\0';
		if (parse_line(&p, line) == -1)
			goto fail;
	}
	if (apply_defaults(&p) == -1 || check_oversign(&p) == -1)
		goto fail;
	*conf_r = p.conf;
	return 0;
fail:
	conf_free(p.conf);
	return -1;
}

/* finish_err: "path:line: reason" for the line that set opt, or "path: reason". */
static int UTIL_PRINTF(5, 6)
finish_err(const struct conf *c, enum conf_opt opt, char *err, size_t errlen,
    const char *fmt, ...)
{
	char msg[CONF_MSG_MAX];
	va_list ap;

	va_start(ap, fmt);
	(void)vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (opt != OPT_COUNT && c->lines[opt] != 0)
		return util_seterr(err, errlen, "%s:%u: %s", c->path, c->lines[opt], msg);
	return util_seterr(err, errlen, "%s: %s", c->path, msg);
}

/* alg_short: "rsa" or "ed25519", for messages. */
static const char *
alg_short(enum key_alg alg)
{
	return alg == KEY_ALG_ED25519_SHA256 ? "ed25519" : "rsa";
}

/* set_line: of two options (OPT_COUNT for none), the first the file sets. */
static enum conf_opt
set_line(const struct conf *c, enum conf_opt a, enum conf_opt b)
{
	unsigned la = a != OPT_COUNT ? c->lines[a] : 0;
	unsigned lb = b != OPT_COUNT ? c->lines[b] : 0;

	if (la != 0 && (lb == 0 || la < lb))
		return a;
	return lb != 0 ? b : OPT_COUNT;
}

/* load_simple: every Domain with every (Selector, KeyFile) pair. */
static int
load_simple(struct conf *c, struct keytable *kt, char *err, size_t errlen)
{
	char why[CONF_MSG_MAX / 2];
	size_t nsel = strv_len(c->selectors), nkey = strv_len(c->key_files);
	size_t d, i;
	struct key_decoder *dec;

	if (c->domains == NULL || c->selectors == NULL || c->key_files == NULL) {
		enum conf_opt at = set_line(c, set_line(c, OPT_DOMAIN, OPT_SELECTOR), OPT_KEY_FILE);

		return finish_err(c, at, err, errlen, "Domain, Selector and KeyFile go together: "
		    "%s is not set", c->domains == NULL ? "Domain" :
		    c->selectors == NULL ? "Selector" : "KeyFile");
	}
	if (nsel != nkey)
		return finish_err(c, OPT_KEY_FILE, err, errlen, "KeyFile names %zu file%s but "
		    "Selector names %zu: each KeyFile pairs with the Selector in the same place",
		    nkey, nkey == 1 ? "" : "s", nsel);
	if (nkey > KEYTABLE_MAX_PER_DOMAIN)
		return finish_err(c, OPT_KEY_FILE, err, errlen, "%zu keys, but a domain is signed "
		    "with at most %d", nkey, KEYTABLE_MAX_PER_DOMAIN);
	/* One decoder for every key (NULL: each key builds its own). */
	dec = key_decoder_new();
	for (d = 0; c->domains[d] != NULL; d++)
		for (i = 0; i < nkey; i++) {
			struct key *key;

			if (key_load_with(dec, c->key_files[i], c->domains[d], c->selectors[i],
			    &key, why, sizeof(why)) == -1 ||
			    keytable_add(kt, c->domains[d], key, why, sizeof(why)) == -1) {
				key_decoder_free(dec);
				return finish_err(c, OPT_KEY_FILE, err, errlen, "%s", why);
			}
		}
	key_decoder_free(dec);
	return 0;
}

/*
 * check_algs: every key is of an algorithm SignatureAlgorithm lists, and
 * every domain has a key for each algorithm listed, so that what the
 * postmaster asked for is what the mail gets.
 */
static int
check_algs(const struct conf *c, const struct keytable *kt, char *err, size_t errlen)
{
	enum conf_opt keys_at = c->keytable_path != NULL ? OPT_KEY_TABLE : OPT_KEY_FILE;
	enum conf_opt algs_at = c->lines[OPT_SIGNATURE_ALGORITHM] != 0 ?
	    OPT_SIGNATURE_ALGORITHM : keys_at;
	const struct key *found[KEYTABLE_MAX_PER_DOMAIN];
	size_t i, j, a, n;

	for (i = 0; i < keytable_nkeys(kt); i++) {
		const struct key *k = keytable_key(kt, i);

		if ((c->sign_algs & k->alg) == 0)
			return finish_err(c, keys_at, err, errlen, "%s is an %s key but "
			    "SignatureAlgorithm does not list %s", k->file, alg_short(k->alg),
			    key_alg_name(k->alg));
	}
	/*
	 * Each key's d= domain stands for the patterns that use it: look the
	 * domain up and check the winner has every algorithm.  A wildcard
	 * whose d= it does not match itself is not checked here.
	 */
	for (i = 0; i < keytable_nkeys(kt); i++) {
		const struct key *k = keytable_key(kt, i);
		char *dom = util_strndup_lower(k->domain, strlen(k->domain));

		if (dom == NULL)
			return finish_err(c, OPT_COUNT, err, errlen, "out of memory");
		n = keytable_lookup(kt, dom, found, KEYTABLE_MAX_PER_DOMAIN);
		free(dom);
		for (a = 0; n > 0 && a < sizeof(alg_values) / sizeof(alg_values[0]); a++) {
			if ((c->sign_algs & alg_values[a]) == 0)
				continue;
			for (j = 0; j < n && found[j]->alg != alg_values[a]; j++)
				continue;
			if (j < n)
				continue;
			if (c->keytable_path == NULL)
				return finish_err(c, algs_at, err, errlen,
				    "SignatureAlgorithm lists %s but no KeyFile is an %s key",
				    alg_words[a], alg_short((enum key_alg)alg_values[a]));
			return finish_err(c, algs_at, err, errlen, "SignatureAlgorithm lists %s "
			    "but %s has no %s key", alg_words[a], k->domain,
			    alg_short((enum key_alg)alg_values[a]));
		}
	}
	return 0;
}

/* finish_dns: the SPF checker and the alignment tables (PSL) of this configuration. */
static int
finish_dns(struct conf *conf, char *err, size_t errlen)
{
	struct spf_options so;
	char why[CONF_MSG_MAX / 2];

	memset(&so, 0, sizeof(so));
	so.timeout = conf->dns_timeout;
	so.cache_ttl = conf->spf_cache_ttl;
	so.dns_cache_size = conf->dns_cache_size;
	so.dns_cache_max_ttl = conf->dns_cache_max_ttl;
	if ((conf->spf = spf_new(&so, why, sizeof(why))) == NULL)
		return finish_err(conf, OPT_DNS_TIMEOUT, err, errlen, "SPF: %s", why);
	conf->align = align_new(conf->psl_file, conf->org_domains, why, sizeof(why));
	if (conf->align == NULL)
		return finish_err(conf, set_line(conf, OPT_PUBLIC_SUFFIX_LIST,
		    OPT_ORGANIZATIONAL_DOMAINS), err, errlen, "%s", why);
	/* ReturnPath needs the organizational domains of the keys. */
	if (conf->return_path_list != NULL && returnpath_new(conf->return_path_list, conf->keys,
	    conf->align, &conf->return_paths, why, sizeof(why)) == -1)
		return finish_err(conf, OPT_RETURN_PATH, err, errlen, "%s", why);
	return 0;
}

/*
 * Narrowest prefixes RelayNetworks takes without RelayNetworksWide: a
 * wider one trusts a good part of the Internet to have mail signed.
 */
#define RELAY_V4_MIN 8
#define RELAY_V6_MIN 32

/*
 * check_relays: refuses relay prefixes wider than /8 or /32 unless the
 * postmaster says so, and warns when loopback is trusted.
 */
static int
check_relays(struct conf *conf, char *err, size_t errlen)
{
	char wide[64], msg[CONF_MSG_MAX];

	if (!conf->relay_networks_wide &&
	    cidr_set_wider(conf->relay_networks, RELAY_V4_MIN, RELAY_V6_MIN, wide, sizeof(wide)))
		return finish_err(conf, OPT_RELAY_NETWORKS, err, errlen, "RelayNetworks %s is "
		    "wider than /%d (IPv4) or /%d (IPv6): every client in it could have mail "
		    "signed; set RelayNetworksWide yes if that is meant", wide, RELAY_V4_MIN,
		    RELAY_V6_MIN);
	if (cidr_set_match_text(conf->relay_networks, "127.0.0.1") ||
	    cidr_set_match_text(conf->relay_networks, "::1")) {
		(void)finish_err(conf, OPT_RELAY_NETWORKS, msg, sizeof(msg), "RelayNetworks "
		    "trusts loopback: Postfix presents local sendmail(1) mail (with "
		    "non_smtpd_milters) and mail reinjected by a content filter as from "
		    "127.0.0.1, so every local user could have mail signed "
		    "(relaysign.conf(5), RelayNetworks)");
		if (strv_push(&conf->warnings, msg) == -1)
			return finish_err(conf, OPT_COUNT, err, errlen, "out of memory");
	}
	return 0;
}

/* warn_unbound: a RelayAuthUsers or RelaySPFNames entry RelayBindings leaves out. */
static void
warn_unbound(void *arg, const char *ident)
{
	struct conf *conf = arg;
	char msg[CONF_MSG_MAX];

	(void)finish_err(conf, OPT_RELAY_BINDINGS, msg, sizeof(msg), "%s has no line in %s: "
	    "its mail is never signed (reason=not-bound)", ident, conf->bindings_path);
	if (strv_push(&conf->warnings, msg) == -1)
		conf->warn_oom = true;
}

/* several_domains: the signing table holds keys of more than one d= domain. */
static bool
several_domains(const struct keytable *kt)
{
	size_t i, n = keytable_nkeys(kt);

	for (i = 1; i < n; i++)
		if (strcasecmp(keytable_key(kt, i)->domain, keytable_key(kt, 0)->domain) != 0)
			return true;
	return false;
}

/*
 * finish_bindings: RelayBindings, checked against the relays and keys; or,
 * without it, a warning when any relay may have any of several domains
 * signed (a consortium's exposure).
 */
static int
finish_bindings(struct conf *conf, char *err, size_t errlen)
{
	struct bindings_context ctx;
	char why[CONF_MSG_MAX / 2], msg[CONF_MSG_MAX];

	ctx.auth_users = conf->relay_auth_users;
	ctx.networks = conf->relay_networks;
	ctx.spf_names = conf->relay_spf_names;
	ctx.keys = conf->keys;
	if (conf->bindings_path == NULL) {
		if (!several_domains(conf->keys) || (cidr_set_count(conf->relay_networks) == 0 &&
		    conf->relay_auth_users == NULL && conf->relay_spf_names == NULL))
			return 0;
		(void)finish_err(conf, set_line(conf, OPT_DOMAIN, OPT_SIGNING_TABLE), msg,
		    sizeof(msg), "keys for several domains and no RelayBindings: every trusted relay (RelayNetworks, RelayAuthUsers, "
		    "RelaySPFNames) may have mail signed for any of them (relaysign.conf(5), "
		    "RelayBindings)");
		return strv_push(&conf->warnings, msg) == 0 ? 0 :
		    finish_err(conf, OPT_COUNT, err, errlen, "out of memory");
	}
	if (bindings_load(conf->bindings_path, &ctx, &conf->bindings, why, sizeof(why)) == -1)
		return finish_err(conf, OPT_RELAY_BINDINGS, err, errlen, "RelayBindings: %s", why);
	(void)bindings_unbound(conf->bindings, &ctx, warn_unbound, conf);
	if (conf->warn_oom)
		return finish_err(conf, OPT_COUNT, err, errlen, "out of memory");
	return 0;
}

/* conf_finish: cross-option checks, keys and the sign_lib. */
int
conf_finish(struct conf *conf, char *err, size_t errlen)
{
	bool simple = conf->domains != NULL || conf->selectors != NULL ||
	    conf->key_files != NULL;
	bool table = conf->keytable_path != NULL || conf->signingtable_path != NULL;
	char why[CONF_MSG_MAX / 2];
	struct keytable *kt;
	struct sign_lib *sl;

	if (conf->keys != NULL || conf->sign_lib != NULL)
		return finish_err(conf, OPT_COUNT, err, errlen, "configuration already finished");
	if (check_relays(conf, err, errlen) == -1)
		return -1;
	if (conf->metrics_socket != NULL && conf->socket != NULL &&
	    strcmp(conf->metrics_socket, conf->socket) == 0)
		return finish_err(conf, OPT_METRICS_SOCKET, err, errlen, "MetricsSocket %s is "
		    "the milter's Socket: give the metrics a socket of their own",
		    conf->metrics_socket);
	if (simple && table)
		return finish_err(conf, set_line(conf, OPT_KEY_TABLE, OPT_SIGNING_TABLE), err,
		    errlen, "Domain, Selector and KeyFile or KeyTable and SigningTable: "
		    "set one, not both");
	if (!simple && !table)
		return finish_err(conf, OPT_COUNT, err, errlen, "no signing keys: set Domain, "
		    "Selector and KeyFile, or KeyTable and SigningTable");
	if (table && (conf->keytable_path == NULL || conf->signingtable_path == NULL))
		return finish_err(conf, set_line(conf, OPT_KEY_TABLE, OPT_SIGNING_TABLE), err,
		    errlen, "KeyTable and SigningTable go together: %s is not set",
		    conf->keytable_path == NULL ? "KeyTable" : "SigningTable");
	if ((kt = keytable_new()) == NULL)
		return finish_err(conf, OPT_COUNT, err, errlen, "out of memory");
	if (simple) {
		if (load_simple(conf, kt, err, errlen) == -1) {
			conf->keys_failed = true;
			goto fail;
		}
	} else if (keytable_load_files(kt, conf->keytable_path, conf->signingtable_path, why,
	    sizeof(why)) == -1) {
		finish_err(conf, set_line(conf, OPT_KEY_TABLE, OPT_SIGNING_TABLE), err, errlen,
		    "%s", why);
		conf->keys_failed = true;
		goto fail;
	}
	if (check_algs(conf, kt, err, errlen) == -1)
		goto fail;
	if ((sl = sign_lib_new(&conf->sign, why, sizeof(why))) == NULL) {
		finish_err(conf, OPT_COUNT, err, errlen, "%s", why);
		goto fail;
	}
	conf->keys = kt;
	conf->sign_lib = sl;
	if (finish_bindings(conf, err, errlen) == -1)
		return -1;
	return finish_dns(conf, err, errlen);
fail:
	keytable_free(kt);
	return -1;
}

/* read_file: the whole of path, at most CONF_FILE_MAX bytes, into *buf_r. */
static int
read_file(const char *path, char **buf_r, size_t *len_r, char *err, size_t errlen)
{
	return file_read(path, CONF_FILE_MAX, buf_r, len_r, NULL, err, errlen);
}

/* conf_load: path read, parsed and finished. */
int
conf_load(const char *path, struct conf **conf_r, char *err, size_t errlen)
{
	return conf_load_ex(path, conf_r, NULL, err, errlen);
}

/* conf_load_ex: conf_load, saying whether it was the keys that failed. */
int
conf_load_ex(const char *path, struct conf **conf_r, bool *keys_failed_r, char *err,
    size_t errlen)
{
	struct conf *conf;
	char *text = NULL;
	size_t len = 0;
	int rc;

	*conf_r = NULL;
	if (keys_failed_r != NULL)
		*keys_failed_r = false;
	if (read_file(path, &text, &len, err, errlen) == -1)
		return -1;
	rc = conf_parse(path, text, len, &conf, err, errlen);
	free(text);
	if (rc == -1)
		return -1;
	if (conf_finish(conf, err, errlen) == -1) {
		if (keys_failed_r != NULL)
			*keys_failed_r = conf->keys_failed;
		conf_free(conf);
		return -1;
	}
	*conf_r = conf;
	return 0;
}

/* conf_load_builtin: the built-in text parsed and finished. */
int
conf_load_builtin(struct conf **conf_r, char *err, size_t errlen)
{
	struct conf *conf;

	*conf_r = NULL;
	if (conf_parse("(built-in)", builtin_text, sizeof(builtin_text) - 1, &conf, err,
	    errlen) == -1)
		return -1;
	if (conf_finish(conf, err, errlen) == -1) {
		conf_free(conf);
		return -1;
	}
	*conf_r = conf;
	return 0;
}

/* conf_facility_name: SyslogFacility's word for facility. */
const char *
conf_facility_name(int facility)
{
	size_t i;

	for (i = 0; facility_words[i] != NULL; i++)
		if (facility_values[i] == facility)
			return facility_words[i];
	return "unknown";
}

/* conf_free: everything the configuration owns. */
void
conf_free(struct conf *conf)
{
	if (conf == NULL)
		return;
	free(conf->path);
	free(conf->socket);
	free(conf->metrics_socket);
	free(conf->authserv_id);
	cidr_set_free(conf->relay_networks);
	strv_free(conf->warnings);
	strv_free(conf->relay_auth_users);
	strv_free(conf->domains);
	strv_free(conf->selectors);
	strv_free(conf->key_files);
	free(conf->keytable_path);
	free(conf->signingtable_path);
	free(conf->bindings_path);
	bindings_free(conf->bindings);
	strv_free(conf->return_path_list);
	returnpath_free(conf->return_paths);
	strv_free(conf->outbound_addresses);
	/* sign_params shows the lists const to sign.c; they are ours. */
	strv_free((char **)conf->sign.sign_headers);
	strv_free((char **)conf->sign.oversign_headers);
	free(conf->user_id);
	free(conf->pid_file);
	free(conf->lines);
	strv_free(conf->relay_spf_names);
	strv_free(conf->org_domains);
	free(conf->psl_file);
	spf_free(conf->spf);
	align_free(conf->align);
	sign_lib_free(conf->sign_lib);
	keytable_free(conf->keys);
	free(conf);
}
