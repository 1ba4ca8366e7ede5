/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * dmarc.c -- RFC 7489 6.6.3 DMARC policy discovery, and just enough of the
 * 6.3/6.4 record syntax to know the policy and the alignment modes.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "dmarc.h"
#include "util.h"

/* Outcome of asking one _dmarc name. */
enum dmarc_found {
	FOUND_RECORD,  /* exactly one DMARC record, usable */
	FOUND_NOTHING, /* no DMARC record: fall back to the org domain */
	FOUND_STOP,    /* several records, or an unusable one: no policy */
	FOUND_TEMP     /* temporary DNS error */
};

/* is_wsp: FWS as it appears inside a TXT value (RFC 7489 6.4, RFC 6376 3.2). */
static bool
is_wsp(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* trim: narrows [*s, *e) to exclude surrounding whitespace. */
static void
trim(const char **s, const char **e)
{
	while (*s < *e && is_wsp(**s))
		(*s)++;
	while (*e > *s && is_wsp((*e)[-1]))
		(*e)--;
}

/* is_ci: true if [s, e) is word, ASCII case-insensitively. */
static bool
is_ci(const char *s, const char *e, const char *word)
{
	size_t n = strlen(word);

	return (size_t)(e - s) == n && strncasecmp(s, word, n) == 0;
}

/* tag_name_ok: RFC 6376 3.2 tag-name = ALPHA *ALNUMPUNC. */
static bool
tag_name_ok(const char *s, const char *e)
{
	if (s == e || !isalpha((unsigned char)*s))
		return false;
	for (s++; s < e; s++)
		if (!isalnum((unsigned char)*s) && *s != '_')
			return false;
	return true;
}

/*
 * split_tag: a tag-spec [s, e) with its "=" at eq, as its name
 * [*ns, *ne) and value [*vs, *ve), whitespace around each left out.
 */
static void
split_tag(const char *s, const char *eq, const char *e, const char **ns, const char **ne,
    const char **vs, const char **ve)
{
	*ns = s;
	*ne = eq;
	*vs = eq + 1;
	*ve = e;
	trim(ns, ne);
	trim(vs, ve);
}

/* keyword: "none", "quarantine", "reject" (RFC 7489 6.3 p=), or DMARC_NONE_RECORD. */
static enum dmarc_policy
keyword(const char *s, const char *e)
{
	if (is_ci(s, e, "none"))
		return DMARC_P_NONE;
	if (is_ci(s, e, "quarantine"))
		return DMARC_P_QUARANTINE;
	if (is_ci(s, e, "reject"))
		return DMARC_P_REJECT;
	return DMARC_NONE_RECORD;
}

/*
 * rua_ok: true if [s, e) holds a syntactically valid URI (RFC 7489 6.4
 * dmarc-uri: URI [ "!" size ]; RFC 3986 3.1 scheme ":" something).
 */
static bool
rua_ok(const char *s, const char *e)
{
	const char *item, *end, *bang, *c;

	for (item = s; item < e; item = end + 1) {
		const char *is = item, *ie;

		if ((end = memchr(item, ',', (size_t)(e - item))) == NULL)
			end = e;
		ie = end;
		if ((bang = memchr(is, '!', (size_t)(ie - is))) != NULL)
			ie = bang;
		trim(&is, &ie);
		if (is == ie || !isalpha((unsigned char)*is))
			continue;
		for (c = is + 1; c < ie && (isalnum((unsigned char)*c) || strchr("+-.", *c)); c++)
			;
		if (c < ie && *c == ':' && c + 1 < ie)
			return true;
	}
	return false;
}

/* dmarc_parse: one TXT record; see dmarc.h. */
enum dmarc_parse
dmarc_parse(const char *text, struct dmarc_record *rec)
{
	const char *p = text, *end, *s, *e, *eq, *ns, *ne, *vs, *ve;
	bool first = true, seen_p = false, seen_sp = false, seen_adkim = false;
	bool seen_aspf = false, seen_rua = false, have_rua = false, bad_sp = false;
	bool *seen;

	rec->p = rec->sp = DMARC_NONE_RECORD;
	rec->adkim = rec->aspf = ALIGN_RELAXED;
	rec->why[0] = '\0';
	for (;;) {
		if ((end = strchr(p, ';')) == NULL)
			end = p + strlen(p);
		s = p;
		e = end;
		trim(&s, &e);
		eq = memchr(s, '=', (size_t)(e - s));
		if (first) {
			/* RFC 7489 6.3: v=DMARC1 first, the value exactly so. */
			if (eq == NULL)
				return DMARC_PARSE_NOT_DMARC;
			split_tag(s, eq, e, &ns, &ne, &vs, &ve);
			if (!is_ci(ns, ne, "v") || (size_t)(ve - vs) != 6 ||
			    strncmp(vs, "DMARC1", 6) != 0)
				return DMARC_PARSE_NOT_DMARC;
			first = false;
		} else if (eq != NULL) {
			split_tag(s, eq, e, &ns, &ne, &vs, &ve);
			/* RFC 7489 6.3: unknown tags, and malformed ones, are ignored. */
			if (!tag_name_ok(ns, ne))
				goto next;
			seen = is_ci(ns, ne, "p")       ? &seen_p
			       : is_ci(ns, ne, "sp")    ? &seen_sp
			       : is_ci(ns, ne, "adkim") ? &seen_adkim
			       : is_ci(ns, ne, "aspf")  ? &seen_aspf
			       : is_ci(ns, ne, "rua")   ? &seen_rua
			                                : NULL;
			if (is_ci(ns, ne, "v") || (seen != NULL && *seen)) {
				util_seterr(rec->why, sizeof(rec->why), "tag %.*s given twice",
				            (int)(ne - ns), ns);
				rec->p = rec->sp = DMARC_NONE_RECORD;
				return DMARC_PARSE_UNUSABLE;
			}
			if (seen != NULL)
				*seen = true;
			if (seen == &seen_p)
				rec->p = keyword(vs, ve);
			else if (seen == &seen_sp)
				bad_sp = (rec->sp = keyword(vs, ve)) == DMARC_NONE_RECORD;
			else if (seen == &seen_adkim && is_ci(vs, ve, "s"))
				rec->adkim = ALIGN_STRICT;
			else if (seen == &seen_aspf && is_ci(vs, ve, "s"))
				rec->aspf = ALIGN_STRICT;
			else if (seen == &seen_rua)
				have_rua = rua_ok(vs, ve);
		}
	next:
		if (*end == '\0')
			break;
		p = end + 1;
	}
	if (rec->p != DMARC_NONE_RECORD && !bad_sp)
		return DMARC_PARSE_OK;
	/* RFC 7489 6.6.3 step 6: with a valid rua=, act as if p=none. */
	if (have_rua) {
		rec->p = DMARC_P_NONE;
		rec->sp = DMARC_NONE_RECORD;
		return DMARC_PARSE_OK;
	}
	util_seterr(rec->why, sizeof(rec->why), "%s",
	            bad_sp ? "sp= is not none, quarantine or reject"
	                   : "no valid p= (none, quarantine or reject)");
	rec->p = rec->sp = DMARC_NONE_RECORD;
	return DMARC_PARSE_UNUSABLE;
}

/* discover: the DMARC records at _dmarc.domain, into rec when there is one. */
static enum dmarc_found
discover(struct dns *dns, const char *domain, struct dmarc_record *rec)
{
	struct dmarc_record one;
	enum dmarc_parse r, kept = DMARC_PARSE_NOT_DMARC;
	char name[ALIGN_DOMAIN_MAX + 8], err[128], **txt = NULL;
	size_t i, n = 0;

	if ((size_t)snprintf(name, sizeof(name), "_dmarc.%s", domain) > ALIGN_DOMAIN_MAX - 1)
		return FOUND_NOTHING; /* longer than a domain name: no record can be there */
	switch (dns_txt_lookup(dns, name, &txt, err, sizeof(err))) {
	case DNS_TXT_TEMPERROR:
		util_seterr(rec->why, sizeof(rec->why), "%s: %s", name, err);
		return FOUND_TEMP;
	case DNS_TXT_NONE:
		return FOUND_NOTHING;
	case DNS_TXT_FOUND:
		break;
	}
	for (i = 0; txt[i] != NULL; i++) {
		if ((r = dmarc_parse(txt[i], &one)) == DMARC_PARSE_NOT_DMARC)
			continue;
		if (n++ == 0) {
			kept = r;
			rec->p = one.p;
			rec->sp = one.sp;
			rec->adkim = one.adkim;
			rec->aspf = one.aspf;
			util_seterr(rec->why, sizeof(rec->why), "%s: %s", name, one.why);
		}
	}
	strv_free(txt);
	if (n == 0)
		return FOUND_NOTHING;
	util_strlcpy(rec->domain, domain, sizeof(rec->domain));
	/* RFC 7489 6.6.3 step 5: more than one record means no policy. */
	if (n > 1) {
		util_seterr(rec->why, sizeof(rec->why), "%s: %zu DMARC records", name, n);
		return FOUND_STOP;
	}
	return kept == DMARC_PARSE_OK ? FOUND_RECORD : FOUND_STOP;
}

/* dmarc_lookup: RFC 7489 6.6.3 policy discovery. */
enum dmarc_policy
dmarc_lookup(struct dns *dns, const struct align *al, const char *from_domain,
             struct dmarc_record *rec)
{
	char from[ALIGN_DOMAIN_MAX], org[ALIGN_DOMAIN_MAX];
	enum dmarc_found found;

	memset(rec, 0, sizeof(*rec));
	rec->policy = rec->p = rec->sp = DMARC_NONE_RECORD;
	rec->adkim = rec->aspf = ALIGN_RELAXED;
	if (align_normalize(from_domain, from, sizeof(from)) == NULL) {
		util_seterr(rec->why, sizeof(rec->why), "From domain is not a domain name");
		return rec->policy;
	}
	found = discover(dns, from, rec);
	/* 6.6.3 step 3: only the absence of a record sends us to the org domain. */
	if (found == FOUND_NOTHING && align_org_domain(al, from, org, sizeof(org)) != NULL &&
	    strcmp(org, from) != 0) {
		found = discover(dns, org, rec);
		rec->org = true;
	}
	switch (found) {
	case FOUND_RECORD:
		rec->why[0] = '\0';
		/* RFC 7489 6.3 sp=: for subdomains, when given. */
		rec->policy = rec->org && rec->sp != DMARC_NONE_RECORD ? rec->sp : rec->p;
		break;
	case FOUND_TEMP:
		rec->policy = DMARC_TEMPERROR;
		break;
	case FOUND_NOTHING:
		rec->org = false;
		rec->domain[0] = '\0';
		util_seterr(rec->why, sizeof(rec->why), "no DMARC record");
		/* FALLTHROUGH */
	case FOUND_STOP:
		rec->policy = rec->p = rec->sp = DMARC_NONE_RECORD;
		rec->adkim = rec->aspf = ALIGN_RELAXED;
		break;
	}
	return rec->policy;
}

/* dmarc_policy_name: the policy as a word for the log and the header. */
const char *
dmarc_policy_name(enum dmarc_policy policy)
{
	switch (policy) {
	case DMARC_P_NONE:
		return "none";
	case DMARC_P_QUARANTINE:
		return "quarantine";
	case DMARC_P_REJECT:
		return "reject";
	case DMARC_TEMPERROR:
		return "temperror";
	case DMARC_NONE_RECORD:
	default:
		return "absent";
	}
}
