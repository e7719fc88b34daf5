"""Template tags of the daily access review: the dashboard's summary and the per-staff bar chart."""

from django import template
from django.core.exceptions import PermissionDenied
from django.urls import reverse

from audit.review import FindingKind, StaffReads, access_review_build, default_review_day
from patrons.access import access_review_actor

register = template.Library()

BAR_STEP = 8  # px per day: a 6 px bar and a 2 px gap
BAR_WIDTH = 6
CHART_HEIGHT = 40


@register.simple_tag(takes_context=True)
def access_review_summary(context) -> dict | None:
    """Yesterday's number of findings per kind and a link to the review; None for those who may not see it.

    Counts only, no patron ids, so showing them is not logged; the review page is.
    """
    request = context.get("request")
    if request is None or not request.user.has_perm("audit.review_access"):
        return None
    try:
        actor = access_review_actor(request)
    except PermissionDenied:
        return None
    day = default_review_day()
    counts = access_review_build(actor=actor, day=day).count_by_kind()
    return {
        "day": day,
        "url": f"{reverse('dpo:access-review')}?day={day.isoformat()}",
        "counts": [(FindingKind(kind).label, number) for kind, number in counts.items() if number],
    }


@register.inclusion_tag("audit/access_review_chart.html")
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
