"""Contracts in the header search: by number, title or client name, within what the user may see."""

from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from clients.models import Client
from clients.search import SearchGroup, SearchHit
from clients.selectors import words_filter
from contracts.models import Contract


def search_contracts(user, query: str, limit: int) -> list[SearchHit]:
    text = query.replace("\x00", "").strip()[:100]
    clients = Client.objects.filter(words_filter(query, "search_name")).values("pk")
    contracts = (
        Contract.objects.visible_to(user)
        .filter(Q(number__icontains=text) | Q(title__icontains=text) | Q(client__in=clients))
        .select_related("client")
        .order_by("-created_at")[:limit]
    )
    return [
        SearchHit(
            url=contract.get_absolute_url(),
            title=f"{contract.number} · {contract.title}",
            subtitle=f"{contract.client.name} · {contract.get_stage_display()}",
        )
        for contract in contracts
    ]


CONTRACT_SEARCH = SearchGroup(label=_("Contracts"), icon="file-earmark-text", search=search_contracts)
