#!/usr/bin/python3
# SPDX-License-Identifier: BSD-2-Clause
"""consortium-send.py -- SMTP sessions of consortium members, as their Alma
logs in to the relay, for tests/ops/consortium-reload.sh.

usage: consortium-send.py load --server HOST:PORT --stop FILE [--pace S] LOGIN:DOMAIN...
       consortium-send.py probe --server HOST:PORT LOGIN DOMAIN TOKEN

Each LOGIN:DOMAIN is one SMTP session (a thread): XCLIENT ADDR=203.0.113.7
LOGIN=LOGIN (Postfix hands the XCLIENT login to its milters as
{auth_authen}, so no SASL server is needed), then messages From:
library@DOMAIN, one after another (a pause of --pace seconds between
them), until FILE exists.  A session the server drops is reopened.

Prints one line a message, tab-separated:
    TOKEN  LOGIN  DOMAIN  CODE  QUEUE-ID
CODE is the server's reply to the end of DATA (or to the command that
failed); "lost" if the connection broke before a reply.  TOKEN is in the
Subject and the Message-ID, so the message can be found in the sink.
Exit status 0 if every message got 250, else 1.
"""

import argparse
import re
import smtplib
import socket
import sys
import threading
import time
import os

LOCK = threading.Lock()
BAD = []


def say(token, login, domain, code, qid):
    with LOCK:
        print('%s\t%s\t%s\t%s\t%s' % (token, login, domain, code, qid or '-'), flush=True)
        if str(code) != '250':
            BAD.append(token)


def open_session(host, port, login):
    s = smtplib.SMTP(host, port, local_hostname='alma.exlibrisgroup.com', timeout=60)
    s.ehlo()
    code, msg = s.docmd('XCLIENT', 'ADDR=203.0.113.7 NAME=[UNAVAILABLE] LOGIN=%s' % login)
    if code != 220:
        raise smtplib.SMTPResponseException(code, msg)
    s.ehlo('alma.exlibrisgroup.com')
    return s


def message(domain, token):
    return ('From: Library <library@%s>\r\n'
            'To: Patron <patron@example.net>\r\n'
            'Subject: Courtesy notice %s\r\n'
            'Date: %s\r\n'
            'Message-ID: <%s@%s>\r\n'
            'MIME-Version: 1.0\r\n'
            'Content-Type: text/plain; charset=utf-8\r\n'
            '\r\n'
            'Dear patron, the items below are due soon (%s).\r\n'
            'Renew them online at the library\'s website.\r\n'
            % (domain, token, time.strftime('%a, %d %b %Y %H:%M:%S +0000', time.gmtime()),
               token, domain, token))


def send_one(s, login, domain, token):
    """One message on session s; returns (code, queue id)."""
    try:
        code, resp = s.mail('alma@exlibrisgroup.com')
        if code != 250:
            s.rset()
            return code, None
        code, resp = s.rcpt('patron@example.net')
        if code != 250:
            s.rset()
            return code, None
        code, resp = s.data(message(domain, token).encode())
        if code != 250:
            s.rset()
            return code, None
        m = re.search(rb'queued as ([0-9A-Za-z]+)', resp)
        return code, m.group(1).decode() if m else None
    except (smtplib.SMTPServerDisconnected, socket.error):
        return 'lost', None
    except smtplib.SMTPResponseException as e:
        try:
            s.rset()
        except (smtplib.SMTPException, socket.error):
            return e.smtp_code, None
        return e.smtp_code, None


def load_session(host, port, login, domain, stop, pace, n_session):
    s = None
    i = 0
    while not os.path.exists(stop):
        i += 1
        token = 'cr-%s-%05d' % (login, i)
        if s is None:
            try:
                s = open_session(host, port, login)
            except (smtplib.SMTPException, socket.error) as e:
                say(token, login, domain, 'lost', None)
                print('# %s: cannot open a session: %s' % (login, e), file=sys.stderr)
                time.sleep(0.5)
                continue
        code, qid = send_one(s, login, domain, token)
        say(token, login, domain, code, qid)
        if code == 'lost':
            s = None
        if pace > 0:
            time.sleep(pace)
    if s is not None:
        try:
            s.quit()
        except (smtplib.SMTPException, socket.error):
            pass


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('mode', choices=('load', 'probe'))
    ap.add_argument('--server', default='127.0.0.1:25')
    ap.add_argument('--stop', default='')
    ap.add_argument('--pace', type=float, default=0.0)
    ap.add_argument('args', nargs='+')
    a = ap.parse_args()
    host, port = a.server.rsplit(':', 1)
    port = int(port)
    if a.mode == 'probe':
        login, domain, token = a.args
        try:
            s = open_session(host, port, login)
        except (smtplib.SMTPException, socket.error) as e:
            say(token, login, domain, 'lost', None)
            print('# %s: cannot open a session: %s' % (login, e), file=sys.stderr)
            return 1
        code, qid = send_one(s, login, domain, token)
        say(token, login, domain, code, qid)
        try:
            s.quit()
        except (smtplib.SMTPException, socket.error):
            pass
        return 0 if code == 250 else 1
    if not a.stop:
        ap.error('load needs --stop FILE')
    threads = []
    for n, spec in enumerate(a.args):
        login, domain = spec.split(':', 1)
        t = threading.Thread(target=load_session,
                             args=(host, port, login, domain, a.stop, a.pace, n))
        t.start()
        threads.append(t)
    for t in threads:
        t.join()
    return 1 if BAD else 0


if __name__ == '__main__':
    sys.exit(main())
