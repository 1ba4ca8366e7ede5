/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * sign.h -- DKIM signing of one message with libopendkim, shaped like the
 * milter phases: headers, end of headers, body chunks, end of message.
 *
 * The body is hashed as it streams; nothing is buffered whole.
 */
#ifndef RELAYSIGN_SIGN_H
#define RELAYSIGN_SIGN_H

#include <stdbool.h>
#include <stddef.h>

#include "key.h"

enum sign_canon { SIGN_CANON_SIMPLE = 0, SIGN_CANON_RELAXED = 1 };

/* Most signatures on one message (one per key). */
#define SIGN_MAX_KEYS 4

struct sign_params {
	char *const *sign_headers;	/* NULL-terminated, lowercase names to sign;
					   NULL: RFC 6376 5.4's list (libopendkim's) */
	char *const *oversign_headers;	/* NULL-terminated, names to oversign, or NULL;
					   names: letters, digits, '-', '_' */
	enum sign_canon canon_header;
	enum sign_canon canon_body;
	unsigned long expire;		/* x= seconds after t=; 0 for no x= */
	bool decode_per_message;	/* let libopendkim decode each key in every
					   message, as OpenDKIM does: slower, for
					   comparison (bench/, tests); false in the
					   daemon */
};

/*
 * A sign_lib holds the libopendkim library handle and the parameters
 * shared by every message of one configuration.  It is immutable after
 * sign_lib_new and safe to use from many threads at once.
 */
struct sign_lib;

/* sign_lib_new: returns a handle, or NULL with the reason in err. */
struct sign_lib *sign_lib_new(const struct sign_params *params, char *err, size_t errlen);
/* sign_lib_free: sign_lib_free(NULL) is a no-op. */
void sign_lib_free(struct sign_lib *sl);

/*
 * sign_lib_keys_cached: true if libopendkim signs with the keys decoded at
 * load (struct key's pkey) rather than decoding their PEM text in every
 * message; sign_lib_new found out by signing once (see sign.c).
 */
bool sign_lib_keys_cached(const struct sign_lib *sl);
/*
 * sign_lib_keyuse: one sentence on how keys reach libopendkim and whether
 * relaysign frees what libopendkim leaves behind, for the startup log.
 * Valid as long as sl.
 */
const char *sign_lib_keyuse(const struct sign_lib *sl);

/* A signer signs one message with up to SIGN_MAX_KEYS keys; one thread uses it. */
struct signer;

/*
 * signer_new: starts signing with keys[0..nkeys) (each key makes one
 * DKIM-Signature).  jobid names the message in library errors.  The keys
 * must outlive the signer.  Returns NULL with the reason in err.
 */
struct signer *signer_new(const struct sign_lib *sl, const struct key *const *keys,
    size_t nkeys, const char *jobid, char *err, size_t errlen);

/*
 * signer_header: one header field, name and value as the MTA passed them,
 * hashed as "name:value" (value with its leading space: the milter must
 * negotiate SMFIP_HDR_LEADSPC so "simple" canonicalization sees the field
 * exactly; folded lines with CRLF or LF, LF is hashed as CRLF).  Fields
 * that cannot be in h= (names libopendkim refuses; DKIM-Signature unless
 * listed) are skipped.  Returns 0 or -1 with the reason in err.
 */
int signer_header(struct signer *sg, const char *name, const char *value,
    char *err, size_t errlen);
/*
 * signer_eoh: no more headers.  Fails when the message has no From field
 * (RFC 6376 5.4: From must be signed).
 */
int signer_eoh(struct signer *sg, char *err, size_t errlen);
/*
 * signer_body: one body chunk, CRLF line ends as the milter protocol sends
 * them; a bare LF is hashed as CRLF.  Chunks may split lines anywhere.
 */
int signer_body(struct signer *sg, const unsigned char *buf, size_t len,
    char *err, size_t errlen);
/*
 * signer_eom: finishes every signature (a body whose last line lacks its
 * line end is hashed with CRLF added, as SMTP sends it).
 */
int signer_eom(struct signer *sg, char *err, size_t errlen);

/* signer_count: how many signatures the signer makes. */
size_t signer_count(const struct signer *sg);
/*
 * signer_value: after signer_eom, the value of the i-th DKIM-Signature
 * field (without "DKIM-Signature:" and without a leading space), folded
 * with "\n\t" as milters must (an Ed25519 signature with simple header
 * canonicalization is one line), no trailing newline; valid until
 * signer_free, NULL before signer_eom.  The signature covers the field as
 * "DKIM-Signature: value", one space after the colon: with
 * SMFIP_HDR_LEADSPC negotiated, insert " " + value.
 */
const char *signer_value(const struct signer *sg, size_t i);
/* signer_key: the key of the i-th signature. */
const struct key *signer_key(const struct signer *sg, size_t i);

/* signer_free: signer_free(NULL) is a no-op. */
void signer_free(struct signer *sg);

#endif
