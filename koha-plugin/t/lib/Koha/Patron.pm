package Koha::Patron;

# Test stub of a Koha patron row (accessors for the columns the stubs create) and who may see whom:
# can_see_patron_infos as Koha's without library groups (same library, or the
# borrowers: view_borrower_infos_from_any_libraries permission, which a superlibrarian has).

use strict;
use warnings;

use C4::Auth qw(haspermission);

sub borrowernumber { return $_[0]->{borrowernumber} }
sub userid         { return $_[0]->{userid} }
sub branchcode     { return $_[0]->{branchcode} }
sub debarred       { return $_[0]->{debarred} }

sub has_permission {
    my ( $self, $flags ) = @_;
    return haspermission( $self->userid, $flags );
}

sub can_see_patron_infos {
    my ( $self, $patron ) = @_;
    return unless $patron;
    return 1 if $self->branchcode eq $patron->branchcode;
    return $self->has_permission( { borrowers => 'view_borrower_infos_from_any_libraries' } ) ? 1 : 0;
}

1;
