# SPDX-License-Identifier: BSD-2-Clause
# shellcheck shell=bash
# tools/lib.sh -- shared helpers for relaysign's end-to-end tests, benchmarks
# and the demo.  Source it from a bash script (it uses bash features: arrays,
# local, [[ ]]):   . "${top_srcdir:-$(dirname "$0")/..}/tools/lib.sh"
# (--with-extra after it: tests/hostile/lib-extra.sh as well).
#
# ---------------------------------------------------------------------------
# The sandbox: why one `unshare --mount --net --pid` for the whole scenario
# ---------------------------------------------------------------------------
# Every scenario (DNS server, Postfix, relaysign or OpenDKIM, smtp-sink, the
# verifiers) runs inside ONE set of fresh Linux namespaces made by rs_sandbox:
#
#   unshare --mount --net --pid --fork --kill-child=TERM --mount-proc
#
#   --net    a private network stack with only a loopback (brought up with
#            `ip link set lo up`).  Ports 25, 53, 2526, 8891 inside it are
#            ours: nothing binds the host's ports, a system Postfix or
#            OpenDKIM on the host does not clash with us, two test runs do not
#            clash with each other, and no test traffic can leave the machine
#            (there is no route out: a stray real-DNS query fails at once).
#   --mount  a private mount table, so /etc/resolv.conf can be bind-mounted
#            over with `nameserver 127.0.0.1` + `options timeout:1 attempts:1`
#            for this scenario only: libspf2 (res_*), dkimpy's and Net::DNS's
#            default resolvers, Postfix -- everyone resolves against our
#            dnsserver.py, and the host's resolv.conf is never touched.
#   --pid    the script is PID 1 of a new PID namespace: when it exits (even on
#            SIGKILL or a crash), the kernel kills every process it started --
#            Postfix's daemonised master, a hung milter, the DNS server.  The
#            trap-driven stop_all still stops everything in order first (so
#            logs get flushed and Postfix shuts down cleanly); the namespace
#            is the safety net that makes "nothing left running" certain.
#            The outer shell forwards SIGINT/SIGTERM/HUP to the script inside
#            (as SIGTERM) so its trap runs; --kill-child=TERM covers the case
#            where unshare itself is SIGKILLed; --mount-proc gives ps/kill a
#            matching /proc.
#
# Postfix was checked to work inside such a namespace (3.7, Debian 12) when it
# is a PRIVATE instance with chroot switched off (see start_postfix), so no
# fallback to the host's network is needed.  Requirements: root (or
# CAP_SYS_ADMIN), util-linux unshare >= 2.32, iproute2.  If unshare fails
# (e.g. a container without CAP_SYS_ADMIN), rs_sandbox stops with a clear error.
#
# The temporary directory ($RS_TMP) lives on the host's /tmp (mode 0755 so the
# postfix and nobody users can reach their subdirectories) and is removed at
# exit unless RS_KEEP=1 (then its path is printed).
#
# ---------------------------------------------------------------------------
# Private Postfix instance
# ---------------------------------------------------------------------------
# start_postfix writes its own main.cf/master.cf under $RS_TMP/postfix/etc,
# with queue_directory, data_directory and maillog_file under $RS_TMP too, and
# runs `postfix -c DIR start`.  The system's /etc/postfix is only read (for
# postfix-files via meta_directory), never written.  chroot is off in our
# master.cf: a chrooted smtpd/smtp would need copies of resolv.conf etc. in
# the private queue directory, and milter unix sockets would have to live
# under it.  mail_owner is postfix, setgid_group postdrop (Debian's).
#
# Layout inside the sandbox (defaults, override by setting before use):
#   RS_DNS_ADDR=127.0.0.1   RS_DNS_PORT=53        dnsserver.py
#   RS_SMTP_PORT=25                               Postfix smtpd (127.0.0.1)
#   RS_SINK_PORT=2526                             smtp-sink
#   milter: whatever socket the caller gives start_postfix (e.g.
#   inet:127.0.0.1:8891 -- Postfix syntax; relaysign/OpenDKIM write it
#   inet:8891@127.0.0.1)
#
# Helpers (each wait is bounded; all return non-zero with a message on
# failure rather than exiting, unless named rs_die):
#   rs_sandbox "$0" "$@"      re-exec the calling script inside the namespaces
#   rs_init NAME              temp dir, traps, resolv.conf, loopback
#   rs_private_root           overlays over /etc /usr /var, tmpfs /run and /dev
#   start_dns ARGS...         dnsserver.py on 127.0.0.1:53 (ARGS: --rr/--zone...)
#   start_sink DIR            smtp-sink storing each message under DIR
#   start_postfix SOCKET [name=value...]   private Postfix, smtpd_milters=SOCKET
#   stop_postfix
#   start_bg NAME PORT CMD... run CMD in the background, log to $RS_TMP/NAME.log,
#                             wait until PORT listens (0 = don't wait)
#   bg_check NAME             still running? else RS_BG_WHY says how it ended
#   start_opendkim NAME PORT SELECTOR KEY ALG INTERNALHOSTS...   stand-in milter
#   send_via_xclient ADDR FROM TO HEADER_FROM [swaks args...]
#                             sets RS_LAST_QID and RS_LAST_SWAKS (transcript)
#   wait_delivered STRING [SECS]   prints the sink file containing STRING
#   wait_queue_empty [SECS]
#   stop_all                  stop everything started (the trap calls it)
#   TAP: tap_plan N, tap_check DESC CMD..., tap_ok/tap_not_ok DESC,
#        tap_status RC DESC, tap_skip DESC REASON, tap_diag,
#        tap_skip_all REASON, tap_done
#   Messages: hdr_block FILE, hdr_values FILE NAME, hdr_count FILE NAME,
#             diag_message FILE, diag_log FILE [N]
#   Keys: rs_keygen_rsa FILE [BITS], rs_keygen_ed25519 FILE,
#         rs_dkim_txt_rsa KEY, rs_dkim_txt_ed25519 KEY
#   Verifiers: verify_py FILE [args], verify_pl FILE [args]

: "${RS_DNS_ADDR:=127.0.0.1}"
: "${RS_DNS_PORT:=53}"
: "${RS_SMTP_PORT:=25}"
: "${RS_SINK_PORT:=2526}"
: "${RS_PY:=/usr/bin/python3}"
: "${RS_WAIT:=15}"              # default bound for start-up waits (seconds)

# The source tree (Automake's make check sets it; by hand, this file's own
# tree) and the build tree (the source tree unless said otherwise).
if [ -z "${top_srcdir:-}" ]; then
	top_srcdir=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
fi
: "${top_builddir:=$top_srcdir}"
top_srcdir=$(cd "$top_srcdir" && pwd)
top_builddir=$(cd "$top_builddir" && pwd)
export top_srcdir top_builddir

RS_NAME=${RS_NAME:-test}
RS_PIDS=()          # background processes, in start order
RS_PIDNAMES=()
RS_POSTFIX_DIR=""
RS_CLEANED=0

rs_log() { printf '%s: %s\n' "$RS_NAME" "$*" >&2; }
rs_die() { printf '%s: error: %s\n' "$RS_NAME" "$*" >&2; exit 1; }

# ------------------------------------------------------------------ sandbox

# rs_sandbox SCRIPT ARGS...: unless already inside, re-run SCRIPT with bash in
# fresh mount+net+pid namespaces (see the top of this file).  Returns only
# when already inside.
rs_sandbox() {
	local script=$1
	shift
	if [ "${RS_IN_SANDBOX:-}" = 1 ]; then
		return 0
	fi
	[ "$(id -u)" = 0 ] || rs_die "must run as root (it creates namespaces and runs Postfix)"
	command -v unshare >/dev/null || rs_die "unshare not found (apt-get install util-linux)"
	command -v ip >/dev/null || rs_die "ip not found (apt-get install iproute2)"
	local why
	if ! why=$(unshare --mount --net --pid --fork --mount-proc true 2>&1); then
		# unshare's own words first; then what they usually mean.
		case $why in
		*propagation*)
			rs_die "cannot create private namespaces: $why -- / is not a mount point (a plain chroot?); make the chroot's root one before entering it: mount --rbind DIR DIR (container runtimes do so)" ;;
		*"Operation not permitted"*)
			rs_die "cannot create private namespaces: $why -- needs root with CAP_SYS_ADMIN (a restricted container?)" ;;
		*)
			rs_die "cannot create private namespaces: ${why:-unshare failed with no message}" ;;
		esac
	fi
	export RS_IN_SANDBOX=1 top_srcdir top_builddir
	# Not `exec unshare`: with --fork, unshare blocks SIGINT/SIGTERM in itself
	# (util-linux 2.38), so a harness's SIGTERM to our pid would do nothing.
	# Stay as a small parent that forwards INT/TERM/HUP to the script (PID 1
	# inside), whose trap then stops everything.  (A background job of a
	# non-interactive shell starts with SIGINT ignored, which bash cannot
	# trap, so the forwarded signal is always TERM.)
	unshare --mount --net --pid --fork --kill-child=TERM --mount-proc \
		--propagation private bash "$script" "$@" &
	RS_UNSHARE_PID=$!
	trap 'rs_forward' INT TERM HUP
	local rc
	while :; do
		wait "$RS_UNSHARE_PID"
		rc=$?
		kill -0 "$RS_UNSHARE_PID" 2>/dev/null || break
	done
	exit "$rc"
}

rs_forward() {
	local child
	child=$(ps -o pid= --ppid "$RS_UNSHARE_PID" 2>/dev/null | head -1)
	if [ -n "$child" ]; then
		kill -TERM "$child" 2>/dev/null
	fi
}

# rs_init NAME: temp dir, cleanup traps, loopback up, private resolv.conf.
rs_init() {
	RS_NAME=${1:-$RS_NAME}
	[ "${RS_IN_SANDBOX:-}" = 1 ] || rs_die "rs_init: call rs_sandbox \"\$0\" \"\$@\" first"
	RS_TMP=$(mktemp -d "/tmp/relaysign-$RS_NAME.XXXXXX") || rs_die "mktemp failed"
	chmod 0755 "$RS_TMP"
	export RS_TMP
	trap 'rs_on_exit' EXIT
	trap 'rs_log "interrupted"; exit 130' INT
	trap 'rs_log "terminated"; exit 143' TERM HUP
	ip link set lo up || rs_die "cannot bring up loopback in the network namespace"
	printf 'nameserver %s\noptions timeout:1 attempts:1\n' "$RS_DNS_ADDR" >"$RS_TMP/resolv.conf"
	chmod 0644 "$RS_TMP/resolv.conf"
	if [ "$RS_DNS_PORT" != 53 ]; then
		rs_log "warning: RS_DNS_PORT=$RS_DNS_PORT: libc resolvers only use port 53"
	fi
	# /etc/resolv.conf may be a symlink (systemd-resolved): bind-mounting onto it
	# covers its target, which is just as private in this mount namespace.
	mount --bind "$RS_TMP/resolv.conf" /etc/resolv.conf ||
		rs_die "cannot bind-mount a private /etc/resolv.conf"
}

# rs_private_root: this machine's system as a throw-away root, inside the
# sandbox: overlays over /etc, /usr and /var (their changes in
# $RS_TMP/ov, gone with it), rs_init's resolv.conf bound again, an empty
# tmpfs on /run, and a tmpfs /dev with the usual nodes only (so that a
# syslog daemon's /dev/log is the test's).  For tests that install things
# (tests/ops/readme.sh, tests/ops/deb.sh).
rs_private_root() {
	local d n name ma mi
	for d in etc usr var; do
		mkdir -p "$RS_TMP/ov/$d-up" "$RS_TMP/ov/$d-work"
		mount -t overlay overlay \
			-o "lowerdir=/$d,upperdir=$RS_TMP/ov/$d-up,workdir=$RS_TMP/ov/$d-work" "/$d" ||
			rs_die "cannot mount an overlay over /$d"
	done
	mount --bind "$RS_TMP/resolv.conf" /etc/resolv.conf || rs_die "cannot bind resolv.conf"
	mount -t tmpfs -o mode=0755 tmpfs /run || rs_die "cannot mount a tmpfs on /run"
	mount -t tmpfs -o mode=0755 tmpfs /dev || rs_die "cannot mount a tmpfs on /dev"
	for n in null:1:3 zero:1:5 full:1:7 random:1:8 urandom:1:9 tty:5:0; do
		IFS=: read -r name ma mi <<<"$n"
		mknod -m 0666 "/dev/$name" c "$ma" "$mi" || rs_die "mknod /dev/$name"
	done
	ln -s /proc/self/fd /dev/fd && ln -s /proc/self/fd/0 /dev/stdin &&
		ln -s /proc/self/fd/1 /dev/stdout && ln -s /proc/self/fd/2 /dev/stderr &&
		mkdir -m 1777 /dev/shm || rs_die "cannot populate /dev"
}

rs_on_exit() {
	local rc=$?
	trap - EXIT INT TERM HUP
	stop_all
	if [ "${RS_KEEP:-0}" = 1 ]; then
		rs_log "kept $RS_TMP"
	elif [ -n "${RS_TMP:-}" ] && [ -d "$RS_TMP" ]; then
		rm -rf "$RS_TMP"
	fi
	exit "$rc"
}

# ------------------------------------------------------------ processes

# port_listening PORT [ADDR]: is there a TCP listener on ADDR (any) :PORT?
port_listening() {
	local out
	out=$(ss -Hltn "sport = :$1" 2>/dev/null) || return 1
	[ -n "$out" ] || return 1
	[ -z "${2:-}" ] && return 0
	case $out in *"$2:$1"* | *"*:$1"* | *"0.0.0.0:$1"*) return 0 ;; esac
	return 1
}

# wait_port PORT [SECS] [ADDR]: wait until a TCP listener is on ADDR:PORT.
wait_port() {
	local port=$1 secs=${2:-$RS_WAIT} addr=${3:-127.0.0.1} i
	for ((i = 0; i < secs * 10; i++)); do
		port_listening "$port" "$addr" && return 0
		sleep 0.1
	done
	return 1
}

# wait_port_free PORT [SECS]
wait_port_free() {
	local port=$1 secs=${2:-$RS_WAIT} i
	for ((i = 0; i < secs * 10; i++)); do
		ss -Hltn "sport = :$port" 2>/dev/null | grep -q . || return 0
		sleep 0.1
	done
	return 1
}

rs_track() {    # rs_track PID NAME
	RS_PIDS+=("$1")
	RS_PIDNAMES+=("$2")
}

rs_pid_of() {   # rs_pid_of NAME: the pid start_bg recorded
	local i
	for ((i = ${#RS_PIDS[@]} - 1; i >= 0; i--)); do
		if [ "${RS_PIDNAMES[i]}" = "$1" ]; then
			echo "${RS_PIDS[i]}"
			return 0
		fi
	done
	return 1
}

# bg_check NAME: succeed if NAME (started with start_bg/start_dns/...) still
# runs; otherwise fail and set RS_BG_STATUS to its exit status and
# RS_BG_WHY to words ("killed by SIGSEGV").  Call it directly, not in $(...):
# only this shell can collect its children's status.
declare -A RS_BG_EXIT=()
bg_check() {
	local pid st
	pid=$(rs_pid_of "$1") || { RS_BG_STATUS=""; RS_BG_WHY="never started"; return 1; }
	kill -0 "$pid" 2>/dev/null && return 0
	if [ -z "${RS_BG_EXIT[$pid]:-}" ]; then
		wait "$pid" 2>/dev/null
		RS_BG_EXIT[$pid]=$?
	fi
	st=${RS_BG_EXIT[$pid]}
	# shellcheck disable=SC2034  # for the caller
	RS_BG_STATUS=$st
	# shellcheck disable=SC2034  # for the caller
	if [ "$st" -gt 128 ] && [ "$st" -lt 160 ]; then
		RS_BG_WHY="killed by SIG$(kill -l $((st - 128)))"
	else
		RS_BG_WHY="exited with status $st"
	fi
	return 1
}

# start_bg NAME PORT CMD...: run CMD in the background with stdout+stderr in
# $RS_TMP/NAME.log; wait (bounded) until 127.0.0.1:PORT listens unless PORT is 0.
start_bg() {
	local name=$1 port=$2 pid
	shift 2
	"$@" >>"$RS_TMP/$name.log" 2>&1 &
	pid=$!
	rs_track "$pid" "$name"
	if [ "$port" != 0 ]; then
		local i
		for ((i = 0; i < RS_WAIT * 10; i++)); do
			if ! kill -0 "$pid" 2>/dev/null; then
				wait "$pid"
				rs_log "$name exited at start-up (status $?); its log:"
				sed 's/^/    /' "$RS_TMP/$name.log" | tail -20 >&2
				return 1
			fi
			port_listening "$port" && return 0
			sleep 0.1
		done
		rs_log "$name did not listen on port $port within ${RS_WAIT}s; its log:"
		tail -20 "$RS_TMP/$name.log" | sed 's/^/    /' >&2
		return 1
	fi
}

# stop_pid PID [SECS]: SIGTERM, wait up to SECS (default 10), then SIGKILL.
stop_pid() {
	local pid=$1 secs=${2:-10} i
	kill -0 "$pid" 2>/dev/null || { wait "$pid" 2>/dev/null; return 0; }
	kill -TERM "$pid" 2>/dev/null
	for ((i = 0; i < secs * 10; i++)); do
		kill -0 "$pid" 2>/dev/null || { wait "$pid" 2>/dev/null; return 0; }
		sleep 0.1
	done
	kill -KILL "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	return 1
}

# stop_bg NAME [SECS]
stop_bg() {
	local pid
	pid=$(rs_pid_of "$1") || return 0
	stop_pid "$pid" "${2:-10}" || rs_log "$1 (pid $pid) ignored SIGTERM; killed"
}

# stop_all: Postfix first (no new milter sessions), then everything else,
# all SIGTERMed at once and waited for together (libmilter may take ~5 s).
stop_all() {
	[ "$RS_CLEANED" = 1 ] && return 0
	RS_CLEANED=1
	stop_postfix
	local pid i alive
	for pid in "${RS_PIDS[@]}"; do
		kill -TERM "$pid" 2>/dev/null
	done
	for ((i = 0; i < 100; i++)); do
		alive=0
		for pid in "${RS_PIDS[@]}"; do
			kill -0 "$pid" 2>/dev/null && alive=1
		done
		[ "$alive" = 0 ] && break
		sleep 0.1
	done
	for pid in "${RS_PIDS[@]}"; do
		kill -KILL "$pid" 2>/dev/null
		wait "$pid" 2>/dev/null
	done
	RS_PIDS=()
	RS_PIDNAMES=()
	return 0
}

# ------------------------------------------------------------------ DNS

# start_dns ARGS...: run dnsserver.py on $RS_DNS_ADDR:$RS_DNS_PORT with ARGS
# (--rr 'NAME TYPE VALUE', --zone FILE, --json FILE, --servfail, --drop...).
# Query log: $RS_TMP/dns-queries.log.
start_dns() {
	local ready="$RS_TMP/dns.ready" i pid
	rm -f "$ready"
	"$RS_PY" "$top_srcdir/tests/e2e/dnsserver.py" --address "$RS_DNS_ADDR" \
		--port "$RS_DNS_PORT" --ready "$ready" --log "$RS_TMP/dns-queries.log" \
		"$@" >>"$RS_TMP/dns.log" 2>&1 &
	pid=$!
	rs_track "$pid" dns
	for ((i = 0; i < RS_WAIT * 10; i++)); do
		[ -s "$ready" ] && return 0
		if ! kill -0 "$pid" 2>/dev/null; then
			rs_log "dnsserver.py failed to start:"
			sed 's/^/    /' "$RS_TMP/dns.log" >&2
			return 1
		fi
		sleep 0.1
	done
	rs_log "dnsserver.py not ready within ${RS_WAIT}s"
	return 1
}

# reload_dns: make dnsserver.py re-read its files (SIGHUP).
reload_dns() {
	local pid
	pid=$(rs_pid_of dns) && kill -HUP "$pid"
}

# ----------------------------------------------------------------- sink

# start_sink DIR: Postfix's smtp-sink on 127.0.0.1:$RS_SINK_PORT, one file per
# message under DIR (named by smtp-sink: DIR/YYYYmmddHHMMSS.<random hex>).
# Each file holds smtp-sink's X-Client-Addr/X-Mail-Args/X-Rcpt-Args/Received
# lines, then the message as received, then an empty line (harmless to DKIM:
# canonicalisation ignores trailing empty lines; the extra header lines are
# not signed).
start_sink() {
	local dir=$1
	mkdir -p "$dir" && chown nobody "$dir" || return 1
	start_bg sink "$RS_SINK_PORT" smtp-sink -u nobody -d "$dir/%Y%m%d%H%M%S." \
		"127.0.0.1:$RS_SINK_PORT" 1000
	RS_SINK_DIR=$dir
}

# wait_delivered STRING [SECS]: print the path of the (first) sink file that
# contains STRING (fixed string); fail after SECS (default 20).
wait_delivered() {
	local s=$1 secs=${2:-20} i f
	local size last=-1
	for ((i = 0; i < secs * 10; i++)); do
		f=$(grep -rlF -- "$s" "$RS_SINK_DIR" 2>/dev/null | head -1)
		[ -n "$f" ] && break
		sleep 0.1
	done
	[ -n "$f" ] || return 1
	# smtp-sink writes the file as the data arrives: a large message is
	# found by its headers long before it is whole.  Wait until it stops
	# growing: 0.2 s unchanged, 1 s for a file of a megabyte or more.
	for (( ; i < secs * 10; i += 2)); do
		size=$(stat -c %s "$f" 2>/dev/null) || return 1
		if [ "$size" = "$last" ]; then
			echo "$f"
			return 0
		fi
		last=$size
		if [ "$size" -ge 1048576 ]; then sleep 1; i=$((i + 8)); else sleep 0.2; fi
	done
	echo "$f"
}

# -------------------------------------------------------------- Postfix

# start_postfix MILTER_SOCKET [name=value ...]: the scenario's private Postfix
# (rs_postfix) in $RS_TMP/postfix, smtpd on 127.0.0.1:$RS_SMTP_PORT.
start_postfix() {
	local milter=$1
	shift
	RS_POSTFIX_DIR="$RS_TMP/postfix/etc"
	rs_postfix "$RS_TMP/postfix" 127.0.0.1 "$RS_SMTP_PORT" "$milter" "$@"
}

# rs_postfix DIR ADDR PORT MILTER_SOCKET [name=value ...]: a private Postfix
# instance in DIR (etc/, spool/, data/, maillog) with smtpd on ADDR:PORT,
# relaying everything to the sink, with smtpd_milters=MILTER_SOCKET (Postfix
# syntax: inet:127.0.0.1:8891 or unix:/path; "" = no milter).  Extra
# name=value pairs go to main.cf last; RS_POSTFIX_MASTER, if set, is
# appended to master.cf.  Returns once smtpd listens.
rs_postfix() {
	local d=$1 addr=$2 port=$3 milter=$4
	shift 4
	mkdir -p "$d/etc" "$d/spool" "$d/data" || return 1
	chown postfix "$d/data"
	cat >"$d/etc/main.cf" <<-EOF
	# private Postfix instance for relaysign's tests (tools/lib.sh)
	compatibility_level = 3.6
	config_directory = $d/etc
	queue_directory = $d/spool
	data_directory = $d/data
	mail_owner = postfix
	setgid_group = postdrop
	myhostname = relay.test
	mydomain = relay.test
	myorigin = relay.test
	mydestination =
	local_recipient_maps =
	alias_maps =
	alias_database =
	biff = no
	append_dot_mydomain = no
	inet_interfaces = $addr
	inet_protocols = ipv4
	mynetworks = 127.0.0.0/8 192.0.2.0/24 198.51.100.0/24 203.0.113.0/24
	smtpd_authorized_xclient_hosts = 127.0.0.0/8
	smtpd_relay_restrictions = permit_mynetworks reject
	smtpd_milters = $milter
	non_smtpd_milters =
	milter_default_action = tempfail
	milter_protocol = 6
	relayhost = [127.0.0.1]:$RS_SINK_PORT
	default_transport = smtp
	relay_transport = smtp
	smtp_tls_security_level = none
	smtpd_tls_security_level = none
	smtp_dns_support_level = disabled
	disable_dns_lookups = yes
	smtpd_peername_lookup = no
	maillog_file_prefixes = $RS_TMP
	maillog_file = $d/maillog
	in_flow_delay = 0
	smtpd_client_connection_count_limit = 0
	smtpd_client_connection_rate_limit = 0
	smtpd_client_message_rate_limit = 0
	EOF
	# smtpd listens on ADDR:PORT; no chroot anywhere.
	cat >"$d/etc/master.cf" <<-EOF
	$addr:$port inet n - n - - smtpd
	pickup    unix  n       -       n       60      1       pickup
	cleanup   unix  n       -       n       -       0       cleanup
	qmgr      unix  n       -       n       300     1       qmgr
	rewrite   unix  -       -       n       -       -       trivial-rewrite
	bounce    unix  -       -       n       -       0       bounce
	defer     unix  -       -       n       -       0       bounce
	trace     unix  -       -       n       -       0       bounce
	verify    unix  -       -       n       -       1       verify
	flush     unix  n       -       n       1000?   0       flush
	proxymap  unix  -       -       n       -       -       proxymap
	proxywrite unix -       -       n       -       1       proxymap
	smtp      unix  -       -       n       -       -       smtp
	relay     unix  -       -       n       -       -       smtp
	showq     unix  n       -       n       -       -       showq
	error     unix  -       -       n       -       -       error
	retry     unix  -       -       n       -       -       error
	discard   unix  -       -       n       -       -       discard
	anvil     unix  -       -       n       -       1       anvil
	scache    unix  -       -       n       -       1       scache
	postlog   unix-dgram n  -       n       -       1       postlogd
	EOF
	# RS_POSTFIX_MASTER: more master.cf lines (a content filter's reinjection service).
	[ -n "${RS_POSTFIX_MASTER:-}" ] && printf '%s\n' "$RS_POSTFIX_MASTER" >>"$d/etc/master.cf"
	local kv
	for kv in "$@"; do
		postconf -c "$d/etc" -e "$kv" || { rs_log "bad postconf setting: $kv"; return 1; }
	done
	if ! postfix -c "$d/etc" check >"$d/check.log" 2>&1; then
		rs_log "postfix check failed:"
		sed 's/^/    /' "$d/check.log" >&2
		return 1
	fi
	if ! timeout 30 postfix -c "$d/etc" start >"$d/start.log" 2>&1; then
		rs_log "postfix start failed:"
		sed 's/^/    /' "$d/start.log" "$d/maillog" 2>/dev/null | tail -20 >&2
		return 1
	fi
	if ! wait_port "$port" "$RS_WAIT" "$addr"; then
		rs_log "Postfix did not listen on $addr:$port; maillog:"
		tail -20 "$d/maillog" 2>/dev/null | sed 's/^/    /' >&2
		return 1
	fi
}

# stop_postfix: `postfix stop` (bounded); SIGKILL the master if it lingers.
stop_postfix() {
	[ -n "$RS_POSTFIX_DIR" ] || return 0
	local d=$RS_POSTFIX_DIR pid=""
	pid=$(tr -d ' ' <"$RS_TMP/postfix/spool/pid/master.pid" 2>/dev/null)
	timeout 20 postfix -c "$d" stop >/dev/null 2>&1
	if [ -n "$pid" ]; then
		local i
		for ((i = 0; i < 100; i++)); do
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.1
		done
		kill -KILL "$pid" 2>/dev/null
	fi
	RS_POSTFIX_DIR=""
}

# wait_queue_empty [SECS]: wait until the private Postfix queue is empty.
wait_queue_empty() {
	local secs=${1:-30} i
	for ((i = 0; i < secs * 5; i++)); do
		if postqueue -c "$RS_POSTFIX_DIR" -p 2>/dev/null | grep -q '^Mail queue is empty'; then
			return 0
		fi
		sleep 0.2
	done
	rs_log "queue not empty after ${secs}s:"
	postqueue -c "$RS_POSTFIX_DIR" -p 2>&1 | tail -20 | sed 's/^/    /' >&2
	return 1
}

# postfix_log: path of the private instance's maillog.
postfix_log() { echo "$RS_TMP/postfix/maillog"; }

# send_via_xclient ADDR FROM TO HEADER_FROM [swaks args...]: one message via
# XCLIENT ADDR=ADDR (Postfix then opens the milter session as if ADDR had
# connected; its name is $RS_XCLIENT_NAME, default [UNAVAILABLE], so Postfix
# does no reverse lookup).  HEADER_FROM "" leaves swaks's default From.  Sets RS_LAST_QID
# (Postfix queue id, empty on failure) and RS_LAST_SWAKS (transcript path).
RS_SEND_N=0
send_via_xclient() {
	local addr=$1 from=$2 to=$3 hfrom=$4 rc
	shift 4
	RS_SEND_N=$((RS_SEND_N + 1))
	RS_LAST_SWAKS="$RS_TMP/swaks.$RS_SEND_N.log"
	local args=(--server "127.0.0.1:$RS_SMTP_PORT" --timeout 30
		--xclient-addr "$addr" --xclient-name "${RS_XCLIENT_NAME:-[UNAVAILABLE]}"
		--from "$from" --to "$to" --helo client.test)
	[ -n "$hfrom" ] && args+=(--header "From: $hfrom")
	timeout 60 swaks "${args[@]}" "$@" >"$RS_LAST_SWAKS" 2>&1
	rc=$?
	RS_LAST_QID=$(sed -n 's/.*queued as \([0-9A-Za-z]*\).*/\1/p' "$RS_LAST_SWAKS" | tail -1)
	if [ "$rc" != 0 ] || [ -z "$RS_LAST_QID" ]; then
		rs_log "swaks failed (status $rc):"
		grep -E '^ *(<|\*\*\*)' "$RS_LAST_SWAKS" | tail -8 | sed 's/^/    /' >&2
		return 1
	fi
}

# ---------------------------------------------------------------- milters

# start_opendkim NAME PORT SELECTOR KEYFILE ALG DOMAIN INTERNALHOSTS...
# OpenDKIM as a stand-in signing milter (one algorithm per instance) on
# inet:PORT@127.0.0.1, signing *@DOMAIN mail from INTERNALHOSTS.
start_opendkim() {
	local name=$1 port=$2 sel=$3 key=$4 alg=$5 dom=$6 d
	shift 6
	d="$RS_TMP/$name"
	mkdir -p "$d"
	printf '%s %s:%s:%s\n' "$sel" "$dom" "$sel" "$key" >"$d/keytable"
	printf '*@%s %s\n' "$dom" "$sel" >"$d/signingtable"
	printf '%s\n' "$@" >"$d/internalhosts"
	cat >"$d/opendkim.conf" <<-EOF
	Syslog no
	Background no
	Mode s
	Socket inet:$port@127.0.0.1
	PidFile $d/pid
	KeyTable file:$d/keytable
	SigningTable refile:$d/signingtable
	InternalHosts $d/internalhosts
	SignatureAlgorithm $alg
	Canonicalization relaxed/relaxed
	AuthservID relay.test
	# Keys live under \$RS_TMP in /tmp: OpenDKIM's safe-key check also looks at
	# every parent directory and refuses a key below a world-writable /tmp
	# (seen: 451 for every message, nothing logged without syslog).
	RequireSafeKeys no
	EOF
	opendkim -n -x "$d/opendkim.conf" || { rs_log "opendkim -n rejected $d/opendkim.conf"; return 1; }
	start_bg "$name" "$port" opendkim -f -x "$d/opendkim.conf" -v
}

# --------------------------------------------------------------- keys

rs_keygen_rsa() {       # FILE [BITS]
	openssl genpkey -algorithm RSA -pkeyopt "rsa_keygen_bits:${2:-2048}" -out "$1" 2>/dev/null &&
		chmod 0600 "$1"
}
rs_keygen_ed25519() {   # FILE
	openssl genpkey -algorithm ed25519 -out "$1" 2>/dev/null && chmod 0600 "$1"
}
rs_dkim_txt_rsa() {     # KEY -> DKIM TXT value
	printf 'v=DKIM1; k=rsa; p=%s' "$(openssl pkey -in "$1" -pubout -outform DER 2>/dev/null | base64 -w0)"
}
rs_dkim_txt_ed25519() { # KEY -> DKIM TXT value (raw 32-byte key, RFC 8463)
	printf 'v=DKIM1; k=ed25519; p=%s' "$(openssl pkey -in "$1" -pubout -outform DER 2>/dev/null | tail -c 32 | base64 -w0)"
}

# ----------------------------------------------------------- verifiers

verify_py() {   # FILE [args]: dkimpy, against our DNS server
	local f=$1
	shift
	"$RS_PY" "$top_srcdir/tests/e2e/verify.py" --dns "$RS_DNS_ADDR:$RS_DNS_PORT" "$@" "$f"
}
verify_pl() {   # FILE [args]: Mail::DKIM, against our DNS server
	local f=$1
	shift
	perl "$top_srcdir/tests/e2e/verify.pl" --dns "$RS_DNS_ADDR:$RS_DNS_PORT" "$@" "$f"
}

# ------------------------------------------------------------ messages

# hdr_block FILE: the header block, unfolded (RFC 5322: line breaks removed,
# the folding whitespace kept), one field a line.
hdr_block() {
	awk '/^\r?$/ { exit }
	     /^[ \t]/ { sub(/\r$/, ""); cur = cur $0; next }
	     { if (cur != "") print cur; sub(/\r$/, ""); cur = $0 }
	     END { if (cur != "") print cur }' "$1"
}
# hdr_values FILE NAME: the (unfolded) values of every NAME field, one a line.
hdr_values() {
	hdr_block "$1" | awk -v n="$2" 'BEGIN { n = tolower(n) ":" }
		tolower(substr($0, 1, length(n))) == n {
			v = substr($0, length(n) + 1); sub(/^[ \t]+/, "", v); print v }'
}
hdr_count() { hdr_values "$1" "$2" | wc -l; }

# dkim_tag TAG VALUE: the value of tag TAG in a DKIM-Signature value.
dkim_tag() {
	tr -d ' \t\r\n' <<<"$2" | tr ';' '\n' | sed -n "s/^$1=//p" | head -1
}

# ar_by FILE AUTHSERV: the Authentication-Results values whose authserv-id is AUTHSERV.
ar_by() {
	hdr_values "$1" Authentication-Results |
		awk -v id="$2" '{ s = $0; sub(/[ \t]*;.*/, "", s); sub(/[ \t].*/, "", s)
		                  if (tolower(s) == tolower(id)) print }'
}

# ------------------------------------------------------------------ TAP

RS_TAP_N=0
RS_TAP_FAILED=0
tap_plan() { echo "1..$1"; RS_TAP_PLAN=$1; }
tap_ok() { RS_TAP_N=$((RS_TAP_N + 1)); echo "ok $RS_TAP_N - $*"; }
tap_not_ok() {
	RS_TAP_N=$((RS_TAP_N + 1))
	RS_TAP_FAILED=$((RS_TAP_FAILED + 1))
	echo "not ok $RS_TAP_N - $*"
}
# tap_status RC DESC: ok when RC (a command's status, $?) is 0.
tap_status() {
	if [ "$1" = 0 ]; then tap_ok "$2"; else tap_not_ok "$2"; fi
}
# tap_skip DESC REASON: one test skipped, with the reason.
tap_skip() { RS_TAP_N=$((RS_TAP_N + 1)); echo "ok $RS_TAP_N - $1 # SKIP $2"; }
tap_diag() { printf '%s\n' "$@" | sed 's/^/# /'; }
# tap_check DESC CMD...: ok if CMD succeeds; otherwise not ok + CMD's output,
# given to the function RS_TAP_WHY names if the script set one (its own
# diagnostics: the message, the logs), else printed.
tap_check() {
	local desc=$1 out
	shift
	if out=$("$@" 2>&1); then
		tap_ok "$desc"
		return 0
	fi
	tap_not_ok "$desc"
	if [ -n "${RS_TAP_WHY:-}" ]; then
		"$RS_TAP_WHY" "$out"
	elif [ -n "$out" ]; then
		tap_diag "$out"
	fi
	return 1
}
# rs_require_tools TOOL...: TAP "Bail out!" (exit 1) naming the first tool
# that is not installed: a missing tool is a broken machine, not a skip.
rs_require_tools() {
	local tool
	for tool in "$@"; do
		command -v "$tool" >/dev/null ||
			{ echo "Bail out! $tool not found (run tools/setup-debian.sh)"; exit 1; }
	done
}
# rs_require_pydkim: the independent verifier and the test DNS server's
# library, or the run bails out.
rs_require_pydkim() {
	"$RS_PY" -c 'import dkim, dnslib' 2>/dev/null ||
		{ echo "Bail out! $RS_PY lacks dkim/dnslib (apt-get install python3-dkim python3-dnslib)"; exit 1; }
}
# rs_test_needs WHY TOOL...: the prologue of a test that runs a built
# relaysign as root in private namespaces: skipped (TAP) when not root
# ("needs root (WHY)") or relaysign is not built; bails out when a TOOL or
# python3-dkim/dnslib is missing.  Sets RELAYSIGN if it is not set.
rs_test_needs() {
	local why=$1
	shift
	RELAYSIGN=${RELAYSIGN:-$top_builddir/relaysign}
	[ "$(id -u)" = 0 ] || tap_skip_all "needs root ($why)"
	[ -x "$RELAYSIGN" ] || tap_skip_all "relaysign not built ($RELAYSIGN)"
	rs_require_tools "$@"
	rs_require_pydkim
}
# tap_skip_all REASON: the whole script is skipped (TAP plan 1..0).  Under
# RELAYSIGN_REQUIRE_ALL=1 (tools/test.sh, so CI) a skip is a failure.
tap_skip_all() {
	if [ -n "${RELAYSIGN_REQUIRE_ALL:-}" ]; then
		echo "Bail out! cannot run, and RELAYSIGN_REQUIRE_ALL is set: $*"
		exit 1
	fi
	echo "1..0 # SKIP $*"
	exit 0
}
# tap_done: pad missing tests as failures, exit 0 only if all passed.
tap_done() {
	while [ -n "${RS_TAP_PLAN:-}" ] && [ "$RS_TAP_N" -lt "$RS_TAP_PLAN" ]; do
		tap_not_ok "not run (an earlier step failed)"
	done
	[ "$RS_TAP_FAILED" = 0 ] && [ "$RS_TAP_N" -gt 0 ]
}

# diag_message FILE: the message's header block as TAP diagnostics.
diag_message() {
	if [ -n "${1:-}" ] && [ -f "$1" ]; then
		tap_diag "headers of $1:"
		hdr_block "$1" | cut -c1-300 | sed 's/^/  /' | sed 's/^/# /'
	else
		tap_diag "(no delivered message)"
	fi
}
# diag_log FILE [N]: the last N (default 15) lines of a log as diagnostics.
diag_log() {
	tap_diag "last lines of $1:"
	tail -n "${2:-15}" "$1" 2>/dev/null | sed 's/^/#   /'
}

# rs_bench_args NAME ARGS...: a benchmark's options: --quick (sets QUICK=1),
# --keep (RS_KEEP=1: the temp dir stays), -h/--help (the script's header
# comment); anything else is a usage error naming NAME.
rs_bench_args() {
	local name=$1 arg
	shift
	QUICK=0
	for arg in "$@"; do
		case $arg in
		--quick) QUICK=1 ;;
		--keep) export RS_KEEP=1 ;;
		-h | --help)
			sed -n '3,/^set -u/p' "$0" | sed 's/^# \{0,1\}//;/^set -u/d'
			exit 0
			;;
		*)
			echo "usage: $name [--quick] [--keep]" >&2
			exit 2
			;;
		esac
	done
}

# rs_bench_write REPORT OUT LOG: a benchmark's end: REPORT printed and copied
# to OUT, LOG beside it (OUT's name with .log); says where on stderr.
rs_bench_write() {
	cat "$1"
	if mkdir -p "$(dirname "$2")" && cp "$1" "$2"; then
		rs_log "wrote $2"
	else
		rs_log "could not write $2"
	fi
	cp "$3" "${2%.md}.log" 2>/dev/null
}

# ". tools/lib.sh --with-extra": tests/hostile/lib-extra.sh's helpers too
# (relaysign behind a private Postfix: rx_*).
if [ "${1:-}" = --with-extra ]; then
	# shellcheck source=tests/hostile/lib-extra.sh
	. "$top_srcdir/tests/hostile/lib-extra.sh"
fi
