/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * log.h -- the daemon's only way to speak: syslog, or stderr in the
 * foreground.  lib/ never logs; it hands reasons back to us.
 */
#ifndef RELAYSIGN_LOG_H
#define RELAYSIGN_LOG_H

#include <stdbool.h>

#define LOG_PRINTF(f, a) __attribute__((format(printf, f, a)))

/*
 * log_setup: where lines go.  to_stderr wins over use_syslog; level is a
 * LOG_* priority (lines below it are dropped); facility a LOG_* facility.
 * Safe to call again on reload.
 */
void log_setup(bool to_stderr, bool use_syslog, int facility, int level);

/* log_err: an error the postmaster must act on. */
void log_err(const char *fmt, ...) LOG_PRINTF(1, 2);
/* log_warn: like log_err at LOG_WARNING, with ": strerror(errno)" appended. */
void log_warn(const char *fmt, ...) LOG_PRINTF(1, 2);
/* log_warning: a risk the postmaster should know of, at LOG_WARNING, no errno. */
void log_warning(const char *fmt, ...) LOG_PRINTF(1, 2);
/* log_notice: start, stop, reload. */
void log_notice(const char *fmt, ...) LOG_PRINTF(1, 2);
/* log_info: the one line per trusted message. */
void log_info(const char *fmt, ...) LOG_PRINTF(1, 2);
/* log_debug: what a postmaster needs only when hunting a problem. */
void log_debug(const char *fmt, ...) LOG_PRINTF(1, 2);

/*
 * log_clean: copies s into buf (size len) with every byte outside
 * printable ASCII, and every space, '=' or '"', replaced by '?', so that a
 * peer's text cannot forge key=value pairs or lines.  Returns buf.
 */
char *log_clean(char *buf, size_t len, const char *s);

#endif
