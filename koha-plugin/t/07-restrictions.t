# PUT/DELETE /restrictions/{ref}: the service's bans as Koha restrictions of type PATRON_PRIVACY.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib", "$FindBin::Bin/..";
use Test::More;
use C4::Context;
use Koha::Patrons;
use PatronPrivacyTest::Harness;
use PatronPrivacyTest::Setup;

my ( $service, $plugin, $t ) = PatronPrivacyTest::Setup::start();
my $dbh   = C4::Context->dbh;
Koha::Patrons->add( borrowernumber => 31, userid => 'p31' );
Koha::Patrons->add( borrowernumber => 32, userid => 'p32' );
my $token = PatronPrivacyTest::Harness::api_token( 'privacy-service', { borrowers => ['edit_borrowers'] } );
my $weak  = PatronPrivacyTest::Harness::api_token( 'reader', { borrowers => ['list_borrowers'] } );
my $staff = PatronPrivacyTest::Harness::login_staff( 'anna', { borrowers => ['list_borrowers'] } );
my %auth  = ( Authorization => "Bearer $token" );
my $url   = '/api/v1/contrib/patronprivacy/restrictions';
my %ban   = ( patron_id => 31, kind => 'library_use_ban', library_id => 'MPL', starts_on => '2026-12-01', ends_on => '2026-12-20' );

sub debarments { $dbh->selectall_arrayref( 'SELECT * FROM borrower_debarments ORDER BY borrower_debarment_id', { Slice => {} } ) }

$t->put_ok( "$url/ban-12" => {%auth} => json => \%ban )->status_is(201)->json_is( '/restriction_ref' => 'ban-12' )
  ->json_is( '/patron_id' => 31 )->json_is( '/expiration' => '2026-12-21' );
my $id = $t->tx->res->json('/koha_restriction_id');
my @rows = @{ debarments() };
is( scalar @rows, 1, 'one restriction' );
is( $rows[0]->{borrower_debarment_id}, $id, 'its id answered' );
is( $rows[0]->{type}, 'PATRON_PRIVACY', 'plugin type' );
is( $rows[0]->{expiration}, '2026-12-21', 'expiration = ends_on + 1 day' );
is( $rows[0]->{comment}, 'Library use ban, library MPL, 2026-12-01 - 2026-12-20 (patron privacy service, ban-12)', 'comment without personal data' );
ok( $dbh->selectrow_array('SELECT debarred FROM borrowers WHERE borrowernumber = 31'), 'patron restricted' );

$t->put_ok( "$url/ban-12" => {%auth} => json => \%ban )->status_is( 200, 'same PUT again: idempotent' )->json_is( '/koha_restriction_id' => $id );
$t->put_ok( "$url/ban-12" => {%auth} => json => { %ban, ends_on => '2026-12-31' } )->status_is( 200, 'update' )
  ->json_is( '/expiration' => '2027-01-01' );
is( scalar @{ debarments() }, 1, 'still one restriction' );
is( debarments()->[0]->{expiration}, '2027-01-01', 'expiration updated across the year' );

$t->put_ok( "$url/prohibition-3" => {%auth} => json => { %ban, kind => 'access_prohibition', ends_on => '2026-12-01' } )
  ->status_is(201)->json_is( '/expiration' => '2026-12-02' );
like( debarments()->[1]->{comment}, qr/^Access prohibition, library MPL/, 'prohibition comment' );

$dbh->do( 'DELETE FROM borrower_debarments WHERE borrower_debarment_id = ?', undef, $id );
$t->put_ok( "$url/ban-12" => {%auth} => json => \%ban )->status_is( 201, 'hand-deleted restriction recreated' );
isnt( $t->tx->res->json('/koha_restriction_id'), $id, 'new id' );
is( scalar @{ debarments() }, 2, 'ban and prohibition' );

$t->put_ok( "$url/ban-12" => {%auth} => json => { %ban, patron_id => 32 } )->status_is( 201, 'moved to another patron' );
is_deeply( [ sort map { $_->{borrowernumber} } @{ debarments() } ], [ 31, 32 ], 'old patron\'s row went with it' );

$t->put_ok( "$url/ban-13" => {%auth} => json => { %ban, patron_id => 999 } )->status_is(404)->json_is( '/error_code' => 'patron_not_found' );
$t->put_ok( "$url/ban-13" => {%auth} => json => { %ban, ends_on => '2026-11-01' } )->status_is( 400, 'ends before it starts' );
$t->put_ok( "$url/ban-13" => {%auth} => json => { %ban, ends_on => '2026-02-30' } )->status_is( 400, 'no such date' );
$t->put_ok( "$url/ban-13" => {%auth} => json => { %ban, kind => 'other' } )->status_is( 400, 'unknown kind' );
$t->put_ok( "$url/ban-13" => {%auth} => json => { %ban, comment => 'x' } )->status_is( 400, 'no extra fields' );
$t->put_ok( "$url/loan-13" => {%auth} => json => \%ban )->status_is( 400, 'ref pattern' );

$t->put_ok( "$url/ban-14" => json => \%ban )->status_is( 401, 'anonymous' );
$t->put_ok( "$url/ban-14" => { Authorization => 'Bearer forged' } => json => \%ban )->status_is( 401, 'bad token' );
$t->put_ok( "$url/ban-14" => { Authorization => "Bearer $weak" } => json => \%ban )->status_is( 403, 'API user without edit_borrowers' );
$t->put_ok( "$url/ban-14" => { PatronPrivacyTest::Setup::staff_headers($staff) } => json => \%ban )
  ->status_is( 403, 'staff without edit_borrowers' );
$t->delete_ok("$url/ban-12")->status_is( 401, 'anonymous delete' );
$t->delete_ok( "$url/ban-12" => { Authorization => "Bearer $weak" } )->status_is( 403, 'delete without edit_borrowers' );

$t->delete_ok( "$url/ban-12" => {%auth} )->status_is(204);
is_deeply( [ map { $_->{comment} =~ /(prohibition-3)/ ? 1 : 0 } @{ debarments() } ], [1], 'only the prohibition left' );
ok( !$dbh->selectrow_array('SELECT debarred FROM borrowers WHERE borrowernumber = 32'), 'patron no longer restricted' );
$t->delete_ok( "$url/ban-12" => {%auth} )->status_is( 204, 'delete again: idempotent' );
$t->delete_ok( "$url/ban-99" => {%auth} )->status_is( 204, 'never known: 204' );
$dbh->do('DELETE FROM borrower_debarments');
$t->delete_ok( "$url/prohibition-3" => {%auth} )->status_is( 204, 'hand-deleted: 204' );

# A MANUAL restriction of the same patron is never touched.
$dbh->do(q{INSERT INTO borrower_debarments (borrowernumber, type, comment) VALUES (31, 'MANUAL', 'by hand')});
$t->put_ok( "$url/ban-20" => {%auth} => json => \%ban )->status_is(201);
$t->delete_ok( "$url/ban-20" => {%auth} )->status_is(204);
is_deeply( [ map { $_->{type} } @{ debarments() } ], ['MANUAL'], 'manual restriction untouched' );
$dbh->do('DELETE FROM borrower_debarments');

sub of_type { [ grep { $_->{type} eq 'PATRON_PRIVACY' } @{ debarments() } ] }
sub naming {
    my ( $patron, $ref ) = @_;
    $dbh->do( q{INSERT INTO borrower_debarments (borrowernumber, type, expiration, comment) VALUES (?, 'PATRON_PRIVACY', '2026-12-21', ?)},
        undef, $patron, "Library use ban, library MPL, 2026-12-01 - 2026-12-20 (patron privacy service, $ref)" );
    return $dbh->last_insert_id( undef, undef, 'borrower_debarments', undef );
}

# ATTACK (review B2, /work/tools/i13/poc/orphan.t): the plugin is uninstalled and installed again (the
# map is gone) while its restriction stays in Koha; the service PUTs again and later cancels the ban.
$t->put_ok( "$url/ban-12" => {%auth} => json => \%ban )->status_is(201);
my $first = $t->tx->res->json('/koha_restriction_id');
$plugin->uninstall;
$plugin->install;
$t->put_ok( "$url/ban-12" => {%auth} => json => { %ban, ends_on => '2026-12-24' } )
  ->status_is( 200, 'map lost: the restriction naming the ref is adopted, not doubled' )
  ->json_is( '/koha_restriction_id' => $first )->json_is( '/expiration' => '2026-12-25' );
is( scalar @{ of_type() }, 1, 'one restriction' );
$plugin->uninstall;
$plugin->install;
$t->delete_ok( "$url/ban-12" => {%auth} )->status_is(204);
is( scalar @{ of_type() }, 0, 'cancelled ban leaves no restriction in Koha (map lost again before the DELETE)' );

# Two PUTs of one ref raced (both added a row), and one more is left on another patron: the next PUT
# keeps the oldest of this patron's and removes the rest.
my @raced = ( naming( 31, 'ban-12' ), naming( 31, 'ban-12' ) );
my $elsewhere = naming( 32, 'ban-12' );
$t->put_ok( "$url/ban-12" => {%auth} => json => \%ban )->status_is( 200, 'duplicates: updated, not created' )
  ->json_is( '/koha_restriction_id' => $raced[0] );
is_deeply( [ map { $_->{borrower_debarment_id} } @{ of_type() } ], [ $raced[0] ], 'exactly one left: the oldest' );
@raced = ( naming( 31, 'ban-12' ), naming( 32, 'ban-12' ) );
$t->delete_ok( "$url/ban-12" => {%auth} )->status_is(204);
is( scalar @{ of_type() }, 0, 'DELETE removes the mapped one and every other naming the ref' );

# ban-1 is not ban-12 (nor ban-12 ban-1).
naming( 31, 'ban-12' );
naming( 31, 'ban-123' );
$t->put_ok( "$url/ban-1" => {%auth} => json => \%ban )->status_is( 201, 'ban-1 adopts neither ban-12 nor ban-123' );
is( scalar @{ of_type() }, 3, 'three restrictions' );
$t->delete_ok( "$url/ban-1" => {%auth} )->status_is(204);
is_deeply( [ sort map { $_->{comment} =~ /(ban-\d+)\)$/ } @{ of_type() } ], [ 'ban-12', 'ban-123' ], 'DELETE ban-1 left the others' );
$t->delete_ok( "$url/ban-12" => {%auth} )->status_is(204);
is_deeply( [ map { $_->{comment} =~ /(ban-\d+)\)$/ } @{ of_type() } ], ['ban-123'], 'DELETE ban-12 left ban-123' );
done_testing;
