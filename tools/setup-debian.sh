#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# setup-debian.sh -- install what relaysign needs to build, test and demo
# on Debian 12 (run as root).  Safe to run again: apt-get skips what is there.
set -eu

if [ "$(id -u)" != 0 ]; then
	echo "setup-debian.sh: run as root (it calls apt-get)" >&2
	exit 1
fi

PKGS="
build-essential autoconf automake libtool pkg-config
libmilter-dev libopendkim-dev libspf2-dev libssl-dev libpsl-dev libidn2-dev
libldns-dev libjansson-dev libmicrohttpd-dev
publicsuffix openssl
postfix swaks miltertest opendkim opendkim-tools
python3 python3-dkim python3-dnslib libmail-dkim-perl libnet-dns-perl
mandoc iproute2 util-linux procps strace clang libclang-rt-14-dev
rsyslog dovecot-core ssl-cert prometheus
debhelper lintian dpkg-dev
"

missing=""
for p in $PKGS; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' ||
		missing="$missing $p"
done
if [ -z "$missing" ]; then
	echo "setup-debian.sh: all packages present"
	exit 0
fi

echo "setup-debian.sh: installing:$missing"
# Postfix asks questions on install; answer them so nothing waits for a human.
echo "postfix postfix/main_mailer_type select Local only" | debconf-set-selections
echo "postfix postfix/mailname string relaysign.test" | debconf-set-selections
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# shellcheck disable=SC2086
apt-get install -y -q --no-install-recommends $missing
