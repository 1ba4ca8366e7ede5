#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# tests/e2e/metrics.sh -- MetricsSocket, scraped by a real Prometheus (TAP).
#
# relaysign with MetricsSocket inet:9464@127.0.0.1 behind a private Postfix;
# Debian's prometheus, in the same private namespace, scrapes it every
# second (contrib/prometheus-scrape.yml's job, contrib/relaysign.rules.yml
# loaded).  Messages of each kind go through Postfix (signed by network and
# by login, tagged no-key, untrusted and bad-from, untouched, a forged
# result removed); then a good and a failed reload (an unreadable key),
# then one more signed message.  Through Prometheus' HTTP API the test
# checks that every counter says what was sent, that the counters went on
# across the reload (the start time did not change), the reload outcomes,
# the DNS histograms and the build information, and that Prometheus calls
# the target up.  Then the listener's bounds: only GET/HEAD of /metrics;
# ten idle connections hold no message up and expire; a busy MetricsSocket
# is a clear start-up error; a unix MetricsSocket answers too.  promtool
# checks the contrib files.
#
# Environment: top_srcdir, top_builddir, RELAYSIGN, RS_KEEP=1.  Skipped only
# when not root, relaysign is not built, or prometheus is not installed
# (unless RELAYSIGN_REQUIRE_ALL=1).
set -u

# shellcheck source=tools/lib.sh
. "${top_srcdir:-$(dirname "$0")/../..}/tools/lib.sh" --with-extra
if [ "${RELAYSIGN_REQUIRE_ALL:-0}" != 1 ] && ! command -v prometheus >/dev/null; then
	tap_skip_all "prometheus not installed (apt-get install prometheus; tools/setup-debian.sh does)"
fi
rx_postfix_scenario metrics "prometheus promtool" "$@"
MPORT=9464
PPORT=9090

tap_plan 30

rx_setup_keys_dns || rs_die "cannot start the DNS server"
conf_lines=("Socket inet:8891@127.0.0.1" "MetricsSocket inet:$MPORT@127.0.0.1"
	"RelayNetworks 192.0.2.0/24" "RelayAuthUsers alma" "DMARCLookup yes")
rx_write_conf "$T/relaysign.conf" "${conf_lines[@]}"
rx_start_milter relaysign "$T/relaysign.conf" || { diag_log "$LOG" 20; rs_die "relaysign did not start"; }
start_sink "$T/sink" || rs_die "cannot start smtp-sink"
start_postfix inet:127.0.0.1:8891 || rs_die "cannot start the private Postfix"

# Prometheus: contrib's job and rules, scraping every second.
mkdir -p "$T/prom"
cp "$top_srcdir/contrib/relaysign.rules.yml" "$T/prom/"
sed -e 's/scrape_interval: 30s/scrape_interval: 1s/' \
	-e "s/127.0.0.1:9464/127.0.0.1:$MPORT/" \
	"$top_srcdir/contrib/prometheus-scrape.yml" >"$T/prom/prometheus.yml"
start_bg prometheus "$PPORT" prometheus --config.file="$T/prom/prometheus.yml" \
	--storage.tsdb.path="$T/prom/data" --web.listen-address="127.0.0.1:$PPORT" \
	--log.level=warn || rs_die "prometheus did not start"

# prom QUERY: the value of a PromQL query (one sample; "none" if no sample).
prom() {
	"$RS_PY" - "$PPORT" "$1" <<-'EOF'
	import json, sys, urllib.parse, urllib.request
	port, q = sys.argv[1], sys.argv[2]
	u = "http://127.0.0.1:%s/api/v1/query?%s" % (port, urllib.parse.urlencode({"query": q}))
	r = json.load(urllib.request.urlopen(u, timeout=5))["data"]["result"]
	print(r[0]["value"][1] if r else "none")
	EOF
}
# prom_wait QUERY WANT [SECS]: until the query's value is WANT (Prometheus
# scrapes every second); prints the last value seen.
prom_wait() {
	local q=$1 want=$2 secs=${3:-20} i v=""
	for ((i = 0; i < secs * 2; i++)); do
		v=$(prom "$q" 2>/dev/null)
		[ "$v" = "$want" ] && { echo "$v"; return 0; }
		sleep 0.5
	done
	echo "$v"
	return 1
}
# tap_prom DESC QUERY WANT: one TAP line for a query's value.
tap_prom() {
	local v
	if v=$(prom_wait "$2" "$3"); then
		tap_ok "$1: $2 = $3"
	else
		tap_not_ok "$1: $2 = ${v:-?}, want $3"
	fi
}

# send NAME ADDR LOGIN FROM [EXTRA-FIELD]: one message through Postfix.
N=0
send() {
	local name=$1 addr=$2 login=$3 from=$4 extra=${5:-} m
	N=$((N + 1))
	m=$T/m.$N
	{
		[ -n "$extra" ] && printf '%s\r\n' "$extra"
		printf 'From: %s\r\nTo: patron@example.net\r\nSubject: %s\r\n' "$from" "$name"
		printf 'Message-ID: <metrics.%s.%s@vendor.test>\r\n\r\nYour loan is due.\r\n' "$N" "$$"
	} >"$m"
	RX_XLOGIN=$([ "$login" != - ] && echo "$login") rx_send_raw "$addr" "$m" ||
		rs_log "message $N ($name) not accepted: $RX_REPLY"
}

v=$(prom_wait 'up{job="relaysign"}' 1) && tap_ok "Prometheus scrapes relaysign: up = 1" ||
	tap_not_ok "Prometheus scrapes relaysign: up = ${v:-?}"
start_time=$(prom relaysign_process_start_time_seconds)

for i in 1 2 3; do send signed-net 192.0.2.10 - "Library <library@$D>"; done
for i in 1 2; do send signed-auth 203.0.113.7 alma "Library <library@$D>"; done
for i in 1 2; do send no-key 192.0.2.10 - "Someone <x@other.example.edu>"; done
send untrusted-keyed 203.0.113.7 - "Library <library@$D>"
for i in 1 2; do send stranger 203.0.113.7 - "Someone <x@evil.test>"; done
send bad-from 192.0.2.10 - "a@$D, b@$D"
send forged 192.0.2.10 - "Library <library@$D>" "Authentication-Results: $RX_AUTHSERV; dkim=pass"
wait_queue_empty 30 >/dev/null 2>&1

tap_prom "signed by network or login" 'sum(relaysign_messages_total{action="signed"})' 5
tap_prom "tagged no-key" 'relaysign_messages_total{action="tagged",reason="no-key"}' 2
tap_prom "tagged untrusted (From a keyed domain)" 'relaysign_messages_total{action="tagged",reason="untrusted"}' 1
tap_prom "accepted untouched" 'relaysign_messages_total{action="accept",reason="untrusted"}' 2
tap_prom "tagged bad-from" 'relaysign_messages_total{action="tagged",reason="bad-from"}' 1
tap_prom "a forged result: already-handled" 'relaysign_messages_total{action="tagged",reason="already-handled"}' 1
tap_prom "forged results removed" 'relaysign_forged_results_removed_total' 1
tap_prom "RSA signatures by domain" "relaysign_signatures_total{algorithm=\"rsa-sha256\",domain=\"$D\"}" 5
tap_prom "Ed25519 signatures by domain" "relaysign_signatures_total{algorithm=\"ed25519-sha256\",domain=\"$D\"}" 5
tap_prom "trusted by network" 'relaysign_relay_trust_total{kind="network"}' 7
tap_prom "trusted by login" 'relaysign_relay_trust_total{kind="auth"}' 2
tap_prom "not trusted" 'relaysign_relay_trust_total{kind="none"}' 3
tap_prom "SPF pass (the vendor's record holds 192.0.2.0/24)" 'relaysign_spf_results_total{result="pass"}' 7
tap_prom "SPF fail (203.0.113.7 is not in it)" 'relaysign_spf_results_total{result="fail"}' 2
tap_prom "SPF checks timed" 'relaysign_dns_lookup_duration_seconds_count{kind="spf"}' 9
tap_prom "DMARC look-ups timed" 'relaysign_dns_lookup_duration_seconds_count{kind="dmarc"}' 8
tap_prom "build information" 'count(relaysign_build_info{version!="",libopendkim!="",openssl!=""})' 1

# A good reload, a failed one (a key nobody may read), then the good file again.
# log_wait TEXT: until relaysign's log holds TEXT (10 s).
log_wait() {
	local i
	for ((i = 0; i < 100; i++)); do
		grep -qF -- "$1" "$LOG" && return 0
		sleep 0.1
	done
	rs_log "no \"$1\" in relaysign's log"
	return 1
}
pid=$(rs_pid_of relaysign)
kill -HUP "$pid"
log_wait "reloaded $T/relaysign.conf"
chmod 0644 "$T/keys/rsa2026.key"
kill -HUP "$pid"
log_wait "reload failed"
chmod 0600 "$T/keys/rsa2026.key"
send signed-after 192.0.2.10 - "Library <library@$D>"
wait_queue_empty 30 >/dev/null 2>&1
tap_prom "reloads that succeeded" 'relaysign_config_reloads_total{outcome="success"}' 1
tap_prom "reloads that failed" 'relaysign_config_reloads_total{outcome="failure"}' 1
tap_prom "... because of a key" 'relaysign_key_load_failures_total' 1
tap_prom "counters go on across SIGHUP" 'sum(relaysign_messages_total{action="signed"})' 6
if [ "$(prom relaysign_process_start_time_seconds)" = "$start_time" ]; then
	tap_ok "the process start time did not change: a reload is not a restart"
else
	tap_not_ok "the process start time changed across the reload"
fi

# --- the listener's bounds ------------------------------------------------------
http_status() {        # http_status METHOD PATH: the HTTP status relaysign answers
	"$RS_PY" - "$MPORT" "$1" "$2" <<-'EOF'
	import http.client, sys
	c = http.client.HTTPConnection("127.0.0.1", int(sys.argv[1]), timeout=5)
	c.request(sys.argv[2], sys.argv[3], body=b"x" if sys.argv[2] == "POST" else None)
	print(c.getresponse().status)
	EOF
}
s1=$(http_status POST /metrics) s2=$(http_status GET /) s3=$(http_status HEAD /metrics)
if [ "$s1" = 405 ] && [ "$s2" = 404 ] && [ "$s3" = 200 ]; then
	tap_ok "POST /metrics 405, GET / 404, HEAD /metrics 200: read-only, one path"
else
	tap_not_ok "POST /metrics $s1, GET / $s2, HEAD /metrics $s3 (want 405, 404, 200)"
fi
# Ten idle connections (more than the 8 allowed) while a message goes through.
idle_test() {
	"$RS_PY" - "$MPORT" <<-'EOF' &
	import socket, sys, time
	s = [socket.create_connection(("127.0.0.1", int(sys.argv[1]))) for _ in range(10)]
	time.sleep(8)
	EOF
	local idle=$! t0 t1 f
	sleep 0.5
	t0=$(date +%s%N)
	send during-idle 192.0.2.10 - "Library <library@$D>"
	f=$(wait_delivered "Subject: during-idle" 10) || { kill "$idle"; echo "not delivered"; return 1; }
	t1=$(date +%s%N)
	[ "$(rx_result "$f")" = signed ] || { kill "$idle"; echo "not signed: $(rx_result "$f")"; return 1; }
	# After METRICS_TIMEOUT (5 s) the idle ones are closed: a scrape works again.
	sleep 6
	[ "$(http_status GET /metrics)" = 200 ] || { kill "$idle"; echo "no scrape after the idle ones"; return 1; }
	kill "$idle" 2>/dev/null
	wait "$idle" 2>/dev/null
	echo "signed in $(((t1 - t0) / 1000000)) ms with 10 idle metrics connections"
}
out=$(idle_test)
if [ $? = 0 ]; then tap_ok "idle scrapers hold no mail up: $out; then they expire"; else tap_not_ok "idle scrapers: $out"; fi

# A busy MetricsSocket: the second relaysign says so and does not start.
rx_write_conf "$T/busy.conf" "Socket inet:8892@127.0.0.1" "MetricsSocket inet:$MPORT@127.0.0.1"
out=$("$RELAYSIGN" -f -c "$T/busy.conf" 2>&1)
rc=$?
if [ "$rc" = 1 ] && grep -q "MetricsSocket inet:$MPORT@127.0.0.1: cannot listen: Address already in use" <<<"$out"; then
	tap_ok "a busy MetricsSocket is a clear start-up error (exit 1)"
else
	tap_not_ok "a busy MetricsSocket: exit $rc: $out"
fi
# A unix MetricsSocket.
rx_write_conf "$T/unix.conf" "Socket inet:8893@127.0.0.1" "MetricsSocket unix:$T/metrics.sock"
start_bg unixmetrics 8893 "$RELAYSIGN" -f -c "$T/unix.conf"
unix_get() {
	"$RS_PY" - "$T/metrics.sock" <<-'EOF'
	import socket, sys
	s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1])
	s.sendall(b"GET /metrics HTTP/1.0\r\nHost: x\r\n\r\n")
	d = b""
	while True:
	    b = s.recv(65536)
	    if not b: break
	    d += b
	print("ok" if d.split(b" ", 2)[1:2] == [b"200"] and b"relaysign_build_info{" in d else d[:200])
	EOF
}
if [ "$(unix_get)" = ok ]; then tap_ok "a unix MetricsSocket serves /metrics"; else tap_not_ok "a unix MetricsSocket: $(unix_get)"; fi
stop_bg unixmetrics

if out=$(promtool check rules "$top_srcdir/contrib/relaysign.rules.yml" 2>&1) &&
	out2=$(promtool check config "$T/prom/prometheus.yml" 2>&1); then
	tap_ok "promtool accepts contrib/relaysign.rules.yml and the scrape job"
else
	tap_not_ok "promtool"
	tap_diag "$out" "${out2:-}"
fi
stop_postfix
rx_finish_milter "$LOG"
tap_done
