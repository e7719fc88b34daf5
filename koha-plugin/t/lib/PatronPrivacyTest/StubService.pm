package PatronPrivacyTest::StubService;

# A recording stand-in for the patron privacy service's machine API (/api/v1/koha/...), run in a
# child process on a real port so the plugin's blocking HTTP client can reach it. Tests steer it
# with POST /_control (JSON merged into its state) and read what it got with GET /_requests.
# State: key, mode (ok | down | 429 | 401), min_version, permissions, unknown (patron ids it does not
# know), bad (patron ids that make a whole batch 400), billing (patron ids with an identity code),
# restricted (patron ids whose processing is restricted), unchosen (patron ids whose loan history is
# not a recorded choice), redirect (a URL every /api/v1/koha/ call is sent to with a 302).

use strict;
use warnings;

use HTTP::Tiny;
use IO::Socket::INET;
use Mojo::IOLoop::Server;
use Mojo::JSON qw(decode_json encode_json);
use Mojo::Server::Daemon;
use Mojolicious::Lite ();
use POSIX ();
use Time::HiRes qw(usleep);

sub _version_ge {
    my ( $x, $y ) = @_;
    return 0 unless defined $x && $x =~ /^\d+(?:\.\d+)*$/;
    my @x = split /\./, $x;
    my @y = split /\./, $y;
    while ( @x || @y ) {
        my $c = ( shift(@x) // 0 ) <=> ( shift(@y) // 0 );
        return $c > 0 if $c;
    }
    return 1;
}

sub _app {
    my (%state) = @_;
    my @requests;
    my %recorded;
    my $app = Mojolicious->new;
    $app->log->level('fatal');
    my $r = $app->routes;
    $r->post('/_control')->to( cb => sub { my $c = shift; %state = ( %state, %{ $c->req->json } ); $c->render( json => \%state ) } );
    $r->get('/_requests')->to( cb => sub { $_[0]->render( json => \@requests ) } );
    $r->get('/_recorded')->to( cb => sub { $_[0]->render( json => [ sort keys %recorded ] ) } );

    my $guard = sub {
        my ($c) = @_;
        push @requests, {
            method        => $c->req->method,
            path          => $c->req->url->path->to_string,
            authorization => $c->req->headers->authorization,
            plugin        => $c->req->headers->header('X-Patron-Privacy-Plugin'),
            body          => $c->req->json,
        };
        if ( $state{redirect} ) { $c->redirect_to( $state{redirect} ); return 0 }
        my $mode = $state{mode} // 'ok';
        if ( ( $c->req->headers->authorization // '' ) ne "Api-Key $state{key}" || $mode eq '401' ) {
            $c->render( status => 401, json => { detail => 'Invalid key', code => 'not_authenticated' } );
            return 0;
        }
        return 1 if $c->req->url->path->to_string eq '/api/v1/koha/service/';
        if ( $mode eq 'down' ) { $c->render( status => 503, text => 'down' ); return 0 }
        if ( $mode eq '429' )  { $c->render( status => 429, json => { detail => 'slow down' } ); return 0 }
        return 1;
    };
    $r->get('/api/v1/koha/service/')->to( cb => sub {
        my $c = shift;
        $guard->($c) or return;
        $c->render( json => {
            service            => 'patron-privacy',
            api_version        => 1,
            plugin_min_version => $state{min_version},
            plugin_supported   => _version_ge( $c->req->headers->header('X-Patron-Privacy-Plugin'), $state{min_version} )
              ? Mojo::JSON->true : Mojo::JSON->false,
            consortium         => 'KIMPPA',
            permissions        => $state{permissions},
        } );
    } );
    $r->post('/api/v1/koha/views/')->to( cb => sub {
        my $c = shift;
        $guard->($c) or return;
        my $views = $c->req->json->{views};
        my %bad   = map { $_ => 1 } @{ $state{bad} };
        if ( @$views > 500 || grep { $bad{ $_->{koha_patron_id} } } @$views ) {
            return $c->render( status => 400, json => { detail => 'bad row', code => 'invalid' } );
        }
        my %unknown = map { $_ => 1 } @{ $state{unknown} };
        my @answers;
        for my $view (@$views) {
            my $status = $recorded{ $view->{event_id} } ? 'duplicate'
              : $unknown{ $view->{koha_patron_id} } ? 'unknown_patron' : 'recorded';
            $recorded{ $view->{event_id} } = encode_json($view) if $status eq 'recorded';
            push @answers, { event_id => $view->{event_id}, status => $status, staff_user_known => Mojo::JSON->true,
                network_allowed => Mojo::JSON->true };
        }
        $c->render( json => { views => \@answers } );
    } );
    $r->get('/api/v1/koha/patrons/<id:num>/privacy-status/')->to( cb => sub {
        my $c = shift;
        $guard->($c) or return;
        my $id = $c->param('id');
        return $c->render( status => 404, json => { detail => 'Not found.', code => 'not_found' } )
          if grep { $_ == $id } @{ $state{unknown} };
        my $billing    = grep { $_ == $id } @{ $state{billing} };
        my $restricted = grep { $_ == $id } @{ $state{restricted} // [] };
        my $chosen     = !grep { $_ == $id } @{ $state{unchosen} // [] };
        # The service's shape (koha/serializers.py PrivacyStatusSerializer) plus a field it might add one day.
        $c->render( json => {
            koha_patron_id       => $id + 0,
            restrictions         => [ { kind => 'library_use_ban', library => 'MPL', starts_on => '2026-01-01', ends_on => '2026-03-01' } ],
            sensitive_marks      => ['trusteeship'],
            notices_to_guardians => Mojo::JSON->false,
            processing_restricted => $restricted ? Mojo::JSON->true : Mojo::JSON->false,
            loan_history         => 1,
            loan_history_chosen_on => $chosen ? '2026-03-01' : undef,
            loan_history_chosen_by => $chosen ? 'patron' : undef,
            loan_history_confirmation_due => $chosen ? 18 : undef,
            identity_code_stored => $billing ? Mojo::JSON->true : Mojo::JSON->false,
            added_later          => 'not for the panel',
            links                => { patron => "/patrons/$id/", billing => $billing ? "/billing/patrons/$id/reveal/" : undef },
        } );
    } );
    return $app;
}

sub start {
    my ( $class, %args ) = @_;
    my %state = (
        key         => $args{key} // 'test-key-0123456789',
        mode        => 'ok',
        min_version => '1.0.0',
        permissions => [qw(koha.record_views koha.view_privacy_status koha.sync)],
        unknown     => [],
        bad         => [],
        billing     => [],
        %{ $args{state} // {} },
    );
    my $port = Mojo::IOLoop::Server->generate_port;
    my $pid  = fork // die "fork: $!";
    if ( !$pid ) {
        my $daemon = Mojo::Server::Daemon->new( app => _app(%state), listen => ["http://127.0.0.1:$port"], silent => 1 );
        eval { $daemon->run };
        POSIX::_exit(0);
    }
    for ( 1 .. 200 ) {
        last if IO::Socket::INET->new( PeerAddr => '127.0.0.1', PeerPort => $port, Timeout => 1 );
        usleep(50_000);
    }
    return bless { pid => $pid, port => $port, url => "http://127.0.0.1:$port", key => $state{key} }, $class;
}

sub url { return $_[0]->{url} }
sub key { return $_[0]->{key} }

sub control {
    my ( $self, %state ) = @_;
    HTTP::Tiny->new->post( "$self->{url}/_control",
        { headers => { 'Content-Type' => 'application/json' }, content => encode_json( \%state ) } );
    return;
}

sub requests {
    my ($self) = @_;
    return decode_json( HTTP::Tiny->new->get("$self->{url}/_requests")->{content} );
}

sub recorded {
    my ($self) = @_;
    return decode_json( HTTP::Tiny->new->get("$self->{url}/_recorded")->{content} );
}

sub stop {
    my ($self) = @_;
    return unless $self->{pid};
    kill TERM => $self->{pid};
    waitpid $self->{pid}, 0;
    $self->{pid} = undef;
    return;
}

sub DESTROY { $_[0]->stop }

1;
