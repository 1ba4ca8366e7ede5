/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * bindings.c -- the RelayBindings table: parsed, checked against the rest
 * of the configuration, and looked up once per message.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "bindings.h"
#include "dnsname.h"
#include "file.h"
#include "util.h"

struct binding {
	enum binding_kind kind;
	char *ident;		/* as written: "auth:alma-ufl" */
	const char *name;	/* ident after the colon */
	struct cidr_set *net;	/* BINDING_NET: the one prefix */
	unsigned bits;		/* BINDING_NET: its length */
	char **domains;		/* strv, lowercase: "ufl.edu", "*.ufl.edu" */
	unsigned line;
};

struct bindings {
	struct binding *v;	/* in file order */
	size_t n;
	const struct binding **nets; /* the net: lines, longest prefix first */
	size_t nnets;
};

/* binding_clear: what one line owns. */
static void
binding_clear(struct binding *bd)
{
	free(bd->ident);
	cidr_set_free(bd->net);
	strv_free(bd->domains);
}

/* bindings_free: the table and every line. */
void
bindings_free(struct bindings *b)
{
	size_t i;

	if (b == NULL)
		return;
	for (i = 0; i < b->n; i++)
		binding_clear(&b->v[i]);
	free(b->v);
	free(b->nets);
	free(b);
}

/* line_err: "name:line: reason"; returns -1. */
static int UTIL_PRINTF(5, 6)
line_err(char *err, size_t errlen, const char *name, unsigned line, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	(void)vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	(void)util_seterr(err, errlen, "%s:%u: %s", name, line, msg);
	return -1;
}

/* prefix_bits: the length of a RelayNetworks-style prefix (/32 or /128 when none). */
static unsigned
prefix_bits(const char *text)
{
	const char *slash = strrchr(text, '/');

	if (slash != NULL)
		return (unsigned)strtoul(slash + 1, NULL, 10);
	return strchr(text, ':') != NULL ? 128 : 32;
}

/* prefix_base: the address of a prefix, without brackets or length, into buf. */
static void
prefix_base(const char *text, char *buf, size_t len)
{
	const char *slash = strrchr(text, '/');
	size_t n = slash != NULL ? (size_t)(slash - text) : strlen(text);

	if (n > 0 && text[0] == '[') {
		text++;
		n--;
		if (n > 0 && text[n - 1] == ']')
			n--;
	}
	if (n >= len)
		n = len - 1;
	memcpy(buf, text, n);
	buf[n] = '\0';
}

/* parse_ident: the identity word of a line into bd; -1 with the reason. */
static int
parse_ident(struct binding *bd, const char *word, const struct bindings_context *ctx,
            char *why, size_t whylen)
{
	char base[64], cerr[256];
	const char *colon = strchr(word, ':');

	if (colon == NULL || colon[1] == '\0')
		return util_seterr(why, whylen, "\"%s\": an identity is auth:LOGIN, "
		                   "net:PREFIX or spf:NAME", word);
	if ((bd->ident = strdup(word)) == NULL)
		return util_seterr(why, whylen, "out of memory");
	bd->name = bd->ident + (colon - word) + 1;
	if (strncmp(word, "auth:", 5) == 0) {
		/* The line itself trusts the login (bindings_has_login). */
		bd->kind = BINDING_AUTH;
		if (strlen(bd->name) > BINDINGS_LOGIN_MAX)
			return util_seterr(why, whylen, "%s: the login is longer than %d bytes",
			                   word, BINDINGS_LOGIN_MAX);
		return 0;
	}
	if (strncmp(word, "spf:", 4) == 0) {
		bd->kind = BINDING_SPF;
		for (char *c = bd->ident; *c != '\0'; c++)
			if (*c >= 'A' && *c <= 'Z')
				*c = (char)(*c - 'A' + 'a');
		if (!strv_contains_ci(ctx->spf_names, bd->name))
			return util_seterr(why, whylen, "%s: \"%s\" is not in RelaySPFNames",
			                   word, bd->name);
		return 0;
	}
	if (strncmp(word, "net:", 4) == 0) {
		bd->kind = BINDING_NET;
		if ((bd->net = cidr_set_new()) == NULL)
			return util_seterr(why, whylen, "out of memory");
		if (cidr_set_add(bd->net, bd->name, cerr, sizeof(cerr)) != 0)
			return util_seterr(why, whylen, "%s: %s", word, cerr);
		bd->bits = prefix_bits(bd->name);
		prefix_base(bd->name, base, sizeof(base));
		if (ctx->networks == NULL || !cidr_set_match_text(ctx->networks, base))
			return util_seterr(why, whylen, "%s is not within RelayNetworks", word);
		return 0;
	}
	return util_seterr(why, whylen, "\"%s\": an identity is auth:LOGIN, net:PREFIX or "
	                   "spf:NAME", word);
}

/* add_domain: one bound domain or "*.domain" pattern; -1 with the reason. */
static int
add_domain(struct binding *bd, const char *word, const struct bindings_context *ctx,
           char *why, size_t whylen)
{
	const struct key *keys[KEYTABLE_MAX_PER_DOMAIN];
	const char *d = word, *bad;
	char *lower;
	int rc;

	if (strncmp(word, "*.", 2) == 0)
		d = word + 2;
	if (strchr(d, '*') != NULL || strchr(d, '@') != NULL)
		return util_seterr(why, whylen, "\"%s\": a domain or *.domain (subdomains), "
		                   "never another pattern", word);
	if (!dnsname_ok(d, 2, &bad))
		return util_seterr(why, whylen, "domain \"%s\" %s", d, bad);
	if ((lower = util_strndup_lower(word, strlen(word))) == NULL)
		return util_seterr(why, whylen, "out of memory");
	if (d == word && ctx->keys != NULL &&
	    keytable_lookup(ctx->keys, lower, keys, KEYTABLE_MAX_PER_DOMAIN) == 0) {
		free(lower);
		return util_seterr(why, whylen, "%s binds %s, which has no key (Domain or "
		                   "SigningTable)", bd->ident, word);
	}
	if (strv_contains(bd->domains, lower)) {
		free(lower);
		return util_seterr(why, whylen, "%s binds %s twice", bd->ident, word);
	}
	rc = strv_push(&bd->domains, lower);
	free(lower);
	return rc == 0 ? 0 : util_seterr(why, whylen, "out of memory");
}

/* parse_line: one line's words (identity, domains...) appended to b. */
static int
parse_line(struct bindings *b, char **w, size_t nw, const struct bindings_context *ctx,
           const char *name, unsigned line, char *err, size_t errlen)
{
	struct binding bd, *v;
	char why[512];
	size_t i;

	memset(&bd, 0, sizeof(bd));
	bd.line = line;
	if (parse_ident(&bd, w[0], ctx, why, sizeof(why)) != 0)
		goto fail;
	if (nw < 2) {
		util_seterr(why, sizeof(why), "%s binds no domain", bd.ident);
		goto fail;
	}
	for (i = 1; i < nw; i++)
		if (add_domain(&bd, w[i], ctx, why, sizeof(why)) != 0)
			goto fail;
	for (i = 0; i < b->n; i++)
		if (b->v[i].kind == bd.kind && strcmp(b->v[i].ident, bd.ident) == 0) {
			util_seterr(why, sizeof(why), "%s already has a line (line %u)", bd.ident,
			            b->v[i].line);
			goto fail;
		}
	if ((v = realloc(b->v, (b->n + 1) * sizeof(*v))) == NULL) {
		util_seterr(why, sizeof(why), "out of memory");
		goto fail;
	}
	b->v = v;
	b->v[b->n++] = bd;
	return 0;
fail:
	binding_clear(&bd);
	return line_err(err, errlen, name, line, "%s", why);
}

/* by_bits: longer prefixes first; file order among equals. */
static int
by_bits(const void *a, const void *b)
{
	const struct binding *x = *(const struct binding *const *)a;
	const struct binding *y = *(const struct binding *const *)b;

	if (x->bits != y->bits)
		return x->bits > y->bits ? -1 : 1;
	return x->line < y->line ? -1 : x->line > y->line;
}

/* index_nets: the net: lines, longest prefix first. */
static int
index_nets(struct bindings *b)
{
	size_t i;

	for (i = 0; i < b->n; i++)
		if (b->v[i].kind == BINDING_NET)
			b->nnets++;
	if (b->nnets == 0)
		return 0;
	if ((b->nets = calloc(b->nnets, sizeof(*b->nets))) == NULL)
		return -1;
	b->nnets = 0;
	for (i = 0; i < b->n; i++)
		if (b->v[i].kind == BINDING_NET)
			b->nets[b->nnets++] = &b->v[i];
	qsort(b->nets, b->nnets, sizeof(*b->nets), by_bits);
	return 0;
}

/* is_sep: what separates words on a line. */
static bool
is_sep(char c)
{
	return c == ' ' || c == '\t' || c == ',' || c == '\r';
}

/* bindings_load_text: line by line; words split on white space and commas. */
int
bindings_load_text(const char *name, const char *text, size_t len,
                   const struct bindings_context *ctx, struct bindings **b_r, char *err,
                   size_t errlen)
{
	char buf[BINDINGS_LINE_MAX + 1], *w[BINDINGS_LINE_MAX / 2 + 1];
	struct bindings *b;
	size_t pos = 0, n, nw;
	unsigned line = 0;

	*b_r = NULL;
	if ((b = calloc(1, sizeof(*b))) == NULL)
		return util_seterr(err, errlen, "%s: out of memory", name);
	while (pos < len) {
		const char *eol = memchr(text + pos, '\n', len - pos);

		n = eol != NULL ? (size_t)(eol - (text + pos)) : len - pos;
		line++;
		if (n > BINDINGS_LINE_MAX) {
			line_err(err, errlen, name, line, "line longer than %d bytes",
			         BINDINGS_LINE_MAX);
			goto fail;
		}
		if (memchr(text + pos, '\0', n) != NULL) {
			line_err(err, errlen, name, line, "NUL byte");
			goto fail;
		}
		memcpy(buf, text + pos, n);
		buf[n] = '\0';
		pos += n + (eol != NULL);
		if (strchr(buf, '#') != NULL)
			*strchr(buf, '#') = '\0';
		nw = 0;
		for (char *c = buf; *c != '\0';) {
			while (*c != '\0' && is_sep(*c))
				*c++ = '\0';
			if (*c == '\0')
				break;
			w[nw++] = c;
			while (*c != '\0' && !is_sep(*c))
				c++;
		}
		if (nw > 0 && parse_line(b, w, nw, ctx, name, line, err, errlen) != 0)
			goto fail;
	}
	if (index_nets(b) != 0) {
		util_seterr(err, errlen, "%s: out of memory", name);
		goto fail;
	}
	*b_r = b;
	return 0;
fail:
	bindings_free(b);
	return -1;
}

/* bindings_load: the file, read whole and bounded, then parsed. */
int
bindings_load(const char *path, const struct bindings_context *ctx, struct bindings **b_r,
              char *err, size_t errlen)
{
	char *text = NULL;
	size_t len = 0;
	int rc;

	*b_r = NULL;
	if (file_read(path, BINDINGS_FILE_MAX, &text, &len, NULL, err, errlen) != 0)
		return -1;
	rc = bindings_load_text(path, text, len, ctx, b_r, err, errlen);
	file_free(text, len);
	return rc;
}

/* bindings_find: the identity that trusted the message decides alone. */
const struct binding *
bindings_find(const struct bindings *b, enum policy_trust trust, const char *auth_user,
              const char *spf_name, const struct sockaddr *addr)
{
	size_t i;

	if (b == NULL)
		return NULL;
	switch (trust) {
	case POLICY_TRUST_AUTH:
		for (i = 0; auth_user != NULL && i < b->n; i++)
			if (b->v[i].kind == BINDING_AUTH && strcmp(b->v[i].name, auth_user) == 0)
				return &b->v[i];
		return NULL;
	case POLICY_TRUST_SPF:
		for (i = 0; spf_name != NULL && i < b->n; i++)
			if (b->v[i].kind == BINDING_SPF && strcasecmp(b->v[i].name, spf_name) == 0)
				return &b->v[i];
		return NULL;
	case POLICY_TRUST_NETWORK:
		for (i = 0; addr != NULL && i < b->nnets; i++)
			if (cidr_set_match(b->nets[i]->net, addr))
				return b->nets[i];
		return NULL;
	case POLICY_TRUST_NONE:
		break;
	}
	return NULL;
}

/* bindings_has_login: an auth: line names login (compared exactly). */
bool
bindings_has_login(const struct bindings *b, const char *login)
{
	size_t i;

	for (i = 0; b != NULL && login != NULL && i < b->n; i++)
		if (b->v[i].kind == BINDING_AUTH && strcmp(b->v[i].name, login) == 0)
			return true;
	return false;
}

/* binding_allows: an exact domain, or a proper subdomain of a "*." pattern. */
bool
binding_allows(const struct binding *bd, const char *domain)
{
	size_t i, dl = strlen(domain);

	for (i = 0; bd != NULL && bd->domains[i] != NULL; i++) {
		const char *p = bd->domains[i];

		if (strncmp(p, "*.", 2) == 0) {
			size_t pl = strlen(p + 1);	/* ".ufl.edu" */

			if (dl > pl && strcasecmp(domain + dl - pl, p + 1) == 0)
				return true;
		} else if (strcasecmp(domain, p) == 0) {
			return true;
		}
	}
	return false;
}

/* binding_ident: the identity as written. */
const char *
binding_ident(const struct binding *bd)
{
	return bd->ident;
}

/* bindings_count: how many lines. */
size_t
bindings_count(const struct bindings *b)
{
	return b != NULL ? b->n : 0;
}

/* bindings_at: the i-th line. */
const struct binding *
bindings_at(const struct bindings *b, size_t i)
{
	return &b->v[i];
}

/* binding_domains: the line's domains. */
char *const *
binding_domains(const struct binding *bd)
{
	return bd->domains;
}

/* has_line: b has a line for kind:name. */
static bool
has_line(const struct bindings *b, enum binding_kind kind, const char *name)
{
	size_t i;

	for (i = 0; i < b->n; i++)
		if (b->v[i].kind == kind && (kind == BINDING_SPF
		                                 ? strcasecmp(b->v[i].name, name) == 0
		                                 : strcmp(b->v[i].name, name) == 0))
			return true;
	return false;
}

/* bindings_unbound: logins and SPF names that sign nothing for want of a line. */
size_t
bindings_unbound(const struct bindings *b, const struct bindings_context *ctx,
                 void (*warn)(void *arg, const char *identity), void *arg)
{
	char ident[320];
	size_t i, n = 0;

	for (i = 0; ctx->auth_users != NULL && ctx->auth_users[i] != NULL; i++)
		if (!has_line(b, BINDING_AUTH, ctx->auth_users[i])) {
			snprintf(ident, sizeof(ident), "auth:%s", ctx->auth_users[i]);
			warn(arg, ident);
			n++;
		}
	for (i = 0; ctx->spf_names != NULL && ctx->spf_names[i] != NULL; i++)
		if (!has_line(b, BINDING_SPF, ctx->spf_names[i])) {
			snprintf(ident, sizeof(ident), "spf:%s", ctx->spf_names[i]);
			warn(arg, ident);
			n++;
		}
	return n;
}
