from django.urls import path

from patrons import api

urlpatterns = [
    path("patrons/", api.PatronListApi.as_view(), name="patron-list"),
    path("patrons/<int:patron_id>/", api.PatronDetailApi.as_view(), name="patron-detail"),
    path("patrons/<int:patron_id>/access-events/", api.PatronAccessEventsApi.as_view(), name="patron-access-events"),
]
