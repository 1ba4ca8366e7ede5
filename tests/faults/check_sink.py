#!/usr/bin/python3
# SPDX-License-Identifier: BSD-2-Clause
"""check_sink.py -- count and verify every message smtp-sink stored.

Usage: check_sink.py --dir SINKDIR --dns 127.0.0.1:53 --selectors rsa2026,ed2026
                     [--verify all|N]

For each file: its identity -- by default the queue id in the last
(earliest) Received field, i.e. the id the first MTA gave the message (set
enable_long_queue_ids = yes so that it never repeats); smtp-source's own
Message-Ids repeat within a run, so they cannot tell messages apart --, the
DKIM-Signature fields and their s= tags, and (for all files, or every Nth
with --verify N) a dkimpy verification of every signature against the test
DNS server.  Prints one summary line of key=value pairs:

  files=500 unique=500 duplicates=0 no_id=0 signed_once=500 bad_sigs=0
  verified=500 verify_failed=0

"signed_once" counts files with exactly one signature per expected selector
and no other.  The first few problems follow, one per line, prefixed '# '.
Exit status 0 when files == unique, every file is signed once and every
verification passed; 1 otherwise; 2 on usage errors.
"""

import argparse
import importlib.util
import os
import re
import sys

import dkim


def load_verify(top):
    spec = importlib.util.spec_from_file_location(
        'rs_verify', os.path.join(top, 'tests', 'e2e', 'verify.py'))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def headers(raw):
    """The header block as (lower-case name, unfolded value) pairs."""
    end = raw.find(b'\n\n')
    end2 = raw.find(b'\r\n\r\n')
    cut = [e for e in (end, end2) if e >= 0]
    block = raw[:min(cut)] if cut else raw
    out = []
    for line in block.replace(b'\r\n', b'\n').split(b'\n'):
        if line[:1] in (b' ', b'\t') and out:
            out[-1] = (out[-1][0], out[-1][1] + line)
        elif b':' in line:
            n, v = line.split(b':', 1)
            out.append((n.strip().lower(), v.strip()))
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--dir', required=True)
    ap.add_argument('--dns', default='127.0.0.1:53')
    ap.add_argument('--selectors', default='rsa2026,ed2026')
    ap.add_argument('--verify', default='all')
    ap.add_argument('--key', choices=('received', 'message-id'), default='received')
    ap.add_argument('--top', default=os.path.join(os.path.dirname(__file__), '..', '..'))
    a = ap.parse_args()
    want = sorted(a.selectors.split(','))
    every = 1 if a.verify == 'all' else max(1, int(a.verify))
    addr, _, port = a.dns.rpartition(':')
    vmod = load_verify(a.top)
    cache = {}
    base = vmod.make_dnsfunc(addr, int(port), [])

    def dnsfunc(name, timeout=5):
        if name not in cache:
            cache[name] = base(name, timeout)
        return cache[name]

    files = sorted(os.path.join(a.dir, f) for f in os.listdir(a.dir)
                   if os.path.isfile(os.path.join(a.dir, f)))
    seen = {}
    st = dict(files=len(files), unique=0, duplicates=0, no_id=0, signed_once=0,
              bad_sigs=0, verified=0, verify_failed=0)
    problems = []
    for i, path in enumerate(files):
        with open(path, 'rb') as f:
            raw = f.read()
        hs = headers(raw)
        if a.key == 'message-id':
            mids = [v for n, v in hs if n == b'message-id']
        else:
            rcvd = [v for n, v in hs if n == b'received']
            m = re.search(rb'\bid\s+([0-9A-Za-z]+)', rcvd[-1]) if rcvd else None
            mids = [m.group(1)] if m else []
        if not mids:
            st['no_id'] += 1
            problems.append('%s: no %s' % (path, a.key))
        else:
            mid = mids[0]
            if mid in seen:
                st['duplicates'] += 1
                problems.append('%s: duplicate of %s (%s)' % (path, seen[mid], mid.decode()))
            else:
                seen[mid] = path
        sels = []
        for n, v in hs:
            if n == b'dkim-signature':
                m = re.search(rb'(?:^|;)\s*s\s*=\s*([A-Za-z0-9.-]+)', v)
                sels.append(m.group(1).decode() if m else '?')
        if sorted(sels) == want:
            st['signed_once'] += 1
        else:
            st['bad_sigs'] += 1
            problems.append('%s: selectors %s, want %s' % (path, sels, want))
        if i % every == 0 and sels:
            d = dkim.DKIM(raw)
            ok = True
            for k in range(len(sels)):
                try:
                    if not d.verify(idx=k, dnsfunc=dnsfunc):
                        ok = False
                except Exception as e:          # dkimpy raises on junk
                    ok = False
                    problems.append('%s: signature %d: %s' % (path, k, e))
            st['verified'] += 1
            if not ok:
                st['verify_failed'] += 1
                problems.append('%s: a signature did not verify' % path)
    st['unique'] = len(seen)
    print(' '.join('%s=%d' % (k, v) for k, v in st.items()))
    for p in problems[:10]:
        print('# ' + p)
    good = (st['files'] == st['unique'] and st['no_id'] == 0 and st['bad_sigs'] == 0
            and st['verify_failed'] == 0)
    return 0 if good else 1


if __name__ == '__main__':
    sys.exit(main())
