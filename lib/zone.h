/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * zone.h -- DNS answers from a zone file, for relaysign -x offline: an RFC
 * 1035 master file, parsed by ldns, loaded into a libspf2 in-memory zone
 * (SPF_dns_zone_new) that lib/spf.c's checks and TXT look-ups ask instead
 * of the resolver (struct dns_options.test_dns).
 */
#ifndef RELAYSIGN_ZONE_H
#define RELAYSIGN_ZONE_H

#include <stddef.h>

struct SPF_dns_server_struct;

/*
 * zone_load: the records of the master file at path that SPF and DMARC
 * ask for (TXT, A, AAAA, MX, PTR; SOA, NS and other types are skipped)
 * as a libspf2 zone; a name the file does not hold answers NXDOMAIN.
 * Relative names are relative to $ORIGIN, the root when the file sets
 * none.  Returns the zone (SPF_dns_free frees it), or NULL with the
 * reason, "path:line: ...", in err.
 */
struct SPF_dns_server_struct *zone_load(const char *path, char *err, size_t errlen);

#endif
