/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * from.c -- the RFC 5322 From: field, reduced to the one domain DMARC uses.
 *
 * Two layers.  A tokenizer turns the field body into atoms, quoted
 * strings, domain literals and single-octet specials, skipping CFWS
 * (RFC 5322 3.2.2) between them; comments are skipped with a depth
 * counter, never by recursion.  A parser walks RFC 5322 3.4 address-list
 * over those tokens with one token of lookahead, rewinding at most once
 * per address (to reread a phrase as a local part), so the whole field is
 * read in O(n).  Only the first mailbox is recorded; the verdict is made
 * once the whole field has parsed, so a syntax error anywhere wins over
 * everything else, then group syntax, then a second mailbox.
 *
 * Nothing here allocates except libidn2, whose result is freed at once.
 */
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <idn2.h>

#include "dnsname.h"
#include "from.h"
#include "util.h"

/*
 * RFC 5322 2.1.1 caps a line at 998 octets, and folding makes a field
 * longer only by so much before it is abuse rather than mail.
 */
#define FROM_INPUT_MAX (64 * 1024)
/* RFC 5322 3.2.2 sets no bound on nested comments; a real sender needs one or two. */
#define FROM_COMMENT_DEPTH 64

enum tok_type {
	TOK_END,      /* no more input */
	TOK_ATOM,     /* 1*atext, with RFC 6532 UTF-8 */
	TOK_QSTRING,  /* "...", quotes included */
	TOK_DLITERAL, /* [...], brackets included */
	TOK_SPECIAL   /* one of < > @ , ; : . */
};

struct tok {
	enum tok_type type;
	int c;        /* the octet of a TOK_SPECIAL */
	size_t start; /* offset of the first octet */
	size_t end;   /* offset past the last octet */
};

/* A bounded output buffer; a disabled sink (buf == NULL) drops everything. */
struct sink {
	char *buf;
	size_t cap; /* room for cap - 1 octets and a NUL */
	size_t len;
	bool overflow;
};

struct parser {
	const unsigned char *s;
	size_t len;
	size_t pos;     /* where the next token's CFWS starts */
	struct tok tok; /* the current token */
	char *why;
	size_t whylen;
	size_t nmailbox;
	bool group;
	/* the first mailbox: status, reason, and its addr-spec as written */
	bool rec; /* record the tokens being read into addr and domain */
	enum from_status mbstatus;
	const char *mbwhy;
	struct sink addr;
	struct sink domain;
};

static bool syntax(struct parser *ps, const char *fmt, ...) UTIL_PRINTF(2, 3);

/* syntax: records a syntax error in why; returns false to unwind the parser. */
static bool
syntax(struct parser *ps, const char *fmt, ...)
{
	va_list ap;

	if (ps->why != NULL && ps->whylen > 0) {
		va_start(ap, fmt);
		(void)vsnprintf(ps->why, ps->whylen, fmt, ap);
		va_end(ap);
	}
	return false;
}

/* mailbox_fail: notes the first problem with the first mailbox; parsing goes on. */
static void
mailbox_fail(struct parser *ps, enum from_status status, const char *why)
{
	if (ps->rec && ps->mbstatus == FROM_OK) {
		ps->mbstatus = status;
		ps->mbwhy = why;
	}
}

/* sink_put: appends n octets, dropping CR and LF (RFC 5322 3.2.2 unfolding). */
static void
sink_put(struct sink *sk, const unsigned char *p, size_t n)
{
	size_t i;

	if (sk->buf == NULL)
		return;
	for (i = 0; i < n; i++) {
		if (p[i] == '\r' || p[i] == '\n')
			continue;
		if (sk->len + 1 >= sk->cap) {
			sk->overflow = true;
			return;
		}
		sk->buf[sk->len++] = (char)p[i];
	}
}

/* record: appends the current token to the recorded address (and domain). */
static void
record(struct parser *ps, bool in_domain)
{
	const unsigned char *p = ps->s + ps->tok.start;
	size_t n = ps->tok.end - ps->tok.start;

	if (!ps->rec)
		return;
	sink_put(&ps->addr, p, n);
	if (in_domain)
		sink_put(&ps->domain, p, n);
}

/* utf8_check: 0 if s[0..len) is NUL-free UTF-8 (RFC 3629 4), else the bad offset + 1. */
static size_t
utf8_check(const unsigned char *s, size_t len)
{
	size_t i = 0, n, k;
	unsigned char lo, hi;

	while (i < len) {
		if (s[i] == '\0')
			return i + 1;
		if (s[i] < 0x80) {
			i++;
			continue;
		}
		/* RFC 3629 4: the second octet's range excludes overlongs and surrogates */
		lo = 0x80;
		hi = 0xbf;
		if (s[i] >= 0xc2 && s[i] <= 0xdf)
			n = 1;
		else if (s[i] >= 0xe0 && s[i] <= 0xef) {
			n = 2;
			if (s[i] == 0xe0)
				lo = 0xa0;
			else if (s[i] == 0xed)
				hi = 0x9f;
		} else if (s[i] >= 0xf0 && s[i] <= 0xf4) {
			n = 3;
			if (s[i] == 0xf0)
				lo = 0x90;
			else if (s[i] == 0xf4)
				hi = 0x8f;
		} else
			return i + 1;
		if (n >= len - i)
			return i + 1;
		if (s[i + 1] < lo || s[i + 1] > hi)
			return i + 1;
		for (k = 2; k <= n; k++)
			if (s[i + k] < 0x80 || s[i + k] > 0xbf)
				return i + 1;
		i += n + 1;
	}
	return 0;
}

/* is_atext: RFC 5322 3.2.3 atext, extended by RFC 6532 3.2 to UTF-8 octets. */
static bool
is_atext(unsigned char c)
{
	if (c >= 0x80)
		return true;
	if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))
		return true;
	return c != '\0' && strchr("!#$%&'*+-/=?^_`{|}~", c) != NULL;
}

/* is_ctl: a control character other than HTAB; CR and LF are handled as folding. */
static bool
is_ctl(unsigned char c)
{
	return (c < 0x20 && c != '\t') || c == 0x7f;
}

/*
 * fold_len: length of a line break at i that RFC 5322 3.2.2 FWS allows
 * (CRLF, or a bare LF as milters often hand over, followed by WSP, or
 * ending the value), else 0.
 */
static size_t
fold_len(const struct parser *ps, size_t i)
{
	size_t n = 0;

	if (ps->s[i] == '\r')
		n = 1;
	if (i + n >= ps->len || ps->s[i + n] != '\n')
		return 0;
	n++;
	if (i + n == ps->len || ps->s[i + n] == ' ' || ps->s[i + n] == '\t')
		return n;
	return 0;
}

/* quoted_pair: steps over an RFC 5322 3.2.1 quoted-pair at pos (VCHAR / WSP / UTF-8). */
static bool
quoted_pair(struct parser *ps, size_t *pos)
{
	unsigned char c;

	if (*pos + 1 >= ps->len)
		return syntax(ps, "backslash at end");
	c = ps->s[*pos + 1];
	/* obs-qp would allow CTLs, CR and LF; nothing legitimate needs them */
	if (is_ctl(c) || c == '\r' || c == '\n')
		return syntax(ps, "control character after backslash at %zu", *pos + 1);
	*pos += 2;
	return true;
}

/* skip_cfws: steps over RFC 5322 3.2.2 CFWS: WSP, folding and nested comments. */
static bool
skip_cfws(struct parser *ps)
{
	size_t depth = 0, n;
	unsigned char c;

	while (ps->pos < ps->len) {
		c = ps->s[ps->pos];
		if (c == '\r' || c == '\n') {
			if ((n = fold_len(ps, ps->pos)) == 0)
				return syntax(ps, "line break without WSP at %zu", ps->pos);
			ps->pos += n;
			continue;
		}
		if (depth == 0) {
			if (c == '(')
				depth = 1;
			else if (c != ' ' && c != '\t')
				return true;
			ps->pos++;
			continue;
		}
		/* ccontent: anything but unescaped parentheses, including @ < , " */
		switch (c) {
		case '(':
			if (++depth > FROM_COMMENT_DEPTH)
				return syntax(ps, "comments nested deeper than %d",
				              FROM_COMMENT_DEPTH);
			break;
		case ')':
			depth--;
			break;
		case '\\':
			if (!quoted_pair(ps, &ps->pos))
				return false;
			continue;
		default:
			if (is_ctl(c))
				return syntax(ps, "control character at %zu", ps->pos);
			break;
		}
		ps->pos++;
	}
	if (depth > 0)
		return syntax(ps, "unbalanced (");
	return true;
}

/*
 * lex_quoted: reads a quoted-string (RFC 5322 3.2.4) or a domain-literal
 * (3.4.1) starting at pos, up to the closing octet; FWS and quoted-pairs
 * may appear inside.
 */
static bool
lex_quoted(struct parser *ps, unsigned char close)
{
	size_t i = ps->pos + 1, n;
	unsigned char c;

	while (i < ps->len) {
		c = ps->s[i];
		if (c == close) {
			ps->tok.end = i + 1;
			return true;
		}
		if (c == '\\') {
			if (!quoted_pair(ps, &i))
				return false;
			continue;
		}
		if (c == '\r' || c == '\n') {
			if ((n = fold_len(ps, i)) == 0)
				return syntax(ps, "line break without WSP at %zu", i);
			i += n;
			continue;
		}
		/* obs-qtext and obs-dtext would allow CTLs; refuse them */
		if (is_ctl(c))
			return syntax(ps, "control character at %zu", i);
		if (close == ']' && c == '[')
			return syntax(ps, "[ inside domain literal at %zu", i);
		i++;
	}
	return syntax(ps, close == '"' ? "unbalanced \"" : "unbalanced [");
}

/* advance: reads the next token into ps->tok; false on a syntax error. */
static bool
advance(struct parser *ps)
{
	unsigned char c;
	size_t i;

	if (!skip_cfws(ps))
		return false;
	ps->tok.start = ps->tok.end = ps->pos;
	ps->tok.c = 0;
	if (ps->pos >= ps->len) {
		ps->tok.type = TOK_END;
		return true;
	}
	c = ps->s[ps->pos];
	switch (c) {
	case '"':
		ps->tok.type = TOK_QSTRING;
		if (!lex_quoted(ps, '"'))
			return false;
		break;
	case '[':
		ps->tok.type = TOK_DLITERAL;
		if (!lex_quoted(ps, ']'))
			return false;
		break;
	case '<':
	case '>':
	case '@':
	case ',':
	case ';':
	case ':':
	case '.':
		ps->tok.type = TOK_SPECIAL;
		ps->tok.c = c;
		ps->tok.end = ps->pos + 1;
		break;
	case ')':
		return syntax(ps, "unbalanced )");
	case ']':
		return syntax(ps, "unbalanced ]");
	default:
		if (!is_atext(c))
			return syntax(ps, "unexpected character at %zu", ps->pos);
		for (i = ps->pos; i < ps->len && is_atext(ps->s[i]); i++)
			continue;
		ps->tok.type = TOK_ATOM;
		ps->tok.end = i;
		break;
	}
	ps->pos = ps->tok.end;
	return true;
}

/* rewind_to: makes t, an earlier token, the current one again. */
static bool
rewind_to(struct parser *ps, const struct tok *t)
{
	ps->pos = t->start;
	return advance(ps);
}

/* is_special: true if the current token is the special c. */
static bool
is_special(const struct parser *ps, int c)
{
	return ps->tok.type == TOK_SPECIAL && ps->tok.c == c;
}

/* is_word: true if the current token is an RFC 5322 3.2.5 word. */
static bool
is_word(const struct parser *ps)
{
	return ps->tok.type == TOK_ATOM || ps->tok.type == TOK_QSTRING;
}

/* unexpected: a syntax error naming the current token (never its text) and where. */
static bool
unexpected(struct parser *ps, const char *where)
{
	switch (ps->tok.type) {
	case TOK_END:
		return syntax(ps, "unexpected end %s", where);
	case TOK_ATOM:
		return syntax(ps, "unexpected word %s at %zu", where, ps->tok.start);
	case TOK_QSTRING:
		return syntax(ps, "unexpected quoted string %s at %zu", where, ps->tok.start);
	case TOK_DLITERAL:
		return syntax(ps, "unexpected domain literal %s at %zu", where, ps->tok.start);
	case TOK_SPECIAL:
		break;
	}
	return syntax(ps, "unexpected '%c' %s at %zu", ps->tok.c, where, ps->tok.start);
}

/*
 * parse_domain: RFC 5322 3.4.1 domain (dot-atom, obs-domain with CFWS
 * around the dots, or domain-literal).  Labels are checked later, on the
 * one domain that matters; *empty_r says nothing was there.
 */
static bool
parse_domain(struct parser *ps, bool *empty_r)
{
	bool last_atom = false;

	*empty_r = true;
	if (ps->tok.type == TOK_DLITERAL) {
		/* DMARC has no use for an address literal: there is no domain to align */
		mailbox_fail(ps, FROM_BAD_DOMAIN, "domain literal");
		*empty_r = false;
		return advance(ps);
	}
	while (ps->tok.type == TOK_ATOM || is_special(ps, '.')) {
		if (ps->tok.type == TOK_ATOM && last_atom)
			break;
		last_atom = ps->tok.type == TOK_ATOM;
		record(ps, true);
		*empty_r = false;
		if (!advance(ps))
			return false;
	}
	return true;
}

/*
 * parse_addr_spec: RFC 5322 3.4.1 addr-spec.  The local part is read as
 * obs-local-part (3.4.1, 4.4) and more: stray dots are tolerated, since
 * only the domain is used and real senders write "a.@example.jp".
 * A local part alone is a mailbox without a domain.
 */
static bool
parse_addr_spec(struct parser *ps)
{
	bool last_word = false, empty;
	size_t nword = 0;

	while (is_word(ps) || is_special(ps, '.')) {
		if (is_word(ps) && last_word)
			break;
		last_word = is_word(ps);
		if (last_word)
			nword++;
		record(ps, false);
		if (!advance(ps))
			return false;
	}
	if (nword == 0 && is_special(ps, '@'))
		return syntax(ps, "missing local part before @");
	if (nword == 0)
		return unexpected(ps, "in address");
	if (!is_special(ps, '@')) {
		mailbox_fail(ps, FROM_NO_DOMAIN, "no @domain");
		return true;
	}
	record(ps, false);
	if (!advance(ps))
		return false;
	if (!parse_domain(ps, &empty))
		return false;
	if (empty)
		mailbox_fail(ps, FROM_NO_DOMAIN, "empty domain after @");
	return true;
}

/*
 * parse_route: RFC 5322 4.4 obs-route, "@a.example,@b.example:" before
 * the address in an angle-addr; the route's domains are read and ignored.
 */
static bool
parse_route(struct parser *ps)
{
	bool rec = ps->rec, empty;

	ps->rec = false;
	while (is_special(ps, ','))
		if (!advance(ps))
			return false;
	for (;;) {
		if (!is_special(ps, '@'))
			return unexpected(ps, "in route");
		if (!advance(ps) || !parse_domain(ps, &empty))
			return false;
		if (empty)
			return syntax(ps, "empty domain in route");
		while (is_special(ps, ','))
			if (!advance(ps))
				return false;
		if (is_special(ps, ':'))
			break;
	}
	ps->rec = rec;
	return advance(ps);
}

/* parse_angle_addr: RFC 5322 3.4 angle-addr, the current token being "<". */
static bool
parse_angle_addr(struct parser *ps)
{
	if (!advance(ps))
		return false;
	/* "<>" is SMTP's null reverse-path (RFC 5321 4.5.5), not an RFC 5322 address */
	if (is_special(ps, '>'))
		return syntax(ps, "empty address <>");
	if (is_special(ps, '@') || is_special(ps, ','))
		if (!parse_route(ps))
			return false;
	if (!parse_addr_spec(ps))
		return false;
	if (ps->tok.type == TOK_END)
		return syntax(ps, "unbalanced <");
	if (!is_special(ps, '>'))
		return unexpected(ps, "in angle address");
	return advance(ps);
}

static bool parse_address(struct parser *ps, bool in_group);

/*
 * skip_empty: past the empty elements of a list, commas with nothing
 * between them (RFC 5322 4.4 obs-addr-list, obs-group-list).
 */
static bool
skip_empty(struct parser *ps)
{
	while (is_special(ps, ','))
		if (!advance(ps))
			return false;
	return true;
}

/*
 * parse_group: RFC 5322 3.4 group, the current token being ":".  Members
 * are parsed only to check the syntax: a group never has a single author.
 */
static bool
parse_group(struct parser *ps)
{
	ps->group = true;
	if (!advance(ps))
		return false;
	for (;;) {
		if (!skip_empty(ps))
			return false;
		if (is_special(ps, ';'))
			return advance(ps);
		if (ps->tok.type == TOK_END)
			return syntax(ps, "unterminated group");
		if (!parse_address(ps, true))
			return false;
		if (ps->tok.type == TOK_END)
			return syntax(ps, "unterminated group");
		if (!is_special(ps, ',') && !is_special(ps, ';'))
			return unexpected(ps, "after group member");
	}
}

/*
 * parse_address: RFC 5322 3.4 address, which starts the same way in all
 * its forms: a phrase (display-name, or a local part) is read first, and
 * the token after it tells which one it was.
 */
static bool
parse_address(struct parser *ps, bool in_group)
{
	struct tok first = ps->tok;
	size_t nword = 0;
	bool ok;

	/* RFC 5322 4.1 obs-phrase: dots may follow the first word */
	while (is_word(ps) || is_special(ps, '.')) {
		if (is_word(ps))
			nword++;
		if (!advance(ps))
			return false;
	}
	if (is_special(ps, ':')) {
		if (in_group)
			return syntax(ps, "group inside a group");
		if (nword == 0)
			return syntax(ps, "group without a name");
		return parse_group(ps);
	}
	if (!is_special(ps, '<') && !is_special(ps, '@') && nword == 0)
		return unexpected(ps, "where an address should be");

	ps->rec = ps->nmailbox++ == 0;
	if (is_special(ps, '<'))
		ok = parse_angle_addr(ps);
	else if (is_special(ps, '@'))
		ok = rewind_to(ps, &first) && parse_addr_spec(ps);
	else {
		/* a display name with no address, or a bare local part */
		mailbox_fail(ps, FROM_NO_DOMAIN, "no @domain");
		ok = true;
	}
	ps->rec = false;
	return ok;
}

/* parse_list: RFC 5322 3.4 address-list, with 4.4 obs-addr-list's empty elements. */
static bool
parse_list(struct parser *ps)
{
	if (!advance(ps))
		return false;
	for (;;) {
		if (!skip_empty(ps))
			return false;
		if (ps->tok.type == TOK_END)
			return true;
		if (!parse_address(ps, false))
			return false;
		if (ps->tok.type == TOK_END)
			return true;
		if (!is_special(ps, ','))
			return unexpected(ps, "after address");
	}
}

/*
 * check_hostname: an ASCII domain DNS can look up, by the one rule for
 * names relaysign signs (dnsname_ok: RFC 1035 2.3.4 lengths, RFC 1123 2.1
 * letters, digits and inner hyphens), whose top-level label is not all
 * digits (RFC 3696 2), so "192.0.2.1" is no domain.
 */
static enum from_status
check_hostname(const char *d, char *why, size_t whylen)
{
	const char *rule, *tld = strrchr(d, '.');

	if (!dnsname_ok(d, 1, &rule)) {
		util_seterr(why, whylen, "domain %s", rule);
		return FROM_BAD_DOMAIN;
	}
	tld = tld != NULL ? tld + 1 : d;
	if (strspn(tld, "0123456789") == strlen(tld)) {
		util_seterr(why, whylen, "numeric top-level label");
		return FROM_BAD_DOMAIN;
	}
	return FROM_OK;
}

/*
 * finish_domain: the domain as written, made the lowercase A-label form
 * DNS and DMARC use.  A-labels are kept, ASCII is lowercased.  A U-label
 * is accepted only in its canonical form: it must convert to an A-label
 * (IDNA2008, RFC 5891 5) and back to the very same bytes.  UTS #46
 * mapping, which resolvers apply, would otherwise fold look-alikes onto
 * a keyed domain (fullwidth letters, U+3002 or U+FF0E as dots, a soft
 * hyphen or a zero-width space dropped) and we would sign them as ours.
 */
static enum from_status
finish_domain(const char *raw, char out[FROM_DOMAIN_MAX], char *why, size_t whylen)
{
	char buf[FROM_DOMAIN_MAX];
	size_t i, len = strlen(raw);
	bool ascii = true;
	uint8_t *alabel;
	char *back;
	int rc;

	/* RFC 1034 3.1: a trailing dot only says the name is absolute */
	if (len > 0 && raw[len - 1] == '.')
		len--;
	memcpy(buf, raw, len);
	buf[len] = '\0';
	for (i = 0; i < len; i++) {
		if ((unsigned char)buf[i] >= 0x80)
			ascii = false;
		else if (buf[i] >= 'A' && buf[i] <= 'Z')
			buf[i] = (char)(buf[i] - 'A' + 'a');
	}
	if (!ascii) {
		rc = idn2_lookup_u8((const uint8_t *)buf, &alabel, IDN2_NONTRANSITIONAL);
		if (rc != IDN2_OK) {
			util_seterr(why, whylen, "IDNA: %s", idn2_strerror_name(rc));
			return FROM_BAD_DOMAIN;
		}
		rc = idn2_to_unicode_8z8z((const char *)alabel, &back, 0);
		if (rc != IDN2_OK || strcmp(back, buf) != 0) {
			if (rc == IDN2_OK)
				idn2_free(back);
			idn2_free(alabel);
			util_seterr(why, whylen, "not a canonical U-label (UTS #46 mapping "
			            "would change it)");
			return FROM_BAD_DOMAIN;
		}
		idn2_free(back);
		len = util_strlcpy(buf, (const char *)alabel, sizeof(buf));
		idn2_free(alabel);
		if (len >= sizeof(buf)) {
			util_seterr(why, whylen, "domain longer than %d octets", DNSNAME_MAX);
			return FROM_BAD_DOMAIN;
		}
	}
	if (check_hostname(buf, why, whylen) != FROM_OK)
		return FROM_BAD_DOMAIN;
	memcpy(out, buf, len + 1);
	return FROM_OK;
}

/* from_parse: one From field body to one mailbox, or why not. */
enum from_status
from_parse(const char *value, size_t len, struct from_addr *addr_r, char *why, size_t whylen)
{
	char domain[FROM_DOMAIN_MAX];
	struct parser ps;
	enum from_status st;
	size_t bad;

	memset(addr_r, 0, sizeof(*addr_r));
	if (why != NULL && whylen > 0)
		why[0] = '\0';
	if (len > FROM_INPUT_MAX) {
		util_seterr(why, whylen, "field longer than %d octets", FROM_INPUT_MAX);
		return FROM_TOO_LONG;
	}
	if (len == 0 || value == NULL) {
		util_seterr(why, whylen, "no mailbox");
		return FROM_EMPTY;
	}
	/* RFC 6532 3.1: 8-bit text must be UTF-8; anything else is not the field */
	if ((bad = utf8_check((const unsigned char *)value, len)) != 0) {
		util_seterr(why, whylen, "%s at %zu",
		            value[bad - 1] == '\0' ? "NUL byte" : "invalid UTF-8", bad - 1);
		return FROM_SYNTAX;
	}

	memset(&ps, 0, sizeof(ps));
	ps.s = (const unsigned char *)value;
	ps.len = len;
	ps.why = why;
	ps.whylen = whylen;
	ps.mbstatus = FROM_OK;
	ps.addr.buf = addr_r->addr;
	ps.addr.cap = sizeof(addr_r->addr);
	ps.domain.buf = domain;
	ps.domain.cap = sizeof(domain);
	if (!parse_list(&ps)) {
		memset(addr_r, 0, sizeof(*addr_r));
		return FROM_SYNTAX;
	}
	addr_r->addr[ps.addr.len] = '\0';
	domain[ps.domain.len] = '\0';

	/* RFC 7489 3.1.1 and 6.6.1: no single author, no author domain */
	if (ps.group) {
		st = FROM_GROUP;
		util_seterr(why, whylen, "group syntax");
	} else if (ps.nmailbox > 1) {
		st = FROM_MULTIPLE;
		util_seterr(why, whylen, "%zu mailboxes", ps.nmailbox);
	} else if (ps.nmailbox == 0) {
		st = FROM_EMPTY;
		util_seterr(why, whylen, "no mailbox");
	} else if (ps.mbstatus != FROM_OK) {
		st = ps.mbstatus;
		util_seterr(why, whylen, "%s", ps.mbwhy);
	} else if (ps.addr.overflow) {
		st = FROM_TOO_LONG;
		util_seterr(why, whylen, "address longer than %d octets", FROM_ADDR_MAX - 1);
	} else if (ps.domain.overflow) {
		st = FROM_TOO_LONG;
		util_seterr(why, whylen, "domain longer than %d octets", FROM_DOMAIN_MAX - 1);
	} else
		st = finish_domain(domain, addr_r->domain, why, whylen);
	if (st != FROM_OK)
		memset(addr_r, 0, sizeof(*addr_r));
	return st;
}

/* from_status_name: the token for a status, as logs and headers show it. */
const char *
from_status_name(enum from_status status)
{
	switch (status) {
	case FROM_OK:
		return "ok";
	case FROM_EMPTY:
		return "empty";
	case FROM_MULTIPLE:
		return "multiple";
	case FROM_GROUP:
		return "group";
	case FROM_NO_DOMAIN:
		return "no-domain";
	case FROM_BAD_DOMAIN:
		return "bad-domain";
	case FROM_SYNTAX:
		return "syntax";
	case FROM_TOO_LONG:
		return "too-long";
	}
	return "unknown";
}
