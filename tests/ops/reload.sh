#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# tests/ops/reload.sh -- SIGHUP under load, through a real Postfix (TAP).
#
# smtp-source sends $RS_RELOAD_MESSAGES (600) messages over $RS_RELOAD_SESSIONS
# (10) parallel sessions from 127.0.0.1 (in RelayNetworks) through a private
# Postfix to relaysign and on to smtp-sink, From: library@library.example.edu.
# Meanwhile the test installs new configurations (written aside, renamed
# into place) and sends SIGHUP, at fixed fractions of the load:
#
#   K1 (s1, RSA)  --HUP-->  K2 (s2, RSA)  --HUP-->  BROKEN  --HUP-->  K3 (s3, Ed25519)
#
# BROKEN selects K4 (s4, also published in DNS, so a half-applied broken
# configuration would show up as valid s4 signatures) and has an error on a
# known line: relaysign must log exactly one "reload failed" naming the file
# and that line, and keep K2.
#
# A message's "time" is the moment relaysign took the configuration for it:
# its MAIL FROM (cb_envfrom -> confswap_acquire).  That moment is not observable
# from outside, so the test uses relaysign's own log, one ordered stream:
#   - the "reloaded" line is written before the new configuration is
#     installed (milter/relaysign.c reload -> confswap_replace), and a
#     message's decision line is written at its end of message, after its
#     MAIL FROM;
#   - so a message signed with the NEW key must be logged after the
#     "reloaded" line (no exception), and a message signed with the OLD key
#     but logged after it was in flight (MAIL FROM before, end of message
#     after) when the reload happened: at most one per SMTP session, i.e. at
#     most $RS_RELOAD_SESSIONS per boundary.
# The sink's order is not used for this: Postfix's queue manager reorders
# deliveries, and smtp-sink names its files to the second only.
#
# Then: smtp-source saw no error, the queue empties, the sink holds every
# message, each with exactly one DKIM-Signature, whose selector is the one
# relaysign logged for that queue id and which dkimpy verifies against the
# test DNS; the selectors seen are exactly {s1, s2, s3}; every message
# logged between the broken reload and the K3 reload was signed with s2;
# relaysign survives, exits 0 on SIGTERM within 10 s, with no sanitizer
# report.
#
# Environment: top_srcdir, top_builddir (as Automake sets them), RELAYSIGN
# (default $top_builddir/relaysign), RS_RELOAD_MESSAGES, RS_RELOAD_SESSIONS,
# RS_KEEP=1 keeps the temporary directory.  Skipped (tap_skip_all) only when
# not root or relaysign is not built.  Takes about 20-60 s.
set -u

# shellcheck source=tools/lib.sh
. "${top_srcdir:-$(dirname "$0")/../..}/tools/lib.sh" --with-extra

RELAYSIGN=${RELAYSIGN:-$top_builddir/relaysign}
N=${RS_RELOAD_MESSAGES:-600}
S=${RS_RELOAD_SESSIONS:-10}
export RELAYSIGN RS_RELOAD_MESSAGES=$N RS_RELOAD_SESSIONS=$S

rs_test_needs "namespaces, a private Postfix" postfix postconf postqueue smtp-source smtp-sink openssl unshare ip ss

rs_sandbox "$0" "$@"
rs_init ops-reload

DOMAIN=library.example.edu
T=$RS_TMP
K=$T/keys
LOG=$T/relaysign.log
CONF=$T/relaysign.conf
SINK=$T/sink

tap_plan 22

# --- keys, DNS ---------------------------------------------------------------
mkdir -m 0700 "$K" || rs_die "mkdir $K"
if ! { rs_keygen_rsa "$K/k1.key" && rs_keygen_rsa "$K/k2.key" &&
	rs_keygen_ed25519 "$K/k3.key" && rs_keygen_rsa "$K/k4.key"; }; then
	rs_die "key generation failed"
fi
start_dns --authority example.edu \
	--rr "s1._domainkey.$DOMAIN TXT $(rs_dkim_txt_rsa "$K/k1.key")" \
	--rr "s2._domainkey.$DOMAIN TXT $(rs_dkim_txt_rsa "$K/k2.key")" \
	--rr "s3._domainkey.$DOMAIN TXT $(rs_dkim_txt_ed25519 "$K/k3.key")" \
	--rr "s4._domainkey.$DOMAIN TXT $(rs_dkim_txt_rsa "$K/k4.key")" \
	--rr "$DOMAIN TXT v=spf1 ip4:127.0.0.1 -all" ||
	rs_die "cannot start the DNS server"

# --- configurations ------------------------------------------------------------
# mkconf NAME SELECTOR KEY ALG [LINE...]: $T/conf.NAME
mkconf() {
	local name=$1 sel=$2 key=$3 alg=$4
	shift 4
	{
		echo "# tests/ops/reload.sh: configuration $name"
		echo "Socket              inet:8891@127.0.0.1"
		echo "AuthservID          relay.test"
		echo "RelayNetworks       127.0.0.1/32"
		echo "Domain              $DOMAIN"
		echo "Selector            $sel"
		echo "KeyFile             $key"
		echo "SignatureAlgorithm  $alg"
		echo "Background          no"
		echo "Syslog              no"
		[ $# -gt 0 ] && printf '%s\n' "$@"
	} >"$T/conf.$name"
}
mkconf k1 s1 "$K/k1.key" rsa-sha256
mkconf k2 s2 "$K/k2.key" rsa-sha256
mkconf k3 s3 "$K/k3.key" ed25519-sha256
# The broken one: K4, then a misspelt option on line 12.
mkconf broken s4 "$K/k4.key" rsa-sha256 "LogLevel            info" "Selctor             s4"
BROKEN_LINE=12
[ "$(sed -n "${BROKEN_LINE}p" "$T/conf.broken")" = "Selctor             s4" ] ||
	rs_die "conf.broken: line $BROKEN_LINE is not the broken one"

# install_conf NAME: the new file is written aside and renamed into place,
# as an editor or a configuration manager does: a reload never sees half a file.
install_conf() {
	cp "$T/conf.$1" "$CONF.new" && mv -f "$CONF.new" "$CONF"
}

# check_n NAME: relaysign -n on conf.NAME; output in $T/n.NAME.out
check_n() { "$RELAYSIGN" -n -c "$T/conf.$1" >"$T/n.$1.out" 2>&1; }
n_ok() {
	local c
	for c in k1 k2 k3; do
		check_n "$c" || { echo "conf.$c:"; cat "$T/n.$c.out"; return 1; }
	done
}
n_broken() {
	if check_n broken; then
		echo "relaysign -n accepted conf.broken"
		return 1
	fi
	grep -qF "$T/conf.broken:$BROKEN_LINE:" "$T/n.broken.out" ||
		{ echo "want '$T/conf.broken:$BROKEN_LINE:' in:"; cat "$T/n.broken.out"; return 1; }
}
tap_check "relaysign -n accepts the K1, K2 and K3 configurations" n_ok
tap_check "relaysign -n rejects the broken configuration, naming file:line" n_broken

install_conf k1
rx_must_start relaysign "$CONF" "relaysign with K1 (s1)"
RS_PID=$(rs_pid_of relaysign)
start_sink "$SINK" || rs_die "cannot start smtp-sink"
start_postfix inet:127.0.0.1:8891 || rs_die "cannot start the private Postfix"

# --- the load, and the reloads while it runs ---------------------------------------
n_signed() { grep -c ' action=signed' "$LOG"; }
n_lines() { grep -cF -- "$1" "$LOG"; }

n_sink() { find "$SINK" -type f | wc -l; }

# wait_progress COUNT: until COUNT messages are in the sink (or smtp-source
# ended; bounded at 90 s).  Progress is counted in the sink, not in
# relaysign's log, so that the reloads still happen if the log goes quiet.
wait_progress() {
	local want=$1 i
	for ((i = 0; i < 900; i++)); do
		[ "$(n_sink)" -ge "$want" ] && return 0
		kill -0 "$SRC_PID" 2>/dev/null || return 1
		sleep 0.1
	done
	return 1
}

# reload_step DESC CONF PATTERN COUNT AT: once AT messages are delivered,
# install CONF and SIGHUP; ok if relaysign logged PATTERN for the COUNTth
# time within 10 s while the load was still running.
reload_step() {
	local desc=$1 conf=$2 pat=$3 want=$4 at=$5 i done=""
	if ! wait_progress "$at"; then
		tap_not_ok "$desc"
		tap_diag "the load ended (or stalled) before $at messages were delivered ($(n_sink) delivered)"
		return 1
	fi
	install_conf "$conf"
	kill -HUP "$RS_PID"
	tap_diag "$(date -u +%H:%M:%S.%N | cut -c1-12): SIGHUP for conf.$conf, $(n_sink) messages delivered"
	for ((i = 0; i < 100; i++)); do
		if [ "$(n_lines "$pat")" -ge "$want" ]; then
			done=1
			break
		fi
		sleep 0.1
	done
	if [ -z "$done" ]; then
		tap_not_ok "$desc"
		tap_diag "no '$pat' line (#$want) in relaysign's log within 10 s of SIGHUP;" \
			"relaysign $(bg_check relaysign && echo "is still running" || echo "$RS_BG_WHY");" \
			"its last line: $(tail -1 "$LOG")"
		sleep 1         # let the reload happen anyway, for the later checks
		return 1
	fi
	if ! kill -0 "$SRC_PID" 2>/dev/null || [ "$(n_sink)" -ge "$N" ]; then
		tap_not_ok "$desc"
		tap_diag "the load had ended by then: not a reload under load"
		return 1
	fi
	tap_ok "$desc (after $(n_signed) signed)"
}

# smtp-source's message: From: <library@$DOMAIN>, a numbered recipient
# (-N) per message, 2 KB of body.
START=$(date +%s)
timeout 120 smtp-source -s "$S" -m "$N" -l 2048 -N -M client.test \
	-f "library@$DOMAIN" -t patron@example.net -S "relaysign reload test" \
	"127.0.0.1:$RS_SMTP_PORT" >"$T/smtp-source.log" 2>&1 &
SRC_PID=$!

reload_step "SIGHUP under load: K1 -> K2 reloaded" k2 "reloaded $CONF" 1 $((N / 6))
reload_step "SIGHUP under load: broken configuration -> \"reload failed\"" broken \
	"reload failed" 1 $((N / 3))
reload_step "SIGHUP under load: broken -> K3 reloaded" k3 "reloaded $CONF" 2 $((N / 2))

wait "$SRC_PID"
SRC_RC=$?
ELAPSED=$(($(date +%s) - START))
if [ "$SRC_RC" = 0 ]; then
	tap_ok "smtp-source sent $N messages over $S sessions without an error reply (${ELAPSED}s)"
else
	tap_not_ok "smtp-source sent $N messages over $S sessions without an error reply"
	tap_diag "smtp-source exit status $SRC_RC:"
	tail -10 "$T/smtp-source.log" | sed 's/^/# /'
fi

queue_empty() { wait_queue_empty 60; }
tap_check "the Postfix queue empties" queue_empty

# --- what was delivered -----------------------------------------------------------------
mapfile -t FILES < <(find "$SINK" -type f | sort)
delivered_all() {
	[ "${#FILES[@]}" = "$N" ] || { echo "sink holds ${#FILES[@]} messages, sent $N"; return 1; }
}
tap_check "every message delivered: the sink holds $N" delivered_all

# One dkimpy process for all messages: per file, tab-separated:
#   file  queue-id  number-of-DKIM-Signatures  selector(s)  pass|fail  reason
# One line a message: FILE QID FROM-DOMAIN SIGNATURES D S RESULT REASON.
"$RS_PY" "$top_srcdir/tests/e2e/verify.py" --dns "$RS_DNS_ADDR:$RS_DNS_PORT" --table \
	"${FILES[@]}" >"$T/messages.tsv" 2>"$T/check.err"

one_sig() {
	awk -F'\t' '$4 != 1 { n++; if (n <= 5) print $1 ": " $4 " DKIM-Signature fields" }
		END { exit n > 0 }' "$T/messages.tsv" || return 1
	[ "$(wc -l <"$T/messages.tsv")" = "$N" ] ||
		{ echo "checked $(wc -l <"$T/messages.tsv") messages of $N"; cat "$T/check.err"; return 1; }
}
tap_check "every delivered message has exactly one DKIM-Signature" one_sig
all_verify() {
	awk -F'\t' '$7 != "pass" { n++; if (n <= 5) print $1 " (s=" $6 "): " $8 }
		END { exit n > 0 }' "$T/messages.tsv"
}
tap_check "dkimpy verifies every signature ($N messages) against the test DNS" all_verify

# Relaysign's log as events in order: "R" (reloaded), "F" (reload failed),
# "M QID SELECTOR" (a signed message), "U QID" (a decision other than signed).
awk '/ reloaded / { print "R"; next }
     / reload failed/ { print "F"; next }
     / relay=[^ ]* client=/ {
	qid = $3; sub(/:$/, "", qid)
	if ($0 ~ / action=signed /) {
		s = $0; sub(/.* s=/, "", s); sub(/ .*/, "", s); print "M", qid, s
	} else print "U", qid
     }' "$LOG" >"$T/events"

selectors_seen() {
	local seen
	seen=$(cut -f6 "$T/messages.tsv" | sort | uniq -c | awk '{ printf "%s=%s ", $2, $1 }')
	echo "delivered per selector: $seen"
	[ "$(cut -f6 "$T/messages.tsv" | sort -u | tr '\n' ' ')" = "s1 s2 s3 " ] ||
		{ echo "want exactly {s1, s2, s3}"; return 1; }
}
tap_check "the selectors seen are exactly s1, s2, s3 (none of the broken config's s4)" selectors_seen
for s in s1 s2 s3; do
	tap_diag "$s: $(awk -F'\t' -v s=$s '$6 == s' "$T/messages.tsv" | wc -l) messages delivered"
done

# log_matches: every delivered message has one relaysign line, action=signed,
# naming the selector its signature carries; no unsigned decisions.
log_matches() {
	awk 'NR == FNR { if ($1 == "M") { n[$2]++; s[$2] = $3 } if ($1 == "U") u++; next }
	     { if (n[$2] != 1) { bad++; if (bad <= 5) print $2 ": " n[$2] + 0 " signed log lines" }
	       else if (s[$2] != $6) { bad++; if (bad <= 5) print $2 ": logged s=" s[$2] ", signed s=" $6 } }
	     END { if (u) print u " unsigned decisions logged"; exit (bad + u) > 0 }' \
		"$T/events" FS='\t' "$T/messages.tsv"
}
tap_check "relaysign logged each delivered message once, signed, with the selector it carries" log_matches

# order_check: walk the events.  epoch = number of successful reloads so far
# (s1 = 0, s2 = 1, s3 = 2).  A message may be signed with the epoch's key,
# or with the previous one if it was in flight at the reload (at most $S per
# boundary); never with a later key, never two epochs behind.
order_check() {
	awk -v S="$S" '
	$1 == "R" { epoch++; late[epoch] = 0; next }
	$1 == "F" { failed_at = epoch; failed = 1; next }
	$1 == "M" {
		e = substr($3, 2) - 1
		if ($3 !~ /^s[123]$/) { bad++; print $2 ": selector " $3 " was never in force"; next }
		if (e > epoch) { bad++; print $2 ": signed with " $3 " before its reload was logged" }
		else if (e < epoch - 1) { bad++; print $2 ": signed with " $3 ", two reloads late" }
		else if (e == epoch - 1) late[epoch]++
		if (failed && epoch == failed_at) { after_fail++; if (e != 1) { bad++; print $2 ": signed with " $3 " after the failed reload (want s2)" } }
	}
	END {
		if (epoch != 2) { bad++; print epoch " successful reloads logged, want 2" }
		for (b = 1; b <= 2; b++) {
			printf "boundary s%d->s%d: %d message(s) in flight finished with s%d\n", b, b + 1, late[b], b
			if (late[b] > S) { bad++; print "  more than " S " (one per session)" }
		}
		printf "%d message(s) signed between the failed reload and the K3 reload\n", after_fail
		exit bad > 0
	}' "$T/events"
}
if out=$(order_check 2>&1); then
	tap_ok "every message signed with the key in force at its MAIL FROM (overlap <= $S per boundary)"
	tap_diag "$out"
else
	tap_not_ok "every message signed with the key in force at its MAIL FROM (overlap <= $S per boundary)"
	tap_diag "$out"
fi

after_failed() {
	local n
	n=$(awk '$1 == "F" { f = 1; next } $1 == "R" && f { exit } f && $1 == "M" && $3 == "s2" { n++ }
		END { print n + 0 }' "$T/events")
	[ "$n" -gt 0 ] || { echo "no message signed between the failed reload and the next"; return 1; }
}
tap_check "K2 stayed in force after the failed reload (messages signed s2 in between)" after_failed

one_failed() {
	local lines
	lines=$(grep "reload failed" "$LOG")
	[ "$(grep -c . <<<"$lines")" = 1 ] || { echo "want one 'reload failed' line:"; echo "$lines"; return 1; }
	grep -qF "$CONF:$BROKEN_LINE:" <<<"$lines" ||
		{ echo "want '$CONF:$BROKEN_LINE:' in: $lines"; return 1; }
	echo "$lines"
}
if out=$(one_failed 2>&1); then
	tap_ok "exactly one \"reload failed\" line, naming $CONF:$BROKEN_LINE"
	tap_diag "$out"
else
	tap_not_ok "exactly one \"reload failed\" line, naming $CONF:$BROKEN_LINE"
	tap_diag "$out"
fi
two_reloaded() {
	[ "$(n_lines "reloaded $CONF")" = 2 ] || { grep reload "$LOG"; return 1; }
}
tap_check "exactly two \"reloaded\" lines (K2, K3)" two_reloaded

sent_in_log() {
	local n
	n=$(grep -c 'relay=127\.0\.0\.1\[127\.0\.0\.1\]:2526,.* status=sent' "$(postfix_log)")
	[ "$n" = "$N" ] || { echo "$n status=sent lines in Postfix's log, want $N"; return 1; }
}
tap_check "Postfix logged $N deliveries to the sink, no deferrals" sent_in_log
no_defer() {
	! grep -E 'status=(deferred|bounced)|milter-reject|451 4\.' "$(postfix_log)" | head -5 | grep .
}
tap_check "Postfix's log has no deferral, bounce or milter tempfail" no_defer

# --- relaysign survived, and stops cleanly ---------------------------------------------
rx_reload_end
tap_done
