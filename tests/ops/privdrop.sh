#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# tests/ops/privdrop.sh -- UserID, PidFile, Background, SIGTERM, -V (TAP).
#
# All inside one private mount+net+pid namespace (tools/lib.sh), with a
# private Postfix relaying to smtp-sink and dnsserver.py publishing the keys.
# The user relaysign switches to, relaysign-test, exists only in this
# namespace: the test writes copies of /etc/passwd and /etc/group with one
# more line each and bind-mounts them over the originals, so the host's
# account files are never written and nothing is left behind, even when the
# test is killed.
#
#   (a) UserID relaysign-test, keys owned by it with mode 0600, started as
#       root with -f: /proc/PID/status shows the user's uid and gid (real,
#       effective, saved, fs), only its group, no capabilities; a message
#       through Postfix is signed and verifies; PidFile holds the pid; a
#       SIGHUP, with keys read again as the user, switches to a second key;
#       SIGTERM: exit 0 within 10 s, PidFile removed.
#   (b) SIGTERM while a 5 MB message is in flight (relaysign has taken its
#       MAIL FROM; the client is in the middle of DATA): the message is
#       either signed and delivered, or refused with a 4xx (and then, sent
#       again to a restarted relaysign, signed and delivered); never
#       accepted and lost, never delivered unsigned.  Exit within 10 s.
#   (c) a key file with mode 0644: relaysign -n, relaysign -f and the
#       daemon's start-up (Background yes) all exit 1 naming the file, and
#       nothing listens.
#   (d) relaysign -V: relaysign's version and those of libmilter,
#       libopendkim, OpenSSL, libpsl and libidn2 (checked against
#       pkg-config and the libmilter relaysign is linked with).
#   (e) Background yes: the parent exits 0 with the socket already
#       listening; the daemon runs in its own session, as the user, with
#       standard input/output/error on /dev/null, writes PidFile, signs a
#       message, and on SIGTERM exits within 10 s and removes PidFile.
#
# Environment: top_srcdir, top_builddir (as Automake sets them), RELAYSIGN
# (default $top_builddir/relaysign), RS_KEEP=1 keeps the temporary directory.
# Skipped (tap_skip_all) only when not root or relaysign is not built.
# Takes about 40 s (libmilter needs a few seconds to stop, five times).
set -u

# shellcheck source=tools/lib.sh
. "${top_srcdir:-$(dirname "$0")/../..}/tools/lib.sh"

RELAYSIGN=${RELAYSIGN:-$top_builddir/relaysign}
export RELAYSIGN

rs_test_needs "namespaces, a private Postfix, a user to switch to" postfix postconf postqueue smtp-sink swaks openssl unshare ip ss pkg-config ldd

rs_sandbox "$0" "$@"
rs_init ops-privdrop

DOMAIN=library.example.edu
T=$RS_TMP
K=$T/keys
RUN=$T/run
SINK=$T/sink
USER_NAME=relaysign-test
TAG=$$.$RANDOM
STOP_STATUS=none
STOP_SECS=0

tap_plan 37

# --- the user, in this namespace only ------------------------------------------------
uid=""
for ((u = 999; u >= 900; u--)); do
	if ! getent passwd "$u" >/dev/null && ! getent group "$u" >/dev/null; then
		uid=$u
		break
	fi
done
[ -n "$uid" ] || rs_die "no free uid/gid between 900 and 999"
gid=$uid
grep -v "^$USER_NAME:" /etc/passwd >"$T/passwd" &&
	echo "$USER_NAME:x:$uid:$gid:relaysign test user:/nonexistent:/usr/sbin/nologin" >>"$T/passwd" &&
	grep -v "^$USER_NAME:" /etc/group >"$T/group" &&
	echo "$USER_NAME:x:$gid:" >>"$T/group" &&
	chmod 0644 "$T/passwd" "$T/group" &&
	mount --bind "$T/passwd" /etc/passwd && mount --bind "$T/group" /etc/group ||
	rs_die "cannot set up a private /etc/passwd and /etc/group"
[ "$(id -u "$USER_NAME" 2>/dev/null)" = "$uid" ] || rs_die "$USER_NAME is not visible to getpwnam"

# --- keys (the user's, mode 0600), DNS, Postfix --------------------------------------
mkdir -m 0700 "$K" "$RUN" || rs_die "mkdir"
if ! { rs_keygen_rsa "$K/k1.key" && rs_keygen_rsa "$K/k2.key"; }; then
	rs_die "key generation failed"
fi
chown -R "$USER_NAME:$USER_NAME" "$K" "$RUN" || rs_die "chown"
chmod 0755 "$RUN"       # Postfix need not enter it; the test reads PidFile from it
start_dns --authority example.edu --authority exlibrisgroup.com \
	--rr "s1._domainkey.$DOMAIN TXT $(rs_dkim_txt_rsa "$K/k1.key")" \
	--rr "s2._domainkey.$DOMAIN TXT $(rs_dkim_txt_rsa "$K/k2.key")" \
	--rr "exlibrisgroup.com TXT v=spf1 ip4:192.0.2.0/24 -all" ||
	rs_die "cannot start the DNS server"
start_sink "$SINK" || rs_die "cannot start smtp-sink"
start_postfix inet:127.0.0.1:8891 || rs_die "cannot start the private Postfix"

# mkconf FILE SELECTOR KEY BACKGROUND PIDFILE: a configuration.
mkconf() {
	cat >"$1" <<-EOF
	# tests/ops/privdrop.sh
	Socket              inet:8891@127.0.0.1
	AuthservID          relay.test
	RelayNetworks       192.0.2.0/24
	Domain              $DOMAIN
	Selector            $2
	KeyFile             $3
	UserID              $USER_NAME
	PidFile             $5
	Background          $4
	Syslog              no
	EOF
}
CONF=$T/relaysign.conf
PIDF=$RUN/relaysign.pid
mkconf "$CONF" s1 "$K/k1.key" no "$PIDF"

# start_fg NAME: relaysign -f -c $CONF as root, log in $T/NAME.log.
start_fg() {
	wait_port_free 8891 15 || { rs_log "port 8891 still busy"; return 1; }
	start_bg "$1" 8891 "$RELAYSIGN" -f -c "$CONF"
}

# stop_timed NAME: SIGTERM; wait up to 10 s; sets STOP_SECS, STOP_STATUS.
stop_timed() {
	local pid i t0
	pid=$(rs_pid_of "$1") || return 1
	t0=$(date +%s%N)
	kill -TERM "$pid"
	for ((i = 0; i < 100; i++)); do
		bg_check "$1" || break
		sleep 0.1
	done
	STOP_SECS=$(( ($(date +%s%N) - t0) / 1000000 ))
	if bg_check "$1"; then
		STOP_STATUS=running
		return 1
	fi
	STOP_STATUS=$RS_BG_STATUS
	[ "$STOP_STATUS" = 0 ]
}

# send CASE [swaks args]: one message from the vendor relay; MSG = the
# delivered file ('' if none within 20 s).
send() {
	local case=$1
	shift
	MSG=""
	send_via_xclient 192.0.2.10 alma@exlibrisgroup.com patron@example.net \
		"Library <library@$DOMAIN>" --header "Subject: privdrop $case" \
		--header "X-Ops-Case: $case.$TAG" "$@" || return 1
	MSG=$(wait_delivered "X-Ops-Case: $case.$TAG" 20) || MSG=""
	[ -n "$MSG" ]
}

# signed_by SEL: $MSG has one DKIM-Signature, s=SEL, which dkimpy verifies.
signed_by() {
	local out
	[ -n "$MSG" ] || { echo "no delivered message"; return 1; }
	[ "$(hdr_count "$MSG" DKIM-Signature)" = 1 ] ||
		{ echo "$(hdr_count "$MSG" DKIM-Signature) DKIM-Signature fields"; return 1; }
	out=$(verify_py "$MSG" 2>&1) || { echo "$out"; return 1; }
	grep -q "s=$1 a=rsa-sha256 result=pass" <<<"$out" || { echo "$out"; return 1; }
}

no_sanitizer() {        # no_sanitizer FILE...
	! grep -sE 'ERROR: (Address|Leak)Sanitizer|runtime error:|SUMMARY: |Sanitizer has encountered' "$@"
}

# status_field PID NAME: a line of /proc/PID/status, without the name.
status_field() { sed -n "s/^$2:[[:space:]]*//p" "/proc/$1/status" | tr -s ' \t' ' '; }

# runs_as_user PID: uid, gid (real, effective, saved, fs), groups, capabilities.
runs_as_user() {
	local pid=$1 u g grp cap
	u=$(status_field "$pid" Uid)
	g=$(status_field "$pid" Gid)
	grp=$(status_field "$pid" Groups)
	cap=$(status_field "$pid" CapEff)/$(status_field "$pid" CapPrm)
	echo "Uid: $u; Gid: $g; Groups: $grp; CapEff/CapPrm: $cap"
	[ "$u" = "$uid $uid $uid $uid" ] || { echo "uid is not $uid everywhere"; return 1; }
	[ "$g" = "$gid $gid $gid $gid" ] || { echo "gid is not $gid everywhere"; return 1; }
	[ "$(echo "$grp" | tr -d ' ')" = "$gid" ] || { echo "supplementary groups are not just $gid"; return 1; }
	[ "$cap" = "0000000000000000/0000000000000000" ] || { echo "capabilities left"; return 1; }
}

# === (a) UserID, PidFile, SIGHUP as the user, SIGTERM ===================================
n_ok() { "$RELAYSIGN" -n -c "$CONF"; }
tap_check "(a) relaysign -n accepts keys owned by $USER_NAME, mode 0600" n_ok

if start_fg a; then
	tap_ok "(a) relaysign -f started as root with UserID $USER_NAME, listening"
else
	tap_not_ok "(a) relaysign -f started as root with UserID $USER_NAME, listening"
fi
PID_A=$(rs_pid_of a)
if out=$(runs_as_user "$PID_A" 2>&1); then
	tap_ok "(a) /proc/$PID_A/status: runs as $USER_NAME ($uid:$gid), no other group, no capabilities"
	tap_diag "$out"
else
	tap_not_ok "(a) /proc/PID/status: runs as $USER_NAME ($uid:$gid), no other group, no capabilities"
	tap_diag "$out"
fi
pidfile_ok() {
	[ -f "$PIDF" ] || { echo "no $PIDF"; return 1; }
	[ "$(cat "$PIDF")" = "$1" ] || { echo "$PIDF holds '$(cat "$PIDF")', want $1"; return 1; }
}
tap_check "(a) PidFile $PIDF holds the pid" pidfile_ok "$PID_A"

# A restart done in a hurry: a second relaysign must not take over the
# running one's socket or PID file; it refuses, naming the lock.
second_refused() {
	local out rc
	out=$(timeout 20 "$RELAYSIGN" -f -c "$CONF" 2>&1)
	rc=$?
	printf '%s\n' "$out"
	[ "$rc" = 1 ] || { echo "exit status $rc, want 1"; return 1; }
	printf '%s\n' "$out" | grep -q "PidFile $PIDF is locked" || { echo "does not name the lock"; return 1; }
	pidfile_ok "$PID_A" && kill -0 "$PID_A"
}
tap_check "(a) a second relaysign with the same PidFile refuses; the first keeps its PID file" \
	second_refused
nodir_refused() {
	local out rc
	mkconf "$T/nodir.conf" s1 "$K/k1.key" no "$T/no/such/dir/relaysign.pid"
	out=$(timeout 20 "$RELAYSIGN" -f -c "$T/nodir.conf" 2>&1)
	rc=$?
	printf '%s\n' "$out"
	[ "$rc" = 1 ] || { echo "exit status $rc, want 1"; return 1; }
	printf '%s\n' "$out" | grep -q "PidFile $T/no/such/dir/relaysign.pid: No such file" ||
		{ echo "does not name the PidFile and the reason"; return 1; }
}
tap_check "(a) a PidFile in a missing directory: relaysign refuses to start, naming it" \
	nodir_refused

send a1
tap_check "(a) the socket works: a message through Postfix is signed (s1) and verifies" signed_by s1

# SIGHUP: the keys are read again as $USER_NAME, who owns them.
mkconf "$CONF.new" s2 "$K/k2.key" no "$PIDF" && mv -f "$CONF.new" "$CONF"
kill -HUP "$PID_A"
for ((i = 0; i < 100; i++)); do
	grep -q "reloaded $CONF" "$T/a.log" && break
	sleep 0.1
done
send a2
tap_check "(a) after SIGHUP, keys read again as $USER_NAME: the next message is signed with s2" \
	signed_by s2
mkconf "$CONF" s1 "$K/k1.key" no "$PIDF"

stop_timed a
if [ "$STOP_STATUS" = 0 ] && [ "$STOP_SECS" -le 10000 ]; then
	tap_ok "(a) SIGTERM: exit 0 in ${STOP_SECS} ms"
else
	tap_not_ok "(a) SIGTERM: exit 0 within 10 s"
	tap_diag "status $STOP_STATUS after ${STOP_SECS} ms"
fi
pidfile_gone() { [ ! -e "$1" ] || { echo "$1 still exists: $(cat "$1")"; return 1; }; }
tap_check "(a) PidFile removed at exit" pidfile_gone "$PIDF"
tap_check "(a) no sanitizer report in relaysign's log" no_sanitizer "$T/a.log"

# === (b) SIGTERM with a 5 MB message in flight ======================================
# A small SMTP client of our own: XCLIENT as the vendor relay, MAIL, RCPT,
# DATA, 1 MB of the message; then it tells the test (touching STARTED) and
# waits for GO before it sends the other 4 MB and the final dot, and prints
# Postfix's reply to the dot.
cat >"$T/bigsend.py" <<'EOF'
import os, socket, sys, time
port, tag, started, go = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
s = socket.create_connection(('127.0.0.1', port), timeout=120)
f = s.makefile('rb')
def reply():
    lines = []
    while True:
        l = f.readline().decode('ascii', 'replace').rstrip('\r\n')
        if not l:
            raise SystemExit('connection closed; got %r' % lines)
        lines.append(l)
        if len(l) < 4 or l[3] != '-':
            return int(l[:3]), ' | '.join(lines)
def cmd(c, want):
    s.sendall(c.encode() + b'\r\n')
    code, text = reply()
    if code != want:
        print('%s -> %s' % (c, text)); sys.exit(3)
code, text = reply()
cmd('EHLO client.test', 250)
cmd('XCLIENT ADDR=192.0.2.10 NAME=[UNAVAILABLE]', 220)
cmd('EHLO client.test', 250)
cmd('MAIL FROM:<alma@exlibrisgroup.com>', 250)
cmd('RCPT TO:<patron@example.net>', 250)
cmd('DATA', 354)
head = ('From: Library <library@library.example.edu>\r\nTo: patron@example.net\r\n'
        'Subject: privdrop 5 MB\r\nX-Ops-Case: big.%s\r\nMessage-ID: <big.%s@library.example.edu>\r\n'
        'Date: %s\r\n\r\n' % (tag, tag, time.strftime('%a, %d %b %Y %H:%M:%S +0000', time.gmtime())))
line = (b'0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789ab\r\n')
chunk = line * (1024 * 1024 // len(line))      # about 1 MB
s.sendall(head.encode() + chunk)
open(started, 'w').close()
for _ in range(200):
    if os.path.exists(go):
        break
    time.sleep(0.1)
for _ in range(4):
    s.sendall(chunk)
s.sendall(b'.\r\n')
code, text = reply()
print(text)
try:
    s.sendall(b'QUIT\r\n'); reply()
except Exception:
    pass
EOF

start_fg b || tap_diag "relaysign (b) did not start"
PID_B=$(rs_pid_of b)
rm -f "$T/big.started" "$T/big.go"
timeout 60 "$RS_PY" "$T/bigsend.py" "$RS_SMTP_PORT" "$TAG" "$T/big.started" "$T/big.go" \
	>"$T/big.out" 2>&1 &
BIG_PID=$!
for ((i = 0; i < 200; i++)); do
	[ -e "$T/big.started" ] && break
	kill -0 "$BIG_PID" 2>/dev/null || break
	sleep 0.05
done
if [ -e "$T/big.started" ]; then
	kill -TERM "$PID_B"
	T0=$(date +%s%N)
	# relaysign has the signal before the rest of the message goes out.
	for ((i = 0; i < 50; i++)); do
		grep -q "stopping on signal" "$T/b.log" && break
		sleep 0.1
	done
	touch "$T/big.go"
	tap_ok "(b) SIGTERM sent while a 5 MB message was in DATA (1 MB sent)"
else
	T0=$(date +%s%N)
	tap_not_ok "(b) SIGTERM sent while a 5 MB message was in DATA"
	tap_diag "the client did not reach DATA:" "$(cat "$T/big.out")"
fi
wait "$BIG_PID"
BIG_REPLY=$(tail -1 "$T/big.out")
for ((i = 0; i < 100; i++)); do
	bg_check b || break
	sleep 0.1
done
STOP_MS=$(( ($(date +%s%N) - T0) / 1000000 ))
if ! bg_check b && [ "$RS_BG_STATUS" = 0 ] && [ "$STOP_MS" -le 10000 ]; then
	tap_ok "(b) relaysign exited 0, ${STOP_MS} ms after SIGTERM"
else
	tap_not_ok "(b) relaysign exited 0 within 10 s of SIGTERM"
	tap_diag "after ${STOP_MS} ms: $(bg_check b && echo still running || echo "$RS_BG_WHY")"
fi
BIG_MSG=""
case $BIG_REPLY in
250*) BIG_MSG=$(wait_delivered "X-Ops-Case: big.$TAG" 30) ;;
esac
tap_diag "Postfix's reply to the 5 MB message's final dot: $BIG_REPLY"
never_lost() {
	case $BIG_REPLY in
	250*)
		[ -n "$BIG_MSG" ] || { echo "accepted (250) but not delivered within 30 s"; return 1; }
		MSG=$BIG_MSG
		signed_by s1 || { echo "accepted and delivered, but not (validly) signed"; return 1; }
		echo "accepted, delivered, signed"
		;;
	4*)
		# Not lost (the client retries), but relaysign(8) promises to
		# finish messages in flight at SIGTERM, not to tempfail them.
		echo "refused with a 4xx: relaysign abandoned the message in flight"
		return 1
		;;
	*)
		echo "neither 250 nor 4xx: $BIG_REPLY"
		return 1
		;;
	esac
}
if out=$(never_lost 2>&1); then
	tap_ok "(b) the in-flight message was finished: ${out##*$'\n'}"
else
	tap_not_ok "(b) the in-flight message was finished: delivered and signed"
	tap_diag "$out"
	diag_log "$(postfix_log)" 8
fi
# The retry a client makes after a 4xx, to a restarted relaysign.
case $BIG_REPLY in
4*)
	start_fg b2 || tap_diag "relaysign (b2) did not start"
	rm -f "$T/big.started"
	touch "$T/big.go"
	timeout 60 "$RS_PY" "$T/bigsend.py" "$RS_SMTP_PORT" "$TAG" "$T/big.started" "$T/big.go" \
		>"$T/big2.out" 2>&1
	MSG=""
	grep -q '^250' "$T/big2.out" && MSG=$(wait_delivered "X-Ops-Case: big.$TAG" 30)
	tap_check "(b) retried after the 4xx: signed (s1), verifies, delivered" signed_by s1
	stop_bg b2
	;;
*)
	tap_ok "(b) no retry needed: delivered signed at the first attempt"
	;;
esac
tap_check "(b) no sanitizer report in relaysign's log" no_sanitizer "$T/b.log" "$T/b2.log"

# === (c) a key others can read ===========================================================
cp -p "$K/k1.key" "$K/open.key" && chmod 0644 "$K/open.key"
mkconf "$T/open.conf" s1 "$K/open.key" no "$RUN/open.pid"
mkconf "$T/open-bg.conf" s1 "$K/open.key" yes "$RUN/open.pid"
# refused OUT CMD...: exit 1, OUT holds the file's name, port 8891 free.
refused() {
	local out=$1 rc
	shift
	timeout 15 "$@" >"$out" 2>&1
	rc=$?
	cat "$out"
	[ "$rc" = 1 ] || { echo "exit status $rc, want 1"; return 1; }
	grep -qF "$K/open.key" "$out" || { echo "the message does not name $K/open.key"; return 1; }
	grep -q "readable by group or others" "$out" || { echo "the message does not say why"; return 1; }
	! port_listening 8891 || { echo "something listens on 8891"; return 1; }
	[ ! -e "$RUN/open.pid" ] || { echo "PidFile written"; return 1; }
}
wait_port_free 8891 15
tap_check "(c) key mode 0644: relaysign -n exits 1 naming the file" \
	refused "$T/c-n.out" "$RELAYSIGN" -n -c "$T/open.conf"
tap_check "(c) key mode 0644: relaysign -f refuses to start, naming the file" \
	refused "$T/c-f.out" "$RELAYSIGN" -f -c "$T/open.conf"
tap_check "(c) key mode 0644: the daemon (Background yes) exits 1 before forking, naming the file" \
	refused "$T/c-bg.out" "$RELAYSIGN" -c "$T/open-bg.conf"
rm -f "$K/open.key"

# === (d) relaysign -V ======================================================================
"$RELAYSIGN" -V >"$T/V.out" 2>"$T/V.err"
V_RC=$?
tap_diag "relaysign -V:" "$(cat "$T/V.out")"
v_exit() { [ "$V_RC" = 0 ] && [ ! -s "$T/V.err" ] || { echo "status $V_RC; stderr: $(cat "$T/V.err")"; return 1; }; }
tap_check "(d) relaysign -V exits 0, nothing on stderr" v_exit
pkgver=$(sed -n 's/^#define PACKAGE_VERSION "\(.*\)"/\1/p' "$top_builddir/config.h" 2>/dev/null)
[ -n "$pkgver" ] || pkgver=$(sed -n 's/^AC_INIT(\[relaysign\], \[\([^]]*\)\].*/\1/p' "$top_srcdir/configure.ac")
tap_check "(d) first line: relaysign $pkgver" grep -qx "relaysign $pkgver" "$T/V.out"
# vline WORD VERSION: a line naming WORD carries VERSION.
vline() {
	grep -i -- "$1" "$T/V.out" | grep -qF -- "$2" ||
		{ echo "no '$1 ... $2' line"; cat "$T/V.out"; return 1; }
}
milter_so=$(ldd "$RELAYSIGN" | sed -n 's/.*libmilter\.so\.\([0-9.]*\) =>.*/\1/p' | head -1)
tap_check "(d) libmilter $milter_so (the library relaysign is linked with; Debian's package: $(pkg-config --modversion milter))" \
	vline libmilter "$milter_so"
tap_check "(d) libopendkim $(pkg-config --modversion opendkim)" vline libopendkim "$(pkg-config --modversion opendkim)"
tap_check "(d) OpenSSL $(pkg-config --modversion libcrypto)" vline openssl "OpenSSL $(pkg-config --modversion libcrypto)"
tap_check "(d) libpsl $(pkg-config --modversion libpsl)" vline libpsl "$(pkg-config --modversion libpsl)"
tap_check "(d) libidn2 $(pkg-config --modversion libidn2)" vline '^ *libidn2' "$(pkg-config --modversion libidn2)"

# === (e) Background yes ===================================================================
BG_PIDF=$RUN/bg.pid
mkconf "$CONF" s1 "$K/k1.key" yes "$BG_PIDF"
wait_port_free 8891 15
# The daemon's standard error is /dev/null: sanitizer reports go to files.
ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}log_path=$RUN/asan-bg" \
	UBSAN_OPTIONS="${UBSAN_OPTIONS:+$UBSAN_OPTIONS:}log_path=$RUN/ubsan-bg" \
	timeout 20 "$RELAYSIGN" -c "$CONF" >"$T/bg.out" 2>&1
BG_RC=$?
# Right when the parent has exited:
if port_listening 8891 127.0.0.1; then BG_LISTEN=1; else BG_LISTEN=0; fi
if [ -s "$BG_PIDF" ]; then BG_PIDNOW=1; else BG_PIDNOW=0; fi
parent_ok() {
	[ "$BG_RC" = 0 ] || { echo "exit status $BG_RC: $(cat "$T/bg.out")"; return 1; }
	[ "$BG_LISTEN" = 1 ] || { echo "nothing listened on 8891 when the parent exited"; return 1; }
	# Syslog no + Background yes: the one thing to say is that the log is lost.
	[ "$(wc -l <"$T/bg.out")" = 1 ] &&
		grep -q "warning: $CONF: Syslog no with Background yes: .* they are lost" "$T/bg.out" ||
		{ echo "output: $(cat "$T/bg.out")"; return 1; }
}
tap_check "(e) Background yes: the parent exits 0 with the socket already listening, warning that Syslog no loses the log" parent_ok
BG_PID=""
for ((i = 0; i < 50; i++)); do
	[ -s "$BG_PIDF" ] && break
	sleep 0.1
done
BG_PID=$(cat "$BG_PIDF" 2>/dev/null)
[ "$BG_PIDNOW" = 1 ] ||
	tap_diag "note: PidFile did not exist yet when the parent exited (it is written after the fork)"
daemon_ok() {
	[ -n "$BG_PID" ] || { echo "no PidFile $BG_PIDF within 5 s"; return 1; }
	kill -0 "$BG_PID" 2>/dev/null || { echo "pid $BG_PID from PidFile is not running"; return 1; }
	grep -q relaysign "/proc/$BG_PID/cmdline" || { echo "pid $BG_PID is not relaysign"; return 1; }
	local sid fd t
	sid=$(awk '{ print $6 }' "/proc/$BG_PID/stat")
	[ "$sid" = "$BG_PID" ] || { echo "session $sid, want its own ($BG_PID)"; return 1; }
	for fd in 0 1 2; do
		t=$(readlink "/proc/$BG_PID/fd/$fd")
		[ "$t" = /dev/null ] || { echo "fd $fd is $t, want /dev/null"; return 1; }
	done
	t=$(readlink "/proc/$BG_PID/cwd")
	[ "$t" = / ] || { echo "cwd is $t, want /"; return 1; }
	runs_as_user "$BG_PID"
}
tap_check "(e) the daemon: PidFile, own session, stdio on /dev/null, cwd /, runs as $USER_NAME" daemon_ok
send e1
tap_check "(e) the daemon signs (s1) a message through Postfix" signed_by s1
t0=$(date +%s%N)
[ -n "$BG_PID" ] && kill -TERM "$BG_PID"
for ((i = 0; i < 100; i++)); do
	[ -n "$BG_PID" ] && kill -0 "$BG_PID" 2>/dev/null || break
	sleep 0.1
done
BG_MS=$(( ($(date +%s%N) - t0) / 1000000 ))
bg_gone() {
	[ -n "$BG_PID" ] || return 1
	! kill -0 "$BG_PID" 2>/dev/null || { echo "still running after ${BG_MS} ms"; kill -KILL "$BG_PID"; return 1; }
}
tap_check "(e) SIGTERM: the daemon exits within 10 s (${BG_MS} ms)" bg_gone
tap_check "(e) PidFile removed at exit" pidfile_gone "$BG_PIDF"

# === (f) Syslog yes: where the log goes, and a missing /dev/log said aloud ===========
mkconf "$CONF" s1 "$K/k1.key" no "$RUN/f.pid"
sed -i 's/^Syslog .*/Syslog yes/' "$CONF"
wait_port_free 8891 15
start_bg f 8891 "$RELAYSIGN" -c "$CONF"
PID_F=$(rs_pid_of f)
devlog_said() {
	if [ -S /dev/log ]; then
		! grep -q "/dev/log is missing" "$T/f.log" || { cat "$T/f.log"; return 1; }
	else
		grep -q "warning: /dev/log is missing: no syslog daemon listens" "$T/f.log" ||
			{ echo "no warning: $(cat "$T/f.log")"; return 1; }
	fi
}
tap_check "(f) Syslog yes: a missing /dev/log is warned about on standard error at start ($( [ -S /dev/log ] && echo present || echo missing) here)" devlog_said
[ -n "$PID_F" ] && kill -TERM "$PID_F" 2>/dev/null
for ((i = 0; i < 100; i++)); do
	[ -n "$PID_F" ] && kill -0 "$PID_F" 2>/dev/null || break
	sleep 0.1
done
bg_sanitizer() {
	local f
	for f in "$RUN"/asan-bg* "$RUN"/ubsan-bg*; do
		[ -e "$f" ] || continue
		echo "$f:"
		head -30 "$f"
		return 1
	done
}
tap_check "(e) no sanitizer report from the daemon" bg_sanitizer

# === (g) a unix socket inside Postfix's chroot, started as root with UserID ===========
# As the README says: the socket under Postfix's queue directory, smtpd
# chrooted and running as user postfix, postfix in relaysign's group.  The
# socket must belong to the UserID user and group, mode 0770 (UMask 007).
SPOOL=$RS_TMP/postfix/spool
SOCKDIR=$SPOOL/relaysign
mkdir -p "$SOCKDIR" && chown "$USER_NAME:$USER_NAME" "$SOCKDIR" && chmod 0750 "$SOCKDIR"
groups_new=$(sed "s/^$USER_NAME:x:$gid:\$/$USER_NAME:x:$gid:postfix/" "$T/group")
printf '%s\n' "$groups_new" >"$T/group"    # in place: /etc/group is bound to it
mkconf "$CONF" s1 "$K/k1.key" no "$RUN/g.pid"
sed -i "s|^Socket .*|Socket              unix:$SOCKDIR/relaysign.sock|" "$CONF"
start_bg g 0 "$RELAYSIGN" -f -c "$CONF"
PID_G=$(rs_pid_of g)
for ((i = 0; i < 100; i++)); do
	[ -S "$SOCKDIR/relaysign.sock" ] && break
	sleep 0.1
done
sock_owned() {
	local st
	st=$(stat -c '%U:%G %A' "$SOCKDIR/relaysign.sock" 2>&1) || { echo "$st"; return 1; }
	[ "$st" = "$USER_NAME:$USER_NAME srwxrwx---" ] ||
		{ echo "socket is $st, want $USER_NAME:$USER_NAME srwxrwx---"; return 1; }
}
tap_check "(g) started as root with UserID: the unix socket is $USER_NAME:$USER_NAME, mode 0770 (UMask 007)" sock_owned
postconf -c "$RS_POSTFIX_DIR" -e "smtpd_milters = unix:relaysign/relaysign.sock" &&
	postconf -c "$RS_POSTFIX_DIR" -F "127.0.0.1:$RS_SMTP_PORT/inet/chroot = y" &&
	postfix -c "$RS_POSTFIX_DIR" reload >/dev/null 2>&1
sleep 1
send g1
tap_check "(g) Postfix's chrooted smtpd, as user postfix, reaches the socket: signed (s1), verifies" \
	signed_by s1
# A second relaysign on the same unix socket, no PidFile to lock: it must
# not take the socket from the running one (libmilter would unlink it).
grep -v '^PidFile' "$CONF" >"$T/g2.conf"
ino_before=$(stat -c %i "$SOCKDIR/relaysign.sock" 2>/dev/null)
second_socket_refused() {
	local out rc
	out=$(timeout 20 "$RELAYSIGN" -f -c "$T/g2.conf" 2>&1)
	rc=$?
	printf '%s\n' "$out"
	[ "$rc" = 1 ] || { echo "exit status $rc, want 1"; return 1; }
	printf '%s\n' "$out" | grep -q "listens on it; not started" || { echo "no clear refusal"; return 1; }
	[ "$(stat -c %i "$SOCKDIR/relaysign.sock" 2>/dev/null)" = "$ino_before" ] ||
		{ echo "the socket file was replaced"; return 1; }
}
tap_check "(g) a second relaysign on the same unix socket (no PidFile) refuses; the socket stays the first one's" \
	second_socket_refused
send g2
tap_check "(g) the first relaysign still signs through its socket (s1)" signed_by s1
[ -n "$PID_G" ] && kill -TERM "$PID_G" 2>/dev/null
for ((i = 0; i < 100; i++)); do
	[ -n "$PID_G" ] && kill -0 "$PID_G" 2>/dev/null || break
	sleep 0.1
done

if [ "$RS_TAP_FAILED" != 0 ]; then
	for l in a b b2; do
		[ -s "$T/$l.log" ] && diag_log "$T/$l.log" 10
	done
	diag_log "$(postfix_log)" 10
fi
tap_done
