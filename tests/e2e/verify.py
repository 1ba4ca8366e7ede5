#!/usr/bin/python3
# SPDX-License-Identifier: BSD-2-Clause
"""verify.py -- verify every DKIM-Signature of a message with dkimpy.

usage: verify.py [--dns ADDR[:PORT]] [--expect-none] [--quiet] FILE|-
       verify.py [--dns ADDR[:PORT]] --table FILE...

Public keys are fetched from the given DNS server (default 127.0.0.1:53) with
dnslib -- never from the host's resolver.  Prints one line per signature, in
header order (topmost first):

    d=library.example.edu s=rsa2026 a=rsa-sha256 result=pass
    d=library.example.edu s=ed2026 a=ed25519-sha256 result=fail

(the reason for a failure goes to stderr).  Exit status: 0 if there is at
least one signature and all pass; with --expect-none, 0 only if there is no
DKIM-Signature at all; 1 otherwise; 2 on usage or I/O errors.

--table: many messages (a sink's), one tab-separated line each, DNS answers
cached across them:
    FILE QID FROM-DOMAIN SIGNATURES D-LIST S-LIST pass|fail REASON
QID is the queue id of the "by relay.test (Postfix)" Received field; an
empty list or a field not found is "-".  Exit status 0 (the lines say it).

Run with /usr/bin/python3 (Debian's python3-dkim and python3-dnslib).  The
input may be a file as Postfix's smtp-sink stores it (extra X-Client-* lines
and a trailing empty line do not affect DKIM).
"""

import argparse
import logging
import re
import socket
import sys

try:
    import dkim
    from dkim.util import parse_tag_value
    from dnslib import DNSRecord, QTYPE, RCODE
except ImportError as e:
    print('verify.py: %s (use /usr/bin/python3 with python3-dkim and '
          'python3-dnslib installed)' % e, file=sys.stderr)
    sys.exit(2)


def make_dnsfunc(addr, port, trace):
    def dnsfunc(name, timeout=5):
        if isinstance(name, bytes):
            name = name.decode('ascii', 'replace')
        q = DNSRecord.question(name.rstrip('.'), 'TXT')
        try:
            raw = q.send(addr, port, timeout=min(timeout, 3))
            r = DNSRecord.parse(raw)
            if r.header.tc:
                r = DNSRecord.parse(q.send(addr, port, tcp=True, timeout=min(timeout, 3)))
        except socket.timeout:
            raise dkim.DnsTimeoutError('no answer from %s:%d for %s' % (addr, port, name))
        except OSError as e:
            raise dkim.DnsTimeoutError('DNS %s:%d: %s' % (addr, port, e))
        trace.append('%s TXT -> %s' % (name, RCODE.get(r.header.rcode)))
        if r.header.rcode != RCODE.NOERROR:
            return None
        for rr in r.rr:
            if rr.rtype == QTYPE.TXT:
                return b''.join(rr.rdata.data)
        return None
    return dnsfunc


QID_RE = re.compile(rb'by relay\.test \(Postfix\) with E?SMTPS?A? id ([0-9A-Za-z]+)')


def table(files, addr, port):
    """--table: one line per file (see the top of this file)."""
    cache = {}
    base = make_dnsfunc(addr, port, [])

    def dnsfunc(name, timeout=5):
        if name not in cache:
            cache[name] = base(name, timeout)
        return cache[name]

    for path in files:
        with open(path, 'rb') as f:
            msg = f.read()
        try:
            hdrs = dkim.rfc822_parse(msg)[0]
        except Exception as e:                 # dkimpy raises odd things on junk
            print('%s\t-\t-\t0\t-\t-\tfail\tunparsable: %s' % (path, e))
            continue
        qid = '-'
        for k, v in hdrs:
            m = QID_RE.search(re.sub(rb'\s+', b' ', v)) if k.lower() == b'received' else None
            if m:
                qid = m.group(1).decode()
                break
        frm = [v for k, v in hdrs if k.lower() == b'from']
        m = re.search(rb'@([^>\s]+)', frm[0]) if frm else None
        fdom = m.group(1).decode('ascii', 'replace').lower() if m else '-'
        sigs = [v for k, v in hdrs if k.lower() == b'dkim-signature']
        ds, ss = [], []
        for v in sigs:
            try:
                tags = parse_tag_value(v)
            except Exception:                  # unparsable tag list
                tags = {}
            ds.append(tags.get(b'd', b'-').decode('ascii', 'replace'))
            ss.append(tags.get(b's', b'-').decode('ascii', 'replace'))
        ok, why = bool(sigs), '' if sigs else 'no DKIM-Signature'
        for i in range(len(sigs)):
            try:
                if not dkim.DKIM(msg).verify(idx=i, dnsfunc=dnsfunc):
                    ok, why = False, 'signature %d did not verify' % i
            except Exception as e:
                ok, why = False, '%s: %s' % (type(e).__name__, e)
        print('\t'.join([path, qid, fdom, str(len(sigs)), ','.join(ds) or '-',
                         ','.join(ss) or '-', 'pass' if ok else 'fail', why]))
    return 0


class ListHandler(logging.Handler):
    def __init__(self):
        super().__init__()
        self.lines = []

    def emit(self, record):
        self.lines.append(record.getMessage())


def main():
    ap = argparse.ArgumentParser(description='verify DKIM signatures with dkimpy')
    ap.add_argument('--dns', default='127.0.0.1:53', metavar='ADDR[:PORT]')
    ap.add_argument('--expect-none', action='store_true',
                    help='succeed only if the message has no DKIM-Signature')
    ap.add_argument('--quiet', '-q', action='store_true', help='no failure reasons')
    ap.add_argument('--table', action='store_true',
                    help='many files, one tab-separated line each')
    ap.add_argument('file', nargs='+')
    args = ap.parse_args()
    if not args.table and len(args.file) != 1:
        ap.error('one FILE, or --table')

    addr, _, port = args.dns.rpartition(':') if ':' in args.dns else (args.dns, '', '53')
    addr = addr.strip('[]')
    try:
        port = int(port)
        if args.table:
            return table(args.file, addr, port)
        args.file = args.file[0]
        if args.file == '-':
            msg = sys.stdin.buffer.read()
        else:
            with open(args.file, 'rb') as f:
                msg = f.read()
    except (OSError, ValueError) as e:
        print('verify.py: %s' % e, file=sys.stderr)
        return 2

    handler = ListHandler()
    logger = logging.getLogger('verify.py')
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    logger.propagate = False

    try:
        d = dkim.DKIM(msg, logger=logger)
        sigs = [v for (k, v) in dkim.rfc822_parse(msg)[0] if k.lower() == b'dkim-signature']
    except dkim.DKIMException as e:
        print('verify.py: cannot parse message: %s' % e, file=sys.stderr)
        return 1

    if args.expect_none:
        for v in sigs:
            print('unexpected signature: %s' % v.decode('ascii', 'replace').strip()[:120])
        if not sigs:
            print('no DKIM-Signature (as expected)')
        return 0 if not sigs else 1
    if not sigs:
        print('no DKIM-Signature')
        return 1

    allpass = True
    for i, v in enumerate(sigs):
        try:
            tags = parse_tag_value(v)
        except Exception:                      # unparsable tag list
            tags = {}
        dd, ss, aa = (tags.get(t, b'?').decode('ascii', 'replace')
                      for t in (b'd', b's', b'a'))
        trace = []
        handler.lines = []
        reason = ''
        try:
            ok = d.verify(idx=i, dnsfunc=make_dnsfunc(addr, port, trace))
        except dkim.DKIMException as e:
            ok = False
            reason = '%s: %s' % (type(e).__name__, e)
        except Exception as e:                 # dkimpy raises odd things on junk
            ok = False
            reason = 'error %s: %s' % (type(e).__name__, e)
        print('d=%s s=%s a=%s result=%s' % (dd, ss, aa, 'pass' if ok else 'fail'))
        if not ok:
            allpass = False
            if not args.quiet:
                why = reason or '; '.join(l for l in handler.lines
                                          if not l.startswith('sig:'))[:600]
                print('  signature %d (%s/%s): %s%s' % (
                    i, dd, ss, why or 'signature did not verify',
                    (' [dns: %s]' % ', '.join(trace)) if trace else ''),
                    file=sys.stderr)
    return 0 if allpass else 1


if __name__ == '__main__':
    sys.exit(main())
