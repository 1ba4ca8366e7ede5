/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * keytable.c -- which keys sign which From domains.
 *
 * The table is a flat array of (pattern, key) entries in the order they
 * were added, plus the array of distinct keys it owns.  A campus relay
 * signs for a handful of domains, so a linear scan per message costs less
 * than building anything cleverer.
 *
 * The OpenDKIM-style files are parsed from memory (keytable_load_text) so
 * that tests and the fuzzer run the parser without touching the disk; only
 * keytable_load_files reads files, and keys come from a loader callback
 * (key_load for the real thing).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "file.h"
#include "dnsname.h"
#include "keytable.h"
#include "util.h"

/* Longest line in a KeyTable or SigningTable (as CONF_LINE_MAX in conf.h). */
#define KEYTABLE_LINE_MAX 4096
/* Largest KeyTable or SigningTable file we read. */
#define KEYTABLE_FILE_MAX (4 * 1024 * 1024)
/* Room for one reason, before "file:line: " is put in front of it. */
#define KEYTABLE_WHY_MAX 512

struct kt_entry {
	char *pattern;		/* "example.edu" or "*.example.edu", lowercase */
	const char *suffix;	/* wildcards: pattern + 1, ".example.edu"; else NULL */
	struct key *key;	/* owned through keytable.keys */
};

struct keytable {
	struct kt_entry *ent;	/* in the order added: file order */
	size_t nent, capent;
	struct key **keys;	/* distinct keys, owned */
	size_t nkeys, capkeys;
};

/* One KeyTable line while the SigningTable is read. */
struct kt_name {
	char *name;
	char *domain;		/* lowercase */
	char *selector;
	char *path;
	unsigned line;
	struct key *key;	/* once loaded; owned by the table being built */
};

struct kt_names {
	struct kt_name *v;
	size_t n, cap;
};

/* keytable_new: an empty table. */
struct keytable *
keytable_new(void)
{
	return calloc(1, sizeof(struct keytable));
}

/* keytable_free: frees the table and every key in it. */
void
keytable_free(struct keytable *kt)
{
	size_t i;

	if (kt == NULL)
		return;
	for (i = 0; i < kt->nent; i++)
		free(kt->ent[i].pattern);
	for (i = 0; i < kt->nkeys; i++)
		key_free(kt->keys[i]);
	free(kt->ent);
	free(kt->keys);
	free(kt);
}

/* grow: makes room for want elements of size sz in *v of capacity *cap. */
static int
grow(void *v, size_t *cap, size_t want, size_t sz)
{
	void **vp = v;
	size_t ncap = *cap;
	void *nv;

	if (want <= *cap)
		return 0;
	while (ncap < want)
		ncap = ncap == 0 ? 8 : ncap * 2;
	if (ncap > ((size_t)-1) / sz || (nv = realloc(*vp, ncap * sz)) == NULL)
		return -1;
	*vp = nv;
	*cap = ncap;
	return 0;
}

/*
 * domain_ok: a lowercase domain name by the one rule for names relaysign
 * signs (dnsname_ok; IDNs go in as A-labels); true, or false with the
 * reason in why.
 */
static bool
domain_ok(const char *d, char *why, size_t whylen)
{
	size_t len = strlen(d);
	const char *rule;

	if (len == 0) {
		util_seterr(why, whylen, "empty domain");
		return false;
	}
	if (d[len - 1] == '.') {
		util_seterr(why, whylen, "domain \"%s\" ends with a dot; leave it off", d);
		return false;
	}
	if (!dnsname_ok(d, 1, &rule)) {
		util_seterr(why, whylen, "domain \"%s\" %s", d, rule);
		return false;
	}
	return true;
}

/* count_labels: number of dot-separated labels in a checked domain. */
static size_t
count_labels(const char *d)
{
	size_t n = 1;

	for (; *d != '\0'; d++)
		if (*d == '.')
			n++;
	return n;
}

/*
 * pattern_normalize: turns a SigningTable pattern into "domain" or
 * "*.domain" (allocated, lowercase).  Returns NULL with the reason in why.
 */
static char *
pattern_normalize(const char *in, char *why, size_t whylen)
{
	char *p, *d, *at;
	size_t len = strlen(in);

	if ((p = util_strndup_lower(in, len)) == NULL) {
		util_seterr(why, whylen, "out of memory");
		return NULL;
	}
	d = p;
	/* OpenDKIM writes "*@example.edu" for "any address at example.edu". */
	if (strncmp(d, "*@", 2) == 0)
		d += 2;
	if ((at = strchr(d, '@')) != NULL) {
		util_seterr(why, whylen,
		    "pattern \"%s\" names addresses; relaysign signs whole domains: "
		    "write \"example.edu\" or \"*@example.edu\"", in);
		goto bad;
	}
	if (strcmp(d, "*") == 0) {
		util_seterr(why, whylen,
		    "pattern \"%s\" matches every domain; list the domains to sign", in);
		goto bad;
	}
	if (strncmp(d, "*.", 2) == 0) {
		if (strchr(d + 2, '*') != NULL)
			goto star;
		if (!domain_ok(d + 2, why, whylen))
			goto bad;
		/*
		 * "*.com" would sign for every .com domain.  Two labels are
		 * the least we take; a public suffix such as "*.ac.uk" still
		 * passes, and is on the postmaster who writes it.
		 */
		if (count_labels(d + 2) < 2) {
			util_seterr(why, whylen,
			    "wildcard \"%s\" covers a whole top-level domain; "
			    "write at least two labels after \"*.\"", in);
			goto bad;
		}
	} else {
		if (strchr(d, '*') != NULL)
			goto star;
		if (!domain_ok(d, why, whylen))
			goto bad;
	}
	if (d != p)
		memmove(p, d, strlen(d) + 1);
	return p;
star:
	util_seterr(why, whylen,
	    "pattern \"%s\": '*' may only stand as the whole first label, as in \"*.example.edu\"",
	    in);
bad:
	free(p);
	return NULL;
}

/* count_pattern: entries of kt with exactly this normalized pattern. */
static size_t
count_pattern(const struct keytable *kt, const char *pattern)
{
	size_t i, n = 0;

	for (i = 0; i < kt->nent; i++)
		if (strcmp(kt->ent[i].pattern, pattern) == 0)
			n++;
	return n;
}

/*
 * check_entry: may kt get (pattern, key) on top of extra entries with the
 * same pattern that are about to be added as well?  Returns 0 or -1 with
 * the reason.
 */
static int
check_entry(const struct keytable *kt, const char *pattern, const struct key *key,
    size_t extra, char *why, size_t whylen)
{
	size_t i;

	for (i = 0; i < kt->nent; i++) {
		const struct key *k = kt->ent[i].key;

		if (strcmp(kt->ent[i].pattern, pattern) != 0)
			continue;
		/* One DNS record per d= and s=: a second signature would be a copy. */
		if (k == key || (strcmp(k->domain, key->domain) == 0 &&
		    strcmp(k->selector, key->selector) == 0))
			return util_seterr(why, whylen,
			    "pattern \"%s\" already has the key for selector \"%s\", domain \"%s\"",
			    pattern, key->selector, key->domain);
	}
	if (count_pattern(kt, pattern) + extra >= KEYTABLE_MAX_PER_DOMAIN)
		return util_seterr(why, whylen, "pattern \"%s\" has more than %d keys", pattern,
		    KEYTABLE_MAX_PER_DOMAIN);
	return 0;
}

/* owns_key: true if key is one of kt's distinct keys. */
static bool
owns_key(const struct keytable *kt, const struct key *key)
{
	size_t i;

	for (i = 0; i < kt->nkeys; i++)
		if (kt->keys[i] == key)
			return true;
	return false;
}

/* keytable_add: signs domains matching pattern with key; takes over key. */
int
keytable_add(struct keytable *kt, const char *pattern, struct key *key, char *err,
    size_t errlen)
{
	char *norm;
	bool owned;

	if (key == NULL)
		return util_seterr(err, errlen, "pattern \"%s\": no key", pattern);
	owned = owns_key(kt, key);
	if ((norm = pattern_normalize(pattern, err, errlen)) == NULL)
		goto bad;
	if (check_entry(kt, norm, key, 0, err, errlen) == -1) {
		free(norm);
		goto bad;
	}
	if (!owned) {
		if (grow(&kt->keys, &kt->capkeys, kt->nkeys + 1, sizeof(*kt->keys)) == -1) {
			free(norm);
			util_seterr(err, errlen, "out of memory");
			goto bad;
		}
		kt->keys[kt->nkeys++] = key;
		owned = true;
	}
	if (grow(&kt->ent, &kt->capent, kt->nent + 1, sizeof(*kt->ent)) == -1) {
		free(norm);
		return util_seterr(err, errlen, "out of memory");
	}
	kt->ent[kt->nent].pattern = norm;
	kt->ent[kt->nent].suffix = norm[0] == '*' ? norm + 1 : NULL;
	kt->ent[kt->nent].key = key;
	kt->nent++;
	return 0;
bad:
	if (!owned)
		key_free(key);
	return -1;
}

/* names_free: frees the KeyTable lines (not their keys). */
static void
names_free(struct kt_names *names)
{
	size_t i;

	for (i = 0; i < names->n; i++) {
		free(names->v[i].name);
		free(names->v[i].domain);
		free(names->v[i].selector);
		free(names->v[i].path);
	}
	free(names->v);
}

/* names_find: the KeyTable line named name, or NULL. */
static struct kt_name *
names_find(const struct kt_names *names, const char *name)
{
	size_t i;

	/* XXX linear: fine for the tens of keys a relay has. */
	for (i = 0; i < names->n; i++)
		if (strcmp(names->v[i].name, name) == 0)
			return &names->v[i];
	return NULL;
}

/* next_word: the next blank-separated word of *s, NUL-terminated, or NULL. */
static char *
next_word(char **s)
{
	char *p = *s, *w;

	while (*p == ' ' || *p == '\t')
		p++;
	if (*p == '\0') {
		*s = p;
		return NULL;
	}
	w = p;
	while (*p != '\0' && *p != ' ' && *p != '\t')
		p++;
	if (*p != '\0')
		*p++ = '\0';
	*s = p;
	return w;
}

/* selector_ok: RFC 6376 3.1: selector = sub-domain *("." sub-domain), dnsname.h's rule. */
static bool
selector_ok(const char *s)
{
	const char *why;

	return dnsname_ok(s, 1, &why);
}

/*
 * keytable_line: one KeyTable line, "name domain:selector:/path/to/key".
 * Returns 0 or -1 with the reason in why.
 */
static int
keytable_line(struct kt_names *names, char *line, unsigned lineno, char *why, size_t whylen)
{
	struct kt_name *dup, *n;
	char *name, *value, *selector, *path, *colon;

	name = next_word(&line);
	value = next_word(&line);
	if (value == NULL)
		return util_seterr(why, whylen,
		    "expected \"name domain:selector:/path/to/key\"");
	if (next_word(&line) != NULL)
		return util_seterr(why, whylen, "unexpected text after \"%s\"", value);
	if ((dup = names_find(names, name)) != NULL)
		return util_seterr(why, whylen, "key name \"%s\" already defined at line %u",
		    name, dup->line);

	/* The path may hold colons; domain and selector cannot. */
	if ((colon = strchr(value, ':')) == NULL)
		goto parts;
	*colon = '\0';
	selector = colon + 1;
	if ((colon = strchr(selector, ':')) == NULL)
		goto parts;
	*colon = '\0';
	path = colon + 1;
	if (*value == '\0' || *selector == '\0' || *path == '\0')
		goto parts;
	if (strcmp(value, "%") == 0)
		return util_seterr(why, whylen,
		    "domain \"%%\" (the From domain) is not supported: it signs for any "
		    "domain; write the domain");
	if (path[0] != '/')
		return util_seterr(why, whylen,
		    "key path \"%s\" is not absolute; relaysign reads keys by absolute path", path);
	if (!selector_ok(selector))
		return util_seterr(why, whylen, "bad selector \"%s\"", selector);

	if (grow(&names->v, &names->cap, names->n + 1, sizeof(*names->v)) == -1)
		return util_seterr(why, whylen, "out of memory");
	n = &names->v[names->n];
	memset(n, 0, sizeof(*n));
	n->line = lineno;
	n->name = strdup(name);
	n->domain = util_strndup_lower(value, strlen(value));
	n->selector = strdup(selector);
	n->path = strdup(path);
	names->n++;		/* names_free frees what got allocated */
	if (n->name == NULL || n->domain == NULL || n->selector == NULL || n->path == NULL)
		return util_seterr(why, whylen, "out of memory");
	if (!domain_ok(n->domain, why, whylen))
		return -1;
	return 0;
parts:
	return util_seterr(why, whylen,
	    "expected \"domain:selector:/path/to/key\" after key name \"%s\"", name);
}

/* What signingtable_line needs besides the line. */
struct st_ctx {
	struct keytable *kt;		/* the table being built */
	const struct keytable *target;	/* the table it goes into at the end */
	struct kt_names *names;
	const char *kt_name;		/* KeyTable name for messages */
	keytable_loader *load;
	void *arg;
};

/*
 * signingtable_line: one SigningTable line, "pattern keyname".  Loads the
 * key on its first use.  Returns 0 or -1 with the reason in err; a key
 * that cannot be loaded is blamed on its KeyTable line.
 */
static int
signingtable_line(struct st_ctx *c, char *line, char *why, size_t whylen, bool *kt_blame_r,
    unsigned *kt_line_r)
{
	struct kt_name *n;
	char *pattern, *name, *norm;
	size_t i;

	*kt_blame_r = false;
	pattern = next_word(&line);
	name = next_word(&line);
	if (name == NULL)
		return util_seterr(why, whylen, "expected \"pattern keyname\"");
	if (next_word(&line) != NULL)
		return util_seterr(why, whylen, "unexpected text after \"%s\"", name);
	/* Check the pattern before any key is read for it. */
	if ((norm = pattern_normalize(pattern, why, whylen)) == NULL)
		return -1;
	if ((n = names_find(c->names, name)) == NULL) {
		free(norm);
		return util_seterr(why, whylen, "key name \"%s\" is not in %s", name, c->kt_name);
	}
	if (n->key == NULL) {
		/* Several names for the same domain, selector and file share one key. */
		for (i = 0; i < c->names->n; i++) {
			struct kt_name *o = &c->names->v[i];

			if (o->key != NULL && strcmp(o->domain, n->domain) == 0 &&
			    strcmp(o->selector, n->selector) == 0 &&
			    strcmp(o->path, n->path) == 0) {
				n->key = o->key;
				break;
			}
		}
	}
	if (n->key == NULL) {
		if (c->load(c->arg, n->path, n->domain, n->selector, &n->key, why, whylen) == -1 ||
		    n->key == NULL) {
			free(norm);
			n->key = NULL;
			*kt_blame_r = true;
			*kt_line_r = n->line;
			return -1;
		}
	}
	/* The rules of keytable_add, counting what the target holds already. */
	if (check_entry(c->target, norm, n->key, count_pattern(c->kt, norm), why,
	    whylen) == -1) {
		free(norm);
		if (!owns_key(c->kt, n->key)) {
			key_free(n->key);
			n->key = NULL;
		}
		return -1;
	}
	free(norm);
	/*
	 * On error keytable_add frees a key it did not hold yet; only n can
	 * point to such a key, and the whole parse is abandoned anyway.
	 */
	if (keytable_add(c->kt, pattern, n->key, why, whylen) == -1) {
		if (!owns_key(c->kt, n->key))
			n->key = NULL;
		return -1;
	}
	return 0;
}

/*
 * next_line: copies the next line of text[*off..len) into buf without its
 * "\n" or "\r\n" and without a "#" comment.  Returns 1, 0 at the end, or
 * -1 with the reason when the line is too long or holds a NUL.
 */
static int
next_line(const char *text, size_t len, size_t *off, char *buf, char *why, size_t whylen)
{
	const char *p = text + *off, *end = text + len, *nl;
	size_t n;
	char *hash;

	if (p >= end)
		return 0;
	nl = memchr(p, '\n', (size_t)(end - p));
	n = (nl != NULL ? nl : end) - p;
	*off += n + (nl != NULL ? 1 : 0);
	if (n > 0 && p[n - 1] == '\r')
		n--;
	if (n > KEYTABLE_LINE_MAX)
		return util_seterr(why, whylen, "line longer than %d bytes", KEYTABLE_LINE_MAX);
	if (memchr(p, '\0', n) != NULL)
		return util_seterr(why, whylen, "NUL byte in line");
	memcpy(buf, p, n);
	buf[n] = '\0';
	/* "#" starts a comment anywhere, as in OpenDKIM's table files. */
	if ((hash = strchr(buf, '#')) != NULL)
		*hash = '\0';
	return 1;
}

/* swap_tables: exchanges the contents of a and b. */
static void
swap_tables(struct keytable *a, struct keytable *b)
{
	struct keytable t = *a;

	*a = *b;
	*b = t;
}

/*
 * merge: moves every entry and key of from into to.  signingtable_line
 * has checked the per-pattern rules across both.  On error to is unchanged.
 */
static int
merge(struct keytable *to, struct keytable *from, char *err, size_t errlen)
{
	if (to->nent == 0 && to->nkeys == 0) {
		swap_tables(to, from);
		return 0;
	}
	if (from->nent == 0)
		return 0;
	if (grow(&to->ent, &to->capent, to->nent + from->nent, sizeof(*to->ent)) == -1 ||
	    grow(&to->keys, &to->capkeys, to->nkeys + from->nkeys, sizeof(*to->keys)) == -1)
		return util_seterr(err, errlen, "out of memory");
	memcpy(to->ent + to->nent, from->ent, from->nent * sizeof(*from->ent));
	to->nent += from->nent;
	from->nent = 0;
	memcpy(to->keys + to->nkeys, from->keys, from->nkeys * sizeof(*from->keys));
	to->nkeys += from->nkeys;
	from->nkeys = 0;
	return 0;
}

/* blank: true if line holds only blanks. */
static bool
blank(const char *line)
{
	return line[strspn(line, " \t")] == '\0';
}

/* keytable_load_text: parses KeyTable and SigningTable text. */
int
keytable_load_text(struct keytable *kt, const char *kt_name, const char *kt_text,
    size_t kt_len, const char *st_name, const char *st_text, size_t st_len,
    keytable_loader *load, void *arg, char *err, size_t errlen)
{
	struct kt_names names = { NULL, 0, 0 };
	struct keytable *tmp;
	struct st_ctx c;
	const char *where = kt_name;	/* the file an error is in */
	char *buf, why[KEYTABLE_WHY_MAX];
	size_t off = 0;
	unsigned lineno = 0, ktline = 0;
	bool kt_blame;
	int r, ret = -1;

	buf = malloc(KEYTABLE_LINE_MAX + 1);
	if (buf == NULL || (tmp = keytable_new()) == NULL) {
		free(buf);
		return util_seterr(err, errlen, "out of memory");
	}

	while ((r = next_line(kt_text, kt_len, &off, buf, why, sizeof(why))) != 0) {
		lineno++;
		if (r == -1 || (!blank(buf) &&
		    keytable_line(&names, buf, lineno, why, sizeof(why)) == -1))
			goto line_err;
	}

	c.kt = tmp;
	c.target = kt;
	c.names = &names;
	c.kt_name = kt_name;
	c.load = load;
	c.arg = arg;
	where = st_name;
	off = 0;
	lineno = 0;
	while ((r = next_line(st_text, st_len, &off, buf, why, sizeof(why))) != 0) {
		lineno++;
		if (r == -1)
			goto line_err;
		if (blank(buf))
			continue;
		if (signingtable_line(&c, buf, why, sizeof(why), &kt_blame, &ktline) == -1) {
			if (kt_blame) {
				where = kt_name;
				lineno = ktline;
			}
			goto line_err;
		}
	}
	if (merge(kt, tmp, err, errlen) == 0)
		ret = 0;
	goto out;
line_err:
	util_seterr(err, errlen, "%s:%u: %s", where, lineno, why);
out:
	names_free(&names);
	keytable_free(tmp);
	free(buf);
	return ret;
}

/* keytable_file_path: path without OpenDKIM's "refile:" or "file:" data-set prefix. */
const char *
keytable_file_path(const char *path)
{
	if (strncmp(path, "refile:", 7) == 0)
		return path + 7;
	if (strncmp(path, "file:", 5) == 0)
		return path + 5;
	return path;
}

/* read_table: a whole table file, within KEYTABLE_FILE_MAX. */
static int
read_table(const char *path, char **buf_r, size_t *len_r, char *err, size_t errlen)
{
	return file_read(path, KEYTABLE_FILE_MAX, buf_r, len_r, NULL, err, errlen);
}

/* load_from_disk: the keytable_loader of keytable_load_files. */
static int
load_from_disk(void *arg, const char *file, const char *domain, const char *selector,
    struct key **key_r, char *err, size_t errlen)
{
	return key_load_with(arg, file, domain, selector, key_r, err, errlen);
}

/* keytable_load_files: reads an OpenDKIM-style KeyTable and SigningTable. */
int
keytable_load_files(struct keytable *kt, const char *keytable_path,
    const char *signingtable_path, char *err, size_t errlen)
{
	const char *ktp = keytable_file_path(keytable_path);
	const char *stp = keytable_file_path(signingtable_path);
	char *ktbuf = NULL, *stbuf = NULL;
	size_t ktlen, stlen;
	/* One decoder for the whole table (NULL: each key builds its own). */
	struct key_decoder *dec = key_decoder_new();
	int ret = -1;

	if (read_table(ktp, &ktbuf, &ktlen, err, errlen) == 0 &&
	    read_table(stp, &stbuf, &stlen, err, errlen) == 0)
		ret = keytable_load_text(kt, ktp, ktbuf, ktlen, stp, stbuf, stlen,
		    load_from_disk, dec, err, errlen);
	key_decoder_free(dec);
	free(ktbuf);
	free(stbuf);
	return ret;
}

/* keytable_lookup: the keys for a From domain. */
size_t
keytable_lookup(const struct keytable *kt, const char *domain, const struct key **keys_r,
    size_t max)
{
	const char *win = NULL;
	size_t i, n = 0, dlen = strlen(domain);

	/* Exact patterns first; DNS names compare without case (RFC 4343). */
	for (i = 0; i < kt->nent; i++) {
		if (kt->ent[i].suffix != NULL || strcasecmp(kt->ent[i].pattern, domain) != 0)
			continue;
		win = kt->ent[i].pattern;
		break;
	}
	/*
	 * Then the first wildcard in file order: "*.example.edu" matches a
	 * domain that ends in ".example.edu" with at least one character
	 * before it, so never example.edu itself.
	 */
	for (i = 0; win == NULL && i < kt->nent; i++) {
		const char *s = kt->ent[i].suffix;
		size_t slen;

		if (s == NULL || (slen = strlen(s)) >= dlen)
			continue;
		if (strcasecmp(domain + dlen - slen, s) == 0 && domain[dlen - slen - 1] != '.')
			win = kt->ent[i].pattern;
	}
	if (win == NULL)
		return 0;
	for (i = 0; i < kt->nent && n < max; i++)
		if (strcmp(kt->ent[i].pattern, win) == 0)
			keys_r[n++] = kt->ent[i].key;
	return n;
}

/* keytable_nkeys: number of distinct keys. */
size_t
keytable_nkeys(const struct keytable *kt)
{
	return kt->nkeys;
}

/* keytable_key: the i-th distinct key. */
const struct key *
keytable_key(const struct keytable *kt, size_t i)
{
	return i < kt->nkeys ? kt->keys[i] : NULL;
}
