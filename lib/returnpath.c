/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * returnpath.c -- the ReturnPath addresses, checked once, and the choice
 * of one for each signed message.
 */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "dnsname.h"
#include "returnpath.h"
#include "util.h"

struct rp_entry {
	char *addr;		/* local@domain, the domain lowercase */
	const char *domain;	/* into addr */
};

struct returnpath {
	struct rp_entry *v;
	size_t n;
};

/* returnpath_free: every address. */
void
returnpath_free(struct returnpath *rp)
{
	size_t i;

	if (rp == NULL)
		return;
	for (i = 0; i < rp->n; i++)
		free(rp->v[i].addr);
	free(rp->v);
	free(rp);
}

/* atext: RFC 5322 3.2.3. */
static bool
atext(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       (c != '\0' && strchr("!#$%&'*+/=?^_`{|}~-", c) != NULL);
}

/* local_ok: a dot-atom of at most 64 octets (RFC 5321 4.5.3.1.1). */
static bool
local_ok(const char *s, size_t len)
{
	size_t i;

	if (len == 0 || len > 64 || s[0] == '.' || s[len - 1] == '.')
		return false;
	for (i = 0; i < len; i++)
		if (!(atext(s[i]) || (s[i] == '.' && s[i + 1] != '.')))
			return false;
	return true;
}

/* aligned_with_keys: domain's organizational domain is that of some key's d=. */
static bool
aligned_with_keys(const struct keytable *keys, const struct align *al, const char *domain)
{
	char org[ALIGN_DOMAIN_MAX], korg[ALIGN_DOMAIN_MAX];
	size_t i, n = keytable_nkeys(keys);

	if (align_org_domain(al, domain, org, sizeof(org)) == NULL)
		return false;
	for (i = 0; i < n; i++)
		if (align_org_domain(al, keytable_key(keys, i)->domain, korg, sizeof(korg)) != NULL &&
		    strcmp(org, korg) == 0)
			return true;
	return false;
}

/* add_one: one address, checked, appended. */
static int
add_one(struct returnpath *rp, const char *a, const struct keytable *keys,
        const struct align *al, char *err, size_t errlen)
{
	const char *at = strrchr(a, '@'), *why;
	struct rp_entry *v;
	char *copy;
	size_t i;

	if (strlen(a) > RETURNPATH_MAX)
		return util_seterr(err, errlen, "ReturnPath %.40s...: longer than %d octets", a,
		                   RETURNPATH_MAX);
	if (at == NULL || !local_ok(a, (size_t)(at - a)))
		return util_seterr(err, errlen, "ReturnPath \"%s\": expected local@domain, the "
		                   "local part letters, digits, dots and !#$%%&'*+/=?^_`{|}~-", a);
	if (!dnsname_ok(at + 1, 2, &why))
		return util_seterr(err, errlen, "ReturnPath \"%s\": domain %s", a, why);
	if ((copy = strdup(a)) == NULL)
		return util_seterr(err, errlen, "out of memory");
	for (char *c = copy + (at - a) + 1; *c != '\0'; c++)
		if (*c >= 'A' && *c <= 'Z')
			*c = (char)(*c - 'A' + 'a');
	if (!aligned_with_keys(keys, al, copy + (at - a) + 1)) {
		util_seterr(err, errlen, "ReturnPath %s: %s is not in the organizational domain "
		            "of any signing domain: SPF would not align with From (RFC 7489 "
		            "3.1.2)", a, at + 1);
		free(copy);
		return -1;
	}
	for (i = 0; i < rp->n; i++)
		if (strcmp(rp->v[i].domain, copy + (at - a) + 1) == 0) {
			util_seterr(err, errlen, "ReturnPath %s and %s: one address a domain", rp->v[i].addr,
			            a);
			free(copy);
			return -1;
		}
	if ((v = realloc(rp->v, (rp->n + 1) * sizeof(*v))) == NULL) {
		free(copy);
		return util_seterr(err, errlen, "out of memory");
	}
	rp->v = v;
	rp->v[rp->n].addr = copy;
	rp->v[rp->n].domain = copy + (at - a) + 1;
	rp->n++;
	return 0;
}

/* returnpath_new: each address checked; all or nothing. */
int
returnpath_new(char *const *addrs, const struct keytable *keys, const struct align *al,
               struct returnpath **rp_r, char *err, size_t errlen)
{
	struct returnpath *rp;
	size_t i;

	*rp_r = NULL;
	if ((rp = calloc(1, sizeof(*rp))) == NULL)
		return util_seterr(err, errlen, "out of memory");
	for (i = 0; addrs != NULL && addrs[i] != NULL; i++)
		if (add_one(rp, addrs[i], keys, al, err, errlen) != 0) {
			returnpath_free(rp);
			return -1;
		}
	*rp_r = rp;
	return 0;
}

/* returnpath_for: the same domain, else the nearest parent. */
const char *
returnpath_for(const struct returnpath *rp, const char *from_domain)
{
	const struct rp_entry *best = NULL;
	size_t i, fl, dl, bl = 0;

	if (rp == NULL || from_domain == NULL)
		return NULL;
	fl = strlen(from_domain);
	for (i = 0; i < rp->n; i++) {
		dl = strlen(rp->v[i].domain);
		if (dl > fl || strcasecmp(from_domain + fl - dl, rp->v[i].domain) != 0)
			continue;
		if (dl < fl && from_domain[fl - dl - 1] != '.')
			continue;	/* "xample.edu" is no parent of "example.edu" */
		if (best == NULL || dl > bl) {
			best = &rp->v[i];
			bl = dl;
		}
	}
	return best != NULL ? best->addr : NULL;
}

/* returnpath_count: how many addresses. */
size_t
returnpath_count(const struct returnpath *rp)
{
	return rp != NULL ? rp->n : 0;
}

/* returnpath_at: the i-th address. */
const char *
returnpath_at(const struct returnpath *rp, size_t i)
{
	return rp->v[i].addr;
}

/* returnpath_domain: the i-th address's domain. */
const char *
returnpath_domain(const struct returnpath *rp, size_t i)
{
	return rp->v[i].domain;
}
