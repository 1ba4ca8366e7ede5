/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * dkimfix.h -- the libopendkim workarounds, in one place, with one
 * explanation.  relaysign signs through libopendkim 2.11 (Debian 12:
 * 2.11.0~beta2) and works around two of its costs; sign.c uses what is
 * declared here and knows nothing of how.
 *
 * 1. THE KEY DECODED IN EVERY MESSAGE.
 *    libopendkim takes a signing key only as PEM text and decodes it
 *    in every dkim_eom() (dkim_privkey_load: BIO_new_mem_buf on its copy,
 *    PEM_read_bio_PrivateKey, EVP_PKEY_get1_RSA for RSA).  With OpenSSL 3.0
 *    that decode, and the blinding a fresh RSA key sets up, took three
 *    quarters of the CPU of an RSA-2048 message here and nine tenths of an
 *    Ed25519 one (bench/signbench.c).  struct key holds the key decoded at
 *    load, so dkimfix.c answers libopendkim's PEM_read_bio_PrivateKey with
 *    it (ELF symbol interposition); everything else stays libopendkim's:
 *    canonicalization, hashes, the signature operation, base64, the field.
 *    The other ways weighed:
 *    - Signing ourselves with the hashes of dkim_sig_gethashes(): a signing
 *      handle finishes its header hash only inside dkim_eom_sign, after
 *      loading the key and right before signing; no call finishes it without
 *      a key.  A cheap throwaway key would cost a second signature and b=
 *      edited by hand in the finished field.
 *    - The DER form ("MII..." base64, which dkim_sign also takes): decoded
 *      in every message all the same (d2i_PrivateKey_bio).
 *    - Replacing the exported dkim_privkey_load: it fills libopendkim's
 *      private struct dkim_crypto.  No call of 2.11 takes an EVP_PKEY.
 *    The interposition is checked, not assumed: sign_lib_new signs once with
 *    a throwaway Ed25519 key (dkimfix_probe); if the cached key was not asked for (a
 *    build where libcrypto's definition binds first) every message goes the
 *    plain way, as decode_per_message asks.  The cached key answers only the
 *    exact PEM text of the key being signed with, else OpenSSL decodes: a
 *    message never gets another key's signature nor fails for the shortcut.
 *
 *    How: dkimfix.c defines
 *    PEM_read_bio_PrivateKey in the program itself, which the dynamic linker
 *    binds libopendkim's call to before libcrypto's (ELF symbol
 *    interposition: the executable comes first in the lookup scope, and an
 *    unversioned definition there satisfies libopendkim's reference to
 *    PEM_read_bio_PrivateKey@OPENSSL_3.0.0, as with malloc replacements).
 *    This needs lib/ linked into the program, as it is (a libtool
 *    convenience library); dkimfix_probe checks that it works at run time rather
 *    than trusting it.  While a thread is armed with a struct key, a call that
 *    reads exactly key->pem from a memory BIO returns key->pkey with one more
 *    reference, which is what the caller of a real decode would own.  Every
 *    other call is OpenSSL's own: PEM_read_bio_PrivateKey_ex with the default
 *    library context, which is all PEM_read_bio_PrivateKey does in OpenSSL 3
 *    (crypto/pem/pem_pkey.c; PEM_read_bio_PrivateKey(3)).
 *
 *    The only state is one thread-local slot: the interposed function gets no
 *    context from libopendkim, so "which key is this thread signing with"
 *    cannot travel any other way.  It is set and cleared around one
 *    synchronous dkim_eom() call, so nothing else ever sees it.
 *
 *    What defeats it.  The interposition needs PEM_read_bio_PrivateKey
 *    defined in the executable and exported from it:
 *    - a static libcrypto: the link fails (two definitions);
 *    - -Wl,--exclude-libs,ALL, -fwhole-program, or a version script that
 *      hides the symbol: libopendkim's call binds to libcrypto, and every
 *      message takes the slow path, said only at start-up (the debug
 *      line with the probe's finding, sign_lib_keyuse);
 *    - lib/ built as a shared library of its own: the same.
 *    dkimfix_probe detects all of these at start-up by behaviour.
 *    ./configure --disable-key-interposer leaves the definition out.
 *
 *    What an update of libopendkim would do.  A libopendkim that takes an
 *    EVP_PKEY (none does up to 2.11) would make this part unnecessary; one
 *    that stops calling PEM_read_bio_PrivateKey (e.g. d2i_ or
 *    OSSL_DECODER) is detected by the probe and costs speed, never
 *    correctness: the cached key answers only the exact PEM text of the
 *    key being signed with, else OpenSSL decodes.
 *
 * 2. THE MEMORY AN ED25519 HANDLE KEEPS.
 *    libopendkim 2.11.0~beta2 (Debian 12) dkim_free() releases the
 *    key objects of RSA handles only: an Ed25519 handle keeps its EVP_PKEY
 *    and its 64-byte signature buffer (about 0.5 KB a message with a decoded
 *    key; fixed upstream by OpenDKIM pull request #321, not in Debian).  Both
 *    remedies are right whether or not the library is fixed:
 *    - Each handle allocates through dkim_init()'s allocator with a closure
 *      of its own (struct dkimfix_arena): malloc and free, plus a record of the live
 *      blocks; what is still recorded after dkim_free() was leaked and is
 *      freed.  Exact, because libopendkim frees handle memory only through
 *      that allocator: its plain free() calls are on memory from plain malloc
 *      or strdup, but for HCLOBBER (GnuTLS builds only) and the x-tags of
 *      dkim_add_xtag (never called here).
 *    - dkimfix_probe learns whether dkim_free() drops an Ed25519 key from an ex_data
 *      free callback on the throwaway key; only if it does not does
 *      sign.c (sig_release) drop the reference libopendkim was handed.
 *    An update that fixes dkim_free() is detected by the probe and needs
 *    nothing; the allocator's record costs a hash insert a block.
 */
#ifndef RELAYSIGN_DKIMFIX_H
#define RELAYSIGN_DKIMFIX_H

#include <stdbool.h>
#include <stddef.h>
#include <openssl/evp.h>

#include "key.h"

/* ---- 1. A key decoded once ---- */

/* What PEM_read_bio_PrivateKey did on this thread while armed. */
struct dkimfix_result {
	bool called;		/* it was called */
	bool cached;		/* and returned key->pkey rather than decoding */
	EVP_PKEY *pkey;		/* what it returned (a reference its caller owns),
				   or NULL */
};

/*
 * dkimfix_arm: until dkimfix_disarm, the first PEM_read_bio_PrivateKey
 * call on this thread is recorded, and, when use_cache is true and it
 * reads key->pem from a memory BIO with no password callback, answered
 * with key->pkey.  key must outlive the armed interval.
 */
void dkimfix_arm(const struct key *key, bool use_cache);

/* dkimfix_disarm: ends dkimfix_arm and says what happened meanwhile. */
void dkimfix_disarm(struct dkimfix_result *res_r);

/* ---- 2. The memory of a handle ---- */

/*
 * What libopendkim allocated for one handle and has not freed: a set of
 * pointers, open addressing with linear probing (Knuth, TAOCP vol. 3,
 * 6.4, algorithms L and R), at most half full.
 */
struct dkimfix_arena {
	void **slot;		/* NULL: empty */
	size_t cap;		/* 0 or a power of two */
	size_t n;
};

/* dkimfix_malloc, dkimfix_free: dkim_init()'s allocator and deallocator;
 * closure is a handle's struct dkimfix_arena (dkim_sign's memclosure) or
 * NULL for library-wide memory, which is not recorded. */
void *dkimfix_malloc(void *closure, size_t n);
void dkimfix_free(void *closure, void *p);

/* dkimfix_reclaim: frees what is still recorded and the table; how many blocks. */
size_t dkimfix_reclaim(struct dkimfix_arena *a);

/* ---- 3. The start-up probe ---- */

struct dkimfix_probe {
	bool cache_keys;	/* libopendkim takes the decoded key */
	bool ed25519_kept;	/* dkim_free() keeps an Ed25519 key */
	char keyuse[200];	/* both findings in words */
};

/*
 * dkimfix_probe: signs one message with a throwaway Ed25519 key to learn
 * what the two fields say; use_cache false asks for the plain way.
 */
void dkimfix_probe(struct dkimfix_probe *sl, bool use_cache);

#endif
