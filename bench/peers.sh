#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# bench/peers.sh -- relaysign beside the other signers a postmaster could
# pick, and what a slow resolver costs with and without the DNS cache.
#
#   bash bench/peers.sh [--quick]          (make bench runs it)
#
# 1. Peers: relaysign, OpenDKIM, dkimpy-milter and rspamd (its proxy in
#    milter mode, dkim_signing only) sign the same 2 KB notice with the same
#    RSA-2048 key, relaxed/relaxed, driven by tools/mfload (the milter
#    protocol as Postfix speaks it): one TCP connection (ms per message =
#    wall time / messages) and 8 connections (CPU per 1,000 signed, the
#    filter's processes' user+sys from /proc).  Every counted message must
#    come back with one DKIM-Signature (mfload -e 1), and the first is
#    checked by dkimpy against the private DNS.  A peer that is not installed
#    or will not start is reported as such, never guessed.
# 2. DNS: relaysign, one connection, with the test DNS server answering at
#    once and after 2 ms (dnsserver.py --delay 2: a resolver a round trip
#    away), with the DNS cache (the default) and without (DNSCacheSize 0).
#    relaysign checks SPF and DMARC for every trusted message; the others
#    above do no DNS at all for signing.
# Everything runs in private namespaces on loopback (tools/lib.sh).  Prints
# a Markdown report and writes it to bench/peers-latest.md in the build
# directory.  Needs root and a relaysign built without sanitizers.
set -u
# shellcheck disable=SC2034  # read by tools/lib.sh
RS_NAME=bench-peers
# shellcheck source=tools/lib.sh
. "${top_srcdir:-$(dirname "$0")/..}/tools/lib.sh"
rs_bench_args bench/peers.sh "$@"
RELAYSIGN=${RELAYSIGN:-$top_builddir/relaysign}
MFLOAD=${MFLOAD:-$top_builddir/tools/mfload}
[ -x "$MFLOAD" ] || rs_die "mfload not built: $MFLOAD (make tools/mfload)"
[ -x "$RELAYSIGN" ] || rs_die "relaysign not built: $RELAYSIGN"
[ "$(id -u)" = 0 ] || rs_die "needs root (private namespaces)"
rs_sandbox "$0" "$@"
rs_init bench-peers
T=$RS_TMP
D=library.example.edu
N1=$([ "$QUICK" = 1 ] && echo 200 || echo 1000)     # one connection
N8=$([ "$QUICK" = 1 ] && echo 800 || echo 4000)     # 8 connections
OUT=$top_builddir/bench/peers-latest.md
mkdir -p "$top_builddir/bench"

rs_keygen_rsa "$T/rsa.key" 2048 || rs_die "openssl genpkey failed"
chmod 0644 "$T/rsa.key"	# rspamd and dkimpy-milter run as other users
cp "$T/rsa.key" "$T/rsa-rs.key" && chmod 0600 "$T/rsa-rs.key"
zone_args=(--authority example.edu --authority exlibrisgroup.com
	--rr "rsa2026._domainkey.$D TXT $(rs_dkim_txt_rsa "$T/rsa.key")"
	--rr "exlibrisgroup.com TXT v=spf1 ip4:192.0.2.0/24 -all"
	--rr "_dmarc.$D TXT v=DMARC1; p=reject")
start_dns "${zone_args[@]}" || rs_die "cannot start the DNS server"

declare -A R1 R1N P50N R8 P50 NOTE  # ms/msg at one connection (as Postfix; without Nagle), CPU/1k at 8, p50s, remarks
# measure NAME PORT PIDS...: the two runs against inet:PORT@127.0.0.1.
measure() {
	local name=$1 port=$2 out1 out1n out8 pids=() p
	shift 2
	for p in "$@"; do pids+=(-p "$p"); done
	mkdir -p "$T/dump.$name"
	out1=$("$MFLOAD" -c 1 -n "$N1" -e 1 -d "$T/dump.$name" -k 1 -L "$name-1" \
		"inet:$port@127.0.0.1" 2>&1 | grep '^RESULT')
	# The same one connection from a client that cannot stall (TCP_NODELAY,
	# a flush before each read only): the filter's own speed.
	"$MFLOAD" -c 1 -n "$N1" -e 1 -N -w reply -L "$name-1n" \
		"inet:$port@127.0.0.1" >"$T/stages.$name" 2>&1
	out1n=$(grep '^RESULT' "$T/stages.$name")
	grep -v '^RESULT' "$T/stages.$name" >>"$T/stages"	# the waits by stage, for the log
	out8=$("$MFLOAD" -c 8 -n "$N8" -e 1 "${pids[@]}" -L "$name-8" \
		"inet:$port@127.0.0.1" 2>&1 | grep '^RESULT')
	echo "$out1" >>"$T/results"
	echo "$out1n" >>"$T/results"
	echo "$out8" >>"$T/results"
	if ! grep -q ' fail=0 sigs_bad=0 ' <<<"$out1" || ! grep -q ' fail=0 sigs_bad=0 ' <<<"$out1n" ||
		! grep -q ' fail=0 sigs_bad=0 ' <<<"$out8"; then
		NOTE[$name]="not every message signed: ${out1:-no result} / ${out1n:-no result} / ${out8:-no result}"
		return 1
	fi
	if ! "$RS_PY" "$top_srcdir/tests/e2e/verify.py" --dns 127.0.0.1:53 \
		"$(ls "$T/dump.$name"/* | head -1)" >"$T/verify.$name" 2>&1; then
		NOTE[$name]="its signature does not verify: $(head -1 "$T/verify.$name")"
		return 1
	fi
	R1[$name]=$(awk -v s="$(sed -n 's/.* secs=\([0-9.]*\).*/\1/p' <<<"$out1")" -v n="$N1" \
		'BEGIN { printf "%.3f", s * 1000 / n }')
	R1N[$name]=$(awk -v s="$(sed -n 's/.* secs=\([0-9.]*\).*/\1/p' <<<"$out1n")" -v n="$N1" \
		'BEGIN { printf "%.3f", s * 1000 / n }')
	P50N[$name]="$(sed -n 's/.* p50_ms=\([0-9.]*\).*/\1/p' <<<"$out1n") ms, $(sed -n 's/.* stalled_msgs=\([0-9]*\).*/\1/p' <<<"$out1n") stalled"
	R8[$name]=$(sed -n 's/.* cpu_per_1k=\([0-9.-]*\).*/\1/p' <<<"$out8")
	P50[$name]="$(sed -n 's/.* p50_ms=\([0-9.]*\).*/\1/p' <<<"$out1") ms, $(sed -n 's/.* stalled_msgs=\([0-9]*\).*/\1/p' <<<"$out1") stalled"
	NOTE[$name]="ok"
}

# --- 1. peers ----------------------------------------------------------------------
cat >"$T/rs.conf" <<EOF
Socket              inet:8891@127.0.0.1
AuthservID          relay.test
RelayNetworks       192.0.2.0/24
Domain              $D
Selector            rsa2026
KeyFile             $T/rsa-rs.key
SignatureAlgorithm  rsa-sha256
Canonicalization    relaxed/relaxed
Background          no
Syslog              no
EOF
start_bg relaysign 8891 "$RELAYSIGN" -f -c "$T/rs.conf" || rs_die "relaysign did not start"
measure relaysign 8891 "$(rs_pid_of relaysign)"
stop_bg relaysign

if command -v opendkim >/dev/null; then
	printf 'rsa2026 %s:rsa2026:%s\n' "$D" "$T/rsa.key" >"$T/od.keytable"
	printf '*@%s rsa2026\n' "$D" >"$T/od.signingtable"
	printf '127.0.0.1\n192.0.2.0/24\n' >"$T/od.internal"
	cat >"$T/od.conf" <<-EOF
	Syslog no
	Background no
	Mode s
	Socket inet:8893@127.0.0.1
	KeyTable file:$T/od.keytable
	SigningTable refile:$T/od.signingtable
	InternalHosts $T/od.internal
	SignatureAlgorithm rsa-sha256
	Canonicalization relaxed/relaxed
	RequireSafeKeys no
	EOF
	if start_bg opendkim 8893 opendkim -f -x "$T/od.conf"; then
		measure opendkim 8893 "$(rs_pid_of opendkim)"
		stop_bg opendkim
	else NOTE[opendkim]="did not start"; fi
else NOTE[opendkim]="not installed"; fi

if command -v dkimpy-milter >/dev/null; then
	cat >"$T/dp.conf" <<-EOF
	Syslog no
	Socket inet:8894@127.0.0.1
	PidFile $T/dp.pid
	Mode s
	Domain $D
	Selector rsa2026
	KeyFile $T/rsa.key
	Canonicalization relaxed/relaxed
	InternalHosts 127.0.0.1,192.0.2.0/24
	EOF
	if start_bg dkimpy 8894 dkimpy-milter "$T/dp.conf"; then
		measure dkimpy-milter 8894 $(pgrep -f "dkimpy-milter $T/dp.conf" | tr '\n' ' ')
		stop_bg dkimpy
	else NOTE[dkimpy-milter]="did not start: $(tail -2 "$T/dkimpy.log" | tr '\n' ' ')"; fi
else NOTE[dkimpy-milter]="not installed"; fi

if command -v rspamd >/dev/null; then
	# The proxy in milter mode, self-scanning, with dkim_signing as the one
	# module configured: the dkim C module it needs (filters = "dkim"; it
	# also checks incoming signatures, and the notices carry none) and the
	# Lua plugins' directory, but not the stock rules or the other modules'
	# settings (this file replaces /etc/rspamd/rspamd.conf).
	mkdir -p "$T/rspamd/db" "$T/rspamd/run"
	chown -R _rspamd "$T/rspamd" 2>/dev/null
	cat >"$T/rspamd/rspamd.conf" <<-EOF
	modules { path = "\$PLUGINSDIR"; }
	options {
	  pidfile = "$T/rspamd/run/rspamd.pid";
	  dbdir = "$T/rspamd/db";
	  filters = "dkim";
	  dns { nameserver = ["127.0.0.1:53"]; }
	}
	logging { type = "file"; filename = "$T/rspamd/rspamd.log"; level = "error"; }
	worker "rspamd_proxy" {
	  bind_socket = "127.0.0.1:8895";
	  milter = yes;
	  timeout = 120s;
	  count = 1;
	  upstream "local" { default = yes; self_scan = yes; }
	}
	dkim_signing {
	  allow_username_mismatch = true;
	  allow_hdrfrom_mismatch = true;
	  sign_local = true;
	  sign_inbound = true;
	  use_domain = "header";
	  use_esld = false;
	  domain { $D { path = "$T/rsa.key"; selector = "rsa2026"; } }
	}
	EOF
	if start_bg rspamd 8895 rspamd -f -u _rspamd -g _rspamd -c "$T/rspamd/rspamd.conf"; then
		# The main process and its workers (their titles are rewritten).
		rmain=$(rs_pid_of rspamd)
		measure rspamd 8895 "$rmain" $(pgrep -P "$rmain" | tr '\n' ' ') ||
			NOTE[rspamd]="${NOTE[rspamd]}; its log: $(grep -m2 -i 'error\|warn' "$T/rspamd/rspamd.log" | cut -c1-200 | tr '\n' ' ')"
		stop_bg rspamd
	else NOTE[rspamd]="did not start: $(tail -3 "$T/rspamd.log" "$T/rspamd/rspamd.log" 2>/dev/null | tr '\n' ' ' | cut -c1-300)"; fi
else NOTE[rspamd]="not installed"; fi

# --- 2. DNS a round trip away ---------------------------------------------------------
declare -A DNS1 DNSQ
dns_run() {      # dns_run LABEL DELAY-MS CACHE-SIZE
	local label=$1 delay=$2 size=$3 out q0
	stop_bg dns
	start_dns "${zone_args[@]}" --delay "$delay" || rs_die "cannot restart the DNS server"
	{ cat "$T/rs.conf"; echo "DMARCLookup yes"; echo "DNSCacheSize $size"; } >"$T/rs-dns.conf"
	start_bg rs-dns 8891 "$RELAYSIGN" -f -c "$T/rs-dns.conf" || rs_die "relaysign did not start"
	q0=$(wc -l <"$T/dns-queries.log")
	out=$("$MFLOAD" -c 1 -n "$N1" -e 1 -L "$label" inet:8891@127.0.0.1 2>&1 | grep '^RESULT')
	DNSQ[$label]=$(($(wc -l <"$T/dns-queries.log") - q0))
	echo "$out" >>"$T/results"
	stop_bg rs-dns
	DNS1[$label]=$(awk -v s="$(sed -n 's/.* secs=\([0-9.]*\).*/\1/p' <<<"$out")" -v n="$N1" \
		'BEGIN { printf "%.3f", s * 1000 / n }')
	grep -q ' fail=0 sigs_bad=0 ' <<<"$out" || DNS1[$label]="FAIL(${out:-no result})"
}
dns_run "0ms,cache" 0 4096
dns_run "0ms,nocache" 0 0
dns_run "2ms,cache" 2 4096
dns_run "2ms,nocache" 2 0

# --- report -------------------------------------------------------------------------------
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a == "" || b == "" || b + 0 == 0) print "-"; else printf "%.2f", a / b }'; }
{
	echo "# relaysign and its peers (bench/peers.sh)"
	echo
	echo "Made on $(date -u '+%Y-%m-%d %H:%M UTC'), $N1 messages on one connection, $N8 on 8;"
	echo "load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)."
	echo
	echo "| filter | ms per message, one TCP connection, as Postfix writes | its p50, messages with a wait >= 30 ms | the same, client with TCP_NODELAY | its p50, waits >= 30 ms | CPU per 1,000 signed, s (8 connections) | check |"
	echo "|---|---:|---|---:|---|---:|---|"
	for f in relaysign opendkim dkimpy-milter rspamd; do
		echo "| $f | ${R1[$f]:--} | ${P50[$f]:--} | ${R1N[$f]:--} | ${P50N[$f]:--} | ${R8[$f]:--} | ${NOTE[$f]:-} |"
	done
	echo
	echo "| ratio | value | target |"
	echo "|---|---:|---|"
	echo "| relaysign ÷ rspamd, ms per message (one connection, as Postfix writes) | $(ratio "${R1[relaysign]:-}" "${R1[rspamd]:-}") | ≤ 0.8 |"
	echo "| relaysign ÷ rspamd, ms per message (one connection, client with TCP_NODELAY) | $(ratio "${R1N[relaysign]:-}" "${R1N[rspamd]:-}") | ≤ 0.8 |"
	echo "| relaysign ÷ rspamd, CPU per signed | $(ratio "${R8[relaysign]:-}" "${R8[rspamd]:-}") | ≤ 0.7 |"
	echo "| relaysign ÷ OpenDKIM, CPU per signed | $(ratio "${R8[relaysign]:-}" "${R8[opendkim]:-}") | ≤ 0.3 |"
	echo "| relaysign ÷ dkimpy-milter, CPU per signed | $(ratio "${R8[relaysign]:-}" "${R8[dkimpy-milter]:-}") | |"
	echo
	echo "relaysign, one connection, SPF and DMARC checked for every message (ms per message):"
	echo
	echo "| DNS answers | with the DNS cache | DNS queries | DNSCacheSize 0 | DNS queries |"
	echo "|---|---:|---:|---:|---:|"
	echo "| at once | ${DNS1[0ms,cache]} | ${DNSQ[0ms,cache]} | ${DNS1[0ms,nocache]} | ${DNSQ[0ms,nocache]} |"
	echo "| after 2 ms | ${DNS1[2ms,cache]} | ${DNSQ[2ms,cache]} | ${DNS1[2ms,nocache]} | ${DNSQ[2ms,nocache]} |"
	echo
	echo "With the cache, 2 ms later answers cost $(awk -v a="${DNS1[2ms,cache]}" -v b="${DNS1[0ms,cache]}" 'BEGIN { printf "%+.3f", a - b }') ms a message (target: within 0.3 ms)."
} | tee "$OUT"
cat "$T/results" "$T/stages" >"${OUT%.md}.log" 2>/dev/null
