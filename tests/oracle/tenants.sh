#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# tests/oracle/tenants.sh -- the signing-oracle matrix's tenants dimension:
# a consortium relay, through a real Postfix with Dovecot SASL (TAP).
#
# Three institutions, alpha.edu, beta.edu and gamma.edu, each with an
# RSA-2048 and an Ed25519 key (table mode), and each with three relay
# identities bound to it in RelayBindings:
#
#   auth  its own SMTP AUTH login (alma-alpha, ...), a real AUTH PLAIN
#         checked by Dovecot (passwd-file) through Postfix's
#         smtpd_sasl_type=dovecot, from 127.0.0.1 (not a relay network)
#   net   its own network (192.0.2.0/26, .64/26, .128/26; XCLIENT ADDR=)
#   spf   its own vendor SPF name (spf-alpha.vendor.test, ...: ip4 ranges
#         198.51.100.0/26, .64/26, .128/26; XCLIENT ADDR=)
#
# Every identity sends one notice From: each institution's domain: 3 x 3 x 3
# = 27 cells, of which exactly the 9 where the identity is the domain's own
# are signed (two signatures, both verified by dkimpy, d= that domain,
# binding= that identity in the log line), the 18 others are tagged
# reason=not-bound naming the identity, unsigned.  Then the rule for an
# identity that several match: alpha's login from beta's network signs
# alpha.edu only (the login decides; the domains are never added together),
# a login in RelayAuthUsers with no line binds nothing, and a failed login
# is no login (untrusted: tagged, never signed).  Nothing lost or bounced;
# relaysign exits cleanly with no sanitizer report.
#
# Environment: top_srcdir, top_builddir, RELAYSIGN, RS_KEEP=1.  Skipped only
# when not root, relaysign is not built, or Dovecot is not installed (then
# the skip says which package).
set -u

# shellcheck source=tools/lib.sh
. "${top_srcdir:-$(dirname "$0")/../..}/tools/lib.sh" --with-extra
if [ "${RELAYSIGN_REQUIRE_ALL:-0}" != 1 ] && ! command -v dovecot >/dev/null; then
	tap_skip_all "dovecot not installed (apt-get install dovecot-core; tools/setup-debian.sh does)"
fi
rx_postfix_scenario tenants "dovecot" "$@"
INSTS=(alpha beta gamma)
declare -A NET=([alpha]=192.0.2.0/26 [beta]=192.0.2.64/26 [gamma]=192.0.2.128/26)
declare -A NETADDR=([alpha]=192.0.2.10 [beta]=192.0.2.70 [gamma]=192.0.2.130)
declare -A SPFNET=([alpha]=198.51.100.0/26 [beta]=198.51.100.64/26 [gamma]=198.51.100.128/26)
declare -A SPFADDR=([alpha]=198.51.100.10 [beta]=198.51.100.70 [gamma]=198.51.100.130)

# ------------------------------------------------------------- keys, DNS
k=$T/keys
mkdir -p "$k" && chmod 0700 "$k"
dns=(--authority edu --authority vendor.test --authority exlibrisgroup.com)
: >"$T/keytable"
: >"$T/signingtable"
: >"$T/bindings"
for i in "${INSTS[@]}"; do
	rs_keygen_rsa "$k/$i.rsa.key" 2048 || rs_die "openssl genpkey (RSA) failed"
	rs_keygen_ed25519 "$k/$i.ed.key" || rs_die "openssl genpkey (Ed25519) failed"
	dns+=(--rr "rsa2026._domainkey.$i.edu TXT $(rs_dkim_txt_rsa "$k/$i.rsa.key")"
		--rr "ed2026._domainkey.$i.edu TXT $(rs_dkim_txt_ed25519 "$k/$i.ed.key")"
		--rr "$i.edu TXT v=spf1 -all"
		--rr "spf-$i.vendor.test TXT v=spf1 ip4:${SPFNET[$i]} -all")
	printf '%s-rsa %s.edu:rsa2026:%s\n%s-ed %s.edu:ed2026:%s\n' \
		"$i" "$i" "$k/$i.rsa.key" "$i" "$i" "$k/$i.ed.key" >>"$T/keytable"
	printf '%s.edu %s-rsa\n%s.edu %s-ed\n' "$i" "$i" "$i" "$i" >>"$T/signingtable"
	printf 'auth:alma-%s  %s.edu\nnet:%s  %s.edu\nspf:spf-%s.vendor.test  %s.edu\n' \
		"$i" "$i" "${NET[$i]}" "$i" "$i" "$i" >>"$T/bindings"
done
# The vendor's envelope domain: every relay address passes SPF for it.
dns+=(--rr "exlibrisgroup.com TXT v=spf1 ip4:192.0.2.0/24 ip4:198.51.100.0/24 ip4:127.0.0.1 -all")
start_dns "${dns[@]}" || rs_die "cannot start the DNS server"

cat >"$T/relaysign.conf" <<EOF
# written by tests/oracle/tenants.sh
AuthservID          $RX_AUTHSERV
KeyTable            $T/keytable
SigningTable        $T/signingtable
SignatureAlgorithm  rsa-sha256 ed25519-sha256
RelayNetworks       192.0.2.0/24
RelaySPFNames       spf-alpha.vendor.test spf-beta.vendor.test spf-gamma.vendor.test
# alma-delta: trusted, but bound to nothing.
RelayAuthUsers      alma-delta
RelayBindings       $T/bindings
Socket              inet:8891@127.0.0.1
Background          no
Syslog              no
EOF

# ------------------------------------------------------------ Dovecot SASL
# Authentication only (no mail protocols): a passwd-file of the logins, and
# the auth-client socket Postfix's smtpd asks.  Plain-text AUTH is allowed
# because the test talks plain SMTP on loopback; a real relay uses TLS.
dv=$T/dovecot
mkdir -p "$dv/run" "$dv/state"
: >"$dv/users"
for u in alma-alpha alma-beta alma-gamma alma-delta; do
	echo "$u:{PLAIN}pw-$u" >>"$dv/users"
done
chmod 0644 "$dv/users"
cat >"$dv/dovecot.conf" <<EOF
protocols =
base_dir = $dv/run/
state_dir = $dv/state
instance_name = relaysign-tenants
log_path = $dv/dovecot.log
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain
passdb {
  driver = passwd-file
  args = scheme=PLAIN username_format=%u $dv/users
}
userdb {
  driver = static
  args = uid=nobody gid=nogroup home=/nonexistent
}
service auth {
  unix_listener auth-client {
    mode = 0666
  }
}
EOF
start_bg dovecot 0 dovecot -F -c "$dv/dovecot.conf"
for ((w = 0; w < 100; w++)); do
	[ -S "$dv/run/auth-client" ] && break
	sleep 0.1
done
[ -S "$dv/run/auth-client" ] || { diag_log "$dv/dovecot.log" 20; diag_log "$T/dovecot.log" 20; rs_die "Dovecot did not create its auth socket"; }

# The cells: IDENTITY-KIND INSTITUTION ADDR AUTH(user:pw or -) BINDING.
CELLS=()
for i in "${INSTS[@]}"; do
	CELLS+=("auth $i 127.0.0.1 alma-$i:pw-alma-$i auth:alma-$i"
		"net $i ${NETADDR[$i]} - net:${NET[$i]}"
		"spf $i ${SPFADDR[$i]} - spf:spf-$i.vendor.test")
done

tap_plan $((${#CELLS[@]} * ${#INSTS[@]} + 14))

if out=$("$RELAYSIGN" -n -c "$T/relaysign.conf" 2>&1); then
	tap_ok "relaysign -n accepts the consortium configuration"
else
	tap_not_ok "relaysign -n accepts the consortium configuration"
	tap_diag "$out"
fi
rx_must_start relaysign "$T/relaysign.conf"
start_sink "$T/sink" || rs_die "cannot start smtp-sink"
start_postfix inet:127.0.0.1:8891 \
	"mynetworks = 127.0.0.0/8 192.0.2.0/24 198.51.100.0/24" \
	"smtpd_sasl_auth_enable = yes" \
	"smtpd_sasl_type = dovecot" \
	"smtpd_sasl_path = $dv/run/auth-client" \
	"smtpd_tls_auth_only = no" \
	"smtpd_relay_restrictions = permit_sasl_authenticated permit_mynetworks reject" ||
	rs_die "cannot start the private Postfix"

ACCEPTED=0
SIGNED=0
AGREED=0
N=0
# cell LABEL ADDR AUTH FROMDOMAIN WANT BINDING: send one notice and check it.
# WANT: signed, tagged:REASON; BINDING: the binding= the log must name ("-":
# not checked, as for untrusted mail; "none": a trusted identity without a
# line).
cell() {
	local label=$1 addr=$2 auth=$3 dom=$4 want=$5 binding=$6
	local tag m f got l why=() args=()
	N=$((N + 1))
	tag="tenants.$N.$$"
	m=$T/m.$N
	printf 'X-Oracle-Case: %s\r\nFrom: Library <notices@%s>\r\nTo: patron@example.net\r\nSubject: %s\r\nDate: Thu, 03 Dec 2026 08:00:00 +0000\r\nMessage-ID: <%s@vendor.test>\r\n\r\nYour loan is due.\r\n' \
		"$tag" "$dom" "$label" "$tag" >"$m"
	[ "$auth" != - ] && args=(--auth "$auth")
	if ! bg_check relaysign; then
		wait_port_free 8891 10
		rx_start_milter relaysign "$T/relaysign.conf" || true
	fi
	label="$label: want $want"
	if ! rx_send_raw "$addr" "$m" "${args[@]}"; then
		tap_not_ok "$label: Postfix did not accept it: $RX_REPLY"
		return
	fi
	ACCEPTED=$((ACCEPTED + 1))
	rx_decided "$tag" "$m" "$addr" "${auth%%:*}" "$T/relaysign.conf" "$want" &&
		AGREED=$((AGREED + 1))
	f=$RX_FILE got=$RX_GOT
	why+=("${RX_WHY[@]}")
	if [ "$got" = signed ]; then
		SIGNED=$((SIGNED + 1))
		out=$(rx_verify_pair "$f" "$dom") || why+=("dkimpy:" "$out")
	fi
	l=$(rx_logline "$RX_QID") || l=""
	if [ "$binding" != - ]; then
		grep -qF "binding=$binding" <<<"$l" || why+=("log line lacks binding=$binding: ${l:-none}")
		# A property value with ':' or '/' is a quoted-string (RFC 8601).
		if [ "$want" = tagged:not-bound ] && [ "$binding" != none ]; then
			grep -qF "policy.binding=\"$binding\"" <<<"$(rx_our_ar "$f")" ||
				why+=("Authentication-Results lacks policy.binding=\"$binding\"")
		fi
	fi
	bg_check relaysign || why+=("relaysign died: $RS_BG_WHY")
	if [ ${#why[@]} = 0 ]; then
		tap_ok "$label: $got"
	else
		tap_not_ok "$label"
		tap_diag "${why[@]}"
		[ -n "$f" ] && diag_message "$f"
	fi
}

# 27 cells: each identity x each institution's From domain.
for c in "${CELLS[@]}"; do
	read -r kind inst addr auth binding <<<"$c"
	for d in "${INSTS[@]}"; do
		if [ "$d" = "$inst" ]; then want=signed; else want=tagged:not-bound; fi
		cell "$kind of $inst, From $d.edu" "$addr" "$auth" "$d.edu" "$want" "$binding"
	done
done
if [ "$SIGNED" = 9 ]; then
	tap_ok "exactly the 9 bound cells of 27 were signed"
else
	tap_not_ok "exactly the 9 bound cells of 27 were signed: $SIGNED were"
fi

# Several identities match: the login decides, alone.
cell "alpha's login from beta's network, From alpha.edu" "${NETADDR[beta]}" \
	alma-alpha:pw-alma-alpha alpha.edu signed auth:alma-alpha
cell "alpha's login from beta's network, From beta.edu" "${NETADDR[beta]}" \
	alma-alpha:pw-alma-alpha beta.edu tagged:not-bound auth:alma-alpha
# A trusted login with no RelayBindings line binds nothing (binding=none;
# relay=auth:alma-delta names it).
cell "unbound login alma-delta, From alpha.edu" 127.0.0.1 \
	alma-delta:pw-alma-delta alpha.edu tagged:not-bound none
# No login from a Postfix mynetworks address that is no relay network:
# untrusted, From a keyed domain, so marked (never signed).
cell "no login from 127.0.0.1, From alpha.edu" 127.0.0.1 - alpha.edu tagged:untrusted -
# A wrong password is no login: Dovecot says no, Postfix refuses the AUTH.
m=$T/m.badpw
printf 'X-Oracle-Case: tenants.badpw.%s\r\nFrom: notices@alpha.edu\r\nTo: patron@example.net\r\nSubject: bad password\r\n\r\nx\r\n' "$$" >"$m"
if rx_send_raw 127.0.0.1 "$m" --auth alma-alpha:wrong; then
	tap_not_ok "a wrong password is refused by Postfix (Dovecot): it was accepted"
else
	grep -q "AUTH" <<<"$RX_REPLY" && tap_ok "a wrong password is refused at AUTH: $RX_REPLY" ||
		tap_not_ok "a wrong password is refused at AUTH: $RX_REPLY"
fi

if [ "$AGREED" = "$ACCEPTED" ]; then
	tap_ok "relaysign -x decided as the daemon did on all $ACCEPTED messages"
else
	tap_not_ok "relaysign -x decided as the daemon did on $AGREED of $ACCEPTED messages"
fi
rx_nothing_lost "$ACCEPTED" accepted
sasl=$(grep -c 'sasl_method=PLAIN' "$(postfix_log)")
if [ "$sasl" -ge 12 ]; then
	tap_ok "Postfix logged $sasl real SASL logins (sasl_method=PLAIN)"
else
	tap_not_ok "Postfix logged $sasl real SASL logins (sasl_method=PLAIN), want 12"
fi
stop_postfix
rx_finish_milter "$LOG"
tap_done
