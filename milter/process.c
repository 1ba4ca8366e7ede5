/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * process.c -- the process around the daemon: UserID (the account and
 * the privilege drop with no way back) and PidFile (locked before anything
 * else is touched, written after the fork).
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#include "log.h"
#include "process.h"
#include "util.h"

/*
 * process_user_ids: the uid and gid of a UserID spec (USER or USER:GROUP); -1
 * with the reason on standard error.
 */
int
process_user_ids(const char *spec, uid_t *uid_r, gid_t *gid_r)
{
	char name[256], *group;
	struct passwd *pw;
	struct group *gr;

	util_strlcpy(name, spec, sizeof(name));
	if ((group = strchr(name, ':')) != NULL)
		*group++ = '\0';
	if ((pw = getpwnam(name)) == NULL) {
		fprintf(stderr, "relaysign: UserID %s: no such user\n", name);
		return -1;
	}
	*uid_r = pw->pw_uid;
	*gid_r = pw->pw_gid;
	if (group != NULL) {
		if ((gr = getgrnam(group)) == NULL) {
			fprintf(stderr, "relaysign: UserID %s: no such group %s\n", spec, group);
			return -1;
		}
		*gid_r = gr->gr_gid;
	}
	return 0;
}

/* process_drop_privileges: become UserID ("user" or "user:group"). */
int
process_drop_privileges(const char *spec)
{
	uid_t uid;
	gid_t gid;

	if (process_user_ids(spec, &uid, &gid) != 0)
		return -1;
	if (getuid() != 0 && geteuid() != 0) {
		if (uid == geteuid())
			return 0;
		fprintf(stderr, "relaysign: UserID %s: must start as root to change user\n",
		    spec);
		return -1;
	}
	if (setgroups(1, &gid) != 0 || setgid(gid) != 0 || setuid(uid) != 0) {
		fprintf(stderr, "relaysign: UserID %s: %s\n", spec, strerror(errno));
		return -1;
	}
	/* Make sure there is no way back. */
	if (setuid(0) == 0) {
		fprintf(stderr, "relaysign: UserID %s: could still regain root\n", spec);
		return -1;
	}
	return 0;
}

/*
 * process_pidfile_lock: opens and locks PidFile before anything else is touched
 * (the socket included), so a second relaysign refuses clearly instead of
 * taking over a running one's socket and PID file.  The lock is held by
 * the open file description, which daemon(3)'s child inherits; it goes
 * with the process.  Returns the descriptor, or -1 with the reason said.
 */
int
process_pidfile_lock(const char *path)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_NOFOLLOW | O_NOCTTY | O_CLOEXEC, 0644);
	struct stat st;

	if (fd == -1) {
		fprintf(stderr, "relaysign: PidFile %s: %s\n", path, strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode)) {
		fprintf(stderr, "relaysign: PidFile %s: not a regular file\n", path);
		close(fd);
		return -1;
	}
	if (flock(fd, LOCK_EX | LOCK_NB) == -1) {
		fprintf(stderr, "relaysign: PidFile %s is locked: another relaysign is running "
		    "(or still stopping); not started\n", path);
		close(fd);
		return -1;
	}
	return fd;
}

/* process_pidfile_write: our pid into the locked PidFile, after the fork. */
int
process_pidfile_write(int fd, const char *path)
{
	char buf[32];
	int n = snprintf(buf, sizeof(buf), "%ld\n", (long)getpid());

	if (ftruncate(fd, 0) == -1 || pwrite(fd, buf, (size_t)n, 0) != n) {
		log_warn("PidFile %s", path);
		return -1;
	}
	return 0;
}
