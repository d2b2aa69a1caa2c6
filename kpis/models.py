"""KPI targets set by directors, and the monthly exchange rates the admin keeps for converted figures.

Actuals are never stored: ``kpis.metrics`` computes each from the live data.
"""

from datetime import timedelta
from decimal import Decimal

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from accounts.models import Team
from accounts.permissions import VisibleQuerySet, has_role, sees_everything
from core.history import AuditHistory
from core.models import TimeStampedModel
from core.money import Currency

from .periods import Period, PeriodKind


class Metric(models.TextChoices):
    SIGNED_REVENUE = "signed_revenue", _("Signed revenue")
    UPSELL_REVENUE = "upsell_revenue", _("Upsell revenue")
    INVOICED_REVENUE = "invoiced_revenue", _("Invoiced revenue")
    CASH_COLLECTED = "cash_collected", _("Cash collected")
    GROSS_MARGIN = "gross_margin", _("Gross margin")
    NEW_CLIENTS = "new_clients", _("New clients")
    WIN_RATE = "win_rate", _("Win rate")
    RENEWAL_RATE = "renewal_rate", _("Renewal rate")
    PIPELINE_WEIGHTED = "pipeline_weighted", _("Weighted pipeline")
    OVERDUE_RECEIVABLES = "overdue_receivables", _("Overdue receivables")
    DSO = "dso", _("Days sales outstanding")
    NET_REVENUE_RETENTION = "net_revenue_retention", _("Net revenue retention (12 months)")
    GROSS_REVENUE_RETENTION = "gross_revenue_retention", _("Gross revenue retention (12 months)")
    PIPELINE_COVERAGE = "pipeline_coverage", _("Pipeline coverage")
    AVERAGE_DAYS_TO_CLOSE = "average_days_to_close", _("Average days to close")


class ScopeKind(models.TextChoices):
    USER = "user", _("Account manager")
    TEAM = "team", _("Team")
    AGENCY = "agency", _("Agency")


class KpiTargetQuerySet(VisibleQuerySet):
    """Directors and admins see every target; others their own and their team's (and the agency's)."""

    def visible_to(self, user) -> "KpiTargetQuerySet":
        if not user.is_authenticated or not user.is_active:
            return self.none()
        if sees_everything(user) or has_role(user, "finance"):
            return self.all()
        visible = Q(scope=ScopeKind.AGENCY) | Q(user=user)
        if user.team_id:
            visible |= Q(team_id=user.team_id)
        return self.filter(visible)

    def for_period(self, period: Period) -> "KpiTargetQuerySet":
        return self.filter(period_kind=period.kind, period_start=period.start)


class KpiTarget(TimeStampedModel):
    """A target for one metric, one scope (an AM, a team or the agency) and one calendar period.

    Money metrics have a currency (one target per currency); counts, ratios and days have none.
    """

    metric = models.CharField(_("metric"), max_length=30, choices=Metric.choices)
    scope = models.CharField(_("scope"), max_length=10, choices=ScopeKind.choices)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("account manager"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="kpi_targets",
    )
    team = models.ForeignKey(
        Team, verbose_name=_("team"), null=True, blank=True, on_delete=models.CASCADE, related_name="kpi_targets"
    )
    period_kind = models.CharField(_("period"), max_length=10, choices=PeriodKind.choices)
    period_start = models.DateField(_("period start"))
    value = models.DecimalField(
        _("target"), max_digits=18, decimal_places=2, validators=[MinValueValidator(Decimal("0"))]
    )
    currency = models.CharField(_("currency"), max_length=3, choices=Currency.choices, blank=True)
    set_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )
    version = models.PositiveIntegerField(default=1, editable=False)

    objects = KpiTargetQuerySet.as_manager()
    history = AuditHistory(excluded_fields=["version"])

    class Meta:
        ordering = ["-period_start", "metric", "scope"]
        verbose_name = _("KPI target")
        verbose_name_plural = _("KPI targets")
        constraints = [
            models.CheckConstraint(condition=Q(value__gte=0), name="kpi_target_not_negative"),
            models.CheckConstraint(
                condition=(
                    Q(scope="user", user__isnull=False, team__isnull=True)
                    | Q(scope="team", team__isnull=False, user__isnull=True)
                    | Q(scope="agency", user__isnull=True, team__isnull=True)
                ),
                name="kpi_target_scope_matches",
            ),
            # One target per metric, scope, period and currency (three partial constraints: NULLs never collide).
            models.UniqueConstraint(
                fields=["metric", "user", "period_kind", "period_start", "currency"],
                condition=Q(scope="user"),
                name="kpi_target_once_per_user",
            ),
            models.UniqueConstraint(
                fields=["metric", "team", "period_kind", "period_start", "currency"],
                condition=Q(scope="team"),
                name="kpi_target_once_per_team",
            ),
            models.UniqueConstraint(
                fields=["metric", "period_kind", "period_start", "currency"],
                condition=Q(scope="agency"),
                name="kpi_target_once_for_agency",
            ),
        ]
        indexes = [models.Index(fields=["period_kind", "period_start", "metric"])]

    def __str__(self) -> str:
        return f"{self.metric} {self.scope} {self.period_kind} {self.period_start}: {self.value} {self.currency}"

    @property
    def period(self) -> Period:
        return Period.containing(self.period_kind, self.period_start)


class ExchangeRate(TimeStampedModel):
    """How many đồng one US dollar was worth in a month: converted figures use the month's rate."""

    month = models.DateField(_("month"), unique=True, help_text=_("The first day of the month."))
    vnd_per_usd = models.DecimalField(
        _("VND per USD"), max_digits=12, decimal_places=2, validators=[MinValueValidator(Decimal("1"))]
    )

    class Meta:
        ordering = ["-month"]
        verbose_name = _("exchange rate")
        verbose_name_plural = _("exchange rates")
        constraints = [
            models.CheckConstraint(condition=Q(vnd_per_usd__gt=0), name="exchange_rate_positive"),
            models.CheckConstraint(condition=Q(month__day=1), name="exchange_rate_first_of_month"),
        ]

    def __str__(self) -> str:
        return f"{self.month:%Y-%m}: {self.vnd_per_usd}"


# --- Pre-summed billing figures (``kpis.ledger``) -----------------------------------------------------------------
# No database foreign keys: PostgreSQL's triggers write these rows (migration kpis.0002), and they hold sums, not
# records anyone points at.


class BillingMonth(models.Model):
    """A contract owner's invoices and payments in one currency, pre-summed per calendar month: what the revenue,
    cash and receivables figures add up (``kpis.ledger``). Each column counts from its month on:

    - ``invoiced_net``, ``invoiced_gross``: invoices issued in the month, drafts and void ones excluded;
    - ``received``: payments received in the month (cash collected);
    - ``owed_change``: what became owed in the month (gross of the invoices issued in it) less what was paid on
      them in it, so the sum up to a month is what was owed at its end; void and written-off invoices excluded;
    - ``overdue_change``: the same for what was past due at a month's end (an invoice counts from the first month
      whose last day is after its due date).
    """

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.DO_NOTHING, db_constraint=False, db_index=False, related_name="+"
    )
    currency = models.CharField(max_length=3, choices=Currency.choices)
    month = models.DateField()
    # Sums of many invoices: wider than one invoice's amount.
    invoiced_net = models.DecimalField(max_digits=22, decimal_places=2, default=0)
    invoiced_gross = models.DecimalField(max_digits=22, decimal_places=2, default=0)
    received = models.DecimalField(max_digits=22, decimal_places=2, default=0)
    owed_change = models.DecimalField(max_digits=22, decimal_places=2, default=0)
    overdue_change = models.DecimalField(max_digits=22, decimal_places=2, default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["owner", "currency", "month"], name="kpi_billing_month_key")]

    def __str__(self) -> str:
        return f"{self.owner_id} {self.currency} {self.month:%Y-%m}"


class ClientRevenue(models.Model):
    """A client's net invoiced revenue over the 12 months ending with ``month`` (drafts and void invoices
    excluded), per contract owner and currency: revenue retention compares two of these a year apart."""

    client = models.ForeignKey(
        "clients.Client", on_delete=models.DO_NOTHING, db_constraint=False, db_index=False, related_name="+"
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.DO_NOTHING, db_constraint=False, db_index=False, related_name="+"
    )
    currency = models.CharField(max_length=3, choices=Currency.choices)
    month = models.DateField()
    net_12_months = models.DecimalField(max_digits=22, decimal_places=2, default=0)

    class Meta:
        constraints = [
            # Month first: retention reads two months of every client.
            models.UniqueConstraint(fields=["month", "client", "owner", "currency"], name="kpi_client_revenue_key")
        ]
        # The same with the sum, so that retention reads the index alone.
        indexes = [
            models.Index(
                fields=["month", "client", "currency", "owner", "net_12_months"], name="kpi_client_revenue_sum"
            )
        ]

    def __str__(self) -> str:
        return f"{self.client_id} {self.owner_id} {self.currency} {self.month:%Y-%m}"


class SignedMonth(models.Model):
    """Contracts signed per owner, currency and kind in one month of the agency's calendar (``kpis.ledger``): the
    signed-revenue trend, deals won, upsells and days to close add these up instead of every signed contract.
    ``timed`` and ``days_to_close`` cover the contracts recorded before their signature (``metrics.TIMED``)."""

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.DO_NOTHING, db_constraint=False, db_index=False, related_name="+"
    )
    currency = models.CharField(max_length=3, choices=Currency.choices)
    kind = models.CharField(max_length=15)
    month = models.DateField()
    signed = models.IntegerField(default=0)
    value = models.DecimalField(max_digits=22, decimal_places=2, default=0)
    timed = models.IntegerField(default=0)
    days_to_close = models.DurationField(default=timedelta(0))

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["owner", "currency", "kind", "month"], name="kpi_signed_month_key")
        ]
        indexes = [models.Index(fields=["month"], name="kpi_signed_month_month")]

    def __str__(self) -> str:
        return f"{self.owner_id} {self.currency} {self.kind} {self.month:%Y-%m}: {self.signed}"


class LedgerZone(models.Model):
    """The time zone whose calendar months ``SignedMonth`` counts in (one row): the triggers read it; the rows
    are used only while it is the configured ``TIME_ZONE`` (``rebuild_kpi_ledger`` recounts them after a change)."""

    time_zone = models.CharField(max_length=64)

    def __str__(self) -> str:
        return self.time_zone
