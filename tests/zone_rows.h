/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * zone_rows.h -- a libspf2 in-memory DNS zone from a table, for the tests
 * that must never ask the machine's resolver (tests/offline.sh checks
 * they do not): tests/pipeline_fixture.h, t_spf.c, t_dmarc.c.
 */
#ifndef RELAYSIGN_ZONE_ROWS_H
#define RELAYSIGN_ZONE_ROWS_H

#include <arpa/nameser.h>
#include <netdb.h>
#include <stddef.h>
#include <spf2/spf.h>
#include <spf2/spf_dns_zone.h>

/* One answer: name, type, NETDB_SUCCESS or the error (TRY_AGAIN...), data. */
struct zone_row {
	const char *name;
	ns_type type;
	SPF_dns_stat_t herrno;
	const char *data;
};

/* zone_add_rows: the n rows into zone; the first row refused, or n. */
static inline size_t
zone_add_rows(SPF_dns_server_t *zone, const struct zone_row *rows, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (SPF_dns_zone_add_str(zone, rows[i].name, rows[i].type, rows[i].herrno,
		                         rows[i].data) != SPF_E_SUCCESS)
			return i;
	return n;
}

#endif
