#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# man-options.sh -- relaysign(8) documents every command-line flag the code
# accepts and no other, and every man page is mandoc -Tlint clean.
# (relaysign.conf(5) against the option table: tests/unit/t_conf.c.)
# Speaks TAP.
set -u
# shellcheck source=tools/lib.sh
. "${top_srcdir:-$(dirname "$0")/..}/tools/lib.sh"

# relaysign-keygen(8): its getopt_long string and long options are the
# single source of its flags; each is documented, and nothing else is.
kgsrc=$top_srcdir/keygen/relaysign-keygen.c
kgman=$top_srcdir/man/relaysign-keygen.8
kgopt=$(sed -n 's/.*getopt_long(argc, argv, "\([^"]*\)".*/\1/p' "$kgsrc")
[ -n "$kgopt" ]
tap_status $? "found the getopt_long string in keygen/relaysign-keygen.c ($kgopt)"
kg_code=$( (printf '%s' "$kgopt" | tr -d ':' | sed 's/./&\n/g'
	sed -n 's/^\t\t{ "\([a-z-]*\)", .*/-\1/p' "$kgsrc") | grep . | sort -u)
kg_man=$( (sed -n 's/^\.It Fl \([A-Za-z]\)\( .*\)\{0,1\}$/\1/p' "$kgman"
	grep -o 'Fl -[a-z-]*' "$kgman" | sed 's/^Fl //') | sort -u)
for f in $kg_code; do
	printf '%s\n' "$kg_man" | grep -qx -- "$f"
	tap_status $? "relaysign-keygen(8) documents -$f"
done
for f in $kg_man; do
	printf '%s\n' "$kg_code" | grep -qx -- "$f"
	tap_status $? "-$f documented in relaysign-keygen(8) is accepted by the code"
done
# The getopt string is the single source of the daemon's flags.
optstring=$(sed -n 's/.*getopt(argc, argv, "\([^"]*\)").*/\1/p' "$top_srcdir/milter/relaysign.c")
[ -n "$optstring" ]
tap_status $? "found the getopt string in milter/relaysign.c ($optstring)"
code_flags=$(printf '%s' "$optstring" | tr -d ':' | sed 's/./&\n/g' | grep . | sort)
man_flags=$(sed -n 's/^\.It Fl \([A-Za-z]\).*/\1/p' "$top_srcdir/man/relaysign.8" | sort -u)
for f in $code_flags; do
	printf '%s\n' "$man_flags" | grep -qx "$f"
	tap_status $? "relaysign(8) documents -$f"
done
for f in $man_flags; do
	printf '%s\n' "$code_flags" | grep -qx "$f"
	tap_status $? "-$f documented in relaysign(8) is accepted by the code"
done

# What a user types first: -h answers on standard output with status 0 and
# names every flag; an unknown flag is an error (status 1, usage on stderr).
# Both end in getopt, before any configuration, key or DNS is touched.
bin=${top_builddir:-$top_srcdir}/relaysign
if [ -x "$bin" ]; then
	out=$("$bin" -h 2>/dev/null)
	st=$?
	[ "$st" = 0 ] && printf '%s\n' "$out" | grep -q '^usage: relaysign'
	tap_status $? "relaysign -h: usage on standard output, exit 0 (exit $st)"
	for f in $code_flags; do
		printf '%s\n' "$out" | grep -q -- "^  -$f "
		tap_status $? "relaysign -h explains -$f"
	done
	"$bin" -Z >/dev/null 2>&1
	st=$?
	err=$("$bin" -Z 2>&1 >/dev/null)
	[ "$st" = 1 ] && printf '%s\n' "$err" | grep -q '^usage: relaysign'
	tap_status $? "relaysign -Z: usage on standard error, exit 1 (exit $st)"
	# One version, set in configure.ac, shown by both programs.
	version=$(sed -n 's/^AC_INIT(\[relaysign\], \[\([^]]*\)\].*/\1/p' "$top_srcdir/configure.ac")
	[ -n "$version" ] && [ "$("$bin" -V | head -1)" = "relaysign $version" ]
	tap_status $? "relaysign -V names the release, $version"
	"$bin" -V | grep -q "^  libspf2 [0-9]" && "$bin" -V | grep -q "^  libopendkim [0-9]" &&
		"$bin" -V | grep -q "^  libmilter API [0-9]" && "$bin" -V | grep -q "^  OpenSSL [0-9]"
	tap_status $? "relaysign -V names libmilter, libopendkim, libspf2 and OpenSSL"
	kg=${top_builddir:-$top_srcdir}/relaysign-keygen
	[ "$("$kg" -V | head -1)" = "relaysign-keygen $version" ] &&
		[ "$("$kg" --version | head -1)" = "relaysign-keygen $version" ]
	tap_status $? "relaysign-keygen -V and --version name the release, $version"
	# -h is opendkim-genkey's --hash-algorithms, so help is --help alone.
	"$kg" --help 2>/dev/null | grep -q "^usage: relaysign-keygen"
	tap_status $? "relaysign-keygen --help: usage on standard output, exit 0"
	"$kg" --nonsense >/dev/null 2>&1
	[ $? = 1 ]
	tap_status $? "relaysign-keygen with an unknown option exits 1"
else
	echo "# $bin not built: -h, -V not tried"
fi

if command -v mandoc >/dev/null 2>&1; then
	for page in "$top_srcdir"/man/*.[0-9]; do
		out=$(mandoc -Tlint -W warning "$page" 2>&1)
		[ -z "$out" ]
		tap_status $? "mandoc -Tlint $(basename "$page")${out:+: $out}"
	done
else
	echo "# mandoc missing: apt-get install mandoc"
	tap_not_ok "mandoc installed"
fi
tap_plan "$RS_TAP_N"
tap_done
