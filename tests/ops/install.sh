#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# tests/ops/install.sh -- what "make install" puts where (TAP).
#
# Runs "make install DESTDIR=<temporary directory>" in the build tree and
# checks, at the directories the build was configured with (asked of make
# itself, so --prefix, --mandir, --docdir... are honoured):
#   $(sbindir)   relaysign, relaysign-keygen (executable; -V / usage work)
#   $(man8dir)   relaysign.8, relaysign-keygen.8   (same as man/, mode 0644)
#   $(man5dir)   relaysign.conf.5
#   $(docdir)    the contrib/ samples (same as contrib/, mode 0644)
# that nothing is installed outside $(prefix) (nothing in /etc or /var: a
# package must not get a configuration file it would overwrite), that the
# installed key tool and daemon accept the installed sample configuration,
# and that "make uninstall" removes every file again.
#
# "make distcheck" is not run here (about 3 minutes with the whole suite;
# see the report in the commit message); run it by hand before a release.
#
# Environment: top_srcdir, top_builddir (as Automake sets them; the build
# tree must be configured), RS_KEEP=1 keeps the temporary directory.  Needs
# no root.  Skipped (tap_skip_all) only when top_builddir has no Makefile.
set -u

# shellcheck source=tools/lib.sh
. "${top_srcdir:-$(dirname "$0")/../..}/tools/lib.sh"
# shellcheck disable=SC2034  # rs_log (tools/lib.sh) names the script with it
RS_NAME=ops-install

[ -f "$top_builddir/Makefile" ] ||
	tap_skip_all "no configured build tree at $top_builddir (run configure first)"
command -v make >/dev/null || { echo "Bail out! make not found"; exit 1; }

T=$(mktemp -d "${TMPDIR:-/tmp}/relaysign-install.XXXXXX") || { echo "Bail out! mktemp"; exit 1; }
cleanup() {
	if [ "${RS_KEEP:-0}" = 1 ]; then
		rs_log "kept $T"
	else
		rm -rf "$T"
	fi
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM HUP
D=$T/destdir

# We may run under "make check": do not talk to its jobserver, and do not
# inherit its command-line variables.
unset MAKEFLAGS MFLAGS MAKELEVEL MAKEOVERRIDES
mk() { make -C "$top_builddir" --no-print-directory "$@"; }

# The configured directories, expanded by make itself.
cat >"$T/dirs.mk" <<'EOF'
print-dirs:
	@echo "prefix=$(prefix)"
	@echo "sbindir=$(sbindir)"
	@echo "man5dir=$(man5dir)"
	@echo "man8dir=$(man8dir)"
	@echo "docdir=$(docdir)"
EOF
if ! mk -s -f Makefile -f "$T/dirs.mk" print-dirs >"$T/dirs" 2>&1; then
	echo "Bail out! cannot ask make for the installation directories: $(cat "$T/dirs")"
	exit 1
fi
dir() { sed -n "s/^$1=//p" "$T/dirs"; }
prefix=$(dir prefix)
sbindir=$(dir sbindir)
man5dir=$(dir man5dir)
man8dir=$(dir man8dir)
docdir=$(dir docdir)

SBIN=(relaysign relaysign-keygen)
MAN8=(relaysign.8 relaysign-keygen.8)
MAN5=(relaysign.conf.5)
DOCS=(postfix-main.cf.sample postfix-master.cf.snippet sendmail.mc.snippet
	relaysign.conf.sample relaysign.service README.syslog)

tap_plan 10
tap_diag "prefix $prefix, sbindir $sbindir, man5dir $man5dir, man8dir $man8dir, docdir $docdir"

# --- make install --------------------------------------------------------------------
if mk install DESTDIR="$D" >"$T/install.log" 2>&1; then
	tap_ok "make install DESTDIR=... succeeds"
else
	tap_not_ok "make install DESTDIR=... succeeds"
	tail -20 "$T/install.log" | sed 's/^/# /'
fi
(cd "$D" 2>/dev/null && find . -type f -o -type l | sed 's#^\.##' | sort) >"$T/installed"
tap_diag "installed:" "$(cat "$T/installed")"

# same_file SRC DST MODE: DST is a copy of SRC with mode MODE.
same_file() {
	[ -f "$2" ] || { echo "missing: $2"; return 1; }
	cmp -s "$1" "$2" || { echo "$2 differs from $1"; return 1; }
	[ "$(stat -c %a "$2")" = "$3" ] || { echo "$2 has mode $(stat -c %a "$2"), want $3"; return 1; }
}

programs() {
	local p
	for p in "${SBIN[@]}"; do
		[ -f "$D$sbindir/$p" ] && [ -x "$D$sbindir/$p" ] || { echo "missing or not executable: $sbindir/$p"; return 1; }
	done
}
tap_check "$sbindir: relaysign, relaysign-keygen (executable)" programs
installed_runs() {
	local out
	out=$("$D$sbindir/relaysign" -V 2>&1) || { echo "relaysign -V: $out"; return 1; }
	head -1 <<<"$out" | grep -q '^relaysign [0-9]' || { echo "relaysign -V: $out"; return 1; }
	# The key tool without arguments prints its usage and exits non-zero.
	out=$("$D$sbindir/relaysign-keygen" 2>&1) && { echo "relaysign-keygen without arguments succeeded"; return 1; }
	grep -qi usage <<<"$out" || { echo "relaysign-keygen: $out"; return 1; }
}
tap_check "the installed relaysign -V and relaysign-keygen run" installed_runs

mans() {
	local m
	for m in "${MAN8[@]}"; do same_file "$top_srcdir/man/$m" "$D$man8dir/$m" 644 || return 1; done
	for m in "${MAN5[@]}"; do same_file "$top_srcdir/man/$m" "$D$man5dir/$m" 644 || return 1; done
}
tap_check "$man8dir: ${MAN8[*]}; $man5dir: ${MAN5[*]} (copies of man/, mode 0644)" mans

docs() {
	local f
	for f in "${DOCS[@]}"; do same_file "$top_srcdir/contrib/$f" "$D$docdir/$f" 644 || return 1; done
}
tap_check "$docdir: the contrib/ samples (copies, mode 0644)" docs

# inside_prefix: every installed file lies under $(prefix).
inside_prefix() {
	local bad
	bad=$(grep -v "^$prefix/" "$T/installed")
	[ -z "$bad" ] || { echo "installed outside $prefix:"; echo "$bad"; return 1; }
	[ -s "$T/installed" ] || { echo "nothing installed"; return 1; }
}
tap_check "nothing installed outside $prefix (no /etc, no /var)" inside_prefix

# expected_only: nothing beyond the programs, pages and samples.
expected_only() {
	local f want
	want=$(
		for f in "${SBIN[@]}"; do echo "$sbindir/$f"; done
		for f in "${MAN8[@]}"; do echo "$man8dir/$f"; done
		for f in "${MAN5[@]}"; do echo "$man5dir/$f"; done
		for f in "${DOCS[@]}"; do echo "$docdir/$f"; done
	)
	diff <(sort <<<"$want") "$T/installed" >"$T/manifest.diff" && return 0
	echo "installed files differ from the expected list (< expected only, > installed only):"
	grep '^[<>]' "$T/manifest.diff"
	return 1
}
tap_check "exactly those ${#SBIN[@]}+${#MAN8[@]}+${#MAN5[@]}+${#DOCS[@]} files are installed" expected_only

# --- the installed pieces work together ----------------------------------------------------
# relaysign-keygen makes the two keys relaysign.conf.sample names; the
# installed daemon accepts the installed sample, pointed at them.
sample_ok() {
	local k=$T/keys out
	mkdir -m 0700 "$k" || return 1
	"$D$sbindir/relaysign-keygen" -D "$k" -d library.example.edu -s alma2026 >"$T/kg1.out" 2>&1 ||
		{ cat "$T/kg1.out"; return 1; }
	"$D$sbindir/relaysign-keygen" --type=ed25519 -D "$k" -d library.example.edu -s ed2026 >"$T/kg2.out" 2>&1 ||
		{ cat "$T/kg2.out"; return 1; }
	sed "s#/etc/relaysign/keys/#$k/#g" "$D$docdir/relaysign.conf.sample" >"$T/sample.conf"
	out=$("$D$sbindir/relaysign" -n -c "$T/sample.conf" 2>&1) || { echo "$out"; return 1; }
	echo "$out"
}
if out=$(sample_ok 2>&1); then
	tap_ok "installed relaysign-keygen + installed sample: installed relaysign -n says ok"
	tap_diag "$out"
else
	tap_not_ok "installed relaysign-keygen + installed sample: installed relaysign -n says ok"
	tap_diag "$out"
fi

# --- make uninstall ------------------------------------------------------------------------
if mk uninstall DESTDIR="$D" >"$T/uninstall.log" 2>&1; then
	tap_ok "make uninstall DESTDIR=... succeeds"
else
	tap_not_ok "make uninstall DESTDIR=... succeeds"
	tail -20 "$T/uninstall.log" | sed 's/^/# /'
fi
left() {
	local l
	l=$(cd "$D" && find . -type f -o -type l)
	[ -z "$l" ] || { echo "left behind:"; echo "$l"; return 1; }
}
tap_check "make uninstall removes every installed file" left

tap_done
