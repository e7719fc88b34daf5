package PatronPrivacyTest::Harness;

# Koha's REST API as far as the plugin's routes need it, with no Koha: the plugin's openapi.json
# mounted under /api/v1/contrib/<namespace> with Mojolicious::Plugin::OpenAPI as Koha's
# PluginRoutes + V1.pm do (spec validated on load, x-mojo-to resolved under Koha::Plugin), behind an
# `under` doing what Koha's Auth does for our cases: a Bearer token -> its API user (a bad token is
# 401, no fallback), else the CGISESSID cookie -> the staff session, where unsafe methods need the
# CSRF-TOKEN header; a route's x-koha-authorization checked with C4::Auth::haspermission (a list is
# any-of); no user on a route with authorization -> 401.

use strict;
use warnings;

use File::Basename qw(dirname);
use File::Spec;

# Debian's JSON::Validator lacks the draft-04 meta-schema the Swagger 2.0 schema refers to; without
# this it would try to fetch it (see t/lib/json-schema-cache/).
BEGIN {
    my $cache = File::Spec->rel2abs( dirname(__FILE__) . '/../json-schema-cache' );
    $ENV{JSON_VALIDATOR_CACHE_PATH} = join ':', grep {length} $cache, $ENV{JSON_VALIDATOR_CACHE_PATH} // '';
}

use C4::Auth qw(haspermission);
use C4::Context;
use Koha::Patrons;
use Koha::Plugin::Fi::PatronPrivacy;
use Koha::Token;
use Mojolicious;

our %SESSIONS;    # CGISESSID -> { userid, number }
our $KOHA_CHECKS_CSRF = 1;    # Koha >= 24.05's Auth; 0 models an older Koha with no check in front of the route
our %TOKENS;      # Bearer token -> { userid, number }
my $next_number = 9000;

sub plugin { return Koha::Plugin::Fi::PatronPrivacy->new( { enable_plugins => 1 } ) }

sub spec {
    my ($plugin) = @_;
    my $spec = {
        swagger  => '2.0',
        info     => { title => 'Koha REST API (test stub)', version => '1' },
        basePath => '/api/v1',
        paths    => {},
    };
    my $routes = $plugin->api_routes;
    for my $route ( keys %$routes ) {
        my $path = '/contrib/' . $plugin->api_namespace . $route;
        die "Attempted to overwrite $path\n" if exists $spec->{paths}->{$path};
        $spec->{paths}->{$path} = $routes->{$route};
    }
    return $spec;
}

sub app {
    my (%args) = @_;
    my $plugin = plugin();
    my $app    = $args{app} // Mojolicious->new;
    $app->log->level('fatal') unless $ENV{HARNESS_VERBOSE_LOG};
    $app->secrets( ['patron-privacy-test'] );
    push @{ $app->routes->namespaces }, 'Koha::Plugin';
    $app->plugin( OpenAPI => { spec => spec($plugin), route => $app->routes->under('/api/v1')->to( cb => \&under ) } );
    return $app;
}

# A staff user logged in to Koha's staff interface; returns { cgisessid, csrf_token }.
sub login_staff {
    my ( $userid, $permissions ) = @_;
    my $number = _user( $userid, $permissions );
    my $sid    = join '', map { sprintf '%02x', int rand 256 } 1 .. 16;
    $SESSIONS{$sid} = { userid => $userid, number => $number };
    return { cgisessid => $sid, csrf_token => Koha::Token->new->generate_csrf( { session_id => $sid } ) };
}

# An API user (the service's Koha account, OAuth client credentials); returns the Bearer token
# (a new random one unless given).
sub api_token {
    my ( $userid, $permissions, $token ) = @_;
    my $number = _user( $userid, $permissions );
    $token //= join '', map { sprintf '%02x', int rand 256 } 1 .. 20;
    $TOKENS{$token} = { userid => $userid, number => $number };
    return $token;
}

sub _user {
    my ( $userid, $permissions ) = @_;
    C4::Auth::set_permissions( $userid, $permissions // {} );
    my ($number) = C4::Context->dbh->selectrow_array( 'SELECT borrowernumber FROM borrowers WHERE userid = ?', undef, $userid );
    return $number if $number;
    return Koha::Patrons->add( borrowernumber => $next_number++, userid => $userid )->borrowernumber;
}

sub _refuse {
    my ( $c, $status, $body ) = @_;
    $c->render( status => $status, json => $body );
    return undef;
}

sub under {
    my ($c) = @_;
    C4::Context->unset_userenv;
    my $op            = $c->openapi->spec // {};
    my $authorization = $op->{'x-koha-authorization'};
    my $header        = $c->req->headers->authorization;
    my $user;
    if ( $header && $header =~ /^Bearer (\S+)$/ ) {
        $user = $TOKENS{$1} or return _refuse( $c, 401, { error => 'Authentication failure.' } );
    }
    elsif ($header) {
        return _refuse( $c, 401, { error => 'Basic authentication disabled' } );
    }
    elsif ( my $sid = $c->cookie('CGISESSID') ) {
        if ( $user = $SESSIONS{$sid} ) {
            if ( $KOHA_CHECKS_CSRF && $c->req->method !~ /^(?:GET|HEAD|OPTIONS|TRACE)$/ ) {
                my $token = $c->req->headers->header('CSRF-TOKEN');
                return _refuse( $c, 403, { error => 'Wrong CSRF token' } )
                  unless Koha::Token->new->check_csrf( { session_id => $sid, token => $token } );
            }
        }
    }
    C4::Context->set_userenv_hash( { id => $user->{userid}, number => $user->{number}, branch => 'MPL' } ) if $user;
    return 1 unless $authorization;    # a contrib route without x-koha-authorization is open
    return _refuse( $c, 401, { error => 'Authentication failure.' } ) unless $user;
    my $permissions = $authorization->{permissions};
    return 1 if defined $permissions && haspermission( $user->{userid}, $permissions );
    return _refuse( $c, 403,
        { error => 'Authorization failure. Missing required permission(s).', required_permissions => $permissions } );
}

1;
