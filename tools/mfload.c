/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * mfload.c -- a milter-protocol (version 6) load driver that behaves like
 * Postfix's MTA side.
 *
 * It speaks the protocol itself (libmilter's mfdef.h for the codes): one
 * connection per worker thread, reused for many messages as Postfix reuses
 * its milter connection for an SMTP session, and, like Postfix 3.x
 * (src/milter/milter8.c):
 *   - offers protocol 6 with every SMFIP_* bit Postfix offers (SKIP,
 *     HDR_LEADSPC, the NR_* no-reply bits) and every action;
 *   - sends the macros Postfix sends by default, before their command,
 *     including the end-of-header macros before every header and the
 *     end-of-data macros before every body chunk;
 *   - buffers what it writes and flushes only when it is about to read a
 *     reply, plus once where smtpd hands the milter connection to cleanup
 *     (after DATA), exactly the writes where Nagle on the MTA side and a
 *     delayed ACK on the filter side can hold a packet for ~40 ms;
 *   - queues SMFIC_ABORT after each message (smtpd's mail_reset) so it
 *     goes out with the next MAIL, and SMFIC_QUIT at the end;
 *   - sends body chunks of at most 65,535 bytes with CRLF line ends and
 *     header values folded with LF alone, one leading space stripped
 *     unless HDR_LEADSPC was agreed;
 *   - with several sockets, is a chain of milters: envelope events go to
 *     each filter in turn, then the whole content to the first, then to
 *     the next (milter_message() loops over the milters).
 * The client sets no socket options (no TCP_NODELAY, no TCP_QUICKACK): a
 * stall the filter causes must show, and is reported per stage.  -N sets
 * TCP_NODELAY (with -w reply: a client unlike Postfix, that cannot stall).
 *
 * Latency is per message, from the MAIL write to the last EOM reply
 * (connect and negotiation excluded).  With -e it checks that every
 * message got that many DKIM-Signature fields; with -d it writes the
 * first K messages, modifications applied, for a DKIM verifier.  With -x
 * a message file goes out exactly as it is (hostile-input client).
 *
 * Every wait is bounded: poll() with -t seconds for each reply, -D
 * seconds for the whole run.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <libmilter/mfdef.h>

#define MF_MAX_FILTERS	4
#define MF_MAX_PIDS	8
#define MF_CHUNK_MAX	65535		/* MILTER_CHUNK_SIZE, as Postfix sends */
#define MF_REPLY_MAX	(1024 * 1024)	/* a reply larger than this is an error */
#define MF_STALL_MS	30.0		/* a wait this long is a delayed-ACK stall */
#define MF_STAGES	"OCHMRTLNBE"	/* stages timed, in protocol order */
#define MF_NSTAGES	10

/* What Postfix (milter_protocol = 6) offers: every action, every event bit. */
#define MF_OFFER_VERSION	6
#define MF_OFFER_ACTIONS	0x000001FFUL
#define MF_OFFER_PROTO		0x001FFFFFUL

enum wmode {
	W_POSTFIX,	/* flush before each read and at the smtpd->cleanup handoff */
	W_REPLY,	/* flush only before each read */
	W_EACH		/* one write() per packet */
};

struct hdr {
	const char *name;
	const char *value;	/* after the colon: leading space kept, LF folds */
	size_t vlen;
};

/* A modification a filter asked for at end of message. */
struct mod {
	char cmd;		/* SMFIR_ADDHEADER, SMFIR_INSHEADER, SMFIR_CHGHEADER */
	uint32_t index;
	char *name;
	char *value;
	bool leadspc;		/* the filter agreed to HDR_LEADSPC */
};

struct stage_stat {
	uint64_t n, stalls;
	double sum_ms, max_ms;
};

struct stats {
	uint64_t ok, fail, sigs_bad, mods;
	uint64_t tempfail, reject, broken;	/* of fail: 4xx, 5xx/discard, connection */
	uint64_t stalled;		/* messages with a wait >= MF_STALL_MS */
	struct stage_stat st[MF_NSTAGES];
	double *lat;		/* per message, ms */
	size_t nlat, latcap;
	char first_err[256];
};

struct filter_conn {
	int fd;
	uint32_t version, actions, proto;
	unsigned char *wbuf;
	size_t wlen, wcap;
	unsigned char *rbuf;
	size_t rcap;
	bool failed;		/* this message: rejected, tempfailed, error */
	bool accepted;		/* this message: SMFIR_ACCEPT before EOM */
	bool skip_body;		/* this message: SMFIR_SKIP seen */
	bool in_msg;		/* MAIL sent and no ABORT queued yet */
	int sigs;		/* DKIM-Signature fields added this message */
	struct mod *mods;
	size_t nmods, modcap;
};

struct sockspec {
	int family;
	struct sockaddr_storage sa;
	socklen_t salen;
	char text[256];
};

/* Options. */
static struct sockspec socks[MF_MAX_FILTERS];
static int nsocks;
static int concurrency = 1;
static long total = 100;
static long per_conn;			/* 0: one connection per worker */
static double duration;			/* 0: no limit */
static double io_timeout = 30;
static const char *msg_file;
static size_t gen_size = 2048;
static bool exact;
static const char *client_addr = "192.0.2.10";
static const char *client_name = "relay.example";
static const char *auth_user;
static const char *env_from = "alma@exlibrisgroup.com";
static const char *env_rcpt = "patron@example.net";
static int expect_sigs = -1;
static const char *dump_dir;
static long dump_k;
static pid_t pids[MF_MAX_PIDS];
static int npids;
static enum wmode wmode = W_POSTFIX;
static size_t chunk = MF_CHUNK_MAX;
static long idle_n;
static double idle_secs = 3;
static bool verbose;
static bool client_nodelay;	/* -N: TCP_NODELAY on the client's socket */
static const char *label = "";
static const char *write_to;		/* -o: write the message there and exit */

/* The message, read or made once, shared read-only by the workers. */
static struct hdr *hdrs;
static size_t nhdrs;
static ssize_t msgid_index = -1;	/* header whose value varies per message */
static unsigned char *body;
static size_t body_len;

/* What each filter agreed to, from the first connection (for the report). */
static uint32_t neg_actions[MF_MAX_FILTERS], neg_proto[MF_MAX_FILTERS];
static atomic_int neg_seen[MF_MAX_FILTERS];

static atomic_long next_msg;
static atomic_int stop_flag;
static double t_deadline;
static pthread_barrier_t start_barrier;	/* every worker connected */
static pthread_barrier_t go_barrier;	/* the clock and deadline are set */
static pthread_mutex_t err_lock = PTHREAD_MUTEX_INITIALIZER;
static char first_err[256];

/* die: a usage or set-up error; the run cannot start. */
static void __attribute__((noreturn, format(printf, 1, 2)))
die(const char *fmt, ...)
{
	va_list ap;

	fputs("mfload: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(2);
}

/* note_err: remember the first error of the run (for the summary). */
static void __attribute__((format(printf, 1, 2)))
note_err(const char *fmt, ...)
{
	va_list ap;

	pthread_mutex_lock(&err_lock);
	if (first_err[0] == '\0') {
		va_start(ap, fmt);
		vsnprintf(first_err, sizeof(first_err), fmt, ap);
		va_end(ap);
	}
	pthread_mutex_unlock(&err_lock);
	if (verbose) {
		va_start(ap, fmt);
		fputs("mfload: ", stderr);
		vfprintf(stderr, fmt, ap);
		fputc('\n', stderr);
		va_end(ap);
	}
}

/* xmalloc: allocation succeeds or the program ends. */
static void *
xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);

	if (p == NULL)
		die("out of memory (%zu bytes)", n);
	return p;
}

/* xrealloc: as xmalloc. */
static void *
xrealloc(void *p, size_t n)
{
	if ((p = realloc(p, n ? n : 1)) == NULL)
		die("out of memory (%zu bytes)", n);
	return p;
}

/* now_ms: a monotonic clock in milliseconds. */
static double
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/* parse_size: "2048", "2k", "100K", "50m" -> bytes. */
static size_t
parse_size(const char *s)
{
	char *end;
	unsigned long long v;

	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno != 0 || end == s)
		die("bad size: %s", s);
	switch (*end) {
	case 'k': case 'K': v *= 1024; end++; break;
	case 'm': case 'M': v *= 1024 * 1024; end++; break;
	case 'g': case 'G': v *= 1024ULL * 1024 * 1024; end++; break;
	}
	if (*end != '\0' || v > (1ULL << 34))
		die("bad size: %s", s);
	return (size_t)v;
}

/* parse_socket: inet:PORT@HOST, inet:HOST:PORT, inet6:..., unix:PATH, local:PATH, /PATH. */
static void
parse_socket(const char *spec, struct sockspec *s)
{
	char buf[256], *host, *port, *p;
	struct addrinfo hints, *ai;
	int rc;

	memset(s, 0, sizeof(*s));
	snprintf(s->text, sizeof(s->text), "%s", spec);
	if (strncmp(spec, "unix:", 5) == 0 || strncmp(spec, "local:", 6) == 0 ||
	    spec[0] == '/') {
		struct sockaddr_un *un = (struct sockaddr_un *)&s->sa;
		const char *path = spec[0] == '/' ? spec : strchr(spec, ':') + 1;

		if (strlen(path) >= sizeof(un->sun_path))
			die("socket path too long: %s", path);
		un->sun_family = AF_UNIX;
		strcpy(un->sun_path, path);
		s->family = AF_UNIX;
		s->salen = sizeof(*un);
		return;
	}
	if (strncmp(spec, "inet:", 5) == 0)
		spec += 5;
	else if (strncmp(spec, "inet6:", 6) == 0)
		spec += 6;
	else
		die("socket must be inet:PORT@HOST, inet:HOST:PORT or unix:PATH: %s", spec);
	snprintf(buf, sizeof(buf), "%s", spec);
	if ((p = strchr(buf, '@')) != NULL) {		/* libmilter: port@host */
		*p = '\0';
		port = buf;
		host = p + 1;
	} else if ((p = strrchr(buf, ':')) != NULL) {	/* Postfix: host:port */
		*p = '\0';
		host = buf;
		port = p + 1;
	} else {
		die("socket lacks a port: %s", s->text);
	}
	if (host[0] == '[') {
		host++;
		if ((p = strchr(host, ']')) != NULL)
			*p = '\0';
	}
	memset(&hints, 0, sizeof(hints));
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV;
	if ((rc = getaddrinfo(host, port, &hints, &ai)) != 0)
		die("%s: %s (numeric address and port only: no DNS)", s->text,
		    gai_strerror(rc));
	memcpy(&s->sa, ai->ai_addr, ai->ai_addrlen);
	s->salen = ai->ai_addrlen;
	s->family = ai->ai_family;
	freeaddrinfo(ai);
}

/* ------------------------------------------------------------ message */

/* add_hdr: append one header to the message being built. */
static void
add_hdr(const char *name, const char *value, size_t vlen)
{
	hdrs = xrealloc(hdrs, (nhdrs + 1) * sizeof(*hdrs));
	hdrs[nhdrs].name = name;
	hdrs[nhdrs].value = value;
	hdrs[nhdrs].vlen = vlen;
	nhdrs++;
}

/* make_message: a notice of about gen_size bytes, signed by library.example.edu. */
static void
make_message(void)
{
	static const char *const fields[][2] = {
		{ "Received", " from relay.example (relay.example [192.0.2.10])\n"
		  "\tby relay.test (Postfix) with ESMTP id 4XbenchQID\n"
		  "\tfor <patron@example.net>; Mon, 12 Jan 2026 10:00:00 +0000 (UTC)" },
		{ "From", " Library <library@library.example.edu>" },
		{ "To", " Patron <patron@example.net>" },
		{ "Subject", " Courtesy notice: items due soon" },
		{ "Date", " Mon, 12 Jan 2026 10:00:00 +0000" },
		{ "Message-ID", NULL },		/* per message */
		{ "MIME-Version", " 1.0" },
		{ "Content-Type", " text/plain; charset=utf-8" },
		{ "Content-Transfer-Encoding", " 8bit" },
	};
	static const char line[] =
	    "Dear patron, the following items are due soon; renew them online at"
	    " the library's website.";
	size_t i, hbytes = 0, want, off = 0, ln = 0;

	for (i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
		const char *v = fields[i][1];

		if (v == NULL) {
			msgid_index = (ssize_t)nhdrs;
			v = " <placeholder@library.example.edu>";
		}
		add_hdr(fields[i][0], v, strlen(v));
		hbytes += strlen(fields[i][0]) + 1 + strlen(v) + 2;
	}
	want = gen_size > hbytes + 2 ? gen_size - hbytes - 2 : 16;
	body = xmalloc(want + 128);
	while (off < want) {
		int n = snprintf((char *)body + off, want + 128 - off, "%06zu %.*s\r\n", ln++,
		    (int)(want - off > 80 ? 70 : (want - off > 10 ? want - off - 10 : 1)),
		    line);

		if (n <= 0)
			break;
		off += (size_t)n;
	}
	body_len = off;
}

/* read_file: the whole file, NUL-terminated; *len_r its length. */
static unsigned char *
read_file(const char *path, size_t *len_r)
{
	int fd = open(path, O_RDONLY);
	struct stat st;
	unsigned char *buf;
	size_t off = 0;

	if (fd < 0 || fstat(fd, &st) != 0)
		die("%s: %s", path, strerror(errno));
	buf = xmalloc((size_t)st.st_size + 1);
	while (off < (size_t)st.st_size) {
		ssize_t n = read(fd, buf + off, (size_t)st.st_size - off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			die("%s: short read", path);
		off += (size_t)n;
	}
	close(fd);
	buf[off] = '\0';
	*len_r = off;
	return buf;
}

/*
 * load_message: split an .eml into header fields and body.  Normal mode
 * does what Postfix does before a milter sees the message: folds become
 * LF, body lines end in CRLF.  Exact mode (-x) keeps every byte: a field
 * is everything after the colon up to its last line end, and a line
 * without a colon is a header named by the whole line with an empty value.
 */
static void
load_message(const char *path)
{
	size_t len, i = 0;
	unsigned char *buf = read_file(path, &len);

	while (i < len) {
		size_t start = i, end, next, colon;
		char *name, *value;

		/* An empty line ends the header block. */
		if (buf[i] == '\n') {
			i++;
			break;
		}
		if (buf[i] == '\r' && i + 1 < len && buf[i + 1] == '\n') {
			i += 2;
			break;
		}
		/* The field: this line and every continuation line. */
		end = i;
		for (;;) {
			while (end < len && buf[end] != '\n')
				end++;
			next = end < len ? end + 1 : end;
			if (next < len && (buf[next] == ' ' || buf[next] == '\t')) {
				end = next;
				continue;
			}
			break;
		}
		/* [start, end) is the field without its final LF. */
		for (colon = start; colon < end && buf[colon] != ':' && buf[colon] != '\n';
		    colon++)
			;
		if (colon < end && buf[colon] == ':') {
			name = xmalloc(colon - start + 1);
			memcpy(name, buf + start, colon - start);
			name[colon - start] = '\0';
			colon++;
		} else {
			size_t e = end;

			if (!exact && e > start && buf[e - 1] == '\r')
				e--;
			name = xmalloc(e - start + 1);
			memcpy(name, buf + start, e - start);
			name[e - start] = '\0';
			colon = end;
		}
		value = xmalloc(end - colon + 1);
		if (exact) {
			size_t e = end;

			if (e > colon && buf[e - 1] == '\r')
				e--;
			memcpy(value, buf + colon, e - colon);
			value[e - colon] = '\0';
			add_hdr(name, value, e - colon);
		} else {
			size_t j, k = 0;

			for (j = colon; j < end; j++)
				if (!(buf[j] == '\r' && (j + 1 == end || buf[j + 1] == '\n')))
					value[k++] = (char)buf[j];
			value[k] = '\0';
			add_hdr(name, value, k);
		}
		i = next;
	}
	if (exact) {
		body = xmalloc(len - i + 1);
		memcpy(body, buf + i, len - i);
		body_len = len - i;
	} else {
		size_t j, k = 0;

		body = xmalloc(2 * (len - i) + 3);
		for (j = i; j < len; j++) {
			if (buf[j] == '\n' && (j == i || buf[j - 1] != '\r'))
				body[k++] = '\r';
			body[k++] = buf[j];
		}
		/* Postfix ends the last line. */
		if (k > 0 && body[k - 1] != '\n') {
			body[k++] = '\r';
			body[k++] = '\n';
		}
		body_len = k;
	}
	free(buf);
}

/* ------------------------------------------------------------ protocol */

/* wput: append bytes to the connection's write buffer. */
static void
wput(struct filter_conn *fc, const void *p, size_t n)
{
	if (fc->wlen + n > fc->wcap) {
		size_t cap = fc->wcap ? fc->wcap : 65536;

		while (cap < fc->wlen + n)
			cap *= 2;
		fc->wbuf = xrealloc(fc->wbuf, cap);
		fc->wcap = cap;
	}
	memcpy(fc->wbuf + fc->wlen, p, n);
	fc->wlen += n;
}

/* flush: write out what is buffered (bounded by io_timeout). */
static int
flush(struct filter_conn *fc)
{
	size_t off = 0;
	double t_end = now_ms() + io_timeout * 1e3;

	while (off < fc->wlen) {
		ssize_t n = send(fc->fd, fc->wbuf + off, fc->wlen - off, MSG_NOSIGNAL);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			struct pollfd pfd = { .fd = fc->fd, .events = POLLOUT };
			double left = t_end - now_ms();

			if (left <= 0 || poll(&pfd, 1, (int)left) <= 0) {
				note_err("write: timed out after %.0f s", io_timeout);
				return -1;
			}
			continue;
		}
		if (n <= 0) {
			note_err("write: %s", n < 0 ? strerror(errno) : "closed");
			return -1;
		}
		off += (size_t)n;
	}
	fc->wlen = 0;
	return 0;
}

/*
 * packet: queue one packet (4-byte length, command, data parts); in
 * W_EACH mode write it at once.  parts is NULL-terminated pairs of
 * (pointer, length).
 */
static int
packet(struct filter_conn *fc, char cmd, ...)
{
	va_list ap;
	const void *p;
	size_t n, len = 1;
	uint32_t nl;

	va_start(ap, cmd);
	while ((p = va_arg(ap, const void *)) != NULL) {
		n = va_arg(ap, size_t);
		len += n;
	}
	va_end(ap);
	if (len > UINT32_MAX)
		return -1;
	nl = htonl((uint32_t)len);
	wput(fc, &nl, 4);
	wput(fc, &cmd, 1);
	va_start(ap, cmd);
	while ((p = va_arg(ap, const void *)) != NULL) {
		n = va_arg(ap, size_t);
		wput(fc, p, n);
	}
	va_end(ap);
	return wmode == W_EACH ? flush(fc) : 0;
}

/* macros: queue SMFIC_MACRO for stage with NULL-terminated name/value pairs (empty values dropped). */
static int
macros(struct filter_conn *fc, char stage, const char *const *nv)
{
	unsigned char buf[2048];
	size_t off = 0, i;

	for (i = 0; nv[i] != NULL; i += 2) {
		size_t a = strlen(nv[i]) + 1, b;

		if (nv[i + 1] == NULL || nv[i + 1][0] == '\0')
			continue;
		b = strlen(nv[i + 1]) + 1;
		if (off + a + b > sizeof(buf))
			break;
		memcpy(buf + off, nv[i], a);
		memcpy(buf + off + a, nv[i + 1], b);
		off += a + b;
	}
	return packet(fc, SMFIC_MACRO, &stage, (size_t)1, buf, off, (void *)NULL);
}

/* read_exact: n bytes, or -1 on error, close or timeout. */
static int
read_exact(struct filter_conn *fc, unsigned char *p, size_t n, double t_end)
{
	size_t off = 0;

	while (off < n) {
		struct pollfd pfd = { .fd = fc->fd, .events = POLLIN };
		double left = t_end - now_ms();
		ssize_t r;
		int pr;

		if (left <= 0) {
			note_err("no reply within %.0f s", io_timeout);
			return -1;
		}
		pr = poll(&pfd, 1, left > INT_MAX ? INT_MAX : (int)left + 1);
		if (pr < 0 && errno == EINTR)
			continue;
		if (pr <= 0)
			continue;	/* the deadline check above ends it */
		r = recv(fc->fd, p + off, n - off, 0);
		if (r < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (r <= 0) {
			note_err("read: %s", r < 0 ? strerror(errno) : "the filter closed the connection");
			return -1;
		}
		off += (size_t)r;
	}
	return 0;
}

/* read_packet: one reply packet; *cmd_r, data in fc->rbuf, *len_r its length. */
static int
read_packet(struct filter_conn *fc, char *cmd_r, size_t *len_r)
{
	unsigned char hdr[5];
	uint32_t len;
	double t_end = now_ms() + io_timeout * 1e3;

	if (read_exact(fc, hdr, 5, t_end) != 0)
		return -1;
	memcpy(&len, hdr, 4);
	len = ntohl(len);
	if (len < 1 || len > MF_REPLY_MAX) {
		note_err("bad reply length %" PRIu32, len);
		return -1;
	}
	*cmd_r = (char)hdr[4];
	len--;
	if (len + 1 > fc->rcap) {
		fc->rcap = len + 1;
		fc->rbuf = xrealloc(fc->rbuf, fc->rcap);
	}
	if (len > 0 && read_exact(fc, fc->rbuf, len, t_end) != 0)
		return -1;
	fc->rbuf[len] = '\0';
	*len_r = len;
	return 0;
}

/* stage_slot: the index of a stage letter in MF_STAGES. */
static int
stage_slot(char stage)
{
	const char *p = strchr(MF_STAGES, stage);

	return p != NULL ? (int)(p - MF_STAGES) : 0;
}

/* keep_mod: remember a header modification for the dump. */
static void
keep_mod(struct filter_conn *fc, char cmd, const unsigned char *d, size_t len)
{
	size_t off = 0, nl, vl;
	uint32_t idx = 0;
	struct mod *m;

	if (cmd != SMFIR_ADDHEADER) {
		if (len < 4)
			return;
		memcpy(&idx, d, 4);
		idx = ntohl(idx);
		off = 4;
	}
	nl = strnlen((const char *)d + off, len - off);
	if (off + nl + 1 > len)
		return;
	vl = strnlen((const char *)d + off + nl + 1, len - off - nl - 1);
	if (fc->nmods == fc->modcap) {
		fc->modcap = fc->modcap ? fc->modcap * 2 : 8;
		fc->mods = xrealloc(fc->mods, fc->modcap * sizeof(*fc->mods));
	}
	m = &fc->mods[fc->nmods++];
	m->cmd = cmd;
	m->index = idx;
	m->name = strndup((const char *)d + off, nl);
	m->value = strndup((const char *)d + off + nl + 1, vl);
	m->leadspc = (fc->proto & SMFIP_HDR_LEADSPC) != 0;
	if (m->name == NULL || m->value == NULL)
		die("out of memory");
}

/*
 * await: flush, then read replies until a final one; account the wait to
 * stage.  Returns the final reply command, or 0 on a protocol error.
 */
static char
await(struct filter_conn *fc, char stage, struct stats *s, bool keep)
{
	double t0 = now_ms(), ms;
	struct stage_stat *st = &s->st[stage_slot(stage)];
	char cmd;
	size_t len;
	int guard;

	if (flush(fc) != 0)
		return 0;
	for (guard = 0; guard < 100000; guard++) {
		if (read_packet(fc, &cmd, &len) != 0)
			return 0;
		switch (cmd) {
		case SMFIR_PROGRESS:
			continue;
		case SMFIR_ADDHEADER:
		case SMFIR_INSHEADER:
		case SMFIR_CHGHEADER: {
			size_t off = cmd == SMFIR_ADDHEADER ? 0 : 4;

			if (stage != SMFIC_BODYEOB) {
				note_err("modification '%c' outside end of message", cmd);
				return 0;
			}
			s->mods++;
			if (cmd != SMFIR_CHGHEADER && len > off &&
			    strcasecmp((const char *)fc->rbuf + off, "DKIM-Signature") == 0)
				fc->sigs++;
			if (keep)
				keep_mod(fc, cmd, fc->rbuf, len);
			continue;
		}
		case SMFIR_ADDRCPT:
		case SMFIR_DELRCPT:
		case SMFIR_ADDRCPT_PAR:
		case SMFIR_CHGFROM:
		case SMFIR_REPLBODY:
		case SMFIR_QUARANTINE:
			if (stage != SMFIC_BODYEOB) {
				note_err("modification '%c' outside end of message", cmd);
				return 0;
			}
			s->mods++;
			continue;
		case SMFIR_CONTINUE:
		case SMFIR_ACCEPT:
		case SMFIR_SKIP:
		case SMFIR_REJECT:
		case SMFIR_TEMPFAIL:
		case SMFIR_DISCARD:
		case SMFIR_REPLYCODE:
		case SMFIR_CONN_FAIL:
		case SMFIR_SHUTDOWN:
			ms = now_ms() - t0;
			st->n++;
			st->sum_ms += ms;
			if (ms > st->max_ms)
				st->max_ms = ms;
			if (ms >= MF_STALL_MS)
				st->stalls++;
			/* By reply code, so a run can say what it lost and how. */
			if (cmd == SMFIR_TEMPFAIL ||
			    (cmd == SMFIR_REPLYCODE && len > 0 && fc->rbuf[0] == '4'))
				s->tempfail++;
			else if (cmd == SMFIR_REJECT || cmd == SMFIR_DISCARD ||
			    cmd == SMFIR_REPLYCODE)
				s->reject++;
			if (cmd == SMFIR_REPLYCODE || cmd == SMFIR_REJECT ||
			    cmd == SMFIR_TEMPFAIL || cmd == SMFIR_DISCARD ||
			    cmd == SMFIR_CONN_FAIL || cmd == SMFIR_SHUTDOWN)
				note_err("stage %c: filter answered '%c'%s%.*s", stage, cmd,
				    cmd == SMFIR_REPLYCODE ? " " : "",
				    cmd == SMFIR_REPLYCODE ? (int)(len > 120 ? 120 : len) : 0,
				    (const char *)fc->rbuf);
			return cmd;
		default:
			note_err("stage %c: unknown reply '%c' (0x%02x)", stage,
			    cmd >= ' ' && cmd < 127 ? cmd : '?', (unsigned char)cmd);
			return 0;
		}
	}
	note_err("stage %c: more than 100000 replies", stage);
	return 0;
}

/* event: the outcome of a stage that may or may not be answered. */
enum ev { EV_OK, EV_STOP, EV_ERR };

/*
 * event_done: a stage's command is queued; read the reply unless the
 * filter agreed not to send one (nr_flag).  EV_STOP: the filter is done
 * with this message (accept, reject, ...); EV_ERR: the connection is
 * unusable.
 */
static enum ev
event_done(struct filter_conn *fc, char stage, unsigned long nr_flag, struct stats *s,
    bool keep)
{
	char r;

	if (nr_flag != 0 && (fc->proto & nr_flag) != 0)
		return EV_OK;
	r = await(fc, stage, s, keep);
	switch (r) {
	case 0:
		return EV_ERR;
	case SMFIR_CONTINUE:
		return EV_OK;
	case SMFIR_SKIP:
		if (stage == SMFIC_BODY) {
			fc->skip_body = true;
			return EV_OK;
		}
		note_err("SMFIR_SKIP at stage %c", stage);
		return EV_ERR;
	case SMFIR_ACCEPT:
		fc->accepted = true;
		return EV_STOP;
	case SMFIR_CONN_FAIL:
	case SMFIR_SHUTDOWN:
		fc->failed = true;
		return EV_ERR;
	default:
		fc->failed = true;
		return EV_STOP;
	}
}

/* fc_close: QUIT (after a pending ABORT), close, free. */
static void
fc_close(struct filter_conn *fc, bool polite)
{
	size_t i;

	if (fc->fd >= 0) {
		if (polite) {
			if (fc->in_msg)
				(void)packet(fc, SMFIC_ABORT, (void *)NULL);
			(void)packet(fc, SMFIC_QUIT, (void *)NULL);
			(void)flush(fc);
		}
		close(fc->fd);
	}
	for (i = 0; i < fc->nmods; i++) {
		free(fc->mods[i].name);
		free(fc->mods[i].value);
	}
	free(fc->mods);
	free(fc->wbuf);
	free(fc->rbuf);
	memset(fc, 0, sizeof(*fc));
	fc->fd = -1;
}

/* fc_open: connect and negotiate (version, actions, protocol; symbol lists ignored). */
static int
fc_open(struct filter_conn *fc, const struct sockspec *sp, struct stats *s)
{
	uint32_t v[3];
	char cmd;
	size_t len;
	int fd;

	memset(fc, 0, sizeof(*fc));
	fc->fd = -1;
	if ((fd = socket(sp->family, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0) {
		note_err("socket: %s", strerror(errno));
		return -1;
	}
	/* A blocking connect to loopback or a local socket; the kernel bounds it. */
	if (connect(fd, (const struct sockaddr *)&sp->sa, sp->salen) != 0) {
		note_err("connect %s: %s", sp->text, strerror(errno));
		close(fd);
		return -1;
	}
	/* -N: a client that turns Nagle off, to tell its stalls from the filter's. */
	if (client_nodelay && sp->family != AF_UNIX) {
		int one = 1;

		(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	}
	fc->fd = fd;
	v[0] = htonl(MF_OFFER_VERSION);
	v[1] = htonl(MF_OFFER_ACTIONS);
	v[2] = htonl(MF_OFFER_PROTO);
	(void)packet(fc, SMFIC_OPTNEG, v, sizeof(v), (void *)NULL);
	if (flush(fc) != 0 || read_packet(fc, &cmd, &len) != 0)
		goto fail;
	if (cmd != SMFIC_OPTNEG || len < 12) {
		note_err("%s: bad negotiation reply '%c' (%zu bytes)", sp->text, cmd, len);
		goto fail;
	}
	memcpy(v, fc->rbuf, 12);
	fc->version = ntohl(v[0]);
	fc->actions = ntohl(v[1]);
	fc->proto = ntohl(v[2]);
	if ((fc->proto & ~MF_OFFER_PROTO) != 0) {
		note_err("%s: the filter asked for protocol bits 0x%" PRIx32 " never offered",
		    sp->text, (uint32_t)(fc->proto & ~MF_OFFER_PROTO));
		goto fail;
	}
	s->st[stage_slot('O')].n++;
	{
		int i = (int)(sp - socks);

		if (i >= 0 && i < MF_MAX_FILTERS && atomic_exchange(&neg_seen[i], 1) == 0) {
			neg_actions[i] = fc->actions;
			neg_proto[i] = fc->proto;
		}
	}
	return 0;
fail:
	fc_close(fc, false);
	return -1;
}

/* Per-connection macro values, as Postfix would send them. */
struct session {
	char client_port[8];
	char underscore[300];
};

/* session_start: CONNECT and HELO to each filter of the chain. */
static int
session_start(struct filter_conn *fcs, struct session *ss, struct stats *s)
{
	const char *conn_macros[] = {
		"j", "relay.test", "{daemon_name}", "relay.test",
		"{daemon_addr}", "127.0.0.1", "v", "Postfix 3.7.11",
		"_", ss->underscore, NULL
	};
	const char *helo_macros[] = { NULL };
	const char *helo = client_name;
	bool v6 = strchr(client_addr, ':') != NULL;
	char fam = v6 ? SMFIA_INET6 : SMFIA_INET;
	uint16_t port = htons((uint16_t)atoi(ss->client_port));
	int i;

	snprintf(ss->underscore, sizeof(ss->underscore), "%s [%s]", client_name, client_addr);
	for (i = 0; i < nsocks; i++) {
		struct filter_conn *fc = &fcs[i];

		(void)macros(fc, SMFIC_CONNECT, conn_macros);
		if (!(fc->proto & SMFIP_NOCONNECT)) {
			(void)packet(fc, SMFIC_CONNECT, client_name, strlen(client_name) + 1,
			    &fam, (size_t)1, &port, (size_t)2, client_addr,
			    strlen(client_addr) + 1, (void *)NULL);
			if (event_done(fc, SMFIC_CONNECT, SMFIP_NR_CONN, s, false) != EV_OK)
				return -1;
		}
	}
	for (i = 0; i < nsocks; i++) {
		struct filter_conn *fc = &fcs[i];

		(void)macros(fc, SMFIC_HELO, helo_macros);
		if (!(fc->proto & SMFIP_NOHELO)) {
			(void)packet(fc, SMFIC_HELO, helo, strlen(helo) + 1, (void *)NULL);
			if (event_done(fc, SMFIC_HELO, SMFIP_NR_HELO, s, false) != EV_OK)
				return -1;
		}
	}
	return 0;
}

/* send_content: headers, EOH, body chunks, EOB to one filter (cleanup's milter_message). */
static enum ev
send_content(struct filter_conn *fc, const struct hdr *h, size_t nh, const char *qid,
    struct stats *s, bool keep)
{
	const char *mac[] = { "i", qid, NULL };
	size_t i, off;
	enum ev e;

	if (!(fc->proto & SMFIP_NOHDRS)) {
		for (i = 0; i < nh; i++) {
			const char *v = h[i].value;
			size_t vl = h[i].vlen;

			/* Sendmail compatibility: one space eaten unless LEADSPC. */
			if (!(fc->proto & SMFIP_HDR_LEADSPC) && vl > 0 && v[0] == ' ') {
				v++;
				vl--;
			}
			(void)macros(fc, SMFIC_EOH, mac);
			(void)packet(fc, SMFIC_HEADER, h[i].name, strlen(h[i].name) + 1, v, vl,
			    "", (size_t)1, (void *)NULL);
			if ((e = event_done(fc, SMFIC_HEADER, SMFIP_NR_HDR, s, keep)) != EV_OK)
				return e;
		}
	}
	(void)macros(fc, SMFIC_EOH, mac);
	if (!(fc->proto & SMFIP_NOEOH)) {
		(void)packet(fc, SMFIC_EOH, (void *)NULL);
		if ((e = event_done(fc, SMFIC_EOH, SMFIP_NR_EOH, s, keep)) != EV_OK)
			return e;
	}
	if (!(fc->proto & SMFIP_NOBODY)) {
		for (off = 0; off < body_len && !fc->skip_body; off += chunk) {
			size_t n = body_len - off < chunk ? body_len - off : chunk;

			(void)macros(fc, SMFIC_BODYEOB, mac);
			(void)packet(fc, SMFIC_BODY, body + off, n, (void *)NULL);
			if ((e = event_done(fc, SMFIC_BODY, SMFIP_NR_BODY, s, keep)) != EV_OK)
				return e;
		}
	}
	(void)macros(fc, SMFIC_BODYEOB, mac);
	(void)packet(fc, SMFIC_BODYEOB, (void *)NULL);
	return event_done(fc, SMFIC_BODYEOB, 0, s, keep);
}

/* write_value: a header value with LF folds written as CRLF. */
static void
write_value(FILE *fp, const char *v)
{
	const char *p;

	for (p = v; *p != '\0'; p++) {
		if (*p == '\n' && (p == v || p[-1] != '\r'))
			fputc('\r', fp);
		fputc(*p, fp);
	}
}

/*
 * dump_message: the message as the MTA would deliver it, the filters'
 * header changes applied in order (SMFIR_INSHEADER at its index,
 * SMFIR_ADDHEADER at the end, SMFIR_CHGHEADER on the index-th field of
 * that name, an empty value deleting it).
 */
static void
dump_message(long idx, const struct hdr *h, size_t nh, struct filter_conn *fcs)
{
	struct out { const char *name, *value; bool sp; } *o;
	size_t no = 0, cap = nh + 16, i, j;
	char path[4096];
	FILE *fp;
	int f;

	o = xmalloc(cap * sizeof(*o));
	for (i = 0; i < nh; i++) {
		o[no].name = h[i].name;
		o[no].value = h[i].value;
		o[no].sp = false;
		no++;
	}
	for (f = 0; f < nsocks; f++) {
		for (j = 0; j < fcs[f].nmods; j++) {
			struct mod *m = &fcs[f].mods[j];

			if (no + 1 > cap) {
				cap *= 2;
				o = xrealloc(o, cap * sizeof(*o));
			}
			if (m->cmd == SMFIR_CHGHEADER) {
				uint32_t seen = 0;

				for (i = 0; i < no; i++)
					if (o[i].name != NULL && strcasecmp(o[i].name, m->name) == 0 &&
					    ++seen == m->index)
						break;
				if (i == no) {
					if (m->value[0] == '\0')
						continue;
					i = no++;	/* Postfix appends a missing one */
				}
				o[i].name = m->value[0] == '\0' ? NULL : m->name;
				o[i].value = m->value;
				o[i].sp = !m->leadspc;
				continue;
			}
			i = m->cmd == SMFIR_ADDHEADER || m->index > no ? no : m->index;
			memmove(&o[i + 1], &o[i], (no - i) * sizeof(*o));
			o[i].name = m->name;
			o[i].value = m->value;
			o[i].sp = !m->leadspc;
			no++;
		}
	}
	snprintf(path, sizeof(path), "%s/msg-%06ld.eml", dump_dir, idx);
	if ((fp = fopen(path, "w")) == NULL) {
		note_err("%s: %s", path, strerror(errno));
		free(o);
		return;
	}
	for (i = 0; i < no; i++) {
		if (o[i].name == NULL)
			continue;
		fprintf(fp, "%s:%s", o[i].name, o[i].sp ? " " : "");
		write_value(fp, o[i].value);
		fputs("\r\n", fp);
	}
	fputs("\r\n", fp);
	fwrite(body, 1, body_len, fp);
	if (fclose(fp) != 0)
		note_err("%s: write error", path);
	free(o);
}

/*
 * write_eml: -o: the message as a file for smtp-source -F, which ends
 * every line with CRLF itself: so LF line ends here.
 */
static void
write_eml(const char *path)
{
	FILE *fp = fopen(path, "w");
	size_t i;

	if (fp == NULL)
		die("%s: %s", path, strerror(errno));
	for (i = 0; i < nhdrs; i++)
		fprintf(fp, "%s:%.*s\n", hdrs[i].name, (int)hdrs[i].vlen, hdrs[i].value);
	fputc('\n', fp);
	for (i = 0; i < body_len; i++)
		if (!(body[i] == '\r' && i + 1 < body_len && body[i + 1] == '\n'))
			fputc(body[i], fp);
	if (fclose(fp) != 0)
		die("%s: write error", path);
}

/* clear_mods: forget the last message's modifications. */
static void
clear_mods(struct filter_conn *fc)
{
	size_t i;

	for (i = 0; i < fc->nmods; i++) {
		free(fc->mods[i].name);
		free(fc->mods[i].value);
	}
	fc->nmods = 0;
}

/* record_latency: one message's latency. */
static void
record_latency(struct stats *s, double ms)
{
	if (s->nlat == s->latcap) {
		s->latcap = s->latcap ? s->latcap * 2 : 1024;
		s->lat = xrealloc(s->lat, s->latcap * sizeof(*s->lat));
	}
	s->lat[s->nlat++] = ms;
}

/*
 * envelope_stage: one envelope command (MAIL, RCPT or DATA) with its macros
 * to each filter still in the message, as smtpd sends it: arg1 and arg2
 * (NULL: none) NUL-terminated; skip is the SMFIP_NO* flag that drops the
 * command, nr the SMFIP_NR_* one that leaves it unanswered.  A filter done
 * with the message is marked in done.  -1: a connection is unusable.
 */
static int
envelope_stage(struct filter_conn *fcs, int nsocks, bool *done, char cmd, const char *const *mac,
    unsigned long skip, unsigned long nr, const char *arg1, const char *arg2, struct stats *s,
    bool keep)
{
	enum ev e;
	int f;

	for (f = 0; f < nsocks; f++) {
		struct filter_conn *fc = &fcs[f];

		if (done[f])
			continue;
		(void)macros(fc, cmd, mac);
		if (cmd == SMFIC_MAIL)
			fc->in_msg = true;
		if (fc->proto & skip)
			continue;
		if (arg2 != NULL)
			(void)packet(fc, cmd, arg1, strlen(arg1) + 1, arg2, strlen(arg2) + 1,
			    (void *)NULL);
		else if (arg1 != NULL)
			(void)packet(fc, cmd, arg1, strlen(arg1) + 1, (void *)NULL);
		else
			(void)packet(fc, cmd, (void *)NULL);
		if ((e = event_done(fc, cmd, nr, s, keep)) == EV_ERR)
			return -1;
		if (e == EV_STOP)
			done[f] = true;
	}
	return 0;
}

/*
 * one_message: MAIL .. EOM through the chain.  Returns 0 if the message
 * went through (counted ok or failed), -1 if a connection broke.
 */
static int
one_message(struct filter_conn *fcs, long idx, unsigned wid, struct stats *s)
{
	char qid[32], from[300], rcpt[300], msgid[128], size_arg[32];
	const char *mail_mac[] = {
		"i", qid, "{auth_type}", auth_user != NULL ? "PLAIN" : NULL,
		"{auth_authen}", auth_user, "{mail_addr}", env_from, NULL
	};
	const char *rcpt_mac[] = {
		"i", qid, "{rcpt_addr}", env_rcpt, "{rcpt_host}", "127.0.0.1",
		"{rcpt_mailer}", "smtp", NULL
	};
	const char *data_mac[] = { "i", qid, NULL };
	struct hdr hcopy[64], *h = hdrs;
	bool keep = dump_dir != NULL && idx < dump_k;
	bool done[MF_MAX_FILTERS] = { false };
	double t0;
	int f, sigs = 0;
	bool failed = false;
	enum ev e;
	uint64_t stalls0 = 0, stalls1 = 0;

	snprintf(qid, sizeof(qid), "%02X%09lX", wid & 0xff, (unsigned long)idx);
	snprintf(from, sizeof(from), "<%s>", env_from);
	snprintf(rcpt, sizeof(rcpt), "<%s>", env_rcpt);
	snprintf(size_arg, sizeof(size_arg), "SIZE=%zu", body_len + 512);
	if (msgid_index >= 0 && nhdrs <= sizeof(hcopy) / sizeof(hcopy[0])) {
		memcpy(hcopy, hdrs, nhdrs * sizeof(*hdrs));
		snprintf(msgid, sizeof(msgid), " <bench.%ld.%u@library.example.edu>", idx, wid);
		hcopy[msgid_index].value = msgid;
		hcopy[msgid_index].vlen = strlen(msgid);
		h = hcopy;
	}
	for (f = 0; f < nsocks; f++) {
		fcs[f].failed = fcs[f].accepted = fcs[f].skip_body = false;
		fcs[f].sigs = 0;
		clear_mods(&fcs[f]);
	}

	for (f = 0; f < MF_NSTAGES; f++)
		stalls0 += s->st[f].stalls;
	t0 = now_ms();
	/* smtpd: MAIL, RCPT, DATA to each filter, event by event. */
	if (envelope_stage(fcs, nsocks, done, SMFIC_MAIL, mail_mac, SMFIP_NOMAIL, SMFIP_NR_MAIL,
	    from, size_arg, s, keep) != 0 ||
	    envelope_stage(fcs, nsocks, done, SMFIC_RCPT, rcpt_mac, SMFIP_NORCPT, SMFIP_NR_RCPT,
	    rcpt, NULL, s, keep) != 0 ||
	    envelope_stage(fcs, nsocks, done, SMFIC_DATA, data_mac, SMFIP_NODATA, SMFIP_NR_DATA,
	    NULL, NULL, s, keep) != 0)
		return -1;
	/* smtpd hands the milters to cleanup: milter_send() flushes each. */
	if (wmode == W_POSTFIX)
		for (f = 0; f < nsocks; f++)
			if (fcs[f].wlen > 0 && flush(&fcs[f]) != 0)
				return -1;
	/* cleanup: the whole content to each filter in turn. */
	for (f = 0; f < nsocks; f++) {
		if (done[f])
			continue;
		if ((e = send_content(&fcs[f], h, nhdrs, qid, s, keep)) == EV_ERR)
			return -1;
	}
	record_latency(s, now_ms() - t0);
	for (f = 0; f < MF_NSTAGES; f++)
		stalls1 += s->st[f].stalls;
	if (stalls1 > stalls0)
		s->stalled++;

	for (f = 0; f < nsocks; f++) {
		if (fcs[f].failed)
			failed = true;
		sigs += fcs[f].sigs;
		/* smtpd's mail_reset: ABORT, sent with the next command. */
		(void)packet(&fcs[f], SMFIC_ABORT, (void *)NULL);
		fcs[f].in_msg = false;
	}
	if (failed) {
		s->fail++;
	} else {
		s->ok++;
		if (expect_sigs >= 0 && sigs != expect_sigs) {
			s->sigs_bad++;
			note_err("message %ld: %d DKIM-Signature fields, expected %d", idx, sigs,
			    expect_sigs);
		}
	}
	if (keep)
		dump_message(idx, h, nhdrs, fcs);
	return 0;
}

struct worker {
	pthread_t tid;
	unsigned id;
	struct stats s;
	int rc;
};

/* take_msg: the next message index, or -1 when the run is over. */
static long
take_msg(void)
{
	long i;

	if (atomic_load(&stop_flag))
		return -1;
	if (duration > 0 && now_ms() >= t_deadline) {
		atomic_store(&stop_flag, 1);
		return -1;
	}
	i = atomic_fetch_add(&next_msg, 1);
	return i < total ? i : -1;
}

/* open_chain: a connection to every filter, negotiated, CONNECT and HELO sent. */
static int
open_chain(struct filter_conn *fcs, struct worker *w, struct session *ss)
{
	int f;

	for (f = 0; f < nsocks; f++)
		fcs[f].fd = -1;
	for (f = 0; f < nsocks; f++)
		if (fc_open(&fcs[f], &socks[f], &w->s) != 0)
			return -1;
	snprintf(ss->client_port, sizeof(ss->client_port), "%u", 40000 + w->id % 20000);
	return session_start(fcs, ss, &w->s);
}

/* close_chain: QUIT every filter connection. */
static void
close_chain(struct filter_conn *fcs, bool polite)
{
	int f;

	for (f = 0; f < nsocks; f++)
		fc_close(&fcs[f], polite);
}

/* worker_main: one MTA session (or more, with -m), messages until the run ends. */
static void *
worker_main(void *arg)
{
	struct worker *w = arg;
	struct filter_conn fcs[MF_MAX_FILTERS];
	struct session ss;
	long idx, on_conn = 0;
	bool open;

	memset(fcs, 0, sizeof(fcs));
	open = open_chain(fcs, w, &ss) == 0;
	if (!open) {
		close_chain(fcs, false);
		w->rc = -1;
	}
	/* Everyone connected: the clock starts together. */
	pthread_barrier_wait(&start_barrier);
	pthread_barrier_wait(&go_barrier);
	if (!open)
		return NULL;
	while ((idx = take_msg()) >= 0) {
		if (per_conn > 0 && on_conn == per_conn) {
			close_chain(fcs, true);
			if (open_chain(fcs, w, &ss) != 0) {
				close_chain(fcs, false);
				w->s.fail++;
				w->s.broken++;
				w->rc = -1;
				return NULL;
			}
			on_conn = 0;
		}
		on_conn++;
		if (one_message(fcs, idx, w->id, &w->s) != 0) {
			/* The connection broke: count it, and stop this worker. */
			w->s.fail++;
			w->s.broken++;
			close_chain(fcs, false);
			w->rc = -1;
			return NULL;
		}
	}
	close_chain(fcs, true);
	return NULL;
}

/* proc_cpu_ticks: user+sys ticks of a process (all its threads); -1 if gone. */
static long long
proc_cpu_ticks(pid_t pid)
{
	char path[64], buf[2048], *p;
	unsigned long long ut, st;
	FILE *fp;
	size_t n;

	snprintf(path, sizeof(path), "/proc/%ld/stat", (long)pid);
	if ((fp = fopen(path, "r")) == NULL)
		return -1;
	n = fread(buf, 1, sizeof(buf) - 1, fp);
	fclose(fp);
	buf[n] = '\0';
	/* Fields after the ")" of the command name: state is field 3. */
	if ((p = strrchr(buf, ')')) == NULL)
		return -1;
	if (sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &ut,
	    &st) != 2)
		return -1;
	return (long long)(ut + st);
}

/* cpu_now: the summed ticks of every -p process. */
static long long
cpu_now(void)
{
	long long sum = 0, t;
	int i;

	for (i = 0; i < npids; i++) {
		if ((t = proc_cpu_ticks(pids[i])) < 0)
			return -1;
		sum += t;
	}
	return sum;
}

/* cmp_double: for qsort. */
static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* pct: the p-th percentile of sorted v (nearest rank). */
static double
pct(const double *v, size_t n, double p)
{
	size_t k;

	if (n == 0)
		return 0;
	k = (size_t)(p / 100.0 * (double)n + 0.999999);
	if (k < 1)
		k = 1;
	if (k > n)
		k = n;
	return v[k - 1];
}

/* run_idle: -I: hold N negotiated, connected sessions open for idle_secs. */
static int
run_idle(void)
{
	struct filter_conn (*fcs)[MF_MAX_FILTERS];
	struct worker w;
	struct session ss;
	long i, opened = 0;
	double end;

	memset(&w, 0, sizeof(w));
	fcs = xmalloc((size_t)idle_n * sizeof(*fcs));
	memset(fcs, 0, (size_t)idle_n * sizeof(*fcs));
	for (i = 0; i < idle_n; i++) {
		w.id = (unsigned)i;
		if (open_chain(fcs[i], &w, &ss) != 0) {
			close_chain(fcs[i], false);
			break;
		}
		/* Flush CONNECT/HELO that await no reply, as Postfix would at MAIL. */
		for (int f = 0; f < nsocks; f++)
			(void)flush(&fcs[i][f]);
		opened++;
	}
	printf("mfload: %s%sidle connections open: %ld of %ld; holding %.1f s\n", label,
	    label[0] ? ": " : "", opened, idle_n, idle_secs);
	fflush(stdout);
	end = now_ms() + idle_secs * 1e3;
	while (now_ms() < end)
		usleep(50000);
	for (i = 0; i < opened; i++)
		close_chain(fcs[i], true);
	free(fcs);
	printf("RESULT label=%s idle=%ld wanted=%ld%s%s\n", label[0] ? label : "-", opened,
	    idle_n, first_err[0] ? " error=" : "", first_err[0] ? "yes" : "");
	if (first_err[0])
		fprintf(stderr, "mfload: first error: %s\n", first_err);
	return opened == idle_n ? 0 : 1;
}

/* print_negotiated: each filter's agreed protocol bits, by name. */
static void
print_negotiated(void)
{
	static const struct { uint32_t bit; const char *name; } names[] = {
		{ SMFIP_NOCONNECT, "NOCONNECT" }, { SMFIP_NOHELO, "NOHELO" },
		{ SMFIP_NOMAIL, "NOMAIL" }, { SMFIP_NORCPT, "NORCPT" },
		{ SMFIP_NOBODY, "NOBODY" }, { SMFIP_NOHDRS, "NOHDRS" },
		{ SMFIP_NOEOH, "NOEOH" }, { SMFIP_NR_HDR, "NR_HDR" },
		{ SMFIP_NOUNKNOWN, "NOUNKNOWN" }, { SMFIP_NODATA, "NODATA" },
		{ SMFIP_SKIP, "SKIP" }, { SMFIP_RCPT_REJ, "RCPT_REJ" },
		{ SMFIP_NR_CONN, "NR_CONN" }, { SMFIP_NR_HELO, "NR_HELO" },
		{ SMFIP_NR_MAIL, "NR_MAIL" }, { SMFIP_NR_RCPT, "NR_RCPT" },
		{ SMFIP_NR_DATA, "NR_DATA" }, { SMFIP_NR_UNKN, "NR_UNKN" },
		{ SMFIP_NR_EOH, "NR_EOH" }, { SMFIP_NR_BODY, "NR_BODY" },
		{ SMFIP_HDR_LEADSPC, "HDR_LEADSPC" },
	};
	int i;
	size_t j;

	for (i = 0; i < nsocks; i++) {
		if (!atomic_load(&neg_seen[i]))
			continue;
		printf("  %s agreed: actions 0x%" PRIx32 ", protocol 0x%" PRIx32 " =", socks[i].text,
		    neg_actions[i], neg_proto[i]);
		for (j = 0; j < sizeof(names) / sizeof(names[0]); j++)
			if (neg_proto[i] & names[j].bit)
				printf(" %s", names[j].name);
		putchar('\n');
	}
}

/* usage: the synopsis. */
static void
usage(void)
{
	fprintf(stderr,
	    "usage: mfload [options] SOCKET [SOCKET...]   |   mfload [-z SIZE|-f FILE] -o FILE\n"
	    "  SOCKET  inet:PORT@HOST, inet:HOST:PORT or unix:PATH; several = a chain of milters\n"
	    "  -c N    parallel connections (threads), default 1\n"
	    "  -n N    messages in all, default 100\n"
	    "  -D S    stop starting messages after S seconds (0: no limit)\n"
	    "  -m N    messages per connection, then reconnect (0: all, default)\n"
	    "  -z SIZE generated message of about SIZE bytes (2k, 100k, 50m), default 2k\n"
	    "  -f FILE send this .eml (normalised as Postfix would, unless -x)\n"
	    "  -x      send -f FILE exactly: header bytes and body bytes as they are\n"
	    "  -b N    body chunk size, at most 65535 (default)\n"
	    "  -a ADDR client address (default 192.0.2.10); -H NAME client name\n"
	    "  -u USER {auth_authen} macro (an authenticated client)\n"
	    "  -F ADDR envelope sender; -R ADDR envelope recipient\n"
	    "  -e N    each message must get N DKIM-Signature fields\n"
	    "  -d DIR  write the first K messages, changes applied, to DIR; -k K (default 5)\n"
	    "  -p PID  filter process whose user+sys CPU to report (repeatable)\n"
	    "  -w MODE postfix (default: flush before reads and at the smtpd->cleanup\n"
	    "          handoff), reply (flush before reads only), each (a write per packet)\n"
	    "  -N      TCP_NODELAY on the client's sockets (Postfix sets none)\n"
	    "  -I N    open N sessions, leave them idle -T S seconds (default 3), close\n"
	    "  -t S    reply timeout in seconds (default 30)\n"
	    "  -o FILE write the message to FILE (LF line ends, for smtp-source -F), exit\n"
	    "  -L TEXT label for the RESULT line; -v verbose\n");
	exit(2);
}

int
main(int argc, char **argv)
{
	struct worker *ws;
	struct stats all;
	long long cpu0 = -1, cpu1 = -1;
	double t0, t1, secs, cpu_s = -1, rate;
	long ticks = sysconf(_SC_CLK_TCK);
	int ch, i, j, rc = 0;

	dump_k = 5;
	while ((ch = getopt(argc, argv, "a:b:c:d:D:e:f:F:H:I:k:L:m:Nn:o:p:R:t:T:u:vw:xz:")) != -1) {
		switch (ch) {
		case 'a': client_addr = optarg; break;
		case 'b':
			chunk = parse_size(optarg);
			if (chunk < 1 || chunk > MF_CHUNK_MAX)
				die("-b: 1..65535");
			break;
		case 'c':
			concurrency = atoi(optarg);
			if (concurrency < 1 || concurrency > 1024)
				die("-c: 1..1024");
			break;
		case 'd': dump_dir = optarg; break;
		case 'D': duration = atof(optarg); break;
		case 'e': expect_sigs = atoi(optarg); break;
		case 'f': msg_file = optarg; break;
		case 'F': env_from = optarg; break;
		case 'H': client_name = optarg; break;
		case 'I':
			idle_n = atol(optarg);
			if (idle_n < 1 || idle_n > 10000)
				die("-I: 1..10000");
			break;
		case 'k': dump_k = atol(optarg); break;
		case 'L': label = optarg; break;
		case 'm': per_conn = atol(optarg); break;
		case 'N': client_nodelay = true; break;
		case 'n':
			total = atol(optarg);
			if (total < 1)
				die("-n: at least 1");
			break;
		case 'o': write_to = optarg; break;
		case 'p':
			if (npids == MF_MAX_PIDS)
				die("-p: at most %d", MF_MAX_PIDS);
			pids[npids++] = (pid_t)atol(optarg);
			break;
		case 'R': env_rcpt = optarg; break;
		case 't': io_timeout = atof(optarg); break;
		case 'T': idle_secs = atof(optarg); break;
		case 'u': auth_user = optarg; break;
		case 'v': verbose = true; break;
		case 'w':
			if (strcmp(optarg, "postfix") == 0)
				wmode = W_POSTFIX;
			else if (strcmp(optarg, "reply") == 0)
				wmode = W_REPLY;
			else if (strcmp(optarg, "each") == 0)
				wmode = W_EACH;
			else
				die("-w: postfix, reply or each");
			break;
		case 'x': exact = true; break;
		case 'z': gen_size = parse_size(optarg); break;
		default: usage();
		}
	}
	if (write_to != NULL) {
		if (msg_file != NULL)
			load_message(msg_file);
		else
			make_message();
		write_eml(write_to);
		return 0;
	}
	if (optind >= argc || argc - optind > MF_MAX_FILTERS)
		usage();
	if (io_timeout <= 0 || io_timeout > 3600 || idle_secs < 0 || idle_secs > 3600)
		die("-t/-T: 0..3600 seconds");
	for (i = optind; i < argc; i++)
		parse_socket(argv[i], &socks[nsocks++]);
	if (exact && msg_file == NULL)
		die("-x needs -f FILE");
	if (msg_file != NULL)
		load_message(msg_file);
	else
		make_message();
	if (dump_dir != NULL && mkdir(dump_dir, 0755) != 0 && errno != EEXIST)
		die("%s: %s", dump_dir, strerror(errno));
	signal(SIGPIPE, SIG_IGN);

	if (idle_n > 0)
		return run_idle();

	ws = xmalloc((size_t)concurrency * sizeof(*ws));
	memset(ws, 0, (size_t)concurrency * sizeof(*ws));
	if (pthread_barrier_init(&start_barrier, NULL, (unsigned)concurrency + 1) != 0 ||
	    pthread_barrier_init(&go_barrier, NULL, (unsigned)concurrency + 1) != 0)
		die("pthread_barrier_init failed");
	for (i = 0; i < concurrency; i++) {
		ws[i].id = (unsigned)i;
		if (pthread_create(&ws[i].tid, NULL, worker_main, &ws[i]) != 0)
			die("pthread_create failed");
	}
	pthread_barrier_wait(&start_barrier);
	t0 = now_ms();
	t_deadline = t0 + duration * 1e3;
	cpu0 = cpu_now();
	pthread_barrier_wait(&go_barrier);
	for (i = 0; i < concurrency; i++)
		pthread_join(ws[i].tid, NULL);
	t1 = now_ms();
	cpu1 = cpu_now();

	memset(&all, 0, sizeof(all));
	for (i = 0; i < concurrency; i++) {
		struct stats *s = &ws[i].s;

		all.ok += s->ok;
		all.fail += s->fail;
		all.tempfail += s->tempfail;
		all.reject += s->reject;
		all.broken += s->broken;
		all.sigs_bad += s->sigs_bad;
		all.mods += s->mods;
		all.stalled += s->stalled;
		for (j = 0; j < MF_NSTAGES; j++) {
			all.st[j].n += s->st[j].n;
			all.st[j].stalls += s->st[j].stalls;
			all.st[j].sum_ms += s->st[j].sum_ms;
			if (s->st[j].max_ms > all.st[j].max_ms)
				all.st[j].max_ms = s->st[j].max_ms;
		}
		for (size_t k = 0; k < s->nlat; k++)
			record_latency(&all, s->lat[k]);
		free(s->lat);
		if (ws[i].rc != 0)
			rc = 1;
	}
	qsort(all.lat, all.nlat, sizeof(*all.lat), cmp_double);
	secs = (t1 - t0) / 1e3;
	rate = secs > 0 ? (double)all.ok / secs : 0;
	if (npids > 0 && cpu0 >= 0 && cpu1 >= 0)
		cpu_s = (double)(cpu1 - cpu0) / (double)ticks;

	printf("mfload: %s%s%ld messages (%zu bytes each), %d connection%s, %d filter%s: "
	    "%" PRIu64 " ok, %" PRIu64 " failed, %.2f s, %.1f msg/s\n", label,
	    label[0] ? ": " : "", (long)all.nlat, body_len, concurrency,
	    concurrency == 1 ? "" : "s", nsocks, nsocks == 1 ? "" : "s", all.ok, all.fail,
	    secs, rate);
	printf("  latency MAIL..EOM: p50 %.2f ms, p99 %.2f ms, max %.2f ms\n",
	    pct(all.lat, all.nlat, 50), pct(all.lat, all.nlat, 99),
	    all.nlat ? all.lat[all.nlat - 1] : 0);
	printf("  reply waits by stage (n, mean ms, max ms, waits >= %.0f ms):\n", MF_STALL_MS);
	for (j = 0; j < MF_NSTAGES; j++)
		if (all.st[j].n > 0 && MF_STAGES[j] != 'O')
			printf("    %c  %8" PRIu64 "  %8.3f  %8.2f  %" PRIu64 "\n", MF_STAGES[j],
			    all.st[j].n, all.st[j].sum_ms / (double)all.st[j].n, all.st[j].max_ms,
			    all.st[j].stalls);
	if (cpu_s >= 0)
		printf("  filter CPU (user+sys, %d process%s): %.2f s, %.3f s per 1,000 messages\n",
		    npids, npids == 1 ? "" : "es", cpu_s,
		    all.ok ? cpu_s * 1000.0 / (double)all.ok : 0);
	if (expect_sigs >= 0)
		printf("  DKIM-Signature count: %" PRIu64 " of %" PRIu64 " messages had %d\n",
		    all.ok - all.sigs_bad, all.ok, expect_sigs);
	print_negotiated();
	printf("  messages with a wait >= %.0f ms: %" PRIu64 " of %zu\n", MF_STALL_MS,
	    all.stalled, all.nlat);
	if (first_err[0])
		printf("  first error: %s\n", first_err);

	{
		uint64_t stalls = 0;
		char where[128] = "";
		size_t off = 0;

		for (j = 0; j < MF_NSTAGES; j++) {
			stalls += all.st[j].stalls;
			if (all.st[j].stalls > 0 && off < sizeof(where) - 16)
				off += (size_t)snprintf(where + off, sizeof(where) - off, "%s%c:%" PRIu64,
				    off ? "," : "", MF_STAGES[j], all.st[j].stalls);
		}
		printf("RESULT label=%s msgs=%zu ok=%" PRIu64 " fail=%" PRIu64 " sigs_bad=%" PRIu64
		    " tempfail=%" PRIu64 " reject=%" PRIu64 " broken=%" PRIu64 " secs=%.3f rate=%.1f p50_ms=%.3f p99_ms=%.3f max_ms=%.3f cpu_s=%.3f"
		    " cpu_per_1k=%.4f stalls=%" PRIu64 " stalled_msgs=%" PRIu64 " stall_stages=%s"
		    " eom_mean_ms=%.3f"
		    " eoh_mean_ms=%.3f size=%zu conc=%d filters=%d\n",
		    label[0] ? label : "-", all.nlat, all.ok, all.fail, all.sigs_bad, all.tempfail,
		    all.reject, all.broken, secs, rate,
		    pct(all.lat, all.nlat, 50), pct(all.lat, all.nlat, 99),
		    all.nlat ? all.lat[all.nlat - 1] : 0, cpu_s,
		    cpu_s >= 0 && all.ok ? cpu_s * 1000.0 / (double)all.ok : -1.0, stalls,
		    all.stalled, where[0] ? where : "-",
		    all.st[stage_slot('E')].n ? all.st[stage_slot('E')].sum_ms /
		    (double)all.st[stage_slot('E')].n : 0,
		    all.st[stage_slot('N')].n ? all.st[stage_slot('N')].sum_ms /
		    (double)all.st[stage_slot('N')].n : 0,
		    body_len, concurrency, nsocks);
	}
	free(all.lat);
	free(ws);
	if (all.fail > 0 || all.sigs_bad > 0 || all.ok == 0)
		rc = 1;
	return rc;
}
