package PatronPrivacyTest::Setup;

# Shared set-up of the route tests: a stub service, the plugin configured against it, the Koha-style app.

use strict;
use warnings;

use PatronPrivacyTest::Harness;
use PatronPrivacyTest::StubService;
use Test::Mojo;

# Staff permissions that may use the panel routes.
our $STAFF = { borrowers => ['edit_borrowers'] };

sub start {
    my (%args) = @_;
    my $service = PatronPrivacyTest::StubService->start( %args );
    my $plugin  = PatronPrivacyTest::Harness::plugin();
    $plugin->store_data( { service_url => $service->url, api_key => $plugin->encrypted_key( $service->key ) } );
    my $t = Test::Mojo->new( PatronPrivacyTest::Harness::app() );
    return ( $service, $plugin, $t );
}

sub staff_headers {
    my ($session) = @_;
    return ( Cookie => "CGISESSID=$session->{cgisessid}", 'CSRF-TOKEN' => $session->{csrf_token} );
}

sub queued_rows {
    my ($plugin) = @_;
    return C4::Context->dbh->selectall_arrayref( 'SELECT * FROM ' . $plugin->queue_table . ' ORDER BY id', { Slice => {} } );
}

1;
