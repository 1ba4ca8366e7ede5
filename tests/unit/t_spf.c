/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * t_spf.c -- spf_check_host, spf_vendor_check and dns_txt_lookup (lib/dns.c).
 *
 * Most rows run against libspf2's in-memory zone: it has no layer below,
 * so a name it lacks is NXDOMAIN (its built-in nxdomain answer) and
 * nothing reaches real DNS.  The libresolv path (split TXT strings, TTLs,
 * RCODEs, the time bound) runs against a stub DNS server on 127.0.0.1 in
 * a thread of this program.  A test against an outside server (the e2e
 * rig's dnsserver.py --drop NAME) runs when RELAYSIGN_TEST_DNS=host:port
 * is set, with RELAYSIGN_TEST_DNS_DROP naming the unanswered name.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <arpa/nameser.h>
#include <netdb.h>
#include <resolv.h>
#include <spf2/spf.h>
#include <spf2/spf_dns_zone.h>

#include <ctype.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "spf.h"
#include "util.h"
#include "../tap.h"
#include "../zone_rows.h"
#include "../policy_names.h"

#define OK NETDB_SUCCESS

/*
 * spf_on: a checker on a DNS layer of its own made from dopt (spf_new
 * takes a DNS layer made elsewhere, as lib/runtime.c makes it); NULL with
 * the reason in err.  checker_free frees both.
 */
static struct spf *
spf_on(const struct dns_options *dopt, struct spf_options *opt, char *err, size_t errlen)
{
	struct dns *dns = dns_new(dopt, err, errlen);
	struct spf *spf;

	if (dns == NULL)
		return NULL;
	opt->dns = dns;
	if ((spf = spf_new(opt, err, errlen)) == NULL)
		dns_free(dns);
	return spf;
}

/* checker_free: a checker from spf_on and its DNS layer. */
static void
checker_free(struct spf *spf)
{
	struct dns *dns = spf != NULL ? spf_dns(spf) : NULL;

	spf_free(spf);
	dns_free(dns);
}

/* The test zone. */
static const struct zone_row zone_rows[] = {
    {"pass.test", ns_t_txt, OK, "v=spf1 ip4:192.0.2.0/24 ip6:2001:db8::/32 -all"},
    {"pass.test", ns_t_txt, OK, "some unrelated text"},
    {"softfail.test", ns_t_txt, OK, "v=spf1 ip4:192.0.2.1 ~all"},
    {"neutral.test", ns_t_txt, OK, "v=spf1 ip4:192.0.2.1 ?all"},
    {"default.test", ns_t_txt, OK, "v=spf1 ip4:192.0.2.1"},
    {"nospf.test", ns_t_txt, OK, "google-site-verification=abc"},
    {"servfail.test", ns_t_any, TRY_AGAIN, NULL},
    {"refused.test", ns_t_any, NO_RECOVERY, NULL},
    {"inc-servfail.test", ns_t_txt, OK, "v=spf1 include:servfail.test -all"},
    {"syntax.test", ns_t_txt, OK, "v=spf1 ip4:300.1.1.1 -all"},
    {"unknown-mech.test", ns_t_txt, OK, "v=spf1 foo:bar -all"},
    {"two.test", ns_t_txt, OK, "v=spf1 -all"},
    {"two.test", ns_t_txt, OK, "v=spf1 +all"},
    {"inc.test", ns_t_txt, OK, "v=spf1 include:inc2.test -all"},
    {"inc2.test", ns_t_txt, OK, "v=spf1 include:pass.test ~all"},
    {"inc-none.test", ns_t_txt, OK, "v=spf1 include:nxdomain.test -all"},
    {"loop-a.test", ns_t_txt, OK, "v=spf1 include:loop-b.test -all"},
    {"loop-b.test", ns_t_txt, OK, "v=spf1 include:loop-a.test -all"},
    {"self.test", ns_t_txt, OK, "v=spf1 include:self.test -all"},
    {"redir.test", ns_t_txt, OK, "v=spf1 redirect=pass.test"},
    {"redir-none.test", ns_t_txt, OK, "v=spf1 redirect=nxdomain.test"},
    {"macro-i.test", ns_t_txt, OK, "v=spf1 exists:%{i}.ips.macro-i.test -all"},
    {"192.0.2.9.ips.macro-i.test", ns_t_a, OK, "127.0.0.2"},
    {"2.0.0.1.0.d.b.8.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.2.ips.macro-i.test", ns_t_a, OK,
     "127.0.0.2"},
    {"macro-d.test", ns_t_txt, OK, "v=spf1 exists:%{i}.%{d} -all"},
    {"192.0.2.9.macro-d.test", ns_t_a, OK, "127.0.0.2"},
    {"macro-s.test", ns_t_txt, OK, "v=spf1 exists:%{s}.senders.test -all"},
    {"alice@macro-s.test.senders.test", ns_t_a, OK, "127.0.0.2"},
    {"macro-l.test", ns_t_txt, OK, "v=spf1 exists:%{l}.users.%{d2} -all"},
    {"sub.macro-l.test", ns_t_txt, OK, "v=spf1 exists:%{l}.users.%{d2} -all"},
    {"bob.users.macro-l.test", ns_t_a, OK, "127.0.0.2"},
    {"macro-ir.test", ns_t_txt, OK, "v=spf1 exists:%{ir}.%{v}._spf.%{d} -all"},
    {"9.2.0.192.in-addr._spf.macro-ir.test", ns_t_a, OK, "127.0.0.2"},
    {"macro-h.test", ns_t_txt, OK, "v=spf1 exists:%{h}.helos.test -all"},
    {"mx1.sender.test.helos.test", ns_t_a, OK, "127.0.0.2"},
    {"a6.test", ns_t_txt, OK, "v=spf1 a -all"},
    {"a6.test", ns_t_aaaa, OK, "2001:db8::25"},
    {"a6.test", ns_t_a, OK, "192.0.2.25"},
    {"mx.test", ns_t_txt, OK, "v=spf1 mx -all"},
    {"mx.test", ns_t_mx, OK, "10 mail.mx.test"},
    {"mail.mx.test", ns_t_a, OK, "192.0.2.26"},
    {"type99.test", ns_t_spf, OK, "v=spf1 +all"},
    {"type99.test", ns_t_txt, OK, "v=spf1 -all"},
    {"exp.test", ns_t_txt, OK, "v=spf1 -all exp=why.exp.test"},
    {"why.exp.test", ns_t_txt, OK, "%{i} is not one of %{d}'s hosts"},
    {"xn--bcher-kva.test", ns_t_txt, OK, "v=spf1 ip4:192.0.2.0/24 -all"},
    {"helo.test", ns_t_txt, OK, "v=spf1 a:mx1.helo.test -all"},
    {"mx1.helo.test", ns_t_a, OK, "192.0.2.30"},
    /* RFC 7208 4.6.4: void lookups. */
    {"void2.test", ns_t_txt, OK, "v=spf1 a:nx1.void.test a:nx2.void.test ip4:192.0.2.0/24 -all"},
    {"void3.test", ns_t_txt, OK,
     "v=spf1 a:nx1.void.test a:nx2.void.test a:nx3.void.test ip4:192.0.2.0/24 -all"},
    {"voidx.test", ns_t_txt, OK,
     "v=spf1 exists:%{i}.e1.void.test exists:%{i}.e2.void.test exists:%{i}.e3.void.test "
     "+all"},
    {"voidmx.test", ns_t_txt, OK,
     "v=spf1 mx:nomx.void.test a:nx1.void.test a:nx2.void.test ip4:192.0.2.0/24 -all"},
    {"voidinc.test", ns_t_txt, OK,
     "v=spf1 a:nx1.void.test include:voidinc2.test ip4:192.0.2.0/24 -all"},
    {"voidinc2.test", ns_t_txt, OK, "v=spf1 a:nx2.void.test a:nx3.void.test -all"},
    /* RFC 7208 4.6.4: ten terms that query DNS. */
    {"ten.test", ns_t_txt, OK,
     "v=spf1 a:h1.hosts.test a:h2.hosts.test a:h3.hosts.test a:h4.hosts.test "
     "a:h5.hosts.test a:h6.hosts.test a:h7.hosts.test a:h8.hosts.test a:h9.hosts.test "
     "a:h10.hosts.test ip4:192.0.2.0/24 -all"},
    {"eleven.test", ns_t_txt, OK,
     "v=spf1 a:h1.hosts.test a:h2.hosts.test a:h3.hosts.test a:h4.hosts.test "
     "a:h5.hosts.test a:h6.hosts.test a:h7.hosts.test a:h8.hosts.test a:h9.hosts.test "
     "a:h10.hosts.test a:h11.hosts.test ip4:192.0.2.0/24 -all"},
    {"split10.test", ns_t_txt, OK,
     "v=spf1 include:half1.test include:half2.test ip4:192.0.2.0/24 -all"},
    {"half1.test", ns_t_txt, OK,
     "v=spf1 a:h1.hosts.test a:h2.hosts.test a:h3.hosts.test a:h4.hosts.test "
     "a:h5.hosts.test a:h6.hosts.test -all"},
    {"half2.test", ns_t_txt, OK,
     "v=spf1 a:h7.hosts.test a:h8.hosts.test a:h9.hosts.test a:h10.hosts.test "
     "a:h11.hosts.test a:h1.hosts.test -all"},
    {"fan.test", ns_t_txt, OK,
     "v=spf1 include:mid1.test include:mid2.test include:mid3.test include:mid4.test "
     "include:mid5.test include:mid6.test include:mid7.test include:mid8.test "
     "include:mid9.test +all"},
    /* vendor names */
    {"spf-na.vendor.test", ns_t_txt, OK, "v=spf1 ip4:203.0.113.0/25 ip6:2001:db8:cafe::/48 -all"},
    {"spf-eu.vendor.test", ns_t_txt, OK, "v=spf1 ip4:203.0.113.128/25 -all"},
};

/* Hosts h1..h11.hosts.test, none of them a client in the rows. */
static void
zone_hosts(SPF_dns_server_t *zone)
{
	char name[64], addr[32];
	int i, j;

	for (i = 1; i <= 11; i++) {
		(void)snprintf(name, sizeof(name), "h%d.hosts.test", i);
		(void)snprintf(addr, sizeof(addr), "198.51.100.%d", i);
		SPF_dns_zone_add_str(zone, name, ns_t_a, OK, addr);
	}
	/* fan.test: 9 includes of 9 includes of 9 lookups, 819 queries. */
	for (i = 1; i <= 9; i++) {
		char rec[512] = "v=spf1";

		for (j = 1; j <= 9; j++) {
			size_t n = strlen(rec);

			(void)snprintf(rec + n, sizeof(rec) - n, " include:leaf%d.test", j);
		}
		strcat(rec, " -all");
		(void)snprintf(name, sizeof(name), "mid%d.test", i);
		SPF_dns_zone_add_str(zone, name, ns_t_txt, OK, rec);
		(void)snprintf(name, sizeof(name), "leaf%d.test", i);
		SPF_dns_zone_add_str(
		    zone, name, ns_t_txt, OK,
		    "v=spf1 a:h1.hosts.test a:h2.hosts.test a:h3.hosts.test a:h4.hosts.test "
		    "a:h5.hosts.test a:h6.hosts.test a:h7.hosts.test a:h8.hosts.test "
		    "a:h9.hosts.test -all");
	}
}

/* mkaddr: a sockaddr for a textual IPv4 or IPv6 address. */
static const struct sockaddr *
mkaddr(const char *text, struct sockaddr_storage *ss)
{
	struct sockaddr_in *sin = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;

	memset(ss, 0, sizeof(*ss));
	if (inet_pton(AF_INET, text, &sin->sin_addr) == 1)
		sin->sin_family = AF_INET;
	else if (inet_pton(AF_INET6, text, &sin6->sin6_addr) == 1)
		sin6->sin6_family = AF_INET6;
	return (const struct sockaddr *)ss;
}

static const struct {
	const char *client;
	const char *helo;
	const char *mailfrom;
	enum policy_spf want;
	const char *why; /* substring of the reason, or NULL */
} check_rows[] = {
    /* the seven results, IPv4 */
    {"192.0.2.1", "mx.sender.test", "alice@pass.test", S_PASS, "designates 192.0.2.1"},
    {"198.51.100.1", "mx.sender.test", "alice@pass.test", S_FAIL, "does not designate"},
    {"198.51.100.1", "mx.sender.test", "alice@softfail.test", S_SOFT, NULL},
    {"198.51.100.1", "mx.sender.test", "alice@neutral.test", S_NEUT, NULL},
    {"198.51.100.1", "mx.sender.test", "alice@default.test", S_NEUT, NULL},
    {"192.0.2.1", "mx.sender.test", "alice@nxdomain.test", S_NONE, NULL},
    {"192.0.2.1", "mx.sender.test", "alice@nospf.test", S_NONE, NULL},
    {"192.0.2.1", "mx.sender.test", "alice@servfail.test", S_TEMP, "emporary"},
    {"192.0.2.1", "mx.sender.test", "alice@refused.test", S_TEMP, NULL},
    {"192.0.2.1", "mx.sender.test", "alice@inc-servfail.test", S_TEMP, NULL},
    {"192.0.2.1", "mx.sender.test", "alice@syntax.test", S_PERM, NULL},
    {"192.0.2.1", "mx.sender.test", "alice@unknown-mech.test", S_PERM, NULL},
    {"192.0.2.1", "mx.sender.test", "alice@two.test", S_PERM, NULL},
    /* the seven results, IPv6 */
    {"2001:db8::1", "mx.sender.test", "alice@pass.test", S_PASS, "designates 2001:db8::1"},
    {"2001:db9::1", "mx.sender.test", "alice@pass.test", S_FAIL, NULL},
    {"2001:db9::1", "mx.sender.test", "alice@softfail.test", S_SOFT, NULL},
    {"2001:db9::1", "mx.sender.test", "alice@neutral.test", S_NEUT, NULL},
    {"2001:db9::1", "mx.sender.test", "alice@nxdomain.test", S_NONE, NULL},
    {"2001:db9::1", "mx.sender.test", "alice@servfail.test", S_TEMP, NULL},
    {"2001:db9::1", "mx.sender.test", "alice@syntax.test", S_PERM, NULL},
    {"2001:db8::25", "mx.sender.test", "alice@a6.test", S_PASS, NULL},
    {"192.0.2.25", "mx.sender.test", "alice@a6.test", S_PASS, NULL},
    {"2001:db8::26", "mx.sender.test", "alice@a6.test", S_FAIL, NULL},
    {"::ffff:192.0.2.1", "mx.sender.test", "alice@pass.test", S_PASS, "designates 192.0.2.1"},
    {"192.0.2.26", "mx.sender.test", "alice@mx.test", S_PASS, NULL},
    {"192.0.2.27", "mx.sender.test", "alice@mx.test", S_FAIL, NULL},
    /* includes and redirects */
    {"192.0.2.7", "mx.sender.test", "alice@inc.test", S_PASS, NULL},
    {"198.51.100.7", "mx.sender.test", "alice@inc.test", S_FAIL, NULL},
    {"192.0.2.7", "mx.sender.test", "alice@inc-none.test", S_PERM, NULL},
    {"192.0.2.7", "mx.sender.test", "alice@loop-a.test", S_PERM, NULL},
    {"192.0.2.7", "mx.sender.test", "alice@self.test", S_PERM, NULL},
    {"192.0.2.7", "mx.sender.test", "alice@redir.test", S_PASS, NULL},
    {"198.51.100.7", "mx.sender.test", "alice@redir.test", S_FAIL, NULL},
    {"192.0.2.7", "mx.sender.test", "alice@redir-none.test", S_PERM, NULL},
    /* macros (RFC 7208 7) */
    {"192.0.2.9", "mx.sender.test", "alice@macro-i.test", S_PASS, NULL},
    {"192.0.2.10", "mx.sender.test", "alice@macro-i.test", S_FAIL, NULL},
    {"2001:db8::2", "mx.sender.test", "alice@macro-i.test", S_PASS, NULL},
    {"192.0.2.9", "mx.sender.test", "alice@macro-d.test", S_PASS, NULL},
    {"192.0.2.9", "mx.sender.test", "alice@macro-s.test", S_PASS, NULL},
    {"192.0.2.9", "mx.sender.test", "carol@macro-s.test", S_FAIL, NULL},
    {"192.0.2.9", "mx.sender.test", "bob@sub.macro-l.test", S_PASS, NULL},
    {"192.0.2.9", "mx.sender.test", "alice@sub.macro-l.test", S_FAIL, NULL},
    /*
     * XXX libspf2 1.2.10 (shevek/libspf2 issue #42): when %{d2} keeps the
     * whole name it drops the first octet and asks "bob.users.acro-l.test":
     * fail where RFC 7208 7.3 says pass.  This row shows what it does.
     */
    {"192.0.2.9", "mx.sender.test", "bob@macro-l.test", S_FAIL, NULL},
    {"192.0.2.9", "mx.sender.test", "alice@macro-ir.test", S_PASS, NULL},
    {"192.0.2.9", "mx1.sender.test", "alice@macro-h.test", S_PASS, NULL},
    {"192.0.2.9", "mx2.sender.test", "alice@macro-h.test", S_FAIL, NULL},
    {"192.0.2.9", NULL, "alice@macro-h.test", S_FAIL, NULL},
    /* RFC 7208 4.6.4 void lookups: two are fine, the third is permerror */
    {"192.0.2.1", "mx.sender.test", "alice@void2.test", S_PASS, NULL},
    {"192.0.2.1", "mx.sender.test", "alice@void3.test", S_PERM, "void lookups"},
    {"192.0.2.1", "mx.sender.test", "alice@voidx.test", S_PERM, "void lookups"},
    {"192.0.2.1", "mx.sender.test", "alice@voidmx.test", S_PERM, "void lookups"},
    {"192.0.2.1", "mx.sender.test", "alice@voidinc.test", S_PERM, "void lookups"},
    /* RFC 7208 4.6.4 ten terms that query DNS */
    {"192.0.2.1", "mx.sender.test", "alice@ten.test", S_PASS, NULL},
    {"192.0.2.1", "mx.sender.test", "alice@eleven.test", S_PERM, NULL},
    /* XXX: libspf2 counts the ten terms per record, not across include: (14 here) */
    {"192.0.2.1", "mx.sender.test", "alice@split10.test", S_PASS, NULL},
    {"192.0.2.1", "mx.sender.test", "alice@fan.test", S_PERM, "DNS queries"},
    /* the null sender: postmaster@HELO (RFC 7208 2.4) */
    {"192.0.2.30", "helo.test", "", S_PASS, NULL},
    {"192.0.2.31", "helo.test", NULL, S_FAIL, NULL},
    {"192.0.2.30", "HELO.TEST.", "", S_PASS, NULL},
    {"192.0.2.30", "[192.0.2.30]", "", S_NONE, "HELO"},
    {"192.0.2.30", "localhost", "", S_NONE, NULL},
    {"192.0.2.30", "192.0.2.30", "", S_NONE, NULL},
    {"192.0.2.30", NULL, "", S_NONE, NULL},
    {"192.0.2.30", "", NULL, S_NONE, NULL},
    /* the MAIL FROM as written */
    {"192.0.2.1", "mx.sender.test", "pass.test", S_PASS, NULL},
    {"192.0.2.1", "mx.sender.test", "@pass.test", S_PASS, NULL},
    {"192.0.2.1", "mx.sender.test", "Alice@PASS.Test", S_PASS, NULL},
    {"192.0.2.1", "mx.sender.test", "alice@pass.test.", S_PASS, NULL},
    {"192.0.2.1", "mx.sender.test",
     "alice@b\xc3\xbc"
     "cher.test",
     S_PASS, NULL},
    {"198.51.100.1", "mx.sender.test",
     "alice@B\xc3\x9c"
     "CHER.test",
     S_FAIL, NULL},
    {"192.0.2.1", "mx.sender.test", "alice@pass..test", S_NONE, NULL},
    {"192.0.2.1", "mx.sender.test", "alice@", S_NONE, NULL},
    {"192.0.2.1", "mx.sender.test", "alice@single", S_NONE, NULL},
    {"192.0.2.1", "mx.sender.test", "alice@exa mple.test", S_NONE, NULL},
    {"192.0.2.1", "mx.sender.test", "alice@[192.0.2.1]", S_NONE, NULL},
    /* libspf2 passes loopback clients by itself; we do not */
    {"127.0.0.1", "mx.sender.test", "alice@pass.test", S_FAIL, NULL},
    {"::1", "mx.sender.test", "alice@pass.test", S_FAIL, NULL},
    /* type SPF (99) is never asked (RFC 7208 3.1) */
    {"192.0.2.1", "mx.sender.test", "alice@type99.test", S_FAIL, NULL},
    {"192.0.2.1", "mx.sender.test", "alice@exp.test", S_FAIL, NULL},
};

/* The vendor zone's names. */
static char *vendor_names[] = {"spf-eu.vendor.test", "spf-na.vendor.test", NULL};

static time_t fake_now = 1000;

/* fake_clock: the test clock for cache expiry. */
static time_t
fake_clock(void)
{
	return fake_now;
}

/* libspf2_alone: what SPF_request_query_mailfrom says without our layer. */
static SPF_result_t
libspf2_alone(SPF_dns_server_t *zone, const char *ip, const char *sender)
{
	SPF_server_t *server = SPF_server_new_dns(zone, 0);
	SPF_request_t *req = SPF_request_new(server);
	SPF_response_t *resp = NULL;
	SPF_result_t r;

	SPF_request_set_ipv4_str(req, ip);
	SPF_request_set_env_from(req, sender);
	SPF_request_query_mailfrom(req, &resp);
	r = SPF_response_result(resp);
	SPF_response_free(resp);
	SPF_request_free(req);
	SPF_server_free(server);
	return r;
}

/* test_zone_rows: every check_rows row against the zone. */
static void
test_zone_rows(struct spf *spf)
{
	struct sockaddr_storage ss;
	char why[256];
	size_t i;

	for (i = 0; i < sizeof(check_rows) / sizeof(check_rows[0]); i++) {
		enum policy_spf got;

		why[0] = 'x';
		got = spf_check_host(spf, mkaddr(check_rows[i].client, &ss), check_rows[i].helo,
		                     check_rows[i].mailfrom, why, sizeof(why));
		ok(got == check_rows[i].want &&
		       (check_rows[i].why == NULL || strstr(why, check_rows[i].why) != NULL),
		   "check row %zu: %s from %s helo %s: %s (want %s) why \"%s\"", i,
		   check_rows[i].mailfrom ? check_rows[i].mailfrom : "(null)", check_rows[i].client,
		   check_rows[i].helo ? check_rows[i].helo : "(null)", policy_spf_name(got),
		   policy_spf_name(check_rows[i].want), why);
	}
}

/* test_vendor: spf_vendor_check, its precedence and its cache. */
static void
test_vendor(SPF_dns_server_t *zone)
{
	struct dns_options dopt = {.test_dns = zone, .test_clock = fake_clock};
	struct spf_options opt = {.cache_ttl = 60, .test_clock = fake_clock};
	struct sockaddr_storage ss;
	struct spf_stats st0, st;
	const char *matched = "x";
	char err[256];
	struct spf *spf = spf_on(&dopt, &opt, err, sizeof(err));
	char *temp_names[] = {"servfail.test", "spf-na.vendor.test", NULL};
	char *temp_only[] = {"servfail.test", NULL};
	char *perm_names[] = {"nxdomain.test", "syntax.test", NULL};
	char *bad_names[] = {"not a name", "", NULL};
	char *empty[] = {NULL};
	struct sockaddr_un sun = {.sun_family = AF_UNIX};
	enum policy_spf r;

	if (!ok(spf != NULL, "vendor: spf_new: %s", spf ? "" : err))
		return;
	r = spf_vendor_check(spf, mkaddr("203.0.113.5", &ss), vendor_names, &matched);
	ok(r == S_PASS && matched == vendor_names[1], "vendor 0: spf-na passes 203.0.113.5: %s %s",
	   policy_spf_name(r), matched ? matched : "(null)");
	spf_stats(spf, &st0);
	ok(st0.checks == 2 && st0.cache_misses == 2 && st0.cache_hits == 0,
	   "vendor 1: two checks, two misses (%lu %lu %lu)", st0.checks, st0.cache_misses,
	   st0.cache_hits);
	fake_now += 30;
	r = spf_vendor_check(spf, mkaddr("203.0.113.5", &ss), vendor_names, &matched);
	spf_stats(spf, &st);
	ok(r == S_PASS && matched == vendor_names[1] && st.checks == st0.checks &&
	       st.dns_queries == st0.dns_queries && st.cache_hits == 2,
	   "vendor 2: 30 s later both names come from the cache (checks %lu, queries %lu, hits "
	   "%lu)",
	   st.checks, st.dns_queries, st.cache_hits);
	fake_now += 31;
	r = spf_vendor_check(spf, mkaddr("203.0.113.5", &ss), vendor_names, &matched);
	spf_stats(spf, &st);
	ok(r == S_PASS && st.checks == st0.checks + 2 && st.dns_queries > st0.dns_queries,
	   "vendor 3: 61 s later (SPFCacheTTL 60) both are checked again (checks %lu)", st.checks);
	r = spf_vendor_check(spf, mkaddr("203.0.113.200", &ss), vendor_names, &matched);
	ok(r == S_PASS && matched == vendor_names[0], "vendor 4: spf-eu passes 203.0.113.200");
	r = spf_vendor_check(spf, mkaddr("192.0.2.99", &ss), vendor_names, &matched);
	ok(r == S_FAIL && matched == NULL, "vendor 5: 192.0.2.99 fails both: %s",
	   policy_spf_name(r));
	r = spf_vendor_check(spf, mkaddr("::ffff:203.0.113.5", &ss), vendor_names, &matched);
	ok(r == S_PASS && matched == vendor_names[1], "vendor 6: IPv4-mapped client passes");
	r = spf_vendor_check(spf, mkaddr("2001:db8:cafe::10", &ss), vendor_names, &matched);
	ok(r == S_PASS && matched == vendor_names[1], "vendor 7: IPv6 client passes");
	r = spf_vendor_check(spf, mkaddr("2001:db8:caff::10", &ss), vendor_names, &matched);
	ok(r == S_FAIL && matched == NULL, "vendor 8: other IPv6 client fails");
	r = spf_vendor_check(spf, mkaddr("127.0.0.1", &ss), vendor_names, &matched);
	ok(r == S_FAIL && matched == NULL, "vendor 9: loopback is not trusted by SPF");

	/* temperror beats the others and is never cached */
	spf_stats(spf, &st0);
	r = spf_vendor_check(spf, mkaddr("192.0.2.99", &ss), temp_names, &matched);
	ok(r == S_TEMP && matched == NULL, "vendor 10: temperror + fail gives temperror: %s",
	   policy_spf_name(r));
	r = spf_vendor_check(spf, mkaddr("203.0.113.5", &ss), temp_names, &matched);
	ok(r == S_PASS && matched == temp_names[1], "vendor 11: temperror + pass gives pass");
	r = spf_vendor_check(spf, mkaddr("192.0.2.99", &ss), temp_only, &matched);
	spf_stats(spf, &st);
	ok(r == S_TEMP && st.checks == st0.checks + 3,
	   "vendor 12: the temperror was not cached (checks %lu -> %lu)", st0.checks, st.checks);
	r = spf_vendor_check(spf, mkaddr("192.0.2.99", &ss), perm_names, &matched);
	ok(r == S_PERM, "vendor 13: none + permerror gives permerror: %s", policy_spf_name(r));
	r = spf_vendor_check(spf, mkaddr("192.0.2.99", &ss), bad_names, &matched);
	ok(r == S_NONE && matched == NULL, "vendor 14: unusable names give none: %s",
	   policy_spf_name(r));
	r = spf_vendor_check(spf, mkaddr("192.0.2.99", &ss), empty, &matched);
	ok(r == S_NONE && matched == NULL, "vendor 15: an empty list gives none");
	r = spf_vendor_check(spf, (const struct sockaddr *)&sun, vendor_names, &matched);
	ok(r == S_NONE && matched == NULL, "vendor 16: a unix-socket client gives none");
	r = spf_vendor_check(spf, mkaddr("203.0.113.5", &ss), vendor_names, NULL);
	ok(r == S_PASS, "vendor 17: matched_r may be NULL");
	checker_free(spf);

	/* SPFCacheTTL 0: no cache */
	opt.cache_ttl = 0;
	spf = spf_on(&dopt, &opt, err, sizeof(err));
	spf_vendor_check(spf, mkaddr("203.0.113.5", &ss), vendor_names, &matched);
	spf_vendor_check(spf, mkaddr("203.0.113.5", &ss), vendor_names, &matched);
	spf_stats(spf, &st);
	ok(st.checks == 4 && st.cache_hits == 0, "vendor 18: cache_ttl 0 checks every time (%lu)",
	   st.checks);
	checker_free(spf);

	/* A cache of 2 entries keeps the two newest. */
	opt.cache_ttl = 60;
	opt.cache_size = 2;
	spf = spf_on(&dopt, &opt, err, sizeof(err));
	spf_vendor_check(spf, mkaddr("203.0.113.1", &ss), vendor_names, &matched);
	fake_now++;
	spf_vendor_check(spf, mkaddr("203.0.113.2", &ss), vendor_names, &matched);
	spf_stats(spf, &st0);
	spf_vendor_check(spf, mkaddr("203.0.113.2", &ss), vendor_names, &matched);
	spf_stats(spf, &st);
	ok(st.checks == st0.checks, "vendor 19: newest entries survive a full cache");
	spf_vendor_check(spf, mkaddr("203.0.113.1", &ss), vendor_names, &matched);
	spf_stats(spf, &st0);
	ok(st0.checks == st.checks + 2, "vendor 20: the oldest were evicted (%lu -> %lu)",
	   st.checks, st0.checks);
	checker_free(spf);
}

/* Threads hammering one struct spf. */
struct hammer {
	struct spf *spf;
	int bad;
};

/* hammer_run: one thread's share of rows. */
static void *
hammer_run(void *arg)
{
	struct hammer *h = arg;
	struct sockaddr_storage ss;
	int n;
	size_t i;

	for (n = 0; n < 20; n++)
		for (i = 0; i < sizeof(check_rows) / sizeof(check_rows[0]); i += 3)
			if (spf_check_host(h->spf, mkaddr(check_rows[i].client, &ss),
			                   check_rows[i].helo, check_rows[i].mailfrom, NULL,
			                   0) != check_rows[i].want)
				h->bad++;
	return NULL;
}

/* test_threads: 8 threads share one checker. */
static void
test_threads(SPF_dns_server_t *zone)
{
	struct dns_options dopt = {.test_dns = zone};
	struct spf_options opt = {0};
	struct hammer h[8];
	pthread_t t[8];
	struct spf_stats st;
	char err[256];
	struct spf *spf = spf_on(&dopt, &opt, err, sizeof(err));
	int i, bad = 0;

	for (i = 0; i < 8; i++) {
		h[i].spf = spf;
		h[i].bad = 0;
		pthread_create(&t[i], NULL, hammer_run, &h[i]);
	}
	for (i = 0; i < 8; i++) {
		pthread_join(t[i], NULL);
		bad += h[i].bad;
	}
	spf_stats(spf, &st);
	ok(bad == 0 && st.contexts >= 1 && st.contexts <= 8,
	   "threads: 8 threads, %lu checks, %d wrong, %lu contexts", st.checks, bad, st.contexts);
	checker_free(spf);
}

/* test_options: the refusals of dns_new and spf_new, as a configuration meets them. */
static void
test_options(void)
{
	static const struct {
		struct dns_options dns;
		struct spf_options spf;
		const char *err;
	} rows[] = {
	    {{.timeout = DNS_TIMEOUT_MAX + 1}, {0}, "at most"},
	    {{.nameserver = "ns.example"}, {0}, "not an IPv4 address"},
	    {{.nameserver = "::1"}, {0}, "not an IPv4 address"},
	    {{.nameserver = "127.0.0.1:0"}, {0}, "bad port"},
	    {{.nameserver = "127.0.0.1:65536"}, {0}, "bad port"},
	    {{.nameserver = "127.0.0.1:"}, {0}, "bad port"},
	    {{.nameserver = "127.0.0.1:-5"}, {0}, "bad port"},
	    {{0}, {.cache_size = 1000000}, "at most"},
	};
	struct spf_options none = {0};
	char err[256];
	size_t i;

	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		struct spf_options opt = rows[i].spf;
		struct spf *spf;

		err[0] = '\0';
		spf = spf_on(&rows[i].dns, &opt, err, sizeof(err));
		ok(spf == NULL && strstr(err, rows[i].err) != NULL, "options row %zu: \"%s\"", i,
		   err);
		checker_free(spf);
	}
	err[0] = '\0';
	ok(spf_new(&none, err, sizeof(err)) == NULL && strstr(err, "DNS layer") != NULL,
	   "options: spf_new without a DNS layer is refused (\"%s\")", err);
	spf_free(NULL);	/* a no-op: a crash here fails the test */
}

/*
 * The stub DNS server: answers from stub_rows over UDP on 127.0.0.1.
 * TXT data is split into character-strings at '|'.
 */
static const struct {
	const char *name;
	int type;
	int rcode; /* -1: never answer */
	unsigned ttl;
	unsigned delay_ms;
	const char *data[3]; /* up to three records */
} stub_rows[] = {
    {"split.stub.test", ns_t_txt, 0, 60, 0, {"v=spf1 ip4:192.0.2.0/24 |-all"}},
    {"multi.stub.test", ns_t_txt, 0, 60, 0, {"first|second", "third"}},
    {"nul.stub.test", ns_t_txt, 0, 60, 0, {"v=spf1 \x01 -all"}},
    {"ttl.stub.test", ns_t_txt, 0, 5, 0, {"v=spf1 a:host.stub.test -all"}},
    {"host.stub.test", ns_t_a, 0, 3600, 0, {"203.0.113.9"}},
    {"long.stub.test", ns_t_txt, 0, 3600, 0, {"v=spf1 ip4:203.0.113.10 -all"}},
    {"mx.stub.test", ns_t_txt, 0, 60, 0, {"v=spf1 mx -all"}},
    {"mx.stub.test", ns_t_mx, 0, 60, 0, {"mail.stub.test"}},
    {"mail.stub.test", ns_t_aaaa, 0, 60, 0, {"2001:db8::9"}},
    {"servfail.stub.test", ns_t_txt, 2, 0, 0, {NULL}},
    {"refused.stub.test", ns_t_txt, 5, 0, 0, {NULL}},
    {"hang.stub.test", ns_t_txt, -1, 0, 0, {NULL}},
    {"slow.stub.test",
     ns_t_txt,
     0,
     60,
     0,
     {"v=spf1 a:s1.stub.test a:s2.stub.test a:s3.stub.test a:s4.stub.test -all"}},
    {"s1.stub.test", ns_t_a, 0, 60, 400, {"198.51.100.1"}},
    {"s2.stub.test", ns_t_a, 0, 60, 400, {"198.51.100.2"}},
    {"s3.stub.test", ns_t_a, 0, 60, 400, {"198.51.100.3"}},
    {"s4.stub.test", ns_t_a, 0, 60, 400, {"198.51.100.4"}},
};

static int stub_fd = -1;
static atomic_int stub_stop;
static atomic_int stub_type99; /* type SPF questions seen: must stay 0 */

/* put16: a 16-bit big-endian value. */
static unsigned char *
put16(unsigned char *p, unsigned v)
{
	p[0] = (unsigned char)(v >> 8);
	p[1] = (unsigned char)v;
	return p + 2;
}

/* stub_reply: the reply to query q into out; 0 for none. */
static size_t
stub_reply(const unsigned char *q, size_t qlen, unsigned char *out, unsigned *delay_ms)
{
	char name[256];
	size_t i = 12, n = 0, an = 0, qend;
	unsigned type, r, j;
	int rcode = 3;
	unsigned char *p, *count;

	if (qlen < 17)
		return 0;
	while (i < qlen && q[i] != 0) {
		size_t l = q[i++];

		if (l > 63 || i + l > qlen || n + l + 1 >= sizeof(name))
			return 0;
		if (n > 0)
			name[n++] = '.';
		for (j = 0; j < l; j++)
			name[n++] = (char)tolower(q[i + j]);
		i += l;
	}
	name[n] = '\0';
	if (i + 5 > qlen)
		return 0;
	type = (unsigned)(q[i + 1] << 8 | q[i + 2]);
	if (type == ns_t_spf)
		atomic_fetch_add(&stub_type99, 1);
	qend = i + 5;
	memcpy(out, q, qend);
	out[2] = (unsigned char)(0x80 | (q[2] & 0x01)); /* QR, RD */
	put16(out + 4, 1);
	put16(out + 8, 0);
	put16(out + 10, 0);
	p = out + qend;
	for (r = 0; r < sizeof(stub_rows) / sizeof(stub_rows[0]); r++) {
		if (strcmp(stub_rows[r].name, name) != 0)
			continue;
		if (stub_rows[r].rcode == -1)
			return 0;
		rcode = stub_rows[r].rcode == 0 ? 0 : stub_rows[r].rcode;
		*delay_ms = stub_rows[r].delay_ms;
		if (stub_rows[r].type != (int)type || rcode != 0)
			continue;
		for (j = 0; j < 3 && stub_rows[r].data[j] != NULL; j++) {
			const char *d = stub_rows[r].data[j];
			unsigned char *rdlen;

			p = put16(p, 0xc00c);
			p = put16(p, type);
			p = put16(p, ns_c_in);
			p = put16(p, stub_rows[r].ttl >> 16);
			p = put16(p, stub_rows[r].ttl & 0xffff);
			rdlen = p;
			p += 2;
			if (type == ns_t_a)
				inet_pton(AF_INET, d, p), p += 4;
			else if (type == ns_t_aaaa)
				inet_pton(AF_INET6, d, p), p += 16;
			else if (type == ns_t_mx) {
				const char *s = d, *dot;

				p = put16(p, 10);
				while (*s != '\0') {
					dot = strchr(s, '.');
					if (dot == NULL)
						dot = s + strlen(s);
					*p++ = (unsigned char)(dot - s);
					memcpy(p, s, (size_t)(dot - s));
					p += dot - s;
					s = *dot == '.' ? dot + 1 : dot;
				}
				*p++ = 0;
			} else {
				const char *s = d, *bar;

				do {
					bar = strchr(s, '|');
					if (bar == NULL)
						bar = s + strlen(s);
					*p++ = (unsigned char)(bar - s);
					memcpy(p, s, (size_t)(bar - s));
					/* "\x01" stands for a NUL byte */
					for (i = 0; i < (size_t)(bar - s); i++)
						if (p[i] == 1)
							p[i] = 0;
					p += bar - s;
					s = bar + 1;
				} while (*bar != '\0');
			}
			put16(rdlen, (unsigned)(p - rdlen - 2));
			an++;
		}
	}
	out[3] = (unsigned char)(0x80 | rcode); /* RA */
	count = out + 6;
	put16(count, (unsigned)an);
	return (size_t)(p - out);
}

/* stub_run: the stub server's loop. */
static void *
stub_run(void *arg)
{
	unsigned char q[512], out[4096];
	struct sockaddr_storage from;
	socklen_t fromlen;
	struct pollfd pfd = {.fd = stub_fd, .events = POLLIN};
	ssize_t n;
	size_t len;
	unsigned delay;

	(void)arg;
	while (!atomic_load(&stub_stop)) {
		if (poll(&pfd, 1, 50) <= 0)
			continue;
		fromlen = sizeof(from);
		n = recvfrom(stub_fd, q, sizeof(q), 0, (struct sockaddr *)&from, &fromlen);
		if (n <= 0)
			continue;
		delay = 0;
		if ((len = stub_reply(q, (size_t)n, out, &delay)) == 0)
			continue;
		if (delay > 0)
			usleep(delay * 1000);
		(void)sendto(stub_fd, out, len, 0, (struct sockaddr *)&from, fromlen);
	}
	return NULL;
}

/* elapsed: seconds since t0. */
static double
elapsed(const struct timespec *t0)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)(t.tv_sec - t0->tv_sec) + (double)(t.tv_nsec - t0->tv_nsec) / 1e9;
}

/* test_stub: the libresolv path against the stub server. */
static void
test_stub(void)
{
	struct sockaddr_in sin = {.sin_family = AF_INET};
	socklen_t slen = sizeof(sin);
	struct dns_options dopt = {.timeout = 2, .test_clock = fake_clock};
	struct spf_options opt = {.cache_ttl = 300, .test_clock = fake_clock};
	struct sockaddr_storage ss;
	struct spf_stats st0, st;
	struct timespec t0;
	char ns[64], err[256], why[256], **txt = NULL;
	char *ttl_names[] = {"ttl.stub.test", NULL};
	char *long_names[] = {"long.stub.test", NULL};
	pthread_t thread;
	struct spf *spf;
	enum policy_spf r;
	enum dns_txt t;
	double secs;

	inet_pton(AF_INET, "127.0.0.1", &sin.sin_addr);
	if ((stub_fd = socket(AF_INET, SOCK_DGRAM, 0)) == -1 ||
	    bind(stub_fd, (struct sockaddr *)&sin, sizeof(sin)) == -1 ||
	    getsockname(stub_fd, (struct sockaddr *)&sin, &slen) == -1) {
		ok(0, "stub: cannot bind a UDP socket on 127.0.0.1");
		return;
	}
	(void)snprintf(ns, sizeof(ns), "127.0.0.1:%u", ntohs(sin.sin_port));
	pthread_create(&thread, NULL, stub_run, NULL);
	dopt.nameserver = ns;
	spf = spf_on(&dopt, &opt, err, sizeof(err));
	if (!ok(spf != NULL, "stub 0: spf_new with nameserver %s", ns))
		goto out;

	t = dns_txt_lookup(spf_dns(spf), "split.stub.test", &txt, err, sizeof(err));
	ok(t == DNS_TXT_FOUND && strv_len(txt) == 1 &&
	       strcmp(txt[0], "v=spf1 ip4:192.0.2.0/24 -all") == 0,
	   "stub 1: character-strings are joined without separator: \"%s\"",
	   txt ? txt[0] : "(none)");
	strv_free(txt);
	t = dns_txt_lookup(spf_dns(spf), "MULTI.stub.test.", &txt, err, sizeof(err));
	ok(t == DNS_TXT_FOUND && strv_len(txt) == 2 && strcmp(txt[0], "firstsecond") == 0 &&
	       strcmp(txt[1], "third") == 0,
	   "stub 2: two records");
	strv_free(txt);
	t = dns_txt_lookup(spf_dns(spf), "nul.stub.test", &txt, err, sizeof(err));
	ok(t == DNS_TXT_NONE && txt == NULL, "stub 3: a record holding a NUL is left out");
	t = dns_txt_lookup(spf_dns(spf), "nx.stub.test", &txt, err, sizeof(err));
	ok(t == DNS_TXT_NONE && txt == NULL, "stub 4: NXDOMAIN is none");
	t = dns_txt_lookup(spf_dns(spf), "host.stub.test", &txt, err, sizeof(err));
	ok(t == DNS_TXT_NONE, "stub 5: NOERROR without TXT is none");
	t = dns_txt_lookup(spf_dns(spf), "servfail.stub.test", &txt, err, sizeof(err));
	ok(t == DNS_TXT_TEMPERROR && txt == NULL, "stub 6: SERVFAIL is temperror: %s", err);
	t = dns_txt_lookup(spf_dns(spf), "refused.stub.test", &txt, err, sizeof(err));
	ok(t == DNS_TXT_TEMPERROR, "stub 7: REFUSED is temperror (RFC 7208 4.4)");

	r = spf_check_host(spf, mkaddr("192.0.2.1", &ss), "h.test", "a@split.stub.test", why,
	                   sizeof(why));
	ok(r == S_PASS, "stub 8: split record passes: %s (%s)", policy_spf_name(r), why);
	r = spf_check_host(spf, mkaddr("2001:db8::9", &ss), "h.test", "a@mx.stub.test", why,
	                   sizeof(why));
	ok(r == S_PASS, "stub 9: mx via MX and AAAA passes: %s (%s)", policy_spf_name(r), why);
	r = spf_check_host(spf, mkaddr("192.0.2.1", &ss), "h.test", "a@servfail.stub.test", why,
	                   sizeof(why));
	ok(r == S_TEMP, "stub 10: top-level SERVFAIL is temperror: %s (%s)", policy_spf_name(r),
	   why);
	r = spf_check_host(spf, mkaddr("192.0.2.1", &ss), "h.test", "a@refused.stub.test", why,
	                   sizeof(why));
	ok(r == S_TEMP, "stub 11: top-level REFUSED is temperror: %s", policy_spf_name(r));
	r = spf_check_host(spf, mkaddr("192.0.2.1", &ss), "h.test", "a@nx.stub.test", why,
	                   sizeof(why));
	ok(r == S_NONE, "stub 12: NXDOMAIN is none: %s", policy_spf_name(r));

	/* the time bound: one query that is never answered */
	spf_stats(spf, &st0);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	r = spf_check_host(spf, mkaddr("192.0.2.1", &ss), "h.test", "a@hang.stub.test", why,
	                   sizeof(why));
	secs = elapsed(&t0);
	spf_stats(spf, &st);
	ok(r == S_TEMP && secs < 3 * 2, "stub 13: no answer is temperror in %.2f s (bound 2 s): %s",
	   secs, why);
	ok(st.timeouts == st0.timeouts + 1, "stub 14: counted as a timeout");

	/* the TTL bounds the vendor cache: 5 s here, SPFCacheTTL 300 */
	spf_stats(spf, &st0);
	r = spf_vendor_check(spf, mkaddr("203.0.113.9", &ss), ttl_names, NULL);
	fake_now += 4;
	spf_vendor_check(spf, mkaddr("203.0.113.9", &ss), ttl_names, NULL);
	spf_stats(spf, &st);
	ok(r == S_PASS && st.checks == st0.checks + 1, "stub 15: cached within the 5 s TTL");
	fake_now += 2;
	spf_vendor_check(spf, mkaddr("203.0.113.9", &ss), ttl_names, NULL);
	spf_stats(spf, &st0);
	ok(st0.checks == st.checks + 1, "stub 16: checked again after the 5 s TTL");
	checker_free(spf);

	/* SPFCacheTTL bounds a long TTL */
	opt.cache_ttl = 10;
	spf = spf_on(&dopt, &opt, err, sizeof(err));
	spf_vendor_check(spf, mkaddr("203.0.113.10", &ss), long_names, NULL);
	fake_now += 9;
	spf_vendor_check(spf, mkaddr("203.0.113.10", &ss), long_names, NULL);
	spf_stats(spf, &st0);
	fake_now += 2;
	r = spf_vendor_check(spf, mkaddr("203.0.113.10", &ss), long_names, NULL);
	spf_stats(spf, &st);
	ok(r == S_PASS && st0.checks == 1 && st.checks == 2,
	   "stub 17: a 3600 s TTL is cut to SPFCacheTTL 10 s (%lu, %lu)", st0.checks, st.checks);
	checker_free(spf);

	/* the bound is per check, not per query: 4 lookups of 0.4 s, 1 s allowed */
	dopt.timeout = 1;
	spf = spf_on(&dopt, &opt, err, sizeof(err));
	clock_gettime(CLOCK_MONOTONIC, &t0);
	r = spf_check_host(spf, mkaddr("192.0.2.1", &ss), "h.test", "a@slow.stub.test", why,
	                   sizeof(why));
	secs = elapsed(&t0);
	ok(r == S_TEMP && secs < 3 * 1, "stub 18: 1.6 s of slow answers stop at 1 s: %s in %.2f s",
	   policy_spf_name(r), secs);
	checker_free(spf);
	dopt.timeout = 5;
	spf = spf_on(&dopt, &opt, err, sizeof(err));
	r = spf_check_host(spf, mkaddr("192.0.2.1", &ss), "h.test", "a@slow.stub.test", why,
	                   sizeof(why));
	ok(r == S_FAIL, "stub 19: with 5 s they finish: %s", policy_spf_name(r));
	checker_free(spf);
	ok(atomic_load(&stub_type99) == 0, "stub 20: no question for type SPF (99) was sent");
out:
	atomic_store(&stub_stop, 1);
	pthread_join(thread, NULL);
	close(stub_fd);
}

/* test_outside: against RELAYSIGN_TEST_DNS, if set. */
static void
test_outside(void)
{
	const char *server = getenv("RELAYSIGN_TEST_DNS");
	const char *drop = getenv("RELAYSIGN_TEST_DNS_DROP");
	struct dns_options dopt = {.timeout = 2};
	struct spf_options opt = {0};
	struct sockaddr_storage ss;
	struct timespec t0;
	char err[256], why[256], from[300];
	struct spf *spf;
	enum policy_spf r;
	double secs;

	if (server == NULL || *server == '\0') {
		/* Optional, for developers; tests/e2e/spf.sh covers a real server. */
		diag("RELAYSIGN_TEST_DNS=host:port not set: no outside-server timeout check");
		return;
	}
	if (drop == NULL || *drop == '\0')
		drop = "slow.example.org";
	dopt.nameserver = server;
	spf = spf_on(&dopt, &opt, err, sizeof(err));
	if (!ok(spf != NULL, "outside: spf_new %s: %s", server, spf ? "" : err))
		return;
	(void)snprintf(from, sizeof(from), "a@%s", drop);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	r = spf_check_host(spf, mkaddr("192.0.2.1", &ss), "h.test", from, why, sizeof(why));
	secs = elapsed(&t0);
	ok(r == S_TEMP && secs < 3 * 2, "outside: %s at %s is temperror in %.2f s: %s", drop,
	   server, secs, why);
	checker_free(spf);
}

int
main(void)
{
	SPF_dns_server_t *zone = SPF_dns_zone_new(NULL, "t_spf", 0);
	struct dns_options dopt = {.test_dns = zone, .test_clock = fake_clock};
	struct spf_options opt = {.test_clock = fake_clock};
	struct spf_stats st;
	char err[256], **txt;
	struct spf *spf;
	size_t i, n;

	n = sizeof(zone_rows) / sizeof(zone_rows[0]);
	if ((i = zone_add_rows(zone, zone_rows, n)) != n)
		diag("zone row %zu: %s not added", i, zone_rows[i].name);
	zone_hosts(zone);

	spf = spf_on(&dopt, &opt, err, sizeof(err));
	if (!ok(spf != NULL, "spf_new with the zone: %s", spf ? "" : err))
		return tap_done();
	test_zone_rows(spf);
	ok(dns_txt_lookup(spf_dns(spf), "pass.test", &txt, err, sizeof(err)) == DNS_TXT_FOUND &&
	       strv_len(txt) == 2,
	   "txt: both TXT records of pass.test");
	strv_free(txt);
	ok(dns_txt_lookup(spf_dns(spf), "servfail.test", &txt, err, sizeof(err)) == DNS_TXT_TEMPERROR &&
	       txt == NULL,
	   "txt: TRY_AGAIN is temperror: %s", err);
	ok(dns_txt_lookup(spf_dns(spf), "nothing.test", &txt, err, sizeof(err)) == DNS_TXT_NONE,
	   "txt: a name the zone lacks is none");
	ok(dns_txt_lookup(spf_dns(spf), "bad..name", &txt, err, sizeof(err)) == DNS_TXT_NONE,
	   "txt: an unusable name is none");
	{
		struct spf_stats st0;
		struct sockaddr_storage ss;

		spf_stats(spf, &st0);
		spf_check_host(spf, mkaddr("192.0.2.1", &ss), "h.test", "a@pass.test", NULL, 0);
		spf_stats(spf, &st);
		ok(st.dns_queries == st0.dns_queries + 1,
		   "stats: pass.test costs one query, TXT only (RFC 7208 3.1; libspf2 asks type "
		   "SPF first)");
	}
	spf_stats(spf, &st);
	ok(st.checks - 1 == sizeof(check_rows) / sizeof(check_rows[0]) - 10 && st.contexts == 1 &&
	       st.timeouts == 0,
	   "stats: %lu checks (the 10 malformed rows never reach libspf2), %lu contexts", st.checks,
	   st.contexts);
	checker_free(spf);

	/* What libspf2 1.2.10 does on its own, which spf.c works around. */
	ok(libspf2_alone(zone, "192.0.2.1", "a@void3.test") == SPF_RESULT_PASS,
	   "libspf2 alone: XXX no void-lookup limit (RFC 7208 4.6.4): void3.test passes");
	ok(libspf2_alone(zone, "127.0.0.1", "a@pass.test") == SPF_RESULT_PASS,
	   "libspf2 alone: loopback passes without looking at the record");
	ok(libspf2_alone(zone, "192.0.2.1", "a@servfail.test") == SPF_RESULT_INVALID,
	   "libspf2 alone: top-level TRY_AGAIN leaves SPF_RESULT_INVALID, not temperror");

	test_vendor(zone);
	test_threads(zone);
	test_options();
	test_stub();
	test_outside();
	SPF_dns_free(zone);
	return tap_done();
}
