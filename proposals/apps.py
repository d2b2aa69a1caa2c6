from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ProposalsConfig(AppConfig):
    name = "proposals"
    verbose_name = _("Proposals")

    def ready(self) -> None:
        from clients.search import register_search_group
        from proposals.search import PROPOSAL_SEARCH

        register_search_group(PROPOSAL_SEARCH)
