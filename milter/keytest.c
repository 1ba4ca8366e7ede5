/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * keytest.c -- relaysign -t: one line per key and a summary, from
 * lib/keycheck.c's verdicts.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "keycheck.h"
#include "keytable.h"
#include "keytest.h"
#include "returnpath.h"
#include "spf.h"
#include "util.h"

/*
 * keytest_run: checks every key of kt and of next, one line each, and a
 * summary that keeps apart the keys that do not match from those DNS
 * could not answer for (not checked is not a mismatch).
 */
int
keytest_run(const struct keytable *kt, struct key *const *next, size_t nnext,
    keycheck_lookup *lookup, void *arg, FILE *out)
{
	size_t i, nconf = kt != NULL ? keytable_nkeys(kt) : 0, n = nconf + nnext;
	size_t good = 0, unchecked = 0;

	if (n == 0) {
		fprintf(out, "no keys configured: nothing to test\n");
		return 1;
	}
	for (i = 0; i < n; i++) {
		const struct key *key = i < nconf ? keytable_key(kt, i) : next[i - nconf];
		char *line = NULL;
		enum keycheck_result r = keycheck_check(key, lookup, arg, &line);

		if (r == KEYCHECK_MATCH)
			good++;
		else if (r == KEYCHECK_DNS_ERROR)
			unchecked++;
		/* A rotation's next key: say it does not sign yet. */
		fprintf(out, "%s%s\n", i < nconf ? "" : "next key, not signing yet: ",
		    line != NULL ? line : "out of memory");
		free(line);
	}
	if (good == n) {
		fprintf(out, "%zu of %zu key%s\n", good, n,
		    n == 1 ? " matches its DNS record" : "s match their DNS records");
		return 0;
	}
	if (n - good - unchecked > 0)
		fprintf(out, "%zu of %zu key%s not match their DNS records: fix the records "
		    "above (changes take effect for receivers after the old record's TTL)\n",
		    n - good - unchecked, n, n == 1 ? " does" : "s do");
	if (unchecked > 0)
		fprintf(out, "%zu of %zu key%s not be checked: DNS did not answer; try again\n",
		    unchecked, n, n == 1 ? " could" : "s could");
	return n - good - unchecked > 0 ? 1 : 2;
}

/*
 * keytest_return_paths: for each ReturnPath and each OutboundAddresses
 * entry, SPF (RFC 7208 check_host) of the address's domain for that
 * client: pass means a signed notice passes DMARC by SPF as well as by
 * DKIM.
 */
int
keytest_return_paths(const struct conf *conf, FILE *out)
{
	size_t i, j, n = returnpath_count(conf->rt.return_paths), bad = 0, temp = 0;
	struct sockaddr_storage ss;

	if (n == 0)
		return 0;
	if (conf->outbound_addresses == NULL) {
		fprintf(out, "ReturnPath: not checked: set OutboundAddresses to the addresses this "
		    "relay sends from, to check that SPF authorises them\n");
		return 0;
	}
	for (i = 0; i < n; i++) {
		for (j = 0; conf->outbound_addresses[j] != NULL; j++) {
			const char *rp = returnpath_at(conf->rt.return_paths, i);
			const char *ip = conf->outbound_addresses[j];
			char why[256] = "";
			enum policy_spf r;

			if (util_sockaddr(ip, &ss) != 0)
				continue;	/* conf.c checked it */
			r = spf_check_host(conf->rt.spf, (const struct sockaddr *)&ss, "relaysign-t",
			    rp, why, sizeof(why));
			fprintf(out, "ReturnPath %s from %s: spf=%s%s%s%s\n", rp, ip,
			    policy_spf_name(r), why[0] ? " (" : "", why, why[0] ? ")" : "");
			if (r == POLICY_SPF_TEMPERROR)
				temp++;
			else if (r != POLICY_SPF_PASS)
				bad++;
		}
	}
	if (bad > 0)
		fprintf(out, "%zu ReturnPath check%s not pass: publish an SPF record for the "
		    "return path's domain that authorises this relay, or DMARC passes by DKIM "
		    "alone\n", bad, bad == 1 ? " does" : "s do");
	else if (temp > 0)
		fprintf(out, "%zu ReturnPath check%s not be made: DNS did not answer; try "
		    "again\n", temp, temp == 1 ? " could" : "s could");
	else
		fprintf(out, "every ReturnPath is authorised by SPF for every OutboundAddresses "
		    "entry\n");
	return bad > 0 ? 1 : temp > 0 ? 2 : 0;
}
