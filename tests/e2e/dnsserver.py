#!/usr/bin/python3
# SPDX-License-Identifier: BSD-2-Clause
"""dnsserver.py -- a small authoritative DNS server for relaysign's tests.

Serves records from zone files (--zone), JSON files (--json) and/or records
given on the command line (--rr 'NAME TYPE VALUE'), over UDP and TCP, on the
address and port given.  Run it with /usr/bin/python3 (Debian's python3-dnslib).

Answers:
  * names inside one of its zones: the records, NOERROR/NODATA when the name
    exists (or has names below it) but has no record of the asked type,
    NXDOMAIN when it does not exist;
  * names outside all of its zones: REFUSED (nothing leaks to real DNS);
  * a negative answer (NXDOMAIN, NODATA) carries the zone's SOA in its
    authority section when the zone has one (RFC 2308), for negative caching;
  * --servfail NAME: SERVFAIL for NAME (and its subdomains if NAME is '*.x');
  * --drop NAME: never answer NAME (the client times out), for temperror tests;
  * --delay MS: every answer waits MS milliseconds (a resolver farther away).

The zones are the names given with --authority, plus every SOA owner; when
neither is given, the last two labels of every record's owner name
(e.g. _domainkey.library.example.edu -> example.edu).  '--authority .' makes the
server authoritative for everything (NXDOMAIN for every unknown name).

TXT values longer than 255 bytes are split into several <=255-byte strings.
UDP answers larger than the client's EDNS buffer (512 without EDNS) are sent
truncated (TC=1) so that the client retries over TCP, as real servers do.

--ready FILE is written (atomically, containing the pid) once both sockets are
listening; --pidfile FILE likewise at start.  SIGHUP re-reads every file;
SIGTERM/SIGINT stop the server.  --log FILE (or '-' for stderr) logs one line
per query: client, protocol, name, type, outcome.

Input formats:
  zone file   standard master-file syntax ($ORIGIN, $TTL, quoted TXT strings);
              parsed by dnslib.
  JSON        a list of {"name": N, "type": T, "value": V, "ttl": 300}
              (value may be a list of strings for TXT), or an object
              {"NAME": {"TYPE": VALUE-or-list-of-VALUES}}.
  --rr        'NAME TYPE VALUE...' e.g.
              --rr 'demo._domainkey.library.example.edu TXT v=DKIM1; k=rsa; p=MII...'
              (for TXT everything after the type is the value, unquoted;
              a value written in double quotes is taken as zone syntax)
              or a file of such lines with --records FILE ('#' comments).

Examples:
  dnsserver.py --address 127.0.0.1 --port 53 --zone test.zone --ready /tmp/dns.ready
  dnsserver.py -a 127.0.0.1 -p 5353 --rr 'a.example.edu A 192.0.2.1' \\
      --servfail spf-na.exlibrisgroup.com --drop slow.example.org
"""

import argparse
import fnmatch
import json
import os
import signal
import sys
import threading
import time

from dnslib import (DNSError, DNSLabel, DNSRecord, QTYPE, RCODE, RR, TXT, CLASS)
from dnslib.server import DNSHandler, DNSServer, DNSLogger


def norm(name):
    """Canonical lower-case name without the trailing dot ('' is the root)."""
    name = str(name).strip().lower()
    if name.endswith('.'):
        name = name[:-1]
    return name


def parent(name):
    return name.split('.', 1)[1] if '.' in name else ''


def in_zone(name, zone):
    return zone == '' or name == zone or name.endswith('.' + zone)


def split_txt(value):
    """A TXT value (str or bytes) as a list of <=255-byte strings."""
    if isinstance(value, str):
        value = value.encode('utf-8')
    if not value:
        return [b'']
    return [value[i:i + 255] for i in range(0, len(value), 255)]


class Store:
    """All records, indexed by lower-case owner name."""

    def __init__(self):
        self.rrs = {}          # name -> [RR]
        self.zones = set()
        self.names = set()     # every owner name and every ancestor below a zone

    def add(self, rr):
        # Re-split TXT strings longer than 255 bytes (zone files may hold them).
        if rr.rtype == QTYPE.TXT and any(len(s) > 255 for s in rr.rdata.data):
            strings = [c for s in rr.rdata.data for c in split_txt(s)]
            rr = RR(rr.rname, QTYPE.TXT, rr.rclass, rr.ttl, TXT(strings))
        self.rrs.setdefault(norm(rr.rname), []).append(rr)
        if rr.rtype == QTYPE.SOA:
            self.zones.add(norm(rr.rname))

    def add_simple(self, name, rtype, value, ttl=300):
        rtype = rtype.upper()
        if rtype == 'TXT':
            values = value if isinstance(value, list) else [value]
            for v in values:
                if isinstance(v, list):          # already split by the author
                    strings = [s.encode('utf-8') for s in v]
                else:
                    strings = split_txt(v)
                self.add(RR(name, QTYPE.TXT, CLASS.IN, ttl, TXT(strings)))
            return
        values = value if isinstance(value, list) else [value]
        for v in values:
            for rr in RR.fromZone('%s. %d IN %s %s' % (norm(name), ttl, rtype, v)):
                self.add(rr)

    def add_line(self, line, where):
        line = line.strip()
        if not line or line.startswith('#') or line.startswith(';'):
            return
        parts = line.split(None, 2)
        if len(parts) < 3:
            raise ValueError('%s: want NAME TYPE VALUE: %r' % (where, line))
        name, rtype, value = parts
        ttl = 300
        if rtype.isdigit():                       # NAME TTL TYPE VALUE
            ttl = int(rtype)
            more = value.split(None, 1)
            if len(more) < 2:
                raise ValueError('%s: want NAME TTL TYPE VALUE: %r' % (where, line))
            rtype, value = more
        if rtype.upper() == 'TXT' and value.startswith('"'):
            for rr in RR.fromZone('%s. %d IN TXT %s' % (norm(name), ttl, value)):
                self.add(rr)
        else:
            self.add_simple(name, rtype, value, ttl)

    def add_json(self, data, where):
        if isinstance(data, dict):
            for name, types in data.items():
                for rtype, value in types.items():
                    self.add_simple(name, rtype, value)
        elif isinstance(data, list):
            for rec in data:
                self.add_simple(rec['name'], rec['type'], rec['value'],
                                int(rec.get('ttl', 300)))
        else:
            raise ValueError('%s: JSON must be a list or an object' % where)

    def finish(self, authorities):
        for a in authorities:
            self.zones.add(norm(a))
        if not self.zones:
            for name in self.rrs:
                labels = name.split('.')
                self.zones.add('.'.join(labels[-2:]))
        for name in self.rrs:
            n = name
            while True:
                self.names.add(n)
                if n in self.zones or n == '':
                    break
                n = parent(n)


def load(args):
    st = Store()
    for path in args.zone:
        with open(path) as f:
            for rr in RR.fromZone(f.read()):
                st.add(rr)
    for path in args.json:
        with open(path) as f:
            st.add_json(json.load(f), path)
    for path in args.records:
        with open(path) as f:
            for i, line in enumerate(f, 1):
                st.add_line(line, '%s:%d' % (path, i))
    for i, line in enumerate(args.rr, 1):
        st.add_line(line, '--rr #%d' % i)
    st.finish(args.authority)
    return st


def matches(name, patterns):
    return any(fnmatch.fnmatchcase(name, p) for p in patterns)


class Drop(Exception):
    pass


class Resolver:
    def __init__(self, args):
        self.args = args
        self.lock = threading.Lock()
        self.servfail = [norm(p) for p in args.servfail]
        self.drop = [norm(p) for p in args.drop]
        self.delay = args.delay / 1000.0
        self.store = load(args)

    def reload(self):
        try:
            st = load(self.args)
        except Exception as e:                  # keep serving the old data
            log('reload failed: %s' % e)
            return
        with self.lock:
            self.store = st
        log('reloaded')

    def lookup(self, st, name):
        """Records for name, honouring simple wildcards '*.parent'."""
        if name in st.rrs:
            return st.rrs[name], name
        if name in st.names:                    # empty non-terminal
            return [], name
        n = name
        while n:
            n = parent(n)
            wild = ('*.' + n) if n else '*'
            if wild in st.rrs:
                return st.rrs[wild], wild
            if n in st.names:
                break
        return None, None

    def resolve(self, request, handler):
        q = request.q
        qname = norm(q.qname)
        if matches(qname, self.drop):
            raise Drop()
        if self.delay > 0:
            time.sleep(self.delay)      # a resolver a round trip away
        reply = request.reply()
        reply.header.ra = 0
        if matches(qname, self.servfail):
            reply.header.rcode = RCODE.SERVFAIL
            return reply
        with self.lock:
            st = self.store
        if not any(in_zone(qname, z) for z in st.zones):
            reply.header.rcode = RCODE.REFUSED
            reply.header.aa = 0
            return reply
        reply.header.aa = 1
        seen = set()
        name = qname
        while True:
            rrs, owner = self.lookup(st, name)
            if rrs is None:
                if name == qname:
                    reply.header.rcode = RCODE.NXDOMAIN
                break
            wanted = [r for r in rrs if q.qtype in (r.rtype, QTYPE.ANY)]
            for r in wanted:
                r2 = RR(DNSLabel(name), r.rtype, r.rclass, r.ttl, r.rdata)
                reply.add_answer(r2)
            if wanted:
                break
            cname = [r for r in rrs if r.rtype == QTYPE.CNAME]
            if not cname or name in seen:
                break
            seen.add(name)
            reply.add_answer(RR(DNSLabel(name), QTYPE.CNAME, CLASS.IN,
                                cname[0].ttl, cname[0].rdata))
            name = norm(cname[0].rdata.label)
            if not any(in_zone(name, z) for z in st.zones):
                break
        # A negative answer carries the zone's SOA, if it has one (RFC 2308
        # 3): its MINIMUM is how long a resolver may keep the answer.
        if not reply.rr:
            zones = sorted((z for z in st.zones if in_zone(qname, z)), key=len, reverse=True)
            for z in zones[:1]:
                soa = [r for r in st.rrs.get(z, []) if r.rtype == QTYPE.SOA]
                if soa:
                    reply.add_auth(RR(DNSLabel(z), QTYPE.SOA, CLASS.IN, soa[0].ttl, soa[0].rdata))
        return reply


LOGF = None
LOGLOCK = threading.Lock()


def log(msg):
    if LOGF is None:
        return
    with LOGLOCK:
        LOGF.write('%s dnsserver: %s\n' % (time.strftime('%H:%M:%S'), msg))
        LOGF.flush()


class QuietLogger(DNSLogger):
    def __init__(self):
        super().__init__(log='-request,-reply,-truncated,-recv,-send,-data,-error')

    def log_error(self, handler, e):
        pass


class Handler(DNSHandler):
    """dnslib's handler, plus: EDNS-aware truncation, drop, one log line."""

    def get_reply(self, data):
        request = DNSRecord.parse(data)
        qname, qtype = str(request.q.qname), QTYPE.get(request.q.qtype)
        who = '%s/%s' % (self.client_address[0], self.protocol)
        try:
            reply = self.server.resolver.resolve(request, self)
        except Drop:
            log('%s %s %s -> (dropped)' % (who, qname, qtype))
            raise DNSError('dropped on purpose')
        rdata = reply.pack()
        outcome = RCODE.get(reply.header.rcode)
        if reply.header.rcode == RCODE.NOERROR:
            outcome = '%d answer(s)' % len(reply.rr)
        if self.protocol == 'udp':
            limit = 512
            for ar in request.ar:
                if ar.rtype == QTYPE.OPT:
                    limit = max(512, ar.rclass)
            if len(rdata) > limit:
                # dnslib's truncate() drops the question too; glibc then
                # ignores the answer instead of retrying over TCP.
                short = reply.truncate()
                short.questions = list(request.questions)
                short.header.q = len(short.questions)
                rdata = short.pack()
                outcome += ' (truncated, %d > %d bytes)' % (len(reply.pack()), limit)
        log('%s %s %s -> %s' % (who, qname, qtype, outcome))
        return rdata


def write_atomic(path, text):
    tmp = '%s.tmp.%d' % (path, os.getpid())
    with open(tmp, 'w') as f:
        f.write(text)
    os.rename(tmp, path)


def main():
    global LOGF
    ap = argparse.ArgumentParser(
        description=__doc__.split('\n')[0],
        epilog=__doc__[__doc__.index('Answers:'):],
        formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('-a', '--address', default='127.0.0.1')
    ap.add_argument('-p', '--port', type=int, default=53)
    ap.add_argument('--zone', action='append', default=[], metavar='FILE')
    ap.add_argument('--json', action='append', default=[], metavar='FILE')
    ap.add_argument('--records', action='append', default=[], metavar='FILE',
                    help="file of 'NAME [TTL] TYPE VALUE' lines")
    ap.add_argument('--rr', action='append', default=[], metavar="'NAME TYPE VALUE'")
    ap.add_argument('--authority', action='append', default=[], metavar='ZONE')
    ap.add_argument('--servfail', action='append', default=[], metavar='NAME',
                    help='answer SERVFAIL (shell-style patterns, e.g. *.example.org)')
    ap.add_argument('--drop', action='append', default=[], metavar='NAME',
                    help='never answer (shell-style patterns)')
    ap.add_argument('--delay', type=float, default=0, metavar='MS',
                    help='wait MS milliseconds before every answer (bench/peers.sh)')
    ap.add_argument('--no-tcp', action='store_true', help='UDP only')
    ap.add_argument('--ready', metavar='FILE', help='written with the pid once listening')
    ap.add_argument('--pidfile', metavar='FILE')
    ap.add_argument('--log', metavar='FILE', help="query log ('-' = stderr)")
    ap.add_argument('--dump', action='store_true', help='print the data and exit')
    args = ap.parse_args()

    if args.log == '-':
        LOGF = sys.stderr
    elif args.log:
        LOGF = open(args.log, 'a')

    try:
        resolver = Resolver(args)
    except (OSError, ValueError, DNSError, KeyError) as e:
        print('dnsserver.py: cannot load records: %s' % e, file=sys.stderr)
        return 2
    if args.dump:
        st = resolver.store
        print('; zones: %s' % ' '.join(sorted(z or '.' for z in st.zones)))
        for name in sorted(st.rrs):
            for rr in st.rrs[name]:
                print(rr.toZone())
        return 0
    if args.pidfile:
        write_atomic(args.pidfile, '%d\n' % os.getpid())

    servers = []
    try:
        servers.append(DNSServer(resolver, port=args.port, address=args.address,
                                 logger=QuietLogger(), handler=Handler))
        if not args.no_tcp:
            servers.append(DNSServer(resolver, port=args.port, address=args.address,
                                     logger=QuietLogger(), handler=Handler, tcp=True))
    except OSError as e:
        print('dnsserver.py: cannot listen on %s port %d: %s'
              % (args.address, args.port, e), file=sys.stderr)
        return 1
    for s in servers:
        s.server.daemon_threads = True
        s.start_thread()

    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    signal.signal(signal.SIGHUP, lambda *_: resolver.reload())

    st = resolver.store
    log('listening on %s port %d (%s); zones: %s; %d names'
        % (args.address, args.port, 'udp' if args.no_tcp else 'udp+tcp',
           ' '.join(sorted(z or '.' for z in st.zones)), len(st.rrs)))
    if args.ready:
        write_atomic(args.ready, '%d\n' % os.getpid())
    while not stop.is_set():
        stop.wait(1)
    for s in servers:
        s.server.shutdown()
        s.server.server_close()
    for path in (args.ready, args.pidfile):
        if path:
            try:
                os.unlink(path)
            except OSError:
                pass
    return 0


if __name__ == '__main__':
    sys.exit(main())
