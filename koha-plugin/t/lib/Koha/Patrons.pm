package Koha::Patrons;

# Test stub: Koha::Patrons->find on the stub's borrowers table; add() for the tests.

use strict;
use warnings;

use C4::Context;
use Koha::Patron;

sub find {
    my ( $class, $id ) = @_;
    return unless defined $id;
    my $row = C4::Context->dbh->selectrow_hashref( 'SELECT * FROM borrowers WHERE borrowernumber = ?', undef, $id );
    return $row ? bless( $row, 'Koha::Patron' ) : undef;
}

sub add {
    my ( $class, %fields ) = @_;
    C4::Context->dbh->do( 'INSERT INTO borrowers (borrowernumber, userid, branchcode) VALUES (?, ?, ?)',
        undef, $fields{borrowernumber}, $fields{userid}, $fields{branchcode} // 'MPL' );
    return $class->find( $fields{borrowernumber} );
}

1;
