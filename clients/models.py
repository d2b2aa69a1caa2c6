"""Clients and everything around them: contacts, partners, the activity timeline, requests and hand-overs."""

from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from accounts.permissions import VisibleQuerySet, has_role, sees_everything
from clients.text import search_text
from core.history import AuditHistory
from core.models import TimeStampedModel
from core.money import Currency, money_field

TAX_CODE_PATTERN = r"^[0-9]{10}(-[0-9]{3})?$"
EMAIL_PATTERN = r"^[^@\s]+@[^@\s]+\.[^@\s]+$"
tax_code_validator = RegexValidator(
    TAX_CODE_PATTERN,
    _("A Vietnamese tax code has 10 digits, or 10 digits, a dash and 3 digits for a branch."),
)


class Industry(models.TextChoices):
    FMCG = "fmcg", _("FMCG")
    BANKING = "banking", _("Banking and finance")
    REAL_ESTATE = "real_estate", _("Real estate")
    ECOMMERCE = "ecommerce", _("E-commerce and retail")
    TELECOM = "telecom", _("Telecom")
    TECHNOLOGY = "technology", _("Technology")
    AUTOMOTIVE = "automotive", _("Automotive")
    HEALTHCARE = "healthcare", _("Healthcare and pharma")
    EDUCATION = "education", _("Education")
    HOSPITALITY = "hospitality", _("Hospitality and travel")
    OTHER = "other", _("Other")


class Tier(models.TextChoices):
    A = "A", _("Tier A")
    B = "B", _("Tier B")
    C = "C", _("Tier C")


class ClientStatus(models.TextChoices):
    PROSPECT = "prospect", _("Prospect")
    ACTIVE = "active", _("Active")
    AT_RISK = "at_risk", _("At risk")
    CHURNED = "churned", _("Churned")


class Language(models.TextChoices):
    VI = "vi", "Tiếng Việt"
    EN = "en", "English"


class Tag(models.Model):
    name = models.CharField(_("name"), max_length=50, unique=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("tag")
        verbose_name_plural = _("tags")

    def __str__(self) -> str:
        return self.name


class ClientQuerySet(VisibleQuerySet):
    """Who sees which client (DOMAIN.md, Roles). The three levels below are the only place that decides it."""

    def visible_to(self, user) -> "ClientQuerySet":
        """Clients whose existence (name and owner) the user may know: everyone's for sales, finance, directors."""
        if not user.is_authenticated or not user.is_active:
            return self.none()
        if sees_everything(user) or has_role(user, "sales", "finance"):
            return self.all()
        return self._own_or_team(user)

    def detailed_for(self, user) -> "ClientQuerySet":
        """Clients whose details (contacts, timeline, requests) the user may open."""
        if not user.is_authenticated or not user.is_active:
            return self.none()
        if sees_everything(user) or has_role(user, "finance"):
            return self.all()
        if has_role(user, "sales"):
            return self.filter(owner=user)
        return self._own_or_team(user)

    def editable_by(self, user) -> "ClientQuerySet":
        """Clients the user may change: their own (account managers, sales), any for directors."""
        if not user.is_authenticated or not user.is_active:
            return self.none()
        if sees_everything(user):
            return self.all()
        if has_role(user, "account_manager", "sales"):
            return self.filter(owner=user)
        return self.none()

    def _own_or_team(self, user) -> "ClientQuerySet":
        return self.filter(own_or_team(user))


def own_or_team(user, path: str = "") -> Q:
    """The clients an account manager may open: their own and their team's. ``path`` leads from another model to
    its client (``"client__"``): a query that joins the client anyway checks the joined row, where ``client__in``
    a subquery would first collect every such client (10k of them) on every query."""
    own = Q(**{f"{path}owner": user})
    return own | Q(**{f"{path}team_id": user.team_id}) if user.team_id else own


class Client(TimeStampedModel):
    """An account: a company the agency works for or wants to."""

    name = models.CharField(_("name"), max_length=200)
    legal_name = models.CharField(_("legal name"), max_length=300, blank=True)
    tax_code = models.CharField(_("tax code"), max_length=14, blank=True, validators=[tax_code_validator])
    industry = models.CharField(_("industry"), max_length=20, choices=Industry.choices, default=Industry.OTHER)
    tier = models.CharField(_("tier"), max_length=1, choices=Tier.choices, default=Tier.B)
    status = models.CharField(_("status"), max_length=10, choices=ClientStatus.choices, default=ClientStatus.PROSPECT)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("owner"),
        on_delete=models.PROTECT,
        related_name="owned_clients",
    )
    team = models.ForeignKey(
        "accounts.Team",
        verbose_name=_("team"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="clients",
    )
    billing_currency = models.CharField(
        _("billing currency"), max_length=3, choices=Currency.choices, default=Currency.VND
    )
    payment_terms_days = models.PositiveSmallIntegerField(
        _("payment terms (days)"), default=30, validators=[MaxValueValidator(365)]
    )
    website = models.URLField(_("website"), blank=True)
    phone = models.CharField(_("phone"), max_length=30, blank=True)
    city = models.CharField(_("city"), max_length=100, blank=True)
    address = models.TextField(_("office address"), blank=True)
    billing_address = models.TextField(_("billing address"), blank=True)
    notes = models.TextField(_("notes"), blank=True)
    tags = models.ManyToManyField(Tag, verbose_name=_("tags"), blank=True, related_name="clients")
    search_text = models.TextField(editable=False, default="")
    # The name alone, folded: what sales may search other people's clients by (they see names and owners only).
    search_name = models.TextField(editable=False, default="")
    version = models.PositiveIntegerField(default=1, editable=False)

    objects = ClientQuerySet.as_manager()
    # Search caches and the lock counter change with the fields they come from: not history of their own.
    history = AuditHistory(excluded_fields=["search_text", "search_name", "version"])

    class Meta:
        ordering = ["name"]
        verbose_name = _("client")
        verbose_name_plural = _("clients")
        constraints = [
            models.UniqueConstraint(
                fields=["tax_code"],
                condition=~Q(tax_code=""),
                name="client_tax_code_unique",
                violation_error_message=_("A client with this tax code already exists."),
            ),
            models.CheckConstraint(
                condition=Q(tax_code="") | Q(tax_code__regex=TAX_CODE_PATTERN),
                name="client_tax_code_format",
                violation_error_message=_(
                    "A Vietnamese tax code has 10 digits, or 10 digits, a dash and 3 digits for a branch."
                ),
            ),
        ]
        indexes = [
            # The health figures' revision (kpis/cache.py): the clients' latest change, one index look-up.
            models.Index(fields=["updated_at"], name="client_updated_at"),
            models.Index(fields=["owner", "status"]),
            models.Index(fields=["team", "status"]),
            models.Index(fields=["status"]),
            models.Index(fields=["tier"]),
            models.Index(fields=["industry"]),
            models.Index(fields=["name", "id"], name="client_name_id"),
        ]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("clients:detail", args=[self.pk])

    def refresh_search_text(self) -> None:
        self.search_text = search_text(self.name, self.legal_name, self.tax_code, self.city)
        self.search_name = search_text(self.name)

    def save(self, *args, **kwargs):
        self.refresh_search_text()
        if kwargs.get("update_fields") is not None:
            kwargs["update_fields"] = {*kwargs["update_fields"], "search_text", "search_name"}
        super().save(*args, **kwargs)


# What an owner may change on a client and a contact, in the order forms show it (services, forms and API agree).
CLIENT_EDITABLE_FIELDS = (
    "name",
    "legal_name",
    "tax_code",
    "industry",
    "tier",
    "status",
    "billing_currency",
    "payment_terms_days",
    "website",
    "phone",
    "city",
    "address",
    "billing_address",
    "notes",
)
CONTACT_EDITABLE_FIELDS = (
    "full_name",
    "title",
    "email",
    "phone",
    "preferred_language",
    "is_decision_maker",
    "is_billing",
    "is_day_to_day",
    "notes",
)


class DetailScopedQuerySet(VisibleQuerySet):
    """Rows that belong to a client: visible where the client's details are."""

    client_path = "client"

    def visible_to(self, user):
        return self.filter(**{f"{self.client_path}__in": Client.objects.detailed_for(user).values("pk")})

    def editable_by(self, user):
        return self.filter(**{f"{self.client_path}__in": Client.objects.editable_by(user).values("pk")})


class Contact(TimeStampedModel):
    """A person at the client."""

    client = models.ForeignKey(Client, verbose_name=_("client"), on_delete=models.CASCADE, related_name="contacts")
    full_name = models.CharField(_("full name"), max_length=150)
    title = models.CharField(_("job title"), max_length=150, blank=True)
    email = models.EmailField(_("e-mail"), blank=True)
    phone = models.CharField(_("phone"), max_length=30, blank=True)
    preferred_language = models.CharField(
        _("preferred language"), max_length=2, choices=Language.choices, default=Language.VI
    )
    is_decision_maker = models.BooleanField(_("decision maker"), default=False)
    is_billing = models.BooleanField(
        _("billing contact"), default=False, help_text=_("Collection e-mails go to billing contacts.")
    )
    is_day_to_day = models.BooleanField(_("day-to-day contact"), default=False)
    notes = models.TextField(_("notes"), blank=True)
    search_text = models.TextField(editable=False, default="")
    version = models.PositiveIntegerField(default=1, editable=False)

    objects = DetailScopedQuerySet.as_manager()
    history = AuditHistory(excluded_fields=["search_text", "version"])

    class Meta:
        ordering = ["full_name"]
        verbose_name = _("contact")
        verbose_name_plural = _("contacts")
        constraints = [
            models.UniqueConstraint(
                fields=["client", "email"],
                condition=~Q(email=""),
                name="contact_email_unique_per_client",
                violation_error_message=_("This client already has a contact with this e-mail."),
            ),
            models.CheckConstraint(
                condition=Q(email="") | Q(email__regex=EMAIL_PATTERN),
                name="contact_email_valid",
                violation_error_message=_("Enter a valid e-mail address."),
            ),
        ]
        indexes = [
            models.Index(fields=["email"]),
            models.Index(fields=["full_name"], name="contact_full_name"),
            # The latest change of any contact, one index look-up (kpis.cache: a kept client search's revision).
            models.Index(fields=["updated_at"], name="contact_updated_at"),
        ]

    def __str__(self) -> str:
        return self.full_name

    def refresh_search_text(self) -> None:
        self.search_text = search_text(self.full_name, self.email, self.phone)

    def save(self, *args, **kwargs):
        self.refresh_search_text()
        if kwargs.get("update_fields") is not None:
            kwargs["update_fields"] = {*kwargs["update_fields"], "search_text"}
        super().save(*args, **kwargs)


class PartnerKind(models.TextChoices):
    SPONSOR = "sponsor", _("Sponsor")
    CONSULTANT = "consultant", _("Consultant")
    SUPPLIER = "supplier", _("Supplier")
    PRODUCTION_HOUSE = "production_house", _("Production house")
    MEDIA_VENDOR = "media_vendor", _("Media vendor")
    OTHER = "other", _("Other")


class PartnerQuerySet(VisibleQuerySet):
    def visible_to(self, user):
        """Partners are the agency's: every signed-in colleague sees them."""
        return self.all() if user.is_authenticated and user.is_active else self.none()

    def editable_by(self, user):
        return self.visible_to(user) if has_role(user, "account_manager", "director", "admin") else self.none()


class Partner(TimeStampedModel):
    """A company the agency works with around its clients: sponsors, consultants, suppliers, vendors."""

    name = models.CharField(_("name"), max_length=200, unique=True)
    kind = models.CharField(_("kind"), max_length=20, choices=PartnerKind.choices, default=PartnerKind.OTHER)
    tax_code = models.CharField(_("tax code"), max_length=14, blank=True, validators=[tax_code_validator])
    website = models.URLField(_("website"), blank=True)
    email = models.EmailField(_("e-mail"), blank=True)
    phone = models.CharField(_("phone"), max_length=30, blank=True)
    notes = models.TextField(_("notes"), blank=True)
    search_text = models.TextField(editable=False, default="")

    objects = PartnerQuerySet.as_manager()

    class Meta:
        ordering = ["name"]
        verbose_name = _("partner")
        verbose_name_plural = _("partners")
        constraints = [
            models.CheckConstraint(
                condition=Q(tax_code="") | Q(tax_code__regex=TAX_CODE_PATTERN), name="partner_tax_code_format"
            ),
            models.CheckConstraint(condition=Q(email="") | Q(email__regex=EMAIL_PATTERN), name="partner_email_valid"),
        ]
        indexes = [models.Index(fields=["kind"])]

    def __str__(self) -> str:
        return self.name

    def save(self, *args, **kwargs):
        self.search_text = search_text(self.name, self.tax_code, self.email)
        if kwargs.get("update_fields") is not None:
            kwargs["update_fields"] = {*kwargs["update_fields"], "search_text"}
        super().save(*args, **kwargs)


class RelationshipLink(models.TextChoices):
    DIRECT = "direct", _("Direct")
    INDIRECT = "indirect", _("Indirect")


class RelationshipStatus(models.TextChoices):
    ACTIVE = "active", _("Active")
    PAUSED = "paused", _("Paused")
    ENDED = "ended", _("Ended")


class PartnerRelationship(TimeStampedModel):
    """A partner's part in a client's account (a sponsor of its events, its media vendor, ...)."""

    partner = models.ForeignKey(
        Partner, verbose_name=_("partner"), on_delete=models.CASCADE, related_name="relationships"
    )
    client = models.ForeignKey(
        Client, verbose_name=_("client"), on_delete=models.CASCADE, related_name="partner_relationships"
    )
    link = models.CharField(_("link"), max_length=10, choices=RelationshipLink.choices, default=RelationshipLink.DIRECT)
    role = models.CharField(_("role"), max_length=150)
    since = models.DateField(_("since"), null=True, blank=True)
    status = models.CharField(
        _("status"), max_length=10, choices=RelationshipStatus.choices, default=RelationshipStatus.ACTIVE
    )
    value = money_field(_("value"), validators=[MinValueValidator(Decimal("0"))])
    currency = models.CharField(_("currency"), max_length=3, choices=Currency.choices, default=Currency.VND)
    notes = models.TextField(_("notes"), blank=True)

    objects = DetailScopedQuerySet.as_manager()

    class Meta:
        ordering = ["partner__name"]
        verbose_name = _("partner relationship")
        verbose_name_plural = _("partner relationships")
        constraints = [
            models.UniqueConstraint(
                fields=["partner", "client", "role"],
                name="partner_relationship_unique_role",
                violation_error_message=_("This partner already has this role at this client."),
            ),
            models.CheckConstraint(condition=Q(value__gte=0), name="partner_relationship_value_not_negative"),
        ]

    def __str__(self) -> str:
        return f"{self.partner} → {self.client} ({self.role})"


class ActivityKind(models.TextChoices):
    CALL = "call", _("Call")
    MEETING = "meeting", _("Meeting")
    EMAIL = "email", _("E-mail")
    NOTE = "note", _("Note")
    STATUS_REPORT = "status_report", _("Status report")


class ActivityQuerySet(DetailScopedQuerySet):
    def open_next_steps(self):
        return self.filter(next_step_due__isnull=False, next_step_done_at__isnull=True)


class Activity(TimeStampedModel):
    """An entry on a client's timeline, with an optional next step that someone owns until it is done."""

    client = models.ForeignKey(Client, verbose_name=_("client"), on_delete=models.CASCADE, related_name="activities")
    kind = models.CharField(_("kind"), max_length=15, choices=ActivityKind.choices, default=ActivityKind.NOTE)
    subject = models.CharField(_("subject"), max_length=200)
    body = models.TextField(_("details"), blank=True)
    occurred_at = models.DateTimeField(_("when"), default=timezone.now)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("author"),
        on_delete=models.PROTECT,
        related_name="activities",
    )
    contact = models.ForeignKey(
        Contact,
        verbose_name=_("contact"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="activities",
    )
    next_step = models.CharField(_("next step"), max_length=200, blank=True)
    next_step_due = models.DateField(_("next step due"), null=True, blank=True)
    next_step_owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("next step owner"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="next_steps",
    )
    next_step_done_at = models.DateTimeField(_("next step done"), null=True, blank=True)
    # Written by Accord itself (a request changed status): on the timeline, but no sign of contact with the client.
    is_system = models.BooleanField(default=False, editable=False)

    objects = ActivityQuerySet.as_manager()

    class Meta:
        ordering = ["-occurred_at", "-id"]
        verbose_name = _("activity")
        verbose_name_plural = _("activities")
        constraints = [
            models.CheckConstraint(
                condition=Q(next_step_due__isnull=True) | ~Q(next_step=""), name="activity_next_step_has_text"
            )
        ]
        indexes = [
            models.Index(fields=["client", "-occurred_at"]),
            # The health score's "last contact with the client" leaves out Accord's own entries.
            models.Index(fields=["client", "-occurred_at"], condition=Q(is_system=False), name="activity_last_contact"),
            models.Index(
                fields=["next_step_owner", "next_step_due"],
                condition=Q(next_step_due__isnull=False, next_step_done_at__isnull=True),
                name="activity_open_next_steps",
            ),
            # A client page's open next steps: a client with thousands of activities has a handful open.
            models.Index(
                fields=["client", "next_step_due"],
                condition=Q(next_step_due__isnull=False, next_step_done_at__isnull=True),
                name="activity_client_next_steps",
            ),
        ]

    def __str__(self) -> str:
        return self.subject


class RequestKind(models.TextChoices):
    BRIEF = "brief", _("Brief")
    CHANGE = "change", _("Change request")
    INCIDENT = "incident", _("Incident")
    QUESTION = "question", _("Question")


class Priority(models.TextChoices):
    URGENT = "urgent", _("Urgent")
    HIGH = "high", _("High")
    NORMAL = "normal", _("Normal")
    LOW = "low", _("Low")


class RequestStatus(models.TextChoices):
    NEW = "new", _("New")
    TRIAGED = "triaged", _("Triaged")
    IN_PROGRESS = "in_progress", _("In progress")
    WAITING_CLIENT = "waiting_client", _("Waiting for the client")
    RESOLVED = "resolved", _("Resolved")
    CLOSED = "closed", _("Closed")


OPEN_REQUEST_STATUSES = [
    RequestStatus.NEW,
    RequestStatus.TRIAGED,
    RequestStatus.IN_PROGRESS,
    RequestStatus.WAITING_CLIENT,
]


class RequestQuerySet(DetailScopedQuerySet):
    def open(self):
        return self.filter(status__in=OPEN_REQUEST_STATUSES)

    def breached(self, now=None):
        """Open past their SLA, or resolved after it."""
        now = now or timezone.now()
        return self.filter(
            Q(status__in=OPEN_REQUEST_STATUSES, sla_due_at__lt=now) | Q(resolved_at__gt=models.F("sla_due_at"))
        )

    def near_sla(self, now=None):
        """Open, past 75 % of the allowed time but not yet due."""
        now = now or timezone.now()
        return self.filter(status__in=OPEN_REQUEST_STATUSES, sla_warning_at__lte=now, sla_due_at__gte=now)


class Request(TimeStampedModel):
    """Something the client asks for, with a service-level due time set by its priority."""

    client = models.ForeignKey(Client, verbose_name=_("client"), on_delete=models.CASCADE, related_name="requests")
    kind = models.CharField(_("kind"), max_length=10, choices=RequestKind.choices, default=RequestKind.BRIEF)
    title = models.CharField(_("title"), max_length=200)
    description = models.TextField(_("description"), blank=True)
    priority = models.CharField(_("priority"), max_length=10, choices=Priority.choices, default=Priority.NORMAL)
    status = models.CharField(_("status"), max_length=15, choices=RequestStatus.choices, default=RequestStatus.NEW)
    contact = models.ForeignKey(
        Contact,
        verbose_name=_("asked by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="requests",
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("owner"),
        on_delete=models.PROTECT,
        related_name="owned_requests",
    )
    received_at = models.DateTimeField(_("received"), default=timezone.now)
    sla_warning_at = models.DateTimeField(_("SLA warning"))
    sla_due_at = models.DateTimeField(_("SLA due"))
    resolved_at = models.DateTimeField(_("resolved"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed"), null=True, blank=True)
    breach_notified_at = models.DateTimeField(null=True, blank=True, editable=False)
    version = models.PositiveIntegerField(default=1, editable=False)

    objects = RequestQuerySet.as_manager()

    class Meta:
        ordering = ["sla_due_at"]
        verbose_name = _("request")
        verbose_name_plural = _("requests")
        constraints = [
            models.CheckConstraint(
                condition=Q(sla_due_at__gte=models.F("received_at")), name="request_sla_after_receipt"
            )
        ]
        indexes = [
            models.Index(fields=["client", "status"]),
            models.Index(fields=["owner", "status", "sla_due_at"]),
            models.Index(fields=["status", "sla_due_at"]),
            models.Index(fields=["priority", "status"]),
            models.Index(fields=["sla_due_at"], name="request_sla_due_at"),
            models.Index(fields=["updated_at"], name="request_updated_at"),  # the KPI cache's revision (kpis.cache)
            # The health score counts each client's open urgent requests.
            models.Index(
                fields=["client"],
                condition=Q(priority="urgent", status__in=["new", "triaged", "in_progress", "waiting_client"]),
                name="request_open_urgent",
            ),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_REQUEST_STATUSES

    def sla_state(self, now=None) -> str:
        """'breached', 'warning' or 'ok' — for badges; lists filter with the queryset methods above."""
        now = now or timezone.now()
        finished = self.resolved_at if not self.is_open else None
        if (finished or now) > self.sla_due_at:
            return "breached"
        if self.is_open and now >= self.sla_warning_at:
            return "warning"
        return "ok"


class Department(TimeStampedModel):
    """An agency department work is handed over to (Creative, Planning, ...). Kept by administrators."""

    name = models.CharField(_("name"), max_length=100, unique=True)
    lead = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("lead"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="led_departments",
        help_text=_("Proposed as the assignee of new hand-overs."),
    )
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("department")
        verbose_name_plural = _("departments")

    def __str__(self) -> str:
        return self.name


class HandoverStatus(models.TextChoices):
    OPEN = "open", pgettext_lazy("hand-over status", "Open")
    IN_PROGRESS = "in_progress", _("In progress")
    DONE = "done", pgettext_lazy("hand-over status", "Done")
    CANCELLED = "cancelled", _("Cancelled")


class HandoverQuerySet(DetailScopedQuerySet):
    client_path = "request__client"

    def visible_to(self, user):
        """Where the client's details are visible, and to its assignee while it is open."""
        return self.filter(
            Q(request__client__in=Client.objects.detailed_for(user).values("pk"))
            | Q(assignee=user.pk, status__in=[HandoverStatus.OPEN, HandoverStatus.IN_PROGRESS])
        )

    def open(self):
        return self.filter(status__in=[HandoverStatus.OPEN, HandoverStatus.IN_PROGRESS])


class Handover(TimeStampedModel):
    """A request handed to a department, with a named assignee, a due date and the brief they work from."""

    request = models.ForeignKey(Request, verbose_name=_("request"), on_delete=models.CASCADE, related_name="handovers")
    department = models.ForeignKey(
        Department, verbose_name=_("department"), on_delete=models.PROTECT, related_name="handovers"
    )
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("assignee"),
        on_delete=models.PROTECT,
        related_name="handovers",
    )
    brief = models.TextField(_("brief"))
    due_date = models.DateField(_("due date"))
    status = models.CharField(_("status"), max_length=12, choices=HandoverStatus.choices, default=HandoverStatus.OPEN)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("handed over by"), on_delete=models.PROTECT, related_name="+"
    )
    completed_at = models.DateTimeField(_("completed"), null=True, blank=True)

    objects = HandoverQuerySet.as_manager()

    class Meta:
        ordering = ["due_date", "id"]
        verbose_name = _("hand-over")
        verbose_name_plural = _("hand-overs")
        indexes = [
            models.Index(fields=["assignee", "status", "due_date"]),
            models.Index(fields=["department", "status"]),
        ]

    def __str__(self) -> str:
        return f"{self.request} → {self.department}"


class ClientReassignment(models.Model):
    """The record of a client moving from one owner to another, and how much open work moved with it."""

    client = models.ForeignKey(Client, verbose_name=_("client"), on_delete=models.CASCADE, related_name="reassignments")
    from_owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("from"), on_delete=models.PROTECT, related_name="+"
    )
    to_owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("to"), on_delete=models.PROTECT, related_name="+"
    )
    reassigned_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("by"), on_delete=models.PROTECT, related_name="+"
    )
    reassigned_at = models.DateTimeField(_("when"), default=timezone.now)
    note = models.TextField(_("note"), blank=True)
    moved_next_steps = models.PositiveIntegerField(default=0)
    moved_requests = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-reassigned_at"]
        verbose_name = _("client reassignment")
        verbose_name_plural = _("client reassignments")

    def __str__(self) -> str:
        return f"{self.client}: {self.from_owner} → {self.to_owner}"
