"""Invoices in the header search: by number, or by their client's name, within what the user may see."""

from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from clients.models import Client
from clients.search import SearchGroup, SearchHit
from clients.selectors import words_filter
from contracts.billing.filters import NUMBER_PREFIX
from contracts.models import Invoice
from core.money import format_money


def _number_filter(query: str) -> Q:
    """Numbers have digits: 'INV-2026-00042', '2026-00042', '00042'. A query without one would match every
    number's 'INV' and scan them all, so it searches by client name alone."""
    text = query.replace("\x00", "").strip()[:100]
    return Q(number__icontains=text) if any(char.isdigit() for char in text) else Q(pk__in=[])


def _matches(query: str) -> Q:
    """An invoice number's beginning (INV-2026-0012) is looked up on the numbers' index alone; anything else by
    number and by client name."""
    text = query.replace("\x00", "").strip()[:100]
    if NUMBER_PREFIX.fullmatch(text):
        return Q(number__startswith=text.upper())
    clients = Client.objects.filter(words_filter(query, "search_name")).values("pk")
    return _number_filter(query) | Q(client__in=clients)


def search_invoices(user, query: str, limit: int) -> list[SearchHit]:
    invoices = (
        Invoice.objects.visible_to(user)
        .filter(_matches(query))
        .select_related("client")
        .order_by("-issue_date", "-id")[:limit]
    )
    return [
        SearchHit(
            url=invoice.get_absolute_url(),
            title=f"{invoice} · {format_money(invoice.gross_amount, invoice.currency)}",
            subtitle=f"{invoice.client.name} · {invoice.get_status_display()}",
        )
        for invoice in invoices
    ]


INVOICE_SEARCH = SearchGroup(label=_("Invoices"), icon="receipt", search=search_invoices)
