from django.urls import path

from patrons import api
from sotu_silo import api as silo_api

urlpatterns = [
    path("patrons/", api.PatronListApi.as_view(), name="patron-list"),
    path("patrons/<int:patron_id>/", api.PatronDetailApi.as_view(), name="patron-detail"),
    path("patrons/<int:patron_id>/access-events/", api.PatronAccessEventsApi.as_view(), name="patron-access-events"),
    path("patrons/<int:patron_id>/identity-code/", silo_api.IdentityCodeStoreApi.as_view(), name="identity-code"),
    path(
        "patrons/<int:patron_id>/identity-code/reveal/",
        silo_api.IdentityCodeRevealApi.as_view(),
        name="identity-code-reveal",
    ),
    path("identity-codes/lookup/", silo_api.IdentityCodeLookupApi.as_view(), name="identity-code-lookup"),
]
