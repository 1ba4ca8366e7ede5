/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * file.c -- the one bounded file reader (see file.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "file.h"
#include "util.h"

/* file_free: wipes and frees. */
void
file_free(char *buf, size_t len)
{
	if (buf == NULL)
		return;
	OPENSSL_cleanse(buf, len);
	free(buf);
}

/* file_read: a whole regular file within max bytes. */
int
file_read(const char *path, size_t max, char **buf_r, size_t *len_r, struct stat *st_r,
          char *err, size_t errlen)
{
	struct stat st;
	char *buf;
	size_t len = 0;
	ssize_t n;
	int fd, e;

	*buf_r = NULL;
	*len_r = 0;
	/* O_NONBLOCK: opening a FIFO for reading would otherwise wait for a writer. */
	if ((fd = open(path, O_RDONLY | O_NOCTTY | O_NONBLOCK | O_CLOEXEC)) == -1)
		return util_seterr(err, errlen, "%s: %s", path, strerror(errno));
	if (fstat(fd, &st) == -1) {
		e = errno;
		(void)close(fd);
		return util_seterr(err, errlen, "%s: %s", path, strerror(e));
	}
	if (!S_ISREG(st.st_mode)) {
		(void)close(fd);
		return util_seterr(err, errlen, "%s: not a regular file", path);
	}
	if ((size_t)st.st_size > max) {
		(void)close(fd);
		return util_seterr(err, errlen, "%s: larger than %zu bytes", path, max);
	}
	/* One byte spare to notice a file that grew since fstat, one for the NUL. */
	if ((buf = malloc(max + 2)) == NULL) {
		(void)close(fd);
		return util_seterr(err, errlen, "%s: out of memory", path);
	}
	while (len <= max) {
		n = read(fd, buf + len, max + 1 - len);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1) {
			e = errno;
			file_free(buf, len);
			(void)close(fd);
			return util_seterr(err, errlen, "%s: %s", path, strerror(e));
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	(void)close(fd);
	if (len > max) {
		file_free(buf, len);
		return util_seterr(err, errlen, "%s: changed while being read (now larger than "
		                   "%zu bytes)", path, max);
	}
	buf[len] = '\0';
	if (st_r != NULL)
		*st_r = st;
	*buf_r = buf;
	*len_r = len;
	return 0;
}
