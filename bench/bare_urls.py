"""Bench only: the one view of `bench/bare_settings.py`, what Django costs with nothing of the service."""

from django.http import HttpRequest, HttpResponse
from django.urls import path


def bare(request: HttpRequest) -> HttpResponse:
    return HttpResponse(b"ok", content_type="text/plain")


urlpatterns = [path("bench/bare", bare)]
