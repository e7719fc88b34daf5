package Koha::Plugin::Fi::PatronPrivacy::Restrictions;

# The service's bans and access prohibitions as Koha patron restrictions (borrower_debarments) of the
# plugin's own type PATRON_PRIVACY, through Koha's Koha::Patron::Debarments. The plugin's map table
# keeps restriction_ref -> borrower_debarment_id, so a PUT is idempotent and a restriction deleted by
# hand in Koha is recreated by the next PUT. Each restriction's comment also names its ref as a token
# ("(patron privacy service, ban-12)"), so the ref's restrictions are found without the map too (after
# an uninstall and reinstall, or when two PUTs of one ref raced): a PUT adopts one, keeps exactly one
# (the oldest) and a DELETE removes them all, so a ban that ended never stays a restriction in Koha.

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
    # A system type: Koha's administration cannot delete it (deleting a type moves its restrictions
    # to the default type, where the plugin would never find them to remove).
    if ( my $type = Koha::Patron::Restriction::Types->find($TYPE_CODE) ) {
        $type->set( { is_system => 1 } )->store unless $type->is_system;
        return;
    }
    Koha::Patron::Restriction::Type->new( { code => $TYPE_CODE, display_text => $TYPE_TEXT, is_system => 1 } )
      ->store;
    return 1;
}

# On uninstall: the type goes only when no restriction uses it any more (Koha's rows stay untouched).
# Koha refuses to delete a system type, so it stops being one first.
sub remove_type_if_unused {
    my ($self) = @_;
    my $type = Koha::Patron::Restriction::Types->find($TYPE_CODE) or return;
    my ($in_use) = C4::Context->dbh->selectrow_array( 'SELECT COUNT(*) FROM borrower_debarments WHERE type = ?',
        undef, $TYPE_CODE );
    return if $in_use;
    $type->set( { is_system => 0 } )->store;
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

# No personal data: the kind, the library, the dates and the service's ref, which ends the comment
# as a token.
sub comment_for {
    my ( $ref, $args ) = @_;
    return sprintf( '%s, library %s, %s - %s (patron privacy service, %s)',
        $KIND_TEXT{ $args->{kind} }, $args->{library_id}, $args->{starts_on}, $args->{ends_on}, $ref );
}

# Every restriction of the plugin's type whose comment names exactly $ref (ban-1 is not ban-12),
# oldest first. The ref pattern (openapi.json) has no LIKE wildcards; the regex makes it exact.
sub _naming {
    my ($ref) = @_;
    my $rows = C4::Context->dbh->selectall_arrayref(
        'SELECT borrower_debarment_id, borrowernumber, type, comment FROM borrower_debarments'
          . ' WHERE type = ? AND comment LIKE ? ORDER BY borrower_debarment_id',
        { Slice => {} }, $TYPE_CODE, '%' . $ref . ')' );
    return [ grep { ( $_->{comment} // '' ) =~ /\(patron privacy service, \Q$ref\E\)$/ } @$rows ];
}

# MariaDB/MySQL (Koha): PUTs and DELETEs of one ref one at a time across Koha's workers (GET_LOCK, 10 s).
# SQLite (the tests) has no such lock; there the clean-up after each PUT is what keeps one restriction.
sub _locked {
    my ( $self, $ref, $code ) = @_;
    my $dbh = C4::Context->dbh;
    return $code->() if $dbh->{Driver}->{Name} ne 'mysql';
    my $name = $self->_map . ":$ref";
    $dbh->selectrow_array( 'SELECT GET_LOCK(?, 10)', undef, $name );
    my @result = eval { $code->() };
    my $error  = $@;
    $dbh->selectrow_array( 'SELECT RELEASE_LOCK(?)', undef, $name );
    die $error if $error;
    return wantarray ? @result : $result[0];
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
    Koha::Patrons->find( $args->{patron_id} ) or return { error => 'patron_not_found' };
    return $self->_locked( $ref, sub { $self->_put( $ref, $args, $expiration ) } );
}

sub _put {
    my ( $self, $ref, $args, $expiration ) = @_;
    my $patron_id = $args->{patron_id};
    my $comment   = comment_for( $ref, $args );

    my $mapped  = $self->_mapped($ref);
    my $current = $mapped && _debarment( $mapped->{borrower_debarment_id} );
    # A mapped restriction of another patron (a merge in the service) goes in the clean-up below.
    undef $current unless $current && $current->{type} eq $TYPE_CODE && $current->{borrowernumber} == $patron_id;
    # No map entry (lost with an uninstall, or a PUT racing this one): adopt the patron's restriction
    # that names this ref.
    ($current) = grep { $_->{borrowernumber} == $patron_id } @{ _naming($ref) } unless $current;

    my $created_id = 0;
    if ( !$current ) {
        $self->{plugin}->install unless Koha::Patron::Restriction::Types->find($TYPE_CODE);
        AddDebarment( { borrowernumber => $patron_id, expiration => $expiration, type => $TYPE_CODE, comment => $comment } );
        # AddDebarment's return value differs between Koha versions; the new row is found by its comment.
        ($created_id) = C4::Context->dbh->selectrow_array(
            'SELECT MAX(borrower_debarment_id) FROM borrower_debarments WHERE borrowernumber = ? AND type = ? AND comment = ?',
            undef, $patron_id, $TYPE_CODE, $comment );
    }

    # Exactly one restriction for the ref: the oldest of this patron's (so two racing PUTs keep the
    # same one); every other naming the ref goes, as does a mapped one of another patron.
    my @naming = @{ _naming($ref) };
    my ($keep) = grep { $_->{borrowernumber} == $patron_id } @naming;
    $keep //= $current;
    die "restriction for $ref was not stored\n" unless $keep;
    my $id = $keep->{borrower_debarment_id};
    DelDebarment( $_->{borrower_debarment_id} ) for grep { $_->{borrower_debarment_id} != $id } @naming;
    my $old = $mapped && _debarment( $mapped->{borrower_debarment_id} );
    DelDebarment( $old->{borrower_debarment_id} )
      if $old && $old->{type} eq $TYPE_CODE && $old->{borrower_debarment_id} != $id;
    ModDebarment( { borrower_debarment_id => $id, expiration => $expiration, comment => $comment } );
    $self->_remember( $ref, $id, $patron_id );
    return { created => ( $created_id && $created_id == $id ? 1 : 0 ), koha_restriction_id => $id + 0, expiration => $expiration };
}

# Removes the Koha restrictions for $ref: the mapped one and every one of the plugin's type that names
# the ref (also when the map was lost); true either way (idempotent).
sub delete {
    my ( $self, $ref ) = @_;
    return $self->_locked(
        $ref,
        sub {
            my $mapped  = $self->_mapped($ref);
            my $current = $mapped && _debarment( $mapped->{borrower_debarment_id} );
            DelDebarment( $current->{borrower_debarment_id} ) if $current && $current->{type} eq $TYPE_CODE;
            DelDebarment( $_->{borrower_debarment_id} ) for @{ _naming($ref) };
            C4::Context->dbh->do( 'DELETE FROM ' . $self->_map . ' WHERE restriction_ref = ?', undef, $ref );
            return 1;
        }
    );
}

1;
