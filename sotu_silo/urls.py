from django.urls import path

from sotu_silo import views

app_name = "billing"
urlpatterns = [
    path("", views.billing_index_view, name="index"),
    path("lookup/", views.billing_lookup_view, name="lookup"),
    path("patrons/<id:patron_id>/reveal/", views.billing_reveal_view, name="reveal"),
    path("conflicts/", views.billing_conflicts_view, name="conflicts"),
    path("conflicts/<id:conflict_id>/resolve/", views.billing_conflict_resolve_view, name="conflict-resolve"),
]

# The desk's store of a code on the patron's page; privacy_service.urls mounts it with the patron pages, so
# it keeps its address and name (patrons:identity-code).
patron_urlpatterns = [
    path("<id:patron_id>/identity-code/", views.identity_code_store_view, name="identity-code"),
]
