/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * pipeline.h -- one SMTP connection and the message in it, fed event by
 * event in the order of the milter stages (connect, helo, mail, header,
 * end of headers, body, end of message, abort).  It gathers every fact
 * once, asks lib/policy.c once per message, and hands back the edits to
 * make (header fields to delete and insert) and the facts for the log
 * line.  It knows nothing of libmilter: the daemon forwards events to it
 * and applies what it returns, and a table test or a fuzzer can play a
 * whole conversation without an MTA.
 *
 * Facts end where the protocol says they do: pipeline_connect resets the
 * connection and its message; pipeline_mail, pipeline_abort and the end
 * of a message reset the message.  Nothing of one message survives into
 * the next.
 *
 * Limits are never holes.  Past PIPELINE_MAX_HEADERS fields or
 * PIPELINE_MAX_HEADER_BYTES the header block is no longer held, so the
 * message is not signed (reason bad-headers); From fields are still
 * counted and Authentication-Results fields claiming our AuthservID are
 * still found and removed wherever they stand.  More than
 * PIPELINE_MAX_FORGED of those, and the message is tempfailed rather than
 * passed on with one left in place.
 *
 * One struct pipeline belongs to one connection and is used by one thread
 * at a time.  The configuration handed to pipeline_mail must outlive the
 * message (the daemon holds a reference until the message ends).
 */
#ifndef RELAYSIGN_PIPELINE_H
#define RELAYSIGN_PIPELINE_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>

#include "align.h"
#include "conf.h"
#include "dmarc.h"
#include "from.h"
#include "policy.h"
#include "sign.h"

/*
 * Limits on what a peer may make us hold for one message.  The fuzzer
 * builds with smaller ones (tests/fuzz/run.sh), so it crosses them often.
 */
#ifndef PIPELINE_MAX_HEADERS
#define PIPELINE_MAX_HEADERS 20000			/* header fields held for signing */
#endif
#ifndef PIPELINE_MAX_HEADER_BYTES
#define PIPELINE_MAX_HEADER_BYTES (4 * 1024 * 1024)	/* their names and values */
#endif
#define PIPELINE_MAX_FORGED PIPELINE_MAX_HEADERS	/* forged results we remove */
/* Longest HELO name and SMTP AUTH login kept (longer ones are cut, and never trusted). */
#define PIPELINE_TEXT_MAX 256

/* What the caller does next with the message. */
enum pipeline_status {
	PIPELINE_CONTINUE = 0,	/* send the next event */
	PIPELINE_SKIP,		/* go on, but the rest of the body is not needed */
	PIPELINE_ACCEPT,	/* nothing more to do: accept the message untouched */
	PIPELINE_TEMPFAIL,	/* answer 451 4.7.1 with pipeline_reply() */
	PIPELINE_REJECT		/* answer 550 5.7.1 with pipeline_reply() */
};

/* The MAIL FROM argument, parsed once (RFC 5321 4.1.2). */
enum pipeline_env {
	PIPELINE_ENV_NONE = 0,	/* no MAIL yet */
	PIPELINE_ENV_OK,	/* local@domain */
	PIPELINE_ENV_NULL,	/* <>: SPF checks the HELO identity (RFC 7208 2.4) */
	PIPELINE_ENV_BAD	/* too long, no domain, unbalanced brackets: SPF permerror */
};

enum pipeline_edit_kind {
	PIPELINE_EDIT_DELETE,	/* delete the index-th field named name (1-based) */
	PIPELINE_EDIT_INSERT,	/* insert name: value at position index (0: the top) */
	PIPELINE_EDIT_CHGFROM	/* the envelope sender becomes value ("<addr>"), with args */
};

struct pipeline_edit {
	enum pipeline_edit_kind kind;
	const char *name;
	const char *value;	/* INSERT: the value, without the leading space; else NULL */
	int index;
	const char *args;	/* CHGFROM: the ESMTP parameters kept ("" for none) */
};

/* Most edits one message can need: every forged field, our result, the signatures, the sender. */
#define PIPELINE_MAX_EDITS (PIPELINE_MAX_FORGED + 1 + SIGN_MAX_KEYS + 1)
/* Longest run of ESMTP MAIL parameters kept for a new envelope sender. */
#define PIPELINE_ESMTP_MAX 512

/* The DNS work a message may cost, timed for the metrics. */
enum pipeline_dns {
	PIPELINE_DNS_SPF = 0,	/* the envelope's SPF check */
	PIPELINE_DNS_VENDOR,	/* RelaySPFNames: the vendor's SPF records */
	PIPELINE_DNS_DMARC,	/* the DMARC policy look-up */
	PIPELINE_DNS_KINDS
};

/*
 * The facts of the message that ended, for the log line.  Every pointer is
 * valid until the next event on the pipeline.  Peer-supplied text (HELO,
 * login, domains) is as received: clean it before logging.
 */
struct pipeline_report {
	const char *client;		/* "192.0.2.10", "2001:db8::1" or "unknown" */
	bool client_mismatch;		/* {client_addr} disagreed with the connect address */
	const char *client_macro;	/* that {client_addr}, when it disagreed */
	enum policy_trust trust;
	const char *relay_name;		/* the login or RelaySPFNames entry that trusted it, or NULL */
	bool bindings;			/* trusted, and RelayBindings is set */
	const char *binding;		/* the RelayBindings identity used, or NULL (none bound) */
	enum pipeline_env env;
	const char *mailfrom_domain;	/* ENV_OK: the envelope domain, else NULL */
	enum policy_spf spf;
	const char *spf_why;		/* libspf2's reason, "" when none */
	enum from_status from_status;
	const char *from_domain;	/* FROM_OK: the From domain, else NULL */
	bool align_checked;
	enum align_result aligned;
	bool dmarc_checked;
	enum dmarc_policy dmarc;
	struct policy_decision decision;
	size_t nforged;			/* Authentication-Results fields removed as forged */
	const struct signer *signer;	/* action signed: the signatures made; else NULL */
	const char *error;		/* why the pipeline tempfailed on its own, or NULL */
	const char *return_path;	/* the new envelope sender (ReturnPath), or NULL */
	const char *mailfrom_was;	/* with return_path: the sender it replaced */
	bool dns_done[PIPELINE_DNS_KINDS];	/* that check ran for this message */
	double dns_seconds[PIPELINE_DNS_KINDS];	/* ... and took this long (monotonic) */
};

struct pipeline;

/*
 * pipeline_new: a pipeline for one connection, or NULL when out of memory.
 * seal (lib/seal.h), shared by every connection of the process, marks the
 * Authentication-Results we add so a second pass recognises it; with
 * NULL, nothing is sealed and nothing recognised.
 */
struct seal;
struct pipeline *pipeline_new(const struct seal *seal);
/* pipeline_free: pipeline_free(NULL) is a no-op. */
void pipeline_free(struct pipeline *p);

/*
 * pipeline_connect: a new SMTP client; forgets everything of the one
 * before.  sa (AF_INET or AF_INET6, else NULL) is the client address the
 * MTA saw; it is the only address relay trust is ever based on.
 */
void pipeline_connect(struct pipeline *p, const struct sockaddr *sa);
/* pipeline_helo: the HELO/EHLO name (the SPF identity of the null sender). */
void pipeline_helo(struct pipeline *p, const char *helo);

/*
 * pipeline_mail: MAIL FROM.  Ends any message still open and starts a new
 * one under conf.  arg is the first MAIL FROM argument as the MTA passes
 * it ("<a@b>", "<>").  auth is {auth_authen} from this MAIL stage's
 * macros, NULL when the MTA did not send it for this message.
 * client_addr is {client_addr} as the MTA sent it, or NULL: when it names
 * another address than the connect address, the client is taken as
 * unknown (no relay trust by network or SPF).  Decides the relay trust
 * and, for trusted mail, runs the envelope's SPF check.
 */
enum pipeline_status pipeline_mail(struct pipeline *p, const struct conf *conf, const char *arg,
                                   const char *auth, const char *client_addr);
/* pipeline_header: one header field, name and value as received (LEADSPC). */
/*
 * pipeline_mail_params: the ESMTP parameters of this MAIL (libmilter's
 * argv after the address, NULL-terminated).  Those that matter to a new
 * envelope sender are kept: SIZE, BODY, SMTPUTF8, RET, ENVID (RFC 1870,
 * 6152, 6531, 3461); anything else, malformed or too long, is dropped.
 */
void pipeline_mail_params(struct pipeline *p, char *const *params);
enum pipeline_status pipeline_header(struct pipeline *p, const char *name, const char *value);
/*
 * pipeline_eoh: the end of the header block.  jobid names the message in
 * libopendkim's errors.  Returns PIPELINE_ACCEPT for mail that is not
 * ours to sign and carries nothing to remove.
 */
enum pipeline_status pipeline_eoh(struct pipeline *p, const char *jobid);
/* pipeline_body: one body chunk. */
enum pipeline_status pipeline_body(struct pipeline *p, const unsigned char *buf, size_t len);
/*
 * pipeline_eom: the end of the message: decides and, for CONTINUE, sets
 * *edits_r to *nedits_r edits to apply in order (deletions last index
 * first, then insertions).  The edits and pipeline_report() stay valid
 * until the next event; the message is over either way.
 */
enum pipeline_status pipeline_eom(struct pipeline *p, const struct pipeline_edit **edits_r,
                                  size_t *nedits_r);
/* pipeline_abort: the MTA gave up on the message. */
void pipeline_abort(struct pipeline *p);

/*
 * pipeline_report: the facts of the message last decided (at end of
 * headers or end of message), or NULL when none was: untrusted mail
 * accepted at end of headers has one too (decision accept).
 */
const struct pipeline_report *pipeline_report(const struct pipeline *p);
/* pipeline_reply: the SMTP text for TEMPFAIL and REJECT. */
const char *pipeline_reply(const struct pipeline *p);
/* pipeline_conf: the configuration of the open message, or NULL. */
const struct conf *pipeline_conf(const struct pipeline *p);

/* pipeline_env_name: "ok", "null", "malformed" ("none" before MAIL). */
const char *pipeline_env_name(enum pipeline_env env);

#endif
