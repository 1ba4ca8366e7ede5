/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * t_align.c -- align_check, align_org_domain, align_new, table-driven,
 * against Debian's Public Suffix List (psl_latest).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "align.h"
#include "../tap.h"

#define R ALIGN_RELAXED
#define S ALIGN_STRICT
#define PASS ALIGN_PASS
#define FAIL ALIGN_FAIL
#define NONE ALIGN_NONE

/* Boundary sets the rows use: 0 none, 1 library.example.edu, 2 rit.edu. */
static char *b_library[] = {"library.example.edu", NULL};
static char *b_rit[] = {"RIT.EDU.", NULL};

static const struct {
	int set;
	enum align_mode mode;
	const char *from;
	const char *env;
	enum align_result want;
} check_rows[] = {
    /* relaxed: the same organizational domain, both ways */
    {0, R, "library.example.edu", "example.edu", PASS},
    {0, R, "example.edu", "library.example.edu", PASS},
    {0, R, "a.library.example.edu", "b.example.edu", PASS},
    {0, R, "library.example.edu", "exlibrisgroup.com", FAIL},
    {0, R, "example.edu", "example.edu.evil.test", FAIL},
    {0, R, "xample.edu", "example.edu", FAIL},
    {0, R, "example.co.uk", "mail.example.co.uk", PASS},
    {0, R, "example.co.uk", "other.co.uk", FAIL},
    /* a public suffix is its own organizational domain */
    {0, R, "co.uk", "co.uk", PASS},
    {0, R, "example.co.uk", "co.uk", FAIL},
    {0, R, "co.uk", "example.co.uk", FAIL},
    /* the PSL's private section */
    {0, R, "foo.blogspot.com", "bar.blogspot.com", FAIL},
    {0, R, "www.foo.blogspot.com", "foo.blogspot.com", PASS},
    {0, R, "a.user.github.io", "user.github.io", PASS},
    {0, R, "user1.github.io", "user2.github.io", FAIL},
    {0, R, "pages.git-pages.rit.edu", "rit.edu", FAIL},
    {0, R, "www.rit.edu", "rit.edu", PASS},
    /* case, trailing dots */
    {0, R, "LIBRARY.Example.EDU", "example.edu", PASS},
    {0, R, "library.example.edu.", "example.edu", PASS},
    {0, R, "library.example.edu", "EXAMPLE.EDU.", PASS},
    /* IDN: U-labels, A-labels, upper case */
    {0, R,
     "b\xc3\xbc"
     "cher.de",
     "xn--bcher-kva.de", PASS},
    {0, R,
     "www.b\xc3\xbc"
     "cher.de",
     "mail.xn--bcher-kva.de", PASS},
    {0, R,
     "B\xc3\x9c"
     "CHER.DE",
     "xn--bcher-kva.de", PASS},
    {0, R, "XN--BCHER-KVA.DE",
     "b\xc3\xbc"
     "cher.de.",
     PASS},
    {0, R, "\xd0\xbf\xd1\x80\xd0\xb8\xd0\xbc\xd0\xb5\xd1\x80.\xd1\x80\xd1\x84",
     "mail.xn--e1afmkfd.xn--p1ai", PASS},
    {0, R,
     "b\xc3\xbc"
     "cher.de",
     "bucher.de", FAIL},
    /* no envelope domain, no From domain */
    {0, R, "library.example.edu", "", NONE},
    {0, R, "library.example.edu", NULL, NONE},
    {0, R, "library.example.edu", "[192.0.2.1]", NONE},
    {0, S, "library.example.edu", NULL, NONE},
    {0, R, "", "example.edu", FAIL},
    {0, R, NULL, "example.edu", FAIL},
    {0, R, "exa mple.edu", "example.edu", FAIL},
    {0, R, "a..example.edu", "example.edu", FAIL},
    {0, R, ".example.edu", "example.edu", FAIL},
    {0, R, "b\xff.example.edu", "example.edu", FAIL},
    {0, R, "localhost", "localhost", PASS},
    /* strict: identical, never the organizational domains */
    {0, S, "library.example.edu", "library.example.edu", PASS},
    {0, S, "library.example.edu", "example.edu", FAIL},
    {0, S, "example.edu", "library.example.edu", FAIL},
    {0, S, "a.example.co.uk", "b.example.co.uk", FAIL},
    {0, S, "LIBRARY.example.edu.", "library.EXAMPLE.edu", PASS},
    {0, S,
     "b\xc3\xbc"
     "cher.de",
     "xn--bcher-kva.de", PASS},
    {0, S, "foo.blogspot.com", "foo.blogspot.com", PASS},
    {0, S, "co.uk", "co.uk", PASS},
    /* boundary library.example.edu: a separate organization */
    {1, R, "library.example.edu", "example.edu", FAIL},
    {1, R, "a.library.example.edu", "library.example.edu", PASS},
    {1, R, "a.library.example.edu", "b.library.example.edu", PASS},
    {1, R, "www.example.edu", "example.edu", PASS},
    {1, R, "a.library.example.edu", "www.example.edu", FAIL},
    {1, S, "library.example.edu", "library.example.edu", PASS},
    /* boundary rit.edu: takes back what the private section split off */
    {2, R, "pages.git-pages.rit.edu", "rit.edu", PASS},
    {2, R, "pages.git-pages.rit.edu", "other.git-pages.rit.edu", PASS},
    {2, R, "pages.git-pages.rit.edu", "example.edu", FAIL},
    {2, S, "pages.git-pages.rit.edu", "rit.edu", FAIL},
};

static const struct {
	int set;
	const char *domain;
	const char *want; /* NULL: no result */
} org_rows[] = {
    {0, "www.example.co.uk", "example.co.uk"},
    {0, "example.co.uk", "example.co.uk"},
    {0, "co.uk", "co.uk"},
    {0, "uk", "uk"},
    {0, "a.b.github.io", "b.github.io"},
    {0, "github.io", "github.io"},
    {0, "WWW.Example.COM.", "example.com"},
    {0,
     "b\xc3\xbc"
     "cher.de",
     "xn--bcher-kva.de"},
    {0, "x.git-pages.rit.edu", "x.git-pages.rit.edu"},
    {0, "a.b.c.d.example.edu", "example.edu"},
    {0, "", NULL},
    {0, NULL, NULL},
    {0, "a..b", NULL},
    {0, "[192.0.2.1]", NULL},
    {1, "x.library.example.edu", "library.example.edu"},
    {1, "library.example.edu", "library.example.edu"},
    {1, "example.edu", "example.edu"},
    {1, "xlibrary.example.edu", "example.edu"},
    {2, "x.git-pages.rit.edu", "rit.edu"},
};

static const struct {
	const char *in;
	const char *want;
} norm_rows[] = {
    {"Example.COM.", "example.com"},
    {"example.com..", NULL},
    {".", NULL},
    {"a", "a"},
    {"_dmarc.example.com", "_dmarc.example.com"},
    {"xn--bcher-kva.de", "xn--bcher-kva.de"},
    {"b\xc3\xbc"
     "cher.de",
     "xn--bcher-kva.de"},
    {"exa$mple.com", NULL},
    {"0123456789012345678901234567890123456789012345678901234567890123.com", NULL},
    {"012345678901234567890123456789012345678901234567890123456789012.com",
     "012345678901234567890123456789012345678901234567890123456789012.com"},
};

int
main(void)
{
	struct align *set[3];
	char err[256], buf[ALIGN_DOMAIN_MAX], small[8], path[] = "/tmp/t_align.XXXXXX";
	const char *got;
	size_t i;
	FILE *f;
	int fd;

	set[0] = align_new(NULL, NULL, err, sizeof(err));
	set[1] = align_new(NULL, b_library, err, sizeof(err));
	set[2] = align_new(NULL, b_rit, err, sizeof(err));
	if (!ok(set[0] != NULL && set[1] != NULL && set[2] != NULL, "align_new: %s",
	        set[2] != NULL ? "" : err))
		return tap_done();

	for (i = 0; i < sizeof(check_rows) / sizeof(check_rows[0]); i++) {
		enum align_result r = align_check(set[check_rows[i].set], check_rows[i].mode,
		                                  check_rows[i].from, check_rows[i].env);

		ok(r == check_rows[i].want, "check row %zu: %s %s vs %s (set %d): %s, want %s", i,
		   align_mode_name(check_rows[i].mode),
		   check_rows[i].from ? check_rows[i].from : "(null)",
		   check_rows[i].env ? check_rows[i].env : "(null)", check_rows[i].set,
		   align_result_name(r), align_result_name(check_rows[i].want));
	}
	for (i = 0; i < sizeof(org_rows) / sizeof(org_rows[0]); i++) {
		got = align_org_domain(set[org_rows[i].set], org_rows[i].domain, buf, sizeof(buf));
		ok(org_rows[i].want == NULL ? got == NULL
		                            : got == buf && strcmp(got, org_rows[i].want) == 0,
		   "org row %zu: %s -> %s", i, org_rows[i].domain ? org_rows[i].domain : "(null)",
		   got ? got : "(null)");
	}
	ok(align_org_domain(set[0], "www.example.co.uk", small, sizeof(small)) == NULL,
	   "org: a buffer too small gives NULL");
	for (i = 0; i < sizeof(norm_rows) / sizeof(norm_rows[0]); i++) {
		got = align_normalize(norm_rows[i].in, buf, sizeof(buf));
		ok(norm_rows[i].want == NULL ? got == NULL
		                             : got != NULL && strcmp(got, norm_rows[i].want) == 0,
		   "normalize row %zu: %s -> %s", i, norm_rows[i].in, got ? got : "(null)");
	}

	/* align_new's refusals */
	{
		static const struct {
			const char *boundary;
			const char *err;
		} rows[] = {
		    {"edu", "single label"},    {"co.uk", "public suffix"},
		    {"ac.uk", "public suffix"}, {"not a domain", "not a domain name"},
		    {"", "not a domain name"},
		};

		for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
			char *b[] = {(char *)rows[i].boundary, NULL};
			struct align *al = align_new(NULL, b, err, sizeof(err));

			ok(al == NULL && strstr(err, rows[i].err) != NULL,
			   "new row %zu: \"%s\": %s", i, rows[i].boundary, al ? "accepted" : err);
			align_free(al);
		}
	}
	{
		char *b[] = {"github.io", NULL};
		struct align *al = align_new(NULL, b, err, sizeof(err));

		ok(al != NULL && align_check(al, R, "a.github.io", "b.github.io") == PASS,
		   "new: a private-section suffix may be a boundary");
		align_free(al);
	}
	ok(align_new("/nonexistent/psl.dat", NULL, err, sizeof(err)) == NULL &&
	       strstr(err, "/nonexistent/psl.dat") != NULL,
	   "new: a missing PSL file is an error: %s", err);

	/* PublicSuffixList: a file of our own */
	if ((fd = mkstemp(path)) != -1 && (f = fdopen(fd, "w")) != NULL) {
		struct align *al;

		fputs("// test list\ntest\nexample.test\n", f);
		fclose(f);
		al = align_new(path, NULL, err, sizeof(err));
		ok(al != NULL &&
		       align_org_domain(al, "a.b.example.test", buf, sizeof(buf)) != NULL &&
		       strcmp(buf, "b.example.test") == 0,
		   "file: org domain of a.b.example.test is %s", al ? buf : err);
		ok(al != NULL && align_check(al, R, "a.example.test", "b.example.test") == FAIL &&
		       align_check(al, R, "x.a.example.test", "a.example.test") == PASS,
		   "file: alignment follows the loaded list");
		align_free(al);
		unlink(path);
	} else
		ok(0, "file: cannot write %s", path);

	ok(strcmp(align_result_name(ALIGN_PASS), "pass") == 0 &&
	       strcmp(align_result_name(ALIGN_FAIL), "fail") == 0 &&
	       strcmp(align_result_name(ALIGN_NONE), "none") == 0 &&
	       strcmp(align_mode_name(ALIGN_STRICT), "strict") == 0,
	   "names");
	align_free(NULL);
	for (i = 0; i < 3; i++)
		align_free(set[i]);
	return tap_done();
}
