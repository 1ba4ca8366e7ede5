/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * t_sign.c -- lib/sign.c: sign with RSA, Ed25519 and both, and verify every
 * signature with libopendkim in verify mode, its keys read from a query
 * file (DKIM_QUERY_FILE: "selector._domainkey.domain<TAB>record" lines)
 * instead of DNS.  The verifier sees the message as the next SMTP hop
 * would: each DKIM-Signature on top as "DKIM-Signature: value" and every
 * line ending in CRLF.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE		/* asprintf, strcasestr */
#endif
#include "config.h"

#include <ctype.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <opendkim/dkim.h>

#include "key.h"
#include "sign.h"
#include "util.h"
#include "../tap.h"

#define DOMAIN "library.example.edu"

/*
 * No LeakSanitizer suppression: libopendkim 2.11.0~beta2 keeps the key of
 * every Ed25519 signature after dkim_free(), and lib/sign.c must free it
 * (and the rest) itself; a leak here fails the test.  The slow unwinder
 * makes a leak report reach into libopendkim.  Only called under
 * sanitizers.
 */
const char *__asan_default_options(void);

const char *
__asan_default_options(void)
{
	return "fast_unwind_on_malloc=0";
}

static char dir[64], rsa_file[128], ed_file[128], dns_file[128];
static struct key *rsa, *ed;
static DKIM_LIB *vlib;

static char *const sign_headers[] = {
	"from", "to", "cc", "subject", "date", "message-id", "reply-to", "mime-version",
	"content-type", "content-transfer-encoding", "list-unsubscribe",
	"list-unsubscribe-post", NULL
};
static char *const oversign_headers[] = { "from", "subject", "date", "to", NULL };

/* A header field as the milter passes it with SMFIP_HDR_LEADSPC. */
struct field {
	const char *name, *value;
};

static const struct field notice[] = {
	{ "From", " Library <library@library.example.edu>" },
	{ "To", " patron@example.net" },
	{ "Subject", " Your loan is due\n\tsoon" },
	{ "Date", " Mon, 2 Mar 2026 10:00:00 +0000" },
	{ "Message-ID", " <1@library.example.edu>" },
	{ "MIME-Version", " 1.0" },
	{ "Content-Type", " text/plain; charset=utf-8" },
	{ "X-Vendor", " alma" },
	{ NULL, NULL }
};
static const char notice_body[] = "Dear patron,\r\n\r\nYour loan is due.\r\n";

/* write_key: generates a key of type, writes it mode 0600, loads it. */
static struct key *
make_key(const char *file, EVP_PKEY *pkey, const char *selector)
{
	struct key *k;
	char err[256];
	FILE *f;

	if (pkey == NULL || (f = fopen(file, "w")) == NULL ||
	    PEM_write_PrivateKey(f, pkey, NULL, NULL, 0, NULL, NULL) != 1)
		exit(2);
	fclose(f);
	EVP_PKEY_free(pkey);
	if (chmod(file, 0600) == -1 || key_load(file, DOMAIN, selector, &k, err, sizeof(err)) == -1) {
		diag("%s", err);
		exit(2);
	}
	return k;
}

/* setup: keys, their DNS records in the query file, the verifying library. */
static void
setup(void)
{
	dkim_query_t qm = DKIM_QUERY_FILE;
	char *prsa, *ped;
	FILE *f;

	snprintf(dir, sizeof(dir), "/tmp/t_sign.XXXXXX");
	if (mkdtemp(dir) == NULL)
		exit(2);
	snprintf(rsa_file, sizeof(rsa_file), "%s/rsa.key", dir);
	snprintf(ed_file, sizeof(ed_file), "%s/ed.key", dir);
	snprintf(dns_file, sizeof(dns_file), "%s/keys.txt", dir);
	rsa = make_key(rsa_file, EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048), "rsa2026");
	ed = make_key(ed_file, EVP_PKEY_Q_keygen(NULL, NULL, "ED25519"), "ed2026");
	prsa = key_public_b64(rsa);
	ped = key_public_b64(ed);
	if (prsa == NULL || ped == NULL || (f = fopen(dns_file, "w")) == NULL)
		exit(2);
	fprintf(f, "rsa2026._domainkey." DOMAIN "\tv=DKIM1; k=rsa; p=%s\n", prsa);
	fprintf(f, "ed2026._domainkey." DOMAIN "\tv=DKIM1; k=ed25519; p=%s\n", ped);
	fclose(f);
	free(prsa);
	free(ped);

	if ((vlib = dkim_init(NULL, NULL)) == NULL ||
	    dkim_options(vlib, DKIM_OP_SETOPT, DKIM_OPTS_QUERYMETHOD, &qm, sizeof(qm)) !=
	    DKIM_STAT_OK ||
	    dkim_options(vlib, DKIM_OP_SETOPT, DKIM_OPTS_QUERYINFO, dns_file,
	    strlen(dns_file)) != DKIM_STAT_OK)
		exit(2);
}

/* crlf: an allocated copy of s with every bare LF made CRLF. */
static char *
crlf(const char *s)
{
	char *out = malloc(2 * strlen(s) + 1), *q = out;

	for (; *s != '\0'; s++) {
		if (*s == '\n' && (q == out || q[-1] != '\r'))
			*q++ = '\r';
		*q++ = *s;
	}
	*q = '\0';
	return out;
}

/* verify_header: feeds "name:value" in wire form to the verifier. */
static void
verify_header(DKIM *v, const char *name, const char *value)
{
	char *raw, *wire;

	if (asprintf(&raw, "%s:%s", name, value) == -1)
		exit(2);
	wire = crlf(raw);
	(void)dkim_header(v, (unsigned char *)wire, strlen(wire));
	free(raw);
	free(wire);
}

/*
 * verify: checks values[0..n) on the message with headers hdrs (plus
 * extra, if not NULL) and a body fed in chunks of chunk bytes; returns how
 * many signatures pass (signature and body hash).
 */
static int
verify(const char *const *values, size_t n, const struct field *hdrs, const struct field *extra,
    const char *body, size_t bodylen, size_t chunk)
{
	DKIM_SIGINFO **sigs;
	DKIM_STAT st;
	DKIM *v;
	size_t i, off;
	int nsigs = 0, pass = 0;

	if ((v = dkim_verify(vlib, (const unsigned char *)"verify", NULL, &st)) == NULL)
		exit(2);
	for (i = n; i > 0; i--) {
		char *val;

		/* The milter inserts each at the top, with one space after the colon. */
		if (asprintf(&val, " %s", values[i - 1]) == -1)
			exit(2);
		verify_header(v, "DKIM-Signature", val);
		free(val);
	}
	for (i = 0; hdrs[i].name != NULL; i++)
		verify_header(v, hdrs[i].name, hdrs[i].value);
	for (i = 0; extra != NULL && extra[i].name != NULL; i++)
		verify_header(v, extra[i].name, extra[i].value);
	(void)dkim_eoh(v);
	for (off = 0; off < bodylen; off += chunk)
		(void)dkim_body(v, (unsigned char *)body + off,
		    bodylen - off < chunk ? bodylen - off : chunk);
	(void)dkim_eom(v, NULL);
	if (dkim_getsiglist(v, &sigs, &nsigs) == DKIM_STAT_OK)
		for (i = 0; i < (size_t)nsigs; i++) {
			if (dkim_sig_geterror(sigs[i]) == DKIM_SIGERROR_OK && DKIM_SIG_CHECK(sigs[i]))
				pass++;
			else
				diag("verify: d=%s s=%s: %s", dkim_sig_getdomain(sigs[i]),
				    dkim_sig_getselector(sigs[i]),
				    dkim_sig_geterrorstr(dkim_sig_geterror(sigs[i])));
		}
	dkim_free(v);
	return pass;
}

/*
 * sign: signs hdrs and the body (in chunks of chunk bytes) with keys;
 * returns the signer after signer_eom, or NULL with the reason in err.
 */
static struct signer *
sign(const struct sign_lib *sl, const struct key *const *keys, size_t nkeys,
    const struct field *hdrs, const char *body, size_t bodylen, size_t chunk, char *err,
    size_t errlen)
{
	struct signer *sg;
	size_t i, off;

	if ((sg = signer_new(sl, keys, nkeys, "T1", err, errlen)) == NULL)
		return NULL;
	for (i = 0; hdrs[i].name != NULL; i++)
		if (signer_header(sg, hdrs[i].name, hdrs[i].value, err, errlen) == -1)
			goto fail;
	if (signer_eoh(sg, err, errlen) == -1)
		goto fail;
	for (off = 0; off < bodylen; off += chunk)
		if (signer_body(sg, (const unsigned char *)body + off,
		    bodylen - off < chunk ? bodylen - off : chunk, err, errlen) == -1)
			goto fail;
	if (signer_eom(sg, err, errlen) == -1)
		goto fail;
	return sg;
fail:
	signer_free(sg);
	return NULL;
}

/* values: the signer's values as an array (at most SIGN_MAX_KEYS). */
static const char **
values(const struct signer *sg, const char **v)
{
	size_t i;

	for (i = 0; i < signer_count(sg); i++)
		v[i] = signer_value(sg, i);
	return v;
}

/*
 * tag: the value of tag name in a signature value (unfolded, blanks
 * removed) into out; false if absent.
 */
static bool
tag(const char *value, const char *name, char *out, size_t outlen)
{
	char *flat = malloc(strlen(value) + 1), *p, *q, *save = NULL;
	bool found = false;

	for (p = flat, q = (char *)value; *q != '\0'; q++)
		if (!isspace((unsigned char)*q))
			*p++ = *q;
	*p = '\0';
	for (p = strtok_r(flat, ";", &save); p != NULL; p = strtok_r(NULL, ";", &save)) {
		size_t nlen = strlen(name);

		if (strncmp(p, name, nlen) == 0 && p[nlen] == '=') {
			util_strlcpy(out, p + nlen + 1, outlen);
			found = true;
			break;
		}
	}
	free(flat);
	return found;
}

/* count_in_h: how many times name appears in the h= list. */
static int
count_in_h(const char *h, const char *name)
{
	char *copy = strdup(h), *p, *save = NULL;
	int n = 0;

	for (p = strtok_r(copy, ":", &save); p != NULL; p = strtok_r(NULL, ":", &save))
		if (strcasecmp(p, name) == 0)
			n++;
	free(copy);
	return n;
}

/* folded_lf: LF-only folding, each LF followed by a blank, no final LF. */
static bool
folded_lf(const char *v)
{
	const char *p;

	if (strchr(v, '\r') != NULL || v[0] == '\0' || v[strlen(v) - 1] == '\n')
		return false;
	for (p = v; (p = strchr(p, '\n')) != NULL; p++)
		if (p[1] != '\t' && p[1] != ' ')
			return false;
	return true;
}

static struct sign_params params_default = {
	sign_headers, oversign_headers, SIGN_CANON_RELAXED, SIGN_CANON_RELAXED, 0, false
};

/* test_basic: RSA, Ed25519, both; tags; tampering. */
static void
test_basic(struct sign_lib *sl)
{
	const struct key *both[] = { rsa, ed };
	const char *v[SIGN_MAX_KEYS];
	static const struct field added_from[] = { { "From", " evil@example.com" }, { NULL, NULL } };
	struct signer *sg;
	char err[512] = "", buf[1024];
	size_t i;

	for (i = 0; i < 3; i++) {
		const struct key *const *keys = i == 0 ? both : i == 1 ? both + 1 : both;
		size_t n = i == 2 ? 2 : 1;
		const char *what = i == 0 ? "RSA" : i == 1 ? "Ed25519" : "RSA+Ed25519";

		sg = sign(sl, keys, n, notice, notice_body, strlen(notice_body), 7, err, sizeof(err));
		ok(sg != NULL && signer_count(sg) == n, "%s: signs (%s)", what, err);
		if (sg == NULL)
			continue;
		ok(verify(values(sg, v), n, notice, NULL, notice_body, strlen(notice_body), 4096) ==
		    (int)n, "%s: libopendkim verifies %zu signature(s)", what, n);
		if (i == 0)
			diag("DKIM-Signature:%s%s", v[0][0] == ' ' ? "" : " ", v[0]);
		if (i == 2) {
			ok(tag(v[0], "a", buf, sizeof(buf)) && strcmp(buf, "rsa-sha256") == 0 &&
			    tag(v[1], "a", buf, sizeof(buf)) && strcmp(buf, "ed25519-sha256") == 0 &&
			    signer_key(sg, 0) == rsa && signer_key(sg, 1) == ed &&
			    signer_key(sg, 2) == NULL && signer_value(sg, 2) == NULL,
			    "both: a=rsa-sha256 then a=ed25519-sha256 (RFC 8463 3)");
			ok(tag(v[1], "d", buf, sizeof(buf)) && strcmp(buf, DOMAIN) == 0 &&
			    tag(v[1], "s", buf, sizeof(buf)) && strcmp(buf, "ed2026") == 0,
			    "both: d= and s= from the key");
			ok(verify(v, n, notice, NULL, "Dear patron,\r\n\r\nYour loan is NOT due.\r\n",
			    39, 4096) == 0, "both: a changed body fails");
			{
				struct field changed[sizeof(notice) / sizeof(notice[0])];

				memcpy(changed, notice, sizeof(notice));
				changed[2].value = " Your loan is due\n\ttomorrow";
				ok(verify(v, n, changed, NULL, notice_body, strlen(notice_body),
				    4096) == 0, "both: a changed Subject fails");
			}
			ok(verify(v, n, notice, added_from, notice_body, strlen(notice_body), 4096) ==
			    0, "both: a From added after signing fails (oversigned)");
			for (n = 0; n < 2; n++) {
				ok(tag(v[n], "h", buf, sizeof(buf)) && count_in_h(buf, "from") == 2 &&
				    count_in_h(buf, "subject") == 2 && count_in_h(buf, "date") == 2 &&
				    count_in_h(buf, "to") == 2 && count_in_h(buf, "message-id") == 1 &&
				    count_in_h(buf, "x-vendor") == 0 &&
				    count_in_h(buf, "dkim-signature") == 0,
				    "sig %zu: h= signs and oversigns From, Subject, Date, To: h=%s", n, buf);
				ok(!tag(v[n], "l", buf, sizeof(buf)), "sig %zu: no l= (RFC 6376 8.2)", n);
				ok(tag(v[n], "c", buf, sizeof(buf)) && strcmp(buf, "relaxed/relaxed") == 0,
				    "sig %zu: c=relaxed/relaxed", n);
				ok(!tag(v[n], "x", buf, sizeof(buf)) && tag(v[n], "t", buf, sizeof(buf)),
				    "sig %zu: t= and no x= by default", n);
				ok(strncmp(v[n], "v=1;", 4) == 0 && folded_lf(v[n]) &&
				    strchr(v[n], '\n') != NULL,
				    "sig %zu: value starts \"v=1;\", folded with LF alone", n);
			}
		}
		signer_free(sg);
	}
}

/* test_expire: x= is t= plus the configured seconds. */
static void
test_expire(void)
{
	struct sign_params p = params_default;
	struct sign_lib *sl;
	struct signer *sg;
	const struct key *keys[] = { ed };
	const char *v[SIGN_MAX_KEYS];
	char err[512] = "", t[32], x[32];

	p.expire = 7 * 86400;
	if ((sl = sign_lib_new(&p, err, sizeof(err))) == NULL) {
		ok(0, "expire: sign_lib_new: %s", err);
		return;
	}
	sg = sign(sl, keys, 1, notice, notice_body, strlen(notice_body), 4096, err, sizeof(err));
	ok(sg != NULL && tag(signer_value(sg, 0), "x", x, sizeof(x)) &&
	    tag(signer_value(sg, 0), "t", t, sizeof(t)) &&
	    strtoull(x, NULL, 10) - strtoull(t, NULL, 10) == 7 * 86400,
	    "expire: x= is t= + 604800 (%s)", err);
	ok(sg != NULL && verify(values(sg, v), 1, notice, NULL, notice_body, strlen(notice_body),
	    4096) == 1, "expire: verifies");
	signer_free(sg);
	sign_lib_free(sl);
}

/* test_simple: simple/simple sees the fields as on the wire (CRLF folds). */
static void
test_simple(void)
{
	struct sign_params p = params_default;
	struct sign_lib *sl;
	struct signer *sg;
	const struct key *keys[] = { rsa, ed };
	const char *v[SIGN_MAX_KEYS];
	char err[512] = "", c[64];
	static const struct field crlf_folded[] = {
		{ "From", " Library <library@library.example.edu>" },
		{ "Subject", " Your loan\r\n\tis due" },
		{ "To", "  patron@example.net   " },
		{ NULL, NULL }
	};

	p.canon_header = SIGN_CANON_SIMPLE;
	p.canon_body = SIGN_CANON_SIMPLE;
	if ((sl = sign_lib_new(&p, err, sizeof(err))) == NULL) {
		ok(0, "simple: sign_lib_new: %s", err);
		return;
	}
	sg = sign(sl, keys, 2, notice, notice_body, strlen(notice_body), 5, err, sizeof(err));
	ok(sg != NULL && tag(signer_value(sg, 0), "c", c, sizeof(c)) &&
	    strcmp(c, "simple/simple") == 0, "simple: c=simple/simple (%s)", err);
	ok(sg != NULL && verify(values(sg, v), 2, notice, NULL, notice_body, strlen(notice_body),
	    4096) == 2, "simple: LF-folded Subject verifies in its CRLF form");
	signer_free(sg);
	sg = sign(sl, keys, 2, crlf_folded, notice_body, strlen(notice_body), 4096, err,
	    sizeof(err));
	ok(sg != NULL && verify(values(sg, v), 2, crlf_folded, NULL, notice_body,
	    strlen(notice_body), 4096) == 2, "simple: CRLF folds and odd blanks kept exactly");
	signer_free(sg);
	sign_lib_free(sl);
}

/* test_fixes: body line ends repaired, leading folds, odd fields. */
static void
test_fixes(struct sign_lib *sl)
{
	const struct key *keys[] = { rsa, ed };
	const char *v[SIGN_MAX_KEYS];
	struct signer *sg;
	char err[512] = "";
	static const struct field leading_fold[] = {
		{ "From", " library@library.example.edu" },
		{ "Subject", "\n\tYour loan is due" },
		{ "To", "\r\n patron@example.net" },
		{ NULL, NULL }
	};
	static const struct field one_line[] = {
		{ "From", " library@library.example.edu" },
		{ "Subject", " Your loan is due" },
		{ "To", "patron@example.net" },
		{ NULL, NULL }
	};
	static const struct field odd[] = {
		{ "From", " library@library.example.edu" },
		{ "DKIM-Signature", " v=1; garbage" },
		{ "X;Bad", " skipped" },
		{ "Subject ", " obsolete blank before the colon" },
		{ NULL, NULL }
	};
	static const struct field no_from[] = { { "Subject", " hi" }, { NULL, NULL } };
	const char bare[] = "Dear patron,\n\nYour loan is due.\n";
	const char split[] = "line one\r\nline two\r\n";

	/* RFC 6376 3.4.2: "Subject:\r\n\tYour..." is "subject:Your...". */
	sg = sign(sl, keys, 2, leading_fold, notice_body, strlen(notice_body), 4096, err,
	    sizeof(err));
	ok(sg != NULL && verify(values(sg, v), 2, one_line, NULL, notice_body,
	    strlen(notice_body), 4096) == 2,
	    "relaxed: a fold right after the colon canonicalizes as RFC 6376 3.4.2 says (%s)", err);
	signer_free(sg);

	sg = sign(sl, keys, 2, notice, bare, strlen(bare), 3, err, sizeof(err));
	ok(sg != NULL && verify(values(sg, v), 2, notice, NULL, notice_body, strlen(notice_body),
	    4096) == 2, "body: bare LFs are signed as CRLF (%s)", err);
	signer_free(sg);

	/* CR and LF in different chunks: "line one\r" + "\nline two\r\n". */
	sg = sign(sl, keys, 2, notice, split, strlen(split), 9, err, sizeof(err));
	ok(sg != NULL && verify(values(sg, v), 2, notice, NULL, split, strlen(split), 4096) == 2,
	    "body: CRLF split across chunks (%s)", err);
	signer_free(sg);

	sg = sign(sl, keys, 2, notice, "last line", 9, 4096, err, sizeof(err));
	ok(sg != NULL && verify(values(sg, v), 2, notice, NULL, "last line\r\n", 11, 4096) == 2,
	    "body: a last line without line end gets CRLF (%s)", err);
	signer_free(sg);

	sg = sign(sl, keys, 2, notice, "cr at end\r", 10, 4096, err, sizeof(err));
	ok(sg != NULL && verify(values(sg, v), 2, notice, NULL, "cr at end\r\n", 11, 4096) == 2,
	    "body: a body ending in CR gets its LF (%s)", err);
	signer_free(sg);

	sg = sign(sl, keys, 2, notice, "", 0, 4096, err, sizeof(err));
	ok(sg != NULL && verify(values(sg, v), 2, notice, NULL, "", 0, 4096) == 2,
	    "body: empty (%s)", err);
	signer_free(sg);

	sg = sign(sl, keys, 2, odd, notice_body, strlen(notice_body), 4096, err, sizeof(err));
	ok(sg != NULL, "fields: an old DKIM-Signature, a name with ';', a blank before the "
	    "colon are taken (%s)", err);
	if (sg != NULL) {
		static const struct field odd_wire[] = {
			{ "From", " library@library.example.edu" },
			{ "DKIM-Signature", " v=1; garbage" },
			{ "Subject ", " obsolete blank before the colon" },
			{ NULL, NULL }
		};

		/* The verifier sees the old signature too; ours both pass. */
		ok(verify(values(sg, v), 2, odd_wire, NULL, notice_body, strlen(notice_body),
		    4096) == 2, "fields: signatures verify");
	}
	signer_free(sg);

	err[0] = '\0';
	sg = sign(sl, keys, 2, no_from, notice_body, strlen(notice_body), 4096, err, sizeof(err));
	ok(sg == NULL && strstr(err, "d=" DOMAIN " s=rsa2026: dkim_eoh: ") != NULL &&
	    strcasestr(err, "from") != NULL, "no From: signer_eoh fails: %s", err);
}

/* test_defaults: no header list means RFC 6376 5.4's, never every field. */
static void
test_defaults(void)
{
	struct sign_params p = { NULL, NULL, SIGN_CANON_RELAXED, SIGN_CANON_RELAXED, 0, false };
	const struct key *keys[] = { rsa, ed };
	const char *v[SIGN_MAX_KEYS];
	static const struct field with_received[] = {
		{ "Received", " from relay.example by mx.example.edu; Mon, 2 Mar 2026" },
		{ "From", " Library <library@library.example.edu>" },
		{ "Subject", " Your loan" },
		{ "X-Vendor", " alma" },
		{ NULL, NULL }
	};
	struct sign_lib *sl;
	struct signer *sg;
	char err[512] = "", h[512];

	if ((sl = sign_lib_new(&p, err, sizeof(err))) == NULL) {
		ok(0, "defaults: sign_lib_new: %s", err);
		return;
	}
	sg = sign(sl, keys, 2, with_received, notice_body, strlen(notice_body), 4096, err,
	    sizeof(err));
	ok(sg != NULL && tag(signer_value(sg, 0), "h", h, sizeof(h)) &&
	    count_in_h(h, "from") == 1 && count_in_h(h, "subject") == 1 &&
	    count_in_h(h, "received") == 0 && count_in_h(h, "x-vendor") == 0,
	    "defaults: h=%s (%s)", sg != NULL ? h : "", err);
	ok(sg != NULL && verify(values(sg, v), 2, with_received, NULL, notice_body,
	    strlen(notice_body), 4096) == 2, "defaults: verifies");
	signer_free(sg);
	sign_lib_free(sl);
}

/* test_errors: bad parameters and calls out of order. */
static void
test_errors(struct sign_lib *sl)
{
	static char *const bad_dot[] = { "from", "x.y", NULL };
	static char *const bad_star[] = { "*", NULL };
	static char *const bad_empty[] = { "", NULL };
	const struct key *keys[] = { rsa, ed, rsa, ed, rsa };
	struct sign_params p = params_default;
	struct signer *sg;
	char err[512] = "";

	p.sign_headers = bad_dot;
	ok(sign_lib_new(&p, err, sizeof(err)) == NULL && strstr(err, "\"x.y\"") != NULL,
	    "params: header name with '.': %s", err);
	p.sign_headers = bad_star;
	ok(sign_lib_new(&p, err, sizeof(err)) == NULL, "params: header name \"*\": %s", err);
	p.sign_headers = sign_headers;
	p.oversign_headers = bad_empty;
	ok(sign_lib_new(&p, err, sizeof(err)) == NULL, "params: empty oversign name: %s", err);

	ok(signer_new(sl, keys, 0, "T2", err, sizeof(err)) == NULL && strstr(err, "0 keys") != NULL,
	    "signer_new: no keys: %s", err);
	ok(signer_new(sl, keys, SIGN_MAX_KEYS + 1, "T2", err, sizeof(err)) == NULL,
	    "signer_new: too many keys: %s", err);
	sg = signer_new(sl, keys, SIGN_MAX_KEYS, NULL, err, sizeof(err));
	ok(sg != NULL && signer_count(sg) == SIGN_MAX_KEYS, "signer_new: %d keys, NULL jobid",
	    SIGN_MAX_KEYS);
	ok(sg != NULL && signer_body(sg, (const unsigned char *)"x\r\n", 3, err, sizeof(err)) == -1,
	    "order: body before end of headers: %s", err);
	ok(sg != NULL && signer_eom(sg, err, sizeof(err)) == -1, "order: eom before eoh: %s", err);
	ok(sg != NULL && signer_value(sg, 0) == NULL, "order: no value before eom");
	signer_free(sg);
	signer_free(NULL);
	sign_lib_free(NULL);
}

/* test_big: 50 MB streamed in 64 KiB chunks signs and verifies. */
static void
test_big(struct sign_lib *sl)
{
	const size_t size = 50 * 1024 * 1024, chunk = 64 * 1024;
	const struct key *keys[] = { rsa, ed };
	const char *v[SIGN_MAX_KEYS];
	struct signer *sg;
	char err[512] = "", *body = malloc(size);
	size_t off = 0;
	unsigned line = 0;

	/* Lines of varying length, so CRLFs fall across chunk edges. */
	while (off < size) {
		int n = snprintf(body + off, size - off, "%u: the quick brown fox %.*s\r\n", line,
		    (int)(line % 61), "jumps over the lazy dog and jumps over the lazy dog again and");

		if (n < 0 || (size_t)n >= size - off)
			break;
		off += (size_t)n;
		line++;
	}
	sg = sign(sl, keys, 2, notice, body, off, chunk, err, sizeof(err));
	ok(sg != NULL, "big: %zu bytes in 64 KiB chunks sign (%s)", off, err);
	ok(sg != NULL && verify(values(sg, v), 2, notice, NULL, body, off, chunk) == 2,
	    "big: both signatures verify");
	signer_free(sg);
	free(body);
}

/*
 * test_keys: libopendkim signs with the key decoded at load; the way
 * OpenDKIM does it (decode in every message) and a key without its
 * decoded form still work; many messages leak nothing (LeakSanitizer at
 * exit: a lost reference would keep the key alive after key_free).
 */
static void
test_keys(struct sign_lib *sl)
{
	struct sign_params p = params_default;
	struct key rsa_raw = *rsa, ed_raw = *ed;
	const struct key *keys[] = { rsa, ed }, *raw[] = { &rsa_raw, &ed_raw };
	const char *v[SIGN_MAX_KEYS];
	struct sign_lib *slow;
	struct signer *sg;
	char err[512] = "";
	int i, good = 0;

	diag("keys: %s", sign_lib_keyuse(sl));
#if RELAYSIGN_KEY_INTERPOSER
	ok(sign_lib_keys_cached(sl), "keys: libopendkim takes the key decoded at load");
#else
	ok(!sign_lib_keys_cached(sl), "keys: --disable-key-interposer: libopendkim decodes each key");
#endif

	p.decode_per_message = true;
	if ((slow = sign_lib_new(&p, err, sizeof(err))) == NULL) {
		ok(0, "keys: sign_lib_new, decode per message: %s", err);
		return;
	}
	diag("keys, decode per message: %s", sign_lib_keyuse(slow));
	ok(!sign_lib_keys_cached(slow), "keys: decode_per_message is honoured");
	sg = sign(slow, keys, 2, notice, notice_body, strlen(notice_body), 4096, err, sizeof(err));
	ok(sg != NULL && verify(values(sg, v), 2, notice, NULL, notice_body, strlen(notice_body),
	    4096) == 2, "keys: decoded per message, RSA and Ed25519 verify (%s)", err);
	signer_free(sg);
	sign_lib_free(slow);

	/* No decoded key: dkimfix.c lets OpenSSL decode the text. */
	rsa_raw.pkey = NULL;
	ed_raw.pkey = NULL;
	sg = sign(sl, raw, 2, notice, notice_body, strlen(notice_body), 4096, err, sizeof(err));
	ok(sg != NULL && verify(values(sg, v), 2, notice, NULL, notice_body, strlen(notice_body),
	    4096) == 2, "keys: a key without its decoded form is decoded as before (%s)", err);
	signer_free(sg);

	for (i = 0; i < 200; i++) {
		sg = sign(sl, keys, 2, notice, notice_body, strlen(notice_body), 4096, err,
		    sizeof(err));
		if (sg != NULL && (i % 50 != 0 || verify(values(sg, v), 2, notice, NULL,
		    notice_body, strlen(notice_body), 4096) == 2))
			good++;
		signer_free(sg);
	}
	ok(good == 200, "keys: 200 messages with both keys (%d good; %s)", good, err);
}

/* One signing thread's work. */
struct worker {
	const struct sign_lib *sl;
	int n, good;
	char *values[2];	/* the last message's, allocated */
	char err[512];
};

/* worker_run: signs w->n messages with both keys, keeps the last values. */
static void *
worker_run(void *arg)
{
	struct worker *w = arg;
	const struct key *keys[] = { rsa, ed };
	struct signer *sg;
	int i;

	for (i = 0; i < w->n; i++) {
		/* Every other message the other order, so both keys start first. */
		const struct key *k2[] = { keys[i % 2], keys[1 - i % 2] };

		sg = sign(w->sl, k2, 2, notice, notice_body, strlen(notice_body), 13, w->err,
		    sizeof(w->err));
		if (sg == NULL)
			continue;
		w->good++;
		if (i == w->n - 1) {
			w->values[0] = strdup(signer_value(sg, i % 2 == 0 ? 0 : 1));
			w->values[1] = strdup(signer_value(sg, i % 2 == 0 ? 1 : 0));
		}
		signer_free(sg);
	}
	return NULL;
}

/* test_threads: one sign_lib and one pair of keys for 4 threads at once. */
static void
test_threads(struct sign_lib *sl)
{
	struct worker w[4];
	pthread_t t[4];
	int i, good = 0, verified = 0;

	memset(w, 0, sizeof(w));
	for (i = 0; i < 4; i++) {
		w[i].sl = sl;
		w[i].n = 40;
		if (pthread_create(&t[i], NULL, worker_run, &w[i]) != 0)
			exit(2);
	}
	for (i = 0; i < 4; i++) {
		(void)pthread_join(t[i], NULL);
		good += w[i].good;
		if (w[i].values[0] != NULL && w[i].values[1] != NULL &&
		    verify((const char **)w[i].values, 2, notice, NULL, notice_body,
		    strlen(notice_body), 4096) == 2)
			verified++;
		free(w[i].values[0]);
		free(w[i].values[1]);
	}
	ok(good == 160 && verified == 4,
	    "threads: 4 threads sign 40 messages each with shared keys (%d signed, %d of 4 "
	    "verified; %s)", good, verified, w[0].err);
}

int
main(void)
{
	struct sign_lib *sl;
	char err[512] = "";

	setup();
	sl = sign_lib_new(&params_default, err, sizeof(err));
	ok(sl != NULL, "sign_lib_new: relaxed/relaxed, the default signed headers (%s)", err);
	if (sl == NULL)
		return tap_done();
	test_basic(sl);
	test_expire();
	test_simple();
	test_fixes(sl);
	test_defaults();
	test_errors(sl);
	test_keys(sl);
	test_threads(sl);
	test_big(sl);
	sign_lib_free(sl);
	dkim_close(vlib);
	key_free(rsa);
	key_free(ed);
	(void)unlink(rsa_file);
	(void)unlink(ed_file);
	(void)unlink(dns_file);
	(void)rmdir(dir);
	return tap_done();
}
