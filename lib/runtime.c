/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * runtime.c -- what the daemon runs with, built from a parsed
 * configuration: the checks that need more than one option, then the
 * keys, the libopendkim library handle, the bindings, the SPF checker and
 * its DNS cache, the alignment tables (PSL) and ReturnPath.  conf.c parses
 * and knows nothing of these; milter/confswap.c swaps whole configurations,
 * runtime and all, on SIGHUP.  Nothing here logs: an error is "file:line:
 * reason" naming the option to blame, in the caller's buffer.
 */
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "conf.h"
#include "file.h"
#include "runtime.h"
#include "util.h"

/* finish_err: "path:line: reason" for the line that set opt, or "path: reason". */
static int UTIL_PRINTF(5, 6)
finish_err(const struct conf *c, enum conf_opt opt, char *err, size_t errlen,
    const char *fmt, ...)
{
	char msg[CONF_MSG_MAX];
	va_list ap;

	va_start(ap, fmt);
	(void)vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (opt != OPT_COUNT && c->lines[opt] != 0)
		return util_seterr(err, errlen, "%s:%u: %s", c->path, c->lines[opt], msg);
	return util_seterr(err, errlen, "%s: %s", c->path, msg);
}

/* alg_short: "rsa" or "ed25519", for messages. */
static const char *
alg_short(enum key_alg alg)
{
	return alg == KEY_ALG_ED25519_SHA256 ? "ed25519" : "rsa";
}

/* set_line: of two options (OPT_COUNT for none), the first the file sets. */
static enum conf_opt
set_line(const struct conf *c, enum conf_opt a, enum conf_opt b)
{
	unsigned la = a != OPT_COUNT ? c->lines[a] : 0;
	unsigned lb = b != OPT_COUNT ? c->lines[b] : 0;

	if (la != 0 && (lb == 0 || la < lb))
		return a;
	return lb != 0 ? b : OPT_COUNT;
}

/* load_simple: every Domain with every (Selector, KeyFile) pair. */
static int
load_simple(struct conf *c, struct keytable *kt, char *err, size_t errlen)
{
	char why[CONF_MSG_MAX / 2];
	size_t nsel = strv_len(c->selectors), nkey = strv_len(c->key_files);
	size_t d, i;
	struct key_decoder *dec;

	if (c->domains == NULL || c->selectors == NULL || c->key_files == NULL) {
		enum conf_opt at = set_line(c, set_line(c, OPT_DOMAIN, OPT_SELECTOR), OPT_KEY_FILE);

		return finish_err(c, at, err, errlen, "Domain, Selector and KeyFile go together: "
		    "%s is not set", c->domains == NULL ? "Domain" :
		    c->selectors == NULL ? "Selector" : "KeyFile");
	}
	if (nsel != nkey)
		return finish_err(c, OPT_KEY_FILE, err, errlen, "KeyFile names %zu file%s but "
		    "Selector names %zu: each KeyFile pairs with the Selector in the same place",
		    nkey, nkey == 1 ? "" : "s", nsel);
	if (nkey > KEYTABLE_MAX_PER_DOMAIN)
		return finish_err(c, OPT_KEY_FILE, err, errlen, "%zu keys, but a domain is signed "
		    "with at most %d", nkey, KEYTABLE_MAX_PER_DOMAIN);
	/* One decoder for every key (NULL: each key builds its own). */
	dec = key_decoder_new();
	for (d = 0; c->domains[d] != NULL; d++)
		for (i = 0; i < nkey; i++) {
			struct key *key;

			if (key_load_with(dec, c->key_files[i], c->domains[d], c->selectors[i],
			    &key, why, sizeof(why)) == -1 ||
			    keytable_add(kt, c->domains[d], key, why, sizeof(why)) == -1) {
				key_decoder_free(dec);
				return finish_err(c, OPT_KEY_FILE, err, errlen, "%s", why);
			}
		}
	key_decoder_free(dec);
	return 0;
}

/*
 * check_algs: every key is of an algorithm SignatureAlgorithm lists, and
 * every domain has a key for each algorithm listed, so that what the
 * postmaster asked for is what the mail gets.
 */
static int
check_algs(const struct conf *c, const struct keytable *kt, char *err, size_t errlen)
{
	enum conf_opt keys_at = c->keytable_path != NULL ? OPT_KEY_TABLE : OPT_KEY_FILE;
	enum conf_opt algs_at = c->lines[OPT_SIGNATURE_ALGORITHM] != 0 ?
	    OPT_SIGNATURE_ALGORITHM : keys_at;
	static const enum key_alg algs[] = { KEY_ALG_RSA_SHA256, KEY_ALG_ED25519_SHA256 };
	const struct key *found[KEYTABLE_MAX_PER_DOMAIN];
	size_t i, j, a, n;

	for (i = 0; i < keytable_nkeys(kt); i++) {
		const struct key *k = keytable_key(kt, i);

		if ((c->sign_algs & k->alg) == 0)
			return finish_err(c, keys_at, err, errlen, "%s is an %s key but "
			    "SignatureAlgorithm does not list %s", k->file, alg_short(k->alg),
			    key_alg_name(k->alg));
	}
	/*
	 * Each key's d= domain stands for the patterns that use it: look the
	 * domain up and check the winner has every algorithm.  A wildcard
	 * whose d= it does not match itself is not checked here.
	 */
	for (i = 0; i < keytable_nkeys(kt); i++) {
		const struct key *k = keytable_key(kt, i);
		char *dom = util_strndup_lower(k->domain, strlen(k->domain));

		if (dom == NULL)
			return finish_err(c, OPT_COUNT, err, errlen, "out of memory");
		n = keytable_lookup(kt, dom, found, KEYTABLE_MAX_PER_DOMAIN);
		free(dom);
		for (a = 0; n > 0 && a < sizeof(algs) / sizeof(algs[0]); a++) {
			if ((c->sign_algs & algs[a]) == 0)
				continue;
			for (j = 0; j < n && found[j]->alg != algs[a]; j++)
				continue;
			if (j < n)
				continue;
			if (c->keytable_path == NULL)
				return finish_err(c, algs_at, err, errlen,
				    "SignatureAlgorithm lists %s but no KeyFile is an %s key",
				    key_alg_name(algs[a]), alg_short(algs[a]));
			return finish_err(c, algs_at, err, errlen, "SignatureAlgorithm lists %s "
			    "but %s has no %s key", key_alg_name(algs[a]), k->domain,
			    alg_short(algs[a]));
		}
	}
	return 0;
}

/*
 * runtime_dns: (re)builds conf's DNS layer, with its timeout and cache, and
 * the SPF checker on it; test_dns, when not NULL, answers in place of the
 * resolver (relaysign -x -z: a zone file's records).
 */
int
runtime_dns(struct conf *conf, struct SPF_dns_server_struct *test_dns, char *err, size_t errlen)
{
	struct dns_options dopt;
	struct spf_options so;
	char why[CONF_MSG_MAX / 2];

	spf_free(conf->rt.spf);
	conf->rt.spf = NULL;
	dns_free(conf->rt.dns);
	memset(&dopt, 0, sizeof(dopt));
	dopt.timeout = conf->dns_timeout;
	dopt.cache_size = conf->dns_cache_size;
	dopt.cache_max_ttl = conf->dns_cache_max_ttl;
	dopt.test_dns = test_dns;
	if ((conf->rt.dns = dns_new(&dopt, why, sizeof(why))) == NULL) {
		snprintf(err, errlen, "DNS: %s", why);
		return -1;
	}
	memset(&so, 0, sizeof(so));
	so.dns = conf->rt.dns;
	so.cache_ttl = conf->spf_cache_ttl;
	if ((conf->rt.spf = spf_new(&so, why, sizeof(why))) == NULL) {
		snprintf(err, errlen, "SPF: %s", why);
		return -1;
	}
	return 0;
}

/*
 * finish_dns: the DNS layer, the SPF checker on it and the alignment
 * tables (PSL) of this configuration.
 */
static int
finish_dns(struct conf *conf, char *err, size_t errlen)
{
	char why[CONF_MSG_MAX / 2];

	if (runtime_dns(conf, NULL, why, sizeof(why)) != 0)
		return finish_err(conf, OPT_DNS_TIMEOUT, err, errlen, "%s", why);
	conf->rt.align = align_new(conf->psl_file, conf->org_domains, why, sizeof(why));
	if (conf->rt.align == NULL)
		return finish_err(conf, set_line(conf, OPT_PUBLIC_SUFFIX_LIST,
		    OPT_ORGANIZATIONAL_DOMAINS), err, errlen, "%s", why);
	/* ReturnPath needs the organizational domains of the keys. */
	if (conf->return_path_list != NULL && returnpath_new(conf->return_path_list, conf->rt.keys,
	    conf->rt.align, &conf->rt.return_paths, why, sizeof(why)) == -1)
		return finish_err(conf, OPT_RETURN_PATH, err, errlen, "%s", why);
	return 0;
}

/*
 * Narrowest prefixes RelayNetworks takes without RelayNetworksWide: a
 * wider one trusts a good part of the Internet to have mail signed.
 */
#define RELAY_V4_MIN 8
#define RELAY_V6_MIN 32

/*
 * check_relays: refuses relay prefixes wider than /8 or /32 unless the
 * postmaster says so, and warns when loopback is trusted.
 */
static int
check_relays(struct conf *conf, char *err, size_t errlen)
{
	char wide[64], msg[CONF_MSG_MAX];

	if (!conf->relay_networks_wide &&
	    cidr_set_wider(conf->relay_networks, RELAY_V4_MIN, RELAY_V6_MIN, wide, sizeof(wide)))
		return finish_err(conf, OPT_RELAY_NETWORKS, err, errlen, "RelayNetworks %s is "
		    "wider than /%d (IPv4) or /%d (IPv6): every client in it could have mail "
		    "signed; set RelayNetworksWide yes if that is meant", wide, RELAY_V4_MIN,
		    RELAY_V6_MIN);
	if (cidr_set_match_text(conf->relay_networks, "127.0.0.1") ||
	    cidr_set_match_text(conf->relay_networks, "::1")) {
		(void)finish_err(conf, OPT_RELAY_NETWORKS, msg, sizeof(msg), "RelayNetworks "
		    "trusts loopback: Postfix presents local sendmail(1) mail (with "
		    "non_smtpd_milters) and mail reinjected by a content filter as from "
		    "127.0.0.1, so every local user could have mail signed "
		    "(relaysign.conf(5), RelayNetworks)");
		if (strv_push(&conf->warnings, msg) == -1)
			return finish_err(conf, OPT_COUNT, err, errlen, "out of memory");
	}
	return 0;
}

/* warn_unbound: a RelayAuthUsers or RelaySPFNames entry RelayBindings leaves out. */
static void
warn_unbound(void *arg, const char *ident)
{
	struct conf *conf = arg;
	char msg[CONF_MSG_MAX];

	(void)finish_err(conf, OPT_RELAY_BINDINGS, msg, sizeof(msg), "%s has no line in %s: "
	    "its mail is never signed (reason=not-bound)", ident, conf->bindings_path);
	if (strv_push(&conf->warnings, msg) == -1)
		conf->warn_oom = true;
}

/* several_domains: the signing table holds keys of more than one d= domain. */
static bool
several_domains(const struct keytable *kt)
{
	size_t i, n = keytable_nkeys(kt);

	for (i = 1; i < n; i++)
		if (strcasecmp(keytable_key(kt, i)->domain, keytable_key(kt, 0)->domain) != 0)
			return true;
	return false;
}

/*
 * finish_bindings: RelayBindings, checked against the relays and keys; or,
 * without it, a warning when any relay may have any of several domains
 * signed (a consortium's exposure).
 */
static int
finish_bindings(struct conf *conf, char *err, size_t errlen)
{
	struct bindings_context ctx;
	char why[CONF_MSG_MAX / 2], msg[CONF_MSG_MAX];

	ctx.auth_users = conf->relay_auth_users;
	ctx.networks = conf->relay_networks;
	ctx.spf_names = conf->relay_spf_names;
	ctx.keys = conf->rt.keys;
	if (conf->bindings_path == NULL) {
		if (!several_domains(conf->rt.keys) || (cidr_set_count(conf->relay_networks) == 0 &&
		    conf->relay_auth_users == NULL && conf->relay_spf_names == NULL))
			return 0;
		(void)finish_err(conf, set_line(conf, OPT_DOMAIN, OPT_SIGNING_TABLE), msg,
		    sizeof(msg), "keys for several domains and no RelayBindings: every trusted "
		    "relay (RelayNetworks, RelayAuthUsers, RelaySPFNames) may have mail signed "
		    "for any of them (relaysign.conf(5), RelayBindings)");
		return strv_push(&conf->warnings, msg) == 0 ? 0 :
		    finish_err(conf, OPT_COUNT, err, errlen, "out of memory");
	}
	if (bindings_load(conf->bindings_path, &ctx, &conf->rt.bindings, why, sizeof(why)) == -1)
		return finish_err(conf, OPT_RELAY_BINDINGS, err, errlen, "RelayBindings: %s", why);
	(void)bindings_unbound(conf->rt.bindings, &ctx, warn_unbound, conf);
	if (conf->warn_oom)
		return finish_err(conf, OPT_COUNT, err, errlen, "out of memory");
	return 0;
}

/*
 * runtime_build: cross-option checks, then the keys, the sign_lib, the
 * bindings, DNS, SPF and the PSL.
 */
int
runtime_build(struct conf *conf, char *err, size_t errlen)
{
	bool simple = conf->domains != NULL || conf->selectors != NULL ||
	    conf->key_files != NULL;
	bool table = conf->keytable_path != NULL || conf->signingtable_path != NULL;
	char why[CONF_MSG_MAX / 2];
	struct keytable *kt;
	struct sign_lib *sl;

	if (conf->rt.keys != NULL || conf->rt.sign_lib != NULL)
		return finish_err(conf, OPT_COUNT, err, errlen, "configuration already finished");
	if (check_relays(conf, err, errlen) == -1)
		return -1;
	if (conf->metrics_socket != NULL && conf->socket != NULL &&
	    strcmp(conf->metrics_socket, conf->socket) == 0)
		return finish_err(conf, OPT_METRICS_SOCKET, err, errlen, "MetricsSocket %s is "
		    "the milter's Socket: give the metrics a socket of their own",
		    conf->metrics_socket);
	if (simple && table)
		return finish_err(conf, set_line(conf, OPT_KEY_TABLE, OPT_SIGNING_TABLE), err,
		    errlen, "Domain, Selector and KeyFile or KeyTable and SigningTable: "
		    "set one, not both");
	if (!simple && !table)
		return finish_err(conf, OPT_COUNT, err, errlen, "no signing keys: set Domain, "
		    "Selector and KeyFile, or KeyTable and SigningTable");
	if (table && (conf->keytable_path == NULL || conf->signingtable_path == NULL))
		return finish_err(conf, set_line(conf, OPT_KEY_TABLE, OPT_SIGNING_TABLE), err,
		    errlen, "KeyTable and SigningTable go together: %s is not set",
		    conf->keytable_path == NULL ? "KeyTable" : "SigningTable");
	if ((kt = keytable_new()) == NULL)
		return finish_err(conf, OPT_COUNT, err, errlen, "out of memory");
	if (simple) {
		if (load_simple(conf, kt, err, errlen) == -1) {
			conf->keys_failed = true;
			goto fail;
		}
	} else if (keytable_load_files(kt, conf->keytable_path, conf->signingtable_path, why,
	    sizeof(why)) == -1) {
		finish_err(conf, set_line(conf, OPT_KEY_TABLE, OPT_SIGNING_TABLE), err, errlen,
		    "%s", why);
		conf->keys_failed = true;
		goto fail;
	}
	if (check_algs(conf, kt, err, errlen) == -1)
		goto fail;
	if ((sl = sign_lib_new(&conf->sign, why, sizeof(why))) == NULL) {
		finish_err(conf, OPT_COUNT, err, errlen, "%s", why);
		goto fail;
	}
	conf->rt.keys = kt;
	conf->rt.sign_lib = sl;
	if (finish_bindings(conf, err, errlen) == -1)
		return -1;
	return finish_dns(conf, err, errlen);
fail:
	keytable_free(kt);
	return -1;
}

/* read_file: the whole of path, at most CONF_FILE_MAX bytes, into *buf_r. */
static int
read_file(const char *path, char **buf_r, size_t *len_r, char *err, size_t errlen)
{
	return file_read(path, CONF_FILE_MAX, buf_r, len_r, NULL, err, errlen);
}

/* conf_load: path read, parsed, and its runtime built. */
int
conf_load(const char *path, struct conf **conf_r, char *err, size_t errlen)
{
	return conf_load_ex(path, conf_r, NULL, err, errlen);
}

/* conf_load_ex: conf_load, saying whether it was the keys that failed. */
int
conf_load_ex(const char *path, struct conf **conf_r, bool *keys_failed_r, char *err,
    size_t errlen)
{
	struct conf *conf;
	char *text = NULL;
	size_t len = 0;
	int rc;

	*conf_r = NULL;
	if (keys_failed_r != NULL)
		*keys_failed_r = false;
	if (read_file(path, &text, &len, err, errlen) == -1)
		return -1;
	rc = conf_parse(path, text, len, &conf, err, errlen);
	free(text);
	if (rc == -1)
		return -1;
	if (runtime_build(conf, err, errlen) == -1) {
		if (keys_failed_r != NULL)
			*keys_failed_r = conf->keys_failed;
		conf_free(conf);
		return -1;
	}
	*conf_r = conf;
	return 0;
}

/* conf_load_builtin: the built-in text parsed, and its runtime built. */
int
conf_load_builtin(struct conf **conf_r, char *err, size_t errlen)
{
	struct conf *conf;

	*conf_r = NULL;
	if (conf_parse("(built-in)", conf_builtin_text(), strlen(conf_builtin_text()), &conf, err,
	    errlen) == -1)
		return -1;
	if (runtime_build(conf, err, errlen) == -1) {
		conf_free(conf);
		return -1;
	}
	*conf_r = conf;
	return 0;
}

/* runtime_free: everything runtime_build made; the struct itself is not freed. */
void
runtime_free(struct runtime *rt)
{
	spf_free(rt->spf);		/* before the DNS layer it uses */
	dns_free(rt->dns);
	align_free(rt->align);
	bindings_free(rt->bindings);
	returnpath_free(rt->return_paths);
	sign_lib_free(rt->sign_lib);
	keytable_free(rt->keys);
	memset(rt, 0, sizeof(*rt));
}
