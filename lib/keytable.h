/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * keytable.h -- which keys sign which From domains.
 *
 * Two ways to fill it, both explicit: the Domain/Selector/KeyFile options
 * (every listed domain is signed with the listed keys, d= that domain), or
 * an OpenDKIM-style KeyTable plus SigningTable.  A pattern matches a domain
 * exactly ("library.example.edu", "*@library.example.edu") or, only where
 * the postmaster writes one, a wildcard for subdomains ("*.example.edu",
 * which does not match example.edu itself).  A bare "*" or "*@*" is refused:
 * relaysign is never a signing oracle for arbitrary domains.
 *
 * Exact patterns win over wildcards; among wildcards, the first in file
 * order that matches wins.  Every SigningTable line with the winning
 * pattern contributes a key, so one domain can have an RSA and an Ed25519
 * key and be signed twice.
 */
#ifndef RELAYSIGN_KEYTABLE_H
#define RELAYSIGN_KEYTABLE_H

#include <stddef.h>

#include "key.h"

/* Most keys one domain may be signed with. */
#define KEYTABLE_MAX_PER_DOMAIN 4

struct keytable;

/* keytable_new: returns an empty table, or NULL when out of memory. */
struct keytable *keytable_new(void);
/* keytable_free: frees the table and every key in it; NULL is a no-op. */
void keytable_free(struct keytable *kt);

/*
 * keytable_add: signs domains matching pattern with key.  The table takes
 * over key (also on error).  Returns 0, or -1 with the reason in err.
 */
int keytable_add(struct keytable *kt, const char *pattern, struct key *key,
    char *err, size_t errlen);

/*
 * keytable_file_path: a KeyTable or SigningTable value without OpenDKIM's
 * "refile:" or "file:" data-set prefix, which relaysign accepts and
 * ignores.
 */
const char *keytable_file_path(const char *path);

/*
 * keytable_load_files: reads an OpenDKIM-style KeyTable ("name
 * domain:selector:/path/to/key" lines) and SigningTable ("pattern name"
 * lines), "#" comments and blank lines allowed, loading each key once with
 * key_load.  An optional "refile:" or "file:" prefix on either path is
 * accepted and means the same thing (patterns are never regular
 * expressions).  Errors name "file:line: reason".  See keytable_load_text
 * for the syntax.  Returns 0, or -1 with the reason in err.
 */
int keytable_load_files(struct keytable *kt, const char *keytable_path,
    const char *signingtable_path, char *err, size_t errlen);

/*
 * A keytable_loader makes the key for one KeyTable line: key_load(file,
 * domain, selector, ...) for keytable_load_files; tests and the fuzzer
 * pass their own.  arg is passed through.  Returns 0 and the key in key_r
 * (the table takes it over), or -1 with the reason in err.
 */
typedef int keytable_loader(void *arg, const char *file, const char *domain,
    const char *selector, struct key **key_r, char *err, size_t errlen);

/*
 * keytable_load_text: keytable_load_files on text already in memory:
 * kt_text[0..kt_len) is the KeyTable, named kt_name in messages, and
 * st_text[0..st_len) the SigningTable, named st_name.  Reads no file
 * itself; each KeyTable line that a SigningTable line uses is loaded once
 * with load(arg, ...), unused lines are only checked.  Lines are at most
 * 4096 bytes, "#" starts a comment anywhere, NUL bytes are refused.
 * Patterns: "example.edu" and "*@example.edu" (the same), "*.example.edu"
 * (subdomains only; at least two labels after "*."); "*", "*@*", "*.com",
 * address patterns and any other '*' are refused, and so is the "%"
 * domain of OpenDKIM's KeyTable.  Errors say "file:line: reason" (a key
 * that fails to load names its KeyTable line).  On error kt is unchanged.
 * Returns 0, or -1 with the reason in err.
 */
int keytable_load_text(struct keytable *kt, const char *kt_name, const char *kt_text,
    size_t kt_len, const char *st_name, const char *st_text, size_t st_len,
    keytable_loader *load, void *arg, char *err, size_t errlen);

/*
 * keytable_lookup: the keys for a From domain (A-labels; ASCII case does not
 * matter, RFC 4343; no trailing dot).  Fills
 * up to max entries of keys_r (pointers into the table, valid while the
 * table lives) and returns how many; 0 when the domain is not signed.
 */
size_t keytable_lookup(const struct keytable *kt, const char *domain,
    const struct key **keys_r, size_t max);

/* keytable_nkeys: number of distinct keys loaded. */
size_t keytable_nkeys(const struct keytable *kt);
/* keytable_key: the i-th distinct key (0 <= i < keytable_nkeys). */
const struct key *keytable_key(const struct keytable *kt, size_t i);

#endif
