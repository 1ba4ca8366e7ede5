#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# tests/e2e/postfix.sh -- end to end through a real Postfix (TAP).
#
# A private Postfix on 127.0.0.1:25 with smtpd_milters = relaysign, an
# smtp-sink storing what Postfix relays, and tests/e2e/dnsserver.py publishing
# the DKIM keys, all inside one private mount+net+pid namespace (tools/lib.sh).
# swaks plays the vendor relay with XCLIENT; dkimpy (verify.py) and Mail::DKIM
# (verify.pl) check the signatures against our DNS server.
#
#   (a) trusted relay, From library.example.edu -> signed RSA + Ed25519, tagged
#   (b) untrusted client, same From             -> unsigned, marked tagged untrusted
#   (c) trusted, From exlibrisgroup.com         -> unsigned, tagged no-key
#   (d) trusted, two From fields                -> unsigned, tagged bad-from
#   (e) trusted, forged relay.test A-R + foreign A-R -> forged ones removed, not signed
#
# Environment: top_srcdir, top_builddir (as Automake sets them; default: this
# repository), RELAYSIGN (default $top_builddir/relaysign), RS_KEEP=1 keeps the
# temp dir (logs, messages), RS_E2E_STANDIN=opendkim runs the rig with two
# OpenDKIM instances instead of relaysign (rig self-test: the relaysign-only
# checks then fail, the signing/verifying ones must pass).
# Exit 77 (skip) only when not root or relaysign is not built.
set -u

# shellcheck source=tools/lib.sh
. "${top_srcdir:-$(dirname "$0")/../..}/tools/lib.sh"

RELAYSIGN=${RELAYSIGN:-$top_builddir/relaysign}
STANDIN=${RS_E2E_STANDIN:-}

[ "$(id -u)" = 0 ] || tap_skip_all "needs root (namespaces, a private Postfix)"
if [ -z "$STANDIN" ] && [ ! -x "$RELAYSIGN" ]; then
	tap_skip_all "relaysign not built ($RELAYSIGN)"
fi
rs_require_tools postfix postconf postqueue smtp-sink swaks openssl unshare ip ss perl
rs_require_pydkim
perl -MMail::DKIM::Verifier -MNet::DNS -e 1 2>/dev/null ||
	{ echo "Bail out! Perl Mail::DKIM / Net::DNS missing (apt-get install libmail-dkim-perl libnet-dns-perl)"; exit 1; }

rs_sandbox "$0" "$@"
rs_init e2e-postfix

DOMAIN=library.example.edu
AUTHSERV=relay.test
T=$RS_TMP
LOG=$T/relaysign.log
SINK=$T/sink
MILTER_NAME=relaysign   # start_bg name of the milter process

tap_plan 23

# --- keys, DNS ---------------------------------------------------------------
mkdir -p "$T/keys" && chmod 0700 "$T/keys"
rs_keygen_rsa "$T/keys/rsa2026.key" 2048 || rs_die "RSA key generation failed"
rs_keygen_ed25519 "$T/keys/ed2026.key" || rs_die "Ed25519 key generation failed"

start_dns --authority example.edu --authority exlibrisgroup.com \
	--rr "rsa2026._domainkey.$DOMAIN TXT $(rs_dkim_txt_rsa "$T/keys/rsa2026.key")" \
	--rr "ed2026._domainkey.$DOMAIN TXT $(rs_dkim_txt_ed25519 "$T/keys/ed2026.key")" \
	--rr "$DOMAIN TXT v=spf1 -all" \
	--rr "exlibrisgroup.com TXT v=spf1 ip4:192.0.2.0/24 -all" ||
	rs_die "cannot start the DNS server"

# --- the milter ------------------------------------------------------------------
cat >"$T/relaysign.conf" <<EOF
# relaysign configuration for tests/e2e/postfix.sh
Socket              inet:8891@127.0.0.1
AuthservID          $AUTHSERV
RelayNetworks       192.0.2.0/24
RelayAuthUsers      alma
Domain              $DOMAIN
Selector            rsa2026 ed2026
KeyFile             $T/keys/rsa2026.key $T/keys/ed2026.key
SignatureAlgorithm  rsa-sha256 ed25519-sha256
Background          no
Syslog              no
EOF

# start_milter: relaysign in the foreground, logging to $LOG.
start_milter() {
	local wrap=()
	if [ "${RS_E2E_GDB:-0}" = 1 ] && command -v gdb >/dev/null; then
		# A crash then leaves a backtrace in relaysign.log.
		wrap=(gdb -q -batch -ex 'handle SIGPIPE nostop noprint' -ex run
			-ex 'thread apply all bt' --args)
	fi
	start_bg relaysign 8891 "${wrap[@]}" "$RELAYSIGN" -f -c "$T/relaysign.conf"
}

if [ -n "$STANDIN" ]; then
	tap_diag "STAND-IN MODE: two OpenDKIM instances instead of relaysign;" \
		"tests 1, 7, 8 and (c)-(e) check relaysign-only behaviour and are expected to fail"
	LOG=$T/opendkim-rsa.log
	MILTER_NAME=opendkim-rsa
	MILTERS="inet:127.0.0.1:8891, inet:127.0.0.1:8892"
	if start_opendkim opendkim-rsa 8891 rsa2026 "$T/keys/rsa2026.key" rsa-sha256 "$DOMAIN" 192.0.2.0/24 &&
		start_opendkim opendkim-ed 8892 ed2026 "$T/keys/ed2026.key" ed25519-sha256 "$DOMAIN" 192.0.2.0/24; then
		tap_not_ok "relaysign -n accepts the test configuration (stand-in: not relaysign)"
		tap_ok "milter started and listening on 127.0.0.1:8891"
	else
		tap_not_ok "relaysign -n accepts the test configuration (stand-in: not relaysign)"
		tap_not_ok "milter started and listening on 127.0.0.1:8891"
		tap_done
		exit 1
	fi
else
	MILTERS="inet:127.0.0.1:8891"
	if out=$("$RELAYSIGN" -n -c "$T/relaysign.conf" 2>&1); then
		tap_ok "relaysign -n accepts the test configuration"
	else
		tap_not_ok "relaysign -n accepts the test configuration"
		tap_diag "$out" "configuration:" "$(cat "$T/relaysign.conf")"
	fi
	if start_milter; then
		tap_ok "relaysign started and listening on 127.0.0.1:8891"
	else
		tap_not_ok "relaysign started and listening on 127.0.0.1:8891"
		diag_log "$LOG" 30
		tap_done
		exit 1
	fi
fi

start_sink "$SINK" || rs_die "cannot start smtp-sink"
start_postfix "$MILTERS" || rs_die "cannot start the private Postfix"

# --- helpers for the cases ----------------------------------------------------------

RUN=$$.$RANDOM
# send CASE ADDR HEADER_FROM [swaks args]: send one message, set MSG to the
# delivered file ('' if not delivered within 20 s) and QID.
send() {
	local case=$1 addr=$2 hfrom=$3
	shift 3
	MSG=""
	QID=""
	# A crash in an earlier case is reported there; restart the milter so
	# that this case still tells something.
	if [ -z "$STANDIN" ] && ! bg_check "$MILTER_NAME"; then
		tap_diag "$MILTER_NAME died earlier ($RS_BG_WHY); restarting it for case ($case)"
		wait_port_free 8891 10
		start_milter || tap_diag "could not restart $MILTER_NAME"
	fi
	send_via_xclient "$addr" alma@exlibrisgroup.com patron@example.net "$hfrom" \
		--header "Subject: relaysign e2e case $case" \
		--header "X-E2E-Case: $case.$RUN" "$@" || return 1
	QID=$RS_LAST_QID
	MSG=$(wait_delivered "X-E2E-Case: $case.$RUN" 20) || MSG=""
	[ -n "$MSG" ]
}

# milter_gone: diagnostics if the milter process has ended.
milter_gone() {
	if ! bg_check "$MILTER_NAME"; then
		tap_diag "$MILTER_NAME is not running any more: $RS_BG_WHY" \
			"(RS_E2E_GDB=1 runs it under gdb: a crash then leaves a backtrace in its log)"
	fi
}

# logline: relaysign's log line for $QID (waits up to 5 s for it).
logline() {
	local i
	[ -n "$QID" ] || return 1
	for ((i = 0; i < 50; i++)); do
		grep -F "$QID:" "$LOG" 2>/dev/null | tail -1 | grep . && return 0
		sleep 0.1
	done
	return 1
}

# why: diagnostics for a failed check -- the message headers and the logs.
why() {
	[ $# -gt 0 ] && tap_diag "$@"
	diag_message "$MSG"
	[ -n "$QID" ] && tap_diag "queue id: $QID"
	diag_log "$LOG" 10
}

RS_TAP_WHY=why	# tap_check's diagnostics

delivered() {   # delivered DESC: the send step's outcome as a TAP line
	if [ -n "$MSG" ]; then
		tap_ok "$1"
	else
		tap_not_ok "$1"
		milter_gone
		tap_diag "swaks transcript ($RS_LAST_SWAKS):"
		tail -12 "$RS_LAST_SWAKS" 2>/dev/null | sed 's/^/#   /'
		diag_log "$(postfix_log)" 10
		diag_log "$LOG" 10
	fi
}

has_msg() { [ -n "$MSG" ] || { echo "no delivered message"; return 1; }; }

n_dkim() { hdr_count "$MSG" DKIM-Signature; }

expect_two_sigs() {
	has_msg || return 1
	local n
	n=$(n_dkim)
	[ "$n" = 2 ] || { echo "expected 2 DKIM-Signature fields, found $n"; return 1; }
}

dkimpy_both() {
	has_msg || return 1
	local out
	out=$(verify_py "$MSG" 2>&1) || { echo "$out"; return 1; }
	echo "$out"
	if ! grep -q "s=rsa2026 a=rsa-sha256 result=pass" <<<"$out" ||
		! grep -q "s=ed2026 a=ed25519-sha256 result=pass" <<<"$out"; then
		echo "want one RSA (rsa2026) and one Ed25519 (ed2026) pass"
		return 1
	fi
}

mail_dkim_rsa() {
	has_msg || return 1
	local out
	out=$(verify_pl "$MSG" 2>&1) || { echo "$out"; return 1; }
	grep -q "d=$DOMAIN s=rsa2026 a=rsa-sha256 result=pass" <<<"$out" ||
		{ echo "$out"; return 1; }
}

no_sigs() {
	has_msg || return 1
	verify_py "$MSG" --expect-none
}

# our_ar WANT...: exactly one A-R by $AUTHSERV, containing every WANT string.
our_ar() {
	has_msg || return 1
	local ar n w
	ar=$(ar_by "$MSG" "$AUTHSERV")
	n=$(grep -c . <<<"$ar")
	[ "$n" = 1 ] || { echo "expected exactly one $AUTHSERV Authentication-Results, found $n"; return 1; }
	for w in "$@"; do
		grep -qiF -- "$w" <<<"$ar" || { echo "our Authentication-Results lacks '$w': $ar"; return 1; }
	done
}

log_has() {     # log_has WANT...: relaysign's line for $QID contains every WANT
	local l w
	l=$(logline) || { echo "no relaysign log line for queue id '$QID'"; return 1; }
	for w in "$@"; do
		grep -qF -- "$w" <<<"$l" || { echo "log line lacks '$w': $l"; return 1; }
	done
}

tagged() {      # tagged REASON: unsigned-but-tagged checks for (c) and (d)
	our_ar "x-relaysign=tagged" || return 1
	log_has "reason=$1"
}

# --- (a) trusted relay, our domain: signed twice, tagged --------------------------
send a 192.0.2.10 "Library <library@$DOMAIN>"
delivered "(a) trusted relay 192.0.2.10, From $DOMAIN: delivered"
tap_check "(a) two DKIM-Signature fields" expect_two_sigs
tap_check "(a) dkimpy verifies the RSA and the Ed25519 signature" dkimpy_both
tap_check "(a) Mail::DKIM verifies the RSA signature" mail_dkim_rsa
tap_check "(a) Authentication-Results by $AUTHSERV says x-relaysign=signed" our_ar "x-relaysign=signed"
tap_check "(a) log line: relay=network action=signed d=$DOMAIN" \
	log_has "relay=network" "client=[192.0.2.10]" "from=$DOMAIN" "action=signed" "d=$DOMAIN"

# --- (b) untrusted client: never signed; marked, for a second pass -----------------------
send b 203.0.113.7 "Library <library@$DOMAIN>"
delivered "(b) untrusted client 203.0.113.7: delivered"
tap_check "(b) no DKIM-Signature" no_sigs
tap_check "(b) tagged x-relaysign=tagged, reason untrusted" tagged untrusted

# --- (c) trusted, vendor's own From: no key -> tagged only -----------------------------
send c 192.0.2.10 "Ex Libris <notices@exlibrisgroup.com>"
delivered "(c) trusted relay, From exlibrisgroup.com: delivered"
tap_check "(c) no DKIM-Signature" no_sigs
tap_check "(c) tagged x-relaysign=tagged, reason no-key" tagged no-key

# --- (d) trusted, two From fields -> tagged bad-from -------------------------------------
send d 192.0.2.10 "Library <library@$DOMAIN>" \
	--add-header "From: Other <other@$DOMAIN>"
delivered "(d) trusted relay, two From fields: delivered"
tap_check "(d) no DKIM-Signature" no_sigs
tap_check "(d) tagged x-relaysign=tagged, reason bad-from" tagged bad-from

# --- (e) forged A-R claiming our authserv-id is removed, foreign one kept -------------
# Three forgeries in three spellings of our authserv-id, one foreign field between them.
send e 192.0.2.10 "Library <library@$DOMAIN>" \
	--add-header "Authentication-Results: $AUTHSERV; x-relaysign=signed reason=\"forged by the test\"" \
	--add-header "Authentication-Results: other.example; spf=pass smtp.mailfrom=exlibrisgroup.com" \
	--add-header "Authentication-Results: (forged, comment first) $(echo "$AUTHSERV" | tr a-z A-Z); dkim=pass" \
	--add-header "Authentication-Results: \"$AUTHSERV\" 1; spf=pass (forged, quoted id)" \
	--add-header "Authentication-Results: $AUTHSERV dkim=pass (forged, no semicolon)" \
	--add-header "Authentication-Results: $AUTHSERV, other.example; dkim=pass (forged, comma)" \
	--add-header "Authentication-Results: $AUTHSERV.; dkim=pass (forged, trailing dot)"
delivered "(e) trusted relay with forged Authentication-Results: delivered"
forged_gone() {
	# A result in our name means a second pass or a forgery: never signed.
	our_ar "x-relaysign=tagged" 'reason="already-handled"' || return 1
	[ "$(hdr_count "$MSG" DKIM-Signature)" = 0 ] || { echo "signed past a result in our name"; return 1; }
	if hdr_values "$MSG" Authentication-Results | grep -qi "forged"; then
		echo "a forged $AUTHSERV Authentication-Results survived:"
		hdr_values "$MSG" Authentication-Results
		return 1
	fi
	n=$(hdr_values "$MSG" Authentication-Results | wc -l)
	[ "$n" -eq 2 ] || { echo "expected 2 Authentication-Results (ours, other.example), got $n"; return 1; }
}
foreign_kept() {
	has_msg || return 1
	ar_by "$MSG" other.example | grep -q "spf=pass" ||
		{ echo "the other.example Authentication-Results is gone"; return 1; }
}
tap_check "(e) all six forged $AUTHSERV Authentication-Results removed, malformed ones too; not signed, tagged already-handled" forged_gone
tap_check "(e) foreign other.example Authentication-Results kept" foreign_kept

# --- (f) a trimmed milter_mail_macros: relaysign asks for {auth_authen} itself ---------
# A postmaster who trims Postfix's macro list must not silently lose the
# vendor's login: relaysign requests the MAIL-stage macros it reads.
postconf -c "$RS_POSTFIX_DIR" -e "milter_mail_macros = i" &&
	postfix -c "$RS_POSTFIX_DIR" reload >/dev/null 2>&1
sleep 1
send f 203.0.113.7 "Library <library@$DOMAIN>" --xclient-login alma
delivered "(f) milter_mail_macros = i, login alma from an untrusted address: delivered"
tap_check "(f) signed: relaysign asked Postfix for {auth_authen} itself" expect_two_sigs
tap_check "(f) our result names the login" our_ar "smtp.auth=alma"

wait_queue_empty 20 >/dev/null 2>&1 || tap_diag "warning: Postfix queue not empty at the end"
tap_done
