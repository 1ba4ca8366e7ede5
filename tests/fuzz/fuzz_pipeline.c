/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * fuzz_pipeline.c -- libFuzzer target for the whole message pipeline
 * (lib/pipeline.c): the input is a sequence of milter events in any order,
 * repeated, oversized, with NULs and bare CR/LF, thousands of headers.
 * A model of the conversation, kept here independently of the pipeline,
 * checks on every message that ends:
 *   - never a signature unless the client is trusted (a relay network
 *     that the {client_addr} macro does not contradict, the login alma
 *     given with this MAIL, or the vendor's SPF record), the message has
 *     exactly one From field naming one mailbox in the keyed domain, no
 *     header came after the end of headers, and no field claimed our
 *     AuthservID (a second pass is never signed);
 *   - every Authentication-Results field claiming our AuthservID is
 *     deleted, and only those; at most one of ours is added;
 *   - a message accepted untouched carried no such field.
 * The pipeline has no seal (lib/seal.h) here, so no field is recognised
 * as our own and every one in our name must go.  ASan and LSan catch
 * crashes and leaks.  DNS is an in-memory zone.
 *
 *   tests/fuzz/run.sh builds it with the other targets.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "../pipeline_fixture.h"
#include "authres.h"
#include "from.h"
#include "pipeline.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct fixture fx;
static bool fx_ready;

/* The model of one conversation. */
struct model {
	bool open;			/* a message is open */
	bool trusted;			/* what the rules say of this message's client */
	bool have_client;
	const char *client;
	const char *macro;
	const struct conf *conf;
	size_t nfrom;
	char *from;			/* first From value */
	size_t nar;			/* Authentication-Results seen */
	unsigned char *ours;		/* per AR: claims our id */
	bool eoh;
	bool late_header;		/* a header after the end of headers */
};

static const char *const clients[] = {
	"192.0.2.10", "203.0.113.7", "198.51.100.20", "2001:db8::25", "::ffff:192.0.2.10", NULL,
};
static const char *const auths[] = {NULL, "alma", "mallory", "", "alma "};
static const char *const names[] = {
	"From", "Authentication-Results", "To", "Subject", "DKIM-Signature", "X-H", "from",
	"AUTHENTICATION-RESULTS",
};

/* in_prefix: text is an address within net/bits (IPv4 or IPv6, mapped IPv4 as IPv4). */
static bool
in_net(const char *text, const char *net, int bits)
{
	unsigned char a[16], n[16];
	int fam = strchr(net, ':') != NULL ? AF_INET6 : AF_INET, i;

	if (text == NULL)
		return false;
	if (fam == AF_INET && strncmp(text, "::ffff:", 7) == 0)
		text += 7;
	if (inet_pton(fam, text, a) != 1 || inet_pton(fam, net, n) != 1)
		return false;
	for (i = 0; i < bits; i++)
		if (((a[i / 8] ^ n[i / 8]) >> (7 - i % 8)) & 1)
			return false;
	return true;
}

/* norm: an address as 4 (IPv4, IPv4-mapped IPv6) or 16 octets in a; 0 if none. */
static size_t
norm(const char *text, unsigned char a[16])
{
	if (text == NULL)
		return 0;
	if (inet_pton(AF_INET, text, a) == 1)
		return 4;
	if (inet_pton(AF_INET6, text, a) != 1)
		return 0;
	if (memcmp(a, "\0\0\0\0\0\0\0\0\0\0\xff\xff", 12) == 0) {
		memmove(a, a + 12, 4);
		return 4;
	}
	return 16;
}

/*
 * model_trust: the relay rules of the fixture, written again from
 * relaysign.conf(5), read as leniently as they can be: the pipeline may
 * trust less than this, never more.
 */
static bool
model_trust(const struct model *md, bool plain, const char *auth)
{
	const char *c = md->client;
	bool addr_ok = md->have_client;
	unsigned char a[16], b[16];
	size_t la, lb;

	if (addr_ok && md->macro != NULL && (la = norm(md->macro, a)) != 0) {
		/* A {client_addr} naming another address withdraws the address. */
		lb = norm(c, b);
		addr_ok = la == lb && memcmp(a, b, la) == 0;
	}
	if (addr_ok && (in_net(c, "192.0.2.0", 24) || in_net(c, "2001:db8::", 32)))
		return true;
	if (auth != NULL && strcmp(auth, "alma") == 0)
		return true;
	return addr_ok && plain && in_net(c, "198.51.100.0", 24);
}

/* model_reset: the message is over. */
static void
model_reset(struct model *md)
{
	free(md->from);
	free(md->ours);
	md->from = NULL;
	md->ours = NULL;
	md->nfrom = md->nar = 0;
	md->open = md->eoh = md->late_header = false;
}

/* model_header: what the pipeline should remember of one field. */
static void
model_header(struct model *md, const char *name, const char *value)
{
	if (!md->open)
		return;
	if (md->eoh)
		md->late_header = true;
	if (strcasecmp(name, "From") == 0 && md->nfrom++ == 0)
		md->from = strdup(value);
	if (strcasecmp(name, "Authentication-Results") == 0) {
		unsigned char *o = realloc(md->ours, md->nar + 1);

		if (o == NULL)
			abort();
		md->ours = o;
		md->ours[md->nar++] =
		    authres_is_ours(value, strlen(value), md->conf->authserv_id) ? 1 : 0;
	}
}

/* args_ok: only SIZE=, BODY=, RET=, ENVID= and SMTPUTF8, printable, space-separated. */
static bool
args_ok(const char *args)
{
	static const char *const keep[] = {"SIZE=", "BODY=", "RET=", "ENVID=", NULL};
	const char *p = args;

	while (*p != '\0') {
		size_t len = strcspn(p, " "), k;
		bool known = len == 8 && strncasecmp(p, "SMTPUTF8", 8) == 0;

		for (k = 0; keep[k] != NULL && !known; k++)
			known = len > strlen(keep[k]) && strncasecmp(p, keep[k], strlen(keep[k])) == 0;
		if (!known)
			return false;
		for (k = 0; k < len; k++)
			if (p[k] <= ' ' || p[k] > '~')
				return false;
		p += len;
		if (*p == ' ')
			p++;
	}
	return true;
}

/* check_end: the invariants for a message that ended with st and edits e[0..n). */
static void
check_end(struct model *md, enum pipeline_status st, const struct pipeline_edit *e, size_t n)
{
	size_t i, nsig = 0, nins_ar = 0, nours = 0, nchg = 0;
	unsigned char *deleted;

	for (i = 0; i < md->nar; i++)
		nours += md->ours[i];
	if (st == PIPELINE_ACCEPT && nours > 0)
		abort();	/* passed on with a forged result */
	if (st != PIPELINE_CONTINUE) {
		if (n != 0)
			abort();
		return;
	}
	if ((deleted = calloc(md->nar + 1, 1)) == NULL)
		abort();
	for (i = 0; i < n; i++) {
		if (e[i].kind == PIPELINE_EDIT_DELETE) {
			if (strcmp(e[i].name, "Authentication-Results") != 0 || e[i].index < 1 ||
			    (size_t)e[i].index > md->nar || !md->ours[e[i].index - 1] ||
			    deleted[e[i].index])
				abort();	/* deletes a field that is not a forgery of ours */
			/* Last first, so earlier indexes stay valid. */
			if (i > 0 && e[i - 1].kind == PIPELINE_EDIT_DELETE &&
			    e[i - 1].index <= e[i].index)
				abort();
			deleted[e[i].index] = 1;
		} else if (e[i].kind == PIPELINE_EDIT_CHGFROM) {
			/* ReturnPath (the strict configuration): first, and only when signed. */
			if (i != 0 || strcmp(e[i].value, "<bounces@library.example.edu>") != 0 ||
			    e[i].args == NULL || !args_ok(e[i].args))
				abort();
			nchg++;
		} else if (strcmp(e[i].name, "DKIM-Signature") == 0) {
			nsig++;
			if (strstr(e[i].value, "d=library.example.edu;") == NULL)
				abort();
		} else if (strcmp(e[i].name, "Authentication-Results") == 0) {
			nins_ar++;
			if (!authres_is_ours(e[i].value, strlen(e[i].value), md->conf->authserv_id))
				abort();
		} else {
			abort();
		}
	}
	for (i = 0; i < md->nar; i++)
		if (md->ours[i] && !deleted[i + 1])
			abort();	/* a forged result left in place */
	free(deleted);
	if (nins_ar > 1)
		abort();
	if (nchg > 0 && nsig == 0)
		abort();	/* the envelope changed on a message not signed */
	if (nsig > 0) {
		struct from_addr fa;

		if (!md->trusted || md->nfrom != 1 || md->from == NULL || md->late_header)
			abort();	/* a signing oracle */
		if (nours > 0)
			abort();	/* signed again, or past a result in our name */
		if (from_parse(md->from, strlen(md->from), &fa, NULL, 0) != FROM_OK ||
		    strcmp(fa.domain, "library.example.edu") != 0)
			abort();
	}
}

/* take: the next length-prefixed string of the input (NUL-terminated copy in buf). */
static const char *
take(const uint8_t *data, size_t size, size_t *i, char *buf, size_t buflen)
{
	size_t len = 0;

	if (*i < size)
		len = data[(*i)++];
	if (len > size - *i)
		len = size - *i;
	if (len >= buflen)
		len = buflen - 1;
	memcpy(buf, data + *i, len);
	buf[len] = '\0';
	*i += len;
	return buf;
}

/* byte: the next input byte, 0 past the end. */
static unsigned
byte(const uint8_t *data, size_t size, size_t *i)
{
	return *i < size ? data[(*i)++] : 0;
}

/* ended: a status that ends the message. */
static bool
ended(enum pipeline_status st)
{
	return st == PIPELINE_ACCEPT || st == PIPELINE_TEMPFAIL || st == PIPELINE_REJECT;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pipeline *p;
	struct model md;
	struct sockaddr_storage ss;
	const struct pipeline_edit *e;
	enum pipeline_status st;
	char s1[300], s2[300];
	char *big;
	size_t i = 0, n, k, ops = 0;

	if (!fx_ready) {
		if (fixture_setup(&fx, false) != 0)
			abort();
		fx_ready = true;
	}
	if ((p = pipeline_new(NULL)) == NULL)
		return 0;
	memset(&md, 0, sizeof(md));
	while (i < size && ops++ < 200) {
		switch (byte(data, size, &i) % 13) {
		case 0: {	/* connect */
			const char *c = clients[byte(data, size, &i) % 6];

			pipeline_connect(p, fx_sockaddr(c, &ss));
			model_reset(&md);
			md.client = c;
			md.have_client = c != NULL;
			break;
		}
		case 1:
			pipeline_helo(p, take(data, size, &i, s1, sizeof(s1)));
			break;
		case 2: {	/* MAIL */
			unsigned b = byte(data, size, &i);
			const char *auth = auths[b % 5];
			const char *macro = (b / 5) % 3 == 0 ? NULL : clients[(b / 15) % 5];
			bool plain = (b & 0x80) == 0;
			const struct conf *conf = fx.conf[plain ? FX_PLAIN : FX_STRICT];

			take(data, size, &i, s1, sizeof(s1));
			model_reset(&md);
			md.conf = conf;
			md.macro = macro;
			md.open = true;
			md.trusted = model_trust(&md, plain, auth);
			if (pipeline_mail(p, conf, s1, auth, macro) != PIPELINE_CONTINUE) {
				model_reset(&md);
				break;
			}
			{	/* ESMTP parameters, split on spaces as the MTA splits them */
				char *params[9], *save = NULL, *tok;
				size_t np = 0;

				take(data, size, &i, s2, sizeof(s2));
				for (tok = strtok_r(s2, " ", &save); tok != NULL && np < 8;
				     tok = strtok_r(NULL, " ", &save))
					params[np++] = tok;
				params[np] = NULL;
				pipeline_mail_params(p, params);
			}
			break;
		}
		case 3:
		case 4: {	/* a header */
			const char *name = names[byte(data, size, &i) % 8];

			take(data, size, &i, s2, sizeof(s2));
			model_header(&md, name, s2);
			pipeline_header(p, name, s2);
			break;
		}
		case 5: {	/* a header with a name of the input's own */
			take(data, size, &i, s1, sizeof(s1));
			take(data, size, &i, s2, sizeof(s2));
			model_header(&md, s1, s2);
			pipeline_header(p, s1, s2);
			break;
		}
		case 6:	/* many small headers; past the count limit when the top bit says so */
			n = byte(data, size, &i) << 8 | byte(data, size, &i);
			n = (n & 0x8000) != 0 ? PIPELINE_MAX_HEADERS - 8 + (n & 0xf) : n % 64;
			for (k = 0; k < n; k++) {
				model_header(&md, "X-H", " v");
				pipeline_header(p, "X-H", " v");
			}
			break;
		case 7:	/* one big header: long lines; past the byte limit when the top bit says so */
			n = byte(data, size, &i) << 8 | byte(data, size, &i);
			n = (n & 0x8000) != 0 ? (n & 0x7fff) * 4 : n % 2048;
			if ((big = malloc(n + 2)) == NULL)
				abort();
			memset(big, 'v', n);
			big[0] = ' ';
			big[n] = '\0';
			model_header(&md, "X-Big", big);
			pipeline_header(p, "X-Big", big);
			free(big);
			break;
		case 8:
			st = pipeline_eoh(p, "F1");
			if (md.open)
				md.eoh = true;
			if (ended(st)) {
				check_end(&md, st, NULL, 0);
				model_reset(&md);
			}
			break;
		case 9: {	/* a body chunk, raw bytes */
			size_t len = byte(data, size, &i);

			if (len > size - i)
				len = size - i;
			st = pipeline_body(p, data + i, len);
			i += len;
			if (ended(st)) {
				check_end(&md, st, NULL, 0);
				model_reset(&md);
			}
			break;
		}
		case 10:
			st = pipeline_eom(p, &e, &n);
			if (md.open)
				check_end(&md, st, e, n);
			else if (n != 0)
				abort();	/* edits for no message */
			model_reset(&md);
			break;
		case 11:
			pipeline_abort(p);
			model_reset(&md);
			break;
		case 12: {	/* the notice itself, so signing is reached often */
			static const char *const from[] = {
			    " Library <library@library.example.edu>", " library@LIBRARY.example.edu.",
			    " x@exlibrisgroup.com", " \"a@b\" <library@library.example.edu>",
			};
			const char *v = from[byte(data, size, &i) % 4];

			model_header(&md, "From", v);
			pipeline_header(p, "From", v);
			break;
		}
		}
	}
	pipeline_free(p);
	model_reset(&md);
	return 0;
}
