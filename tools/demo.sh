#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# tools/demo.sh -- see relaysign sign an Alma-style notice, on a fresh Debian 12.
#
#   sudo tools/demo.sh [--no-setup] [--no-build] [--builddir DIR] [--out DIR]
#
# 1. installs the Debian packages (tools/setup-debian.sh),
# 2. builds relaysign (autogen, configure --localstatedir=/var --sysconfdir=/etc,
#    make) in DIR (default: build/ in this checkout),
# 3. creates the demo key /var/lib/relaysign/demo.key (RSA 2048, mode 0600) if
#    it is missing,
# 4. in a private network + mount namespace (nothing touches the machine's own
#    mail system, ports or DNS): starts a DNS server publishing
#    demo._domainkey.library.example.edu, relaysign with its built-in
#    configuration (no -c), a private Postfix on 127.0.0.1:25 with
#    smtpd_milters = inet:127.0.0.1:8891, and smtp-sink as "the Internet",
# 5. sends an overdue notice as Ex Libris would (XCLIENT 127.0.0.2, the relay
#    the built-in configuration trusts) and a forgery of the same From: from a
#    stranger (203.0.113.7), verifies them with dkimpy and Mail::DKIM, prints
#    a report, stops everything and keeps the delivered messages and logs in
#    --out (default /var/tmp/relaysign-demo-DATE).
#
# Exit status 0 only if the notice came out signed and verified and the
# forgery came out unsigned (marked x-relaysign=tagged reason=untrusted).
#
# Options:
#   --no-setup      do not run tools/setup-debian.sh (packages already there)
#   --no-build      do not build; use $RELAYSIGN or DIR/relaysign as it is
#   --builddir DIR  build directory (default: <checkout>/build)
#   --out DIR       where to keep the delivered messages and logs
# Environment (for developers):
#   RELAYSIGN=PATH           the binary to run (implies nothing about building)
#   RS_DEMO_KEY=PATH         demo key path (default /var/lib/relaysign/demo.key,
#                            which is what the built-in configuration reads)
#   RS_DEMO_STANDIN=opendkim rehearse the rig with OpenDKIM in relaysign's place
#                            (signs with the same key and selector; no build)
set -u

srcdir=$(cd "$(dirname "$0")/.." && pwd)
top_srcdir=$srcdir
SETUP=1
BUILD=1
BUILDDIR=${RS_DEMO_BUILDDIR:-$srcdir/build}
OUT=${RS_DEMO_OUT:-}

usage() { sed -n '2,/^set -u/p' "$0" | sed '$d; s/^# \{0,1\}//' >&2; exit 2; }
while [ $# -gt 0 ]; do
	case $1 in
	--no-setup) SETUP=0 ;;
	--no-build) BUILD=0 ;;
	--builddir) [ $# -ge 2 ] || usage; BUILDDIR=$2; shift ;;
	--builddir=*) BUILDDIR=${1#*=} ;;
	--out) [ $# -ge 2 ] || usage; OUT=$2; shift ;;
	--out=*) OUT=${1#*=} ;;
	-h | --help) usage ;;
	*) echo "demo.sh: unknown option: $1" >&2; usage ;;
	esac
	shift
done
case $BUILDDIR in /*) ;; *) BUILDDIR=$PWD/$BUILDDIR ;; esac
: "${OUT:=/var/tmp/relaysign-demo-$(date +%Y%m%d-%H%M%S)}"
case $OUT in /*) ;; *) OUT=$PWD/$OUT ;; esac
STANDIN=${RS_DEMO_STANDIN:-}
KEY=${RS_DEMO_KEY:-/var/lib/relaysign/demo.key}
DOMAIN=library.example.edu
SELECTOR=demo
VENDOR_IP=127.0.0.2
STRANGER_IP=203.0.113.7

say() { printf '%s\n' "$*"; }
step() { printf '\n== %s\n' "$*"; }
fail() { printf '\ndemo.sh: FAILED: %s\n' "$*" >&2; exit 1; }

# =========================== outside the sandbox: packages, build, key ===========
if [ "${RS_IN_SANDBOX:-}" != 1 ]; then
	[ "$(id -u)" = 0 ] || fail "run it as root: sudo tools/demo.sh (it installs packages and starts Postfix)"
	say "relaysign demo: a campus relay signs a library notice that Ex Libris relays to it."

	step "1. Packages (tools/setup-debian.sh)"
	if [ "$SETUP" = 1 ]; then
		sh "$srcdir/tools/setup-debian.sh" || fail "tools/setup-debian.sh failed (see above)"
	else
		say "skipped (--no-setup)"
	fi

	step "2. Building relaysign"
	if [ -n "$STANDIN" ]; then
		say "skipped: RS_DEMO_STANDIN=$STANDIN (OpenDKIM plays relaysign; for rehearsing the demo)"
		RELAYSIGN=${RELAYSIGN:-}
	elif [ "$BUILD" = 1 ] && [ -z "${RELAYSIGN:-}" ]; then
		# Build as the user who ran sudo when the checkout is theirs, so that
		# build/ and the generated configure are not left owned by root.
		as_owner() {
			local owner
			owner=$(stat -c %U "$srcdir")
			if [ -n "${SUDO_USER:-}" ] && [ "$SUDO_USER" != root ] && [ "$owner" = "$SUDO_USER" ]; then
				runuser -u "$SUDO_USER" -- "$@"
			else
				"$@"
			fi
		}
		blog="$BUILDDIR/demo-build.log"
		as_owner mkdir -p "$BUILDDIR" || fail "cannot create $BUILDDIR"
		say "in $BUILDDIR (output in $blog)"
		{
			if [ ! -x "$srcdir/configure" ] || [ "$srcdir/configure.ac" -nt "$srcdir/configure" ] ||
				[ "$srcdir/Makefile.am" -nt "$srcdir/Makefile.in" ]; then
				echo "+ ./autogen.sh" && as_owner "$srcdir/autogen.sh" || exit 1
			fi
			if [ ! -f "$BUILDDIR/Makefile" ]; then
				echo "+ configure --localstatedir=/var --sysconfdir=/etc" &&
					(cd "$BUILDDIR" && as_owner "$srcdir/configure" --localstatedir=/var --sysconfdir=/etc) || exit 1
			fi
			echo "+ make" && as_owner make -C "$BUILDDIR" -j"$(nproc)" relaysign
		} >"$blog.tmp" 2>&1
		rc=$?
		as_owner cp "$blog.tmp" "$blog" 2>/dev/null || cp "$blog.tmp" "$blog"
		rm -f "$blog.tmp"
		if [ "$rc" != 0 ]; then
			tail -25 "$blog" | sed 's/^/    /' >&2
			fail "the build failed (full log: $blog)"
		fi
		RELAYSIGN=$BUILDDIR/relaysign
		say "built $RELAYSIGN"
	else
		RELAYSIGN=${RELAYSIGN:-$BUILDDIR/relaysign}
		say "skipped; using $RELAYSIGN"
	fi
	if [ -z "$STANDIN" ]; then
		[ -x "$RELAYSIGN" ] || fail "no relaysign binary at $RELAYSIGN"
	fi

	step "3. The demo signing key"
	if [ -f "$KEY" ]; then
		say "$KEY is already there; using it"
	else
		{ mkdir -p "$(dirname "$KEY")" && chmod 0755 "$(dirname "$KEY")"; } ||
			fail "cannot create $(dirname "$KEY")"
		(umask 077 && openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$KEY" 2>/dev/null) ||
			fail "openssl could not create $KEY"
		say "created $KEY (RSA 2048)"
	fi
	if [ "$(stat -c %a "$KEY")" != 600 ]; then
		chmod 0600 "$KEY" && say "set its mode to 0600 (relaysign refuses keys others can read)"
	fi
	openssl pkey -in "$KEY" -noout 2>/dev/null || fail "$KEY is not a readable private key"

	RS_DEMO_OUT=$OUT
	export RELAYSIGN RS_DEMO_OUT RS_DEMO_STANDIN RS_DEMO_KEY=$KEY
fi

# =========================== inside the sandbox: the demo itself =================
# shellcheck source=tools/lib.sh
. "$srcdir/tools/lib.sh"
RS_NAME=demo
rs_sandbox "$0" "$@"    # returns only inside the namespaces
rs_init demo
T=$RS_TMP
LOG=$T/relaysign.log
for tool in postfix swaks smtp-sink perl; do
	command -v "$tool" >/dev/null || fail "$tool not found (run tools/setup-debian.sh)"
done
/usr/bin/python3 -c 'import dkim, dnslib' 2>/dev/null || fail "/usr/bin/python3 lacks python3-dkim/python3-dnslib"

step "4. A private test world"
say "Everything below runs in its own network namespace: 127.0.0.1 here is not your"
say "machine's loopback, so your real Postfix, DNS and ports are left alone."
say "In this demo the address $VENDOR_IP plays the Ex Libris relay (Alma's outgoing server);"
say "relaysign's built-in configuration trusts relays on 127.0.0.0/8."

DKIMTXT=$(rs_dkim_txt_rsa "$KEY")
start_dns --authority example.edu --authority exlibrisgroup.com \
	--rr "$SELECTOR._domainkey.$DOMAIN TXT $DKIMTXT" \
	--rr "_dmarc.$DOMAIN TXT v=DMARC1; p=reject; adkim=r; aspf=r" \
	--rr "$DOMAIN TXT v=spf1 -all" \
	--rr "exlibrisgroup.com TXT v=spf1 include:spf-na.exlibrisgroup.com -all" \
	--rr "spf-na.exlibrisgroup.com TXT v=spf1 ip4:$VENDOR_IP -all" \
	--rr "_dmarc.exlibrisgroup.com TXT v=DMARC1; p=reject; adkim=r" ||
	fail "could not start the DNS server"
say "- DNS server on 127.0.0.1:53 publishing $SELECTOR._domainkey.$DOMAIN (the demo key's"
say "  public half), DMARC p=reject for $DOMAIN, and an SPF record for exlibrisgroup.com"
say "  whose include covers $VENDOR_IP"

if [ -n "$STANDIN" ]; then
	start_opendkim relaysign 8891 "$SELECTOR" "$KEY" rsa-sha256 "$DOMAIN" 127.0.0.0/8 ||
		fail "could not start OpenDKIM (stand-in)"
	LOG=$T/relaysign.log
	say "- OpenDKIM STANDING IN for relaysign on inet:8891@127.0.0.1 (rehearsal mode)"
else
	if ! out=$("$RELAYSIGN" -n 2>&1); then
		say "$out" | sed 's/^/    /'
		fail "relaysign -n rejects its built-in configuration"
	fi
	start_bg relaysign 8891 "$RELAYSIGN" -f || fail "relaysign did not start (log above)"
	say "- relaysign (no -c: built-in configuration) on inet:8891@127.0.0.1, in the foreground"
	say "  (-f), its log captured (kept as $OUT/relaysign.log)"
fi
start_sink "$T/sink" || fail "could not start smtp-sink"
say "- smtp-sink on 127.0.0.1:2526 playing the Internet: it stores every message it receives"
start_postfix "inet:127.0.0.1:8891" || fail "could not start Postfix"
say "- Postfix on 127.0.0.1:25 with smtpd_milters = inet:127.0.0.1:8891, relaying to smtp-sink"
say "  (it relays for the stranger too, so that you can see what relaysign does with a forgery)"

RUN=$$.$RANDOM
BODY1="Dear patron,

the following item is overdue: \"Moby-Dick; or, The Whale\" (due 2026-03-01).
Please return or renew it at https://library.example.edu/account.

Your Library"
BODY2="Dear patron,

your library account will be closed. Confirm your password at
http://library-example-edu.invalid/login within 24 hours.

Your Library"

# send NUM ADDR SUBJECT BODY: sets QIDn, MSGn
send_demo() {
	local n=$1 addr=$2 subj=$3 body=$4 q m
	if ! send_via_xclient "$addr" alma@exlibrisgroup.com patron@example.net \
		"Library <library@$DOMAIN>" --header "Subject: $subj" \
		--header "X-Demo-Message: $n.$RUN" --body "$body"; then
		q=""
		m=""
	else
		q=$RS_LAST_QID
		m=$(wait_delivered "X-Demo-Message: $n.$RUN" 20) || m=""
	fi
	printf -v "QID$n" '%s' "$q"
	printf -v "MSG$n" '%s' "$m"
}
logline_for() {     # the milter's log line for a queue id (waits up to 3 s)
	local i
	[ -n "$1" ] || return 1
	for ((i = 0; i < 30; i++)); do
		grep -F "$1:" "$LOG" 2>/dev/null | tail -1 | grep . && return 0
		sleep 0.1
	done
	return 1
}

send_demo 1 "$VENDOR_IP" "Overdue notice" "$BODY1"
send_demo 2 "$STRANGER_IP" "Your library account" "$BODY2"
wait_queue_empty 20 >/dev/null 2>&1

{ mkdir -p "$OUT" && chmod 0755 "$OUT"; } || fail "cannot create $OUT"
OK=1

# ------------------------------------------------------------------ message 1
step "Message 1: an Alma overdue notice, relayed by \"Ex Libris\" ($VENDOR_IP)"
say "   MAIL FROM:<alma@exlibrisgroup.com>   From: Library <library@$DOMAIN>"
if [ -z "$MSG1" ]; then
	OK=0
	say "   NOT DELIVERED. What Postfix answered:"
	grep -E '^ *<\*\*' "$RS_TMP"/swaks.1.log 2>/dev/null | sed 's/^/     /'
	tail -5 "$(postfix_log)" | sed 's/^/     /'
else
	cp "$MSG1" "$OUT/1-overdue-notice.eml"
	say "   Postfix accepted it (queue id $QID1) and relayed it."
	if l=$(logline_for "$QID1"); then
		say "   relaysign logged:  $l"
	else
		say "   relaysign logged:  (no line for $QID1)"
		[ -n "$STANDIN" ] || OK=0
	fi
	sig=$(hdr_values "$MSG1" DKIM-Signature | head -1)
	if [ -n "$sig" ]; then
		sd=$(dkim_tag d "$sig")
		ss=$(dkim_tag s "$sig")
		say "   It left with a DKIM-Signature: d=$sd s=$ss (signing domain = the From: domain)"
		[ "$sd" = "$DOMAIN" ] && [ "$ss" = "$SELECTOR" ] || OK=0
	else
		say "   It left WITHOUT a DKIM-Signature."
		OK=0
	fi
	ar=$(hdr_values "$MSG1" Authentication-Results | grep -i 'x-relaysign' | head -1)
	[ -n "$ar" ] && say "   and the tag:  Authentication-Results: $(tr -s '\t ' '  ' <<<"$ar")"
	if v=$(verify_py "$MSG1" 2>&1); then
		say "   Verdict of an independent verifier, Python dkimpy:  PASS"
	else
		say "   Verdict of an independent verifier, Python dkimpy:  FAIL"
		say "$v" | sed 's/^/     /'
		OK=0
	fi
	if v=$(verify_pl "$MSG1" 2>&1); then
		say "   Verdict of a second verifier, Perl Mail::DKIM:       PASS"
	else
		say "   Verdict of a second verifier, Perl Mail::DKIM:       FAIL"
		say "$v" | sed 's/^/     /'
		OK=0
	fi
	say "   => Gmail, Yahoo or Outlook would find a valid signature by $DOMAIN, the"
	say "      domain in From:, so the notice passes DMARC although Ex Libris sent it."
fi

# ------------------------------------------------------------------ message 2
step "Message 2: a forgery with the same From:, from a stranger ($STRANGER_IP)"
say "   MAIL FROM:<alma@exlibrisgroup.com>   From: Library <library@$DOMAIN>"
if [ -z "$MSG2" ]; then
	OK=0
	say "   NOT DELIVERED (it should have been, unsigned). What Postfix answered:"
	grep -E '^ *<\*\*' "$RS_TMP"/swaks.2.log 2>/dev/null | sed 's/^/     /'
else
	cp "$MSG2" "$OUT/2-forgery.eml"
	say "   Postfix accepted it (queue id $QID2) and relayed it."
	if l=$(logline_for "$QID2"); then
		say "   relaysign logged:  $l"
	else
		say "   relaysign logged nothing for it: it should have logged action=tagged reason=untrusted."
		OK=0
	fi
	nsig=$(hdr_count "$MSG2" DKIM-Signature)
	ntag=$(hdr_values "$MSG2" Authentication-Results | grep -ci 'x-relaysign')
	if [ "$nsig" = 0 ] && verify_py "$MSG2" --expect-none >/dev/null 2>&1; then
		say "   It left WITHOUT a DKIM-Signature, as it should."
	else
		say "   It left with $nsig DKIM-Signature field(s): relaysign signed a forgery!"
		OK=0
	fi
	if [ "$ntag" = 1 ] && hdr_values "$MSG2" Authentication-Results |
		grep -qi 'x-relaysign=tagged reason="untrusted"'; then
		say "   It carries relaysign's mark, x-relaysign=tagged reason=\"untrusted\": a second"
		say "   pass through relaysign (a content filter's reinjection) will not sign it."
	else
		say "   It should carry exactly one relaysign mark (tagged, untrusted); it carries $ntag."
		OK=0
	fi
	say "   => Receivers find no valid signature for $DOMAIN and DMARC (p=reject) rejects"
	say "      it: relaysign does not sign for anyone who merely claims your From: domain."
fi

# ------------------------------------------------------------------ files
cp "$LOG" "$OUT/relaysign.log" 2>/dev/null
cp "$(postfix_log)" "$OUT/postfix.log" 2>/dev/null
cp "$T/dns-queries.log" "$OUT/dns-queries.log" 2>/dev/null
printf '%s\n' "$DKIMTXT" >"$OUT/dns-record.txt"
chmod 0644 "$OUT"/* 2>/dev/null
step "Files kept in $OUT"
for f in 1-overdue-notice.eml 2-forgery.eml relaysign.log postfix.log dns-queries.log dns-record.txt; do
	[ -f "$OUT/$f" ] || continue
	case $f in
	1-*) d="the signed notice as it left the relay" ;;
	2-*) d="the forgery as it left the relay" ;;
	relaysign.log) d="relaysign's log (one line per trusted message)" ;;
	postfix.log) d="Postfix's log" ;;
	dns-queries.log) d="every DNS question asked in the demo" ;;
	dns-record.txt) d="the TXT record to publish at $SELECTOR._domainkey.$DOMAIN" ;;
	esac
	printf '   %-22s %s\n' "$f" "$d"
done
say "   (the first lines, X-Client-Addr ... Received: ... (smtp-sink), were added by smtp-sink)"

step "Stopping Postfix, relaysign, the DNS server and smtp-sink"
stop_all
say "done."
echo
if [ "$OK" = 1 ]; then
	if [ -n "$STANDIN" ]; then
		say "RESULT: the rehearsal (OpenDKIM standing in for relaysign) behaved as described."
	else
		say "RESULT: the demo behaved as described."
	fi
	exit 0
fi
say "RESULT: the demo did NOT behave as described (see above; logs in $OUT)."
exit 1
