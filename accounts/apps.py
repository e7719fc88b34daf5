from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = _("Log-in and roles")

    def ready(self) -> None:
        from django.contrib.auth.signals import user_logged_in, user_logged_out

        from accounts.services.login import logout_record
        from accounts.sessions import session_start

        user_logged_in.connect(session_start, dispatch_uid="accounts-session-start")
        user_logged_out.connect(logout_record, dispatch_uid="accounts-logout-record")
