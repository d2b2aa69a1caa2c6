"""Reads for invoices, payments and receivables. Pages, the API, exports, PDFs and dashboards start here, so the
figure on a board and the list behind it always agree.

Outstanding is gross − paid on open invoices (issued, partially paid). Days past due count from the due date in
the agency's calendar (``timezone.localdate()``).
"""

from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

from django.core.paginator import Page
from django.db.models import (
    Avg,
    Case,
    Count,
    DecimalField,
    DurationField,
    ExpressionWrapper,
    F,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from accounts.models import User
from clients.models import Client
from contracts.billing.cache import CachedPaginator, cached
from contracts.models import OPEN_STATUSES, Invoice, InvoiceStatus, Payment
from core.history import HistorySource

MONEY = DecimalField(max_digits=20, decimal_places=2)
ZERO = Value(Decimal("0"), output_field=MONEY)
OUTSTANDING = ExpressionWrapper(F("gross_amount") - F("paid_amount"), output_field=MONEY)


@dataclass(frozen=True)
class Bucket:
    key: str
    label: str
    low: int | None  # days past due, inclusive; None: not yet due
    high: int | None


BUCKETS = (
    Bucket("current", _("Current"), None, 0),
    Bucket("d1_30", _("1–30 days"), 1, 30),
    Bucket("d31_60", _("31–60 days"), 31, 60),
    Bucket("d61_90", _("61–90 days"), 61, 90),
    Bucket("d90_plus", _("90+ days"), 91, None),
)
BUCKET_KEYS = tuple(bucket.key for bucket in BUCKETS)
AGING_DIMENSIONS = {
    "client": ("client_id", "client__name"),
    "owner": ("client__owner_id", "client__owner__full_name"),
    "team": ("client__team_id", "client__team__name"),
    "currency": (None, None),
}

# Payment rating from the average delay, in days, of paid and overdue invoices: (rating, at most this many days).
RATINGS = (("A", 30), ("B", 60), ("C", 90))
RATING_LABELS = {
    "A": _("A · pays within 30 days of the due date on average"),
    "B": _("B · 31–60 days late on average"),
    "C": _("C · 61–90 days late on average"),
    "D": _("D · more than 90 days late on average"),
}


def invoice_list(*, user: User) -> QuerySet[Invoice]:
    """Invoices the user may see, with client, owner, team and contract for lists and cards."""
    return Invoice.objects.visible_to(user).select_related(
        "client", "client__owner", "client__team", "contract", "contract__owner"
    )


def invoice_detail(*, user: User) -> QuerySet[Invoice]:
    return invoice_list(user=user).select_related("phase", "created_by")


def cached_totals_by_currency(invoices: QuerySet[Invoice], *, revision_now: str | None = None) -> list[dict]:
    """``totals_by_currency``, from the billing cache while no invoice changes (the invoice list's pages and sorts
    share it): one look-up of the invoices' revision (unless given), and the GROUP BY on a miss."""
    return cached(invoices, totals_by_currency, revision_now=revision_now)


def totals_by_currency(invoices: QuerySet[Invoice]) -> list[dict]:
    """Per currency: how many invoices, gross, paid and outstanding (open invoices only), in one query."""
    return list(
        invoices.order_by()
        .values("currency")
        .annotate(
            count=Count("pk"),
            gross=Coalesce(Sum("gross_amount"), ZERO),
            paid=Coalesce(Sum("paid_amount"), ZERO),
            outstanding=Coalesce(Sum(OUTSTANDING, filter=Q(status__in=OPEN_STATUSES)), ZERO),
        )
        .order_by("currency")
    )


def bucket_of(days_past_due: int) -> str:
    for bucket in BUCKETS:
        above_low = bucket.low is None or days_past_due >= bucket.low
        if above_low and (bucket.high is None or days_past_due <= bucket.high):
            return bucket.key
    raise AssertionError(days_past_due)


def bucket_filter(key: str, today: date) -> Q:
    """The open invoices in one aging bucket on ``today`` (by due date, so the index on it serves)."""
    bucket = next(bucket for bucket in BUCKETS if bucket.key == key)
    condition = Q()
    if bucket.low is not None:
        condition &= Q(due_date__lte=today - timedelta(days=bucket.low))
    if bucket.high is not None:
        condition &= Q(due_date__gte=today - timedelta(days=bucket.high))
    return condition


def aging_rows(invoices: QuerySet[Invoice], *, by: str = "client", today: date | None = None) -> QuerySet:
    """The aging's GROUP BY as a queryset, largest total first: count it, or slice a page of it, in SQL. Its rows
    are the database's; ``aging_row`` shapes each one."""
    if by not in AGING_DIMENSIONS:
        raise ValueError(f"aging by {by!r}: choose one of {', '.join(AGING_DIMENSIONS)}")
    today = today or timezone.localdate()
    key, label = AGING_DIMENSIONS[by]
    group = [name for name in (key, label) if name] + ["currency"]
    sums = {bucket.key: Coalesce(Sum(OUTSTANDING, filter=bucket_filter(bucket.key, today)), ZERO) for bucket in BUCKETS}
    return (
        invoices.filter(status__in=OPEN_STATUSES)
        .order_by()
        .values(*group)
        .annotate(**sums, total=Coalesce(Sum(OUTSTANDING), ZERO), invoices=Count("pk"))
        .order_by("-total", *group)
    )


def aging_row(row: dict, by: str) -> dict:
    """One row of ``aging_rows`` as the pages, the API and the CSV show it."""
    key, label = AGING_DIMENSIONS[by]
    return {
        **{bucket: row[bucket] for bucket in BUCKET_KEYS},
        "key": row[key] if key else row["currency"],
        "label": (row[label] or "") if label else row["currency"],
        "currency": row["currency"],
        "total": row["total"],
        "invoices": row["invoices"],
    }


def aging(invoices: QuerySet[Invoice], *, by: str = "client", today: date | None = None) -> list[dict]:
    """Outstanding gross per aging bucket, grouped by ``by`` (client, owner, team or currency) and currency.

    Each row: ``key`` (the group's id; None for clients without a team), ``label``, ``currency``, one amount per
    bucket key, ``total`` and ``invoices`` (how many open invoices). Largest total first. One query. Every row:
    a page of them is ``aging_page``.
    """
    return [aging_row(row, by) for row in aging_rows(invoices, by=by, today=today)]


def aging_page(invoices: QuerySet[Invoice], *, by: str, today: date, number, per_page: int) -> Page:
    """One page of the aging (``number`` as a page's query string gives it) and how many rows there are, both
    from the billing cache while no invoice changes. Three queries on a miss: revision, count (the groups alone,
    without their sums or names), page."""
    key = AGING_DIMENSIONS[by][0]
    groups = invoices.filter(status__in=OPEN_STATUSES).order_by().values(*([key] if key else []), "currency")
    rows = aging_rows(invoices, by=by, today=today)
    paginator = CachedPaginator(rows, per_page, cache_pages=True, count_of=groups.distinct())
    page = paginator.get_page(number)
    page.object_list = [aging_row(row, by) for row in page.object_list]
    return page


def aging_totals(invoices: QuerySet[Invoice], *, today: date | None = None) -> list[dict]:
    """The aging of all ``invoices``, one row per currency."""
    return aging(invoices, by="currency", today=today)


def cached_aging_totals(invoices: QuerySet[Invoice], *, today: date, revision_now: str | None = None) -> list[dict]:
    """``aging_totals`` from the billing cache while no invoice changes."""
    rows = aging_rows(invoices, by="currency", today=today)
    return cached(rows, lambda rows: [aging_row(row, "currency") for row in rows], revision_now=revision_now)


@dataclass
class StatementLine:
    day: date
    kind: str  # "invoice" or "payment"
    reference: str
    description: str
    debit: Decimal
    credit: Decimal
    balance: Decimal = Decimal("0")
    due_date: date | None = None
    invoice_id: int | None = None


@dataclass
class Statement:
    client: Client
    currency: str
    start: date
    end: date
    opening_balance: Decimal
    lines: list[StatementLine] = field(default_factory=list)
    closing_balance: Decimal = Decimal("0")
    overdue: Decimal = Decimal("0")


def statement_currencies(client: Client) -> list[str]:
    return sorted(
        set(
            Invoice.objects.filter(client=client)
            .exclude(status=InvoiceStatus.DRAFT)
            .values_list("currency", flat=True)
            .distinct()
        )
    )


def client_statement(*, client: Client, currency: str, start: date, end: date) -> Statement:
    """A client's statement of account in one currency: opening balance on ``start``, the invoices issued and the
    payments received from ``start`` to ``end`` with a running balance, the closing balance and what of it is
    overdue on ``end`` (payments after ``end`` do not count). Void invoices never count; a written-off invoice
    leaves the balance on its write-off date. Three queries whatever the size."""
    invoices = Invoice.objects.filter(client=client, currency=currency).exclude(
        status__in=(InvoiceStatus.DRAFT, InvoiceStatus.VOID)
    )
    figures = _statement_figures(invoices, start, end)
    written_off = Q(status=InvoiceStatus.WRITTEN_OFF, closed_on__range=(start, end))
    lines = []
    for invoice in invoices.filter(Q(issue_date__range=(start, end)) | written_off):
        if start <= invoice.issue_date <= end:
            lines.append(_invoice_line(invoice))
        if invoice.status == InvoiceStatus.WRITTEN_OFF and start <= invoice.closed_on <= end:
            lines.append(_write_off_line(invoice))
    payments = Payment.objects.filter(invoice__in=invoices, received_on__range=(start, end)).select_related("invoice")
    lines += [_payment_line(payment) for payment in payments]
    lines.sort(key=lambda line: (line.day, line.kind != "invoice", line.reference))
    balance = figures["opening"]
    for line in lines:
        balance += line.debit - line.credit
        line.balance = balance
    return Statement(
        client=client,
        currency=currency,
        start=start,
        end=end,
        opening_balance=figures["opening"],
        lines=lines,
        closing_balance=balance,
        overdue=figures["overdue"],
    )


def _paid(**received_on) -> Coalesce:
    """Per invoice, the payments received in a span of days (``received_on__lt=...``), in a subquery."""
    paid = (
        Payment.objects.filter(invoice=OuterRef("pk"), **received_on)
        .order_by()
        .values("invoice")
        .annotate(total=Sum("amount"))
        .values("total")
    )
    return Coalesce(Subquery(paid, output_field=MONEY), ZERO)


def _statement_figures(invoices: QuerySet[Invoice], start: date, end: date) -> dict[str, Decimal]:
    """The opening balance on ``start`` and the part of the balance overdue on ``end``, in one query."""
    figures = invoices.annotate(paid_before_start=_paid(received_on__lt=start), paid_by_end=_paid(received_on__lte=end))
    figures = figures.aggregate(
        owed=Coalesce(Sum("gross_amount", filter=Q(issue_date__lt=start)), ZERO),
        paid=Coalesce(Sum("paid_before_start", filter=Q(issue_date__lt=start)), ZERO),
        written_off=Coalesce(Sum(OUTSTANDING, filter=Q(status=InvoiceStatus.WRITTEN_OFF, closed_on__lt=start)), ZERO),
        overdue=Coalesce(
            Sum(
                ExpressionWrapper(F("gross_amount") - F("paid_by_end"), output_field=MONEY),
                filter=Q(due_date__lt=end) & ~Q(status=InvoiceStatus.WRITTEN_OFF, closed_on__lte=end),
            ),
            ZERO,
        ),
    )
    return {"opening": figures["owed"] - figures["paid"] - figures["written_off"], "overdue": figures["overdue"]}


def _invoice_line(invoice: Invoice) -> StatementLine:
    return StatementLine(
        day=invoice.issue_date,
        kind="invoice",
        reference=invoice.number,
        description=invoice.description,
        debit=invoice.gross_amount,
        credit=Decimal("0"),
        due_date=invoice.due_date,
        invoice_id=invoice.pk,
    )


def _write_off_line(invoice: Invoice) -> StatementLine:
    return StatementLine(
        day=invoice.closed_on,
        kind="write_off",
        reference=invoice.number,
        description=_("Written off"),
        debit=Decimal("0"),
        credit=invoice.gross_amount - invoice.paid_amount,
        invoice_id=invoice.pk,
    )


def _payment_line(payment: Payment) -> StatementLine:
    return StatementLine(
        day=payment.received_on,
        kind="payment",
        reference=payment.reference or payment.invoice.number,
        description=_("Payment for %(number)s") % {"number": payment.invoice.number},
        debit=Decimal("0"),
        credit=payment.amount,
        invoice_id=payment.invoice_id,
    )


def payment_delay_days(today: date | None = None):
    """Per invoice, how late it was paid (paid invoices), is so far (open ones past due) or was when written off;
    else NULL."""
    today = today or timezone.localdate()
    late = ExpressionWrapper(F("paid_on") - F("due_date"), output_field=DurationField())
    so_far = ExpressionWrapper(Value(today) - F("due_date"), output_field=DurationField())
    written_off_late = ExpressionWrapper(F("closed_on") - F("due_date"), output_field=DurationField())
    return Case(
        When(status=InvoiceStatus.PAID, paid_on__gt=F("due_date"), then=late),
        When(status=InvoiceStatus.PAID, then=Value(timedelta(0))),
        When(status__in=OPEN_STATUSES, due_date__lt=today, then=so_far),
        # Never paid: late until the day it was written off (a write-off must not improve the rating).
        When(status=InvoiceStatus.WRITTEN_OFF, closed_on__gt=F("due_date"), then=written_off_late),
        default=None,
        output_field=DurationField(),
    )


def with_payment_delay(clients: QuerySet[Client], today: date | None = None) -> QuerySet[Client]:
    """Annotate ``average_payment_delay`` (a timedelta, None without a paid or overdue invoice), in SQL."""
    delays = (
        Invoice.objects.filter(client=OuterRef("pk"))
        .order_by()
        .values("client")
        .annotate(delay=Avg(payment_delay_days(today)))
        .values("delay")
    )
    return clients.annotate(average_payment_delay=Subquery(delays, output_field=DurationField()))


def rating_for(delay: timedelta | None) -> str | None:
    """A–D from the average payment delay: ≤ 30, ≤ 60, ≤ 90, > 90 days; None without history."""
    if delay is None:
        return None
    days = delay.total_seconds() / 86400
    return next((rating for rating, limit in RATINGS if days <= limit), "D")


def client_payment_rating(client: Client, today: date | None = None) -> tuple[str | None, timedelta | None]:
    delay = with_payment_delay(Client.objects.filter(pk=client.pk), today).values_list(
        "average_payment_delay", flat=True
    )[0]
    return rating_for(delay), delay


def _payment_name(payment: Payment) -> str:
    received = date_format(payment.received_on, "SHORT_DATE_FORMAT")
    return f"{received} · {payment.reference}" if payment.reference else received


def invoice_history_sources(*, invoice: Invoice) -> list[HistorySource]:
    """What an invoice's history shows: its own changes and its payments' (which have no page of their own)."""
    return [
        HistorySource(Invoice, Q(id=invoice.pk), currency="currency"),
        HistorySource(
            Payment,
            Q(invoice_id=invoice.pk),
            label=gettext("Payment"),
            currency="invoice.currency",
            describe=_payment_name,
        ),
    ]
