#!/usr/bin/perl
# SPDX-License-Identifier: BSD-2-Clause
# verify.pl -- verify every DKIM-Signature of a message with Perl Mail::DKIM.
#
# usage: verify.pl [--dns ADDR[:PORT]] [--expect-none] [--quiet] FILE|-
#
# Public keys come from the given DNS server (default 127.0.0.1:53) through a
# Net::DNS::Resolver pointed at it (Mail::DKIM::DNS::resolver), never from the
# host's resolver.  One line per DKIM-Signature, topmost first:
#
#     d=library.example.edu s=rsa2026 a=rsa-sha256 result=pass
#     d=library.example.edu s=ed2026 a=ed25519-sha256 result=skipped
#
# Mail::DKIM 1.20230212 (Debian 12) cannot verify Ed25519: ed25519-sha256
# signatures are reported as "skipped" and do not count either way.  Exit
# status: 0 if at least one RSA signature passes and every RSA signature
# passes; with --expect-none, 0 only if the message has no DKIM-Signature;
# 1 otherwise; 2 on usage or I/O errors.  Failure details go to stderr.
use strict;
use warnings;
use Getopt::Long;
use Net::DNS;
use Mail::DKIM::Verifier;
use Mail::DKIM::DNS;

my $dns = '127.0.0.1:53';
my ( $expect_none, $quiet );
GetOptions(
    'dns=s'       => \$dns,
    'expect-none' => \$expect_none,
    'quiet|q'     => \$quiet,
) && @ARGV == 1
  or die "usage: verify.pl [--dns ADDR[:PORT]] [--expect-none] [--quiet] FILE|-\n";

my ( $addr, $port ) = ( $dns, 53 );
if ( $dns =~ /^\[(.+)\]:(\d+)$/ || $dns =~ /^([^:]+):(\d+)$/ ) {
    ( $addr, $port ) = ( $1, $2 );
}
elsif ( $dns =~ /^\[(.+)\]$/ ) {
    $addr = $1;
}

my $res = Net::DNS::Resolver->new(
    nameservers => [$addr],
    port        => $port,
    recurse     => 1,
    retry       => 1,
    retrans     => 1,
    udp_timeout => 3,
    tcp_timeout => 3,
    defnames    => 0,
    dnsrch      => 0,
    searchlist  => [],
);
$res->udppacketsize(1232);
Mail::DKIM::DNS::resolver($res);
$Mail::DKIM::DNS::TIMEOUT = 5;

my $file = $ARGV[0];
my $fh;
if ( $file eq '-' ) {
    $fh = \*STDIN;
}
else {
    open( $fh, '<', $file ) or do { warn "verify.pl: $file: $!\n"; exit 2 };
}
binmode $fh;
my $msg = do { local $/; <$fh> };
close $fh;

# Mail::DKIM wants CRLF line ends.
$msg =~ s/\015?\012/\015\012/g;

# Count the DKIM-Signature fields ourselves, so that one Mail::DKIM could not
# parse is not silently dropped.
my ($head) = split /\015\012\015\012/, $msg, 2;
my $nraw = () = $head =~ /^DKIM-Signature[ \t]*:/mgi;

if ($expect_none) {
    if ($nraw) {
        print "unexpected DKIM-Signature fields: $nraw\n";
        exit 1;
    }
    print "no DKIM-Signature (as expected)\n";
    exit 0;
}
if ( !$nraw ) {
    print "no DKIM-Signature\n";
    exit 1;
}

my $v = Mail::DKIM::Verifier->new();
$v->PRINT($msg);
$v->CLOSE;

my ( $rsa_pass, $bad ) = ( 0, 0 );
my @sigs = grep { $_->isa('Mail::DKIM::Signature') } $v->signatures;
for my $s (@sigs) {
    my $alg = lc( $s->algorithm // '?' );
    my $line = sprintf 'd=%s s=%s a=%s', $s->domain // '?', $s->selector // '?', $alg;
    my $r = $s->result // 'none';
    if ( $alg eq 'ed25519-sha256' ) {
        print "$line result=skipped\n";
        print STDERR "  $line: Mail::DKIM cannot verify Ed25519 (said: $r"
          . ( $s->result_detail ? ', ' . $s->result_detail : '' ) . ")\n"
          unless $quiet || $r eq 'pass';
        next;
    }
    if ( $r eq 'pass' ) {
        print "$line result=pass\n";
        $rsa_pass++;
    }
    else {
        print "$line result=fail\n";
        print STDERR "  $line: " . ( $s->result_detail // $r ) . "\n" unless $quiet;
        $bad++;
    }
}
if ( @sigs < $nraw ) {
    printf "%d DKIM-Signature field(s) not understood by Mail::DKIM result=fail\n",
      $nraw - @sigs;
    $bad++;
}
if ( !$rsa_pass && !$bad ) {
    print STDERR "  no RSA signature to verify (Mail::DKIM verifies RSA only)\n"
      unless $quiet;
}
exit( ( $rsa_pass && !$bad ) ? 0 : 1 );
