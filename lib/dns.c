/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * dns.c -- the one TXT RDATA reader, and TXT records through the system's
 * resolver for the command line.
 *
 * DNS messages are taken apart by libresolv (ns_initparse, ns_parserr);
 * the only wire format read here is the TXT RDATA itself, a sequence of
 * length-prefixed character-strings, with bounds checks.
 */
#include <sys/types.h>
#include <netinet/in.h>
#include <arpa/nameser.h>
#include <netdb.h>
#include <resolv.h>

#include <stdlib.h>
#include <string.h>

#include "dns.h"
#include "util.h"

long
dns_txt_join(const unsigned char *rdata, size_t rdlen, char *buf)
{
	size_t i = 0, out = 0, n;

	while (i < rdlen) {
		n = rdata[i++];
		if (n > rdlen - i || memchr(rdata + i, '\0', n) != NULL)
			return -1;
		memcpy(buf + out, rdata + i, n);
		out += n;
		i += n;
	}
	return (long)out;
}

/* res_error: the reason for a failed res_nquery, or NULL for "no record". */
static const char *
res_error(int h_errno_value, char *buf, size_t len)
{
	switch (h_errno_value) {
	case HOST_NOT_FOUND:	/* NXDOMAIN */
	case NO_DATA:		/* the name exists, no TXT */
		return NULL;
	case TRY_AGAIN:
		return "no answer (server failure or timeout)";
	case NO_RECOVERY:
		return "the server refused or could not answer";
	default:
		(void)util_seterr(buf, len, "lookup failed (resolver error %d)", h_errno_value);
		return buf;
	}
}

int
dns_res_txt(const char *name, size_t max_records, size_t max_len, char ***txts_r,
    char *err, size_t errlen)
{
	struct __res_state rs;
	unsigned char *ans;
	char **txts = NULL, *txt, why[64];
	const char *e;
	ns_msg msg;
	ns_rr rr;
	int len, i, count, rc = 0;
	long n;

	*txts_r = NULL;
	memset(&rs, 0, sizeof(rs));
	if (res_ninit(&rs) != 0)
		return util_seterr(err, errlen, "cannot read the resolver configuration");
	/*
	 * EDNS0 (RFC 6891): glibc then offers a 1200-byte UDP answer, which a
	 * 4096-bit key record fits in, instead of 512 and a retry over TCP;
	 * glibc retries without EDNS0 when a server chokes on it.
	 */
	rs.options |= RES_USE_EDNS0;
	if ((ans = malloc(NS_MAXMSG)) == NULL) {
		res_nclose(&rs);
		return util_seterr(err, errlen, "out of memory");
	}
	len = res_nquery(&rs, name, ns_c_in, ns_t_txt, ans, NS_MAXMSG);
	if (len < 0) {
		if ((e = res_error(rs.res_h_errno, why, sizeof(why))) != NULL)
			rc = util_seterr(err, errlen, "%s", e);
		goto out;
	}
	if (len > NS_MAXMSG || ns_initparse(ans, len, &msg) < 0) {
		rc = util_seterr(err, errlen, "malformed answer");
		goto out;
	}
	count = ns_msg_count(msg, ns_s_an);
	for (i = 0; i < count && strv_len(txts) < max_records; i++) {
		if (ns_parserr(&msg, ns_s_an, i, &rr) < 0) {
			rc = util_seterr(err, errlen, "malformed answer");
			goto out;
		}
		/* CNAMEs on the way are followed by the server; skip them. */
		if (ns_rr_type(rr) != ns_t_txt || ns_rr_class(rr) != ns_c_in)
			continue;
		/* The joined text is shorter than the rdata: one length byte a string. */
		if (ns_rr_rdlen(rr) > max_len) {
			rc = util_seterr(err, errlen, "a TXT record of %u bytes, more than the "
			    "%zu expected", (unsigned)ns_rr_rdlen(rr), max_len);
			goto out;
		}
		if ((txt = malloc((size_t)ns_rr_rdlen(rr) + 1)) == NULL) {
			rc = util_seterr(err, errlen, "out of memory");
			goto out;
		}
		if ((n = dns_txt_join(ns_rr_rdata(rr), ns_rr_rdlen(rr), txt)) < 0) {
			free(txt);
			rc = util_seterr(err, errlen, "malformed TXT record in the answer");
			goto out;
		}
		txt[n] = '\0';
		rc = strv_push(&txts, txt);
		free(txt);
		if (rc != 0) {
			rc = util_seterr(err, errlen, "out of memory");
			goto out;
		}
	}
out:
	free(ans);
	res_nclose(&rs);
	if (rc != 0) {
		strv_free(txts);
		return -1;
	}
	*txts_r = txts;
	return 0;
}
