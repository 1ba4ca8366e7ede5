# SPDX-License-Identifier: BSD-2-Clause
# shellcheck shell=bash
# tools/consortium.sh -- a generated consortium of N institutions for the
# scale benchmark (bench/consortium.sh) and the consortium reload test
# (tests/ops/consortium-reload.sh).  Source it after tools/lib.sh.
#
# Institution i (1..N) is inst%03d.edu; its Alma logs in as alma-inst%03d,
# and that login is bound to its domain alone (RelayBindings, one auth:
# line an institution, no RelayAuthUsers).  Its keys are RSA-2048
# (selector rsa2026) and/or Ed25519 (selector ed2026), in table mode:
#
#   keytable      inst007-rsa inst007.edu:rsa2026:KEYDIR/inst007.rsa.key
#   signingtable  inst007.edu inst007-rsa
#   bindings      auth:alma-inst007 inst007.edu
#
#   cons_keys KEYDIR N ALGS      make the missing keys (ALGS: "rsa ed",
#                                "ed"...), in parallel, and KEYDIR/records,
#                                the DKIM TXT records for dnsserver.py
#                                --records (kept up to date with the keys)
#   cons_tables DIR KEYDIR ALGS FIRST LAST
#                                DIR/keytable, signingtable, bindings for
#                                institutions FIRST..LAST
#   cons_conf DIR ALGS [LINE...] DIR/relaysign.conf naming DIR's tables,
#                                signing with ALGS, then the extra lines
#   cons_dom I / cons_login I    inst%03d.edu / alma-inst%03d
#
# Keys are written aside and renamed into place, so an interrupted run
# leaves no half key in a reused cache.  RSA-2048 generation costs about
# 0.1-1 s a key on this kind of machine: 500 keys take minutes, hence the
# cache (bench/consortium.sh keeps it in the build directory).

cons_dom() { printf 'inst%03d.edu' "$1"; }
cons_login() { printf 'alma-inst%03d' "$1"; }

# cons_keygen_one KEYDIR I ALG: one key, if it is not there yet.
cons_keygen_one() {
	local dir=$1 i=$2 alg=$3 f tmp
	f=$(printf '%s/inst%03d.%s.key' "$dir" "$i" "$alg")
	[ -s "$f" ] && return 0
	tmp="$f.tmp.$$"
	case $alg in
	rsa) openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$tmp" 2>/dev/null ;;
	ed) openssl genpkey -algorithm ed25519 -out "$tmp" 2>/dev/null ;;
	*) echo "cons_keygen_one: unknown algorithm $alg" >&2; return 1 ;;
	esac || { rm -f "$tmp"; return 1; }
	chmod 0600 "$tmp" && mv -f "$tmp" "$f"
}

# cons_keys KEYDIR N ALGS: every missing key, $(nproc) at a time, then the records.
cons_keys() {
	local dir=$1 n=$2 algs=$3 alg i missing=0 jobs
	mkdir -p "$dir" && chmod 0700 "$dir" || return 1
	rm -f "$dir"/*.tmp.* 2>/dev/null
	for alg in $algs; do
		for ((i = 1; i <= n; i++)); do
			[ -s "$(printf '%s/inst%03d.%s.key' "$dir" "$i" "$alg")" ] || missing=$((missing + 1))
		done
	done
	if [ "$missing" -gt 0 ]; then
		jobs=$(nproc 2>/dev/null || echo 2)
		rs_log "generating $missing keys into $dir ($jobs at a time)"
		export -f cons_keygen_one
		for alg in $algs; do
			# shellcheck disable=SC2016  # expanded by the inner bash
			seq 1 "$n" | xargs -P "$jobs" -I{} bash -c 'cons_keygen_one "$0" {} "$1"' "$dir" "$alg" ||
				return 1
		done
	fi
	cons_records "$dir" "$n" "$algs"
}

# cons_records KEYDIR N ALGS: KEYDIR/records (NAME TXT VALUE lines), remade
# when a key is newer than it or it lacks a line.
cons_records() {
	local dir=$1 n=$2 algs=$3 alg i f sel want=0 tmp
	for alg in $algs; do want=$((want + n)); done
	if [ -s "$dir/records" ] && [ "$(grep -c . "$dir/records")" -ge "$want" ] &&
		[ -z "$(find "$dir" -name '*.key' -newer "$dir/records" | head -1)" ]; then
		# The cache may hold more institutions or algorithms than asked for.
		for alg in $algs; do
			sel=${alg}2026
			grep -q "^$sel\._domainkey\.$(cons_dom "$n") TXT " "$dir/records" || { want=-1; break; }
		done
		[ "$want" != -1 ] && return 0
	fi
	tmp="$dir/records.tmp.$$"
	: >"$tmp"
	for ((i = 1; i <= 999; i++)); do
		for alg in rsa ed; do
			f=$(printf '%s/inst%03d.%s.key' "$dir" "$i" "$alg")
			[ -s "$f" ] || continue
			case $alg in
			rsa) printf 'rsa2026._domainkey.%s TXT %s\n' "$(cons_dom "$i")" "$(rs_dkim_txt_rsa "$f")" ;;
			ed) printf 'ed2026._domainkey.%s TXT %s\n' "$(cons_dom "$i")" "$(rs_dkim_txt_ed25519 "$f")" ;;
			esac
		done
	done >>"$tmp" || return 1
	mv -f "$tmp" "$dir/records"
}

# cons_tables DIR KEYDIR ALGS FIRST LAST: the three tables for FIRST..LAST.
cons_tables() {
	local dir=$1 kdir=$2 algs=$3 first=$4 last=$5 i alg d
	mkdir -p "$dir" || return 1
	: >"$dir/keytable"
	: >"$dir/signingtable"
	: >"$dir/bindings"
	{
		echo "# $((last - first + 1)) institutions, one SMTP AUTH login each (tools/consortium.sh)"
		for ((i = first; i <= last; i++)); do
			printf 'auth:%s %s\n' "$(cons_login "$i")" "$(cons_dom "$i")"
		done
	} >"$dir/bindings"
	for ((i = first; i <= last; i++)); do
		d=$(cons_dom "$i")
		for alg in $algs; do
			printf 'inst%03d-%s %s:%s2026:%s/inst%03d.%s.key\n' "$i" "$alg" "$d" "$alg" "$kdir" "$i" "$alg" >>"$dir/keytable"
			printf '%s inst%03d-%s\n' "$d" "$i" "$alg" >>"$dir/signingtable"
		done
	done
}

# cons_conf DIR ALGS [LINE...]: DIR/relaysign.conf over DIR's tables.
cons_conf() {
	local dir=$1 algs=$2 a sigalgs=""
	shift 2
	for a in $algs; do
		case $a in rsa) sigalgs+=" rsa-sha256" ;; ed) sigalgs+=" ed25519-sha256" ;; esac
	done
	{
		echo "# a consortium relay (tools/consortium.sh)"
		echo "Socket              inet:8891@127.0.0.1"
		echo "AuthservID          relay.test"
		echo "KeyTable            $dir/keytable"
		echo "SigningTable        $dir/signingtable"
		echo "RelayBindings       $dir/bindings"
		echo "SignatureAlgorithm $sigalgs"
		echo "Background          no"
		echo "Syslog              no"
		[ $# -gt 0 ] && printf '%s\n' "$@"
	} >"$dir/relaysign.conf"
}
