# install/upgrade/uninstall are idempotent; the restriction type lives as long as it is used.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib", "$FindBin::Bin/..";
use Test::More;
use C4::Context;
use Koha::Patrons;
use Koha::Patron::Debarments qw(AddDebarment);
use Koha::Patron::Restriction::Types;
use Koha::Plugin::Fi::PatronPrivacy;

my $dbh = C4::Context->dbh;
sub table_exists {
    my ($name) = @_;
    return scalar $dbh->selectrow_array( q{SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = ?}, undef, $name );
}

my $plugin = Koha::Plugin::Fi::PatronPrivacy->new( { enable_plugins => 1 } );
is( $plugin->queue_table, 'koha_plugin_fi_patronprivacy_view_queue', 'qualified queue table name' );
is( $plugin->map_table,   'koha_plugin_fi_patronprivacy_restriction_map', 'qualified map table name' );
ok( table_exists( $plugin->queue_table ), 'new() installed: queue table' );
ok( table_exists( $plugin->map_table ),   'map table' );
ok( Koha::Patron::Restriction::Types->find('PATRON_PRIVACY'), 'restriction type created' );
is( Koha::Patron::Restriction::Types->find('PATRON_PRIVACY')->is_system, 1, 'a system type: Koha\'s administration cannot delete it' );
ok( !eval { Koha::Patron::Restriction::Types->find('PATRON_PRIVACY')->delete }, 'a delete is refused (as Koha refuses)' );
$dbh->do(q{UPDATE restriction_types SET is_system = 0 WHERE code = 'PATRON_PRIVACY'});
$plugin->install;
is( Koha::Patron::Restriction::Types->find('PATRON_PRIVACY')->is_system, 1, 'install makes an existing type a system one' );
is( $plugin->retrieve_data('__INSTALLED_VERSION__'), '1.1.0', 'installed version stored' );
is( $plugin->get_metadata->{minimum_version}, '24.05.00.000',
    'Koha 24.05 or newer: configure.tt and the panel need its csrf-token meta, csrf-token.inc and cud- ops' );

ok( $plugin->install, 'install again' );
ok( $plugin->upgrade, 'upgrade' );
$plugin->queue->enqueue( { patron_id => 1, staff_userid => 'a', staff_address => '10.0.0.1', page => 'x' } );
ok( $plugin->install, 'install with data' );
is( $plugin->queue->stats->{queued}, 1, 'install kept the queued view' );

$plugin->store_data( { __INSTALLED_VERSION__ => '0.9.0' } );
Koha::Plugin::Fi::PatronPrivacy->new( { enable_plugins => 1 } );
is( $plugin->retrieve_data('__INSTALLED_VERSION__'), '1.1.0', 'a newer version runs upgrade' );

Koha::Patrons->add( borrowernumber => 7, userid => 'p7' );
AddDebarment( { borrowernumber => 7, type => 'PATRON_PRIVACY', expiration => '2099-01-01' } );
ok( $plugin->uninstall, 'uninstall' );
ok( !table_exists( $plugin->queue_table ), 'queue table dropped' );
ok( !table_exists( $plugin->map_table ),   'map table dropped' );
ok( Koha::Patron::Restriction::Types->find('PATRON_PRIVACY'), 'type kept while a restriction uses it' );
$dbh->do('DELETE FROM borrower_debarments');
ok( $plugin->uninstall, 'uninstall again (idempotent)' );
ok( !Koha::Patron::Restriction::Types->find('PATRON_PRIVACY'), 'unused type removed' );
ok( $plugin->install, 'reinstall after uninstall' );
ok( table_exists( $plugin->queue_table ) && Koha::Patron::Restriction::Types->find('PATRON_PRIVACY'), 'all back' );
done_testing;
