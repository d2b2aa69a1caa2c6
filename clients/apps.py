from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ClientsConfig(AppConfig):
    name = "clients"
    verbose_name = _("Clients")

    def ready(self) -> None:
        from accounts.home import register_home_panel
        from clients import selectors

        register_home_panel(
            template="clients/home/my_day.html",
            roles={"account_manager", "sales", "finance"},
            context=lambda user: {"my_day": selectors.my_day(user=user)},
            order=10,
        )
        register_home_panel(
            template="clients/home/agency_requests.html",
            roles={"director", "admin"},
            context=lambda user: {"agency_requests": selectors.agency_request_summary(user=user)},
            order=20,
        )
