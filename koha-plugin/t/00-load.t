# Every .pm of the plugin (and of the test stubs) compiles.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib", "$FindBin::Bin/..";
use File::Find;
use Test::More;

use File::Spec;

my @modules;
for my $root ( "$FindBin::Bin/..", "$FindBin::Bin/lib" ) {
    my $dir = $root eq "$FindBin::Bin/.." ? "$root/Koha" : $root;
    find(
        sub {
            return unless /\.pm$/;
            ( my $module = File::Spec->abs2rel( $File::Find::name, $root ) ) =~ s/\.pm$//;
            push @modules, join '::', File::Spec->splitdir($module);
        },
        $dir
    );
}
ok( scalar @modules >= 6, 'modules found' );
require_ok($_) for sort @modules;
done_testing;
