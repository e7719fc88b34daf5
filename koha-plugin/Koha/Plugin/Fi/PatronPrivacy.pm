package Koha::Plugin::Fi::PatronPrivacy;

# The patron privacy service's Koha plugin: every patron view in Koha's staff interface reaches the
# service's access log (queued here, so nothing is lost while the service is down), the privacy panel
# on Koha's patron pages gets its data through this plugin (the browser never holds the API key), and
# the service's bans and access prohibitions become Koha patron restrictions.

use strict;
use warnings;

use base qw(Koha::Plugins::Base);

use C4::Context;
use Encode qw(decode);
use Koha::Encryption;
use Mojo::JSON qw(decode_json to_json);

use Koha::Plugin::Fi::PatronPrivacy::Client;
use Koha::Plugin::Fi::PatronPrivacy::Queue;
use Koha::Plugin::Fi::PatronPrivacy::Restrictions;
use Koha::Plugin::Fi::PatronPrivacy::Strings;

our $VERSION = '1.1.0';

# Permissions the service's API key must have for this plugin (GET /api/v1/koha/service/ lists them).
our @REQUIRED_KEY_PERMISSIONS = qw(koha.record_views koha.view_privacy_status);

our $KEY_SHAPE         = qr/^[\x21-\x7e]{8,200}$/;
our $UNINSTALL_TIMEOUT = 10;    # seconds per call of the last flush before the queue table goes

our $metadata = {
    name            => 'Patron privacy',
    author          => 'Patron privacy service',
    date_authored   => '2026-01-15',
    date_updated    => '2026-12-03',
    # 24.05: the staff pages' <meta name="csrf-token">, csrf-token.inc and the `cud-` ops that
    # configure.tt and the panel rely on came with Koha 24.05's CSRF work (restriction types with 22.11).
    minimum_version => '24.05.00.000',
    maximum_version => undef,
    version         => $VERSION,
    namespace       => 'patronprivacy',
    description     => 'Logs every patron view in the staff interface to the patron privacy service, '
      . 'shows its privacy panel on patron pages and keeps its bans as Koha restrictions.',
};

sub new {
    my ( $class, $args ) = @_;
    $args //= {};
    $args->{metadata} = { %$metadata, class => $class };
    return $class->SUPER::new($args);
}

=head2 Installation

Two tables of our own (names from get_qualified_table_name): the queue of view events not yet
accepted by the service, and the map from the service's restriction refs to Koha's debarment ids.
Only the primary keys differ between MariaDB/MySQL (Koha) and SQLite (the tests).

=cut

sub queue_table { return $_[0]->get_qualified_table_name('view_queue') }
sub map_table   { return $_[0]->get_qualified_table_name('restriction_map') }

sub _is_sqlite {
    return C4::Context->dbh->{Driver}->{Name} eq 'SQLite';
}

sub _create_tables {
    my ($self) = @_;
    my $dbh    = C4::Context->dbh;
    my $sqlite = _is_sqlite();
    my $serial = $sqlite ? 'INTEGER PRIMARY KEY AUTOINCREMENT' : 'INT(11) NOT NULL AUTO_INCREMENT PRIMARY KEY';
    my $engine = $sqlite ? '' : ' ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci';
    my $queue  = $self->queue_table;
    my $map    = $self->map_table;
    $dbh->do(<<"SQL");
CREATE TABLE IF NOT EXISTS $queue (
    id $serial,
    event_id VARCHAR(64) NOT NULL,
    koha_patron_id INT(11) NOT NULL,
    staff_userid VARCHAR(150) NOT NULL,
    staff_address VARCHAR(64) NOT NULL,
    page VARCHAR(60) NOT NULL,
    viewed_at VARCHAR(32) NOT NULL,
    queued_at BIGINT NOT NULL,
    attempts INT(11) NOT NULL DEFAULT 0,
    next_try BIGINT NOT NULL DEFAULT 0,
    last_status VARCHAR(20) NULL,
    dead TINYINT(1) NOT NULL DEFAULT 0,
    UNIQUE (event_id)
)$engine
SQL
    $dbh->do(<<"SQL");
CREATE TABLE IF NOT EXISTS $map (
    restriction_ref VARCHAR(40) NOT NULL PRIMARY KEY,
    borrower_debarment_id INT(11) NOT NULL,
    patron_id INT(11) NOT NULL,
    updated_at BIGINT NOT NULL
)$engine
SQL
    return 1;
}

sub install {
    my ( $self, $args ) = @_;
    $self->_create_tables;
    Koha::Plugin::Fi::PatronPrivacy::Restrictions->new( { plugin => $self } )->ensure_type;
    return 1;
}

sub upgrade {
    my ( $self, $args ) = @_;
    # No version has changed a table yet (1.1.0 only shows more on the panel): an upgrade only makes sure
    # everything install makes is there.
    return $self->install;
}

sub uninstall {
    my ( $self, $args ) = @_;
    my $dbh = C4::Context->dbh;
    # Views not sent yet would be lost with the table: one last try to send them, then say how many
    # could not be sent (a count only: the rows name staff users and patrons).
    my $left = eval {
        my $queue = $self->queue;
        $queue->flush( { all => 1, split => 1, whole => 1, timeout => $UNINSTALL_TIMEOUT } );
        $queue->stats->{queued};
    } // 0;
    warn "patron privacy: uninstall dropped $left queued views the service had not accepted\n" if $left;
    $dbh->do( 'DROP TABLE IF EXISTS ' . $self->queue_table );
    $dbh->do( 'DROP TABLE IF EXISTS ' . $self->map_table );
    Koha::Plugin::Fi::PatronPrivacy::Restrictions->new( { plugin => $self } )->remove_type_if_unused;
    return 1;
}

=head2 Service settings

=cut

sub service_url { return $_[0]->retrieve_data('service_url') // '' }

# The key is stored encrypted with Koha's own Koha::Encryption (koha-conf.xml's encryption_key), so
# plugin_data (readable e.g. by SQL reports) does not hold it in clear. Undef when none is stored or
# it cannot be read back (another encryption_key): then the plugin counts as not configured.
sub api_key {
    my ($self) = @_;
    my $stored = $self->retrieve_data('api_key');
    return unless defined $stored && length $stored;
    my $key = eval { Koha::Encryption->new->decrypt_hex($stored) };
    return defined $key && $key =~ $KEY_SHAPE ? $key : undef;
}

# The encrypted form of a key for store_data; dies when Koha has no encryption_key.
sub encrypted_key {
    my ( $self, $key ) = @_;
    return Koha::Encryption->new->encrypt_hex($key);
}

# The client with the stored URL and key, or undef when the plugin is not configured yet.
sub client {
    my ( $self, %args ) = @_;
    my $url = $self->service_url;
    my $key = $self->api_key;
    return unless $url && $key;
    return Koha::Plugin::Fi::PatronPrivacy::Client->new(
        base_url => $url,
        api_key  => $key,
        version  => $VERSION,
        ( $args{timeout} ? ( timeout => $args{timeout} ) : () ),
    );
}

sub queue {
    my ($self) = @_;
    return Koha::Plugin::Fi::PatronPrivacy::Queue->new( { plugin => $self } );
}

# Remembered for the configure page; a successful call clears it.
sub note_service_error {
    my ( $self, $code ) = @_;
    $self->store_data( { last_error_code => $code, last_error_at => time } );
    return;
}

sub clear_service_error {
    my ($self) = @_;
    $self->store_data( { last_error_code => '', last_error_at => '' } ) if $self->retrieve_data('last_error_code');
    return;
}

# The staff user's interface language, reduced to the three the plugin speaks.
sub staff_language {
    my ( $self, $cgi ) = @_;
    my $lang = eval { require C4::Languages; C4::Languages::getlanguage($cgi) } // 'en';
    return Koha::Plugin::Fi::PatronPrivacy::Strings::short_language($lang);
}

=head2 configure

The service URL and API key. The key is stored encrypted with store_data and never shown back (only
its last four characters); a blank key field keeps the stored one, but only for the stored URL: the
stored key is never sent to an address typed in by whoever opens this page. The URL must be https
(http only to a loopback host, for tests and development). Settings change only on a POST (Koha's CSRF
middleware checks those; a GET link never saves). Nothing is saved unless a test call to the service's
GET /api/v1/koha/service/ succeeds, says this plugin version is supported and shows that the key has
the permissions the plugin needs.

=cut

sub configure {
    my ( $self, $args ) = @_;
    my $cgi = $self->{cgi};

    my $lang     = $self->staff_language($cgi);
    my $template = $self->get_template( { file => 'configure.tt' } );
    my %result;
    if ( ( $cgi->param('op') // '' ) eq 'cud-save' && uc( $cgi->request_method // '' ) eq 'POST' ) {
        %result = $self->save_configuration(
            service_url => scalar $cgi->param('service_url'),
            api_key     => scalar $cgi->param('api_key'),
        );
    }
    my $stats = $self->queue->stats;
    my $key   = $self->api_key // '';
    $template->param(
        lang            => $lang,
        t               => Koha::Plugin::Fi::PatronPrivacy::Strings::strings($lang),
        plugin_version  => $VERSION,
        service_url     => $result{service_url} // $self->service_url,
        key_hint        => ( length $key ? substr( $key, -4 ) : '' ),
        saved           => $result{saved}      ? 1 : 0,
        error           => $result{error}      // '',
        error_detail    => $result{error_detail} // '',
        consortium      => $self->retrieve_data('consortium')         // '',
        plugin_min      => $self->retrieve_data('plugin_min_version') // '',
        queue_length    => $stats->{queued},
        queue_oldest    => $stats->{oldest} // '',
        queue_dead      => $stats->{dead},
        last_error_code => $self->retrieve_data('last_error_code') // '',
        last_error_at   => _iso_time( $self->retrieve_data('last_error_at') ),
    );
    $self->output_html( $template->output );
    return;
}

sub _iso_time {
    my ($epoch) = @_;
    return '' unless $epoch;
    my @t = gmtime($epoch);
    return sprintf( '%04d-%02d-%02d %02d:%02d UTC', $t[5] + 1900, $t[4] + 1, $t[3], $t[2], $t[1] );
}

# http is accepted only to these hosts (the whole host, so 127.0.0.1.example.org is not one).
sub is_loopback_host {
    my ($host) = @_;
    return $host =~ /^(?:localhost|127(?:\.\d{1,3}){3}|\[::1\])$/i ? 1 : 0;
}

# Validates and, only after a successful test call, stores the settings. Returns (saved => 1) or
# (error => <code>, error_detail => <text without the key>); the codes are translated by configure.tt.
sub save_configuration {
    my ( $self, %args ) = @_;
    my $url = $args{service_url} // '';
    $url =~ s/^\s+|\s+$//g;
    $url =~ s{/+$}{};
    my $key = $args{api_key} // '';
    $key =~ s/^\s+|\s+$//g;

    my ( $scheme, $host ) = $url =~ m{^(https?)://([A-Za-z0-9.\-]+|\[[0-9A-Fa-f:.]+\])(?::\d{1,5})?(?:/[A-Za-z0-9._~/\-]*)?$}
      or return ( error => 'bad_url', service_url => $url );
    return ( error => 'not_https', service_url => $url ) if $scheme ne 'https' && !is_loopback_host($host);
    if ( $key eq '' ) {
        # The stored key goes only to the address it was saved for.
        return ( error => 'key_for_new_url', service_url => $url ) if $url ne $self->service_url;
        $key = $self->api_key // '';
    }
    return ( error => 'no_key', service_url => $url ) unless length $key;
    return ( error => 'bad_key', service_url => $url ) unless $key =~ $KEY_SHAPE;
    my $encrypted = eval { $self->encrypted_key($key) }
      // return ( error => 'no_encryption', service_url => $url );

    my $client = Koha::Plugin::Fi::PatronPrivacy::Client->new(
        base_url => $url,
        api_key  => $key,
        version  => $VERSION,
    );
    my $answer = $client->service_info;
    my $check  = check_service_answer($answer);
    return ( %$check, service_url => $url ) if $check->{error};

    $self->store_data(
        {
            service_url        => $url,
            api_key            => $encrypted,
            consortium         => $answer->{body}->{consortium}         // '',
            plugin_min_version => $answer->{body}->{plugin_min_version} // '',
            last_error_code    => '',
            last_error_at      => '',
        }
    );
    return ( saved => 1, service_url => $url );
}

# The version check and the key's permissions, read from the service's answer to the test call.
sub check_service_answer {
    my ($answer) = @_;
    my $status = $answer->{status};
    return { error => 'unreachable' } if $status == 599;
    return { error => 'key_rejected', error_detail => "HTTP $status" } if $status == 401 || $status == 403;
    return { error => 'bad_answer',   error_detail => "HTTP $status" } if $status != 200;
    my $body = $answer->{body};
    return { error => 'not_service' }
      unless ref $body eq 'HASH' && ( $body->{service} // '' ) eq 'patron-privacy';
    return { error => 'plugin_unsupported', error_detail => ( $body->{plugin_min_version} // '' ) }
      unless $body->{plugin_supported};
    my %has     = map { $_ => 1 } @{ ref $body->{permissions} eq 'ARRAY' ? $body->{permissions} : [] };
    my @missing = grep { !$has{$_} } @REQUIRED_KEY_PERMISSIONS;
    return { error => 'missing_permissions', error_detail => join( ', ', @missing ) } if @missing;
    return {};
}

=head2 intranet_js

Koha pastes this into every staff page, so it is small: the panel's settings and script (the script
itself decides from location.pathname whether the page is a patron page).

=cut

sub intranet_js {
    my ($self) = @_;
    # Characters, like the decoded files below. Mojo::JSON writes "/" as "\/", so no value can close
    # the inline <script> (t/03-configure.t tries).
    my $settings = to_json(
        {
            base        => '/api/v1/contrib/' . $metadata->{namespace},
            version     => $VERSION,
            service_url => $self->service_url,
        }
    );
    # mbf_read gives the file's bytes; Koha encodes the page it pastes them into, so decode them first.
    my $js  = eval { decode( 'UTF-8', $self->mbf_read('js/panel.js') ) }  // '';
    my $css = eval { decode( 'UTF-8', $self->mbf_read('css/panel.css') ) } // '';
    my $out = '';
    $out .= "<style>\n$css\n</style>\n" if length $css;
    $out .= "<script>window.PatronPrivacy = $settings;</script>\n";
    $out .= "<script>\n$js\n</script>\n" if length $js;
    return $out;
}

=head2 REST routes

=cut

sub api_namespace { return $metadata->{namespace} }

sub api_routes {
    my ($self) = @_;
    return decode_json( $self->mbf_read('openapi.json') );
}

=head2 cronjob_nightly

Sends the whole queue (a batch the service refuses is split into single views here, never during a
page load), gives the views the service refused on their own one more try each, drops those still
refused after 30 days and views the service has not known the patron of for 14 days (the patron sync
would have brought them by now), with counts in the cron output; everything else stays queued.

=cut

our $UNKNOWN_PATRON_DAYS = 14;

sub cronjob_nightly {
    my ($self) = @_;
    my $queue = $self->queue;
    my $sent  = $queue->flush( { all => 1, split => 1 } );
    my $again = $sent->{error} ? { accepted => 0 } : $queue->retry_dead;
    my $dead  = $queue->drop_dead_views( days => $Koha::Plugin::Fi::PatronPrivacy::Queue::DEAD_DAYS );
    my $drop  = $queue->drop_unknown_patron_views( days => $UNKNOWN_PATRON_DAYS );
    my $stats = $queue->stats;
    my $error = $sent->{error} || $again->{error};
    printf "Patron privacy: %d views accepted by the service, %d refused views accepted on a second try, "
      . "%d refused views older than %d days dropped, %d unknown_patron views older than %d days dropped, "
      . "%d still queued (%d dead)%s\n",
      $sent->{accepted}, $again->{accepted}, $dead, $Koha::Plugin::Fi::PatronPrivacy::Queue::DEAD_DAYS, $drop,
      $UNKNOWN_PATRON_DAYS, $stats->{queued}, $stats->{dead}, ( $error ? ", last error $error" : '' );
    return 1;
}

1;
