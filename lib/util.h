/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * util.h -- small helpers shared by every lib/ module.
 *
 * Nothing here logs or exits: errors are written to the caller's
 * (err, errlen) buffer and reported with a -1 return.
 */
#ifndef RELAYSIGN_UTIL_H
#define RELAYSIGN_UTIL_H

#include <stdbool.h>
#include <stddef.h>

#define UTIL_PRINTF(f, a) __attribute__((format(printf, f, a)))

/* util_seterr: format a reason into err (if err != NULL); returns -1. */
int util_seterr(char *err, size_t errlen, const char *fmt, ...) UTIL_PRINTF(3, 4);

/* util_strlcpy: BSD strlcpy; returns strlen(src). */
size_t util_strlcpy(char *dst, const char *src, size_t size);

/* util_strndup_lower: returns an allocated lowercase copy of s[0..len), or NULL. */
char *util_strndup_lower(const char *s, size_t len);

/*
 * util_sockaddr: text, an IPv4 or IPv6 address, into *ss (zeroed first;
 * no port).  Returns 0, or -1 when text is neither.
 */
struct sockaddr_storage;
int util_sockaddr(const char *text, struct sockaddr_storage *ss);


/*
 * A strv is a NULL-terminated array of allocated strings.
 */
/* strv_free: frees every string and the array; strv_free(NULL) is a no-op. */
void strv_free(char **v);
/* strv_len: number of strings in v (0 for NULL). */
size_t strv_len(char *const *v);
/* strv_push: appends a copy of s; returns 0, or -1 when out of memory. */
int strv_push(char ***v, const char *s);
/* strv_contains_ci: true if v holds s, compared ASCII case-insensitively. */
bool strv_contains_ci(char *const *v, const char *s);
/* strv_contains: true if v holds s exactly. */
bool strv_contains(char *const *v, const char *s);

#endif
