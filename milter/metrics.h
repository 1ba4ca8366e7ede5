/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * metrics.h -- counters of what relaysign did, served read-only in the
 * Prometheus text exposition format over HTTP (libmicrohttpd) on
 * MetricsSocket.  The counters live for the process: a reload (SIGHUP)
 * keeps them.  Counting is lock-free (atomics) except the signatures by
 * domain, a small table under a mutex.
 */
#ifndef RELAYSIGN_METRICS_H
#define RELAYSIGN_METRICS_H

#include <stdbool.h>
#include <stddef.h>

#include "conf.h"
#include "pipeline.h"

/* metrics_init: the start time, the build labels; before any thread. */
void metrics_init(void);

/*
 * metrics_listen: opens MetricsSocket spec (inet:PORT@ADDR, inet6:PORT@ADDR,
 * unix:/PATH) for listening, before the fork, so a busy port is a clear
 * start-up error.  Returns 0, or -1 with the reason in err.
 */
int metrics_listen(const char *spec, char *err, size_t errlen);

/*
 * metrics_serve: starts the HTTP server on the socket metrics_listen
 * opened (one thread, at most METRICS_CONNECTIONS connections, each at
 * most METRICS_TIMEOUT seconds).  After the fork.  0, or -1 with err.
 */
int metrics_serve(char *err, size_t errlen);

/* metrics_stop: stops the server and closes (and for unix: removes) its socket. */
void metrics_stop(void);

/* metrics_message: counts one decided message. */
void metrics_message(const struct pipeline_report *r);

/* metrics_reload: one configuration reload, and whether it was the keys that failed. */
void metrics_reload(bool ok, bool keys_failed);

/* metrics_conf_freed: keeps what a configuration's SPF checker counted (confswap_on_free). */
void metrics_conf_freed(const struct conf *conf);

#endif
