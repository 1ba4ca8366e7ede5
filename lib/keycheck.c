/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * keycheck.c -- compare the DKIM key records in DNS with the private keys.
 *
 * The record is parsed as a tag-list (RFC 6376 3.2) and checked as a key
 * record (RFC 6376 3.6.1, RFC 8463 4); p= is base64-decoded with OpenSSL
 * and turned into a public key (d2i_PUBKEY for RSA, the raw 32 bytes for
 * Ed25519), which is compared with the private key's public half by
 * EVP_PKEY_eq.  Comparing keys, not base64 text, means FWS inside p=, a
 * record split into several strings, or any other valid encoding of the
 * same key all count as a match.
 *
 * DNS goes through dns.c (dns_res_txt), whose one TXT reader joins each
 * record's character-strings (RFC 6376 3.6.2.2).
 */
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include "conf.h"
#include "keytable.h"
#include "dns.h"
#include "keycheck.h"
#include "util.h"

/* Most tags one key record may hold; RFC 6376 3.6.1 defines six. */
#define TAGS_MAX 32
/* RFC 1035 2.3.4: a name is at most 253 characters as text. */
#define NAME_MAX_TEXT 253
/* Ed25519 public keys are 32 bytes (RFC 8032 5.1.5). */
#define ED25519_LEN 32

struct tag {
	const char *name;
	size_t namelen;
	const char *value;	/* trailing FWS removed */
	size_t valuelen;
};

/* is_fws: white space as FWS may hold it (RFC 6376 2.8; CR and LF too). */
static bool
is_fws(unsigned char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* is_valchar: RFC 6376 3.2 VALCHAR, %x21-3A / %x3C-7E. */
static bool
is_valchar(unsigned char c)
{
	return c >= 0x21 && c <= 0x7e && c != ';';
}

/* is_alpha, is_alnumpunc: RFC 6376 3.2 tag-name characters. */
static bool
is_alpha(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static bool
is_alnumpunc(unsigned char c)
{
	return is_alpha(c) || (c >= '0' && c <= '9') || c == '_';
}

/*
 * parse_tags: splits txt[0..len) into tags (RFC 6376 3.2: tag-list =
 * tag-spec *(";" tag-spec) [";"], a tag-spec is [FWS] name [FWS] "="
 * [FWS] value [FWS]).  Duplicate tag names make the whole list invalid.
 * Returns the number of tags, or -1 with the reason in why.
 */
static int
parse_tags(const char *txt, size_t len, struct tag *tags, char *why, size_t whylen)
{
	const unsigned char *s = (const unsigned char *)txt;
	size_t i = 0, n = 0, k;

	for (;;) {
		struct tag t;
		size_t end;

		while (i < len && is_fws(s[i]))
			i++;
		if (i == len) {
			if (n == 0)
				return util_seterr(why, whylen, "the record is empty");
			break;
		}
		if (!is_alpha(s[i]))
			return util_seterr(why, whylen,
			    "not a DKIM tag list: a tag name was expected at byte %zu "
			    "(RFC 6376 3.2)", i + 1);
		t.name = txt + i;
		while (i < len && is_alnumpunc(s[i]))
			i++;
		t.namelen = (size_t)(txt + i - t.name);
		while (i < len && is_fws(s[i]))
			i++;
		if (i == len || s[i] != '=')
			return util_seterr(why, whylen,
			    "not a DKIM tag list: \"%.*s\" is not followed by \"=\" "
			    "(RFC 6376 3.2)", (int)(t.namelen > 32 ? 32 : t.namelen), t.name);
		i++;
		while (i < len && is_fws(s[i]))
			i++;
		t.value = txt + i;
		end = i;
		while (i < len && s[i] != ';') {
			if (!is_valchar(s[i]) && !is_fws(s[i]))
				return util_seterr(why, whylen,
				    "byte 0x%02x at position %zu is not allowed in a tag value "
				    "(RFC 6376 3.2)", s[i], i + 1);
			if (!is_fws(s[i]))
				end = i + 1;
			i++;
		}
		t.valuelen = end - (size_t)(t.value - txt);
		for (k = 0; k < n; k++)
			if (tags[k].namelen == t.namelen &&
			    memcmp(tags[k].name, t.name, t.namelen) == 0)
				return util_seterr(why, whylen,
				    "tag %.*s= appears twice; RFC 6376 3.2 makes such a record "
				    "invalid", (int)t.namelen, t.name);
		if (n == TAGS_MAX)
			return util_seterr(why, whylen, "more than %d tags", TAGS_MAX);
		tags[n++] = t;
		if (i == len)
			break;
		i++;		/* the ';' */
	}
	return (int)n;
}

/* find_tag: the tag called name, or NULL; *index_r gets its position. */
static const struct tag *
find_tag(const struct tag *tags, int n, const char *name, int *index_r)
{
	size_t len = strlen(name);
	int i;

	for (i = 0; i < n; i++)
		if (tags[i].namelen == len && memcmp(tags[i].name, name, len) == 0) {
			if (index_r != NULL)
				*index_r = i;
			return &tags[i];
		}
	return NULL;
}

/*
 * list_has: true if a colon-separated list (RFC 6376 3.6.1 h=, s=, t=;
 * FWS allowed around the colons) holds word.
 */
static bool
list_has(const struct tag *t, const char *word)
{
	size_t wlen = strlen(word), i = 0, start, end;

	while (i <= t->valuelen) {
		while (i < t->valuelen && is_fws((unsigned char)t->value[i]))
			i++;
		start = i;
		while (i < t->valuelen && t->value[i] != ':')
			i++;
		end = i;
		while (end > start && is_fws((unsigned char)t->value[end - 1]))
			end--;
		if (end - start == wlen && memcmp(t->value + start, word, wlen) == 0)
			return true;
		i++;
	}
	return false;
}

/* tag_is: true if the tag's value is exactly word. */
static bool
tag_is(const struct tag *t, const char *word)
{
	return t->valuelen == strlen(word) && memcmp(t->value, word, t->valuelen) == 0;
}

/* is_b64char: the base64 alphabet of RFC 2045 6.8 (no padding). */
static bool
is_b64char(unsigned char c)
{
	return is_alpha(c) || (c >= '0' && c <= '9') || c == '+' || c == '/';
}

/*
 * decode_p: p= without its FWS (RFC 6376 3.6.1: "whitespace is ignored in
 * this value"), checked for the base64 alphabet and padding, decoded with
 * EVP_DecodeBlock.  Returns an allocated buffer (length in *len_r), or
 * NULL with the reason in why.
 */
static unsigned char *
decode_p(const struct tag *p, size_t *len_r, char *why, size_t whylen)
{
	char *b64;
	unsigned char *out;
	size_t i, n = 0, pad = 0;
	int dlen;

	if ((b64 = malloc(p->valuelen + 1)) == NULL) {
		util_seterr(why, whylen, "out of memory");
		return NULL;
	}
	for (i = 0; i < p->valuelen; i++) {
		unsigned char c = (unsigned char)p->value[i];

		if (is_fws(c))
			continue;
		if (c == '=')
			pad++;
		else if (!is_b64char(c) || pad > 0) {
			free(b64);
			util_seterr(why, whylen, "p= is not base64: byte '%c' at position %zu",
			    c, i + 1);
			return NULL;
		}
		b64[n++] = (char)c;
	}
	b64[n] = '\0';
	if (pad > 2 || n % 4 != 0) {
		free(b64);
		util_seterr(why, whylen, "p= is not base64: %zu characters, %s", n,
		    pad > 2 ? "too much \"=\" padding" : "not a multiple of 4 (cut short?)");
		return NULL;
	}
	/* EVP_DecodeBlock writes 3 bytes per 4 characters, padding included. */
	if ((out = malloc(n / 4 * 3 + 1)) == NULL) {
		free(b64);
		util_seterr(why, whylen, "out of memory");
		return NULL;
	}
	dlen = EVP_DecodeBlock(out, (const unsigned char *)b64, (int)n);
	free(b64);
	if (dlen < 0 || (size_t)dlen < pad) {
		free(out);
		ERR_clear_error();
		util_seterr(why, whylen, "p= is not base64");
		return NULL;
	}
	*len_r = (size_t)dlen - pad;
	return out;
}

/*
 * public_key: the public key p= encodes for a key of type alg, or NULL
 * with the reason in why.
 */
static EVP_PKEY *
public_key(enum key_alg alg, const unsigned char *der, size_t len, const struct key *key,
    char *why, size_t whylen)
{
	const unsigned char *q = der;
	EVP_PKEY *pub;

	if (alg == KEY_ALG_ED25519_SHA256) {
		if (len == ED25519_LEN) {
			pub = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL, der, len);
			if (pub == NULL)
				util_seterr(why, whylen, "p= is not an Ed25519 public key");
			return pub;
		}
		/* A frequent slip: the whole SubjectPublicKeyInfo, 44 bytes. */
		pub = d2i_PUBKEY(NULL, &q, (long)len);
		if (pub != NULL && EVP_PKEY_get_base_id(pub) == EVP_PKEY_ED25519) {
			util_seterr(why, whylen,
			    "p= holds a %zu-byte SubjectPublicKeyInfo%s; RFC 8463 4 publishes "
			    "only the bare %d-byte key", len,
			    EVP_PKEY_eq(pub, key->pkey) == 1 ? " of this key" : "", ED25519_LEN);
			EVP_PKEY_free(pub);
			return NULL;
		}
		EVP_PKEY_free(pub);
		util_seterr(why, whylen,
		    "p= is %zu bytes; an Ed25519 key is %d bytes (RFC 8463 4)", len,
		    ED25519_LEN);
		return NULL;
	}

	/* RFC 6376 3.6.1: p= is the DER SubjectPublicKeyInfo of the RSA key. */
	pub = d2i_PUBKEY(NULL, &q, (long)len);
	if (pub != NULL && q == der + len && EVP_PKEY_get_base_id(pub) == EVP_PKEY_RSA)
		return pub;
	EVP_PKEY_free(pub);
	/*
	 * RFC 6376 3.6.1's words name "RSAPublicKey" (PKCS#1), yet verifiers
	 * (OpenDKIM's d2i_PUBKEY among them) only take SubjectPublicKeyInfo:
	 * say so instead of calling a right key wrong.
	 */
	q = der;
	pub = d2i_PublicKey(EVP_PKEY_RSA, NULL, &q, (long)len);
	if (pub != NULL && q == der + len) {
		util_seterr(why, whylen,
		    "p= is a bare PKCS#1 RSAPublicKey%s; verifiers expect the "
		    "SubjectPublicKeyInfo form", EVP_PKEY_eq(pub, key->pkey) == 1 ?
		    " of this key" : "");
		EVP_PKEY_free(pub);
		return NULL;
	}
	EVP_PKEY_free(pub);
	util_seterr(why, whylen, "p= does not decode to an RSA public key (%zu bytes)", len);
	return NULL;
}

/* keycheck_record: compares one key record with key. */
enum keycheck_result
keycheck_record(const struct key *key, const char *txt, size_t len, char *why, size_t whylen)
{
	struct tag tags[TAGS_MAX];
	const struct tag *v, *h, *k, *s, *t, *p;
	const char *want = key->alg == KEY_ALG_ED25519_SHA256 ? "ed25519" : "rsa";
	unsigned char *der;
	size_t derlen;
	EVP_PKEY *pub;
	int n, vi = 0, eq;

	if (why != NULL && whylen > 0)
		why[0] = '\0';
	if ((n = parse_tags(txt, len, tags, why, whylen)) < 0)
		return KEYCHECK_BAD_RECORD;

	/* RFC 6376 3.6.1 v=: if present, first, and "DKIM1". */
	if ((v = find_tag(tags, n, "v", &vi)) != NULL) {
		if (!tag_is(v, "DKIM1")) {
			util_seterr(why, whylen, "v=%.*s: not a DKIM key record (v=DKIM1)",
			    (int)(v->valuelen > 32 ? 32 : v->valuelen), v->value);
			return KEYCHECK_BAD_RECORD;
		}
		if (vi != 0) {
			util_seterr(why, whylen,
			    "v=DKIM1 is not the first tag; RFC 6376 3.6.1 requires it "
			    "first, and verifiers may discard the record");
			return KEYCHECK_BAD_RECORD;
		}
	}
	/* h=: the hashes the key may be used with; we sign with SHA-256. */
	if ((h = find_tag(tags, n, "h", NULL)) != NULL && !list_has(h, "sha256")) {
		util_seterr(why, whylen, "h=%.*s does not allow sha256, which relaysign signs with",
		    (int)(h->valuelen > 32 ? 32 : h->valuelen), h->value);
		return KEYCHECK_BAD_RECORD;
	}
	/* s=: service types; "*" (the default) or "email". */
	if ((s = find_tag(tags, n, "s", NULL)) != NULL && !list_has(s, "*") &&
	    !list_has(s, "email")) {
		util_seterr(why, whylen, "s=%.*s does not allow email (RFC 6376 3.6.1)",
		    (int)(s->valuelen > 32 ? 32 : s->valuelen), s->value);
		return KEYCHECK_BAD_RECORD;
	}
	/* k=: the key type, "rsa" when absent (RFC 6376 3.6.1, RFC 8463 4). */
	k = find_tag(tags, n, "k", NULL);
	if ((k == NULL && key->alg != KEY_ALG_RSA_SHA256) || (k != NULL && !tag_is(k, want))) {
		if (k == NULL)
			util_seterr(why, whylen,
			    "the record has no k=, which means k=rsa, but this key is %s", want);
		else
			util_seterr(why, whylen, "the record says k=%.*s but this key is %s",
			    (int)(k->valuelen > 32 ? 32 : k->valuelen), k->value, want);
		return KEYCHECK_BAD_RECORD;
	}
	/* p=: required; empty means the key was revoked. */
	if ((p = find_tag(tags, n, "p", NULL)) == NULL) {
		util_seterr(why, whylen, "the record has no p= tag (RFC 6376 3.6.1 requires one)");
		return KEYCHECK_BAD_RECORD;
	}
	if (p->valuelen == 0) {
		util_seterr(why, whylen, "p= is empty: the key is revoked (RFC 6376 3.6.1)");
		return KEYCHECK_BAD_RECORD;
	}
	if ((der = decode_p(p, &derlen, why, whylen)) == NULL)
		return KEYCHECK_BAD_RECORD;
	pub = public_key(key->alg, der, derlen, key, why, whylen);
	free(der);
	if (pub == NULL) {
		ERR_clear_error();
		return KEYCHECK_BAD_RECORD;
	}
	eq = EVP_PKEY_eq(pub, key->pkey);
	if (eq != 1) {
		if (key->alg == KEY_ALG_RSA_SHA256)
			util_seterr(why, whylen, "a different RSA key (%d bits)",
			    EVP_PKEY_get_bits(pub));
		else
			util_seterr(why, whylen, "a different Ed25519 key");
		EVP_PKEY_free(pub);
		ERR_clear_error();
		return KEYCHECK_MISMATCH;
	}
	EVP_PKEY_free(pub);
	ERR_clear_error();
	/* t=y: receivers may treat signatures as if the message were unsigned. */
	if ((t = find_tag(tags, n, "t", NULL)) != NULL && list_has(t, "y"))
		util_seterr(why, whylen,
		    "t=y: testing mode; receivers may treat signed mail as unsigned "
		    "(RFC 6376 3.6.1); remove t=y when done testing");
	return KEYCHECK_MATCH;
}

/* fmt_alloc: an allocated, formatted string, or NULL. */
static char * UTIL_PRINTF(1, 2)
fmt_alloc(const char *fmt, ...)
{
	va_list ap;
	char *s;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0 || (s = malloc((size_t)n + 1)) == NULL)
		return NULL;
	va_start(ap, fmt);
	(void)vsnprintf(s, (size_t)n + 1, fmt, ap);
	va_end(ap);
	return s;
}

/* keycheck_check: looks up and compares the record of one key. */
enum keycheck_result
keycheck_check(const struct key *key, keycheck_lookup *lookup, void *arg, char **line_r)
{
	char name[NAME_MAX_TEXT + 64], who[NAME_MAX_TEXT * 2 + 64], err[512], why[512];
	char publish[KEYCHECK_TXT_MAX];
	char **txts = NULL;
	char *b64;
	const char *kname = key->alg == KEY_ALG_ED25519_SHA256 ? "ed25519" : "rsa";
	enum keycheck_result r;
	size_t ntxt;

	*line_r = NULL;
	if (key->alg == KEY_ALG_RSA_SHA256)
		(void)snprintf(who, sizeof(who), "%s selector %s (%s, %u bits)", key->domain,
		    key->selector, key_alg_name(key->alg), key->bits);
	else
		(void)snprintf(who, sizeof(who), "%s selector %s (%s)", key->domain,
		    key->selector, key_alg_name(key->alg));
	if ((b64 = key_public_b64(key)) != NULL) {
		(void)snprintf(publish, sizeof(publish), "\"v=DKIM1; k=%s; p=%s\"", kname, b64);
		free(b64);
	} else
		util_strlcpy(publish, "(the public key could not be encoded)", sizeof(publish));

	/* RFC 6376 3.6.2.1: the record lives at SELECTOR._domainkey.DOMAIN. */
	if ((size_t)snprintf(name, sizeof(name), "%s._domainkey.%s", key->selector,
	    key->domain) > NAME_MAX_TEXT) {
		*line_r = fmt_alloc("%s: DNS error: %s._domainkey.%s is longer than %d "
		    "characters, no DNS name can be", who, key->selector, key->domain,
		    NAME_MAX_TEXT);
		return KEYCHECK_DNS_ERROR;
	}
	err[0] = '\0';
	if (lookup(arg, name, &txts, err, sizeof(err)) == -1) {
		strv_free(txts);
		*line_r = fmt_alloc("%s: DNS error: looking up %s TXT: %s; not checked, try "
		    "again", who, name, err[0] != '\0' ? err : "failed");
		return KEYCHECK_DNS_ERROR;
	}
	ntxt = strv_len(txts);
	if (ntxt == 0) {
		strv_free(txts);
		*line_r = fmt_alloc("%s: no record at %s: publish a TXT record there with %s",
		    who, name, publish);
		return KEYCHECK_NO_RECORD;
	}
	if (ntxt > 1) {
		/* RFC 6376 3.6.2.2: several records at one selector: undefined. */
		strv_free(txts);
		*line_r = fmt_alloc("%s: BAD RECORD at %s: %zu TXT records where RFC 6376 "
		    "3.6.2.2 wants exactly one (verifiers may pick any); keep only %s", who,
		    name, ntxt, publish);
		return KEYCHECK_BAD_RECORD;
	}
	r = keycheck_record(key, txts[0], strlen(txts[0]), why, sizeof(why));
	strv_free(txts);
	switch (r) {
	case KEYCHECK_MATCH:
		*line_r = fmt_alloc("%s: match: the published key is this private key%s%s", who,
		    why[0] != '\0' ? "; note: " : "", why);
		break;
	case KEYCHECK_MISMATCH:
		*line_r = fmt_alloc("%s: MISMATCH: %s publishes %s, not the public half of %s; "
		    "publish: %s", who, name, why, key->file, publish);
		break;
	default:
		*line_r = fmt_alloc("%s: BAD RECORD at %s: %s; publish: %s", who, name, why,
		    publish);
		break;
	}
	return r;
}

/* keycheck_res_lookup: TXT records through the system's resolver (dns.c). */
int
keycheck_res_lookup(void *arg, const char *name, char ***txts_r, char *err, size_t errlen)
{
	(void)arg;
	return dns_res_txt(name, KEYCHECK_RECORDS_MAX, KEYCHECK_TXT_MAX, txts_r, err, errlen);
}

/* keycheck_result_name: a short name for a result. */
const char *
keycheck_result_name(enum keycheck_result r)
{
	switch (r) {
	case KEYCHECK_MATCH:
		return "match";
	case KEYCHECK_MISMATCH:
		return "mismatch";
	case KEYCHECK_NO_RECORD:
		return "no-record";
	case KEYCHECK_BAD_RECORD:
		return "bad-record";
	case KEYCHECK_DNS_ERROR:
		return "dns-error";
	}
	return "unknown";
}
