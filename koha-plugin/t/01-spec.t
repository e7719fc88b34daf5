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

my $t = Test::Mojo->new( PatronPrivacyTest::Harness::app() );
$t->get_ok('/api/v1/contrib/patronprivacy/patrons/1/privacy-status')->status_is(401);
$t->get_ok('/api/v1/contrib/patronprivacy/nothing')->status_is(404);
done_testing;
