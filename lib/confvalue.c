/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * confvalue.c -- the value syntax of relaysign.conf(5) (confvalue.h):
 * tokens, header field names, user names, hosts, milter sockets, booleans,
 * table paths, word lists, and words quoted safely for a message.  Pure
 * functions; conf.c's option table applies them.
 */
#include <arpa/inet.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <ctype.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "confvalue.h"
#include "dnsname.h"
#include "util.h"

/*
 * conf_quote: s in double quotes for a message, bytes outside printable ASCII
 * as \xHH and long words cut short, so a hostile file cannot put control
 * characters into a log line.  Returns buf.
 */
const char *
conf_quote(char *buf, size_t size, const char *s)
{
	size_t o = 0;

	buf[o++] = '"';
	for (; *s != '\0' && o + 8 < size; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\') {
			buf[o++] = '\\';
			buf[o++] = (char)c;
		} else if (c < 0x20 || c >= 0x7f) {
			o += (size_t)snprintf(buf + o, size - o, "\\x%02x", c);
		} else
			buf[o++] = (char)c;
	}
	if (*s != '\0') {
		memcpy(buf + o, "...", 3);
		o += 3;
	}
	buf[o++] = '"';
	buf[o] = '\0';
	return buf;
}

/* conf_word_index: index of w in words (ASCII case-insensitive), or -1. */
int
conf_word_index(const char *const *words, const char *w)
{
	int i;

	for (i = 0; words[i] != NULL; i++)
		if (strcasecmp(words[i], w) == 0)
			return i;
	return -1;
}

/* conf_word_list: words joined with ", " into buf, for messages. */
const char *
conf_word_list(char *buf, size_t size, const char *const *words)
{
	size_t i, o = 0;

	buf[0] = '\0';
	for (i = 0; words[i] != NULL && o < size; i++)
		o += (size_t)snprintf(buf + o, size - o, "%s%s", i > 0 ? ", " : "", words[i]);
	return buf;
}

/* conf_edit_distance: optimal string alignment distance of two short lowercase words. */
size_t
conf_edit_distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b), i, j;
	size_t d[33][33];

	if (la > 32 || lb > 32)
		return SIZE_MAX;
	for (i = 0; i <= la; i++)
		d[i][0] = i;
	for (j = 0; j <= lb; j++)
		d[0][j] = j;
	for (i = 1; i <= la; i++)
		for (j = 1; j <= lb; j++) {
			size_t cost = tolower((unsigned char)a[i - 1]) !=
			    tolower((unsigned char)b[j - 1]);
			size_t v = d[i - 1][j] + 1;

			if (d[i][j - 1] + 1 < v)
				v = d[i][j - 1] + 1;
			if (d[i - 1][j - 1] + cost < v)
				v = d[i - 1][j - 1] + cost;
			if (i > 1 && j > 1 &&
			    tolower((unsigned char)a[i - 1]) == tolower((unsigned char)b[j - 2]) &&
			    tolower((unsigned char)a[i - 2]) == tolower((unsigned char)b[j - 1]) &&
			    d[i - 2][j - 2] + 1 < v)
				v = d[i - 2][j - 2] + 1;
			d[i][j] = v;
		}
	return d[la][lb];
}

/* conf_is_token: RFC 2045 5.1 token, the form of an RFC 8601 2.5 authserv-id here. */
bool
conf_is_token(const char *s)
{
	if (*s == '\0' || strlen(s) > CONF_ID_MAX)
		return false;
	for (; *s != '\0'; s++) {
		unsigned char c = (unsigned char)*s;

		if (c <= 0x20 || c >= 0x7f || strchr("()<>@,;:\\\"/[]?=", c) != NULL)
			return false;
	}
	return true;
}

/* conf_is_field_name: RFC 5322 3.6.8 field-name = 1*ftext (printable ASCII but ':'). */
bool
conf_is_field_name(const char *s)
{
	if (*s == '\0')
		return false;
	for (; *s != '\0'; s++)
		if ((unsigned char)*s <= 0x20 || (unsigned char)*s >= 0x7f || *s == ':')
			return false;
	return true;
}

/* conf_is_user_name: a portable user or group name (POSIX 3.437), n bytes of s. */
bool
conf_is_user_name(const char *s, size_t n)
{
	size_t i;

	if (n == 0 || n > CONF_USER_MAX || s[0] == '-')
		return false;
	for (i = 0; i < n; i++)
		if (!isalnum((unsigned char)s[i]) && strchr("._-", s[i]) == NULL)
			return false;
	return true;
}

/* is_host: an address of family af (without brackets) or a host name. */
static bool
is_host(int af, const char *s)
{
	unsigned char addr[sizeof(struct in6_addr)];
	const char *why;

	if (inet_pton(af, s, addr) == 1)
		return true;
	return dnsname_ok(s, 1, &why);
}

/*
 * conf_check_socket: the libmilter smfi_setconn(3) forms we accept: inet:PORT@HOST,
 * inet6:PORT@HOST, unix:/PATH, local:/PATH.  A missing @HOST would listen
 * on every interface: say so explicitly with inet:8891@0.0.0.0.
 */
bool
conf_check_socket(const char *s, const char **why_r)
{
	struct sockaddr_un sun;
	const char *p, *at;
	unsigned long port = 0;
	int af;

	if (strncmp(s, "unix:", 5) == 0 || strncmp(s, "local:", 6) == 0) {
		p = strchr(s, ':') + 1;
		if (*p != '/') {
			*why_r = "the socket path must be absolute";
			return false;
		}
		if (strlen(p) >= sizeof(sun.sun_path)) {
			*why_r = "the socket path is too long for a UNIX domain socket";
			return false;
		}
		return true;
	}
	if (strncmp(s, "inet:", 5) == 0) {
		af = AF_INET;
		p = s + 5;
	} else if (strncmp(s, "inet6:", 6) == 0) {
		af = AF_INET6;
		p = s + 6;
	} else {
		*why_r = "expected inet:PORT@HOST, inet6:PORT@HOST, unix:/PATH or local:/PATH";
		return false;
	}
	if ((at = strchr(p, '@')) == NULL) {
		*why_r = "missing @HOST (use @0.0.0.0 or @:: to listen on every address)";
		return false;
	}
	if (at == p || at - p > 5 || strspn(p, "0123456789") != (size_t)(at - p)) {
		*why_r = "the port must be a number from 1 to 65535";
		return false;
	}
	for (; p < at; p++)
		port = port * 10 + (unsigned long)(*p - '0');
	if (port < 1 || port > 65535) {
		*why_r = "the port must be a number from 1 to 65535";
		return false;
	}
	if (!is_host(af, at + 1)) {
		*why_r = af == AF_INET ? "HOST is not an IPv4 address or a host name" :
		    "HOST is not an IPv6 address (without brackets) or a host name";
		return false;
	}
	return true;
}

/* conf_parse_bool: yes/no, true/false, 1/0, any case. */
int
conf_parse_bool(const char *w, bool *b_r)
{
	static const char *const yes[] = { "yes", "true", "1", NULL };
	static const char *const no[] = { "no", "false", "0", NULL };

	if (conf_word_index(yes, w) >= 0)
		*b_r = true;
	else if (conf_word_index(no, w) >= 0)
		*b_r = false;
	else
		return -1;
	return 0;
}
