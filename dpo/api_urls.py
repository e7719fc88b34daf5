"""The DPO's JSON API under /api/v1/: data-subject requests and the breach register (DPO only)."""

from django.urls import path

from dpo import access_report_api, breach_api, erasure_api, register_api, review_api, subject_request_api

urlpatterns = [
    path("access-review/", review_api.AccessReviewApi.as_view(), name="access-review"),
    path("subject-requests/", subject_request_api.SubjectRequestListApi.as_view(), name="subject-request-list"),
    path(
        "subject-requests/<id:request_id>/",
        subject_request_api.SubjectRequestDetailApi.as_view(),
        name="subject-request-detail",
    ),
    path(
        "subject-requests/<id:request_id>/extension/",
        subject_request_api.SubjectRequestExtensionApi.as_view(),
        name="subject-request-extension",
    ),
    path(
        "subject-requests/<id:request_id>/fee-decision/",
        subject_request_api.SubjectRequestFeeDecisionApi.as_view(),
        name="subject-request-fee-decision",
    ),
    path(
        "subject-requests/<id:request_id>/delivery/",
        subject_request_api.SubjectRequestDeliveryApi.as_view(),
        name="subject-request-delivery",
    ),
    path(
        "subject-requests/<id:request_id>/refusal/",
        subject_request_api.SubjectRequestRefusalApi.as_view(),
        name="subject-request-refusal",
    ),
    path(
        "subject-requests/<id:request_id>/completion/",
        subject_request_api.SubjectRequestCompletionApi.as_view(),
        name="subject-request-completion",
    ),
    path(
        "subject-requests/<id:request_id>/report/",
        access_report_api.SubjectRequestReportApi.as_view(),
        name="subject-request-report",
    ),
    path(
        "subject-requests/<id:request_id>/report.pdf",
        access_report_api.SubjectRequestReportPdfApi.as_view(),
        name="subject-request-report-pdf",
    ),
    path(
        "subject-requests/<id:request_id>/erase/",
        erasure_api.SubjectRequestEraseApi.as_view(),
        name="subject-request-erase",
    ),
    path(
        "subject-requests/<id:request_id>/restriction/",
        subject_request_api.SubjectRequestRestrictionApi.as_view(),
        name="subject-request-restriction",
    ),
    path(
        "subject-requests/<id:request_id>/restriction/lift/",
        subject_request_api.SubjectRequestRestrictionLiftApi.as_view(),
        name="subject-request-restriction-lift",
    ),
    path(
        "subject-requests/<id:request_id>/claim-hold/lift/",
        subject_request_api.SubjectRequestClaimHoldLiftApi.as_view(),
        name="subject-request-claim-hold-lift",
    ),
    path(
        "subject-requests/<id:request_id>/kept-elsewhere/",
        subject_request_api.SubjectRequestKeepingApi.as_view(),
        name="subject-request-kept-elsewhere",
    ),
    path(
        "register-descriptions/",
        register_api.RegisterDescriptionListApi.as_view(),
        name="register-description-list",
    ),
    path("breaches/", breach_api.BreachListApi.as_view(), name="breach-list"),
    path("breaches/<id:breach_id>/", breach_api.BreachDetailApi.as_view(), name="breach-detail"),
    path(
        "breaches/<id:breach_id>/authority-notification/",
        breach_api.BreachAuthorityNotificationApi.as_view(),
        name="breach-authority-notification",
    ),
    path(
        "breaches/<id:breach_id>/people-notification/",
        breach_api.BreachPeopleNotificationApi.as_view(),
        name="breach-people-notification",
    ),
    path(
        "breaches/<id:breach_id>/art34-exemption/",
        breach_api.BreachArt34ExemptionApi.as_view(),
        name="breach-art34-exemption",
    ),
    path("breaches/<id:breach_id>/close/", breach_api.BreachCloseApi.as_view(), name="breach-close"),
    path(
        "breaches/<id:breach_id>/affected-contacts/",
        breach_api.BreachAffectedContactsApi.as_view(),
        name="breach-affected-contacts",
    ),
]
