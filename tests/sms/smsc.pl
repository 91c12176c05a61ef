#!/usr/bin/perl
# A small SMSC for the SMPP gateway tests, on Debian's Net::SMPP (libnet-smpp-perl): an SMPP 3.4
# implementation independent of the Python client under test.
#
#   perl smsc.pl LOGFILE      prints "PORT <n>" once listening on 127.0.0.1, then serves forever
#
# Accepts bind_transmitter for system_id "dialer" / password "secret" (else ESME_RINVPASWD),
# answers submit_sm with message ids smsc-1, smsc-2, ...; destinations starting 999 are refused
# (ESME_RINVDSTADR, permanent) and 888 are throttled (ESME_RTHROTTLED, transient). Each submit_sm
# is logged to LOGFILE as "dest data_coding esm_class hex(short_message)".
use strict;
use warnings;
use IO::Handle;
use Net::SMPP;

my $log_path = shift or die "usage: smsc.pl LOGFILE\n";
my $listener = Net::SMPP->new_listen('127.0.0.1', port => 0, smpp_version => 0x34)
    or die "cannot listen: $!\n";
STDOUT->autoflush(1);
print "PORT ", $listener->sockport, "\n";

my $next_id = 0;
while (my $conn = $listener->accept) {
    open(my $log, '>>', $log_path) or die "cannot open $log_path: $!\n";
    $log->autoflush(1);
    while (my $pdu = $conn->read_pdu) {
        my $cmd = $pdu->{cmd};
        if ($cmd == Net::SMPP::CMD_bind_transmitter) {
            my $ok = ($pdu->{system_id} // '') eq 'dialer' && ($pdu->{password} // '') eq 'secret';
            $conn->bind_transmitter_resp(seq => $pdu->{seq}, system_id => 'smsc',
                                         status => $ok ? 0 : 0x0000000E);
            last unless $ok;
        } elsif ($cmd == Net::SMPP::CMD_submit_sm) {
            my $dest = $pdu->{destination_addr};
            printf $log "%s %d %d %s\n", $dest, $pdu->{data_coding}, $pdu->{esm_class},
                unpack('H*', $pdu->{short_message});
            if ($dest =~ /^999/) {
                $conn->submit_sm_resp(seq => $pdu->{seq}, message_id => '', status => 0x0000000B);
            } elsif ($dest =~ /^888/) {
                $conn->submit_sm_resp(seq => $pdu->{seq}, message_id => '', status => 0x00000058);
            } else {
                $next_id++;
                $conn->submit_sm_resp(seq => $pdu->{seq}, message_id => "smsc-$next_id");
            }
        } elsif ($cmd == Net::SMPP::CMD_enquire_link) {
            $conn->enquire_link_resp(seq => $pdu->{seq});
        } elsif ($cmd == Net::SMPP::CMD_unbind) {
            $conn->unbind_resp(seq => $pdu->{seq});
            last;
        }
    }
    close($log);
    $conn->close;
}
