/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * t_reload.c -- a reload (SIGHUP) that runs out of memory keeps the
 * configuration in force, and leaks nothing.
 *
 * The daemon's reload is conf_load() of the file, then confswap_replace()
 * (milter/relaysign.c, reload()); on failure it logs, frees the new
 * configuration if there is one, and the old one stays.  This test does
 * the same, with the Nth allocation failing, for N = 1, 2, ... until a
 * reload gets through: every allocation of the reload path is made to
 * fail once.  After each failed reload the configuration in force must be
 * the old one (the same pointer), still able to look up its key; after the
 * last, the new one.  A failure the code absorbs (an allocation that
 * only speeds things up) may still let the reload through: then the new
 * configuration must be whole, and the old one is put back for the next
 * round.  AddressSanitizer and LeakSanitizer (the suite runs
 * under both) catch a crash, a double free or a leak on any error path.
 *
 * How the allocations fail: this binary is linked with -Wl,--wrap for
 * malloc, calloc, realloc, strdup and strndup, so every call to them from
 * relaysign's own objects (lib/, milter/confswap.c, linked statically) goes
 * to the __wrap_ functions below.  Allocations inside OpenSSL,
 * libopendkim, libspf2 and libpsl are not counted: they are shared
 * objects whose calls the linker does not redirect, and how they survive
 * their own out-of-memory is theirs (OpenSSL's, routed through a counter
 * with CRYPTO_set_mem_functions, took 5 minutes here and leaked inside
 * OpenSSL on its own error paths); what is relaysign's is that every
 * error they return is handled, which the other tests show for each.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/pem.h>

#include "conf.h"
#include "keytable.h"
#include "../../milter/confswap.h"
#include "../tap.h"
#include "../keyfile.h"

void *__real_malloc(size_t n);
void *__real_calloc(size_t n, size_t m);
void *__real_realloc(void *p, size_t n);
char *__real_strdup(const char *s);
char *__real_strndup(const char *s, size_t n);
void *__wrap_malloc(size_t n);
void *__wrap_calloc(size_t n, size_t m);
void *__wrap_realloc(void *p, size_t n);
char *__wrap_strdup(const char *s);
char *__wrap_strndup(const char *s, size_t n);

/*
 * One leak is not relaysign's: when an allocation libopendkim makes
 * through relaysign's allocator (lib/dkimfix.c, dkimfix_malloc) fails inside
 * dkim_eom() during the start-up probe, libopendkim 2.11.0~beta2's
 * dkim_privkey_load() returns without freeing its memory BIO and key
 * (about 270 bytes, once per such failure; the probe runs at load, never
 * per message).  Run alone, those leaks show dkim_privkey_load on their
 * stacks; in the long run of this test, some stacks stop inside libcrypto.
 * Suppressed for this binary only (the daemon's tests keep none, and they
 * cover relaysign's own use of libcrypto under LeakSanitizer).
 */
const char *__lsan_default_suppressions(void);
const char *
__lsan_default_suppressions(void)
{
	return "leak:dkim_privkey_load\nleak:libcrypto.so\n";
}

static long fail_at;	/* the allocation to fail (1-based); 0: none */
static long count;	/* allocations counted since armed */
static bool failed;	/* the armed allocation was reached and failed */

/* fail_now: counts one allocation; true for the one to fail. */
static bool
fail_now(void)
{
	if (fail_at == 0)
		return false;
	if (++count == fail_at) {
		failed = true;
		return true;
	}
	return false;
}

void *
__wrap_malloc(size_t n)
{
	return fail_now() ? NULL : __real_malloc(n);
}

void *
__wrap_calloc(size_t n, size_t m)
{
	return fail_now() ? NULL : __real_calloc(n, m);
}

void *
__wrap_realloc(void *p, size_t n)
{
	return fail_now() ? NULL : __real_realloc(p, n);
}

char *
__wrap_strdup(const char *s)
{
	return fail_now() ? NULL : __real_strdup(s);
}

char *
__wrap_strndup(const char *s, size_t n)
{
	return fail_now() ? NULL : __real_strndup(s, n);
}

/* write_conf: a configuration naming key, with selector sel and extra lines. */
static int
write_conf(const char *path, const char *key, const char *sel, const char *extra)
{
	FILE *f = fopen(path, "w");

	if (f == NULL)
		return -1;
	fprintf(f, "AuthservID mail.example.edu\nRelayNetworks 192.0.2.0/24\n"
	           "RelayAuthUsers alma alma-b\nDomain library.example.edu b.example.edu\n"
	           "Selector %s\nKeyFile %s\nSignatureAlgorithm ed25519-sha256\n%s",
	        sel, key, extra);
	return fclose(f);
}

/* selector_in_force: the selector of the configuration in force, or "". */
static const char *
selector_in_force(const struct conf **conf_r)
{
	const struct key *keys[KEYTABLE_MAX_PER_DOMAIN];
	const struct conf *c = confswap_acquire();
	size_t n;

	*conf_r = c;
	if (c == NULL)
		return "";
	n = keytable_lookup(c->rt.keys, "library.example.edu", keys, KEYTABLE_MAX_PER_DOMAIN);
	confswap_release(c);
	return n > 0 ? keys[0]->selector : "";
}

int
main(void)
{
	char dir[] = "/tmp/relaysign-reload.XXXXXX", key[300], conf_a[300], conf_b[300],
	     bind[300], extra[700], err[1024];
	struct conf *a = NULL, *b;
	const struct conf *in_force;
	long n, failures = 0, wrong = 0, absorbed = 0;

	if (mkdtemp(dir) == NULL) {
		printf("Bail out! mkdtemp\n");
		return 1;
	}
	snprintf(key, sizeof(key), "%s/ed.key", dir);
	snprintf(conf_a, sizeof(conf_a), "%s/a.conf", dir);
	snprintf(conf_b, sizeof(conf_b), "%s/b.conf", dir);
	snprintf(bind, sizeof(bind), "%s/bindings", dir);
	/* The new configuration uses every part a reload builds. */
	snprintf(extra, sizeof(extra),
	         "RelayBindings %s\nReturnPath bounces@library.example.edu\n"
	         "RelaySPFNames spf-na.vendor.test\nDMARCLookup yes\n"
	         "OrganizationalDomains library.example.edu\n",
	         bind);
	{
		FILE *f = fopen(bind, "w");

		if (f == NULL || fputs("auth:alma library.example.edu\n"
		                       "auth:alma-b b.example.edu, *.b.example.edu\n"
		                       "net:192.0.2.0/25 library.example.edu\n", f) < 0 ||
		    fclose(f) != 0) {
			printf("Bail out! cannot write %s\n", bind);
			return 1;
		}
	}
	if (keyfile_write(key, "ED25519", 0600) != 0 || write_conf(conf_a, key, "old2026", "") != 0 ||
	    write_conf(conf_b, key, "new2026", extra) != 0) {
		printf("Bail out! cannot write the files in %s\n", dir);
		return 1;
	}
	if (conf_load(conf_a, &a, err, sizeof(err)) != 0 || confswap_init(a) != 0) {
		printf("Bail out! the first configuration: %s\n", err);
		return 1;
	}
	ok(strcmp(selector_in_force(&in_force), "old2026") == 0, "the first configuration is in force");

	for (n = 1;; n++) {
		int rc;

		count = 0;
		failed = false;
		fail_at = n;
		b = NULL;
		rc = conf_load(conf_b, &b, err, sizeof(err));
		if (rc == 0 && confswap_replace(b) != 0) {
			conf_free(b);	/* as reload() does */
			rc = -1;
		}
		fail_at = 0;
		if (!failed) {
			/* Every allocation of the path has failed once: this one got through. */
			ok(rc == 0, "a reload with no allocation failing succeeds (after %ld)", n - 1);
			break;
		}
		failures++;
		if (rc == 0) {
			/*
			 * The failure was absorbed: then the new configuration must
			 * be whole.  Put a fresh old one back for the next round.
			 */
			if (strcmp(selector_in_force(&in_force), "new2026") != 0 ||
			    in_force->rt.bindings == NULL || in_force->rt.return_paths == NULL ||
			    in_force->rt.spf == NULL || in_force->rt.align == NULL) {
				ok(0, "allocation %ld failed and was absorbed, but the new "
				   "configuration is not whole", n);
				wrong++;
			}
			absorbed++;
			if (conf_load(conf_a, &a, err, sizeof(err)) != 0 || confswap_replace(a) != 0) {
				printf("Bail out! cannot put the first configuration back: %s\n", err);
				return 1;
			}
			continue;
		}
		if (strcmp(selector_in_force(&in_force), "old2026") != 0 || in_force != a)
			wrong++;
		if (n > 200000) {
			ok(0, "the reload path makes fewer than 200,000 allocations");
			break;
		}
	}
	ok(failures > 50, "%ld allocations of the reload path each failed once (%ld absorbed, "
	   "the result whole)", failures, absorbed);
	ok(wrong == 0, "after every failed reload, the old configuration stays in force (%ld not)",
	   wrong);
	ok(strcmp(selector_in_force(&in_force), "new2026") == 0 && in_force != a,
	   "the reload that got through put the new configuration in force");
	ok(in_force != NULL && in_force->rt.bindings != NULL && in_force->rt.return_paths != NULL,
	   "... with its RelayBindings and ReturnPath");
	confswap_shutdown();
	unlink(key);
	unlink(conf_a);
	unlink(conf_b);
	unlink(bind);
	rmdir(dir);
	return tap_done();
}
