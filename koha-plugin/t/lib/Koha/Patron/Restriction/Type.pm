package Koha::Patron::Restriction::Type;

# Test stub of one restriction type row: new/set/store/delete; delete refuses a system type as
# Koha's does (Koha::Exceptions::CannotDeleteSystem).

use strict;
use warnings;

use C4::Context;

sub new { my ( $class, $fields ) = @_; return bless {%$fields}, $class }

sub code      { return $_[0]->{code} }
sub is_system { return $_[0]->{is_system} }

sub set {
    my ( $self, $fields ) = @_;
    @{$self}{ keys %$fields } = values %$fields;
    return $self;
}

sub store {
    my ($self) = @_;
    C4::Context->dbh->do( 'INSERT OR REPLACE INTO restriction_types (code, display_text, is_system) VALUES (?, ?, ?)',
        undef, $self->{code}, $self->{display_text}, $self->{is_system} // 0 );
    return $self;
}

sub delete {
    my ($self) = @_;
    die "Koha::Exceptions::CannotDeleteSystem\n" if $self->{is_system};
    C4::Context->dbh->do( 'DELETE FROM restriction_types WHERE code = ?', undef, $self->{code} );
    return 1;
}

1;
