/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * relaysign-keygen.c -- make a DKIM signing key and say how to publish it.
 *
 *	relaysign-keygen [-arStv] [-b bits] [-D dir] [-h sha256] [-n note]
 *	    [--type rsa|ed25519] -d domain -s selector
 *
 * The flags are opendkim-genkey(8)'s, meaning the same (a postmaster types
 * them from memory); --type, for Ed25519, is ours.  Writes DIR/SELECTOR.key (unencrypted PKCS#8 PEM, mode 0600, never over an
 * existing file) and prints the DNS TXT record to publish, the
 * relaysign.conf lines and the KeyTable/SigningTable lines.  The written
 * file is read back with key_load, the daemon's own loader, so a key this
 * tool makes is one relaysign accepts, and the printed p= comes from the
 * same code (key_public_b64) that relaysign -t compares against.
 */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/bio.h>
#include <openssl/buffer.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include "dnsname.h"
#include "key.h"
#include "util.h"

/*
 * RFC 8301 3.2: signers MUST use at least 1024 bits and SHOULD use at least
 * 2048; a new key has no reason to be weaker.  Above 4096 bits every
 * signature costs much more, and the record no longer fits a 512-byte UDP
 * answer with room to spare.
 */
#define KEYGEN_RSA_DEFAULT 2048
#define KEYGEN_RSA_MIN 2048
#define KEYGEN_RSA_MAX 4096
/* RFC 1035 2.3.4: 253 characters for a name as text, 63 a label. */
#define KEYGEN_NAME_MAX 253
#define KEYGEN_LABEL_MAX 63
/* RFC 1035 3.3.14: a character-string holds at most 255 bytes. */
#define KEYGEN_TXT_STRING_MAX 255

static const char *progname = "relaysign-keygen";

/*
 * usage: the synopsis of relaysign-keygen(8); on standard output with
 * status 0 when asked for (--help), else on standard error with 1.
 */
static void
usage(int status)
{
	fprintf(status == 0 ? stdout : stderr,
	    "usage: %s [-arStv] [-b bits] [-D directory] [-h sha256] [-n note]\n"
	    "           [--type rsa|ed25519] -d domain -s selector\n"
	    "       %s --help | -V | --version\n"
	    "The flags mean what they mean to opendkim-genkey(8):\n"
	    "  -d, --domain=DOMAIN        the From domain to sign for (required)\n"
	    "  -s, --selector=SELECTOR    the key's selector (required)\n"
	    "  -D, --directory=DIR        where to write SELECTOR.key (default: .)\n"
	    "  -b, --bits=N               RSA key size, %d to %d (default %d)\n"
	    "      --type=rsa|ed25519     the key type (default rsa)\n"
	    "  -h, --hash-algorithms=LIST h= of the record; only sha256 (RFC 8301)\n"
	    "  -n, --note=TEXT            n= of the record, a note for people\n"
	    "  -r, --restrict             s=email: the key signs e-mail only\n"
	    "  -S, --nosubdomains         t=s: no subdomain of DOMAIN may use it\n"
	    "  -t, --testmode             t=y: DKIM is being tested at DOMAIN\n"
	    "  -a, --append-domain        accepted; the record name is always whole\n"
	    "  -v, --verbose              say each step on standard error\n"
	    "      --help                 print this help and exit\n"
	    "  -V, --version              print the version and exit\n",
	    progname, progname, KEYGEN_RSA_MIN, KEYGEN_RSA_MAX, KEYGEN_RSA_DEFAULT);
	exit(status);
}

/* die: prints "relaysign-keygen: message" to standard error; exits 1. */
static void __attribute__((format(printf, 1, 2), noreturn))
die(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: ", progname);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(1);
}


/* pkcs8_pem: the unencrypted PKCS#8 PEM of pkey in a secure-memory BIO. */
static BIO *
pkcs8_pem(EVP_PKEY *pkey)
{
	BIO *bio = BIO_new(BIO_s_secmem());

	if (bio == NULL)
		return NULL;
	if (PEM_write_bio_PKCS8PrivateKey(bio, pkey, NULL, NULL, 0, NULL, NULL) != 1) {
		BIO_free(bio);
		return NULL;
	}
	return bio;
}

/*
 * write_new: writes buf[0..len) to a new file at path, mode 0600 whatever
 * the umask (fchmod after open(2): the umask can only take bits away).
 * O_EXCL refuses an existing file, O_NOFOLLOW a symlink planted there.
 * Returns 0, or -1 with the reason in err (the half-written file removed).
 */
static int
write_new(const char *path, const char *buf, size_t len, char *err, size_t errlen)
{
	size_t off = 0;
	ssize_t n;
	int fd, e;

	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd == -1) {
		if (errno == EEXIST)
			return util_seterr(err, errlen,
			    "%s: already exists; refusing to overwrite a key (its selector may be "
			    "published and in use): choose a new selector, or move the file away",
			    path);
		return util_seterr(err, errlen, "%s: %s", path, strerror(errno));
	}
	if (fchmod(fd, 0600) == -1)
		goto fail;
	while (off < len) {
		n = write(fd, buf + off, len - off);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1)
			goto fail;
		off += (size_t)n;
	}
	if (fsync(fd) == -1)
		goto fail;
	if (close(fd) == -1) {
		e = errno;
		(void)unlink(path);
		return util_seterr(err, errlen, "%s: %s", path, strerror(e));
	}
	return 0;
fail:
	e = errno;
	(void)close(fd);
	(void)unlink(path);
	return util_seterr(err, errlen, "%s: %s", path, strerror(e));
}

/*
 * print_txt_record: the record in zone-file syntax, the value cut into
 * quoted character-strings of at most 255 bytes (RFC 1035 3.3.14, as
 * RFC 7208 3.3 does for SPF); verifiers join them (RFC 6376 3.6.2.2).
 * base64 needs no escaping inside the quotes.
 */
static void
print_txt_record(const char *name, const char *head, const char *b64)
{
	size_t hlen = strlen(head), len = strlen(b64), off = 0, room, n;

	/* The tags before p=, one string unless a long -n note needs more. */
	n = hlen < KEYGEN_TXT_STRING_MAX ? hlen : KEYGEN_TXT_STRING_MAX;
	printf("%s. IN TXT ( \"%.*s\"\n", name, (int)n, head);
	for (off = n; off < hlen; off += n) {
		n = hlen - off < KEYGEN_TXT_STRING_MAX ? hlen - off : KEYGEN_TXT_STRING_MAX;
		printf("\t\"%.*s\"\n", (int)n, head + off);
	}
	/* The first string of the key carries "p=". */
	room = KEYGEN_TXT_STRING_MAX - 2;
	printf("\t\"p=%.*s\"", (int)(len < room ? len : room), b64);
	off = len < room ? len : room;
	while (off < len) {
		n = len - off < KEYGEN_TXT_STRING_MAX ? len - off : KEYGEN_TXT_STRING_MAX;
		printf("\n\t\"%.*s\"", (int)n, b64 + off);
		off += n;
	}
	printf(" )\n");
}

/* KEYGEN_NOTE_MAX: the longest -n note, before quoted-printable encoding. */
#define KEYGEN_NOTE_MAX 100

static bool verbose;

/* say: with -v, one step on standard error, as opendkim-genkey -v does. */
static void __attribute__((format(printf, 1, 2)))
say(const char *fmt, ...)
{
	va_list ap;

	if (!verbose)
		return;
	fprintf(stderr, "%s: ", progname);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

/*
 * note_qp: the n= tag's value for note, a qp-section (RFC 6376 3.6.1,
 * 2.11): safe characters as they are; ';' and '=', which would end or
 * confuse the tag, '"' and '\\', which a zone file's quoted string would
 * take as its own, control characters and 8-bit bytes as =XX; a space or
 * tab last as =20 or =09 (a qp-section does not end in blanks).
 */
static char *
note_qp(const char *note)
{
	size_t len = strlen(note), i, o = 0;
	char *out = malloc(len * 3 + 1);

	if (out == NULL)
		return NULL;
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)note[i];
		bool blank = c == ' ' || c == '\t';

		if ((c > 0x20 && c < 0x7f && c != ';' && c != '=' && c != '"' && c != '\\') ||
		    (blank && i + 1 < len))
			out[o++] = (char)c;
		else
			o += (size_t)sprintf(out + o, "=%02X", c);
	}
	out[o] = '\0';
	return out;
}

/* is_dir: true if path names an existing directory. */
static bool
is_dir(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

int
main(int argc, char **argv)
{
	const char *alg = "rsa", *dir = ".", *selector = NULL, *ktype, *dopt = NULL;
	const char *hashes = NULL, *note = NULL, *arg;
	char absdir[PATH_MAX], path[PATH_MAX + 256], name[KEYGEN_NAME_MAX + 64];
	char err[1024], head[512], *domain, *b64, *end, *qp = NULL;
	const char *why;
	unsigned long bits = 0;
	bool rsa, restrict_email = false, no_subdomains = false, testmode = false;
	struct stat st;
	struct key *key;
	EVP_PKEY *pkey;
	BIO *pem;
	BUF_MEM *bm;
	size_t len;
	int ch, rc;

	enum { OPT_HELP = 256, OPT_TYPE, OPT_SUBDOMAINS, OPT_NOTESTMODE };
	/* opendkim-genkey(8)'s long options, and --type for Ed25519. */
	static const struct option longopts[] = {
		{ "append-domain", no_argument, NULL, 'a' },
		{ "bits", required_argument, NULL, 'b' },
		{ "directory", required_argument, NULL, 'D' },
		{ "domain", required_argument, NULL, 'd' },
		{ "hash-algorithms", required_argument, NULL, 'h' },
		{ "help", no_argument, NULL, OPT_HELP },
		{ "note", required_argument, NULL, 'n' },
		{ "restrict", no_argument, NULL, 'r' },
		{ "selector", required_argument, NULL, 's' },
		{ "subdomains", no_argument, NULL, OPT_SUBDOMAINS },
		{ "nosubdomains", no_argument, NULL, 'S' },
		{ "testmode", no_argument, NULL, 't' },
		{ "notestmode", no_argument, NULL, OPT_NOTESTMODE },
		{ "type", required_argument, NULL, OPT_TYPE },
		{ "verbose", no_argument, NULL, 'v' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};

	while ((ch = getopt_long(argc, argv, "ab:d:D:h:n:rs:StvV", longopts, NULL)) != -1) {
		switch (ch) {
		case 'a':
			/* The record's name is always printed whole (see below). */
			break;
		case 'b':
			errno = 0;
			bits = strtoul(optarg, &end, 10);
			if (optarg[0] < '0' || optarg[0] > '9' || *end != '\0' || errno != 0)
				die("-b %s: not a number of bits", optarg);
			break;
		case 'd':
			dopt = optarg;
			break;
		case 'D':
			dir = optarg;
			break;
		case 'h':
			hashes = optarg;
			break;
		case 'n':
			note = optarg;
			break;
		case 'r':
			restrict_email = true;
			break;
		case 's':
			selector = optarg;
			break;
		case 'S':
			no_subdomains = true;
			break;
		case OPT_SUBDOMAINS:
			no_subdomains = false;
			break;
		case 't':
			testmode = true;
			break;
		case OPT_NOTESTMODE:
			testmode = false;
			break;
		case OPT_TYPE:
			alg = optarg;
			break;
		case 'v':
			verbose = true;
			break;
		case OPT_HELP:
			usage(0);
			break;
		case 'V':
			printf("relaysign-keygen %s\n  %s\n", PACKAGE_VERSION,
			    OpenSSL_version(OPENSSL_VERSION));
			return 0;
		default:
			usage(1);
		}
	}

	/*
	 * Before 0.1.0, -a was the key type, -d the directory and -h the
	 * help, and the domain an operand.  The operand stays (it cannot be
	 * mistaken); the other three now mean what opendkim-genkey says, so
	 * an old command line is refused with the new spelling, never run
	 * with another meaning.
	 */
	for (int i = optind; i < argc; i++)
		if (strcasecmp(argv[i], "rsa") == 0 || strcasecmp(argv[i], "ed25519") == 0)
			die("\"%s\": the key type is --type %s (-a is opendkim-genkey's "
			    "--append-domain)", argv[i], argv[i]);
	if (dopt != NULL && (strchr(dopt, '/') != NULL || (strchr(dopt, '.') == NULL &&
	    is_dir(dopt)) || strcmp(dopt, ".") == 0 || strcmp(dopt, "..") == 0))
		die("-d %s: -d names the domain, as in opendkim-genkey; the directory is "
		    "-D %s", dopt, dopt);
	if (argc - optind > 1)
		usage(1);
	if (argc - optind == 1) {
		if (dopt != NULL && strcasecmp(dopt, argv[optind]) != 0)
			die("two domains, -d %s and %s: give one", dopt, argv[optind]);
		dopt = argv[optind];
	}
	if (dopt == NULL && selector == NULL)
		usage(1);	/* nothing asked: how to ask */
	if (dopt == NULL)
		die("no domain: give it with -d, e.g. -d library.example.edu "
		    "(opendkim-genkey's default, localhost, signs nothing anyone receives)");
	if (selector == NULL)
		die("no selector: give it with -s, e.g. -s alma2026 (a selector naming the "
		    "year makes the next key's easy to choose)");
	if (hashes != NULL) {
		/* RFC 8301 3.1: signers MUST use rsa-sha256; sha1 is refused. */
		for (arg = hashes; *arg != '\0';) {
			size_t n = strcspn(arg, ":");

			if (n != 6 || strncasecmp(arg, "sha256", 6) != 0)
				die("-h %s: the hash algorithms are a list of sha256 only: RFC 8301 "
				    "says signers must not use sha1 (and --help is the help)", hashes);
			arg += n;
			if (*arg == ':')
				arg++;
		}
		hashes = "sha256";
	}
	if (note != NULL) {
		if (strlen(note) > KEYGEN_NOTE_MAX)
			die("-n: a note of at most %d characters, please (it is in every "
			    "answer for the key)", KEYGEN_NOTE_MAX);
		if ((qp = note_qp(note)) == NULL)
			die("out of memory");
	}

	if (strcmp(alg, "rsa") == 0)
		rsa = true;
	else if (strcmp(alg, "ed25519") == 0)
		rsa = false;
	else
		die("--type %s: the key type is rsa or ed25519", alg);
	if (rsa) {
		if (bits == 0)
			bits = KEYGEN_RSA_DEFAULT;
		if (bits < KEYGEN_RSA_MIN)
			die("-b %lu: RSA keys under %d bits are refused: RFC 8301 3.2 says signers "
			    "SHOULD use at least 2048 bits, and Gmail's sender guidelines recommend "
			    "2048; 1024 is only the minimum receivers still accept, no size for a "
			    "new key", bits, KEYGEN_RSA_MIN);
		if (bits > KEYGEN_RSA_MAX)
			die("-b %lu: more than %d bits makes every signature slower and the DNS "
			    "record larger for no practical gain; use 2048 (the default) or "
			    "up to %d", bits, KEYGEN_RSA_MAX, KEYGEN_RSA_MAX);
	} else if (bits != 0)
		die("-b: Ed25519 keys have a fixed size (256 bits); -b is for RSA only");
	say("generating the %s private key", rsa ? "RSA" : "Ed25519");

	/* DNS is case-insensitive (RFC 4343): print the domain in lower case. */
	len = strlen(dopt);
	if (len > 1 && dopt[len - 1] == '.')
		len--;
	if ((domain = util_strndup_lower(dopt, len)) == NULL)
		die("out of memory");
	/* The same rule as relaysign.conf(5)'s Domain and Selector (lib/dnsname.c). */
	if (!dnsname_ok(domain, 1, &why))
		die("domain \"%s\" %s", dopt, why);
	if (strchr(domain, '.') == NULL)
		die("domain \"%s\": give the full domain, e.g. library.example.edu", domain);
	if (!dnsname_ok(selector, 1, &why))
		die("selector \"%s\" %s", selector, why);
	/* RFC 6376 3.6.2.1: the record's name is SELECTOR._domainkey.DOMAIN. */
	if ((size_t)snprintf(name, sizeof(name), "%s._domainkey.%s", selector, domain) >
	    KEYGEN_NAME_MAX)
		die("%s._domainkey.%s is longer than the %d characters of a DNS name; use a "
		    "shorter selector", selector, domain, KEYGEN_NAME_MAX);

	/* relaysign.conf wants absolute paths: KeyFile must not depend on the cwd. */
	if (realpath(dir, absdir) == NULL)
		die("%s: %s%s", dir, strerror(errno),
		    errno == ENOENT ? " (create it first, e.g. install -d -m 0700 DIR)" : "");
	if (stat(absdir, &st) == -1 || !S_ISDIR(st.st_mode))
		die("%s: not a directory", dir);
	if ((size_t)snprintf(path, sizeof(path), "%s/%s.key", strcmp(absdir, "/") == 0 ?
	    "" : absdir, selector) >= sizeof(path))
		die("%s/%s.key: path too long", absdir, selector);
	/* Say so before the (slow) key generation when the file is there. */
	if (lstat(path, &st) == 0)
		die("%s: already exists; refusing to overwrite a key (its selector may be "
		    "published and in use): choose a new selector, or move the file away", path);

	pkey = rsa ? EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)bits) :
	    EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
	if (pkey == NULL)
		die("OpenSSL could not generate the key: %s",
		    ERR_reason_error_string(ERR_get_error()));
	if ((pem = pkcs8_pem(pkey)) == NULL || BIO_get_mem_ptr(pem, &bm) != 1 ||
	    bm->length == 0)
		die("OpenSSL could not encode the key as PKCS#8 PEM");
	rc = write_new(path, bm->data, bm->length, err, sizeof(err));
	BIO_free(pem);
	EVP_PKEY_free(pkey);
	if (rc != 0)
		die("%s", err);

	/* Read it back as relaysign will: this also checks the mode. */
	if (key_load(path, domain, selector, &key, err, sizeof(err)) != 0) {
		(void)unlink(path);
		die("wrote %s but could not load it back, removed it: %s", path, err);
	}
	if ((b64 = key_public_b64(key)) == NULL) {
		(void)unlink(path);
		die("%s: cannot encode the public key; removed the file", path);
	}
	ktype = rsa ? "rsa" : "ed25519";
	/* The tags opendkim-genkey writes, in its order, then p= (printed below). */
	(void)snprintf(head, sizeof(head), "v=DKIM1; %s%s%sk=%s; %s%s%s%s%s",
	    hashes != NULL ? "h=" : "", hashes != NULL ? hashes : "", hashes != NULL ? "; " : "",
	    ktype, qp != NULL ? "n=" : "", qp != NULL ? qp : "", qp != NULL ? "; " : "",
	    restrict_email ? "s=email; " : "",
	    testmode && no_subdomains ? "t=y:s; " : testmode ? "t=y; " : no_subdomains ?
	    "t=s; " : "");
	say("private key written to %s", path);
	say("DNS TXT record for %s printed below", name);

	if (rsa)
		printf("# Wrote %s: %s, %u bits, PKCS#8 PEM, mode 0600.\n", path,
		    key_alg_name(key->alg), key->bits);
	else
		printf("# Wrote %s: %s (RFC 8463), PKCS#8 PEM, mode 0600.\n", path,
		    key_alg_name(key->alg));
	printf("# Only its owner can read it.  If relaysign runs as another user (UserID,\n"
	    "# or User= in relaysign.service), give it the key: chown relaysign %s\n", path);
	if (!rsa)
		printf("# Many receivers cannot verify Ed25519 yet: sign with an RSA key too.\n");

	printf("\n# 1. Publish this DNS record (zone file syntax; strings of at most 255 bytes\n"
	    "#    each, which verifiers join, RFC 6376 3.6.2.2):\n");
	print_txt_record(name, head, b64);
	printf("\n# In a DNS provider's web form: name %s, type TXT,\n"
	    "# and this value (the provider splits it if needed):\n", name);
	printf("%sp=%s\n", head, b64);

	printf("\n# 2. relaysign.conf, signing %s with this key:\n", domain);
	printf("Domain              %s\n", domain);
	printf("Selector            %s\n", selector);
	printf("KeyFile             %s\n", path);
	if (!rsa)
		printf("SignatureAlgorithm  ed25519-sha256\n"
		    "# (with an RSA key too: two Selector and KeyFile words, and\n"
		    "#  SignatureAlgorithm rsa-sha256 ed25519-sha256)\n");

	printf("\n# 3. Or, with OpenDKIM-style tables (relaysign.conf: KeyTable FILE and\n"
	    "#    SigningTable FILE instead of Domain/Selector/KeyFile):\n");
	printf("# KeyTable line:\n");
	printf("%s %s:%s:%s\n", name, domain, selector, path);
	printf("# SigningTable line:\n");
	printf("*@%s %s\n", domain, name);
	if (!rsa)
		printf("# (and in relaysign.conf: SignatureAlgorithm ed25519-sha256, or\n"
		    "#  rsa-sha256 ed25519-sha256 with an RSA key too)\n");

	printf("\n# 4. Once the record is published, check the configuration and the DNS:\n"
	    "#    relaysign -n -c /etc/relaysign/relaysign.conf\n"
	    "#    relaysign -t -c /etc/relaysign/relaysign.conf\n");
	printf("# A key that replaces one in use (rotation, relaysign-keygen(8)): before\n"
	    "# relaysign.conf names it, check its record beside the keys in use with\n"
	    "#    relaysign -t -c /etc/relaysign/relaysign.conf %s:%s:%s\n",
	    domain, selector, path);

	if (fflush(stdout) != 0 || ferror(stdout))
		die("standard output: %s", strerror(errno));
	free(b64);
	free(qp);
	key_free(key);
	free(domain);
	return 0;
}
