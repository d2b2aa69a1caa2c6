from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser, BaseUserManager, PermissionsMixin
from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.permissions import VisibleQuerySet
from core.models import TimeStampedModel


class Role(models.TextChoices):
    ACCOUNT_MANAGER = "account_manager", _("Account manager")
    SALES = "sales", _("Sales")
    FINANCE = "finance", _("Finance")
    DIRECTOR = "director", _("Director")
    ADMIN = "admin", _("Administrator")


class Team(TimeStampedModel):
    name = models.CharField(_("name"), max_length=100, unique=True)
    lead = models.ForeignKey(
        "accounts.User",
        verbose_name=_("lead"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="led_teams",
    )

    class Meta:
        ordering = ["name"]
        verbose_name = _("team")
        verbose_name_plural = _("teams")

    def __str__(self) -> str:
        return self.name


class UserQuerySet(VisibleQuerySet):
    def visible_to(self, user) -> "UserQuerySet":
        """Colleagues are a directory: every signed-in user sees every active user."""
        if not user.is_authenticated:
            return self.none()
        return self.filter(is_active=True)


class UserManager(BaseUserManager.from_queryset(UserQuerySet)):
    use_in_migrations = True

    def get_by_natural_key(self, username):
        return self.get(email__iexact=username)

    def create_user(self, email, password=None, **fields):
        fields.pop("is_staff", None)
        user = self.model(email=self.normalize_email(email).lower(), **fields)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_superuser(self, email, password=None, **fields):
        fields.update(role=Role.ADMIN, is_superuser=True)
        return self.create_user(email, password, **fields)


class User(AbstractBaseUser, PermissionsMixin):
    """A person at the agency, signing in with an e-mail address."""

    email = models.EmailField(_("e-mail"), unique=True)
    full_name = models.CharField(_("full name"), max_length=150)
    role = models.CharField(_("role"), max_length=20, choices=Role.choices, default=Role.ACCOUNT_MANAGER)
    team = models.ForeignKey(
        Team, verbose_name=_("team"), null=True, blank=True, on_delete=models.SET_NULL, related_name="members"
    )
    preferred_language = models.CharField(
        _("preferred language"), max_length=8, choices=settings.LANGUAGES, default="en"
    )
    phone = models.CharField(_("phone"), max_length=30, blank=True)
    is_active = models.BooleanField(_("active"), default=True)
    # A service account carries one service API token; it has a role but no password, so it never signs in.
    is_service_account = models.BooleanField(_("service account"), default=False)
    date_joined = models.DateTimeField(_("joined"), default=timezone.now)

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS = ["full_name"]

    class Meta:
        ordering = ["full_name"]
        verbose_name = _("user")
        verbose_name_plural = _("users")
        constraints = [models.UniqueConstraint(Lower("email"), name="accounts_user_email_ci_unique")]
        indexes = [models.Index(fields=["role", "is_active"])]

    def __str__(self) -> str:
        return self.full_name or self.email

    @property
    def is_staff(self) -> bool:
        """Only administrators open Django's admin site."""
        return self.is_active and self.role == Role.ADMIN

    def get_full_name(self) -> str:
        return self.full_name

    def get_short_name(self) -> str:
        return self.full_name.split()[-1] if self.full_name else self.email


class NotificationLevel(models.TextChoices):
    INFO = "info", _("Information")
    SUCCESS = "success", _("Success")
    WARNING = "warning", _("Warning")
    DANGER = "danger", _("Urgent")


class NotificationQuerySet(VisibleQuerySet):
    def visible_to(self, user) -> "NotificationQuerySet":
        """A notification is private to its recipient, whatever the role."""
        if not user.is_authenticated:
            return self.none()
        return self.filter(recipient=user)

    def unread(self) -> "NotificationQuerySet":
        return self.filter(read_at__isnull=True)


class Notification(TimeStampedModel):
    """An entry in a user's in-app inbox; e-mailed too unless the caller says otherwise."""

    recipient = models.ForeignKey(
        User, verbose_name=_("recipient"), on_delete=models.CASCADE, related_name="notifications"
    )
    level = models.CharField(_("level"), max_length=10, choices=NotificationLevel.choices, default="info")
    title = models.CharField(_("title"), max_length=200)
    body = models.TextField(_("message"), blank=True)
    url = models.CharField(_("link"), max_length=500, blank=True)
    read_at = models.DateTimeField(_("read"), null=True, blank=True)
    send_email = models.BooleanField(_("send by e-mail"), default=True)
    emailed_at = models.DateTimeField(_("e-mailed"), null=True, blank=True)

    objects = NotificationQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        indexes = [models.Index(fields=["recipient", "read_at", "-created_at"])]

    def __str__(self) -> str:
        return self.title


class ApiTokenKind(models.TextChoices):
    PERSONAL = "personal", _("Personal")
    SERVICE = "service", _("Service")


class ApiTokenScope(models.TextChoices):
    READ = "read", _("Read only")
    READ_WRITE = "read_write", _("Read and write")


class ApiTokenQuerySet(models.QuerySet):
    def active(self) -> "ApiTokenQuerySet":
        """Tokens that authenticate now: not revoked, not expired."""
        return self.filter(revoked_at__isnull=True).filter(
            models.Q(expires_at__isnull=True) | models.Q(expires_at__gt=timezone.now())
        )


class ApiToken(TimeStampedModel):
    """A key for the API, acting as ``user``: a person's own (personal) or a service account's (service).

    Only a SHA-256 digest of the key is stored; the key itself is shown once, when the token is created.
    ``prefix`` (the key's first characters) lets people tell their tokens apart.
    """

    name = models.CharField(_("name"), max_length=100)
    kind = models.CharField(_("kind"), max_length=10, choices=ApiTokenKind.choices, default=ApiTokenKind.PERSONAL)
    scope = models.CharField(_("scope"), max_length=10, choices=ApiTokenScope.choices, default=ApiTokenScope.READ)
    prefix = models.CharField(_("prefix"), max_length=16)
    key_hash = models.CharField(max_length=64, unique=True, editable=False)
    user = models.ForeignKey(User, verbose_name=_("acts as"), on_delete=models.CASCADE, related_name="api_tokens")
    created_by = models.ForeignKey(
        User,
        verbose_name=_("created by"),
        null=True,
        on_delete=models.SET_NULL,
        related_name="created_api_tokens",
    )
    last_used_at = models.DateTimeField(_("last used"), null=True, blank=True)
    expires_at = models.DateTimeField(_("expires"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("revoked"), null=True, blank=True)

    objects = ApiTokenQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("API token")
        verbose_name_plural = _("API tokens")
        indexes = [models.Index(fields=["user", "kind", "-created_at"])]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @property
    def is_revoked(self) -> bool:
        return self.revoked_at is not None

    @property
    def is_expired(self) -> bool:
        return self.expires_at is not None and self.expires_at <= timezone.now()

    @property
    def is_active(self) -> bool:
        return not self.is_revoked and not self.is_expired

    @property
    def can_write(self) -> bool:
        return self.scope == ApiTokenScope.READ_WRITE
