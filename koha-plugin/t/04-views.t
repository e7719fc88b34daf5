# POST /views: the staff user and address come from Koha's session and request, never the body.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib", "$FindBin::Bin/..";
use Test::More;
use C4::Context;
use Koha::Plugin::Fi::PatronPrivacy::Queue;
use PatronPrivacyTest::Harness;
use PatronPrivacyTest::Setup;

my @warnings;
local $SIG{__WARN__} = sub { push @warnings, @_ };
$Koha::Plugin::Fi::PatronPrivacy::Queue::MIN_FLUSH_INTERVAL = 0;

my ( $service, $plugin, $t ) = PatronPrivacyTest::Setup::start();
my $anna  = PatronPrivacyTest::Harness::login_staff( 'anna', $PatronPrivacyTest::Setup::STAFF );
my $clerk = PatronPrivacyTest::Harness::login_staff( 'clerk', { circulate => ['circulate_remaining_permissions'] } );
my $nobody = PatronPrivacyTest::Harness::login_staff( 'nobody', { catalogue => 1 } );
my %anna  = PatronPrivacyTest::Setup::staff_headers($anna);
my $url   = '/api/v1/contrib/patronprivacy/views';

$t->post_ok( $url => {%anna} => json => { patron_id => 42, page => 'members/moremember' } )->status_is(202)
  ->json_is( '/queued' => Mojo::JSON->true );
my ($sent) = grep { $_->{path} eq '/api/v1/koha/views/' } @{ $service->requests };
ok( $sent, 'flushed to the service right away' );
my $view = $sent->{body}->{views}->[0];
is( $view->{staff_userid},  'anna',      'staff user from the session' );
is( $view->{staff_address}, '127.0.0.1', 'address from the request' );
is( $view->{koha_patron_id}, 42, 'patron from the body' );
is( $view->{page}, 'members/moremember', 'page' );
like( $view->{event_id}, qr/^[A-Za-z0-9._:-]{1,64}$/, 'event id shape' );
like( $view->{viewed_at}, qr/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/, 'viewed_at RFC 3339 UTC' );
is( $sent->{authorization}, 'Api-Key ' . $service->key, 'sent with the stored key' );
is( scalar @{ PatronPrivacyTest::Setup::queued_rows($plugin) }, 0, 'recorded view left the queue' );

# ATTACK: the browser names another staff user / address.
for my $extra ( { staff_userid => 'boss' }, { staff_address => '10.9.9.9' }, { viewed_at => '2020-01-01T00:00:00Z' } ) {
    my ($field) = keys %$extra;
    $t->post_ok( $url => {%anna} => json => { patron_id => 42, page => 'members/moremember', %$extra } )
      ->status_is( 400, "body with $field refused (additionalProperties false)" );
}
$t->post_ok( $url => { %anna, 'X-Forwarded-For' => '10.9.9.9' } => json => { patron_id => 43, page => 'circ/circulation' } )
  ->status_is(202);
my @views = map { @{ $_->{body}->{views} // [] } } grep { $_->{path} eq '/api/v1/koha/views/' } @{ $service->requests };
is( scalar( grep { $_->{staff_userid} ne 'anna' || $_->{staff_address} ne '127.0.0.1' } @views ), 0,
    'no view was ever sent with another user or address' );

# Body validation.
$t->post_ok( $url => {%anna} => json => { patron_id => 0, page => 'x' } )->status_is( 400, 'patron_id >= 1' );
$t->post_ok( $url => {%anna} => json => { patron_id => 1, page => 'a b' } )->status_is( 400, 'page pattern' );
$t->post_ok( $url => {%anna} => json => { patron_id => 1, page => 'x' x 61 } )->status_is( 400, 'page length' );
$t->post_ok( $url => {%anna} => json => { page => 'x' } )->status_is( 400, 'patron_id required' );

# Authentication and authorization.
$t->post_ok( $url => json => { patron_id => 1, page => 'x' } )->status_is( 401, 'no session' );
$t->post_ok( $url => { Cookie => 'CGISESSID=forged' } => json => { patron_id => 1, page => 'x' } )->status_is( 401, 'unknown session' );
$t->post_ok( $url => { Cookie => "CGISESSID=$anna->{cgisessid}" } => json => { patron_id => 1, page => 'x' } )
  ->status_is( 403, 'missing CSRF token' );
$t->post_ok( $url => { Cookie => "CGISESSID=$anna->{cgisessid}", 'CSRF-TOKEN' => $clerk->{csrf_token} } => json => { patron_id => 1, page => 'x' } )
  ->status_is( 403, 'another session\'s CSRF token' );
$t->post_ok( $url => { PatronPrivacyTest::Setup::staff_headers($nobody) } => json => { patron_id => 1, page => 'x' } )
  ->status_is( 403, 'staff without the borrowers/circulate permissions' )->json_has('/required_permissions');
$t->post_ok( $url => { PatronPrivacyTest::Setup::staff_headers($clerk) } => json => { patron_id => 5, page => 'circ/circulation' } )
  ->status_is( 202, 'circulate_remaining_permissions is enough (any-of)' );

# ATTACK (review B6): a forged cross-site POST. The route checks Koha's CSRF token itself, also when
# the Koha in front of it does not (modelled by switching the harness's Koha-side check off).
{
    local $PatronPrivacyTest::Harness::KOHA_CHECKS_CSRF = 0;
    my $cookie = "CGISESSID=$anna->{cgisessid}";
    $t->post_ok( $url => { Cookie => $cookie } => json => { patron_id => 1, page => 'x' } )
      ->status_is( 403, 'no CSRF token: refused by the route itself' )->json_is( '/error_code' => 'wrong_csrf_token' );
    $t->post_ok( $url => { Cookie => $cookie, 'CSRF-TOKEN' => 'forged' } => json => { patron_id => 1, page => 'x' } )
      ->status_is( 403, 'a made-up token' );
    $t->post_ok( $url => { Cookie => $cookie, 'CSRF-TOKEN' => $clerk->{csrf_token} } => json => { patron_id => 1, page => 'x' } )
      ->status_is( 403, 'another session\'s token' );
    # A text/plain body is a "simple" cross-origin request: the browser sends it without a preflight.
    $t->post_ok( $url => { %anna, 'Content-Type' => 'text/plain' } => '{"patron_id":5,"page":"moremember"}' )
      ->status_is( 415, 'text/plain body refused' )->json_is( '/error_code' => 'unsupported_media_type' );
    $t->post_ok( $url => { %anna, 'Content-Type' => 'application/x-www-form-urlencoded' } => 'patron_id=5&page=x' )
      ->status_is( 415, 'form body refused' );
    $t->post_ok( $url => { %anna, 'Content-Type' => 'application/json; charset=UTF-8' } => '{"patron_id":5,"page":"moremember"}' )
      ->status_is( 202, 'application/json with a charset' );
}
my $api = PatronPrivacyTest::Harness::api_token( 'api-reader', { borrowers => ['list_borrowers'] } );
$t->post_ok( $url => { Authorization => "Bearer $api" } => json => { patron_id => 5, page => 'x' } )
  ->status_is( 202, 'a Bearer token is no cookie session: no CSRF token needed' );
$t->post_ok( $url => { Authorization => 'Bearer forged', Cookie => "CGISESSID=$anna->{cgisessid}" } => json => { patron_id => 5, page => 'x' } )
  ->status_is( 401, 'a made-up Authorization header does not fall back to the cookie' );

# Unconfigured plugin: the view is still queued.
my $key = $plugin->retrieve_data('api_key');
$plugin->store_data( { api_key => '' } );
$t->post_ok( $url => {%anna} => json => { patron_id => 77, page => 'members/moremember' } )->status_is(202);
my $rows = PatronPrivacyTest::Setup::queued_rows($plugin);
is( scalar @$rows, 1, 'queued while not configured' );
is( $rows->[0]->{staff_userid}, 'anna', 'queued with the session user' );
$plugin->store_data( { api_key => $key } );

unlike( join( '', @warnings ), qr/\Q@{[ $service->key ]}\E/, 'the key never appears in warnings' );
done_testing;
