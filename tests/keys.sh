#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# tests/keys.sh -- relaysign-keygen, and relaysign -t against a local DNS (TAP).
#
#   relaysign-keygen: writes PKCS#8 PEM with mode 0600 whatever the umask;
#   prints a TXT record in <=255-byte strings whose value is the one OpenSSL
#   derives independently (tools/lib.sh rs_dkim_txt_*); refuses 1024 and
#   8192 bits; refuses to overwrite.
#   The printed record, served verbatim as a zone file by dnsserver.py, and
#   the printed relaysign.conf / KeyTable / SigningTable lines, used
#   verbatim: relaysign -n accepts them and relaysign -t says "match"; a
#   record of another key says MISMATCH; an unpublished selector says "no
#   record"; SERVFAIL says "DNS error"; every failure exits 1.
#   A key file with mode 0644 makes relaysign -n fail, naming the file.
#   contrib/: relaysign.conf.sample passes relaysign -n with keygen's keys and
#   shows every option of relaysign.conf(5); the Postfix samples use only
#   known parameters; relaysign.service passes systemd-analyze verify.
#
# Environment: top_srcdir, top_builddir (as Automake sets them), RELAYSIGN,
# RELAYSIGN_KEYGEN (default: $top_builddir/relaysign, .../relaysign-keygen),
# RS_KEEP=1 keeps the temporary directory.
# Skipped (TAP "1..0 # SKIP", tools/lib.sh tap_skip_all; a failure under
# RELAYSIGN_REQUIRE_ALL, as in CI) only when not root or the binaries are
# not built.
# The sh -c scripts below take their arguments as "$1"...: single quotes on purpose.
# shellcheck disable=SC2016
set -u

# shellcheck source=tools/lib.sh
. "${top_srcdir:-$(dirname "$0")/..}/tools/lib.sh"

RELAYSIGN=${RELAYSIGN:-$top_builddir/relaysign}
KEYGEN=${RELAYSIGN_KEYGEN:-$top_builddir/relaysign-keygen}
export RELAYSIGN RELAYSIGN_KEYGEN=$KEYGEN

[ "$(id -u)" = 0 ] || tap_skip_all "needs root (a private DNS server in a network namespace)"
[ -x "$RELAYSIGN" ] || tap_skip_all "relaysign not built ($RELAYSIGN)"
[ -x "$KEYGEN" ] || tap_skip_all "relaysign-keygen not built ($KEYGEN)"
rs_require_tools openssl unshare ip ss base64 cmp
"$RS_PY" -c 'import dnslib' 2>/dev/null ||
	{ echo "Bail out! $RS_PY lacks dnslib (apt-get install python3-dnslib)"; exit 1; }

rs_sandbox "$0" "$@"
rs_init keys

DOMAIN=library.example.edu
T=$RS_TMP
K=$T/keys
mkdir -m 0700 "$K" || rs_die "mkdir $K"

tap_plan 54

# keygen NAME ARGS...: relaysign-keygen ARGS with umask 000 (the file must
# still be 0600); stdout in $T/NAME.out, stderr in $T/NAME.err.
keygen() {
	local name=$1
	shift
	(umask 000 && exec "$KEYGEN" "$@") >"$T/$name.out" 2>"$T/$name.err"
}

# record_block NAME: the zone-file record keygen printed (from "IN TXT (" to ")").
record_block() { sed -n '/ IN TXT ( /,/ )$/p' "$T/$1.out"; }

# record_value NAME: the record's strings joined, as a verifier sees them.
record_value() { record_block "$1" | grep -o '"[^"]*"' | tr -d '"\n'; }

# check_strings NAME: every quoted string of the record is 1..255 bytes.
check_strings() {
	local s n=0
	while IFS= read -r s; do
		s=${s#\"}
		s=${s%\"}
		n=$((n + 1))
		if [ "${#s}" -lt 1 ] || [ "${#s}" -gt 255 ]; then
			echo "string $n is ${#s} bytes"
			return 1
		fi
	done < <(record_block "$1" | grep -o '"[^"]*"')
	[ "$n" -ge 2 ] || { echo "only $n strings in:"; record_block "$1"; return 1; }
}

# same TEXT1 TEXT2: equal, or both shown.
same() {
	[ "$1" = "$2" ] && return 0
	printf 'got:  %s\nwant: %s\n' "$1" "$2"
	return 1
}

# expect_fail OUTFILE TEXT CMD...: CMD exits 1 and its output (stdout and
# stderr, kept in OUTFILE) holds TEXT.
expect_fail() {
	local out=$1 text=$2 rc
	shift 2
	"$@" >"$out" 2>&1
	rc=$?
	if [ "$rc" = 1 ] && grep -qF -- "$text" "$out"; then
		return 0
	fi
	echo "exit status $rc (want 1), want \"$text\" in:"
	cat "$out"
	return 1
}

# expect_ok OUTFILE TEXT CMD...: CMD exits 0 and its output holds TEXT.
expect_ok() {
	local out=$1 text=$2 rc
	shift 2
	"$@" >"$out" 2>&1
	rc=$?
	if [ "$rc" = 0 ] && grep -qF -- "$text" "$out"; then
		return 0
	fi
	echo "exit status $rc (want 0), want \"$text\" in:"
	cat "$out"
	return 1
}

# conf FILE LINES...: a relaysign.conf for -n and -t (never started).
conf() {
	local f=$1
	shift
	{
		echo "# tests/keys.sh"
		echo "Socket inet:8891@127.0.0.1"
		echo "Background no"
		echo "Syslog no"
		printf '%s\n' "$@"
	} >"$f"
}

# --- relaysign-keygen ------------------------------------------------------
tap_check "keygen: RSA key for alma2026 (umask 000)" \
	keygen alma2026 -D "$K" -d "$DOMAIN" -s alma2026
tap_check "keygen: the key file has mode 0600 despite umask 000" \
	same "$(stat -c %a "$K/alma2026.key" 2>&1)" 600
tap_check "keygen: the key is PKCS#8 PEM that OpenSSL reads" \
	sh -c 'head -1 "$1" | grep -qx -- "-----BEGIN PRIVATE KEY-----" &&
		openssl pkey -in "$1" -noout' sh "$K/alma2026.key"
tap_check "keygen: the record's strings are 1..255 bytes each" check_strings alma2026
tap_check "keygen: the record value is the key's SubjectPublicKeyInfo (as openssl derives it)" \
	same "$(record_value alma2026)" "$(rs_dkim_txt_rsa "$K/alma2026.key")"
tap_check "keygen: prints the record name, the web-form value, and the conf lines" \
	sh -c 'grep -q "^alma2026\._domainkey\.library\.example\.edu\. IN TXT ( \"v=DKIM1; k=rsa; \"$" "$1" &&
		grep -qx "v=DKIM1; k=rsa; p=[A-Za-z0-9+/=]*" "$1" &&
		grep -qx "Domain  *library\.example\.edu" "$1" &&
		grep -qx "Selector  *alma2026" "$1" &&
		grep -qx "KeyFile  *$2/alma2026\.key" "$1"' sh "$T/alma2026.out" "$K"

tap_check "keygen: Ed25519 key for ed2026" \
	keygen ed2026 --type ed25519 -D "$K" -d "$DOMAIN" -s ed2026
tap_check "keygen: the Ed25519 record holds the bare 32-byte key (RFC 8463)" \
	same "$(record_value ed2026)" "$(rs_dkim_txt_ed25519 "$K/ed2026.key")"
tap_check "keygen: 4096-bit RSA key for big2026" \
	keygen big2026 -b 4096 -D "$K" -s big2026 "$DOMAIN"
tap_check "keygen: the 4096-bit record is cut into several <=255-byte strings" \
	sh -c '[ "$(grep -o "\"[^\"]*\"" "$1" | wc -l)" -ge 4 ]' sh "$T/big2026.out"

tap_check "keygen: -b 1024 is refused, citing RFC 8301, and writes nothing" \
	sh -c '! "$1" -b 1024 -D "$2" -s weak -d "$3" >"$4/weak.out" 2>&1 &&
		grep -q "RFC 8301" "$4/weak.out" && [ ! -e "$2/weak.key" ]' \
	sh "$KEYGEN" "$K" "$DOMAIN" "$T"
tap_check "keygen: -b 8192 is refused" \
	expect_fail "$T/huge.out" "more than 4096 bits" "$KEYGEN" -b 8192 -D "$K" -s huge -d "$DOMAIN"
cp -p "$K/alma2026.key" "$T/alma2026.key.orig"
tap_check "keygen: refuses to overwrite an existing key, naming it" \
	expect_fail "$T/again.out" "$K/alma2026.key: already exists" \
	"$KEYGEN" -D "$K" -s alma2026 -d "$DOMAIN"
tap_check "keygen: the existing key is unchanged" cmp "$K/alma2026.key" "$T/alma2026.key.orig"
# One selector rule (lib/dnsname.c): what keygen makes, relaysign -n takes,
# and what relaysign -n refuses, keygen refuses first, in the same words.
tap_check "keygen: -s alma_2026 is refused as relaysign.conf refuses it, and writes nothing" \
	sh -c '! "$1" -D "$2" -s alma_2026 -d "$3" >"$4/under.out" 2>&1 &&
		grep -q "selector \"alma_2026\" has a character other than letters, digits" "$4/under.out" &&
		[ ! -e "$2/alma_2026.key" ]' sh "$KEYGEN" "$K" "$DOMAIN" "$T"

# --- opendkim-genkey's flags mean the same -------------------------------------
# rec_tags: the tags of the zone-file record on stdin but p= and n=, sorted,
# one a line (quoted strings joined, as verifiers join them).
rec_tags() {
	tr -d '\n' | grep -o '"\([^"\\]\|\\.\)*"' | sed 's/^"//; s/"$//' | tr -d '\n' |
		tr ';' '\n' | sed 's/^[[:space:]]*//; s/[[:space:]]*$//' |
		grep -v -e '^p=' -e '^n=' -e '^$' | sort
}
GENKEY_FLAGS=(-b 2048 -h sha256 -r -t -S -a -n Alma)
tap_check "keygen: opendkim-genkey's flags -D -d -s -b -h -r -t -S -a -n -v are accepted" \
	keygen flags -D "$K" -d "$DOMAIN" -s flags2026 "${GENKEY_FLAGS[@]}" -v
if command -v opendkim-genkey >/dev/null; then
	# same_tags: the record's tags are opendkim-genkey's for the same flags.
	same_tags() {
		mkdir -p "$T/odk" &&
			opendkim-genkey -D "$T/odk" -d "$DOMAIN" -s flags2026 "${GENKEY_FLAGS[@]}" ||
			return 1
		same "$(record_block flags | rec_tags | tr '\n' ' ')" \
			"$(rec_tags <"$T/odk/flags2026.txt" | tr '\n' ' ')"
	}
	tap_check "keygen: ... and give the record opendkim-genkey gives (h=, k=, s=email, t=y:s)" \
		same_tags
else
	tap_ok "keygen: ... opendkim-genkey comparison # SKIP opendkim-genkey not installed"
fi
tap_check "keygen: -n becomes n= (RFC 6376 qp-section: ';' and '=' encoded)" \
	sh -c '"$1" -D "$2" -d "$3" -s note2026 -n "a;b=c" >"$4/note.out" 2>&1 &&
		grep -q "n=a=3Bb=3Dc; " "$4/note.out"' sh "$KEYGEN" "$K" "$DOMAIN" "$T"
tap_check "keygen: -v says each step on standard error" \
	grep -q "private key written to $K/flags2026.key" "$T/flags.err"
# Old spellings: refused with the new one named, never run with another meaning.
tap_check "keygen: the old '-a ed25519' is refused, naming --type" \
	expect_fail "$T/old-a.out" "--type ed25519" "$KEYGEN" -a ed25519 -D "$K" -s olda "$DOMAIN"
tap_check "keygen: the old '-d DIR' is refused, naming -D" \
	expect_fail "$T/old-d.out" "the directory is -D $K" "$KEYGEN" -d "$K" -s oldd "$DOMAIN"
tap_check "keygen: no domain (opendkim-genkey would use localhost) is refused" \
	expect_fail "$T/no-d.out" "no domain" "$KEYGEN" -D "$K" -s nod
tap_check "keygen: -h sha1 is refused, citing RFC 8301" \
	expect_fail "$T/sha1.out" "RFC 8301" "$KEYGEN" -h sha1 -D "$K" -s sha1 -d "$DOMAIN"
tap_check "keygen: --help prints the usage on standard output and exits 0" \
	sh -c '"$1" --help >"$2/help.out" 2>/dev/null && grep -q "^usage: relaysign-keygen" "$2/help.out" &&
		grep -q -- "--type=rsa|ed25519" "$2/help.out"' sh "$KEYGEN" "$T"
tap_check "keygen: -V and --version print the version" \
	sh -c '"$1" -V | grep -q "^relaysign-keygen " && "$1" --version | grep -q "^relaysign-keygen "' \
	sh "$KEYGEN"
tap_check "keygen: none of those refusals left a key file" \
	sh -c '! ls "$1" | grep -qE "^(olda|oldd|nod|sha1)\.key$"' sh "$K"

# --- a wrong key: decoy's record published under wrong2026's name ------------
keygen wrong2026 -D "$K" -d "$DOMAIN" -s wrong2026 || rs_die "keygen wrong2026: $(cat "$T/wrong2026.err")"
keygen decoy -D "$K" -d "$DOMAIN" -s decoy || rs_die "keygen decoy: $(cat "$T/decoy.err")"
keygen unpub -D "$K" -d "$DOMAIN" -s unpub2026 || rs_die "keygen unpub: $(cat "$T/unpub.err")"
keygen sf -D "$K" -d "$DOMAIN" -s sf2026 || rs_die "keygen sf: $(cat "$T/sf.err")"
# Rotation: the next selector's key, beside the one in use, not yet published.
keygen next -D "$K" -d "$DOMAIN" -s alma2027 || rs_die "keygen next: $(cat "$T/next.err")"

# --- publish, verbatim, what keygen printed -----------------------------------
{
	record_block alma2026
	record_block ed2026
	record_block big2026
	record_block decoy | sed 's/^decoy\._domainkey\./wrong2026._domainkey./'
	# ReturnPath's domain authorises one relay address, not another.
	printf '%s. 300 IN TXT "v=spf1 ip4:192.0.2.25 -all"\n' "$DOMAIN"
} >"$T/zone"
start_dns --zone "$T/zone" --authority example.edu --servfail 'sf2026._domainkey.*' ||
	rs_die "cannot start the DNS server"

# --- relaysign -n and -t --------------------------------------------------------
conf "$T/match.conf" \
	"Domain $DOMAIN" "Selector alma2026 ed2026" \
	"KeyFile $K/alma2026.key $K/ed2026.key" \
	"SignatureAlgorithm rsa-sha256 ed25519-sha256"
# The conf lines keygen printed, used as they are.
conf "$T/printed.conf" $'\n'"$(grep -E '^(Domain|Selector|KeyFile) ' "$T/alma2026.out")"
# The KeyTable / SigningTable lines keygen printed, used as they are.
sed -n '/^# KeyTable line:/{n;p}' "$T/big2026.out" >"$T/keytable"
sed -n '/^# SigningTable line:/{n;p}' "$T/big2026.out" >"$T/signingtable"
conf "$T/table.conf" "KeyTable $T/keytable" "SigningTable $T/signingtable"

tap_check "relaysign -n accepts the RSA + Ed25519 keys" \
	expect_ok "$T/n-match.out" "ok" "$RELAYSIGN" -n -c "$T/match.conf"
tap_check "relaysign -n accepts the relaysign.conf lines keygen printed" \
	expect_ok "$T/n-printed.out" "ok" "$RELAYSIGN" -n -c "$T/printed.conf"
tap_check "relaysign -n accepts the KeyTable/SigningTable lines keygen printed" \
	expect_ok "$T/n-table.out" "ok" "$RELAYSIGN" -n -c "$T/table.conf"

tap_check "relaysign -t: published RSA and Ed25519 keys match (exit 0)" \
	expect_ok "$T/t-match.out" \
	"$DOMAIN selector alma2026 (rsa-sha256, 2048 bits): match: the published key is this private key" \
	"$RELAYSIGN" -t -c "$T/match.conf"
tap_check "relaysign -t: the Ed25519 key is reported as a match too" \
	grep -qF "$DOMAIN selector ed2026 (ed25519-sha256): match" "$T/t-match.out"
tap_check "relaysign -t: the printed conf lines match" \
	expect_ok "$T/t-printed.out" "match:" "$RELAYSIGN" -t -c "$T/printed.conf"
tap_check "relaysign -t: the 4096-bit key from the KeyTable matches (a record > 512 bytes)" \
	expect_ok "$T/t-table.out" "selector big2026 (rsa-sha256, 4096 bits): match" \
	"$RELAYSIGN" -t -c "$T/table.conf"

conf "$T/wrong.conf" "Domain $DOMAIN" "Selector wrong2026" "KeyFile $K/wrong2026.key"
tap_check "relaysign -t: another key's record says MISMATCH (exit 1)" \
	expect_fail "$T/t-wrong.out" \
	"MISMATCH: wrong2026._domainkey.$DOMAIN publishes a different RSA key" \
	"$RELAYSIGN" -t -c "$T/wrong.conf"
tap_check "relaysign -t: the MISMATCH line says what to publish" \
	grep -qF "publish: \"$(record_value wrong2026)\"" "$T/t-wrong.out"

# ReturnPath: does the return path's SPF record authorise the relay?
rp_lines=("Domain $DOMAIN" "Selector alma2026" "KeyFile $K/alma2026.key"
	"ReturnPath bounces@$DOMAIN")
conf "$T/rp-pass.conf" "${rp_lines[@]}" "OutboundAddresses 192.0.2.25"
tap_check "relaysign -t: ReturnPath authorised by SPF for OutboundAddresses (exit 0)" \
	expect_ok "$T/t-rp-pass.out" "ReturnPath bounces@$DOMAIN from 192.0.2.25: spf=pass" \
	"$RELAYSIGN" -t -c "$T/rp-pass.conf"
conf "$T/rp-fail.conf" "${rp_lines[@]}" "OutboundAddresses 192.0.2.25 198.51.100.9"
tap_check "relaysign -t: an outbound address SPF does not authorise says fail (exit 1)" \
	expect_fail "$T/t-rp-fail.out" "ReturnPath bounces@$DOMAIN from 198.51.100.9: spf=fail" \
	"$RELAYSIGN" -t -c "$T/rp-fail.conf"
conf "$T/rp-none.conf" "${rp_lines[@]}"
tap_check "relaysign -t: without OutboundAddresses the check is said to be skipped (exit 0)" \
	expect_ok "$T/t-rp-none.out" "ReturnPath: not checked: set OutboundAddresses" \
	"$RELAYSIGN" -t -c "$T/rp-none.conf"

conf "$T/unpub.conf" "Domain $DOMAIN" "Selector unpub2026" "KeyFile $K/unpub2026.key"
tap_check "relaysign -t: an unpublished selector says no record (exit 1)" \
	expect_fail "$T/t-unpub.out" "no record at unpub2026._domainkey.$DOMAIN: publish" \
	"$RELAYSIGN" -t -c "$T/unpub.conf"

conf "$T/mixed.conf" "Domain $DOMAIN" "Selector alma2026 wrong2026" \
	"KeyFile $K/alma2026.key $K/wrong2026.key"
# mixed_report: the MISMATCH line and the match line, exit 1.
mixed_report() {
	expect_fail "$T/t-mixed.out" "MISMATCH" "$RELAYSIGN" -t -c "$T/mixed.conf" &&
		grep -q "selector alma2026 .*: match:" "$T/t-mixed.out"
}
tap_check "relaysign -t: one good and one wrong key: both reported, exit 1" mixed_report

# --- rotation: the next selector's key, checked before it signs ---------------
NEXT="$DOMAIN:alma2027:$K/alma2027.key"
tap_check "relaysign -t CONF $DOMAIN:alma2027:KEY: the unpublished next key says no record (exit 1)" \
	expect_fail "$T/t-next1.out" "next key, not signing yet: $DOMAIN selector alma2027 (rsa-sha256, 2048 bits): no record" \
	"$RELAYSIGN" -t -c "$T/match.conf" "$NEXT"
tap_check "relaysign -t: ... beside the keys in use, which still match" \
	grep -q "^$DOMAIN selector alma2026 .*: match" "$T/t-next1.out"
# rotation_published: the record keygen printed is published; both match.
rotation_published() {
	local i
	record_block next >>"$T/zone" && reload_dns || return 1
	for ((i = 0; i < 50; i++)); do
		"$RELAYSIGN" -t -c "$T/match.conf" "$NEXT" >"$T/t-next2.out" 2>&1 && break
		sleep 0.1
	done
	cat "$T/t-next2.out"
	grep -q "^next key, not signing yet: $DOMAIN selector alma2027 .*: match" "$T/t-next2.out" &&
		grep -q "^3 of 3 keys match their DNS records" "$T/t-next2.out"
}
tap_check "relaysign -t: once published, the next key matches too (exit 0): switch, then" \
	rotation_published
tap_check "relaysign -t: a key operand not domain:selector:keyfile is refused (exit 1)" \
	expect_fail "$T/t-badop.out" "give a key as domain:selector:keyfile" \
	"$RELAYSIGN" -t -c "$T/match.conf" "$K/alma2027.key"
tap_check "relaysign -t: a key operand with a bad selector is refused by the KeyTable rule" \
	expect_fail "$T/t-badsel.out" "the selector has a character other than" \
	"$RELAYSIGN" -t -c "$T/match.conf" "$DOMAIN:alma_2027:$K/alma2027.key"
tap_check "relaysign -n takes no key operands (usage, exit 1)" \
	expect_fail "$T/n-op.out" "usage:" "$RELAYSIGN" -n -c "$T/match.conf" "$NEXT"

conf "$T/sf.conf" "Domain $DOMAIN" "Selector sf2026" "KeyFile $K/sf2026.key"
# Not checked is not a mismatch: its own words, its own exit status.
sf_report() {
	local rc
	"$RELAYSIGN" -t -c "$T/sf.conf" >"$T/t-sf.out" 2>&1
	rc=$?
	cat "$T/t-sf.out"
	[ "$rc" = 2 ] && grep -q "DNS error" "$T/t-sf.out" &&
		grep -q "1 of 1 key could not be checked: DNS did not answer; try again" "$T/t-sf.out" &&
		! grep -q "not match" "$T/t-sf.out"
}
tap_check "relaysign -t: SERVFAIL says DNS error and not checked, not a mismatch (exit 2)" sf_report

# --- a key others can read ------------------------------------------------------
cp "$K/alma2026.key" "$K/open.key" && chmod 0644 "$K/open.key"
conf "$T/open.conf" "Domain $DOMAIN" "Selector alma2026" "KeyFile $K/open.key"
tap_check "relaysign -n: a key with mode 0644 is refused, naming the file" \
	expect_fail "$T/n-open.out" "$K/open.key" "$RELAYSIGN" -n -c "$T/open.conf"
tap_check "relaysign -n: ... and saying why (readable by group or others)" \
	grep -q "readable by group or others" "$T/n-open.out"
tap_check "relaysign -t: a key with mode 0644 is refused before any lookup" \
	expect_fail "$T/t-open.out" "$K/open.key" "$RELAYSIGN" -t -c "$T/open.conf"

# --- contrib/: the samples a postmaster copies ------------------------------------
sed "s#/etc/relaysign/keys/#$K/#g" "$top_srcdir/contrib/relaysign.conf.sample" \
	>"$T/sample.conf"
tap_check "contrib/relaysign.conf.sample passes relaysign -n with keygen's keys" \
	expect_ok "$T/n-sample.out" "ok (2 keys)" "$RELAYSIGN" -n -c "$T/sample.conf"

# sample_options: every option of relaysign.conf(5) is in the sample.
sample_options() {
	local name missing="" n=0
	while read -r name; do
		n=$((n + 1))
		grep -Eq "^#?${name}[[:space:]]" "$top_srcdir/contrib/relaysign.conf.sample" ||
			missing="$missing $name"
	done < <(sed -n '/^\.Sh OPTIONS/,/^\.Sh /s/^\.It Cm \([A-Za-z]*\).*/\1/p' \
	    "$top_srcdir/man/relaysign.conf.5")
	[ -z "$missing" ] || { echo "not in the sample:$missing"; return 1; }
	[ "$n" -gt 10 ] || { echo "only $n options found in relaysign.conf(5)"; return 1; }
}
tap_check "contrib/relaysign.conf.sample shows every option of relaysign.conf(5)" sample_options

# postfix_samples: every main.cf parameter is one Postfix knows, and the
# master.cf snippet parses as the submission service.
postfix_samples() {
	local p d="$T/postfix-sample"
	while read -r p; do
		postconf -d "$p" 2>&1 | grep -q "^$p =" ||
			{ echo "unknown Postfix parameter: $p"; return 1; }
	done < <(sed -n 's/^\([a-z_]*\) =.*/\1/p' "$top_srcdir/contrib/postfix-main.cf.sample")
	mkdir -p "$d" && cp "$top_srcdir/contrib/postfix-main.cf.sample" "$d/main.cf" &&
		cp "$top_srcdir/contrib/postfix-master.cf.snippet" "$d/master.cf" || return 1
	postconf -c "$d" -P submission/inet/smtpd_sasl_auth_enable | grep -qx '.* = yes' &&
		postconf -c "$d" -h smtpd_milters | grep -qx 'unix:relaysign/relaysign.sock'
}
if command -v postconf >/dev/null; then
	tap_check "contrib/postfix-*.cf samples: known parameters, a submission service" \
		postfix_samples
else
	tap_ok "contrib/postfix-*.cf samples # SKIP postconf not installed"
fi

# The unit, with ExecStart pointing at the relaysign under test.
if command -v systemd-analyze >/dev/null; then
	sed "s#/usr/sbin/relaysign#$RELAYSIGN#g" "$top_srcdir/contrib/relaysign.service" \
		>"$T/relaysign.service"
	tap_check "contrib/relaysign.service passes systemd-analyze verify" \
		sh -c 'out=$(systemd-analyze verify --man=no "$1" 2>&1); echo "$out"; [ -z "$out" ]' \
		sh "$T/relaysign.service"
else
	tap_ok "contrib/relaysign.service # SKIP systemd-analyze not installed"
fi

if [ "$RS_TAP_FAILED" != 0 ]; then
	diag_log "$RS_TMP/dns-queries.log" 30
fi
tap_done
