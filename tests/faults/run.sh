#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# tests/faults/run.sh -- faults with nothing lost (TAP).
#
# smtp-source sends N messages with 20 sessions into a private Postfix.  The
# milter sits where a campus relay has it, on the smtpd that receives the
# vendor's mail, with milter_default_action = tempfail; the vendor's MTA is
# played by the same Postfix instance one hop earlier, so that a tempfail is
# retried from a real queue as the vendor's MTA would:
#
#   smtp-source -> :25 smtpd (no milter, content_filter=smtp:[127.0.0.1]:10026)
#               -> queue -> smtp -> :10026 smtpd (smtpd_milters = relaysign)
#               -> queue -> smtp -> smtp-sink :2526
#
# While the mail flows, relaysign (ASan/UBSan build, running as nobody so that
# file permissions bind it) suffers:
#   - SIGKILL and a restart (short mode once, long mode three times);
#   - the DNS server stopped and later restarted: RequireSPF is on and the
#     envelope's SPF record authorises 127.0.0.0/8, so every message in the
#     gap gets spf=temperror, i.e. 451, and is retried;
#   - a key file made unreadable, SIGHUP (the reload must fail and keep the
#     old keys), the file fixed, SIGHUP (the reload must succeed); long mode
#     also SIGKILLs relaysign while the key is unreadable, checks that the
#     restart is refused naming the file, fixes it and restarts.
# Then the queue is flushed (postqueue -f, bounded) and the sink must hold
# exactly N messages, N distinct first-hop queue ids (no loss, no duplicate;
# smtp-source's Message-Ids repeat, so they cannot count), each with exactly one
# DKIM-Signature per key (s=rsa2026, s=ed2026) that dkimpy verifies, and
# Postfix must have logged no status=bounced.
#
# Modes: short (default; CI): N=500 (~25 s of sending), one SIGKILL, a 5 s
# DNS outage, one unreadable key + SIGHUP.  Long: RELAYSIGN_LONG_TESTS=1:
# N=5000 (~250 s), three SIGKILLs (and one more with the key unreadable), a
# 15 s DNS outage, the key unreadable then fixed.  FAULTS_N, FAULTS_SESSIONS
# override the counts.
#
# Environment: top_srcdir, top_builddir, RELAYSIGN, RS_KEEP=1.
set -u

# shellcheck source=tools/lib.sh
. "${top_srcdir:-$(dirname "$0")/../..}/tools/lib.sh" --with-extra
RELAYSIGN=${RELAYSIGN:-$top_builddir/relaysign}

rs_test_needs "namespaces, a private Postfix" postfix postconf postqueue smtp-source smtp-sink openssl unshare ip ss setpriv

rs_sandbox "$0" "$@"
rs_init faults

T=$RS_TMP
LOG=$T/relaysign.log
LONG=${RELAYSIGN_LONG_TESTS:-0}
SESS=${FAULTS_SESSIONS:-20}
if [ "$LONG" = 1 ]; then
	N=${FAULTS_N:-5000}
	KILLS=3
	DNS_GAP=15
else
	N=${FAULTS_N:-500}
	KILLS=1
	DNS_GAP=5
fi
# Sending takes about N/SESS seconds (smtp-source -w 1); faults fall inside it.
SEND_SECS=$((N / SESS))

# TAP plan: setup 3, kills, SIGTERM 1, DNS 1, key 2 (+2 long), end 7.
plan=$((3 + KILLS + 1 + 1 + 2 + 7))
[ "$LONG" = 1 ] && plan=$((plan + 2))
tap_plan "$plan"
tap_diag "mode: $([ "$LONG" = 1 ] && echo long || echo short): $N messages, $SESS sessions, $KILLS SIGKILL(s), ${DNS_GAP}s DNS outage"

# --- DNS, keys owned by the unprivileged user, configuration -----------------
RX_SPF="v=spf1 ip4:127.0.0.0/8 -all"
DNS_ARGS=()
rx_setup_keys_dns || rs_die "cannot start the DNS server"
# rx_setup_keys_dns's arguments, to start the same server again later.
dns_restart() {
	start_dns --authority example.edu --authority exlibrisgroup.com \
		--authority evil.test --authority library-example.edu \
		--rr "rsa2026._domainkey.$RX_DOMAIN TXT $(rs_dkim_txt_rsa "$T/keys/rsa2026.key")" \
		--rr "ed2026._domainkey.$RX_DOMAIN TXT $(rs_dkim_txt_ed25519 "$T/keys/ed2026.key")" \
		--rr "$RX_DOMAIN TXT $RX_SPF" "${DNS_ARGS[@]}"
}
RUSER=nobody
RGROUP=$(id -gn nobody)
chown -R "$RUSER:$RGROUP" "$T/keys"
RX_WRAP="setpriv --reuid=$RUSER --regid=$RGROUP --clear-groups"
KEY=$T/keys/ed2026.key

rx_write_conf "$T/relaysign.conf" "Socket inet:8891@127.0.0.1" \
	"RelayNetworks 127.0.0.0/8" "RequireSPF yes" "DNSTimeout 2"
chmod 0644 "$T/relaysign.conf"
if out=$($RX_WRAP "$RELAYSIGN" -n -c "$T/relaysign.conf" 2>&1); then
	tap_ok "relaysign -n (as $RUSER) accepts the configuration: RequireSPF yes"
else
	# An older relaysign without RequireSPF: run without it (DNS then only slows).
	rx_write_conf "$T/relaysign.conf" "Socket inet:8891@127.0.0.1" "RelayNetworks 127.0.0.0/8"
	chmod 0644 "$T/relaysign.conf"
	if out2=$($RX_WRAP "$RELAYSIGN" -n -c "$T/relaysign.conf" 2>&1); then
		tap_ok "relaysign -n accepts the configuration (without RequireSPF: $out)"
	else
		tap_not_ok "relaysign -n accepts the configuration"
		tap_diag "$out" "$out2"
	fi
fi

start_milter() { rx_start_milter relaysign "$T/relaysign.conf"; }
if start_milter; then
	tap_ok "relaysign started as $RUSER"
else
	tap_not_ok "relaysign started"
	diag_log "$LOG" 30
	tap_done
	exit 1
fi

start_sink "$T/sink" || rs_die "cannot start smtp-sink"
# The first hop hands every message to the milter smtpd; retries come fast.
start_postfix "" 'content_filter=smtp:[127.0.0.1]:10026' \
	minimal_backoff_time=5s maximal_backoff_time=10s queue_run_delay=5s \
	smtp_connect_timeout=5s enable_long_queue_ids=yes ||
	rs_die "cannot start the private Postfix"
postconf -c "$RS_POSTFIX_DIR" -M \
	"127.0.0.1:10026/inet=127.0.0.1:10026 inet n - n - - smtpd -o content_filter= -o smtpd_milters=inet:127.0.0.1:8891" ||
	rs_die "postconf -M failed"
postfix -c "$RS_POSTFIX_DIR" reload >/dev/null 2>&1
wait_port 10026 20 || rs_die "the milter smtpd did not listen on 10026"

# --- the run -------------------------------------------------------------------
T0=$(date +%s)
now() { echo $(($(date +%s) - T0)); }
sleep_until() {  # sleep_until SECS: bounded wait until SECS after T0
	local left
	left=$(($1 - $(now)))
	[ "$left" -gt 0 ] && sleep "$left"
	return 0
}
delivered() { rx_sink_count; }

timeout $((SEND_SECS * 4 + 120)) smtp-source -s "$SESS" -w 1 -m "$N" -l 2048 \
	-f "library@$RX_DOMAIN" -t patron@example.net "127.0.0.1:$RS_SMTP_PORT" \
	>"$T/smtp-source.log" 2>&1 &
SRC_PID=$!

# sigkill_restart: SIGKILL relaysign, restart it, one TAP line.
NKILL=0
NTERM=0
sigkill_restart() {
	local pid d
	NKILL=$((NKILL + 1))
	pid=$(rs_pid_of relaysign)
	d=$(delivered)
	kill -KILL "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	sleep 1
	if start_milter; then
		tap_ok "SIGKILL #$NKILL at t=$(now)s ($d delivered so far): relaysign restarted"
	else
		tap_not_ok "SIGKILL #$NKILL at t=$(now)s: relaysign did not restart"
		diag_log "$LOG" 15
	fi
}

# sigterm_restart: a stop in a hurry under load: relaysign drains (MAILs from
# now on are answered 451 at DATA: with SMFIP_NR_MAIL the "shutting down"
# decided at MAIL waits for the next answered stage), exits 0, restarts.
# Postfix must see no milter reply out of turn.
sigterm_restart() {
	local pid d rc
	NTERM=$((NTERM + 1))
	pid=$(rs_pid_of relaysign)
	d=$(delivered)
	kill -TERM "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	rc=$?
	# Restarted whatever the exit status: one bad stop must not take the
	# rest of the run (reloads, the counts) down with it.
	if start_milter && [ "$rc" = 0 ]; then
		tap_ok "SIGTERM #$NTERM at t=$(now)s ($d delivered so far): exit status 0, restarted" \
			"($(grep -c 'relaysign: shutting down' "$(postfix_log)") MAILs answered 451 while draining)"
	else
		tap_not_ok "SIGTERM #$NTERM at t=$(now)s: exit status $rc, restart $(bg_check relaysign && echo ok || echo failed)"
		diag_log "$LOG" 15
	fi
}

# dns_outage: stop the DNS server for DNS_GAP seconds, start it again.
dns_outage() {
	local d q0 t1
	d=$(delivered)
	q0=$(grep -c 'spf=temperror' "$LOG")
	stop_bg dns 5
	t1=$(now)
	sleep "$DNS_GAP"
	if dns_restart; then
		tap_ok "DNS server stopped at t=${t1}s ($d delivered) for ${DNS_GAP}s, restarted" \
			"($(($(grep -c 'spf=temperror' "$LOG") - q0)) messages saw spf=temperror meanwhile)"
	else
		tap_not_ok "DNS server restarted after ${DNS_GAP}s"
	fi
}

# wait_log STRING [SECS]: relaysign's log gains a line with STRING.
wait_log() {
	local i
	for ((i = 0; i < ${2:-10} * 10; i++)); do
		grep -qF -- "$1" "$LOG" && return 0
		sleep 0.1
	done
	return 1
}
hup() { kill -HUP "$(rs_pid_of relaysign)"; }

# key_fault: the Ed25519 key unreadable + SIGHUP, then fixed + SIGHUP (long
# mode: a SIGKILL and a refused restart in between).
key_fault() {
	local nf nr
	nf=$(grep -c 'reload failed' "$LOG")
	chmod 000 "$KEY"
	hup
	if wait_log_count 'reload failed' $((nf + 1)) 10; then
		tap_ok "key unreadable + SIGHUP at t=$(now)s: reload refused, old keys kept ($(grep 'reload failed' "$LOG" | tail -1 | cut -c1-160))"
	else
		tap_not_ok "key unreadable + SIGHUP: reload refused"
		diag_log "$LOG" 10
	fi
	if [ "$LONG" = 1 ]; then
		local pid
		pid=$(rs_pid_of relaysign)
		NKILL=$((NKILL + 1))
		kill -KILL "$pid" 2>/dev/null
		wait "$pid" 2>/dev/null
		sleep 1
		if ! start_milter 2>/dev/null && grep -qF "$KEY" <(tail -5 "$LOG"); then
			tap_ok "SIGKILL #$NKILL with the key unreadable: restart refused, naming $KEY"
		else
			tap_not_ok "SIGKILL #$NKILL with the key unreadable: restart refused naming the key"
			diag_log "$LOG" 5
		fi
		sleep 5         # mail meanwhile is tempfailed by Postfix and queued
		chmod 0600 "$KEY"
		if start_milter; then
			tap_ok "key fixed: relaysign restarted at t=$(now)s"
		else
			tap_not_ok "key fixed: relaysign restarted"
			diag_log "$LOG" 10
		fi
		sleep 2
	fi
	chmod 0600 "$KEY"
	nr=$(grep -c 'reloaded' "$LOG")
	hup
	if wait_log_count 'reloaded' $((nr + 1)) 10; then
		tap_ok "key fixed + SIGHUP at t=$(now)s: reloaded"
	else
		tap_not_ok "key fixed + SIGHUP: reloaded"
		diag_log "$LOG" 10
	fi
}
wait_log_count() {      # wait_log_count STRING N [SECS]
	local i
	for ((i = 0; i < ${3:-10} * 10; i++)); do
		[ "$(grep -c -- "$1" "$LOG")" -ge "$2" ] && return 0
		sleep 0.1
	done
	return 1
}

# The schedule, as fractions of the sending time.
if [ "$LONG" = 1 ]; then
	EVENTS=("12 kill" "22 dns" "32 term" "40 kill" "52 kill" "62 key")
else
	EVENTS=("20 kill" "40 dns" "50 term" "60 key")
fi
for ev in "${EVENTS[@]}"; do
	read -r pct what <<<"$ev"
	sleep_until $((SEND_SECS * pct / 100))
	case $what in
	kill) sigkill_restart ;;
	term) sigterm_restart ;;
	dns) dns_outage ;;
	key) key_fault ;;
	esac
done

# --- drain ---------------------------------------------------------------------
wait "$SRC_PID"
src_rc=$?
if [ "$src_rc" = 0 ] && ! grep -qi 'fatal\|error' "$T/smtp-source.log"; then
	tap_ok "smtp-source sent $N messages in $SESS sessions (t=$(now)s)"
else
	tap_not_ok "smtp-source sent $N messages (status $src_rc)"
	tail -5 "$T/smtp-source.log" | sed 's/^/# /'
fi

# Flush (bounded): Postfix retries deferred mail every few seconds anyway.
DRAIN=$((LONG == 1 ? 600 : 120))
t_drain=$(now)
for ((i = 0; i < DRAIN / 5; i++)); do
	postqueue -c "$RS_POSTFIX_DIR" -f >/dev/null 2>&1
	if postqueue -c "$RS_POSTFIX_DIR" -p 2>/dev/null | grep -q '^Mail queue is empty' &&
		[ "$(delivered)" -ge "$N" ]; then
		break
	fi
	sleep 5
done
if postqueue -c "$RS_POSTFIX_DIR" -p 2>/dev/null | grep -q '^Mail queue is empty'; then
	tap_ok "queue flushed and empty $(($(now) - t_drain))s after sending ended"
else
	tap_not_ok "queue empty within ${DRAIN}s of flushing"
	postqueue -c "$RS_POSTFIX_DIR" -p 2>&1 | tail -8 | sed 's/^/# /'
fi
sleep 1

# --- the counts ------------------------------------------------------------------
summary=$("$RS_PY" "$top_srcdir/tests/faults/check_sink.py" --dir "$RS_SINK_DIR" \
	--dns "$RS_DNS_ADDR:$RS_DNS_PORT" --selectors rsa2026,ed2026 --top "$top_srcdir" 2>&1)
check_rc=$?
line1=$(head -1 <<<"$summary")
val() { sed -n "s/.*\\b$1=\\([0-9]*\\).*/\\1/p" <<<"$line1"; }
files=$(val files)
uniq=$(val unique)
if [ "${files:-x}" = "$N" ] && [ "${uniq:-x}" = "$N" ]; then
	tap_ok "the sink holds exactly $N messages, $uniq distinct first-hop queue ids"
else
	tap_not_ok "the sink holds exactly $N messages: files=${files:-?} unique=${uniq:-?}"
	tap_diag "$summary"
fi
if [ "$check_rc" = 0 ] && [ "$(val signed_once)" = "$files" ] && [ "$(val verified)" = "$files" ]; then
	tap_ok "every message signed exactly once per key (s=rsa2026, s=ed2026), dkimpy verified $(val verified)"
else
	tap_not_ok "every message signed exactly once per key and verified"
	tap_diag "$summary"
fi
deferred=$(grep -c 'relay=127.0.0.1\[127.0.0.1\]:10026.*status=deferred' "$(postfix_log)")
tempf=$(grep -c 'milter.*\(451\|tempfail\|Service unavailable\)\|451 4.7.1' "$(postfix_log)")
rx_no_bounce "$deferred deliveries to the milter smtpd were deferred and retried ($tempf tempfail lines)"
out_of_turn() {
	! grep -E 'milter.*(unexpected|protocol error)' "$(postfix_log)" | head -3 | grep .
}
tap_check "Postfix saw no milter reply out of turn (SMFIP_NR_MAIL, SMFIP_NR_BODY)" out_of_turn
tap_diag "counts: sent=$N delivered=${files:-?} signed_once=$(val signed_once) bounced=$(rx_bounced) deferred=$deferred SIGKILLs=$NKILL SIGTERMs=$NTERM" \
	"check_sink: $line1"
stop_postfix
rx_finish_milter "$LOG" "relaysign (last instance) stopped on SIGTERM, exit status 0" \
	"no ASan/UBSan/LSan report from any relaysign instance"
tap_done
