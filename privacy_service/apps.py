from django.apps import AppConfig
from django.db.models.signals import post_delete, post_save


class PrivacyServiceConfig(AppConfig):
    name = "privacy_service"
    verbose_name = "Patron privacy service"

    def ready(self) -> None:
        from django.urls import register_converter

        from core.bounds import IdConverter
        from privacy_service.ip_allowlist import invalidate_allow_list
        from staff.models import AllowedNetwork, Library, Municipality, StaffProfile

        # `<id:...>` in every URL pattern: an object id the database can hold (core.bounds).
        register_converter(IdConverter, "id")

        # Anything that changes who may work from where recompiles the allow-list.
        for model in (AllowedNetwork, Municipality, StaffProfile, Library):
            post_save.connect(invalidate_allow_list, sender=model, dispatch_uid=f"allowlist-save-{model.__name__}")
            post_delete.connect(invalidate_allow_list, sender=model, dispatch_uid=f"allowlist-delete-{model.__name__}")
