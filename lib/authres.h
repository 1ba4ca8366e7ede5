/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * authres.h -- the Authentication-Results field (RFC 8601) relaysign adds,
 * and the test for fields that claim to be ours.
 *
 * RFC 8601 5: an MTA must remove (or rename) fields that claim its
 * authserv-id before adding its own, or downstream filters trust a forgery.
 */
#ifndef RELAYSIGN_AUTHRES_H
#define RELAYSIGN_AUTHRES_H

#include <stdbool.h>
#include <stddef.h>

#include "align.h"
#include "key.h"
#include "policy.h"

/* Longest Authentication-Results value we write. */
#define AUTHRES_MAX 2048

/*
 * authres_is_ours: true if the field body value[0..len) names authserv_id
 * as a lenient reader would take it: the first word after leading CFWS
 * (comments skipped), ending at white space, CR, LF, ';', ',', '(', '"'
 * or a NUL; or a quoted-string, unfolded, ending at its closing quote or
 * a NUL, or, once the id is whole, at white space, ';', ',' or '('; a
 * backslash takes the next character literally, or ends a whole id; one
 * trailing dot is ignored; compared case-insensitively.  So "id; ...",
 * "\"id\" 1; ...", a bare "id", and the malformed "id dkim=pass",
 * "id, ...", "id.; ...", "id(unclosed", "\"id\\\"; ..." and "i\\d; ..."
 * are all ours: removing a field is the safe mistake, and some readers
 * downstream trust any field whose first word is their id.  value need
 * not be NUL-terminated.  A value that is only CFWS, or whose leading
 * comment never closes, is not ours.
 */
bool authres_is_ours(const char *value, size_t len, const char *authserv_id);

struct authres_sig {
	const char *domain;	/* header.d */
	const char *selector;	/* header.s */
	enum key_alg alg;	/* header.a */
};

struct authres_facts {
	const char *authserv_id;
	enum policy_trust trust;
	const char *auth_user;		/* {auth_authen} when trust is auth, else NULL */
	enum policy_spf spf;		/* POLICY_SPF_UNCHECKED: no spf= clause */
	const char *spf_mailfrom;	/* smtp.mailfrom value, or NULL */
	const char *spf_helo;		/* smtp.helo value for a null sender, or NULL */
	const char *from_domain;	/* header.from, NULL when From was bad */
	struct policy_decision decision;
	const struct authres_sig *sigs;	/* signatures made, when signed */
	size_t nsigs;
	bool align_checked;		/* write an x-aligned-from clause */
	enum align_result aligned;	/* RFC 7489 3.1 header.from vs the envelope */
	enum align_mode align_mode;
	const char *dmarc_policy;	/* x-dmarc-policy value ("reject", "absent"), or NULL */
	const char *binding;		/* policy.binding: the RelayBindings identity, or NULL */
	const char *return_path;	/* policy.return-path: the new envelope sender, or NULL */
};

/*
 * authres_format: writes the field body (without "Authentication-Results:")
 * into buf, already folded for smfi_insheader (LF TAB, no CR), e.g.
 *   mail.example.edu;
 *       auth=pass smtp.auth=alma;
 *       x-relaysign=signed policy.relay=auth header.from=library.example.edu
 *       header.d=library.example.edu header.s=alma2026 header.a=rsa-sha256
 * Each result starts a line; within one, items fold at 78 characters and
 * no line exceeds 998 (RFC 5322 2.1.1).  Values from peers are written as
 * RFC 2045 tokens or quoted-strings, never raw; control characters and
 * bytes above 0x7e in them become '?'.  Writes at most AUTHRES_MAX bytes
 * with the NUL.  Returns 0, or -1 with buf empty when it does not fit in
 * len (or AUTHRES_MAX, or a line), or authserv_id is NULL or empty.
 */
int authres_format(const struct authres_facts *facts, char *buf, size_t len);

#endif
