#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# tests/explain.sh -- relaysign -x, explain mode, as a table (TAP).
#
# Each row of tests/data/explain/cases runs relaysign -x on one .eml file of
# tests/data/explain with the client facts of the row and checks the action,
# the reason and the exit status it reports (-j, JSON, read with Python's
# json module).  Rows whose action is "signed" also write the message (-o)
# and dkimpy verifies both signatures against the test's DNS server, which
# serves the same zone relaysign -x read with -z.  Then: the text output
# names each fact; the defaults (client 127.0.0.1, MAIL FROM from
# Return-Path, else From); ReturnPath shows as the new envelope sender, never
# for the null sender; RelayBindings' binding; forged results removed from
# the -o output; -z asks no DNS at all; the errors a user makes exit 1 and
# say what is wrong.
#
# Environment: top_srcdir, top_builddir, RELAYSIGN, RS_KEEP=1.  Skipped only
# when not root or relaysign is not built.
set -u

# shellcheck source=tools/lib.sh
. "${top_srcdir:-$(dirname "$0")/..}/tools/lib.sh" --with-extra
RELAYSIGN=${RELAYSIGN:-$top_builddir/relaysign}
RS_NAME=explain

rs_test_needs "a private network namespace and DNS server" openssl unshare ip ss base64

rs_sandbox "$0" "$@"
rs_init explain

T=$RS_TMP
DATA=$top_srcdir/tests/data/explain
D=library.example.edu

# Keys, and the zone: the static records plus the two key records.
mkdir -m 0700 "$T/keys"
rs_keygen_rsa "$T/keys/rsa.key" 2048 && rs_keygen_ed25519 "$T/keys/ed.key" ||
	rs_die "cannot make keys"
{
	cat "$DATA/static.zone"
	# zone_txt VALUE: a TXT value as strings of at most 255 bytes.
	v=$(rs_dkim_txt_rsa "$T/keys/rsa.key")
	printf 'rsa2026._domainkey.%s. IN TXT (' "$D"
	while [ -n "$v" ]; do printf ' "%s"' "${v:0:250}"; v=${v:250}; done
	printf ' )\n'
	printf 'ed2026._domainkey.%s. IN TXT "%s"\n' "$D" "$(rs_dkim_txt_ed25519 "$T/keys/ed.key")"
} >"$T/zone"
start_dns --zone "$T/zone" --authority example.edu --authority exlibrisgroup.com \
	--authority vendor.test --authority evil.test --authority tempfail.test \
	--servfail tempfail.test || rs_die "cannot start the DNS server"

conf() {        # conf NAME LINES...
	local f=$T/$1.conf
	shift
	{
		echo "# tests/explain.sh"
		echo "AuthservID          relay.test"
		echo "Domain              $D"
		echo "Selector            rsa2026 ed2026"
		echo "KeyFile             $T/keys/rsa.key $T/keys/ed.key"
		echo "SignatureAlgorithm  rsa-sha256 ed25519-sha256"
		echo "RelayNetworks       192.0.2.0/24"
		echo "RelayAuthUsers      alma"
		echo "RelaySPFNames       spf-na.vendor.test"
		echo "ReturnPath          bounces@$D"
		echo "DMARCLookup         yes"
		printf '%s\n' "$@"
	} >"$f"
}
conf plain
conf strict "RequireSPF yes" "OnBadFrom reject"
printf 'auth:alma %s\nnet:192.0.2.0/25 %s\n' "$D" "$D" >"$T/bindings"
conf bound "RelayBindings $T/bindings"

# jget FILE KEY: a top-level JSON value as text ("" for null).
jget() {
	/usr/bin/python3 -c 'import json,sys
v = json.load(open(sys.argv[1]))[sys.argv[2]]
print("" if v is None else v if not isinstance(v, (list, dict)) else json.dumps(v))' "$1" "$2"
}

# explain OUT ARGS...: relaysign -x ARGS, JSON in OUT.json, stderr in OUT.err; sets RC.
explain() {
	local out=$1
	shift
	"$RELAYSIGN" "$@" -j >"$out.json" 2>"$out.err"
	RC=$?
}
export -f jget

mapfile -t ROWS < <(grep -v -e '^#' -e '^[[:space:]]*$' "$DATA/cases")
tap_plan $((${#ROWS[@]} + 19))

# --- the table ----------------------------------------------------------------
queries_before=$(wc -l <"$T/dns-queries.log")
zone_only_queries=0
n=0
for row in "${ROWS[@]}"; do
	read -r file cf client login mailfrom dns action reason code <<<"$row"
	n=$((n + 1))
	args=(-c "$T/$cf.conf" -x "$DATA/$file" -H client.test)
	[ "$client" != - ] && args+=(-a "$client")
	[ "$login" != - ] && args+=(-u "$login")
	[ "$mailfrom" != - ] && args+=(-m "$mailfrom")
	[ "$dns" = zone ] && args+=(-z "$T/zone")
	[ "$action" = signed ] && args+=(-o "$T/out.$n.eml")
	label="$file $cf client=$client login=$login mailfrom=$mailfrom dns=$dns: $action"
	[ "$reason" != - ] && label="$label reason=$reason"
	label="$label, exit $code"
	q0=$(wc -l <"$T/dns-queries.log")
	explain "$T/row.$n" "${args[@]}"
	q1=$(wc -l <"$T/dns-queries.log")
	[ "$dns" = zone ] && zone_only_queries=$((zone_only_queries + q1 - q0))
	why=()
	if [ ! -s "$T/row.$n.json" ]; then
		why+=("no JSON; stderr: $(cat "$T/row.$n.err")")
	else
		got_a=$(jget "$T/row.$n.json" action)
		got_r=$(jget "$T/row.$n.json" reason)
		[ "$got_a" = "$action" ] || why+=("action $got_a")
		[ "${got_r:--}" = "$reason" ] || why+=("reason ${got_r:--}")
	fi
	[ "$RC" = "$code" ] || why+=("exit status $RC")
	if [ "$action" = signed ] && [ ${#why[@]} = 0 ]; then
		v=$(verify_py "$T/out.$n.eml" 2>&1)
		grep -q "d=$D s=rsa2026 a=rsa-sha256 result=pass" <<<"$v" &&
			grep -q "d=$D s=ed2026 a=ed25519-sha256 result=pass" <<<"$v" ||
			why+=("the -o message does not verify: $v")
	fi
	if [ ${#why[@]} = 0 ]; then
		tap_ok "$label"
	else
		tap_not_ok "$label"
		tap_diag "${why[@]}" "relaysign ${args[*]}" "$(cat "$T/row.$n.err")"
	fi
done
# -z is offline: the DNS server saw nothing from those rows.
if [ "$zone_only_queries" = 0 ] && [ "$(wc -l <"$T/dns-queries.log")" -gt "$queries_before" ]; then
	tap_ok "-z answered every look-up itself: no query reached DNS (the live rows did)"
else
	tap_not_ok "-z answered every look-up itself: $zone_only_queries queries reached DNS"
fi

# --- what the text says ---------------------------------------------------------
"$RELAYSIGN" -c "$T/plain.conf" -x "$DATA/notice.eml" -a 192.0.2.10 -z "$T/zone" \
	>"$T/text.out" 2>&1
text_facts() {
	local k
	for k in "relay:       network" "spf:         pass (domain of exlibrisgroup.com designates 192.0.2.10" \
		"from:        $D" "aligned:     fail (relaxed, envelope exlibrisgroup.com)" \
		"dmarc:       reject" "keys:        d=$D s=rsa2026 a=rsa-sha256, d=$D s=ed2026 a=ed25519-sha256" \
		"decision:    signed" "adds:        Authentication-Results: relay.test;" \
		"signature:   d=$D s=rsa2026 a=rsa-sha256 h=From:To:Subject:Date:Message-ID" \
		"envelope:    <bounces@$D> (was <alma@exlibrisgroup.com>)"; do
		grep -qF -- "$k" "$T/text.out" || { echo "missing: $k"; cat "$T/text.out"; return 1; }
	done
}
tap_check "the text names relay, SPF and its reason, From, alignment, DMARC, keys, decision, A-R, h=, envelope" \
	text_facts

# --- defaults -----------------------------------------------------------------
explain "$T/def" -c "$T/plain.conf" -x "$DATA/notice.eml" -z "$T/zone"
tap_check "no -a: the client is 127.0.0.1 (untrusted here), and the text says it is a default" \
	bash -c '[ "$(jget "$1" client)" = 127.0.0.1 ] && [ "$(jget "$1" reason)" = untrusted ] &&
		"$2" -c "$3" -x "$4" -z "$5" | grep -q "(the default; give -a)"' \
	bash "$T/def.json" "$RELAYSIGN" "$T/plain.conf" "$DATA/notice.eml" "$T/zone"
explain "$T/nrp" -c "$T/plain.conf" -x "$DATA/no-return-path.eml" -a 192.0.2.10 -z "$T/zone"
tap_check "no -m and no Return-Path: MAIL FROM is the From address, and it says so" \
	bash -c '[ "$(jget "$1" mail_from)" = alma@exlibrisgroup.com ] &&
		jget "$1" mail_from_source | grep -q "From address"' bash "$T/nrp.json"
explain "$T/rp" -c "$T/plain.conf" -x "$DATA/notice.eml" -z "$T/zone" -a 192.0.2.10
tap_check "ReturnPath: a signed notice's envelope sender becomes <bounces@$D>" \
	bash -c '[ "$(jget "$1" envelope_sender)" = "<bounces@library.example.edu>" ]' bash "$T/rp.json"
explain "$T/null" -c "$T/plain.conf" -x "$DATA/notice.eml" -z "$T/zone" -a 192.0.2.10 -m '<>'
tap_check "ReturnPath: never for the null sender (signed, envelope unchanged)" \
	bash -c '[ "$(jget "$1" action)" = signed ] && [ -z "$(jget "$1" envelope_sender)" ]' \
	bash "$T/null.json"

# --- bindings ------------------------------------------------------------------------
explain "$T/b1" -c "$T/bound.conf" -x "$DATA/notice.eml" -z "$T/zone" -a 192.0.2.200 -u alma
tap_check "RelayBindings: the login's binding is named with its domains" \
	bash -c '[ "$(jget "$1" binding)" = auth:alma ] && [ "$(jget "$1" action)" = signed ] &&
		[ "$(jget "$1" binding_domains)" = library.example.edu ]' bash "$T/b1.json"
explain "$T/b2" -c "$T/bound.conf" -x "$DATA/notice.eml" -z "$T/zone" -a 192.0.2.200
tap_check "RelayBindings: a network with no line binds nothing: tagged not-bound, binding none" \
	bash -c '[ "$(jget "$1" binding)" = none ] && [ "$(jget "$1" reason)" = not-bound ] &&
		[ "$(jget "$1" relay)" = network ]' bash "$T/b2.json"

# --- the -o message --------------------------------------------------------------------
"$RELAYSIGN" -c "$T/plain.conf" -x "$DATA/forged-stranger.eml" -a 203.0.113.7 -z "$T/zone" \
	-o "$T/forged.out" >"$T/forged.txt" 2>&1
tap_check "an untrusted message's forged result is reported and gone from the -o message" \
	sh -c 'grep -q "removed:     1 forged Authentication-Results claiming relay.test" "$1" &&
		! grep -qi "^Authentication-Results: relay.test" "$2" && grep -q "^From: Someone" "$2"' \
	sh "$T/forged.txt" "$T/forged.out"
"$RELAYSIGN" -c "$T/plain.conf" -x "$DATA/mbox-crlf.eml" -a 192.0.2.10 -z "$T/zone" \
	-o "$T/crlf.out" >/dev/null 2>&1
# crlf_kept: every line of the output ends in CRLF, and the body is the input's.
crlf_kept() {
	local out=$1 in=$2
	[ "$(grep -vc $'\r$' "$out")" = 0 ] || { echo "a line without CR"; return 1; }
	cmp <(sed -n $'/^\r$/,$p' "$out") <(sed -n $'/^\r$/,$p' "$in")
}
tap_check "a CRLF file is written back with CRLF, its body byte for byte" \
	crlf_kept "$T/crlf.out" "$DATA/mbox-crlf.eml"
"$RELAYSIGN" -c "$T/strict.conf" -x "$DATA/two-from.eml" -a 192.0.2.10 -z "$T/zone" \
	-o "$T/rej.out" >/dev/null 2>"$T/rej.err"
tap_check "-o for a rejected message writes nothing and says why" \
	sh -c '[ ! -e "$1" ] && grep -q "not written: the message would be rejected" "$2"' \
	sh "$T/rej.out" "$T/rej.err"

# --- what users get wrong -----------------------------------------------------------------
# fails_with TEXT CMD...: exit 1 and TEXT on standard error.
fails_with() {
	local text=$1 rc err
	shift
	err=$("$@" 2>&1 >/dev/null)
	rc=$?
	[ "$rc" = 1 ] && grep -qF -- "$text" <<<"$err" && return 0
	echo "exit $rc, want 1 and \"$text\" in: $err"
	return 1
}
tap_check "-x of a missing file: exit 1, naming it" \
	fails_with "$T/nope.eml" "$RELAYSIGN" -c "$T/plain.conf" -x "$T/nope.eml" -z "$T/zone"
tap_check "-a that is no address: exit 1" \
	fails_with "-a 999.1.1.1: not an IPv4 or IPv6 address" "$RELAYSIGN" -c "$T/plain.conf" \
	-x "$DATA/notice.eml" -a 999.1.1.1 -z "$T/zone"
printf 'ok.example.edu. IN TXT "v=spf1 -all"\nbad.example.edu. IN TXT\n' >"$T/bad.zone"
tap_check "-z with a broken zone file: exit 1, naming file and line" \
	fails_with "-z $T/bad.zone:2: Syntax error" "$RELAYSIGN" -c "$T/plain.conf" -x "$DATA/notice.eml" \
	-z "$T/bad.zone"
tap_check "-a without -x: usage, exit 1" \
	fails_with "go with -x" "$RELAYSIGN" -c "$T/plain.conf" -a 192.0.2.10
tap_check "-x with -n: usage, exit 1" \
	fails_with "-x goes with none of -n, -t, -f" "$RELAYSIGN" -c "$T/plain.conf" -n \
	-x "$DATA/notice.eml"
tap_check "-x of a FIFO is refused, not waited on" \
	sh -c 'mkfifo "$1" && out=$(timeout 5 "$2" -c "$3" -x "$1" -z "$4" 2>&1); rc=$?;
		[ "$rc" = 1 ] && echo "$out" | grep -q "not a regular file"' \
	sh "$T/fifo" "$RELAYSIGN" "$T/plain.conf" "$T/zone"
tap_check "-x - reads standard input" \
	sh -c '"$1" -c "$2" -x - -a 192.0.2.10 -z "$3" -j <"$4" | grep -q "\"action\": \"signed\""' \
	sh "$RELAYSIGN" "$T/plain.conf" "$T/zone" "$DATA/notice.eml"
tap_check "no sanitizer report in any run" \
	sh -c '! grep -lE "ERROR: (Address|Leak)Sanitizer|runtime error:" "$1"/*.err "$1"/*.txt 2>/dev/null | grep -q .' \
	sh "$T"
tap_done
