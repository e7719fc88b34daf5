"""Where a staff user belongs: their profile, municipality and consortium."""

from staff.models import StaffProfile


def staff_profile_of(user) -> StaffProfile | None:
    """The user's StaffProfile with library and municipality, or None; cached on the user object."""
    if user is None or not user.is_authenticated:
        return None
    if not hasattr(user, "_staff_profile_cache"):
        user._staff_profile_cache = (
            StaffProfile.objects.select_related("home_library__municipality").filter(user_id=user.pk).first()
        )
    return user._staff_profile_cache


def jurisdiction_of(consortium_id: int | None) -> str | None:
    from staff.models import Consortium

    if consortium_id is None:
        return None
    return Consortium.objects.filter(pk=consortium_id).values_list("jurisdiction", flat=True).first()


def consortium_id_of(user) -> int | None:
    profile = staff_profile_of(user)
    return profile.consortium_id if profile else None
