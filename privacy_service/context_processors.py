"""Template context for every page."""

from django.http import HttpRequest

from core.dates import today
from staff.duties import briefing_is_due
from staff.selectors import staff_profile_of


def briefing_reminder(request: HttpRequest) -> dict:
    """`briefing_reminder` for a staff member whose yearly privacy briefing is due (Swedish guidance).

    Its `last` is the last briefing date, or None when none is recorded. No query beyond the
    staff profile, which `staff_profile_of` caches on the user for the whole request.
    """
    profile = staff_profile_of(getattr(request, "user", None))
    if profile is None or not briefing_is_due(profile, today()):
        return {"briefing_reminder": None}
    return {"briefing_reminder": {"last": profile.privacy_briefing_on}}
