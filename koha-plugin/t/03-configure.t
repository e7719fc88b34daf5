# configure: saved only after a successful test call (version check, the key's permissions); the key
# is never shown back in full; a blank key keeps the stored one. And intranet_js.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib", "$FindBin::Bin/..";
use Test::More;
use Mojo::JSON qw(decode_json);
use PatronPrivacyTest::FakeCGI;
use PatronPrivacyTest::Harness;
use PatronPrivacyTest::StubService;

my @warnings;
local $SIG{__WARN__} = sub { push @warnings, @_ };

my $service = PatronPrivacyTest::StubService->start( key => 'first-key-abcd1234' );
my $plugin  = PatronPrivacyTest::Harness::plugin();

sub configure {
    my (%params) = @_;
    my $language = delete $params{language} // 'en';
    $plugin->{cgi} = PatronPrivacyTest::FakeCGI->new( params => { op => 'cud-save', %params }, language => $language );
    $plugin->configure;
    return $plugin->{output_html}->{params};
}

my $p = configure( service_url => 'not a url', api_key => 'first-key-abcd1234' );
is( $p->{error}, 'bad_url', 'bad URL refused' );
ok( !$plugin->retrieve_data('service_url'), 'nothing stored' );

$p = configure( service_url => 'http://127.0.0.1:1', api_key => 'first-key-abcd1234' );
is( $p->{error}, 'unreachable', 'unreachable service: not saved' );
ok( !$plugin->retrieve_data('api_key'), 'key not stored' );

$p = configure( service_url => $service->url, api_key => 'wrong-key-00000000' );
is( $p->{error}, 'key_rejected', 'key refused by the service' );

$service->control( permissions => ['koha.record_views'] );
$p = configure( service_url => $service->url, api_key => 'first-key-abcd1234' );
is( $p->{error}, 'missing_permissions', 'key without view_privacy_status' );
like( $p->{error_detail}, qr/koha\.view_privacy_status/, 'names the missing permission' );

$service->control( permissions => [qw(koha.record_views koha.view_privacy_status)], min_version => '1.2.0' );
$p = configure( service_url => $service->url, api_key => 'first-key-abcd1234' );
is( $p->{error}, 'plugin_unsupported', 'version check: the service needs a newer plugin' );
is( $p->{error_detail}, '1.2.0', 'shows the oldest supported version' );
ok( !$plugin->retrieve_data('api_key'), 'still nothing stored' );

$service->control( min_version => '1.0.0' );
$p = configure( service_url => $service->url . '/', api_key => ' first-key-abcd1234 ', language => 'fi-FI' );
ok( $p->{saved}, 'saved after a good test call' ) or diag explain $p;
is( $plugin->retrieve_data('service_url'), $service->url, 'URL stored without the trailing slash' );
is( $plugin->retrieve_data('api_key'),     'first-key-abcd1234', 'key stored with store_data' );
is( $p->{key_hint}, '1234', 'only the last 4 characters shown back' );
is( $p->{consortium}, 'KIMPPA', 'consortium from the service' );
is( $p->{lang}, 'fi', 'staff language fi' );
like( $p->{t}->{save}, qr/Testaa/, 'Finnish text' );
my $request = $service->requests->[-1];
is( $request->{path},   '/api/v1/koha/service/', 'test call path' );
is( $request->{plugin}, '1.0.0', 'X-Patron-Privacy-Plugin header' );

$service->control( key => 'second-key-wxyz9876' );
$p = configure( service_url => $service->url, api_key => '' );
is( $p->{error}, 'key_rejected', 'blank key field tests the stored key' );
is( $plugin->retrieve_data('api_key'), 'first-key-abcd1234', 'failed save keeps the old key' );
$p = configure( service_url => $service->url, api_key => 'second-key-wxyz9876', language => 'sv-SE' );
ok( $p->{saved}, 'new key saved' );
is( $p->{lang}, 'sv', 'staff language sv' );
$p = configure( service_url => $service->url, api_key => '' );
ok( $p->{saved}, 'blank key keeps the stored one' );
is( $plugin->retrieve_data('api_key'), 'second-key-wxyz9876', 'stored key unchanged' );

# Showing the page without saving.
$plugin->{cgi} = PatronPrivacyTest::FakeCGI->new( params => {} );
$plugin->configure;
$p = $plugin->{output_html}->{params};
ok( !$p->{saved} && !$p->{error}, 'plain view' );
like( $p->{file} // $plugin->{output_html}->{file}, qr/configure\.tt$/, 'configure.tt' );
for my $key (qw(queue_length queue_dead last_error_code)) { ok( exists $p->{$key}, "page shows $key" ) }
my $all_params = join ' ', map { ref $_ ? '' : ( $_ // '' ) } values %$p;
unlike( $all_params, qr/first-key|second-key/, 'the key is not in the page' );

# Every string exists in fi, sv and en.
my @en = sort keys %{ Koha::Plugin::Fi::PatronPrivacy::Strings::strings('en') };
for my $lang (qw(fi sv)) {
    is_deeply( [ sort keys %{ Koha::Plugin::Fi::PatronPrivacy::Strings::strings($lang) } ], \@en, "$lang complete" );
}
open my $tt, '<', $plugin->mbf_path('configure.tt') or die;
my $template = do { local $/; <$tt> };
for my $used ( $template =~ /\bt\.(\w+)/g ) { ok( ( grep { $_ eq $used } @en ), "configure.tt string $used exists" ) }
like( $template, qr/csrf-token\.inc/, 'form carries Koha\'s CSRF token' );
like( $template, qr/type="password"[^>]*value=""/s, 'key field is never filled in' );

# intranet_js: settings + the panel script, nothing secret.
my $js = $plugin->intranet_js;
like( $js, qr{window\.PatronPrivacy = \{[^<]*"base":"\\?/api\\?/v1\\?/contrib\\?/patronprivacy"}, 'settings with the routes base' );
my ($settings) = $js =~ /window\.PatronPrivacy = (\{.*?\});/;
is_deeply( decode_json($settings), { base => '/api/v1/contrib/patronprivacy', version => '1.0.0', service_url => $service->url },
    'settings: base, version, service_url' );
unlike( $js, qr/second-key|Api-Key/, 'no key in the page' );

# ATTACK: a stored URL that would close the inline script and open its own stays inside the settings.
my $stored_url = $plugin->retrieve_data('service_url');
$plugin->store_data( { service_url => 'https://x.example/</script><script>alert(1)</script>' } );
my $hostile = $plugin->intranet_js;
unlike( $hostile, qr{</script><script>alert}, 'a "</script>" in the settings does not end the script' );
my ($escaped) = $hostile =~ /window\.PatronPrivacy = (\{.*?\});/;
is( decode_json($escaped)->{service_url}, 'https://x.example/</script><script>alert(1)</script>', 'the value itself is intact' );
$plugin->store_data( { service_url => $stored_url } );

unlike( join( '', @warnings ), qr/first-key|second-key/, 'the key never appears in warnings' );
done_testing;
