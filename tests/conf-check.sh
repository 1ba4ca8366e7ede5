#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# conf-check.sh -- every file in tests/data/conf through `relaysign -n -c`.
#
# bad-*.conf starts with two comment lines:
#	# expect: <text the error must contain>
#	# line: <the line the error names, or "none" for the file alone>
# relaysign must exit 1 and print, on standard error, "<file>:<line>: "
# (or "<file>: ") and the text.  good-*.conf must exit 0 and print
# "relaysign: <file>: ok" on standard output, nothing on standard error.
# A file that holds "@KEYDIR@" is checked as a copy with it replaced by a
# directory of keys made here with openssl genpkey.
# Speaks TAP; skipped (1..0) when relaysign is not built.
set -u

# shellcheck source=tools/lib.sh
. "${top_srcdir:-$(dirname "$0")/..}/tools/lib.sh"
bin=$top_builddir/relaysign
data=$top_srcdir/tests/data/conf

if [ ! -x "$bin" ]; then
	tap_skip_all "$bin not built"
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/relaysign-conf.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT
trap 'exit 1' HUP INT PIPE TERM
keys=$tmp/keys
mkdir "$keys" || exit 1

# The keys and tables the configurations name as @KEYDIR@/...
have_keys=yes
(
	umask 077
	openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 \
	    -out "$keys/rsa.key" &&
	openssl genpkey -algorithm ED25519 -out "$keys/ed25519.key" &&
	openssl genpkey -algorithm ED25519 -out "$keys/open.key" &&
	chmod 644 "$keys/open.key" &&
	openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:512 \
	    -out "$keys/small.key" &&
	openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 \
	    -out "$keys/ec.key" &&
	echo "not a key" > "$keys/notakey.key"
) >/dev/null 2>&1 || have_keys=no
cat > "$keys/keytable" <<EOF
# name domain:selector:keyfile
lib-rsa library.example.edu:alma2026:$keys/rsa.key
lib-ed  library.example.edu:ed2026:$keys/ed25519.key
EOF
cat > "$keys/signingtable" <<EOF
*@library.example.edu lib-rsa
*@library.example.edu lib-ed
EOF
echo "library.example.edu lib-rsa" > "$keys/signingtable-rsa"
printf '%s\n' "# identity          domains" \
	"auth:alma           library.example.edu, example.edu" \
	"auth:alma-eu        library.example.edu" \
	"net:192.0.2.0/25    example.edu" > "$keys/bindings"
printf 'auth:alma library.example.edu\nauth:alma-eu evil.test\n' > "$keys/bindings-nokey"
printf 'auth:alma library.example.edu\n' > "$keys/bindings-alma"
echo "* lib-rsa" > "$keys/signingtable-star"

# contains: does $1 hold $2 (no pattern characters)?
contains() {
	case $1 in
	*"$2"*) return 0 ;;
	esac
	return 1
}

set -- "$data"/bad-*.conf "$data"/good-*.conf "$data"/warn-*.conf
tap_plan $(($# + 2))
for src in "$@"; do
	name=$(basename "$src")
	file=$src
	if grep -q '@KEYDIR@' "$src"; then
		if [ "$have_keys" = no ]; then
			tap_skip "$name" "openssl genpkey could not make test keys"
			continue
		fi
		file=$tmp/$name
		sed "s|@KEYDIR@|$keys|g" "$src" > "$file"
	fi
	"$bin" -n -c "$file" > "$tmp/out" 2> "$tmp/err"
	status=$?
	out=$(cat "$tmp/out")
	err=$(cat "$tmp/err")

	case $name in
	good-*)
		[ $status -eq 0 ] && contains "$out" "relaysign: $file: ok" && [ -z "$err" ]
		rc=$?
		[ $rc -eq 0 ] && msg="$name: ok" ||
		    msg="$name: exit $status, stdout: $out, stderr: $err"
		tap_status $rc "$msg"
		;;
	warn-*)
		# Legal but risky: accepted, with "warning: file:line: text" on stderr.
		want=$(sed -n '1s/^# warn: //p' "$src")
		wline=${want%%: *}
		wtext=${want#*: }
		[ $status -eq 0 ] && contains "$out" "relaysign: $file: ok" &&
		    contains "$err" "relaysign: warning: $file:$wline: $wtext"
		rc=$?
		[ $rc -eq 0 ] && msg="$name: ok, warns at line $wline: $wtext" ||
		    msg="$name: exit $status, wants a warning at line $wline ($wtext), stderr: $err"
		tap_status $rc "$msg"
		;;
	bad-*)
		expect=$(sed -n '1s/^# expect: //p' "$src")
		line=$(sed -n '2s/^# line: //p' "$src")
		if [ -z "$expect" ] || [ -z "$line" ]; then
			tap_not_ok "$name: no \"# expect:\" and \"# line:\" header"
			continue
		fi
		if [ "$line" = none ]; then
			where="$file: "
		else
			where="$file:$line: "
		fi
		[ $status -eq 1 ] && contains "$err" "$where" && contains "$err" "$expect" &&
		    [ -z "$out" ]
		rc=$?
		[ $rc -eq 0 ] && msg="$name: line $line: $expect" ||
		    msg="$name: exit $status, wants \"$where...$expect\", got: $err"
		tap_status $rc "$msg"
		;;
	esac
done
# A FIFO where the configuration or a key should be: refused at once, not
# waited on (start-up and SIGHUP would hang on a FIFO with no writer).
mkfifo "$tmp/fifo.conf" "$keys/fifo.key" || exit 1
out=$(timeout 10 "$bin" -n -c "$tmp/fifo.conf" 2>&1)
status=$?
[ $status -eq 1 ] && contains "$out" "$tmp/fifo.conf: not a regular file"
tap_status $? "a FIFO as the configuration: exit 1 at once, not a regular file (exit $status: $out)"
printf 'Domain library.example.edu\nSelector s\nKeyFile %s\n' "$keys/fifo.key" > "$tmp/fifokey.conf"
out=$(timeout 10 "$bin" -n -c "$tmp/fifokey.conf" 2>&1)
status=$?
[ $status -eq 1 ] && contains "$out" "$keys/fifo.key: not a regular file"
tap_status $? "a FIFO as a key file: exit 1 at once, not a regular file (exit $status: $out)"
tap_done
