# configure: saved only after a successful test call (version check, the key's permissions) on a POST;
# the key is stored encrypted and never shown back in full; a blank key keeps the stored one only for
# the stored URL; https only (loopback excepted); no redirects followed. And intranet_js.
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
    my $method   = delete $params{method}   // 'POST';
    $plugin->{cgi} = PatronPrivacyTest::FakeCGI->new( params => { op => 'cud-save', %params }, language => $language,
        method => $method );
    $plugin->configure;
    return $plugin->{output_html}->{params};
}

my $p = configure( service_url => 'not a url', api_key => 'first-key-abcd1234' );
is( $p->{error}, 'bad_url', 'bad URL refused' );
ok( !$plugin->retrieve_data('service_url'), 'nothing stored' );

$p = configure( service_url => 'http://127.0.0.1:1', api_key => 'first-key-abcd1234' );
is( $p->{error}, 'unreachable', 'unreachable service: not saved' );
ok( !$plugin->retrieve_data('api_key'), 'key not stored' );

# https only; http only to a loopback host (the whole host name).
for my $url (qw(http://privacy.example http://127.0.0.1.evil.example http://localhost.evil.example http://10.0.0.1:8000
    http://[::2]:80)) {
    is( configure( service_url => $url, api_key => 'first-key-abcd1234' )->{error}, 'not_https', "$url refused: not https" );
}
for my $url (qw(http://localhost:1 http://127.1.2.3:1 http://[::1]:1 https://127.0.0.1:1)) {
    is( configure( service_url => $url, api_key => 'first-key-abcd1234' )->{error}, 'unreachable', "$url accepted (then tried)" );
}
for my $url (qw(ftp://privacy.example https://user@privacy.example https://privacy.example?x=1 javascript:alert(1))) {
    is( configure( service_url => $url, api_key => 'first-key-abcd1234' )->{error}, 'bad_url', "$url: not an address" );
}

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
# ATTACK: a GET (a link clicked, an <img>) never saves, even with every field a save needs.
my $calls_before = scalar @{ $service->requests };
$p = configure( service_url => $service->url, api_key => 'first-key-abcd1234', method => 'GET' );
ok( !$p->{saved} && !$p->{error}, 'GET: the page is shown, nothing saved' );
ok( !$plugin->retrieve_data('api_key') && !$plugin->retrieve_data('service_url'), 'GET: nothing stored' );
is( scalar @{ $service->requests }, $calls_before, 'GET: no test call made' );

# No encryption_key in koha-conf.xml: the key is not stored in clear instead.
{
    local $C4::Context::CONFIG{encryption_key} = undef;
    $p = configure( service_url => $service->url, api_key => 'first-key-abcd1234' );
    is( $p->{error}, 'no_encryption', 'no encryption_key: not saved' );
    ok( !$plugin->retrieve_data('api_key'), 'no encryption_key: nothing stored' );
}

$p = configure( service_url => $service->url . '/', api_key => ' first-key-abcd1234 ', language => 'fi-FI' );
ok( $p->{saved}, 'saved after a good test call' ) or diag explain $p;
is( $plugin->retrieve_data('service_url'), $service->url, 'URL stored without the trailing slash' );
is( $plugin->api_key, 'first-key-abcd1234', 'key stored with store_data, read back' );
my $raw = $plugin->retrieve_data('api_key');
ok( length $raw, 'plugin_data has a value' );
unlike( $raw, qr/first-key|abcd1234/, 'the raw plugin_data value is not the key (Koha::Encryption)' );
{
    local $C4::Context::CONFIG{encryption_key} = 'another-koha-key-000000';
    is( $plugin->api_key, undef, 'another encryption_key cannot read it back (not configured then)' );
}
is( $p->{key_hint}, '1234', 'only the last 4 characters shown back' );
is( $p->{consortium}, 'KIMPPA', 'consortium from the service' );
is( $p->{lang}, 'fi', 'staff language fi' );
like( $p->{t}->{save}, qr/Testaa/, 'Finnish text' );
my $request = $service->requests->[-1];
is( $request->{path},   '/api/v1/koha/service/', 'test call path' );
is( $request->{plugin}, '1.1.0', 'X-Patron-Privacy-Plugin header' );

$service->control( key => 'second-key-wxyz9876' );
$p = configure( service_url => $service->url, api_key => '' );
is( $p->{error}, 'key_rejected', 'blank key field tests the stored key' );
is( $plugin->api_key, 'first-key-abcd1234', 'failed save keeps the old key' );
$p = configure( service_url => $service->url, api_key => 'second-key-wxyz9876', language => 'sv-SE' );
ok( $p->{saved}, 'new key saved' );
is( $p->{lang}, 'sv', 'staff language sv' );
$p = configure( service_url => $service->url, api_key => '' );
ok( $p->{saved}, 'blank key keeps the stored one' );
is( $plugin->api_key, 'second-key-wxyz9876', 'stored key unchanged' );

# ATTACK (review B1): someone who can open configure types their own address and leaves the key blank,
# so the stored key would go to them with the test call.
my $evil = PatronPrivacyTest::StubService->start( key => 'attacker-knows-nothing' );
$p = configure( service_url => $evil->url, api_key => '' );
is( $p->{error}, 'key_for_new_url', 'blank key with a new URL: the key must be typed again' );
is( scalar @{ $evil->requests }, 0, 'the new address got no call, so not the stored key' );
is( $plugin->service_url, $service->url, 'stored URL unchanged' );
is( $plugin->api_key, 'second-key-wxyz9876', 'stored key unchanged' );
$p = configure( service_url => $service->url . '/api', api_key => '' );
is( $p->{error}, 'key_for_new_url', 'also for another path on the same host' );

# ATTACK: the service (or someone on its address) answers with a redirect elsewhere: not followed.
$service->control( redirect => $evil->url . '/api/v1/koha/service/' );
$p = configure( service_url => $service->url, api_key => 'second-key-wxyz9876' );
is( $p->{error}, 'bad_answer', 'a redirect is an unexpected answer (max_redirect 0)' );
is( $p->{error_detail}, 'HTTP 302', 'says which' );
is( scalar @{ $evil->requests }, 0, 'the redirect target got nothing, so not the key' );
$service->control( redirect => '' );
$evil->stop;

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
is_deeply( decode_json($settings), { base => '/api/v1/contrib/patronprivacy', version => '1.1.0', service_url => $service->url },
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
