"""Totals per currency of the invoice list and the invoice API, from the pre-summed ``InvoiceTotal`` rows when the
filters in force are ones those rows are grouped by, otherwise from the invoices themselves (cached until an
invoice changes). Both give the same figures: ``tests/contracts/test_invoice_totals.py`` compares them for every
role and filter.

``rebuild()`` and ``differences()`` back ``manage.py rebuild_invoice_totals``.
"""

from datetime import date

from django.db import connection, transaction
from django.db.models import ExpressionWrapper, F, Q, QuerySet, Sum
from django.db.models.functions import Coalesce

from accounts.models import Team
from contracts.billing import selectors
from contracts.billing.filters import NO_TEAM, OPEN
from contracts.billing.selectors import BUCKETS, MONEY, ZERO, aging_row, bucket_filter
from contracts.models import OPEN_STATUSES, Invoice, InvoiceTotal

# Filters that narrow the list by something the pre-summed rows do not keep: with any of them in force, the
# invoices are added up directly (an index narrows them to a few first).
DIRECT_FILTERS = ("q", "client", "contract", "disputed", "promise_due", "write_off")
EMPTY = (None, "", [], ())
OWED = ExpressionWrapper(F("gross") - F("paid"), output_field=MONEY)

SUMMED = """
SELECT c.owner_id, c.team_id, k.owner_id, i.currency, i.status, i.due_date,
       count(*), sum(i.gross_amount), sum(i.paid_amount)
FROM contracts_invoice i
JOIN clients_client c ON c.id = i.client_id
JOIN contracts_contract k ON k.id = i.contract_id
GROUP BY 1, 2, 3, 4, 5, 6
"""
COLUMNS = "client_owner_id, client_team_id, contract_owner_id, currency, status, due_date, invoices, gross, paid"


def kept() -> bool:
    """Whether the database keeps the pre-summed rows (PostgreSQL's triggers; not SQLite)."""
    return connection.vendor == "postgresql"


def totals_by_currency(
    user, filters: dict | None, invoices: QuerySet[Invoice], *, today: date, revision_now: str | None = None
) -> list[dict]:
    """Per currency: how many invoices, gross, paid and outstanding, of ``invoices`` (the user's visible invoices
    with ``filters`` applied: a filter set's ``cleaned_data``)."""
    rows = summed_rows(user, filters, today=today)
    if rows is None:
        return selectors.cached_totals_by_currency(invoices, revision_now=revision_now)
    return list(
        rows.values("currency")
        .annotate(
            # First, while "gross" and "paid" still name the columns, not the sums below.
            outstanding=Coalesce(Sum(OWED, filter=Q(status__in=OPEN_STATUSES)), ZERO),
            count=Coalesce(Sum("invoices"), 0),
            gross=Coalesce(Sum("gross"), ZERO),
            paid=Coalesce(Sum("paid"), ZERO),
        )
        .order_by("currency")
    )


def count(user, filters: dict | None, *, today: date) -> int | None:
    """How many invoices the user sees with these filters, from the pre-summed rows; None when they cannot say."""
    rows = summed_rows(user, filters, today=today)
    return None if rows is None else rows.aggregate(count=Coalesce(Sum("invoices"), 0))["count"]


def aging_totals(user, *, today: date) -> list[dict] | None:
    """The aging of what the user's clients owe today, one row per currency, as ``selectors.aging_totals`` gives
    it, from the pre-summed rows (None where the database does not keep them)."""
    rows = summed_rows(user, {"status": OPEN}, today=today)
    if rows is None:
        return None
    sums = {bucket.key: Coalesce(Sum(OWED, filter=bucket_filter(bucket.key, today)), ZERO) for bucket in BUCKETS}
    grouped = (
        rows.order_by()
        .values("currency")
        .annotate(**sums, total=Coalesce(Sum(OWED), ZERO), count=Coalesce(Sum("invoices"), 0))
        .order_by("-total", "currency")
    )
    return [aging_row({**row, "invoices": row["count"]}, "currency") for row in grouped]


def summed_rows(user, filters: dict | None, *, today: date) -> QuerySet[InvoiceTotal] | None:
    """The pre-summed rows of the invoices the user sees with these filters, or None when a filter in force is not
    one they are grouped by, or invalid (None), or the database does not keep them."""
    if filters is None or not kept() or any(filters.get(name) not in EMPTY for name in DIRECT_FILTERS):
        return None
    rows = InvoiceTotal.objects.visible_to(user)
    status = filters.get("status")
    if status == OPEN:
        rows = rows.filter(status__in=OPEN_STATUSES)
    elif status not in EMPTY:
        rows = rows.filter(status=status)
    overdue = Q(status__in=OPEN_STATUSES, due_date__lt=today)
    match filters.get("overdue"):
        case True | "1":  # the page's checkbox, the API's 1
            rows = rows.filter(overdue)
        case "0":  # the API's "not overdue"
            rows = rows.exclude(overdue)
    if filters.get("bucket") not in EMPTY:
        rows = rows.filter(bucket_filter(filters["bucket"], today), status__in=OPEN_STATUSES)
    if filters.get("owner") is not None:
        rows = rows.filter(client_owner=filters["owner"])
    team = filters.get("team")
    if team == NO_TEAM:
        rows = rows.filter(client_team__isnull=True)
    elif isinstance(team, Team):
        rows = rows.filter(client_team=team)
    if filters.get("currency") not in EMPTY:
        rows = rows.filter(currency=filters["currency"])
    if filters.get("due_from") is not None:
        rows = rows.filter(due_date__gte=filters["due_from"])
    if filters.get("due_to") is not None:
        rows = rows.filter(due_date__lte=filters["due_to"])
    return rows


# --- Keeping the rows -------------------------------------------------------------------------------------------


def rebuild() -> int:
    """Recompute every row from the invoices, with writes to invoices, clients and contracts held back meanwhile.
    Returns the number of rows."""
    if not kept():
        raise RuntimeError("Pre-summed invoice totals are kept on PostgreSQL only.")
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("LOCK TABLE contracts_invoice, clients_client, contracts_contract IN SHARE MODE")
        cursor.execute("DELETE FROM contracts_invoicetotal")
        cursor.execute(f"INSERT INTO contracts_invoicetotal ({COLUMNS}) {SUMMED}")
        return cursor.rowcount


def differences(limit: int = 20) -> tuple[int, list[tuple]]:
    """Rows where the pre-summed figures and the invoices disagree: how many, and the first ``limit`` of them as
    (key…, kept count, kept gross, kept paid, actual count, actual gross, actual paid)."""
    if not kept():
        raise RuntimeError("Pre-summed invoice totals are kept on PostgreSQL only.")
    sql = f"""
        WITH actual (co, ct, ko, currency, status, due_date, n, gross, paid) AS ({SUMMED}),
        held AS (SELECT client_owner_id AS co, client_team_id AS ct, contract_owner_id AS ko, currency, status,
                        due_date, invoices AS n, gross, paid FROM contracts_invoicetotal)
        SELECT COALESCE(h.co, a.co), COALESCE(h.ct, a.ct), COALESCE(h.ko, a.ko), COALESCE(h.currency, a.currency),
               COALESCE(h.status, a.status), COALESCE(h.due_date, a.due_date),
               h.n, h.gross, h.paid, a.n, a.gross, a.paid
        FROM held h FULL OUTER JOIN actual a
          ON h.co = a.co AND h.ct IS NOT DISTINCT FROM a.ct AND h.ko = a.ko AND h.currency = a.currency
         AND h.status = a.status AND h.due_date = a.due_date
        WHERE h.n IS DISTINCT FROM a.n OR h.gross IS DISTINCT FROM a.gross OR h.paid IS DISTINCT FROM a.paid
        ORDER BY 1, 2, 3, 4, 5, 6
    """  # noqa: S608 (constants)
    with connection.cursor() as cursor:
        cursor.execute(sql)
        rows = cursor.fetchall()
    return len(rows), rows[:limit]
