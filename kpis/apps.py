from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class KpisConfig(AppConfig):
    name = "kpis"
    verbose_name = _("KPIs")

    def ready(self) -> None:
        from django.db.models.signals import post_delete

        from clients.models import Client, Contact, Request
        from contracts.models import Contract
        from kpis.cache import client_input_deleted, contract_deleted
        from kpis.views.home import register_kpi_home_panel

        register_kpi_home_panel()
        post_delete.connect(contract_deleted, sender=Contract, dispatch_uid="kpis-contract-deleted")
        post_delete.connect(client_input_deleted, sender=Client, dispatch_uid="kpis-client-deleted")
        post_delete.connect(client_input_deleted, sender=Request, dispatch_uid="kpis-request-deleted")
        post_delete.connect(client_input_deleted, sender=Contact, dispatch_uid="kpis-contact-deleted")
