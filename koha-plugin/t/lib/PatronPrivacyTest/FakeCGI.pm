package PatronPrivacyTest::FakeCGI;

# What the plugin's configure reads from Koha's CGI object: param(), request_method() (GET unless
# given) and the staff language.

use strict;
use warnings;

sub new {
    my ( $class, %args ) = @_;
    return bless { params => $args{params} // {}, method => $args{method} // 'GET', language => $args{language} // 'en' },
      $class;
}

sub param {
    my ( $self, $name ) = @_;
    return $self->{params}->{$name};
}

sub request_method { return $_[0]->{method} }

sub language { return $_[0]->{language} }

1;
