/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * fuzz_from.c -- libFuzzer target for from_parse().
 *
 * The fuzzer's buffer is exactly size octets, so AddressSanitizer catches
 * any read past len.  Beyond not crashing, the parser's promises are
 * checked: a status in range, a NUL-terminated short reason, and on
 * FROM_OK a non-empty lowercase LDH domain without a trailing dot.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "from.h"

/* check_ok: the domain and address promised by from.h for FROM_OK. */
static void
check_ok(const struct from_addr *a)
{
	size_t i, len = strnlen(a->domain, sizeof(a->domain));

	if (len == 0 || len > 253 || a->domain[len - 1] == '.')
		abort();
	for (i = 0; i < len; i++) {
		char c = a->domain[i];

		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.'))
			abort();
	}
	if (strnlen(a->addr, sizeof(a->addr)) >= sizeof(a->addr) || strchr(a->addr, '@') == NULL)
		abort();
}

/* LLVMFuzzerTestOneInput: one From field body per input. */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct from_addr a;
	char why[64];
	enum from_status st;

	memset(why, 'X', sizeof(why));
	st = from_parse((const char *)data, size, &a, why, sizeof(why));
	if (st < FROM_OK || st > FROM_TOO_LONG)
		abort();
	if (strnlen(why, sizeof(why)) >= sizeof(why))
		abort();
	if (st == FROM_OK)
		check_ok(&a);
	else if (why[0] == '\0' || a.addr[0] != '\0' || a.domain[0] != '\0')
		abort();
	return 0;
}
