/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * explain.c -- relaysign -x (explain.h): a message file is played to the
 * per-message pipeline as an MTA would play it (connect, HELO, MAIL, each
 * header field, end of headers, the body in chunks, end of message), and
 * the pipeline's report and edits are printed.  The decision is the
 * daemon's because the code is: nothing here decides anything.
 *
 * The file is a message as stored (LF or CRLF line ends; an mbox "From "
 * line first is skipped).  Header fields go to the pipeline as Postfix
 * sends them to a milter: the value as written after the colon (leading
 * space kept, SMFIP_HDR_LEADSPC), folded lines joined with LF; the body
 * goes with CRLF line ends, as SMTP carries it.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#include <jansson.h>

#include "bindings.h"
#include "cidr.h"
#include "explain.h"
#include "file.h"
#include "key.h"
#include "keytable.h"
#include "pipeline.h"
#include "seal.h"
#include "sign.h"
#include "util.h"

/* The largest message explained (it is held whole, for -o). */
#define EXPLAIN_MESSAGE_MAX (64UL * 1024 * 1024)
/* Body chunks as libmilter hands them over (MILTER_CHUNK_SIZE). */
#define EXPLAIN_CHUNK 65535
/* Keys listed for the From domain. */
#define EXPLAIN_KEYS_MAX 16

struct field {
	char *name;
	char *value;		/* after the colon, as written; folds joined by LF */
};

struct message {
	char *buf;		/* the file */
	size_t len;
	struct field *f;
	size_t nf, capf;
	size_t body;		/* offset of the body in buf */
	bool crlf;		/* the file's first line ends in CRLF */
};

/* read_stdin: standard input, at most max bytes. */
static int
read_stdin(size_t max, char **buf_r, size_t *len_r)
{
	size_t cap = 65536, len = 0, n;
	char *buf = malloc(cap + 1), *bigger;

	if (buf == NULL)
		return -1;
	while ((n = fread(buf + len, 1, cap - len, stdin)) > 0) {
		len += n;
		if (len == cap) {
			if (cap >= max || (bigger = realloc(buf, cap * 2 + 1)) == NULL) {
				free(buf);
				errno = cap >= max ? EFBIG : ENOMEM;
				return -1;
			}
			buf = bigger;
			cap *= 2;
		}
	}
	if (ferror(stdin)) {
		free(buf);
		return -1;
	}
	buf[len] = '\0';
	*buf_r = buf;
	*len_r = len;
	return 0;
}

/* line_end: the end of the line at off (its LF, or len), and the next line's start. */
static size_t
line_end(const struct message *m, size_t off, size_t *next_r)
{
	const char *lf = memchr(m->buf + off, '\n', m->len - off);
	size_t end = lf != NULL ? (size_t)(lf - m->buf) : m->len;

	*next_r = lf != NULL ? end + 1 : m->len;
	if (end > off && m->buf[end - 1] == '\r')
		end--;
	return end;
}

/* add_field: one field, name and value copied. */
static int
add_field(struct message *m, const char *name, size_t nlen, const char *value, size_t vlen)
{
	struct field *bigger;

	if (m->nf == m->capf) {
		size_t cap = m->capf ? m->capf * 2 : 32;

		if ((bigger = realloc(m->f, cap * sizeof(*bigger))) == NULL)
			return -1;
		m->f = bigger;
		m->capf = cap;
	}
	if ((m->f[m->nf].name = strndup(name, nlen)) == NULL ||
	    (m->f[m->nf].value = strndup(value, vlen)) == NULL) {
		free(m->f[m->nf].name);
		return -1;
	}
	m->nf++;
	return 0;
}

/*
 * parse_message: the header fields and where the body starts.  A line
 * that is neither a field nor a continuation ends the header block, as
 * Postfix's cleanup takes it (the line then belongs to the body).
 */
static int
parse_message(struct message *m)
{
	size_t off = 0, next, end;
	char *val = NULL;

	end = line_end(m, 0, &next);
	m->crlf = next > end + 1;
	if (m->len >= 5 && memcmp(m->buf, "From ", 5) == 0)
		off = next;	/* mbox separator */
	while (off < m->len) {
		const char *line = m->buf + off, *colon;
		size_t vlen, nlen;

		end = line_end(m, off, &next);
		if (end == off) {
			off = next;	/* the empty line: the body follows */
			break;
		}
		colon = memchr(line, ':', end - off);
		nlen = colon != NULL ? (size_t)(colon - line) : 0;
		if (nlen == 0 || strcspn(line, " \t") < nlen)
			break;
		/* The value: this line after the colon, and its continuation lines. */
		vlen = end - off - nlen - 1;
		if ((val = strndup(colon + 1, vlen)) == NULL)
			return -1;
		off = next;
		while (off < m->len && (m->buf[off] == ' ' || m->buf[off] == '\t')) {
			size_t cend = line_end(m, off, &next), clen = cend - off;
			char *bigger = realloc(val, vlen + 1 + clen + 1);

			if (bigger == NULL) {
				free(val);
				return -1;
			}
			val = bigger;
			val[vlen++] = '\n';
			memcpy(val + vlen, m->buf + off, clen);
			vlen += clen;
			val[vlen] = '\0';
			off = next;
		}
		if (add_field(m, line, nlen, val, vlen) != 0) {
			free(val);
			return -1;
		}
		free(val);
		val = NULL;
	}
	m->body = off < m->len ? off : m->len;
	return 0;
}

/* message_free: everything parse_message and the reader allocated. */
static void
message_free(struct message *m)
{
	for (size_t i = 0; i < m->nf; i++) {
		free(m->f[i].name);
		free(m->f[i].value);
	}
	free(m->f);
	free(m->buf);
}

/* field_value: the value of the first field called name, or NULL. */
static const char *
field_value(const struct message *m, const char *name)
{
	for (size_t i = 0; i < m->nf; i++)
		if (strcasecmp(m->f[i].name, name) == 0)
			return m->f[i].value;
	return NULL;
}

/*
 * default_sender: with no -m, the envelope sender the message itself
 * records (Return-Path, as a delivered copy has it), else its From
 * address; into buf as an address without brackets.
 */
static const char *
default_sender(const struct message *m, char *buf, size_t len, const char **how_r)
{
	const char *rp = field_value(m, "Return-Path"), *from = field_value(m, "From");
	struct from_addr fa;

	if (rp != NULL) {
		const char *lt = strchr(rp, '<'), *gt = lt != NULL ? strchr(lt, '>') : NULL;

		if (gt != NULL) {
			snprintf(buf, len, "%.*s", (int)(gt - lt - 1), lt + 1);
			*how_r = "the message's Return-Path";
			return buf;
		}
	}
	if (from != NULL && from_parse(from, strlen(from), &fa, NULL, 0) == FROM_OK) {
		snprintf(buf, len, "%s", fa.addr);
		*how_r = "the message's From address (no Return-Path)";
		return buf;
	}
	*how_r = "the null sender (no Return-Path, no usable From)";
	buf[0] = '\0';
	return buf;
}

/* tag_value: the value of DKIM tag t in a DKIM-Signature value, whitespace removed. */
static char *
tag_value(const char *sig, const char *t)
{
	size_t tl = strlen(t);
	const char *p = sig;

	while (*p != '\0') {
		const char *semi = strchr(p, ';'), *end = semi != NULL ? semi : p + strlen(p);
		const char *eq;

		while (p < end && isspace((unsigned char)*p))
			p++;
		eq = memchr(p, '=', (size_t)(end - p));
		if (eq != NULL) {
			const char *ne = eq;

			while (ne > p && isspace((unsigned char)ne[-1]))
				ne--;
			if ((size_t)(ne - p) == tl && strncmp(p, t, tl) == 0) {
				char *out = malloc((size_t)(end - eq)), *o = out;

				if (out == NULL)
					return NULL;
				for (const char *c = eq + 1; c < end; c++)
					if (!isspace((unsigned char)*c))
						*o++ = *c;
				*o = '\0';
				return out;
			}
		}
		p = semi != NULL ? semi + 1 : end;
	}
	return NULL;
}

/* exit_of: the exit status for an action. */
static int
exit_of(enum policy_action a)
{
	switch (a) {
	case POLICY_SIGN:
		return EXPLAIN_EXIT_SIGN;
	case POLICY_TAG:
		return EXPLAIN_EXIT_TAG;
	case POLICY_ACCEPT:
		return EXPLAIN_EXIT_ACCEPT;
	case POLICY_TEMPFAIL:
		return EXPLAIN_EXIT_TEMPFAIL;
	case POLICY_REJECT:
		return EXPLAIN_EXIT_REJECT;
	}
	return EXPLAIN_EXIT_ERROR;
}

/*
 * why_untrusted: for a client no relay identity matched, what each kind
 * of identity said.
 */
static void
why_untrusted(const struct conf *conf, const struct sockaddr *sa, const char *client,
    const char *login, char *buf, size_t len)
{
	bool login_ok = false;

	if (login != NULL) {
		for (char **u = conf->relay_auth_users; u != NULL && *u != NULL; u++)
			login_ok |= strcmp(*u, login) == 0;
		login_ok |= conf->rt.bindings != NULL && bindings_has_login(conf->rt.bindings, login);
	}
	snprintf(buf, len, "%s %s in RelayNetworks; %s%s%s; %s", client,
	    cidr_set_match(conf->relay_networks, sa) ? "is" : "is not",
	    login == NULL ? "no SMTP AUTH login" : "login ", login == NULL ? "" : login,
	    login == NULL ? "" : login_ok ? " is trusted" : " is not trusted (not in "
	    "RelayAuthUsers, no auth: line)",
	    conf->relay_spf_names == NULL || conf->relay_spf_names[0] == NULL ?
	    "no RelaySPFNames" : "no RelaySPFNames record authorises it");
}

/* binding_domains_text: the domains the binding named ident may have signed. */
static void
binding_domains_text(const struct conf *conf, const char *ident, char *buf, size_t len)
{
	size_t off = 0;

	buf[0] = '\0';
	for (size_t i = 0; conf->rt.bindings != NULL && i < bindings_count(conf->rt.bindings); i++) {
		const struct binding *bd = bindings_at(conf->rt.bindings, i);

		if (strcmp(binding_ident(bd), ident) != 0)
			continue;
		for (char *const *d = binding_domains(bd); *d != NULL && off < len; d++)
			off += (size_t)snprintf(buf + off, len - off, "%s%s", off ? " " : "", *d);
	}
}

/* One header field of the message passed on: the file's, or one we add. */
struct out_field {
	const char *name;
	const char *value;
	bool ours;		/* added: value has no leading space */
};

/*
 * write_out: the message as relaysign passes it on: the edits applied to
 * the header block in order (a deletion removes the index-th field of
 * that name, an insertion goes in at a position counted from the top),
 * the body as it was, the file's line ends kept.
 */
static int
write_out(const struct message *m, const struct pipeline_edit *e, size_t n, const char *path)
{
	struct out_field *f = calloc(m->nf + n + 1, sizeof(*f));
	size_t nf = m->nf, i, j;
	const char *eol = m->crlf ? "\r\n" : "\n";
	FILE *fp;
	int rc = 0;

	if (f == NULL)
		return -1;
	for (i = 0; i < m->nf; i++)
		f[i] = (struct out_field){ m->f[i].name, m->f[i].value, false };
	for (i = 0; i < n; i++) {
		if (e[i].kind == PIPELINE_EDIT_DELETE) {
			int seen = 0;

			for (j = 0; j < nf; j++)
				if (strcasecmp(f[j].name, e[i].name) == 0 && ++seen == e[i].index)
					break;
			if (j < nf) {
				memmove(f + j, f + j + 1, (nf - j - 1) * sizeof(*f));
				nf--;
			}
		} else if (e[i].kind == PIPELINE_EDIT_INSERT) {
			size_t at = e[i].index < 0 ? 0 : (size_t)e[i].index > nf ? nf :
			    (size_t)e[i].index;

			memmove(f + at + 1, f + at, (nf - at) * sizeof(*f));
			f[at] = (struct out_field){ e[i].name, e[i].value, true };
			nf++;
		}
	}
	if ((fp = strcmp(path, "-") == 0 ? stdout : fopen(path, "we")) == NULL) {
		free(f);
		return -1;
	}
	for (i = 0; i < nf; i++) {
		fprintf(fp, "%s:%s", f[i].name, f[i].ours ? " " : "");
		/* Folds as the file has its line ends. */
		for (const char *c = f[i].value; *c != '\0'; c++) {
			if (*c == '\r' && c[1] == '\n')
				continue;
			if (*c == '\n')
				fputs(eol, fp);
			else
				fputc(*c, fp);
		}
		fputs(eol, fp);
	}
	fputs(eol, fp);
	if (m->body < m->len)
		fwrite(m->buf + m->body, 1, m->len - m->body, fp);
	if (fflush(fp) != 0 || ferror(fp))
		rc = -1;
	if (fp != stdout && fclose(fp) != 0)
		rc = -1;
	free(f);
	return rc;
}

/* jstr: a JSON string, or null for NULL. */
static json_t *
jstr(const char *s)
{
	return s != NULL ? json_string(s) : json_null();
}

/* explain_run: see explain.h. */
int
explain_run(const struct conf *conf, const struct explain_args *a, FILE *out)
{
	struct message m = { 0 };
	struct sockaddr_storage ss;
	struct pipeline *p = NULL;
	struct seal *seal = NULL;
	const struct pipeline_report *r;
	const struct pipeline_edit *e = NULL;
	const struct key *keys[EXPLAIN_KEYS_MAX];
	const char *client = a->client != NULL ? a->client : "127.0.0.1", *how = "-m";
	const char *ar = NULL, *chgfrom = NULL;
	const char *sigs[SIGN_MAX_KEYS];
	char err[1024], helo[80], mf[FROM_ADDR_MAX + 3], sender[FROM_ADDR_MAX], why[512] = "";
	char bdom[1024] = "";
	enum pipeline_status st;
	size_t n = 0, nkeys = 0, nsigs = 0, i;
	int rc = EXPLAIN_EXIT_ERROR;

	if (util_sockaddr(client, &ss) != 0) {
		fprintf(stderr, "relaysign: -a %s: not an IPv4 or IPv6 address\n", client);
		return EXPLAIN_EXIT_ERROR;
	}
	if (strcmp(a->message, "-") == 0 ? read_stdin(EXPLAIN_MESSAGE_MAX, &m.buf, &m.len) != 0 :
	    file_read(a->message, EXPLAIN_MESSAGE_MAX, &m.buf, &m.len, NULL, err,
	    sizeof(err)) != 0) {
		fprintf(stderr, "relaysign: -x %s\n", strcmp(a->message, "-") == 0 ?
		    strerror(errno) : err);
		return EXPLAIN_EXIT_ERROR;
	}
	if (parse_message(&m) != 0 || (seal = seal_new()) == NULL ||
	    (p = pipeline_new(seal)) == NULL) {
		fprintf(stderr, "relaysign: -x %s: out of memory\n", a->message);
		goto out;
	}
	if (a->mailfrom != NULL) {
		size_t ml = strlen(a->mailfrom);

		/* "<a@b>" as on the MAIL command, or "a@b"; "<>" or "" the null sender. */
		if (ml >= 2 && a->mailfrom[0] == '<' && a->mailfrom[ml - 1] == '>')
			snprintf(sender, sizeof(sender), "%.*s", (int)(ml - 2), a->mailfrom + 1);
		else
			snprintf(sender, sizeof(sender), "%s", a->mailfrom);
	}
	else
		default_sender(&m, sender, sizeof(sender), &how);
	snprintf(mf, sizeof(mf), "<%s>", sender);
	if (a->helo != NULL)
		snprintf(helo, sizeof(helo), "%s", a->helo);
	else
		snprintf(helo, sizeof(helo), ss.ss_family == AF_INET6 ? "[IPv6:%s]" : "[%s]",
		    client);

	/* The conversation, as the MTA would have it with the milter. */
	pipeline_connect(p, (const struct sockaddr *)&ss);
	pipeline_helo(p, helo);
	st = pipeline_mail(p, conf, mf, a->login, client);
	for (i = 0; st == PIPELINE_CONTINUE && i < m.nf; i++)
		st = pipeline_header(p, m.f[i].name, m.f[i].value);
	if (st == PIPELINE_CONTINUE)
		st = pipeline_eoh(p, "explain");
	if (st == PIPELINE_SKIP)
		st = PIPELINE_CONTINUE;		/* no body needed: straight to the end */
	else if (st == PIPELINE_CONTINUE) {
		/* The body with CRLF line ends, as SMTP carries it. */
		unsigned char chunk[EXPLAIN_CHUNK + 1];
		size_t c = 0;

		for (i = m.body; i < m.len && st == PIPELINE_CONTINUE; i++) {
			if (m.buf[i] == '\n' && (i == m.body || m.buf[i - 1] != '\r'))
				chunk[c++] = '\r';
			chunk[c++] = (unsigned char)m.buf[i];
			if (c >= EXPLAIN_CHUNK - 1) {
				st = pipeline_body(p, chunk, c);
				c = 0;
			}
		}
		if (c > 0 && st == PIPELINE_CONTINUE)
			st = pipeline_body(p, chunk, c);
		if (st == PIPELINE_SKIP)
			st = PIPELINE_CONTINUE;
	}
	if (st == PIPELINE_CONTINUE)
		st = pipeline_eom(p, &e, &n);
	if ((r = pipeline_report(p)) == NULL) {
		fprintf(stderr, "relaysign: -x %s: the pipeline decided nothing (status %d)\n",
		    a->message, (int)st);
		goto out;
	}
	for (i = 0; i < n; i++) {
		if (e[i].kind == PIPELINE_EDIT_INSERT &&
		    strcasecmp(e[i].name, "Authentication-Results") == 0)
			ar = e[i].value;
		else if (e[i].kind == PIPELINE_EDIT_INSERT &&
		    strcasecmp(e[i].name, "DKIM-Signature") == 0 && nsigs < SIGN_MAX_KEYS)
			sigs[nsigs++] = e[i].value;
		else if (e[i].kind == PIPELINE_EDIT_CHGFROM)
			chgfrom = e[i].value;
	}
	if (r->from_domain != NULL)
		nkeys = keytable_lookup(conf->rt.keys, r->from_domain, keys, EXPLAIN_KEYS_MAX);
	if (r->trust == POLICY_TRUST_NONE)
		why_untrusted(conf, (const struct sockaddr *)&ss, r->client, a->login, why,
		    sizeof(why));
	if (r->binding != NULL)
		binding_domains_text(conf, r->binding, bdom, sizeof(bdom));
	rc = exit_of(r->decision.action);

	if (a->json) {
		json_t *o = json_object(), *jk = json_array(), *js = json_array();

		json_object_set_new(o, "message", json_string(a->message));
		json_object_set_new(o, "client", json_string(r->client));
		json_object_set_new(o, "helo", json_string(helo));
		json_object_set_new(o, "mail_from", json_string(sender));
		json_object_set_new(o, "mail_from_source", json_string(a->mailfrom != NULL ?
		    "command line" : how));
		json_object_set_new(o, "login", jstr(a->login));
		json_object_set_new(o, "dns", json_string(a->zone_path != NULL ? a->zone_path :
		    "live"));
		json_object_set_new(o, "relay", json_string(policy_trust_name(r->trust)));
		json_object_set_new(o, "relay_name", jstr(r->relay_name));
		json_object_set_new(o, "relay_why_none", jstr(why[0] ? why : NULL));
		json_object_set_new(o, "binding", r->bindings && r->from_domain != NULL ?
		    json_string(r->binding != NULL ? r->binding : "none") : json_null());
		json_object_set_new(o, "binding_domains", jstr(bdom[0] ? bdom : NULL));
		json_object_set_new(o, "spf", json_string(policy_spf_name(r->spf)));
		json_object_set_new(o, "spf_reason", jstr(r->spf_why));
		json_object_set_new(o, "from_status", json_string(from_status_name(r->from_status)));
		json_object_set_new(o, "from_domain", jstr(r->from_domain));
		json_object_set_new(o, "aligned", json_string(!r->align_checked ? "none" :
		    align_result_name(r->aligned)));
		json_object_set_new(o, "dmarc", r->dmarc_checked ?
		    json_string(dmarc_policy_name(r->dmarc)) : json_null());
		for (i = 0; i < nkeys; i++) {
			json_t *k = json_object();

			json_object_set_new(k, "domain", json_string(keys[i]->domain));
			json_object_set_new(k, "selector", json_string(keys[i]->selector));
			json_object_set_new(k, "algorithm", json_string(key_alg_name(keys[i]->alg)));
			json_array_append_new(jk, k);
		}
		json_object_set_new(o, "keys", jk);
		json_object_set_new(o, "action", json_string(policy_action_name(r->decision.action)));
		json_object_set_new(o, "reason", r->decision.reason != POLICY_REASON_NONE ?
		    json_string(policy_reason_name(r->decision.reason)) : json_null());
		json_object_set_new(o, "error", jstr(r->error));
		json_object_set_new(o, "authentication_results", jstr(ar));
		for (i = 0; i < nsigs; i++) {
			json_t *s = json_object();
			char *d = tag_value(sigs[i], "d"), *sel = tag_value(sigs[i], "s"),
			    *alg = tag_value(sigs[i], "a"), *h = tag_value(sigs[i], "h");

			json_object_set_new(s, "d", jstr(d));
			json_object_set_new(s, "s", jstr(sel));
			json_object_set_new(s, "a", jstr(alg));
			json_object_set_new(s, "h", jstr(h));
			json_array_append_new(js, s);
			free(d);
			free(sel);
			free(alg);
			free(h);
		}
		json_object_set_new(o, "signatures", js);
		json_object_set_new(o, "envelope_sender", jstr(chgfrom));
		json_object_set_new(o, "forged_removed", json_integer((json_int_t)r->nforged));
		json_object_set_new(o, "exit", json_integer(rc));
		if (json_dumpf(o, out, JSON_INDENT(2) | JSON_PRESERVE_ORDER) != 0)
			rc = EXPLAIN_EXIT_ERROR;
		fputc('\n', out);
		json_decref(o);
	} else {
		fprintf(out, "message:     %s (%zu header fields)\n", a->message, m.nf);
		fprintf(out, "client:      [%s]%s, HELO %s, MAIL FROM <%s> (%s), login %s\n",
		    r->client, a->client == NULL ? " (the default; give -a)" : "", helo, sender,
		    a->mailfrom != NULL ? "-m" : how, a->login != NULL ? a->login : "none");
		fprintf(out, "dns:         %s\n", a->zone_path != NULL ? a->zone_path :
		    "live, through the resolver (DNSTimeout)");
		if (r->trust == POLICY_TRUST_NONE)
			fprintf(out, "relay:       none: %s\n", why);
		else
			fprintf(out, "relay:       %s%s%s\n", policy_trust_name(r->trust),
			    r->relay_name != NULL ? ":" : "", r->relay_name != NULL ?
			    r->relay_name : "");
		if (r->bindings && r->from_domain != NULL)
			fprintf(out, "binding:     %s%s%s%s\n", r->binding != NULL ? r->binding :
			    "none (this identity has no RelayBindings line)", bdom[0] ?
			    " (may have signed: " : "", bdom, bdom[0] ? ")" : "");
		fprintf(out, "spf:         %s%s%s%s\n", policy_spf_name(r->spf),
		    r->spf_why != NULL && r->spf_why[0] ? " (" : "",
		    r->spf_why != NULL ? r->spf_why : "", r->spf_why != NULL && r->spf_why[0] ?
		    ")" : "");
		fprintf(out, "from:        %s\n", r->from_domain != NULL ? r->from_domain :
		    from_status_name(r->from_status));
		fprintf(out, "aligned:     %s (%s, envelope %s)\n", !r->align_checked ? "none" :
		    align_result_name(r->aligned), align_mode_name(conf->alignment),
		    r->mailfrom_domain != NULL ? r->mailfrom_domain : "-");
		fprintf(out, "dmarc:       %s\n", r->dmarc_checked ? dmarc_policy_name(r->dmarc) :
		    "not looked up");
		fprintf(out, "keys:        ");
		for (i = 0; i < nkeys; i++)
			fprintf(out, "%sd=%s s=%s a=%s", i ? ", " : "", keys[i]->domain,
			    keys[i]->selector, key_alg_name(keys[i]->alg));
		fprintf(out, "%s\n", nkeys == 0 ? "none for this From domain" : "");
		fprintf(out, "decision:    %s%s%s\n", policy_action_name(r->decision.action),
		    r->decision.reason != POLICY_REASON_NONE ? " reason=" : "",
		    r->decision.reason != POLICY_REASON_NONE ?
		    policy_reason_name(r->decision.reason) : "");
		if (r->error != NULL)
			fprintf(out, "error:       %s\n", r->error);
		if (r->nforged > 0)
			fprintf(out, "removed:     %zu forged Authentication-Results claiming %s\n",
			    r->nforged, conf->authserv_id);
		if (ar != NULL)
			fprintf(out, "adds:        Authentication-Results: %s\n", ar);
		for (i = 0; i < nsigs; i++) {
			char *d = tag_value(sigs[i], "d"), *sel = tag_value(sigs[i], "s"),
			    *alg = tag_value(sigs[i], "a"), *h = tag_value(sigs[i], "h");

			fprintf(out, "signature:   d=%s s=%s a=%s h=%s\n", d ? d : "?",
			    sel ? sel : "?", alg ? alg : "?", h ? h : "?");
			free(d);
			free(sel);
			free(alg);
			free(h);
		}
		if (chgfrom != NULL)
			fprintf(out, "envelope:    %s (was <%s>)\n", chgfrom, sender);
	}
	if (a->out_path != NULL && (st == PIPELINE_TEMPFAIL || st == PIPELINE_REJECT))
		fprintf(stderr, "relaysign: -o %s: not written: the message would be %s, not "
		    "passed on\n", a->out_path, st == PIPELINE_TEMPFAIL ? "tempfailed" :
		    "rejected");
	else if (a->out_path != NULL && write_out(&m, e, n, a->out_path) != 0) {
		fprintf(stderr, "relaysign: -o %s: %s\n", a->out_path, strerror(errno));
		rc = EXPLAIN_EXIT_ERROR;
	}
out:
	pipeline_free(p);
	seal_free(seal);
	message_free(&m);
	return rc;
}
