from django.urls import path

from patrons import api, registration_api
from sotu_silo import api as silo_api

urlpatterns = [
    path("patrons/", api.PatronListApi.as_view(), name="patron-list"),
    path("patrons/search/", api.PatronSearchApi.as_view(), name="patron-search"),
    path("patrons/<id:patron_id>/", api.PatronDetailApi.as_view(), name="patron-detail"),
    path("patrons/<id:patron_id>/access-events/", api.PatronAccessEventsApi.as_view(), name="patron-access-events"),
    path("patrons/<id:patron_id>/notes/", api.NoteListApi.as_view(), name="patron-notes"),
    path("patrons/<id:patron_id>/notes/<id:note_id>/", api.NoteDetailApi.as_view(), name="patron-note"),
    path("patrons/<id:patron_id>/pin-by-phone/", registration_api.PinByPhoneApi.as_view(), name="patron-pin-by-phone"),
    path("patrons/<id:patron_id>/choices/", api.PatronChoicesApi.as_view(), name="patron-choices"),
    path("patrons/<id:patron_id>/adult-guardianship/", api.TrusteeshipApi.as_view(), name="patron-trusteeship"),
    path("patrons/<id:patron_id>/identity-code/", silo_api.IdentityCodeStoreApi.as_view(), name="identity-code"),
    path(
        "patrons/<id:patron_id>/identity-code/reveal/",
        silo_api.IdentityCodeRevealApi.as_view(),
        name="identity-code-reveal",
    ),
    path("identity-codes/lookup/", silo_api.IdentityCodeLookupApi.as_view(), name="identity-code-lookup"),
    path("identity-code-conflicts/", silo_api.IdentityCodeConflictListApi.as_view(), name="identity-code-conflicts"),
    path(
        "identity-code-conflicts/<id:conflict_id>/resolve/",
        silo_api.IdentityCodeConflictResolveApi.as_view(),
        name="identity-code-conflict-resolve",
    ),
]
