from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class KpisConfig(AppConfig):
    name = "kpis"
    verbose_name = _("KPIs")

    def ready(self) -> None:
        from django.db.models.signals import post_delete

        from contracts.models import Contract
        from kpis.cache import contract_deleted
        from kpis.views.home import register_kpi_home_panel

        register_kpi_home_panel()
        post_delete.connect(contract_deleted, sender=Contract, dispatch_uid="kpis-contract-deleted")
