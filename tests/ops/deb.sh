#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# tests/ops/deb.sh -- the Debian package: built from the release tarball,
# lintian-clean, installed, configured as README.Debian says, signing a
# notice through a real Postfix, then removed and purged (TAP).
#
# The package is built with `dpkg-buildpackage -us -uc -b` from the tarball
# `make dist` writes (DEB_BUILD_OPTIONS=nocheck here: the unit tables it
# would run are this suite's own, already run; the build runs them without
# it), and lintian (--pedantic, info tags shown) must report no error and no
# warning.  The unit's exposure score (systemd-analyze security --offline)
# is printed and must be at most 2.
#
# The "fresh root" is this machine's system seen through throw-away
# overlays: in the private mount namespace, /etc, /usr and /var are overlay
# file systems whose changes live in the test's temporary directory, /run
# and /dev are new tmpfs (rsyslogd's /dev/log is ours).  It is not a
# debootstrap (no network here): the package's dependencies are the
# machine's, which tools/setup-debian.sh installs, so `dpkg -i` suffices.
# piuparts is not run (it needs a Debian mirror to build its chroots).
#
# In that root: dpkg -i; the account, /etc/relaysign/keys (0750), the
# conffiles, /run/relaysign (tmpfiles.d), `relaysign -n` on the shipped
# file ("ok (0 keys)"), systemd-analyze verify; then README.Debian's steps
# (relaysign-keygen, the tables, the socket in Postfix's spool, adduser
# postfix relaysign), relaysign started as the unit's ExecStart does (as
# user relaysign, UMask 0007, forking, PID file); a notice from the relay
# through a private Postfix (its smtpd runs as user postfix) is signed,
# dkimpy verifies it, and its log line is in /var/log/mail.log; then
# dpkg -r keeps the conffiles, dpkg --purge removes them and keeps the
# non-empty key directory and the account, as README.Debian says.
#
# Environment: top_srcdir, top_builddir, RS_KEEP=1.  Skipped when not root
# or without dpkg-buildpackage/lintian/debhelper (unless
# RELAYSIGN_REQUIRE_ALL=1).  About 1-2 minutes.
set -u

# shellcheck source=tools/lib.sh
. "${top_srcdir:-$(dirname "$0")/../..}/tools/lib.sh" --with-extra

[ "$(id -u)" = 0 ] || tap_skip_all "needs root (namespaces, overlays, dpkg -i)"
[ -f "$top_builddir/Makefile" ] || tap_skip_all "no configured build tree at $top_builddir"
if [ "${RELAYSIGN_REQUIRE_ALL:-0}" != 1 ]; then
	for t in dpkg-buildpackage lintian dh rsyslogd; do
		command -v "$t" >/dev/null ||
			tap_skip_all "$t not installed (tools/setup-debian.sh installs debhelper, lintian, rsyslog)"
	done
fi
rs_require_tools dpkg-buildpackage lintian dh rsyslogd postfix smtp-sink setpriv systemd-analyze
rs_require_pydkim

rs_sandbox "$0" "$@"
rs_init deb
T=$RS_TMP
D=library.example.edu
tap_plan 22

# --- build from the tarball ------------------------------------------------------
unset MAKEFLAGS MFLAGS MAKELEVEL MAKEOVERRIDES
build() {
	make -C "$top_builddir" --no-print-directory dist >"$T/dist.log" 2>&1 ||
		{ tail -5 "$T/dist.log"; return 1; }
	mkdir -p "$T/build" && tar -C "$T/build" -xzf "$top_builddir/relaysign-0.1.0.tar.gz" ||
		return 1
	(cd "$T/build/relaysign-0.1.0" && DEB_BUILD_OPTIONS=nocheck \
		dpkg-buildpackage -us -uc -b) >"$T/build.log" 2>&1 || { tail -20 "$T/build.log"; return 1; }
	DEB=$(ls "$T"/build/relaysign_*_*.deb)
	[ -f "$DEB" ]
}
tap_check "dpkg-buildpackage -us -uc -b builds relaysign_*.deb from make dist's tarball" build
DEB=$(ls "$T"/build/relaysign_*_*.deb 2>/dev/null | head -1)
[ -n "$DEB" ] || { tap_done; exit 1; }
lint() {
	local out
	out=$(lintian --pedantic -I "$T"/build/relaysign_*.changes 2>&1 | grep -v '^running with root')
	echo "$out"
	! grep -qE '^[EW]: ' <<<"$out"
}
tap_check "lintian --pedantic: no error, no warning (.deb and .changes)" lint
mkdir -p "$T/x" && dpkg-deb -x "$DEB" "$T/x"
score=$(systemd-analyze security --offline=true "$T/x/lib/systemd/system/relaysign.service" 2>&1 |
	sed -n 's/.*Overall exposure level for relaysign.service: \([0-9.]*\).*/\1/p')
if [ -n "$score" ] && awk -v s="$score" 'BEGIN { exit !(s <= 2) }'; then
	tap_ok "the unit's exposure score (systemd-analyze security --offline): $score, at most 2"
else
	tap_not_ok "the unit's exposure score: ${score:-?}, want at most 2"
fi

# --- the throw-away root ---------------------------------------------------------------
rs_private_root
# No service may start for real while dpkg configures (there is no systemd here
# anyway): as Debian's container images do.
printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d && chmod 0755 /usr/sbin/policy-rc.d
sed '/imklog/d' /etc/rsyslog.conf >/run/rsyslog.conf
start_bg rsyslogd 0 rsyslogd -n -iNONE -f /run/rsyslog.conf
for ((i = 0; i < 50; i++)); do [ -S /dev/log ] && break; sleep 0.1; done
getent passwd relaysign >/dev/null && rs_die "this machine already has a relaysign account"

tap_check "dpkg -i installs the package" sh -c 'dpkg -i "$1" >"$2/dpkg-i.log" 2>&1 ||
	{ cat "$2/dpkg-i.log"; exit 1; }' sh "$DEB" "$T"
installed() {
	getent passwd relaysign | grep -q ':/nonexistent:' &&
		[ "$(stat -c '%U:%G %a' /etc/relaysign/keys)" = "relaysign:relaysign 750" ] &&
		[ "$(stat -c '%U:%G %a' /run/relaysign)" = "relaysign:relaysign 750" ] &&
		[ -x /usr/sbin/relaysign ] && [ -x /usr/sbin/relaysign-keygen ] &&
		[ -f /usr/share/man/man5/relaysign.conf.5.gz ] && [ -f /usr/share/doc/relaysign/README.Debian ]
}
tap_check "postinst: the relaysign account, /etc/relaysign/keys 0750 and /run/relaysign (tmpfiles.d) belong to it" installed
tap_check "the configuration files are conffiles" sh -c \
	'c=$(dpkg-query -W -f="\${Conffiles}" relaysign); for f in relaysign.conf keytable signingtable; do
		echo "$c" | grep -q " /etc/relaysign/$f " || { echo "not a conffile: $f"; exit 1; }; done'
tap_check "the shipped configuration passes relaysign -n and signs nothing (0 keys)" sh -c \
	'relaysign -n -c /etc/relaysign/relaysign.conf | grep -qx "relaysign: /etc/relaysign/relaysign.conf: ok (0 keys)"'
tap_check "systemd-analyze verify: the installed unit is clean" sh -c \
	'out=$(systemd-analyze verify /lib/systemd/system/relaysign.service 2>&1); [ -z "$out" ] || { echo "$out"; exit 1; }'

# --- README.Debian's steps -------------------------------------------------------
configure() {
	relaysign-keygen -D /etc/relaysign/keys -d "$D" -s alma2026 >"$T/keygen.out" &&
		chown relaysign: /etc/relaysign/keys/alma2026.key &&
		sed -n '/^# KeyTable line:/{n;p}' "$T/keygen.out" >>/etc/relaysign/keytable &&
		sed -n '/^# SigningTable line:/{n;p}' "$T/keygen.out" >>/etc/relaysign/signingtable &&
		install -d -o relaysign -g relaysign -m 0750 /var/spool/postfix/relaysign &&
		adduser --quiet postfix relaysign &&
		sed -i -e 's|^Socket .*|Socket unix:/var/spool/postfix/relaysign/relaysign.sock|' \
			-e 's|^#AuthservID.*|AuthservID relay.test|' \
			-e 's|^#RelayNetworks.*|RelayNetworks 192.0.2.0/24|' /etc/relaysign/relaysign.conf &&
		relaysign -n -c /etc/relaysign/relaysign.conf | grep -q "ok (1 key)"
}
tap_check "README.Debian: relaysign-keygen, the tables, the socket in Postfix's spool: relaysign -n says ok (1 key)" configure
# The record keygen printed, published.
start_dns --authority example.edu --authority exlibrisgroup.com \
	--rr "alma2026._domainkey.$D TXT $(sed -n "s/^v=DKIM1; k=rsa; p=/v=DKIM1; k=rsa; p=/p" "$T/keygen.out")" \
	--rr "exlibrisgroup.com TXT v=spf1 ip4:192.0.2.0/24 -all" || rs_die "cannot start the DNS server"
# As the unit's ExecStart: user relaysign, UMask 0007, forking, PIDFile.
setpriv --reuid=relaysign --regid=relaysign --init-groups \
	bash -c 'umask 0007; exec /usr/sbin/relaysign -c /etc/relaysign/relaysign.conf' >"$T/start.log" 2>&1
started() {
	local i
	for ((i = 0; i < 50; i++)); do
		[ -S /var/spool/postfix/relaysign/relaysign.sock ] && [ -s /run/relaysign/relaysign.pid ] && break
		sleep 0.1
	done
	[ "$(stat -c '%U:%G %a' /var/spool/postfix/relaysign/relaysign.sock)" = "relaysign:relaysign 770" ] &&
		[ "$(ps -o user= -p "$(cat /run/relaysign/relaysign.pid)")" = relaysign ] ||
		{ cat "$T/start.log"; ls -l /var/spool/postfix/relaysign /run/relaysign; return 1; }
}
tap_check "started as the unit does: as relaysign, a socket relaysign:relaysign 0770, a PID file" started
start_sink "$T/sink" || rs_die "cannot start smtp-sink"
start_postfix unix:/var/spool/postfix/relaysign/relaysign.sock || rs_die "cannot start Postfix"
printf 'From: Library <library@%s>\r\nTo: patron@example.net\r\nSubject: deb\r\nMessage-ID: <deb.%s@vendor.test>\r\n\r\nYour loan is due.\r\n' \
	"$D" "$$" >"$T/notice.eml"
if rx_send_raw 192.0.2.10 "$T/notice.eml"; then
	tap_ok "Postfix (smtpd as user postfix) accepted the notice through relaysign's socket"
else
	tap_not_ok "Postfix accepted the notice: $RX_REPLY"
	tail -5 "$(postfix_log)" | tap_diag "$(cat)"
fi
F=$(wait_delivered "Subject: deb" 30) || F=""
tap_check "delivered with a DKIM-Signature d=$D s=alma2026 that dkimpy verifies" \
	sh -c '[ -n "$1" ] && "$2" "$3/tests/e2e/verify.py" --dns 127.0.0.1:53 "$1" | grep -q "d=library.example.edu s=alma2026 a=rsa-sha256 result=pass"' \
	sh "$F" "$RS_PY" "$top_srcdir"
logline() {
	local i
	for ((i = 0; i < 50; i++)); do
		grep -q "relaysign\[[0-9]*\]: $RX_QID: relay=network .*action=signed" /var/log/mail.log 2>/dev/null && return 0
		sleep 0.1
	done
	tail -5 /var/log/mail.log
	return 1
}
tap_check "its log line (action=signed) is in /var/log/mail.log" logline
stop_postfix
kill -TERM "$(cat /run/relaysign/relaysign.pid)"
for ((i = 0; i < 100; i++)); do [ -e /run/relaysign/relaysign.pid ] || break; sleep 0.1; done
tap_check "relaysign stops on SIGTERM and removes its PID file" test ! -e /run/relaysign/relaysign.pid

# --- remove, purge -----------------------------------------------------------------
tap_check "dpkg -r removes the package" sh -c 'dpkg -r relaysign >"$1/dpkg-r.log" 2>&1 || { cat "$1/dpkg-r.log"; exit 1; }' sh "$T"
tap_check "... the programs and the unit are gone" sh -c '[ ! -e /usr/sbin/relaysign ] && [ ! -e /usr/sbin/relaysign-keygen ] && [ ! -e /lib/systemd/system/relaysign.service ]'
tap_check "... the configuration stays (conffiles, until purge)" test -f /etc/relaysign/relaysign.conf
tap_check "dpkg --purge purges it" sh -c 'dpkg --purge relaysign >"$1/dpkg-p.log" 2>&1 || { cat "$1/dpkg-p.log"; exit 1; }' sh "$T"
tap_check "... the configuration files are gone" sh -c '[ ! -e /etc/relaysign/relaysign.conf ] && [ ! -e /etc/relaysign/keytable ] && [ ! -e /etc/relaysign/signingtable ]'
tap_check "... the private key is kept, and purge said so" sh -c \
	'[ -f /etc/relaysign/keys/alma2026.key ] && grep -q "private keys are kept" "$1/dpkg-p.log"' sh "$T"
tap_check "... the relaysign account stays, as README.Debian says" sh -c 'getent passwd relaysign >/dev/null'
# With no key left, purge leaves nothing in /etc/relaysign.
empty_purge() {
	rm -f /etc/relaysign/keys/*
	dpkg -i "$DEB" >/dev/null 2>&1 && dpkg --purge relaysign >/dev/null 2>&1 && [ ! -e /etc/relaysign ]
}
tap_check "with no key left, install + purge leave no /etc/relaysign" empty_purge
tap_done
