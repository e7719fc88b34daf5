package Koha::Plugin::Fi::PatronPrivacy::Restrictions;

# The service's bans and access prohibitions as Koha patron restrictions (borrower_debarments) of the
# plugin's own type PATRON_PRIVACY, through Koha's Koha::Patron::Debarments. The plugin's map table
# keeps restriction_ref -> borrower_debarment_id, so a PUT is idempotent and a restriction deleted by
# hand in Koha is recreated by the next PUT.

use strict;
use warnings;

use C4::Context;
use Koha::Patrons;
use Koha::Patron::Debarments qw(AddDebarment ModDebarment DelDebarment);
use Koha::Patron::Restriction::Type;
use Koha::Patron::Restriction::Types;
use Time::Local qw(timegm);

our $TYPE_CODE = 'PATRON_PRIVACY';
our $TYPE_TEXT = 'Patron privacy service';

my %KIND_TEXT = (
    library_use_ban    => 'Library use ban',
    access_prohibition => 'Access prohibition',
);

sub new {
    my ( $class, $args ) = @_;
    return bless { plugin => $args->{plugin} }, $class;
}

sub _map { return $_[0]->{plugin}->map_table }

sub ensure_type {
    my ($self) = @_;
    return if Koha::Patron::Restriction::Types->find($TYPE_CODE);
    Koha::Patron::Restriction::Type->new( { code => $TYPE_CODE, display_text => $TYPE_TEXT, is_system => 0 } )
      ->store;
    return 1;
}

# On uninstall: the type goes only when no restriction uses it any more (Koha's rows stay untouched).
sub remove_type_if_unused {
    my ($self) = @_;
    my $type = Koha::Patron::Restriction::Types->find($TYPE_CODE) or return;
    my ($in_use) = C4::Context->dbh->selectrow_array( 'SELECT COUNT(*) FROM borrower_debarments WHERE type = ?',
        undef, $TYPE_CODE );
    return if $in_use;
    $type->delete;
    return 1;
}

# YYYY-MM-DD plus one day; undef for a date that does not exist.
sub day_after {
    my ($date) = @_;
    my ( $y, $m, $d ) = $date =~ /^(\d{4})-(\d{2})-(\d{2})$/ or return;
    my $epoch = eval { timegm( 0, 0, 12, $d, $m - 1, $y ) } // return;
    my @t = gmtime($epoch);
    return unless $t[5] + 1900 == $y && $t[4] + 1 == $m && $t[3] == $d;
    @t = gmtime( $epoch + 86400 );
    return sprintf( '%04d-%02d-%02d', $t[5] + 1900, $t[4] + 1, $t[3] );
}

# No personal data: the kind, the library, the dates and the service's ref.
sub comment_for {
    my ( $ref, $args ) = @_;
    return sprintf( '%s, library %s, %s - %s (patron privacy service %s)',
        $KIND_TEXT{ $args->{kind} }, $args->{library_id}, $args->{starts_on}, $args->{ends_on}, $ref );
}

sub _mapped {
    my ( $self, $ref ) = @_;
    return C4::Context->dbh->selectrow_hashref(
        'SELECT restriction_ref, borrower_debarment_id, patron_id FROM ' . $self->_map . ' WHERE restriction_ref = ?',
        undef, $ref );
}

sub _debarment {
    my ($id) = @_;
    return C4::Context->dbh->selectrow_hashref(
        'SELECT borrower_debarment_id, borrowernumber, type FROM borrower_debarments WHERE borrower_debarment_id = ?',
        undef, $id );
}

sub _remember {
    my ( $self, $ref, $debarment_id, $patron_id ) = @_;
    my $dbh = C4::Context->dbh;
    $dbh->do( 'DELETE FROM ' . $self->_map . ' WHERE restriction_ref = ?', undef, $ref );
    $dbh->do(
        'INSERT INTO ' . $self->_map . ' (restriction_ref, borrower_debarment_id, patron_id, updated_at) VALUES (?, ?, ?, ?)',
        undef, $ref, $debarment_id, $patron_id, time );
    return;
}

# Creates or updates the Koha restriction for $ref. Returns { created => 0|1, koha_restriction_id,
# expiration }, or { error => 'patron_not_found' | 'bad_dates' }.
sub put {
    my ( $self, $ref, $args ) = @_;
    my $expiration = day_after( $args->{ends_on} );
    return { error => 'bad_dates' }
      unless $expiration && day_after( $args->{starts_on} ) && $args->{starts_on} le $args->{ends_on};
    my $patron = Koha::Patrons->find( $args->{patron_id} ) or return { error => 'patron_not_found' };
    my $comment = comment_for( $ref, $args );

    my $mapped  = $self->_mapped($ref);
    my $current = $mapped && _debarment( $mapped->{borrower_debarment_id} );
    if ( $current && $current->{borrowernumber} == $args->{patron_id} && $current->{type} eq $TYPE_CODE ) {
        ModDebarment(
            {
                borrower_debarment_id => $current->{borrower_debarment_id},
                expiration            => $expiration,
                comment               => $comment,
            }
        );
        $self->_remember( $ref, $current->{borrower_debarment_id}, $args->{patron_id} );
        return { created => 0, koha_restriction_id => $current->{borrower_debarment_id} + 0, expiration => $expiration };
    }
    # A restriction moved to another patron (a merge in the service) goes from the old one first.
    DelDebarment( $current->{borrower_debarment_id} ) if $current && $current->{type} eq $TYPE_CODE;

    $self->{plugin}->install unless Koha::Patron::Restriction::Types->find($TYPE_CODE);
    AddDebarment(
        {
            borrowernumber => $args->{patron_id},
            expiration     => $expiration,
            type           => $TYPE_CODE,
            comment        => $comment,
        }
    );
    # AddDebarment's return value differs between Koha versions; the new row is found by its comment,
    # which names the ref.
    my ($id) = C4::Context->dbh->selectrow_array(
        'SELECT MAX(borrower_debarment_id) FROM borrower_debarments WHERE borrowernumber = ? AND type = ? AND comment = ?',
        undef, $args->{patron_id}, $TYPE_CODE, $comment );
    die "restriction for $ref was not stored\n" unless $id;
    $self->_remember( $ref, $id, $args->{patron_id} );
    return { created => 1, koha_restriction_id => $id + 0, expiration => $expiration };
}

# Removes the Koha restriction for $ref if there is one; true either way (idempotent).
sub delete {
    my ( $self, $ref ) = @_;
    my $mapped = $self->_mapped($ref) or return 1;
    my $current = _debarment( $mapped->{borrower_debarment_id} );
    DelDebarment( $current->{borrower_debarment_id} ) if $current && $current->{type} eq $TYPE_CODE;
    C4::Context->dbh->do( 'DELETE FROM ' . $self->_map . ' WHERE restriction_ref = ?', undef, $ref );
    return 1;
}

1;
