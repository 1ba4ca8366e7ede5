/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * t_cidr.c -- cidr_set_add and cidr_set_match, table-driven.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>

#include "cidr.h"
#include "../tap.h"

static const char long_text[] = "2001:0db8:0000:0000:0000:0000:0000:0000:0000:0000:0000:0000/128";

static const struct {
	const char *text;
	int ok;          /* 1: accepted, 0: rejected */
	const char *err; /* substring of the reason when rejected */
} add_rows[] = {
    {"192.0.2.0/24", 1, NULL},
    {"192.0.2.1/24", 0, "192.0.2.1/24: host bits set; did you mean 192.0.2.0/24?"},
    {"192.0.2.1", 1, NULL},
    {"0.0.0.0/0", 1, NULL},
    {"192.0.2.1/32", 1, NULL},
    {"192.0.2.0/33", 0, "out of range (0-32)"},
    {"2001:db8::/32", 1, NULL},
    {"2001:db8::1/32", 0, "host bits set; did you mean 2001:db8::/32?"},
    {"[::1]/128", 1, NULL},
    {"[::1]", 1, NULL},
    {"::/0", 1, NULL},
    {"2001:db8::/129", 0, "out of range (0-128)"},
    {"", 0, "empty"},
    {"/24", 0, "missing address"},
    {"192.0.2.0/", 0, "missing prefix length"},
    {"192.0.2.0/x", 0, "not a decimal number"},
    {"192.0.2.0/-1", 0, "not a decimal number"},
    {"192.0.2.0/+24", 0, "not a decimal number"},
    {"192.0.2.0/ 24", 0, "not a decimal number"},
    {"192.0.2.0/024", 0, "leading zero"},
    {"192.0.2.0/0x18", 0, "not a decimal number"},
    {"192.0.2/24", 0, "not an IPv4 or IPv6 address"},
    {"300.0.0.0/8", 0, "not an IPv4 or IPv6 address"},
    {"010.0.0.0/8", 0, "not an IPv4 or IPv6 address"},
    {"[192.0.2.1]", 0, "brackets are for IPv6"},
    {"[::1", 0, "unbalanced"},
    {"example.com", 0, "not an IPv4 or IPv6 address"},
    {" 192.0.2.0/24", 0, "not an IPv4 or IPv6 address"},
    {"192.0.2.0/24/24", 0, "not a decimal number"},
    {"::ffff:192.0.2.0/120", 1, NULL},
    {"2001:db8::/64", 1, NULL},
    {"2001:db8:0:0:8000::/64", 0, "did you mean 2001:db8::/64?"},
    {"fe80::1%eth0", 0, "not an IPv4 or IPv6 address"},
    {long_text, 0, "too long"},
    {"192.0.2.0/99999999999999999999", 0, "out of range (0-32)"},
    {"10.0.0.0/8", 1, NULL},
    {"0.0.0.0/00", 0, "leading zero"},
    {"[2001:db8::1]/32", 0, "did you mean [2001:db8::]/32?"},
    {"192.0.2.128/25", 1, NULL},
    {"192.0.2.64/25", 0, "did you mean 192.0.2.0/25?"},
    {"0.0.0.1/0", 0, "did you mean 0.0.0.0/0?"},
    {"[]/0", 0, "missing address"},
};

static const struct {
	const char *prefix;
	const char *client;
	int match;
} match_rows[] = {
    {"192.0.2.0/24", "192.0.2.0", 1},
    {"192.0.2.0/24", "192.0.2.255", 1},
    {"192.0.2.0/24", "192.0.3.0", 0},
    {"192.0.2.0/24", "192.0.1.255", 0},
    {"0.0.0.0/0", "203.0.113.7", 1},
    {"0.0.0.0/0", "2001:db8::1", 0},
    {"::/0", "2001:db8::1", 1},
    {"::/0", "192.0.2.1", 0},
    {"192.0.2.1/32", "192.0.2.1", 1},
    {"192.0.2.1/32", "192.0.2.2", 0},
    {"192.0.2.1", "192.0.2.1", 1},
    {"2001:db8::1/128", "2001:db8::1", 1},
    {"2001:db8::1/128", "2001:db8::2", 0},
    {"2001:db8:1:2::/64", "2001:db8:1:2:ffff:ffff:ffff:ffff", 1},
    {"2001:db8:1:2::/64", "2001:db8:1:3::", 0},
    {"2001:db8:1:2::/64", "2001:db8:1:1:ffff:ffff:ffff:ffff", 0},
    {"2001:db8:1:2::/64", "2001:db8:1:2::", 1},
    {"192.0.2.0/24", "::ffff:192.0.2.10", 1},
    {"192.0.2.0/24", "::ffff:192.0.3.10", 0},
    {"::ffff:192.0.2.0/120", "192.0.2.10", 1},
    {"::ffff:192.0.2.0/120", "::ffff:192.0.2.10", 1},
    {"::/0", "::ffff:192.0.2.10", 1},
    {"0.0.0.0/0", "::ffff:192.0.2.10", 1},
    {"192.0.2.0/24", "::192.0.2.10", 0},        /* IPv4-compatible is not mapped */
    {"192.0.2.0/24", "64:ff9b::192.0.2.10", 0}, /* NAT64 is not mapped */
    {"192.0.2.128/25", "192.0.2.127", 0},
    {"192.0.2.128/25", "192.0.2.128", 1},
    {"10.0.0.0/8", "10.255.255.255", 1},
    {"10.0.0.0/8", "11.0.0.0", 0},
    {"2001:db8::/32", "[2001:db8::5]", 1},
    {"2001:db8::/31", "2001:db9::", 1},
    {"2001:db8::/32", "2001:db9::", 0},
    {"192.0.2.0/24", "not-an-address", 0},
    {"192.0.2.0/24", "", 0},
    {"::1", "::1", 1},
    {"127.0.0.1", "::1", 0},
    {"192.0.2.0/23", "192.0.3.255", 1},
    {"192.0.2.0/31", "192.0.2.1", 1},
    {"192.0.2.0/31", "192.0.2.2", 0},
    {"::ffff:0:0/96", "198.51.100.1", 1}, /* all of IPv4 */
    {"2001:db8::/127", "2001:db8::1", 1},
    {"2001:db8::/127", "2001:db8::2", 0},
};

/* to_sockaddr: fills ss from a textual address; false if it is not one. */
static int
to_sockaddr(const char *text, struct sockaddr_storage *ss)
{
	struct sockaddr_in *sin = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;

	memset(ss, 0, sizeof(*ss));
	if (inet_pton(AF_INET, text, &sin->sin_addr) == 1) {
		sin->sin_family = AF_INET;
		return 1;
	}
	if (inet_pton(AF_INET6, text, &sin6->sin6_addr) == 1) {
		sin6->sin6_family = AF_INET6;
		return 1;
	}
	return 0;
}

int
main(void)
{
	struct sockaddr_storage ss;
	struct sockaddr_un sun;
	struct cidr_set *set;
	char err[256];
	size_t i;

	for (i = 0; i < sizeof(add_rows) / sizeof(add_rows[0]); i++) {
		int rc;

		set = cidr_set_new();
		err[0] = '\0';
		rc = cidr_set_add(set, add_rows[i].text, err, sizeof(err));
		if (add_rows[i].ok)
			ok(rc == 0 && cidr_set_count(set) == 1, "add %zu: \"%s\" accepted (%s)", i,
			   add_rows[i].text, err);
		else
			ok(rc == -1 && cidr_set_count(set) == 0 &&
			       strstr(err, add_rows[i].err) != NULL,
			   "add %zu: \"%.40s\" rejected: want \"%s\", got \"%s\"", i,
			   add_rows[i].text, add_rows[i].err, err);
		cidr_set_free(set);
	}

	for (i = 0; i < sizeof(match_rows) / sizeof(match_rows[0]); i++) {
		int got, viasa;

		set = cidr_set_new();
		if (cidr_set_add(set, match_rows[i].prefix, err, sizeof(err)) < 0) {
			ok(0, "match %zu: prefix \"%s\": %s", i, match_rows[i].prefix, err);
			cidr_set_free(set);
			continue;
		}
		got = cidr_set_match_text(set, match_rows[i].client);
		/* The sockaddr path must agree wherever the client is an address. */
		viasa = to_sockaddr(match_rows[i].client, &ss)
		            ? cidr_set_match(set, (struct sockaddr *)&ss)
		            : got;
		ok(got == match_rows[i].match && viasa == got,
		   "match %zu: %s in %s: want %d, got %d/%d", i, match_rows[i].client,
		   match_rows[i].prefix, match_rows[i].match, got, viasa);
		cidr_set_free(set);
	}

	/* A set of several prefixes, and the degenerate cases. */
	set = cidr_set_new();
	ok(cidr_set_add(set, "192.0.2.0/24", err, sizeof(err)) == 0 &&
	       cidr_set_add(set, "2001:db8::/32", err, sizeof(err)) == 0 &&
	       cidr_set_add(set, "198.51.100.7", err, sizeof(err)) == 0 && cidr_set_count(set) == 3,
	   "multi 0: three prefixes added");
	ok(cidr_set_match_text(set, "198.51.100.7") && cidr_set_match_text(set, "2001:db8:ff::1") &&
	       cidr_set_match_text(set, "::ffff:192.0.2.99") &&
	       !cidr_set_match_text(set, "198.51.100.8"),
	   "multi 1: each prefix matches its own");
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	ok(!cidr_set_match(set, (struct sockaddr *)&sun), "multi 2: AF_UNIX never matches");
	ok(!cidr_set_match(set, NULL) && !cidr_set_match_text(set, NULL), "multi 3: NULL address");
	cidr_set_free(set);
	set = cidr_set_new();
	ok(!cidr_set_match_text(set, "192.0.2.1") && cidr_set_count(set) == 0,
	   "multi 4: empty set matches nothing");
	ok(cidr_set_add(NULL, "192.0.2.1", err, sizeof(err)) == -1 &&
	       cidr_set_add(set, NULL, err, sizeof(err)) == -1 &&
	       cidr_set_add(set, "x", NULL, 0) == -1,
	   "multi 5: NULL set, NULL text, NULL err");
	cidr_set_free(set);
	ok(!cidr_set_match_text(NULL, "192.0.2.1") && cidr_set_count(NULL) == 0,
	   "multi 6: NULL set matches nothing");
	cidr_set_free(NULL);
	return tap_done();
}
