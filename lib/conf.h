/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * conf.h -- relaysign.conf(5): "Name value" lines, "#" comments.
 *
 * One table of options drives the parser, the -n check and the man page
 * cross-check (tests/unit/t_conf.c).  Unknown and duplicate names are
 * errors, and every error names "file:line".  A loaded configuration is
 * immutable; a reload builds a new one and swaps it whole.
 */
#ifndef RELAYSIGN_CONF_H
#define RELAYSIGN_CONF_H

#include <stdbool.h>
#include <stddef.h>

#include "align.h"
#include "bindings.h"
#include "cidr.h"
#include "keytable.h"
#include "returnpath.h"
#include "policy.h"
#include "sign.h"
#include "spf.h"

/* Longest line in a configuration, KeyTable or SigningTable file. */
#define CONF_LINE_MAX 4096
/* Largest configuration file. */
#define CONF_FILE_MAX (1024 * 1024)

enum conf_type {
	CONF_STRING,	/* one word */
	CONF_PATH,	/* one absolute path */
	CONF_LIST,	/* one or more words, spaces or commas between them */
	CONF_BOOL,	/* yes/no, true/false, 1/0 */
	CONF_UINT,	/* decimal, within [min, max] */
	CONF_ENUM,	/* one of a fixed set of words */
	CONF_MODE	/* an octal umask(2) value, 0 to 0777 */
};

struct conf_option {
	const char *name;	/* as written in the file, e.g. "RelayNetworks" */
	enum conf_type type;
	const char *def;	/* default as text, as the man page shows it; "" for none */
	unsigned long min, max;	/* CONF_UINT bounds */
	const char *const *words; /* CONF_ENUM and CONF_LIST word sets, or NULL */
};

struct conf {
	char *path;			/* file name, or "(built-in)" */
	char *socket;			/* Socket */
	char *metrics_socket;		/* MetricsSocket, NULL for none */
	char *authserv_id;		/* AuthservID */
	struct cidr_set *relay_networks;/* RelayNetworks; never NULL, empty when unset */
	bool relay_networks_wide;	/* RelayNetworksWide */
	char **relay_auth_users;	/* RelayAuthUsers, strv */
	char *bindings_path;		/* RelayBindings, NULL for none */
	char **domains;			/* Domain, strv, lowercase */
	char **selectors;		/* Selector, strv */
	char **key_files;		/* KeyFile, strv */
	char *keytable_path;		/* KeyTable */
	char *signingtable_path;	/* SigningTable */
	unsigned sign_algs;		/* SignatureAlgorithm, mask of enum key_alg */
	struct sign_params sign;	/* SignHeaders, OversignHeaders, Canonicalization, SignatureTTL */
	enum policy_on_bad_from on_bad_from; /* OnBadFrom */
	char *user_id;			/* UserID, NULL for none */
	char *pid_file;			/* PidFile, NULL for none */
	unsigned umask;			/* UMask: for the socket and PidFile */
	bool background;		/* Background */
	bool syslog;			/* Syslog */
	int syslog_facility;		/* SyslogFacility, a LOG_* facility */
	int log_level;			/* LogLevel, a LOG_* priority */
	char **relay_spf_names;		/* RelaySPFNames, strv, lowercase */
	bool require_spf;		/* RequireSPF */
	unsigned dns_timeout;		/* DNSTimeout, seconds per SPF check or DMARC look-up */
	unsigned spf_cache_ttl;		/* SPFCacheTTL, seconds; 0: no cache */
	size_t dns_cache_size;		/* DNSCacheSize, entries; 0: no DNS cache */
	unsigned dns_cache_max_ttl;	/* DNSCacheMaxTTL, seconds */
	enum align_mode alignment;	/* Alignment */
	char *psl_file;			/* PublicSuffixList, NULL: Debian's list */
	char **org_domains;		/* OrganizationalDomains, strv, lowercase */
	bool dmarc_lookup;		/* DMARCLookup */
	char **return_path_list;	/* ReturnPath, strv as written */
	char **outbound_addresses;	/* OutboundAddresses, strv: for -t's SPF check */
	unsigned *lines;		/* per conf_options() entry, the line that set
					   it; 0 when the default applies */
	char **warnings;		/* strv, "file:line: text": legal but risky
					   settings, for -n and the start-up log */
	bool keys_failed;		/* conf_finish failed loading a key */
	bool warn_oom;			/* a warning could not be kept */

	/* Filled by conf_finish: */
	struct keytable *keys;
	struct bindings *bindings;	/* RelayBindings, or NULL: any relay, any key */
	struct sign_lib *sign_lib;
	struct spf *spf;		/* SPF checks and DNS look-ups, thread-safe */
	struct align *align;		/* organizational domains (PSL + OrganizationalDomains) */
	struct returnpath *return_paths;/* ReturnPath, checked; NULL when unset */
};

/* conf_options: the option table (n_r gets its length). */
const struct conf_option *conf_options(size_t *n_r);

/*
 * conf_parse: parses text[0..len) named name (for messages) into a new
 * configuration with every default applied.  Touches no file: keys are
 * not loaded.  Returns 0, or -1 with "name:line: reason" in err.
 */
int conf_parse(const char *name, const char *text, size_t len, struct conf **conf_r,
    char *err, size_t errlen);

/*
 * conf_finish: checks what needs more than one option (RelayNetworks
 * wider than /8 or /32 without RelayNetworksWide; KeyFile with
 * Domain and Selector, or KeyTable with SigningTable, not both; the keys
 * match SignatureAlgorithm), loads the keys and makes the sign_lib.
 * Returns 0, or -1 with the reason in err: "file:line: reason" naming the
 * line of the option concerned (and the key file, for key errors), or
 * "file: reason" when no line is to blame.
 */
int conf_finish(struct conf *conf, char *err, size_t errlen);

/* conf_load: reads path, conf_parse, conf_finish. */
int conf_load(const char *path, struct conf **conf_r, char *err, size_t errlen);
/*
 * conf_load_ex: conf_load; on failure *keys_failed_r (may be NULL) says
 * whether the file was right and a key could not be loaded (the metrics'
 * key load failures).
 */
int conf_load_ex(const char *path, struct conf **conf_r, bool *keys_failed_r, char *err,
    size_t errlen);

/*
 * conf_builtin_text: the built-in configuration used when no -c is given:
 * loopback relays only, the demo domain library.example.edu with selector
 * "demo" and key file LOCALSTATEDIR/lib/relaysign/demo.key.
 */
const char *conf_builtin_text(void);
/* conf_load_builtin: conf_parse of conf_builtin_text, then conf_finish. */
int conf_load_builtin(struct conf **conf_r, char *err, size_t errlen);

/* conf_facility_name: "mail", "local0", ... for a SyslogFacility value. */
const char *conf_facility_name(int facility);
/* conf_free: conf_free(NULL) is a no-op. */
void conf_free(struct conf *conf);

#endif
