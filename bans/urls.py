from django.urls import path

from bans import decision_views, views

app_name = "bans"

urlpatterns = [
    path("queue/", views.ban_queue_view, name="queue"),
    path("archive/", views.ban_archive_view, name="archive"),
    path("prohibitions/<id:prohibition_id>/", views.access_prohibition_detail_view, name="prohibition"),
    path(
        "prohibitions/<id:prohibition_id>/<str:step>/",
        views.access_prohibition_step_view,
        name="prohibition-step",
    ),
    path("<id:ban_id>/", views.ban_detail_view, name="detail"),
    path("<id:ban_id>/<str:step>/", views.ban_step_view, name="step"),
    # The printable decision (fi|sv; another language is a 404). The .pdf route first, so it wins.
    path("<id:ban_id>/decision/<str:language>.pdf", decision_views.decision_pdf_view, name="decision-pdf"),
    path("<id:ban_id>/decision/<str:language>/", decision_views.decision_html_view, name="decision"),
]

# The patron's own pages that start a ban or record a prohibition; privacy_service.urls mounts them with the
# patron pages, so they keep their addresses and names (patrons:ban-propose, patrons:access-prohibition).
patron_urlpatterns = [
    path("<id:patron_id>/bans/new/", views.ban_propose_view, name="ban-propose"),
    path("<id:patron_id>/access-prohibitions/new/", views.access_prohibition_view, name="access-prohibition"),
]
