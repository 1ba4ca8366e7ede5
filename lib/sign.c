/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * sign.c -- DKIM signing of one message with libopendkim.
 *
 * One libopendkim signing handle per key; every header and body chunk is
 * fed to each.  What libopendkim is handed is what the next SMTP hop will
 * carry, so that the signature verifies there:
 *
 * - Header fields as "Name:value", the value exactly as the MTA passed it.
 *   The milter asks for SMFIP_HDR_LEADSPC, so the value keeps the space
 *   after the colon and "simple" header canonicalization (RFC 6376 3.4.1)
 *   sees the field as it stands in the message.  Milters fold with a bare
 *   LF; on the wire every line ends in CRLF (RFC 5321 2.3.8), so folds are
 *   turned into CRLF here, as OpenDKIM's own filter does before
 *   dkim_header().
 * - The body as the milter protocol streams it, CRLF line ends.  A bare LF
 *   (possible from some MTAs) becomes CRLF, and a body whose last line has
 *   no line end gets one, again what SMTP transmits (RFC 5321 4.1.1.4).
 *   libopendkim's DKIM_LIBFLAGS_FIXCRLF would do the same, but copies the
 *   whole body byte by byte through a dynamic string for each handle; here
 *   a chunk is copied only when it holds a bare LF.  Bare CRs are left
 *   alone, as libopendkim leaves them without FIXCRLF.
 *
 * dkim_getsighdr_d() folds the signature with CRLF + TAB; milters must
 * insert header values folded with LF alone (smfi_insheader), so the CRs
 * are dropped, as OpenDKIM's filter does (dkimf_stripcr).
 *
 * Keys.  libopendkim decodes the PEM text of the key in every dkim_eom();
 * dkimfix.c hands it the key decoded at load instead, and tracks the
 * memory an Ed25519 handle of 2.11.0~beta2 keeps: the libopendkim
 * workarounds, with their explanation, are all in dkimfix.h.
 *
 * Threads.  One struct key serves every connection thread at once.
 * Shared are the EVP_PKEY, which EVP_PKEY_get1_RSA turns into a cached
 * legacy RSA once, under the key's lock (OpenSSL 3.0 crypto/evp/p_lib.c,
 * evp_pkey_get_legacy: re-checked under the write lock), and that RSA,
 * whose private operations keep their caches under rsa->lock: blinding
 * for the thread that made it, a shared "mt_blinding" used under lock by
 * the others (crypto/rsa/rsa_ossl.c, rsa_get_blinding), Montgomery values
 * by BN_MONT_CTX_set_locked.  Ed25519 signing makes an EVP_PKEY_CTX per
 * message and only reads the key.  openssl-threads(7): shared objects are
 * safe while calls on them modify nothing, or lock what they cache.
 * dkimfix.c's thread-local slot is set and cleared around one synchronous
 * dkim_eom(), so a message may move between libmilter threads.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/bio.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <opendkim/dkim.h>

#include "dkimfix.h"
#include "sign.h"
#include "util.h"

/* Field name of the signature (RFC 6376 3.5). */
#define SIGN_HEADER_NAME "DKIM-Signature"

struct sign_lib {
	DKIM_LIB *lib;
	dkim_canon_t canon_header;
	dkim_canon_t canon_body;
	bool feed_dkim_sigs;	/* "dkim-signature" is among the names to sign */
	struct dkimfix_probe fix;	/* what dkimfix_probe found */
};

/* One signature in the making. */
struct sig {
	DKIM *dkim;
	const struct key *key;
	char *value;		/* after signer_eom: LF-folded, no "DKIM-Signature:" */
	struct dkimfix_arena arena;	/* the handle's memory (dkim_sign's memclosure) */
	EVP_PKEY *handed;	/* the key libopendkim got in dkim_eom, if seen */
};

struct signer {
	const struct sign_lib *sl;
	struct sig sig[SIGN_MAX_KEYS];
	size_t n;
	char *jobid;		/* libopendkim keeps the pointer, so we own a copy */
	unsigned char last;	/* last body byte fed, '\0' before any */
	bool eoh, eom;
	unsigned char *buf;	/* scratch for header fields and repaired chunks */
	size_t bufcap;
};

/* canon_of: our canonicalization enum as libopendkim's. */
static dkim_canon_t
canon_of(enum sign_canon c)
{
	return c == SIGN_CANON_SIMPLE ? DKIM_CANON_SIMPLE : DKIM_CANON_RELAXED;
}

/*
 * names_ok: true if every name in v can go into libopendkim's header
 * regular expression as itself: letters, digits, '-' and '_'.  (It turns
 * '*' into ".*" and passes every other character through, so '.' or '|'
 * would change what is signed.)
 */
static bool
names_ok(char *const *v, const char **bad_r)
{
	size_t i;
	const char *p;

	for (i = 0; v != NULL && v[i] != NULL; i++) {
		*bad_r = v[i];
		if (v[i][0] == '\0')
			return false;
		for (p = v[i]; *p != '\0'; p++)
			if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
			    (*p >= '0' && *p <= '9') || *p == '-' || *p == '_'))
				return false;
	}
	return true;
}

/* sign_lib_new: the libopendkim library handle and the shared parameters. */
struct sign_lib *
sign_lib_new(const struct sign_params *params, char *err, size_t errlen)
{
	struct sign_lib *sl;
	const char *bad = NULL;
	DKIM_STAT st;
	u_int minbits = KEY_RSA_MIN_BITS;

	if (!names_ok(params->sign_headers, &bad) || !names_ok(params->oversign_headers, &bad)) {
		util_seterr(err, errlen,
		    "header name \"%s\": only letters, digits, '-' and '_' are allowed", bad);
		return NULL;
	}
	if ((sl = calloc(1, sizeof(*sl))) == NULL) {
		util_seterr(err, errlen, "out of memory");
		return NULL;
	}
	sl->canon_header = canon_of(params->canon_header);
	sl->canon_body = canon_of(params->canon_body);
	if ((sl->lib = dkim_init(dkimfix_malloc, dkimfix_free)) == NULL) {
		free(sl);
		util_seterr(err, errlen, "dkim_init failed");
		return NULL;
	}
	if (!dkim_libfeature(sl->lib, DKIM_FEATURE_SHA256) ||
	    !dkim_libfeature(sl->lib, DKIM_FEATURE_ED25519)) {
		util_seterr(err, errlen,
		    "libopendkim lacks SHA-256 or Ed25519 (RFC 8463); version 2.11 or later is needed");
		goto fail;
	}
	if (!dkim_libfeature(sl->lib, DKIM_FEATURE_OVERSIGN) &&
	    strv_len(params->oversign_headers) > 0) {
		util_seterr(err, errlen, "libopendkim cannot oversign headers");
		goto fail;
	}
	/*
	 * Flags stay at the default (no FIXCRLF, see the top of this file;
	 * no SIGNLEN: never l=, RFC 6376 8.2).  The key size limit repeats
	 * key_load's, RFC 8301 3.2.
	 */
	st = dkim_options(sl->lib, DKIM_OP_SETOPT, DKIM_OPTS_MINKEYBITS, &minbits,
	    sizeof(minbits));
	if (st != DKIM_STAT_OK) {
		util_seterr(err, errlen, "libopendkim: cannot set the minimum key size");
		goto fail;
	}
	/*
	 * Without a list of its own libopendkim would sign every field of
	 * the message, Received included; NULL means RFC 6376 5.4's list as
	 * libopendkim carries it.
	 */
	st = dkim_options(sl->lib, DKIM_OP_SETOPT, DKIM_OPTS_SIGNHDRS,
	    params->sign_headers != NULL ? (void *)params->sign_headers :
	    (void *)dkim_should_signhdrs, sizeof(char **));
	if (st != DKIM_STAT_OK) {
		util_seterr(err, errlen,
		    "libopendkim refused the list of headers to sign (too long?)");
		goto fail;
	}
	sl->feed_dkim_sigs = strv_contains_ci(params->sign_headers, "dkim-signature");
	/* Oversigned names are listed once more after the present fields. */
	if (strv_len(params->oversign_headers) > 0) {
		st = dkim_options(sl->lib, DKIM_OP_SETOPT, DKIM_OPTS_OVERSIGNHDRS,
		    (void *)params->oversign_headers, sizeof(char **));
		if (st != DKIM_STAT_OK) {
			util_seterr(err, errlen,
			    "libopendkim refused the list of headers to oversign");
			goto fail;
		}
	}
	/* x= (RFC 6376 3.5) is t= plus the TTL; library-wide is all we need. */
	if (params->expire > 0) {
		uint64_t ttl = params->expire;

		st = dkim_options(sl->lib, DKIM_OP_SETOPT, DKIM_OPTS_SIGNATURETTL, &ttl,
		    sizeof(ttl));
		if (st != DKIM_STAT_OK) {
			util_seterr(err, errlen, "libopendkim: cannot set the signature TTL");
			goto fail;
		}
	}
	dkimfix_probe(&sl->fix, !params->decode_per_message);
	return sl;
fail:
	sign_lib_free(sl);
	return NULL;
}

/* sign_lib_free: closes the library handle. */
void
sign_lib_free(struct sign_lib *sl)
{
	if (sl == NULL)
		return;
	if (sl->lib != NULL)
		dkim_close(sl->lib);
	free(sl);
}

/* sign_lib_keys_cached: what probe found. */
bool
sign_lib_keys_cached(const struct sign_lib *sl)
{
	return sl->fix.cache_keys;
}

/* sign_lib_keyuse: dkimfix_probe's finding in words. */
const char *
sign_lib_keyuse(const struct sign_lib *sl)
{
	return sl->fix.keyuse;
}

/* sig_err: the reason libopendkim gives for status on handle dkim. */
static int
sig_err(const struct sig *s, const char *what, DKIM_STAT st, char *err, size_t errlen)
{
	const char *why = s->dkim != NULL ? dkim_geterror(s->dkim) : NULL;

	if (why == NULL || why[0] == '\0')
		why = dkim_getresultstr(st);
	return util_seterr(err, errlen, "d=%s s=%s: %s: %s", s->key->domain, s->key->selector,
	    what, why != NULL ? why : "unknown error");
}

/*
 * sig_begin: opens the libopendkim signing handle for s->key, its memory
 * in s->arena.  dkim_sign() copies the PEM text; see the top of this file
 * for how dkim_eom() gets the decoded key instead.
 */
static int
sig_begin(const struct sign_lib *sl, struct sig *s, const char *jobid, char *err,
    size_t errlen)
{
	dkim_alg_t alg;
	DKIM_STAT st = DKIM_STAT_OK;

	switch (s->key->alg) {
	case KEY_ALG_RSA_SHA256:
		alg = DKIM_SIGN_RSASHA256;
		break;
	case KEY_ALG_ED25519_SHA256:
		alg = DKIM_SIGN_ED25519SHA256;	/* RFC 8463 */
		break;
	default:
		return util_seterr(err, errlen, "d=%s s=%s: unknown key algorithm",
		    s->key->domain, s->key->selector);
	}
	if (s->key->pem == NULL)
		return util_seterr(err, errlen, "d=%s s=%s: key has no PEM text",
		    s->key->domain, s->key->selector);
	/* Length -1: the whole body, never l= (RFC 6376 8.2). */
	s->dkim = dkim_sign(sl->lib, (const unsigned char *)jobid, &s->arena,
	    (dkim_sigkey_t)s->key->pem, (const unsigned char *)s->key->selector,
	    (const unsigned char *)s->key->domain, sl->canon_header, sl->canon_body, alg,
	    (ssize_t)-1, &st);
	if (s->dkim == NULL)
		return sig_err(s, "dkim_sign", st, err, errlen);
	/*
	 * libopendkim folds the signature twice: once with an empty b= to
	 * hash it, once with the signature in it.  For RSA it wraps before
	 * b= both times; for Ed25519 it does not, so the 88 characters of b=
	 * move to a new line afterwards and a "simple" header hash (RFC 6376
	 * 3.4.1, whitespace counts) no longer matches (seen with dkimpy).
	 * Unfolded, both forms agree; the field stays far below 998
	 * characters (RFC 5322 2.1.1).
	 */
	if (alg == DKIM_SIGN_ED25519SHA256 && sl->canon_header == DKIM_CANON_SIMPLE &&
	    (st = dkim_set_margin(s->dkim, 0)) != DKIM_STAT_OK)
		return sig_err(s, "dkim_set_margin", st, err, errlen);
	return 0;
}

/*
 * sig_finish: ends the body, makes the signature and keeps its value with
 * LF folding.  dkim_eom() loads the key: from dkimfix.c when sl says so,
 * and the key it got is noted for sig_release either way.
 */
static int
sig_finish(const struct sign_lib *sl, struct sig *s, char *err, size_t errlen)
{
	struct dkimfix_result res;
	unsigned char *hdr = NULL;
	size_t len = 0, i, j;
	DKIM_STAT st;

	dkimfix_arm(s->key, sl->fix.cache_keys);
	st = dkim_eom(s->dkim, NULL);
	dkimfix_disarm(&res);
	s->handed = res.pkey;
	if (st != DKIM_STAT_OK)
		return sig_err(s, "dkim_eom", st, err, errlen);
	/* initial: the columns "DKIM-Signature: " takes on the first line. */
	st = dkim_getsighdr_d(s->dkim, strlen(SIGN_HEADER_NAME) + 2, &hdr, &len);
	if (st != DKIM_STAT_OK || hdr == NULL)
		return sig_err(s, "dkim_getsighdr_d", st, err, errlen);
	if ((s->value = malloc(len + 1)) == NULL)
		return util_seterr(err, errlen, "out of memory");
	for (i = j = 0; i < len; i++)
		if (hdr[i] != '\r')
			s->value[j++] = (char)hdr[i];
	s->value[j] = '\0';
	return 0;
}

/* signer_new: one libopendkim handle per key. */
struct signer *
signer_new(const struct sign_lib *sl, const struct key *const *keys, size_t nkeys,
    const char *jobid, char *err, size_t errlen)
{
	struct signer *sg;
	size_t i;

	if (nkeys == 0 || nkeys > SIGN_MAX_KEYS) {
		util_seterr(err, errlen, "%zu keys; a message takes 1 to %d signatures", nkeys,
		    SIGN_MAX_KEYS);
		return NULL;
	}
	if ((sg = calloc(1, sizeof(*sg))) == NULL ||
	    (sg->jobid = strdup(jobid != NULL && jobid[0] != '\0' ? jobid : "-")) == NULL) {
		free(sg);
		util_seterr(err, errlen, "out of memory");
		return NULL;
	}
	sg->sl = sl;
	for (i = 0; i < nkeys; i++) {
		sg->sig[i].key = keys[i];
		sg->n = i + 1;
		if (sig_begin(sl, &sg->sig[i], sg->jobid, err, errlen) == -1) {
			signer_free(sg);
			return NULL;
		}
	}
	return sg;
}

/* reserve: makes sg->buf hold at least n bytes. */
static int
reserve(struct signer *sg, size_t n)
{
	unsigned char *nb;

	if (n <= sg->bufcap)
		return 0;
	if ((nb = realloc(sg->buf, n)) == NULL)
		return -1;
	sg->buf = nb;
	sg->bufcap = n;
	return 0;
}

/*
 * name_signable: true if name is a field name libopendkim accepts (RFC
 * 5322 2.2: printable ASCII but ':'; libopendkim also refuses ';' before
 * the colon), allowing the blanks before the colon of obsolete syntax.
 */
static bool
name_signable(const char *name)
{
	size_t i, len = strlen(name);

	while (len > 0 && (name[len - 1] == ' ' || name[len - 1] == '\t'))
		len--;
	if (len == 0)
		return false;
	for (i = 0; i < len; i++)
		if (name[i] < 33 || name[i] > 126 || name[i] == ':' || name[i] == ';')
			return false;
	return true;
}

/* signer_header: one header field, fed to every handle. */
int
signer_header(struct signer *sg, const char *name, const char *value, char *err,
    size_t errlen)
{
	size_t nlen, vlen, i, n;
	const char *v = value;
	DKIM_STAT st;

	if (sg->eoh)
		return util_seterr(err, errlen, "header after the end of headers");
	/*
	 * A field libopendkim would refuse cannot be in h= (sign_lib_new
	 * allows only letters, digits, '-' and '_' there), so leaving it out
	 * changes no signature; refusing it would tempfail the message.
	 */
	if (!name_signable(name))
		return 0;
	/*
	 * libopendkim parses every DKIM-Signature it is given, even when
	 * signing, and fails the handle on a malformed one; unless listed to
	 * be signed such a field cannot matter to our signature.
	 */
	if (!sg->sl->feed_dkim_sigs && strncasecmp(name, SIGN_HEADER_NAME,
	    strlen(SIGN_HEADER_NAME)) == 0 && name[strspn(name + strlen(SIGN_HEADER_NAME),
	    " \t") + strlen(SIGN_HEADER_NAME)] == '\0')
		return 0;
	/*
	 * RFC 6376 3.4.2 deletes all whitespace after the colon.  libopendkim
	 * skips SP and HT there but keeps one space for a fold right after
	 * the colon ("Subject:\r\n\tHello" gives "subject: Hello"), which
	 * verifiers do not; dropping that whitespace first gives the RFC's
	 * result and is what relaxed canonicalization would do anyway.
	 */
	if (sg->sl->canon_header == DKIM_CANON_RELAXED)
		v += strspn(v, " \t\r\n");
	nlen = strlen(name);
	vlen = strlen(v);
	/* Name, ':', value with every LF maybe doubled to CRLF, NUL. */
	if (vlen > (SIZE_MAX - nlen - 2) / 2 || reserve(sg, nlen + 2 + 2 * vlen) == -1)
		return util_seterr(err, errlen, "out of memory");
	memcpy(sg->buf, name, nlen);
	n = nlen;
	sg->buf[n++] = ':';
	for (i = 0; i < vlen; i++) {
		if (v[i] == '\n' && (i == 0 || v[i - 1] != '\r'))
			sg->buf[n++] = '\r';
		sg->buf[n++] = (unsigned char)v[i];
	}
	sg->buf[n] = '\0';
	for (i = 0; i < sg->n; i++) {
		st = dkim_header(sg->sig[i].dkim, sg->buf, n);
		if (st != DKIM_STAT_OK)
			return sig_err(&sg->sig[i], "dkim_header", st, err, errlen);
	}
	return 0;
}

/* signer_eoh: no more headers; libopendkim hashes them now. */
int
signer_eoh(struct signer *sg, char *err, size_t errlen)
{
	DKIM_STAT st;
	size_t i;

	if (sg->eoh)
		return util_seterr(err, errlen, "end of headers twice");
	sg->eoh = true;
	for (i = 0; i < sg->n; i++) {
		/* Fails when there is no From field: RFC 6376 5.4 must sign it. */
		st = dkim_eoh(sg->sig[i].dkim);
		if (st != DKIM_STAT_OK)
			return sig_err(&sg->sig[i], "dkim_eoh", st, err, errlen);
	}
	return 0;
}

/* feed: one body chunk to every handle. */
static int
feed(struct signer *sg, const unsigned char *buf, size_t len, char *err, size_t errlen)
{
	DKIM_STAT st;
	size_t i;

	for (i = 0; i < sg->n; i++) {
		/* dkim_body() takes a non-const pointer but only reads. */
		st = dkim_body(sg->sig[i].dkim, (unsigned char *)(uintptr_t)buf, len);
		if (st != DKIM_STAT_OK)
			return sig_err(&sg->sig[i], "dkim_body", st, err, errlen);
	}
	return 0;
}

/* signer_body: one body chunk; bare LFs become CRLF. */
int
signer_body(struct signer *sg, const unsigned char *buf, size_t len, char *err,
    size_t errlen)
{
	const unsigned char *p, *end = buf + len;
	unsigned char prev;
	size_t n = 0;
	bool bare = false;

	if (!sg->eoh || sg->eom)
		return util_seterr(err, errlen, "body chunk outside the body");
	if (len == 0)
		return 0;
	/* Fast path: memchr to every LF, look at the byte before it. */
	for (p = buf; p < end && (p = memchr(p, '\n', (size_t)(end - p))) != NULL; p++) {
		prev = p == buf ? sg->last : p[-1];
		if (prev != '\r') {
			bare = true;
			break;
		}
	}
	if (!bare) {
		sg->last = buf[len - 1];
		return feed(sg, buf, len, err, errlen);
	}
	if (len > SIZE_MAX / 2 || reserve(sg, 2 * len) == -1)
		return util_seterr(err, errlen, "out of memory");
	prev = sg->last;
	for (p = buf; p < end; p++) {
		if (*p == '\n' && prev != '\r')
			sg->buf[n++] = '\r';
		sg->buf[n++] = *p;
		prev = *p;
	}
	sg->last = buf[len - 1];
	return feed(sg, sg->buf, n, err, errlen);
}

/* signer_eom: finishes the body and makes every signature. */
int
signer_eom(struct signer *sg, char *err, size_t errlen)
{
	size_t i;

	if (!sg->eoh || sg->eom)
		return util_seterr(err, errlen, "end of message out of order");
	/* A last line without its line end gets one, as SMTP will send it. */
	if (sg->last == '\r' && feed(sg, (const unsigned char *)"\n", 1, err, errlen) == -1)
		return -1;
	if (sg->last != '\0' && sg->last != '\r' && sg->last != '\n' &&
	    feed(sg, (const unsigned char *)"\r\n", 2, err, errlen) == -1)
		return -1;
	sg->eom = true;
	for (i = 0; i < sg->n; i++)
		if (sig_finish(sg->sl, &sg->sig[i], err, errlen) == -1)
			return -1;
	return 0;
}

/* signer_count: how many signatures. */
size_t
signer_count(const struct signer *sg)
{
	return sg->n;
}

/* signer_value: the i-th signature's field value, LF-folded. */
const char *
signer_value(const struct signer *sg, size_t i)
{
	return i < sg->n ? sg->sig[i].value : NULL;
}

/* signer_key: the i-th signature's key. */
const struct key *
signer_key(const struct signer *sg, size_t i)
{
	return i < sg->n ? sg->sig[i].key : NULL;
}

/*
 * sig_release: frees the handle, then what it left behind: an Ed25519 key
 * if dkimfix_probe saw dkim_free() keep one, and whatever is left in its arena
 * (the signature buffer of such a key).
 */
static void
sig_release(const struct sign_lib *sl, struct sig *s)
{
	if (s->dkim != NULL)
		(void)dkim_free(s->dkim);
	s->dkim = NULL;
	if (s->handed != NULL && s->key->alg == KEY_ALG_ED25519_SHA256 && sl->fix.ed25519_kept)
		EVP_PKEY_free(s->handed);
	s->handed = NULL;
	(void)dkimfix_reclaim(&s->arena);
	free(s->value);
	s->value = NULL;
}

/* signer_free: frees the handles and the values. */
void
signer_free(struct signer *sg)
{
	size_t i;

	if (sg == NULL)
		return;
	for (i = 0; i < sg->n; i++)
		sig_release(sg->sl, &sg->sig[i]);
	free(sg->jobid);
	free(sg->buf);
	free(sg);
}
