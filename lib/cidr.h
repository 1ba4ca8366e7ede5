/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * cidr.h -- sets of IPv4 and IPv6 networks, for RelayNetworks.
 *
 * Prefixes are parsed with inet_pton(3).  A prefix with bits set beyond its
 * length (192.0.2.1/24) is an error, not silently masked: the postmaster
 * meant something else.  A bare address is a host (/32 or /128).
 * An IPv4-mapped IPv6 client (::ffff:192.0.2.1) matches IPv4 entries.
 */
#ifndef RELAYSIGN_CIDR_H
#define RELAYSIGN_CIDR_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>

struct cidr_set;

/* cidr_set_new: returns an empty set, or NULL when out of memory. */
struct cidr_set *cidr_set_new(void);
/* cidr_set_free: cidr_set_free(NULL) is a no-op. */
void cidr_set_free(struct cidr_set *set);

/*
 * cidr_set_add: adds one prefix ("192.0.2.0/24", "2001:db8::/32",
 * "127.0.0.1", "[::1]/128").  Returns 0, or -1 with the reason in err.
 */
int cidr_set_add(struct cidr_set *set, const char *text, char *err, size_t errlen);

/*
 * cidr_set_wider: true if the set holds an IPv4 prefix shorter than v4_min
 * bits or an IPv6 one shorter than v6_min (IPv4-mapped prefixes count as
 * IPv4); the first such prefix is written to text_r ("0.0.0.0/0").
 */
bool cidr_set_wider(const struct cidr_set *set, unsigned v4_min, unsigned v6_min, char *text_r,
                    size_t len);
/* cidr_set_count: number of prefixes in the set. */
size_t cidr_set_count(const struct cidr_set *set);

/* cidr_set_match: true if addr (AF_INET or AF_INET6 sockaddr) is in the set. */
bool cidr_set_match(const struct cidr_set *set, const struct sockaddr *addr);

/* cidr_set_match_text: as cidr_set_match, for a textual address. */
bool cidr_set_match_text(const struct cidr_set *set, const char *addr);

#endif
