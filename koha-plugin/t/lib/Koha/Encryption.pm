package Koha::Encryption;

# TEST STUB of Koha::Encryption (Koha >= 22.05: Crypt::CBC with AES and koha-conf's encryption_key).
# Crypt::CBC is not installed here, so this is NOT AES and NOT for real use: a reversible keyed
# transform (a random nonce, an HMAC-SHA256 keystream XORed over the text, an HMAC tag) that keeps
# what the tests need: the stored value is not the text, it needs the key to be read back, and
# new() dies without an encryption_key as Koha's does.

use strict;
use warnings;

use C4::Context;
use Digest::SHA qw(hmac_sha256);

sub new {
    my ($class) = @_;
    my $key = C4::Context->config('encryption_key');
    die "No encryption_key in koha-conf.xml\n" if !$key || $key eq '__ENCRYPTION_KEY__';
    return bless { key => $key }, $class;
}

sub _stream {
    my ( $self, $nonce, $length ) = @_;
    my $stream = '';
    my $block  = 0;
    $stream .= hmac_sha256( $nonce . pack( 'N', $block++ ), $self->{key} ) while length $stream < $length;
    return substr( $stream, 0, $length );
}

sub encrypt_hex {
    my ( $self, $text ) = @_;
    utf8::encode( my $bytes = $text );
    my $nonce  = join '', map { chr int rand 256 } 1 .. 16;
    my $cipher = $bytes ^ $self->_stream( $nonce, length $bytes );
    my $tag    = hmac_sha256( $nonce . $cipher, "tag:$self->{key}" );
    return unpack( 'H*', $nonce . $cipher . $tag );
}

sub decrypt_hex {
    my ( $self, $hex ) = @_;
    die "not hex\n" unless defined $hex && $hex =~ /^(?:[0-9a-f]{2})+$/ && length $hex >= 96;
    my $raw    = pack( 'H*', $hex );
    my $nonce  = substr( $raw, 0, 16 );
    my $tag    = substr( $raw, -32 );
    my $cipher = substr( $raw, 16, length($raw) - 48 );
    die "wrong key or damaged value\n" unless hmac_sha256( $nonce . $cipher, "tag:$self->{key}" ) eq $tag;
    my $bytes = $cipher ^ $self->_stream( $nonce, length $cipher );
    utf8::decode($bytes);
    return $bytes;
}

1;
