"""Proposals: a client brief turned into priced line items, approved when the discount is large, sent as a PDF and
accepted or declined by the client through a signed link."""

from decimal import Decimal

from django.conf import settings
from django.core.files.storage import storages
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from accounts.permissions import VisibleQuerySet, has_role, sees_everything
from clients.models import Client, Contact, Department, Request
from contracts.models import Contract, reasonable_date
from core.history import AuditHistory
from core.models import TimeStampedModel
from core.money import Currency, money_field


def documents_storage():
    return storages["documents"]


class ProposalStatus(models.TextChoices):
    DRAFT = "draft", pgettext_lazy("proposal status", "Draft")
    PENDING_APPROVAL = "pending_approval", _("Awaiting approval")
    APPROVED = "approved", _("Approved")
    SENT = "sent", _("Sent")
    ACCEPTED = "accepted", _("Accepted")
    DECLINED = "declined", _("Declined")
    EXPIRED = "expired", _("Expired")
    SUPERSEDED = "superseded", _("Superseded")


# The AM may change the content only in these; pending approval locks it, sending freezes it.
EDITABLE_STATUSES = (ProposalStatus.DRAFT, ProposalStatus.APPROVED)
FINAL_STATUSES = (
    ProposalStatus.ACCEPTED,
    ProposalStatus.DECLINED,
    ProposalStatus.EXPIRED,
    ProposalStatus.SUPERSEDED,
)


class Unit(models.TextChoices):
    HOUR = "hour", _("hour")
    DAY = "day", _("day")
    MONTH = "month", _("month")
    ITEM = "item", _("item")
    PACKAGE = "package", _("package")
    POST = "post", _("post")
    VIDEO = "video", _("video")
    EVENT = "event", _("event")


class ProposalQuerySet(VisibleQuerySet):
    """Directors, admins and finance: all. Others: proposals of clients they may open, and the ones they own."""

    def visible_to(self, user) -> "ProposalQuerySet":
        if not user.is_authenticated or not user.is_active:
            return self.none()
        if sees_everything(user) or has_role(user, "finance"):
            return self.all()
        return self.filter(Q(client__in=Client.objects.detailed_for(user).values("pk")) | Q(owner=user))

    def editable_by(self, user) -> "ProposalQuerySet":
        """The proposal's owner, the client's owner, and directors."""
        if not user.is_authenticated or not user.is_active:
            return self.none()
        if sees_everything(user):
            return self.all()
        if has_role(user, "account_manager", "sales"):
            return self.filter(Q(owner=user) | Q(client__owner=user))
        return self.none()


class Proposal(TimeStampedModel):
    """One version of a proposal. Versions share the number; a new one copies the last and supersedes it."""

    client = models.ForeignKey(Client, verbose_name=_("client"), on_delete=models.PROTECT, related_name="proposals")
    contract = models.ForeignKey(
        Contract,
        verbose_name=_("deal"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="proposals",
        help_text=_("The deal this proposal serves; accepting it moves the deal to awaiting signature."),
    )
    brief = models.ForeignKey(
        Request,
        verbose_name=_("brief"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="proposals",
    )
    recipient = models.ForeignKey(
        Contact,
        verbose_name=_("send to"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="proposals_received",
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("owner"), on_delete=models.PROTECT, related_name="proposals"
    )
    number = models.CharField(_("number"), max_length=20, editable=False)
    version = models.PositiveSmallIntegerField(_("version"), default=1, editable=False)
    previous = models.OneToOneField(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="next_version", editable=False
    )
    title = models.CharField(_("title"), max_length=200)
    language = models.CharField(
        _("language"), max_length=10, choices=settings.LANGUAGES, default="vi", help_text=_("Of the PDF and the link.")
    )
    currency = models.CharField(_("currency"), max_length=3, choices=Currency.choices, default=Currency.VND)
    vat_rate = models.PositiveSmallIntegerField(
        _("VAT rate (%)"), default=10, choices=[(10, "10 %"), (8, "8 %"), (5, "5 %"), (0, "0 %")]
    )
    valid_until = models.DateField(_("valid until"), validators=[reasonable_date])
    objectives = models.TextField(_("objectives"), blank=True)
    scope = models.TextField(_("scope"), blank=True)
    terms = models.TextField(_("terms"), blank=True)
    status = models.CharField(
        _("status"), max_length=20, choices=ProposalStatus.choices, default=ProposalStatus.DRAFT, editable=False
    )
    # Totals are computed by proposals.totals and stored when lines change, so lists and search never recompute.
    subtotal = money_field(_("subtotal"), editable=False)
    discount_amount = money_field(_("discount"), editable=False)
    net_amount = money_field(_("net"), editable=False)
    vat_amount = money_field(_("VAT"), editable=False)
    total = money_field(_("total"), editable=False)
    discount_percent = models.DecimalField(
        _("discount (%)"), max_digits=7, decimal_places=2, default=Decimal("0"), editable=False
    )
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+", editable=False
    )
    approved_at = models.DateTimeField(_("approved"), null=True, blank=True, editable=False)
    approved_discount = models.DecimalField(max_digits=7, decimal_places=2, null=True, blank=True, editable=False)
    sent_at = models.DateTimeField(_("sent"), null=True, blank=True, editable=False)
    # The client's side, recorded from the public link.
    token_nonce = models.CharField(max_length=32, blank=True, editable=False)
    first_viewed_at = models.DateTimeField(_("first viewed"), null=True, blank=True, editable=False)
    decided_at = models.DateTimeField(_("answered"), null=True, blank=True, editable=False)
    decided_by_name = models.CharField(_("answered by"), max_length=150, blank=True, editable=False)
    decline_reason = models.TextField(_("reason declined"), blank=True, editable=False)
    decided_ip = models.GenericIPAddressField(null=True, blank=True, editable=False)
    decided_user_agent = models.CharField(max_length=400, blank=True, editable=False)
    # The PDF: rendered by the worker when sent or changed, kept while the content hash stays the same.
    pdf = models.FileField(upload_to="proposals/%Y/%m/", blank=True, storage=documents_storage, editable=False)
    pdf_hash = models.CharField(max_length=64, blank=True, editable=False)
    pdf_requested_hash = models.CharField(max_length=64, blank=True, editable=False)
    pdf_error = models.TextField(blank=True, editable=False)
    revision = models.PositiveIntegerField(default=1, editable=False)  # optimistic lock for concurrent edits

    objects = ProposalQuerySet.as_manager()
    # The PDF's file, hashes and last error (rendering, not a change), the link's nonce, the browser string of
    # the answer, and the lock counter.
    history = AuditHistory(
        excluded_fields=[
            "pdf",
            "pdf_hash",
            "pdf_requested_hash",
            "pdf_error",
            "token_nonce",
            "decided_user_agent",
            "revision",
        ]
    )

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("proposal")
        verbose_name_plural = _("proposals")
        constraints = [
            models.UniqueConstraint(fields=["number", "version"], name="proposal_number_version_unique"),
            models.CheckConstraint(condition=Q(total__gte=0), name="proposal_total_not_negative"),
            models.CheckConstraint(condition=Q(vat_rate__in=[10, 8, 5, 0]), name="proposal_vat_rate_allowed"),
        ]
        indexes = [
            models.Index(fields=["status", "valid_until"]),
            models.Index(fields=["client", "-created_at"]),
            models.Index(fields=["owner", "status"]),
        ]

    def __str__(self) -> str:
        return f"{self.number} v{self.version} · {self.title}"

    def get_absolute_url(self) -> str:
        return reverse("proposals:detail", args=[self.pk])

    @property
    def is_editable(self) -> bool:
        return self.status in EDITABLE_STATUSES


class ProposalNumber(models.Model):
    """The last proposal number used in a year, locked while the next one is taken."""

    year = models.PositiveSmallIntegerField(primary_key=True)
    last = models.PositiveIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.year}: {self.last}"


class LineItem(models.Model):
    proposal = models.ForeignKey(Proposal, on_delete=models.CASCADE, related_name="lines")
    order = models.PositiveSmallIntegerField(_("order"), default=1)
    description = models.CharField(_("description"), max_length=300)
    department = models.ForeignKey(
        Department, verbose_name=_("department"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    quantity = models.DecimalField(
        _("quantity"),
        max_digits=12,
        decimal_places=2,
        default=Decimal("1"),
        validators=[MinValueValidator(Decimal("0.01")), MaxValueValidator(Decimal("1000000"))],
    )
    unit = models.CharField(_("unit"), max_length=10, choices=Unit.choices, default=Unit.ITEM)
    unit_price = money_field(
        _("unit price"), validators=[MinValueValidator(Decimal("0")), MaxValueValidator(Decimal("1e15"))]
    )
    discount_percent = models.DecimalField(
        _("discount (%)"),
        max_digits=5,
        decimal_places=2,
        default=Decimal("0"),
        validators=[MinValueValidator(Decimal("0")), MaxValueValidator(Decimal("100"))],
    )

    class Meta:
        ordering = ["order", "id"]
        verbose_name = _("line item")
        verbose_name_plural = _("line items")
        constraints = [
            models.CheckConstraint(condition=Q(quantity__gt=0), name="line_quantity_positive"),
            models.CheckConstraint(condition=Q(unit_price__gte=0), name="line_price_not_negative"),
            models.CheckConstraint(
                condition=Q(discount_percent__gte=0, discount_percent__lte=100), name="line_discount_in_range"
            ),
        ]

    def __str__(self) -> str:
        return self.description


class RateCardItem(TimeStampedModel):
    """A service a department sells, its unit and default price: the starting point of proposal lines."""

    department = models.ForeignKey(
        Department, verbose_name=_("department"), on_delete=models.PROTECT, related_name="rate_card"
    )
    service = models.CharField(_("service"), max_length=200)
    unit = models.CharField(_("unit"), max_length=10, choices=Unit.choices, default=Unit.ITEM)
    currency = models.CharField(_("currency"), max_length=3, choices=Currency.choices, default=Currency.VND)
    price = money_field(_("default price"), validators=[MinValueValidator(Decimal("0"))])
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["department__name", "service"]
        verbose_name = _("rate card item")
        verbose_name_plural = _("rate card")
        constraints = [
            models.UniqueConstraint(fields=["department", "service", "unit", "currency"], name="rate_card_unique")
        ]

    def __str__(self) -> str:
        return f"{self.department} · {self.service}"


class ProposalEventKind(models.TextChoices):
    CREATED = "created", _("Created")
    SUBMITTED = "submitted", _("Sent for approval")
    APPROVED = "approved", _("Approved")
    RETURNED = "returned", _("Returned")
    SENT = "sent", _("Sent to the client")
    VIEWED = "viewed", _("Opened by the client")
    ACCEPTED = "accepted", _("Accepted")
    DECLINED = "declined", _("Declined")
    EXPIRED = "expired", _("Expired")
    NEW_VERSION = "new_version", _("New version")


class ProposalEvent(models.Model):
    """The proposal's history: who did what and when (the client's actions have no actor)."""

    proposal = models.ForeignKey(Proposal, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(max_length=20, choices=ProposalEventKind.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    note = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["proposal", "-created_at"])]

    def __str__(self) -> str:
        return f"{self.proposal_id}: {self.kind}"
