"""API tokens: creating, finding and revoking them (writes and the one lookup the authentication needs).

A key is ``acc_`` followed by 40 random URL-safe characters (240 bits). Only its SHA-256 digest is stored, so a
leaked database gives no usable key, and a plain digest is enough (no salt or slow hash): the key is random,
not a password someone chose. The first characters are kept as the token's visible prefix.
"""

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import ApiToken, ApiTokenKind, ApiTokenScope, Role, Team, User
from core.errors import DomainError, PermissionDeniedError

KEY_PREFIX = "acc_"
VISIBLE_PREFIX_LENGTH = 12
# last_used_at is written at most this often per token: one UPDATE a minute, not one per request.
LAST_USED_RESOLUTION = timedelta(minutes=1)
SERVICE_ROLES = (Role.ACCOUNT_MANAGER, Role.SALES, Role.FINANCE, Role.DIRECTOR)


@dataclass(frozen=True)
class IssuedToken:
    """A token just created and its key, which exists nowhere else: show it once, then forget it."""

    token: ApiToken
    key: str


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def _new_key() -> str:
    return KEY_PREFIX + secrets.token_urlsafe(30)


def _issue(*, name: str, kind: str, scope: str, user: User, created_by: User, expires_at: datetime | None):
    if scope not in ApiTokenScope.values:
        raise DomainError(_("Unknown scope."), code="invalid_scope")
    key = _new_key()
    token = ApiToken.objects.create(
        name=name.strip(),
        kind=kind,
        scope=scope,
        prefix=key[:VISIBLE_PREFIX_LENGTH],
        key_hash=hash_key(key),
        user=user,
        created_by=created_by,
        expires_at=expires_at,
    )
    return IssuedToken(token=token, key=key)


@transaction.atomic
def personal_token_create(*, user: User, name: str, scope: str, expires_at: datetime | None = None) -> IssuedToken:
    """A token acting as ``user`` themselves. Raises DomainError for an unknown scope."""
    return _issue(name=name, kind=ApiTokenKind.PERSONAL, scope=scope, user=user, created_by=user, expires_at=expires_at)


@transaction.atomic
def service_token_create(
    *,
    actor: User,
    name: str,
    role: str,
    scope: str,
    team: Team | None = None,
    expires_at: datetime | None = None,
) -> IssuedToken:
    """A token for another tool, acting as a new service account named ``name`` with ``role`` (and ``team``).

    The service account has no usable password, so it cannot sign in; what it sees follows its role, exactly as
    for a person. Only administrators create one (PermissionDeniedError otherwise); an administrator role is
    not given to a service (DomainError).
    """
    if actor.role != Role.ADMIN:
        raise PermissionDeniedError(_("Only an administrator creates service tokens."))
    if role not in SERVICE_ROLES:
        message = _("A service token acts as an account manager, sales, finance or a director.")
        raise DomainError(message, code="invalid_role", fields={"role": [message]})
    service = User(
        email=f"service-{secrets.token_hex(6)}@service.accord.invalid",
        full_name=name.strip(),
        role=role,
        team=team,
        is_service_account=True,
    )
    service.set_unusable_password()
    service.save()
    return _issue(
        name=name, kind=ApiTokenKind.SERVICE, scope=scope, user=service, created_by=actor, expires_at=expires_at
    )


@transaction.atomic
def token_revoke(*, token: ApiToken, actor: User) -> ApiToken:
    """Revoke a token at once (its next request is a 401); revoking twice changes nothing.

    People revoke their own personal tokens; administrators revoke any token. A service token's service account
    is deactivated with it (it exists only to carry the token). Raises PermissionDeniedError otherwise.
    """
    token = ApiToken.objects.select_for_update().select_related("user").get(pk=token.pk)
    own = token.kind == ApiTokenKind.PERSONAL and token.user_id == actor.pk
    if not own and actor.role != Role.ADMIN:
        raise PermissionDeniedError(_("You may not revoke this token."))
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at", "updated_at"])
    if token.kind == ApiTokenKind.SERVICE and token.user.is_active:
        token.user.is_active = False
        token.user.save(update_fields=["is_active"])
    return token


def token_for_key(key: str) -> ApiToken | None:
    """The token a key belongs to, with its user, whatever its state (the caller decides what to say); one query."""
    try:
        return ApiToken.objects.select_related("user").get(key_hash=hash_key(key))
    except ApiToken.DoesNotExist:
        return None


def token_touch(token: ApiToken) -> None:
    """Record that the token was just used, at most once a minute (a conditional UPDATE, no read)."""
    now = timezone.now()
    if token.last_used_at is not None and now - token.last_used_at < LAST_USED_RESOLUTION:
        return
    ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
    token.last_used_at = now
