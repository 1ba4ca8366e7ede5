#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# run.sh -- start relaysign with a test configuration and play whole
# milter transactions at it with miltertest (tests/milter/cases.lua).
# Speaks TAP (the Lua script prints the lines).  Exit 77: skipped.
set -u
# skip_all REASON: TAP "skip everything"; a failure under RELAYSIGN_REQUIRE_ALL=1.
skip_all() {
	if [ -n "${RELAYSIGN_REQUIRE_ALL:-}" ]; then
		echo "Bail out! cannot run, and RELAYSIGN_REQUIRE_ALL is set: $*"
		exit 1
	fi
	echo "1..0 # SKIP $*"
	exit 0
}


top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
top_builddir=${top_builddir:-$top_srcdir}
bin=$top_builddir/relaysign

if [ ! -x "$bin" ]; then
	skip_all "$bin not built"
fi
if ! command -v miltertest >/dev/null 2>&1; then
	skip_all "miltertest not installed (apt-get install miltertest)"
fi

# Trusted messages make relaysign check SPF, which asks DNS.  Never let that
# leave the machine: run in a private network and mount namespace whose
# resolv.conf names the namespace's own loopback, where nothing answers (the
# checks end in temperror at once; these cases do not depend on SPF).
if [ -z "${RS_MILTER_SANDBOXED:-}" ]; then
	if [ "$(id -u)" != 0 ] || ! command -v unshare >/dev/null 2>&1; then
		skip_all "needs root and unshare(1) for a private network namespace"
	fi
	resolv=$(mktemp "${TMPDIR:-/tmp}/relaysign-milter-resolv.XXXXXX")
	printf 'nameserver 127.0.0.1\noptions timeout:1 attempts:1\n' >"$resolv"
	RS_MILTER_SANDBOXED=1 RS_MILTER_RESOLV=$resolv \
		unshare --mount --net --fork sh -c '
			ip link set lo up &&
			mount --bind "$RS_MILTER_RESOLV" /etc/resolv.conf &&
			exec sh "$0"' "$0"
	rc=$?
	rm -f "$resolv"
	exit $rc
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/relaysign-milter.XXXXXX")
pid=
cleanup() {
	if [ -n "$pid" ]; then
		kill "$pid" 2>/dev/null
		# libmilter may take a few seconds to finish after SIGTERM.
		i=0
		while kill -0 "$pid" 2>/dev/null && [ $i -lt 100 ]; do
			sleep 0.1
			i=$((i + 1))
		done
		kill -9 "$pid" 2>/dev/null
	fi
	rm -rf "$tmp"
}
trap cleanup EXIT INT TERM

umask 077
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$tmp/rsa.key" 2>/dev/null
openssl genpkey -algorithm ed25519 -out "$tmp/ed.key" 2>/dev/null

# A port of our own: the pid keeps parallel runs apart.
port=$((20000 + $$ % 20000))
sock="inet:$port@127.0.0.1"
cat > "$tmp/relaysign.conf" <<CONF
Socket $sock
AuthservID relay.test
RelayNetworks 192.0.2.0/24, 2001:db8::/32
RelayAuthUsers alma
Domain library.example.edu
Selector rsa2026 ed2026
KeyFile $tmp/rsa.key $tmp/ed.key
SignatureAlgorithm rsa-sha256 ed25519-sha256
Background no
Syslog no
LogLevel debug
ReturnPath bounces@library.example.edu
CONF

"$bin" -f -c "$tmp/relaysign.conf" 2>"$tmp/log" &
pid=$!

# miltertest connects with retries; the Lua script prints TAP.
miltertest -s "$top_srcdir/tests/milter/cases.lua" -D "sock=$sock" >"$tmp/out" 2>&1
rc=$?
# The plan line goes last, after our own checks below.
grep -v '^1\.\.' "$tmp/out"
if [ $rc -ne 0 ] || grep -q '^not ok' "$tmp/out"; then
	echo "# relaysign log:"
	sed 's/^/#   /' "$tmp/log"
	grep '^1\.\.' "$tmp/out"
	exit 1
fi
# Every signed message produced its log line.
signed=$(grep -c 'action=signed' "$tmp/log")
rewritten=$(grep -c 'action=signed.* return-path=bounces@library.example.edu was=alma@exlibrisgroup.com' "$tmp/log")
stray=$(grep 'return-path=' "$tmp/log" | grep -vc 'action=signed')
negotiated=$(grep -c 'ReturnPath is set, but the MTA does not offer' "$tmp/log")
n=$(grep -c '^ok ' "$tmp/out")

# Stop it as an init system would, with a message in flight and a new
# session arriving meanwhile (tests/milter/drain.py sends the SIGTERM): it
# must exit 0, and a sanitizer build must have nothing to report (leaks are
# reported at exit).
python3 "$top_srcdir/tests/milter/drain.py" 127.0.0.1 "$port" "$pid" $((n + 1)) \
	>"$tmp/drain" 2>&1
drc=$?
grep -E '^(not )?ok ' "$tmp/drain"
n=$((n + $(grep -cE '^(not )?ok ' "$tmp/drain")))
kill -TERM "$pid" 2>/dev/null	# in case drain.py failed before its SIGTERM
if [ $drc -ne 0 ]; then
	grep -vE '^(not )?ok ' "$tmp/drain" | sed 's/^/#   /'
	sed 's/^/#   /' "$tmp/log"
	echo "1..$n"
	exit 1
fi
status=0
wait "$pid" || status=$?
pid=
n=$((n + 1))
if [ "$status" -eq 0 ]; then
	echo "ok $n - relaysign exits 0 on SIGTERM"
else
	echo "not ok $n - relaysign exits 0 on SIGTERM (status $status)"
	sed 's/^/#   /' "$tmp/log"
	echo "1..$n"
	exit 1
fi
n=$((n + 1))
if grep -q 'Sanitizer\|runtime error:' "$tmp/log"; then
	echo "not ok $n - no sanitizer report from relaysign"
	sed 's/^/#   /' "$tmp/log"
	echo "1..$n"
	exit 1
fi
echo "ok $n - no sanitizer report from relaysign"
n=$((n + 1))
if [ "$signed" -eq 8 ]; then
	echo "ok $n - one log line per signed message (8)"
else
	echo "not ok $n - one log line per signed message: expected 8, got $signed"
	echo "1..$n"
	exit 1
fi
# ReturnPath: every signed message but the two from the null sender gets
# the library's envelope sender, nothing unsigned does; an MTA without
# SMFIF_CHGFROM is named in an error, once per such connection.
n=$((n + 1))
if [ "$rewritten" -eq 6 ] && [ "$stray" -eq 0 ] && [ "$negotiated" -eq 3 ]; then
	echo "ok $n - ReturnPath: 6 of 8 signed rewritten (not the null sender), none unsigned, 3 connections without SMFIF_CHGFROM named"
else
	echo "not ok $n - ReturnPath: rewritten $rewritten (want 6), on unsigned $stray (want 0), refused negotiations $negotiated (want 3)"
	sed 's/^/#   /' "$tmp/log"
	echo "1..$n"
	exit 1
fi
echo "1..$n"
exit 0
