#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# tests/e2e/bounces.sh -- ReturnPath through a real Postfix: bounces come home (TAP).
#
# relaysign with "ReturnPath bounces@library.example.edu" in front of a
# private Postfix on 127.0.0.1, all inside private namespaces:
#   patron's server    smtp-sink on $RS_SINK_PORT (the relayhost)
#   dead.example.net   smtp-sink -f RCPT: every recipient refused with 5xx
#   library.example.edu  smtp-sink: the library's bounce mailbox
# An Alma-style notice from the trusted relay (MAIL FROM
# <alma@exlibrisgroup.com> RET=HDRS ENVID=...) to one live patron and one
# dead address:
#   - the live copy arrives with MAIL FROM <bounces@library.example.edu>,
#     its signatures verify (dkimpy), our Authentication-Results names the
#     new return path, the log line says return-path=... was=...;
#   - Postfix's DSN for the dead address goes to the library's mailbox,
#     from <>, carrying ENVID, returning what the same DSN returns for a
#     message whose sender was not changed (RET), and nothing goes back
#     to the vendor;
#   - SPF of the new identity, checked with libspf2 (relaysign -t with
#     OutboundAddresses 127.0.0.1) against the private DNS, passes; with
#     an address the record does not name, it fails.
# The same notice from a stranger (not signed) and from the null sender
# (signed) keep their envelope: never rewritten when not signed, and a
# bounce stays a bounce.
#
# Environment: top_srcdir, top_builddir, RELAYSIGN, RS_KEEP=1.
set -u

# shellcheck source=tools/lib.sh
. "${top_srcdir:-$(dirname "$0")/../..}/tools/lib.sh" --with-extra
rx_postfix_scenario bounces "" "$@"
RP=bounces@$D
DEAD_PORT=$((RS_SINK_PORT + 1))
BOX_PORT=$((RS_SINK_PORT + 2))

tap_plan 18

# The library's SPF record names the relay (127.0.0.1 here) and nothing else.
RX_SPF="v=spf1 ip4:127.0.0.1 -all" rx_setup_keys_dns || rs_die "cannot start the DNS server"
rx_write_conf "$T/relaysign.conf" "Socket inet:8891@127.0.0.1" \
	"RelayNetworks 192.0.2.0/24" "ReturnPath $RP" "OutboundAddresses 127.0.0.1"
if out=$("$RELAYSIGN" -n -c "$T/relaysign.conf" 2>&1); then
	tap_ok "relaysign -n accepts ReturnPath $RP"
else
	tap_not_ok "relaysign -n accepts ReturnPath $RP"
	tap_diag "$out"
fi
if out=$("$RELAYSIGN" -t -c "$T/relaysign.conf" 2>&1) &&
	grep -qF "ReturnPath $RP from 127.0.0.1: spf=pass" <<<"$out"; then
	tap_ok "SPF (libspf2, relaysign -t) of the new identity passes for the relay's address"
else
	tap_not_ok "SPF of the new identity passes for the relay's address"
	tap_diag "$out"
fi
rx_write_conf "$T/other.conf" "RelayNetworks 192.0.2.0/24" "ReturnPath $RP" \
	"OutboundAddresses 198.51.100.25"
out=$("$RELAYSIGN" -t -c "$T/other.conf" 2>&1)
if [ $? = 1 ] && grep -qF "ReturnPath $RP from 198.51.100.25: spf=fail" <<<"$out"; then
	tap_ok "... and fails for an address the record does not name (relaysign -t exit 1)"
else
	tap_not_ok "SPF of the new identity fails for another address"
	tap_diag "$out"
fi

rx_start_milter relaysign "$T/relaysign.conf" || { diag_log "$LOG" 30; rs_die "relaysign did not start"; }
start_sink "$T/sink" || rs_die "cannot start smtp-sink"
mkdir -p "$T/dead" "$T/box" && chown nobody "$T/dead" "$T/box"
start_bg sink-dead "$DEAD_PORT" smtp-sink -u nobody -f RCPT -d "$T/dead/%Y%m%d%H%M%S." \
	"127.0.0.1:$DEAD_PORT" 100 || rs_die "cannot start the refusing sink"
start_bg sink-box "$BOX_PORT" smtp-sink -u nobody -d "$T/box/%Y%m%d%H%M%S." \
	"127.0.0.1:$BOX_PORT" 100 || rs_die "cannot start the library's mailbox"
start_postfix inet:127.0.0.1:8891 \
	"transport_maps = inline:{dead.example.net=smtp:[127.0.0.1]:$DEAD_PORT, $D=smtp:[127.0.0.1]:$BOX_PORT}" ||
	rs_die "cannot start the private Postfix"

# notice NAME: a notice file with an X-Case marker.
notice() {
	printf 'From: Library <library@%s>\r\nTo: patron@example.net\r\nSubject: Overdue %s\r\nDate: Sun, 22 Nov 2026 08:00:00 +0000\r\nMessage-ID: <%s.%s@alma.exlibrisgroup.com>\r\nX-Case: bounce.%s.%s\r\n\r\nPlease return the book. BODY-MARKER-%s\r\n' \
		"$D" "$1" "$1" "$$" "$1" "$$" "$1" >"$T/m.$1"
}

# box_for TEXT: the library mailbox file holding TEXT (waits up to 30 s).
box_for() {
	local i f
	for ((i = 0; i < 300; i++)); do
		f=$(grep -lF -- "$1" "$T"/box/* 2>/dev/null | head -1)
		[ -n "$f" ] && { echo "$f"; return 0; }
		sleep 0.1
	done
	return 1
}

logline() { rx_logline "$1"; }

# --- the trusted relay's notice: one live patron, one dead address --------
ENVID="notice-$$"
notice a
if rx_send_raw 192.0.2.10 "$T/m.a" --to dead@dead.example.net \
	--mail-param RET=HDRS --mail-param "ENVID=$ENVID"; then
	tap_ok "(a) Postfix accepted the notice (queue id $RX_QID)"
else
	tap_not_ok "(a) Postfix accepted the notice: $RX_REPLY"
fi
QID=$RX_QID
F=$(wait_delivered "X-Case: bounce.a.$$" 30) || F=""
if [ -n "$F" ] && grep -q "^X-Mail-Args: <$RP>" "$F"; then
	tap_ok "(a) the patron's copy arrives with MAIL FROM <$RP>"
else
	tap_not_ok "(a) the patron's copy arrives with MAIL FROM <$RP>"
	[ -n "$F" ] && diag_message "$F"
fi
if [ -n "$F" ] && out=$(verify_py "$F" 2>&1) &&
	grep -q "d=$D s=rsa2026 a=rsa-sha256 result=pass" <<<"$out" &&
	grep -q "d=$D s=ed2026 a=ed25519-sha256 result=pass" <<<"$out"; then
	tap_ok "(a) both signatures verify (dkimpy)"
else
	tap_not_ok "(a) both signatures verify (dkimpy)"
	tap_diag "${out:-not delivered}"
fi
if [ -n "$F" ] && rx_our_ar "$F" | grep -q "x-relaysign=signed.*policy.return-path=\"$RP\""; then
	tap_ok "(a) our Authentication-Results says signed, policy.return-path=\"$RP\""
else
	tap_not_ok "(a) our Authentication-Results names the return path"
	[ -n "$F" ] && tap_diag "$(rx_our_ar "$F")"
fi
l=$(logline "$QID") || l=""
if grep -q "action=signed.* return-path=$RP was=alma@exlibrisgroup.com" <<<"$l"; then
	tap_ok "(a) log: action=signed ... return-path=$RP was=alma@exlibrisgroup.com"
else
	tap_not_ok "(a) log line names the new and the old sender"
	tap_diag "${l:-no line for $QID}"
fi
B=$(box_for "dead@dead.example.net") || B=""
if [ -n "$B" ] && grep -q "^X-Rcpt-Args: <$RP>" "$B" && grep -q '^X-Mail-Args: <>' "$B"; then
	tap_ok "(a) the DSN for dead@dead.example.net reaches the library's mailbox, from <>"
else
	tap_not_ok "(a) the DSN reaches the library's mailbox"
	tap_diag "mailbox: $(ls "$T/box" 2>/dev/null | tr '\n' ' ')" "sinks: $(ls "$T/sink" | wc -l) files"
	[ -n "$B" ] && diag_message "$B"
fi
if [ -n "$B" ] && grep -qi "^Original-Envelope-Id: $ENVID" "$B" &&
	grep -qF "X-Case: bounce.a.$$" "$B"; then
	tap_ok "(a) the DSN keeps the notice's ENVID ($ENVID)"
else
	tap_not_ok "(a) the DSN keeps ENVID"
	[ -n "$B" ] && diag_message "$B"
fi
if ! grep -lq "^X-Rcpt-Args: <alma@exlibrisgroup.com>" "$T"/sink/* 2>/dev/null; then
	tap_ok "(a) nothing goes back to the vendor"
else
	tap_not_ok "(a) nothing goes back to the vendor"
fi

# --- a stranger's copy (not signed) and the null sender (a bounce) ----------
# The stranger's notice also has a dead address and RET=HDRS: its DSN goes
# to the vendor's (unchanged) sender, and is the control for RET: Postfix
# treats RET the same whether relaysign changed the sender or not.
notice b
rx_send_raw 203.0.113.7 "$T/m.b" --to dead@dead.example.net \
	--mail-param RET=HDRS --mail-param "ENVID=ctl-$$" || true
C=$(wait_delivered "Original-Envelope-Id: ctl-$$" 30) || C=""
# The copy, not the DSN that quotes its headers.
F=$(grep -lF "X-Case: bounce.b.$$" "$T"/sink/* 2>/dev/null | xargs -r grep -L '^X-Mail-Args: <>' |
	head -1)
if [ -n "$F" ] && grep -q '^X-Mail-Args: <alma@exlibrisgroup.com>' "$F" &&
	[ "$(hdr_count "$F" DKIM-Signature)" = 0 ] && [ -n "$C" ] &&
	grep -q '^X-Rcpt-Args: <alma@exlibrisgroup.com>' "$C"; then
	tap_ok "(b) a stranger's notice: not signed, its sender unchanged, its DSN to that sender"
else
	tap_not_ok "(b) a stranger's notice keeps its envelope sender"
	[ -n "$F" ] && diag_message "$F"
fi
if [ -n "$B" ] && [ -n "$C" ] &&
	[ "$(grep -c 'BODY-MARKER' "$B")" = "$(grep -c 'BODY-MARKER' "$C")" ]; then
	tap_ok "(a) RET=HDRS: the DSN returns what the unrewritten control's does"
else
	tap_not_ok "(a) RET=HDRS: the DSN returns what the unrewritten control's does"
fi
notice c
rx_send_raw 192.0.2.10 "$T/m.c" --from "" || true
F=$(wait_delivered "X-Case: bounce.c.$$" 30) || F=""
if [ -n "$F" ] && grep -q '^X-Mail-Args: <>' "$F" && [ "$(hdr_count "$F" DKIM-Signature)" = 2 ]; then
	tap_ok "(c) the null sender: signed, and still <> (a bounce stays a bounce)"
else
	tap_not_ok "(c) the null sender is signed and stays <>"
	[ -n "$F" ] && diag_message "$F"
fi

# --- nothing lost -----------------------------------------------------------------
if wait_queue_empty 30 2>/dev/null; then
	tap_ok "Postfix's queue is empty: every copy and the DSN delivered"
else
	tap_not_ok "Postfix's queue is empty"
	tap_diag "$(postqueue -c "$RS_POSTFIX_DIR" -p 2>&1 | tail -20)"
fi
n=$(grep -c 'status=bounced' "$(postfix_log)" 2>/dev/null || true)
if [ "$n" = 2 ]; then
	tap_ok "exactly two recipients bounced (the dead address, twice)"
else
	tap_not_ok "exactly two recipients bounced: $n"
fi
stop_postfix
rx_finish_milter "$LOG"
tap_done
