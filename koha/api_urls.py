"""The machine API's URLs, /api/v1/koha/ (privacy_service.api_urls)."""

from django.urls import path

from koha import api

urlpatterns = [
    path("koha/service/", api.ServiceApi.as_view(), name="koha-service"),
    path(
        "koha/patrons/<id:koha_patron_id>/privacy-status/",
        api.PrivacyStatusApi.as_view(),
        name="koha-privacy-status",
    ),
    path("koha/views/", api.ReportedViewsApi.as_view(), name="koha-views"),
]
