/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * tap.h -- the smallest TAP producer that serves: plan, ok, diagnostics.
 * Table-driven tests pass the row index in the description so a failure
 * names the row.
 */
#ifndef RELAYSIGN_TAP_H
#define RELAYSIGN_TAP_H

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

static int tap_n, tap_failed;

__attribute__((unused)) static void
tap_plan(int n)
{
	printf("1..%d\n", n);
}

__attribute__((format(printf, 2, 3))) static int
ok(int cond, const char *fmt, ...)
{
	va_list ap;

	printf("%sok %d - ", cond ? "" : "not ", ++tap_n);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	if (!cond)
		tap_failed++;
	return cond;
}

__attribute__((format(printf, 1, 2), unused)) static void
diag(const char *fmt, ...)
{
	va_list ap;

	printf("# ");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
}

/* tap_done: prints the plan when none was given, returns the exit status. */
__attribute__((unused)) static int
tap_done(void)
{
	printf("1..%d\n", tap_n);
	fflush(stdout);
	return tap_failed ? 1 : 0;
}

#endif
