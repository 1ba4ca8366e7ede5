/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * log.c -- syslog or stderr, one line per call, printf-checked.
 */
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <syslog.h>
#include <time.h>

#include "log.h"

static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;
static bool log_stderr = true;
static bool log_syslog;
/* Read without the lock on every call, written on reload: atomic. */
static _Atomic int log_level = LOG_INFO;
static bool log_opened;

/* log_setup: choose where lines go. */
void
log_setup(bool to_stderr, bool use_syslog, int facility, int level)
{
	pthread_mutex_lock(&log_lock);
	log_stderr = to_stderr;
	log_syslog = !to_stderr && use_syslog;
	log_level = level;
	if (log_syslog) {
		if (log_opened)
			closelog();
		openlog("relaysign", LOG_PID | LOG_NDELAY, facility);
		log_opened = true;
	}
	pthread_mutex_unlock(&log_lock);
}

/* log_emit: one line at priority pri, with an optional errno suffix. */
static void
log_emit(int pri, int errnum, const char *fmt, va_list ap)
{
	char line[2048];
	int n;

	if (pri > log_level)
		return;
	n = vsnprintf(line, sizeof(line), fmt, ap);
	if (n < 0)
		return;
	if (errnum != 0 && (size_t)n < sizeof(line))
		(void)snprintf(line + n, sizeof(line) - (size_t)n, ": %s", strerror(errnum));

	pthread_mutex_lock(&log_lock);
	if (log_stderr) {
		struct timespec ts;
		struct tm tm;
		char when[32];

		clock_gettime(CLOCK_REALTIME, &ts);
		gmtime_r(&ts.tv_sec, &tm);
		strftime(when, sizeof(when), "%H:%M:%S", &tm);
		fprintf(stderr, "%s.%03ld relaysign: %s\n", when, ts.tv_nsec / 1000000, line);
		fflush(stderr);
	} else if (log_syslog) {
		syslog(pri, "%s", line);
	}
	pthread_mutex_unlock(&log_lock);
}

#define LOG_FN(name, pri, keep_errno)                                 \
	void name(const char *fmt, ...)                               \
	{                                                             \
		int saved = errno;                                    \
		va_list ap;                                           \
		va_start(ap, fmt);                                    \
		log_emit(pri, keep_errno ? saved : 0, fmt, ap);       \
		va_end(ap);                                           \
		errno = saved;                                        \
	}

LOG_FN(log_err, LOG_ERR, 0)
LOG_FN(log_warn, LOG_WARNING, 1)
LOG_FN(log_warning, LOG_WARNING, 0)
LOG_FN(log_notice, LOG_NOTICE, 0)
LOG_FN(log_info, LOG_INFO, 0)
LOG_FN(log_debug, LOG_DEBUG, 0)

/* log_clean: make a peer's text safe for a key=value log line. */
char *
log_clean(char *buf, size_t len, const char *s)
{
	size_t i;

	if (len == 0)
		return buf;
	for (i = 0; s != NULL && s[i] != '\0' && i + 1 < len; i++) {
		unsigned char c = (unsigned char)s[i];

		buf[i] = (c > 0x20 && c < 0x7f && c != '=' && c != '"') ? (char)c : '?';
	}
	buf[i] = '\0';
	return buf;
}
