# `make kpz` builds a zip rooted at Koha/ with the .pm and the bundle files at Koha's paths.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib", "$FindBin::Bin/..";
use File::Temp qw(tempdir);
use Test::More;
use Koha::Plugin::Fi::PatronPrivacy;

plan skip_all => 'make, zip and unzip needed' if grep { system("command -v $_ >/dev/null 2>&1") != 0 } qw(make zip unzip);

my $repo = "$FindBin::Bin/../..";
my $dist = tempdir( CLEANUP => 1 );
my $out  = `make --no-print-directory -C '$repo' kpz DIST='$dist' 2>&1`;
is( $?, 0, 'make kpz' ) or diag $out;
my $version = $Koha::Plugin::Fi::PatronPrivacy::VERSION;
my $kpz     = "$dist/koha-plugin-patron-privacy-v$version.kpz";
ok( -f $kpz, "named with the version from the .pm ($version)" );
my %files = map { chomp; $_ => 1 } `unzip -Z1 '$kpz'`;
for my $file (
    qw(Koha/Plugin/Fi/PatronPrivacy.pm Koha/Plugin/Fi/PatronPrivacy/openapi.json Koha/Plugin/Fi/PatronPrivacy/configure.tt
    Koha/Plugin/Fi/PatronPrivacy/Controller.pm Koha/Plugin/Fi/PatronPrivacy/Queue.pm Koha/Plugin/Fi/PatronPrivacy/Client.pm
    Koha/Plugin/Fi/PatronPrivacy/Restrictions.pm Koha/Plugin/Fi/PatronPrivacy/Strings.pm Koha/Plugin/Fi/PatronPrivacy/js/panel.js)
  )
{
    ok( $files{$file}, "has $file" );
}
is( scalar( grep { !m{^Koha/} } keys %files ), 0, 'everything under Koha/ (nothing from t/ or elsewhere)' );
done_testing;
