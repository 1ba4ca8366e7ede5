/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * keycheck.h -- does DNS publish the public half of each private key?
 *
 * For every distinct key of a configuration, the DKIM key record at
 * SELECTOR._domainkey.DOMAIN (RFC 6376 3.6.2.1) is looked up and compared
 * with the key: the published p= is decoded to a public key and compared
 * with the private key's public half (EVP_PKEY_eq), so two encodings of the
 * same key agree and nothing depends on base64 text being byte-identical.
 *
 * The lookup is a function pointer: keycheck_res_lookup asks the system's
 * resolver (libresolv), tests pass their own and exercise the comparison
 * with no DNS at all.  Nothing here logs, prints or exits: relaysign -t's
 * report is milter/keytest.c's.
 */
#ifndef RELAYSIGN_KEYCHECK_H
#define RELAYSIGN_KEYCHECK_H

#include <stddef.h>
#include <stdio.h>

#include "key.h"

struct conf;
struct keytable;

/* The outcome for one key, worst last. */
enum keycheck_result {
	KEYCHECK_MATCH,		/* the record publishes this key */
	KEYCHECK_MISMATCH,	/* a valid record for another key */
	KEYCHECK_NO_RECORD,	/* NXDOMAIN, or the name has no TXT record */
	KEYCHECK_BAD_RECORD,	/* a record no verifier can use with this key:
				   no p=, revoked (empty p=), k= of another
				   type, bad syntax, several records */
	KEYCHECK_DNS_ERROR	/* SERVFAIL, timeout, refused: try again */
};

/* Longest DKIM key record we accept (a 4096-bit RSA record is ~750 bytes). */
#define KEYCHECK_TXT_MAX 4096
/* Most TXT records at one name we read. */
#define KEYCHECK_RECORDS_MAX 16

/*
 * A keycheck_lookup fetches the TXT records at name (no trailing dot).
 * Each record's character-strings are concatenated into one string
 * (RFC 6376 3.6.2.2); the records go into *txts_r as a strv (util.h) the
 * caller frees with strv_free.  No record (NXDOMAIN, or no TXT at the
 * name) is 0 with an empty strv (*txts_r may be NULL).  Returns 0, or -1
 * with the reason in err when the answer could not be had (SERVFAIL,
 * timeout, refused, a malformed answer).  arg is passed through.
 */
typedef int keycheck_lookup(void *arg, const char *name, char ***txts_r, char *err,
    size_t errlen);

/*
 * keycheck_res_lookup: a keycheck_lookup that asks the resolver of
 * /etc/resolv.conf (dns_res_txt, dns.h).  Reads at most
 * KEYCHECK_RECORDS_MAX records of at most KEYCHECK_TXT_MAX bytes.  arg is
 * unused.
 */
int keycheck_res_lookup(void *arg, const char *name, char ***txts_r, char *err,
    size_t errlen);


/*
 * keycheck_record: compares one DKIM key record txt[0..len) (the
 * concatenated strings of one TXT record) with key.  Checks the tag-list
 * syntax (RFC 6376 3.2: no duplicate tags), v= (first if present, and
 * "DKIM1"), h= (must allow sha256), k= (must name key's type), s= (must
 * allow email), p= (present, not empty, base64 with FWS allowed, a public
 * key of key's type).  Writes a plain-words reason to why for
 * KEYCHECK_MISMATCH and KEYCHECK_BAD_RECORD, a note (t=y testing mode) or ""
 * for KEYCHECK_MATCH.  Returns KEYCHECK_MATCH, KEYCHECK_MISMATCH or
 * KEYCHECK_BAD_RECORD.
 */
enum keycheck_result keycheck_record(const struct key *key, const char *txt, size_t len,
    char *why, size_t whylen);

/*
 * keycheck_check: looks up key's record with lookup(arg, ...) and compares
 * it.  *line_r gets an allocated one-line report in plain words, starting
 * with the domain, the selector and the algorithm, that says what to
 * publish when the record is missing or wrong (caller frees; NULL when out
 * of memory).
 */
enum keycheck_result keycheck_check(const struct key *key, keycheck_lookup *lookup,
    void *arg, char **line_r);

/* keycheck_result_name: "match", "mismatch", "no-record", "bad-record", "dns-error". */
const char *keycheck_result_name(enum keycheck_result r);

#endif
