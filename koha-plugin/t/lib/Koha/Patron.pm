package Koha::Patron;

# Test stub of a Koha patron row (accessors for the columns the stubs create).

use strict;
use warnings;

sub borrowernumber { return $_[0]->{borrowernumber} }
sub userid         { return $_[0]->{userid} }
sub branchcode     { return $_[0]->{branchcode} }
sub debarred       { return $_[0]->{debarred} }

1;
