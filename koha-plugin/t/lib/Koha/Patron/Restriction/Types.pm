package Koha::Patron::Restriction::Types;

# Test stub: find a restriction type by its code.

use strict;
use warnings;

use C4::Context;
use Koha::Patron::Restriction::Type;

sub find {
    my ( $class, $code ) = @_;
    my $row = C4::Context->dbh->selectrow_hashref( 'SELECT * FROM restriction_types WHERE code = ?', undef, $code );
    return $row ? bless( $row, 'Koha::Patron::Restriction::Type' ) : undef;
}

1;
