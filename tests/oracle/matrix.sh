#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# tests/oracle/matrix.sh -- the signing-oracle matrix through a real Postfix (TAP).
#
# relaysign must never sign for anyone it does not trust, nor for any domain
# but the exact signing domain, nor a message without exactly one author.
# This test sends one message for every cell of
#
#   {trusted by network, by SMTP AUTH login, by vendor SPF name,
#    untrusted, untrusted with an unlisted login}
#   x {From in the signing domain (two spellings), a subdomain, the parent
#      domain, look-alikes (library.example.edu.evil.test,
#      library-example.edu), a foreign domain, the vendor's domain, a
#      display-name trick, two From fields, two addresses in one From}
#
# and checks, one TAP line a cell, that only trusted x exact-signing-domain
# x single-From cells are signed (two signatures that dkimpy verifies, d= the
# signing domain, the log naming the trust rule, the envelope sender
# changed to ReturnPath; every other cell keeps the vendor's), trusted cells otherwise
# are tagged with the reason (no-key / bad-from), and untrusted cells are
# delivered untouched, except those From the signing domain, which are
# marked tagged/untrusted (never signed).  Then: nothing lost, nothing bounced, relaysign exits
# cleanly with no sanitizer report.
#
# The trust paths, as Postfix plays them (XCLIENT from 127.0.0.1):
#   network  ADDR=192.0.2.10       (RelayNetworks 192.0.2.0/24)
#   auth     ADDR=203.0.113.7 LOGIN=alma  -- Postfix 3.7 hands the XCLIENT
#            LOGIN to milters as {auth_authen} (its log: sasl_method=XCLIENT,
#            sasl_username=alma), so no SASL server is needed
#   spf      ADDR=198.51.100.20    (RelaySPFNames spf-na.exlibrisgroup.com,
#            whose record in our DNS is v=spf1 ip4:198.51.100.0/24 -all)
#   none     ADDR=203.0.113.7; ADDR=203.0.113.7 LOGIN=bob (not listed)
# If `relaysign -n` refuses RelaySPFNames (a build without it), the spf
# cells are TAP "# TODO" lines instead of failures.
#
# Environment: top_srcdir, top_builddir, RELAYSIGN, RS_KEEP=1.
set -u

# shellcheck source=tools/lib.sh
. "${top_srcdir:-$(dirname "$0")/../..}/tools/lib.sh" --with-extra
rx_postfix_scenario oracle "" "$@"
SPFNAME=spf-na.exlibrisgroup.com

# Trust rows: NAME ADDR LOGIN EXPECTED-RELAY ("-" = no login; relay "" = untrusted)
TRUSTS=(
	"network 192.0.2.10 - network"
	"auth 203.0.113.7 alma auth:alma"
	"spf 198.51.100.20 - spf:$SPFNAME"
	"untrusted 203.0.113.7 - -"
	"untrusted-login 203.0.113.7 bob -"
)
# From columns: NAME KIND, then the From field(s) ("|" separates two fields).
# KIND: sign (the exact signing domain), nokey, badfrom.
FROMS=(
	"exact sign|Library <library@$D>"
	"exact-case sign|LIBRARY@Library.Example.EDU"
	"subdomain nokey|News <news@lists.$D>"
	"parent nokey|Campus <it@example.edu>"
	"lookalike-suffix nokey|Library <library@$D.evil.test>"
	"lookalike-hyphen nokey|Library <library@library-example.edu>"
	"foreign nokey|Someone <x@evil.test>"
	"vendor nokey|Ex Libris <notices@exlibrisgroup.com>"
	"display-name nokey|\"library@$D\" <x@evil.test>"
	"two-fields badfrom|Library <library@$D>|Evil <x@evil.test>"
	"two-addresses badfrom|library@$D, x@evil.test"
)

tap_plan $((${#TRUSTS[@]} * ${#FROMS[@]} + 8))

rx_setup_keys_dns --rr "$SPFNAME TXT v=spf1 ip4:198.51.100.0/24 -all" ||
	rs_die "cannot start the DNS server"
conf_lines=("Socket inet:8891@127.0.0.1" "ReturnPath bounces@$D" "RelayNetworks 192.0.2.0/24"
	"RelayAuthUsers alma" "RelaySPFNames $SPFNAME")
rx_write_conf "$T/relaysign.conf" "${conf_lines[@]}"
SPF_TODO=""
if out=$("$RELAYSIGN" -n -c "$T/relaysign.conf" 2>&1); then
	tap_ok "relaysign -n accepts RelayNetworks, RelayAuthUsers and RelaySPFNames"
else
	# Without RelaySPFNames the rest still runs; its cells become TODO.
	SPF_TODO="RelaySPFNames not accepted by this relaysign: $out"
	rx_write_conf "$T/relaysign.conf" "${conf_lines[@]:0:4}"
	if out2=$("$RELAYSIGN" -n -c "$T/relaysign.conf" 2>&1); then
		rx_tap_todo "relaysign -n accepts RelaySPFNames" "$out"
	else
		tap_not_ok "relaysign -n accepts the configuration"
		tap_diag "$out2"
	fi
fi
rx_must_start relaysign "$T/relaysign.conf"
start_sink "$T/sink" || rs_die "cannot start smtp-sink"
start_postfix inet:127.0.0.1:8891 || rs_die "cannot start the private Postfix"

ACCEPTED=0
SIGNED_CELLS=0
EXPLAIN_AGREED=0
n=0
for trow in "${TRUSTS[@]}"; do
	read -r TNAME ADDR LOGIN RELAY <<<"$trow"
	for frow in "${FROMS[@]}"; do
		n=$((n + 1))
		head=${frow%%|*}
		fields=${frow#*|}
		read -r FNAME KIND <<<"$head"
		TAG="oracle.$TNAME.$FNAME.$$"
		M="$T/m.$n"
		{
			printf 'X-Oracle-Case: %s\r\n' "$TAG"
			IFS='|' read -r -a fv <<<"$fields"
			for v in "${fv[@]}"; do
				printf 'From: %s\r\n' "$v"
			done
			printf 'To: patron@example.net\r\nSubject: oracle %s x %s\r\n' "$TNAME" "$FNAME"
			printf 'Date: Sun, 22 Nov 2026 08:00:00 +0000\r\nMessage-ID: <%s@vendor.test>\r\n' "$TAG"
			printf '\r\nYour loan is due.\r\n'
		} >"$M"
		if [ -n "$RELAY" ] && [ "$RELAY" != - ]; then
			if [ "$KIND" = sign ]; then want=signed
			elif [ "$KIND" = badfrom ]; then want=tagged:bad-from
			else want=tagged:no-key; fi
		elif [ "$KIND" = sign ]; then
			want=tagged:untrusted	# marked, so a second pass never signs it
		else
			want=untouched
		fi
		label="$TNAME x $FNAME ($(tr '|' ';' <<<"$fields")): want $want"
		todo=""
		[ "$TNAME" = spf ] && [ -n "$SPF_TODO" ] && todo=$SPF_TODO

		if ! bg_check relaysign; then
			wait_port_free 8891 10
			rx_start_milter relaysign "$T/relaysign.conf" || true
		fi
		xl=""
		[ "$LOGIN" != - ] && xl=$LOGIN
		if ! RX_XLOGIN=$xl rx_send_raw "$ADDR" "$M"; then
			tap_not_ok "$label: Postfix did not accept it: $RX_REPLY"
			continue
		fi
		ACCEPTED=$((ACCEPTED + 1))
		QID=$RX_QID
		rx_decided "$TAG" "$M" "$ADDR" "$LOGIN" "$T/relaysign.conf" "$want" &&
			EXPLAIN_AGREED=$((EXPLAIN_AGREED + 1))
		F=$RX_FILE got=$RX_GOT why=("${RX_WHY[@]}")
		if [ "$got" = signed ]; then
			SIGNED_CELLS=$((SIGNED_CELLS + 1))
			vout=$(rx_verify_pair "$F" "$D") || why+=("dkimpy:" "$vout")
		fi
		# ReturnPath: the envelope sender changes on signed cells only.
		if [ -n "$F" ]; then
			env=$(sed -n 's/^X-Mail-Args: <\([^>]*\)>.*/\1/p' "$F" | head -1)
			wenv=alma@exlibrisgroup.com
			[ "$got" = signed ] && wenv=bounces@$D
			[ "$env" = "$wenv" ] || why+=("envelope sender <$env>, want <$wenv>")
		fi
		if [ "$want" != untouched ]; then
			l=$(rx_logline "$QID") || l=""
			r=$RELAY
			[ "$r" = - ] && r=none
			grep -qF "relay=$r " <<<"$l" || why+=("log line lacks relay=$r: ${l:-none}")
		fi
		bg_check relaysign || why+=("relaysign died: $RS_BG_WHY")
		if [ ${#why[@]} = 0 ]; then
			tap_ok "$label: $got"
		elif [ -n "$todo" ]; then
			rx_tap_todo "$label: ${why[0]}" "$todo"
		else
			tap_not_ok "$label"
			tap_diag "${why[@]}"
			[ -n "$F" ] && diag_message "$F"
		fi
	done
done

want_signed=$(( (${#TRUSTS[@]} - 2) * 2 ))
[ -n "$SPF_TODO" ] && want_signed=$((want_signed - 2))
if [ "$SIGNED_CELLS" = "$want_signed" ]; then
	tap_ok "exactly $want_signed of $n cells signed (trusted x exact domain x one From)"
else
	tap_not_ok "exactly $want_signed of $n cells signed: $SIGNED_CELLS were"
fi
if [ "$EXPLAIN_AGREED" = "$n" ]; then
	tap_ok "relaysign -x decided as the daemon did on all $n cells"
else
	tap_not_ok "relaysign -x decided as the daemon did on $EXPLAIN_AGREED of $n cells"
fi
rx_nothing_lost "$ACCEPTED" accepted
stop_postfix
rx_finish_milter "$LOG"
tap_done
