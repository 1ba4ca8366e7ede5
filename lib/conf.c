/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * conf.c -- relaysign.conf(5): the option table and the parser it drives.
 *
 * One static table names every option with its type, default, bounds and
 * the field of struct conf its value goes to (Postfix's style).  The
 * parser checks a line's shape against the table (how many words, which
 * type), runs the row's check on every word for what only that option
 * knows, and stores the value by its type into the row's field, or by the
 * row's setter for the few that fill more than one field.  Defaults are
 * text in the table and go the same way, so a default can never be a
 * value the parser would refuse.  Nothing here logs or opens a file:
 * runtime.c reads the file and builds the keys and the rest from what is
 * parsed.  Every error is "file:line: reason" in the caller's buffer.
 */
#include <arpa/inet.h>

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <syslog.h>
#include <unistd.h>

#include "conf.h"
#include "confvalue.h"
#include "dns.h"
#include "dnsname.h"
#include "file.h"
#include "util.h"

#ifndef LOCALSTATEDIR
#define LOCALSTATEDIR "/var"
#endif

/* Indexes into options[]; the order is the man page's. */

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
static const int bad_from_values[] = {
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
static const int align_values[] = { ALIGN_RELAXED, ALIGN_STRICT };

/*
 * DNSTimeout bounds each SPF check and each DMARC look-up.  A message may
 * need a vendor SPF check, its own SPF check and two DMARC look-ups: at the
 * default of 5 s that stays under Postfix's milter_command_timeout (30 s);
 * the DNS layer's own bound is its largest (DNS_TIMEOUT_MAX).
 */
#define CONF_SPF_CACHE_MAX 86400UL

/* Ten years: an x= further out than that is a mistake, not a policy. */
#define CONF_TTL_MAX 315360000UL

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
/* Room for a quoted, escaped word in a message. */
#define CONF_QUOTE_MAX 96

/* State of one conf_parse. */
struct conf_parse {
	const char *name;
	unsigned line;		/* 0 while the defaults are applied */
	struct conf *conf;
	char *err;
	size_t errlen;
};

/* conf_builtin_text: the built-in configuration. */
const char *
conf_builtin_text(void)
{
	return builtin_text;
}

/* parse_err: "name:line: reason" (or "name: reason" for a default); returns -1. */
static int UTIL_PRINTF(2, 3)
parse_err(const struct conf_parse *p, const char *fmt, ...)
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

/* set_strdup: replaces *dst with a copy of s. */
static int
set_strdup(const struct conf_parse *p, char **dst, const char *s)
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
push_list(const struct conf_parse *p, char ***dst, char **w, size_t n, bool lower)
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

/*
 * The checks and setters of the option table: a check vets one word and
 * says what is wrong with it (in the file's terms); a setter stores an
 * option the generic code of set_option cannot (several fields, a set).
 */

/* check_socket_word: Socket. */
static int
check_socket_word(const struct conf_parse *p, const struct conf_option *o, const char *w)
{
	char q[CONF_QUOTE_MAX];
	const char *why = NULL;

	if (!conf_check_socket(w, &why))
		return parse_err(p, "%s %s: %s", o->name, conf_quote(q, sizeof(q), w), why);
	return 0;
}

/* check_metrics_socket: MetricsSocket: a socket, and an address, not a name. */
static int
check_metrics_socket(const struct conf_parse *p, const struct conf_option *o, const char *w)
{
	char q[CONF_QUOTE_MAX];
	unsigned char a[sizeof(struct in6_addr)];

	if (check_socket_word(p, o, w) == -1)
		return -1;
	/* An address, not a name: it is bound before DNS may be asked. */
	if (strncmp(w, "inet", 4) == 0 && inet_pton(w[4] == '6' ? AF_INET6 : AF_INET,
	    strchr(w, '@') + 1, a) != 1)
		return parse_err(p, "MetricsSocket %s: %s is not an IP%s address "
		    "(give the address, e.g. 127.0.0.1, not a name)", conf_quote(q, sizeof(q), w),
		    strchr(w, '@') + 1, w[4] == '6' ? "v6" : "v4");
	return 0;
}

/* check_authserv: AuthservID. */
static int
check_authserv(const struct conf_parse *p, const struct conf_option *o, const char *w)
{
	char q[CONF_QUOTE_MAX];

	if (!conf_is_token(w))
		return parse_err(p, "%s %s is not an RFC 8601 authserv-id: one token of "
		    "printable ASCII without ()<>@,;:\\\"/[]?=", o->name, conf_quote(q, sizeof(q), w));
	return 0;
}

/* check_id: a login of RelayAuthUsers. */
static int
check_id(const struct conf_parse *p, const struct conf_option *o, const char *w)
{
	char q[CONF_QUOTE_MAX];

	if (strlen(w) > CONF_ID_MAX)
		return parse_err(p, "%s: %s is too long", o->name, conf_quote(q, sizeof(q), w));
	return 0;
}

/* check_labels: a DKIM-safe name (dnsname.h) of at least min labels. */
static int
check_labels(const struct conf_parse *p, const struct conf_option *o, const char *w,
    size_t min)
{
	char q[CONF_QUOTE_MAX];
	const char *why = NULL;

	if (!dnsname_ok(w, min, &why))
		return parse_err(p, "%s %s %s", o->name, conf_quote(q, sizeof(q), w), why);
	return 0;
}

/* check_domain: a domain of two labels or more (Domain, RelaySPFNames, ...). */
static int
check_domain(const struct conf_parse *p, const struct conf_option *o, const char *w)
{
	return check_labels(p, o, w, 2);
}

/* check_selector: RFC 6376 3.1: selector = sub-domain *("." sub-domain). */
static int
check_selector(const struct conf_parse *p, const struct conf_option *o, const char *w)
{
	return check_labels(p, o, w, 1);
}

/* check_abs: an absolute path in a list (KeyFile). */
static int
check_abs(const struct conf_parse *p, const struct conf_option *o, const char *w)
{
	char q[CONF_QUOTE_MAX];

	if (w[0] != '/')
		return parse_err(p, "%s: %s is not an absolute path", o->name, conf_quote(q, sizeof(q), w));
	return 0;
}

/* check_user: UserID, USER or USER:GROUP. */
static int
check_user(const struct conf_parse *p, const struct conf_option *o, const char *w)
{
	const char *colon = strchr(w, ':');
	size_t ulen = colon != NULL ? (size_t)(colon - w) : strlen(w);
	char q[CONF_QUOTE_MAX];

	if (!conf_is_user_name(w, ulen) || (colon != NULL && !conf_is_user_name(colon + 1,
	    strlen(colon + 1))))
		return parse_err(p, "%s %s: expected USER or USER:GROUP, names of letters, "
		    "digits, '.', '_' and '-'", o->name, conf_quote(q, sizeof(q), w));
	return 0;
}

/* check_address: one IPv4 or IPv6 address, no prefix (OutboundAddresses). */
static int
check_address(const struct conf_parse *p, const struct conf_option *o, const char *w)
{
	struct cidr_set *one = cidr_set_new();
	char q[CONF_QUOTE_MAX], why[CONF_MSG_MAX / 2];
	int rc = one == NULL ? -1 : cidr_set_add(one, w, why, sizeof(why));

	cidr_set_free(one);
	if (rc != 0 || strchr(w, '/') != NULL)
		return parse_err(p, "%s %s: not an IPv4 or IPv6 address", o->name,
		    conf_quote(q, sizeof(q), w));
	return 0;
}

/* set_networks: RelayNetworks, each word checked and added to the set. */
static int
set_networks(const struct conf_parse *p, const struct conf_option *o, char **w, size_t n,
    int k)
{
	char why[CONF_MSG_MAX / 2];
	size_t i;

	(void)o;
	(void)k;
	for (i = 0; i < n; i++)
		if (cidr_set_add(p->conf->relay_networks, w[i], why, sizeof(why)) == -1)
			return parse_err(p, "%s", why);
	return 0;
}

/* set_algs: SignatureAlgorithm, a mask of enum key_alg. */
static int
set_algs(const struct conf_parse *p, const struct conf_option *o, char **w, size_t n, int k)
{
	size_t i;

	(void)o;
	(void)k;
	p->conf->sign_algs = 0;
	for (i = 0; i < n; i++)
		p->conf->sign_algs |= alg_values[conf_word_index(alg_words, w[i])];
	return 0;
}

/* set_canon: Canonicalization, header/body. */
static int
set_canon(const struct conf_parse *p, const struct conf_option *o, char **w, size_t n, int k)
{
	(void)o;
	(void)w;
	(void)n;
	p->conf->sign.canon_header = canon_values[k][0];
	p->conf->sign.canon_body = canon_values[k][1];
	return 0;
}

/* set_headers: SignHeaders or OversignHeaders, checked and lowercased. */
static int
set_headers(const struct conf_parse *p, const struct conf_option *o, char **w, size_t n,
    int k)
{
	bool sign = strcmp(o->name, "SignHeaders") == 0;
	char q[CONF_QUOTE_MAX];
	char **v = NULL, *const **dst = sign ? &p->conf->sign.sign_headers :
	    &p->conf->sign.oversign_headers;
	size_t i;

	(void)k;
	for (i = 0; i < n; i++) {
		if (!conf_is_field_name(w[i]))
			return parse_err(p, "%s: %s is not a header field name (RFC 5322 3.6.8)",
			    o->name, conf_quote(q, sizeof(q), w[i]));
		if (sign && conf_word_index(unsignable_headers, w[i]) >= 0)
			return parse_err(p, "%s: %s changes in transit and must not be signed",
			    o->name, w[i]);
	}
	/* RFC 6376 5.4: the From header field MUST be signed. */
	if (sign) {
		for (i = 0; i < n && strcasecmp(w[i], "from") != 0; i++)
			continue;
		if (i == n)
			return parse_err(p, "SignHeaders must include From (RFC 6376 5.4)");
	}
	if (push_list(p, &v, w, n, true) == -1)
		return -1;
	strv_free((char **)*dst);
	*dst = v;
	return 0;
}

/* The field of struct conf an option row stores into. */
#define FIELD(f) .off = offsetof(struct conf, f), .size = sizeof(((struct conf *)0)->f)

/* The option table: each option, its default, its bounds, its field. */
static const struct conf_option options[OPT_COUNT] = {
	[OPT_SOCKET] = { "Socket", CONF_STRING, "inet:8891@127.0.0.1", FIELD(socket),
	    .check = check_socket_word },
	[OPT_AUTHSERV_ID] = { "AuthservID", CONF_STRING, "", FIELD(authserv_id),
	    .check = check_authserv },
	[OPT_RELAY_NETWORKS] = { "RelayNetworks", CONF_LIST, "", .set = set_networks },
	[OPT_RELAY_NETWORKS_WIDE] = { "RelayNetworksWide", CONF_BOOL, "no",
	    FIELD(relay_networks_wide) },
	[OPT_RELAY_AUTH_USERS] = { "RelayAuthUsers", CONF_LIST, "", FIELD(relay_auth_users),
	    .flags = CONF_F_CASE, .check = check_id },
	[OPT_RELAY_BINDINGS] = { "RelayBindings", CONF_PATH, "", FIELD(bindings_path) },
	[OPT_DOMAIN] = { "Domain", CONF_LIST, "", FIELD(domains), .flags = CONF_F_LOWER,
	    .check = check_domain },
	[OPT_SELECTOR] = { "Selector", CONF_LIST, "", FIELD(selectors),
	    .check = check_selector },
	[OPT_KEY_FILE] = { "KeyFile", CONF_LIST, "", FIELD(key_files), .flags = CONF_F_CASE,
	    .check = check_abs },
	[OPT_KEY_TABLE] = { "KeyTable", CONF_PATH, "", FIELD(keytable_path),
	    .flags = CONF_F_TABLE },
	[OPT_SIGNING_TABLE] = { "SigningTable", CONF_PATH, "", FIELD(signingtable_path),
	    .flags = CONF_F_TABLE },
	[OPT_SIGNATURE_ALGORITHM] = { "SignatureAlgorithm", CONF_LIST, "rsa-sha256",
	    .words = alg_words, .set = set_algs },
	[OPT_CANONICALIZATION] = { "Canonicalization", CONF_ENUM, "relaxed/relaxed",
	    .words = canon_words, .set = set_canon },
	[OPT_SIGN_HEADERS] = { "SignHeaders", CONF_LIST,
	    "From To Cc Subject Date Message-ID Reply-To MIME-Version Content-Type "
	    "Content-Transfer-Encoding List-Unsubscribe List-Unsubscribe-Post",
	    .set = set_headers },
	[OPT_OVERSIGN_HEADERS] = { "OversignHeaders", CONF_LIST, "From Subject Date To",
	    .set = set_headers },
	[OPT_SIGNATURE_TTL] = { "SignatureTTL", CONF_UINT, "0", 0, CONF_TTL_MAX,
	    FIELD(sign.expire) },
	[OPT_ON_BAD_FROM] = { "OnBadFrom", CONF_ENUM, "tag", .words = bad_from_words,
	    .values = bad_from_values, FIELD(on_bad_from) },
	[OPT_USER_ID] = { "UserID", CONF_STRING, "", FIELD(user_id), .check = check_user },
	[OPT_PID_FILE] = { "PidFile", CONF_PATH, "", FIELD(pid_file) },
	[OPT_UMASK] = { "UMask", CONF_MODE, "007", 0, 0777, FIELD(umask) },
	[OPT_BACKGROUND] = { "Background", CONF_BOOL, "yes", FIELD(background) },
	[OPT_SYSLOG] = { "Syslog", CONF_BOOL, "yes", FIELD(syslog) },
	[OPT_SYSLOG_FACILITY] = { "SyslogFacility", CONF_ENUM, "mail", .words = facility_words,
	    .values = facility_values, FIELD(syslog_facility) },
	[OPT_LOG_LEVEL] = { "LogLevel", CONF_ENUM, "info", .words = level_words,
	    .values = level_values, FIELD(log_level) },
	[OPT_RELAY_SPF_NAMES] = { "RelaySPFNames", CONF_LIST, "", FIELD(relay_spf_names),
	    .flags = CONF_F_LOWER, .check = check_domain },
	[OPT_REQUIRE_SPF] = { "RequireSPF", CONF_BOOL, "no", FIELD(require_spf) },
	[OPT_DNS_TIMEOUT] = { "DNSTimeout", CONF_UINT, "5", 1, DNS_TIMEOUT_MAX,
	    FIELD(dns_timeout) },
	[OPT_SPF_CACHE_TTL] = { "SPFCacheTTL", CONF_UINT, "300", 0, CONF_SPF_CACHE_MAX,
	    FIELD(spf_cache_ttl) },
	[OPT_DNS_CACHE_SIZE] = { "DNSCacheSize", CONF_UINT, "4096", 0, DNS_CACHE_MAX,
	    FIELD(dns_cache_size) },
	[OPT_DNS_CACHE_MAX_TTL] = { "DNSCacheMaxTTL", CONF_UINT, "3600", 1, CONF_SPF_CACHE_MAX,
	    FIELD(dns_cache_max_ttl) },
	[OPT_ALIGNMENT] = { "Alignment", CONF_ENUM, "relaxed", .words = align_words,
	    .values = align_values, FIELD(alignment) },
	[OPT_PUBLIC_SUFFIX_LIST] = { "PublicSuffixList", CONF_PATH, "", FIELD(psl_file) },
	[OPT_ORGANIZATIONAL_DOMAINS] = { "OrganizationalDomains", CONF_LIST, "",
	    FIELD(org_domains), .flags = CONF_F_LOWER, .check = check_domain },
	[OPT_DMARC_LOOKUP] = { "DMARCLookup", CONF_BOOL, "no", FIELD(dmarc_lookup) },
	[OPT_RETURN_PATH] = { "ReturnPath", CONF_LIST, "", FIELD(return_path_list) },
	[OPT_OUTBOUND_ADDRESSES] = { "OutboundAddresses", CONF_LIST, "",
	    FIELD(outbound_addresses), .check = check_address },
	[OPT_METRICS_SOCKET] = { "MetricsSocket", CONF_STRING, "", FIELD(metrics_socket),
	    .check = check_metrics_socket }
};

/* conf_options: the option table. */
const struct conf_option *
conf_options(size_t *n_r)
{
	*n_r = OPT_COUNT;
	return options;
}

/* suggest: the option name one typo (two for long names) away from w, or NULL. */
static const char *
suggest(const char *w)
{
	const char *best = NULL;
	size_t i, bestd = SIZE_MAX, limit = strlen(w) >= 8 ? 2 : 1;

	for (i = 0; i < OPT_COUNT; i++) {
		size_t d = conf_edit_distance(w, options[i].name);

		if (d <= limit && d < bestd) {
			bestd = d;
			best = options[i].name;
		}
	}
	return best;
}

/* store_uint: u into the row's field, whatever unsigned type it is. */
static int
store_uint(void *field, size_t size, unsigned long u)
{
	if (size == sizeof(unsigned))
		*(unsigned *)field = (unsigned)u;
	else if (size == sizeof(unsigned long))
		*(unsigned long *)field = u;
	else
		return -1;
	return 0;
}

/*
 * set_option: one option's words, checked against its row of the table,
 * then stored: by the row's setter, or by its type into its field.
 */
static int
set_option(const struct conf_parse *p, enum conf_opt opt, char **w, size_t n)
{
	const struct conf_option *o = &options[opt];
	char *field = (char *)p->conf + o->off;
	char q[CONF_QUOTE_MAX], list[CONF_MSG_MAX / 2];
	unsigned long u = 0;
	bool b = false;
	int k = -1;
	size_t i, j;

	if (n == 0)
		return parse_err(p, "%s needs a value", o->name);
	if (o->type != CONF_LIST && n > 1)
		return parse_err(p, "%s takes one value, not %zu", o->name, n);

	/* What the type decides. */
	switch (o->type) {
	case CONF_BOOL:
		if (conf_parse_bool(w[0], &b) == -1)
			return parse_err(p, "%s: %s is not yes or no (or true/false, 1/0)",
			    o->name, conf_quote(q, sizeof(q), w[0]));
		break;
	case CONF_UINT:
		if (w[0][0] == '\0' || strspn(w[0], "0123456789") != strlen(w[0]))
			return parse_err(p, "%s: %s is not a decimal number", o->name,
			    conf_quote(q, sizeof(q), w[0]));
		for (i = 0; w[0][i] != '\0'; i++) {
			u = u * 10 + (unsigned long)(w[0][i] - '0');
			if (u > o->max)
				break;
		}
		if (u < o->min || u > o->max)
			return parse_err(p, "%s: %s is out of range (%lu to %lu)", o->name,
			    conf_quote(q, sizeof(q), w[0]), o->min, o->max);
		break;
	case CONF_MODE:
		if (w[0][0] == '\0' || strlen(w[0]) > 4 ||
		    strspn(w[0], "01234567") != strlen(w[0]))
			return parse_err(p, "%s: %s is not an octal mode such as 007", o->name,
			    conf_quote(q, sizeof(q), w[0]));
		u = strtoul(w[0], NULL, 8);
		if (u > o->max)
			return parse_err(p, "%s: %s is out of range (0 to 0777)", o->name,
			    conf_quote(q, sizeof(q), w[0]));
		break;
	case CONF_ENUM:
		if ((k = conf_word_index(o->words, w[0])) < 0)
			return parse_err(p, "%s: %s is not one of %s", o->name,
			    conf_quote(q, sizeof(q), w[0]), conf_word_list(list, sizeof(list), o->words));
		break;
	case CONF_PATH:
		if ((o->flags & CONF_F_TABLE ? keytable_file_path(w[0]) : w[0])[0] != '/')
			return parse_err(p, "%s: %s is not an absolute path", o->name,
			    conf_quote(q, sizeof(q), w[0]));
		break;
	case CONF_LIST:
		for (i = 0; i < n; i++) {
			if (o->words != NULL && conf_word_index(o->words, w[i]) < 0)
				return parse_err(p, "%s: %s is not one of %s", o->name,
				    conf_quote(q, sizeof(q), w[i]),
				    conf_word_list(list, sizeof(list), o->words));
			/* A word twice is a typo for another word, or a wasted signature. */
			for (j = 0; j < i; j++) {
				bool same = o->flags & CONF_F_CASE ? strcmp(w[i], w[j]) == 0 :
				    strcasecmp(w[i], w[j]) == 0;

				if (same)
					return parse_err(p, "%s lists %s twice", o->name,
					    conf_quote(q, sizeof(q), w[i]));
			}
		}
		break;
	case CONF_STRING:
		break;
	}

	/* What only the option knows. */
	for (i = 0; o->check != NULL && i < n; i++)
		if (o->check(p, o, w[i]) == -1)
			return -1;
	if (o->set != NULL)
		return o->set(p, o, w, n, k);

	/* The rest is where the row says. */
	switch (o->type) {
	case CONF_BOOL:
		*(bool *)field = b;
		return 0;
	case CONF_UINT:
	case CONF_MODE:
		if (store_uint(field, o->size, u) == -1)
			break;
		return 0;
	case CONF_ENUM:
		if (o->values == NULL || o->size != sizeof(int))
			break;
		*(int *)field = o->values[k];
		return 0;
	case CONF_STRING:
	case CONF_PATH:
		return set_strdup(p, (char **)field, w[0]);
	case CONF_LIST:
		return push_list(p, (char ***)field, w, n, (o->flags & CONF_F_LOWER) != 0);
	}
	return parse_err(p, "internal error: option %s has nowhere to go", o->name);
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
parse_line(struct conf_parse *p, char *line)
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
			    conf_quote(q, sizeof(q), name), hint);
		return parse_err(p, "unknown option %s", conf_quote(q, sizeof(q), name));
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
apply_defaults(struct conf_parse *p)
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
		if (!conf_is_token(host))
			return parse_err(p, "AuthservID is not set and the host name %s is not "
			    "an authserv-id: set AuthservID", conf_quote(q, sizeof(q), host));
		if (set_strdup(p, &p->conf->authserv_id, host) == -1)
			return -1;
	}
	return 0;
}

/* check_oversign: OversignHeaders only names fields SignHeaders signs. */
static int
check_oversign(struct conf_parse *p)
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
	struct conf_parse p = { name, 0, NULL, err, errlen };
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
	strv_free(conf->return_path_list);
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
	runtime_free(&conf->rt);
	free(conf);
}
