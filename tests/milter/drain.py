#!/usr/bin/python3
# SPDX-License-Identifier: BSD-2-Clause
"""drain.py -- SIGTERM with a message in flight, spoken in the milter protocol.

relaysign leaves MAIL unanswered when the MTA offers SMFIP_NR_MAIL, as
Postfix does; a TEMPFAIL decided at MAIL then waits for the next answered
stage.  This plays that case as Postfix would, over the wire:

  A: a trusted notice up to the end of its header (the message is open);
  relaysign gets SIGTERM and drains;
  B: a new session: its MAIL must go unanswered, its DATA must get
     "451 4.7.1 relaysign: shutting down" (not a reply out of turn at MAIL,
     not a message accepted unsigned);
  A: body and end of message: still signed, then relaysign may exit.

Usage: drain.py HOST PORT PID FIRST   (FIRST: the number of its first TAP
line).  Prints TAP lines without a plan; exits 0 when all passed.
"""
import os
import signal
import socket
import struct
import sys
import time

# libmilter's mfdef.h
SMFIP_NR_HDR, SMFIP_SKIP, SMFIP_NR_CONN, SMFIP_NR_HELO = 0x80, 0x400, 0x1000, 0x2000
SMFIP_NR_MAIL, SMFIP_NR_RCPT, SMFIP_NR_DATA, SMFIP_NR_UNKN = 0x4000, 0x8000, 0x10000, 0x20000
SMFIP_NR_EOH, SMFIP_NR_BODY, SMFIP_HDR_LEADSPC = 0x40000, 0x80000, 0x100000
SMFIP_NORCPT, SMFIP_NOUNKNOWN = 0x8, 0x100
OFFER = (SMFIP_NR_HDR | SMFIP_SKIP | SMFIP_NR_CONN | SMFIP_NR_HELO | SMFIP_NR_MAIL |
         SMFIP_NR_RCPT | SMFIP_NR_DATA | SMFIP_NR_UNKN | SMFIP_NR_EOH | SMFIP_NR_BODY |
         SMFIP_HDR_LEADSPC | SMFIP_NORCPT | SMFIP_NOUNKNOWN)
FINAL = b"acdtry"  # accept, continue, discard, tempfail, reject, replycode


class Session:
    """One milter connection, the MTA side."""

    def __init__(self, host, port):
        self.s = socket.create_connection((host, port), timeout=30)
        self.proto = 0

    def send(self, cmd, data=b""):
        self.s.sendall(struct.pack(">I", len(data) + 1) + cmd + data)

    def read(self):
        head = self._exact(4)
        n = struct.unpack(">I", head)[0]
        body = self._exact(n)
        return body[:1], body[1:]

    def _exact(self, n):
        buf = b""
        while len(buf) < n:
            chunk = self.s.recv(n - len(buf))
            if not chunk:
                raise EOFError("relaysign closed the connection")
            buf += chunk
        return buf

    def answered(self, flag):
        return flag == 0 or not self.proto & flag

    def reply(self):
        """Packets up to the final reply: (final command, data, edits)."""
        edits = []
        while True:
            cmd, data = self.read()
            if cmd in FINAL:
                return cmd, data, edits
            edits.append((cmd, data))

    def start(self, client):
        self.send(b"O", struct.pack(">III", 6, 0x1FF, OFFER))
        cmd, data = self.read()
        if cmd != b"O":
            raise RuntimeError("negotiation answered %r" % cmd)
        self.proto = struct.unpack(">III", data[:12])[2]
        self.send(b"C", b"relay.example\0" + b"4" + struct.pack(">H", 25) +
                  client.encode() + b"\0")
        if self.answered(SMFIP_NR_CONN):
            self.reply()
        self.send(b"H", b"relay.example\0")
        if self.answered(SMFIP_NR_HELO):
            self.reply()

    def mail(self, qid):
        """MAIL with its macros; the reply, or None when MAIL is unanswered."""
        self.send(b"D", b"M" + b"i\0" + qid.encode() + b"\0")
        self.send(b"M", b"<alma@exlibrisgroup.com>\0")
        return self.reply() if self.answered(SMFIP_NR_MAIL) else None

    def data(self):
        self.send(b"T")
        return self.reply() if self.answered(SMFIP_NR_DATA) else None

    def header_block(self):
        for name, value in (("From", "Library <library@library.example.edu>"),
                            ("To", "patron@example.net"), ("Subject", "Overdue notice"),
                            ("Date", "Fri, 04 Dec 2026 08:00:00 +0000"),
                            ("Message-ID", "<drain@alma.exlibrisgroup.com>")):
            self.send(b"L", name.encode() + b"\0 " + value.encode() + b"\0")
            if self.answered(SMFIP_NR_HDR):
                self.reply()
        self.send(b"N")
        return self.reply() if self.answered(SMFIP_NR_EOH) else None

    def finish(self):
        self.send(b"B", b"Your book is due.\r\n")
        if self.answered(SMFIP_NR_BODY):
            self.reply()
        self.send(b"E")
        return self.reply()


def main():
    host, port, pid, first = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
    n = first
    failed = 0

    def tap(good, text):
        nonlocal n, failed
        print("%s %d - %s" % ("ok" if good else "not ok", n, text))
        n += 1
        failed += 0 if good else 1

    a = Session(host, port)
    a.start("192.0.2.10")
    a.mail("DRAINA")
    a.data()
    eoh = a.header_block()
    tap(eoh is None or eoh[0] == b"c",
        "drain: a trusted notice is open past its header (%r)" % (eoh,))
    os.kill(pid, signal.SIGTERM)
    time.sleep(0.5)  # the drain has begun: no configuration for new MAILs
    b = Session(host, port)
    b.start("192.0.2.11")
    mail = b.mail("DRAINB")
    tap(b.proto & SMFIP_NR_MAIL and mail is None,
        "drain: MAIL agreed unanswered (SMFIP_NR_MAIL) and left unanswered")
    cmd, data, _ = b.data()
    text = data.rstrip(b"\0").decode(errors="replace")
    tap(cmd == b"y" and text.startswith("451 4.7.1") and "shutting down" in text,
        "drain: the MAIL after SIGTERM is tempfailed at DATA (%r %s)" % (cmd, text))
    b.send(b"Q")
    cmd, data, edits = a.finish()
    sigs = [d for c, d in edits if c in (b"i", b"h") and b"DKIM-Signature" in d]
    tap(cmd in (b"c", b"a") and len(sigs) == 2,
        "drain: the message in flight is still signed (%r, %d DKIM-Signature)" % (cmd, len(sigs)))
    a.send(b"Q")
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
