# The plugin's openapi.json is a valid Swagger 2.0 paths object once merged as Koha's PluginRoutes
# merges it, and the Koha-style mount answers under /api/v1/contrib/patronprivacy.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib", "$FindBin::Bin/..";
use Test::More;
use Test::Mojo;
use PatronPrivacyTest::Harness;
use JSON::Validator::Schema::OpenAPIv2;

my $plugin = PatronPrivacyTest::Harness::plugin();
is( $plugin->api_namespace, 'patronprivacy', 'namespace from the contract' );
my $spec   = PatronPrivacyTest::Harness::spec($plugin);
my $schema = JSON::Validator::Schema::OpenAPIv2->new($spec);
ok( !$schema->is_invalid, 'merged spec is valid (as PluginRoutes::spec_ok checks)' ) or diag explain $schema->errors;
is_deeply(
    [ sort keys %{ $spec->{paths} } ],
    [
        '/contrib/patronprivacy/patrons/{patron_id}/privacy-status',
        '/contrib/patronprivacy/restrictions/{restriction_ref}',
        '/contrib/patronprivacy/views',
    ],
    'routes under /contrib/<namespace>'
);
for my $path ( values %{ $spec->{paths} } ) {
    for my $op ( values %$path ) {
        like( $op->{'x-mojo-to'}, qr/^Fi::PatronPrivacy::Controller#\w+$/, "x-mojo-to $op->{'x-mojo-to'} under Koha::Plugin" );
        ok( $op->{'x-koha-authorization'}, "$op->{operationId} has x-koha-authorization (else Koha opens it to anyone)" );
    }
}

# patron_id is Koha's borrowernumber, an INT(11) in MariaDB (and in the plugin's tables): every place it
# appears is 1 .. 2**31-1, so a bigger one is a 400 and not a 500 under MariaDB's strict mode.
my @patron_ids;
my $walk;
$walk = sub {
    my ($node) = @_;
    if ( ref $node eq 'HASH' ) {
        push @patron_ids, $node->{properties}->{patron_id} if ref $node->{properties} eq 'HASH' && $node->{properties}->{patron_id};
        push @patron_ids, $node if ( $node->{name} // '' ) eq 'patron_id';
        $walk->($_) for values %$node;
    }
    elsif ( ref $node eq 'ARRAY' ) { $walk->($_) for @$node }
};
$walk->( $plugin->api_routes );
is( scalar @patron_ids, 5, 'patron_id in the views body, the status path, the PUT body and its two answers' );
for my $patron_id (@patron_ids) {
    is_deeply( [ @{$patron_id}{qw(type minimum maximum)} ], [ 'integer', 1, 2147483647 ], 'patron_id integer 1 .. 2147483647' );
}

my $t = Test::Mojo->new( PatronPrivacyTest::Harness::app() );
my $staff = PatronPrivacyTest::Harness::login_staff( 'anna', { superlibrarian => 1 } );
my %staff = ( Cookie => "CGISESSID=$staff->{cgisessid}", 'CSRF-TOKEN' => $staff->{csrf_token} );
my $token = PatronPrivacyTest::Harness::api_token( 'svc', { borrowers => ['edit_borrowers'] } );
$t->post_ok( '/api/v1/contrib/patronprivacy/views' => {%staff} => json => { patron_id => 2147483648, page => 'x' } )
  ->status_is( 400, 'views: patron_id above INT(11)' );
$t->get_ok( '/api/v1/contrib/patronprivacy/patrons/2147483648/privacy-status' => {%staff} )->status_is( 400, 'status: above INT(11)' );
$t->put_ok( '/api/v1/contrib/patronprivacy/restrictions/ban-1' => { Authorization => "Bearer $token" } => json =>
      { patron_id => 2147483648, kind => 'library_use_ban', library_id => 'MPL', starts_on => '2026-01-01', ends_on => '2026-01-02' } )
  ->status_is( 400, 'restriction: above INT(11)' );
$t->get_ok('/api/v1/contrib/patronprivacy/patrons/1/privacy-status')->status_is(401);
$t->get_ok('/api/v1/contrib/patronprivacy/nothing')->status_is(404);
done_testing;
