/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * t_authres.c -- authres_is_ours and authres_format, table-driven.
 */
#include <string.h>

#include "authres.h"
#include "../tap.h"

#define ID "mail.example.edu"
/* A string literal and its length, NULs inside included. */
#define S(s) s, sizeof(s) - 1

static const struct {
	const char *value;
	size_t len;
	const char *id;
	int ours;
} ours_rows[] = {
    {S(ID "; spf=pass smtp.mailfrom=example.com"), ID, 1},
    {S("  " ID " ; spf=pass"), ID, 1},
    {S("\t" ID ";"), ID, 1},
    {S("(c) " ID "; spf=pass"), ID, 1},
    {S("(nested (comment) \\) here) " ID "; none"), ID, 1},
    {S("\"" ID "\"; spf=pass"), ID, 1},
    {S("\"mail.ex\\ample.edu\"; spf=pass"), ID, 1},
    {S(ID " 1; spf=pass"), ID, 1},
    {S(ID " (v) 1 (c) ; spf=pass"), ID, 1},
    {S("MAIL.Example.EDU; spf=pass"), ID, 1},
    {S(ID ".evil; spf=pass"), ID, 0},
    {S("x" ID "; spf=pass"), ID, 0},
    {S(""), ID, 0},
    {S("(only a comment)"), ID, 0},
    {S("(unbalanced " ID "; spf=pass"), ID, 0},
    {S(ID "\0; spf=pass"), ID, 1}, /* a C reader stops at the NUL */
    {S("mail.exa\0mple.edu; spf=pass"), ID, 0},
    {S("\r\n " ID ";\r\n\tspf=pass"), ID, 1},
    {S(ID "\n\t; spf=pass"), ID, 1},
    {S(ID), ID, 1}, /* bare authserv-id: ours (see authres.c) */
    {S(ID "   "), ID, 1},
    {S(ID " 1"), ID, 1},
    {S(ID " spf=pass"), ID, 1}, /* no ';': a lenient reader still trusts it */
    {S(ID "1; spf=pass"), ID, 0},
    {S("\"" ID "\"1; spf=pass"), ID, 1},
    {S("\"" ID "; spf=pass"), ID, 1},
    {S("\"" ID " \"; spf=pass"), ID, 1},
    {S(ID "/x; spf=pass"), ID, 0},
    {S(ID "=; spf=pass"), ID, 0},
    {S("other.example.edu; spf=pass"), ID, 0},
    {S("; spf=pass"), ID, 0},
    {S(ID " 1 2; spf=pass"), ID, 1},
    {S("(c\\"), ID, 0},
    {S(ID " (unterminated; spf=pass"), ID, 1},
    {S(ID ";"), "", 0},
    {S(ID ";"), NULL, 0},
    {ID "; spf=pass", 10, ID, 0}, /* len cuts the id short */
    {ID "; spf=pass", 16, ID, 1}, /* len ends right after it */
    {S(ID "\x80; spf=pass"), ID, 0},
    {S("\"MAIL.EXAMPLE.EDU\" ; x"), ID, 1},
    {S(ID " ; none"), ID, 1},
    {S("\"relay one\"; spf=pass"), "relay one", 1},
    {S("relay one; spf=pass"), "relay one", 0},
    {S(ID "(c);"), ID, 1},
    {S("(a(b(c)))" ID ";"), ID, 1},
    {S("(a(b(c))" ID ";"), ID, 0},
    {S(ID "\r\n 1\r\n ;"), ID, 1},
    {S("\"" ID "\""), ID, 1},
    {S("(\0) " ID ";"), ID, 0},
    {S("\"mail.example.\r\n edu\";"), ID, 0},
    {S("\"mail.example.\\"), ID, 0},
    {S("\"\"; spf=pass"), ID, 0},
    {S("mail.example.edu,other; spf=pass"), ID, 1},
    {S("mail.example.edu;spf=pass"), "MAIL.EXAMPLE.EDU", 1},
    /* Malformed forgeries: some readers trust any field whose first word is their id. */
    {S(ID " dkim=pass"), ID, 1},
    {S(ID ", other.example; dkim=pass"), ID, 1},
    {S(ID ".; dkim=pass"), ID, 1},
    {S(ID "(unclosed; dkim=pass"), ID, 1},
    {S("\"" ID "\\\"; dkim=pass"), ID, 1},
    {S("mail\\.example.edu; dkim=pass"), ID, 1},
    {S(ID "..; dkim=pass"), ID, 0},
    {S(ID ".x; dkim=pass"), ID, 0},
    {S("\"relay one \"; spf=pass"), "relay one", 1},
    {S("\"relay\"; spf=pass"), "relay one", 0},
};

static const struct authres_sig sig_rsa[] = {
    {"library.example.edu", "alma2026", KEY_ALG_RSA_SHA256},
};
static const struct authres_sig sig_both[] = {
    {"library.example.edu", "ed2026", KEY_ALG_ED25519_SHA256},
    {"library.example.edu", "rsa2026", KEY_ALG_RSA_SHA256},
};

#define SIGN                                                                                       \
	{                                                                                          \
		POLICY_SIGN, POLICY_REASON_NONE                                                    \
	}
#define TAG(r)                                                                                     \
	{                                                                                          \
		POLICY_TAG, POLICY_REASON_##r                                                      \
	}

static const struct {
	struct authres_facts f; /* id, trust, user, spf, mailfrom, helo, from, decision, sigs, n,
				 aligned?, aligned, mode, dmarc, binding, return path */
	const char *want;       /* NULL: must fail */
} fmt_rows[] = {
    /* 0: the common case, the shape in authres.h. */
    {{ID, POLICY_TRUST_AUTH, "alma", POLICY_SPF_PASS, "exlibrisgroup.com", NULL,
      "library.example.edu", SIGN, sig_rsa, 1, false, ALIGN_PASS, ALIGN_RELAXED, NULL, NULL, NULL},
     ID ";\n\tauth=pass smtp.auth=alma;\n\tspf=pass smtp.mailfrom=exlibrisgroup.com;\n"
        "\tx-relaysign=signed policy.relay=auth header.from=library.example.edu\n"
        "\theader.d=library.example.edu header.s=alma2026 header.a=rsa-sha256"},
    /* 1: the vendor's own domain: no key, folded at 78. */
    {{ID, POLICY_TRUST_NETWORK, NULL, POLICY_SPF_UNCHECKED, NULL, NULL, "exlibrisgroup.com",
      TAG(NO_KEY), NULL, 0, false, ALIGN_PASS, ALIGN_RELAXED, NULL, NULL, NULL},
     ID ";\n\tx-relaysign=tagged reason=\"no-key\" policy.relay=network\n"
        "\theader.from=exlibrisgroup.com"},
    /* 2: a hostile login: quotes, ';', CR LF, UTF-8, backslash. */
    {{ID, POLICY_TRUST_AUTH, "al\"ma;\r\nX-Evil: 1\xc3\xa9\\", POLICY_SPF_UNCHECKED, NULL, NULL,
      NULL, TAG(BAD_FROM), NULL, 0, false, ALIGN_PASS, ALIGN_RELAXED, NULL, NULL, NULL},
     ID ";\n\tauth=pass smtp.auth=\"al\\\"ma;??X-Evil: 1??\\\\\";\n"
        "\tx-relaysign=tagged reason=\"bad-from\" policy.relay=auth"},
    /* 3: null sender, SPF on HELO; two signatures. */
    {{ID, POLICY_TRUST_NETWORK, NULL, POLICY_SPF_FAIL, NULL, "relay.example.net",
      "library.example.edu", SIGN, sig_both, 2, false, ALIGN_PASS, ALIGN_RELAXED, NULL, NULL, NULL},
     ID ";\n\tspf=fail smtp.helo=relay.example.net;\n"
        "\tx-relaysign=signed policy.relay=network header.from=library.example.edu\n"
        "\theader.d=library.example.edu header.s=ed2026 header.a=ed25519-sha256\n"
        "\theader.d=library.example.edu header.s=rsa2026 header.a=rsa-sha256"},
    /* 4: SPF with neither identity known. */
    {{ID,
      POLICY_TRUST_SPF,
      NULL,
      POLICY_SPF_TEMPERROR,
      NULL,
      NULL,
      "library.example.edu",
      {POLICY_TEMPFAIL, POLICY_REASON_SPF_TEMPERROR},
      NULL,
      0, false, ALIGN_PASS, ALIGN_RELAXED, NULL, NULL, NULL},
     ID ";\n\tspf=temperror;\n\tx-relaysign=tempfailed reason=\"spf-temperror\" policy.relay=spf\n"
        "\theader.from=library.example.edu"},
    /* 5: rejected for a bad From. */
    {{ID,
      POLICY_TRUST_NETWORK,
      NULL,
      POLICY_SPF_UNCHECKED,
      NULL,
      NULL,
      NULL,
      {POLICY_REJECT, POLICY_REASON_BAD_FROM},
      NULL,
      0, false, ALIGN_PASS, ALIGN_RELAXED, NULL, NULL, NULL},
     ID ";\n\tx-relaysign=rejected reason=\"bad-from\" policy.relay=network"},
    /* 6: an authserv-id that is not a token is quoted. */
    {{"relay one", POLICY_TRUST_NETWORK, NULL, POLICY_SPF_UNCHECKED, NULL, NULL, NULL, SIGN, NULL,
      0, false, ALIGN_PASS, ALIGN_RELAXED, NULL, NULL, NULL},
     "\"relay one\";\n\tx-relaysign=signed policy.relay=network"},
    /* 7: '@' is a tspecial, so the login is quoted. */
    {{ID, POLICY_TRUST_AUTH, "alma@example.edu", POLICY_SPF_PASS, "exlibrisgroup.com", NULL, NULL,
      SIGN, NULL, 0, false, ALIGN_PASS, ALIGN_RELAXED, NULL, NULL, NULL},
     ID
     ";\n\tauth=pass smtp.auth=\"alma@example.edu\";\n\tspf=pass smtp.mailfrom=exlibrisgroup.com;\n"
     "\tx-relaysign=signed policy.relay=auth"},
    /* 8: an empty login is an empty quoted-string. */
    {{ID, POLICY_TRUST_AUTH, "", POLICY_SPF_UNCHECKED, NULL, NULL, NULL, SIGN, NULL, 0, false, ALIGN_PASS, ALIGN_RELAXED, NULL, NULL, NULL},
     ID ";\n\tauth=pass smtp.auth=\"\";\n\tx-relaysign=signed policy.relay=auth"},
    /* 9: a control byte in MAIL FROM. */
    {{ID, POLICY_TRUST_NETWORK, NULL, POLICY_SPF_SOFTFAIL, "ex\x01.com", NULL, NULL, TAG(SPF_FAIL),
      NULL, 0, false, ALIGN_PASS, ALIGN_RELAXED, NULL, NULL, NULL},
     ID ";\n\tspf=softfail smtp.mailfrom=\"ex?.com\";\n"
        "\tx-relaysign=tagged reason=\"spf-fail\" policy.relay=network"},
    /* 10: an address literal as HELO. */
    {{ID, POLICY_TRUST_NETWORK, NULL, POLICY_SPF_NONE, NULL, "[192.0.2.1]", NULL, SIGN, NULL, 0, false, ALIGN_PASS, ALIGN_RELAXED, NULL, NULL, NULL},
     ID ";\n\tspf=none smtp.helo=\"[192.0.2.1]\";\n\tx-relaysign=signed policy.relay=network"},
    /* 11: untrusted (the milter writes nothing, but the text is defined). */
    {{ID,
      POLICY_TRUST_NONE,
      NULL,
      POLICY_SPF_UNCHECKED,
      NULL,
      NULL,
      NULL,
      {POLICY_ACCEPT, POLICY_REASON_UNTRUSTED},
      NULL,
      0, false, ALIGN_PASS, ALIGN_RELAXED, NULL, NULL, NULL},
     ID ";\n\tx-relaysign=accept reason=\"untrusted\" policy.relay=none"},
    /* 12, 13: no authserv-id. */
    {{NULL, POLICY_TRUST_NETWORK, NULL, POLICY_SPF_UNCHECKED, NULL, NULL, NULL, SIGN, NULL, 0, false, ALIGN_PASS, ALIGN_RELAXED, NULL, NULL, NULL},
     NULL},
    {{"", POLICY_TRUST_NETWORK, NULL, POLICY_SPF_UNCHECKED, NULL, NULL, NULL, SIGN, NULL, 0, false, ALIGN_PASS, ALIGN_RELAXED, NULL, NULL, NULL}, NULL},
    /* 14: trust auth without a login: auth=pass alone. */
    {{ID, POLICY_TRUST_AUTH, NULL, POLICY_SPF_UNCHECKED, NULL, NULL, NULL, SIGN, NULL, 0, false, ALIGN_PASS, ALIGN_RELAXED, NULL, NULL, NULL},
     ID ";\n\tauth=pass;\n\tx-relaysign=signed policy.relay=auth"},
    /* 15: SPF pass for the vendor's envelope, From not aligned (the Alma case). */
    {{ID, POLICY_TRUST_NETWORK, NULL, POLICY_SPF_PASS, "exlibrisgroup.com", NULL,
      "library.example.edu", SIGN, sig_rsa, 1, true, ALIGN_FAIL, ALIGN_RELAXED, "reject", NULL, NULL},
     ID ";\n\tspf=pass smtp.mailfrom=exlibrisgroup.com;\n"
        "\tx-aligned-from=fail policy.alignment=relaxed header.from=library.example.edu\n"
        "\tsmtp.mailfrom=exlibrisgroup.com;\n"
        "\tx-dmarc-policy=reject header.from=library.example.edu;\n"
        "\tx-relaysign=signed policy.relay=network header.from=library.example.edu\n"
        "\theader.d=library.example.edu header.s=alma2026 header.a=rsa-sha256"},
    /* 16: the null sender is aligned against HELO, strictly. */
    {{ID, POLICY_TRUST_NETWORK, NULL, POLICY_SPF_NONE, NULL, "relay.library.example.edu",
      "library.example.edu", TAG(NO_KEY), NULL, 0, true, ALIGN_FAIL, ALIGN_STRICT, NULL, NULL, NULL},
     ID ";\n\tspf=none smtp.helo=relay.library.example.edu;\n"
        "\tx-aligned-from=fail policy.alignment=strict header.from=library.example.edu\n"
        "\tsmtp.helo=relay.library.example.edu;\n"
        "\tx-relaysign=tagged reason=\"no-key\" policy.relay=network\n"
        "\theader.from=library.example.edu"},
    /* 17: a consortium relay's network, From a domain not bound to it. */
    {{ID, POLICY_TRUST_NETWORK, NULL, POLICY_SPF_UNCHECKED, NULL, NULL, "fsu.edu",
      TAG(NOT_BOUND), NULL, 0, false, ALIGN_PASS, ALIGN_RELAXED, NULL, "net:192.0.2.0/24", NULL},
     ID ";\n\tx-relaysign=tagged reason=\"not-bound\" policy.relay=network\n"
        "\tpolicy.binding=\"net:192.0.2.0/24\" header.from=fsu.edu"},
    /* 18: signed, the envelope sender changed to the library's (quoted: '@'). */
    {{ID, POLICY_TRUST_AUTH, "alma", POLICY_SPF_PASS, "exlibrisgroup.com", NULL,
      "library.example.edu", SIGN, sig_rsa, 1, false, ALIGN_PASS, ALIGN_RELAXED, NULL, NULL,
      "bounces@library.example.edu"},
     ID ";\n\tauth=pass smtp.auth=alma;\n\tspf=pass smtp.mailfrom=exlibrisgroup.com;\n"
        "\tx-relaysign=signed policy.relay=auth\n"
        "\tpolicy.return-path=\"bounces@library.example.edu\"\n"
        "\theader.from=library.example.edu header.d=library.example.edu\n"
        "\theader.s=alma2026 header.a=rsa-sha256"},
};

/* check_shape: the promises every formatted field keeps; NULL or the broken one. */
static const char *
check_shape(const char *s)
{
	size_t col = sizeof("Authentication-Results: ") - 1;

	for (; *s != '\0'; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '\n') {
			if (s[1] != '\t')
				return "LF not followed by TAB";
			col = 0;
			continue;
		}
		if (c == '\r')
			return "CR";
		if ((c < 0x20 && c != '\t') || c > 0x7e)
			return "control or 8-bit byte";
		if (++col > 998)
			return "line longer than 998";
	}
	return NULL;
}

/* visible: s on one line, with LF, TAB and CR spelled out, into out. */
static const char *
visible(const char *s, char *out, size_t size)
{
	size_t n = 0;

	for (; *s != '\0' && n + 3 < size; s++) {
		if (*s == '\n' || *s == '\t' || *s == '\r') {
			out[n++] = '\\';
			out[n++] = *s == '\n' ? 'n' : *s == '\t' ? 't' : 'r';
		} else {
			out[n++] = *s;
		}
	}
	out[n] = '\0';
	return out;
}

int
main(void)
{
	char buf[AUTHRES_MAX], big[1200], shown[AUTHRES_MAX * 2];
	struct authres_facts f;
	size_t i, wlen;
	const char *why;
	int rc;

	for (i = 0; i < sizeof(ours_rows) / sizeof(ours_rows[0]); i++) {
		bool got = authres_is_ours(ours_rows[i].value, ours_rows[i].len, ours_rows[i].id);

		ok(got == (ours_rows[i].ours != 0), "is_ours %zu: want %d, got %d", i,
		   ours_rows[i].ours, got);
	}
	ok(!authres_is_ours(NULL, 5, ID), "is_ours NULL value");

	for (i = 0; i < sizeof(fmt_rows) / sizeof(fmt_rows[0]); i++) {
		memset(buf, 'x', sizeof(buf));
		rc = authres_format(&fmt_rows[i].f, buf, sizeof(buf));
		if (fmt_rows[i].want == NULL) {
			ok(rc == -1 && buf[0] == '\0', "format %zu: fails, rc %d", i, rc);
			continue;
		}
		if (!ok(rc == 0 && strcmp(buf, fmt_rows[i].want) == 0,
		        "format %zu: rc %d, exact text", i, rc)) {
			diag("want %s", visible(fmt_rows[i].want, shown, sizeof(shown)));
			diag("got  %s", visible(buf, shown, sizeof(shown)));
		}
		why = check_shape(buf);
		ok(why == NULL, "format %zu: shape: %s", i, why ? why : "ok");
		/* What we write, we must recognise as ours (and remove next time). */
		ok(authres_is_ours(buf, strlen(buf), fmt_rows[i].f.authserv_id),
		   "format %zu: is_ours of the result", i);
		/* The exact size fits; one byte less fails cleanly. */
		wlen = strlen(fmt_rows[i].want);
		ok(authres_format(&fmt_rows[i].f, buf, wlen + 1) == 0 &&
		       strcmp(buf, fmt_rows[i].want) == 0 &&
		       authres_format(&fmt_rows[i].f, buf, wlen) == -1 && buf[0] == '\0',
		   "format %zu: fits in %zu bytes, not in %zu", i, wlen + 1, wlen);
	}

	/* Overflow and limits. */
	f = fmt_rows[0].f;
	ok(authres_format(&f, buf, 20) == -1 && buf[0] == '\0', "format overflow 0: 20 bytes");
	ok(authres_format(&f, buf, 0) == -1 && authres_format(&f, NULL, 100) == -1 &&
	       authres_format(NULL, buf, sizeof(buf)) == -1,
	   "format overflow 1: zero length, NULL buffer, NULL facts");
	/*
	 * A line holds TAB, the item and ';' in 998: a 986-byte login makes
	 * a 996-byte "smtp.auth=" item and fits on a line of its own...
	 */
	memset(big, 'a', 986);
	big[986] = '\0';
	f.auth_user = big;
	rc = authres_format(&f, buf, sizeof(buf));
	why = rc == 0 ? check_shape(buf) : "failed";
	ok(rc == 0 && why == NULL && strstr(buf, "auth=pass\n\tsmtp.auth=aaaa") != NULL,
	   "format overflow 2: 986-byte login on its own line: %s", why ? why : "ok");
	/* ...one byte more does not, and the field is refused. */
	big[986] = 'a';
	big[987] = '\0';
	ok(authres_format(&f, buf, sizeof(buf)) == -1 && buf[0] == '\0',
	   "format overflow 3: 987-byte login refused");
	/* Two 900-byte values fit their lines but not AUTHRES_MAX together... */
	memset(big, 'b', 900);
	big[900] = '\0';
	f.auth_user = big;
	f.spf_mailfrom = big;
	f.from_domain = big;
	ok(authres_format(&f, buf, sizeof(buf)) == -1, "format overflow 4: over AUTHRES_MAX");
	/* ...even when the caller's buffer is larger. */
	{
		static char huge[AUTHRES_MAX * 2];

		ok(authres_format(&f, huge, sizeof(huge)) == -1 && huge[0] == '\0',
		   "format overflow 5: AUTHRES_MAX caps a larger buffer");
	}
	return tap_done();
}
