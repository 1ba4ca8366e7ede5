#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# tests/ops/chroot.sh -- the test harness in a chroot (TAP).
#
# Every test that runs relaysign does so in private mount, network and pid
# namespaces (tools/lib.sh, rs_sandbox).  In a plain chroot, whose / is not
# a mount point, unshare cannot make the mounts private and fails with
# "cannot change root filesystem propagation"; in a container, or a chroot
# whose root is bind-mounted on itself, it works.  This test builds such a
# chroot (the host's /usr and /etc bound read-only, the source and build
# trees bound in), inside a private mount namespace of its own so nothing
# stays mounted, and checks both:
#   1. / not a mount point: the harness stops, printing unshare's own error
#      and what to do, never a guess;
#   2. / a mount point (mount --rbind ROOT ROOT): the harness runs its
#      sandbox inside the chroot, with loopback as the only interface.
# Needs root.
set -u

# shellcheck source=tools/lib.sh
. "${top_srcdir:-$(dirname "$0")/../..}/tools/lib.sh"

[ "$(id -u)" = 0 ] || tap_skip_all "needs root (chroot, mounts)"
tap_plan 4

# The script run inside the chroot: the harness's sandbox, then a look at
# the network namespace it made.
probe=$(mktemp /tmp/relaysign-chroot-probe.XXXXXX.sh) || exit 1
trap 'rm -f "$probe"' EXIT
cat >"$probe" <<'EOF'
set -u
. "$top_srcdir/tools/lib.sh"
rs_sandbox "$0" "$@"
echo "inside the sandbox: interfaces $(ip -o link show | awk -F': ' '{ print $2 }' | tr '\n' ' ')"
EOF

# run_in_chroot SELFMOUNT: builds the chroot in a private mount namespace,
# runs the probe there, prints what it said.
run_in_chroot() {
	unshare --mount --propagation private bash -s "$1" "$probe" <<'EOS'
set -eu
self=$1 probe=$2
R=$(mktemp -d /tmp/relaysign-chroot.XXXXXX)
for d in usr etc; do
	mkdir -p "$R/$d"
	mount --bind "/$d" "$R/$d"
	mount -o remount,bind,ro "$R/$d"
done
# Debian 12 merges /usr: /bin, /lib, ... are links into it.
for l in bin sbin lib lib64 lib32; do
	[ -L "/$l" ] && cp -a "/$l" "$R/$l"
done
mkdir -p "$R/proc" "$R/dev" "$R/tmp" "$R/$top_srcdir" "$R/$top_builddir"
chmod 1777 "$R/tmp"
mount -t proc proc "$R/proc"
mount --rbind /dev "$R/dev"
mount --bind "$top_srcdir" "$R/$top_srcdir"
mount --bind "$top_builddir" "$R/$top_builddir"
cp "$probe" "$R/tmp/probe.sh"
if [ "$self" = yes ]; then
	mount --rbind "$R" "$R"
fi
set +e
chroot "$R" /usr/bin/env top_srcdir="$top_srcdir" top_builddir="$top_builddir" \
	bash /tmp/probe.sh 2>&1
echo "exit status $?"
EOS
}

out=$(run_in_chroot no)
tap_diag "$out"
case $out in *"exit status 1"*) rc=0 ;; *) rc=1 ;; esac
tap_status $rc "chroot, / not a mount point: the harness stops (exit 1)"
case $out in
*"cannot change root filesystem propagation"*"mount --rbind DIR DIR"*) rc=0 ;;
*) rc=1 ;;
esac
tap_status $rc "chroot, / not a mount point: it prints unshare's own error and the remedy"

out=$(run_in_chroot yes)
tap_diag "$out"
case $out in *"exit status 0"*) rc=0 ;; *) rc=1 ;; esac
tap_status $rc "chroot with / bind-mounted on itself: the harness's sandbox runs"
case $out in *"interfaces lo "*) rc=0 ;; *) rc=1 ;; esac
tap_status $rc "chroot with / bind-mounted on itself: loopback is the only interface inside"
tap_done
