#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# bench/ab.sh -- what a change costs: two relaysign binaries (or one binary
# with two configurations) side by side at the milter level, in one run.
#
#   bash bench/ab.sh [-n MSGS] [-r ROUNDS] [-c CONNS] NAME=BINARY[:EXTRA-CONF] ...
#
# Each NAME is a relaysign binary, optionally with a file of extra
# configuration lines (ReturnPath, RelayBindings ...) appended to the
# common one (RSA-2048, RelayNetworks 192.0.2.0/24, the client mfload
# plays).  Rounds alternate the contenders, so a machine that slows down
# or speeds up during the run does not favour one; each round starts a
# fresh relaysign, sends MSGS 2 KB messages over CONNS connections with
# tools/mfload (every one must come back with one DKIM-Signature) and
# reads the filter's user+sys CPU.  Prints, per contender, the median and
# the range of the CPU per 1,000 messages, and the ratio to the first.
# Everything runs in a private network namespace (tools/lib.sh).
#
# Example (the seal and ReturnPath of 2026-12-03):
#   echo 'ReturnPath bounces@library.example.edu' >/tmp/rp.conf
#   bash bench/ab.sh old=/tmp/old/relaysign new=./relaysign \
#       new+rp=./relaysign:/tmp/rp.conf
#
# Environment: MFLOAD (default $top_builddir/tools/mfload), top_srcdir,
# top_builddir.  Needs root.
set -u

N=3000
ROUNDS=5
CONNS=8
while getopts n:r:c: o; do
	case $o in
	n) N=$OPTARG ;;
	r) ROUNDS=$OPTARG ;;
	c) CONNS=$OPTARG ;;
	*) sed -n '2,/^set -u/p' "$0" | sed 's/^# \{0,1\}//;/^set -u/d' >&2; exit 2 ;;
	esac
done
shift $((OPTIND - 1))
[ $# -ge 1 ] || { echo "usage: bench/ab.sh [-n MSGS] [-r ROUNDS] [-c CONNS] NAME=BINARY[:CONF] ..." >&2; exit 2; }

# shellcheck disable=SC2034  # read by tools/lib.sh
RS_NAME=bench-ab
# shellcheck source=tools/lib.sh
. "${top_srcdir:-$(dirname "$0")/..}/tools/lib.sh"
MFLOAD=${MFLOAD:-$top_builddir/tools/mfload}
[ -x "$MFLOAD" ] || rs_die "mfload not built: $MFLOAD (make tools/mfload)"
[ "$(id -u)" = 0 ] || rs_die "needs root (a private network namespace)"

rs_sandbox "$0" -n "$N" -r "$ROUNDS" -c "$CONNS" "$@"
rs_init bench-ab
T=$RS_TMP

openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$T/rsa.key" 2>/dev/null &&
	chmod 600 "$T/rsa.key" || rs_die "openssl genpkey failed"

names=()
for spec in "$@"; do
	name=${spec%%=*}
	rest=${spec#*=}
	bin=${rest%%:*}
	extra=""
	[ "$rest" != "$bin" ] && extra=${rest#*:}
	[ -x "$bin" ] || rs_die "$name: $bin is not an executable"
	{
		echo "Socket inet:8891@127.0.0.1"
		echo "AuthservID relay.test"
		echo "RelayNetworks 192.0.2.0/24"
		echo "Domain library.example.edu"
		echo "Selector rsa2026"
		echo "KeyFile $T/rsa.key"
		echo "Background no"
		echo "Syslog no"
		echo "LogLevel notice"
		[ -n "$extra" ] && cat "$extra"
	} >"$T/$name.conf"
	"$bin" -n -c "$T/$name.conf" >/dev/null 2>&1 || rs_die "$name: relaysign -n refuses $T/$name.conf"
	names+=("$name")
	eval "BIN_$((${#names[@]} - 1))=\$bin"
done

echo "# $(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) CPUs, $N messages x $ROUNDS rounds, $CONNS connections"
for ((r = 1; r <= ROUNDS; r++)); do
	for ((i = 0; i < ${#names[@]}; i++)); do
		name=${names[$i]}
		eval "bin=\$BIN_$i"
		wait_port_free 8891 10
		start_bg "relaysign-$name" 8891 "$bin" -f -c "$T/$name.conf" ||
			rs_die "$name did not start"
		pid=$(rs_pid_of "relaysign-$name")
		out=$("$MFLOAD" -c "$CONNS" -n "$N" -e 1 -p "$pid" -L "$name" inet:8891@127.0.0.1 2>&1)
		res=$(grep '^RESULT' <<<"$out")
		grep -q ' fail=0 sigs_bad=0 ' <<<"$res" && grep -q " ok=$N " <<<"$res" ||
			{ echo "$out" >&2; rs_die "$name: not every message came back signed"; }
		cpu=$(sed -n 's/.* cpu_per_1k=\([0-9.]*\).*/\1/p' <<<"$res")
		echo "$name $cpu" >>"$T/cpu"
		printf '  round %d %-10s %s s CPU per 1,000\n' "$r" "$name" "$cpu"
		stop_bg "relaysign-$name"
	done
done

first=""
printf '\n| contender | CPU per 1,000 signed (median, s) | range | vs %s |\n|---|---|---|---|\n' "${names[0]}"
for name in "${names[@]}"; do
	med=$(awk -v n="$name" '$1 == n { print $2 }' "$T/cpu" | sort -g |
		awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }')
	range=$(awk -v n="$name" '$1 == n { print $2 }' "$T/cpu" | sort -g | sed -n '1p;$p' | paste -sd- -)
	[ -z "$first" ] && first=$med
	printf '| %s | %.3f | %s | %.3f |\n' "$name" "$med" "$range" "$(awk -v a="$med" -v b="$first" 'BEGIN { print a / b }')"
done
