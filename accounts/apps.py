from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = _("Accounts")

    def ready(self) -> None:
        from django.contrib.auth.signals import user_logged_in

        from accounts.security import stamp_session

        # Session bookkeeping, not domain logic: every way of signing in (form, admin, tests' force_login) stamps it.
        user_logged_in.connect(stamp_session, dispatch_uid="accounts.stamp_session")
