"""A consortium connected to the fake Koha, as `koha_connect` would leave it (OAuth2 with the fake's client), and
rows of the restriction push for the admin tests."""

import datetime

from django.utils import timezone

from koha.models import KohaConnection, KohaRestriction, KohaRestrictionPush
from staff.models import Consortium


def connect_to_fake(consortium: Consortium, fake) -> KohaConnection:
    connection = KohaConnection(consortium=consortium, base_url=fake.base_url, client_id=fake.client_id)
    connection.secret_set(fake.client_secret)
    connection.save()
    return connection


def restriction_row(consortium: Consortium, patron) -> KohaRestriction:
    """A restriction the push keeps in Koha, as the admin tests need one."""
    return KohaRestriction.objects.create(
        consortium=consortium,
        patron=patron,
        ref=f"ban-{900_000 + patron.pk}",
        koha_patron_id=patron.koha_patron_id or 1,
        kind="library_use_ban",
        library_id="ROV",
        starts_on=datetime.date(2026, 3, 2),
        ends_on=datetime.date(2026, 3, 11),
        in_koha=True,
    )


def push_record(consortium: Consortium) -> KohaRestrictionPush:
    return KohaRestrictionPush.objects.create(
        consortium=consortium, ref="ban-1", action="put", outcome="done", http_status=None, at=timezone.now()
    )
