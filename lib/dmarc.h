/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * dmarc.h -- RFC 7489 6.6.3 DMARC policy discovery for the From domain,
 * so the log and Authentication-Results can say what a receiver would do
 * with the message if it were not signed.  Only discovery and the tags
 * that say so are read (v, p, sp, adkim, aspf, and rua for 6.6.3 step 6);
 * relaysign sends no reports and applies no policy.
 *
 * DNS goes through dns_txt_lookup (lib/dns.h): the same layer, time
 * bound, cache and test zone as SPF.  A lookup asks at most two names, each
 * bounded by the DNS timeout.
 */
#ifndef RELAYSIGN_DMARC_H
#define RELAYSIGN_DMARC_H

#include <stdbool.h>
#include <stddef.h>

#include "align.h"
#include "dns.h"

enum dmarc_policy {
	DMARC_NONE_RECORD = 0, /* no usable record: DMARC does not apply */
	DMARC_P_NONE,
	DMARC_P_QUARANTINE,
	DMARC_P_REJECT,
	DMARC_TEMPERROR /* DNS failed for now; try again later */
};

struct dmarc_record {
	/* The policy for the From domain: p=, or sp= when found at the org domain. */
	enum dmarc_policy policy;
	enum dmarc_policy p;           /* p= as published (DMARC_NONE_RECORD: absent or invalid) */
	enum dmarc_policy sp;          /* sp= as published (DMARC_NONE_RECORD: absent) */
	enum align_mode adkim;         /* adkim=, relaxed unless "s" */
	enum align_mode aspf;          /* aspf=, relaxed unless "s" */
	bool org;                      /* found at the organizational domain */
	char domain[ALIGN_DOMAIN_MAX]; /* where the record was found, "" for none */
	char why[400];                 /* for DMARC_NONE_RECORD and DMARC_TEMPERROR */
};

/* What dmarc_parse made of one TXT record. */
enum dmarc_parse {
	DMARC_PARSE_NOT_DMARC, /* first tag is not v=DMARC1: discarded (RFC 7489 6.6.3 step 2) */
	DMARC_PARSE_OK,        /* a DMARC record with a valid p= */
	DMARC_PARSE_UNUSABLE   /* a DMARC record without a valid p= or with a bad sp= */
};

/*
 * dmarc_parse: one TXT record's text (RFC 7489 6.3, 6.4: tag=value pairs
 * separated by ';', whitespace around either allowed).  The version must
 * be exactly "DMARC1" (RFC 7489 6.3 "MUST match precisely"); tag names
 * and the p, sp, adkim, aspf keywords are case-insensitive (RFC 5234
 * quoted strings); unknown tags are ignored (6.3); a tag given twice makes
 * the record unusable (RFC 6376 3.2, whose syntax 6.3 adopts).  A record
 * without a valid p=, or with an invalid sp=, is DMARC_PARSE_UNUSABLE,
 * except that one with a syntactically valid rua= URI reads as p=none
 * (6.6.3 step 6).  Fills *rec's p, sp, adkim, aspf; why gets a reason for
 * the last two outcomes.
 */
enum dmarc_parse dmarc_parse(const char *text, struct dmarc_record *rec);

/*
 * dmarc_lookup: RFC 7489 6.6.3 policy discovery for from_domain: the TXT
 * records at _dmarc.<from_domain>; when none is a DMARC record, those at
 * _dmarc.<organizational domain> (align_org_domain), where sp= applies
 * when present.  Several DMARC records at one name end discovery with no
 * policy (6.6.3 step 5); so does an unusable record.  A temporary DNS
 * failure at either name is DMARC_TEMPERROR (6.6.3 step 3 falls back
 * only when there is no record, not on an error).  Fills *rec and returns
 * rec->policy.
 */
enum dmarc_policy dmarc_lookup(struct dns *dns, const struct align *al, const char *from_domain,
                               struct dmarc_record *rec);

/* dmarc_policy_name: "absent", "none", "quarantine", "reject", "temperror". */
const char *dmarc_policy_name(enum dmarc_policy policy);

#endif
