/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * dns.h -- the DNS pieces every part of relaysign reads TXT records with.
 *
 * The daemon's bounded, cached resolver for SPF and DMARC lives in spf.c
 * (a libspf2 DNS layer); what is shared lives here: the one reader of TXT
 * RDATA, and a plain TXT query through the system's resolver for the
 * command line (-t, the key check).
 */
#ifndef RELAYSIGN_DNS_H
#define RELAYSIGN_DNS_H

#include <stddef.h>

/*
 * dns_txt_join: the character-strings of one TXT RDATA rdata[0..rdlen)
 * (RFC 1035 3.3.14) joined with no separator into buf, which must hold
 * rdlen bytes (RFC 7208 3.3, RFC 6376 3.6.2.2: the strings of one record
 * are concatenated before use).  Not NUL-terminated.  Returns the length,
 * or -1 when a length byte runs past the RDATA or a string holds a NUL (no
 * SPF record or DKIM tag-list may: a NUL would make a shorter record).
 */
long dns_txt_join(const unsigned char *rdata, size_t rdlen, char *buf);

/*
 * dns_res_txt: the TXT records at name through the resolver of
 * /etc/resolv.conf (res_nquery(3), EDNS0, TCP when truncated), each joined
 * with dns_txt_join, at most max_records of them, none longer than
 * max_len bytes.  Blocking, with glibc's timeouts: for the command line,
 * never for a message.  The records go into *txts_r as a strv (util.h);
 * no record (NXDOMAIN, no TXT at the name) is 0 with *txts_r NULL.
 * Returns 0, or -1 with the reason in err (SERVFAIL, timeout, refused, a
 * malformed answer, a record longer than max_len, out of memory).
 */
int dns_res_txt(const char *name, size_t max_records, size_t max_len, char ***txts_r,
    char *err, size_t errlen);

#endif
