from django.urls import path

from patrons import views
from sotu_silo.views import identity_code_store_view

app_name = "patrons"
urlpatterns = [
    path("", views.patron_search_view, name="search"),
    path("<int:patron_id>/", views.patron_detail_view, name="detail"),
    path("<int:patron_id>/identity-code/", identity_code_store_view, name="identity-code"),
]
