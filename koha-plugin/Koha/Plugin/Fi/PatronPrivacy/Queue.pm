package Koha::Plugin::Fi::PatronPrivacy::Queue;

# The queue of patron views not yet accepted by the service (the plugin's own table). A view is
# deleted only when the service answers recorded or duplicate; everything else stays, so nothing is
# lost while the service is down. Rows the service cannot take now are retried with a per-row
# back-off (1 minute doubling up to 1 hour); a row the service refuses on its own (HTTP 400) is
# marked dead and kept for the administrator to see on the configure page.

use strict;
use warnings;

use C4::Context;
use Time::HiRes ();

our $BATCH_SIZE          = 500;
our $MIN_FLUSH_INTERVAL  = 30;      # seconds between opportunistic flushes in one process
our $FIRST_BACKOFF       = 60;
our $MAX_BACKOFF         = 3600;
our $REQUEST_TIMEOUT     = 3;       # while a staff user's request waits
our $CRON_TIMEOUT        = 30;
my $last_opportunistic_flush = 0;
my $event_counter            = 0;

sub new {
    my ( $class, $args ) = @_;
    return bless { plugin => $args->{plugin} }, $class;
}

sub _table { return $_[0]->{plugin}->queue_table }

sub _rfc3339_utc {
    my ($epoch) = @_;
    my @t = gmtime($epoch);
    return sprintf( '%04d-%02d-%02dT%02d:%02d:%02dZ', $t[5] + 1900, $t[4] + 1, $t[3], $t[2], $t[1], $t[0] );
}

# Unique without coordination between Koha's worker processes: time, process, counter and randomness.
sub new_event_id {
    my ( $sec, $usec ) = Time::HiRes::gettimeofday();
    $event_counter++;
    return sprintf( 'koha-%x%05x-%x-%x-%08x%08x', $sec, $usec, $$, $event_counter, int( rand(0xffffffff) ),
        int( rand(0xffffffff) ) );
}

# Queues one view. The caller passes the staff user and address from Koha's session and request.
sub enqueue {
    my ( $self, $view ) = @_;
    my $now      = time;
    my $event_id = new_event_id();
    C4::Context->dbh->do(
        'INSERT INTO ' . $self->_table
          . ' (event_id, koha_patron_id, staff_userid, staff_address, page, viewed_at, queued_at, attempts, next_try, dead)'
          . ' VALUES (?, ?, ?, ?, ?, ?, ?, 0, 0, 0)',
        undef, $event_id, $view->{patron_id}, $view->{staff_userid}, $view->{staff_address}, $view->{page},
        _rfc3339_utc($now), $now
    );
    return $event_id;
}

# A flush while a staff page loads: at most once per $MIN_FLUSH_INTERVAL per process, short timeout.
sub maybe_flush {
    my ($self) = @_;
    my $now = time;
    return if $now - $last_opportunistic_flush < $MIN_FLUSH_INTERVAL;
    $last_opportunistic_flush = $now;
    return $self->flush( { timeout => $REQUEST_TIMEOUT, max_batches => 2 } );
}

sub _due_rows {
    my ( $self, $limit ) = @_;
    return C4::Context->dbh->selectall_arrayref(
        'SELECT id, event_id, koha_patron_id, staff_userid, staff_address, page, viewed_at, attempts FROM '
          . $self->_table
          . ' WHERE dead = 0 AND next_try <= ? ORDER BY id LIMIT ?',
        { Slice => {} }, time, $limit
    );
}

sub _payload {
    my ($row) = @_;
    return {
        event_id       => $row->{event_id},
        koha_patron_id => $row->{koha_patron_id} + 0,
        staff_userid   => $row->{staff_userid},
        staff_address  => $row->{staff_address},
        page           => $row->{page},
        viewed_at      => $row->{viewed_at},
    };
}

sub _backoff {
    my ( $self, $rows, $status ) = @_;
    my $dbh = C4::Context->dbh;
    my $now = time;
    for my $row (@$rows) {
        my $attempts = $row->{attempts} + 1;
        my $delay    = $FIRST_BACKOFF * 2**( $attempts - 1 );
        $delay = $MAX_BACKOFF if $delay > $MAX_BACKOFF;
        $dbh->do( 'UPDATE ' . $self->_table . ' SET attempts = ?, next_try = ?, last_status = ? WHERE id = ?',
            undef, $attempts, $now + $delay, $status, $row->{id} );
    }
    return;
}

sub _delete_rows {
    my ( $self, @ids ) = @_;
    my $dbh = C4::Context->dbh;
    $dbh->do( 'DELETE FROM ' . $self->_table . ' WHERE id = ?', undef, $_ ) for @ids;
    return;
}

sub _mark_dead {
    my ( $self, $row ) = @_;
    C4::Context->dbh->do( 'UPDATE ' . $self->_table . " SET dead = 1, last_status = 'rejected' WHERE id = ?",
        undef, $row->{id} );
    return;
}

# Sends due rows in batches of at most $BATCH_SIZE. Options: all (until nothing is due; the nightly
# cron), max_batches, timeout. Returns counts: accepted (recorded or duplicate), unknown, retry, dead,
# error (the last HTTP status that stopped sending, if any).
sub flush {
    my ( $self, $options ) = @_;
    $options //= {};
    my %counts = ( accepted => 0, unknown => 0, retry => 0, dead => 0, error => '' );
    my $client = $self->{plugin}->client( timeout => $options->{timeout} // $CRON_TIMEOUT );
    return \%counts unless $client;
    my $batches = 0;
    my %seen;    # rows handled in this run are not sent twice (unknown_patron ones are due again later)
    while ( $options->{all} || $batches < ( $options->{max_batches} // 1 ) ) {
        my @rows = grep { !$seen{ $_->{id} }++ } @{ $self->_due_rows($BATCH_SIZE) };
        last unless @rows;
        $batches++;
        my $stop = $self->_send_batch( $client, \@rows, \%counts );
        last if $stop;
    }
    return \%counts;
}

# Sends one batch; returns true when sending must stop for now (service down, key refused).
sub _send_batch {
    my ( $self, $client, $rows, $counts ) = @_;
    my $answer = $client->send_views( [ map { _payload($_) } @$rows ] );
    my $status = $answer->{status};
    if ( $status == 200 || $status == 201 ) {
        $self->_apply_answer( $rows, $answer->{body}, $counts );
        $self->{plugin}->clear_service_error;
        return 0;
    }
    if ( $status == 400 ) {
        if ( @$rows > 1 ) {
            # All-or-nothing 400: find the bad row(s) by sending each alone.
            for my $row (@$rows) {
                return 1 if $self->_send_batch( $client, [$row], $counts );
            }
            return 0;
        }
        $self->_mark_dead( $rows->[0] );
        $counts->{dead}++;
        return 0;
    }
    $counts->{error} = $status;
    if ( $status == 401 || $status == 403 ) {
        # The key is refused: keep everything as it is and tell the administrator.
        $self->{plugin}->note_service_error($status);
        return 1;
    }
    $self->{plugin}->note_service_error($status);
    $self->_backoff( $rows, $status == 599 ? 'unreachable' : "http_$status" );
    $counts->{retry} += @$rows;
    return 1;
}

sub _apply_answer {
    my ( $self, $rows, $body, $counts ) = @_;
    my %by_event = map { $_->{event_id} => $_ } @$rows;
    my @answers  = ref $body eq 'HASH' && ref $body->{views} eq 'ARRAY' ? @{ $body->{views} } : ();
    my %answered;
    for my $answer (@answers) {
        my $row = $by_event{ $answer->{event_id} // '' } or next;
        $answered{ $row->{id} } = 1;
        my $status = $answer->{status} // '';
        if ( $status eq 'recorded' || $status eq 'duplicate' ) {
            $self->_delete_rows( $row->{id} );
            $counts->{accepted}++;
        }
        elsif ( $status eq 'unknown_patron' ) {
            # The patron sync may not have brought this patron to the service yet: retry later.
            $self->_backoff( [$row], 'unknown_patron' );
            $counts->{unknown}++;
        }
        else {
            $self->_backoff( [$row], 'unexpected' );
            $counts->{retry}++;
        }
    }
    my @missing = grep { !$answered{ $_->{id} } } @$rows;
    $self->_backoff( \@missing, 'unanswered' ) if @missing;
    $counts->{retry} += @missing;
    return;
}

# The nightly clean-up: unknown_patron views older than $days days. Returns how many were dropped.
sub drop_unknown_patron_views {
    my ( $self, %args ) = @_;
    my $limit = time - $args{days} * 86400;
    my $count = C4::Context->dbh->do(
        'DELETE FROM ' . $self->_table . " WHERE last_status = 'unknown_patron' AND dead = 0 AND queued_at < ?",
        undef, $limit );
    return $count eq '0E0' ? 0 : $count + 0;
}

# For the configure page: queue length, oldest queued view (RFC 3339 UTC), dead rows.
sub stats {
    my ($self) = @_;
    my ( $queued, $oldest, $dead ) = C4::Context->dbh->selectrow_array(
        'SELECT COUNT(*), MIN(queued_at), SUM(CASE WHEN dead = 1 THEN 1 ELSE 0 END) FROM ' . $self->_table );
    return {
        queued => $queued // 0,
        oldest => ( $oldest ? _rfc3339_utc($oldest) : undef ),
        dead   => $dead // 0,
    };
}

1;
