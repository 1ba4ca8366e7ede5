#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# test.sh -- the README's second command: install what is needed, build
# relaysign with AddressSanitizer and UndefinedBehaviorSanitizer, and run
# the whole test suite (unit, config, man pages, miltertest, real Postfix).
#
#   sudo tools/test.sh            # everything
#   sudo tools/test.sh -k         # keep the build directory's logs on success
#
# Run as root: it installs Debian packages and starts a private Postfix.
set -eu

here=$(cd "$(dirname "$0")/.." && pwd)
cd "$here"

if [ "$(id -u)" != 0 ]; then
	echo "test.sh: run as root (sudo tools/test.sh): it installs packages and runs Postfix" >&2
	exit 1
fi

sh tools/setup-debian.sh

./autogen.sh >/dev/null 2>&1 || ./autogen.sh
build=$here/build-test
rm -rf "$build"
mkdir -p "$build"
cd "$build"
"$here/configure" --enable-sanitizers --localstatedir=/var --sysconfdir=/etc >configure.out 2>&1 || {
	cat configure.out
	exit 1
}
make -j2 >make.out 2>&1 || {
	cat make.out
	exit 1
}

# Sanitizer reports must fail the run, in the daemon too.
RELAYSIGN_REQUIRE_ALL=1
export RELAYSIGN_REQUIRE_ALL
ASAN_OPTIONS=${ASAN_OPTIONS:-abort_on_error=1:detect_leaks=1:fast_unwind_on_malloc=0}
LSAN_OPTIONS=${LSAN_OPTIONS:-suppressions=$here/tests/lsan.supp:print_suppressions=0}
export LSAN_OPTIONS
UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
export ASAN_OPTIONS UBSAN_OPTIONS

status=0
# Everything: the quick loop (make check) and the long runs.
make -j2 check-long || status=$?
# Show every test's log on failure, so CI output says what went wrong.
if [ $status -ne 0 ]; then
	for f in $(find . -name '*.log' ! -name 'test-suite.log' ! -name config.log); do
		if grep -q '^not ok\|^ERROR\|^FAIL' "$f" 2>/dev/null; then
			echo "==== $f"
			cat "$f"
		fi
	done
fi
# The release tarball: made, built out of tree and checked (make check)
# from it, installed and uninstalled, nothing left behind.  Its own
# summary goes to distcheck.log; only a failure is shown.
dstatus=0
start=$(date +%s)
make distcheck >distcheck.log 2>&1 || dstatus=$?
if [ $dstatus -ne 0 ]; then
	echo "==== make distcheck failed (exit $dstatus):"
	tail -60 distcheck.log
	status=1
else
	echo "test.sh: make distcheck passed in $(( $(date +%s) - start )) s ($(sed -n 's/^# PASS: *//p' distcheck.log | tail -1) tests from the tarball)"
fi
# A closing line CI can read.
total=$(cat test-suite.log 2>/dev/null | sed -n 's/^# TOTAL: *//p' | head -1)
pass=$(sed -n 's/^# PASS: *//p' test-suite.log | head -1)
fail=$(sed -n 's/^# FAIL: *//p' test-suite.log | head -1)
skip=$(sed -n 's/^# SKIP: *//p' test-suite.log | head -1)
err=$(sed -n 's/^# ERROR: *//p' test-suite.log | head -1)
echo "test.sh: ${total:-0} tests"
echo "${pass:-0} passed, $(( ${fail:-0} + ${err:-0} )) failed, ${skip:-0} skipped"
exit $status
