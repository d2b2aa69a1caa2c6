from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ContractsConfig(AppConfig):
    name = "contracts"
    verbose_name = _("Contracts")

    def ready(self) -> None:
        from clients.health import register_health_rule
        from clients.search import register_search_group
        from contracts.billing.health import OVERDUE_RECEIVABLES_RULE
        from contracts.billing.home import register_billing_client_links, register_billing_home_panels
        from contracts.billing.search import INVOICE_SEARCH
        from contracts.health import RENEWAL_RULE
        from contracts.search import CONTRACT_SEARCH

        register_health_rule(RENEWAL_RULE)
        register_search_group(CONTRACT_SEARCH)
        register_health_rule(OVERDUE_RECEIVABLES_RULE)
        register_search_group(INVOICE_SEARCH)
        register_billing_home_panels()
        register_billing_client_links()
