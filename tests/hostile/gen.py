#!/usr/bin/python3
# SPDX-License-Identifier: BSD-2-Clause
"""gen.py -- the hostile messages of tests/hostile/postfix.sh, as raw bytes.

Usage: gen.py CASE TAG > message.eml      (gen.py --list: the case names)

Every message carries "X-Hostile-Case: TAG" (the test finds it in the sink
by that line), a Message-ID and a Date, so Postfix adds nothing of its own.
Lines end in CRLF unless the case is about line ends.  The signing domain is
library.example.edu; evil.test is the attacker's.
"""

import sys

OURS = b'library@library.example.edu'


def msg(tag, headers, body=b'Dear patron,\r\nyour loan is due.\r\n', subject=None):
    """A message: our standard fields around the hostile header lines."""
    hs = [b'X-Hostile-Case: ' + tag]
    hs += headers
    if subject is not None:
        hs.append(b'Subject: ' + subject)
    elif not any(h.lower().startswith(b'subject:') for h in headers):
        hs.append(b'Subject: relaysign hostile case ' + tag)
    hs.append(b'To: patron@example.net')
    hs.append(b'Date: Sun, 22 Nov 2026 08:00:00 +0000')
    hs.append(b'Message-ID: <' + tag + b'@vendor.test>')
    return b'\r\n'.join(hs) + b'\r\n\r\n' + body


def f(v):
    return b'From: ' + v


CASES = {}


def case(name):
    def reg(fn):
        CASES[name] = fn
        return fn
    return reg


@case('plain')
def _(t):
    return msg(t, [f(b'Library <' + OURS + b'>')])


@case('two-from')
def _(t):
    return msg(t, [f(b'Library <' + OURS + b'>'), f(b'Other <other@library.example.edu>')])


@case('ten-from')
def _(t):
    return msg(t, [f(b'n%d <library@library.example.edu>' % i) for i in range(10)])


@case('ten-from-evil-first')
def _(t):
    return msg(t, [f(b'x@evil.test')] + [f(OURS) for _ in range(9)])


@case('many-addresses')
def _(t):
    addrs = b', '.join(b'"Reader %d" <r%d@library.example.edu>' % (i, i) for i in range(200))
    return msg(t, [f(addrs)])


@case('two-addresses-ours-first')
def _(t):
    return msg(t, [f(OURS + b', x@evil.test')])


@case('group')
def _(t):
    return msg(t, [f(b'Library: ' + OURS + b';')])


@case('empty-group')
def _(t):
    return msg(t, [f(b'undisclosed-recipients:;')])


@case('comment-at-lt')
def _(t):
    return msg(t, [f(b'(x@evil.test <y@evil.test>) ' + OURS + b' (z <w@evil.test>)')])


@case('comment-hides-ours')
def _(t):
    return msg(t, [f(b'x@evil.test (<' + OURS + b'>)')])


@case('quoted-local-at')
def _(t):
    return msg(t, [f(b'"x@evil.test <y@evil.test>"@library.example.edu')])


@case('quoted-local-ours-at-evil')
def _(t):
    return msg(t, [f(b'"' + OURS + b'"@evil.test')])


@case('display-name-ours')
def _(t):
    return msg(t, [f(b'"' + OURS + b'" <x@evil.test>')])


@case('encoded-word')
def _(t):
    # =?UTF-8?B?...?= is "Bibliothèque <x@evil.test>"
    return msg(t, [f(b'=?UTF-8?B?QmlibGlvdGjDqHF1ZSA8eEBldmlsLnRlc3Q+?= <' + OURS + b'>')])


@case('encoded-word-evil')
def _(t):
    return msg(t, [f(b'=?UTF-8?Q?library=40library.example.edu?= <x@evil.test>')])


@case('folded-from')
def _(t):
    return msg(t, [f(b'Library\r\n\t(of the\r\n university)\r\n <' + OURS + b'>')])


@case('no-from')
def _(t):
    return msg(t, [b'Sender: ' + OURS])


@case('from-70k')
def _(t):
    return msg(t, [f(b'"' + b'a' * 70000 + b'" <' + OURS + b'>')])


@case('nul-subject')
def _(t):
    return msg(t, [f(b'Library <' + OURS + b'>')], subject=b'before\x00after')


@case('nul-from-after')
def _(t):
    return msg(t, [f(OURS + b'\x00@evil.test')])


@case('nul-from-before')
def _(t):
    return msg(t, [f(b'x@evil.test\x00<' + OURS + b'>')])


@case('nul-body')
def _(t):
    return msg(t, [f(b'Library <' + OURS + b'>')], body=b'one\x00two\r\nthree\r\n')


@case('8bit-subject')
def _(t):
    return msg(t, [f(b'Library <' + OURS + b'>')], subject=b'Caf\xe9 \xff\x80 latin-1')


@case('8bit-from')
def _(t):
    return msg(t, [f(b'Biblioth\xe8que <' + OURS + b'>')])


@case('utf8-headers')
def _(t):
    return msg(t, [f('Bibliothèque Universitaire <'.encode() + OURS + b'>')],
               subject='Prêt à rendre — 返却'.encode())


@case('utf8-local-part')
def _(t):
    return msg(t, [f('Bibliothèque <bibliothèque@library.example.edu>'.encode())],
               subject='Prêt'.encode())


@case('idn-from')
def _(t):
    return msg(t, [f('library@bücher.example.edu'.encode())])


@case('long-x-header')
def _(t):
    return msg(t, [f(b'Library <' + OURS + b'>'), b'X-Long: ' + b'x' * 10000])


@case('long-subject')
def _(t):
    return msg(t, [f(b'Library <' + OURS + b'>')], subject=b's' * 10000)


@case('long-body-line')
def _(t):
    return msg(t, [f(b'Library <' + OURS + b'>')], body=b'b' * 10000 + b'\r\n')


@case('10k-headers')
def _(t):
    hs = [b'X-H-%05d: value %d' % (i, i) for i in range(10000)]
    return msg(t, hs + [f(b'Library <' + OURS + b'>')])


@case('25k-headers')
def _(t):
    hs = [b'X-H-%05d: v' % i for i in range(25000)]
    return msg(t, [f(b'Library <' + OURS + b'>')] + hs)


@case('5mb-headers')
def _(t):
    hs = [b'X-Big-%03d: ' % i + b'y' * 50000 for i in range(100)]
    return msg(t, [f(b'Library <' + OURS + b'>')] + hs)


@case('empty-body')
def _(t):
    return msg(t, [f(b'Library <' + OURS + b'>')], body=b'')


@case('no-final-crlf')
def _(t):
    return msg(t, [f(b'Library <' + OURS + b'>')], body=b'first line\r\nlast line, no line break')


@case('no-final-lf-unix')
def _(t):
    # For sendmail(1): LF line ends, no line break after the last line.
    m = msg(t, [f(b'Library <' + OURS + b'>')], body=b'first line\r\nlast line, no line break')
    return m.replace(b'\r\n', b'\n')


@case('forged-ar-interleaved')
def _(t):
    hs = []
    for i in range(5):
        hs.append(b'Authentication-Results: relay.test; x-relaysign=signed (forged %d)' % i)
        hs.append(b'Authentication-Results: other%d.example; spf=pass smtp.mailfrom=x' % i)
    hs.insert(3, f(b'Library <' + OURS + b'>'))
    hs.append(b'Authentication-Results: RELAY.TEST (forged 5) ; dkim=pass')
    return msg(t, hs)


@case('forged-ar-evil-from')
def _(t):
    return msg(t, [f(b'x@evil.test'),
                   b'Authentication-Results: relay.test; x-relaysign=signed (forged) '
                   b'header.d=library.example.edu'])


# The two inputs that crashed relaysign from a trusted relay: a From after
# the header limits (20,000 fields; 4 MiB) was parsed from a block that was
# never stored.  Now: not signed, filter alive, nothing lost.
@case('20k-headers-then-from')
def _(t):
    hs = [b'X-H: v' for i in range(20000)]
    return msg(t, hs + [f(b'Library <' + OURS + b'>')])


@case('64kb-headers-then-from')
def _(t):
    hs = [b'X-Big-%02d: ' % i + b'y' * 65536 for i in range(66)]
    return msg(t, hs + [f(b'"' + b'D' * 170 + b'" <' + OURS + b'>')])


# And what comes after the limits still counts: a forged result of ours is
# removed, a second From is still a second From.
@case('limits-then-forged-ar')
def _(t):
    hs = [b'X-H: v' for i in range(20001)]
    return msg(t, hs + [f(b'Library <' + OURS + b'>'),
                        b'Authentication-Results: relay.test; x-relaysign=signed (forged) '
                        b'header.d=library.example.edu'])


@case('limits-then-second-from')
def _(t):
    hs = [b'X-H: v' for i in range(20001)]
    return msg(t, [f(b'Library <' + OURS + b'>')] + hs + [f(b'evil@library.example.edu')])


@case('50mb-body')
def _(t):
    line = b'0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789ab\r\n'
    n = 50 * 1024 * 1024 // len(line) + 1
    return msg(t, [f(b'Library <' + OURS + b'>')], body=line * n)


def main():
    if len(sys.argv) == 2 and sys.argv[1] == '--list':
        print('\n'.join(CASES))
        return 0
    if len(sys.argv) != 3 or sys.argv[1] not in CASES:
        print('usage: gen.py CASE TAG (gen.py --list)', file=sys.stderr)
        return 2
    sys.stdout.buffer.write(CASES[sys.argv[1]](sys.argv[2].encode()))
    return 0


if __name__ == '__main__':
    sys.exit(main())
