/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * t_keycheck.c -- lib/keycheck.c: DKIM key records compared with private
 * keys, with no DNS: records are given as text (keycheck_record), as TXT
 * rdata (dns_txt_join), or through a lookup function of our own
 * (keycheck_check; keytest_run, milter/keytest.c).  Keys are generated in memory.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "key.h"
#include "keytable.h"
#include "dns.h"
#include "keycheck.h"
#include "../../milter/keytest.h"
#include "util.h"
#include "../tap.h"

/* The keys: two RSA, two Ed25519. */
enum { KA, KB, KE, KF, NKEYS };
static struct key *keys[NKEYS];

/* b64 forms of the keys' public halves, filled by setup. */
static char *pub_b64[NKEYS];	/* p= as published */
static char *a_pkcs1;		/* key A as a bare PKCS#1 RSAPublicKey */
static char *e_spki;		/* key E as a SubjectPublicKeyInfo */

/* b64_of: allocated base64 of buf (OpenSSL, no line breaks). */
static char *
b64_of(const unsigned char *buf, size_t len)
{
	char *out = malloc(4 * ((len + 2) / 3) + 1);

	if (out != NULL)
		(void)EVP_EncodeBlock((unsigned char *)out, buf, (int)len);
	return out;
}

/* make_key: a key of type "RSA" (bits) or "ED25519", as key_load would give. */
static struct key *
make_key(const char *type, size_t bits, const char *selector)
{
	struct key *k = calloc(1, sizeof(*k));

	if (k == NULL)
		exit(2);
	k->pkey = strcmp(type, "RSA") == 0 ? EVP_PKEY_Q_keygen(NULL, NULL, "RSA", bits) :
	    EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
	if (k->pkey == NULL) {
		diag("cannot generate a %s key", type);
		exit(2);
	}
	k->alg = strcmp(type, "RSA") == 0 ? KEY_ALG_RSA_SHA256 : KEY_ALG_ED25519_SHA256;
	k->bits = (unsigned)EVP_PKEY_get_bits(k->pkey);
	k->domain = strdup("library.example.edu");
	k->selector = strdup(selector);
	k->file = strdup("/etc/relaysign/keys/test.key");
	return k;
}

/* setup: the keys and their encodings. */
static void
setup(void)
{
	unsigned char *der = NULL;
	int len;
	size_t i;

	keys[KA] = make_key("RSA", 2048, "alma2026");
	keys[KB] = make_key("RSA", 1024, "alma2026");
	keys[KE] = make_key("ED25519", 0, "ed2026");
	keys[KF] = make_key("ED25519", 0, "ed2026");
	for (i = 0; i < NKEYS; i++)
		if ((pub_b64[i] = key_public_b64(keys[i])) == NULL)
			exit(2);
	if ((len = i2d_PublicKey(keys[KA]->pkey, &der)) <= 0)
		exit(2);
	a_pkcs1 = b64_of(der, (size_t)len);
	OPENSSL_free(der);
	der = NULL;
	if ((len = i2d_PUBKEY(keys[KE]->pkey, &der)) <= 0)
		exit(2);
	e_spki = b64_of(der, (size_t)len);
	OPENSSL_free(der);
}

/*
 * expand: the record template t with {A} {B} {E} {F} replaced by the keys'
 * p= values, {A:ws} by A's with FWS inside (spaces, a tab, CRLF and a
 * space), {A:101} by A's first 101 characters, {A:pkcs1} and {E:spki} by
 * the wrong encodings.  Returns an allocated string.
 */
static char *
expand(const char *t)
{
	size_t cap = strlen(t) + 4096, n = 0;
	char *out = malloc(cap);

	if (out == NULL)
		exit(2);
	while (*t != '\0') {
		const char *v = NULL, *end;
		char tok[16];
		size_t tl, vl;

		if (*t != '{' || (end = strchr(t, '}')) == NULL ||
		    (tl = (size_t)(end - t - 1)) >= sizeof(tok)) {
			out[n++] = *t++;
			continue;
		}
		memcpy(tok, t + 1, tl);
		tok[tl] = '\0';
		t = end + 1;
		if (strcmp(tok, "A:ws") == 0) {
			const char *a = pub_b64[KA];
			size_t i, l = strlen(a);

			for (i = 0; i < l; i++) {
				if (i == 40)
					out[n++] = ' ';
				if (i == 100)
					out[n++] = '\t';
				if (i == 200) {
					memcpy(out + n, "\r\n ", 3);
					n += 3;
				}
				out[n++] = a[i];
			}
			continue;
		}
		if (strcmp(tok, "A:101") == 0) {
			memcpy(out + n, pub_b64[KA], 101);
			n += 101;
			continue;
		}
		v = strcmp(tok, "A") == 0 ? pub_b64[KA] : strcmp(tok, "B") == 0 ? pub_b64[KB] :
		    strcmp(tok, "E") == 0 ? pub_b64[KE] : strcmp(tok, "F") == 0 ? pub_b64[KF] :
		    strcmp(tok, "A:pkcs1") == 0 ? a_pkcs1 : strcmp(tok, "E:spki") == 0 ? e_spki :
		    NULL;
		if (v == NULL)
			exit(2);
		vl = strlen(v);
		memcpy(out + n, v, vl);
		n += vl;
	}
	out[n] = '\0';
	return out;
}

static const struct {
	int key;
	const char *record;
	enum keycheck_result want;
	const char *why;	/* text the reason must hold ("" for none) */
} rows[] = {
	/* 0: the plain RSA record */
	{ KA, "v=DKIM1; k=rsa; p={A}", KEYCHECK_MATCH, "" },
	/* 1: v= and k= are optional; k defaults to rsa */
	{ KA, "p={A}", KEYCHECK_MATCH, "" },
	/* 2: Ed25519, RFC 8463 */
	{ KE, "v=DKIM1; k=ed25519; p={E}", KEYCHECK_MATCH, "" },
	/* 3: another RSA key */
	{ KA, "v=DKIM1; k=rsa; p={B}", KEYCHECK_MISMATCH, "a different RSA key (1024 bits)" },
	/* 4: another Ed25519 key */
	{ KE, "v=DKIM1; k=ed25519; p={F}", KEYCHECK_MISMATCH, "a different Ed25519 key" },
	/* 5: an Ed25519 record for an RSA key */
	{ KA, "v=DKIM1; k=ed25519; p={E}", KEYCHECK_BAD_RECORD, "k=ed25519 but this key is rsa" },
	/* 6: an RSA record for an Ed25519 key */
	{ KE, "v=DKIM1; k=rsa; p={A}", KEYCHECK_BAD_RECORD, "k=rsa but this key is ed25519" },
	/* 7: no k= means rsa */
	{ KE, "v=DKIM1; p={E}", KEYCHECK_BAD_RECORD, "no k=, which means k=rsa" },
	/* 8: revoked */
	{ KA, "v=DKIM1; k=rsa; p=", KEYCHECK_BAD_RECORD, "revoked" },
	/* 9: revoked, trailing FWS */
	{ KA, "v=DKIM1; k=rsa; p= ; ", KEYCHECK_BAD_RECORD, "revoked" },
	/* 10: no p= */
	{ KA, "v=DKIM1; k=rsa", KEYCHECK_BAD_RECORD, "no p= tag" },
	/* 11: FWS inside p= is ignored (RFC 6376 3.6.1) */
	{ KA, "v=DKIM1; k=rsa; p={A:ws}", KEYCHECK_MATCH, "" },
	/* 12: FWS around '=' and ';', trailing ';' (RFC 6376 3.2) */
	{ KA, " v = DKIM1 ;\tk = rsa ; p = {A} ; ", KEYCHECK_MATCH, "" },
	/* 13: v= must come first */
	{ KA, "k=rsa; v=DKIM1; p={A}", KEYCHECK_BAD_RECORD, "not the first tag" },
	/* 14: not a tag list */
	{ KA, "hello world", KEYCHECK_BAD_RECORD, "not a DKIM tag list" },
	/* 15: an SPF record where the key should be */
	{ KA, "v=spf1 -all", KEYCHECK_BAD_RECORD, "not a DKIM key record" },
	/* 16: v=DKIM1 is case-sensitive */
	{ KA, "v=dkim1; p={A}", KEYCHECK_BAD_RECORD, "not a DKIM key record" },
	/* 17: duplicate tags void the record */
	{ KA, "v=DKIM1; p={A}; p={A}", KEYCHECK_BAD_RECORD, "appears twice" },
	/* 18: h= without sha256 */
	{ KA, "v=DKIM1; h=sha1; p={A}", KEYCHECK_BAD_RECORD, "does not allow sha256" },
	/* 19: h= list with sha256 */
	{ KA, "v=DKIM1; h=sha1 : sha256; k=rsa; p={A}", KEYCHECK_MATCH, "" },
	/* 20: s= email */
	{ KA, "v=DKIM1; s=email; p={A}", KEYCHECK_MATCH, "" },
	/* 21: s= another service */
	{ KA, "v=DKIM1; s=tlsrpt; p={A}", KEYCHECK_BAD_RECORD, "does not allow email" },
	/* 22: testing mode matches, with a note */
	{ KA, "v=DKIM1; t=y:s; p={A}", KEYCHECK_MATCH, "t=y" },
	/* 23: unknown tags and notes are ignored */
	{ KA, "v=DKIM1; n=rotated in 2026; x9=1; k=rsa; p={A}", KEYCHECK_MATCH, "" },
	/* 24: not base64 */
	{ KA, "v=DKIM1; p={A}!", KEYCHECK_BAD_RECORD, "not base64" },
	/* 25: cut short */
	{ KA, "v=DKIM1; p={A:101}", KEYCHECK_BAD_RECORD, "not a multiple of 4" },
	/* 26: Ed25519 published as the whole SubjectPublicKeyInfo */
	{ KE, "v=DKIM1; k=ed25519; p={E:spki}", KEYCHECK_BAD_RECORD,
	    "SubjectPublicKeyInfo of this key" },
	/* 27: RSA published as PKCS#1 RSAPublicKey */
	{ KA, "v=DKIM1; p={A:pkcs1}", KEYCHECK_BAD_RECORD, "PKCS#1 RSAPublicKey of this key" },
	/* 28: an 8-bit byte */
	{ KA, "v=DKIM1; n=caf\xc3\xa9; p={A}", KEYCHECK_BAD_RECORD, "not allowed in a tag value" },
	/* 29: empty */
	{ KA, "", KEYCHECK_BAD_RECORD, "empty" },
	/* 30: only white space */
	{ KA, "  \t ", KEYCHECK_BAD_RECORD, "empty" },
	/* 31: an empty tag-spec between two ';' */
	{ KA, "v=DKIM1;; p={A}", KEYCHECK_BAD_RECORD, "tag name was expected" },
	/* 32: a tag without '=' */
	{ KA, "v=DKIM1; p", KEYCHECK_BAD_RECORD, "not followed by \"=\"" },
	/* 33: an Ed25519 p= of the wrong size */
	{ KE, "v=DKIM1; k=ed25519; p=AAAA", KEYCHECK_BAD_RECORD, "3 bytes" },
	/* 34: too much padding */
	{ KA, "v=DKIM1; p=AAA=====", KEYCHECK_BAD_RECORD, "not base64" },
	/* 35: RSA p= that is base64 but not a key */
	{ KA, "v=DKIM1; p=AAAAAAAA", KEYCHECK_BAD_RECORD, "does not decode" },
};

/* test_records: keycheck_record over the table. */
static void
test_records(void)
{
	size_t i;

	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		char *txt = expand(rows[i].record), why[512];
		enum keycheck_result r;

		r = keycheck_record(keys[rows[i].key], txt, strlen(txt), why, sizeof(why));
		ok(r == rows[i].want && strstr(why, rows[i].why) != NULL &&
		    (rows[i].why[0] != '\0' || why[0] == '\0'),
		    "record row %zu: %s (%s)", i, keycheck_result_name(r), why);
		free(txt);
	}
}

/* rdata: TXT rdata of text cut into strings of at most cut bytes. */
static unsigned char *
rdata(const char *text, size_t cut, size_t *len_r)
{
	size_t l = strlen(text), i = 0, n = 0;
	unsigned char *rd = malloc(l + l / (cut ? cut : 1) + 2);

	if (rd == NULL)
		exit(2);
	do {
		size_t k = l - i < cut ? l - i : cut;

		rd[n++] = (unsigned char)k;
		memcpy(rd + n, text + i, k);
		n += k;
		i += k;
	} while (i < l);
	*len_r = n;
	return rd;
}

/* test_rdata: records split into several strings, and broken rdata. */
static void
test_rdata(void)
{
	static const size_t cuts[] = { 255, 100, 17, 1 };
	char *txt = expand("v=DKIM1; k=rsa; p={A}"), *out = NULL, buf[16], why[256];
	unsigned char *rd, bad[] = { 5, 'v', '=', 'D' }, nul[] = { 4, 'p', '=', 0, 'A' };
	size_t i, len;

	long n;

	for (i = 0; i < sizeof(cuts) / sizeof(cuts[0]); i++) {
		rd = rdata(txt, cuts[i], &len);
		out = malloc(len + 1);
		n = out != NULL ? dns_txt_join(rd, len, out) : -1;
		if (n >= 0)
			out[n] = '\0';
		ok(n >= 0 && strcmp(out, txt) == 0 &&
		    keycheck_record(keys[KA], out, strlen(out), why, sizeof(why)) == KEYCHECK_MATCH,
		    "rdata row %zu: strings of %zu bytes joined", i, cuts[i]);
		free(out);
		out = NULL;
		free(rd);
	}
	out = buf;
	ok(dns_txt_join(bad, sizeof(bad), out) == -1, "rdata: a string past the end is refused");
	ok(dns_txt_join(nul, sizeof(nul), out) == -1,
	    "rdata: a NUL byte is refused, not read as a shorter record");
	ok(dns_txt_join((const unsigned char *)"", 0, out) == 0, "rdata: empty rdata is an empty record");
	free(txt);
}

/* What the fake lookup answers. */
struct fake {
	int rc;			/* -1: DNS error */
	const char *records[3];	/* templates, NULL-terminated */
	char name[300];		/* the name asked for */
};

/* fake_lookup: a keycheck_lookup answering from a struct fake. */
static int
fake_lookup(void *arg, const char *name, char ***txts_r, char *err, size_t errlen)
{
	struct fake *f = arg;
	size_t i;

	util_strlcpy(f->name, name, sizeof(f->name));
	*txts_r = NULL;
	if (f->rc == -1)
		return util_seterr(err, errlen, "no answer (server failure or timeout)");
	for (i = 0; f->records[i] != NULL; i++) {
		char *t = expand(f->records[i]);

		if (strv_push(txts_r, t) != 0)
			exit(2);
		free(t);
	}
	return 0;
}

static const struct {
	int key;
	struct fake fake;
	enum keycheck_result want;
	const char *line[3];	/* texts the line must hold */
} check_rows[] = {
	{ KA, { 0, { "v=DKIM1; k=rsa; p={A}", NULL }, "" }, KEYCHECK_MATCH,
	    { "library.example.edu selector alma2026 (rsa-sha256, 2048 bits): match: "
	      "the published key is this private key", NULL } },
	{ KE, { 0, { "v=DKIM1; k=ed25519; p={E}", NULL }, "" }, KEYCHECK_MATCH,
	    { "library.example.edu selector ed2026 (ed25519-sha256): match", NULL } },
	{ KA, { 0, { "v=DKIM1; k=rsa; p={B}", NULL }, "" }, KEYCHECK_MISMATCH,
	    { "MISMATCH: alma2026._domainkey.library.example.edu publishes a different RSA key",
	      "/etc/relaysign/keys/test.key", "publish: \"v=DKIM1; k=rsa; p={A}\"" } },
	{ KA, { 0, { NULL }, "" }, KEYCHECK_NO_RECORD,
	    { "no record at alma2026._domainkey.library.example.edu: publish",
	      "\"v=DKIM1; k=rsa; p={A}\"", NULL } },
	{ KE, { 0, { NULL }, "" }, KEYCHECK_NO_RECORD,
	    { "\"v=DKIM1; k=ed25519; p={E}\"", NULL } },
	{ KA, { 0, { "v=DKIM1; p={A}", "v=DKIM1; p={B}", NULL }, "" }, KEYCHECK_BAD_RECORD,
	    { "2 TXT records", NULL } },
	{ KA, { 0, { "v=DKIM1; p=", NULL }, "" }, KEYCHECK_BAD_RECORD,
	    { "BAD RECORD at alma2026._domainkey.library.example.edu: p= is empty", NULL } },
	{ KA, { -1, { NULL }, "" }, KEYCHECK_DNS_ERROR,
	    { "DNS error: looking up alma2026._domainkey.library.example.edu TXT", NULL } },
};

/* test_check: keycheck_check and its one-line report. */
static void
test_check(void)
{
	size_t i, j;

	for (i = 0; i < sizeof(check_rows) / sizeof(check_rows[0]); i++) {
		struct fake f = check_rows[i].fake;
		char *line = NULL;
		enum keycheck_result r;
		bool good;

		r = keycheck_check(keys[check_rows[i].key], fake_lookup, &f, &line);
		good = r == check_rows[i].want && line != NULL && strchr(line, '\n') == NULL;
		for (j = 0; good && j < 3 && check_rows[i].line[j] != NULL; j++) {
			char *want = expand(check_rows[i].line[j]);

			good = strstr(line, want) != NULL;
			free(want);
		}
		good = good && strcmp(f.name, check_rows[i].key == KA ?
		    "alma2026._domainkey.library.example.edu" :
		    "ed2026._domainkey.library.example.edu") == 0;
		ok(good, "check row %zu: %s: %s", i, keycheck_result_name(r),
		    line != NULL ? line : "(null)");
		free(line);
	}
}

/* run_keys: keytest_run over kt with one fake answer for every key. */
static int
run_keys(const struct keytable *kt, struct fake *f, char **out_r)
{
	size_t len;
	FILE *fp = open_memstream(out_r, &len);
	int rc;

	if (fp == NULL)
		exit(2);
	rc = keytest_run(kt, NULL, 0, fake_lookup, f, fp);
	fclose(fp);
	return rc;
}

/* copy_key: a second struct key for the same EVP_PKEY (the table owns its keys). */
static struct key *
copy_key(const struct key *k)
{
	struct key *c = calloc(1, sizeof(*c));

	if (c == NULL)
		exit(2);
	*c = *k;
	EVP_PKEY_up_ref(c->pkey);
	c->domain = strdup(k->domain);
	c->selector = strdup(k->selector);
	c->file = strdup(k->file);
	c->pem = NULL;
	return c;
}

/* test_run: the exit status and the summary of keytest_run. */
static void
test_run(void)
{
	struct keytable *kt = keytable_new(), *empty = keytable_new();
	struct fake match = { 0, { "v=DKIM1; p={A}", NULL }, "" };
	struct fake none = { 0, { NULL }, "" };
	struct fake dnserr = { -1, { NULL }, "" };
	char err[256], *out = NULL;
	int rc;

	if (kt == NULL || empty == NULL ||
	    keytable_add(kt, "library.example.edu", copy_key(keys[KA]), err, sizeof(err)) != 0) {
		diag("keytable: %s", err);
		exit(2);
	}
	rc = run_keys(kt, &match, &out);
	ok(rc == 0 && strstr(out, ": match: ") != NULL &&
	    strstr(out, "1 of 1 key matches its DNS record\n") != NULL,
	    "run: every key matches -> 0");
	free(out);
	rc = run_keys(kt, &none, &out);
	ok(rc == 1 && strstr(out, "no record at") != NULL &&
	    strstr(out, "1 of 1 key does not match") != NULL, "run: no record -> 1");
	free(out);
	rc = run_keys(kt, &dnserr, &out);
	ok(rc == 2 && strstr(out, "1 of 1 key could not be checked: DNS did not answer") != NULL &&
	    strstr(out, "not match") == NULL, "run: DNS error -> 2, not checked, not a mismatch");
	free(out);
	rc = run_keys(empty, &match, &out);
	ok(rc == 1 && strstr(out, "no keys configured") != NULL, "run: no keys -> 1");
	free(out);
	keytable_free(kt);
	keytable_free(empty);
}

int
main(void)
{
	size_t i;

	setup();
	test_records();
	test_rdata();
	test_check();
	test_run();
	ok(strcmp(keycheck_result_name(KEYCHECK_DNS_ERROR), "dns-error") == 0,
	    "keycheck_result_name");
	for (i = 0; i < NKEYS; i++) {
		key_free(keys[i]);
		free(pub_b64[i]);
	}
	free(a_pkcs1);
	free(e_spki);
	return tap_done();
}
