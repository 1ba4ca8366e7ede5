/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * key.h -- one DKIM private key, read from disk once.
 *
 * Keys are read at start and at reload, never per message.  A key file
 * that group or others can read is refused: a leaked signing key lets
 * anyone pass DMARC as the institution.
 */
#ifndef RELAYSIGN_KEY_H
#define RELAYSIGN_KEY_H

#include <stddef.h>
#include <openssl/evp.h>

/* Bit values, so a set of algorithms is a mask (see conf.h). */
enum key_alg {
	KEY_ALG_RSA_SHA256 = 1,		/* RFC 6376 3.3.1 */
	KEY_ALG_ED25519_SHA256 = 2	/* RFC 8463 */
};

/* RFC 8301 3.2: signers MUST use RSA keys of at least 1024 bits. */
#define KEY_RSA_MIN_BITS 1024
/* Largest key file we read. */
#define KEY_FILE_MAX (64 * 1024)

struct key {
	char *domain;		/* d= */
	char *selector;		/* s= */
	char *file;		/* where it came from, for messages */
	enum key_alg alg;	/* from the key itself, not from configuration */
	unsigned bits;		/* RSA modulus size; 256 for Ed25519 */
	unsigned char *pem;	/* pkey re-encoded as unencrypted PKCS#8 PEM,
				   NUL-terminated: what dkim_sign() takes */
	size_t pemlen;		/* strlen(pem) */
	EVP_PKEY *pkey;		/* decoded once at load */
};

/*
 * key_load: reads file (following symlinks), refuses it when it is not a
 * regular file, when group or others have any access to it (mode & 077),
 * when it is larger than KEY_FILE_MAX or encrypted, decodes it (PEM:
 * PKCS#1, PKCS#8, or the OpenSSL Ed25519 PKCS#8 form), refuses key types
 * other than RSA and Ed25519 and RSA keys under KEY_RSA_MIN_BITS.  domain
 * and selector must be DNS names (letters, digits, '-', '_', '.') and are
 * copied.  Returns 0 and an allocated key (caller frees with key_free), or
 * -1 with the reason, naming the file, in err.
 */
int key_load(const char *file, const char *domain, const char *selector,
    struct key **key_r, char *err, size_t errlen);

/*
 * A decoder for many key_load_with calls in a row (a configuration of
 * hundreds of keys): OpenSSL 3 spends about ten times longer building a
 * decoder than decoding one key with it, and PEM_read_bio_PrivateKey
 * builds one per call.  One loading thread uses one at a time.
 */
struct key_decoder;
/* key_decoder_new: NULL when out of memory. */
struct key_decoder *key_decoder_new(void);
/* key_decoder_free: key_decoder_free(NULL) is a no-op. */
void key_decoder_free(struct key_decoder *dec);
/* key_load_with: key_load with dec (NULL: a decoder for this call alone). */
int key_load_with(struct key_decoder *dec, const char *file, const char *domain,
    const char *selector, struct key **key_r, char *err, size_t errlen);

/* key_free: key_free(NULL) is a no-op. */
void key_free(struct key *key);

/* key_alg_name: "rsa-sha256" or "ed25519-sha256". */
const char *key_alg_name(enum key_alg alg);

/*
 * key_public_b64: the p= value for the key's DNS record (RFC 6376 3.6.1;
 * RFC 8463 4: the raw 32-byte Ed25519 key).  Returns an allocated string
 * the caller frees, or NULL.
 */
char *key_public_b64(const struct key *key);

#endif
