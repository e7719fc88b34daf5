# GET /patrons/{id}/privacy-status: the service's answer through the plugin (the browser never holds
# the key), links absolute, the billing link only for staff with updatecharges; only for patrons Koha
# lets the staff user see; only the panel's fields (1.1.0: the restriction of processing and the loan-history
# choice too).
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib", "$FindBin::Bin/..";
use Test::More;
use Koha::Patrons;
use PatronPrivacyTest::Harness;
use PatronPrivacyTest::Setup;

my ( $service, $plugin, $t ) = PatronPrivacyTest::Setup::start( state => { billing => [7], unknown => [404], restricted => [8], unchosen => [8] } );
my $key     = $service->key;
my $anna    = PatronPrivacyTest::Harness::login_staff( 'anna', { borrowers => ['list_borrowers'] } );
my $billing = PatronPrivacyTest::Harness::login_staff( 'bill', { borrowers => ['edit_borrowers'], updatecharges => ['remaining_permissions'] } );
my $nobody  = PatronPrivacyTest::Harness::login_staff( 'nobody', { updatecharges => 1 } );
my $base    = $service->url;
Koha::Patrons->add( borrowernumber => $_, userid => "p$_" ) for 7, 8, 404;
Koha::Patrons->add( borrowernumber => 9, userid => 'p9', branchcode => 'CPL' );
sub get_as { my ( $s, $id ) = @_; $t->get_ok( "/api/v1/contrib/patronprivacy/patrons/$id/privacy-status" => { Cookie => "CGISESSID=$s->{cgisessid}" } ) }

get_as( $anna, 7 )->status_is(200)->json_is( '/links/patron' => "$base/patrons/7/" )->json_is( '/links/billing' => undef )
  ->json_is( '/restrictions/0/kind' => 'library_use_ban' )->json_is( '/sensitive_marks' => ['trusteeship'] )
  ->json_is( '/notices_to_guardians' => Mojo::JSON->false )->json_is( '/loan_history' => 1 )
  ->json_is( '/processing_restricted' => Mojo::JSON->false )->json_is( '/loan_history_chosen_on' => '2026-03-01' )
  ->json_is( '/loan_history_chosen_by' => 'patron' )->json_is( '/loan_history_confirmation_due' => 18 );
is_deeply(
    [ sort keys %{ $t->tx->res->json } ],
    [   qw(links loan_history loan_history_chosen_by loan_history_chosen_on loan_history_confirmation_due
          notices_to_guardians processing_restricted restrictions sensitive_marks)
    ],
    'only the panel\'s fields: not identity_code_stored, not koha_patron_id, not what the service adds later'
);
get_as( $anna, 8 )->status_is(200)->json_is( '/processing_restricted' => Mojo::JSON->true, 'a restricted patron' )
  ->json_is( '/loan_history_chosen_on' => undef )->json_is( '/loan_history_chosen_by' => undef )
  ->json_is( '/loan_history_confirmation_due' => undef );
ok( exists $t->tx->res->json->{loan_history_chosen_on}, 'a value never chosen: null passes as null (not left out)' );
unlike( $t->tx->res->body, qr/billing\/patrons/, 'no billing link without updatecharges' );
get_as( $billing, 7 )->status_is(200)->json_is( '/links/billing' => "$base/billing/patrons/7/reveal/" );
get_as( $billing, 8 )->status_is(200)->json_is( '/links/billing' => undef );
is( $service->requests->[-1]->{authorization}, "Api-Key $key", 'the plugin adds the key' );
unlike( $t->tx->res->body, qr/\Q$key\E/, 'the key is not in the answer' );
get_as( $anna, 404 )->status_is(404)->json_is( '/error_code' => 'not_found' );

# ATTACK (review B5): a patron of another library, whom Koha does not show this staff user.
my $calls = scalar @{ $service->requests };
get_as( $anna, 9 )->status_is( 404, 'another library\'s patron: 404 as if unknown' )->json_is( '/error_code' => 'not_found' );
unlike( $t->tx->res->body, qr/restrictions|sensitive/, 'nothing of the patron' );
get_as( $anna, 12345 )->status_is( 404, 'no such patron in Koha' )->json_is( '/error_code' => 'not_found' );
is( scalar @{ $service->requests }, $calls, 'the service was not even asked' );
my $roamer = PatronPrivacyTest::Harness::login_staff( 'roamer',
    { borrowers => [qw(list_borrowers view_borrower_infos_from_any_libraries)] } );
get_as( $roamer, 9 )->status_is( 200, 'view_borrower_infos_from_any_libraries sees every library\'s patrons' );
my $super = PatronPrivacyTest::Harness::login_staff( 'super', { superlibrarian => 1 } );
get_as( $super, 9 )->status_is( 200, 'so does a superlibrarian' );
get_as( $nobody, 7 )->status_is( 403, 'staff without borrowers/circulate' );
$t->get_ok('/api/v1/contrib/patronprivacy/patrons/7/privacy-status')->status_is( 401, 'anonymous' );
$t->get_ok('/api/v1/contrib/patronprivacy/patrons/x/privacy-status' => { Cookie => "CGISESSID=$anna->{cgisessid}" })->status_is(400);

$service->control( mode => 'down' );
get_as( $anna, 7 )->status_is(503)->json_is( '/error_code' => 'service_unavailable' );
$service->control( mode => '401' );
get_as( $anna, 7 )->status_is(503)->json_is( '/error_code' => 'service_unavailable' );
is( $plugin->retrieve_data('last_error_code'), '401', 'a refused key shows on the configure page' );
$service->stop;
get_as( $anna, 7 )->status_is( 503, 'service gone' )->json_is( '/error_code' => 'service_unavailable' );
$plugin->store_data( { api_key => '' } );
get_as( $anna, 7 )->status_is(503)->json_is( '/error_code' => 'not_configured' );
done_testing;
