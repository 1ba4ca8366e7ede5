/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * file.h -- the one bounded file reader for configuration, tables and keys.
 *
 * A file is opened without blocking and must be a regular file: a FIFO or
 * a device put where a configuration or key should be must not hang the
 * start or a SIGHUP reload.  It is read whole, within a size bound, into a
 * NUL-terminated buffer.  Nothing here logs.
 */
#ifndef RELAYSIGN_FILE_H
#define RELAYSIGN_FILE_H

#include <stddef.h>
#include <sys/stat.h>

/*
 * file_read: the regular file at path (symlinks followed), at most max
 * bytes, into an allocated buffer with a NUL after the len_r bytes read;
 * st_r (may be NULL) gets the file's fstat(2), taken on the descriptor
 * that was read.  Returns 0, or -1 with "path: reason" in err ("not a
 * regular file", "larger than MAX bytes", "changed while being read", or
 * the system's word).  Partial buffers are wiped before they are freed.
 * The caller frees *buf_r with file_free.
 */
int file_read(const char *path, size_t max, char **buf_r, size_t *len_r, struct stat *st_r,
              char *err, size_t errlen);

/* file_free: wipes and frees a buffer from file_read (it may hold a key); NULL is a no-op. */
void file_free(char *buf, size_t len);

#endif
