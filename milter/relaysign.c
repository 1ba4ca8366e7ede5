/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * relaysign.c -- the daemon: options, configuration, socket, privileges,
 * signals, and libmilter's main loop.
 *
 * Signals: libmilter's own signal thread treats SIGHUP as "stop".  We want
 * SIGHUP to reload, so smfi_main runs in its own thread with SIGHUP, SIGTERM
 * and SIGINT blocked, and the main thread keeps them unblocked with
 * handlers that only write a byte to a pipe.  Linux delivers a
 * process-directed signal to the main thread whenever that thread does not
 * block it, so libmilter's thread never sees them; the main thread reads
 * the pipe and reloads or stops.
 */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <syslog.h>
#include <unistd.h>

#include <libmilter/mfapi.h>
#include <opendkim/dkim.h>
#include <openssl/crypto.h>
#include <libpsl.h>
#include <idn2.h>
#include <arpa/nameser.h>
#include <resolv.h>
#include <spf2/spf.h>

#include "callbacks.h"
#include "conf.h"
#include "dnsname.h"
#include "key.h"
#include "keytable.h"
#include "log.h"
#include "seal.h"
#include "sign.h"
#include "confswap.h"
#include "process.h"
#include "sockets.h"
#include "table.h"
#include "keycheck.h"
#include "keytest.h"
#include "explain.h"
#include "metrics.h"
#include "spf.h"
#include "zone.h"
#include "util.h"

static int sigpipe_fds[2] = { -1, -1 };
static const char *conf_path;		/* NULL: the built-in configuration */
static bool foreground;			/* -f: stay attached, log to stderr */

/*
 * log_to_stderr: -f, or Syslog no (relaysign.conf(5): then standard error,
 * which Background yes closes).
 */
static bool
log_to_stderr(const struct conf *conf)
{
	return foreground || !conf->syslog;
}

/*
 * announce_logs: before detaching, say where the log lines will go, and
 * warn when they would be lost: syslog(3) drops lines silently when no
 * syslog daemon listens on /dev/log, and Background yes closes the
 * standard error that Syslog no writes to.
 */
static void
announce_logs(const struct conf *conf)
{
	struct stat st;

	if (log_to_stderr(conf)) {
		if (!foreground && conf->background)
			fprintf(stderr, "relaysign: warning: %s: Syslog no with Background yes: "
			    "log lines go to standard error, which relaysign closes when it "
			    "detaches; they are lost (use Syslog yes, or -f)\n", conf->path);
		return;
	}
	if (stat("/dev/log", &st) == -1 || !S_ISSOCK(st.st_mode))
		fprintf(stderr, "relaysign: warning: /dev/log is missing: no syslog daemon "
		    "listens, so every log line (one per message) is lost; start "
		    "systemd-journald or rsyslog, or run relaysign -f\n");
	if (!foreground && conf->background)
		fprintf(stderr, "relaysign: logging to syslog, facility %s, as \"relaysign\" "
		    "(journalctl -t relaysign; with rsyslog also /var/log/mail.log)\n",
		    conf_facility_name(conf->syslog_facility));
}

/*
 * usage: the synopsis of relaysign(8); on standard output with status 0
 * when asked for (-h), else on standard error with status 1.
 */
static void
usage(int status)
{
	fprintf(status == 0 ? stdout : stderr,
	    "usage: relaysign [-fhnvV] [-c config]\n"
	    "       relaysign -t [-c config] [domain:selector:keyfile ...]\n"
	    "       relaysign -x message [-c config] [-a address] [-H helo] [-m sender]\n"
	    "                 [-u login] [-o file] [-j] [-z zonefile]\n"
	    "  -c config  read this configuration (default: the built-in one)\n"
	    "  -f         stay in the foreground and log to standard error\n"
	    "  -h         print this help and exit\n"
	    "  -n         check the configuration and the keys, and exit\n"
	    "  -t         check each key's DNS record, and exit; keys given as\n"
	    "             domain:selector:keyfile too (a rotation's next key)\n"
	    "  -v         with -n, print what will be signed for whom\n"
	    "  -V         print the versions of relaysign and its libraries\n"
	    "  -x message explain what relaysign does with this message, and why\n"
	    "  -a address with -x: the client's address (default 127.0.0.1)\n"
	    "  -H helo    with -x: its HELO name (default: the address literal)\n"
	    "  -m sender  with -x: MAIL FROM (default: Return-Path, else From)\n"
	    "  -u login   with -x: its SMTP AUTH login (default: none)\n"
	    "  -o file    with -x: write the message as passed on (signed)\n"
	    "  -j         with -x: JSON\n"
	    "  -z zone    with -x: answer DNS from this zone file, not the resolver\n");
	exit(status);
}

/* print_versions: -V, our version and the libraries we run with. */
static void
print_versions(void)
{
	unsigned int mmaj, mmin, mpl;
	uint32_t dv = dkim_libversion();
	int smaj, smin, spl;

	(void)smfi_version(&mmaj, &mmin, &mpl);
	printf("relaysign %s\n", PACKAGE_VERSION);
	/* smfi_version is libmilter's API version, not its package's. */
	printf("  libmilter API %u.%u.%u\n", mmaj, mmin, mpl);
	printf("  libopendkim %u.%u.%u\n", dv >> 24, (dv >> 16) & 0xff, (dv >> 8) & 0xff);
	SPF_get_lib_version(&smaj, &smin, &spl);
	printf("  libspf2 %d.%d.%d\n", smaj, smin, spl);
	printf("  %s\n", OpenSSL_version(OPENSSL_VERSION));
	printf("  libpsl %s\n", psl_get_version());
	printf("  libidn2 %s\n", idn2_check_version(NULL));
}

/* spf_log: libspf2's warnings and notes, which it prints to stderr by default. */
static void
spf_log(const char *file, int line, const char *msg)
{
	(void)file;
	(void)line;
	log_debug("libspf2: %s", msg);
}

/* load_conf: the configuration from conf_path, or the built-in one. */
static struct conf *load_conf_ex(bool *keys_failed_r, char *err, size_t errlen);

static struct conf *
load_conf(char *err, size_t errlen)
{
	return load_conf_ex(NULL, err, errlen);
}

/* load_conf_ex: load_conf, saying whether a key failed (for the metrics). */
static struct conf *
load_conf_ex(bool *keys_failed_r, char *err, size_t errlen)
{
	struct conf *conf = NULL;
	int rc;

	if (keys_failed_r != NULL)
		*keys_failed_r = false;
	rc = conf_path != NULL ? conf_load_ex(conf_path, &conf, keys_failed_r, err, errlen) :
	    conf_load_builtin(&conf, err, errlen);
	return rc == 0 ? conf : NULL;
}

/* on_signal: async-signal-safe: hand the signal number to the main loop. */
static void
on_signal(int sig)
{
	unsigned char b = (unsigned char)sig;
	int saved = errno;
	/*
	 * A full pipe already holds a wake-up for the main loop: nothing is
	 * lost when this byte is not written.  (Kept in n: glibc's
	 * warn_unused_result under _FORTIFY_SOURCE ignores a (void) cast.)
	 */
	ssize_t n = write(sigpipe_fds[1], &b, 1);

	(void)n;
	errno = saved;
}

/* milter_thread: runs libmilter's loop; tells the main loop when it ends. */
static void *
milter_thread(void *arg)
{
	int *rc = arg;
	unsigned char b = 0;

	ssize_t n;

	*rc = smfi_main();
	n = write(sigpipe_fds[1], &b, 1);	/* a full pipe wakes the loop too */
	(void)n;
	return NULL;
}

/* Marks our Authentication-Results (lib/seal.h); lives as long as the process serves. */
static struct seal *seal;

/*
 * start_failed: relaysign will not run after all: drop the configuration
 * and the PidFile it locked (ours: no other relaysign could hold it).
 */
static int
start_failed(struct conf *conf, int pid_fd)
{
	seal_free(seal);
	seal = NULL;
	if (pid_fd != -1) {
		(void)unlink(conf->pid_file);
		(void)close(pid_fd);
	}
	conf_free(conf);
	return 1;
}

/*
 * The longest relaysign waits at SIGTERM for messages in flight: below
 * systemd's default TimeoutStopSec (90 s) and contrib's unit's 30 s.
 */
#define DRAIN_MAX_MS 25000

/*
 * drain: SIGTERM/SIGINT: new messages are tempfailed from now on (their MAIL
 * FROM finds no configuration) while those in flight finish, for at most
 * DRAIN_MAX_MS.  Only then is libmilter stopped: smfi_stop() abandons the
 * sessions it is serving, which the MTA would see as a dead filter.
 */
static void
drain(int sig)
{
	size_t n;
	int waited = 0;

	confswap_shutdown();
	n = confswap_inflight();
	log_notice("stopping on signal %d: finishing %zu message%s in flight", sig, n,
	    n == 1 ? "" : "s");
	while ((n = confswap_inflight()) > 0 && waited < DRAIN_MAX_MS) {
		usleep(100 * 1000);
		waited += 100;
	}
	if (n > 0)
		log_err("stopping with %zu message%s still in flight after %d s; the MTA "
		    "will retry them", n, n == 1 ? "" : "s", DRAIN_MAX_MS / 1000);
}

/* reload: SIGHUP: a new configuration, or the old one kept with the reason. */
static void
reload(const struct conf *old)
{
	char err[1024];
	bool keys_failed;
	struct conf *conf = load_conf_ex(&keys_failed, err, sizeof(err));

	if (conf == NULL) {
		log_err("reload failed, keeping the configuration in force: %s", err);
		metrics_reload(false, keys_failed);
		return;
	}
	if ((conf->metrics_socket == NULL) != (old->metrics_socket == NULL) ||
	    (conf->metrics_socket != NULL && strcmp(conf->metrics_socket, old->metrics_socket) != 0))
		log_notice("reload: MetricsSocket changed; it takes effect at restart");
	if (strcmp(conf->socket, old->socket) != 0)
		log_notice("reload: Socket changed; it takes effect at restart");
	if ((conf->user_id == NULL) != (old->user_id == NULL) ||
	    (conf->user_id != NULL && strcmp(conf->user_id, old->user_id) != 0))
		log_notice("reload: UserID changed; it takes effect at restart");
	if (confswap_replace(conf) != 0) {
		log_err("reload failed, keeping the configuration in force: out of memory");
		conf_free(conf);
		metrics_reload(false, false);
		return;
	}
	metrics_reload(true, false);
	/* conf is in force now; only this thread replaces it, so it stays valid here. */
	log_setup(log_to_stderr(conf), conf->syslog, conf->syslog_facility, conf->log_level);
	log_notice("reloaded %s: %zu keys", conf->path, keytable_nkeys(conf->rt.keys));
	for (char **w = conf->warnings; w != NULL && *w != NULL; w++)
		log_warning("%s", *w);
}

/*
 * run_explain: relaysign -x.  With -z, DNS answers come from the zone file
 * (lib/zone.c) through the same DNS layer and SPF checker types the
 * daemon uses.
 */
static int
run_explain(struct conf *conf, const struct explain_args *a)
{
	struct SPF_dns_server_struct *zone = NULL;
	char err[1024];
	int rc;

	if (a->zone_path != NULL) {
		if ((zone = zone_load(a->zone_path, err, sizeof(err))) == NULL) {
			fprintf(stderr, "relaysign: -z %s\n", err);
			conf_free(conf);
			return EXPLAIN_EXIT_ERROR;
		}
		/* The DNS layer, and the SPF checker on it, answer from the zone. */
		if (runtime_dns(conf, zone, err, sizeof(err)) != 0) {
			fprintf(stderr, "relaysign: -z %s: %s\n", a->zone_path, err);
			conf_free(conf);
			SPF_dns_free(zone);
			return EXPLAIN_EXIT_ERROR;
		}
	}
	rc = explain_run(conf, a, stdout);
	if (fflush(stdout) != 0)
		rc = EXPLAIN_EXIT_ERROR;
	conf_free(conf);
	if (zone != NULL)
		SPF_dns_free(zone);
	return rc;
}

/*
 * load_next_keys: relaysign -t's operands, DOMAIN:SELECTOR:KEYFILE as a
 * KeyTable line's value (a key not configured yet, e.g. a rotation's next
 * selector), loaded as the daemon loads keys.  NULL after saying why.
 */
static struct key **
load_next_keys(char **args, int n)
{
	struct key **keys = calloc((size_t)n + 1, sizeof(*keys));
	char err[1024];
	int i;

	if (keys == NULL) {
		fprintf(stderr, "relaysign: out of memory\n");
		return NULL;
	}
	for (i = 0; i < n; i++) {
		char *domain = strdup(args[i]), *selector, *file;
		const char *why, *what;

		if (domain == NULL || (selector = strchr(domain, ':')) == NULL ||
		    (file = strchr(selector + 1, ':')) == NULL) {
			fprintf(stderr, "relaysign: -t %s: give a key as domain:selector:keyfile, "
			    "e.g. library.example.edu:alma2027:/etc/relaysign/keys/alma2027.key\n",
			    args[i]);
			free(domain);
			goto fail;
		}
		*selector++ = '\0';
		*file++ = '\0';
		/* The rules of KeyTable and relaysign-keygen (lib/dnsname.c). */
		what = NULL;
		if (!dnsname_ok(domain, 2, &why))
			what = "domain";
		else if (!dnsname_ok(selector, 1, &why))
			what = "selector";
		if (what != NULL) {
			fprintf(stderr, "relaysign: -t %s: the %s %s\n", args[i], what, why);
			free(domain);
			goto fail;
		}
		for (char *c = domain; *c != '\0'; c++)
			*c = (char)tolower((unsigned char)*c);
		if (key_load(file, domain, selector, &keys[i], err, sizeof(err)) != 0) {
			fprintf(stderr, "relaysign: -t %s: %s\n", args[i], err);
			free(domain);
			goto fail;
		}
		free(domain);
	}
	return keys;
fail:
	while (i-- > 0)
		key_free(keys[i]);
	free(keys);
	return NULL;
}

int
main(int argc, char **argv)
{
	bool check = false, test_keys = false;
	struct conf *conf;
	char err[1024];
	struct sigaction sa;
	sigset_t block;
	pthread_t tid;
	int ch, milter_rc = -1, status = 0;
	bool stopping = false, verbose = false, explain_opts = false;
	struct explain_args explain = { 0 };
	char *pid_file = NULL, *conf_socket = NULL;
	int pid_fd = -1;

	/*
	 * OpenSSL without its atexit cleanup, asked for before anything else
	 * starts OpenSSL (only the first call decides).  libmilter's worker
	 * threads are detached: relaysign cannot join them before exit().  That
	 * cleanup deletes OpenSSL's thread-local key and frees its providers, so
	 * a worker that ends after it (a burst's extra workers retire while a
	 * stop is under way) loses its per-thread random generator, and one
	 * still in OpenSSL would use freed memory.  The process is ending; the
	 * kernel takes the rest back.
	 */
	if (OPENSSL_init_crypto(OPENSSL_INIT_NO_ATEXIT, NULL) != 1) {
		fprintf(stderr, "relaysign: cannot initialise OpenSSL\n");
		return 1;
	}
	metrics_init();
	SPF_warning_handler = spf_log;
	SPF_info_handler = spf_log;
	SPF_debug_handler = spf_log;

	while ((ch = getopt(argc, argv, "c:fntvVhx:a:H:m:u:o:jz:")) != -1) {
		switch (ch) {
		case 'x':
			explain.message = optarg;
			break;
		case 'a':
			explain.client = optarg;
			explain_opts = true;
			break;
		case 'H':
			explain.helo = optarg;
			explain_opts = true;
			break;
		case 'm':
			/* "<a@b>" or "a@b"; "<>" or "" is the null sender. */
			explain.mailfrom = optarg;
			explain_opts = true;
			break;
		case 'u':
			explain.login = optarg;
			explain_opts = true;
			break;
		case 'o':
			explain.out_path = optarg;
			explain_opts = true;
			break;
		case 'j':
			explain.json = true;
			explain_opts = true;
			break;
		case 'z':
			explain.zone_path = optarg;
			explain_opts = true;
			break;
		case 'c':
			conf_path = optarg;
			break;
		case 'f':
			foreground = true;
			break;
		case 'n':
			check = true;
			break;
		case 't':
			test_keys = true;
			break;
		case 'v':
			verbose = true;
			break;
		case 'V':
			print_versions();
			return 0;
		case 'h':
			usage(0);
			break;
		default:
			usage(1);
		}
	}
	if (optind != argc && !test_keys)
		usage(1);
	if (explain_opts && explain.message == NULL) {
		fprintf(stderr, "relaysign: -a, -H, -m, -u, -o, -j and -z go with -x\n");
		usage(1);
	}
	if (explain.message != NULL && (check || test_keys || foreground)) {
		fprintf(stderr, "relaysign: -x goes with none of -n, -t, -f\n");
		usage(1);
	}
	if (verbose && !check) {
		fprintf(stderr, "relaysign: -v goes with -n\n");
		usage(1);
	}

	if ((conf = load_conf(err, sizeof(err))) == NULL) {
		fprintf(stderr, "relaysign: %s\n", err);
		return 1;
	}
	if (test_keys) {
		struct key **next;
		int rc, rp, nnext = argc - optind;

		if ((next = load_next_keys(argv + optind, nnext)) == NULL) {
			conf_free(conf);
			return 1;
		}
		rc = keytest_run(conf->rt.keys, next, (size_t)nnext, keycheck_res_lookup, NULL,
		    stdout);
		rp = keytest_return_paths(conf, stdout);
		for (int i = 0; i < nnext; i++)
			key_free(next[i]);
		free(next);
		conf_free(conf);
		/* Not matching outweighs not checked. */
		return rc == 1 || rp == 1 ? 1 : rc == 2 || rp == 2 ? 2 : 0;
	}
	for (char **w = conf->warnings; w != NULL && *w != NULL; w++)
		fprintf(stderr, "relaysign: warning: %s\n", *w);
	if (explain.message != NULL)
		return run_explain(conf, &explain);
	if (check) {
		size_t nk = keytable_nkeys(conf->rt.keys);

		printf("relaysign: %s: ok (%zu key%s)\n", conf->path, nk, nk == 1 ? "" : "s");
		if (verbose)
			table_print(stdout, conf);
		conf_free(conf);
		return 0;
	}

	/* UMask: the modes of the unix socket and the PidFile created below. */
	(void)umask((mode_t)conf->umask);
	/* Before the socket: a running relaysign keeps its socket and PID file. */
	if (conf->pid_file != NULL && (pid_fd = process_pidfile_lock(conf->pid_file)) == -1)
		return start_failed(conf, pid_fd);
	if (sockets_in_use(conf->socket)) {
		fprintf(stderr, "relaysign: %s: Socket %s: another process (a relaysign?) listens "
		    "on it; not started\n", conf->path, conf->socket);
		return start_failed(conf, pid_fd);
	}
	if ((seal = seal_new()) == NULL) {
		fprintf(stderr, "relaysign: cannot make the secret for the "
		    "Authentication-Results seal (no entropy?)\n");
		return start_failed(conf, pid_fd);
	}
	if (smfi_register(*callbacks_desc(seal)) != MI_SUCCESS ||
	    smfi_setconn(conf->socket) != MI_SUCCESS) {
		fprintf(stderr, "relaysign: cannot register with libmilter\n");
		return start_failed(conf, pid_fd);
	}
	/* Open the socket ourselves so a busy port is reported, not lost in syslog. */
	if (smfi_opensocket(1) != MI_SUCCESS) {
		fprintf(stderr, "relaysign: %s: cannot listen on Socket %s (in use, or no "
		    "permission?)\n", conf->path, conf->socket);
		return start_failed(conf, pid_fd);
	}
	sockets_nodelay();
	if (sockets_owner(conf) != 0)
		return start_failed(conf, pid_fd);
	/* Before the fork and the drop of privileges, like the milter's socket. */
	if (conf->metrics_socket != NULL && metrics_listen(conf->metrics_socket, err,
	    sizeof(err)) != 0) {
		fprintf(stderr, "relaysign: %s: %s\n", conf->path, err);
		return start_failed(conf, pid_fd);
	}

	if (conf->user_id != NULL && process_drop_privileges(conf->user_id) != 0)
		return start_failed(conf, pid_fd);

	announce_logs(conf);
	if (!foreground && conf->background && daemon(0, 0) != 0) {
		fprintf(stderr, "relaysign: daemon: %s\n", strerror(errno));
		return start_failed(conf, pid_fd);
	}
	log_setup(log_to_stderr(conf), conf->syslog, conf->syslog_facility, conf->log_level);
	if (pid_fd != -1)
		(void)process_pidfile_write(pid_fd, conf->pid_file);

	if (pipe(sigpipe_fds) != 0) {
		log_warn("pipe");
		return start_failed(conf, pid_fd);
	}
	(void)fcntl(sigpipe_fds[1], F_SETFL, O_NONBLOCK);
	signal(SIGPIPE, SIG_IGN);

	/* Threads made while these are blocked inherit the block (see top). */
	sigemptyset(&block);
	sigaddset(&block, SIGHUP);
	sigaddset(&block, SIGTERM);
	sigaddset(&block, SIGINT);
	pthread_sigmask(SIG_BLOCK, &block, NULL);

	/* After the fork (threads do not survive it), with the signals blocked. */
	if (metrics_serve(err, sizeof(err)) != 0) {
		log_err("%s", err);
		return start_failed(conf, pid_fd);
	}
	log_notice("starting: %s, Socket %s, %zu keys%s%s", conf->path, conf->socket,
	    keytable_nkeys(conf->rt.keys), conf->metrics_socket != NULL ? ", metrics on " : "",
	    conf->metrics_socket != NULL ? conf->metrics_socket : "");
	/* How libopendkim gets its keys: for whoever debugs, not every start's log. */
	log_debug("%s", sign_lib_keyuse(conf->rt.sign_lib));
	for (char **w = conf->warnings; w != NULL && *w != NULL; w++)
		log_warning("%s", *w);
	/* A reload may free conf: keep what the stop needs. */
	if ((conf_socket = strdup(conf->socket)) == NULL) {
		log_err("out of memory");
		return 1;
	}
	/* A reload may free conf: keep the PidFile we wrote, to remove it at exit. */
	if (conf->pid_file != NULL && (pid_file = strdup(conf->pid_file)) == NULL) {
		log_err("out of memory");
		return start_failed(conf, pid_fd);
	}
	confswap_on_free(metrics_conf_freed);
	if (confswap_init(conf) != 0) {
		log_err("out of memory");
		return 1;
	}
	if (pthread_create(&tid, NULL, milter_thread, &milter_rc) != 0) {
		log_err("cannot start the milter thread");
		return 1;
	}

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGHUP, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	pthread_sigmask(SIG_UNBLOCK, &block, NULL);

	for (;;) {
		unsigned char b;
		ssize_t n = read(sigpipe_fds[0], &b, 1);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0 || b == 0) {
			/* smfi_main returned. */
			if (!stopping) {
				log_err("the milter loop stopped by itself (rc %d)", milter_rc);
				status = 1;
			}
			break;
		}
		if (b == SIGHUP) {
			const struct conf *cur = stopping ? NULL : confswap_acquire();

			/* Stopping: no new configuration may come back in. */
			if (cur != NULL) {
				reload(cur);
				confswap_release(cur);
			}
		} else if (!stopping) {
			stopping = true;
			drain(b);
			sockets_stop_milter(conf_socket);
		}
	}
	pthread_join(tid, NULL);
	/* Ours: it is locked by us (pidfile_lock), no other relaysign wrote it. */
	if (pid_file != NULL)
		(void)unlink(pid_file);
	free(pid_file);
	free(conf_socket);
	metrics_stop();
	confswap_shutdown();
	seal_free(seal);
	log_notice("stopped");
	return status;
}
