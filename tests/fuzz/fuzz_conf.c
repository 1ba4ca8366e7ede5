/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * fuzz_conf.c -- libFuzzer target for the relaysign.conf parser (conf_parse).
 *
 * The input is the file's text, handed over as an exactly-sized buffer (no
 * NUL terminator) so AddressSanitizer catches any read past the end.
 * conf_parse touches no file, so no key is loaded.
 *
 * Promises checked: an error reads "fuzz:N: reason" or "fuzz: reason" and
 * holds no control character (a hostile file cannot forge log lines); a
 * parsed configuration has every default applied, signs From, oversigns
 * only what it signs, and records lines the input has.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "conf.h"
#include "util.h"

/* check_err: "fuzz:N: reason" or "fuzz: reason", printable. */
static void
check_err(const char *err)
{
	const char *p = err + 5;

	if (strncmp(err, "fuzz:", 5) != 0)
		abort();
	if (*p >= '1' && *p <= '9') {
		while (*p >= '0' && *p <= '9')
			p++;
		if (*p++ != ':')
			abort();
	}
	if (p[0] != ' ' || p[1] == '\0')
		abort();
	for (p = err; *p != '\0'; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			abort();
}

/* check_lower: every string of v is non-empty and has no uppercase ASCII. */
static void
check_lower(char *const *v)
{
	const char *p;

	for (; v != NULL && *v != NULL; v++) {
		if (**v == '\0')
			abort();
		for (p = *v; *p != '\0'; p++)
			if (*p >= 'A' && *p <= 'Z')
				abort();
	}
}

/* check_conf: what conf.h promises of a parsed configuration. */
static void
check_conf(const struct conf *c, size_t nlines)
{
	size_t i, n;

	if (c->path == NULL || strcmp(c->path, "fuzz") != 0 || c->socket == NULL ||
	    c->authserv_id == NULL || c->authserv_id[0] == '\0' || c->relay_networks == NULL ||
	    c->sign.sign_headers == NULL || c->sign.oversign_headers == NULL ||
	    c->lines == NULL || c->rt.keys != NULL || c->rt.sign_lib != NULL)
		abort();
	if (c->sign_algs == 0 ||
	    (c->sign_algs & ~(unsigned)(KEY_ALG_RSA_SHA256 | KEY_ALG_ED25519_SHA256)) != 0)
		abort();
	if (!strv_contains(c->sign.sign_headers, "from"))
		abort();
	for (i = 0; c->sign.oversign_headers[i] != NULL; i++)
		if (!strv_contains(c->sign.sign_headers, c->sign.oversign_headers[i]))
			abort();
	check_lower(c->domains);
	check_lower(c->sign.sign_headers);
	check_lower(c->sign.oversign_headers);
	if (c->sign.expire > 315360000UL)
		abort();
	(void)conf_options(&n);
	for (i = 0; i < n; i++)
		if (c->lines[i] > nlines)
			abort();
}

/* LLVMFuzzerTestOneInput: one configuration file per input. */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct conf *conf = NULL;
	char err[1024];
	size_t i, nlines = 1;
	char *buf;

	/* A copy of exactly the right size: ASan sees any overread. */
	if ((buf = malloc(size ? size : 1)) == NULL)
		abort();
	memcpy(buf, data, size);
	for (i = 0; i < size; i++)
		nlines += buf[i] == '\n';

	err[0] = '\0';
	if (conf_parse("fuzz", buf, size, &conf, err, sizeof(err)) == -1) {
		if (conf != NULL)
			abort();
		check_err(err);
	} else {
		if (conf == NULL)
			abort();
		check_conf(conf, nlines);
	}
	conf_free(conf);
	free(buf);
	return 0;
}
