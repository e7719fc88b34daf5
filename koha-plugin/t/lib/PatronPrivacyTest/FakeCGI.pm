package PatronPrivacyTest::FakeCGI;

# What the plugin's configure reads from Koha's CGI object: param() and the staff language.

use strict;
use warnings;

sub new {
    my ( $class, %args ) = @_;
    return bless { params => $args{params} // {}, language => $args{language} // 'en' }, $class;
}

sub param {
    my ( $self, $name ) = @_;
    return $self->{params}->{$name};
}

sub language { return $_[0]->{language} }

1;
