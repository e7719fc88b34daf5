package C4::Languages;

# Test stub: Koha reads the staff language from the KohaOpacLanguage cookie; the fake CGI carries it.

use strict;
use warnings;

sub getlanguage {
    my ($cgi) = @_;
    return ( $cgi && $cgi->can('language') ) ? $cgi->language : 'en';
}

1;
