/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * fuzz_authres.c -- libFuzzer target for lib/authres.c.
 *
 * The input is an Authentication-Results field body from anyone on the
 * Internet; authres_is_ours must read it within len and never crash.  The
 * same bytes then play a hostile SMTP AUTH login, HELO and authserv-id:
 * what authres_format writes must stay 7-bit, folded with LF TAB only,
 * within 998 characters a line, and recognisable as ours.
 *
 *   clang -g -fsanitize=fuzzer,address,undefined -Ilib lib/util.c \
 *       lib/policy.c lib/authres.c tests/fuzz/fuzz_authres.c -o fuzz_authres
 *   ./fuzz_authres -max_total_time=60 corpus-copy/
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "authres.h"

#define ID "mail.example.edu"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* check_field: aborts unless s keeps the promises of authres_format. */
static void
check_field(const char *s, const char *id)
{
	size_t col = sizeof("Authentication-Results: ") - 1;
	const char *p;

	for (p = s; *p != '\0'; p++) {
		unsigned char c = (unsigned char)*p;

		if (c == '\n') {
			if (p[1] != '\t')
				abort();
			col = 0;
			continue;
		}
		if (c == '\r' || (c < 0x20 && c != '\t') || c > 0x7e)
			abort();
		if (++col > 998)
			abort();
	}
	if (!authres_is_ours(s, strlen(s), id))
		abort();
}

/* printable: true if s has only bytes authres_format writes unchanged in a quoted-string. */
static bool
printable(const char *s)
{
	for (; *s != '\0'; s++)
		if ((unsigned char)*s < 0x20 || (unsigned char)*s > 0x7e)
			return false;
	return true;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct authres_sig sig = {"library.example.edu", "s1", KEY_ALG_RSA_SHA256};
	char out[AUTHRES_MAX];
	struct authres_facts f;
	char *s;

	(void)authres_is_ours((const char *)data, size, ID);
	(void)authres_is_ours((const char *)data, size, "Relay \"One\"");

	if ((s = malloc(size + 1)) == NULL)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';

	memset(&f, 0, sizeof(f));
	f.authserv_id = ID;
	f.trust = POLICY_TRUST_AUTH;
	f.auth_user = s;
	f.spf = POLICY_SPF_SOFTFAIL;
	f.spf_helo = s;
	f.from_domain = s;
	f.decision.action = POLICY_SIGN;
	f.sigs = &sig;
	f.nsigs = 1;
	if (authres_format(&f, out, sizeof(out)) == 0)
		check_field(out, ID);

	/* The bytes as our own authserv-id: written so we read it back. */
	if (*s != '\0' && printable(s)) {
		f.authserv_id = s;
		f.auth_user = "alma";
		f.spf_helo = NULL;
		f.from_domain = NULL;
		if (authres_format(&f, out, sizeof(out)) == 0)
			check_field(out, s);
	}
	free(s);
	return 0;
}
