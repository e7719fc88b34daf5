from django.urls import path

from patrons import api, registration_api

urlpatterns = [
    path("patrons/", api.PatronListApi.as_view(), name="patron-list"),
    path("patrons/search/", api.PatronSearchApi.as_view(), name="patron-search"),
    path(
        "patrons/loan-history-confirmations/",
        api.LoanHistoryConfirmationsApi.as_view(),
        name="patron-loan-history-confirmations",
    ),
    path("patrons/<id:patron_id>/", api.PatronDetailApi.as_view(), name="patron-detail"),
    path("patrons/<id:patron_id>/access-events/", api.PatronAccessEventsApi.as_view(), name="patron-access-events"),
    path("patrons/<id:patron_id>/notes/", api.NoteListApi.as_view(), name="patron-notes"),
    path("patrons/<id:patron_id>/notes/<id:note_id>/", api.NoteDetailApi.as_view(), name="patron-note"),
    path("patrons/<id:patron_id>/pin-by-phone/", registration_api.PinByPhoneApi.as_view(), name="patron-pin-by-phone"),
    path("patrons/<id:patron_id>/choices/", api.PatronChoicesApi.as_view(), name="patron-choices"),
    path(
        "patrons/<id:patron_id>/loan-history/confirm/",
        api.LoanHistoryConfirmApi.as_view(),
        name="patron-loan-history-confirm",
    ),
    path("patrons/<id:patron_id>/adult-guardianship/", api.TrusteeshipApi.as_view(), name="patron-trusteeship"),
]
