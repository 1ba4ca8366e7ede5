/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * policy.h -- the decision table (README, "What it does with each message"),
 * as a pure function of the facts gathered about one message
 * (lib/pipeline.c gathers them and applies the action).
 */
#ifndef RELAYSIGN_POLICY_H
#define RELAYSIGN_POLICY_H

#include <stdbool.h>

#include "from.h"

/* How the client came to be trusted as the vendor's relay. */
enum policy_trust {
	POLICY_TRUST_NONE = 0,
	POLICY_TRUST_NETWORK,	/* client IP in RelayNetworks */
	POLICY_TRUST_AUTH,	/* {auth_authen} in RelayAuthUsers */
	POLICY_TRUST_SPF	/* client IP authorised by a RelaySPFNames record */
};

/* The envelope's SPF result (RFC 7208 2.6), or not checked. */
enum policy_spf {
	POLICY_SPF_UNCHECKED = 0,
	POLICY_SPF_NONE,
	POLICY_SPF_NEUTRAL,
	POLICY_SPF_PASS,
	POLICY_SPF_FAIL,
	POLICY_SPF_SOFTFAIL,
	POLICY_SPF_TEMPERROR,
	POLICY_SPF_PERMERROR
};

enum policy_on_bad_from { POLICY_BADFROM_TAG = 0, POLICY_BADFROM_REJECT };

struct policy_facts {
	enum policy_trust trust;
	enum from_status from;		/* from_parse() of the single From, or FROM_MULTIPLE */
	bool headers_ok;		/* false when the header block exceeded our limits */
	bool key_found;			/* the signing table has keys for the From domain */
	enum policy_spf spf;
	bool require_spf;		/* RequireSPF yes */
	enum policy_on_bad_from on_bad_from;
	bool long_line;			/* a header or body line over 998 octets */
	bool trust_temperror;		/* untrusted only because RelaySPFNames had a temperror */
	bool ours_seen;			/* a field claims our AuthservID, sealed or not */
	bool handled;			/* one of them is our own, sealed for this message */
	bool not_bound;			/* RelayBindings does not bind the From domain to
					   the identity that trusted the client */
};

enum policy_action {
	POLICY_ACCEPT = 0,	/* accept: no signature, no new header */
	POLICY_SIGN,		/* sign, tag, log */
	POLICY_TAG,		/* do not sign; tag and log */
	POLICY_REJECT,		/* 550 5.7.1 */
	POLICY_TEMPFAIL		/* 451 4.7.1 */
};

enum policy_reason {
	POLICY_REASON_NONE = 0,
	POLICY_REASON_UNTRUSTED,	/* not a recognised relay */
	POLICY_REASON_BAD_FROM,		/* missing, several, or unparseable From */
	POLICY_REASON_BAD_HEADERS,	/* header block too large to sign safely */
	POLICY_REASON_NO_KEY,		/* From domain has no configured key */
	POLICY_REASON_SPF_FAIL,		/* RequireSPF and SPF is not pass */
	POLICY_REASON_SPF_TEMPERROR,	/* RequireSPF and SPF could not be checked now */
	POLICY_REASON_LONG_LINE,	/* a line over 998 octets: relays would break it */
	POLICY_REASON_RELAY_TEMPERROR,	/* the vendor's SPF record could not be read now */
	POLICY_REASON_ALREADY_HANDLED,	/* it carries a result in our name: passed us before */
	POLICY_REASON_NOT_BOUND		/* keyed, but not bound to this relay identity */
};

struct policy_decision {
	enum policy_action action;
	enum policy_reason reason;
};

/* policy_decide: the decision table. */
struct policy_decision policy_decide(const struct policy_facts *facts);

/* policy_action_name: "accept", "signed", "tagged", "rejected", "tempfailed". */
const char *policy_action_name(enum policy_action action);
/*
 * policy_reason_name: "untrusted", "bad-from", "bad-headers", "no-key",
 * "spf-fail", "spf-temperror", "long-line", "relay-temperror",
 * "already-handled", "not-bound" ("" for none).
 */
const char *policy_reason_name(enum policy_reason reason);
/* policy_trust_name: "network", "auth", "spf" ("none"). */
const char *policy_trust_name(enum policy_trust trust);
/* policy_spf_name: RFC 8601 result keyword ("pass", "temperror", ...; "unchecked"). */
const char *policy_spf_name(enum policy_spf spf);

#endif
