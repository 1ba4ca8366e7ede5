/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * t_policy.c -- policy_decide, table-driven, plus an exhaustive check that
 * nothing outside the one signing rule ever signs.
 */
#include <string.h>

#include "policy.h"
#include "../tap.h"
#include "../policy_names.h"

/* Short names so a row fits on a line (the SPF results' in policy_names.h). */
#define T_NONE POLICY_TRUST_NONE
#define T_NET POLICY_TRUST_NETWORK
#define T_AUTH POLICY_TRUST_AUTH
#define T_SPF POLICY_TRUST_SPF
#define B_TAG POLICY_BADFROM_TAG
#define B_REJ POLICY_BADFROM_REJECT
#define A_ACC POLICY_ACCEPT
#define A_SIGN POLICY_SIGN
#define A_TAG POLICY_TAG
#define A_REJ POLICY_REJECT
#define A_TEMP POLICY_TEMPFAIL
#define R_NONE POLICY_REASON_NONE
#define R_UNTR POLICY_REASON_UNTRUSTED
#define R_FROM POLICY_REASON_BAD_FROM
#define R_HDRS POLICY_REASON_BAD_HEADERS
#define R_NOKEY POLICY_REASON_NO_KEY
#define R_SPFF POLICY_REASON_SPF_FAIL
#define R_SPFT POLICY_REASON_SPF_TEMPERROR
#define R_DONE POLICY_REASON_ALREADY_HANDLED
#define R_BIND POLICY_REASON_NOT_BOUND

static const struct {
	struct policy_facts
	    f; /* trust, from, headers_ok, key_found, spf, require_spf, on_bad_from,
	       long_line, trust_temperror, ours_seen, handled, not_bound */
	enum policy_action action;
	enum policy_reason reason;
} rows[] = {
    /* Untrusted: never signed; marked only when From is in a keyed domain. */
    {{T_NONE, FROM_OK, true, true, S_PASS, false, B_TAG, false, false, false, false, false}, A_TAG, R_UNTR},
    {{T_NONE, FROM_OK, true, true, S_PASS, true, B_TAG, false, false, false, false, false}, A_TAG, R_UNTR},
    {{T_NONE, FROM_OK, true, false, S_PASS, false, B_TAG, false, false, false, false, false}, A_ACC, R_UNTR},
    {{T_NONE, FROM_MULTIPLE, true, true, S_PASS, false, B_REJ, false, false, false, false, false}, A_ACC, R_UNTR},
    {{T_NONE, FROM_OK, false, false, S_TEMP, true, B_REJ, false, false, false, false, false}, A_ACC, R_UNTR},
    {{T_NONE, FROM_SYNTAX, true, false, S_FAIL, true, B_TAG, false, false, false, false, false}, A_ACC, R_UNTR},
    /* Trusted, everything in order: sign. */
    {{T_NET, FROM_OK, true, true, S_UNCH, false, B_TAG, false, false, false, false, false}, A_SIGN, R_NONE},
    {{T_AUTH, FROM_OK, true, true, S_PASS, false, B_TAG, false, false, false, false, false}, A_SIGN, R_NONE},
    {{T_SPF, FROM_OK, true, true, S_PASS, true, B_TAG, false, false, false, false, false}, A_SIGN, R_NONE},
    {{T_NET, FROM_OK, true, true, S_FAIL, false, B_TAG, false, false, false, false, false}, A_SIGN, R_NONE},
    {{T_AUTH, FROM_OK, true, true, S_TEMP, false, B_REJ, false, false, false, false, false}, A_SIGN, R_NONE},
    {{T_NET, FROM_OK, true, true, S_PERM, false, B_TAG, false, false, false, false, false}, A_SIGN, R_NONE},
    {{T_NET, FROM_OK, true, true, S_PASS, true, B_REJ, false, false, false, false, false}, A_SIGN, R_NONE},
    /* Bad From: tag, or reject when configured; before every later rule. */
    {{T_NET, FROM_EMPTY, true, true, S_PASS, false, B_TAG, false, false, false, false, false}, A_TAG, R_FROM},
    {{T_NET, FROM_MULTIPLE, true, true, S_PASS, false, B_TAG, false, false, false, false, false}, A_TAG, R_FROM},
    {{T_AUTH, FROM_GROUP, true, true, S_PASS, false, B_TAG, false, false, false, false, false}, A_TAG, R_FROM},
    {{T_SPF, FROM_NO_DOMAIN, true, true, S_PASS, false, B_TAG, false, false, false, false, false}, A_TAG, R_FROM},
    {{T_NET, FROM_BAD_DOMAIN, true, true, S_PASS, false, B_TAG, false, false, false, false, false}, A_TAG, R_FROM},
    {{T_NET, FROM_SYNTAX, true, true, S_PASS, false, B_TAG, false, false, false, false, false}, A_TAG, R_FROM},
    {{T_NET, FROM_TOO_LONG, true, true, S_PASS, false, B_TAG, false, false, false, false, false}, A_TAG, R_FROM},
    {{T_NET, FROM_EMPTY, true, true, S_PASS, false, B_REJ, false, false, false, false, false}, A_REJ, R_FROM},
    {{T_AUTH, FROM_MULTIPLE, true, true, S_PASS, false, B_REJ, false, false, false, false, false}, A_REJ, R_FROM},
    {{T_SPF, FROM_SYNTAX, false, false, S_TEMP, true, B_REJ, false, false, false, false, false}, A_REJ, R_FROM},
    {{T_NET, FROM_GROUP, false, false, S_TEMP, true, B_TAG, false, false, false, false, false}, A_TAG, R_FROM},
    {{T_NET, FROM_TOO_LONG, true, false, S_FAIL, true, B_REJ, false, false, false, false, false}, A_REJ, R_FROM},
    /* Header block too large: tag, before the key and SPF rules. */
    {{T_NET, FROM_OK, false, true, S_PASS, false, B_TAG, false, false, false, false, false}, A_TAG, R_HDRS},
    {{T_AUTH, FROM_OK, false, false, S_PASS, false, B_REJ, false, false, false, false, false}, A_TAG, R_HDRS},
    {{T_SPF, FROM_OK, false, true, S_TEMP, true, B_TAG, false, false, false, false, false}, A_TAG, R_HDRS},
    /* No key for the From domain (the vendor's own): tag, before SPF. */
    {{T_NET, FROM_OK, true, false, S_PASS, false, B_TAG, false, false, false, false, false}, A_TAG, R_NOKEY},
    {{T_AUTH, FROM_OK, true, false, S_PASS, true, B_REJ, false, false, false, false, false}, A_TAG, R_NOKEY},
    {{T_SPF, FROM_OK, true, false, S_TEMP, true, B_TAG, false, false, false, false, false}, A_TAG, R_NOKEY},
    {{T_NET, FROM_OK, true, false, S_FAIL, true, B_TAG, false, false, false, false, false}, A_TAG, R_NOKEY},
    /* RequireSPF: temperror tempfails, anything else but pass tags. */
    {{T_NET, FROM_OK, true, true, S_TEMP, true, B_TAG, false, false, false, false, false}, A_TEMP, R_SPFT},
    {{T_AUTH, FROM_OK, true, true, S_TEMP, true, B_REJ, false, false, false, false, false}, A_TEMP, R_SPFT},
    {{T_NET, FROM_OK, true, true, S_FAIL, true, B_TAG, false, false, false, false, false}, A_TAG, R_SPFF},
    {{T_NET, FROM_OK, true, true, S_SOFT, true, B_TAG, false, false, false, false, false}, A_TAG, R_SPFF},
    {{T_NET, FROM_OK, true, true, S_NEUT, true, B_TAG, false, false, false, false, false}, A_TAG, R_SPFF},
    {{T_NET, FROM_OK, true, true, S_NONE, true, B_TAG, false, false, false, false, false}, A_TAG, R_SPFF},
    {{T_NET, FROM_OK, true, true, S_PERM, true, B_TAG, false, false, false, false, false}, A_TAG, R_SPFF},
    {{T_SPF, FROM_OK, true, true, S_UNCH, true, B_TAG, false, false, false, false, false}, A_TAG, R_SPFF},
    {{T_AUTH, FROM_OK, true, true, S_FAIL, true, B_REJ, false, false, false, false, false}, A_TAG, R_SPFF},
    /* Out-of-range facts never sign. */
    {{(enum policy_trust)99, FROM_OK, true, true, S_PASS, false, B_TAG, false, false, false, false, false}, A_TAG, R_UNTR},
    {{(enum policy_trust)99, FROM_OK, true, false, S_PASS, false, B_TAG, false, false, false, false, false}, A_ACC, R_UNTR},
    {{T_NET, (enum from_status)99, true, true, S_PASS, false, B_TAG, false, false, false, false, false}, A_TAG, R_FROM},
    {{T_NET, FROM_OK, true, true, (enum policy_spf)99, true, B_TAG, false, false, false, false, false}, A_TAG, R_SPFF},
    {{T_NET, FROM_MULTIPLE, true, true, S_PASS, false, (enum policy_on_bad_from)99, false, false, false, false, false}, A_TAG, R_FROM},
    /* A line over 998 octets: tagged, never signed broken. */
    {{T_NET, FROM_OK, true, true, S_PASS, false, B_TAG, true, false, false, false, false}, A_TAG,
     POLICY_REASON_LONG_LINE},
    {{T_AUTH, FROM_OK, true, false, S_PASS, false, B_TAG, true, false, false, false, false}, A_TAG, R_NOKEY},
    /* The vendor's SPF record did not answer: retry what we would sign, only that. */
    {{T_NONE, FROM_OK, true, true, S_PASS, false, B_TAG, false, true, false, false, false}, A_TEMP,
     POLICY_REASON_RELAY_TEMPERROR},
    {{T_NONE, FROM_OK, true, false, S_PASS, false, B_TAG, false, true, false, false, false}, A_ACC, R_UNTR},
    {{T_NONE, FROM_MULTIPLE, true, true, S_PASS, false, B_TAG, false, true, false, false, false}, A_ACC, R_UNTR},
    /* Passed us before (a content filter's second pass): never signed again. */
    {{T_NONE, FROM_OK, true, true, S_PASS, false, B_TAG, false, false, true, true, false}, A_ACC, R_DONE},
    {{T_NONE, FROM_OK, true, true, S_PASS, false, B_TAG, false, true, true, true, false}, A_ACC, R_DONE},
    {{T_NONE, FROM_OK, true, true, S_PASS, false, B_TAG, false, false, true, false, false}, A_TAG, R_UNTR},
    {{T_NONE, FROM_OK, true, false, S_PASS, false, B_TAG, false, false, true, false, false}, A_ACC, R_UNTR},
    {{T_NET, FROM_OK, true, true, S_PASS, false, B_TAG, false, false, true, true, false}, A_ACC, R_DONE},
    {{T_AUTH, FROM_OK, true, true, S_PASS, false, B_TAG, false, false, true, false, false}, A_TAG, R_DONE},
    {{T_SPF, FROM_OK, true, true, S_PASS, true, B_TAG, false, false, true, false, false}, A_TAG, R_DONE},
    {{T_NET, FROM_MULTIPLE, true, true, S_PASS, false, B_REJ, false, false, true, false, false}, A_TAG, R_DONE},
    {{T_NET, FROM_OK, false, true, S_TEMP, true, B_TAG, true, false, true, false, false}, A_TAG, R_DONE},
    /* Consortium: keyed, but not bound to the identity that trusted the client. */
    {{T_AUTH, FROM_OK, true, true, S_PASS, false, B_TAG, false, false, false, false, true}, A_TAG, R_BIND},
    {{T_NET, FROM_OK, true, true, S_PASS, true, B_TAG, false, false, false, false, true}, A_TAG, R_BIND},
    {{T_SPF, FROM_OK, true, true, S_TEMP, true, B_TAG, false, false, false, false, true}, A_TAG, R_BIND},
    {{T_NET, FROM_OK, true, true, S_PASS, false, B_TAG, true, false, false, false, true}, A_TAG, R_BIND},
    {{T_NET, FROM_OK, true, false, S_PASS, false, B_TAG, false, false, false, false, true}, A_TAG, R_NOKEY},
    {{T_NET, FROM_MULTIPLE, true, true, S_PASS, false, B_TAG, false, false, false, false, true}, A_TAG, R_FROM},
    {{T_NONE, FROM_OK, true, true, S_PASS, false, B_TAG, false, false, false, false, true}, A_TAG, R_UNTR},
};

static const struct {
	int which; /* 0 action, 1 reason, 2 trust, 3 spf */
	int value;
	const char *name;
} names[] = {
    {0, POLICY_ACCEPT, "accept"},
    {0, POLICY_SIGN, "signed"},
    {0, POLICY_TAG, "tagged"},
    {0, POLICY_REJECT, "rejected"},
    {0, POLICY_TEMPFAIL, "tempfailed"},
    {0, 99, "unknown"},
    {1, POLICY_REASON_NONE, ""},
    {1, POLICY_REASON_UNTRUSTED, "untrusted"},
    {1, POLICY_REASON_BAD_FROM, "bad-from"},
    {1, POLICY_REASON_BAD_HEADERS, "bad-headers"},
    {1, POLICY_REASON_NO_KEY, "no-key"},
    {1, POLICY_REASON_SPF_FAIL, "spf-fail"},
    {1, POLICY_REASON_SPF_TEMPERROR, "spf-temperror"},
    {1, POLICY_REASON_LONG_LINE, "long-line"},
    {1, POLICY_REASON_RELAY_TEMPERROR, "relay-temperror"},
    {1, POLICY_REASON_ALREADY_HANDLED, "already-handled"},
    {1, POLICY_REASON_NOT_BOUND, "not-bound"},
    {1, 99, "unknown"},
    {2, POLICY_TRUST_NONE, "none"},
    {2, POLICY_TRUST_NETWORK, "network"},
    {2, POLICY_TRUST_AUTH, "auth"},
    {2, POLICY_TRUST_SPF, "spf"},
    {2, 99, "unknown"},
    {3, POLICY_SPF_UNCHECKED, "unchecked"},
    {3, POLICY_SPF_NONE, "none"},
    {3, POLICY_SPF_NEUTRAL, "neutral"},
    {3, POLICY_SPF_PASS, "pass"},
    {3, POLICY_SPF_FAIL, "fail"},
    {3, POLICY_SPF_SOFTFAIL, "softfail"},
    {3, POLICY_SPF_TEMPERROR, "temperror"},
    {3, POLICY_SPF_PERMERROR, "permerror"},
    {3, 99, "unknown"},
};

/* name_of: the name function selected by which, applied to value. */
static const char *
name_of(int which, int value)
{
	switch (which) {
	case 0:
		return policy_action_name((enum policy_action)value);
	case 1:
		return policy_reason_name((enum policy_reason)value);
	case 2:
		return policy_trust_name((enum policy_trust)value);
	default:
		return policy_spf_name((enum policy_spf)value);
	}
}

/*
 * oracle: enumerates every combination of the facts and checks the
 * properties the table promises; one ok() per violation, one for the count.
 */
static void
oracle(void)
{
	static const enum policy_trust trusts[] = {T_NONE, T_NET, T_AUTH, T_SPF};
	static const enum from_status froms[] = {FROM_OK,     FROM_EMPTY,     FROM_MULTIPLE,
	                                         FROM_GROUP,  FROM_NO_DOMAIN, FROM_BAD_DOMAIN,
	                                         FROM_SYNTAX, FROM_TOO_LONG};
	static const enum policy_spf spfs[] = {S_UNCH, S_NONE, S_NEUT, S_PASS,
	                                       S_FAIL, S_SOFT, S_TEMP, S_PERM};
	const size_t total = 4 * 8 * 2 * 2 * 8 * 2 * 2 * 2 * 2 * 2;
	size_t n, bad = 0;

	/* n is a mixed-radix number; each digit picks one fact. */
	for (n = 0; n < total; n++) {
		struct policy_facts f;
		struct policy_decision d;
		const char *why = NULL;
		size_t x = n, b;
		bool may_sign, relay_retry;

		memset(&f, 0, sizeof(f));
		f.trust = trusts[x % 4];
		x /= 4;
		f.from = froms[x % 8];
		x /= 8;
		f.headers_ok = x % 2;
		x /= 2;
		f.key_found = x % 2;
		x /= 2;
		f.spf = spfs[x % 8];
		x /= 8;
		f.require_spf = x % 2;
		x /= 2;
		b = x % 2;
		f.on_bad_from = b ? B_REJ : B_TAG;
		x /= 2;
		f.long_line = x % 2;
		x /= 2;
		f.trust_temperror = x % 2;
		x /= 2;
		f.not_bound = x % 2;

		d = policy_decide(&f);
		/* The one rule under which signing is allowed (README's table). */
		may_sign = f.trust != T_NONE && f.from == FROM_OK && f.headers_ok && f.key_found &&
		           !f.long_line && (!f.require_spf || f.spf == S_PASS) && !f.not_bound;
		/* Untrusted for want of DNS, and a message we would sign: retry it. */
		relay_retry = f.trust == T_NONE && f.trust_temperror && f.from == FROM_OK &&
		              f.key_found;
		if ((d.action == A_SIGN) != may_sign)
			why = may_sign ? "should sign" : "signs without cause";
		else if ((d.action == A_ACC) !=
		         (f.trust == T_NONE && !relay_retry && !(f.from == FROM_OK && f.key_found)))
			why = "accept iff untrusted (and not a relay temperror, nor keyed)";
		else if (d.action == A_REJ && !(f.from != FROM_OK && b))
			why = "rejects without a bad From under OnBadFrom reject";
		else if ((d.action == A_TEMP) !=
		         (relay_retry || (f.trust != T_NONE && f.from == FROM_OK && f.headers_ok &&
		                          f.key_found && !f.not_bound && !f.long_line && f.require_spf &&
		                          f.spf == S_TEMP)))
			why = "tempfails iff a relay temperror or an SPF temperror under RequireSPF";
		else if ((d.reason == R_NONE) != (d.action == A_SIGN))
			why = "a reason is given iff not signed";
		if (why != NULL) {
			bad++;
			ok(0,
			   "oracle %zu: trust=%s from=%d headers_ok=%d key=%d spf=%s "
			   "require_spf=%d on_bad_from=%d long_line=%d trust_temperror=%d -> "
			   "%s/%s: %s",
			   n, policy_trust_name(f.trust), (int)f.from, f.headers_ok, f.key_found,
			   policy_spf_name(f.spf), f.require_spf, (int)b, f.long_line,
			   f.trust_temperror,
			   policy_action_name(d.action), policy_reason_name(d.reason), why);
		}
	}
	ok(n == total && bad == 0, "oracle: %zu combinations, %zu violations", n, bad);
}

int
main(void)
{
	size_t i;

	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		struct policy_decision d = policy_decide(&rows[i].f);

		ok(d.action == rows[i].action && d.reason == rows[i].reason,
		   "decide %zu: want %s/%s, got %s/%s", i, policy_action_name(rows[i].action),
		   policy_reason_name(rows[i].reason), policy_action_name(d.action),
		   policy_reason_name(d.reason));
	}
	{
		struct policy_decision d = policy_decide(NULL);

		ok(d.action == A_ACC && d.reason == R_UNTR, "decide NULL: accept/untrusted");
	}
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		const char *got = name_of(names[i].which, names[i].value);

		ok(strcmp(got, names[i].name) == 0, "name %zu: want \"%s\", got \"%s\"", i,
		   names[i].name, got);
	}
	oracle();
	return tap_done();
}
