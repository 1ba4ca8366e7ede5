#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# dist-tracked.sh SRCDIR DISTDIR -- make dist's last word: the tarball holds
# what git tracks plus what the autotools generate, and nothing else from a
# developer's tree (a stray key, a build log, a __pycache__).  Without git
# (making a tarball from a tarball) there is nothing to compare with.
set -eu
srcdir=$1
distdir=$2

# Python's byte-code caches appear wherever a test imported a module.
find "$distdir" -name __pycache__ -type d -prune -exec rm -rf {} +

# Only the top of a checkout: a tarball unpacked inside one (make
# distcheck in a build directory of the checkout) is not that checkout.
top=$(git -C "$srcdir" rev-parse --show-toplevel 2>/dev/null) || top=""
if [ -z "$top" ] || [ "$top" != "$(cd "$srcdir" && pwd -P)" ]; then
	echo "dist-tracked.sh: $srcdir is not the top of a git checkout: contents not checked"
	exit 0
fi
tracked=$(mktemp)
trap 'rm -f "$tracked"' EXIT
git -C "$srcdir" ls-files >"$tracked"
bad=0
for f in $(cd "$distdir" && find . -type f | sed 's|^\./||' | sort); do
	grep -qxF "$f" "$tracked" && continue
	case $f in
	# What autogen.sh and configure's authors generate.
	configure | aclocal.m4 | config.h.in | Makefile.in | build-aux/* | m4/*) continue ;;
	esac
	echo "dist-tracked.sh: $f is in the tarball but not in git" >&2
	bad=1
done
exit $bad
