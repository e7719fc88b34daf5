"""Where a staff user belongs: their profile, municipality and consortium."""

from staff.models import StaffProfile


def staff_profile_of(user) -> StaffProfile | None:
    """The user's StaffProfile with library, municipality and consortium, or None; cached on the user object, so
    the page's language (the consortium's jurisdiction) and later code share one query."""
    if user is None or not user.is_authenticated:
        return None
    if not hasattr(user, "_staff_profile_cache"):
        user._staff_profile_cache = (
            StaffProfile.objects.select_related("home_library__municipality__consortium")
            .filter(user_id=user.pk)
            .first()
        )
    return user._staff_profile_cache


def jurisdiction_of(consortium_id: int | None) -> str | None:
    from staff.models import Consortium

    if consortium_id is None:
        return None
    return Consortium.objects.filter(pk=consortium_id).values_list("jurisdiction", flat=True).first()


def jurisdiction_of_user(user) -> str | None:
    """The jurisdiction of the user's consortium, from the cached staff profile (no query of its own)."""
    profile = staff_profile_of(user)
    return profile.home_library.municipality.consortium.jurisdiction if profile else None


def consortium_id_of(user) -> int | None:
    profile = staff_profile_of(user)
    return profile.consortium_id if profile else None


def jurisdiction_of_slug(slug: str) -> str | None:
    """The jurisdiction of the consortium with this short name (the public privacy notice's address), or None."""
    from staff.models import Consortium

    return Consortium.objects.filter(slug=slug).values_list("jurisdiction", flat=True).first()
