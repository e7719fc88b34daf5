"""The DPO's pages beside the admin site, under /admin/dpo/ (access reports, erasure, the access review).

They use the admin's look but are ordinary views: each one asks staff.access for its actor, so the
role and network rules are the same as everywhere else.
"""

from django.urls import path

from dpo import access_report_views, erasure_views, review_views

app_name = "dpo"

urlpatterns = [
    path("access-review/", review_views.access_review_view, name="access-review"),
    path("requests/<id:request_id>/report/", access_report_views.access_report_page, name="request-report"),
    path("requests/<id:request_id>/erase/", erasure_views.request_erase_view, name="request-erase"),
    path("erasures/reapply/", erasure_views.erasures_reapply_view, name="erasures-reapply"),
]
