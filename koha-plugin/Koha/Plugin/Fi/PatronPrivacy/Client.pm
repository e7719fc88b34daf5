package Koha::Plugin::Fi::PatronPrivacy::Client;

# The patron privacy service's machine API as this plugin uses it. Every call has a timeout, and
# nothing here logs: the key is in a header only, and the bodies carry patron ids and staff user ids.
# A call that did not get an HTTP answer (refused, timeout, DNS) comes back as status 599. Redirects
# are not followed (max_redirect 0): the key goes only to the configured address, and a 3xx is an
# unexpected answer like any other.

use strict;
use warnings;

use HTTP::Tiny;
use Mojo::JSON qw(decode_json encode_json);

sub new {
    my ( $class, %args ) = @_;
    my $self = bless {
        base_url => $args{base_url},
        api_key  => $args{api_key},
        version  => $args{version},
        timeout  => $args{timeout} // 10,
    }, $class;
    $self->{base_url} =~ s{/+$}{};
    return $self;
}

sub _http {
    my ($self) = @_;
    return HTTP::Tiny->new(
        timeout      => $self->{timeout},
        max_redirect => 0,
        agent        => "koha-plugin-patron-privacy/$self->{version}",
        verify_SSL   => 1,
    );
}

# Returns { status => <int>, body => <decoded JSON or undef> }.
sub _call {
    my ( $self, $method, $path, $payload ) = @_;
    my %headers = (
        'Authorization'          => "Api-Key $self->{api_key}",
        'Accept'                 => 'application/json',
        'X-Patron-Privacy-Plugin' => $self->{version},
    );
    my %options = ( headers => \%headers );
    if ( defined $payload ) {
        $headers{'Content-Type'} = 'application/json';
        $options{content} = encode_json($payload);
    }
    my $response = eval { $self->_http->request( $method, $self->{base_url} . $path, \%options ) };
    return { status => 599, body => undef } unless $response;
    my $status = $response->{status};
    my $body   = eval { length( $response->{content} // '' ) ? decode_json( $response->{content} ) : undef };
    return { status => $status, body => $body };
}

# The test call and version check: GET /api/v1/koha/service/.
sub service_info {
    my ($self) = @_;
    return $self->_call( GET => '/api/v1/koha/service/' );
}

# POST /api/v1/koha/views/ with at most 500 views.
sub send_views {
    my ( $self, $views ) = @_;
    return $self->_call( POST => '/api/v1/koha/views/', { views => $views } );
}

sub privacy_status {
    my ( $self, $patron_id ) = @_;
    return $self->_call( GET => '/api/v1/koha/patrons/' . int($patron_id) . '/privacy-status/' );
}

1;
