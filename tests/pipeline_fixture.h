/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * pipeline_fixture.h -- a configuration for driving lib/pipeline.c without
 * an MTA or a network: keys made by OpenSSL in a mkdtemp(3) directory,
 * and SPF and DMARC answered by a libspf2 in-memory zone, so nothing is
 * ever asked of the machine's resolver.  Shared by tests/unit/t_pipeline.c
 * and tests/fuzz/fuzz_pipeline.c.
 *
 * The zone: vendor.test and exlibrisgroup.com authorise 192.0.2.0/24 and
 * 2001:db8::/32; spf-na.vendor.test (a RelaySPFNames entry) authorises
 * 198.51.100.0/24; tempfail.test and spf-tf.vendor.test answer SERVFAIL;
 * library.example.edu publishes DMARC p=reject.  Every other name does
 * not exist.
 */
#ifndef RELAYSIGN_PIPELINE_FIXTURE_H
#define RELAYSIGN_PIPELINE_FIXTURE_H

#include <sys/types.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <arpa/nameser.h>
#include <netdb.h>
#include <resolv.h>
#include <spf2/spf.h>
#include <spf2/spf_dns_zone.h>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "conf.h"
#include "spf.h"
#include "keyfile.h"
#include "zone_rows.h"

/* The configurations a fixture holds. */
enum fixture_conf {
	FX_PLAIN = 0,		/* networks, login alma, RelaySPFNames spf-na.vendor.test */
	FX_STRICT,		/* RequireSPF, OnBadFrom reject, a vendor name that fails */
	FX_NCONF
};

struct fixture {
	char dir[64];
	char keys[2][128];
	SPF_dns_server_t *zone;
	struct conf *conf[FX_NCONF];
};

/*
 * fx_use_zone: c's DNS layer, and so its SPF checks and DMARC look-ups,
 * answered by the fixture's zone, never the machine's resolver (as
 * relaysign -x -z does).  0, or -1 with c freed and the reason in err.
 */
static int
fx_use_zone(struct fixture *fx, struct conf *c, char *err, size_t errlen)
{
	if (runtime_dns(c, fx->zone, err, errlen) != 0) {
		conf_free(c);
		return -1;
	}
	return 0;
}

/*
 * fx_conf_text_err: the configuration text given, with the fixture's zone;
 * NULL with the reason in err.
 */
static struct conf *
fx_conf_text_err(struct fixture *fx, const char *text, char *err, size_t errlen)
{
	struct conf *c = NULL;

	if (conf_parse("t.conf", text, strlen(text), &c, err, errlen) != 0 ||
	    runtime_build(c, err, errlen) != 0) {
		conf_free(c);
		return NULL;
	}
	return fx_use_zone(fx, c, err, errlen) == 0 ? c : NULL;
}

/* fx_conf_text: the configuration text given, with the fixture's zone; NULL on error. */
static struct conf *
fx_conf_text(struct fixture *fx, const char *text)
{
	char err[512];
	struct conf *c = fx_conf_text_err(fx, text, err, sizeof(err));

	if (c == NULL)
		fprintf(stderr, "fixture: %s\n", err);
	return c;
}

/* fx_conf: one configuration from text with the fixture's keys and zone; NULL on error. */
static struct conf *
fx_conf(struct fixture *fx, const char *extra, bool rsa)
{
	char text[2048];

	snprintf(text, sizeof(text),
	         "AuthservID mail.example.edu\n"
	         "RelayNetworks 192.0.2.0/24, 2001:db8::/32\n"
	         "RelayAuthUsers alma\n"
	         "Domain library.example.edu\n"
	         "Selector %s\n"
	         "KeyFile %s%s%s\n"
	         "SignatureAlgorithm %s\n"
	         "DMARCLookup yes\n"
	         "%s",
	         rsa ? "ed2026 rsa2026" : "ed2026", fx->keys[0], rsa ? " " : "",
	         rsa ? fx->keys[1] : "", rsa ? "ed25519-sha256 rsa-sha256" : "ed25519-sha256",
	         extra);
	return fx_conf_text(fx, text);
}

/* fx_zone: the zone described above. */
static SPF_dns_server_t *
fx_zone(void)
{
	static const struct zone_row rows[] = {
		{"vendor.test", ns_t_txt, NETDB_SUCCESS, "v=spf1 ip4:192.0.2.0/24 ip6:2001:db8::/32 -all"},
		{"exlibrisgroup.com", ns_t_txt, NETDB_SUCCESS,
		 "v=spf1 ip4:192.0.2.0/24 ip6:2001:db8::/32 -all"},
		{"spf-na.vendor.test", ns_t_txt, NETDB_SUCCESS, "v=spf1 ip4:198.51.100.0/24 -all"},
		{"tempfail.test", ns_t_txt, TRY_AGAIN, NULL},
		{"spf-tf.vendor.test", ns_t_txt, TRY_AGAIN, NULL},
		{"_dmarc.library.example.edu", ns_t_txt, NETDB_SUCCESS, "v=DMARC1; p=reject"},
	};
	SPF_dns_server_t *z = SPF_dns_zone_new(NULL, "fixture", 0);
	size_t n = sizeof(rows) / sizeof(rows[0]);

	if (z != NULL && zone_add_rows(z, rows, n) != n) {
		SPF_dns_free(z);
		return NULL;
	}
	return z;
}

/* fixture_setup: keys, zone and configurations; 0 or -1 (said on stderr). */
static int
fixture_setup(struct fixture *fx, bool rsa)
{
	memset(fx, 0, sizeof(*fx));
	snprintf(fx->dir, sizeof(fx->dir), "/tmp/relaysign-pipeline.XXXXXX");
	if (mkdtemp(fx->dir) == NULL)
		return -1;
	snprintf(fx->keys[0], sizeof(fx->keys[0]), "%s/ed.key", fx->dir);
	snprintf(fx->keys[1], sizeof(fx->keys[1]), "%s/rsa.key", fx->dir);
	if (keyfile_write(fx->keys[0], "ED25519", 0600) != 0 ||
	    (rsa && keyfile_write(fx->keys[1], "RSA", 0600) != 0)) {
		fprintf(stderr, "fixture: cannot make keys in %s\n", fx->dir);
		return -1;
	}
	if ((fx->zone = fx_zone()) == NULL)
		return -1;
	fx->conf[FX_PLAIN] = fx_conf(fx, "RelaySPFNames spf-na.vendor.test\n", rsa);
	fx->conf[FX_STRICT] = fx_conf(fx, "RelaySPFNames spf-tf.vendor.test\nRequireSPF yes\n"
	                                  "OnBadFrom reject\n"
	                                  "ReturnPath bounces@library.example.edu\n", rsa);
	return fx->conf[FX_PLAIN] != NULL && fx->conf[FX_STRICT] != NULL ? 0 : -1;
}

/* fixture_start: fixture_setup, or a TAP "Bail out!" and exit 1. */
static void
fixture_start(struct fixture *fx, bool rsa)
{
	if (fixture_setup(fx, rsa) != 0) {
		printf("Bail out! cannot set up the fixture\n");
		exit(1);
	}
}

/* fixture_teardown: frees everything and removes the key files. */
static void
fixture_teardown(struct fixture *fx)
{
	int i;

	for (i = 0; i < FX_NCONF; i++)
		conf_free(fx->conf[i]);
	if (fx->zone != NULL)
		SPF_dns_free(fx->zone);
	unlink(fx->keys[0]);
	unlink(fx->keys[1]);
	rmdir(fx->dir);
}

/* fx_sockaddr: a sockaddr for a textual address into *ss; NULL if it is none. */
static const struct sockaddr *
fx_sockaddr(const char *text, struct sockaddr_storage *ss)
{
	memset(ss, 0, sizeof(*ss));
	if (text == NULL)
		return NULL;
	if (inet_pton(AF_INET, text, &((struct sockaddr_in *)ss)->sin_addr) == 1) {
		ss->ss_family = AF_INET;
		return (const struct sockaddr *)ss;
	}
	if (inet_pton(AF_INET6, text, &((struct sockaddr_in6 *)ss)->sin6_addr) == 1) {
		ss->ss_family = AF_INET6;
		return (const struct sockaddr *)ss;
	}
	return NULL;
}

#endif
