from django.urls import path

from patrons import ban_views, decision_views

app_name = "bans"

urlpatterns = [
    path("archive/", ban_views.ban_archive_view, name="archive"),
    path("<id:ban_id>/", ban_views.ban_detail_view, name="detail"),
    path("<id:ban_id>/<str:step>/", ban_views.ban_step_view, name="step"),
    # The printable decision (fi|sv; another language is a 404). The .pdf route first, so it wins.
    path("<id:ban_id>/decision/<str:language>.pdf", decision_views.decision_pdf_view, name="decision-pdf"),
    path("<id:ban_id>/decision/<str:language>/", decision_views.decision_html_view, name="decision"),
]
