"""Contracts: the shared pipeline before signature, delivery in phases with budgets, and renewals."""

from datetime import date, datetime, timedelta
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from accounts.permissions import VisibleQuerySet, has_role, sees_everything
from clients.models import Client, own_or_team
from core.history import AuditHistory
from core.models import TimeStampedModel
from core.money import Currency, money_field


def reasonable_date(value) -> None:
    """Dates between 2000 and 2100: a typo like 0202 or 20266 is an error on the form, not a crash later."""
    day = value.date() if isinstance(value, datetime) else value
    if not date(2000, 1, 1) <= day <= date(2100, 12, 31):
        raise ValidationError(_("Enter a date between 2000 and 2100."), code="date_out_of_range")


class Stage(models.TextChoices):
    DRAFT = "draft", _("Draft")
    NEGOTIATION = "negotiation", _("Negotiation")
    AWAITING_SIGNATURE = "awaiting_signature", _("Awaiting signature")
    ACTIVE = "active", pgettext_lazy("contract stage", "Active")
    RENEWED = "renewed", _("Renewed")
    EXPIRED = "expired", _("Expired")
    TERMINATED = "terminated", _("Terminated")
    LOST = "lost", _("Lost")


PIPELINE_STAGES = [Stage.DRAFT, Stage.NEGOTIATION, Stage.AWAITING_SIGNATURE]
ENDED_STAGES = [Stage.RENEWED, Stage.EXPIRED, Stage.TERMINATED, Stage.LOST]
DEFAULT_PROBABILITY = {
    Stage.DRAFT: 10,
    Stage.NEGOTIATION: 40,
    Stage.AWAITING_SIGNATURE: 80,
    Stage.ACTIVE: 100,
    Stage.RENEWED: 100,
    Stage.EXPIRED: 100,
    Stage.TERMINATED: 100,
    Stage.LOST: 0,
}


class ContractKind(models.TextChoices):
    NEW_BUSINESS = "new_business", _("New business")
    UPSELL = "upsell", _("Upsell")
    RENEWAL = "renewal", _("Renewal")


class BillingSchedule(models.TextChoices):
    ONE_OFF = "one_off", _("One-off")
    MONTHLY_RETAINER = "monthly_retainer", _("Monthly retainer")
    MILESTONES = "milestones", _("Milestones")


class ContractQuerySet(VisibleQuerySet):
    """Who sees which contract: the one place that decides it (DOMAIN.md, Roles)."""

    def visible_to(self, user) -> "ContractQuerySet":
        """Directors, admins and finance: all. Sales: the whole pipeline before signature and what they own.
        Account managers: contracts of the clients they may open, and what they own."""
        if not user.is_authenticated or not user.is_active:
            return self.none()
        if sees_everything(user) or has_role(user, "finance"):
            return self.all()
        if has_role(user, "sales"):
            return self.filter(Q(stage__in=PIPELINE_STAGES) | Q(owner=user) | Q(client__owner=user))
        # The clients they may open (Client.objects.detailed_for: own and team), as joins on the contract's client.
        return self.filter(own_or_team(user, "client__") | Q(owner=user))

    def editable_by(self, user) -> "ContractQuerySet":
        """The deal's owner, the client's owner, and directors."""
        if not user.is_authenticated or not user.is_active:
            return self.none()
        if sees_everything(user):
            return self.all()
        if has_role(user, "account_manager", "sales"):
            return self.filter(Q(owner=user) | Q(client__owner=user))
        return self.none()

    def pipeline(self):
        return self.filter(stage__in=PIPELINE_STAGES)

    def active(self):
        return self.filter(stage=Stage.ACTIVE)

    def expiring(self, today: date | None = None, within_days: int = 90):
        """Active contracts whose notice deadline (end date − notice days) falls within ``within_days``."""
        today = today or timezone.localdate()
        return self.active().filter(
            notice_deadline__gte=today, notice_deadline__lte=today + timedelta(days=within_days)
        )


class Contract(TimeStampedModel):
    """A deal with a client, from draft through signature to its end or renewal."""

    client = models.ForeignKey(Client, verbose_name=_("client"), on_delete=models.PROTECT, related_name="contracts")
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("owner"), on_delete=models.PROTECT, related_name="contracts"
    )
    number = models.CharField(_("number"), max_length=20, unique=True, editable=False)
    title = models.CharField(_("title"), max_length=200)
    kind = models.CharField(_("kind"), max_length=15, choices=ContractKind.choices, default=ContractKind.NEW_BUSINESS)
    stage = models.CharField(_("stage"), max_length=20, choices=Stage.choices, default=Stage.DRAFT, editable=False)
    stage_changed_at = models.DateTimeField(_("in this stage since"), default=timezone.now, editable=False)
    value = money_field(_("value"), validators=[MinValueValidator(Decimal("0"))])
    currency = models.CharField(_("currency"), max_length=3, choices=Currency.choices, default=Currency.VND)
    budget = money_field(
        _("planned budget"),
        validators=[MinValueValidator(Decimal("0"))],
        help_text=_("What delivering the contract may cost; costs are compared with it."),
    )
    billing_schedule = models.CharField(
        _("billing schedule"), max_length=20, choices=BillingSchedule.choices, default=BillingSchedule.ONE_OFF
    )
    payment_terms_days = models.PositiveSmallIntegerField(
        _("payment terms (days)"), default=30, validators=[MaxValueValidator(365)]
    )
    probability = models.PositiveSmallIntegerField(
        _("probability (%)"), default=10, validators=[MaxValueValidator(100)], editable=False
    )
    expected_close = models.DateField(_("expected close"), null=True, blank=True, validators=[reasonable_date])
    signed_at = models.DateTimeField(_("signed"), null=True, blank=True, validators=[reasonable_date])
    start_date = models.DateField(_("start"), null=True, blank=True, validators=[reasonable_date])
    end_date = models.DateField(_("end"), null=True, blank=True, validators=[reasonable_date])
    auto_renew = models.BooleanField(_("renews automatically"), default=False)
    notice_days = models.PositiveSmallIntegerField(
        _("notice period (days)"), default=30, validators=[MaxValueValidator(365)]
    )
    notice_deadline = models.DateField(_("notice deadline"), null=True, blank=True, editable=False)
    renewal_of = models.OneToOneField(
        "self",
        verbose_name=_("renews"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="successor",
        editable=False,
    )
    lost_reason = models.TextField(_("reason lost"), blank=True, editable=False)
    scope = models.TextField(_("scope"), blank=True)
    version = models.PositiveIntegerField(default=1, editable=False)

    objects = ContractQuerySet.as_manager()
    # Derived from fields the history keeps (the stage's date is in the stage changes, the notice deadline comes
    # from the end and the notice period), and the lock counter.
    history = AuditHistory(excluded_fields=["stage_changed_at", "notice_deadline", "version"])

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("contract")
        verbose_name_plural = _("contracts")
        constraints = [
            models.CheckConstraint(condition=Q(value__gte=0), name="contract_value_not_negative"),
            models.CheckConstraint(condition=Q(budget__gte=0), name="contract_budget_not_negative"),
            models.CheckConstraint(
                condition=Q(end_date__isnull=True)
                | Q(start_date__isnull=True)
                | Q(end_date__gte=models.F("start_date")),
                name="contract_ends_after_it_starts",
                violation_error_message=_("The end comes before the start."),
            ),
            models.CheckConstraint(
                condition=~Q(stage="active")
                | Q(signed_at__isnull=False, start_date__isnull=False, end_date__isnull=False),
                name="contract_active_has_dates",
            ),
        ]
        indexes = [
            models.Index(fields=["stage", "owner"]),
            models.Index(fields=["stage", "expected_close"]),
            models.Index(fields=["client", "stage"]),
            models.Index(fields=["stage", "notice_deadline"]),
            models.Index(fields=["signed_at"]),
            models.Index(fields=["stage", "stage_changed_at"]),
            # The KPI figures' revision (kpis/cache.py): the contracts' latest change, one index look-up.
            models.Index(fields=["updated_at"], name="contract_updated_at"),
            # The KPI dashboards' grouped figures, each read from its index alone (no table look-up): contracts
            # signed over a trend of periods; each client's first signature (new clients); signed contracts ending
            # in a period (renewal rate); the open pipeline, weighted.
            models.Index(
                fields=["signed_at", "owner", "currency", "kind", "value", "created_at"],
                condition=Q(signed_at__isnull=False),
                name="contract_signed_figures",
            ),
            models.Index(
                fields=["client", "signed_at", "id"], condition=Q(signed_at__isnull=False), name="contract_first_signed"
            ),
            models.Index(
                fields=["end_date", "owner", "stage", "id"],
                condition=Q(signed_at__isnull=False),
                name="contract_signed_ending",
            ),
            models.Index(
                fields=["owner", "currency", "value", "probability"],
                condition=Q(stage__in=["draft", "negotiation", "awaiting_signature"]),
                name="contract_pipeline_weighted",
            ),
            # The client health score's renewal rule (contracts.health): active contracts by notice deadline, and the
            # renewal deals in the pipeline or signed, both read from the index alone for a list of every client.
            models.Index(
                fields=["notice_deadline", "client", "id"], condition=Q(stage="active"), name="contract_active_notice"
            ),
            models.Index(
                fields=["renewal_of"],
                condition=Q(
                    renewal_of__isnull=False, stage__in=["draft", "negotiation", "awaiting_signature", "active"]
                ),
                name="contract_open_renewal",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.number} · {self.title}"

    def get_absolute_url(self) -> str:
        return reverse("contracts:detail", args=[self.pk])

    @property
    def weighted_value(self) -> Decimal:
        return (self.value * self.probability / Decimal(100)).quantize(Decimal("0.01"))

    def compute_notice_deadline(self) -> date | None:
        return self.end_date - timedelta(days=self.notice_days) if self.end_date else None


class ContractNumber(models.Model):
    """The last contract number used in a year; locked while the next one is taken, so numbers never repeat."""

    year = models.PositiveSmallIntegerField(primary_key=True)
    last = models.PositiveIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.year}: {self.last}"


class StageChange(models.Model):
    contract = models.ForeignKey(Contract, on_delete=models.CASCADE, related_name="stage_changes")
    source = models.CharField(_("from"), max_length=20, choices=Stage.choices)
    target = models.CharField(_("to"), max_length=20, choices=Stage.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("by"), on_delete=models.PROTECT, related_name="+"
    )
    note = models.TextField(_("note"), blank=True)
    changed_at = models.DateTimeField(_("when"), default=timezone.now)

    class Meta:
        ordering = ["-changed_at", "-id"]
        verbose_name = _("stage change")
        verbose_name_plural = _("stage changes")

    def __str__(self) -> str:
        return f"{self.contract_id}: {self.source} → {self.target}"


class ProposedBy(models.TextChoices):
    AGENCY = "agency", _("Agency")
    CLIENT = "client", _("Client")


class NegotiationRound(TimeStampedModel):
    """One offer or counter-offer: who proposed it, at what value, discount, payment terms and scope."""

    contract = models.ForeignKey(Contract, on_delete=models.CASCADE, related_name="rounds")
    number = models.PositiveSmallIntegerField(_("round"))
    proposed_by = models.CharField(_("proposed by"), max_length=10, choices=ProposedBy.choices)
    value = money_field(_("value"), validators=[MinValueValidator(Decimal("0"))])
    discount_percent = models.DecimalField(
        _("discount (%)"),
        max_digits=5,
        decimal_places=2,
        default=Decimal("0"),
        validators=[MinValueValidator(Decimal("0")), MaxValueValidator(Decimal("100"))],
    )
    payment_terms_days = models.PositiveSmallIntegerField(
        _("payment terms (days)"), default=30, validators=[MaxValueValidator(365)]
    )
    scope_summary = models.TextField(_("scope"), blank=True)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")

    class Meta:
        ordering = ["number"]
        verbose_name = _("negotiation round")
        verbose_name_plural = _("negotiation rounds")
        constraints = [models.UniqueConstraint(fields=["contract", "number"], name="round_number_unique")]


class Phase(TimeStampedModel):
    """A stage of delivery with planned and actual dates, its own budget and a results report."""

    contract = models.ForeignKey(Contract, on_delete=models.CASCADE, related_name="phases")
    name = models.CharField(_("name"), max_length=150)
    order = models.PositiveSmallIntegerField(_("order"), default=1)
    planned_start = models.DateField(_("planned start"), null=True, blank=True, validators=[reasonable_date])
    planned_end = models.DateField(_("planned end"), null=True, blank=True, validators=[reasonable_date])
    actual_start = models.DateField(_("actual start"), null=True, blank=True, validators=[reasonable_date])
    actual_end = models.DateField(_("actual end"), null=True, blank=True, validators=[reasonable_date])
    budget = money_field(_("budget"), validators=[MinValueValidator(Decimal("0"))])
    planned_results = models.TextField(_("planned results"), blank=True)
    achieved_results = models.TextField(_("achieved results"), blank=True)
    report = models.TextField(_("report"), blank=True)
    report_sent_at = models.DateTimeField(_("report sent"), null=True, blank=True, editable=False)

    class Meta:
        ordering = ["order", "id"]
        verbose_name = _("phase")
        verbose_name_plural = _("phases")
        constraints = [
            models.CheckConstraint(
                condition=Q(planned_end__isnull=True)
                | Q(planned_start__isnull=True)
                | Q(planned_end__gte=models.F("planned_start")),
                name="phase_planned_end_after_start",
                violation_error_message=_("The planned end comes before the planned start."),
            ),
            models.CheckConstraint(
                condition=Q(actual_end__isnull=True)
                | Q(actual_start__isnull=True)
                | Q(actual_end__gte=models.F("actual_start")),
                name="phase_actual_end_after_start",
                violation_error_message=_("The actual end comes before the actual start."),
            ),
        ]


class CostEntry(TimeStampedModel):
    """Money spent delivering a contract, by a department or a partner, optionally in a phase."""

    contract = models.ForeignKey(Contract, on_delete=models.CASCADE, related_name="costs")
    phase = models.ForeignKey(Phase, null=True, blank=True, on_delete=models.SET_NULL, related_name="costs")
    department = models.ForeignKey(
        "clients.Department", null=True, blank=True, on_delete=models.PROTECT, related_name="costs"
    )
    partner = models.ForeignKey(
        "clients.Partner", null=True, blank=True, on_delete=models.PROTECT, related_name="costs"
    )
    description = models.CharField(_("description"), max_length=200)
    amount = money_field(_("amount"), validators=[MinValueValidator(Decimal("0.01"))])
    incurred_on = models.DateField(_("date"), default=timezone.localdate)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")

    class Meta:
        ordering = ["-incurred_on", "-id"]
        verbose_name = _("cost")
        verbose_name_plural = _("costs")
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="cost_amount_positive"),
            models.CheckConstraint(
                condition=Q(department__isnull=False) | Q(partner__isnull=False), name="cost_has_a_payee"
            ),
        ]


class BudgetAlert(models.Model):
    """The owner was told the contract passed this share of its budget (80 or 100 %): once per threshold."""

    contract = models.ForeignKey(Contract, on_delete=models.CASCADE, related_name="budget_alerts")
    threshold = models.PositiveSmallIntegerField()
    sent_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["contract", "threshold"], name="budget_alert_once")]

    def __str__(self) -> str:
        return f"{self.contract_id} at {self.threshold} %"


class RenewalReminder(models.Model):
    """A renewal reminder sent for a contract at an offset before its notice deadline: each at most once, ever."""

    contract = models.ForeignKey(Contract, on_delete=models.CASCADE, related_name="renewal_reminders")
    offset_days = models.PositiveSmallIntegerField()
    notice_deadline = models.DateField()
    sent_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-sent_at"]
        constraints = [models.UniqueConstraint(fields=["contract", "offset_days"], name="renewal_reminder_once")]

    def __str__(self) -> str:
        return f"{self.contract_id}: {self.offset_days} days before {self.notice_deadline}"
