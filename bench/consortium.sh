#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# bench/consortium.sh -- a consortium relay of 500 institutions against the
# one-domain configuration, in one run, on this machine (issue 12).
#
#   bash bench/consortium.sh [--quick] [--keep]      (make bench runs it)
#
# Institution i of N (default 500) is inst%03d.edu, with an RSA-2048 key
# (selector rsa2026) and an Ed25519 key (ed2026) in KeyTable/SigningTable,
# and its own SMTP AUTH login alma-inst%03d bound to its domain alone in
# RelayBindings (tools/consortium.sh writes the files).  The one-domain
# configuration is the same format with only the institution in the middle
# of the table (inst250.edu): 2 keys, 1 binding.  The messages are 2 KB
# notices From: library@inst250.edu with {auth_authen} alma-inst250, the
# envelope sender alma@exlibrisgroup.com, through tools/mfload (a milter
# client that writes like Postfix); every one must come back with two
# DKIM-Signature fields.
#
# Prints, and writes to $BENCH_OUT (default
# $top_builddir/bench/consortium-latest.md), for 1 domain and for N:
#   a. start-up: from starting the process until its milter socket answers
#      a negotiation (mfload -I 1 -T 0, tried every few ms), median and max
#      of several starts;
#   b. SIGHUP reload under load: mfload drives 4 connections while the
#      script installs a changed RelayBindings file and sends SIGHUP a few
#      times; the time from the signal to relaysign's "reloaded" line (the
#      new configuration is in force when it is written), from the
#      millisecond timestamps of the script's clock and relaysign's log;
#      and what mfload counted during that run: every message signed, none
#      tempfailed, rejected or lost;
#   c. peak RSS (VmHWM from /proc/PID/status): after start-up, after the CPU
#      run, and at the end of the reload run (a reload holds the old and the
#      new configuration at once);
#   d. CPU per 1,000 signed messages (utime+stime from /proc/PID/stat, as
#      bench/ab.sh): rounds alternate the two configurations, each round a
#      fresh relaysign; median and range;
#   and each figure against its target: start and reload < 2 s, RSS < 64 MB,
#   CPU (N ÷ 1) <= 1.05.  Nothing here is a test: numbers only, but a row
#   whose messages were not all signed, or a reload that lost or
#   tempfailed mail, prints FAIL and the script exits 1.
#
# Validity: mfload -e 2 counts the DKIM-Signature fields of every message;
# the first 3 messages of every run are verified with dkimpy
# (bench/dkimcheck.py, keys from the key files), and one of each
# configuration against the private DNS that serves all 2N key records
# (tests/e2e/verify.py); after each reload run a few more messages are sent
# and verified, so the reloaded configuration is shown to sign.
#
# Keys: 500 RSA-2048 keys take minutes to make, so they are made once, in
# parallel (one openssl a CPU), into $CONSORTIUM_KEYS (default
# $top_builddir/bench/consortium-keys) and reused by later runs; delete the
# directory to make new ones.
#
# Everything runs in private network, mount and pid namespaces
# (tools/lib.sh): relaysign, the DNS server and mfload talk on a private
# loopback only.  Needs root.  About 3 minutes (--quick: about 1), plus the
# keys the first time.
#
# Environment: RELAYSIGN (default $top_builddir/relaysign), MFLOAD (default
# $top_builddir/tools/mfload), CONSORTIUM_N (500), CONSORTIUM_KEYS,
# BENCH_OUT, RS_KEEP=1 (or --keep) keeps the temporary directory.
set -u

# shellcheck disable=SC2034  # read by tools/lib.sh
RS_NAME=bench-consortium
# shellcheck source=tools/lib.sh
. "${top_srcdir:-$(dirname "$0")/..}/tools/lib.sh"
rs_bench_args bench/consortium.sh "$@"
# shellcheck source=tools/consortium.sh
. "$top_srcdir/tools/consortium.sh"

RELAYSIGN=${RELAYSIGN:-$top_builddir/relaysign}
MFLOAD=${MFLOAD:-$top_builddir/tools/mfload}
N=${CONSORTIUM_N:-500}
CONSORTIUM_KEYS=${CONSORTIUM_KEYS:-$top_builddir/bench/consortium-keys}
BENCH_OUT=${BENCH_OUT:-$top_builddir/bench/consortium-latest.md}
export RELAYSIGN MFLOAD CONSORTIUM_N=$N CONSORTIUM_KEYS BENCH_OUT

[ "$(id -u)" = 0 ] || rs_die "needs root (namespaces)"
[ -x "$RELAYSIGN" ] || rs_die "relaysign not built: $RELAYSIGN (run make first)"
[ -x "$MFLOAD" ] || rs_die "mfload not built: $MFLOAD (make tools/mfload)"
[ "$N" -ge 2 ] && [ "$N" -le 999 ] || rs_die "CONSORTIUM_N must be 2..999"
for tool in openssl unshare ip ss awk xargs; do
	command -v "$tool" >/dev/null || rs_die "$tool not found (run tools/setup-debian.sh)"
done
"$RS_PY" -c 'import dkim, dnslib' 2>/dev/null ||
	rs_die "$RS_PY lacks dkim/dnslib (apt-get install python3-dkim python3-dnslib)"

rs_sandbox "$0" "$@"
rs_init bench-consortium
T=$RS_TMP
T0=$(date +%s)
LOG=$T/bench.log
: >"$LOG"

if [ "$QUICK" = 1 ]; then
	STARTS=3 ROUNDS=2 NMSG=1000 RELOADS=2
else
	STARTS=5 ROUNDS=5 NMSG=3000 RELOADS=4
fi
# The load outlasts the reloads: 1 s, then each reload (up to ~3 s on a
# busy machine) and 1.5 s of load after it.
LOAD_SECS=$((2 + RELOADS * 5))
K=3                                     # messages verified with dkimpy per run
MID=$(((N + 1) / 2))
DOM=$(cons_dom "$MID")
LOGIN=$(cons_login "$MID")
SOCK=inet:8891@127.0.0.1
say() { printf 'bench: %s\n' "$*" >&2; }
kv() { sed -n "s/.* $2=\([^ ]*\).*/\1/p" <<<"$1" | head -1; }
hwm() { awk '/^VmHWM/ { print $2 }' "/proc/$1/status" 2>/dev/null; }

# --------------------------------------------------------- configuration

cons_keys "$CONSORTIUM_KEYS" "$N" "rsa ed" || rs_die "key generation failed"
cons_tables "$T/big" "$CONSORTIUM_KEYS" "rsa ed" 1 "$N" || rs_die "cannot write the tables"
cons_conf "$T/big" "rsa ed"
cons_tables "$T/one" "$CONSORTIUM_KEYS" "rsa ed" "$MID" "$MID" || rs_die "cannot write the tables"
cons_conf "$T/one" "rsa ed"
# What a reload changes: the first institution's login gains the second's
# domain, and loses it again at the next reload (the one-domain
# configuration gains a second line for its own login's subdomains).
for c in big one; do
	cp "$T/$c/bindings" "$T/$c/bindings.A"
	if [ "$c" = big ]; then
		sed "s/^auth:$(cons_login 1) .*/auth:$(cons_login 1) $(cons_dom 1), $(cons_dom 2)/" \
			"$T/$c/bindings.A" >"$T/$c/bindings.B"
	else
		sed "s/^auth:$LOGIN .*/auth:$LOGIN $DOM, *.$DOM/" "$T/$c/bindings.A" >"$T/$c/bindings.B"
	fi
	cmp -s "$T/$c/bindings.A" "$T/$c/bindings.B" && rs_die "$c: bindings.B is no change"
	"$RELAYSIGN" -n -c "$T/$c/relaysign.conf" >"$T/$c/n.out" 2>&1 ||
		{ cat "$T/$c/n.out" >&2; rs_die "relaysign -n refuses $T/$c/relaysign.conf"; }
	say "$c: $(tail -1 "$T/$c/n.out")"
done
NKEYS_BIG=$(grep -c . "$T/big/keytable")
NKEYS_ONE=$(grep -c . "$T/one/keytable")

start_dns --records "$CONSORTIUM_KEYS/records" \
	--rr "exlibrisgroup.com TXT v=spf1 ip4:203.0.113.0/24 -all" ||
	rs_die "cannot start the DNS server"

"$MFLOAD" -z 2k -o "$T/msg.eml" || rs_die "mfload -o failed"
sed -i "s/@library\.example\.edu/@$DOM/g" "$T/msg.eml"
grep -q "^From: .*@$DOM>" "$T/msg.eml" || rs_die "the message is not From $DOM"
MF=("$MFLOAD" -a 203.0.113.7 -H alma.exlibrisgroup.com -u "$LOGIN" -F alma@exlibrisgroup.com
	-f "$T/msg.eml" -e 2)
CHECK=("$RS_PY" "$top_srcdir/bench/dkimcheck.py" --domain "$DOM"
	--key "rsa2026=$CONSORTIUM_KEYS/inst$(printf %03d "$MID").rsa.key"
	--key "ed2026=$CONSORTIUM_KEYS/inst$(printf %03d "$MID").ed.key" --expect 2)

# ------------------------------------------------------------- helpers

RUN=0
# start_rs CONF: a fresh relaysign on $SOCK; sets RS_PID and RS_LOG.
start_rs() {
	RUN=$((RUN + 1))
	wait_port_free 8891 15 || rs_die "port 8891 still busy"
	RS_LOG="$T/rs$RUN.log"
	start_bg "rs$RUN" 0 "$RELAYSIGN" -f -c "$1"
	RS_PID=$(rs_pid_of "rs$RUN")
}
stop_rs() { stop_bg "rs$RUN" 15; }

# wait_ready: until the filter answers a negotiation (bounded: 60 s);
# prints the milliseconds since START_AT (an $EPOCHREALTIME).
wait_ready() {
	local i out
	for ((i = 0; i < 20000; i++)); do
		out=$("$MFLOAD" -I 1 -T 0 -t 5 "$SOCK" 2>/dev/null)
		case $out in *"RESULT "*" idle=1 "*)
			awk -v a="$START_AT" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1f", (b - a) * 1000 }'
			return 0 ;;
		esac
		kill -0 "$RS_PID" 2>/dev/null || { rs_log "relaysign exited at start-up:"; tail -5 "$RS_LOG" >&2; return 1; }
		[ "$(awk -v a="$START_AT" -v b="$EPOCHREALTIME" 'BEGIN { print (b - a > 60) }')" = 1 ] && break
		sleep 0.002
	done
	rs_log "relaysign did not answer within 60 s"
	return 1
}

# mfrun LABEL DUMPDIR MFLOAD-ARGS...: one mfload run against $RS_PID; sets RES
# (the RESULT line) and OK (ok or FAIL(why)).
mfrun() {
	local label=$1 dump=$2 out chk
	shift 2
	out=$(timeout 300 "${MF[@]}" -L "$label" -d "$dump" -k "$K" -p "$RS_PID" "$@" "$SOCK" 2>&1)
	printf '%s\n\n' "$out" >>"$LOG"
	RES=$(grep '^RESULT' <<<"$out" | tail -1)
	OK=ok
	if [ -z "$RES" ]; then
		OK="FAIL(no result: $(grep -m1 -i 'error\|mfload:' <<<"$out" | cut -c1-60))"
		return 1
	fi
	[ "$(kv "$RES" fail)" = 0 ] || OK="FAIL($(kv "$RES" fail) failed: tempfail=$(kv "$RES" tempfail) reject=$(kv "$RES" reject) broken=$(kv "$RES" broken))"
	[ "$(kv "$RES" sigs_bad)" = 0 ] || OK="FAIL($(kv "$RES" sigs_bad) without 2 signatures)"
	[ "$(kv "$RES" ok)" = "$(kv "$RES" msgs)" ] || OK="FAIL(ok $(kv "$RES" ok) of $(kv "$RES" msgs))"
	[ "$(kv "$RES" ok)" != 0 ] || OK="FAIL(nothing signed)"
	if ! chk=$("${CHECK[@]}" "$dump" 2>>"$LOG"); then
		OK="FAIL(dkimpy: $chk)"
	fi
	echo "dkimcheck $label: $chk" >>"$LOG"
	[ "$OK" = ok ]
}

median() { sort -g | awk '{ v[NR] = $1 } END { if (NR == 0) print "-"; else if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
maxof() { sort -g | tail -1; }
minof() { sort -g | head -1; }

declare -A STARTMS HWM_START HWM_CPU HWM_RELOAD CPU RELOADMS RELOAD_OK RELOAD_RES
declare -a FAILS=()
fail_note() { FAILS+=("$*"); say "FAIL: $*"; }

# --------------------------------------------------------- a. start-up

startup_phase() {
	local c r ms
	for ((r = 1; r <= STARTS; r++)); do
		for c in one big; do
			say "start-up: $c, $r of $STARTS"
			START_AT=$EPOCHREALTIME
			start_rs "$T/$c/relaysign.conf"
			if ms=$(wait_ready); then
				echo "$ms" >>"$T/start.$c"
				[ "$r" = 1 ] && HWM_START[$c]=$(hwm "$RS_PID")
			else
				fail_note "$c: relaysign did not start"
			fi
			stop_rs
		done
	done
	for c in one big; do
		STARTMS[$c]="$(median <"$T/start.$c" 2>/dev/null)"
		STARTMS[$c|max]="$(maxof <"$T/start.$c" 2>/dev/null)"
	done
}

# --------------------------------------------------------------- d. CPU

cpu_phase() {
	local c r cpu
	for ((r = 1; r <= ROUNDS; r++)); do
		for c in one big; do
			say "CPU: $c, round $r of $ROUNDS, $NMSG messages"
			START_AT=$EPOCHREALTIME
			start_rs "$T/$c/relaysign.conf"
			wait_ready >/dev/null || { fail_note "$c: relaysign did not start"; stop_rs; continue; }
			timeout 60 "${MF[@]}" -c 2 -n 20 "$SOCK" >>"$LOG" 2>&1 || fail_note "$c: warm-up failed"
			if mfrun "cpu-$c-$r" "$T/dump/cpu-$c-$r" -c 8 -n "$NMSG"; then
				cpu=$(kv "$RES" cpu_per_1k)
				echo "$cpu" >>"$T/cpu.$c"
				printf '  round %d %-4s %s s CPU per 1,000 signed\n' "$r" "$c" "$cpu" >&2
			else
				fail_note "CPU $c round $r: $OK"
			fi
			HWM_CPU[$c]=$(hwm "$RS_PID")
			[ "$r" = 1 ] && { cp -r "$T/dump/cpu-$c-$r" "$T/dns-check-$c"; }
			stop_rs
		done
	done
	for c in one big; do
		CPU[$c]=$(median <"$T/cpu.$c" 2>/dev/null)
		CPU[$c|range]="$(minof <"$T/cpu.$c" 2>/dev/null)-$(maxof <"$T/cpu.$c" 2>/dev/null)"
	done
}

# dns_check: one signed message of each configuration verifies against the
# private DNS (the 2N published key records), not only against the key files.
dns_check() {
	local c f out
	for c in one big; do
		f=$(find "$T/dns-check-$c" -type f | sort | head -1)
		if [ -z "$f" ]; then
			fail_note "DNS check $c: no dumped message"
			continue
		fi
		if out=$(verify_py "$f" 2>&1); then
			echo "verify.py $c: $out" >>"$LOG"
		else
			fail_note "DNS check $c: $(tr '\n' ' ' <<<"$out")"
		fi
	done
}

# -------------------------------------------------- b. reload under load

# log_ms LINE: the time of day (UTC) of a relaysign log line, in ms.
log_ms() { awk '{ split($1, t, ":"); printf "%.3f", (t[1] * 3600 + t[2] * 60 + t[3]) * 1000 }' <<<"$1"; }
# now_ms_of_day: this clock's UTC time of day in ms, from $EPOCHREALTIME.
sig_ms() { awk -v e="$1" 'BEGIN { printf "%.3f", (e - int(e / 86400) * 86400) * 1000 }'; }

reload_phase() {
	local c k mfpid line i want tsig ms out res which
	for c in one big; do
		say "reload under load: $c, $RELOADS reloads in ${LOAD_SECS} s"
		cp "$T/$c/bindings.A" "$T/$c/bindings"
		START_AT=$EPOCHREALTIME
		start_rs "$T/$c/relaysign.conf"
		wait_ready >/dev/null || { fail_note "$c: relaysign did not start"; stop_rs; continue; }
		: >"$T/reload.$c"
		timeout 300 "${MF[@]}" -L "reload-$c" -c 4 -n 100000000 -D "$LOAD_SECS" \
			-d "$T/dump/reload-$c" -k "$K" -p "$RS_PID" "$SOCK" >"$T/reload-$c.out" 2>&1 &
		mfpid=$!
		sleep 1
		for ((k = 1; k <= RELOADS; k++)); do
			which=B
			[ $((k % 2)) = 0 ] && which=A
			cp "$T/$c/bindings.$which" "$T/$c/bindings.new" && mv -f "$T/$c/bindings.new" "$T/$c/bindings"
			tsig=$EPOCHREALTIME
			kill -HUP "$RS_PID"
			line=""
			for ((i = 0; i < 1000; i++)); do
				line=$(grep -F "reloaded $T/$c/relaysign.conf" "$RS_LOG" | sed -n "${k}p")
				[ -n "$line" ] && break
				grep -q 'reload failed' "$RS_LOG" && break
				sleep 0.01
			done
			if [ -z "$line" ]; then
				fail_note "$c reload $k: no 'reloaded' line within 10 s ($(grep 'reload' "$RS_LOG" | tail -1))"
				break
			fi
			kill -0 "$mfpid" 2>/dev/null || fail_note "$c reload $k: the load had ended: not under load"
			ms=$(awk -v l="$(log_ms "$line")" -v s="$(sig_ms "$tsig")" \
				'BEGIN { d = l - s; if (d < -43200000) d += 86400000; printf "%.1f", d }')
			echo "$ms" >>"$T/reload.$c"
			say "  reload $k ($which): ${ms} ms: $line"
			sleep 1.5
		done
		wait "$mfpid"
		out=$(cat "$T/reload-$c.out")
		printf '%s\n\n' "$out" >>"$LOG"
		res=$(grep '^RESULT' <<<"$out" | tail -1)
		RELOAD_RES[$c]="$(kv "$res" msgs) messages, $(kv "$res" ok) signed, tempfail=$(kv "$res" tempfail) reject=$(kv "$res" reject) lost=$(kv "$res" broken)"
		RELOAD_OK[$c]=ok
		if [ -z "$res" ] || [ "$(kv "$res" fail)" != 0 ] || [ "$(kv "$res" sigs_bad)" != 0 ] ||
			[ "$(kv "$res" ok)" != "$(kv "$res" msgs)" ] || [ "$(kv "$res" ok)" = 0 ]; then
			RELOAD_OK[$c]="FAIL"
			fail_note "reload $c: ${RELOAD_RES[$c]} sigs_bad=$(kv "$res" sigs_bad) ($(grep -m1 'first error' <<<"$out"))"
		fi
		grep -q 'reload failed' "$RS_LOG" && { RELOAD_OK[$c]=FAIL; fail_note "reload $c: $(grep -m1 'reload failed' "$RS_LOG")"; }
		# The configuration in force after the reloads still signs, and verifies.
		mfrun "after-reload-$c" "$T/dump/after-reload-$c" -c 1 -n 5 ||
			{ RELOAD_OK[$c]=FAIL; fail_note "after the reloads, $c: $OK"; }
		HWM_RELOAD[$c]=$(hwm "$RS_PID")
		RELOADMS[$c]=$(median <"$T/reload.$c")
		RELOADMS[$c|max]=$(maxof <"$T/reload.$c")
		stop_rs
	done
}

# -------------------------------------------------------------- report

met() { awk -v v="$1" -v t="$3" -v op="$2" 'BEGIN { if (v == "-" || v == "") { print "?"; exit } if (op == "lt") print (v + 0 < t + 0 ? "met" : "NOT met"); else print (v + 0 <= t + 0 ? "met" : "NOT met") }'; }
mib() { awk -v k="${1:-}" 'BEGIN { if (k == "") print "-"; else printf "%.1f", k / 1024 }'; }

report() {
	local worst_start worst_reload worst_rss cpu_ratio c
	worst_start=$(printf '%s\n' "${STARTMS[big|max]:-}" "${STARTMS[one|max]:-}" | maxof)
	worst_reload=$(printf '%s\n' "${RELOADMS[big|max]:-}" "${RELOADMS[one|max]:-}" | maxof)
	worst_rss=$(printf '%s\n' "${HWM_START[big]:-}" "${HWM_CPU[big]:-}" "${HWM_RELOAD[big]:-}" | maxof)
	cpu_ratio=$(awk -v a="${CPU[big]:-}" -v b="${CPU[one]:-}" 'BEGIN { if (a == "" || b == "" || b + 0 == 0) print "-"; else printf "%.3f", a / b }')
	echo "# relaysign consortium benchmark"
	echo
	echo "Made by \`bench/consortium.sh$([ "$QUICK" = 1 ] && echo ' --quick')\` on $(date -u '+%Y-%m-%d %H:%M UTC') in $(($(date +%s) - T0)) s.$([ "$QUICK" = 1 ] && echo ' QUICK MODE: few, short runs.')"
	echo
	echo "- Host: $(nproc) CPUs, $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1); load average at the start $LOAD_START, at the end $(cut -d' ' -f1-3 /proc/loadavg)"
	echo "- relaysign: $("$RELAYSIGN" -V 2>&1 | head -1), $RELAYSIGN (CFLAGS: $(sed -n 's/^CFLAGS = //p' "$top_builddir/Makefile" 2>/dev/null | head -1)), source at git $GIT_START"
	echo "- Consortium: $N institutions, $NKEYS_BIG keys (RSA-2048 + Ed25519 each), $N auth: bindings; one domain: $DOM, $NKEYS_ONE keys, 1 binding"
	echo "- Messages: 2 KB, From: library@$DOM, {auth_authen} $LOGIN, two signatures each (rsa-sha256, ed25519-sha256)"
	echo
	echo "| figure | 1 domain | $N institutions | $N ÷ 1 | target | |"
	echo "|---|---:|---:|---:|---|---|"
	echo "| start-up to the first negotiation, ms (median of $STARTS; max) | ${STARTMS[one]:--} (${STARTMS[one|max]:--}) | ${STARTMS[big]:--} (${STARTMS[big|max]:--}) | $(awk -v a="${STARTMS[big]:-}" -v b="${STARTMS[one]:-}" 'BEGIN { if (b + 0 > 0) printf "%.1f", a / b; else print "-" }') | < 2,000 ms | $(met "$worst_start" lt 2000) |"
	echo "| SIGHUP to \"reloaded\" under load, ms (median of $RELOADS; max) | ${RELOADMS[one]:--} (${RELOADMS[one|max]:--}) | ${RELOADMS[big]:--} (${RELOADMS[big|max]:--}) | $(awk -v a="${RELOADMS[big]:-}" -v b="${RELOADMS[one]:-}" 'BEGIN { if (b + 0 > 0) printf "%.1f", a / b; else print "-" }') | < 2,000 ms | $(met "$worst_reload" lt 2000) |"
	echo "| messages during the reload run (4 connections, ${LOAD_SECS} s) | ${RELOAD_RES[one]:--} | ${RELOAD_RES[big]:--} | | none tempfailed or lost | ${RELOAD_OK[big]:-?}/${RELOAD_OK[one]:-?} |"
	echo "| peak RSS after start-up, MiB | $(mib "${HWM_START[one]:-}") | $(mib "${HWM_START[big]:-}") | | | |"
	echo "| peak RSS after $NMSG messages (8 connections), MiB | $(mib "${HWM_CPU[one]:-}") | $(mib "${HWM_CPU[big]:-}") | | | |"
	echo "| peak RSS after the reloads under load, MiB | $(mib "${HWM_RELOAD[one]:-}") | $(mib "${HWM_RELOAD[big]:-}") | | < 64 MiB | $(met "$(mib "$worst_rss")" lt 64) |"
	echo "| CPU per 1,000 signed, s (median of $ROUNDS rounds; range) | ${CPU[one]:--} (${CPU[one|range]:--}) | ${CPU[big]:--} (${CPU[big|range]:--}) | $cpu_ratio | ≤ 1.05 | $(met "$cpu_ratio" le 1.05) |"
	echo
	echo "Start-up: process start until tools/mfload completes a milter negotiation (tried every ~5 ms)."
	echo "Reload: from kill -HUP (this script's clock) to the timestamp of relaysign's \"reloaded\" log line,"
	echo "written once the new configuration is in force; each reload installs a changed RelayBindings file."
	echo "CPU: relaysign's utime+stime (/proc/PID/stat) over $NMSG messages, 8 connections, a fresh process"
	echo "per round, the rounds alternating the two configurations."
	echo "Checks: every message with 2 DKIM-Signature fields (mfload -e 2), dkimpy on the first $K of every run,"
	echo "one message of each configuration verified against the private DNS; $(if [ ${#FAILS[@]} = 0 ]; then echo "all passed."; else echo "FAILURES:"; printf -- '- %s\n' "${FAILS[@]}"; fi)"
}

LOAD_START=$(cut -d' ' -f1-3 /proc/loadavg)
GIT_START="$(git -C "$top_srcdir" rev-parse --short HEAD 2>/dev/null || echo '?')"
GIT_START+=" ($(git -C "$top_srcdir" status --porcelain -uno 2>/dev/null | wc -l) files with uncommitted changes)"
mkdir -p "$T/dump"
startup_phase
cpu_phase
dns_check
reload_phase
report >"$T/report.md"
rs_bench_write "$T/report.md" "$BENCH_OUT" "$LOG"
[ ${#FAILS[@]} = 0 ]
