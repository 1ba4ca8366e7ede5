/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * sockets.c -- the milter socket around libmilter: TCP_NODELAY on the
 * listener, a unix socket still in use, its owner, and a stop without
 * libmilter's 5 s wait.
 */
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/un.h>
#include <unistd.h>
#include <errno.h>

#include <libmilter/mfapi.h>

#include "conf.h"
#include "log.h"
#include "process.h"
#include "sockets.h"
#include "util.h"

/* listening: fd is a listening socket of family AF_INET, AF_INET6 or AF_UNIX. */
static bool
listening(int fd, int *family_r)
{
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss), ll;
	int on = 0;

	ll = sizeof(on);
	if (getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &on, &ll) != 0 || !on)
		return false;
	if (getsockname(fd, (struct sockaddr *)&ss, &sl) != 0)
		return false;
	*family_r = ss.ss_family;
	return ss.ss_family == AF_INET || ss.ss_family == AF_INET6 || ss.ss_family == AF_UNIX;
}

/*
 * sockets_nodelay: sets TCP_NODELAY on the listening socket libmilter
 * opened; Linux passes it on to every accepted connection.  libmilter
 * writes a header change and its reply as separate packets; without it,
 * Nagle holds the second until the MTA's delayed ACK, ~40 ms a message
 * (bench/README.md says how it was measured).  libmilter does not expose
 * the descriptor, so find the one listening socket among ours.
 */
void
sockets_nodelay(void)
{
	int fd, family, one = 1;

	for (fd = 0; fd < 1024; fd++)
		if (listening(fd, &family) && family != AF_UNIX &&
		    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)) != 0)
			log_warn("setsockopt(TCP_NODELAY) on the milter socket");
}

/*
 * unix_connect: a connection to the unix socket of a Socket spec
 * ("unix:PATH" or "local:PATH"); -1 when spec is no unix socket, or
 * nothing accepts on it.
 */
static int
unix_connect(const char *spec)
{
	struct sockaddr_un sun;
	const char *path;
	int fd;

	if (strncmp(spec, "unix:", 5) != 0 && strncmp(spec, "local:", 6) != 0)
		return -1;
	path = strchr(spec, ':') + 1;
	if (strlen(path) >= sizeof(sun.sun_path))
		return -1;
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	memcpy(sun.sun_path, path, strlen(path));
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1)
		return -1;
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) != 0) {
		(void)close(fd);
		return -1;
	}
	return fd;
}

/* stopper: smfi_stop in a thread of its own; stopped tells the main thread it returned. */
static atomic_bool stopped;

static void *
stopper(void *arg)
{
	(void)arg;
	(void)smfi_stop();
	atomic_store(&stopped, true);
	return NULL;
}

/*
 * knock: one connection to our own Socket, closed at once; libmilter's
 * listener wakes, accepts, and sees the stop.
 */
static void
knock(const char *spec)
{
	struct addrinfo hints, *res = NULL;
	char host[256], port[16];
	const char *at;
	int fd = -1;

	if (strncmp(spec, "unix:", 5) == 0 || strncmp(spec, "local:", 6) == 0) {
		fd = unix_connect(spec);
	} else if ((strncmp(spec, "inet:", 5) == 0 || strncmp(spec, "inet6:", 6) == 0) &&
	    (at = strchr(spec, '@')) != NULL) {
		const char *p = strchr(spec, ':') + 1;
		size_t n = (size_t)(at - p);

		if (n == 0 || n >= sizeof(port))
			return;
		memcpy(port, p, n);
		port[n] = '\0';
		util_strlcpy(host, at + 1, sizeof(host));
		/* A listener on every address answers on loopback too. */
		if (strcmp(host, "0.0.0.0") == 0)
			util_strlcpy(host, "127.0.0.1", sizeof(host));
		else if (strcmp(host, "::") == 0)
			util_strlcpy(host, "::1", sizeof(host));
		memset(&hints, 0, sizeof(hints));
		hints.ai_socktype = SOCK_STREAM;
		hints.ai_flags = AI_NUMERICSERV;
		if (getaddrinfo(host, port, &hints, &res) != 0)
			return;
		if ((fd = socket(res->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0)) != -1)
			(void)connect(fd, res->ai_addr, res->ai_addrlen);
		freeaddrinfo(res);
	}
	if (fd != -1)
		(void)close(fd);
}

/*
 * sockets_stop_milter: smfi_stop, without libmilter's 5 s wait.  smfi_stop marks
 * the stop and then waits for the listener's lock, which the listener
 * holds through a poll of up to 5 s; a connection to our own socket ends
 * that poll, and the listener sees the stop.  Knocks every 50 ms until
 * smfi_stop returns (at most 6 s; libmilter's own timeout ends it anyway).
 */
void
sockets_stop_milter(const char *spec)
{
	pthread_t t;
	int i;

	if (pthread_create(&t, NULL, stopper, NULL) != 0) {
		(void)smfi_stop();
		return;
	}
	for (i = 0; i < 120 && !atomic_load(&stopped); i++) {
		knock(spec);
		usleep(50 * 1000);
	}
	pthread_join(t, NULL);
}

/*
 * sockets_in_use: true when Socket is a unix socket that something still
 * accepts connections on.  libmilter removes an existing socket file
 * before it binds; without this check a second relaysign would take the
 * socket from a running one.  A file nobody listens on (left by a crash)
 * is libmilter's to replace.
 */
bool
sockets_in_use(const char *spec)
{
	int fd = unix_connect(spec);	/* inet: bind(2) itself refuses a port in use */

	if (fd == -1)
		return false;
	(void)close(fd);
	return true;
}

/*
 * sockets_owner: a unix socket made as root belongs to the UserID user
 * and group, so that the MTA's user can be given access through the group
 * (adduser postfix relaysign) while UMask keeps everyone else out.
 */
int
sockets_owner(const struct conf *conf)
{
	const char *path = conf->socket;
	uid_t uid;
	gid_t gid;

	if (strncmp(path, "unix:", 5) == 0)
		path += 5;
	else if (strncmp(path, "local:", 6) == 0)
		path += 6;
	else
		return 0;	/* inet: nothing on disk */
	if (conf->user_id == NULL || geteuid() != 0)
		return 0;
	if (process_user_ids(conf->user_id, &uid, &gid) != 0)
		return -1;
	if (lchown(path, uid, gid) != 0) {
		fprintf(stderr, "relaysign: Socket %s: chown to %s: %s\n", path, conf->user_id,
		    strerror(errno));
		return -1;
	}
	return 0;
}
