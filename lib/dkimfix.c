/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * dkimfix.c -- the libopendkim workarounds (why and how: dkimfix.h).
 *
 * 1. A key decoded once: the interposed PEM_read_bio_PrivateKey, armed
 *    around one dkim_eom() (dkimfix_arm, dkimfix_disarm).
 * 2. The memory of a handle: dkim_init()'s allocator records every block
 *    of a handle (struct dkimfix_arena); what dkim_free() left behind is
 *    freed (dkimfix_reclaim).
 * 3. The start-up probe that finds out, by behaviour, whether 1 works and
 *    whether dkim_free() releases an Ed25519 key (dkimfix_probe).
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif
/* ./configure --disable-key-interposer sets 0; builds without config.h interpose. */
#ifndef RELAYSIGN_KEY_INTERPOSER
#define RELAYSIGN_KEY_INTERPOSER 1
#endif

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <opendkim/dkim.h>

#include "dkimfix.h"
#include "util.h"

/* ---- 1. A key decoded once ------------------------------------------------ */

/*
 * Why the cached answer is the same as a decode: key.c makes key->pem by
 * encoding key->pkey (PKCS#8, unencrypted), so decoding those bytes gives
 * the same key; the bytes are compared in full, not by pointer, because
 * libopendkim reads its own copy of the text.  Why the extra reference is
 * balanced: the caller of PEM_read_bio_PrivateKey owns the key it gets
 * and frees it once; for RSA libopendkim also takes and frees the RSA
 * (EVP_PKEY_get1_RSA, RSA_free in dkim_free).  An Ed25519 key is the one
 * libopendkim 2.11.0~beta2 never frees; dkimfix_probe finds that out and
 * sign.c frees what it was handed.
 */
/*
 * The one piece of mutable state, thread-local by necessity (dkimfix.h):
 * the key this thread is signing with, between dkimfix_arm and
 * dkimfix_disarm, and what the interposed function did meanwhile.
 */
static _Thread_local struct {
	const struct key *key;	/* NULL: not armed, or already used */
	bool use_cache;
	struct dkimfix_result res;
} slot;

/* dkimfix_arm: records the next decode on this thread; maybe answers it. */
void
dkimfix_arm(const struct key *key, bool use_cache)
{
	slot.key = key;
	slot.use_cache = use_cache;
	memset(&slot.res, 0, sizeof(slot.res));
}

/* dkimfix_disarm: stops recording; hands back the record. */
void
dkimfix_disarm(struct dkimfix_result *res_r)
{
	*res_r = slot.res;
	slot.key = NULL;
	memset(&slot.res, 0, sizeof(slot.res));
}

/*
 * Left out by ./configure --disable-key-interposer: libopendkim's calls
 * then reach libcrypto, dkimfix_probe finds the cache unused, and every
 * message decodes its key.
 */
#if RELAYSIGN_KEY_INTERPOSER
/* holds_pem: true if bp is a memory BIO whose unread bytes are key->pem. */
static bool
holds_pem(BIO *bp, const struct key *key)
{
	char *data = NULL;
	long len;

	if (bp == NULL || key->pem == NULL || BIO_method_type(bp) != BIO_TYPE_MEM)
		return false;
	len = BIO_get_mem_data(bp, &data);
	return len >= 0 && data != NULL && (size_t)len == key->pemlen &&
	    memcmp(data, key->pem, key->pemlen) == 0;
}

/*
 * PEM_read_bio_PrivateKey: OpenSSL's function, interposed (dkimfix.h).
 * Armed, the first call is recorded and, for exactly key->pem with no
 * password callback and no object to reuse, answered with key->pkey; the
 * BIO is left unread, which libopendkim never looks at again (it frees it
 * at the end of dkim_eom_sign).  Anything else decodes as OpenSSL would.
 */
__attribute__((visibility("default"))) EVP_PKEY *
PEM_read_bio_PrivateKey(BIO *bp, EVP_PKEY **x, pem_password_cb *cb, void *u)
{
	const struct key *key = slot.key;
	EVP_PKEY *pkey;

	if (key == NULL)
		return PEM_read_bio_PrivateKey_ex(bp, x, cb, u, NULL, NULL);
	slot.key = NULL;	/* one call per arming: dkim_privkey_load's */
	slot.res.called = true;
	if (slot.use_cache && x == NULL && cb == NULL && u == NULL && key->pkey != NULL &&
	    holds_pem(bp, key) && EVP_PKEY_up_ref(key->pkey) == 1) {
		slot.res.cached = true;
		pkey = key->pkey;
	} else
		pkey = PEM_read_bio_PrivateKey_ex(bp, x, cb, u, NULL, NULL);
	slot.res.pkey = pkey;
	return pkey;
}
#endif /* RELAYSIGN_KEY_INTERPOSER */

/* ---- 2. The memory of a handle -------------------------------------------- */

/* arena_home: the slot where p belongs (Fibonacci hashing, TAOCP 6.4). */
static size_t
arena_home(const struct dkimfix_arena *a, const void *p)
{
	uint64_t h = (uint64_t)(uintptr_t)p * UINT64_C(0x9e3779b97f4a7c15);

	return (size_t)(h ^ (h >> 32)) & (a->cap - 1);
}

/* arena_grow: doubles the table (64 slots at first); -1 when out of memory. */
static int
arena_grow(struct dkimfix_arena *a)
{
	struct dkimfix_arena b = { NULL, a->cap == 0 ? 64 : 2 * a->cap, a->n };
	size_t i, j;

	if (b.cap < a->cap || (b.slot = calloc(b.cap, sizeof(*b.slot))) == NULL)
		return -1;
	for (i = 0; i < a->cap; i++) {
		if (a->slot[i] == NULL)
			continue;
		for (j = arena_home(&b, a->slot[i]); b.slot[j] != NULL; j = (j + 1) & (b.cap - 1))
			;
		b.slot[j] = a->slot[i];
	}
	free(a->slot);
	*a = b;
	return 0;
}

/* arena_add: records p; -1 when out of memory. */
static int
arena_add(struct dkimfix_arena *a, void *p)
{
	size_t i;

	if (2 * (a->n + 1) > a->cap && arena_grow(a) == -1)
		return -1;
	for (i = arena_home(a, p); a->slot[i] != NULL; i = (i + 1) & (a->cap - 1))
		;
	a->slot[i] = p;
	a->n++;
	return 0;
}

/* arena_del: forgets p if recorded (TAOCP algorithm R: no tombstones). */
static void
arena_del(struct dkimfix_arena *a, const void *p)
{
	size_t i, j, k, mask = a->cap - 1;

	if (a->n == 0)
		return;
	for (i = arena_home(a, p); a->slot[i] != p; i = (i + 1) & mask)
		if (a->slot[i] == NULL)
			return;
	/* Move back every later entry of the run whose home is not in (i, j]. */
	for (j = i;;) {
		j = (j + 1) & mask;
		if (a->slot[j] == NULL)
			break;
		k = arena_home(a, a->slot[j]);
		if (i <= j ? (k <= i || k > j) : (k <= i && k > j)) {
			a->slot[i] = a->slot[j];
			i = j;
		}
	}
	a->slot[i] = NULL;
	a->n--;
}

/*
 * dkimfix_reclaim: frees every block still recorded (what dkim_free() left
 * behind) and the table; returns how many blocks there were.
 */
size_t
dkimfix_reclaim(struct dkimfix_arena *a)
{
	size_t i, n = a->n;

	for (i = 0; i < a->cap; i++)
		free(a->slot[i]);
	free(a->slot);
	memset(a, 0, sizeof(*a));
	return n;
}

/*
 * dkimfix_malloc: dkim_init()'s allocator.  closure is the handle's arena
 * (dkim_sign's memclosure), NULL for library-wide memory, which is not
 * recorded.  A block that cannot be recorded is not handed out, so
 * libopendkim reports "out of memory" rather than leaking it.
 */
void *
dkimfix_malloc(void *closure, size_t n)
{
	void *p = malloc(n);

	if (p != NULL && closure != NULL && arena_add(closure, p) == -1) {
		free(p);
		return NULL;
	}
	return p;
}

/* dkimfix_free: dkim_init()'s deallocator; memory never recorded is freed too. */
void
dkimfix_free(void *closure, void *p)
{
	if (closure != NULL && p != NULL)
		arena_del(closure, p);
	free(p);
}

/* ---- 3. The start-up probe ------------------------------------------------- */

/* probe_freed: EVP_PKEY ex_data free callback; notes the probe key's end. */
static void
probe_freed(void *parent, void *ptr, CRYPTO_EX_DATA *ad, int idx, long argl, void *argp)
{
	(void)parent;
	(void)ad;
	(void)idx;
	(void)argl;
	(void)argp;
	if (ptr != NULL)
		*(bool *)ptr = true;
}

/*
 * dkimfix_probe: signs one message with a throwaway Ed25519 key, through a
 * library handle of its own (the user's header lists cannot get in the
 * way), to learn by behaviour rather than by version number whether
 * libopendkim's PEM_read_bio_PrivateKey call reaches dkimfix.c and takes
 * the cached key, and whether its dkim_free() releases an Ed25519 key.
 * Fills sl (cache_keys, ed25519_kept, keyuse).  Anything that
 * fails leaves both false: the plain way, and nothing freed that
 * libopendkim might free itself.
 */
void
dkimfix_probe(struct dkimfix_probe *sl, bool use_cache)
{
	static const char from[] = "From: probe@probe.invalid";
	struct key k = { 0 };
	struct dkimfix_arena arena = { 0 };
	struct dkimfix_result res = { false, false, NULL };
	DKIM_LIB *lib = NULL;
	DKIM *dkim = NULL;
	EVP_PKEY *pkey = NULL;
	BIO *bio = NULL;
	DKIM_STAT st = DKIM_STAT_OK;
	char *pem = NULL;
	long len = 0;
	bool freed = false;
	int idx;

	util_strlcpy(sl->keyuse, "libopendkim decodes each key in every message: "
	    "the check of its key loading failed", sizeof(sl->keyuse));
	idx = EVP_PKEY_get_ex_new_index(0, NULL, NULL, NULL, probe_freed);
	/*
	 * First the instrument: if the callback did not report a key's end,
	 * a key libopendkim frees would look kept, and be freed twice.
	 */
	if (idx < 0 || (pkey = EVP_PKEY_new()) == NULL ||
	    EVP_PKEY_set_ex_data(pkey, idx, &freed) != 1)
		goto out;
	EVP_PKEY_free(pkey);
	pkey = NULL;
	if (!freed)
		goto out;
	freed = false;
	if ((lib = dkim_init(dkimfix_malloc, dkimfix_free)) == NULL ||
	    (pkey = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519")) == NULL ||
	    (bio = BIO_new(BIO_s_mem())) == NULL ||
	    PEM_write_bio_PrivateKey(bio, pkey, NULL, NULL, 0, NULL, NULL) != 1 ||
	    (len = BIO_get_mem_data(bio, &pem)) <= 0 ||
	    (k.pem = malloc((size_t)len + 1)) == NULL)
		goto out;
	memcpy(k.pem, pem, (size_t)len);
	k.pem[len] = '\0';
	k.pemlen = (size_t)len;
	k.pkey = pkey;
	k.alg = KEY_ALG_ED25519_SHA256;
	k.bits = 256;
	dkim = dkim_sign(lib, (const unsigned char *)"probe", &arena, (dkim_sigkey_t)k.pem,
	    (const unsigned char *)"probe", (const unsigned char *)"probe.invalid",
	    DKIM_CANON_RELAXED, DKIM_CANON_RELAXED, DKIM_SIGN_ED25519SHA256, (ssize_t)-1, &st);
	if (dkim == NULL ||
	    dkim_header(dkim, (unsigned char *)(uintptr_t)from, strlen(from)) != DKIM_STAT_OK ||
	    dkim_eoh(dkim) != DKIM_STAT_OK)
		goto out;
	dkimfix_arm(&k, use_cache);
	st = dkim_eom(dkim, NULL);
	dkimfix_disarm(&res);
	if (res.pkey == NULL) {
		/* XXX not called: a key dkim_free() keeps leaks here, and per message */
		if (!res.called)
			util_strlcpy(sl->keyuse, "libopendkim decodes each key in every message: "
			    "its PEM_read_bio_PrivateKey call does not reach relaysign (libcrypto's "
			    "binds first); an Ed25519 key dkim_free() keeps leaks",
			    sizeof(sl->keyuse));
		goto out;
	}
	/* From here libopendkim holds the only reference to res.pkey. */
	if (res.cached) {
		EVP_PKEY_free(pkey);
		pkey = NULL;
	}
	if (EVP_PKEY_set_ex_data(res.pkey, idx, &freed) != 1)
		goto out;	/* XXX res.pkey leaks once if dkim_free() keeps it */
	(void)dkim_free(dkim);
	dkim = NULL;
	if (!freed) {
		sl->ed25519_kept = true;
		EVP_PKEY_free(res.pkey);
	}
	sl->cache_keys = res.cached && st == DKIM_STAT_OK;
	snprintf(sl->keyuse, sizeof(sl->keyuse), "%s; libopendkim's dkim_free() %s",
	    sl->cache_keys ? "keys decoded once, at load" : !use_cache ?
	    "libopendkim decodes each key in every message, as asked" :
	    "libopendkim decodes each key in every message: it refused the decoded key",
	    sl->ed25519_kept ? "keeps Ed25519 keys (2.11.0~beta2), relaysign frees them" :
	    "frees Ed25519 keys itself");
out:
	if (dkim != NULL)
		(void)dkim_free(dkim);
	(void)dkimfix_reclaim(&arena);
	if (idx >= 0)
		(void)CRYPTO_free_ex_index(CRYPTO_EX_INDEX_EVP_PKEY, idx);
	EVP_PKEY_free(pkey);
	BIO_free(bio);
	free(k.pem);
	if (lib != NULL)
		dkim_close(lib);
}

