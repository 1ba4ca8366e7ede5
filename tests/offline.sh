#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# offline.sh -- the unit tests ask no DNS server (TAP).
#
# The unit tests run outside any private namespace (make check, the
# Debian package build), so every DNS answer they need comes from a
# libspf2 zone in memory (tests/pipeline_fixture.h, t_spf.c, t_dmarc.c),
# never from the machine's resolver.  A configuration whose DNS layer was
# left on the resolver once sent t_pipeline's DMARC look-ups there; this
# runs each unit test under strace(1) and fails on any packet to port 53.
# Skipped (1..0) when strace is missing or the unit tests are not built.
set -u
# shellcheck source=tools/lib.sh
. "${top_srcdir:-$(dirname "$0")/..}/tools/lib.sh"

command -v strace >/dev/null 2>&1 || tap_skip_all "strace not installed (apt-get install strace)"
mapfile -t UNITS < <(find "$top_builddir/tests/unit" -maxdepth 1 -type f -name 't_*' \
	! -name '*.*' -perm -u+x | sort)
[ "${#UNITS[@]}" -gt 0 ] || tap_skip_all "no unit tests built in $top_builddir/tests/unit"
# strace itself may be refused (a container without ptrace): say so.
strace -f -o /dev/null true 2>/dev/null || tap_skip_all "strace cannot trace here (no ptrace?)"

tmp=$(mktemp -d "${TMPDIR:-/tmp}/relaysign-offline.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT
tap_plan "${#UNITS[@]}"
for u in "${UNITS[@]}"; do
	name=${u##*/}
	# LeakSanitizer cannot run under ptrace; the plain run checks leaks.
	ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0 \
		strace -f -qq -e trace=connect,sendto,sendmsg,sendmmsg -o "$tmp/$name.trace" \
		"$u" >"$tmp/$name.out" 2>&1
	rc=$?
	dns=$(grep -c 'htons(53)' "$tmp/$name.trace")
	if [ "$dns" = 0 ] && [ "$rc" = 0 ]; then
		tap_ok "$name: no packet to a DNS server ($(grep -c '^ok ' "$tmp/$name.out") checks passed)"
	else
		tap_not_ok "$name: $dns system calls to port 53 (exit status $rc)"
		tap_diag "$(grep 'htons(53)' "$tmp/$name.trace" | head -5)"
	fi
done
tap_done
