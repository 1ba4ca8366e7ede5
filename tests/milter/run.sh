#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# run.sh -- start relaysign with a test configuration and play whole
# milter transactions at it with miltertest (tests/milter/cases.lua).
# Speaks TAP (the Lua script prints the lines); skipped (1..0) when
# relaysign is not built or the machine cannot give it a private network.
set -u

# shellcheck source=tools/lib.sh
. "${top_srcdir:-$(dirname "$0")/../..}/tools/lib.sh"
bin=$top_builddir/relaysign

[ -x "$bin" ] || tap_skip_all "$bin not built"
command -v miltertest >/dev/null 2>&1 ||
	tap_skip_all "miltertest not installed (apt-get install miltertest)"
# Trusted messages make relaysign check SPF, which asks DNS.  Never let that
# leave the machine: a private network namespace whose resolv.conf names
# its own loopback, where nothing answers (the checks end in temperror at
# once; these cases do not depend on SPF).
{ [ "$(id -u)" = 0 ] && command -v unshare >/dev/null 2>&1; } ||
	tap_skip_all "needs root and unshare(1) for a private network namespace"
rs_sandbox "$0" "$@"
rs_init milter
tmp=$RS_TMP

umask 077
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$tmp/rsa.key" 2>/dev/null
openssl genpkey -algorithm ed25519 -out "$tmp/ed.key" 2>/dev/null

# The namespace's network is ours alone: any port is free.
port=8891
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
rs_track "$pid" relaysign	# stopped at exit (rs_init's trap) if still running

# miltertest connects with retries; the Lua script prints TAP.
miltertest -s "$top_srcdir/tests/milter/cases.lua" -D "sock=$sock" >"$tmp/out" 2>&1
rc=$?
# The plan line goes last, after our own checks below.
grep -v '^1\.\.' "$tmp/out"
if [ $rc -ne 0 ] || grep -q '^not ok' "$tmp/out"; then
	diag_log "$tmp/log" 200
	grep '^1\.\.' "$tmp/out"
	exit 1
fi
# Every signed message produced its log line.
signed=$(grep -c 'action=signed' "$tmp/log")
rewritten=$(grep -c 'action=signed.* return-path=bounces@library.example.edu was=alma@exlibrisgroup.com' "$tmp/log")
stray=$(grep 'return-path=' "$tmp/log" | grep -vc 'action=signed')
negotiated=$(grep -c 'ReturnPath is set, but the MTA does not offer' "$tmp/log")
RS_TAP_N=$(grep -c '^ok ' "$tmp/out")

# Stop it as an init system would, with a message in flight and a new
# session arriving meanwhile (tests/milter/drain.py sends the SIGTERM): it
# must exit 0, and a sanitizer build must have nothing to report (leaks are
# reported at exit).
"$RS_PY" "$top_srcdir/tests/milter/drain.py" 127.0.0.1 "$port" "$pid" $((RS_TAP_N + 1)) \
	>"$tmp/drain" 2>&1
drc=$?
grep -E '^(not )?ok ' "$tmp/drain"
RS_TAP_N=$((RS_TAP_N + $(grep -cE '^(not )?ok ' "$tmp/drain")))
kill -TERM "$pid" 2>/dev/null	# in case drain.py failed before its SIGTERM
if [ $drc -ne 0 ]; then
	tap_diag "$(grep -vE '^(not )?ok ' "$tmp/drain")"
	diag_log "$tmp/log" 200
	echo "1..$RS_TAP_N"
	exit 1
fi
status=0
wait "$pid" || status=$?
if [ "$status" -eq 0 ]; then
	tap_ok "relaysign exits 0 on SIGTERM"
else
	tap_not_ok "relaysign exits 0 on SIGTERM (status $status)"
	diag_log "$tmp/log" 200
fi
if grep -q 'Sanitizer\|runtime error:' "$tmp/log"; then
	tap_not_ok "no sanitizer report from relaysign"
	diag_log "$tmp/log" 200
else
	tap_ok "no sanitizer report from relaysign"
fi
tap_check "one log line per signed message: expected 8, got $signed" [ "$signed" -eq 8 ]
# ReturnPath: every signed message but the two from the null sender gets
# the library's envelope sender, nothing unsigned does; an MTA without
# SMFIF_CHGFROM is named in an error, once per such connection.
if [ "$rewritten" -eq 6 ] && [ "$stray" -eq 0 ] && [ "$negotiated" -eq 3 ]; then
	tap_ok "ReturnPath: 6 of 8 signed rewritten (not the null sender), none unsigned, 3 connections without SMFIF_CHGFROM named"
else
	tap_not_ok "ReturnPath: rewritten $rewritten (want 6), on unsigned $stray (want 0), refused negotiations $negotiated (want 3)"
	diag_log "$tmp/log" 200
fi
echo "1..$RS_TAP_N"
tap_done
