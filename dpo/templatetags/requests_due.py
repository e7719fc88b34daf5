"""Template tags for the DPO's dashboard: the open data-subject requests by deadline, on the admin index."""

from django import template
from django.contrib import admin
from django.urls import reverse

from core.dates import today
from dpo.models import SubjectRequest
from dpo.selectors import RequestState, subject_requests_due
from staff.selectors import consortium_id_of

register = template.Library()

# The dashboard shows the nearest deadlines; the changelist has the rest.
SHOWN = 10


@register.simple_tag(takes_context=True)
def subject_requests_due_panel(context) -> dict | None:
    """The user's consortium's open requests, nearest deadline first; None for users who do not handle them."""
    request = context.get("request")
    model_admin = admin.site.get_model_admin(SubjectRequest)
    if request is None or not model_admin.has_view_permission(request):
        return None
    due = subject_requests_due(consortium_id=consortium_id_of(request.user), day=today())
    changelist = reverse("admin:dpo_subjectrequest_changelist")
    return {
        "requests": due[:SHOWN],
        "count": len(due),
        "overdue": sum(1 for item in due if item.state == RequestState.OVERDUE),
        "overdue_state": RequestState.OVERDUE,
        "open_url": f"{changelist}?state=open",
        "overdue_url": f"{changelist}?state={RequestState.OVERDUE}",
        "add_url": reverse("admin:dpo_subjectrequest_add"),
    }
