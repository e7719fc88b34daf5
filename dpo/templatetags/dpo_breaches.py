"""Template tags for the breach register: the authority deadlines running, on the DPO's admin index."""

from django import template
from django.contrib import admin
from django.urls import reverse

from dpo.admin.breaches import describe_time_left
from dpo.breach_selectors import breach_deadlines_running, people_to_be_told_q
from dpo.models import Breach

register = template.Library()


@register.simple_tag(takes_context=True)
def breach_deadlines(context) -> dict | None:
    """Breaches whose 72 hours are running (nearest first, overdue ones too) and high-risk breaches whose
    people have not been told, over the breaches the admin shows this user; None without access or when none."""
    request = context.get("request")
    model_admin = admin.site.get_model_admin(Breach)
    if request is None or not model_admin.has_view_permission(request):
        return None
    breaches = model_admin.get_queryset(request)
    running = [
        {
            "breach": deadline.breach,
            "url": reverse("admin:dpo_breach_change", args=[deadline.breach.pk]),
            "hours_left": deadline.hours_left,
            "overdue": deadline.overdue,
            "time_left": describe_time_left(deadline.time_left),
        }
        for deadline in breach_deadlines_running(breaches=breaches)
    ]
    untold = [
        {"breach": breach, "url": reverse("admin:dpo_breach_change", args=[breach.pk])}
        for breach in breaches.filter(people_to_be_told_q()).order_by("aware_at", "id")
    ]
    if not running and not untold:
        return None
    return {"running": running, "untold": untold}
