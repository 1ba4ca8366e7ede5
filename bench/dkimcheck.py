#!/usr/bin/python3
# SPDX-License-Identifier: BSD-2-Clause
"""dkimcheck.py -- verify the DKIM signatures of benchmark messages with dkimpy.

usage: dkimcheck.py --key SELECTOR=KEYFILE [--key ...] [--expect N] [--max K] FILE|DIR...

Public keys come from the private key files themselves (openssl derives the
DNS records, as tools/lib.sh's rs_dkim_txt_* do) and are handed to dkimpy
through a dnsfunc: no DNS at all.  Every file (or the first K files of each
directory, sorted) must carry exactly N DKIM-Signature fields (--expect, if
given) and every one of them must verify.

Prints one line:  checked=FILES sigs=SIGNATURES pass=P fail=F badcount=B
and the first failure reasons on stderr.  Exit 0 only if nothing failed.
Run with /usr/bin/python3 (Debian's python3-dkim).
"""

import argparse
import base64
import os
import subprocess
import sys

try:
    import dkim
except ImportError as e:
    print('dkimcheck.py: %s (use /usr/bin/python3 with python3-dkim)' % e, file=sys.stderr)
    sys.exit(2)


def pubkey_record(path):
    """The DKIM TXT record (RFC 6376 3.6.1, RFC 8463 4) for a private key file."""
    der = subprocess.run(['openssl', 'pkey', '-in', path, '-pubout', '-outform', 'DER'],
                         check=True, capture_output=True).stdout
    out = subprocess.run(['openssl', 'pkey', '-in', path, '-noout', '-text'],
                         capture_output=True, text=True).stdout
    if 'ED25519' in out.upper():
        return b'v=DKIM1; k=ed25519; p=' + base64.b64encode(der[-32:])
    return b'v=DKIM1; k=rsa; p=' + base64.b64encode(der)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--key', action='append', default=[], metavar='SELECTOR=KEYFILE')
    ap.add_argument('--domain', default='library.example.edu')
    ap.add_argument('--expect', type=int, default=None)
    ap.add_argument('--max', type=int, default=0, help='at most K files per directory')
    ap.add_argument('paths', nargs='+')
    args = ap.parse_args()

    records = {}
    for kv in args.key:
        sel, _, path = kv.partition('=')
        name = '%s._domainkey.%s.' % (sel, args.domain)
        records[name.lower()] = pubkey_record(path)

    def dnsfunc(name, timeout=5):
        if isinstance(name, bytes):
            name = name.decode('ascii', 'replace')
        name = name.lower()
        if not name.endswith('.'):
            name += '.'
        return records.get(name)

    files = []
    for p in args.paths:
        if os.path.isdir(p):
            names = sorted(f for f in os.listdir(p) if not f.startswith('.'))
            if args.max > 0:
                names = names[:args.max]
            files += [os.path.join(p, f) for f in names]
        else:
            files.append(p)

    nsig = npass = nfail = nbad = 0
    reasons = []
    for f in files:
        with open(f, 'rb') as fp:
            msg = fp.read()
        try:
            sigs = [v for (k, v) in dkim.rfc822_parse(msg)[0]
                    if k.lower() == b'dkim-signature']
        except Exception as e:          # unparsable message
            nbad += 1
            reasons.append('%s: cannot parse: %s' % (f, e))
            continue
        if args.expect is not None and len(sigs) != args.expect:
            nbad += 1
            reasons.append('%s: %d DKIM-Signature fields, expected %d'
                           % (f, len(sigs), args.expect))
        d = dkim.DKIM(msg)
        for i in range(len(sigs)):
            nsig += 1
            try:
                ok = d.verify(idx=i, dnsfunc=dnsfunc)
            except Exception as e:      # dkimpy raises odd things on junk
                ok = False
                reasons.append('%s: signature %d: %s: %s' % (f, i, type(e).__name__, e))
            if ok:
                npass += 1
            else:
                nfail += 1
                reasons.append('%s: signature %d does not verify' % (f, i))
    print('checked=%d sigs=%d pass=%d fail=%d badcount=%d'
          % (len(files), nsig, npass, nfail, nbad))
    for r in reasons[:5]:
        print('dkimcheck: ' + r, file=sys.stderr)
    return 0 if files and nfail == 0 and nbad == 0 and nsig > 0 else 1


if __name__ == '__main__':
    sys.exit(main())
