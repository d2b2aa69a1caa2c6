"""Billing and debt collection: invoices from contracts, payments, and the follow-ups that collect them."""

from datetime import date
from decimal import Decimal

from django.conf import settings
from django.core.files.storage import storages
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.db.models.functions import Round
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from accounts.permissions import VisibleQuerySet, has_role, sees_everything
from clients.models import Client, Contact
from core.history import AuditHistory
from core.models import TimeStampedModel
from core.money import Currency, money_field

from .deals import Contract, Phase, reasonable_date


class InvoiceStatus(models.TextChoices):
    DRAFT = "draft", pgettext_lazy("invoice status", "Draft")
    ISSUED = "issued", _("Issued")
    PARTIALLY_PAID = "partially_paid", _("Partially paid")
    PAID = "paid", _("Paid")
    VOID = "void", _("Void")
    WRITTEN_OFF = "written_off", _("Written off")


# Invoices the client still owes on: aging, follow-ups and the statement's balance count these.
OPEN_STATUSES = (InvoiceStatus.ISSUED, InvoiceStatus.PARTIALLY_PAID)
# Invoices that were sent to the client and count in revenue (a void one never happened).
ISSUED_STATUSES = (
    InvoiceStatus.ISSUED,
    InvoiceStatus.PARTIALLY_PAID,
    InvoiceStatus.PAID,
    InvoiceStatus.WRITTEN_OFF,
)


class VatRate(models.IntegerChoices):
    STANDARD = 10, _("10 % (standard)")
    REDUCED_8 = 8, "8 %"
    REDUCED_5 = 5, "5 %"
    ZERO = 0, "0 %"


class InvoiceQuerySet(VisibleQuerySet):
    """Finance, directors and admins see every invoice; others the invoices of clients they may open, and of the
    contracts they own."""

    def visible_to(self, user) -> "InvoiceQuerySet":
        if not user.is_authenticated or not user.is_active:
            return self.none()
        if sees_everything(user) or has_role(user, "finance"):
            return self.all()
        # Two hashed look-ups on the invoice's own columns, no join: PostgreSQL then walks an index in the list's
        # order and stops at a page, where an OR across the contract's join made it sort every visible invoice.
        clients = Client.objects.detailed_for(user).values("pk")
        own_deals = Contract.objects.filter(owner=user).values("pk")
        return self.filter(Q(client__in=clients) | Q(contract__in=own_deals))

    def open(self) -> "InvoiceQuerySet":
        return self.filter(status__in=OPEN_STATUSES)

    def overdue(self, today: date | None = None) -> "InvoiceQuerySet":
        return self.open().filter(due_date__lt=today or timezone.localdate())


class Invoice(TimeStampedModel):
    """What a client owes for a contract: net, VAT and gross in the contract's currency, and what was paid."""

    contract = models.ForeignKey(
        Contract, verbose_name=_("contract"), on_delete=models.PROTECT, related_name="invoices"
    )
    # The contract's client, kept on the invoice: aging, statements and follow-ups group by it.
    client = models.ForeignKey(
        Client, verbose_name=_("client"), on_delete=models.PROTECT, related_name="invoices", editable=False
    )
    phase = models.ForeignKey(
        Phase, verbose_name=_("phase"), null=True, blank=True, on_delete=models.PROTECT, related_name="invoices"
    )
    # Set when the invoice is issued (INV-2026-00042): drafts have none, so issued numbers have no gaps.
    number = models.CharField(_("number"), max_length=20, unique=True, null=True, blank=True, editable=False)
    # "retainer:2026-11", "milestone:42", "one-off": the billing schedule's item, created at most once.
    schedule_key = models.CharField(max_length=40, blank=True, editable=False)
    description = models.CharField(_("description"), max_length=200)
    issue_date = models.DateField(_("issue date"), default=timezone.localdate, validators=[reasonable_date])
    due_date = models.DateField(_("due date"), validators=[reasonable_date])
    currency = models.CharField(_("currency"), max_length=3, choices=Currency.choices, editable=False)
    net_amount = money_field(_("net amount"), validators=[MinValueValidator(Decimal("0.01"))])
    vat_rate = models.PositiveSmallIntegerField(_("VAT rate"), choices=VatRate.choices, default=VatRate.STANDARD)
    vat_amount = money_field(_("VAT"), editable=False)
    gross_amount = money_field(_("gross amount"), editable=False)
    paid_amount = money_field(_("paid"), editable=False)
    paid_on = models.DateField(_("paid in full on"), null=True, blank=True, editable=False)
    status = models.CharField(
        _("status"), max_length=15, choices=InvoiceStatus.choices, default=InvoiceStatus.DRAFT, editable=False
    )
    issued_at = models.DateTimeField(_("issued"), null=True, blank=True, editable=False)
    closed_on = models.DateField(_("voided or written off on"), null=True, blank=True, editable=False)
    close_reason = models.TextField(_("reason"), blank=True, editable=False)
    disputed = models.BooleanField(_("disputed"), default=False, editable=False)
    dispute_note = models.TextField(_("dispute"), blank=True, editable=False)
    promise_to_pay = models.DateField(
        _("promise to pay by"), null=True, blank=True, editable=False, validators=[reasonable_date]
    )
    followups_paused = models.BooleanField(_("follow-ups paused"), default=False, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+", editable=False
    )
    version = models.PositiveIntegerField(default=1, editable=False)

    objects = InvoiceQuerySet.as_manager()
    # The billing schedule's internal key and the lock counter.
    history = AuditHistory(excluded_fields=["schedule_key", "version"])

    class Meta:
        ordering = ["-issue_date", "-id"]
        verbose_name = _("invoice")
        verbose_name_plural = _("invoices")
        constraints = [
            models.CheckConstraint(condition=Q(net_amount__gt=0), name="invoice_net_positive"),
            models.CheckConstraint(condition=Q(vat_rate__in=[10, 8, 5, 0]), name="invoice_vat_rate_allowed"),
            models.CheckConstraint(
                # Rounded: SQLite keeps decimals as floats, where 333.33 + 33.33 is not exactly 366.66.
                condition=Q(gross_amount=Round(F("net_amount") + F("vat_amount"), 2)),
                name="invoice_gross_is_net_plus_vat",
            ),
            models.CheckConstraint(
                condition=Q(paid_amount__gte=0, paid_amount__lte=F("gross_amount")), name="invoice_not_overpaid"
            ),
            models.CheckConstraint(
                condition=Q(due_date__gte=F("issue_date")),
                name="invoice_due_after_issue",
                violation_error_message=_("The due date comes before the issue date."),
            ),
            models.CheckConstraint(
                condition=Q(status="draft") | Q(number__isnull=False), name="invoice_issued_has_number"
            ),
            models.UniqueConstraint(
                fields=["contract", "schedule_key"], condition=~Q(schedule_key=""), name="invoice_schedule_once"
            ),
        ]
        indexes = [
            models.Index(fields=["status", "due_date"]),
            models.Index(fields=["client", "status", "due_date"]),
            models.Index(fields=["contract", "issue_date"]),
            # The list's default order (newest first) read straight off the index, a page at a time.
            models.Index(fields=["issue_date", "id"], name="invoice_issue_date_id"),
            models.Index(fields=["paid_on"]),
            models.Index(
                fields=["due_date", "id"], condition=Q(status__in=["issued", "partially_paid"]), name="invoice_open"
            ),
            # The client health score's overdue-receivables rule (contracts.billing.health): the clients with an open
            # invoice due before a date, read from the index alone.
            models.Index(
                fields=["due_date", "client"],
                condition=Q(status__in=["issued", "partially_paid"]),
                name="invoice_open_client",
            ),
            # Looking a number up by its beginning (?q=INV-2026-0012), whatever the database's collation.
            models.Index(fields=["number"], opclasses=["varchar_pattern_ops"], name="invoice_number_prefix"),
            # The cached aggregates' revision (contracts.billing.cache): the latest change, one index look-up.
            models.Index(fields=["updated_at"], name="invoice_updated_at"),
            # The collections board's side lists: promises due and disputes among the open invoices.
            models.Index(
                fields=["promise_to_pay", "due_date"],
                condition=Q(status__in=["issued", "partially_paid"], promise_to_pay__isnull=False),
                name="invoice_open_promised",
            ),
            models.Index(
                fields=["due_date", "id"],
                condition=Q(status__in=["issued", "partially_paid"], disputed=True),
                name="invoice_open_disputed",
            ),
        ]

    def __str__(self) -> str:
        return self.number or _("Draft invoice %(id)s") % {"id": self.pk}

    def get_absolute_url(self) -> str:
        return reverse("contracts:invoice_detail", args=[self.pk])

    @property
    def outstanding(self) -> Decimal:
        return self.gross_amount - self.paid_amount if self.status in OPEN_STATUSES else Decimal("0")

    def days_overdue(self, today: date | None = None) -> int:
        return max(((today or timezone.localdate()) - self.due_date).days, 0)


class InvoiceNumber(models.Model):
    """The last invoice number used in a year; locked while the next one is taken: no gaps, no repeats."""

    year = models.PositiveSmallIntegerField(primary_key=True)
    last = models.PositiveIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.year}: {self.last}"


class PaymentMethod(models.TextChoices):
    BANK_TRANSFER = "bank_transfer", _("Bank transfer")
    CASH = "cash", _("Cash")
    CARD = "card", _("Card")
    OTHER = "other", _("Other")


class PaymentQuerySet(VisibleQuerySet):
    """The payments of the invoices the user may see: every one for finance, directors and admins."""

    def visible_to(self, user) -> "PaymentQuerySet":
        if user.is_authenticated and user.is_active and (sees_everything(user) or has_role(user, "finance")):
            return self.all()
        return self.filter(invoice__in=Invoice.objects.visible_to(user).values("pk"))


class Payment(TimeStampedModel):
    """Money received against an invoice; several partial payments may settle one invoice, never more than it."""

    invoice = models.ForeignKey(Invoice, verbose_name=_("invoice"), on_delete=models.PROTECT, related_name="payments")
    amount = money_field(_("amount"), validators=[MinValueValidator(Decimal("0.01"))])
    received_on = models.DateField(_("received on"), default=timezone.localdate, validators=[reasonable_date])
    method = models.CharField(
        _("method"), max_length=15, choices=PaymentMethod.choices, default=PaymentMethod.BANK_TRANSFER
    )
    reference = models.CharField(_("reference"), max_length=100, blank=True)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")

    objects = PaymentQuerySet.as_manager()
    history = AuditHistory()

    class Meta:
        ordering = ["-received_on", "-id"]
        verbose_name = _("payment")
        verbose_name_plural = _("payments")
        constraints = [models.CheckConstraint(condition=Q(amount__gt=0), name="payment_amount_positive")]
        indexes = [
            models.Index(fields=["invoice", "received_on"]),
            # Latest first, a page at a time, straight off the index.
            models.Index(fields=["received_on", "id"], name="payment_received_on_id"),
        ]

    def __str__(self) -> str:
        return f"{self.invoice_id}: {self.amount}"


class WriteOffStatus(models.TextChoices):
    PENDING = "pending", _("Awaiting a director")
    APPROVED = "approved", _("Approved")
    REJECTED = "rejected", _("Rejected")


class WriteOffRequest(TimeStampedModel):
    """Finance asks to write an invoice off; only a director's approval writes it off."""

    invoice = models.ForeignKey(Invoice, on_delete=models.CASCADE, related_name="write_off_requests")
    reason = models.TextField(_("reason"))
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    status = models.CharField(max_length=10, choices=WriteOffStatus.choices, default=WriteOffStatus.PENDING)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_note = models.TextField(_("comment"), blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["invoice"], condition=Q(status="pending"), name="write_off_one_pending_per_invoice"
            )
        ]

    def __str__(self) -> str:
        return f"{self.invoice_id}: {self.status}"


class CollectionLevel(models.IntegerChoices):
    COURTESY = 0, _("L0 · courtesy reminder")
    DUE = 1, _("L1 · due today")
    OVERDUE = 2, _("L2 · 7 days overdue")
    FINAL = 3, _("L3 · final notice")
    ESCALATED = 4, _("L4 · escalated")


class CollectionNotice(models.Model):
    """The one follow-up e-mail a client gets on a day, listing its invoices and open balance."""

    client = models.ForeignKey(Client, on_delete=models.CASCADE, related_name="collection_notices")
    sent_on = models.DateField()
    level = models.PositiveSmallIntegerField(choices=CollectionLevel.choices)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-sent_on", "-id"]
        constraints = [models.UniqueConstraint(fields=["client", "sent_on"], name="collection_notice_once_a_day")]

    def __str__(self) -> str:
        return f"{self.client_id} on {self.sent_on}: L{self.level}"


class CollectionStep(models.Model):
    """A follow-up level reached by an invoice: each (invoice, level) at most once, ever."""

    invoice = models.ForeignKey(Invoice, on_delete=models.CASCADE, related_name="collection_steps")
    level = models.PositiveSmallIntegerField(_("level"), choices=CollectionLevel.choices)
    taken_on = models.DateField(_("date"))
    notice = models.ForeignKey(CollectionNotice, null=True, blank=True, on_delete=models.SET_NULL, related_name="steps")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["level"]
        verbose_name = _("follow-up")
        verbose_name_plural = _("follow-ups")
        constraints = [models.UniqueConstraint(fields=["invoice", "level"], name="collection_step_once")]

    def __str__(self) -> str:
        return f"{self.invoice_id}: L{self.level}"


class NoticeDelivery(models.Model):
    """One contact's copy of a follow-up e-mail: claimed by the mail task, so a redelivered task sends nothing."""

    notice = models.ForeignKey(CollectionNotice, on_delete=models.CASCADE, related_name="deliveries")
    contact = models.ForeignKey(Contact, on_delete=models.CASCADE, related_name="+")
    sent_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["notice", "contact"], name="notice_delivery_once")]

    def __str__(self) -> str:
        return f"{self.notice_id} to {self.contact_id}"


class CollectionPause(models.Model):
    """Follow-ups for all of a client's invoices are paused (an AM or finance decided so) until removed."""

    client = models.OneToOneField(Client, on_delete=models.CASCADE, related_name="collection_pause")
    paused_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    reason = models.TextField(_("reason"), blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"{self.client_id} paused"


class InvoiceEventKind(models.TextChoices):
    CREATED = "created", _("Created")
    ISSUED = "issued", _("Issued")
    PAYMENT = "payment", _("Payment recorded")
    VOIDED = "voided", _("Voided")
    WRITE_OFF_REQUESTED = "write_off_requested", _("Write-off requested")
    WRITE_OFF_APPROVED = "write_off_approved", _("Written off")
    WRITE_OFF_REJECTED = "write_off_rejected", _("Write-off rejected")
    DISPUTED = "disputed", _("Disputed")
    DISPUTE_RESOLVED = "dispute_resolved", _("Dispute resolved")
    PROMISE = "promise", _("Promise to pay")
    PAUSED = "paused", _("Follow-ups paused")
    RESUMED = "resumed", _("Follow-ups resumed")
    FOLLOW_UP = "follow_up", _("Follow-up")
    ESCALATED = "escalated", _("Escalated")


class InvoiceEvent(models.Model):
    """The invoice's log: who did what and when, follow-ups included (no actor for the sweep)."""

    invoice = models.ForeignKey(Invoice, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(max_length=20, choices=InvoiceEventKind.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    note = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["invoice", "-created_at"])]

    def __str__(self) -> str:
        return f"{self.invoice_id}: {self.kind}"


def documents_storage():
    return storages["documents"]


class DocumentStatus(models.TextChoices):
    PENDING = "pending", _("Being prepared")
    READY = "ready", _("Ready")
    FAILED = "failed", _("Failed")


class StatementDocument(models.Model):
    """A statement of account as a PDF, rendered by the worker and kept in the documents storage.

    One row per (client, currency, period, content hash): asking again for unchanged figures reuses the file.
    """

    client = models.ForeignKey(Client, on_delete=models.CASCADE, related_name="statement_documents")
    currency = models.CharField(max_length=3, choices=Currency.choices)
    start = models.DateField()
    end = models.DateField()
    language = models.CharField(max_length=10, default="vi")
    content_hash = models.CharField(max_length=64)
    status = models.CharField(max_length=10, choices=DocumentStatus.choices, default=DocumentStatus.PENDING)
    file = models.FileField(upload_to="statements/%Y/%m/", blank=True, storage=documents_storage)
    error = models.TextField(blank=True)
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    rendered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["client", "currency", "start", "end", "language", "content_hash"],
                name="statement_document_once_per_content",
            )
        ]

    def __str__(self) -> str:
        return f"{self.client_id} {self.currency} {self.start}–{self.end} ({self.status})"
