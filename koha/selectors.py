"""Reading a consortium's Koha connection: the client every Koha feature talks through."""

from koha import errors
from koha.client import KohaClient
from koha.models import KohaConnection
from staff.models import Consortium


def client_for(consortium: Consortium) -> KohaClient:
    """A client of the consortium's Koha; KohaNotConnected when it has no connection or it is turned off."""
    connection = KohaConnection.objects.of_consortium(consortium.pk).filter(enabled=True).first()
    if connection is None:
        raise errors.not_connected()
    return connection.client()
