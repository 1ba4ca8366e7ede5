/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * callbacks.c -- the xxfi_* callbacks: glue between libmilter and
 * lib/pipeline.c.  Each callback forwards its event to the connection's
 * pipeline and turns what comes back into an SMFIS_* answer, header
 * edits and the one log line.  Nothing here decides anything.
 *
 * Ownership: a struct conn lives from negotiation (or connect) to
 * xxfi_close; it holds the configuration reference of the open message
 * (confswap_acquire at MAIL, confswap_release when the message ends).
 */
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "callbacks.h"
#include "metrics.h"
#include "conf.h"
#include "dmarc.h"
#include "key.h"
#include "log.h"
#include "pipeline.h"
#include "sign.h"
#include "confswap.h"
#include "util.h"

struct conn {
	struct pipeline *pl;
	const struct conf *conf;	/* referenced while a message is open */
	const char *last_auth;		/* {auth_authen} pointer of the last MAIL, compared only */
	bool can_skip;			/* the MTA understands SMFIS_SKIP */
	bool can_chgfrom;		/* SMFIF_CHGFROM agreed: ReturnPath can be applied */
	bool postfix;			/* the MTA is Postfix (macro v), see apply_chgfrom */
	unsigned long proto;		/* SMFIP_* flags agreed in negotiation */
	bool has_held;			/* an answer waits for an answered stage (hold) */
	sfsistat held;			/* that answer */
	char held_why[128];		/* its reply text */
};

/* conn_get: the connection context, or NULL. */
static struct conn *
conn_get(SMFICTX *ctx)
{
	return smfi_getpriv(ctx);
}

/* The process's seal, set once before libmilter starts any thread. */
static const struct seal *conn_seal;

/* conn_new: a connection context with its pipeline, attached to ctx; NULL when out of memory. */
static struct conn *
conn_new(SMFICTX *ctx)
{
	struct conn *c = calloc(1, sizeof(*c));

	if (c == NULL)
		return NULL;
	if ((c->pl = pipeline_new(conn_seal)) == NULL || smfi_setpriv(ctx, c) != MI_SUCCESS) {
		pipeline_free(c->pl);
		free(c);
		return NULL;
	}
	return c;
}

/* msg_end: the message is over: forget it and drop its configuration. */
static void
msg_end(struct conn *c)
{
	pipeline_abort(c->pl);	/* frees the signer, which uses the configuration's keys */
	confswap_release(c->conf);
	c->conf = NULL;
}

/* qid: the MTA's queue id for log lines, or "NOQUEUE". */
static const char *
qid(SMFICTX *ctx)
{
	const char *id = smfi_getsymval(ctx, "i");

	return id != NULL ? id : "NOQUEUE";
}

/*
 * hold: the answer r, with its reply text, for the stage of flag (0, or
 * c NULL: a stage always answered).  A stage we agreed not to answer
 * (SMFIP_NR_*) gets SMFIS_NOREPLY, and cannot say TEMPFAIL or REJECT:
 * libmilter sends nothing and the MTA reads nothing.
 * Such an answer waits for the next stage that is answered (DATA, the end
 * of the header, the end of the message: release); the first one held wins.
 */
static sfsistat
hold(SMFICTX *ctx, struct conn *c, unsigned long flag, sfsistat r, const char *why)
{
	if (c == NULL || (c->proto & flag) == 0) {
		if (r == SMFIS_TEMPFAIL || r == SMFIS_REJECT)
			(void)smfi_setreply(ctx, r == SMFIS_TEMPFAIL ? "451" : "550",
			    r == SMFIS_TEMPFAIL ? "4.7.1" : "5.7.1", (char *)why);
		return r;
	}
	if (r != SMFIS_CONTINUE && r != SMFIS_SKIP && !c->has_held) {
		c->has_held = true;
		c->held = r;
		util_strlcpy(c->held_why, why != NULL ? why : "", sizeof(c->held_why));
	}
	return SMFIS_NOREPLY;
}

/* tempfail: a 451 for our own trouble at an answered stage; never bounce for our fault. */
static sfsistat
tempfail(SMFICTX *ctx, const char *why)
{
	return hold(ctx, NULL, 0, SMFIS_TEMPFAIL, why);
}

/* release: true, with the held answer in *r, when hold kept one. */
static bool
release(SMFICTX *ctx, struct conn *c, sfsistat *r)
{
	if (c == NULL || !c->has_held)
		return false;
	c->has_held = false;
	*r = hold(ctx, NULL, 0, c->held, c->held_why);
	return true;
}

/* The macros read at MAIL: queue id, SMTP AUTH login, client address. */
#define MAIL_MACROS "i {auth_authen} {client_addr}"

/*
 * warn_no_symlist: the MTA cannot be asked for MAIL_MACROS; say so once,
 * when a login is what trusts the vendor.
 */
static void
warn_no_symlist(void)
{
	static atomic_bool said;
	const struct conf *conf;

	if (atomic_exchange(&said, true))
		return;
	if ((conf = confswap_acquire()) == NULL)
		return;
	if (conf->relay_auth_users != NULL)
		log_warning("the MTA does not let relaysign ask for the {auth_authen} macro: "
		    "with RelayAuthUsers, make sure it sends it at MAIL (Postfix: "
		    "milter_mail_macros includes {auth_authen}; Sendmail: "
		    "confMILTER_MACROS_ENVFROM), or the vendor's mail goes unsigned");
	confswap_release(conf);
}

/* cb_negotiate: ask only for the stages and actions we use. */
static sfsistat
cb_negotiate(SMFICTX *ctx, unsigned long f0, unsigned long f1, unsigned long f2,
    unsigned long f3, unsigned long *pf0, unsigned long *pf1, unsigned long *pf2,
    unsigned long *pf3)
{
	unsigned long want_actions = SMFIF_ADDHDRS | SMFIF_CHGHDRS;
	/*
	 * Not SMFIP_NODATA: Postfix sends the DATA stage's macros even when
	 * told to skip the stage, unanswered; over TCP our delayed ACK of that
	 * lone packet then holds Postfix's next write in Nagle for ~40 ms a
	 * message (bench/README.md).  Answering DATA (cb_data) costs one round
	 * trip of ~0.1 ms and asks nothing of the user's kernel.
	 *
	 * MAIL and the body chunks go unanswered (their rare TEMPFAIL waits
	 * in hold for DATA or the end of the message): Postfix writes them
	 * with the next answered command, in one packet, so no lone packet
	 * waits for an ACK, and a message costs three round trips (DATA, the
	 * end of the header, the end of the message) whatever its size.  The
	 * end of the header stays answered: it accepts a stranger's message
	 * before its body is sent.
	 */
	unsigned long skip = SMFIP_NORCPT | SMFIP_NOUNKNOWN;
	unsigned long want = SMFIP_HDR_LEADSPC | SMFIP_SKIP | SMFIP_NR_CONN |
	    SMFIP_NR_HELO | SMFIP_NR_HDR | SMFIP_NR_MAIL | SMFIP_NR_BODY;
	const struct conf *conf;
	bool chgfrom = false;
	struct conn *c;

	(void)f2;
	(void)f3;
	/* SMFIF_CHGFROM only when ReturnPath asks for it (relaysign.conf(5)). */
	if ((conf = confswap_acquire()) != NULL) {
		if (conf->rt.return_paths != NULL) {
			if (f0 & SMFIF_CHGFROM)
				chgfrom = true;
			else
				log_err("ReturnPath is set, but the MTA does not offer to change "
				    "the envelope sender (SMFIF_CHGFROM: Postfix 2.6 and later, "
				    "Sendmail 8.14 and later): every message relaysign would sign "
				    "on this connection is tempfailed");
		}
		confswap_release(conf);
	}
	if ((f0 & want_actions) != want_actions) {
		log_err("MTA does not offer header changes (actions 0x%lx); "
		    "relaysign cannot work with it", f0);
		return SMFIS_REJECT;
	}
	/*
	 * SMFIP_HDR_LEADSPC: header values exactly as received, so simple
	 * canonicalization hashes what the verifier will see.
	 */
	if ((f1 & SMFIP_HDR_LEADSPC) == 0) {
		log_err("MTA does not pass headers with their leading space "
		    "(milter protocol 6 needed; Postfix: milter_protocol = 6)");
		return SMFIS_REJECT;
	}
	*pf0 = want_actions | (f0 & SMFIF_SETSYMLIST) | (chgfrom ? SMFIF_CHGFROM : 0);
	*pf1 = (f1 & skip) | (f1 & want);
	*pf2 = 0;
	*pf3 = 0;
	/*
	 * Ask for the MAIL-stage macros we read, whatever the MTA's own list
	 * says: a trimmed milter_mail_macros would otherwise leave the
	 * vendor's login unseen and its mail silently unsigned.  Postfix and
	 * Sendmail 8.14+ honour the request.
	 */
	if ((f0 & SMFIF_SETSYMLIST) == 0 ||
	    smfi_setsymlist(ctx, SMFIM_ENVFROM, MAIL_MACROS) != MI_SUCCESS)
		warn_no_symlist();

	if ((c = conn_new(ctx)) == NULL)
		return SMFIS_TEMPFAIL;
	c->can_skip = (*pf1 & SMFIP_SKIP) != 0;
	c->can_chgfrom = chgfrom;
	c->proto = *pf1;
	return SMFIS_CONTINUE;
}

/* cb_connect: a new client: nothing of the previous one is kept. */
static sfsistat
cb_connect(SMFICTX *ctx, char *hostname, _SOCK_ADDR *sa)
{
	struct conn *c = conn_get(ctx);
	const char *v;

	(void)hostname;
	/* An MTA that skipped negotiation: make the context now. */
	if (c == NULL && (c = conn_new(ctx)) == NULL)
		return SMFIS_TEMPFAIL;
	msg_end(c);
	c->has_held = false;
	c->last_auth = NULL;
	v = smfi_getsymval(ctx, "v");
	c->postfix = v != NULL && strncmp(v, "Postfix", 7) == 0;
	pipeline_connect(c->pl, sa);
	return hold(ctx, c, SMFIP_NR_CONN, SMFIS_CONTINUE, NULL);
}

/* cb_helo: the HELO name (the SPF identity for the null sender). */
static sfsistat
cb_helo(SMFICTX *ctx, char *helo)
{
	struct conn *c = conn_get(ctx);

	if (c != NULL)
		pipeline_helo(c->pl, helo);
	return hold(ctx, c, SMFIP_NR_HELO, SMFIS_CONTINUE, NULL);
}

/*
 * mail_auth: {auth_authen} only if the MTA sent it with this MAIL.
 * libmilter keeps each stage's macros until that stage's next macro
 * packet, so a MAIL sent without one would show the previous message's
 * login.  A fresh packet is read into a new buffer while the old one is
 * still allocated (libmilter 8.14-8.17, st_macros), so the same pointer
 * as at the last MAIL means no new packet came.
 */
static const char *
mail_auth(SMFICTX *ctx, struct conn *c)
{
	const char *auth = smfi_getsymval(ctx, "{auth_authen}");
	bool stale = auth != NULL && auth == c->last_auth;

	c->last_auth = auth;
	if (stale)
		log_warning("%s: {auth_authen} not sent with this MAIL; the previous "
		    "message's login is not used", qid(ctx));
	return stale ? NULL : auth;
}

/* cb_envfrom: a new message under the configuration in force now. */
static sfsistat
cb_envfrom(SMFICTX *ctx, char **argv)
{
	struct conn *c = conn_get(ctx);
	const char *auth, *client;
	char a[PIPELINE_TEXT_MAX], m[64];

	if (c == NULL)
		return tempfail(ctx, "relaysign: no connection context");
	msg_end(c);
	c->has_held = false;
	/*
	 * Before anything can answer this MAIL: mail_auth remembers this
	 * packet's login, and a MAIL answered without looking would leave it
	 * one packet behind, so the next MAIL's fresh login would be taken
	 * for a stale one (and its mail for untrusted).
	 */
	auth = mail_auth(ctx, c);
	if ((c->conf = confswap_acquire()) == NULL)
		return hold(ctx, c, SMFIP_NR_MAIL, SMFIS_TEMPFAIL, "relaysign: shutting down");
	client = smfi_getsymval(ctx, "{client_addr}");
	if (pipeline_mail(c->pl, c->conf, argv != NULL ? argv[0] : NULL, auth, client) !=
	    PIPELINE_CONTINUE) {
		msg_end(c);
		return hold(ctx, c, SMFIP_NR_MAIL, SMFIS_TEMPFAIL, "relaysign: out of memory");
	}
	if (argv != NULL && argv[0] != NULL)
		pipeline_mail_params(c->pl, argv + 1);
	log_debug("%s: client=[%s] auth=%s", qid(ctx), client != NULL ?
	    log_clean(m, sizeof(m), client) : "-", log_clean(a, sizeof(a), auth != NULL ?
	    auth : "-"));
	return hold(ctx, c, SMFIP_NR_MAIL, SMFIS_CONTINUE, NULL);
}

/* cb_header: one field into the pipeline. */
static sfsistat
cb_header(SMFICTX *ctx, char *name, char *value)
{
	struct conn *c = conn_get(ctx);

	if (c != NULL)
		(void)pipeline_header(c->pl, name, value);
	return hold(ctx, c, SMFIP_NR_HDR, SMFIS_CONTINUE, NULL);
}

/* log_report: the one line per decided message (relaysign(8) LOGGING). */
static void
log_report(SMFICTX *ctx, const struct conn *c, const struct pipeline_report *r)
{
	char user[PIPELINE_TEXT_MAX], relay[PIPELINE_TEXT_MAX + 8], mf[FROM_DOMAIN_MAX],
	    from[FROM_DOMAIN_MAX], sigs[512] = "", why[64] = "", mm[80], bind[320] = "",
	    bclean[300], rp[600] = "", was[FROM_ADDR_MAX];
	size_t i, n = r->signer != NULL ? signer_count(r->signer) : 0;

	metrics_message(r);
	if (r->client_mismatch)
		log_warning("%s: {client_addr} [%s] is not the connected client [%s]: "
		    "no relay trust by address", qid(ctx), log_clean(mm, sizeof(mm),
		    r->client_macro), r->client);
	if (r->error != NULL)
		log_err("%s: %s", qid(ctx), r->error);
	if (r->relay_name != NULL)
		snprintf(relay, sizeof(relay), "%s:%s", policy_trust_name(r->trust),
		    log_clean(user, sizeof(user), r->relay_name));
	else
		util_strlcpy(relay, policy_trust_name(r->trust), sizeof(relay));
	if (r->decision.reason != POLICY_REASON_NONE)
		snprintf(why, sizeof(why), " reason=%s", policy_reason_name(r->decision.reason));
	if (r->return_path != NULL)
		snprintf(rp, sizeof(rp), " return-path=%s was=%s", r->return_path,
		    log_clean(was, sizeof(was), r->mailfrom_was));
	if (r->bindings && r->from_domain != NULL)
		snprintf(bind, sizeof(bind), " binding=%s", r->binding != NULL ?
		    log_clean(bclean, sizeof(bclean), r->binding) : "none");
	if (n > 0) {
		size_t off;

		off = (size_t)snprintf(sigs, sizeof(sigs), " d=%s s=", signer_key(r->signer,
		    0)->domain);
		for (i = 0; i < n && off < sizeof(sigs); i++)
			off += (size_t)snprintf(sigs + off, sizeof(sigs) - off, "%s%s",
			    i ? "," : "", signer_key(r->signer, i)->selector);
		for (i = 0; i < n && off < sizeof(sigs); i++)
			off += (size_t)snprintf(sigs + off, sizeof(sigs) - off, "%s%s",
			    i ? "," : " a=", key_alg_name(signer_key(r->signer, i)->alg));
	}
	if (r->trust == POLICY_TRUST_NONE && r->decision.action == POLICY_ACCEPT) {
		if (r->decision.reason == POLICY_REASON_ALREADY_HANDLED)
			log_info("%s: relay=none client=[%s] action=accept reason=%s: "
			    "kept our own Authentication-Results from a first pass", qid(ctx),
			    r->client, policy_reason_name(r->decision.reason));
		if (r->nforged > 0)
			log_info("%s: relay=none client=[%s] removed %zu forged "
			    "Authentication-Results claiming %s", qid(ctx), r->client,
			    r->nforged, c->conf->authserv_id);
		else if (r->decision.reason != POLICY_REASON_ALREADY_HANDLED)
			log_debug("%s: relay=none client=[%s] action=accept", qid(ctx),
			    r->client);
		return;
	}
	log_debug("%s: spf=%s: %s", qid(ctx), policy_spf_name(r->spf), r->spf_why);
	log_info("%s: relay=%s client=[%s] mailfrom=%s spf=%s from=%s aligned=%s%s%s "
	    "action=%s%s%s%s%s", qid(ctx), relay, r->client,
	    r->env == PIPELINE_ENV_NULL ? "<>" : r->env == PIPELINE_ENV_OK ?
	    log_clean(mf, sizeof(mf), r->mailfrom_domain) : pipeline_env_name(r->env),
	    policy_spf_name(r->spf),
	    r->from_domain != NULL ? log_clean(from, sizeof(from), r->from_domain) :
	    from_status_name(r->from_status),
	    !r->align_checked ? "none" : r->aligned == ALIGN_PASS ? "yes" :
	    r->aligned == ALIGN_FAIL ? "no" : "none",
	    r->dmarc_checked ? " dmarc=" : "", r->dmarc_checked ? dmarc_policy_name(r->dmarc) : "",
	    policy_action_name(r->decision.action), why, bind, sigs, rp);
	if (r->nforged > 0)
		log_info("%s: removed %zu forged Authentication-Results", qid(ctx), r->nforged);
}

/*
 * answer: turns a pipeline status into the milter's answer for the stage
 * of flag (0: always answered); a message that ended is logged and
 * forgotten.
 */
static sfsistat
answer(SMFICTX *ctx, struct conn *c, enum pipeline_status st, unsigned long flag)
{
	const struct pipeline_report *r;
	const char *why = NULL;
	sfsistat a;

	switch (st) {
	case PIPELINE_CONTINUE:
		return hold(ctx, c, flag, SMFIS_CONTINUE, NULL);
	case PIPELINE_SKIP:
		return hold(ctx, c, flag, c->can_skip ? SMFIS_SKIP : SMFIS_CONTINUE, NULL);
	case PIPELINE_ACCEPT:
	case PIPELINE_TEMPFAIL:
	case PIPELINE_REJECT:
		break;
	}
	if ((r = pipeline_report(c->pl)) != NULL)
		log_report(ctx, c, r);
	if (st == PIPELINE_TEMPFAIL || st == PIPELINE_REJECT)
		why = pipeline_reply(c->pl);
	a = hold(ctx, c, flag, st == PIPELINE_ACCEPT ? SMFIS_ACCEPT : st == PIPELINE_TEMPFAIL ?
	    SMFIS_TEMPFAIL : SMFIS_REJECT, why);	/* copies why before msg_end */
	msg_end(c);
	return a;
}

/* cb_data: answered on purpose (see cb_negotiate), with what MAIL held. */
static sfsistat
cb_data(SMFICTX *ctx)
{
	struct conn *c = conn_get(ctx);
	sfsistat r;

	if (c == NULL)
		return tempfail(ctx, "relaysign: no connection context");
	return release(ctx, c, &r) ? r : SMFIS_CONTINUE;
}

/* cb_eoh: the end of the header block. */
static sfsistat
cb_eoh(SMFICTX *ctx)
{
	struct conn *c = conn_get(ctx);
	enum pipeline_status st;
	sfsistat r;

	if (c == NULL)
		return SMFIS_CONTINUE;
	if (release(ctx, c, &r)) {
		msg_end(c);
		return r;
	}
	/* SMFIS_SKIP is for body chunks only: the first one will be skipped. */
	if ((st = pipeline_eoh(c->pl, qid(ctx))) == PIPELINE_SKIP)
		st = PIPELINE_CONTINUE;
	return answer(ctx, c, st, 0);
}

/* cb_body: one chunk into the pipeline. */
static sfsistat
cb_body(SMFICTX *ctx, unsigned char *buf, size_t len)
{
	struct conn *c = conn_get(ctx);

	if (c == NULL)
		return SMFIS_CONTINUE;
	return answer(ctx, c, pipeline_body(c->pl, buf, len), SMFIP_NR_BODY);
}

/* add_header: insert at index, with the leading space LEADSPC asks of us. */
static int
add_header(SMFICTX *ctx, const char *name, const char *value, int index)
{
	size_t len = strlen(value) + 2;
	char *v = malloc(len);
	int rc;

	if (v == NULL)
		return -1;
	snprintf(v, len, " %s", value);
	rc = smfi_insheader(ctx, index, (char *)name, v) == MI_SUCCESS ? 0 : -1;
	free(v);
	return rc;
}

/*
 * apply_chgfrom: the new envelope sender.  Postfix keeps SIZE, BODY,
 * SMTPUTF8, RET and ENVID with the message, not the sender, and warns
 * about (and ignores) ESMTP arguments given here (cleanup_chg_from), so
 * it gets none; Sendmail takes them with the new sender.
 */
static int
apply_chgfrom(SMFICTX *ctx, const struct conn *c, const struct pipeline_edit *e)
{
	if (!c->can_chgfrom) {
		log_err("%s: ReturnPath: the MTA did not agree to changes of the envelope "
		    "sender on this connection (SMFIF_CHGFROM): tempfailed, not sent with the "
		    "vendor's sender", qid(ctx));
		return -1;
	}
	return smfi_chgfrom(ctx, (char *)e->value, c->postfix || e->args[0] == '\0' ? NULL :
	    (char *)e->args) == MI_SUCCESS ? 0 : -1;
}

/* cb_eom: the decision, the edits, the log line. */
static sfsistat
cb_eom(SMFICTX *ctx)
{
	struct conn *c = conn_get(ctx);
	const struct pipeline_edit *e;
	const struct pipeline_report *r;
	enum pipeline_status st;
	size_t i, n;
	sfsistat held;
	int rc;

	if (c == NULL)
		return SMFIS_CONTINUE;
	if (release(ctx, c, &held)) {
		msg_end(c);
		return held;
	}
	st = pipeline_eom(c->pl, &e, &n);
	if (st == PIPELINE_ACCEPT || st == PIPELINE_SKIP)
		st = PIPELINE_CONTINUE;	/* at the end, both mean: as it is */
	if (st != PIPELINE_CONTINUE)
		return answer(ctx, c, st, 0);
	for (i = 0; i < n; i++) {
		if (e[i].kind == PIPELINE_EDIT_DELETE)
			rc = smfi_chgheader(ctx, (char *)e[i].name, e[i].index, NULL) ==
			    MI_SUCCESS ? 0 : -1;
		else if (e[i].kind == PIPELINE_EDIT_CHGFROM)
			rc = apply_chgfrom(ctx, c, &e[i]);
		else
			rc = add_header(ctx, e[i].name, e[i].value, e[i].index);
		if (rc != 0) {
			log_err("%s: could not %s", qid(ctx), e[i].kind == PIPELINE_EDIT_DELETE ?
			    "remove an Authentication-Results field" : e[i].kind ==
			    PIPELINE_EDIT_CHGFROM ? "change the envelope sender" : "add a field");
			msg_end(c);
			return tempfail(ctx, "relaysign: signing failed, try again later");
		}
	}
	if ((r = pipeline_report(c->pl)) != NULL)
		log_report(ctx, c, r);
	msg_end(c);
	return SMFIS_CONTINUE;
}

/* cb_abort: the MTA gave up on the message. */
static sfsistat
cb_abort(SMFICTX *ctx)
{
	struct conn *c = conn_get(ctx);

	if (c != NULL) {
		msg_end(c);
		c->has_held = false;
	}
	return SMFIS_CONTINUE;
}

/* cb_close: the connection is gone. */
static sfsistat
cb_close(SMFICTX *ctx)
{
	struct conn *c = conn_get(ctx);

	if (c != NULL) {
		msg_end(c);
		pipeline_free(c->pl);
		free(c);
		(void)smfi_setpriv(ctx, NULL);
	}
	return SMFIS_CONTINUE;
}

static struct smfiDesc desc = {
	.xxfi_name = "relaysign",
	.xxfi_version = SMFI_VERSION,
	.xxfi_flags = SMFIF_ADDHDRS | SMFIF_CHGHDRS | SMFIF_CHGFROM,
	.xxfi_connect = cb_connect,
	.xxfi_helo = cb_helo,
	.xxfi_envfrom = cb_envfrom,
	.xxfi_envrcpt = NULL,
	.xxfi_header = cb_header,
	.xxfi_eoh = cb_eoh,
	.xxfi_body = cb_body,
	.xxfi_eom = cb_eom,
	.xxfi_abort = cb_abort,
	.xxfi_close = cb_close,
	.xxfi_unknown = NULL,
	.xxfi_data = cb_data,
	.xxfi_negotiate = cb_negotiate,
};

/* callbacks_desc: the smfiDesc to register. */
struct smfiDesc *
callbacks_desc(const struct seal *seal)
{
	conn_seal = seal;
	return &desc;
}
