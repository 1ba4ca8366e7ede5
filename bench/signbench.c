/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * signbench.c -- CPU per signed message of lib/sign.c, the key decoded per
 * message by libopendkim (what OpenDKIM does) beside the key decoded once.
 *
 * signbench [-n messages] [-r rounds] [-a rsa|ed25519|both] [-m old|new|both]
 *
 * Each round signs n messages (2 KB: 7 header fields, 2 KB body) with
 * each selected algorithm and path, in one process, interleaved, and
 * prints the CPU time (CLOCK_PROCESS_CPUTIME_ID) per message; the summary
 * is the median over the rounds.  The first and last signature of every
 * run are verified with libopendkim, so a fast wrong answer cannot pass.
 * For instruction counts without noise, run one configuration under
 * valgrind --tool=callgrind --toggle-collect=run_loop and divide by n
 * (valgrind's CPU lacks some features OpenSSL's bignum code uses natively,
 * so RSA counts more instructions than it runs; compare ratios).
 *
 * Build without sanitizers for timing: configure without
 * --enable-sanitizers, then make bench/signbench.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <opendkim/dkim.h>

#include "key.h"
#include "sign.h"

#define DOMAIN "library.example.edu"
#define MAX_ROUNDS 51

struct field {
	const char *name, *value;
};

static const struct field hdrs[] = {
	{ "From", " Library <library@library.example.edu>" },
	{ "To", " patron@example.net" },
	{ "Subject", " Your loan is due soon" },
	{ "Date", " Mon, 2 Mar 2026 10:00:00 +0000" },
	{ "Message-ID", " <1@library.example.edu>" },
	{ "MIME-Version", " 1.0" },
	{ "Content-Type", " text/plain; charset=utf-8" },
	{ NULL, NULL }
};

static char body[2048 + 1];
static size_t bodylen;
static char dir[64], dns_file[128];
static DKIM_LIB *vlib;

/* die: prints why and exits. */
__attribute__((noreturn)) static void
die(const char *why, const char *err)
{
	fprintf(stderr, "signbench: %s%s%s\n", why, err != NULL ? ": " : "", err != NULL ? err : "");
	exit(1);
}

/* make_key: generates a key of type, writes it mode 0600, loads it. */
static struct key *
make_key(const char *type, const char *selector)
{
	char file[192], err[256];
	EVP_PKEY *pkey = strcmp(type, "RSA") == 0 ? EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048)
	    : EVP_PKEY_Q_keygen(NULL, NULL, type);
	struct key *k;
	FILE *f;

	snprintf(file, sizeof(file), "%s/%s.key", dir, selector);
	if (pkey == NULL || (f = fopen(file, "w")) == NULL)
		die("cannot make a key", type);
	if (PEM_write_PrivateKey(f, pkey, NULL, NULL, 0, NULL, NULL) != 1)
		die("cannot write a key", file);
	fclose(f);
	EVP_PKEY_free(pkey);
	if (chmod(file, 0600) == -1 || key_load(file, DOMAIN, selector, &k, err, sizeof(err)) == -1)
		die("key_load", err);
	(void)unlink(file);
	return k;
}

/* sign_one: signs the message with key; returns the signer after eom. */
static struct signer *
sign_one(const struct sign_lib *sl, const struct key *key)
{
	struct signer *sg;
	char err[512];
	size_t i;

	if ((sg = signer_new(sl, &key, 1, "B1", err, sizeof(err))) == NULL)
		die("signer_new", err);
	for (i = 0; hdrs[i].name != NULL; i++)
		if (signer_header(sg, hdrs[i].name, hdrs[i].value, err, sizeof(err)) == -1)
			die("signer_header", err);
	if (signer_eoh(sg, err, sizeof(err)) == -1 ||
	    signer_body(sg, (const unsigned char *)body, bodylen, err, sizeof(err)) == -1 ||
	    signer_eom(sg, err, sizeof(err)) == -1)
		die("signing", err);
	return sg;
}

/* verified: true if libopendkim verifies value on the message. */
static bool
verified(const char *value)
{
	DKIM_SIGINFO **sigs;
	DKIM_STAT st;
	DKIM *v;
	char *line;
	int nsigs = 0, pass = 0, i;

	if ((v = dkim_verify(vlib, (const unsigned char *)"verify", NULL, &st)) == NULL)
		die("dkim_verify", NULL);
	if (asprintf(&line, "DKIM-Signature: %s", value) == -1)
		die("out of memory", NULL);
	/* The milter folds with LF; the wire has CRLF. */
	{
		char *wire = malloc(2 * strlen(line) + 1), *q = wire, *p;

		for (p = line; *p != '\0'; p++) {
			if (*p == '\n')
				*q++ = '\r';
			*q++ = *p;
		}
		*q = '\0';
		(void)dkim_header(v, (unsigned char *)wire, strlen(wire));
		free(wire);
	}
	free(line);
	for (i = 0; hdrs[i].name != NULL; i++) {
		if (asprintf(&line, "%s:%s", hdrs[i].name, hdrs[i].value) == -1)
			die("out of memory", NULL);
		(void)dkim_header(v, (unsigned char *)line, strlen(line));
		free(line);
	}
	(void)dkim_eoh(v);
	(void)dkim_body(v, (unsigned char *)body, bodylen);
	(void)dkim_eom(v, NULL);
	if (dkim_getsiglist(v, &sigs, &nsigs) == DKIM_STAT_OK)
		for (i = 0; i < nsigs; i++)
			if (dkim_sig_geterror(sigs[i]) == DKIM_SIGERROR_OK && DKIM_SIG_CHECK(sigs[i]))
				pass++;
	dkim_free(v);
	return nsigs == 1 && pass == 1;
}

/* run_loop: signs n messages; named for callgrind's --toggle-collect. */
__attribute__((noinline)) void run_loop(const struct sign_lib *sl, const struct key *key,
    unsigned n);

void
run_loop(const struct sign_lib *sl, const struct key *key, unsigned n)
{
	unsigned i;

	for (i = 0; i < n; i++)
		signer_free(sign_one(sl, key));
}

/* cpu_us: process CPU time in microseconds. */
static double
cpu_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

/* run: one warm-up and one verified message, n timed, one verified; µs/message. */
static double
run(const struct sign_lib *sl, const struct key *key, unsigned n)
{
	struct signer *sg;
	double t0, t1;

	sg = sign_one(sl, key);
	if (!verified(signer_value(sg, 0)))
		die("a signature does not verify", key->selector);
	signer_free(sg);
	t0 = cpu_us();
	run_loop(sl, key, n);
	t1 = cpu_us();
	sg = sign_one(sl, key);
	if (!verified(signer_value(sg, 0)))
		die("a signature does not verify", key->selector);
	signer_free(sg);
	return (t1 - t0) / n;
}

/* cmp_double: for qsort. */
static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

int
main(int argc, char **argv)
{
	static char *const sign_headers[] = { "from", "to", "subject", "date", "message-id",
		"mime-version", "content-type", NULL };
	struct sign_params params = { sign_headers, NULL, SIGN_CANON_RELAXED,
		SIGN_CANON_RELAXED, 0, false };
	static const char line[] =
	    "Dear patron, the item you borrowed is due back at the library soon.  \r\n";
	const char *alg = "both", *mode = "both";
	struct sign_lib *sl_old, *sl_new;
	struct key *rsa, *ed;
	dkim_query_t qm = DKIM_QUERY_FILE;
	double t[4][MAX_ROUNDS];
	unsigned n = 500, rounds = 5, r, c;
	size_t hdrlen;
	char err[512], *p;
	FILE *f;
	int ch;

	while ((ch = getopt(argc, argv, "a:m:n:r:")) != -1)
		switch (ch) {
		case 'a':
			alg = optarg;
			break;
		case 'm':
			mode = optarg;
			break;
		case 'n':
			n = (unsigned)strtoul(optarg, NULL, 10);
			break;
		case 'r':
			rounds = (unsigned)strtoul(optarg, NULL, 10);
			break;
		default:
			fprintf(stderr, "usage: signbench [-n messages] [-r rounds] "
			    "[-a rsa|ed25519|both] [-m old|new|both]\n");
			return 2;
		}
	if (n == 0 || rounds == 0 || rounds > MAX_ROUNDS)
		die("-n must be positive, -r from 1 to 51", NULL);

	/* A 2 KB body of 71-byte lines. */
	for (p = body; (size_t)(p - body) + sizeof(line) - 1 <= sizeof(body) - 1;
	    p += sizeof(line) - 1)
		memcpy(p, line, sizeof(line) - 1);
	*p = '\0';
	bodylen = (size_t)(p - body);

	snprintf(dir, sizeof(dir), "/tmp/signbench.XXXXXX");
	if (mkdtemp(dir) == NULL)
		die("mkdtemp", NULL);
	rsa = make_key("RSA", "rsa");
	ed = make_key("ED25519", "ed");
	snprintf(dns_file, sizeof(dns_file), "%s/keys.txt", dir);
	if ((f = fopen(dns_file, "w")) == NULL)
		die("cannot write", dns_file);
	p = key_public_b64(rsa);
	fprintf(f, "rsa._domainkey." DOMAIN "\tv=DKIM1; k=rsa; p=%s\n", p);
	free(p);
	p = key_public_b64(ed);
	fprintf(f, "ed._domainkey." DOMAIN "\tv=DKIM1; k=ed25519; p=%s\n", p);
	free(p);
	fclose(f);
	if ((vlib = dkim_init(NULL, NULL)) == NULL ||
	    dkim_options(vlib, DKIM_OP_SETOPT, DKIM_OPTS_QUERYMETHOD, &qm, sizeof(qm)) !=
	    DKIM_STAT_OK ||
	    dkim_options(vlib, DKIM_OP_SETOPT, DKIM_OPTS_QUERYINFO, dns_file, strlen(dns_file)) !=
	    DKIM_STAT_OK)
		die("libopendkim verifier", NULL);

	params.decode_per_message = true;
	if ((sl_old = sign_lib_new(&params, err, sizeof(err))) == NULL)
		die("sign_lib_new", err);
	params.decode_per_message = false;
	if ((sl_new = sign_lib_new(&params, err, sizeof(err))) == NULL)
		die("sign_lib_new", err);
	for (c = 0, hdrlen = 0; hdrs[c].name != NULL; c++)
		hdrlen += strlen(hdrs[c].name) + 1 + strlen(hdrs[c].value) + 2;
	printf("# %u messages of %zu header bytes + %zu body bytes a run, %u rounds\n", n,
	    hdrlen, bodylen, rounds);
	printf("# old path: %s\n# new path: %s\n", sign_lib_keyuse(sl_old), sign_lib_keyuse(sl_new));

	/* Configurations: 0 RSA old, 1 RSA new, 2 Ed25519 old, 3 Ed25519 new. */
	for (r = 0; r < rounds; r++)
		for (c = 0; c < 4; c++) {
			bool want_alg = strcmp(alg, "both") == 0 ||
			    strcmp(alg, c < 2 ? "rsa" : "ed25519") == 0;
			bool want_mode = strcmp(mode, "both") == 0 ||
			    strcmp(mode, c % 2 == 0 ? "old" : "new") == 0;

			t[c][r] = 0;
			if (want_alg && want_mode)
				t[c][r] = run(c % 2 == 0 ? sl_old : sl_new, c < 2 ? rsa : ed, n);
		}
	for (c = 0; c < 4; c++) {
		const char *name[] = { "rsa-sha256 old (decode per message)",
			"rsa-sha256 new (decoded once)", "ed25519-sha256 old (decode per message)",
			"ed25519-sha256 new (decoded once)" };

		if (t[c][0] == 0)
			continue;
		printf("%-42s", name[c]);
		for (r = 0; r < rounds; r++)
			printf(" %7.1f", t[c][r]);
		qsort(t[c], rounds, sizeof(double), cmp_double);
		printf("   median %7.1f us/message\n", t[c][rounds / 2]);
	}
	sign_lib_free(sl_old);
	sign_lib_free(sl_new);
	dkim_close(vlib);
	key_free(rsa);
	key_free(ed);
	(void)unlink(dns_file);
	(void)rmdir(dir);
	return 0;
}
