"""Setting up a new consortium: the one tenancy write that no superuser can do in the admin.

A superuser administers their own consortium only (staff/admin.py), so a consortium that does not
exist yet has nobody to set it up; the operator does it from the command line
(`manage.py consortium_create`), placing its first administrator, who carries on in the admin.
"""

from collections.abc import Sequence

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from audit.actor import Actor
from audit.models import Action
from audit.services import access_event_record
from staff.models import AllowedNetwork, Consortium, Library, MachineKey, Municipality, StaffProfile


def consortium_create(
    *,
    name: str,
    slug: str,
    jurisdiction: str,
    municipality: str,
    networks: Sequence[str],
    library_id: str,
    library_name: str,
    administrator: str,
) -> Consortium:
    """The consortium, its first municipality with its networks, its first library, and the existing
    account `administrator` placed in that library; all or nothing. The account's roles are not touched, and
    its confidentiality agreement is recorded in the admin once signed."""
    user = get_user_model().objects.filter(username=administrator).first()
    if user is None:
        raise ValidationError(_("No user account “%(username)s”.") % {"username": administrator})
    if StaffProfile.objects.filter(user=user).exists():
        raise ValidationError(
            _("“%(username)s” already works in a consortium; create a new account.") % {"username": administrator}
        )
    if not networks:
        raise ValidationError(_("Give at least one network the staff work from."))
    with transaction.atomic():
        consortium = Consortium(name=name, slug=slug, jurisdiction=jurisdiction)
        consortium.full_clean()
        consortium.save()
        place = Municipality(consortium=consortium, name=municipality)
        place.full_clean()
        place.save()
        for cidr in networks:
            network = AllowedNetwork(municipality=place, cidr=cidr)
            network.full_clean()
            network.save()
        library = Library(municipality=place, koha_library_id=library_id, name=library_name)
        library.full_clean()
        library.save()
        StaffProfile.objects.create(user=user, home_library=library)
    return consortium


def machine_key_change_record(*, actor: Actor, key: MachineKey, what: str) -> None:
    """Log a machine client key's creation, change or revocation: who may hand out a key that reads patrons'
    privacy status and writes their access log is logged like a role change. Names the key by its public
    prefix and name, never its secret; `what` is `created`, `revoked` or `changed:<fields>`."""
    access_event_record(
        actor=actor,
        action=Action.MACHINE_KEY_CHANGE,
        detail=f"{what}:key={key.prefix}:consortium={key.consortium_id}"[:100],
    )
