#!/usr/bin/python3
# SPDX-License-Identifier: BSD-2-Clause
"""sink8.py -- a minimal SMTP sink that offers SMTPUTF8 and 8BITMIME.

Postfix 3.7's smtp-sink does not announce SMTPUTF8, so Postfix bounces a
message that needs it ("SMTPUTF8 is required, but was not offered").  The
hostile-input test routes its RFC 6531/6532 messages here instead and stores
each one as DIR/NAME, with an "X-Mail-Args:" line first as smtp-sink does
(the rest is the message as received, dots undone).

Usage: sink8.py --listen 127.0.0.1:2527 --dir DIR [--ready FILE]
Every connection is served by a thread with a 60 s read timeout; SIGTERM
stops the server.
"""

import argparse
import os
import signal
import socket
import socketserver
import sys
import threading
import time

DIR = '.'
COUNT = [0]
LOCK = threading.Lock()


class Handler(socketserver.StreamRequestHandler):
    timeout = 60

    def send(self, text):
        self.wfile.write(text.encode('ascii') + b'\r\n')
        self.wfile.flush()

    def handle(self):
        self.send('220 sink8.test ESMTP')
        mail = b''
        rcpts = []
        while True:
            line = self.rfile.readline(1 << 20)
            if not line:
                return
            cmd = line.rstrip(b'\r\n')
            verb = cmd.split(b' ', 1)[0].upper()
            if verb in (b'EHLO', b'HELO'):
                self.wfile.write(b'250-sink8.test\r\n250-PIPELINING\r\n250-8BITMIME\r\n'
                                 b'250-SMTPUTF8\r\n250 SIZE 0\r\n')
                self.wfile.flush()
            elif verb == b'MAIL':
                mail = cmd[5:].lstrip()
                rcpts = []
                self.send('250 2.1.0 Ok')
            elif verb == b'RCPT':
                rcpts.append(cmd[5:].lstrip())
                self.send('250 2.1.5 Ok')
            elif verb == b'DATA':
                self.send('354 End data with <CR><LF>.<CR><LF>')
                data = []
                while True:
                    ln = self.rfile.readline(1 << 20)
                    if not ln:
                        return
                    if ln in (b'.\r\n', b'.\n'):
                        break
                    if ln.startswith(b'.'):
                        ln = ln[1:]
                    data.append(ln)
                with LOCK:
                    COUNT[0] += 1
                    name = '%s.%d.%d' % (time.strftime('%Y%m%d%H%M%S'), os.getpid(), COUNT[0])
                with open(os.path.join(DIR, name), 'wb') as f:
                    f.write(b'X-Mail-Args: ' + mail + b'\r\n')
                    for r in rcpts:
                        f.write(b'X-Rcpt-Args: ' + r + b'\r\n')
                    f.write(b''.join(data))
                self.send('250 2.0.0 Ok: stored')
            elif verb == b'RSET':
                self.send('250 2.0.0 Ok')
            elif verb == b'QUIT':
                self.send('221 2.0.0 Bye')
                return
            else:
                self.send('250 2.0.0 Ok')


class Server(socketserver.ThreadingTCPServer):
    allow_reuse_address = True
    daemon_threads = True


def main():
    global DIR
    ap = argparse.ArgumentParser()
    ap.add_argument('--listen', default='127.0.0.1:2527')
    ap.add_argument('--dir', required=True)
    ap.add_argument('--ready')
    a = ap.parse_args()
    DIR = a.dir
    host, _, port = a.listen.rpartition(':')
    srv = Server((host, int(port)), Handler)
    signal.signal(signal.SIGTERM, lambda *_: threading.Thread(target=srv.shutdown).start())
    if a.ready:
        with open(a.ready, 'w') as f:
            f.write('%d\n' % os.getpid())
    srv.serve_forever()
    return 0


if __name__ == '__main__':
    sys.exit(main())
