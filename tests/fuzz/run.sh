#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# tests/fuzz/run.sh -- build every libFuzzer target and run each for a while (TAP).
#
#   tests/fuzz/run.sh [SECONDS]        (or SECONDS=N in the environment)
#
# Each tests/fuzz/fuzz_*.c is built with clang -fsanitize=fuzzer,address,undefined
# against the lib/ sources, then run for SECONDS (default 60) on a temporary copy
# of its seed corpus tests/fuzz/corpus/NAME/ (the repository's corpus is never
# written).  One TAP line per target, with the number of executions it survived
# in the description.  A crash, leak, sanitizer report or timeout is "not ok",
# with the reproducer saved under $FUZZ_ARTIFACTS (default: a directory kept
# in /tmp and named in the diagnostics) and the tail of the fuzzer's output.
#
# lib/ is compiled file by file into a static archive, so each target links
# only the objects it needs and a lib/ file that does not compile (work in
# progress elsewhere) only matters to the targets that need it.
#
# Environment:
#   $1, SECONDS_EACH or SECONDS   run time per target (seconds, default 60;
#                   600 with RELAYSIGN_LONG_TESTS=1)
#   FUZZ_TARGETS    space-separated subset of target names (fuzz_from ...)
#   FUZZ_BUILDDIR   where to build (default: a temp dir, removed at exit)
#   CC_FUZZ         the clang to use (default: clang)
#   top_srcdir      the source tree (Automake sets it; default: this repository)
# Skips (1..0) when clang or libFuzzer is missing, except under
# RELAYSIGN_REQUIRE_ALL=1, where that is a "Bail out!".
set -u

: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
# Seconds per target: argument, then SECONDS_EACH, then SECONDS (bash
# increments $SECONDS itself, so read it before anything else runs).
secs_env=${SECONDS_EACH:-}
if [ -z "$secs_env" ]; then
	# printenv sees SECONDS only when the caller exported it.
	secs_env=$(printenv SECONDS)
fi
# RELAYSIGN_LONG_TESTS=1 (the long runs' switch): 10 minutes per target.
if [ "${RELAYSIGN_LONG_TESTS:-0}" = 1 ]; then dflt=600; else dflt=60; fi
SECS=${1:-${secs_env:-$dflt}}
case $SECS in '' | *[!0-9]*) echo "Bail out! SECONDS must be a number of seconds, not '$SECS'"; exit 1 ;; esac

# shellcheck source=tools/lib.sh
. "$top_srcdir/tools/lib.sh"

CC=${CC_FUZZ:-clang}
command -v "$CC" >/dev/null || tap_skip_all "$CC not found (apt-get install clang)"
command -v pkg-config >/dev/null || tap_skip_all "pkg-config not found"

cd "$top_srcdir" || exit 1
if [ -n "${FUZZ_TARGETS:-}" ]; then
	read -r -a targets <<<"$FUZZ_TARGETS"
else
	targets=()
	for f in tests/fuzz/fuzz_*.c; do
		[ -f "$f" ] && targets+=("$(basename "$f" .c)")
	done
fi
[ "${#targets[@]}" -gt 0 ] || tap_skip_all "no tests/fuzz/fuzz_*.c targets"

if [ -n "${FUZZ_BUILDDIR:-}" ]; then
	B=$FUZZ_BUILDDIR
	mkdir -p "$B" || exit 1
else
	B=$(mktemp -d /tmp/relaysign-fuzz.XXXXXX) || exit 1
	trap 'rm -rf "$B"' EXIT
fi
ART=${FUZZ_ARTIFACTS:-/tmp/relaysign-fuzz-artifacts.$$}

# A trivial probe: is libFuzzer there at all?
printf 'int LLVMFuzzerTestOneInput(const char *d, unsigned long n){(void)d;(void)n;return 0;}\n' \
	>"$B/probe.c"
"$CC" -fsanitize=fuzzer,address,undefined "$B/probe.c" -o "$B/probe" >/dev/null 2>&1 ||
	tap_skip_all "$CC cannot build libFuzzer targets (-fsanitize=fuzzer)"

SAN="-fsanitize=address,undefined -fno-sanitize-recover=undefined"
# The pipeline's limits, small enough that the fuzzer crosses them in
# microseconds (the daemon's: 20,000 fields, 4 MiB).
SAN="$SAN -DPIPELINE_MAX_HEADERS=300 -DPIPELINE_MAX_HEADER_BYTES=65536"
# shellcheck disable=SC2207
PKGCFLAGS=($(pkg-config --cflags opendkim libcrypto libpsl libidn2 ldns 2>/dev/null))
# shellcheck disable=SC2207
PKGLIBS=($(pkg-config --libs opendkim libcrypto libpsl libidn2 ldns 2>/dev/null) -lspf2 -lresolv -lpthread)

# lib/ objects, one by one, into an archive.
mkdir -p "$B/obj"
libfail=""
for src in lib/*.c; do
	o="$B/obj/$(basename "$src" .c).o"
	# shellcheck disable=SC2086
	if ! "$CC" -g -O1 -fsanitize=fuzzer-no-link $SAN -Ilib "${PKGCFLAGS[@]}" \
		-c "$src" -o "$o" >"$B/obj/$(basename "$src" .c).err" 2>&1; then
		libfail="$libfail $src"
		rm -f "$o"
	fi
done
rm -f "$B/librelaysign-fuzz.a"
ar rcs "$B/librelaysign-fuzz.a" "$B"/obj/*.o || { echo "Bail out! ar failed"; exit 1; }

tap_plan "${#targets[@]}"
echo "# $SECS s per target, clang $("$CC" -dumpversion)"
[ -n "$libfail" ] && echo "# lib/ files that did not compile (targets needing them fail):$libfail"

total=0
for t in "${targets[@]}"; do
	src=tests/fuzz/$t.c
	name=${t#fuzz_}
	bin="$B/$t"
	# shellcheck disable=SC2086
	if ! "$CC" -g -O1 -fsanitize=fuzzer $SAN -Ilib "${PKGCFLAGS[@]}" "$src" \
		"$B/librelaysign-fuzz.a" "${PKGLIBS[@]}" -o "$bin" >"$B/$t.build" 2>&1; then
		tap_not_ok "$t: does not build"
		sed 's/^/# /' "$B/$t.build" | head -30
		for src2 in $libfail; do
			echo "# $src2:"
			sed 's/^/#   /' "$B/obj/$(basename "$src2" .c).err" | head -10
		done
		continue
	fi
	corpus="$B/corpus-$name"
	rm -rf "$corpus"
	mkdir -p "$corpus" "$ART/$t"
	if [ -d "tests/fuzz/corpus/$name" ]; then
		cp -p "tests/fuzz/corpus/$name"/* "$corpus/" 2>/dev/null
	fi
	nseed=$(find "$corpus" -type f | wc -l)
	# -timeout: one input may take at most 10 s; -rss_limit_mb guards
	# against runaway allocations; the outer timeout bounds the whole run.
	log="$B/$t.log"
	ASAN_OPTIONS=${FUZZ_ASAN_OPTIONS:-abort_on_error=1:detect_leaks=1} \
		UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
		timeout -k 10 $((SECS + 120)) "$bin" -max_total_time="$SECS" -timeout=10 \
		-rss_limit_mb=2048 -print_final_stats=1 \
		-artifact_prefix="$ART/$t/" "$corpus" >"$log" 2>&1
	rc=$?
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" |
		awk '{ s += $1 } END { print s + 0 }')
	cov=$(sed -n 's/^#[0-9]*.*DONE *cov: \([0-9]*\).*/\1/p' "$log" | tail -1)
	final=$(find "$corpus" -type f | wc -l)
	desc="$t: $execs executions in ${SECS}s, no crash (seeds $nseed, corpus grew to $final, cov ${cov:-?})"
	if [ "$rc" = 0 ] && [ "$execs" -gt 0 ]; then
		tap_ok "$desc"
		total=$((total + execs))
		rmdir "$ART/$t" 2>/dev/null
	else
		tap_not_ok "$t: fuzzer stopped with status $rc after $execs executions"
		echo "# reproducers in $ART/$t/:"; find "$ART/$t" -type f | sed "s/^/#   /"
		grep -E 'ERROR|SUMMARY|runtime error|Test unit written|^    #[0-9]' "$log" | head -40 | sed 's/^/# /'
	fi
done
rmdir "$ART" 2>/dev/null
echo "# total: $total executions over ${#targets[@]} targets"
tap_done
