/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * zone.c -- a zone file as libspf2 DNS answers (zone.h).  ldns parses the
 * master file (RFC 1035 5: $ORIGIN, $TTL, relative names, parentheses,
 * quoted character-strings); this file only hands each record to
 * SPF_dns_zone_add_str in the form libspf2 wants.
 */
#include <arpa/nameser.h>
#include <ctype.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <resolv.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

#include <ldns/ldns.h>
#include <spf2/spf.h>
#include <spf2/spf_dns_zone.h>

#include "util.h"
#include "zone.h"

/* A TXT record's character-strings joined (RFC 7208 3.3, RFC 6376 3.6.2.2). */
#define ZONE_TXT_MAX 65535

/* name_text: an owner or target name as text, lowercase, without the final dot. */
static char *
name_text(const ldns_rdf *rdf)
{
	char *s = ldns_rdf2str(rdf);
	size_t len;

	if (s == NULL)
		return NULL;
	len = strlen(s);
	if (len > 1 && s[len - 1] == '.')
		s[len - 1] = '\0';
	for (char *c = s; *c != '\0'; c++)
		*c = (char)tolower((unsigned char)*c);
	return s;
}

/*
 * txt_text: the character-strings of a TXT record joined, raw (no zone
 * file escapes); NULL if one holds a NUL (no SPF or DMARC record does).
 */
static char *
txt_text(const ldns_rr *rr)
{
	size_t i, n = 0, cap = 256;
	char *out = malloc(cap), *bigger;

	if (out == NULL)
		return NULL;
	for (i = 0; i < ldns_rr_rd_count(rr); i++) {
		const ldns_rdf *rdf = ldns_rr_rdf(rr, i);
		const uint8_t *d = ldns_rdf_data(rdf);
		size_t len = ldns_rdf_size(rdf) > 0 ? d[0] : 0;

		if (len + 1 > ldns_rdf_size(rdf) || memchr(d + 1, '\0', len) != NULL ||
		    n + len > ZONE_TXT_MAX)
			goto fail;
		while (n + len + 1 > cap) {
			if ((bigger = realloc(out, cap * 2)) == NULL)
				goto fail;
			out = bigger;
			cap *= 2;
		}
		memcpy(out + n, d + 1, len);
		n += len;
	}
	out[n] = '\0';
	return out;
fail:
	free(out);
	return NULL;
}

/* add_rr: one record into the zone: 1 added, 0 a type SPF never asks, -1 error. */
static int
add_rr(SPF_dns_server_t *z, const ldns_rr *rr, char *err, size_t errlen)
{
	ldns_rr_type t = ldns_rr_get_type(rr);
	ns_type nt;
	char *owner, *data = NULL;
	int rc = -1;

	switch (t) {
	case LDNS_RR_TYPE_TXT:
		nt = ns_t_txt;
		break;
	case LDNS_RR_TYPE_A:
		nt = ns_t_a;
		break;
	case LDNS_RR_TYPE_AAAA:
		nt = ns_t_aaaa;
		break;
	case LDNS_RR_TYPE_MX:
		nt = ns_t_mx;
		break;
	case LDNS_RR_TYPE_PTR:
		nt = ns_t_ptr;
		break;
	default:
		return 0;
	}
	if ((owner = name_text(ldns_rr_owner(rr))) == NULL)
		return util_seterr(err, errlen, "out of memory");
	if (t == LDNS_RR_TYPE_TXT)
		data = txt_text(rr);
	else if (t == LDNS_RR_TYPE_MX && ldns_rr_rd_count(rr) == 2)
		data = name_text(ldns_rr_rdf(rr, 1));	/* the exchange; libspf2 keeps no preference */
	else if (t == LDNS_RR_TYPE_PTR && ldns_rr_rd_count(rr) == 1)
		data = name_text(ldns_rr_rdf(rr, 0));
	else if (ldns_rr_rd_count(rr) == 1)
		data = ldns_rdf2str(ldns_rr_rdf(rr, 0));	/* an address as text */
	if (data == NULL)
		util_seterr(err, errlen, "%s: a record relaysign cannot use (a TXT string with a "
		    "NUL, or out of memory)", owner);
	else if (SPF_dns_zone_add_str(z, owner, nt, NETDB_SUCCESS, data) != SPF_E_SUCCESS)
		util_seterr(err, errlen, "%s: libspf2 refused the record \"%s\"", owner, data);
	else
		rc = 1;
	free(owner);
	free(data);
	return rc;
}

/*
 * zone_load: the zone file at path as a libspf2 zone, record by record
 * (ldns_rr_new_frm_fp_l, the loop of ldns_zone_new_frm_fp_l: that one
 * leaks the records read before a syntax error).
 */
SPF_dns_server_t *
zone_load(const char *path, char *err, size_t errlen)
{
	SPF_dns_server_t *z;
	ldns_rdf *origin, *prev = NULL;
	ldns_status st;
	ldns_rr *rr;
	uint32_t ttl = 300;
	char why[256];
	FILE *fp;
	int line = 0;

	if ((fp = fopen(path, "re")) == NULL) {
		util_seterr(err, errlen, "%s: %s", path, strerror(errno));
		return NULL;
	}
	origin = ldns_dname_new_frm_str(".");
	if (origin == NULL || (z = SPF_dns_zone_new(NULL, path, 0)) == NULL) {
		fclose(fp);
		ldns_rdf_deep_free(origin);
		util_seterr(err, errlen, "out of memory");
		return NULL;
	}
	while (!feof(fp)) {
		rr = NULL;
		st = ldns_rr_new_frm_fp_l(&rr, fp, &ttl, &origin, &prev, &line);
		if (st == LDNS_STATUS_SYNTAX_EMPTY || st == LDNS_STATUS_SYNTAX_TTL ||
		    st == LDNS_STATUS_SYNTAX_ORIGIN)
			continue;	/* a blank line, a comment, $TTL, $ORIGIN */
		if (st == LDNS_STATUS_SYNTAX_INCLUDE)
			util_seterr(err, errlen, "%s:%d: $INCLUDE is not supported: give one file",
			    path, line);
		else if (st != LDNS_STATUS_OK)
			util_seterr(err, errlen, "%s:%d: %s", path, line,
			    ldns_get_errorstr_by_id(st));
		else if (add_rr(z, rr, why, sizeof(why)) == -1)
			util_seterr(err, errlen, "%s:%d: %s", path, line, why);
		else {
			ldns_rr_free(rr);
			continue;
		}
		ldns_rr_free(rr);
		SPF_dns_free(z);
		z = NULL;
		break;
	}
	fclose(fp);
	ldns_rdf_deep_free(origin);
	ldns_rdf_deep_free(prev);
	return z;
}
