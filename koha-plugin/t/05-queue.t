# The view queue: nothing lost while the service is down, back-off per row, batches of 500, a bad
# batch split into single rows only by the cron, dead rows retried nightly and dropped after 30 days,
# unknown_patron kept and retried, 401/403 keep everything, uninstall tries to send first.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib", "$FindBin::Bin/..";
use Test::More;
use C4::Context;
use Koha::Plugin::Fi::PatronPrivacy::Queue;
use PatronPrivacyTest::Setup;

my @warnings;
local $SIG{__WARN__} = sub { push @warnings, @_ };
my ( $service, $plugin ) = PatronPrivacyTest::Setup::start();
my $queue = $plugin->queue;
my $dbh   = C4::Context->dbh;
my $table = $plugin->queue_table;

sub add_views {
    my ( $n, $patron ) = @_;
    $queue->enqueue( { patron_id => $patron // 1, staff_userid => 'anna', staff_address => '10.0.0.5', page => 'members/moremember' } )
      for 1 .. $n;
}
sub rows { PatronPrivacyTest::Setup::queued_rows($plugin) }
sub make_due { $dbh->do("UPDATE $table SET next_try = 0") }
sub view_posts { [ grep { $_->{path} eq '/api/v1/koha/views/' } @{ $service->requests } ] }

# Service down (connection refused): rows kept with back-off.
my $url = $plugin->retrieve_data('service_url');
$plugin->store_data( { service_url => 'http://127.0.0.1:1' } );
add_views(3);
my $result = $queue->flush;
is( $result->{error}, 599, 'unreachable' );
my @rows = @{ rows() };
is( scalar @rows, 3, 'all rows kept' );
ok( ( !grep { $_->{attempts} != 1 || $_->{next_try} < time + 55 || $_->{next_try} > time + 61 } @rows ), 'first back-off 1 minute' );
is( $queue->flush->{accepted}, 0, 'not due yet: nothing sent' );
make_due();
$queue->flush;
@rows = @{ rows() };
ok( ( !grep { $_->{attempts} != 2 || $_->{next_try} < time + 115 } @rows ), 'second back-off 2 minutes' );
$dbh->do("UPDATE $table SET attempts = 9, next_try = 0");
$queue->flush;
ok( ( !grep { $_->{next_try} > time + 3601 } @{ rows() } ), 'back-off capped at 1 hour' );
is( $plugin->retrieve_data('last_error_code'), '599', 'last error remembered' );

# 5xx and 429 the same way.
$plugin->store_data( { service_url => $url } );
for my $mode (qw(down 429)) {
    $service->control( mode => $mode );
    make_due();
    $result = $queue->flush;
    is( scalar @{ rows() }, 3, "mode $mode: rows kept" );
    is( $result->{retry}, 3, "mode $mode: retried later" );
}

# Service back: flushed, error cleared.
$service->control( mode => 'ok' );
make_due();
$result = $queue->flush( { all => 1 } );
is( $result->{accepted}, 3, 'service back: sent' );
is( scalar @{ rows() }, 0, 'queue empty' );
is( $plugin->retrieve_data('last_error_code'), '', 'error cleared' );
is( scalar @{ $service->recorded }, 3, 'the service has all three' );

# 401/403: keep everything untouched, show the code.
add_views(2);
$service->control( mode => '401' );
$result = $queue->flush;
@rows = @{ rows() };
is( scalar @rows, 2, '401: kept' );
ok( ( !grep { $_->{attempts} || $_->{dead} } @rows ), '401: no back-off, not dead' );
is( $plugin->retrieve_data('last_error_code'), '401', '401 shown on the configure page' );
$service->control( mode => 'ok' );
$queue->flush;
is( scalar @{ rows() }, 0, 'sent once the key works again' );

# Batches of at most 500.
my $before = scalar @{ view_posts() };
add_views(1201);
$result = $queue->flush( { all => 1 } );
is( $result->{accepted}, 1201, '1201 views sent' );
my @posts = @{ view_posts() }[ $before .. $#{ view_posts() } ];
is_deeply( [ map { scalar @{ $_->{body}->{views} } } @posts ], [ 500, 500, 201 ], 'in batches of 500' );

sub cron {
    my $output = '';
    open my $fh, '>', \$output or die;
    my $old = select $fh;
    $plugin->cronjob_nightly;
    select $old;
    return $output;
}

# A batch refused with 400 during a page load (review B8): its rows are only marked, one call made.
$service->control( bad => [666] );
add_views( 2, 1 );
add_views( 1, 666 );
add_views( 1, 2 );
$before = scalar @{ view_posts() };
$result = $queue->flush( { max_batches => 2 } );
is( scalar @{ view_posts() } - $before, 1, 'page-load flush: one call, no singles' );
is( $result->{split}, 4, 'the batch\'s rows marked for splitting' );
is( scalar( grep { $_->{last_status} eq 'split' && !$_->{dead} } @{ rows() } ), 4, 'marked, not dead' );
add_views( 1, 3 );
$result = $queue->flush;
is( $result->{accepted}, 1, 'the next page-load flush sends new views, not the marked batch' );
is( scalar @{ view_posts() } - $before, 2, 'in one call' );
is( scalar @{ rows() }, 4, 'marked rows wait for the cron' );

# The cron splits: sent singly; the row failing alone is dead (kept, counted).
$result = $queue->flush( { split => 1 } );
is( $result->{accepted}, 3, 'good rows sent singly' );
is( $result->{dead},     1, 'bad row dead' );
@rows = @{ rows() };
is( scalar @rows, 1, 'dead row kept' );
is( $rows[0]->{koha_patron_id}, 666, 'the bad one' );
is( $queue->stats->{dead}, 1, 'dead count for the configure page' );
make_due();
$result = $queue->flush;
is( $result->{accepted} + $result->{dead}, 0, 'dead rows are not sent again' );

# Dead rows: one more try each night, alone; dropped after 30 days with a count.
my $output = cron();
like( $output, qr/0 refused views accepted on a second try/, 'still refused: stays dead' );
is( $queue->stats->{dead}, 1, 'dead row kept' );
$service->control( bad => [] );
$output = cron();
like( $output, qr/1 refused views accepted on a second try/, 'the service takes it now: sent' );
is( scalar @{ rows() }, 0, 'and gone from the queue' );
$service->control( bad => [666] );
add_views( 1, 666 );
$queue->flush;
is( $queue->stats->{dead}, 1, 'a new dead row' );
$output = cron();
like( $output, qr/0 refused views older than 30 days dropped/, 'a fresh dead row stays' );
$dbh->do( "UPDATE $table SET queued_at = ? WHERE dead = 1", undef, time - 31 * 86400 );
$output = cron();
like( $output, qr/1 refused views older than 30 days dropped/, 'a dead row older than 30 days is dropped, counted' );
is( scalar @{ rows() }, 0, 'gone' );
$service->control( bad => [] );

# Duplicate: the service already had the event (e.g. an answer lost on the way): deleted.
add_views(1);
my ($row) = @{ rows() };
$queue->flush;
$dbh->do( "INSERT INTO $table (event_id, koha_patron_id, staff_userid, staff_address, page, viewed_at, queued_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
    undef, @{$row}{qw(event_id koha_patron_id staff_userid staff_address page viewed_at queued_at)} );
$result = $queue->flush;
is( $result->{accepted}, 1, 'duplicate counts as accepted' );
is( scalar @{ rows() }, 0, 'duplicate deleted' );

# unknown_patron: kept and retried; the nightly run drops those older than 14 days.
$service->control( unknown => [55] );
add_views( 2, 55 );
add_views( 1, 56 );
$result = $queue->flush;
is( $result->{unknown}, 2, 'unknown_patron answers' );
@rows = @{ rows() };
is( scalar @rows, 2, 'unknown_patron views kept' );
is( $rows[0]->{last_status}, 'unknown_patron', 'status remembered' );
$service->control( unknown => [] );
make_due();
$queue->flush;
is( scalar @{ rows() }, 0, 'sent once the sync has the patron' );

$service->control( unknown => [57] );
add_views( 2, 57 );
$queue->flush;
$dbh->do( "UPDATE $table SET queued_at = ? WHERE id = (SELECT MIN(id) FROM $table)", undef, time - 15 * 86400 );
add_views( 1, 58 );    # an old view of a known patron stays whatever its age
$service->control( mode => 'down' );
$dbh->do( "UPDATE $table SET queued_at = ? WHERE koha_patron_id = 58", undef, time - 20 * 86400 );
$output = cron();
like( $output, qr/1 unknown_patron views older than 14 days dropped/, 'cron output counts the dropped views' );
is_deeply( [ sort map { $_->{koha_patron_id} } @{ rows() } ], [ 57, 58 ], 'newer unknown and old known views kept' );
unlike( $output, qr/anna|10\.0\.0\.5/, 'no personal data in the cron output' );

# Uninstall (review B8): one last flush of the whole queue; what it could not send is counted in a warning.
$service->control( mode => 'ok', unknown => [] );
my $recorded = scalar @{ $service->recorded };
@warnings = ();
$plugin->uninstall;
is( scalar @{ $service->recorded } - $recorded, 2, 'uninstall sent the queued views first' );
is( join( '', @warnings ), '', 'nothing left to warn about' );
$plugin->install;
add_views(3);
$service->control( mode => 'down' );
$plugin->uninstall;
like( join( '', @warnings ), qr/uninstall dropped 3 queued views/, 'service down: the count of views lost' );
unlike( join( '', @warnings ), qr/anna|10\.0\.0\.5|members/, 'count only, no personal data' );
$plugin->install;

unlike( join( '', @warnings, $output ), qr/\Q@{[ $service->key ]}\E/, 'the key never appears in warnings or output' );
done_testing;
