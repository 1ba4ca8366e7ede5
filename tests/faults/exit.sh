#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# tests/faults/exit.sh -- relaysign stops while libmilter's workers retire (TAP).
#
# libmilter's worker threads are detached: nothing can join them.  After a
# stop, each idle worker ends when its 10 s wait runs out, which may fall
# after main() has returned, while exit() runs the atexit handlers.  A
# handler that frees what such a worker still holds turns a clean stop into
# a crash or a leak.  OpenSSL's own atexit cleanup was one: it deletes
# OpenSSL's thread-local key, so a worker that had signed and retired after
# it lost its per-thread random generator; LeakSanitizer saw it under load
# in tests/faults/run.sh (exit status 134 at a SIGTERM).
#
# Here the late retirement is certain, not a matter of luck: a preloaded
# library registers, before main(), an atexit handler (so it runs after any
# handler registered later, OpenSSL's included) that holds exit() for 11 s
# while the workers end, then asks LeakSanitizer again (its own check at
# exit may have run before).  70 messages are signed first, so that the
# workers hold OpenSSL's per-thread state.  relaysign must exit 0 on SIGTERM,
# workers must have ended during exit (else the test proved nothing), and
# the sanitizers must report nothing.  Needs the AddressSanitizer build
# (tools/test.sh's): the leak is how the fault shows.  Without the fix in
# milter/relaysign.c (OPENSSL_INIT_NO_ATEXIT) it fails with the very stacks
# tests/faults/run.sh once showed (RAND_get0_private under RSA_sign).
#
# Environment: top_srcdir, top_builddir, RELAYSIGN, CC, RS_KEEP=1.
set -u

# shellcheck source=tools/lib.sh
. "${top_srcdir:-$(dirname "$0")/../..}/tools/lib.sh" --with-extra

rs_test_needs "namespaces" openssl unshare ip ss
CC=${CC:-gcc}
command -v "$CC" >/dev/null || { echo "Bail out! $CC not found (run tools/setup-debian.sh)"; exit 1; }
ldd "$RELAYSIGN" 2>/dev/null | grep -q 'libasan' ||
	tap_skip_all "relaysign is not built with AddressSanitizer (tools/test.sh builds it so)"

rs_sandbox "$0" "$@"
rs_init exit
T=$RS_TMP
LOG=$T/relaysign.log

tap_plan 6

# The late handler: it reports how many threads the process has before and
# after its wait, so the test can tell that workers did end during exit.
cat >"$T/late.c" <<'EOF'
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static int
threads(void)
{
	DIR *d = opendir("/proc/self/task");
	struct dirent *e;
	int n = 0;

	if (d == NULL)
		return -1;
	while ((e = readdir(d)) != NULL)
		n += e->d_name[0] != '.';
	closedir(d);
	return n;
}

/* The sanitizer's own check at exit may run before this one: check again. */
extern int __lsan_do_recoverable_leak_check(void) __attribute__((weak));

static void
late(void)
{
	int before = threads();

	sleep(11);	/* libmilter's idle workers wait 10 s at most */
	fprintf(stderr, "late-exit: threads %d before, %d after\n", before, threads());
	if (__lsan_do_recoverable_leak_check != NULL && __lsan_do_recoverable_leak_check() != 0)
		_exit(23);
}

__attribute__((constructor)) static void
init(void)
{
	atexit(late);
}
EOF
if "$CC" -shared -fPIC -o "$T/late.so" "$T/late.c" 2>"$T/cc.log"; then
	tap_ok "an atexit handler that holds exit() for 11 s, preloaded ($CC)"
else
	tap_not_ok "the preloaded atexit handler builds"
	tap_diag "$(cat "$T/cc.log")"
fi

rx_setup_keys_dns || rs_die "cannot start the DNS server"
rx_write_conf "$T/relaysign.conf" "RelayNetworks 192.0.2.0/24"
# The sanitizer runtime must come first; the preloaded library after it.
asan=$(ldd "$RELAYSIGN" | awk '/libasan/ { print $3 }')
RX_WRAP="env LD_PRELOAD=$asan:$T/late.so ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0"
rx_must_start relaysign "$T/relaysign.conf" "relaysign with the late handler preloaded"

# Trusted notices, one after another on one session, so that the pool's
# two standing workers take turns; past 32 signatures OpenSSL renews the
# key's RSA blinding, drawing from the signing thread's own random
# generator: a worker now holds OpenSSL per-thread state.
sigs=$("$RS_PY" - "$top_srcdir/tests/milter" 8891 2>&1 <<'EOF'
import sys
sys.path.insert(0, sys.argv[1])
from drain import Session
s = Session("127.0.0.1", int(sys.argv[2]))
s.start("192.0.2.10")
counts = {}
for i in range(70):
    s.mail("EXIT%d" % i)
    s.data()
    s.header_block()
    cmd, data, edits = s.finish()
    n = sum(1 for c, d in edits if c in (b"i", b"h") and b"DKIM-Signature" in d)
    counts[n] = counts.get(n, 0) + 1
s.send(b"Q")
print(" ".join("%d:%d" % kv for kv in sorted(counts.items())))
EOF
)
if [ "$sigs" = "2:70" ]; then
	tap_ok "70 trusted notices on one session, each signed twice (RSA, Ed25519)"
else
	tap_not_ok "70 trusted notices on one session, each signed twice (signatures:count $sigs)"
	diag_log "$LOG"
fi

# The stop: drain, smfi_stop, main() returns, exit() waits in the handler
# while the workers' waits run out; then the sanitizers have their say.
rx_finish_milter "$LOG" "relaysign exited 0 on SIGTERM" "no ASan/UBSan/LSan report from relaysign"

line=$(grep -m1 '^late-exit:' "$LOG")
before=$(sed -n 's/.*threads \([0-9]*\) before.*/\1/p' <<<"$line")
after=$(sed -n 's/.*, \([0-9]*\) after.*/\1/p' <<<"$line")
if [ -n "$before" ] && [ -n "$after" ] && [ "$after" -lt "$before" ]; then
	tap_ok "libmilter workers ended during exit(): threads $before -> $after"
else
	tap_not_ok "libmilter workers ended during exit(): ${line:-no report from the handler}"
fi

tap_done
