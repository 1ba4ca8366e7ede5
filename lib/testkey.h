/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * testkey.h -- does DNS publish the public half of each private key?
 *
 * For every distinct key of a configuration, the DKIM key record at
 * SELECTOR._domainkey.DOMAIN (RFC 6376 3.6.2.1) is looked up and compared
 * with the key: the published p= is decoded to a public key and compared
 * with the private key's public half (EVP_PKEY_eq), so two encodings of the
 * same key agree and nothing depends on base64 text being byte-identical.
 *
 * The lookup is a function pointer: testkey_res_lookup asks the system's
 * resolver (libresolv), tests pass their own and exercise the comparison
 * with no DNS at all.  Nothing here logs or exits; the only output is the
 * FILE a caller hands to testkey_run.
 */
#ifndef RELAYSIGN_TESTKEY_H
#define RELAYSIGN_TESTKEY_H

#include <stddef.h>
#include <stdio.h>

#include "key.h"

struct conf;
struct keytable;

/* The outcome for one key, worst last. */
enum testkey_result {
	TESTKEY_MATCH,		/* the record publishes this key */
	TESTKEY_MISMATCH,	/* a valid record for another key */
	TESTKEY_NO_RECORD,	/* NXDOMAIN, or the name has no TXT record */
	TESTKEY_BAD_RECORD,	/* a record no verifier can use with this key:
				   no p=, revoked (empty p=), k= of another
				   type, bad syntax, several records */
	TESTKEY_DNS_ERROR	/* SERVFAIL, timeout, refused: try again */
};

/* Longest DKIM key record we accept (a 4096-bit RSA record is ~750 bytes). */
#define TESTKEY_TXT_MAX 4096
/* Most TXT records at one name we read. */
#define TESTKEY_RECORDS_MAX 16

/*
 * A testkey_lookup fetches the TXT records at name (no trailing dot).
 * Each record's character-strings are concatenated into one string
 * (RFC 6376 3.6.2.2); the records go into *txts_r as a strv (util.h) the
 * caller frees with strv_free.  No record (NXDOMAIN, or no TXT at the
 * name) is 0 with an empty strv (*txts_r may be NULL).  Returns 0, or -1
 * with the reason in err when the answer could not be had (SERVFAIL,
 * timeout, refused, a malformed answer).  arg is passed through.
 */
typedef int testkey_lookup(void *arg, const char *name, char ***txts_r, char *err,
    size_t errlen);

/*
 * testkey_res_lookup: a testkey_lookup that asks the resolver of
 * /etc/resolv.conf with res_nquery(3) (TCP is used when the answer is
 * truncated) and joins each TXT record with testkey_rdata_txt.  Reads at
 * most TESTKEY_RECORDS_MAX records.  arg is unused.
 */
int testkey_res_lookup(void *arg, const char *name, char ***txts_r, char *err,
    size_t errlen);

/*
 * testkey_rdata_txt: the rdata rd[0..len) of one TXT record, a sequence of
 * length-prefixed character-strings (RFC 1035 3.3.14), joined into one
 * allocated string in *txt_r (RFC 6376 3.6.2.2: "strings in a TXT RR MUST
 * be concatenated together before use"; caller frees).  A NUL byte, which
 * no DKIM tag-list may hold (RFC 6376 3.2), becomes DEL (0x7f) so that the
 * record parser refuses it rather than seeing a shorter record.  Returns
 * 0, or -1 with the reason in err: a string running past the end, or an
 * rdata longer than TESTKEY_TXT_MAX.
 */
int testkey_rdata_txt(const unsigned char *rd, size_t len, char **txt_r, char *err,
    size_t errlen);

/*
 * testkey_record: compares one DKIM key record txt[0..len) (the
 * concatenated strings of one TXT record) with key.  Checks the tag-list
 * syntax (RFC 6376 3.2: no duplicate tags), v= (first if present, and
 * "DKIM1"), h= (must allow sha256), k= (must name key's type), s= (must
 * allow email), p= (present, not empty, base64 with FWS allowed, a public
 * key of key's type).  Writes a plain-words reason to why for
 * TESTKEY_MISMATCH and TESTKEY_BAD_RECORD, a note (t=y testing mode) or ""
 * for TESTKEY_MATCH.  Returns TESTKEY_MATCH, TESTKEY_MISMATCH or
 * TESTKEY_BAD_RECORD.
 */
enum testkey_result testkey_record(const struct key *key, const char *txt, size_t len,
    char *why, size_t whylen);

/*
 * testkey_check: looks up key's record with lookup(arg, ...) and compares
 * it.  *line_r gets an allocated one-line report in plain words, starting
 * with the domain, the selector and the algorithm, that says what to
 * publish when the record is missing or wrong (caller frees; NULL when out
 * of memory).
 */
enum testkey_result testkey_check(const struct key *key, testkey_lookup *lookup,
    void *arg, char **line_r);

/*
 * testkey_run_keys: testkey_check for every distinct key of kt, one line
 * each to out, then a summary line.  Returns 0 when every key matches, 1
 * otherwise (also when kt holds no key).
 */
int testkey_run_keys(const struct keytable *kt, testkey_lookup *lookup, void *arg,
    FILE *out);

/*
 * testkey_run: testkey_run_keys on conf's keys with testkey_res_lookup:
 * what "relaysign -t" prints.  Returns 0 when every key matches, 1
 * otherwise.
 */
int testkey_run(const struct conf *conf, FILE *out);

/* testkey_result_name: "match", "mismatch", "no-record", "bad-record", "dns-error". */
const char *testkey_result_name(enum testkey_result r);

#endif
