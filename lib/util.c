/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * util.c -- small helpers shared by every lib/ module.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "util.h"

/* util_seterr: format a reason into err; returns -1. */
int
util_seterr(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (err != NULL && errlen > 0) {
		va_start(ap, fmt);
		(void)vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return -1;
}

/* util_strlcpy: BSD strlcpy. */
size_t
util_strlcpy(char *dst, const char *src, size_t size)
{
	size_t len = strlen(src);

	if (size > 0) {
		size_t n = len < size - 1 ? len : size - 1;

		memcpy(dst, src, n);
		dst[n] = '\0';
	}
	return len;
}

/* util_strndup_lower: allocated lowercase copy of s[0..len). */
char *
util_strndup_lower(const char *s, size_t len)
{
	char *p = malloc(len + 1);
	size_t i;

	if (p == NULL)
		return NULL;
	for (i = 0; i < len; i++)
		p[i] = (char)tolower((unsigned char)s[i]);
	p[len] = '\0';
	return p;
}

/* strv_free: frees every string and the array. */
void
strv_free(char **v)
{
	size_t i;

	if (v == NULL)
		return;
	for (i = 0; v[i] != NULL; i++)
		free(v[i]);
	free(v);
}

/* strv_len: number of strings in v. */
size_t
strv_len(char *const *v)
{
	size_t n = 0;

	while (v != NULL && v[n] != NULL)
		n++;
	return n;
}

/* strv_push: appends a copy of s. */
int
strv_push(char ***v, const char *s)
{
	size_t n = strv_len(*v);
	char **nv;
	char *copy;

	if ((copy = strdup(s)) == NULL)
		return -1;
	if ((nv = realloc(*v, (n + 2) * sizeof(*nv))) == NULL) {
		free(copy);
		return -1;
	}
	nv[n] = copy;
	nv[n + 1] = NULL;
	*v = nv;
	return 0;
}

/* strv_contains_ci: true if v holds s, ASCII case-insensitively. */
bool
strv_contains_ci(char *const *v, const char *s)
{
	size_t i;

	for (i = 0; v != NULL && v[i] != NULL; i++)
		if (strcasecmp(v[i], s) == 0)
			return true;
	return false;
}

/* strv_contains: true if v holds s exactly. */
bool
strv_contains(char *const *v, const char *s)
{
	size_t i;

	for (i = 0; v != NULL && v[i] != NULL; i++)
		if (strcmp(v[i], s) == 0)
			return true;
	return false;
}

/* util_sockaddr: see util.h. */
int
util_sockaddr(const char *text, struct sockaddr_storage *ss)
{
	struct sockaddr_in *sin = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;

	memset(ss, 0, sizeof(*ss));
	if (inet_pton(AF_INET, text, &sin->sin_addr) == 1) {
		sin->sin_family = AF_INET;
		return 0;
	}
	if (inet_pton(AF_INET6, text, &sin6->sin6_addr) == 1) {
		sin6->sin6_family = AF_INET6;
		return 0;
	}
	return -1;
}
