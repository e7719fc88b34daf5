package C4::Auth;

# Test stub of Koha's C4::Auth::haspermission. Permissions per userid are set by the tests:
# set_permissions(userid => { superlibrarian => 1 } | { borrowers => ['edit_borrowers'], updatecharges => 1 }).
# Required flags as Koha reads them: a hash = all of its entries, an array = any of its entries; a
# value of 1 = the whole module, '*' = any subpermission of it, a name = that subpermission.

use strict;
use warnings;

use Exporter 'import';
our @EXPORT_OK = qw(haspermission);

our %PERMISSIONS;

sub set_permissions {
    my ( $userid, $permissions ) = @_;
    $PERMISSIONS{$userid} = $permissions;
    return;
}

sub _module_ok {
    my ( $granted, $module, $want ) = @_;
    my $has = $granted->{$module} or return 0;
    return 1 if !ref $has;    # the whole module
    return 0 if "$want" eq '1';
    return scalar @$has if $want eq '*';
    return scalar grep { $_ eq $want } @$has;
}

sub _dispatch {
    my ( $granted, $required ) = @_;
    if ( ref $required eq 'ARRAY' ) {
        for my $item (@$required) {
            return 1 if _dispatch( $granted, $item );
        }
        return 0;
    }
    for my $module ( keys %$required ) {
        my $want = $required->{$module};
        my $ok   = ref $want eq 'ARRAY'
          ? scalar grep { _module_ok( $granted, $module, $_ ) } @$want
          : _module_ok( $granted, $module, $want );
        return 0 unless $ok;
    }
    return 1;
}

sub haspermission {
    my ( $userid, $required ) = @_;
    return 0 unless defined $userid;
    my $granted = $PERMISSIONS{$userid} or return 0;
    return 1 if $granted->{superlibrarian};
    return _dispatch( $granted, $required ) ? 1 : 0;
}

1;
