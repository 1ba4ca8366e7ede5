#!/usr/bin/python3
# SPDX-License-Identifier: BSD-2-Clause
"""smtpraw.py -- send one message's bytes over SMTP exactly as given.

swaks cannot carry every hostile input (NUL bytes, bare 8-bit, no final line
break, 10,000 header lines built on the fly), so the hostile-input tests hand
the message to this client as a file of raw bytes.  It speaks plain SMTP to
the server given, optionally with XCLIENT first (Postfix: the next session
then looks, to smtpd and its milters, as if ADDR/NAME/LOGIN had connected),
dot-stuffs the data and ends it with CRLF.CRLF -- a message whose last line
has no line break gets one, as SMTP requires.

Usage:
  smtpraw.py [--server 127.0.0.1:25] [--helo client.test]
             [--xclient 'ADDR=192.0.2.10 NAME=[UNAVAILABLE]']
             [--auth USER:PASSWORD] [--from SENDER] [--mail-param SMTPUTF8]
             --to RCPT [--to RCPT...] FILE|-

--auth logs in with AUTH PLAIN (RFC 4616) after XCLIENT, over the plain
connection (the test server must allow that); a refused login is a refusal.

Prints the server's last reply (e.g. "250 2.0.0 Ok: queued as 4XyZ1") and,
when rejected, which command drew the rejection.  Exit status: 0 accepted
(queued), 1 refused by the server (4xx/5xx at any step), 2 local or
connection error.  Everything is bounded by --timeout (default 120 s per
read).
"""

import argparse
import base64
import socket
import sys


class Refused(Exception):
    pass


class Conn:
    def __init__(self, host, port, timeout):
        self.sock = socket.create_connection((host, port), timeout=timeout)
        self.buf = b''

    def line(self):
        while b'\n' not in self.buf:
            d = self.sock.recv(65536)
            if not d:
                raise ConnectionError('server closed the connection')
            self.buf += d
        ln, _, self.buf = self.buf.partition(b'\n')
        return ln.rstrip(b'\r').decode('utf-8', 'replace')

    def reply(self):
        lines = []
        while True:
            ln = self.line()
            lines.append(ln)
            if len(ln) < 4 or ln[3] != '-':
                break
        code = int(lines[-1][:3]) if lines[-1][:3].isdigit() else 0
        return code, lines

    def cmd(self, text, want=(250,)):
        self.sock.sendall(text.encode('utf-8') + b'\r\n')
        code, lines = self.reply()
        if code not in want:
            raise Refused('%s -> %s' % (text.split(' ')[0] if not text.startswith('MAIL')
                                        else 'MAIL FROM', ' | '.join(lines)))
        return code, lines


def stuff(data):
    """SMTP transparency (RFC 5321 4.5.2) and the CRLF before the final dot."""
    if data and not data.endswith(b'\n'):
        data += b'\r\n'
    out = []
    for ln in data.split(b'\n'):
        if ln.startswith(b'.'):
            ln = b'.' + ln
        out.append(ln)
    data = b'\n'.join(out)
    # Lines as given; a bare LF becomes CRLF (what any SMTP client does).
    data = data.replace(b'\r\n', b'\n').replace(b'\n', b'\r\n')
    if not data.endswith(b'\r\n'):
        data += b'\r\n'
    return data + b'.\r\n'


def main():
    ap = argparse.ArgumentParser(description='send raw message bytes over SMTP')
    ap.add_argument('--server', default='127.0.0.1:25')
    ap.add_argument('--helo', default='client.test')
    ap.add_argument('--xclient', default='')
    ap.add_argument('--auth', default='')
    ap.add_argument('--from', dest='sender', default='alma@exlibrisgroup.com')
    ap.add_argument('--mail-param', default='')
    ap.add_argument('--to', action='append', required=True)
    ap.add_argument('--timeout', type=float, default=120)
    ap.add_argument('file')
    a = ap.parse_args()
    host, _, port = a.server.rpartition(':')
    try:
        data = sys.stdin.buffer.read() if a.file == '-' else open(a.file, 'rb').read()
    except OSError as e:
        print('smtpraw.py: %s' % e, file=sys.stderr)
        return 2
    try:
        c = Conn(host, int(port), a.timeout)
        code, lines = c.reply()
        if code != 220:
            raise Refused('greeting -> ' + ' | '.join(lines))
        c.cmd('EHLO ' + a.helo)
        if a.xclient:
            c.cmd('XCLIENT ' + a.xclient, want=(220,))
            c.cmd('EHLO ' + a.helo)
        if a.auth:
            user, _, password = a.auth.partition(':')
            token = base64.b64encode(('\0%s\0%s' % (user, password)).encode('utf-8'))
            c.cmd('AUTH PLAIN ' + token.decode('ascii'), want=(235,))
        mail = 'MAIL FROM:<%s>' % a.sender
        if a.mail_param:
            mail += ' ' + a.mail_param
        c.cmd(mail)
        for r in a.to:
            c.cmd('RCPT TO:<%s>' % r)
        c.cmd('DATA', want=(354,))
        c.sock.sendall(stuff(data))
        code, lines = c.reply()
        if code != 250:
            raise Refused('end of DATA -> ' + ' | '.join(lines))
        print(lines[-1])
        try:
            c.cmd('QUIT', want=(221,))
        except (Refused, OSError, ConnectionError):
            pass
        return 0
    except Refused as e:
        print('refused: %s' % e)
        return 1
    except (OSError, ConnectionError, ValueError) as e:
        print('smtpraw.py: %s' % e, file=sys.stderr)
        return 2


if __name__ == '__main__':
    sys.exit(main())
