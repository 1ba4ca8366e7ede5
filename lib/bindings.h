/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * bindings.h -- RelayBindings: which From domains each relay identity may
 * have signed (a consortium relay serves many institutions; institution
 * A's login must not get mail From B signed with B's key).
 *
 * The file: one identity a line, then the domains bound to it, spaces or
 * commas between them; "#" starts a comment anywhere; blank lines are
 * ignored.
 *
 *   auth:alma-ufl                  ufl.edu *.ufl.edu
 *   net:192.0.2.0/24               fsu.edu
 *   spf:spf-na.exlibrisgroup.com   usf.edu
 *
 * Identities: auth:LOGIN (an SMTP AUTH login, compared exactly; the line
 * trusts it as RelayAuthUsers would, so a consortium of hundreds of
 * institutions needs no RelayAuthUsers line of hundreds of logins),
 * net:PREFIX (clients in RelayNetworks within PREFIX; the longest prefix
 * holding the client is its binding), spf:NAME (a RelaySPFNames name).
 * Domains: a keyed domain, exactly, or "*.domain" for its subdomains only;
 * never a bare "*".  One line an identity.
 *
 * Which binding a message uses is the identity that trusted it, in this
 * order: the SMTP AUTH login (when it is in RelayAuthUsers), then the
 * client's address, then the vendor's SPF name.  The first that applies
 * decides alone; an identity without a line binds nothing.  The domains
 * of several identities are never added together.
 */
#ifndef RELAYSIGN_BINDINGS_H
#define RELAYSIGN_BINDINGS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <sys/socket.h>

#include "cidr.h"
#include "keytable.h"
#include "policy.h"

/* Longest line of a RelayBindings file; largest file; longest login. */
#define BINDINGS_LINE_MAX 4096
#define BINDINGS_FILE_MAX (4 * 1024 * 1024)
#define BINDINGS_LOGIN_MAX 255

enum binding_kind { BINDING_AUTH, BINDING_NET, BINDING_SPF };

struct binding;
struct bindings;

/* What a binding must agree with: the rest of the configuration. */
struct bindings_context {
	char *const *auth_users;		/* RelayAuthUsers */
	const struct cidr_set *networks;	/* RelayNetworks */
	char *const *spf_names;			/* RelaySPFNames, lowercase */
	const struct keytable *keys;		/* the signing table */
};

/*
 * bindings_load_text: parses text[0..len), named name in messages, and
 * checks each line against ctx: a net: prefix must be within
 * RelayNetworks, an spf: name in RelaySPFNames, an
 * exact domain must have keys.  Returns 0 and the table in *b_r, or -1
 * with "name:line: reason" in err.
 */
int bindings_load_text(const char *name, const char *text, size_t len,
    const struct bindings_context *ctx, struct bindings **b_r, char *err, size_t errlen);

/* bindings_load: reads path (a regular file, bounded) and bindings_load_text. */
int bindings_load(const char *path, const struct bindings_context *ctx, struct bindings **b_r,
    char *err, size_t errlen);

/* bindings_free: bindings_free(NULL) is a no-op. */
void bindings_free(struct bindings *b);

/*
 * bindings_find: the binding of the identity that trusted a message (see
 * above): trust says which kind; auth_user, spf_name and addr are the
 * message's (any may be NULL when not that kind).  NULL when that
 * identity has no line.
 */
const struct binding *bindings_find(const struct bindings *b, enum policy_trust trust,
    const char *auth_user, const char *spf_name, const struct sockaddr *addr);

/* bindings_has_login: an auth: line names login: it is a trusted relay login. */
bool bindings_has_login(const struct bindings *b, const char *login);

/* binding_allows: domain (lowercase A-labels, no trailing dot) is bound to bd. */
bool binding_allows(const struct binding *bd, const char *domain);

/* binding_ident: "auth:alma-ufl", "net:192.0.2.0/24", "spf:NAME", as written. */
const char *binding_ident(const struct binding *bd);

/* bindings_count, bindings_at: the lines, in file order. */
size_t bindings_count(const struct bindings *b);
const struct binding *bindings_at(const struct bindings *b, size_t i);
/* binding_domains: the bound domains and patterns, NULL-terminated. */
char *const *binding_domains(const struct binding *bd);

/*
 * bindings_unbound: for each RelayAuthUsers login and RelaySPFNames name
 * of ctx without a line in b, calls warn(arg, identity).  Returns how
 * many.
 */
size_t bindings_unbound(const struct bindings *b, const struct bindings_context *ctx,
    void (*warn)(void *arg, const char *identity), void *arg);

#endif
