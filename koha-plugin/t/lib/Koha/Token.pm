package Koha::Token;

# Test stub of Koha::Token's CSRF tokens: a token is tied to the session it was made for.

use strict;
use warnings;

use Digest::SHA qw(hmac_sha256_hex);

my $SECRET = join '', map { sprintf '%02x', int rand 256 } 1 .. 16;

sub new { return bless {}, shift }

sub generate_csrf {
    my ( $self, $args ) = @_;
    return hmac_sha256_hex( $args->{session_id}, $SECRET );
}

sub check_csrf {
    my ( $self, $args ) = @_;
    return 0 unless defined $args->{session_id} && defined $args->{token};
    return $args->{token} eq hmac_sha256_hex( $args->{session_id}, $SECRET ) ? 1 : 0;
}

1;
