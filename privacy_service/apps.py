from django.apps import AppConfig


class PrivacyServiceConfig(AppConfig):
    name = "privacy_service"
    verbose_name = "Patron privacy service"

    def ready(self) -> None:
        from django.urls import register_converter

        from core.bounds import IdConverter

        # `<id:...>` in every URL pattern: an object id the database can hold (core.bounds).
        register_converter(IdConverter, "id")
