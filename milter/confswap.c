/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * confswap.c -- reference-counted configuration swap.
 *
 * libmilter runs one thread per connection; one mutex guards the current
 * pointer and every count.  Holding it is brief: no I/O under the lock.
 */
#include <pthread.h>
#include <stdlib.h>

#include "confswap.h"

struct holder {
	struct conf *conf;
	unsigned refs;		/* messages using it, plus one while current */
	struct holder *next;	/* retired holders still in use */
};

static pthread_mutex_t state_lock = PTHREAD_MUTEX_INITIALIZER;
static struct holder *current;
static struct holder *retired;
static size_t inflight;		/* references taken by confswap_acquire, not yet released */
static void (*retire_hook)(const struct conf *);	/* confswap_on_free */

/* holder_new: wraps conf; NULL when out of memory. */
static struct holder *
holder_new(struct conf *conf)
{
	struct holder *h = calloc(1, sizeof(*h));

	if (h == NULL)
		return NULL;
	h->conf = conf;
	h->refs = 1;
	return h;
}

/* holder_drop: one reference less; frees at zero. Called with the lock held. */
static void
holder_drop(struct holder *h)
{
	struct holder **pp;

	if (--h->refs > 0)
		return;
	for (pp = &retired; *pp != NULL; pp = &(*pp)->next)
		if (*pp == h) {
			*pp = h->next;
			break;
		}
	if (retire_hook != NULL)
		retire_hook(h->conf);
	conf_free(h->conf);
	free(h);
}

/* confswap_on_free: fn sees each configuration just before it is freed. */
void
confswap_on_free(void (*fn)(const struct conf *))
{
	pthread_mutex_lock(&state_lock);
	retire_hook = fn;
	pthread_mutex_unlock(&state_lock);
}

/* confswap_init: installs the first configuration. */
int
confswap_init(struct conf *conf)
{
	struct holder *h = holder_new(conf);

	if (h == NULL)
		return -1;
	pthread_mutex_lock(&state_lock);
	current = h;
	pthread_mutex_unlock(&state_lock);
	return 0;
}

/* confswap_acquire: the configuration in force, referenced; NULL once shut down. */
const struct conf *
confswap_acquire(void)
{
	const struct conf *conf;

	pthread_mutex_lock(&state_lock);
	if (current == NULL) {
		/* Shutting down: the caller tempfails. */
		pthread_mutex_unlock(&state_lock);
		return NULL;
	}
	current->refs++;
	inflight++;
	conf = current->conf;
	pthread_mutex_unlock(&state_lock);
	return conf;
}

/* confswap_release: drops a reference taken by confswap_acquire. */
void
confswap_release(const struct conf *conf)
{
	struct holder *h;

	if (conf == NULL)
		return;
	pthread_mutex_lock(&state_lock);
	if (current != NULL && current->conf == conf)
		h = current;
	else
		for (h = retired; h != NULL && h->conf != conf; h = h->next)
			;
	if (h != NULL) {
		inflight--;
		holder_drop(h);
	}
	pthread_mutex_unlock(&state_lock);
}

/* confswap_inflight: references held by messages (and reloads) right now. */
size_t
confswap_inflight(void)
{
	size_t n;

	pthread_mutex_lock(&state_lock);
	n = inflight;
	pthread_mutex_unlock(&state_lock);
	return n;
}

/* confswap_replace: installs a new configuration, retiring the old one. */
int
confswap_replace(struct conf *conf)
{
	struct holder *h = holder_new(conf), *old;

	if (h == NULL)
		return -1;	/* the old configuration stays in force */
	pthread_mutex_lock(&state_lock);
	old = current;
	current = h;
	if (old != NULL) {
		old->next = retired;
		retired = old;
		holder_drop(old);
	}
	pthread_mutex_unlock(&state_lock);
	return 0;
}

/* confswap_shutdown: drops the configuration in force. */
void
confswap_shutdown(void)
{
	pthread_mutex_lock(&state_lock);
	if (current != NULL) {
		struct holder *old = current;

		current = NULL;
		old->next = retired;
		retired = old;
		holder_drop(old);
	}
	pthread_mutex_unlock(&state_lock);
}
