/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * fuzz_keytable.c -- libFuzzer target for the KeyTable/SigningTable parser
 * (keytable_load_text) and keytable_lookup.
 *
 * Input: the KeyTable text, the line "%%", then the SigningTable text; with
 * no such line the whole input is used for both.  Both are handed over as
 * exactly-sized buffers (no NUL terminator) so AddressSanitizer catches any
 * read past the end.  Keys come from a fake loader that reads no file: it
 * fails for paths containing "fail" and otherwise makes a key record with
 * no key material, which keytable.c never looks into.
 *
 * Promises checked: errors read "kt:N: reason" or "st:N: reason", and a
 * failed load leaves the table unchanged; lookups return at most max keys,
 * each with a lowercase LDH d= and a selector, for domains derived from the
 * loaded keys.
 */
#include <ctype.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "keytable.h"

/* fake_load: a keytable_loader that touches no file. */
static int
fake_load(void *arg, const char *file, const char *domain, const char *selector,
    struct key **key_r, char *err, size_t errlen)
{
	struct key *k;

	(*(size_t *)arg)++;
	if (strstr(file, "fail") != NULL) {
		snprintf(err, errlen, "%s: fake failure", file);
		return -1;
	}
	if ((k = calloc(1, sizeof(*k))) == NULL)
		abort();
	k->domain = strdup(domain);
	k->selector = strdup(selector);
	k->file = strdup(file);
	if (k->domain == NULL || k->selector == NULL || k->file == NULL)
		abort();
	k->alg = strstr(file, "ed") != NULL ? KEY_ALG_ED25519_SHA256 : KEY_ALG_RSA_SHA256;
	k->bits = k->alg == KEY_ALG_RSA_SHA256 ? 2048 : 256;
	*key_r = k;
	return 0;
}

/* check_err: the error reads "kt:N: ..." or "st:N: ...". */
static void
check_err(const char *err)
{
	const char *p = err + 3;

	if (strncmp(err, "kt:", 3) != 0 && strncmp(err, "st:", 3) != 0)
		abort();
	if (!isdigit((unsigned char)*p))
		abort();
	while (isdigit((unsigned char)*p))
		p++;
	if (strncmp(p, ": ", 2) != 0 || p[2] == '\0')
		abort();
}

/* check_lookup: lookup of domain keeps keytable.h's promises. */
static void
check_lookup(const struct keytable *kt, const char *domain)
{
	const struct key *keys[KEYTABLE_MAX_PER_DOMAIN + 1];
	size_t i, n;
	const char *p;

	keys[KEYTABLE_MAX_PER_DOMAIN] = NULL;
	n = keytable_lookup(kt, domain, keys, KEYTABLE_MAX_PER_DOMAIN);
	if (n > KEYTABLE_MAX_PER_DOMAIN || keys[KEYTABLE_MAX_PER_DOMAIN] != NULL)
		abort();
	for (i = 0; i < n; i++) {
		if (keys[i] == NULL || keys[i]->selector[0] == '\0' || keys[i]->domain[0] == '\0')
			abort();
		for (p = keys[i]->domain; *p != '\0'; p++)
			if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '-' ||
			    *p == '.'))
				abort();
	}
	if (n > 0 && keytable_lookup(kt, domain, keys, 1) != 1)
		abort();
}

/* LLVMFuzzerTestOneInput: one KeyTable and SigningTable per input. */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const probes[] = {
		"library.example.edu", "a.library.example.edu", "example.edu", "edu",
		"com", "", ".", "a..b", "x.example.com", "LIBRARY.EXAMPLE.EDU",
	};
	const char *text = (const char *)data, *sep = NULL;
	char *kt_buf, *st_buf, err[256], probe[300];
	size_t kt_len = size, st_len = size, i, calls = 0, before;
	struct keytable *kt;

	for (i = 0; i + 4 <= size; i++)
		if (memcmp(text + i, "\n%%\n", 4) == 0) {
			sep = text + i;
			break;
		}
	if (sep != NULL) {
		kt_len = (size_t)(sep - text) + 1;
		st_len = size - kt_len - 3;
	}
	/* Copies of exactly the right size: ASan sees any overread. */
	kt_buf = malloc(kt_len ? kt_len : 1);
	st_buf = malloc(st_len ? st_len : 1);
	if (kt_buf == NULL || st_buf == NULL)
		abort();
	memcpy(kt_buf, text, kt_len);
	memcpy(st_buf, sep != NULL ? sep + 4 : text, st_len);

	if ((kt = keytable_new()) == NULL)
		abort();
	err[0] = '\0';
	if (keytable_load_text(kt, "kt", kt_buf, kt_len, "st", st_buf, st_len, fake_load,
	    &calls, err, sizeof(err)) == -1) {
		check_err(err);
		if (keytable_nkeys(kt) != 0)
			abort();
	} else {
		if (keytable_nkeys(kt) > calls)
			abort();
		/* Loading again merges into a filled table, or fails leaving it. */
		before = keytable_nkeys(kt);
		if (keytable_load_text(kt, "kt", kt_buf, kt_len, "st", st_buf, st_len,
		    fake_load, &calls, err, sizeof(err)) == -1) {
			check_err(err);
			if (keytable_nkeys(kt) != before)
				abort();
		}
	}

	for (i = 0; i < sizeof(probes) / sizeof(probes[0]); i++)
		check_lookup(kt, probes[i]);
	for (i = 0; i < keytable_nkeys(kt) && i < 16; i++) {
		const struct key *k = keytable_key(kt, i);

		if (k == NULL)
			abort();
		check_lookup(kt, k->domain);
		snprintf(probe, sizeof(probe), "a.%s", k->domain);
		check_lookup(kt, probe);
		snprintf(probe, sizeof(probe), "%s.evil.test", k->domain);
		check_lookup(kt, probe);
	}
	if (keytable_key(kt, keytable_nkeys(kt)) != NULL)
		abort();

	keytable_free(kt);
	free(kt_buf);
	free(st_buf);
	return 0;
}
