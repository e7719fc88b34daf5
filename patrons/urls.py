from django.urls import path

from patrons import registration_views, views

app_name = "patrons"
urlpatterns = [
    path("", views.patron_search_view, name="search"),
    path("new/", registration_views.patron_register_view, name="register"),
    path(
        "loan-history-confirmations/",
        views.loan_history_confirmations_view,
        name="loan-history-confirmations",
    ),
    path("<id:patron_id>/", views.patron_detail_view, name="detail"),
    path("<id:patron_id>/notes/", views.note_add_view, name="note-add"),
    path("<id:patron_id>/notes/<id:note_id>/open/", views.note_open_view, name="note-open"),
    path("<id:patron_id>/notes/<id:note_id>/edit/", views.note_edit_view, name="note-edit"),
    path("<id:patron_id>/notes/<id:note_id>/remove/", views.note_remove_view, name="note-remove"),
    path("<id:patron_id>/pin-by-phone/", registration_views.pin_by_phone_view, name="pin-by-phone"),
    path("<id:patron_id>/choices/", views.choices_view, name="choices"),
    path("<id:patron_id>/loan-history/confirm/", views.loan_history_confirm_view, name="loan-history-confirm"),
    path("<id:patron_id>/guardianship/", views.trusteeship_record_view, name="trusteeship"),
    path("<id:patron_id>/guardianship/open/", views.trusteeship_open_view, name="trusteeship-open"),
]
