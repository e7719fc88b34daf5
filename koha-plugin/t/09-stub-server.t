# koha-stub-server (the browser test's stand-in for Koha) configures the plugin through its real
# configure path, prints the session, and serves the routes and the patron page with intranet_js.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib", "$FindBin::Bin/..";
use File::Temp qw(tempdir);
use HTTP::Tiny;
use Mojo::IOLoop::Server;
use Mojo::JSON qw(decode_json encode_json);
use Test::More;
use PatronPrivacyTest::StubService;

my $service = PatronPrivacyTest::StubService->start;
my $db      = tempdir( CLEANUP => 1 ) . '/koha.sqlite';
my $port    = Mojo::IOLoop::Server->generate_port;
my $base    = "http://127.0.0.1:$port";
my @cmd     = ( "$FindBin::Bin/bin/koha-stub-server", '--listen', $base, '--service-url', $service->url,
    '--staff-userid', 'anna', '--db', $db );

my $bad = system( @cmd, '--api-key', 'wrong-key-000000', '--listen', "http://127.0.0.1:1" ) >> 8;
is( $bad, 1, 'refuses to start when the configure test call fails' );

my $pid = open( my $out, '-|', @cmd, '--api-key', $service->key ) or die "cannot start: $!";
my $line = <$out>;
my $session = decode_json($line);
ok( $session->{cgisessid} && $session->{csrf_token}, 'session and CSRF token printed' );
is( $session->{staff_userid}, 'anna', 'staff user' );

my $http = HTTP::Tiny->new( timeout => 10 );
my $r = $http->post( "$base/api/v1/contrib/patronprivacy/views", {
    headers => { 'Content-Type' => 'application/json', Cookie => "CGISESSID=$session->{cgisessid}", 'CSRF-TOKEN' => $session->{csrf_token} },
    content => encode_json( { patron_id => 5, page => 'members/moremember' } ) } );
is( $r->{status}, 202, 'view accepted' );
my ($sent) = grep { $_->{path} eq '/api/v1/koha/views/' } @{ $service->requests };
is( $sent->{body}->{views}->[0]->{staff_userid}, 'anna', 'reached the service as the session user' );

SKIP: {
    skip 'no t/pages/moremember.html yet', 3 unless -f "$FindBin::Bin/pages/moremember.html";
    $r = $http->get("$base/cgi-bin/koha/members/moremember.pl");
    is( $r->{status}, 200, 'patron page served' );
    like( $r->{content}, qr/window\.PatronPrivacy = /, 'intranet_js pasted in' );
    unlike( $r->{content}, qr/KohaPlugins\.get_plugins_intranet_js|\[% csrf_token %\]/, 'markers replaced' );
}
kill TERM => $pid;
waitpid $pid, 0;
done_testing;
