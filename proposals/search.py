"""Proposals in the header search: by number or title, within what the user may see (the latest version of each)."""

from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from clients.search import SearchGroup, SearchHit
from core.money import format_money
from proposals.selectors import proposal_list


def search_proposals(user, query: str, limit: int) -> list[SearchHit]:
    text = query.replace("\x00", "").strip()[:100]
    proposals = (
        proposal_list(user=user)
        .filter(Q(number__icontains=text) | Q(title__icontains=text))
        .order_by("-created_at", "-id")[:limit]
    )
    return [
        SearchHit(
            url=proposal.get_absolute_url(),
            title=f"{proposal.number} v{proposal.version} · {proposal.title}",
            subtitle=f"{proposal.client.name} · {format_money(proposal.total, proposal.currency)} · "
            f"{proposal.get_status_display()}",
        )
        for proposal in proposals
    ]


PROPOSAL_SEARCH = SearchGroup(label=_("Proposals"), icon="file-earmark-richtext", search=search_proposals)
