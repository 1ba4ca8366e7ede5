#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# tests/e2e/spf-nocache.sh -- tests/e2e/spf.sh with DNSCacheSize 0 (TAP):
# every SPF row must give the same result with the DNS cache (spf.sh, where
# it is on by default) and without it (here).
: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
export top_srcdir
RS_SPF_EXTRA="DNSCacheSize 0" exec bash "$top_srcdir/tests/e2e/spf.sh" "$@"
