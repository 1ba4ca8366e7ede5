#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# tests/ops/readme.sh -- the README's install section, run as written (TAP).
#
# Issue 10: "the README install section, followed literally on a fresh
# Debian 12, ends with a signed notice and its log line found where the
# README says."  This test takes the section's shell blocks out of README.md
# mechanically and runs them, in order, in one root shell (so a variable set
# in one step is there in the next, as in a postmaster's terminal), with the
# current directory at the top of the source tree (README: "in a checkout of
# this repository").
#
# What is taken from README.md, between <!-- readme-test: begin --> and
# <!-- readme-test: end -->:
#   - every ```sh block: run line by line, under set -e;
#   - a plain ``` block right after <!-- readme-test: write PATH --> or
#     <!-- readme-test: append PATH -->: the file the text tells the reader
#     to write (or add the lines to);
#   - every other block (a sample log line) is text, not run.
# A reader sees the comments as nothing at all.
#
# Where it runs: tools/lib.sh's private mount+net+pid namespace (loopback
# only, /etc/resolv.conf pointing at tests/e2e/dnsserver.py), and inside it
# the system directories the README writes to are private and thrown away
# at the end: overlay file systems over /etc, /usr and /var (their upper
# layers in the test's temporary directory), an empty tmpfs on /run, and a
# tmpfs /dev holding only the usual device nodes (so a syslog daemon's
# /dev/log is ours, not the host's).  So adduser, make install, Postfix's
# and Dovecot's configuration, the spool, /var/log/mail.log all happen for
# real, and the host never sees any of it.
#
# The machine before the README (what a fresh Debian 12 with the packages
# has, and this rig lacks):
#   - running, as their packages start them on Debian: rsyslogd (Debian's
#     /etc/rsyslog.conf, without imklog: the kernel's log belongs to the
#     host), Postfix (/usr/lib/postfix/configure-instance.sh, postfix
#     start) and Dovecot;
#   - Postfix as "Internet Site", sending mail on by SMTP: this rig's
#     Postfix was installed "Local only" (default_transport = error).  The
#     Internet here is smtp-sink on 127.0.0.1:2526, reached as relayhost,
#     so nothing leaves loopback;
#   - Debian's self-signed certificate (ssl-cert's postinst; here made with
#     make-ssl-cert if missing, and linked for Dovecot as dovecot-core's
#     postinst does);
#   - DNS: the campus's names (mail.example.edu, the relay, at 127.0.0.1)
#     and Ex Libris's SPF, on the test DNS server; the DKIM record is
#     published from what the README's keygen step printed (README step 3:
#     "publish the TXT record it printed").
#
# Lines that cannot run as written: the substitution table SUBST below,
# each entry exact (a README line that no longer matches an entry fails the
# test, so the table cannot drift) and explained.
#
# Then it checks: every block ran; relaysign runs as user relaysign and its
# socket belongs to it; the test notice the README sends was accepted,
# delivered with a DKIM-Signature that dkimpy verifies against the published
# key, and its relaysign log line (action=signed) is in /var/log/mail.log,
# where the README says.
#
# Environment: top_srcdir, top_builddir (as Automake sets them; the build
# tree is what the README's "make install" installs), RS_KEEP=1 keeps the
# temporary directory (README_RUN.sh, each block's output, the logs).
# Takes about 30 s.
set -u

# shellcheck source=tools/lib.sh
. "${top_srcdir:-$(dirname "$0")/../..}/tools/lib.sh"

RELAYSIGN=$top_builddir/relaysign	# the built tree's, whatever the caller set
rs_test_needs "namespaces, overlay mounts, a real Postfix" postfix postconf smtp-sink swaks \
	openssl unshare ip ss make rsyslogd dovecot doveadm adduser make-ssl-cert

rs_sandbox "$0" "$@"
rs_init ops-readme

T=$RS_TMP
RD=$T/readme            # the generated script, each block's output
SINK=$T/sink
mkdir -p "$RD"

# --- the substitution table ------------------------------------------------------
# README line (exact, leading blanks removed) -> what runs instead.  Every
# entry must match exactly one line of the section.
declare -A SUBST=()
declare -A WHY=()
# The build: the tree under test is already configured and built (make
# check runs in it; a second build from scratch would take minutes).  What
# the README's configure line decides is where "make install" puts things,
# so the install below passes the same directories.
SUBST['./autogen.sh && ./configure --prefix=/usr --sysconfdir=/etc --localstatedir=/var']=':'
WHY['./autogen.sh && ./configure --prefix=/usr --sysconfdir=/etc --localstatedir=/var']='the build tree is already configured'
# shellcheck disable=SC2016  # expanded by the shell that runs the README
SUBST['make && make install']='make -C "$top_builddir" --no-print-directory install prefix=/usr sysconfdir=/etc localstatedir=/var'
WHY['make && make install']='install from the already built tree, with the README'\''s directories'
SUBST_FILE=$T/subst
: >"$SUBST_FILE"
for k in "${!SUBST[@]}"; do
	printf '%s\t%s\n' "$k" "${SUBST[$k]}" >>"$SUBST_FILE"
done

# --- extract the install section ---------------------------------------------------
# Writes $RD/run.sh: a prelude, then for each block "readme_begin N", the
# block, "readme_end N".  Lines of sh blocks found in $SUBST_FILE are
# replaced.  $RD/blocks lists "N kind first-line" for the report.
extract() {
	awk -v subst="$SUBST_FILE" -v rd="$RD" '
	BEGIN {
		FS = "\n"
		while ((getline l < subst) > 0) {
			i = index(l, "\t")
			sub_from[substr(l, 1, i - 1)] = substr(l, i + 1)
			sub_used[substr(l, 1, i - 1)] = 0
		}
		n = 0; insec = 0; inblk = 0; directive = ""
	}
	/<!-- readme-test: begin -->/ { insec = 1; next }
	/<!-- readme-test: end -->/ { insec = 0; next }
	!insec { next }
	!inblk && /<!-- readme-test: (write|append) [^ ]+ -->/ {
		directive = $0
		sub(/.*<!-- readme-test: /, "", directive)
		sub(/ -->.*/, "", directive)
		next
	}
	!inblk && /^[ \t]*```/ {
		indent = $0; sub(/```.*/, "", indent); ilen = length(indent)
		lang = $0; sub(/^[ \t]*```/, "", lang)
		if (lang == "sh") {
			kind = "sh"
		} else if (directive != "") {
			split(directive, d, " "); kind = d[1]; path = d[2]
		} else {
			kind = "text"
		}
		directive = ""
		inblk = 1
		if (kind != "text") {
			n++
			printf "readme_begin %d\n", n
			if (kind == "write")
				printf "cat >%s <<'\''README_EOF'\''\n", path
			else if (kind == "append")
				printf "cat >>%s <<'\''README_EOF'\''\n", path
		}
		first = ""
		next
	}
	inblk && /^[ \t]*```[ \t]*$/ {
		inblk = 0
		if (kind == "write" || kind == "append")
			print "README_EOF"
		if (kind != "text") {
			printf "readme_end %d\n", n
			if (kind == "sh")
				printf "%d sh %s\n", n, first > (rd "/blocks")
			else
				printf "%d %s %s\n", n, kind, path > (rd "/blocks")
		}
		next
	}
	inblk {
		if (kind == "text")
			next
		line = $0
		if (substr(line, 1, ilen) == indent)
			line = substr(line, ilen + 1)
		if (first == "")
			first = line
		if (kind == "sh") {
			key = line; sub(/^[ \t]+/, "", key); sub(/[ \t]+$/, "", key)
			if (key in sub_from) {
				sub_used[key]++
				printf "%s    # README: %s\n", sub_from[key], key
				next
			}
		}
		print line
	}
	END {
		for (k in sub_used)
			if (sub_used[k] != 1)
				printf "%d\t%s\n", sub_used[k], k > (rd "/subst-unmatched")
		if (inblk)
			print "unterminated block" > (rd "/extract-error")
	}' "$top_srcdir/README.md"
}

{
	cat <<-'EOF'
	# Generated by tests/ops/readme.sh from README.md's install section.
	readme_begin() {
		RS_README_BLOCK=$1
		exec >"$RD/block.$1.out" 2>&1
	}
	readme_end() {
		exec >&3 2>&4
		touch "$RD/block.$1.ok"
		readme_after "$1"
	}
	# After each block: publish what a keygen run printed (README step 3).
	readme_after() {
		local f=$RD/block.$1.out
		grep -q '_domainkey\..* IN TXT (' "$f" || return 0
		"$RS_PY" - "$f" >>"$RD/dns.records" <<-'PY'
		import re, sys
		text = open(sys.argv[1]).read()
		for m in re.finditer(r'^(\S+)\s+IN\s+TXT\s+\((.*?)\)', text, re.S | re.M):
		    print(m.group(1).rstrip('.') + ' TXT ' + ''.join(re.findall(r'"([^"]*)"', m.group(2))))
		PY
		kill -HUP "$RS_DNS_PID"
		# The server re-reads its files when the signal arrives: wait
		# (at most 5 s) until it serves the last record published.
		"$RS_PY" - "$(tail -1 "$RD/dns.records" | cut -d' ' -f1)" <<-'PY'
		import sys, time
		from dnslib import DNSRecord, QTYPE
		for _ in range(50):
		    try:
		        r = DNSRecord.parse(DNSRecord.question(sys.argv[1], 'TXT').send('127.0.0.1', 53, timeout=1))
		        if any(rr.rtype == QTYPE.TXT for rr in r.rr):
		            sys.exit(0)
		    except Exception:
		        pass
		    time.sleep(0.1)
		sys.exit('the DNS server does not serve ' + sys.argv[1])
		PY
	}
	exec 3>&1 4>&2
	cd "$top_srcdir"
	set -e
	EOF
	extract
} >"$RD/run.sh"

if [ -s "$RD/extract-error" ] || [ ! -s "$RD/blocks" ]; then
	echo "Bail out! cannot read the install section of README.md: $(cat "$RD/extract-error" 2>/dev/null)"
	exit 1
fi
NBLOCKS=$(wc -l <"$RD/blocks")
tap_plan $((NBLOCKS + 9))
tap_diag "README.md install section: $NBLOCKS blocks run:" "$(cat "$RD/blocks")"
for k in "${!WHY[@]}"; do
	tap_diag "substituted: '$k' -> ${WHY[$k]}"
done
if [ -s "$RD/subst-unmatched" ]; then
	tap_not_ok "every substitution matches exactly one README line"
	tap_diag "times matched, line:" "$(cat "$RD/subst-unmatched")"
else
	tap_ok "every substitution matches exactly one README line"
fi

# --- the private system -------------------------------------------------------------
rs_private_root

# Debian's self-signed certificate, as ssl-cert's and dovecot-core's
# postinst leave it on a fresh system.
if [ ! -e /etc/ssl/certs/ssl-cert-snakeoil.pem ]; then
	make-ssl-cert generate-default-snakeoil >"$T/ssl-cert.log" 2>&1 ||
		rs_die "make-ssl-cert failed: $(cat "$T/ssl-cert.log")"
fi
if [ ! -e /etc/dovecot/private/dovecot.pem ]; then
	ln -s /etc/ssl/certs/ssl-cert-snakeoil.pem /etc/dovecot/private/dovecot.pem
	ln -s /etc/ssl/private/ssl-cert-snakeoil.key /etc/dovecot/private/dovecot.key
fi

# DNS: the campus relay's name and Ex Libris's SPF; DKIM keys come later.
: >"$RD/dns.records"
start_dns --authority example.edu --authority exlibrisgroup.com \
	--rr "mail.example.edu A 127.0.0.1" \
	--rr "exlibrisgroup.com TXT v=spf1 ip4:127.0.0.0/8 -all" \
	--records "$RD/dns.records" || rs_die "cannot start the DNS server"
RS_DNS_PID=$(rs_pid_of dns)
export RS_DNS_PID RD RS_PY

start_sink "$SINK" || rs_die "cannot start smtp-sink"

# rsyslogd as Debian starts it, without the kernel log.
sed '/imklog/d' /etc/rsyslog.conf >/run/rsyslog.conf
start_bg rsyslogd 0 rsyslogd -n -iNONE -f /run/rsyslog.conf
for ((i = 0; i < 50; i++)); do [ -S /dev/log ] && break; sleep 0.1; done
[ -S /dev/log ] || rs_die "rsyslogd made no /dev/log"

# Postfix as "Internet Site" would have it, mail for elsewhere to the sink.
postconf -e "relayhost = [127.0.0.1]:$RS_SINK_PORT" default_transport=smtp \
	relay_transport=smtp || rs_die "postconf failed"
/usr/lib/postfix/configure-instance.sh >"$T/postfix-start.log" 2>&1 &&
	postfix start >>"$T/postfix-start.log" 2>&1 ||
	rs_die "postfix start failed: $(cat "$T/postfix-start.log")"

# Dovecot (setup-debian.sh installs it), running as its package starts it.
dovecot >"$T/dovecot-start.log" 2>&1 || rs_die "dovecot did not start: $(cat "$T/dovecot-start.log")"

# --- run the README -----------------------------------------------------------------
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
export HOME=/root
unset MAKEFLAGS MFLAGS MAKELEVEL MAKEOVERRIDES
# An ASan build of relaysign reports into files, not to a closed stderr.
# The daemon writes them as user relaysign: a directory it may write to.
mkdir -m 1777 "$T/san"
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}log_path=$T/san/asan"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:+$UBSAN_OPTIONS:}log_path=$T/san/ubsan"
timeout 120 bash "$RD/run.sh" </dev/null >"$RD/run.log" 2>&1
RUN_STATUS=$?

while read -r n kind first; do
	desc="README block $n ($kind: ${first:0:60})"
	if [ -e "$RD/block.$n.ok" ]; then
		tap_ok "$desc"
	else
		tap_not_ok "$desc"
		if [ -e "$RD/block.$n.out" ]; then
			tap_diag "it failed (run.sh exit status $RUN_STATUS); its output:"
			tail -20 "$RD/block.$n.out" | sed 's/^/  /' | sed 's/^/# /'
		else
			tap_diag "not reached"
		fi
	fi
done <"$RD/blocks"
[ -s "$RD/run.log" ] && tap_diag "run.sh said:" "$(tail -5 "$RD/run.log")"

# --- what the README promises -----------------------------------------------------------
PIDF=/run/relaysign/relaysign.pid
SOCK=/var/spool/postfix/relaysign/relaysign.sock
daemon_user() {
	local pid u
	pid=$(cat "$PIDF" 2>/dev/null) || { echo "no $PIDF"; return 1; }
	u=$(ps -o user= -p "$pid") || { echo "relaysign (pid $pid) is not running"; return 1; }
	[ "$u" = relaysign ] || { echo "relaysign runs as $u"; return 1; }
}
tap_check "relaysign runs, as user relaysign (PidFile $PIDF)" daemon_user
sock_owner() {
	local o
	o=$(stat -c '%U:%G %a' "$SOCK" 2>&1) || { echo "$o"; return 1; }
	case $o in relaysign:relaysign\ 77*) return 0 ;; esac
	echo "socket: $o"
	return 1
}
tap_check "its socket $SOCK belongs to relaysign, group rw" sock_owner

QID=$(sed -n 's/.*queued as \([0-9A-Za-z]*\).*/\1/p' "$RD"/block.*.out 2>/dev/null | tail -1)
if [ -n "$QID" ]; then
	tap_ok "the test notice was accepted (queue id $QID)"
else
	tap_not_ok "the test notice was accepted"
fi
MSG=""
[ -n "$QID" ] && MSG=$(wait_delivered "library@library.example.edu" 20)
if [ -n "$MSG" ] && grep -qi '^DKIM-Signature:' "$MSG"; then
	tap_ok "the notice was delivered with a DKIM-Signature"
else
	tap_not_ok "the notice was delivered with a DKIM-Signature"
	diag_message "$MSG"
	tap_diag "mail.log:" "$(tail -15 /var/log/mail.log 2>/dev/null)"
fi
if [ -n "$MSG" ] && out=$(verify_py "$MSG" 2>&1); then
	tap_ok "dkimpy verifies it against the published key"
else
	tap_not_ok "dkimpy verifies it against the published key"
	tap_diag "${out:-no message}"
fi
logline() {
	local l
	[ -n "$QID" ] || { echo "no queue id"; return 1; }
	l=$(grep -F "relaysign[" /var/log/mail.log | grep -F " $QID: ") ||
		{ echo "no relaysign line for $QID in /var/log/mail.log; its relaysign lines:"; grep -F relaysign /var/log/mail.log | tail -5; return 1; }
	grep -q 'action=signed' <<<"$l" || { echo "$l"; return 1; }
	echo "$l"
}
if out=$(logline 2>&1); then
	tap_ok "its log line, action=signed, is in /var/log/mail.log"
	tap_diag "$out"
else
	tap_not_ok "its log line, action=signed, is in /var/log/mail.log"
	tap_diag "$out"
fi

# Stop what the README started, so that an ASan build reports.
postfix stop >/dev/null 2>&1
doveadm stop >/dev/null 2>&1
stopped() {
	local pid i
	pid=$(cat "$PIDF" 2>/dev/null) || { echo "no $PIDF"; return 1; }
	kill -TERM "$pid" 2>/dev/null || { echo "relaysign (pid $pid) is not running"; return 1; }
	for ((i = 0; i < 150; i++)); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	! kill -0 "$pid" 2>/dev/null || { echo "relaysign (pid $pid) still runs 15 s after SIGTERM"; return 1; }
	[ ! -e "$PIDF" ] || { echo "$PIDF left behind"; return 1; }
}
tap_check "relaysign stops on SIGTERM and removes its PidFile" stopped
san() {
	local f
	f=$(ls "$T"/san/* 2>/dev/null)
	[ -z "$f" ] && return 0
	# shellcheck disable=SC2086  # one name a word
	head -30 $f
	return 1
}
tap_check "no sanitizer reports from the installed relaysign" san

tap_done
