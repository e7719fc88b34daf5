"""The public privacy notice under /privacy/ (no login)."""

from django.urls import path

from dpo import public_views

app_name = "privacy"

urlpatterns = [
    path("", public_views.privacy_index, name="index"),
    path("<slug:consortium>/", public_views.privacy_notice, name="notice"),
]
