/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * runtime.h -- the live objects a configuration runs with, apart from the
 * settings conf.c parses (see runtime.c).
 */
#ifndef RELAYSIGN_RUNTIME_H
#define RELAYSIGN_RUNTIME_H

#include <stddef.h>

struct align;
struct bindings;
struct conf;
struct dns;
struct keytable;
struct returnpath;
struct sign_lib;
struct spf;
struct SPF_dns_server_struct;

/* Made by runtime_build from the settings of one struct conf. */
struct runtime {
	struct keytable *keys;		/* the signing keys and signing table */
	struct bindings *bindings;	/* RelayBindings, or NULL: any relay, any key */
	struct sign_lib *sign_lib;	/* libopendkim's library handle */
	struct dns *dns;		/* the DNS layer: bounded, cached; SPF and DMARC */
	struct spf *spf;		/* SPF checks on it, thread-safe */
	struct align *align;		/* organizational domains (PSL + OrganizationalDomains) */
	struct returnpath *return_paths;/* ReturnPath, checked; NULL when unset */
};

/*
 * runtime_build: checks what needs more than one option (RelayNetworks
 * wider than /8 or /32 without RelayNetworksWide; KeyFile with Domain and
 * Selector, or KeyTable with SigningTable, not both; the keys match
 * SignatureAlgorithm), then fills conf->rt: loads the keys, makes the
 * sign_lib, the bindings, the SPF checker and the alignment tables.
 * Returns 0, or -1 with the reason in err: "file:line: reason" naming the
 * line of the option concerned (and the key file, for key errors), or
 * "file: reason" when no line is to blame; conf_free then frees what was
 * made.
 */
int runtime_build(struct conf *conf, char *err, size_t errlen);

/*
 * runtime_dns: (re)builds conf->rt.dns and conf->rt.spf from conf's DNS
 * settings; test_dns, when not NULL, answers in place of the resolver
 * (relaysign -x -z).  -1 with the reason in err.
 */
int runtime_dns(struct conf *conf, struct SPF_dns_server_struct *test_dns, char *err,
    size_t errlen);

/* runtime_free: everything runtime_build made; the struct itself is not freed. */
void runtime_free(struct runtime *rt);

#endif
