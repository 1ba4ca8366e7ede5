# SPDX-License-Identifier: BSD-2-Clause
# shellcheck shell=bash
# tests/hostile/lib-extra.sh -- helpers shared by tests/hostile, tests/oracle
# and tests/faults, on top of tools/lib.sh (source that first).
#
#   rx_postfix_scenario NAME "TOOLS" "$@"   a test's prologue: needs, sandbox,
#                                rs_init NAME; sets T, LOG, D
#   rx_setup_keys_dns [ARGS...]  RSA + Ed25519 keys for $RX_DOMAIN in
#                                $RS_TMP/keys, published by start_dns (ARGS are
#                                extra dnsserver.py arguments; RX_SPF is
#                                $RX_DOMAIN's SPF record, default v=spf1 -all)
#   rx_write_conf FILE [LINES...] a relaysign.conf signing $RX_DOMAIN with both
#                                keys; LINES are appended (or replace nothing:
#                                callers add RelayNetworks etc. themselves)
#   rx_start_milter NAME CONF [PORT]  relaysign -f -c CONF under the sanitizer
#                                options, log $RS_TMP/NAME.log, wait for PORT
#   rx_stop_milter NAME [SECS]   SIGTERM, wait; RX_EXIT is its exit status;
#                                fails if it had to be SIGKILLed
#   rx_sanitizer_clean LOG       fails (printing the report) if LOG holds an
#                                ASan/UBSan/LSan/TSan report
#   rx_finish_milter LOG         TAP: relaysign stops on SIGTERM with status 0,
#                                LOG holds no sanitizer report
#   rx_nothing_lost N WORD       TAP: the queue empties with N messages in the
#                                sink, nothing bounced
#   rx_no_bounce [WORDS]         TAP: no status=bounced in Postfix's log
#   rx_send_raw ADDR FILE [smtpraw args...]  one message through Postfix with
#                                XCLIENT ADDR=ADDR (NAME [UNAVAILABLE] unless
#                                RX_XNAME is set; LOGIN=$RX_XLOGIN if set) to
#                                ${RX_TO:-patron@example.net}; sets RX_QID,
#                                RX_REPLY, RX_RC
#   rx_explain FILE ADDR LOGIN CONF  relaysign -x's decision for FILE sent as
#                                rx_send_raw sends it (HELO client.test, MAIL
#                                FROM alma@exlibrisgroup.com), in rx_result's
#                                words: signed, tagged:REASON, untouched
#   rx_decided TAG FILE ADDR LOGIN CONF WANT  what became of a message sent
#                                so: RX_FILE, RX_GOT, RX_WHY; 0 if relaysign -x
#                                agreed with the daemon
#   rx_bounced                   prints the number of status=bounced lines
#   rx_maillog_for QID           Postfix's log lines for QID
#   rx_sink_count                messages in the sink
#
# shellcheck disable=SC2034,SC2154  # RX_* are read by the sourcing script; top_srcdir comes from it
# Variables: RX_DOMAIN (default library.example.edu), RX_AUTHSERV (relay.test).

: "${RX_DOMAIN:=library.example.edu}"
: "${RX_AUTHSERV:=relay.test}"
: "${RELAYSIGN:=$top_builddir/relaysign}"
RX_SMTPRAW="$top_srcdir/tests/hostile/smtpraw.py"

# The sanitizer options of tools/test.sh, unless the caller set its own.
: "${ASAN_OPTIONS:=abort_on_error=1:detect_leaks=1:fast_unwind_on_malloc=0}"
: "${LSAN_OPTIONS:=suppressions=$top_srcdir/tests/lsan.supp:print_suppressions=0}"
: "${UBSAN_OPTIONS:=print_stacktrace=1:halt_on_error=1}"
export ASAN_OPTIONS LSAN_OPTIONS UBSAN_OPTIONS

# rx_postfix_scenario NAME "TOOLS" ARGS...: the prologue of a test that runs
# relaysign behind a private Postfix (call it with the script's "$@"): the
# skips and bail-outs of rs_test_needs, Postfix's tools and TOOLS (words)
# required; the script re-run in rs_sandbox; rs_init NAME.  Sets T (the
# temp dir), LOG (the log rx_start_milter relaysign writes) and D.
rx_postfix_scenario() {
	local name=$1 extra
	read -r -a extra <<<"$2"
	shift 2
	rs_test_needs "namespaces, a private Postfix" postfix postconf postqueue smtp-sink \
		openssl unshare ip ss "${extra[@]}"
	rs_sandbox "$0" "$@"
	rs_init "$name"
	T=$RS_TMP
	LOG=$T/relaysign.log
	D=$RX_DOMAIN
}

# rx_setup_keys_dns [ARGS...]: keys and the DNS server that publishes them.
rx_setup_keys_dns() {
	local k="$RS_TMP/keys"
	mkdir -p "$k" && chmod 0700 "$k"
	rs_keygen_rsa "$k/rsa2026.key" 2048 || return 1
	rs_keygen_ed25519 "$k/ed2026.key" || return 1
	start_dns --authority example.edu --authority exlibrisgroup.com \
		--authority evil.test --authority library-example.edu \
		--rr "rsa2026._domainkey.$RX_DOMAIN TXT $(rs_dkim_txt_rsa "$k/rsa2026.key")" \
		--rr "ed2026._domainkey.$RX_DOMAIN TXT $(rs_dkim_txt_ed25519 "$k/ed2026.key")" \
		--rr "$RX_DOMAIN TXT ${RX_SPF:-v=spf1 -all}" \
		--rr "exlibrisgroup.com TXT v=spf1 ip4:192.0.2.0/24 -all" "$@"
}

# rx_write_conf FILE [LINES...]: the common configuration plus LINES.
rx_write_conf() {
	local f=$1 l
	shift
	{
		echo "# written by tests/hostile/lib-extra.sh"
		echo "AuthservID          $RX_AUTHSERV"
		echo "Domain              $RX_DOMAIN"
		echo "Selector            rsa2026 ed2026"
		echo "KeyFile             $RS_TMP/keys/rsa2026.key $RS_TMP/keys/ed2026.key"
		echo "SignatureAlgorithm  rsa-sha256 ed25519-sha256"
		echo "Background          no"
		echo "Syslog              no"
		for l in "$@"; do
			echo "$l"
		done
	} >"$f"
}

# rx_start_milter NAME CONF [PORT]: relaysign in the foreground.
rx_start_milter() {
	local name=$1 conf=$2 port=${3:-8891} wrap=()
	if [ -n "${RX_WRAP:-}" ]; then
		read -r -a wrap <<<"$RX_WRAP"
	fi
	start_bg "$name" "$port" "${wrap[@]}" "$RELAYSIGN" -f -c "$conf"
}

# rx_stop_milter NAME [SECS]: SIGTERM and wait; RX_EXIT = exit status.
rx_stop_milter() {
	local name=$1 secs=${2:-20} pid i
	RX_EXIT=""
	pid=$(rs_pid_of "$name") || { RX_EXIT=none; return 1; }
	if ! kill -0 "$pid" 2>/dev/null; then
		wait "$pid" 2>/dev/null
		RX_EXIT=$?
		return 0
	fi
	kill -TERM "$pid"
	for ((i = 0; i < secs * 10; i++)); do
		if ! kill -0 "$pid" 2>/dev/null; then
			wait "$pid" 2>/dev/null
			RX_EXIT=$?
			return 0
		fi
		sleep 0.1
	done
	kill -KILL "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	RX_EXIT="killed (ignored SIGTERM for ${secs}s)"
	return 1
}

# rx_sanitizer_clean LOG: no sanitizer report in LOG.
rx_sanitizer_clean() {
	if grep -qE 'ERROR: (Address|Leak|Thread|Memory)Sanitizer|runtime error:|WARNING: ThreadSanitizer|SUMMARY: [A-Za-z]*Sanitizer' "$1" 2>/dev/null; then
		grep -E -A30 'ERROR: |runtime error:|WARNING: ThreadSanitizer' "$1" | head -60
		return 1
	fi
	return 0
}

# rx_finish_milter LOG [STOPPED [CLEAN]]: the last two TAP lines of a run:
# relaysign stops on SIGTERM with exit status 0, and LOG holds no sanitizer
# report.  STOPPED and CLEAN name the two checks in the TAP lines.
rx_finish_milter() {
	local log=$1 out
	local stopped=${2:-relaysign stopped on SIGTERM, exit status 0}
	local clean=${3:-no ASan/UBSan/LSan report in relaysign\'s log}
	if rx_stop_milter relaysign 20 && [ "$RX_EXIT" = 0 ]; then
		tap_ok "$stopped"
	else
		tap_not_ok "$stopped (got: $RX_EXIT)"
		diag_log "$log" 20
	fi
	if out=$(rx_sanitizer_clean "$log"); then
		tap_ok "$clean"
	else
		tap_not_ok "$clean"
		tap_diag "$out"
	fi
}

# rx_reload_end LOG...: the end of a reload-under-load test: TAP lines that
# relaysign survived the three SIGHUPs and stops cleanly (Postfix stopped
# first); relaysign's reload lines as diagnostics, and, after any failure,
# the tails of its log, Postfix's and each LOG.
rx_reload_end() {
	local f
	if bg_check relaysign; then
		tap_ok "relaysign still running after three SIGHUPs under load"
	else
		tap_not_ok "relaysign still running after three SIGHUPs under load"
		tap_diag "relaysign $RS_BG_WHY"
	fi
	stop_postfix
	rx_finish_milter "$LOG" "SIGTERM: relaysign exits 0" "no sanitizer report in relaysign's log"
	tap_diag "relaysign's reload lines:" "$(grep -E 'reload|starting|stopp' "$LOG")"
	if [ "$RS_TAP_FAILED" != 0 ]; then
		diag_log "$LOG" 20
		diag_log "$(postfix_log)" 10
		for f in "$@"; do
			diag_log "$f" 5
		done
	fi
}

# rx_nothing_lost N WORD: two TAP lines: the queue empties with N messages
# in the sink (N WORD: "accepted", "sent"), and nothing bounced.
rx_nothing_lost() {
	local n=$1 word=$2
	if wait_queue_empty 30 2>/dev/null && [ "$(rx_sink_count)" = "$n" ]; then
		tap_ok "nothing lost: $n $word, $n in the sink, queue empty"
	else
		tap_not_ok "nothing lost: $n $word, $(rx_sink_count) in the sink"
	fi
	rx_no_bounce
}

# rx_no_bounce [WORDS]: TAP: no status=bounced in Postfix's log (WORDS are
# added to the ok line); else the first bounces as diagnostics.
rx_no_bounce() {
	local b
	b=$(rx_bounced)
	if [ "$b" = 0 ]; then
		tap_ok "nothing bounced${1:+; $1}"
	else
		tap_not_ok "nothing bounced: $b status=bounced lines"
		grep 'status=bounced' "$(postfix_log)" | head -5 | sed 's/^/# /'
	fi
}

# rx_decided TAG FILE ADDR LOGIN CONF WANT: after rx_send_raw FILE: the
# delivered copy of the message with X-Oracle-Case: TAG (RX_FILE, "" if
# none), what relaysign did to it (RX_GOT: rx_result's words, or "not
# delivered"), and RX_WHY: a line for a result other than WANT, one for
# relaysign -x (the same pipeline, offline) deciding otherwise than the
# daemon.  Returns 0 when relaysign -x agreed.
rx_decided() {
	local tag=$1 msg=$2 addr=$3 login=$4 conf=$5 want=$6 ex
	RX_WHY=()
	RX_FILE=$(wait_delivered "X-Oracle-Case: $tag" 30) || RX_FILE=""
	if [ -z "$RX_FILE" ]; then RX_GOT="not delivered"; else RX_GOT=$(rx_result "$RX_FILE"); fi
	[ "$RX_GOT" = "$want" ] || RX_WHY+=("got $RX_GOT")
	ex=$(rx_explain "$msg" "$addr" "$login" "$conf")
	[ "$ex" = "$RX_GOT" ] && return 0
	RX_WHY+=("relaysign -x says $ex, the daemon did $RX_GOT: $(head -c 300 "$RS_TMP/explain.err")")
	return 1
}

# rx_send_raw ADDR FILE [smtpraw args...]: RX_QID, RX_REPLY, RX_RC.
RX_SEND_N=0
rx_send_raw() {
	local addr=$1 file=$2 x
	shift 2
	RX_SEND_N=$((RX_SEND_N + 1))
	x="ADDR=$addr NAME=${RX_XNAME:-[UNAVAILABLE]}"
	[ -n "${RX_XLOGIN:-}" ] && x="$x LOGIN=$RX_XLOGIN"
	RX_REPLY=$(timeout 300 "$RS_PY" "$RX_SMTPRAW" --server "127.0.0.1:$RS_SMTP_PORT" \
		--xclient "$x" --to "${RX_TO:-patron@example.net}" "$@" "$file" 2>&1)
	RX_RC=$?
	RX_QID=$(sed -n 's/.*queued as \([0-9A-Za-z]*\).*/\1/p' <<<"$RX_REPLY" | tail -1)
	[ "$RX_RC" = 0 ] && [ -n "$RX_QID" ]
}

# rx_explain FILE ADDR LOGIN CONF: what relaysign -x decides ("-" LOGIN: none).
rx_explain() {
	local args=(-c "$4" -x "$1" -a "$2" -H client.test -m alma@exlibrisgroup.com -j) out
	[ "$3" != - ] && [ -n "$3" ] && args+=(-u "$3")
	out=$("$RELAYSIGN" "${args[@]}" 2>"$RS_TMP/explain.err") || true
	"$RS_PY" -c 'import json, sys
try:
    o = json.loads(sys.stdin.read())
except ValueError:
    print("no-json"); sys.exit(0)
a, r = o["action"], o["reason"]
print("untouched" if a == "accept" else "signed" if a == "signed" else "%s:%s" % (a, r))' <<<"$out"
}

# rx_bounced: how many deliveries Postfix logged as bounced.
rx_bounced() {
	grep -c 'status=bounced' "$(postfix_log)" 2>/dev/null || true
}

# rx_maillog_for QID: Postfix's lines about QID.
rx_maillog_for() {
	grep -F " $1: " "$(postfix_log)" 2>/dev/null
}

# rx_sink_count: messages stored by smtp-sink.
rx_sink_count() {
	find "$RS_SINK_DIR" -type f 2>/dev/null | wc -l
}

# rx_start_sink8 [PORT]: sink8.py (offers SMTPUTF8) storing under
# $RS_SINK_DIR/utf8 (so wait_delivered and rx_sink_count see its messages);
# Postfix must route to it, e.g. transport_maps for a test domain.
rx_start_sink8() {
	local port=${1:-2527}
	mkdir -p "$RS_SINK_DIR/utf8" || return 1
	start_bg sink8 "$port" "$RS_PY" "$top_srcdir/tests/hostile/sink8.py" \
		--listen "127.0.0.1:$port" --dir "$RS_SINK_DIR/utf8"
}

# rx_tap_todo DESC REASON: a failing check that is a known, reported bug: TAP
# "not ok ... # TODO REASON" (Automake counts it as XFAIL, not a failure).
# Callers emit it only when the check fails; a fixed bug then shows as a
# plain "ok" and the TODO can be dropped.
rx_tap_todo() {
	RS_TAP_N=$((RS_TAP_N + 1))
	echo "not ok $RS_TAP_N - $1 # TODO $2"
}

# rx_our_ar FILE: our Authentication-Results values in FILE (by $RX_AUTHSERV).
rx_our_ar() { ar_by "$1" "$RX_AUTHSERV"; }

# rx_result FILE: "signed" (DKIM-Signature by $RX_DOMAIN and our A-R says
# signed), "tagged:REASON", "untouched" (no signature, no A-R of ours), or
# "odd:..." for anything else; for scripts that compare outcomes.
rx_result() {
	local f=$1 nsig ar reason
	nsig=$(hdr_count "$f" DKIM-Signature)
	ar=$(rx_our_ar "$f")
	# RX_AR_IGNORE: a pattern for fields the test itself forged.
	[ -n "${RX_AR_IGNORE:-}" ] && ar=$(grep -v -- "$RX_AR_IGNORE" <<<"$ar")
	if [ "$nsig" -gt 0 ] && grep -q 'x-relaysign=signed' <<<"$ar"; then
		echo signed
	elif [ "$nsig" = 0 ] && [ -z "$ar" ]; then
		echo untouched
	elif [ "$nsig" = 0 ] && grep -q 'x-relaysign=tagged' <<<"$ar"; then
		reason=$(sed -n 's/.*reason="\{0,1\}\([a-z-]*\).*/\1/p' <<<"$ar" | head -1)
		echo "tagged:${reason:-?}"
	else
		echo "odd:sigs=$nsig,ar=$(tr -d '\n' <<<"$ar" | cut -c1-120)"
	fi
}

# rx_must_start NAME CONF [LABEL]: rx_start_milter as a TAP check ("LABEL
# started"); when it does not start, its log, the plan padded, and exit 1.
rx_must_start() {
	if rx_start_milter "$1" "$2"; then
		tap_ok "${3:-relaysign} started"
		return 0
	fi
	tap_not_ok "${3:-relaysign} started"
	diag_log "$LOG" 30
	tap_done
	exit 1
}

# rx_logline QID [TENTHS]: relaysign's last line in $LOG about QID, waiting
# up to TENTHS tenths of a second (default 30) for it to be written.
rx_logline() {
	local i
	[ -n "$1" ] || return 1
	for ((i = 0; i < ${2:-30}; i++)); do
		grep -F "$1:" "$LOG" 2>/dev/null | tail -1 | grep . && return 0
		sleep 0.1
	done
	return 1
}

# rx_verify_pair FILE [DOMAIN]: dkimpy passes the RSA (s=rsa2026) and the
# Ed25519 (s=ed2026) signature, of d=DOMAIN when given, and FILE has
# exactly those two DKIM-Signature fields; else dkimpy's words.
rx_verify_pair() {
	local out d=${2:+d=$2 }
	out=$(verify_py "$1" 2>&1)
	grep -q "${d}s=rsa2026 a=rsa-sha256 result=pass" <<<"$out" &&
		grep -q "${d}s=ed2026 a=ed25519-sha256 result=pass" <<<"$out" &&
		[ "$(hdr_count "$1" DKIM-Signature)" = 2 ] && return 0
	echo "$out"
	return 1
}
