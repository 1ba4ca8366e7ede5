/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * t_dmarc.c -- dmarc_parse and dmarc_lookup, table-driven, against
 * libspf2's in-memory zone through dns_txt_lookup (a name the zone lacks
 * is NXDOMAIN; nothing reaches real DNS).
 *
 * The zone holds a TXT record as one string, i.e. as it reads once its
 * character-strings are joined.  The joining itself is dns_txt_lookup's,
 * tested over a real DNS exchange in t_spf ("stub 1", "stub 2").
 */
#include <sys/types.h>
#include <netinet/in.h>
#include <arpa/nameser.h>
#include <netdb.h>
#include <resolv.h>
#include <spf2/spf.h>
#include <spf2/spf_dns_zone.h>

#include <string.h>

#include "dmarc.h"
#include "../tap.h"
#include "../zone_rows.h"

#define OK NETDB_SUCCESS
#define ABS DMARC_NONE_RECORD
#define NON DMARC_P_NONE
#define QUA DMARC_P_QUARANTINE
#define REJ DMARC_P_REJECT
#define TMP DMARC_TEMPERROR
#define Rx ALIGN_RELAXED
#define Sx ALIGN_STRICT

static const struct zone_row zone_rows[] = {
    {"_dmarc.reject.test", ns_t_txt, OK, "v=DMARC1; p=reject"},
    {"_dmarc.quar.test", ns_t_txt, OK, "v=DMARC1; p=quarantine; adkim=s; aspf=s"},
    {"_dmarc.none.test", ns_t_txt, OK, "v=DMARC1; p=none; rua=mailto:agg@none.test"},
    {"_dmarc.sp.test", ns_t_txt, OK, "v=DMARC1; p=reject; sp=none"},
    {"_dmarc.sub.sp.test", ns_t_txt, OK, "v=DMARC1; p=quarantine"},
    {"_dmarc.two.test", ns_t_txt, OK, "v=DMARC1; p=reject"},
    {"_dmarc.two.test", ns_t_txt, OK, "v=DMARC1; p=none"},
    {"_dmarc.mixed.test", ns_t_txt, OK, "google-site-verification=abc"},
    {"_dmarc.mixed.test", ns_t_txt, OK, "v=DMARC1; p=reject"},
    {"_dmarc.badfirst.test", ns_t_txt, OK, "p=reject; v=DMARC1"},
    {"_dmarc.lowerv.test", ns_t_txt, OK, "v=dmarc1; p=reject"},
    {"_dmarc.spaces.test", ns_t_txt, OK, "  V = DMARC1 ;  P = Reject ; ADKIM = S ;"},
    {"_dmarc.tight.test", ns_t_txt, OK, "v=DMARC1;p=quarantine;sp=reject;aspf=s"},
    {"_dmarc.joined.test", ns_t_txt, OK, "v=DMARC1; p=quarantine; rua=mailto:a@joined.test"},
    {"_dmarc.rua-only.test", ns_t_txt, OK, "v=DMARC1; rua=mailto:agg@rua-only.test"},
    {"_dmarc.nop.test", ns_t_txt, OK, "v=DMARC1; adkim=s"},
    {"_dmarc.badp.test", ns_t_txt, OK, "v=DMARC1; p=block"},
    {"_dmarc.badp-rua.test", ns_t_txt, OK, "v=DMARC1; p=block; rua=mailto:a@badp-rua.test!10m"},
    {"_dmarc.badsp.test", ns_t_txt, OK, "v=DMARC1; p=reject; sp=deny"},
    {"_dmarc.dup.test", ns_t_txt, OK, "v=DMARC1; p=none; p=reject"},
    {"_dmarc.unknown.test", ns_t_txt, OK, "v=DMARC1; p=reject; foo=bar; pct=50; fo=1; 9x=y; =z"},
    {"_dmarc.nosemi.test", ns_t_txt, OK, "v=DMARC1 p=reject"},
    {"_dmarc.servfail.test", ns_t_any, TRY_AGAIN, NULL},
    {"_dmarc.tempo.test", ns_t_any, TRY_AGAIN, NULL},
    {"_dmarc.vendor.test", ns_t_txt, OK, "v=DMARC1; p=reject; adkim=r"},
    {"_dmarc.xn--bcher-kva.test", ns_t_txt, OK, "v=DMARC1; p=quarantine"},
};
#define ZONE_N (sizeof(zone_rows) / sizeof(zone_rows[0]))

static const struct {
	const char *from;
	enum dmarc_policy want;
	bool org;           /* found at the organizational domain */
	const char *domain; /* where, or "" */
	enum align_mode adkim, aspf;
} lookup_rows[] = {
    {"reject.test", REJ, false, "reject.test", Rx, Rx},
    {"quar.test", QUA, false, "quar.test", Sx, Sx},
    {"none.test", NON, false, "none.test", Rx, Rx},
    /* organizational-domain fallback; sp= for a subdomain */
    {"library.reject.test", REJ, true, "reject.test", Rx, Rx},
    {"a.b.reject.test", REJ, true, "reject.test", Rx, Rx},
    {"sp.test", REJ, false, "sp.test", Rx, Rx},
    {"a.sp.test", NON, true, "sp.test", Rx, Rx},
    {"sub.sp.test", QUA, false, "sub.sp.test", Rx, Rx},
    {"x.tight.test", REJ, true, "tight.test", Rx, Sx},
    /* no record */
    {"norecord.test", ABS, false, "", Rx, Rx},
    {"sub.norecord.test", ABS, false, "", Rx, Rx},
    /* RFC 7489 6.6.3 step 5: two records, no policy, no fallback */
    {"two.test", ABS, false, "two.test", Rx, Rx},
    {"sub.two.test", ABS, true, "two.test", Rx, Rx},
    {"mixed.test", REJ, false, "mixed.test", Rx, Rx},
    /* v=DMARC1 first, exactly */
    {"badfirst.test", ABS, false, "", Rx, Rx},
    {"lowerv.test", ABS, false, "", Rx, Rx},
    {"nosemi.test", ABS, false, "", Rx, Rx},
    /* whitespace and case */
    {"spaces.test", REJ, false, "spaces.test", Sx, Rx},
    {"tight.test", QUA, false, "tight.test", Rx, Sx},
    {"joined.test", QUA, false, "joined.test", Rx, Rx},
    /* RFC 7489 6.6.3 step 6: no valid p= */
    {"rua-only.test", NON, false, "rua-only.test", Rx, Rx},
    {"nop.test", ABS, false, "nop.test", Rx, Rx},
    {"sub.nop.test", ABS, true, "nop.test", Rx, Rx},
    {"badp.test", ABS, false, "badp.test", Rx, Rx},
    {"badp-rua.test", NON, false, "badp-rua.test", Rx, Rx},
    {"badsp.test", ABS, false, "badsp.test", Rx, Rx},
    {"dup.test", ABS, false, "dup.test", Rx, Rx},
    {"unknown.test", REJ, false, "unknown.test", Rx, Rx},
    /* temporary errors: no fallback, at either name */
    {"servfail.test", TMP, false, "", Rx, Rx},
    {"sub.tempo.test", TMP, true, "", Rx, Rx},
    /* the From domain as written */
    {"REJECT.Test.", REJ, false, "reject.test", Rx, Rx},
    {"vendor.test", REJ, false, "vendor.test", Rx, Rx},
    {"b\xc3\xbc"
     "cher.test",
     QUA, false, "xn--bcher-kva.test", Rx, Rx},
    {"", ABS, false, "", Rx, Rx},
    {NULL, ABS, false, "", Rx, Rx},
    {"exa mple.test", ABS, false, "", Rx, Rx},
    {"test", ABS, false, "", Rx, Rx},
};

static const struct {
	const char *text;
	enum dmarc_parse want;
	enum dmarc_policy p, sp;
} parse_rows[] = {
    {"v=DMARC1; p=reject", DMARC_PARSE_OK, REJ, ABS},
    {"v=DMARC1;p=none;sp=quarantine", DMARC_PARSE_OK, NON, QUA},
    {"v=DMARC1; p=QUARANTINE ;", DMARC_PARSE_OK, QUA, ABS},
    {"v=DMARC1;\tp=reject;\tsp=none", DMARC_PARSE_OK, REJ, NON},
    {"v = DMARC1 ; p = reject", DMARC_PARSE_OK, REJ, ABS},
    {"v=DMARC1; p=reject; rua=mailto:a@x.test,mailto:b@y.test!10m", DMARC_PARSE_OK, REJ, ABS},
    {"v=DMARC1", DMARC_PARSE_UNUSABLE, ABS, ABS},
    {"v=DMARC1;", DMARC_PARSE_UNUSABLE, ABS, ABS},
    {"v=DMARC1; p=", DMARC_PARSE_UNUSABLE, ABS, ABS},
    {"v=DMARC1; p=rejected", DMARC_PARSE_UNUSABLE, ABS, ABS},
    {"v=DMARC1; p=reject; sp=", DMARC_PARSE_UNUSABLE, ABS, ABS},
    {"v=DMARC1; p=reject; v=DMARC1", DMARC_PARSE_UNUSABLE, ABS, ABS},
    {"v=DMARC1; rua=nonsense", DMARC_PARSE_UNUSABLE, ABS, ABS},
    {"v=DMARC1; rua=mailto:x@y.test", DMARC_PARSE_OK, NON, ABS},
    {"v=DMARC1; p=bogus; sp=reject; rua=https://r.test/x", DMARC_PARSE_OK, NON, ABS},
    {"v=DMARC2; p=reject", DMARC_PARSE_NOT_DMARC, ABS, ABS},
    {"v=DMARC1x; p=reject", DMARC_PARSE_NOT_DMARC, ABS, ABS},
    {"x=DMARC1; p=reject", DMARC_PARSE_NOT_DMARC, ABS, ABS},
    {"", DMARC_PARSE_NOT_DMARC, ABS, ABS},
    {";v=DMARC1; p=reject", DMARC_PARSE_NOT_DMARC, ABS, ABS},
    {"v=spf1 -all", DMARC_PARSE_NOT_DMARC, ABS, ABS},
};

int
main(void)
{
	SPF_dns_server_t *zone = SPF_dns_zone_new(NULL, "t_dmarc", 0);
	struct dns_options opt = {.test_dns = zone};
	struct dmarc_record rec;
	char err[256];
	struct dns *dns;
	struct align *al;
	size_t i;

	if ((i = zone_add_rows(zone, zone_rows, ZONE_N)) != ZONE_N)
		diag("zone row %zu: %s not added", i, zone_rows[i].name);
	dns = dns_new(&opt, err, sizeof(err));
	al = align_new(NULL, NULL, err, sizeof(err));
	if (!ok(dns != NULL && al != NULL, "setup: %s", err))
		return tap_done();

	for (i = 0; i < sizeof(lookup_rows) / sizeof(lookup_rows[0]); i++) {
		enum dmarc_policy got = dmarc_lookup(dns, al, lookup_rows[i].from, &rec);

		ok(got == lookup_rows[i].want && rec.policy == got &&
		       rec.org == lookup_rows[i].org &&
		       strcmp(rec.domain, lookup_rows[i].domain) == 0 &&
		       rec.adkim == lookup_rows[i].adkim && rec.aspf == lookup_rows[i].aspf &&
		       (got == DMARC_NONE_RECORD || got == DMARC_TEMPERROR) == (rec.why[0] != '\0'),
		   "lookup row %zu: %s: %s (want %s), org %d, at \"%s\", adkim %s, aspf %s, why "
		   "\"%s\"",
		   i, lookup_rows[i].from ? lookup_rows[i].from : "(null)", dmarc_policy_name(got),
		   dmarc_policy_name(lookup_rows[i].want), rec.org, rec.domain,
		   align_mode_name(rec.adkim), align_mode_name(rec.aspf), rec.why);
	}
	for (i = 0; i < sizeof(parse_rows) / sizeof(parse_rows[0]); i++) {
		enum dmarc_parse got = dmarc_parse(parse_rows[i].text, &rec);

		ok(got == parse_rows[i].want &&
		       (got == DMARC_PARSE_NOT_DMARC ||
		        (rec.p == parse_rows[i].p && rec.sp == parse_rows[i].sp)),
		   "parse row %zu: \"%s\": %d p=%s sp=%s %s", i, parse_rows[i].text, got,
		   dmarc_policy_name(rec.p), dmarc_policy_name(rec.sp), rec.why);
	}
	ok(strcmp(dmarc_policy_name(DMARC_NONE_RECORD), "absent") == 0 &&
	       strcmp(dmarc_policy_name(DMARC_P_REJECT), "reject") == 0 &&
	       strcmp(dmarc_policy_name(DMARC_TEMPERROR), "temperror") == 0,
	   "names");
	align_free(al);
	dns_free(dns);
	SPF_dns_free(zone);
	return tap_done();
}
