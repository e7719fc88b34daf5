from django.apps import AppConfig
from django.contrib.admin.apps import AdminConfig


class PrivacyServiceConfig(AppConfig):
    name = "privacy_service"
    verbose_name = "Patron privacy service"

    def ready(self) -> None:
        from django.urls import register_converter

        from core.bounds import IdConverter

        # `<id:...>` in every URL pattern: an object id the database can hold (core.bounds).
        register_converter(IdConverter, "id")


class PrivacyAdminConfig(AdminConfig):
    """django.contrib.admin with the service's site (privacy_service.admin_site) as `admin.site`."""

    default_site = "privacy_service.admin_site.PrivacyAdminSite"
