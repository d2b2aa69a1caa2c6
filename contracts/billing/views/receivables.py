"""Receivables: the aging of what is owed by client, account manager, team or currency, a totals row per
currency, and the CSV of it. Every amount links to the invoice list filtered so that the list's total is it."""

import csv
from datetime import date

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from clients.views import _cell, _Echo
from contracts.billing import selectors
from contracts.billing import totals as summed
from contracts.billing.filters import NO_TEAM, OPEN
from contracts.billing.home import invoices_url
from contracts.billing.views.shared import is_collector
from core.money import round_money

PAGE_SIZE = 50
DIMENSIONS = {
    "client": gettext_lazy("Client"),
    "owner": gettext_lazy("Account manager"),
    "team": gettext_lazy("Team"),
    "currency": gettext_lazy("Currency"),
}
DEFAULT_DIMENSION = "client"


def _dimension(request: HttpRequest) -> str:
    by = request.GET.get("by", DEFAULT_DIMENSION)
    return by if by in DIMENSIONS else DEFAULT_DIMENSION


def _group_filter(by: str, key) -> dict:
    """The invoice list's filter for one row of the aging: ?client=, ?owner=, ?team= (or team=none)."""
    if by == "currency" or by is None:
        return {}
    if by == "team" and key is None:
        return {"team": NO_TEAM}
    return {by: key}


def _with_links(row: dict, by: str | None) -> dict:
    """The row's amounts, each with the list behind it (bucket and currency; the total: every open invoice)."""
    group = {**_group_filter(by, row["key"]), "currency": row["currency"]}
    cells = [
        {
            "key": bucket.key,
            "label": bucket.label,
            "amount": row[bucket.key],
            "url": invoices_url(**group, bucket=bucket.key) if row[bucket.key] else None,
        }
        for bucket in selectors.BUCKETS
    ]
    return {**row, "cells": cells, "total_url": invoices_url(**group, status=OPEN) if row["total"] else None}


def aging_tables(user, by: str, today: date) -> tuple[list[dict], list[dict]]:
    invoices = selectors.invoice_list(user=user)
    return selectors.aging(invoices, by=by, today=today), selectors.aging_totals(invoices, today=today)


def _label(row: dict, by: str) -> str:
    if by == "team" and row["key"] is None:
        return _("No team")
    return row["label"] or "—"


@login_required
def receivables(request: HttpRequest) -> HttpResponse:
    """A page of the aging (counted and sliced in SQL: by client there are thousands of rows) and the totals."""
    today = timezone.localdate()
    by = _dimension(request)
    invoices = selectors.invoice_list(user=request.user)
    page = selectors.aging_page(invoices, by=by, today=today, number=request.GET.get("page"), per_page=PAGE_SIZE)
    totals = summed.aging_totals(request.user, today=today)
    if totals is None:  # not pre-summed (SQLite)
        totals = selectors.cached_aging_totals(invoices, today=today, revision_now=page.paginator.revision)
    context = {
        "by": by,
        "dimensions": DIMENSIONS,
        "dimension_label": DIMENSIONS[by],
        "show_collections": is_collector(request.user),
        "buckets": selectors.BUCKETS,
        "page": page,
        "rows": [{**_with_links(row, by), "label": _label(row, by)} for row in page.object_list],
        "totals": [_with_links(row, None) for row in totals],
        "query": f"by={by}",
        "today": today,
    }
    return render(request, "contracts/billing/receivables.html", context)


@login_required
def receivables_export(request: HttpRequest) -> StreamingHttpResponse:
    """The aging table as CSV (UTF-8 with a BOM), then one totals row per currency."""
    today = timezone.localdate()
    by = _dimension(request)
    rows, totals = aging_tables(request.user, by, today)
    writer = csv.writer(_Echo())
    header = [str(DIMENSIONS[by]), _("Currency"), *[str(bucket.label) for bucket in selectors.BUCKETS]]
    header += [_("Total"), _("Open invoices")]

    def line(label: str, row: dict) -> list:
        amounts = [round_money(row[bucket.key], row["currency"]) for bucket in selectors.BUCKETS]
        return [label, row["currency"], *amounts, round_money(row["total"], row["currency"]), row["invoices"]]

    def stream():
        yield "\ufeff" + writer.writerow(header)
        for row in rows:
            yield writer.writerow([_cell(value) for value in line(_label(row, by), row)])
        for row in totals:
            yield writer.writerow([_cell(value) for value in line(_("Total"), row)])

    response = StreamingHttpResponse(stream(), content_type="text/csv; charset=utf-8")
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    response["Content-Disposition"] = f'attachment; filename="accord-receivables-{by}-{stamp}.csv"'
    return response
