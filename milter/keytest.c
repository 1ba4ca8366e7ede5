/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * keytest.c -- relaysign -t: one line per key and a summary, from
 * lib/keycheck.c's verdicts.
 */
#include <stdio.h>
#include <stdlib.h>

#include "keycheck.h"
#include "keytable.h"
#include "keytest.h"

/*
 * keytest_run: checks every key of kt, one line each, and a summary
 * that keeps apart the keys that do not match from those DNS could not
 * answer for (not checked is not a mismatch).
 */
int
keytest_run(const struct keytable *kt, keycheck_lookup *lookup, void *arg, FILE *out)
{
	size_t i, n = kt != NULL ? keytable_nkeys(kt) : 0, good = 0, unchecked = 0;

	if (n == 0) {
		fprintf(out, "no keys configured: nothing to test\n");
		return 1;
	}
	for (i = 0; i < n; i++) {
		const struct key *key = keytable_key(kt, i);
		char *line = NULL;
		enum keycheck_result r = keycheck_check(key, lookup, arg, &line);

		if (r == KEYCHECK_MATCH)
			good++;
		else if (r == KEYCHECK_DNS_ERROR)
			unchecked++;
		fprintf(out, "%s\n", line != NULL ? line : "out of memory");
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


