/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * t_key.c -- lib/key.c and lib/keytable.c: loading keys, the KeyTable and
 * SigningTable parser, and lookups.  Keys are generated at test time with
 * OpenSSL and written to a mkdtemp(3) directory that is removed at the end.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "key.h"
#include "keytable.h"
#include "util.h"
#include "../tap.h"

static char dir[64];
static char *made[64];		/* files to remove at the end */
static size_t nmade;

/* path: DIR/name in a static rotating buffer. */
static const char *
path(const char *name)
{
	static char buf[8][256];
	static unsigned i;
	char *p = buf[i++ % 8];

	snprintf(p, sizeof(buf[0]), "%s/%s", dir, name);
	return p;
}

/* remember: notes a file or directory to remove at the end. */
static void
remember(const char *p)
{
	size_t i;

	for (i = 0; i < nmade; i++)
		if (strcmp(made[i], p) == 0)
			return;
	if (nmade < sizeof(made) / sizeof(made[0]))
		made[nmade++] = strdup(p);
}

/* write_file: writes len bytes of text to DIR/name with mode. */
static const char *
write_file(const char *name, const char *text, size_t len, mode_t mode)
{
	const char *p = path(name);
	FILE *f;

	(void)unlink(p);
	if ((f = fopen(p, "w")) == NULL) {
		diag("%s: %s", p, strerror(errno));
		exit(2);
	}
	if (len > 0 && fwrite(text, 1, len, f) != len)
		exit(2);
	fclose(f);
	if (chmod(p, mode) == -1)
		exit(2);
	remember(p);
	return p;
}

/* write_text: write_file of a NUL-terminated string. */
static const char *
write_text(const char *name, const char *text, mode_t mode)
{
	return write_file(name, text, strlen(text), mode);
}

/* write_key: writes pkey as PEM to DIR/name; traditional selects PKCS#1. */
static const char *
write_key(const char *name, EVP_PKEY *pkey, mode_t mode, bool traditional,
    const char *passphrase, const char *before)
{
	BIO *bio = BIO_new(BIO_s_mem());
	char *data;
	long len;
	const char *p;
	int r;

	if (before != NULL)
		BIO_puts(bio, before);
	if (passphrase != NULL)
		r = PEM_write_bio_PrivateKey(bio, pkey, EVP_aes_128_cbc(), NULL, 0, NULL,
		    (void *)passphrase);
	else if (traditional)
		r = PEM_write_bio_PrivateKey_traditional(bio, pkey, NULL, NULL, 0, NULL, NULL);
	else
		r = PEM_write_bio_PrivateKey(bio, pkey, NULL, NULL, 0, NULL, NULL);
	if (r != 1)
		exit(2);
	len = BIO_get_mem_data(bio, &data);
	p = write_file(name, data, (size_t)len, mode);
	BIO_free(bio);
	return p;
}

/* contains: true if s holds needle (or needle is NULL). */
static bool
contains(const char *s, const char *needle)
{
	return needle == NULL || strstr(s, needle) != NULL;
}

static EVP_PKEY *rsa2048, *rsa1024, *rsa512, *ed25519, *ecp256;

/* make_keys: generates every key the tests use. */
static void
make_keys(void)
{
	rsa2048 = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048);
	rsa1024 = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)1024);
	rsa512 = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)512);
	ed25519 = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
	ecp256 = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	if (rsa2048 == NULL || rsa1024 == NULL || rsa512 == NULL || ed25519 == NULL ||
	    ecp256 == NULL) {
		diag("key generation failed");
		exit(2);
	}
}

/* b64decode: decodes base64 text; returns the length or -1. */
static int
b64decode(const char *text, unsigned char *out, size_t outlen)
{
	size_t len = strlen(text);
	int n;

	if (len % 4 != 0 || len / 4 * 3 > outlen)
		return -1;
	if ((n = EVP_DecodeBlock(out, (const unsigned char *)text, (int)len)) < 0)
		return -1;
	/* EVP_DecodeBlock counts the padding as zero bytes. */
	if (len >= 1 && text[len - 1] == '=')
		n--;
	if (len >= 2 && text[len - 2] == '=')
		n--;
	return n;
}

/* test_key_load: key_load over every kind of file. */
static void
test_key_load(void)
{
	struct row {
		const char *file;	/* under DIR, or absolute */
		const char *domain, *selector;
		bool ok;
		enum key_alg alg;
		unsigned bits;
		const char *want;	/* substring of the error */
		bool names_file;	/* the error names the file */
	} rows[] = {
		{ "rsa2048.key", "library.example.edu", "rsa2026", true, KEY_ALG_RSA_SHA256, 2048, NULL, false },
		{ "rsa1024.key", "library.example.edu", "s", true, KEY_ALG_RSA_SHA256, 1024, NULL, false },
		{ "rsa512.key", "library.example.edu", "s", false, 0, 0, "512 bits", true },
		{ "ed.key", "library.example.edu", "ed2026", true, KEY_ALG_ED25519_SHA256, 256, NULL, false },
		{ "ec.key", "library.example.edu", "s", false, 0, 0, "EC key", true },
		{ "pkcs1.key", "library.example.edu", "s", true, KEY_ALG_RSA_SHA256, 2048, NULL, false },
		{ "bag.key", "library.example.edu", "s", true, KEY_ALG_RSA_SHA256, 2048, NULL, false },
		{ "link.key", "library.example.edu", "s", true, KEY_ALG_ED25519_SHA256, 256, NULL, false },
		{ "m0640.key", "library.example.edu", "s", false, 0, 0, "readable by group or others (mode 0640); chmod 600 it", true },
		{ "m0604.key", "library.example.edu", "s", false, 0, 0, "readable by group or others (mode 0604)", true },
		{ "m0620.key", "library.example.edu", "s", false, 0, 0, "writable or executable by group or others (mode 0620)", true },
		{ "m0644link.key", "library.example.edu", "s", false, 0, 0, "(mode 0644)", true },
		{ "missing.key", "library.example.edu", "s", false, 0, 0, "No such file", true },
		{ "subdir", "library.example.edu", "s", false, 0, 0, "not a regular file", true },
		{ "fifo.key", "library.example.edu", "s", false, 0, 0, "not a regular file", true },
		{ "empty.key", "library.example.edu", "s", false, 0, 0, "empty", true },
		{ "garbage.key", "library.example.edu", "s", false, 0, 0, "not a PEM private key", true },
		{ "big.key", "library.example.edu", "s", false, 0, 0, "larger than", true },
		{ "enc.key", "library.example.edu", "s", false, 0, 0, "encrypted", true },
		{ "rsa2048.key", "exa mple.edu", "s", false, 0, 0, "bad signing domain", true },
		{ "rsa2048.key", "example.edu", "s;t=y", false, 0, 0, "bad selector", true },
		{ "rsa2048.key", "example.edu", "", false, 0, 0, "bad selector", true },
		{ "rsa2048.key", "example.edu.", "s", false, 0, 0, "bad signing domain", true },
	};
	char *big, err[512] = "";
	size_t i;

	write_key("rsa2048.key", rsa2048, 0600, false, NULL, NULL);
	write_key("rsa1024.key", rsa1024, 0600, false, NULL, NULL);
	write_key("rsa512.key", rsa512, 0600, false, NULL, NULL);
	write_key("ed.key", ed25519, 0600, false, NULL, NULL);
	write_key("ec.key", ecp256, 0600, false, NULL, NULL);
	write_key("pkcs1.key", rsa2048, 0600, true, NULL, NULL);
	write_key("bag.key", rsa2048, 0600, false, NULL,
	    "Bag Attributes\n    friendlyName: campus\n");
	write_key("m0640.key", rsa2048, 0640, false, NULL, NULL);
	write_key("m0604.key", rsa2048, 0604, false, NULL, NULL);
	write_key("m0620.key", rsa2048, 0620, false, NULL, NULL);
	write_key("m0644.key", rsa2048, 0644, false, NULL, NULL);
	write_key("enc.key", rsa2048, 0600, false, "secret", NULL);
	(void)unlink(path("link.key"));
	if (symlink(path("ed.key"), path("link.key")) == -1 ||
	    symlink(path("m0644.key"), path("m0644link.key")) == -1)
		exit(2);
	remember(path("link.key"));
	remember(path("m0644link.key"));
	if (mkdir(path("subdir"), 0700) == -1 || mkfifo(path("fifo.key"), 0600) == -1)
		exit(2);
	remember(path("subdir"));
	remember(path("fifo.key"));
	write_text("empty.key", "", 0600);
	write_text("garbage.key", "-----BEGIN PRIVATE KEY-----\nnot base64 at all\n"
	    "-----END PRIVATE KEY-----\n", 0600);
	big = malloc(KEY_FILE_MAX + 1);
	memset(big, 'A', KEY_FILE_MAX + 1);
	write_file("big.key", big, KEY_FILE_MAX + 1, 0600);
	free(big);

	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		const struct row *r = &rows[i];
		const char *p = path(r->file);
		struct key *key = NULL;
		int ret;

		err[0] = '\0';
		ret = key_load(p, r->domain, r->selector, &key, err, sizeof(err));
		if (r->ok) {
			ok(ret == 0 && key != NULL && key->alg == r->alg && key->bits == r->bits &&
			    strcmp(key->domain, r->domain) == 0 &&
			    strcmp(key->selector, r->selector) == 0 && strcmp(key->file, p) == 0,
			    "key_load row %zu %s: loads (%s)", i, r->file, err);
			ok(key != NULL && key->pem != NULL && strlen((char *)key->pem) == key->pemlen &&
			    strncmp((char *)key->pem, "-----BEGIN PRIVATE KEY-----\n", 28) == 0 &&
			    key->pkey != NULL,
			    "key_load row %zu %s: PKCS#8 PEM for libopendkim", i, r->file);
		} else {
			ok(ret == -1 && key == NULL && contains(err, r->want) &&
			    (!r->names_file || contains(err, p)),
			    "key_load row %zu %s: refused: %s", i, r->file, err);
		}
		key_free(key);
	}
	key_free(NULL);
	ok(strcmp(key_alg_name(KEY_ALG_RSA_SHA256), "rsa-sha256") == 0 &&
	    strcmp(key_alg_name(KEY_ALG_ED25519_SHA256), "ed25519-sha256") == 0,
	    "key_alg_name");
}

/* test_public: key_public_b64 decodes back to the same public key. */
static void
test_public(void)
{
	struct key *key;
	unsigned char buf[1024];
	const unsigned char *q;
	EVP_PKEY *pub;
	char err[256] = "", *b;
	int n;

	if (key_load(path("rsa2048.key"), "example.edu", "s", &key, err, sizeof(err)) == -1) {
		ok(0, "public: rsa load: %s", err);
		return;
	}
	b = key_public_b64(key);
	n = b != NULL ? b64decode(b, buf, sizeof(buf)) : -1;
	q = buf;
	pub = n > 0 ? d2i_PUBKEY(NULL, &q, n) : NULL;
	ok(pub != NULL && q == buf + n && EVP_PKEY_eq(pub, key->pkey) == 1 &&
	    strchr(b, '\n') == NULL,
	    "public: RSA p= is the base64 DER SubjectPublicKeyInfo (%d bytes)", n);
	EVP_PKEY_free(pub);
	free(b);
	key_free(key);

	if (key_load(path("ed.key"), "example.edu", "s", &key, err, sizeof(err)) == -1) {
		ok(0, "public: ed25519 load: %s", err);
		return;
	}
	b = key_public_b64(key);
	n = b != NULL ? b64decode(b, buf, sizeof(buf)) : -1;
	pub = n == 32 ? EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL, buf, 32) : NULL;
	ok(pub != NULL && EVP_PKEY_eq(pub, key->pkey) == 1 && strlen(b) == 44,
	    "public: Ed25519 p= is the raw 32-byte key, RFC 8463 4 (%d bytes)", n);
	EVP_PKEY_free(pub);
	free(b);
	key_free(key);
}

/* keys_are: true if keys[0..n) have exactly these selectors, in order. */
static bool
keys_are(const struct key **keys, size_t n, const char *const *sels)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (sels[i] == NULL || strcmp(keys[i]->selector, sels[i]) != 0)
			return false;
	return sels[n] == NULL;
}

/* test_table_good: a KeyTable and SigningTable that load, and lookups. */
static void
test_table_good(void)
{
	char kt_text[2048], err[512] = "";
	const char *ktp, *stp, *ktp2, *stp2;
	struct keytable *kt = keytable_new();
	const struct key *keys[KEYTABLE_MAX_PER_DOMAIN];
	struct row {
		const char *domain;
		const char *sels[KEYTABLE_MAX_PER_DOMAIN + 1];
	} rows[] = {
		/* exact wins although the wildcard comes first in the file */
		{ "library.example.edu", { "rsa2026", "ed2026", NULL } },
		/* DNS names compare without case */
		{ "LIBRARY.Example.EDU", { "rsa2026", "ed2026", NULL } },
		/* subdomain of an exact domain: the wildcard */
		{ "sub.library.example.edu", { "wild", NULL } },
		/* first matching wildcard in file order, not the longest */
		{ "x.lib.example.edu", { "wild", NULL } },
		{ "a.b.c.example.edu", { "wild", NULL } },
		/* "*.example.edu" is subdomains only */
		{ "example.edu", { NULL } },
		{ "other.example.org", { "s1", NULL } },
		{ "OTHER.EXAMPLE.ORG", { "s1", NULL } },
		{ "library.example.edu.evil.test", { NULL } },
		{ "library-example.edu", { NULL } },
		{ "evilexample.edu", { NULL } },
		{ "example.edu.evil.test", { NULL } },
		{ "library.example.edu.", { NULL } },
		{ "edu", { NULL } },
		{ ".example.edu", { NULL } },
		{ "", { NULL } },
		{ "vendor.example.com", { NULL } },
	};
	size_t i, n;

	snprintf(kt_text, sizeof(kt_text),
	    "# relaysign KeyTable\n"
	    "lib-rsa   library.example.edu:rsa2026:%s\n"
	    "lib-ed\tLibrary.Example.EDU:ed2026:%s   # Ed25519, RFC 8463\n"
	    "\n"
	    "wild      example.edu:wild:%s\r\n"
	    "   \t\n"
	    "other     other.example.org:s1:%s\n"
	    "unused    nowhere.example:s:/nonexistent/key\n",
	    path("rsa2048.key"), path("ed.key"), path("rsa2048.key"), path("rsa1024.key"));
	ktp = write_text("good.kt", kt_text, 0644);
	stp = write_text("good.st",
	    "# SigningTable\n"
	    "*.example.edu          wild\n"
	    "*@library.example.edu  lib-rsa\n"
	    "LIBRARY.example.edu    lib-ed\n"
	    "*.lib.example.edu      other\n"
	    "Other.Example.ORG      other\n", 0644);
	ktp2 = path("good.kt");
	stp2 = path("good.st");
	{
		char a[300], b[300];

		snprintf(a, sizeof(a), "file:%s", ktp2);
		snprintf(b, sizeof(b), "refile:%s", stp2);
		ok(keytable_load_files(kt, a, b, err, sizeof(err)) == 0,
		    "table: good files load, file:/refile: prefixes (%s)", err);
	}
	(void)ktp;
	(void)stp;
	ok(keytable_nkeys(kt) == 4, "table: four distinct keys, the unused line not loaded (%zu)",
	    keytable_nkeys(kt));
	ok(keytable_key(kt, 0) != NULL && strcmp(keytable_key(kt, 0)->selector, "wild") == 0 &&
	    keytable_key(kt, 4) == NULL,
	    "table: keytable_key in load order");
	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		n = keytable_lookup(kt, rows[i].domain, keys, KEYTABLE_MAX_PER_DOMAIN);
		ok(keys_are(keys, n, rows[i].sels), "lookup row %zu \"%s\": %zu keys", i,
		    rows[i].domain, n);
	}
	n = keytable_lookup(kt, "library.example.edu", keys, KEYTABLE_MAX_PER_DOMAIN);
	ok(n == 2 && keys[0]->alg == KEY_ALG_RSA_SHA256 && keys[1]->alg == KEY_ALG_ED25519_SHA256 &&
	    strcmp(keys[1]->domain, "library.example.edu") == 0,
	    "lookup: RSA and Ed25519 for one domain, in file order, d= lowercased");
	n = keytable_lookup(kt, "library.example.edu", keys, 1);
	ok(n == 1 && strcmp(keys[0]->selector, "rsa2026") == 0, "lookup: max is respected");
	ok(keytable_lookup(kt, "library.example.edu", keys, 0) == 0, "lookup: max 0");
	keytable_free(kt);
	keytable_free(NULL);
}

/* test_lookalikes: an exact domain and its own wildcard against look-alikes. */
static void
test_lookalikes(void)
{
	struct keytable *kt = keytable_new();
	const struct key *keys[KEYTABLE_MAX_PER_DOMAIN];
	struct key *k1, *k2;
	char err[512] = "";
	struct row {
		const char *domain;
		const char *sel;	/* NULL: not signed */
	} rows[] = {
		{ "library.example.edu", "exact" },
		{ "a.library.example.edu", "sub" },
		{ "a.b.library.example.edu", "sub" },
		{ "xlibrary.example.edu", NULL },
		{ "library-example.edu", NULL },
		{ "library.example.edu.evil.test", NULL },
		{ "library.example.eduevil.test", NULL },
		{ "example.edu", NULL },
		{ "alibrary.example.edu", NULL },
	};
	size_t i, n;

	if (key_load(path("rsa2048.key"), "library.example.edu", "exact", &k1, err,
	    sizeof(err)) == -1 ||
	    key_load(path("ed.key"), "library.example.edu", "sub", &k2, err, sizeof(err)) == -1) {
		ok(0, "lookalikes: %s", err);
		return;
	}
	ok(keytable_add(kt, "*.Library.Example.edu", k2, err, sizeof(err)) == 0 &&
	    keytable_add(kt, "library.example.edu", k1, err, sizeof(err)) == 0,
	    "lookalikes: keytable_add (%s)", err);
	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		n = keytable_lookup(kt, rows[i].domain, keys, KEYTABLE_MAX_PER_DOMAIN);
		ok(rows[i].sel == NULL ? n == 0 :
		    n == 1 && strcmp(keys[0]->selector, rows[i].sel) == 0,
		    "lookalike row %zu \"%s\": %zu keys", i, rows[i].domain, n);
	}
	keytable_free(kt);
}

/* test_add: keytable_add, its ownership rule and its errors. */
static void
test_add(void)
{
	struct keytable *kt = keytable_new();
	const struct key *keys[KEYTABLE_MAX_PER_DOMAIN];
	struct key *k, *k2, *many[KEYTABLE_MAX_PER_DOMAIN + 1];
	char err[512] = "", sel[16];
	size_t i;

	if (key_load(path("ed.key"), "example.edu", "s", &k, err, sizeof(err)) == -1) {
		ok(0, "add: %s", err);
		return;
	}
	ok(keytable_add(kt, "example.edu", k, err, sizeof(err)) == 0 &&
	    keytable_add(kt, "*.example.edu", k, err, sizeof(err)) == 0 &&
	    keytable_nkeys(kt) == 1,
	    "add: one key for two patterns is one distinct key");
	ok(keytable_add(kt, "*@example.edu", k, err, sizeof(err)) == -1 &&
	    contains(err, "already has the key") && keytable_nkeys(kt) == 1,
	    "add: the same key twice for one pattern: %s", err);
	/* A new key with a bad pattern is freed by keytable_add (ASan checks). */
	if (key_load(path("ed.key"), "example.edu", "t", &k2, err, sizeof(err)) == 0)
		ok(keytable_add(kt, "*", k2, err, sizeof(err)) == -1 &&
		    contains(err, "every domain") && keytable_nkeys(kt) == 1,
		    "add: \"*\" refused, key taken over: %s", err);
	ok(keytable_add(kt, "example.edu", NULL, err, sizeof(err)) == -1, "add: NULL key");
	ok(keytable_lookup(kt, "www.example.edu", keys, KEYTABLE_MAX_PER_DOMAIN) == 1,
	    "add: wildcard entry works");
	keytable_free(kt);

	kt = keytable_new();
	for (i = 0; i <= KEYTABLE_MAX_PER_DOMAIN; i++) {
		snprintf(sel, sizeof(sel), "s%zu", i);
		if (key_load(path("ed.key"), "example.edu", sel, &many[i], err, sizeof(err)) == -1)
			exit(2);
	}
	for (i = 0; i < KEYTABLE_MAX_PER_DOMAIN; i++)
		if (keytable_add(kt, "example.edu", many[i], err, sizeof(err)) == -1)
			break;
	ok(i == KEYTABLE_MAX_PER_DOMAIN &&
	    keytable_add(kt, "example.edu", many[i], err, sizeof(err)) == -1 &&
	    contains(err, "more than 4 keys"),
	    "add: at most %d keys a pattern: %s", KEYTABLE_MAX_PER_DOMAIN, err);
	keytable_free(kt);
}

/* subst: copies in to out replacing @RSA@, @ED@ and @BAD@. */
static void
subst(char *out, size_t outlen, const char *in, const char *rsa, const char *ed,
    const char *bad)
{
	size_t n = 0;

	while (*in != '\0' && n + 1 < outlen) {
		const char *rep = NULL;
		size_t skip = 0;

		if (strncmp(in, "@RSA@", 5) == 0)
			rep = rsa, skip = 5;
		else if (strncmp(in, "@ED@", 4) == 0)
			rep = ed, skip = 4;
		else if (strncmp(in, "@BAD@", 5) == 0)
			rep = bad, skip = 5;
		if (rep != NULL) {
			n += util_strlcpy(out + n, rep, outlen - n);
			in += skip;
		} else
			out[n++] = *in++;
	}
	out[n < outlen ? n : outlen - 1] = '\0';
}

/* test_table_errors: every error path names file:line. */
static void
test_table_errors(void)
{
	static char longline[5000];
	char rsa[256], ed[256], bad[256];
	struct row {
		const char *kt, *st;	/* @RSA@: the RSA key, @ED@: Ed25519, @BAD@: mode 0644 */
		const char *where;	/* "kt:N" or "st:N" */
		const char *want;
	} rows[] = {
		{ "k example.edu:s:@RSA@\n", "example.edu k\nexample.org nokey\n", "st:2",
		    "key name \"nokey\" is not in" },
		{ "k example.edu:s:@RSA@\nj example.edu:t:@ED@\nk example.edu:u:@ED@\n",
		    "example.edu k\n", "kt:3", "already defined at line 1" },
		{ "k example.edu:s:@RSA@\n", "* k\n", "st:1", "every domain" },
		{ "k example.edu:s:@RSA@\n", "*@* k\n", "st:1", "every domain" },
		{ "k example.edu:s:@RSA@\n", "# x\n*.com k\n", "st:2", "top-level" },
		{ "k example.edu:s:@RSA@\n", "*.* k\n", "st:1", "'*' may only" },
		{ "k example.edu:s:@RSA@\n", "lib*.example.edu k\n", "st:1", "'*' may only" },
		{ "k example.edu:s:@RSA@\n", "*example.edu k\n", "st:1", "'*' may only" },
		{ "k example.edu:s:@RSA@\n", "example.* k\n", "st:1", "'*' may only" },
		{ "k example.edu:s:@RSA@\n", "*.*.example.edu k\n", "st:1", "'*' may only" },
		{ "k example.edu:s:@RSA@\n", "*. k\n", "st:1", "empty domain" },
		{ "k example.edu:s:@RSA@\n", "library@example.edu k\n", "st:1", "addresses" },
		{ "k example.edu:s:@RSA@\n", "example.edu. k\n", "st:1", "ends with a dot" },
		{ "k example.edu:s:@RSA@\n", "bücher.example k\n", "st:1", "A-label" },
		{ "k example.edu:s:@RSA@\n", "ex_ample.edu k\n", "st:1", "other than letters" },
		{ "k example.edu:s:@RSA@\n", "a..example.edu k\n", "st:1", "label that is empty" },
		{ "k example.edu:s:@RSA@\n", "example.edu\n", "st:1", "expected \"pattern keyname\"" },
		{ "k example.edu:s:@RSA@\n", "example.edu k extra\n", "st:1", "unexpected text" },
		{ "k %:s:@RSA@\n", "example.edu k\n", "kt:1", "\"%\" (the From domain)" },
		{ "k example.edu:s\n", "example.edu k\n", "kt:1", "domain:selector:/path" },
		{ "k example.edu\n", "example.edu k\n", "kt:1", "domain:selector:/path" },
		{ "k :s:@RSA@\n", "example.edu k\n", "kt:1", "domain:selector:/path" },
		{ "k example.edu::@RSA@\n", "example.edu k\n", "kt:1", "domain:selector:/path" },
		{ "k example.edu:s:\n", "example.edu k\n", "kt:1", "domain:selector:/path" },
		{ "\n\nk\n", "example.edu k\n", "kt:3", "expected \"name domain" },
		{ "k example.edu:s:@RSA@ more\n", "example.edu k\n", "kt:1", "unexpected text" },
		{ "k example.edu:s:keys/rsa.key\n", "example.edu k\n", "kt:1", "not absolute" },
		{ "k example.edu:s;x:@RSA@\n", "example.edu k\n", "kt:1", "bad selector" },
		{ "k exa$mple.edu:s:@RSA@\n", "example.edu k\n", "kt:1", "other than letters" },
		{ "a example.edu:s:@RSA@\nk example.edu:s:@BAD@\n", "example.edu a\nx.edu k\n", "kt:2",
		    "chmod 600 it" },
		{ "k example.edu:s:/nonexistent/rsa.key\n", "example.edu k\n", "kt:1",
		    "/nonexistent/rsa.key: No such file" },
		{ "k example.edu:s:@RSA@\n", "example.edu k\nexample.edu k\n", "st:2",
		    "already has the key" },
		{ "a example.edu:s:@RSA@\nb example.edu:s:@ED@\n", "example.edu a\nexample.edu b\n",
		    "st:2", "already has the key for selector \"s\"" },
		{ "a e.edu:a:@RSA@\nb e.edu:b:@RSA@\nc e.edu:c:@RSA@\nd e.edu:d:@RSA@\ne e.edu:e:@RSA@\n",
		    "e.edu a\ne.edu b\n*@e.edu c\ne.edu d\ne.edu e\n", "st:5", "more than 4 keys" },
		{ "k example.edu:s:@RSA@\n", "example.edu k\n  \t# comment\nexample.edu", "st:3",
		    "expected \"pattern keyname\"" },
	};
	char kt_text[8192], name[32], err[512], want[128];
	struct keytable *kt;
	size_t i;

	snprintf(rsa, sizeof(rsa), "%s", path("rsa2048.key"));
	snprintf(ed, sizeof(ed), "%s", path("ed.key"));
	snprintf(bad, sizeof(bad), "%s", path("m0644.key"));
	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		const char *ktp, *stp;
		int ret;

		subst(kt_text, sizeof(kt_text), rows[i].kt, rsa, ed, bad);
		ktp = write_text("err.kt", kt_text, 0644);
		stp = write_text("err.st", rows[i].st, 0644);
		snprintf(want, sizeof(want), "%s:%s: ",
		    path(rows[i].where[0] == 'k' ? "err.kt" : "err.st"), rows[i].where + 3);
		kt = keytable_new();
		err[0] = '\0';
		ret = keytable_load_files(kt, ktp, stp, err, sizeof(err));
		ok(ret == -1 && strncmp(err, want, strlen(want)) == 0 && contains(err, rows[i].want) &&
		    keytable_nkeys(kt) == 0,
		    "table error row %zu: %s", i, err);
		keytable_free(kt);
	}

	/* Overlong lines, in either file. */
	memset(longline, 'a', sizeof(longline) - 1);
	longline[sizeof(longline) - 1] = '\0';
	snprintf(kt_text, sizeof(kt_text), "k example.edu:s:%s\n", rsa);
	for (i = 0; i < 2; i++) {
		char *big = malloc(strlen(kt_text) + sizeof(longline) + 2);

		sprintf(big, "%s%s\n", i == 0 ? kt_text : "example.edu k\n", longline);
		if (i == 0) {
			write_text("long.kt", big, 0644);
			write_text("long.st", "example.edu k\n", 0644);
		} else {
			write_text("long.kt", kt_text, 0644);
			write_text("long.st", big, 0644);
		}
		free(big);
		snprintf(name, sizeof(name), "%s", i == 0 ? "long.kt" : "long.st");
		snprintf(want, sizeof(want), "%s:2: line longer than 4096 bytes", path(name));
		kt = keytable_new();
		ok(keytable_load_files(kt, path("long.kt"), path("long.st"), err, sizeof(err)) == -1 &&
		    strcmp(err, want) == 0, "table: overlong line in %s: %s", name, err);
		keytable_free(kt);
	}
	/* A line of exactly 4096 bytes is fine (it fails later, on its content). */
	memset(longline, 'a', 4096);
	longline[4096] = '\0';
	write_text("long.st", longline, 0644);
	kt = keytable_new();
	ok(keytable_load_files(kt, path("long.kt"), path("long.st"), err, sizeof(err)) == -1 &&
	    contains(err, "long.st:1: expected \"pattern"), "table: 4096-byte line is read: %s", err);
	keytable_free(kt);

	kt = keytable_new();
	ok(keytable_load_files(kt, path("nonexistent.kt"), path("long.st"), err, sizeof(err)) == -1 &&
	    contains(err, "nonexistent.kt: No such file"), "table: missing KeyTable: %s", err);
	ok(keytable_load_files(kt, path("long.kt"), path("subdir"), err, sizeof(err)) == -1 &&
	    contains(err, "subdir: not a regular file"), "table: SigningTable a directory: %s", err);
	keytable_free(kt);
}

/* Loader for keytable_load_text tests: counts calls, makes Ed25519 keys. */
static int
counting_loader(void *arg, const char *file, const char *domain, const char *selector,
    struct key **key_r, char *err, size_t errlen)
{
	(*(int *)arg)++;
	return key_load(file, domain, selector, key_r, err, errlen);
}

/* test_text: keytable_load_text, loading each key once, atomicity, NULs. */
static void
test_text(void)
{
	struct keytable *kt = keytable_new();
	const struct key *keys[KEYTABLE_MAX_PER_DOMAIN];
	char ktext[1024], err[512] = "";
	const char *st = "a.example.edu k\nb.example.edu k\n*.c.example.edu k\n"
	    "d.example.edu same\n";
	static const char st_nul[] = "z.example.edu k\nb.example.edu\0 k\n";
	int calls = 0, ret;

	snprintf(ktext, sizeof(ktext), "k example.edu:s:%s\nsame example.edu:s:%s\n",
	    path("ed.key"), path("ed.key"));
	ret = keytable_load_text(kt, "kt", ktext, strlen(ktext), "st", st, strlen(st),
	    counting_loader, &calls, err, sizeof(err));
	ok(ret == 0 && calls == 1 && keytable_nkeys(kt) == 1,
	    "text: a key used by four lines and two names is loaded once (%d)", calls);
	ok(keytable_lookup(kt, "x.c.example.edu", keys, 4) == 1 &&
	    keytable_lookup(kt, "d.example.edu", keys, 4) == 1, "text: lookups");
	/* Errors leave the table as it was. */
	calls = 0;
	ok(keytable_load_text(kt, "kt", ktext, strlen(ktext), "st", st_nul, sizeof(st_nul) - 1,
	    counting_loader, &calls, err, sizeof(err)) == -1 &&
	    strcmp(err, "st:2: NUL byte in line") == 0 && keytable_nkeys(kt) == 1 &&
	    keytable_lookup(kt, "a.example.edu", keys, 4) == 1,
	    "text: NUL byte refused, table unchanged: %s", err);
	/* Loading on top of entries merges, and the per-pattern rules span both. */
	calls = 0;
	ok(keytable_load_text(kt, "kt", ktext, strlen(ktext), "st", "a.example.edu k\n", 16,
	    counting_loader, &calls, err, sizeof(err)) == -1 &&
	    strncmp(err, "st:1: ", 6) == 0 && contains(err, "already has the key") &&
	    keytable_nkeys(kt) == 1,
	    "text: merge refuses a duplicate: %s", err);
	ok(keytable_load_text(kt, "kt", ktext, strlen(ktext), "st", "e.example.edu k\n", 16,
	    counting_loader, &calls, err, sizeof(err)) == 0 && keytable_nkeys(kt) == 2 &&
	    keytable_lookup(kt, "e.example.edu", keys, 4) == 1,
	    "text: merge adds (%s)", err);
	ok(keytable_load_text(kt, "kt", "", 0, "st", "", 0, counting_loader, &calls, err,
	    sizeof(err)) == 0 && keytable_nkeys(kt) == 2, "text: empty files");
	keytable_free(kt);
}

/* cleanup: removes the files and the directory. */
static void
cleanup(void)
{
	size_t i;

	for (i = nmade; i > 0; i--) {
		if (unlink(made[i - 1]) == -1)
			(void)rmdir(made[i - 1]);
		free(made[i - 1]);
	}
	(void)rmdir(dir);
}

int
main(void)
{
	snprintf(dir, sizeof(dir), "/tmp/t_key.XXXXXX");
	if (mkdtemp(dir) == NULL) {
		perror("mkdtemp");
		return 2;
	}
	make_keys();
	test_key_load();
	test_public();
	test_table_good();
	test_lookalikes();
	test_add();
	test_table_errors();
	test_text();
	cleanup();
	EVP_PKEY_free(rsa2048);
	EVP_PKEY_free(rsa1024);
	EVP_PKEY_free(rsa512);
	EVP_PKEY_free(ed25519);
	EVP_PKEY_free(ecp256);
	return tap_done();
}
