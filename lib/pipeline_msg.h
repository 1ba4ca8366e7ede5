/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * pipeline_msg.h -- the message state of lib/pipeline.c, shared with the
 * envelope stage (envelope.c); not for any other file.
 */
#ifndef RELAYSIGN_PIPELINE_MSG_H
#define RELAYSIGN_PIPELINE_MSG_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>

#include "authres.h"
#include "pipeline.h"

#define AR_NAME "Authentication-Results"
#define SIG_NAME "DKIM-Signature"
/* RFC 5322 2.1.1: a line is at most 998 octets without its CRLF. */
#define LINE_MAX_OCTETS 998
/* Longest From value kept for parsing: from_parse calls more FROM_TOO_LONG. */
#define FROM_VALUE_MAX (64 * 1024 + 1)
/* Longest Message-ID value kept for the seal (RFC 5322 2.1.1: one line). */
#define MSGID_VALUE_MAX LINE_MAX_OCTETS
/* Fields in our name that may carry our seal: ours is one; a few more cost little. */
#define SEAL_CANDIDATES 4

struct hdr {
	char *name;
	char *value;
};

/* The message: every field is reset at MAIL, ABORT and the end. */
struct msg {
	bool open;			/* between MAIL and the end */
	const struct conf *conf;
	bool client_mismatch;
	char client_macro[INET6_ADDRSTRLEN + 8];
	enum policy_trust trust;
	bool trust_temperror;		/* RelaySPFNames could not be read now */
	const char *relay_spf_name;	/* the RelaySPFNames entry that trusted the client */
	char auth_user[PIPELINE_TEXT_MAX];

	enum pipeline_env env;
	char env_addr[FROM_ADDR_MAX];	/* ENV_OK: local@domain */
	char esmtp[PIPELINE_ESMTP_MAX];	/* MAIL parameters kept for a new sender */
	const char *return_path;	/* ReturnPath for this signed message, or NULL */
	char return_arg[RETURNPATH_MAX + 3]; /* "<return_path>" */
	char env_domain[FROM_DOMAIN_MAX]; /* ENV_OK: lowercase, no trailing dot */
	enum policy_spf spf;
	char spf_why[256];
	bool dns_done[PIPELINE_DNS_KINDS];
	double dns_seconds[PIPELINE_DNS_KINDS];

	struct hdr *hdrs;		/* held for the signer (trusted mail only) */
	size_t nhdrs, hdrcap, hdrbytes;
	bool headers_ok;		/* the block is held whole */
	size_t nfrom;
	char *from_value;		/* the first From's value, or NULL */
	bool from_too_long;
	size_t nar;			/* Authentication-Results fields seen */
	int *forged;			/* 1-based indexes of those claiming our id */
	size_t nforged;
	bool forged_overflow;
	bool ours_seen;			/* nforged was not 0 before our own was kept */
	struct {			/* fields in our name that look sealed */
		int index;
		char *value;
	} cand[SEAL_CANDIDATES];
	size_t ncand;
	int kept;			/* index of our own sealed field, kept; 0 none */
	size_t nmsgid;
	char *msgid;			/* the first Message-ID's value, or NULL */
	bool long_line;
	size_t body_col;		/* octets since the body's last LF */
	bool eoh_done;
	bool out_of_order;		/* an event the milter protocol never sends here */

	enum from_status from_status;
	struct from_addr from;
	const struct key *keys[KEYTABLE_MAX_PER_DOMAIN];
	size_t nkeys;
	const struct binding *binding;	/* RelayBindings line of the trusting identity */
	bool not_bound;			/* RelayBindings set, and the From domain not in it */
	bool align_checked;
	enum align_result aligned;
	bool dmarc_checked;
	enum dmarc_policy dmarc;
	bool decided;
	struct policy_decision decision;
	struct signer *signer;
	const char *error;
	const char *reply;		/* SMTP text of our own tempfail */

	struct pipeline_edit *edits;
	size_t nedits;
	char authres[AUTHRES_MAX];
};

struct pipeline {
	const struct seal *seal;	/* marks our own Authentication-Results; may be NULL */
	bool have_addr;
	struct sockaddr_storage addr;
	char client[INET6_ADDRSTRLEN];
	char helo[PIPELINE_TEXT_MAX];
	struct msg m;
	bool have_report;
	struct pipeline_report report;
};

/* pl_msg_clear: frees what the message holds and forgets every fact of it. */
void pl_msg_clear(struct msg *m);
/* pl_mono_now: the monotonic clock, seconds. */
double pl_mono_now(void);
/* pl_dns_timed: records that kind's check, begun at start, is done. */
void pl_dns_timed(struct msg *m, enum pipeline_dns kind, double start);

#endif
