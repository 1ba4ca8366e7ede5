/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * table.c -- the effective signing table, for a postmaster to read: each
 * relay identity, the From domains it may have signed, and the keys.
 */
#include <string.h>
#include <strings.h>

#include "bindings.h"
#include "key.h"
#include "keytable.h"
#include "table.h"

/* print_keys: " (s=sel a=alg, ...)" for an exact domain, or why there are none. */
static void
print_keys(FILE *out, const struct keytable *kt, const char *domain)
{
	const struct key *keys[KEYTABLE_MAX_PER_DOMAIN];
	size_t i, n;

	if (strncmp(domain, "*.", 2) == 0) {
		fprintf(out, " (subdomains: keys as the signing table gives them)");
		return;
	}
	n = keytable_lookup(kt, domain, keys, KEYTABLE_MAX_PER_DOMAIN);
	fprintf(out, " (");
	for (i = 0; i < n; i++)
		fprintf(out, "%sd=%s s=%s a=%s", i ? ", " : "", keys[i]->domain, keys[i]->selector,
		        key_alg_name(keys[i]->alg));
	fprintf(out, "%s)", n == 0 ? "no key" : "");
}

/* seen_before: key i's domain is that of an earlier key. */
static bool
seen_before(const struct keytable *kt, size_t i)
{
	size_t j;

	for (j = 0; j < i; j++)
		if (strcasecmp(keytable_key(kt, j)->domain, keytable_key(kt, i)->domain) == 0)
			return true;
	return false;
}

/* print_unbound: a login or SPF name RelayBindings leaves out. */
static void
print_unbound(void *arg, const char *ident)
{
	fprintf(arg, "  %s -> nothing (no line in RelayBindings)\n", ident);
}

/* table_print: with RelayBindings, line by line; without, everyone -> everything. */
void
table_print(FILE *out, const struct conf *conf)
{
	const struct keytable *kt = conf->rt.keys;
	size_t i, n = keytable_nkeys(kt);

	fprintf(out, "signing table (identity -> From domains -> keys):\n");
	if (conf->rt.bindings == NULL) {
		fprintf(out, "  every trusted relay (RelayNetworks, RelayAuthUsers, "
		        "RelaySPFNames) ->\n");
		for (i = 0; i < n; i++) {
			if (seen_before(kt, i))
				continue;
			fprintf(out, "    %s", keytable_key(kt, i)->domain);
			print_keys(out, kt, keytable_key(kt, i)->domain);
			fputc('\n', out);
		}
		return;
	}
	for (i = 0; i < bindings_count(conf->rt.bindings); i++) {
		const struct binding *bd = bindings_at(conf->rt.bindings, i);
		char *const *d = binding_domains(bd);

		fprintf(out, "  %s ->\n", binding_ident(bd));
		for (; *d != NULL; d++) {
			fprintf(out, "    %s", *d);
			print_keys(out, kt, *d);
			fputc('\n', out);
		}
	}
	{
		struct bindings_context ctx = {conf->relay_auth_users, conf->relay_networks,
		                               conf->relay_spf_names, conf->rt.keys};

		(void)bindings_unbound(conf->rt.bindings, &ctx, print_unbound, out);
	}
	if (cidr_set_count(conf->relay_networks) > 0)
		fprintf(out, "  any other client in RelayNetworks -> nothing (no net: line holds "
		        "it)\n");
}
