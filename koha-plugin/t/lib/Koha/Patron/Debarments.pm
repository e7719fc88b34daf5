package Koha::Patron::Debarments;

# Test stub of Koha::Patron::Debarments on the stub's borrower_debarments table. AddDebarment returns
# only true/false, as Koha's current version does (older ones returned the id).

use strict;
use warnings;

use C4::Context;
use Exporter 'import';
our @EXPORT_OK = qw(AddDebarment ModDebarment DelDebarment);

sub AddDebarment {
    my ($params) = @_;
    return unless $params->{borrowernumber};
    my $env = C4::Context->userenv;
    C4::Context->dbh->do(
        'INSERT INTO borrower_debarments (borrowernumber, expiration, type, comment, manager_id) VALUES (?, ?, ?, ?, ?)',
        undef, $params->{borrowernumber}, $params->{expiration}, $params->{type} || 'MANUAL', $params->{comment},
        $env ? $env->{number} : undef );
    _update_flags( $params->{borrowernumber} );
    return 1;
}

sub ModDebarment {
    my ($params) = @_;
    my $id = delete $params->{borrower_debarment_id} or return;
    my @keys = sort keys %$params;
    my $set  = join ', ', map {"$_ = ?"} @keys;
    my $r    = C4::Context->dbh->do( "UPDATE borrower_debarments SET $set, updated = CURRENT_TIMESTAMP WHERE borrower_debarment_id = ?",
        undef, @{$params}{@keys}, $id );
    _update_flags( _borrower_of($id) );
    return $r;
}

sub DelDebarment {
    my ($id) = @_;
    my $borrower = _borrower_of($id);
    my $r = C4::Context->dbh->do( 'DELETE FROM borrower_debarments WHERE borrower_debarment_id = ?', undef, $id );
    _update_flags($borrower);
    return $r;
}

sub _borrower_of {
    my ($id) = @_;
    my ($borrower) = C4::Context->dbh->selectrow_array(
        'SELECT borrowernumber FROM borrower_debarments WHERE borrower_debarment_id = ?', undef, $id );
    return $borrower;
}

sub _update_flags {
    my ($borrower) = @_;
    return unless $borrower;
    my ($max) = C4::Context->dbh->selectrow_array(
        q{SELECT MAX(expiration) FROM borrower_debarments WHERE borrowernumber = ? AND expiration > date('now')},
        undef, $borrower );
    C4::Context->dbh->do( 'UPDATE borrowers SET debarred = ? WHERE borrowernumber = ?', undef, $max, $borrower );
    return;
}

1;
