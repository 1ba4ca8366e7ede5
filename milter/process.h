/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * process.h -- UserID and PidFile (process.c).  Errors are said on
 * standard error, in relaysign.conf(5)'s terms.
 */
#ifndef RELAYSIGN_PROCESS_H
#define RELAYSIGN_PROCESS_H

#include <sys/types.h>

/* process_user_ids: the uid and gid of USER or USER:GROUP; -1 when unknown. */
int process_user_ids(const char *spec, uid_t *uid_r, gid_t *gid_r);
/* process_drop_privileges: become USER[:GROUP], with no way back; -1 on failure. */
int process_drop_privileges(const char *spec);
/* process_pidfile_lock: PidFile opened and locked; its descriptor, or -1. */
int process_pidfile_lock(const char *path);
/* process_pidfile_write: our pid into the locked PidFile; -1 (logged) on failure. */
int process_pidfile_write(int fd, const char *path);

#endif
