"""The register a patron registered here is created in first: the consortium's Koha, as koha/ provides it.

patrons stands below koha/, so it never imports it: koha's AppConfig.ready registers a creator. The
registration asks it after its own checks and before it saves: the creator gives Koha's patron id, or None
when the consortium has no Koha connection (registration works as without Koha), or raises RuleBroken when
Koha refuses or cannot be reached, and then nothing is created here either.
"""

from collections.abc import Callable

from patrons.models import Patron

# Creates the (unsaved, validated) patron in the upstream register; its id there, or None when there is none.
UpstreamCreator = Callable[[Patron], int | None]

_creators: list[UpstreamCreator] = []


def upstream_creator_register(creator: UpstreamCreator) -> None:
    if creator not in _creators:
        _creators.append(creator)


def patron_create_upstream(patron: Patron) -> int | None:
    """The patron's id in the upstream register that created it, or None when no creator applies."""
    for creator in _creators:
        if (upstream_id := creator(patron)) is not None:
            return upstream_id
    return None
