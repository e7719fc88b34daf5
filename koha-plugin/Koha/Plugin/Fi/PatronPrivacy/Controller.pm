package Koha::Plugin::Fi::PatronPrivacy::Controller;

# The plugin's REST routes (openapi.json). Koha's Auth has already authenticated the request and
# checked x-koha-authorization before any of these run.

use strict;
use warnings;

use Mojo::Base 'Mojolicious::Controller';

use C4::Auth qw(haspermission);
use C4::Context;
use Koha::Patrons;
use Koha::Plugin::Fi::PatronPrivacy;
use Koha::Plugin::Fi::PatronPrivacy::Restrictions;
use Koha::Token;

sub _plugin { return Koha::Plugin::Fi::PatronPrivacy->new( { enable_plugins => 1 } ) }

sub _error {
    my ( $c, $status, $code, $message ) = @_;
    return $c->render( status => $status, openapi => { error => $message, error_code => $code } );
}

sub _staff_userid {
    my $env = C4::Context->userenv;
    return $env && defined $env->{id} && length $env->{id} ? $env->{id} : undef;
}

=head2 record_view

POST /views. The body names only the patron and the page; the staff user comes from Koha's session
(userenv) and the address from the request as Koha's Plack sees it. A forged cross-site request would
log a view under the victim's name, so for a cookie session the route checks Koha's CSRF token itself
(whatever Koha's own Auth does in front of it) and takes only an application/json body (a text/plain
one is a cross-origin request a browser sends without asking first).

=cut

sub record_view {
    my $c = shift;
    unless ( $c->req->headers->authorization ) {
        my $session = $c->cookie('CGISESSID');
        my $token   = $c->req->headers->header('CSRF-TOKEN');
        return _error( $c, 403, 'wrong_csrf_token', 'Wrong CSRF token.' )
          unless $session && $token && Koha::Token->new->check_csrf( { session_id => $session, token => $token } );
    }
    return _error( $c, 415, 'unsupported_media_type', 'The body must be application/json.' )
      unless ( $c->req->headers->content_type // '' ) =~ m{^application/json\s*(?:;|$)}i;
    $c->openapi->valid_input or return;
    my $body   = $c->req->json;
    my $userid = _staff_userid() // return _error( $c, 401, 'not_logged_in', 'No staff session.' );
    my $plugin = _plugin();
    my $queue  = $plugin->queue;
    $queue->enqueue(
        {
            patron_id     => $body->{patron_id},
            page          => $body->{page},
            staff_userid  => $userid,
            staff_address => $c->tx->remote_address // '',
        }
    );
    eval { $queue->maybe_flush; 1 } or warn "patron privacy: flushing the view queue failed\n";
    return $c->render( status => 202, openapi => { queued => Mojo::JSON->true } );
}

=head2 privacy_status

GET /patrons/{patron_id}/privacy-status: the service's answer with its links made absolute; the
billing link only for staff with updatecharges. Only for a patron Koha lets this staff user see
(can_see_patron_infos: library groups, view_borrower_infos_from_any_libraries), else 404 as for a
patron that does not exist; and only the fields the panel shows, so nothing the service adds later
(or identity_code_stored) reaches every staff browser.

=cut

our @PANEL_FIELDS = qw(restrictions sensitive_marks notices_to_guardians processing_restricted loan_history
  loan_history_chosen_on loan_history_chosen_by loan_history_confirmation_due);

sub _not_found {
    my ($c) = @_;
    return _error( $c, 404, 'not_found', 'The patron privacy service does not know this patron.' );
}

sub privacy_status {
    my $c = shift->openapi->valid_input or return;
    my $patron_id = $c->param('patron_id');
    my $patron    = Koha::Patrons->find($patron_id) or return _not_found($c);
    my $env       = C4::Context->userenv;
    my $staff     = $env && $env->{number} ? Koha::Patrons->find( $env->{number} ) : undef;
    return _not_found($c) unless $staff && $staff->can_see_patron_infos($patron);

    my $plugin = _plugin();
    my $client = $plugin->client( timeout => 5 )
      // return _error( $c, 503, 'not_configured', 'The patron privacy plugin is not configured.' );
    my $answer = $client->privacy_status($patron_id);
    my $status = $answer->{status};
    return _not_found($c) if $status == 404;
    if ( $status != 200 || ref $answer->{body} ne 'HASH' ) {
        $plugin->note_service_error($status) if $status == 401 || $status == 403;
        return _error( $c, 503, 'service_unavailable', 'The patron privacy service is not available.' );
    }
    my $body  = $answer->{body};
    my $base  = $plugin->service_url;
    my $links = ref $body->{links} eq 'HASH' ? $body->{links} : {};
    my $can_bill = haspermission( _staff_userid() // '', { updatecharges => '*' } );
    my %absolute;
    for my $name (qw(patron billing)) {
        my $path = $links->{$name};
        next if $name eq 'billing' && !$can_bill;
        $absolute{$name} = defined $path && $path =~ m{^/} ? $base . $path : undef;
    }
    my %panel = ( map( { exists $body->{$_} ? ( $_ => $body->{$_} ) : () } @PANEL_FIELDS ), links => \%absolute );
    return $c->render( status => 200, openapi => \%panel );
}

=head2 put_restriction / delete_restriction

The service's bans and prohibitions in force, as Koha restrictions.

=cut

sub put_restriction {
    my $c = shift->openapi->valid_input or return;
    my $ref    = $c->param('restriction_ref');
    my $body   = $c->req->json;
    my $result = Koha::Plugin::Fi::PatronPrivacy::Restrictions->new( { plugin => _plugin() } )->put( $ref, $body );
    if ( my $error = $result->{error} ) {
        return _error( $c, 404, 'patron_not_found', 'No such patron in Koha.' ) if $error eq 'patron_not_found';
        return _error( $c, 400, 'bad_dates', 'starts_on and ends_on must be dates, starts_on first.' );
    }
    return $c->render(
        status  => $result->{created} ? 201 : 200,
        openapi => {
            restriction_ref     => $ref,
            patron_id           => $body->{patron_id},
            koha_restriction_id => $result->{koha_restriction_id},
            expiration          => $result->{expiration},
        }
    );
}

sub delete_restriction {
    my $c = shift->openapi->valid_input or return;
    Koha::Plugin::Fi::PatronPrivacy::Restrictions->new( { plugin => _plugin() } )
      ->delete( $c->param('restriction_ref') );
    return $c->render( status => 204, openapi => undef );
}

1;
