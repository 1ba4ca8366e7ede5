/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * keycache.h -- lets libopendkim sign with a key decoded once.
 *
 * libopendkim takes a signing key only as PEM text and decodes it again in
 * every dkim_eom() (dkim_privkey_load: BIO_new_mem_buf on its copy of the
 * text, then PEM_read_bio_PrivateKey).  keycache.c defines
 * PEM_read_bio_PrivateKey in the program itself, which the dynamic linker
 * binds libopendkim's call to before libcrypto's (ELF symbol
 * interposition: the executable comes first in the lookup scope, and an
 * unversioned definition there satisfies libopendkim's reference to
 * PEM_read_bio_PrivateKey@OPENSSL_3.0.0, as with malloc replacements).
 * This needs lib/ linked into the program, as it is (a libtool
 * convenience library); sign.c checks that it works at run time rather
 * than trusting it.  While a thread is armed with a struct key, a call that
 * reads exactly key->pem from a memory BIO returns key->pkey with one more
 * reference, which is what the caller of a real decode would own.  Every
 * other call is OpenSSL's own: PEM_read_bio_PrivateKey_ex with the default
 * library context, which is all PEM_read_bio_PrivateKey does in OpenSSL 3
 * (crypto/pem/pem_pkey.c; PEM_read_bio_PrivateKey(3)).
 *
 * The only state is one thread-local slot: the interposed function gets no
 * context from libopendkim, so "which key is this thread signing with"
 * cannot travel any other way.  It is set and cleared around one
 * synchronous dkim_eom() call, so nothing else ever sees it.
 */
#ifndef RELAYSIGN_KEYCACHE_H
#define RELAYSIGN_KEYCACHE_H

#include <stdbool.h>
#include <openssl/evp.h>

#include "key.h"

/* What PEM_read_bio_PrivateKey did on this thread while armed. */
struct keycache_result {
	bool called;		/* it was called */
	bool cached;		/* and returned key->pkey rather than decoding */
	EVP_PKEY *pkey;		/* what it returned (a reference its caller owns),
				   or NULL */
};

/*
 * keycache_arm: until keycache_disarm, the first PEM_read_bio_PrivateKey
 * call on this thread is recorded, and, when use_cache is true and it
 * reads key->pem from a memory BIO with no password callback, answered
 * with key->pkey.  key must outlive the armed interval.
 */
void keycache_arm(const struct key *key, bool use_cache);

/* keycache_disarm: ends keycache_arm and says what happened meanwhile. */
void keycache_disarm(struct keycache_result *res_r);

#endif
