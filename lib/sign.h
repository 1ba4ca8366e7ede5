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
	char *const *sign_headers;	/* NULL-terminated, lowercase names to sign */
	char *const *oversign_headers;	/* NULL-terminated, names to oversign */
	enum sign_canon canon_header;
	enum sign_canon canon_body;
	unsigned long expire;		/* x= seconds after t=; 0 for no x= */
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
 * signer_header: one header field, name and value as the MTA passed them
 * (value with its leading space when the MTA sends it, folded lines with
 * CRLF or LF).  Returns 0 or -1 with the reason in err.
 */
int signer_header(struct signer *sg, const char *name, const char *value,
    char *err, size_t errlen);
/* signer_eoh: no more headers. */
int signer_eoh(struct signer *sg, char *err, size_t errlen);
/* signer_body: one body chunk, CRLF line ends as the milter protocol sends them. */
int signer_body(struct signer *sg, const unsigned char *buf, size_t len,
    char *err, size_t errlen);
/* signer_eom: finishes every signature. */
int signer_eom(struct signer *sg, char *err, size_t errlen);

/* signer_count: how many signatures the signer makes. */
size_t signer_count(const struct signer *sg);
/*
 * signer_value: after signer_eom, the value of the i-th DKIM-Signature
 * field (without "DKIM-Signature:"), folded with "\n\t" as milters must,
 * valid until signer_free.
 */
const char *signer_value(const struct signer *sg, size_t i);
/* signer_key: the key of the i-th signature. */
const struct key *signer_key(const struct signer *sg, size_t i);

/* signer_free: signer_free(NULL) is a no-op. */
void signer_free(struct signer *sg);

#endif
