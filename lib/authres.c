/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * authres.c -- the Authentication-Results field (RFC 8601) relaysign adds,
 * and the test for fields that claim to be ours.
 *
 * Reading: only the front of a field matters to us, the authserv-id
 * (RFC 8601 2.2: authserv-id [CFWS authres-version] (no-result / 1*resinfo)).
 * The parser is bounded by len, never looks for a NUL, and answers "not
 * ours" to anything it cannot read.  Line breaks are taken as folding
 * wherever whitespace may stand, even a bare CR or LF: a field is on its
 * way out of our MTA, and removing a forgery with odd line ends is the
 * safe mistake.
 *
 * Writing: every value we did not choose ourselves is written as an
 * RFC 2045 token or, failing that, a quoted-string; no peer byte is copied
 * raw, and the field is folded so no line exceeds RFC 5322 2.1.1 limits.
 */
#include <string.h>

#include "authres.h"
#include "util.h"

/*
 * RFC 5322 2.1.1: a line SHOULD be at most 78 characters and MUST be at
 * most 998.  We fold at 78 where we can; a single item that cannot fit in
 * 998 makes the whole field fail.
 */
#define AUTHRES_SOFT_LINE 78
#define AUTHRES_HARD_LINE 998
/* The field name and ": " the MTA writes in front of the first line. */
#define AUTHRES_NAME_LEN (sizeof("Authentication-Results: ") - 1)

/* ascii_lower: c in lowercase, ASCII only (no locale). */
static unsigned char
ascii_lower(unsigned char c)
{
	return c >= 'A' && c <= 'Z' ? (unsigned char)(c - 'A' + 'a') : c;
}

/* is_token_char: RFC 2045 5.1: any CHAR except SPACE, CTLs, or tspecials. */
static bool
is_token_char(unsigned char c)
{
	/* c > 0x20 first, so strchr never sees the terminating NUL. */
	return c > 0x20 && c < 0x7f && strchr("()<>@,;:\\\"/[]?=", c) == NULL;
}

/* is_fws: whitespace or a line break (see the file comment on leniency). */
static bool
is_fws(unsigned char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/*
 * skip_cfws: advances *pp over RFC 5322 3.2.2 CFWS: whitespace, folding
 * and nested comments with quoted-pairs.  Returns false for an unbalanced
 * comment, a backslash at the end, or a NUL inside a comment.
 */
static bool
skip_cfws(const unsigned char **pp, const unsigned char *end)
{
	const unsigned char *p = *pp;
	size_t depth = 0;

	while (p < end) {
		if (depth == 0) {
			if (is_fws(*p)) {
				p++;
				continue;
			}
			if (*p != '(')
				break;
		}
		switch (*p) {
		case '(':
			depth++;
			break;
		case ')':
			depth--;
			break;
		case '\\':
			if (++p == end || *p == '\0')
				return false;
			break;
		case '\0':
			return false;
		default:
			break;
		}
		p++;
	}
	if (depth > 0)
		return false;
	*pp = p;
	return true;
}

/*
 * authres_is_ours: true if the field body value[0..len) names authserv_id
 * as a lenient reader would read it: its first word after CFWS, ending
 * at white space, ';', ',', '(' or '"'; or a quoted-string, unfolded,
 * ending at its closing quote (or, once the id is whole, at white space);
 * backslashes taken as escapes; one trailing dot ignored.  Some downstream
 * readers trust any field whose first word is the id, whatever follows
 * ("id dkim=pass" without ';', "id, ...", "id.; ...", "id(unclosed",
 * "\"id\\\"; ...", "i\\d; ..."), so all of those are ours to remove:
 * removing a field is the safe mistake.
 */
bool
authres_is_ours(const char *value, size_t len, const char *authserv_id)
{
	const unsigned char *p, *end;
	size_t idlen, n = 0;
	unsigned char c;
	bool quoted;

	if (value == NULL || authserv_id == NULL || (idlen = strlen(authserv_id)) == 0)
		return false;
	if (authserv_id[idlen - 1] == '.')
		idlen--;
	p = (const unsigned char *)value;
	end = p + len;

	if (!skip_cfws(&p, end) || p == end)
		return false;
	if ((quoted = *p == '"'))
		p++;
	for (; p < end; p++) {
		c = *p;
		/*
		 * The id is whole: a backslash, or in a quoted-string a space,
		 * ';', ',' or '(', only ends it (an unclosed or mangled quote).
		 */
		if (n >= idlen && (c == '\\' || (quoted && (c == ' ' || c == '\t' || c == ';' ||
		                                             c == ',' || c == '('))))
			break;
		if (quoted && (c == '\r' || c == '\n'))
			continue;	/* RFC 5322 2.2.3: unfolding removes the line break */
		if (c == '\\' && p + 1 < end)
			c = *++p;
		else if (c == '\0' || c == '"' ||
		         (!quoted && (c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == ';' ||
		                      c == ',' || c == '(')))
			break;
		/* Longer than the id (a dot to spare): not ours. */
		if (n > idlen)
			return false;
		if (n < idlen && ascii_lower(c) != ascii_lower((unsigned char)authserv_id[n]))
			return false;
		if (n == idlen && c != '.')
			return false;
		n++;
	}
	return n == idlen || n == idlen + 1;
}

/* A bounded string under construction; over is set once anything did not fit. */
struct sbuf {
	char *p;
	size_t size; /* bytes available, including the NUL */
	size_t n;    /* bytes written, excluding the NUL */
	bool over;
};

/* sb_init: an empty sbuf over buf[0..size). */
static void
sb_init(struct sbuf *sb, char *buf, size_t size)
{
	sb->p = buf;
	sb->size = size;
	sb->n = 0;
	sb->over = size == 0;
	if (size > 0)
		buf[0] = '\0';
}

/* sb_putc: appends c. */
static void
sb_putc(struct sbuf *sb, char c)
{
	if (sb->over || sb->n + 1 >= sb->size) {
		sb->over = true;
		return;
	}
	sb->p[sb->n++] = c;
	sb->p[sb->n] = '\0';
}

/* sb_puts: appends s. */
static void
sb_puts(struct sbuf *sb, const char *s)
{
	while (*s != '\0')
		sb_putc(sb, *s++);
}

/*
 * sb_quoted: appends s as an RFC 5322 3.2.4 quoted-string.  Control
 * characters (TAB, CR and LF included) and bytes above 0x7e become '?':
 * the field stays 7-bit and on one logical line whatever a peer sent, and
 * the log, not the header, is the place for exact bytes.
 */
static void
sb_quoted(struct sbuf *sb, const char *s)
{
	const unsigned char *u = (const unsigned char *)s;

	sb_putc(sb, '"');
	for (; *u != '\0'; u++) {
		if (*u < 0x20 || *u > 0x7e) {
			sb_putc(sb, '?');
			continue;
		}
		if (*u == '"' || *u == '\\')
			sb_putc(sb, '\\');
		sb_putc(sb, (char)*u);
	}
	sb_putc(sb, '"');
}

/* sb_value: appends s as an RFC 2045 token when it is one, else quoted. */
static void
sb_value(struct sbuf *sb, const char *s)
{
	const unsigned char *u;

	for (u = (const unsigned char *)s; *u != '\0'; u++)
		if (!is_token_char(*u))
			break;
	if (*s != '\0' && *u == '\0')
		sb_puts(sb, s);
	else
		sb_quoted(sb, s);
}

/* The field being written: the text, and the length of its current line. */
struct field {
	struct sbuf sb;
	size_t col;
};

/* field_raw: appends s, which holds no line break, counting columns. */
static void
field_raw(struct field *f, const char *s)
{
	sb_puts(&f->sb, s);
	f->col += strlen(s);
	if (f->col > AUTHRES_HARD_LINE)
		f->sb.over = true;
}

/*
 * field_newline: folds.  libmilter's smfi_insheader(3) wants LF alone
 * (the MTA adds the CR) followed by whitespace.
 */
static void
field_newline(struct field *f)
{
	sb_puts(&f->sb, "\n\t");
	f->col = 1;
}

/*
 * field_item: appends one item (a method=result, reason or property,
 * which cannot be broken), after a space when the line stays within 78
 * characters, else on a new line.  first starts a new clause line.
 */
static void
field_item(struct field *f, const struct sbuf *item, bool first)
{
	if (item->over) {
		f->sb.over = true;
		return;
	}
	if (first || f->col + 1 + item->n > AUTHRES_SOFT_LINE)
		field_newline(f);
	else
		field_raw(f, " ");
	field_raw(f, item->p);
}

/* An item is one unbreakable piece; none may exceed a line. */
struct item {
	struct sbuf sb;
	char buf[AUTHRES_HARD_LINE];
};

/* item_start: begins an item with text s. */
static void
item_start(struct item *it, const char *s)
{
	sb_init(&it->sb, it->buf, sizeof(it->buf));
	sb_puts(&it->sb, s);
}

/* put_prop: appends an item "name" followed by v, a token or quoted-string. */
static void
put_prop(struct field *f, const char *name, const char *v, bool first)
{
	struct item it;

	item_start(&it, name);
	sb_value(&it.sb, v);
	field_item(f, &it.sb, first);
}

/* put_word: appends an item "name" followed by v verbatim (one of our keywords). */
static void
put_word(struct field *f, const char *name, const char *v, bool first)
{
	struct item it;

	item_start(&it, name);
	sb_puts(&it.sb, v);
	field_item(f, &it.sb, first);
}

/*
 * authres_format: writes the field body.  Each resinfo starts a line of
 * its own ("\n\t" after the ";"); within one, items are separated by a
 * space, or folded when the line would pass 78 characters (counting
 * "Authentication-Results: " on the first line).
 */
int
authres_format(const struct authres_facts *facts, char *buf, size_t len)
{
	struct field f;
	struct item it;
	size_t i;

	if (buf == NULL || len == 0)
		return -1;
	sb_init(&f.sb, buf, len < AUTHRES_MAX ? len : AUTHRES_MAX);
	if (facts == NULL || facts->authserv_id == NULL || *facts->authserv_id == '\0') {
		buf[0] = '\0';
		return -1;
	}

	f.col = AUTHRES_NAME_LEN;
	item_start(&it, "");
	sb_value(&it.sb, facts->authserv_id);
	if (it.sb.over)
		f.sb.over = true;
	else
		field_raw(&f, it.buf);

	/* RFC 8601 2.7.4: the client authenticated with SMTP AUTH. */
	if (facts->trust == POLICY_TRUST_AUTH) {
		field_raw(&f, ";");
		put_word(&f, "auth=", "pass", true);
		if (facts->auth_user != NULL)
			put_prop(&f, "smtp.auth=", facts->auth_user, false);
	}

	/* RFC 8601 2.7.2: SPF for MAIL FROM, or for HELO with a null sender. */
	if (facts->spf != POLICY_SPF_UNCHECKED) {
		field_raw(&f, ";");
		put_word(&f, "spf=", policy_spf_name(facts->spf), true);
		if (facts->spf_mailfrom != NULL)
			put_prop(&f, "smtp.mailfrom=", facts->spf_mailfrom, false);
		else if (facts->spf_helo != NULL)
			put_prop(&f, "smtp.helo=", facts->spf_helo, false);
	}

	/*
	 * RFC 7489 3.1: is header.from aligned with the envelope identity SPF
	 * checked?  Unaligned means an unsigned copy fails DMARC.
	 */
	if (facts->align_checked) {
		field_raw(&f, ";");
		put_word(&f, "x-aligned-from=", align_result_name(facts->aligned), true);
		put_word(&f, "policy.alignment=", align_mode_name(facts->align_mode), false);
		if (facts->from_domain != NULL)
			put_prop(&f, "header.from=", facts->from_domain, false);
		if (facts->spf_mailfrom != NULL)
			put_prop(&f, "smtp.mailfrom=", facts->spf_mailfrom, false);
		else if (facts->spf_helo != NULL)
			put_prop(&f, "smtp.helo=", facts->spf_helo, false);
	}
	/* What a receiver would do with this From domain's mail if unsigned. */
	if (facts->dmarc_policy != NULL) {
		field_raw(&f, ";");
		put_word(&f, "x-dmarc-policy=", facts->dmarc_policy, true);
		if (facts->from_domain != NULL)
			put_prop(&f, "header.from=", facts->from_domain, false);
	}

	/*
	 * Our own method: what we did and why.  The policy ptype (RFC 8601
	 * 2.3) carries local policy; header.* name the signatures made.
	 */
	field_raw(&f, ";");
	put_word(&f, "x-relaysign=", policy_action_name(facts->decision.action), true);
	if (facts->decision.reason != POLICY_REASON_NONE) {
		item_start(&it, "reason=");
		sb_quoted(&it.sb, policy_reason_name(facts->decision.reason));
		field_item(&f, &it.sb, false);
	}
	put_word(&f, "policy.relay=", policy_trust_name(facts->trust), false);
	if (facts->binding != NULL)
		put_prop(&f, "policy.binding=", facts->binding, false);
	if (facts->return_path != NULL)
		put_prop(&f, "policy.return-path=", facts->return_path, false);
	if (facts->from_domain != NULL)
		put_prop(&f, "header.from=", facts->from_domain, false);
	for (i = 0; facts->sigs != NULL && i < facts->nsigs; i++) {
		if (facts->sigs[i].domain != NULL)
			put_prop(&f, "header.d=", facts->sigs[i].domain, false);
		if (facts->sigs[i].selector != NULL)
			put_prop(&f, "header.s=", facts->sigs[i].selector, false);
		put_word(&f, "header.a=", key_alg_name(facts->sigs[i].alg), false);
	}

	if (f.sb.over) {
		buf[0] = '\0';
		return -1;
	}
	return 0;
}
