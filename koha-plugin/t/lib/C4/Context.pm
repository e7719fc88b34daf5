package C4::Context;

# Test stub of Koha's C4::Context: one DBD::SQLite database (in memory, or the file in
# $ENV{KOHA_STUB_DB}) with the few Koha tables the plugin touches, Koha's column names; userenv;
# system preferences and koha-conf settings from hashes the tests fill.

use strict;
use warnings;

use DBI;

my $dbh;
my $userenv;
our %PREFERENCES = ();
our %CONFIG      = ( enable_plugins => 1, encryption_key => 'test-encryption-key-0123456789' );
our $INTERFACE   = 'intranet';

sub dbh {
    return $dbh if $dbh;
    my $file = $ENV{KOHA_STUB_DB} // ':memory:';
    $dbh = DBI->connect( "dbi:SQLite:dbname=$file", '', '', { RaiseError => 1, PrintError => 0, AutoCommit => 1 } );
    $dbh->do('PRAGMA busy_timeout = 5000');
    _create_schema($dbh);
    return $dbh;
}

sub _create_schema {
    my ($dbh) = @_;
    $dbh->do($_) for (
        'CREATE TABLE IF NOT EXISTS plugin_data (plugin_class VARCHAR(255) NOT NULL, plugin_key VARCHAR(255) NOT NULL,
            plugin_value TEXT, PRIMARY KEY (plugin_class, plugin_key))',
        'CREATE TABLE IF NOT EXISTS borrowers (borrowernumber INTEGER PRIMARY KEY, userid VARCHAR(75),
            cardnumber VARCHAR(32), surname TEXT, firstname TEXT, branchcode VARCHAR(10) NOT NULL DEFAULT \'MPL\',
            debarred DATE NULL, debarredcomment TEXT NULL)',
        'CREATE TABLE IF NOT EXISTS restriction_types (code VARCHAR(50) NOT NULL PRIMARY KEY,
            display_text TEXT NOT NULL, is_system TINYINT(1) NOT NULL DEFAULT 0, is_default TINYINT(1) NOT NULL DEFAULT 0,
            lift_after_payment TINYINT(1) NOT NULL DEFAULT 0, fee_limit DECIMAL(28,6) NULL)',
        'CREATE TABLE IF NOT EXISTS borrower_debarments (borrower_debarment_id INTEGER PRIMARY KEY AUTOINCREMENT,
            borrowernumber INT NOT NULL REFERENCES borrowers (borrowernumber), expiration DATE NULL,
            type VARCHAR(50) NOT NULL DEFAULT \'MANUAL\' REFERENCES restriction_types (code), comment MEDIUMTEXT NULL,
            manager_id INT NULL, created TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP, updated TIMESTAMP NULL)',
    );
    $dbh->do(q{INSERT OR IGNORE INTO restriction_types (code, display_text, is_system) VALUES
        ('MANUAL', 'Manual', 1), ('OVERDUES', 'Overdues', 1), ('SUSPENSION', 'Suspension', 1), ('DISCHARGE', 'Discharge', 1)});
    return;
}

sub userenv { return $userenv }

# Koha's set_userenv takes a long positional list; the tests only need these keys.
sub set_userenv_hash {
    my ( $class, $env ) = @_;
    $userenv = $env;
    return;
}

sub unset_userenv { $userenv = undef; return }

sub preference {
    my ( $class, $name ) = @_;
    return $PREFERENCES{$name};
}

sub config {
    my ( $class, $name ) = @_;
    return $CONFIG{$name};
}

sub interface {
    my ( $class, $value ) = @_;
    $INTERFACE = $value if defined $value;
    return $INTERFACE;
}

1;
