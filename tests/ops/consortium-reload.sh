#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# tests/ops/consortium-reload.sh -- SIGHUP under load on a consortium relay
# of 500 institutions, through a real Postfix (TAP).
#
# The configuration (tools/consortium.sh): inst001.edu .. inst500.edu, each
# with its own Ed25519 key (selector ed2026) in KeyTable/SigningTable and
# its own SMTP AUTH login alma-instNNN bound to its domain in RelayBindings.
# Ed25519 only, one key an institution, so that key generation takes
# seconds (500 RSA-2048 keys take minutes; bench/consortium.sh measures the
# RSA + Ed25519 consortium) and every message carries exactly one signature.
#
# Load: tests/ops/consortium-send.py holds $RS_CR_SESSIONS (6) SMTP sessions
# to a private Postfix, each logged in (XCLIENT LOGIN, which Postfix hands
# to relaysign as {auth_authen}) as one institution spread over the table,
# sending From: that institution, one message every $RS_CR_PACE (0.05) s,
# until the test is done.  Meanwhile three configurations are installed
# (written aside, renamed into place) and SIGHUP sent, each once enough
# mail has gone through:
#
#   A  --HUP-->  B: alma-inst007 loses inst007.edu (keeps *.inst007.edu),
#                   alma-inst008 gains it
#      --HUP-->  C: B, and inst003.edu's key replaced (selector ed2027)
#      --HUP-->  A  again
#
# After each reload is logged, probes (single sessions) show the new
# configuration in force: under B, alma-inst007's mail From inst007.edu is
# tagged reason=not-bound and not signed, alma-inst008's is signed
# d=inst007.edu; under C, inst003.edu is signed s=ed2027; back under A,
# alma-inst007 signs inst007.edu again and inst003.edu is s=ed2026.
#
# Then: every load message got 250 (none tempfailed, rejected or lost), the
# queue empties, the sink holds every accepted message exactly once, each
# load message has exactly one DKIM-Signature, d= its From domain, that
# dkimpy verifies against the test DNS; Postfix logged no deferral or milter
# tempfail; relaysign logged three "reloaded" lines and no "reload failed",
# is still running, exits 0 on SIGTERM, and left no sanitizer report.
#
# Shown to fail when a reload loses mail: with a relaysign patched so that
# no configuration is in force while the new one loads (confswap_acquire
# returning NULL during load_conf, as if a reload tore the old one down
# first), 122 of 523 load messages got "451 4.7.1 relaysign: shutting
# down" and the checks of 250 replies, the sink, the signatures and
# Postfix's log failed; unpatched, and under ASan/UBSan, all pass.
#
# Environment: top_srcdir, top_builddir, RELAYSIGN (default
# $top_builddir/relaysign: point it at a sanitizer build), RS_CR_SESSIONS,
# RS_CR_PACE, RS_CR_N (institutions, 500), RS_KEEP=1.  About 40-60 s.
set -u

# shellcheck source=tools/lib.sh
. "${top_srcdir:-$(dirname "$0")/../..}/tools/lib.sh" --with-extra
# shellcheck source=tools/consortium.sh
. "$top_srcdir/tools/consortium.sh"

RELAYSIGN=${RELAYSIGN:-$top_builddir/relaysign}
NI=${RS_CR_N:-500}
S=${RS_CR_SESSIONS:-6}
PACE=${RS_CR_PACE:-0.05}
export RELAYSIGN RS_CR_N=$NI RS_CR_SESSIONS=$S RS_CR_PACE=$PACE

rs_test_needs "namespaces, a private Postfix" postfix postconf postqueue smtp-sink openssl unshare ip ss xargs

rs_sandbox "$0" "$@"
rs_init ops-consortium

T=$RS_TMP
KD=$T/keys
LOG=$T/relaysign.log
C=$T/conf                       # the configuration in force: $C/relaysign.conf
SINK=$T/sink
SEND=("$RS_PY" "$top_srcdir/tests/ops/consortium-send.py" --server "127.0.0.1:$RS_SMTP_PORT")

tap_plan 22

# --- keys, configurations, DNS -------------------------------------------------------
cons_keys "$KD" "$NI" ed || rs_die "key generation failed"
openssl genpkey -algorithm ed25519 -out "$KD/inst003.new.key" 2>/dev/null &&
	chmod 0600 "$KD/inst003.new.key" || rs_die "key generation failed"
for v in A B C; do
	cons_tables "$T/$v" "$KD" ed 1 "$NI" || rs_die "cannot write the tables"
done
# B: alma-inst007 keeps only the subdomains of inst007.edu; alma-inst008 gains inst007.edu.
sed -i -e 's/^auth:alma-inst007 .*/auth:alma-inst007 *.inst007.edu/' \
	-e 's/^auth:alma-inst008 .*/auth:alma-inst008 inst008.edu, inst007.edu/' "$T/B/bindings"
# C: B, and inst003.edu's key replaced.
cp "$T/B/bindings" "$T/C/bindings"
sed -i "s|^inst003-ed .*|inst003-ed inst003.edu:ed2027:$KD/inst003.new.key|" "$T/C/keytable"
mkdir -p "$C"
# install V: the three tables of V renamed into place; relaysign.conf names them.
install_tables() {
	local f
	for f in keytable signingtable bindings; do
		cp "$T/$1/$f" "$C/$f.new" && mv -f "$C/$f.new" "$C/$f" || return 1
	done
}
install_tables A
cons_conf "$C" ed "LogLevel            info"

check_all_n() {
	local v
	for v in A B C; do
		install_tables "$v" || return 1
		"$RELAYSIGN" -n -c "$C/relaysign.conf" >"$T/n.$v.out" 2>&1 ||
			{ echo "configuration $v:"; cat "$T/n.$v.out"; return 1; }
		grep -q "ok ($NI keys)" "$T/n.$v.out" || { cat "$T/n.$v.out"; return 1; }
	done
	install_tables A
}
tap_check "relaysign -n accepts the $NI-institution configurations A, B and C" check_all_n

start_dns --records "$KD/records" \
	--rr "ed2027._domainkey.inst003.edu TXT $(rs_dkim_txt_ed25519 "$KD/inst003.new.key")" \
	--rr "exlibrisgroup.com TXT v=spf1 ip4:203.0.113.0/24 -all" ||
	rs_die "cannot start the DNS server"

rx_must_start relaysign "$C/relaysign.conf" "relaysign with $NI institutions"
RS_PID=$(rs_pid_of relaysign)
start_sink "$SINK" || rs_die "cannot start smtp-sink"
start_postfix inet:127.0.0.1:8891 || rs_die "cannot start the private Postfix"

# --- the load --------------------------------------------------------------------------
# Sessions for institutions spread over the table (never inst007, whose
# binding the reloads change; inst003's key changes, so it is among them).
LOAD=()
for i in 3 8 100 250 499 500 42 333 150 420; do
	[ "${#LOAD[@]}" -lt "$S" ] && LOAD+=("$(cons_login "$i"):$(cons_dom "$i")")
done
"${SEND[@]}" load --stop "$T/stop" --pace "$PACE" "${LOAD[@]}" >"$T/load.tsv" 2>"$T/load.err" &
SEND_PID=$!

n_load() { grep -c . "$T/load.tsv"; }
# wait_load COUNT: until the senders have COUNT replies (bounded: 60 s).
wait_load() {
	local i
	for ((i = 0; i < 600; i++)); do
		[ "$(n_load)" -ge "$1" ] && return 0
		kill -0 "$SEND_PID" 2>/dev/null || return 1
		sleep 0.1
	done
	return 1
}

PROBES=$T/probes.tsv
: >"$PROBES"
# probe LOGIN DOMAIN TOKEN: one message in a session of its own; prints the sink file.
probe() {
	"${SEND[@]}" probe "$1" "$2" "$3" >>"$PROBES" 2>>"$T/probe.err" || return 1
	wait_delivered "$3" 30
}
# expect_signed FILE DOMAIN SELECTOR: one DKIM-Signature, d=DOMAIN s=SELECTOR, verified.
expect_signed() {
	local f=$1 sig
	[ -n "$f" ] || { echo "not delivered"; return 1; }
	[ "$(hdr_count "$f" DKIM-Signature)" = 1 ] ||
		{ echo "$(hdr_count "$f" DKIM-Signature) DKIM-Signature fields"; hdr_block "$f"; return 1; }
	sig=$(hdr_values "$f" DKIM-Signature)
	[ "$(dkim_tag d "$sig")" = "$2" ] && [ "$(dkim_tag s "$sig")" = "$3" ] ||
		{ echo "want d=$2 s=$3: $sig"; return 1; }
	verify_py "$f"
}
# expect_not_bound FILE: no signature, and our result says not-bound.
expect_not_bound() {
	local f=$1
	[ -n "$f" ] || { echo "not delivered"; return 1; }
	[ "$(hdr_count "$f" DKIM-Signature)" = 0 ] || { echo "signed:"; hdr_block "$f"; return 1; }
	ar_by "$f" relay.test | grep -q 'not-bound' || { echo "no reason not-bound:"; hdr_block "$f"; return 1; }
}

RELOADS=0
# reload_to V DESC AT: once AT load messages have replies, install V and
# SIGHUP; ok if relaysign logs "reloaded" within 15 s while the load runs.
reload_to() {
	local v=$1 desc=$2 at=$3 i t0
	if ! wait_load "$at"; then
		tap_not_ok "$desc"
		tap_diag "the load ended or stalled before $at messages ($(n_load) so far)"
		return 1
	fi
	install_tables "$v"
	t0=$(date +%s.%N)
	kill -HUP "$RS_PID"
	RELOADS=$((RELOADS + 1))
	for ((i = 0; i < 150; i++)); do
		[ "$(grep -c "reloaded $C/relaysign.conf: $NI keys" "$LOG")" -ge "$RELOADS" ] && break
		sleep 0.1
	done
	if [ "$(grep -c "reloaded $C/relaysign.conf: $NI keys" "$LOG")" -lt "$RELOADS" ]; then
		tap_not_ok "$desc"
		tap_diag "no 'reloaded' line #$RELOADS within 15 s; last line: $(tail -1 "$LOG")"
		return 1
	fi
	if ! kill -0 "$SEND_PID" 2>/dev/null; then
		tap_not_ok "$desc"
		tap_diag "the load had ended: not a reload under load"
		return 1
	fi
	tap_ok "$desc ($(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.2f", b - a }') s, $(n_load) load messages so far)"
}

reload_to B "SIGHUP under load: A -> B (inst007.edu moves from alma-inst007 to alma-inst008)" 60
tap_check "after B: alma-inst007 From inst007.edu is tagged not-bound, not signed" \
	expect_not_bound "$(probe alma-inst007 inst007.edu probe-B-007)"
tap_check "after B: alma-inst008 From inst007.edu is signed d=inst007.edu" \
	expect_signed "$(probe alma-inst008 inst007.edu probe-B-008)" inst007.edu ed2026
tap_check "after B: alma-inst003 still signs inst003.edu s=ed2026" \
	expect_signed "$(probe alma-inst003 inst003.edu probe-B-003)" inst003.edu ed2026

reload_to C "SIGHUP under load: B -> C (inst003.edu's key replaced, selector ed2027)" 160
tap_check "after C: alma-inst003 From inst003.edu is signed s=ed2027" \
	expect_signed "$(probe alma-inst003 inst003.edu probe-C-003)" inst003.edu ed2027
tap_check "after C: alma-inst007 From inst007.edu is still not-bound" \
	expect_not_bound "$(probe alma-inst007 inst007.edu probe-C-007)"

reload_to A "SIGHUP under load: C -> A (everything back)" 260
tap_check "after A: alma-inst007 From inst007.edu is signed d=inst007.edu again" \
	expect_signed "$(probe alma-inst007 inst007.edu probe-A-007)" inst007.edu ed2026
tap_check "after A: alma-inst003 From inst003.edu is signed s=ed2026 again" \
	expect_signed "$(probe alma-inst003 inst003.edu probe-A-003)" inst003.edu ed2026

# A little more load on the restored configuration, then stop the senders.
wait_load 320
touch "$T/stop"
wait "$SEND_PID"
SEND_RC=$?
NL=$(n_load)
all_250() {
	awk -F'\t' '$4 != "250" { n++; if (n <= 5) print $1 " (" $2 "): " $4 } END { exit n > 0 }' "$T/load.tsv" ||
		{ echo "of $NL load messages, $(awk -F'\t' '$4 != "250"' "$T/load.tsv" | wc -l) not accepted"
		  cut -f4 "$T/load.tsv" | sort | uniq -c; return 1; }
	[ "$SEND_RC" = 0 ] || { echo "consortium-send.py exited $SEND_RC"; cat "$T/load.err"; return 1; }
	[ "$NL" -gt 0 ] || { echo "no load message"; return 1; }
}
tap_check "every one of $NL load messages over $S sessions got 250 (none tempfailed, rejected or lost)" all_250

queue_empty() { wait_queue_empty 60; }
tap_check "the Postfix queue empties" queue_empty

# --- what was delivered ---------------------------------------------------------------
mapfile -t FILES < <(find "$SINK" -type f | sort)
NP=$(grep -c . "$PROBES")
delivered_once() {
	local want=$((NL + NP))
	[ "${#FILES[@]}" = "$want" ] ||
		{ echo "sink holds ${#FILES[@]} messages, accepted $NL load + $NP probes"; return 1; }
	# Every token exactly once (Subject: Courtesy notice TOKEN).
	cat "${FILES[@]}" | sed -n 's/^Subject: Courtesy notice \([^[:space:]]*\).*/\1/p' | sort >"$T/tokens.sink"
	cut -f1 "$T/load.tsv" "$PROBES" | sort >"$T/tokens.sent"
	diff "$T/tokens.sent" "$T/tokens.sink" >"$T/tokens.diff" ||
		{ echo "sent vs delivered (tokens):"; head -10 "$T/tokens.diff"; return 1; }
}
tap_check "the sink holds every accepted message exactly once ($NL load + $NP probes)" delivered_once

# One dkimpy process for the load messages: file, From domain, signatures, d=, s=, result.
# The load's messages (not the probes), one line each:
# FILE QID FROM-DOMAIN SIGNATURES D S RESULT REASON.
mapfile -t LOAD < <(grep -L '^Subject:.*probe-' "${FILES[@]}")
"$RS_PY" "$top_srcdir/tests/e2e/verify.py" --dns "$RS_DNS_ADDR:$RS_DNS_PORT" --table \
	"${LOAD[@]}" >"$T/messages.tsv" 2>"$T/check.err"
one_sig_d() {
	[ "$(grep -c . "$T/messages.tsv")" = "$NL" ] ||
		{ echo "checked $(grep -c . "$T/messages.tsv") load messages of $NL"; head -5 "$T/check.err"; return 1; }
	awk -F'\t' '$4 != 1 || $5 != $3 { n++; if (n <= 5) print $1 ": " $4 " signature(s), d=" $5 ", From " $3 }
		END { exit n > 0 }' "$T/messages.tsv"
}
tap_check "every load message has exactly one DKIM-Signature, d= its From domain" one_sig_d
all_verify() {
	awk -F'\t' '$7 != "pass" { n++; if (n <= 5) print $1 " (d=" $5 " s=" $6 "): " $8 } END { exit n > 0 }' \
		"$T/messages.tsv"
}
tap_check "dkimpy verifies every load message's signature against the test DNS" all_verify
tap_diag "load messages by domain and selector:" \
	"$(awk -F'\t' '{ print $5 "/" $6 }' "$T/messages.tsv" | sort | uniq -c | tr -s ' ' | paste -sd ';' -)"

no_defer() {
	! grep -E 'status=(deferred|bounced)|milter-reject|451 4\.|4\.7\.1' "$(postfix_log)" | head -5 | grep .
}
tap_check "Postfix's log has no deferral, bounce or milter tempfail" no_defer

three_reloads() {
	local n
	n=$(grep -c "reloaded $C/relaysign.conf: $NI keys" "$LOG")
	[ "$n" = 3 ] || { echo "$n 'reloaded' lines, want 3"; grep reload "$LOG"; return 1; }
	! grep 'reload failed' "$LOG"
}
tap_check "relaysign logged three \"reloaded\" lines and no \"reload failed\"" three_reloads

# --- relaysign survived, and stops cleanly ---------------------------------------------
rx_reload_end "$T/load.err"
tap_done
