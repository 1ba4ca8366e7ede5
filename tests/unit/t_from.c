/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * t_from.c -- from_parse(): one From field body, one author domain or a status.
 *
 * Each row is {input, explicit length or 0 for strlen, status, domain, addr};
 * a NULL domain or addr is not compared.  Rows too long to write out are
 * built at run time and appended to the same sequence of row numbers.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "from.h"
#include "../tap.h"

struct row {
	const char *in;
	size_t len;
	enum from_status status;
	const char *domain;
	const char *addr;
};

#define L63 "aaaaaaaaaabbbbbbbbbbccccccccccddddddddddeeeeeeeeeeffffffffffggg"
#define L64 L63 "g"

static const struct row rows[] = {
    /* plain forms */
    {"user@example.com", 0, FROM_OK, "example.com", "user@example.com"},
    {"User Name <user@example.com>", 0, FROM_OK, "example.com", "user@example.com"},
    {"<user@example.com>", 0, FROM_OK, "example.com", "user@example.com"},
    {"Foo < user @ example.com >", 0, FROM_OK, "example.com", "user@example.com"},
    {"john . doe @ example . com", 0, FROM_OK, "example.com", "john.doe@example.com"},
    {"John Q. Public <jqp@example.com>", 0, FROM_OK, "example.com", "jqp@example.com"},
    {"\"a\" \"b\" <u@example.com>", 0, FROM_OK, "example.com", "u@example.com"},
    {"a.@docomo.ne.jp", 0, FROM_OK, "docomo.ne.jp", "a.@docomo.ne.jp"},
    {"Foo <user@example.com> (c) , ", 0, FROM_OK, "example.com", "user@example.com"},
    {"a@x.example,", 0, FROM_OK, "x.example", "a@x.example"},
    /* display names that look like addresses must not win */
    {"\"a@b.example\" <x@c.example>", 0, FROM_OK, "c.example", "x@c.example"},
    {"(a@evil.test) user@good.example", 0, FROM_OK, "good.example", "user@good.example"},
    {"user@good.example (x <y@z>)", 0, FROM_OK, "good.example", "user@good.example"},
    {"(x, \"y\" (nested <a@evil.test>)) user@good.example", 0, FROM_OK, "good.example",
     "user@good.example"},
    {"(\\) \\( \\\\) user@good.example", 0, FROM_OK, "good.example", "user@good.example"},
    {"\"quoted \\\" pair <a@evil.test>\" <user@good.example>", 0, FROM_OK, "good.example",
     "user@good.example"},
    {"\"a\\\\b\"@good.example", 0, FROM_OK, "good.example", "\"a\\\\b\"@good.example"},
    {"\"a@b<c\"@real.example", 0, FROM_OK, "real.example", "\"a@b<c\"@real.example"},
    {"user@library.example.edu.evil.test", 0, FROM_OK, "library.example.edu.evil.test",
     "user@library.example.edu.evil.test"},
    {"=?utf-8?q?J=C3=B6rg_M=C3=BCller?= <jm@example.org>", 0, FROM_OK, "example.org",
     "jm@example.org"},
    {"=?utf-8?b?SsO2cmc=?= <jm@example.org>", 0, FROM_OK, "example.org", "jm@example.org"},
    /* folding */
    {"Foo\r\n <user@example.com>", 0, FROM_OK, "example.com", "user@example.com"},
    {"Foo\r\n\t(folded\r\n comment) <user@example.com>", 0, FROM_OK, "example.com",
     "user@example.com"},
    {"Foo\n <user@example.com>", 0, FROM_OK, "example.com", "user@example.com"},
    {"\"fo\r\n o\"@example.com", 0, FROM_OK, "example.com", "\"fo o\"@example.com"},
    {"user@example.com\r\n", 0, FROM_OK, "example.com", "user@example.com"},
    {"Foo\r\n<user@example.com>", 0, FROM_SYNTAX, NULL, NULL},
    {"Foo\r <user@example.com>", 0, FROM_SYNTAX, NULL, NULL},
    /* RFC 5322 4.4 obs-route: the final address counts */
    {"<@a.example,@b.example:user@c.example>", 0, FROM_OK, "c.example", "user@c.example"},
    {"<@a.example:user@c.example>", 0, FROM_OK, "c.example", "user@c.example"},
    {"<,@a.example,,@[192.0.2.1]:user@c.example>", 0, FROM_OK, "c.example", "user@c.example"},
    {"<@user@c.example>", 0, FROM_SYNTAX, NULL, NULL},
    /* domain case, trailing dot, IDN */
    {"User@EXAMPLE.COM", 0, FROM_OK, "example.com", "User@EXAMPLE.COM"},
    {"user@example.com.", 0, FROM_OK, "example.com", "user@example.com."},
    /* octal escapes: a hex escape would swallow the "c" of "cher" */
    {"user@b\303\274cher.example", 0, FROM_OK, "xn--bcher-kva.example",
     "user@b\303\274cher.example"},
    /* U-labels only in canonical form: no UTS #46 mapping onto a keyed domain */
    {"user@B\303\234CHER.example", 0, FROM_BAD_DOMAIN, NULL, NULL},
    {"user@\357\275\214\357\275\211\357\275\202\357\275\222\357\275\201\357\275\222\357\275\231.example.edu",
     0, FROM_BAD_DOMAIN, NULL, NULL}, /* fullwidth "library" */
    {"user@library\343\200\202example.edu", 0, FROM_BAD_DOMAIN, NULL, NULL}, /* U+3002 */
    {"user@library\357\274\216example.edu", 0, FROM_BAD_DOMAIN, NULL, NULL}, /* U+FF0E */
    {"user@library.example.edu\302\255", 0, FROM_BAD_DOMAIN, NULL, NULL}, /* soft hyphen */
    {"user@libr\342\200\213ary.example.edu", 0, FROM_BAD_DOMAIN, NULL, NULL}, /* ZWSP */
    {"user@b\303\274cher.EXAMPLE", 0, FROM_OK, "xn--bcher-kva.example", NULL},
    {"user@XN--BCHER-KVA.example", 0, FROM_OK, "xn--bcher-kva.example",
     "user@XN--BCHER-KVA.example"},
    {"J\xc3\xb6rg <j\xc3\xb6rg@m\xc3\xbcnchen.de>", 0, FROM_OK, "xn--mnchen-3ya.de",
     "j\xc3\xb6rg@m\xc3\xbcnchen.de"},
    {"user@\xe2\x98\x83.example", 0, FROM_BAD_DOMAIN, NULL, NULL},
    {"user@xn--zz.b\303\274cher.de", 0, FROM_BAD_DOMAIN, NULL, NULL},
    /* RFC 6532 3.1: 8-bit must be UTF-8 */
    {"\"\xc3\x28\" <u@example.com>", 0, FROM_SYNTAX, NULL, NULL},
    {"J\xf6rg <u@example.com>", 0, FROM_SYNTAX, NULL, NULL},
    {"user@ex\xe9mple.com", 0, FROM_SYNTAX, NULL, NULL},
    {"u@example.com (\xed\xa0\x80)", 0, FROM_SYNTAX, NULL, NULL},
    {"u@example.com (\xc0\xaf)", 0, FROM_SYNTAX, NULL, NULL},
    /* several mailboxes, groups */
    {"a@x.example, b@y.example", 0, FROM_MULTIPLE, NULL, NULL},
    {"a@x.example,b@x.example", 0, FROM_MULTIPLE, NULL, NULL},
    {"<a@x.example>, \"B\" <b@y.example>", 0, FROM_MULTIPLE, NULL, NULL},
    {"a@x.example, b", 0, FROM_MULTIPLE, NULL, NULL},
    {"undisclosed:;", 0, FROM_GROUP, NULL, NULL},
    {"undisclosed-recipients: ;", 0, FROM_GROUP, NULL, NULL},
    {"group: a@x.example;", 0, FROM_GROUP, NULL, NULL},
    {"group: a@x.example, b@y.example;", 0, FROM_GROUP, NULL, NULL},
    {"a@x.example, g:;", 0, FROM_GROUP, NULL, NULL},
    {":;", 0, FROM_SYNTAX, NULL, NULL},
    {"g: h: a@x.example;;", 0, FROM_SYNTAX, NULL, NULL},
    {"group: a@x.example", 0, FROM_SYNTAX, NULL, NULL},
    /* no mailbox, no domain */
    {"", 0, FROM_EMPTY, NULL, NULL},
    {"   \t ", 0, FROM_EMPTY, NULL, NULL},
    {" \r\n ", 0, FROM_EMPTY, NULL, NULL},
    {"(just a comment)", 0, FROM_EMPTY, NULL, NULL},
    {",", 0, FROM_EMPTY, NULL, NULL},
    {"user", 0, FROM_NO_DOMAIN, NULL, NULL},
    {"<user>", 0, FROM_NO_DOMAIN, NULL, NULL},
    {"Library", 0, FROM_NO_DOMAIN, NULL, NULL},
    {"The Library", 0, FROM_NO_DOMAIN, NULL, NULL},
    {"user@", 0, FROM_NO_DOMAIN, NULL, NULL},
    {"Foo <user@>", 0, FROM_NO_DOMAIN, NULL, NULL},
    /* bad domains */
    {"user@[192.0.2.1]", 0, FROM_BAD_DOMAIN, NULL, NULL},
    {"Foo <user@[IPv6:2001:db8::1]>", 0, FROM_BAD_DOMAIN, NULL, NULL},
    {"user@.example", 0, FROM_BAD_DOMAIN, NULL, NULL},
    {"user@example..com", 0, FROM_BAD_DOMAIN, NULL, NULL},
    {"user@example.com..", 0, FROM_BAD_DOMAIN, NULL, NULL},
    {"user@.", 0, FROM_BAD_DOMAIN, NULL, NULL},
    {"user@" L64 ".example", 0, FROM_BAD_DOMAIN, NULL, NULL},
    {"user@192.0.2.1", 0, FROM_BAD_DOMAIN, NULL, NULL},
    {"user@-bad.example", 0, FROM_BAD_DOMAIN, NULL, NULL},
    {"user@bad-.example", 0, FROM_BAD_DOMAIN, NULL, NULL},
    {"user@exa_mple.com", 0, FROM_BAD_DOMAIN, NULL, NULL},
    {"user@exa!mple.com", 0, FROM_BAD_DOMAIN, NULL, NULL},
    /* syntax */
    {"Foo <user@good.example", 0, FROM_SYNTAX, NULL, NULL},
    {"Foo user@good.example>", 0, FROM_SYNTAX, NULL, NULL},
    {"Foo <user@example.com>>", 0, FROM_SYNTAX, NULL, NULL},
    {"Foo <<user@example.com>", 0, FROM_SYNTAX, NULL, NULL},
    {"\"unbalanced <user@good.example>", 0, FROM_SYNTAX, NULL, NULL},
    {"(unbalanced user@good.example", 0, FROM_SYNTAX, NULL, NULL},
    {"user@example.com (unbalanced", 0, FROM_SYNTAX, NULL, NULL},
    {"user@example.com )", 0, FROM_SYNTAX, NULL, NULL},
    {"user@[192.0.2.1", 0, FROM_SYNTAX, NULL, NULL},
    {"<>", 0, FROM_SYNTAX, NULL, NULL},
    {"Foo <>", 0, FROM_SYNTAX, NULL, NULL},
    {"<a@x.example><b@y.example>", 0, FROM_SYNTAX, NULL, NULL},
    {"a@x.example b@y.example", 0, FROM_SYNTAX, NULL, NULL},
    {"Foo user@example.com", 0, FROM_SYNTAX, NULL, NULL},
    {"a@x.example <b@y.example>", 0, FROM_SYNTAX, NULL, NULL},
    {"a@b@c", 0, FROM_SYNTAX, NULL, NULL},
    {"@example.com", 0, FROM_SYNTAX, NULL, NULL},
    {"@", 0, FROM_SYNTAX, NULL, NULL},
    {"user@exa mple.com", 0, FROM_SYNTAX, NULL, NULL},
    {"user@\"example\".com", 0, FROM_SYNTAX, NULL, NULL},
    {"a@x.example;", 0, FROM_SYNTAX, NULL, NULL},
    {"\"\x01\" <a@b.example>", 0, FROM_SYNTAX, NULL, NULL},
    {"Foo\\ <a@b.example>", 0, FROM_SYNTAX, NULL, NULL},
    {"\"trailing backslash\\", 0, FROM_SYNTAX, NULL, NULL},
    /* a NUL inside len, and the same bytes cut before it */
    {"user@exa\0mple.com", 17, FROM_SYNTAX, NULL, NULL},
    {"user@exa\0mple.com", 8, FROM_OK, "exa", "user@exa"},
    {"\0", 1, FROM_SYNTAX, NULL, NULL},
};

/* printable: a short escaped copy of in for a test description. */
static const char *
printable(const char *in, size_t len)
{
	static char buf[80];
	size_t i, o = 0;

	for (i = 0; i < len && o < sizeof(buf) - 8; i++) {
		unsigned char c = (unsigned char)in[i];

		if (c < 0x20 || c >= 0x7f)
			o += (size_t)snprintf(buf + o, sizeof(buf) - o, "\\x%02x", c);
		else
			buf[o++] = (char)c;
	}
	if (i < len)
		o += (size_t)snprintf(buf + o, sizeof(buf) - o, "...");
	buf[o] = '\0';
	return buf;
}

/* check: runs one row and reports it, naming the row index and input. */
static void
check(size_t i, const struct row *r)
{
	struct from_addr a;
	char why[128];
	enum from_status st;
	size_t len = r->len != 0 ? r->len : strlen(r->in);
	int good;

	memset(&a, 'X', sizeof(a));
	st = from_parse(r->in, len, &a, why, sizeof(why));
	good = st == r->status;
	if (st == FROM_OK) {
		good = good && why[0] == '\0';
		if (r->domain != NULL)
			good = good && strcmp(a.domain, r->domain) == 0;
		if (r->addr != NULL)
			good = good && strcmp(a.addr, r->addr) == 0;
	} else
		/* a reason is always given, short, and no output is left behind */
		good = good && why[0] != '\0' && strlen(why) < 64 && a.addr[0] == '\0' &&
		       a.domain[0] == '\0';
	ok(good, "row %zu: [%s] -> %s", i, printable(r->in, len), from_status_name(r->status));
	if (!good)
		diag("got %s (%s) domain [%s] addr [%s]", from_status_name(st),
		     st == FROM_OK ? "" : why, printable(a.domain, strlen(a.domain)),
		     printable(a.addr, strlen(a.addr)));
}

/* repeat: appends n copies of s to buf at *off. */
static void
repeat(char *buf, size_t *off, const char *s, size_t n)
{
	size_t l = strlen(s);

	while (n-- > 0) {
		memcpy(buf + *off, s, l);
		*off += l;
	}
	buf[*off] = '\0';
}

/* gen: builds one generated row from a prefix, n copies of a filler and a suffix. */
static struct row
gen(const char *pre, const char *fill, size_t n, const char *suf, enum from_status st,
    const char *domain)
{
	struct row r = {NULL, 0, st, domain, NULL};
	size_t off = 0;
	char *buf;

	buf = malloc(strlen(pre) + strlen(fill) * n + strlen(suf) + 1);
	if (buf == NULL)
		abort();
	repeat(buf, &off, pre, 1);
	repeat(buf, &off, fill, n);
	repeat(buf, &off, suf, 1);
	r.in = buf;
	r.len = off;
	return r;
}

/* nested: a row with depth balanced comment levels before an address. */
static struct row
nested(size_t depth, enum from_status st)
{
	struct row r = gen("", "(", depth, "", st, st == FROM_OK ? "example.com" : NULL);
	char *b = realloc((char *)r.in, r.len + depth + sizeof(" u@example.com"));

	if (b == NULL)
		abort();
	memset(b + r.len, ')', depth);
	memcpy(b + r.len + depth, " u@example.com", sizeof(" u@example.com"));
	r.in = b;
	r.len = strlen(b);
	return r;
}

/* long_domain: a row "u@" + three 63-octet labels + one of last octets (+ "."). */
static struct row
long_domain(size_t last, const char *dot, enum from_status st)
{
	struct row r = gen("u@", L63 ".", 3, "", st, NULL);
	char *b = realloc((char *)r.in, r.len + last + 2);

	if (b == NULL)
		abort();
	memset(b + r.len, 'z', last);
	memcpy(b + r.len + last, dot, strlen(dot) + 1);
	r.in = b;
	r.len = strlen(b);
	return r;
}

int
main(void)
{
	struct row g[32];
	struct from_addr a;
	char why[128];
	size_t i, n = 0, base = sizeof(rows) / sizeof(rows[0]);
	static const enum from_status all[] = {FROM_OK,     FROM_EMPTY,     FROM_MULTIPLE,
	                                       FROM_GROUP,  FROM_NO_DOMAIN, FROM_BAD_DOMAIN,
	                                       FROM_SYNTAX, FROM_TOO_LONG};
	static const char *names[] = {"ok",        "empty",      "multiple", "group",
	                              "no-domain", "bad-domain", "syntax",   "too-long"};

	for (i = 0; i < base; i++)
		check(i, &rows[i]);

	/* a display name far past RFC 5322 2.1.1's 998 octets is still a name */
	g[n++] = gen("\"", "x", 1200, "\" <user@example.com>", FROM_OK, "example.com");
	g[n++] = gen("", "Word ", 300, "<user@example.com>", FROM_OK, "example.com");
	/* the 64 KiB input bound, either side */
	g[n++] = gen("", " ", 64 * 1024 - 13, "u@example.com", FROM_OK, "example.com");
	g[n++] = gen("", " ", 64 * 1024 - 12, "u@example.com", FROM_TOO_LONG, NULL);
	g[n++] = gen("", "a@b.example, ", 70 * 1024 / 13, "", FROM_TOO_LONG, NULL);
	g[n++] = gen("", "(", 70 * 1024, "", FROM_TOO_LONG, NULL);
	/* comment nesting: 64 levels parse, 65 and a flood are refused, without recursion */
	g[n++] = nested(1, FROM_OK);
	g[n++] = nested(64, FROM_OK);
	g[n++] = nested(65, FROM_SYNTAX);
	g[n++] = gen("u@example.com ", "(", 64, "", FROM_SYNTAX, NULL);
	g[n++] = gen("", "(", 60000, "", FROM_SYNTAX, NULL);
	g[n++] = gen("", "(a", 30000, "", FROM_SYNTAX, NULL);
	/* many mailboxes */
	g[n++] = gen("", "a@b.example,", 1000, "c@d.example", FROM_MULTIPLE, NULL);
	/* a local part that cannot fit FROM_ADDR_MAX */
	g[n++] = gen("", "l", 400, "@example.com", FROM_TOO_LONG, NULL);
	g[n++] = gen("\"", "l", 400, "\"@example.com", FROM_TOO_LONG, NULL);
	/* a domain longer than FROM_DOMAIN_MAX as written */
	g[n++] = gen("u@", "abcdefghi.", 30, "example", FROM_TOO_LONG, NULL);
	/* RFC 1035 2.3.4: 253 octets is the longest name, 254 one too many */
	g[n++] = long_domain(61, "", FROM_OK);
	g[n++] = long_domain(61, ".", FROM_OK);
	g[n++] = long_domain(62, "", FROM_BAD_DOMAIN);
	g[n++] = long_domain(63, "", FROM_BAD_DOMAIN);
	for (i = 0; i < n; i++)
		check(base + i, &g[i]);
	ok(from_parse(g[n - 4].in, g[n - 4].len, &a, why, sizeof(why)) == FROM_OK &&
	       strlen(a.domain) == 253,
	   "a 253-octet domain is kept whole");

	ok(from_parse(NULL, 0, &a, why, sizeof(why)) == FROM_EMPTY, "NULL, 0 is empty");
	ok(from_parse("a@b.example, c@d.example", 24, &a, NULL, 0) == FROM_MULTIPLE,
	   "why may be NULL");
	ok(from_parse("a@b.example, c@d.example", 24, &a, why, sizeof(why)) == FROM_MULTIPLE &&
	       strcmp(why, "2 mailboxes") == 0,
	   "why says how many mailboxes");
	ok(from_parse("a@b.example, c@d.example", 24, &a, why, 4) == FROM_MULTIPLE &&
	       strcmp(why, "2 m") == 0,
	   "why is cut to whylen");
	ok(from_parse("undisclosed:;", 13, &a, why, sizeof(why)) == FROM_GROUP &&
	       strcmp(why, "group syntax") == 0,
	   "why names group syntax");
	ok(from_parse("Foo <a@b.example", 16, &a, why, sizeof(why)) == FROM_SYNTAX &&
	       strcmp(why, "unbalanced <") == 0,
	   "why names the unbalanced <");

	for (i = 0; i < sizeof(all) / sizeof(all[0]); i++)
		ok(strcmp(from_status_name(all[i]), names[i]) == 0, "from_status_name(%zu) is %s",
		   i, names[i]);
	ok(strcmp(from_status_name((enum from_status)99), "unknown") == 0,
	   "from_status_name of a bad value");

	for (i = 0; i < n; i++)
		free((char *)g[i].in);
	return tap_done();
}
