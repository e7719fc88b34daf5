"""The ban procedure's and the access prohibitions' part of the JSON API, /api/v1/ (privacy_service.api_urls)."""

from django.urls import path

from bans import api

urlpatterns = [
    path("patrons/<id:patron_id>/bans/", api.PatronBanApi.as_view(), name="patron-bans"),
    path(
        "patrons/<id:patron_id>/access-prohibitions/",
        api.PatronAccessProhibitionApi.as_view(),
        name="patron-access-prohibitions",
    ),
    path(
        "access-prohibitions/<id:prohibition_id>/revocation/",
        api.AccessProhibitionRevocationApi.as_view(),
        name="access-prohibition-revocation",
    ),
    path(
        "access-prohibitions/<id:prohibition_id>/court/",
        api.AccessProhibitionCourtApi.as_view(),
        name="access-prohibition-court",
    ),
    path("bans/<id:ban_id>/", api.BanDetailApi.as_view(), name="ban-detail"),
    path("bans/<id:ban_id>/hearing/", api.BanHearingApi.as_view(), name="ban-hearing"),
    path("bans/<id:ban_id>/decision/", api.BanDecisionApi.as_view(), name="ban-decision"),
    path("bans/<id:ban_id>/notification/", api.BanNotificationApi.as_view(), name="ban-notification"),
    path("bans/<id:ban_id>/receipt/", api.BanReceiptApi.as_view(), name="ban-receipt"),
    path("bans/<id:ban_id>/appeal/", api.BanAppealApi.as_view(), name="ban-appeal"),
    path(
        "bans/<id:ban_id>/rectification-notice/",
        api.BanRectificationNoticeApi.as_view(),
        name="ban-rectification-notice",
    ),
    path("bans/<id:ban_id>/court-appeal/", api.BanCourtAppealApi.as_view(), name="ban-court-appeal"),
    path("bans/<id:ban_id>/cancel/", api.BanCancelApi.as_view(), name="ban-cancel"),
]
