#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# bench/run.sh -- relaysign beside OpenDKIM, in one run, on this machine.
#
#   bash bench/run.sh [--quick] [--keep]        (make bench runs it)
#
# Prints, and writes to $BENCH_OUT (default $top_builddir/bench/results-latest.md):
#   0. the machine and the package versions;
#   1. milter level: tools/mfload (a client that writes like Postfix) against
#      relaysign and against OpenDKIM, same keys, same messages: RSA-2048,
#      Ed25519 and both; 2 KB and 100 KB; 1, 8 and 32 connections over TCP,
#      and 32 over a unix socket: msg/s, p50/p99 MAIL..EOM latency, filter
#      CPU (user+sys from /proc/PID/stat) per 1,000 messages, and the
#      delayed-ACK stalls mfload saw (waits >= 30 ms, by stage);
#   2. through Postfix: smtp-source -> private Postfix -> smtp-sink, 20
#      sessions and 1 session, no filter vs relaysign vs OpenDKIM, TCP and
#      unix socket;
#   3. the ceiling: openssl speed rsa2048 ed25519, one process and -multi 2;
#   4. memory: peak RSS (VmHWM) of a fresh filter after one 1 KB message,
#      after one 50 MB message, and with 200 idle connections open;
#   and the targets of issue 5 as ratios from this run.
#
# "Both" algorithms: relaysign is one process signing twice; OpenDKIM signs
# one algorithm per instance, so it is two chained instances, and mfload
# (like Postfix with smtpd_milters = A, B) sends every message to both; the
# CPU figure is the sum of the two processes.
#
# Validity: every message mfload counted must have come back with one
# DKIM-Signature per algorithm (mfload -e), and the first $K messages of
# every run are verified with dkimpy (bench/dkimcheck.py, keys handed over
# without DNS).  Through Postfix, every delivered message is counted and the
# first $K verified.  Any miss prints FAIL in that row.
#
# Everything runs in private network+mount+pid namespaces (tools/lib.sh):
# traffic stays on a private loopback, and everything started is stopped at
# exit, even on ^C.  Needs root.  Full run ~12-15 min on 2 cores; --quick
# (~2 min) is a smoke test with fewer, shorter runs.
#
# Environment: RELAYSIGN (default $top_builddir/relaysign), MFLOAD (default
# $top_builddir/tools/mfload, else compiled into the temp dir), BENCH_OUT,
# RS_KEEP=1 (or --keep) keeps the temp dir with every log and dump.
set -u

# shellcheck disable=SC2034  # read by tools/lib.sh
RS_NAME=bench
# shellcheck source=tools/lib.sh
. "${top_srcdir:-$(dirname "$0")/..}/tools/lib.sh"
rs_bench_args bench/run.sh "$@"

RELAYSIGN=${RELAYSIGN:-$top_builddir/relaysign}
MFLOAD=${MFLOAD:-$top_builddir/tools/mfload}
BENCH_OUT=${BENCH_OUT:-$top_builddir/bench/results-latest.md}
export RELAYSIGN MFLOAD BENCH_OUT

[ "$(id -u)" = 0 ] || rs_die "needs root (namespaces, a private Postfix)"
[ -x "$RELAYSIGN" ] || rs_die "relaysign not built: $RELAYSIGN (run make first)"
for tool in opendkim postfix postconf postqueue smtp-source smtp-sink openssl unshare ip ss awk; do
	command -v "$tool" >/dev/null || rs_die "$tool not found (run tools/setup-debian.sh)"
done
/usr/bin/python3 -c 'import dkim' 2>/dev/null ||
	rs_die "/usr/bin/python3 lacks dkim (apt-get install python3-dkim)"

rs_sandbox "$0" "$@"
rs_init bench

T=$RS_TMP
DOMAIN=library.example.edu
K=3                                     # messages verified with dkimpy per run
LOG=$T/bench.log                        # every mfload report, in full
mkdir -p "$T/keys" "$T/sock" "$T/dump" "$T/pf" && chmod 0700 "$T/keys" && chmod 0755 "$T/sock"
: >"$LOG"

if [ "$QUICK" = 1 ]; then
	DUR=1 ALGS="rsa both" SIZES="2k" CONCS="1 8 8u"
	PF_ALGS="rsa" PF_N20=200 PF_N1=20 SPEED_SECS=1 IDLE_HOLD=1
else
	DUR=5 ALGS="rsa ed both" SIZES="2k 100k" CONCS="1 8 32 32u"
	PF_ALGS="rsa both" PF_N20=2000 PF_N1=150 SPEED_SECS=3 IDLE_HOLD=3
fi
NMAX=1000000                            # mfload -n: the -D duration ends each run

say() { printf 'bench: %s\n' "$*" >&2; }

# --------------------------------------------------------------- tools

if [ ! -x "$MFLOAD" ]; then
	say "compiling mfload into $T (not built by make)"
	"${CC:-cc}" -O2 -pthread -o "$T/mfload" "$top_srcdir/tools/mfload.c" ||
		rs_die "cannot compile tools/mfload.c"
	MFLOAD=$T/mfload
fi
CHECK=("$RS_PY" "$top_srcdir/bench/dkimcheck.py" --domain "$DOMAIN")

# ------------------------------------------------------------- machine

machine_info() {
	local model kern
	model=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)
	kern=$(uname -srm)
	echo "- Host: $(nproc) CPUs online, $model; $kern"
	echo "- Load average before each phase: $PHASE_LOAD; at the end $(cut -d' ' -f1-3 /proc/loadavg)"
	echo "- relaysign: $("$RELAYSIGN" -V 2>&1 | head -1), built in $top_builddir" \
		"(CFLAGS: $(sed -n 's/^CFLAGS = //p' "$top_builddir/Makefile" 2>/dev/null | head -1)" \
		"$(sed -n 's/^SAN_CFLAGS = //p' "$top_builddir/Makefile" 2>/dev/null | head -1))," \
		"source $top_srcdir at git $GIT_START"
	echo "- Packages: $(dpkg-query -W -f '${Package} ${Version}, ' opendkim libopendkim11 libmilter1.0.1 postfix openssl python3-dkim 2>/dev/null | sed 's/, $//')"
	echo "- OpenSSL: $(openssl version)"
}

# ---------------------------------------------------------------- keys

rs_keygen_rsa "$T/keys/rsa.key" 2048 || rs_die "RSA key generation failed"
rs_keygen_ed25519 "$T/keys/ed.key" || rs_die "Ed25519 key generation failed"
KEYARGS=(--key "rsa2026=$T/keys/rsa.key" --key "ed2026=$T/keys/ed.key")
# Both filters sign these fields, relaxed/relaxed, and oversign the last four
# (relaysign's defaults; OpenDKIM gets the same lists).
SIGN_HEADERS="From To Cc Subject Date Message-ID Reply-To MIME-Version Content-Type Content-Transfer-Encoding List-Unsubscribe List-Unsubscribe-Post"
OVERSIGN_HEADERS="From Subject Date To"

# ------------------------------------------------------------- filters

# wait_sock PATH: until a unix socket exists (bounded), then open it to all.
wait_sock() {
	local i
	for ((i = 0; i < RS_WAIT * 10; i++)); do
		[ -S "$1" ] && { chmod 0666 "$1"; return 0; }
		sleep 0.1
	done
	rs_log "no socket $1 after ${RS_WAIT}s"
	return 1
}

# start_relaysign NAME ALG SOCKET: SOCKET is inet:PORT@127.0.0.1 or unix:PATH.
start_relaysign() {
	local name=$1 alg=$2 sock=$3 sel key algs port=0
	case $alg in
	rsa) sel=rsa2026 key="$T/keys/rsa.key" algs=rsa-sha256 ;;
	ed) sel=ed2026 key="$T/keys/ed.key" algs=ed25519-sha256 ;;
	both) sel="rsa2026 ed2026" key="$T/keys/rsa.key $T/keys/ed.key"
		algs="rsa-sha256 ed25519-sha256" ;;
	esac
	cat >"$T/$name.conf" <<-EOF
	Socket              $sock
	AuthservID          relay.test
	RelayNetworks       192.0.2.0/24 127.0.0.0/8
	Domain              $DOMAIN
	Selector            $sel
	KeyFile             $key
	SignatureAlgorithm  $algs
	Canonicalization    relaxed/relaxed
	SignHeaders         $SIGN_HEADERS
	OversignHeaders     $OVERSIGN_HEADERS
	Background          no
	Syslog              no
	${RS_CONF_EXTRA:-}
	EOF
	"$RELAYSIGN" -n -c "$T/$name.conf" >/dev/null || { rs_log "relaysign -n rejected $T/$name.conf"; return 1; }
	case $sock in inet:*) port=${sock#inet:}; port=${port%@*} ;; unix:*) rm -f "${sock#unix:}" ;; esac
	start_bg "$name" "$port" "$RELAYSIGN" -f -c "$T/$name.conf" || return 1
	case $sock in unix:*) wait_sock "${sock#unix:}" || return 1 ;; esac
}

# start_od NAME ALG SOCKET: one OpenDKIM instance (one algorithm), same key,
# same header lists as relaysign.  SOCKET as for start_relaysign.
start_od() {
	local name=$1 alg=$2 sock=$3 d sel key a port=0 osock
	d="$T/$name"
	mkdir -p "$d"
	case $alg in
	rsa) sel=rsa2026 key="$T/keys/rsa.key" a=rsa-sha256 ;;
	ed) sel=ed2026 key="$T/keys/ed.key" a=ed25519-sha256 ;;
	esac
	case $sock in
	inet:*) osock=$sock; port=${sock#inet:}; port=${port%@*} ;;
	unix:*) osock="local:${sock#unix:}"; rm -f "${sock#unix:}" ;;
	esac
	printf '%s %s:%s:%s\n' "$sel" "$DOMAIN" "$sel" "$key" >"$d/keytable"
	printf '*@%s %s\n' "$DOMAIN" "$sel" >"$d/signingtable"
	printf '%s\n' 127.0.0.1 192.0.2.0/24 >"$d/internalhosts"
	cat >"$d/opendkim.conf" <<-EOF
	Syslog no
	Background no
	Mode s
	Socket $osock
	UMask 000
	PidFile $d/pid
	KeyTable file:$d/keytable
	SigningTable refile:$d/signingtable
	InternalHosts $d/internalhosts
	SignatureAlgorithm $a
	Canonicalization relaxed/relaxed
	SignHeaders $(tr ' ' ',' <<<"$SIGN_HEADERS")
	OversignHeaders $(tr ' ' ',' <<<"$OVERSIGN_HEADERS")
	# The keys are under /tmp: OpenDKIM's safe-key check looks at every
	# parent directory and refuses them (451 for every message, no log).
	RequireSafeKeys no
	EOF
	opendkim -n -x "$d/opendkim.conf" || { rs_log "opendkim -n rejected $d/opendkim.conf"; return 1; }
	start_bg "$name" "$port" opendkim -f -x "$d/opendkim.conf" || return 1
	case $sock in unix:*) wait_sock "${sock#unix:}" || return 1 ;; esac
}

# stop_names NAME...: SIGTERM them together, wait (bounded: libmilter can
# take ~5 s), SIGKILL what is left.
stop_names() {
	local n p pids=() i alive
	for n in "$@"; do
		p=$(rs_pid_of "$n") && pids+=("$p") && kill -TERM "$p" 2>/dev/null
	done
	for ((i = 0; i < 150; i++)); do
		alive=0
		for p in "${pids[@]}"; do kill -0 "$p" 2>/dev/null && alive=1; done
		[ "$alive" = 0 ] && break
		sleep 0.1
	done
	for p in "${pids[@]}"; do
		kill -KILL "$p" 2>/dev/null
		wait "$p" 2>/dev/null
	done
	return 0
}

pids_of() { local n; for n in "$@"; do rs_pid_of "$n"; done; }

# cpu_ticks PID...: user+sys clock ticks of the processes (all threads).
cpu_ticks() {
	local p sum=0 f
	for p in "$@"; do
		f=$(sed 's/.*) //' "/proc/$p/stat" 2>/dev/null) || { echo -1; return; }
		# After the command name: state is field 1, utime 12, stime 13.
		sum=$((sum + $(awk '{ print $12 + $13 }' <<<"$f")))
	done
	echo "$sum"
}
TICK=$(getconf CLK_TCK)

# kv LINE KEY: the value of KEY=value in a RESULT line.
kv() { sed -n "s/.* $2=\([^ ]*\).*/\1/p" <<<"$1" | head -1; }

# ------------------------------------------------------- 1. milter level

declare -A NEG M_RATE M_P50 M_P99 M_CPU M_STALL M_OK M_MSGS M_CPUS M_EOM

# mrun FILTER ALG SIZE CONC: one mfload run; CONC "32u" = 32 over the unix socket.
mrun() {
	local f=$1 alg=$2 size=$3 conc=$4 c kind socks=() names=() pidargs=() exp=1 key
	local out res dump chk ok p
	c=${conc%u}
	kind=tcp
	[ "$c" != "$conc" ] && kind=unix
	[ "$alg" = both ] && exp=2
	key="$f|$alg|$size|$conc"
	if [ "$f" = relaysign ]; then
		names=(rs-tcp)
		if [ $kind = tcp ]; then socks=(inet:8891@127.0.0.1); else socks=("unix:$T/sock/rs.sock"); fi
	else
		case $alg in
		rsa | ed) names=("od-$alg") ;;
		both) names=(od-rsa od-ed) ;;
		esac
		for p in "${names[@]}"; do
			if [ $kind = tcp ]; then
				case $p in od-rsa) socks+=(inet:8893@127.0.0.1) ;; od-ed) socks+=(inet:8894@127.0.0.1) ;; esac
			else
				socks+=("unix:$T/sock/$p.sock")
			fi
		done
		[ $kind = unix ] && names=("${names[@]/%/-u}")
	fi
	[ "$f" = relaysign ] && [ $kind = unix ] && names=(rs-unix)
	for p in $(pids_of "${names[@]}"); do pidargs+=(-p "$p"); done
	dump="$T/dump/$f-$alg-$size-$conc"
	say "milter: $f $alg $size c=$conc"
	out=$(timeout "$(awk -v d="$DUR" 'BEGIN { print int(d) + 120 }')" "$MFLOAD" -L "$key" \
		-c "$c" -n "$NMAX" -D "$DUR" -z "$size" -e "$exp" -d "$dump" -k "$K" \
		"${pidargs[@]}" "${socks[@]}" 2>&1)
	printf '%s\n\n' "$out" >>"$LOG"
	res=$(grep '^RESULT' <<<"$out" | tail -1)
	ok=ok
	if [ -z "$res" ]; then
		ok="FAIL(no result: $(grep -m1 -i 'error\|mfload:' <<<"$out" | cut -c1-60))"
	else
		[ "$(kv "$res" fail)" = 0 ] || ok="FAIL($(kv "$res" fail) failed)"
		[ "$(kv "$res" sigs_bad)" = 0 ] || ok="FAIL($(kv "$res" sigs_bad) bad sig count)"
		[ "$(kv "$res" ok)" != 0 ] || ok="FAIL(nothing signed)"
		if chk=$("${CHECK[@]}" "${KEYARGS[@]}" --expect "$exp" "$dump" 2>>"$LOG"); then
			:
		else
			ok="FAIL(dkimpy: $chk)"
		fi
		echo "dkimcheck $key: $chk" >>"$LOG"
	fi
	M_RATE[$key]=$(kv "$res" rate)
	M_P50[$key]=$(kv "$res" p50_ms)
	M_P99[$key]=$(kv "$res" p99_ms)
	M_CPU[$key]=$(kv "$res" cpu_per_1k)
	M_CPUS[$key]=$(kv "$res" cpu_s)
	M_MSGS[$key]=$(kv "$res" ok)
	M_EOM[$key]=$(kv "$res" eom_mean_ms)
	M_STALL[$key]="$(kv "$res" stalled_msgs)/$(kv "$res" msgs) $(kv "$res" stall_stages)"
	M_OK[$key]=$ok
	[ -n "${NEG[$f]:-}" ] || NEG[$f]=$(grep ' agreed: ' <<<"$out" | sed 's/^ *//' | paste -sd ';' -)
}

# warm FILTER ALG: a few messages first (keys loaded, threads made), unrecorded.
warm() {
	local socks=() exp=1
	[ "$2" = both ] && exp=2
	if [ "$1" = relaysign ]; then socks=(inet:8891@127.0.0.1)
	elif [ "$2" = both ]; then socks=(inet:8893@127.0.0.1 inet:8894@127.0.0.1)
	elif [ "$2" = rsa ]; then socks=(inet:8893@127.0.0.1)
	else socks=(inet:8894@127.0.0.1); fi
	timeout 60 "$MFLOAD" -c 2 -n 20 -w reply -e "$exp" "${socks[@]}" >>"$LOG" 2>&1 ||
		say "warning: warm-up of $1 $2 failed (see the log)"
}

milter_phase() {
	local alg size conc names n p
	for alg in $ALGS; do
		# relaysign: one process per socket kind, each with this algorithm set.
		start_relaysign rs-tcp "$alg" inet:8891@127.0.0.1 || rs_die "relaysign did not start"
		start_relaysign rs-unix "$alg" "unix:$T/sock/rs.sock" || rs_die "relaysign (unix) did not start"
		warm relaysign "$alg"
		for size in $SIZES; do
			for conc in $CONCS; do mrun relaysign "$alg" "$size" "$conc"; done
		done
		stop_names rs-tcp rs-unix
		# OpenDKIM: one instance per algorithm; "both" = the two chained.
		names=()
		case $alg in rsa | ed) names=("od-$alg") ;; both) names=(od-rsa od-ed) ;; esac
		for n in "${names[@]}"; do
			case $n in od-rsa) p=8893 ;; od-ed) p=8894 ;; esac
			start_od "$n" "${n#od-}" "inet:$p@127.0.0.1" || rs_die "opendkim did not start"
			start_od "$n-u" "${n#od-}" "unix:$T/sock/$n.sock" || rs_die "opendkim (unix) did not start"
		done
		warm opendkim "$alg"
		for size in $SIZES; do
			for conc in $CONCS; do mrun opendkim "$alg" "$size" "$conc"; done
		done
		stop_names "${names[@]}" "${names[@]/%/-u}"
	done
}

# ------------------------------------------------------ 2. through Postfix

declare -A P_RATE P_MSPM P_OK P_CPU
SINK=$T/sink
MSGFILE=$T/message.eml

# sig_counts DIR EXPECT: "delivered bad" -- files, and files whose header
# block does not hold exactly EXPECT DKIM-Signature fields.
sig_counts() {
	local dir=$1 exp=$2
	# shellcheck disable=SC2016  # an awk program
	find "$dir" -type f -print0 | xargs -0 -r awk -v e="$exp" '
		FNR == 1 { if (NR > 1) { n++; if (c != e) bad++ } c = 0; h = 1 }
		h && /^\r?$/ { h = 0 }
		h && tolower($0) ~ /^dkim-signature:/ { c++ }
		END { if (NR > 0) { n++; if (c != e) bad++ } print n + 0, bad + 0 }' |
		awk '{ n += $1; b += $2 } END { print n + 0, b + 0 }'
}

# pf_send SESSIONS N LABEL EXPECT PIDS...: time smtp-source, drain the
# queue, check what arrived.
pf_send() {
	local s=$1 n=$2 label=$3 exp=$4 t0 t1 c0 c1 rc dir delivered bad chk ok secs
	shift 4
	say "postfix: $label, $s session(s), $n messages"
	c0=$(cpu_ticks "$@")
	t0=$(date +%s%N)
	timeout 600 smtp-source -d -s "$s" -m "$n" -f "library@$DOMAIN" -t patron@example.net \
		-F "$MSGFILE" "127.0.0.1:$RS_SMTP_PORT" >"$T/pf/$label.log" 2>&1
	rc=$?
	t1=$(date +%s%N)
	c1=$(cpu_ticks "$@")
	wait_queue_empty 180 >/dev/null 2>&1 || say "warning: queue not empty after 180 s ($label)"
	dir="$T/pf/$label"
	mkdir -p "$dir"
	find "$SINK" -type f -exec mv -t "$dir" {} + 2>/dev/null
	read -r delivered bad <<<"$(sig_counts "$dir" "$exp")"
	secs=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", (b - a) / 1e9 }')
	P_RATE[$label]=$(awk -v n="$n" -v s="$secs" 'BEGIN { printf "%.1f", n / s }')
	P_MSPM[$label]=$(awk -v n="$n" -v s="$secs" -v c="$s" 'BEGIN { printf "%.2f", s * 1000 * c / n }')
	if [ $# -gt 0 ] && [ "$c0" -ge 0 ] && [ "$c1" -ge 0 ]; then
		P_CPU[$label]=$(awk -v d=$((c1 - c0)) -v t="$TICK" -v n="$n" 'BEGIN { printf "%.3f", d / t * 1000 / n }')
	else
		P_CPU[$label]="-"
	fi
	ok=ok
	if [ "$rc" != 0 ]; then
		ok="FAIL(smtp-source status $rc: $(tail -1 "$T/pf/$label.log" | cut -c1-60))"
	elif [ "$delivered" != "$n" ]; then
		ok="FAIL($delivered of $n delivered)"
	elif [ "$exp" -gt 0 ] && [ "$bad" != 0 ]; then
		ok="FAIL($bad without $exp signatures)"
	elif [ "$exp" -gt 0 ]; then
		chk=$("${CHECK[@]}" "${KEYARGS[@]}" --expect "$exp" --max "$K" "$dir" 2>>"$LOG") ||
			ok="FAIL(dkimpy: $chk)"
		echo "dkimcheck postfix $label: $chk" >>"$LOG"
	fi
	P_OK[$label]=$ok
	echo "postfix $label: $n msgs, $s sessions, ${secs}s, delivered=$delivered bad=$bad rc=$rc" >>"$LOG"
	rm -rf "$dir"           # keep the disk use of a full run small
}

# pf_config LABEL EXPECT MILTERS PIDNAMES...: Postfix with smtpd_milters =
# MILTERS, a warm-up, then 20 sessions and 1 session.
pf_config() {
	local label=$1 exp=$2 milters=$3 pids=()
	shift 3
	[ $# -gt 0 ] && read -r -a pids <<<"$(pids_of "$@" | tr '\n' ' ')"
	start_postfix "$milters" || rs_die "cannot start the private Postfix ($label)"
	timeout 120 smtp-source -d -s 2 -m 10 -f "library@$DOMAIN" -t patron@example.net \
		-F "$MSGFILE" "127.0.0.1:$RS_SMTP_PORT" >/dev/null 2>&1
	wait_queue_empty 60 >/dev/null 2>&1
	find "$SINK" -type f -delete
	pf_send 20 "$PF_N20" "$label|20" "$exp" "${pids[@]}"
	pf_send 1 "$PF_N1" "$label|1" "$exp" "${pids[@]}"
	stop_postfix
}

postfix_phase() {
	local alg exp od_t od_u names n p
	"$MFLOAD" -z 2k -o "$MSGFILE" || rs_die "mfload -o failed"
	start_sink "$SINK" || rs_die "cannot start smtp-sink"
	pf_config "none" 0 ""
	for alg in $PF_ALGS; do
		exp=1
		[ "$alg" = both ] && exp=2
		start_relaysign rs-tcp "$alg" inet:8891@127.0.0.1 || rs_die "relaysign did not start"
		start_relaysign rs-unix "$alg" "unix:$T/sock/rs.sock" || rs_die "relaysign (unix) did not start"
		pf_config "relaysign|tcp|$alg" "$exp" "inet:127.0.0.1:8891" rs-tcp
		pf_config "relaysign|unix|$alg" "$exp" "unix:$T/sock/rs.sock" rs-unix
		stop_names rs-tcp rs-unix
		if [ "$alg" = rsa ]; then
			# The same with MetricsSocket, scraped every second meanwhile.
			RS_CONF_EXTRA="MetricsSocket inet:9464@127.0.0.1" \
				start_relaysign rs-metrics rsa inet:8895@127.0.0.1 ||
				rs_die "relaysign (metrics) did not start"
			start_bg scraper 0 "$RS_PY" -c 'import time, urllib.request
while True:
    urllib.request.urlopen("http://127.0.0.1:9464/metrics", timeout=5).read()
    time.sleep(1)'
			pf_config "relaysign+metrics|tcp|rsa" 1 "inet:127.0.0.1:8895" rs-metrics
			stop_names rs-metrics scraper
		fi
		if [ "$alg" = both ]; then
			names=(od-rsa od-ed)
			od_t="inet:127.0.0.1:8893, inet:127.0.0.1:8894"
			od_u="unix:$T/sock/od-rsa.sock, unix:$T/sock/od-ed.sock"
		else
			names=("od-$alg")
			od_t="inet:127.0.0.1:$([ "$alg" = rsa ] && echo 8893 || echo 8894)"
			od_u="unix:$T/sock/od-$alg.sock"
		fi
		for n in "${names[@]}"; do
			case $n in od-rsa) p=8893 ;; od-ed) p=8894 ;; esac
			start_od "$n" "${n#od-}" "inet:$p@127.0.0.1" || rs_die "opendkim did not start"
			start_od "$n-u" "${n#od-}" "unix:$T/sock/$n.sock" || rs_die "opendkim (unix) did not start"
		done
		pf_config "opendkim|tcp|$alg" "$exp" "$od_t" "${names[@]}"
		pf_config "opendkim|unix|$alg" "$exp" "$od_u" "${names[@]/%/-u}"
		stop_names "${names[@]}" "${names[@]/%/-u}"
	done
	stop_bg sink
}

# --------------------------------------------------------- 3. ceiling

declare -A SPEED
speed_phase() {
	local out multi
	say "openssl speed -seconds $SPEED_SECS rsa2048 ed25519 (and -multi 2)"
	out=$(timeout 300 openssl speed -seconds "$SPEED_SECS" rsa2048 ed25519 2>/dev/null)
	multi=$(timeout 300 openssl speed -multi 2 -seconds "$SPEED_SECS" rsa2048 ed25519 2>/dev/null)
	printf '%s\n%s\n' "$out" "$multi" >>"$LOG"
	SPEED[rsa1]=$(awk '/^rsa 2048 bits/ { v = $(NF-1) } END { print v + 0 }' <<<"$out")
	SPEED[ed1]=$(awk '/Ed25519\)/ { v = $(NF-1) } END { print v + 0 }' <<<"$out")
	SPEED[rsa2]=$(awk '/^rsa 2048 bits/ { v = $(NF-1) } END { print v + 0 }' <<<"$multi")
	SPEED[ed2]=$(awk '/Ed25519\)/ { v = $(NF-1) } END { print v + 0 }' <<<"$multi")
}

# ----------------------------------------------------------- 4. memory

declare -A MEM
hwm() { awk '/^VmHWM/ { print $2 }' "/proc/$1/status" 2>/dev/null; }

# mem_filter FILTER: three fresh processes (RSA), one scenario each.
mem_filter() {
	local f=$1 i port name pid exp=1 out res
	for i in 1 2 3; do
		port=$((8900 + i))
		name="mem-$f-$i"
		if [ "$f" = relaysign ]; then
			start_relaysign "$name" rsa "inet:$port@127.0.0.1" || rs_die "relaysign did not start"
		else
			start_od "$name" rsa "inet:$port@127.0.0.1" || rs_die "opendkim did not start"
		fi
	done
	sleep 0.5
	MEM[$f|start]=$(hwm "$(rs_pid_of "mem-$f-1")")
	# 1: one 1 KB message.  2: one 50 MB message.  3: 200 idle connections.
	for i in 1 2; do
		pid=$(rs_pid_of "mem-$f-$i")
		local size=1k
		[ $i = 2 ] && size=50m
		say "memory: $f, one $size message"
		out=$(timeout 300 "$MFLOAD" -L "mem-$f-$size" -n 1 -z "$size" -e "$exp" \
			"inet:$((8900 + i))@127.0.0.1" 2>&1)
		printf '%s\n\n' "$out" >>"$LOG"
		res=$(grep '^RESULT' <<<"$out")
		MEM[$f|$size]=$(hwm "$pid")
		MEM[$f|$size|ok]=ok
		[ "$(kv "$res" ok)" = 1 ] && [ "$(kv "$res" sigs_bad)" = 0 ] ||
			MEM[$f|$size|ok]="FAIL(not signed)"
	done
	pid=$(rs_pid_of "mem-$f-3")
	say "memory: $f, 200 idle connections"
	timeout 120 "$MFLOAD" -L "mem-$f-idle" -I 200 -T "$IDLE_HOLD" inet:8903@127.0.0.1 \
		>"$T/idle-$f.out" 2>&1 &
	local mpid=$! j
	for ((j = 0; j < 100; j++)); do
		grep -q 'idle connections open' "$T/idle-$f.out" 2>/dev/null && break
		sleep 0.1
	done
	sleep 0.5
	MEM[$f|threads]=$(awk '/^Threads/ { print $2 }' "/proc/$pid/status" 2>/dev/null)
	MEM[$f|conns]=$(ss -Htn state established "( sport = :8903 )" 2>/dev/null | wc -l)
	wait "$mpid"
	cat "$T/idle-$f.out" >>"$LOG"
	MEM[$f|idle]=$(hwm "$pid")
	MEM[$f|idle|ok]=ok
	grep -q '^RESULT.* idle=200 ' "$T/idle-$f.out" || MEM[$f|idle|ok]="FAIL($(grep -m1 RESULT "$T/idle-$f.out"))"
	stop_names "mem-$f-1" "mem-$f-2" "mem-$f-3"
}

# nodelay_check: does Linux pass TCP_NODELAY from a listener to accepted sockets?
nodelay_check() {
	"$RS_PY" - <<-'EOF' 2>/dev/null || echo unknown
	import socket
	l = socket.socket(); l.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
	l.bind(('127.0.0.1', 0)); l.listen(1)
	c = socket.create_connection(l.getsockname()); a, _ = l.accept()
	print('yes' if a.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) else 'no')
	EOF
}

# ------------------------------------------------------------- report

fmt() { [ -n "${1:-}" ] && echo "$1" || echo "-"; }
ratio() { awk -v a="${1:-}" -v b="${2:-}" 'BEGIN { if (a == "" || b == "" || a == "-" || b == "-" || b + 0 == 0) print "-"; else printf "%.2f", a / b }'; }

# pooled_cpu FILTER ALG SIZE: CPU s per 1,000 messages over every run of that row set.
pooled_cpu() {
	local k s=0 n=0
	for k in "${!M_CPUS[@]}"; do
		case $k in "$1|$2|$3|"*) ;; *) continue ;; esac
		[ -n "${M_CPUS[$k]}" ] || continue
		s=$(awk -v a="$s" -v b="${M_CPUS[$k]}" 'BEGIN { print a + b }')
		n=$((n + ${M_MSGS[$k]:-0}))
	done
	awk -v s="$s" -v n="$n" 'BEGIN { if (n > 0) printf "%.3f", s * 1000 / n; else print "-" }'
}

report() {
	local alg size conc k r o
	echo "# relaysign benchmark results"
	echo
	echo "Made by \`bench/run.sh$([ "$QUICK" = 1 ] && echo ' --quick')\` on $(date -u '+%Y-%m-%d %H:%M UTC')" \
		"in $(($(date +%s) - BENCH_T0)) s.$([ "$QUICK" = 1 ] && echo ' QUICK MODE: short runs, smoke test only.')"
	echo
	machine_info
	if awk -v l="$LOAD_START" -v n="$(nproc)" 'BEGIN { exit !(l + 0 > n * 0.5) }'; then
		echo
		echo "**WARNING: the machine was busy (load average $LOAD_START on $(nproc) CPUs at the start):" \
			"other work competed for the CPUs, so throughput, latency and CPU figures are inflated" \
			"and noisy; compare only on a quiet machine.**"
	fi
	echo
	echo "## 1. Milter level (tools/mfload, writes like Postfix; ${DUR} s a run)"
	echo
	echo "msg/s over the run; p50/p99 of MAIL..EOM in ms; CPU = filter user+sys seconds per 1,000 messages"
	echo "(OpenDKIM \"both\" = two chained instances, CPU summed); stalls = messages with a reply wait >= 30 ms"
	echo "/ messages, then where, as stage:waits (M mail, L header, N end of headers, B body, E end of message)."
	echo "A conc ending in u (32u) = that many connections over a unix socket, else TCP.  check: the DKIM-Signature count of every message, and dkimpy on the first $K."
	echo
	echo "| alg | size | conc | relaysign msg/s | p50 | p99 | CPU/1k | stalls | check | OpenDKIM msg/s | p50 | p99 | CPU/1k | stalls | check | CPU rs/od |"
	echo "|---|---|---|---:|---:|---:|---:|---|---|---:|---:|---:|---:|---|---|---:|"
	for alg in $ALGS; do
		for size in $SIZES; do
			for conc in $CONCS; do
				r="relaysign|$alg|$size|$conc"
				o="opendkim|$alg|$size|$conc"
				echo "| $alg | $size | $conc | $(fmt "${M_RATE[$r]:-}") | $(fmt "${M_P50[$r]:-}") | $(fmt "${M_P99[$r]:-}") | $(fmt "${M_CPU[$r]:-}") | $(fmt "${M_STALL[$r]:-}") | $(fmt "${M_OK[$r]:-}") | $(fmt "${M_RATE[$o]:-}") | $(fmt "${M_P50[$o]:-}") | $(fmt "${M_P99[$o]:-}") | $(fmt "${M_CPU[$o]:-}") | $(fmt "${M_STALL[$o]:-}") | $(fmt "${M_OK[$o]:-}") | $(ratio "${M_CPU[$r]:-}" "${M_CPU[$o]:-}") |"
			done
		done
	done
	echo
	echo "## 2. Through Postfix (smtp-source -d -> private Postfix 3.7 -> smtp-sink; 2 KB message)"
	echo
	echo "msg/s = messages / smtp-source wall time; ms/msg = wall time per message per session;"
	echo "added = ms/msg over no filter; CPU/1k = filter CPU seconds per 1,000 messages."
	echo
	echo "| sessions | socket | alg | no filter msg/s | ms/msg | relaysign msg/s | ms/msg | added | CPU/1k | check | OpenDKIM msg/s | ms/msg | added | CPU/1k | check | rs/od msg/s |"
	echo "|---:|---|---|---:|---:|---:|---:|---:|---:|---|---:|---:|---:|---:|---|---:|"
	local s sock
	for s in 20 1; do
		for alg in $PF_ALGS; do
			for sock in tcp unix; do
				r="relaysign|$sock|$alg|$s"
				o="opendkim|$sock|$alg|$s"
				k="none|$s"
				echo "| $s | $sock | $alg | $(fmt "${P_RATE[$k]:-}") | $(fmt "${P_MSPM[$k]:-}") | $(fmt "${P_RATE[$r]:-}") | $(fmt "${P_MSPM[$r]:-}") | $(awk -v a="${P_MSPM[$r]:-}" -v b="${P_MSPM[$k]:-}" 'BEGIN { if (a == "" || b == "") print "-"; else printf "%+.2f", a - b }') | $(fmt "${P_CPU[$r]:-}") | $(fmt "${P_OK[$r]:-}") | $(fmt "${P_RATE[$o]:-}") | $(fmt "${P_MSPM[$o]:-}") | $(awk -v a="${P_MSPM[$o]:-}" -v b="${P_MSPM[$k]:-}" 'BEGIN { if (a == "" || b == "") print "-"; else printf "%+.2f", a - b }') | $(fmt "${P_CPU[$o]:-}") | $(fmt "${P_OK[$o]:-}") | $(ratio "${P_RATE[$r]:-}" "${P_RATE[$o]:-}") |"
			done
		done
	done
	echo
	echo "No filter: $(fmt "${P_OK[none|20]:-}") / $(fmt "${P_OK[none|1]:-}") (every message delivered)."
	echo
	echo "MetricsSocket on (scraped every second) beside off, TCP, RSA, the same run:"
	echo
	echo "| sessions | off msg/s | ms/msg | CPU/1k | on msg/s | ms/msg | CPU/1k | check | CPU on/off |"
	echo "|---:|---:|---:|---:|---:|---:|---:|---|---:|"
	for s in 20 1; do
		r="relaysign|tcp|rsa|$s"
		o="relaysign+metrics|tcp|rsa|$s"
		echo "| $s | $(fmt "${P_RATE[$r]:-}") | $(fmt "${P_MSPM[$r]:-}") | $(fmt "${P_CPU[$r]:-}") | $(fmt "${P_RATE[$o]:-}") | $(fmt "${P_MSPM[$o]:-}") | $(fmt "${P_CPU[$o]:-}") | $(fmt "${P_OK[$o]:-}") | $(ratio "${P_CPU[$o]:-}" "${P_CPU[$r]:-}") |"
	done
	echo
	echo "## 3. Ceiling (openssl speed -seconds $SPEED_SECS rsa2048 ed25519)"
	echo
	echo "| sign/s | 1 process | -multi 2 |"
	echo "|---|---:|---:|"
	echo "| RSA-2048 | ${SPEED[rsa1]} | ${SPEED[rsa2]} |"
	echo "| Ed25519 | ${SPEED[ed1]} | ${SPEED[ed2]} |"
	echo
	echo "## 4. Memory (peak RSS = VmHWM, KiB; a fresh process per scenario; RSA-2048)"
	echo
	echo "| scenario | relaysign | OpenDKIM |"
	echo "|---|---:|---:|"
	echo "| started, no mail | $(fmt "${MEM[relaysign|start]:-}") | $(fmt "${MEM[opendkim|start]:-}") |"
	echo "| one 1 KB message | $(fmt "${MEM[relaysign|1k]:-}") ${MEM[relaysign|1k|ok]:-} | $(fmt "${MEM[opendkim|1k]:-}") ${MEM[opendkim|1k|ok]:-} |"
	echo "| one 50 MB message | $(fmt "${MEM[relaysign|50m]:-}") ${MEM[relaysign|50m|ok]:-} | $(fmt "${MEM[opendkim|50m]:-}") ${MEM[opendkim|50m|ok]:-} |"
	echo "| 200 idle connections | $(fmt "${MEM[relaysign|idle]:-}") ${MEM[relaysign|idle|ok]:-} (${MEM[relaysign|conns]:-?} connections, ${MEM[relaysign|threads]:-?} threads) | $(fmt "${MEM[opendkim|idle]:-}") ${MEM[opendkim|idle|ok]:-} (${MEM[opendkim|conns]:-?} connections, ${MEM[opendkim|threads]:-?} threads) |"
	echo
	echo "## Targets of issue 5 (ratios from this run)"
	echo
	local rs_cpu od_cpu best bestk v
	rs_cpu=$(pooled_cpu relaysign rsa 2k)
	od_cpu=$(pooled_cpu opendkim rsa 2k)
	best=0 bestk=-
	for k in "${!M_RATE[@]}"; do
		case $k in relaysign\|rsa\|2k\|*) ;; *) continue ;; esac
		case ${M_OK[$k]} in ok) ;; *) continue ;; esac
		v=${M_RATE[$k]:-0}
		if awk -v a="$v" -v b="$best" 'BEGIN { exit !(a > b) }'; then best=$v bestk=${k##*|}; fi
	done
	local rs_add od_add
	rs_add=$(awk -v a="${P_MSPM[relaysign|tcp|rsa|1]:-}" -v b="${P_MSPM[none|1]:-}" 'BEGIN { if (a == "" || b == "") print "-"; else printf "%.2f", a - b }')
	od_add=$(awk -v a="${P_MSPM[opendkim|tcp|rsa|1]:-}" -v b="${P_MSPM[none|1]:-}" 'BEGIN { if (a == "" || b == "") print "-"; else printf "%.2f", a - b }')
	local r20 r20u mem_d
	r20=$(ratio "${P_RATE[relaysign|tcp|rsa|20]:-}" "${P_RATE[opendkim|tcp|rsa|20]:-}")
	r20u=$(ratio "${P_RATE[relaysign|unix|rsa|20]:-}" "${P_RATE[opendkim|unix|rsa|20]:-}")
	mem_d=$(awk -v a="${MEM[relaysign|50m]:-}" -v b="${MEM[relaysign|1k]:-}" 'BEGIN { if (a == "" || b == "") print "-"; else print a - b }')
	met() { awk -v v="$1" -v t="$3" -v op="$2" 'BEGIN { if (v == "-" || v == "") { print "?"; exit } if (op == "le") print (v + 0 <= t + 0 ? "met" : "NOT met"); else print (v + 0 >= t + 0 ? "met" : "NOT met") }'; }
	local r1 r2
	r1=$(ratio "$rs_cpu" "$od_cpu")
	r2=$(ratio "$best" "${SPEED[rsa2]}")
	echo "| target | figure | value | goal | |"
	echo "|---|---|---:|---:|---|"
	echo "| CPU per signed message, RSA-2048 | relaysign $rs_cpu ÷ OpenDKIM $od_cpu s/1k msg (2 KB, all concurrencies pooled) | $r1 | ≤ 0.60 | $(met "$r1" le 0.6) |"
	echo "| milter-level throughput | relaysign RSA 2 KB best ($best msg/s at c=$bestk) ÷ openssl -multi 2 RSA-2048 (${SPEED[rsa2]} sign/s) | $r2 | ≥ 0.50 | $(met "$r2" ge 0.5) |"
	echo "| Postfix, TCP, 1 session | relaysign ms/msg − no filter ms/msg (RSA); OpenDKIM: $od_add | $rs_add | ≤ 5 ms | $(met "$rs_add" le 5) |"
	echo "| Postfix, 20 sessions | relaysign msg/s ÷ OpenDKIM msg/s (TCP, RSA); unix socket: $r20u | $r20 | ≥ 1.20 | $(met "$r20" ge 1.2) |"
	echo "| streaming body | relaysign peak RSS 50 MB − 1 KB message (KiB) | $mem_d | ≤ 1024 | $(met "$mem_d" le 1024) |"
	echo
	echo "## Latency trap checks"
	echo
	echo "- Linux passes TCP_NODELAY from a listening socket to the sockets it accepts: $NODELAY_INHERITED."
	echo "- What the filters agreed to (mfload's offer is Postfix's: protocol 6, actions 0x1ff, protocol 0x1fffff):"
	echo "  relaysign: $(fmt "${NEG[relaysign]:-}")"
	echo "  OpenDKIM: $(fmt "${NEG[opendkim]:-}")"
	echo "- End-of-message reply wait, 2 KB RSA, 1 connection, TCP (mean ms): relaysign $(fmt "${M_EOM[relaysign|rsa|2k|1]:-}"), OpenDKIM $(fmt "${M_EOM[opendkim|rsa|2k|1]:-}")" \
		"(~40 = the filter's header-change and reply packets held by Nagle)."
	echo "- Stalls at 1 connection, TCP, 2 KB RSA: relaysign $(fmt "${M_STALL[relaysign|rsa|2k|1]:-}"); OpenDKIM $(fmt "${M_STALL[opendkim|rsa|2k|1]:-}")."
	echo "  A stall at N (or at the first L) is Postfix's own write pattern: smtpd flushes the RCPT/DATA"
	echo "  macros when it hands the milter connection to cleanup, no reply comes, and cleanup's header"
	echo "  batch then waits under Nagle for the filter's delayed ACK.  A filter that asks for the DATA"
	echo "  stage (no SMFIP_NODATA) and answers it makes that flush a request with a reply instead."
	echo
	echo "Full mfload reports: the temp dir's bench.log (bench/run.sh --keep keeps it)."
}

BENCH_T0=$(date +%s)
LOAD_START=$(cut -d' ' -f1 /proc/loadavg)
GIT_START="$(git -C "$top_srcdir" rev-parse --short HEAD 2>/dev/null || echo '?')"
GIT_START+=" ($(git -C "$top_srcdir" status --porcelain -uno 2>/dev/null | wc -l) files with uncommitted changes)"
PHASE_LOAD=""
phase_load() { PHASE_LOAD+="${PHASE_LOAD:+, }$1 $(cut -d' ' -f1 /proc/loadavg)"; }
NODELAY_INHERITED=$(nodelay_check)
phase_load milter
milter_phase
phase_load postfix
postfix_phase
phase_load speed
speed_phase
phase_load memory
mem_filter relaysign
mem_filter opendkim
report >"$T/report.md"
rs_bench_write "$T/report.md" "$BENCH_OUT" "$LOG"
grep -q 'FAIL' "$T/report.md" && exit 1
exit 0
