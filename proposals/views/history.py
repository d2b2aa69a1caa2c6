"""A proposal's change history: who changed which of its fields, and when (each version has its own)."""

from django.contrib.auth.decorators import login_required
from django.db.models import Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404
from django.urls import reverse

from core.history import HistorySource, history_response
from proposals.models import Proposal


@login_required
def proposal_history(request: HttpRequest, pk: int) -> HttpResponse:
    proposal = get_object_or_404(Proposal.objects.visible_to(request.user), pk=pk)
    return history_response(
        request,
        sources=[HistorySource(Proposal, Q(id=proposal.pk), currency="currency")],
        title=str(proposal),
        back_url=proposal.get_absolute_url(),
        url=reverse("proposals:history", args=[proposal.pk]),
    )
