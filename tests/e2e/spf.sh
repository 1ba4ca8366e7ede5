#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# tests/e2e/spf.sh -- SPF, vendor-SPF trust, alignment, DMARC policy and the
# DNS time bound, end to end through a real Postfix (TAP).
#
# The rig is postfix.sh's (tools/lib.sh): one private mount+net+pid
# namespace holding tests/e2e/dnsserver.py, a private Postfix on
# 127.0.0.1:25 with smtpd_milters = relaysign, and smtp-sink.  swaks plays the
# relay with XCLIENT, so relaysign sees the client address the case needs.
# The zone below gives every RFC 7208 result for the relay 192.0.2.10,
# SERVFAILs one name and never answers two others.
#
# relaysign runs with three configurations in turn, restarted between them
# (a restart makes each case's start state explicit):
#   A  Alignment relaxed, RequireSPF no, DMARCLookup yes, RelaySPFNames,
#      DNSTimeout 3, LogLevel debug
#        (1) each of the seven SPF results, in A-R and the log, still signed
#            (permerror three ways: include of a missing name, syntax, two
#            records)
#        (2) null sender: SPF and alignment of the HELO name (smtp.helo=)
#        (3) alignment relaxed: vendor MAIL FROM -> fail; a subdomain of the
#            From domain -> pass; a PSL private-section domain -> fail
#        (4) DMARC policy: p=reject; sp=quarantine through the
#            organizational domain; p=none; no record
#        (5) RelaySPFNames: a vendor address trusted through the vendor's SPF
#            name, a second message from the cache; another address untrusted
#        (7) DNSTimeout: a name that never answers -> temperror within the
#            bound (envelope SPF and DMARC)
#   B  Alignment strict
#        (3) the subdomain -> fail, the identical domain -> pass
#   C  RequireSPF yes, OrganizationalDomains git-pages.rit.edu
#        (6) fail -> tagged spf-fail, unsigned; temperror -> 451 4.7.1, and
#            behind a real upstream MTA the message stays in its queue;
#            pass -> signed
#        (3) the PSL private-section domain with OrganizationalDomains -> pass
#   At the end: Postfix's queue is empty, relaysign exited 0 every time and
#   no sanitizer reported anything.
#
# Environment: top_srcdir, top_builddir (as Automake sets them; default: this
# repository), RELAYSIGN (default $top_builddir/relaysign), RS_KEEP=1 keeps the
# temp dir (logs, messages).  Skips (tap_skip_all) only when not root or
# relaysign is not built.
set -u

# shellcheck source=tools/lib.sh
. "${top_srcdir:-$(dirname "$0")/../..}/tools/lib.sh"

RELAYSIGN=${RELAYSIGN:-$top_builddir/relaysign}

[ "$(id -u)" = 0 ] || tap_skip_all "needs root (namespaces, a private Postfix)"
[ -x "$RELAYSIGN" ] || tap_skip_all "relaysign not built ($RELAYSIGN)"
rs_require_tools postfix postconf postqueue smtp-sink swaks openssl unshare ip ss awk
"$RS_PY" -c 'import dnslib' 2>/dev/null ||
	{ echo "Bail out! $RS_PY lacks dnslib (apt-get install python3-dnslib)"; exit 1; }

rs_sandbox "$0" "$@"
rs_init e2e-spf

DOMAIN=library.example.edu
AUTHSERV=relay.test
RELAY=192.0.2.10        # the vendor relay, in RelayNetworks
VENDOR=198.51.100.7     # a vendor relay known only by spf-eu.vendor.test
STRANGER=203.0.113.9    # neither
UPSTREAM=192.0.2.20     # source address of the upstream MTA in (6)
UP_PORT=2525
TIMEOUT=3               # DNSTimeout in configurations A-C (see (7))
T=$RS_TMP
LOG=$T/relaysign.log
SINK=$T/sink

tap_plan 72

# Stop the upstream Postfix of case (6) too; the namespace is the safety net.
UP_DIR=""
stop_upstream() {
	[ -n "$UP_DIR" ] || return 0
	timeout 20 postfix -c "$UP_DIR/etc" stop >/dev/null 2>&1
	UP_DIR=""
}
trap 'rc=$?; stop_upstream; (exit $rc); rs_on_exit' EXIT

# --- DNS -----------------------------------------------------------------------
mkdir -p "$T/keys" && chmod 0700 "$T/keys"
rs_keygen_rsa "$T/keys/rsa2026.key" 2048 || rs_die "RSA key generation failed"

cat >"$T/zone.rr" <<EOF
# NAME [TTL] TYPE VALUE (tests/e2e/dnsserver.py --records)
rsa2026._domainkey.$DOMAIN TXT $(rs_dkim_txt_rsa "$T/keys/rsa2026.key")

# (1) envelope domains, one per SPF result for the relay $RELAY
pass.spf.test        TXT v=spf1 ip4:192.0.2.0/24 -all
fail.spf.test        TXT v=spf1 ip4:203.0.113.0/24 -all
softfail.spf.test    TXT v=spf1 ip4:203.0.113.0/24 ~all
neutral.spf.test     TXT v=spf1 ?all
none.spf.test        A   192.0.2.99
none.spf.test        TXT not an SPF record, so none
permerror.spf.test   TXT v=spf1 include:missing.spf.test -all
syntax.spf.test      TXT v=spf1 ip4:192.0.2.300/24 -all
tworecords.spf.test  TXT v=spf1 ip4:192.0.2.0/24 -all
tworecords.spf.test  TXT v=spf1 -all
# temperror.spf.test: SERVFAIL (--servfail); slow.spf.test: no answer (--drop)

# (2) the HELO name of the null-sender case
mx.$DOMAIN           TXT v=spf1 ip4:$RELAY -all

# (3) envelope domains for alignment
exlibrisgroup.com    TXT v=spf1 ip4:192.0.2.0/24 ip4:198.51.100.0/24 -all
bounces.$DOMAIN      TXT v=spf1 ip4:192.0.2.0/24 -all
$DOMAIN              TXT v=spf1 ip4:192.0.2.0/24 -all

# (4) DMARC
_dmarc.$DOMAIN       TXT v=DMARC1; p=reject
_dmarc.example.org   TXT v=DMARC1; p=none; sp=quarantine
# _dmarc.slowdmarc.test: no answer (--drop)

# (5) the vendor's SPF name for RelaySPFNames (Ex Libris: spf-eu.exlibrisgroup.com)
spf-eu.vendor.test   TXT v=spf1 ip4:198.51.100.0/24 -all
EOF

# --authority .: every name not listed is NXDOMAIN, nothing is REFUSED.
start_dns --authority . --records "$T/zone.rr" \
	--servfail temperror.spf.test --drop slow.spf.test --drop _dmarc.slowdmarc.test ||
	rs_die "cannot start the DNS server"

# The private resolv.conf (tools/lib.sh) says timeout:1 attempts:1.  For (7)
# give the resolver generous defaults instead (the same inode, so the bind
# mount shows it): a dropped query would then wait 10 s x 3 tries unless
# relaysign bounds it itself, as DNSTimeout promises.
printf 'nameserver %s\noptions timeout:10 attempts:3\n' "$RS_DNS_ADDR" >"$T/resolv.conf"

# --- relaysign -------------------------------------------------------------------
# write_conf NAME LINES...: the common settings plus LINES as relaysign.conf.
write_conf() {
	local name=$1
	shift
	{
		echo "# relaysign configuration $name for tests/e2e/spf.sh"
		cat <<-EOF
		Socket              inet:8891@127.0.0.1
		AuthservID          $AUTHSERV
		RelayNetworks       192.0.2.0/24
		RelaySPFNames       ${RELAY_SPF_NAMES:-spf-eu.vendor.test}
		Domain              $DOMAIN
		Selector            rsa2026
		KeyFile             $T/keys/rsa2026.key
		Background          no
		Syslog              no
		LogLevel            debug
		DNSTimeout          $TIMEOUT
		DMARCLookup         yes
		EOF
		printf '%s\n' "$@"
		# tests/e2e/spf-nocache.sh: the same rows without the DNS cache.
		[ -n "${RS_SPF_EXTRA:-}" ] && printf '%s\n' "$RS_SPF_EXTRA"
	} >"$T/relaysign.conf.new"
	mv "$T/relaysign.conf.new" "$T/relaysign.conf"
}

CONF_A=("Alignment relaxed" "RequireSPF no" "SPFCacheTTL 300")
CONF_B=("Alignment strict" "RequireSPF no")
CONF_C=("Alignment relaxed" "RequireSPF yes" "OrganizationalDomains git-pages.rit.edu")

# use_conf NAME LINES...: check the file with -n, stop relaysign (its exit
# status goes to RS_EXITS), start it again with the new file.
RS_EXITS=""
stop_milter() {
	local pid i st
	pid=$(rs_pid_of relaysign) || return 0
	kill -TERM "$pid" 2>/dev/null
	for ((i = 0; i < 150; i++)); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	kill -KILL "$pid" 2>/dev/null
	wait "$pid"
	st=$?
	RS_EXITS="$RS_EXITS $st"
	RS_BG_EXIT[$pid]=$st
}
use_conf() {
	local name=$1 out
	write_conf "$@"
	if ! out=$("$RELAYSIGN" -n -c "$T/relaysign.conf" 2>&1); then
		tap_not_ok "configuration $name: relaysign -n accepts it, relaysign restarts with it"
		tap_diag "$out" "$(cat "$T/relaysign.conf")"
		return 1
	fi
	stop_milter
	wait_port_free 8891 10
	if start_bg relaysign 8891 "$RELAYSIGN" -f -c "$T/relaysign.conf"; then
		tap_ok "configuration $name: relaysign -n accepts it, relaysign restarts with it"
	else
		tap_not_ok "configuration $name: relaysign -n accepts it, relaysign restarts with it"
		diag_log "$LOG" 10
		return 1
	fi
}

write_conf A "${CONF_A[@]}"
if out=$("$RELAYSIGN" -n -c "$T/relaysign.conf" 2>&1) &&
	start_bg relaysign 8891 "$RELAYSIGN" -f -c "$T/relaysign.conf"; then
	tap_ok "configuration A: relaysign -n accepts it, relaysign listens on 8891"
else
	tap_not_ok "configuration A: relaysign -n accepts it, relaysign listens on 8891"
	tap_diag "${out:-}"
	diag_log "$LOG" 20
	tap_done
	exit 1
fi

start_sink "$SINK" || rs_die "cannot start smtp-sink"
start_postfix "inet:127.0.0.1:8891" || rs_die "cannot start the private Postfix"

# --- helpers ---------------------------------------------------------------------

RUN=$$.$RANDOM
MSG="" QID="" MARK=0 CASE=""

# send CASE ADDR MAILFROM HEADER_FROM [swaks args]: one message via XCLIENT
# ADDR; sets MSG (the delivered file, '' if none within 15 s), QID and MARK
# (relaysign.log's line count before the message).
send() {
	local addr=$2 from=$3 hfrom=$4
	CASE=$1
	shift 4
	MSG="" QID=""
	MARK=$(wc -l <"$LOG")
	bg_check relaysign || tap_diag "relaysign is not running: $RS_BG_WHY"
	send_via_xclient "$addr" "$from" patron@example.net "$hfrom" \
		--header "Subject: relaysign spf case $CASE" \
		--header "X-E2E-Case: $CASE.$RUN" "$@" || return 1
	QID=$RS_LAST_QID
	MSG=$(wait_delivered "X-E2E-Case: $CASE.$RUN" 15) || MSG=""
	[ -n "$MSG" ]
}

# new_log: relaysign's log lines since MARK.
new_log() { tail -n "+$((MARK + 1))" "$LOG"; }

# logline: relaysign's decision line for QID (waits up to 5 s).
logline() {
	local i l
	[ -n "$QID" ] || return 1
	for ((i = 0; i < 50; i++)); do
		l=$(grep -F "$QID: relay=" "$LOG" | tail -1)
		[ -n "$l" ] && { echo "$l"; return 0; }
		sleep 0.1
	done
	return 1
}

# why: diagnostics for a failed check.
why() {
	[ $# -gt 0 ] && tap_diag "$@"
	if [ -n "$MSG" ]; then
		diag_message "$MSG"
	else
		tap_diag "(no delivered message; swaks transcript $RS_LAST_SWAKS:)"
		tail -8 "$RS_LAST_SWAKS" 2>/dev/null | sed 's/^/#   /'
		diag_log "$(postfix_log)" 6
	fi
	[ -n "$QID" ] && tap_diag "queue id: $QID"
	bg_check relaysign || tap_diag "relaysign is not running: $RS_BG_WHY"
	tap_diag "relaysign log since the message was sent:"
	new_log | tail -8 | sed 's/^/#   /'
}

RS_TAP_WHY=why	# tap_check's diagnostics
check() { tap_check "($CASE) $1" "${@:2}"; }	# check DESC CMD...: the case named

# our_ar: our Authentication-Results, whitespace (folding) squeezed to one space.
our_ar() {
	ar_by "$MSG" "$AUTHSERV" | tr -s ' \t' '  '
}

# ar SIGS WANT...: delivered with SIGS DKIM-Signature fields and exactly one
# A-R by $AUTHSERV containing every WANT (a fixed string).
ar() {
	local sigs=$1 a n w
	shift
	[ -n "$MSG" ] || { echo "not delivered"; return 1; }
	n=$(hdr_count "$MSG" DKIM-Signature)
	[ "$n" = "$sigs" ] || { echo "expected $sigs DKIM-Signature field(s), found $n"; return 1; }
	a=$(our_ar)
	n=$(grep -c . <<<"$a")
	[ "$n" = 1 ] || { echo "expected one $AUTHSERV Authentication-Results, found $n"; return 1; }
	for w in "$@"; do
		grep -qF -- "$w" <<<"$a" || { echo "A-R lacks '$w':" "$a"; return 1; }
	done
}

# untouched: delivered without a signature or an A-R of ours.
untouched() {
	[ -n "$MSG" ] || { echo "not delivered"; return 1; }
	local n a
	n=$(hdr_count "$MSG" DKIM-Signature)
	a=$(our_ar)
	[ "$n" = 0 ] || { echo "found $n DKIM-Signature field(s)"; return 1; }
	[ -z "$a" ] || { echo "found our A-R: $a"; return 1; }
}

# log_has WANT...: the decision line for QID contains every WANT.
log_has() {
	local l w
	l=$(logline) || { echo "no relaysign decision line for queue id '$QID'"; return 1; }
	for w in "$@"; do
		grep -qF -- "$w" <<<"$l" || { echo "log line lacks '$w':" "$l"; return 1; }
	done
}

# newlog_has WANT...: some line since MARK contains every WANT.
newlog_has() {
	local w l
	l=$(new_log)
	for w in "$@"; do
		l=$(grep -F -- "$w" <<<"$l")
	done
	[ -n "$l" ] || { echo "no relaysign log line since the message with all of: $*"; return 1; }
}

# dns_queries NAME TYPE: how many NAME/TYPE queries dnsserver.py has logged.
dns_queries() {
	grep -c " $1\. $2 -> " "$T/dns-queries.log" 2>/dev/null
}

LINE="relay=network client=[$RELAY]"

# --- (1) the seven SPF results (configuration A: RequireSPF no, still signed) ------
spf_case() {    # spf_case RESULT DOMAIN [LABEL]
	local res=$1 dom=$2 label=${3:-$1}
	send "1 $label" "$RELAY" "alma@$dom" "Library <library@$DOMAIN>"
	check "A-R spf=$res smtp.mailfrom=$dom, signed (RequireSPF no)" \
		ar 1 "spf=$res smtp.mailfrom=$dom;" "x-relaysign=signed"
	check "log: mailfrom=$dom spf=$res action=signed" \
		log_has "$LINE mailfrom=$dom spf=$res from=$DOMAIN " "action=signed d=$DOMAIN s=rsa2026"
}
spf_case pass pass.spf.test
spf_case fail fail.spf.test
spf_case softfail softfail.spf.test
spf_case neutral neutral.spf.test
spf_case none none.spf.test
spf_case permerror permerror.spf.test "permerror include"
spf_case permerror syntax.spf.test "permerror syntax"
spf_case permerror tworecords.spf.test "permerror two records"
spf_case temperror temperror.spf.test

# --- (2) null sender: the HELO name ----------------------------------------------
# After XCLIENT, swaks says EHLO again with --helo (the last one given wins).
send 2 "$RELAY" "<>" "Library <library@$DOMAIN>" --helo "mx.$DOMAIN"
check "null sender: A-R spf=pass smtp.helo=mx.$DOMAIN, aligned against the HELO" \
	ar 1 "spf=pass smtp.helo=mx.$DOMAIN;" \
	"x-aligned-from=pass policy.alignment=relaxed header.from=$DOMAIN smtp.helo=mx.$DOMAIN;"
check "null sender: log mailfrom=<> spf=pass aligned=yes" \
	log_has "$LINE mailfrom=<> spf=pass from=$DOMAIN aligned=yes" "action=signed"

# --- (3) alignment, relaxed -----------------------------------------------------------
send "3 vendor" "$RELAY" alma@exlibrisgroup.com "Library <library@$DOMAIN>"
check "MAIL FROM exlibrisgroup.com, From $DOMAIN: x-aligned-from=fail (relaxed)" \
	ar 1 "spf=pass smtp.mailfrom=exlibrisgroup.com;" \
	"x-aligned-from=fail policy.alignment=relaxed header.from=$DOMAIN smtp.mailfrom=exlibrisgroup.com;"
check "log: mailfrom=exlibrisgroup.com spf=pass from=$DOMAIN aligned=no" \
	log_has "$LINE mailfrom=exlibrisgroup.com spf=pass from=$DOMAIN aligned=no " "action=signed"
CASE="4 reject"
# (4) on the same message: the From domain's p=reject.
check "x-dmarc-policy=reject header.from=$DOMAIN in A-R" \
	ar 1 "x-dmarc-policy=reject header.from=$DOMAIN;"
check "log: aligned=no dmarc=reject action=signed" \
	log_has "aligned=no dmarc=reject action=signed"

send "3 subdomain" "$RELAY" "bounce@bounces.$DOMAIN" "Library <library@$DOMAIN>"
check "MAIL FROM bounces.$DOMAIN: x-aligned-from=pass (relaxed)" \
	ar 1 "spf=pass smtp.mailfrom=bounces.$DOMAIN;" \
	"x-aligned-from=pass policy.alignment=relaxed header.from=$DOMAIN smtp.mailfrom=bounces.$DOMAIN;"
check "log: aligned=yes" log_has "$LINE mailfrom=bounces.$DOMAIN spf=pass from=$DOMAIN aligned=yes "

# git-pages.rit.edu is in the PSL's private section: its subdomains are
# separate organizations, so they do not align (and have no key: tagged).
send "3 psl" "$RELAY" bounce@bounces.git-pages.rit.edu "Pages <web@library.git-pages.rit.edu>"
check "PSL private section: library. vs bounces.git-pages.rit.edu -> x-aligned-from=fail" \
	ar 0 "x-aligned-from=fail policy.alignment=relaxed header.from=library.git-pages.rit.edu smtp.mailfrom=bounces.git-pages.rit.edu;" \
	"x-relaysign=tagged reason=\"no-key\""
check "log: aligned=no action=tagged reason=no-key" \
	log_has "from=library.git-pages.rit.edu aligned=no " "action=tagged reason=no-key"

# --- (4) DMARC policy discovery --------------------------------------------------------
dmarc_case() {  # dmarc_case LABEL FROM-DOMAIN POLICY
	send "4 $1" "$RELAY" alma@exlibrisgroup.com "Notices <n@$2>"
	check "From $2: x-dmarc-policy=$3 in A-R (tagged no-key)" \
		ar 0 "x-dmarc-policy=$3 header.from=$2;" "x-relaysign=tagged reason=\"no-key\""
	check "log: from=$2 ... dmarc=$3" log_has "from=$2 aligned=no dmarc=$3 action=tagged"
}
dmarc_case "org-domain sp" news.example.org quarantine
dmarc_case "p=none" example.org none
dmarc_case "no record" nodmarc.test absent

# --- (5) RelaySPFNames: trust through the vendor's SPF name ------------------------
send "5 vendor" "$VENDOR" alma@exlibrisgroup.com "Library <library@$DOMAIN>"
check "client $VENDOR authorised by spf-eu.vendor.test: signed, policy.relay=spf" \
	ar 1 "spf=pass smtp.mailfrom=exlibrisgroup.com;" "x-relaysign=signed policy.relay=spf"
check "log: relay=spf:spf-eu.vendor.test client=[$VENDOR] action=signed" \
	log_has "relay=spf:spf-eu.vendor.test client=[$VENDOR] mailfrom=exlibrisgroup.com spf=pass" \
	"action=signed d=$DOMAIN"

send "5 stranger" "$STRANGER" alma@exlibrisgroup.com "Library <library@$DOMAIN>"
# unsigned_marked: delivered unsigned, marked tagged reason=untrusted (a keyed From).
unsigned_marked() {
	ar 0 'x-relaysign=tagged' 'reason="untrusted"' 'policy.relay=none'
}
check "client $STRANGER not authorised by spf-eu.vendor.test: unsigned, marked untrusted" \
	unsigned_marked
check "log: relay=none client=[$STRANGER] action=tagged reason=untrusted" \
	newlog_has "relay=none client=[$STRANGER]" "action=tagged reason=untrusted"

vendor_q=$(dns_queries spf-eu.vendor.test TXT)
send "5 cached" "$VENDOR" alma@exlibrisgroup.com "Library <library@$DOMAIN>"
check "second message from $VENDOR: still trusted and signed" \
	ar 1 "x-relaysign=signed policy.relay=spf"
cached() {
	log_has "relay=spf:spf-eu.vendor.test client=[$VENDOR]" "action=signed" || return 1
	local now
	now=$(dns_queries spf-eu.vendor.test TXT)
	[ "$now" = "$vendor_q" ] ||
		{ echo "spf-eu.vendor.test TXT asked again ($vendor_q -> $now queries): not from the cache"; return 1; }
	[ "$now" -ge 1 ] || { echo "spf-eu.vendor.test was never asked"; return 1; }
}
check "... from the cache: no new spf-eu.vendor.test query (SPFCacheTTL 300)" cached

# --- (7) the DNS time bound ---------------------------------------------------------
# A correctness bound on the configured DNSTimeout, not a performance
# assertion: with the resolver's own defaults at 10 s x 3 tries (above), only
# relaysign's own bound can end a never-answered lookup this soon.  The time
# runs from the message's submission (swaks starting) to relaysign's decision
# line; 3 x DNSTimeout leaves room for the rest of the SMTP transaction and
# the answered lookups.  DNSTimeout is 3, not 2: on a loaded 2-core machine
# (load 12, sanitizer build) the transaction alone was seen taking 3.5 s.
sod() {         # sod HH:MM:SS.fff -> seconds of the day
	awk -F: '{ printf "%.3f", $1 * 3600 + $2 * 60 + $3 }' <<<"$1"
}
T0=0
# bounded DROPPED-NAME: dnsserver.py dropped a query for it, and relaysign's
# decision line came less than 3 x DNSTimeout after T0.
bounded() {
	local l t1 el
	grep -qF " $1. TXT -> (dropped)" "$T/dns-queries.log" ||
		{ echo "dnsserver.py never dropped a query for $1"; return 1; }
	l=$(logline) || { echo "no decision line"; return 1; }
	t1=$(sod "${l%% *}")
	el=$(awk -v a="$T0" -v b="$t1" 'BEGIN { d = b - a; if (d < 0) d += 86400; printf "%.3f", d }')
	echo "submission -> decision line: ${el} s (DNSTimeout $TIMEOUT)"
	awk -v e="$el" -v t="$TIMEOUT" 'BEGIN { exit !(e < 3 * t) }' ||
		{ echo "took ${el} s, not < 3 x DNSTimeout = $((3 * TIMEOUT)) s"; return 1; }
}
check_bounded() {       # check_bounded DROPPED-NAME
	local out
	if out=$(bounded "$1" 2>&1); then
		tap_ok "($CASE) temperror within 3 x DNSTimeout ($((3 * TIMEOUT)) s)"
		tap_diag "$out"
	else
		tap_not_ok "($CASE) temperror within 3 x DNSTimeout ($((3 * TIMEOUT)) s)"
		why "$out"
	fi
}

T0=$(sod "$(date -u +%H:%M:%S.%N)")
send "7 envelope SPF" "$RELAY" alma@slow.spf.test "Library <library@$DOMAIN>"
check "never-answered slow.spf.test: A-R spf=temperror, signed (RequireSPF no)" \
	ar 1 "spf=temperror smtp.mailfrom=slow.spf.test;" "x-relaysign=signed"
check "log: spf=temperror action=signed" \
	log_has "$LINE mailfrom=slow.spf.test spf=temperror from=$DOMAIN" "action=signed"
check_bounded slow.spf.test
# At MAIL FROM Postfix has no queue id yet (smtpd_delay_open_until_valid_rcpt),
# so this debug line says NOQUEUE: look for it among the message's lines.  Its
# reason is "DNS time limit of 3 s reached" or, when relaysign gave the query
# the remaining time rounded down to whole seconds, "Temporary DNS failure".
check "debug log: spf=temperror for slow.spf.test" \
	newlog_has ": spf=temperror: "

# The From domain has no key here, so the message is tagged, not signed.
T0=$(sod "$(date -u +%H:%M:%S.%N)")
send "7 DMARC" "$RELAY" alma@exlibrisgroup.com "Slow <n@slowdmarc.test>"
check "never-answered _dmarc.slowdmarc.test: A-R x-dmarc-policy=temperror" \
	ar 0 "x-dmarc-policy=temperror header.from=slowdmarc.test;"
check "log: dmarc=temperror" log_has "from=slowdmarc.test aligned=no dmarc=temperror"
check_bounded _dmarc.slowdmarc.test

# --- configuration B: Alignment strict ------------------------------------------------
use_conf B "${CONF_B[@]}"
send "3 strict subdomain" "$RELAY" "bounce@bounces.$DOMAIN" "Library <library@$DOMAIN>"
check "strict: MAIL FROM bounces.$DOMAIN -> x-aligned-from=fail (same org domain is not enough)" \
	ar 1 "x-aligned-from=fail policy.alignment=strict header.from=$DOMAIN smtp.mailfrom=bounces.$DOMAIN;"
check "log: aligned=no" log_has "mailfrom=bounces.$DOMAIN spf=pass from=$DOMAIN aligned=no "
send "3 strict identical" "$RELAY" "bounce@$DOMAIN" "Library <library@$DOMAIN>"
check "strict: MAIL FROM $DOMAIN -> x-aligned-from=pass" \
	ar 1 "x-aligned-from=pass policy.alignment=strict header.from=$DOMAIN smtp.mailfrom=$DOMAIN;"
check "log: aligned=yes" log_has "mailfrom=$DOMAIN spf=pass from=$DOMAIN aligned=yes "

# --- configuration C: RequireSPF yes -------------------------------------------------
use_conf C "${CONF_C[@]}"

send "6 fail" "$RELAY" alma@fail.spf.test "Library <library@$DOMAIN>"
check "RequireSPF, spf=fail: unsigned, x-relaysign=tagged reason=\"spf-fail\"" \
	ar 0 "spf=fail smtp.mailfrom=fail.spf.test;" "x-relaysign=tagged reason=\"spf-fail\""
check "log: spf=fail action=tagged reason=spf-fail" \
	log_has "$LINE mailfrom=fail.spf.test spf=fail" "action=tagged reason=spf-fail"

send "6 pass" "$RELAY" alma@pass.spf.test "Library <library@$DOMAIN>"
check "RequireSPF, spf=pass: signed" \
	ar 1 "spf=pass smtp.mailfrom=pass.spf.test;" "x-relaysign=signed"
check "log: spf=pass action=signed" \
	log_has "$LINE mailfrom=pass.spf.test spf=pass" "action=signed d=$DOMAIN"

send "3 psl orgdomains" "$RELAY" bounce@bounces.git-pages.rit.edu "Pages <web@library.git-pages.rit.edu>"
check "OrganizationalDomains git-pages.rit.edu: x-aligned-from=pass (relaxed)" \
	ar 0 "x-aligned-from=pass policy.alignment=relaxed header.from=library.git-pages.rit.edu smtp.mailfrom=bounces.git-pages.rit.edu;"
check "log: aligned=yes" log_has "from=library.git-pages.rit.edu aligned=yes "

# (6) temperror, directly: the relay is told 451 4.7.1 at the end of DATA.
# An smtpd_milters reply goes to the SMTP client in the session: this Postfix
# logs a milter-reject and keeps nothing; the message stays queued at the
# sender, which the upstream case below shows with a real MTA.
CASE="6 temperror"
MARK=$(wc -l <"$LOG")
MSG="" QID=""
if send_via_xclient "$RELAY" alma@temperror.spf.test patron@example.net "Library <library@$DOMAIN>" \
	--header "X-E2E-Case: $CASE.$RUN" >/dev/null 2>&1; then
	tap_not_ok "($CASE) RequireSPF, spf=temperror: the client gets 451 4.7.1"
	why "the message was accepted (queue id $RS_LAST_QID)"
else
	said451() {
		grep -E '^ *<\*\* +451 4\.7\.1 ' "$RS_LAST_SWAKS" ||
			grep -E '^ *<.* 451 4\.7\.1 ' "$RS_LAST_SWAKS" ||
			{ echo "swaks did not see 451 4.7.1:"; tail -6 "$RS_LAST_SWAKS"; return 1; }
	}
	check "RequireSPF, spf=temperror: the client gets 451 4.7.1 at end of DATA" said451
fi
check "log: spf=temperror action=tempfailed reason=spf-temperror" \
	newlog_has "$LINE mailfrom=temperror.spf.test spf=temperror" "action=tempfailed reason=spf-temperror"
pf_reject() {
	local i
	for ((i = 0; i < 30; i++)); do
		grep -E 'milter-reject: END-OF-MESSAGE .*4\.7\.1 .*from=<alma@temperror\.spf\.test>' \
			"$(postfix_log)" && return 0
		sleep 0.1
	done
	echo "no milter-reject 4.7.1 line in Postfix's log"
	return 1
}
check "Postfix logs the 4.7.1 milter-reject" pf_reject

# (6) temperror behind a real upstream MTA (a second private Postfix, as the
# vendor's relay would be): relaysign's 451 makes it defer the message, which
# stays in its queue -- neither bounced nor delivered unsigned.
start_upstream() {
	UP_DIR=$T/upstream
	rs_postfix "$UP_DIR" "$UPSTREAM" "$UP_PORT" "" myhostname=vendor-relay.test \
		mydomain=vendor-relay.test myorigin=vendor-relay.test \
		"relayhost=[127.0.0.1]:$RS_SMTP_PORT" "smtp_bind_address=$UPSTREAM"
}
CASE="6 upstream"
MARK=$(wc -l <"$LOG")
MSG="" QID=""
up_deferred() {
	local i up_qid
	up_qid=$(sed -n 's/.*queued as \([0-9A-Za-z]*\).*/\1/p' "$T/swaks.upstream.log" | tail -1)
	[ -n "$up_qid" ] || { echo "the upstream MTA did not accept the message:"; tail -5 "$T/swaks.upstream.log"; return 1; }
	for ((i = 0; i < 150; i++)); do
		grep -q "$up_qid: .*status=deferred .*451 4\.7\.1" "$UP_LOG" 2>/dev/null && break
		sleep 0.1
	done
	grep "$up_qid: .*status=" "$UP_LOG" ||
		{ echo "no delivery attempt for $up_qid in the upstream log"; tail -5 "$UP_LOG"; return 1; }
	grep -q "$up_qid: .*status=deferred .*451 4\.7\.1" "$UP_LOG" ||
		{ echo "not deferred with 451 4.7.1"; return 1; }
	! grep -q "$up_qid: .*status=\(sent\|bounced\)" "$UP_LOG" ||
		{ echo "sent or bounced, not deferred"; return 1; }
	postqueue -c "$T/upstream/etc" -p | grep -q "^$up_qid" ||
		{ echo "$up_qid is not in the upstream queue:"; postqueue -c "$T/upstream/etc" -p; return 1; }
	postqueue -c "$T/upstream/etc" -p | grep -q "451 4.7.1" ||
		{ echo "the upstream queue does not show the 451 4.7.1 reason"; return 1; }
	! grep -rqF "X-E2E-Case: $CASE.$RUN" "$SINK" ||
		{ echo "the message reached the sink"; return 1; }
}
UP_LOG=$T/upstream/maillog
if ip addr add "$UPSTREAM/32" dev lo && start_upstream >"$T/upstream.start.log" 2>&1; then
	timeout 60 swaks --server "$UPSTREAM:$UP_PORT" --timeout 30 --helo vendor-relay.test \
		--from alma@temperror.spf.test --to patron@example.net \
		--header "From: Library <library@$DOMAIN>" --header "X-E2E-Case: $CASE.$RUN" \
		>"$T/swaks.upstream.log" 2>&1
	RS_LAST_SWAKS=$T/swaks.upstream.log
	check "spf=temperror behind an upstream MTA: deferred with 451 4.7.1, still in its queue, not delivered" \
		up_deferred
	check "log: relay=network client=[$UPSTREAM] spf=temperror action=tempfailed" \
		newlog_has "relay=network client=[$UPSTREAM] mailfrom=temperror.spf.test spf=temperror" \
		"action=tempfailed reason=spf-temperror"
else
	tap_not_ok "($CASE) the upstream Postfix starts"
	sed 's/^/# /' "$T/upstream.start.log"
	tap_not_ok "($CASE) (not run)"
fi
stop_upstream

# --- the end: queue empty, relaysign exits cleanly ---------------------------------
# --- configuration D: a vendor SPF name that cannot be read now ---------------------
# The stranger is authorised by neither name; one of them SERVFAILs.  A
# message relaysign would sign if the client were the vendor's relay is
# tempfailed (the vendor retries) instead of leaving unsigned; any other
# message from that client is accepted untouched.
said451() {
	grep -E '^ *<\*\* +451 4\.7\.1 ' "$RS_LAST_SWAKS" ||
		grep -E '^ *<.* 451 4\.7\.1 ' "$RS_LAST_SWAKS" ||
		{ echo "swaks did not see 451 4.7.1:"; tail -6 "$RS_LAST_SWAKS"; return 1; }
}
RELAY_SPF_NAMES="spf-eu.vendor.test temperror.spf.test"
use_conf D "Alignment relaxed" "RequireSPF no"
CASE="8 relay temperror"
MARK=$(wc -l <"$LOG")
MSG="" QID=""
if send_via_xclient "$STRANGER" alma@exlibrisgroup.com patron@example.net "Library <library@$DOMAIN>" \
	--header "X-E2E-Case: $CASE.$RUN" >/dev/null 2>&1; then
	tap_not_ok "($CASE) RelaySPFNames temperror, From $DOMAIN: the client gets 451 4.7.1"
	why "the message was accepted (queue id $RS_LAST_QID)"
else
	check "RelaySPFNames temperror, From $DOMAIN: the client gets 451 4.7.1" said451
fi
check "log: action=tempfailed reason=relay-temperror" \
	newlog_has "relay=none client=[$STRANGER]" "action=tempfailed reason=relay-temperror"
send "8 relay temperror, foreign From" "$STRANGER" alma@exlibrisgroup.com "Alma <notices@exlibrisgroup.com>"
check "RelaySPFNames temperror, From without a key: delivered untouched" untouched

CASE=end
if wait_queue_empty 20 2>/dev/null; then
	tap_ok "($CASE) Postfix queue empty: nothing deferred or stuck"
else
	tap_not_ok "($CASE) Postfix queue empty: nothing deferred or stuck"
	postqueue -c "$RS_POSTFIX_DIR" -p 2>&1 | tail -8 | sed 's/^/# /'
fi
# reload() once dropped -f's "log to standard error" (after a SIGHUP with
# Syslog no nothing was logged, not even "reloaded"): keep it fixed.
hup_pid=$(rs_pid_of relaysign)
before=$(grep -c 'reloaded ' "$LOG")
kill -HUP "$hup_pid"
for ((i = 0; i < 30; i++)); do
	[ "$(grep -c 'reloaded ' "$LOG")" -gt "$before" ] && break
	sleep 0.1
done
if [ "$(grep -c 'reloaded ' "$LOG")" -gt "$before" ]; then
	tap_ok "(end) relaysign -f still logs to stderr after SIGHUP"
else
	tap_not_ok "(end) relaysign -f still logs to stderr after SIGHUP"
fi

stop_postfix
CASE=end
stop_milter
exits_ok() {
	local st
	for st in $RS_EXITS; do
		[ "$st" = 0 ] || { echo "relaysign exit statuses:$RS_EXITS"; return 1; }
	done
	if grep -q 'Sanitizer\|runtime error:' "$LOG"; then
		grep -A30 'Sanitizer\|runtime error:' "$LOG" | head -40
		return 1
	fi
}
check "relaysign exits 0 on SIGTERM every time (exit statuses:$RS_EXITS), no sanitizer report" exits_ok

tap_done
