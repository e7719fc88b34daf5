package Koha::Plugin::Fi::PatronPrivacy::Queue;

# The queue of patron views not yet accepted by the service (the plugin's own table). A view is
# deleted only when the service answers recorded or duplicate; everything else stays, so nothing is
# lost while the service is down. Rows the service cannot take now are retried with a per-row
# back-off (1 minute doubling up to 1 hour). The service refuses a whole batch (HTTP 400) for one bad
# row: a flush during a page load only marks that batch's rows for splitting (last_status 'split',
# left out of page-load flushes) and leaves, the nightly cron sends them one by one; a row the
# service refuses on its own is marked dead, counted on the configure page, tried once more each night
# and dropped after $DEAD_DAYS days.

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
our $DEAD_DAYS           = 30;
our $SPLIT               = 'split';
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

my $COLUMNS = 'id, event_id, koha_patron_id, staff_userid, staff_address, page, viewed_at, attempts';

# Rows due now (with $options->{whole}, waiting ones too); those marked for splitting only when this
# flush may split.
sub _due_rows {
    my ( $self, $limit, $options ) = @_;
    my $due     = $options->{whole} ? '' : ' AND next_try <= ' . int(time);
    my $unsplit = $options->{split} ? '' : " AND (last_status IS NULL OR last_status <> '$SPLIT')";
    return C4::Context->dbh->selectall_arrayref(
        "SELECT $COLUMNS FROM " . $self->_table . " WHERE dead = 0$due$unsplit ORDER BY id LIMIT ?",
        { Slice => {} }, $limit );
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

# A row the service did not refuse (so not dead any more) waits before its next try.
sub _backoff {
    my ( $self, $rows, $status ) = @_;
    my $dbh = C4::Context->dbh;
    my $now = time;
    for my $row (@$rows) {
        my $attempts = $row->{attempts} + 1;
        my $delay    = $FIRST_BACKOFF * 2**( $attempts - 1 );
        $delay = $MAX_BACKOFF if $delay > $MAX_BACKOFF;
        $dbh->do( 'UPDATE ' . $self->_table . ' SET attempts = ?, next_try = ?, last_status = ?, dead = 0 WHERE id = ?',
            undef, $attempts, $now + $delay, $status, $row->{id} );
    }
    return;
}

sub _mark_split {
    my ( $self, $rows ) = @_;
    my $dbh = C4::Context->dbh;
    $dbh->do( 'UPDATE ' . $self->_table . ' SET last_status = ? WHERE id = ?', undef, $SPLIT, $_->{id} ) for @$rows;
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
# cron), max_batches, timeout, split (a batch refused with 400 is sent row by row now; without it its
# rows are only marked for the cron, so a staff request never makes hundreds of calls), whole (rows
# waiting for their back-off too: the last flush before uninstall). Returns counts:
# accepted (recorded or duplicate), unknown, retry, dead, split (rows marked), error (the last HTTP
# status that stopped sending, if any).
sub flush {
    my ( $self, $options ) = @_;
    $options //= {};
    my %counts = ( accepted => 0, unknown => 0, retry => 0, dead => 0, split => 0, error => '' );
    my $client = $self->{plugin}->client( timeout => $options->{timeout} // $CRON_TIMEOUT );
    return \%counts unless $client;
    my $batches = 0;
    my %seen;    # rows handled in this run are not sent twice (unknown_patron ones are due again later)
    while ( $options->{all} || $batches < ( $options->{max_batches} // 1 ) ) {
        my @rows = grep { !$seen{ $_->{id} }++ } @{ $self->_due_rows( $BATCH_SIZE, $options ) };
        last unless @rows;
        $batches++;
        my $stop = $self->_send_batch( $client, \@rows, \%counts, $options->{split} );
        last if $stop;
    }
    return \%counts;
}

# The nightly second chance of the rows the service refused on their own: each sent alone once more
# (a fixed service takes them). Stops at the first failure that is not a refusal. Returns counts as
# flush does (accepted: dead rows the service took now).
sub retry_dead {
    my ($self) = @_;
    my %counts = ( accepted => 0, unknown => 0, retry => 0, dead => 0, split => 0, error => '' );
    my $client = $self->{plugin}->client( timeout => $CRON_TIMEOUT ) or return \%counts;
    my $dead   = C4::Context->dbh->selectall_arrayref( "SELECT $COLUMNS FROM " . $self->_table . ' WHERE dead = 1 ORDER BY id',
        { Slice => {} } );
    for my $row (@$dead) {
        my $answer = $client->send_views( [ _payload($row) ] );
        my $status = $answer->{status};
        if ( $status == 200 || $status == 201 ) {
            $self->_apply_answer( [$row], $answer->{body}, \%counts );
            next;
        }
        next if $status == 400;    # still refused: stays dead
        $counts{error} = $status;
        last;
    }
    return \%counts;
}

# Drops the dead rows queued more than $days days ago; returns how many.
sub drop_dead_views {
    my ( $self, %args ) = @_;
    my $count = C4::Context->dbh->do( 'DELETE FROM ' . $self->_table . ' WHERE dead = 1 AND queued_at < ?',
        undef, time - $args{days} * 86400 );
    return $count eq '0E0' ? 0 : $count + 0;
}

# Sends one batch; returns true when sending must stop for now (service down, key refused, a refused
# batch that may not be split now).
sub _send_batch {
    my ( $self, $client, $rows, $counts, $split ) = @_;
    my $answer = $client->send_views( [ map { _payload($_) } @$rows ] );
    my $status = $answer->{status};
    if ( $status == 200 || $status == 201 ) {
        $self->_apply_answer( $rows, $answer->{body}, $counts );
        $self->{plugin}->clear_service_error;
        return 0;
    }
    if ( $status == 400 ) {
        if ( @$rows > 1 ) {
            if ( !$split ) {
                # All-or-nothing 400 during a staff request: the cron finds the bad row(s).
                $self->_mark_split($rows);
                $counts->{split} += @$rows;
                return 1;
            }
            # All-or-nothing 400: find the bad row(s) by sending each alone.
            for my $row (@$rows) {
                return 1 if $self->_send_batch( $client, [$row], $counts, $split );
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
