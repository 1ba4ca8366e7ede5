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
. "${top_srcdir:-$(dirname "$0")/../..}/tools/lib.sh"

rs_test_needs "namespaces" openssl unshare ip ss
CC=${CC:-gcc}
command -v "$CC" >/dev/null || { echo "Bail out! $CC not found (run tools/setup-debian.sh)"; exit 1; }
ldd "$RELAYSIGN" 2>/dev/null | grep -q 'libasan' ||
	tap_skip_all "relaysign is not built with AddressSanitizer (tools/test.sh builds it so)"

rs_sandbox "$0" "$@"
rs_init exit
T=$RS_TMP
LOG=$T/relaysign.log
PORT=$((20000 + $$ % 20000))

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

mkdir -m 0700 "$T/keys"
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$T/keys/rsa.key" 2>/dev/null
openssl genpkey -algorithm ed25519 -out "$T/keys/ed.key" 2>/dev/null
cat >"$T/relaysign.conf" <<EOF
Socket inet:$PORT@127.0.0.1
AuthservID relay.test
RelayNetworks 192.0.2.0/24
Domain library.example.edu
Selector rsa2026 ed2026
KeyFile $T/keys/rsa.key $T/keys/ed.key
SignatureAlgorithm rsa-sha256 ed25519-sha256
Background no
Syslog no
LogLevel info
EOF

# The sanitizer runtime must come first; the preloaded library after it.
asan=$(ldd "$RELAYSIGN" | awk '/libasan/ { print $3 }')
start_bg relaysign "$PORT" env LD_PRELOAD="$asan $T/late.so" \
	ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0" \
	"$RELAYSIGN" -f -c "$T/relaysign.conf"
pid=$(rs_pid_of relaysign)
if bg_check relaysign; then
	tap_ok "relaysign started with the late handler preloaded"
else
	tap_not_ok "relaysign started ($RS_BG_WHY)"
	diag_log "$LOG"
fi

# Trusted notices, one after another on one session, so that the pool's
# two standing workers take turns; past 32 signatures OpenSSL renews the
# key's RSA blinding, drawing from the signing thread's own random
# generator: a worker now holds OpenSSL per-thread state.
sigs=$("$RS_PY" - "$top_srcdir/tests/milter" "$PORT" 2>&1 <<'EOF'
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
# while the workers' waits run out.
kill -TERM "$pid"
for ((i = 0; i < 400; i++)); do
	kill -0 "$pid" 2>/dev/null || break
	sleep 0.1
done
bg_check relaysign
if [ "${RS_BG_STATUS:-x}" = 0 ]; then
	tap_ok "relaysign exited 0 on SIGTERM"
else
	tap_not_ok "relaysign exited 0 on SIGTERM (${RS_BG_WHY:-still running after 40 s})"
	diag_log "$LOG" 40
fi

line=$(grep -m1 '^late-exit:' "$LOG")
before=$(sed -n 's/.*threads \([0-9]*\) before.*/\1/p' <<<"$line")
after=$(sed -n 's/.*, \([0-9]*\) after.*/\1/p' <<<"$line")
if [ -n "$before" ] && [ -n "$after" ] && [ "$after" -lt "$before" ]; then
	tap_ok "libmilter workers ended during exit(): threads $before -> $after"
else
	tap_not_ok "libmilter workers ended during exit(): ${line:-no report from the handler}"
fi

if grep -q 'Sanitizer\|runtime error:' "$LOG"; then
	tap_not_ok "no ASan/UBSan/LSan report from relaysign"
	tap_diag "$(grep -m12 -A12 'ERROR: \|runtime error:' "$LOG")"
else
	tap_ok "no ASan/UBSan/LSan report from relaysign"
fi

tap_done
