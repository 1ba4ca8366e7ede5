/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * fuzz_bindings.c -- libFuzzer target for the RelayBindings parser
 * (bindings_load_text) and its look-ups.
 *
 * The input is the file's text, handed over as an exactly-sized buffer
 * (no NUL) so AddressSanitizer sees any read past its end.  The context:
 * RelayNetworks 192.0.2.0/24 and 2001:db8::/32, RelaySPFNames
 * spf.vendor.test, no keys (every exact domain passes the key check).
 *
 * Promises checked: an error reads "b:N: reason" with N a line that
 * exists; a loaded table's every line has an identity of a known kind and
 * at least one domain; binding_allows says yes only for a listed domain
 * or a proper subdomain of a listed "*." pattern (an independent model);
 * bindings_find returns only lines of the kind asked for.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include "bindings.h"
#include "util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct cidr_set *nets;
static char *spf_names[] = {"spf.vendor.test", NULL};

/* model_allows: the rule of relaysign.conf(5), written again. */
static bool
model_allows(char *const *domains, const char *d)
{
	size_t i, dl = strlen(d);

	for (i = 0; domains[i] != NULL; i++) {
		const char *p = domains[i];

		if (p[0] == '*' && p[1] == '.') {
			size_t pl = strlen(p) - 1;

			if (dl > pl && strcasecmp(d + dl - pl, p + 1) == 0 && d[dl - pl] == '.')
				return true;
		} else if (strcasecmp(p, d) == 0) {
			return true;
		}
	}
	return false;
}

/* check_table: every line, and look-ups of what the lines name. */
static void
check_table(const struct bindings *b)
{
	static const char *const probes[] = {"a.edu", "x.a.edu", "b.edu", "edu", ".a.edu",
	                                     "xa.edu", "A.EDU", "c.edu", NULL};
	struct sockaddr_in sin;
	size_t i, j, n = bindings_count(b);

	for (i = 0; i < n; i++) {
		const struct binding *bd = bindings_at(b, i);
		char *const *d = binding_domains(bd);
		const char *id = binding_ident(bd);

		if (d == NULL || d[0] == NULL)
			abort();	/* a line binds at least one domain */
		if (strncmp(id, "auth:", 5) != 0 && strncmp(id, "net:", 4) != 0 &&
		    strncmp(id, "spf:", 4) != 0)
			abort();
		for (j = 0; d[j] != NULL; j++) {
			if (strcmp(d[j], "*") == 0)
				abort();	/* never a bare "*" */
			if (d[j][0] != '*' && !binding_allows(bd, d[j]))
				abort();	/* a listed domain is allowed */
		}
		for (j = 0; probes[j] != NULL; j++)
			if (binding_allows(bd, probes[j]) != model_allows(d, probes[j]))
				abort();
		if (strncmp(id, "auth:", 5) == 0 &&
		    (bindings_find(b, POLICY_TRUST_AUTH, id + 5, NULL, NULL) == NULL ||
		     !bindings_has_login(b, id + 5)))
			abort();
	}
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	inet_pton(AF_INET, "192.0.2.10", &sin.sin_addr);
	{
		const struct binding *bd = bindings_find(b, POLICY_TRUST_NETWORK, NULL, NULL,
		                                         (const struct sockaddr *)&sin);

		if (bd != NULL && strncmp(binding_ident(bd), "net:", 4) != 0)
			abort();
		bd = bindings_find(b, POLICY_TRUST_SPF, NULL, "SPF.vendor.test", NULL);
		if (bd != NULL && strcmp(binding_ident(bd), "spf:spf.vendor.test") != 0)
			abort();
		if (bindings_find(b, POLICY_TRUST_NONE, "x", "y", (const struct sockaddr *)&sin))
			abort();
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct bindings_context ctx;
	struct bindings *b = NULL;
	char err[1024], *text;
	size_t lines = 1, i;

	if (nets == NULL) {
		char e[256];

		if ((nets = cidr_set_new()) == NULL ||
		    cidr_set_add(nets, "192.0.2.0/24", e, sizeof(e)) != 0 ||
		    cidr_set_add(nets, "2001:db8::/32", e, sizeof(e)) != 0)
			abort();
	}
	if ((text = malloc(size ? size : 1)) == NULL)
		abort();
	memcpy(text, data, size);
	for (i = 0; i < size; i++)
		lines += data[i] == '\n';
	memset(&ctx, 0, sizeof(ctx));
	ctx.networks = nets;
	ctx.spf_names = spf_names;
	err[0] = '\0';
	if (bindings_load_text("b", text, size, &ctx, &b, err, sizeof(err)) == 0) {
		if (b == NULL)
			abort();
		check_table(b);
		bindings_free(b);
	} else {
		unsigned long n;
		char *end;

		if (b != NULL || strncmp(err, "b:", 2) != 0)
			abort();
		n = strtoul(err + 2, &end, 10);
		if (n == 0 || n > lines || strncmp(end, ": ", 2) != 0)
			abort();
	}
	free(text);
	return 0;
}
