/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * policy.c -- the decision table (README, "What it does with each message")
 * as a pure function.
 *
 * The rules are tried in order and the first that applies wins.  Every rule
 * that is not "sign" is checked before signing, so a fact we do not
 * recognise (an enum value out of range) can only keep a message from
 * being signed, never cause it: relaysign must not become a signing oracle
 * for clients it does not trust.
 */
#include <stddef.h>

#include "policy.h"

/* decision: builds a policy_decision. */
static struct policy_decision
decision(enum policy_action action, enum policy_reason reason)
{
	struct policy_decision d;

	d.action = action;
	d.reason = reason;
	return d;
}

/* trusted: true for the trust kinds we know; anything else is untrusted. */
static bool
trusted(enum policy_trust trust)
{
	switch (trust) {
	case POLICY_TRUST_NETWORK:
	case POLICY_TRUST_AUTH:
	case POLICY_TRUST_SPF:
		return true;
	case POLICY_TRUST_NONE:
	default:
		return false;
	}
}

/* policy_decide: the decision table. */
struct policy_decision
policy_decide(const struct policy_facts *facts)
{
	if (facts == NULL)
		return decision(POLICY_ACCEPT, POLICY_REASON_UNTRUSTED);
	/* Not our relay: accept untouched, never sign (no signing oracle). */
	if (!trusted(facts->trust)) {
		/*
		 * Unless we could not tell: the vendor's SPF record did not
		 * answer, and the message is one we would sign if it came
		 * from the vendor.  Unsigned, a patron notice bounces at a
		 * DMARC p=reject receiver; tempfailed, the vendor retries.
		 */
		/* Our own verdict from a first pass stays as it is. */
		if (facts->handled)
			return decision(POLICY_ACCEPT, POLICY_REASON_ALREADY_HANDLED);
		if (facts->trust_temperror && facts->from == FROM_OK && facts->key_found)
			return decision(POLICY_TEMPFAIL, POLICY_REASON_RELAY_TEMPERROR);
		/*
		 * A stranger's mail in a keyed domain is marked, so that a
		 * second pass (a content filter reinjecting from an address
		 * RelayNetworks trusts) knows we did not trust it the first
		 * time; other untrusted mail is left alone.
		 */
		if (facts->from == FROM_OK && facts->key_found)
			return decision(POLICY_TAG, POLICY_REASON_UNTRUSTED);
		return decision(POLICY_ACCEPT, POLICY_REASON_UNTRUSTED);
	}

	/*
	 * Trusted, but it passed relaysign before: never sign twice.  Our own
	 * sealed result stays; a result in our name we cannot recognise (a
	 * forgery, or a first pass before a restart) is removed and the
	 * message tagged, unsigned: the safe mistake.
	 */
	if (facts->handled)
		return decision(POLICY_ACCEPT, POLICY_REASON_ALREADY_HANDLED);
	if (facts->ours_seen)
		return decision(POLICY_TAG, POLICY_REASON_ALREADY_HANDLED);

	/*
	 * RFC 7489 3.1.1 and 6.6.1: without exactly one From with one
	 * address there is no author domain to sign for.
	 */
	if (facts->from != FROM_OK)
		return decision(facts->on_bad_from == POLICY_BADFROM_REJECT ? POLICY_REJECT
		                                                            : POLICY_TAG,
		                POLICY_REASON_BAD_FROM);

	/* Headers we could not hold whole cannot be signed safely. */
	if (!facts->headers_ok)
		return decision(POLICY_TAG, POLICY_REASON_BAD_HEADERS);

	/* The vendor's own domain, or any we hold no key for: tag only. */
	if (!facts->key_found)
		return decision(POLICY_TAG, POLICY_REASON_NO_KEY);

	/*
	 * A consortium relay: this identity may not have this domain signed
	 * (institution A's login, B's From).
	 */
	if (facts->not_bound)
		return decision(POLICY_TAG, POLICY_REASON_NOT_BOUND);

	/*
	 * RFC 5322 2.1.1: lines are at most 998 octets.  A relay on the way
	 * (Postfix's smtp_line_length_limit) folds a longer one, which breaks
	 * the signature: better unsigned and said so than signed and broken.
	 */
	if (facts->long_line)
		return decision(POLICY_TAG, POLICY_REASON_LONG_LINE);

	/*
	 * RequireSPF: the milter always checks SPF when it is set, so
	 * UNCHECKED here means the check never happened and counts as not
	 * pass.  RFC 7208 2.6.6: temperror is transient, so ask the client to
	 * retry rather than leave a patron notice unsigned.
	 */
	if (facts->require_spf) {
		if (facts->spf == POLICY_SPF_TEMPERROR)
			return decision(POLICY_TEMPFAIL, POLICY_REASON_SPF_TEMPERROR);
		if (facts->spf != POLICY_SPF_PASS)
			return decision(POLICY_TAG, POLICY_REASON_SPF_FAIL);
	}

	return decision(POLICY_SIGN, POLICY_REASON_NONE);
}

/* policy_action_name: the x-relaysign result and log keyword for action. */
const char *
policy_action_name(enum policy_action action)
{
	switch (action) {
	case POLICY_ACCEPT:
		return "accept";
	case POLICY_SIGN:
		return "signed";
	case POLICY_TAG:
		return "tagged";
	case POLICY_REJECT:
		return "rejected";
	case POLICY_TEMPFAIL:
		return "tempfailed";
	}
	return "unknown";
}

/* policy_reason_name: the reason= keyword, "" for none. */
const char *
policy_reason_name(enum policy_reason reason)
{
	switch (reason) {
	case POLICY_REASON_NONE:
		return "";
	case POLICY_REASON_UNTRUSTED:
		return "untrusted";
	case POLICY_REASON_BAD_FROM:
		return "bad-from";
	case POLICY_REASON_BAD_HEADERS:
		return "bad-headers";
	case POLICY_REASON_NO_KEY:
		return "no-key";
	case POLICY_REASON_SPF_FAIL:
		return "spf-fail";
	case POLICY_REASON_SPF_TEMPERROR:
		return "spf-temperror";
	case POLICY_REASON_LONG_LINE:
		return "long-line";
	case POLICY_REASON_RELAY_TEMPERROR:
		return "relay-temperror";
	case POLICY_REASON_ALREADY_HANDLED:
		return "already-handled";
	case POLICY_REASON_NOT_BOUND:
		return "not-bound";
	}
	return "unknown";
}

/* policy_trust_name: the policy.relay= keyword for trust. */
const char *
policy_trust_name(enum policy_trust trust)
{
	switch (trust) {
	case POLICY_TRUST_NONE:
		return "none";
	case POLICY_TRUST_NETWORK:
		return "network";
	case POLICY_TRUST_AUTH:
		return "auth";
	case POLICY_TRUST_SPF:
		return "spf";
	}
	return "unknown";
}

/* policy_spf_name: the RFC 8601 2.7.2 result keyword for spf. */
const char *
policy_spf_name(enum policy_spf spf)
{
	switch (spf) {
	case POLICY_SPF_UNCHECKED:
		return "unchecked";
	case POLICY_SPF_NONE:
		return "none";
	case POLICY_SPF_NEUTRAL:
		return "neutral";
	case POLICY_SPF_PASS:
		return "pass";
	case POLICY_SPF_FAIL:
		return "fail";
	case POLICY_SPF_SOFTFAIL:
		return "softfail";
	case POLICY_SPF_TEMPERROR:
		return "temperror";
	case POLICY_SPF_PERMERROR:
		return "permerror";
	}
	return "unknown";
}
