"""The silo's part of the JSON API: storing a code at the desk, the billing clerk's reveal and lookup, conflicts."""

from django.urls import path

from sotu_silo import api

urlpatterns = [
    path("patrons/<id:patron_id>/identity-code/", api.IdentityCodeStoreApi.as_view(), name="identity-code"),
    path(
        "patrons/<id:patron_id>/identity-code/reveal/",
        api.IdentityCodeRevealApi.as_view(),
        name="identity-code-reveal",
    ),
    path("identity-codes/lookup/", api.IdentityCodeLookupApi.as_view(), name="identity-code-lookup"),
    path("identity-code-conflicts/", api.IdentityCodeConflictListApi.as_view(), name="identity-code-conflicts"),
    path(
        "identity-code-conflicts/<id:conflict_id>/resolve/",
        api.IdentityCodeConflictResolveApi.as_view(),
        name="identity-code-conflict-resolve",
    ),
]
