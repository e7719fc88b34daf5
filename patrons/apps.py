from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PatronsConfig(AppConfig):
    name = "patrons"
    verbose_name = _("Patrons and libraries")

    def ready(self) -> None:
        from django.db.models.signals import post_delete, post_save

        from patrons.forms import library_choices_forget
        from staff.models import Library, Municipality

        for model in (Library, Municipality):
            post_save.connect(
                library_choices_forget, sender=model, dispatch_uid=f"library-choices-saved-{model.__name__}"
            )
            post_delete.connect(
                library_choices_forget, sender=model, dispatch_uid=f"library-choices-deleted-{model.__name__}"
            )
