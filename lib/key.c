/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * key.c -- one DKIM private key, read from disk once.
 *
 * The file is opened following symlinks: a postmaster may keep keys under
 * /etc/ssl-like trees or rotate them with "current.key -> 2026.key".  What
 * is checked is the file finally opened (fstat(2) on the descriptor, so
 * there is no race between check and read): a regular file that neither
 * group nor others may access.
 *
 * The key is decoded here with OpenSSL and kept twice: as an EVP_PKEY and
 * as PEM text re-encoded from it (unencrypted PKCS#8), which is what
 * libopendkim's dkim_sign() takes.  Re-encoding means that any file this
 * module accepts (PKCS#1 "BEGIN RSA PRIVATE KEY", PKCS#8, text before the
 * PEM block) is one libopendkim can read too, instead of a key that loads
 * at start and then fails on every message.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/bio.h>
#include <openssl/crypto.h>
#include <openssl/decoder.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "dnsname.h"
#include "file.h"
#include "key.h"
#include "util.h"

/* RFC 1035 2.3.4: a name is at most 255 octets on the wire, 253 as text. */
#define KEY_NAME_MAX 253

/* key_name_ok: true if s can go into d= or s= (RFC 6376 3.5): dnsname.h's rule. */
static bool
key_name_ok(const char *s)
{
	const char *why;

	return strlen(s) <= KEY_NAME_MAX && dnsname_ok(s, 1, &why);
}

/* no_passphrase: PEM password callback that refuses encrypted keys. */
static int
no_passphrase(char *buf, int size, int rwflag, void *arg)
{
	(void)buf;
	(void)size;
	(void)rwflag;
	*(int *)arg = 1;
	return -1;
}

/* ssl_reason: the reason of the latest OpenSSL error, clearing the queue. */
static const char *
ssl_reason(void)
{
	unsigned long e = ERR_peek_last_error();
	const char *r = e != 0 ? ERR_reason_error_string(e) : NULL;

	ERR_clear_error();
	return r != NULL ? r : "no PEM private key found";
}

/*
 * read_key_file: file_read within KEY_FILE_MAX, then the key's own checks:
 * no access for group or others, not empty.  Returns 0, or -1 with the
 * reason.
 */
static int
read_key_file(const char *file, unsigned char **buf_r, size_t *len_r, char *err,
    size_t errlen)
{
	struct stat st;
	char *buf;
	size_t len;

	if (file_read(file, KEY_FILE_MAX, &buf, &len, &st, err, errlen) == -1)
		return -1;
	if ((st.st_mode & 077) != 0) {
		file_free(buf, len);
		return util_seterr(err, errlen, "%s: %s by group or others (mode %04o); chmod 600 it",
		    file, (st.st_mode & 044) != 0 ? "readable" : "writable or executable",
		    (unsigned)(st.st_mode & 07777));
	}
	if (len == 0) {
		file_free(buf, len);
		return util_seterr(err, errlen, "%s: empty file", file);
	}
	*buf_r = (unsigned char *)buf;
	*len_r = len;
	return 0;
}

/*
 * pem_of: the unencrypted PKCS#8 PEM of pkey, NUL-terminated, in an
 * allocated buffer.  Returns NULL when OpenSSL fails.
 */
static unsigned char *
pem_of(EVP_PKEY *pkey, size_t *len_r)
{
	BIO *bio;
	BUF_MEM *bm;
	unsigned char *pem = NULL;

	/* secmem: the buffer is cleared when freed. */
	if ((bio = BIO_new(BIO_s_secmem())) == NULL)
		return NULL;
	if (PEM_write_bio_PrivateKey(bio, pkey, NULL, NULL, 0, NULL, NULL) == 1 &&
	    BIO_get_mem_ptr(bio, &bm) == 1 && bm->length > 0 &&
	    (pem = malloc(bm->length + 1)) != NULL) {
		memcpy(pem, bm->data, bm->length);
		pem[bm->length] = '\0';
		*len_r = bm->length;
	}
	BIO_free(bio);
	return pem;
}

struct key_decoder {
	OSSL_DECODER_CTX *ctx;	/* PEM, any structure, a key pair, into pkey */
	EVP_PKEY *pkey;		/* where ctx puts each key it decodes */
	int encrypted;		/* set by no_passphrase */
};

/* key_decoder_new: the decoder PEM_read_bio_PrivateKey would build each time. */
struct key_decoder *
key_decoder_new(void)
{
	struct key_decoder *dec = calloc(1, sizeof(*dec));

	if (dec == NULL)
		return NULL;
	dec->ctx = OSSL_DECODER_CTX_new_for_pkey(&dec->pkey, "PEM", NULL, NULL,
	    EVP_PKEY_KEYPAIR, NULL, NULL);
	if (dec->ctx == NULL ||
	    OSSL_DECODER_CTX_set_pem_password_cb(dec->ctx, no_passphrase, &dec->encrypted) != 1) {
		key_decoder_free(dec);
		return NULL;
	}
	return dec;
}

/* key_decoder_free: frees the decoder. */
void
key_decoder_free(struct key_decoder *dec)
{
	if (dec == NULL)
		return;
	OSSL_DECODER_CTX_free(dec->ctx);
	EVP_PKEY_free(dec->pkey);
	free(dec);
}

/* key_load: one key, with a decoder of its own. */
int
key_load(const char *file, const char *domain, const char *selector, struct key **key_r,
    char *err, size_t errlen)
{
	return key_load_with(NULL, file, domain, selector, key_r, err, errlen);
}

/* key_load_with: reads, checks and decodes one private key file. */
int
key_load_with(struct key_decoder *dec, const char *file, const char *domain,
    const char *selector, struct key **key_r, char *err, size_t errlen)
{
	struct key *key;
	unsigned char *buf = NULL;
	const unsigned char *data;
	size_t len = 0, left;
	struct key_decoder *own = NULL;
	int encrypted, id;

	*key_r = NULL;
	if (domain == NULL || !key_name_ok(domain))
		return util_seterr(err, errlen, "%s: bad signing domain \"%s\"", file,
		    domain != NULL ? domain : "");
	if (selector == NULL || !key_name_ok(selector))
		return util_seterr(err, errlen, "%s: bad selector \"%s\"", file,
		    selector != NULL ? selector : "");
	if (read_key_file(file, &buf, &len, err, errlen) == -1)
		return -1;
	if ((key = calloc(1, sizeof(*key))) == NULL) {
		OPENSSL_cleanse(buf, len);
		free(buf);
		return util_seterr(err, errlen, "%s: out of memory", file);
	}

	ERR_clear_error();
	if (dec == NULL)
		dec = own = key_decoder_new();
	if (dec != NULL) {
		EVP_PKEY_free(dec->pkey);
		dec->pkey = NULL;
		dec->encrypted = 0;
		data = buf;
		left = len;
		if (OSSL_DECODER_from_data(dec->ctx, &data, &left) == 1) {
			key->pkey = dec->pkey;	/* ours now */
			dec->pkey = NULL;
		}
		encrypted = dec->encrypted;
	} else
		encrypted = 0;
	key_decoder_free(own);
	OPENSSL_cleanse(buf, len);
	free(buf);
	if (key->pkey == NULL) {
		key_free(key);
		if (encrypted) {
			ERR_clear_error();
			return util_seterr(err, errlen,
			    "%s: encrypted with a passphrase; store it unencrypted, mode 600", file);
		}
		return util_seterr(err, errlen, "%s: not a PEM private key (%s)", file,
		    ssl_reason());
	}

	id = EVP_PKEY_get_base_id(key->pkey);
	if (id == EVP_PKEY_RSA) {
		int bits = EVP_PKEY_get_bits(key->pkey);

		key->alg = KEY_ALG_RSA_SHA256;
		key->bits = bits > 0 ? (unsigned)bits : 0;
		if (key->bits < KEY_RSA_MIN_BITS) {
			key_free(key);
			return util_seterr(err, errlen,
			    "%s: RSA key of %d bits; RFC 8301 3.2 requires at least %d", file,
			    bits, KEY_RSA_MIN_BITS);
		}
	} else if (id == EVP_PKEY_ED25519) {
		key->alg = KEY_ALG_ED25519_SHA256;	/* RFC 8463 */
		key->bits = 256;
	} else {
		/* EC, RSA-PSS, DSA, Ed448 ...: DKIM defines none of them. */
		const char *name = EVP_PKEY_get0_type_name(key->pkey);

		if (name == NULL)
			name = OBJ_nid2sn(id);
		key_free(key);
		return util_seterr(err, errlen,
		    "%s: %s key; DKIM signs with RSA (RFC 6376) or Ed25519 (RFC 8463)", file,
		    name != NULL ? name : "unknown");
	}

	key->pem = pem_of(key->pkey, &key->pemlen);
	key->domain = strdup(domain);
	key->selector = strdup(selector);
	key->file = strdup(file);
	if (key->pem == NULL || key->domain == NULL || key->selector == NULL ||
	    key->file == NULL) {
		key_free(key);
		ERR_clear_error();
		return util_seterr(err, errlen, "%s: out of memory", file);
	}
	*key_r = key;
	return 0;
}

/* key_free: releases the key, clearing the private key text. */
void
key_free(struct key *key)
{
	if (key == NULL)
		return;
	if (key->pem != NULL) {
		OPENSSL_cleanse(key->pem, key->pemlen);
		free(key->pem);
	}
	EVP_PKEY_free(key->pkey);
	free(key->domain);
	free(key->selector);
	free(key->file);
	free(key);
}

/* key_alg_name: the a= tag value for alg (RFC 6376 3.5, RFC 8463 3). */
const char *
key_alg_name(enum key_alg alg)
{
	switch (alg) {
	case KEY_ALG_RSA_SHA256:
		return "rsa-sha256";
	case KEY_ALG_ED25519_SHA256:
		return "ed25519-sha256";
	}
	return "unknown";
}

/* b64: allocated base64 of buf[0..len), no line breaks. */
static char *
b64(const unsigned char *buf, size_t len)
{
	char *out;

	if (len > 3 * ((size_t)INT32_MAX / 4 - 1))
		return NULL;
	/* EVP_EncodeBlock writes 4 bytes per 3 and a NUL. */
	if ((out = malloc(4 * ((len + 2) / 3) + 1)) == NULL)
		return NULL;
	(void)EVP_EncodeBlock((unsigned char *)out, buf, (int)len);
	return out;
}

/* key_public_b64: the p= value of the key's DNS record. */
char *
key_public_b64(const struct key *key)
{
	unsigned char *der = NULL, raw[32];
	size_t rawlen = sizeof(raw);
	char *out = NULL;
	int len;

	if (key == NULL || key->pkey == NULL)
		return NULL;
	switch (key->alg) {
	case KEY_ALG_RSA_SHA256:
		/* RFC 6376 3.6.1: p= is the DER SubjectPublicKeyInfo. */
		if ((len = i2d_PUBKEY(key->pkey, &der)) > 0)
			out = b64(der, (size_t)len);
		OPENSSL_free(der);
		break;
	case KEY_ALG_ED25519_SHA256:
		/* RFC 8463 4: p= is the bare 32-byte public key. */
		if (EVP_PKEY_get_raw_public_key(key->pkey, raw, &rawlen) == 1 &&
		    rawlen == sizeof(raw))
			out = b64(raw, rawlen);
		break;
	}
	ERR_clear_error();
	return out;
}
