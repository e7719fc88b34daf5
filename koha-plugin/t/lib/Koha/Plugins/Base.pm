package Koha::Plugins::Base;

# Test stub of Koha::Plugins::Base (with the Module::Bundled::Files methods Koha's base class
# inherits): installs on first use and upgrades when the version grows, as Koha does; plugin_data
# in C4::Context's database; templates are not rendered (no Template Toolkit here): get_template
# returns an object that keeps its params, and output_html keeps what the plugin printed.

use strict;
use warnings;

use C4::Context;
use File::Basename qw(dirname);
use File::Spec;

sub new {
    my ( $class, $args ) = @_;
    $args //= {};
    return unless C4::Context->config('enable_plugins') || $args->{enable_plugins};
    $args->{class} = $class;
    my $self = bless $args, $class;
    my $version   = $self->get_metadata->{version};
    my $installed = $self->retrieve_data('__INSTALLED_VERSION__') || 0;
    if ( $self->can('install') && !$self->retrieve_data('__INSTALLED__') ) {
        if ( $self->install ) {
            $self->store_data( { __INSTALLED__ => 1, __ENABLED__ => 1, __INSTALLED_VERSION__ => $version } );
        }
        else {
            warn "Plugin $class failed during installation!\n";
        }
    }
    elsif ( $self->can('upgrade') && _version_compare( $version, $installed ) > 0 ) {
        if ( $self->upgrade ) {
            $self->store_data( { __INSTALLED_VERSION__ => $version } );
        }
        else {
            warn "Plugin $class failed during upgrade!\n";
        }
    }
    return $self;
}

sub _version_compare {
    my ( $x, $y ) = @_;
    my @x = split /\./, $x // 0;
    my @y = split /\./, $y // 0;
    while ( @x || @y ) {
        my $c = ( shift(@x) // 0 ) <=> ( shift(@y) // 0 );
        return $c if $c;
    }
    return 0;
}

sub store_data {
    my ( $self, $data ) = @_;
    my $sth = C4::Context->dbh->prepare(
        'INSERT OR REPLACE INTO plugin_data (plugin_class, plugin_key, plugin_value) VALUES (?, ?, ?)');
    $sth->execute( $self->{class}, $_, $data->{$_} ) for keys %$data;
    return;
}

sub retrieve_data {
    my ( $self, $key ) = @_;
    my ($value) = C4::Context->dbh->selectrow_array(
        'SELECT plugin_value FROM plugin_data WHERE plugin_class = ? AND plugin_key = ?',
        undef, $self->{class}, $key );
    return $value;
}

sub get_metadata { return $_[0]->{metadata} }

sub get_qualified_table_name {
    my ( $self, $name ) = @_;
    return lc( join( '_', split( '::', $self->{class} ), $name ) );
}

sub get_plugin_http_path {
    my ($self) = @_;
    return '/plugin/' . join( '/', split( '::', $self->{class} ) );
}

sub bundle_path {
    my ($self) = @_;
    my $file = join( '/', split( '::', ref $self || $self ) ) . '.pm';
    my $path = $INC{$file} or die "$file not loaded\n";
    ( my $bundle = File::Spec->rel2abs($path) ) =~ s/\.pm$//;
    return $bundle;
}

sub mbf_dir  { return $_[0]->bundle_path }
sub mbf_path { my ( $self, $file ) = @_; return $self->bundle_path . '/' . $file }

sub mbf_read {
    my ( $self, $file ) = @_;
    my $path = $self->mbf_path($file);
    open my $fh, '<:raw', $path or die "cannot read bundle file $file\n";
    local $/;
    my $content = <$fh>;
    close $fh;
    return $content;
}

sub get_template {
    my ( $self, $args ) = @_;
    my $template = PatronPrivacyTest::Template->new( $self->mbf_path( $args->{file} ) );
    $template->param(
        CLASS       => $self->{class},
        METHOD      => ( $self->{cgi} ? scalar $self->{cgi}->param('method') : undef ),
        PLUGIN_PATH => $self->get_plugin_http_path,
    );
    return $template;
}

sub output_html {
    my ( $self, $data ) = @_;
    $self->{output_html} = $data;
    return;
}

sub output { my ( $self, $data ) = @_; $self->{output} = $data; return }

package PatronPrivacyTest::Template;

# What the tests get instead of a rendered page: the file name and the params.
sub new { my ( $class, $file ) = @_; return bless { file => $file, params => {} }, $class }

sub param {
    my ( $self, %params ) = @_;
    @{ $self->{params} }{ keys %params } = values %params;
    return;
}

sub output { my ($self) = @_; return $self }

1;
