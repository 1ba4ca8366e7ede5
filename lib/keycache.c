/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * keycache.c -- lets libopendkim sign with a key decoded once (see
 * keycache.h for how, lib/sign.c for why this way).
 *
 * Why the cached answer is the same as a decode: key.c makes key->pem by
 * encoding key->pkey (PKCS#8, unencrypted), so decoding those bytes gives
 * the same key; the bytes are compared in full, not by pointer, because
 * libopendkim reads its own copy of the text.  Why the extra reference is
 * balanced: the caller of PEM_read_bio_PrivateKey owns the key it gets
 * and frees it once; for RSA libopendkim also takes and frees the RSA
 * (EVP_PKEY_get1_RSA, RSA_free in dkim_free).  An Ed25519 key is the one
 * libopendkim 2.11.0~beta2 never frees; lib/sign.c finds that out and
 * frees what it was handed, so this file stays simple.
 */
#include <stdbool.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include "keycache.h"

/*
 * The one piece of mutable state, thread-local by necessity (keycache.h):
 * the key this thread is signing with, between keycache_arm and
 * keycache_disarm, and what the interposed function did meanwhile.
 */
static _Thread_local struct {
	const struct key *key;	/* NULL: not armed, or already used */
	bool use_cache;
	struct keycache_result res;
} slot;

/* keycache_arm: records the next decode on this thread; maybe answers it. */
void
keycache_arm(const struct key *key, bool use_cache)
{
	slot.key = key;
	slot.use_cache = use_cache;
	memset(&slot.res, 0, sizeof(slot.res));
}

/* keycache_disarm: stops recording; hands back the record. */
void
keycache_disarm(struct keycache_result *res_r)
{
	*res_r = slot.res;
	slot.key = NULL;
	memset(&slot.res, 0, sizeof(slot.res));
}

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
 * PEM_read_bio_PrivateKey: OpenSSL's function, interposed (keycache.h).
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
