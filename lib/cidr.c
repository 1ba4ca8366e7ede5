/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * cidr.c -- sets of IPv4 and IPv6 networks, for RelayNetworks.
 *
 * A set is a flat array searched linearly: relay lists hold a handful of
 * prefixes, and a linear scan of a few dozen 16-byte keys is cheaper than
 * any tree.  Addresses are parsed by inet_pton(3) alone; this file only
 * splits off "/len" and the optional [brackets] around an IPv6 address.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cidr.h"
#include "util.h"

/*
 * Longest text we accept: the longest IPv6 address inet_pton(3) takes
 * (the IPv4-embedded form, INET6_ADDRSTRLEN - 1 characters), in brackets,
 * plus "/128".  Anything longer is not an address.
 */
#define CIDR_TEXT_MAX (INET6_ADDRSTRLEN + 2 + 4)

struct cidr_entry {
	int family;             /* AF_INET or AF_INET6 */
	unsigned prefix;        /* 0..32 or 0..128 */
	unsigned char addr[16]; /* network byte order; IPv4 uses the first 4 bytes */
};

struct cidr_set {
	struct cidr_entry *v;
	size_t n;
	size_t cap;
};

/* RFC 4291 2.5.5.2: ::ffff:0:0/96 holds IPv4-mapped addresses. */
static const unsigned char v4mapped_prefix[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

/* cidr_set_new: returns an empty set, or NULL when out of memory. */
struct cidr_set *
cidr_set_new(void)
{
	return calloc(1, sizeof(struct cidr_set));
}

/* cidr_set_free: releases the set; NULL is a no-op. */
void
cidr_set_free(struct cidr_set *set)
{
	if (set == NULL)
		return;
	free(set->v);
	free(set);
}

/* addr_len: address length in bytes for family. */
static size_t
addr_len(int family)
{
	return family == AF_INET ? 4 : 16;
}

/* prefix_match: true if the first prefix bits of a and b are equal. */
static bool
prefix_match(const unsigned char *a, const unsigned char *b, unsigned prefix)
{
	unsigned bytes = prefix / 8, bits = prefix % 8;
	unsigned char mask;

	if (memcmp(a, b, bytes) != 0)
		return false;
	if (bits == 0)
		return true;
	mask = (unsigned char)(0xff << (8 - bits));
	return ((a[bytes] ^ b[bytes]) & mask) == 0;
}

/* host_bits_clear: clears the bits of addr beyond prefix; true if any were set. */
static bool
host_bits_clear(unsigned char *addr, size_t len, unsigned prefix)
{
	bool any = false;
	size_t i;

	for (i = 0; i < len; i++) {
		unsigned char keep;

		if ((i + 1) * 8 <= prefix)
			keep = 0xff;
		else if (i * 8 >= prefix)
			keep = 0;
		else
			keep = (unsigned char)(0xff << (8 - (prefix - i * 8)));
		if (addr[i] & (unsigned char)~keep)
			any = true;
		addr[i] &= keep;
	}
	return any;
}

/*
 * parse_length: the decimal prefix length after '/'.  Only digits, no sign,
 * no blanks, no leading zero (so "/024" cannot be read as octal by anyone).
 */
static int
parse_length(const char *text, const char *s, unsigned max, unsigned *len_r, char *err,
             size_t errlen)
{
	unsigned v = 0;
	const char *p;

	if (*s == '\0')
		return util_seterr(err, errlen, "%s: missing prefix length after '/'", text);
	for (p = s; *p != '\0'; p++) {
		if (*p < '0' || *p > '9')
			return util_seterr(err, errlen,
			                   "%s: prefix length \"%s\" is not a decimal number", text,
			                   s);
		if (v <= max) /* v stays below 10 * 129: no overflow */
			v = v * 10 + (unsigned)(*p - '0');
	}
	if (s[0] == '0' && s[1] != '\0')
		return util_seterr(err, errlen, "%s: prefix length \"%s\" has a leading zero", text,
		                   s);
	if (v > max)
		return util_seterr(err, errlen, "%s: prefix length %s out of range (0-%u)", text, s,
		                   max);
	*len_r = v;
	return 0;
}

/* set_push: appends e to set. */
static int
set_push(struct cidr_set *set, const struct cidr_entry *e, char *err, size_t errlen)
{
	if (set->n == set->cap) {
		size_t ncap = set->cap ? set->cap * 2 : 8;
		struct cidr_entry *nv;

		if ((nv = realloc(set->v, ncap * sizeof(*nv))) == NULL)
			return util_seterr(err, errlen, "out of memory");
		set->v = nv;
		set->cap = ncap;
	}
	set->v[set->n++] = *e;
	return 0;
}

/*
 * cidr_set_add: adds one prefix ("192.0.2.0/24", "2001:db8::/32",
 * "127.0.0.1", "[::1]/128").  An IPv4-mapped IPv6 prefix of /96 or longer
 * (::ffff:192.0.2.0/120) is stored as the IPv4 prefix it denotes, so it
 * matches native IPv4 clients too.
 */
int
cidr_set_add(struct cidr_set *set, const char *text, char *err, size_t errlen)
{
	char buf[CIDR_TEXT_MAX + 1], shown[INET6_ADDRSTRLEN];
	struct cidr_entry e;
	char *addr, *slash;
	size_t tlen;
	unsigned max;
	bool bracketed = false;

	if (set == NULL)
		return util_seterr(err, errlen, "no set to add to");
	if (text == NULL || *text == '\0')
		return util_seterr(err, errlen, "empty network");
	tlen = strlen(text);
	if (tlen > CIDR_TEXT_MAX)
		return util_seterr(err, errlen, "%.*s...: network too long", 20, text);
	memcpy(buf, text, tlen + 1);

	addr = buf;
	if ((slash = strchr(buf, '/')) != NULL)
		*slash = '\0';
	if (addr[0] == '[') {
		size_t alen = strlen(addr);

		if (alen < 2 || addr[alen - 1] != ']')
			return util_seterr(err, errlen, "%s: unbalanced '['", text);
		addr[alen - 1] = '\0';
		addr++;
		bracketed = true;
	}
	if (*addr == '\0')
		return util_seterr(err, errlen, "%s: missing address", text);

	memset(&e, 0, sizeof(e));
	if (!bracketed && inet_pton(AF_INET, addr, e.addr) == 1) {
		e.family = AF_INET;
		max = 32;
	} else if (inet_pton(AF_INET6, addr, e.addr) == 1) {
		e.family = AF_INET6;
		max = 128;
	} else if (bracketed && inet_pton(AF_INET, addr, e.addr) == 1) {
		return util_seterr(err, errlen, "%s: brackets are for IPv6 addresses only", text);
	} else {
		return util_seterr(err, errlen, "%s: not an IPv4 or IPv6 address", text);
	}

	e.prefix = max;
	if (slash != NULL && parse_length(text, slash + 1, max, &e.prefix, err, errlen) < 0)
		return -1;

	if (host_bits_clear(e.addr, addr_len(e.family), e.prefix)) {
		if (inet_ntop(e.family, e.addr, shown, sizeof(shown)) == NULL)
			util_strlcpy(shown, "?", sizeof(shown));
		return util_seterr(err, errlen, "%s: host bits set; did you mean %s%s%s/%u?", text,
		                   bracketed ? "[" : "", shown, bracketed ? "]" : "", e.prefix);
	}

	if (e.family == AF_INET6 && e.prefix >= 96 &&
	    memcmp(e.addr, v4mapped_prefix, sizeof(v4mapped_prefix)) == 0) {
		memmove(e.addr, e.addr + 12, 4);
		memset(e.addr + 4, 0, 12);
		e.family = AF_INET;
		e.prefix -= 96;
	}
	return set_push(set, &e, err, errlen);
}

/* cidr_set_count: number of prefixes in the set. */
size_t
cidr_set_count(const struct cidr_set *set)
{
	return set == NULL ? 0 : set->n;
}

/* cidr_set_wider: the first prefix wider than the minimum lengths, if any. */
bool
cidr_set_wider(const struct cidr_set *set, unsigned v4_min, unsigned v6_min, char *text_r,
               size_t len)
{
	char addr[INET6_ADDRSTRLEN];
	size_t i;

	if (set == NULL)
		return false;
	for (i = 0; i < set->n; i++) {
		const struct cidr_entry *e = &set->v[i];

		if (e->prefix >= (e->family == AF_INET ? v4_min : v6_min))
			continue;
		if (inet_ntop(e->family, e->addr, addr, sizeof(addr)) == NULL)
			addr[0] = '\0';
		(void)snprintf(text_r, len, "%s/%u", addr, e->prefix);
		return true;
	}
	return false;
}

/* match_raw: true if the family/addr pair is in the set. */
static bool
match_raw(const struct cidr_set *set, int family, const unsigned char *addr)
{
	size_t i;

	for (i = 0; i < set->n; i++)
		if (set->v[i].family == family &&
		    prefix_match(set->v[i].addr, addr, set->v[i].prefix))
			return true;
	return false;
}

/*
 * match_addr: as cidr_set_match for raw bytes.  An IPv4-mapped client is
 * tried as IPv4 (Postfix on a dual-stack socket reports IPv4 peers that
 * way) and as itself, so ::/0 still covers it.
 */
static bool
match_addr(const struct cidr_set *set, int family, const unsigned char *addr)
{
	if (set == NULL)
		return false;
	if (family == AF_INET6 && memcmp(addr, v4mapped_prefix, sizeof(v4mapped_prefix)) == 0 &&
	    match_raw(set, AF_INET, addr + 12))
		return true;
	return match_raw(set, family, addr);
}

/* cidr_set_match: true if addr (AF_INET or AF_INET6 sockaddr) is in the set. */
bool
cidr_set_match(const struct cidr_set *set, const struct sockaddr *addr)
{
	unsigned char raw[16];

	if (addr == NULL)
		return false;
	switch (addr->sa_family) {
	case AF_INET:
		/* memcpy: the caller's sockaddr need not be aligned for sockaddr_in. */
		memcpy(raw, (const char *)addr + offsetof(struct sockaddr_in, sin_addr), 4);
		return match_addr(set, AF_INET, raw);
	case AF_INET6:
		memcpy(raw, (const char *)addr + offsetof(struct sockaddr_in6, sin6_addr), 16);
		return match_addr(set, AF_INET6, raw);
	default:
		return false;
	}
}

/* cidr_set_match_text: as cidr_set_match, for a textual address ("[::1]" too). */
bool
cidr_set_match_text(const struct cidr_set *set, const char *addr)
{
	char buf[INET6_ADDRSTRLEN + 2];
	unsigned char raw[16];
	size_t len;

	if (addr == NULL)
		return false;
	if (inet_pton(AF_INET, addr, raw) == 1)
		return match_addr(set, AF_INET, raw);
	len = strlen(addr);
	if (len >= 2 && len < sizeof(buf) && addr[0] == '[' && addr[len - 1] == ']') {
		memcpy(buf, addr + 1, len - 2);
		buf[len - 2] = '\0';
		addr = buf;
	}
	if (inet_pton(AF_INET6, addr, raw) == 1)
		return match_addr(set, AF_INET6, raw);
	return false;
}
