"""Template tags of the daily access review: the dashboard's part and the per-staff bar chart."""

from collections import Counter

from django import template
from django.core.exceptions import PermissionDenied
from django.urls import reverse

from dpo.review import AccessReview, FindingKind, StaffReads, access_review_read, default_review_day
from staff.access import access_review_actor

register = template.Library()

BAR_STEP = 8  # px per day: a 6 px bar and a 2 px gap
BAR_WIDTH = 6
CHART_HEIGHT = 40
# The dashboard shows the start of the review; the review page has all of it.
DASHBOARD_CHARTS = 8
DASHBOARD_FINDINGS = 15


@register.simple_tag(takes_context=True)
def access_review_dashboard(context) -> dict | None:
    """Yesterday's review for the admin dashboard: counts per kind, the charts of the staff with findings and
    the first findings with links to their events; None for those who may not see it.

    It lists patron ids, so it is read (and logged) like the review page, once per dashboard view: the
    include that calls this tag is rendered once.
    """
    request = context.get("request")
    if request is None or not request.user.has_perm("audit.review_access"):
        return None
    try:
        actor = access_review_actor(request)
    except PermissionDenied:
        return None
    day = default_review_day()
    review = access_review_read(actor=actor, day=day)
    return {
        "day": day,
        "url": f"{reverse('dpo:access-review')}?day={day.isoformat()}",
        "counts": [(FindingKind(kind).label, number) for kind, number in review.count_by_kind().items() if number],
        "charts": _staff_with_findings(review)[:DASHBOARD_CHARTS],
        "findings": review.findings[:DASHBOARD_FINDINGS],
        "findings_total": len(review.findings),
    }


def _staff_with_findings(review: AccessReview) -> list[StaffReads]:
    """The staff with a finding, those above their usual volume first, then by their number of findings;
    someone who only read their own record comes last."""
    serious = Counter(f.actor_id for f in review.findings if f.kind != FindingKind.OWN_RECORD)
    with_findings = {f.actor_id for f in review.findings}
    return sorted(
        (staff for staff in review.staff if staff.actor_id in with_findings),
        key=lambda staff: (not staff.above_usual, -serious[staff.actor_id], staff.username),
    )


@register.inclusion_tag("dpo/access_review_chart.html")
def access_review_chart(staff: StaffReads) -> dict:
    """Bars for the 28 days before and the reviewed day (the last, highlighted), and the usual level as a line."""
    peak = max([day.reads for day in staff.history] + [staff.usual, 1])

    def y(reads: float) -> float:
        return round(CHART_HEIGHT - reads / peak * CHART_HEIGHT, 1)

    bars = [
        {"x": index * BAR_STEP, "y": y(day.reads), "height": round(CHART_HEIGHT - y(day.reads), 1), "day": day}
        for index, day in enumerate(staff.history)
    ]
    return {
        "staff": staff,
        "bars": bars[:-1],
        "reviewed": bars[-1],
        "width": len(bars) * BAR_STEP,
        "height": CHART_HEIGHT,
        "bar_width": BAR_WIDTH,
        "usual_y": y(staff.usual),
    }
