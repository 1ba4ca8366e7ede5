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
#include "runtime.h"

/* Longest line in a configuration, KeyTable or SigningTable file. */
#define CONF_LINE_MAX 4096
/* Largest configuration file. */
#define CONF_FILE_MAX (1024 * 1024)
/* Room for an error detail before "file:line: " is added. */
#define CONF_MSG_MAX 512

enum conf_type {
	CONF_STRING,	/* one word */
	CONF_PATH,	/* one absolute path */
	CONF_LIST,	/* one or more words, spaces or commas between them */
	CONF_BOOL,	/* yes/no, true/false, 1/0 */
	CONF_UINT,	/* decimal, within [min, max] */
	CONF_ENUM,	/* one of a fixed set of words */
	CONF_MODE	/* an octal umask(2) value, 0 to 0777 */
};

/* The options, in the order of the table (conf_options). */
enum conf_opt {
	OPT_SOCKET,
	OPT_AUTHSERV_ID,
	OPT_RELAY_NETWORKS,
	OPT_RELAY_NETWORKS_WIDE,
	OPT_RELAY_AUTH_USERS,
	OPT_RELAY_BINDINGS,
	OPT_DOMAIN,
	OPT_SELECTOR,
	OPT_KEY_FILE,
	OPT_KEY_TABLE,
	OPT_SIGNING_TABLE,
	OPT_SIGNATURE_ALGORITHM,
	OPT_CANONICALIZATION,
	OPT_SIGN_HEADERS,
	OPT_OVERSIGN_HEADERS,
	OPT_SIGNATURE_TTL,
	OPT_ON_BAD_FROM,
	OPT_USER_ID,
	OPT_PID_FILE,
	OPT_UMASK,
	OPT_BACKGROUND,
	OPT_SYSLOG,
	OPT_SYSLOG_FACILITY,
	OPT_LOG_LEVEL,
	OPT_RELAY_SPF_NAMES,
	OPT_REQUIRE_SPF,
	OPT_DNS_TIMEOUT,
	OPT_SPF_CACHE_TTL,
	OPT_DNS_CACHE_SIZE,
	OPT_DNS_CACHE_MAX_TTL,
	OPT_ALIGNMENT,
	OPT_PUBLIC_SUFFIX_LIST,
	OPT_ORGANIZATIONAL_DOMAINS,
	OPT_DMARC_LOOKUP,
	OPT_RETURN_PATH,
	OPT_OUTBOUND_ADDRESSES,
	OPT_METRICS_SOCKET,
	OPT_COUNT
};

struct conf_parse;	/* one conf_parse run (conf.c) */

/*
 * One row of the option table: the option as the file and the man page
 * know it, and where its value goes (Postfix's style: name, default,
 * variable, bounds).  The type decides how a value is checked and stored
 * in the field at off; check, when set, also vets every word; set, when
 * set, stores the value instead (an option that fills more than one field
 * or a structure).
 */
struct conf_option {
	const char *name;	/* as written in the file, e.g. "RelayNetworks" */
	enum conf_type type;
	const char *def;	/* default as text, as the man page shows it; "" for none */
	unsigned long min, max;	/* CONF_UINT bounds */
	const char *const *words; /* CONF_ENUM and CONF_LIST word sets, or NULL */
	const int *values;	/* CONF_ENUM: the value stored for each word */
	size_t off, size;	/* the field of struct conf */
	unsigned flags;		/* CONF_F_* */
	int (*check)(const struct conf_parse *p, const struct conf_option *o, const char *w);
	int (*set)(const struct conf_parse *p, const struct conf_option *o, char **w, size_t n,
	    int k);
};

#define CONF_F_LOWER	0x1	/* CONF_LIST: stored lowercase */
#define CONF_F_CASE	0x2	/* CONF_LIST: a word twice is compared case-sensitively */
#define CONF_F_TABLE	0x4	/* CONF_PATH: "file:" or "refile:" may come first */

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
	bool keys_failed;		/* runtime_build failed loading a key */
	bool warn_oom;			/* a warning could not be kept */

	struct runtime rt;		/* what runtime_build made of the above (runtime.h) */
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


/* conf_load: reads path, conf_parse, runtime_build (runtime.c). */
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
/* conf_load_builtin: conf_parse of conf_builtin_text, then runtime_build (runtime.c). */
int conf_load_builtin(struct conf **conf_r, char *err, size_t errlen);

/* conf_facility_name: "mail", "local0", ... for a SyslogFacility value. */
const char *conf_facility_name(int facility);
/* conf_free: conf_free(NULL) is a no-op. */
void conf_free(struct conf *conf);

#endif
