#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# tests/e2e/dnscache.sh -- the DNS cache (DNSCacheSize, DNSCacheMaxTTL)
# against a real DNS server, through a real Postfix (TAP).
#
# Notices from the relay 192.0.2.10 with different envelope domains, and
# the test DNS server's query log (tests/e2e/dnsserver.py --log), say:
#   - an SPF record (TTL 300) is asked once for three messages, and the
#     DMARC record of the From domain once too;
#   - a record with TTL 2 is asked again once 3 s have passed;
#   - DNSCacheMaxTTL 4 cuts a TTL of 300 to 4 s;
#   - NXDOMAIN is kept for the SOA MINIMUM of the zone (RFC 2308), and so is
#     "no data";
#   - SERVFAIL is never kept: asked for every message;
#   - every message got the same SPF result as the first of its kind (the
#     log's spf=), so the cache changes no result;
#   - with DNSCacheSize 0 every message asks again;
#   - a reload (SIGHUP) starts with an empty cache.
# relaysign exits cleanly, no sanitizer report.  (The SPF results with and
# without the cache, row by row: tests/e2e/spf.sh runs with the cache on by
# default and tests/e2e/spf-nocache.sh runs it with DNSCacheSize 0.)
#
# Environment: top_srcdir, top_builddir, RELAYSIGN, RS_KEEP=1.
set -u

# shellcheck source=tools/lib.sh
. "${top_srcdir:-$(dirname "$0")/../..}/tools/lib.sh" --with-extra
rx_postfix_scenario dnscache "" "$@"
QLOG=$T/dns-queries.log

tap_plan 13

cat >"$T/zone" <<EOF
\$ORIGIN test.
long.test.        300 IN SOA ns.long.test. hostmaster.long.test. 1 3600 600 86400 60
long.test.        300 IN TXT "v=spf1 ip4:192.0.2.0/24 -all"
short.test.       300 IN SOA ns.short.test. hostmaster.short.test. 1 3600 600 86400 60
short.test.       2   IN TXT "v=spf1 ip4:192.0.2.0/24 -all"
nodata.long.test. 300 IN A 192.0.2.99
example.edu.      300 IN SOA ns.example.edu. hostmaster.example.edu. 1 3600 600 86400 60
_dmarc.$D. 300 IN TXT "v=DMARC1; p=none"
EOF
RX_SPF="v=spf1 -all" rx_setup_keys_dns --zone "$T/zone" --authority long.test \
	--authority short.test --authority broken.test --servfail broken.test ||
	rs_die "cannot start the DNS server"
conf_lines=("Socket inet:8891@127.0.0.1" "RelayNetworks 192.0.2.0/24" "DMARCLookup yes"
	"SPFCacheTTL 0")
rx_write_conf "$T/relaysign.conf" "${conf_lines[@]}"
rx_start_milter relaysign "$T/relaysign.conf" || { diag_log "$LOG" 20; rs_die "relaysign did not start"; }
start_sink "$T/sink" || rs_die "cannot start smtp-sink"
start_postfix inet:127.0.0.1:8891 || rs_die "cannot start the private Postfix"

# asked NAME: how many queries for NAME (any type) the DNS server logged.
asked() { grep -c " $1\. " "$QLOG" 2>/dev/null || true; }
N=0
# send SENDER: one notice from 192.0.2.10 with MAIL FROM SENDER; prints the
# spf= of relaysign's log line for it.
send() {
	local m qid i
	N=$((N + 1))
	m=$T/m.$N
	printf 'From: Library <library@%s>\r\nTo: patron@example.net\r\nSubject: n%s\r\nMessage-ID: <dc.%s.%s@vendor.test>\r\n\r\nDue.\r\n' \
		"$D" "$N" "$N" "$$" >"$m"
	rx_send_raw 192.0.2.10 "$m" --from "$1" || { echo "not-accepted"; return; }
	qid=$RX_QID
	for ((i = 0; i < 50; i++)); do
		grep -q "$qid: relay=" "$LOG" && break
		sleep 0.1
	done
	sed -n "s/.*$qid: relay=.* spf=\([a-z]*\) .*/\1/p" "$LOG" | tail -1
}
# sends N SENDER: N notices; prints their spf= results, one word each.
sends() {
	local i out=""
	for ((i = 0; i < $1; i++)); do out="$out $(send "$2")"; done
	echo "${out# }"
}
# expect DESC NAME WANT-QUERIES RESULTS WANT-RESULTS
expect() {
	local got
	got=$(asked "$2")
	if [ "$got" = "$3" ] && [ "$4" = "$5" ]; then
		tap_ok "$1: $3 queries for $2, spf $4"
	else
		tap_not_ok "$1: $got queries for $2 (want $3), spf $4 (want $5)"
	fi
}

r=$(sends 3 alma@long.test)
expect "TTL 300: asked once for three messages" long.test 1 "$r" "pass pass pass"
d=$(asked _dmarc.$D)
if [ "$d" = 1 ]; then tap_ok "the DMARC record asked once for three messages"; else tap_not_ok "the DMARC record asked $d times for three messages"; fi

r=$(sends 2 alma@short.test)
expect "TTL 2: asked once for two messages in a row" short.test 1 "$r" "pass pass"
sleep 3
r=$(send alma@short.test)
expect "TTL 2: asked again 3 s later" short.test 2 "$r" pass

r=$(sends 2 alma@nx.long.test)
expect "NXDOMAIN: kept for the SOA minimum (60 s)" nx.long.test 1 "$r" "none none"
r=$(sends 2 alma@nodata.long.test)
expect "no data: kept for the SOA minimum" nodata.long.test 1 "$r" "none none"

r=$(sends 3 alma@broken.test)
expect "SERVFAIL: never kept" broken.test 3 "$r" "temperror temperror temperror"

# DNSCacheMaxTTL 4 cuts long.test's 300.  A reload: a new, empty cache.
rx_write_conf "$T/relaysign.conf" "${conf_lines[@]}" "DNSCacheMaxTTL 4"
kill -HUP "$(rs_pid_of relaysign)"
for ((i = 0; i < 50; i++)); do grep -q "reloaded" "$LOG" && break; sleep 0.1; done
r=$(send alma@long.test)
expect "after a reload: asked again (the cache starts empty)" long.test 2 "$r" pass
r=$(send alma@long.test)
expect "... and kept" long.test 2 "$r" pass
sleep 5
r=$(send alma@long.test)
expect "DNSCacheMaxTTL 4: asked again after 5 s despite TTL 300" long.test 3 "$r" pass

# DNSCacheSize 0: no cache at all.
rx_write_conf "$T/relaysign.conf" "${conf_lines[@]}" "DNSCacheSize 0"
kill -HUP "$(rs_pid_of relaysign)"
for ((i = 0; i < 50; i++)); do [ "$(grep -c reloaded "$LOG")" -ge 2 ] && break; sleep 0.1; done
r=$(sends 2 alma@long.test)
expect "DNSCacheSize 0: asked for every message" long.test 5 "$r" "pass pass"

stop_postfix
rx_finish_milter "$LOG"
tap_done
