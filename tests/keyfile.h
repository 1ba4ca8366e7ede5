/* SPDX-License-Identifier: BSD-2-Clause */
/* keyfile.h -- a fresh private key in a PEM file, for the unit tests. */
#ifndef RELAYSIGN_KEYFILE_H
#define RELAYSIGN_KEYFILE_H

#include <fcntl.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/*
 * keyfile_write: a new key of type ("RSA", 2048 bits, or "ED25519") at
 * path, created mode 0600 and then given mode; -1 on error.
 */
static inline int
keyfile_write(const char *path, const char *type, mode_t mode)
{
	EVP_PKEY *k = strcmp(type, "RSA") == 0 ? EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048)
	                                       : EVP_PKEY_Q_keygen(NULL, NULL, type);
	FILE *f = NULL;
	int fd, rc = -1;

	if (k == NULL)
		return -1;
	if ((fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600)) != -1 &&
	    (f = fdopen(fd, "w")) == NULL)
		(void)close(fd);
	if (f != NULL) {
		if (PEM_write_PrivateKey(f, k, NULL, NULL, 0, NULL, NULL) == 1 &&
		    chmod(path, mode) == 0)
			rc = 0;
		if (fclose(f) != 0)
			rc = -1;
	}
	EVP_PKEY_free(k);
	return rc;
}

#endif
