from django.urls import path

from patrons import api, ban_api, registration_api
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
    path("patrons/<id:patron_id>/bans/", ban_api.PatronBanApi.as_view(), name="patron-bans"),
    path(
        "patrons/<id:patron_id>/access-prohibitions/",
        ban_api.PatronAccessProhibitionApi.as_view(),
        name="patron-access-prohibitions",
    ),
    path("bans/<id:ban_id>/", ban_api.BanDetailApi.as_view(), name="ban-detail"),
    path("bans/<id:ban_id>/hearing/", ban_api.BanHearingApi.as_view(), name="ban-hearing"),
    path("bans/<id:ban_id>/decision/", ban_api.BanDecisionApi.as_view(), name="ban-decision"),
    path("bans/<id:ban_id>/notification/", ban_api.BanNotificationApi.as_view(), name="ban-notification"),
    path("bans/<id:ban_id>/appeal/", ban_api.BanAppealApi.as_view(), name="ban-appeal"),
    path("bans/<id:ban_id>/cancel/", ban_api.BanCancelApi.as_view(), name="ban-cancel"),
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
