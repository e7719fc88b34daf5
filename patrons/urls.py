from django.urls import path

from patrons import views

app_name = "patrons"
urlpatterns = [
    path("", views.patron_search_view, name="search"),
    path("<int:patron_id>/", views.patron_detail_view, name="detail"),
]
