#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# Regenerate the build system from configure.ac and Makefile.am.
set -e
cd "$(dirname "$0")"
autoreconf -fi
# Automake installs no TAP driver by itself; the tests speak TAP.
for d in /usr/share/automake-*; do
	if [ -f "$d/tap-driver.sh" ]; then
		cp "$d/tap-driver.sh" build-aux/tap-driver.sh
		break
	fi
done
test -f build-aux/tap-driver.sh || { echo "autogen.sh: no tap-driver.sh (apt-get install automake)" >&2; exit 1; }
