"""A consortium connected to the fake Koha, as `koha_connect` would leave it (OAuth2 with the fake's client)."""

from koha.models import KohaConnection
from staff.models import Consortium


def connect_to_fake(consortium: Consortium, fake) -> KohaConnection:
    connection = KohaConnection(consortium=consortium, base_url=fake.base_url, client_id=fake.client_id)
    connection.secret_set(fake.client_secret)
    connection.save()
    return connection
