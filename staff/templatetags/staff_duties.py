"""Template tags for staff duties: the DPO's count of staff due for their briefing, on the admin index."""

from django import template
from django.contrib import admin
from django.urls import reverse

from core.dates import today
from staff.duties import briefing_due_q
from staff.models import StaffProfile

register = template.Library()


@register.simple_tag(takes_context=True)
def staff_duties_due(context) -> dict | None:
    """Counts and changelist links over the staff profiles the admin shows this user; None without access."""
    request = context.get("request")
    model_admin = admin.site.get_model_admin(StaffProfile)
    if request is None or not model_admin.has_view_permission(request):
        return None
    profiles = model_admin.get_queryset(request)
    changelist = reverse("admin:staff_staffprofile_changelist")
    return {
        "briefing_due": profiles.filter(briefing_due_q(today())).count(),
        "briefing_due_url": f"{changelist}?briefing_due=yes",
        "unsigned": profiles.filter(confidentiality_signed_on__isnull=True).count(),
        "unsigned_url": f"{changelist}?confidentiality_signed=no",
    }
