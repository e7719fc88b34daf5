from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from accounts.views import home_view, login_view
from bans import urls as ban_pages
from patrons import urls as patron_pages
from privacy_service import views
from sotu_silo import urls as silo_pages

urlpatterns = [
    path("", home_view, name="home"),
    path("healthz", views.healthz, name="healthz"),
    path("accounts/", include("accounts.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path(
        "patrons/",
        include(
            ([*patron_pages.urlpatterns, *silo_pages.patron_urlpatterns, *ban_pages.patron_urlpatterns], "patrons")
        ),
    ),
    path("billing/", include("sotu_silo.urls")),
    path("billing/", include("koha.urls")),
    path("bans/", include("bans.urls")),
    path("privacy/", include("dpo.public_urls")),
    path("api/v1/", include(("privacy_service.api_urls", "api"))),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="schema"), name="api-docs"),
    # The admin's own log-in would skip the network check, the lockout and the events; send it through ours.
    path("admin/login/", login_view, name="admin-login"),
    path("admin/dpo/", include("dpo.urls")),
    path("admin/", admin.site.urls),
]

handler400 = "privacy_service.views.bad_request"
handler403 = "privacy_service.views.permission_denied"
handler404 = "privacy_service.views.page_not_found"
handler500 = "privacy_service.views.server_error"
