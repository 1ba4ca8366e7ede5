/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * relaysign-keygen.c -- make a DKIM signing key and say how to publish it.
 *
 *	relaysign-keygen [-a rsa|ed25519] [-b bits] [-d dir] -s selector domain
 *
 * Writes DIR/SELECTOR.key (unencrypted PKCS#8 PEM, mode 0600, never over an
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
 * status 0 when asked for (-h, --help), else on standard error with 1.
 */
static void
usage(int status)
{
	fprintf(status == 0 ? stdout : stderr,
	    "usage: %s [-a rsa|ed25519] [-b bits] [-d dir] -s selector domain\n"
	    "  -a alg       rsa (default) or ed25519\n"
	    "  -b bits      RSA key size, %d to %d (default %d)\n"
	    "  -d dir       where to write SELECTOR.key (default: .)\n"
	    "  -s selector  the key's selector (required)\n"
	    "  -h, --help   print this help and exit\n"
	    "  -V, --version  print the version and exit\n",
	    progname, KEYGEN_RSA_MIN, KEYGEN_RSA_MAX, KEYGEN_RSA_DEFAULT);
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
	size_t len = strlen(b64), off = 0, room;

	printf("%s. IN TXT ( \"%s\"\n", name, head);
	/* The first string of the key carries "p=". */
	room = KEYGEN_TXT_STRING_MAX - 2;
	printf("\t\"p=%.*s\"", (int)(len < room ? len : room), b64);
	off = len < room ? len : room;
	while (off < len) {
		size_t n = len - off < KEYGEN_TXT_STRING_MAX ? len - off : KEYGEN_TXT_STRING_MAX;

		printf("\n\t\"%.*s\"", (int)n, b64 + off);
		off += n;
	}
	printf(" )\n");
}

int
main(int argc, char **argv)
{
	const char *alg = "rsa", *dir = ".", *selector = NULL, *ktype;
	char absdir[PATH_MAX], path[PATH_MAX + 256], name[KEYGEN_NAME_MAX + 64];
	char err[1024], head[64], *domain, *b64, *end;
	const char *why;
	unsigned long bits = 0;
	bool rsa;
	struct stat st;
	struct key *key;
	EVP_PKEY *pkey;
	BIO *pem;
	BUF_MEM *bm;
	size_t len;
	int ch, rc;

	static const struct option longopts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};

	while ((ch = getopt_long(argc, argv, "a:b:d:s:hV", longopts, NULL)) != -1) {
		switch (ch) {
		case 'a':
			alg = optarg;
			break;
		case 'b':
			errno = 0;
			bits = strtoul(optarg, &end, 10);
			if (optarg[0] < '0' || optarg[0] > '9' || *end != '\0' || errno != 0)
				die("-b %s: not a number of bits", optarg);
			break;
		case 'd':
			dir = optarg;
			break;
		case 's':
			selector = optarg;
			break;
		case 'h':
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
	if (argc - optind != 1 || selector == NULL)
		usage(1);

	if (strcmp(alg, "rsa") == 0)
		rsa = true;
	else if (strcmp(alg, "ed25519") == 0)
		rsa = false;
	else
		die("-a %s: the algorithm is rsa or ed25519", alg);
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

	/* DNS is case-insensitive (RFC 4343): print the domain in lower case. */
	len = strlen(argv[optind]);
	if (len > 1 && argv[optind][len - 1] == '.')
		len--;
	if ((domain = util_strndup_lower(argv[optind], len)) == NULL)
		die("out of memory");
	/* The same rule as relaysign.conf(5)'s Domain and Selector (lib/dnsname.c). */
	if (!dnsname_ok(domain, 1, &why))
		die("domain \"%s\" %s", argv[optind], why);
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
	(void)snprintf(head, sizeof(head), "v=DKIM1; k=%s; ", ktype);

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

	if (fflush(stdout) != 0 || ferror(stdout))
		die("standard output: %s", strerror(errno));
	free(b64);
	key_free(key);
	free(domain);
	return 0;
}
