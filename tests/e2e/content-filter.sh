#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# tests/e2e/content-filter.sh -- a message that passes relaysign twice (TAP).
#
# An after-queue content_filter whose reinjection service still runs the
# milter (no "-o smtpd_milters=", the mistake README step 5 warns about)
# sends every message through relaysign a second time, as from 127.0.0.1.
# With RelayNetworks covering loopback, relaysign used to sign every notice
# twice and to sign a stranger's forgery on the second pass; without it, it
# removed its own Authentication-Results as forged.  Here a private Postfix
# plays both sides: content_filter = smtp:[127.0.0.1]:10026, and a second
# smtpd on 127.0.0.1:10026 reinjects (Postfix is its own "filter").
#
#   1. RelayNetworks 192.0.2.0/24, 127.0.0.1 (loopback trusted, warned):
#      (a) the vendor's notice: two signatures (not four) that dkimpy
#          verifies, one Authentication-Results of ours saying signed; the
#          second pass logs action=accept reason=already-handled
#      (b) a stranger's forgery (203.0.113.7, From our domain): delivered
#          unsigned, marked tagged/untrusted; the second pass does not sign
#   2. SIGHUP to RelayNetworks 192.0.2.0/24 (the advice): the seal outlives
#      the reload, so on the untrusted second pass
#      (c) our own result is kept, and the notice still verifies.
# Then: nothing lost or bounced, relaysign stops cleanly, no sanitizer report.
#
# Environment: top_srcdir, top_builddir, RELAYSIGN, RS_KEEP=1.
set -u

# shellcheck source=tools/lib.sh
. "${top_srcdir:-$(dirname "$0")/../..}/tools/lib.sh" --with-extra
rx_postfix_scenario content-filter "" "$@"
FILTER_PORT=10026

tap_plan 16

rx_setup_keys_dns || rs_die "cannot start the DNS server"
rx_write_conf "$T/relaysign.conf" "Socket inet:8891@127.0.0.1" \
	"RelayNetworks 192.0.2.0/24, 127.0.0.1"
out=$("$RELAYSIGN" -n -c "$T/relaysign.conf" 2>&1)
if [ $? = 0 ] && grep -q 'RelayNetworks trusts loopback' <<<"$out"; then
	tap_ok "relaysign -n accepts RelayNetworks with 127.0.0.1, and warns"
else
	tap_not_ok "relaysign -n accepts RelayNetworks with 127.0.0.1, and warns"
	tap_diag "$out"
fi
rx_start_milter relaysign "$T/relaysign.conf" || { diag_log "$LOG" 30; rs_die "relaysign did not start"; }
start_sink "$T/sink" || rs_die "cannot start smtp-sink"
# The reinjection service: milters left on (the mistake), no second filter,
# and a name of its own, or Postfix's smtp client sees a loop to itself.
RS_POSTFIX_MASTER="127.0.0.1:$FILTER_PORT inet n - n - - smtpd
  -o content_filter=
  -o myhostname=filter.relay.test" \
	start_postfix inet:127.0.0.1:8891 "content_filter = smtp:[127.0.0.1]:$FILTER_PORT" ||
	rs_die "cannot start the private Postfix"

SENT=0
# send NAME ADDR FROM: one message through the first smtpd; F = delivered file.
send() {
	local name=$1 addr=$2 from=$3 m="$T/m.$1"
	printf 'From: %s\r\nTo: patron@example.net\r\nSubject: content filter %s\r\nDate: Sun, 22 Nov 2026 08:00:00 +0000\r\nMessage-ID: <%s.%s@alma.exlibrisgroup.com>\r\nX-Case: cf.%s.%s\r\n\r\nYour loan is due.\r\n' \
		"$from" "$name" "$name" "$$" "$name" "$$" >"$m"
	F=""
	if ! rx_send_raw "$addr" "$m"; then
		tap_not_ok "($name) Postfix accepted it: $RX_REPLY"
		return 1
	fi
	SENT=$((SENT + 1))
	F=$(wait_delivered "X-Case: cf.$name.$$" 30) || F=""
	[ -n "$F" ]
}

# second_pass: relaysign's line for the pass from 127.0.0.1 (waits up to 3 s).
second_pass() {
	local i n=$1
	for ((i = 0; i < 30; i++)); do
		grep -F 'client=[127.0.0.1]' "$LOG" 2>/dev/null | sed -n "${n}p" | grep . && return 0
		sleep 0.1
	done
	return 1
}

# verify_two FILE: dkimpy passes the RSA and the Ed25519 signature of d=$D.
verify_two() {
	local out
	out=$(verify_py "$1" 2>&1)
	grep -q "d=$D s=rsa2026 a=rsa-sha256 result=pass" <<<"$out" &&
		grep -q "d=$D s=ed2026 a=ed25519-sha256 result=pass" <<<"$out" && return 0
	echo "$out"
	return 1
}

# our_results FILE: how many Authentication-Results fields claim our id.
our_results() { rx_our_ar "$1" | grep -c "^$RX_AUTHSERV" || true; }

# --- (a) the vendor's notice, loopback trusted -----------------------------
if send a 192.0.2.10 "Library <library@$D>"; then
	tap_ok "(a) the notice went through the content filter and was delivered"
	n=$(hdr_count "$F" DKIM-Signature)
	if [ "$n" = 2 ] && out=$(verify_two "$F"); then
		tap_ok "(a) two signatures (RSA, Ed25519), not four; dkimpy verifies both"
	else
		tap_not_ok "(a) two signatures, not four: $n"
		tap_diag "$out"
		diag_message "$F"
	fi
	n=$(our_results "$F")
	if [ "$n" = 1 ] && [ "$(rx_result "$F")" = signed ]; then
		tap_ok "(a) one Authentication-Results of ours, from the first pass: signed"
	else
		tap_not_ok "(a) one Authentication-Results of ours: $n, $(rx_result "$F")"
		diag_message "$F"
	fi
else
	tap_not_ok "(a) delivered"
	tap_not_ok "(a) two signatures" && tap_not_ok "(a) one result"
fi
l=$(second_pass 1) || l=""
if grep -q 'relay=network.*action=accept reason=already-handled' <<<"$l"; then
	tap_ok "(a) second pass logged: relay=network, action=accept reason=already-handled"
else
	tap_not_ok "(a) second pass logged action=accept reason=already-handled"
	tap_diag "${l:-no line for client=[127.0.0.1]}"
	diag_log "$LOG" 20
fi

# --- (b) a stranger's forgery, loopback trusted ---------------------------
if send b 203.0.113.7 "Library <library@$D>"; then
	tap_ok "(b) the forgery was delivered"
	r=$(rx_result "$F")
	if [ "$r" = tagged:untrusted ] && [ "$(hdr_count "$F" DKIM-Signature)" = 0 ]; then
		tap_ok "(b) not signed on either pass; marked tagged/untrusted"
	else
		tap_not_ok "(b) not signed on either pass: $r"
		diag_message "$F"
	fi
else
	tap_not_ok "(b) delivered"
	tap_not_ok "(b) not signed"
fi
l=$(second_pass 2) || l=""
if grep -q 'action=accept reason=already-handled' <<<"$l" && ! grep -q 'action=signed' <<<"$l"; then
	tap_ok "(b) second pass logged action=accept reason=already-handled, not signed"
else
	tap_not_ok "(b) second pass: not signed"
	tap_diag "${l:-no line for client=[127.0.0.1]}"
fi

# --- (c) after SIGHUP, loopback no longer trusted -------------------------
rx_write_conf "$T/relaysign.conf" "Socket inet:8891@127.0.0.1" "RelayNetworks 192.0.2.0/24"
pid=$(rs_pid_of relaysign) && kill -HUP "$pid"
for ((i = 0; i < 50; i++)); do
	grep -q 'reloaded ' "$LOG" 2>/dev/null && break
	sleep 0.1
done
if grep -q 'reloaded ' "$LOG"; then
	tap_ok "(c) SIGHUP: the configuration without 127.0.0.1 is in use"
else
	tap_not_ok "(c) SIGHUP: reloaded"
	diag_log "$LOG" 10
fi
if send c 192.0.2.10 "Library <library@$D>"; then
	tap_ok "(c) the notice was delivered"
	n=$(our_results "$F")
	if [ "$n" = 1 ] && [ "$(rx_result "$F")" = signed ] && verify_two "$F" >/dev/null; then
		tap_ok "(c) untrusted second pass kept our sealed result (signed), and it verifies"
	else
		tap_not_ok "(c) our result kept: $n of ours, $(rx_result "$F")"
		diag_message "$F"
	fi
else
	tap_not_ok "(c) delivered"
	tap_not_ok "(c) our result kept"
fi
l=$(second_pass 3) || l=""
if grep -q 'relay=none.*action=accept reason=already-handled' <<<"$l"; then
	tap_ok "(c) second pass logged relay=none action=accept reason=already-handled"
else
	tap_not_ok "(c) second pass logged relay=none, already-handled"
	tap_diag "${l:-no line for client=[127.0.0.1]}"
fi

# --- nothing lost ------------------------------------------------------------
rx_nothing_lost "$SENT" sent
stop_postfix
rx_finish_milter "$LOG"
tap_done
